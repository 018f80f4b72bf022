"""`mexkit detect`'s recognition overhead beyond spotting (docs/targets.md, docs/design.md §8).

    python benchmarks/bench_detect.py          # MEXKIT_BENCH_QUICK=1: the 72-frame corpus video only

In one run, on the same videos: spotting alone (`spot_video`, default spotter) — the in-run reference — and
`detect_video` (the same spotting pass + the second streaming pass that cuts and aligns each interval +
the kept recognizer + the report's magnified GIFs). Rows: seconds per video minute for both, the ratio
detect / spot (target ≤ 1.5: naming what was found costs at most half again the spotting), and the
overhead per spotted interval. Videos: WolfgangLanger_Pexels.mp4 (472 frames, varied expressions) and the
webcam clip cap13_edit2.mp4 (765 frames, a man talking); quick: single_face.mp4. The recognizer is
`mexkit-demo` when shipped, else one fitted here on the labelled warps of real corpus faces (stated in the note).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import emit  # noqa: E402

QUICK = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "datasets" / "corpus" / "media"
WEBCAM = ROOT / "datasets" / "corpus" / "webcam"
TARGET_RATIO = 1.5
REPEAT = 1 if QUICK else 2


def recognizer():
    """mexkit-demo when shipped, else a flow + LDA recognizer fitted on the corpus's labelled warps → (model, note)."""
    from mexkit.recog.kept import load_recognizer, pretrained_names

    if "mexkit-demo" in pretrained_names():
        return load_recognizer("mexkit-demo"), "mexkit-demo"
    from mexkit.datasets import load_corpus
    from mexkit.recog.flow_lda import FlowLDA
    from mexkit.recog.kept import fit_kept
    from mexkit.recog.parametric_set import parametric_clips
    from mexkit.recog.samples import SampleSet

    clips = parametric_clips(load_corpus().faces, num_subjects=6, counts={"negative": 8, "positive": 8, "surprise": 8}, size=64,
                             num_frames=7, noise_px=0.3, head_px=0.3, intensity=(0.5, 1.0), seed=3)
    return fit_kept(SampleSet.from_clips(clips), FlowLDA(), {"kind": "flow_strain", "size": 8, "method": "dis"}), \
        "stand-in recognizer (flow + LDA on corpus warps; mexkit-demo not shipped)"


def main() -> None:
    import torch

    from mexkit.recog.spotting.detect import detect_video
    from mexkit.recog.spotting.spot_video import spot_video

    torch.set_num_threads(1)
    videos = [MEDIA / "single_face.mp4"] if QUICK else [MEDIA / "WolfgangLanger_Pexels.mp4", WEBCAM / "cap13_edit2.mp4"]
    rec, rec_note = recognizer()
    spot_video(videos[0], progress=False)  # warm-up: model files, landmarker start-up
    rows = []
    t_spot = t_detect = minutes = 0.0
    n_iv = 0
    for v in videos:
        ts = td = float("inf")
        for _ in range(REPEAT):  # interleaved, best of REPEAT: other load on the machine hits both alike
            t = time.perf_counter()
            spot_video(v, progress=False)
            ts = min(ts, time.perf_counter() - t)
            t = time.perf_counter()
            res = detect_video(v, rec, progress=False)
            td = min(td, time.perf_counter() - t)
        m = res.info["duration_s"] / 60.0
        rows.append({"name": f"detect / spot, {v.name}", "value": td / m, "unit": "s/video-min", "reference": ts / m,
                     "target": None, "note": f"{len(res.intervals)} intervals; spot {ts:.1f} s, detect {td:.1f} s"})
        t_spot, t_detect, minutes, n_iv = t_spot + ts, t_detect + td, minutes + m, n_iv + len(res.intervals)
    rows.append({"name": "detect / spot, all videos", "value": t_detect / minutes, "unit": "s/video-min", "reference": t_spot / minutes,
                 "target": TARGET_RATIO * t_spot / minutes, "note": f"target: ratio ≤ {TARGET_RATIO}; {rec_note}"})
    rows.append({"name": "recognition overhead per interval", "value": (t_detect - t_spot) / max(n_iv, 1), "unit": "s/interval",
                 "note": f"{n_iv} intervals: cut + align + features + recognizer + GIFs"})
    emit(rows)


if __name__ == "__main__":
    main()
