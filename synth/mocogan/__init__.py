"""MoCoGAN-style conditional GAN: the generator (generator.py, a diffusers ModelMixin + `Generator`), its
image / video discriminators and identity loss (discriminators.py) and the Lightning training module
(module.py, imported on demand: `from mexkit.synth.mocogan.module import MoCoGANModule`)."""
from .generator import MoCoGANGenerator, load_demo

__all__ = ["MoCoGANGenerator", "load_demo"]
