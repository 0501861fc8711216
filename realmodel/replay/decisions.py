"""Replay commit rules on a confidence trace: what each rule would commit at every logged state.

For every row of a trace (one sequence at one decoding step) and every requested rule,
:func:`replay` applies ``theory.commit`` (the one implementation of every rule) to the
row's profile and records what the rule commits there: how many positions n, which
ones, the margins of the committed set (Fréchet G_n and tight G*_n, the joint lower
bound L_n) and the bonuses (heterogeneity B_n, spread), and whether the committed tokens
agree with what the logged run finally wrote at those positions.

Exact versus counterfactual. The trace holds the states the *logged* run visited.
Replaying the rule that produced the trace (:data:`LOGGED`, LLaDA's per-step quotas
included) reproduces its logged decisions exactly. Another rule sees the same states
only until the first step at which its decision differs from the logged one: that
step's decision is still exact (the state is real), but every later step of that
sequence is a state the rule would never have reached. ``Replay.counterfactual_from``
gives, per sequence, the first counterfactual step (first difference + 1; None if the
decisions never differ) and every :class:`StepReplay` carries a ``counterfactual`` flag.

Margins of a committed set S of size n (any rule; for a confidence prefix these are
the closed forms of :mod:`theory.margins` at n, which compute them)::

    L = max(0, 1 - sum_{j in S} r_j),  G = L - max_S r,  G* = L - max_S s,
    B = n max_S r - sum_S r,           spread = max_S r - max_S s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from realmodel.trace import Trace, TraceStep
from theory import Profile, Quota, Rule, commit, make_rule, make_rules, margins, sorted_profile

__all__ = ["LOGGED", "StepReplay", "Replay", "logged_rule", "default_rules", "replay",
           "replay_all", "stack_steps", "SWEEP"]

LOGGED = "logged"
"""Rule spec meaning 'the rule that produced the trace', with LLaDA's quota schedule."""

SWEEP: dict[str, tuple[float, ...]] = {
    "quota": (1, 2, 4),
    "threshold": (0.7, 0.9, 0.95),
    "factor": (0.5, 1.0, 2.0),
    "frechet": (0.0, 0.1, 0.3),
    "tight": (0.0, 0.1, 0.3),
    "entropy": (0.01, 0.1, 0.5),
}
"""Default parameter sweep of every theory rule (``paradec replay`` without ``--rule``)."""


@dataclass(frozen=True)
class StepReplay:
    """One rule's decision at one logged state.

    ``positions``/``tokens``: (n,) committed positions (0 = first generated) and tokens,
    in the rule's order; ``agree``: (n,) bool, token equals the logged final token there.
    ``confidence``: (n,) their confidences c. Margins as in the module docstring.
    """

    sequence: int
    step: int
    block: int
    m: int
    n: int
    logged_n: int
    positions: np.ndarray
    tokens: np.ndarray
    confidence: np.ndarray
    agree: np.ndarray
    L: float
    G: float
    G_star: float
    heterogeneity: float
    spread: float
    same_as_logged: bool
    counterfactual: bool

    @property
    def joint_agree(self) -> bool:
        """Every committed token equals the final token (vacuously True for n = 0)."""
        return bool(self.agree.all())


@dataclass(frozen=True)
class Replay:
    """A rule replayed on a trace: ``records`` in trace order (each sequence in step
    order) and ``counterfactual_from[sequence]`` (first counterfactual step or None)."""

    label: str
    rule: Rule | None
    logged: bool
    records: list[StepReplay] = field(repr=False)
    counterfactual_from: dict[int, int | None]

    def column(self, name: str) -> np.ndarray:
        """A per-record field as an array (``joint_agree`` included), shape (records,)."""
        return np.asarray([getattr(r, name) for r in self.records])

    def summary(self) -> dict[str, Any]:
        """Per-rule summary (JSON-ready). ``approx_calls`` is counterfactual: at every
        logged state the rule would cover the n_logged tokens the logged step committed
        in n_logged / n_rule calls; the trajectory is held fixed (exact for the logged
        rule, where it equals ``logged_calls``)."""
        n = self.column("n").astype(float)
        logged_n = self.column("logged_n").astype(float)
        agree = np.concatenate([r.agree for r in self.records]) if self.records \
            else np.zeros(0, bool)
        factual = ~self.column("counterfactual").astype(bool) if self.records \
            else np.zeros(0, bool)
        live = n > 0
        return {
            "rule": self.label, "logged": self.logged, "steps": len(self.records),
            "factual_steps": int(factual.sum()),
            "sequences_diverging": sum(v is not None for v in self.counterfactual_from.values()),
            "mean_tokens_per_step": _mean(n),
            "mean_tokens_per_step_factual": _mean(n[factual]),
            "same_as_logged": _mean(self.column("same_as_logged").astype(float)),
            "token_agreement": _mean(agree.astype(float)),
            "joint_agreement": _mean(self.column("joint_agree").astype(float)),
            "logged_calls": len(self.records),
            "approx_calls": float(np.sum(logged_n[live] / n[live])),
            "approx_calls_note": "counterfactual: the rule's decision at each logged state, "
                                 "trajectory held fixed",
        }


def _mean(x: np.ndarray) -> float:
    return float(np.mean(x)) if len(x) else float("nan")


def logged_rule(trace: Trace) -> Rule:
    """The rule that produced ``trace``, from its provenance (``decode.rule``)."""
    try:
        spec = trace.provenance["decode"]["rule"]
        return make_rule(spec["name"], spec["value"], **spec.get("options", {}))
    except (KeyError, TypeError) as err:
        raise ValueError(f"trace {trace.path}: provenance names no decode rule ({err})") \
            from None


def default_rules() -> list[Rule | str]:
    """:data:`LOGGED` then every theory rule over :data:`SWEEP`."""
    return [LOGGED, *make_rules(SWEEP)]


def stack_steps(steps: Sequence[TraceStep]) -> tuple[Profile, np.ndarray]:
    """Steps padded into one (rows, m_max) float64 profile (padding invalid) and the
    (rows, m_max) positions (-1 on padding)."""
    rows, m = len(steps), max((len(s.c) for s in steps), default=0)
    c = np.zeros((rows, m))
    log_r, s, H = np.zeros((rows, m)), np.zeros((rows, m)), np.zeros((rows, m))
    tokens, positions = np.zeros((rows, m), np.int64), np.full((rows, m), -1, np.int64)
    valid = np.zeros((rows, m), bool)
    for i, st in enumerate(steps):
        k = len(st.c)
        c[i, :k], log_r[i, :k], s[i, :k], H[i, :k] = st.c, st.log_r, st.s, st.H
        tokens[i, :k], positions[i, :k], valid[i, :k] = st.tokens, st.positions, True
    return Profile(tokens=tokens, c=c, log_r=log_r, s=s, H=H, valid=valid), positions


def _decide(rule: Rule | str, steps: Sequence[TraceStep], profile: Profile,
            base: Rule) -> tuple[np.ndarray, np.ndarray]:
    """(n (rows,), order (rows, m)) of ``rule`` on every row; LOGGED uses Quota(k_t)
    where the row records LLaDA's quota k_t >= 0."""
    if not isinstance(rule, str):
        d = commit(rule, profile)
        return np.asarray(d.n), np.asarray(d.order)
    k = np.asarray([st.k for st in steps], dtype=np.int64)
    d = commit(base, profile)
    n, order = np.asarray(d.n).copy(), np.asarray(d.order).copy()
    for kt in np.unique(k[k >= 0]):
        rows = np.flatnonzero(k == kt)
        dq = commit(Quota(int(kt)), profile.take(rows))
        n[rows], order[rows] = np.asarray(dq.n), np.asarray(dq.order)
    return n, order


def _set_margins(profile: Profile, mask: np.ndarray, n: np.ndarray) -> dict[str, np.ndarray]:
    """Margins of each row's committed set (mask (rows, m)), via theory.margins on the set
    sorted by r ascending; NaN where n = 0."""
    sp = sorted_profile(replace(profile, valid=mask))  # the committed set, by confidence
    r, s = sp.r, sp.s
    return {key: margins.at_prefix(x, n) for key, x in
            (("L", margins.joint_lower_bound(r)), ("G", margins.frechet_margin(r)),
             ("G_star", margins.tight_margin(r, s)), ("B", margins.heterogeneity_bonus(r)),
             ("spread", margins.spread_bonus(r, s)))}


def replay_all(trace: Trace, rules: Sequence[Rule | str] | None = None) -> list[Replay]:
    """Replay every rule of ``rules`` (default :func:`default_rules`) on ``trace``."""
    rules = default_rules() if rules is None else list(rules)
    for rule in rules:
        if isinstance(rule, str) and rule != LOGGED:
            raise ValueError(f"unknown rule spec {rule!r} (a theory Rule or {LOGGED!r})")
    steps = list(trace.steps())
    final = {f["sequence"]: f["generated"] for f in trace.sequences()}
    profile, positions = stack_steps(steps)
    base = logged_rule(trace)
    return [_replay_one(rule, steps, profile, positions, final, base) for rule in rules]


def replay(trace: Trace, rule: Rule | str = LOGGED) -> Replay:
    """Replay one rule (or :data:`LOGGED`) on every row of ``trace`` (replaying LOGGED
    reproduces every logged decision: tests/realmodel/test_replay.py)."""
    return replay_all(trace, [rule])[0]


def _replay_one(rule: Rule | str, steps: Sequence[TraceStep], profile: Profile,
                positions: np.ndarray, final: dict[int, list[int]], base: Rule) -> Replay:
    n, order = _decide(rule, steps, profile, base)
    mask = np.zeros(profile.c.shape, bool)
    for row in range(len(steps)):
        mask[row, order[row, :n[row]]] = True
    marg = _set_margins(profile, mask, n)
    first_diff: dict[int, int | None] = {}
    records = []
    for i, st in enumerate(steps):
        picked = order[i, :n[i]]
        pos, tok = positions[i, picked], profile.tokens[i, picked]
        gen = final.get(st.sequence)
        agree = np.zeros(len(pos), bool) if gen is None else np.asarray(gen)[pos] == tok
        same = np.array_equal(np.sort(pos), np.sort(st.committed))
        seq = st.sequence
        if seq not in first_diff:
            first_diff[seq] = None
        earlier = first_diff[seq]
        counterfactual = earlier is not None and st.step > earlier
        if not same and earlier is None:
            first_diff[seq] = st.step
        records.append(StepReplay(
            sequence=seq, step=st.step, block=st.block, m=len(st.c), n=int(n[i]),
            logged_n=st.n, positions=pos, tokens=tok, confidence=profile.c[i, picked],
            agree=agree, L=float(marg["L"][i]), G=float(marg["G"][i]),
            G_star=float(marg["G_star"][i]), heterogeneity=float(marg["B"][i]),
            spread=float(marg["spread"][i]), same_as_logged=bool(same),
            counterfactual=bool(counterfactual)))
    cf = {seq: None if d is None else d + 1 for seq, d in first_diff.items()}
    if isinstance(rule, str):
        return Replay(label=f"logged {base.label()}", rule=base, logged=True,
                      records=records, counterfactual_from=cf)
    return Replay(label=rule.label(), rule=rule, logged=False, records=records,
                  counterfactual_from=cf)
