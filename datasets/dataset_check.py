"""The report of `mexkit datasets check`: what an adapter found in a dataset tree and what it rejected."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from pathlib import Path

import pandas as pd

from mexkit.rejects import RejectLog

from .au_targets import au_summary, format_au_summary
from .label_maps import MEGC2019_MAP, composite_counts, map_labels


def list_section(out: list[str], title: str, items: list[str], limit: int = 50) -> None:
    """Append a report section to `out`: a blank line, "title: count", the first `limit` items indented, "… N more"."""
    out.append("")
    out.append(f"{title}: {len(items)}")
    out.extend(f"  {x}" for x in items[:limit])
    if len(items) > limit:
        out.append(f"  … {len(items) - limit} more")


@dataclass
class DatasetCheck:
    """Manifest of usable samples, the rejected rows, and sample folders no annotation row names."""

    dataset: str
    root: Path
    manifest: pd.DataFrame
    rejects: RejectLog
    folders_without_rows: list[str]
    sheet_note: str = ""  # which annotation sheet was read and why
    errata: Any = None  # the ErrataReport of the read (None: the dataset has no sheet)

    def _rejects_where(self, pred) -> list[dict[str, str]]:
        return [r for r in self.rejects.rows if pred(r)]

    @property
    def rows_without_frames(self) -> list[dict[str, str]]:
        """Annotation rows whose frame folder is absent or empty."""
        return self._rejects_where(lambda r: r["stage"] == "frames-folder")

    @property
    def frames_missing(self) -> list[dict[str, str]]:
        """Rows whose folder exists but some frame files are missing, empty or unreadable."""
        return self._rejects_where(lambda r: r["stage"] == "frames")

    @property
    def other_rejects(self) -> list[dict[str, str]]:
        return self._rejects_where(lambda r: r["stage"] not in ("frames", "frames-folder"))

    def counts(self) -> pd.DataFrame:
        """Samples per subject (rows) and label (columns), with totals."""
        if self.manifest.empty:
            return pd.DataFrame()
        return pd.crosstab(self.manifest["subject"], self.manifest["label"].fillna("(none)"), margins=True, margins_name="total")

    def au_summary(self) -> dict[str, Any]:
        """The manifest's AU targets: positives per MEB AU, codes outside the 12 (with counts), noted rows."""
        return au_summary(self.manifest)

    def megc_counts(self) -> pd.DataFrame | None:
        """Found vs expected MEGC2019 counts for this dataset, if it is part of the composite."""
        if self.dataset not in MEGC2019_MAP or self.manifest.empty:
            return None
        return composite_counts(map_labels(self.manifest, "megc2019"))

    @property
    def dropped_frames(self) -> pd.DataFrame:
        """Samples kept although frames inside onset..offset are absent (releases with frame drops)."""
        if "dropped_frames" not in self.manifest:
            return self.manifest.iloc[0:0]
        m = self.manifest
        return m[m["dropped_frames"].astype(str).str.len() > 0][["sample_id", "dropped_frames"]]

    def megc_difference(self):
        """This dataset's share of the MEGC2019 composite compared with the official list by id (None if not in it)."""
        if self.dataset not in MEGC2019_MAP:
            return None
        from .megc2019_list import compare_with_list

        share = map_labels(self.manifest, "megc2019") if len(self.manifest) else self.manifest
        return compare_with_list(share, {self.dataset: self.manifest}, self.rejects.rows, {self.dataset: self.sheet_note.split(" (")[0]})

    def format(self) -> str:
        """The text `mexkit datasets check` prints."""
        m = self.manifest
        out = [f"{self.dataset} at {self.root}: {len(m)} usable samples, {m['subject'].nunique() if len(m) else 0} subjects, {len(self.rejects)} rejected"]
        if self.sheet_note:
            out.append(f"annotation sheet: {self.sheet_note}")
        if self.errata is not None:
            out += self.errata.lines()
        if len(m):
            out += ["", "samples per subject and label:", self.counts().to_string()]
            est = int(m["apex_estimated"].sum())
            if est:
                out.append(f"apex unknown (middle frame used, flagged apex_estimated): {est} samples")
            out += format_au_summary(self.au_summary())
        mc = self.megc_counts()
        if mc is not None:
            out += ["", "MEGC2019 composite share (found vs expected):", mc[mc["scope"] != "composite"].to_string(index=False)]
        diff = self.megc_difference()
        if diff is not None:
            from .megc2019_list import format_difference

            out += ["", format_difference(diff, [self.dataset], limit=50)]

        list_section(out, "frames missing or unreadable", [f"{r['file']}: {r['reason']}" for r in self.frames_missing])
        if len(self.dropped_frames):
            list_section(out, "samples with dropped frames (kept)", [f"{s}: {d}" for s, d in self.dropped_frames.itertuples(index=False)])
        list_section(out, "annotation rows without frames", [f"{r['file']}: {r['reason']}" for r in self.rows_without_frames])
        list_section(out, "frame folders without rows", self.folders_without_rows)
        list_section(out, "other rejected rows", [f"{r['file']}: [{r['stage']}] {r['reason']}" for r in self.other_rejects])
        return "\n".join(out)
