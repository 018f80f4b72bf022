"""Paths given as arguments, checked before a command reads or writes anything: a file where a folder is
needed, a folder where a file is needed, a path under a file, a folder that cannot be written or a missing
input is a MexkitInputError naming the path, the option and the fix. Nothing is created here."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

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


def check_output_file(path: str | Path, option: str = "--out", own: Callable[[Path], bool] | None = None) -> Path:
    """`path` is usable as an output file (a writable file, or creatable in a writable folder); returned as a Path.

    own: recognises the command's own earlier output (`csv_with_columns`, `text_with_marker`, …); an existing
    file it does not recognise is refused instead of silently overwritten."""
    path = Path(path)
    fix = f"give {option} a file path in a folder you can write to (e.g. runs/{path.name or 'out'})"
    if path.is_dir():
        raise MexkitInputError(path, f"{option}: an existing folder, not a file", f"give {option} a file name, e.g. {path / 'out'}", stage="output")
    if path.exists():
        if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
            raise MexkitInputError(path, f"{option}: file cannot be replaced (not writable)", fix, stage="output")
        if own is not None and not own(path):
            raise MexkitInputError(path, f"{option}: an existing file that this command did not write (it would be overwritten)",
                                   f"give {option} a new file name, or move or delete that file first", stage="output")
    else:
        _check_creatable(path, option, fix)
    return path


def _head(path: Path, size: int = 1 << 20) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(size).decode("utf-8", errors="replace")
    except OSError:
        return ""


def csv_with_columns(*columns: str) -> Callable[[Path], bool]:
    """`own` for check_output_file: a CSV whose header line holds every one of `columns` (a table mexkit writes)."""

    def own(path: Path) -> bool:
        header = _head(path, 1 << 16).lstrip("\ufeff").splitlines()[:1]
        return bool(header) and set(columns) <= {c.strip().strip('"') for c in header[0].split(",")}

    return own


def text_with_marker(marker: str) -> Callable[[Path], bool]:
    """`own` for check_output_file: a text file holding `marker` in its first MiB (e.g. an HTML report's "by mexkit")."""
    return lambda path: marker in _head(path)


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
        raise MexkitInputError(path, f"{option}: {'a file, not a' if path.exists() else 'no such'} folder", fix, stage=stage)
    return path
