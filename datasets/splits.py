"""Subject-wise splits written to files, so every experiment uses identical folds (docs/design.md §2, §5).

- `loso_splits`: leave-one-subject-out, per dataset (`dataset=`) or over a composite manifest
  (subjects are dataset-prefixed, so a composite has one fold per dataset subject).
- `kfold_subject_splits`: k folds of whole subjects, balanced by sample count, seeded.
- `holdout_subject_split`: one fixed split of subjects into "train" (what generators may be trained
  on) and held-out test subjects, stratified by dataset, seeded.
- `lodo_splits`: leave one dataset out over a composite manifest (MEB's cross-dataset protocol over
  CASME, CASME II, SAMM, MMEW, 4DME and CAS(ME)³-A): one fold per dataset, every subject of that dataset
  held out, the other datasets' subjects trained on. The recognition runner's `unit: dataset` makes the
  same folds from the sample table.

A split file (JSON) records the manifest it was made for by a fingerprint of its (sample_id,
subject) pairs; applying it to another manifest is an error, so folds cannot drift silently.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_write_text
from mexkit.errors import MexkitInputError

from .manifest_validation import manifest_fingerprint

SPLIT_FORMAT = "mexkit-subject-splits"


@dataclass
class Fold:
    name: str
    test_subjects: list[str]
    train_subjects: list[str]


@dataclass
class SubjectSplits:
    """Folds of subjects plus what they were made from (kind, params, manifest fingerprint)."""

    kind: str
    folds: list[Fold]
    fingerprint: str
    num_samples: int
    params: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.folds)

    def _select(self, manifest: pd.DataFrame) -> pd.DataFrame:
        ds = self.params.get("dataset")
        return manifest[manifest["dataset"] == ds] if ds else manifest

    def check(self, manifest: pd.DataFrame, source: str | Path = "splits") -> pd.DataFrame:
        """The manifest rows these folds cover; an error if it is not the manifest they were made for."""
        part = self._select(manifest)
        fp = manifest_fingerprint(part)
        if fp != self.fingerprint:
            raise MexkitInputError(
                source, f"splits were made for another manifest (fingerprint {self.fingerprint}, {self.num_samples} samples; this one {fp}, {len(part)} samples)",
                "use the manifest the splits were made from, or make new splits for this one", stage="splits",
            )
        return part

    def indices(self, manifest: pd.DataFrame, source: str | Path = "splits") -> Iterator[tuple[Fold, np.ndarray, np.ndarray]]:
        """(fold, train positions, test positions) into `manifest` (positional, after any dataset filter)."""
        self.check(manifest, source)
        ds = self.params.get("dataset")
        pos = np.flatnonzero((manifest["dataset"] == ds).to_numpy()) if ds else np.arange(len(manifest))
        subjects = manifest["subject"].to_numpy()[pos]
        for f in self.folds:
            yield f, pos[np.isin(subjects, f.train_subjects)], pos[np.isin(subjects, f.test_subjects)]

    def to_frame(self) -> pd.DataFrame:
        """One row per (fold, subject, role)."""
        rows = [{"fold": f.name, "subject": s, "role": role} for f in self.folds for role, subs in (("test", f.test_subjects), ("train", f.train_subjects)) for s in subs]
        return pd.DataFrame(rows)

    def save(self, path: str | Path) -> Path:
        doc = {"format": SPLIT_FORMAT, "version": 1, "kind": self.kind, "params": self.params, "manifest_fingerprint": self.fingerprint,
               "num_samples": self.num_samples, "folds": [asdict(f) for f in self.folds]}
        atomic_write_text(path, json.dumps(doc, indent=1))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> "SubjectSplits":
        path = Path(path)
        if not path.is_file():
            raise MexkitInputError(path, "split file not found", "make it with `mexkit datasets splits`", stage="splits")
        try:
            doc = json.loads(path.read_text())
            if doc.get("format") != SPLIT_FORMAT:
                raise ValueError("not a mexkit split file")
            folds = [Fold(f["name"], list(f["test_subjects"]), list(f["train_subjects"])) for f in doc["folds"]]
            return cls(doc["kind"], folds, doc["manifest_fingerprint"], int(doc["num_samples"]), doc.get("params", {}))
        except (ValueError, KeyError, TypeError) as err:
            raise MexkitInputError(path, f"cannot read split file ({err})", "rewrite it with `mexkit datasets splits`", stage="splits") from None


def _subjects(manifest: pd.DataFrame, dataset: str | None) -> tuple[pd.DataFrame, list[str]]:
    part = manifest[manifest["dataset"] == dataset] if dataset else manifest
    if part.empty:
        raise MexkitInputError(None, f"no samples{f' of dataset {dataset!r}' if dataset else ''} in the manifest", "check the manifest", stage="splits")
    return part, sorted(set(part["subject"].astype(str)))


def loso_splits(manifest: pd.DataFrame, dataset: str | None = None) -> SubjectSplits:
    """One fold per subject (sorted), that subject held out."""
    part, subs = _subjects(manifest, dataset)
    folds = [Fold(s, [s], [t for t in subs if t != s]) for s in subs]
    return SubjectSplits("loso", folds, manifest_fingerprint(part), len(part), {"dataset": dataset})


def kfold_subject_splits(manifest: pd.DataFrame, k: int = 5, seed: int = 0, dataset: str | None = None) -> SubjectSplits:
    """k folds of whole subjects with about equal sample counts (seeded; largest subjects placed first)."""
    part, subs = _subjects(manifest, dataset)
    if not 2 <= k <= len(subs):
        raise ValueError(f"k must be between 2 and the number of subjects ({len(subs)}), got {k}")
    counts = part["subject"].astype(str).value_counts()
    order = list(np.random.default_rng(seed).permutation(subs))
    order.sort(key=lambda s: -counts[s])  # stable: ties keep the seeded order
    load, members = [0] * k, [[] for _ in range(k)]
    for s in order:
        j = int(np.argmin(load))
        members[j].append(s)
        load[j] += int(counts[s])
    folds = [Fold(f"fold{j}", sorted(m), sorted(t for t in subs if t not in m)) for j, m in enumerate(members)]
    return SubjectSplits("kfold", folds, manifest_fingerprint(part), len(part), {"dataset": dataset, "k": k, "seed": seed})


def holdout_subject_split(manifest: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0, dataset: str | None = None) -> SubjectSplits:
    """One fold: held-out test subjects (about `test_fraction` of each dataset's subjects, at least
    one where a dataset has two or more) and train subjects — the only ones generators may learn from."""
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be in (0, 1)")
    part, subs = _subjects(manifest, dataset)
    rng = np.random.default_rng(seed)
    test: list[str] = []
    by_ds = part.groupby(part["dataset"].astype(str))["subject"].apply(lambda s: sorted(set(s.astype(str))))
    for ds in sorted(by_ds.index):
        ds_subs = by_ds[ds]
        n = int(round(test_fraction * len(ds_subs)))
        n = max(n, 1) if len(ds_subs) >= 2 else 0
        test += list(rng.permutation(ds_subs)[:n])
    if not test:
        raise MexkitInputError(None, "too few subjects to hold any out", "use a manifest with at least two subjects", stage="splits")
    fold = Fold("holdout", sorted(test), sorted(s for s in subs if s not in test))
    return SubjectSplits("holdout", [fold], manifest_fingerprint(part), len(part), {"dataset": dataset, "test_fraction": test_fraction, "seed": seed})


def lodo_splits(manifest: pd.DataFrame) -> SubjectSplits:
    """One fold per dataset of a composite manifest (sorted by name): its subjects held out, every other
    dataset's subjects for training. Subjects must be dataset-prefixed (as the adapters write them), so no
    subject belongs to two datasets; at least two datasets are needed."""
    part, subs = _subjects(manifest, None)
    by_ds = part.groupby(part["dataset"].astype(str))["subject"].apply(lambda s: sorted(set(s.astype(str))))
    if len(by_ds) < 2:
        raise MexkitInputError(None, f"leave-one-dataset-out needs at least two datasets, found {list(by_ds.index)}",
                               "give a composite manifest of several datasets", stage="splits")
    owners: dict[str, list[str]] = {}
    for ds, members in by_ds.items():
        for s in members:
            owners.setdefault(s, []).append(ds)
    shared = {s: d for s, d in owners.items() if len(d) > 1}
    if shared:
        s, d = next(iter(shared.items()))
        raise MexkitInputError(None, f"subject {s!r} appears in datasets {d} ({len(shared)} such subjects)",
                               "prefix subjects by dataset (the adapters do: casme2_sub01) so held-out datasets share no subject", stage="splits")
    folds = [Fold(ds, members, sorted(t for t in subs if t not in set(members))) for ds, members in by_ds.items()]
    return SubjectSplits("lodo", folds, manifest_fingerprint(part), len(part), {"dataset": None})
