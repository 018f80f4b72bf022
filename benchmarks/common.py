"""Shared benchmark helpers: this CPU's measured throughput (the in-run reference) and table output.

Every benchmark prints its rows with `emit`, so `benchmarks/run` can gather them into one table:
one `BENCH {json}` line per row (name, value, unit, target, reference, ratio) after a readable table.
"""
from __future__ import annotations

import json
import time

import torch


def timeit(fn, repeat: int = 5, warmup: int = 1) -> float:
    """Best-of-`repeat` seconds per call."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def cpu_probe(threads: int | None = None) -> dict[str, float]:
    """GFLOP/s of an fp32 2048² matmul and a 3×3, 64-channel conv on this CPU, measured now."""
    if threads:
        torch.set_num_threads(threads)
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    t_mm = timeit(lambda: a @ b, repeat=3)
    x, w = torch.randn(8, 64, 64, 64), torch.randn(64, 64, 3, 3)
    t_conv = timeit(lambda: torch.nn.functional.conv2d(x, w, padding=1), repeat=3)
    return {"matmul_gflops": 2 * 2048**3 / t_mm / 1e9, "conv_gflops": 2 * 8 * 64 * 64 * 64 * 64 * 9 / t_conv / 1e9}


def emit(rows: list[dict]) -> None:
    """Print rows as a table and as machine-readable BENCH lines.

    Row keys: name, value, unit, and optionally target (same unit), reference (a figure measured in the
    same run, same unit) and note. ratio = value / reference when a reference is given.
    """
    for r in rows:
        if r.get("reference"):
            r["ratio"] = r["value"] / r["reference"]
    w = max(len(r["name"]) for r in rows)
    print(f"{'benchmark':<{w}}  {'value':>10}  {'unit':<10} {'target':>8}  {'reference':>10}  {'ratio':>6}  note")
    for r in rows:
        tgt = f"{r['target']:.3g}" if r.get("target") is not None else ""
        ref = f"{r['reference']:.3g}" if r.get("reference") else ""
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") else ""
        print(f"{r['name']:<{w}}  {r['value']:>10.4g}  {r['unit']:<10} {tgt:>8}  {ref:>10}  {ratio:>6}  {r.get('note', '')}")
    for r in rows:
        print("BENCH " + json.dumps(r))
