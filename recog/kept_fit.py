"""`mexkit recog fit`'s library side: one kept recognizer from a `recog loso` / `study` config.

The config is read by the same schema (`experiment.load_config`), its model built by the same
`experiment.build_model`, its rows loaded by `experiment.load_real` / `load_synthetic`; the model is
fitted on ALL of them (real plus synthetic when the config's `synthetic:` section, or `synthetic`
manifests given here, name clips) with `kept.fit_kept`. Before anything is fitted, the leakage gate's
provenance checks run on every row (synthetic rows need known source subjects and train_subjects).
Optionally: held-out-subject figures of the same recipe (`kept_heldout`), and the LOSO figures of the
same config read from a `recog loso` output, checked to be of the same model and feature.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from mexkit.configs import config_label
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .kept import KeptRecognizer, fit_kept, full_feature, prepare_rows
from .kept_heldout import HeldoutResult, heldout_subjects

# Real rows of these datasets are not micro-expression data: a model that saw only them (and synthetic
# clips) says so on its card.
NOT_MICRO_EXPRESSION_DATASETS = frozenset({"corpus", "parametric"})
_SEED_PARAMS = ("seed", "random_state", "num_classes")


@dataclass
class FitRun:
    """kept: the fitted recognizer (its `training` filled in); samples: the rows it saw (features
    computed); heldout: held-out-subject figures or None; files: extra files for the model folder."""

    kept: KeptRecognizer
    samples: Any
    heldout: HeldoutResult | None = None
    files: dict[str, str] = field(default_factory=dict)


def _spec_target(spec: dict[str, Any]) -> str:
    return "aus" if (spec.get("init_args") or {}).get("target") == "aus" else "class"


def choose_models(cfg: dict[str, Any], recognizers: Sequence[str] | str | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """{head: (name, spec)} of the recognizers to fit — one per head: "class" (a class model) and / or
    "aus" (a model with init_args target: aus). Without names: the config's only model, or its class model
    and its AU model when `models:` holds exactly one of each; else the ones named (at most one per head)."""
    from .experiment import model_specs

    specs = model_specs(cfg)
    names = [recognizers] if isinstance(recognizers, str) else list(recognizers or [])
    where = cfg.get("_path")
    if not names:
        by_head: dict[str, list[str]] = {}
        for name, spec in specs.items():
            by_head.setdefault(_spec_target(spec), []).append(name)
        if len(specs) > 1 and any(len(v) > 1 for v in by_head.values()):
            raise MexkitInputError(where, f"the config has {len(specs)} recognizers ({', '.join(specs)}); fit trains one per head "
                                          "(a class model and / or an AU model)",
                                   f"pass --recognizer NAME (one of {', '.join(specs)}; twice for a class and an AU model)", stage="config")
        names = [v[0] for v in by_head.values()]
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in names:
        if name not in specs:
            raise MexkitInputError(where, f"no recognizer {name!r} in the config", f"choose from {', '.join(specs)}", stage="config")
        head = _spec_target(specs[name])
        if head in out:
            raise MexkitInputError(where, f"--recognizer {out[head][0]} and {name} are both {head} models; a model folder holds one per head",
                                   "name one class model and at most one AU model", stage="config")
        out[head] = (name, specs[name])
    return out


def _comparable_params(params: dict[str, Any]) -> dict[str, Any]:
    from .model_folder import json_safe

    return json_safe({k: v for k, v in params.items() if k not in _SEED_PARAMS})


def read_loso_results(folder: str | Path, name: str, template: Any, feature: dict[str, Any], classes: Sequence[str] | None,
                      explicit: bool = True) -> dict[str, Any] | None:
    """The LOSO figures of a `recog loso` output for recognizer `name` (FOLDER/NAME/ or FOLDER itself when it
    holds result.json), checked to be of the same model (constructor arguments other than the seed),
    feature and classes. explicit: a missing or mismatched result raises; otherwise None."""
    folder = Path(folder)
    run = folder if (folder / "result.json").is_file() else folder / name

    def fail(path: Path, reason: str) -> None:
        if explicit:
            raise MexkitInputError(path, reason, "point --loso-results at the `mexkit recog loso` output of this same config "
                                                 "(its --out folder)", stage="loso-results")

    if not (run / "result.json").is_file() or not (run / "summary.csv").is_file():
        return fail(folder, f"no LOSO result of recognizer {name!r} here (looked for {run}/result.json and summary.csv)")
    try:
        result = json.loads((run / "result.json").read_text())
        summary = pd.read_csv(run / "summary.csv").iloc[0].to_dict()
    except (ValueError, IndexError, OSError) as err:
        return fail(run, f"cannot read the LOSO result ({err})")
    ours = _comparable_params(template.get_params(deep=False))
    theirs = _comparable_params(result.get("model_params") or {})
    if ours != theirs:
        diff = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
        return fail(run / "result.json", f"the LOSO run is of another model: {diff} differ ({ {k: theirs.get(k) for k in diff} } there, "
                                         f"{ {k: ours.get(k) for k in diff} } here)")
    given = {k: v for k, v in (result.get("feature") or {}).items() if k != "method_used"}
    try:
        same_feature = full_feature(given) == feature
    except (ValueError, KeyError):
        same_feature = False
    if not same_feature:
        return fail(run / "result.json", f"the LOSO run used another feature ({given}; this fit: {feature})")
    if classes is not None and list(result.get("classes") or []) != list(classes):
        return fail(run / "result.json", f"the LOSO run has classes {result.get('classes')}, this fit {list(classes)}")
    keep = ("samples", "folds", "uf1", "uar", "accuracy", "uf1_fold_mean", "uf1_fold_std", "uar_fold_mean", "uar_fold_std",
            "au_f1", "au_macro_f1", "au_f1_fold_mean", "au_macro_f1_fold_mean", "all_on_au_f1")
    return {"source": str(run), "seed": result.get("seed"), "unit": result.get("unit"), "folds": summary.get("folds"),
            "summary": {k: (float(summary[k]) if k not in ("samples", "folds") else int(summary[k])) for k in keep if k in summary}}


def card_notes(table: pd.DataFrame) -> list[str]:
    """Plain warnings the model card must carry, computed from the training rows."""
    real = table[~table["synthetic"]]
    notes = []
    if not set(real["dataset"]) - NOT_MICRO_EXPRESSION_DATASETS:
        seen = ", ".join(sorted(set(real["dataset"]))) or "none"
        notes.append(f"This model never saw a real micro-expression dataset. Its real clips ({len(real)}; datasets: {seen}) are "
                     "not micro-expressions, and the rest are synthetic clips. Its figures below are on held-out faces of that "
                     "same material; they say nothing about real micro-expressions. Replace it with a model fitted on a real "
                     "release (docs/recipes.md).")
    return notes


def fit_from_config(config: str | Path, overrides: Sequence[str] = (), recognizer: Sequence[str] | str | None = None,
                    seed: int | None = None,
                    calibration: str = "none", calibration_folds: int = 5, synthetic: Sequence[str | Path] = (),
                    heldout: bool = False, loso_results: str | Path | None = None, work: str | Path | None = None,
                    au_head: bool = False,
                    rejects: RejectLog | None = None, progress: bool = True, out: str | Path | None = None,
                    command: str = "") -> FitRun:
    """Fit one kept recognizer as the module docstring says. work: where a parametric stand-in set or
    generated synthetic clips are written (default: the config's `out`, else runs/recog/fit). out: the
    model folder it will be saved to (its name and how to load it go on the card). au_head: beside the
    config's class model, the same recognizer with target="aus" learns the 12 AUs of the rows that have
    an AU target (a second head in the same folder, same feature)."""
    from .kept import PRETRAINED_DIR

    from .experiment import build_model, load_config, load_real, load_synthetic, model_feature
    from .leakage import check_training_rows
    from .loso import default_feature
    from .samples import SampleSet

    cfg = load_config(config, overrides)
    chosen = choose_models(cfg, recognizer)
    templates = {head: build_model(spec, cfg["_path"]) for head, (_, spec) in chosen.items()}
    features = {head: full_feature(model_feature(cfg, spec) or default_feature(templates[head])) for head, (_, spec) in chosen.items()}
    if len({json.dumps(f, sort_keys=True) for f in features.values()}) > 1:
        raise MexkitInputError(cfg["_path"], f"the class and AU models use different features ({features}); one model folder computes one",
                               "give both the same feature (the config's `feature:` section)", stage="config")
    main = "class" if "class" in chosen else "aus"
    rec_name, template, feature = chosen[main][0], templates[main], features[main]
    au_template = templates.get("aus") if main == "class" else None
    if au_head:
        if main != "class":
            raise MexkitInputError(cfg["_path"], f"{rec_name} already learns AUs (target: aus)", "drop --au-head", stage="config")
        spec = chosen["class"][1]
        au_template = build_model({"class_path": spec["class_path"], "init_args": {**spec["init_args"], "target": "aus"}}, cfg["_path"])
        templates["aus"] = au_template
    rejects = rejects if rejects is not None else RejectLog()
    work = Path(work or cfg.get("out") or "runs/recog/fit")
    data = cfg.get("data") or {}
    syn_cfg = cfg.get("synthetic") or {}
    if syn_cfg.get("cross_fit") and not synthetic:
        raise MexkitInputError(cfg["_path"], "synthetic.cross_fit makes one generator per LOSO fold group; a kept model has no folds",
                               "fit on a writer's clips instead: synthetic.manifest: DIR or synthetic.generate: {...} (or --synthetic DIR)",
                               stage="config")
    real = load_real(cfg, rejects, work)
    sets = [real]
    if synthetic:
        sets += [SampleSet.from_manifest(m, classes=real.classes, rejects=rejects) for m in synthetic]
    elif syn_cfg.get("manifest") or syn_cfg.get("generate"):
        sets.append(load_synthetic(cfg, work, real.classes, rejects, progress=progress))
    samples = SampleSet.concat(sets)
    check_training_rows(samples.table, set(), "fit", samples.namespace)  # provenance known, faces in the namespace
    seed = int(seed if seed is not None else (cfg.get("loso") or {}).get("seed", 0))
    samples = prepare_rows(samples, feature, rejects, progress)
    kept = fit_kept(samples, template, feature, seed, calibration, calibration_folds, align=data.get("align"), rejects=rejects,
                    progress=progress, au_template=au_template)
    run = FitRun(kept, samples)
    tr = kept.training
    shipped = out is not None and Path(out).resolve().parent == PRETRAINED_DIR.resolve()
    tr.update(name=Path(out).name if out else rec_name, use_name=(Path(out).name if shipped else str(out)) if out else "",
              recognizer=" + ".join(name for name, _ in chosen.values()), config=config_label(cfg["_path"]), overrides=list(overrides), command=command,
              recipe={k: v for k, v in cfg.items() if not k.startswith("_")}, card_notes=card_notes(samples.table),
              rejected_rows=len(rejects))
    if data.get("cache"):
        tr["cache"] = str(data["cache"])
    if heldout:
        run.heldout = heldout_subjects(samples, template, feature, seed, calibration, calibration_folds, progress=progress,
                                       au_template=au_template)
        tr["heldout"] = run.heldout.summary()
        run.files.update(run.heldout.files())
    loso_dir = loso_results or (Path(cfg["out"]) if cfg.get("out") else None)
    if loso_dir is not None:
        for head, (name, _) in chosen.items():
            found = read_loso_results(loso_dir, name, templates[head], feature, real.classes if head == "class" else None,
                                      explicit=loso_results is not None)
            if found:
                tr["loso" if head == main else f"loso_{head}"] = found
    cols = [c for c in ("sample_id", "subject", "label", "dataset", "synthetic", "generator", "source_subject", "train_subjects",
                        "driving_subject", "au_target") if c in samples.table.columns]
    run.files["training_rows.csv"] = samples.table[cols].to_csv(index=False)
    if len(rejects):
        buf = pd.DataFrame(rejects.rows, columns=["file", "stage", "reason"]).to_csv(index=False)
        run.files["rejects.csv"] = buf
    return run
