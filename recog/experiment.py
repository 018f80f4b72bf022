"""Experiment configs (YAML) → samples, synthetic sets and model templates for `mexkit recog loso` / `mexkit study`.

A config has sections:
    data:       corpus: true | manifest: PATH (+ root, label_map, align, cache); classes: [...]
    synthetic:  (study) manifest: PATH (the writer's folder or manifest.csv) | generate: {generator, faces,
                per_face, classes, intensity, seed, out}; select: other-subjects | given
    model:      {class_path, init_args, feature} — or models: {name: {...}, ...} for several
    feature:    default feature for every model ({kind, ...params}; else the model's input_kind)
    loso:       {unit, seed, folds};  study: {n_boot}
    out:        output folder (runs/… is git-ignored)
Configs are read with yaml.safe_load; a bare file name is also looked up among the shipped configs.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .samples import MEGC_CLASSES, SampleSet

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"
MODEL_ALIASES = {
    "ststnet": "mexkit.recog.ststnet.STSTNet",
    "cnn3d": "mexkit.recog.cnn3d.CNN3D",
    "lbptop_svm": "mexkit.recog.lbptop_svm.LBPTOPSVM",
}


def _configs_dir() -> Path:
    try:
        import mexkit.configs as pkg

        return Path(pkg.__file__).resolve().parent
    except ImportError:  # pragma: no cover - the package always ships it
        return CONFIG_DIR


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML config (a path, or the name of a shipped config such as "study_corpus_warp.yaml")."""
    p = Path(path)
    if not p.is_file():
        shipped = _configs_dir() / p.name
        if shipped.is_file():
            p = shipped
        else:
            raise MexkitInputError(path, "config file not found", f"pass a YAML file or one of the shipped configs in {_configs_dir()}", stage="config")
    try:
        cfg = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:
        raise MexkitInputError(p, f"not valid YAML ({err})", "fix the YAML syntax", stage="config") from None
    if not isinstance(cfg, dict):
        raise MexkitInputError(p, "a config must be a mapping of sections", "see configs/recog_*.yaml for the layout", stage="config")
    cfg["_path"] = str(p)
    return cfg


def build_model(spec: dict[str, Any] | str, where: str = "config") -> Any:
    """A model template from {class_path, init_args} (class_path may be an alias: ststnet, cnn3d, lbptop_svm)."""
    if isinstance(spec, str):
        spec = {"class_path": spec}
    path = MODEL_ALIASES.get(spec.get("class_path", ""), spec.get("class_path", ""))
    if "." not in path:
        raise MexkitInputError(where, f"model class_path {path!r} is not a module path", f"use e.g. {MODEL_ALIASES['ststnet']} or one of {sorted(MODEL_ALIASES)}", stage="config")
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise MexkitInputError(where, f"cannot import model {path!r} ({err})", "check class_path", stage="config") from None
    try:
        return cls(**(spec.get("init_args") or {}))
    except TypeError as err:
        raise MexkitInputError(where, f"bad init_args for {path} ({err})", "check the argument names against the class", stage="config") from None


def model_specs(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{name: spec} from `models:` or the single `model:` section."""
    if "models" in cfg:
        models = cfg["models"]
        if not isinstance(models, dict) or not models:
            raise MexkitInputError(cfg.get("_path"), "`models` must map names to model specs", "see configs/study_*.yaml", stage="config")
        return {str(k): (v if isinstance(v, dict) else {"class_path": v}) for k, v in models.items()}
    if "model" in cfg:
        spec = cfg["model"] if isinstance(cfg["model"], dict) else {"class_path": cfg["model"]}
        cp = str(spec.get("class_path", ""))
        name = cp if cp in MODEL_ALIASES else cp.rpartition(".")[2].lower()  # "ststnet" or the class name
        return {name or "model": spec}
    raise MexkitInputError(cfg.get("_path"), "no `model` (or `models`) section", "add model: {class_path: ststnet}", stage="config")


def model_feature(cfg: dict[str, Any], spec: dict[str, Any]) -> dict | None:
    feat = spec.get("feature", cfg.get("feature"))
    return dict(feat) if feat else None


def load_real(cfg: dict[str, Any], rejects: RejectLog | None = None) -> SampleSet:
    """The real samples of the `data` section."""
    data = cfg.get("data") or {}
    classes = tuple(data.get("classes") or MEGC_CLASSES)
    if data.get("corpus"):
        return SampleSet.from_corpus(classes=classes, rejects=rejects)
    if data.get("manifest"):
        return SampleSet.from_manifest(data["manifest"], data.get("root"), classes, data.get("label_map", "native"),
                                       data.get("align"), data.get("cache"), rejects)
    raise MexkitInputError(cfg.get("_path"), "the data section names no samples", "set data.corpus: true or data.manifest: PATH", stage="config")


def load_synthetic(cfg: dict[str, Any], out: Path, classes: tuple[str, ...], rejects: RejectLog | None = None,
                   manifest: str | Path | None = None, progress: bool = True) -> SampleSet:
    """The synthetic pool of the `synthetic` section: a writer manifest, or generated now with the
    writer (resumable: a rerun reuses the finished clips)."""
    syn = cfg.get("synthetic") or {}
    manifest = manifest or syn.get("manifest")
    if manifest is None:
        gen = syn.get("generate")
        if not gen:
            raise MexkitInputError(cfg.get("_path"), "the synthetic section names no clips", "set synthetic.manifest: DIR or synthetic.generate: {...}", stage="config")
        from mexkit.synth.writer import generate_dataset

        target = Path(gen.get("out") or out / "synthetic")
        counts = generate_dataset(gen.get("generator", "warp"), gen.get("faces", "corpus"), target,
                                  classes=tuple(gen.get("classes") or classes), intensity=gen.get("intensity", (0.2, 0.6)),
                                  per_face=int(gen.get("per_face", 3)), seed=int(gen.get("seed", 0)),
                                  duration_ms=float(gen.get("duration_ms", 400.0)), fps=float(gen.get("fps", 40.0)), progress=progress)
        if counts.get("rejected") and rejects is not None:
            rejects.add(str(target), "generate", f"{counts['rejected']} synthetic jobs rejected (see {target}/rejects.csv)")
        manifest = target
    pool = SampleSet.from_manifest(manifest, classes=classes, rejects=rejects)
    if len(pool) and not pool.table["synthetic"].all():
        raise MexkitInputError(manifest, "the synthetic manifest holds rows that are not synthetic",
                               "point synthetic.manifest at a `mexkit generate` output folder", stage="config")
    return pool
