"""One GPU run, prepared: a LLaDA-8B-shaped model's forward against the memory roofline,
decode speed of every rule and of FreeDave, bit-reproducibility, and real-model traces.

    python benchmarks/gpu_llada.py --out runs/gpu                 # on a lent H100/H200
    python benchmarks/gpu_llada.py --shape tiny --device cpu --out runs/gpu-tiny   # the test
    python benchmarks/gpu_llada.py --model /path/to/LLaDA-8B-Instruct --prompts p.jsonl \
        --out runs/real

Shape ``8b``: LLaDA-8B's config (d 4096, 32 layers, SwiGLU 12288, vocabulary 126464) with
seeded random weights drawn on the device in bf16, the LM head sharpened (logit scale 12)
so that confidences spread as a trained model's do. ``--model PATH`` decodes a real LLaDA
or Dream folder instead (``--prompts`` JSONL as ``paradec decode`` reads it). Prompt 64
random ids (``--prompt-length``), gen length 256, block 32, dual cache.

Measured, in one JSON (``OUT/gpu_llada.json``) and one table on stdout:

- forward latency: a refresh forward (whole canvas) and a dual-cache block forward at
  batch 1, device synchronised, median of 5; against the roofline weight bytes / HBM
  bandwidth (H200 4.8 TB/s, H100 SXM 3.35 TB/s, or ``--hbm-tbps``);
- decode tokens per second and forward calls for static decoding, threshold 0.9,
  Fréchet 0.25, tight 0.25, exact FreeDave K = 4 over static and over threshold 0.9, at
  batch 1 and 16; each writes its trace (``OUT/<config>-b<batch>.parquet``);
- ``--deterministic`` kernels: two static runs give the same bits (tokens and logged
  confidences);
- a 2-process torchrun smoke test when two or more GPUs are visible (skipped, and said so,
  otherwise).

Every FreeDave output must equal its rule's decoding at the same batch size (the script
exits non-zero otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from realmodel.engine import DecodeConfig, Engine, synchronize
from realmodel.engine.prompts import Prompt
from realmodel.freedave import FreeDaveBlocks, FreeDaveConfig
from realmodel.machine import describe_cpu
from realmodel.model.denoiser import LLaDADenoiser
from realmodel.model.llada import LLaDAConfig
from realmodel.model.tiny import random_llada, tiny_config
from realmodel.trace import TraceWriter, provenance, read_trace
from theory import make_rule

HBM_TBPS = {"H200": 4.8, "H100": 3.35}
CONFIGS = [("static", "quota", 1, None), ("threshold-0.9", "threshold", 0.9, None),
           ("frechet-0.25", "frechet", 0.25, None), ("tight-0.25", "tight", 0.25, None),
           ("freedave-4", "quota", 1, 4), ("freedave-4-threshold-0.9", "threshold", 0.9, 4)]


def _model(args: argparse.Namespace) -> Any:
    dtype = getattr(torch, args.dtype)
    if args.model:
        from realmodel.models import load_denoiser

        return load_denoiser(args.model, dtype=args.dtype, device=args.device)
    config = LLaDAConfig(mask_token_id=126336, eos_token_id=126081, pad_token_id=126081) \
        if args.shape == "8b" else tiny_config(d_model=64, n_heads=4, vocab_size=256)
    model = random_llada(config, seed=args.seed, logit_scale=12.0 if args.shape == "8b"
                         else 6.0, dtype=dtype, device=args.device)
    return LLaDADenoiser(model, name=f"random-llada-{args.shape}(seed={args.seed})")


def _prompts(args: argparse.Namespace, den: Any, n: int) -> list[Prompt]:
    if args.prompts:
        from realmodel.models import read_prompts

        found = read_prompts(args.prompts, den)
        return [found[i % len(found)] for i in range(n)]
    gen = torch.Generator().manual_seed(args.seed)
    hi = den.vocab_size - 1
    bad = {den.specials.mask_id, den.specials.eos_id, den.specials.pad_id}
    out = []
    for i in range(n):
        ids = [t if t not in bad else 5 for t in
               torch.randint(5, hi, (args.prompt_length,), generator=gen).tolist()]
        out.append(Prompt(ids=tuple(ids), name=f"random-{i}"))
    return out


def _timed(fn: Any, device: str, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats + 1):  # the first call warms up
        synchronize(torch.device(device))
        tic = time.perf_counter()
        fn()
        synchronize(torch.device(device))
        times.append(time.perf_counter() - tic)
    return statistics.median(times[1:])


def forward_latency(args: argparse.Namespace, den: Any) -> dict[str, Any]:
    config = DecodeConfig(gen_length=args.gen_length, block_length=args.block, cache="dual")
    engine = Engine(den, config)
    state = engine.start(_prompts(args, den, 1))
    engine.begin_block(state, 0)
    refresh = _timed(lambda: engine.forward(state, refresh=True), args.device)
    block = _timed(lambda: engine.forward(state, refresh=False), args.device)
    weight_bytes = sum(p.numel() * p.element_size() for p in den.model.parameters())
    name = torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else ""
    tbps = args.hbm_tbps or next((v for k, v in HBM_TBPS.items() if k in name), None)
    roofline = None if tbps is None else weight_bytes / (tbps * 1e12)
    return {"weight_bytes": weight_bytes, "refresh_s": refresh, "block_s": block,
            "hbm_tbps": tbps, "roofline_s": roofline,
            "block_over_roofline": None if roofline is None else block / roofline}


def decode_configs(args: argparse.Namespace, den: Any, out: Path) -> list[dict[str, Any]]:
    rows = []
    for batch in args.batch_sizes:
        prompts = _prompts(args, den, batch)
        alone: dict[str, list[list[int]]] = {}
        for name, rule, value, K in CONFIGS:
            config = DecodeConfig(rule=make_rule(rule, value), gen_length=args.gen_length,
                                  block_length=args.block, cache="dual")
            path = out / f"{name}-b{batch}.parquet"
            strategy = None if K is None else FreeDaveBlocks(FreeDaveConfig(K))
            meta = provenance(den, config, batch_size=batch,
                              freedave=None if K is None else {"K": K})
            with TraceWriter(path, meta) as writer:
                result = Engine(den, config).decode(prompts, batch_size=batch, trace=writer,
                                                    strategy=strategy)
            tokens = [s.generated for s in result.sequences]
            key = f"{rule}-{value}"
            same = None
            if K is None:
                alone[key] = tokens
            else:
                same = tokens == alone[key]
                if not same:
                    raise SystemExit(f"{name} at batch {batch} changed its rule's output")
            rows.append({"config": name, "batch": batch, "calls": result.calls,
                         "sequence_calls": result.sequence_steps,
                         "tokens_per_second": result.tokens_per_second,
                         "wall_s": result.wall_seconds, "forward_s": result.forward_seconds,
                         "identical_to_rule": same, "trace": str(path)})
    return rows


def determinism(args: argparse.Namespace, den: Any, out: Path) -> dict[str, Any]:
    from realmodel.distributed import set_deterministic

    flags = set_deterministic()
    config = DecodeConfig(gen_length=args.gen_length, block_length=args.block, cache="dual")
    prompts = _prompts(args, den, 2)
    tables = []
    for run in (1, 2):
        path = out / f"deterministic-{run}.parquet"
        with TraceWriter(path, provenance(den, config, batch_size=2)) as writer:
            Engine(den, config).decode(prompts, batch_size=2, trace=writer)
        tables.append(read_trace(path).table.drop_columns(["wall_seconds"])
                      if "wall_seconds" in read_trace(path).table.column_names
                      else read_trace(path).table)
    return {"flags": flags, "identical_bits": tables[0].equals(tables[1])}


def torchrun_smoke(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus < 2:
        return {"skipped": f"{gpus} GPU visible; a 2-process run needs 2"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m",
           "paradec", "decode", "--model", "tiny-random", "--device", "cuda", "--limit", "4",
           "--batch-size", "1", "--trace", str(out / "torchrun.parquet"), "--overwrite"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return {"returncode": done.returncode, "tail": done.stderr[-500:]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=("8b", "tiny"), default="8b")
    ap.add_argument("--model", help="a LLaDA or Dream folder instead of random weights")
    ap.add_argument("--prompts", help="JSONL prompts (default: random ids)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", default="bfloat16")
    ap.add_argument("--gen-length", type=int, default=256)
    ap.add_argument("--block", type=int, default=32)
    ap.add_argument("--prompt-length", type=int, default=64)
    ap.add_argument("--batch-sizes", type=lambda s: [int(x) for x in s.split(",")],
                    default=[1, 16])
    ap.add_argument("--hbm-tbps", type=float, help="HBM bandwidth for the roofline")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.parquet")):
        raise SystemExit(f"{out} already holds traces; give an empty --out")
    tic = time.perf_counter()
    den = _model(args)
    report: dict[str, Any] = {
        "device": args.device, "dtype": args.dtype, "shape": args.model or args.shape,
        "gpu": torch.cuda.get_device_name(args.device) if args.device.startswith("cuda")
        else None, "cpu": describe_cpu(), "torch": torch.__version__,
        "load_s": time.perf_counter() - tic}
    report["forward"] = forward_latency(args, den)
    report["decode"] = decode_configs(args, den, out)
    report["deterministic"] = determinism(args, den, out)
    report["torchrun"] = torchrun_smoke(args, out)
    report["total_s"] = time.perf_counter() - tic
    (out / "gpu_llada.json").write_text(json.dumps(report, indent=1) + "\n")
    f = report["forward"]
    print(f"# gpu_llada: {report['shape']} {args.dtype} on {report['gpu'] or args.device} "
          f"({report['cpu']}); load {report['load_s']:.1f} s, total {report['total_s']:.1f} s")
    roof = "n/a" if f["roofline_s"] is None else f"{f['roofline_s'] * 1e3:.2f} ms"
    print(f"forward: refresh {f['refresh_s'] * 1e3:.2f} ms, dual block "
          f"{f['block_s'] * 1e3:.2f} ms, roofline {roof}")
    print("| config | batch | calls | per-sequence calls | tokens/s | same as rule |")
    print("|---|---:|---:|---:|---:|---|")
    for r in report["decode"]:
        same = "" if r["identical_to_rule"] is None else str(r["identical_to_rule"])
        print(f"| {r['config']} | {r['batch']} | {r['calls']} | {r['sequence_calls']} | "
              f"{r['tokens_per_second']:.1f} | {same} |")
    print("deterministic kernels, two runs identical: "
          f"{report['deterministic']['identical_bits']}")
    print(f"torchrun: {report['torchrun']}")
    return report


if __name__ == "__main__":
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    main()
