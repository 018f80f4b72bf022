"""Memory flat in a video's length (issue 26): `mexkit align` streams a video frame by frame and `mexkit eval`
scores a long video in bounded windows, so the peak RSS of a run on a video ten times longer grows by far less
than the longer video's decoded frames would take. Each run is a fresh interpreter reporting its own peak RSS."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from mexkit.video_io import iter_video, video_info

MEDIA = Path(__file__).resolve().parents[1] / "datasets" / "corpus" / "media"

# Runs `main(short)` then `main(long)` in one interpreter and prints the peak RSS (MiB) after each: the growth
# is what the longer video adds (the models and imports of the first run are already counted).
PEAKS = """
import json, resource, sys
{setup}
from mexkit.cli import main
for argv in json.loads(sys.argv[1]):
    assert main(argv) == 0, argv
    print("PEAK_MIB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def concatenated(out: Path, times: int, size: tuple[int, int] | None = None) -> Path:
    """single_face.mp4 (72 frames, 640×360) `times` times over, optionally resized to size (w, h), written frame by frame."""
    fps = video_info(MEDIA / "single_face.mp4")["fps"]
    frames = list(iter_video(MEDIA / "single_face.mp4"))
    w, h = size or (frames[0].shape[1], frames[0].shape[0])
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for _ in range(times):
        for f in frames:
            writer.write(cv2.cvtColor(cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) if size else f, cv2.COLOR_RGB2BGR))
    writer.release()
    return out


def peaks(runs: list[list[str]], setup: str = "") -> list[float]:
    proc = subprocess.run([sys.executable, "-c", PEAKS.format(setup=setup), json.dumps(runs)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("PEAK_MIB ")]


def test_align_memory_is_flat_in_the_video_length(tmp_path):
    short = concatenated(tmp_path / "short.mp4", 1)
    long = concatenated(tmp_path / "long.mp4", 10)  # 720 frames: 498 MB decoded
    decoded_extra = 9 * 72 * 640 * 360 * 3 / 2**20
    p_short, p_long = peaks([["align", str(short), "--out", str(tmp_path / "a"), "--resolution", "64"],
                             ["align", str(long), "--out", str(tmp_path / "b"), "--resolution", "64"]])
    assert len(list((tmp_path / "b" / "long").glob("*.png"))) == 720
    assert p_long - p_short < 100 < decoded_extra / 4, (p_short, p_long)


def test_eval_memory_is_flat_in_the_video_length(tmp_path):
    """With windows of 72 frames (a 320×180 copy and the distribution family, so the test is quick), the 720-frame
    video is ten windows; read whole, the same run grows by ~200 MB here."""
    import pandas as pd

    short = concatenated(tmp_path / "short.mp4", 1, (320, 180))
    long = concatenated(tmp_path / "long.mp4", 10, (320, 180))
    run = ["eval", "--families", "distribution", "--real", str(short), "--workers", "1", "--no-progress", "--examples", "0"]
    p_short, p_long = peaks([[*run, "--fake", str(short), "--report", str(tmp_path / "s" / "r.html")],
                             [*run, "--fake", str(long), "--report", str(tmp_path / "l" / "r.html")]],
                            setup="import mexkit.eval.clip_sets as c; c.WINDOW_PIXELS = 72 * 320 * 180")
    timings = pd.read_csv(tmp_path / "l" / "r_csv" / "timings.csv")
    assert timings.query("family == 'distribution' and set == 'fake'")["clips"].tolist() == [10]  # every window scored
    assert p_long - p_short < 60, (p_short, p_long)


def test_a_long_video_is_read_in_windows_and_a_long_manifest_clip_is_rejected(tmp_path, monkeypatch):
    from mexkit.eval import clip_sets
    from mexkit.eval.clip_sets import open_clip_set

    long = concatenated(tmp_path / "long.mp4", 3, (160, 90))  # 216 frames
    monkeypatch.setattr(clip_sets, "WINDOW_PIXELS", 54 * 160 * 90)
    cs = open_clip_set(long)
    assert list(cs.records["sample_id"]) == ["long@0-53", "long@54-107", "long@108-161", "long@162-215"]
    frames = list(iter_video(long))
    clips = list(cs)
    assert [c.num_frames for c in clips] == [54, 54, 54, 54] and not len(cs.rejects)
    assert np.array_equal(clips[1].frames[0], frames[54]) and np.array_equal(clips[-1].frames[-1], frames[-1])
    # a manifest row is an annotated clip: not cut, but refused before it is decoded when it is too long
    monkeypatch.setattr(clip_sets, "MAX_CLIP_PIXELS", 100 * 160 * 90)
    (tmp_path / "m.csv").write_text("sample_id,path,fps\nlong,long.mp4,30\n")
    refused = open_clip_set(tmp_path / "m.csv")
    assert list(refused) == [] and len(refused.rejects) == 1
    assert refused.rejects.rows[0]["file"] == str(long) and "216 frames at 160×90 is too long" in refused.rejects.rows[0]["reason"]
