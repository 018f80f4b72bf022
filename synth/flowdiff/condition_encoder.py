"""`FlowConditionEncoder`: what the flow diffusion is conditioned on — the neutral face, class and intensity.

Three outputs, one per way the diffusers UNet3DConditionModel takes a condition:
  spatial (B, Cf+G, h, w) face features at the flow resolution plus G landmark-group heatmaps (jaw, brows,
                          nose, eyes, mouth of the 68-point layout), concatenated to the noisy flow channels
                          (LFDM conditions on the neutral frame the same way), so the sampled motion
                          lands on this face's brows, eyes and mouth. The heatmaps give the geometry
                          explicitly: trained on a handful of faces, CNN features alone were ignored
                          (the first demo run's encoder collapsed to a constant);
  tokens  (B, L, D)       cross-attention tokens (`encoder_hidden_states`): a 4×4 grid of pooled face
                          features with position embeddings, a class token and an intensity token;
  vector  (B, D)          class + intensity embedding added to the timestep embedding (`timestep_cond`).

Classifier-free guidance: class index `num_classes` is the null class and `drop` (B,) bool replaces the
intensity embedding with a learned null vector; the face stays (image-to-video guidance is over the
expression, not the identity).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from mexkit.datasets.label_maps import MEGC_CLASSES


# 68-point iBUG groups: jaw, brows, nose, eyes, mouth
LANDMARK_GROUPS: tuple[tuple[int, int], ...] = ((0, 17), (17, 27), (27, 36), (36, 48), (48, 68))


def landmark_heatmaps(landmarks: torch.Tensor, size: int, sigma: float = 0.8) -> torch.Tensor:
    """(B, 68, 2) landmarks in [0, 1] image units (x, y) → (B, G, size, size) group heatmaps in [0, 1]
    (max over the group's points of a Gaussian of `sigma` heatmap pixels)."""
    pos = (torch.arange(size, device=landmarks.device, dtype=landmarks.dtype) + 0.5) / size
    gy, gx = torch.meshgrid(pos, pos, indexing="ij")
    pts = landmarks[:, :, None, None, :]  # (B, 68, 1, 1, 2)
    d2 = (gx - pts[..., 0]) ** 2 + (gy - pts[..., 1]) ** 2  # (B, 68, size, size)
    g = torch.exp(-d2 * (size * size) / (2 * sigma * sigma))
    return torch.stack([g[:, a:b].amax(dim=1) for a, b in LANDMARK_GROUPS], dim=1)


def _block(cin: int, cout: int, stride: int, groups: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1), nn.GroupNorm(min(groups, cout), cout), nn.SiLU())


class FlowConditionEncoder(ModelMixin, ConfigMixin):
    """Neutral face (B, 3, S, S) in [-1, 1], class index (B,), intensity (B,) → spatial, tokens, vector.

    image_size: side the face is resized to before encoding. flow_size: side of the flow the UNet
    denoises (the spatial map's size). feature_channels: Cf. embed_dim: D (= the UNet's
    cross_attention_dim and time_cond_proj_dim). token_grid: the face tokens form a token_grid² grid.
    classes: class names in index order.
    """

    @register_to_config
    def __init__(
        self,
        image_size: int = 64,
        flow_size: int = 16,
        feature_channels: int = 8,
        hidden_channels: int = 32,
        embed_dim: int = 64,
        token_grid: int = 4,
        classes: tuple[str, ...] | list[str] = MEGC_CLASSES,
        use_landmarks: bool = True,
    ):
        super().__init__()
        if image_size % flow_size:
            raise ValueError(f"image_size ({image_size}) must be a multiple of flow_size ({flow_size})")
        steps = int(round(math.log2(image_size // flow_size)))
        if 2**steps * flow_size != image_size:
            raise ValueError(f"image_size / flow_size must be a power of two, got {image_size} / {flow_size}")
        c = hidden_channels
        layers = [_block(3, c, 1, 8)]
        for i in range(steps):
            layers.append(_block(c * min(2**i, 2), c * min(2 ** (i + 1), 2), 2, 8))
        self.backbone = nn.Sequential(*layers)
        cb = c * min(2**steps, 2)
        self.to_spatial = nn.Conv2d(cb, feature_channels, 1)
        self.to_tokens = nn.Linear(cb, embed_dim)
        self.token_pos = nn.Parameter(torch.randn(token_grid * token_grid, embed_dim) * 0.02)
        self.class_embed = nn.Embedding(len(classes) + 1, embed_dim)  # last index = null class
        self.intensity_embed = nn.Sequential(nn.Linear(1, embed_dim), nn.SiLU(), nn.Linear(embed_dim, embed_dim))
        self.null_intensity = nn.Parameter(torch.zeros(embed_dim))
        self.kind_embed = nn.Parameter(torch.randn(3, embed_dim) * 0.02)  # face / class / intensity token types

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.config.classes)

    @property
    def num_classes(self) -> int:
        return len(self.config.classes)

    @property
    def null_class(self) -> int:
        return self.num_classes

    @property
    def spatial_channels(self) -> int:
        """Channels of `spatial`: the feature maps plus one heatmap per landmark group."""
        return int(self.config.feature_channels) + (len(LANDMARK_GROUPS) if self.config.use_landmarks else 0)

    def forward(self, neutral: torch.Tensor, label: torch.Tensor, intensity: torch.Tensor,
                drop: torch.Tensor | None = None, landmarks: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """neutral (B, 3, H, W) in [-1, 1]; label (B,) long (-1 or num_classes = null); intensity (B,) 0–1;
        drop (B,) bool: use the null class and null intensity (classifier-free guidance);
        landmarks (B, 68, 2): the faces' landmarks in [0, 1] image units (needed when use_landmarks)."""
        cfg = self.config
        if neutral.shape[-1] != cfg.image_size or neutral.shape[-2] != cfg.image_size:
            neutral = F.interpolate(neutral, size=(cfg.image_size, cfg.image_size), mode="area")
        feat = self.backbone(neutral)  # (B, Cb, h, w)
        spatial = self.to_spatial(feat)
        if cfg.use_landmarks:
            if landmarks is None or landmarks.shape[1:] != (68, 2):
                raise ValueError("this condition encoder needs the faces' 68 landmarks (B, 68, 2) in [0, 1] image units; "
                                 f"got {None if landmarks is None else tuple(landmarks.shape)}")
            spatial = torch.cat([spatial, landmark_heatmaps(landmarks.to(spatial), spatial.shape[-1])], dim=1)
        grid = F.adaptive_avg_pool2d(feat, cfg.token_grid).flatten(2).transpose(1, 2)  # (B, G², Cb)
        face_tokens = self.to_tokens(grid) + self.token_pos + self.kind_embed[0]

        label = label.long().clone()
        label[(label < 0) | (label > self.null_class)] = self.null_class
        intensity = intensity.to(spatial.dtype).reshape(-1, 1)
        inten = self.intensity_embed(intensity)
        if drop is not None:
            drop = drop.to(label.device).bool()
            label = torch.where(drop, torch.full_like(label, self.null_class), label)
            inten = torch.where(drop[:, None], self.null_intensity.expand_as(inten), inten)
        cls = self.class_embed(label)
        tokens = torch.cat([face_tokens, (cls + self.kind_embed[1])[:, None], (inten + self.kind_embed[2])[:, None]], dim=1)
        return {"spatial": spatial, "tokens": tokens, "vector": cls + inten}
