"""The lab's loss catalogue and its text form ``name:key=value,...``.

This mirrors ``src/loss/spec.rs`` and ``src/spec.rs`` of α-CL Lab: the same names, parameters,
defaults and admissible ranges, and the same error messages (raised as :class:`ValueError`).
The conformance tests compare this catalogue with the one the ``alphacl`` binary prints, so a
loss added to the lab without being added here fails the tests.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, List, Optional, Sequence, Tuple

__all__ = ["Range", "Param", "LossInfo", "LOSSES", "LossSpec", "parse_spec", "rust_float"]


def rust_float(x: float) -> str:
    """Formats a float as Rust's ``{}`` does: shortest round-trip digits, never an exponent,
    no trailing ``.0`` (``0.5``, ``0.00001``, ``-1``, ``NaN``, ``inf``)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    s = format(Decimal(repr(float(x))), "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _fmt_num(x: float) -> str:
    """The lab's compact number form for spec text (``fmt_num`` in ``src/spec.rs``): an
    integer when the value is one, else the shorter of Rust's ``{}`` and ``{:e}``."""
    if math.isfinite(x) and x == math.trunc(x) and abs(x) < 1e15:
        return str(int(x))
    plain = rust_float(x)
    if not math.isfinite(x):
        return plain
    sign, digits, exp = Decimal(repr(float(x))).normalize().as_tuple()
    ds = "".join(map(str, digits))
    mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
    sci = f"{'-' if sign else ''}{mant}e{exp + len(ds) - 1}"
    return sci if len(sci) < len(plain) else plain


@dataclass(frozen=True)
class Range:
    """Admissible values of a parameter: ``kind`` is ``any``, ``above`` (x > lo) or
    ``at_least`` (x >= lo); every admissible value is finite."""

    kind: str
    lo: float = 0.0

    def check(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.kind == "any":
            return True
        if self.kind == "above":
            return x > self.lo
        if self.kind == "at_least":
            return x >= self.lo
        raise AssertionError(f"unknown range kind {self.kind}")

    def describe(self) -> str:
        if self.kind == "any":
            return "any finite number"
        if self.kind == "above":
            return f"> {rust_float(self.lo)}"
        return f">= {rust_float(self.lo)}"


ANY = Range("any")
POSITIVE = Range("above", 0.0)
NON_NEGATIVE = Range("at_least", 0.0)


@dataclass(frozen=True)
class Param:
    """A hyper-parameter: its key in the text form, default and range."""

    key: str
    default: float
    range: Range


@dataclass(frozen=True)
class LossInfo:
    """A catalogue entry: the name in the text form, its group and its parameters in order."""

    name: str
    group: str  # "family", "min-player" or "reference"
    params: Tuple[Param, ...]


_TAU = Param("tau", 0.5, POSITIVE)
_EPS_INFONCE = Param("eps", 1.0, NON_NEGATIVE)
_EPS_ACL = Param("eps", 0.0, NON_NEGATIVE)
_EPS_MARGIN = Param("eps", 0.1, NON_NEGATIVE)
_EPS_SHIFT = Param("eps", 0.0, ANY)
_P_EXP = Param("p", 4.0, POSITIVE)
_P_INV = Param("p", 2.0, POSITIVE)
_K_INV = Param("k", 1.0, POSITIVE)
_C_SIG = Param("c", 1.0, POSITIVE)

#: The catalogue, in the lab's panel order.
LOSSES: Tuple[LossInfo, ...] = (
    LossInfo("infonce", "family", (_TAU, _EPS_INFONCE)),
    LossInfo("mine", "family", ()),
    LossInfo("triplet", "family", (_EPS_MARGIN,)),
    LossInfo("soft-triplet", "family", (_TAU, _EPS_SHIFT)),
    LossInfo("tuplet", "family", ()),
    LossInfo("lifted", "family", (_EPS_SHIFT,)),
    LossInfo("modified-triplet", "family", (_C_SIG,)),
    LossInfo("triplet-contrastive", "family", ()),
    LossInfo("acl-entropy", "min-player", (_TAU, _EPS_ACL)),
    LossInfo("acl-quadratic", "min-player", (_TAU, _EPS_ACL)),
    LossInfo("acl-direct", "min-player", (_TAU, _P_EXP, _EPS_ACL)),
    LossInfo("acl-inverse", "min-player", (_TAU, _P_INV, _K_INV, _EPS_ACL)),
    LossInfo("nt-xent", "reference", (_TAU,)),
)

_BY_NAME: Dict[str, LossInfo] = {info.name: info for info in LOSSES}

# Rust's `f64::from_str` grammar (case-insensitive): no underscores, no inner spaces.
_RUST_FLOAT = re.compile(
    r"[+-]?(inf|infinity|nan|(\d+|\d+\.\d*|\d*\.\d+)(e[+-]?\d+)?)", re.IGNORECASE
)


def _parse_rust_float(v: str) -> Optional[float]:
    if not _RUST_FLOAT.fullmatch(v):
        return None
    return float(v)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lower(s: str) -> str:
    return s.translate(_ASCII_LOWER)


def _split(text: str) -> Tuple[str, List[Tuple[str, str]]]:
    """``SpecText::parse``: the name and the key/value pairs, with the lab's messages."""
    text = text.strip()
    if not text:
        raise ValueError("empty spec")
    name, colon, rest = text.partition(":")
    name, rest = name.strip(), rest.strip() if colon else ""
    if not name:
        raise ValueError(f"missing name in spec '{text}'")
    pairs: List[Tuple[str, str]] = []
    if rest:
        for part in rest.split(","):
            part = part.strip()
            if not part:
                continue
            k, eq, v = part.partition("=")
            if not eq:
                raise ValueError(f"'{part}' in spec '{text}' is not of the form key=value")
            k, v = _ascii_lower(k.strip()), v.strip()
            if not k or not v:
                raise ValueError(f"'{part}' in spec '{text}' needs both a key and a value")
            if any(pk == k for pk, _ in pairs):
                raise ValueError(f"key '{k}' given twice in '{text}'")
            pairs.append((k, v))
    return _ascii_lower(name), pairs


@dataclass(frozen=True)
class LossSpec:
    """A loss and its parameter values (in the catalogue entry's order)."""

    name: str
    values: Tuple[float, ...]

    @property
    def info(self) -> LossInfo:
        return _BY_NAME[self.name]

    def get(self, key: str) -> float:
        """The value of a parameter, or NaN if this loss has no such key."""
        for p, v in zip(self.info.params, self.values):
            if p.key == key:
                return v
        return math.nan

    def to_text(self) -> str:
        """The text form with every parameter written out (as the lab writes it)."""
        pairs = [f"{p.key}={_fmt_num(v)}" for p, v in zip(self.info.params, self.values)]
        return self.name + (":" + ",".join(pairs) if pairs else "")

    def __str__(self) -> str:
        return self.to_text()

    @staticmethod
    def defaults(name: str) -> "LossSpec":
        info = _BY_NAME[name]
        return LossSpec(info.name, tuple(p.default for p in info.params))


def parse_spec(text: str) -> LossSpec:
    """Parses the lab's text form, e.g. ``"acl-direct:tau=0.5,p=4,eps=0"``.

    Raises :class:`ValueError` with the lab's message (naming what is allowed) for an unknown
    loss, an unknown key, a value that is not a number or is out of range.
    """
    if not isinstance(text, str):
        raise TypeError(f"a loss spec is a string such as 'nt-xent:tau=0.5', got {type(text).__name__}")
    name, pairs = _split(text)
    info = _BY_NAME.get(name)
    if info is None:
        known = ", ".join(i.name for i in LOSSES)
        raise ValueError(f"unknown loss '{name}' (known: {known})")
    allowed: Sequence[str] = [p.key for p in info.params]
    for k, _ in pairs:
        if k not in allowed:
            listing = (
                "it takes no parameters" if not allowed else f"allowed: {', '.join(allowed)}"
            )
            raise ValueError(f"unknown parameter '{k}' for '{name}' ({listing})")
    given = dict(pairs)
    values = []
    for p in info.params:
        if p.key in given:
            raw = given[p.key]
            x = _parse_rust_float(raw)
            if x is None:
                raise ValueError(f"parameter '{p.key}' of '{name}' must be a number, got '{raw}'")
        else:
            x = p.default
        if not p.range.check(x):
            raise ValueError(
                f"parameter '{p.key}' of '{name}' must be {p.range.describe()}, got {rust_float(x)}"
            )
        values.append(x)
    return LossSpec(info.name, tuple(values))
