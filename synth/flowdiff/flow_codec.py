"""Flow + occlusion sequences ↔ the normalised tensor the flow diffusion denoises, and timing profiles.

The diffusion state is x (B, 3, T, h, w) (UNet3D layout: channels before frames):
  x[:, 0:2] = backward flow in grid_sample units (see flow_warp.py) / flow_scale
  x[:, 2]   = occlusion (1 − mask) in [0, 1] / occlusion_scale
Frame 0 is the neutral face itself: its flow and occlusion are zero by construction.

Occlusion targets come from the flow: where the backward flow diverges (det(I + ∇f) > 1) a larger
source patch is squeezed into the output — skin folding into a crease or under a lip — so
occlusion = clamp(gain · relu(div f), 0, 1), div measured in low-resolution pixels per pixel (scale free).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def expression_profile(apex_at: torch.Tensor | float, num_frames: int, offset_at: torch.Tensor | float = 1.0) -> torch.Tensor:
    """(B,) apex (and offset) fractions → (B, T) raised-cosine expression strength in [0, 1].

    Continuous in the fractions (no rounding to frames), 0 at frame 0, 1 at the apex, back to 0 at the
    offset — the shape of `Condition.profile()`.
    """
    apex_at = torch.as_tensor(apex_at, dtype=torch.float32).reshape(-1, 1).clamp(0.0, 1.0)
    offset_at = torch.as_tensor(offset_at, dtype=torch.float32, device=apex_at.device).reshape(-1, 1).expand_as(apex_at)
    offset_at = torch.maximum(offset_at.clamp(0.0, 1.0), apex_at)
    s = torch.linspace(0.0, 1.0, num_frames, device=apex_at.device)[None]
    rise = 0.5 - 0.5 * torch.cos(math.pi * s / apex_at.clamp_min(1e-6))
    fall = 0.5 + 0.5 * torch.cos(math.pi * (s - apex_at) / (offset_at - apex_at).clamp_min(1e-6))
    p = torch.where(s <= apex_at, rise, torch.where(s <= offset_at, fall, torch.zeros_like(s)))
    p[:, 0] = 0.0
    return p.clamp(0.0, 1.0)


def resample_frames(x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Linear resampling along time of (B, T, ...) → (B, num_frames, ...); first and last frames kept."""
    b, t = x.shape[:2]
    if t == num_frames:
        return x
    flat = x.reshape(b, t, -1).transpose(1, 2)  # (B, D, T)
    out = F.interpolate(flat, size=num_frames, mode="linear", align_corners=True)
    return out.transpose(1, 2).reshape(b, num_frames, *x.shape[2:])


def downsample_flow(flow: torch.Tensor, size: int) -> torch.Tensor:
    """(B, T, C, H, W) → (B, T, C, size, size) by area averaging (grid units need no rescaling)."""
    b, t, c, h, w = flow.shape
    if (h, w) == (size, size):
        return flow
    mode = "area" if h >= size else "bilinear"
    kw = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(flow.reshape(b * t, c, h, w), size=(size, size), mode=mode, **kw).reshape(b, t, c, size, size)


def flow_divergence(flow: torch.Tensor) -> torch.Tensor:
    """(..., 2, h, w) grid-unit flow → (..., 1, h, w) divergence in pixels per pixel at this resolution."""
    h, w = flow.shape[-2:]
    u = flow[..., 0, :, :] * (w / 2.0)
    v = flow[..., 1, :, :] * (h / 2.0)
    du = torch.zeros_like(u)
    dv = torch.zeros_like(v)
    du[..., :, 1:-1] = 0.5 * (u[..., :, 2:] - u[..., :, :-2])
    dv[..., 1:-1, :] = 0.5 * (v[..., 2:, :] - v[..., :-2, :])
    return (du + dv).unsqueeze(-3)


def occlusion_from_flow(flow: torch.Tensor, gain: float) -> torch.Tensor:
    """(..., 2, h, w) backward flow → (..., 1, h, w) occlusion in [0, 1] (see module docstring)."""
    return (gain * flow_divergence(flow).clamp_min(0.0)).clamp(0.0, 1.0)


def encode_flow(flow: torch.Tensor, occlusion: torch.Tensor, flow_scale: float, occlusion_scale: float) -> torch.Tensor:
    """flow (B, T, 2, h, w) grid units and occlusion (B, T, 1, h, w) → diffusion state (B, 3, T, h, w)."""
    x = torch.cat([flow / flow_scale, occlusion / occlusion_scale], dim=2)
    return x.permute(0, 2, 1, 3, 4).contiguous()


def decode_flow(x: torch.Tensor, flow_scale: float, occlusion_scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Diffusion state (B, 3, T, h, w) → flow (B, T, 2, h, w) grid units and occlusion (B, T, 1, h, w) in [0, 1].

    Frame 0 gets exactly zero flow and occlusion (the neutral face is the clip's first frame)."""
    x = x.permute(0, 2, 1, 3, 4)
    flow = x[:, :, 0:2] * flow_scale
    occlusion = (x[:, :, 2:3] * occlusion_scale).clamp(0.0, 1.0)
    keep = torch.ones_like(flow[:1, :, :1, :1, :1])
    keep[:, 0] = 0.0
    return flow * keep, occlusion * keep
