"""`FlowDiffusionModule`: Lightning training of the flow diffusion (UNet3D + condition encoder).

One `_common_step` for training and validation:
  targets   the batch's backward flow (ground truth where `has_flow`, e.g. warp-baseline clips; otherwise
            estimated from the frames with DIS optical flow, onset → each frame), resampled to the model's
            T frames and the flow resolution, plus the occlusion derived from it (flow_codec.py);
  noise     diffusers `DDPMScheduler.add_noise` at uniformly drawn timesteps; the loss is the MSE to the
            scheduler's prediction target (epsilon, v or sample);
  condition the neutral face (image features and its 68 landmarks: the batch's "landmarks" when the
            data module gives them, otherwise MediaPipe on the neutral frame, once per distinct image),
            class and intensity; with probability `cond_drop_prob` the class and intensity are replaced
            by the null condition (classifier-free guidance).
An EMA of the weights (diffusers `EMAModel`) is kept when `ema_decay` is set; validation sampling and the
export use it. Validation also samples flows with the pipeline's own denoising loop (`val_sample_steps`
DDIM steps, guidance) and logs their end-point error against the ground truth next to the error of
zero motion. `export_dir` receives the pipeline (model_index.json + unet/ + condition_encoder/ +
scheduler/) and the CSV log at the end of training. DDP-ready: no global state; metrics use sync_dist.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler

from ..condition import Condition
from ..neutral_face import NeutralFace
from .flow_codec import (decode_flow, downsample_flow, encode_flow, expression_profile, occlusion_from_flow,
                         resample_frames)
from .pipeline import DEFAULT_NOISE_SCHEDULER, FlowDiffusionPipeline, build_pipeline, make_scheduler, run_unet


def estimate_flow(video: torch.Tensor) -> torch.Tensor:
    """(B, T, 3, H, W) frames in [-1, 1] → (B, T, 2, H, W) backward flow in grid units, onset → frame t
    (DIS optical flow: frame t sampled at x + flow lands on the onset frame's pixel)."""
    from mexkit.optical_flow import compute_flow

    frames = ((video.detach().cpu().permute(0, 1, 3, 4, 2) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    b, t, h, w, _ = frames.shape
    out = np.zeros((b, t, h, w, 2), np.float32)
    for i in range(b):
        for k in range(1, t):
            out[i, k] = compute_flow(frames[i, k], frames[i, 0], method="dis")
    flow = torch.from_numpy(out).permute(0, 1, 4, 2, 3)
    scale = torch.tensor([2.0 / w, 2.0 / h]).view(1, 1, 2, 1, 1)
    return (flow * scale).to(video.device)


class NeutralLandmarks:
    """68 landmarks of neutral frames in [0, 1] image units, detected once per distinct image.

    Small training crops (64 px) are upscaled to 256 px for the detector (MediaPipe by default: within
    ~0.2 px of the 256-px landmarks at 64 px on the corpus faces). A frame where no face is found gets the
    mean of the landmarks found so far (counted in `fallbacks`)."""

    def __init__(self, backend: str = "mediapipe", detect_size: int = 256):
        self.backend = backend
        self.detect_size = int(detect_size)
        self._pipeline = None
        self._cache: dict[bytes, np.ndarray] = {}
        self.fallbacks = 0

    def detect(self, image: np.ndarray) -> np.ndarray | None:
        import cv2

        from mexkit.errors import MexkitInputError
        from mexkit.face import FacePipeline
        from mexkit.face.landmark_schemes import to68

        if self._pipeline is None:
            self._pipeline = FacePipeline(self.backend, resolution=256)
        s = self.detect_size
        up = cv2.resize(image, (s, s), interpolation=cv2.INTER_CUBIC)
        try:
            face, _ = self._pipeline.largest_face(up)
        except MexkitInputError:
            return None
        return ((to68(face.landmarks, self._pipeline.scheme) + 0.5) / s).astype(np.float32)

    def __call__(self, neutral: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [-1, 1] → (B, 68, 2) in [0, 1] image units."""
        import hashlib

        images = ((neutral.detach().cpu().permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
        out: list[np.ndarray | None] = []
        for img in images:
            key = hashlib.sha1(np.ascontiguousarray(img).tobytes()).digest()
            if key not in self._cache:
                lm = self.detect(np.ascontiguousarray(img))
                if lm is not None:
                    self._cache[key] = lm
            out.append(self._cache.get(key))
        if any(o is None for o in out):
            if not self._cache:
                raise RuntimeError("no face found in any neutral frame so far: the flow diffusion needs landmarks")
            mean = np.mean(list(self._cache.values()), axis=0)
            self.fallbacks += sum(o is None for o in out)
            out = [mean if o is None else o for o in out]
        return torch.from_numpy(np.stack(out)).to(neutral.device)


class FlowDiffusionModule(L.LightningModule):
    """unet: overrides of the UNet3DConditionModel config (DEFAULT_UNET); condition_encoder:
    FlowConditionEncoder arguments; noise_scheduler: DDPMScheduler arguments (DEFAULT_NOISE_SCHEDULER);
    sampling_scheduler: "ddim" or "dpm" for validation sampling and the exported pipeline.
    num_frames: T the UNet denoises; flow_scale / occlusion_scale / occlusion_gain: codec settings;
    resolution, shading, num_inference_steps, guidance_scale, temporal_projection, shading_highpass: the
    exported pipeline's defaults (FlowDiffusionPipeline; the last two act at sampling only).

    The networks and the pipeline settings live in one `FlowDiffusionPipeline` (`self.pipeline`, made by
    the pipeline's own `build_pipeline`); the arguments above only fill it (they stay arguments so the
    training YAMLs keep their schema), and training reads the settings back from `self.pipeline.config`."""

    def __init__(
        self,
        unet: dict | None = None,
        condition_encoder: dict | None = None,
        noise_scheduler: dict | None = None,
        sampling_scheduler: str = "ddim",
        num_frames: int = 8,
        flow_scale: float = 0.015,
        occlusion_scale: float = 0.25,
        occlusion_gain: float = 3.0,
        cond_drop_prob: float = 0.1,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        warmup_steps: int = 50,
        ema_decay: float | None = 0.995,
        resolution: int = 64,
        shading: float = 0.25,
        num_inference_steps: int = 25,
        guidance_scale: float = 2.0,
        val_sample_steps: int = 10,
        export_dir: str | None = None,
        temporal_projection: str = "profile",
        shading_highpass: float = 1.0 / 16.0,
    ):
        super().__init__()
        self.save_hyperparameters()
        self.pipeline = build_pipeline(unet, condition_encoder, noise_scheduler, sampling_scheduler,
                                       resolution=resolution, num_frames=num_frames, flow_scale=flow_scale,
                                       occlusion_scale=occlusion_scale, shading=shading,
                                       num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                                       temporal_projection=temporal_projection, shading_highpass=shading_highpass)
        self.pipeline.set_progress_bar_config(disable=True)
        self.condition_encoder = self.pipeline.condition_encoder
        self.unet = self.pipeline.unet
        self.noise_scheduler = DDPMScheduler(**{**DEFAULT_NOISE_SCHEDULER, **dict(noise_scheduler or {})})
        self.ema = None
        if ema_decay:
            from diffusers.training_utils import EMAModel

            self.ema = EMAModel(self._trained_parameters(), decay=float(ema_decay))
        self.train_subjects: list[str] | None = []  # random init: nobody yet; None = unknown
        self.landmarks = NeutralLandmarks()

    def _trained_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.unet.parameters()) + list(self.condition_encoder.parameters())

    # ------------------------------------------------------------------ data → diffusion targets
    def prepare_batch(self, batch: dict) -> dict[str, torch.Tensor]:
        """Batch (VideoDataModule) → x0 (B, 3, T, h, w), profile (B, 1, T, h, w), neutral, label, intensity."""
        hp, cfg = self.hparams, self.pipeline.config
        flow = batch["flow"].float()
        has = batch["has_flow"].bool()
        if not bool(has.all()):
            est = estimate_flow(batch["video"][~has])
            flow = flow.clone()
            flow[~has] = est.to(flow.dtype)
        size = self.condition_encoder.config.flow_size
        flow = downsample_flow(resample_frames(flow, cfg.num_frames), size)
        flow[:, 0] = 0.0
        occl = occlusion_from_flow(flow, hp.occlusion_gain)
        x0 = encode_flow(flow, occl, cfg.flow_scale, cfg.occlusion_scale)
        profile = expression_profile(batch["apex_at"].float(), cfg.num_frames).to(x0.device)
        profile = profile[:, None, :, None, None].expand(-1, 1, -1, size, size)
        neutral = batch["neutral"].float()
        landmarks = None
        if self.condition_encoder.config.use_landmarks:
            landmarks = batch["landmarks"].float() if "landmarks" in batch else self.landmarks(neutral)
        return {"x0": x0, "flow": flow, "profile": profile, "neutral": neutral, "landmarks": landmarks,
                "label": batch["label"].long(), "intensity": batch["intensity"].float()}

    def denoise(self, noisy: torch.Tensor, timesteps: torch.Tensor, cond: dict, profile: torch.Tensor) -> torch.Tensor:
        """The UNet's prediction, its input assembled exactly as the pipeline's (`run_unet`)."""
        return run_unet(self.unet, noisy, timesteps, cond, profile)

    def _common_step(self, batch: dict, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        prep = self.prepare_batch(batch)
        x0 = prep["x0"]
        b = x0.shape[0]
        dev = x0.device
        n_t = self.noise_scheduler.config.num_train_timesteps
        noise = torch.randn(x0.shape, generator=generator, device="cpu").to(dev) if generator else torch.randn_like(x0)
        if generator is not None:
            timesteps = torch.randint(0, n_t, (b,), generator=generator).to(dev)
            drop = torch.zeros(b, dtype=torch.bool, device=dev)
        else:
            timesteps = torch.randint(0, n_t, (b,), device=dev)
            drop = torch.rand(b, device=dev) < self.hparams.cond_drop_prob
        noisy = self.noise_scheduler.add_noise(x0, noise, timesteps)
        cond = self.condition_encoder(prep["neutral"], prep["label"], prep["intensity"], drop=drop, landmarks=prep["landmarks"])
        pred = self.denoise(noisy, timesteps, cond, prep["profile"])
        kind = self.noise_scheduler.config.prediction_type
        if kind == "epsilon":
            target = noise
        elif kind == "v_prediction":
            target = self.noise_scheduler.get_velocity(x0, noise, timesteps)
        else:
            target = x0
        loss = F.mse_loss(pred.float(), target.float())
        return {"loss": loss, "x0_std": x0.std().detach(), "drop_rate": drop.float().mean()}

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        out = self._common_step(batch)
        b = batch["neutral"].shape[0]
        self.log("train/loss", out["loss"], prog_bar=True, on_step=True, on_epoch=True, batch_size=b, sync_dist=True)
        self.log("train/x0_std", out["x0_std"], on_step=True, on_epoch=False, batch_size=b, sync_dist=True)
        self.log("train/landmark_fallbacks", float(self.landmarks.fallbacks), on_step=True, on_epoch=False, batch_size=b)
        self.log("lr", self.optimizers().param_groups[0]["lr"] if self._trainer else self.hparams.lr, on_step=True, batch_size=b)
        return out["loss"]

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        if self.ema is not None:
            self.ema.to(self.device)
            self.ema.step(self._trained_parameters())

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        b = batch["neutral"].shape[0]
        gen = torch.Generator().manual_seed(1000 + batch_idx)
        with self.ema_weights():
            out = self._common_step(batch, generator=gen)
            self.log("val/loss", out["loss"], on_epoch=True, batch_size=b, sync_dist=True)
            if self.hparams.val_sample_steps:
                epe = self.sampled_flow_error(batch, seed=batch_idx)
                if epe is not None:
                    self.log("val/flow_epe_px", epe["sampled"], on_epoch=True, batch_size=b, sync_dist=True)
                    self.log("val/flow_epe_zero_px", epe["zero"], on_epoch=True, batch_size=b, sync_dist=True)

    # ------------------------------------------------------------------ sampling with the pipeline
    def build_pipeline(self, unet=None, condition_encoder=None) -> FlowDiffusionPipeline:
        """A FlowDiffusionPipeline with `self.pipeline`'s settings and this module's networks (current
        weights; or the given copies, for export) and the subjects trained on so far."""
        settings = {k: v for k, v in dict(self.pipeline.config).items()
                    if not k.startswith("_") and k not in ("unet", "condition_encoder", "scheduler")}
        pipe = FlowDiffusionPipeline(
            unet=unet or self.unet, condition_encoder=condition_encoder or self.condition_encoder,
            scheduler=make_scheduler(self.hparams.sampling_scheduler, self.noise_scheduler.config),
            **{**settings, "train_subjects": None if self.train_subjects is None else sorted(self.train_subjects)},
        )
        pipe.set_progress_bar_config(disable=True)
        return pipe

    @torch.no_grad()
    def sampled_flow_error(self, batch: dict, seed: int = 0) -> dict[str, torch.Tensor] | None:
        """Mean end-point error (pixels at the batch's resolution) of sampled vs ground-truth flow, over
        the labelled clips with ground-truth flow; and the error of predicting no motion."""
        keep = (batch["label"] >= 0) & batch["has_flow"].bool() & (batch["apex_at"] > 0)
        if not bool(keep.any()):
            return None
        idx = torch.nonzero(keep).flatten().tolist()
        prep = self.prepare_batch({k: (v[idx] if torch.is_tensor(v) else [v[i] for i in idx]) for k, v in batch.items()})
        crops = ((prep["neutral"].permute(0, 2, 3, 1).cpu() + 1) * 127.5).round().clamp(0, 255).byte().numpy()
        if prep["landmarks"] is not None:
            lms = (prep["landmarks"].cpu().numpy() * crops.shape[1] - 0.5).astype(np.float32)  # → crop pixels
        else:
            lms = [np.zeros((0, 2), np.float32)] * len(crops)
        faces = [NeutralFace(crop=c, landmarks=lm) for c, lm in zip(crops, lms)]
        classes = self.condition_encoder.classes
        conds = [Condition(label=classes[int(batch["label"][i])], intensity=float(batch["intensity"][i]),
                           apex_at=float(batch["apex_at"][i])) for i in idx]
        pipe = self.build_pipeline()
        out = pipe(faces, conds, generator=[torch.Generator().manual_seed(seed * 1000 + i) for i in range(len(idx))],
                   num_inference_steps=self.hparams.val_sample_steps, output_type="latent")
        flow, _ = decode_flow(out.latents.float(), self.pipeline.config.flow_scale, self.pipeline.config.occlusion_scale)
        px = batch["neutral"].shape[-1] / 2.0  # grid units → pixels at the batch's resolution
        gt = prep["flow"]
        return {"sampled": ((flow - gt).norm(dim=2).mean() * px), "zero": gt.norm(dim=2).mean() * px}

    class _EMAContext:
        def __init__(self, module: "FlowDiffusionModule"):
            self.module = module

        def __enter__(self):
            if self.module.ema is not None:
                params = self.module._trained_parameters()
                self.module.ema.to(self.module.device)
                self.module.ema.store(params)
                self.module.ema.copy_to(params)

        def __exit__(self, *exc):
            if self.module.ema is not None:
                self.module.ema.restore(self.module._trained_parameters())
            return False

    def ema_weights(self) -> "_EMAContext":
        """Context in which the networks carry the EMA weights (no-op without EMA)."""
        return self._EMAContext(self)

    # ------------------------------------------------------------------ optimisation, checkpoints, export
    def configure_optimizers(self):
        opt = torch.optim.AdamW(self._trained_parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        warm = max(1, int(self.hparams.warmup_steps))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / warm))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        if self.ema is not None:
            checkpoint["ema"] = self.ema.state_dict()
        checkpoint["train_subjects"] = None if self.train_subjects is None else list(self.train_subjects)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if self.ema is not None and "ema" in checkpoint:
            self.ema.load_state_dict(checkpoint["ema"])
        saved = checkpoint.get("train_subjects")  # absent in a checkpoint that did not record it: unknown
        self.train_subjects = None if saved is None else list(saved)

    def on_fit_start(self) -> None:
        from ..video_datamodule import VideoDataModule

        dm = getattr(self.trainer, "datamodule", None)
        # As MoCoGANModule: the union with what the data's provenance says; unknown (None) otherwise.
        subjects = dm.train_subjects if isinstance(dm, VideoDataModule) else None
        self.train_subjects = None if subjects is None or self.train_subjects is None else sorted(set(subjects) | set(self.train_subjects))

    def on_train_end(self) -> None:
        if self.hparams.export_dir and self.trainer.is_global_zero:
            self.export(self.hparams.export_dir)

    def export(self, folder: str | Path, dtype: torch.dtype | str | None = "float16") -> Path:
        """Save the pipeline (EMA weights when kept) as a pretrained folder, plus the CSV training log.

        dtype: storage precision of the weights (float16 halves the folder; `load_demo` / `from_pretrained`
        compute in float32 again). None keeps float32."""
        import copy

        folder = Path(folder)
        dtype = getattr(torch, dtype) if isinstance(dtype, str) else dtype
        with self.ema_weights():
            unet, encoder = copy.deepcopy(self.unet), copy.deepcopy(self.condition_encoder)
        if dtype is not None:
            for part in (unet, encoder):
                torch.nn.Module.to(part, dtype=dtype)
        pipe = self.build_pipeline(unet, encoder)
        pipe.save_pretrained(str(folder), safe_serialization=True)
        logger = getattr(self, "_trainer", None) and self.trainer.logger
        log_dir = getattr(logger, "log_dir", None)
        if log_dir:
            if hasattr(logger, "save"):
                logger.save()
            metrics = Path(log_dir) / "metrics.csv"
            if metrics.exists():
                shutil.copyfile(metrics, folder / "training_log.csv")
        return folder
