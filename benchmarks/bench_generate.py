"""`mexkit generate` end to end: the writer with the warp generator, 1,000 clips of 16 × 128².

    python benchmarks/bench_generate.py [--clips 1000] [--format png|mp4] [--out DIR]
    (MEXKIT_BENCH_QUICK=1: 120 clips)

Reports clips/s (target ≥ 20) and RSS at clip 100 and at the last clip (target: growth under 50 MB,
i.e. memory flat in the clip count), next to a reference measured in the same run: the I/O floor of
one clip (encode its 16 frames and write them, no generation, no manifest). Faces: the embedded
corpus (pre-aligned), each animated clips/12 times, as `mexkit generate --faces corpus` does.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from bench_warp import peak_rss_mb, rss_mb, timed
from common import emit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=1000)
    parser.add_argument("--format", choices=["png", "mp4"], default="png")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary folder, removed)")
    args = parser.parse_args()
    if os.environ.get("MEXKIT_BENCH_QUICK") == "1":
        args.clips = min(args.clips, 120)
    cv2.setNumThreads(1)

    from mexkit.synth.warp.generator import WarpGenerator
    from mexkit.synth.writer import DatasetWriter, faces_from_corpus, plan_jobs
    from mexkit.video_io import write_frames, write_video

    tmp = Path(tempfile.mkdtemp(prefix="mexkit-bench-generate-"))
    out = args.out or tmp / "synth"
    try:
        sources = faces_from_corpus()
        per_face = -(-args.clips // len(sources))
        gen = WarpGenerator()
        jobs = plan_jobs(gen, sources, classes=["positive", "negative", "surprise"], intensity=(0.2, 0.6), per_face=per_face,
                         seed=0).jobs[: args.clips]

        # reference: the I/O floor of one clip
        frames = np.repeat(cv2.resize(sources[0].face.crop, (128, 128))[None], 16, 0)
        frames[:, ::7] //= 2  # not all identical rows, so PNG has something to compress
        k = iter(range(10**6))
        if args.format == "png":
            floor = timed(lambda: write_frames(tmp / f"floor{next(k)}", frames), 20)
        else:
            floor = timed(lambda: write_video(tmp / f"floor{next(k)}.mp4", frames, 40), 20)

        writer = DatasetWriter(gen, out, args.format)
        marks: dict[int, float] = {}
        write = writer.write_sample
        count = 0

        def write_and_measure(job):
            nonlocal count
            row = write(job)
            count += 1
            if count in (1, 100, 500, args.clips):
                marks[count] = rss_mb()
            return row

        writer.write_sample = write_and_measure
        t = time.perf_counter()
        res = writer.run(jobs, progress=False)
        elapsed = time.perf_counter() - t
        assert res["written"] == args.clips, res
        rate = args.clips / elapsed
        growth = marks[args.clips] - marks[min(100, args.clips)]
        print(f"{'benchmark':<58}  {'value':>8}  unit     note")
        print(f"{'I/O floor: write one clip of 16×128² (' + args.format + ')':<58}  {1 / floor:8.1f}  clips/s  reference")
        print(f"{'mexkit generate, warp, ' + str(args.clips) + ' clips of 16×128² (' + args.format + ')':<58}  {rate:8.1f}  clips/s  "
              f"target ≥ 20; {rate * floor:.2f}× I/O floor")
        print(f"{'RSS growth from clip 100 to clip ' + str(args.clips):<58}  {growth:8.1f}  MB       target < 50")
        print("RSS at clips " + ", ".join(f"{n}: {v:.0f} MB" for n, v in sorted(marks.items())) + f"; peak RSS {peak_rss_mb():.0f} MB")
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
        print(f"output: {size:.0f} MiB in {out}")
        emit([{"name": f"generate: I/O floor, one clip of 16×128² ({args.format})", "value": 1 / floor, "unit": "clips/s",
               "note": "in-run reference: encode + write 16 frames, no generation"},
              {"name": f"generate: warp, {args.clips} clips of 16×128² ({args.format})", "value": rate, "unit": "clips/s",
               "target": 20.0, "reference": 1 / floor, "note": "reference = I/O floor; target ≥ 20"},
              {"name": f"generate: RSS growth, clip {min(100, args.clips)} → {args.clips}", "value": growth, "unit": "MB",
               "target": 50.0, "note": f"target < 50 (memory flat); peak RSS {peak_rss_mb():.0f} MB"}])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
