"""dlib backend: HOG face detector + 68-point shape predictor from face-recognition-models."""
from __future__ import annotations

import numpy as np

from .backend import FaceBackend, register_backend
from .face import Face
from .model_files import dlib_model


@register_backend("dlib")
class DlibBackend(FaceBackend):
    """upsample: how often dlib upsamples the image before HOG detection (1 finds faces ≥ ~40 px)."""

    name = "dlib"
    scheme = "ibug68"

    def __init__(self, upsample: int = 1):
        import dlib

        self._dlib = dlib
        self.upsample = upsample
        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(str(dlib_model("shape_predictor_68_face_landmarks.dat")))

    def _shape(self, image: np.ndarray, rect) -> np.ndarray:
        shape = self._predictor(image, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def detect(self, image: np.ndarray) -> list[Face]:
        image = np.ascontiguousarray(image)
        rects, scores, _ = self._detector.run(image, self.upsample, 0.0)
        faces = []
        for rect, score in zip(rects, scores):
            faces.append(Face(bbox=(rect.left(), rect.top(), rect.right(), rect.bottom()), landmarks=self._shape(image, rect),
                              scheme=self.scheme, score=float(score), detector="dlib-hog"))
        return sorted(faces, key=lambda f: -f.area)

    def landmarks_in_box(self, image: np.ndarray, bbox) -> Face:
        """Shape prediction inside a given box, without re-detecting (fast tracking through a clip)."""
        x0, y0, x1, y1 = (int(round(v)) for v in bbox)
        rect = self._dlib.rectangle(x0, y0, x1, y1)
        return Face(bbox=tuple(map(float, bbox)), landmarks=self._shape(np.ascontiguousarray(image), rect), scheme=self.scheme,
                    detector="dlib-hog")
