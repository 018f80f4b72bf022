"""Making a micro-expression visible in a report: motion magnification and slow motion (docs/design.md §8).

A micro-expression moves a few pixels for a fraction of a second: at real speed and size nobody sees it.
`magnify` is a linear Eulerian-style magnification (Wu et al., SIGGRAPH 2012, first-order form) of the
change since the onset frame: with D_t = G_σ * (I_t − I_0), the spatially low-passed intensity change,
the shown frame is I_t + α·D_t — for a small motion δ this is the image moved by (1 + α)·δ. The low-pass
keeps pixel noise from being amplified. Large motions (a macro-expression, a head turn) would ghost and
saturate, so detect lowers α per clip until the added change stays within MAX_CHANGE grey levels (99th
percentile) and prints the factor used; the recognizer always sees the unmagnified clip.
`slow_motion` picks the frames and playback rate of a GIF that plays the interval `slowdown` times slower.
"""
from __future__ import annotations

import cv2
import numpy as np

ALPHA = 6.0
SIGMA = 2.0
SLOWDOWN = 4.0
MAX_CHANGE = 48.0  # grey levels the magnification may add (99th percentile): big motions are magnified less


def magnify(frames: np.ndarray, alpha: float = ALPHA, sigma: float = SIGMA, reference: int = 0,
            max_change: float | None = None) -> np.ndarray:
    """uint8 (T, H, W, 3) → uint8 (T, H, W, 3): each frame's low-passed change since `reference` × (1 + alpha).
    max_change: lower alpha so the added change stays within this many grey levels (99th percentile) —
    a macro-expression is then shown less magnified instead of saturated (`magnify_alpha` gives the alpha used)."""
    if max_change is not None:
        alpha = magnify_alpha(frames, alpha, sigma, reference, max_change)
    x = np.asarray(frames, np.float32)
    ref = x[reference]
    out = np.empty_like(x)
    for t in range(len(x)):
        d = cv2.GaussianBlur(x[t] - ref, (0, 0), sigma) if sigma > 0 else x[t] - ref
        out[t] = x[t] + alpha * d
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def magnify_alpha(frames: np.ndarray, alpha: float = ALPHA, sigma: float = SIGMA, reference: int = 0,
                  max_change: float = MAX_CHANGE) -> float:
    """The alpha (≤ `alpha`) whose added change α·|D_t| stays within `max_change` grey levels at the 99th percentile."""
    x = np.asarray(frames, np.float32)
    ref = x[reference]
    p99 = max((float(np.percentile(np.abs(cv2.GaussianBlur(x[t] - ref, (0, 0), sigma) if sigma > 0 else x[t] - ref), 99))
               for t in range(len(x))), default=0.0)
    return float(min(alpha, max_change / p99)) if p99 > 0 else float(alpha)


def slow_motion(frames: np.ndarray, fps: float, slowdown: float = SLOWDOWN, max_frames: int = 48,
                max_gif_fps: float = 25.0) -> tuple[np.ndarray, float]:
    """(frames, GIF fps) playing `frames` (recorded at fps) `slowdown` times slower: at most max_frames
    frames (evenly picked) and a playback rate browsers keep (≤ max_gif_fps), the playing time preserved."""
    n = len(frames)
    duration = n / fps * slowdown  # seconds the GIF should last
    keep = int(min(n, max_frames, max(2, round(duration * max_gif_fps))))
    idx = np.unique(np.round(np.linspace(0, n - 1, keep)).astype(int))
    return np.asarray(frames)[idx], len(idx) / duration


def gif_bytes(frames: np.ndarray, fps: float) -> bytes:
    """A looping GIF of uint8 (T, H, W, 3) frames at `fps`, palettes by fast octree quantization (about 15× faster
    than PIL's default median cut on 128² face crops, which matters with one GIF per spotted interval)."""
    import io

    from PIL import Image

    imgs = [Image.fromarray(np.ascontiguousarray(f)).quantize(colors=256, method=Image.Quantize.FASTOCTREE) for f in frames]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=int(round(1000.0 / fps)), loop=0)
    return buf.getvalue()
