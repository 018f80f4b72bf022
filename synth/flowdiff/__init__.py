"""Latent flow diffusion (LFDM-like) image-to-video: the diffusers pipeline (pipeline.py, also a
`Generator`), its condition encoder (condition_encoder.py), the flow/occlusion state codec
(flow_codec.py) and the Lightning training module (module.py, imported on demand:
`from mexkit.synth.flowdiff.module import FlowDiffusionModule`)."""
from .condition_encoder import FlowConditionEncoder
from .pipeline import FlowDiffusionPipeline, build_pipeline, load_demo

__all__ = ["FlowConditionEncoder", "FlowDiffusionPipeline", "build_pipeline", "load_demo"]
