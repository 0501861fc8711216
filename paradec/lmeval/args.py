"""lm-eval ``model_args`` for paradec, validated once at start-up (frozen dataclass).

``--model_args model=PATH,rule=frechet,delta=0.1,cache=dual,freedave=4`` arrives as a dict
of strings (lm-eval's ``simple_parse_args_string`` may already have turned numbers into
int or float). :func:`parse_model_args` checks every key and value and names the argument
in its error; nothing is loaded before that.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["LMArgs", "parse_model_args"]

_RULE_PARAMS = ("k", "tau", "f", "delta", "gamma")


@dataclass(frozen=True)
class LMArgs:
    """What one ``paradec`` lm-eval model decodes with (the ``paradec decode`` options of
    the same names; docs/lm_eval.md)."""

    model: str = "tiny-arith"
    rule: str = "quota"
    k: float | None = None
    tau: float | None = None
    f: float | None = None
    delta: float | None = None
    gamma: float | None = None
    steps: int | None = None
    cache: str = "none"
    block: int | None = None
    gen_length: int | None = None
    freedave: int | str | None = None
    freedave_accept: str = "exact"
    draft: str = "nested"
    verify: str = "batch"
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    temperature: float = 0.0
    eos: str = "none"
    chat: bool = False
    trace: str | None = None
    batch_size: int = 1

    @property
    def params(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in _RULE_PARAMS}


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(f"model_args {name}={value!r}: expected true or false")


def _number(name: str, value: Any, kind: type) -> Any:
    what = "an integer" if kind is int else "a number"
    try:
        number = kind(float(value)) if kind is int else kind(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"model_args {name}={value!r}: expected {what}") from None
    if kind is int and float(value) != number:
        raise ValueError(f"model_args {name}={value!r}: expected {what}")
    return number


def parse_model_args(raw: dict[str, Any]) -> LMArgs:
    """An :class:`LMArgs` from lm-eval's model_args dict; ValueError naming the argument for
    an unknown key or a value of the wrong kind. (Rule, cache, FreeDave and the rest are
    checked by the objects they build, at start-up, before any request.)"""
    known = {f.name: f for f in fields(LMArgs)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            raise ValueError(f"model_args {name}={value!r}: unknown argument; paradec takes "
                             f"{', '.join(known)}")
        if value is None:
            continue
        if name in _RULE_PARAMS or name == "temperature":
            values[name] = _number(name, value, float)
        elif name in ("steps", "block", "gen_length", "seed", "batch_size"):
            values[name] = _number(name, value, int)
        elif name == "freedave":
            values[name] = "auto" if str(value) == "auto" else _number(name, value, int)
        elif name == "chat":
            values[name] = _bool(name, value)
        else:
            values[name] = str(value)
    args = LMArgs(**values)
    if args.batch_size < 1:
        raise ValueError(f"model_args batch_size={args.batch_size}: must be >= 1")
    if isinstance(args.freedave, int) and args.freedave < 1:
        raise ValueError(f"model_args freedave={args.freedave}: K must be >= 1 or 'auto'")
    return args
