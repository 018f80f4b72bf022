import numpy as np
import pytest

from mexkit.clip import Clip, as_rgb_frames, parse_aus


def test_parse_aus_handles_dataset_spellings():
    assert parse_aus("4+7") == ["AU4", "AU7"]
    assert parse_aus("AU1+AU2+AU25") == ["AU1", "AU2", "AU25"]
    assert parse_aus("R12A+L14") == ["AU12", "AU14"]
    assert parse_aus("/") == []
    assert parse_aus(None) == []


def test_gray_frames_are_expanded_not_dropped():
    gray = np.arange(2 * 4 * 5, dtype=np.uint8).reshape(2, 4, 5)
    rgb = as_rgb_frames(gray)
    assert rgb.shape == (2, 4, 5, 3)
    assert np.array_equal(rgb[..., 0], gray) and np.array_equal(rgb[..., 2], gray)


def test_unknown_apex_is_middle_and_flagged():
    clip = Clip(frames=np.zeros((9, 8, 8, 3), np.uint8), fps=200, onset=2, offset=8)
    assert clip.apex == 5 and clip.apex_estimated
    assert clip.duration_ms == pytest.approx(45.0)


@pytest.mark.parametrize("onset,apex,offset", [(5, 3, 8), (0, 9, 8), (0, 2, 12)])
def test_inconsistent_indices_are_rejected(onset, apex, offset):
    with pytest.raises(ValueError, match="onset <= apex <= offset"):
        Clip(frames=np.zeros((10, 8, 8, 3), np.uint8), fps=30, onset=onset, apex=apex, offset=offset)


def test_fps_must_be_positive():
    with pytest.raises(ValueError, match="fps"):
        Clip(frames=np.zeros((3, 8, 8, 3), np.uint8), fps=0)
