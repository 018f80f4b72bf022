"""Experiment tracking of an evaluation: Lightning's CSV logger always, wandb offline on request (no
login, no WANDB_MODE needed), read back from the run's own files."""
from __future__ import annotations

import base64
import hashlib
import os

import pandas as pd
import pytest

from mexkit.eval.suite import EvalSuite
from mexkit.eval.tracking import flat_metrics, log_eval


@pytest.fixture(scope="module")
def result(short_clips):
    return EvalSuite(["temporal", "distribution"], progress=False, examples=1).run(short_clips[3:6], short_clips[:3])


def test_csv_logger_records_the_summary(result, tmp_path):
    metrics = flat_metrics(result)
    assert metrics["temporal/flicker/real"] == pytest.approx(result.tables["temporal"].query("set == 'real'")["flicker"].mean())
    assert "distribution/frechet_distance" in metrics
    (logger,) = log_eval(result, tmp_path)
    logged = pd.read_csv(tmp_path / "eval" / "version_0" / "metrics.csv")
    assert logged.loc[0, "temporal/flicker/fake"] == pytest.approx(metrics["temporal/flicker/fake"])
    assert (tmp_path / "eval" / "version_0" / "hparams.yaml").read_text().count("flow_method") == 1


def _md5(path) -> str:
    return base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode()


def test_wandb_offline(result, tmp_path, wandb_offline):
    report = tmp_path / "report.html"
    report.write_text("<html><body>an evaluation report</body></html>")
    loggers = log_eval(result, tmp_path, wandb=True, report=report)
    assert len(loggers) == 2 and os.environ["WANDB_MODE"] == "offline"
    run = wandb_offline(tmp_path)
    assert run["run"].job_type == "eval" and run["config"]["flow_method"] == result.config["flow_method"]
    step0 = run["history"][0]
    assert {k: step0[k] for k in flat_metrics(result)} == pytest.approx(flat_metrics(result))
    pd.testing.assert_frame_equal(run["tables"]["tables/temporal"], result.tables["temporal"], check_dtype=False)
    assert {"tables/summary", "tables/distribution", "tables/timings"} <= set(run["tables"])
    assert sorted(p.name.split("_2_")[0] for p in run["dir"].glob("files/media/videos/samples/*.gif")) == ["fake_0", "real_0"]
    (art,) = [a for a in run["artifacts"] if a.type == "report"]
    (entry,) = art.manifest.contents
    assert art.name == "eval-report" and entry.path == "report.html" and entry.digest == _md5(report)


def test_mexkit_eval_wandb(tmp_path, wandb_offline):
    """`mexkit eval --wandb` on the corpus: the run holds what the CSVs say and the report as an artifact."""
    from mexkit.cli import main

    report = tmp_path / "report.html"
    assert main(["eval", "--fake", "corpus", "--real", "corpus", "--report", str(report), "--max-clips", "2", "--families",
                 "temporal,distribution", "--examples", "1", "--workers", "1", "--no-progress", "--wandb"]) == 0
    csv_dir = tmp_path / "report_csv"
    run = wandb_offline(csv_dir / "logs")
    summary, distribution = pd.read_csv(csv_dir / "summary.csv"), pd.read_csv(csv_dir / "distribution.csv")
    written = {f"{r.family}/{r.metric}/{r.set}": r.mean for r in summary.itertuples()}
    written.update({f"distribution/{r.metric}": r.value for r in distribution.itertuples()})
    logged = {k: v for k, v in run["history"][0].items() if not k.startswith("_") and k != "trainer/global_step"}
    assert logged == pytest.approx(written)
    pd.testing.assert_frame_equal(run["tables"]["tables/summary"], summary, check_dtype=False)
    pd.testing.assert_frame_equal(run["tables"]["tables/temporal"], pd.read_csv(csv_dir / "temporal.csv"),
                                  check_dtype=False)
    gifs = {h[k] for h in run["history"] for k in h if k.startswith("samples/") and k.endswith("/path")}
    assert len(gifs) == 2 and all((run["dir"] / "files" / g).is_file() for g in gifs)
    (art,) = [a for a in run["artifacts"] if a.type == "report"]
    assert [(e.path, e.digest) for e in art.manifest.contents] == [("report.html", _md5(report))]
    staged = art.manifest.contents[0].local_path  # offline: the file waits in wandb's staging folder for `wandb sync`
    assert open(staged, "rb").read() == report.read_bytes()


def test_a_mode_the_user_set_is_kept(result, tmp_path, wandb_offline, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "disabled")
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    log_eval(result, tmp_path, wandb=True, report=report)
    assert os.environ["WANDB_MODE"] == "disabled" and not list(tmp_path.glob("wandb/*run-*"))
