"""The generator protocol: every generator is a `Generator`; callers use `generate`, implementers `animate`.

    out = gen.generate(face, condition, generator=seed)      # → GeneratorOutput

`generate` is the one public animation call (docs/design.md §4): it takes an aligned `NeutralFace` or a
raw RGB image (aligned here with the default face pipeline), a `Condition` (default: `Condition()`)
and a `torch.Generator` or an integer seed, checks the condition, and calls `animate`. A subclass
implements `animate(face, condition, generator)` — abstract, so a class without it cannot be
instantiated — and may override `check_condition`, `train_subjects`, `driving` and `weights_hash`.

Provenance is declared, never assumed: `train_subjects` is None on the base ("not declared"), and the
writer refuses to write clips of a generator that leaves it so; an untrained generator declares ().
`generate` stamps every clip's meta with its provenance cells (train_subjects, driving_*; see
mexkit.datasets.provenance), so clips keep it when they are used to train another generator.
`nn.Module.__call__` (forward) and `DiffusionPipeline.__call__` keep their own meaning.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
import torch

from mexkit.datasets.manifest_columns import NO_SUBJECTS
from mexkit.datasets.provenance import subjects_cell

from .condition import Condition
from .neutral_face import NeutralFace, prepare_face
from .output import GeneratorOutput


def as_torch_generator(generator: torch.Generator | int | None) -> torch.Generator:
    """Randomness is an argument: a torch.Generator, a seed, or None (seed 0)."""
    if isinstance(generator, torch.Generator):
        return generator
    return torch.Generator().manual_seed(int(generator or 0))


@dataclass(frozen=True)
class DrivingClip:
    """The clip whose motion a generator transfers: its dataset, subject and sample id ("" = not known)."""

    dataset: str = ""
    subject: str = ""
    sample_id: str = ""

    def cells(self) -> dict[str, str]:
        return {"driving_dataset": self.dataset, "driving_subject": self.subject, "driving_sample": self.sample_id}


NO_DRIVING = {"driving_dataset": NO_SUBJECTS, "driving_subject": NO_SUBJECTS, "driving_sample": NO_SUBJECTS}


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
        out = self.animate(face, condition, as_torch_generator(generator))
        out.clip.meta.update(self.provenance_cells())
        return out

    def provenance_cells(self) -> dict[str, str]:
        """The manifest cells of what shaped this generator's clips: train_subjects and driving_* ("" = unknown)."""
        driving = self.driving
        return {"train_subjects": subjects_cell(self.train_subjects), **(NO_DRIVING if driving is None else driving.cells())}

    @abstractmethod
    def animate(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> GeneratorOutput:
        """The generator's own work: an aligned face, a checked condition, a torch.Generator → output."""

    def check_condition(self, condition: Condition) -> None:
        """Refuse a condition this generator cannot make (unknown class, AU) with a MexkitInputError; default: all."""

    @property
    def train_subjects(self) -> tuple[str, ...] | None:
        """Subjects whose data shaped the weights (for the leakage gate); () for a generator that learned
        nothing; None (the base's answer) when not declared — the writer refuses such a generator."""
        return None

    @property
    def driving(self) -> DrivingClip | None:
        """The driving clip whose motion every clip carries (motion transfer); None without one."""
        return None

    def weights_hash(self) -> str:
        """Short hash of the weights (and config), for deterministic sample ids; 'none' without weights."""
        if not isinstance(self, torch.nn.Module):
            return "none"
        h = hashlib.sha256()
        for k, v in sorted(self.state_dict().items()):
            h.update(k.encode())
            h.update(v.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()[:16]
