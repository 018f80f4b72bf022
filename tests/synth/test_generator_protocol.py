"""The generator protocol: `Generator` is an enforced abstract base, `generate` is the one public call."""
from __future__ import annotations

import re

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


@pytest.mark.parametrize("kwargs,needle", [
    ({"fps": 1e9}, "fps must be within (0, 1000]"),
    ({"fps": float("nan")}, "fps must be within (0, 1000]"),
    ({"fps": 1000.0, "duration_ms": 60000.0}, "60000 frames, above 2000 per clip"),
    ({"duration_ms": float("inf")}, "duration_ms must be a positive number"),
], ids=["fps 1e9", "fps nan", "60 s at 1000 fps", "endless duration"])
def test_a_condition_past_the_clip_bounds_is_refused_before_any_frame_is_made(kwargs, needle):
    """The library path has the generate CLI's bounds (issue 26: `--fps 1e9` asked for a 47 TiB clip): a Condition
    above MAX_FPS or MAX_CLIP_FRAMES is refused when it is made, so no generator is ever handed one."""
    from mexkit.errors import MexkitInputError
    from mexkit.synth.condition import MAX_CLIP_FRAMES, MAX_FPS

    with pytest.raises(MexkitInputError, match=re.escape(needle)):
        Condition(**kwargs)
    at_bounds = Condition(fps=MAX_FPS, duration_ms=1000.0 * MAX_CLIP_FRAMES / MAX_FPS)  # the largest clip allowed
    assert at_bounds.num_frames == MAX_CLIP_FRAMES
