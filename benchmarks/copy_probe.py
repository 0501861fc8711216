"""Does a tiny-words checkpoint copy from its context, and compute? Five probes behind
docs/LOG.md.

    PYTHONPATH=. python benchmarks/copy_probe.py FOLDER [FOLDER ...]

1. **Item slot.** A compare problem whose item is "apples" or "tulips" in the prompt and,
   independently, in the response; the response's second item slot is masked. A model
   that copies puts its mass on the item of the context; one that does not gives the same
   distribution in all four cases.
2. **Teacher-forced accuracy.** The first 64 held-out problems with half the response
   masked (seed 0): the share of masked positions predicted right, over all of them, the
   digits, and the words of four or more letters that also occur in the prompt (names and
   items: the copies).
3. **Copying exercise.** The stories of the first 32 held-out problems as the training's
   copying exercise (``train.restatement``: words shuffled with seed 0), half the response
   masked (seed 0): the share of masked words and of masked digits predicted right. Only
   copying gets these right (digits by chance: about 0.1).
4. **Results.** Each worked step ``a op b = c`` of the first 64 held-out problems with its
   result ``c`` masked: the share of results predicted right (every digit) when the rest of
   the response is visible, where ``c`` is written again later (the next step's operand,
   the closing sentence, ``#### c``) and can be copied; and when everything from ``c`` on
   is masked, so that only arithmetic on the visible operands gets it right (also per
   operation).
5. **Drills.** 64 training drills (``words.drill``, seed 123), each result masked alone:
   products, two-digit sums and differences, and (``small=1``) one-digit ones; the
   two-digit drills also with the next drill's list of steps in the prompt, and with no
   list: a model that reads each result off the prompt's list fails the first.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch

from realmodel.model.denoiser import prompt_ids
from realmodel.shipped import heldout_problems, load_shipped, words
from realmodel.shipped.task import Example
from realmodel.shipped.train import encode_batch, restatement

PROMPT = ("Lars has 24 {it}. Zara has 5 more {it} than Lars. How many {it} do Lars and "
          "Zara have together?")
ANSWER = ("First we find how many {it} Zara has. Zara has 5 more than Lars, so Zara has "
          "24 + 5 = 29 {it}. Together they have 24 + 29 = 53 {it}. So Lars and Zara have 53 "
          "{it} together. #### 53")
FUNCTION_WORDS = {"many", "have", "more", "than", "does", "with", "each", "they", "together"}


def item_slot(den: Any) -> list[tuple[str, str, float, float]]:
    """(prompt item, response item, P(apples), P(tulips)) at the masked slot."""
    tok, mask = den.tokenizer, den.specials.mask_id
    eot, eos = tok.convert_tokens_to_ids("<|eot_id|>"), den.specials.eos_id
    ids = {w: tok(" " + w, add_special_tokens=False)["input_ids"] for w in ("apples", "tulips")}
    out = []
    for a, b in (("apples", "apples"), ("tulips", "tulips"), ("apples", "tulips"),
                 ("tulips", "apples")):
        p = prompt_ids(tok, PROMPT.format(it=a), chat=True)
        r = tok(ANSWER.format(it=b), add_special_tokens=False)["input_ids"]
        x = torch.tensor([p + r + [eot] + [eos] * (127 - len(r))])
        slots = [i for i in range(len(r)) if r[i:i + len(ids[b])] == ids[b]]
        x[0, len(p) + slots[1]] = mask
        with torch.no_grad():
            probs = den.forward(x, torch.arange(x.shape[1])[None])[0, len(p) + slots[1]]
        probs = probs.softmax(-1)
        out.append((a, b, float(probs[ids["apples"][0]]), float(probs[ids["tulips"][0]])))
    return out


def _half_masked(den: Any, pairs: list[Any]) -> tuple[Any, Any, Any, Any, int]:
    """(ids, key_ok, masked, right, P): half of each response masked (seed 0), and
    whether the argmax is right."""
    x, key_ok, pos, P = encode_batch(pairs, den.tokenizer, 128)
    gen = torch.Generator().manual_seed(0)
    masked = torch.rand(x.shape[0], x.shape[1] - P, generator=gen) < 0.5
    noisy = x.clone()
    noisy[:, P:] = torch.where(masked, den.specials.mask_id, x[:, P:])
    with torch.no_grad():
        logits = den.model(noisy, pos, allowed=key_ok[:, None, :])[:, P:]
    return x, key_ok, masked, logits.argmax(-1) == x[:, P:], P


def _digits(den: Any, ids: Any) -> Any:
    names = den.tokenizer.convert_ids_to_tokens
    return torch.tensor([[names(int(t)).isdigit() for t in row] for row in ids])


def teacher_forced(den: Any, folder: str) -> dict[str, tuple[int, float]]:
    """{kind: (masked positions, share predicted right)}."""
    tok = den.tokenizer
    x, key_ok, masked, right, P = _half_masked(den, heldout_problems(folder)[:64])
    names = tok.convert_ids_to_tokens
    digit = _digits(den, x[:, P:])
    copy = torch.zeros_like(masked)
    for i in range(x.shape[0]):
        seen = set(x[i, :P][key_ok[i, :P]].tolist())
        for j, t in enumerate(x[i, P:].tolist()):
            w = names(t).lstrip("Ġ")
            copy[i, j] = t in seen and w.isalpha() and len(w) > 3 and w not in FUNCTION_WORDS
    return {kind: (int(sel.sum()), float(right[sel].float().mean()))
            for kind, sel in (("all", masked), ("digits", digit & masked),
                              ("copies", copy & masked))}


def exercise(den: Any, folder: str) -> dict[str, tuple[int, float]]:
    """{kind: (masked positions, share predicted right)} on the copying exercise."""
    rng = np.random.default_rng(0)
    pairs = [restatement(p, rng) for p in heldout_problems(folder)[:32]]
    x, _, masked, right, P = _half_masked(den, pairs)
    ends = (den.specials.eos_id, den.tokenizer.convert_tokens_to_ids("<|eot_id|>"))
    words = masked & ~torch.isin(x[:, P:], torch.tensor(ends))
    return {kind: (int(sel.sum()), float(right[sel].float().mean()))
            for kind, sel in (("words", words), ("digits", words & _digits(den, x[:, P:])))}


def _results(den: Any, ids: list[int]) -> list[list[int]]:
    """The response offsets of each worked step's result digits (after ``=``)."""
    names = den.tokenizer.convert_ids_to_tokens(ids)
    spans, j = [], 0
    while j < len(ids):
        j += 1
        if names[j - 1].endswith("="):
            span = []
            while j < len(ids) and (names[j] == "Ġ" or names[j].isdigit()):
                span += [j] if names[j].isdigit() else []
                j += 1
            spans += [span] if span else []
    return spans


def _masked_results(den: Any, pairs: list[Any], left_only: bool = False
                    ) -> list[tuple[int, bool]]:
    """(row, predicted right) for every worked step of ``pairs`` in order, one copy of its
    row per step with the step's result masked (and, ``left_only``, everything after)."""
    x, key_ok, pos, P = encode_batch(pairs, den.tokenizer, 128)
    steps = [(i, span) for i in range(x.shape[0]) for span in _results(den, x[i, P:].tolist())]
    rows = [i for i, _ in steps]
    noisy = x[rows].clone()
    for b, (_, span) in enumerate(steps):
        noisy[b, [P + d for d in span]] = den.specials.mask_id
        if left_only:
            noisy[b, P + span[0]:] = den.specials.mask_id
    with torch.no_grad():
        guess = den.model(noisy, pos[rows], allowed=key_ok[rows][:, None, :])[:, P:].argmax(-1)
    return [(i, bool((guess[b, span] == x[i, P:][span]).all()))
            for b, (i, span) in enumerate(steps)]


def arithmetic(den: Any, folder: str) -> dict[str, tuple[int, float]]:
    """{context: (worked steps, share of results predicted right)}, over all steps and,
    with only the left context visible, per operation."""
    problems = heldout_problems(folder)[:64]
    ops = [op for p in problems for _, op, _, _ in words.WORKED_STEP.findall(p.response)]
    out = {}
    for context, left_only in (("later text visible", False), ("left context only", True)):
        right = [ok for _, ok in _masked_results(den, problems, left_only)]
        out[context] = (len(right), sum(right) / len(right))
        if left_only:
            for want in ("x", "+", "-"):
                picked = [ok for op, ok in zip(ops, right, strict=True) if op == want]
                out[f"left only, {want}"] = (len(picked), sum(picked) / len(picked))
    return out


def drills(den: Any) -> dict[str, tuple[int, float]]:
    """{kind: (worked steps, share of results predicted right)} on 64 training drills
    (``words.drill``, seed 123), each result masked alone: products, and sums and
    differences with the task's operands and (``small=1``) with one-digit ones. The
    two-digit drills are asked three ways: with their own list of steps in the prompt,
    with the next drill's list (a model that reads its results off the prompt's list then
    fails) and with no list (``words.DRILL_UNLISTED``)."""
    out: dict[str, list[bool]] = {}
    for size, small in (("two-digit", 0.0), ("one-digit", 1.0)):
        rng = np.random.default_rng(123)
        pairs = [words.drill(rng, small=small) for _ in range(64)]
        ops = [op for p in pairs for _, op, _, _ in words.WORKED_STEP.findall(p.response)]
        prompts = {"": [p.prompt for p in pairs]}
        if size == "two-digit":
            prompts["other list, "] = [pairs[(i + 1) % 64].prompt for i in range(64)]
            prompts["no list, "] = [words.DRILL_UNLISTED] * 64
        for asked, texts in prompts.items():
            posed = [Example(t, p.response) for t, p in zip(texts, pairs, strict=True)]
            for op, (_, ok) in zip(ops, _masked_results(den, posed), strict=True):
                if op != "x" or size == "two-digit":
                    key = asked + ("x" if op == "x" else f"{size} {op}")
                    out.setdefault(key, []).append(ok)
    return {k: (len(v), sum(v) / len(v)) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="+", help="tiny-words checkpoint folders (or names)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for folder in args.folders:
        den = load_shipped(folder)
        print(folder)
        for a, b, pa, pt in item_slot(den):
            print(f"  prompt {a:<7} response {b:<7} P(apples) {pa:.3f}  P(tulips) {pt:.3f}")
        for kind, (n, acc) in teacher_forced(den, folder).items():
            print(f"  masked {kind:<7} {n:5d} positions, predicted right {acc:.3f}")
        for kind, (n, acc) in exercise(den, folder).items():
            print(f"  exercise {kind:<7} {n:4d} positions, predicted right {acc:.3f}")
        for context, (n, acc) in arithmetic(den, folder).items():
            print(f"  results, {context:<18} {n:4d} steps, predicted right {acc:.3f}")
        for kind, (n, acc) in drills(den).items():
            print(f"  drills, {kind:<24} {n:4d} steps, predicted right {acc:.3f}")


if __name__ == "__main__":
    main()
