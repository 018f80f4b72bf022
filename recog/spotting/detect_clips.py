"""Spotted intervals → aligned face clips, for spot-then-recognize (`mexkit detect`, docs/design.md §8).

Two pieces, so a long video is never held in memory:

- `FaceBoxRecorder` rides along the spotting pass (`spot_stream`, one decode of the video): per frame and
  face it records the tracked face box and eye centres (8 floats). It is not a spotter — it finds nothing.
- `cut_clips` is a second streaming pass that keeps only the frames inside the intervals. Each interval's
  clip is aligned ONCE, on its onset frame, as the corpus and the dataset adapters align clips
  (`FacePipeline.align_clip`: the face detected in the onset frame, eye-template affine, every frame of the
  interval warped by that one affine). The face is the detection that overlaps the tracked face of the
  interval (its face_id) most; when the pipeline finds no such face in the onset frame, the tracker's own
  eye centres at the onset give the affine (same eye-template geometry), and the clip's `alignment` says so.
  Only the crops of the intervals under way are held (S × S × 3 bytes a frame).

A clip's apex is the spotter's. Where the spotter puts it on the onset frame (a peak at the window's start)
a flow recognizer has no onset→apex motion to measure and the interval would stay unnamed, so the apex is
estimated from the aligned clip instead (`estimated_apex`): the frame that differs most from the onset frame
(mean absolute grey difference), or the interval's middle when no frame differs; `Clip.apex_estimated` and
`meta["apex_source"]` record it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import pandas as pd

from mexkit.clip import Clip
from mexkit.face.align import eye_affine, warp_to_crop
from mexkit.video_faces import LEFT_EYE_CORNERS, RIGHT_EYE_CORNERS

from .spotter import FaceFrame, FeatureStream, Rows, SpotInterval, Spotter

BOX_COLUMNS = ("box_x0", "box_y0", "box_x1", "box_y1", "eye_lx", "eye_ly", "eye_rx", "eye_ry")
MATCH_IOU = 0.3  # a detection in the onset frame is the tracked face when their boxes overlap this much


class _BoxStream(FeatureStream):
    def push(self, frame: FaceFrame) -> Rows:
        f = frame.face
        le = f.landmarks[list(LEFT_EYE_CORNERS)].mean(0)
        re_ = f.landmarks[list(RIGHT_EYE_CORNERS)].mean(0)
        return [(frame.index, dict(zip(BOX_COLUMNS, [*map(float, f.bbox), float(le[0]), float(le[1]), float(re_[0]), float(re_[1])])))]


class FaceBoxRecorder(Spotter):
    """Records the tracked face box and eye centres of every frame (signal columns BOX_COLUMNS); finds no interval."""

    name = "face-boxes"
    columns = BOX_COLUMNS

    def feature_stream(self) -> FeatureStream:
        return _BoxStream()

    def find(self, signals: dict[str, np.ndarray]) -> list[SpotInterval]:
        return []


def box_iou(a, b) -> float:
    """IoU of two (x0, y0, x1, y1) boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass
class CutClip:
    """One interval's aligned clip: `clip` (frames uint8 (T, S, S, 3), onset 0, apex and offset relative to
    the interval's onset), how it was aligned ("face pipeline" / "tracker eye centres"), and the frames that
    did not decode inside it (their place taken by the previous crop)."""

    row: int
    clip: Clip
    alignment: str
    missing_frames: list[int] = field(default_factory=list)


def _onset_affine(image: np.ndarray, tracked: pd.Series | None, pipeline, size: int, all_faces: bool = False) -> tuple[np.ndarray, str]:
    """The alignment of an interval's onset frame (see the module docstring)."""
    faces = pipeline.detect(image, all_faces=all_faces) if pipeline is not None else []
    if tracked is not None and faces:
        box = tuple(tracked[c] for c in BOX_COLUMNS[:4])
        best = max(faces, key=lambda f: box_iou(f.bbox, box))
        if box_iou(best.bbox, box) >= MATCH_IOU:
            return eye_affine(*best.eye_centers, size), "face pipeline"
    elif tracked is None and faces:
        return eye_affine(*faces[0].eye_centers, size), "face pipeline (largest face)"
    if tracked is not None:
        return eye_affine(np.array([tracked["eye_lx"], tracked["eye_ly"]]), np.array([tracked["eye_rx"], tracked["eye_ry"]]), size), \
            "tracker eye centres (no matching face found by the face pipeline in the onset frame)"
    raise ValueError("no face to align on")


def cut_clips(stream, intervals: pd.DataFrame, boxes: pd.DataFrame | None, resolution: int = 128, pipeline=None,
              sample_ids: list[str] | None = None, fps: float | None = None, all_faces: bool = False) -> list[CutClip]:
    """`iter_cut_clips` as a list in interval order (for a few intervals; a long video's are consumed as they come)."""
    return sorted(iter_cut_clips(stream, intervals, boxes, resolution, pipeline, sample_ids, fps, all_faces), key=lambda c: c.row)


def iter_cut_clips(stream, intervals: pd.DataFrame, boxes: pd.DataFrame | None, resolution: int = 128, pipeline=None,
                   sample_ids: list[str] | None = None, fps: float | None = None, all_faces: bool = False) -> Iterator[CutClip]:
    """Aligned clips of `intervals` (rows with onset, apex, offset, face_id; 0-based decoded frames) from a
    second pass over `stream` (a VideoStream). boxes: the FaceBoxRecorder signals (frame, face_id,
    BOX_COLUMNS) or None (then the largest face the pipeline finds in each onset frame). pipeline: a
    FacePipeline (None: the tracker's eye centres only); all_faces: let it find every face of the onset
    frame (group shots), not only its usual largest ones. Yields one CutClip per interval row as soon as its
    offset frame has gone by (CutClip.row says which), so only the clips under way are in memory."""
    if len(intervals) == 0:
        return
    fps = fps or stream.fps
    iv = intervals.reset_index(drop=True)
    ids = sample_ids or [f"interval_{i}" for i in range(len(iv))]
    box_at = {}
    if boxes is not None and len(boxes):
        keyed = boxes.set_index(["face_id", "frame"])
        for i, r in iv.iterrows():
            key = (int(r.get("face_id", 0)), int(r["onset"]))
            if key in keyed.index:
                box_at[i] = keyed.loc[key]
    starts: dict[int, list[int]] = {}
    for i, r in iv.iterrows():
        starts.setdefault(int(r["onset"]), []).append(i)
    last = int(iv["offset"].max())
    active: dict[int, dict] = {}
    expected = 0
    for frame in stream:
        if frame.index > last and not active:
            break
        for k in range(expected, frame.index):  # frames that did not decode: the previous crop stands in
            for st in active.values():
                if k <= st["offset"]:
                    st["crops"].append(st["crops"][-1])
                    st["missing"].append(k)
        expected = frame.index + 1
        for i in starts.get(frame.index, []):
            affine, how = _onset_affine(frame.image, box_at.get(i), pipeline, resolution, all_faces)
            active[i] = {"affine": affine, "how": how, "crops": [], "missing": [], "offset": int(iv.loc[i, "offset"])}
        for i, st in list(active.items()):
            st["crops"].append(warp_to_crop(frame.image, st["affine"], resolution))
            if frame.index >= st["offset"]:
                del active[i]
                yield _finish(i, iv.loc[i], st, ids[i], fps)
    for i, st in sorted(active.items()):  # the video ended inside an interval (a truncated file): keep what there is
        yield _finish(i, iv.loc[i], st, ids[i], fps)


def estimated_apex(frames: np.ndarray) -> int:
    """The apex of an aligned clip (T, S, S, 3) uint8 whose onset is frame 0: the frame t ≥ 1 of the largest
    mean absolute grey difference from frame 0 (the first of equals), or T // 2 when no frame differs from it."""
    grey = frames.astype(np.float32).mean(axis=-1)
    change = np.abs(grey[1:] - grey[:1]).mean(axis=(1, 2))
    return int(np.argmax(change)) + 1 if len(change) and change.max() > 0 else len(frames) // 2


def _finish(i: int, r: pd.Series, st: dict, sample_id: str, fps: float) -> CutClip:
    frames = np.stack(st["crops"])
    n = len(frames)
    onset = int(r["onset"])
    apex = min(max(int(r["apex"]) - onset, 0), n - 1)
    meta = {"alignment": st["how"], "apex_source": "spotter"}
    if apex == 0 and n > 1:  # the spotter's apex is the onset frame: no onset→apex motion for a recognizer
        apex = estimated_apex(frames)
        meta["apex_source"] = "estimated: the frame that differs most from the onset frame (the spotter's apex was the onset)"
    clip = Clip(frames=frames, fps=float(fps), subject=str(r.get("subject", "") or ""), sample_id=sample_id, onset=0,
                apex=apex, offset=n - 1, source=f"{r.get('video', '')}:{onset}-{int(r['offset'])}", affine=st["affine"],
                apex_estimated=meta["apex_source"] != "spotter", meta=meta)
    return CutClip(i, clip, st["how"], st["missing"])
