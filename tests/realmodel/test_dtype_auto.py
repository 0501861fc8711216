"""``--dtype auto``: a short probe picks float32 or bfloat16 and the run uses what it picked
(the choice itself depends on the CPU, so the tests check the mechanics, not the answer)."""

import json

import torch

from realmodel.machine import faster_dtype
from realmodel.models import load_denoiser
from realmodel.trace import read_trace


def test_the_probe_times_both_dtypes_and_leaves_the_model_in_its_choice():
    den = load_denoiser("tiny-random")
    probe = faster_dtype(den, batch=2, length=24, budget_s=0.05)
    assert probe["dtype"] in ("float32", "bfloat16") and probe["float32_s"] > 0
    assert den.dtype == getattr(torch, probe["dtype"])
    if "bfloat16_error" in probe:  # e.g. AMX packing under ATEN_CPU_CAPABILITY=avx2
        assert probe["dtype"] == "float32" and probe["bfloat16_s"] is None
    else:
        chosen = "bfloat16" if probe["float32_s"] >= 1.2 * probe["bfloat16_s"] else "float32"
        assert probe["dtype"] == chosen
    # the weights are the chosen dtype's own: the probe never rounds the float32 ones
    again = load_denoiser("tiny-random", dtype=probe["dtype"])
    assert all(torch.equal(a, b) for a, b in zip(den.model.parameters(),
                                                  again.model.parameters(), strict=True))


def test_decode_with_dtype_auto_records_the_probe_and_equals_that_dtypes_run(tmp_path, capsys):
    from paradec.cli import main

    common = ["decode", "--model", "tiny-random", "--rule", "threshold", "--tau", "0.9",
              "--gen-length", "16", "--block", "8", "--json", "--progress", "off"]
    assert main([*common, "--dtype", "auto", "--trace", str(tmp_path / "a.parquet")]) == 0
    auto = json.loads(capsys.readouterr().out.splitlines()[-1])
    probe = read_trace(tmp_path / "a.parquet").provenance["dtype_probe"]
    assert auto["dtype"] == probe["dtype"] in ("float32", "bfloat16")
    assert main([*common, "--dtype", probe["dtype"], "--trace", str(tmp_path / "b.parquet")]) == 0
    fixed = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [s["generated"] for s in auto["sequences"]] == \
        [s["generated"] for s in fixed["sequences"]]
