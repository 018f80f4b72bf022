"""Experiment configs (LightningCLI-style YAML), shipped as package data."""
from __future__ import annotations

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent


def list_configs() -> list[str]:
    """Names of the shipped configs (without .yaml)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def config_path(name: str) -> Path:
    """Path of a shipped config by name ("mocogan_demo") or file name; a clear error if unknown."""
    path = CONFIG_DIR / (name if name.endswith(".yaml") else f"{name}.yaml")
    if not path.exists():
        raise FileNotFoundError(f"no shipped config {name!r} in {CONFIG_DIR}; available: {', '.join(list_configs())}")
    return path
