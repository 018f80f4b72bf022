"""Held-out-subject figures of a kept recognizer's recipe (`mexkit recog fit --heldout`): how the same fit
does on people it never saw.

For each person p of the training rows (the subject of a real row, the source face's subject of a
synthetic one), in sorted order: the recipe is fitted again (`kept.fit_kept`: same features, schedule,
calibration; the fold's seed `loso.fold_seed(seed, p)`) on every row that does not come from p — not p's
real clips, not synthetic clips made from p's face, nor clips of generators trained on p or driven by
p's motion (the leakage gate checks the rows) — then p's rows are predicted. Unlike `recog loso`, the
test rows include p's synthetic clips, so a set whose real clips are few (the corpus: four labelled
clips of two people) still gets a figure on unseen faces; the pooled figures are given for real and
synthetic test rows separately and together.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mexkit.atomic import atomic_write_text
from mexkit.errors import MexkitInputError

from .leakage import check_training_rows
from .metrics import uf1_uar
from .samples import split_subjects


@dataclass
class HeldoutResult:
    """per_fold: one row per held-out person; predictions: one row per held-out clip (scores included);
    pooled: rows "real", "synthetic", "all" with n, UF1, UAR, accuracy (+ log loss and Brier score when
    the scores are calibrated probabilities)."""

    per_fold: pd.DataFrame
    predictions: pd.DataFrame
    pooled: pd.DataFrame
    classes: tuple[str, ...]

    def summary(self) -> dict[str, Any]:
        """What config.json and the model card keep."""
        return {"folds": int(len(self.per_fold)), "folds_skipped": int((self.per_fold["skipped"] != "").sum()),
                "pooled": self.pooled.to_dict("records")}

    def files(self) -> dict[str, str]:
        """{relative path: CSV text} for the model folder's heldout/."""
        return {"heldout/per_fold.csv": self.per_fold.to_csv(index=False), "heldout/predictions.csv": self.predictions.to_csv(index=False),
                "heldout/pooled.csv": self.pooled.to_csv(index=False)}

    def save(self, out: str | Path) -> None:
        for rel, text in self.files().items():
            atomic_write_text(Path(out) / rel, text)


def _shaped_by(table: pd.DataFrame, person: str) -> np.ndarray:
    """Rows a generator trained on `person`, or driven by their motion, made (synthetic rows only)."""
    trained = table["train_subjects"].map(lambda c: person in split_subjects(c))
    driven = table["driving_subject"].map(lambda c: person in split_subjects(c))
    return (table["synthetic"] & (trained | driven)).to_numpy(bool)


def _pooled(pred: pd.DataFrame, classes: tuple[str, ...], score_kind: str) -> pd.DataFrame:
    rows = []
    k = len(classes)
    for name, part in (("real", pred[~pred["synthetic"]]), ("synthetic", pred[pred["synthetic"]]), ("all", pred)):
        if not len(part):
            continue
        row = {"rows": name, "n": int(len(part)), **uf1_uar(part["y_true"].to_numpy(), part["y_pred"].to_numpy(), k)}
        if score_kind == "prob":
            p = part[[f"prob_{c}" for c in classes]].to_numpy(np.float64)
            onehot = np.eye(k)[part["y_true"].to_numpy()]
            row["log_loss"] = float(-np.mean(np.log(np.clip((p * onehot).sum(axis=1), 1e-15, 1.0))))
            row["brier"] = float(np.mean(((p - onehot) ** 2).sum(axis=1)))
        rows.append(row)
    return pd.DataFrame(rows)


def heldout_subjects(samples, template: Any, feature: dict[str, Any] | None, seed: int = 0, calibration: str = "none",
                     calibration_folds: int = 5, progress: bool = True) -> HeldoutResult:
    """Leave-one-person-out figures of `kept.fit_kept(samples, template, feature, ...)` (module docstring).
    `samples` must already hold the feature (SampleSet.prepare), as `fit_kept` leaves it."""
    from .kept import _groups, fit_kept, full_feature
    from .loso import clone_model, default_feature, fold_seed

    feature = full_feature(feature or default_feature(template))
    kind, params = feature["kind"], {k: v for k, v in feature.items() if k != "kind"}
    X = samples.features(kind, **params)
    y = samples.y
    table = samples.table
    groups = _groups(table)
    people = sorted(set(groups.tolist()))
    if len(people) < 2:
        raise MexkitInputError(None, f"held-out figures need at least two people in the training rows, found {people}",
                               "add data of more subjects, or fit without --heldout", stage="heldout")
    fold_rows, pred_rows = [], []
    score_kind = None
    for person in tqdm(people, desc="held-out people", unit="fold", disable=not progress, dynamic_ncols=True):
        test = groups == person
        train = ~test & ~_shaped_by(table, person)
        check_training_rows(table[train], {person}, person, samples.namespace)
        s = fold_seed(seed, person)
        row = {"fold": person, "seed": s, "n_train": int(train.sum()), "n_test": int(test.sum()),
               "n_test_real": int((test & ~table["synthetic"].to_numpy(bool)).sum()), "skipped": ""}
        try:
            kept = fit_kept(samples.select(train), clone_model(template, s, len(samples.classes)), feature, seed=s,
                            calibration=calibration, calibration_folds=calibration_folds)
        except MexkitInputError as err:  # e.g. a class with no training row once this person is out
            row["skipped"] = err.reason
            fold_rows.append(row)
            continue
        score_kind = kept.score_kind
        scores, yp = kept.head_scores("class", X[test])
        yt = y[test]
        row.update(uf1_uar(yt, yp, len(samples.classes)))
        fold_rows.append(row)
        for i, j in enumerate(np.flatnonzero(test)):
            pred_rows.append({"sample_id": table.at[j, "sample_id"], "person": person, "synthetic": bool(table.at[j, "synthetic"]),
                              "generator": table.at[j, "generator"], "y_true": int(yt[i]), "y_pred": int(yp[i]),
                              "label": samples.classes[yt[i]], "predicted": samples.classes[yp[i]],
                              **{f"{score_kind}_{c}": float(scores[i, n]) for n, c in enumerate(samples.classes)}})
    pred = pd.DataFrame(pred_rows)
    pooled = _pooled(pred, samples.classes, score_kind) if len(pred) else pd.DataFrame(columns=["rows", "n"])
    return HeldoutResult(pd.DataFrame(fold_rows), pred, pooled, tuple(samples.classes))
