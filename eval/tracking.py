"""Experiment tracking of an evaluation through Lightning loggers: CSV always, wandb (offline) on request."""
from __future__ import annotations

import os
from pathlib import Path

from mexkit.errors import MexkitInputError

from .suite import EvalResult


def flat_metrics(result: EvalResult) -> dict[str, float]:
    """{"<family>/<metric>/<set>": mean} plus the distribution rows."""
    out = {f"{r.family}/{r.metric}/{r.set}": float(r.mean) for r in result.summary.itertuples(index=False)}
    for r in result.distribution.itertuples(index=False):
        out[f"distribution/{r.metric}"] = float(r.value)
    return out


def log_eval(result: EvalResult, save_dir: str | Path, wandb: bool = False, name: str = "eval", project: str = "mexkit") -> list:
    """Log the run's configuration and summary metrics; returns the loggers used.

    wandb runs offline (WANDB_MODE=offline, no login); sync later with `wandb sync <save_dir>/wandb/...`.
    """
    from lightning.pytorch.loggers import CSVLogger

    loggers = [CSVLogger(str(save_dir), name=name)]
    if wandb:
        try:
            import wandb as _wandb
        except ImportError:
            raise MexkitInputError(None, "wandb logging was requested but wandb is not installed",
                                   "pip install wandb (optional), or drop --wandb", stage="tracking") from None
        from lightning.pytorch.loggers import WandbLogger

        os.environ["WANDB_MODE"] = "offline"
        os.environ.setdefault("WANDB_SILENT", "true")
        loggers.append(WandbLogger(name=name, save_dir=str(save_dir), offline=True, project=project))
    metrics = flat_metrics(result)
    for logger in loggers:
        logger.log_hyperparams(result.config)
        logger.log_metrics(metrics, step=0)
        logger.finalize("success")
    if wandb:
        _wandb.finish()
    return loggers
