"""FreeDave on a real model, through the one engine. [FreeDave]

- :mod:`.decode`: the FreeDave strategy of :class:`realmodel.engine.Engine`.
- :mod:`.verify`: one batched forward over the drafts (replicated cache, tree attention).
- :mod:`.predict`: call counts predicted from a static trace.
- :mod:`.auto`: compute-aware K (the call cost and the draft gains on a real model).
"""

from realmodel.freedave.auto import AutoWidth
from realmodel.freedave.decode import (
    DRAFT_KINDS,
    VERIFY_MODES,
    FreeDaveBlocks,
    FreeDaveConfig,
    FreeDaveRun,
    check_config,
    freedave_decode,
    freedave_run,
)
from realmodel.freedave.predict import predict_calls, static_trace

__all__ = ["AutoWidth", "VERIFY_MODES", "DRAFT_KINDS", "FreeDaveConfig", "FreeDaveRun",
           "FreeDaveBlocks", "check_config", "freedave_run", "freedave_decode", "predict_calls",
           "static_trace"]
