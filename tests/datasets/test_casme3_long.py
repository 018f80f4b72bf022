"""CAS(ME)³ Part A long videos: the .xls sheet, frame numbers from 5 with a gap, Filename case."""
from __future__ import annotations

import pytest

import fixture_trees as ft
from long_truth_checks import check_truth
from mexkit.datasets import make_adapter
from mexkit.datasets.casme3_long import CASME3LongAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog


def test_reads_release(pristine):
    tree = pristine("casme3_long")
    ad = make_adapter("casme3-long", tree.root)
    assert ad.annotation_file.suffix == ".xls"
    log = RejectLog()
    df = ad.truth(log, decode=True)
    check_truth(df, tree)
    assert len(log) == 1 and "row 6: no recording folder 'd'" in log.rows[0]["reason"]
    assert ad.check().folders_without_rows == []


def test_reversioned_sheet_names_the_missing_column(tmp_path, face_seqs):
    tree = ft.build_casme3_long(tmp_path / "c3", face_seqs)
    rows = [ft.CASME3_LONG_HEADER[:5] + ["Type"] + ft.CASME3_LONG_HEADER[6:], ["spNO.1", "a", 7, 9, 11, "Micro-expression", "4", "n", "disgust"]]
    ft._xls_workbook(tree.sheet, "Sheet1", rows)
    with pytest.raises(MexkitInputError, match="missing column\\(s\\) 'Expression type'"):
        CASME3LongAdapter(tree.root).truth()
    tree.sheet.write_bytes(b"\xd0\xcf\x11\xe0 truncated")
    with pytest.raises(MexkitInputError, match="cannot read the spreadsheet"):
        CASME3LongAdapter(tree.root).truth()


def test_strict_and_clips_refused(pristine):
    ad = CASME3LongAdapter(pristine("casme3_long").root)
    with pytest.raises(MexkitInputError, match="no recording folder 'd'"):
        ad.truth(strict=True)
    with pytest.raises(MexkitInputError, match="long videos with expression intervals, not clips"):
        ad.manifest()
