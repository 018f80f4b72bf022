"""Paths given as arguments, checked before a command reads or writes anything: a file where a folder is
needed, a folder where a file is needed, a path under a file, a folder that cannot be written or a missing
input is a MexkitInputError naming the path, the option and the fix. Nothing is created here."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import MexkitInputError


def _nearest_existing(path: Path) -> Path:
    """The path itself or its closest ancestor that exists."""
    p = path.absolute()
    while not (p.exists() or p.is_symlink()) and p != p.parent:
        p = p.parent
    return p


def _check_creatable(path: Path, option: str, fix: str) -> None:
    """`path` does not exist yet: the closest existing ancestor must be a writable folder."""
    above = _nearest_existing(path.parent)
    if not above.is_dir():
        raise MexkitInputError(path, f"{option}: {above} is a file, not a folder, so nothing can be created under it", fix, stage="output")
    if not os.access(above, os.W_OK | os.X_OK):
        raise MexkitInputError(path, f"{option}: folder {above} is not writable", fix, stage="output")


def check_output_folder(path: str | Path, option: str = "--out") -> Path:
    """`path` is usable as an output folder (existing and writable, or creatable); returned as a Path."""
    path = Path(path)
    fix = f"give {option} a folder you can write to (e.g. under runs/)"
    if path.exists() and not path.is_dir():
        raise MexkitInputError(path, f"{option}: an existing file, not a folder", fix, stage="output")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise MexkitInputError(path, f"{option}: folder is not writable", fix, stage="output")
    else:
        _check_creatable(path, option, fix)
    return path


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """`path` is usable as an output file (a writable file, or creatable in a writable folder); returned as a Path."""
    path = Path(path)
    fix = f"give {option} a file path in a folder you can write to (e.g. runs/{path.name or 'out'})"
    if path.is_dir():
        raise MexkitInputError(path, f"{option}: an existing folder, not a file", f"give {option} a file name, e.g. {path / 'out'}", stage="output")
    if path.exists():
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
            raise MexkitInputError(path, f"{option}: file cannot be replaced (not writable)", fix, stage="output")
    else:
        _check_creatable(path, option, fix)
    return path


def check_input_file(path: str | Path, option: str, what: str, fix: str) -> Path:
    """`path` is an existing file (not a folder); returned as a Path."""
    path = Path(path)
    if path.is_dir():
        raise MexkitInputError(path, f"{option}: a folder, not a {what} file", fix, stage="input")
    if not path.is_file():
        raise MexkitInputError(path, f"{option}: {what} file not found", fix, stage="input")
    return path


def check_input_folder(path: str | Path, option: str, fix: str, stage: str = "input") -> Path:
    """`path` is an existing folder (not a file); returned as a Path."""
    path = Path(path)
    if not path.is_dir():
        raise MexkitInputError(path, f"{option}: {'a file, not' if path.exists() else 'no such'} folder", fix, stage=stage)
    return path
