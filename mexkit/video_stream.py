"""Streaming a long video one frame at a time: a video file (PyAV) or a folder of frames (natural order).

`VideoStream(path, fps=None)` reads nothing but the header and the first frame when made; iterating it
yields `VideoFrame(index, time_s, image)` lazily, so memory stays flat for an hour of video.

- index: 0-based position in decoded order (a folder: position of the file in natural order).
- time_s: seconds from the first frame, from the stream's own timestamps (a variable-frame-rate file
  keeps its real times); a folder, or a file given an explicit `fps`, uses index / fps.
- image: RGB uint8 (H, W, 3).

Damage is reported, not fatal: packets or frame files that fail to decode are skipped and listed in
`decode_errors`; a file that ends before its declared frame count sets `frames_missing`. Both are final
after a full iteration (`report()` gathers them). A path that is not a video, or decodes to no frame,
is a MexkitInputError when the stream is made.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from .errors import MexkitInputError
from .video_io import IMAGE_EXTS, list_frame_files, read_image

# Frame-to-frame intervals that differ from the median by more than this fraction make a stream VFR.
VFR_TOLERANCE = 0.1
# How many packet timestamps are read when the stream is opened, to guess VFR before decoding.
VFR_PROBE_PACKETS = 300


class VideoFrame(NamedTuple):
    """One decoded frame: 0-based index, time in seconds from the first frame, RGB uint8 (H, W, 3)."""

    index: int
    time_s: float
    image: np.ndarray


def _reencode_fix() -> str:
    return "re-encode or re-copy it, e.g. `ffmpeg -i in.avi -c:v libx264 out.mp4`, or give a folder of frames"


def _is_vfr(times: np.ndarray) -> bool:
    """True when the gaps between sorted timestamps vary by more than VFR_TOLERANCE of their median."""
    if len(times) < 3:
        return False
    d = np.diff(np.sort(np.asarray(times, dtype=np.float64)))
    med = float(np.median(d))
    return bool(med > 0 and np.max(np.abs(d - med)) > VFR_TOLERANCE * med)


class VideoStream:
    """A video file or a frame folder, read lazily (see the module docstring).

    Attributes: path, fps (nominal frames per second), num_frames (declared; for a file it may be
    approximate), width, height, variable_frame_rate (from the timestamps: the first packets when
    opened, every frame after a full iteration), is_folder, decode_errors (list of str),
    frames_decoded and frames_missing (after an iteration).
    """

    def __init__(self, path: str | Path, fps: float | None = None):
        self.path = Path(path)
        if fps is not None and not fps > 0:
            raise MexkitInputError(self.path, f"frame rate must be positive, got {fps}", "pass --fps F with F > 0, e.g. --fps 30")
        self.fps_given = fps is not None
        self.decode_errors: list[str] = []
        self.frames_decoded: int | None = None
        self.frames_missing = 0
        self.is_folder = self.path.is_dir()
        if self.is_folder:
            self._open_folder(fps)
        else:
            self._open_file(fps)

    # --- opening -----------------------------------------------------------------------------------
    def _open_folder(self, fps: float | None) -> None:
        if fps is None:
            raise MexkitInputError(self.path, "a folder of frames has no frame rate", "give the frame rate with --fps F (fps=F), e.g. --fps 30 for CAS(ME)², 200 for SAMM")
        self._files = list_frame_files(self.path, allow_gaps=True)
        first = read_image(self._files[0])
        self.fps = float(fps)
        self.num_frames = len(self._files)
        self.height, self.width = first.shape[:2]
        self.variable_frame_rate = False

    def _open_file(self, fps: float | None) -> None:
        import av

        if not self.path.exists():
            raise MexkitInputError(self.path, "video not found", "check the path")
        if self.path.stat().st_size == 0:
            raise MexkitInputError(self.path, "file is empty (0 bytes)", _reencode_fix())
        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise MexkitInputError(self.path, "holds no video stream (not a video)", _reencode_fix())
                stream = container.streams.video[0]
                stream_rates = (stream.average_rate, stream.base_rate or stream.guessed_rate)
                self.time_base = stream.time_base or Fraction(1, 1)
                self.width = int(stream.codec_context.width)
                self.height = int(stream.codec_context.height)
                declared = int(stream.frames or 0)
                pts = []
                for packet in container.demux(stream):
                    if packet.pts is not None:
                        pts.append(packet.pts)
                    if len(pts) >= VFR_PROBE_PACKETS:
                        break
                duration = (stream.duration * self.time_base) if stream.duration else (
                    container.duration / 1e6 if container.duration else 0)
        except av.FFmpegError as err:
            raise MexkitInputError(self.path, f"cannot be read as a video ({err.strerror or err})", _reencode_fix()) from None
        if not pts:
            raise MexkitInputError(self.path, "decodes to no frames (corrupt, truncated or not a video)", _reencode_fix())
        self.variable_frame_rate = _is_vfr(np.asarray(pts) * float(self.time_base))
        # Nominal rate: the stream's base rate for a constant-rate file (the average is frames over a
        # duration that can include a trailing gap), the average for a variable-rate one.
        rate = (stream_rates[0] if self.variable_frame_rate else stream_rates[1]) or stream_rates[0] or stream_rates[1]
        self.fps = float(fps) if fps is not None else float(rate) if rate else 0.0
        if not self.fps > 0:
            raise MexkitInputError(self.path, "declares no frame rate", "give it with --fps F")
        self.num_frames = declared or int(round(float(duration) * self.fps))
        frames = self._decode_file()
        try:
            first = next(frames, None)
        finally:
            frames.close()
        self.decode_errors = []
        if first is None:
            raise MexkitInputError(self.path, "decodes to no frames (corrupt, truncated or not a video)", _reencode_fix())

    # --- iteration ---------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[VideoFrame]:
        self.decode_errors = []
        self.frames_missing = 0
        n = 0
        times = []
        source = self._read_folder() if self.is_folder else self._decode_file()
        for frame in source:
            n += 1
            if not self.is_folder and not self.fps_given and len(times) < 100_000:
                times.append(frame.time_s)
            yield frame
        self.frames_decoded = n
        if not self.is_folder:
            if times and not self.fps_given:
                self.variable_frame_rate = _is_vfr(np.asarray(times))
            self.frames_missing = max(0, self.num_frames - n)
        if n == 0:
            raise MexkitInputError(self.path, "decodes to no frames (corrupt, truncated or not a video)", _reencode_fix())

    def __len__(self) -> int:
        return int(self.num_frames)

    def _read_folder(self) -> Iterator[VideoFrame]:
        for i, f in enumerate(self._files):
            try:
                img = read_image(f)
            except MexkitInputError as err:
                self.decode_errors.append(f"{f.name}: {err.reason}")
                continue
            if img.shape[:2] != (self.height, self.width):
                self.decode_errors.append(f"{f.name}: size {img.shape[1]}x{img.shape[0]} differs from the first frame's {self.width}x{self.height}")
                continue
            yield VideoFrame(i, i / self.fps, img)

    def _decode_file(self) -> Iterator[VideoFrame]:
        import av

        index = 0
        t0 = None
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            packets = container.demux(stream)
            while True:
                try:
                    packet = next(packets)
                except StopIteration:
                    break
                except av.FFmpegError as err:  # the container itself is damaged past here
                    self.decode_errors.append(f"demux stopped after frame {index - 1}: {err.strerror or err}")
                    break
                try:
                    frames = packet.decode()
                except av.FFmpegError as err:
                    self.decode_errors.append(f"packet at pts {packet.pts} (after frame {index - 1}): {err.strerror or err}")
                    continue
                for frame in frames:
                    if self.fps_given or frame.pts is None:
                        t = index / self.fps
                    else:
                        t0 = frame.pts if t0 is None else t0
                        t = float((frame.pts - t0) * self.time_base)
                    yield VideoFrame(index, t, frame.to_ndarray(format="rgb24"))
                    index += 1

    # --- summary -----------------------------------------------------------------------------------
    def report(self) -> dict:
        """What was read: path, fps, frame counts, size, VFR, decode errors (final after an iteration)."""
        return {
            "path": str(self.path), "fps": self.fps, "fps_given": self.fps_given, "num_frames": self.num_frames,
            "frames_decoded": self.frames_decoded, "frames_missing": self.frames_missing, "width": self.width,
            "height": self.height, "variable_frame_rate": self.variable_frame_rate,
            "decode_errors": list(self.decode_errors),
        }


def is_stream_source(path: str | Path) -> bool:
    """A path VideoStream can try: a folder, or a file with a video (or any non-image) extension."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() not in IMAGE_EXTS
