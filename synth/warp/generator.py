"""The warp baseline: FACS action-unit landmark templates → thin-plate-spline warp of the neutral crop.

No learning. The class (or the target AUs) picks AU templates (au_templates.py); intensity scales
their displacement relative to the face's inter-ocular distance; the condition's timing profile
(onset → apex → offset, in ms via duration and fps) scales the apex displacement over time. The dense
backward flow is solved once at the apex (dense_warp.py) and scaled by the profile per frame, so a
16-frame 128² clip costs one small spline solve plus 16 `cv2.remap`s.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from mexkit.clip import Clip

from .au_templates import au_displacement, check_label, normalize_aus, resolve_aus, templates_hash, to_image_frame
from ..condition import Condition
from .dense_warp import (
    CLOSED_MOUTH_INNER, LandmarkWarper, pixel_coordinate_maps, mouth_colour, mouth_opening, paint_mouth, rendered_points_scaled,
    warp_frames_scaled,
)
from ..generator import Generator
from ..neutral_face import NeutralFace
from ..output import GeneratorOutput


def resize_face(face: NeutralFace, size: int) -> NeutralFace:
    """The same aligned face at another crop size (landmarks scaled with it)."""
    if face.resolution == size:
        return face
    interp = cv2.INTER_AREA if size < face.resolution else cv2.INTER_CUBIC
    crop = cv2.resize(face.crop, (size, size), interpolation=interp)
    s = size / face.resolution
    # Pixel centres: x_new + 0.5 = (x_old + 0.5) · s
    lm = ((np.asarray(face.landmarks, np.float64) + 0.5) * s - 0.5).astype(np.float32)
    return NeutralFace(crop=crop, landmarks=lm, subject=face.subject, source=face.source, meta=dict(face.meta, resized_from=face.resolution))


class WarpGenerator(Generator):
    """Warp-baseline generator: `gen.generate(face, Condition(label="positive", intensity=0.4), generator=seed)`.

    resolution: output crop side (faces of another size are resized). grid: coarse spline grid side
    (None → resolution // 4). au_jitter: per-sample random scale of each AU weight, uniform in
    [1 - au_jitter, 1 + au_jitter] (seeded; 0 for exactly the template). The seed also picks the
    variant for classes with several AU sets (negative → anger, disgust, fear, repression, sadness).

    Returns GeneratorOutput with clip (frames uint8 (T, S, S, 3), frame 0 == the input crop; label,
    aus, onset/apex/offset from the condition), flow (T, S, S, 2) backward flow, landmarks (T, 68, 2)
    where the neutral landmarks are rendered in each frame, and extras with the requested landmark
    trajectory and the AU weights used.
    """

    generator_name = "warp"
    train_subjects = ()  # hand-set templates: no subject's data shaped it

    def __init__(self, resolution: int = 128, grid: int | None = None, au_jitter: float = 0.1):
        if not 0.0 <= au_jitter < 1.0:
            raise ValueError(f"au_jitter must be in [0, 1), got {au_jitter}")
        self.resolution = int(resolution)
        self.grid = grid
        self.au_jitter = float(au_jitter)
        self._warper_key: bytes | None = None
        self._warper: LandmarkWarper | None = None
        self._grid = pixel_coordinate_maps(self.resolution)

    def weights_hash(self) -> str:
        """Hash of the AU templates, class sets and settings (the warp baseline's 'weights')."""
        import hashlib

        cfg = f"{templates_hash()}|{self.resolution}|{self.grid}|{self.au_jitter}"
        return hashlib.sha256(cfg.encode()).hexdigest()[:16]

    def check_condition(self, condition: Condition) -> None:
        """Raise MexkitInputError for a class or AU the templates do not know (before any work)."""
        check_label(condition.label)
        normalize_aus(condition.aus)

    def warper(self, face: NeutralFace) -> LandmarkWarper:
        """The spline system of this face (cached for the last face: the writer animates each face N times)."""
        key = np.ascontiguousarray(face.landmarks, np.float32).tobytes()
        if key != self._warper_key:
            self._warper = LandmarkWarper(face.landmarks, face.resolution, grid=self.grid)
            self._warper_key = key
        return self._warper

    def sample_aus(self, condition: Condition, generator: torch.Generator) -> tuple[str, dict[str, float]]:
        """Seeded choice of the AU set (variant for multi-variant classes) and per-AU jitter."""
        self.check_condition(condition)
        u = torch.rand(1 + 32, generator=generator, dtype=torch.float64).numpy()
        variant, weights = resolve_aus(condition.label, condition.aus, choice=float(u[0]))
        jitter = 1.0 + self.au_jitter * (2.0 * u[1:] - 1.0)
        names = sorted(weights, key=lambda a: int(a[2:]))
        return variant, {au: float(weights[au] * jitter[i]) for i, au in enumerate(names)}

    def apex_displacement(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> tuple[np.ndarray, str, dict[str, float]]:
        """(68, 2) pixel displacement of the landmarks at the apex, the variant and the AU weights."""
        variant, weights = self.sample_aus(condition, generator)
        local = au_displacement(weights) * float(condition.intensity)
        return to_image_frame(local, face.landmarks), variant, weights

    def animate(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> GeneratorOutput:
        face = resize_face(face, self.resolution)
        disp, variant, weights = self.apex_displacement(face, condition, generator)
        profile = condition.profile().astype(np.float32)  # (T,), 0 at onset
        warper = self.warper(face)
        apex_flow = warper.backward_flow(disp)  # (S, S, 2)
        flows = profile[:, None, None, None] * apex_flow[None]  # (T, S, S, 2)
        frames = warp_frames_scaled(face.crop, apex_flow, profile, self._grid)
        landmarks = rendered_points_scaled(face.landmarks, apex_flow, profile)
        requested = (face.landmarks[None] + profile[:, None, None] * disp[None]).astype(np.float32)
        mask = residual = None
        if warper.mouth_closed:
            frames, mask, residual = open_mouth(frames, landmarks, requested, face)
        aus = "+".join(a[2:] for a in sorted(weights, key=lambda a: int(a[2:])))
        clip = Clip(
            frames=frames, fps=float(condition.fps), subject=face.subject, onset=0, apex=condition.apex_frame,
            offset=condition.offset_frame, label=condition.label, aus=aus, dataset="synthetic", source=face.source,
            landmarks=landmarks,
            meta={"generator": self.generator_name, "variant": variant, "au_weights": weights,
                  "intensity": float(condition.intensity), "condition": condition.to_dict()},
        )
        return GeneratorOutput(
            clip=clip, flow=flows, mask=mask, residual=residual, landmarks=landmarks,
            extras={"requested_landmarks": requested, "apex_displacement": disp,
                    "profile": profile, "variant": variant, "au_weights": weights},
        )


def open_mouth(frames: np.ndarray, landmarks: np.ndarray, requested: np.ndarray, face: NeutralFace):
    """Closed neutral mouth: paint the interior where the requested inner lips part (see dense_warp).

    frames (T, S, S, 3) and landmarks (T, 68, 2) are updated in place: in painted frames the inner-lip
    landmarks are where the painted opening's edge was drawn. Returns (frames, mask, residual) with
    mask = 1 - painted fraction and residual = (painted − warped) / 255, so frame = warped + 255 · residual
    (the composition rule, output.py), or both None when nothing opened.
    """
    colour = mouth_colour(face.crop, face.landmarks)
    warped = frames.copy()
    frames, alpha = paint_mouth(frames, requested, colour, float(mouth_opening(face.landmarks)))
    if alpha is None:
        return frames, None, None
    painted = alpha.reshape(len(alpha), -1).max(1) > 0
    inner = list(CLOSED_MOUTH_INNER)
    for t in np.flatnonzero(painted):
        landmarks[t, inner] = requested[t, inner]
    residual = np.subtract(frames, warped, dtype=np.float32)
    residual *= 1.0 / 255.0
    return frames, 1.0 - alpha, residual
