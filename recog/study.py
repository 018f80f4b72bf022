"""The augmentation study (DESIGN.md §5): does adding synthetic clips to training help a recognizer?

Two arms on identical folds, seeds and schedules — "real" (LOSO on the real samples) and
"real + synthetic" (the same, each fold's training set extended with synthetic clips) — compared
with a paired Wilcoxon signed-rank test over folds and a paired bootstrap CI over samples.

Which synthetic clips a fold may use, enforced in code:
- synthetic given as one pool (`SampleSet`): with select="other-subjects" (default) each fold takes
  the pool's clips generated from faces of subjects other than the held-out one; with select="given"
  every clip of the pool is used for every fold;
- synthetic given per fold (`{fold: SampleSet}`, e.g. clips from per-fold generator checkpoints):
  used as given.
Then every fold's training rows pass the leakage gate (`leakage.py`) before anything trains: a
synthetic clip made from the held-out subject's face, or by generator weights trained on that
subject's data, stops the study with a `LeakageError` naming the sample and the fold.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from mexkit.atomic import atomic_write_text
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .leakage import check_training_rows
from .loso import LOSOResult, default_feature, loso_folds, model_name, run_loso
from .metrics import confusions_from_indices, scores_from_confusions
from .samples import SampleSet

SELECT_MODES = ("other-subjects", "given")
METRICS = ("uf1", "uar")


def plan_synthetic(real: SampleSet, synthetic: SampleSet | Mapping[str, SampleSet], unit: str = "subject",
                   select: str = "other-subjects") -> dict[str, SampleSet]:
    """Each fold's synthetic training set, checked by the leakage gate (raises LeakageError)."""
    if select not in SELECT_MODES:
        raise ValueError(f"select must be one of {SELECT_MODES}, got {select!r}")
    folds = loso_folds(real, unit)
    values = real.table[unit].astype(str).to_numpy()
    plan: dict[str, SampleSet] = {}
    for fold, test_pos in folds:
        held_out = set(real.table["subject"].iloc[test_pos].astype(str))
        if isinstance(synthetic, Mapping):
            if fold not in synthetic:
                raise MexkitInputError(None, f"no synthetic set given for fold {fold!r}", f"give one per fold ({[f for f, _ in folds]})", stage="study")
            part = synthetic[fold]
        elif select == "other-subjects":
            part = synthetic.select(~synthetic.table["source_subject"].astype(str).isin(held_out).to_numpy())
        else:
            part = synthetic
        _require_synthetic(part, fold)
        train_real = real.table[values != fold]
        check_training_rows(pd.concat([train_real, part.table], ignore_index=True), held_out, fold)
        plan[fold] = part
    return plan


def _require_synthetic(part: SampleSet, fold: str) -> None:
    not_syn = part.table.loc[~part.table["synthetic"].astype(bool), "sample_id"].tolist()
    if not_syn:
        raise MexkitInputError(None, f"the synthetic set for fold {fold!r} holds non-synthetic rows (e.g. {not_syn[:3]})",
                               "pass real samples as `real` and only generated clips as `synthetic`", stage="study")


def wilcoxon_paired(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Two-sided Wilcoxon signed-rank test of b − a over folds (exact for small n, zero differences dropped)."""
    from scipy.stats import wilcoxon

    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    nonzero = int(np.sum(np.abs(d) > 1e-12))
    out = {"wilcoxon_stat": float("nan"), "p_value": float("nan"), "n_folds": len(d), "n_folds_nonzero": nonzero, "note": ""}
    if nonzero == 0:
        out.update(wilcoxon_stat=0.0, p_value=1.0, note="every fold ties: no difference to test")
        return out
    res = wilcoxon(b, a, zero_method="wilcox", alternative="two-sided")
    out.update(wilcoxon_stat=float(res.statistic), p_value=float(res.pvalue))
    if nonzero < 6:
        out["note"] = f"only {nonzero} non-tied folds: the smallest attainable two-sided p is {2 / 2 ** nonzero:.3g}"
    return out


def bootstrap_paired(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, num_classes: int, n_boot: int = 2000,
                     seed: int = 0, chunk: int = 500) -> dict[str, np.ndarray]:
    """Bootstrap over samples (the same resample for both arms): {metric: (n_boot,) differences b − a}."""
    rng = np.random.default_rng(seed)
    n = len(y_true)
    diffs = {m: [] for m in METRICS}
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        sa = scores_from_confusions(confusions_from_indices(y_true, pred_a, num_classes, idx))
        sb = scores_from_confusions(confusions_from_indices(y_true, pred_b, num_classes, idx))
        for m in METRICS:
            diffs[m].append(sb[m] - sa[m])
    return {m: np.concatenate(v) for m, v in diffs.items()}


@dataclass
class StudyResult:
    """arms: {"real", "augmented"} LOSO results; folds: one row per fold with both arms' scores;
    summary: one row per metric (pooled scores, difference, bootstrap CI, Wilcoxon test)."""

    arms: dict[str, LOSOResult]
    folds: pd.DataFrame
    summary: pd.DataFrame
    bootstrap: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def save(self, out_dir: str | Path, plots: bool = True) -> Path:
        """study_summary.csv, study_folds.csv, study.json, arms/<arm>/…, and plots."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "study_summary.csv", self.summary.to_csv(index=False))
        atomic_write_text(out / "study_folds.csv", self.folds.to_csv(index=False))
        atomic_write_text(out / "study.json", json.dumps(self.info, indent=1, default=str))
        for arm, res in self.arms.items():
            res.save(out / "arms" / arm, plots=plots)
        if plots:
            from .plots import plot_bootstrap, plot_paired_folds

            name = self.info.get("model", "")
            for m in METRICS:
                row = self.summary[self.summary["metric"] == m].iloc[0]
                plot_paired_folds(self.folds, m, out / f"folds_{m}.png", title=f"{name}: {m.upper()} per fold")
                plot_bootstrap(self.bootstrap[m], float(row["diff"]), (float(row["ci_low"]), float(row["ci_high"])), m,
                               out / f"bootstrap_{m}.png", title=f"{name}: paired bootstrap over samples")
        return out


def run_study(real: SampleSet, synthetic: SampleSet | Mapping[str, SampleSet], model: Any, feature: dict | None = None,
              seed: int = 0, unit: str = "subject", select: str = "other-subjects", n_boot: int = 2000,
              out_dir: str | Path | None = None, rejects: RejectLog | None = None, progress: bool = True,
              name: str | None = None) -> StudyResult:
    """Run both arms on identical folds, seeds and schedules and compare them (see the module docstring)."""
    label = name or model_name(model)
    feature = dict(feature or default_feature(model))
    kind = feature.pop("kind")
    real = real.prepare(kind, feature, rejects=rejects, progress=progress)
    if isinstance(synthetic, Mapping):
        synthetic = {f: s.prepare(kind, feature, rejects=rejects, progress=progress) for f, s in synthetic.items()}
    else:
        synthetic = synthetic.prepare(kind, feature, rejects=rejects, progress=progress)
    plan = plan_synthetic(real, synthetic, unit, select)  # leakage refused here, before anything trains
    spec = {"kind": kind, **feature}
    arms = {
        "real": run_loso(real, model, spec, seed, unit, None, progress=progress, name=f"{label} real"),
        "augmented": run_loso(real, model, spec, seed, unit, lambda fold, held_out: plan[fold], progress=progress,
                              name=f"{label} real+synthetic"),
    }
    for res in arms.values():
        res.info["model"] = label
    a, b = arms["real"], arms["augmented"]
    folds = a.per_fold[["fold", "held_out", "seed", "n_test", "n_train_real"]].copy()
    folds["n_train_synthetic"] = b.per_fold["n_train_synthetic"].to_numpy()
    if not (a.per_fold["fold"].tolist() == b.per_fold["fold"].tolist() and a.per_fold["seed"].tolist() == b.per_fold["seed"].tolist()):
        raise RuntimeError("the two arms ran different folds or seeds")  # guards the pairing the tests rely on
    for m in METRICS:
        folds[f"{m}_real"] = a.per_fold[m].to_numpy()
        folds[f"{m}_augmented"] = b.per_fold[m].to_numpy()
        folds[f"{m}_diff"] = folds[f"{m}_augmented"] - folds[f"{m}_real"]
    pa = a.predictions.set_index("sample_id")
    pb = b.predictions.set_index("sample_id").loc[pa.index]
    y_true = pa["y_true"].to_numpy()
    boot = bootstrap_paired(y_true, pa["y_pred"].to_numpy(), pb["y_pred"].to_numpy(), len(real.classes), n_boot, seed)
    rows = []
    for m in METRICS:
        ra, rb = a.pooled[m], b.pooled[m]
        lo, hi = np.percentile(boot[m], [2.5, 97.5])
        test = wilcoxon_paired(folds[f"{m}_real"], folds[f"{m}_augmented"])
        rows.append({"model": label, "metric": m, "real": ra, "augmented": rb, "diff": rb - ra, "ci_low": float(lo), "ci_high": float(hi),
                     "n_boot": int(n_boot), "n_samples": len(y_true), "fold_mean_real": folds[f"{m}_real"].mean(),
                     "fold_mean_augmented": folds[f"{m}_augmented"].mean(), **test})
    info = {"model": label, "feature": a.info.get("feature"), "seed": int(seed), "unit": unit, "select": select, "n_boot": int(n_boot),
            "synthetic_per_fold": {f: len(s) for f, s in plan.items()},
            "synthetic_generators": sorted({g for s in plan.values() for g in s.table["generator"] if g})}
    result = StudyResult(arms, folds, pd.DataFrame(rows), boot, info)
    if out_dir is not None:
        result.save(out_dir)
    return result
