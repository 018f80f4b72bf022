"""FACS action-unit displacement templates on the 68 iBUG landmarks, and class → AU sets.

Each template says how far and in which direction each landmark moves when one action unit is fully
on (intensity 1), in units of the inter-ocular distance (IOD), in a face-local frame: x along the
line from the image-left eye centre to the image-right eye centre, y perpendicular to it pointing
down the face. So a displacement scales with the face and turns with it, and an intensity of 0.3
means 30 % of the template's motion relative to that face's IOD.

Sources.
- Directions: the appearance changes each AU produces as described in the FACS manual (Ekman, Friesen
  & Hager, *Facial Action Coding System*, 2002): AU1 raises the inner brow, AU2 the outer brow, AU4
  lowers and draws the brows together, AU5 raises the upper lid, AU6 lifts the cheek and lower lid,
  AU7 tightens the lids (lower lid up), AU9 wrinkles the nose (nostril wings and upper lip up, brows
  down at the root), AU10 raises the upper lip, AU12 pulls the lip corners up and out, AU14 tucks the
  corners in (dimple, slight tightening outward), AU15 pulls the corners down, AU17 pushes the chin
  boss and lower lip up, AU20 stretches the lips sideways, AU23 tightens and narrows the lips, AU24
  presses them together, AU25 parts them, AU26 drops the jaw.
- Magnitudes: chosen by hand so that intensity 1 is a full, clearly visible posed expression; the
  AU6+12 template is checked against the real smile in the corpus video `single_face.mp4` (mouth
  corners move ≈ 0.2 IOD outward and up after removing head motion; tests/synth/test_au_templates.py
  measures it). Micro-expressions sit at the low end (intensity ≈ 0.1–0.5).
- Class → AU sets: EMFACS prototypes (Ekman & Friesen, EMFACS-7, 1983 — happiness 6+12; surprise
  1+2+5B+26; anger 4+5+7+23; disgust 9+15+16 / 10+16; sadness 1+4+15; fear 1+2+4+5+20+26) cross-checked
  with the prototypical and variant AUs of Du, Tao & Martinez (2014, "Compound facial expressions of
  emotion", PNAS 111(15): happy 12+25 (6); sad 4+15 (1, 6, 11, 17); fearful 1+4+20+25 (2, 5, 26);
  angry 4+7+24 (10, 17, 23); surprised 1+2+25+26 (5); disgusted 9+10+17 (4, 24)), and repression from
  CASME II (Yan et al., 2014, PLoS ONE: AU14, AU15, AU17, AU24). AUs the templates do not cover (16,
  11, 27) are left out; variant AUs get weight 0.5.

AUs combine additively on the landmarks (a first-order model; real AU interactions are not additive,
e.g. 1+4 is not the sum of 1 and 4 — the warp baseline does not model that).
"""
from __future__ import annotations

import hashlib

import numpy as np

from mexkit.clip import parse_aus
from mexkit.errors import MexkitInputError
from mexkit.face.landmark_schemes import eye_centers68

NUM_LANDMARKS = 68

# iBUG-68 left/right mirror partner of every point (image-left ↔ image-right); midline points map to themselves.
MIRROR68 = np.array(
    [16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
     26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
     27, 28, 29, 30, 35, 34, 33, 32, 31,
     45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
     54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,
     64, 63, 62, 61, 60, 67, 66, 65],
    dtype=np.int64,
)
MIDLINE68 = tuple(int(i) for i in np.flatnonzero(MIRROR68 == np.arange(NUM_LANDMARKS)))
# Points on the image-left half of the face (the subject's right side).
LEFT68 = (*range(0, 8), *range(17, 22), 31, 32, *range(36, 42), 48, 49, 50, 58, 59, 60, 61, 67)

# Per AU: {landmark on the image-left half or midline: (outward, down)} in IOD units at intensity 1.
# "outward" is away from the face's midline (image-left half: towards −x); the image-right half is mirrored.
_HALF_TEMPLATES: dict[str, dict[int, tuple[float, float]]] = {
    "AU1": {21: (-0.01, -0.12), 20: (0.0, -0.09), 19: (0.0, -0.05), 18: (0.0, -0.02), 17: (0.0, -0.01)},
    "AU2": {17: (0.01, -0.09), 18: (0.0, -0.11), 19: (0.0, -0.09), 20: (0.0, -0.04), 21: (0.0, -0.01)},
    "AU4": {21: (-0.05, 0.07), 20: (-0.04, 0.07), 19: (-0.03, 0.05), 18: (-0.015, 0.03), 17: (0.0, 0.015),
            37: (0.0, 0.01), 38: (0.0, 0.015)},
    "AU5": {37: (0.0, -0.035), 38: (0.0, -0.035), 36: (0.0, -0.005), 39: (0.0, -0.005)},
    "AU6": {40: (0.0, -0.03), 41: (0.0, -0.03), 36: (0.0, -0.01), 37: (0.0, 0.01), 38: (0.0, 0.01), 17: (0.0, 0.015),
            1: (0.0, -0.02), 2: (0.005, -0.025), 3: (0.005, -0.02)},
    "AU7": {40: (0.0, -0.045), 41: (0.0, -0.045), 37: (0.0, 0.015), 38: (0.0, 0.015)},
    "AU9": {31: (0.0, -0.045), 32: (0.0, -0.04), 33: (0.0, -0.03), 30: (0.0, -0.015), 29: (0.0, -0.01),
            49: (0.0, -0.025), 50: (0.0, -0.035), 51: (0.0, -0.035), 61: (0.0, -0.03), 62: (0.0, -0.03),
            21: (-0.02, 0.04), 20: (-0.01, 0.025), 40: (0.0, -0.02), 41: (0.0, -0.02)},
    "AU10": {50: (0.0, -0.07), 51: (0.0, -0.07), 49: (0.0, -0.055), 48: (0.005, -0.02), 61: (0.0, -0.06),
             62: (0.0, -0.065), 60: (0.0, -0.015), 31: (0.01, -0.02), 32: (0.0, -0.015)},
    "AU12": {48: (0.12, -0.12), 60: (0.10, -0.10), 49: (0.05, -0.06), 59: (0.07, -0.06), 50: (0.02, -0.025),
             58: (0.02, -0.02), 61: (0.03, -0.035), 67: (0.035, -0.03), 57: (0.0, -0.01), 3: (0.01, -0.02),
             4: (0.01, -0.02), 40: (0.0, -0.01), 41: (0.0, -0.01)},
    "AU14": {48: (0.045, -0.015), 60: (0.04, -0.01), 49: (0.015, 0.0), 59: (0.015, 0.0)},
    "AU15": {48: (0.01, 0.07), 60: (0.01, 0.06), 59: (0.005, 0.04), 49: (0.0, 0.03), 67: (0.0, 0.02), 58: (0.0, 0.02)},
    "AU17": {57: (0.0, -0.05), 58: (0.0, -0.045), 59: (0.0, -0.025), 66: (0.0, -0.035), 67: (0.0, -0.025),
             62: (0.0, -0.015), 51: (0.0, -0.01), 48: (0.0, 0.01), 6: (0.0, -0.02), 7: (0.0, -0.035), 8: (0.0, -0.04)},
    "AU20": {48: (0.09, 0.015), 60: (0.08, 0.01), 49: (0.035, 0.0), 59: (0.04, 0.01), 50: (0.01, 0.0),
             58: (0.01, 0.005), 61: (0.02, 0.0), 67: (0.02, 0.0), 4: (0.01, 0.0), 5: (0.01, 0.005)},
    "AU23": {48: (-0.03, 0.0), 60: (-0.025, 0.0), 49: (-0.015, 0.01), 59: (-0.015, -0.01), 50: (0.0, 0.015),
             51: (0.0, 0.015), 57: (0.0, -0.015), 58: (0.0, -0.015)},
    "AU24": {50: (0.0, 0.02), 51: (0.0, 0.025), 49: (0.0, 0.015), 58: (0.0, -0.02), 57: (0.0, -0.025),
             59: (0.0, -0.01), 61: (0.0, 0.005), 62: (0.0, 0.005), 66: (0.0, -0.005), 67: (0.0, -0.005),
             48: (-0.01, 0.0), 60: (-0.01, 0.0)},
    "AU25": {57: (0.0, 0.05), 58: (0.0, 0.045), 59: (0.0, 0.025), 66: (0.0, 0.06), 67: (0.0, 0.045),
             61: (0.0, -0.01), 62: (0.0, -0.015), 51: (0.0, -0.005)},
    "AU26": {8: (0.0, 0.15), 7: (0.0, 0.14), 6: (0.005, 0.11), 5: (0.005, 0.08), 4: (0.005, 0.045), 3: (0.0, 0.015),
             57: (0.0, 0.12), 58: (0.0, 0.115), 59: (0.0, 0.07), 66: (0.0, 0.12), 67: (0.0, 0.095),
             48: (0.0, 0.035), 60: (0.0, 0.035)},
}


def _expand(half: dict[int, tuple[float, float]]) -> np.ndarray:
    """Half-face (outward, down) entries → (68, 2) face-frame (x, y) displacements, mirrored."""
    out = np.zeros((NUM_LANDMARKS, 2), np.float64)
    for i, (outward, down) in half.items():
        j = int(MIRROR68[i])
        if i == j:
            if outward:
                raise ValueError(f"midline landmark {i} cannot move outward")
            out[i] = (0.0, down)
        else:
            if i not in LEFT68:
                raise ValueError(f"template entries must use the image-left half; got {i} (mirror {j})")
            out[i] = (-outward, down)
            out[j] = (outward, down)
    return out


AU_TEMPLATES: dict[str, np.ndarray] = {au: _expand(half) for au, half in _HALF_TEMPLATES.items()}
AVAILABLE_AUS: tuple[str, ...] = tuple(sorted(AU_TEMPLATES, key=lambda a: int(a[2:])))

# Class → candidate AU sets {name: {AU: weight}}; a class with several variants picks one per sample (seeded).
EXPRESSION_AUS: dict[str, dict[str, float]] = {
    "happiness": {"AU6": 1.0, "AU12": 1.0},
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 0.5, "AU25": 0.5, "AU26": 0.5},
    "anger": {"AU4": 1.0, "AU7": 1.0, "AU23": 1.0, "AU24": 0.5},
    "disgust": {"AU9": 1.0, "AU10": 1.0, "AU4": 0.5, "AU17": 0.5},
    "sadness": {"AU1": 1.0, "AU4": 1.0, "AU15": 1.0, "AU17": 0.5},
    "fear": {"AU1": 1.0, "AU2": 1.0, "AU4": 1.0, "AU20": 1.0, "AU25": 0.5},
    "repression": {"AU14": 1.0, "AU15": 1.0, "AU17": 1.0, "AU24": 0.5},
}
# MEGC composite classes (negative = repression, anger, contempt, disgust, fear, sadness; contempt is
# unilateral and not modelled by these bilateral templates).
CLASS_VARIANTS: dict[str, tuple[str, ...]] = {
    "positive": ("happiness",),
    "surprise": ("surprise",),
    "negative": ("anger", "disgust", "fear", "repression", "sadness"),
    **{name: (name,) for name in EXPRESSION_AUS if name != "surprise"},
}
KNOWN_LABELS: tuple[str, ...] = tuple(sorted(CLASS_VARIANTS))


def normalize_aus(aus) -> list[str]:
    """["4", "AU7", "R12"] or "4+7" → ["AU4", "AU7", "AU12"]; an unknown or unparsable AU is a clear error."""
    tokens = aus.replace(",", "+").split("+") if isinstance(aus, str) else list(aus)
    out: list[str] = []
    for tok in tokens:
        if not str(tok).strip():
            continue
        parsed = parse_aus(str(tok))
        if len(parsed) != 1 or parsed[0] not in AU_TEMPLATES:
            raise MexkitInputError(
                None, f"unknown action unit {tok!r}", f"use some of {', '.join(AVAILABLE_AUS)}", stage="condition"
            )
        if parsed[0] not in out:
            out.append(parsed[0])
    return out


def check_label(label: str) -> str:
    """The label itself if the warp templates know it; a clear error otherwise."""
    if label not in CLASS_VARIANTS:
        raise MexkitInputError(None, f"unknown class {label!r}", f"use one of {', '.join(KNOWN_LABELS)} (or give target AUs)", stage="condition")
    return label


def resolve_aus(label: str, aus=(), choice: float = 0.0) -> tuple[str, dict[str, float]]:
    """The AU weights to animate: target AUs (weight 1 each) if given, else the class's AU set.

    choice in [0, 1) picks the variant for classes with several (negative → anger, disgust, …).
    Returns (variant name, {AU: weight}).
    """
    if aus:
        return "custom", {au: 1.0 for au in normalize_aus(aus)}
    variants = CLASS_VARIANTS[check_label(label)]
    name = variants[min(int(choice * len(variants)), len(variants) - 1)]
    return name, dict(EXPRESSION_AUS[name])


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(x axis, y axis, IOD) of a face from its (68, 2) landmarks: x along the eye line, y down the face."""
    le, re_ = eye_centers68(np.asarray(landmarks, np.float64))
    v = re_ - le
    iod = float(np.linalg.norm(v))
    if not np.isfinite(iod) or iod < 1e-3:
        raise MexkitInputError(None, "landmarks have coincident eye centres", "pass real (68, 2) face landmarks", stage="landmarks")
    ex = v / iod
    ey = np.array([-ex[1], ex[0]])
    return ex, ey, iod


def to_image_frame(local: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Face-frame displacements in IOD units (..., 68, 2) → pixel displacements for this face."""
    ex, ey, iod = face_frame(landmarks)
    local = np.asarray(local, np.float64)
    return (iod * (local[..., :1] * ex + local[..., 1:] * ey)).astype(np.float32)


def to_face_frame(pixels: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Pixel displacements (..., 68, 2) of a face → face-frame displacements in IOD units (inverse of to_image_frame)."""
    ex, ey, iod = face_frame(landmarks)
    d = np.asarray(pixels, np.float64)
    return np.stack([d @ ex, d @ ey], -1) / iod


def au_displacement(weights: dict[str, float]) -> np.ndarray:
    """Σ weight · template: (68, 2) face-frame displacement in IOD units at intensity 1."""
    out = np.zeros((NUM_LANDMARKS, 2), np.float64)
    for au, w in weights.items():
        if au not in AU_TEMPLATES:
            raise MexkitInputError(None, f"unknown action unit {au!r}", f"use some of {', '.join(AVAILABLE_AUS)}", stage="condition")
        out += float(w) * AU_TEMPLATES[au]
    return out


def templates_hash() -> str:
    """Short hash of every template and class set (changes whenever the warp baseline's 'weights' do)."""
    h = hashlib.sha256()
    for au in AVAILABLE_AUS:
        h.update(au.encode())
        h.update(np.ascontiguousarray(AU_TEMPLATES[au]).tobytes())
    for name in sorted(EXPRESSION_AUS):
        h.update(repr((name, sorted(EXPRESSION_AUS[name].items()))).encode())
    for name in sorted(CLASS_VARIANTS):
        h.update(repr((name, CLASS_VARIANTS[name])).encode())
    return h.hexdigest()[:16]
