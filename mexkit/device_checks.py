"""The `--devices` / `--accelerator` values of a command (`mexkit generate`, `mexkit train --trainer.*`) checked
before anything loads: a MexkitInputError naming the option and the fix instead of Lightning's traceback
(an accelerator asked for that this machine lacks, a device count that is not one)."""
from __future__ import annotations

from typing import Any, Sequence

from .errors import MexkitInputError

GPU_ACCELERATORS = ("gpu", "cuda")


def check_accelerator(value: Any, option: str = "--accelerator", known: Sequence[str] | None = None, path: Any = None) -> None:
    """`value` is one of `known` (when given) and, if it asks for a GPU, torch sees a CUDA device. path: the
    config file the value came from (None: the command line)."""
    name = str(value).lower()
    if known is not None and name not in known:
        raise MexkitInputError(path, f"{option} {value!r}: unknown", f"give one of {', '.join(known)}", stage="input")
    if name in GPU_ACCELERATORS:
        import torch

        if not torch.cuda.is_available():
            raise MexkitInputError(path, f"{option} {value}: no GPU is available here (torch sees no CUDA device)",
                                   f"use {option} cpu (or auto, which picks a GPU when there is one)", stage="input")


def check_devices(value: Any, option: str = "--devices", indices: bool = False, path: Any = None) -> None:
    """`value` is a process count ≥ 1 or "auto"; with `indices` also Lightning's other forms: -1 (every device)
    and a list of device indices ("0,1", "[0, 1]", a list)."""
    text = str(value).strip()
    if text == "auto":
        return
    forms = "a whole number ≥ 1 (e.g. 2) or auto" + (", -1 (all) or device indices (0,1)" if indices else "")
    try:
        if isinstance(value, (list, tuple)) or (indices and ("," in text or text.startswith("["))):
            items = value if isinstance(value, (list, tuple)) else [x for x in text.strip("[]").split(",") if x.strip()]
            ok = indices and bool(items) and all(int(str(x).strip()) >= 0 for x in items)
        else:
            n = int(text)
            ok = n >= 1 or (indices and n == -1)
    except ValueError:
        ok = False
    if not ok:
        raise MexkitInputError(path, f"{option} {value!r}: not a process count", f"give {option} as {forms}", stage="input")
