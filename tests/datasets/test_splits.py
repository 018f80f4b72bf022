"""Subject-wise splits: LOSO, k-fold, fixed hold-out; written to and read from files."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mexkit.datasets import CASME2Adapter, SAMMAdapter, SMICAdapter, megc2019_composite
from mexkit.datasets.splits import SubjectSplits, holdout_subject_split, kfold_subject_splits, loso_splits
from mexkit.errors import MexkitInputError


@pytest.fixture(scope="module")
def composite(pristine):
    return megc2019_composite([SMICAdapter(pristine("smic").root).manifest(), CASME2Adapter(pristine("casme2").root).manifest(),
                               SAMMAdapter(pristine("samm").root).manifest()])


def _synthetic_manifest(n_subjects=12, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_subjects):
        ds = ["casme2", "samm", "smic"][s % 3]
        for j in range(int(rng.integers(1, 9))):
            rows.append({"sample_id": f"{ds}_s{s}_{j}", "subject": f"{ds}_s{s}", "dataset": ds, "label": "negative"})
    return pd.DataFrame(rows)


def test_loso_over_composite_and_per_dataset(composite, tmp_path):
    s = loso_splits(composite)
    assert len(s) == composite["subject"].nunique() == 6
    seen_test = []
    for fold, tr, te in s.indices(composite):
        assert set(composite.iloc[te]["subject"]) == {fold.name}
        assert fold.name not in set(composite.iloc[tr]["subject"])
        assert len(tr) + len(te) == len(composite)
        seen_test += list(te)
    assert sorted(seen_test) == list(range(len(composite)))
    only = loso_splits(composite, dataset="casme2")
    assert [f.name for f in only.folds] == ["casme2_sub01", "casme2_sub02"]
    for fold, tr, te in only.indices(composite):  # positions into the composite, casme2 rows only
        assert set(composite.iloc[np.r_[tr, te]]["dataset"]) == {"casme2"}
    path = only.save(tmp_path / "casme2_loso.json")
    again = SubjectSplits.load(path)
    assert again == only
    assert [list(te) for _, _, te in again.indices(composite)] == [list(te) for _, _, te in only.indices(composite)]


def test_kfold_balanced_disjoint_seeded():
    m = _synthetic_manifest()
    s = kfold_subject_splits(m, k=3, seed=7)
    tests = [set(f.test_subjects) for f in s.folds]
    assert set().union(*tests) == set(m["subject"]) and sum(map(len, tests)) == m["subject"].nunique()
    sizes = [int(m["subject"].isin(t).sum()) for t in tests]
    counts = m["subject"].value_counts()
    assert max(sizes) - min(sizes) <= counts.max()  # greedy balance bound
    for f in s.folds:
        assert not set(f.train_subjects) & set(f.test_subjects)
    assert kfold_subject_splits(m, k=3, seed=7).folds == s.folds
    with pytest.raises(ValueError):
        kfold_subject_splits(m, k=1)


def test_holdout_stratified_by_dataset_and_fixed():
    m = _synthetic_manifest(15)
    s = holdout_subject_split(m, test_fraction=0.2, seed=3)
    (fold,) = s.folds
    held = m[m["subject"].isin(fold.test_subjects)]
    assert held.groupby("dataset")["subject"].nunique().to_dict() == {"casme2": 1, "samm": 1, "smic": 1}
    assert not set(fold.test_subjects) & set(fold.train_subjects)
    assert set(fold.test_subjects) | set(fold.train_subjects) == set(m["subject"])
    assert holdout_subject_split(m, test_fraction=0.2, seed=3).folds == s.folds
    variants = {tuple(holdout_subject_split(m, test_fraction=0.2, seed=k).folds[0].test_subjects) for k in range(5)}
    assert len(variants) > 1  # the seed matters


def test_split_file_refuses_another_manifest(composite, tmp_path):
    path = loso_splits(composite).save(tmp_path / "loso.json")
    changed = composite.drop(index=0).reset_index(drop=True)
    with pytest.raises(MexkitInputError, match="splits were made for another manifest") as e:
        list(SubjectSplits.load(path).indices(changed, source=path))
    assert str(path) in str(e.value)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(MexkitInputError, match="cannot read split file"):
        SubjectSplits.load(tmp_path / "bad.json")


def test_leave_one_dataset_out_over_the_six_meb_datasets(pristine, tmp_path):
    """MEB's protocol on a composite of the CASME, CASME II, SAMM, MMEW, 4DME and CAS(ME)³-A fixture trees."""
    from mexkit.datasets import make_adapter
    from mexkit.datasets.splits import lodo_splits

    names = ["casme", "casme2", "samm", "mmew", "fourdme", "casme3"]
    comp = pd.concat([make_adapter(n, pristine(n).root).manifest() for n in names], ignore_index=True)
    s = lodo_splits(comp)
    assert [f.name for f in s.folds] == sorted(names)
    seen = []
    for fold, tr, te in s.indices(comp):
        assert set(comp.iloc[te]["dataset"]) == {fold.name} and fold.name not in set(comp.iloc[tr]["dataset"])
        assert len(tr) + len(te) == len(comp) and not set(comp.iloc[tr]["subject"]) & set(comp.iloc[te]["subject"])
        seen += list(te)
    assert sorted(seen) == list(range(len(comp)))
    back = SubjectSplits.load(s.save(tmp_path / "lodo.json"))
    assert back.kind == "lodo" and [f.test_subjects for f in back.folds] == [f.test_subjects for f in s.folds]
    with pytest.raises(MexkitInputError, match="at least two datasets"):
        lodo_splits(comp[comp["dataset"] == "casme"])
    clash = comp.copy()
    clash.loc[clash["dataset"] == "samm", "subject"] = "casme_sub01"
    with pytest.raises(MexkitInputError, match="appears in datasets"):
        lodo_splits(clash)
