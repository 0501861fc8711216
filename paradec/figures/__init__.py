"""paradec's documentation figures: one module per figure, one style.

Each module has a pure ``compute_<name>(inputs) -> dict`` (JSON-ready after
``style.jsonable``; inputs explicit: a trace, the report's sweep or FreeDave rows, a
simulate study's rows, a seed) and ``plot_<name>(data, path)``; ``python -m
paradec.figures.<name> [--out DIR]`` runs it alone on the embedded defaults. The report
(``paradec report``) calls the same functions on the data it computed. :data:`FIGURES`
lists the names (the PNG files in docs/figures/).
"""

from __future__ import annotations

__all__ = ["FIGURES"]

#: figure names, in the order results.md shows them.
FIGURES = ("accuracy_vs_speed", "freedave_vs_K", "bonus", "margins_along_profile",
           "reliability", "violations_vs_dependence")
