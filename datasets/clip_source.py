"""Where the preprocessing cache gets a clip from, and the content hash that keys it.

A source is cheap to pickle (it is sent to worker processes) and loads its clip only when asked.
`content_hash` depends on the frames' bytes, not on paths or file times, so a copied or moved
dataset still hits the cache and an edited frame misses it.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError
from mexkit.video_io import VIDEO_EXTS, list_frame_files

from .adapter_base import load_manifest_clip
from .frame_folders import numbered_frames, select_range
from .manifest_validation import is_unknown, resolve_inside

_CHUNK = 1 << 20


def _hash_files(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()


@dataclass
class ManifestClipSource:
    """A manifest row of a dataset rooted at `root` (any adapter's output, or a generic CSV)."""

    root: str
    row: dict[str, Any]
    dataset_name: str = ""
    origin: str = ""  # where the row was read, for messages: "<manifest>: line 9" ("" when unknown)

    @property
    def sample_id(self) -> str:
        return str(self.row["sample_id"])

    def describe(self) -> str:
        return str(Path(self.root) / str(self.row.get("path", "")))

    def files(self) -> list[Path]:
        """The files the clip is read from (frame files in order, or the video file)."""
        path = resolve_inside(self.root, self.row.get("path"), "manifest", f"sample {self.sample_id}")
        if path.is_dir():
            start, stop = self.row.get("frame_start"), self.row.get("frame_stop")
            if not is_unknown(start) and not is_unknown(stop):
                sel, _ = select_range(numbered_frames(path), int(float(start)), int(float(stop)))
                return [p for _, p in sel]
            return list_frame_files(path)
        if path.suffix.lower() in VIDEO_EXTS or path.is_file():
            return [path]
        return []

    def _range(self, files: list[Path]) -> str:
        return "" if not files or files[0].suffix.lower() not in VIDEO_EXTS else f"{self.row.get('frame_start')}:{self.row.get('frame_stop')}"

    def content_hash(self) -> str:
        files = self.files()
        return hashlib.sha256((_hash_files(files) + self._range(files)).encode()).hexdigest()

    def file_signature(self) -> str:
        """A cheap stand-in for the content: every file's absolute path, size and mtime (os.stat only).

        The preprocessing cache remembers signature → content hash, so a rerun over unchanged files
        reads no frame bytes; an edited, added or removed file changes the signature and is hashed
        again. (An edit that keeps both size and mtime goes unseen: `mexkit prepare --rehash`.)
        """
        files = self.files()
        h = hashlib.sha256(self._range(files).encode())
        folders: dict[Path, str] = {}  # resolve each folder once, not every frame file
        for f in files:
            st = os.stat(f)
            folder = folders.get(f.parent) or folders.setdefault(f.parent, str(f.parent.resolve()))
            h.update(f"{folder}/{f.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        return h.hexdigest()

    def timing(self) -> tuple[int, int, int]:
        return int(self.row["onset"]), int(self.row["apex"]), int(self.row["offset"])

    def record(self) -> dict[str, Any]:
        return dict(self.row)

    def load(self) -> Clip:
        return load_manifest_clip(self.root, self.row)


@dataclass
class MemoryClipSource:
    """A clip already in memory (the embedded corpus, synthetic clips before they are written)."""

    clip: Clip
    _hash: str | None = field(default=None, repr=False)

    @property
    def sample_id(self) -> str:
        return self.clip.sample_id

    def describe(self) -> str:
        return self.clip.source or self.clip.sample_id

    def file_signature(self) -> None:
        """In-memory clips have no files: their content is hashed every time (memory speed)."""
        return None

    def content_hash(self) -> str:
        if self._hash is None:
            f = np.ascontiguousarray(self.clip.frames)
            h = hashlib.sha256(str(f.shape).encode())
            h.update(memoryview(f.reshape(-1)))  # no copy of the frames
            self._hash = h.hexdigest()
        return self._hash

    def timing(self) -> tuple[int, int, int]:
        return self.clip.onset, int(self.clip.apex), int(self.clip.offset)

    def record(self) -> dict[str, Any]:
        return self.clip.record()

    def load(self) -> Clip:
        return self.clip


def sources_from_manifest(manifest: pd.DataFrame, root: str | Path | dict[str, str | Path]) -> list[ManifestClipSource]:
    """Sources for every manifest row. `root` is the dataset root, or {dataset: root} for a composite."""
    out = []
    for row in manifest.to_dict("records"):
        r = root.get(row.get("dataset"), None) if isinstance(root, dict) else root
        if r is None:
            raise MexkitInputError(None, f"no root given for dataset {row.get('dataset')!r} (sample {row.get('sample_id')})",
                                   "give one root per dataset of the manifest (--root DATASET=PATH)", stage="dataset")
        out.append(ManifestClipSource(str(r), row))
    return out
