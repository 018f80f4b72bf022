"""wandb tracking shared by `mexkit train`, `mexkit eval` and `mexkit study` (`--wandb`).

Offline unless the user chose a mode: `WANDB_MODE=offline` is set only where WANDB_MODE is unset, so
no login is ever needed. A run is written under the command's output folder
(`<dir>/wandb/offline-run-*/`: `run-*.wandb` holds config, metrics, tables and artifact manifests;
`files/media/` the logged tables and GIFs) and can be uploaded later with `wandb sync <that folder>`.
Offline artifacts keep their files in wandb's staging folder (WANDB_DATA_DIR, default
~/.local/share/wandb) until they are synced.

The commands build on these helpers; none of them calls a command line.
"""
from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import MexkitInputError

PROJECT = "mexkit"


def offline_by_default() -> str:
    """WANDB_MODE=offline unless the user set a mode (and WANDB_SILENT=true unless set); returns the mode."""
    os.environ.setdefault("WANDB_MODE", "offline")
    os.environ.setdefault("WANDB_SILENT", "true")
    return os.environ["WANDB_MODE"]


def init_kwargs(save_dir: str | Path) -> dict[str, str]:
    """The `wandb.init` arguments every mexkit run passes: the mode (offline unless WANDB_MODE is set) and
    the folder, absolute. Both explicitly: wandb reads the environment once per process and its service
    process resolves relative folders against its own working folder, not the caller's."""
    return {"mode": offline_by_default(), "dir": str(Path(save_dir).resolve())}


def import_wandb():
    """The wandb module, with the offline default applied first."""
    offline_by_default()
    try:
        import wandb
    except ImportError:
        raise MexkitInputError(None, "wandb logging was requested but wandb is not installed",
                               "reinstall mexkit (wandb is one of its dependencies: pip install wandb), or drop --wandb",
                               stage="tracking") from None
    return wandb


def plain_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """A JSON-plain copy of a configuration (paths and other objects as strings)."""
    return json.loads(json.dumps(dict(config or {}), default=str))


def start_run(save_dir: str | Path, name: str, job_type: str, config: Mapping[str, Any] | None = None,
              project: str = PROJECT):
    """A wandb run writing to `<save_dir>/wandb/` (offline by default). Finish it with `finish_run(run)`."""
    wandb = import_wandb()
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    return wandb.init(project=project, name=name, job_type=job_type, config=plain_config(config), **init_kwargs(save_dir))


def finish_run(run) -> None:
    """Finish a wandb run and return only once its files are complete. `run.finish()` returns when the
    service has taken the exit record, but the service writes and closes the run's transaction log
    (`run-*.wandb`) on its own time afterwards: read at once, the log could lack its last records — or,
    behind a busy machine, all but its header (a test saw the run record, then the config, missing). When no
    other run of this process is open, `wandb.teardown()` waits for the service to finish every run's files."""
    run.finish()
    import sys

    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is None:
        wandb.teardown()


def row_metrics(df: pd.DataFrame, keys: Sequence[str], prefix: str = "") -> dict[str, float]:
    """{"<prefix><key values joined by />/<column>": value} for every numeric (not boolean) column of
    every row; missing values are left out."""
    out: dict[str, float] = {}
    numeric = [c for c in df.columns if c not in keys and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    for row in df.to_dict("records"):
        head = "/".join(str(row[k]) for k in keys)
        for c in numeric:
            value = row[c]
            if value is not None and np.isfinite(value):
                out[f"{prefix}{head}/{c}"] = float(value)
    return out


def to_table(df: pd.DataFrame):
    """A wandb.Table of a DataFrame (a meaningful index becomes columns; missing values → None)."""
    wandb = import_wandb()
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    plain = df.astype(object).where(df.notna(), None)
    return wandb.Table(columns=[str(c) for c in df.columns], data=plain.to_numpy().tolist(), allow_mixed_types=True)


def log_tables(run, tables: Mapping[str, pd.DataFrame], prefix: str = "tables/") -> list[str]:
    """Log each non-empty DataFrame as a wandb.Table under `<prefix><name>`; returns the keys logged."""
    logged = {f"{prefix}{name}": to_table(df) for name, df in tables.items() if df is not None and not df.empty}
    if logged:
        run.log(logged)
    return list(logged)


def gif_video(frames: np.ndarray, fps: float, caption: str | None = None):
    """A wandb.Video of uint8 RGB frames (T, H, W, 3), encoded as a looping GIF (no ffmpeg or moviepy)."""
    from .video_io import gif_bytes

    wandb = import_wandb()
    return wandb.Video(io.BytesIO(gif_bytes(frames, fps)), format="gif", caption=caption)


def log_gifs(run, samples: Iterable[tuple[str, np.ndarray, float, str | None]], prefix: str = "samples/") -> list[str]:
    """Log (name, frames, fps, caption) samples as GIF videos under `<prefix><name>`; returns the keys."""
    logged = {f"{prefix}{name}": gif_video(frames, fps, caption) for name, frames, fps, caption in samples}
    if logged:
        run.log(logged)
    return list(logged)


def artifact_name(name: str) -> str:
    """A valid wandb artifact name (letters, digits, '-', '_', '.')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "artifact"


def log_files_artifact(run, files: Iterable[str | Path], name: str, kind: str, root: str | Path | None = None,
                       description: str | None = None, metadata: Mapping[str, Any] | None = None):
    """Log existing files as one artifact (names relative to `root` where given); returns the artifact."""
    wandb = import_wandb()
    art = wandb.Artifact(artifact_name(name), type=kind, description=description, metadata=plain_config(metadata))
    for f in files:
        f = Path(f)
        if f.is_file():
            art.add_file(str(f), name=f.relative_to(root).as_posix() if root is not None else f.name)
    run.log_artifact(art)
    return art
