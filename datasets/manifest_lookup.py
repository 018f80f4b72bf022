"""Which manifest row describes a clip on disk: for a path given on the command line (a driving clip),
find the dataset's manifest above it and the row whose `path` is that file or folder."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

MANIFEST_NAMES = ("manifest.csv", "manifest.parquet")


def find_manifest_row(clip_path: str | Path, max_up: int = 4) -> tuple[Path, dict] | None:
    """(manifest path, row as a dict) of the first manifest in the clip's folder or up to `max_up`
    folders above it that lists the clip (its `path` relative to the manifest's folder), else None."""
    target = Path(clip_path).resolve()
    folder = target.parent
    for _ in range(max_up + 1):
        for name in MANIFEST_NAMES:
            manifest = folder / name
            if manifest.is_file():
                try:
                    table = pd.read_parquet(manifest) if manifest.suffix == ".parquet" else pd.read_csv(manifest, keep_default_na=False)
                except (OSError, ValueError):
                    continue
                if "path" not in table.columns:
                    continue
                for row in table.to_dict("records"):
                    if str(row["path"]) and (folder / str(row["path"])).resolve() == target:
                        return manifest, row
        if folder.parent == folder:
            break
        folder = folder.parent
    return None
