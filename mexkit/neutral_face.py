"""`NeutralFace`: the aligned input every generator animates, and how to make one from any image."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import MexkitInputError
from .face import FacePipeline

MIN_FACE_PX = 48  # images smaller than this cannot hold a usable face
MIN_IOD_PX = 16   # faces whose eye centres are closer than this in the source are too small to animate


@dataclass
class NeutralFace:
    """crop: uint8 (S, S, 3) template-aligned; landmarks: (68, 2) iBUG layout in crop pixels. A face prepared
    from an image records meta["affine"]: the 2×3 similarity source image → crop (full-frame rendering maps
    the crop's motion back through it, synth/full_frame.py)."""

    crop: np.ndarray
    landmarks: np.ndarray
    subject: str = ""
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def resolution(self) -> int:
        return int(self.crop.shape[0])


@lru_cache(maxsize=4)
def default_pipeline(resolution: int) -> FacePipeline:
    """The MediaPipe pipeline `prepare_face` uses when none is given (built once per crop size)."""
    return FacePipeline("mediapipe", resolution=resolution)


def prepare_face(image: np.ndarray, resolution: int = 128, pipeline: FacePipeline | None = None, source: str | Path = "",
                 subject: str = "") -> NeutralFace:
    """Detect, align and crop the largest face of an RGB image; clear errors for no face or a tiny image."""
    h, w = image.shape[:2]
    if min(h, w) < MIN_FACE_PX:
        raise MexkitInputError(source or None, f"image is too small ({w}×{h} px)", f"use a face image of at least {MIN_FACE_PX} px", stage="detect")
    pipeline = pipeline or default_pipeline(resolution)
    aligned = pipeline.align_image(image, resolution=resolution, source=source or None)
    le, re_ = aligned.face.eye_centers
    iod = float(np.linalg.norm(re_ - le))
    if iod < MIN_IOD_PX:
        raise MexkitInputError(source or None, f"face is too small (eye centres {iod:.0f} px apart)",
                               f"use a face whose eyes are at least {MIN_IOD_PX} px apart (a closer or larger image)", stage="detect")
    from .face.landmark_schemes import to68

    return NeutralFace(
        crop=aligned.crop,
        landmarks=to68(aligned.landmarks, pipeline.scheme).astype(np.float32),
        subject=subject,
        source=str(source),
        meta={"num_faces": aligned.num_faces, "face_backend": pipeline.backend.name, "affine": aligned.affine.tolist(),
              **({"blendshapes": dict(aligned.face.blendshapes)} if aligned.face.blendshapes else {})},
    )


def prepare_faces(image: np.ndarray, resolution: int = 128, pipeline: FacePipeline | None = None, source: str | Path = "",
                  subject: str = "") -> list[NeutralFace | MexkitInputError]:
    """Every face of an RGB image (group photos: both detectors, see `FacePipeline.detect(all_faces=True)`),
    left to right, each aligned and cropped — or, for a face too small to animate, the MexkitInputError
    saying so. Each face's meta holds face_index, num_faces, box and detector; `subject` + "_face<k>"
    names each person. NoFaceError when the image has none."""
    from .errors import NoFaceError
    from .face.landmark_schemes import to68

    h, w = image.shape[:2]
    if min(h, w) < MIN_FACE_PX:
        raise MexkitInputError(source or None, f"image is too small ({w}×{h} px)", f"use a face image of at least {MIN_FACE_PX} px", stage="detect")
    pipeline = pipeline or default_pipeline(resolution)
    faces = sorted(pipeline.detect(image, all_faces=True), key=lambda f: f.bbox[0])
    if not faces:
        raise NoFaceError(source or None, f"{pipeline.backend.name} backend and dlib HOG")
    out: list[NeutralFace | MexkitInputError] = []
    for k, face in enumerate(faces):
        le, re_ = face.eye_centers
        iod = float(np.linalg.norm(re_ - le))
        if iod < MIN_IOD_PX:
            out.append(MexkitInputError(f"{source}#face{k}", f"face is too small (eye centres {iod:.0f} px apart)",
                                        f"use a photo whose faces have eyes at least {MIN_IOD_PX} px apart", stage="detect"))
            continue
        aligned = pipeline.align_face(image, face, resolution, len(faces))
        out.append(NeutralFace(
            crop=aligned.crop, landmarks=to68(aligned.landmarks, pipeline.scheme).astype(np.float32),
            subject=f"{subject}_face{k}" if subject else f"face{k}", source=f"{source}#face{k}",
            meta={"num_faces": len(faces), "face_index": k, "face_backend": pipeline.backend.name, "detector": face.detector,
                  "box": [float(v) for v in face.bbox], "affine": aligned.affine.tolist(), **({"blendshapes": dict(face.blendshapes)} if face.blendshapes else {})},
        ))
    return out
