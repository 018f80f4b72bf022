"""blendshapes-win: the blendshape spotter's runs, short ones reported as ME-length windows around their apex
(hand-computed cases)."""
from __future__ import annotations

import pytest

from mexkit.recog.spotting.blendshape_spotter import BlendshapeSpotter
from mexkit.recog.spotting.blendshape_windows import BlendshapeWindowSpotter


def test_short_run_becomes_a_window_around_its_apex_and_long_runs_stay_mae(blendshape_signals):
    sp = BlendshapeWindowSpotter(25)  # before 0.12 s → 3 frames, after 0.2 s → 5; ME ≤ 12 frames at 25 fps
    assert (sp.frames("before_s"), sp.frames("after_s"), sp.settings["on"]) == (3, 5, 0.14)
    sig = blendshape_signals(600, [("bs_browInnerUp", (100, 106, 0.3)), ("bs_browInnerUp", (103, 104, 0.5)),
                         ("bs_mouthSmileLeft", (300, 330, 0.5))])
    # activity: 0.26 over 100..105 with 0.46 at 103 (apex) → one 6-frame run → the window 100..108;
    # the smile: 0.46 over 300..329, a 30-frame run → MaE as found
    found = sp.find(sig)
    assert [(i.onset, i.apex, i.offset, i.type) for i in found] == [(100, 103, 108, "ME"), (300, 300, 329, "MaE")]
    assert found[0].score == pytest.approx(0.46)
    # the plain blendshape spotter reports the run itself: 6 frames (inside a 10-frame event IoU 0.6; a 4-frame
    # run would be 0.4, a miss), where the window covers 9 frames around the apex
    plain = BlendshapeSpotter(25, on=0.14).find(blendshape_signals(600, [("bs_browInnerUp", (100, 106, 0.3)), ("bs_browInnerUp", (103, 104, 0.5))]))
    assert [(i.onset, i.offset) for i in plain] == [(100, 105)]


def test_window_clipped_at_the_segment_ends_and_refused_when_longer_than_an_me(blendshape_signals):
    sp = BlendshapeWindowSpotter(25)
    found = sp.find(blendshape_signals(40, [("bs_browInnerUp", (1, 4, 0.4))]))
    assert [(i.onset, i.apex, i.offset) for i in found] == [(0, 1, 6)]
    with pytest.raises(ValueError, match="more than an ME"):
        BlendshapeWindowSpotter(30, before_s=0.3, after_s=0.3).find(blendshape_signals(40, []))
    assert BlendshapeWindowSpotter(25).find(blendshape_signals(200, [])) == []
