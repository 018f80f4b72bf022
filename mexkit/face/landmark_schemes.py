"""Landmark layouts: which indices are the eyes, and how MediaPipe's 478 points map to the 68-point layout."""
from __future__ import annotations

import numpy as np

# iBUG 68-point layout (dlib, face-alignment). Image-left eye = the subject's right eye.
DLIB68_LEFT_EYE = list(range(36, 42))
DLIB68_RIGHT_EYE = list(range(42, 48))

# MediaPipe FaceMesh index for each of the 68 iBUG points (jaw 17, brows 5+5, nose 4+5, eyes 6+6,
# outer lips 12, inner lips 8) — the correspondence commonly used to compare the two layouts.
MEDIAPIPE_TO_68 = np.array(
    [162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389,
     71, 63, 105, 66, 107, 336, 296, 334, 293, 301,
     168, 197, 5, 4, 75, 97, 2, 326, 305,
     33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
     61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
     78, 82, 13, 312, 308, 317, 14, 87],
    dtype=np.int64,
)
assert len(MEDIAPIPE_TO_68) == 68

# Five semantic points shared by every layout, in 68-point indices: eye centres are means of the eye
# contours, then nose tip and the two mouth corners. Used to compare backends.
SEMANTIC5_NAMES = ["left_eye", "right_eye", "nose_tip", "mouth_left", "mouth_right"]


def to68(landmarks: np.ndarray, scheme: str) -> np.ndarray:
    """(..., K, 2) landmarks of `scheme` → (..., 68, 2) in the iBUG layout."""
    if scheme == "ibug68":
        return landmarks
    if scheme == "mediapipe478":
        return landmarks[..., MEDIAPIPE_TO_68, :]
    raise ValueError(f"unknown landmark scheme {scheme!r}; expected 'ibug68' or 'mediapipe478'")


def eye_centers68(lm68: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image-left and image-right eye centres (mean of each eye contour) of (..., 68, 2) landmarks."""
    return lm68[..., DLIB68_LEFT_EYE, :].mean(-2), lm68[..., DLIB68_RIGHT_EYE, :].mean(-2)


def semantic5(lm68: np.ndarray) -> np.ndarray:
    """(..., 5, 2): eye centres, nose tip, mouth corners."""
    le, re_ = eye_centers68(lm68)
    return np.stack([le, re_, lm68[..., 30, :], lm68[..., 48, :], lm68[..., 54, :]], axis=-2)


def interocular(lm68: np.ndarray) -> np.ndarray:
    """Distance between the eye centres (pixels)."""
    le, re_ = eye_centers68(lm68)
    return np.linalg.norm(re_ - le, axis=-1)
