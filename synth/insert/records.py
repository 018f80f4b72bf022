"""The files of an insertion run and how they are kept consistent (atomic, resumable).

    DIR/<video>.mkv          the video with the events, lossless (FFV1): frames outside the windows are the
                             input's decoded frames, byte for byte
    DIR/<video>.preview.mp4  the same, H.264, for looking at
    DIR/truth.csv            one row per event, SPOT_TRUTH_COLUMNS (what the spotter is scored against)
    DIR/events.csv           one row per event: EVENT_COLUMNS, the provenance (generator, weights,
                             train_subjects, driving clip, source video and its sha256, subject) and timing
    DIR/videos.csv           one row per finished video (VIDEO_COLUMNS); written last: the commit mark
    DIR/rejects.csv          events or videos skipped, with the reason
    DIR/run.json             the settings; a run with other settings is refused in the same folder

A video counts as done when its row is in videos.csv and both video files exist; a rerun skips it. Rows
of a video that never reached videos.csv (a killed run) are dropped when the folder is opened again.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mexkit.atomic import atomic_write_text
from mexkit.datasets.manifest_columns import DRIVING_COLUMNS, SPOT_TRUTH_COLUMNS
from mexkit.errors import MexkitInputError

EVENT_COLUMNS = [
    "video", "event", "subject", "onset", "apex", "offset", "onset_s", "apex_s", "offset_s", "type", "emotion", "aus",
    "intensity", "duration_ms", "seed", "generator", "weights_hash", "train_subjects", *DRIVING_COLUMNS, "source",
    "source_sha256", "fps", "variable_frame_rate", "own_activity_max", "chosen_by", "condition",
]
VIDEO_COLUMNS = ["video", "source", "source_sha256", "subject", "frames", "fps", "variable_frame_rate", "width", "height",
                 "events", "lossless", "preview", "decode_errors"]
TABLES = {"truth.csv": SPOT_TRUTH_COLUMNS, "events.csv": EVENT_COLUMNS, "videos.csv": VIDEO_COLUMNS}


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame(columns=columns)
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(df.columns) != columns:
        raise MexkitInputError(path, "has other columns than this mexkit writes (another version's run?)", "write to a new --out folder",
                               stage="output")
    return df


class InsertRecords:
    """The tables of one output folder (see the module docstring)."""

    def __init__(self, out: Path, settings: dict):
        self.out = Path(out)
        self._check_settings(settings)
        self.tables = {name: _read(self.out / name, cols) for name, cols in TABLES.items()}
        done = set(self.tables["videos.csv"]["video"])
        for name in ("truth.csv", "events.csv"):  # rows of a video a killed run did not finish
            df = self.tables[name]
            if len(df) and not df["video"].isin(done).all():
                self.tables[name] = df[df["video"].isin(done)].reset_index(drop=True)
                self._write(name)

    def _check_settings(self, settings: dict) -> None:
        path = self.out / "run.json"
        mine = json.loads(json.dumps(settings))
        if path.exists():
            try:
                theirs = json.loads(path.read_text())
            except ValueError:
                theirs = None
            if theirs != mine:
                keys = sorted(k for k in set(mine) | set(theirs or {}) if (theirs or {}).get(k) != mine.get(k))
                raise MexkitInputError(self.out, f"holds an insertion run with other settings ({', '.join(keys) or 'run.json unreadable'} differ)",
                                       "write to a new --out folder, or repeat the earlier command to resume it", stage="output")
            return
        atomic_write_text(path, json.dumps(mine, indent=1, sort_keys=True) + "\n")

    def _write(self, name: str) -> None:
        atomic_write_text(self.out / name, self.tables[name].to_csv(index=False))

    def done(self, video: str) -> bool:
        rows = self.tables["videos.csv"]
        hit = rows[rows["video"] == video]
        return bool(len(hit)) and all((self.out / hit.iloc[0][c]).is_file() for c in ("lossless", "preview"))

    def add_video(self, video_row: dict, truth_rows: list[dict], event_rows: list[dict]) -> None:
        """Record one finished video: its events and truth rows first, its videos.csv row last."""
        vid = video_row["video"]
        for name, rows in (("events.csv", event_rows), ("truth.csv", truth_rows), ("videos.csv", [video_row])):
            df = self.tables[name]
            df = df[df["video"] != vid]
            new = pd.DataFrame(rows, columns=TABLES[name]).astype(str) if rows else pd.DataFrame(columns=TABLES[name])
            self.tables[name] = pd.concat([df, new], ignore_index=True) if len(df) else new.reset_index(drop=True)
            self._write(name)
