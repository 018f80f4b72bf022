"""Evaluation suite speed: clips per second for each metric family, and memory flat in clip count.

    python benchmarks/bench_eval.py [--clips N]      (MEXKIT_BENCH_QUICK=1: 4 clips, 60 in the memory run)

Input: the embedded corpus's real aligned clips cut to 16 frames at 128 px (docs/targets.md's shape), each
family run alone through `EvalSuite` (one torch thread, as `mexkit eval` runs). In-run references: the
bare per-clip cost of the work each family cannot avoid — dlib's own descriptor on 16 frames (identity; mexkit
runs the same network in torch),
DIS flow on the 30 forward/backward pairs (temporal), MediaPipe on 16 frames (motion) — plus this CPU's
matmul throughput. Targets (docs/targets.md): identity ≥ 2 clips/s (16 frames, dlib), temporal ≥ 20 clips/s,
memory flat in clip count.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cpu_probe, emit, timeit  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mexkit.datasets import load_corpus  # noqa: E402
from mexkit.eval.clip_sets import ClipSet  # noqa: E402
from mexkit.eval.suite import EvalSuite  # noqa: E402

TARGETS = {"identity": 2.0, "temporal": 20.0}
DEFAULT_FAMILIES = ["identity", "temporal", "motion", "expression", "distribution"]
TARGET_DEFAULT = 3.0  # clips/s, the default families together on 2 cores (issue 17)
FRAMES = 16


def corpus_clips(n: int):
    """n real clips of 16 frames (the corpus's clips, cycled), 128 px."""
    base = []
    for c in load_corpus().clips:
        t = min(c.num_frames, FRAMES)
        base.append(c.with_frames(c.frames[:t], apex=min(c.apex, t - 1), offset=t - 1,
                                  landmarks=None if c.landmarks is None else c.landmarks[:t]))
    return [base[i % len(base)].with_frames(base[i % len(base)].frames, sample_id=f"c{i:04d}") for i in range(n)]


def lazy_set(n: int, clips) -> ClipSet:
    """A ClipSet that builds clip i on demand (memory test: nothing is held between clips)."""
    records = pd.DataFrame({"sample_id": [f"m{i:05d}" for i in range(n)], "_i": range(n)})
    return ClipSet("lazy", records, lambda row: clips[int(row["_i"]) % len(clips)].with_frames(
        clips[int(row["_i"]) % len(clips)].frames.copy(), sample_id=row["sample_id"]))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (kernel's high-water mark)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def family_speed(family: str, clips, **kwargs) -> float:
    suite = EvalSuite([family], progress=False, examples=0, **kwargs)
    suite.run(clips[:1], None if family != "distribution" else clips[:2])  # warm-up (model loading)
    t = time.perf_counter()
    if family == "distribution":
        suite.run(clips, clips[:2])  # features of every synthetic clip + the set-level metrics
    else:
        suite.run(clips)
    return len(clips) / (time.perf_counter() - t)


def speed_rows(args, clips) -> list[dict]:
    """Clips/s of each family alone and of the default families together, beside their in-run references."""
    rows = []
    # references: the unavoidable work of each family, per clip
    from mexkit.eval.face_tracks import default_pipeline
    from mexkit.eval.identity import load_identity_model
    from mexkit.optical_flow import compute_flow

    from mexkit.face.identity import DlibIdentity

    dlib_own = DlibIdentity(backend="dlib")  # dlib's compute_face_descriptor, frame by frame: the reference
    ref_identity = 1.0 / timeit(lambda: dlib_own.embed_aligned(clips[0].frames), repeat=2)
    ours = load_identity_model("dlib")  # the same network and weights, run by torch (mexkit/face/dlib_resnet.py)
    rows.append({"name": f"bare identity descriptors, {FRAMES} frames (dlib's network in torch)",
                 "value": 1.0 / timeit(lambda: ours.embed_aligned(clips[0].frames), repeat=3), "unit": "clips/s", "reference": ref_identity,
                 "note": "reference = dlib's own compute_face_descriptor on the same frames"})
    ref_flow = 1.0 / timeit(lambda: [compute_flow(a, b, "dis") for a, b in zip(clips[0].frames[:-1], clips[0].frames[1:]) for _ in (0, 1)], repeat=3)
    pipe = default_pipeline()
    ref_mp = 1.0 / timeit(lambda: [pipe.detect(f) for f in clips[0].frames], repeat=2)

    from mexkit.eval.perceptual import LPIPS

    lp = LPIPS("alex", random_backbone=True)
    fresh = [c.with_frames(c.frames, landmarks=None) for c in clips]  # synthetic clips carry no landmarks
    specs = [
        ("identity", {}, {}, ref_identity, "reference = dlib's own descriptors of 16 frames"),
        ("identity", {"identity_stride": 4}, {"label": "identity (every 4th frame + apex)"}, ref_identity, "same reference"),
        ("temporal", {}, {}, ref_flow, "reference = 30 bare DIS flows (fw+bw) per clip"),
        ("temporal", {"occlusion": False}, {"label": "temporal, no occlusion check"}, ref_flow, "same reference (half the flows)"),
        ("temporal", {"lpips": lp}, {"label": "temporal + tLPIPS (alex)"}, ref_flow, "same reference"),
        ("perceptual", {"lpips": lp}, {"label": "perceptual SSIM+PSNR+LPIPS vs GT"}, None, "LPIPS alex (random trunk: same cost)"),
        ("motion", {}, {"clips": fresh, "label": "motion (MediaPipe tracking)"}, ref_mp, "reference = bare MediaPipe on 16 frames"),
        ("motion", {}, {"label": "motion (clip landmarks reused)"}, None, ""),
        ("expression", {}, {}, None, "MediaPipe at onset+apex, fer mini-Xception"),
        ("distribution", {}, {}, None, "onset→apex flow features, FD + CAS"),
    ]
    for family, kwargs, extra, ref, note in specs:
        data = extra.get("clips", clips)
        if family == "perceptual":  # pair every clip with itself as ground truth
            suite = EvalSuite(["perceptual"], progress=False, examples=0, **kwargs)
            suite.run(data[:1], data[:1])
            t = time.perf_counter()
            suite.run(data, data)
            value = len(data) / (time.perf_counter() - t)
        else:
            value = family_speed(family, data, **kwargs)
        rows.append({"name": extra.get("label", family) + f", {FRAMES}×128²", "value": value, "unit": "clips/s",
                     "target": TARGETS.get(family) if not kwargs else None, "reference": ref,
                     "note": note + (f"; target {TARGETS[family]:g} clips/s" if family in TARGETS and not kwargs else "")})

    # the default families together, as `mexkit eval` runs them: one process, then one worker per core
    from mexkit.eval.workers import default_workers

    together = [c.with_frames(c.frames, landmarks=None) for c in corpus_clips(args.together_clips)]  # synthetic: no landmarks, MediaPipe runs
    ref_together = 1.0 / (1.0 / ref_identity + 1.0 / ref_flow + 1.0 / ref_mp)
    for workers in sorted({1, default_workers()}):
        suite = EvalSuite(DEFAULT_FAMILIES, progress=False, examples=0, workers=workers)
        t = time.perf_counter()
        res = suite.run(together, together[:2])
        value = (len(together) + 2) / (time.perf_counter() - t)
        fam_time = res.timings.set_index(["family", "set"])["seconds"].groupby("family").sum()
        rows.append({"name": f"default families together, {workers} worker(s), {FRAMES}×128²", "value": value, "unit": "clips/s",
                     "target": TARGET_DEFAULT if workers > 1 else None, "reference": ref_together,
                     "note": "reference = bare dlib + 30 DIS flows + MediaPipe on 16 frames, one after the other; includes worker start-up; "
                             "family seconds " + ", ".join(f"{f} {v:.1f}" for f, v in fam_time.items() if not f.startswith("all"))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    quick = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
    ap.add_argument("--clips", type=int, default=4 if quick else 14, help="clips per family (default 14; 4 with MEXKIT_BENCH_QUICK=1)")
    ap.add_argument("--together-clips", type=int, default=8 if quick else 80,
                    help="clips of the default-families-together rows (default 80, enough to repay worker start-up; 8 quick)")
    ap.add_argument("--memory-clips", type=int, default=None,
                    help="clips of the memory run (default 200; 60 quick; the dataset-scale check is --memory-clips 10000)")
    ap.add_argument("--memory-only", action="store_true", help="only the memory run (with --memory-clips)")
    args = ap.parse_args()
    n_mem = args.memory_clips or (60 if quick else 200)
    torch.set_num_threads(1)
    load_start = os.getloadavg()[0]
    probe = cpu_probe(threads=1)
    clips = corpus_clips(args.clips)
    rows = [{"name": "cpu matmul fp32 2048² (1 thread)", "value": probe["matmul_gflops"], "unit": "GFLOP/s", "note": "in-run CPU reference"},
            {"name": "machine load average at start (1 min)", "value": load_start, "unit": "procs", "note": f"{os.cpu_count()} cores"}]

    if not args.memory_only:
        rows += speed_rows(args, clips)

    # memory: RSS growth from 20 to n_mem clips through a lazily loaded set (temporal + motion + distribution)
    suite = EvalSuite(["temporal", "motion", "distribution"], progress=False, examples=2)
    suite.run(lazy_set(20, clips), clips[:4])
    before, peak_before = rss_mb(), peak_rss_mb()
    suite.run(lazy_set(n_mem, clips), clips[:4])
    growth, peak_growth = rss_mb() - before, peak_rss_mb() - peak_before
    rows.append({"name": f"RSS growth, 20 → {n_mem} clips (lazy set)", "value": growth, "unit": "MB", "target": 100.0,
                 "note": "memory flat in clip count (target < 100 MB at 10,000 clips: --memory-clips 10000); only per-clip rows, curves and features are kept"})
    rows.append({"name": f"peak RSS growth, 20 → {n_mem} clips (lazy set)", "value": peak_growth, "unit": "MB", "target": 100.0,
                 "note": "growth of the process's high-water mark over the same run"})
    load1, load5, _ = os.getloadavg()
    rows.append({"name": "machine load average (1 min / 5 min)", "value": load1, "unit": "procs",
                 "note": f"5-min {load5:.2f} on {os.cpu_count()} cores; figures above are for this load"})
    emit(rows)


if __name__ == "__main__":
    main()
