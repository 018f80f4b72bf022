"""Spot then recognize (`mexkit detect`): clips aligned once on their onset, the magnified GIFs, the run
folder, the report, scores against ground truth, reruns, and bad input."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mexkit.cli import main
from mexkit.datasets.manifest_columns import SPOT_TRUTH_COLUMNS
from mexkit.errors import MexkitInputError

MEDIA = Path(__file__).resolve().parents[2] / "datasets" / "corpus" / "media"
VIDEO = MEDIA / "single_face.mp4"  # 72 frames, 30 fps, neutral → smile


@pytest.fixture(scope="module")
def recognizer():
    """The shipped kept recognizer, the default of `mexkit detect --model`."""
    from mexkit.recog.kept import load_recognizer

    return load_recognizer("mexkit-demo")


def test_magnify_amplifies_the_change_since_onset(corpus):
    import cv2

    from mexkit.recog.spotting.magnify import magnify, magnify_alpha, slow_motion

    clip = max(corpus.clips, key=lambda c: c.num_frames)
    frames = clip.frames[clip.onset:clip.apex + 1]
    mag = magnify(frames, alpha=4.0, sigma=2.0)
    assert np.array_equal(mag[0], frames[0])  # the onset frame is the reference: unchanged
    still = np.repeat(frames[:1], 4, axis=0)
    assert np.array_equal(magnify(still), still)  # nothing moves: nothing is magnified
    d_in = np.abs(frames[-1].astype(float) - frames[0]).mean()
    d_out = np.abs(mag[-1].astype(float) - mag[0]).mean()
    assert d_out > 2.5 * d_in  # (1 + α) = 5 on the low-passed change; clipping and the blur take some of it
    # a large motion is magnified less, so it does not saturate; a small one gets the full factor
    assert magnify_alpha(frames, 6.0, max_change=48.0) < 6.0 <= magnify_alpha(frames, 6.0, max_change=1e6)
    a = magnify_alpha(frames, 6.0, max_change=20.0)
    d = np.stack([cv2.GaussianBlur(f.astype(np.float32) - frames[0], (0, 0), 2.0) for f in frames])
    assert np.percentile(np.abs(a * d), 99, axis=(1, 2, 3)).max() == pytest.approx(20.0, rel=0.01)
    g, fps = slow_motion(np.zeros((30, 4, 4, 3), np.uint8), 30.0, slowdown=4.0)
    assert len(g) / fps == pytest.approx(4.0, rel=0.05)  # 1 s of video plays in 4 s
    g, fps = slow_motion(np.zeros((400, 4, 4, 3), np.uint8), 200.0, slowdown=4.0, max_frames=48)
    assert len(g) <= 48 and len(g) / fps == pytest.approx(8.0, rel=0.05)


def test_clips_are_aligned_once_on_the_onset_frame():
    from mexkit.clip import Clip
    from mexkit.face.pipeline import FacePipeline
    from mexkit.recog.spotting.detect_clips import cut_clips
    from mexkit.video_io import read_video
    from mexkit.video_stream import VideoStream

    pipe = FacePipeline("mediapipe", resolution=64)
    iv = pd.DataFrame([{"video": "v", "subject": "", "onset": 20, "apex": 30, "offset": 40, "face_id": 0},
                       {"video": "v", "subject": "", "onset": 35, "apex": 38, "offset": 45, "face_id": 0}])  # overlapping
    cuts = cut_clips(VideoStream(VIDEO), iv, None, resolution=64, pipeline=pipe)
    frames, _ = read_video(VIDEO)
    for cut, (on, ap, off) in zip(cuts, [(20, 30, 40), (35, 38, 45)]):
        ref = pipe.align_clip(Clip(frames=frames[on:off + 1], fps=30.0, onset=0, apex=ap - on, offset=off - on), 64)
        assert cut.clip.num_frames == off - on + 1 and cut.clip.apex == ap - on and cut.alignment.startswith("face pipeline")
        np.testing.assert_array_equal(cut.clip.frames, ref.frames)  # one affine, from the onset frame, for every frame
    assert not np.array_equal(cuts[0].clip.affine, cuts[1].clip.affine)  # each interval has its own onset


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One detect run over single_face.mp4 with a truth.csv holding its smile (and a missed second interval)."""
    out = tmp_path_factory.mktemp("detect") / "out"
    truth = out.parent / "truth.csv"
    rows = [{"dataset": "corpus", "video": "single_face", "subject": "", "onset": 22, "apex": 28, "offset": 34, "type": "ME",
             "emotion": "happiness", "aus": "", "intensity": "", "generator": "none", "train_subjects": "none", "seed": "",
             "fps": 30.0, "source": "single_face.mp4"},
            {"dataset": "corpus", "video": "single_face", "subject": "", "onset": 50, "apex": 55, "offset": 60, "type": "ME",
             "emotion": "surprise", "aus": "", "intensity": "", "generator": "none", "train_subjects": "none", "seed": "",
             "fps": 30.0, "source": "single_face.mp4"}]
    pd.DataFrame(rows, columns=SPOT_TRUTH_COLUMNS).to_csv(truth, index=False)
    code = main(["detect", str(VIDEO), "--out", str(out), "--truth", str(truth)])  # the default model: mexkit-demo
    return out, truth, code


def test_detect_writes_intervals_scores_and_report(run, recognizer):
    from mexkit.recog.spotting_metrics import score_files

    out, truth, code = run
    assert code == 0
    iv = pd.read_csv(out / "intervals.csv", keep_default_na=False)
    assert list(iv.columns[:5]) == ["subject", "video", "onset", "offset", "emotion"]
    assert {"apex", "type", "score", "duration_ms", "predicted", "magnification"} <= set(iv.columns)
    assert ((iv["magnification"] > 1.0) & (iv["magnification"] <= 7.0)).all()
    assert all(f"{recognizer.score_kind}_{c}" in iv.columns for c in recognizer.classes)
    assert len(iv) >= 1 and set(iv["type"]) <= {"ME", "MaE"}
    named = iv[iv["predicted"] != ""]
    assert set(named["predicted"]) <= set(recognizer.classes) and (named["emotion"] == named["predicted"]).all()
    assert np.allclose(iv["duration_ms"], (iv["offset"] - iv["onset"] + 1) / 30.0 * 1000, atol=1.0)
    # the scores written are the scores of intervals.csv against truth.csv (recog/spotting_metrics.py)
    s = pd.read_csv(out / "scores.csv", keep_default_na=False)
    expect = score_files(out / "intervals.csv", truth).scores
    assert s[["tp", "fp", "fn"]].to_numpy().tolist() == expect[["tp", "fp", "fn"]].to_numpy().tolist()
    assert s.loc[s["type"] == "overall", "fn"].item() >= 1  # the second truth interval (nothing moves there) is missed
    html = (out / "report.html").read_text()
    assert "research tool" in html and "not a diagnosis" in html and "timeline of single_face" in html
    assert html.count("data:image/gif") == len(iv) and "Scores against the ground truth" in html
    assert "ME / min" in html
    card = next((out / "videos" / "single_face" / "cards").glob("*_magnified.gif"))
    assert card.stat().st_size > 0


def test_rerun_reuses_the_finished_video(run):
    out, truth, _ = run
    before = (out / "videos" / "single_face" / "info.json").stat().st_mtime_ns
    rows = (out / "intervals.csv").read_text()
    assert main(["detect", str(VIDEO), "--out", str(out), "--model", "mexkit-demo", "--truth", str(truth)]) == 0
    assert (out / "videos" / "single_face" / "info.json").stat().st_mtime_ns == before
    assert (out / "intervals.csv").read_text() == rows


def test_bad_input_is_exit_2_and_writes_nothing(tmp_path, capsys):
    truth = tmp_path / "truth.csv"
    pd.DataFrame([{"dataset": "d", "video": "other_video", "onset": 0, "apex": 1, "offset": 2, "type": "ME"}]).to_csv(truth, index=False)
    out = tmp_path / "out"
    assert main(["detect", str(VIDEO), "--out", str(out), "--truth", str(truth)]) == 2
    err = capsys.readouterr().err
    assert f"{truth}: inputs name video(s) the truth does not hold: single_face" in err and "videos in the truth (truth.csv): other_video" in err
    assert main(["detect", str(VIDEO), "--out", str(out), "--model", str(tmp_path / "no_model")]) == 2
    assert "model folder not found" in capsys.readouterr().err
    assert main(["detect", str(MEDIA / "no_face.mp4"), "--out", str(out)]) == 2
    assert "no face found" in capsys.readouterr().err
    assert not out.exists()


@pytest.fixture(scope="module")
def two_faces(tmp_path_factory) -> Path:
    """The first 45 frames of single_face.mp4 (its smile) beside their mirror image, at 3/4 size: two people
    smiling at once (960×270, FFV1)."""
    import av
    import cv2

    from mexkit.video_stream import VideoStream

    path = tmp_path_factory.mktemp("two") / "two_faces.mkv"
    with av.open(str(path), "w") as out:
        st = out.add_stream("ffv1", rate=30)
        st.width, st.height, st.pix_fmt = 960, 270, "yuv444p"
        for f in VideoStream(VIDEO):
            if f.index >= 45:
                break
            img = cv2.resize(f.image, (480, 270), interpolation=cv2.INTER_AREA)
            both = np.ascontiguousarray(np.concatenate([img, img[:, ::-1]], axis=1))
            for p in st.encode(av.VideoFrame.from_ndarray(both, format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


def test_all_faces_each_clip_is_aligned_on_its_own_face(two_faces, tmp_path):
    from mexkit.face.align import invert_affine, transform_points
    from mexkit.face.pipeline import FacePipeline
    from mexkit.recog.spotting.detect_clips import FaceBoxRecorder, cut_clips
    from mexkit.recog.spotting.spot_video import spot_stream
    from mexkit.recog.spotting.spotter import make_spotter
    from mexkit.video_stream import VideoStream

    stream = VideoStream(two_faces)
    _, boxes = spot_stream(stream, [make_spotter("default", stream.fps), FaceBoxRecorder(stream.fps)], all_faces=True, progress=False)
    b = boxes.signals
    assert set(b["face_id"]) == {0, 1}
    iv = pd.DataFrame([{"video": "two", "subject": "", "onset": 20, "apex": 28, "offset": 34, "face_id": fid} for fid in (0, 1)])
    cuts = cut_clips(VideoStream(two_faces), iv, b, resolution=64, pipeline=FacePipeline("mediapipe", resolution=64), all_faces=True)
    for cut, fid in zip(cuts, (0, 1)):
        box = b[(b["face_id"] == fid) & (b["frame"] == 20)].iloc[0]
        cx, cy = transform_points(np.array([[32.0, 32.0]]), invert_affine(cut.clip.affine))[0]
        assert box["box_x0"] <= cx <= box["box_x1"] and box["box_y0"] <= cy <= box["box_y1"], (fid, cx, cy)
        assert cut.alignment == "face pipeline"
    # the two faces are one another's mirror image: so are their aligned crops (not the same crop twice)
    a, m = cuts[0].clip.frames[0].astype(float), cuts[1].clip.frames[0][:, ::-1].astype(float)
    assert np.abs(a - m).mean() < 0.5 * np.abs(a - cuts[1].clip.frames[0]).mean()

    out = tmp_path / "out"
    assert main(["detect", str(two_faces), "--out", str(out), "--all-faces"]) == 0
    iv = pd.read_csv(out / "intervals.csv", keep_default_na=False)
    assert set(iv["face_id"]) == {0, 1}


def test_demo_clip_is_the_same_bytes_every_run(tmp_path):
    """The demo's insertion is seeded by the video's hash: its trimmed webcam clip must not vary run to run."""
    from mexkit.datasets.corpus import webcam_videos
    from mexkit.recog.spotting.detect_demo import trim_video
    from mexkit.video_stream import VideoStream

    a = trim_video(webcam_videos()[0], tmp_path / "a.mkv", 0.5)
    b = trim_video(webcam_videos()[0], tmp_path / "b.mkv", 0.5)
    assert a.read_bytes() == b.read_bytes()
    frames = list(VideoStream(a))
    assert len(frames) == 13 and frames[-1].time_s < 0.5  # 25 fps: frames at 0, 0.04, …, 0.48 s
    assert np.array_equal(frames[3].image, next(f.image for f in VideoStream(webcam_videos()[0]) if f.index == 3))


def test_estimated_apex_on_hand_made_frames():
    """The frame of the largest mean absolute grey change from frame 0 (the first of equals); the middle when none changes."""
    from mexkit.recog.spotting.detect_clips import estimated_apex

    levels = [10, 14, 30, 22, 30, 11]  # grey levels: changes 4, 20, 12, 20, 1 → frame 2 (first of the two 20s)
    frames = np.stack([np.full((4, 4, 3), v, np.uint8) for v in levels])
    assert estimated_apex(frames) == 2
    frames[3, :2] = 200  # half of frame 3 jumps to 200: mean change 0.5 · 190 + 0.5 · 12 = 101 > 20
    assert estimated_apex(frames) == 3
    assert estimated_apex(np.zeros((7, 4, 4, 3), np.uint8)) == 3  # nothing moves: the middle
    assert estimated_apex(np.zeros((2, 4, 4, 3), np.uint8)) == 1


def test_an_apex_on_the_onset_frame_is_estimated_and_the_interval_named(recognizer, monkeypatch):
    """A spotter that puts every apex on its onset frame (as a peak at a window's start does): the cut clip's apex is
    the frame that differs most from the onset, recorded as estimated, and the flow recognizer names every interval
    (with the spotter's apex it refuses: no onset→apex motion)."""
    import dataclasses

    from mexkit.face.pipeline import FacePipeline
    from mexkit.recog.spotting import spotter as spotters
    from mexkit.recog.spotting.detect import detect_video
    from mexkit.recog.spotting.detect_clips import cut_clips
    from mexkit.video_stream import VideoStream

    class ApexAtOnset(type(spotters.make_spotter("default", 30.0))):
        name = "apex_at_onset"

        def find(self, signals):
            return [dataclasses.replace(iv, apex=iv.onset) for iv in super().find(signals)]

    monkeypatch.setitem(spotters.SPOTTERS, "apex_at_onset", ApexAtOnset)
    found = detect_video(VIDEO, recognizer, spotter="apex_at_onset", progress=False)
    spot = found.spot.intervals
    assert len(spot) >= 1 and (spot["apex"] == spot["onset"]).all() and (spot["offset"] > spot["onset"]).all()
    iv = found.intervals
    assert set(iv["predicted"]) <= set(recognizer.classes) and (iv["predicted"] != "").all() and len(found.rejects) == 0
    assert ((iv["onset"] < iv["apex"]) & (iv["apex"] <= iv["offset"])).all()
    assert iv["note"].str.contains("apex estimated").all()
    size = int(recognizer.input.get("resolution") or 128)  # the clips again, through the library call detect makes
    cuts = cut_clips(VideoStream(VIDEO), spot, None, resolution=size, pipeline=FacePipeline("mediapipe", resolution=size))
    for cut, apex in zip(cuts, iv["apex"] - iv["onset"]):
        clip = cut.clip
        assert clip.apex == apex and clip.apex_estimated and clip.meta["apex_source"].startswith("estimated")
        grey = clip.frames.astype(float).mean(-1)
        change = [np.abs(g - grey[0]).mean() for g in grey]
        assert change[apex] == max(change[1:]) > 0  # no frame differs more from the onset
        with pytest.raises(MexkitInputError, match="onset and apex are the same frame"):
            recognizer.clip_feature(dataclasses.replace(clip, apex=0))
