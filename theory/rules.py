"""The commit rules (docs/theory.md, section 2), batched over rows.

A rule is a frozen dataclass holding its parameter. :func:`commit` sorts each row
(confidence descending, ties by position; the entropy rule sorts by entropy
ascending), asks the rule which prefix lengths it accepts, and commits the longest
accepted prefix, at least one position per row that has a valid position, and none
for a row with no valid position (a finished sequence). One implementation serves
the simulator, the real decode loop and trace replay, on numpy or torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from theory import domains, margins
from theory._xp import (
    Array,
    at_least,
    cpu_torch,
    from_numpy_like,
    inverse_permutation,
    is_numpy,
    namespace,
    supports_float64,
    take_last,
    to_numpy,
)
from theory.profile import FIELDS, Profile

__all__ = ["Rule", "Quota", "Threshold", "Factor", "Frechet", "TightCertificate",
           "EntropyBound", "Commit", "commit", "RULES", "make_rule", "make_rules",
           "commit_quotas", "llada_quota", "llada_step_index", "Sorted", "sort_order",
           "sorted_profile", "commit_bonuses"]


class Sorted:
    """A profile's fields gathered into decision order, each of shape ``(rows, m)``.

    Column j holds each row's (j+1)-th position of ``order`` (valid positions first):
    ``c``, ``r`` (= exp(log r), never 1 - c), ``s`` and ``H`` in float64 (the profile's
    float dtype on devices without float64), ``tokens`` and ``valid`` as stored. A field
    is gathered on first use, so each rule pays only for what it reads; :meth:`gather`
    puts any other (rows, m) array of the same positions in the same order. Built by
    :func:`sorted_profile`; the rules receive one from :func:`commit`.
    """

    def __init__(self, xp: Any, profile: Profile, order: Array, dtype: Any) -> None:
        self._xp, self._profile, self._order, self._dtype = xp, profile, order, dtype
        self._cache: dict[str, Array] = {}

    @property
    def order(self) -> Array:
        """(rows, m) int64: the positions of each row, in decision order."""
        return self._order

    def gather(self, x: Array) -> Array:
        """``x`` (rows, m), indexed by position, rearranged into decision order."""
        return take_last(self._xp, x, self._order)

    def _get(self, name: str) -> Array:
        if name not in self._cache:
            xp = self._xp
            x = self.gather(getattr(self._profile, "log_r" if name == "r" else name))
            if name == "r":
                x = xp.exp(xp.astype(x, self._dtype))
            elif name in ("c", "s", "H"):
                x = xp.astype(x, self._dtype)
            self._cache[name] = x
        return self._cache[name]

    c = property(lambda self: self._get("c"), doc="(rows, m) confidences c.")
    r = property(lambda self: self._get("r"), doc="(rows, m) residuals r = exp(log r).")
    s = property(lambda self: self._get("s"), doc="(rows, m) runner-up probabilities s.")
    H = property(lambda self: self._get("H"), doc="(rows, m) entropies H (nats).")
    tokens = property(lambda self: self._get("tokens"), doc="(rows, m) argmax tokens.")
    valid = property(lambda self: self._get("valid"), doc="(rows, m) bool validity.")


class Rule:
    """Base class: ``accepts`` says, per sorted rank j, whether prefix n = j+1 passes."""

    name: ClassVar[str]
    parameter: ClassVar[str]
    by_entropy: ClassVar[bool] = False

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        raise NotImplementedError

    def adjust(self, xp: Any, n: Array, n_valid: Array, leading: Array) -> Array:
        return n

    def on_numpy(self) -> Rule:
        """The rule for a profile :func:`commit` moved to numpy (rules holding arrays
        move them too)."""
        return self

    def label(self) -> str:
        return f"{self.name}({self.parameter}={getattr(self, self.parameter)})"


def _ranks(xp: Any, like: Array) -> Array:
    m = like.shape[-1]
    return xp.astype(xp.arange(1, m + 1, device=getattr(like, "device", None)), like.dtype)


@dataclass(frozen=True)
class Quota(Rule):
    """Commit exactly ``k`` positions (static decoding is k = 1). [LLaDA]"""

    k: int = 1
    name: ClassVar[str] = "quota"
    parameter: ClassVar[str] = "k"

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", domains.QUOTA.check(self.k))

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        return _ranks(xp, sp.order) <= self.k


class _RowQuotas(Rule):
    """Quota with its own k_i >= 0 per row (LLaDA's schedule, :func:`commit_quotas`): the
    ranks k_i accepts are those of ``Quota(k_i)``; a row with k_i = 0 commits nothing."""

    name: ClassVar[str] = "quota"
    parameter: ClassVar[str] = "k"

    def __init__(self, k: Array) -> None:
        self.k = k

    def on_numpy(self) -> _RowQuotas:
        return _RowQuotas(to_numpy(self.k))

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        return _ranks(xp, sp.order) <= xp.astype(self.k, sp.order.dtype)[:, None]

    def adjust(self, xp: Any, n: Array, n_valid: Array, leading: Array) -> Array:
        return xp.where(self.k > 0, n, 0)


@dataclass(frozen=True)
class Threshold(Rule):
    """Commit every position with c >= tau. [FastdLLM]"""

    tau: float = 0.9
    name: ClassVar[str] = "threshold"
    parameter: ClassVar[str] = "tau"

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau", domains.TAU.check(self.tau))

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        return sp.c >= self.tau


@dataclass(frozen=True)
class Factor(Rule):
    """Largest n with (n+1) r_(n) < f. [FastdLLM]

    ``fastdllm_quirks=True`` reproduces the public reference code instead: rank 1
    always passes, later ranks pass with ``c_(n) >= 1 - f/(n+1)`` (that is ``<=``),
    and when only the last rank fails every position is committed (so with m = 2 a
    failing rank 2 commits both).
    """

    f: float = 1.0
    fastdllm_quirks: bool = False
    name: ClassVar[str] = "factor"
    parameter: ClassVar[str] = "f"

    def __post_init__(self) -> None:
        object.__setattr__(self, "f", domains.FACTOR.check(self.f))

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        n = _ranks(xp, sp.r)
        if self.fastdllm_quirks:  # the reference sets rank 1's threshold to -1
            return (sp.c >= 1.0 - self.f / (n + 1.0)) | (n == 1.0)
        return (n + 1.0) * sp.r < self.f

    def adjust(self, xp: Any, n: Array, n_valid: Array, leading: Array) -> Array:
        if not self.fastdllm_quirks:
            return n
        return xp.where(leading == n_valid - 1, n_valid, n)


@dataclass(frozen=True)
class Frechet(Rule):
    """Fréchet profile decoding: largest n with G_n > delta. [FastdLLM++]"""

    delta: float = 0.0
    clip: bool = True
    name: ClassVar[str] = "frechet"
    parameter: ClassVar[str] = "delta"

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", domains.DELTA.check(self.delta))

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        return margins.frechet_margin(sp.r, self.clip) > self.delta


@dataclass(frozen=True)
class TightCertificate(Rule):
    """Runner-up aware certificate: largest n with G*_n > delta (this project,
    docs/theory/tight_certificate.md)."""

    delta: float = 0.0
    clip: bool = True
    name: ClassVar[str] = "tight"
    parameter: ClassVar[str] = "delta"

    def __post_init__(self) -> None:
        object.__setattr__(self, "delta", domains.DELTA.check(self.delta))

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        return margins.tight_margin(sp.r, sp.s, self.clip) > self.delta


@dataclass(frozen=True)
class EntropyBound(Rule):
    """EB-sampler: lowest-entropy positions while sum H - max H <= gamma. [EB]"""

    gamma: float = 0.1
    name: ClassVar[str] = "entropy"
    parameter: ClassVar[str] = "gamma"
    by_entropy: ClassVar[bool] = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "gamma", domains.GAMMA.check(self.gamma))

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        return xp.cumulative_sum(sp.H, axis=-1) - sp.H <= self.gamma


RULES: dict[str, type[Rule]] = {cls.name: cls for cls in
                                (Quota, Threshold, Factor, Frechet, TightCertificate,
                                 EntropyBound)}


def make_rule(name: str, value: float | None = None, **options: Any) -> Rule:
    """A rule by name (``quota``, ``threshold``, ``factor``, ``frechet``, ``tight``,
    ``entropy``), with its one parameter ``value`` (default if None)."""
    if not isinstance(name, str) or name not in RULES:
        raise ValueError(f"unknown rule {name!r}; known rules: {', '.join(RULES)}")
    cls = RULES[name]
    if value is not None:
        options[cls.parameter] = value
    return cls(**options)


def make_rules(grid: Mapping[str, Iterable[float]]) -> list[Rule]:
    """Every rule of a parameter grid ``{name: values}``, in the grid's order (a sweep).

    >>> [r.label() for r in make_rules({"quota": (2, 4.0), "frechet": (0.5,)})]
    ['quota(k=2)', 'quota(k=4)', 'frechet(delta=0.5)']
    """
    return [make_rule(name, value) for name, values in grid.items() for value in values]


@dataclass(frozen=True)
class Commit:
    """What a rule commits. ``n``: (rows,) int64; ``mask``: (rows, m) bool over the
    original positions; ``order``: (rows, m) positions in the rule's sorted order."""

    n: Array
    mask: Array
    order: Array = field(repr=False)


def sort_order(profile: Profile, by_entropy: bool = False) -> Array:
    """Positions of each row in decision order, valid ones first.

    Confidence descending is taken as ``log r`` ascending (the same order in exact
    arithmetic, finer in floating point); ties go to the lower position.
    """
    xp = namespace(profile.c)
    return _stable_argsort(xp, _sort_key(xp, profile, by_entropy))


def sorted_profile(profile: Profile, order: Array | None = None, *,
                   by_entropy: bool = False) -> Sorted:
    """The quantities of ``profile`` gathered into decision order (a :class:`Sorted`).

    ``order`` (rows, m) defaults to :func:`sort_order`: confidence descending, ties by
    position (``by_entropy``: entropy ascending), valid positions first and the invalid
    ones after them in no particular order; pass a rule's ``Commit.order`` to read the
    profile in the order that rule decided in. ``.r`` and ``.s`` are the sorted arrays
    :mod:`theory.margins` takes, and :func:`theory.margins.at_prefix` reads a margin at
    each row's committed count. Runs on numpy arrays and torch tensors (any device).

    >>> from theory.profile import profile_from_confidences
    >>> sp = sorted_profile(profile_from_confidences([0.5, 0.875, 0.75]))
    >>> sp.order.tolist(), sp.c.tolist(), [round(r, 12) for r in sp.r[0].tolist()]
    ([[1, 2, 0]], [[0.875, 0.75, 0.5]], [0.125, 0.25, 0.5])
    """
    if not isinstance(profile, Profile):
        raise TypeError("profile must be a theory.Profile (profile_from_logits, ...), got "
                        f"{type(profile).__name__}")
    xp = namespace(profile.c)
    if order is None:
        order = sort_order(profile, by_entropy)
    ftype = xp.float64 if supports_float64(xp, profile.c) else profile.c.dtype
    return Sorted(xp, profile, order, ftype)


def _sort_key(xp: Any, profile: Profile, by_entropy: bool) -> Array:
    key = profile.H if by_entropy else profile.log_r
    return xp.where(profile.valid, key, float("inf"))


_SMALL_SORT = 1024  # numpy arrays of at most this many keys are sorted stably at once


def _stable_argsort(xp: Any, key: Array) -> Array:
    """Stable ascending argsort along the last axis.

    An unstable sort is 3-4x faster; rows where it met a tie among valid keys are
    sorted again stably, so the result always equals the stable order. A small numpy
    array (a decode step's window) is sorted stably at once: there the stable sort costs
    what the unstable one does, and the tie check would be most of the work.
    """
    if is_numpy(key) and key.size <= _SMALL_SORT:
        return np.argsort(key, axis=-1, kind="stable")
    order = xp.argsort(key, axis=-1, stable=False)
    ks = take_last(xp, key, order)
    tied = xp.any((ks[..., 1:] == ks[..., :-1]) & (ks[..., 1:] != float("inf")), axis=-1)
    if bool(xp.any(tied)):
        order[tied] = xp.argsort(key[tied], axis=-1, stable=True)
    return order


def _first_n(xp: Any, order: Array, n: Array) -> Array:
    """Mask of the first ``n`` positions of each row in ``order``: those whose rank
    (the inverse permutation of ``order``) is below n."""
    return inverse_permutation(xp, order) < n[:, None]


def commit(rule: Rule, profile: Profile) -> Commit:
    """Apply ``rule`` to every row of ``profile``.

    n = the largest n in 1..m_valid such that every prefix length up to n passes the
    rule (the rules' conditions are monotone, so this is the "largest n" of the rule
    table, docs/theory.md, section 2),
    and n = 0 for rows without a valid position. Torch tensors on the CPU are
    processed through zero-copy numpy views (torch's CPU sort is several times
    slower); other devices run the same code through torch.

    >>> from theory.profile import profile_from_confidences
    >>> p = profile_from_confidences([0.99, 0.95, 0.82, 0.78, 0.74])
    >>> int(commit(Factor(0.7), p).n[0]), int(commit(Frechet(0.3), p).n[0])
    (2, 4)
    """
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a theory rule (theory.make_rule), got {rule!r}")
    if not isinstance(profile, Profile):
        raise TypeError("profile must be a theory.Profile (profile_from_logits, ...), got "
                        f"{type(profile).__name__}")
    if cpu_torch(profile.c):
        result = commit(rule.on_numpy(),
                        Profile(*(to_numpy(getattr(profile, f)) for f in FIELDS)))
        return Commit(*(from_numpy_like(x, profile.c) for x in
                        (result.n, result.mask, result.order)))
    xp = namespace(profile.c)
    if profile.c.shape[-1] == 0:  # no position at all: every row commits 0
        rows = profile.c.shape[0]
        zeros = xp.zeros((rows,), dtype=xp.int64, device=getattr(profile.c, "device", None))
        return Commit(n=zeros, mask=xp.astype(profile.valid, xp.bool),
                      order=xp.astype(profile.tokens, xp.int64))
    if rule.by_entropy and bool(xp.any(xp.isnan(xp.where(profile.valid, profile.H, 0.0)))):
        raise ValueError("the entropy-bound rule needs entropies H; this profile has none")
    key = _sort_key(xp, profile, rule.by_entropy)
    order = _stable_argsort(xp, key)
    ok = rule.accepts(xp, sorted_profile(profile, order))
    leading = xp.sum(xp.cumulative_prod(ok, axis=-1, dtype=xp.int64), axis=-1)  # 1 until a fail
    n_valid = xp.sum(profile.valid, axis=-1, dtype=xp.int64)
    n = xp.where(n_valid > 0, at_least(xp, leading, 1), 0)
    n = xp.minimum(rule.adjust(xp, n, n_valid, leading), n_valid)
    return Commit(n=n, mask=_first_n(xp, order, n), order=order)


def commit_quotas(profile: Profile, k: Array) -> Commit:
    """Commit exactly ``k[i]`` positions of row i (all its valid ones when fewer), none
    where ``k[i]`` = 0: LLaDA's per-row quota schedule k_t (:func:`llada_quota`) in one
    :func:`commit`. Row i equals ``commit(Quota(k[i]), profile)``'s row i for k[i] >= 1
    (tested), and ``order`` is the same for every rule that sorts by confidence.

    >>> from theory.profile import profile_from_confidences
    >>> import numpy as np
    >>> p = profile_from_confidences([[0.9, 0.8, 0.7], [0.6, 0.95, 0.5], [0.9, 0.8, 0.7]])
    >>> commit_quotas(p, np.array([2, 1, 0])).mask.astype(int).tolist()
    [[1, 1, 0], [0, 1, 0], [0, 0, 0]]
    """
    if not isinstance(profile, Profile):
        raise TypeError("profile must be a theory.Profile (profile_from_logits, ...), got "
                        f"{type(profile).__name__}")
    xp = namespace(profile.c)
    dtype = getattr(k, "dtype", None)
    if dtype is None or not hasattr(k, "shape") or \
            str(dtype) not in ("int32", "int64", "torch.int32", "torch.int64"):
        raise TypeError(f"quotas k must be an int32 or int64 array of the profile's library, "
                        f"got {type(k).__name__} of dtype {dtype}")
    if namespace(k) is not xp or getattr(k, "device", None) != getattr(profile.c, "device", None):
        raise TypeError("quotas k must be an array of the profile's library and device")
    if tuple(k.shape) != (profile.c.shape[0],):
        raise ValueError(f"quotas k must have shape (rows,) = ({profile.c.shape[0]},), got "
                         f"{tuple(k.shape)}")
    if bool(xp.any(k < 0)):
        raise ValueError("quotas k must be >= 0")
    return commit(_RowQuotas(k), profile)


def commit_bonuses(profile: Profile, delta: float = 0.0) -> dict[str, Array]:
    """What the heterogeneity and the spread bonus buy on each row of ``profile``.

    ``n_factor``, ``n_frechet``, ``n_tight``: the counts factor(f = 1 - delta),
    Fréchet(delta) and tight(delta) commit (n_factor <= n_frechet <= n_tight, [FastdLLM++]
    Cor 4.4 and docs/theory/certificate_spread_bonus.md); ``heterogeneity_bonus``: B_n at
    n = n_frechet (what Fréchet gains over the factor rule, [FastdLLM++] Prop 4.3);
    ``spread_bonus``: r_(n) - max_{j<=n} s_(j) at n = n_tight (what the tight certificate
    gains over Fréchet). All shape (rows,); the bonuses are NaN on rows with no valid
    position (n = 0).

    >>> from theory.profile import profile_from_confidences
    >>> b = commit_bonuses(profile_from_confidences([0.99, 0.95, 0.82, 0.78, 0.74]), 0.3)
    >>> [int(b[k][0]) for k in ("n_factor", "n_frechet", "n_tight")]
    [2, 4, 4]
    >>> round(float(b["heterogeneity_bonus"][0]), 12), float(b["spread_bonus"][0])
    (0.42, 0.0)
    """
    n = {name: commit(rule, profile) for name, rule in
         (("factor", Factor(1.0 - delta)), ("frechet", Frechet(delta)),
          ("tight", TightCertificate(delta)))}
    sp = sorted_profile(profile, n["frechet"].order)  # all three sort by confidence
    return {"n_factor": n["factor"].n, "n_frechet": n["frechet"].n, "n_tight": n["tight"].n,
            "heterogeneity_bonus": margins.at_prefix(margins.heterogeneity_bonus(sp.r),
                                                     n["frechet"].n),
            "spread_bonus": margins.at_prefix(margins.spread_bonus(sp.r, sp.s), n["tight"].n)}


def llada_quota(m0: int, steps: int, t: int) -> int:
    """LLaDA's per-step quota k_t = floor(m0/T) + [t < m0 mod T]. [LLaDA generate.py]

    >>> [llada_quota(10, 4, t) for t in range(4)]
    [3, 3, 2, 2]
    """
    m0, steps = domains.Integer("m0", 0).check(m0), domains.Integer("steps", 1).check(steps)
    t = domains.Integer("t", 0).check(t)
    if not t < steps:
        raise ValueError(f"need 0 <= t < steps, got steps={steps}, t={t}")
    return m0 // steps + (1 if t < m0 % steps else 0)


def llada_step_index(m0: int, steps: int, committed: int) -> int:
    """The step t of LLaDA's schedule at which a block of m0 masks has ``committed`` of
    them: the largest t < steps with k_0 + ... + k_{t-1} <= committed
    (k_t = :func:`llada_quota`). On the schedule's own path the sum equals
    ``committed`` exactly, so the quota of a state is a function of the state; FreeDave
    uses this to reproduce the schedule from a draft alone.

    >>> [llada_step_index(10, 4, c) for c in (0, 3, 6, 8, 9)]
    [0, 1, 2, 3, 3]
    """
    m0, steps = domains.Integer("m0", 0).check(m0), domains.Integer("steps", 1).check(steps)
    committed = domains.Integer("committed", 0).check(committed)
    if committed > m0:
        raise ValueError(f"committed={committed} exceeds the block's m0={m0} masks")
    t, total = 0, 0
    while t + 1 < steps and total + llada_quota(m0, steps, t) <= committed:
        total += llada_quota(m0, steps, t)
        t += 1
    return t
