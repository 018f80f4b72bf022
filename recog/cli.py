"""`mexkit recog loso --config ...` and `mexkit study --config ...` (registered by mexkit.cli).

The config is read with the experiment schema (`mexkit.recog.experiment`, jsonargparse as LightningCLI
reads it); `--print_config` prints it resolved (every default filled in) and exits.
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog


def _out(cfg: dict, args: argparse.Namespace, default: str) -> Path:
    """The output folder (--out, the config's `out`, or `default`), checked before anything is written."""
    from mexkit.path_checks import check_output_folder

    option = "--out" if args.out else f"out (in {cfg.get('_path') or 'the config'})" if cfg.get("out") else "--out (default)"
    return check_output_folder(args.out or cfg.get("out") or default, option)


def _check_inputs(cfg: dict, args: argparse.Namespace) -> None:
    """The manifests the run will read exist: said before the output folder is made."""
    from mexkit.errors import MexkitInputError

    data, syn = cfg.get("data") or {}, cfg.get("synthetic") or {}
    where = cfg.get("_path") or "the config"
    named = [] if data.get("corpus") or data.get("parametric") else [(f"data.manifest (in {where})", data.get("manifest"))]
    if data.get("datasets"):  # released datasets: known adapters, then each root a folder
        from mexkit.datasets.adapters import ADAPTERS, ALIASES
        from mexkit.path_checks import check_input_folder

        for name in data["datasets"]:
            if ALIASES.get(name.lower(), name.lower()) not in ADAPTERS:
                raise MexkitInputError(where, f"data.datasets: unknown dataset {name!r}", f"use adapter names: {', '.join(ADAPTERS)}", stage="config")
        for name, root in data["datasets"].items():
            check_input_folder(root, f"data.datasets.{name} (in {where})", f"point data.datasets.{name} at the released {name} folder "
                               f"(e.g. --set data.datasets.{name}=PATH)", stage="dataset")
    if hasattr(args, "synthetic"):
        named.append(("--synthetic", args.synthetic) if args.synthetic else (f"synthetic.manifest (in {where})", syn.get("manifest")))
    for option, value in named:
        if value and not Path(str(value)).exists():
            raise MexkitInputError(value, f"{option}: manifest not found", "pass a manifest CSV/Parquet (or the writer's output folder)",
                                   stage="manifest")


def _print_table(df: pd.DataFrame) -> None:
    with pd.option_context("display.width", 160, "display.max_columns", 30, "display.float_format", "{:.4f}".format):
        print(df.to_string(index=False))


def _threads(args: argparse.Namespace) -> None:
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(int(args.threads))


def _print_config(args: argparse.Namespace) -> int:
    from .experiment import print_config

    print(print_config(args.config, args.set), end="")
    return 0


def _start_run(args: argparse.Namespace, default_out: str):
    """What `recog loso` and `study` do first: threads, the config, its inputs checked, the output folder
    (made only then), its rejects log and the real set (a parametric stand-in set is written there).
    Returns (cfg, out, rejects, real)."""
    from .experiment import config_target, load_config, load_real

    _threads(args)
    cfg = load_config(args.config, args.set)
    config_target(cfg)  # models that disagree on their target: said before anything is made
    _check_inputs(cfg, args)
    out = _out(cfg, args, default_out)
    out.mkdir(parents=True, exist_ok=True)
    rejects = RejectLog(out / "rejects.csv")
    source = _data_source(cfg)
    with _naming(source, rejects):  # e.g. duplicate sample ids: say which manifest holds them
        real = load_real(cfg, rejects, out)
    unit = (cfg.get("loso") or {}).get("unit", "subject")
    if unit in real.table.columns:
        names = sorted(set(real.table.loc[~real.table["synthetic"].to_numpy(bool), unit].astype(str)))
        if len(names) < 2:
            why = f" ({len(rejects)} row(s) rejected, see {out / 'rejects.csv'})" if len(rejects) else ""
            raise MexkitInputError(source, f"LOSO needs at least two {unit}s with usable real samples, found {names}{why}",
                                   "add data from more subjects, or fix the rejected rows", stage="loso")
    return cfg, out, rejects, real


@contextmanager
def _naming(source: str, rejects: RejectLog):
    """A MexkitInputError that names no file (duplicate ids, a fold left with no samples once the bad rows
    were rejected) is re-raised naming `source`, the real set's manifest, and pointing at rejects.csv."""
    try:
        yield
    except MexkitInputError as err:
        if err.path:
            raise
        why = f" ({len(rejects)} row(s) rejected, see {rejects.path})" if len(rejects) and rejects.path else ""
        raise MexkitInputError(source, err.reason + why, err.fix, stage=err.stage) from None


def _data_source(cfg: dict) -> str:
    """What the real samples came from, for messages: data.manifest, else the config's data section."""
    data = cfg.get("data") or {}
    return str(data.get("manifest") or f"{cfg.get('_path') or 'the config'} (data section)")


def cmd_loso(args: argparse.Namespace) -> int:
    if args.print_config:
        return _print_config(args)
    from .experiment import build_model, model_feature, model_specs
    from .loso import run_loso

    cfg, out, rejects, real = _start_run(args, "runs/recog/loso")
    loso = cfg.get("loso") or {}
    seed = int(args.seed if args.seed is not None else loso.get("seed", 0))
    folds = args.folds.split(",") if args.folds else loso.get("folds")
    summaries = []
    for name, spec in model_specs(cfg).items():
        model = build_model(spec, cfg["_path"])
        with _naming(_data_source(cfg), rejects):
            res = run_loso(real, model, model_feature(cfg, spec), seed, loso.get("unit", "subject"), folds=folds,
                           out_dir=out / name, rejects=rejects, progress=not args.quiet, name=name)
        summaries.append(res.summary())
        print(f"\n{name}: per fold")
        _print_table(res.per_fold.drop(columns=["fit_seconds"]))
        if res.target == "aus":
            print(f"{name}: AU-F1 per AU, predictions of all folds pooled")
            _print_table(res.per_au[["au", "f1", "macro_f1", "support", "predicted"]])
            p, base = res.pooled, res.summary().iloc[0]
            print(f"{name}: AU-F1 {p['au_f1']:.4f}  AU macro F1 {p['au_macro_f1']:.4f}  (mean over the 12 AUs; "
                  f"all-AUs-on constant predictor on the same samples: AU-F1 {base['all_on_au_f1']:.4f}, macro {base['all_on_au_macro_f1']:.4f})")
        else:
            print(f"{name}: pooled confusion (rows true, columns predicted)")
            print(res.confusion.to_string())
    summary = pd.concat(summaries, ignore_index=True)
    summary.to_csv(out / "summary.csv", index=False)
    unit = loso.get("unit", "subject")
    what = "AU-F1, " if summary.columns.str.startswith("au_f1").any() else ""
    print(f"\n{'LODO' if unit == 'dataset' else 'LOSO'} summary ({what}pooled over folds, and fold means)")
    _print_table(summary)
    print(rejects.summary())
    print(f"results in {out}")
    return 0


def cmd_study(args: argparse.Namespace) -> int:
    if args.print_config:
        return _print_config(args)
    from .experiment import build_model, config_target, cross_fit_pools, load_synthetic, model_feature, model_specs
    from .study import run_study

    cfg, out, rejects, real = _start_run(args, "runs/study")
    timings = []
    if (cfg.get("synthetic") or {}).get("cross_fit") and not args.synthetic:
        pool, fit = cross_fit_pools(cfg, real, out, progress=not args.quiet)
        timings += [{"stage": f"{stage} generator {r.group}", "seconds": getattr(r, f"{stage}_s")}
                    for stage in ("train", "generate") for r in fit.timings.itertuples()]
        sets = {id(s): s for s in pool.values()}
        described = (f"{len(fit.groups)} cross-fitted generators, {sum(len(s) for s in sets.values())} clips "
                     f"({', '.join(str(len(s)) for s in sets.values())} per generator)")
    else:
        classes = tuple((cfg.get("data") or {}).get("classes") or real.classes) if config_target(cfg) == "aus" else real.classes
        pool = load_synthetic(cfg, out, classes, rejects, manifest=args.synthetic, progress=not args.quiet)
        described = (f"{len(pool)} clips from {pool.table['source_subject'].nunique()} subjects "
                     f"({', '.join(sorted(set(pool.table['generator'])))})")
    loso = cfg.get("loso") or {}
    study = cfg.get("study") or {}
    seed = int(args.seed if args.seed is not None else loso.get("seed", 0))
    n_boot = int(args.n_boot if args.n_boot is not None else study.get("n_boot", 2000))
    select = (cfg.get("synthetic") or {}).get("select", "other-subjects")
    print(f"real: {len(real)} samples of {len(real.subjects)} subjects; synthetic pool: {described}")
    summaries, folds, effects = [], [], []
    for name, spec in model_specs(cfg).items():
        model = build_model(spec, cfg["_path"])
        t0 = time.perf_counter()
        with _naming(_data_source(cfg), rejects):
            res = run_study(real, pool, model, model_feature(cfg, spec), seed, loso.get("unit", "subject"), select, n_boot,
                            out_dir=out / name, rejects=rejects, progress=not args.quiet, name=name)
        summaries.append(res.summary)
        folds.append(res.folds.assign(model=name))
        effects.append(res.effects)
        timings.append({"stage": f"study {name} (both arms)", "seconds": time.perf_counter() - t0})
        print(f"\n{name}: per fold (real vs real + synthetic)")
        _print_table(res.folds)
    summary = pd.concat(summaries, ignore_index=True)
    summary.to_csv(out / "study_summary.csv", index=False)
    folds = pd.concat(folds, ignore_index=True)
    folds.to_csv(out / "study_folds.csv", index=False)
    timings = pd.DataFrame(timings)
    timings.to_csv(out / "timings.csv", index=False)
    print("\nAugmentation study (pooled; diff = real+synthetic − real; 95% bootstrap CI over samples; Wilcoxon over folds)")
    _print_table(summary.drop(columns=["note"]))
    for note in sorted(set(summary["note"]) - {""}):
        print(f"note: {note}")
    print(rejects.summary())
    if args.wandb:
        _track_study(out, cfg, {"study_summary": summary, "study_folds": folds, "study_effects": pd.concat(effects, ignore_index=True),
                                "timings": timings}, pool)
    print(f"results in {out}")
    return 0


def _track_study(out: Path, cfg: dict, tables: dict[str, pd.DataFrame], pool, n_gifs: int = 4) -> None:
    """`mexkit study --wandb`: one wandb run under <out>/wandb/ (offline unless WANDB_MODE is set): the
    config, the pooled and fold-mean results and effects as metrics, the tables, a few synthetic clips as
    GIFs, and the study's report files (CSVs, per-model summaries and plots) as an artifact."""
    from mexkit import tracking

    run = tracking.start_run(out, f"study {Path(str(cfg.get('_path') or 'config')).stem}", job_type="study",
                             config={k: v for k, v in cfg.items() if not k.startswith("_")})
    try:
        metrics = tracking.row_metrics(tables["study_summary"], ["model", "metric"], prefix="study/")
        metrics.update(tracking.row_metrics(tables["study_effects"], ["model", "metric", "scope"], prefix="effects/"))
        run.log(metrics)
        tracking.log_tables(run, tables)
        sets = list({id(s): s for s in pool.values()}.values()) if isinstance(pool, dict) else [pool]
        samples = []
        for part in sets:
            for i in range(len(part)):
                if len(samples) >= n_gifs:
                    break
                try:
                    clip = part.clip(i)
                except Exception:  # an unreadable clip is the study's business (rejects.csv), not the log's
                    continue
                samples.append((f"synthetic_{len(samples)}", clip.frames[:64], float(clip.fps or 25.0),
                                f"{clip.sample_id} ({clip.label or 'unlabelled'})"))
        tracking.log_gifs(run, samples)
        files = [out / f for f in ("study_summary.csv", "study_folds.csv", "timings.csv", "rejects.csv")]
        for name in dict.fromkeys(tables["study_summary"]["model"]):
            files += sorted(p for p in (out / name).glob("*") if p.is_file() and (p.name.startswith("study") or p.suffix == ".png"))
        tracking.log_files_artifact(run, files, "study-report", "report", root=out, description="mexkit study results and plots")
    finally:
        tracking.finish_run(run)


def _fit_command(args: argparse.Namespace) -> str:
    """The command line that made a model (for its card)."""
    parts = ["mexkit recog fit --config", str(args.config), "--out", str(args.out)]
    for name in args.recognizer or []:
        parts += ["--recognizer", name]
    for opt in ("seed", "loso_results"):
        if getattr(args, opt) is not None:
            parts += [f"--{opt.replace('_', '-')}", str(getattr(args, opt))]
    if args.calibration != "none":
        parts += ["--calibration", args.calibration, "--calibration-folds", str(args.calibration_folds)]
    parts += [x for s in args.synthetic for x in ("--synthetic", str(s))] + [x for s in args.set for x in ("--set", s)]
    return " ".join(parts + (["--au-head"] if args.au_head else []) + (["--heldout"] if args.heldout else []))


def cmd_fit(args: argparse.Namespace) -> int:
    """`mexkit recog fit`: one kept recognizer on every row the config names, written as a model folder."""
    if args.print_config:
        return _print_config(args)
    from mexkit.errors import MexkitInputError
    from mexkit.path_checks import check_input_folder, check_output_folder

    from .experiment import load_config
    from .kept_fit import choose_models, fit_from_config
    from .model_folder import CONFIG_FILE

    _threads(args)
    cfg = load_config(args.config, args.set)
    choose_models(cfg, args.recognizer)
    args.synthetic = list(args.synthetic or [])
    _check_inputs(cfg, argparse.Namespace(synthetic=None) if not args.synthetic else argparse.Namespace())
    for s in args.synthetic:
        if not Path(s).exists():
            raise MexkitInputError(s, "--synthetic: manifest not found", "pass a `mexkit generate` output folder or its manifest.csv", stage="manifest")
    if args.loso_results:
        check_input_folder(args.loso_results, "--loso-results", "pass the --out folder of `mexkit recog loso` on the same config")
    out = check_output_folder(args.out, "--out")
    if out.is_dir() and any(out.iterdir()) and not (out / CONFIG_FILE).is_file():
        raise MexkitInputError(out, "--out: exists and is not a model folder (no config.json); refusing to replace it",
                               "give --out a new folder or an earlier model folder", stage="output")
    rejects = RejectLog()
    run = fit_from_config(args.config, args.set, args.recognizer, args.seed, args.calibration, args.calibration_folds, args.synthetic,
                          args.heldout, args.loso_results, rejects=rejects, progress=not args.quiet, out=out, au_head=args.au_head,
                          command=_fit_command(args))
    run.kept.save(out, files=run.files)
    tr = run.kept.training
    heads = ", ".join(f"{h} head {i['class_path'].rpartition('.')[2]} ({i['score_kind']} scores)" for h, i in run.kept.head_info.items())
    print(f"fitted {tr['recognizer']} on {run.kept.feature['kind']}: {heads}; {tr['rows']} rows ({tr['rows_real']} real, "
          f"{tr['rows_synthetic']} synthetic) of {len(tr['subjects'])} people")
    if run.heldout is not None:
        print("held-out people (pooled):")
        if len(run.heldout.pooled):
            _print_table(run.heldout.pooled)
        if run.heldout.pooled_aus is not None:
            _print_table(run.heldout.pooled_aus)
    if tr.get("loso"):
        print(f"LOSO figures of the same config read from {tr['loso']['source']}")
    print(rejects.summary())
    print(f"model in {out}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """`mexkit recog predict`: one row per clip (class, scores, AUs) into --out; bad clips into rejects.csv beside it."""
    from mexkit.atomic import atomic_write_text
    from mexkit.path_checks import check_output_file, csv_with_columns

    from .kept import load_recognizer
    from .predict_inputs import load_inputs, open_clip_inputs

    _threads(args)
    out = check_output_file(args.out, "--out", own=csv_with_columns("sample_id", "input", "label"))  # only an earlier predictions.csv is replaced
    rejects_path = check_output_file(out.parent / "rejects.csv", "rejects.csv (beside --out)", own=csv_with_columns("file", "stage", "reason"))
    rec = load_recognizer(args.model)
    rejects = RejectLog()
    inputs = open_clip_inputs(args.clips, align=args.align or rec.input.get("align"), resolution=int(rec.input.get("resolution") or 128),
                              root=args.root, rejects=rejects)
    table = rec.predict_clips(load_inputs(inputs, rejects), rejects=rejects, progress=not args.quiet)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, table.to_csv(index=False))
    if len(rejects) or rejects_path.exists():
        rejects.save(rejects_path)
    print(f"{len(table)} of {len(inputs)} clips predicted ({rec.score_kind} scores) → {out}")
    if len(rejects):
        print(rejects.summary())
    return 0


def register(subparsers) -> None:
    recog = subparsers.add_parser("recog", help="micro-expression recognizers: leave-one-subject-out evaluation; fit, keep and predict")
    sub = recog.add_subparsers(dest="recog_command", metavar="SUBCOMMAND")
    p = sub.add_parser("loso", help="LOSO evaluation of the recognizers in a config (per-fold CSV, pooled UF1/UAR, confusion)")
    p.add_argument("--config", required=True, help="YAML config: a path or a shipped config's name (e.g. recog_ststnet_corpus)")
    p.add_argument("--out", help="output folder (default: the config's `out`)")
    p.add_argument("--seed", type=int, help="run seed (default: the config's loso.seed)")
    p.add_argument("--folds", help="comma-separated held-out subjects to run (default: all)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's; 1 is as fast for these small models)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--print_config", action="store_true", help="print the resolved config (YAML) and exit")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (dotted key, repeatable), e.g. --set data.manifest=runs/casme2/manifest.csv")
    p.set_defaults(func=cmd_loso)
    recog.set_defaults(func=lambda args: recog.print_help() or 0)

    s = subparsers.add_parser("study", help="augmentation study: real vs real + synthetic on identical LOSO folds")
    s.add_argument("--config", required=True, help="YAML config: a path or a shipped config's name (e.g. study_corpus_warp)")
    s.add_argument("--out", help="output folder (default: the config's `out`)")
    s.add_argument("--synthetic", help="synthetic manifest or `mexkit generate` output folder (overrides the config)")
    s.add_argument("--seed", type=int, help="run seed (default: the config's loso.seed)")
    s.add_argument("--n-boot", type=int, help="bootstrap resamples (default: the config's study.n_boot or 2000)")
    s.add_argument("--threads", type=int, help="torch threads (default: torch's; 1 is as fast for these small models)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.add_argument("--wandb", action="store_true",
                   help="also log to wandb, offline unless WANDB_MODE is set (no login): results and effects, tables, synthetic "
                        "GIFs and the result files as an artifact, under <out>/wandb/")
    s.add_argument("--print_config", action="store_true", help="print the resolved config (YAML) and exit")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (dotted key, repeatable), e.g. --set data.manifest=runs/casme2/manifest.csv")
    s.set_defaults(func=cmd_study)

    f = sub.add_parser("fit", help="fit ONE recognizer of a config on all its rows and write a model folder (config.json, weights, card)")
    f.add_argument("--config", required=True, help="YAML config (as for recog loso): a path or a shipped config's name (e.g. recog_mexkit_demo)")
    f.add_argument("--out", required=True, help="the model folder to write (e.g. models/NAME); an earlier model folder there is replaced")
    f.add_argument("--recognizer", action="append", metavar="NAME",
                   help="which recognizer of the config's `models:` to fit (repeatable: a class model and an AU model, one folder)")
    f.add_argument("--seed", type=int, help="model seed (default: the config's loso.seed)")
    f.add_argument("--calibration", choices=["none", "sigmoid"], default="none",
                   help="sigmoid: Platt-calibrated probabilities (prob_<class>) fitted on internal folds of the training rows; "
                        "none: raw decision values or softmax (default)")
    f.add_argument("--calibration-folds", type=int, default=5, help="internal folds for calibration, grouped by subject (default 5)")
    f.add_argument("--synthetic", action="append", default=[], metavar="DIR",
                   help="synthetic clips to train on (a `mexkit generate` output folder or manifest; repeatable; overrides the config's)")
    f.add_argument("--au-head", action="store_true",
                   help="also fit the same recognizer with target aus on the rows with AU annotations: an AU head in the same folder "
                        "(predictions.csv then has aus_predicted and a score per AU)")
    f.add_argument("--heldout", action="store_true",
                   help="also refit without each person in turn and predict them: held-out figures in the card and heldout/")
    f.add_argument("--loso-results", metavar="DIR",
                   help="a `mexkit recog loso` output of the same config, for the card (default: the config's `out`, if it holds one)")
    f.add_argument("--threads", type=int, help="torch threads")
    f.add_argument("--quiet", action="store_true", help="no progress bars")
    f.add_argument("--print_config", action="store_true", help="print the resolved config (YAML) and exit")
    f.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config value (dotted key, repeatable)")
    f.set_defaults(func=cmd_fit)

    r = sub.add_parser("predict", help="predict clips with a kept recognizer: one row per clip (class, scores, AUs); bad clips to rejects.csv")
    r.add_argument("--model", default="mexkit-demo", help="a model folder from `recog fit`, or a shipped name (default: mexkit-demo)")
    r.add_argument("--clips", required=True,
                   help="a manifest (CSV/Parquet), a folder with manifest.csv, a folder of clip folders, one clip folder, a short video, or 'corpus'")
    r.add_argument("--out", required=True, help="predictions CSV to write (rejects.csv goes beside it)")
    r.add_argument("--root", help="the folder a manifest's paths are relative to (default: the manifest's folder)")
    r.add_argument("--align", help="align frame folders and manifest clips with this face backend first (mediapipe, dlib); videos are "
                                   "always aligned (default: the model's own setting)")
    r.add_argument("--threads", type=int, help="torch threads")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(func=cmd_predict)
