"""`benchmarks/run`: one table from every script's BENCH rows; a script that emits none fails the run."""
import json
import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[1] / "benchmarks" / "run"
BENCH_DIR = RUNNER.parent

EMITS = f"""
import sys
sys.path.insert(0, {str(BENCH_DIR)!r})
from common import emit
emit([{{"name": "toy: sum of squares", "value": float(sum(i * i for i in range(1000))), "unit": "n/a", "target": 1.0,
        "reference": 2.0, "note": "made up"}}])
"""
PRINTS_ONLY = 'print("benchmark   value\\nsomething   12.5 clips/s")\n'


def _run(*args, timeout=600):
    return subprocess.run([sys.executable, str(RUNNER), *args], capture_output=True, text=True, timeout=timeout)


def test_script_without_rows_fails_the_run_and_is_named(tmp_path):
    (tmp_path / "bench_good.py").write_text(EMITS)
    (tmp_path / "bench_silent.py").write_text(PRINTS_ONLY)
    proc = _run("--dir", str(tmp_path), "--logs", str(tmp_path / "logs"))
    assert proc.returncode != 0
    failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED:")]
    assert len(failed) == 1 and "bench_silent.py" in failed[0] and "0 rows" in failed[0]
    rows = json.loads((tmp_path / "logs" / "table.json").read_text())
    assert [(r["script"], r["name"]) for r in rows] == [("bench_good", "toy: sum of squares")]
    assert rows[0]["value"] == float(sum(i * i for i in range(1000))) and rows[0]["ratio"] == rows[0]["value"] / 2.0


def test_only_rows_passes(tmp_path):
    (tmp_path / "bench_good.py").write_text(EMITS)
    proc = _run("--dir", str(tmp_path), "--logs", str(tmp_path / "logs"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "toy: sum of squares" in proc.stdout and "FAILED" not in proc.stdout


def test_empty_folder_is_an_error(tmp_path):
    proc = _run("--dir", str(tmp_path))
    assert proc.returncode != 0 and "no bench_*.py script" in proc.stderr


def test_quick_run_of_a_real_benchmark_returns_its_rows(tmp_path):
    """The cheapest real benchmark (bench_prepare at MEXKIT_BENCH_QUICK=1 sizes), for real."""
    proc = _run("--quick", "--logs", str(tmp_path), "bench_prepare")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads((tmp_path / "table.json").read_text())
    assert rows and all(r["script"] == "bench_prepare" for r in rows)
    by_name = {r["name"]: r for r in rows}
    compute = next(r for n, r in by_name.items() if n.startswith("prepare: prepare compute, dis"))
    assert compute["unit"] == "clips/s" and compute["value"] > 0 and compute["target"] == 25.0
    assert "4 clips × 30 frames" in (tmp_path / "bench_prepare.log").read_text()  # --quick reached the script
