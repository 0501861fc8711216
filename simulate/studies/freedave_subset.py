"""Study ``freedave_subset``: FreeDave++ (subset acceptance) over a rule, on exact worlds.

For each dial value and each rule R (Fréchet and tight, threshold as a contrast), the same
prompts of the same random chains are decoded four ways over the exact chain denoiser
(:class:`simulate.oracle.ChainOracle`, one oracle per chain): R alone
(:func:`theory.freedave.rule_decode`), exact FreeDave over R and subset FreeDave over R
(:func:`theory.freedave.freedave_decode`, ``accept="exact"`` / ``"subset"``), and static
decoding (Quota(1)). Measured per sequence: oracle calls, tokens per call, the share of
generated tokens that differ from R's output and from static's, and the change in
log-likelihood under the true chain against R's output.

Every committed set T of every method is checked at the state y it was committed from
(the run's ``moves``; R's and static's path from their traces): T lies inside R's set at y
with y's argmax tokens; its certified margin G(T) (Fréchet's for R = Fréchet, the tight
margin otherwise) against the margin of R's own set there; the exact probability
P(x_T = tokens | y) (:meth:`simulate.ChainDenoiser.log_prob`) against the Fréchet lower
bound max(0, 1 - sum_T r); and, for two or more tokens, whether T's tokens are the exact
joint mode of T given y. A certificate violation is a set with G(T) >= 0 that is not a
joint mode: there must be none (docs/theory/subset_margin_monotone.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulate.decode import VIOLATION_TOL
from simulate.denoiser import ChainDenoiser
from simulate.oracle import ChainOracle
from simulate.stats import mean, ratio
from simulate.studies._common import (
    StudyResult,
    estimate_columns,
    progress,
    provenance,
    split,
    world,
)
from theory import Quota, make_rule
from theory.freedave import DecodeRun, freedave_decode, rule_decode
from theory.freedave.core import Blocks, DraftTree, FreeDave, rule_step
from theory.rules import Rule

__all__ = ["freedave_subset", "DEFAULT_RULES", "METHODS", "rule_path"]

DEFAULT_RULES: tuple[tuple[str, float], ...] = (("frechet", 0.0), ("tight", 0.0),
                                                 ("threshold", 0.9))
METHODS = ("rule", "exact", "subset")  # per rule; static decoding once per rho
_SET_KEYS = ("moves", "multi", "certified", "strict", "not_subset", "bound_violations",
             "not_mode", "certificate_violations")
_MOVE_KEYS = ("margin", "gain", "multi_move")


def rule_path(x0: np.ndarray, run: DecodeRun) -> list[list[np.ndarray]]:
    """Per row the states a :func:`~theory.freedave.rule_decode` run moved through, x0
    first, rebuilt from its traces (each step commits the first n ranked positions)."""
    paths = []
    for row, trace in zip(np.asarray(x0), run.traces, strict=True):
        path = [row.copy()]
        for st in trace.steps:
            y = path[-1].copy()
            y[list(st.positions[:st.n])] = st.tokens[:st.n]
            path.append(y)
        paths.append(path)
    return paths


@dataclass(frozen=True)
class _Decoded:
    """One method's decode of one chain's rows: final states, calls and the move states."""

    x: np.ndarray
    calls: np.ndarray
    paths: list[list[np.ndarray]]


def _decode(oracle: ChainOracle, x0: np.ndarray, blocks: Blocks, rule: Rule, method: str,
            K: int, tree: DraftTree) -> _Decoded:
    mask_id = oracle.mask_id
    if method in ("rule", "static"):
        run = rule_decode(oracle, x0, mask_id=mask_id, blocks=blocks, rule=rule)
        return _Decoded(run.x, np.asarray(run.row_calls), rule_path(x0, run))
    config = FreeDave(K, tree, rule=rule, accept=method)
    run = freedave_decode(oracle, x0, mask_id=mask_id, blocks=blocks, config=config)
    return _Decoded(run.x, np.asarray(run.row_calls), [list(m) for m in run.moves])


def _margin(r: np.ndarray, u: np.ndarray, X: np.ndarray) -> np.ndarray:
    """G(X) = max(0, 1 - sum_X r) - max_X u per row; r, u, X (M, L); X non-empty."""
    L = np.clip(1.0 - np.where(X, r, 0.0).sum(axis=1), 0.0, None)
    return L - np.where(X, u, -np.inf).max(axis=1)


def _sets(oracle: ChainOracle, paths: list[list[np.ndarray]], rule: Rule,
          blocks: Blocks) -> dict[str, np.ndarray]:
    """Per row of ``paths``, counts over its committed sets (keys of _SET_KEYS); per move
    (rows' moves in order), the certified margin G(T) (``margin``), the gain
    G(T) - G(S_R(y)) (``gain``) and whether T has two or more tokens (``multi_move``)."""
    mask_id, den = oracle.mask_id, oracle.denoiser
    row = np.concatenate([np.full(len(p) - 1, i) for i, p in enumerate(paths)])
    Y = np.stack([y for p in paths for y in p[:-1]])
    Z = np.stack([z for p in paths for z in p[1:]])
    out = oracle(Y)
    want = rule_step(Y, out, mask_id, blocks, rule)[0]
    masked = Y == mask_id
    S, T = masked & (want != mask_id), masked & (Z != mask_id)
    inside = ~(T & ~S).any(axis=1) & (np.where(T, Z == out.tokens, True)).all(axis=1)
    r = np.exp(out.key)
    u = r if rule.name == "frechet" else (np.zeros_like(r) if out.s is None else out.s)
    G_T = _margin(r, u, T)
    lower = np.clip(1.0 - np.where(T, r, 0.0).sum(axis=1), 0.0, None)
    logp = den.log_prob(Y, T, Z)
    multi = T.sum(axis=1) >= 2
    gap = np.zeros(len(Y))
    if multi.any():
        gap[multi] = logp[multi] - den.joint_mode(Y[multi], T[multi]).log_prob
    not_mode = multi & (gap < -VIOLATION_TOL)
    certified = multi & (G_T >= 0.0)
    flags = {"moves": np.ones(len(Y), bool), "multi": multi, "certified": certified,
             "strict": (S & ~T).any(axis=1), "not_subset": ~inside,
             "bound_violations": np.exp(logp) < lower - VIOLATION_TOL, "not_mode": not_mode,
             "certificate_violations": certified & not_mode}
    counts = {k: np.bincount(row, weights=v, minlength=len(paths)) for k, v in flags.items()}
    return {**counts, "margin": G_T, "gain": G_T - _margin(r, u, S), "multi_move": multi}


def _measure(oracle: ChainOracle, d: _Decoded, rule: Rule, blocks: Blocks,
             ref: dict[str, _Decoded], P: int) -> dict[str, np.ndarray]:
    """Per-row measurements of one method's decode (``d``, over ``rule``) against R's and
    static's (``ref``), with its per-set counts; _MOVE_KEYS hold one entry per move."""
    sets = _sets(oracle, d.paths, rule, blocks)
    den, gen = oracle.denoiser, d.x[:, P:]
    none = np.full(len(gen), np.nan)
    rule_x = ref["rule"].x if "rule" in ref else None
    return {"calls": d.calls.astype(np.float64), "tpc": gen.shape[1] / d.calls,
            "dist_rule": none if rule_x is None else (gen != rule_x[:, P:]).mean(axis=1),
            "dist_static": (gen != ref["static"].x[:, P:]).mean(axis=1),
            "loglik_change": none if rule_x is None else
            den.log_likelihood(d.x, start=P) - den.log_likelihood(rule_x, start=P),
            **{k: sets[k] for k in _SET_KEYS + _MOVE_KEYS}}


def _row(rho: float, rule: Rule, method: str, a: dict[str, np.ndarray], K: int,
         G: int) -> dict[str, Any]:
    c, gains, mc = a["cluster"], a["gain"], a["move_cluster"]
    multi = a["multi_move"].astype(bool)
    return {"rho": rho, "rule": rule.name, "value": float(getattr(rule, rule.parameter)),
            "label": rule.label(), "method": method, "K": K if method in ("exact", "subset")
            else 1, "sequences": int(c.size), "models": G,
            **estimate_columns("calls", mean(a["calls"], c)),
            **estimate_columns("tokens_per_call", mean(a["tpc"], c)),
            **estimate_columns("dist_rule", mean(a["dist_rule"], c)),
            **estimate_columns("dist_static", mean(a["dist_static"], c)),
            **estimate_columns("loglik_change", mean(a["loglik_change"], c)),
            **{k: int(a[k].sum()) for k in _SET_KEYS},
            **estimate_columns("strict_rate", ratio(a["strict"], a["moves"], c)),
            **estimate_columns("multi_margin", mean(a["margin"][multi], mc[multi])),
            "min_multi_margin": float(a["margin"][multi].min()) if multi.any() else math.nan,
            **estimate_columns("margin_gain", mean(gains, mc)),
            "min_margin_gain": float(gains.min())}


def _chain(den: ChainDenoiser, prompts: np.ndarray, rules: list[Rule], gen_length: int,
           block_length: int, K: int, tree: DraftTree
           ) -> tuple[dict[tuple[int, str], dict[str, np.ndarray]], dict[str, bool]]:
    """Every method on the prompts of one chain: {(rule index or -1, method): measurements}
    and the exactness facts of exact FreeDave."""
    oracle = ChainOracle(den)
    B, P = prompts.shape
    x0 = np.concatenate([prompts, np.full((B, gen_length), den.mask_id, np.int64)], axis=1)
    blocks = Blocks.uniform(P, block_length, P + gen_length)
    static = _decode(oracle, x0, blocks, Quota(1), "static", K, tree)
    out = {(-1, "static"): _measure(oracle, static, Quota(1), blocks, {"static": static}, P)}
    ok = {"exact": True, "moves": True, "calls": True}
    for j, rule in enumerate(rules):
        runs = {m: _decode(oracle, x0, blocks, rule, m, K, tree) for m in METHODS}
        exact, plain = runs["exact"], runs["rule"]
        ok["exact"] &= bool(np.array_equal(exact.x, plain.x))
        ok["moves"] &= all(len(a) == len(b) and all(map(np.array_equal, a, b))
                           for a, b in zip(exact.paths, plain.paths, strict=True))
        ok["calls"] &= bool((exact.calls <= plain.calls).all())
        for m, d in runs.items():
            out[(j, m)] = _measure(oracle, d, rule, blocks, {"rule": plain, "static": static},
                                   P)
    return out, ok


def freedave_subset(n: int = 96, seed: int = 0, *, rhos: tuple[float, ...] = (0.25, 0.5, 0.75),
                    rules: tuple[tuple[str, float], ...] = DEFAULT_RULES, K: int = 4,
                    tree: str = "chain", models: int = 16, V: int = 16, beta: float = 3.0,
                    gen_length: int = 32, block_length: int = 16, prompt_length: int = 2,
                    show_progress: bool = True) -> StudyResult:
    """Calls, distance to R and to static, and per-set certificates of R alone, exact and
    subset FreeDave over R, and static decoding, per (rho, rule), from about ``n``
    sequences per rho (see module). ``tree``: the draft tree kind (``DraftTree(tree)``)."""
    rule_objs = [make_rule(name, value) for name, value in rules]
    draft = DraftTree(tree)
    FreeDave(K, draft)  # refuse a bad K before any work
    G, per = split(n, models)
    keys = [(-1, "static")] + [(j, m) for j in range(len(rule_objs)) for m in METHODS]
    rows: list[dict[str, Any]] = []
    ok = {"exact": True, "moves": True, "calls": True}
    for rho in progress(rhos, len(rhos), "freedave_subset", show_progress):
        den, prompts, model = world(seed, 6, rho, G, per, V=V, beta=beta,
                                    prompt_length=prompt_length)
        acc: dict[tuple[int, str], list[dict[str, np.ndarray]]] = {k: [] for k in keys}
        for g in range(G):
            sel = np.flatnonzero(model == g)
            got, fine = _chain(ChainDenoiser(den.chains[g]), prompts[sel], rule_objs,
                               gen_length, block_length, K, draft)
            ok = {k: ok[k] and fine[k] for k in ok}
            for k in keys:
                acc[k].append({**got[k], "cluster": np.full(sel.size, g),
                               "move_cluster": np.full(got[k]["gain"].size, g)})
        for j, method in keys:
            a = {f: np.concatenate([part[f] for part in acc[(j, method)]])
                 for f in acc[(j, method)][0]}
            rule = Quota(1) if j < 0 else rule_objs[j]
            rows.append(_row(rho, rule, method, a, K, G))
    checks = {
        "exact FreeDave's output is the rule's": ok["exact"],
        "exact FreeDave moves through the rule's own states": ok["moves"],
        "exact FreeDave never uses more calls than the rule": ok["calls"],
        "every move commits part of the rule's set at its state, to its argmax":
            all(r["not_subset"] == 0 for r in rows),
        "no committed set lowers the rule's margin at its state":
            all(r["min_margin_gain"] >= -VIOLATION_TOL for r in rows),
        "every set of two or more tokens Fréchet or tight commits beats its delta":
            all(not r["min_multi_margin"] <= r["value"] for r in rows
                if r["rule"] in ("frechet", "tight")),
        "no certificate violations (sets with margin >= 0 are joint modes)":
            all(r["certificate_violations"] == 0 for r in rows),
        "every committed set has its Fréchet lower bound of probability":
            all(r["bound_violations"] == 0 for r in rows)}
    params = {"n": n, "seed": seed, "rhos": list(rhos), "rules": [list(r) for r in rules],
              "K": K, "tree": tree, "models": G, "per_model": per, "V": V, "beta": beta,
              "gen_length": gen_length, "block_length": block_length,
              "prompt_length": prompt_length}
    return StudyResult("freedave_subset", rows, params, checks, provenance())
