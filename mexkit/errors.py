"""Errors that name the file or value at fault and say how to fix it."""
from __future__ import annotations

from pathlib import Path


class MexkitInputError(ValueError):
    """Bad user input: carries the offending path, the processing stage, the reason and a fix."""

    def __init__(self, path: str | Path | None, reason: str, fix: str = "", stage: str = "input"):
        self.path = str(path) if path is not None else ""
        self.reason = reason
        self.fix = fix
        self.stage = stage
        where = f"{self.path}: " if self.path else ""
        hint = f" Fix: {fix}" if fix else ""
        super().__init__(f"{where}{reason}.{hint}")


class NoFaceError(MexkitInputError):
    """No face was found where one is required."""

    def __init__(self, path: str | Path | None, detail: str = ""):
        super().__init__(
            path,
            "no face found" + (f" ({detail})" if detail else ""),
            "use an image or clip that shows one frontal face, well lit and at least ~64 px across",
            stage="detect",
        )


class MissingWeightsError(FileNotFoundError):
    """Model weights that cannot be shipped or downloaded here are missing."""

    def __init__(self, what: str, expected: str, how: str):
        super().__init__(f"{what} weights not found (looked for {expected}). {how}")
