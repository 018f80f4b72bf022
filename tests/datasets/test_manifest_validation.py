"""Row checks: timing, unknown cells, paths inside the root, finished-manifest validation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mexkit.datasets.manifest_validation import (
    MANIFEST_COLUMNS, as_frame_number, check_timing, is_unknown, manifest_fingerprint, resolve_inside, validate_manifest_rows,
)
from mexkit.errors import MexkitInputError


def test_unknown_cells_and_frame_numbers():
    for v in ["/", "", " - ", -1, "-1", None, np.nan, "N/A"]:
        assert is_unknown(v), v
    assert not is_unknown(0) and not is_unknown("46")
    assert as_frame_number("46", "OnsetFrame", "row 3", "s.xlsx") == 46
    assert as_frame_number(46.0, "OnsetFrame", "row 3", "s.xlsx") == 46
    assert as_frame_number("/", "ApexFrame", "row 3", "s.xlsx", allow_unknown=True) is None
    with pytest.raises(MexkitInputError, match="row 3: OnsetFrame is empty or unknown"):
        as_frame_number("/", "OnsetFrame", "row 3", "s.xlsx")
    with pytest.raises(MexkitInputError, match="whole, non-negative"):
        as_frame_number(4.5, "OnsetFrame", "row 3", "s.xlsx")


def test_timing():
    check_timing(3, None, 9, "row 2", "f")
    check_timing(3, 3, 3, "row 2", "f")
    with pytest.raises(MexkitInputError, match="onset 9 is after offset 3"):
        check_timing(9, None, 3, "row 2", "f")
    with pytest.raises(MexkitInputError, match="apex 12 is outside the clip"):
        check_timing(3, 12, 9, "row 2", "f")


def test_resolve_inside(tmp_path):
    (tmp_path / "clips" / "a").mkdir(parents=True)
    assert resolve_inside(tmp_path, "clips/a", "m.csv", "row 2") == (tmp_path / "clips" / "a").resolve()
    assert resolve_inside(tmp_path, "clips/../clips/a", "m.csv", "row 2") == (tmp_path / "clips" / "a").resolve()
    with pytest.raises(MexkitInputError, match="escapes the dataset root"):
        resolve_inside(tmp_path, "clips/../../etc", "m.csv", "row 2")
    with pytest.raises(MexkitInputError, match="is absolute"):
        resolve_inside(tmp_path, "/etc/passwd", "m.csv", "row 2")
    (tmp_path / "link").symlink_to(tmp_path.parent)
    with pytest.raises(MexkitInputError, match="escapes"):
        resolve_inside(tmp_path, "link", "m.csv", "row 2")


def _row(**kw):
    base = dict(sample_id="a", subject="x_1", dataset="x", label="l", aus="", onset=0, apex=2, offset=4,
                apex_estimated=False, fps=30, num_frames=5, path="clips/a", source="clips/a")
    base.update(kw)
    return base


def test_validate_manifest_rows():
    df = pd.DataFrame([_row(), _row(sample_id="b", onset=3, apex=1), _row(sample_id="c", fps=0), _row(sample_id="d", offset=5),
                       _row(sample_id="e", path="../x"), _row(sample_id="a")])
    bad = {p: e.reason for p, e in validate_manifest_rows(df, "m.csv")}
    assert set(bad) == {0, 1, 2, 3, 4, 5}
    assert "duplicate sample_id 'a'" in bad[0] and "also on row(s) [7]" in bad[0]
    assert "apex 1 is outside" in bad[1] and "fps must be > 0" in bad[2] and "offset 5 beyond" in bad[3] and "not relative" in bad[4]
    assert validate_manifest_rows(pd.DataFrame([_row()]), "m.csv") == []
    with pytest.raises(MexkitInputError, match="missing column"):
        validate_manifest_rows(pd.DataFrame([_row()]).drop(columns=["fps"]), "m.csv")
    assert set(MANIFEST_COLUMNS) <= set(_row())


def test_fingerprint_ignores_row_order():
    df = pd.DataFrame([_row(), _row(sample_id="b", subject="x_2")])
    assert manifest_fingerprint(df) == manifest_fingerprint(df.iloc[::-1])
    assert manifest_fingerprint(df) != manifest_fingerprint(df.iloc[:1])
