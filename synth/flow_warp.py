"""Differentiable backward warping with `torch.nn.functional.grid_sample`, and flow unit conversions.

Flow convention (shared by the MoCoGAN-style and flow-diffusion generators): a backward flow in
grid_sample units (align_corners=False), channels (x, y) first: output(p) = image(p + flow(p)). A shift
of d pixels in a W-pixel-wide image is 2·d/W, so one flow field serves every resolution — compute it
small, upsample it, warp the full-resolution face. `GeneratorOutput.flow` stores pixels instead
(`grid_to_pixels`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def identity_grid(height: int, width: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(1, H, W, 2) sampling grid of pixel centres (x, y) in [-1, 1] (align_corners=False)."""
    ys = (torch.arange(height, device=device, dtype=dtype) * 2 + 1) / height - 1
    xs = (torch.arange(width, device=device, dtype=dtype) * 2 + 1) / width - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack((gx, gy), dim=-1)[None]


def resize_flow(flow: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """(..., 2, h, w) flow in grid units → (..., 2, H, W), bilinear (grid units need no rescaling)."""
    size = (size, size) if isinstance(size, int) else tuple(size)
    if tuple(flow.shape[-2:]) == size:
        return flow
    lead = flow.shape[:-3]
    out = F.interpolate(flow.reshape(-1, *flow.shape[-3:]), size=size, mode="bilinear", align_corners=False)
    return out.reshape(*lead, flow.shape[-3], *size)


def warp(image: torch.Tensor, flow: torch.Tensor, padding_mode: str = "border") -> torch.Tensor:
    """Backward-warp (N, C, H, W) images by (N, 2, H, W) flows in grid units; differentiable in both."""
    grid = identity_grid(*flow.shape[-2:], device=flow.device, dtype=flow.dtype) + flow.permute(0, 2, 3, 1)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


def warp_video(image: torch.Tensor, flow: torch.Tensor, padding_mode: str = "border") -> torch.Tensor:
    """Warp one image per clip by a flow per frame: (B, C, H, W), (B, T, 2, H, W) → (B, T, C, H, W).

    The T frames are stacked along the grid's height, so the source image is sampled T times without
    being copied T times (one grid_sample call per batch).
    """
    b, t, _, h, w = flow.shape
    grid = identity_grid(h, w, device=flow.device, dtype=flow.dtype) + flow.permute(0, 1, 3, 4, 2)  # (B, T, H, W, 2)
    out = F.grid_sample(image, grid.reshape(b, t * h, w, 2), mode="bilinear", padding_mode=padding_mode, align_corners=False)
    return out.reshape(b, image.shape[1], t, h, w).permute(0, 2, 1, 3, 4)


def pixels_to_grid(flow_px: torch.Tensor, width: int, height: int | None = None) -> torch.Tensor:
    """(..., 2, H, W) pixel flow → grid units."""
    height = height or width
    scale = flow_px.new_tensor([2.0 / width, 2.0 / height]).view(2, 1, 1)
    return flow_px * scale


def grid_to_pixels(flow: torch.Tensor, width: int, height: int | None = None) -> torch.Tensor:
    """(..., 2, H, W) grid-unit flow → pixels."""
    height = height or width
    scale = flow.new_tensor([width / 2.0, height / 2.0]).view(2, 1, 1)
    return flow * scale


def sample_flow_at(flow: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Flow (N, 2, H, W) in grid units read at (N, K, 2) points given in grid units → (N, K, 2)."""
    out = F.grid_sample(flow, points[:, :, None, :], mode="bilinear", padding_mode="border", align_corners=False)
    return out[..., 0].permute(0, 2, 1)


def track_points(flow: torch.Tensor, points: torch.Tensor, iterations: int = 8) -> torch.Tensor:
    """Where points of the source image move under a backward flow: solve y + flow(y) = x.

    flow: (N, 2, H, W) grid units; points: (N, K, 2) grid units in the source → (N, K, 2) in the output.
    Fixed-point iteration y ← x − flow(y), which converges for smooth flows with |∇flow| < 1.
    """
    y = points.clone()
    for _ in range(iterations):
        y = points - sample_flow_at(flow, y)
    return y


def photometric_l1(warped: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Mean absolute difference, optionally weighted by a [0, 1] validity map broadcastable to the inputs."""
    diff = (warped - target).abs()
    if valid is None:
        return diff.mean()
    valid = valid.expand_as(diff)
    return (diff * valid).sum() / valid.sum().clamp_min(1.0)
