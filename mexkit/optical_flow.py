"""Dense optical flow (TV-L1 / Farneback / DIS), optical strain, and flow warping.

Shared by the preprocessing cache (datasets), recognition features (recog) and temporal metrics
(eval). Flow is (H, W, 2) float32 in pixels, (u, v) = (dx, dy), mapping frame a → frame b.
"""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

FLOW_METHODS = ("tvl1", "dis", "farneback")


def tvl1_available() -> bool:
    return hasattr(cv2, "optflow") and hasattr(cv2.optflow, "DualTVL1OpticalFlow_create")


def resolve_method(method: str = "tvl1") -> str:
    """The flow method that will really run: TV-L1 needs opencv-contrib; otherwise fall back to DIS."""
    if method not in FLOW_METHODS:
        raise ValueError(f"unknown flow method {method!r}; choose one of {FLOW_METHODS}")
    if method == "tvl1" and not tvl1_available():
        return "dis"
    return method


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img


DIS_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
               "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def compute_flow(a: np.ndarray, b: np.ndarray, method: str = "tvl1", dis_preset: str = "medium",
                 tvl1_params: dict | None = None) -> np.ndarray:
    """Flow from image a to image b (RGB or gray uint8) → (H, W, 2) float32. See `resolve_method`.

    dis_preset: "medium" (default), "fast" or "ultrafast" — speed against accuracy for DIS.
    tvl1_params: OpenCV DualTVL1 settings, e.g. {"scaleStep": 0.5, "warps": 3} (defaults: OpenCV's).
    The method and settings used should be recorded by callers that store flow.
    """
    method = resolve_method(method)
    ga, gb = _gray(a), _gray(b)
    if method == "tvl1":
        flow = cv2.optflow.DualTVL1OpticalFlow_create(**(tvl1_params or {})).calc(ga, gb, None)
    elif method == "dis":
        if dis_preset not in DIS_PRESETS:
            raise ValueError(f"unknown DIS preset {dis_preset!r}; choose one of {sorted(DIS_PRESETS)}")
        flow = cv2.DISOpticalFlow_create(DIS_PRESETS[dis_preset]).calc(ga, gb, None)
    else:
        flow = cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    return flow.astype(np.float32)


def optical_strain(flow: np.ndarray) -> np.ndarray:
    """Magnitude of the optical strain tensor of a flow field → (H, W) float32.

    ε = ½(∇u + ∇uᵀ); magnitude = sqrt(εxx² + εyy² + 2 εxy²) (Shreve et al.; used by STSTNet, Bi-WOOF).
    """
    u, v = flow[..., 0].astype(np.float32), flow[..., 1].astype(np.float32)
    uy, ux = np.gradient(u)
    vy, vx = np.gradient(v)
    exy = 0.5 * (uy + vx)
    return np.sqrt(ux**2 + vy**2 + 2 * exy**2).astype(np.float32)


def warp_backward(image: np.ndarray, flow: np.ndarray, border: int = cv2.BORDER_REPLICATE) -> np.ndarray:
    """Sample `image` at x + flow(x): with flow b→a this warps frame a onto frame b."""
    gx, gy = pixel_grid(*flow.shape[:2])
    return cv2.remap(image, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=border)


@lru_cache(maxsize=8)
def pixel_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel x and y coordinates (H, W) float32, made once per frame size (read-only arrays)."""
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    gx.flags.writeable = gy.flags.writeable = False
    return gx, gy
