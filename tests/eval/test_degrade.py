"""The controlled degradations used to validate the metrics."""
from __future__ import annotations

import numpy as np

from mexkit.eval.degrade import add_flicker, add_jitter, add_noise, blur, interleave


def test_degradations(short_clips):
    f = short_clips[0].frames
    assert np.array_equal(add_flicker(f, 0.0), f) and np.array_equal(add_jitter(f, 0.0), f)
    assert np.array_equal(blur(f, 0.0), f) and np.array_equal(add_noise(f, 0.0), f)
    fl = add_flicker(f, 10.0, seed=1)
    shifts = (fl.astype(float) - f).mean(axis=(1, 2, 3))
    assert shifts.std() > 2.0 and np.abs(shifts).max() < 16  # per-frame brightness pumping
    assert np.array_equal(add_flicker(f, 10.0, seed=1), fl) and not np.array_equal(add_flicker(f, 10.0, seed=2), fl)
    j = add_jitter(f, 3.0, seed=0)
    assert j.shape == f.shape and not np.array_equal(j, f)
    assert abs(float(add_noise(f, 10.0, seed=0).astype(float).std() - f.astype(float).std())) < 10
    assert blur(f, 2.0).astype(float).std() < f.astype(float).std()


def test_interleave_takes_frames_in_turn(short_clips):
    a, b = short_clips[0].frames[:4], short_clips[4].frames[:4]
    mix = interleave([a, b])
    assert np.array_equal(mix[0], a[0]) and np.array_equal(mix[1], b[1]) and np.array_equal(mix[2], a[2]) and len(mix) == 4
