"""The `mexkit` command. Each part of the toolkit adds its own sub-commands through a `cli` module
with `register(subparsers)`; this file only assembles them."""
from __future__ import annotations

import argparse
import importlib
import sys

# Modules that add sub-commands; a part that is not built yet is simply absent.
COMMAND_MODULES = [
    "mexkit.commands",
    "mexkit.datasets.cli",
    "mexkit.synth.cli",
    "mexkit.synth.train_cli",
    "mexkit.recog.cli",
    "mexkit.eval.cli",
    "mexkit.demo",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mexkit", description="Synthetic facial micro-expression video toolkit.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"mexkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from .errors import MexkitInputError

    try:
        return int(args.func(args) or 0)
    except MexkitInputError as err:
        print(f"mexkit: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
