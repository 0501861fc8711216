"""Replay: what any rule would commit at every logged state of a trace; calibration and
profile-generator fits.

- :mod:`.decisions`: replaying rules; :mod:`.calibration`: reliability and margin
  calibration; :mod:`.fit`: fits of simulate's profile generators.
"""

from realmodel.replay.decisions import (
    LOGGED,
    SWEEP,
    Replay,
    StepReplay,
    default_rules,
    logged_rule,
    replay,
    replay_all,
    stack_steps,
)

__all__ = ["LOGGED", "StepReplay", "Replay", "logged_rule", "default_rules", "replay",
           "replay_all", "stack_steps", "SWEEP"]
