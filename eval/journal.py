"""The per-clip journal of an evaluation run: one JSON line per finished clip, appended atomically.

A run killed at any moment leaves whole lines only (a torn last line is ignored on reading); started
again with the same configuration and clip sets it skips every clip already in the journal. The first
line holds a key of the configuration and sets: a journal with another key belongs to an earlier,
different run and is started afresh. Values go through JSON (floats round-trip exactly), so a clip
scored now and one read back from the journal give the same tables.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from mexkit.atomic import atomic_append_line, atomic_write_text

JOURNAL_NAME = "clips.jsonl"


def plain(obj):
    """json.dumps default: numpy scalars and arrays as Python values."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(record: dict) -> str:
    return json.dumps(record, default=plain, allow_nan=True, separators=(",", ":"))


def roundtrip(record: dict) -> dict:
    """The record as it will read back from the journal."""
    return json.loads(dumps(record))


def run_key(config: dict, sets: dict[str, list[str]]) -> str:
    """Hash of the configuration and of each set's sample ids (in order)."""
    text = dumps({"config": config, "sets": sets})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class RunJournal:
    """clips.jsonl in `folder`: `open(key)` → records already finished (empty for a new run); `append(record)`."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / JOURNAL_NAME

    def open(self, key: str) -> tuple[list[dict], bool]:
        """(records of this run so far, resumed?). A missing journal or one of another run starts a new one."""
        records: list[dict] = []
        if self.path.is_file():
            lines = self.path.read_text(encoding="utf-8").splitlines()
            try:
                header = json.loads(lines[0]) if lines else {}
            except json.JSONDecodeError:
                header = {}
            if header.get("key") == key:
                for line in lines[1:]:
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError:  # a torn last line from a killed run
                        continue
                return records, True
        atomic_write_text(self.path, dumps({"journal": "mexkit eval", "key": key}) + "\n")
        return records, False

    def append(self, record: dict) -> None:
        atomic_append_line(self.path, dumps(record))
