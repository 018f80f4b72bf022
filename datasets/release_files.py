"""Where a release's annotation sheet and frames come from, shared by the sheet adapters (sheet_adapter.py) and the
long-video adapters (long_video_adapter.py): --annotations / --frames-dir when given, else found under the root."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .annotation_sheet import first_sheet, locate_annotation_sheet


class ReleaseFiles:
    """Mixin of an adapter with `root`, `name` and `annotation_patterns`: the sheet it reads (`annotation_file`, and
    `sheet_note` saying which and why), the --frames-dir it was given (`_frames_dir`) and paths relative to root."""

    root: Path
    name: str = ""
    annotation_patterns: tuple[str, ...] = ()

    def _given_files(self, annotations: str | Path | None, frames_dir: str | Path | None) -> None:
        """Keep --annotations / --frames-dir (None: find them under root)."""
        self._annotation_path = Path(annotations) if annotations else None
        self._frames_dir = frames_dir
        self.sheet_note = ""

    def choose_sheet(self, hits: list[Path]) -> tuple[Path, str]:
        """Which of several released sheets to read, and why (default: the first by name)."""
        return first_sheet(hits)

    @cached_property
    def annotation_file(self) -> Path:
        path, self.sheet_note = locate_annotation_sheet(self.root, self._annotation_path, self.annotation_patterns, self.name, self.choose_sheet)
        return path

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()
