"""Face pipeline speed: detect + landmarks + align + crop, frames per second, per backend.

    python benchmarks/bench_face_pipeline.py

Input: the corpus's 640×360 real video (single_face.mp4, 72 frames). Each frame is detected, landmarked,
aligned and cropped at 128 px, as `mexkit align` does for images. The in-run reference is the bare
backend call (detect + landmarks only) on the same frames, so the ratio shows what alignment adds;
targets from docs/targets.md (MediaPipe ≥ 30 fps, dlib ≥ 4 fps).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import cpu_probe, emit  # noqa: E402

from mexkit.datasets.corpus import MEDIA_DIR  # noqa: E402
from mexkit.face import FacePipeline  # noqa: E402
from mexkit.video_io import read_video  # noqa: E402

TARGETS = {"mediapipe": 30.0, "dlib": 4.0}


def main() -> None:
    frames, _ = read_video(MEDIA_DIR / "single_face.mp4")
    probe = cpu_probe()
    rows = [{"name": "cpu matmul fp32 2048²", "value": probe["matmul_gflops"], "unit": "GFLOP/s", "note": "in-run CPU reference"}]
    for backend, target in TARGETS.items():
        pipe = FacePipeline(backend, resolution=128)
        pipe.align_image(frames[0])  # warm-up
        t = time.perf_counter()
        for f in frames:
            pipe.backend.detect(f)
        bare = len(frames) / (time.perf_counter() - t)
        t = time.perf_counter()
        for f in frames:
            pipe.align_image(f)
        fps = len(frames) / (time.perf_counter() - t)
        rows.append({"name": f"face pipeline {backend} 640×360", "value": fps, "unit": "frames/s", "target": target,
                     "reference": bare, "note": f"reference = bare {backend} detect+landmarks; target {target:g} fps"})
    emit(rows)


if __name__ == "__main__":
    main()
