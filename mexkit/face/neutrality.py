"""How neutral is an input face? MediaPipe's blendshapes read against the prototypes of the basic emotions.

A generator animates its input as if it were neutral: a "negative" clip made from a broad smile starts
from the smile. Each of Ekman & Friesen's seven prototypes (EMFACS: the action units of happiness,
sadness, surprise, fear, anger, disgust and contempt) is scored as the mean of its action units' ARKit
blendshapes (left and right averaged; PROTOTYPES, AU_SHAPES); expressiveness is the strongest prototype
and neutrality = 1 − expressiveness. A single blendshape is not enough: at rest some faces hold a brow
or a squint at 0.4–0.6, which a prototype's mean dilutes, while a posed expression moves several of one
prototype's units together.

A face turned away (nose tip more than TURNED_LIMIT of the face's width off its centre line, about 30°
of yaw) scores 0: MediaPipe's blendshapes of a face in profile cannot vouch for it (the posed disgust
photo of the corpus reads as calm), and the generators assume a frontal face.

NEUTRALITY_WARN was chosen on real faces (docs/design.md §3): clip onsets and webcam rest frames against
posed photos and clip apexes, the threshold of the best balanced accuracy; the writer records every
face's score and warns below it, and the demo animates only faces above it that fer also reads as neutral.
"""
from __future__ import annotations

import warnings
from functools import lru_cache

import cv2
import numpy as np

NEUTRALITY_WARN = 0.747
TURNED_LIMIT = 0.25
# FACS action units → MediaPipe's ARKit blendshapes (left and right averaged)
AU_SHAPES = {1: "browInnerUp", 2: "browOuterUp", 4: "browDown", 5: "eyeWide", 6: "cheekSquint", 7: "eyeSquint",
             9: "noseSneer", 12: "mouthSmile", 14: "mouthDimple", 15: "mouthFrown", 16: "mouthLowerDown",
             20: "mouthStretch", 23: "mouthPress", 26: "jawOpen"}
# EMFACS prototypes of the basic emotions (Ekman & Friesen), as action units
PROTOTYPES = {"happiness": (6, 12), "sadness": (1, 4, 15), "surprise": (1, 2, 5, 26), "fear": (1, 2, 4, 5, 7, 20, 26),
              "anger": (4, 5, 7, 23), "disgust": (9, 15, 16), "contempt": (12, 14)}


class NonNeutralFaceWarning(UserWarning):
    """An input face shows an expression (neutrality below NEUTRALITY_WARN) or is turned away."""


def paired_shapes(blendshapes: dict[str, float]) -> dict[str, float]:
    """Blendshapes with each Left/Right pair averaged into one (`mouthSmileLeft`, `…Right` → `mouthSmile`)."""
    out: dict[str, list[float]] = {}
    for name, value in blendshapes.items():
        out.setdefault(name.removesuffix("Left").removesuffix("Right"), []).append(float(value))
    return {k: float(np.mean(v)) for k, v in out.items()}


def prototype_scores(blendshapes: dict[str, float]) -> dict[str, float]:
    """{emotion: mean of its prototype's action-unit blendshapes} (0–1)."""
    shapes = paired_shapes(blendshapes)
    return {emotion: float(np.mean([shapes.get(AU_SHAPES[au], 0.0) for au in aus])) for emotion, aus in PROTOTYPES.items()}


def neutrality_of(blendshapes: dict[str, float], top: int = 3) -> tuple[float, list[tuple[str, float]]]:
    """(neutrality = 1 − the strongest prototype, that prototype's `top` strongest blendshapes (paired))."""
    scores = prototype_scores(blendshapes)
    emotion = max(scores, key=scores.get)
    shapes = paired_shapes(blendshapes)
    parts = sorted(((AU_SHAPES[au], shapes.get(AU_SHAPES[au], 0.0)) for au in PROTOTYPES[emotion]), key=lambda kv: -kv[1])
    return float(1.0 - scores[emotion]), [(f"{emotion}/{name}", value) for name, value in parts[:top]]


def yaw_index(landmarks68: np.ndarray) -> float:
    """How far the face is turned: the nose tip's offset from the middle of the jaw line's ends, as a
    fraction of the face's width (iBUG 68 points: 30 nose tip, 0 and 16 jaw ends); 0 frontal, ±0.5 profile."""
    lm = np.asarray(landmarks68, np.float64).reshape(-1, 2)
    left, right, nose = lm[0, 0], lm[16, 0], lm[30, 0]
    width = abs(right - left)
    return float((nose - (left + right) / 2.0) / width) if width > 0 else 0.0


def neutrality_reading(blendshapes: dict[str, float], landmarks68: np.ndarray | None) -> tuple[float, str]:
    """(neutrality, what drove it as text) of one face: its blendshapes, and its landmarks for the yaw check."""
    yaw = yaw_index(landmarks68) if landmarks68 is not None else 0.0
    if abs(yaw) > TURNED_LIMIT:
        return 0.0, f"turned away:{abs(yaw):.2f}"
    score, strongest = neutrality_of(blendshapes)
    return score, ";".join(f"{k}:{v:.2f}" for k, v in strongest)


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
    """{"neutrality": float or None, "expression_blendshapes": "emotion/shape:score;…"} of a NeutralFace,
    from the blendshapes its preparation recorded (meta["blendshapes"]) or measured on its crop, and its
    68 landmarks. Warns (NonNeutralFaceWarning) below NEUTRALITY_WARN when `warn`."""
    shapes = (face.meta or {}).get("blendshapes") or face_blendshapes(face.crop)
    if not shapes:
        return {"neutrality": None, "expression_blendshapes": ""}
    score, text = neutrality_reading(shapes, getattr(face, "landmarks", None))
    if warn and score < NEUTRALITY_WARN:
        warnings.warn(f"{face.source or face.subject}: not a neutral face (neutrality {score:.2f} < {NEUTRALITY_WARN}; "
                      f"{text.replace(';', ', ')}); its clips start from this expression — prefer a neutral, frontal photo",
                      NonNeutralFaceWarning, stacklevel=2)
    return {"neutrality": round(score, 4), "expression_blendshapes": text}
