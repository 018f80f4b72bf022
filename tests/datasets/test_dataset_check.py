"""The check report for datasets outside the MEGC composite."""
from __future__ import annotations

from mexkit.datasets import MMEWAdapter


def test_no_megc_section_for_other_datasets(pristine):
    chk = MMEWAdapter(pristine("mmew").root).check()
    assert chk.megc_counts() is None and "MEGC2019" not in chk.format()
    assert chk.counts().loc["total", "total"] == 4 and chk.dropped_frames.empty
