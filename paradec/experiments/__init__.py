"""What the report computes on the embedded defaults (or a user's model), section by
section; the report (:mod:`paradec.report`) and the figures run alone
(:mod:`paradec.figures`) both call it, and it imports neither.

- :mod:`.options`: :class:`ReportOptions` and the rule sweeps.
- :mod:`.checks`: theory certificates and small simulate studies (no model).
- :mod:`.model`: the model on its prompts: every rule vs static decoding, the static
  trace, FreeDave measured next to its prediction.
- :mod:`.replay_checks`: exact and counterfactual replay, calibration, profile fits.
"""

from paradec.experiments.options import FREEDAVE_K, SWEEPS, ReportOptions
from paradec.experiments.replay_checks import check_replay

__all__ = ["ReportOptions", "SWEEPS", "FREEDAVE_K", "check_replay"]
