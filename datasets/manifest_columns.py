"""The manifest columns every part of mexkit reads and writes (docs/design.md §1). Defined here only.

A real-data manifest has MANIFEST_COLUMNS (paths relative to the dataset root); a synthetic dataset's
manifest has SYNTHETIC_MANIFEST_COLUMNS: the same columns, then the provenance of each clip.
"""
from __future__ import annotations

MANIFEST_COLUMNS = [
    "sample_id", "subject", "dataset", "label", "aus", "onset", "apex", "offset",
    "apex_estimated", "fps", "num_frames", "path", "source",
]
# Extra columns the adapters add: release frame numbers of the clip's first/last frame (inclusive),
# so a clip can be cut from a folder that holds more than the sample (SAMM, CAS(ME)^3).
FRAME_RANGE_COLUMNS = ["frame_start", "frame_stop"]
# The 12-AU recognition target of each row, read from its `aus` cell (mexkit.datasets.au_targets): au_target
# ("AU4+AU7"; "none" when the cell codes none of the 12; "" when the release has no AU annotation), au_other
# (";"-joined codes outside the 12, e.g. "AU25;AU43") and au_notes (what was not counted, and why).
AU_TARGET_COLUMNS = ["au_target", "au_other", "au_notes"]
# Which released annotation sheet a row was read from and the published errata applied to it (names
# from datasets/errata_tables, ";"-joined; empty when none applied or errata were switched off).
ANNOTATION_PROVENANCE_COLUMNS = ["annotation_sheet", "errata"]
# The driving clip whose motion a synthetic clip carries (motion transfer): its dataset, subject and
# sample id; NO_SUBJECTS in all three for generators without a driving clip.
DRIVING_COLUMNS = ["driving_dataset", "driving_subject", "driving_sample"]
# How neutral the source face was (mexkit/face/neutrality.py): 1 − its strongest expression blendshape,
# and the strongest shapes as "name:score;…" ("" when it could not be measured).
NEUTRALITY_COLUMNS = ["neutrality", "expression_blendshapes"]
# What made a synthetic clip: generator, weights, source face and its subject, the subjects that shaped
# the weights, the driving clip, the request (intensity, duration, seed, condition).
PROVENANCE_COLUMNS = [
    "generator", "weights_hash", "source_face", "source_subject", "train_subjects", *DRIVING_COLUMNS, "intensity",
    "duration_ms", "seed", "source_face_sha", "condition", *NEUTRALITY_COLUMNS,
]
# Provenance cells (train_subjects, driving_*): "" is UNKNOWN and refused by the leakage gate; NO_SUBJECTS
# declares "none" (a generator that learned from nobody, a clip without a driving clip). See
# mexkit.datasets.provenance.
NO_SUBJECTS = "none"
# Subjects of faces from outside every real set (stock photos, other people): `mexkit generate
# --outside-faces` writes them as "outside:<name>", which can never be a held-out subject.
OUTSIDE_PREFIX = "outside:"
SYNTHETIC_MANIFEST_COLUMNS = MANIFEST_COLUMNS + PROVENANCE_COLUMNS

# Expression intervals in long videos (spotting; docs/design.md §8): one row per ground-truth interval, as
# the long-video adapters (CAS(ME)², SAMM-LV, CAS(ME)³-A) and `mexkit insert` write `truth.csv`.
# onset / apex / offset are 0-based positions of frames in the video as mexkit decodes it (a video's
# decoded order, or a frame folder in natural order), inclusive; release frame numbers are kept in
# `frame_onset` / `frame_apex` / `frame_offset` where they differ. type: SPOT_TYPES ("ME" micro, "MaE"
# macro). emotion: the release's word ("" when unknown). Inserted events fill intensity, generator,
# train_subjects and seed; real annotations leave intensity and seed "" and write generator NO_SUBJECTS.
SPOT_TYPES = ("ME", "MaE")
SPOT_TRUTH_COLUMNS = [
    "dataset", "video", "subject", "onset", "apex", "offset", "type", "emotion", "aus", "intensity", "generator",
    "train_subjects", "seed", "fps", "source",
]
# A spotter's answer, `intervals.csv`: the same frame positions, the type and a score (larger = surer).
SPOT_PRED_COLUMNS = ["video", "subject", "onset", "apex", "offset", "type", "score"]
# A micro-expression lasts at most this long (MEGC protocol: ME ≤ 0.5 s).
ME_MAX_SECONDS = 0.5
