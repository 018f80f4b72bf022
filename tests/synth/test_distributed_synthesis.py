"""Synthesis through Lightning predict: two gloo processes on CPU write every sample exactly once; the
distributed path plans like the single-process one (same up-front checks, offset_at honoured)."""
import re
import subprocess
import sys

import pandas as pd
import pytest

from mexkit.errors import MexkitInputError


def _run_ddp(out):
    cmd = [sys.executable, "-m", "mexkit.cli", "generate", "--generator", "warp", "--faces", "corpus", "--per-face", "1",
           "--classes", "positive,surprise", "--out", str(out), "--devices", "2", "--accelerator", "cpu", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    per_rank = {int(r): (int(w), int(s)) for r, w, s in re.findall(r"rank (\d): (\d+) written, (\d+) already there, \d+ rejected", proc.stdout)}
    return per_rank


def test_ddp_synthesis_writes_each_sample_once_and_matches_single_process(tmp_path):
    from mexkit.synth.registry import load_generator
    from mexkit.synth.writer import generate_dataset, plan_jobs

    out = tmp_path / "ddp"
    per_rank = _run_ddp(out)
    assert set(per_rank) == {0, 1} and all(w > 0 for w, _ in per_rank.values())  # both processes worked
    ddp = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    gen = load_generator("warp")
    jobs = plan_jobs(gen, "corpus", classes=["positive", "surprise"], intensity=(0.2, 0.6), per_face=1, seed=0).jobs
    assert not ddp["sample_id"].duplicated().any()
    assert sorted(ddp["sample_id"]) == sorted(j.sample_id for j in jobs)
    assert sum(w for w, _ in per_rank.values()) == len(jobs)

    # the same rows and frames as the single-process writer
    single = tmp_path / "single"
    generate_dataset(gen, "corpus", single, classes=["positive", "surprise"], per_face=1, progress=False)
    one = pd.read_csv(single / "manifest.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(ddp.sort_values("sample_id").reset_index(drop=True), one.sort_values("sample_id").reset_index(drop=True))
    assert (out / "manifest.csv").read_bytes() == (single / "manifest.csv").read_bytes()  # rows in the plan's order (issue 26)
    sid = ddp["sample_id"].iloc[0]
    for f in sorted((single / "clips" / sid).iterdir()):
        assert (out / "clips" / sid / f.name).read_bytes() == f.read_bytes()

    # a second distributed run resumes: nothing is written again
    again = _run_ddp(out)
    assert all(w == 0 for w, _ in again.values()) and sum(s for _, s in again.values()) == len(jobs)
    assert len(pd.read_csv(out / "manifest.csv")) == len(jobs)


def test_distributed_path_refuses_a_bad_condition_up_front_like_the_single_process_path(tmp_path):
    from mexkit.synth.writer import generate_dataset
    from mexkit.synth.writer.distributed import generate_dataset_distributed

    out = tmp_path / "never"
    for kwargs, match in [({"classes": ["happy"]}, "unknown class 'happy'"), ({"aus": ["AU99"]}, "unknown action unit"),
                          ({"duration_ms": 30.0}, "shorter than two frames")]:
        for entry in (generate_dataset, generate_dataset_distributed):
            with pytest.raises(MexkitInputError, match=match):
                entry("warp", "corpus", out, progress=False, **kwargs)
            assert not out.exists(), entry.__name__  # refused before the output folder (or a process group) exists


def test_distributed_path_honours_offset_at(tmp_path):
    """One in-process rank (no DDP) through the Lightning path: same files and rows as the writer, offset_at kept."""
    from mexkit.synth.warp import WarpGenerator
    from mexkit.synth.writer import faces_from_corpus, generate_dataset, plan_jobs
    from mexkit.synth.writer.distributed import generate_dataset_distributed

    gen, faces = WarpGenerator(), faces_from_corpus()[:3]
    kw = dict(classes=["surprise"], per_face=1, offset_at=0.7)
    counts = generate_dataset_distributed(gen, faces, tmp_path / "pl", devices=1, strategy="auto", progress=False, **kw)
    assert (counts["written"], counts["total"]) == (3, 3)
    generate_dataset(gen, faces, tmp_path / "single", progress=False, **kw)
    pl = pd.read_csv(tmp_path / "pl" / "manifest.csv", keep_default_na=False).sort_values("sample_id").reset_index(drop=True)
    one = pd.read_csv(tmp_path / "single" / "manifest.csv", keep_default_na=False).sort_values("sample_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(pl, one)
    assert sorted(pl["sample_id"]) == sorted(j.sample_id for j in plan_jobs(gen, faces, **kw).jobs)
    assert all('"offset_at":0.7' in c for c in pl["condition"])
    default = plan_jobs(gen, faces, classes=["surprise"], per_face=1).jobs  # offset_at 1.0: other ids
    assert not set(pl["sample_id"]) & {j.sample_id for j in default}
    for sid in pl["sample_id"]:
        for f in sorted((tmp_path / "single" / "clips" / sid).iterdir()):
            assert (tmp_path / "pl" / "clips" / sid / f.name).read_bytes() == f.read_bytes()


def test_predict_path_on_photos_exits_cleanly_after_mediapipe_ran(tmp_path, media):
    """Real photos are aligned with MediaPipe inside the Lightning predict loop; a stray SIGPROF after it
    used to kill the finished run ("Profiling timer expired", exit 155)."""
    import shutil

    faces = tmp_path / "faces"
    faces.mkdir()
    for name in ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg"):
        shutil.copy(media / name, faces / name)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "mexkit.cli", "generate", "--faces", str(faces), "--out", str(out), "--devices", "1",
           "--accelerator", "cpu", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(pd.read_csv(out / "manifest.csv")) == 2
