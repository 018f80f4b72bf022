"""`GeneratorOutput`: the clip a generator made plus the intermediates that made it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mexkit.clip import Clip


@dataclass
class GeneratorOutput:
    """clip: the generated Clip (frame 0 == input crop).
    flow: (T, H, W, 2) float32 backward flow (frame t samples the neutral crop at x + flow[t](x)).
    mask: (T, H, W) float32 occlusion / blend mask in [0, 1] (1 = warped neutral pixel kept).
    residual: (T, H, W, 3) float32 additive correction in [-1, 1] units of 255 grey levels.
    landmarks: (T, 68, 2) float32 landmark trajectory in crop pixels, where the generator knows it.

    Composition: frame[t] = mask[t] · warp(neutral, flow[t]) + 255 · residual[t] (clipped to 0–255).
    """

    clip: Clip
    flow: np.ndarray | None = None
    mask: np.ndarray | None = None
    residual: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    extras: dict = field(default_factory=dict)
