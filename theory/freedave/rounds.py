"""One FreeDave round, written once over the array API (numpy and torch). [FreeDave]

A round starts at a state x_j whose forward F_j is known. It builds the draft states of
the round's nodes from the rule's ranking under F_j (:func:`draft_states`; the first
draft is the rule's own step S_R(x_j)), marks the drafts whose forward is never needed
(:func:`terminal_drafts`), evaluates the others in one call, and walks the rule's path
through them (:func:`follow_path`). Static decoding is the rule Quota(1). The reference decoder over
abstract oracles (:mod:`theory.freedave`) and the engine's FreeDave
(:mod:`realmodel.freedave`) both run exactly these functions; they differ only in where
the forwards come from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from theory._xp import Array, namespace

__all__ = ["RoundPlan", "draft_states", "terminal_drafts", "plan_round", "follow_path"]

Node = tuple[int, ...]


def draft_states(x: Array, ranked: Array, choices: Sequence[Array],
                 nodes: Sequence[Node]) -> Array:
    """The draft state of every node: ``x`` with its k top-ranked positions committed.

    Args:
        x: (L,) int state x_j (any length: a whole sequence or one block window).
        ranked: (m,) int positions of x in F_j's ranking order (most confident first).
        choices: per choice bit a (L,) int token array: ``choices[0]`` F_j's argmax,
            ``choices[1]`` its runner-up (needed only by nodes holding a 1).
        nodes: choice strings (:class:`theory.freedave.core.DraftTree`); node n sets
            position ``ranked[i]`` to ``choices[node[i]][ranked[i]]``.

    Returns:
        (len(nodes), L) int drafts, in the namespace of ``x``.
    """
    xp = namespace(x)
    drafts = xp.stack([x] * len(nodes)) if nodes else \
        xp.zeros((0, x.shape[0]), dtype=x.dtype, device=getattr(x, "device", None))
    rank = [int(p) for p in ranked[:max((len(n) for n in nodes), default=0)]]
    for n, node in enumerate(nodes):
        for i, bit in enumerate(node):
            drafts[n, rank[i]] = choices[bit][rank[i]]
    return drafts


def terminal_drafts(nodes: Sequence[Node], m: int, still_masked: Sequence[bool],
                    refresh: bool) -> list[bool]:
    """Which drafts are never evaluated: those that fill the active block (depth m) and
    either leave no mask at all or, with ``refresh`` (prefix / dual cache: a new block
    starts with a refresh forward of its own), complete the block."""
    return [len(node) == m and (refresh or not open_)
            for node, open_ in zip(nodes, still_masked, strict=True)]


@dataclass(frozen=True)
class RoundPlan:
    """A planned round: ``nodes``, their ``drafts`` (n, L), which are ``terminal`` and the
    indices of the drafts the round's call evaluates (``evaluated``, in node order)."""

    nodes: list[Node]
    drafts: Array
    terminal: list[bool]

    @property
    def evaluated(self) -> list[int]:
        return [n for n, t in enumerate(self.terminal) if not t]


def plan_round(x: Array, ranked: Array, choices: Sequence[Array], nodes: Sequence[Node],
               mask_id: int, refresh: bool, rest_masked: bool = False) -> RoundPlan:
    """Drafts and terminal flags of a round from x_j (``x``: the part of the state the
    drafts change); ``rest_masked``: whether masks remain outside ``x`` (later blocks
    when ``x`` is one window)."""
    drafts = draft_states(x, ranked, choices, nodes)
    xp = namespace(drafts)
    masked = [rest_masked or bool(open_) for open_ in
              xp.any(drafts == mask_id, axis=-1).tolist()]
    return RoundPlan(list(nodes), drafts, terminal_drafts(nodes, len(ranked), masked, refresh))


def follow_path(plan: RoundPlan, first: Array, targets: Array | None, *,
                accept: str = "exact", mask_id: int | None = None) -> list[int]:
    """Walk the rule's path through a round's drafts.

    ``first`` (L,) is S_R(x_j), known from F_j; ``targets`` (len(evaluated), L) holds
    S_R(d) of every evaluated draft (None when the round evaluated nothing).

    ``accept="exact"``: from x_j, move to the draft equal to the current target while one
    exists. A move from cur goes to S_R(cur), so every visited draft lies on the rule's
    path (for static decoding, S_R = S adds one position a step). Drafts are distinct
    states (different depths leave different numbers of masks; siblings differ in a
    token), so at most one draft equals a target.

    ``accept="subset"`` (FreeDave++; needs ``mask_id``): move to the shallowest deeper
    draft whose committed positions the current target also commits, with the same
    tokens. The first move is exact (d_1 = S_R(x_j)); every later move from cur commits
    a subset of what R commits at cur, to cur's argmax tokens. For a rule whose
    certificate can only grow when positions are removed (Fréchet, tight: the margin
    max(0, 1 - sum r) - max r (or s) over a set), every committed set is then certified
    at its own state; the output is in general not R-decoding's.

    Returns the visited draft indices in order (the round makes len(path) moves); the
    walk stops at a draft whose forward the round did not compute.
    """
    if accept not in ("exact", "subset") or (accept == "subset" and mask_id is None):
        raise ValueError(f"accept must be 'exact' or 'subset' (with mask_id), got {accept!r}")
    xp = namespace(first)
    row = {n: r for r, n in enumerate(plan.evaluated)}
    path: list[int] = []
    t = first
    while True:
        deeper = len(plan.nodes[path[-1]]) if path else 0
        same = plan.drafts == t  # every draft against the target at once
        if accept == "subset" and path:
            same = same | (plan.drafts == mask_id)
        agree = xp.all(same, axis=-1).tolist()
        fits = [n for n, node in enumerate(plan.nodes) if len(node) > deeper and agree[n]]
        if not fits:
            break
        hit = min(fits, key=lambda n: len(plan.nodes[n]))
        path.append(hit)
        if targets is None or hit not in row:
            break
        t = targets[row[hit]]
    if not path:
        raise RuntimeError("the first draft differs from the rule's step (internal error)")
    return path
