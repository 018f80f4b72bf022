"""`FacePipeline`: detect → landmarks → align → crop, with a backend chosen by name (docs/design.md §3)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

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
        A long video is aligned without holding its frames: `align_reference` + `iter_aligned`.
        """
        size = resolution or self.resolution
        aligned = self.align_reference(clip.frames[clip.onset], size, clip.source or clip.sample_id, clip.onset)
        crops, tracked = [], []
        for crop, lm in self.iter_aligned(clip.frames, aligned, track_landmarks):
            crops.append(crop)
            tracked.append(lm)
        frames = np.stack(crops)
        landmarks = np.stack(tracked).astype(np.float32) if track_landmarks else aligned.landmarks
        meta = dict(clip.meta, **self.alignment_meta(aligned))
        return clip.with_frames(frames, affine=aligned.affine, landmarks=landmarks, meta=meta)

    def align_reference(self, frame: np.ndarray, resolution: int | None = None, source: str | Path | None = None,
                        onset: int = 0) -> AlignedFace:
        """The alignment of a clip, found once on its onset frame (RGB uint8 (H, W, 3)); NoFaceError names the frame."""
        try:
            return self.align_image(frame, resolution or self.resolution, source=source)
        except NoFaceError as err:
            raise NoFaceError(err.path, f"onset frame {onset}; {self.backend.name} backend") from None

    def iter_aligned(self, frames: Iterable[np.ndarray], reference: AlignedFace,
                     track_landmarks: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """(crop (S, S, 3) uint8, landmarks (K, 2) or None) per frame, one frame at a time: every frame warped by
        the reference's affine; with track_landmarks, each crop's landmarks searched in the reference face's box.
        Memory stays flat in the number of frames (a generator of frames in, a generator out)."""
        size = reference.crop.shape[0]
        for t, frame in enumerate(frames):
            crop = warp_to_crop(frame, reference.affine, size)
            yield crop, (self._track_one(crop, reference, t) if track_landmarks else None)

    def alignment_meta(self, aligned: AlignedFace) -> dict:
        """What an aligned clip records of its alignment (faces seen, backend, scheme, detector, onset blendshapes)."""
        meta = {"num_faces": aligned.num_faces, "face_backend": self.backend.name, "landmark_scheme": self.scheme,
                "face_detector": aligned.face.detector}
        if aligned.face.blendshapes:
            meta["onset_blendshapes"] = aligned.face.blendshapes
        return meta

    def track(self, crops: np.ndarray, reference: AlignedFace) -> np.ndarray:
        """Landmarks (T, K, 2) of aligned crops, each frame searched in the box of the reference face."""
        return np.stack([self._track_one(crop, reference, t) for t, crop in enumerate(crops)]).astype(np.float32)

    def _track_one(self, crop: np.ndarray, reference: AlignedFace, t: int) -> np.ndarray:
        """Landmarks (K, 2) of aligned crop t, searched in the box of the reference face."""
        x = reference.landmarks
        box = (float(x[:, 0].min()), float(x[:, 1].min()), float(x[:, 0].max()), float(x[:, 1].max()))
        face = self.backend.landmarks_in_box(crop, box)
        if face is None:
            raise MexkitInputError(None, f"face lost at frame {t} while tracking landmarks", "check the clip shows one face throughout", stage="landmarks")
        return face.landmarks
