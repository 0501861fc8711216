"""Run the report: every section in order under one progress bar, then the figures and
results.md. :func:`run_report` returns the summary (also written to ``<out>/summary.json``).

Outputs: ``<out>/summary.json``, ``<out>/static.parquet`` (the static trace),
``<out>/simulate/`` (study tables), ``<out>/figures/<name>.png`` and ``.json`` (figure
data), ``<out>/results.md``; on the embedded defaults results.md and the PNGs are also
written to ``<docs>/results.md`` and ``<docs>/figures/``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from paradec.experiments import checks, model, replay_checks
from paradec.experiments.options import ReportOptions

__all__ = ["SECTIONS", "run_report", "figures_section", "environment",
           "command_line"]

Section = Callable[[ReportOptions, dict[str, Any]], dict[str, Any]]


def _setup(opts: ReportOptions, ctx: dict[str, Any]) -> dict[str, Any]:
    s = model.load_setup(opts)
    ctx["setup"] = s
    return {"ok": True, "model": s.name, "prompts": len(s.prompts), "shape": s.shape,
            "reference_answers": s.problems is not None,
            "line": f"{s.name}: {len(s.prompts)} prompts, gen length {s.shape['gen_length']}, "
                    f"block {s.shape['block_length']}, {opts.dtype} on {opts.device}"}


#: (key, title, function): the model is loaded first (a bad model or prompt file fails at
#: once), then the model-free checks, the model runs, replay; figures come last.
SECTIONS: list[tuple[str, str, Section]] = [
    ("setup", "model: load", _setup),
    ("worked_example", "theory: worked example (Fast-dLLM++)", checks.worked_example),
    ("ordering", "theory: ordering of certified rules", checks.ordering),
    ("lp", "theory: tight certificate vs LP", checks.lp_agreement),
    ("proofs", "theory: sympy proofs", checks.proofs),
    ("certificates", "simulate: certificates", checks.certificates_study),
    ("frontier", "simulate: frontier", checks.frontier_study),
    ("sweep", "model: static and every rule", model.sweep),
    ("trace", "model: static trace", model.static_trace),
    ("freedave", "model: FreeDave measured vs predicted", model.freedave),
    ("freedave_rules", "model: FreeDave over threshold, Fréchet, tight", model.freedave_rules),
    ("replay", "replay of the static trace", replay_checks.replay_section),
]



def _figure_inputs() -> dict[str, Callable[[dict[str, Any], int], dict[str, Any]]]:
    from paradec.figures import (
        accuracy_vs_speed,
        bonus,
        freedave_vs_K,
        margins_along_profile,
        violations_vs_dependence,
    )

    return {
        "accuracy_vs_speed": lambda c, s: accuracy_vs_speed.compute_accuracy_vs_speed(
            c["sweep_rows"]),
        "freedave_vs_K": lambda c, s: freedave_vs_K.compute_freedave_vs_K(c["freedave_rows"]),
        "bonus": lambda c, s: bonus.compute_bonus(c["trace"]),
        "margins_along_profile": lambda c, s:
            margins_along_profile.compute_margins_along_profile(c["trace"], s),
        "reliability": lambda c, s: c["reliability"],  # computed by the replay section
        "violations_vs_dependence": lambda c, s:
            violations_vs_dependence.compute_violations_vs_dependence(
                c["study:certificates"].rows),
    }


def figures_section(opts: ReportOptions, ctx: dict[str, Any]) -> dict[str, Any]:
    """Compute and draw every figure from the context (no second computation)."""
    import importlib

    from paradec.figures import FIGURES
    from paradec.figures.style import save_json

    inputs = _figure_inputs()
    folder = opts.out_dir / "figures"
    files, summaries = {}, {}
    for name in FIGURES:
        module = importlib.import_module(f"paradec.figures.{name}")
        data = inputs[name](ctx, opts.seed)
        save_json(data, folder / f"{name}.json")
        png = getattr(module, f"plot_{name}")(data, folder / f"{name}.png")
        files[name] = str(png)
        if name == "bonus":
            summaries[name] = {k: data[k] for k in ("delta", "steps", "mean_n")} | {
                "extra_frechet_mean": data["extra_frechet_over_factor"]["mean"],
                "extra_tight_mean": data["extra_tight_over_frechet"]["mean"],
                "heterogeneity_median": data["heterogeneity"]["median"],
                "spread_median": data["spread"]["median"]}
    docs = opts.docs_dir
    if docs is not None:
        from pathlib import Path

        from realmodel.trace.io import write_bytes_atomic

        (docs / "figures").mkdir(parents=True, exist_ok=True)
        for name, png in files.items():
            write_bytes_atomic(docs / "figures" / f"{name}.png", Path(png).read_bytes())
    ctx["figure_summaries"] = summaries
    return {"ok": True, "files": files, "summaries": summaries,
            "line": f"{len(files)} figures in {folder}"
                    + (f" and {docs / 'figures'}" if docs is not None else "")}


def environment(opts: ReportOptions) -> dict[str, Any]:
    """Versions, CPU, threads, device and dtype of this run."""
    import numpy
    import torch

    from paradec import __version__
    from realmodel.machine import describe_cpu

    cpu = describe_cpu()
    device = opts.device
    if device.startswith("cuda") and torch.cuda.is_available():
        device += f" ({torch.cuda.get_device_name(device)})"
    return {"paradec": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu,
            "torch_threads": torch.get_num_threads(), "device": device, "dtype": opts.dtype,
            "seed": opts.seed}


def command_line(opts: ReportOptions) -> str:
    """The ``paradec report`` command that reproduces ``opts`` (non-default options only)."""
    default = ReportOptions()
    parts = ["paradec report"]
    for name in ("model", "device", "dtype", "prompts", "out", "docs", "problems", "seed",
                 "rows", "lp_instances", "n", "sweep", "batch_size", "gen_length",
                 "block_length", "threads", "cache"):
        value = getattr(opts, name)
        if value != getattr(default, name):
            parts.append(f"--{name.replace('_', '-')} {value}")
    return " ".join(parts)


def run_report(opts: ReportOptions, progress: bool = True) -> dict[str, Any]:
    """Run every section, the figures and results.md (see the module docstring)."""
    from tqdm import tqdm

    from paradec.report.markdown import write_results

    opts.out_dir.mkdir(parents=True, exist_ok=True)
    if opts.device == "cpu":
        import torch

        torch.set_num_threads(opts.threads)
    ctx: dict[str, Any] = {}
    summary: dict[str, Any] = {"command": command_line(opts), "environment": environment(opts),
                               "sections": {}}
    steps = [*SECTIONS, ("figures", "figures", figures_section)]
    tic = time.perf_counter()
    bar = tqdm(steps, desc="paradec report", unit="part", file=sys.stderr, disable=not progress)
    for key, title, section in bar:
        bar.set_postfix_str(title)
        t0 = time.perf_counter()
        result = section(opts, ctx)
        result["title"] = title
        result["seconds"] = round(time.perf_counter() - t0, 2)
        summary["sections"][key] = result
    summary["seconds"] = round(time.perf_counter() - tic, 1)
    summary["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    summary["ok"] = all(r["ok"] for r in summary["sections"].values())
    from paradec._json import jsonable

    (opts.out_dir / "summary.json").write_text(
        json.dumps(jsonable(summary), indent=1, default=str) + "\n")
    write_results(summary, opts)
    return summary
