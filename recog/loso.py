"""Leave-one-subject-out evaluation with a fixed training schedule (docs/design.md §2, §5).

For each fold (one held-out subject, sorted by name):
1. the training rows are every real sample of the other subjects, plus the fold's augmentation
   (synthetic clips) when given;
2. the leakage gate checks every training row against the held-out subject (`leakage.py`);
3. a fresh model is cloned from the template with the fold's seed (a hash of the run seed and the
   held-out subject, so every arm of a study gets the same seed for the same fold) and fitted on the
   training rows only, for its fixed schedule — no validation split, early stopping or epoch choice;
4. only then are the held-out rows predicted.
Per-clip features (flow, LBP-TOP, frame stacks) are fixed functions of one clip and are computed once
for all rows up front; nothing fitted ever sees a held-out row.

Results: per-fold UF1 / UAR / accuracy, predictions of every sample, pooled UF1 / UAR over all folds
(the MEGC protocol) and the fold means (Varanka et al.: both, never test-fold selection), confusion matrix.

A model whose `target` is "aus" learns the 12 MEB action units instead (mexkit.datasets.au_targets): the
rows without an AU target are logged and left out, and results are AU-F1 and AU macro F1 per fold, per AU
and pooled over all folds (MEB's figure), beside the all-AUs-on constant baseline on the same truth.
`unit="dataset"` is leave-one-dataset-out (MEB's protocol over six datasets): one fold per dataset.
"""
from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mexkit.atomic import atomic_write_text
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .leakage import check_training_rows
from mexkit.datasets.au_targets import MEB_AUS, text_from_target

from .metrics import TARGET_METRICS, all_on_baseline, au_f1, au_score_frame, confusion_frame, uf1_uar
from .samples import SampleSet

Augment = Callable[[str, set], "SampleSet | None"]


def fold_seed(seed: int, fold: str) -> int:
    """The seed of one fold: depends on the run seed and the held-out unit only."""
    return int(zlib.crc32(f"{int(seed)}|{fold}".encode()) & 0x7FFFFFFF)


def model_name(model: Any) -> str:
    return type(model).__name__


def clone_model(model: Any, seed: int, num_classes: int) -> Any:
    """A fresh, unfitted copy of the template (`sklearn.base.clone`), given the fold's seed (its
    `random_state` or `seed` parameter) and the number of classes (when it has `num_classes`)."""
    from sklearn.base import clone

    est = clone(model)
    params = est.get_params(deep=False)
    updates = {"num_classes": int(num_classes)} if "num_classes" in params else {}
    seed_param = next((p for p in ("random_state", "seed") if p in params), None)
    if seed_param is not None:
        updates[seed_param] = int(seed)
    return est.set_params(**updates) if updates else est


def model_target(model: Any) -> str:
    """"aus" when the model learns AU targets (its `target` parameter), else "class"."""
    try:
        target = model.get_params(deep=False).get("target", "class")
    except AttributeError:
        target = getattr(model, "target", "class")
    if target not in TARGET_METRICS:
        raise ValueError(f"{model_name(model)}: target must be one of {list(TARGET_METRICS)}, got {target!r}")
    return str(target)


def au_columns(kind: str) -> list[str]:
    """Prediction-table columns of one AU matrix: "true_AU1" … or "pred_AU1" …"""
    return [f"{kind}_{au}" for au in MEB_AUS]


def default_feature(model: Any) -> dict:
    kind = getattr(model, "input_kind", "")
    if not kind:
        raise ValueError(f"{model_name(model)} does not name its input (input_kind); pass feature={{'kind': ...}}")
    return {"kind": kind}


def loso_folds(samples: SampleSet, unit: str = "subject") -> list[tuple[str, np.ndarray]]:
    """(fold name, test row positions) per value of `unit` among the real rows, sorted by name."""
    if unit not in samples.table.columns:
        raise ValueError(f"unknown LOSO unit {unit!r}; the sample table has {list(samples.table.columns)}")
    real = ~samples.table["synthetic"].to_numpy(bool)
    values = samples.table[unit].astype(str).to_numpy()
    names = sorted(set(values[real]))
    if len(names) < 2:
        raise MexkitInputError(None, f"LOSO needs at least two {unit}s with usable real samples, found {names}",
                               "add data from more subjects", stage="loso")
    return [(n, np.flatnonzero(real & (values == n))) for n in names]


@dataclass
class LOSOResult:
    """per_fold: one row per fold; predictions: one row per held-out sample; info: the run's settings."""

    classes: tuple[str, ...]
    per_fold: pd.DataFrame
    predictions: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return str(self.info.get("target", "class"))

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric columns of per_fold and pooled: ("uf1", "uar"), or ("au_f1", "au_macro_f1") for AUs."""
        return TARGET_METRICS[self.target]

    def au_matrices(self) -> tuple[np.ndarray, np.ndarray]:
        """(truth, predictions) of every held-out sample as (N, 12) 0/1 arrays (AU results)."""
        return (self.predictions[au_columns("true")].to_numpy(np.int64), self.predictions[au_columns("pred")].to_numpy(np.int64))

    @property
    def pooled(self) -> dict[str, float]:
        """UF1, UAR, accuracy over the predictions of all folds together (the MEGC protocol); for AUs,
        AU-F1 and AU macro F1 of all folds' predictions together (MEB's)."""
        if self.target == "aus":
            return au_f1(*self.au_matrices())
        return uf1_uar(self.predictions["y_true"], self.predictions["y_pred"], len(self.classes))

    @property
    def per_au(self) -> pd.DataFrame:
        """AU results: one row per AU (F1, macro F1, support, predicted positives, counts), pooled over folds."""
        return au_score_frame(*self.au_matrices(), MEB_AUS)

    @property
    def confusion(self) -> pd.DataFrame:
        return confusion_frame(self.predictions["y_true"], self.predictions["y_pred"], self.classes)

    def summary(self) -> pd.DataFrame:
        """One row: pooled UF1 / UAR / accuracy (AU-F1 / AU macro F1 and the all-AUs-on baseline for AUs) and
        the fold means and standard deviations."""
        p = self.pooled
        f = self.per_fold
        if self.target == "aus":
            base = all_on_baseline(self.au_matrices()[0])
            row = {"model": self.info.get("model", ""), "unit": self.info.get("unit", ""), "folds": len(f), "samples": len(self.predictions),
                   "au_f1": p["au_f1"], "au_macro_f1": p["au_macro_f1"],
                   "au_f1_fold_mean": f["au_f1"].mean(), "au_f1_fold_std": f["au_f1"].std(ddof=0),
                   "au_macro_f1_fold_mean": f["au_macro_f1"].mean(), "au_macro_f1_fold_std": f["au_macro_f1"].std(ddof=0),
                   "all_on_au_f1": base["au_f1"], "all_on_au_macro_f1": base["au_macro_f1"], "fit_seconds": f["fit_seconds"].sum()}
            return pd.DataFrame([row])
        row = {"model": self.info.get("model", ""), "folds": len(f), "samples": len(self.predictions),
               "uf1": p["uf1"], "uar": p["uar"], "accuracy": p["accuracy"],
               "uf1_fold_mean": f["uf1"].mean(), "uf1_fold_std": f["uf1"].std(ddof=0),
               "uar_fold_mean": f["uar"].mean(), "uar_fold_std": f["uar"].std(ddof=0),
               "fit_seconds": f["fit_seconds"].sum()}
        return pd.DataFrame([row])

    def save(self, out_dir: str | Path, plots: bool = True) -> Path:
        """per_fold.csv, predictions.csv, confusion.csv, summary.csv, result.json (+ PNG plots)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "per_fold.csv", self.per_fold.to_csv(index=False))
        atomic_write_text(out / "predictions.csv", self.predictions.to_csv(index=False))
        if self.target == "aus":  # per-AU scores instead of a confusion matrix (no plots)
            atomic_write_text(out / "per_au.csv", self.per_au.to_csv(index=False))
            atomic_write_text(out / "summary.csv", self.summary().to_csv(index=False))
            atomic_write_text(out / "result.json", json.dumps({"aus": list(MEB_AUS), "pooled": self.pooled, **self.info}, indent=1, default=str))
            return out
        atomic_write_text(out / "confusion.csv", self.confusion.to_csv())
        atomic_write_text(out / "summary.csv", self.summary().to_csv(index=False))
        atomic_write_text(out / "result.json", json.dumps({"classes": list(self.classes), "pooled": self.pooled, **self.info},
                                                          indent=1, default=str))
        if plots:
            from .plots import plot_confusion, plot_per_fold

            plot_confusion(self.confusion, out / "confusion.png", title=f"{self.info.get('model', '')} — pooled LOSO")
            plot_per_fold(self.per_fold, out / "per_fold.png", title=f"{self.info.get('model', '')} — UF1 / UAR per fold")
        return out


def run_loso(samples: SampleSet, model: Any, feature: dict | None = None, seed: int = 0, unit: str = "subject",
             augment: Augment | None = None, folds: list[str] | None = None, out_dir: str | Path | None = None,
             rejects: RejectLog | None = None, progress: bool = True, name: str | None = None) -> LOSOResult:
    """Leave-one-`unit`-out evaluation of a model template (a DeepRecognizer or scikit-learn estimator).

    feature: {"kind": ..., **params} for `SampleSet.prepare` (default: the model's input_kind).
    With a model whose target is "aus", rows without an AU target go to `rejects` and the rest learn and
    are scored on their 12-AU targets (AU-F1). unit: "subject" (LOSO), "dataset" (leave one dataset out) or
    any other column of the sample table.
    augment(fold, held_out_subjects) → extra training SampleSet for that fold (synthetic clips) or None.
    folds: run only these folds (names of the held-out unit). out_dir: write per-fold CSV as it goes
    and all results at the end. Raises LeakageError before fitting a fold whose training rows leak.
    """
    feature = dict(feature or default_feature(model))
    kind = feature.pop("kind")
    target = model_target(model)
    aus = target == "aus"
    if aus:
        samples = samples.with_au_targets(rejects)
    samples = samples.prepare(kind, feature, rejects=rejects, progress=progress)
    x_all = samples.features(kind, **feature)
    y_all = samples.Y if aus else samples.y
    k = len(samples.classes)
    plan = loso_folds(samples, unit)
    if folds is not None:
        unknown = sorted(set(folds) - {f for f, _ in plan})
        if unknown:
            raise ValueError(f"folds {unknown} not among the {unit}s {[f for f, _ in plan]}")
        plan = [(f, pos) for f, pos in plan if f in set(folds)]
    label = name or model_name(model)
    values = samples.table[unit].astype(str).to_numpy()
    fold_rows, pred_rows = [], []
    real_subjects = samples.namespace
    bar = tqdm(plan, desc=f"LOSO {label}", unit="fold", disable=not progress, dynamic_ncols=True)
    for fold, test_pos in bar:
        held_out = set(samples.table["subject"].iloc[test_pos].astype(str))
        train_pos = np.flatnonzero(values != fold)
        extra = augment(fold, held_out) if augment is not None else None
        if extra is not None and aus:
            extra = extra.with_au_targets(rejects)
        if extra is not None and len(extra):
            extra = extra.prepare(kind, feature, rejects=None, progress=False)
        train_table = samples.table.iloc[train_pos]
        if extra is not None and len(extra):
            train_table = pd.concat([train_table, extra.table], ignore_index=True)
        check_training_rows(train_table, held_out, fold, real_subjects)  # before anything is fitted
        x_train, y_train = x_all[train_pos], y_all[train_pos]
        if extra is not None and len(extra):
            x_train = np.concatenate([x_train, extra.features(kind, **feature)])
            y_train = np.concatenate([y_train, extra.Y if aus else extra.y])
        if len(y_train) == 0:
            raise MexkitInputError(None, f"fold {fold!r} has no training samples", "add data from more subjects", stage="loso")
        s = fold_seed(seed, fold)
        fold_model = clone_model(model, s, k)
        t0 = time.perf_counter()
        fold_model.fit(x_train, y_train)
        fit_seconds = time.perf_counter() - t0
        # The fold's model is fixed; only now are the held-out rows used.
        y_pred = np.asarray(fold_model.predict(x_all[test_pos])).astype(np.int64)
        y_true = y_all[test_pos]
        scores = au_f1(y_true, y_pred) if aus else uf1_uar(y_true, y_pred, k)
        n_syn = int(train_table["synthetic"].astype(bool).sum())
        fold_rows.append({"fold": fold, "held_out": ";".join(sorted(held_out)), "seed": s, "n_train": len(y_train),
                          "n_train_real": len(y_train) - n_syn, "n_train_synthetic": n_syn, "n_test": len(test_pos),
                          **scores, "fit_seconds": fit_seconds})
        for i, yt, yp in zip(test_pos, y_true, y_pred):
            if aus:
                pred_rows.append({"sample_id": samples.table.at[i, "sample_id"], "subject": samples.table.at[i, "subject"],
                                  "dataset": samples.table.at[i, "dataset"], "fold": fold, "label": samples.table.at[i, "label"],
                                  "au_target": text_from_target(yt), "predicted": text_from_target(yp),
                                  **dict(zip(au_columns("true"), map(int, yt))), **dict(zip(au_columns("pred"), map(int, yp)))})
                continue
            pred_rows.append({"sample_id": samples.table.at[i, "sample_id"], "subject": samples.table.at[i, "subject"],
                              "fold": fold, "y_true": int(yt), "y_pred": int(yp), "label": samples.classes[yt],
                              "predicted": samples.classes[yp]})
        if out_dir is not None:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            atomic_write_text(Path(out_dir) / "per_fold.csv", pd.DataFrame(fold_rows).to_csv(index=False))
    info = {"model": label, "model_params": _params(model), "feature": samples.feature_infos.get(_key(kind, feature), {"kind": kind, **feature}),
            "seed": int(seed), "unit": unit, "augmented": augment is not None, "target": target}
    result = LOSOResult(samples.classes, pd.DataFrame(fold_rows), pd.DataFrame(pred_rows), info)
    if out_dir is not None:
        result.save(out_dir)
    return result


def _key(kind: str, params: dict) -> str:
    from .samples import feature_key

    return feature_key(kind, params)


def _params(model: Any) -> dict:
    try:
        return {k: v for k, v in model.get_params(deep=False).items()}
    except AttributeError:
        return {}
