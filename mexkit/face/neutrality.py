"""How neutral is an input face? MediaPipe's blendshapes of the face, as one score and its strongest parts.

A generator animates its input as if it were neutral: a "negative" clip made from a broad smile starts
from the smile. neutrality = 1 − the strongest expression blendshape (0–1 scores of MediaPipe's 52
ARKit-style shapes; blinks, gaze and `_neutral` left out, as they are no expression). Faces below
NEUTRALITY_WARN (a clear smile, an open-mouthed surprise: some shape above 0.6) are flagged: the writer
records every face's score and strongest shapes in the manifest and warns, and the demo animates the
neutral faces.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import cv2
import numpy as np

NEUTRALITY_WARN = 0.4
NOT_EXPRESSION = ("_neutral", "eyeBlink", "eyeLook")


class NonNeutralFaceWarning(UserWarning):
    """An input face shows an expression (neutrality below NEUTRALITY_WARN)."""


def expression_shapes(blendshapes: dict[str, float]) -> dict[str, float]:
    """The blendshapes that are expression (blinks, gaze and `_neutral` left out)."""
    return {k: float(v) for k, v in blendshapes.items() if not any(s in k for s in NOT_EXPRESSION)}


def neutrality_of(blendshapes: dict[str, float], top: int = 3) -> tuple[float, list[tuple[str, float]]]:
    """(neutrality, the `top` strongest expression shapes) of one face's blendshapes."""
    shapes = expression_shapes(blendshapes)
    if not shapes:
        return 1.0, []
    strongest = sorted(shapes.items(), key=lambda kv: -kv[1])[:top]
    return float(1.0 - strongest[0][1]), strongest


@lru_cache(maxsize=1)
def _pipeline():
    from .pipeline import FacePipeline

    return FacePipeline("mediapipe", resolution=256)


def face_blendshapes(crop: np.ndarray) -> dict[str, float] | None:
    """MediaPipe blendshapes of an aligned face crop (upscaled to 256 px first), None if no face is found."""
    if crop.shape[0] < 256:
        crop = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_LINEAR)
    faces = _pipeline().detect(np.ascontiguousarray(crop))
    return faces[0].blendshapes if faces and faces[0].blendshapes else None


def measure_neutrality(face, warn: bool = True) -> dict[str, object]:
    """{"neutrality": float or None, "expression_blendshapes": "name:score;…"} of a NeutralFace, from the
    blendshapes its preparation recorded (meta["blendshapes"]) or measured on its crop. Warns
    (NonNeutralFaceWarning) below NEUTRALITY_WARN when `warn`."""
    shapes = (face.meta or {}).get("blendshapes") or face_blendshapes(face.crop)
    if not shapes:
        return {"neutrality": None, "expression_blendshapes": ""}
    score, strongest = neutrality_of(shapes)
    text = ";".join(f"{k}:{v:.2f}" for k, v in strongest)
    if warn and score < NEUTRALITY_WARN:
        warnings.warn(f"{face.source or face.subject}: not a neutral face (neutrality {score:.2f} < {NEUTRALITY_WARN}; strongest: "
                      f"{text.replace(';', ', ')}); its clips start from this expression — prefer a neutral photo",
                      NonNeutralFaceWarning, stacklevel=2)
    return {"neutrality": round(score, 4), "expression_blendshapes": text}
