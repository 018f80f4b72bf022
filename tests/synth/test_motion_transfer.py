"""Motion transfer: relative, IOD-normalised landmark motion from a driving clip onto another face."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mexkit.errors import MexkitInputError
from mexkit.face.landmark_schemes import to68
from mexkit.synth import Condition
from mexkit.synth.warp.au_templates import to_face_frame
from mexkit.synth.motion_transfer.generator import MotionTransferGenerator, relative_motion, resample_motion, transfer_motion
from mexkit.synth.warp.generator import WarpGenerator, resize_face


@pytest.fixture(scope="module")
def corpus():
    from mexkit.datasets import load_corpus

    return load_corpus()


@pytest.fixture(scope="module")
def smile(corpus):
    """Real driving clip: the corpus man's smile (aligned 128-px frames with MediaPipe landmarks)."""
    return next(c for c in corpus.clips if c.sample_id == "single_face_0015")


def face(corpus, face_id):
    return next(f for f in corpus.faces if f.meta["face_id"] == face_id)


def test_relative_motion_ignores_head_motion_and_face_size(smile):
    lm = smile.landmarks.astype(np.float64)
    base = relative_motion(lm)
    assert np.abs(base[0]).max() == 0.0
    rng = np.random.default_rng(0)
    moved = np.empty_like(lm)
    for t in range(len(lm)):  # a random similarity per frame: head turning in plane, moving, scaling
        a, s = rng.uniform(-0.2, 0.2), rng.uniform(0.8, 1.25)
        rot = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        moved[t] = lm[t] @ rot.T + rng.uniform(-20, 20, 2)
    np.testing.assert_allclose(relative_motion(moved), base, atol=1e-6)
    np.testing.assert_allclose(relative_motion(lm * 3.0), base, atol=1e-9)
    # without head-motion removal the same track is dominated by the injected motion
    assert np.abs(relative_motion(moved, remove_head_motion=False) - base).max() > 0.1


def test_motion_lands_on_the_target_in_its_own_iod(corpus):
    """Drive face B with a warp clip of face A (landmark ground truth): B's landmarks move by the same
    amount in IOD units and face frame, whatever the two faces' sizes."""
    a = resize_face(face(corpus, "corpus_f1__0-f1-su-ph"), 128)
    b = face(corpus, "corpus_astronaut__skimage.data")
    src = WarpGenerator(au_jitter=0.0).generate(a, Condition(label="surprise", intensity=0.8), generator=0)
    gen = MotionTransferGenerator(src.extras["requested_landmarks"], fps=src.clip.fps, remove_head_motion=False, resolution=256)
    out = gen.generate(b, gen.default_condition())
    want = to_face_frame(src.extras["requested_landmarks"] - a.landmarks, a.landmarks)
    b256 = resize_face(b, 256)
    got = to_face_frame(out.extras["requested_landmarks"] - b256.landmarks, b256.landmarks)
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_array_equal(out.clip.frames[0], b256.crop)
    assert out.clip.num_frames == src.clip.num_frames and out.clip.fps == src.clip.fps
    # intensity scales the transferred motion; the one-call helper gives the same clip
    half = gen.generate(b, gen.default_condition(intensity=0.5))
    np.testing.assert_allclose(half.extras["displacements"], 0.5 * out.extras["displacements"], atol=1e-4)
    same = transfer_motion(b, src.extras["requested_landmarks"], fps=src.clip.fps, remove_head_motion=False, resolution=256)
    np.testing.assert_array_equal(same.clip.frames, out.clip.frames)


def test_resample_motion_in_time():
    m = np.random.default_rng(1).normal(size=(10, 68, 2))
    r = resample_motion(m, 19)
    assert r.shape == (19, 68, 2)
    np.testing.assert_allclose(r[::2], m)
    np.testing.assert_allclose(r[1], (m[0] + m[1]) / 2)


def test_real_smile_transfers_to_another_person(corpus, smile):
    """The driving smile (real landmarks) onto the astronaut; MediaPipe, re-run on the generated frames,
    sees her mouth corners follow the driving corners over time and by a similar amount."""
    from mexkit.face import FacePipeline

    target = face(corpus, "corpus_astronaut__skimage.data")
    gen = MotionTransferGenerator(smile, resolution=256)
    cond = gen.default_condition()
    assert cond.num_frames == smile.num_frames and cond.label == "positive" and cond.apex_frame == smile.apex
    out = gen.generate(target, cond)
    pipe = FacePipeline("mediapipe", resolution=256)
    frames = out.clip.frames[::2]
    found = np.stack([to68(pipe.detect(f)[0].landmarks, pipe.scheme) for f in frames])
    seen = to_face_frame(found - found[0], found[0])  # (T/2, 68, 2), IOD units
    driven = gen.motion[::2]
    corners = [48, 54]
    seen_c, driven_c = seen[:, corners].reshape(len(frames), -1), driven[:, corners].reshape(len(frames), -1)
    cos = (seen_c * driven_c).sum() / np.linalg.norm(seen_c) / np.linalg.norm(driven_c)
    assert cos > 0.8
    amount = np.linalg.norm(seen[:, corners], axis=-1).mean(1)
    asked = np.linalg.norm(driven[:, corners], axis=-1).mean(1)
    assert np.corrcoef(amount, asked)[0, 1] > 0.9
    assert 0.5 < amount.max() / asked.max() < 1.5


def test_driving_video_is_tracked_with_the_face_pipeline(corpus, media):
    gen = MotionTransferGenerator(media / "single_face.mp4")
    assert gen.num_frames == 72 and gen.driving_fps == 30.0
    out = gen.generate(face(corpus, "corpus_f15__0-f15-hao-ph"), gen.default_condition(label="positive"))
    assert out.clip.num_frames == 72 and out.clip.fps == 30.0
    # the smile at the end of the video shows: mouth corners spread on the target
    d = to_face_frame(out.landmarks[-1] - out.landmarks[0], out.landmarks[0])
    assert d[54, 0] - d[48, 0] > 0.1


def test_bad_driving_input(media, corpus):
    with pytest.raises(MexkitInputError, match="single frame"):
        MotionTransferGenerator(media / "single_face.jpg")
    with pytest.raises(MexkitInputError, match="without a frame rate"):
        MotionTransferGenerator(np.zeros((5, 68, 2)))
    with pytest.raises(MexkitInputError, match=r"\(T >= 2, 68, 2\)"):
        MotionTransferGenerator(np.zeros((5, 10, 2)), fps=30)
    with pytest.raises(MexkitInputError, match="no face found"):
        MotionTransferGenerator(media / "no_face.mp4")


def test_a_driving_path_is_streamed_and_a_long_one_refused_before_decoding(monkeypatch, tmp_path):
    """A driving video or frame folder is read one frame at a time (only its landmarks kept; read_clip / read_video
    are never called) to the same motion as the clip read whole; one longer than MAX_DRIVING_FRAMES is refused,
    naming the file and how to cut it, before any frame is decoded."""
    import mexkit.video_io as video_io
    from mexkit.synth.motion_transfer import generator as mt
    from mexkit.video_io import read_clip, write_video

    folder = Path(__file__).resolve().parents[2] / "datasets" / "corpus" / "clips" / "single_face_0015"
    whole = MotionTransferGenerator(read_clip(folder, fps=30.0))

    def never(*args, **kwargs):
        raise AssertionError("a driving path was read whole")

    monkeypatch.setattr(video_io, "read_clip", never)
    monkeypatch.setattr(video_io, "read_video", never)
    streamed = MotionTransferGenerator(folder, fps=30.0)
    np.testing.assert_array_equal(streamed.motion, whole.motion)
    assert streamed.weights_hash() == whole.weights_hash() and streamed.driving.sample_id == "single_face_0015"

    long = tmp_path / "long.mp4"
    write_video(long, np.zeros((mt.MAX_DRIVING_FRAMES + 1, 16, 16, 3), np.uint8), 30.0)
    monkeypatch.setattr(video_io, "iter_clip_frames", never)
    with pytest.raises(MexkitInputError, match=f"driving clip of {mt.MAX_DRIVING_FRAMES + 1} frames, above {mt.MAX_DRIVING_FRAMES}") as err:
        MotionTransferGenerator(long)
    assert err.value.path == str(long) and "ffmpeg -ss" in err.value.fix
