"""Making a micro-expression visible in a report: motion magnification and slow motion (docs/design.md §8).

A micro-expression moves a few pixels for a fraction of a second: at real speed and size nobody sees it.
`magnify` is a linear Eulerian-style magnification (Wu et al., SIGGRAPH 2012, first-order form) of the
change since the onset frame: with D_t = G_σ * (I_t − I_0), the spatially low-passed intensity change,
the shown frame is I_t + α·D_t — for a small motion δ this is the image moved by (1 + α)·δ. The low-pass
keeps pixel noise from being amplified; large motions (a head turn, a macro-expression) ghost, which is
acceptable for a report: the aligned clip itself is what the recognizer sees, never the magnified one.
`slow_motion` picks the frames and playback rate of a GIF that plays the interval `slowdown` times slower.
"""
from __future__ import annotations

import cv2
import numpy as np

ALPHA = 6.0
SIGMA = 2.0
SLOWDOWN = 4.0


def magnify(frames: np.ndarray, alpha: float = ALPHA, sigma: float = SIGMA, reference: int = 0) -> np.ndarray:
    """uint8 (T, H, W, 3) → uint8 (T, H, W, 3): each frame's low-passed change since `reference` × (1 + alpha)."""
    x = np.asarray(frames, np.float32)
    ref = x[reference]
    out = np.empty_like(x)
    for t in range(len(x)):
        d = cv2.GaussianBlur(x[t] - ref, (0, 0), sigma) if sigma > 0 else x[t] - ref
        out[t] = x[t] + alpha * d
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


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
