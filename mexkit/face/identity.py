"""Identity embeddings: dlib's ResNet face descriptor (128-D, offline from face-recognition-models)."""
from __future__ import annotations

import numpy as np

from ..errors import NoFaceError
from .align import template_face_box
from .model_files import dlib_model


class DlibIdentity:
    """128-D face descriptors; cosine similarity of two descriptors measures same-person-ness.

    `embed_aligned` takes template-aligned crops (FacePipeline output) and uses the template face box,
    so no detector runs and every frame of a clip is embedded from the same box.
    """

    name = "dlib-resnet"

    def __init__(self):
        import dlib

        self._dlib = dlib
        self._sp = dlib.shape_predictor(str(dlib_model("shape_predictor_5_face_landmarks.dat")))
        self._net = dlib.face_recognition_model_v1(str(dlib_model("dlib_face_recognition_resnet_model_v1.dat")))
        self._detector = dlib.get_frontal_face_detector()

    def _descriptor(self, image: np.ndarray, box) -> np.ndarray:
        rect = self._dlib.rectangle(*(int(round(v)) for v in box))
        shape = self._sp(image, rect)
        return np.asarray(self._net.compute_face_descriptor(image, shape), dtype=np.float32)

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 aligned crops → (N, 128) descriptors."""
        crops = np.asarray(crops)
        if crops.ndim == 3:
            crops = crops[None]
        box = template_face_box(crops.shape[1])
        return np.stack([self._descriptor(np.ascontiguousarray(c), box) for c in crops])

    def embed(self, image: np.ndarray, source: str | None = None) -> np.ndarray:
        """Descriptor of the largest face in an arbitrary RGB image (runs dlib's HOG detector)."""
        image = np.ascontiguousarray(image)
        rects = self._detector(image, 1)
        if not rects:
            raise NoFaceError(source, "dlib HOG detector")
        r = max(rects, key=lambda r: r.area())
        return self._descriptor(image, (r.left(), r.top(), r.right(), r.bottom()))


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of (N, D) and (N, D) or (D,) arrays."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)
