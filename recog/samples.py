"""`SampleSet`: labelled clips for recognition — one table row per sample, the clip behind each row,
and the per-clip features computed from them.

Columns of `table`: sample_id, subject, label, dataset, synthetic (bool), source_subject,
train_subjects (";"-joined; "none" when no subject's data trained the generator; "" when unknown),
driving_subject (the same cell for the driving clip's subject; "none" without one), generator, aus (the
raw AU cell) and au_target (the 12-AU target as text, mexkit.datasets.au_targets: "AU4+AU7", "none", or ""
when unknown — from an adapter manifest's au_target column, else read from the aus cell; an empty or
unreadable cell is unknown). `Y` is the (N, 12) target matrix; `with_au_targets` keeps the rows that
have one (the others are logged). `classes=None` takes the classes from the labels found (AU runs, where
the label is not the target). Real
samples have synthetic=False and empty provenance; the leakage gate refuses synthetic rows whose
provenance is unknown (mexkit.datasets.provenance). Clips are loaded only when a feature needs them
(each row holds a source with `.load() -> Clip`: the datasets package's manifest and memory sources).

Sources of samples: the embedded corpus (`from_corpus`), any manifest — a dataset adapter's, a
generic CSV or the synthetic writer's output (`from_manifest`) — or clips in memory (`from_clips`).
Bad items are skipped and logged (RejectLog), never silently dropped.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mexkit.clip import Clip
from mexkit.datasets.au_targets import AUCellError, read_au_cell, target_matrix
from mexkit.datasets.label_maps import MEGC_CLASSES
from mexkit.datasets.provenance import cell_subjects, normalise_cell
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .features import FEATURES, feature_info

# Datasets whose released clips are whole camera frames (the adapters' names): read without alignment or
# a preprocessing cache they raise RawFramesWarning.
RAW_RECORDING_DATASETS = frozenset({"casme", "casme2", "samm", "smic", "casme3", "mmew", "4dme", "fourdme"})


class RawFramesWarning(UserWarning):
    """A dataset's raw camera frames are used as they are (no face alignment, no cache)."""


_ORIGIN = "__mexkit_origin__"  # a transient column of from_manifest: each row's manifest line
TABLE_COLUMNS = ["sample_id", "subject", "label", "dataset", "synthetic", "source_subject", "train_subjects", "driving_subject",
                 "generator", "aus", "au_target"]
PROVENANCE_CELLS = ("train_subjects", "driving_subject")


def split_subjects(value: Any) -> list[str]:
    """A train_subjects / driving_subject cell (";"-joined string, list, "none", NaN or "") → subject ids
    ([] for none and for unknown; the leakage gate tells those apart with `cell_subjects`)."""
    return cell_subjects(value) or []


def _text(values: pd.Series) -> pd.Series:
    """Cells as strings, empty for missing values (whatever dtype pandas read them as)."""
    return values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))


def au_target_text(aus: Any) -> str:
    """The au_target text of a raw AU cell ("6+12" → "AU6+AU12"); "" for an empty or unreadable cell (unknown)."""
    cell = "" if aus is None or (isinstance(aus, float) and np.isnan(aus)) else str(aus).strip()
    if not cell:
        return ""
    try:
        return read_au_cell(cell).target_text
    except AUCellError:
        return ""


def _au_targets(df: pd.DataFrame) -> pd.Series:
    """au_target per manifest row: the manifest's own au_target where it has one, else read from its aus cell."""
    given = _text(df["au_target"]) if "au_target" in df.columns else pd.Series([""] * len(df), index=df.index)
    read = _text(df["aus"]).map(au_target_text) if "aus" in df.columns else given
    return given.where(given != "", read)


def _inferred_classes(labels: Iterable[Any]) -> tuple[str, ...]:
    return tuple(sorted({"" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in labels}))


def feature_key(kind: str, params: dict | None = None) -> str:
    return json.dumps({"kind": kind, **(params or {})}, sort_keys=True)


@dataclass
class AlignedSource:
    """A source whose clip is aligned through a face pipeline when loaded (raw dataset clips)."""

    source: Any
    pipeline: Any

    @property
    def sample_id(self) -> str:
        return self.source.sample_id

    @property
    def origin(self) -> str:
        return getattr(self.source, "origin", "")

    def describe(self) -> str:
        return self.source.describe()

    def load(self) -> Clip:
        return self.pipeline.align_clip(self.source.load())


@dataclass
class CachedSource:
    """A clip read back from the datasets preprocessing cache (already aligned)."""

    reader: Any
    sample_id: str
    origin: str = ""

    def describe(self) -> str:
        return f"{self.reader.dir} [{self.sample_id}]"

    def load(self) -> Clip:
        return self.reader[self.sample_id].clip()


@dataclass
class SampleSet:
    """table: one row per sample (TABLE_COLUMNS, positional index); sources: one per row;
    classes: the label order used for class indices; features: cached (N, ...) arrays by feature key;
    namespace: every subject id of the real data the set came from — its real rows' subjects plus those
    with no usable sample here (the corpus's face-only people, a dataset's subjects whose clips the
    label map excludes). The leakage gate accepts synthetic rows only from these subjects' faces (or
    faces declared outside)."""

    table: pd.DataFrame
    sources: list
    classes: tuple[str, ...] = MEGC_CLASSES
    features_cache: dict[str, np.ndarray] = field(default_factory=dict)
    feature_infos: dict[str, dict] = field(default_factory=dict)
    namespace: frozenset = frozenset()

    def __post_init__(self) -> None:
        self.table = self.table.reset_index(drop=True)
        self.classes = _inferred_classes(self.table.get("label", [])) if self.classes is None else tuple(self.classes)
        if len(self.table) != len(self.sources):
            raise ValueError(f"{len(self.table)} rows but {len(self.sources)} sources")
        for col in TABLE_COLUMNS:
            if col not in self.table.columns:
                self.table[col] = False if col == "synthetic" else ""
        self.table["synthetic"] = self.table["synthetic"].astype(bool)
        real = self.table.loc[~self.table["synthetic"].to_numpy(bool), "subject"]
        self.namespace = frozenset(str(x) for x in self.namespace) | frozenset(_text(real))
        for col in ("sample_id", "subject", "label", "dataset", "source_subject", "generator", "aus", "au_target"):
            self.table[col] = _text(self.table[col])
        for col in PROVENANCE_CELLS:
            self.table[col] = self.table[col].map(normalise_cell)
        dup = self.table["sample_id"][self.table["sample_id"].duplicated()].tolist()
        if dup:
            raise MexkitInputError(None, f"duplicate sample ids {sorted(set(dup))[:5]}", "give every sample a unique sample_id", stage="samples")
        bad = sorted(set(self.table["label"]) - set(self.classes))
        if bad:
            raise MexkitInputError(None, f"labels {bad} are not among the classes {list(self.classes)}",
                                   "map the labels (label_map) or drop those rows before building the set", stage="samples")

    # --- basics ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.table)

    @property
    def y(self) -> np.ndarray:
        """Class indices (N,) in the order of `classes`."""
        index = {c: i for i, c in enumerate(self.classes)}
        return np.array([index[label] for label in self.table["label"]], dtype=np.int64)

    @property
    def Y(self) -> np.ndarray:
        """AU targets (N, 12) uint8 in the order of mexkit.datasets.au_targets.MEB_AUS; an error if a row has none
        (use `with_au_targets` first)."""
        try:
            return target_matrix(self.table["au_target"])
        except AUCellError as err:
            raise MexkitInputError(None, f"AU targets: {err}", "keep the rows with AU targets (SampleSet.with_au_targets)", stage="samples") from None

    def with_au_targets(self, rejects: RejectLog | None = None) -> "SampleSet":
        """The rows that have a 12-AU target; every other row is logged to `rejects` with why (no AU
        annotation, or an AU cell that cannot be read)."""
        known = self.table["au_target"] != ""
        if rejects is not None:
            for i in np.flatnonzero(~known.to_numpy()):
                cell = self.table.at[i, "aus"]
                why = "no AU annotation (its source codes no action units)"
                if cell:
                    try:
                        read_au_cell(cell)
                    except AUCellError as err:
                        why = f"AU cell {cell!r} cannot be read ({err})"
                rejects.add(self._describe(i), "aus", why)
        return self if known.all() else self.select(known.to_numpy())

    @property
    def subjects(self) -> list[str]:
        return sorted(set(self.table["subject"]))

    def clip(self, i: int) -> Clip:
        return self.sources[i].load()

    def select(self, rows: Sequence[int] | np.ndarray) -> "SampleSet":
        """The rows at the given positions (or a boolean mask), features included."""
        rows = np.asarray(rows)
        pos = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(int)
        return SampleSet(self.table.iloc[pos].reset_index(drop=True), [self.sources[i] for i in pos], self.classes,
                         {k: v[pos] for k, v in self.features_cache.items()}, dict(self.feature_infos), self.namespace)

    @staticmethod
    def concat(sets: Iterable["SampleSet"]) -> "SampleSet":
        """Rows of several sets (same classes); features kept where every set has them."""
        sets = [s for s in sets if s is not None]
        if not sets:
            raise ValueError("nothing to concatenate")
        classes = sets[0].classes
        for s in sets[1:]:
            if s.classes != classes:
                raise ValueError(f"sets have different classes: {classes} vs {s.classes}")
        keys = set.intersection(*(set(s.features_cache) for s in sets))
        return SampleSet(pd.concat([s.table for s in sets], ignore_index=True), [src for s in sets for src in s.sources], classes,
                         {k: np.concatenate([s.features_cache[k] for s in sets]) for k in keys},
                         {k: sets[0].feature_infos[k] for k in keys if k in sets[0].feature_infos},
                         frozenset().union(*(s.namespace for s in sets)))

    # --- features ----------------------------------------------------------------------------------
    def features(self, kind: str, progress: bool = False, **params) -> np.ndarray:
        """(N, ...) float32 feature array of every row (computed once, then cached). A clip that
        cannot be loaded raises; use `prepare` to skip and log bad items instead."""
        key = feature_key(kind, params)
        if key not in self.features_cache:
            self.prepare(kind, params, rejects=None, progress=progress)  # raises on the first bad row
        return self.features_cache[key]

    def prepare(self, kind: str, params: dict | None = None, rejects: RejectLog | None = None, progress: bool = True) -> "SampleSet":
        """Compute (or reuse) one feature kind for every row. With a reject log, rows whose clip
        cannot be loaded or featurised are logged and left out of the returned set; without, the
        first bad row raises."""
        params = dict(params or {})
        key = feature_key(kind, params)
        if key in self.features_cache:
            return self
        fn = FEATURES[kind] if kind in FEATURES else None
        if fn is None:
            raise ValueError(f"unknown feature kind {kind!r}; choose one of {sorted(FEATURES)}")
        out, keep = [], []
        for i in tqdm(range(len(self)), desc=f"features ({kind})", unit="clip", disable=not progress, dynamic_ncols=True):
            try:
                out.append(fn(self.sources[i].load(), **params))
                keep.append(i)
            except (MexkitInputError, ValueError, OSError) as err:
                if rejects is None:
                    raise
                self._reject(rejects, i, err, "features")
        arr = np.stack(out).astype(np.float32) if out else np.zeros((0,), np.float32)
        kept = self if len(keep) == len(self) else self.select(np.array(keep, dtype=int))
        kept.features_cache[key] = arr
        kept.feature_infos[key] = feature_info(kind, params)
        return kept

    def _describe(self, i: int) -> str:
        """Row i for rejects.csv: "<manifest>: line N [sample_id]" when the row came from a manifest file, else
        "<clip> [sample_id]" (or the sample id alone)."""
        src, sid = self.sources[i], self.table.at[i, "sample_id"]
        where = getattr(src, "origin", "") or (src.describe() if hasattr(src, "describe") else "")
        return f"{where} [{sid}]" if where else str(sid)

    def _reject(self, rejects: RejectLog, i: int, err: Exception, stage: str) -> None:
        """Log row i's error; a row named by its manifest line gets its clip's path in the reason."""
        src = self.sources[i]
        reason = err.reason if isinstance(err, MexkitInputError) else f"{type(err).__name__}: {err}"
        if getattr(src, "origin", "") and hasattr(src, "describe"):
            reason = f"{src.describe()}: {reason}"
        rejects.add(self._describe(i), stage, reason)

    # --- constructors ------------------------------------------------------------------------------
    @classmethod
    def from_clips(cls, clips: Sequence[Clip], classes: Sequence[str] | None = MEGC_CLASSES, synthetic: bool = False,
                   provenance: Sequence[dict] | None = None, rejects: RejectLog | None = None,
                   namespace: Iterable[str] = ()) -> "SampleSet":
        """Labelled in-memory clips. provenance: per clip {source_subject, train_subjects, driving_subject,
        generator} for synthetic clips; what is not given comes from the clip's meta (which
        `Generator.generate` stamps), the source subject defaulting to the clip's subject. Provenance
        not given either way stays unknown, and the leakage gate refuses it. Clips without a label
        among `classes` are logged to `rejects` (if given) and left out; real clips' subjects stay in the
        set's `namespace` (with any extra `namespace` ids). classes=None keeps every clip (classes from its labels)."""
        from mexkit.datasets import MemoryClipSource

        namespace = set(namespace) | ({str(c.subject) for c in clips if c.subject} if not synthetic else set())
        rows, sources = [], []
        for k, c in enumerate(clips):
            if classes is not None and c.label not in classes:
                if rejects is not None:
                    rejects.add(c.source or c.sample_id, "label", f"{c.sample_id}: label {c.label!r} is not one of {list(classes)}")
                continue
            prov = dict(provenance[k]) if provenance is not None else {}
            rows.append({
                "sample_id": c.sample_id, "subject": c.subject, "label": c.label, "dataset": c.dataset, "synthetic": synthetic,
                "source_subject": prov.get("source_subject", c.meta.get("source_subject", c.subject)) if synthetic else "",
                **{col: prov.get(col, c.meta.get(col, "")) if synthetic else "" for col in PROVENANCE_CELLS},
                "generator": prov.get("generator", c.meta.get("generator", "") if synthetic else ""),
                "aus": c.aus, "au_target": au_target_text(c.aus),
            })
            sources.append(MemoryClipSource(c))
        return cls(pd.DataFrame(rows, columns=TABLE_COLUMNS), sources, None if classes is None else tuple(classes),
                   namespace=frozenset(namespace))

    @classmethod
    def from_corpus(cls, corpus=None, classes: Sequence[str] | None = MEGC_CLASSES, rejects: RejectLog | None = None) -> "SampleSet":
        """The embedded corpus's labelled clips (unlabelled ones are logged to `rejects` and skipped);
        its namespace holds every corpus subject, the face-only ones too."""
        if corpus is None:
            from mexkit.datasets import load_corpus

            corpus = load_corpus()
        return cls.from_clips(corpus.clips, classes, synthetic=False, rejects=rejects,
                              namespace={str(f.subject) for f in corpus.faces if f.subject})

    @classmethod
    def from_manifest(cls, manifest: str | Path | pd.DataFrame, root: str | Path | None = None,
                      classes: Sequence[str] | None = MEGC_CLASSES, label_map: str = "native", align: str | None = None,
                      cache: str | Path | None = None, rejects: RejectLog | None = None) -> "SampleSet":
        """Samples of a manifest (CSV/Parquet path or DataFrame): a dataset adapter's, a generic CSV, or
        the synthetic writer's DIR/manifest.csv (dataset "synthetic" or a `generator` column → synthetic,
        with its source_subject / train_subjects provenance).

        root: the dataset root the manifest's paths are relative to (default: the manifest's folder).
        label_map: "native" or a mexkit.datasets label map ("megc2019"). align: a face backend name to
        align raw clips on load ("mediapipe", "dlib"); cache: a preprocessing-cache folder to read
        aligned clips from instead. Rows whose label is not among `classes` are logged and left out
        (classes=None keeps every row; the classes are the labels found).
        """
        from mexkit.datasets import ManifestClipSource, map_labels

        if isinstance(manifest, (str, Path)):
            path = Path(manifest)
            if path.is_dir():
                path = path / "manifest.csv"
            if not path.is_file():
                raise MexkitInputError(path, "manifest not found", "pass a manifest CSV/Parquet (or the writer's output folder)", stage="manifest")
            if path.suffix.lower() == ".parquet":
                df = pd.read_parquet(path)
            else:
                from mexkit.datasets.manifest_csv import read_manifest_csv

                read = read_manifest_csv(path, keep_default_na=False, na_values=[""])
                df = read.table
                for err in read.bad:  # malformed lines, named by file and line
                    if rejects is not None:
                        rejects.add(path, err.stage, err.reason)
            root = Path(root) if root is not None else path.parent
            where = str(path)
            lines = read.lines if path.suffix.lower() != ".parquet" else [f"row {k + 1}" for k in range(len(df))]
            origins = [f"{where}: {n if isinstance(n, str) else f'line {n}'}" for n in lines]
        else:
            df, where = manifest.copy(), "manifest"
            origins = [""] * len(df)
            if root is None:
                raise ValueError("root is required when the manifest is a DataFrame")
        for col in ("sample_id", "subject", "label"):
            if col not in df.columns:
                raise MexkitInputError(where, f"manifest lacks the {col!r} column", "write it with a mexkit adapter or the synthetic writer", stage="manifest")
        if "dataset" not in df.columns:
            df["dataset"] = ""
        real_rows = _text(df["dataset"]) != "synthetic"
        if "generator" in df.columns:
            real_rows &= _text(df["generator"]) == ""
        namespace = frozenset(_text(df.loc[real_rows, "subject"])) - {""}
        df[_ORIGIN] = origins  # each row's manifest line, carried through the filters below
        if label_map != "native":
            mapped = map_labels(df, label_map, keep_excluded=True)
            for sid, native, origin in mapped.loc[mapped["label"].isna(), ["sample_id", "label_native", _ORIGIN]].itertuples(index=False):
                if rejects is not None:
                    rejects.add(f"{origin or where} [{sid}]", "label", f"label {native!r} is excluded by the {label_map} map")
            df = mapped[mapped["label"].notna()].reset_index(drop=True)
        synthetic = _text(df["dataset"]) == "synthetic"
        if "generator" in df.columns:
            synthetic |= _text(df["generator"]) != ""
        if synthetic.any() and not {"source_subject", "train_subjects"} <= set(df.columns):
            raise MexkitInputError(where, "synthetic rows without source_subject / train_subjects columns",
                                   "write synthetic data with `mexkit generate` (its manifest records which subjects each clip came from)", stage="manifest")
        labels = df["label"]
        ok = labels.notna() & labels.astype(str).isin(classes) if classes is not None else pd.Series(True, index=df.index)
        for sid, lab, origin in df.loc[~ok, ["sample_id", "label", _ORIGIN]].itertuples(index=False):
            if rejects is not None:
                rejects.add(f"{origin or where} [{sid}]", "label", f"label {lab!r} is not one of {list(classes)}")
        df, synthetic = df[ok].reset_index(drop=True), synthetic[ok].reset_index(drop=True)
        origins = df.pop(_ORIGIN).tolist()
        sources: list = [ManifestClipSource(str(root), row, origin=o) for row, o in zip(df.to_dict("records"), origins)]
        if cache is not None:
            from mexkit.datasets import CacheReader

            reader = CacheReader(cache)
            cached = df["sample_id"].astype(str).map(lambda s: s in reader).to_numpy(bool)
            if not cached.any() or rejects is None:  # nothing usable (or no log to list the rest in): refuse
                missing = df.loc[~cached, "sample_id"].astype(str).tolist()
                if missing:
                    raise MexkitInputError(cache, f"{len(missing)} samples are not in the cache (e.g. {missing[:3]})",
                                           "run `mexkit prepare` on this manifest first", stage="cache")
            for k in np.flatnonzero(~cached):  # `mexkit prepare` rejected these (its rejects.csv says why), or they are new
                rejects.add(f"{origins[k] or where} [{df.at[k, 'sample_id']}]", "cache",
                            f"{sources[k].describe()}: not in the cache {cache} (see the rejects.csv of `mexkit prepare`, or rerun it)")
            df, synthetic = df[cached].reset_index(drop=True), synthetic[cached].reset_index(drop=True)
            sources = [CachedSource(reader, str(df.at[k, "sample_id"]), origins[j]) for k, j in enumerate(np.flatnonzero(cached))]
        elif align:
            from mexkit.face import FacePipeline

            pipeline = FacePipeline(align, resolution=128)
            sources = [AlignedSource(s, pipeline) for s in sources]
        else:
            raw = sorted(set(_text(df.loc[~synthetic, "dataset"])) & RAW_RECORDING_DATASETS)
            if raw:  # whole camera frames, not face crops: say so rather than use them silently
                import warnings

                warnings.warn(f"{where}: {', '.join(raw)} clips are read as raw, unaligned camera frames (no cache, no align); "
                              "recognizers then see the whole frame. Pass align: mediapipe (or --align) or a `mexkit prepare` "
                              "cache (cache: DIR)", RawFramesWarning, stacklevel=2)
        table = pd.DataFrame({
            "sample_id": df["sample_id"].astype(str), "subject": df["subject"].astype(str), "label": _text(df["label"]),
            "dataset": _text(df["dataset"]), "synthetic": synthetic.to_numpy(bool),
            "source_subject": _text(df["source_subject"]) if "source_subject" in df.columns else "",
            **{k: (df[k] if k in df.columns else pd.Series([""] * len(df))).to_numpy(object) for k in PROVENANCE_CELLS},
            "generator": _text(df["generator"]) if "generator" in df.columns else "",
            "aus": _text(df["aus"]) if "aus" in df.columns else "",
            "au_target": _au_targets(df),
        })
        # A synthetic row without a source subject cannot be checked for leakage: refuse it loudly.
        bad = table[table["synthetic"] & (table["source_subject"] == "")]
        if len(bad):
            raise MexkitInputError(where, f"synthetic samples without source_subject (e.g. {bad['sample_id'].tolist()[:3]})",
                                   "record the source face's subject for every synthetic clip", stage="manifest")
        return cls(table, sources, None if classes is None else tuple(classes), namespace=namespace)
