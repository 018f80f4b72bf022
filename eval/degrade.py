"""Controlled degradations of real clips — the yardsticks the metrics are validated against.

Each takes uint8 frames (T, H, W, 3) and returns new uint8 frames; randomness comes from `seed`.
"""
from __future__ import annotations

import cv2
import numpy as np


def add_flicker(frames: np.ndarray, amplitude: float, seed: int = 0) -> np.ndarray:
    """Per-frame random brightness gain and offset (±amplitude grey levels at mid-grey)."""
    rng = np.random.default_rng(seed)
    out = frames.astype(np.float32)
    for t in range(len(out)):
        a = rng.uniform(-1, 1) * amplitude
        out[t] = out[t] * (1.0 + a / 255.0) + a / 2.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def add_jitter(frames: np.ndarray, pixels: float, seed: int = 0) -> np.ndarray:
    """Per-frame random translation of up to `pixels` (sub-pixel, replicated border)."""
    rng = np.random.default_rng(seed)
    h, w = frames.shape[1:3]
    out = []
    for f in frames:
        dx, dy = rng.uniform(-1, 1, 2) * pixels
        m = np.array([[1, 0, dx], [0, 1, dy]], np.float32)
        out.append(cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE))
    return np.stack(out)


def blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of every frame (σ in pixels; 0 returns a copy)."""
    if sigma <= 0:
        return frames.copy()
    return np.stack([cv2.GaussianBlur(f, (0, 0), sigma) for f in frames])


def add_noise(frames: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Additive Gaussian noise of standard deviation `sigma` grey levels."""
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(frames.astype(np.float32) + rng.normal(0.0, sigma, frames.shape)), 0, 255).astype(np.uint8)


def interleave(sequences: list[np.ndarray], length: int | None = None) -> np.ndarray:
    """Frames taken in turn from several sequences (e.g. different people): frame t from sequence t mod k."""
    length = length or min(len(s) for s in sequences)
    return np.stack([sequences[t % len(sequences)][t % len(sequences[t % len(sequences)])] for t in range(length)])
