"""The commit rules (docs/theory.md, section 2), batched over rows.

A rule is a frozen dataclass holding its parameter. :func:`commit` sorts each row
(confidence descending, ties by position; the entropy rule sorts by entropy
ascending), asks the rule which prefix lengths it accepts, and commits the longest
accepted prefix, at least one position per row that has a valid position, and none
for a row with no valid position (a finished sequence). One implementation serves
the simulator, the real decode loop and trace replay, on numpy or torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from theory import domains, margins
from theory._xp import Array, cpu_torch, from_numpy_like, namespace, supports_float64, to_numpy
from theory.profile import FIELDS, Profile

__all__ = ["Rule", "Quota", "Threshold", "Factor", "Frechet", "TightCertificate",
           "EntropyBound", "Commit", "commit", "RULES", "make_rule", "llada_quota"]


class Sorted:
    """Profile fields gathered into the rule's order, shape ``(rows, m)``, computed on
    first use so that each rule pays only for the fields it reads."""

    def __init__(self, xp: Any, profile: Profile, order: Array, dtype: Any) -> None:
        self._xp, self._profile, self._order, self._dtype = xp, profile, order, dtype
        self._cache: dict[str, Array] = {}

    def _get(self, name: str) -> Array:
        if name not in self._cache:
            xp = self._xp
            x = xp.take_along_axis(getattr(self._profile, name), self._order, axis=-1)
            self._cache[name] = xp.exp(xp.astype(x, self._dtype)) if name == "log_r" \
                else xp.astype(x, self._dtype)
        return self._cache[name]

    @property
    def c(self) -> Array:
        return self._get("c")

    @property
    def r(self) -> Array:
        return self._get("log_r")

    @property
    def s(self) -> Array:
        return self._get("s")

    @property
    def H(self) -> Array:
        return self._get("H")


class Rule:
    """Base class: ``accepts`` says, per sorted rank j, whether prefix n = j+1 passes."""

    name: ClassVar[str]
    parameter: ClassVar[str]
    by_entropy: ClassVar[bool] = False

    def accepts(self, xp: Any, sp: Sorted) -> Array:
        raise NotImplementedError

    def adjust(self, xp: Any, n: Array, n_valid: Array, leading: Array) -> Array:
        return n

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
        return _ranks(xp, sp.c) <= self.k


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


def _sort_key(xp: Any, profile: Profile, by_entropy: bool) -> Array:
    key = profile.H if by_entropy else profile.log_r
    return xp.where(profile.valid, key, float("inf"))


def _stable_argsort(xp: Any, key: Array) -> Array:
    """Stable ascending argsort along the last axis.

    An unstable sort is 3-4x faster; rows where it met a tie among valid keys are
    sorted again stably, so the result always equals the stable order.
    """
    order = xp.argsort(key, axis=-1, stable=False)
    ks = xp.take_along_axis(key, order, axis=-1)
    tied = xp.any((ks[..., 1:] == ks[..., :-1]) & (ks[..., 1:] != float("inf")), axis=-1)
    if bool(xp.any(tied)):
        order[tied] = xp.argsort(key[tied], axis=-1, stable=True)
    return order


def _first_n(xp: Any, key: Array, order: Array, n: Array) -> Array:
    """Mask of the first ``n`` positions of each row in the stable order of ``key``:
    those with (key, position) lexicographically <= that of the n-th."""
    m = key.shape[-1]
    last = xp.clip(n - 1, 0, None)[:, None]
    pos_n = xp.take_along_axis(order, last, axis=-1)
    key_n = xp.take_along_axis(key, pos_n, axis=-1)
    pos = xp.arange(m, device=getattr(key, "device", None))[None, :]
    mask = (key < key_n) | ((key == key_n) & (pos <= pos_n))
    return mask & (n[:, None] > 0)


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
        result = commit(rule, Profile(*(to_numpy(getattr(profile, f)) for f in FIELDS)))
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
    ftype = xp.float64 if supports_float64(xp, profile.c) else profile.c.dtype
    ok = rule.accepts(xp, Sorted(xp, profile, order, ftype))
    leading = xp.sum(xp.astype(xp.cumulative_sum(xp.astype(~ok, xp.int32), axis=-1) == 0,
                               xp.int64), axis=-1)
    n_valid = xp.sum(xp.astype(profile.valid, xp.int64), axis=-1)
    n = xp.where(n_valid > 0, xp.clip(leading, 1, None), 0)
    n = xp.minimum(rule.adjust(xp, n, n_valid, leading), n_valid)
    return Commit(n=n, mask=_first_n(xp, key, order, n), order=order)


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
