"""The leakage gate's former holes, closed end to end on synthetic sets written from real corpus faces and
clips: a held-out subject's motion transferred onto another face, face folders named outside the real
set's namespace, generators that do not say who trained them, and provenance through a chain of
generators."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import lightning as L
import pandas as pd
import pytest

from mexkit.errors import MexkitInputError
from mexkit.recog import SampleSet
from mexkit.recog.leakage import LeakageError
from mexkit.recog.study import plan_synthetic
from mexkit.synth import load_generator
from mexkit.synth.motion_transfer import MotionTransferGenerator
from mexkit.synth.writer import faces_from_corpus, faces_from_folder, generate_dataset


@pytest.fixture(scope="module")
def driven_by_man(corpus, tmp_path_factory):
    """Motion of corpus_man's labelled clip transferred onto corpus_woman's faces, through the writer."""
    driver = next(c for c in corpus.clips if c.subject == "corpus_man" and c.label)
    gen = MotionTransferGenerator(driver, resolution=64)
    woman = [f for f in faces_from_corpus() if f.subject == "corpus_woman"][:2]
    out = tmp_path_factory.mktemp("mt") / "synthetic"
    counts = generate_dataset(gen, woman, out, classes=[driver.label], intensity=1.0, duration_ms=gen.default_condition().duration_ms,
                              fps=gen.driving_fps, progress=False)
    assert counts["written"] == len(woman)
    return driver, out


def test_a_clip_driven_by_the_held_out_subjects_motion_is_refused(corpus, driven_by_man):
    driver, out = driven_by_man
    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    assert set(manifest["source_subject"]) == {"corpus_woman"}
    assert set(manifest["driving_subject"]) == {"corpus_man"} and set(manifest["driving_sample"]) == {driver.sample_id}
    assert set(manifest["driving_dataset"]) == {driver.dataset}
    real, pool = SampleSet.from_corpus(corpus), SampleSet.from_manifest(out)
    # used verbatim, fold corpus_man would train on its own subject's motion (on someone else's face)
    with pytest.raises(LeakageError, match="motion of a held-out subject's clip") as err:
        plan_synthetic(real, pool, select="given")
    assert err.value.fold == "corpus_man" and err.value.sample_id in set(pool.table["sample_id"])
    # per-subject selection keeps those clips away from fold corpus_man (driven) and corpus_woman (her face)
    plan = plan_synthetic(real, pool, select="other-subjects")
    assert len(plan["corpus_man"]) == 0 and len(plan["corpus_woman"]) == 0


def test_a_face_folder_outside_the_real_sets_namespace_is_refused_or_mapped(tmp_path, corpus, media):
    # the real set names its subjects as the adapters do (casme2_sub01 ...), the faces folder as people do (sub01)
    clips = [replace(c, subject={"corpus_man": "casme2_sub01", "corpus_woman": "casme2_sub02"}[c.subject])
             for c in corpus.clips if c.label]
    real = SampleSet.from_clips(clips)
    faces = tmp_path / "faces"
    for sub, photo in (("sub01", "0-f1-su-ph.jpg"), ("sub02", "0-f15-hao-ph.jpg")):
        (faces / sub).mkdir(parents=True)
        shutil.copy(media / photo, faces / sub / photo)
    plain = tmp_path / "plain"
    generate_dataset("warp", faces_from_folder(faces), plain, per_face=2, progress=False)
    with pytest.raises(LeakageError, match="'sub0[12]' is not a subject of the real set"):
        plan_synthetic(real, SampleSet.from_manifest(plain), select="given")
    # mapped with the documented prefix, the held-out subject's own face is found — and kept out
    mapped = tmp_path / "mapped"
    generate_dataset("warp", faces_from_folder(faces, subject_prefix="casme2_"), mapped, per_face=2, progress=False)
    pool = SampleSet.from_manifest(mapped)
    assert set(pool.table["source_subject"]) == {"casme2_sub01", "casme2_sub02"}
    with pytest.raises(LeakageError, match="generated from a face of the held-out subject"):
        plan_synthetic(real, pool, select="given")
    plan = plan_synthetic(real, pool, select="other-subjects")
    assert set(plan["casme2_sub01"].table["source_subject"]) == {"casme2_sub02"}
    # other people's faces, declared outside every real set, may train every fold
    outside = tmp_path / "outside"
    generate_dataset("warp", faces_from_folder(faces, outside=True), outside, per_face=2, progress=False)
    plan = plan_synthetic(real, SampleSet.from_manifest(outside), select="given")
    assert all(len(part) == 4 for part in plan.values())


def test_a_generator_without_declared_training_subjects_is_refused(tmp_path, corpus):
    """Written by an older version (or by hand) without train_subjects: refused in the gate, not read as clean."""
    out = tmp_path / "syn"
    others = [f for f in faces_from_corpus() if f.subject not in ("corpus_man", "corpus_woman")][:3]  # face-only people
    generate_dataset("warp", others, out, progress=False)
    plan_synthetic(SampleSet.from_corpus(corpus), SampleSet.from_manifest(out), select="given")  # as written: clean
    manifest = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    manifest["train_subjects"] = ""
    manifest.to_csv(out / "manifest.csv", index=False)
    with pytest.raises(LeakageError, match="trained on are unknown"):
        plan_synthetic(SampleSet.from_corpus(corpus), SampleSet.from_manifest(out), select="given")
    # and a learned model whose config does not record them cannot be written with at all
    folder = tmp_path / "gen"
    shutil.copytree(_pretrained("mocogan-demo"), folder)

    cfg = json.loads((folder / "config.json").read_text())
    cfg.pop("train_subjects")
    (folder / "config.json").write_text(json.dumps(cfg))
    gen = load_generator(str(folder))
    assert gen.train_subjects is None
    with pytest.raises(MexkitInputError, match="train_subjects"):
        generate_dataset(gen, faces_from_corpus()[:1], tmp_path / "refused", progress=False)


def _pretrained(name: str) -> Path:
    import mexkit.synth

    return Path(mexkit.synth.__file__).parent / "pretrained" / name


def test_a_chained_generators_clips_carry_the_union_of_everything_that_shaped_them(tmp_path, driven_by_man):
    """Generator A (motion transfer driven by corpus_man) writes clips of corpus_woman's faces; generator B
    trains on A's clips plus clips the pretrained mocogan-demo made of other corpus faces; B's clips then
    name all of them."""
    from mexkit.synth.mocogan.module import MoCoGANModule
    from mexkit.synth.video_datamodule import VideoDataModule

    _, a_out = driven_by_man
    demo = load_generator("mocogan-demo")
    dm = VideoDataModule(sources=[{"manifest": str(a_out / "manifest.csv")},
                                  {"generator": "mocogan-demo", "per_face": 1, "exclude_subjects": ["corpus_man", "corpus_woman"]}],
                         num_frames=8, size=32, batch_size=2, flip_p=0.0, val_fraction=0.0)
    dm.setup()
    demo_faces = {f.subject for f in faces_from_corpus()} - {"corpus_man", "corpus_woman"}
    # A's face and driving subjects, the demo's training subjects, and the faces the demo animated
    expected = {"corpus_man", "corpus_woman"} | set(demo.train_subjects) | demo_faces
    assert not demo_faces <= set(demo.train_subjects)  # (the faces add subjects the weights alone do not name)
    assert set(dm.train_subjects) == expected
    L.seed_everything(0)
    model = MoCoGANModule(generator=dict(sample_size=32, num_frames=8, channels=8, noise_dim=4, embed_dim=4, hidden_dim=8,
                                         motion_dim=8, resolution=32),
                          image_channels=8, video_channels=8, sample_every_n_steps=0, export_dir=str(tmp_path / "b"))
    trainer = L.Trainer(max_steps=2, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, num_sanity_val_steps=0, limit_val_batches=0, default_root_dir=tmp_path)
    trainer.fit(model, dm)
    b = load_generator(str(tmp_path / "b"))
    assert set(b.train_subjects) == expected
    out = tmp_path / "b_clips"
    generate_dataset(b, faces_from_corpus()[:1], out, progress=False)
    row = pd.read_csv(out / "manifest.csv", keep_default_na=False).iloc[0]
    assert set(row["train_subjects"].split(";")) == expected
    # a synthetic training clip of unknown provenance is rejected from the data, not counted as clean
    bad = tmp_path / "bad.csv"
    m = pd.read_csv(a_out / "manifest.csv", keep_default_na=False)
    m["driving_subject"] = ""
    m.to_csv(bad, index=False)
    dm_bad = VideoDataModule(sources=[{"manifest": str(bad), "root": str(a_out)}], num_frames=8, size=32, batch_size=2)
    with pytest.raises(MexkitInputError, match="no usable training clips"):
        dm_bad.setup()
    assert "unknown driving_subject" in dm_bad.rejects.summary()
