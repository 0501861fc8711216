"""Trace integrity: truncated and bit-flipped files, schema versions, mixed runs in a merge,
duplicate and missing sequences, every kill point of the writer, incomplete traces."""

import functools
import json
import shutil

import numpy as np
import pytest

from realmodel.engine import DecodeConfig, Engine
from realmodel.engine.prompts import Prompt
from realmodel.freedave.predict import predict_calls
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.trace import SCHEMA, TraceError, TraceWriter, provenance, read_trace
from realmodel.trace.io import METADATA_KEY, read_file, write_atomic
from realmodel.trace.merge import merge_traces
from theory import Quota, make_rule


@functools.cache
def denoiser():
    """Built on first use, not at import (so that -k filtering stays fast)."""
    return LLaDADenoiser(random_llada(tiny_config(), seed=31, logit_scale=4.0))

PROMPTS = [Prompt(ids=[5 + i, 40, 22 + i, 9][: 2 + i % 3], answer=f"a{i}") for i in range(5)]
CONFIG = DecodeConfig(rule=Quota(1), gen_length=8, block_length=8, temperature=0.8, seed=2)
SIZE = 2   # 3 batches: [0, 1], [2, 3], [4]


def _meta(config=CONFIG, **extra):
    return provenance(denoiser(), config, batch_size=SIZE, n_prompts=len(PROMPTS), **extra)


def _decode(path, batches=(0, 1, 2), config=CONFIG, close=True, **extra):
    """Decode the given batches into ``path`` (``close=False``: a killed process)."""
    writer = TraceWriter(path, _meta(config, **extra), resume=True)
    engine = Engine(denoiser(), config)
    for b in batches:
        if b in writer.done:
            continue
        writer.batch = b
        rows = range(b * SIZE, min(len(PROMPTS), (b + 1) * SIZE))
        engine.run([PROMPTS[i] for i in rows], rows, trace=writer)
    if close:
        writer.close()
    return writer


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "t.parquet"
    _decode(path)
    return path


def _rewrite(path, table, meta):
    return write_atomic(path, SCHEMA, [table], meta)


def test_truncated_files_are_named(tmp_path, reference):
    data = reference.read_bytes()
    for n in np.random.default_rng(0).integers(0, len(data), 25).tolist() + [0, len(data) - 1]:
        cut = tmp_path / "cut.parquet"
        cut.write_bytes(data[:n])
        with pytest.raises(TraceError, match="cut.parquet: not a readable Parquet"):
            read_trace(cut)


def test_a_flipped_bit_is_detected_or_harmless_never_silent(tmp_path, reference):
    good = read_trace(reference).table
    data = reference.read_bytes()
    rng = np.random.default_rng(1)
    detected = 0
    for i in rng.choice(len(data), 150, replace=False).tolist():
        flipped = bytearray(data)
        flipped[i] ^= 1 << int(rng.integers(8))
        bad = tmp_path / "flip.parquet"
        bad.write_bytes(bytes(flipped))
        try:
            table = read_trace(bad).table
        except TraceError as err:
            assert "flip.parquet" in str(err)
            detected += 1
            continue
        assert table.equals(good), f"byte {i}: different data without an error"
    assert detected > 50


def test_a_changed_value_with_a_valid_parquet_file_fails_the_digest(tmp_path, reference):
    import pyarrow.parquet as pq

    table = pq.read_table(reference)
    meta = table.schema.metadata          # the old digest, kept with changed data
    changed = table.filter(table.column("sequence").to_numpy() != 4)   # valid, but not it
    pq.write_table(changed.replace_schema_metadata(meta), tmp_path / "d.parquet")
    with pytest.raises(TraceError, match="d.parquet: content digest mismatch"):
        read_trace(tmp_path / "d.parquet")


@pytest.mark.parametrize("version,message", [(None, "no schema version"),
                                             (7, "schema version 7.*newer paradec"),
                                             ("1", "schema version '1'")])
def test_wrong_or_missing_schema_version(tmp_path, reference, version, message):
    table, meta = read_file(reference, TraceError)
    meta = {k: v for k, v in meta.items() if k != "schema_version"}
    if version is not None:
        meta["schema_version"] = version
    with pytest.raises(TraceError, match=f"v.parquet: {message}"):
        read_trace(_rewrite(tmp_path / "v.parquet", table, meta))


def _ranks(tmp_path, world=2, config_of=lambda r: CONFIG):
    paths = []
    for r in range(world):
        path = tmp_path / f"t.rank{r}of{world}.parquet"
        _decode(path, [b for b in range(3) if b % world == r], config_of(r),
                world_size=world, rank=r)
        paths.append(path)
    return paths


def test_rank_files_merge_into_the_single_process_trace(tmp_path, reference):
    out = merge_traces(tmp_path / "t.parquet", _ranks(tmp_path), remove_parts=True)
    assert read_trace(out).table.equals(read_trace(reference).table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.parquet"]


def test_a_part_from_another_config_is_refused_naming_file_and_field(tmp_path):
    other = DecodeConfig(rule=Quota(1), gen_length=8, block_length=8, temperature=0.8, seed=3)
    parts = _ranks(tmp_path, config_of=lambda r: other if r == 1 else CONFIG)
    with pytest.raises(TraceError, match="rank1of2.parquet: from another run.*seed: 2 != 3"):
        merge_traces(tmp_path / "t.parquet", parts)
    assert not (tmp_path / "t.parquet").exists()


def test_a_part_from_another_model_in_a_partial_folder_is_refused(tmp_path):
    _decode(tmp_path / "a.parquet", [0], close=False)
    other = LLaDADenoiser(random_llada(tiny_config(), seed=32, logit_scale=4.0),
                          name="other-model")
    writer = TraceWriter(tmp_path / "b.parquet", provenance(other, CONFIG, batch_size=SIZE,
                                                            n_prompts=len(PROMPTS)))
    writer.batch = 1
    Engine(other, CONFIG).run(PROMPTS[2:4], range(2, 4), trace=writer)
    shutil.copy(tmp_path / "b.parquet.partial" / "part-000001.parquet",
                tmp_path / "a.parquet.partial")
    with pytest.raises(TraceError, match="part-000001.parquet: from another run.*model"):
        read_trace(tmp_path / "a.parquet")
    with pytest.raises(ValueError, match="part-000001.parquet is from a different run"):
        _decode(tmp_path / "a.parquet")


def test_duplicate_ranks_batches_and_missing_ranks_are_named(tmp_path):
    parts = _ranks(tmp_path)
    with pytest.raises(TraceError, match="rank 0 appears in more than one part"):
        merge_traces(tmp_path / "t.parquet", [parts[0], parts[0], parts[1]])
    with pytest.raises(TraceError, match=r"ranks \[1\] of world size 2 are missing"):
        merge_traces(tmp_path / "t.parquet", parts[:1])
    table, meta = read_file(parts[1], TraceError)
    _rewrite(tmp_path / "dup.parquet", read_file(parts[0], TraceError)[0], meta)
    with pytest.raises(TraceError, match=r"dup.parquet: sequences \[0, 1, 4\] do not belong"):
        merge_traces(tmp_path / "t.parquet", [parts[0], tmp_path / "dup.parquet"])
    writer = _decode(tmp_path / "p.parquet", [0], close=False)
    shutil.copy(writer.parts / "part-000000.parquet", writer.parts / "part-000001.parquet")
    with pytest.raises(TraceError, match="part-000001.parquet: batch 0 is also in .*000000"):
        read_trace(tmp_path / "p.parquet")
    with pytest.raises(TraceError, match="part-000001.parquet: holds batch 0, not the batch"):
        _decode(tmp_path / "p.parquet")


def test_a_gap_is_never_marked_complete(tmp_path, reference):
    table, meta = read_file(reference, TraceError)
    cut = table.filter(table.column("batch").to_numpy() != 1)
    with pytest.raises(TraceError, match=r"marked complete but 2 sequences are missing, "
                                         r"first \[2, 3\]"):
        read_trace(_rewrite(tmp_path / "gap.parquet", cut, meta))
    writer = _decode(tmp_path / "w.parquet", [0, 2], close=False)
    with pytest.raises(TraceError, match="w.parquet: marked complete but"):
        writer.close()
    assert not (tmp_path / "w.parquet").exists()
    assert not read_trace(tmp_path / "w.parquet").complete


def test_a_duplicate_sequence_is_named(tmp_path, reference):
    import pyarrow as pa

    table, meta = read_file(reference, TraceError)
    first = table.filter(table.column("batch").to_numpy() == 0)
    moved = first.set_column(1, "batch", pa.array([2] * first.num_rows, pa.int32()))
    twice = pa.concat_tables([table, moved])
    with pytest.raises(TraceError, match="sequence 0 appears in batches 0 and 2"):
        read_trace(_rewrite(tmp_path / "twice.parquet", twice, meta))


def test_incomplete_traces_say_so_to_callers_that_need_complete_ones(tmp_path):
    _decode(tmp_path / "t.parquet", [0, 1], close=False)
    trace = read_trace(tmp_path / "t.parquet")
    assert not trace.complete and len(trace.sequences()) == 4
    with pytest.raises(TraceError, match="incomplete trace \\(4 of 5 sequences"):
        predict_calls(trace, 2)
    with pytest.raises(TraceError, match="--resume"):
        trace.require_complete("replay")


def test_kill_mid_part_write_leaves_a_temporary_that_is_ignored_and_removed(tmp_path):
    writer = _decode(tmp_path / "t.parquet", [0], close=False)
    torn = writer.parts / ".tmp-999-part-000001.parquet"
    torn.write_bytes(b"PAR1 torn")
    assert len(read_trace(tmp_path / "t.parquet").sequences()) == 2
    _decode(tmp_path / "t.parquet")
    assert not torn.exists() and read_trace(tmp_path / "t.parquet").complete


def test_kill_mid_final_merge_then_resume(tmp_path, reference):
    writer = _decode(tmp_path / "t.parquet", close=False)
    stale = tmp_path / ".tmp-999-t.parquet"
    stale.write_bytes(b"PAR1 half a merged file")
    assert writer.done == {0, 1, 2}
    again = _decode(tmp_path / "t.parquet")
    assert again.done == {0, 1, 2} and not stale.exists()
    assert read_trace(tmp_path / "t.parquet").table.equals(read_trace(reference).table)


def test_kill_after_the_final_rename_before_cleanup(tmp_path, reference):
    writer = _decode(tmp_path / "t.parquet", close=False)
    saved = tmp_path / "saved"
    shutil.copytree(writer.parts, saved)
    writer.close()
    shutil.copytree(saved, writer.parts)           # the .partial folder survived the kill
    assert read_trace(tmp_path / "t.parquet").complete
    again = _decode(tmp_path / "t.parquet")
    assert again.finished and not writer.parts.exists()
    assert read_trace(tmp_path / "t.parquet").table.equals(read_trace(reference).table)


def test_resuming_any_subset_of_batches_gives_the_uninterrupted_trace(tmp_path, reference):
    for i, done in enumerate([(), (1,), (2, 0), (0, 1, 2)]):
        path = tmp_path / f"t{i}.parquet"
        _decode(path, done, close=False)
        _decode(path)
        assert read_trace(path).table.equals(read_trace(reference).table), done


def test_provenance_json_damage_is_named(tmp_path, reference):
    import pyarrow.parquet as pq

    table = pq.read_table(reference)
    meta = dict(table.schema.metadata)
    meta[METADATA_KEY] = meta[METADATA_KEY][:-3]
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "j.parquet")
    with pytest.raises(TraceError, match="j.parquet: provenance is not valid JSON"):
        read_trace(tmp_path / "j.parquet")
    assert json.loads(table.schema.metadata[METADATA_KEY])["complete"] is True


def test_determinism_same_seed_same_bits_on_cpu(tmp_path, reference):
    config = DecodeConfig(rule=make_rule("frechet", 0.3), gen_length=8, block_length=4,
                          temperature=1.0, seed=9, cache="dual")
    _decode(tmp_path / "a.parquet", config=config)
    _decode(tmp_path / "b.parquet", config=config)
    a, b = read_trace(tmp_path / "a.parquet"), read_trace(tmp_path / "b.parquet")
    assert a.table.equals(b.table)
    assert a.table.column("c").equals(b.table.column("c"))
    _decode(tmp_path / "c.parquet", config=DecodeConfig(
        rule=make_rule("frechet", 0.3), gen_length=8, block_length=4, temperature=1.0,
        seed=10, cache="dual"))
    assert not read_trace(tmp_path / "c.parquet").table.equals(a.table)


def test_kill_while_writing_the_run_record_then_resume(tmp_path, reference):
    path = tmp_path / "t.parquet"
    parts = path.with_name(path.name + ".partial")
    parts.mkdir()
    (parts / ".tmp-999-run.json").write_text('{"schema_version": 1, "mod')
    _decode(path)
    assert read_trace(path).table.equals(read_trace(reference).table)
    assert not parts.exists()
