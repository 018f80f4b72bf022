"""Cross-fitted generators: disjoint balanced groups, no generator used on a subject it saw, resumable."""
from __future__ import annotations

import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.recog import cross_fit as cf
from mexkit.recog.leakage import LeakageError
from mexkit.recog.parametric_set import parametric_clips, scarce_clips
from mexkit.recog.samples import SampleSet
from mexkit.recog.study import plan_synthetic
from mexkit.synth import train_cli

COUNTS = {"negative": 10, "positive": 6, "surprise": 6}


def _manifest(n_subjects: int = 12, seed: int = 0) -> pd.DataFrame:
    rows = []
    for i in range(n_subjects):
        for j, label in enumerate(["negative", "positive", "surprise"][: 1 + i % 3]):
            rows.append({"sample_id": f"s{i:02d}_{j}", "subject": f"s{i:02d}", "dataset": "casme2" if i % 2 else "samm", "label": label})
    return pd.DataFrame(rows)


def test_groups_are_disjoint_cover_every_subject_and_are_balanced():
    m = _manifest(12)
    groups = cf.subject_groups(m, 4, seed=0)
    flat = [s for g in groups for s in g]
    assert sorted(flat) == sorted(m["subject"].unique()) and len(flat) == len(set(flat))
    assert [len(g) for g in groups] == [3, 3, 3, 3]
    for g in groups:  # each dataset in every group (6 subjects each, dealt round-robin)
        assert set(m[m["subject"].isin(g)]["dataset"]) == {"casme2", "samm"}
    assert cf.subject_groups(m, 4, seed=0) == groups and cf.subject_groups(m, 4, seed=1) != groups


def test_bad_group_counts_and_missing_classes_are_refused():
    m = _manifest(5)
    with pytest.raises(MexkitInputError, match="only 5 subjects"):
        cf.subject_groups(m, 6)
    with pytest.raises(MexkitInputError, match="at least 2"):
        cf.subject_groups(m, 1)
    lonely = pd.concat([m, pd.DataFrame([{"sample_id": "x", "subject": "s99", "dataset": "samm", "label": "other"}])])
    groups = [["s99"], sorted(set(lonely["subject"]) - {"s99"})]
    with pytest.raises(MexkitInputError, match=r"generator 0.*\[.other.\]"):
        cf.check_groups(lonely, groups, ["negative", "positive", "surprise", "other"])


@pytest.fixture(scope="module")
def cross_fitted(tmp_path_factory, corpus):
    """A real cross-fitted run: 8 stand-in subjects, K = 2, the tiny MoCoGAN recipe for a few steps."""
    out = tmp_path_factory.mktemp("cross_fit")
    clips = scarce_clips(parametric_clips(corpus.faces, num_subjects=8, counts=COUNTS, size=64), per_subject=2)
    manifest = pd.read_csv(cf.write_clip_folder(clips, out / "real"))
    fit = cf.CrossFit(recipe="mocogan_tiny", groups=2, per_face=3, trainer_args=["--trainer.max_steps=6"])
    return fit, manifest, out, fit.run(manifest, out / "real", out, progress=False)


def test_no_generator_is_used_on_a_subject_it_was_trained_on(cross_fitted):
    fit, manifest, out, result = cross_fitted
    real = SampleSet.from_manifest(out / "real" / "manifest.csv")
    pools = result.fold_pools(real)
    assert set(pools) == set(real.subjects)
    for k, group in enumerate(result.groups):
        syn = pd.read_csv(result.synthetic[k] / "manifest.csv", keep_default_na=False)
        trained_on = {s for cell in syn["train_subjects"] for s in cell.split(";")}
        assert trained_on == set(manifest["subject"]) - set(group)  # exactly the subjects outside group k
        assert set(syn["source_subject"]) <= trained_on  # it animated its own training subjects only
        assert len(syn) == 3 * len(trained_on)
    # the leakage gate accepts the cross-fitted plan, and refuses the same pools handed to the wrong folds
    plan_synthetic(real, pools)
    swapped = {fold: result.fold_pools(real)[next(s for s in real.subjects if s not in group)]
               for group in result.groups for fold in group}
    with pytest.raises(LeakageError):
        plan_synthetic(real, swapped)


def test_a_rerun_trains_and_generates_nothing(cross_fitted, monkeypatch):
    fit, manifest, out, result = cross_fitted
    before = [(p / "manifest.csv").read_bytes() for p in result.synthetic]

    def no_training(*a, **k):
        raise AssertionError("a finished group was trained again")

    monkeypatch.setattr(train_cli, "run_lightning_cli", no_training)
    again = fit.run(manifest, out / "real", out, progress=False)
    assert again.groups == result.groups
    assert [(p / "manifest.csv").read_bytes() for p in again.synthetic] == before


def test_other_groups_in_the_same_folder_are_refused(cross_fitted):
    fit, manifest, out, _ = cross_fitted
    seed = next(s for s in range(1, 50) if cf.subject_groups(manifest, 2, s) != cf.subject_groups(manifest, 2, fit.seed))
    other = cf.CrossFit(recipe=fit.recipe, groups=2, seed=seed, per_face=fit.per_face, trainer_args=fit.trainer_args)
    with pytest.raises(MexkitInputError, match="other subject groups"):
        other.run(manifest, out / "real", out, progress=False)
