"""The console: what a `mexkit` command prints, quieted in this one place.

A command shows its progress bars, its own short messages and real problems. By default (`setup()`,
called by `mexkit` before a command runs) everything else is held back:

- MediaPipe's C++ start-up lines (absl/glog `W0000 … face_landmarker_graph.cc`, `inference_feedback_manager.cc`,
  `WARNING: Logging before InitGoogle()`, TFLite's `INFO: Created TensorFlow Lite XNNPACK delegate`). They
  are written by C++ straight to file descriptor 2 while a FaceLandmarker is created — no environment
  variable silences them (GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL and GOOGLE_STDERRTHRESHOLD were measured
  to change nothing) — so `native_stderr_filtered()` routes fd 2 through a line filter around that call
  and passes on every other line (errors included).
- FFmpeg's own lines when a damaged video is opened or decoded (`[mov,mp4,… @ 0x…] moov atom not found`,
  `[h264 @ 0x…] error while decoding MB …`): OpenCV's bundled FFmpeg prints them at its ERROR level unless
  OPENCV_FFMPEG_LOGLEVEL says otherwise, which it reads when it first opens a video, so `setup()` sets it to
  FFmpeg's quiet level (-8) and OPENCV_LOG_LEVEL to ERROR (OpenCV's own `[ WARN:0@…]` lines; applied to an
  already-loaded cv2 too). mexkit's own error names the file and the fix instead. PyAV's FFmpeg passes no
  line on by default (its log level is None — measured on a truncated and a corrupted MP4) and is left so.
- Lightning's info lines (the "GPU available…" banner, "💡 Tip: … litlogger", "Seed set to 0"): logging's
  INFO level and below is switched off (`logging.disable`), whatever handlers Lightning installs.
- Deprecation warnings of other packages (Deprecation/PendingDeprecation/FutureWarning), Lightning's
  PossibleUserWarning and Lightning's warnings about mexkit's own trainer set-up; wandb's chatter
  (WANDB_SILENT).

Warnings that do show print as one line without a Python source line; mexkit's own as
`mexkit: warning: …`. `-v/--verbose` lets everything through as the libraries print it; `-q/--quiet`
also drops the progress bars. Worker processes (eval, prepare, the writer's Lightning processes) inherit
the choice through the MEXKIT_CONSOLE environment variable: `mexkit/__init__.py` applies it on import.
"""
from __future__ import annotations

import logging
import os
import re
import sys
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path

ENV = "MEXKIT_CONSOLE"  # "quiet" | "verbose", plus ",noprogress" for -q
LIGHTNING_PACKAGES = ("lightning", "lightning_fabric", "pytorch_lightning", "lightning_utilities")
DEPRECATION = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
# Lines of native (C++) start-up chatter: absl/glog INFO and WARNING lines (E and F — errors — pass),
# absl's "before InitGoogle" notice and TFLite's INFO lines.
NATIVE_NOISE = re.compile(rb"^(?:[IW]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] |WARNING: Logging before InitGoogle\(\)|INFO: )")

_state = {"verbose": False, "progress": True, "applied": None}
_native_lock = threading.RLock()
_native_depth = threading.local()


def setup(verbose: bool = False, quiet: bool = False) -> None:
    """Set this process's console (and its future worker processes', through MEXKIT_CONSOLE): quiet
    third parties unless `verbose`; no progress bars when `quiet`."""
    os.environ[ENV] = ("verbose" if verbose else "quiet") + (",noprogress" if quiet else "")
    apply_environment()


def apply_environment() -> None:
    """Apply MEXKIT_CONSOLE in this process (nothing when unset: mexkit used as a library keeps Python's defaults)."""
    value = os.environ.get(ENV)
    if not value:
        return
    if value != _state["applied"]:
        _state.update(applied=value, verbose="verbose" in value, progress="noprogress" not in value)
        if not _state["verbose"]:
            os.environ.setdefault("WANDB_SILENT", "true")
        _route_opencv(_state["verbose"])
        _route_logging(_state["verbose"])
        if not _state["progress"]:
            _disable_progress_bars()
    # every time: a `warnings.catch_warnings()` block (pytest wraps each test in one) puts the previous hook
    # back when it ends, so a second command in the same process must install it again
    if warnings.showwarning is not _show_warning:
        warnings.showwarning = _show_warning


def verbose() -> bool:
    """Whether third-party output is let through (`mexkit -v`)."""
    return _state["verbose"] or "verbose" in os.environ.get(ENV, "")


# ---------------------------------------------------------------- OpenCV and its FFmpeg
OPENCV_QUIET = {"OPENCV_FFMPEG_LOGLEVEL": "-8", "OPENCV_LOG_LEVEL": "ERROR"}  # -8: AV_LOG_QUIET


def _route_opencv(verbose_: bool) -> None:
    """Quiet: FFmpeg's lines from OpenCV's capture and OpenCV's warnings off (values a user set are kept);
    verbose: the ones set here taken back, so OpenCV prints as it would."""
    set_here = _state.setdefault("opencv_set", set())
    for key, value in OPENCV_QUIET.items():
        if not verbose_ and key not in os.environ:
            os.environ[key] = value
            set_here.add(key)
        elif verbose_ and key in set_here:
            os.environ.pop(key, None)
            set_here.discard(key)
    logging_ = getattr(getattr(sys.modules.get("cv2"), "utils", None), "logging", None)  # a cv2 loaded already read its variable
    if logging_ is not None and (verbose_ or "OPENCV_LOG_LEVEL" in set_here):
        logging_.setLogLevel(logging_.LOG_LEVEL_WARNING if verbose_ else logging_.LOG_LEVEL_ERROR)


# ---------------------------------------------------------------- logging
def _route_logging(verbose_: bool) -> None:
    """INFO logging and below is off unless verbose: Lightning's banner, tips and "Seed set to" lines are
    INFO records, and Lightning (re)sets its loggers' levels and handlers when it loads, so the switch is
    logging's global one, which holds whatever loads later. mexkit itself logs nothing."""
    logging.disable(logging.NOTSET if verbose_ else logging.INFO)


# ---------------------------------------------------------------- warnings
def _roots() -> tuple[str, ...]:
    """Folders of mexkit's code (mexkit/ and the folders mapped into its namespace)."""
    if "roots" not in _state:
        import importlib.util

        roots = []
        for name in ("mexkit", "mexkit.datasets", "mexkit.synth", "mexkit.recog", "mexkit.eval"):
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                continue
            roots += [str(Path(p).resolve()) + os.sep for p in (spec.submodule_search_locations or []) if spec]
        _state["roots"] = tuple(roots)
    return _state["roots"]


def is_mexkit_warning(category: type[Warning], filename: str) -> bool:
    """Raised by mexkit: a mexkit warning class, or warned from a file of mexkit's code."""
    if getattr(category, "__module__", "").startswith("mexkit"):
        return True
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return path.startswith(_roots())


def _package_of(filename: str) -> str:
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1:]
            return rest[0].removesuffix(".py") if rest else ""
    return Path(filename).stem


def is_noise(category: type[Warning], filename: str) -> bool:
    """A warning a mexkit user cannot act on: another package's deprecation notice, Lightning's
    PossibleUserWarning, or Lightning's remarks on the trainer mexkit configured."""
    if is_mexkit_warning(category, filename):
        return False
    if issubclass(category, DEPRECATION) or category.__name__ == "PossibleUserWarning":
        return True
    return _package_of(filename) in LIGHTNING_PACKAGES


def format_warning(message, category: type[Warning], filename: str) -> str:
    """One line, no source line: `mexkit: warning: …` for mexkit's, `warning: … (Category, package)` otherwise."""
    text = " ".join(str(message).split())
    if is_mexkit_warning(category, filename):
        return f"mexkit: warning: {text}\n"
    return f"warning: {text} ({category.__name__}, {_package_of(filename)})\n"


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if _state["verbose"] and not is_mexkit_warning(category, filename):
        text = warnings.formatwarning(message, category, filename, lineno, line)
    elif not _state["verbose"] and is_noise(category, filename):
        return
    else:
        text = format_warning(message, category, filename)
    stream = file if file is not None else sys.stderr
    try:
        stream.write(text)
    except (OSError, AttributeError, ValueError):  # no stderr (closed, or a daemon without one)
        pass


# ---------------------------------------------------------------- progress bars
def _disable_progress_bars() -> None:
    """-q: every tqdm bar (mexkit's and Lightning's, whatever `disable=` a call site passes) is off."""
    import tqdm.std

    cls = tqdm.std.tqdm
    if getattr(cls.__init__, "_mexkit_quiet", False):
        return
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        if len(args) > 10:  # `disable` given positionally (the 11th parameter)
            args = (*args[:10], True, *args[11:])
        else:
            kwargs["disable"] = True
        original(self, *args, **kwargs)

    __init__._mexkit_quiet = True
    cls.__init__ = __init__


# ---------------------------------------------------------------- native (C++) output
@contextmanager
def native_stderr_filtered():
    """Inside this block, lines written to file descriptor 2 (by C++ libraries too) pass through a filter
    that drops NATIVE_NOISE and keeps every other line, in order. A no-op with `-v`, when fd 2 cannot be
    duplicated, or when nested. Used around MediaPipe's FaceLandmarker creation."""
    if verbose() or getattr(_native_depth, "n", 0):
        yield
        return
    with _native_lock:
        try:
            sys.stderr.flush()
        except (OSError, AttributeError, ValueError):
            pass
        try:
            saved = os.dup(2)
            read_end, write_end = os.pipe()
        except OSError:
            saved = None
        if saved is None:
            yield
            return
        os.dup2(write_end, 2)
        os.close(write_end)
        reader = threading.Thread(target=_forward_lines, args=(read_end, saved), daemon=True, name="mexkit-native-stderr")
        reader.start()
        _native_depth.n = 1
        try:
            yield
        finally:
            _native_depth.n = 0
            try:
                sys.stderr.flush()
            except (OSError, AttributeError, ValueError):
                pass
            os.dup2(saved, 2)  # closes the pipe's last write end: the reader sees the end, finishes and closes `saved`
            reader.join(timeout=10)


def _forward_lines(read_end: int, out: int) -> None:
    """Copy lines from `read_end` to `out`, leaving out NATIVE_NOISE (a last line without a newline is
    kept); closes both at the end."""
    pending = b""
    try:
        while True:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not NATIVE_NOISE.match(line))
            if kept:
                os.write(out, kept)
        if pending and not NATIVE_NOISE.match(pending):
            os.write(out, pending)
    except OSError:
        pass
    finally:
        os.close(read_end)
        os.close(out)
