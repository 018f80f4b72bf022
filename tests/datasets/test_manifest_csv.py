"""read_manifest_csv: malformed manifest lines are named by file and line, the kept rows know their lines."""
from __future__ import annotations

import pytest

from mexkit.datasets.manifest_csv import read_manifest_csv
from mexkit.datasets.manifest_validation import validate_manifest_rows
from mexkit.errors import MexkitInputError

HEADER = "sample_id,subject,dataset,label,aus,onset,apex,offset,apex_estimated,fps,num_frames,path,source"


def _row(sid: str, onset="0", offset="9") -> str:
    return f"{sid},s1,generic,positive,,{onset},4,{offset},False,30,10,clips/{sid},"


def test_bad_lines_are_named_and_kept_rows_know_their_lines(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("\n".join([HEADER, _row("a"), "", "garbage here", _row("b", onset="two"),
                               _row("c").replace("positive", '"multi\nline"'), _row("d") + ",extra", _row("e", offset="99")]) + "\n")
    read = read_manifest_csv(path, dtype={"sample_id": str})
    assert read.table["sample_id"].tolist() == ["a", "c", "e"]
    assert read.lines == [2, 6, 9]  # the blank line 3 counts; c's quoted cell spans lines 6-7
    assert read.bad_lines == [4, 5, 8]
    assert [e.reason.split(":")[0] for e in read.bad] == ["line 4", "line 5 (b)", "line 8"]
    assert all(e.path == str(path) and e.fix for e in read.bad)
    assert "onset is not a number ('two')" in read.bad[1].reason
    (pos, err), = validate_manifest_rows(read.table, path, read.lines)
    assert pos == 2 and err.reason.startswith("row 9 (e)")  # its file line, not its position


@pytest.mark.parametrize("content,needle", [(None, "not found"), ("", "no header")])
def test_a_missing_or_empty_manifest_is_refused(tmp_path, content, needle):
    path = tmp_path / "m.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MexkitInputError, match=needle) as err:
        read_manifest_csv(path)
    assert err.value.path == str(path)
