"""The MEGC-shaped stand-in set: counts, subjects, seeding, real faces in every frame 0."""
from __future__ import annotations

import collections

import numpy as np

from mexkit.recog.parametric_set import MEGC_COUNTS, iter_parametric_clips, parametric_clips, subject_sizes


def test_megc_shape_counts_and_subjects(corpus):
    rng = np.random.default_rng(0)
    sizes = subject_sizes(442, 68, rng)
    assert sizes.sum() == 442 and sizes.min() >= 1 and len(sizes) == 68
    clips = list(iter_parametric_clips(corpus.faces, size=32, num_frames=3, seed=0))
    assert len(clips) == 442 and len({c.subject for c in clips}) == 68
    assert collections.Counter(c.label for c in clips) == MEGC_COUNTS
    assert len({c.sample_id for c in clips}) == 442


def test_seeded_and_warps_real_faces(corpus):
    kw = dict(num_subjects=3, counts={"negative": 2, "positive": 2, "surprise": 2}, size=64, num_frames=5)
    a, b = parametric_clips(corpus.faces, seed=1, **kw), parametric_clips(corpus.faces, seed=1, **kw)
    c = parametric_clips(corpus.faces, seed=2, **kw)
    assert all(np.array_equal(x.frames, y.frames) for x, y in zip(a, b))
    assert not all(np.array_equal(x.frames, y.frames) for x, y in zip(a, c))
    clip = a[0]
    assert clip.frames.shape == (5, 64, 64, 3) and clip.apex == 2 and clip.meta["base_subject"].startswith("corpus_")
    # the apex differs from the onset (the warp) more than onset and offset do (back at rest)
    d_apex = np.abs(clip.frames[2].astype(int) - clip.frames[0]).mean()
    d_off = np.abs(clip.frames[4].astype(int) - clip.frames[0]).mean()
    assert d_apex > d_off
