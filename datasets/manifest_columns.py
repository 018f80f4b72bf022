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
