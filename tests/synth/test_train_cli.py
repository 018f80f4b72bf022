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
from mexkit.synth.train_cli import build_cli_args

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
    wandb = build_cli_args(["--config", "a.yaml", "--wandb"])
    assert "--wandb" not in wandb and "--trainer.logger.offline=true" in wandb
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


def test_wandb_offline_on_request(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    from mexkit.cli import main

    monkeypatch.chdir(tmp_path)
    rc = main(["train", "--config", TINY, "--trainer.max_steps=2", "--wandb", "--data.init_args.sources=[corpus]",
               f"--trainer.default_root_dir={tmp_path}"])
    assert rc == 0 and list(tmp_path.glob("runs/wandb/offline-run-*"))
