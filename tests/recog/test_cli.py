"""`mexkit recog loso` and `mexkit study` from YAML configs, on the corpus and the synthetic writer's
output; a leaking synthetic manifest makes `mexkit study` stop with exit code 2 and a clear message."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from mexkit.cli import main


def _config(tmp_path, name, **sections):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(sections))
    return path


LBP = {"class_path": "lbptop_svm", "init_args": {"C": 1.0}, "feature": {"kind": "lbptop", "grid": 4, "num_frames": 6, "size": 48}}


def test_recog_loso_command(tmp_path, capsys):
    cfg = _config(tmp_path, "loso.yaml", data={"corpus": True}, model=LBP, loso={"seed": 1}, out=str(tmp_path / "out"))
    assert main(["recog", "loso", "--config", str(cfg), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "LOSO summary" in out and "corpus_woman" in out
    pf = pd.read_csv(tmp_path / "out" / "lbptop_svm" / "per_fold.csv")
    assert pf["fold"].tolist() == ["corpus_man", "corpus_woman"]
    assert (tmp_path / "out" / "summary.csv").is_file() and (tmp_path / "out" / "rejects.csv").is_file()


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    """A real `mexkit generate` output folder: the warp baseline on every corpus face, one clip each."""
    from mexkit.synth.writer import generate_dataset

    out = tmp_path_factory.mktemp("syn") / "warp"
    counts = generate_dataset("warp", "corpus", out, per_face=3, seed=0, progress=False)
    assert counts["written"] > 0
    return out


def test_study_command_and_leakage_refusal(tmp_path, synthetic_dir, capsys):
    cfg = _config(tmp_path, "study.yaml", data={"corpus": True}, synthetic={"manifest": str(synthetic_dir)},
                  models={"lbp": LBP}, study={"n_boot": 200}, out=str(tmp_path / "study"))
    assert main(["study", "--config", str(cfg), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "Augmentation study" in printed
    summary = pd.read_csv(tmp_path / "study" / "study_summary.csv")
    assert summary["metric"].tolist() == ["uf1", "uar"] and summary["model"].tolist() == ["lbp", "lbp"]
    assert (tmp_path / "study" / "lbp" / "folds_uf1.png").is_file()

    # the same clips, but one of them now says its generator was trained on corpus_woman's data
    df = pd.read_csv(synthetic_dir / "manifest.csv", keep_default_na=False)
    row = df.index[df["source_subject"] == "corpus_f1"][0]
    df.loc[row, "train_subjects"] = "corpus_woman"
    bad = synthetic_dir / "manifest_leaky.csv"
    df.to_csv(bad, index=False)
    assert main(["study", "--config", str(cfg), "--synthetic", str(bad), "--quiet", "--out", str(tmp_path / "s2")]) == 2
    err = capsys.readouterr().err
    assert "leakage refused" in err and df.at[row, "sample_id"] in err and "fold 'corpus_woman'" in err
    assert not (tmp_path / "s2" / "lbp" / "study_summary.csv").exists()


def test_config_errors(tmp_path, capsys):
    cfg = _config(tmp_path, "bad.yaml", data={"corpus": True}, model={"class_path": "no.such.Model"})
    assert main(["recog", "loso", "--config", str(cfg)]) == 2
    assert "cannot import model" in capsys.readouterr().err
    assert main(["recog", "loso", "--config", str(tmp_path / "missing.yaml")]) == 2


@pytest.mark.parametrize("name", ["recog_ststnet_corpus.yaml", "recog_megc2019.yaml", "study_corpus_warp.yaml"])
def test_shipped_configs_build(name):
    from mexkit.recog.experiment import build_model, load_config, model_feature, model_specs

    cfg = load_config(name)  # found among the shipped configs by name
    specs = model_specs(cfg)
    for spec in specs.values():
        model = build_model(spec)
        feature = model_feature(cfg, spec)
        assert feature is None or feature["kind"] == model.input_kind
    if name.startswith("study"):
        assert set(specs) == {"lbptop_svm", "ststnet", "cnn3d"}
        assert cfg["synthetic"]["generate"]["generator"] == "warp" and cfg["synthetic"]["select"] == "other-subjects"
