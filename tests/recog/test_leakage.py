"""The leakage gate on training rows: every way a row can carry the held-out subject is refused."""
from __future__ import annotations

import pandas as pd
import pytest

from mexkit.recog.leakage import LeakageError, check_training_rows, leak_reason


def _row(**kw):
    base = {"sample_id": "s1", "subject": "a", "label": "positive", "synthetic": False, "source_subject": "", "train_subjects": "", "generator": ""}
    return {**base, **kw}


@pytest.mark.parametrize("row,needle", [
    (_row(subject="b"), "real sample of the held-out subject"),
    (_row(synthetic=True, subject="b", source_subject="b", generator="warp"), "generated from a face of the held-out subject"),
    (_row(synthetic=True, subject="c", source_subject="c", train_subjects="a;b", generator="gan"), "trained on the held-out subject"),
    (_row(synthetic=True, subject="c", source_subject=""), "without a source_subject"),
])
def test_each_leak_is_named(row, needle):
    with pytest.raises(LeakageError) as err:
        check_training_rows(pd.DataFrame([_row(sample_id="ok"), {**row, "sample_id": "bad"}]), {"b"}, "fold_b")
    msg = str(err.value)
    assert needle in msg and "'bad'" in msg and "'fold_b'" in msg
    assert err.value.sample_id == "bad" and err.value.fold == "fold_b"


def test_clean_rows_pass_and_counts():
    ok = pd.DataFrame([_row(), _row(sample_id="s2", synthetic=True, subject="c", source_subject="c", train_subjects="a;d")])
    check_training_rows(ok, {"b"}, "fold_b")
    assert leak_reason(ok.iloc[1], {"b"}) is None
    bad = pd.DataFrame([_row(sample_id=f"x{i}", subject="b") for i in range(3)])
    with pytest.raises(LeakageError, match="2 more training rows"):
        check_training_rows(bad, {"b"}, "fold_b")
