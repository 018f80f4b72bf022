"""Second detector for faces MediaPipe misses: dlib's HOG boxes, MediaPipe landmarks on an upscaled crop.

MediaPipe's face detector (BlazeFace short range) misses faces under about a tenth of the image width;
dlib's HOG detector (offline, from dlib-bin) finds them. Each HOG box is cut out with a margin, upscaled
so the face fills a MediaPipe-sized input, landmarked there, and the landmarks mapped back to the image.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .face import Face, bbox_of

HOG_DETECTOR = "dlib-hog"
CROP_PX = 256         # crops are upscaled to at least this side before MediaPipe sees them
CROP_MARGIN = 1.0     # crop half-side = CROP_MARGIN × the box's longer side (the box is ~ eyebrows to chin)
MAX_UPSAMPLED_PX = 1400  # images whose longer side exceeds this are searched without dlib's 2× upsampling


class HogBoxes:
    """dlib's frontal HOG detector; upsamples small images once so faces down to ~40 px are found."""

    def __init__(self):
        import dlib

        self._detector = dlib.get_frontal_face_detector()

    def __call__(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
        upsample = 1 if max(image.shape[:2]) <= MAX_UPSAMPLED_PX else 0
        rects, _, _ = self._detector.run(np.ascontiguousarray(image), upsample, 0.0)
        return [(float(r.left()), float(r.top()), float(r.right()), float(r.bottom())) for r in rects]


def center_in(face: Face, box) -> bool:
    """Whether the face's eye midpoint lies inside box."""
    x, y = np.mean(face.eye_centers, axis=0)
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def landmarks_on_crop(image: np.ndarray, box, landmark: Callable[[np.ndarray], list[Face]]) -> Face | None:
    """Landmarks of the face in `box`: `landmark` runs on an upscaled crop around it; None if it finds none there."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, CROP_MARGIN * max(x1 - x0, y1 - y0)
    ox, oy = int(max(0, cx - half)), int(max(0, cy - half))
    crop = image[oy:int(min(h, cy + half)), ox:int(min(w, cx + half))]
    if crop.size == 0:
        return None
    k = max(1.0, CROP_PX / max(crop.shape[:2]))
    if k > 1:
        crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
    found = landmark(np.ascontiguousarray(crop))
    if not found:
        return None
    centre = np.array([(cx - ox) * k, (cy - oy) * k])  # the box centre in crop pixels: take the face nearest it
    best = min(found, key=lambda f: float(np.linalg.norm(np.mean(f.eye_centers, axis=0) - centre)))
    pts = (best.landmarks / k + np.array([ox, oy], np.float32)).astype(np.float32)
    face = Face(bbox=bbox_of(pts), landmarks=pts, scheme=best.scheme, score=best.score, blendshapes=best.blendshapes,
                detector=HOG_DETECTOR)
    return face if center_in(face, box) else None


def merge_with_boxes(image: np.ndarray, found: list[Face], boxes, landmark: Callable[[np.ndarray], list[Face]]) -> list[Face]:
    """Every face: a box holding exactly one of `found` keeps it; other boxes are landmarked on a crop;
    faces of `found` in no box are kept too (HOG misses turned heads). Largest first."""
    out, used = [], set()
    for box in boxes:
        inside = [i for i, f in enumerate(found) if center_in(f, box)]
        if len(inside) == 1:
            out.append(found[inside[0]])
        else:  # missed, or fitted twice (MediaPipe on group photos): landmark this face on its own crop
            face = landmarks_on_crop(image, box, landmark)
            if face is not None:
                out.append(face)
        used.update(inside)
    out += [f for i, f in enumerate(found) if i not in used]
    return sorted(out, key=lambda f: -f.area)
