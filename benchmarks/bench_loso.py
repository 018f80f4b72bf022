"""Benchmark: LOSO wall time of the STSTNet-like recognizer on a MEGC-sized SYNTHETIC set, against the
STSTNet reference schedule measured in the same run.

    python benchmarks/bench_loso.py [--threads 2] [--flow tvl1] [--reference-folds 17] [--out DIR]
    MEXKIT_BENCH_QUICK=1 python benchmarks/bench_loso.py     # 12 subjects, 2 reference folds

The data is NOT a micro-expression dataset: 442 clips of 68 pseudo-subjects (negative 250 / positive
109 / surprise 83, the MEGC2019 composite's shape), made by warping the embedded corpus's real faces
with class-specific smooth flow fields plus noise (mexkit.recog.parametric_set). Inputs: onset→apex
flow (u, v) + optical strain at 28×28 (mexkit.recog.features.flow_strain), computed once, not timed
in the LOSO rows.

Measured in one run:
  - CPU probe: fp32 2048² matmul and 3×3 64-channel conv GFLOP/s (benchmarks/common.py);
  - reference: an STSTNet built from the paper's description (three parallel 3×3 conv streams with 3,
    5 and 8 channels on 28×28×3, ReLU, batch norm, 3×3 max-pool, 2×2 average pool, dense), trained the
    usual way — a DataLoader at batch 256, Adam 5e-5 — for a few epochs on fold 1's training set:
    seconds per epoch, and the 68-fold LOSO time at the reference schedule (800 epochs) extrapolated;
  - ours: the full 68-fold LOSO of mexkit.recog.ststnet.STSTNet with its default fixed schedule
    (60 epochs, batch 64, Adam 1e-3, class-balanced loss; no test-fold selection), wall time;
  - accuracy check: the reference schedule (800 epochs, batch 256, Adam 5e-5, unweighted loss) run on
    the STSTNet-like network for `--reference-folds` folds (every k-th subject; all 68 with
    --reference-folds 68), pooled UF1 / UAR on those folds next to ours on the same folds and seeds.
Targets (docs/targets.md): LOSO < 9 min and ≥ 10× faster than the reference schedule, UF1 within
0.01 of the reference schedule. Peer figure for orientation: ~0.10 s/epoch → ~80 s/fold → ~91 min.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_probe, emit  # noqa: E402

PEER_S_PER_EPOCH = 0.10
REF_EPOCHS, REF_BATCH, REF_LR = 800, 256, 5e-5


class ReferenceSTSTNet(nn.Module):
    """STSTNet as the paper describes it: three parallel 3×3 streams (3, 5, 8 channels), each ReLU →
    batch norm → 3×3 max-pool (stride 3); concatenated → 2×2 average pool → dropout → dense."""

    def __init__(self, num_classes: int = 3):
        super().__init__()
        self.streams = nn.ModuleList(
            nn.Sequential(nn.Conv2d(3, c, 3, padding=2), nn.ReLU(), nn.BatchNorm2d(c), nn.MaxPool2d(3, 3, 1)) for c in (3, 5, 8))
        self.fc = nn.Linear(16 * 5 * 5, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([s(x) for s in self.streams], dim=1)
        return self.fc(F.dropout(F.avg_pool2d(y, 2).flatten(1), 0.5, self.training))


def reference_seconds_per_epoch(x: np.ndarray, y: np.ndarray, epochs: int = 3) -> float:
    """Best epoch time of the reference network and loop (DataLoader, batch 256, Adam) on (x, y)."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = ReferenceSTSTNet()
    opt = torch.optim.Adam(model.parameters(), lr=REF_LR)
    loader = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=REF_BATCH, shuffle=True)
    best = float("inf")
    for epoch in range(epochs + 1):  # the first epoch warms up
        t = time.perf_counter()
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch:
            best = min(best, time.perf_counter() - t)
    return best


def main() -> int:
    quick = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2, as docs/targets.md)")
    ap.add_argument("--flow", default="tvl1", choices=["tvl1", "dis", "farneback"], help="flow method for the inputs")
    ap.add_argument("--subjects", type=int, default=12 if quick else 68)
    ap.add_argument("--reference-folds", type=int, default=2 if quick else 17,
                    help="folds to run the 800-epoch reference schedule on for the UF1 check (0: skip; 68: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="folder for the LOSO results and bench.json (e.g. runs/bench/loso)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from mexkit.datasets import load_corpus
    from mexkit.recog.loso import run_loso
    from mexkit.recog.parametric_set import MEGC_COUNTS, parametric_clips
    from mexkit.recog.samples import SampleSet
    from mexkit.recog.ststnet import STSTNet

    counts = MEGC_COUNTS if args.subjects == 68 else {k: max(1, round(v * args.subjects / 68)) for k, v in MEGC_COUNTS.items()}
    n_clips = sum(counts.values())
    print(f"SYNTHETIC benchmark set (not micro-expression data): {n_clips} clips, {args.subjects} pseudo-subjects made by "
          f"class-specific smooth warps of the embedded corpus's real faces; torch threads {args.threads}")
    probe = cpu_probe(args.threads)

    t = time.perf_counter()
    samples = SampleSet.from_clips(parametric_clips(load_corpus().faces, num_subjects=args.subjects, counts=counts, seed=args.seed))
    t_set = time.perf_counter() - t
    feature = {"kind": "flow_strain", "size": 28, "method": args.flow}
    t = time.perf_counter()
    samples = samples.prepare("flow_strain", {"size": 28, "method": args.flow}, progress=True)
    t_feat = time.perf_counter() - t
    x, y = samples.features("flow_strain", size=28, method=args.flow), samples.y
    method_used = samples.feature_infos[next(iter(samples.feature_infos))]["method_used"]
    print(f"set built in {t_set:.1f} s; flow+strain ({method_used}) in {t_feat:.1f} s ({n_clips / t_feat:.1f} clips/s)")

    subjects = sorted(samples.subjects)
    fold1 = samples.table["subject"].to_numpy() != subjects[0]
    ref_epoch = reference_seconds_per_epoch(x[fold1], y[fold1])
    mean_train = len(samples) * (1 - 1 / len(subjects))
    ref_loso = ref_epoch * (mean_train / fold1.sum()) * REF_EPOCHS * len(subjects)
    print(f"reference STSTNet (paper shape, DataLoader batch {REF_BATCH}): {ref_epoch:.3f} s/epoch → "
          f"{REF_EPOCHS} epochs × {len(subjects)} folds ≈ {ref_loso / 60:.1f} min")

    ours_model = STSTNet()
    out = Path(args.out) if args.out else None
    t = time.perf_counter()
    ours = run_loso(samples, ours_model, feature, seed=args.seed, out_dir=out / "ours" if out else None, progress=True, name="STSTNet")
    t_ours = time.perf_counter() - t
    hp = ours_model.hparams
    print(f"ours: {len(subjects)}-fold LOSO in {t_ours:.1f} s ({hp.epochs} epochs, batch {hp.batch_size}, lr {hp.lr}, "
          f"loss weights {hp.class_weight}); pooled UF1 {ours.pooled['uf1']:.4f}, UAR {ours.pooled['uar']:.4f}; "
          f"fold means UF1 {ours.per_fold['uf1'].mean():.4f}, UAR {ours.per_fold['uar'].mean():.4f}")

    rows = [
        {"name": "cpu matmul 2048²", "value": probe["matmul_gflops"], "unit": "GFLOP/s"},
        {"name": "cpu conv 3×3 64ch", "value": probe["conv_gflops"], "unit": "GFLOP/s"},
        {"name": "reference STSTNet s/epoch (in-run)", "value": ref_epoch, "unit": "s", "note": f"peer ~{PEER_S_PER_EPOCH} s/epoch"},
        {"name": f"reference schedule LOSO, {len(subjects)} folds (est.)", "value": ref_loso / 60, "unit": "min",
         "note": f"{REF_EPOCHS} epochs × {len(subjects)} folds; peer ~91 min"},
        {"name": f"ours LOSO wall, {len(subjects)} folds", "value": t_ours / 60, "unit": "min", "target": 9.0,
         "note": f"{hp.epochs} epochs, batch {hp.batch_size}"},
        {"name": "speed-up vs reference schedule", "value": ref_loso / t_ours, "unit": "×", "target": 10.0},
        {"name": "ours pooled UF1 (all folds)", "value": ours.pooled["uf1"], "unit": "UF1"},
        {"name": "ours pooled UAR (all folds)", "value": ours.pooled["uar"], "unit": "UAR"},
    ]
    result = {"clips": n_clips, "subjects": len(subjects), "flow": method_used, "threads": args.threads, "probe": probe,
              "reference_s_per_epoch": ref_epoch, "reference_loso_min_est": ref_loso / 60, "ours_loso_s": t_ours,
              "ours_pooled": ours.pooled, "set_s": t_set, "features_s": t_feat}

    if args.reference_folds > 0:
        step = max(1, len(subjects) // args.reference_folds)
        ref_folds = subjects[::step][: args.reference_folds]
        ref_model = STSTNet(epochs=REF_EPOCHS, batch_size=REF_BATCH, lr=REF_LR, class_weight=None)
        t = time.perf_counter()
        ref = run_loso(samples, ref_model, feature, seed=args.seed, folds=ref_folds, progress=True, name="reference schedule",
                       out_dir=out / "reference_schedule" if out else None)
        t_ref = time.perf_counter() - t
        from mexkit.recog.metrics import uf1_uar

        mine = ours.predictions[ours.predictions["fold"].isin(ref_folds)]
        ours_sub = uf1_uar(mine["y_true"], mine["y_pred"], 3)
        print(f"reference schedule on {len(ref_folds)} folds ({len(mine)} test clips): UF1 {ref.pooled['uf1']:.4f} / UAR "
              f"{ref.pooled['uar']:.4f} in {t_ref:.0f} s; ours on the same folds UF1 {ours_sub['uf1']:.4f} / UAR {ours_sub['uar']:.4f}")
        rows += [
            {"name": f"reference-schedule UF1 ({len(ref_folds)} folds)", "value": ref.pooled["uf1"], "unit": "UF1"},
            {"name": f"ours UF1 on the same {len(ref_folds)} folds", "value": ours_sub["uf1"], "unit": "UF1", "reference": ref.pooled["uf1"]},
            {"name": "UF1 ours − reference schedule", "value": ours_sub["uf1"] - ref.pooled["uf1"], "unit": "UF1", "target": -0.01,
             "note": "target: ≥ −0.01"},
            {"name": f"ours UAR on the same {len(ref_folds)} folds", "value": ours_sub["uar"], "unit": "UAR", "reference": ref.pooled["uar"]},
        ]
        result.update(reference_folds=ref_folds, reference_pooled=ref.pooled, ours_on_reference_folds=ours_sub, reference_s=t_ref)
    emit(rows)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench.json").write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
