"""Small 3D CNN on frame stacks of real faces."""
from __future__ import annotations

import numpy as np
import torch

from mexkit.recog.cnn3d import CNN3D


def test_shapes_and_motion_input():
    m = CNN3D(num_classes=3, width=16)
    x = torch.rand(2, 8, 3, 32, 32)
    assert m(x).shape == (2, 3)
    assert sum(p.numel() for p in m.parameters()) < 20_000
    # with motion=True a static clip (every frame the same face) gives the same output whatever the face
    m.eval()
    a = m(x[:, :1].repeat(1, 8, 1, 1, 1))
    b = m(torch.rand(2, 1, 3, 32, 32).repeat(1, 8, 1, 1, 1))
    torch.testing.assert_close(a, b)


def test_learns_training_set(param_set):
    x = param_set.features("frames", num_frames=6, size=32)
    y = param_set.y
    assert x.shape == (len(y), 6, 3, 32, 32)
    m = CNN3D(epochs=40, batch_size=16, seed=0).fit(x, y)
    assert (m.predict(x) == y).mean() > 0.8
    assert m.predict_proba(x[:2]).shape == (2, 3)
