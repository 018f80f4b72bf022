"""Benchmark: `mexkit prepare` (align on onset + crop all frames + onset→apex flow + optical strain)
on 200-fps-like clips, with DIS and TV-L1 flow, and the cache's read throughput.

Run: python benchmarks/bench_prepare.py [--clips 12] [--frames 60] [--resolution 128] [--workers 2]
     (MEXKIT_BENCH_QUICK=1: 4 clips of 30 frames, TV-L1 on 2)

The clips are made from the corpus video single_face.mp4 (real face, 640×360, 30 fps) by blending
neighbouring frames to 200 fps, so each clip has the length and the small frame-to-frame motion of a
micro-expression recording (60 frames = 0.3 s). Machines are noisy: every figure is printed next to a
reference measured in the same run — a bare cv2 DIS / TV-L1 call on the same aligned 128² onset/apex
pair, a bare face-detection call, and a plain sequential read of the same bytes — and the
docs/targets.md figure for orientation. The end-to-end runs read the clips from JPEG frame folders
with a manifest, as `mexkit prepare` does on a released dataset.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

import cv2
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit  # noqa: E402

from mexkit.clip import Clip
from mexkit.datasets.clip_source import MemoryClipSource, sources_from_manifest
from mexkit.datasets.preprocess_cache import PrepareConfig, PreprocessCache, compute_item
from mexkit.face import FacePipeline
from mexkit.optical_flow import compute_flow, optical_strain, resolve_method
from mexkit.video_io import read_video, write_frames

MEDIA = Path(__file__).resolve().parents[1] / "datasets" / "corpus" / "media"


def make_clips(n: int, frames: int) -> list[Clip]:
    """n clips of `frames` frames at 200 fps, each blended from a different stretch of the 30-fps video."""
    video, fps = read_video(MEDIA / "single_face.mp4")
    step = fps / 200.0  # source frames per output frame
    clips = []
    for k in range(n):
        start = (3 * k) % max(1, len(video) - int(frames * step) - 2)
        t = start + step * np.arange(frames)
        i0 = np.floor(t).astype(int)
        w = (t - i0)[:, None, None, None]
        seq = ((1 - w) * video[i0] + w * video[np.minimum(i0 + 1, len(video) - 1)]).round().astype(np.uint8)
        clips.append(Clip(frames=seq, fps=200.0, sample_id=f"bench_{k:03d}", subject="corpus_man", onset=0,
                          apex=int(frames * 2 / 3), offset=frames - 1, source="single_face.mp4"))
    return clips


def write_dataset(clips: list[Clip], root: Path) -> pd.DataFrame:
    """The clips as JPEG frame folders under root plus their manifest (what an adapter would give)."""
    rows = []
    for c in clips:
        write_frames(root / c.sample_id, c.frames, ext="jpg")
        rows.append({**c.record(), "path": c.sample_id})
    return pd.DataFrame(rows)


def timeit(fn, repeat: int) -> float:
    """Median seconds of fn() over `repeat` runs (one warm-up)."""
    fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=12)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--resolution", type=int, default=128, choices=[64, 128, 256])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tvl1-clips", type=int, default=6, help="clips for the (slow) TV-L1 runs")
    args = ap.parse_args()
    if os.environ.get("MEXKIT_BENCH_QUICK") == "1":
        args.clips, args.frames, args.tvl1_clips = min(args.clips, 4), min(args.frames, 30), min(args.tvl1_clips, 2)
    args.size = args.resolution
    cv2.setNumThreads(1)
    clips = make_clips(args.clips, args.frames)
    h, w = clips[0].frames.shape[1:3]
    print(f"{args.clips} clips × {args.frames} frames of {w}×{h} at 200 fps, crops {args.size}², cv2 {cv2.__version__}, "
          f"TV-L1 {'available' if resolve_method('tvl1') == 'tvl1' else 'missing → DIS fallback'}; {os.cpu_count()} CPUs")

    # --- references measured now ---------------------------------------------------------
    pipe = FacePipeline("mediapipe", resolution=args.size)
    aligned = pipe.align_clip(clips[0], resolution=args.size)
    a, b = aligned.frames[aligned.onset], aligned.frames[aligned.apex]
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    ref_dis = timeit(lambda: dis.calc(ga, gb, None), 20)
    ref_tvl1 = timeit(lambda: cv2.optflow.DualTVL1OpticalFlow_create().calc(ga, gb, None), 3) if resolve_method("tvl1") == "tvl1" else float("nan")
    ref_detect = timeit(lambda: pipe.detect(clips[0].frames[0]), 10)
    ref_warp = timeit(lambda: [cv2.warpAffine(f, aligned.affine, (args.size, args.size)) for f in clips[0].frames], 5)

    rows = []

    def row(name, value, unit, ref_name, ratio, target=""):
        rows.append((name, value, unit, ref_name, ratio, target))

    row("bare cv2 DIS, one aligned pair", 1000 * ref_dis, "ms", "", "", "peer 1.5 ms (docs/targets.md)")
    row("bare cv2 TV-L1, one aligned pair", 1000 * ref_tvl1, "ms", "", "", "peer 167 ms (docs/targets.md)")
    row("bare MediaPipe detect, one 640×360 frame", 1000 * ref_detect, "ms", "", "", "peer 17 ms at 512² (docs/targets.md)")
    row(f"bare warpAffine of {args.frames} frames", 1000 * ref_warp, "ms", "", "")

    t_hash = timeit(lambda: MemoryClipSource(clips[1]).content_hash(), 3)
    row(f"content hash of one in-memory clip ({clips[0].frames.nbytes / 1e6:.0f} MB, sha256)", 1000 * t_hash, "ms", "", "", "cache key; file sources hash the compressed files")

    # --- compute only (align + crop + flow + strain), in memory ----------------------------
    compute_rate = {}
    for method, n in (("dis", args.clips), ("tvl1", min(args.tvl1_clips, args.clips))):
        cfg = PrepareConfig(resolution=args.size, flow=method)
        compute_item(clips[0], cfg, pipe)
        t = time.perf_counter()
        for c in clips[:n]:
            compute_item(c, cfg, pipe)
        per = (time.perf_counter() - t) / n
        compute_rate[method] = 1 / per
        ref = ref_dis if method == "dis" else ref_tvl1
        floor = ref_detect + ref_warp + ref
        target = "≥ 25 clips/s" if method == "dis" else "≥ 5 clips/s"
        row(f"prepare compute, {resolve_method(method)} (in memory)", 1 / per, "clips/s", "bare detect+warp+flow", f"{floor / per:.2f}× of floor", target)

    # --- end to end through the cache (hash + compute + atomic .npy writes) -------------------
    tmp = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    try:
        manifest = write_dataset(clips, tmp / "data")
        sources = lambda m=manifest: sources_from_manifest(m, tmp / "data")  # noqa: E731  (fresh sources every run)
        rates = {}
        for workers in sorted({1, args.workers}):
            cache = PreprocessCache(tmp / f"dis_w{workers}", PrepareConfig(resolution=args.size, flow="dis"))
            rep = cache.prepare(sources(), workers=workers, progress=False)
            assert rep.computed == len(clips), rep.summary()
            rates[workers] = rate = rep.computed / rep.seconds
            used = rep.config["workers_used"]
            row(f"mexkit prepare, DIS, --workers {workers}, with cache writes", rate, "clips/s", "",
                f"{rate / compute_rate['dis']:.2f}× of compute only", "≥ 25 clips/s" + (f"; {used} process(es) used" if workers > 1 else ""))
        if args.workers > 1:
            row(f"--workers {args.workers} vs --workers 1", rates[args.workers] / rates[1], "×", "", "", "≥ 1 (never slower)")
        cache = PreprocessCache(tmp / "tvl1", PrepareConfig(resolution=args.size, flow="tvl1"))
        n_tv = min(args.tvl1_clips, args.clips)
        rep = cache.prepare(sources(manifest.iloc[:n_tv]), workers=1, progress=False)
        rate = rep.computed / rep.seconds
        row(f"mexkit prepare, {rep.config['flow_used']}, 1 worker, with cache writes", rate, "clips/s", "",
            f"{rate / compute_rate['tvl1']:.2f}× of compute only", "≥ 5 clips/s")
        rerun = PreprocessCache(tmp / "dis_w1", PrepareConfig(resolution=args.size, flow="dis")).prepare(sources(), progress=False)
        assert rerun.computed == 0
        row("rerun with everything cached (file signatures + skip)", len(clips) / rerun.seconds, "clips/s", "",
            "", "≥ 200 clips/s; no frame read, alignment, flow or writes")
        rehash = PreprocessCache(tmp / "dis_w1", PrepareConfig(resolution=args.size, flow="dis")).prepare(sources(), progress=False, rehash=True)
        row("rerun with everything cached, --rehash (sha256 of every frame file)", len(clips) / rehash.seconds, "clips/s", "", "", "")

        # --- read throughput ------------------------------------------------------------------
        reader = PreprocessCache(tmp / "dis_w1", PrepareConfig(resolution=args.size, flow="dis")).reader()
        files = [p for p in (tmp / "dis_w1" / "items").rglob("*.npy")]
        nbytes = sum(p.stat().st_size for p in files)

        def read_all():  # every array of every item, copied out of the memory maps
            n = 0
            for item in reader:
                for name in ("frames", "key_frames", "flow", "strain", "landmarks"):
                    n += np.array(item.array(name)).nbytes
            return n

        def read_raw():  # the same files read whole, no parsing
            return sum(len(np.fromfile(p, dtype=np.uint8)) for p in files)

        t_read = timeit(read_all, 3)
        t_raw = timeit(read_raw, 3)
        row("cache read, all arrays of every item (mmap → copy)", len(reader) / t_read, "clips/s", "np.fromfile of the same files",
            f"{t_raw / t_read:.2f}× raw read speed", f"{nbytes / t_read / 1e6:.0f} MB/s (raw {nbytes / t_raw / 1e6:.0f} MB/s)")
        t_stack_build = time.perf_counter()
        reader.stack("flow")
        t_stack_build = time.perf_counter() - t_stack_build
        t_stack = timeit(lambda: float(np.asarray(reader.stack("flow")).sum()), 5)
        row("stacked flow array (N, S, S, 2), mmap read", len(reader) / t_stack, "clips/s", "", "", f"built once in {t_stack_build * 1000:.0f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    load = os.getloadavg()[0]
    def target_of(text: str) -> float | None:  # "≥ 25 clips/s" → 25.0
        m = re.match(r"≥ ([\d.]+)", str(text))
        return float(m.group(1)) if m else None

    emit([{"name": f"prepare: {name}", "value": float(value), "unit": unit, "target": target_of(target),
           "note": "; ".join(x for x in (str(ratio or ref_name), str(target)) if x)} for name, value, unit, ref_name, ratio, target in rows]
         + [{"name": "prepare: load average during the run", "value": load, "unit": f"on {os.cpu_count()} CPUs",
             "note": "other work on the machine slows every row alike"}])
    return 0


if __name__ == "__main__":
    sys.exit(main())
