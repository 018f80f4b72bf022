"""The leakage gate: no training row of a fold may carry information about that fold's held-out subjects.

Checked on every fold's training rows right before the fold's model is fitted (`run_loso` calls it;
so does the augmentation study before anything trains). A row leaks when
- its subject is held out (a real test-subject sample in the training set), or
- it is synthetic and was generated from a face of a held-out subject (`source_subject`), or
- it is synthetic and the generator weights that made it were trained on a held-out subject's data
  (`train_subjects`), or
- it is synthetic and carries the motion of a held-out subject's clip (`driving_subject`, motion
  transfer), or
- it is synthetic and its provenance is unknown: no `source_subject`, an empty `train_subjects` or
  `driving_subject` cell ("none" declares nobody; empty means nobody said — refused, never assumed
  clean), or
- it is synthetic and names a face or driving subject the real set does not have and that is not
  declared outside every real set ("outside:<name>"): ids from another namespace (a face folder's
  "sub01" beside the adapters' "casme2_sub01") would otherwise never match a held-out subject.
The first offending row stops the run with a `LeakageError` naming the sample, the fold and the reason.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from mexkit.datasets.provenance import cell_subjects, is_outside
from mexkit.errors import MexkitInputError


class LeakageError(MexkitInputError):
    """A training row of a LOSO fold derives from that fold's held-out subject."""

    def __init__(self, sample_id: str, fold: str, held_out: Iterable[str], reason: str, count: int = 1):
        self.sample_id = sample_id
        self.fold = fold
        self.held_out = sorted(held_out)
        more = f" ({count - 1} more training rows of this fold leak too)" if count > 1 else ""
        super().__init__(
            None,
            f"leakage refused: sample {sample_id!r} would train fold {fold!r} (held-out subject "
            f"{', '.join(map(repr, self.held_out))}) but {reason}{more}",
            "drop it from this fold's training data, or use clips generated from other subjects' faces by generator "
            "weights trained without the held-out subject (per-fold checkpoints)",
            stage="leakage",
        )


def leak_reason(row: pd.Series | dict, held_out: set[str], known_subjects: set[str] | None = None) -> str | None:
    """Why one training row leaks information about the held-out subjects (None if it does not).
    known_subjects: the real set's subjects; given, a synthetic row's face and driving subjects must be
    among them or declared outside."""
    if str(row["subject"]) in held_out and not bool(row.get("synthetic", False)):
        return f"it is a real sample of the held-out subject {row['subject']!r}"
    if not bool(row.get("synthetic", False)):
        return None
    src = str(row.get("source_subject", "") or "")
    if not src:
        return "it is synthetic without a source_subject, so its face cannot be checked"
    if src in held_out:
        return f"it was generated from a face of the held-out subject (source_subject={src!r})"
    if str(row["subject"]) in held_out:
        return f"it is labelled with the held-out subject {row['subject']!r}"
    trained = cell_subjects(row.get("train_subjects"))
    if trained is None:
        return (f"the subjects its generator ({row.get('generator', '') or 'unnamed'}) was trained on are unknown "
                "(empty train_subjects; an untrained generator declares 'none')")
    overlap = sorted(set(trained) & held_out)
    if overlap:
        return f"its generator ({row.get('generator', '') or 'unnamed'}) was trained on the held-out subject's data (train_subjects includes {overlap[0]!r})"
    driving = cell_subjects(row.get("driving_subject"))
    if driving is None:
        return "the subject of its driving clip is unknown (empty driving_subject; a clip without one declares 'none')"
    overlap = sorted(set(driving) & held_out)
    if overlap:
        return f"it carries the motion of a held-out subject's clip (driving_subject={overlap[0]!r})"
    if known_subjects is not None:
        for what, name in [("source_subject", src)] + [("driving_subject", d) for d in driving]:
            if name not in known_subjects and not is_outside(name):
                return (f"its {what} {name!r} is not a subject of the real set (e.g. {sorted(known_subjects)[:3]}) and not "
                        f"declared outside it: map face folders into the set's ids (mexkit generate --subject-prefix, e.g. "
                        f"casme2_) or declare other people's faces with --outside-faces")
    return None


def check_training_rows(table: pd.DataFrame, held_out: Iterable[str], fold: str, known_subjects: Iterable[str] | None = None) -> None:
    """Raise LeakageError for the first training row that leaks (and count the others).
    known_subjects: the real set's subjects (see `leak_reason`)."""
    held = {str(s) for s in held_out}
    known = None if known_subjects is None else {str(s) for s in known_subjects}
    first, count = None, 0
    for row in table.to_dict("records"):
        reason = leak_reason(row, held, known)
        if reason is not None:
            count += 1
            if first is None:
                first = (str(row["sample_id"]), reason)
    if first is not None:
        raise LeakageError(first[0], fold, held, first[1], count)
