"""The schema of recognition experiment configs (`mexkit recog loso`, `mexkit study`) and what they build:
samples, synthetic sets and model templates.

The schema is a jsonargparse parser, the dialect LightningCLI reads: anything built from a class is
`class_path` / `init_args` (the recognizer), the rest are typed sections, so an unknown key or a
wrong type fails with a MexkitInputError naming the file. Sections:
    data:       corpus: true | manifest: PATH (+ root, label_map, align, cache) | datasets: {adapter name: root, ...}
                (released datasets read by their adapters now, one composite; + label_map, align, cache) |
                parametric: {num_subjects, per_subject, resolution, num_frames, seed} (the stand-in set); classes: [...]
    synthetic:  (study) manifest: PATH (the writer's folder or manifest.csv) | generate: {generator, faces,
                per_face, classes, intensity, seed, duration_ms, fps, out} | cross_fit: {recipe, groups,
                per_face, classes, intensity, seed, trainer_args, checkpoint_every}; select: other-subjects | given
    model:      {class_path, init_args} — or models: {name: {model: {class_path, init_args}, feature}, ...};
                init_args.target: aus makes a run learn and score the 12 MEB action units (AU-F1) instead of
                the classes (every model of a config shares one target; `config_target`)
    feature:    default feature of every model ({kind, ...params}; else the model's input_kind)
    loso:       {unit ("subject" | "dataset" — leave one dataset out — | a table column), seed, folds};  study: {n_boot}
    out:        output folder (runs/… is git-ignored)
Files are found and read by `mexkit.configs` (`config_path`, `read_config`): a path or a shipped config's name.
"""
from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Optional, Sequence, Union

import pandas as pd

from mexkit.datasets.label_maps import MEGC_CLASSES
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .samples import SampleSet


class Recognizer(abc.ABC):
    """What a `class_path` of a model section must name: any estimator with fit / predict / get_params
    (a DeepRecognizer, a scikit-learn classifier such as LBPTOPSVM)."""

    @classmethod
    def __subclasshook__(cls, other: type) -> bool:
        if all(callable(getattr(other, m, None)) for m in ("fit", "predict", "get_params")):
            return True
        return NotImplemented


@dataclass
class ParametricSection:
    """The MEGC-shaped stand-in set (`mexkit.recog.parametric_set`: real corpus faces, class-specific smooth
    warps — NOT micro-expression data), made scarce and written under OUT/real as frame folders + manifest."""

    num_subjects: int = 68
    per_subject: int = 2
    resolution: int = 64
    num_frames: int = 9
    seed: int = 0


@dataclass
class DataSection:
    """The real samples: the embedded corpus, a manifest (+ its root, label map, alignment, cache), or the
    parametric stand-in set."""

    corpus: bool = False
    parametric: Optional[ParametricSection] = None
    manifest: Optional[str] = None
    datasets: Optional[dict[str, str]] = None
    root: Optional[str] = None
    label_map: str = "native"
    align: Optional[str] = None
    cache: Optional[str] = None
    classes: list[str] = field(default_factory=lambda: list(MEGC_CLASSES))


@dataclass
class GenerateSection:
    """Synthetic clips made now with the writer (resumable)."""

    generator: str = "warp"
    faces: str = "corpus"
    per_face: int = 3
    classes: Optional[list[str]] = None
    intensity: Union[str, tuple[float, float]] = (0.2, 0.6)
    seed: int = 0
    duration_ms: float = 400.0
    fps: float = 40.0
    out: Optional[str] = None


@dataclass
class CrossFitSection:
    """Cross-fitted learned generators (`mexkit.recog.cross_fit`): the real subjects in `groups` disjoint
    groups, generator k trained with `recipe` (any `mexkit train` YAML) on the subjects outside group k and
    used only for the folds whose held-out subject is in group k. trainer_args pass to LightningCLI
    (e.g. ["--trainer.accelerator=gpu", "--trainer.precision=bf16-mixed"])."""

    recipe: str = "mocogan_crossfit"
    groups: int = 4
    per_face: int = 6
    classes: Optional[list[str]] = None
    intensity: Union[str, tuple[float, float]] = "0.3:0.8"
    seed: int = 0
    trainer_args: list[str] = field(default_factory=list)
    checkpoint_every: int = 0


@dataclass
class SyntheticSection:
    """The study's synthetic pool: a writer manifest, clips generated now, or cross-fitted generators; and
    how folds take from it."""

    manifest: Optional[str] = None
    generate: Optional[GenerateSection] = None
    cross_fit: Optional[CrossFitSection] = None
    select: Literal["other-subjects", "given"] = "other-subjects"


@dataclass
class ModelEntry:
    """One named model of `models:`: the recognizer and, optionally, its feature."""

    model: Recognizer
    feature: Optional[dict[str, Any]] = None


@dataclass
class LosoSection:
    unit: str = "subject"
    seed: int = 0
    folds: Optional[list[str]] = None


@dataclass
class StudySection:
    n_boot: int = 2000


@lru_cache(maxsize=1)
def experiment_parser():
    """The jsonargparse parser of recognition / study configs (`--config FILE`, then the sections)."""
    from jsonargparse import ActionConfigFile, ArgumentParser

    p = ArgumentParser(prog="mexkit recog|study", exit_on_error=False, description=__doc__)
    p.add_argument("--config", action=ActionConfigFile, help="YAML config file")
    p.add_argument("--data", type=DataSection, default=DataSection())
    p.add_argument("--synthetic", type=Optional[SyntheticSection], default=None)
    p.add_argument("--model", type=Optional[Recognizer], default=None, help="one recognizer (class_path / init_args)")
    p.add_argument("--models", type=Optional[dict[str, ModelEntry]], default=None, help="several named recognizers")
    p.add_argument("--feature", type=Optional[dict[str, Any]], default=None, help="default feature {kind, ...}")
    p.add_argument("--loso", type=LosoSection, default=LosoSection())
    p.add_argument("--study", type=StudySection, default=StudySection())
    p.add_argument("--out", type=Optional[str], default=None, help="output folder")
    return p


def _parse(path: str | Path, overrides: Sequence[str] = ()):
    from mexkit.configs import config_path, read_config

    p = config_path(path)
    ns = read_config(experiment_parser(), p, override_args(overrides, p))
    if ns.model is None and not ns.models:
        raise MexkitInputError(p, "no `model` (or `models`) section",
                               "add model: {class_path: mexkit.recog.ststnet.STSTNet, init_args: {...}}", stage="config")
    if ns.model is not None and ns.models:
        raise MexkitInputError(p, "both `model` and `models` are given", "keep one of them", stage="config")
    return p, ns


def override_args(overrides: Sequence[str], path: Path | None = None) -> list[str]:
    """`KEY=VALUE` settings (`--set data.manifest=runs/m.csv`) as jsonargparse arguments (`--data.manifest=…`)."""
    args = []
    for item in overrides:
        key, eq, value = str(item).partition("=")
        if not eq or not key.strip():
            raise MexkitInputError(path, f"--set {item!r} is not KEY=VALUE", "write e.g. --set data.manifest=runs/casme2/manifest.csv", stage="config")
        args.append(f"--{key.strip()}={value}")
    return args


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Read and check an experiment config (a path, or the name of a shipped config such as
    "study_corpus_warp"), with `overrides` (KEY=VALUE, dotted keys) applied: a dict of its sections with
    every default filled in, and `_path`."""
    p, ns = _parse(path, overrides)
    ns.pop("config", None)
    cfg = ns.as_dict()
    cfg["_path"] = str(p)
    from .features import check_experiment_features

    check_experiment_features(cfg, str(p))  # a bad feature key or value: said before any data is read (issue 26)
    return cfg


def print_config(path: str | Path, overrides: Sequence[str] = ()) -> str:
    """The resolved config as YAML (every default filled in), as `--print_config` shows it."""
    _, ns = _parse(path, overrides)
    ns.pop("config", None)
    return experiment_parser().dump(ns)


def _spec_dict(spec: Any) -> dict[str, Any]:
    spec = spec.as_dict() if hasattr(spec, "as_dict") else dict(spec)
    return {"class_path": spec.get("class_path", ""), "init_args": dict(spec.get("init_args") or {})}


def build_model(spec: dict[str, Any], where: str = "config") -> Any:
    """A model template from {class_path, init_args} (as `model_specs` gives them)."""
    spec = _spec_dict(spec)
    path = spec["class_path"]
    if "." not in path:
        raise MexkitInputError(where, f"model class_path {path!r} is not a module path", "use e.g. mexkit.recog.ststnet.STSTNet", stage="config")
    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise MexkitInputError(where, f"cannot import model {path!r} ({err})", "check class_path", stage="config") from None
    try:
        return cls(**spec["init_args"])
    except TypeError as err:
        raise MexkitInputError(where, f"bad init_args for {path} ({err})", "check the argument names against the class", stage="config") from None


def _default_name(class_path: str) -> str:
    """"mexkit.recog.lbptop_svm.LBPTOPSVM" → "lbptop_svm" (the module, when it names the class), else the class name."""
    module, _, cls = class_path.rpartition(".")
    stem = module.rpartition(".")[2]
    return stem if stem.replace("_", "").lower() == cls.lower() else cls.lower()


def model_specs(cfg: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{name: {class_path, init_args, feature}} from `models:` or the single `model:` section."""
    if cfg.get("models"):
        return {str(k): {**_spec_dict(v["model"]), "feature": v.get("feature")} for k, v in cfg["models"].items()}
    if cfg.get("model"):
        spec = _spec_dict(cfg["model"])
        return {_default_name(spec["class_path"]) or "model": {**spec, "feature": None}}
    raise MexkitInputError(cfg.get("_path"), "no `model` (or `models`) section", "add model: {class_path: ..., init_args: {...}}", stage="config")


def model_feature(cfg: dict[str, Any], spec: dict[str, Any]) -> dict | None:
    """The model's feature: its own, else the config's default `feature`, else None (its input_kind)."""
    feat = spec.get("feature") or cfg.get("feature")
    return dict(feat) if feat else None


def config_target(cfg: dict[str, Any]) -> str:
    """The run's target: "aus" when its models learn action units (init_args.target: aus), else "class".
    Models of one config must agree (their results are compared on one metric)."""
    targets = {name: str((spec.get("init_args") or {}).get("target", "class")) for name, spec in model_specs(cfg).items()}
    kinds = set(targets.values())
    if len(kinds) > 1:
        raise MexkitInputError(cfg.get("_path"), f"models learn different targets ({targets})",
                               "give every model the same init_args.target (class or aus), or split the config", stage="config")
    target = kinds.pop()
    if target not in ("class", "aus"):
        raise MexkitInputError(cfg.get("_path"), f"init_args.target {target!r} is not class or aus", "set target: class or target: aus", stage="config")
    return target


def parametric_manifest(cfg: dict[str, Any], out: Path) -> Path:
    """Write (once) the `data.parametric` stand-in set under OUT/real; returns its manifest path."""
    from mexkit.datasets import load_corpus

    from .cross_fit import write_clip_folder
    from .parametric_set import megc_counts, parametric_clips, scarce_clips

    p = {**ParametricSection().__dict__, **(cfg["data"].get("parametric") or {})}
    root = Path(out) / "real"
    if (root / "manifest.csv").is_file():
        return root / "manifest.csv"
    clips = parametric_clips(load_corpus().faces, num_subjects=int(p["num_subjects"]), counts=megc_counts(int(p["num_subjects"])), size=int(p["resolution"]),
                             num_frames=int(p["num_frames"]), seed=int(p["seed"]))
    return write_clip_folder(scarce_clips(clips, int(p["per_subject"]), int(p["seed"])), root)


def load_real(cfg: dict[str, Any], rejects: RejectLog | None = None, out: str | Path | None = None) -> SampleSet:
    """The real samples of the `data` section (`out`: where a parametric stand-in set is written). With AU
    targets (`config_target`) every row is kept whatever its label (data.classes does not filter)."""
    data = cfg.get("data") or {}
    classes = None if config_target(cfg) == "aus" else tuple(data.get("classes") or MEGC_CLASSES)
    if data.get("corpus"):
        return SampleSet.from_corpus(classes=classes, rejects=rejects)
    if data.get("parametric"):
        if out is None:
            raise ValueError("a parametric data section needs the output folder")
        return SampleSet.from_manifest(parametric_manifest(cfg, Path(out)), classes=classes, rejects=rejects)
    if data.get("manifest"):
        return SampleSet.from_manifest(data["manifest"], data.get("root"), classes, data.get("label_map") or "native",
                                       data.get("align"), data.get("cache"), rejects)
    if data.get("datasets"):
        return load_datasets(data["datasets"], classes, data.get("label_map") or "native", data.get("align"), data.get("cache"), rejects)
    raise MexkitInputError(cfg.get("_path"), "the data section names no samples",
                           "set data.corpus: true, data.manifest: PATH or data.datasets: {name: root}", stage="config")


def load_datasets(roots: dict[str, str], classes: tuple[str, ...] | None, label_map: str = "native", align: str | None = None,
                  cache: str | None = None, rejects: RejectLog | None = None) -> SampleSet:
    """Released datasets read now by their adapters (name → root, e.g. the six of MEB's benchmark) as one
    composite SampleSet: each dataset's manifest (its rejects logged), clips read from its own root.
    classes=None keeps every row (the classes are the union of the labels found)."""
    from mexkit.datasets import make_adapter

    manifests = {}
    for name, root in roots.items():
        try:
            manifests[name] = (make_adapter(name, root).manifest(rejects), Path(root))
        except ValueError as err:  # an unknown adapter name
            raise MexkitInputError(None, f"data.datasets: {err}", "use adapter names (mexkit datasets check --help lists them)", stage="config") from None
    if classes is None:
        labels = {str(v) for m, _ in manifests.values() for v in m["label"] if not pd.isna(v)}
        classes = tuple(sorted(labels | ({""} if any(m["label"].isna().any() for m, _ in manifests.values()) else set())))
    sets = [SampleSet.from_manifest(m, root, classes, label_map, align, cache, rejects) for m, root in manifests.values()]
    return SampleSet.concat(sets)


def cross_fit_pools(cfg: dict[str, Any], real: SampleSet, out: Path, progress: bool = True):
    """The `synthetic.cross_fit` section run (resumable): fold → its generator's SampleSet, and the
    CrossFitResult (groups, folders, seconds per group)."""
    from .cross_fit import CrossFit

    spec = {**CrossFitSection().__dict__, **{k: v for k, v in cfg["synthetic"]["cross_fit"].items() if v is not None}}
    fit = CrossFit(recipe=spec["recipe"], groups=int(spec["groups"]), seed=int(spec["seed"]), per_face=int(spec["per_face"]),
                   classes=tuple(spec["classes"] or real.classes), intensity=spec["intensity"],
                   trainer_args=tuple(spec["trainer_args"]), checkpoint_every=int(spec["checkpoint_every"]),
                   align=(cfg.get("data") or {}).get("align"))
    table, root = real_manifest(cfg, out)
    result = fit.run(table, root, out, progress=progress)
    return result.fold_pools(real, real.classes), result


def real_manifest(cfg: dict[str, Any], out: Path) -> tuple[pd.DataFrame, Path]:
    """The real set's manifest table and its root, for the generators cross-fitting trains."""
    data = cfg.get("data") or {}
    if data.get("parametric"):
        path = parametric_manifest(cfg, Path(out))
        root = path.parent
    elif data.get("manifest"):
        path = Path(data["manifest"])
        path = path / "manifest.csv" if path.is_dir() else path
        root = Path(data["root"]) if data.get("root") else path.parent
    else:
        raise MexkitInputError(cfg.get("_path"), "synthetic.cross_fit trains generators on the real set's clips, which needs a manifest",
                               "set data.manifest: PATH (a `mexkit datasets prepare` output) or data.parametric", stage="config")
    table = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"subject": str, "sample_id": str})
    if (data.get("label_map") or "native") != "native":  # the rows and labels the study's SampleSet has
        from mexkit.datasets.label_maps import map_labels

        table = map_labels(table, data["label_map"])
    classes = list(data.get("classes") or MEGC_CLASSES)
    return table[table["label"].astype(str).isin(classes)].reset_index(drop=True), root


def load_synthetic(cfg: dict[str, Any], out: Path, classes: tuple[str, ...], rejects: RejectLog | None = None,
                   manifest: str | Path | None = None, progress: bool = True) -> SampleSet:
    """The synthetic pool of the `synthetic` section: a writer manifest, or generated now with the
    writer (resumable: a rerun reuses the finished clips). `classes`: the classes to generate (and, for a
    class target, to keep)."""
    syn = cfg.get("synthetic") or {}
    manifest = manifest or syn.get("manifest")
    if manifest is None:
        gen = syn.get("generate")
        if not gen:
            raise MexkitInputError(cfg.get("_path"), "the synthetic section names no clips", "set synthetic.manifest: DIR or synthetic.generate: {...}", stage="config")
        gen = {**GenerateSection().__dict__, **{k: v for k, v in gen.items() if v is not None}}
        from mexkit.synth.writer import generate_dataset

        target = Path(gen["out"] or out / "synthetic")
        counts = generate_dataset(gen["generator"], gen["faces"], target, classes=tuple(gen["classes"] or classes),
                                  intensity=gen["intensity"], per_face=int(gen["per_face"]), seed=int(gen["seed"]),
                                  duration_ms=float(gen["duration_ms"]), fps=float(gen["fps"]), progress=progress)
        if counts.get("rejected") and rejects is not None:
            rejects.add(str(target), "generate", f"{counts['rejected']} synthetic jobs rejected (see {target}/rejects.csv)")
        manifest = target
    pool = SampleSet.from_manifest(manifest, classes=None if config_target(cfg) == "aus" else classes, rejects=rejects)
    if len(pool) and not pool.table["synthetic"].all():
        raise MexkitInputError(manifest, "the synthetic manifest holds rows that are not synthetic",
                               "point synthetic.manifest at a `mexkit generate` output folder", stage="config")
    return pool
