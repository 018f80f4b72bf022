"""Experiment tracking of an evaluation through Lightning loggers: CSV always, wandb (offline) on request.

With wandb the run also holds the metric tables (summary, distribution, one per family, timings), the
example clips as GIFs and the HTML report as an artifact (`mexkit.tracking` has the shared helpers)."""
from __future__ import annotations

from pathlib import Path

from mexkit import tracking

from .suite import EvalResult


def flat_metrics(result: EvalResult) -> dict[str, float]:
    """{"<family>/<metric>/<set>": mean} plus the distribution rows."""
    out = {f"{r.family}/{r.metric}/{r.set}": float(r.mean) for r in result.summary.itertuples(index=False)}
    for r in result.distribution.itertuples(index=False):
        out[f"distribution/{r.metric}"] = float(r.value)
    return out


def eval_tables(result: EvalResult) -> dict:
    """The tables an evaluation writes as CSVs, by name."""
    tables = {"summary": result.summary, "distribution": result.distribution, **result.tables, "timings": result.timings}
    if result.confusion is not None:
        tables["cas_confusion"] = result.confusion
    if not result.video_distances.empty:
        tables["fvd_fid"] = result.video_distances
    return tables


def example_gifs(result: EvalResult) -> list[tuple[str, object, float, str]]:
    """(name, frames, fps, caption) of the report's example clips."""
    out, count = [], {}
    for e in result.examples:
        i = count[e["set"]] = count.get(e["set"], -1) + 1
        out.append((f"{e['set']}_{i}", e["frames"], float(e["fps"] or 25.0), f"{e['set']}: {e['sample_id']} ({e['label'] or 'unlabelled'})"))
    return out


def log_eval(result: EvalResult, save_dir: str | Path, wandb: bool = False, name: str = "eval", project: str = "mexkit",
             report: str | Path | None = None) -> list:
    """Log the run's configuration and summary metrics; returns the loggers used.

    wandb runs offline unless WANDB_MODE says otherwise (never a login) and writes under
    `<save_dir>/wandb/`; sync later with `wandb sync <save_dir>/wandb/offline-run-...`. It also gets the
    tables, the example GIFs and `report` (the HTML file) as an artifact.
    """
    from lightning.pytorch.loggers import CSVLogger

    loggers = [CSVLogger(str(save_dir), name=name)]
    run = None
    if wandb:
        from lightning.pytorch.loggers import WandbLogger

        run = tracking.start_run(save_dir, name, job_type="eval", project=project)
        loggers.append(WandbLogger(name=name, save_dir=str(save_dir), project=project, experiment=run))
    metrics = flat_metrics(result)
    try:
        for logger in loggers:
            logger.log_hyperparams(result.config)
            logger.log_metrics(metrics, step=0)
            logger.finalize("success")
        if run is not None:
            tracking.log_tables(run, eval_tables(result))
            tracking.log_gifs(run, example_gifs(result))
            if report is not None and Path(report).is_file():
                tracking.log_files_artifact(run, [report], f"{name}-report", "report", description="mexkit eval HTML report")
    finally:
        if run is not None:
            tracking.finish_run(run)
    return loggers
