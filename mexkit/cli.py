"""The `mexkit` command. Each part of the toolkit adds its own sub-commands through a `cli` module
with `register(subparsers)`; this file only assembles them."""
from __future__ import annotations

import argparse
import sys

from mexkit import commands, demo
from mexkit.datasets import cli as datasets_cli
from mexkit.eval import cli as eval_cli
from mexkit.recog import cli as recog_cli
from mexkit.recog.spotting import cli as spot_cli
from mexkit.recog.spotting import detect_cli
from mexkit.synth import cli as synth_cli
from mexkit.synth import insert_cli
from mexkit.synth import train_cli

# The modules that add sub-commands, in the order `mexkit --help` lists them.
COMMAND_MODULES = (commands, datasets_cli, synth_cli, insert_cli, train_cli, recog_cli, spot_cli, detect_cli, eval_cli, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mexkit", description="Synthetic facial micro-expression video toolkit.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"mexkit {__version__}")
    parser.add_argument("-v", "--verbose", dest="console_verbose", action="store_true",
                        help="let third-party output through (MediaPipe's C++ lines, Lightning's banners, deprecation warnings)")
    parser.add_argument("-q", "--quiet", dest="console_quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from . import console
    from .errors import MexkitInputError
    from .stray_signals import ignore_profiling_timer

    console.setup(verbose=args.console_verbose, quiet=args.console_quiet)  # before any command loads MediaPipe or Lightning

    ignore_profiling_timer()  # before any Lightning Trainer saves the signal handlers (see stray_signals.py)
    try:
        return int(args.func(args) or 0)
    except MexkitInputError as err:
        print(f"mexkit: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
