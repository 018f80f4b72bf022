"""Fixtures for the recognizer tests: the embedded corpus's real faces and clips, a small labelled
set of class-specific warps of those real faces, and warp-baseline synthetic clips of them."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The recognizers' tiny convolutions run as fast on one thread, and do not stall when the CI
    machine's two cores are shared; the previous setting is restored after each test."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def corpus():
    from mexkit.datasets import load_corpus

    return load_corpus()


@pytest.fixture(scope="session")
def param_clips(corpus):
    """40 clips of 8 pseudo-subjects (real corpus faces, class-specific smooth warps), 96 px, 7 frames."""
    from mexkit.recog.parametric_set import parametric_clips

    return parametric_clips(corpus.faces, num_subjects=8, counts={"negative": 16, "positive": 12, "surprise": 12}, size=96,
                            num_frames=7, noise_px=0.3, head_px=0.3, intensity=(0.5, 1.0), seed=3)


@pytest.fixture()
def param_set(param_clips):
    from mexkit.recog.samples import SampleSet

    return SampleSet.from_clips(param_clips)


@pytest.fixture(scope="session")
def warp_clips(corpus):
    """Warp-baseline clips of every corpus face, one per class, with the provenance the writer records."""
    from mexkit.datasets.provenance import subjects_cell
    from mexkit.synth import Condition, load_generator

    gen = load_generator("warp")
    clips, prov = [], []
    for f_i, face in enumerate(corpus.faces):
        for c_i, label in enumerate(("negative", "positive", "surprise")):
            out = gen.generate(face, Condition(label=label, intensity=0.6), generator=100 * f_i + c_i)
            clip = out.clip
            clip.sample_id = f"warp_{face.meta['face_id']}_{label}"
            clips.append(clip)
            prov.append({"source_subject": face.subject, "train_subjects": subjects_cell(gen.train_subjects), "generator": "warp"})
    return clips, prov


@pytest.fixture(scope="session")
def blendshape_signals():
    """Builds the blendshape spotter's input by hand: n frames of every expression shape at 0.04, with
    `rises` [(column, (first, stop, value)), …] set on top → {column: (n,) array}."""
    import numpy as np

    from mexkit.recog.spotting.blendshape_spotter import COLUMNS

    def build(n, rises):
        sig = {col: np.full(n, 0.04) for col in COLUMNS}
        for col, (a, b, v) in rises:
            sig[col] = sig[col].copy()
            sig[col][a:b] = v
        return sig

    return build
