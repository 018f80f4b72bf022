"""Composing a generated micro-expression with the person's own motion, frame by frame.

The generator animates the face of the window's onset frame (aligned with that frame's similarity A₀).
Its flow f and residual r live in that crop's coordinates, that is, in *face* coordinates: a crop pixel
is a place on the face (a point of the brow, a mouth corner), not a place in the picture. At window
frame k the person has moved (head, speech); the face is aligned again on that frame (A_k, from its own
landmarks), and the synthetic motion is carried to the image through A_k, exactly as full-frame
rendering does for a photo (mexkit.synth.full_frame, with that frame's mask):

    frame'_k(x) = frame_k(x + m_k(x) · M_k⁻¹ · f_τ(A_k x)) + 255 · m_k(x) · r_τ(A_k x)

So the micro-expression rides on whatever the face was doing, and pixels outside frame k's face mask
keep their bytes. τ is the frame's time since the onset (its own timestamp: variable frame rates keep
their timing); f_τ interpolates the generated frames linearly in time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mexkit.face.align import eye_affine
from mexkit.face.landmark_schemes import eye_centers68

from ..full_frame import face_region, render_motion
from ..output import GeneratorOutput


@dataclass
class FrameFace:
    """One window frame's face: (68, 2) landmarks in image pixels (iBUG layout)."""

    landmarks68: np.ndarray

    def affine(self, size: int) -> np.ndarray:
        """Image → eye-template crop of `size` pixels, from this frame's own eye centres."""
        return eye_affine(*eye_centers68(self.landmarks68), size)


def motion_at(output: GeneratorOutput, tau_s: float, fps: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The generated flow (S, S, 2) and residual (S, S, 3) or None at `tau_s` seconds after the onset
    (linear in time between generated frames; held at the last one)."""
    n = len(output.flow)
    u = float(np.clip(tau_s * fps, 0.0, n - 1))
    i = int(np.floor(u))
    j, w = min(i + 1, n - 1), u - i
    flow = output.flow[i] if w == 0 else (1 - w) * output.flow[i] + w * output.flow[j]
    res = None
    if output.residual is not None:
        res = output.residual[i] if w == 0 else (1 - w) * output.residual[i] + w * output.residual[j]
    return np.asarray(flow, np.float32), None if res is None else np.asarray(res, np.float32)


def compose_frame(image: np.ndarray, face: FrameFace, output: GeneratorOutput, tau_s: float, fps: float) -> np.ndarray:
    """One window frame with the micro-expression on top of the person's own motion (module docstring)."""
    flow, res = motion_at(output, tau_s, fps)
    size = flow.shape[0]
    region = face_region(face.landmarks68, face.affine(size), image.shape, size)
    return next(render_motion(image, [region], [flow[None]], [None if res is None else res[None]]))
