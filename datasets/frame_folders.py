"""Numbered frame files of a released sample folder ("img46.jpg", "006_05562.jpg", "reg_image106720.bmp").

Datasets name frames by their frame number in the recording, not by position in the clip; the
annotation sheets use those numbers. The number is the last run of digits in the file stem.
"""
from __future__ import annotations

import re
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.video_io import IMAGE_EXTS, natural_key

_DIGITS = re.compile(r"(\d+)")


def frame_number(path: str | Path) -> int | None:
    """The frame number in a file name (last digit run of the stem), or None if it has none."""
    runs = _DIGITS.findall(Path(path).stem)
    return int(runs[-1]) if runs else None


def given_frames_dir(root: Path, frames_dir: str | Path) -> Path:
    """The frames folder named with --frames-dir (relative to the dataset root), or a MexkitInputError."""
    p = root / frames_dir
    if not p.is_dir():
        raise MexkitInputError(p, "frames folder not found", "check --frames-dir (relative to the dataset root)", stage="frames-folder")
    return p


def numbered_frames(folder: str | Path) -> list[tuple[int, Path]]:
    """[(frame number, file)] of the image files in a folder, sorted by number.

    Raises MexkitInputError if the folder is missing, holds no images, has image names without a
    number, or two files with the same number (e.g. img1.jpg and img01.jpg).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MexkitInputError(folder, "frame folder not found", "check the dataset root and the folder name in the annotations", stage="frames-folder")
    files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith(".")), key=lambda p: natural_key(p.name))
    if not files:
        raise MexkitInputError(folder, "folder holds no image frames", f"restore the frames ({', '.join(sorted(IMAGE_EXTS))})", stage="frames-folder")
    out: list[tuple[int, Path]] = []
    seen: dict[int, Path] = {}
    for f in files:
        n = frame_number(f)
        if n is None:
            raise MexkitInputError(f, "frame file name carries no frame number", "keep the released file names (e.g. img46.jpg)", stage="frames")
        if n in seen:
            raise MexkitInputError(f, f"two files for frame {n} ({seen[n].name} and {f.name})", "remove the duplicate", stage="frames")
        seen[n] = f
        out.append((n, f))
    out.sort(key=lambda t: t[0])
    return out


def cached_frames(root: Path, folder: str, cache: dict, ref: str) -> list[tuple[int, Path]]:
    """numbered_frames of root/folder, read once per folder (`cache` keeps the list or the error, for the next row
    naming the folder); an error is raised again with `ref` (the annotation row) in front of its reason."""
    if folder not in cache:
        try:
            cache[folder] = numbered_frames(root / folder)
        except MexkitInputError as err:
            cache[folder] = err
    frames = cache[folder]
    if isinstance(frames, MexkitInputError):
        raise MexkitInputError(frames.path, f"{ref}: {frames.reason}", frames.fix, frames.stage)
    return frames


def select_range(frames: list[tuple[int, Path]], start: int, stop: int) -> tuple[list[tuple[int, Path]], list[int]]:
    """Files with start ≤ number ≤ stop, and the frame numbers missing in that range."""
    sel = [(n, p) for n, p in frames if start <= n <= stop]
    have = {n for n, _ in sel}
    missing = [n for n in range(start, stop + 1) if n not in have]
    return sel, missing


def describe_numbers(numbers: list[int], limit: int = 8) -> str:
    """'47, 48, 51 …' (at most `limit` shown)."""
    shown = ", ".join(map(str, numbers[:limit]))
    return shown + (f" … ({len(numbers)} in all)" if len(numbers) > limit else "")
