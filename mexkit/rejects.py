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
    """Collects rejected items and appends them to `rejects.csv` as they happen.

    An existing rejects.csv (an earlier or interrupted run into the same folder) is read back, and an
    item rejected again for the same stage and reason is not written twice: rerunning a command leaves
    the file as one run would.
    """

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else None
        self.rows: list[dict[str, str]] = []
        if self.path is not None and not self.path.exists():
            atomic_append_line(self.path, ",".join(REJECT_COLUMNS))
        elif self.path is not None and self.path.stat().st_size:
            with open(self.path, newline="", encoding="utf-8") as f:
                self.rows.extend({c: r.get(c) or "" for c in REJECT_COLUMNS} for r in csv.DictReader(f))

    def add(self, file: str | Path, stage: str, reason: str) -> None:
        row = {"file": str(file), "stage": stage, "reason": reason}
        if row in self.rows:
            return
        self.rows.append(row)
        if self.path is not None:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\r\n").writerow([row[c] for c in REJECT_COLUMNS])  # a cell with a line break is quoted
            atomic_append_line(self.path, buf.getvalue()[:-2])

    def save(self, path: str | Path) -> None:
        """Write every row to `path` in one atomic write (replacing what is there); later rows append to it."""
        from .atomic import atomic_write_text

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(REJECT_COLUMNS)
        w.writerows([r[c] for c in REJECT_COLUMNS] for r in self.rows)
        atomic_write_text(path, buf.getvalue())
        self.path = Path(path)

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
