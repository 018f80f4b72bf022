"""`mexkit train`: argument forwarding to LightningCLI, a CSV-logged run from YAML, and DDP with two gloo
processes on CPU whose weights stay identical."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mexkit.cli import build_parser
from mexkit.synth.train_cli import build_cli_args, wants_wandb

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "configs" / "mocogan_tiny.yaml")

PROBE = '''
import hashlib, os
from pathlib import Path
import lightning as L


def _hash(module):
    h = hashlib.sha256()
    for k, v in sorted(module.state_dict().items()):
        h.update(k.encode()); h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class RankProbe(L.Callback):
    """Writes each rank's weight hash at start and end of training."""

    def on_train_start(self, trainer, pl_module):
        self.start = _hash(pl_module)

    def on_train_end(self, trainer, pl_module):
        out = Path(os.environ["PROBE_OUT"])
        out.mkdir(parents=True, exist_ok=True)
        (out / f"rank{trainer.global_rank}.txt").write_text(
            f"{trainer.world_size} {trainer.global_step} {type(trainer.strategy).__name__} {self.start} {_hash(pl_module)}")
'''


def test_arguments_are_forwarded_with_an_implicit_fit():
    assert build_cli_args(["--config", "a.yaml"]) == ["fit", "--config", "a.yaml"]
    assert build_cli_args(["validate", "--config", "a.yaml"])[0] == "validate"
    argv = ["--config", "a.yaml", "--wandb"]
    assert build_cli_args(argv) == ["fit", "--config", "a.yaml"] and wants_wandb(argv) and not wants_wandb(argv[:2])
    args = build_parser().parse_args(["train", "--config", "a.yaml", "--trainer.max_steps", "7", "--model.init_args.lr_g=0.1"])
    assert args.lightning_args == ["--config", "a.yaml", "--trainer.max_steps", "7", "--model.init_args.lr_g=0.1"]
    assert callable(args.func)


def test_mexkit_train_runs_a_yaml_config_with_csv_logging(tmp_path):
    from mexkit.cli import main

    rc = main(["train", "--config", TINY, "--trainer.max_steps=4", "--trainer.log_every_n_steps=1", f"--trainer.logger.init_args.save_dir={tmp_path}",
               f"--trainer.default_root_dir={tmp_path}", "--data.init_args.sources=[corpus]"])
    assert rc == 0
    metrics = list(tmp_path.glob("mocogan_tiny/version_*/metrics.csv"))
    assert len(metrics) == 1
    table = pd.read_csv(metrics[0])
    assert "train/loss_rec" in table and table["train/loss_rec"].notna().any()
    assert list(tmp_path.glob("mocogan_tiny/version_*/checkpoints/*.ckpt"))
    assert (metrics[0].parent / "config.yaml").exists()  # the exact resolved config is kept with the run


def test_ddp_two_gloo_processes_keep_identical_weights(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", PROBE_OUT=str(tmp_path / "probe"),
               OMP_NUM_THREADS="1", GLOG_minloglevel="2")
    cmd = [sys.executable, "-m", "mexkit.cli", "train", "--config", TINY, "--trainer.strategy=ddp_find_unused_parameters_true",
           "--trainer.devices=2", "--trainer.max_steps=4", "--trainer.callbacks+=probe.RankProbe",
           f"--trainer.logger.init_args.save_dir={tmp_path / 'runs'}", f"--trainer.default_root_dir={tmp_path}",
           "--data.init_args.sources=[corpus]"]
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    ranks = [(tmp_path / "probe" / f"rank{r}.txt").read_text().split() for r in (0, 1)]
    for world, step, strategy, start, end in ranks:
        assert world == "2" and step == "4" and strategy == "DDPStrategy"
        assert start != end  # trained
    assert ranks[0][3] == ranks[1][3] and ranks[0][4] == ranks[1][4]  # same start, gradients synchronised


def test_wandb_offline_on_request(tmp_path, monkeypatch, wandb_offline):
    """`--wandb` without a login or a WANDB_MODE: an offline run beside the CSV logger (under its save_dir
    runs/, relative to the working folder) with the same metrics, the sample GIF and metrics.csv as a table."""
    import hashlib

    from mexkit.cli import main

    monkeypatch.chdir(tmp_path)
    rc = main(["train", "--config", TINY, "--trainer.max_steps=4", "--trainer.log_every_n_steps=1", "--wandb",
               "--model.init_args.sample_every_n_steps=2", "--data.init_args.sources=[corpus]", f"--trainer.default_root_dir={tmp_path}"])
    assert rc == 0 and os.environ["WANDB_MODE"] == "offline"
    (csv,) = tmp_path.glob("runs/mocogan_tiny/version_*/metrics.csv")
    run = wandb_offline(tmp_path / "runs")
    assert run["run"].display_name == "mocogan_tiny" and run["run"].job_type == "train"
    assert run["config"]["lr_g"] == 0.002  # the module's hyperparameters
    table = pd.read_csv(csv)
    losses = [c for c in table if c.startswith("train/")]
    assert "train/loss_rec" in losses
    for column in losses:  # every value the CSV logger wrote, in order, at the same step
        logged = [(h["trainer/global_step"], h[column]) for h in run["history"] if column in h]
        written = table[table[column].notna()]
        assert [s for s, _ in logged] == written["step"].tolist(), column
        assert [v for _, v in logged] == pytest.approx(written[column].tolist(), rel=1e-6), column
    pd.testing.assert_frame_equal(run["tables"]["train/metrics"], table, check_dtype=False)
    (sample,) = csv.parent.glob("samples/step_*.gif")
    (videos,) = [h for h in run["history"] if h.get("samples/_type") == "videos"]
    (gif,) = run["dir"].glob("files/media/videos/samples_*.gif")
    assert videos["samples/count"] == 1 and hashlib.sha256(gif.read_bytes()).hexdigest() == hashlib.sha256(sample.read_bytes()).hexdigest()
