"""Writing what `mexkit spot` finds, atomically and resumably.

An output folder holds, per video, `videos/<name>/` (intervals.csv, gaps.csv, signals.parquet,
info.json — written as one atomic folder, so a killed run leaves each video whole or absent), and for
the run: intervals.csv (SPOT_PRED_COLUMNS + face_id, every video), gaps.csv, signals.parquet (every
video's per-frame signals with a `video` column), spot_info.json (each video's info) and rejects.csv
when some input failed. A rerun skips the videos whose folder holds a result made with the same request
(spotter, parameters, source size and modification time) and rebuilds the run files from the folders.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from mexkit.atomic import atomic_path, atomic_write_text

from .spot_video import GAP_COLUMNS, INTERVAL_COLUMNS, SpotResult

RESULT_FILES = ("intervals.csv", "gaps.csv", "signals.parquet", "info.json")


def safe_name(video: str) -> str:
    """A folder name for a video id ("s15/15_0101" → "s15__15_0101")."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", video.replace("/", "__")) or "video"


def source_key(path: Path) -> dict:
    """Which input a stored result was made from: its resolved path, size (a frame folder: its entry count) and
    modification time (the first keys of `mexkit spot`'s and `mexkit detect`'s requests)."""
    st = path.stat()
    size = st.st_size if path.is_file() else sum(1 for _ in path.iterdir())
    return {"source": str(path.resolve()), "size": size, "mtime": st.st_mtime}


def request_key(path: Path, spotter: str, parameters: dict, all_faces: bool, fps: float | None) -> dict:
    """What must match for a stored result to be reused."""
    return {**source_key(path), "spotter": spotter,
            "parameters": {k: v for k, v in parameters.items() if k != "fps"}, "all_faces": all_faces, "fps": fps}


def save_video_result(folder: Path, result: SpotResult, request: dict) -> None:
    """One video's result as an atomic folder."""
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        result.intervals.to_csv(tmp / "intervals.csv", index=False)
        result.gaps.to_csv(tmp / "gaps.csv", index=False)
        result.signals.to_parquet(tmp / "signals.parquet", index=False)
        (tmp / "info.json").write_text(json.dumps({"request": request, "info": result.info}, indent=1, default=str))


def stored_meta(folder: Path, files: Sequence[str], request: dict | None = None) -> dict | None:
    """The info.json ({"request", "info"}) of a stored per-video folder, or None when one of `files` is absent,
    info.json cannot be read, or the folder was made for another request (`mexkit spot` and `mexkit detect`)."""
    if not all((folder / f).is_file() for f in files):
        return None
    try:
        meta = json.loads((folder / "info.json").read_text())
    except (OSError, ValueError):
        return None
    if request is not None and json.loads(json.dumps(request, default=str)) != meta.get("request"):
        return None
    return meta


def load_video_result(folder: Path, request: dict | None = None) -> SpotResult | None:
    """A stored result, or None when absent, incomplete or made for another request."""
    meta = stored_meta(folder, RESULT_FILES, request)
    if meta is None:
        return None
    intervals = pd.read_csv(folder / "intervals.csv", dtype={"video": str, "subject": str}, keep_default_na=False)
    gaps = pd.read_csv(folder / "gaps.csv", dtype={"video": str})
    return SpotResult(intervals, pd.read_parquet(folder / "signals.parquet"), gaps, meta["info"])


def write_run(out: Path, results: list[SpotResult]) -> None:
    """The run's combined files from the per-video results (atomic, one by one)."""
    intervals = pd.concat([r.intervals for r in results], ignore_index=True) if results else pd.DataFrame(columns=INTERVAL_COLUMNS)
    gaps = pd.concat([r.gaps for r in results], ignore_index=True) if results else pd.DataFrame(columns=GAP_COLUMNS)
    atomic_write_text(out / "intervals.csv", intervals.reindex(columns=INTERVAL_COLUMNS).to_csv(index=False))
    atomic_write_text(out / "gaps.csv", gaps.reindex(columns=GAP_COLUMNS).to_csv(index=False))
    if results:
        signals = pd.concat([r.signals.assign(video=r.info["video"]) for r in results], ignore_index=True)
        with atomic_path(out / "signals.parquet") as tmp:
            signals.to_parquet(tmp, index=False)
    atomic_write_text(out / "spot_info.json", json.dumps([r.info for r in results], indent=1, default=str))
