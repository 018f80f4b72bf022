"""Benchmark: the augmentation study validated like a metric, on synthetic clips whose effect is known.

    python benchmarks/bench_study.py [--subjects 68] [--null-seeds 20] [--effect-seeds 3] [--out DIR]
    MEXKIT_BENCH_QUICK=1 python benchmarks/bench_study.py     # 34 subjects, 20 null seeds, 2 effect seeds

The data is NOT micro-expression data: the MEGC-shaped stand-in set (mexkit.recog.parametric_set: 442
clips / 68 pseudo-subjects, class-specific smooth warps of the embedded corpus's real faces) made
scarce — 2 real clips per subject — plus, for every subject, synthetic clips whose truth is known
(parametric_set.known_effect_sets):
  - oracle: more clips of the same generating process, correct labels → the study must report a
    positive effect whose subject-bootstrap interval excludes 0;
  - label-swapped: the same clips with every label wrong → a negative effect whose interval excludes 0;
  - null: clips with no class motion → over ≥ 20 seeds, the false-positive rate at α = 0.05 must be
    ≤ 0.10 (reported with its Clopper–Pearson 95% interval) for each decision rule: the pooled-UF1
    subject-bootstrap interval excluding 0, and the Wilcoxon test over folds of per-fold UF1.
Recognizer: mexkit.recog.FlowLDA, standard-scaled shrinkage LDA on onset→apex flow + strain (DIS, 8×8), one
BLAS thread; `run_study` with select="other-subjects" (each fold uses the synthetic clips of the
training subjects only), both arms on identical folds and seeds.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit  # noqa: E402


def recognizer():
    """Standard-scaled shrinkage LDA on flattened flow + strain (mexkit.recog.FlowLDA): cheap, and
    data-hungry enough that more (or wrongly labelled) training clips move it."""
    from mexkit.recog import FlowLDA

    return FlowLDA()


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    a = (1 - level) / 2
    return (0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1)), 1.0 if k == n else float(beta.ppf(1 - a, k + 1, n - k)))


def one_study(faces, kind: str, seed: int, args) -> dict:
    from mexkit.recog.parametric_set import known_effect_sets
    from mexkit.recog.samples import SampleSet
    from mexkit.recog.study import run_study

    real, syn = known_effect_sets(faces, kind, seed=seed, num_subjects=args.subjects, real_per_subject=args.real_per_subject,
                                  synthetic_per_subject=args.synthetic_per_subject, size=args.size)
    feature = {"kind": "flow_strain", "size": args.flow_size, "method": "dis"}
    res = run_study(SampleSet.from_clips(real), SampleSet.from_clips(syn, synthetic=True), recognizer(), feature, seed=seed,
                    n_boot=args.n_boot, progress=False, name="LDA")
    out = {"kind": kind, "seed": seed, "n_real": len(real), "n_synthetic": len(syn)}
    for m in ("uf1", "uar"):
        for scope in ("pooled", "fold_mean"):
            e = res.effect(m, scope)
            out[f"{m}_{scope}"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in e.items()
                                   if k in ("real", "augmented", "effect", "ci_low", "ci_high", "ci_excludes_zero", "wilcoxon_p",
                                            "wilcoxon_significant", "n_folds", "n_folds_nonzero")}
    return out


def main() -> int:
    quick = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subjects", type=int, default=34 if quick else 68)
    ap.add_argument("--real-per-subject", type=int, default=2)
    ap.add_argument("--synthetic-per-subject", type=int, default=16)
    ap.add_argument("--size", type=int, default=48, help="clip size in pixels")
    ap.add_argument("--flow-size", type=int, default=8, help="flow + strain grid of the features")
    ap.add_argument("--effect-seeds", type=int, default=2 if quick else 3)
    ap.add_argument("--null-seeds", type=int, default=20)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--out", help="folder for bench.json")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    from threadpoolctl import threadpool_limits

    from mexkit.datasets import load_corpus

    faces = load_corpus().faces
    print(f"SYNTHETIC stand-in set (not micro-expression data): {args.subjects} pseudo-subjects, {args.real_per_subject} real "
          f"clips each, {args.synthetic_per_subject} synthetic clips per subject, {args.size} px, flow grid {args.flow_size}")
    runs = []
    t0 = time.perf_counter()
    with threadpool_limits(1):
        plan = [(k, s) for k in ("oracle", "label-swapped") for s in range(args.effect_seeds)] + [("null", s) for s in range(args.null_seeds)]
        for kind, seed in plan:
            t = time.perf_counter()
            r = one_study(faces, kind, seed, args)
            e = r["uf1_pooled"]
            f = r["uf1_fold_mean"]
            print(f"{kind:<13} seed {seed:>2}: pooled UF1 {e['real']:.3f} → {e['augmented']:.3f}, effect {e['effect']:+.3f} "
                  f"[{e['ci_low']:+.3f}, {e['ci_high']:+.3f}]; fold mean {f['effect']:+.3f} [{f['ci_low']:+.3f}, {f['ci_high']:+.3f}], "
                  f"Wilcoxon p {e['wilcoxon_p']:.3g}, non-tied folds {e['n_folds_nonzero']}/{e['n_folds']} ({time.perf_counter() - t:.0f} s)",
                  flush=True)
            runs.append(r)
    wall = time.perf_counter() - t0
    rows = []
    for kind, sign in (("oracle", 1), ("label-swapped", -1)):
        rs = [r for r in runs if r["kind"] == kind]
        for m in ("uf1", "uar"):
            for scope in ("pooled", "fold_mean"):
                es = [r[f"{m}_{scope}"] for r in rs]
                hit = sum((e["ci_low"] > 0) if sign > 0 else (e["ci_high"] < 0) for e in es)
                e0 = es[0]
                rows.append({"name": f"{kind} Δ {scope.replace('_', ' ')} {m.upper()} (seed 0)", "value": e0["effect"], "unit": m.upper(),
                             "note": f"95% subject-bootstrap CI [{e0['ci_low']:+.3f}, {e0['ci_high']:+.3f}]; mean over {len(es)} seeds "
                                     f"{np.mean([e['effect'] for e in es]):+.3f}; CI excludes 0 ({'>' if sign > 0 else '<'} 0) in {hit}/{len(es)} seeds"})
    nulls = [r for r in runs if r["kind"] == "null"]
    n = len(nulls)
    for m in ("uf1", "uar"):
        for rule, pick in (("pooled subject-bootstrap CI excludes 0", lambda r: r[f"{m}_pooled"]["ci_excludes_zero"]),
                           ("fold-mean subject-bootstrap CI excludes 0", lambda r: r[f"{m}_fold_mean"]["ci_excludes_zero"]),
                           ("Wilcoxon over folds p < 0.05", lambda r: r[f"{m}_pooled"]["wilcoxon_significant"]),
                           # what the study's verdict calls an effect: the interval excludes 0 and Wilcoxon p < α
                           ("verdict: pooled CI excludes 0 and Wilcoxon p < 0.05",
                            lambda r: r[f"{m}_pooled"]["ci_excludes_zero"] and r[f"{m}_pooled"]["wilcoxon_significant"]),
                           ("verdict: fold-mean CI excludes 0 and Wilcoxon p < 0.05",
                            lambda r: r[f"{m}_fold_mean"]["ci_excludes_zero"] and r[f"{m}_fold_mean"]["wilcoxon_significant"])):
            k = sum(bool(pick(r)) for r in nulls)
            lo, hi = clopper_pearson(k, n)
            rows.append({"name": f"null FPR {m.upper()}: {rule}", "value": k / n, "unit": "rate", "target": 0.10,
                         "note": f"{k}/{n} seeds; 95% CI [{lo:.3f}, {hi:.3f}]; target ≤ 0.10"})
    rows.append({"name": "null mean Δ pooled UF1", "value": float(np.mean([r["uf1_pooled"]["effect"] for r in nulls])), "unit": "UF1",
                 "note": f"over {n} seeds"})
    rows.append({"name": f"study wall time ({len(runs)} studies)", "value": wall / 60, "unit": "min",
                 "note": f"{args.subjects} subjects × 2 arms per study"})
    emit(rows)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench.json").write_text(json.dumps({"args": vars(args), "runs": runs, "wall_s": wall}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
