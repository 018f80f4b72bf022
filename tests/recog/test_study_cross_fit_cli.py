"""`mexkit study` with synthetic.cross_fit: one command trains K generators on the stand-in set, runs both
arms, and a run killed with SIGKILL resumes to the same numbers without retraining a finished group."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from mexkit.cli import main

CONFIG = """\
data:
  parametric: {{num_subjects: 8, per_subject: 2, resolution: 64, num_frames: 9, seed: 0}}
  classes: [negative, positive, surprise]
synthetic:
  cross_fit:
    recipe: {recipe}
    groups: 2
    per_face: 3
    trainer_args: ["--trainer.max_steps=8"]
models:
  flow_lda:
    model: {{class_path: mexkit.recog.flow_lda.FlowLDA}}
    feature: {{kind: flow_strain, size: 8, method: dis}}
study: {{n_boot: 200}}
"""
RESULTS = ("study_summary.csv", "study_folds.csv", "flow_lda/study_effects.csv", "flow_lda/arms/real/predictions.csv",
           "flow_lda/arms/augmented/predictions.csv")


def _config(tmp_path: Path, recipe: str) -> Path:
    path = tmp_path / f"study_{recipe}.yaml"
    path.write_text(CONFIG.format(recipe=recipe))
    return path


def _command(cfg: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "mexkit.cli", "study", "--config", str(cfg), "--out", str(out), "--quiet"]


def _study(cfg: Path, out: Path) -> None:
    """The command as a user runs it, in its own process: training numbers depend on torch's thread count
    (the order of float sums), and this folder's conftest sets one thread inside each test."""
    done = subprocess.run(_command(cfg, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _results(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(out / name) for name in RESULTS}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study_cf")
    cfg = _config(tmp, "mocogan_tiny")
    _study(cfg, tmp / "run")
    return cfg, tmp / "run"


def test_one_command_cross_fits_and_compares_both_arms(uninterrupted):
    cfg, out = uninterrupted
    groups = pd.read_json(out / "cross_fit" / "groups.json", typ="series")["groups"]
    assert len(groups) == 2 and sorted(s for g in groups for s in g) == [f"param_s{i:02d}" for i in range(1, 9)]
    folds = pd.read_csv(out / "study_folds.csv")
    assert len(folds) == 8 and (folds["n_train_synthetic"] > 0).all()
    for k, group in enumerate(groups):
        syn = pd.read_csv(out / "cross_fit" / f"group{k}" / "synthetic" / "manifest.csv", keep_default_na=False)
        assert {s for cell in syn["train_subjects"] for s in cell.split(";")} == set(folds["held_out"]) - set(group)
        assert (out / "cross_fit" / f"group{k}" / "generator" / "config.json").is_file()
    summary = pd.read_csv(out / "study_summary.csv")
    assert set(summary["metric"]) == {"uf1", "uar"} and summary["verdict"].str.len().gt(0).all()
    stages = pd.read_csv(out / "timings.csv")["stage"].tolist()
    assert stages == ["train generator 0", "train generator 1", "generate generator 0", "generate generator 1",
                      "study flow_lda (both arms)"]


def test_sigkill_and_rerun_give_the_uninterrupted_results(uninterrupted, tmp_path):
    cfg, reference = uninterrupted
    out = tmp_path / "run"
    env = dict(os.environ)
    proc = subprocess.Popen(_command(cfg, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    trained = out / "cross_fit" / "group0" / "TRAINED"
    deadline = time.time() + 300
    while not trained.is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert trained.is_file() and proc.poll() is None, "the run should be killed after group 0 trained, while still running"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "study_summary.csv").exists()
    stamp = trained.read_text()
    _study(cfg, out)
    assert trained.read_text() == stamp  # group 0 was not trained again
    for name, want in _results(reference).items():
        pd.testing.assert_frame_equal(_results(out)[name], want, obj=name)
    for k in (0, 1):
        rel = Path("cross_fit") / f"group{k}" / "synthetic" / "manifest.csv"
        assert (out / rel).read_bytes() == (reference / rel).read_bytes()


def test_warp_baseline_trains_nothing_and_uses_the_same_design(uninterrupted, tmp_path):
    _, reference = uninterrupted
    out = tmp_path / "warp"
    assert main(["study", "--config", str(_config(tmp_path, "warp")), "--out", str(out), "--quiet"]) == 0
    assert (out / "cross_fit" / "groups.json").read_text() == (reference / "cross_fit" / "groups.json").read_text()
    assert not (out / "cross_fit" / "group0" / "generator").exists()
    syn = pd.read_csv(out / "cross_fit" / "group0" / "synthetic" / "manifest.csv", keep_default_na=False)
    assert set(syn["generator"]) == {"warp"} and (syn["train_subjects"] == "none").all()
    folds, ref = pd.read_csv(out / "study_folds.csv"), pd.read_csv(reference / "study_folds.csv")
    assert folds["fold"].tolist() == ref["fold"].tolist() and folds["seed"].tolist() == ref["seed"].tolist()
    assert folds["n_train_synthetic"].tolist() == ref["n_train_synthetic"].tolist()


def test_cross_fit_without_a_manifest_is_refused(tmp_path, capsys):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("data: {corpus: true}\nsynthetic: {cross_fit: {recipe: warp}}\n"
                   "model: {class_path: mexkit.recog.flow_lda.FlowLDA}\nfeature: {kind: flow_strain, size: 8}\n")
    assert main(["study", "--config", str(cfg), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "needs a manifest" in err and "data.manifest" in err and "Traceback" not in err
