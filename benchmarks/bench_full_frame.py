"""Full-frame rendering (synth/full_frame.py): speed at 1280×720 and quality on real photos at native size.

    python benchmarks/bench_full_frame.py [--threads 2]        (MEXKIT_BENCH_QUICK=1: fewer repeats and photos)

Speed rows (16-frame warp clips, best of N):
- full-frame rendering at 1280×720 (a frame of the corpus video WolfgangLanger_Pexels.mp4 upscaled 2×), frames/s,
  beside warping the 128² crop alone (`compose_frames`, the crop-level work of the same clip) in the same run;
- the four faces of multi_face.jpg (1000×667) rendered into the same frames, frames/s.
Quality rows, on multi_face.jpg, single_face.jpg and the four posed photos at native size (warp, one clip per
face and class positive / negative / surprise at intensity 0.6, seed 0):
- identity: eval's identity family (id_cos_mean) on the faces re-detected in the full frames
  (mexkit.eval.full_frame.face_clips), beside the same family on the generator's crops — target |Δ| ≤ 0.005;
- flicker: eval's temporal flicker on the same re-detected crops, beside the crops';
- seam: seam_score of the apex frame (gradient energy on the mask's border band vs the rest of the face,
  over the same ratio on the real photo; 1 = no seam), beside the paste-back of the motion-transfer anchors
  (the generated crop resized into its square footprint).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import emit, timeit  # noqa: E402

QUICK = os.environ.get("MEXKIT_BENCH_QUICK") == "1"
PHOTOS = ("multi_face.jpg", "single_face.jpg", "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg")
CLASSES = ("positive", "negative", "surprise")


def speed_rows(media) -> list[dict]:
    from mexkit.neutral_face import prepare_face, prepare_faces
    from mexkit.synth import Condition, load_generator
    from mexkit.synth.full_frame import render_faces, render_full_frame
    from mexkit.synth.output import compose_frames
    from mexkit.video_io import read_image
    from mexkit.video_stream import VideoStream

    gen = load_generator("warp")
    frame = next(f.image for f in VideoStream(media / "WolfgangLanger_Pexels.mp4") if f.index == 240)
    hd = cv2.resize(frame, (1280, 720), interpolation=cv2.INTER_CUBIC)
    face = prepare_face(hd, resolution=128, source="720p")
    out = gen.generate(face, Condition(label="surprise", intensity=0.6), generator=0)
    t_full = timeit(lambda: render_full_frame(out, face, hd), repeat=3 if QUICK else 7)
    t_crop = timeit(lambda: compose_frames(out.clip.frames[0], out.flow, out.residual), repeat=3 if QUICK else 7)
    n = out.clip.num_frames
    group = read_image(media / "multi_face.jpg")
    faces = prepare_faces(group, resolution=128)
    outs = [(gen.generate(f, Condition(label=CLASSES[k % 3], intensity=0.6), generator=k), f) for k, f in enumerate(faces)]
    t_group = timeit(lambda: render_faces(group, outs), repeat=2 if QUICK else 5)
    return [
        {"name": "full-frame rendering, 1280x720, one face", "value": n / t_full, "unit": "frames/s", "target": 30.0,
         "reference": n / t_crop, "note": "reference: composing the 128² crop alone (compose_frames), same clip"},
        {"name": f"full-frame rendering, multi_face.jpg 1000x667, {len(faces)} faces", "value": n / t_group, "unit": "frames/s",
         "reference": n / t_crop, "note": "all faces in the same frames; reference: one 128² crop"},
    ]


def quality_rows(media) -> list[dict]:
    from mexkit.eval.full_frame import face_clips, seam_score
    from mexkit.eval.identity import IdentityScorer
    from mexkit.eval.temporal import temporal_scores
    from mexkit.neutral_face import prepare_faces
    from mexkit.synth import Condition, load_generator
    from mexkit.synth.full_frame import full_frame_mask, region_of, render_faces
    from mexkit.video_io import read_image

    gen = load_generator("warp")
    scorer = IdentityScorer()
    id_full, id_crop, fl_full, fl_crop, seam, paste = [], [], [], [], [], []
    per_photo = []
    for name in PHOTOS[:2] if QUICK else PHOTOS:
        image = read_image(media / name)
        faces = [f for f in prepare_faces(image, resolution=128, source=name) if not isinstance(f, Exception)]
        for cls in CLASSES[:1] if QUICK else CLASSES:
            outs = [gen.generate(f, Condition(label=cls, intensity=0.6), generator=0) for f in faces]
            frames = render_faces(image, list(zip(outs, faces)))
            clips = face_clips(frames, 128)
            if len(clips) != len(faces):
                print(f"{name}: {len(clips)} faces re-detected of {len(faces)}; skipped", file=sys.stderr)
                continue
            a = outs[0].clip.apex
            for out, clip, face in zip(outs, clips, faces):
                clip.apex = out.clip.apex
                id_crop.append(scorer(out.clip)["id_cos_mean"])
                id_full.append(scorer(clip)["id_cos_mean"])
                fl_crop.append(temporal_scores(out.clip.frames)["flicker"])
                fl_full.append(temporal_scores(clip.frames)["flicker"])
                inv = cv2.invertAffineTransform(np.asarray(face.meta["affine"]))
                h, w = image.shape[:2]
                up = cv2.warpAffine(out.clip.frames[a], inv, (w, h), flags=cv2.INTER_LINEAR)
                square = cv2.warpAffine(np.ones((128, 128), np.float32), inv, (w, h), flags=cv2.INTER_NEAREST)
                paste.append(seam_score(np.where(square[..., None] > 0, up, image), image, square))
                own = full_frame_mask(image.shape, [region_of(face, image.shape)])
                seam.append(seam_score(frames[a], image, own))
            per_photo.append(f"{name}/{cls}: Δid {np.mean(id_full[-len(faces):]) - np.mean(id_crop[-len(faces):]):+.4f}")
    print("\n".join(per_photo), file=sys.stderr)
    n = len(id_full)
    return [
        {"name": f"identity (id_cos_mean), full frame, faces re-detected ({n} clips)", "value": float(np.mean(id_full)), "unit": "cosine",
         "reference": float(np.mean(id_crop)), "note": f"reference: the same clips' crops; max |Δ| per clip "
         f"{np.max(np.abs(np.subtract(id_full, id_crop))):.4f}; target |mean Δ| ≤ 0.005"},
        {"name": "flicker, full frame re-detected crops", "value": float(np.mean(fl_full)), "unit": "grey lvl",
         "reference": float(np.mean(fl_crop)), "note": "reference: the generator's crops (eval temporal flicker)"},
        {"name": "seam score, full-frame rendering (apex)", "value": float(np.mean(seam)), "unit": "ratio", "target": 1.25,
         "reference": float(np.mean(paste)), "note": f"1 = the real photo; reference: square paste-back of the crop; "
         f"range {np.min(seam):.3f}–{np.max(seam):.3f} vs {np.min(paste):.2f}–{np.max(paste):.2f}"},
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from mexkit.datasets.corpus import MEDIA_DIR

    t0 = time.time()
    rows = speed_rows(MEDIA_DIR)
    if not args.speed_only:
        rows += quality_rows(MEDIA_DIR)
    emit(rows)
    print(f"({time.time() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
