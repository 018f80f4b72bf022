"""Expression fidelity on real clips: the class that rises from onset to apex is the clip's class, and it
falls instead when the clip runs backwards (apex → onset)."""
from __future__ import annotations

import numpy as np
import pytest

from mexkit.clip import Clip
from mexkit.eval.expression import CLASS_BLENDSHAPES, ExpressionScorer, blendshape_class_deltas, megc_class


def test_megc_class_mapping():
    assert megc_class("happiness") == "positive" and megc_class("Repression") == "negative"
    assert megc_class("surprise") == "surprise" and megc_class("negative") == "negative"
    assert megc_class("others") is None and megc_class(None) is None and megc_class(float("nan")) is None


def test_eval_uses_the_one_home_of_the_megc_constants():
    """eval scores and tables use datasets.label_maps' classes and map, not copies of them."""
    import mexkit.eval
    from mexkit.datasets import label_maps
    from mexkit.eval import distribution, eval_report, expression

    assert mexkit.eval.megc_class is label_maps.megc_class
    for module in (expression, distribution, eval_report):
        assert module.MEGC_CLASSES is label_maps.MEGC_CLASSES
    assert not hasattr(expression, "_NATIVE_TO_MEGC")


def test_blendshape_groups_are_mediapipe_names(corpus):
    """Every group name is one of the 52 scores MediaPipe reports for a real face."""
    from mexkit.eval.face_tracks import default_pipeline

    names = set(default_pipeline().detect(corpus.faces[0].crop)[0].blendshapes)
    assert len(names) == 52
    assert all(k in names for keys in CLASS_BLENDSHAPES.values() for k in keys)
    d = blendshape_class_deltas(dict.fromkeys(names, 0.1), {k: (0.6 if k.startswith("mouthSmile") else 0.1) for k in names})
    assert max(d, key=d.get) == "positive" and d["positive"] == pytest.approx(0.25)


@pytest.fixture(scope="module")
def labelled(corpus):
    return [c for c in corpus.clips if megc_class(c.label)]


def test_labelled_real_clips_read_as_their_class(labelled):
    scorer = ExpressionScorer()
    assert len(labelled) >= 3 and {megc_class(c.label) for c in labelled} >= {"positive", "surprise"}
    for clip in labelled:
        row = scorer(clip)
        print(f"{clip.sample_id} ({clip.label}): blendshapes {row['bs_pred']} (margin {row['bs_margin']:.3f}), "
              f"fer {row['fer_pred']} (margin {row['fer_margin']:.3f})")
        assert row["bs_correct"] == 1.0 and row["bs_margin"] > 0.05
        assert row["fer_correct"] == 1.0 and row["fer_target_delta"] > 0


def test_backwards_clip_loses_its_class(labelled):
    """Onset and apex swapped (the expression fading instead of appearing): the target class falls."""
    scorer = ExpressionScorer()
    for clip in labelled:
        backwards = Clip(frames=clip.frames[[clip.apex, clip.onset]], fps=clip.fps, label=clip.label, onset=0, apex=1, sample_id="backwards")
        fwd, back = scorer(clip), scorer(backwards)
        assert back["bs_target_delta"] == pytest.approx(-fwd["bs_target_delta"], abs=1e-6)
        assert back["bs_correct"] == 0.0 and back["bs_target_delta"] < 0
        assert back["fer_target_delta"] == pytest.approx(-fwd["fer_target_delta"], abs=1e-5)


def test_unlabelled_clip_gets_predictions_only(corpus):
    clip = next(c for c in corpus.clips if c.label is None)
    row = ExpressionScorer(fer=False)(clip)
    assert row["target"] is None and row["bs_pred"] in ("negative", "positive", "surprise")
    assert "bs_correct" not in row and "fer_pred" not in row
    assert np.isfinite([row[f"bs_{c}"] for c in ("negative", "positive", "surprise")]).all()


def test_each_composite_dataset_maps_its_own_labels(corpus):
    """CASME II's fear and sadness are excluded from the MEGC composite; SAMM's fear is negative."""
    from dataclasses import replace

    from mexkit.eval.expression import ExpressionScorer

    assert megc_class("fear", "casme2") is None and megc_class("sadness", "casme2") is None
    assert megc_class("fear", "samm") == "negative" and megc_class("fear") == "negative"
    assert megc_class("Happiness", "casme2") == "positive" and megc_class("negative", "smic") == "negative"
    assert megc_class("contempt", "casme2") is None and megc_class("contempt", "samm") == "negative"
    clip = next(c for c in corpus.clips if c.label)
    scorer = ExpressionScorer(blendshapes=False, fer=False)
    assert scorer(replace(clip, label="fear", dataset="casme2"))["target"] is None
    assert scorer(replace(clip, label="fear", dataset="samm"))["target"] == "negative"
