"""Recognition inputs on real corpus faces: flow + strain follow a known motion, LBP-TOP is gray-shift
invariant, frame stacks have the documented shape."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.clip import Clip
from mexkit.optical_flow import resolve_method, warp_backward
from mexkit.recog.features import LBP_BINS, compute_features, feature_info, flow_strain, frames_input, lbptop


def _shifted_clip(face_crop: np.ndarray, dx: float, dy: float, n: int = 5) -> Clip:
    """Frames warped by a uniform backward flow (dx, dy) growing linearly: content moves by (−dx, −dy)."""
    h, w = face_crop.shape[:2]
    frames = [warp_backward(face_crop, np.full((h, w, 2), (dx * t / (n - 1), dy * t / (n - 1)), np.float32)) for t in range(n)]
    return Clip(frames=np.stack(frames), fps=30.0, onset=0, apex=n - 1, offset=n - 1, label="positive")


@pytest.mark.parametrize("method", ["dis", "tvl1"])
def test_flow_strain_follows_known_motion(corpus, method):
    import cv2

    crop = cv2.resize(corpus.faces[0].crop, (128, 128), interpolation=cv2.INTER_AREA)
    clip = _shifted_clip(crop, dx=2.0, dy=-1.0)  # content moves 2 px left and 1 px down at the apex
    x = flow_strain(clip, size=28, method=method)
    assert x.shape == (3, 28, 28) and x.dtype == np.float32
    centre = x[:, 8:20, 8:20].reshape(3, -1).mean(axis=1)
    scale = 28 / 128
    assert centre[0] == pytest.approx(-2.0 * scale, abs=0.08)
    assert centre[1] == pytest.approx(1.0 * scale, abs=0.08)
    assert float(np.median(x[2, 8:20, 8:20])) < 0.05  # a translation has (nearly) no strain
    # a real expression clip (the corpus man's smile) strains the face far more than a translation
    real = flow_strain(corpus.clips[0], size=28, method=method)
    assert real[2].mean() > 3 * x[2].mean()
    assert feature_info("flow_strain", {"method": method})["method_used"] == resolve_method(method)


def test_flow_strain_scales_each_axis_of_a_non_square_input(corpus):
    import cv2

    crop = cv2.resize(corpus.faces[0].crop, (160, 80), interpolation=cv2.INTER_AREA)  # 2:1, width 160, height 80
    clip = _shifted_clip(crop, dx=2.0, dy=-2.0)
    centre = flow_strain(clip, size=28, method="dis")[:, 8:20, 8:20].reshape(3, -1).mean(axis=1)
    # the same 2 px on both axes is 2·28/160 of the grid horizontally and 2·28/80 vertically
    assert centre[0] == pytest.approx(-2.0 * 28 / 160, abs=0.08)
    assert centre[1] == pytest.approx(2.0 * 28 / 80, abs=0.08)


def test_lbptop_shape_normalisation_and_gray_shift_invariance(corpus):
    clip = corpus.clips[0]
    h = lbptop(clip, grid=5, radius=1, num_frames=10, size=64)
    assert h.shape == (25 * 3 * LBP_BINS,)
    per_hist = h.reshape(25, 3, LBP_BINS).sum(axis=2)
    np.testing.assert_allclose(per_hist, 1.0, atol=1e-5)  # every block × plane histogram sums to 1
    # LBP compares neighbours with the centre: adding a constant gray level changes no code
    gray = clip.frames.mean(axis=3, keepdims=True).repeat(3, axis=3)  # R = G = B: the gray conversion is exact
    darker = np.rint(gray * 0.9).astype(np.uint8)
    a = lbptop(clip.with_frames(darker), grid=5, size=64)
    b = lbptop(clip.with_frames(darker + 20), grid=5, size=64)
    np.testing.assert_array_equal(a, b)
    # ... while the motion of the clip shows up in the temporal planes: a frozen clip differs there
    frozen = lbptop(clip.with_frames(np.repeat(darker[clip.onset:clip.onset + 1], clip.num_frames, axis=0)), grid=5, size=64)
    diff = np.abs(a - frozen).reshape(25, 3, LBP_BINS).sum(axis=(0, 2))
    assert diff[1] > 0 and diff[2] > 0


def test_frames_input_and_compute_features(corpus):
    clips = corpus.clips[:3]
    x = frames_input(clips[0], num_frames=8, size=32)
    assert x.shape == (8, 3, 32, 32) and 0.0 <= x.min() and x.max() <= 1.0
    g = frames_input(clips[0], num_frames=4, size=16, gray=True)
    assert g.shape == (4, 1, 16, 16)
    stack = compute_features(clips, "frames", num_frames=4, size=16)
    assert stack.shape == (3, 4, 3, 16, 16)
    with pytest.raises(ValueError, match="unknown feature kind"):
        compute_features(clips, "hog")


def test_ststnet_norm_is_the_raw_flow_min_max_scaled_per_channel(corpus):
    """STSTNet's norm_u_v_os inputs: each channel of a real corpus clip's flow/strain stretched to [0, 255],
    in the same order as the raw values; the choice is recorded and an unknown one refused."""
    clip = corpus.clips[0]
    raw = flow_strain(clip, size=28, method="dis")
    norm = flow_strain(clip, size=28, method="dis", norm="ststnet")
    assert norm.shape == raw.shape and norm.dtype == np.float32
    for c in range(3):
        assert norm[c].min() == pytest.approx(0.0, abs=1e-4) and norm[c].max() == pytest.approx(255.0, abs=1e-3)
        span = raw[c].max() - raw[c].min()
        np.testing.assert_allclose(norm[c], (raw[c] - raw[c].min()) / span * 255.0, rtol=1e-4, atol=1e-3)
    assert feature_info("flow_strain", {"method": "dis", "norm": "ststnet"})["norm"] == "ststnet"
    assert feature_info("flow_strain", {"method": "dis"})["norm"] == "none"
    with pytest.raises(ValueError, match="norm"):
        flow_strain(clip, size=28, method="dis", norm="zscore")
