"""Reading and writing clips, and every kind of bad input, on real media files."""
import shutil

import cv2
import numpy as np
import pytest

from mexkit.errors import MexkitInputError
from mexkit.video_io import (gif_bytes, list_frame_files, read_clip, read_image, read_video, write_frames,
                             write_image, write_video)


def test_reads_real_video(media):
    frames, fps = read_video(media / "single_face.mp4")
    assert frames.shape == (72, 360, 640, 3) and frames.dtype == np.uint8
    assert fps == pytest.approx(30.0)


def test_corrupt_video_names_file(media, tmp_path):
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(np.random.default_rng(0).integers(0, 255, 50_000, dtype=np.uint8).tobytes())
    with pytest.raises(MexkitInputError, match="corrupt.mp4"):
        read_video(bad)


def test_truncated_video_is_an_error(media, tmp_path):
    data = (media / "single_face.mp4").read_bytes()
    bad = tmp_path / "truncated.mp4"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(MexkitInputError, match="truncated"):
        read_video(bad)


def test_a_frame_range_past_the_end_is_a_clear_error(media):
    """A manifest row whose frame range lies past the video (0 frames to read) names the file and the range
    (it was numpy's "need at least one array to stack" in rejects.csv)."""
    with pytest.raises(MexkitInputError, match=r"single_face.mp4: no frames in 500..599 \(the video has 72 frame\(s\)\)"):
        read_video(media / "single_face.mp4", 500, 600)


def test_zero_byte_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(MexkitInputError, match="0 bytes"):
        read_clip(empty)


def test_unsupported_extension(media, tmp_path):
    odd = tmp_path / "face.xyz"
    shutil.copy(media / "single_face.jpg", odd)
    with pytest.raises(MexkitInputError, match="unsupported extension '.xyz'"):
        read_clip(odd)


def test_non_ascii_paths(media, tmp_path):
    folder = tmp_path / "visages_éà_顔"
    folder.mkdir()
    shutil.copy(media / "single_face.jpg", folder / "visage_é.jpg")
    shutil.copy(media / "single_face.mp4", folder / "vidéo_顔.mp4")
    assert read_image(folder / "visage_é.jpg").shape[2] == 3
    assert read_clip(folder / "vidéo_顔.mp4").num_frames == 72


def _frame_folder(media, folder, n=5, gray=()):
    frames, _ = read_video(media / "single_face.mp4", stop=n)
    folder.mkdir()
    for i, f in enumerate(frames):
        img = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if i in gray else f
        write_image(folder / f"img{i + 1}.png", img if img.ndim == 3 else np.repeat(img[..., None], 3, -1))
        if i in gray:  # a true 1-channel file
            cv2.imwrite(str(folder / f"img{i + 1}.png"), img)
    return frames


def test_frame_folder_natural_order(media, tmp_path):
    frames = _frame_folder(media, tmp_path / "seq", n=12)
    names = [p.name for p in list_frame_files(tmp_path / "seq")]
    assert names[:3] == ["img1.png", "img2.png", "img3.png"] and names[-1] == "img12.png"
    clip = read_clip(tmp_path / "seq", fps=200)
    assert np.array_equal(clip.frames, frames)


def test_gap_in_frame_sequence(media, tmp_path):
    _frame_folder(media, tmp_path / "seq", n=6)
    (tmp_path / "seq" / "img4.png").unlink()
    with pytest.raises(MexkitInputError, match="gap in the frame sequence: frame number\\(s\\) 4 missing"):
        read_clip(tmp_path / "seq", fps=200)
    assert read_clip(tmp_path / "seq", fps=200, allow_gaps=True).num_frames == 5


def test_gray_frames_are_read_as_rgb(media, tmp_path):
    _frame_folder(media, tmp_path / "seq", n=3, gray=(0, 1, 2))
    clip = read_clip(tmp_path / "seq", fps=200)
    assert clip.frames.shape[-1] == 3
    assert np.array_equal(clip.frames[..., 0], clip.frames[..., 1])


def test_mixed_gray_and_colour_is_an_error(media, tmp_path):
    _frame_folder(media, tmp_path / "seq", n=3, gray=(1,))
    with pytest.raises(MexkitInputError, match="img2.png: sequence mixes gray and colour"):
        read_clip(tmp_path / "seq", fps=200)


def test_write_read_roundtrip(media, tmp_path):
    frames, _ = read_video(media / "single_face.mp4", stop=8)
    write_frames(tmp_path / "frames", frames)
    assert np.array_equal(read_clip(tmp_path / "frames", fps=30).frames, frames)
    write_video(tmp_path / "clip.mp4", frames, 30)
    back, fps = read_video(tmp_path / "clip.mp4")
    assert back.shape == frames.shape and fps == pytest.approx(30)
    assert np.abs(back.astype(int) - frames).mean() < 6  # lossy codec, same content
    gif = gif_bytes(frames[:, ::4, ::4], 30)
    assert gif[:6] == b"GIF89a"
