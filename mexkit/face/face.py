"""`Face`: one detected face — box, landmarks in a named layout, optional blendshapes, which detector found it."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .landmark_schemes import eye_centers68, to68


@dataclass
class Face:
    """A face found in one image. landmarks: (K, 2) float32 pixel (x, y) in that image."""

    bbox: tuple[float, float, float, float]  # x0, y0, x1, y1
    landmarks: np.ndarray
    scheme: str  # "ibug68" or "mediapipe478"
    score: float = 1.0
    blendshapes: dict[str, float] | None = None
    extra: dict = field(default_factory=dict)
    detector: str = ""  # what found the box: "mediapipe", "dlib-hog" (MediaPipe landmarks on a crop around it), …

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.bbox
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    @property
    def landmarks68(self) -> np.ndarray:
        return to68(self.landmarks, self.scheme)

    @property
    def eye_centers(self) -> tuple[np.ndarray, np.ndarray]:
        return eye_centers68(self.landmarks68)


def bbox_of(points: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0 = points.min(0)
    x1, y1 = points.max(0)
    return float(x0), float(y0), float(x1), float(y1)
