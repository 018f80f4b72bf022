"""The LightningModule base: fixed schedule, clone / get_params / set_params (scikit-learn style), class weights, plain and Lightning loops, global RNG untouched."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from mexkit.recog.cnn3d import CNN3D
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
    bad = STSTNet(loop="fast")  # stored as given (scikit-learn's contract), refused when fitting
    assert bad.get_params()["loop"] == "fast"
    with pytest.raises(ValueError, match="loop"):
        bad.fit(x, y)
    with pytest.raises(ValueError, match="epochs"):
        STSTNet(epochs=0).fit(x, y)


@pytest.mark.parametrize("cls,kwargs", [(STSTNet, {"streams": (2, 4, 6), "epochs": 2}), (CNN3D, {"width": 8, "epochs": 2})])
def test_sklearn_clone_and_set_params(cls, kwargs):
    from sklearn.base import clone

    m = cls(seed=3, **kwargs)
    params = m.get_params()
    assert set(params) == set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert all(params[k] is v for k, v in kwargs.items())  # stored unchanged
    c = clone(m)  # scikit-learn's own clone: checks that the constructor stores its arguments unchanged
    assert type(c) is cls and c is not m and c.get_params() == params
    for (k, v), w in zip(m.state_dict().items(), c.state_dict().values()):
        assert torch.equal(v, w), k  # same seed → the same initial weights
    assert c.set_params(seed=8, num_classes=5) is c
    fresh = cls(**{**params, "seed": 8, "num_classes": 5})
    assert c.get_params() == fresh.get_params() and c.hparams == fresh.hparams
    for (k, v), w in zip(fresh.state_dict().items(), c.state_dict().values()):
        assert torch.equal(v, w), k  # set_params rebuilds the layers exactly as the constructor would
    assert c.class_weights.shape == (5,)
    with pytest.raises(ValueError, match="invalid parameters"):
        c.set_params(epoch=3)
