"""The LightningModule base: fixed schedule, clone, class weights, plain and Lightning loops, global RNG untouched."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mexkit.recog.ststnet import STSTNet


def test_clone_is_fresh_and_untrained(param_set):
    x, y = param_set.features("flow_strain", method="dis"), param_set.y
    m = STSTNet(epochs=3, seed=4)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    m.fit(x, y)
    c = m.clone()
    assert c.hparams == m.hparams and c is not m
    for k, v in c.state_dict().items():
        assert torch.equal(v, before[k]), k  # same seed → the same initial weights, not the trained ones
    assert not torch.equal(m.conv.weight, c.conv.weight)
    assert m.clone(seed=5).hparams.seed == 5


def test_balanced_class_weights(param_set):
    y = np.array([0] * 6 + [1] * 2 + [2] * 4)
    m = STSTNet(epochs=1)
    m._set_class_weights(torch.as_tensor(y))
    w = m.class_weights.numpy()
    assert w == pytest.approx([12 / 18, 12 / 6, 12 / 12])  # n / (k · n_c)
    m._set_class_weights(torch.as_tensor(np.array([0, 0, 1])))  # a class absent from training gets weight 0
    assert m.class_weights[2] == 0


def test_lightning_loop_trains_the_same_module(param_set):
    x, y = param_set.features("flow_strain", method="dis"), param_set.y
    m = STSTNet(epochs=30, loop="lightning", seed=0).fit(x, y)
    assert not m.training
    assert (m.predict(x) == y).mean() > 0.8  # it learned the training set


def test_global_rng_untouched_and_bad_input(param_set):
    x, y = param_set.features("flow_strain", method="dis"), param_set.y
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    STSTNet(epochs=1, seed=9).fit(x, y)
    assert torch.equal(torch.rand(3), expected)
    with pytest.raises(ValueError, match="class indices"):
        STSTNet(epochs=1, num_classes=2).fit(x, y)
    with pytest.raises(ValueError, match="loop"):
        STSTNet(loop="fast")
