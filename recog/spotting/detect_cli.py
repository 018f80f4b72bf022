"""`mexkit detect VIDEO… --out DIR [--model DIR|mexkit-demo] [--truth truth.csv] [--all-faces] [--spotter …]`:
spot, cut, align and name each interval; intervals.csv and report.html (a thin layer over detect.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.path_checks import check_input_file, check_output_folder


def register(sub: argparse._SubParsersAction) -> None:
    from .spotter import spotter_names

    p = sub.add_parser(
        "detect", help="find micro-expressions in videos and name them (spot, then recognize): intervals.csv and report.html",
        description="Spot expression intervals in each video (a file or a frame folder), cut each one into a face clip aligned "
                    "once on its onset frame, name it with a kept recognizer, and write intervals.csv (subject, video, onset, "
                    "offset, emotion — the MEGC submission columns — then apex, type, scores, AUs) and report.html (timeline, "
                    "one card per interval with a magnified slow-motion GIF, counts, scores with --truth). A research tool, "
                    "not a diagnosis.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="VIDEO_OR_FRAME_FOLDER")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--model", default="mexkit-demo", help="kept recognizer: a folder written by `mexkit recog fit`, or a shipped "
                                                         "model's name (default: mexkit-demo)")
    p.add_argument("--truth", type=Path, default=None, help="ground truth (truth.csv of `mexkit insert` or `mexkit datasets "
                                                            "manifest --dataset casme2-long|samm-lv|casme3-long`): scored and drawn")
    p.add_argument("--all-faces", action="store_true", help="every face tracked with its own id and spotted separately "
                                                            "(default: the largest face)")
    p.add_argument("--spotter", default="default", choices=spotter_names(), help="which spotter (default: the measured best)")
    p.add_argument("--fps", type=float, default=None, help="frame rate: required for frame folders (30 CAS(ME)², 200 SAMM)")
    p.add_argument("--root", type=Path, default=None, help="name each video by its path relative to this folder (a release's "
                                                           "frames root, so names match truth.csv)")
    p.add_argument("--subject", default="", help="subject id written in intervals.csv (default: the first folder under --root)")
    p.set_defaults(func=run_detect)


def run_detect(args) -> int:
    from mexkit.recog.kept import load_recognizer
    from mexkit.rejects import RejectLog

    from .cli import _check_inputs
    from .detect import detect_videos

    out = check_output_folder(args.out)
    names = _check_inputs(args.inputs, args.fps, args.root)
    truth = None
    if args.truth is not None:
        from mexkit.recog.spotting_metrics import read_intervals_csv, video_mapping

        check_input_file(args.truth, "--truth", "ground-truth intervals", "give truth.csv (mexkit insert / mexkit datasets manifest)")
        truth = read_intervals_csv(args.truth, "truth")
        missing = [c for c in ("video", "onset", "offset", "type") if c not in truth.columns]
        if missing:
            raise MexkitInputError(args.truth, f"not a truth.csv: no {', '.join(missing)} column", "give truth.csv written by mexkit "
                                   "insert or mexkit datasets manifest", stage="score")
        video_mapping(names, truth["video"].astype(str).tolist(), args.truth, args.truth, what="inputs")  # before any work: both lists
    recognizer = load_recognizer(args.model)
    rejects = RejectLog()
    res = detect_videos(args.inputs, out, recognizer, truth=truth, spotter=args.spotter, fps=args.fps, all_faces=args.all_faces,
                        root=args.root, subject=args.subject, truth_file=args.truth, rejects=rejects)
    iv = res["intervals"]
    counts = iv["predicted"].replace("", "(not named)").value_counts().to_dict() if len(iv) else {}
    print(f"{len(iv)} interval(s) in {len(res['detections'])} video(s): " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
    if res["scores"] is not None:
        from .score_cli import format_scores

        print(format_scores(res["scores"]))
    print(f"intervals → {out / 'intervals.csv'}\nreport → {res['report']}")
    if len(rejects):
        print(f"mexkit: {len(rejects)} item(s) could not be used, listed in {out / 'rejects.csv'}", file=sys.stderr)
    return 0
