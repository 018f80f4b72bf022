"""`spot_video`: find expression intervals in one video, streaming (docs/design.md §8).

    result = spot_video("talk.mp4")                      # default spotter, largest face
    result.intervals   # DataFrame: SPOT_PRED_COLUMNS + face_id (onset/apex/offset: 0-based decoded frames)
    result.signals     # DataFrame: frame, time_s, face_id, segment, head_* and the spotter's columns
    result.gaps        # DataFrame: GAP_COLUMNS (frames without the face, holes in the timestamps)
    result.info        # spotter, parameters in seconds and frames, fps, VFR, decode report, counts

The video is decoded once; each frame's faces are tracked and registered (mexkit/video_faces.py) and fed
to the spotters' feature streams; the per-frame signals (a few floats a frame) are all that is kept.
Intervals are found per face and per segment (a stretch without a gap), so none spans a gap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mexkit.datasets.manifest_columns import ME_MAX_SECONDS, SPOT_PRED_COLUMNS
from mexkit.errors import MexkitInputError
from mexkit.video_faces import FaceTracker
from mexkit.video_stream import VideoStream

from .spotter import FaceFrame, Spotter, make_spotter

INTERVAL_COLUMNS = [*SPOT_PRED_COLUMNS, "face_id"]
GAP_COLUMNS = ["video", "face_id", "after_frame", "before_frame", "after_s", "before_s", "missing_frames", "reason"]
BASE_SIGNAL_COLUMNS = ["frame", "time_s", "face_id", "segment", "head_scale", "head_roll_deg", "head_dx", "head_dy"]


@dataclass
class SpotResult:
    """What spotting one video found (see the module docstring)."""

    intervals: pd.DataFrame
    signals: pd.DataFrame
    gaps: pd.DataFrame
    info: dict = field(default_factory=dict)


def video_name(path: str | Path, root: str | Path | None = None) -> str:
    """A video's id: its path relative to `root` (POSIX, no extension) when given, else its file stem or
    folder name. Frame folders of a release keyed like the long-video adapters: pass the frames root."""
    p = Path(path)
    if root is not None:
        try:
            rel = p.resolve().relative_to(Path(root).resolve())
            return (rel.with_suffix("") if p.is_file() else rel).as_posix()
        except ValueError:
            pass
    return p.stem if p.is_file() else p.name


def spot_video(source: str | Path | VideoStream, spotter: str | Spotter = "default", fps: float | None = None,
               all_faces: bool = False, progress: bool = True, video: str | None = None, subject: str = "",
               **spotter_overrides) -> SpotResult:
    """Spot one video file or frame folder (see the module docstring).

    source: a path (file or frame folder; a folder needs fps) or an open VideoStream. spotter: a name from
    spotter_names() ("default" = the measured best) or a Spotter. all_faces: every face with its own id
    (else the largest). video / subject: the ids written in `intervals` (default: video_name(path)).
    spotter_overrides: parameters of the spotter (seconds or settings, e.g. on=0.12).
    """
    stream = source if isinstance(source, VideoStream) else VideoStream(source, fps)
    if isinstance(spotter, Spotter):
        spotters = [spotter]
    else:
        spotters = [make_spotter(spotter, stream.fps, **spotter_overrides)]
    return spot_stream(stream, spotters, all_faces=all_faces, progress=progress, video=video, subject=subject)[0]


def spot_stream(stream: VideoStream, spotters: list[Spotter], all_faces: bool = False, progress: bool = True,
                video: str | None = None, subject: str = "") -> list[SpotResult]:
    """Several spotters over one pass of the video (shared decoding, tracking and registration) → one
    SpotResult per spotter, in order."""
    video = video if video is not None else video_name(stream.path)
    tracker = FaceTracker(all_faces=all_faces)
    rows: dict[tuple[int, int], dict] = {}  # (face_id, frame) → signal row
    streams: dict[int, list] = {}
    segment: dict[int, int] = {}

    def take(face_id: int, produced) -> None:
        for index, values in produced:
            rows[(face_id, index)].update(values)

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=stream.num_frames or None, desc=f"spot {video}", unit="frame", leave=False)
    for tf in tracker.track(stream):
        if bar is not None:
            bar.update(1)
        for face in tf.faces:
            fid = face.face_id
            if face.new_segment or fid not in streams:
                for sp, fs in zip(spotters, streams.get(fid, [])):
                    take(fid, fs.flush())
                streams[fid] = [sp.feature_stream() for sp in spotters]
                segment[fid] = segment.get(fid, -1) + 1
            m = face.to_reference
            scale = math.hypot(m[0, 0], m[1, 0])
            rows[(fid, tf.index)] = {
                "frame": tf.index, "time_s": tf.time_s, "face_id": fid, "segment": segment[fid],
                "head_scale": 1.0 / scale if scale else np.nan, "head_roll_deg": -math.degrees(math.atan2(m[1, 0], m[0, 0])),
                "head_dx": float(face.landmarks[4, 0] - face.registered[4, 0]), "head_dy": float(face.landmarks[4, 1] - face.registered[4, 1]),
            }
            ff = FaceFrame(tf.index, tf.time_s, tf.image, face)
            for fs in streams[fid]:
                take(fid, fs.push(ff))
    if bar is not None:
        bar.close()
    for fid, fss in streams.items():
        for fs in fss:
            take(fid, fs.flush())
    if tracker.frames_with_face == 0:
        raise MexkitInputError(stream.path, f"no face found in any of its {tracker.frames_seen} frames",
                               "spot a video that shows a face (frontal, lit, at least ~64 px across)", stage="detect")

    base = pd.DataFrame(list(rows.values()))
    base = base.sort_values(["face_id", "frame"], kind="stable").reset_index(drop=True)
    gaps = pd.DataFrame([{"video": video, **g.__dict__} for g in tracker.gaps], columns=GAP_COLUMNS)
    stream_info = stream.report()
    results = []
    for sp in spotters:
        signals = base[[c for c in base.columns if c in BASE_SIGNAL_COLUMNS or c in sp.columns]].copy()
        found = []
        extra: dict[str, np.ndarray] = {c: np.full(len(signals), np.nan) for c in sp.columns}
        for (fid, seg), part in signals.groupby(["face_id", "segment"], sort=True):
            idx = part.index.to_numpy()
            cols = {c: (part[c].to_numpy(np.float64) if c in part else np.full(len(part), np.nan)) for c in sp.columns}
            frames = part["frame"].to_numpy()
            for iv in sp.find(cols):
                found.append({"video": video, "subject": subject, "onset": int(frames[iv.onset]), "apex": int(frames[iv.apex]),
                              "offset": int(frames[iv.offset]), "type": iv.type, "score": round(float(iv.score), 6),
                              "face_id": int(fid)})
            for c in sp.columns:
                extra[c][idx] = cols[c]
        for c in sp.columns:
            signals[c] = extra[c]
        intervals = pd.DataFrame(found, columns=INTERVAL_COLUMNS)
        intervals = intervals.sort_values(["face_id", "onset", "offset", "type"], kind="stable").reset_index(drop=True)
        info = {
            "video": video, "subject": subject, **sp.parameters(), "me_max_s": ME_MAX_SECONDS,
            "variable_frame_rate": stream.variable_frame_rate, "all_faces": all_faces, "faces": int(base["face_id"].nunique()),
            "frames": tracker.frames_seen, "frames_with_face": tracker.frames_with_face, "stream": stream_info,
            "time_source": "timestamps" if not (stream.is_folder or stream.fps_given) else "index / fps",
        }
        results.append(SpotResult(intervals, signals, gaps, info))
    return results
