"""`mexkit eval` end to end on the warp baseline's output against the embedded corpus."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from mexkit.cli import main


@pytest.fixture(scope="module")
def warp_output(tmp_path_factory):
    """`mexkit generate` with the warp baseline on the corpus faces (manifest.csv + clips/)."""
    pytest.importorskip("mexkit.synth.warp.generator", reason="the warp baseline generator is not in this tree")
    out = tmp_path_factory.mktemp("gen") / "warp"
    assert main(["generate", "--generator", "warp", "--faces", "corpus", "--out", str(out), "--seed", "0", "--no-progress"]) == 0
    return out


@pytest.fixture(scope="module")
def eval_run(warp_output, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    report = tmp / "report.html"
    rc = main(["eval", "--fake", str(warp_output), "--real", "corpus", "--report", str(report), "--max-clips", "3",
               "--identity-stride", "4", "--examples", "2", "--no-progress"])
    return rc, report, tmp / "report_csv"


def test_eval_writes_csvs_and_report(eval_run, warp_output):
    rc, report, csv_dir = eval_run
    assert rc == 0 and report.exists()
    for family in ("identity", "temporal", "motion", "expression", "summary", "distribution", "timings"):
        assert (csv_dir / f"{family}.csv").exists(), family
    ident = pd.read_csv(csv_dir / "identity.csv")
    assert ident["set"].value_counts().to_dict() == {"real": 3, "fake": 3}
    fake = ident[ident["set"] == "fake"]
    assert fake["neutral"].str.startswith("corpus:").all()  # the warp output names its corpus source face
    assert (fake["id_cos_mean"] > 0.9).all()  # a warp keeps the person
    manifest = pd.read_csv(warp_output / "manifest.csv")
    assert set(fake["sample_id"]) <= set(manifest["sample_id"])
    html = report.read_text()
    assert "Synthetic clips: samples" in html and "Real clips: samples" in html and "Motion metrics" in html
    assert len(re.findall(r'src="data:image/gif;base64,', html)) == 4  # 2 synthetic + 2 real clips


def test_eval_report_renders_in_chromium(eval_run, chromium_screenshot, tmp_path):
    _, report, _ = eval_run
    shot = chromium_screenshot(report, 1200, 1800)
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'src="data:image/[a-z]+;base64,[^"]*"', 'src=""', report.read_text()))
    without = chromium_screenshot(bare, 1200, 1800)
    changed = np.abs(shot.astype(int) - without).sum(-1) > 30
    # the four sample rows (neutral PNG + GIF, 128 px each) lie in the first screen
    assert changed.sum() > 6 * 128 * 128
    assert (shot < 200).any(-1).mean() > (without < 200).any(-1).mean() + 0.05


def test_eval_bad_input_is_a_clear_error(tmp_path, capsys):
    rc = main(["eval", "--fake", str(tmp_path / "missing"), "--real", "corpus", "--report", str(tmp_path / "r.html")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "missing" in err and "clip set not found" in err and "Fix:" in err
