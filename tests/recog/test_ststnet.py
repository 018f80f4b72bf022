"""STSTNet-like recognizer on flow + strain of real faces warped by class-specific motions."""
from __future__ import annotations

import numpy as np
import torch

from mexkit.recog.ststnet import STSTNet


def _xy(param_set):
    return param_set.features("flow_strain", method="dis"), param_set.y


def test_shapes_and_streams():
    m = STSTNet(num_classes=5, streams=(3, 5, 8))
    x = torch.zeros(4, 3, 28, 28)
    assert m(x).shape == (4, 5)
    assert m.conv.out_channels == 16 and m.features(x).shape == (4, 16 * 5 * 5)
    assert m.input_kind == "flow_strain"


def test_learns_held_out_subjects(param_set):
    x, y = _xy(param_set)
    subjects = param_set.table["subject"].to_numpy()
    largest = param_set.table["subject"].value_counts().index[:3]  # 3 unseen subjects, ~20 clips
    test = np.isin(subjects, largest)
    m = STSTNet(epochs=60, seed=0).fit(x[~test], y[~test])
    assert (m.predict(x[~test]) == y[~test]).mean() > 0.9
    acc = (m.predict(x[test]) == y[test]).mean()
    assert acc > 0.6, acc  # chance is about 1/3 on unseen subjects
    p = m.predict_proba(x[test])
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)


def test_same_seed_same_model_different_seed_different(param_set):
    x, y = _xy(param_set)
    a = STSTNet(epochs=5, seed=1).fit(x, y).predict_proba(x)
    b = STSTNet(epochs=5, seed=1).fit(x, y).predict_proba(x)
    c = STSTNet(epochs=5, seed=2).fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
