"""The demo animates only faces the validated neutrality score and fer call neutral: its "Neutral inputs"
table holds no posed-expression photo (nor smile) among the animated faces."""
from __future__ import annotations

from mexkit import demo
from mexkit.eval import HtmlReport
from mexkit.face.neutrality import NEUTRALITY_WARN


class _Recording(HtmlReport):
    def __init__(self):
        super().__init__("test")
        self.tables = []

    def table(self, df, *args, **kwargs):
        self.tables.append(df)
        return super().table(df, *args, **kwargs)


def test_the_demo_animates_neutral_faces_only():
    report = _Recording()
    chosen = demo.neutral_corpus_faces(report)
    (table,) = report.tables
    animated = table[table["animated"]]
    print("\n" + table.to_string())
    assert sorted(animated["face"]) == sorted(src.key for src in chosen)
    labels = animated["expression (corpus label)"].astype(str)
    assert not labels.str.startswith(("posed", "smile")).any(), animated
    assert (animated["neutrality"] >= NEUTRALITY_WARN).all() and (animated["fer_top"] == "neutral").all()
    # every posed photo of the corpus is in the table and left out
    posed = table[table["expression (corpus label)"].astype(str).str.startswith("posed")]
    assert len(posed) == 4 and not posed["animated"].any()
    # enough people for the study's folds: synthetic clips of another subject for each real one
    assert len({src.subject for src in chosen}) >= 2
