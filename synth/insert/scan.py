"""Pass 1 of `mexkit insert`: one streamed look at the whole video — where the face is, how large, and how
expressive the person is at each frame (mexkit/face/expression_activity.py).

Only per-frame scalars are kept (time, face found, eye distance, activity: ~40 bytes a frame), so an
hour of video costs a few MB; the frames themselves are dropped as soon as the tracker has seen them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mexkit.face.expression_activity import expression_activity, expression_columns
from mexkit.video_stream import VideoStream

LEFT_EYE, RIGHT_EYE = (33, 133), (362, 263)  # MediaPipe 478: outer and inner corners of each eye


@dataclass
class VideoScan:
    """times (T,) seconds; tracked (T,) bool; iod (T,) eye-centre distance in pixels (NaN without a face);
    activity (T,) expression activity (NaN without a face); fps: nominal rate; vfr: the stream's timestamps
    are not evenly spaced; width, height; report: VideoStream.report() after the pass."""

    times: np.ndarray
    tracked: np.ndarray
    iod: np.ndarray
    activity: np.ndarray
    fps: float
    vfr: bool
    width: int
    height: int
    report: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return len(self.times)

    def frame_at(self, time_s: float) -> int:
        """Index of the first frame at or after `time_s` (len = past the end)."""
        return int(np.searchsorted(self.times, float(time_s) - 1e-6, side="left"))


def scan_video(stream: VideoStream, progress: bool = False) -> VideoScan:
    """Track the largest face through the whole stream (MediaPipe VIDEO mode, mexkit.video_faces) → VideoScan."""
    import mexkit.video_faces as video_faces
    from tqdm.auto import tqdm

    times, iods, shapes = [], [], []
    cols = None
    tracker = video_faces.FaceTracker()
    bar = tqdm(total=len(stream) or None, unit="frame", desc=f"scan {stream.path.name}", disable=not progress, dynamic_ncols=True)
    try:
        for frame in tracker.track(stream):
            times.append(frame.time_s)
            if frame.faces:
                face = frame.faces[0]
                if cols is None:
                    cols = expression_columns(video_faces.BLENDSHAPE_NAMES)
                lm = face.landmarks
                iods.append(float(np.linalg.norm(lm[list(RIGHT_EYE)].mean(0) - lm[list(LEFT_EYE)].mean(0))))
                shapes.append(face.blendshapes[cols].astype(np.float32))
            else:
                iods.append(np.nan)
                shapes.append(None)
            bar.update(1)
    finally:
        bar.close()
    width = len(shapes[0]) if shapes and shapes[0] is not None else 23
    x = np.stack([s if s is not None else np.full(len(cols) if cols is not None else width, np.nan, np.float32) for s in shapes]) \
        if shapes else np.zeros((0, 23), np.float32)
    report = stream.report()
    return VideoScan(np.asarray(times, np.float64), np.isfinite(np.asarray(iods)), np.asarray(iods, np.float64),
                     expression_activity(x, stream.fps), float(stream.fps), bool(report.get("variable_frame_rate")),
                     int(stream.width), int(stream.height), report)
