"""CAS(ME)² long videos: headerless code sheet, naming rules, offset 0 / apex 0 / `happyiness` recorded."""
from __future__ import annotations

import openpyxl
import pytest

import fixture_trees as ft
from long_truth_checks import check_truth
from mexkit.datasets import make_adapter
from mexkit.datasets.casme2_long import CASME2LongAdapter
from mexkit.errors import MexkitInputError
from mexkit.rejects import RejectLog


def test_reads_release(pristine):
    tree = pristine("casme2_long")
    ad = make_adapter("casme2-long", tree.root)
    assert isinstance(ad, CASME2LongAdapter)
    log = RejectLog()
    df = ad.truth(log, decode=True)
    check_truth(df, tree)
    assert (df["dataset"] == "casme2-long").all() and (df["fps"] == 30.0).all() and (df["generator"] == "none").all()
    assert df.loc[df["frame_onset"] == "12", "frame_offset"].item() == "0"  # the sheet's cell as written
    # the row whose interval lies past the video's 24 frames is rejected, naming the row
    assert len(log) == 1 and "row 5: no frame file between onset 30 and offset 40" in log.rows[0]["reason"]
    text = ad.check().format()
    assert "4 intervals in 3 of 4 videos" in text and "rawpic/s16/16_0502westernfood" in text
    assert "offset N in the sheet (not annotated): offset = apex" in text


def test_header_row_in_a_copy_is_skipped(fresh):
    tree = fresh("casme2_long")
    wb = openpyxl.load_workbook(tree.sheet)
    wb["CASFEcode_final"].insert_rows(1)
    for j, h in enumerate(["subject", "clip", "onset", "apex", "offset", "AU", "emotion", "type", "self-report"]):
        wb["CASFEcode_final"].cell(row=1, column=j + 1, value=h)
    wb.save(tree.sheet)
    assert len(CASME2LongAdapter(tree.root).truth()) == 4


@pytest.mark.parametrize("change, message", [
    ("drop naming rule2", "sheet(s) 'naming rule2' not found"),
    ("rename code sheet", "'CASFEcode_final' (or 'CASMEcode_final') not found"),
    ("drop type column", "column 8 (type) is missing or empty"),
])
def test_reversioned_sheet_names_what_is_missing(fresh, change, message):
    tree = fresh("casme2_long")
    wb = openpyxl.load_workbook(tree.sheet)
    if change == "drop naming rule2":
        wb.remove(wb["naming rule2"])
    elif change == "rename code sheet":
        wb["CASFEcode_final"].title = "codes"
    else:
        wb["CASFEcode_final"].delete_cols(8, 2)
    wb.save(tree.sheet)
    with pytest.raises(MexkitInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CASME2LongAdapter(tree.root).truth()


def test_casme_sheet_name_and_bad_rows(fresh):
    tree = fresh("casme2_long")
    wb = openpyxl.load_workbook(tree.sheet)
    ws = wb["CASFEcode_final"]
    ws.title = "CASMEcode_final"  # the other released name
    ws.cell(row=1, column=8, value="expression")  # neither micro- nor macro-expression
    ws.cell(row=4, column=2, value="lunch1_1")  # a recording naming rule2 does not list
    wb.save(tree.sheet)
    log = RejectLog()
    df = CASME2LongAdapter(tree.root).truth(log)
    assert len(df) == 2
    reasons = " | ".join(r["reason"] for r in log.rows)
    assert "row 1: expression type 'expression'" in reasons and "row 4: clip 'lunch1_1' names recording 'lunch1'" in reasons
