"""The generator protocol: `Generator` is an enforced abstract base, `generate` is the one public call."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mexkit.synth import Condition, Generator, GeneratorOutput, WarpGenerator


def test_subclass_without_animate_cannot_be_instantiated():
    class NoAnimate(Generator):
        generator_name = "broken"

    with pytest.raises(TypeError, match="animate"):
        NoAnimate()


def test_generate_checks_the_condition_then_animates_with_a_torch_generator():
    from mexkit.datasets import load_corpus
    from mexkit.errors import MexkitInputError

    seen = []

    class Recording(Generator):
        generator_name = "recording"

        def check_condition(self, condition):
            if condition.label == "happy":
                raise MexkitInputError(None, "unknown class 'happy'", "use positive", stage="condition")

        def animate(self, face, condition, generator):
            seen.append((face, condition, generator))
            return WarpGenerator().animate(face, condition, generator)

    face = load_corpus().faces[0]
    out = Recording().generate(face, generator=3)
    assert isinstance(out, GeneratorOutput)
    (got_face, got_cond, got_gen), = seen
    assert got_face is face and got_cond == Condition() and isinstance(got_gen, torch.Generator)
    with pytest.raises(MexkitInputError):
        Recording().generate(face, Condition(label="happy"))
    assert len(seen) == 1  # refused before any work
    # base defaults: training subjects NOT declared (None: the writer refuses it), no driving clip, no weights
    assert Recording().train_subjects is None and Recording().driving is None and Recording().weights_hash() == "none"
    # every clip carries its provenance cells: unknown training subjects stay unknown ("")
    assert out.clip.meta["train_subjects"] == "" and out.clip.meta["driving_subject"] == "none"
    assert WarpGenerator().generate(face, generator=3).clip.meta["train_subjects"] == "none"
    from mexkit.synth.warp.generator import resize_face

    np.testing.assert_array_equal(out.clip.frames[0], resize_face(face, 128).crop)
