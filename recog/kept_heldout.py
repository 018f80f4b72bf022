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
    """per_fold: one row per held-out person; predictions: one row per held-out clip (class scores
    included); pooled: rows "real", "synthetic", "all" with n, UF1, UAR, accuracy (+ log loss and Brier
    score when the scores are calibrated probabilities). With an AU head: predictions_aus (true_/pred_<AU>
    per held-out clip with an AU target) and pooled_aus (n, AU-F1, AU macro F1 and the all-AUs-on
    constant predictor's AU-F1 on the same rows)."""

    per_fold: pd.DataFrame
    predictions: pd.DataFrame
    pooled: pd.DataFrame
    classes: tuple[str, ...]
    predictions_aus: pd.DataFrame | None = None
    pooled_aus: pd.DataFrame | None = None

    def summary(self) -> dict[str, Any]:
        """What config.json and the model card keep."""
        out = {"folds": int(len(self.per_fold)), "folds_skipped": int((self.per_fold["skipped"] != "").sum()),
               "pooled": self.pooled.to_dict("records")}
        if self.pooled_aus is not None:
            out["pooled_aus"] = self.pooled_aus.to_dict("records")
        return out

    def files(self) -> dict[str, str]:
        """{relative path: CSV text} for the model folder's heldout/."""
        out = {"heldout/per_fold.csv": self.per_fold.to_csv(index=False)}
        if len(self.pooled):
            out.update({"heldout/predictions.csv": self.predictions.to_csv(index=False), "heldout/pooled.csv": self.pooled.to_csv(index=False)})
        if self.pooled_aus is not None:
            out.update({"heldout/predictions_aus.csv": self.predictions_aus.to_csv(index=False),
                        "heldout/pooled_aus.csv": self.pooled_aus.to_csv(index=False)})
        return out

    def save(self, out: str | Path) -> None:
        for rel, text in self.files().items():
            atomic_write_text(Path(out) / rel, text)


def model_target_is_class(template: Any) -> bool:
    from .kept_scores import model_target

    return model_target(template) != "aus"


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


def _pooled_aus(pred: pd.DataFrame) -> pd.DataFrame:
    from mexkit.datasets.au_targets import MEB_AUS

    from .metrics import all_on_baseline, au_f1

    rows = []
    for name, part in (("real", pred[~pred["synthetic"]]), ("synthetic", pred[pred["synthetic"]]), ("all", pred)):
        if not len(part):
            continue
        truth = part[[f"true_{a}" for a in MEB_AUS]].to_numpy(np.int64)
        rows.append({"rows": name, "n": int(len(part)), **au_f1(truth, part[[f"pred_{a}" for a in MEB_AUS]].to_numpy(np.int64)),
                     "all_on_au_f1": all_on_baseline(truth)["au_f1"]})
    return pd.DataFrame(rows)


def heldout_subjects(samples, template: Any, feature: dict[str, Any] | None, seed: int = 0, calibration: str = "none",
                     calibration_folds: int = 5, progress: bool = True, au_template: Any = None) -> HeldoutResult:
    """Leave-one-person-out figures of `kept.fit_kept(samples, template, feature, ..., au_template=...)`
    (module docstring). `samples` must already hold the feature (`kept.prepare_rows`)."""
    from mexkit.datasets.au_targets import MEB_AUS

    from .kept import _groups, fit_kept, full_feature
    from .loso import default_feature, fold_seed

    feature = full_feature(feature or default_feature(template))
    kind, params = feature["kind"], {k: v for k, v in feature.items() if k != "kind"}
    X = samples.features(kind, **params)
    y = samples.y if model_target_is_class(template) else None
    table = samples.table
    groups = _groups(table)
    people = sorted(set(groups.tolist()))
    if len(people) < 2:
        raise MexkitInputError(None, f"held-out figures need at least two people in the training rows, found {people}",
                               "add data of more subjects, or fit without --heldout", stage="heldout")
    fold_rows, pred_rows, au_rows = [], [], []
    score_kind = None
    has_aus = np.asarray(table["au_target"] != "", bool) if "au_target" in table.columns else np.zeros(len(table), bool)
    for person in tqdm(people, desc="held-out people", unit="fold", disable=not progress, dynamic_ncols=True):
        test = groups == person
        train = ~test & ~_shaped_by(table, person)
        check_training_rows(table[train], {person}, person, samples.namespace)
        s = fold_seed(seed, person)
        row = {"fold": person, "seed": s, "n_train": int(train.sum()), "n_test": int(test.sum()),
               "n_test_real": int((test & ~table["synthetic"].to_numpy(bool)).sum()), "skipped": ""}
        try:
            kept = fit_kept(samples.select(train), template, feature, seed=s, calibration=calibration,
                            calibration_folds=calibration_folds, au_template=au_template)
        except MexkitInputError as err:  # e.g. a class with no training row once this person is out
            row["skipped"] = err.reason
            fold_rows.append(row)
            continue
        if "aus" in kept.heads and (test & has_aus).any():
            pos = np.flatnonzero(test & has_aus)
            truth = samples.select(pos).Y
            _, pred = kept.head_scores("aus", X[pos])
            from .metrics import au_f1

            row.update(au_f1(truth, pred))
            for i, j in enumerate(pos):
                au_rows.append({"sample_id": table.at[j, "sample_id"], "person": person, "synthetic": bool(table.at[j, "synthetic"]),
                                **{f"true_{a}": int(truth[i, n]) for n, a in enumerate(MEB_AUS)},
                                **{f"pred_{a}": int(pred[i, n]) for n, a in enumerate(MEB_AUS)}})
        if "class" not in kept.heads:
            fold_rows.append(row)
            continue
        score_kind = kept.head_info["class"]["score_kind"]
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
    aus = pd.DataFrame(au_rows) if au_rows else None
    return HeldoutResult(pd.DataFrame(fold_rows), pred, pooled, tuple(samples.classes), aus,
                         _pooled_aus(aus) if aus is not None else None)
