"""mexkit/video_writer.py: streaming, atomic FFV1 (lossless) and H.264 writing with timestamps."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.errors import MexkitInputError
from mexkit.video_stream import VideoStream
from mexkit.video_writer import VideoWriter, remove_stale_temporaries


@pytest.fixture(scope="module")
def real_frames(media):
    frames = []
    for f in VideoStream(media / "single_face.mp4"):
        frames.append(f.image[::2, ::2].copy())  # 320×180, real content
        if len(frames) == 12:
            break
    return frames


def test_ffv1_gives_back_the_same_bytes_and_timestamps(real_frames, tmp_path):
    times = np.cumsum([0, 1, 1, 2, 1, 3, 1, 1, 1, 2, 1, 1]) / 25.0  # uneven: a variable frame rate
    path = tmp_path / "v.mkv"
    with VideoWriter(path, 25.0) as w:
        for img, t in zip(real_frames, times):
            w.write(img, t)
    got = list(VideoStream(path))
    assert len(got) == len(real_frames)
    for f, img, t in zip(got, real_frames, times):
        assert np.array_equal(f.image, img)
        assert f.time_s == pytest.approx(t, abs=1e-3)
    assert [p.name for p in tmp_path.iterdir()] == ["v.mkv"]  # no temporary left
    # the same frames give the same file (resumed runs are byte-identical)
    again = tmp_path / "w.mkv"
    with VideoWriter(again, 25.0) as w:
        for img, t in zip(real_frames, times):
            w.write(img, t)
    assert again.read_bytes() == path.read_bytes()


def test_h264_preview_of_an_odd_size_keeps_every_frame(real_frames, tmp_path):
    path = tmp_path / "p.mp4"
    with VideoWriter(path, 25.0) as w:
        for img in real_frames:
            w.write(np.ascontiguousarray(img[:-1, :-1]))  # 319×179: padded to even for H.264
    got = list(VideoStream(path))
    assert len(got) == len(real_frames) and got[0].image.shape == (180, 320, 3)
    err = np.abs(got[5].image[:-1, :-1].astype(np.int16) - real_frames[5][:-1, :-1]).mean()
    assert err < 3.0  # lossy, close


def test_a_failure_leaves_nothing_and_a_killed_runs_temporary_is_removed(real_frames, tmp_path):
    path = tmp_path / "x.mkv"
    with pytest.raises(RuntimeError):
        with VideoWriter(path, 25.0) as w:
            w.write(real_frames[0])
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []
    stale = tmp_path / ".x.mkv.abc.tmp"
    stale.mkdir()
    (stale / "x.mkv").write_bytes(b"half")
    assert remove_stale_temporaries(path) == [stale] and not stale.exists()


def test_bad_paths_and_frames_are_clear_errors(real_frames, tmp_path):
    with pytest.raises(MexkitInputError, match="extension"):
        VideoWriter(tmp_path / "x.gif", 25.0)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(MexkitInputError, match="cannot be written"):
        VideoWriter(blocker / "x.mkv", 25.0).write(real_frames[0])
    w = VideoWriter(tmp_path / "y.mkv", 25.0)
    w.write(real_frames[0])
    with pytest.raises(ValueError, match="the video"):
        w.write(real_frames[0][:-2])
    w.abort()
    assert not (tmp_path / "y.mkv").exists()
