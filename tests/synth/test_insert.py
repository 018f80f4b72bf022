"""`mexkit insert` (synth/insert/): micro-expressions inserted into real video, with ground truth.

Real inputs: the corpus video single_face.mp4 (72 frames, 640×360, 30 fps, neutral → smile) and
no_face.mp4; a variable-frame-rate copy of single_face made here with the project's own writer.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mexkit.datasets.manifest_columns import SPOT_TRUTH_COLUMNS
from mexkit.errors import MexkitInputError
from mexkit.face.expression_activity import CALM_ACTIVITY
from mexkit.synth import Condition, load_generator
from mexkit.synth.insert import (
    EVENT_COLUMNS, SEPARATION_S, FrameFace, InsertRequest, VideoScan, choose_windows, compose_frame, insert_videos, scan_video,
    window_frames, windows_at,
)
from mexkit.video_stream import VideoStream
from mexkit.video_writer import VideoWriter

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def frames_of(path):
    return [f.image for f in VideoStream(path)]


@pytest.fixture(scope="module")
def warp():
    return load_generator("warp")


@pytest.fixture(scope="module")
def inserted(tmp_path_factory, media, warp):
    out = tmp_path_factory.mktemp("insert") / "run"
    counts = insert_videos([(media / "single_face.mp4", "corpus_man")], out, warp,
                           InsertRequest(count=1, seed=0, calm=False, intensity=(0.7, 0.9)), progress=False)
    return out, counts


def test_the_video_keeps_its_frames_and_size_and_changes_only_inside_the_windows(inserted, media):
    out, counts = inserted
    assert counts["written"] == 1 and counts["events"] == 1
    truth = pd.read_csv(out / "truth.csv", keep_default_na=False)
    assert list(truth.columns) == SPOT_TRUTH_COLUMNS
    src, dst = frames_of(media / "single_face.mp4"), frames_of(out / "single_face.mkv")
    assert len(dst) == len(src) == 72 and dst[0].shape == src[0].shape
    inside = set()
    for r in truth.itertuples():
        assert r.onset < r.apex < r.offset and r.type == "ME" and r.generator == "warp" and r.train_subjects == "none"
        assert r.video == "single_face" and r.subject == "corpus_man" and r.dataset == "inserted"
        inside |= set(range(r.onset, r.offset + 1))
    for i, (a, b) in enumerate(zip(src, dst)):
        if i not in inside:
            assert np.array_equal(a, b), f"frame {i} outside every window changed"
    r = truth.iloc[0]
    assert np.abs(dst[r.apex].astype(np.int16) - src[r.apex]).mean() > 0.1  # the apex frame moved
    assert len(frames_of(out / "single_face.preview.mp4")) == 72


def test_events_record_provenance_and_timing(inserted, media):
    out, _ = inserted
    ev = pd.read_csv(out / "events.csv", keep_default_na=False)
    assert list(ev.columns) == EVENT_COLUMNS and len(ev) == 1
    e = ev.iloc[0]
    assert e.source == "corpus/media/single_face.mp4" and e.subject == "corpus_man" and e.generator == "warp"
    assert e.train_subjects == "none" and len(e.source_sha256) == 64 and not e.variable_frame_rate
    assert e.onset_s == pytest.approx(e.onset / 30.0, abs=1e-3) and e.offset_s == pytest.approx(e.offset / 30.0, abs=1e-3)
    videos = pd.read_csv(out / "videos.csv", keep_default_na=False)
    assert videos.iloc[0].frames == 72 and videos.iloc[0].events == 1


def test_a_rerun_skips_and_a_lost_commit_mark_redoes_the_same_bytes(inserted, media, warp, tmp_path):
    import shutil

    out, _ = inserted
    again = insert_videos([(media / "single_face.mp4", "corpus_man")], out, warp,
                          InsertRequest(count=1, seed=0, calm=False, intensity=(0.7, 0.9)), progress=False)
    assert again["skipped"] == 1 and again["written"] == 0
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "videos.csv").write_text((copy / "videos.csv").read_text().splitlines()[0] + "\n")  # killed before the mark
    redo = insert_videos([(media / "single_face.mp4", "corpus_man")], copy, warp,
                         InsertRequest(count=1, seed=0, calm=False, intensity=(0.7, 0.9)), progress=False)
    assert redo["written"] == 1
    for name in ("truth.csv", "events.csv", "videos.csv", "single_face.mkv"):
        assert (copy / name).read_bytes() == (out / name).read_bytes(), name
    with pytest.raises(MexkitInputError, match="other settings"):
        insert_videos([(media / "single_face.mp4", "corpus_man")], copy, warp, InsertRequest(count=2, seed=0), progress=False)


def test_the_micro_expression_rides_on_the_persons_own_motion(media, warp):
    """Head motion between frames is followed: the same event composed on a frame shifted by (7, 4) px, with its
    landmarks shifted alike, is the shifted composition — the synthetic flow is moved into each frame's face."""
    from mexkit.face import FacePipeline
    from mexkit.face.landmark_schemes import to68

    image = next(iter(VideoStream(media / "single_face.mp4"))).image
    found = FacePipeline("mediapipe", resolution=128).detect(image)[0]
    lm = to68(found.landmarks, found.scheme).astype(np.float64)
    face = FrameFace(lm)
    from mexkit.face.align import transform_points, warp_to_crop
    from mexkit.neutral_face import NeutralFace

    affine = face.affine(128)
    neutral = NeutralFace(warp_to_crop(image, affine, 128), transform_points(lm, affine), meta={"affine": affine.tolist()})
    out = warp.generate(neutral, Condition(label="surprise", intensity=0.9, fps=30.0), generator=0)
    tau = out.clip.apex / 30.0
    here = compose_frame(image, face, out, tau, 30.0)
    dx, dy = 7, 4
    moved = np.zeros_like(image)
    moved[dy:, dx:] = image[:-dy, :-dx]
    there = compose_frame(moved, FrameFace(lm + [dx, dy]), out, tau, 30.0)
    assert np.abs(here.astype(np.int16) - image).mean() > 0.05  # the event shows
    a = there[dy + 60:-60, dx + 60:-60].astype(np.int16)
    b = here[60:-60 - dy, 60:-60 - dx].astype(np.int16)
    assert np.abs(a - b).max() <= 2  # the same event on the moved face (float rounding of the region's coordinates)
    # frame 0 of the event (tau = 0) leaves the frame as it was
    assert np.array_equal(compose_frame(image, face, out, 0.0, 30.0), image)


def make_scan(n=300, fps=25.0, activity=None, tracked=None):
    times = np.arange(n) / fps
    act = np.full(n, 0.02) if activity is None else activity
    trk = np.ones(n, bool) if tracked is None else tracked
    return VideoScan(times, trk, np.where(trk, 40.0, np.nan), np.where(trk, act, np.nan), fps, False, 400, 300)


def test_windows_are_tracked_calm_separated_and_seeded():
    act = np.full(300, 0.02)
    act[100:140] = 0.5  # the person's own expression
    trk = np.ones(300, bool)
    trk[200:210] = False  # the face is lost
    scan = make_scan(activity=act, tracked=trk)
    wins = choose_windows(scan, 10, 25.0, count=4, seed=1)
    assert wins and wins == choose_windows(scan, 10, 25.0, count=4, seed=1)
    assert wins != choose_windows(scan, 10, 25.0, count=4, seed=2)
    for w in wins:
        assert trk[w.onset:w.offset + 1].all() and (act[w.onset:w.offset + 1] < CALM_ACTIVITY).all()
        assert not (w.offset >= 95 and w.onset <= 145) and not (w.offset >= 195 and w.onset <= 215)
    spans = sorted((scan.times[w.onset], scan.times[w.offset]) for w in wins)
    assert all(b0 - a1 > SEPARATION_S for (_, a1), (b0, _) in zip(spans, spans[1:]))
    loose = choose_windows(scan, 10, 25.0, count=20, seed=1, calm=False)
    assert any(100 <= w.onset < 140 or 100 <= w.offset < 140 for w in loose) or len(loose) >= len(wins)


def test_at_times_past_the_end_or_overlapping_are_refused():
    scan = make_scan(n=100)
    assert [w.onset for w in windows_at(scan, [1.0, 2.5], 10, 25.0)] == [25, 63]  # the first frame at or after each time
    with pytest.raises(MexkitInputError, match="outside the video"):
        windows_at(scan, [9.0], 10, 25.0)
    with pytest.raises(MexkitInputError, match="overlapping"):
        windows_at(scan, [1.0, 1.2], 10, 25.0)
    w = window_frames(scan, 25, 10, 25.0)
    assert (w.onset, w.offset) == (25, 34)


def half_size(image):
    import cv2

    return cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)


def test_variable_frame_rate_keeps_its_timestamps(media, warp, tmp_path):
    """A VFR copy of single_face at half size (frames at uneven times): events are placed and written by timestamp."""
    vfr = tmp_path / "vfr.mkv"
    rng = np.random.default_rng(0)
    t = np.cumsum(np.where(rng.random(72) < 0.3, 2.0, 1.0)) / 30.0
    t -= t[0]
    with VideoWriter(vfr, 30.0) as w:
        for f, ts in zip(VideoStream(media / "single_face.mp4"), t):
            w.write(half_size(f.image), ts)
    out = tmp_path / "out"
    counts = insert_videos([(vfr, "corpus_man")], out, warp, InsertRequest(at=(0.6,), seed=0, calm=False), progress=False)
    assert counts["events"] == 1
    ev = pd.read_csv(out / "events.csv", keep_default_na=False).iloc[0]
    assert bool(ev.variable_frame_rate)
    assert ev.onset_s == pytest.approx(t[ev.onset], abs=2e-3) and ev.offset_s == pytest.approx(t[ev.offset], abs=2e-3)
    assert ev.offset_s - ev.onset_s <= 0.4 + 0.5 / 30  # the window spans the event's duration in time, not in frames
    got = [f.time_s for f in VideoStream(out / "vfr.mkv")]
    np.testing.assert_allclose(got, t, atol=2e-3)


def test_a_window_without_a_face_is_rejected(media, warp, tmp_path):
    """A clip of the corpus video's face-free corner (real frames): the --at window has no face to animate."""
    corner = tmp_path / "corner.mkv"
    with VideoWriter(corner, 30.0) as w:
        for f in VideoStream(media / "single_face.mp4"):
            w.write(np.ascontiguousarray(f.image[:120, :160]))
    out = tmp_path / "noface"
    counts = insert_videos([(corner, "nobody")], out, warp, InsertRequest(at=(1.0,), seed=0), progress=False)
    assert counts["events"] == 0
    rejects = pd.read_csv(out / "rejects.csv")
    assert rejects["reason"].str.contains("no face").any()
    assert [f.image.tobytes() for f in VideoStream(out / "corner.mkv")] == [f.image.tobytes() for f in VideoStream(corner)]


def test_expression_activity_separates_the_smile_from_the_calm_face(media, tmp_path):
    """6 s of the corpus man at rest (his first frame) then his smile (the clip's last second), half size: the
    person's median is his rest face, so activity stays calm at rest and rises far above at the smile."""
    frames = [half_size(f.image) for f in VideoStream(media / "single_face.mp4")]
    clip = tmp_path / "rest_then_smile.mkv"
    with VideoWriter(clip, 20.0) as w:
        for img in [frames[0]] * 100 + frames[-20:]:
            w.write(img)
    scan = scan_video(VideoStream(clip))
    assert scan.tracked.all() and scan.num_frames == 120
    # (MediaPipe's VIDEO mode settles on its first few frames: the first half second is left out)
    assert np.nanmax(scan.activity[10:90]) < CALM_ACTIVITY
    assert np.nanmax(scan.activity[100:]) > 2 * CALM_ACTIVITY
