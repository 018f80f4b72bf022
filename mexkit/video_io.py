"""Reading and writing clips: video files, image-sequence folders, single images, GIFs."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

import cv2
import numpy as np
from PIL import Image

from .atomic import atomic_path
from .clip import Clip, as_rgb_frames
from .errors import MexkitInputError

VIDEO_EXTS = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"}
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
_NUM = re.compile(r"(\d+)")


def natural_key(name: str) -> list:
    """Sort key that orders 'img2' before 'img10'."""
    return [int(t) if t.isdigit() else t.lower() for t in _NUM.split(name)]


def _check_file(path: Path, exts: set[str], kind: str) -> None:
    if not path.exists():
        raise MexkitInputError(path, f"{kind} not found", "check the path")
    if path.is_file() and path.stat().st_size == 0:
        raise MexkitInputError(path, "file is empty (0 bytes)", "re-export or re-copy the file")
    if path.suffix.lower() not in exts:
        raise MexkitInputError(
            path,
            f"unsupported extension {path.suffix or '(none)'!r}",
            f"convert it to one of {', '.join(sorted(exts))}",
        )


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as uint8 RGB (H, W, 3); gray and 16-bit are converted, alpha dropped."""
    path = Path(path)
    _check_file(path, IMAGE_EXTS, "image")
    buf = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode handles non-ASCII paths
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise MexkitInputError(path, "cannot decode image (corrupt or not an image)", "re-export the file")
    if img.dtype == np.uint16:
        img = (img / 257.0).round().astype(np.uint8)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


def is_gray(img: np.ndarray) -> bool:
    """True if an RGB image has identical channels (a gray source expanded to RGB)."""
    return bool(img.ndim == 2 or (np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2])))


def video_info(path: str | Path) -> dict[str, float]:
    """fps, declared frame count, width and height of a video file."""
    path = Path(path)
    _check_file(path, VIDEO_EXTS, "video")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise MexkitInputError(path, "cannot open video (corrupt, truncated or unknown codec)", "re-encode it, e.g. `ffmpeg -i in -c:v libx264 out.mp4`")
        return {
            "fps": float(cap.get(cv2.CAP_PROP_FPS) or 0.0),
            "frames": int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0),
            "width": int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        }
    finally:
        cap.release()


def iter_video(path: str | Path, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
    """Yield RGB frames of a video one at a time (memory stays flat for long videos).

    Raises MexkitInputError if the file cannot be opened, decodes no frame, or ends well before the
    frame count its header declares (a truncated file).
    """
    path = Path(path)
    info = video_info(path)
    cap = cv2.VideoCapture(str(path))
    n = 0
    try:
        while stop is None or n < stop:
            ok, frame = cap.read()
            if not ok:
                break
            if n >= start:
                yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            n += 1
    finally:
        cap.release()
    if n == 0:
        raise MexkitInputError(path, "video decodes to no frames (corrupt or truncated)", "re-encode or re-copy the file")
    declared = info["frames"]
    if stop is None and declared > 0 and n < declared - max(3, 0.05 * declared):  # headers are often off by a few
        raise MexkitInputError(
            path, f"video is truncated: decoded {n} of the {declared} frames its header declares", "re-copy the file"
        )


def read_video(path: str | Path, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, float]:
    """All frames (T, H, W, 3) uint8 and the fps of a video file — for short clips only: a long video is
    read with `iter_video` / `iter_clip_frames` (memory flat in its length)."""
    frames = list(iter_video(path, start, stop))
    if not frames:  # a frame range past the end, or a video that decodes to nothing
        raise MexkitInputError(path, f"no frames in {start}..{'its end' if stop is None else stop - 1} (the video has "
                               f"{count_video_frames(path)} frame(s))", "check the frame range (frame_start / frame_stop) against the video",
                               stage="frames")
    return np.stack(frames), video_info(path)["fps"]


def count_video_frames(path: str | Path) -> int:
    """Frames of a video: the count its header declares, else (0 declared) frames counted by decoding
    them one at a time without keeping any."""
    path = Path(path)
    declared = video_info(path)["frames"]
    if declared > 0:
        return declared
    cap = cv2.VideoCapture(str(path))
    n = 0
    try:
        while cap.grab():
            n += 1
    finally:
        cap.release()
    return n


def list_frame_files(folder: str | Path, allow_gaps: bool = False) -> list[Path]:
    """Image files of a frame folder in natural order; a gap in the frame numbers is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MexkitInputError(folder, "frame folder not found", "check the path")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".")), key=lambda p: natural_key(p.name))
    if not files:
        raise MexkitInputError(folder, "folder holds no image frames", f"put frames ({', '.join(sorted(IMAGE_EXTS))}) in it")
    if not allow_gaps:
        nums = [int(m[-1]) if (m := _NUM.findall(p.stem)) else None for p in files]
        if all(x is not None for x in nums) and len(nums) > 1:
            missing = sorted(set(range(nums[0], nums[-1] + 1)) - set(nums))
            if missing:
                shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
                raise MexkitInputError(
                    folder,
                    f"gap in the frame sequence: frame number(s) {shown} missing between {files[0].name} and {files[-1].name}",
                    "restore the missing frames (or pass allow_gaps=True to read what is there)",
                )
    return files


def read_frames(files: list[Path], mixed_color: str = "error") -> np.ndarray:
    """Read frame files into (T, H, W, 3) uint8. Gray frames are expanded; a mix of gray and colour
    frames in one sequence is an error unless mixed_color="expand"; sizes must agree."""
    frames = [read_image(f) for f in files]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        raise MexkitInputError(files[0].parent, f"frames differ in size: {sorted(shapes)}", "resize or re-export the frames to one size")
    if mixed_color == "error" and len(frames) > 1:
        gray = [is_gray(f) for f in frames]
        if any(gray) and not all(gray):
            first = files[gray.index(not gray[0])]
            raise MexkitInputError(first, "sequence mixes gray and colour frames", "re-export all frames in one colour mode")
    return np.stack(frames)


def iter_frame_files(files: list[Path], mixed_color: str = "error") -> Iterator[np.ndarray]:
    """The frames of `read_frames`, one at a time (memory flat in their number): each must have the first
    frame's size, and gray and colour frames may not mix unless mixed_color="expand"."""
    first_shape, first_gray = None, None
    for f in files:
        img = read_image(f)
        if first_shape is None:
            first_shape, first_gray = img.shape, is_gray(img)
        elif img.shape != first_shape:
            raise MexkitInputError(files[0].parent, f"frames differ in size: {f.name} is {img.shape}, {files[0].name} {first_shape}",
                                   "resize or re-export the frames to one size")
        elif mixed_color == "error" and is_gray(img) != first_gray:
            raise MexkitInputError(f, "sequence mixes gray and colour frames", "re-export all frames in one colour mode")
        yield img


def clip_frame_count(path: str | Path, allow_gaps: bool = False) -> int:
    """How many frames `iter_clip_frames(path)` yields (a video's header count when it declares one)."""
    path = Path(path)
    if path.is_dir():
        return len(list_frame_files(path, allow_gaps))
    if path.suffix.lower() in VIDEO_EXTS:
        return count_video_frames(path)
    _check_file(path, IMAGE_EXTS | VIDEO_EXTS, "file")
    return 1


def iter_clip_frames(path: str | Path, start: int = 0, stop: int | None = None, allow_gaps: bool = False) -> Iterator[np.ndarray]:
    """Frames start..stop-1 of a video file, a frame folder or a single image (uint8 RGB (H, W, 3)), one at a
    time: what `read_clip` reads, with memory flat in the clip's length (docs/design.md §1)."""
    path = Path(path)
    if path.is_dir():
        yield from iter_frame_files(list_frame_files(path, allow_gaps)[start:stop])
    elif path.suffix.lower() in VIDEO_EXTS:
        yield from iter_video(path, start, stop)
    else:
        _check_file(path, IMAGE_EXTS | VIDEO_EXTS, "file")
        if start == 0 and (stop is None or stop > 0):
            yield read_image(path)


def clip_shape(path: str | Path) -> tuple[int, int, int]:
    """(frames, height, width) of a video, frame folder or image, decoding at most one frame."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in VIDEO_EXTS:
        info = video_info(path)
        return count_video_frames(path), int(info["height"]), int(info["width"])
    if path.is_dir():
        files = list_frame_files(path)
        return (len(files), *read_image(files[0]).shape[:2])
    return (1, *read_image(path).shape[:2])


def clip_fps(path: str | Path) -> float | None:
    """A video's own frame rate; None for frame folders and images (they carry none)."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in VIDEO_EXTS:
        return video_info(path)["fps"] or None
    return None


def read_frame(path: str | Path, index: int) -> np.ndarray:
    """Frame `index` of a video, frame folder or image (decoding no frame after it); an index outside the
    clip is a MexkitInputError that says how many frames there are."""
    path = Path(path)
    if index >= 0:
        for frame in iter_clip_frames(path, index, index + 1):
            return frame
    n = clip_frame_count(path)
    raise MexkitInputError(path, f"frame {index} is outside the clip ({n} frame{'s' if n != 1 else ''}: 0..{max(n - 1, 0)})",
                           f"give a frame number from 0 to {max(n - 1, 0)}", stage="input")


def read_clip(path: str | Path, fps: float | None = None, allow_gaps: bool = False, **annotations: Any) -> Clip:
    """Read a video file, a frame folder or a single image as a `Clip`.

    fps: required for folders and images (defaults to 30 with a note in `meta`); videos use their own.
    annotations: extra Clip fields (subject, onset, apex, label, …).
    """
    path = Path(path)
    annotations.setdefault("source", str(path))
    annotations.setdefault("sample_id", path.stem if path.is_file() else path.name)
    meta = annotations.pop("meta", {})
    if path.is_dir():
        frames = read_frames(list_frame_files(path, allow_gaps))
    elif path.suffix.lower() in VIDEO_EXTS:
        frames, vfps = read_video(path)
        fps = fps or vfps
    else:
        _check_file(path, IMAGE_EXTS | VIDEO_EXTS, "file")
        frames = read_image(path)[None]
    if not fps:
        fps = 30.0
        meta["fps_assumed"] = True
    return Clip(frames=frames, fps=float(fps), meta=meta, **annotations)


def write_video(path: str | Path, frames: np.ndarray, fps: float) -> Path:
    """Write frames as .mp4 (mp4v) or .avi (MJPG), atomically."""
    path = Path(path)
    frames = as_rgb_frames(frames)
    fourcc = {".mp4": "mp4v", ".m4v": "mp4v", ".avi": "MJPG", ".mov": "mp4v"}.get(path.suffix.lower())
    if fourcc is None:
        raise MexkitInputError(path, f"cannot write video with extension {path.suffix!r}", "use .mp4 or .avi")
    h, w = frames.shape[1:3]
    with atomic_path(path) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), float(fps), (w, h))
        if not writer.isOpened():
            raise MexkitInputError(path, "cannot open video writer", "check that the folder is writable")
        for f in frames:
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        writer.release()
    return path


def gif_bytes(frames: np.ndarray, fps: float, max_fps: float = 50.0) -> bytes:
    """Frames encoded as a looping GIF (for inline HTML); playback fps is capped for browsers."""
    frames = as_rgb_frames(frames)
    duration = int(round(1000.0 / min(fps, max_fps)))
    imgs = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=duration, loop=0)
    return buf.getvalue()


def write_gif(path: str | Path, frames: np.ndarray, fps: float) -> Path:
    from .atomic import atomic_write_bytes

    atomic_write_bytes(path, gif_bytes(frames, fps))
    return Path(path)


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write one RGB image (png/jpg/bmp) atomically; non-ASCII paths are fine."""
    path = Path(path)
    img = as_rgb_frames(image[None])[0]
    ok, buf = cv2.imencode(path.suffix.lower() or ".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    if not ok:
        raise MexkitInputError(path, "cannot encode image", "use .png, .jpg or .bmp")
    from .atomic import atomic_write_bytes

    atomic_write_bytes(path, buf.tobytes())
    return path


def write_frame_files(folder: str | Path, frames: Iterable[np.ndarray], ext: str = "png", name: str | Path | None = None) -> int:
    """Write frames (an array or any iterable of (H, W[, C]) frames, consumed one at a time) into an existing
    folder as 00000.png, 00001.png, …; returns how many. `name`: what an encoding error names (default the folder)."""
    folder = Path(folder)
    n = 0
    for n, f in enumerate(frames, start=1):
        f = as_rgb_frames(np.asarray(f)[None])[0]
        ok, buf = cv2.imencode(f".{ext}", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        if not ok:
            raise MexkitInputError(name or folder, f"cannot encode frame {n - 1} as {ext}", "use png or jpg")
        buf.tofile(str(folder / f"{n - 1:05d}.{ext}"))
    return n


def write_frames(folder: str | Path, frames: np.ndarray | Iterable[np.ndarray], ext: str = "png") -> Path:
    """Write frames as a numbered folder (00000.png, 00001.png, …), atomically (all or nothing). `frames`
    may be a generator: each frame is written as it comes, so a long clip never sits in memory."""
    folder = Path(folder)
    with atomic_path(folder) as tmp:
        tmp.mkdir()
        write_frame_files(tmp, frames, ext, name=folder)
    return folder


def write_clip(path: str | Path, clip: Clip) -> Path:
    """Write a clip as a video file (by extension) or, for a path without one, a frame folder."""
    path = Path(path)
    if path.suffix.lower() in VIDEO_EXTS:
        return write_video(path, clip.frames, clip.fps)
    if path.suffix.lower() == ".gif":
        return write_gif(path, clip.frames, clip.fps)
    return write_frames(path, clip.frames)
