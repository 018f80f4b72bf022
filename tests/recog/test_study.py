"""The augmentation study on the embedded corpus + warp-baseline clips of its faces: identical folds and
seeds in both arms, leakage refused before anything trains, paired statistics, files."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from mexkit.recog.leakage import LeakageError
from mexkit.recog.samples import SampleSet
from mexkit.recog.study import bootstrap_paired, plan_synthetic, run_study, wilcoxon_paired
from mexkit.recog.ststnet import STSTNet

from .test_loso import SpyCentroid

FEATURE = {"kind": "flow_strain", "method": "dis"}


@pytest.fixture()
def real(corpus):
    return SampleSet.from_corpus(corpus)


@pytest.fixture()
def pool(warp_clips):
    clips, prov = warp_clips
    return SampleSet.from_clips(clips, synthetic=True, provenance=prov)


def test_both_arms_identical_folds_seeds_and_files(real, pool, tmp_path):
    res = run_study(real, pool, STSTNet(epochs=20), FEATURE, seed=3, n_boot=300, out_dir=tmp_path, progress=False)
    a, b = res.arms["real"].per_fold, res.arms["augmented"].per_fold
    assert a["fold"].tolist() == b["fold"].tolist() == ["corpus_man", "corpus_woman"]
    assert a["seed"].tolist() == b["seed"].tolist()
    assert a["n_train_real"].tolist() == b["n_train_real"].tolist() and (a["n_train_synthetic"] == 0).all()
    # each fold trains on the clips made from the other subjects' faces only
    per_subject = pool.table["source_subject"].value_counts()
    assert b["n_train_synthetic"].tolist() == [len(pool) - per_subject[f] for f in b["fold"]]
    assert res.arms["real"].predictions["sample_id"].tolist() == res.arms["augmented"].predictions["sample_id"].tolist()
    s = res.summary.set_index("metric")
    assert set(s.index) == {"uf1", "uar"}
    for m in ("uf1", "uar"):
        assert s.at[m, "diff"] == pytest.approx(s.at[m, "augmented"] - s.at[m, "real"])
        assert s.at[m, "real"] == pytest.approx(res.arms["real"].pooled[m])
        assert s.at[m, "ci_low"] <= s.at[m, "ci_high"] and s.at[m, "n_folds"] == 2
    assert res.folds["uf1_diff"].tolist() == pytest.approx((res.folds["uf1_augmented"] - res.folds["uf1_real"]).tolist())
    for name in ("study_summary.csv", "study_folds.csv", "study.json", "folds_uf1.png", "bootstrap_uar.png",
                 "arms/real/per_fold.csv", "arms/augmented/predictions.csv", "arms/augmented/confusion.png"):
        assert (tmp_path / name).is_file(), name
    assert pd.read_csv(tmp_path / "study_summary.csv")["metric"].tolist() == ["uf1", "uar"]


def test_refuses_clip_from_held_out_face_given_per_fold(real, pool):
    SpyCentroid.fitted = []
    # per-fold sets: fold corpus_woman wrongly gets a clip animated from corpus_woman's own face
    woman = pool.table.index[pool.table["source_subject"] == "corpus_woman"][0]
    others = np.flatnonzero(~pool.table["source_subject"].isin(["corpus_man", "corpus_woman"]).to_numpy())
    per_fold = {"corpus_man": pool.select(others), "corpus_woman": pool.select(np.r_[others, woman])}
    bad_id = pool.table.at[woman, "sample_id"]
    with pytest.raises(LeakageError) as err:
        run_study(real, per_fold, SpyCentroid(), FEATURE, progress=False)
    msg = str(err.value)
    assert bad_id in msg and "fold 'corpus_woman'" in msg and "source_subject='corpus_woman'" in msg
    assert SpyCentroid.fitted == []  # stopped before any model was trained
    # without the bad clip the same per-fold sets run
    per_fold["corpus_woman"] = pool.select(others)
    res = run_study(real, per_fold, SpyCentroid(), FEATURE, n_boot=50, progress=False)
    assert res.folds["n_train_synthetic"].tolist() == [len(others)] * 2


def test_refuses_generator_trained_on_held_out_subject(real, pool):
    SpyCentroid.fitted = []
    i = pool.table.index[pool.table["source_subject"] == "corpus_f1"][0]
    pool.table.loc[i, "train_subjects"] = "corpus_f13;corpus_man"  # weights saw corpus_man's data
    pool.table.loc[i, "generator"] = "mocogan-demo"
    with pytest.raises(LeakageError) as err:
        run_study(real, pool, SpyCentroid(), FEATURE, progress=False)
    msg = str(err.value)
    assert pool.table.at[i, "sample_id"] in msg and "fold 'corpus_man'" in msg and "trained on the held-out subject" in msg
    assert SpyCentroid.fitted == []


def test_select_given_uses_the_pool_verbatim_and_refuses_held_out_faces(real, pool):
    with pytest.raises(LeakageError, match="fold 'corpus_man'.*generated from a face of the held-out subject"):
        plan_synthetic(real, pool, select="given")
    plan = plan_synthetic(real, pool)  # other-subjects: the held-out subject's faces are left out
    for fold, part in plan.items():
        assert fold not in set(part.table["source_subject"])
    with pytest.raises(Exception, match="non-synthetic"):
        plan_synthetic(real, real)


def test_wilcoxon_and_bootstrap():
    a = np.array([0.5, 0.4, 0.6, 0.3, 0.55, 0.45, 0.5, 0.35])
    out = wilcoxon_paired(a, a + np.linspace(0.01, 0.08, 8))  # all 8 folds improve
    assert out["p_value"] == pytest.approx(2 / 2 ** 8)  # exact two-sided p of 8 positive signed ranks
    assert out["p_value"] == pytest.approx(wilcoxon(a + np.linspace(0.01, 0.08, 8), a).pvalue)
    ties = wilcoxon_paired(a, a)
    assert ties["p_value"] == 1.0 and "ties" in ties["note"]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    noisy = np.where(rng.random(60) < 0.4, y, (y + 1) % 3)
    same = bootstrap_paired(y, noisy, noisy, 3, n_boot=200)
    assert np.all(same["uf1"] == 0)
    better = bootstrap_paired(y, noisy, y, 3, n_boot=400, seed=1)  # perfect vs 40 % correct
    assert np.percentile(better["uf1"], 2.5) > 0.3 and np.percentile(better["uar"], 2.5) > 0.3
