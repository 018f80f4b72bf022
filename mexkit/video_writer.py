"""Writing long videos one frame at a time (PyAV): lossless FFV1 in Matroska, or an H.264 preview.

    with VideoWriter("out.mkv", fps=25.0) as w:        # lossless (FFV1, planar RGB: decodes to the same bytes)
        for frame in frames:
            w.write(frame.image, frame.time_s)          # time_s keeps a variable frame rate's own timestamps

- Streaming: one frame is encoded at a time; nothing but the encoder's state is held.
- Atomic: frames go to a temporary sibling (`.<name>.*.tmp/`), renamed onto `path` when the writer closes
  without error; an exception (or a kill) leaves no file at `path` — the temporary folder of a killed run
  is removed by `remove_stale_temporaries` (or by the next atomic write of the same name).
- Codecs: "ffv1" (default for .mkv; bgr0 pixels, bit-exact 8-bit RGB), "libx264" (default for .mp4; yuv420p,
  `crf` quality, odd sizes padded by one replicated row/column: H.264 needs even sizes), "png" (.mkv,
  lossless too, larger).
- Timestamps: given per frame in seconds, written on a 1/`TIME_BASE_HZ` clock (Matroska's own
  millisecond clock for .mkv); without them frame k is at k / fps. A timestamp that does not increase is
  moved one tick after the previous one (containers refuse equal timestamps).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import MexkitInputError

CODECS = {".mkv": "ffv1", ".mp4": "libx264"}
PIXEL_FORMATS = {"ffv1": "bgr0", "png": "rgb24", "libx264": "yuv420p"}
TIME_BASE_HZ = 1000  # Matroska stores milliseconds; mp4 gets the same clock for one rule


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary folders a killed writer of `path` left beside it (`.<name>.*.tmp`)."""
    path = Path(path)
    removed = []
    if path.parent.is_dir():
        for p in path.parent.glob(f".{path.name}.*.tmp"):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


class VideoWriter:
    """A streaming, atomic video writer (see the module docstring).

    path: .mkv (FFV1, lossless) or .mp4 (H.264). fps: the nominal rate (frames without a timestamp, and
    the stream's declared rate). codec: override the extension's default. crf: H.264 quality (0–51).
    """

    def __init__(self, path: str | Path, fps: float, codec: str | None = None, crf: int = 18):
        self.path = Path(path)
        self.codec = codec or CODECS.get(self.path.suffix.lower())
        if self.codec is None:
            raise MexkitInputError(self.path, f"cannot write a video with extension {self.path.suffix!r}",
                                   "use .mkv (lossless FFV1) or .mp4 (H.264)", stage="output")
        if not fps > 0:
            raise MexkitInputError(self.path, f"frame rate must be positive, got {fps}", "pass the video's frame rate", stage="output")
        self.fps = float(fps)
        self.crf = int(crf)
        self.frames = 0
        self._container = self._stream = None
        self._tmpdir: Path | None = None
        self._last_pts = -1
        self._size: tuple[int, int] | None = None

    # --- lifecycle ---------------------------------------------------------------------------------
    def _open(self, height: int, width: int) -> None:
        import av

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._tmpdir = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent))
        except OSError as err:
            raise MexkitInputError(self.path, f"cannot be written ({err.strerror or err})", "choose a writable output folder",
                                   stage="output") from None
        self._tmp = self._tmpdir / self.path.name
        try:
            # bitexact: no random segment id or muxing date, so the same frames give the same file (resumed runs)
            self._container = av.open(str(self._tmp), mode="w", container_options={"fflags": "+bitexact"})
            rate = Fraction(self.fps).limit_denominator(100000)
            self._stream = self._container.add_stream(self.codec, rate=rate)
        except (av.FFmpegError, ValueError) as err:
            self.abort()
            raise MexkitInputError(self.path, f"cannot be written with {self.codec} ({err})", "check that PyAV's FFmpeg has the codec "
                                   "and the folder is writable", stage="output") from None
        pad_h, pad_w = (height + height % 2, width + width % 2) if self.codec == "libx264" else (height, width)
        self._stream.width, self._stream.height = pad_w, pad_h
        self._stream.pix_fmt = PIXEL_FORMATS.get(self.codec, "yuv420p")
        self._stream.time_base = Fraction(1, TIME_BASE_HZ)
        self._stream.codec_context.time_base = Fraction(1, TIME_BASE_HZ)
        if self.codec == "libx264":
            self._stream.options = {"crf": str(self.crf), "preset": "veryfast"}
        self._size = (height, width)

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Encode one RGB uint8 (H, W, 3) frame at `time_s` seconds (default frames / fps)."""
        import av

        image = np.ascontiguousarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"frames must be RGB uint8 (H, W, 3), got {image.dtype} {image.shape}")
        if self._container is None:
            self._open(*image.shape[:2])
        elif image.shape[:2] != self._size:
            raise ValueError(f"frame {self.frames} is {image.shape[1]}×{image.shape[0]}, the video {self._size[1]}×{self._size[0]}")
        if self.codec == "libx264" and (image.shape[0] % 2 or image.shape[1] % 2):
            image = np.pad(image, ((0, image.shape[0] % 2), (0, image.shape[1] % 2), (0, 0)), mode="edge")
        t = self.frames / self.fps if time_s is None else float(time_s)
        pts = max(int(round(t * TIME_BASE_HZ)), self._last_pts + 1)
        self._last_pts = pts
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        if self._stream.pix_fmt != "rgb24":
            frame = frame.reformat(format=self._stream.pix_fmt)
        frame.pts = pts
        frame.time_base = Fraction(1, TIME_BASE_HZ)  # the muxer may change the stream's own time base
        try:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
        except (av.FFmpegError, OSError) as err:
            self.abort()
            raise MexkitInputError(self.path, f"writing failed at frame {self.frames} ({err})", "check the free space and that "
                                   "the folder is writable", stage="output") from None
        self.frames += 1

    def close(self) -> Path:
        """Flush the encoder and rename the finished file onto `path`."""
        import av

        if self._container is None:
            raise MexkitInputError(self.path, "no frame was written", "write at least one frame", stage="output")
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            os.replace(self._tmp, self.path)
        except (av.FFmpegError, OSError) as err:
            self.abort()
            raise MexkitInputError(self.path, f"could not be finished ({err})", "check the free space and that the folder is writable",
                                   stage="output") from None
        finally:
            self._container = None
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None
        return self.path

    def abort(self) -> None:
        """Drop the unfinished file: nothing is left at `path` or beside it."""
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 — a broken encoder is being discarded anyway
                pass
            self._container = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
