"""Adapters for datasets annotated by one spreadsheet (CASME II, SAMM, CAS(ME)^3, MMEW, 4DME).

A subclass names its released columns, where its frames live and how a row maps to a folder;
reading the sheet, validating every row and logging rejects is shared here.
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog

from .adapter_base import Annotation, DatasetAdapter
from .annotation_sheet import ROW, read_annotation_sheet
from .frame_folders import given_frames_dir
from .errata import ErrataReport, apply_errata
from .manifest_columns import ANNOTATION_PROVENANCE_COLUMNS
from .manifest_validation import as_frame_number, check_timing, is_unknown
from .release_files import ReleaseFiles

ROLES = ("subject", "filename", "onset", "apex", "offset", "aus", "label")


class SheetAdapter(ReleaseFiles, DatasetAdapter):
    """Base for spreadsheet-annotated datasets.

    Subclasses set: `annotation_patterns` (globs of the released workbook), `columns` (role →
    released column name for the roles in ROLES), `extra_columns` (released column → manifest
    column, copied when present), `frames_dirs` (candidate frame folders relative to root, first
    found wins), optionally `sheet_preference` ((file-name part, why) pairs choosing among several
    released sheets found) and implement `subject_code`, `folder`, `sample_id`.

    errata=True (default) applies the dataset's published errata table (datasets/errata.py);
    errata=False reads the release exactly. The sheet read and the errata applied to each row are
    written to the manifest's `annotation_sheet` and `errata` columns.
    """

    annotation_patterns: tuple[str, ...] = ()
    columns: dict[str, str] = {}
    extra_columns: dict[str, str] = {}
    frames_dirs: tuple[str, ...] = ()
    sheet: str | int | None = None
    header_row: int | None = None
    sheet_preference: tuple[tuple[str, str], ...] = ()
    has_aus = True  # every sheet adapter reads an AU column (columns["aus"])

    def __init__(self, root: str | Path, annotations: str | Path | None = None, frames_dir: str | Path | None = None,
                 sheet: str | int | None = None, errata: bool = True):
        super().__init__(root)
        self._given_files(annotations, frames_dir)
        self.errata = errata
        self.errata_report = ErrataReport(self.name, enabled=errata)
        if sheet is not None:
            self.sheet = sheet

    # --- locations (looked up once: they are used for every row) -------------------------
    def choose_sheet(self, hits: list[Path]) -> tuple[Path, str]:
        """Which of several released sheets to read, and why: the first by name unless `sheet_preference` names one."""
        chosen, why = super().choose_sheet(hits)
        for part, reason in self.sheet_preference:
            pick = [h for h in hits if part.lower() in h.name.lower()]
            if pick and len(hits) > 1:
                chosen, why = pick[0], reason
                break
        return chosen, why

    @cached_property
    def frames_root(self) -> Path:
        """The folder holding the per-subject frame folders."""
        if self._frames_dir is not None:
            return given_frames_dir(self.root, self._frames_dir)
        for cand in self.frames_dirs:
            p = self.root / cand
            if p.is_dir():
                return p
        raise MexkitInputError(
            self.root, f"no {self.name} frames folder (looked for {', '.join(self.frames_dirs)})",
            "point --root at the released dataset folder or pass --frames-dir", stage="frames-folder",
        )

    # --- per dataset --------------------------------------------------------------------
    def subject_code(self, value: Any, where: str) -> str:
        """The subject's folder name ("sub01", "006") from its sheet cell."""
        raise NotImplementedError

    def folder(self, subject: str, filename: str, row: pd.Series) -> str:
        """The sample's frame folder relative to root."""
        raise NotImplementedError

    def sample_id(self, subject: str, filename: str, onset: int, row: pd.Series) -> str:
        raise NotImplementedError

    def keep_row(self, row: pd.Series) -> bool:
        """False for rows that are not micro-expression samples (not rejected, just not used)."""
        return True

    # --- shared -------------------------------------------------------------------------
    def manifest_columns(self) -> list[str]:
        return super().manifest_columns() + ANNOTATION_PROVENANCE_COLUMNS

    def required_columns(self) -> list[str]:
        return [self.columns[r] for r in ROLES if r in self.columns]

    def read_annotations(self, rejects: RejectLog) -> list[Annotation]:
        file = self.annotation_file
        df, header_row = read_annotation_sheet(file, self.required_columns(), self.sheet, self.header_row)
        self.frames_root  # a missing frames folder is a dataset-level error, not one per row
        c = self.columns
        df, self.errata_report = apply_errata(
            df, header_row, self.name, file, c, enabled=self.errata,
            describe=lambda r: f"{r.get(c['subject'])}/{r.get(c['filename'])}",
        )
        anns: list[Annotation] = []
        for _, row in df.iterrows():
            if not self.keep_row(row):
                continue
            where = f"row {row[ROW]}"
            try:
                if is_unknown(row[c["subject"]]) or is_unknown(row[c["filename"]]):
                    raise MexkitInputError(file, f"{where}: {c['subject']} or {c['filename']} is empty", "fill in the cell", stage="annotations")
                subject = self.subject_code(row[c["subject"]], where)
                filename = str(row[c["filename"]]).strip()
                where = f"row {row[ROW]} ({subject}/{filename})"
                folder = self.folder(subject, filename, row)
                self.note_folder(folder)
                onset = as_frame_number(row[c["onset"]], c["onset"], where, file)
                apex = as_frame_number(row[c["apex"]], c["apex"], where, file, allow_unknown=True)
                offset = as_frame_number(row[c["offset"]], c["offset"], where, file)
                check_timing(onset, apex, offset, where, file)
                label = None if is_unknown(row.get(c.get("label", ""), None)) else str(row[c["label"]]).strip()
                aus = "" if "aus" not in c or is_unknown(row.get(c["aus"])) else str(row[c["aus"]]).strip()
                extra = {"annotation_sheet": file.name, "errata": ";".join(self.errata_report.per_row.get(int(row[ROW]), []))}
                extra.update({dst: (None if is_unknown(row.get(src)) else row.get(src)) for src, dst in self.extra_columns.items()})
                anns.append(Annotation(
                    sample_id=self.sample_id(subject, filename, onset, row),
                    subject=self.prefixed(subject),
                    label=label,
                    folder=folder,
                    ref=f"{file.name} row {row[ROW]}",
                    file=str(file),
                    aus=aus,
                    onset_frame=onset,
                    apex_frame=apex,
                    offset_frame=offset,
                    extra=extra,
                ))
            except MexkitInputError as err:
                rejects.add(file, err.stage, err.reason)
        return anns


def digits_code(value: Any, where: str, file: str | Path, fmt: str, what: str = "subject") -> str:
    """Format the number in a subject cell (6, "006", "sub06", "S06") with `fmt` (e.g. "sub{:02d}")."""
    s = str(value).strip()
    try:
        n = int(float(s))
    except ValueError:
        m = re.fullmatch(r"[A-Za-z_]*0*(\d+)", s)
        if not m:
            raise MexkitInputError(file, f"{where}: {what} {s!r} is not a subject number", "use the released subject ids", stage="annotations") from None
        n = int(m.group(1))
    return fmt.format(n)
