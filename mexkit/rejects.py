"""The rejects log: every skipped item, with file, stage and reason (docs/design.md §1)."""
from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

from .atomic import atomic_append_line
from .errors import MexkitInputError

REJECT_COLUMNS = ["file", "stage", "reason"]


class RejectLog:
    """Collects rejected items and appends them to `rejects.csv` as they happen."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        self.rows: list[dict[str, str]] = []
        if self.path is not None and not self.path.exists():
            atomic_append_line(self.path, ",".join(REJECT_COLUMNS))

    def add(self, file: str | Path, stage: str, reason: str) -> None:
        row = {"file": str(file), "stage": stage, "reason": reason}
        self.rows.append(row)
        if self.path is not None:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow([row[c] for c in REJECT_COLUMNS])
            atomic_append_line(self.path, buf.getvalue())

    def add_error(self, file: str | Path, err: Exception, stage: str | None = None) -> None:
        """Record an exception; a MexkitInputError keeps its own stage and reason."""
        if isinstance(err, MexkitInputError):
            self.add(file, stage or err.stage, err.reason)
        else:
            self.add(file, stage or "process", f"{type(err).__name__}: {err}")

    def __len__(self) -> int:
        return len(self.rows)

    def summary(self) -> str:
        """'N rejected' plus counts grouped by stage and reason."""
        if not self.rows:
            return "0 rejected"
        groups = Counter((r["stage"], r["reason"]) for r in self.rows)
        lines = [f"{len(self.rows)} rejected" + (f" (see {self.path})" if self.path else "") + ":"]
        lines += [f"  {n} × [{stage}] {reason}" for (stage, reason), n in groups.most_common()]
        return "\n".join(lines)
