"""The sha256 of a file's content, read in 1 MiB blocks (memory flat in file size)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """Hex sha256 digest of the file at `path` (source faces, inserted videos, kept recognizers' weights)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
