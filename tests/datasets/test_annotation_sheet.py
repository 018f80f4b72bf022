"""Reading released workbooks: header search, row numbers, unreadable files."""
from __future__ import annotations

import openpyxl
import pytest

from mexkit.datasets.annotation_sheet import find_annotation_file, read_annotation_sheet
from mexkit.errors import MexkitInputError


def _book(path, rows, title="Sheet1"):
    wb = openpyxl.Workbook()
    wb.active.title = title
    for r, values in rows.items():
        for c, v in enumerate(values, 1):
            wb.active.cell(row=r, column=c, value=v)
    wb.save(path)


def test_header_found_below_notes_with_row_numbers(tmp_path):
    p = tmp_path / "s.xlsx"
    _book(p, {1: ["notes"], 5: ["Subject", None, "Onset"], 6: [6, None, 10], 8: [7, None, 12]})
    df, hdr = read_annotation_sheet(p, ["Subject", "Onset"])
    assert hdr == 5 and list(df["_row"]) == [6, 8]  # the empty row 7 is skipped, numbering kept
    assert list(df["Subject"]) == [6, 7] and "Unnamed: 1" in df.columns


def test_sheet_by_name_and_errors(tmp_path):
    p = tmp_path / "s.xlsx"
    _book(p, {1: ["Subject"], 2: [1]}, title="Codes")
    assert len(read_annotation_sheet(p, ["Subject"], sheet="Codes")[0]) == 1
    with pytest.raises(MexkitInputError, match="sheet 'Other' not found; sheets: \\['Codes'\\]"):
        read_annotation_sheet(p, ["Subject"], sheet="Other")
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(MexkitInputError, match="cannot read the spreadsheet"):
        read_annotation_sheet(bad, ["Subject"])
    old = tmp_path / "old.xls"  # a truncated .xls: refused as unreadable, not as a format
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(MexkitInputError, match="cannot read the spreadsheet"):
        read_annotation_sheet(old, ["Subject"])


def test_old_xls_workbook(tmp_path):
    import xlwt  # a test dependency (pyproject [test])
    wb = xlwt.Workbook()
    ws = wb.add_sheet("FACS_Movement_Only")
    ws.write(0, 0, "a note above the header")
    for j, v in enumerate(["Subject", "Filename", "Onset"]):
        ws.write(2, j, v)
    for j, v in enumerate(["006", "006_1_2", 4526.5]):
        ws.write(3, j, v)
    wb.save(str(tmp_path / "s.xls"))
    df, header_row = read_annotation_sheet(tmp_path / "s.xls", ["Subject", "Onset"], sheet="FACS_Movement_Only")
    assert header_row == 3 and df.loc[0, "Filename"] == "006_1_2" and df.loc[0, "Onset"] == 4526.5 and df.loc[0, "_row"] == 4
    with pytest.raises(MexkitInputError, match="sheet 'Other' not found; sheets: \\['FACS_Movement_Only'\\]"):
        read_annotation_sheet(tmp_path / "s.xls", ["Subject"], sheet="Other")


def test_csv_numbers_and_ids(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("sample_id,subject,fps\n0007,006,30\n")
    df, _ = read_annotation_sheet(p, ["sample_id"], header_row=1)
    assert df.loc[0, "sample_id"] == "0007" and df.loc[0, "subject"] == "006" and df.loc[0, "fps"] == 30


def test_find_annotation_file(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "CASME2-coding-20140508.xlsx").write_bytes(b"x")
    (tmp_path / "a" / "b" / "~$CASME2-coding-20140508.xlsx").write_bytes(b"lock")
    assert find_annotation_file(tmp_path, ["CASME2-coding*.xlsx"], "casme2").name == "CASME2-coding-20140508.xlsx"
    with pytest.raises(MexkitInputError, match="annotation spreadsheet not found"):
        find_annotation_file(tmp_path, ["SAMM*.xlsx"], "samm")
