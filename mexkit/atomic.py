"""Atomic writers: write to a temporary sibling, then rename, so readers never see half a file."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is renamed onto `path`, else removed.

    Works for files and folders (a folder target must not exist yet or is replaced whole).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    target = tmp / path.name
    try:
        yield target
        if path.is_dir() and target.is_dir():
            shutil.rmtree(path)
        os.replace(target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_append_line(path: str | Path, line: str) -> None:
    """Append one line to a text file durably (used for append-only logs such as manifests).

    A single `write` of a short line opened with O_APPEND is atomic on POSIX; the line is fsynced
    before returning, so a killed process leaves either the whole line or none of it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


FULL_DISK = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@contextlib.contextmanager
def full_disk_is_input_error(folder: str | Path, what: str = "writing") -> Iterator[None]:
    """Turn a full disk (or quota) met inside the block into a MexkitInputError naming `folder` and the fix
    (free space, rerun: the atomic, resumable writers pick up where the run stopped)."""
    try:
        yield
    except OSError as err:
        if err.errno not in FULL_DISK:
            raise
        from .errors import MexkitInputError

        raise MexkitInputError(folder, f"no space left on the disk while {what} ({err.strerror})",
                               "free space and rerun (it resumes)", stage="output") from None
