"""The console (mexkit/console.py): a command shows its bars, its own lines and real problems; `-v` lets
the libraries' chatter through, `-q` drops the bars."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mexkit import console

MEDIAPIPE = re.compile(r"face_landmarker_graph|inference_feedback_manager|InitGoogle|TensorFlow Lite|^[IWEF]\d{4} \d", re.M)
LIGHTNING = re.compile(r"Tip:|litlogger|litmodels|GPU available|Seed set to", re.M)
SOURCE_LINE = re.compile(r"\.py:\d+|^\s+File \"|^Traceback", re.M)  # a warning's file:line header and source line, a traceback
TRAIN = ["train", "--config", "mocogan_tiny.yaml", "--trainer.max_steps=1", "--data.init_args.sources=[corpus]"]
EVAL = ["eval", "--fake", "corpus", "--max-clips", "1", "--workers", "2", "--families", "expression"]
ALIGN = ["align", str(Path(__file__).parents[1] / "datasets" / "corpus" / "media" / "multi_face.jpg")]


def _start(argv: list[str], tmp: Path, *flags: str) -> subprocess.Popen:
    """`mexkit [flags] argv` in `tmp`, in a clean console environment (no inherited MEXKIT_CONSOLE)."""
    env = {k: v for k, v in os.environ.items() if k not in (console.ENV, "GLOG_minloglevel", "WANDB_SILENT")}
    env["OMP_NUM_THREADS"] = "1"
    tmp.mkdir(parents=True, exist_ok=True)
    extra = {"train": [f"--trainer.default_root_dir={tmp}", f"--trainer.logger.init_args.save_dir={tmp}"],
             "eval": ["--report", str(tmp / "eval" / "report.html")], "align": ["--out", str(tmp / "aligned")]}[argv[0]]
    return subprocess.Popen([sys.executable, "-m", "mexkit.cli", *flags, *argv, *extra], cwd=tmp, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> tuple[str, str]:
    out, err = proc.communicate(timeout=400)
    assert proc.returncode == 0, err[-3000:]
    return out, err.replace("\r", "\n")


def test_commands_show_bars_and_their_own_lines_only_and_verbose_lets_the_rest_through(tmp_path):
    """By default: MediaPipe in two eval worker processes and a Lightning fit; with -v: MediaPipe (align) and
    the same fit. Four real commands, two at a time."""
    procs = {"eval": _start(EVAL, tmp_path / "e"), "train": _start(TRAIN, tmp_path / "t")}
    quiet = {k: _finish(p) for k, p in procs.items()}
    procs = {"align": _start(ALIGN, tmp_path / "av", "-v"), "train": _start(TRAIN, tmp_path / "tv", "--verbose")}
    loud = {k: _finish(p) for k, p in procs.items()}
    for name, (out, err) in quiet.items():
        assert not MEDIAPIPE.search(err), f"{name}: {err[:2000]}"
        assert not LIGHTNING.search(err), f"{name}: {err[:2000]}"
        assert not SOURCE_LINE.search(err), f"{name}: {err[:2000]}"
    assert re.search(r"^eval: +100%", quiet["eval"][1], re.M)  # its progress bar
    assert "report:" in quiet["eval"][0]  # its own lines
    assert MEDIAPIPE.search(loud["align"][1])
    assert LIGHTNING.search(loud["train"][1]) and "Tip:" in loud["train"][1]


def test_quiet_drops_the_bars_and_a_mexkit_warning_is_one_line():
    script = ("from mexkit import console; console.setup(quiet=True)\n"
              "import warnings\nfrom tqdm.auto import tqdm\nfrom mexkit.face.neutrality import NonNeutralFaceWarning\n"
              "list(tqdm(range(3), desc='bar', disable=False))\n"
              "warnings.warn('face.png: not a neutral face\\n  (neutrality 0.2)', NonNeutralFaceWarning)\n"
              "warnings.warn('old', DeprecationWarning)\n"
              "warnings.warn('a real problem of another package', UserWarning)\n")
    env = {k: v for k, v in os.environ.items() if k != console.ENV}
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines() == ["mexkit: warning: face.png: not a neutral face (neutrality 0.2)",
                                       "warning: a real problem of another package (UserWarning, <string>)"]


def test_native_filter_drops_startup_chatter_and_keeps_every_other_line(capfd, monkeypatch):
    monkeypatch.delenv(console.ENV, raising=False)
    lines = [b"WARNING: Logging before InitGoogle() is written to STDERR",
             b"W0000 00:00:1796597319.667269   12165 face_landmarker_graph.cc:181] Sets FaceBlendshapesGraph acceleration",
             b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
             b"E0000 00:00:1796597319.684845   12170 calculator_graph.cc:887] a real failure",
             b"a line of our own"]
    with console.native_stderr_filtered():
        for line in lines:
            os.write(2, line + b"\n")
        os.write(2, b"no newline at the end")
    err = capfd.readouterr().err
    assert err.splitlines() == ["E0000 00:00:1796597319.684845   12170 calculator_graph.cc:887] a real failure",
                                "a line of our own", "no newline at the end"]
    os.write(2, b"W0000 00:00:1.0   1 x.cc:1] after the block\n")  # outside the block fd 2 is the real one again
    assert "after the block" in capfd.readouterr().err


@pytest.mark.parametrize("category, filename, noise", [
    (DeprecationWarning, "/venv/site-packages/lightning/pytorch/utilities/_pytree.py", True),
    (UserWarning, "/venv/site-packages/lightning/pytorch/loops/fit_loop.py", True),   # Lightning on mexkit's trainer
    (FutureWarning, "/venv/site-packages/torch/jit/_script.py", True),
    (UserWarning, "/venv/site-packages/torch/nn/functional.py", False),
    (FutureWarning, console.__file__, False),   # mexkit's own warnings always show
])
def test_which_warnings_are_noise(category, filename, noise):
    assert console.is_noise(category, filename) is noise


FFMPEG = re.compile(r"^\[[\w,]+ @ 0x[0-9a-f]+\]", re.M)  # FFmpeg's own lines: "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x…] moov atom not found"


def test_ffmpeg_lines_of_a_damaged_video_are_held_back_and_the_mexkit_error_stays(tmp_path):
    """A truncated copy of single_face.mp4 through `mexkit align` (OpenCV's FFmpeg prints "moov atom not found"),
    and a copy with its middle overwritten decoded under the console (FFmpeg prints "[h264 @ …] error while
    decoding MB" per damaged frame): nothing of FFmpeg's by default, mexkit's error with the file and the fix
    stays; with -v FFmpeg's line comes through."""
    video = (Path(__file__).parents[1] / "datasets" / "corpus" / "media" / "single_face.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(video[:5000])
    damaged = bytearray(video)
    damaged[len(video) // 3:len(video) // 3 + 20000] = np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes()
    (tmp_path / "damaged.mp4").write_bytes(bytes(damaged))
    env = {k: v for k, v in os.environ.items() if k not in (console.ENV, "OPENCV_FFMPEG_LOGLEVEL", "OPENCV_LOG_LEVEL")}
    align = [sys.executable, "-m", "mexkit.cli", "align", str(tmp_path / "cut.mp4"), "--out", str(tmp_path / "a")]
    decode = ("from mexkit import console; console.setup()\nfrom mexkit import MexkitInputError\nfrom mexkit.video_io import iter_video\n"
              "n = 0\ntry:\n    for _ in iter_video(%r):\n        n += 1\nexcept MexkitInputError as err:\n    print(n, err)\n" % str(tmp_path / "damaged.mp4"))
    procs = {"quiet": subprocess.Popen(align, env=env, stderr=subprocess.PIPE, text=True),
             "verbose": subprocess.Popen([*align[:3], "-v", *align[3:]], env=env, stderr=subprocess.PIPE, text=True),
             "decode": subprocess.Popen([sys.executable, "-c", decode], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)}
    done = {k: (p.communicate(timeout=300), p.returncode) for k, p in procs.items()}
    (_, quiet), rc = done["quiet"]
    assert rc == 2 and not FFMPEG.search(quiet) and "moov atom" not in quiet, quiet
    assert f"{tmp_path / 'cut.mp4'}: cannot open video" in quiet and "Fix:" in quiet, quiet
    (_, loud), rc = done["verbose"]
    assert rc == 2 and "moov atom not found" in loud and FFMPEG.search(loud), loud
    (frames, err), rc = done["decode"]
    assert rc == 0 and 0 < int(frames.split()[0]) < 72 and "video is truncated" in frames, frames  # what decodes is read, the rest said
    assert not FFMPEG.search(err), err  # and FFmpeg itself says nothing
