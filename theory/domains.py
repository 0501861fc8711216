"""Parameter domains, declared once.

Each rule parameter and each probability-like input has one declaration here. The
same object validates a value (``check``) and generates test inputs (``strategy``),
so validation and property tests cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Real:
    """A real interval with open or closed ends."""

    name: str
    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    meaning: str = ""

    def contains(self, value: float) -> bool:
        if math.isnan(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        lo = "(" if self.low_open else "["
        hi = ")" if self.high_open else "]"
        return f"{lo}{self.low}, {self.high}{hi}"

    def check(self, value: Any) -> float:
        """Return ``value`` as a float, or raise ValueError naming it and the domain."""
        if isinstance(value, (bool, str, bytes)):  # float("0.5"), float(True) would pass
            raise ValueError(f"{self.name} must be a real number, got {value!r}")
        try:
            value = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"{self.name} must be a real number, got {value!r}") from None
        if not self.contains(value):
            raise ValueError(f"{self.name} = {value!r} is outside its domain {self.describe()}"
                             + (f" ({self.meaning})" if self.meaning else ""))
        return value

    def strategy(self) -> Any:
        """A hypothesis strategy over the domain (hypothesis imported lazily)."""
        from hypothesis import strategies as st

        hi = self.high if math.isfinite(self.high) else 1e6
        return st.floats(self.low, hi, exclude_min=self.low_open,
                         exclude_max=self.high_open and math.isfinite(self.high),
                         allow_nan=False, allow_infinity=False)


@dataclass(frozen=True)
class Integer:
    """An integer range ``[low, high]``."""

    name: str
    low: int
    high: int | None = None
    meaning: str = ""

    def check(self, value: Any) -> int:
        """Return ``value`` as an int, or raise ValueError naming it and the range."""
        try:
            whole = not isinstance(value, (bool, str, bytes)) and int(value) == value
        except (TypeError, ValueError, OverflowError):  # None, NaN, inf, "a", 1j, ...
            whole = False
        if not whole:
            raise ValueError(f"{self.name} must be an integer, got {value!r}")
        value = int(value)
        if value < self.low or (self.high is not None and value > self.high):
            top = "inf" if self.high is None else str(self.high)
            raise ValueError(f"{self.name} = {value} is outside [{self.low}, {top}]"
                             + (f" ({self.meaning})" if self.meaning else ""))
        return value

    def strategy(self) -> Any:
        from hypothesis import strategies as st

        return st.integers(self.low, self.high if self.high is not None else self.low + 64)


TAU = Real("tau", 0.0, 1.0, meaning="threshold on the confidence c_(n)")
FACTOR = Real("f", 0.0, math.inf, low_open=True, high_open=True,
              meaning="factor rule bound on (n+1) r_(n)")
DELTA = Real("delta", -1.0, 1.0, meaning="margin the certificate must exceed")
GAMMA = Real("gamma", 0.0, math.inf, high_open=True,
             meaning="entropy budget: sum H - max H <= gamma")
QUOTA = Integer("k", 1, meaning="tokens committed per step")
PROBABILITY = Real("probability", 0.0, 1.0)
