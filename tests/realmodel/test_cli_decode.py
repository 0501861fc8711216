"""``paradec decode`` end to end on tiny-random, a LLaDA folder and bad input."""

import argparse
import json

import pytest
import torch

from paradec.commands import decode as decode_command
from realmodel.model.checkpoint import save_llada
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.trace import read_trace


def _run(argv):
    parser = argparse.ArgumentParser()
    decode_command.add_parser(parser.add_subparsers())
    args = parser.parse_args(["decode", *argv])
    return args.run(args)


def test_tiny_random_json_summary_and_trace(tmp_path, capsys):
    out = tmp_path / "t.parquet"
    assert _run(["--model", "tiny-random", "--rule", "frechet", "--delta", "0.2", "--cache",
                 "dual", "--block", "8", "--gen-length", "16", "--batch-size", "3",
                 "--trace", str(out), "--json", "--progress", "off"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rule"] == "frechet(delta=0.2)"
    assert len(summary["sequences"]) == 4
    assert all(len(s["generated"]) == 16 and s["calls"] >= 2 for s in summary["sequences"])
    totals = summary["totals"]
    assert totals["tokens"] == 64 and totals["tokens_per_call"] == 64 / totals["calls"]
    trace = read_trace(out)
    assert len(trace) == totals["sequence_calls"]
    assert [s["generated"] for s in trace.sequences()] == \
        [s["generated"] for s in summary["sequences"]]


def test_llada_folder_with_token_id_prompts_reports_recovery(tmp_path, capsys):
    folder = save_llada(random_llada(tiny_config(), seed=3, logit_scale=4.0), tmp_path / "m")
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"input_ids": [5, 6, 7], "answer_ids": [9, 9, 9, 9]}\n\n'
                       '{"input_ids": [8, 9, 10, 11], "suffix_ids": [12], "name": "x"}\n')
    assert _run(["--model", str(folder), "--prompts", str(prompts), "--rule", "quota",
                 "--steps", "2", "--gen-length", "4", "--trace", str(tmp_path / "t.parquet"),
                 "--progress", "off"]) == 0
    text = capsys.readouterr().out
    assert "2 sequences" in text and "recovery:" in text and "2.00 tokens per call" in text


@pytest.mark.parametrize("argv,error,message", [
    (["--rule", "frechet", "--tau", "0.9"], ValueError, "not a parameter of the frechet"),
    (["--rule", "quota", "--k", "1.5"], ValueError, "integer"),
    (["--rule", "threshold", "--tau", "1.5"], ValueError, "tau"),
    (["--rule", "quota", "--cache", "prefix", "--model", "antiberty"], ValueError, "KV cache"),
    (["--rule", "quota", "--model", "/nonexistent/folder"], FileNotFoundError, "not a folder"),
])
def test_bad_input_is_a_clear_error(tmp_path, argv, error, message):
    base = ["--model", "tiny-random", "--trace", str(tmp_path / "t.parquet"), "--progress",
            "off"]
    with pytest.raises(error, match=message):
        _run(base + argv)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="CUDA"):
        _run(["--model", "tiny-random", "--rule", "quota", "--device", "cuda", "--trace",
              str(tmp_path / "t.parquet")])


def test_text_prompts_need_a_tokenizer(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "hello"}\n')
    with pytest.raises(ValueError, match="no tokenizer"):
        _run(["--model", "tiny-random", "--prompts", str(prompts), "--rule", "quota",
              "--trace", str(tmp_path / "t.parquet")])


def test_registered_in_the_paradec_command(tmp_path):
    from paradec.cli import main

    assert main(["decode", "--model", "tiny-random", "--rule", "quota", "--gen-length", "8",
                 "--trace", str(tmp_path / "t.parquet"), "--progress", "off"]) == 0
    assert main(["decode", "--model", "tiny-random", "--rule", "quota", "--tau", "0.5",
                 "--trace", str(tmp_path / "t.parquet")]) == 2
