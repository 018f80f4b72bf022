"""The kept recognizer's folder on disk (docs/design.md §5 "Kept recognizers: the model folder").

    NAME/
      config.json          format, mexkit version, classes + label map, the input (feature settings,
                           crop resolution, alignment), one entry per head, training summary
      class.safetensors    the class head's weights: a network's state dict (safetensors) ...
      class.skops          ... or a scikit-learn estimator (skops, loaded with an explicit trusted list)
      aus.safetensors|.skops  the AU head's weights, when the model has one (a model may have only this head)
      README.md            the model card (what trained it)
      training_rows.csv    every training row with its provenance
      heldout/             held-out-subject figures, when the fit ran them

Writing is atomic (the whole folder appears at once). Reading refuses, with a MexkitInputError naming
the file and the fix: a folder without config.json, a config that is not this format, a label map that
disagrees with the class order or the model, a weights file whose sha256 differs from the one recorded
(a truncated or replaced file), weights of another architecture, a skops file holding types outside the
trusted list, and any pickle-based file in the folder (*.pkl, *.pickle, *.joblib, *.pt, *.pth, *.ckpt,
*.bin, or a file that starts with a pickle header) — nothing is unpickled, ever.
"""
from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from mexkit.atomic import atomic_path
from mexkit.errors import MexkitInputError
from mexkit.file_hash import file_sha256

FORMAT = "mexkit-recognizer"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
CARD_FILE = "README.md"
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".bin")
# scikit-learn recognizers a model folder may hold (skops trusts scikit-learn's and numpy's own types)
TRUSTED_SKOPS_TYPES = ("mexkit.recog.flow_lda.FlowLDA", "mexkit.recog.lbptop_svm.LBPTOPSVM")
WEIGHT_FORMATS = {"safetensors": ".safetensors", "skops": ".skops"}
HEADS = ("class", "aus")  # the class head (one of `classes`) and the AU head (multi-label action units)
REFIT_FIX = "re-create the folder with `mexkit recog fit --config CFG --out DIR` (or copy it again from its source)"


def json_safe(value: Any) -> Any:
    """Constructor arguments and settings as JSON values (tuples → lists, numpy scalars → Python)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def class_path_of(model: Any) -> str:
    return f"{type(model).__module__}.{type(model).__qualname__}"


def _import(class_path: str, where: Path) -> type:
    module, _, name = str(class_path).rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as err:
        raise MexkitInputError(where, f"cannot import the recognizer class {class_path!r} ({err})",
                               "check class_path in config.json, or install the package that defines it", stage="model") from None


# --- writing ---------------------------------------------------------------------------------------
def _write_weights(model: Any, path_stem: Path) -> tuple[str, str]:
    """Write one head's weights as `path_stem` + .safetensors (a torch module) or .skops (anything else)."""
    import torch

    if isinstance(model, torch.nn.Module):
        from safetensors.torch import save_file

        path = path_stem.with_suffix(".safetensors")
        state = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
        save_file(state, str(path), metadata={"class_path": class_path_of(model), "format": "pt"})
        return path.name, "safetensors"
    import skops.io

    path = path_stem.with_suffix(".skops")
    skops.io.dump(model, str(path))
    return path.name, "skops"


def write_model_folder(out: str | Path, config: dict[str, Any], heads: dict[str, Any], card: str,
                       files: dict[str, str] | None = None) -> Path:
    """Write a model folder atomically: config.json (with each head's weights file name, format and
    sha256 filled in), the heads' weights, README.md and extra text files {relative name: text}.
    An existing model folder at `out` is replaced whole; anything else there is refused."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / CONFIG_FILE).is_file())):
        raise MexkitInputError(out, "--out: exists and is not a model folder (no config.json); refusing to replace it",
                               "give --out a new folder or an earlier model folder", stage="output")
    config = json.loads(json.dumps(json_safe(config)))
    with atomic_path(out) as tmp:
        tmp.mkdir()
        for name, model in heads.items():
            fname, fmt = _write_weights(model, tmp / name)
            head = config["heads"][name]
            head.update(weights=fname, format=fmt, sha256=file_sha256(tmp / fname))
        for rel, text in (files or {}).items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8")
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    return out


# --- reading ---------------------------------------------------------------------------------------
def is_model_folder(path: str | Path) -> bool:
    return (Path(path) / CONFIG_FILE).is_file()


def refuse_pickles(folder: Path) -> None:
    """Any pickle-based file anywhere in the folder → MexkitInputError naming it (nothing is read further)."""
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        pickled = p.suffix.lower() in PICKLE_SUFFIXES
        if not pickled and p.suffix.lower() not in (".json", ".md", ".csv", ".txt"):
            with open(p, "rb") as f:
                head = f.read(2)
            pickled = len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5  # pickle protocol 2–5 header
        if pickled:
            raise MexkitInputError(p, "a pickle-based file in a model folder; mexkit never unpickles (it can run arbitrary code)",
                                   f"remove {p.name}: weights belong in .safetensors (networks) or .skops (scikit-learn), "
                                   f"or {REFIT_FIX}", stage="model")


def read_config(folder: Path) -> dict[str, Any]:
    """config.json of a model folder, checked: format, classes and label map, heads, feature."""
    from .features import FEATURES
    from .kept_scores import SCORE_KINDS

    path = folder / CONFIG_FILE
    if not path.is_file():
        raise MexkitInputError(folder, "not a model folder (no config.json)",
                               f"pass a folder written by `mexkit recog fit`, or the shipped name mexkit-demo; {REFIT_FIX}", stage="model")
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MexkitInputError(path, f"config.json is not valid JSON ({err})", REFIT_FIX, stage="model") from None

    def bad(reason: str) -> MexkitInputError:
        return MexkitInputError(path, reason, REFIT_FIX, stage="model")

    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise bad(f"config.json is not a mexkit recognizer config (format {cfg.get('format') if isinstance(cfg, dict) else None!r}, "
                  f"expected {FORMAT!r})")
    if int(cfg.get("format_version", 0)) > FORMAT_VERSION:
        raise MexkitInputError(path, f"format_version {cfg.get('format_version')} is newer than this mexkit reads ({FORMAT_VERSION})",
                               "upgrade mexkit", stage="model")
    heads = cfg.get("heads")
    if not isinstance(heads, dict) or not heads or set(heads) - set(HEADS):
        raise bad(f"config.json: `heads` must hold a class head and / or an AU head ({' / '.join(HEADS)}), got "
                  f"{sorted(heads) if isinstance(heads, dict) else heads!r}")
    classes = cfg.get("classes")
    if not isinstance(classes, list) or ("class" in heads and not classes) or len(set(map(str, classes))) != len(classes):
        raise bad("config.json: `classes` must be a list of distinct class names (non-empty with a class head)")
    expected = {str(c): i for i, c in enumerate(classes)}
    if cfg.get("label_map") != expected:
        raise MexkitInputError(path, f"config.json: label_map {cfg.get('label_map')} disagrees with the class order {classes} "
                                     f"(expected {expected})",
                               "make label_map map each class to its position in `classes`, as `mexkit recog fit` writes it", stage="model")
    for name, head in heads.items():
        for key in ("class_path", "init_args", "weights", "format", "sha256", "outputs", "score_kind"):
            if key not in head:
                raise bad(f"config.json: heads.{name} lacks {key!r}")
        if head["format"] not in WEIGHT_FORMATS:
            raise bad(f"config.json: heads.{name}.format {head['format']!r} is not one of {sorted(WEIGHT_FORMATS)}")
        if head["score_kind"] not in SCORE_KINDS:
            raise bad(f"config.json: heads.{name}.score_kind {head['score_kind']!r} is not one of {list(SCORE_KINDS)}")
        if Path(head["weights"]).name != head["weights"] or Path(head["weights"]).suffix != WEIGHT_FORMATS[head["format"]]:
            raise bad(f"config.json: heads.{name}.weights {head['weights']!r} must be a file name in the folder ending in "
                      f"{WEIGHT_FORMATS[head['format']]}")
    if "class" in heads and list(heads["class"]["outputs"]) != list(classes):
        raise MexkitInputError(path, f"config.json: the class head's outputs {heads['class']['outputs']} disagree with `classes` {classes}",
                               "make heads.class.outputs the class list, in order", stage="model")
    feature = (cfg.get("input") or {}).get("feature") or {}
    if feature.get("kind") not in FEATURES:
        raise bad(f"config.json: input.feature.kind {feature.get('kind')!r} is not one of {sorted(FEATURES)}")
    return cfg


def _load_safetensors(path: Path, head: dict[str, Any], cls: type) -> Any:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise MexkitInputError(path, f"cannot read the safetensors weights ({err})", REFIT_FIX, stage="model") from None
    try:
        model = cls(**head["init_args"])
    except TypeError as err:
        raise MexkitInputError(path.parent / CONFIG_FILE, f"bad init_args for {head['class_path']} ({err})", REFIT_FIX, stage="model") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        detail = "; ".join(line.strip() for line in first[:3])
        raise MexkitInputError(path, f"weights of another architecture than {head['class_path']}({_args(head['init_args'])}): {detail}",
                               f"use the weights this config.json was written with; {REFIT_FIX}", stage="model") from None
    model.eval()
    return model


def _args(init_args: dict[str, Any], limit: int = 4) -> str:
    items = [f"{k}={v!r}" for k, v in list(init_args.items())[:limit]]
    return ", ".join(items) + (", …" if len(init_args) > limit else "")


def _load_skops(path: Path, head: dict[str, Any], cls: type, trusted: Iterable[str]) -> Any:
    import skops.io

    trusted = list(dict.fromkeys([*TRUSTED_SKOPS_TYPES, *trusted]))
    try:
        untrusted = skops.io.get_untrusted_types(file=str(path))
    except Exception as err:  # a damaged zip, a file that is not skops
        raise MexkitInputError(path, f"cannot read the skops weights ({type(err).__name__}: {err})", REFIT_FIX, stage="model") from None
    unknown = sorted(set(untrusted) - set(trusted))
    if unknown:
        raise MexkitInputError(path, f"the skops file holds types outside the trusted list: {unknown}",
                               "load only folders you trust; to allow a type of your own, pass load_recognizer(..., trusted=[...])",
                               stage="model")
    try:
        model = skops.io.load(str(path), trusted=trusted)
    except Exception as err:
        raise MexkitInputError(path, f"cannot load the skops weights ({type(err).__name__}: {err})", REFIT_FIX, stage="model") from None
    if type(model) is not cls:
        raise MexkitInputError(path, f"weights of another architecture: the file holds {class_path_of(model)}, config.json names "
                                     f"{head['class_path']}", f"use the weights this config.json was written with; {REFIT_FIX}", stage="model")
    return model


def load_head(folder: Path, name: str, head: dict[str, Any], trusted: Iterable[str] = ()) -> Any:
    """One head's fitted model, after its file's sha256 is checked against config.json."""
    path = folder / head["weights"]
    if not path.is_file():
        raise MexkitInputError(path, f"the {name} head's weights file is missing", REFIT_FIX, stage="model")
    digest = file_sha256(path)
    if digest != head["sha256"]:
        raise MexkitInputError(path, f"weights file does not match config.json (sha256 {digest[:12]}… ≠ {str(head['sha256'])[:12]}…): "
                                     "truncated, damaged or replaced", REFIT_FIX, stage="model")
    cls = _import(head["class_path"], folder / CONFIG_FILE)
    if head["format"] == "safetensors":
        return _load_safetensors(path, head, cls)
    return _load_skops(path, head, cls, trusted)


def read_model_folder(folder: str | Path, trusted: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, {head name: fitted model}) of a model folder, every check above passed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MexkitInputError(folder, "model folder not found" if not folder.exists() else "a file, not a model folder",
                               "pass a folder written by `mexkit recog fit`, or the shipped name mexkit-demo", stage="model")
    refuse_pickles(folder)
    cfg = read_config(folder)
    models = {name: load_head(folder, name, head, trusted) for name, head in cfg["heads"].items()}
    return cfg, models
