"""A kept recognizer's AU head (the 12 MEB action units, multi-label): it round-trips bit for bit beside a
class head or alone, it refuses an AU list that disagrees with its model, and on faces it never saw it
detects the AUs it was shown far better than the all-AUs-on constant predictor."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from mexkit.datasets.au_targets import MEB_AUS
from mexkit.errors import MexkitInputError
from mexkit.recog.kept import fit_kept, load_recognizer, prepare_rows

CLASSES = ("negative", "positive", "surprise")
FEATURE = {"kind": "flow_strain", "size": 28, "method": "dis"}


@pytest.fixture(scope="module")
def samples(corpus, warp_clips):
    """The corpus's labelled clips (no AU annotation) and warp clips of every corpus face, whose AU cells
    are the AUs the warp generator animated."""
    from mexkit.recog.samples import SampleSet

    clips, prov = warp_clips
    return SampleSet.concat([SampleSet.from_corpus(corpus, classes=CLASSES),
                             SampleSet.from_clips(clips, CLASSES, synthetic=True, provenance=prov)])


def test_class_and_au_heads_round_trip_bit_identical(samples, corpus, tmp_path):
    from mexkit.recog.lbptop_svm import LBPTOPSVM
    from mexkit.rejects import RejectLog

    log = RejectLog()
    kept = fit_kept(samples, LBPTOPSVM(), FEATURE, seed=2, calibration="sigmoid", calibration_folds=3,
                    au_template=LBPTOPSVM(target="aus"), rejects=log)
    assert kept.au_names == MEB_AUS and kept.score_kind == "prob" and kept.head_info["aus"]["score_kind"] == "prob"
    assert kept.training["rows_aus"] == len(samples) - 4  # the corpus clips have no AU annotation: logged, not used by the AU head
    assert sum(r["stage"] == "aus" for r in log.rows) == 4
    before = kept.predict_clips(corpus.clips)
    kept.save(tmp_path / "m")
    after = load_recognizer(tmp_path / "m").predict_clips(corpus.clips)
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    assert list(after.columns[-13:]) == ["aus_predicted", *[f"au_prob_{a}" for a in MEB_AUS]]
    on = after[[f"au_prob_{a}" for a in MEB_AUS]].to_numpy() >= 0.5
    assert after["aus_predicted"].tolist() == ["+".join(a for a, o in zip(MEB_AUS, row) if o) for row in on]
    assert {"class.skops", "aus.skops"} <= {p.name for p in (tmp_path / "m").iterdir()}


def test_an_au_only_network_round_trips(samples, corpus, tmp_path):
    from mexkit.recog.ststnet import STSTNet

    kept = fit_kept(samples, STSTNet(epochs=2, target="aus"), FEATURE, seed=4)
    assert set(kept.heads) == {"aus"} and kept.classes == () and kept.score_kind == "sigmoid"
    before = kept.predict_clips(corpus.clips)
    assert "predicted" not in before.columns and f"au_sigmoid_{MEB_AUS[0]}" in before.columns
    kept.save(tmp_path / "net")
    pd.testing.assert_frame_equal(before, load_recognizer(tmp_path / "net").predict_clips(corpus.clips), check_exact=True)
    # an AU list that disagrees with the network's 12 outputs is refused
    shutil.copytree(tmp_path / "net", tmp_path / "bad")
    cfg = json.loads((tmp_path / "bad" / "config.json").read_text())
    cfg["heads"]["aus"]["outputs"] = list(MEB_AUS[:11])
    (tmp_path / "bad" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(MexkitInputError, match="label map disagrees with the model") as err:
        load_recognizer(tmp_path / "bad")
    assert str(tmp_path / "bad" / "config.json") in str(err.value)


def test_on_unseen_faces_the_au_head_beats_the_constant_predictor(samples):
    """Held-out people: each fold refits without one person's clips; the pooled AU-F1 of the AU head is
    far above the all-AUs-on predictor's on the same rows (MEB's constant baseline)."""
    from mexkit.recog.kept_heldout import heldout_subjects
    from mexkit.recog.lbptop_svm import LBPTOPSVM
    from mexkit.recog.samples import SampleSet

    syn = samples.select(samples.table["synthetic"].to_numpy(bool))
    syn = SampleSet(syn.table, syn.sources, syn.classes, namespace=samples.namespace)
    rows = prepare_rows(syn, FEATURE)
    res = heldout_subjects(rows, LBPTOPSVM(target="aus"), FEATURE, seed=0, progress=False)
    pooled = res.pooled_aus.set_index("rows").loc["all"]
    assert pooled["n"] == len(syn) and len(res.per_fold) == len(set(syn.table["source_subject"]))
    assert pooled["au_f1"] > pooled["all_on_au_f1"] + 0.2, res.pooled_aus
    truth = res.predictions_aus[[f"true_{a}" for a in MEB_AUS]].to_numpy()
    pos = [int(np.flatnonzero(syn.table["sample_id"] == s)[0]) for s in res.predictions_aus["sample_id"]]
    np.testing.assert_array_equal(truth, syn.select(pos).Y)  # each clip's own AUs, as the set has them
