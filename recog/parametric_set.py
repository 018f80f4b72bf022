"""A labelled stand-in set for recognizer benchmarks and tests: real faces, class-specific smooth warps.

NOT a generator and NOT micro-expression data. Each pseudo-subject is a real aligned face (the embedded
corpus's faces, reused round-robin) with its own small similarity transform, brightness and
expression "style"; each clip warps that face by a smooth flow field made of Gaussian bumps on the 68
landmarks — brows, eyelids, mouth — whose directions depend on the class (positive: lip corners up
and out; surprise: brows up, jaw down; negative: one of frown / disgust / sadness), scaled by a random
intensity and the subject's style, plus smooth random flow, a small head shift and pixel noise so the
classes overlap. The default sizes mirror the MEGC2019 composite: 442 clips, 68 subjects, negative
250 / positive 109 / surprise 83.

Each clip's `aus` names the action units its template imitates (`TEMPLATE_AUS`, one per template variant:
positive AU6+AU12, surprise AU1+AU2+AU5+AU26, frown AU4, disgust AU9+AU10, sadness AU1+AU15) — the AUs the
landmark motions were designed after, not a FACS coding of the frames; clips with no class motion
(`null_clips`) carry "none". So the set stands in for AU-target recognition too (`target="aus"`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator, Sequence

import cv2
import numpy as np

from mexkit.clip import Clip
from mexkit.datasets.manifest_columns import NO_SUBJECTS
from mexkit.neutral_face import NeutralFace
from mexkit.optical_flow import warp_backward

MEGC_COUNTS = {"negative": 250, "positive": 109, "surprise": 83}

# Landmark displacements (iBUG 68 indices) in inter-ocular distances; image x to the right, y down.
_BROWS = list(range(17, 27))
TEMPLATES: dict[str, list[dict[int, tuple[float, float]]]] = {
    "positive": [{48: (-0.06, -0.05), 54: (0.06, -0.05), 49: (-0.03, -0.03), 53: (0.03, -0.03), 40: (0, -0.02), 41: (0, -0.02),
                  46: (0, -0.02), 47: (0, -0.02), 31: (0, -0.015), 35: (0, -0.015)}],
    "surprise": [{**{i: (0.0, -0.07) for i in _BROWS}, 37: (0, -0.03), 38: (0, -0.03), 43: (0, -0.03), 44: (0, -0.03),
                  57: (0, 0.06), 8: (0, 0.07), 7: (0, 0.05), 9: (0, 0.05)}],
    "negative": [
        {21: (0.04, 0.04), 22: (-0.04, 0.04), 20: (0.02, 0.03), 23: (-0.02, 0.03), 19: (0, 0.02), 24: (0, 0.02)},  # frown
        {31: (0, -0.04), 35: (0, -0.04), 50: (0, -0.04), 51: (0, -0.045), 52: (0, -0.04), 21: (0.02, 0.02), 22: (-0.02, 0.02)},  # disgust
        {48: (0, 0.05), 54: (0, 0.05), 21: (0.01, -0.03), 22: (-0.01, -0.03), 57: (0, 0.01)},  # sadness
    ],
}


# The action units each template (variant) imitates, in the order of TEMPLATES: lip corners up and out with
# the lower lids raised (AU12, AU6); brows up (AU1, AU2), upper lids up (AU5), jaw down (AU26); brows lowered
# and drawn together (AU4); nostril wings and upper lip up (AU9, AU10); lip corners down with the inner brows
# up (AU15, AU1).
TEMPLATE_AUS: dict[str, list[str]] = {
    "positive": ["6+12"],
    "surprise": ["1+2+5+26"],
    "negative": ["4", "9+10", "1+15"],
}
NO_AUS = "none"


def _resize_face(face: NeutralFace, size: int) -> tuple[np.ndarray, np.ndarray]:
    crop = cv2.resize(face.crop, (size, size), interpolation=cv2.INTER_AREA if size < face.resolution else cv2.INTER_CUBIC)
    s = size / face.resolution
    return crop, ((np.asarray(face.landmarks, np.float64) + 0.5) * s - 0.5)


def _smooth_noise(rng: np.random.Generator, size: int, amplitude: float, grid: int = 4) -> np.ndarray:
    coarse = rng.normal(0.0, amplitude, size=(grid, grid, 2)).astype(np.float32)
    return cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)


def _bump_flow(points: np.ndarray, disp: dict[int, tuple[float, float]], iod: float, size: int, sigma: float) -> np.ndarray:
    """Backward flow (size, size, 2) that moves each listed landmark by disp · iod pixels."""
    gy, gx = np.mgrid[0:size, 0:size].astype(np.float32)
    flow = np.zeros((size, size, 2), np.float32)
    for i, (dx, dy) in disp.items():
        cx, cy = points[i]
        g = np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * sigma ** 2))
        flow[..., 0] -= dx * iod * g  # backward: the pixel at x shows what was at x − d
        flow[..., 1] -= dy * iod * g
    return flow


def subject_sizes(num_samples: int, num_subjects: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven samples per subject (at least one each), summing to num_samples."""
    if num_samples < num_subjects:
        raise ValueError(f"need at least one sample per subject ({num_samples} samples, {num_subjects} subjects)")
    return 1 + rng.multinomial(num_samples - num_subjects, rng.dirichlet(np.full(num_subjects, 2.0)))


@dataclass(frozen=True)
class PseudoSubject:
    """One pseudo-subject: a real face (faces[face_index]) under its own similarity transform (angle in
    degrees, scale, shift as a fraction of the image size) and brightness (gain, bias), and its
    expression style (a per-class amplitude factor). `params()` is JSON-able and rebuilds it."""

    name: str
    face_index: int
    angle: float
    scale: float
    shift: tuple[float, float]
    gain: float
    bias: float
    style: dict[str, float]

    @classmethod
    def draw(cls, rng: np.random.Generator, name: str, face_index: int) -> "PseudoSubject":
        angle, scale = float(rng.uniform(-4, 4)), float(rng.uniform(0.94, 1.06))
        shift = tuple(float(v) for v in rng.uniform(-0.03, 0.03, size=2))
        gain = float(rng.uniform(0.85, 1.15))
        bias = float(rng.uniform(-12, 12))
        style = {c: float(rng.uniform(0.6, 1.4)) for c in TEMPLATES}
        return cls(name, int(face_index), angle, scale, shift, gain, bias, style)

    def params(self) -> dict:
        return {"name": self.name, "face_index": self.face_index, "angle": self.angle, "scale": self.scale,
                "shift": list(self.shift), "gain": self.gain, "bias": self.bias, "style": dict(self.style)}

    @classmethod
    def from_params(cls, p: dict) -> "PseudoSubject":
        return cls(str(p["name"]), int(p["face_index"]), float(p["angle"]), float(p["scale"]), tuple(map(float, p["shift"])),
                   float(p["gain"]), float(p["bias"]), {str(k): float(v) for k, v in p["style"].items()})

    def appearance(self, faces: Sequence[NeutralFace], size: int) -> tuple[np.ndarray, np.ndarray, float]:
        """The subject's neutral face (float32 (size, size, 3)), its 68 landmarks and inter-ocular distance."""
        crop, lm = _resize_face(faces[self.face_index % len(faces)], size)
        m = cv2.getRotationMatrix2D((size / 2, size / 2), self.angle, self.scale)
        m[:, 2] += np.asarray(self.shift) * size
        crop = cv2.warpAffine(crop, m, (size, size), borderMode=cv2.BORDER_REPLICATE)
        crop = np.clip(crop.astype(np.float32) * self.gain + self.bias, 0, 255)
        lm = lm @ m[:, :2].T + m[:, 2]
        return crop, lm, float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))


def _profile(num_frames: int) -> np.ndarray:
    t = np.arange(num_frames)
    apex = num_frames // 2
    return np.where(t <= apex, 0.5 - 0.5 * np.cos(np.pi * t / max(apex, 1)),
                    0.5 + 0.5 * np.cos(np.pi * (t - apex) / max(num_frames - 1 - apex, 1))).astype(np.float32)


def _render(rng: np.random.Generator, look: tuple[np.ndarray, np.ndarray, float], style: dict[str, float], motion: str | None,
            render: dict) -> tuple[np.ndarray, float, str]:
    """Frames of one clip: the class `motion`'s template (none when None) at a random intensity times the
    subject's style, plus smooth random flow, a head shift and pixel noise. Returns (frames, amplitude,
    the AUs of the template used — TEMPLATE_AUS — or "none")."""
    crop, lm, iod = look
    size = crop.shape[0]
    amp = 0.0
    aus = NO_AUS
    apex_flow = np.zeros((size, size, 2), np.float32)
    if motion is not None:
        variants = TEMPLATES[motion]
        v = int(rng.integers(len(variants)))
        disp, aus = variants[v], TEMPLATE_AUS[motion][v]
        amp = rng.uniform(*render["intensity"]) * style[motion]
        apex_flow = _bump_flow(lm, {i: (dx * amp, dy * amp) for i, (dx, dy) in disp.items()}, iod, size, sigma=0.3 * iod)
    apex_flow += _smooth_noise(rng, size, render["noise_px"]) + rng.normal(0, render["head_px"], size=2).astype(np.float32)
    frames = np.stack([warp_backward(crop, p * apex_flow) for p in _profile(render["num_frames"])])
    frames = np.clip(frames + rng.normal(0, render["pixel_noise"], size=frames.shape), 0, 255).astype(np.uint8)
    return frames, float(amp), aus


def _clip(frames: np.ndarray, render: dict, subject: PseudoSubject, face: NeutralFace, sample_id: str, label: str, amp: float,
          aus: str = "", **meta) -> Clip:
    n = render["num_frames"]
    return Clip(frames=frames, fps=render["fps"], subject=subject.name, sample_id=sample_id, onset=0, apex=n // 2,
                offset=n - 1, label=str(label), aus=aus, dataset="parametric", source=face.source,
                meta={"base_subject": face.subject, "amplitude": amp, "pseudo_subject": subject.params(), "render": dict(render), **meta})


def iter_parametric_clips(faces: Sequence[NeutralFace], num_subjects: int = 68, counts: dict[str, int] | None = None,
                          size: int = 128, num_frames: int = 9, fps: float = 100.0, intensity: tuple[float, float] = (0.15, 0.7),
                          noise_px: float = 1.2, head_px: float = 1.5, pixel_noise: float = 2.0, seed: int = 0) -> Iterator[Clip]:
    """Yield the set's clips one at a time (uint8 (num_frames, size, size, 3); onset 0, apex in the middle).

    Each clip's meta holds its pseudo-subject (`pseudo_subject`, see `PseudoSubject.params`) and the
    rendering settings (`render`), so more clips of the same process can be made (`oracle_clips`)."""
    if not faces:
        raise ValueError("need at least one real face")
    counts = dict(MEGC_COUNTS if counts is None else counts)
    render = {"size": int(size), "num_frames": int(num_frames), "fps": float(fps), "intensity": tuple(map(float, intensity)),
              "noise_px": float(noise_px), "head_px": float(head_px), "pixel_noise": float(pixel_noise)}
    rng = np.random.default_rng(seed)
    labels = np.array([c for c, n in counts.items() for _ in range(n)])
    rng.shuffle(labels)
    sizes = subject_sizes(len(labels), num_subjects, rng)
    start = 0
    for k in range(num_subjects):
        face = faces[k % len(faces)]
        subject = PseudoSubject.draw(rng, f"param_s{k + 1:02d}", k % len(faces))
        look = subject.appearance(faces, size)
        for j, label in enumerate(labels[start:start + sizes[k]]):
            frames, amp, aus = _render(rng, look, subject.style, str(label), render)
            yield _clip(frames, render, subject, face, f"{subject.name}_{j:02d}", str(label), amp, aus)
        start += sizes[k]


def parametric_clips(faces: Sequence[NeutralFace], **kwargs) -> list[Clip]:
    """All clips of `iter_parametric_clips` as a list."""
    return list(iter_parametric_clips(faces, **kwargs))


# --- known-truth synthetic sets for validating the augmentation study -------------------------------

def scarce_clips(clips: Sequence[Clip], per_subject: int = 2, seed: int = 0) -> list[Clip]:
    """At most `per_subject` clips of each subject, chosen at random (seeded), in the input order."""
    if per_subject < 1:
        raise ValueError(f"per_subject must be at least 1, got {per_subject}")
    rng = np.random.default_rng(seed)
    by_subject: dict[str, list[int]] = {}
    for i, c in enumerate(clips):
        by_subject.setdefault(c.subject, []).append(i)
    keep: set[int] = set()
    for subject in sorted(by_subject):
        idx = by_subject[subject]
        keep.update(int(i) for i in rng.choice(idx, size=min(per_subject, len(idx)), replace=False))
    return [c for i, c in enumerate(clips) if i in keep]


def _subjects_and_render(clips: Sequence[Clip]) -> tuple[list[PseudoSubject], dict]:
    subjects: dict[str, PseudoSubject] = {}
    render = None
    for c in clips:
        if "pseudo_subject" not in c.meta or "render" not in c.meta:
            raise ValueError(f"clip {c.sample_id!r} is not from iter_parametric_clips (no pseudo_subject / render in its meta)")
        subjects.setdefault(c.subject, PseudoSubject.from_params(c.meta["pseudo_subject"]))
        render = render or dict(c.meta["render"])
    if render is None:
        raise ValueError("need at least one clip of the parametric set")
    return [subjects[s] for s in sorted(subjects)], render


def _class_probs(clips: Sequence[Clip], class_probs: dict[str, float] | None) -> tuple[list[str], np.ndarray]:
    if class_probs is None:
        labels = [c.label for c in clips]
        class_probs = {c: labels.count(c) for c in TEMPLATES if c in labels}
    names = [c for c in class_probs if class_probs[c] > 0]
    unknown = sorted(set(names) - set(TEMPLATES))
    if unknown:
        raise ValueError(f"classes {unknown} have no motion template; the set's classes are {list(TEMPLATES)}")
    p = np.array([class_probs[c] for c in names], float)
    return names, p / p.sum()


def _more_clips(faces: Sequence[NeutralFace], clips: Sequence[Clip], per_subject: int, seed: int, class_probs: dict | None,
                class_motion: bool, generator: str) -> list[Clip]:
    subjects, render = _subjects_and_render(clips)
    names, p = _class_probs(clips, class_probs)
    rng = np.random.default_rng(seed)
    out = []
    for subject in subjects:
        face = faces[subject.face_index % len(faces)]
        look = subject.appearance(faces, render["size"])
        for j in range(per_subject):
            label = names[rng.choice(len(names), p=p)]
            frames, amp, aus = _render(rng, look, subject.style, label if class_motion else None, render)
            # provenance: the set's own process, which learned from nobody and is driven by no clip
            out.append(_clip(frames, render, subject, face, f"{generator}_{subject.name}_{j:02d}", label, amp, aus, generator=generator,
                             train_subjects=NO_SUBJECTS, driving_subject=NO_SUBJECTS))
    return out


def oracle_clips(faces: Sequence[NeutralFace], clips: Sequence[Clip], per_subject: int = 4, seed: int = 1,
                 class_probs: dict[str, float] | None = None) -> list[Clip]:
    """Known-positive synthetic clips: `per_subject` NEW clips of every subject in `clips` (parametric-set
    clips), drawn from the very process that made them — same pseudo-subject, templates, intensities,
    noise and rendering settings — with correct labels drawn at the class frequencies of `clips` (or
    `class_probs`). Adding them to a fold's training set is like adding more real data of the training
    subjects, so an augmentation study should find a positive effect. meta["generator"] = "oracle",
    train_subjects and driving_subject "none" (the process learned from nobody);
    sample ids "oracle_<subject>_<j>". Pass faces = the faces the set was made from."""
    return _more_clips(faces, clips, per_subject, seed, class_probs, True, "oracle")


def null_clips(faces: Sequence[NeutralFace], clips: Sequence[Clip], per_subject: int = 4, seed: int = 1,
               class_probs: dict[str, float] | None = None) -> list[Clip]:
    """Known-null synthetic clips: like `oracle_clips` (same subjects, faces, nuisance motion — smooth random
    flow, head shift, pixel noise — and rendering), but with no class motion at all, so nothing in a
    clip depends on its label (labels drawn at the class frequencies of `clips`). meta["generator"] =
    "null"; sample ids "null_<subject>_<j>"."""
    return _more_clips(faces, clips, per_subject, seed, class_probs, False, "null")


def label_swapped_clips(clips: Sequence[Clip], classes: Sequence[str] = tuple(MEGC_COUNTS)) -> list[Clip]:
    """Known-negative synthetic clips: copies of `clips` (e.g. `oracle_clips`) whose labels are all wrong —
    each class is replaced by the next one in `classes` (negative → positive → surprise → negative), and
    its AUs by the wrong class's (first) template AUs, so AU targets are wrong too. The frames are shared,
    not copied. meta["generator"] = "label-swapped", meta["true_label"] / meta["true_aus"] the originals;
    sample ids get the prefix "swapped_"."""
    classes = list(classes)
    out = []
    for c in clips:
        if c.label not in classes:
            raise ValueError(f"clip {c.sample_id!r} has label {c.label!r}, not one of {classes}")
        wrong = classes[(classes.index(c.label) + 1) % len(classes)]
        meta = {**c.meta, "generator": "label-swapped", "true_label": c.label, "true_aus": c.aus}
        wrong_aus = TEMPLATE_AUS[wrong][0] if wrong in TEMPLATE_AUS else c.aus
        out.append(replace(c, label=wrong, aus=wrong_aus, sample_id=f"swapped_{c.sample_id}", meta=meta))
    return out


KNOWN_EFFECTS = ("oracle", "label-swapped", "null")


def megc_counts(num_subjects: int = 68) -> dict[str, int]:
    """The composite's class counts (MEGC_COUNTS, 68 subjects) scaled to `num_subjects`."""
    if num_subjects == 68:
        return dict(MEGC_COUNTS)
    return {k: max(1, round(v * num_subjects / 68)) for k, v in MEGC_COUNTS.items()}


def known_effect_sets(faces: Sequence[NeutralFace], kind: str, seed: int = 0, num_subjects: int = 68,
                      real_per_subject: int = 2, synthetic_per_subject: int = 4, size: int = 48, num_frames: int = 3,
                      counts: dict[str, int] | None = None) -> tuple[list[Clip], list[Clip]]:
    """(real clips, synthetic clips) of one known-truth augmentation scenario, seeded.

    Real: the MEGC-shaped set (`counts`, default 442 clips / 68 subjects scaled to `num_subjects`) made
    scarce — `real_per_subject` clips per subject (`scarce_clips`). Synthetic, for every subject:
    "oracle" — `synthetic_per_subject` more clips of the same process (`oracle_clips`; true effect > 0);
    "label-swapped" — those same clips with every label wrong (`label_swapped_clips`; true effect < 0);
    "null" — clips with no class motion (`null_clips`; no class information). Small sizes keep the checks
    cheap; the nuisance motion (noise_px, head_px) is scaled with `size` so the set is as hard as at 128 px."""
    if kind not in KNOWN_EFFECTS:
        raise ValueError(f"kind must be one of {KNOWN_EFFECTS}, got {kind!r}")
    counts = megc_counts(num_subjects) if counts is None else counts
    f = size / 128
    full = parametric_clips(faces, num_subjects=num_subjects, counts=counts, size=size, num_frames=num_frames,
                            noise_px=1.2 * f, head_px=1.5 * f, seed=seed)
    real = scarce_clips(full, real_per_subject, seed=seed)
    syn_seed = 1_000_003 + int(seed)
    if kind == "null":
        return real, null_clips(faces, real, synthetic_per_subject, seed=syn_seed)
    syn = oracle_clips(faces, real, synthetic_per_subject, seed=syn_seed)
    return real, (syn if kind == "oracle" else label_swapped_clips(syn))
