"""`mexkit spot VIDEO_OR_FRAME_FOLDER… --out DIR`: find expression intervals (a thin layer over
spot_video and spot_output); `mexkit spot score …` is passed to recog/spotting/score_cli.py."""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.path_checks import check_output_folder
from mexkit.rejects import RejectLog


class _SpotParser(argparse.ArgumentParser):
    """`mexkit spot score …` goes to the scoring command; anything else is spotting."""

    def parse_known_args(self, args=None, namespace=None):
        args = list(sys.argv[1:] if args is None else args)
        if args and args[0] == "score":
            try:
                from . import score_cli
            except ImportError:  # the scoring module is not in this version: say so when the command runs
                namespace = namespace or argparse.Namespace()
                namespace.func = _score_unavailable
                return namespace, []
            p = argparse.ArgumentParser(prog="mexkit spot score", description="MEGC spotting scores of predicted intervals against truth.")
            score_cli.add_score_arguments(p)
            p.set_defaults(func=score_cli.run_score)
            return p.parse_known_args(args[1:], namespace)
        return super().parse_known_args(args, namespace)


def _score_unavailable(args) -> int:
    raise MexkitInputError(None, "`mexkit spot score` is not available in this version (recog/spotting/score_cli.py is missing)",
                           "update mexkit, or score intervals.csv with mexkit.recog.spotting_metrics")


def register(sub: argparse._SubParsersAction) -> None:
    from .spotter import spotter_names

    p = sub.add_parser(
        "spot", help="find micro- and macro-expression intervals in videos (`mexkit spot score` scores them)",
        description="Stream each video (a file or a frame folder), track and register the face, compute a per-frame "
                    "signal and write intervals.csv (video, subject, onset, apex, offset, type ME/MaE, score; frames "
                    "are 0-based positions in the decoded video), per-frame signals and gaps. "
                    "`mexkit spot score --pred intervals.csv --truth truth.csv` scores them (MEGC rules).")
    p.__class__ = _SpotParser
    p.add_argument("inputs", nargs="+", type=Path, metavar="VIDEO_OR_FRAME_FOLDER")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--fps", type=float, default=None, help="frame rate: required for frame folders (30 for CAS(ME)², 200 for SAMM); "
                                                            "for a video file it replaces the declared rate")
    p.add_argument("--spotter", default="default", choices=spotter_names(), help="which spotter (default: the measured best; docs/design.md §8)")
    p.add_argument("--all-faces", action="store_true", help="spot every face, each with its own face_id (default: the largest face)")
    p.add_argument("--root", type=Path, default=None, help="name each video by its path relative to this folder (e.g. a release's "
                                                           "frames root, so names match truth.csv); default: file stem / folder name")
    p.add_argument("--subject", default="", help="subject id written in intervals.csv (default: the first folder under --root, else empty)")
    p.set_defaults(func=run_spot)


def _check_inputs(paths: list[Path], fps: float | None, root: Path | None) -> list[str]:
    """The inputs of `mexkit spot` / `mexkit detect` checked up front (present, a video or a frame folder with
    --fps, --fps positive, no two with one video name); → each input's video name (spot_video.video_name)."""
    from mexkit.video_io import IMAGE_EXTS

    from .spot_video import video_name

    for path in paths:
        if not path.exists():
            raise MexkitInputError(path, "not found", "check the path")
        if path.is_dir() and fps is None:
            raise MexkitInputError(path, "a folder of frames has no frame rate", "give it with --fps F, e.g. --fps 30 (CAS(ME)²) or --fps 200 (SAMM)")
        if path.is_file() and path.suffix.lower() in IMAGE_EXTS:
            raise MexkitInputError(path, "a single image, not a video", "give a video file or a folder of frames")
    if fps is not None and not (fps > 0 and math.isfinite(fps)):
        raise MexkitInputError(None, f"--fps must be a positive, finite frame rate, got {fps}", "e.g. --fps 30")
    names = [video_name(p, root) for p in paths]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MexkitInputError(None, f"several inputs share the video name(s) {', '.join(dupes)}",
                               "give --root (names become paths relative to it) or rename the inputs")
    return names


def run_spot(args) -> int:
    from .spot_output import load_video_result, request_key, safe_name, save_video_result, write_run
    from .spot_video import spot_video
    from .spotter import make_spotter

    out = check_output_folder(args.out)
    names = _check_inputs(args.inputs, args.fps, args.root)
    rejects = RejectLog()  # nothing is written before the first video is spotted (a lone bad input leaves no trace)
    results = []
    single = len(args.inputs) == 1
    for path, name in zip(args.inputs, names):
        subject = args.subject or (name.split("/")[0] if "/" in name else "")
        spotter = make_spotter(args.spotter, args.fps or 30.0)
        request = request_key(path, spotter.name, spotter.parameters(), args.all_faces, args.fps)
        folder = out / "videos" / safe_name(name)
        result = load_video_result(folder, request)
        if result is None:
            try:
                result = spot_video(path, args.spotter, fps=args.fps, all_faces=args.all_faces, video=name, subject=subject)
            except MexkitInputError as err:
                if single:
                    raise
                rejects.add_error(path, err)
                continue
            save_video_result(folder, result, request)
        results.append(result)
        _say(result)
    write_run(out, results)
    if len(rejects):
        rejects.save(out / "rejects.csv")
        print(f"mexkit: {len(rejects)} input(s) failed, listed in {out / 'rejects.csv'}", file=sys.stderr)
    if not results:
        raise MexkitInputError(out / "rejects.csv", "no input could be spotted", "see the reasons listed in rejects.csv")
    return 0


def _say(result) -> None:
    info = result.info
    counts = result.intervals["type"].value_counts().to_dict() if len(result.intervals) else {}
    stream = info.get("stream", {})
    notes = []
    if len(result.gaps):
        notes.append(f"{len(result.gaps)} gap(s) without the face")
    if stream.get("decode_errors") or stream.get("frames_missing"):
        notes.append(f"{len(stream.get('decode_errors') or [])} damaged packet(s), {stream.get('frames_missing', 0)} frame(s) missing")
    if info.get("variable_frame_rate"):
        notes.append("variable frame rate: times from the timestamps")
    print(f"{info['video']}: {counts.get('ME', 0)} ME, {counts.get('MaE', 0)} MaE in {info['frames']} frames "
          f"({info['spotter']})" + (f"; {'; '.join(notes)}" if notes else ""))
