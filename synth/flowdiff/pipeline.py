"""`FlowDiffusionPipeline`: latent flow diffusion (LFDM-like) image-to-video for micro-expressions.

A diffusers `DiffusionPipeline` with three registered parts —
  unet               diffusers `UNet3DConditionModel` denoising low-resolution flow + occlusion sequences
                     (B, 3, T, h, w) (flow_codec.py), conditioned through concatenated channels
                     (face features, the timing profile), cross-attention tokens and `timestep_cond`;
  condition_encoder  `FlowConditionEncoder` (neutral face, class, intensity; null condition for CFG);
  scheduler          any diffusers scheduler (the shipped demo: DDIM; DPMSolverMultistepScheduler
                     swaps in with `pipe.scheduler = DPMSolverMultistepScheduler.from_config(pipe.scheduler.config)`)
— and the render step: the sampled flow + occlusion sequence is mapped to the clip's frames (by default
projected onto the condition's timing profile: `temporal_projection`), the flow is upsampled and warps
the neutral face (identity holds by construction), occluded (folding) skin is shaded a little
(`shading`; its local contrast only: `shading_highpass`), and frame 0 is the input crop.

It is also a mexkit `Generator`: `pipe.generate(face, condition, generator=seed)` returns one face's
GeneratorOutput, so the synth writer and `load_generator("flowdiff-demo")` use it like any other
generator. `pipe(faces, conditions, ...)` keeps its diffusers meaning, a batched call with the sampling
knobs (steps, guidance, eta, latents) returning a `FlowDiffusionPipelineOutput`; its `.clip`, `.flow`,
... are those of the first face and `.clips` / `.outputs` hold every face. Both go through `_sample`.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import torch
from diffusers import DiffusionPipeline, UNet3DConditionModel
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError, MissingWeightsError

from ..condition import Condition
from ..flow_warp import grid_to_pixels, resize_flow, track_points, warp_video
from .condition_encoder import FlowConditionEncoder
from .flow_codec import decode_flow, expression_profile, resample_frames
from ..generator import Generator, as_torch_generator
from ..neutral_face import NeutralFace, prepare_face
from ..output import GeneratorOutput

DEMO_DIR = Path(__file__).resolve().parent.parent / "pretrained" / "flowdiff-demo"


DEFAULT_UNET = {
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    # attention only at the coarse level (8×8 for 16×16 flows): at full flow resolution it costs a third
    # of a CPU training step (measured) for little gain on smooth flows
    "down_block_types": ("DownBlock3D", "CrossAttnDownBlock3D"),
    "up_block_types": ("CrossAttnUpBlock3D", "UpBlock3D"),
    "attention_head_dim": 8,
    "norm_num_groups": 16,
}
DEFAULT_NOISE_SCHEDULER = {
    "num_train_timesteps": 1000,
    "beta_schedule": "squaredcos_cap_v2",
    "prediction_type": "v_prediction",
    "clip_sample": False,
    "timestep_spacing": "trailing",
}


def build_unet(encoder: FlowConditionEncoder, overrides: dict | None = None) -> UNet3DConditionModel:
    """The diffusers UNet3DConditionModel sized for CPU, wired to the encoder's sizes.

    `sample_size` here is diffusers' internal model sample size (the flow grid side, `flow_size`), not
    the output size: that is the pipeline's `resolution`."""
    cfg = dict(DEFAULT_UNET)
    cfg.update(dict(overrides or {}))
    ec = encoder.config
    cfg.update(sample_size=ec.flow_size, in_channels=3 + encoder.spatial_channels + 1, out_channels=3,
               cross_attention_dim=ec.embed_dim, time_cond_proj_dim=ec.embed_dim)
    for key in ("block_out_channels", "down_block_types", "up_block_types"):
        cfg[key] = tuple(cfg[key])
    return UNet3DConditionModel(**cfg)


def run_unet(unet: UNet3DConditionModel, x: torch.Tensor, timesteps: torch.Tensor, cond: dict,
             profile: torch.Tensor) -> torch.Tensor:
    """The UNet's prediction for a (scaled) noisy state x (B, 3, T, h, w): x, the face features
    cond["spatial"] (B, Cf, h, w, repeated over T) and the timing profile (B, 1, T, h, w) concatenated on
    channels, cond["tokens"] as cross-attention, cond["vector"] as `timestep_cond`. Used by the
    pipeline's denoising loop and by the training module alike."""
    spatial = cond["spatial"][:, :, None].expand(-1, -1, x.shape[2], -1, -1)
    model_in = torch.cat([x, spatial, profile], dim=1)
    return unet(model_in, timesteps, encoder_hidden_states=cond["tokens"], timestep_cond=cond["vector"]).sample


@dataclass
class FlowDiffusionPipelineOutput(BaseOutput):
    """clips: one Clip per face (frames uint8 (T, S, S, 3), frame 0 == the input crop).
    outputs: one GeneratorOutput per face (flow (T, S, S, 2) pixels, mask (T, S, S), residual (T, S, S, 3)).
    latents: the final diffusion state (B, 3, T_model, h, w) (flow / flow_scale, occlusion / occlusion_scale).
    """

    clips: list[Clip]
    outputs: list[GeneratorOutput] = field(default_factory=list)
    latents: torch.Tensor | None = None

    # GeneratorOutput view of the first face: `pipe(face, condition, generator=seed).clip` as `generate(...).clip`.
    @property
    def clip(self) -> Clip:
        return self.outputs[0].clip

    @property
    def flow(self) -> np.ndarray | None:
        return self.outputs[0].flow

    @property
    def mask(self) -> np.ndarray | None:
        return self.outputs[0].mask

    @property
    def residual(self) -> np.ndarray | None:
        return self.outputs[0].residual

    @property
    def landmarks(self) -> np.ndarray | None:
        return self.outputs[0].landmarks

    @property
    def extras(self) -> dict:
        return self.outputs[0].extras


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W), border replicated; sigma in pixels."""
    radius = max(1, int(math.ceil(3.0 * sigma)))
    r = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (r / sigma) ** 2)
    k = k / k.sum()
    n, c, h, w = x.shape
    y = x.reshape(n * c, 1, h, w)
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(y, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(y, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))
    return y.reshape(n, c, h, w)


def _resize_crop(crop: np.ndarray, size: int) -> np.ndarray:
    if crop.shape[0] == size and crop.shape[1] == size:
        return np.ascontiguousarray(crop)
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_CUBIC
    return cv2.resize(crop, (size, size), interpolation=interp)


class FlowDiffusionPipeline(DiffusionPipeline, Generator):
    """Flow diffusion generator. Parts: unet, condition_encoder, scheduler (module docstring).

    resolution: default output side S (flows are resolution free: any S warps the full-size crop).
    num_frames: frames the UNet denoises (T_model); clips of other lengths are resampled in time.
    flow_scale, occlusion_scale: normalisation of the diffusion state (flow_codec.py).
    shading: how much occluded skin darkens (0 = pure warp). num_inference_steps, guidance_scale:
    defaults of a call. train_subjects: subjects whose data trained the weights (for the writer); None = not known.
    temporal_projection: how the sampled T_model-frame flow + occlusion sequence becomes the clip's frames —
      "profile" (default): least-squares projection onto the condition's timing profile p (the raised
        cosine the model is conditioned on, `expression_profile`): one apex field F = Σ p_t x_t / Σ p_t²
        over the sampled frames, then frame t of the clip = p_t · F with p = `Condition.profile()` at the
        clip's frames. Every frame shows the same motion and shading pattern scaled by the smooth timing
        curve, so frame-to-frame jitter of the sample (what the flicker metric sees) is gone by
        construction; the training flows (warp baseline: apex flow × profile) have exactly this form.
      "none": the raw sample, linearly resampled in time (the behaviour before issue 18).
    shading_highpass: σ (a fraction of the output side S) of the Gaussian whose low-pass part is taken
      out of the shading map: shading then changes local contrast — folding skin darker, the skin around
      it a little lighter — and leaves the face's low-frequency brightness as the warp made it, so a
      clip does not pump in brightness (what `eval.temporal`'s flicker measures, at σ = S/16 too).
      Default 1/16; 0 = darken occluded skin only (the behaviour before issue 18).
    """

    model_cpu_offload_seq = "condition_encoder->unet"
    generator_name = "flowdiff"

    def __init__(
        self,
        unet: UNet3DConditionModel,
        condition_encoder: FlowConditionEncoder,
        scheduler: Any,
        resolution: int = 64,
        num_frames: int = 8,
        flow_scale: float = 0.015,
        occlusion_scale: float = 0.25,
        shading: float = 0.25,
        num_inference_steps: int = 25,
        guidance_scale: float = 2.0,
        train_subjects: list[str] | tuple[str, ...] | None = None,
        temporal_projection: str = "profile",
        shading_highpass: float = 1.0 / 16.0,
    ):
        super().__init__()
        self.register_modules(unet=unet, condition_encoder=condition_encoder, scheduler=scheduler)
        self.register_to_config(resolution=int(resolution), num_frames=int(num_frames), flow_scale=float(flow_scale),
                                occlusion_scale=float(occlusion_scale), shading=float(shading),
                                num_inference_steps=int(num_inference_steps), guidance_scale=float(guidance_scale),
                                train_subjects=None if train_subjects is None else list(train_subjects),
                                temporal_projection=check_temporal_projection(temporal_projection),
                                shading_highpass=float(shading_highpass))

    # ------------------------------------------------------------------ generator interface
    @property
    def resolution(self) -> int:
        return int(self.config.resolution)

    @resolution.setter
    def resolution(self, value: int) -> None:
        self.register_to_config(resolution=int(value))

    @property
    def train_subjects(self) -> tuple[str, ...] | None:
        """From model_index.json; None (unknown: the writer refuses) when it does not say."""
        subjects = self.config.get("train_subjects")
        return None if subjects is None else tuple(subjects)

    @property
    def classes(self) -> tuple[str, ...]:
        return self.condition_encoder.classes

    def weights_hash(self) -> str:
        """Hash of the weights, the pipeline config (sampling defaults) and the scheduler config."""
        h = hashlib.sha256()
        for name, module in (("unet", self.unet), ("condition_encoder", self.condition_encoder)):
            for k, v in sorted(module.state_dict().items()):
                h.update(f"{name}.{k}".encode())
                h.update(v.detach().cpu().contiguous().numpy().tobytes())
        cfg = {k: v for k, v in dict(self.config).items() if not k.startswith("_") and k not in ("unet", "condition_encoder", "scheduler")}
        h.update(json.dumps(cfg, sort_keys=True, default=str).encode())
        h.update(type(self.scheduler).__name__.encode())
        h.update(json.dumps({k: v for k, v in dict(self.scheduler.config).items() if not k.startswith("_")}, sort_keys=True, default=str).encode())
        return h.hexdigest()[:16]

    def animate(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> GeneratorOutput:
        """Generator: one face, one condition → its GeneratorOutput (the config's sampling defaults)."""
        return self._sample([face], [condition], generator).outputs[0]

    def check_condition(self, condition: Condition) -> None:
        """Raise MexkitInputError for a class this model does not know or target AUs (before any work;
        the synth writer calls it up front)."""
        if condition.label not in self.classes:
            raise MexkitInputError(None, f"unknown class {condition.label!r} for this generator", f"use one of {', '.join(self.classes)}", stage="condition")
        if condition.aus:
            raise MexkitInputError(None, f"target AUs {list(condition.aus)} are not a condition this model was trained on",
                                   "drop `aus` (the flow diffusion is conditioned on class and intensity) or use the warp generator", stage="condition")

    # ------------------------------------------------------------------ recipe steps
    def check_inputs(self, faces: list[NeutralFace], conditions: list[Condition], num_inference_steps: int,
                     guidance_scale: float, size: int, latents: torch.Tensor | None) -> None:
        if not faces:
            raise MexkitInputError(None, "no face given", "pass a NeutralFace, an RGB image or a list of them", stage="generate")
        for c in conditions:
            self.check_condition(c)
        if int(num_inference_steps) < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        if guidance_scale < 0:
            raise ValueError(f"guidance_scale must be >= 0, got {guidance_scale}")
        if size < 8:
            raise ValueError(f"output size must be at least 8 px, got {size}")
        if latents is not None and tuple(latents.shape) != self.latent_shape(len(faces)):
            raise ValueError(f"latents have shape {tuple(latents.shape)}, expected {self.latent_shape(len(faces))}")

    def latent_shape(self, batch_size: int) -> tuple[int, ...]:
        s = int(self.condition_encoder.config.flow_size)
        return (batch_size, int(self.unet.config.out_channels), int(self.config.num_frames), s, s)

    def prepare_faces(self, face: Any, size: int) -> list[NeutralFace]:
        """A NeutralFace, an RGB image (aligned here with MediaPipe) or a list of them → list of NeutralFace."""
        items = list(face) if isinstance(face, (list, tuple)) else [face]
        out = []
        for item in items:
            if isinstance(item, NeutralFace):
                out.append(item)
            else:
                out.append(prepare_face(np.asarray(item), resolution=max(size, 64)))
        return out

    @staticmethod
    def prepare_conditions(condition: Condition | Sequence[Condition] | None, n: int) -> list[Condition]:
        if condition is None:
            return [Condition()] * n
        if isinstance(condition, Condition):
            return [condition] * n
        conds = list(condition)
        if len(conds) != n:
            raise ValueError(f"got {len(conds)} conditions for {n} faces; pass one condition or one per face")
        return conds

    def prepare_neutral(self, faces: list[NeutralFace], size: int, device: torch.device) -> tuple[list[np.ndarray], torch.Tensor]:
        """Crops resized to the output size (uint8 (S, S, 3) each) and the batch (B, 3, S, S) in [-1, 1]."""
        crops = [_resize_crop(f.crop, size) for f in faces]
        neutral = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
        return crops, neutral.to(device)

    def prepare_landmarks(self, faces: list[NeutralFace], device: torch.device) -> torch.Tensor | None:
        """The faces' 68 landmarks in [0, 1] crop units (B, 68, 2), when the condition encoder uses them."""
        if not self.condition_encoder.config.use_landmarks:
            return None
        out = []
        for f in faces:
            lm = np.asarray(f.landmarks, np.float32) if f.landmarks is not None else np.zeros((0, 2), np.float32)
            if lm.shape != (68, 2):
                raise MexkitInputError(f.source or None, f"the face has landmarks of shape {lm.shape}, the flow diffusion needs (68, 2)",
                                       "prepare the face with mexkit.synth.prepare_face (or pass an RGB image)", stage="condition")
            out.append((lm + 0.5) / f.resolution)
        return torch.from_numpy(np.stack(out)).to(device)

    def encode_condition(self, neutral: torch.Tensor, conditions: list[Condition], do_cfg: bool,
                         landmarks: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Condition encoder outputs; with CFG the batch is [unconditional, conditional] (2B)."""
        device = neutral.device
        label = torch.tensor([self.classes.index(c.label) for c in conditions], device=device)
        intensity = torch.tensor([float(c.intensity) for c in conditions], device=device)
        if do_cfg:
            neutral = torch.cat([neutral, neutral])
            label = torch.cat([label, label])
            intensity = torch.cat([intensity, intensity])
            landmarks = None if landmarks is None else torch.cat([landmarks, landmarks])
            drop = torch.arange(len(label), device=device) < len(conditions)
        else:
            drop = None
        return self.condition_encoder(neutral, label, intensity, drop=drop, landmarks=landmarks)

    def prepare_profile(self, conditions: list[Condition], device: torch.device) -> torch.Tensor:
        """Timing profile at the model's frames as a channel (B, 1, T_model, h, w)."""
        t = int(self.config.num_frames)
        s = int(self.condition_encoder.config.flow_size)
        apex = torch.tensor([c.apex_at for c in conditions])
        offset = torch.tensor([c.offset_at for c in conditions])
        p = expression_profile(apex, t, offset).to(device)
        return p[:, None, :, None, None].expand(-1, 1, t, s, s)

    def prepare_latents(self, batch_size: int, generator, device: torch.device, dtype: torch.dtype,
                        latents: torch.Tensor | None = None) -> torch.Tensor:
        if latents is None:
            latents = randn_tensor(self.latent_shape(batch_size), generator=generator, device=device, dtype=dtype)
        else:
            latents = latents.to(device=device, dtype=dtype)
        return latents * self.scheduler.init_noise_sigma

    def prepare_extra_step_kwargs(self, generator, eta: float) -> dict:
        """`eta` (DDIM) and `generator` only for schedulers whose `step` takes them."""
        params = set(inspect.signature(self.scheduler.step).parameters)
        kwargs = {}
        if "eta" in params:
            kwargs["eta"] = eta
        if "generator" in params:
            kwargs["generator"] = generator
        return kwargs


    def clip_sequence(self, flow_low: torch.Tensor, occl_low: torch.Tensor, condition: Condition) -> torch.Tensor:
        """One face's sampled flow (T_model, 2, h, w) and occlusion (T_model, 1, h, w) → the clip's
        low-resolution flow + occlusion (T, 3, h, w), T = condition.num_frames (`temporal_projection`)."""
        seq = torch.cat([flow_low, occl_low], dim=1)
        if self.config.temporal_projection == "none":
            return resample_frames(seq[None], condition.num_frames)[0]
        p = expression_profile(condition.apex_at, seq.shape[0], condition.offset_at)[0].to(seq)  # (T_model,)
        apex = torch.einsum("t,tchw->chw", p, seq) / (p * p).sum().clamp_min(1e-6)
        p_clip = torch.from_numpy(condition.profile()).to(seq)
        return p_clip[:, None, None, None] * apex[None]

    def shading_map(self, occl: torch.Tensor, size: int) -> torch.Tensor:
        """Occlusion (T, 1, S, S) in [0, 1] → the shading map the warped frames are darkened by
        (× `shading`): the occlusion itself, or its high-pass part (`shading_highpass`)."""
        sigma = float(self.config.shading_highpass) * size
        if sigma <= 0:
            return occl
        return occl - gaussian_blur(occl, sigma)

    def render(self, faces: list[NeutralFace], crops: list[np.ndarray], conditions: list[Condition],
               flow_low: torch.Tensor, occl_low: torch.Tensor) -> list[GeneratorOutput]:
        """Warp each neutral crop by its upsampled flow (the sampled sequence mapped to the clip's frames by
        `clip_sequence`), shade occluded skin (`shading_map`), frame 0 = the crop."""
        outputs = []
        shading = float(self.config.shading)
        for i, (face, crop, cond) in enumerate(zip(faces, crops, conditions)):
            s = crop.shape[0]
            n = cond.num_frames
            fo = self.clip_sequence(flow_low[i], occl_low[i], cond)  # (T, 3, h, w)
            up = resize_flow(fo, s)
            flow, occl = up[:, 0:2], up[:, 2:3].clamp(0.0, 1.0)
            flow[0] = 0.0
            occl[0] = 0.0
            neutral = torch.from_numpy(crop).permute(2, 0, 1)[None].float().to(flow.device).div(127.5).sub(1.0)
            warped01 = (warp_video(neutral, flow[None])[0] + 1.0) / 2.0  # (T, 3, S, S)
            out01 = (warped01 * (1.0 - shading * self.shading_map(occl, s))).clamp(0.0, 1.0)
            frames = (out01 * 255.0).round().clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()
            frames[0] = crop
            landmarks = None
            if face.landmarks is not None and len(face.landmarks):
                lm = (np.asarray(face.landmarks, np.float64) + 0.5) * (s / face.resolution) - 0.5
                pts = torch.from_numpy(((2 * lm + 1) / s - 1).astype(np.float32))[None].expand(n, -1, -1).to(flow.device)
                landmarks = (((track_points(flow, pts) + 1) * s - 1) / 2).cpu().numpy().astype(np.float32)
            clip = Clip(frames=frames, fps=float(cond.fps), subject=face.subject, onset=0, apex=cond.apex_frame,
                        offset=cond.offset_frame, label=cond.label, aus="", dataset="synthetic", source=face.source,
                        landmarks=landmarks,
                        meta={"generator": self.generator_name, "intensity": float(cond.intensity), "condition": cond.to_dict()})
            outputs.append(GeneratorOutput(
                clip=clip,
                flow=grid_to_pixels(flow, s).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32),
                mask=(1.0 - occl[:, 0]).cpu().numpy().astype(np.float32),
                residual=(out01 - warped01).permute(0, 2, 3, 1).cpu().numpy().astype(np.float32),
                landmarks=landmarks,
                extras={"flow_lowres": fo[:, 0:2].cpu().numpy(), "occlusion_lowres": fo[:, 2].cpu().numpy()},
            ))
        return outputs

    # ------------------------------------------------------------------ the recipe
    @torch.no_grad()
    def __call__(
        self,
        face: NeutralFace | np.ndarray | Sequence[NeutralFace | np.ndarray],
        condition: Condition | Sequence[Condition] | None = None,
        generator: torch.Generator | int | list[torch.Generator] | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        eta: float = 0.0,
        resolution: int | None = None,
        latents: torch.Tensor | None = None,
        output_type: str = "clip",
        return_dict: bool = True,
    ) -> FlowDiffusionPipelineOutput | tuple:
        """Animate aligned neutral faces (the batched diffusers call).

        face: NeutralFace, RGB image (aligned here) or a list. condition: one Condition or one per face.
        generator: torch.Generator, a seed, a list of generators (one per face) or None (seed 0).
        num_inference_steps, guidance_scale: default from the config (guidance_scale <= 1 turns CFG off).
        resolution: output side S (default `self.resolution`). latents: (B, 3, T_model, h, w) initial noise.
        output_type: "clip" (render clips) or "latent" (skip rendering). Returns FlowDiffusionPipelineOutput.
        """
        size = int(resolution or self.resolution)
        faces = self.prepare_faces(face, size)
        conditions = self.prepare_conditions(condition, len(faces))
        if not isinstance(generator, list):
            generator = as_torch_generator(generator)
        result = self._sample(faces, conditions, generator, num_inference_steps, guidance_scale, eta, size, latents, output_type)
        if not return_dict:
            return (result.clips, result.outputs)
        return result

    @torch.no_grad()
    def _sample(self, faces: list[NeutralFace], conditions: list[Condition], generator,
                num_inference_steps: int | None = None, guidance_scale: float | None = None, eta: float = 0.0,
                size: int | None = None, latents: torch.Tensor | None = None,
                output_type: str = "clip") -> FlowDiffusionPipelineOutput:
        """The sampling recipe shared by `__call__` (batch) and `animate` (one face): aligned faces, one
        condition each, a torch.Generator (or one per face) → FlowDiffusionPipelineOutput."""
        # 0. defaults
        num_inference_steps = int(self.config.num_inference_steps if num_inference_steps is None else num_inference_steps)
        guidance_scale = float(self.config.guidance_scale if guidance_scale is None else guidance_scale)
        size = int(size or self.resolution)
        # 1. check inputs
        self.check_inputs(faces, conditions, num_inference_steps, guidance_scale, size, latents)
        device = self._execution_device
        dtype = self.unet.dtype
        do_cfg = guidance_scale > 1.0
        # 2. encode the condition
        crops, neutral = self.prepare_neutral(faces, size, device)
        landmarks = self.prepare_landmarks(faces, device)
        cond = self.encode_condition(neutral.to(dtype), conditions, do_cfg, landmarks)
        profile = self.prepare_profile(conditions, device).to(dtype)
        # 3. timesteps
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        # 4. initial noise
        latents = self.prepare_latents(len(faces), generator, device, dtype, latents)
        extra = self.prepare_extra_step_kwargs(generator, eta)
        # 5. denoising loop (with CFG the batch is [unconditional, conditional])
        profile_in = torch.cat([profile, profile]) if do_cfg else profile
        with self.progress_bar(total=len(timesteps)) as bar:
            for t in timesteps:
                x = torch.cat([latents, latents]) if do_cfg else latents
                pred = run_unet(self.unet, self.scheduler.scale_model_input(x, t), t, cond, profile_in)
                if do_cfg:
                    uncond, cond_pred = pred.chunk(2)
                    pred = uncond + guidance_scale * (cond_pred - uncond)
                latents = self.scheduler.step(pred, t, latents, **extra).prev_sample
                bar.update()
        # 6. decode the state into flow + occlusion, 7. render clips
        if output_type == "latent":
            result = FlowDiffusionPipelineOutput(clips=[], outputs=[], latents=latents)
        else:
            flow_low, occl_low = decode_flow(latents.float(), self.config.flow_scale, self.config.occlusion_scale)
            outputs = self.render(faces, crops, conditions, flow_low, occl_low)
            for o in outputs:
                o.clip.meta.update(num_inference_steps=num_inference_steps, guidance_scale=guidance_scale,
                                   scheduler=type(self.scheduler).__name__)
            result = FlowDiffusionPipelineOutput(clips=[o.clip for o in outputs], outputs=outputs, latents=latents)
        self.maybe_free_model_hooks()
        return result


TEMPORAL_PROJECTIONS = ("profile", "none")


def check_temporal_projection(mode: str) -> str:
    if mode not in TEMPORAL_PROJECTIONS:
        raise ValueError(f"temporal_projection must be one of {TEMPORAL_PROJECTIONS}, got {mode!r}")
    return str(mode)


def build_pipeline(unet: dict | None = None, condition_encoder: dict | None = None, noise_scheduler: dict | None = None,
                   sampling_scheduler: str = "ddim", **pipeline_kwargs) -> FlowDiffusionPipeline:
    """A freshly initialised pipeline from config dicts (the training module's arguments; tests)."""
    from diffusers import DDPMScheduler

    encoder = FlowConditionEncoder(**dict(condition_encoder or {}))
    ddpm = DDPMScheduler(**{**DEFAULT_NOISE_SCHEDULER, **dict(noise_scheduler or {})})
    return FlowDiffusionPipeline(build_unet(encoder, unet), encoder, make_scheduler(sampling_scheduler, ddpm.config), **pipeline_kwargs)


def load_demo(resolution: int | None = None, device: str | torch.device = "cpu", path: str | Path | None = None,
              scheduler: str | None = None, progress: bool = False) -> FlowDiffusionPipeline:
    """The shipped demo pipeline (synth/pretrained/flowdiff-demo), offline.

    resolution: default output side (the model works at 64; flows are upsampled for 128 or 256).
    scheduler: None (the saved DDIM), "ddim" or "dpm" (DPMSolverMultistepScheduler). progress: show the
    per-clip denoising bar (off by default: the writer shows one bar over all clips).
    """
    folder = Path(path) if path is not None else DEMO_DIR
    if not (folder / "model_index.json").exists():
        raise MissingWeightsError("flow-diffusion demo", str(folder / "model_index.json"),
                                  "retrain it with: mexkit train --config configs/flowdiff_demo.yaml (see its header)")
    # weights may be stored in float16: compute in float32
    pipe = FlowDiffusionPipeline.from_pretrained(str(folder), low_cpu_mem_usage=False, dtype=torch.float32)
    pipe.to(device)
    if scheduler is not None:
        pipe.scheduler = make_scheduler(scheduler, pipe.scheduler.config)
    if resolution is not None:
        pipe.resolution = int(resolution)
    pipe.set_progress_bar_config(disable=not progress, leave=False)
    return pipe


def make_scheduler(name: str, config) -> Any:
    """A sampling scheduler by name ("ddim", "dpm", "ddpm") from another scheduler's config."""
    from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

    table = {"ddim": DDIMScheduler, "dpm": DPMSolverMultistepScheduler, "dpm-solver": DPMSolverMultistepScheduler, "ddpm": DDPMScheduler}
    key = name.lower()
    if key not in table:
        raise ValueError(f"unknown scheduler {name!r}; choose one of {sorted(table)}")
    return table[key].from_config(config)
