"""The published spotters' pieces on hand-computed cases: seconds → frames at 30 and 200 fps, MDMD's
direction bins, block values and contrast, the relative threshold, SoftNet's aggregation, nose
compensation and ROIs (docs/design.md §8)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from mexkit.recog.spotting.mdmd import MDMDSpotter, direction_bins, mdmd_value
from mexkit.recog.spotting.roi_flow import RoiFlowSpotter, compensated_magnitude, roi_mask
from mexkit.recog.spotting.seconds import frames_for, max_me_frames, type_of
from mexkit.recog.spotting.thresholds import contrast, moving_mean_centred, relative_threshold, runs_above


@pytest.mark.parametrize("seconds,fps,frames", [
    (0.4, 30, 12), (0.4, 200, 80), (1.3, 30, 39), (1.3, 200, 260),  # MDMD's published k (ME / MaE)
    (0.15, 30, 5), (0.15, 200, 30),                                  # LBP-chi2's published k
    (0.235, 30, 7), (0.235, 200, 47),                                # MDMD's shortest ME
])
def test_published_windows_come_out_at_the_datasets_rates(seconds, fps, frames):
    assert frames_for(seconds, fps) == frames


def test_me_is_at_most_half_a_second():
    assert (max_me_frames(30), max_me_frames(200)) == (15, 100)
    assert type_of(10, 24, 30) == "ME" and type_of(10, 25, 30) == "MaE"  # 15 vs 16 frames
    assert type_of(0, 99, 200) == "ME" and type_of(0, 100, 200) == "MaE"


def test_spotter_parameters_report_seconds_and_frames():
    p30, p200 = MDMDSpotter(30).parameters(), MDMDSpotter(200).parameters()
    assert (p30["k_me_s"], p30["k_me_frames"], p30["k_mae_frames"]) == (0.4, 12, 39)
    assert (p200["k_me_frames"], p200["k_mae_frames"]) == (80, 260)
    assert RoiFlowSpotter(30).parameters()["k_me_frames"] == 6


def test_mdmd_direction_bins_use_arctan_of_u_over_v_as_published():
    u = np.array([1.0, -1.0, 1.0, -1.0, 0.0, -1.0, 0.0])
    v = np.array([1.0, 1.0, 0.0, 0.0, 0.0, -1.0, 2.0])
    # 45° → [0,90); −45° → [−90,0); v = 0: ±90° → [90,180) / [−90,0); 0/0 → none; (−1,−1) folds onto 45°; u = 0 → 0°
    assert direction_bins(u, v).tolist() == [0, 3, 1, 3, -1, 0, 0]


def test_mdmd_value_top_third_of_pixels_then_top_third_of_blocks():
    # 12 x 12 flow, 6 x 6 blocks of 2 x 2 pixels, all moving at 45 degrees (one bin, m = 4 -> round(4/3) = 1 pixel).
    # Block b (row-major) has pixel magnitudes b+1, 0.5, 0.5, 0.5 -> its value is b + 1; F = mean of the
    # 12 largest block values = mean(25..36) = 30.5. The second flow (i-k -> i+k) is subtracted pixel by pixel.
    mag = np.full((12, 12), 0.5)
    for b in range(36):
        r, c = divmod(b, 6)
        mag[2 * r, 2 * c] = b + 1
    flow1 = np.stack([mag / math.sqrt(2), mag / math.sqrt(2)], -1)
    assert mdmd_value(flow1, np.zeros_like(flow1)) == pytest.approx(30.5)
    flow2 = flow1 * 0.5  # r = |f1| − |f2| = half of each magnitude
    assert mdmd_value(flow1, flow2) == pytest.approx(15.25)


def test_mdmd_value_keeps_only_the_dominant_direction():
    # One 3 x 3 block per cell (18 x 18): 5 pixels at 45° with magnitude 1 and 4 at −45° with magnitude 100.
    # The 45° bin wins (5 > 4), m = 5 -> round(5/3) = 2 pixels of magnitude 1: every block is 1, F = 1.
    u = np.empty((18, 18))
    v = np.empty((18, 18))
    pattern = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], bool)
    tile = np.tile(pattern, (6, 6))
    u[tile], v[tile] = 1 / math.sqrt(2), 1 / math.sqrt(2)
    u[~tile], v[~tile] = -100 / math.sqrt(2), 100 / math.sqrt(2)
    flow = np.stack([u, v], -1)
    assert mdmd_value(flow, np.zeros_like(flow)) == pytest.approx(1.0)


def test_contrast_threshold_and_runs_by_hand():
    c = contrast(np.array([0, 0, 0, 1, 0, 0, 0.0]), 1)
    assert np.isnan(c[0]) and np.isnan(c[-1])
    assert c[1:-1].tolist() == [0.0, -0.5, 1.0, -0.5, 0.0]
    assert relative_threshold(np.array([0, 0, 0, 4.0, np.nan]), 0.5) == pytest.approx(2.5)  # mean 1, max 4
    assert runs_above(np.array([0, 1, 1, 0, 1.0]), 0.5) == [(1, 2), (4, 4)]


def test_mdmd_finds_a_hand_made_bump_as_one_me_interval():
    # 30 fps: k = 12, m = 11. F = 1 on frames 50..57, else 0 (120 frames). C = 1 there, −0.5 on 39..46 and
    # 61..68, 0 elsewhere on [11, 108]: mean 0, max 1, T = 0.01 -> one run 50..57, 8 frames: an ME.
    f = np.zeros(120)
    f[50:58] = 1.0
    signals = {"mdmd_F_me": f, "mdmd_F_mae": np.full(120, np.nan)}
    found = MDMDSpotter(30).find(signals)
    assert [(i.onset, i.offset, i.type) for i in found] == [(50, 57, "ME")]
    assert signals["mdmd_C_me"][39] == -0.5 and signals["mdmd_C_me"][50] == 1.0
    # the same bump at 200 fps is 8 frames = 0.04 s: shorter than the published 47-frame minimum -> dropped
    f200 = np.zeros(800)
    f200[300:308] = 1.0
    assert MDMDSpotter(200).find({"mdmd_F_me": f200, "mdmd_F_mae": np.full(800, np.nan)}) == []


def test_softnet_aggregation_and_peaks_by_hand():
    a = moving_mean_centred(np.array([0, 0, 1, 1, 0, 0.0]), 1)  # a(c) = mean(s[c−1 : c+1])
    assert np.isnan(a[0]) and np.isnan(a[5])
    assert a[1:5].tolist() == [0.0, 0.5, 1.0, 0.5]
    # 30 fps, ME k = 6: a flat score with one 4-frame rise -> one peak, interval [c − 6, c + 6] (13 frames: ME)
    s = np.zeros(100)
    s[40:44] = 1.0
    found = RoiFlowSpotter(30).find({"roi_s_me": s, "roi_s_mae": np.zeros(100)})
    me = [i for i in found if i.type == "ME"]
    assert len(me) == 1 and me[0].offset - me[0].onset == 12
    # a(c) peaks where the 12-frame window covers all four ones: c in 38..46; find_peaks takes the plateau's middle
    assert me[0].apex == 42


def test_nose_compensation_removes_head_motion_and_keeps_local_motion():
    flow = np.zeros((128, 128, 2), np.float32)
    flow[...] = (3.0, 4.0)  # the whole head moved
    mask = np.zeros((128, 128), bool)
    mask[90:100, 40:80] = True
    assert compensated_magnitude(flow, mask, (64, 64)) == pytest.approx(0.0)
    flow[90:100, 40:80] = (6.0, 8.0)  # plus a local movement of (3, 4) in the ROI
    assert compensated_magnitude(flow, mask, (64, 64)) == pytest.approx(5.0)


def test_roi_mask_covers_brows_and_mouth_but_not_the_eyes():
    lm = np.zeros((68, 2))
    lm[17:22] = [[30, 40], [35, 36], [40, 35], [45, 36], [50, 40]]
    lm[22:27] = [[78, 40], [83, 36], [88, 35], [93, 36], [98, 40]]
    lm[36:42] = [[35, 50], [40, 48], [45, 48], [50, 50], [45, 52], [40, 52]]
    lm[42:48] = [[78, 50], [83, 48], [88, 48], [93, 50], [88, 52], [83, 52]]
    lm[28] = [64, 60]
    lm[48:68] = [64, 95]
    lm[50], lm[57], lm[60], lm[64] = [60, 88], [64, 102], [54, 95], [74, 95]
    mask, nose = roi_mask(lm)
    assert nose == (64, 60)
    assert mask[30, 40] and mask[95, 64]          # brow band, mouth box
    assert not mask[50, 42] and not mask[50, 85]  # both eyes masked out
    assert not mask[75, 64]                       # between the ROIs (the nose)


def test_published_mdmd_variant_uses_the_baselines_crop_and_rlof_flow():
    """`mdmd-published`: 227² crops and dense RLOF, as the MEGC2020 baseline; its streamed F(i) is MDMD's value
    of the RLOF flows of the same frames, and RLOF recovers a known shift of a real face crop."""
    import cv2

    from mexkit.datasets import load_corpus
    from mexkit.recog.spotting.mdmd import _MdmdStream, _RLOF
    from mexkit.recog.spotting.spotter import make_spotter

    spotter = make_spotter("mdmd-published", 30.0)
    assert spotter.parameters()["crop"] == 227 and spotter.parameters()["dis_preset"] == "rlof"
    assert isinstance(spotter.feature_stream().flow, _RLOF)
    face = cv2.cvtColor(cv2.resize(load_corpus().faces[0].crop, (227, 227)), cv2.COLOR_RGB2GRAY)
    shifted = np.roll(face, 2, axis=1)  # the face moved 2 px right
    flow = _RLOF().calc(face, shifted)
    assert np.median(flow[60:170, 60:170, 0]) == pytest.approx(2.0, abs=0.25)
    assert abs(np.median(flow[60:170, 60:170, 1])) < 0.25

    class Frame:  # what the stream reads of a tracked frame: its index and registered crop
        def __init__(self, i, img):
            self.index, self._img = i, img

        def crop(self, size):
            assert size == 227
            return self._img

    stream = _MdmdStream({"me": 1}, 227, None)
    rows = [r for i, img in enumerate([face, shifted, np.roll(face, 3, axis=1)]) for r in stream.push(Frame(i, img))]
    assert [r[0] for r in rows] == [1]
    f1, f2 = _RLOF().calc(face, shifted), _RLOF().calc(face, np.roll(face, 3, axis=1))
    assert rows[0][1]["mdmd_F_me"] == pytest.approx(mdmd_value(f1, f2))
