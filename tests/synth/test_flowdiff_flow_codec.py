"""Flow diffusion state codec: timing profiles, time resampling, occlusion from flow, encode/decode."""
from __future__ import annotations

import numpy as np
import torch

from mexkit.synth import Condition
from mexkit.synth.flowdiff.flow_codec import (decode_flow, downsample_flow, encode_flow, expression_profile, flow_divergence,
                                              occlusion_from_flow, resample_frames)


def test_profile_matches_condition_profile():
    cond = Condition(duration_ms=400, fps=40, apex_at=0.4)  # 16 frames, apex at frame 6
    ours = expression_profile(torch.tensor([cond.apex_at]), cond.num_frames)[0].numpy()
    ref = cond.profile()
    assert ours[0] == 0.0 and ref[0] == 0.0
    assert int(np.argmax(ours)) == int(np.argmax(ref)) == cond.apex_frame
    # continuous apex fraction (0.4·15 = 6.0 exactly here), so the curves coincide
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    late = expression_profile(torch.tensor([0.5]), 9, offset_at=0.75)[0]
    assert float(late[4]) == 1.0 and float(late[-1]) == 0.0 and float(late[7]) == 0.0


def test_resample_frames_keeps_ends_and_is_linear():
    x = torch.arange(5, dtype=torch.float32).view(1, 5, 1).expand(2, 5, 3).contiguous()
    y = resample_frames(x, 9)
    assert y.shape == (2, 9, 3)
    np.testing.assert_allclose(y[0, :, 0].numpy(), np.linspace(0, 4, 9), atol=1e-6)
    assert resample_frames(x, 5) is x


def test_occlusion_marks_diverging_backward_flow_only():
    h = 16
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, h), indexing="ij")
    radial = torch.stack([xs, ys]) * 0.05  # backward flow pointing outwards: output samples a larger patch
    div = flow_divergence(radial)
    assert float(div[0, 4:12, 4:12].mean()) > 0
    occl_out = occlusion_from_flow(radial, gain=3.0)
    occl_in = occlusion_from_flow(-radial, gain=3.0)
    shift = occlusion_from_flow(torch.full((2, h, h), 0.1), gain=3.0)
    assert float(occl_out[0, 4:12, 4:12].mean()) > 0.05
    assert float(occl_in.max()) == 0.0 and float(shift.max()) == 0.0
    assert float(occl_out.max()) <= 1.0


def test_encode_decode_round_trip_and_frame0_zero():
    g = torch.Generator().manual_seed(0)
    flow = torch.randn(2, 6, 2, 8, 8, generator=g) * 0.02
    occl = torch.rand(2, 6, 1, 8, 8, generator=g)
    x = encode_flow(flow, occl, flow_scale=0.015, occlusion_scale=0.25)
    assert x.shape == (2, 3, 6, 8, 8)
    f2, o2 = decode_flow(x, flow_scale=0.015, occlusion_scale=0.25)
    assert torch.all(f2[:, 0] == 0) and torch.all(o2[:, 0] == 0)
    torch.testing.assert_close(f2[:, 1:], flow[:, 1:])
    torch.testing.assert_close(o2[:, 1:], occl[:, 1:])


def test_downsample_flow_averages_area():
    flow = torch.zeros(1, 2, 2, 8, 8)
    flow[..., :4, :4] = 1.0
    low = downsample_flow(flow, 2)
    assert low.shape == (1, 2, 2, 2, 2)
    assert float(low[0, 0, 0, 0, 0]) == 1.0 and float(low[0, 0, 0, 1, 1]) == 0.0
