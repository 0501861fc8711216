"""paradec as an lm-evaluation-harness model: ``generate_until`` through the one engine.

Registered as ``paradec`` in lm-eval's model registry when this module is imported (the
``paradec lm-eval`` command does that). Requests are decoded ``batch_size`` at a time in
the order lm-eval gives them, with the engine's padding (left padding, key mask, positions
from the mask), so a request's output does not depend on its batch in fp32. Each text is
the generated tokens up to the first EOS, cut at the first of the request's ``until``
strings. ``loglikelihood`` is refused: a masked diffusion LM has no left-to-right
likelihood to score continuations with.

Per request :attr:`ParadecLM.stats` keeps forward calls, tokens per call, wall seconds
(its batch's wall time shared over the batch's rows) and, with FreeDave, states and the
accepted steps per round; ``paradec lm-eval`` merges them into lm-eval's samples and a
summary into its results. ``trace=PATH`` writes the confidence trace of the whole run,
crash-safe as ``paradec decode``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from paradec.lmeval.args import parse_model_args

__all__ = ["ParadecLM"]


@register_model("paradec")
class ParadecLM(LM):
    """The ``paradec`` model of lm-eval (module docstring); ``model_args`` are
    :class:`paradec.lmeval.args.LMArgs`."""

    def __init__(self, **model_args: Any) -> None:
        super().__init__()
        from paradec.commands.decode import freedave_from, rule_from, trained_block
        from realmodel.engine import DecodeConfig, Engine
        from realmodel.models import load_denoiser

        args = parse_model_args(model_args)
        rule = rule_from(args.rule, args.params)
        # everything is validated before the model is loaded
        probe = DecodeConfig(rule=rule, steps=args.steps, cache=args.cache,
                             temperature=args.temperature, eos=args.eos, seed=args.seed,
                             gen_length=args.gen_length or 32, block_length=args.block
                             or args.gen_length or 32)
        freedave_from(args.freedave, probe, draft=args.draft, verify=args.verify,
                      accept=args.freedave_accept)
        if args.trace is not None:  # an existing trace is never replaced
            from paradec.commands.outputs import check_output

            if not args.trace.endswith(".parquet"):
                raise ValueError(f"model_args trace={args.trace!r}: a trace ends in .parquet")
            check_output(args.trace, "model_args trace", overwrite=False)
        self.args = args
        self.denoiser = load_denoiser(args.model, dtype=args.dtype, device=args.device,
                                      seed=args.seed, chat=args.chat)
        L = args.gen_length or self.denoiser.default_gen_length
        self.config = DecodeConfig(rule=rule, gen_length=L,
                                   block_length=args.block or trained_block(args.model) or L,
                                   steps=args.steps, cache=args.cache,
                                   temperature=args.temperature, eos=args.eos, seed=args.seed)
        self.freedave = freedave_from(args.freedave, self.config, draft=args.draft,
                                      verify=args.verify, accept=args.freedave_accept)
        self.engine = Engine(self.denoiser, self.config)
        self.stats: dict[tuple[str | None, int | None], dict[str, Any]] = {}
        self.totals: dict[str, Any] = {"requests": 0, "calls": 0, "sequence_calls": 0,
                                       "tokens": 0, "wall_seconds": 0.0}

    @property
    def batch_size(self) -> int:
        return self.args.batch_size

    # -- lm-eval's interface --------------------------------------------------------
    def loglikelihood(self, requests: Sequence[Any]) -> list[tuple[float, bool]]:
        raise NotImplementedError(
            "paradec evaluates generation tasks (output_type generate_until): a masked "
            "diffusion LM has no left-to-right likelihood to score a continuation. Use a "
            "generate_until task (gsm8k, minerva_math, humaneval, mbpp) or lm-eval's hf "
            "model for multiple-choice tasks")

    def loglikelihood_rolling(self, requests: Sequence[Any]) -> list[float]:
        return self.loglikelihood(requests)  # type: ignore[return-value]

    def apply_chat_template(self, chat_history: list[dict[str, str]],
                            add_generation_prompt: bool = True) -> str:
        tok = getattr(self.denoiser, "tokenizer", None)
        if tok is None or not getattr(tok, "chat_template", None):
            raise ValueError(f"model {self.args.model!r} has no chat template; drop "
                             "--apply_chat_template")
        return str(tok.apply_chat_template(chat_history, tokenize=False,
                                           add_generation_prompt=add_generation_prompt))

    @property
    def tokenizer_name(self) -> str:
        return str(self.denoiser.identity()["id"])

    def generate_until(self, requests: Sequence[Any], disable_tqdm: bool = False) -> list[str]:
        from realmodel.engine.prompts import DecodeResult, Prompt
        from realmodel.freedave import FreeDaveBlocks
        from realmodel.model.denoiser import check_prompts_fit
        from realmodel.shipped.evaluate import answer_text

        prompts = []
        for i, request in enumerate(requests):
            context, gen_kwargs = request.args
            _check_gen_kwargs(gen_kwargs)
            ids, suffix = self.denoiser.encode(context)
            prompts.append(Prompt(ids=tuple(ids), suffix=tuple(suffix), name=f"request-{i}"))
        check_prompts_fit(prompts, self.config.gen_length, self.denoiser)
        strategy = None if self.freedave is None else FreeDaveBlocks(self.freedave)
        parts = self._decode(prompts, strategy)
        result = DecodeResult.merge(parts)
        out = []
        size = self.batch_size
        for i, (request, seq) in enumerate(zip(requests, result.sequences, strict=True)):
            text = answer_text(self.denoiser, seq.generated)
            until = request.args[1].get("until") or []
            for stop in [until] if isinstance(until, str) else until:
                if stop and stop in text:
                    text = text[:text.index(stop)]
            out.append(text)
            batch = parts[i // size]
            rows = len(batch.sequences)
            self.stats[(request.task_name, request.doc_id)] = {
                "calls": seq.steps, "tokens": len(seq.generated),
                "tokens_per_call": len(seq.generated) / max(seq.steps, 1),
                "wall_seconds": batch.wall_seconds / rows, "batch_calls": batch.calls,
                **({} if seq.states is None else {"states": seq.states,
                                                  "accepted": list(seq.commits)})}
        self.totals["requests"] += len(requests)
        self.totals["calls"] += result.calls
        self.totals["sequence_calls"] += result.sequence_steps
        self.totals["tokens"] += result.generated_tokens
        self.totals["wall_seconds"] += result.wall_seconds
        if strategy is not None and strategy.auto is not None:
            self.totals["freedave_auto"] = strategy.auto.describe()
        return out

    def _decode(self, prompts: list[Any], strategy: Any) -> list[Any]:
        """One DecodeResult per batch (the engine's one loop over batches, a batch at a
        time, so each batch's wall time is known), with the run's trace when asked."""
        n = -(-len(prompts) // self.batch_size)
        if self.args.trace is None:
            return [self.engine.decode(prompts, batch_size=self.batch_size, batches=[b],
                                       strategy=strategy) for b in range(n)]
        from paradec.commands.decode import freedave_meta
        from realmodel.trace import TraceWriter, provenance
        from realmodel.trace.io import prompts_digest

        meta = provenance(self.denoiser, self.config, batch_size=self.batch_size,
                          prompts="lm-eval requests", n_prompts=len(prompts),
                          prompts_sha256=prompts_digest(prompts),
                          freedave=None if self.freedave is None
                          else freedave_meta(self.freedave))
        with TraceWriter(self.args.trace, meta) as writer:
            return [self.engine.decode(prompts, batch_size=self.batch_size, batches=[b],
                                       trace=writer, strategy=strategy) for b in range(n)]


def _check_gen_kwargs(gen_kwargs: dict[str, Any]) -> None:
    """Sampling requests are refused by name: paradec decodes at the configured
    temperature (model_args temperature), greedy by default."""
    if gen_kwargs.get("do_sample") or float(gen_kwargs.get("temperature", 0.0) or 0.0) > 0:
        raise ValueError("this request asks for sampling (do_sample / temperature in "
                         "gen_kwargs); paradec takes the temperature from model_args "
                         "temperature=T")

