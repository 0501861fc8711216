"""benchmarks/bench_decode.py runs end to end (quick mode) and its ratios are consistent."""

import importlib.util
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_decode.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_decode", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_baselines_and_call_counts():
    bench = _bench()
    setup = bench.Setup(gen_length=16, block_length=8, prompt_length=6, quick=True,
                        logit_scale=4.0, dtypes=("float32",))
    rows = bench.compute_matrix(setup)
    assert len(rows) == 9
    base = next(r for r in rows if r["rule"] == "static" and r["cache"] == "none")
    assert base["calls"] == 16 and base["speed_vs_static_none"] == 1.0
    assert all(r["calls"] == 16 for r in rows if r["rule"] == "static")
    assert all(r["agree_with_none"] == 1.0 for r in rows if r["cache"] == "none")
    table = bench.format_tables(rows, bench.compute_invariance(setup))
    assert "| float32 | frechet 0.25 | dual |" in table
