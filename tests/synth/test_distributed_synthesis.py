"""Synthesis through Lightning predict with two gloo processes on CPU: every sample written exactly once."""
import re
import subprocess
import sys

import pandas as pd


def _run_ddp(out):
    cmd = [sys.executable, "-m", "mexkit.cli", "generate", "--generator", "warp", "--faces", "corpus", "--per-face", "1",
           "--classes", "positive,surprise", "--out", str(out), "--devices", "2", "--accelerator", "cpu", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    per_rank = {int(r): (int(w), int(s)) for r, w, s in re.findall(r"rank (\d): (\d+) written, (\d+) already there, \d+ rejected", proc.stdout)}
    return per_rank


def test_ddp_synthesis_writes_each_sample_once_and_matches_single_process(tmp_path):
    from mexkit.synth.registry import load_generator
    from mexkit.synth.writer import build_jobs, faces_from_corpus, generate_dataset

    out = tmp_path / "ddp"
    per_rank = _run_ddp(out)
    assert set(per_rank) == {0, 1} and all(w > 0 for w, _ in per_rank.values())  # both processes worked
    ddp = pd.read_csv(out / "manifest.csv", keep_default_na=False)
    gen = load_generator("warp")
    jobs = build_jobs(faces_from_corpus(), gen.generator_name, gen.weights_hash(), ["positive", "surprise"], (0.2, 0.6), 1, 0)
    assert not ddp["sample_id"].duplicated().any()
    assert sorted(ddp["sample_id"]) == sorted(j.sample_id for j in jobs)
    assert sum(w for w, _ in per_rank.values()) == len(jobs)

    # the same rows and frames as the single-process writer
    single = tmp_path / "single"
    generate_dataset(gen, "corpus", single, classes=["positive", "surprise"], per_face=1, progress=False)
    one = pd.read_csv(single / "manifest.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(ddp.sort_values("sample_id").reset_index(drop=True), one.sort_values("sample_id").reset_index(drop=True))
    sid = ddp["sample_id"].iloc[0]
    for f in sorted((single / "clips" / sid).iterdir()):
        assert (out / "clips" / sid / f.name).read_bytes() == f.read_bytes()

    # a second distributed run resumes: nothing is written again
    again = _run_ddp(out)
    assert all(w == 0 for w, _ in again.values()) and sum(s for _, s in again.values()) == len(jobs)
    assert len(pd.read_csv(out / "manifest.csv")) == len(jobs)
