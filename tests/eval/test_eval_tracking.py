"""Experiment tracking of an evaluation: Lightning's CSV logger always, wandb offline on request."""
from __future__ import annotations

import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.eval.suite import EvalSuite
from mexkit.eval.tracking import flat_metrics, log_eval


@pytest.fixture(scope="module")
def result(short_clips):
    return EvalSuite(["temporal", "distribution"], progress=False, examples=0).run(short_clips[3:6], short_clips[:3])


def test_csv_logger_records_the_summary(result, tmp_path):
    metrics = flat_metrics(result)
    assert metrics["temporal/flicker/real"] == pytest.approx(result.tables["temporal"].query("set == 'real'")["flicker"].mean())
    assert "distribution/frechet_distance" in metrics
    (logger,) = log_eval(result, tmp_path)
    logged = pd.read_csv(tmp_path / "eval" / "version_0" / "metrics.csv")
    assert logged.loc[0, "temporal/flicker/fake"] == pytest.approx(metrics["temporal/flicker/fake"])
    assert (tmp_path / "eval" / "version_0" / "hparams.yaml").read_text().count("flow_method") == 1


def test_wandb_offline(result, tmp_path, monkeypatch):
    try:
        import wandb  # noqa: F401
    except ImportError:
        with pytest.raises(MexkitInputError, match="pip install wandb"):
            log_eval(result, tmp_path, wandb=True)
        return
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    loggers = log_eval(result, tmp_path, wandb=True)
    assert len(loggers) == 2
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1 and any(runs[0].rglob("*.wandb"))
