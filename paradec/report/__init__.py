"""``paradec report``: the main job as a package (the command module is a thin CLI).

- :mod:`.options`: :class:`ReportOptions` and the rule sweeps.
- :mod:`.checks`: theory certificates and small simulate studies (no model).
- :mod:`.model`: the model on its prompts: every rule vs static decoding, the static
  trace, FreeDave measured next to its prediction.
- :mod:`.replay_checks`: exact and counterfactual replay, calibration, profile fits.
- :mod:`.markdown`: results.md; :mod:`.runner`: the sections in order, figures, outputs.
"""

from paradec.report.options import FREEDAVE_K, SWEEPS, ReportOptions
from paradec.report.replay_checks import check_replay
from paradec.report.runner import SECTIONS, run_report

__all__ = ["ReportOptions", "SWEEPS", "FREEDAVE_K", "SECTIONS", "run_report", "check_replay"]
