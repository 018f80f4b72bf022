"""`mexkit recog loso` on AU targets: leave-one-dataset-out over a composite of six adapters' fixture trees
(MEB's protocol in miniature) and LOSO on the stand-in set, both printing AU-F1 per AU and its mean."""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml

from mexkit.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "datasets"))
import fixture_trees as ft  # noqa: E402  (the dataset tests' release-shaped trees)

MEB_DATASETS = ("casme", "casme2", "samm", "mmew", "fourdme", "casme3")
AU_MODEL = {"class_path": "mexkit.recog.ststnet.STSTNet", "init_args": {"target": "aus", "input_size": 14, "epochs": 20}}
FEATURE = {"kind": "flow_strain", "method": "dis", "size": 14}


@pytest.fixture(scope="module")
def meb_trees(tmp_path_factory, corpus):
    """The fixture trees of the six datasets MEB's benchmark leaves out one at a time, from real corpus faces."""
    by_subject = {}
    for c in corpus.clips:
        by_subject.setdefault(c.subject, c)
    seqs = [np.stack([cv2.resize(f, (96, 96), interpolation=cv2.INTER_AREA) for f in c.frames]) for _, c in sorted(by_subject.items())]
    base = tmp_path_factory.mktemp("meb")
    return {name: getattr(ft, f"build_{name}")(base / name, seqs).root for name in MEB_DATASETS}


def _config(tmp_path, **sections):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(sections))
    return str(path)


def test_leave_one_dataset_out_with_au_f1(tmp_path, meb_trees, capsys):
    cfg = _config(tmp_path, data={"datasets": {k: str(v) for k, v in meb_trees.items()}}, model=AU_MODEL, feature=FEATURE,
                  loso={"unit": "dataset", "seed": 0}, out=str(tmp_path / "out"))
    assert main(["recog", "loso", "--config", cfg, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "casme clips are read as raw, unaligned camera frames" in err  # fixture trees hold whole frames: said, not hidden
    assert "AU-F1 per AU, predictions of all folds pooled" in out and "LODO summary (AU-F1" in out
    assert "all-AUs-on constant predictor on the same samples" in out
    run = tmp_path / "out" / "ststnet"
    per_fold = pd.read_csv(run / "per_fold.csv")
    assert per_fold["fold"].tolist() == sorted(MEB_DATASETS)  # one fold per dataset
    assert per_fold["n_test"].tolist() == [5, 4, 3, 2, 4, 3]  # casme, casme2, casme3, fourdme, mmew, samm samples
    pred = pd.read_csv(run / "predictions.csv")
    assert (pred["dataset"] == pred["fold"]).all() and len(pred) == 21
    per_au = pd.read_csv(run / "per_au.csv")
    assert per_au["au"].tolist() == ["AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14", "AU15", "AU17"]
    # each AU's support counted by hand from the fixture cells (AU4: casme "4+17", "4"; casme2 "4+7", "R4"; samm "4+7";
    # casme3 "4+7"; fourdme "AU4+L7" → 7; AU12: one per tree, two in mmew → 7; AU14 from casme's "R14A+38")
    assert dict(zip(per_au["au"], per_au["support"])) == {"AU1": 6, "AU2": 6, "AU4": 7, "AU5": 0, "AU6": 1, "AU7": 4, "AU9": 1,
                                                          "AU10": 0, "AU12": 7, "AU14": 1, "AU15": 0, "AU17": 1}
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary.loc[0, "unit"] == "dataset" and 0 <= summary.loc[0, "au_f1"] <= 1


def test_recog_loso_au_f1_on_the_stand_in_set(tmp_path, capsys):
    cfg = _config(tmp_path, data={"parametric": {"num_subjects": 8, "per_subject": 4, "resolution": 48, "num_frames": 5, "seed": 1}},
                  model=AU_MODEL, feature=FEATURE, out=str(tmp_path / "out"))
    assert main(["recog", "loso", "--config", cfg, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "AU-F1 per AU" in out and "LOSO summary (AU-F1" in out
    manifest = pd.read_csv(tmp_path / "out" / "real" / "manifest.csv", keep_default_na=False)
    assert set(manifest["aus"]) <= {"6+12", "1+2+5+26", "4", "9+10", "1+15"}  # the templates' AUs travel in the manifest
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary.loc[0, "samples"] == len(manifest) and summary.loc[0, "all_on_au_f1"] > 0


def test_models_of_one_config_share_a_target(tmp_path, capsys):
    cls = {"class_path": "mexkit.recog.ststnet.STSTNet", "init_args": {"epochs": 1}}
    cfg = _config(tmp_path, data={"corpus": True}, models={"a": {"model": AU_MODEL}, "b": {"model": cls}})
    assert main(["recog", "loso", "--config", cfg, "--quiet", "--out", str(tmp_path / "o")]) == 2
    assert "models learn different targets" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_rows_without_au_targets_go_to_rejects_naming_sheet_and_row(tmp_path, meb_trees, corpus, capsys):
    """An AU cell that cannot be read is a reject naming the sheet and the row; SMIC-HS has no AU annotation,
    so its rows are rejects too; the rest of the run goes on."""
    import shutil

    casme = tmp_path / "casme"
    shutil.copytree(meb_trees["casme"], casme)
    ft.write_casme_sheet(casme / "CASME-coded-20190721.xls", {(2, "AU"): "R14A+smile"})
    seqs = [np.stack([cv2.resize(f, (96, 96), interpolation=cv2.INTER_AREA) for f in c.frames]) for c in corpus.clips[:2]]
    smic = ft.build_smic(tmp_path / "smic", seqs).root
    cfg = _config(tmp_path, data={"datasets": {"casme": str(casme), "casme2": str(meb_trees["casme2"]), "smic": str(smic)}},
                  model=AU_MODEL, feature=FEATURE, loso={"unit": "dataset"}, out=str(tmp_path / "out"))
    assert main(["recog", "loso", "--config", cfg, "--quiet"]) == 0
    capsys.readouterr()
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    au_cell = rejects[rejects["reason"].str.contains("AU cell")]
    assert len(au_cell) == 1 and au_cell.iloc[0]["file"].endswith("CASME-coded-20190721.xls")
    assert "CASME-coded-20190721.xls row 4: AU cell 'R14A+smile' cannot be read ('smile' is not an action unit code)" in au_cell.iloc[0]["reason"]
    assert (rejects["reason"].str.contains("no AU annotation")).sum() == 3  # the three SMIC-HS samples
    per_fold = pd.read_csv(tmp_path / "out" / "ststnet" / "per_fold.csv")
    assert per_fold["fold"].tolist() == ["casme", "casme2"] and per_fold["n_test"].tolist() == [4, 4]
