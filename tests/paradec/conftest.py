"""A small report context on the shipped model, built once per test process."""

import pytest


@pytest.fixture(scope="session")
def small_context(tmp_path_factory):
    """Report context for 4 held-out problems, tiny sweep, FreeDave K = 1, 2, 4: setup,
    sweep_rows, static_result, trace, freedave_rows."""
    from paradec.experiments import ReportOptions, model

    out = tmp_path_factory.mktemp("report-context")
    opts = ReportOptions(problems=4, sweep="tiny", out=str(out), batch_size=4,
                         freedave_k=(1, 2, 4))
    ctx = {"setup": model.load_setup(opts)}
    model.sweep(opts, ctx)
    model.static_trace(opts, ctx)
    model.freedave(opts, ctx)
    return ctx
