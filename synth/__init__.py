"""Generators (warp baseline, MoCoGAN-style GAN, flow diffusion) and the synthetic-dataset writer."""
from .condition import MEGC_CLASSES, Condition
from .generator import GeneratorMixin, as_torch_generator
from .neutral_face import NeutralFace, prepare_face
from .output import GeneratorOutput
from .registry import available_generators, load_generator

__all__ = [
    "Condition", "GeneratorMixin", "GeneratorOutput", "MEGC_CLASSES", "NeutralFace", "as_torch_generator",
    "available_generators", "load_generator", "prepare_face",
]
