"""`MoCoGANModule`: Lightning training of the MoCoGAN-style generator (manual optimization).

One `training_step` = one generator update then one discriminator update, written out plainly
(toggle the optimizer, compute the loss, `manual_backward`, step). Note that Lightning counts every
optimizer step in `global_step`, so `max_steps: 600` is 300 batches.

Generator loss = λ_rec · L1(generated frames, real frames)            (conditional reconstruction:
                                                                         the clip's own class, intensity,
                                                                         timing; frame 0 is given)
               + λ_flow · MSE(flow, ground-truth flow) in pixels       (only clips with has_flow, e.g.
                                                                         warp-baseline clips)
               + λ_tv · flow smoothness + λ_res · |(1 − mask) · residual|
               + λ_adv · (image + video hinge losses) + λ_cls · CE(video D class head, class)
               + λ_id · IdentityLoss (only when an `identity_loss` module is given; off by default).
Discriminator loss = hinge on real vs generated (image D on `image_frames` random frames, video D on
clips) + λ_cls · CE of the video D's class head on labelled real clips.

Every `sample_every_n_steps` batches a GIF grid (rows: faces; columns: the real clip, then one
generated clip per class) is written to `<log_dir>/samples/` (and to wandb when that logger is used).
`export_dir` receives the generator as a pretrained folder (config.json + safetensors) at the end.
"""
from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .discriminators import IdentityLoss, ImageDiscriminator, VideoDiscriminator
from .generator import MoCoGANGenerator, legacy_config, profile_tensor


class MoCoGANModule(L.LightningModule):
    """generator: MoCoGANGenerator config (dict). identity_loss: optional `IdentityLoss` (or any module
    called as loss(video, neutral)). Remaining arguments: discriminator widths, Adam settings, loss weights."""

    def __init__(
        self,
        generator: dict | None = None,
        image_channels: int = 16,
        video_channels: int = 16,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        lambda_rec: float = 10.0,
        lambda_flow: float = 1.0,
        lambda_tv: float = 0.05,
        lambda_res: float = 1.0,
        lambda_adv: float = 0.1,
        lambda_cls: float = 0.5,
        lambda_id: float = 1.0,
        identity_loss: nn.Module | None = None,
        image_frames: int = 2,
        sample_every_n_steps: int = 100,
        export_dir: str | None = None,
    ):
        super().__init__()
        self.automatic_optimization = False
        self.save_hyperparameters(ignore=["identity_loss"])
        self.generator = MoCoGANGenerator(**legacy_config(generator or {}))  # old YAMLs may still say output_size
        self.image_d = ImageDiscriminator(image_channels)
        self.video_d = VideoDiscriminator(num_classes=self.generator.num_classes, channels=video_channels)
        self.identity_loss = identity_loss

    # ------------------------------------------------------------------ shared pieces
    def configure_optimizers(self):
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr_g, betas=tuple(self.hparams.betas))
        opt_d = torch.optim.Adam(list(self.image_d.parameters()) + list(self.video_d.parameters()),
                                 lr=self.hparams.lr_d, betas=tuple(self.hparams.betas))
        return [opt_g, opt_d]

    def generate_for(self, batch: dict, label: torch.Tensor | None = None, generator: torch.Generator | None = None) -> dict:
        """Run the generator on a batch's neutral faces with the batch's own condition (or another label)."""
        video = batch["video"]
        profile = profile_tensor(batch["apex_at"], video.shape[1]).to(video.device)
        return self.generator(batch["neutral"], batch["label"] if label is None else label, batch["intensity"], profile,
                              duration_ms=batch["duration_ms"], generator=generator)

    def _reconstruction_losses(self, batch: dict, out: dict) -> dict[str, torch.Tensor]:
        """Losses against the real clip, shared by training and validation."""
        real, fake = batch["video"], out["video"]
        size = real.shape[-1]
        losses = {"loss_rec": (fake[:, 1:] - real[:, 1:]).abs().mean()}
        has_flow = batch["has_flow"].bool()
        if has_flow.any():
            diff = (out["flow"][has_flow, 1:] - batch["flow"][has_flow, 1:]) * (size / 2.0)
            losses["loss_flow"] = diff.square().mean()  # squared pixels: L1 would settle on the (zero) median of sparse flows
        else:
            losses["loss_flow"] = fake.new_zeros(())
        low = out["flow_lowres"] * (out["flow_lowres"].shape[-1] / 2.0)  # pixels at the low resolution
        losses["loss_tv"] = (low[..., 1:, :] - low[..., :-1, :]).abs().mean() + (low[..., 1:] - low[..., :-1]).abs().mean()
        losses["loss_res"] = ((1.0 - out["mask"]) * out["residual"]).abs().mean()
        return losses

    def _random_frames(self, video: torch.Tensor, neutral: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, k) frame indices → frames (B·k, C, H, W) and their neutral faces."""
        b, k = idx.shape
        frames = video[torch.arange(b, device=video.device)[:, None], idx].reshape(b * k, *video.shape[2:])
        return frames, neutral.repeat_interleave(k, dim=0)

    # ------------------------------------------------------------------ training
    def training_step(self, batch: dict, batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        hp = self.hparams
        real, neutral, label = batch["video"], batch["neutral"], batch["label"]
        b, t = real.shape[:2]
        labelled = label >= 0
        idx = torch.randint(1, t, (b, min(hp.image_frames, t - 1)), device=real.device)

        # generator update
        self.toggle_optimizer(opt_g)
        out = self.generate_for(batch)
        fake = out["video"]
        losses = self._reconstruction_losses(batch, out)
        fi, ni = self._random_frames(fake, neutral, idx)
        logit_v, cls_v = self.video_d(fake, neutral)
        losses["loss_g_adv"] = -self.image_d(fi, ni).mean() - logit_v.mean()
        losses["loss_g_cls"] = F.cross_entropy(cls_v[labelled], label[labelled]) if labelled.any() else fake.new_zeros(())
        g_loss = (hp.lambda_rec * losses["loss_rec"] + hp.lambda_flow * losses["loss_flow"] + hp.lambda_tv * losses["loss_tv"]
                  + hp.lambda_res * losses["loss_res"] + hp.lambda_adv * losses["loss_g_adv"] + hp.lambda_cls * losses["loss_g_cls"])
        if self.identity_loss is not None:
            losses["loss_id"] = self.identity_loss(fake, neutral)
            g_loss = g_loss + hp.lambda_id * losses["loss_id"]
        opt_g.zero_grad(set_to_none=True)
        self.manual_backward(g_loss)
        opt_g.step()
        self.untoggle_optimizer(opt_g)

        # discriminator update
        self.toggle_optimizer(opt_d)
        fake = fake.detach()
        ri, _ = self._random_frames(real, neutral, idx)
        fi, ni = self._random_frames(fake, neutral, idx)
        d_img = F.relu(1 - self.image_d(ri, ni)).mean() + F.relu(1 + self.image_d(fi, ni)).mean()
        logit_r, cls_r = self.video_d(real, neutral)
        logit_f, _ = self.video_d(fake, neutral)
        d_vid = F.relu(1 - logit_r).mean() + F.relu(1 + logit_f).mean()
        d_cls = F.cross_entropy(cls_r[labelled], label[labelled]) if labelled.any() else real.new_zeros(())
        d_loss = d_img + d_vid + hp.lambda_cls * d_cls
        opt_d.zero_grad(set_to_none=True)
        self.manual_backward(d_loss)
        opt_d.step()
        self.untoggle_optimizer(opt_d)

        losses.update(loss_g=g_loss.detach(), loss_d=d_loss.detach(), loss_d_image=d_img.detach(), loss_d_video=d_vid.detach(),
                      loss_d_cls=d_cls.detach())
        self.log_dict({f"train/{k}": v.detach() for k, v in losses.items()}, on_step=True, on_epoch=False, batch_size=b,
                      sync_dist=False)
        self.log("train/loss_rec_epoch", losses["loss_rec"].detach(), on_step=False, on_epoch=True, batch_size=b, sync_dist=True)
        every = int(hp.sample_every_n_steps or 0)
        iteration = self.global_step // 2  # global_step counts both optimizers' steps
        if every and iteration % every == 1 and self.trainer.is_global_zero:
            self.log_samples(batch)

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        gen = torch.Generator().manual_seed(batch_idx)
        losses = self._reconstruction_losses(batch, self.generate_for(batch, generator=gen))
        self.log_dict({f"val/{k}": v for k, v in losses.items()}, on_epoch=True, batch_size=batch["video"].shape[0], sync_dist=True)

    # ------------------------------------------------------------------ samples, export
    @torch.no_grad()
    def sample_grid(self, batch: dict, max_faces: int = 4, seed: int = 0) -> np.ndarray:
        """uint8 (T, rows·S, cols·S, 3): rows = faces, columns = the real clip, then one generated clip per class."""
        was_training = self.generator.training
        self.generator.eval()
        n = min(max_faces, batch["video"].shape[0])
        sub = {k: (v[:n] if torch.is_tensor(v) else v[:n]) for k, v in batch.items()}
        cols = [sub["video"]]
        for k in range(self.generator.num_classes):
            label = torch.full((n,), k, dtype=torch.long, device=sub["video"].device)
            cols.append(self.generate_for(sub, label=label, generator=torch.Generator().manual_seed(seed))["video"])
        self.generator.train(was_training)
        grid = torch.cat([torch.cat(list(c.unbind(0)), dim=-2) for c in cols], dim=-1)  # (T, C, n·S, cols·S)
        return ((grid.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().cpu().numpy()

    def log_samples(self, batch: dict) -> Path | None:
        from mexkit.video_io import write_gif

        loggers = list(self.loggers)
        log_dir = next((d for d in (getattr(lg, "log_dir", None) for lg in loggers) if d), None) or (
            self.trainer.default_root_dir if self._trainer is not None else None)
        if log_dir is None:
            return None
        path = Path(log_dir) / "samples" / f"step_{self.global_step:06d}.gif"
        write_gif(path, self.sample_grid(batch), fps=8.0)
        for logger in loggers:
            if type(logger).__name__ == "WandbLogger":  # at trainer/global_step, beside the other metrics
                logger.log_video("samples", [str(path)], step=self.global_step, caption=[f"step {self.global_step}"])
        return path

    def on_fit_start(self) -> None:
        from ..video_datamodule import VideoDataModule

        dm = getattr(self.trainer, "datamodule", None)
        # The union of every subject that shaped the training clips (VideoDataModule.train_subjects: real
        # subjects and, for generated clips, their faces', generators' and driving clips' subjects) with
        # what the weights already carried. The module builds its generator from random init, so "not
        # said yet" there means nobody; data from anything but a VideoDataModule leaves it unknown.
        subjects = dm.train_subjects if isinstance(dm, VideoDataModule) else None
        if subjects is not None:
            self.generator.register_to_config(train_subjects=sorted(set(subjects) | set(self.generator.config.train_subjects or ())))

    def on_train_end(self) -> None:
        if self.hparams.export_dir and self.trainer.is_global_zero:
            self.export(self.hparams.export_dir)

    def export(self, folder: str | Path) -> Path:
        """Save the generator as a pretrained folder (config.json + diffusion_pytorch_model.safetensors)."""
        folder = Path(folder)
        self.generator.save_pretrained(str(folder), safe_serialization=True)
        return folder
