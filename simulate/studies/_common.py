"""What every study shares: worlds drawn from a seed, result tables, provenance, progress.

A study draws, for each value of the dependence dial, ``models`` random chains and
``per_model`` prompts from each (rng streams keyed by seed, study, rho and model index, so
a result does not depend on the order of the loops), decodes them all as one batch (one
chain per row), and returns a
:class:`StudyResult`: a table (one dict per row), the parameters and provenance. Tables are
written as CSV (floats in shortest round-trip form, so equal results give equal bytes)
and JSON with the metadata beside them.
"""

from __future__ import annotations

import csv
import json
import math
import platform
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from simulate.chain import random_chain
from simulate.denoiser import ChainDenoiser
from simulate.stats import Estimate, rate_interval

__all__ = ["StudyResult", "world", "write_result", "provenance", "progress", "split",
           "estimate_columns", "rate_columns"]


@dataclass(frozen=True)
class StudyResult:
    """A study's table and the facts needed to reproduce it.

    Attributes:
        name: the study (``certificates``, ``frontier``, ...).
        rows: one dict per table row; every row has the same keys, in column order.
        params: the study's parameters, seed included.
        checks: named pass/fail facts the study verifies (e.g. zero certified violations).
        meta: provenance (package and library versions, platform).
    """

    name: str
    rows: list[dict[str, Any]]
    params: dict[str, Any]
    checks: dict[str, bool] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(self.checks.values())


def provenance() -> dict[str, Any]:
    """Package and library versions (no clock: equal seeds give equal files)."""
    try:
        pkg = version("paradec")
    except PackageNotFoundError:
        pkg = "0.0.0+source"
    return {"paradec": pkg, "numpy": np.__version__, "python": sys.version.split()[0],
            "platform": platform.platform()}


def split(n: int, models: int) -> tuple[int, int]:
    """(models, per_model) for about n sequences: at most ``models`` chains, >= 1 prompt."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    g = max(1, min(models, n))
    return g, max(1, math.ceil(n / g))


def world(seed: int, salt: int, rho: float, models: int, per_model: int, *, V: int,
          beta: float, prompt_length: int) -> tuple[ChainDenoiser, np.ndarray, np.ndarray]:
    """``models`` random chains at dial ``rho`` and ``per_model`` prompts from each, as one
    batch: (denoiser with one chain per row, prompts (rows, prompt_length), model (rows,)).

    Chain g draws from its own stream keyed by (seed, study ``salt``, rho, g), so it is the
    same whatever the other parameters of the study.
    """
    chains, prompts = [], []
    for g in range(models):
        key = (salt, int(round(rho * 1_000_000)), g)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
        chain = random_chain(V, rho, rng, beta=beta)
        chains.append(chain)
        prompts.append(chain.sample(per_model, prompt_length, rng))
    model = np.repeat(np.arange(models), per_model)
    return ChainDenoiser(chains, model), np.concatenate(prompts), model


def progress(items: Iterable[Any], total: int, desc: str, enabled: bool) -> Iterable[Any]:
    """A tqdm bar on stderr (or the bare iterable when disabled)."""
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False)


def estimate_columns(prefix: str, e: Estimate) -> dict[str, float | int]:
    """``prefix``, ``prefix_se`` columns of an estimate."""
    return {prefix: e.estimate, f"{prefix}_se": e.se}


def rate_columns(prefix: str, e: Estimate) -> dict[str, float | int]:
    """Rate, standard error and 95% Wilson interval (design-effect adjusted) columns."""
    lo, hi = rate_interval(e)
    return {prefix: e.estimate, f"{prefix}_se": e.se, f"{prefix}_ci_low": lo,
            f"{prefix}_ci_high": hi}


def _cell(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def write_result(result: StudyResult, out: str | Path) -> list[Path]:
    """Write ``<out>/<name>.csv`` and ``<out>/<name>.json``; return the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out / f"{result.name}.csv", out / f"{result.name}.json"
    columns = list(result.rows[0]) if result.rows else []
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in result.rows:
            writer.writerow([_cell(row[c]) for c in columns])
    doc = {"study": result.name, "params": result.params, "checks": result.checks,
           "ok": result.ok, "meta": result.meta,
           "rows": [{k: (None if isinstance(v, float) and math.isnan(v) else
                         v.item() if isinstance(v, np.generic) else v)
                     for k, v in row.items()} for row in result.rows]}
    json_path.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    return [csv_path, json_path]
