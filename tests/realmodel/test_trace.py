"""Traces: round trip, replay of every rule, crash recovery, validation errors."""

import functools
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from realmodel.engine import DecodeConfig, decode
from realmodel.engine.prompts import Prompt
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.trace import (
    METADATA_KEY,
    SCHEMA_VERSION,
    TraceError,
    TraceWriter,
    provenance,
    read_trace,
)
from theory import Quota, commit, make_rule


@functools.cache
def denoiser():
    """Built on first use, not at import (so that -k filtering stays fast)."""
    return LLaDADenoiser(random_llada(tiny_config(), seed=31, logit_scale=4.0))

PROMPTS = [Prompt(ids=[5 + i, 40, 22 + 3 * i, 9][: 2 + i], answer=f"a{i}", name=f"p{i}")
           for i in range(3)]


def _write(path, config, batch_size=2):
    meta = provenance(denoiser(), config, batch_size=batch_size)
    with TraceWriter(path, meta) as writer:
        result = decode(denoiser(), PROMPTS, config, batch_size=batch_size, trace=writer)
    return result


@pytest.mark.parametrize("rule,steps", [("quota", None), ("quota", 8), ("threshold", None),
                                        ("factor", None), ("frechet", None), ("tight", None),
                                        ("entropy", None)])
def test_replaying_the_runs_rule_on_every_row_reproduces_its_commits(tmp_path, rule, steps):
    config = DecodeConfig(rule=make_rule(rule), gen_length=16, block_length=8, steps=steps,
                          cache="prefix")
    result = _write(tmp_path / "t.parquet", config)
    trace = read_trace(tmp_path / "t.parquet")
    assert trace.complete and len(trace) == result.sequence_steps
    for step in trace.steps():
        chosen = Quota(step.k) if step.k >= 0 else config.rule
        decision = commit(chosen, step.profile())
        order = decision.order[0][: int(decision.n[0])]
        assert np.array_equal(step.positions[order], step.committed)
    finals = trace.sequences()
    assert [f["generated"] for f in finals] == [s.generated for s in result.sequences]
    assert [f["steps"] for f in finals] == [s.steps for s in result.sequences]
    assert [f["answer"] for f in finals] == ["a0", "a1", "a2"]


@pytest.mark.parametrize("rule", ["quota", "frechet"])
def test_recording_a_trace_changes_no_decision(tmp_path, rule):
    """An untraced run skips the entropy and the runner-up tokens; the decisions are
    the traced run's, and the trace has both."""
    config = DecodeConfig(rule=make_rule(rule), gen_length=16, block_length=8, cache="dual")
    traced = _write(tmp_path / "t.parquet", config)
    plain = decode(denoiser(), PROMPTS, config, batch_size=2)
    assert [s.generated for s in plain.sequences] == [s.generated for s in traced.sequences]
    assert [s.commits for s in plain.sequences] == [s.commits for s in traced.sequences]
    for step in read_trace(tmp_path / "t.parquet").steps():
        assert np.isfinite(step.H).all() and (step.runner_up != step.tokens).all()


def test_provenance_names_model_rule_cache_and_libraries(tmp_path):
    config = DecodeConfig(rule=make_rule("frechet", 0.25), gen_length=8, block_length=8,
                          cache="dual", seed=7)
    _write(tmp_path / "t.parquet", config)
    meta = read_trace(tmp_path / "t.parquet").provenance
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["decode"]["rule"]["name"] == "frechet"
    assert meta["decode"]["rule"]["value"] == 0.25
    assert meta["decode"]["cache"] == "dual" and meta["seed"] == 7
    assert meta["model"]["config"]["d_model"] == 48
    assert {"torch", "pyarrow", "transformers"} <= set(meta["libraries"])
    assert meta["dtype"] == "torch.float32" and meta["device"].startswith("cpu")


def test_a_run_that_dies_keeps_its_finished_batches(tmp_path):
    config = DecodeConfig(gen_length=8, block_length=8)
    path = tmp_path / "t.parquet"
    with pytest.raises(KeyboardInterrupt):
        with TraceWriter(path, provenance(denoiser(), config, batch_size=1)) as writer:
            decode(denoiser(), PROMPTS[:1], config, trace=writer)
            raise KeyboardInterrupt
    trace = read_trace(path)
    assert not trace.complete and {s.sequence for s in trace.steps()} == {0}
    killed = tmp_path / "k.parquet"
    writer = TraceWriter(killed, provenance(denoiser(), config, batch_size=1))
    decode(denoiser(), PROMPTS[:2], config, trace=writer)   # never closed: a killed process
    assert not killed.exists()
    assert {s.sequence for s in read_trace(killed).steps()} == {0, 1}
    with pytest.raises(ValueError, match="interrupted run"):
        TraceWriter(killed, provenance(denoiser(), config, batch_size=1))


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "t.parquet"
    _write(path, DecodeConfig(rule=make_rule("threshold", 0.5), gen_length=16, block_length=8))
    table = pq.read_table(path)
    return table, json.loads(table.schema.metadata[METADATA_KEY])


def _rewrite(path, table, meta):
    pq.write_table(table.replace_schema_metadata({METADATA_KEY: json.dumps(meta)}), path)
    return path


def _set_list(table, column, row, values):
    col = table.column(column).to_pylist()
    col[row] = values
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(col, table.schema.field(i).type))


@pytest.mark.parametrize("edit,message", [
    (lambda t, m: (t, {**m, "schema_version": 99}), "schema version 99"),
    (lambda t, m: (t.drop_columns(["s"]), m), "missing columns"),
    (lambda t, m: (_set_list(t, "c", 0, [1.5] + t.column("c")[0].as_py()[1:]), m),
     "outside \\[0, 1\\]"),
    (lambda t, m: (_set_list(t, "s", 1, [0.99] * len(t.column("s")[1].as_py())), m),
     "runner-up"),
    (lambda t, m: (_set_list(t, "positions", 2, [99] * len(t.column("positions")[2])), m),
     "position outside"),
    (lambda t, m: (_set_list(t, "H", 0, [0.1]), m), "list length of H"),
    (lambda t, m: (_set_list(t, "committed", 0, [15]), m), "not a masked position"),
    (lambda t, m: (_set_list(t, "tokens", 0, [10**6] * len(t.column("tokens")[0])), m),
     "vocabulary"),
    (lambda t, m: (t, {k: v for k, v in m.items() if k != "model"}), "provenance lacks model"),
])
def test_the_reader_names_what_is_wrong(tmp_path, good, edit, message):
    table, meta = edit(*good)
    path = _rewrite(tmp_path / "bad.parquet", table, meta)
    with pytest.raises(TraceError, match=message) as err:
        read_trace(path)
    assert "bad.parquet" in str(err.value)


def test_files_that_are_not_traces_are_refused(tmp_path):
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(TraceError, match="not a readable Parquet"):
        read_trace(tmp_path / "junk.parquet")
    pq.write_table(pa.table({"x": [1]}), tmp_path / "plain.parquet")
    with pytest.raises(TraceError, match="provenance"):
        read_trace(tmp_path / "plain.parquet")
    with pytest.raises(FileNotFoundError):
        read_trace(tmp_path / "none.parquet")


def test_static_trace_feeds_freedave_call_counts(tmp_path):
    from theory.freedave import trace as freedave_trace
    config = DecodeConfig(rule=Quota(1), gen_length=16, block_length=8, cache="dual")
    _write(tmp_path / "t.parquet", config)
    trace = read_trace(tmp_path / "t.parquet")
    static = trace.static_trace(1)
    assert static.T == 16 and static.has_runner_up
    p, tau = static.path()
    final = trace.sequences()[1]["generated"]
    assert [final[q] for q in p.tolist()] == tau.tolist()
    A = freedave_trace.agreement_lengths(static)
    assert (A >= 1).all()


def test_the_trace_of_an_adaptive_rule_records_its_counts_and_sampled_runs_are_refused(
        tmp_path):
    _write(tmp_path / "t.parquet", DecodeConfig(rule=make_rule("threshold", 0.5),
                                                gen_length=8, block_length=8))
    trace = read_trace(tmp_path / "t.parquet")
    for seq in range(len(PROMPTS)):
        ours = trace.static_trace(seq)
        assert [s.n for s in ours.steps] == [len(st.committed) for st in trace.steps(seq)]
        assert sum(s.n for s in ours.steps) == 8
    _write(tmp_path / "s.parquet", DecodeConfig(rule=make_rule("threshold", 0.5),
                                                gen_length=8, block_length=8,
                                                temperature=1.0))
    with pytest.raises(ValueError, match="not a deterministic run"):
        read_trace(tmp_path / "s.parquet").static_trace(0)
