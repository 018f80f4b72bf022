"""spot_video end to end on real corpus video, the blendshape spotter on hand-made signals, gaps never
spanned, VFR timestamps recorded, frame folders, and `mexkit spot` reusing a finished video on rerun."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pandas as pd
import pytest

from mexkit.cli import main
from mexkit.datasets.manifest_columns import SPOT_PRED_COLUMNS
from mexkit.recog.spotting.blendshape_spotter import BlendshapeSpotter, hysteresis_runs, running_baseline
from mexkit.recog.spotting.spot_video import spot_stream, spot_video
from mexkit.recog.spotting.spotter import make_spotter
from mexkit.video_stream import VideoStream

MEDIA = Path(__file__).resolve().parents[2] / "datasets" / "corpus" / "media"


def test_hysteresis_runs_by_hand():
    a = np.array([0, .06, .2, .06, 0, 0, .12, .03, .12, 0, .3, 0])
    # runs above on=.1: 2, 6, 8, 10; widened while > off=.05: (1..3); 6, 8 and 10 are one frame apart -> joined (merge=1)
    assert hysteresis_runs(a, on=.1, off=.05, merge=1, min_len=1) == [(1, 3), (6, 10)]
    assert hysteresis_runs(a, on=.1, off=.05, merge=0, min_len=1) == [(1, 3), (6, 6), (8, 8), (10, 10)]
    assert hysteresis_runs(a, on=.1, off=.05, merge=0, min_len=2) == [(1, 3)]


def test_running_baseline_ignores_a_short_rise():
    x = np.full((300, 1), 0.05)
    x[100:110] = 0.6
    base = running_baseline(x, block=15, window_blocks=12)
    assert np.allclose(base, 0.05)


def test_blendshape_spotter_types_by_duration_and_stays_quiet_without_expression(blendshape_signals):
    sp = BlendshapeSpotter(30)
    found = sp.find(blendshape_signals(600, [("bs_browInnerUp", (100, 110, 0.4)), ("bs_mouthSmileLeft", (300, 324, 0.5))]))
    assert [(i.onset, i.offset, i.type) for i in found] == [(100, 109, "ME"), (300, 323, "MaE")]  # 10 / 24 frames
    assert found[0].score == pytest.approx(0.36) and found[1].score == pytest.approx(0.46)
    assert sp.find(blendshape_signals(600, [])) == []  # an absolute level: no expression, no interval


def _write(path: Path, frames, times_ms=None, fps=30) -> Path:
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=fps, options={"crf": "12"})
        st.height, st.width = frames[0].shape[:2]
        st.pix_fmt = "yuv420p"
        if times_ms is not None:
            st.codec_context.time_base = Fraction(1, 1000)
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            if times_ms is not None:
                vf.pts, vf.time_base = times_ms[i], Fraction(1, 1000)
            for p in st.encode(vf):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


@pytest.fixture(scope="module")
def corpus_frames():
    return [f.image for f in VideoStream(MEDIA / "single_face.mp4")]


def test_spot_video_columns_gaps_and_no_interval_across_a_gap(tmp_path, corpus_frames):
    blank = np.full_like(corpus_frames[0], 100)
    # the smile of single_face.mp4 cut by 20 frames without a face
    video = _write(tmp_path / "cut.mp4", corpus_frames[:30] + [blank] * 20 + corpus_frames[30:])
    results = spot_stream(VideoStream(video), [make_spotter(n, 30) for n in ("blendshapes", "mdmd", "roi-flow")], progress=False)
    for res in results:
        assert list(res.intervals.columns) == [*SPOT_PRED_COLUMNS, "face_id"]
        assert res.gaps[["after_frame", "before_frame", "reason"]].values.tolist() == [[29, 50, "no face"]]
        assert not ((res.intervals["onset"] <= 29) & (res.intervals["offset"] >= 50)).any()
        assert not res.intervals["onset"].between(30, 49).any() and not res.intervals["offset"].between(30, 49).any()
        assert set(res.signals["frame"]) == set(range(30)) | set(range(50, 92))
        assert res.info["k_me_frames" if "k_me_frames" in res.info else "min_frames"] >= 1
    bs = results[0]
    assert bs.signals["segment"].tolist() == [0] * 30 + [1] * 42
    # the smile (mouthSmile rises from frame ~17 on) is found in the first segment
    assert ((bs.intervals["onset"] < 30) & (bs.intervals["offset"] >= 17)).any()


def test_variable_frame_rate_times_come_from_the_timestamps(tmp_path, corpus_frames):
    times = [int(i * 1000 / 30) if i < 36 else int(36 * 1000 / 30 + (i - 36) * 1000 / 15) for i in range(72)]
    video = _write(tmp_path / "vfr.mp4", corpus_frames, times_ms=times)
    res = spot_video(video, "blendshapes", progress=False)
    assert res.info["variable_frame_rate"] and res.info["time_source"] == "timestamps"
    np.testing.assert_allclose(res.signals["time_s"].to_numpy(), np.array(times) / 1000, atol=1e-6)


def test_frame_folder_needs_fps_and_uses_index_over_fps(tmp_path, corpus_frames):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(corpus_frames[:20]):
        cv2.imwrite(str(folder / f"img{i + 1}.jpg"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    res = spot_video(folder, "blendshapes", fps=200, progress=False)
    assert res.info["fps"] == 200 and res.info["time_source"] == "index / fps" and res.info["video"] == "frames"
    assert res.signals["time_s"].tolist() == [i / 200 for i in range(20)]


def test_cli_rerun_reuses_a_finished_video(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["spot", str(MEDIA / "single_face.mp4"), "--out", str(out), "--spotter", "blendshapes"]) == 0
    info = out / "videos" / "single_face" / "info.json"
    first = (info.stat().st_mtime_ns, (out / "intervals.csv").read_text())
    assert main(["spot", str(MEDIA / "single_face.mp4"), "--out", str(out), "--spotter", "blendshapes"]) == 0
    assert (info.stat().st_mtime_ns, (out / "intervals.csv").read_text()) == first
    signals = pd.read_parquet(out / "signals.parquet")
    assert len(signals) == 72 and set(signals["video"]) == {"single_face"}
    # another spotter is another request: recomputed
    assert main(["spot", str(MEDIA / "single_face.mp4"), "--out", str(out), "--spotter", "roi-flow"]) == 0
    assert info.stat().st_mtime_ns != first[0]
