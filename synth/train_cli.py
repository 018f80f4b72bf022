"""`mexkit train --config configs/X.yaml [--trainer.max_steps N ...]`: LightningCLI for every trainable part.

The model and the data are given by `class_path` in the YAML (subclass mode), so the MoCoGAN-style GAN,
the flow-diffusion module or a recognizer all train through this one entry point. Without a
sub-command `fit` is run; `validate`, `test` and `predict` may be given first
(`mexkit train validate --config X --ckpt_path Y`). Resume: `--ckpt_path runs/.../last.ckpt`.
`--config` takes a path or a shipped config's name (`mexkit.configs.config_path`: `--config mocogan_tiny`);
`--print_config` is LightningCLI's.
Logging: CSV by default (under runs/); `--wandb` adds wandb beside the configured logger, offline unless
WANDB_MODE is set (no login needed): the run lands in `<logger save_dir>/wandb/` with the same metrics,
the sample GIFs the model logs and, after fitting, the CSV logger's metrics.csv as a table.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

SUBCOMMANDS = ("fit", "validate", "test", "predict")

TRAINER_DEFAULTS = {
    "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": "runs", "name": "train"}},
    "accelerator": "cpu",
}


def build_cli_args(argv: list[str]) -> list[str]:
    """mexkit-style arguments → LightningCLI arguments (implicit `fit`; `--wandb` is taken out, see `wants_wandb`)."""
    argv = [a for a in argv if a != "--wandb"]
    if not argv or argv[0] not in SUBCOMMANDS:
        argv = ["fit", *argv] if argv != ["--help"] and argv != ["-h"] else argv
    return _shipped_config_paths(argv)


def wants_wandb(argv: list[str]) -> bool:
    """Whether `mexkit train` was asked for wandb (`--wandb`, anywhere among the arguments)."""
    return "--wandb" in argv


def _looks_like_file(value: str) -> bool:
    """A --config value meant as a file name (not an inline YAML/JSON string, which LightningCLI also takes)."""
    return not any(c in value for c in "\n{}[]:")


def _check_yaml(path: Path) -> None:
    """A config file that is not YAML, or not a mapping of sections: a MexkitInputError naming the file and line."""
    import yaml

    from mexkit.errors import MexkitInputError

    fix = "fix the YAML (see the shipped configs in mexkit/configs for the layout)"
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise MexkitInputError(path, f"--config: not valid YAML ({getattr(err, 'problem', None) or 'syntax error'}{where})", fix,
                               stage="config") from None
    except (OSError, UnicodeDecodeError) as err:
        raise MexkitInputError(path, f"--config: cannot be read ({type(err).__name__})", "give a YAML text file", stage="config") from None
    if data is not None and not isinstance(data, dict):
        raise MexkitInputError(path, f"--config: a YAML {type(data).__name__}, not a mapping of sections (model:, data:, trainer:)", fix,
                               stage="config")
    _check_data_sources(path, (data or {}).get("data"))


def _check_data_sources(path: Path, data) -> None:
    """The clip sources of a VideoDataModule `data:` section (`check_source`: known keys, an existing faces folder),
    before LightningCLI builds anything: a MexkitInputError naming the config file and the source."""
    from mexkit.errors import MexkitInputError

    if not isinstance(data, dict) or not str(data.get("class_path", "")).endswith("VideoDataModule"):
        return
    from .video_datamodule import check_source

    sources = (data.get("init_args") or {}).get("sources") or []
    for i, spec in enumerate(sources if isinstance(sources, list) else [sources]):
        try:
            check_source(spec)
        except MexkitInputError as err:
            where = f"data.init_args.sources[{i}]"
            if err.path:  # a faces folder: name it and the config line it came from
                raise MexkitInputError(err.path, f"{err.reason} ({where} in {path})", err.fix, stage=err.stage) from None
            raise MexkitInputError(path, f"{where}: {err.reason}", err.fix, stage=err.stage) from None


def check_configs(argv: list[str]) -> None:
    """Every `--config` file of translated arguments exists and is a YAML mapping, before LightningCLI
    starts (a MexkitInputError naming the file otherwise); inline YAML strings are left to LightningCLI."""
    from mexkit.errors import MexkitInputError

    values = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--config"] + [a[len("--config="):] for a in argv if a.startswith("--config=")]
    for value in values:
        if Path(value).is_file():
            _check_yaml(Path(value))
        elif _looks_like_file(value):
            from mexkit.configs import config_path

            config_path(value)  # raises, naming the shipped configs
            raise MexkitInputError(value, "--config: not a file", "pass a YAML file or the name of a shipped config", stage="config")


def _trainer_value(argv: list[str], key: str) -> tuple[str, object, str | None] | None:
    """(option, value, config file or None) of `trainer.<key>` as LightningCLI will see it: the last
    `--trainer.<key> V` / `=V` on the command line, else the last `--config` file's `trainer:` section; None
    when neither gives it."""
    import yaml

    found, i = None, 0
    while i < len(argv):
        a, nxt = argv[i], argv[i + 1] if i + 1 < len(argv) else None
        if a in ("--config", f"--trainer.{key}") and nxt is not None or a.startswith(("--config=", f"--trainer.{key}=")):
            name, value = (a, nxt) if "=" not in a else a.split("=", 1)
            i += 1 if "=" in a else 2
            if name == "--config":
                try:
                    trainer = (yaml.safe_load(Path(value).read_text()) or {}).get("trainer") or {} if Path(value).is_file() else {}
                except (OSError, yaml.YAMLError, AttributeError):
                    trainer = {}
                if isinstance(trainer, dict) and key in trainer:
                    found = (f"trainer.{key}", trainer[key], value)
            else:
                found = (name, value, None)
            continue
        i += 1
    return found


def check_trainer_args(argv: list[str]) -> None:
    """trainer.accelerator and trainer.devices (command line or config) checked before LightningCLI starts
    (mexkit/device_checks.py, as `mexkit generate` checks its own): a GPU asked for where torch sees none, a
    device count that is not one — exit 2 naming the option, not Lightning's traceback."""
    from lightning.pytorch.accelerators import AcceleratorRegistry

    from mexkit.device_checks import check_accelerator, check_devices

    accelerator = _trainer_value(argv, "accelerator")
    if accelerator is not None and isinstance(accelerator[1], str) and "." not in accelerator[1]:  # a class path is Lightning's to check
        option, value, path = accelerator
        check_accelerator(value, option, known=("auto", "gpu", *sorted(AcceleratorRegistry.available_accelerators())), path=path)
    devices = _trainer_value(argv, "devices")
    if devices is not None:
        option, value, path = devices
        check_devices(value, option, indices=True, path=path)


def _shipped_config_paths(argv: list[str]) -> list[str]:
    """`--config NAME` → the shipped config's path (`config_path`, the one lookup); other values unchanged
    (`check_configs` reports a missing or broken file)."""
    from mexkit.configs import config_path
    from mexkit.errors import MexkitInputError

    def find(value: str) -> str:
        try:
            return str(config_path(value))
        except MexkitInputError:
            return value

    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a == "--config" and i + 1 < len(argv):
            out += [a, find(argv[i + 1])]
            i += 2
            continue
        out.append(f"--config={find(a[len('--config='):])}" if a.startswith("--config=") else a)
        i += 1
    return out


def _cli_kwargs() -> dict:
    """What `mexkit train` gives LightningCLI: any LightningModule / LightningDataModule by class_path."""
    import lightning as L

    return {"model_class": L.LightningModule, "datamodule_class": L.LightningDataModule, "subclass_mode_model": True,
            "subclass_mode_data": True, "trainer_defaults": TRAINER_DEFAULTS, "seed_everything_default": 0}


def add_wandb_logger(trainer, project: str = "mexkit"):
    """Add an offline-by-default WandbLogger beside the trainer's loggers (none if one is there already);
    its run goes to `<first logger's save_dir>/wandb/` (or the trainer's default_root_dir), named as that
    logger. Returns the WandbLogger."""
    from lightning.pytorch.loggers import WandbLogger

    from mexkit.tracking import init_kwargs

    present = [lg for lg in trainer.loggers if isinstance(lg, WandbLogger)]
    if present:
        return present[0]
    first = trainer.loggers[0] if trainer.loggers else None
    save_dir = (getattr(first, "save_dir", None) if first is not None else None) or trainer.default_root_dir
    name = getattr(first, "name", None) if first is not None else None
    kwargs = init_kwargs(save_dir)  # an absolute folder and the mode, offline unless WANDB_MODE is set
    logger = WandbLogger(name=name or "train", save_dir=kwargs.pop("dir"), project=project, job_type="train", **kwargs)
    trainer.loggers = [*trainer.loggers, logger]
    return logger


def finish_wandb(trainer) -> None:
    """After a run: the CSV logger's metrics.csv as a wandb table (rank 0), then close the wandb run."""
    from lightning.pytorch.loggers import CSVLogger, WandbLogger

    wandb_loggers = [lg for lg in trainer.loggers if isinstance(lg, WandbLogger)]
    if not wandb_loggers or not trainer.is_global_zero:
        return
    from mexkit import tracking

    run = wandb_loggers[0].experiment
    try:
        for lg in trainer.loggers:
            metrics = Path(lg.log_dir) / "metrics.csv" if isinstance(lg, CSVLogger) else None
            if metrics is not None and metrics.is_file():
                import pandas as pd

                tracking.log_tables(run, {"metrics": pd.read_csv(metrics)}, prefix="train/")
                break
    finally:
        tracking.finish_run(run)


def run_lightning_cli(argv: list[str], run: bool = True, wandb: bool = False):
    """Run LightningCLI on already-translated arguments; returns the LightningCLI object.

    run=False only builds model, datamodule and trainer (then `argv` has no sub-command).
    wandb=True adds a WandbLogger beside the configured loggers (`add_wandb_logger`) and, when the
    sub-command has run, logs metrics.csv as a table and finishes the wandb run (`finish_wandb`).
    """
    from lightning.pytorch.cli import LightningCLI

    if wandb or any(a.startswith("--trainer.logger=lightning.pytorch.loggers.WandbLogger") for a in argv):
        from mexkit.tracking import offline_by_default

        offline_by_default()

    class _CLI(LightningCLI):
        def instantiate_trainer(self, **kwargs):
            trainer = super().instantiate_trainer(**kwargs)
            if wandb:
                add_wandb_logger(trainer)
            return trainer

    # sys.argv stays as it is: DDP re-launches this very command line for the other ranks.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*args parameter is intended to run from within Python.*")
        cli = _CLI(
            **_cli_kwargs(),
            save_config_kwargs={"overwrite": True},
            args=argv,
            run=run,
        )
    if wandb and run:
        finish_wandb(cli.trainer)
    return cli


def parse_train_config(name: str):
    """Read a training config (path or shipped name) with LightningCLI's parser and the one loader
    (`mexkit.configs.read_config`), without building anything or seeding: the parsed Namespace.
    A bad key or type raises a MexkitInputError naming the file."""
    from lightning.pytorch.cli import LightningCLI

    from mexkit.configs import read_config

    class _ParseOnly(LightningCLI):
        def parse_arguments(self, parser, args) -> None:
            self.config = read_config(parser, name)

        def _set_seed(self) -> None:  # parse only: the global RNG is left as it is
            pass

        def instantiate_classes(self) -> None:  # parse only: nothing is built
            pass

    cli = _ParseOnly(**_cli_kwargs(), parser_kwargs={"exit_on_error": False}, run=False, load_from_checkpoint_support=False)
    return cli.config


def main(argv: list[str] | None = None) -> int:
    """Entry point for `mexkit train ...` (and `python -m mexkit.synth.train_cli ...`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    cli_args = build_cli_args(argv)
    check_configs(cli_args)
    check_trainer_args(cli_args)
    run_lightning_cli(cli_args, wandb=wants_wandb(argv))
    return 0


def _run(args: argparse.Namespace) -> int:
    return main(args.lightning_args)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `mexkit train`: everything after `train` goes to LightningCLI unchanged."""
    p = subparsers.add_parser(
        "train", help="train a model from a YAML config (LightningCLI: --config configs/X.yaml, --trainer.*, --model.*)",
        description=__doc__, add_help=False, prefix_chars="+", formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("lightning_args", nargs=argparse.REMAINDER, help="LightningCLI arguments, e.g. --config configs/mocogan_demo.yaml")
    p.set_defaults(func=_run)


if __name__ == "__main__":
    sys.exit(main())
