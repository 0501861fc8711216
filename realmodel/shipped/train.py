"""Training the shipped model with LLaDA's objective (Nie et al., arXiv 2502.09992, eq. 3/SFT).

For each sequence ``[BOS] prompt response [EOS]...`` (the response padded with EOS to
the fixed generation length, EOS tokens being trained on as in LLaDA's SFT), draw
t ~ U(0, 1), mask each response token independently with probability
p = (1 - eps) t + eps, keep the prompt, and minimise

    loss = sum over masked response positions of CE(token) / p, divided by B * L.

With ``TrainConfig.blockwise`` > 0, that share of the sequences is masked instead as
block decoding (LLaDA's semi-autoregressive sampling) sees its canvas: a block b is
drawn uniformly among the response's blocks up to the one holding its last token,
blocks before b stay clean, every token after b is masked, and block b's tokens are
masked with probability p as above; the loss is block b's masked CE / p, divided by
the block length (the per-block objective of Block Diffusion, Arriola et al., arXiv
2503.09573, with the later blocks present as masks as they are when LLaDA decodes).
A result then has to be predicted with its later mentions masked, which the uniform
masking of a worked answer almost never asks for (docs/shipped.md).

Prompts are left-padded exactly as the decode engine's canvas is (padding is no
attention key, position ids count real tokens), so training and decoding see the same
inputs. Everything is seeded: the data stream (``numpy`` generator), the initial weights
and the masks (``torch.Generator``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

from realmodel.machine import describe_cpu
from realmodel.model.checkpoint import load_llada, save_llada
from realmodel.model.denoiser import prompt_ids
from realmodel.model.llada import LLaDAConfig, LLaDAModel
from realmodel.shipped.registry import load_tokenizer
from realmodel.shipped.task import Example, Problem
from realmodel.shipped.tasks import task_named

__all__ = ["TrainConfig", "Example", "restatement", "examples", "RESTATE", "RESTATE_STORY",
           "EMBEDDINGS", "param_groups", "init_weights", "model_config", "encode_batch",
           "llada_loss", "train", "train_recipe", "finished", "recipe_of", "RECIPES",
           "TRIED", "GENERATION_NAME", "TRAIN_LOG_NAME"]

GENERATION_NAME = "generation.json"
TRAIN_LOG_NAME = "train_log.json"


@dataclass(frozen=True)
class TrainConfig:
    """Task, model shape, optimisation and decoding defaults of a shipped model.

    ``task``: a name of :data:`realmodel.shipped.tasks.TASKS`; ``vocab_size``: the size of
    a subword task's BPE vocabulary (None for the character task); ``weight_tying``: the
    LM head shares the input embedding (LLaDA-8B does not); ``embedding_decay``: weight
    decay also on the embedding and LM head (rows of rare tokens then shrink towards
    each other); ``restate``: the share of training examples replaced by a copying
    exercise (:func:`restatement`: the story's words, ``shuffle``d or in their order, to
    be repeated); ``drill``: the share replaced by the task's arithmetic drill
    (:func:`realmodel.shipped.words.drill`), ``drill_small`` the share of its sums and
    differences with one-digit operands, ``drill_listed`` the share of drills whose
    prompt lists their steps (the rest list none), ``drill_like_problems`` the share of
    drills whose steps are taken from sampled problems; ``blockwise``: the share of sequences masked
    block by block (module doc); ``stop``: end after this many steps of the
    ``steps``-step learning-rate schedule (None: all of them)."""

    task: str = "arith"
    vocab_size: int | None = None
    steps: int = 4000
    batch_size: int = 64
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eps: float = 1e-3
    d_model: int = 128
    n_layers: int = 3
    n_heads: int = 4
    mlp_hidden_size: int = 256
    weight_tying: bool = False
    embedding_decay: bool = True
    restate: float = 0.0
    shuffle: bool = True
    drill: float = 0.0
    drill_small: float = 0.0
    drill_listed: float = 1.0
    drill_like_problems: float = 0.0
    blockwise: float = 0.0
    stop: int | None = None
    gen_length: int = 32
    block_length: int = 8
    seed: int = 0
    threads: int = 1
    log_every: int = 100
    save_every: int = 500

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "d_model", "n_layers", "n_heads",
                     "mlp_hidden_size", "gen_length", "block_length", "threads",
                     "log_every", "save_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig.{name} must be a positive integer, got {value!r}")
        task = task_named(self.task)
        if task.subword != (self.vocab_size is not None):
            raise ValueError(f"task {self.task!r} {'needs' if task.subword else 'takes no'} "
                             f"vocab_size, got {self.vocab_size!r}")
        if self.gen_length % self.block_length:
            raise ValueError(f"gen_length={self.gen_length} is not a multiple of "
                             f"block_length={self.block_length}")
        if self.stop is not None and (isinstance(self.stop, bool) or not isinstance(
                self.stop, int) or not 1 <= self.stop <= self.steps):
            raise ValueError(f"TrainConfig.stop must be an integer in 1..steps={self.steps}, "
                             f"got {self.stop!r}")
        if not 0 <= self.restate < 1:
            raise ValueError(f"TrainConfig.restate must be in [0, 1), got {self.restate!r}")
        if not (0 <= self.drill < 1 and self.restate + self.drill < 1):
            raise ValueError(f"TrainConfig.drill must be in [0, 1 - restate), got "
                             f"{self.drill!r} with restate={self.restate!r}")
        for name in ("drill_small", "drill_listed", "drill_like_problems", "blockwise"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"TrainConfig.{name} must be in [0, 1], got "
                                 f"{getattr(self, name)!r}")
        if self.drill and task.drill is None:
            raise ValueError(f"task {self.task!r} has no drill; drill must be 0")
        if not (self.lr > 0 and 0 < self.eps < 1 and 0 <= self.min_lr_ratio <= 1):
            raise ValueError(f"bad lr={self.lr}, eps={self.eps} or "
                             f"min_lr_ratio={self.min_lr_ratio}")


def model_config(cfg: TrainConfig, tokenizer: Any) -> LLaDAConfig:
    return LLaDAConfig(d_model=cfg.d_model, n_layers=cfg.n_layers, n_heads=cfg.n_heads,
                       mlp_hidden_size=cfg.mlp_hidden_size, vocab_size=len(tokenizer),
                       max_sequence_length=task_named(cfg.task).prompt_tokens + cfg.gen_length,
                       weight_tying=cfg.weight_tying,
                       rope_theta=10000.0, mask_token_id=tokenizer.mask_token_id,
                       eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)


RESTATE = "Repeat these words in order: "
RESTATE_STORY = "Repeat the story word for word. "


def restatement(problem: Problem, rng: np.random.Generator, shuffle: bool = True) -> Example:
    """The copying exercise built from a problem: the words of its story in a random
    order (drawn from ``rng``), to be repeated in that order; with ``shuffle=False`` the
    story itself, to be repeated verbatim (no draw).

    Shuffled, the words cannot be predicted from grammar or from the task's templates,
    only by finding each one in the prompt: every response token is a content-addressed
    copy, the skill the word problems need for their names, items and numbers (which
    are a few tokens of each answer)."""
    if not shuffle:
        return Example(RESTATE_STORY + problem.prompt, problem.prompt)
    words = problem.prompt.split()
    shuffled = " ".join(words[int(i)] for i in rng.permutation(len(words)))
    return Example(RESTATE + shuffled, shuffled)


def examples(stream: Iterator[Problem], rng: np.random.Generator, restate: float,
             shuffle: bool = True, drill: float = 0.0,
             make_drill: Callable[[np.random.Generator], Example] | None = None
             ) -> Iterator[Problem | Example]:
    """The training stream: each problem, or with probability ``restate`` its
    :func:`restatement`, or with probability ``drill`` a ``make_drill(rng)`` in its place
    (``rng`` draws a uniform per problem only when ``restate + drill > 0``)."""
    if drill and make_drill is None:
        raise ValueError("a drill share needs make_drill")
    for problem in stream:
        u = rng.random() if restate or drill else 1.0
        yield (restatement(problem, rng, shuffle) if u < restate
               else make_drill(rng) if u < restate + drill and make_drill is not None
               else problem)


def encode_batch(problems: Sequence[Problem | Example], tokenizer: Any, gen_length: int
                 ) -> tuple[Tensor, Tensor, Tensor, int]:
    """ids, key_ok, positions (B, P + L) laid out like the engine's canvas, and P.

    Prompts are encoded as decoding encodes them (:func:`prompt_ids`, the chat template
    when the tokenizer has one); a response is followed by ``<|eot_id|>`` when the
    vocabulary has it (LLaDA's SFT layout), then EOS up to ``gen_length``."""
    prompts = [prompt_ids(tokenizer, p.prompt, chat=True) for p in problems]
    eot = tokenizer.convert_tokens_to_ids("<|eot_id|>")
    end = [] if eot is None or eot == getattr(tokenizer, "unk_token_id", None) else [eot]
    P = max(len(ids) for ids in prompts)
    B = len(problems)
    x = torch.full((B, P + gen_length), tokenizer.pad_token_id, dtype=torch.long)
    key_ok = torch.zeros((B, P + gen_length), dtype=torch.bool)
    for i, (ids, p) in enumerate(zip(prompts, problems, strict=True)):
        resp = list(tokenizer(p.response, add_special_tokens=False)["input_ids"]) + end
        if len(resp) >= gen_length:
            raise ValueError(f"response {p.response!r} does not fit gen_length={gen_length}")
        resp = resp + [tokenizer.eos_token_id] * (gen_length - len(resp))
        x[i, P - len(ids):] = torch.tensor(ids + resp)
        key_ok[i, P - len(ids):] = True
    positions = (key_ok.long().cumsum(1) - 1).clamp(min=0)
    return x, key_ok, positions, P


def llada_loss(model: LLaDAModel, x: Tensor, key_ok: Tensor, positions: Tensor, P: int,
               mask_id: int, gen: torch.Generator, eps: float = 1e-3, *,
               blockwise: float = 0.0, block_length: int | None = None,
               eos_id: int | None = None) -> Tensor:
    """LLaDA's loss on the response columns [P, T) of ``x`` (B, T), with a ``blockwise``
    share of the rows masked block by block (blocks of ``block_length`` from column P; a
    response ends before its first ``eos_id``): see the module doc. At ``blockwise=0``
    no further random numbers are drawn."""
    B, T = x.shape
    L = T - P
    t = torch.rand(B, 1, generator=gen)
    p_mask = (1 - eps) * t + eps
    masked = torch.rand(B, L, generator=gen) < p_mask
    # the masks are drawn on the CPU generator whatever the device, so that a seed gives
    # the same masks everywhere
    p_mask, masked = p_mask.to(x.device), masked.to(x.device)
    if blockwise:
        masked, weight, norm = _blockwise(x[:, P:], masked, p_mask, blockwise, block_length,
                                          eos_id, gen)
    noisy = x.clone()
    noisy[:, P:] = torch.where(masked, mask_id, x[:, P:])
    logits = model(noisy, positions, allowed=key_ok[:, None, :])[:, P:]
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), x[:, P:].reshape(-1),
                         reduction="none").view(B, L)
    if blockwise:
        return (ce * weight / norm).sum() / B
    return (ce * masked / p_mask).sum() / (B * L)


def _blockwise(response: Tensor, masked: Tensor, p_mask: Tensor, share: float,
               block_length: int | None, eos_id: int | None, gen: torch.Generator
               ) -> tuple[Tensor, Tensor, Tensor]:
    """The masks, loss weights and per-row normalisers of :func:`llada_loss` with a
    ``share`` of rows (drawn from ``gen``) masked block by block."""
    if block_length is None or eos_id is None:
        raise ValueError("blockwise masking needs block_length and eos_id")
    B, L = response.shape
    if L % block_length:
        raise ValueError(f"response length {L} is not a multiple of block_length="
                         f"{block_length}")
    row = (torch.rand(B, 1, generator=gen) < share).to(response.device)
    is_eos = response == eos_id
    length = torch.where(is_eos.any(1), is_eos.int().argmax(1), L)
    n_blocks = length.clamp(min=1).sub(1).div(block_length, rounding_mode="floor") + 1
    b = (torch.rand(B, generator=gen).to(response.device) * n_blocks).floor().long()
    b = torch.minimum(b, n_blocks - 1)
    block = torch.arange(L, device=response.device) // block_length
    current = block[None, :] == b[:, None]
    later = block[None, :] > b[:, None]
    block_masked = later | current & masked
    weight = torch.where(row, current & masked, masked) / p_mask
    norm = torch.where(row, float(block_length), float(L))
    return torch.where(row, block_masked, masked), weight, norm


def init_weights(model: LLaDAModel, gen: torch.Generator) -> None:
    """GPT-2 style init: N(0, 0.02), residual-writing projections / sqrt(2 n_layers)."""
    n = model.config.n_layers
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("norm.weight") or name.endswith("ln_f.weight"):
                param.fill_(1.0)
                continue
            std = 0.02
            if name.endswith("attn_out.weight") or ".blocks." in name and \
                    name.endswith("ff_out.weight"):
                std /= math.sqrt(2 * n)
            param.copy_(torch.randn(param.shape, generator=gen) * std)


EMBEDDINGS = ("model.transformer.wte.weight", "model.transformer.ff_out.weight")


def param_groups(model: LLaDAModel, cfg: TrainConfig) -> list[dict[str, Any]]:
    """AdamW's two groups: weight decay on the matrices (the embedding and LM head only
    under ``cfg.embedding_decay``), none on norms and biases."""
    decayed: list[Tensor] = []
    kept: list[Tensor] = []
    for name, param in model.named_parameters():
        matrix = param.ndim >= 2 and (cfg.embedding_decay or name not in EMBEDDINGS)
        (decayed if matrix else kept).append(param)
    return [{"params": decayed, "weight_decay": cfg.weight_decay},
            {"params": kept, "weight_decay": 0.0}]


def _lr(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(
        math.pi * min(1.0, frac))))


def save_shipped(model: LLaDAModel, tokenizer: Any, cfg: TrainConfig,
                 folder: str | Path, log: dict[str, Any]) -> Path:
    """LLaDA folder (config.json, model.safetensors) + the tokenizer (vocab.json, or
    tokenizer.json and tokenizer_config.json) + generation.json (lengths and task) + the
    training log (config, loss curve, timings)."""
    folder = save_llada(model, folder)
    tokenizer.save_pretrained(folder)
    (folder / GENERATION_NAME).write_text(json.dumps(
        {"gen_length": cfg.gen_length, "block_length": cfg.block_length, "task": cfg.task},
        indent=1) + "\n")
    (folder / TRAIN_LOG_NAME).write_text(json.dumps(log, indent=1) + "\n")
    return folder


def train(cfg: TrainConfig, out: str | Path, *, device: str = "cpu",
          init: str | Path | None = None,
          echo: Callable[[str], None] | None = None) -> LLaDAModel:
    """Train a model and save it to ``out`` (every save_every steps and at the end), from
    scratch or, with ``init``, from the weights of a shipped-format folder of the same
    shape (a further training stage, which also keeps its tokenizer). Held-out prompts
    never appear in the training stream."""
    torch.set_num_threads(cfg.threads)
    task = task_named(cfg.task)
    tokenizer = task.tokenizer(cfg.vocab_size) if init is None else load_tokenizer(init)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = LLaDAModel(model_config(cfg, tokenizer))
    init_weights(model, gen)
    if init is not None:
        start = load_llada(init)
        if start.config.to_dict() != model.config.to_dict():
            raise ValueError(f"{init} has shape {start.config}, the training config implies "
                             f"{model.config}")
        model.load_state_dict(start.state_dict())
    model.to(device).train()
    opt = torch.optim.AdamW(param_groups(model, cfg), lr=cfg.lr, betas=(0.9, 0.98))
    rng = np.random.default_rng(cfg.seed)
    make_drill = None if task.drill is None else partial(task.drill, small=cfg.drill_small,
                                                    listed=cfg.drill_listed,
                                                    like_problems=cfg.drill_like_problems)
    data = examples(task.stream(rng), rng, cfg.restate, cfg.shuffle, cfg.drill, make_drill)
    log: dict[str, Any] = {"config": asdict(cfg), "device": device, "curve": [],
                           "init": None if init is None else str(init),
                           "machine": describe_cpu() if device == "cpu" else device,
                           "versions": _versions()}
    # the logged loss is summed on the device in float64 (the same sums as Python floats)
    # and read at log steps only: no host sync per step, so on a GPU the next batch is
    # built while this step runs
    tic = time.perf_counter()
    running = torch.zeros((), dtype=torch.float64, device=device)
    last = cfg.steps if cfg.stop is None else cfg.stop
    for step in range(last):
        for group in opt.param_groups:
            group["lr"] = _lr(cfg, step)
        batch = [next(data) for _ in range(cfg.batch_size)]
        x, key_ok, positions, P = encode_batch(batch, tokenizer, cfg.gen_length)
        loss = llada_loss(model, x.to(device), key_ok.to(device), positions.to(device), P,
                          tokenizer.mask_token_id, gen, cfg.eps, blockwise=cfg.blockwise,
                          block_length=cfg.block_length, eos_id=tokenizer.eos_token_id)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        running += loss.detach().double()
        done = step + 1
        if done % cfg.log_every == 0 or done == last:
            n = cfg.log_every if done % cfg.log_every == 0 else done % cfg.log_every
            entry = {"step": done, "loss": float(running) / n,
                     "seconds": round(time.perf_counter() - tic, 1)}
            log["curve"].append(entry)
            running.zero_()
            if echo is not None:
                echo(json.dumps(entry))
        if done % cfg.save_every == 0 or done == last:
            log["steps_done"] = done
            log["train_seconds"] = round(time.perf_counter() - tic, 1)
            save_shipped(model.eval(), tokenizer, cfg, out, log)
            model.train()
    return model.eval()


def _versions() -> dict[str, str]:
    """Versions of what a bit-identical retraining depends on."""
    import platform

    out = {"python": platform.python_version(), "torch": torch.__version__,
           "numpy": np.__version__}
    try:
        import tokenizers
    except ImportError:  # pragma: no cover - transformers requires it
        return out
    return {**out, "tokenizers": tokenizers.__version__}


#: How each shipped model was trained: its base config and the changes of each stage, every
#: stage starting from the previous one's weights. tiny-arith: a 4000-step run from
#: scratch, then 4000 more steps at half the peak learning rate with a fresh data seed.
#: tiny-words: one run, two threads (on the 2-core machine it was built on).
Recipe = tuple[TrainConfig, tuple[dict[str, Any], ...]]
_WORDS = TrainConfig(task="words", vocab_size=4096, d_model=192, n_layers=4, n_heads=6,
                     mlp_hidden_size=512, gen_length=128, block_length=32, batch_size=32,
                     steps=5000, lr=2e-3, warmup=200, threads=2, log_every=50,
                     save_every=250)
RECIPES: dict[str, Recipe] = {
    "tiny-arith": (TrainConfig(), ({}, {"lr": 1e-3, "seed": 1})),
    "tiny-words": (_WORDS, ({},)),
}


def _drills(share: float, **more: Any) -> dict[str, Any]:
    """A drill stage's data: 10% shuffled-word exercises, ``share`` drills."""
    return {"restate": 0.1, "drill": share, **more}


_UNLISTED = _drills(0.4, drill_small=0.25, drill_listed=0.0, blockwise=0.5)

#: Recipes tried and not shipped, by model and name (``paradec train --recipe NAME``; the
#: shipped one is "shipped"). tiny-words "chain": the ten stages of docs/LOG.md
#: (2026-12-02, second shipped model), each from the previous one's weights, with the tied
#: head and no embedding decay: copying exercises (verbatim, then shuffled words), then
#: arithmetic drills, one-digit sums (``drill_small``), blockwise masking, unlisted drills
#: and problem-shaped drills. Its end reached static accuracy 0.145 +- 0.025 on 200
#: held-out problems; 17,000 steps, about 5.5 h of a 2-core CPU, so it is meant for
#: ``--device cuda``. Reconstructed from the log, whose entries do not record stage 4's
#: warm-up (100 here) nor the schedule lengths of stages 8 and 9 (3000 here): a rerun is
#: the recipe's own result, not a replay of those weights.
TRIED: dict[str, dict[str, Recipe]] = {
    "tiny-words": {"chain": (replace(_WORDS, weight_tying=True, embedding_decay=False), (
        {"restate": 0.25, "shuffle": False, "stop": 2500},
        {"restate": 0.5, "steps": 2000, "lr": 1e-3, "seed": 1, "warmup": 100},
        {"restate": 0.25, "steps": 4000, "lr": 1e-3, "seed": 2, "warmup": 100, "stop": 1500},
        _drills(0.3, steps=3500, lr=1e-3, seed=3, warmup=100, stop=1000),
        _drills(0.6, steps=3000, lr=1e-3, seed=4, warmup=50, stop=1500),
        _drills(0.6, drill_small=0.5, steps=2500, lr=1e-3, seed=5, warmup=50),
        _drills(0.6, drill_small=0.25, steps=4000, lr=7e-4, seed=6, warmup=50, stop=750),
        _drills(0.4, drill_small=0.25, blockwise=0.5, steps=3000, lr=7e-4, seed=7,
                warmup=50, stop=750),
        {**_UNLISTED, "steps": 3000, "lr": 7e-4, "seed": 8, "warmup": 50},
        {**_UNLISTED, "drill_like_problems": 0.5, "steps": 1500, "lr": 5e-4, "seed": 9,
         "warmup": 50}))},
}


def recipe_of(model: str, name: str = "shipped") -> Recipe:
    """The base config and stages of ``model``'s recipe ``name`` ("shipped": how the
    shipped weights were trained, :data:`RECIPES`; others: :data:`TRIED`)."""
    if model not in RECIPES:
        raise ValueError(f"no recipe for {model!r}; choose from {', '.join(RECIPES)}")
    known = {"shipped": RECIPES[model], **TRIED.get(model, {})}
    if name not in known:
        raise ValueError(f"{model} has no recipe {name!r}; it has {', '.join(known)}")
    return known[name]


def train_recipe(out: str | Path, *, model: str = "tiny-arith", device: str = "cpu",
                 threads: int | None = None, base: TrainConfig | None = None,
                 recipe: Sequence[dict[str, Any]] | None = None, resume: bool = False,
                 echo: Callable[[str], None] | None = None) -> LLaDAModel:
    """Reproduce the shipped model ``model``: the stages of its recipe (or ``recipe``, changes
    to ``base``; both default to :data:`RECIPES`'s), stage i written to ``out/stage{i}`` and
    the last one to ``out``, each stage starting from the previous one's weights.

    ``resume``: a stage whose folder already holds a finished run of the same config from
    the same start (:func:`finished`) is kept instead of trained again, until the first
    stage that is trained (the ones after it start from new weights), so a long recipe
    interrupted between stages goes on from the last finished one. A stage folder that
    holds files of another run is refused before any training (ValueError)."""
    shipped = recipe_of(model)
    base = shipped[0] if base is None else base
    recipe = shipped[1] if recipe is None else recipe
    if not recipe:
        raise ValueError("a training recipe needs at least one stage")
    out = Path(out)
    if threads is not None:
        base = replace(base, threads=threads)
    stages = [(out if i == len(recipe) else out / f"stage{i}", replace(base, **changes))
              for i, changes in enumerate(recipe, start=1)]
    if resume:  # before any training: a folder of another run is never overwritten
        for folder, cfg in stages:
            _check_resumable(folder, cfg)
    init: Path | None = None
    trained: LLaDAModel | None = None
    for i, ((folder, cfg), changes) in enumerate(zip(stages, recipe, strict=True), start=1):
        if resume and finished(folder, cfg, init):
            if echo is not None:
                echo(f"stage {i}/{len(recipe)}: finished in {folder}, kept")
            trained = None
        else:
            if echo is not None:
                echo(f"stage {i}/{len(recipe)}: {changes or 'from scratch'} -> {folder}")
            trained = train(cfg, folder, device=device, init=init, echo=echo)
            resume = False  # later stages start from these new weights: train them all
        init = folder
    return load_llada(out).eval() if trained is None else trained


def finished(folder: str | Path, cfg: TrainConfig, init: str | Path | None) -> bool:
    """Whether ``folder`` holds a run of ``cfg`` (its thread count aside) from ``init``
    that reached its last step (``cfg.stop`` or ``cfg.steps``)."""
    log = _log_of(Path(folder))
    if log is None or not _same_config(log, cfg) or \
            not (Path(folder) / "model.safetensors").is_file():
        return False
    start = log.get("init")
    same_start = start is None if init is None else \
        start is not None and Path(start).resolve() == Path(init).resolve()
    return same_start and log.get("steps_done") == (cfg.stop or cfg.steps)


def _log_of(folder: Path) -> dict[str, Any] | None:
    """The training log in ``folder`` (None: none, or unreadable)."""
    try:
        log = json.loads((folder / TRAIN_LOG_NAME).read_text())
    except (OSError, ValueError):
        return None
    return log if isinstance(log, dict) else None


def _same_config(log: dict[str, Any], cfg: TrainConfig) -> bool:
    return {**log.get("config", {}), "threads": None} == {**asdict(cfg), "threads": None}


def _check_resumable(folder: Path, cfg: TrainConfig) -> None:
    """ValueError unless ``folder`` holds no files of its own or a run of ``cfg`` (which
    resuming may overwrite): another run's files are replaced only with --overwrite."""
    if not folder.is_dir() or not any(p.is_file() for p in folder.iterdir()):
        return
    log = _log_of(folder)
    if log is None or not _same_config(log, cfg):
        raise ValueError(f"{folder} holds files that are not a run of this recipe's stage "
                         "(another config, or no readable train_log.json): resuming would "
                         "overwrite them; pass --overwrite to replace it")
