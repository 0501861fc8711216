"""Monte Carlo studies of the commit rules on worlds with known truth.

Each study is a function ``study(n, seed, ..., show_progress) -> StudyResult``; ``n`` is the
number of sequences (or decodes) per configuration and scales the work linearly. The
defaults run in under a minute on two cores. :data:`STUDIES` maps names to functions and
:data:`HEADLINE` names the columns worth printing.
"""

from __future__ import annotations

from collections.abc import Callable

from simulate.studies._common import StudyResult, write_result
from simulate.studies.bonus import bonus
from simulate.studies.certificates import certificates
from simulate.studies.conservatism import conservatism
from simulate.studies.freedave_subset import freedave_subset
from simulate.studies.frontier import frontier

__all__ = ["STUDIES", "HEADLINE", "StudyResult", "write_result", "certificates", "frontier",
           "bonus", "conservatism", "freedave_subset", "format_table"]

STUDIES: dict[str, Callable[..., StudyResult]] = {
    "certificates": certificates, "frontier": frontier, "bonus": bonus,
    "conservatism": conservatism, "freedave_subset": freedave_subset}

HEADLINE: dict[str, tuple[str, ...]] = {
    "certificates": ("rho", "label", "certified", "multi_commits", "violations",
                     "violation_rate", "violation_rate_ci_high", "tokens_per_call"),
    "frontier": ("rho", "label", "tokens_per_call", "static_agreement", "loglik_change",
                 "mode_agreement"),
    "bonus": ("source", "rho", "sigma", "spread_low", "heterogeneity_bonus", "spread_bonus",
              "extra_from_heterogeneity", "extra_from_spread"),
    "conservatism": ("rho", "label", "n_rule", "n_oracle_nested", "left_on_table",
                     "unsafe_share"),
    "freedave_subset": ("rho", "label", "method", "calls", "dist_rule", "dist_static",
                        "multi", "certified", "strict_rate", "margin_gain",
                        "certificate_violations"),
}


def format_table(result: StudyResult, columns: tuple[str, ...] | None = None) -> str:
    """A plain-text table of ``columns`` (default: the study's headline), with ``± se``
    after every column that has a ``_se`` companion."""
    columns = columns or HEADLINE.get(result.name) or tuple(result.rows[0])
    cells = [list(columns)]
    for row in result.rows:
        line = []
        for c in columns:
            v = row[c]
            text = f"{v:.4g}" if isinstance(v, float) else str(v)
            if f"{c}_se" in row and isinstance(row[f"{c}_se"], float):
                text += f" ± {row[f'{c}_se']:.2g}"
            line.append(text)
        cells.append(line)
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return "\n".join("  ".join(t.ljust(w) for t, w in zip(r, widths, strict=True)).rstrip()
                     for r in cells)
