"""The synthetic-dataset writer: any generator × faces × conditions → clips, manifest.csv, rejects.csv.

Layout of the output folder (the synthetic manifest contract):
    DIR/manifest.csv          one row per finished clip (SYNTHETIC_MANIFEST_COLUMNS; paths relative to DIR)
    DIR/rejects.csv           faces (or samples) skipped, with stage and reason
    DIR/run.json              the settings that decide the clips; a run with other settings is refused here
    DIR/clips/<sample_id>/    PNG frames 00000.png … (format "png"), or DIR/clips/<sample_id>.mp4

Guarantees. Sample ids are deterministic: a hash of (generator name, weights hash, source face
sha256, condition, seed), so the same command writes the same ids, frames and rows. Each clip is
written into a temporary sibling and renamed into place, and only then is its manifest row appended
(one O_APPEND write, fsynced) — a killed run leaves at worst a temporary folder (removed on the next
run) or a finished clip without its row (regenerated), never a half row or a row without files.
Running the same command again resumes: finished ids are skipped.

One file per idea:
    faces.py           face discovery: FaceSource, faces_from_folder / faces_from_corpus, duplicates
    jobs.py            job planning: plan_jobs (generator, faces, up-front condition checks, ids), Job
    manifest.py        manifest.csv: open / repair, finished ids, one-write row append
    dataset_writer.py  the write loop: DatasetWriter, open_run (the shared preamble), generate_dataset
    distributed.py     scale-out: the same plan through Lightning predict + a BasePredictionWriter

Built for scale-out: `plan_jobs` makes the deterministic, sorted job list, and
`DatasetWriter.write_sample(job)` turns one job into files + a row with no state shared between
jobs beyond caches, so a Lightning `predict` loop with a prediction writer shards the job list
(`generate_dataset_distributed`).
"""
from .dataset_writer import FORMATS, DatasetWriter, check_output_folder, generate_dataset, open_run
from .faces import FaceRejected, FaceSource, duplicate_faces, face_sources, faces_from_corpus, faces_from_folder, unique_faces
from .jobs import Job, JobPlan, generator_name, make_sample_id, parse_intensity, plan_jobs, resolve_generator, sample_seed
from .manifest import append_row, csv_line, finished_ids, open_manifest

__all__ = [
    "FORMATS", "DatasetWriter", "FaceRejected", "FaceSource", "Job", "JobPlan", "append_row", "check_output_folder",
    "csv_line", "duplicate_faces", "face_sources", "faces_from_corpus", "faces_from_folder", "finished_ids",
    "generate_dataset", "generator_name", "make_sample_id", "open_manifest", "open_run", "parse_intensity", "plan_jobs",
    "resolve_generator", "sample_seed", "unique_faces",
]
