"""The augmentation study (docs/design.md §5): does adding synthetic clips to training help a recognizer?

Two arms on identical folds, seeds and schedules — "real" (LOSO on the real samples) and
"real + synthetic" (the same, each fold's training set extended with synthetic clips) — compared
with a paired Wilcoxon signed-rank test over folds and paired bootstrap intervals.

The intervals a reviewer should read resample SUBJECTS (clusters), not samples: a subject's clips are
correlated (same face, same style), so resampling clips one by one treats them as independent and
gives intervals that are too narrow. Each subject-bootstrap replicate draws as many subjects as there
are, with replacement, pools the drawn subjects' predictions of both arms (a subject drawn twice counts
twice) and recomputes pooled UF1 / UAR of each arm and the fold-mean effect; the percentile interval of
the replicates' differences is reported (`effects`: one row per metric and scope, pooled or fold mean,
with the Wilcoxon test, the number of non-tied folds and a plain verdict). The per-sample bootstrap
(`ci_low` / `ci_high` in `summary`) is kept for comparison. A design whose non-tied folds are too few
for the Wilcoxon test to reach α (with n non-tied folds the smallest two-sided exact p is 2 / 2^n) is
called out as unable to reach significance.

Which synthetic clips a fold may use, enforced in code:
- synthetic given as one pool (`SampleSet`): with select="other-subjects" (default) each fold takes
  the pool's clips generated from faces of subjects other than the held-out one (and not driven by a
  held-out subject's clip); with select="given"
  every clip of the pool is used for every fold;
- synthetic given per fold (`{fold: SampleSet}`, e.g. clips from per-fold generator checkpoints):
  used as given.
AU targets: with a model whose target is "aus" (learning the 12 MEB action units), the same design runs on
AU-F1 and AU macro F1 (`metrics.TARGET_METRICS`): the paired Wilcoxon test over the folds' AU-F1, and both
bootstraps resample the per-AU [TP, FP, FN, TN] counts of the drawn samples or subjects and recompute
pooled AU-F1 of each arm (`bootstrap_paired_counts`, `bootstrap_subjects_counts`).

Then every fold's training rows pass the leakage gate (`leakage.py`) before anything trains: a
synthetic clip made from the held-out subject's face, driven by its clip, or by generator weights
trained on that subject's data — or whose provenance is unknown or names subjects the real set does
not have — stops the study with a `LeakageError` naming the sample and the fold.
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
from .loso import LOSOResult, default_feature, loso_folds, model_name, model_target, run_loso
from .metrics import TARGET_METRICS, au_scores_from_counts, confusions_from_indices, sample_au_counts, scores_from_confusions
from .samples import SampleSet, split_subjects

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
        elif select == "other-subjects":  # neither made from a held-out face nor driven by a held-out subject's clip
            driven = synthetic.table["driving_subject"].map(lambda v: bool(set(split_subjects(v)) & held_out))
            part = synthetic.select((~synthetic.table["source_subject"].astype(str).isin(held_out) & ~driven).to_numpy())
        else:
            part = synthetic
        _require_synthetic(part, fold)
        train_real = real.table[values != fold]
        check_training_rows(pd.concat([train_real, part.table], ignore_index=True), held_out, fold, real.namespace)
        plan[fold] = part
    return plan


def _require_synthetic(part: SampleSet, fold: str) -> None:
    not_syn = part.table.loc[~part.table["synthetic"].astype(bool), "sample_id"].tolist()
    if not_syn:
        raise MexkitInputError(None, f"the synthetic set for fold {fold!r} holds non-synthetic rows (e.g. {not_syn[:3]})",
                               "pass real samples as `real` and only generated clips as `synthetic`", stage="study")


def min_attainable_p(n_nonzero: int) -> float:
    """The smallest two-sided exact Wilcoxon signed-rank p with n non-tied folds: 2 / 2^n (1 when n = 0)."""
    return 1.0 if n_nonzero <= 0 else min(1.0, 2.0 / 2.0 ** int(n_nonzero))


def min_folds_for(alpha: float = 0.05) -> int:
    """The fewest non-tied folds with which a two-sided Wilcoxon test can reach p < alpha (6 for 0.05)."""
    n = 1
    while min_attainable_p(n) >= alpha:
        n += 1
    return n


def wilcoxon_paired(a: np.ndarray, b: np.ndarray, alpha: float = 0.05) -> dict[str, Any]:
    """Two-sided Wilcoxon signed-rank test of b − a over folds (exact for small n, zero differences dropped).

    Also says whether the design can reach p < alpha at all: `min_attainable_p` = 2 / 2^n for n
    non-tied folds, `can_reach_significance` = min_attainable_p < alpha."""
    from scipy.stats import wilcoxon

    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    nonzero = int(np.sum(np.abs(d) > 1e-12))
    floor = min_attainable_p(nonzero)
    out = {"wilcoxon_stat": float("nan"), "p_value": float("nan"), "n_folds": len(d), "n_folds_nonzero": nonzero,
           "min_attainable_p": floor, "can_reach_significance": bool(floor < alpha), "note": ""}
    if nonzero == 0:
        out.update(wilcoxon_stat=0.0, p_value=1.0, note="every fold ties: no difference to test")
        return out
    res = wilcoxon(b, a, zero_method="wilcox", alternative="two-sided")
    out.update(wilcoxon_stat=float(res.statistic), p_value=float(res.pvalue))
    if floor >= alpha:
        out["note"] = (f"only {nonzero} non-tied folds: the smallest attainable two-sided p is 2/2^{nonzero} = {floor:.3g} "
                       f"≥ α = {alpha:g}, so this design cannot reach significance (it needs ≥ {min_folds_for(alpha)} non-tied folds)")
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


def bootstrap_subjects(y_true: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray, subjects: np.ndarray, num_classes: int,
                       n_boot: int = 2000, seed: int = 0, fold_diffs: Mapping[str, pd.Series] | None = None) -> dict[str, np.ndarray]:
    """Bootstrap over subjects (clusters), the same resample for both arms.

    Each of the n_boot replicates draws as many subjects as `subjects` holds, with replacement; the
    drawn subjects' predictions of both arms are pooled (a subject drawn k times counts k times) and
    pooled UF1 / UAR are recomputed for each arm. Returns {metric: (n_boot,) differences b − a}.
    fold_diffs: {metric: per-subject fold differences (b − a), indexed by subject} — when given (LOSO
    over subjects: one fold per subject), also "<metric>_fold_mean": the mean of the drawn subjects'
    fold differences per replicate."""
    subjects = np.asarray(subjects).astype(str)
    names, cluster = np.unique(subjects, return_inverse=True)
    k, c = int(num_classes), len(names)
    if c == 0:
        raise ValueError("no predictions to bootstrap")

    def per_cluster(pred: np.ndarray) -> np.ndarray:
        cell = cluster * k * k + np.asarray(y_true, np.int64) * k + np.asarray(pred, np.int64)
        return np.bincount(cell, minlength=c * k * k).reshape(c, k * k).astype(np.float64)

    cm_a, cm_b = per_cluster(pred_a), per_cluster(pred_b)
    rng = np.random.default_rng(seed)
    weights = _resample_weights(rng.integers(0, c, size=(int(n_boot), c)), c)
    sa = scores_from_confusions((weights @ cm_a).reshape(-1, k, k))
    sb = scores_from_confusions((weights @ cm_b).reshape(-1, k, k))
    out = {m: sb[m] - sa[m] for m in METRICS}
    out.update(_fold_means(weights, names, fold_diffs))
    return out


def _resample_weights(draws: np.ndarray, n: int) -> np.ndarray:
    """(B, n) counts of how often each of n items is drawn in each of B resamples (draws (B, m) indices)."""
    w = np.zeros((draws.shape[0], n))
    np.add.at(w, (np.repeat(np.arange(draws.shape[0]), draws.shape[1]), draws.ravel()), 1.0)
    return w


def _fold_means(weights: np.ndarray, names: np.ndarray, fold_diffs: Mapping[str, pd.Series] | None) -> dict[str, np.ndarray]:
    """{"<metric>_fold_mean": (B,)} the mean of the drawn subjects' fold differences in each replicate (weights (B, C):
    how often each of the C subjects `names` is drawn); a subject without a finite difference is left out of the mean."""
    out = {}
    for m, diffs in (fold_diffs or {}).items():
        d = pd.Series(diffs).astype(float).reindex(names).to_numpy()
        valid = np.isfinite(d)
        w = weights * valid
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{m}_fold_mean"] = (w @ np.where(valid, d, 0.0)) / w.sum(axis=1)
    return out


def au_count_scores(counts: np.ndarray) -> dict[str, np.ndarray]:
    """AU-F1 and AU macro F1 of flattened per-AU counts (..., 12·4) (the bootstraps' sums of `sample_au_counts`)."""
    c = np.asarray(counts)
    s = au_scores_from_counts(c.reshape(*c.shape[:-1], -1, 4))
    return {m: s[m] for m in TARGET_METRICS["aus"]}


def bootstrap_paired_counts(counts_a: np.ndarray, counts_b: np.ndarray, score=au_count_scores, n_boot: int = 2000, seed: int = 0,
                            chunk: int = 250) -> dict[str, np.ndarray]:
    """Bootstrap over samples with additive per-sample counts (N, D) of both arms (the same resample for
    both): {metric: (n_boot,) differences b − a} of score(summed counts)."""
    rng = np.random.default_rng(seed)
    n = len(counts_a)
    diffs: dict[str, list] = {}
    for start in range(0, n_boot, chunk):
        w = _resample_weights(rng.integers(0, n, size=(min(chunk, n_boot - start), n)), n)
        sa, sb = score(w @ counts_a), score(w @ counts_b)
        for m in sa:
            diffs.setdefault(m, []).append(sb[m] - sa[m])
    return {m: np.concatenate(v) for m, v in diffs.items()}


def bootstrap_subjects_counts(counts_a: np.ndarray, counts_b: np.ndarray, subjects: np.ndarray, score=au_count_scores,
                              n_boot: int = 2000, seed: int = 0, fold_diffs: Mapping[str, pd.Series] | None = None) -> dict[str, np.ndarray]:
    """Bootstrap over subjects (clusters) with additive per-sample counts (N, D) of both arms: as
    `bootstrap_subjects`, each replicate draws as many subjects as there are, with replacement, sums the
    drawn subjects' counts (a subject drawn k times counts k times) and recomputes each arm's score;
    fold_diffs adds "<metric>_fold_mean"."""
    subjects = np.asarray(subjects).astype(str)
    names, cluster = np.unique(subjects, return_inverse=True)
    c = len(names)
    if c == 0:
        raise ValueError("no predictions to bootstrap")
    per_a, per_b = np.zeros((c, counts_a.shape[1])), np.zeros((c, counts_b.shape[1]))
    np.add.at(per_a, cluster, counts_a)
    np.add.at(per_b, cluster, counts_b)
    rng = np.random.default_rng(seed)
    weights = _resample_weights(rng.integers(0, c, size=(int(n_boot), c)), c)
    sa, sb = score(weights @ per_a), score(weights @ per_b)
    out = {m: sb[m] - sa[m] for m in sa}
    out.update(_fold_means(weights, names, fold_diffs))
    return out


MIN_SUBJECTS_FOR_BOOTSTRAP = 10  # below this the subject-bootstrap interval is too coarse to trust (stated, not hidden)


def effect_rows(label: str, folds: pd.DataFrame, pooled: Mapping[str, Mapping[str, float]], boot: Mapping[str, np.ndarray],
                n_subjects: int, alpha: float = 0.05, metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """The study's effects: one row per metric and scope ("pooled": pooled UF1 / UAR over all folds;
    "fold_mean": the mean over folds), with the subject-bootstrap interval, the paired Wilcoxon test
    over folds, the number of non-tied folds and a plain verdict."""
    rows = []
    level = 100 * (1 - alpha)
    for m in metrics:
        test = wilcoxon_paired(folds[f"{m}_real"], folds[f"{m}_augmented"], alpha)
        scopes = {"pooled": (pooled["real"][m], pooled["augmented"][m], boot[m]),
                  "fold_mean": (float(folds[f"{m}_real"].mean()), float(folds[f"{m}_augmented"].mean()), boot[f"{m}_fold_mean"])}
        for scope, (ra, rb, reps) in scopes.items():
            reps = np.asarray(reps, float)
            reps = reps[np.isfinite(reps)]
            lo, hi = (np.percentile(reps, [50 - level / 2, 50 + level / 2]) if len(reps) else (np.nan, np.nan))
            excludes = bool(lo > 0 or hi < 0)
            rows.append({"model": label, "metric": m, "scope": scope, "real": ra, "augmented": rb, "effect": rb - ra,
                         "ci_low": float(lo), "ci_high": float(hi), "ci_level": level / 100, "interval": "subject bootstrap",
                         "n_boot": len(reps), "n_subjects": int(n_subjects), "ci_excludes_zero": excludes,
                         "direction": ("positive" if lo > 0 else "negative") if excludes else "none",
                         "wilcoxon_p": test["p_value"], "wilcoxon_significant": bool(test["p_value"] < alpha),
                         "n_folds": test["n_folds"], "n_folds_nonzero": test["n_folds_nonzero"],
                         "min_attainable_p": test["min_attainable_p"], "can_reach_significance": test["can_reach_significance"],
                         "alpha": alpha, "verdict": _verdict(rb - ra, lo, hi, excludes, test, n_subjects, alpha)})
    return pd.DataFrame(rows)


def _verdict(effect: float, lo: float, hi: float, excludes: bool, test: dict, n_subjects: int, alpha: float) -> str:
    n = test["n_folds_nonzero"]
    parts = []
    if n == 0:
        parts.append("every fold ties: the fold test has nothing to test")
    elif not test["can_reach_significance"]:
        parts.append(f"this design cannot reach significance on the fold test: {n} non-tied folds, smallest two-sided p "
                     f"2/2^{n} = {test['min_attainable_p']:.3g} ≥ α = {alpha:g} (needs ≥ {min_folds_for(alpha)} non-tied folds)")
    if n_subjects < MIN_SUBJECTS_FOR_BOOTSTRAP:
        parts.append(f"only {n_subjects} subjects: the subject-bootstrap interval is too coarse to trust "
                     f"(needs ≥ {MIN_SUBJECTS_FOR_BOOTSTRAP})")
    ci = f"{effect:+.3f} [{lo:+.3f}, {hi:+.3f}]"
    if excludes and test["p_value"] < alpha:
        parts.insert(0, f"{'positive' if lo > 0 else 'negative'} effect {ci}: interval excludes 0, Wilcoxon p = {test['p_value']:.3g} < {alpha:g}")
    elif excludes:
        parts.insert(0, f"effect {ci}: interval excludes 0 but Wilcoxon p = {test['p_value']:.3g} ≥ {alpha:g}")
    elif test["p_value"] < alpha:
        parts.insert(0, f"effect {ci}: Wilcoxon p = {test['p_value']:.3g} < {alpha:g} but the interval includes 0")
    else:
        parts.insert(0, f"no significant effect: {ci} includes 0, Wilcoxon p = {test['p_value']:.3g}")
    return "; ".join(parts)


@dataclass
class StudyResult:
    """arms: {"real", "augmented"} LOSO results; folds: one row per fold with both arms' scores;
    summary: one row per metric (pooled scores, difference, per-sample bootstrap CI, Wilcoxon test, and
    the subject-bootstrap intervals of the pooled and fold-mean effects); effects: one row per metric
    and scope ("pooled" / "fold_mean") — effect, subject-bootstrap interval, Wilcoxon test, non-tied
    folds, verdict; bootstrap / bootstrap_subjects: the replicates' differences."""

    arms: dict[str, LOSOResult]
    folds: pd.DataFrame
    summary: pd.DataFrame
    bootstrap: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)
    bootstrap_subjects: dict[str, np.ndarray] = field(default_factory=dict)

    def effect(self, metric: str = "uf1", scope: str = "pooled") -> dict[str, Any]:
        """One row of `effects` as a dict (metric "uf1" | "uar", scope "pooled" | "fold_mean")."""
        e = self.effects
        rows = e[(e["metric"] == metric) & (e["scope"] == scope)]
        if rows.empty:
            raise KeyError(f"no effect for metric {metric!r}, scope {scope!r}")
        return rows.iloc[0].to_dict()

    def text(self) -> str:
        """A short plain-text summary: one line per metric and scope, then the design's limits."""
        name = self.info.get("model", "")
        lines = [f"augmentation study: {name}, {self.info.get('n_subjects', '?')} subjects, {len(self.folds)} folds, "
                 f"seed {self.info.get('seed')}; effect = real + synthetic − real, "
                 f"{100 * (1 - self.info.get('alpha', 0.05)):g}% subject-bootstrap interval ({self.info.get('n_boot')} replicates)"]
        for r in self.effects.to_dict("records"):
            scope = "pooled" if r["scope"] == "pooled" else "fold mean"
            lines.append(f"  {r['metric'].upper()} {scope:<9}  real {r['real']:.3f}  augmented {r['augmented']:.3f}  "
                         f"effect {r['effect']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]  Wilcoxon p {r['wilcoxon_p']:.3g}  "
                         f"non-tied folds {r['n_folds_nonzero']}/{r['n_folds']}")
            lines.append(f"      {r['verdict']}")
        return "\n".join(lines) + "\n"

    def save(self, out_dir: str | Path, plots: bool = True) -> Path:
        """study_summary.csv, study_effects.csv, study_summary.txt, study_folds.csv, study.json,
        arms/<arm>/…, and plots (per-fold paired lines, bootstrap histograms over samples and subjects)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "study_summary.csv", self.summary.to_csv(index=False))
        if not self.effects.empty:
            atomic_write_text(out / "study_effects.csv", self.effects.to_csv(index=False))
            atomic_write_text(out / "study_summary.txt", self.text())
        atomic_write_text(out / "study_folds.csv", self.folds.to_csv(index=False))
        atomic_write_text(out / "study.json", json.dumps(self.info, indent=1, default=str))
        for arm, res in self.arms.items():
            res.save(out / "arms" / arm, plots=plots)
        if plots:
            from .plots import plot_bootstrap, plot_paired_folds

            name = self.info.get("model", "")
            for m in self.info.get("metrics", METRICS):
                row = self.summary[self.summary["metric"] == m].iloc[0]
                plot_paired_folds(self.folds, m, out / f"folds_{m}.png", title=f"{name}: {m.upper()} per fold")
                plot_bootstrap(self.bootstrap[m], float(row["diff"]), (float(row["ci_low"]), float(row["ci_high"])), m,
                               out / f"bootstrap_{m}.png", title=f"{name}: paired bootstrap over samples")
                if m in self.bootstrap_subjects and not self.effects.empty:
                    e = self.effect(m, "pooled")
                    plot_bootstrap(self.bootstrap_subjects[m], float(e["effect"]), (float(e["ci_low"]), float(e["ci_high"])), m,
                                   out / f"bootstrap_subjects_{m}.png", title=f"{name}: paired bootstrap over subjects")
        return out


def run_study(real: SampleSet, synthetic: SampleSet | Mapping[str, SampleSet], model: Any, feature: dict | None = None,
              seed: int = 0, unit: str = "subject", select: str = "other-subjects", n_boot: int = 2000,
              out_dir: str | Path | None = None, rejects: RejectLog | None = None, progress: bool = True,
              name: str | None = None, alpha: float = 0.05, plots: bool = True) -> StudyResult:
    """Run both arms on identical folds, seeds and schedules and compare them (see the module docstring).

    n_boot: replicates of both bootstraps (over samples and over subjects, seeded by `seed`); alpha: the
    test level and 1 − the interval level; plots: write PNGs when saving to out_dir. A model with
    target="aus" is compared on AU-F1 / AU macro F1 (rows without AU targets are logged and left out)."""
    label = name or model_name(model)
    target = model_target(model)
    metrics = TARGET_METRICS[target]
    if target == "aus":
        real = real.with_au_targets(rejects)
        synthetic = ({f: s.with_au_targets(rejects) for f, s in synthetic.items()} if isinstance(synthetic, Mapping)
                     else synthetic.with_au_targets(rejects))
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
    for m in metrics:
        folds[f"{m}_real"] = a.per_fold[m].to_numpy()
        folds[f"{m}_augmented"] = b.per_fold[m].to_numpy()
        folds[f"{m}_diff"] = folds[f"{m}_augmented"] - folds[f"{m}_real"]
    pa = a.predictions.set_index("sample_id")
    pb = b.predictions.set_index("sample_id").loc[pa.index]
    subjects = pa["subject"].astype(str).to_numpy()
    diffs = {m: folds.set_index("fold")[f"{m}_diff"] for m in metrics}
    if target == "aus":  # per-sample [TP, FP, FN, TN] counts per AU, summed by the resamples
        from .loso import au_columns

        truth = pa[au_columns("true")].to_numpy()
        ca = sample_au_counts(truth, pa[au_columns("pred")].to_numpy()).reshape(len(pa), -1)
        cb = sample_au_counts(truth, pb[au_columns("pred")].to_numpy()).reshape(len(pa), -1)
        y_true = truth
        boot = bootstrap_paired_counts(ca, cb, au_count_scores, n_boot, seed)

        def subject_boot(clusters, fold_diffs=None):
            return bootstrap_subjects_counts(ca, cb, clusters, au_count_scores, n_boot, seed, fold_diffs=fold_diffs)
    else:
        y_true = pa["y_true"].to_numpy()
        y_a, y_b = pa["y_pred"].to_numpy(), pb["y_pred"].to_numpy()
        boot = bootstrap_paired(y_true, y_a, y_b, len(real.classes), n_boot, seed)

        def subject_boot(clusters, fold_diffs=None):
            return bootstrap_subjects(y_true, y_a, y_b, clusters, len(real.classes), n_boot, seed, fold_diffs=fold_diffs)
    if unit == "subject":  # one fold per subject: one draw of subjects gives the pooled and the fold-mean replicates
        boot_subj = subject_boot(subjects, diffs)
    else:  # pooled scores over subject clusters; the fold mean over the folds (the clusters of the fold test)
        boot_subj = subject_boot(subjects)
        by_fold = subject_boot(pa["fold"].astype(str).to_numpy(), diffs)
        boot_subj.update({k: v for k, v in by_fold.items() if k.endswith("_fold_mean")})
    n_subjects = len(set(subjects))
    effects = effect_rows(label, folds, {"real": a.pooled, "augmented": b.pooled}, boot_subj, n_subjects, alpha, metrics)
    rows = []
    level = 100 * (1 - alpha)
    for m in metrics:
        ra, rb = a.pooled[m], b.pooled[m]
        lo, hi = np.percentile(boot[m], [50 - level / 2, 50 + level / 2])
        test = wilcoxon_paired(folds[f"{m}_real"], folds[f"{m}_augmented"], alpha)
        ep, ef = (effects[(effects["metric"] == m) & (effects["scope"] == sc)].iloc[0] for sc in ("pooled", "fold_mean"))
        rows.append({"model": label, "metric": m, "real": ra, "augmented": rb, "diff": rb - ra, "ci_low": float(lo), "ci_high": float(hi),
                     "n_boot": int(n_boot), "n_samples": len(y_true), "fold_mean_real": folds[f"{m}_real"].mean(),
                     "fold_mean_augmented": folds[f"{m}_augmented"].mean(), **test,
                     "ci_low_subjects": ep["ci_low"], "ci_high_subjects": ep["ci_high"], "fold_mean_diff": ef["effect"],
                     "fold_mean_ci_low": ef["ci_low"], "fold_mean_ci_high": ef["ci_high"], "n_subjects": n_subjects,
                     "alpha": alpha, "verdict": ep["verdict"]})
    info = {"model": label, "feature": a.info.get("feature"), "seed": int(seed), "unit": unit, "select": select, "n_boot": int(n_boot),
            "target": target, "metrics": list(metrics),
            "alpha": alpha, "n_subjects": n_subjects,
            "synthetic_per_fold": {f: len(s) for f, s in plan.items()},
            "synthetic_generators": sorted({g for s in plan.values() for g in s.table["generator"] if g})}
    result = StudyResult(arms, folds, pd.DataFrame(rows), boot, info, effects, boot_subj)
    if out_dir is not None:
        result.save(out_dir, plots=plots)
    return result
