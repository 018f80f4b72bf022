"""MoCoGAN-style conditional generator that animates a neutral face by warping it (docs/design.md §4).

Content from an encoder of the neutral face, motion from a GRU over noise + condition (class,
intensity, duration, timing profile) — MoCoGAN's content/motion split. A small per-frame decoder,
FiLM-modulated by the motion code, predicts a low-resolution backward flow, an occlusion/blend mask
and a small residual; they are upsampled to the output size and

    video[t] = warp(neutral, flow[t]) + (1 - mask[t]) · residual[t]      (video units, [-1, 1])

`animate` exports the masked residual in units of 255 grey levels, (1 − mask) · residual / 2, so its
GeneratorOutput obeys the common composition rule frame = warp + 255 · residual (output.py).

A learned per-class mean flow (in the template-aligned frame) is added to the decoder's flow logits,
and the low-resolution flow is smoothed (`flow_smoothing` binomial passes) before it is upsampled.
Every head is multiplied by the motion gate g[t] = intensity · profile[t], and profile[0] = 0, so
frame 0 is the neutral input exactly (it is also copied, to be bit-exact); identity is kept by
construction because every pixel comes from the neutral face up to a small, masked residual. The
network runs at `sample_size` (64); flows are resolution-free (grid units), so any output size
(e.g. 128) warps the full-resolution neutral face.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from mexkit.clip import Clip
from mexkit.datasets.label_maps import MEGC_CLASSES
from mexkit.errors import MexkitInputError, MissingWeightsError

from ..condition import Condition
from ..flow_warp import grid_to_pixels, track_points, warp_video
from ..generator import Generator
from ..neutral_face import NeutralFace
from ..output import GeneratorOutput

DEMO_DIR = Path(__file__).resolve().parent.parent / "pretrained" / "mocogan-demo"
LEGACY_HASH_KEYS = {"resolution": "output_size"}  # config key → the name it had when the weights hash was defined


def legacy_config(config: dict) -> dict:
    """A generator config with the pre-rename key `output_size` (output side) renamed to `resolution`."""
    config = dict(config)
    if "output_size" in config:
        config.setdefault("resolution", config.pop("output_size"))
    return config


def profile_tensor(apex_at: torch.Tensor, num_frames: int, offset_at: torch.Tensor | float = 1.0) -> torch.Tensor:
    """(B,) apex fractions → (B, T) raised-cosine expression strength, as `Condition.profile()`,
    with profile[:, 0] = 0 (the onset frame is the neutral face)."""
    apex_at = torch.as_tensor(apex_at, dtype=torch.float32).reshape(-1, 1)
    offset_at = torch.as_tensor(offset_at, dtype=torch.float32, device=apex_at.device).reshape(-1, 1).expand_as(apex_at)
    t = torch.arange(num_frames, dtype=torch.float32, device=apex_at.device)[None]
    a = torch.round(apex_at.clamp(0, 1) * (num_frames - 1))
    o = torch.maximum(torch.round(offset_at.clamp(0, 1) * (num_frames - 1)), a)
    rise = 0.5 - 0.5 * torch.cos(torch.pi * t / a.clamp_min(1))
    fall = 0.5 + 0.5 * torch.cos(torch.pi * (t - a) / (o - a).clamp_min(1))
    p = torch.where(t <= a, rise, torch.where(t <= o, fall, torch.zeros_like(t)))
    p[:, 0] = 0.0
    return p


_BINOMIAL: dict[tuple, torch.Tensor] = {}


def _binomial_matrix(size: int, passes: int, device, dtype) -> torch.Tensor:
    """(size, size) matrix of `passes` [1, 2, 1] / 4 blurs with a replicated border, along one axis."""
    key = (size, passes, str(device), dtype)
    if key not in _BINOMIAL:
        x = torch.eye(size, dtype=torch.float64)
        for _ in range(passes):
            p = torch.cat([x[:1], x, x[-1:]], dim=0)
            x = (p[:-2] + 2 * p[1:-1] + p[2:]) * 0.25
        _BINOMIAL[key] = x.to(device=device, dtype=dtype)
    return _BINOMIAL[key]


class ContentEncoder(nn.Module):
    """Neutral face (B, 3, S, S) → feature map (B, C, S/4, S/4) and content code (B, C)."""

    def __init__(self, channels: int):
        super().__init__()
        c = channels
        self.net = nn.Sequential(
            nn.Conv2d(3, c // 2, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(c // 2, c, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(c, c, 3, 1, 1), nn.LeakyReLU(0.2, True),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.net(x)
        return feat, feat.mean(dim=(2, 3))


class MotionGRU(nn.Module):
    """Per-frame motion codes (B, T, D) from a GRU over [noise, class embedding, intensity, duration,
    profile, time]; the initial state comes from the content code and the class."""

    def __init__(self, noise_dim: int, embed_dim: int, content_dim: int, hidden_dim: int, motion_dim: int):
        super().__init__()
        self.init = nn.Linear(content_dim + embed_dim, hidden_dim)
        self.gru = nn.GRU(noise_dim + embed_dim + 4, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, motion_dim)

    def forward(self, noise, class_emb, intensity, duration_s, profile, content):
        b, t, _ = noise.shape
        time = torch.linspace(0, 1, t, device=noise.device).expand(b, t)
        scalars = torch.stack([intensity[:, None].expand(b, t), duration_s[:, None].expand(b, t), profile, time], dim=-1)
        x = torch.cat([noise, class_emb[:, None].expand(b, t, -1), scalars], dim=-1)
        h0 = torch.tanh(self.init(torch.cat([content, class_emb], dim=-1)))[None]
        h, _ = self.gru(x, h0.contiguous())
        return self.out(h)


class FrameDecoder(nn.Module):
    """Content features (B, C, h, w) × motion codes (B, T, D) → per-frame heads (B·T, 6, 2h, 2w).

    One 3×3 conv on the content features runs once per clip; the motion code then modulates it per
    frame (FiLM), and the per-frame hot loop is one 3×3 conv, a second FiLM, and a 3×3 conv to 24
    channels followed by a 2× pixel shuffle.
    """

    def __init__(self, channels: int, motion_dim: int):
        super().__init__()
        c = channels
        self.film = nn.Linear(motion_dim, 4 * c)
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1)
        self.head = nn.Conv2d(c, 6 * 4, 3, 1, 1)
        self.act = nn.LeakyReLU(0.2, True)
        nn.init.normal_(self.film.weight, std=0.02)  # small: starts close to the plain content decoder
        nn.init.zeros_(self.film.bias)
        with torch.no_grad():
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()

    def forward(self, feat: torch.Tensor, motion: torch.Tensor) -> torch.Tensor:
        b, t, _ = motion.shape
        c, hw = feat.shape[1], feat.shape[-2:]
        g1, b1, g2, b2 = self.film(motion).reshape(b, t, 4, c, 1, 1).unbind(2)
        h = self.act(self.conv1(feat))  # once per clip
        x = self.act(torch.addcmul(b1, h[:, None], 1 + g1).reshape(b * t, c, *hw))  # FiLM per frame, one pass
        x = self.act(self.conv2(x))
        x = torch.addcmul(b2.reshape(b * t, c, 1, 1), x, 1 + g2.reshape(b * t, c, 1, 1))
        return F.pixel_shuffle(self.head(x), 2)


class MoCoGANGenerator(ModelMixin, ConfigMixin, Generator):
    """Neutral face + condition → flow, mask, residual → warped clip (module docstring).

    Tensor call (training, benchmarks; nn.Module's `forward`): `gen(neutral, label, intensity, profile, duration_ms=None,
    noise=None, generator=None)` with neutral (B, 3, H, W) float in [-1, 1] (any H = W), label (B,)
    class index (-1 or num_classes = unconditional), intensity (B,), profile (B, T) → dict with video
    (B, T, 3, H, W), flow (B, T, 2, H, W) grid units, mask (B, T, 1, H, W), residual (B, T, 3, H, W),
    flow_lowres (B, T, 2, h, w), gate (B, T), motion (B, T, D).
    Generator call (writer, registry): `gen.generate(face_or_image, Condition(...), generator=seed)` → GeneratorOutput.

    Config: `resolution` is the output side S (configs written before the rename say `output_size`; they
    load the same). `sample_size` is the network's working size in the diffusers sense (a model's
    internal sample size, as UNet2DModel's), not the output size.
    """

    config_name = "config.json"
    generator_name = "mocogan"

    @classmethod
    def extract_init_dict(cls, config_dict, **kwargs):
        """diffusers' config → __init__ kwargs, with the pre-rename key `output_size` read as `resolution`."""
        return super().extract_init_dict(legacy_config(config_dict), **kwargs)

    @register_to_config
    def __init__(self, sample_size: int = 64, class_names: tuple[str, ...] | list[str] = MEGC_CLASSES, num_frames: int = 16,
                 channels: int = 64, noise_dim: int = 16, embed_dim: int = 16, hidden_dim: int = 128, motion_dim: int = 64,
                 max_flow: float = 0.25, residual_scale: float = 0.3, mask_bias: float = -3.0, resolution: int = 128,
                 flow_smoothing: int = 3, train_subjects: tuple[str, ...] | list[str] | None = None):
        super().__init__()
        if sample_size % 4:
            raise ValueError(f"sample_size must be a multiple of 4, got {sample_size}")
        self.num_classes = len(class_names)
        self.class_embed = nn.Embedding(self.num_classes + 1, embed_dim)  # last row: unconditional
        self.encoder = ContentEncoder(channels)
        self.motion = MotionGRU(noise_dim, embed_dim, channels, hidden_dim, motion_dim)
        self.decoder = FrameDecoder(channels, motion_dim)
        # A learned mean motion field per class (pre-tanh flow logits at the head resolution): faces are
        # template-aligned, so "where a smile moves pixels" is largely shared; the decoder adds the
        # face- and sample-specific part. Scaled ×4 so it learns at a useful pace from zero.
        head = sample_size // 2
        self.class_flow = nn.Parameter(torch.zeros(self.num_classes + 1, 2, head, head))
        self.resolution = int(resolution)

    @property
    def train_subjects(self) -> tuple[str, ...] | None:
        """From the config; None (unknown: the writer refuses) for weights whose config does not say —
        `MoCoGANModule` records its datamodule's subjects before training."""
        subjects = self.config.train_subjects
        return None if subjects is None else tuple(subjects)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, resolution: int | None = None, **kwargs) -> "MoCoGANGenerator":
        """diffusers' from_pretrained (a local folder: config.json + safetensors); `resolution` sets the output size."""
        kwargs.setdefault("low_cpu_mem_usage", False)  # tiny model; avoids the accelerate notice
        model = super().from_pretrained(pretrained_model_name_or_path, **kwargs)
        if resolution is not None:
            model.resolution = int(resolution)
        return model

    def weights_hash(self) -> str:
        """Hash of weights, config and output resolution (different outputs → different sample ids)."""
        import hashlib
        import json

        h = hashlib.sha256(Generator.weights_hash(self).encode())
        # hashed under the config's pre-rename key names, so sample ids stay those of earlier runs
        cfg = {LEGACY_HASH_KEYS.get(k, k): v for k, v in dict(self.config).items() if not k.startswith("_")}
        h.update(json.dumps(cfg, sort_keys=True, default=list).encode())
        h.update(str(self.resolution).encode())
        return h.hexdigest()[:16]

    def class_index(self, label: str | None) -> int:
        """Index of a class name; None → the unconditional index."""
        if label is None:
            return self.num_classes
        names = list(self.config.class_names)
        if label not in names:
            raise MexkitInputError(None, f"unknown class {label!r} for this generator", f"use one of {names}", stage="condition")
        return names.index(label)

    def smooth_flow(self, flow: torch.Tensor) -> torch.Tensor:
        """`flow_smoothing` passes of a 3×3 binomial blur (replicated border) over (B, T, 2, h, w)
        low-resolution flows: facial motion is smooth, and the pixel-shuffled head alone leaves
        high-frequency ripples. The passes are separable and linear, so they are applied as one
        (h × h) and one (w × w) matrix product."""
        n = int(self.config.flow_smoothing)
        if n <= 0:
            return flow
        sh = _binomial_matrix(flow.shape[-2], n, flow.device, flow.dtype)
        sw = _binomial_matrix(flow.shape[-1], n, flow.device, flow.dtype)
        return sh @ flow @ sw.T

    # ------------------------------------------------------------------ tensor forward
    def forward(self, neutral: torch.Tensor, label: torch.Tensor, intensity: torch.Tensor, profile: torch.Tensor,
                duration_ms: torch.Tensor | None = None, noise: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        b, t = profile.shape
        cfg = self.config
        dev = neutral.device
        if noise is None:
            noise = torch.randn(b, t, cfg.noise_dim, generator=generator, device="cpu").to(dev)
        label = torch.as_tensor(label, device=dev).long()
        label = torch.where((label < 0) | (label >= self.num_classes), torch.full_like(label, self.num_classes), label)
        intensity = torch.as_tensor(intensity, dtype=neutral.dtype, device=dev).reshape(b)
        duration_s = (torch.full((b,), 400.0, device=dev) if duration_ms is None else torch.as_tensor(duration_ms, device=dev).reshape(b).to(neutral.dtype)) / 1000.0
        profile = profile.to(device=dev, dtype=neutral.dtype)

        small = neutral if neutral.shape[-1] == cfg.sample_size else F.interpolate(
            neutral, size=(cfg.sample_size, cfg.sample_size), mode="bilinear", align_corners=False, antialias=True)
        feat, content = self.encoder(small)
        emb = self.class_embed(label)
        motion = self.motion(noise, emb, intensity, duration_s, profile, content)
        heads = self.decoder(feat, motion)  # (B·T, 6, h, w)
        heads = heads.reshape(b, t, 6, *heads.shape[-2:])

        gate = (intensity[:, None] * profile).clone()
        gate[:, 0] = 0.0
        g = gate[:, :, None, None, None]
        flow_low = g * cfg.max_flow * self.smooth_flow(torch.tanh(heads[:, :, 0:2] + 4.0 * self.class_flow[label][:, None]))
        occl_low = g * torch.sigmoid(heads[:, :, 2:3] + cfg.mask_bias)  # 1 - mask
        res_low = g * cfg.residual_scale * torch.tanh(heads[:, :, 3:6])

        size = tuple(neutral.shape[-2:])
        low = torch.cat([flow_low, occl_low, res_low], dim=2).reshape(b * t, 6, *heads.shape[-2:])
        # channels-last upsampling is several times faster here, and its (B·T, H, W, 6) memory layout is
        # what grid_sample wants for the flow
        up = F.interpolate(low.contiguous(memory_format=torch.channels_last), size=size, mode="bilinear", align_corners=False)
        up = up.reshape(b, t, 6, *size)
        flow, occl, residual = up[:, :, 0:2], up[:, :, 2:3], up[:, :, 3:6]
        video = torch.addcmul(warp_video(neutral, flow), occl, residual)
        video[:, 0] = neutral  # frame 0 is the input, bit for bit
        return {"video": video, "flow": flow, "mask": 1.0 - occl, "residual": residual, "flow_lowres": flow_low,
                "gate": gate, "motion": motion}

    # ------------------------------------------------------------------ Generator
    def check_condition(self, condition: Condition) -> None:
        """Raise MexkitInputError for a class this model was not trained on (before any work)."""
        self.class_index(condition.label)

    @torch.no_grad()
    def animate(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> GeneratorOutput:
        """Animate one aligned face at `self.resolution`; frame 0 == the crop resized to that size."""
        s = self.resolution
        crop = face.crop if face.resolution == s else cv2.resize(face.crop, (s, s), interpolation=cv2.INTER_AREA if face.resolution > s else cv2.INTER_CUBIC)
        dev = self.device
        neutral = torch.from_numpy(np.ascontiguousarray(crop)).permute(2, 0, 1)[None].float().div(127.5).sub(1).to(dev)
        profile = torch.from_numpy(condition.profile()).float()[None]
        profile[:, 0] = 0.0
        label = torch.tensor([self.class_index(condition.label)])
        out = self.forward(neutral, label, torch.tensor([condition.intensity]), profile,
                           duration_ms=torch.tensor([condition.duration_ms]), generator=generator)
        frames = ((out["video"][0].permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).byte().cpu().numpy()
        frames[0] = crop
        flow_px = grid_to_pixels(out["flow"][0], s).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)
        landmarks = None
        if face.landmarks is not None and len(face.landmarks):
            lm = (np.asarray(face.landmarks, np.float64) + 0.5) * (s / face.resolution) - 0.5  # pixel centres
            pts = torch.from_numpy(((2 * lm + 1) / s - 1).astype(np.float32))[None].expand(profile.shape[1], -1, -1).to(dev)
            moved = track_points(out["flow"][0], pts)
            landmarks = (((moved + 1) * s - 1) / 2).cpu().numpy().astype(np.float32)
        clip = Clip(frames=frames, fps=condition.fps, subject=face.subject, onset=0, apex=condition.apex_frame,
                    offset=condition.offset_frame, label=condition.label, aus="+".join(condition.aus), dataset="synthetic",
                    source=face.source, landmarks=landmarks,
                    meta={"generator": "mocogan", "intensity": condition.intensity, "duration_ms": condition.duration_ms})
        return GeneratorOutput(
            clip=clip, flow=flow_px, mask=out["mask"][0, :, 0].cpu().numpy().astype(np.float32),
            residual=((1.0 - out["mask"][0]) * out["residual"][0] / 2).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32),
            landmarks=landmarks,
            extras={"gate": out["gate"][0].cpu().numpy(), "flow_lowres": out["flow_lowres"][0].cpu().numpy()},
        )


def load_demo(resolution: int | None = None, device: str | torch.device = "cpu", path: str | Path | None = None) -> MoCoGANGenerator:
    """The shipped demo generator (synth/pretrained/mocogan-demo), in eval mode.

    resolution: output size (the network runs at 64; flows are upsampled). path: another pretrained folder.
    """
    folder = Path(path) if path is not None else DEMO_DIR
    if not (folder / "config.json").exists():
        raise MissingWeightsError("MoCoGAN demo", str(folder / "config.json"),
                                  "retrain it with: mexkit train --config configs/mocogan_demo.yaml (see its header)")
    return MoCoGANGenerator.from_pretrained(str(folder), resolution=resolution).to(device).eval()
