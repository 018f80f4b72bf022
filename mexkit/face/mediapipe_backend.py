"""MediaPipe FaceLandmarker backend: 478 landmarks + 52 blendshapes, offline from a shipped .task file.

Faces MediaPipe's own detector misses (under about a tenth of the image width) are boxed by dlib's HOG
detector and landmarked on an upscaled crop (box_fallback.py); `Face.detector` says which found each face."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from .backend import FaceBackend, register_backend
from .box_fallback import HogBoxes, landmarks_on_crop, merge_with_boxes
from .face import Face, bbox_of
from .model_files import mediapipe_landmarker_task
from ..console import native_stderr_filtered
from ..stray_signals import ignore_profiling_timer


def new_face_landmarker(mode: str = "image", num_faces: int = 4, min_confidence: float = 0.5, blendshapes: bool = True,
                        model_path: str | Path | None = None):
    """A MediaPipe FaceLandmarker (tasks API) in "image" or "video" running mode, made the one way every part of
    mexkit makes it: the shipped model file (or `model_path`), its C++ start-up lines filtered
    (mexkit/console.py), and a stray SIGPROF made harmless (mexkit/stray_signals.py)."""
    from mediapipe.tasks.python import BaseOptions, vision

    path = Path(model_path) if model_path else mediapipe_landmarker_task()
    extra = {"min_tracking_confidence": min_confidence} if mode == "video" else {}
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=path.read_bytes()),
        running_mode=vision.RunningMode.VIDEO if mode == "video" else vision.RunningMode.IMAGE,
        num_faces=num_faces, min_face_detection_confidence=min_confidence, min_face_presence_confidence=min_confidence,
        output_face_blendshapes=blendshapes, **extra,
    )
    with native_stderr_filtered():  # MediaPipe's C++ start-up lines (mexkit/console.py)
        landmarker = vision.FaceLandmarker.create_from_options(options)
    ignore_profiling_timer()  # a stray SIGPROF after MediaPipe has run is not fatal (mexkit/stray_signals.py)
    return landmarker


@register_backend("mediapipe")
class MediaPipeBackend(FaceBackend):
    """FaceLandmarker (tasks API, IMAGE mode). num_faces bounds how many faces are looked for.

    fallback: when MediaPipe finds no face, look again with dlib's HOG boxes (landmarks on a crop);
    `detect_all` always merges both detectors (group photos)."""

    name = "mediapipe"
    scheme = "mediapipe478"

    def __init__(self, model_path: str | Path | None = None, num_faces: int = 4, min_confidence: float = 0.5,
                 blendshapes: bool = True, fallback: bool = True):
        import mediapipe as mp

        self._mp = mp
        self.fallback = fallback
        self._hog: HogBoxes | None = None
        self._landmarker = new_face_landmarker("image", num_faces, min_confidence, blendshapes, model_path)
        # Close before the interpreter shuts MediaPipe's dispatcher thread down, or its __del__ errors at exit.
        # Thread-exit hooks run newest first, so this one runs before the executor's own.
        threading._register_atexit(self.close)

    def detect(self, image: np.ndarray) -> list[Face]:
        faces = self._landmark(image)
        if faces or not self.fallback:
            return faces
        found = (landmarks_on_crop(image, box, self._landmark) for box in self.hog_boxes(image))
        return sorted((f for f in found if f is not None), key=lambda f: -f.area)

    def detect_all(self, image: np.ndarray) -> list[Face]:
        """Every face: MediaPipe's, plus those only dlib's HOG detector boxes (landmarked on a crop)."""
        return merge_with_boxes(image, self._landmark(image), self.hog_boxes(image), self._landmark)

    def hog_boxes(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
        if self._hog is None:
            self._hog = HogBoxes()
        return self._hog(image)

    def _landmark(self, image: np.ndarray) -> list[Face]:
        """MediaPipe alone on the whole image."""
        h, w = image.shape[:2]
        mp_image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        result = self._landmarker.detect(mp_image)
        faces = []
        for i, lms in enumerate(result.face_landmarks):
            pts = np.array([(p.x * w, p.y * h) for p in lms], dtype=np.float32)
            shapes = None
            if result.face_blendshapes:
                shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[i]}
            faces.append(Face(bbox=bbox_of(pts), landmarks=pts, scheme=self.scheme, blendshapes=shapes, detector="mediapipe"))
        return sorted(faces, key=lambda f: -f.area)

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
