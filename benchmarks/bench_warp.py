"""Warp baseline and motion transfer speed (docs/targets.md), with references measured in the same run.

    python benchmarks/bench_warp.py [--clips 1000] [--threads 2]     (MEXKIT_BENCH_QUICK=1: 100 clips)

Rows: the CPU's fp32 matmul / conv throughput (probes), the remap floor (16 cv2.remap of a 128² RGB
crop: the least work any warp-based generator does per clip), the warp generator in memory after
landmarks (target ≥ 200 clips/s), the warp generator including the MediaPipe landmark pass on a
512² photo (target ≥ 30 clips/s), and motion transfer with cached driving landmarks (target ≥ 50
frames/s; FOMM reference measured here: 5.0 frames/s at 128²). Peak RSS at the end.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn, repeat: int, warmup: int = 2) -> float:
    """Median seconds per call over `repeat` calls (after warm-up)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def probes() -> dict[str, float]:
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    mm = 2 * 2048**3 / timed(lambda: a @ b, 5) / 1e9
    conv = torch.nn.Conv2d(64, 64, 3, padding=1).eval()
    x = torch.randn(8, 64, 64, 64)
    with torch.no_grad():
        cv = 2 * 64 * 64 * 9 * 64 * 64 * 8 / timed(lambda: conv(x), 5) / 1e9
    return {"matmul_gflops": mm, "conv_gflops": cv}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1000, help="clips for the in-memory warp measurement")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if os.environ.get("MEXKIT_BENCH_QUICK") == "1":
        args.clips = min(args.clips, 100)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)

    from mexkit.datasets import load_corpus
    from mexkit.datasets.corpus import MEDIA_DIR
    from mexkit.face import FacePipeline
    from mexkit.synth import Condition, prepare_face
    from mexkit.synth.motion_transfer.generator import MotionTransferGenerator
    from mexkit.synth.warp.generator import WarpGenerator, resize_face
    from mexkit.video_io import read_image

    corpus = load_corpus()
    faces = [resize_face(f, 128) for f in corpus.faces]
    rows: list[tuple[str, float, str, str]] = []
    p = probes()
    rows.append(("matmul 2048² fp32 (probe)", p["matmul_gflops"], "GFLOP/s", "peer 151"))
    rows.append(("conv 3×3 64ch fp32 (probe)", p["conv_gflops"], "GFLOP/s", "peer 139"))

    crop = faces[0].crop
    gx, gy = np.meshgrid(np.arange(128, dtype=np.float32), np.arange(128, dtype=np.float32))
    mx, my = gx + 0.3, gy - 0.2
    floor = timed(lambda: [cv2.remap(crop, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for _ in range(16)], 50)
    rows.append(("remap floor: 16 × cv2.remap 128² (clips/s)", 1 / floor, "clips/s", "reference"))

    gen = WarpGenerator(resolution=128)
    classes = ["positive", "negative", "surprise"]
    conds = [Condition(label=classes[i % 3], intensity=0.2 + 0.4 * (i % 7) / 6, duration_ms=400, fps=40) for i in range(21)]
    for i in range(20):  # warm-up
        gen.generate(faces[i % len(faces)], conds[i % len(conds)], generator=i)
    rss0 = rss_mb()
    t = time.perf_counter()
    per_face = 5  # the writer animates each face several times in a row (spline system cached per face)
    for i in range(args.clips):
        out = gen.generate(faces[(i // per_face) % len(faces)], conds[i % len(conds)], generator=i)
        assert out.clip.frames.shape == (16, 128, 128, 3)
    warp_rate = args.clips / (time.perf_counter() - t)
    rows.append((f"warp generator, 16×128², after landmarks ({args.clips} clips)", warp_rate, "clips/s",
                 f"target ≥ 200; {warp_rate * floor:.2f}× remap floor"))
    rss1 = rss_mb()

    pipe = FacePipeline("mediapipe", resolution=128)
    photos = [read_image(MEDIA_DIR / n) for n in ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg")]
    prepare_face(photos[0], 128, pipe)
    n_lm = 60
    t = time.perf_counter()
    for i in range(n_lm):
        face = prepare_face(photos[i % 4], 128, pipe)
        gen.generate(face, conds[i % len(conds)], generator=i)
    rows.append(("warp generator incl. MediaPipe landmarks on 512² photos", n_lm / (time.perf_counter() - t), "clips/s", "target ≥ 30"))

    smile = next(c for c in corpus.clips if c.sample_id == "single_face_0015")
    mt = MotionTransferGenerator(smile.landmarks, fps=smile.fps, resolution=128)  # driving landmarks from the cache
    cond = mt.default_condition(label="positive")
    frames = 0
    t = time.perf_counter()
    for i in range(40):
        frames += mt.generate(faces[i % len(faces)], cond).clip.num_frames
    rows.append(("motion transfer 128², batch 1, cached driving landmarks", frames / (time.perf_counter() - t), "frames/s",
                 "target ≥ 50; FOMM 5.0 here"))

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'value':>9}  unit      note")
    for name, value, unit, note in rows:
        print(f"{name:<{width}}  {value:9.1f}  {unit:<8}  {note}")
    print(f"RSS during {args.clips} in-memory clips: {rss0:.0f} → {rss1:.0f} MB; peak RSS {peak_rss_mb():.0f} MB")
    refs = {"remap floor": 1 / floor}  # the in-run reference of every warp clips/s row
    emit([{"name": f"warp: {name}", "value": float(value), "unit": unit,
           "target": float(m.group(1)) if (m := re.search(r"target ≥ ([\d.]+)", note)) else None,
           "reference": refs["remap floor"] if unit == "clips/s" and "remap floor" not in name else None,
           "note": note + ("; reference = remap floor" if unit == "clips/s" and "remap floor" not in name else "")}
          for name, value, unit, note in rows]
         + [{"name": f"warp: RSS growth over {args.clips} in-memory clips", "value": rss1 - rss0, "unit": "MB",
             "note": f"peak RSS {peak_rss_mb():.0f} MB"}])


if __name__ == "__main__":
    main()
