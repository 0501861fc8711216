"""``paradec report``: the main job as a package (the command module is a thin CLI).

The sections' computations live in :mod:`paradec.experiments`; here:
:mod:`.markdown` writes results.md and :mod:`.runner` runs the sections in order, draws
the figures and writes the outputs.
"""

from paradec.experiments.options import FREEDAVE_K, SWEEPS, ReportOptions
from paradec.experiments.replay_checks import check_replay
from paradec.report.runner import SECTIONS, run_report

__all__ = ["ReportOptions", "SWEEPS", "FREEDAVE_K", "SECTIONS", "run_report", "check_replay"]
