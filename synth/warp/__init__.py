"""The warp baseline: FACS action-unit landmark templates (au_templates.py) → a thin-plate-spline warp of
the neutral crop (dense_warp.py), animated by `WarpGenerator` (generator.py). No learning."""
from .generator import WarpGenerator, open_mouth, resize_face

__all__ = ["WarpGenerator", "open_mouth", "resize_face"]
