"""The LOSO runner: one fold per subject, no held-out row ever reaches fit, seeds, pooled metrics, files."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.neighbors import NearestCentroid

from mexkit.recog.leakage import LeakageError
from mexkit.recog.loso import clone_model, fold_seed, loso_folds, run_loso
from mexkit.recog.samples import SampleSet
from mexkit.recog.ststnet import STSTNet

FEATURE = {"kind": "flow_strain", "method": "dis"}


class SpyCentroid(NearestCentroid):
    """A real classifier that records every training matrix it is fitted on (in a class-level log)."""

    fitted: list = []

    def fit(self, X, y):
        SpyCentroid.fitted.append(np.asarray(X).reshape(len(X), -1).copy())
        self.only_ = y[0] if len(set(y)) == 1 else None  # one class (a tiny fold): predict it
        return self if self.only_ is not None else super().fit(np.asarray(X).reshape(len(X), -1), y)

    def predict(self, X):
        if self.only_ is not None:
            return np.full(len(X), self.only_)
        return super().predict(np.asarray(X).reshape(len(X), -1))


def test_no_held_out_row_reaches_fit(param_set):
    SpyCentroid.fitted = []
    res = run_loso(param_set, SpyCentroid(), FEATURE, progress=False)
    x = param_set.features(**{k: v for k, v in FEATURE.items() if k != "kind"}, kind="flow_strain").reshape(len(param_set), -1)
    subjects = param_set.table["subject"].to_numpy()
    assert len(SpyCentroid.fitted) == len(param_set.subjects)  # a fresh fit per fold
    for (fold, test_pos), seen in zip(loso_folds(param_set), SpyCentroid.fitted):
        seen_rows = {r.tobytes() for r in seen}
        assert not any(x[i].tobytes() in seen_rows for i in test_pos), fold
        assert len(seen) == int((subjects != fold).sum())  # every other subject's row, once
    assert sorted(res.predictions["sample_id"]) == sorted(param_set.table["sample_id"])  # each sample tested once


def test_ststnet_loso_metrics_files_and_determinism(param_set, tmp_path):
    model = STSTNet(epochs=40)
    template_weights = {k: v.clone() for k, v in model.state_dict().items()}
    res = run_loso(param_set, model, FEATURE, seed=7, out_dir=tmp_path, progress=False)
    pf, pred = res.per_fold, res.predictions
    assert list(pf["fold"]) == sorted(param_set.subjects)
    assert list(pf["seed"]) == [fold_seed(7, f) for f in pf["fold"]]
    assert (pf["n_train"] + pf["n_test"] == len(param_set)).all()
    # pooled figures are the metrics of all predictions together, as scikit-learn computes them
    assert res.pooled["uf1"] == pytest.approx(f1_score(pred["y_true"], pred["y_pred"], average="macro"))
    assert res.pooled["uar"] == pytest.approx(balanced_accuracy_score(pred["y_true"], pred["y_pred"]))
    assert res.pooled["uf1"] > 0.7  # well above chance (1/3) on unseen subjects
    assert res.confusion.to_numpy().sum() == len(param_set)
    for name in ("per_fold.csv", "predictions.csv", "confusion.csv", "summary.csv", "result.json", "confusion.png", "per_fold.png"):
        assert (tmp_path / name).is_file(), name
    assert pd.read_csv(tmp_path / "per_fold.csv")["uf1"].tolist() == pytest.approx(pf["uf1"].tolist())
    # same seed, same numbers; the template itself is never trained
    again = run_loso(param_set, model, FEATURE, seed=7, progress=False)
    assert again.predictions["y_pred"].tolist() == pred["y_pred"].tolist()
    for k, v in model.state_dict().items():
        assert (v == template_weights[k]).all(), k


def test_augmentation_is_gated_and_counted(param_set, warp_clips):
    clips, prov = warp_clips
    syn = SampleSet.from_clips(clips, synthetic=True, provenance=prov)
    # relabel the synthetic pool as made from the parametric subjects' faces: param_s03's fold must refuse it
    syn.table["source_subject"] = "param_s03"
    with pytest.raises(LeakageError, match="param_s03"):
        run_loso(param_set, SpyCentroid(), FEATURE, augment=lambda fold, held: syn, progress=False)
    syn.table["source_subject"] = "someone_else"  # a subject the real set does not have: refused, not passed
    with pytest.raises(LeakageError, match="not a subject of the real set"):
        run_loso(param_set, SpyCentroid(), FEATURE, augment=lambda fold, held: syn, folds=["param_s01"], progress=False)
    syn.table["source_subject"] = "outside:someone_else"
    res = run_loso(param_set, SpyCentroid(), FEATURE, augment=lambda fold, held: syn, folds=["param_s01"], progress=False)
    assert res.per_fold["n_train_synthetic"].tolist() == [len(syn)]


def test_clone_model_seeds_both_kinds():
    from mexkit.recog.lbptop_svm import LBPTOPSVM

    assert clone_model(LBPTOPSVM(), 11, 3).random_state == 11
    m = clone_model(STSTNet(num_classes=5), 12, 3)
    assert m.hparams.seed == 12 and m.num_classes == 3
    built = STSTNet(num_classes=3, seed=12)  # what the fold's model was before clone_model used sklearn's clone
    for (k, v), w in zip(built.state_dict().items(), m.state_dict().values()):
        assert torch.equal(v, w), k
    with pytest.raises(Exception, match="at least two"):
        run_loso(SampleSet.from_clips([]), STSTNet(), FEATURE, progress=False)
