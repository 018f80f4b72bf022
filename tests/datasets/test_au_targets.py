"""The 12-AU target: the parsing rules on hand-written cells, and the target of every adapter's fixture tree."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mexkit.clip import parse_aus
from mexkit.datasets import make_adapter
from mexkit.datasets.au_targets import (MEB_AUS, AUCellError, au_summary, read_au_cell, target_from_text, target_matrix,
                                        text_from_target)


def _on(*aus):
    """The hand-computed (12,) target with these AUs on."""
    return np.array([a in aus for a in MEB_AUS], np.uint8)


@pytest.mark.parametrize("cell, on, other", [
    ("4+7", ("AU4", "AU7"), ()),
    ("AU12+AU6", ("AU6", "AU12"), ()),
    ("R12A+L14", ("AU12", "AU14"), ()),        # laterality prefix and intensity letter do not matter
    ("B1+B2", ("AU1", "AU2"), ()),             # bilateral
    ("12L", ("AU12",), ()),                    # laterality suffix
    ("4, 7", ("AU4", "AU7"), ()),              # commas
    ("AU 1 + AU 2", ("AU1", "AU2"), ()),       # spaced
    ("AU1+AU2+AU25", ("AU1", "AU2"), ("AU25",)),
    ("AU43+AU61+4", ("AU4",), ("AU43", "AU61")),
    ("38", (), ("AU38",)),
    (12, ("AU12",), ()),                       # a workbook number
    (17.0, ("AU17",), ()),
    ("12?", ("AU12",), ()),                    # uncertain: counted (as MEB's digit reading counts it), noted
    ("AU4(k)+L7", ("AU7",), ()),               # (k): not counted, as MEB's 4DME reader drops it
    ("R12 or R15", (), ()),                    # alternatives: not counted
    ("R12 or L12", ("AU12",), ()),             # alternatives of one AU: counted
    ("4/7+9", ("AU9",), ()),
    ("/", (), ()), ("?", (), ()), ("\\", (), ()), ("", (), ()), (None, (), ()), ("none", (), ()),
])
def test_cells(cell, on, other):
    got = read_au_cell(cell)
    assert got.target.tolist() == _on(*on).tolist()
    assert got.other == other
    assert got.target_text == ("+".join(a for a in MEB_AUS if a in on) or "none")


def test_notes_say_what_was_not_counted():
    assert read_au_cell("AU4(k)+L7").notes == ("AU4(k): marked (k), not counted (as MEB reads 4DME)",)
    assert read_au_cell("R12 or R15").notes == ("R12 or R15: alternatives, AU12+AU15 not counted",)
    assert read_au_cell("12?").notes == ("12?: marked uncertain, counted",)
    assert read_au_cell("AU43+4").columns() == {"au_target": "AU4", "au_other": "AU43", "au_notes": "outside the 12 target AUs: AU43"}
    assert read_au_cell("/").columns()["au_notes"] == "'/': no AU coded"


@pytest.mark.parametrize("cell, token", [("smile", "smile"), ("4+x", "x"), ("12x", "12x"), ("AU", "AU"), ("4.7", "4.7")])
def test_unreadable_cells_name_the_token(cell, token):
    with pytest.raises(AUCellError, match=f"'{token}' is not an action unit code"):
        read_au_cell(cell)


def test_target_text_round_trip_and_matrix():
    assert text_from_target(_on("AU4", "AU17")) == "AU4+AU17" and text_from_target(np.zeros(12)) == "none"
    assert target_from_text("AU17+AU4").tolist() == _on("AU4", "AU17").tolist() and target_from_text("") is None
    assert target_matrix(["AU1", "none"]).tolist() == [_on("AU1").tolist(), [0] * 12]
    with pytest.raises(AUCellError, match="AU25"):
        target_from_text("AU1+AU25")
    with pytest.raises(AUCellError, match="row 1 has no AU target"):
        target_matrix(["AU1", ""])


def test_parse_aus_stays_compatible():
    """mexkit.clip.parse_aus (the lenient reader the warp templates use) lists what a cell mentions."""
    assert parse_aus("4+7") == ["AU4", "AU7"] and parse_aus("R12A+L14") == ["AU12", "AU14"] and parse_aus("/") == []
    assert parse_aus("R12 or R15") == ["AU12", "AU15"] and parse_aus("AU4(k)+L7") == ["AU4", "AU7"]


# The AU cells each fixture tree writes (tests/datasets/fixture_trees.py) and their targets, worked out by hand.
EXPECTED = {
    "casme": {"casme_sub01_EP01_5": "AU12", "casme_sub01_EP03_1": "AU4+AU17", "casme_sub02_EP08_2": "AU14",
              "casme_sub08_EP03_2": "AU4", "casme_sub09_EP12_1": "AU1+AU2"},
    "casme2": {"casme2_sub01_EP02_01f": "AU12", "casme2_sub01_EP03_02": "AU4+AU7", "casme2_sub02_EP01_11f": "AU1+AU2",
               "casme2_sub02_EP19_06f": "AU4"},
    "samm": {"samm_006_1_2": "AU12", "samm_007_3_1": "AU4+AU7", "samm_006_5_4": "AU1+AU2"},
    "casme3": {"casme3_spNO.1_a_3": "AU4+AU7", "casme3_spNO.1_a_12": "AU12", "casme3_spNO.2_c_2": "AU1+AU2"},
    "mmew": {"mmew_S01-01-001": "AU12", "mmew_S03-01-002": "AU6+AU12", "mmew_S03-02-001": "AU1+AU2", "mmew_S01-04-001": "AU9"},
    "fourdme": {"fourdme_S01_1st_001_01_1": "AU4+AU7", "fourdme_S02_2nd_003_02_1": "AU1+AU2+AU12"},
    "smic": {"smic_s1_po_01": "", "smic_s1_ne_03": "", "smic_s3_sur_02": ""},  # SMIC-HS has no AU annotation
    "generic": {"user_a": "", "user_b": "", "user_c": ""},  # the CSV has no aus column
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_adapter_gives_au_targets(pristine, name):
    tree = pristine(name)
    ad = make_adapter(name, tree.root, annotations=tree.sheet if name == "generic" else None)
    df = ad.manifest().set_index("sample_id")
    got = {sid: ("" if pd.isna(v) else v) for sid, v in df["au_target"].items()}
    assert got == EXPECTED[name]
    if name in ("smic", "generic"):
        assert au_summary(df.reset_index())["with_target"] == 0
    else:
        mat = target_matrix(df["au_target"])
        assert mat.shape == (len(df), 12) and mat.sum() == sum(len(t.split("+")) for t in EXPECTED[name].values())


def test_generic_csv_aus_column(tmp_path, pristine):
    """A generic CSV's aus cell gives the target; an empty cell leaves it unknown; an unreadable one is a reject."""
    import shutil

    from mexkit.rejects import RejectLog

    tree = pristine("generic")
    root = tmp_path / "g"
    shutil.copytree(tree.root, root)
    df = pd.read_csv(root / "manifest.csv")
    df["aus"] = ["L12+AU6", None, "12 smile"]
    df.to_csv(root / "manifest.csv", index=False)
    log = RejectLog()
    m = make_adapter("generic", root, annotations=root / "manifest.csv").manifest(log).set_index("sample_id")
    assert m.loc["user_a", "au_target"] == "AU6+AU12"
    assert pd.isna(m.loc["user_b", "au_target"]) or m.loc["user_b", "au_target"] == ""
    assert "user_c" not in m.index and "manifest.csv row 4: AU cell '12 smile' cannot be read" in log.rows[0]["reason"]
