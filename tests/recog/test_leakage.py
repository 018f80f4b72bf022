"""The leakage gate on training rows: every way a row can carry the held-out subject is refused."""
from __future__ import annotations

import pandas as pd
import pytest

from mexkit.recog.leakage import LeakageError, check_training_rows, leak_reason


def _row(**kw):
    base = {"sample_id": "s1", "subject": "a", "label": "positive", "synthetic": False, "source_subject": "", "train_subjects": "",
            "driving_subject": "", "generator": ""}
    return {**base, **kw}


@pytest.mark.parametrize("row,needle", [
    (_row(subject="b"), "real sample of the held-out subject"),
    (_row(synthetic=True, subject="b", source_subject="b", train_subjects="none", driving_subject="none", generator="warp"),
     "generated from a face of the held-out subject"),
    (_row(synthetic=True, subject="c", source_subject="c", train_subjects="a;b", driving_subject="none", generator="gan"),
     "trained on the held-out subject"),
    (_row(synthetic=True, subject="c", source_subject=""), "without a source_subject"),
    # unknown provenance is refused, never read as "trained on nobody"
    (_row(synthetic=True, subject="c", source_subject="c", train_subjects="", driving_subject="none", generator="gan"),
     "trained on are unknown"),
    # a held-out subject's motion transferred onto another face
    (_row(synthetic=True, subject="c", source_subject="c", train_subjects="none", driving_subject="b", generator="motion-transfer"),
     "motion of a held-out subject's clip"),
    (_row(synthetic=True, subject="c", source_subject="c", train_subjects="none", driving_subject="", generator="motion-transfer"),
     "driving clip is unknown"),
])
def test_each_leak_is_named(row, needle):
    with pytest.raises(LeakageError) as err:
        check_training_rows(pd.DataFrame([_row(sample_id="ok"), {**row, "sample_id": "bad"}]), {"b"}, "fold_b")
    msg = str(err.value)
    assert needle in msg and "'bad'" in msg and "'fold_b'" in msg
    assert err.value.sample_id == "bad" and err.value.fold == "fold_b"


def test_clean_rows_pass_and_counts():
    ok = pd.DataFrame([_row(), _row(sample_id="s2", synthetic=True, subject="c", source_subject="c", train_subjects="a;d",
                                    driving_subject="none")])
    check_training_rows(ok, {"b"}, "fold_b", known_subjects={"a", "b", "c"})
    assert leak_reason(ok.iloc[1], {"b"}) is None
    bad = pd.DataFrame([_row(sample_id=f"x{i}", subject="b") for i in range(3)])
    with pytest.raises(LeakageError, match="2 more training rows"):
        check_training_rows(bad, {"b"}, "fold_b")


def test_subjects_outside_the_real_sets_namespace_are_refused_unless_declared_outside():
    # a face folder's "sub01" is not the adapters' "casme2_sub01": with the real set's subjects known,
    # the row is refused instead of silently passing the held-out check
    row = _row(sample_id="syn", synthetic=True, subject="sub01", source_subject="sub01", train_subjects="none",
               driving_subject="none", generator="warp")
    known = {"casme2_sub01", "casme2_sub02"}
    with pytest.raises(LeakageError, match="not a subject of the real set"):
        check_training_rows(pd.DataFrame([row]), {"casme2_sub01"}, "casme2_sub01", known_subjects=known)
    mapped = {**row, "subject": "casme2_sub02", "source_subject": "casme2_sub02"}
    check_training_rows(pd.DataFrame([mapped]), {"casme2_sub01"}, "casme2_sub01", known_subjects=known)
    with pytest.raises(LeakageError, match="generated from a face of the held-out subject"):
        check_training_rows(pd.DataFrame([{**row, "source_subject": "casme2_sub01"}]), {"casme2_sub01"}, "casme2_sub01", known)
    outside = {**row, "subject": "outside:sub01", "source_subject": "outside:sub01"}
    check_training_rows(pd.DataFrame([outside]), {"casme2_sub01"}, "casme2_sub01", known_subjects=known)
    # the driving clip's subject is held to the same namespace
    with pytest.raises(LeakageError, match="driving_subject 'sub02'"):
        check_training_rows(pd.DataFrame([{**outside, "driving_subject": "sub02"}]), {"casme2_sub01"}, "casme2_sub01", known)
