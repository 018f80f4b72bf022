"""`mexkit spot score --pred intervals.csv --truth truth.csv [--out scores.csv]`: MEGC spotting scores (and STRS
when both files carry emotions) of predicted intervals against ground truth — a thin layer over
mexkit.recog.spotting_metrics (docs/design.md §8).

The `spot` command (recog/spotting/cli.py) hands `mexkit spot score …` here: it builds a parser with
`add_score_arguments(parser)` and calls `run_score(args)`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.path_checks import check_input_file, check_output_file


def add_score_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `mexkit spot score`."""
    p.add_argument("--pred", type=Path, required=True, help="predicted intervals (intervals.csv of `mexkit spot` or `mexkit detect`)")
    p.add_argument("--truth", type=Path, required=True, help="ground truth (truth.csv of `mexkit insert` or `mexkit datasets manifest "
                                                             "--dataset casme2-long|samm-lv|casme3-long`)")
    p.add_argument("--out", type=Path, default=None, help="write the scores to this CSV (and the per-class analysis beside it, "
                                                          "<name>_per_class.csv, when emotions are scored)")
    p.add_argument("--iou", type=float, default=0.5, help="IoU a prediction needs to hit a ground-truth interval (MEGC: 0.5)")
    p.add_argument("--only-predicted-videos", action="store_true",
                   help="score only the truth videos that appear in --pred (default: every truth video; unspotted ones count as missed)")
    p.add_argument("--no-strs", action="store_true", help="spotting scores only, even when both files carry emotions")


def run_score(args) -> int:
    from mexkit.recog.spotting_metrics import score_files

    fix = "give the CSV file (e.g. runs/spot/intervals.csv, truth.csv)"
    check_input_file(args.pred, "--pred", "predicted intervals", fix)
    check_input_file(args.truth, "--truth", "ground-truth intervals", fix)
    if not 0 < args.iou <= 1:
        raise MexkitInputError(None, f"--iou must be in (0, 1], got {args.iou}", "use the MEGC value 0.5", stage="input")
    per_class_path = None
    if args.out is not None:
        check_output_file(args.out, "--out")
        per_class_path = args.out.with_name(args.out.stem + "_per_class.csv")
        check_output_file(per_class_path, "--out (its per-class table)")
    extra = {"classes": None} if args.no_strs else {}
    res = score_files(args.pred, args.truth, iou_threshold=args.iou, restrict_to_predicted=args.only_predicted_videos, **extra)
    print(format_scores(res))
    if args.out is not None:
        from mexkit.atomic import atomic_path

        with atomic_path(args.out) as tmp:
            res.scores.to_csv(tmp, index=False)
        if len(res.per_class):
            with atomic_path(per_class_path) as tmp:
                res.per_class.to_csv(tmp, index=False)
        print(f"scores → {args.out}" + (f", per class → {per_class_path}" if len(res.per_class) else ""))
    return 0


def format_scores(res) -> str:
    """The text `mexkit spot score` prints: one line per dataset × type, then the notes."""
    lines = []
    strs = "strs" in res.scores.columns
    head = f"{'dataset':<14} {'type':<8} {'truth':>5} {'pred':>5} {'TP':>4} {'FP':>5} {'FN':>4} {'P':>6} {'R':>6} {'F1':>6}"
    lines.append(head + (f" {'F1an':>6} {'STRS':>6}" if strs else ""))
    for r in res.scores.itertuples(index=False):
        line = (f"{str(r.dataset)[:14]:<14} {r.type:<8} {r.n_truth:>5} {r.n_pred:>5} {r.tp:>4} {r.fp:>5} {r.fn:>4} "
                f"{r.precision:>6.3f} {r.recall:>6.3f} {r.f1:>6.3f}")
        lines.append(line + (f" {r.f1_analysis:>6.3f} {r.strs:>6.3f}" if strs else ""))
    lines += [f"note: {n}" for n in res.notes]
    return "\n".join(lines)
