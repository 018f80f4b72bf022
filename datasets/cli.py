"""`mexkit datasets check|manifest|composite|splits` and `mexkit prepare`."""
from __future__ import annotations

import argparse
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.path_checks import check_input_folder, check_output_file, check_output_folder, csv_with_columns, text_with_marker

from .adapters import adapter_names

# An existing --out / --rejects file is replaced only when it is what these commands write (issue 26).
REJECTS_FILE = csv_with_columns("file", "stage", "reason")


def is_manifest_file(path: Path) -> bool:
    """A manifest (sample_id, subject) or a long-video truth table (video, onset, type) — an earlier run's output."""
    return csv_with_columns("sample_id", "subject")(path) or csv_with_columns("video", "onset", "type")(path)


def _adapter_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", required=True, help=f"dataset adapter: {', '.join(adapter_names())}")
    p.add_argument("--root", required=True, help="the dataset folder as released")
    p.add_argument("--annotations", help="annotation spreadsheet (generic: manifest CSV) if not under --root")
    p.add_argument("--frames-dir", help="frames folder relative to --root if not the released name")
    p.add_argument("--no-errata", action="store_true", help="read the annotation sheet exactly as released (skip the published errata)")


def _errata_kwargs(dataset: str, no_errata: bool) -> dict:
    """errata=False for sheet-annotated adapters when --no-errata is given (SMIC and generic have no sheet errata)."""
    from .adapters import ADAPTERS, ALIASES
    from .sheet_adapter import SheetAdapter

    cls = ADAPTERS.get(ALIASES.get(dataset.lower(), dataset.lower()))
    return {"errata": False} if no_errata and cls is not None and issubclass(cls, SheetAdapter) else {}


def _adapter(args):
    from .adapters import make_adapter

    if Path(args.root).is_file():  # a missing root is the adapter's to name; a file is said here
        check_input_folder(args.root, "--root", "pass the folder that holds the released dataset, not a file in it", stage="dataset")

    try:
        return make_adapter(args.dataset, args.root, annotations=args.annotations, frames_dir=args.frames_dir,
                            **_errata_kwargs(args.dataset, getattr(args, "no_errata", False)))
    except MexkitInputError:
        raise  # already names the file and its own fix (e.g. a missing --root)
    except ValueError as err:  # an unknown dataset name
        raise MexkitInputError(None, str(err), f"use one of {', '.join(adapter_names())}", stage="dataset") from None


def cmd_check(args) -> int:
    from mexkit.atomic import atomic_path

    if args.rejects:
        check_output_file(args.rejects, "--rejects", own=REJECTS_FILE)
    check = _adapter(args).check(decode=not args.quick, progress=True)
    print(check.format())
    if args.rejects:
        with atomic_path(args.rejects) as tmp:
            import pandas as pd

            pd.DataFrame(check.rejects.rows, columns=["file", "stage", "reason"]).to_csv(tmp, index=False)
        print(f"\nrejects written to {args.rejects}")
    return 1 if args.strict and (len(check.rejects) or check.folders_without_rows) else 0


def cmd_manifest(args) -> int:
    from mexkit.atomic import atomic_path
    from mexkit.rejects import RejectLog

    from .label_maps import map_labels

    out = check_output_file(args.out, "--out", own=is_manifest_file)
    check_output_file(out.with_name("rejects.csv"), "--out (its rejects.csv)", own=REJECTS_FILE)
    adapter = _adapter(args)  # a missing --root or sheet is reported before anything is written
    truth = getattr(adapter, "writes_truth", False)  # long videos: ground-truth intervals (truth.csv columns), not clips
    if truth and args.label_map != "native":
        raise MexkitInputError(None, f"--label-map {args.label_map} maps clip labels; {args.dataset} is a long-video dataset",
                               "drop --label-map (truth.csv keeps the release's emotion words)", stage="dataset")
    log = RejectLog()  # written beside the manifest when it is: a refused run leaves nothing behind
    df = (adapter.truth if truth else adapter.manifest)(log, decode=args.decode, progress=True)
    if args.label_map != "native":
        df = map_labels(df, args.label_map)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, index=False)
    print(f"{len(df)} {'intervals' if truth else 'samples'}, {df['subject'].nunique() if len(df) else 0} subjects → {out}")
    log.save(out.with_name("rejects.csv"))  # the run's rejects, replacing an earlier run's
    print(log.summary())
    return 0


def rebase_paths(manifest, roots: dict[str, str], common: str):
    """The manifest with each row's `path` (relative to its dataset's root) made relative to `common`."""
    import os

    common_dir = Path(common).resolve()
    rel = []
    for ds, path in zip(manifest["dataset"], manifest["path"]):
        full = (Path(roots[str(ds)]) / str(path)).resolve()
        if common_dir not in full.parents:
            raise MexkitInputError(full, f"is not inside --relative-to {common}", "give a folder that holds every release", stage="dataset")
        rel.append(os.path.relpath(full, common_dir))
    return manifest.assign(path=rel)


def cmd_composite(args) -> int:
    from mexkit.atomic import atomic_path
    from mexkit.rejects import RejectLog

    from .adapters import make_adapter
    from .label_maps import MEGC_CLASSES, composite_counts, megc2019_composite
    from .megc2019_list import compare_with_list, format_difference

    out = check_output_file(args.out, "--out", own=is_manifest_file)
    check_output_file(out.with_name("rejects.csv"), "--out (its rejects.csv)", own=REJECTS_FILE)
    if not (args.smic or args.casme2 or args.samm):
        raise MexkitInputError(None, "no dataset given", "pass --smic, --casme2 and/or --samm roots", stage="dataset")
    for option, root in (("--smic", args.smic), ("--casme2", args.casme2), ("--samm", args.samm)):
        if root:
            check_input_folder(root, option, f"pass {option} the folder that holds the released dataset", stage="dataset")
    log = RejectLog()  # written beside the manifest when it is: a refused run leaves nothing behind
    native, sheets = {}, {}
    for name, root in (("smic", args.smic), ("casme2", args.casme2), ("samm", args.samm)):
        if not root:
            continue
        ad = make_adapter(name, root, **_errata_kwargs(name, args.no_errata))
        native[name] = ad.manifest(log)
        if getattr(ad, "sheet_note", ""):
            sheets[name] = ad.annotation_file.name
            print(f"{name} annotation sheet: {ad.sheet_note}")
        if getattr(ad, "errata_report", None) is not None and ad.errata_report.applied:
            print(f"{name} errata applied: {len(ad.errata_report.applied)} (listed by `mexkit datasets check`; --no-errata to skip)")
    comp = megc2019_composite(list(native.values()))
    if args.relative_to:
        comp = rebase_paths(comp, {n: r for n, r in (("smic", args.smic), ("casme2", args.casme2), ("samm", args.samm)) if r},
                            args.relative_to)
    with atomic_path(out) as tmp:
        comp.to_csv(tmp, index=False)
    print(f"MEGC2019 composite: {len(comp)} samples, {comp['subject'].nunique()} subjects → {out}")
    print("classes: " + " / ".join(f"{c} {int((comp['label'] == c).sum())}" for c in MEGC_CLASSES))
    print(composite_counts(comp).to_string(index=False))
    print(format_difference(compare_with_list(comp, native, log.rows, sheets), native))
    log.save(out.with_name("rejects.csv"))  # the run's rejects, replacing an earlier run's
    print(log.summary())
    return 0


def cmd_splits(args) -> int:
    from .splits import SPLIT_FORMAT, holdout_subject_split, kfold_subject_splits, lodo_splits, loso_splits

    from .manifest_csv import read_manifest_csv

    check_output_file(args.out, "--out", own=text_with_marker(f'"format": "{SPLIT_FORMAT}"'))
    read = read_manifest_csv(args.manifest, dtype={"subject": str, "sample_id": str})
    if read.bad:  # splits of a damaged manifest would silently leave samples out (or invent subjects)
        first = read.bad[0]
        more = f" (and {len(read.bad) - 1} more malformed line(s))" if len(read.bad) > 1 else ""
        raise MexkitInputError(first.path, first.reason + more, first.fix, stage="manifest")
    m = read.table
    if args.kind == "lodo" and args.only:
        raise MexkitInputError(args.manifest, f"--kind lodo holds out whole datasets; --only {args.only} would leave one",
                               "drop --only (or use --kind loso --only DATASET)", stage="splits")
    lacking = [c for c in ("sample_id", "subject", *(("dataset",) if args.kind == "lodo" else ())) if c not in m.columns]
    if lacking:
        raise MexkitInputError(args.manifest, f"not a manifest: no {' or '.join(lacking)} column",
                               "give a manifest CSV written by `mexkit datasets manifest` or `composite`", stage="manifest")
    try:
        if args.kind == "loso":
            s = loso_splits(m, dataset=args.only)
        elif args.kind == "kfold":
            s = kfold_subject_splits(m, k=args.k, seed=args.seed, dataset=args.only)
        elif args.kind == "lodo":
            s = lodo_splits(m)
        else:
            s = holdout_subject_split(m, test_fraction=args.test_fraction, seed=args.seed, dataset=args.only)
    except ValueError as err:  # the split functions see a table: say which file it came from
        if isinstance(err, MexkitInputError):
            if err.path:
                raise
            raise MexkitInputError(args.manifest, err.reason, err.fix, stage=err.stage) from None
        raise MexkitInputError(args.manifest, str(err), "choose --k between 2 and the number of subjects, --test-fraction in (0, 1)",
                               stage="splits") from None
    s.save(args.out)
    print(f"{s.kind}: {len(s)} fold(s) over {s.num_samples} samples → {args.out}")
    return 0


def _roots(values: list[str]) -> str | dict[str, str]:
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    out = {}
    for v in values:
        if "=" not in v:
            raise MexkitInputError(None, f"--root {v!r}: with several roots give each as DATASET=PATH", "e.g. --root casme2=/data/CASME2 --root samm=/data/SAMM", stage="dataset")
        k, p = v.split("=", 1)
        out[k] = p
    return out


def cmd_prepare(args) -> int:
    from mexkit.rejects import RejectLog

    from .clip_source import sources_from_manifest
    from .preprocess_cache import PrepareConfig, PreprocessCache

    check_output_folder(args.out, "--out")
    for value in args.root or []:
        root = value.split("=", 1)[1] if "=" in value and not Path(value).exists() else value
        check_input_folder(root, "--root", "pass the dataset folder the manifest's paths are relative to (DATASET=PATH per dataset)",
                           stage="dataset")
    config = PrepareConfig(resolution=args.resolution, backend=args.backend, flow=args.flow, frames=args.frames)
    pre_rejects = RejectLog()
    if args.dataset == "corpus":
        from . import load_corpus

        corpus = load_corpus()
        sources = sources_from_manifest(corpus.manifest, corpus.root)  # file-backed: reruns skip by file signature
    elif args.manifest:
        if not args.root:
            raise MexkitInputError(args.manifest, "--manifest needs --root (the dataset root its paths are relative to)", "add --root PATH (or DATASET=PATH per dataset)", stage="dataset")
        from .manifest_csv import read_manifest_csv
        from .manifest_validation import validate_manifest_rows

        read = read_manifest_csv(args.manifest, dtype={"subject": str, "sample_id": str})
        for err in read.bad:  # malformed lines, named by file and line
            pre_rejects.add(args.manifest, err.stage, err.reason)
        m = read.table
        bad = validate_manifest_rows(m, args.manifest, read.lines)
        for pos, err in bad:
            pre_rejects.add(args.manifest, err.stage, err.reason)
        m = m.drop(index=m.index[[p for p, _ in bad]]).reset_index(drop=True)
        sources = sources_from_manifest(m, _roots(args.root))
    else:
        if not args.dataset or not args.root:
            raise MexkitInputError(None, "say what to prepare", "give --dataset corpus, or --dataset NAME --root PATH, or --manifest CSV --root PATH", stage="dataset")
        ns = argparse.Namespace(dataset=args.dataset, root=args.root[0], annotations=args.annotations, frames_dir=args.frames_dir)
        adapter = _adapter(ns)
        sources = sources_from_manifest(adapter.manifest(pre_rejects), str(adapter.root))
    cache = PreprocessCache(args.out, config)
    report = cache.prepare(sources, workers=args.workers, progress=not args.no_progress, retry_rejected=args.retry_rejected,
                           rehash=args.rehash)
    for r in pre_rejects.rows:  # rows the manifest or adapter rejected before preprocessing: in the summary's count too
        report.rejects.add(r["file"], r["stage"], r["reason"])
    report.rejected += len(pre_rejects)
    print(report.summary())
    print(f"cache: {Path(args.out)} (flow requested {config.flow}, used {config.resolved()['flow_used']})")
    print(report.rejects.summary())
    return 0 if report.computed + report.cached or not (len(sources) + len(pre_rejects)) else 1


def register(subparsers) -> None:
    ds = subparsers.add_parser("datasets", help="read released micro-expression datasets: check, manifest, composite, splits")
    sub = ds.add_subparsers(dest="datasets_command", metavar="SUBCOMMAND")

    p = sub.add_parser("check", help="counts per subject and label, missing frames, rows without frames, folders without rows")
    _adapter_args(p)
    p.add_argument("--quick", action="store_true", help="do not decode every frame file (faster; misses unreadable files)")
    p.add_argument("--rejects", help="also write the rejected rows to this CSV")
    p.add_argument("--strict", action="store_true", help="exit 1 if anything was rejected or unreferenced")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("manifest", help="write the validated manifest (and rejects.csv beside it)")
    _adapter_args(p)
    p.add_argument("--out", required=True, help="manifest CSV to write")
    p.add_argument("--label-map", default="native", choices=["native", "megc2019", "casme2-5class"])
    p.add_argument("--decode", action="store_true", help="decode every frame file while validating")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("composite", help="MEGC2019 composite manifest (SMIC-HS + CASME II + SAMM, 3 classes)")
    p.add_argument("--smic")
    p.add_argument("--casme2")
    p.add_argument("--samm")
    p.add_argument("--out", required=True)
    p.add_argument("--no-errata", action="store_true", help="read the CASME II and SAMM sheets exactly as released")
    p.add_argument("--relative-to", metavar="DIR", help="write `path` relative to DIR, a folder holding the three releases "
                                                          "(one root for mexkit study / train; default: relative to each release)")
    p.set_defaults(func=cmd_composite)

    p = sub.add_parser("splits", help="write subject-wise splits (LOSO, k-fold, fixed hold-out, leave one dataset out) to a file")
    p.add_argument("--manifest", required=True)
    p.add_argument("--kind", choices=["loso", "kfold", "holdout", "lodo"], default="loso",
                   help="lodo: one fold per dataset of a composite manifest (all its subjects held out)")
    p.add_argument("--only", metavar="DATASET", help="restrict to one dataset of a composite manifest")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--out", required=True, help="split file (JSON)")
    p.set_defaults(func=cmd_splits)
    ds.set_defaults(func=lambda a: (ds.print_help(), 0)[1])

    p = subparsers.add_parser("prepare", help="build the preprocessing cache: aligned crops, onset/apex, flow, strain")
    p.add_argument("--dataset", help=f"'corpus' (the embedded corpus) or an adapter: {', '.join(adapter_names())}")
    p.add_argument("--root", action="append", help="dataset root (repeat as DATASET=PATH for a composite manifest)")
    p.add_argument("--manifest", help="a manifest CSV written by `mexkit datasets manifest/composite` (or a generic one)")
    p.add_argument("--annotations")
    p.add_argument("--frames-dir")
    p.add_argument("--out", required=True, help="cache folder")
    p.add_argument("--workers", type=int, default=1, help="worker processes (each runs its own face pipeline; started only "
                   "when the work left repays their start-up)")
    p.add_argument("--rehash", action="store_true", help="hash every frame file again instead of trusting unchanged "
                   "paths, sizes and mtimes (hashes.json in the cache)")
    p.add_argument("--flow", default="tvl1", choices=["tvl1", "dis", "farneback"], help="TV-L1 falls back to DIS where OpenCV lacks cv2.optflow")
    p.add_argument("--resolution", type=int, default=128, choices=[64, 128, 256])
    p.add_argument("--backend", default="mediapipe", choices=["mediapipe", "dlib", "face-alignment"])
    p.add_argument("--frames", default="all", choices=["all", "key"], help="store every aligned frame or only onset and apex")
    p.add_argument("--retry-rejected", action="store_true", help="try items that failed in an earlier run again")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_prepare)
