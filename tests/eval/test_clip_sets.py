"""Opening clip sets: the corpus, the synth writer's layout (PNG folders and mp4), plain folders, bad rows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.eval.clip_sets import ClipSet, neutral_image, open_clip_set, reference_id


def test_corpus_set(corpus):
    cs = open_clip_set("corpus")
    assert len(cs) == len(corpus.clips)
    clips = list(cs)
    assert [c.sample_id for c in clips] == [c.sample_id for c in corpus.clips]
    assert clips[0].landmarks.shape == (clips[0].num_frames, 68, 2)
    assert cs.find(corpus.clips[2].sample_id).sample_id == corpus.clips[2].sample_id and cs.find("nope") is None
    assert cs.head(2).records.shape[0] == 2


@pytest.mark.parametrize("fmt", ["png", "mp4"])
def test_synth_writer_layout(tmp_path, short_clips, synthetic_writer, fmt):
    out = synthetic_writer(tmp_path / "gen", short_clips[:3], fmt=fmt)
    cs = open_clip_set(out)
    assert len(cs) == 3 and cs.root == out
    clips = list(cs)
    for got, src in zip(clips, short_clips):
        assert got.sample_id == f"syn_{src.sample_id}" and got.num_frames == src.num_frames
        assert (got.onset, got.apex, got.offset, got.fps) == (src.onset, src.apex, src.offset, src.fps)
        assert got.label == src.label and got.subject == src.subject
        assert got.meta["generator"] == "degraded-real" and reference_id(got) == src.sample_id
        if fmt == "png":
            assert np.array_equal(got.frames, src.frames)  # lossless
        else:
            assert np.abs(got.frames.astype(int) - src.frames).mean() < 6  # mp4v is lossy
    assert open_clip_set(out / "manifest.csv").records.equals(cs.records)
    assert len(cs.rejects) == 0


def test_bad_rows_are_rejected_not_fatal(tmp_path, short_clips, synthetic_writer):
    out = synthetic_writer(tmp_path / "gen", short_clips[:3])
    manifest = pd.read_csv(out / "manifest.csv")
    manifest.loc[1, "path"] = "clips/missing_folder"
    manifest.loc[2, "path"] = str(out / "clips" / manifest.loc[2, "sample_id"])  # absolute: not allowed
    manifest.to_csv(out / "manifest.csv", index=False)
    cs = open_clip_set(out)
    clips = list(cs)
    assert [c.sample_id for c in clips] == [manifest.loc[0, "sample_id"]]
    assert len(cs.rejects) == 2
    reasons = " | ".join(r["reason"] for r in cs.rejects.rows)
    assert "not found" in reasons and "relative" in reasons


def test_plain_folder_and_single_video(tmp_path, short_clips, media):
    from mexkit.video_io import write_frames, write_video

    folder = tmp_path / "clips"
    write_frames(folder / "a", short_clips[0].frames)
    write_video(folder / "b.mp4", short_clips[1].frames, 24.0)
    (folder / "notes.txt").write_text("ignored")
    cs = open_clip_set(folder)
    assert list(cs.records["sample_id"]) == ["a", "b"]
    a, b = list(cs)
    assert a.apex_estimated and a.meta.get("fps_assumed") and b.fps == pytest.approx(24.0)
    video = open_clip_set(media / "single_face.mp4")
    assert len(video) == 1 and next(iter(video)).num_frames == 72
    with pytest.raises(MexkitInputError, match="not found"):
        open_clip_set(tmp_path / "nothing_here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MexkitInputError, match="no manifest, videos or frame folders"):
        open_clip_set(tmp_path / "empty")


def test_neutral_image_from_source_face(corpus, short_clips):
    face = corpus.faces[3]
    clip = short_clips[0].with_frames(short_clips[0].frames)
    clip.meta["source_face"] = f"corpus/{face.meta['face_id']}"  # how the synth writer names corpus faces
    img, key = neutral_image(clip, ClipSet.from_clips("fake", [clip]))
    assert np.array_equal(img, face.crop) and key == f"corpus:{face.meta['face_id']}"
    clip.meta["source_face"] = "faces/unknown.png"
    assert neutral_image(clip) == (None, None)


def test_aligned_set_from_a_raw_video(media):
    """A raw 640×360 video becomes a template-aligned 128-px clip (eyes level at the template positions)."""
    from mexkit.face.align import template_eyes
    from mexkit.face.landmark_schemes import eye_centers68, to68

    raw = open_clip_set(media / "single_face.mp4")
    clip = next(iter(raw.aligned(128)))
    assert clip.frames.shape == (72, 128, 128, 3) and clip.affine.shape == (2, 3)
    le, re_ = eye_centers68(to68(clip.landmarks, "mediapipe478"))
    tl, tr = template_eyes(128)
    assert np.allclose(le, tl, atol=1.0) and np.allclose(re_, tr, atol=1.0)
