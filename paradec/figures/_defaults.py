"""Embedded default inputs for running one figure module alone, and its command line.

``python -m paradec.figures.<name> [--out DIR] [--problems N] [--seed S]`` computes the
inputs the report would (the shipped model tiny-arith on the first N held-out problems:
the static trace, the rule sweep, FreeDave runs; or the simulate certificates study),
then calls the module's ``compute_<name>`` and ``plot_<name>`` and writes
``<out>/<name>.png`` and ``<out>/<name>.json``. The default ``--out`` is runs/figures
(``--out docs/figures`` replaces the published figure).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paradec.figures.style import save_json

__all__ = ["report_context", "main"]


def report_context(inputs: tuple[str, ...], problems: int, seed: int,
                   out: Path) -> dict[str, Any]:
    """Run the report sections that produce ``inputs`` (keys of the report's context:
    ``trace``, ``sweep_rows``, ``freedave_rows``, ``study:certificates``)."""
    from paradec.experiments import ReportOptions, checks, model

    opts = ReportOptions(problems=problems, seed=seed, out=str(out / "_inputs"),
                         sweep="full" if "sweep_rows" in inputs else "tiny")
    ctx: dict[str, Any] = {}
    if "study:certificates" in inputs:
        checks.certificates_study(opts, ctx)
    needs_model = {"trace", "sweep_rows", "freedave_rows"} & set(inputs)
    if needs_model:
        ctx["setup"] = model.load_setup(opts)
        model.sweep(opts, ctx)
        model.static_trace(opts, ctx)
        if "freedave_rows" in inputs:
            model.freedave(opts, ctx)
    return ctx


def main(name: str, inputs: tuple[str, ...],
         compute: Callable[[dict[str, Any], int], dict[str, Any]],
         plot: Callable[[dict[str, Any], Path], Any], argv: list[str] | None = None) -> int:
    """The command line of one figure module (see the module docstring)."""
    p = argparse.ArgumentParser(prog=f"python -m paradec.figures.{name}",
                                description=f"draw {name}.png on the embedded defaults")
    p.add_argument("--out", default="runs/figures", help="output folder (default %(default)s)")
    p.add_argument("--problems", type=int, default=200, help="held-out problems decoded")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    out = Path(args.out)
    ctx = report_context(inputs, args.problems, args.seed, out)
    data = compute(ctx, args.seed)
    save_json(data, out / f"{name}.json")
    plot(data, out / f"{name}.png")
    print(f"wrote {out / (name + '.png')} and {out / (name + '.json')}")
    return 0
