"""Counts the inputs the fuzz tests try.

Every hypothesis test under tests/fuzz has its inner test wrapped by a counter, so each
call (generated examples, explicit ``@example`` cases, shrink attempts) counts as one
input tried. At the end of the session the counts per test and their total are printed
and written to ``runs/fuzz/counts.json`` (with pytest-xdist, each worker writes its own
part and the controller adds them up).
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

OUT = Path("runs") / "fuzz"
COUNTS: Counter[str] = Counter()


def _counted(nodeid: str, inner: Any) -> Any:
    @functools.wraps(inner)
    def run(*args: Any, **kwargs: Any) -> Any:
        COUNTS[nodeid] += 1
        return inner(*args, **kwargs)

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is None or here not in Path(str(item.fspath)).parents:
            continue
        handle.inner_test = _counted(item.nodeid, handle.inner_test)


def _worker(config: pytest.Config) -> str | None:
    info = getattr(config, "workerinput", None)
    return None if info is None else str(info["workerid"])


def pytest_sessionstart(session: pytest.Session) -> None:
    if _worker(session.config) is None:  # the controller (or a run without xdist)
        for part in OUT.glob("part-*.json") if OUT.is_dir() else ():
            part.unlink()


def pytest_sessionfinish(session: pytest.Session) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    worker = _worker(session.config)
    if worker is not None:
        (OUT / f"part-{worker}.json").write_text(json.dumps(dict(COUNTS)))
        return
    total: Counter[str] = Counter(COUNTS)
    for part in OUT.glob("part-*.json"):
        total.update(json.loads(part.read_text()))
        part.unlink()
    if not total:
        return
    profile = os.environ.get("HYPOTHESIS_PROFILE", "dev")
    summary = {"profile": profile, "max_examples": settings.default.max_examples,
               "tests": len(total), "inputs": sum(total.values()),
               "per_test": dict(sorted(total.items()))}
    (OUT / "counts.json").write_text(json.dumps(summary, indent=2) + "\n")
    session.config._fuzz_summary = summary  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = getattr(config, "_fuzz_summary", None)
    if summary:
        terminalreporter.write_line(
            f"fuzz: {summary['inputs']} inputs tried by {summary['tests']} hypothesis tests "
            f"(profile {summary['profile']}); counts in {OUT / 'counts.json'}")
