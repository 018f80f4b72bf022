"""Experiment configs, shipped as package data, in one dialect: jsonargparse YAML as LightningCLI reads it.

Every YAML here has `class_path` / `init_args` for anything built from a class (model, data module,
logger, recognizer) and plain sections for the rest. Two schemas read them, both jsonargparse parsers:
- training recipes (mocogan_*, flowdiff_*): LightningCLI's (`mexkit train --config NAME`);
- recognition experiments (recog_*, study_*): `mexkit.recog.experiment` (`mexkit recog loso` / `mexkit study`).
`config_path` is the one lookup (a shipped config's name, its file name, or any path) and
`read_config` the one loader: it parses the file with the given parser, so a bad key or type fails
with a MexkitInputError naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from mexkit.errors import MexkitInputError

CONFIG_DIR = Path(__file__).resolve().parent


def list_configs() -> list[str]:
    """Names of the shipped configs (without .yaml)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def config_path(name: str | Path) -> Path:
    """A config file: an existing path as given, else a shipped config by name ("mocogan_demo") or file
    name ("mocogan_demo.yaml"); a MexkitInputError naming the available ones otherwise."""
    given = Path(name)
    if given.is_file():
        return given
    shipped = CONFIG_DIR / (given.name if given.suffix in (".yaml", ".yml") else f"{given.name}.yaml")
    if shipped.is_file():
        return shipped
    raise MexkitInputError(name, "config file not found",
                           f"pass a YAML file or the name of a shipped config: {', '.join(list_configs())}", stage="config")


def config_label(path: str | Path) -> str:
    """How a config is named in provenance (model cards, run records): "configs/<file>" for a shipped one —
    the same on every machine — else the path as given."""
    p = Path(path)
    try:
        return f"configs/{p.resolve().relative_to(CONFIG_DIR.resolve())}"
    except ValueError:
        return str(path)


def read_config(parser: Any, name: str | Path, args: Sequence[str] = ()) -> Any:
    """Parse the config `name` (found by `config_path`) with a jsonargparse parser that has a `--config`
    option (plus command-line style `args` overriding it); returns the parsed Namespace."""
    from jsonargparse import ArgumentError

    path = config_path(name)
    try:
        return parser.parse_args(["--config", str(path), *args])
    except ArgumentError as err:
        raise MexkitInputError(path, f"invalid config: {str(err).strip().rstrip('.')}",
                               "fix the key or value named above (see the shipped configs in mexkit/configs for the layout)",
                               stage="config") from None
    except SystemExit as err:  # a parser that exits on error has already printed why
        raise MexkitInputError(path, f"invalid config (parser exited with {err.code})", "see the message above", stage="config") from None
