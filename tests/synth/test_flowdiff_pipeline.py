"""FlowDiffusionPipeline: the diffusers recipe, determinism, save/load round trip, schedulers, input checks,
and the shipped demo weights on real faces (identity held, frame 0 exact, the class changes the motion)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from mexkit.errors import MexkitInputError
from mexkit.synth import Condition, load_generator
from mexkit.synth.flowdiff.pipeline import DEMO_DIR, FlowDiffusionPipeline, build_pipeline, make_scheduler

TINY = {
    "unet": {"block_out_channels": (16, 32), "attention_head_dim": 4, "norm_num_groups": 8},
    "condition_encoder": {"image_size": 32, "flow_size": 8, "feature_channels": 4, "hidden_channels": 16, "embed_dim": 32,
                          "token_grid": 2},
    "num_frames": 4,
    "resolution": 32,
    "num_inference_steps": 3,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/synth/conftest.py


@pytest.fixture(scope="module")
def corpus_faces():
    from mexkit.datasets import load_corpus

    return load_corpus().faces


@pytest.fixture(scope="module")
def tiny_pipe() -> FlowDiffusionPipeline:
    torch.manual_seed(0)
    pipe = build_pipeline(**TINY, train_subjects=["corpus_man"])
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _crop(face, size):
    return cv2.resize(face.crop, (size, size), interpolation=cv2.INTER_AREA)


def test_call_outputs_and_frame0(tiny_pipe, corpus_faces):
    face = corpus_faces[0]
    cond = Condition(label="surprise", intensity=0.8, duration_ms=300, fps=40)  # 12 frames from 4 model frames
    out = tiny_pipe(face, cond, generator=0)
    clip = out.clip
    assert clip.frames.shape == (12, 32, 32, 3) and clip.frames.dtype == np.uint8
    assert np.array_equal(clip.frames[0], _crop(face, 32))  # frame 0 is the input, bit for bit
    assert out.flow.shape == (12, 32, 32, 2) and np.all(out.flow[0] == 0)
    assert out.mask.shape == (12, 32, 32) and out.mask.min() >= 0 and out.mask.max() <= 1
    assert out.residual.shape == (12, 32, 32, 3)
    assert out.landmarks.shape == (12, 68, 2)
    assert clip.label == "surprise" and clip.apex == cond.apex_frame and clip.subject == face.subject
    assert clip.meta["num_inference_steps"] == 3 and clip.meta["scheduler"] == "DDIMScheduler"
    assert out.latents.shape == (1, 3, 4, 8, 8)
    assert np.abs(out.flow[1:]).max() > 0  # random weights still move pixels
    # the same output through the generator interface, at another output size
    big = tiny_pipe(face, cond, generator=0, resolution=64)
    assert big.clip.frames.shape == (12, 64, 64, 3)
    np.testing.assert_allclose(big.flow[..., 0] / 64, out.flow[..., 0].repeat(2, 1).repeat(2, 2) / 32, atol=0.02)


def test_same_seed_same_clip_other_seed_other_clip(tiny_pipe, corpus_faces):
    face, cond = corpus_faces[1], Condition(label="positive", intensity=0.5)
    a = tiny_pipe(face, cond, generator=7)
    b = tiny_pipe(face, cond, generator=torch.Generator().manual_seed(7))
    c = tiny_pipe(face, cond, generator=8)
    assert np.array_equal(a.clip.frames, b.clip.frames) and np.array_equal(a.flow, b.flow)
    assert not np.array_equal(a.flow, c.flow)


def test_batch_with_per_face_generators_matches_single_calls(tiny_pipe, corpus_faces):
    faces = corpus_faces[:2]
    conds = [Condition(label="negative", intensity=0.3), Condition(label="surprise", intensity=0.9)]
    batch = tiny_pipe(faces, conds, generator=[torch.Generator().manual_seed(s) for s in (3, 4)])
    assert len(batch.clips) == 2 and len(batch.outputs) == 2
    for i, s in enumerate((3, 4)):
        single = tiny_pipe(faces[i], conds[i], generator=[torch.Generator().manual_seed(s)])
        np.testing.assert_allclose(batch.outputs[i].flow, single.flow, atol=1e-4)


def test_save_pretrained_round_trip(tmp_path, tiny_pipe, corpus_faces):
    tiny_pipe.save_pretrained(tmp_path / "pipe")
    for part in ("model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
                 "condition_encoder/config.json", "condition_encoder/diffusion_pytorch_model.safetensors",
                 "scheduler/scheduler_config.json"):
        assert (tmp_path / "pipe" / part).exists(), part
    back = FlowDiffusionPipeline.from_pretrained(str(tmp_path / "pipe"), low_cpu_mem_usage=False)
    back.set_progress_bar_config(disable=True)
    assert back.weights_hash() == tiny_pipe.weights_hash()
    assert back.train_subjects == ("corpus_man",) and back.resolution == 32 and back.config.num_frames == 4
    assert back.config.temporal_projection == "profile" and back.config.shading_highpass == pytest.approx(1 / 16)
    face, cond = corpus_faces[2], Condition(label="negative", intensity=0.6)
    a, b = tiny_pipe(face, cond, generator=11), back(face, cond, generator=11)
    assert np.array_equal(a.clip.frames, b.clip.frames) and np.array_equal(a.flow, b.flow)
    # the registry recognises the folder by its model_index.json
    via_registry = load_generator(tmp_path / "pipe")
    assert isinstance(via_registry, FlowDiffusionPipeline) and via_registry.weights_hash() == tiny_pipe.weights_hash()
    assert load_generator(tmp_path / "pipe", resolution=48).resolution == 48  # `mexkit generate --resolution`


def test_schedulers_swap_and_hash_follows(tiny_pipe, corpus_faces):
    face, cond = corpus_faces[0], Condition(label="positive")
    ddim_hash = tiny_pipe.weights_hash()
    original = tiny_pipe.scheduler
    try:
        tiny_pipe.scheduler = make_scheduler("dpm", original.config)
        assert type(tiny_pipe.scheduler).__name__ == "DPMSolverMultistepScheduler"
        a = tiny_pipe(face, cond, generator=5, num_inference_steps=4)
        b = tiny_pipe(face, cond, generator=5, num_inference_steps=4)
        assert np.array_equal(a.flow, b.flow) and a.clip.meta["scheduler"] == "DPMSolverMultistepScheduler"
        assert tiny_pipe.weights_hash() != ddim_hash  # sample ids must change with the sampler
    finally:
        tiny_pipe.scheduler = original
    assert tiny_pipe.weights_hash() == ddim_hash
    with pytest.raises(ValueError, match="unknown scheduler"):
        make_scheduler("euler-ancestral-typo", original.config)


def test_bad_inputs_are_named(tiny_pipe, corpus_faces):
    face = corpus_faces[0]
    with pytest.raises(MexkitInputError, match="unknown class 'happiness'"):
        tiny_pipe(face, Condition(label="happiness"))
    with pytest.raises(MexkitInputError, match="target AUs"):
        tiny_pipe(face, Condition(label="positive", aus=("AU12",)))
    with pytest.raises(ValueError, match="conditions for 2 faces"):
        tiny_pipe(corpus_faces[:2], [Condition()] * 3)
    with pytest.raises(ValueError, match="latents have shape"):
        tiny_pipe(face, Condition(), latents=torch.zeros(1, 3, 4, 4, 4))
    with pytest.raises(ValueError, match="num_inference_steps"):
        tiny_pipe(face, Condition(), num_inference_steps=0)
    from mexkit.synth import NeutralFace

    with pytest.raises(MexkitInputError, match="needs \\(68, 2\\)"):
        tiny_pipe(NeutralFace(crop=face.crop, landmarks=np.zeros((0, 2), np.float32)), Condition())


def test_raw_image_is_aligned_first(tiny_pipe, media):
    from mexkit.video_io import read_image

    out = tiny_pipe(read_image(media / "0-f15-hao-ph.jpg"), Condition(label="positive"), generator=1)
    assert out.clip.frames.shape[1:] == (32, 32, 3)
    assert out.landmarks.shape[1:] == (68, 2)


# ---------------------------------------------------------------------------------------- shipped demo
@pytest.fixture(scope="module")
def demo():
    assert (DEMO_DIR / "model_index.json").exists(), "the flowdiff-demo weights must ship with the package"
    return load_generator("flowdiff-demo")


def test_demo_holds_identity_and_frame0(demo, corpus_faces):
    from mexkit.face.identity import DlibIdentity, cosine_similarity

    ident = DlibIdentity()
    held_out = [f for f in corpus_faces if f.subject not in demo.train_subjects]
    assert len(held_out) == 3  # corpus_f13, corpus_m7, corpus_astronaut never seen in training
    for face in [corpus_faces[0], *held_out[:2]]:
        # dlib descriptors need ~128 px faces: render at 128 (the flows are resolution free)
        out = demo(face, Condition(label="surprise", intensity=1.0), generator=0, num_inference_steps=10, resolution=128)
        frames = out.clip.frames
        assert frames.shape == (16, 128, 128, 3) and np.array_equal(frames[0], _crop(face, 128))
        assert np.abs(out.flow[out.clip.apex]).max() > 1.0  # it does move (pixels at 128²)
        emb = ident.embed_aligned(frames)
        cos = cosine_similarity(emb[1:], emb[0])
        assert cos.min() > 0.95, (face.subject, cos)


def _apex_flow_class(flow_apex: np.ndarray, face) -> str:
    """The MEGC class whose warp-baseline apex flows (8 seeds) best match this flow (cosine at 16×16)."""
    warp = load_generator("warp", resolution=flow_apex.shape[0])
    v = cv2.resize(flow_apex, (16, 16), interpolation=cv2.INTER_AREA).ravel()
    best = {}
    for label in ("negative", "positive", "surprise"):
        sims = []
        for s in range(8):
            o = warp.generate(face, Condition(label=label, intensity=1.0), generator=1000 + s)
            t = cv2.resize(o.flow[o.clip.apex], (16, 16), interpolation=cv2.INTER_AREA).ravel()
            sims.append(float(v @ t / (np.linalg.norm(v) * np.linalg.norm(t) + 1e-9)))
        best[label] = max(sims)
    return max(best, key=best.get)


def test_demo_motion_follows_the_face(demo, corpus_faces):
    """The sampled motion follows each face's geometry: its face-specific part (minus the mean over faces)
    correlates with the same face's warp-baseline flow, not with other faces' (positive: one AU set)."""
    faces = list(corpus_faces)  # 9 seen in training, 3 held out
    warp = load_generator("warp", resolution=64, au_jitter=0.0)
    apex = Condition().apex_frame
    cond = Condition(label="positive", intensity=1.0)
    sampled = np.stack([demo(f, cond, generator=0, num_inference_steps=10).flow[apex].ravel() for f in faces])
    target = np.stack([warp.generate(f, cond, generator=0).flow[apex].ravel() for f in faces])
    sampled -= sampled.mean(0)
    target -= target.mean(0)
    corr = np.corrcoef(sampled, target)[: len(faces), len(faces):]
    matched, mismatched = np.diag(corr), corr[~np.eye(len(faces), dtype=bool)]
    assert matched.mean() > 0.3 and matched.mean() > mismatched.mean() + 0.2, corr.round(2)
    assert (corr.argmax(axis=1) == np.arange(len(faces))).sum() >= 9, corr.round(2)  # 11 of 12 when written


def test_demo_motion_follows_class_and_intensity(demo, corpus_faces):
    face = next(f for f in corpus_faces if f.subject not in demo.train_subjects)  # a held-out face
    apex = Condition().apex_frame
    for seed in (0, 1):
        flows = {label: demo(face, Condition(label=label, intensity=1.0), generator=seed, num_inference_steps=10).flow[apex]
                 for label in ("negative", "positive", "surprise")}
        assert _apex_flow_class(flows["positive"], face) == "positive"
        assert _apex_flow_class(flows["surprise"], face) == "surprise"
        assert _apex_flow_class(flows["negative"], face) != "positive"
    weak = demo(face, Condition(label="surprise", intensity=0.2), generator=0, num_inference_steps=10).flow[apex]
    strong = demo(face, Condition(label="surprise", intensity=1.0), generator=0, num_inference_steps=10).flow[apex]
    assert np.linalg.norm(weak, axis=-1).mean() < 0.5 * np.linalg.norm(strong, axis=-1).mean()


def test_demo_writes_a_dataset_with_the_synth_writer(demo, media, tmp_path):
    """`mexkit generate --generator flowdiff-demo`: manifest rows carry the generator, weights hash and the
    subjects the weights were trained on; unknown classes are refused before anything is written."""
    import shutil

    from mexkit.synth.writer import generate_dataset

    faces = tmp_path / "faces" / "f15"
    faces.mkdir(parents=True)
    shutil.copy(media / "0-f15-hao-ph.jpg", faces / "a.jpg")
    demo.register_to_config(num_inference_steps=5)
    try:
        hash5 = demo.weights_hash()  # the sampling defaults are part of the hash (sample ids follow them)
        counts = generate_dataset(demo, tmp_path / "faces", tmp_path / "out", classes=("surprise",), intensity=0.8, progress=False)
        with pytest.raises(MexkitInputError, match="unknown class"):
            generate_dataset(demo, tmp_path / "faces", tmp_path / "out2", classes=("happiness",), progress=False)
    finally:
        demo.register_to_config(num_inference_steps=load_generator("flowdiff-demo").config.num_inference_steps)
    assert counts["written"] == 1 and counts["rejected"] == 0
    import pandas as pd

    row = pd.read_csv(tmp_path / "out" / "manifest.csv").iloc[0]
    assert row["generator"] == "flowdiff" and row["weights_hash"] == hash5 != demo.weights_hash()
    assert set(str(row["train_subjects"]).split(";")) == set(demo.train_subjects)
    assert row["num_frames"] == 16 and row["label"] == "surprise"
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").rglob("*.png"))


def test_temporal_projection_makes_the_clip_one_field_times_the_timing_profile(tiny_pipe, corpus_faces):
    """`temporal_projection="profile"` (the default): every frame's low-resolution flow and occlusion is
    the condition's timing profile × one apex field (least squares over the sampled frames), so the
    sample's frame-to-frame jitter cannot reach the clip; "none" keeps the raw sample resampled in time."""
    from mexkit.synth.flowdiff.flow_codec import decode_flow, expression_profile, resample_frames

    face = corpus_faces[0]
    cond = Condition(label="surprise", intensity=0.8, duration_ms=300, fps=40)  # 12 frames from 4 model frames
    assert tiny_pipe.config.temporal_projection == "profile"
    out = tiny_pipe(face, cond, generator=0)
    p = cond.profile()
    seq = np.concatenate([out.extras["flow_lowres"], out.extras["occlusion_lowres"][:, None]], axis=1)  # (T, 3, h, w)
    apex = seq[cond.apex_frame] / p[cond.apex_frame]
    np.testing.assert_allclose(seq, p[:, None, None, None] * apex[None], atol=1e-6)
    # the apex field is the least-squares fit to the sampled (decoded) frames against the model-frame profile
    flow_low, occl_low = decode_flow(out.latents.float(), tiny_pipe.config.flow_scale, tiny_pipe.config.occlusion_scale)
    sampled = torch.cat([flow_low, occl_low], dim=2)[0]
    pm = expression_profile(cond.apex_at, sampled.shape[0], cond.offset_at)[0]
    ls = (torch.einsum("t,tchw->chw", pm, sampled) / (pm * pm).sum()).numpy()
    np.testing.assert_allclose(apex, ls, atol=1e-5)
    # the full-resolution flow is rank one in time too; frame 0 is the input
    flat = out.flow.reshape(len(out.flow), -1)
    assert np.linalg.svd(flat, compute_uv=False)[1] < 1e-4 * np.linalg.svd(flat, compute_uv=False)[0]
    assert np.array_equal(out.clip.frames[0], _crop(face, 32))
    try:
        tiny_pipe.register_to_config(temporal_projection="none")
        raw = tiny_pipe(face, cond, generator=0)
    finally:
        tiny_pipe.register_to_config(temporal_projection="profile")
    expected = resample_frames(sampled[None], cond.num_frames)[0]
    np.testing.assert_allclose(raw.extras["flow_lowres"], expected[:, 0:2].numpy(), atol=1e-6)
    np.testing.assert_allclose(raw.latents, out.latents)  # the projection acts after sampling only
    assert np.array_equal(raw.clip.frames[0], out.clip.frames[0])
    with pytest.raises(ValueError, match="temporal_projection"):
        build_pipeline(**TINY, temporal_projection="lowpass")


def test_highpass_shading_keeps_low_frequency_brightness(tiny_pipe, corpus_faces):
    """`shading_highpass` > 0 (the default): shading changes local contrast (folds darker, the skin around
    them lighter) and leaves the low-frequency brightness as the warp made it; 0 darkens only. The
    composition rule holds either way (frame = warp + 255·residual, mask = 1 − occlusion in [0, 1])."""
    from mexkit.synth.flowdiff.pipeline import gaussian_blur
    from mexkit.synth.output import compose_frames

    face = corpus_faces[1]
    cond = Condition(label="negative", intensity=1.0)
    default = tiny_pipe.config.shading_highpass
    assert default == pytest.approx(1 / 16)
    hp = tiny_pipe(face, cond, generator=3)
    try:
        tiny_pipe.register_to_config(shading_highpass=0.0)
        dark = tiny_pipe(face, cond, generator=3)
    finally:
        tiny_pipe.register_to_config(shading_highpass=default)
    np.testing.assert_array_equal(hp.flow, dark.flow)
    np.testing.assert_array_equal(hp.mask, dark.mask)
    assert dark.residual.max() <= 1e-7 and dark.residual.min() < -1e-3  # darkening only
    assert hp.residual.max() > 1e-3 and hp.residual.min() < -1e-3       # darker and lighter
    sigma = default * 32

    def low(r):
        return gaussian_blur(torch.from_numpy(r.mean(-1))[:, None], sigma).abs().mean().item()

    assert low(hp.residual) < 0.5 * low(dark.residual)
    for out in (hp, dark):
        crop = _crop(face, 32)
        diff = np.abs(compose_frames(crop, out.flow, out.residual).astype(int) - out.clip.frames.astype(int))
        assert diff[1:].max() <= 1
