"""The generator protocol: every generator is a `Generator`; callers use `generate`, implementers `animate`.

    out = gen.generate(face, condition, generator=seed)      # → GeneratorOutput

`generate` is the one public animation call (docs/design.md §4): it takes an aligned `NeutralFace` or a
raw RGB image (aligned here with the default face pipeline), a `Condition` (default: `Condition()`)
and a `torch.Generator` or an integer seed, checks the condition, and calls `animate`. A subclass
implements `animate(face, condition, generator)` — abstract, so a class without it cannot be
instantiated — and may override `check_condition`, `train_subjects` and `weights_hash`.
`nn.Module.__call__` (forward) and `DiffusionPipeline.__call__` keep their own meaning.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod

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


class Generator(ABC):
    """Base of every generator (beside diffusers' ModelMixin/ConfigMixin or DiffusionPipeline for learned ones).

    Subclasses set `generator_name` and `resolution` (output size in pixels) and implement `animate`.
    """

    generator_name: str = ""
    resolution: int = 128

    def generate(self, face: NeutralFace | np.ndarray, condition: Condition | None = None,
                 generator: torch.Generator | int | None = None) -> GeneratorOutput:
        """Animate one face as asked; frame 0 of the clip equals the aligned face crop at `resolution`."""
        if not isinstance(face, NeutralFace):
            face = prepare_face(np.asarray(face), resolution=self.resolution)
        condition = condition or Condition()
        self.check_condition(condition)
        return self.animate(face, condition, as_torch_generator(generator))

    @abstractmethod
    def animate(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> GeneratorOutput:
        """The generator's own work: an aligned face, a checked condition, a torch.Generator → output."""

    def check_condition(self, condition: Condition) -> None:
        """Refuse a condition this generator cannot make (unknown class, AU) with a MexkitInputError; default: all."""

    @property
    def train_subjects(self) -> tuple[str, ...]:
        """Subjects whose data shaped the weights (for the leakage gate); () for a generator that learned nothing."""
        return ()

    def weights_hash(self) -> str:
        """Short hash of the weights (and config), for deterministic sample ids; 'none' without weights."""
        if not isinstance(self, torch.nn.Module):
            return "none"
        h = hashlib.sha256()
        for k, v in sorted(self.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]
