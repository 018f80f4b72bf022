"""The suite over a real and a synthetic set: every family scores both, ground truth pairs by reference_id,
one CSV per family, bad clips go to rejects.csv, and degraded clips score worse than real ones."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mexkit.eval.clip_sets import open_clip_set
from mexkit.eval.degrade import add_flicker, blur
from mexkit.eval.suite import FAMILIES, EvalSuite


def _degrade(frames, i):
    return add_flicker(blur(frames, 1.5), 8.0, seed=i)


@pytest.fixture(scope="module")
def result(tmp_path_factory, short_clips, random_lpips, synthetic_writer):
    tmp = tmp_path_factory.mktemp("suite")
    real = short_clips[:3]
    fake_dir = synthetic_writer(tmp / "gen", real, transform=_degrade)
    manifest = pd.read_csv(fake_dir / "manifest.csv")
    manifest.loc[len(manifest)] = manifest.iloc[0].copy()
    manifest.loc[len(manifest) - 1, ["sample_id", "path"]] = ["broken", "clips/broken"]  # a row without files
    manifest.to_csv(fake_dir / "manifest.csv", index=False)
    suite = EvalSuite(lpips=random_lpips, identity_stride=3, progress=False, examples=2)
    res = suite.run(open_clip_set(fake_dir, "fake"), real, out_dir=tmp / "out")
    return res, tmp / "out"


def test_every_family_scores_both_sets(result):
    res, _ = result
    assert set(res.tables) == set(FAMILIES) - {"distribution"}
    for family, table in res.tables.items():
        sets = table["set"].value_counts().to_dict()
        expected = {"fake": 3} if family == "perceptual" else {"real": 3, "fake": 3}
        assert sets == expected, family
    perc = res.tables["perceptual"]
    assert list(perc["reference"]) == [s.removeprefix("syn_") for s in perc["sample_id"]]
    assert set(res.distribution["metric"]) == {"frechet_distance"}  # the real-halves baseline needs ≥ 4 real clips
    assert any(n.startswith("CAS needs") for n in res.notes)  # only one labelled class among these clips
    assert any("RANDOM backbone" in n for n in res.notes)


def test_degraded_clips_score_worse_than_real(result):
    res, _ = result
    t = res.tables["temporal"].groupby("set")[["warp_error", "flicker", "lpips_consecutive"]].mean()
    assert t.loc["fake", "flicker"] > 3 * t.loc["real", "flicker"]
    assert t.loc["fake", "warp_error"] > t.loc["real", "warp_error"]
    p = res.tables["perceptual"]
    assert (p["ssim"] < 0.95).all() and (p["psnr"] < 35).all() and (p["lpips"] > 0).all()
    assert (res.tables["temporal"].query("set == 'fake'")["tlpips"] > 0).all()
    ident = res.tables["identity"].set_index(["set", "sample_id"])
    assert (ident["id_cos_mean"] > 0.85).all()  # blur + flicker keep the person


def test_csv_per_family_and_rejects(result):
    res, out = result
    for name in (*res.tables, "summary", "distribution", "timings"):
        df = pd.read_csv(out / f"{name}.csv")
        assert len(df) > 0, name
    summary = pd.read_csv(out / "summary.csv")
    assert {"family", "metric", "set", "mean", "std"} <= set(summary.columns)
    assert not summary["metric"].isin(["fps", "num_frames"]).any()
    rejects = pd.read_csv(out / "rejects.csv")
    assert len(rejects) == 1 and "broken" in rejects.loc[0, "file"] and "not found" in rejects.loc[0, "reason"]
    timings = pd.read_csv(out / "timings.csv")
    assert (timings.query("clips > 0")["clips_per_s"] > 0).all()


def test_curves_and_examples_are_kept_per_set(result):
    res, _ = result
    assert set(res.curves) == {"real", "fake"}
    assert all(len(v) == 3 for v in res.curves.values())
    assert [e["set"] for e in res.examples] == ["real", "real", "fake", "fake"]
    assert res.examples[-1]["reference"] is not None and res.examples[0]["reference"] is None


def test_family_subset_and_unknown_family(short_clips):
    res = EvalSuite(["temporal"], progress=False).run(short_clips[:2])
    assert set(res.tables) == {"temporal"} and len(res.tables["temporal"]) == 2 and res.distribution.empty
    with pytest.raises(ValueError, match="unknown metric families"):
        EvalSuite(["vibes"])


def test_a_failing_clip_is_rejected_and_the_rest_scored(short_clips):
    from mexkit.clip import Clip

    one_frame = Clip(frames=short_clips[0].frames[:1], fps=30.0, sample_id="single")
    res = EvalSuite(["temporal"], progress=False).run([one_frame, short_clips[1]])
    assert list(res.tables["temporal"]["sample_id"]) == [short_clips[1].sample_id]
    assert len(res.rejects) == 1 and res.rejects.rows[0]["stage"] == "temporal"
    assert np.isfinite(res.tables["temporal"]["warp_error"]).all()


def test_missing_ground_truth_is_reported(short_clips):
    fake = short_clips[0].with_frames(short_clips[0].frames, sample_id="syn_x")
    fake.meta["reference_id"] = "not_in_the_real_set"
    res = EvalSuite(["perceptual"], progress=False, examples=0).run([fake], short_clips[:2])
    assert res.tables["perceptual"].empty
    assert any("not_in_the_real_set" in n for n in res.notes) and any(n.startswith("Perceptual metrics") for n in res.notes)
