"""`mexkit study --wandb`: an offline run (no login, no WANDB_MODE needed) under <out>/wandb/ whose metrics
are the study's CSVs, with its tables, synthetic GIFs and the result files as an artifact."""
from __future__ import annotations

import base64
import hashlib
import os

import pandas as pd
import pytest

from mexkit.cli import main

# The smallest study that runs end to end: the stand-in set (8 pseudo-subjects, every class in both
# cross-fit halves), the warp recipe (nothing trained), one clip per face, FlowLDA on small flow features.
CONFIG = """\
data:
  parametric: {num_subjects: 8, per_subject: 2, resolution: 64, num_frames: 9, seed: 0}
  classes: [negative, positive, surprise]
synthetic:
  cross_fit: {recipe: warp, groups: 2, per_face: 1}
models:
  flow_lda:
    model: {class_path: mexkit.recog.flow_lda.FlowLDA}
    feature: {kind: flow_strain, size: 8, method: dis}
study: {n_boot: 50}
"""


def test_mexkit_study_wandb(tmp_path, wandb_offline):
    cfg, out = tmp_path / "study_wandb.yaml", tmp_path / "out"
    cfg.write_text(CONFIG)
    assert main(["study", "--config", str(cfg), "--out", str(out), "--quiet", "--wandb"]) == 0
    assert os.environ["WANDB_MODE"] == "offline"
    run = wandb_offline(out)
    assert run["run"].job_type == "study" and run["run"].display_name == "study study_wandb"
    assert run["config"]["study"] == {"n_boot": 50} and run["config"]["models"]["flow_lda"]["feature"]["size"] == 8

    summary, effects = pd.read_csv(out / "study_summary.csv"), pd.read_csv(out / "flow_lda" / "study_effects.csv")
    (logged,) = [h for h in run["history"] if "study/flow_lda/uf1/diff" in h]
    for r in summary.to_dict("records"):
        for col in ("real", "augmented", "diff", "ci_low", "ci_high", "p_value", "fold_mean_diff", "n_folds"):
            assert logged[f"study/{r['model']}/{r['metric']}/{col}"] == pytest.approx(r[col]), col
    for r in effects.to_dict("records"):
        for col in ("effect", "ci_low", "ci_high", "wilcoxon_p"):
            assert logged[f"effects/{r['model']}/{r['metric']}/{r['scope']}/{col}"] == pytest.approx(r[col]), col
    assert not any(k.endswith("/can_reach_significance") for k in logged)  # booleans stay in the tables

    for name, csv in (("study_summary", out / "study_summary.csv"), ("study_folds", out / "study_folds.csv"),
                      ("study_effects", out / "flow_lda" / "study_effects.csv"), ("timings", out / "timings.csv")):
        pd.testing.assert_frame_equal(run["tables"][f"tables/{name}"], pd.read_csv(csv), check_dtype=False, obj=name)

    gifs = sorted(run["dir"].glob("files/media/videos/samples/synthetic_*.gif"))
    assert len(gifs) == 4 and all(g.read_bytes()[:6] == b"GIF89a" for g in gifs)

    (art,) = [a for a in run["artifacts"] if a.type == "report"]
    files = {e.path: e.digest for e in art.manifest.contents}
    assert art.name == "study-report"
    assert {"study_summary.csv", "study_folds.csv", "timings.csv", "flow_lda/study_summary.txt", "flow_lda/folds_uf1.png"} <= set(files)
    for path, digest in files.items():
        assert digest == base64.b64encode(hashlib.md5((out / path).read_bytes()).digest()).decode(), path
