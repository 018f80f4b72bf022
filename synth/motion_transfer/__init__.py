"""Motion transfer from a driving clip (the MEGC 2021/22 generation protocol): relative landmark motion
onto a target face, rendered with the warp baseline's spline warp (generator.py)."""
from .generator import MotionTransferGenerator, relative_motion, transfer_motion

__all__ = ["MotionTransferGenerator", "relative_motion", "transfer_motion"]
