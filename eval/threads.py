"""Run tiny torch workloads on one thread: intra-op threads gain nothing on 64×64 inputs and, on a
busy machine, spin-waiting OpenMP workers make each small op 10–100× slower."""
from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    n = torch.get_num_threads()
    if n == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)
