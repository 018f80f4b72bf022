"""Frame numbers from released file names."""
from __future__ import annotations

import pytest

from mexkit.datasets.frame_folders import frame_number, numbered_frames, select_range
from mexkit.errors import MexkitInputError


def test_frame_number_from_names():
    assert frame_number("img46.jpg") == 46
    assert frame_number("006_05562.jpg") == 5562
    assert frame_number("reg_image106720.bmp") == 106720
    assert frame_number("12.jpg") == 12 and frame_number("face.jpg") is None


def test_numbered_frames_and_ranges(tmp_path):
    for n in (10, 9, 12, 100):
        (tmp_path / f"img{n}.jpg").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a frame")
    frames = numbered_frames(tmp_path)
    assert [n for n, _ in frames] == [9, 10, 12, 100]
    sel, missing = select_range(frames, 9, 12)
    assert [n for n, _ in sel] == [9, 10, 12] and missing == [11]
    (tmp_path / "img012.jpg").write_bytes(b"x")
    with pytest.raises(MexkitInputError, match="two files for frame 12"):
        numbered_frames(tmp_path)


def test_folder_errors(tmp_path):
    with pytest.raises(MexkitInputError, match="frame folder not found"):
        numbered_frames(tmp_path / "nope")
    with pytest.raises(MexkitInputError, match="holds no image frames"):
        numbered_frames(tmp_path)
    (tmp_path / "face.jpg").write_bytes(b"x")
    with pytest.raises(MexkitInputError, match="carries no frame number"):
        numbered_frames(tmp_path)
