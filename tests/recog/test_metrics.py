"""UF1 / UAR: a hand-computed example, scikit-learn on random and per-fold data, torchmetrics state, bootstrap counts."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, f1_score, recall_score

from mexkit.recog.metrics import UF1UAR, confusion_frame, confusions_from_indices, per_fold_scores, uf1_uar


def test_hand_computed_example():
    # true:  0 0 0 1 1 2      pred: 0 0 1 1 2 2
    # class 0: TP 2, FP 0, FN 1 → F1 = 4/5, recall 2/3
    # class 1: TP 1, FP 1, FN 1 → F1 = 1/2, recall 1/2
    # class 2: TP 1, FP 1, FN 0 → F1 = 2/3, recall 1
    s = uf1_uar([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3)
    assert s["uf1"] == pytest.approx((4 / 5 + 1 / 2 + 2 / 3) / 3)  # 59/90
    assert s["uar"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)  # 13/18
    assert s["accuracy"] == pytest.approx(4 / 6)


@pytest.mark.parametrize("seed", range(5))
def test_matches_sklearn_pooled(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, 200)
    p = np.where(rng.random(200) < 0.6, y, rng.integers(0, 3, 200))
    s = uf1_uar(y, p, 3)
    assert s["uf1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert s["uar"] == pytest.approx(recall_score(y, p, average="macro"))
    assert s["uar"] == pytest.approx(balanced_accuracy_score(y, p))


def test_matches_sklearn_when_a_fold_lacks_classes():
    # one subject's fold: only classes 0 and 2 occur in the targets, class 1 is predicted once
    y, p = np.array([0, 0, 2, 2, 2]), np.array([0, 1, 2, 0, 2])
    s = uf1_uar(y, p, 3)
    assert s["uf1"] == pytest.approx(f1_score(y, p, average="macro"))  # classes in targets ∪ predictions
    assert s["uar"] == pytest.approx(balanced_accuracy_score(y, p))  # classes in targets
    # a class neither true nor predicted does not count as a zero
    assert uf1_uar([1, 1], [1, 1], 3)["uf1"] == 1.0


def test_torchmetrics_state_accumulates_over_updates():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    logits = rng.normal(size=(90, 3))
    m = UF1UAR(3)
    for i in range(0, 90, 30):  # scores (N, K) are reduced with argmax
        m.update(torch.tensor(logits[i:i + 30]), torch.tensor(y[i:i + 30]))
    out = m.compute()
    p = logits.argmax(1)
    assert float(out["uf1"]) == pytest.approx(f1_score(y, p, average="macro"))
    assert float(out["uar"]) == pytest.approx(recall_score(y, p, average="macro"))
    np.testing.assert_array_equal(m.confmat.numpy(), confusion_matrix(y, p, labels=[0, 1, 2]))


def test_confusion_frame_and_per_fold():
    import pandas as pd

    cm = confusion_frame([0, 0, 1, 2], [0, 1, 1, 2], ("negative", "positive", "surprise"))
    assert cm.loc["true negative", "pred positive"] == 1 and cm.to_numpy().trace() == 3
    preds = pd.DataFrame({"fold": ["a", "a", "b", "b"], "y_true": [0, 1, 2, 2], "y_pred": [0, 0, 2, 1]})
    pf = per_fold_scores(preds, 3)
    assert pf["uar"].tolist() == pytest.approx([balanced_accuracy_score([0, 1], [0, 0]), balanced_accuracy_score([2, 2], [2, 1])])


def test_bootstrap_confusions_equal_a_loop():
    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    idx = rng.integers(0, 40, size=(7, 40))
    batch = confusions_from_indices(y, p, 3, idx)
    for b in range(7):
        np.testing.assert_array_equal(batch[b], confusion_matrix(y[idx[b]], p[idx[b]], labels=[0, 1, 2]))


def test_one_uf1_definition_for_loso_and_cas():
    """UF1 averages over the classes in the truth or the predictions (a wrongly predicted absent class
    counts as F1 0), UAR over the truth's classes; the CAS metric uses the same function."""
    from sklearn.metrics import f1_score, recall_score

    from mexkit.eval.distribution import uf1_uar as cas_uf1_uar
    from mexkit.recog.metrics import uf1_uar_labels

    names = ["negative", "positive", "surprise"]
    rng = np.random.default_rng(0)
    for _ in range(20):  # one-subject folds: few samples, classes often absent from truth or predictions
        n = int(rng.integers(1, 6))
        t, p = rng.integers(0, 3, n), rng.integers(0, 3, n)
        yt, yp = [names[i] for i in t], [names[i] for i in p]
        uf1, uar = uf1_uar_labels(yt, yp, names)
        assert uf1 == pytest.approx(f1_score(yt, yp, average="macro", zero_division=0))  # sklearn's default labels: truth ∪ predictions
        assert uar == pytest.approx(recall_score(yt, yp, labels=sorted(set(yt)), average="macro", zero_division=0))
        assert uf1 == pytest.approx(uf1_uar(t, p, 3)["uf1"]) and uar == pytest.approx(uf1_uar(t, p, 3)["uar"])
        assert cas_uf1_uar(yt, yp, names) == (uf1, uar)
    # truth holds only "negative"; one "positive" prediction: F1(neg) = 2/3, F1(pos) = 0 → UF1 1/3 (truth-only would say 2/3)
    assert uf1_uar_labels(["negative", "negative"], ["negative", "positive"], names)[0] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="not among the classes"):
        uf1_uar_labels(["negative"], ["happy"], names)
