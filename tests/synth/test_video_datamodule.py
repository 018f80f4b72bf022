"""VideoDataModule on real corpus video: shapes, ranges, flow units, labels, manifests and rejects."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mexkit.clip import Clip
from mexkit.face import warp_to_crop
from mexkit.datasets.label_maps import NATIVE_TO_MEGC
from mexkit.synth.video_datamodule import VideoDataModule, span_indices
from mexkit.video_io import read_clip, write_frames


@pytest.fixture(scope="module")
def smile_clip(media, mediapipe_pipeline) -> Clip:
    """single_face.mp4 (neutral → smile), aligned once on frame 0 at 128 px, frames 0..47."""
    clip = read_clip(media / "single_face.mp4", subject="pyfeat_single", label="happiness", onset=0, offset=47)
    al = mediapipe_pipeline.align_image(clip.frames[0], resolution=128)
    frames = np.stack([warp_to_crop(f, al.affine, 128) for f in clip.frames[:48]])
    return clip.with_frames(frames, onset=0, apex=30, offset=47)


def test_batch_shapes_ranges_and_neutral(smile_clip):
    dm = VideoDataModule(sources=[], clips=[smile_clip, smile_clip], num_frames=8, size=64, batch_size=2, flip_p=0.0)
    batch = next(iter(dm.train_dataloader()))
    assert batch["video"].shape == (2, 8, 3, 64, 64) and batch["video"].dtype == torch.float32
    assert batch["neutral"].shape == (2, 3, 64, 64)
    assert -1.0 <= float(batch["video"].min()) < float(batch["video"].max()) <= 1.0
    assert torch.equal(batch["video"][:, 0], batch["neutral"])
    assert batch["label"].tolist() == [1, 1]  # happiness → positive (index 1 of MEGC_CLASSES)
    assert not batch["has_flow"].any() and float(batch["flow"].abs().max()) == 0.0
    assert batch["subject"] == ["pyfeat_single"] * 2
    # 48 frames at 30 fps → 1600 ms span
    assert batch["duration_ms"][0].item() == pytest.approx(1600.0)
    # the smile moves the face: last frame differs from the neutral more than frame 1 does
    d = (batch["video"][0] - batch["neutral"][0]).abs().mean(dim=(1, 2, 3))
    assert d[-1] > d[1] > 0


def test_ground_truth_flow_units_and_flip(smile_clip):
    flow = np.zeros(smile_clip.frames.shape[:3] + (2,), np.float32)
    flow[..., 0] = 4.0  # 4 px at 128 px = 2·4/128 grid units
    flow[..., 1] = -2.0
    clip = smile_clip.with_frames(smile_clip.frames)
    clip.meta["flow"] = flow
    dm = VideoDataModule(sources=[], clips=[clip], num_frames=4, size=32, batch_size=1, flip_p=0.0)
    b = next(iter(dm.train_dataloader()))
    assert bool(b["has_flow"][0])
    assert float(b["flow"][0, 0].abs().max()) == 0.0  # frame 0 is the neutral frame: no motion
    assert b["flow"][0, 2, 0].mean().item() == pytest.approx(8.0 / 128)
    assert b["flow"][0, 2, 1].mean().item() == pytest.approx(-4.0 / 128)
    dm_flip = VideoDataModule(sources=[], clips=[clip], num_frames=4, size=32, batch_size=1, flip_p=1.0)
    bf = next(iter(dm_flip.train_dataloader()))
    assert bf["flow"][0, 2, 0].mean().item() == pytest.approx(-8.0 / 128)
    assert torch.equal(bf["video"][0], b["video"][0].flip(-1))


def test_manifest_source_reads_frames_and_rejects_bad_rows(smile_clip, tmp_path):
    write_frames(tmp_path / "clips" / "s1", smile_clip.frames[:20])
    table = pd.DataFrame([
        {"sample_id": "s1", "subject": "x_sub1", "dataset": "synthetic", "label": "surprise", "onset": 0, "apex": 8,
         "offset": 19, "fps": 40.0, "num_frames": 20, "path": "clips/s1", "intensity": 0.4, "source_subject": "x_sub1",
         "train_subjects": "none", "driving_subject": "none"},
        {"sample_id": "gone", "subject": "x_sub2", "dataset": "synthetic", "label": "others", "onset": 0, "apex": 3,
         "offset": 5, "fps": 40.0, "num_frames": 6, "path": "clips/gone", "intensity": 0.4, "source_subject": "x_sub2",
         "train_subjects": "none", "driving_subject": "none"},
    ])
    table.to_csv(tmp_path / "manifest.csv", index=False)
    dm = VideoDataModule(sources=[{"manifest": str(tmp_path / "manifest.csv")}], num_frames=16, size=64, batch_size=4,
                         rejects_path=str(tmp_path / "rejects.csv"))
    dm.setup()
    assert len(dm.samples) == 1 and len(dm.rejects) == 1
    assert "clips/gone" in (tmp_path / "rejects.csv").read_text()
    s = dm.samples[0]
    assert s.frames.shape == (16, 64, 64, 3) and s.label == 2 and s.intensity == pytest.approx(0.4)
    assert s.duration_ms == pytest.approx(500.0)


def test_missing_manifest_names_the_file(tmp_path):
    dm = VideoDataModule(sources=[{"manifest": str(tmp_path / "nope.csv")}])
    with pytest.raises(Exception, match="nope.csv"):
        dm.setup()


def test_labels_split_and_indices(smile_clip):
    dm = VideoDataModule(sources=[], clips=[smile_clip] * 10, num_frames=4, size=32, batch_size=3, val_fraction=0.2, seed=1)
    dm.setup()
    assert len(dm.train_set) == 8 and len(dm.val_set) == 2
    assert dm.class_index("Disgust") == 0 and dm.class_index("others") == -1 and dm.class_index(None) == -1
    assert NATIVE_TO_MEGC["repression"] == "negative"
    assert span_indices(2, 9, 4).tolist() == [2, 4, 7, 9]
