"""`mexkit generate --full-frame` (synth/writer/full_frame_writer.py): clips at the photo's size, every face
of a group photo in the same frames with its own manifest row; resumable; photos only."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.synth.full_frame import full_frame_mask, region_of
from mexkit.synth.writer import plan_jobs
from mexkit.synth.writer.full_frame_writer import generate_full_frame, group_jobs
from mexkit.video_io import list_frame_files, read_frames, read_image

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write_group(media, out):
    return generate_full_frame("warp", media / "multi_face.jpg", out, classes=["positive", "surprise"], per_face=1,
                               intensity=(0.5, 0.8), duration_ms=200, all_faces=True, progress=False)


@pytest.fixture(scope="module")
def group_run(tmp_path_factory, media):
    out = tmp_path_factory.mktemp("ff") / "run"
    return out, write_group(media, out)


def test_all_faces_share_one_clip_at_the_photo_size(group_run, media):
    out, counts = group_run
    assert counts["written"] == 4 and counts["rejected"] == 0
    rows = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert len(rows) == 4 and rows["path"].nunique() == 1  # one clip, one row per face
    assert sorted(rows["source_face"]) == [f"multi_face.jpg#face{k}" for k in range(4)]
    assert rows["subject"].nunique() == 4 and (rows["train_subjects"] == "none").all()
    image = read_image(media / "multi_face.jpg")
    frames = read_frames(list_frame_files(out / rows["path"][0]))
    assert frames.shape == (rows["num_frames"][0], *image.shape)
    faces = [job.source.face for job in plan_jobs("warp", media / "multi_face.jpg", all_faces=True).jobs]
    outside = full_frame_mask(image.shape, [region_of(f, image.shape) for f in faces]) == 0
    assert np.array_equal(frames[:, outside], np.broadcast_to(image[outside], frames[:, outside].shape))
    apex = int(rows["apex"][0])
    for f in faces:  # every face moves
        x0, y0, x1, y1 = region_of(f, image.shape).box
        assert np.abs(frames[apex, y0:y1, x0:x1].astype(np.int16) - image[y0:y1, x0:x1]).mean() > 0.5


def test_a_rerun_after_a_lost_row_gives_the_same_files(group_run, tmp_path, media):
    out, _ = group_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    manifest = (copy / "manifest.csv").read_text()
    lines = manifest.splitlines(keepends=True)
    (copy / "manifest.csv").write_text("".join(lines[:-1]) + lines[-1][:10])  # a killed run: last row half written
    counts = write_group(media, copy)
    assert counts["written"] == 1 and counts["skipped"] == 3
    assert (copy / "manifest.csv").read_text() == manifest
    clip = pd.read_csv(out / "manifest.csv")["path"][0]
    for a, b in zip(list_frame_files(out / clip), list_frame_files(copy / clip)):
        assert a.read_bytes() == b.read_bytes()


def test_one_face_per_photo_without_all_faces(tmp_path, media):
    out = tmp_path / "one"
    counts = generate_full_frame("warp", media / "single_face.jpg", out, classes=["positive"], duration_ms=150, progress=False)
    rows = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert counts["written"] == 1 and len(rows) == 1
    frames = read_frames(list_frame_files(out / rows["path"][0]))
    assert frames.shape[1:] == read_image(media / "single_face.jpg").shape


def test_the_corpus_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(MexkitInputError, match="original photos"):
        generate_full_frame("warp", "corpus", tmp_path / "x", progress=False)
    assert not (tmp_path / "x").exists()


def test_jobs_group_by_photo_and_index(media):
    plan = plan_jobs("warp", media / "multi_face.jpg", per_face=2, all_faces=True)
    groups = group_jobs(plan.jobs)
    assert len(groups) == 2 and all(len(g) == 4 and len({j.index for j in g}) == 1 for g in groups.values())
    assert list(groups) == list(group_jobs(plan_jobs("warp", media / "multi_face.jpg", per_face=2, all_faces=True).jobs))
