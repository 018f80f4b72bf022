"""Identity embeddings: dlib's ResNet face descriptor (128-D, offline from face-recognition-models)."""
from __future__ import annotations

import numpy as np

from ..errors import NoFaceError
from .align import template_face_box
from .model_files import dlib_model


class DlibIdentity:
    """128-D face descriptors; cosine similarity of two descriptors measures same-person-ness.

    `embed_aligned` takes template-aligned crops (FacePipeline output) and uses the template face box,
    so no detector runs and every frame of a clip is embedded from the same box. dlib finds the five
    points and cuts the 150 px chip; the network runs as one torch batch (`dlib_resnet.py`: dlib's own
    weights, descriptors equal to dlib's to float rounding, ~10× faster than dlib's CPU build).
    backend="dlib" runs dlib's `compute_face_descriptor` instead (the reference).
    """

    name = "dlib-resnet"

    def __init__(self, backend: str = "torch"):
        import dlib

        if backend not in ("torch", "dlib"):
            raise ValueError(f"backend must be 'torch' or 'dlib', not {backend!r}")
        self._dlib = dlib
        self.backend = backend
        self._sp = dlib.shape_predictor(str(dlib_model("shape_predictor_5_face_landmarks.dat")))
        self._net = dlib.face_recognition_model_v1(str(dlib_model("dlib_face_recognition_resnet_model_v1.dat"))) if backend == "dlib" else None
        self._detector = dlib.get_frontal_face_detector()

    def _descriptors(self, images: list[np.ndarray], boxes: list) -> np.ndarray:
        """(N, 128) descriptors of the faces in `boxes` of contiguous uint8 RGB `images`."""
        rects = [self._dlib.rectangle(*(int(round(v)) for v in box)) for box in boxes]
        shapes = [self._sp(image, rect) for image, rect in zip(images, rects)]
        if self.backend == "dlib":
            return np.stack([np.asarray(self._net.compute_face_descriptor(im, sh), dtype=np.float32) for im, sh in zip(images, shapes)])
        import torch

        from .dlib_resnet import CHIP_PADDING, CHIP_SIZE, load_dlib_face_resnet

        chips = np.stack([np.asarray(self._dlib.get_face_chip(im, sh, size=CHIP_SIZE, padding=CHIP_PADDING)) for im, sh in zip(images, shapes)])
        with torch.inference_mode():
            return load_dlib_face_resnet()(torch.from_numpy(chips)).numpy().astype(np.float32)

    def embed_aligned(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 aligned crops → (N, 128) descriptors."""
        crops = np.asarray(crops)
        if crops.ndim == 3:
            crops = crops[None]
        box = template_face_box(crops.shape[1])
        return self._descriptors([np.ascontiguousarray(c) for c in crops], [box] * len(crops))

    def embed(self, image: np.ndarray, source: str | None = None) -> np.ndarray:
        """Descriptor of the largest face in an arbitrary RGB image (runs dlib's HOG detector)."""
        image = np.ascontiguousarray(image)
        rects = self._detector(image, 1)
        if not rects:
            raise NoFaceError(source, "dlib HOG detector")
        r = max(rects, key=lambda r: r.area())
        return self._descriptors([image], [(r.left(), r.top(), r.right(), r.bottom())])[0]


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of (N, D) and (N, D) or (D,) arrays."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)
