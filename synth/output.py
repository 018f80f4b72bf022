"""`GeneratorOutput`: the clip a generator made plus the intermediates that made it, and the one rule
that relates them (`compose_frames`)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mexkit.clip import Clip


def compose_frames(neutral_crop: np.ndarray, flow: np.ndarray, residual: np.ndarray | None = None) -> np.ndarray:
    """The composition rule every generator's output obeys:

        frame[t] = clip(warp(neutral, flow[t]) + 255 · residual[t], 0, 255)

    neutral_crop: (S, S, 3) uint8, the aligned face at the output size (== the clip's frame 0).
    flow: (T, S, S, 2) backward flow in pixels: frame t samples the neutral crop at x + flow[t](x)
      (bilinear, border replicated). residual: (T, S, S, 3) in units of 255 grey levels, additive, and
      already including any occlusion, shading or painted mouth; None = 0. → (T, S, S, 3) uint8, rounded once.
    """
    import torch

    from .flow_warp import pixels_to_grid, warp_video

    # exact bilinear sampling (torch grid_sample at pixel centres; cv2.remap would quantise the
    # sampling positions to 1/32 px, a few grey levels on sharp edges)
    flow_grid = pixels_to_grid(torch.from_numpy(np.asarray(flow, np.float32)).permute(0, 3, 1, 2), flow.shape[2], flow.shape[1])
    image = torch.from_numpy(np.ascontiguousarray(neutral_crop)).permute(2, 0, 1)[None].float()
    x = warp_video(image, flow_grid[None])[0].permute(0, 2, 3, 1)  # (T, S, S, 3), grey levels
    if residual is not None:
        x = x + 255.0 * torch.from_numpy(np.asarray(residual, np.float32))
    return x.round().clamp(0, 255).to(torch.uint8).numpy()


@dataclass
class GeneratorOutput:
    """clip: the generated Clip (frame 0 == input crop at the generator's resolution).
    flow: (T, H, W, 2) float32 backward flow in pixels (frame t samples the neutral crop at x + flow[t](x)).
    mask: (T, H, W) float32 in [0, 1], the visibility map the generator used (1 = warped neutral pixel
      shown unchanged); informational — the frames do not depend on it beyond what `residual` holds.
    residual: (T, H, W, 3) float32 additive correction in units of 255 grey levels (None = 0).
    landmarks: (T, 68, 2) float32 landmark trajectory in crop pixels, where the generator knows it.

    Composition (`compose_frames`): frame[t] = clip(warp(neutral, flow[t]) + 255 · residual[t], 0, 255),
    up to the rounding and warp-implementation differences of a grey level or two.
    """

    clip: Clip
    flow: np.ndarray | None = None
    mask: np.ndarray | None = None
    residual: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    extras: dict = field(default_factory=dict)

    def composed_frames(self) -> np.ndarray:
        """The frames rebuilt from the neutral crop (frame 0), `flow` and `residual` by `compose_frames`."""
        return compose_frames(self.clip.frames[0], self.flow, self.residual)
