"""`mexkit align` as a user runs it: single items, batches with bad items, rejects.csv."""
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd

from mexkit.cli import main


def test_align_video(media, tmp_path):
    assert main(["align", str(media / "single_face.mp4"), "--out", str(tmp_path), "--resolution", "64"]) == 0
    out = tmp_path / "single_face"
    assert len(list(out.glob("*.png"))) == 72
    assert np.load(out / "landmarks.npy").shape == (68, 2)
    assert (out / "alignment.json").exists()


def test_batch_skips_bad_items_and_lists_them(media, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(media / "single_face.jpg", src / "good.jpg")
    shutil.copy(media / "multi_face.jpg", src / "group.jpg")
    shutil.copy(media / "no_face.mp4", src / "empty_room.mp4")
    (src / "zero.jpg").touch()
    shutil.copy(media / "single_face.jpg", src / "notes.xyz")
    (src / "moved.jpg").symlink_to(tmp_path / "gone.jpg")  # broken links are listed too
    (src / "old_clips").symlink_to(tmp_path / "gone_folder")
    out = tmp_path / "out"
    assert main(["align", str(src), "--batch", "--out", str(out)]) == 0
    assert (out / "good.png").exists() and (out / "group.png").exists()
    rejects = pd.read_csv(out / "rejects.csv")
    reasons = dict(zip(rejects["file"].map(lambda p: p.split("/")[-1]), rejects["reason"]))
    assert set(reasons) == {"empty_room.mp4", "zero.jpg", "notes.xyz", "moved.jpg", "old_clips"}
    assert "no face" in reasons["empty_room.mp4"]
    assert "0 bytes" in reasons["zero.jpg"]
    assert "unsupported extension" in reasons["notes.xyz"]
    assert "broken symbolic link" in reasons["moved.jpg"] and "gone_folder" in reasons["old_clips"]
    # the same command again: the same rejects.csv, not every row twice
    before = (out / "rejects.csv").read_text()
    assert main(["align", str(src), "--batch", "--out", str(out)]) == 0
    assert (out / "rejects.csv").read_text() == before


def test_single_bad_input_exits_with_clear_message(media, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mexkit.cli", "align", str(media / "no_face.mp4"), "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "no_face.mp4: no face found" in proc.stderr and "Fix:" in proc.stderr


def test_help_lists_commands():
    proc = subprocess.run([sys.executable, "-m", "mexkit.cli", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "align" in proc.stdout and "demo" in proc.stdout


def _check_group_faces(out, stem, people):
    import json

    rows = json.loads((out / f"{stem}_faces.json").read_text())
    assert len(rows) == people and len({r["face_id"] for r in rows}) == people
    assert [r["x0"] for r in rows] == sorted(r["x0"] for r in rows)  # left to right
    for r in rows:
        assert r["detector"] in {"mediapipe", "dlib-hog"} and r["x1"] > r["x0"] and r["y1"] > r["y0"]
        assert (out / r["crop"]).exists() and np.load(out / r["landmarks"]).shape == (68, 2)
    return rows


def test_all_faces_writes_every_face_with_box_detector_and_id(media, tmp_path):
    assert main(["align", str(media / "multi_face.jpg"), "--all-faces", "--out", str(tmp_path), "--resolution", "64"]) == 0
    rows = _check_group_faces(tmp_path, "multi_face", 4)  # PROVENANCE.md: four people
    table = pd.read_csv(tmp_path / "faces.csv")
    assert list(table["face_id"]) == [r["face_id"] for r in rows]


def test_all_faces_batch_small_faces(media, tmp_path):
    import cv2

    from mexkit.video_io import read_image, write_image

    src = tmp_path / "in"
    src.mkdir()
    img = read_image(media / "multi_face.jpg")
    canvas = np.full_like(img, 127)  # same photo at half size on the original canvas: faces < 1/10 of the width
    half = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    canvas[: half.shape[0], : half.shape[1]] = half
    write_image(src / "small_group.png", canvas)
    shutil.copy(media / "single_face.jpg", src / "one.jpg")
    out = tmp_path / "out"
    assert main(["align", str(src), "--batch", "--all-faces", "--out", str(out), "--resolution", "64"]) == 0
    small = _check_group_faces(out, "small_group", 4)
    assert {r["detector"] for r in small} == {"dlib-hog"}  # MediaPipe alone finds none of these
    assert all(r["x1"] - r["x0"] < img.shape[1] / 10 for r in small)
    _check_group_faces(out, "one", 1)
    table = pd.read_csv(out / "faces.csv")
    assert len(table) == 5 and table["face_id"].is_unique


def test_batch_onset_outside_a_clip_is_a_reject_and_the_rest_is_aligned(media, tmp_path):
    """--onset beyond a video's frames rejects that video (with its frame range), not the batch (issue 26)."""
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(media / "single_face.mp4", src / "a.mp4")
    shutil.copy(media / "single_face.jpg", src / "b.jpg")  # images ignore --onset
    out = tmp_path / "out"
    assert main(["align", str(src), "--batch", "--out", str(out), "--onset", "99999", "--resolution", "64"]) == 0
    assert (out / "b.png").exists() and not (out / "a").exists()
    rejects = pd.read_csv(out / "rejects.csv")
    assert list(rejects["file"]) == [str(src / "a.mp4")]
    assert "--onset 99999: outside the clip (72 frames: 0..71)" in rejects["reason"][0]


def test_streamed_alignment_equals_the_clip_alignment(media, tmp_path):
    """align streams a video (onset frame first, then frame by frame) to the frames align_clip gives from memory."""
    from mexkit.face import FacePipeline
    from mexkit.video_io import read_clip, read_frames

    assert main(["align", str(media / "single_face.mp4"), "--out", str(tmp_path), "--resolution", "64", "--onset", "5"]) == 0
    written = read_frames(sorted((tmp_path / "single_face").glob("*.png")))
    expected = FacePipeline(resolution=64).align_clip(read_clip(media / "single_face.mp4", onset=5))
    assert written.shape == expected.frames.shape == (72, 64, 64, 3)
    assert np.array_equal(written, expected.frames)
