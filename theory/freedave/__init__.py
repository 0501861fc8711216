"""FreeDave over abstract oracles: the pieces, one round, the reference decoder, call
counts from static traces and what "fewest calls" can mean. [FreeDave]

- :mod:`.core`: oracle outputs, blocks, draft trees, the static step, configuration.
- :mod:`.rounds`: one round (drafts, terminal drafts, path following), over the array
  API: the reference decoder here and the engine's FreeDave both run it.
- :mod:`.decode`: the reference decoder (:func:`static_decode`, :func:`freedave_decode`).
- :mod:`.trace`: call counts from a static trace alone; :mod:`.optimal`: optimality.
- :mod:`.subset`: why subset acceptance (FreeDave++) keeps Fréchet and tight certificates.
- :mod:`.toys`, :mod:`.survey`: toy oracles and hypothesis strategies; the survey script.
"""

from theory.freedave.decode import DecodeRun, freedave_decode, rule_decode, static_decode

__all__ = ["DecodeRun", "rule_decode", "static_decode", "freedave_decode"]
