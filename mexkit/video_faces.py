"""Streaming face tracking over a `VideoStream`: landmarks, blendshapes and registration on every frame.

`FaceTracker(all_faces=False).track(stream)` yields one `TrackedFrame` per decoded frame, lazily:

- landmarks: MediaPipe FaceLandmarker in VIDEO running mode (it tracks the face from the previous frame's
  landmarks and runs its detector only when the face is lost: half the landmark jitter of IMAGE mode,
  measured on single_face.mp4), 478 points + 52 blendshapes per face;
- face ids: one face (the largest, id 0) by default; with all_faces every face, an id kept from frame to
  frame by box overlap (IoU ≥ MATCH_IOU with the face's last box, within LOST_SECONDS of losing it);
- registration: each frame's face is mapped onto its track's reference frame (the first frame of the
  track) by the similarity that best fits the STABLE_POINTS (eye corners, nose bridge and tip: they
  do not move with expressions), so head motion does not count as expression. `TrackedFace.crop(image,
  size)` gives the registered face in the eye-template geometry of mexkit/face/align.py, and
  `registered` the landmarks in reference coordinates;
- gaps: frames where a track has no face (and holes in the timestamps: frames that did not decode) are
  listed per face in `tracker.gaps` (final after the iteration); spotters never join across them.
"""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Iterator

import cv2
import numpy as np

from .face.align import eye_affine
from .video_stream import VideoStream

# MediaPipe 478 indices that expressions barely move: outer/inner eye corners, nose bridge, nose tip.
STABLE_POINTS = np.array([33, 133, 362, 263, 168, 6, 197, 195, 5, 4], dtype=np.int64)
# Eye centres in MediaPipe indices (outer and inner corners of each eye).
LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS = (33, 133), (362, 263)
MATCH_IOU = 0.3
LOST_SECONDS = 2.0
# A step between timestamps this many times the recent median step is a hole (frames that did not decode).
HOLE_FACTOR = 2.5
BLENDSHAPE_NAMES: tuple[str, ...] = ()  # filled from the model's output on the first face


@dataclass
class TrackedFace:
    """One face in one frame. landmarks (478, 2) float32 image pixels; blendshapes (52,) float32 in
    BLENDSHAPE_NAMES order; to_reference 2×3 similarity image → reference frame; crop_affine 2×3 image →
    eye-template crop of size 1 (scale by the crop size); iod: inter-ocular distance in reference pixels."""

    face_id: int
    bbox: tuple[float, float, float, float]
    landmarks: np.ndarray
    blendshapes: np.ndarray
    to_reference: np.ndarray
    crop_affine: np.ndarray
    iod: float
    new_segment: bool = False  # first frame of the track after a gap (or the very first)

    @property
    def registered(self) -> np.ndarray:
        """Landmarks (478, 2) in the reference frame's pixels: head motion removed."""
        return self.landmarks @ self.to_reference[:, :2].T + self.to_reference[:, 2]

    def crop(self, image: np.ndarray, size: int, gray: bool = True) -> np.ndarray:
        """The registered face, size × size, eye-template geometry (uint8; gray unless gray=False)."""
        m = self.crop_affine.copy()
        m *= size
        src = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if gray and image.ndim == 3 else image
        return cv2.warpAffine(src, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@dataclass
class TrackedFrame:
    """A decoded frame (index, time_s, RGB image) and the faces tracked in it."""

    index: int
    time_s: float
    image: np.ndarray
    faces: list[TrackedFace]


@dataclass
class _Track:
    face_id: int
    reference: np.ndarray  # (10, 2) stable points of the reference frame
    template: np.ndarray  # 2×3 reference frame → unit eye-template crop
    iod: float
    last_box: tuple[float, float, float, float]
    last_index: int
    last_time: float
    first_index: int = 0
    broken: bool = False  # a decode hole since the last frame: the next frame starts a new segment


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src (N, 2) onto dst (N, 2)
    → 2×3 float64 (Umeyama's closed form without reflection)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    var = (a**2).sum()
    if var <= 0:
        return np.hstack([np.eye(2), (md - ms)[:, None]])
    cov = b.T @ a / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1
    rot = u @ np.diag(d) @ vt
    scale = (s * d).sum() / (var / len(src))
    t = md - scale * rot @ ms
    return np.hstack([scale * rot, t[:, None]])


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """2×3 affine: apply inner, then outer."""
    return np.hstack([outer[:, :2] @ inner[:, :2], (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]])


def _iou(a, b) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class VideoLandmarker:
    """MediaPipe FaceLandmarker in VIDEO mode over frames with increasing timestamps. → list of
    (landmarks (478, 2) float32 pixels, blendshapes (52,) float32), largest face first."""

    def __init__(self, num_faces: int = 1, min_confidence: float = 0.5):
        import mediapipe as mp

        from .face.mediapipe_backend import new_face_landmarker

        self._mp = mp
        self._landmarker = new_face_landmarker("video", num_faces, min_confidence, blendshapes=True)
        self._last_ms = -1
        threading._register_atexit(self.close)

    def __call__(self, image: np.ndarray, time_s: float) -> list[tuple[np.ndarray, np.ndarray]]:
        global BLENDSHAPE_NAMES
        h, w = image.shape[:2]
        ms = max(self._last_ms + 1, int(round(time_s * 1000)))  # strictly increasing, as VIDEO mode needs
        self._last_ms = ms
        result = self._landmarker.detect_for_video(
            self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)), ms)
        out = []
        for i, lms in enumerate(result.face_landmarks):
            pts = np.array([(p.x * w, p.y * h) for p in lms], dtype=np.float32)
            cats = result.face_blendshapes[i] if result.face_blendshapes else []
            if cats and not BLENDSHAPE_NAMES:
                BLENDSHAPE_NAMES = tuple(c.category_name for c in cats)
            out.append((pts, np.array([c.score for c in cats], dtype=np.float32)))
        out.sort(key=lambda f: -float(np.ptp(f[0][:, 0]) * np.ptp(f[0][:, 1])))
        return out

    def close(self) -> None:
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None


@dataclass
class Gap:
    """Frames of one face track between `after_frame` and `before_frame` (both exclusive) lack the face:
    reason "no face" (the face was lost; after_frame −1: not yet seen; before_frame = frames seen: never
    found again) or "not decoded" (a hole in the timestamps: frames missing from the video itself)."""

    face_id: int
    after_frame: int
    before_frame: int
    after_s: float
    before_s: float
    missing_frames: int
    reason: str


@dataclass
class FaceTracker:
    """Tracks faces through a VideoStream (see the module docstring). max_faces bounds all_faces.
    After `track` has run: gaps (list of Gap), frames_seen, frames_with_face."""

    all_faces: bool = False
    max_faces: int = 4
    gaps: list[Gap] = field(default_factory=list)
    frames_with_face: int = 0
    frames_seen: int = 0

    def track(self, stream: VideoStream) -> Iterator[TrackedFrame]:
        landmarker = VideoLandmarker(num_faces=self.max_faces if self.all_faces else 1)
        tracks: list[_Track] = []
        self.gaps = []
        self.frames_with_face = self.frames_seen = 0
        self._fps = stream.fps
        prev_time, last_index, last_time = None, -1, 0.0
        steps: deque[float] = deque(maxlen=31)
        try:
            for frame in stream:
                self.frames_seen += 1
                # a hole in the timestamps (frames that did not decode) ends every track's segment
                hole = False
                if prev_time is not None:
                    step = frame.time_s - prev_time
                    usual = float(np.median(steps)) if steps else 1.0 / stream.fps
                    hole = step > HOLE_FACTOR * usual and step > 1.5 / stream.fps
                    steps.append(step)
                if hole:
                    for tr in tracks:
                        if tr.last_index == frame.index - 1:
                            missing = int(round((frame.time_s - prev_time) * stream.fps)) - 1
                            self.gaps.append(Gap(tr.face_id, tr.last_index, frame.index, prev_time, frame.time_s, missing, "not decoded"))
                            tr.broken = True
                prev_time = frame.time_s
                found = landmarker(frame.image, frame.time_s)
                faces = self._assign(found, tracks, frame.index, frame.time_s)
                if faces:
                    self.frames_with_face += 1
                last_index, last_time = frame.index, frame.time_s
                yield TrackedFrame(frame.index, frame.time_s, frame.image, faces)
        finally:
            landmarker.close()
        for tr in tracks:
            if tr.last_index < last_index:
                self.gaps.append(Gap(tr.face_id, tr.last_index, last_index + 1, tr.last_time, last_time + 1 / stream.fps,
                                     last_index - tr.last_index, "no face"))
        self.gaps.sort(key=lambda g: (g.face_id, g.after_frame))

    def _assign(self, found, tracks: list[_Track], index: int, time_s: float) -> list[TrackedFace]:
        if not self.all_faces:
            found = found[:1]
        out = []
        used: set[int] = set()
        for pts, shapes in found:
            box = (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))
            if self.all_faces:
                cands = [t for t in tracks if t.face_id not in used and time_s - t.last_time <= LOST_SECONDS]
                best = max(cands, key=lambda t: _iou(t.last_box, box), default=None)
                track = best if best is not None and _iou(best.last_box, box) >= MATCH_IOU else None
            else:
                track = tracks[0] if tracks else None
            stable = pts[STABLE_POINTS]
            if track is None:
                le, re_ = pts[list(LEFT_EYE_CORNERS)].mean(0), pts[list(RIGHT_EYE_CORNERS)].mean(0)
                track = _Track(len(tracks), stable, eye_affine(le, re_, 1), float(np.linalg.norm(re_ - le)), box, index,
                               time_s, first_index=index)
                if index > 0:
                    self.gaps.append(Gap(track.face_id, -1, index, 0.0, time_s, index, "no face"))
                tracks.append(track)
                new = True
            else:
                new = track.last_index != index - 1 or track.broken
                if track.last_index != index - 1:
                    self.gaps.append(Gap(track.face_id, track.last_index, index, track.last_time, time_s,
                                         index - track.last_index - 1, "no face"))
            used.add(track.face_id)
            to_ref = similarity(stable, track.reference)
            track.last_box, track.last_index, track.last_time, track.broken = box, index, time_s, False
            out.append(TrackedFace(track.face_id, box, pts, shapes, to_ref, _compose(track.template, to_ref), track.iod, new))
        return out
