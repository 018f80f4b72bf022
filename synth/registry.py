"""`load_generator(name_or_path)`: every generator by name, or a saved pretrained folder."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

# name → "module:factory". Factories take keyword arguments and return a ready generator.
GENERATORS: dict[str, str] = {
    "warp": "mexkit.synth.warp.generator:WarpGenerator",
    "motion-transfer": "mexkit.synth.motion_transfer.generator:MotionTransferGenerator",
    "mocogan-demo": "mexkit.synth.mocogan.generator:load_demo",
    "flowdiff-demo": "mexkit.synth.flowdiff.pipeline:load_demo",
}

# config.json "_class_name" → "module:class" with a from_pretrained classmethod.
PRETRAINED_CLASSES: dict[str, str] = {
    "MoCoGANGenerator": "mexkit.synth.mocogan.generator:MoCoGANGenerator",
    "FlowDiffusionPipeline": "mexkit.synth.flowdiff.pipeline:FlowDiffusionPipeline",
}


def _resolve(spec: str):
    module, attr = spec.split(":")
    return getattr(importlib.import_module(module), attr)


def available_generators() -> list[str]:
    return sorted(GENERATORS)


def load_generator(name_or_path: str | Path, **kwargs):
    """Build a generator: a registered name ("warp", "mocogan-demo", "flowdiff-demo") or a folder
    written by `save_pretrained` (config.json + safetensors)."""
    key = str(name_or_path)
    if key in GENERATORS:
        return _resolve(GENERATORS[key])(**kwargs)
    path = Path(key)
    if path.is_dir():
        for cfg in (path / "model_index.json", path / "config.json"):
            if cfg.exists():
                cls_name = json.loads(cfg.read_text())["_class_name"]
                if cls_name not in PRETRAINED_CLASSES:
                    raise ValueError(f"{cfg}: unknown generator class {cls_name!r}; known: {sorted(PRETRAINED_CLASSES)}")
                return _resolve(PRETRAINED_CLASSES[cls_name]).from_pretrained(str(path), **kwargs)
        raise ValueError(f"{path}: not a pretrained generator folder (no config.json or model_index.json)")
    raise ValueError(f"unknown generator {key!r}; choose one of {available_generators()} or a pretrained folder path")
