"""`load_generator(name_or_path)`: every generator by name, or a saved pretrained folder."""
from __future__ import annotations

import importlib
import json
from pathlib import Path

from mexkit.errors import MexkitInputError

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
    written by `save_pretrained` (config.json + safetensors). Anything else — an unknown name, a folder
    that is not a model, a broken config.json, missing, truncated or pickled weights — is refused with a
    MexkitInputError that names the file and the fix (weights load from safetensors only)."""
    key = str(name_or_path)
    fix = f"pass one of {available_generators()} or a folder written by `mexkit train` / save_pretrained (config.json + safetensors)"
    if key in GENERATORS:
        return _resolve(GENERATORS[key])(**kwargs)
    path = Path(key)
    if not path.exists():
        raise MexkitInputError(key, "unknown generator (not a registered name, and no such folder)", fix, stage="generator")
    if not path.is_dir():
        raise MexkitInputError(path, "not a generator: a file, where a registered name or a pretrained folder is expected", fix, stage="generator")
    for cfg in (path / "model_index.json", path / "config.json"):
        if cfg.exists():
            return _from_folder(path, cfg, kwargs)
    raise MexkitInputError(path, "not a pretrained generator folder (no config.json or model_index.json)", fix, stage="generator")


def _from_folder(path: Path, cfg: Path, kwargs: dict):
    try:
        cls_name = json.loads(cfg.read_text())["_class_name"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise MexkitInputError(cfg, f"broken generator config ({type(err).__name__}: {err})",
                               "restore the folder from its export (`mexkit train` writes it whole)", stage="generator") from None
    if cls_name not in PRETRAINED_CLASSES:
        raise MexkitInputError(cfg, f"unknown generator class {cls_name!r}", f"use a folder of one of {sorted(PRETRAINED_CLASSES)}", stage="generator")
    folders = [path] if cfg.name == "config.json" else [p for p in path.iterdir() if p.is_dir() and (p / "config.json").exists()]
    for folder in folders:
        if not any(folder.glob("*.safetensors")):
            pickled = sorted(p.name for p in folder.glob("*.bin")) + sorted(p.name for p in folder.glob("*.pt*"))
            what = f"only pickled weights ({', '.join(pickled)}), which mexkit does not load" if pickled else "no weights file"
            raise MexkitInputError(folder, f"{what}: a generator's weights must be a .safetensors file",
                                   "re-export the model with safetensors (`mexkit train` does; save_pretrained(safe_serialization=True))",
                                   stage="generator")
    try:
        return _resolve(PRETRAINED_CLASSES[cls_name]).from_pretrained(str(path), **kwargs)
    except (OSError, ValueError, RuntimeError, KeyError) as err:
        if isinstance(err, MexkitInputError):
            raise
        raise MexkitInputError(path, f"the generator could not be loaded ({type(err).__name__}: {str(err).strip().splitlines()[0][:200]})",
                               "the weights may be truncated or from another model: restore the folder from its export",
                               stage="generator") from None
