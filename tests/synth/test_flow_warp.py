"""flow_warp: backward warping conventions, resolution-free flow units, point tracking, gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mexkit.datasets import load_corpus
from mexkit.optical_flow import warp_backward
from mexkit.synth.flow_warp import (grid_to_pixels, identity_grid, pixels_to_grid, resize_flow, track_points, warp,
                                    warp_video)


@pytest.fixture(scope="module")
def face64() -> torch.Tensor:
    import cv2

    crop = cv2.resize(load_corpus().faces[3].crop, (64, 64), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 127.5 - 1


def test_zero_flow_is_identity_and_integer_shift_is_exact(face64):
    zero = torch.zeros(1, 3, 2, 64, 64)
    assert torch.equal(warp_video(face64, zero)[0, 1], face64[0])
    shift = pixels_to_grid(torch.tensor([3.0, -2.0]).view(1, 2, 1, 1).expand(1, 2, 64, 64), 64)
    out = warp(face64, shift)
    # output(x, y) = input(x + 3, y - 2)
    assert torch.allclose(out[0, :, 10:50, 10:50], face64[0, :, 8:48, 13:53], atol=1e-5)


def test_matches_opencv_backward_warp_in_pixels(face64):
    """Same convention as mexkit.optical_flow.warp_backward (pixel flow, cv2.remap) away from borders."""
    rng = np.random.default_rng(0)
    flow_px = (rng.normal(size=(64, 64, 2)) * 1.5).astype(np.float32)
    import cv2

    flow_px = cv2.GaussianBlur(flow_px, (0, 0), 4)
    img = ((face64[0].permute(1, 2, 0).numpy() + 1) * 127.5).astype(np.float32)
    ref = warp_backward(img, flow_px)
    grid = pixels_to_grid(torch.from_numpy(flow_px).permute(2, 0, 1)[None], 64)
    out = ((warp(face64, grid)[0].permute(1, 2, 0).numpy() + 1) * 127.5)
    assert np.abs(out - ref)[4:-4, 4:-4].mean() < 0.5


def test_warp_video_equals_per_frame_warp_and_has_gradients(face64):
    flow = (torch.randn(1, 4, 2, 8, 8) * 0.05)
    flow = resize_flow(flow, 64).requires_grad_(True)
    img = face64.clone().requires_grad_(True)
    vid = warp_video(img, flow)
    for t in range(4):
        assert torch.allclose(vid[0, t], warp(img, flow[:, t])[0], atol=1e-6)
    vid.square().mean().backward()
    assert flow.grad.abs().sum() > 0 and img.grad.abs().sum() > 0


def test_units_roundtrip_and_grid():
    f = torch.randn(2, 2, 16, 32)
    assert torch.allclose(grid_to_pixels(pixels_to_grid(f, 32, 16), 32, 16), f)
    g = identity_grid(4, 4)
    assert g.shape == (1, 4, 4, 2) and g[0, 0, 0].tolist() == [-0.75, -0.75]


def test_track_points_inverts_a_shift():
    flow = pixels_to_grid(torch.tensor([2.0, 1.0]).view(1, 2, 1, 1).expand(1, 2, 32, 32), 32)
    pts = torch.tensor([[[0.0, 0.0], [0.3, -0.2]]])
    moved = track_points(flow, pts)
    # backward flow +2 px in x: content at x appears at x - 2 px
    assert torch.allclose(moved, pts - torch.tensor([4.0 / 32, 2.0 / 32]), atol=1e-5)
