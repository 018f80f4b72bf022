"""MoCoGANModule: a tiny-config run lowers the reconstruction and flow losses; samples, export,
checkpoint/resume and the optional identity loss."""
from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn as nn

from mexkit.synth import load_generator
from mexkit.synth.mocogan.discriminators import IdentityLoss
from mexkit.synth.mocogan.module import MoCoGANModule
from mexkit.synth.train_cli import run_lightning_cli
from mexkit.synth.video_datamodule import VideoDataModule

ROOT = Path(__file__).resolve().parents[2]
TINY_GEN = dict(sample_size=32, num_frames=8, channels=16, noise_dim=8, embed_dim=8, hidden_dim=32, motion_dim=16, resolution=32)


def _dataset_losses(model: MoCoGANModule, dm: VideoDataModule) -> dict[str, float]:
    """Reconstruction/flow losses over the whole training set, fixed noise, no flips."""
    model.eval()
    flip, dm.train_set.flip_p = dm.train_set.flip_p, 0.0
    totals: dict[str, float] = {}
    with torch.no_grad():
        loader = torch.utils.data.DataLoader(dm.train_set, batch_size=16)
        for i, b in enumerate(loader):
            out = model.generate_for(b, generator=torch.Generator().manual_seed(i))
            for k, v in model._reconstruction_losses(b, out).items():
                totals[k] = totals.get(k, 0.0) + float(v) * len(b["video"])
    dm.train_set.flip_p = flip
    model.train()
    return {k: v / len(dm.train_set) for k, v in totals.items()}


@pytest.fixture
def one_thread():
    """Small models on a shared 2-core CPU: one intra-op thread is faster than two (no sync overhead)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tiny_run(tmp_path, seed: int):
    """mocogan_tiny.yaml for 300 steps with one seed: (cli, dataset losses before, after)."""
    cli = run_lightning_cli(["--config", str(ROOT / "configs" / "mocogan_tiny.yaml"), "--trainer.max_steps=300", f"--seed_everything={seed}",
                             f"--trainer.default_root_dir={tmp_path}", f"--trainer.logger.init_args.save_dir={tmp_path}",
                             "--model.init_args.sample_every_n_steps=50", f"--model.init_args.export_dir={tmp_path / 'gen'}"],
                            run=False)
    model, dm = cli.model, cli.datamodule
    dm.setup("fit")
    assert any(s.flow is not None for s in dm.samples) and any(s.flow is None for s in dm.samples)
    before = _dataset_losses(model, dm)
    cli.trainer.fit(model, dm)
    assert cli.trainer.global_step == 300
    return cli, before, _dataset_losses(model, dm)


def test_tiny_config_run_lowers_reconstruction_and_flow_losses(tmp_path, one_thread):
    """Learning, not one run's luck: two seeds on the same fixed data. Measured 300-step ratios (after /
    before) over seeds 0-3: flow 0.745 0.620 0.781 0.582, reconstruction 0.949 0.987 0.981 0.970. The
    test asks for a mean flow ratio over seeds 0 and 1 below 0.85 (every seed measured clears it alone)
    and a lower reconstruction loss in every seed."""
    ratios = []
    for seed in (0, 1):
        cli, before, after = _tiny_run(tmp_path / f"seed{seed}", seed)
        ratios.append(after["loss_flow"] / before["loss_flow"])
        assert after["loss_rec"] < before["loss_rec"], (seed, before, after)
        if seed == 0:  # sample GIFs were logged and the generator was exported as a loadable pretrained folder
            gifs = sorted(Path(cli.trainer.logger.log_dir).glob("samples/step_*.gif"))
            assert len(gifs) >= 3 and gifs[0].stat().st_size > 1000
            gen = load_generator(str(tmp_path / "seed0" / "gen"))
            assert gen.weights_hash() == cli.model.generator.weights_hash()
            assert "corpus_woman" in gen.train_subjects and "corpus_f13" in gen.train_subjects
    assert sum(ratios) / len(ratios) < 0.85, ratios


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _corpus_dm() -> VideoDataModule:
    return VideoDataModule(sources=["corpus"], num_frames=8, size=32, batch_size=4, flip_p=0.0)


def test_checkpoint_and_resume_continue_the_same_run(tmp_path):
    L.seed_everything(0)
    ckpt = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True, every_n_train_steps=4)
    trainer = L.Trainer(max_steps=8, accelerator="cpu", logger=False, callbacks=[ckpt], enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=tmp_path)
    model = MoCoGANModule(generator=TINY_GEN, image_channels=8, video_channels=8, sample_every_n_steps=0)
    trainer.fit(model, _corpus_dm())
    last = tmp_path / "ckpt" / "last.ckpt"
    assert last.exists()
    state = torch.load(last, weights_only=True, map_location="cpu")
    assert state["global_step"] == 8 and len(state["optimizer_states"]) == 2

    resumed = MoCoGANModule(generator=TINY_GEN, image_channels=8, video_channels=8, sample_every_n_steps=0)
    trainer2 = L.Trainer(max_steps=12, accelerator="cpu", logger=False, enable_progress_bar=False, enable_checkpointing=False,
                         enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=tmp_path)
    trainer2.fit(resumed, _corpus_dm(), ckpt_path=str(last))
    assert trainer2.global_step == 12
    # the resumed generator started from the checkpoint, not from scratch
    restored = MoCoGANModule.load_from_checkpoint(str(last), map_location="cpu")
    assert _same_weights(restored.generator, model.generator)
    assert not _same_weights(resumed.generator, restored.generator)


class _Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten())

    def forward(self, x):
        return self.net(x)


def test_identity_loss_is_off_by_default_and_used_when_given(tmp_path):
    logged: dict[str, list] = {}

    class Grab(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            logged.setdefault(id(pl_module), []).append(set(trainer.callback_metrics))

    for identity in (None, IdentityLoss(_Embedder())):
        L.seed_everything(0)
        model = MoCoGANModule(generator=TINY_GEN, image_channels=8, video_channels=8, sample_every_n_steps=0, identity_loss=identity)
        L.Trainer(max_steps=2, accelerator="cpu", logger=False, callbacks=[Grab()], enable_progress_bar=False, enable_checkpointing=False,
                  enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=tmp_path).fit(model, _corpus_dm())
        keys = logged[id(model)][-1]
        assert ("train/loss_id" in keys) == (identity is not None)
        assert "train/loss_rec" in keys and "train/loss_d" in keys
