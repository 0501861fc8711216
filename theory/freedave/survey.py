"""Numbers behind docs/freedave.md and docs/LOG.md, from toy oracles and traces.

Run ``PYTHONPATH=. python -m theory.freedave.survey`` (a few minutes on one core).
Each ``compute_*`` function is pure (inputs: sizes and a seed) and returns plain data;
``main`` prints markdown tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from theory.freedave import static_decode
from theory.freedave.core import Blocks, DraftTree, FreeDave, Oracle
from theory.freedave.optimal import brute_force_calls, consistency_hypotheses, optimal_calls
from theory.freedave.toys import ConsistentOracle, HashOracle, random_trace
from theory.freedave.trace import predicted_calls

__all__ = ["compute_speedups", "compute_class_gaps", "compute_off_path_gaps"]

ORACLES: dict[str, Callable[[int], Oracle]] = {
    "consistent noise=0": lambda s: ConsistentOracle(8, s, 0.0, 0.0),
    "consistent noise=0.1": lambda s: ConsistentOracle(8, s, 0.1, 0.0),
    "consistent noise=0.5 flip=0.05": lambda s: ConsistentOracle(8, s, 0.5, 0.05),
    "consistent noise=2": lambda s: ConsistentOracle(8, s, 2.0, 0.0),
    "hash (reshuffles)": lambda s: HashOracle(8, s),
}


def compute_speedups(n: int = 20, L: int = 32, block: int = 8,
                     Ks: tuple[int, ...] = (1, 2, 4, 8), seed: int = 0) -> list[dict[str, Any]]:
    """Mean static calls / FreeDave calls and mean states per token, per oracle and K.

    n fully masked sequences of length L, LLaDA blocks of ``block``, one oracle.
    Calls come from the trace DP (equal to the run; see the tests).
    """
    rows = []
    for name, make in ORACLES.items():
        traces = [static_decode(make(seed + i), np.full((1, L), -1), mask_id=-1,
                                blocks=Blocks.uniform(0, block, L)).traces[0]
                  for i in range(n)]
        for K in Ks:
            for tree in ("chain", "runner_up"):
                counts = [predicted_calls(t, FreeDave(K, DraftTree(tree))) for t in traces]
                rows.append({"oracle": name, "K": K, "tree": tree,
                             "speedup": float(np.mean([L / c.calls for c in counts])),
                             "states_per_token": float(np.mean([c.states / L for c in counts]))})
    return rows


def compute_class_gaps(n: int = 300, max_T: int = 8, Ks: tuple[int, ...] = (2, 3, 4),
                       seed: int = 0) -> list[dict[str, Any]]:
    """How often each wider class beats the narrower one on random traces.

    Columns: FreeDave > OPT_N (greedy acceptance loses), OPT_N > OPT_S (memory wins),
    OPT_S > OPT_P (unverified sources win), and FreeDave != OPT_S among traces where
    H1 and H2 hold (the theorem says never).
    """
    rng = np.random.default_rng(seed)
    out = []
    for consistent in (False, True):
        traces = []
        for _ in range(n):
            sizes = tuple(int(v) for v in rng.integers(1, max_T // 2 + 1, rng.integers(1, 3)))
            traces.append(random_trace(rng, sizes, consistent=consistent))
        for K in Ks:
            c: dict[str, Any] = {"consistent": consistent, "K": K, "n": n, "greedy_loses": 0,
                                 "memory_wins": 0, "unverified_wins": 0, "h1h2": 0,
                                 "theorem_fails": 0}
            for t in traces:
                fd = predicted_calls(t, FreeDave(K)).calls
                on, os_ = optimal_calls(t, K, memory=False), optimal_calls(t, K)
                op = optimal_calls(t, K, sources="path")
                c["greedy_loses"] += fd > on
                c["memory_wins"] += on > os_
                c["unverified_wins"] += os_ > op
                if consistency_hypotheses(t) == (True, True):
                    c["h1h2"] += 1
                    c["theorem_fails"] += fd != os_
            out.append(c)
    return out


def compute_off_path_gaps(n: int = 30, seed: int = 0) -> list[dict[str, Any]]:
    """Brute force on tiny oracles (L <= 4, V = 3, K = 2): D_K (any source) vs P_K."""
    out = []
    for drafts in ("prefix", "subset"):
        c: dict[str, Any] = {"drafts": drafts, "n": n, "any_beats_path": 0,
                             "path_beats_verified": 0}
        for i in range(n):
            oracle = (HashOracle(3, seed + i, 4.0) if i % 2 else
                      ConsistentOracle(3, seed + i, 0.5, 0.1))
            x0 = np.full((1, 4), -1)
            trace = static_decode(oracle, x0, mask_id=-1).traces[0]
            d = brute_force_calls(oracle, x0, mask_id=-1, K=2, drafts=drafts, sources="any")
            p = optimal_calls(trace, 2, drafts=drafts, sources="path")
            c["any_beats_path"] += d < p
            c["path_beats_verified"] += p < optimal_calls(trace, 2, drafts=drafts)
        out.append(c)
    return out


def _table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    fmt = [f"{v:.2f}" if isinstance(v, float) else str(v) for r in rows for v in r.values()]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt[i:i + len(keys)]) + " |"
              for i in range(0, len(fmt), len(keys))]
    return "\n".join(lines)


def main() -> None:
    print("## Speedup (static calls / FreeDave calls), L=32, blocks of 8, 20 sequences\n")
    print(_table(compute_speedups()))
    print("\n## Class gaps on random traces (counts out of n)\n")
    print(_table(compute_class_gaps()))
    print("\n## Off-path sources, brute force on tiny oracles (counts out of n)\n")
    print(_table(compute_off_path_gaps()))


if __name__ == "__main__":
    main()
