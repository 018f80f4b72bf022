"""Similarity alignment to a fixed eye template (eye centres level, fixed inter-ocular distance)."""
from __future__ import annotations

import cv2
import numpy as np

# Template in units of the crop size: eye centres at (0.35, 0.40) and (0.65, 0.40) → inter-ocular
# distance 0.30 × size; leaves room for brows above and chin below.
TEMPLATE_LEFT_EYE = (0.35, 0.40)
TEMPLATE_RIGHT_EYE = (0.65, 0.40)
CROP_SIZES = (64, 128, 256)


def template_eyes(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions of the template eye centres in a size × size crop."""
    return np.array(TEMPLATE_LEFT_EYE) * size, np.array(TEMPLATE_RIGHT_EYE) * size


def template_iod(size: int) -> float:
    le, re_ = template_eyes(size)
    return float(np.linalg.norm(re_ - le))


def eye_affine(left_eye: np.ndarray, right_eye: np.ndarray, size: int) -> np.ndarray:
    """2×3 similarity matrix mapping image points so the eye centres land on the template."""
    src_vec = np.asarray(right_eye, np.float64) - np.asarray(left_eye, np.float64)
    tl, tr = template_eyes(size)
    dst_vec = tr - tl
    scale = np.linalg.norm(dst_vec) / max(np.linalg.norm(src_vec), 1e-6)
    angle = np.arctan2(dst_vec[1], dst_vec[0]) - np.arctan2(src_vec[1], src_vec[0])
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    src_mid = (np.asarray(left_eye, np.float64) + np.asarray(right_eye, np.float64)) / 2
    t = (tl + tr) / 2 - rot @ src_mid
    return np.hstack([rot, t[:, None]]).astype(np.float64)


def transform_points(points: np.ndarray, affine: np.ndarray) -> np.ndarray:
    """Apply a 2×3 affine to (..., 2) points."""
    pts = np.asarray(points, np.float64)
    return (pts @ affine[:, :2].T + affine[:, 2]).astype(np.float32)


def invert_affine(affine: np.ndarray) -> np.ndarray:
    return cv2.invertAffineTransform(np.asarray(affine, np.float64))


def warp_to_crop(image: np.ndarray, affine: np.ndarray, size: int) -> np.ndarray:
    """Warp an RGB image into the size × size crop (bilinear, replicated border)."""
    return cv2.warpAffine(image, affine, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def template_face_box(size: int) -> tuple[float, float, float, float]:
    """The face box (x0, y0, x1, y1) a frontal-face detector reports for a template-aligned crop."""
    iod = template_iod(size)
    cx, ey = size / 2.0, TEMPLATE_LEFT_EYE[1] * size
    return cx - 1.21 * iod, ey - 0.59 * iod, cx + 1.21 * iod, ey + 1.82 * iod  # measured: dlib HOG on aligned crops
