"""FreeDave's call count from a static trace alone, without the oracle. [FreeDave]

A static trace records, for every static step j, what the static decoder saw: the
active block, the masked positions of that block ranked by F_j = f(x_j) (confidence
descending, ties by position: :func:`theory.rules.sort_order`), and F_j's argmax (and
optionally runner-up) tokens there. :class:`StaticStep` is that record; the realmodel
trace reader produces it.

Why the count depends only on the static path. Let x_0, x_1, ... be the static path
and d_k (k = 1..D) the drafts of a round started at x_j. S is deterministic, so if
d_k = x_{j+k} then the target t_k = S(d_k) = x_{j+k+1}; hence t_k = d_{k+1} iff
d_{k+1} = x_{j+k+1}. By induction on k the accepted length is
b = min(D, A(j)) with the agreement length

    A(j) = max{a : d_k = x_{j+k} for all k <= a},

and d_k = x_{j+k} iff the top k positions of F_j's ranking are the positions static
decoding commits at steps j..j+k-1 and F_j's argmax there equals the static tokens.
That is a function of F_j's ranking and tokens and of the static path: nothing off the
path is ever read (an off-path target is only compared after the first mismatch has
already fixed b). The next round starts at x_{j+b}, again on the path, so by induction
the whole sequence of rounds, the number of calls and the number of evaluated states
are functions of the trace. For a draft tree the same argument follows the unique
on-path node at each depth (its choice bits are fixed by the static tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory.freedave.core import Blocks, FreeDave, OracleOutput

__all__ = ["StaticStep", "StaticTrace", "CallCount", "draft_hits", "agreement_lengths",
           "tree_accepted", "predicted_calls", "TraceOracle"]


def _ints(values: object, name: str) -> tuple[int, ...]:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-d sequence of integers, got {values!r}")
    return tuple(int(v) for v in arr)


@dataclass(frozen=True)
class StaticStep:
    """One static step j as a static trace records it.

    Attributes:
        step: the step index j (0-based).
        block: index of the active block.
        positions: masked positions of the active block ranked by F_j (m of them;
            positions[0] is the one static decoding commits).
        tokens: F_j's argmax token at each ranked position.
        runner_up: F_j's runner-up token at each ranked position, or None.
        n: positions the step commits, the first n of the ranking (1 for static
            decoding; a trace of another deterministic rule R records R's count, and
            ``positions`` is then R's ranking).
    """

    step: int
    block: int
    positions: tuple[int, ...]
    tokens: tuple[int, ...]
    runner_up: tuple[int, ...] | None = None
    n: int = 1

    def __post_init__(self) -> None:
        pos, tok = _ints(self.positions, "positions"), _ints(self.tokens, "tokens")
        if not pos or len(tok) != len(pos) or len(set(pos)) != len(pos) or min(pos) < 0:
            raise ValueError(f"step {self.step}: need m >= 1 distinct positions >= 0 and one "
                             f"token each, got positions={pos}, tokens={tok}")
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "tokens", tok)
        if self.runner_up is not None:
            u = _ints(self.runner_up, "runner_up")
            if len(u) != len(pos) or any(a == b for a, b in zip(u, tok, strict=True)):
                raise ValueError(f"step {self.step}: runner_up needs one token per position, "
                                 "each different from the argmax")
            object.__setattr__(self, "runner_up", u)
        if isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= len(pos):
            raise ValueError(f"step {self.step}: n must be an integer in [1, m={len(pos)}], "
                             f"got {self.n!r}")

    @property
    def m(self) -> int:
        """Masked positions left in the active block (the remaining static steps in it)."""
        return len(self.positions)


@dataclass(frozen=True)
class StaticTrace:
    """A validated trace of one sequence (one row): steps 0..T-1 of static decoding, or of
    another deterministic rule when some step commits n > 1 positions (:attr:`is_static`
    says which; the one-token functions below need a static trace)."""

    steps: tuple[StaticStep, ...]

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        object.__setattr__(self, "steps", steps)
        for j, s in enumerate(steps):
            if s.step != j:
                raise ValueError(f"trace step {j} is labelled {s.step}; steps must be 0..T-1")
            if (s.runner_up is None) != (steps[0].runner_up is None):
                raise ValueError("either every step records runner-up tokens or none does")
        for a, b in zip(steps, steps[1:], strict=False):
            if a.m > a.n:
                if b.block != a.block or set(b.positions) != set(a.positions[a.n:]):
                    raise ValueError(f"step {b.step}: its window must be step {a.step}'s minus "
                                     f"the committed positions {a.positions[:a.n]}")
            elif b.block <= a.block:
                raise ValueError(f"step {b.step}: after block {a.block} is full the next step "
                                 "must be in a later block")

    @property
    def T(self) -> int:
        """Number of steps (masked tokens decoded, for a static trace)."""
        return len(self.steps)

    @property
    def is_static(self) -> bool:
        """Every step commits one position (static decoding)."""
        return all(s.n == 1 for s in self.steps)

    @property
    def has_runner_up(self) -> bool:
        return bool(self.steps) and self.steps[0].runner_up is not None

    def path(self) -> tuple[np.ndarray, np.ndarray]:
        """Static path: committed position p_j and token tau_j per step, shapes (T,)."""
        if not self.is_static:
            raise ValueError("the static path needs a static trace (one token a step)")
        p = np.array([s.positions[0] for s in self.steps], dtype=np.int64)
        tau = np.array([s.tokens[0] for s in self.steps], dtype=np.int64)
        return p, tau


def draft_hits(trace: StaticTrace, j: int, *, drafts: str = "prefix",
               tokens: str = "argmax") -> np.ndarray:
    """Which states x_{j+k} (k = 1..m_j) are free drafts of F_j; shape (m_j,) bool.

    A free draft commits window positions of x_j to tokens read off F_j: the top k of
    the ranking (``drafts="prefix"``) or any set of positions (``"subset"``), each to
    the argmax (``tokens="argmax"``) or to argmax or runner-up (``"top2"``). Entry k-1
    says whether the static state x_{j+k} is such a draft:

        hit_k = [tau_i in allowed_j(p_i) for i = j..j+k-1] and
                [prefix: {top k of F_j} = {p_j, ..., p_{j+k-1}}].

    Hypotheses: a valid trace (positions of a block leave the window one per step).
    Reference: [FreeDave] Wu and Zhang, arXiv 2510.00294, draft construction;
    docs/freedave.md "Algorithm", step 1.

    >>> t = StaticTrace((StaticStep(0, 0, (5, 6, 7), (1, 1, 1)),
    ...                  StaticStep(1, 0, (7, 6), (1, 1)), StaticStep(2, 0, (6,), (1,))))
    >>> draft_hits(t, 0).tolist()  # static order 5, 7, 6 against ranking 5, 6, 7
    [True, False, True]
    """
    if drafts not in ("prefix", "subset") or tokens not in ("argmax", "top2"):
        raise ValueError(f"drafts must be prefix/subset and tokens argmax/top2, got "
                         f"{drafts!r}, {tokens!r}")
    if tokens == "top2" and not trace.has_runner_up:
        raise ValueError("tokens='top2' needs a trace with runner-up tokens")
    s = trace.steps[j]
    p, tau = trace.path()
    allowed = {q: {a} if s.runner_up is None or tokens == "argmax" else {a, u}
               for q, a, u in zip(s.positions, s.tokens, s.runner_up or s.tokens,
                                  strict=True)}
    hits = np.zeros(s.m, dtype=bool)
    ok_tokens, ranked, static = True, set(), set()
    for k in range(1, s.m + 1):
        q = int(p[j + k - 1])
        ok_tokens = ok_tokens and int(tau[j + k - 1]) in allowed[q]
        ranked.add(s.positions[k - 1])
        static.add(q)
        hits[k - 1] = ok_tokens and (drafts == "subset" or ranked == static)
    return hits


def agreement_lengths(trace: StaticTrace) -> np.ndarray:
    """A(j): how many nested drafts of step j lie on the static path; shape (T,) int64.

    A(j) = max{a : top_k(F_j) = {p_j..p_{j+k-1}} and F_j's argmax = tau there, k <= a};
    always 1 <= A(j) <= m_j (d_1 = x_{j+1}). A chain round from x_j accepts min(D, A(j)).
    Reference: [FreeDave] verification rule; this module's docstring for the proof.

    >>> t = StaticTrace((StaticStep(0, 0, (5, 6), (1, 1)), StaticStep(1, 0, (6,), (2,))))
    >>> agreement_lengths(t).tolist()  # F_0 predicted token 1 at 6, static put 2
    [1, 1]
    """
    out = np.zeros(trace.T, dtype=np.int64)
    for j in range(trace.T):
        hits = draft_hits(trace, j)
        out[j] = hits.size if hits.all() else int(np.argmin(hits))
    return out


def tree_accepted(trace: StaticTrace, j: int, nodes: list[tuple[int, ...]]) -> int:
    """Steps of the trace's rule reached by following its path through draft ``nodes``
    from step j (for a static trace: the depth reached).

    Step l of the path commits the first n_l positions of its window, to its tokens. The
    draft of depth D (top D of F_j's ranking) is the path's state after steps j..j+i-1
    iff D = n_j + ... + n_{j+i-1}, those positions are exactly the top D of F_j's
    ranking, and each token is F_j's argmax (choice 0) or runner-up (choice 1) there.
    """
    s = trace.steps[j]
    present = set(nodes)
    choice: tuple[int, ...] = ()
    depth, steps = 0, 0
    while depth < s.m:
        st = trace.steps[j + steps]
        new = dict(zip(st.positions[:st.n], st.tokens[:st.n], strict=True))
        ranks = range(depth, depth + st.n)
        if set(s.positions[k] for k in ranks) != set(new):
            return steps
        for k in ranks:
            t = new[s.positions[k]]
            bit = 0 if t == s.tokens[k] else 1 if s.runner_up and t == s.runner_up[k] else -1
            if bit < 0:
                return steps
            choice += (bit,)
        if choice not in present:
            return steps
        depth, steps = depth + st.n, steps + 1
    return steps


@dataclass(frozen=True)
class CallCount:
    """Cost of one FreeDave decode: oracle calls, states evaluated, tokens per round."""

    calls: int
    states: int
    accepted: tuple[int, ...]


def predicted_calls(trace: StaticTrace, config: FreeDave) -> CallCount:
    """FreeDave's exact cost on the sequence whose static trace is ``trace``; likewise
    FreeDave over a rule R (``FreeDave(rule=R)``) from R's own trace.

    Round from x_j (F_j known, m_j masks left in the block, the rule commits n_j there):
    nodes = the first K draft nodes of depth in [n_j, m_j]; a node of depth m_j is
    *terminal* (never evaluated) when it is the final state or, with ``refresh``,
    completes the block. Cost 1 call if some
    node is evaluated; accepted b = :func:`tree_accepted`; next state x_{j+b}. A state
    whose forward is unknown (x_0, or a block start after a terminal landing) costs
    one call of one state. Static decoding costs T calls. The argument of the module
    docstring holds step for step with S_R in place of S: acceptance only compares
    drafts with states of R's path, which the trace records.

    Hypotheses: the oracle is deterministic (then this equals the run exactly).
    Reference: [FreeDave] Wu and Zhang, arXiv 2510.00294 (draft, verify, accept);
    docs/freedave.md "Call count from the static path alone".

    >>> t = StaticTrace((StaticStep(0, 0, (5, 6, 7), (1, 1, 1)),
    ...                  StaticStep(1, 0, (6, 7), (1, 1)), StaticStep(2, 0, (7,), (1,))))
    >>> predicted_calls(t, FreeDave(K=3))  # f(x_0), then f(d_1), f(d_2); d_3 is final
    CallCount(calls=2, states=3, accepted=(3,))
    """
    if config.tree.uses_runner_up and trace.T and not trace.has_runner_up:
        raise ValueError("this draft tree branches on runner-up tokens; the trace has none")
    calls = states = 0
    accepted: list[int] = []
    j, known = 0, False
    while j < trace.T:
        if not known:
            calls, states, known = calls + 1, states + 1, True
        step = trace.steps[j]
        m = step.m
        nodes = config.nodes(m, start=step.n)
        final = sum(s.n for s in trace.steps[j:]) == m  # this block is the last one
        terminal = config.refresh or final
        evaluated = sum(1 for n in nodes if not (terminal and len(n) == m))
        calls, states = calls + (evaluated > 0), states + evaluated
        b = tree_accepted(trace, j, nodes)
        if b < 1:
            raise RuntimeError(f"step {j}: the first draft is not the rule's step (internal)")
        depth = sum(s.n for s in trace.steps[j:j + b])
        accepted.append(b)
        j += b
        known = not (terminal and depth == m)
    return CallCount(calls, states, tuple(accepted))


class TraceOracle:
    """An oracle that answers from a static trace: the slow replay twin of the count.

    Builds a synthetic sequence (prompt and unranked positions hold token 0, ranked
    positions masked with ``mask_id = -1``, block starts at each block's lowest masked
    position) on which static decoding walks exactly the trace's path. On-path states
    get the trace's ranking (confidences 1 - (i+1)/(m+2) by rank i), tokens and
    runner-ups; any other state gets pseudo-random outputs seeded by ``poison``. Since
    FreeDave never reads off-path outputs, its cost on this oracle is the same for
    every poison, and equals :func:`predicted_calls`.
    """

    mask_id = -1

    def __init__(self, trace: StaticTrace, poison: int = 0) -> None:
        if trace.T == 0:
            raise ValueError("an empty trace has no states to answer for")
        self.trace, self.poison = trace, int(poison)
        L = 1 + max(max(s.positions) for s in trace.steps)
        self.x0 = np.zeros((1, L), dtype=np.int64)
        firsts: dict[int, int] = {}
        for s in trace.steps:
            self.x0[0, list(s.positions)] = self.mask_id
            firsts.setdefault(s.block, min(s.positions))
        self.blocks = Blocks(tuple(sorted(firsts.values())))
        p, tau = trace.path()
        self._step: dict[bytes, int] = {}
        x = self.x0[0].copy()
        for j in range(trace.T):
            self._step[x.tobytes()] = j
            x[p[j]] = tau[j]

    def __call__(self, states: np.ndarray) -> OracleOutput:
        N, L = states.shape
        tok, c = np.zeros((N, L), np.int64), np.zeros((N, L))
        u = np.ones((N, L), np.int64)
        for i, y in enumerate(np.asarray(states, dtype=np.int64)):
            j = self._step.get(y.tobytes())
            if j is None:
                rng = np.random.default_rng([self.poison, *np.abs(y).tolist()])
                tok[i], c[i] = rng.integers(0, 3, L), rng.random(L)
            else:
                s = self.trace.steps[j]
                pos = list(s.positions)
                tok[i, pos] = s.tokens
                c[i, pos] = 1.0 - (np.arange(s.m) + 1.0) / (s.m + 2.0)
                if s.runner_up is not None:
                    u[i, pos] = s.runner_up
            u[i] = np.where(u[i] == tok[i], tok[i] + 1, u[i])
        return OracleOutput(tok, c, runner_up=u if self.trace.has_runner_up else None)
