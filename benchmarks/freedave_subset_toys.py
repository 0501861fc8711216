"""FreeDave over a rule on toy oracles: calls of the rule, of exact and of subset
acceptance (FreeDave++), and how much of subset acceptance's output equals the rule's.

    PYTHONPATH=. python benchmarks/freedave_subset_toys.py

Toy oracles from theory.freedave.toys, 8 rows of 3 blocks of 8, K = 4, nested drafts.
"""

from __future__ import annotations

import numpy as np

from theory import make_rule
from theory.freedave import freedave_decode, rule_decode
from theory.freedave.core import Blocks, FreeDave
from theory.freedave.toys import ConsistentOracle, HashOracle


def main() -> None:
    x0, blocks = np.full((8, 24), -1), Blocks((0, 8, 16))
    print("| rule | oracle | calls: rule | exact | subset | subset tokens = rule's |")
    print("|---|---|---:|---:|---:|---:|")
    for rule in (make_rule("threshold", 0.7), make_rule("frechet", 0.0),
                 make_rule("tight", 0.0)):
        for oracle in (ConsistentOracle(V=3, seed=1, noise=1.0),
                       HashOracle(V=3, seed=2, scale=3.0)):
            plain = rule_decode(oracle, x0, mask_id=-1, blocks=blocks, rule=rule)
            runs = [freedave_decode(oracle, x0, mask_id=-1, blocks=blocks,
                                    config=FreeDave(4, rule=rule, accept=a))
                    for a in ("exact", "subset")]
            assert np.array_equal(runs[0].x, plain.x)
            print(f"| {rule.label()} | {oracle!r} | {sum(plain.row_calls)} | "
                  f"{sum(runs[0].row_calls)} | {sum(runs[1].row_calls)} | "
                  f"{float((runs[1].x == plain.x).mean()):.3f} |")


if __name__ == "__main__":
    main()
