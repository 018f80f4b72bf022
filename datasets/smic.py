"""SMIC-HS (Li et al., FG 2013), the 100 fps high-speed part, read as released.

Layout:  <root>/HS/s1/micro/{positive,negative,surprise}/s1_po_01/image106720.bmp …
There is no annotation sheet: the emotion folder is the label, the sample folder holds the clip
from onset to offset, and no apex is annotated — the middle frame is used and every sample is
flagged `apex_estimated`. A sample folder whose name code (po/ne/sur) or subject disagrees with
where it sits is rejected. Subjects become "smic_s1".
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .adapter_base import Annotation, DatasetAdapter

SMIC_LABELS = {"positive": "po", "negative": "ne", "surprise": "sur"}
_SAMPLE = re.compile(r"^(s\d+)_(po|ne|sur)_(\d+)$", re.IGNORECASE)


class SMICAdapter(DatasetAdapter):
    name = "smic"
    fps = 100.0

    def __init__(self, root: str | Path, frames_dir: str | Path | None = None):
        super().__init__(root)
        self._frames_dir = frames_dir

    @cached_property
    def frames_root(self) -> Path:
        """The HS folder (holding s1, s2, …)."""
        cands = [self.root / self._frames_dir] if self._frames_dir else [self.root / "HS", self.root / "SMIC-HS" / "HS", self.root]
        for p in cands:
            if p.is_dir() and any(q.is_dir() and re.fullmatch(r"s\d+", q.name) for q in p.iterdir()):
                return p
        raise MexkitInputError(self.root, "SMIC-HS folder not found (no HS/s<N>/ subject folders)", "point --root at the folder holding HS/", stage="frames-folder")

    def frame_folders(self) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.frames_root.glob("s*/micro/*/*") if p.is_dir())

    def read_annotations(self, rejects: RejectLog) -> list[Annotation]:
        anns = []
        for rel in self.frame_folders():
            p = self.root / rel
            self.note_folder(rel)
            subject_dir, emotion = p.parents[2].name, p.parent.name
            ref = rel
            m = _SAMPLE.match(p.name)
            if emotion not in SMIC_LABELS:
                rejects.add(p, "annotations", f"{ref}: emotion folder {emotion!r} is not one of {sorted(SMIC_LABELS)}")
                continue
            if not m:
                rejects.add(p, "annotations", f"{ref}: folder name {p.name!r} is not of the form s<N>_<po|ne|sur>_<NN>")
                continue
            if m.group(2).lower() != SMIC_LABELS[emotion]:
                rejects.add(p, "annotations", f"{ref}: folder {p.name} says {m.group(2)!r} but sits under {emotion}/ (label ambiguous)")
                continue
            if m.group(1).lower() != subject_dir.lower():
                rejects.add(p, "annotations", f"{ref}: folder {p.name} belongs to {m.group(1)} but sits under {subject_dir}/")
                continue
            anns.append(Annotation(
                sample_id=f"{self.name}_{p.name}", subject=self.prefixed(subject_dir), label=emotion,
                folder=rel, ref=ref, file=str(p),
            ))
        return anns
