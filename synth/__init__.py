"""Generators (warp baseline, MoCoGAN-style GAN, flow diffusion) and the synthetic-dataset writer."""
from .condition import MEGC_CLASSES, Condition
from .generator import Generator, as_torch_generator
from .motion_transfer import MotionTransferGenerator, transfer_motion
from .neutral_face import NeutralFace, prepare_face
from .output import GeneratorOutput
from .registry import available_generators, load_generator
from .warp import WarpGenerator
from .writer import DatasetWriter, generate_dataset, plan_jobs

__all__ = [
    "Condition", "DatasetWriter", "Generator", "GeneratorOutput", "MEGC_CLASSES", "MotionTransferGenerator",
    "NeutralFace", "WarpGenerator", "as_torch_generator", "available_generators", "generate_dataset", "load_generator",
    "plan_jobs", "prepare_face", "transfer_motion",
]
