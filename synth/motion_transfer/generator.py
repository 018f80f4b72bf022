"""Motion transfer from a driving clip (the MEGC 2021/22 generation protocol), landmark-driven.

The driving clip's landmark motion relative to its first frame — with the head's rigid motion taken
out, expressed in the driving face's own frame and divided by its inter-ocular distance — is
rescaled by the target face's inter-ocular distance, turned into the target's face frame and applied
to the target's neutral landmarks; the target crop is warped by the thin-plate spline through them
(warp/dense_warp.py). Only *relative* motion crosses over, so the driving person's face shape does not
leak into the result, and the target's identity is its own pixels, warped.

MEGC 2021/2022 (generation task) asked for exactly this transfer of a source micro-expression
clip's motion onto target faces; its reference methods used FOMM-style relative keypoint motion.
Here the motion is the 68 landmarks, and the warp is a spline instead of a learned network.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from mexkit.clip import Clip
from mexkit.errors import MexkitInputError

from ..warp.au_templates import face_frame, to_image_frame
from ..condition import MAX_CLIP_FRAMES, Condition
from ..warp.dense_warp import LandmarkWarper, pixel_coordinate_maps, rendered_points, warp_frames
from ..generator import DrivingClip, Generator
from ..neutral_face import NeutralFace
from ..output import GeneratorOutput
from ..warp.generator import open_mouth, resize_face

# Points that move little with expressions (nose bridge, eye corners, jaw at the ears): the head's
# rigid motion is estimated on them.
STABLE68 = (0, 16, 27, 28, 29, 30, 36, 39, 42, 45)
# The longest driving clip a path may be (frames): its motion becomes one generated clip, which holds at most
# MAX_CLIP_FRAMES (synth/condition.py) — 10 s at 200 fps, where a micro-expression lasts under 0.5 s.
MAX_DRIVING_FRAMES = MAX_CLIP_FRAMES


def driving_landmarks(driving: Clip, pipeline=None) -> np.ndarray:
    """(T, 68, 2) landmarks of a driving clip: its own if it carries per-frame landmarks, else tracked
    with the face pipeline (aligned once on the onset frame, docs/design.md §3)."""
    from mexkit.face.landmark_schemes import to68

    lm = driving.landmarks
    if lm is not None and np.ndim(lm) == 3 and len(lm) == driving.num_frames:
        scheme = driving.meta.get("landmark_scheme") or {68: "ibug68", 478: "mediapipe478"}.get(lm.shape[1])
        if scheme is None:
            raise MexkitInputError(driving.source or driving.sample_id, f"driving landmarks have {lm.shape[1]} points", "use 68-point or MediaPipe 478-point landmarks", stage="landmarks")
        return np.asarray(to68(np.asarray(lm), scheme), np.float32)
    if driving.num_frames < 2:
        raise MexkitInputError(driving.source or driving.sample_id, "driving clip has a single frame", "use a video or frame folder with at least two frames", stage="driving")
    if pipeline is None:
        from mexkit.face import FacePipeline

        pipeline = FacePipeline("mediapipe", resolution=128)
    tracked = pipeline.align_clip(driving, track_landmarks=True)
    return np.asarray(to68(tracked.landmarks, pipeline.scheme), np.float32)


def streamed_driving_landmarks(path: str | Path, pipeline=None) -> np.ndarray:
    """(T, 68, 2) landmarks of a driving video or frame folder, read one frame at a time (only the landmarks are
    kept: memory flat in its length): aligned once on its first frame, landmarks tracked in every frame, as
    `driving_landmarks` does for a Clip. A clip of more than MAX_DRIVING_FRAMES frames, or of one frame, is
    refused before any frame is decoded."""
    from mexkit.face.landmark_schemes import to68
    from mexkit.video_io import clip_frame_count, iter_clip_frames

    path = Path(path)
    n = clip_frame_count(path)
    if n > MAX_DRIVING_FRAMES:
        raise MexkitInputError(path, f"driving clip of {n} frames, above {MAX_DRIVING_FRAMES} (its motion becomes one generated clip, "
                               f"at most {MAX_DRIVING_FRAMES} frames)", "cut out the stretch with the expression, e.g. "
                               "`ffmpeg -ss 12.0 -t 1.0 -i in.mp4 out.mp4` for the second from 12 s", stage="driving")
    if n < 2:
        raise MexkitInputError(path, "driving clip has a single frame", "use a video or frame folder with at least two frames", stage="driving")
    if pipeline is None:
        from mexkit.face import FacePipeline

        pipeline = FacePipeline("mediapipe", resolution=128)
    reference = pipeline.align_reference(next(iter_clip_frames(path, 0, 1)), source=path)
    landmarks = [lm for _, lm in pipeline.iter_aligned(iter_clip_frames(path), reference, track_landmarks=True)]
    return np.asarray(to68(np.stack(landmarks).astype(np.float32), pipeline.scheme), np.float32)


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift; no reflection) mapping src → dst (Umeyama 1991).

    src, dst (N, 2) → 2×3 matrix.
    """
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    cov = b.T @ a / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ d @ vt
    scale = np.trace(np.diag(s) @ d) / max((a**2).sum() / len(src), 1e-12)
    t = md - scale * rot @ ms
    return np.hstack([scale * rot, t[:, None]])


def relative_motion(landmarks: np.ndarray, remove_head_motion: bool = True, smoothing: float = 0.0) -> np.ndarray:
    """Expression motion of a landmark track relative to its first frame, in the face frame, in IOD units.

    landmarks (T, 68, 2) → (T, 68, 2), zero at frame 0. remove_head_motion: map every frame onto the
    first by the similarity fitted on STABLE68 before differencing. smoothing: Gaussian σ in frames
    over time (0 = none) against landmark jitter; frame 0 stays exactly zero.
    """
    lm = np.asarray(landmarks, np.float64)
    if lm.ndim != 3 or lm.shape[1:] != (68, 2) or len(lm) < 2:
        raise MexkitInputError(None, f"driving landmarks must be (T >= 2, 68, 2), got {lm.shape}", "pass a clip with at least two frames", stage="driving")
    if not np.isfinite(lm).all():
        raise MexkitInputError(None, "driving landmarks contain NaN or inf", "re-track the driving clip", stage="driving")
    ref = lm[0]
    if remove_head_motion:
        idx = list(STABLE68)
        out = np.empty_like(lm)
        out[0] = ref
        for t in range(1, len(lm)):
            m = similarity_fit(lm[t, idx], ref[idx])
            out[t] = lm[t] @ m[:, :2].T + m[:, 2]
        lm = out
    motion = lm - ref
    motion[0] = 0.0  # exactly: frame 0 of every transfer is the target face itself
    if smoothing > 0:
        from scipy.ndimage import gaussian_filter1d

        motion = gaussian_filter1d(motion, smoothing, axis=0, mode="nearest")
        motion -= motion[:1]
    ex, ey, iod = face_frame(ref)
    return np.stack([motion @ ex, motion @ ey], -1) / iod


def resample_motion(motion: np.ndarray, num_frames: int) -> np.ndarray:
    """(T, 68, 2) motion → (num_frames, 68, 2), linear in time over the same span (first frame kept)."""
    t_src = np.linspace(0.0, 1.0, len(motion))
    t_dst = np.linspace(0.0, 1.0, num_frames)
    if len(motion) == num_frames:
        return motion.copy()
    flat = motion.reshape(len(motion), -1)
    out = np.stack([np.interp(t_dst, t_src, flat[:, j]) for j in range(flat.shape[1])], 1)
    return out.reshape(num_frames, *motion.shape[1:])


class MotionTransferGenerator(Generator):
    """Animate any face with a driving clip's expression motion: `gen.generate(face, gen.default_condition())`.

    driving: a Clip (its landmarks are used, or tracked), a (T, 68, 2) landmark array (then give
    fps), or a video / frame-folder path. The condition's duration and fps resample the motion in
    time (default_condition() keeps the driving clip's own); its intensity scales the motion
    (1 = as driven). remove_head_motion, smoothing: see `relative_motion`.

    Provenance: the driving clip's dataset, subject and sample id travel with every clip (`driving`;
    the leakage gate refuses a clip driven by a held-out subject). They come from the Clip, or from
    driving_dataset / driving_subject / driving_sample (which override it) — a path or a landmark
    array has no subject, and the writer refuses to write clips whose driving subject is unknown.
    """

    generator_name = "motion-transfer"
    train_subjects = ()  # nothing learned; the driving clip's subject is recorded as `driving`

    def __init__(self, driving: Clip | np.ndarray | str | Path, resolution: int = 128, fps: float | None = None,
                 remove_head_motion: bool = True, smoothing: float = 0.0, pipeline=None, grid: int | None = None,
                 driving_subject: str | None = None, driving_dataset: str | None = None, driving_sample: str | None = None):
        path = Path(driving) if isinstance(driving, (str, Path)) else None
        if path is not None:  # streamed: only its landmarks are kept (a long video must not be read whole)
            from mexkit.video_io import VIDEO_EXTS, video_info

            lm = streamed_driving_landmarks(path, pipeline)
            video = path.is_file() and path.suffix.lower() in VIDEO_EXTS
            fps = fps or (video_info(path)["fps"] if video else 30.0)  # as read_clip: a given fps wins; a folder's default 30
            known = DrivingClip("", "", path.stem if path.is_file() else path.name)
        elif isinstance(driving, Clip):
            known = DrivingClip(str(driving.dataset or ""), str(driving.subject or ""), str(driving.sample_id or ""))
        else:
            known = DrivingClip()
        self._driving = DrivingClip(driving_dataset if driving_dataset is not None else known.dataset,
                                    driving_subject if driving_subject is not None else known.subject,
                                    driving_sample if driving_sample is not None else known.sample_id)
        if path is not None:
            self.driving_fps, self.driving_label, self.driving_aus, self.driving_apex, self.driving_source = float(fps), None, "", None, str(path)
        elif isinstance(driving, Clip):
            self.driving_fps = float(driving.fps)
            self.driving_label = driving.label
            self.driving_aus = driving.aus
            self.driving_apex = driving.apex
            self.driving_source = driving.source or driving.sample_id
            lm = driving_landmarks(driving, pipeline)
        else:
            if not fps:
                raise MexkitInputError(None, "driving landmarks given without a frame rate", "pass fps=", stage="driving")
            self.driving_fps, self.driving_label, self.driving_aus, self.driving_apex, self.driving_source = float(fps), None, "", None, ""
            lm = np.asarray(driving, np.float32)
        self.resolution = int(resolution)
        self.grid = grid
        self.remove_head_motion = remove_head_motion
        self.smoothing = float(smoothing)
        self.motion = relative_motion(lm, remove_head_motion, smoothing)  # (T, 68, 2) IOD units
        if self.driving_apex is None:
            self.driving_apex = int(np.argmax(np.linalg.norm(self.motion, axis=-1).mean(-1)))

    @property
    def num_frames(self) -> int:
        return len(self.motion)

    @property
    def driving(self) -> DrivingClip:
        return self._driving

    def default_condition(self, label: str | None = None, intensity: float = 1.0) -> Condition:
        """The driving clip's own timing (frame count, fps, apex), scaled by intensity."""
        n = self.num_frames
        return Condition(
            label=label or self.driving_label or "", intensity=intensity, duration_ms=1000.0 * n / self.driving_fps,
            fps=self.driving_fps, apex_at=max(self.driving_apex, 1) / (n - 1), offset_at=1.0,
        )

    def weights_hash(self) -> str:
        """Hash of the driving motion and settings (a different driving clip is a different 'model')."""
        h = hashlib.sha256(np.ascontiguousarray(self.motion, np.float64).round(6).tobytes())
        h.update(f"{self.resolution}|{self.grid}|{self.remove_head_motion}|{self.smoothing}|{self.driving_fps}".encode())
        return h.hexdigest()[:16]

    def displacements(self, face: NeutralFace, condition: Condition) -> np.ndarray:
        """(T, 68, 2) pixel displacements of the target landmarks, T = condition.num_frames."""
        motion = resample_motion(self.motion, condition.num_frames) * float(condition.intensity)
        return to_image_frame(motion, face.landmarks)

    def animate(self, face: NeutralFace, condition: Condition, generator: torch.Generator) -> GeneratorOutput:
        face = resize_face(face, self.resolution)
        disp = self.displacements(face, condition)
        warper = LandmarkWarper(face.landmarks, face.resolution, grid=self.grid)
        flows = warper.backward_flow(disp)
        frames = warp_frames(face.crop, flows, pixel_coordinate_maps(face.resolution))
        landmarks = rendered_points(face.landmarks, flows)
        requested = (face.landmarks[None] + disp).astype(np.float32)
        mask = residual = None
        if warper.mouth_closed:
            frames, mask, residual = open_mouth(frames, landmarks, requested, face)
        clip = Clip(
            frames=frames, fps=float(condition.fps), subject=face.subject, onset=0, apex=condition.apex_frame,
            offset=condition.offset_frame,
            label=condition.label or self.driving_label, aus=self.driving_aus, dataset="synthetic", source=face.source,
            landmarks=landmarks,
            meta={"generator": self.generator_name, "driving": self.driving_source, "intensity": float(condition.intensity),
                  "condition": condition.to_dict()},
        )
        return GeneratorOutput(clip=clip, flow=flows, mask=mask, residual=residual, landmarks=landmarks,
                               extras={"requested_landmarks": requested, "displacements": disp})


def transfer_motion(face: NeutralFace | np.ndarray, driving: Clip | np.ndarray | str | Path, intensity: float = 1.0,
                    **kwargs) -> GeneratorOutput:
    """One-call motion transfer: the driving clip's motion on `face`, with the driving clip's timing."""
    gen = MotionTransferGenerator(driving, **kwargs)
    return gen.generate(face, gen.default_condition(intensity=intensity))
