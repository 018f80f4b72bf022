"""`mexkit insert VIDEO… --out DIR`: add generated micro-expressions to real videos, with ground truth
(a thin layer over mexkit.synth.insert.insert_videos)."""
from __future__ import annotations

import argparse
from pathlib import Path

from mexkit.errors import MexkitInputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "insert", help="insert micro-expressions into real videos: lossless video, H.264 preview, truth.csv (resumable)",
        description="Add generated micro-expressions to each video at seeded (--count) or given (--at) times. The face of each "
                    "window frame is aligned on its own and the generated motion composed with the person's own; frames "
                    "outside the windows are the input's. Writes DIR/<video>.mkv (FFV1, lossless), DIR/<video>.preview.mp4, "
                    "truth.csv (spotting columns), events.csv (provenance), videos.csv and rejects.csv. 'corpus' stands for "
                    "the shipped corpus and webcam videos (the synthetic long-video set).",
    )
    p.add_argument("videos", nargs="+", help="video files, or 'corpus' for the shipped face videos and webcam clips")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; resumed if it holds an earlier run)")
    p.add_argument("--generator", default="warp", help="registered name (warp, mocogan-demo, flowdiff-demo) or a pretrained folder")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--count", type=int, default=None, help="events per video at seeded times (default 3)")
    when.add_argument("--at", default=None, help="comma-separated onset times in seconds, e.g. 2.5,7,12.25 (one video)")
    p.add_argument("--classes", default="positive,negative,surprise", help="comma-separated classes, cycled over each video's events")
    p.add_argument("--intensity", default="0.3:0.8", help="LO:HI uniform range or one value in [0, 1] (default 0.3:0.8)")
    p.add_argument("--duration-ms", type=float, default=400.0, help="event length in ms (default 400; ≤ 500 is a micro-expression)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--subject", default=None, help="subject id of the person in the video(s) (default: the corpus's id for a "
                   "shipped video, else the file stem); the leakage rules apply when inserted videos train anything")
    p.add_argument("--allow-expressions", action="store_true", help="with --count, also place events where the person shows an "
                   "expression of their own (default: only where they are calm)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_insert)


def parse_times(text: str) -> tuple[float, ...]:
    """'2.5,7,12.25' → (2.5, 7.0, 12.25); anything else is a MexkitInputError."""
    try:
        times = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise MexkitInputError(None, f"--at {text!r} is not a list of times in seconds", "pass e.g. --at 2.5,7,12.25", stage="insert") from None
    if not times or any(t < 0 or t != t for t in times):
        raise MexkitInputError(None, f"--at {text!r}: times must be zero or more seconds", "pass e.g. --at 2.5,7,12.25", stage="insert")
    return times


def check_times(times: tuple[float, ...], duration_ms: float, video: Path, stream) -> None:
    """Up front, from the header: no time past the video's end, no two events overlapping."""
    end = stream.num_frames / stream.fps if stream.fps else 0.0
    for t in times:
        if t >= end:
            raise MexkitInputError(video, f"--at time {t:g} s is past the end of the video ({end:.2f} s)", "give times within the video",
                                   stage="insert")
    ordered = sorted(times)
    for a, b in zip(ordered, ordered[1:]):
        if b - a < duration_ms / 1000.0:
            raise MexkitInputError(video, f"--at times {a:g} s and {b:g} s overlap (events last {duration_ms:g} ms)",
                                   "space the times at least one event duration apart", stage="insert")


def run_insert(args: argparse.Namespace) -> int:
    from mexkit.path_checks import check_output_folder
    from mexkit.video_stream import VideoStream

    from .insert import InsertRequest, insert_videos
    from .insert.corpus_set import corpus_subject, corpus_videos
    from .registry import load_generator
    from .writer import parse_intensity

    out = check_output_folder(args.out)
    if args.count is not None and args.count < 1:
        raise MexkitInputError(None, f"--count must be at least 1, got {args.count}", "pass e.g. --count 3", stage="insert")
    if not args.duration_ms > 0:
        raise MexkitInputError(None, f"--duration-ms must be positive, got {args.duration_ms:g}", "pass e.g. --duration-ms 400", stage="insert")
    classes = tuple(c.strip() for c in args.classes.split(",") if c.strip())
    if not classes:
        raise MexkitInputError(None, "no class given", "pass e.g. --classes positive,negative,surprise", stage="insert")
    intensity = parse_intensity(args.intensity)
    at = parse_times(args.at) if args.at is not None else None
    videos: list[tuple[Path, str]] = []
    for v in args.videos:
        if v == "corpus":
            videos += [(p, args.subject or s) for p, s in corpus_videos()]
        else:
            p = Path(v)
            videos.append((p, args.subject or corpus_subject(p) or p.stem))
    if at is not None and len(videos) != 1:
        raise MexkitInputError(None, f"--at gives times in one video, and {len(videos)} were given", "insert into one video with --at, "
                               "or use --count", stage="insert")
    from .condition import Condition

    for video, _ in videos:  # every input opens (header and first frame) before anything is written
        if video.is_dir():
            raise MexkitInputError(video, "a folder, not a video file", "give a video file (mp4, mkv, avi, …)", stage="insert")
        stream = VideoStream(video)
        if at is not None:
            check_times(at, args.duration_ms, video, stream)
    gen = load_generator(args.generator)
    from .writer.dataset_writer import writable_provenance
    from .writer.jobs import generator_name

    writable_provenance(gen, generator_name(gen))  # a generator whose training subjects are unknown writes nothing
    for c in classes:
        gen.check_condition(Condition(label=c, intensity=intensity[1], duration_ms=args.duration_ms))
    request = InsertRequest(classes=classes, intensity=intensity, duration_ms=float(args.duration_ms),
                            count=3 if args.count is None else int(args.count), at=at, seed=int(args.seed), calm=not args.allow_expressions)
    counts = insert_videos(videos, out, gen, request, progress=not args.no_progress)
    print(f"{counts['written']} videos written ({counts['events']} events), {counts['skipped']} already there, {counts['rejected']} "
          f"rejected of {counts['videos']} → {counts['out']}/truth.csv")
    print(counts["rejects"])
    return 0
