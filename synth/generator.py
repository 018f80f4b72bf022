"""The call every generator shares: `gen(face, condition, generator=seed) -> GeneratorOutput`."""
from __future__ import annotations

import hashlib
from abc import abstractmethod

import numpy as np
import torch

from .condition import Condition
from .neutral_face import NeutralFace, prepare_face
from .output import GeneratorOutput


def as_torch_generator(generator: torch.Generator | int | None) -> torch.Generator:
    """Randomness is an argument: a torch.Generator, a seed, or None (seed 0)."""
    if isinstance(generator, torch.Generator):
        return generator
    return torch.Generator().manual_seed(int(generator or 0))


class GeneratorMixin:
    """Mixin for every generator (alongside diffusers' ModelMixin/ConfigMixin for learned ones).

    Subclasses set `generator_name` and `resolution` and implement `generate`. `__call__` accepts
    an aligned `NeutralFace` or a raw RGB image (aligned here with the default face pipeline).
    """

    generator_name: str = ""
    resolution: int = 128

    def __call__(self, face: NeutralFace | np.ndarray, condition: Condition | None = None,
                 generator: torch.Generator | int | None = None) -> GeneratorOutput:
        if not isinstance(face, NeutralFace):
            face = prepare_face(np.asarray(face), resolution=self.resolution)
        return self.generate(face, condition or Condition(), as_torch_generator(generator))

    @abstractmethod
    def generate(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> GeneratorOutput:
        """Animate the aligned neutral face as asked; frame 0 must equal `face.crop` (resized to resolution)."""

    def weights_hash(self) -> str:
        """Short hash of the weights (and config), for deterministic sample ids; 'none' without weights."""
        if not isinstance(self, torch.nn.Module):
            return "none"
        h = hashlib.sha256()
        for k, v in sorted(self.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]
