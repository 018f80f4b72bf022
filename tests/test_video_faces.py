"""Face tracking over a VideoStream: every frame landmarked, registration cancels head motion, faces lost
for a stretch are gaps, several faces keep their ids (real corpus media)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from mexkit.video_faces import STABLE_POINTS, FaceTracker, similarity
from mexkit.video_io import read_image
from mexkit.video_stream import VideoStream

MEDIA = Path(__file__).resolve().parents[1] / "datasets" / "corpus" / "media"


def write_video(path: Path, frames, fps: int = 30) -> Path:
    """Frames (RGB uint8) as a near-lossless H.264 file."""
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=fps, options={"crf": "10"})
        st.height, st.width = frames[0].shape[:2]
        st.pix_fmt = "yuv420p"
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    return path


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (10, 2))
    a = np.deg2rad(7.0)
    m = 1.3 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = src @ m.T + [12.0, -5.0]
    est = similarity(src, dst)
    np.testing.assert_allclose(est[:, :2], m, atol=1e-9)
    np.testing.assert_allclose(est[:, 2], [12.0, -5.0], atol=1e-9)


def _head_moves(frames):
    """The same frames with the head (whole image) shifted and rolled a little more every frame."""
    h, w = frames[0].shape[:2]
    out = []
    for t, f in enumerate(frames):
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 0.15 * t, 1.0)
        m[:, 2] += (0.4 * t, -0.2 * t)
        out.append(cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REPLICATE))
    return out


def test_registration_cancels_head_motion(tmp_path):
    frames = [f.image for f in VideoStream(MEDIA / "single_face.mp4")][:30]
    moved = write_video(tmp_path / "moved.mp4", _head_moves(frames))
    still = write_video(tmp_path / "still.mp4", frames)
    runs = {}
    for name, path in (("still", still), ("moved", moved)):
        tracked = list(FaceTracker().track(VideoStream(path)))
        assert all(len(t.faces) == 1 and t.faces[0].face_id == 0 for t in tracked)
        runs[name] = (np.stack([t.faces[0].landmarks for t in tracked]), np.stack([t.faces[0].registered for t in tracked]),
                      tracked[0].faces[0].iod)
    (raw_s, reg_s, iod), (raw_m, reg_m, _) = runs["still"], runs["moved"]
    raw_motion = np.linalg.norm(raw_m[-1, STABLE_POINTS] - raw_s[-1, STABLE_POINTS], axis=-1).mean() / iod
    assert raw_motion > 0.1  # the head moved by more than a tenth of the eye distance by the last frame
    # registered, the moved video's landmarks sit where the still video's do (frame by frame, all 478 points)
    residual = np.linalg.norm(reg_m - reg_s, axis=-1).mean(axis=1) / iod
    assert residual.max() < raw_motion / 5, (residual.max(), raw_motion)


def test_lost_face_is_a_gap_and_tracking_resumes(tmp_path):
    frames = [f.image for f in VideoStream(MEDIA / "single_face.mp4")][:30]
    blank = np.full_like(frames[0], 128)
    video = write_video(tmp_path / "lost.mp4", frames[:10] + [blank] * 8 + frames[10:22])
    tracker = FaceTracker()
    tracked = list(tracker.track(VideoStream(video)))
    assert [bool(t.faces) for t in tracked] == [True] * 10 + [False] * 8 + [True] * 12
    assert [(g.face_id, g.after_frame, g.before_frame, g.missing_frames, g.reason) for g in tracker.gaps] == [(0, 9, 18, 8, "no face")]
    assert tracked[18].faces[0].new_segment and not tracked[19].faces[0].new_segment


def test_all_faces_keep_their_ids(tmp_path):
    # two real faces side by side (MediaPipe alone misses the small faces of multi_face.jpg)
    left = cv2.resize(read_image(MEDIA / "single_face.jpg"), (320, 360))
    right = cv2.resize(read_image(MEDIA / "0-f15-hao-ph.jpg"), (320, 360))
    video = write_video(tmp_path / "group.mp4", [np.hstack([left, right])] * 6)
    tracked = list(FaceTracker(all_faces=True).track(VideoStream(video)))
    ids = [sorted(f.face_id for f in t.faces) for t in tracked]
    assert len(ids[0]) >= 2 and all(i == ids[0] for i in ids)
    # each id stays on its own face: its box barely moves across the frames
    for fid in ids[0]:
        boxes = np.array([[f.bbox for f in t.faces if f.face_id == fid][0] for t in tracked])
        assert np.abs(boxes - boxes[0]).max() < 0.1 * (boxes[0, 2] - boxes[0, 0])
