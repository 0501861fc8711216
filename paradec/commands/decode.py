"""``paradec decode``: decode prompts with a real model and write a confidence trace.

Example::

    paradec decode --model antiberty --rule frechet --delta 0.25 --trace runs/ab.parquet
    paradec decode --model tiny-random --rule quota --k 1 --cache dual --block 8 \
        --freedave 4 --verify tree-attention --trace runs/fd.parquet --json
    paradec decode --model /data/LLaDA-8B-Instruct --prompts gsm.jsonl --rule threshold \\
        --tau 0.9 --cache prefix --block 32 --gen-length 256 --dtype bfloat16 \\
        --device cuda --batch-size 8 --trace runs/llada.parquet --json

A killed run continues with the same arguments plus ``--resume`` (finished batches are
kept; the result equals an uninterrupted run). ``torchrun --nproc_per_node N -m paradec
decode ...`` shards the batches over N processes (batch b on rank b mod N), each writes
``OUT.rankRofN.parquet`` and rank 0 merges them into OUT (docs/reliability.md). An
existing OUT is refused unless ``--overwrite`` (then replaced atomically at the end).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

__all__ = ["add_parser", "run"]

_RULES = ("quota", "threshold", "factor", "frechet", "tight", "entropy")
_PARAMS = {"k": "quota", "tau": "threshold", "f": "factor", "delta": "frechet or tight",
           "gamma": "entropy"}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "decode", help="decode prompts with a real model; write a confidence trace",
        description=__doc__.split("\n")[0].replace("``", "") if __doc__ else None)
    p.add_argument("--model", required=True,
                   help="a LLaDA checkpoint folder, a transformers masked-LM folder, "
                        "'antiberty', 'tiny-random' or the name of a shipped model")
    p.add_argument("--prompts", help="JSONL with {prompt[, suffix, answer]} or {input_ids"
                   "[, suffix_ids, answer_ids]}; default: the model's built-in prompt set")
    p.add_argument("--limit", type=int, help="decode only the first N prompts")
    p.add_argument("--rule", required=True, choices=_RULES, help="commit rule (theory.RULES)")
    for name, rule in _PARAMS.items():
        p.add_argument(f"--{name}", type=float, help=f"parameter of the {rule} rule")
    p.add_argument("--steps", type=int, help="LLaDA's total steps for the quota schedule "
                   "(k_t = llada_quota(m0, steps / blocks, t)); quota rule only")
    p.add_argument("--fastdllm-quirks", action="store_true",
                   help="factor rule as Fast-dLLM's code runs it")
    p.add_argument("--cache", choices=("none", "prefix", "dual"), default="none")
    p.add_argument("--block", type=int, help="block length (default: the whole generation)")
    p.add_argument("--gen-length", type=int, help="tokens to generate (default per model)")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--dtype", choices=("float32", "bfloat16", "float16", "auto"),
                   default="float32",
                   help="float32 (exact; the default), bfloat16, float16, or auto: a one-second "
                        "probe picks bfloat16 where its forward is at least 1.2x faster")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    p.add_argument("--seed", type=int, default=0, help="seeds tiny-random and the noise")
    p.add_argument("--temperature", type=float, default=0.0)
    p.add_argument("--eos", choices=("none", "forbid", "defer", "llada_quirk"), default="none")
    p.add_argument("--stop-at-eos", action="store_true")
    p.add_argument("--forbid-mask", action="store_true",
                   help="never predict the mask token (its logit is -inf)")
    p.add_argument("--no-chat", action="store_true", help="do not apply a chat template")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="let transformers run a masked-LM folder's own code (off by default; "
                        "LLaDA and shipped checkpoints never need it)")
    p.add_argument("--trace", required=True, help="output trace, OUT.parquet (an existing "
                   "one is refused unless --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing OUT.parquet (atomically, once the run is done)")
    p.add_argument("--resume", action="store_true",
                   help="continue the interrupted run that left OUT.parquet.partial/ (same "
                        "arguments; a different model, rule, config, prompt set, batch size "
                        "or seed is refused)")
    p.add_argument("--deterministic", action="store_true",
                   help="bit-reproducible kernels: torch deterministic algorithms, "
                        "CUBLAS_WORKSPACE_CONFIG, TF32 off, cuDNN deterministic")
    p.add_argument("--json", action="store_true", help="print one JSON summary object")
    p.add_argument("--progress", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--freedave", type=_draft_width, metavar="K|auto",
                   help="FreeDave: verify K drafts per call; the output equals the rule's own "
                        "decoding (any rule, temperature 0) and the trace is the rule's trace. "
                        "auto: each round picks the width in 1..8 with the most expected steps "
                        "per second (call cost measured at start-up, or --freedave-cost); a "
                        "block that starts at width 1 runs the rule's own loop")
    p.add_argument("--freedave-cost", metavar="FIXED,PER_STATE",
                   help="with --freedave auto: the cost of one call on N states, FIXED + "
                        "PER_STATE * N seconds (default: measured on the device)")
    p.add_argument("--draft", choices=("nested", "tree", "stride"), default="nested",
                   help="FreeDave drafts: the paper's nested chain (one more position a draft), a "
                        "runner-up tree, or a stride chain (as many more as the rule commits)")
    p.add_argument("--freedave-accept", choices=("exact", "subset"), default="exact",
                   help="FreeDave acceptance: exact (the rule's own output) or subset "
                        "(FreeDave++: each move commits a subset of the rule's set at its "
                        "state; the output may differ from the rule's)")
    p.add_argument("--verify", choices=("batch", "tree-attention"), default="batch",
                   help="FreeDave verification: replicated cache along the batch, or one "
                        "sequence with a tree attention mask")
    p.set_defaults(run=run)


def _rule(args: argparse.Namespace) -> Any:
    return rule_from(args.rule, {name: getattr(args, name) for name in _PARAMS},
                     fastdllm_quirks=args.fastdllm_quirks, prefix="--")


def rule_from(name: str, params: dict[str, float | None], *, fastdllm_quirks: bool = False,
              prefix: str = "") -> Any:
    """The theory rule ``name`` with its parameter from ``params`` (k, tau, f, delta,
    gamma: None when not given); ValueError naming a parameter of another rule, a
    non-integer k or an unknown rule. ``prefix`` is how the caller spells a parameter
    ("--" on the command line, "" in lm-eval's model_args)."""
    from theory import RULES, make_rule

    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; choose from {', '.join(RULES)}")
    cls = RULES[name]
    given = {key for key, value in params.items() if value is not None}
    wrong = given - {cls.parameter}
    if wrong:
        raise ValueError(f"{prefix}{sorted(wrong)[0]} is not a parameter of the {name} rule "
                         f"(its parameter is {prefix}{cls.parameter})")
    value = params.get(cls.parameter)
    if name == "quota" and value is not None:
        if not math.isfinite(value) or value != int(value):
            raise ValueError(f"{prefix}k must be an integer, got {value}")
        value = int(value)
    options = {"fastdllm_quirks": True} if fastdllm_quirks else {}
    if options and name != "factor":
        raise ValueError(f"{prefix}fastdllm-quirks applies to the factor rule only")
    return make_rule(name, value, **options)


def run(args: argparse.Namespace) -> int:
    from realmodel.distributed import from_env, set_deterministic

    world = from_env()
    if args.deterministic:
        set_deterministic()          # before the model (and CUDA) is loaded
    rule = _rule(args)
    if args.freedave is None and (args.draft != "nested" or args.verify != "batch"
                                  or args.freedave_accept != "exact"):
        raise ValueError("--draft, --verify and --freedave-accept need --freedave K")
    if args.freedave_cost is not None and args.freedave != "auto":
        raise ValueError("--freedave-cost needs --freedave auto")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.gen_length is not None and args.gen_length < 1:
        raise ValueError(f"--gen-length must be >= 1, got {args.gen_length}")
    _check_trace(args, world)
    device = world.device(args.device)
    world.init(device)
    try:
        return _run(args, world, device, rule)
    finally:
        world.close()


def _run(args: argparse.Namespace, world: Any, device: str, rule: Any) -> int:
    from realmodel.distributed import rank_trace_path
    from realmodel.engine import DecodeConfig, Engine
    from realmodel.engine.prompts import DecodeResult
    from realmodel.model.denoiser import check_prompts_fit
    from realmodel.models import builtin_prompts, load_denoiser, read_prompts
    from realmodel.trace import TraceWriter, provenance
    from realmodel.trace.io import prompts_digest
    from realmodel.trace.merge import merge_traces

    auto = args.dtype == "auto"  # fp32 unless bf16 is clearly faster on this device
    denoiser = load_denoiser(args.model, dtype="float32" if auto else args.dtype, device=device,
                             seed=args.seed, chat=not args.no_chat,
                             trust_remote_code=args.trust_remote_code)
    probe = None
    if auto:
        from realmodel.machine import faster_dtype

        probe = faster_dtype(denoiser, args.batch_size,
                             (args.gen_length or denoiser.default_gen_length) + 64)
        args.dtype = probe["dtype"]
        low = probe.get("bfloat16_error") or f"{probe['bfloat16_s'] * 1e3:.1f} ms"
        print(f"--dtype auto: {args.dtype} (forward float32 {probe['float32_s'] * 1e3:.1f} ms, "
              f"bfloat16 {low}, on {probe['cpu']})", file=sys.stderr)
    L = args.gen_length or denoiser.default_gen_length
    block = args.block or trained_block(args.model) or L
    config = DecodeConfig(rule=rule, gen_length=L, block_length=block,
                          steps=args.steps, cache=args.cache, temperature=args.temperature,
                          eos=args.eos, stop_at_eos=args.stop_at_eos, seed=args.seed,
                          forbid_mask=args.forbid_mask)
    if args.prompts:
        prompts = read_prompts(args.prompts, denoiser)
        source = args.prompts
    else:
        prompts = builtin_prompts(args.model, denoiser, L)
        source = f"built-in ({args.model})"
    if args.limit is not None:
        prompts = prompts[:max(0, args.limit)]
    if not prompts:
        raise ValueError("no prompts to decode")
    check_prompts_fit(prompts, L, denoiser)  # before any trace file exists
    engine = Engine(denoiser, config)
    fd = _freedave_config(args, config)
    layout = {"world_size": world.size, "rank": world.rank} if world.distributed else {}
    meta = provenance(denoiser, config, batch_size=args.batch_size, prompts=source,
                      argv=sys.argv[1:], n_prompts=len(prompts),
                      prompts_sha256=prompts_digest(prompts), deterministic=args.deterministic,
                      freedave=None if fd is None else freedave_meta(fd),
                      **({"dtype_probe": probe} if probe else {}), **layout)
    size = args.batch_size
    n_batches = -(-len(prompts) // size)
    todo: list[int] = []
    writer = None
    if not (world.distributed and args.resume and _merged(args.trace, meta)):
        path = rank_trace_path(args.trace, world) if world.distributed else args.trace
        writer = TraceWriter(path, meta, resume=args.resume)
        todo = [b for b in world.mine(n_batches) if b not in writer.done]
    bar = _progress(args, sum(len(prompts[b * size:(b + 1) * size]) for b in todo) * L)
    now = DecodeResult()
    strategy = None
    if fd is not None:
        from realmodel.freedave import FreeDaveBlocks

        strategy = FreeDaveBlocks(fd)
    if writer is not None:
        with writer:
            now = engine.decode(prompts, batch_size=size, batches=todo, trace=writer,
                                progress=None if bar is None else bar.update,
                                strategy=strategy)
    if bar is not None:
        bar.close()
    if world.distributed:
        world.barrier()
        if world.rank != 0:
            return 0
        if writer is not None:
            merge_traces(args.trace, [rank_trace_path(args.trace, _with_rank(world, r))
                                      for r in range(world.size)], remove_parts=True)
    whole = len(todo) == n_batches
    result = now if whole else _result_from_trace(args.trace, prompts, now)
    freedave = None if strategy is None else _freedave_summary(strategy, now, whole,
                                                               config.rule.label())
    return _report(args, denoiser, rule, config, prompts, result, freedave, now=now,
                   resumed=not whole)


def _check_trace(args: argparse.Namespace, world: Any) -> None:
    """Refuse an existing trace (under torchrun also this rank's own file) unless
    --overwrite, and a trace that is the prompt file; --resume continues what is there."""
    from paradec.commands.outputs import check_output
    from realmodel.distributed import rank_trace_path

    if args.resume:
        if args.overwrite:
            raise ValueError("--resume continues the run in --trace and --overwrite replaces "
                             "it: pass one of them")
        return
    paths = [args.trace, *([rank_trace_path(args.trace, world)] if world.distributed else [])]
    for path in paths:
        check_output(path, "--trace", overwrite=args.overwrite, resume=True,
                     inputs=[("--prompts", args.prompts)])


def _with_rank(world: Any, rank: int) -> Any:
    from dataclasses import replace

    return replace(world, rank=rank)


def _merged(out: str, meta: dict[str, Any]) -> bool:
    """Whether a resumed multi-process run finds ``out`` already merged (same run)."""
    from pathlib import Path

    from realmodel.trace import read_trace
    from realmodel.trace.io import run_mismatch

    if not Path(out).is_file():
        return False
    trace = read_trace(out)
    diff = run_mismatch(trace.provenance, meta, ignore=("rank",))
    if diff is not None:
        raise ValueError(f"cannot resume: {out} is from a different run ({diff})")
    return trace.complete


def _result_from_trace(path: str, prompts: Any, now: Any) -> Any:
    """The whole run's results, read back from the finished trace (a resumed or sharded
    run decoded only part of it in this process); times are this process's."""
    import numpy as np
    import pyarrow.compute as pc

    from realmodel.engine.prompts import DecodeResult, SequenceResult
    from realmodel.trace import read_trace

    trace = read_trace(path)
    trace.require_complete("the decode summary")
    table = trace.table
    seq = table.column("sequence").to_numpy()
    batch = table.column("batch").to_numpy()
    calls = table.column("calls").to_numpy()
    n = pc.list_value_length(table.column("committed")).to_numpy()
    out = []
    for f in trace.sequences():
        s, p = f["sequence"], prompts[f["sequence"]]
        out.append(SequenceResult(row=s, prompt_ids=f["prompt_ids"], generated=f["generated"],
                                  steps=f["steps"], commits=n[seq == s].tolist(),
                                  answer=p.answer, answer_ids=None if p.answer_ids is None
                                  else list(p.answer_ids)))
    total = sum(int(calls[batch == b].max()) for b in np.unique(batch))
    return DecodeResult(sequences=out, calls=total, wall_seconds=now.wall_seconds,
                        forward_seconds=now.forward_seconds)


def _report(args: argparse.Namespace, denoiser: Any, rule: Any, config: Any, prompts: Any,
            result: Any, freedave: dict[str, Any] | None, now: Any, resumed: bool) -> int:
    """Print the summary of ``result`` (the whole run); rates and times are those of
    ``now``, the batches this process decoded (all of them unless ``resumed``)."""
    from realmodel.models import score

    L = config.gen_length
    scores = score(result, denoiser)
    totals = {"sequences": len(result.sequences), "calls": result.calls,
              "sequence_calls": result.sequence_steps, "tokens": result.generated_tokens,
              "tokens_per_call": result.tokens_per_call,
              "tokens_per_second": now.tokens_per_second,
              "wall_seconds": now.wall_seconds, "forward_seconds": now.forward_seconds,
              "tokens_this_process": now.generated_tokens, **scores}
    if freedave is not None:
        totals["states"] = freedave["states"]
    if args.json:
        print(json.dumps({
            "model": denoiser.identity()["id"], "rule": rule.label(), "cache": args.cache,
            "device": str(denoiser.device), "dtype": args.dtype, "trace": args.trace,
            "resumed": resumed,
            "sequences": [{"sequence": s.row, "name": p.name, "generated": s.generated,
                           "calls": s.steps, "text": s.text}
                          for s, p in zip(result.sequences, prompts, strict=True)],
            "totals": totals, "freedave": freedave}))
        return 0
    print(f"model {denoiser.identity()['id']} ({args.dtype}, {denoiser.device}); rule "
          f"{rule.label()}; cache {args.cache}; block {config.block_length}; gen length {L}")
    print(f"{len(result.sequences)} sequences, batch size {args.batch_size}: "
          f"{result.calls} forward calls ({result.sequence_steps} per-sequence), "
          f"{result.tokens_per_call:.2f} tokens per call, "
          f"{now.tokens_per_second:.1f} tokens per second"
          + (f" (over the {now.generated_tokens} tokens this process decoded)" if resumed
             else ""))
    for key in ("accuracy", "recovery"):
        if key in scores:
            print(f"{key}: {scores[key]:.3f}")
    if freedave is not None:
        print(f"FreeDave K={args.freedave} ({args.draft}, verify {args.verify}): "
              f"{freedave['states']} states evaluated; accepted lengths "
              f"{freedave['acceptance_histogram']}")
    print(f"trace: {args.trace}")
    return 0


AUTO_K_MAX = 8  # the widest draft --freedave auto considers


def _draft_width(text: str) -> int | str:
    """``--freedave``: a width K >= 1 or ``auto``."""
    if text == "auto":
        return text
    try:
        K = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"K must be an integer >= 1 or 'auto', got {text!r}") \
            from None
    if K < 1:
        raise argparse.ArgumentTypeError(f"K must be >= 1, got {K}")
    return K


def _freedave_config(args: argparse.Namespace, config: Any) -> Any:
    return freedave_from(args.freedave, config, draft=args.draft, verify=args.verify,
                         accept=args.freedave_accept, cost=args.freedave_cost)


def freedave_from(freedave: int | str | None, config: Any, *, draft: str = "nested",
                  verify: str = "batch", accept: str = "exact", cost: str | None = None
                  ) -> Any:
    """The FreeDaveConfig of a width K or "auto" (None: no FreeDave) for the decode
    ``config``; ValueError when that decoding is not deterministic."""
    if freedave is None:
        return None
    from realmodel.freedave import FreeDaveConfig, check_config
    from theory.freedave.auto import CallCost

    check_config(config)
    auto = freedave == "auto"
    call_cost = None if cost is None else CallCost.parse(cost)
    return FreeDaveConfig(AUTO_K_MAX if auto else int(freedave), draft, verify, accept,
                          auto=auto, cost=call_cost)


def freedave_meta(fd: Any) -> dict[str, Any]:
    """FreeDave's settings for the trace's provenance."""
    meta = {"K": "auto" if fd.auto else fd.K, "draft": fd.draft, "verify": fd.verify,
            "accept": fd.accept}
    if fd.auto:
        meta["K_max"] = fd.K
        meta["cost"] = None if fd.cost is None else [fd.cost.fixed, fd.cost.per_state]
    return meta


def _freedave_summary(strategy: Any, result: Any, whole: bool, rule_label: str
                      ) -> dict[str, Any]:
    """FreeDave's counters over the batches this process decoded (all of them unless the
    run was resumed or sharded: then ``scope`` says so)."""
    from realmodel.freedave import FreeDaveRun

    fd = strategy.fd
    run = FreeDaveRun(result)
    hist: dict[int, int] = {}
    for rounds in run.accepted:
        for b in rounds:
            hist[b] = hist.get(b, 0) + 1
    return {**freedave_meta(fd), "rule": rule_label, "calls": result.calls,
            **({"auto": strategy.auto.describe()} if strategy.auto is not None else {}),
            "states": run.total_states, "sequence_states": run.states,
            "acceptance_histogram": dict(sorted(hist.items())),
            "scope": "all batches" if whole else "batches decoded by this process"}


def _progress(args: argparse.Namespace, total: int) -> Any:
    on = args.progress == "on" or (args.progress == "auto" and sys.stderr.isatty())
    if not on:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="tok", desc="decode", file=sys.stderr)


def trained_block(model: str) -> int | None:
    """The block length a shipped model was trained with (None for other models)."""
    from realmodel.shipped import generation_defaults, is_shipped

    return generation_defaults(model)["block_length"] if is_shipped(model) else None
