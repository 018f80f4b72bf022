"""`FacePipeline`: detect → landmarks → align → crop, with a backend chosen by name (docs/design.md §3)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..clip import Clip
from ..errors import MexkitInputError, NoFaceError
from .align import CROP_SIZES, eye_affine, transform_points, warp_to_crop
from .backend import FaceBackend, make_backend
from .face import Face


@dataclass
class AlignedFace:
    """An aligned crop (uint8 S×S×3), the affine source→crop, the face's landmarks in crop coordinates."""

    crop: np.ndarray
    affine: np.ndarray
    landmarks: np.ndarray
    face: Face
    num_faces: int

    @property
    def blendshapes(self) -> dict[str, float] | None:
        return self.face.blendshapes


class FacePipeline:
    """Face detection, landmarks and alignment behind one small interface.

    backend: "mediapipe" (default; 478 points + blendshapes), "dlib" (68 points, HOG) or
    "face-alignment" (needs `weights_dir`). resolution: 64, 128 or 256.
    Several faces → the largest is used and `num_faces` records how many were seen.
    """

    def __init__(self, backend: str | FaceBackend = "mediapipe", resolution: int = 128, **backend_kwargs):
        if resolution not in CROP_SIZES:
            raise ValueError(f"resolution must be one of {CROP_SIZES}, got {resolution}")
        self.backend = make_backend(backend, **backend_kwargs) if isinstance(backend, str) else backend
        self.resolution = resolution

    @property
    def scheme(self) -> str:
        return self.backend.scheme

    def detect(self, image: np.ndarray, all_faces: bool = False) -> list[Face]:
        """Faces in an RGB uint8 image, largest first; all_faces: both detectors, every face (group photos)."""
        image = np.ascontiguousarray(image)
        return self.backend.detect_all(image) if all_faces else self.backend.detect(image)

    def largest_face(self, image: np.ndarray, source: str | Path | None = None) -> tuple[Face, int]:
        """The largest face and how many faces were seen; NoFaceError if none."""
        faces = self.detect(image)
        if not faces:
            raise NoFaceError(source, f"{self.backend.name} backend")
        return faces[0], len(faces)

    def align_image(self, image: np.ndarray, resolution: int | None = None, source: str | Path | None = None) -> AlignedFace:
        """Align the largest face of one image to the eye template."""
        size = resolution or self.resolution
        face, n = self.largest_face(image, source)
        return self.align_face(image, face, size, n)

    def align_face(self, image: np.ndarray, face: Face, resolution: int | None = None, num_faces: int = 1) -> AlignedFace:
        """Align one given face of an image to the eye template."""
        size = resolution or self.resolution
        affine = eye_affine(*face.eye_centers, size)
        return AlignedFace(warp_to_crop(image, affine, size), affine, transform_points(face.landmarks, affine), face, num_faces)

    def align_clip(self, clip: Clip, resolution: int | None = None, track_landmarks: bool = False) -> Clip:
        """Align a clip once, on its onset frame, and apply that transform to every frame.

        Per-frame alignment adds jitter that swamps micro-motion, so it is never done. With
        track_landmarks, landmarks of every aligned frame are found (T, K, 2); else the onset
        frame's landmarks (K, 2) are kept. The returned clip carries `affine` (source → crop).
        """
        size = resolution or self.resolution
        ref = clip.frames[clip.onset]
        try:
            aligned = self.align_image(ref, size, source=clip.source or clip.sample_id)
        except NoFaceError as err:
            raise NoFaceError(err.path, f"onset frame {clip.onset}; {self.backend.name} backend") from None
        frames = np.stack([warp_to_crop(f, aligned.affine, size) for f in clip.frames])
        landmarks = aligned.landmarks
        if track_landmarks:
            landmarks = self.track(frames, aligned)
        meta = dict(clip.meta, num_faces=aligned.num_faces, face_backend=self.backend.name, landmark_scheme=self.scheme,
                    face_detector=aligned.face.detector)
        if aligned.face.blendshapes:
            meta["onset_blendshapes"] = aligned.face.blendshapes
        return clip.with_frames(frames, affine=aligned.affine, landmarks=landmarks, meta=meta)

    def track(self, crops: np.ndarray, reference: AlignedFace) -> np.ndarray:
        """Landmarks (T, K, 2) of aligned crops, each frame searched in the box of the reference face."""
        x = reference.landmarks
        box = (float(x[:, 0].min()), float(x[:, 1].min()), float(x[:, 0].max()), float(x[:, 1].max()))
        out = []
        for t, crop in enumerate(crops):
            face = self.backend.landmarks_in_box(crop, box)
            if face is None:
                raise MexkitInputError(None, f"face lost at frame {t} while tracking landmarks", "check the clip shows one face throughout", stage="landmarks")
            out.append(face.landmarks)
        return np.stack(out).astype(np.float32)
