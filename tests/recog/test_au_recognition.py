"""Action units as the recognition target: AU-F1 as MEB computes it (hand-computed cases and scikit-learn),
multi-label recognizers, AU-F1 separating a model that learned the AUs from constant predictors, and the
study's statistics on AU targets."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.metrics import f1_score

from mexkit.datasets.au_targets import MEB_AUS
from mexkit.recog.metrics import all_on_baseline, au_f1, au_score_frame
from mexkit.recog.samples import SampleSet

FLOW = {"kind": "flow_strain", "method": "dis", "size": 14}


def test_au_f1_hand_computed():
    # 4 samples, 3 AUs. AU a: TP 2, FP 1, FN 0, TN 1 → F1 4/5; negative class F1 2·1/(2+1) = 2/3.
    # AU b: never true, never predicted → F1 0 (zero_division), macro 1 (only the negative class occurs).
    # AU c: TP 0, FP 0, FN 2, TN 2 → F1 0; negative class F1 2·2/(4+2) = 2/3 → macro (0 + 2/3) / 2.
    t = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 0], [0, 0, 0]])
    p = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0]])
    got = au_f1(t, p)
    assert got["au_f1"] == pytest.approx((4 / 5 + 0 + 0) / 3)
    assert got["au_macro_f1"] == pytest.approx(((4 / 5 + 2 / 3) / 2 + 1 + (2 / 3) / 2) / 3)
    frame = au_score_frame(t, p, ["a", "b", "c"])
    assert frame["support"].tolist() == [2, 0, 2] and frame["predicted"].tolist() == [3, 0, 0]


def test_au_f1_is_mebs_multilabel_f1_score():
    """MEB: f1_score(labels[:, i], predictions[:, i], average="binary" | "macro") per AU, mean over AUs."""
    rng = np.random.default_rng(0)
    for _ in range(15):
        n = int(rng.integers(1, 30))
        t = (rng.random((n, 12)) < rng.random(12)).astype(int)
        p = (rng.random((n, 12)) < rng.random(12)).astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            binary = np.mean([f1_score(t[:, i], p[:, i], average="binary") for i in range(12)])
            macro = np.mean([f1_score(t[:, i], p[:, i], average="macro") for i in range(12)])
        got = au_f1(t, p)
        assert got["au_f1"] == pytest.approx(binary) and got["au_macro_f1"] == pytest.approx(macro)


def test_all_on_baseline_is_2p_over_1_plus_p():
    t = np.zeros((10, 12), int)
    t[:4, 0] = 1  # p = 0.4
    t[:, 1] = 1  # p = 1
    expected = (2 * 0.4 / 1.4 + 1.0) / 12
    assert all_on_baseline(t)["au_f1"] == pytest.approx(expected)
    assert all_on_baseline(t)["au_macro_f1"] == pytest.approx(expected / 2 + 0.5 / 12)  # AU2's negative class never occurs


@pytest.fixture(scope="module")
def au_set(param_clips):
    """The stand-in set's clips with their template AUs as targets (AU1/2/4/5/6/9/10/12/15 occur; 7/14/17 never)."""
    s = SampleSet.from_clips(param_clips, classes=None)
    s.prepare(FLOW["kind"], {k: v for k, v in FLOW.items() if k != "kind"}, progress=False)
    return s


def test_recognizers_learn_multilabel_targets(au_set):
    from mexkit.recog.flow_lda import FlowLDA
    from mexkit.recog.lbptop_svm import LBPTOPSVM
    from mexkit.recog.ststnet import STSTNet

    x = au_set.features("flow_strain", method="dis", size=14)
    y = au_set.Y
    absent = [MEB_AUS.index(a) for a in ("AU7", "AU14", "AU17")]
    assert y[:, absent].sum() == 0 and y.shape == (len(au_set), 12)
    net = STSTNet(target="aus", input_size=14, epochs=30).fit(x, y)
    assert net.fc.out_features == 12 and net.predict(x).shape == (len(x), 12)
    assert np.isnan(net.au_fixed.numpy()[[MEB_AUS.index("AU1")]]).all() and (net.au_fixed.numpy()[absent] == 0).all()
    assert (net.predict_proba(x)[:, absent] == 0).all()  # an AU absent from training: constant 0, stated in au_fixed
    assert "au_fixed" in net.state_dict() and STSTNet().fc.out_features == 3  # class models unchanged
    for flat in (LBPTOPSVM(target="aus"), FlowLDA(target="aus")):
        flat.fit(x, y)
        pred = flat.predict(x)
        assert pred.shape == (len(x), 12) and (pred[:, absent] == 0).all()
        assert list(np.flatnonzero(~np.isnan(flat.au_constant_))) == sorted(absent)
        assert flat.decision_function(x).shape == (len(x), 12) and (flat.decision_function(x)[:, absent] == -1).all()
        assert au_f1(y, pred)["au_f1"] > 0.5  # fitted on these rows
    assert hasattr(FlowLDA(target="aus"), "predict_proba") and not hasattr(LBPTOPSVM(target="aus"), "predict_proba")
    with pytest.raises(ValueError, match=r"shape \(N, 12\)"):
        STSTNet(target="aus", input_size=14).fit(x, y[:, :5])


class AllOn(BaseEstimator):
    """MEB's "Constant" baseline as an estimator: every AU on for every sample."""

    input_kind = "flow_strain"

    def __init__(self, target: str = "aus"):
        self.target = target

    def fit(self, X, y):
        return self

    def predict(self, X):
        return np.ones((len(X), 12), np.int64)


def test_au_f1_separates_a_model_that_learned_the_aus_from_constant_predictors(au_set):
    from mexkit.recog.loso import run_loso
    from mexkit.recog.ststnet import STSTNet

    net = STSTNet(target="aus", input_size=14, epochs=40)
    learned = run_loso(au_set, net, FLOW, seed=0, progress=False)
    const = run_loso(au_set, AllOn(), FLOW, progress=False)
    # the same network on targets shuffled across samples: nothing to learn from the clips
    shuffled = au_set.select(np.arange(len(au_set)))
    shuffled.table["au_target"] = au_set.table["au_target"].sample(frac=1.0, random_state=0).to_numpy()
    chance = run_loso(shuffled, net, FLOW, seed=0, progress=False)
    assert const.pooled == pytest.approx(all_on_baseline(au_set.Y))  # the runner's constant = the closed form
    assert learned.summary().iloc[0]["all_on_au_f1"] == pytest.approx(const.pooled["au_f1"])
    assert learned.pooled["au_f1"] > const.pooled["au_f1"] + 0.05
    assert learned.pooled["au_f1"] > chance.pooled["au_f1"] + 0.05
    assert learned.per_fold["fold"].tolist() == sorted(au_set.subjects) and set(learned.per_au["au"]) == set(MEB_AUS)
    assert learned.predictions[[f"true_{a}" for a in MEB_AUS]].to_numpy().tolist() == \
        au_set.Y[[list(au_set.table["sample_id"]).index(s) for s in learned.predictions["sample_id"]]].tolist()


def test_au_bootstraps_are_the_class_bootstraps_on_counts():
    """The count-based bootstraps the AU study uses reproduce the class study's bootstraps exactly when fed
    one-hot confusion counts (same draws, same statistics)."""
    from mexkit.recog.metrics import scores_from_confusions
    from mexkit.recog.study import bootstrap_paired, bootstrap_paired_counts, bootstrap_subjects, bootstrap_subjects_counts

    rng = np.random.default_rng(1)
    n, k = 60, 3
    y, a, b = rng.integers(0, k, n), rng.integers(0, k, n), rng.integers(0, k, n)
    subjects = np.array([f"s{i % 9}" for i in range(n)])
    onehot = lambda pred: np.eye(k * k)[y * k + pred]  # noqa: E731

    def score(c):
        s = scores_from_confusions(c.reshape(*c.shape[:-1], k, k))
        return {"uf1": s["uf1"], "uar": s["uar"]}

    ref = bootstrap_subjects(y, a, b, subjects, k, 300, seed=4, fold_diffs={"uf1": pd.Series({f"s{i}": 0.1 * i for i in range(9)})})
    got = bootstrap_subjects_counts(onehot(a), onehot(b), subjects, score, 300, seed=4,
                                    fold_diffs={"uf1": pd.Series({f"s{i}": 0.1 * i for i in range(9)})})
    for m in ("uf1", "uar", "uf1_fold_mean"):
        np.testing.assert_allclose(got[m], ref[m], equal_nan=True)
    ref = bootstrap_paired(y, a, b, k, 300, seed=5)
    got = bootstrap_paired_counts(onehot(a), onehot(b), score, 300, seed=5, chunk=500)
    for m in ("uf1", "uar"):
        np.testing.assert_allclose(got[m], ref[m], equal_nan=True)


def test_study_on_au_targets(corpus, tmp_path):
    """Both arms on identical folds, paired over folds and over subjects, on AU-F1: oracle clips (more clips
    of the same AU-labelled process) against label-swapped ones (every class and AU target wrong)."""
    from mexkit.recog.parametric_set import known_effect_sets
    from mexkit.recog.ststnet import STSTNet
    from mexkit.recog.study import run_study

    effects = {}
    for kind in ("oracle", "label-swapped"):
        real, syn = known_effect_sets(corpus.faces, kind, seed=2, num_subjects=10, real_per_subject=2, synthetic_per_subject=4,
                                      size=32, num_frames=3)
        res = run_study(SampleSet.from_clips(real, classes=None), SampleSet.from_clips(syn, classes=None, synthetic=True),
                        STSTNet(target="aus", input_size=14, epochs=30), FLOW, n_boot=300, progress=False, plots=False,
                        out_dir=tmp_path / kind)
        assert res.summary["metric"].tolist() == ["au_f1", "au_macro_f1"] and res.info["target"] == "aus"
        assert set(res.effects["scope"]) == {"pooled", "fold_mean"} and (res.effects["interval"] == "subject bootstrap").all()
        assert res.folds["n_train_synthetic"].gt(0).all() and len(res.folds) == 10
        e = res.effect("au_f1", "pooled")
        assert e["effect"] == pytest.approx(res.arms["augmented"].pooled["au_f1"] - res.arms["real"].pooled["au_f1"])
        assert e["ci_low"] <= e["ci_high"] and (tmp_path / kind / "study_effects.csv").is_file()
        effects[kind] = e["effect"]
    assert effects["oracle"] > effects["label-swapped"]


def test_warp_generator_clips_carry_au_targets(warp_clips):
    """The warp baseline writes the AUs it animated in each clip's aus cell, so its clips have AU targets."""
    clips, prov = warp_clips
    s = SampleSet.from_clips(clips, classes=None, synthetic=True, provenance=prov)
    assert (s.table["au_target"] != "").all() and s.Y.shape == (len(clips), 12)
    positive = s.table[s.table["label"] == "positive"]
    assert set(positive["au_target"]) == {"AU6+AU12"}
    assert all(t.startswith("AU1+AU2+AU5") for t in s.table.loc[s.table["label"] == "surprise", "au_target"])
