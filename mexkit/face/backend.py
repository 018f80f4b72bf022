"""The small interface every face backend implements, and the registry that builds them by name."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable

import numpy as np

from .face import Face


class FaceBackend(ABC):
    """Finds faces with landmarks in an RGB uint8 image (H, W, 3)."""

    name: str = ""
    scheme: str = ""

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[Face]:
        """All faces in the image, largest first."""

    def detect_all(self, image: np.ndarray) -> list[Face]:
        """Every face, looked for as thoroughly as the backend can (group photos); default: `detect`."""
        return self.detect(image)

    def landmarks_in_box(self, image: np.ndarray, bbox: tuple[float, float, float, float]) -> Face | None:
        """Landmarks for a face at a known box (tracking); default: detect and take the best overlap."""
        faces = self.detect(image)
        if not faces:
            return None
        return max(faces, key=lambda f: _iou(f.bbox, bbox))


def _iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / ua if ua > 0 else 0.0


_BACKENDS: dict[str, Callable[..., FaceBackend]] = {}


def register_backend(name: str):
    def deco(factory):
        _BACKENDS[name] = factory
        return factory

    return deco


def make_backend(name: str, **kwargs) -> FaceBackend:
    """Build a backend by name: "mediapipe", "dlib" or "face-alignment"."""
    from . import dlib_backend, face_alignment_backend, mediapipe_backend  # noqa: F401  (register)

    if name not in _BACKENDS:
        raise ValueError(f"unknown face backend {name!r}; choose one of {sorted(_BACKENDS)}")
    return _BACKENDS[name](**kwargs)
