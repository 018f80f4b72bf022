"""`mexkit insert` throughput (synth/insert/) beside the video I/O floor, in the same run.

    python benchmarks/bench_insert.py [--threads 1] [--video PATH]   (MEXKIT_BENCH_QUICK=1: single_face.mp4, 72 frames)

Rows (frames of the input per second of wall time):
- insertion, the whole of `insert_videos` on one video (3 events, warp; pass 1 face tracking over every
  frame, pass 2 alignment of the candidate windows, pass 3 render + FFV1 + H.264 preview), beside
  decode + encode alone (VideoStream → VideoWriter FFV1 and H.264, the least any insertion does);
- pass 1 alone (the face tracker with blendshapes over every frame), beside the same floor.
Default video: the corpus webcam clip cap13_edit2.mp4 (765 frames, 400×300, 25 fps).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit  # noqa: E402

QUICK = os.environ.get("MEXKIT_BENCH_QUICK") == "1"


def io_floor(video: Path, out: Path) -> float:
    from mexkit.video_stream import VideoStream
    from mexkit.video_writer import VideoWriter

    stream = VideoStream(video)
    t = time.perf_counter()
    with VideoWriter(out / "floor.mkv", stream.fps) as raw, VideoWriter(out / "floor.mp4", stream.fps) as small:
        for frame in stream:
            raw.write(frame.image, frame.time_s)
            small.write(frame.image, frame.time_s)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--video", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from mexkit.datasets.corpus import MEDIA_DIR, WEBCAM_DIR
    from mexkit.synth import load_generator
    from mexkit.synth.insert import InsertRequest, insert_videos, scan_video
    from mexkit.video_stream import VideoStream

    video = args.video or (MEDIA_DIR / "single_face.mp4" if QUICK else WEBCAM_DIR / "cap13_edit2.mp4")
    n = sum(1 for _ in VideoStream(video))
    gen = load_generator("warp")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t_floor = io_floor(video, tmp)
        t = time.perf_counter()
        scan_video(VideoStream(video))
        t_scan = time.perf_counter() - t
        t = time.perf_counter()
        counts = insert_videos([(video, "bench")], tmp / "run", gen, InsertRequest(count=3, seed=0, calm=False), progress=False)
        t_insert = time.perf_counter() - t
    emit([
        {"name": f"insertion, {video.name} ({n} frames, {counts['events']} events)", "value": n / t_insert, "unit": "frames/s",
         "reference": n / t_floor, "note": "whole insert_videos (scan + check + render/encode); reference: decode + FFV1 + H.264 alone"},
        {"name": "insertion pass 1 (face tracker + blendshapes)", "value": n / t_scan, "unit": "frames/s", "reference": n / t_floor,
         "note": "reference: decode + FFV1 + H.264 alone"},
    ])


if __name__ == "__main__":
    main()
