"""Re-export: `NeutralFace` is a core sample type (mexkit.neutral_face); generators take it as input."""
from mexkit.neutral_face import MIN_FACE_PX, NeutralFace, prepare_face

__all__ = ["MIN_FACE_PX", "NeutralFace", "prepare_face"]
