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


LBP = {"class_path": "mexkit.recog.lbptop_svm.LBPTOPSVM", "init_args": {"C": 1.0}}
LBP_FEATURE = {"kind": "lbptop", "grid": 4, "num_frames": 6, "size": 48}


def test_recog_loso_command(tmp_path, capsys):
    cfg = _config(tmp_path, "loso.yaml", data={"corpus": True}, model=LBP, feature=LBP_FEATURE, loso={"seed": 1}, out=str(tmp_path / "out"))
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
                  models={"lbp": {"model": LBP, "feature": LBP_FEATURE}}, study={"n_boot": 200}, out=str(tmp_path / "study"))
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
    err = capsys.readouterr().err
    assert str(cfg) in err and "no.such.Model" in err
    assert main(["recog", "loso", "--config", str(tmp_path / "missing.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_bad_key_in_a_study_config_names_the_file(tmp_path, capsys):
    from mexkit.configs import config_path

    cfg = yaml.safe_load(config_path("study_corpus_warp").read_text())
    cfg["synthetic"]["generate"]["per_fase"] = cfg["synthetic"]["generate"].pop("per_face")  # a typo
    bad = _config(tmp_path, "typo.yaml", **cfg)
    assert main(["study", "--config", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "per_fase" in err
    cfg["models"]["ststnet"]["model"]["init_args"]["epochs"] = "many"  # a wrong type, inside init_args
    cfg["synthetic"]["generate"]["per_face"] = cfg["synthetic"]["generate"].pop("per_fase")
    bad = _config(tmp_path, "type.yaml", **cfg)
    assert main(["study", "--config", str(bad), "--print_config"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "epochs" in err and "many" in err


@pytest.mark.parametrize("command", [["recog", "loso"], ["study"]])
def test_print_config_prints_the_resolved_config(command, tmp_path, capsys):
    name = "recog_ststnet_corpus" if command[0] == "recog" else "study_corpus_warp"
    assert main([*command, "--config", name, "--print_config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    from mexkit.configs import config_path

    given = yaml.safe_load(config_path(name).read_text())
    for section in ("data", "loso", "out"):
        if isinstance(given[section], dict):
            assert given[section].items() <= printed[section].items()
        else:
            assert printed[section] == given[section]
    models = {"ststnet": printed["model"]} if "model" in given else {k: v["model"] for k, v in printed["models"].items()}
    assert models["ststnet"]["init_args"]["streams"] == [3, 5, 8]  # a default of STSTNet, filled in
    assert models["ststnet"]["init_args"]["epochs"] == 60
    assert printed["study"]["n_boot"] == given.get("study", {}).get("n_boot", 2000)
    # the printed config is itself a valid config that reads back to the same thing
    again = tmp_path / "printed.yaml"
    again.write_text(yaml.safe_dump(printed))
    assert main([*command, "--config", str(again), "--print_config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == printed


@pytest.mark.parametrize("name", ["recog_ststnet_corpus.yaml", "recog_megc2019", "study_corpus_warp", "recog_meb_au"])
def test_shipped_configs_build(name):
    from mexkit.recog.experiment import build_model, config_target, load_config, model_feature, model_specs

    cfg = load_config(name)  # found among the shipped configs by name or file name
    specs = model_specs(cfg)
    for spec in specs.values():
        model = build_model(spec)
        feature = model_feature(cfg, spec)
        assert feature is None or feature["kind"] == model.input_kind
    if name == "recog_meb_au":  # MEB's protocol: six datasets, one fold each, AU targets
        assert config_target(cfg) == "aus" and cfg["loso"]["unit"] == "dataset"
        assert set(cfg["data"]["datasets"]) == {"casme", "casme2", "samm", "mmew", "fourdme", "casme3"}
        assert all(build_model(spec).get_params()["target"] == "aus" for spec in specs.values())
    if name.startswith("study"):
        assert set(specs) == {"lbptop_svm", "ststnet", "cnn3d"}
        assert cfg["synthetic"]["generate"]["generator"] == "warp" and cfg["synthetic"]["select"] == "other-subjects"


def test_set_overrides_config_values_and_bad_ones_are_named(capsys):
    assert main(["study", "--config", "study_parametric_warp", "--set", "data.parametric.num_subjects=12",
                 "--set", "synthetic.cross_fit.groups=3", "--print_config"]) == 0
    out = capsys.readouterr().out
    assert "num_subjects: 12" in out and "groups: 3" in out
    assert main(["study", "--config", "study_parametric_warp", "--set", "data.nonsense=1", "--print_config"]) == 2
    assert "data.nonsense" in capsys.readouterr().err
    assert main(["recog", "loso", "--config", "recog_ststnet_corpus", "--set", "loso.seed", "--print_config"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
