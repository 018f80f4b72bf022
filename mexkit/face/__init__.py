"""Face pipeline: detect → landmarks → align → crop, and identity embeddings."""
from .align import eye_affine, template_eyes, template_iod, transform_points, warp_to_crop
from .backend import FaceBackend, make_backend
from .face import Face
from .pipeline import AlignedFace, FacePipeline

__all__ = [
    "AlignedFace", "Face", "FaceBackend", "FacePipeline", "eye_affine", "make_backend",
    "template_eyes", "template_iod", "transform_points", "warp_to_crop",
]
