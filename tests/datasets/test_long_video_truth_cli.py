"""`mexkit datasets manifest|check --dataset casme2-long|samm-lv|casme3-long`: truth.csv and its report."""
from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from mexkit.cli import main
from mexkit.datasets.manifest_columns import SPOT_TRUTH_COLUMNS


@pytest.mark.parametrize("dataset, tree_name, n", [("casme2-long", "casme2_long", 4), ("samm-lv", "samm_lv", 4), ("casme3-long", "casme3_long", 4)])
def test_manifest_writes_truth(pristine, tmp_path, capsys, dataset, tree_name, n):
    tree = pristine(tree_name)
    out = tmp_path / "truth.csv"
    assert main(["datasets", "manifest", "--dataset", dataset, "--root", str(tree.root), "--out", str(out)]) == 0
    assert f"{n} intervals" in capsys.readouterr().out
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df.columns[: len(SPOT_TRUTH_COLUMNS)]) == SPOT_TRUTH_COLUMNS and len(df) == n
    assert set(df["type"]) == {"ME", "MaE"} and (df["dataset"] == dataset).all()
    assert (tmp_path / "rejects.csv").exists()
    assert main(["datasets", "check", "--dataset", dataset, "--root", str(tree.root)]) == 0
    assert "intervals per subject and type:" in capsys.readouterr().out


def test_reversioned_sheet_is_exit_2_naming_the_column(fresh, tmp_path, capsys):
    tree = fresh("samm_lv")
    wb = openpyxl.load_workbook(tree.sheet)
    wb["FACS_Movement_Only"].cell(row=10, column=4, value="Onset Frame")  # a later header name
    wb.save(tree.sheet)
    out = tmp_path / "truth.csv"
    assert main(["datasets", "manifest", "--dataset", "samm-lv", "--root", str(tree.root), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(tree.sheet) in err and "missing column(s) 'Onset'" in err and "'Onset Frame'" in err
    assert not out.exists() and not (tmp_path / "rejects.csv").exists()
    assert main(["datasets", "manifest", "--dataset", "samm-lv", "--root", str(tree.root), "--out", str(out), "--label-map", "megc2019"]) == 2
    assert "drop --label-map" in capsys.readouterr().err
