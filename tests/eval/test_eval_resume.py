"""`mexkit eval` is resumable: killed with SIGKILL mid-run and started again, it skips the clips already
done and ends with the CSVs and report of an uninterrupted run; outputs appear only when complete."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from mexkit.cli import main

FAMILIES = "temporal,motion,expression,distribution"


def _args(out, report, fake="corpus"):
    return ["eval", "--fake", str(fake), "--real", "corpus", "--families", FAMILIES, "--max-clips", "4", "--examples", "1",
            "--workers", "1", "--no-progress", "--out", str(out), "--report", str(report)]


def _comparable(html: str) -> str:
    """The report without its time stamp and its timings section (how long this process took)."""
    html = re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "generated –", html)
    return html.split("<h2>Timings</h2>")[0]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    assert main(_args(tmp / "out", tmp / "report.html")) == 0
    return tmp / "out", tmp / "report.html"


def test_sigkill_then_resume_equals_uninterrupted_run(clean_run, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.html"
    env = dict(os.environ, GLOG_minloglevel="2")
    proc = subprocess.Popen([sys.executable, "-m", "mexkit.cli", *_args(out, report)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / "clips.jsonl"
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if journal.is_file() and len(journal.read_text().splitlines()) >= 3:  # header + 2 finished clips
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(journal.read_text().splitlines()) - 1
    assert 2 <= done_before < 8
    status = json.loads((out / "run.json").read_text())
    assert status["complete"] is False
    assert not (out / "summary.csv").exists() and not report.exists()  # nothing that looks like a finished run

    assert main(_args(out, report)) == 0
    status = json.loads((out / "run.json").read_text())
    assert status["complete"] is True and status["total"] == 8 and status["resumed"] >= done_before
    assert len(journal.read_text().splitlines()) == 1 + 8  # no clip scored twice
    clean_out, clean_report = clean_run
    names = sorted(p.name for p in clean_out.glob("*.csv"))
    assert names == sorted(p.name for p in out.glob("*.csv"))
    assert {"temporal.csv", "motion.csv", "expression.csv", "summary.csv", "distribution.csv", "rejects.csv"} <= set(names)
    for name in names:
        if name != "timings.csv":  # seconds measured by each process
            assert (out / name).read_bytes() == (clean_out / name).read_bytes(), name
    assert _comparable(report.read_text()) == _comparable(clean_report.read_text())
    assert "Complete run" in report.read_text()


def test_rerun_of_a_complete_run_changes_nothing(clean_run, tmp_path):
    clean_out, clean_report = clean_run
    before = {p.name: p.read_bytes() for p in clean_out.glob("*.csv") if p.name != "timings.csv"}
    assert main(_args(clean_out, clean_report)) == 0
    assert before == {p.name: p.read_bytes() for p in clean_out.glob("*.csv") if p.name != "timings.csv"}
    assert pd.read_csv(clean_out / "timings.csv").query("family == 'all (wall clock)'")["clips"].item() == 0  # every clip skipped


def test_other_families_in_the_same_folder_leave_no_stale_csv(tmp_path):
    out, report = tmp_path / "out", tmp_path / "r.html"
    base = ["eval", "--fake", "corpus", "--real", "corpus", "--max-clips", "2", "--examples", "0", "--workers", "1",
            "--no-progress", "--out", str(out), "--report", str(report)]
    assert main(base + ["--families", "temporal"]) == 0
    assert (out / "temporal.csv").exists()
    assert main(base + ["--families", "motion"]) == 0
    assert (out / "motion.csv").exists() and not (out / "temporal.csv").exists()
    assert set(pd.read_csv(out / "summary.csv")["family"]) == {"motion"}


def test_nothing_scoreable_is_an_error_not_a_report(tmp_path, capsys):
    fake = tmp_path / "gen"
    fake.mkdir()
    pd.DataFrame({"sample_id": ["a", "b"], "path": ["clips/a", "clips/b"], "label": ["happiness", "surprise"]}).to_csv(
        fake / "manifest.csv", index=False)
    out, report = tmp_path / "out", tmp_path / "r.html"
    rc = main(["eval", "--fake", str(fake), "--real", "corpus", "--families", "temporal", "--max-clips", "2", "--workers", "1",
               "--no-progress", "--out", str(out), "--report", str(report)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "none of the 2 synthetic clips could be scored" in err and "Fix:" in err
    assert not report.exists() and not (out / "summary.csv").exists()
    assert len(pd.read_csv(out / "rejects.csv")) == 2
    assert json.loads((out / "run.json").read_text())["complete"] is False
