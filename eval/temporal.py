"""Temporal metrics of a clip: warping error, flicker, jitter and tST-LPIPS (or tLPIPS).

- warp_error (Lai et al., ECCV 2018): frame t warped onto t+1 by the optical flow t+1 → t; mean squared
  RGB error (values in [0, 1]) over the non-occluded pixels, averaged over frame pairs. As in Lai et al.
  (after Ruder et al.'s consistency checker) a pixel is left out when it fails the forward–backward flow
  consistency check, lies on a motion boundary, or is warped from outside the frame; all pixels are
  used only for a pair where none is left.
- flicker: the same motion-compensated comparison on low-frequency luminance (Gaussian σ = size/16),
  mean absolute difference ×255 (grey levels) — brightness pumping that motion cannot explain.
- jitter: RMS change of the global (median) frame-to-frame displacement, in inter-ocular distances
  (the template IOD of an aligned crop) — shake that a smooth expression does not have.
- <m>_consecutive: mean perceptual distance between consecutive frames; t<m> (tLPIPS of TecoGAN, Chu et
  al. 2020): mean |D(g_t, g_t+1) − D(r_t, r_t+1)| against a reference clip. D is the suite's perceptual
  model, <m> its metric: st_lpips (ST-LPIPS, the default: st_lpips_consecutive, tst_lpips) or lpips.
"""
from __future__ import annotations

import cv2
import numpy as np

from mexkit.clip import Clip
from mexkit.face.align import template_iod
from mexkit.optical_flow import compute_flow, pixel_grid, resolve_method, warp_backward

from .perceptual import LPIPS


def clip_flows(frames: np.ndarray, method: str = "dis") -> tuple[np.ndarray, np.ndarray]:
    """Forward (t → t+1) and backward (t+1 → t) flows of consecutive frames: two (T-1, H, W, 2) arrays."""
    fw = np.stack([compute_flow(frames[t], frames[t + 1], method) for t in range(len(frames) - 1)])
    bw = np.stack([compute_flow(frames[t + 1], frames[t], method) for t in range(len(frames) - 1)])
    return fw, bw


def consistent_mask(fw: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """Pixels of frame t+1 whose backward flow is confirmed by the forward flow (H, W) bool.

    Test of Sundaram et al. (2010) as used by Ruder et al.: |b + f(x+b)|² ≤ 0.01 (|b|² + |f(x+b)|²) + 0.5;
    pixels whose source x + b lies outside the frame are invalid too.
    """
    fw_at = warp_backward(fw, bw)
    lhs = _sq_norm(bw + fw_at)
    rhs = 0.01 * (_sq_norm(bw) + _sq_norm(fw_at)) + 0.5
    return (lhs <= rhs) & _inside(bw)


def _sq_norm(v: np.ndarray) -> np.ndarray:
    """Squared length over the last axis, summed in order (the value of (v**2).sum(-1), without numpy's
    slow reduction over a 2- or 3-long axis)."""
    out = v[..., 0] * v[..., 0]
    for i in range(1, v.shape[-1]):
        out += v[..., i] * v[..., i]
    return out


def motion_boundary(flow: np.ndarray) -> np.ndarray:
    """Pixels on a motion boundary of a flow (H, W) bool: |∇u|² + |∇v|² > 0.01 |w|² + 0.002 (Sundaram et
    al. 2010, the second occlusion term Lai et al. 2018 use)."""
    uy, ux = np.gradient(flow[..., 0])
    vy, vx = np.gradient(flow[..., 1])
    return ux**2 + uy**2 + vx**2 + vy**2 > 0.01 * _sq_norm(flow) + 0.002


def valid_pixels(fw: np.ndarray | None, bw: np.ndarray) -> np.ndarray:
    """Pixels of frame t+1 a warping error may use (H, W) bool: consistent, off motion boundaries and
    warped from inside the frame; without the forward flow (fw None) only the last test applies."""
    if fw is None:
        return _inside(bw)
    return consistent_mask(fw, bw) & ~motion_boundary(bw)


def _inside(bw: np.ndarray) -> np.ndarray:
    """Pixels whose backward-flow source x + b lies inside the frame."""
    h, w = bw.shape[:2]
    gx, gy = pixel_grid(h, w)
    sx, sy = gx + bw[..., 0], gy + bw[..., 1]
    return (sx >= 0) & (sx <= w - 1) & (sy >= 0) & (sy <= h - 1)


def _median_flow(flows: np.ndarray) -> np.ndarray:
    """(T, H, W, 2) flows → (T, 2) median displacement of each."""
    return np.median(np.ascontiguousarray(flows.reshape(len(flows), -1, 2).transpose(0, 2, 1)), axis=2)


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def temporal_scores(frames: np.ndarray, flow_method: str = "dis", occlusion: bool = True) -> dict[str, float]:
    """warp_error, flicker, jitter and the share of pixels left out as occluded, for uint8 (T, H, W, 3) frames.

    occlusion=False skips the forward flows, the consistency check and the motion-boundary term (half the
    flow work; only pixels warped from outside the frame are left out).
    """
    frames = np.asarray(frames)
    if len(frames) < 2:
        raise ValueError("temporal metrics need at least two frames")
    h, w = frames.shape[1:3]
    if occlusion:
        fw, bw = clip_flows(frames, flow_method)
    else:
        bw = np.stack([compute_flow(frames[t + 1], frames[t], flow_method) for t in range(len(frames) - 1)])
        fw = None
    sigma = max(h, w) / 16.0
    errs, flick, occluded = [], [], []
    for t in range(len(frames) - 1):
        mask = valid_pixels(fw[t] if occlusion else None, bw[t])
        if not mask.any():  # no pixel left to compare: fall back to all of them
            mask = np.ones_like(mask)
        occluded.append(1.0 - mask.mean())
        warped = warp_backward(frames[t], bw[t]).astype(np.float32) / 255.0
        target = frames[t + 1].astype(np.float32) / 255.0
        errs.append(float(_sq_norm(warped - target)[mask].mean() / 3.0))
        lw = cv2.GaussianBlur(_luma(warped), (0, 0), sigma)
        lt = cv2.GaussianBlur(_luma(target), (0, 0), sigma)
        flick.append(float(np.abs(lw - lt)[mask].mean() * 255.0))
    # global motion per pair: median flow over the frame; jitter = RMS of its change between pairs
    # (medians over a contiguous last axis: the same values, a faster partition)
    d = _median_flow(fw) if occlusion else -_median_flow(bw)
    jitter = float(np.sqrt((np.diff(d, axis=0) ** 2).sum(-1).mean())) if len(d) > 1 else 0.0
    return {
        "warp_error": float(np.mean(errs)),
        "flicker": float(np.mean(flick)),
        "jitter": jitter / template_iod(min(h, w)),
        "occluded_share": float(np.mean(occluded)),
    }


class TemporalScorer:
    """Per-clip temporal scores (see the module docstring); tST-LPIPS / tLPIPS when a perceptual model is given."""

    family = "temporal"

    def __init__(self, flow_method: str = "dis", lpips: LPIPS | None = None, occlusion: bool = True):
        self.flow_method = resolve_method(flow_method)
        self.lpips = lpips
        self.occlusion = occlusion

    def __call__(self, clip: Clip, reference: Clip | None = None) -> dict[str, float]:
        row = temporal_scores(clip.frames, self.flow_method, self.occlusion)
        if self.lpips is not None:
            m = getattr(self.lpips, "metric", "lpips")
            g = self._consecutive(clip.frames)
            row[f"{m}_consecutive"] = float(g.mean())
            if reference is not None:
                from .perceptual import match_reference

                ref = match_reference(clip, reference)
                row[f"t{m}"] = float(np.abs(g - self._consecutive(ref)).mean())
        row["flow_method"] = self.flow_method
        return row

    def _consecutive(self, frames: np.ndarray) -> np.ndarray:
        """(T-1,) distances of consecutive frames (each frame's features once, where the model can)."""
        if hasattr(self.lpips, "consecutive"):
            return self.lpips.consecutive(frames)
        return self.lpips(frames[:-1], frames[1:])
