"""`mexkit generate`: write a synthetic micro-expression dataset with any generator (synth/writer/)."""
from __future__ import annotations

import argparse
from pathlib import Path

from mexkit.device_checks import check_accelerator, check_devices
from mexkit.errors import MexkitInputError

from .condition import MAX_CLIP_FRAMES, MAX_FPS  # the bounds every Condition enforces; checked here first to name the options


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1 (a clear usage error otherwise, not an OpenCV assertion later)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive size (e.g. 64, 128, 256)")
    return value


ACCELERATORS = ("cpu", "gpu", "cuda", "auto")


def check_generate_args(args: argparse.Namespace) -> None:
    """--fps, --duration-ms, --devices and --accelerator checked before anything loads or is written: a
    MexkitInputError naming the option, the value and a sane range."""
    import math

    for option, value, eg in (("--fps", args.fps, "--fps 40 (high-speed cameras: 200)"), ("--duration-ms", args.duration_ms, "--duration-ms 400")):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise MexkitInputError(None, f"{option} {value:g}: must be a positive number", f"give e.g. {eg}", stage="input")
    if args.fps is not None and args.fps > MAX_FPS:
        raise MexkitInputError(None, f"--fps {args.fps:g}: above {MAX_FPS:g} fps", "give e.g. --fps 40 (high-speed cameras: 200)", stage="input")
    frames = (args.duration_ms or 400.0) * (args.fps or 40.0) / 1000.0
    if (args.fps is not None or args.duration_ms is not None) and frames > MAX_CLIP_FRAMES:
        raise MexkitInputError(None, f"--duration-ms × --fps gives {frames:.0f} frames per clip, above {MAX_CLIP_FRAMES}",
                               "a micro-expression lasts under 0.5 s: give e.g. --duration-ms 400 --fps 200", stage="input")
    if args.devices is not None:
        check_devices(args.devices, "--devices")
    check_accelerator(args.accelerator, "--accelerator", known=ACCELERATORS)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate", help="write a synthetic dataset: clips, manifest.csv, rejects.csv (resumable)",
        description="Animate every face N times with a generator and write clips (PNG frame folders or mp4), "
                    "manifest.csv and rejects.csv under --out. Sample ids are deterministic; re-running the same "
                    "command resumes an interrupted run. With --driving, the driving clip's landmark motion is "
                    "transferred to every face instead (MEGC 2021/22 protocol).",
    )
    p.add_argument("--generator", default="warp", help="registered name (warp, mocogan-demo, flowdiff-demo) or a pretrained folder")
    p.add_argument("--faces", required=True, help="folder of face images (sub-folders = subjects), one image, or 'corpus'")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; resumed if it holds an earlier run)")
    p.add_argument("--classes", default=None, help="comma-separated classes, cycled per face (default positive,negative,surprise)")
    p.add_argument("--intensity", default=None, help="LO:HI uniform range or one value in [0, 1] (default 0.2:0.6; 1 with --driving)")
    p.add_argument("--per-face", type=int, default=1, help="clips per face (default 1)")
    p.add_argument("--format", choices=["png", "mp4"], default="png", help="frame folders (png) or mp4 files")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--duration-ms", type=float, default=None, help="clip length in ms (default 400; the driving clip's with --driving)")
    p.add_argument("--fps", type=float, default=None, help="frame rate (default 40; the driving clip's with --driving)")
    p.add_argument("--aus", default="", help="target action units overriding the class's set, e.g. 4+7")
    p.add_argument("--resolution", type=positive_int, default=None, help="output crop size in pixels, e.g. 128 (default: the generator's)")
    p.add_argument("--subject-prefix", default="", metavar="PREFIX",
                   help="prefix the faces' folder names with PREFIX to make them the real set's subject ids (e.g. casme2_ for "
                        "sub01 → casme2_sub01); the study's leakage gate refuses subjects it does not know")
    p.add_argument("--all-faces", action="store_true",
                   help="every face of each image (group photos), each its own subject <image>_face<k>; default: the largest face")
    p.add_argument("--full-frame", action="store_true",
                   help="clips at each photo's own size: the generated motion rendered on the original photo (with "
                        "--all-faces every face of it in the same frames, one manifest row per face); --faces must be photos")
    p.add_argument("--outside-faces", action="store_true",
                   help="the faces are of people outside every real set: subjects are written as outside:<name>")
    p.add_argument("--driving", type=Path, default=None, help="driving clip (video or frame folder) for motion transfer")
    p.add_argument("--driving-subject", default=None, help="subject id of the driving clip's person (with --driving; default: "
                   "from the manifest of the dataset folder holding the clip — the leakage gate refuses clips driven by a held-out subject)")
    p.add_argument("--driving-dataset", default=None, help="dataset of the driving clip (recorded in the manifest)")
    p.add_argument("--driving-sample", default=None, help="sample id of the driving clip (default: its file name)")
    p.add_argument("--backend", default="mediapipe", choices=["mediapipe", "dlib"], help="face pipeline for the face images")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    scale = p.add_argument_group("scale-out (Lightning predict + DDP; see mexkit.synth.writer.distributed)")
    scale.add_argument("--devices", default=None, help="processes per node: a count or 'auto' (turns on the Lightning path)")
    scale.add_argument("--accelerator", default="cpu", help="cpu (gloo), gpu (nccl) or auto")
    scale.add_argument("--num-nodes", type=int, default=1, help="nodes; start the command on each with NODE_RANK, MASTER_ADDR, MASTER_PORT")
    scale.add_argument("--strategy", default="ddp", help="Lightning strategy (default ddp)")
    p.set_defaults(func=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    """`mexkit generate`: the arguments checked up front; a full disk is a clear error (the rerun resumes)."""
    from mexkit.atomic import full_disk_is_input_error

    check_generate_args(args)
    with full_disk_is_input_error(args.out, "writing clips"):
        return _generate(args)


def _generate(args: argparse.Namespace) -> int:
    from .writer import generate_dataset

    kwargs = {} if args.resolution is None else {"resolution": args.resolution}
    classes = [c.strip() for c in args.classes.split(",")] if args.classes else None
    duration_ms, fps, apex_at = args.duration_ms, args.fps, 0.4
    if args.driving is not None:
        from .motion_transfer import MotionTransferGenerator

        if not args.driving.exists():
            raise MexkitInputError(args.driving, "driving clip not found", "pass a video file or a frame folder", stage="driving")
        from mexkit.datasets.manifest_lookup import find_manifest_row

        # a clip of a dataset folder (the corpus, an adapter's output): its manifest row says whose motion
        # it is and which class; flags override it
        found = find_manifest_row(args.driving)
        row = found[1] if found else {}
        gen = MotionTransferGenerator(
            args.driving, driving_subject=args.driving_subject if args.driving_subject is not None else str(row.get("subject", "") or ""),
            driving_dataset=args.driving_dataset if args.driving_dataset is not None else str(row.get("dataset", "") or ""),
            driving_sample=args.driving_sample or str(row.get("sample_id", "") or args.driving.name), **kwargs)
        own = gen.default_condition()
        if classes is None:
            from mexkit.datasets.label_maps import megc_class

            native = gen.driving_label or str(row.get("label", "") or "")
            label = megc_class(native, row.get("dataset")) or native
            if not label:
                raise MexkitInputError(args.driving, "the driving clip carries no expression label (and no manifest above it lists it)",
                                       "pass --classes LABEL (e.g. --classes positive)", stage="driving")
            classes = [label]
        duration_ms = own.duration_ms if duration_ms is None else duration_ms
        fps = own.fps if fps is None else fps
        apex_at = own.apex_at
        intensity = args.intensity or "1"
    else:
        from .registry import load_generator

        gen = load_generator(args.generator, **kwargs)
        intensity = args.intensity or "0.2:0.6"
    from .writer import parse_intensity

    common = dict(
        classes=classes or ["positive", "negative", "surprise"], intensity=parse_intensity(intensity),
        per_face=args.per_face, seed=args.seed, fmt=args.format, duration_ms=400.0 if duration_ms is None else duration_ms,
        fps=40.0 if fps is None else fps, aus=[a for a in args.aus.replace(",", "+").split("+") if a.strip()],
        apex_at=apex_at, progress=not args.no_progress, pipeline=_pipeline(args.backend, gen.resolution),
        subject_prefix=args.subject_prefix, outside=args.outside_faces, all_faces=args.all_faces,
    )
    if args.full_frame:
        from .writer.full_frame_writer import generate_full_frame

        if args.devices is not None or args.num_nodes > 1:
            raise MexkitInputError(None, "--full-frame runs in one process", "leave out --devices / --num-nodes", stage="output")
        counts = generate_full_frame(gen, args.faces, args.out, **common)
    elif args.devices is not None or args.num_nodes > 1:
        from .writer.distributed import generate_dataset_distributed

        devices = args.devices if args.devices in (None, "auto") else int(args.devices)
        counts = generate_dataset_distributed(gen, args.faces, args.out, devices=devices or 1, accelerator=args.accelerator,
                                              num_nodes=args.num_nodes, strategy=args.strategy, **common)
        if counts["rank"] == 0:
            print(f"{counts['total']} jobs → {counts['out']}/manifest.csv\n{counts['rejects']}")
        return 0
    else:
        counts = generate_dataset(gen, args.faces, args.out, **common)
    print(f"{counts['written']} written, {counts['skipped']} already there, {counts['rejected']} rejected of {counts['total']} "
          f"→ {counts['out']}/manifest.csv")
    print(counts["rejects"])
    return 0


def _pipeline(backend: str, resolution: int):
    """The face pipeline for image faces, built only when a face needs it (the corpus is pre-aligned)."""
    if backend == "mediapipe":
        return None  # the writer builds the default MediaPipe pipeline lazily
    from mexkit.face import FacePipeline

    return FacePipeline(backend, resolution=resolution if resolution in (64, 128, 256) else 256)
