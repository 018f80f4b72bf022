"""Shared assertions of the long-video adapter tests: a truth table against a fixture tree's expectations."""
from __future__ import annotations

from mexkit.datasets.frame_folders import numbered_frames
from mexkit.datasets.manifest_columns import SPOT_TRUTH_COLUMNS
from mexkit.video_io import natural_key


def check_truth(df, tree) -> None:
    """Columns, one row per expected interval with its values and notes, and positions that index the
    frame folder in natural order onto the files the sheet names."""
    assert list(df.columns[: len(SPOT_TRUTH_COLUMNS)]) == SPOT_TRUTH_COLUMNS
    keys = [f"{v}@{o}" for v, o in zip(df["video"], df["frame_onset"])]
    assert sorted(keys) == sorted(tree.samples)
    for key, exp in tree.samples.items():
        row = df.iloc[keys.index(key)]
        for k, v in exp.items():
            if k == "notes_has":
                for part in v:
                    assert part in row["notes"], (key, part, row["notes"])
                if not v:
                    assert row["notes"] == "", (key, row["notes"])
            else:
                assert row[k] == v, (key, k, row[k], v)
        files = sorted((p for p in (tree.root / row["source"]).iterdir() if p.suffix == ".jpg"), key=lambda p: natural_key(p.name))
        numbers = dict((p, n) for n, p in numbered_frames(tree.root / row["source"]))
        assert 0 <= row["onset"] <= row["apex"] <= row["offset"] < len(files)
        if row["notes"] == "":  # no rule changed the row: the positions hold the sheet's numbers
            assert numbers[files[row["onset"]]] == int(float(row["frame_onset"]))
            assert numbers[files[row["offset"]]] == int(float(row["frame_offset"]))
