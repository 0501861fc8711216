"""Report sections on a real model: every rule against static decoding, and FreeDave.

:func:`load_setup` resolves the model and prompts once (a shipped model on its held-out
problems, or any model on a user's prompt file). :func:`sweep` decodes the prompts with
static decoding (Quota(1)) and every rule of the sweep, :func:`static_trace` writes the
static run's confidence trace (the input of replay, FreeDave's predictions and the
trace figures), :func:`freedave` runs real FreeDave decoding for each K and checks its
output is identical to static decoding's.

Rows (one per rule setting, :func:`realmodel.shipped.score`) carry: accuracy ± se (None
without reference answers), agreement with static decoding (tokens, whole sequences,
answers), calls per sequence (its own forward calls = calls at batch size 1), generated
tokens per call, tokens per second (wall clock of this run, batched), and the ratios
static / rule of calls and of wall time (> 1: faster than static).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from paradec.experiments.options import SWEEPS, ReportOptions

__all__ = ["Setup", "load_setup", "sweep_rules", "sweep", "static_trace", "freedave",
           "freedave_rules", "FREEDAVE_RULES"]

Context = dict[str, Any]


@dataclass
class Setup:
    """A loaded model and its prompts; ``problems`` are the shipped task's (with reference
    answers) or None for a user prompt file."""

    denoiser: Any
    prompts: list[Any]
    problems: list[Any] | None
    shape: dict[str, int]
    name: str
    cache: str = "none"
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self, rule: Any = None) -> Any:
        """The DecodeConfig of ``rule`` (default static Quota(1)) at this model's shape."""
        from realmodel.engine import DecodeConfig
        from theory import Quota

        return DecodeConfig(rule=Quota(1) if rule is None else rule,
                            gen_length=self.shape["gen_length"],
                            block_length=self.shape["block_length"], cache=self.cache)


def load_setup(opts: ReportOptions) -> Setup:
    """The model of ``opts`` and the first ``opts.problems`` prompts."""
    import torch

    from realmodel.model.denoiser import check_prompts_fit
    from realmodel.models import DTYPES, load_denoiser, read_prompts
    from realmodel.shipped import (
        generation_defaults,
        heldout_problems,
        is_shipped,
        load_shipped,
        problem_prompts,
    )

    if opts.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {opts.device!r} requested but CUDA is not available")
    torch.manual_seed(opts.seed)
    if opts.device == "cpu":
        torch.set_num_threads(opts.threads)
    problems = None
    denoiser: Any
    if is_shipped(opts.model):
        denoiser = load_shipped(opts.model, device=opts.device, dtype=DTYPES[opts.dtype])
        defaults = generation_defaults(opts.model)
    else:
        if opts.prompts is None:
            raise ValueError(f"--model {opts.model!r} is not a shipped model: give a prompt "
                             "file with --prompts FILE (JSONL, one {\"prompt\": ...} a line)")
        denoiser = load_denoiser(opts.model, dtype=opts.dtype, device=opts.device,
                                 seed=opts.seed)
        defaults = {"gen_length": 256, "block_length": 32}
    if opts.prompts is not None:
        prompts = read_prompts(opts.prompts, denoiser)[:opts.problems]
    else:
        held = heldout_problems(opts.model)
        if opts.problems > len(held):
            raise ValueError(f"--problems {opts.problems}: the held-out set has {len(held)}")
        problems = held[:opts.problems]
        prompts = problem_prompts(problems, denoiser)
    L = opts.gen_length or defaults["gen_length"]
    check_prompts_fit(prompts, L, denoiser)  # before minutes of decoding
    b = opts.block_length or min(defaults["block_length"], L)
    if L % b:
        raise ValueError(f"--gen-length {L} is not a multiple of --block-length {b}")
    return Setup(denoiser, prompts, problems, {"gen_length": L, "block_length": b},
                 name=str(opts.model), cache=opts.cache)


def sweep_rules(sweep_name: str) -> list[Any]:
    """Quota(1) (static) then every rule of the named sweep, in :data:`SWEEPS` order."""
    from realmodel.shipped import sweep_rules as expand

    return expand(["all"], sweep=SWEEPS[sweep_name])


def sweep(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """Static decoding and every rule of the sweep on the prompts (see the module):
    :func:`realmodel.shipped.run_sweep`, the sweep ``paradec eval`` runs too."""
    from realmodel.engine import decode
    from realmodel.shipped import min_static_accuracy, run_sweep

    setup: Setup = ctx["setup"]
    warm = setup.prompts[:min(4, len(setup.prompts))]
    decode(setup.denoiser, warm, setup.config(), batch_size=len(warm))
    rows, static = [], None
    for row, result in run_sweep(setup.denoiser, setup.prompts, sweep_rules(opts.sweep),
                                 setup.config(), problems=setup.problems,
                                 batch_size=opts.batch_size, against_static=True):
        rows.append(row)
        static = result if static is None else static
    base = rows[0]
    ctx["sweep_rows"], ctx["static_result"] = rows, static
    ok = True
    line = f"{len(setup.prompts)} prompts x {len(rows)} rule settings"
    if base["accuracy"] is not None:
        line += f"; static accuracy {base['accuracy']:.3f} ± {base['accuracy_se']:.3f}"
        floor = min_static_accuracy(opts.model)
        if opts.published and opts.problems >= 100 and floor is not None:
            ok = base["accuracy"] >= floor
            line += f" (the shipped model must reach {floor})"
    return {"rows": rows, "ok": ok, "line": line}


def static_trace(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """The static run again with a trace writer; its tokens must equal the untraced run's."""
    from realmodel.engine import decode
    from realmodel.trace import TraceWriter, provenance, read_trace

    setup: Setup = ctx["setup"]
    config = setup.config()
    path = opts.out_dir / "static.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    with TraceWriter(path, provenance(setup.denoiser, config, batch_size=opts.batch_size,
                                      report_seed=opts.seed)) as writer:
        result = decode(setup.denoiser, setup.prompts, config, batch_size=opts.batch_size,
                        trace=writer)
    trace = read_trace(path)
    ctx["trace"] = trace
    same = all(a.generated == b.generated for a, b in
               zip(result.sequences, ctx["static_result"].sequences, strict=True))
    return {"path": str(path), "rows": len(trace), "ok": same,
            "line": f"{len(trace)} logged steps in {path.name}; traced run identical to the "
                    f"untimed static run: {'yes' if same else 'NO'}"}


def freedave(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """Real FreeDave decoding for every K next to the calls predicted from the static trace;
    fails unless every output is identical to static decoding's."""
    from realmodel.engine import Engine
    from realmodel.freedave import FreeDaveConfig, freedave_decode, predict_calls

    setup: Setup = ctx["setup"]
    static = ctx["static_result"]
    static_calls = static.sequence_steps
    engine = Engine(setup.denoiser, setup.config())
    rows = []
    for K in opts.freedave_k:
        run = freedave_decode(engine, FreeDaveConfig(K=K), setup.prompts,
                              batch_size=opts.batch_size)
        predicted = predict_calls(ctx["trace"], K)
        measured = [s.steps for s in run.result.sequences]
        identical = sum(a.generated == b.generated for a, b in
                        zip(run.result.sequences, static.sequences, strict=True))
        hist = Counter(a for acc in run.accepted for a in acc)
        rows.append({
            "K": K, "predicted_calls": predicted["total"], "measured_calls": sum(measured),
            "static_calls": static_calls,
            "sequences_predicted_exactly": sum(
                p == m for p, m in zip(predicted["per_sequence"], measured, strict=True)),
            "calls_speedup": static_calls / sum(measured),
            "wall_seconds": run.result.wall_seconds,
            "wall_speedup": static.wall_seconds / run.result.wall_seconds,
            "identical_sequences": identical, "sequences": len(measured),
            "identical": identical == len(measured),
            "acceptance_measured": {int(k): v for k, v in sorted(hist.items())},
            "acceptance_predicted": {int(k): v for k, v in
                                     predicted["acceptance_histogram"].items()}})
    ctx["freedave_rows"] = rows
    ok = all(r["identical"] for r in rows)
    exact = all(r["predicted_calls"] == r["measured_calls"] for r in rows)
    line = ", ".join(f"K={r['K']}: {r['calls_speedup']:.2f}x fewer calls" for r in rows)
    line += "; output identical to static: " + ("yes" if ok else "NO") + \
        "; predicted calls = measured: " + ("yes" if exact else "no")
    return {"rows": rows, "ok": ok, "predicted_equals_measured": exact, "line": line}


#: the rules the report runs FreeDave over (static decoding is the section before)
FREEDAVE_RULES = (("threshold", 0.9), ("frechet", 0.1), ("tight", 0.1))


def freedave_rules(opts: ReportOptions, ctx: Context) -> dict[str, Any]:
    """FreeDave over threshold 0.9, Fréchet 0.1 and tight 0.1 (K = 4, nested drafts):
    exact acceptance (must equal the rule's own output, calls predicted from the rule's
    trace), subset acceptance (FreeDave++) and compute-aware K (auto, up to 8; must equal
    the rule's output), against the rule alone and static."""
    from realmodel.engine import Engine, decode
    from realmodel.freedave import FreeDaveConfig, freedave_decode, predict_calls
    from realmodel.shipped import score
    from realmodel.trace import TraceWriter, provenance, read_trace
    from theory import make_rule

    setup: Setup = ctx["setup"]
    static = ctx["static_result"]
    rows = []
    for name, value in FREEDAVE_RULES:
        rule = make_rule(name, value)
        config = setup.config(rule)
        path = opts.out_dir / f"{name}.parquet"
        with TraceWriter(path, provenance(setup.denoiser, config, batch_size=opts.batch_size,
                                          report_seed=opts.seed)) as writer:
            alone = decode(setup.denoiser, setup.prompts, config,
                           batch_size=opts.batch_size, trace=writer)
        predicted = predict_calls(read_trace(path), 4)
        engine = Engine(setup.denoiser, config)
        for accept, fd in (("exact", FreeDaveConfig(4)),
                           ("subset", FreeDaveConfig(4, accept="subset")),
                           ("exact, auto K", FreeDaveConfig(8, auto=True))):
            run = freedave_decode(engine, fd, setup.prompts, batch_size=opts.batch_size).result
            row = score(setup.denoiser, rule, run, setup.problems, static)
            own = sum(a.generated == b.generated for a, b in
                      zip(run.sequences, alone.sequences, strict=True)) / len(run.sequences)
            row.update(accept=accept, rule_calls=alone.sequence_steps,
                       measured_calls=run.sequence_steps,
                       predicted_calls=predicted["total"] if accept == "exact" else None,
                       calls_ratio=alone.sequence_steps / run.sequence_steps,
                       wall_ratio=alone.wall_seconds / run.wall_seconds,
                       rule_agreement=own)
            rows.append(row)
    ctx["freedave_rule_rows"] = rows
    exact = [r for r in rows if r["accept"] == "exact"]
    ok = all(r["rule_agreement"] == 1.0 and r["predicted_calls"] == r["measured_calls"]
             for r in exact) and all(r["rule_agreement"] == 1.0 for r in rows
                                     if r["accept"] == "exact, auto K")
    line = "; ".join(f"{r['label']}: {r['calls_ratio']:.2f}x fewer calls" for r in exact)
    line += "; exact output = the rule's and predicted calls = measured: " + \
        ("yes" if ok else "NO")
    return {"rows": rows, "ok": ok, "line": line}
