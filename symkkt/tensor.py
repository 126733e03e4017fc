"""Number domains and the few array operations the network code needs, over every domain.

One forward pass and one backward pass serve all tiers; a *domain* only says how numbers are
stored and how signs are decided:

========================  ======================================  ============================
domain                    arrays                                  signs
========================  ======================================  ============================
:class:`ExactDomain`      :class:`~symkkt.field.ExactArray`       exact (Q or Q(α))
:class:`FloatDomain`      numpy float64                           float (not rigorous)
:class:`MPDomain`         numpy object arrays of ``mpmath.mpf``   high precision (not rigorous)
:class:`BallDomain`       numpy object arrays of ``flint.arb``    rigorous where decidable
========================  ======================================  ============================

Examples
--------
>>> import sympy
>>> dom = FloatDomain()
>>> dom.array([[1, sympy.Rational(1, 2)]]).tolist()
[[1.0, 0.5]]
>>> ExactDomain.for_numbers([sympy.sqrt(2)]).tier
'exact'
"""

from __future__ import annotations

import contextlib
import math

import mpmath
import numpy as np
import sympy
import flint
from flint import arb, fmpq

from .field import ExactArray, NumberField, as_sympy


def _is_exact(a):
    return isinstance(a, ExactArray)


def _map(a, f):
    return a._map(f) if _is_exact(a) else f(a)


def power(a, p):
    """Elementwise a**p for an integer p ≥ 1."""
    out = a
    for _ in range(p - 1):
        out = out * a
    return out


def einsum(spec, a, b):
    """Two-operand einsum over any domain."""
    if _is_exact(a):
        return a.einsum(spec, b)
    if _is_exact(b):  # pragma: no cover - a is always the exact one in the network code
        raise TypeError("mixed domains")
    return np.einsum(spec, a, b)


def repeat(a, k, axis):
    return _map(a, lambda x: np.repeat(x, k, axis=axis))


def concat(arrays, axis=0):
    if _is_exact(arrays[0]):
        n = arrays[0].field.degree
        return ExactArray._make(arrays[0].field,
                                [_join([a.num[i] for a in arrays], axis) for i in range(n)],
                                _join([a._full_den() for a in arrays], axis), reduce=False)
    return np.concatenate(arrays, axis=axis)


def _join(parts, axis):
    """np.concatenate of integer arrays, as Python ints if any part needs them."""
    if any(p.dtype == object for p in parts):
        parts = [p.astype(object) for p in parts]
    return np.concatenate(parts, axis=axis)


def where(mask, a, b):
    if _is_exact(b):
        a = b._coerce(a)
        return ExactArray._make(b.field, [np.where(mask, x, y) for x, y in zip(a.num, b.num)],
                                np.where(mask, a.den, b.den), reduce=False)
    return np.where(mask, a, b)


def scatter_add(dom, shape, index, values):
    """``out = zeros(shape); out[index] += values`` with repeated indices accumulated."""
    out = dom.zeros(shape)
    if _is_exact(out):
        # one common denominator L for all values: out = (Σ value numerators · L/den) / L
        L = values._common_denominator()
        f = L // values.den.astype(object)
        nums = []
        for o, v in zip(out.num, values.num):
            o = o.astype(object)
            np.add.at(o, index, v.astype(object) * f)
            nums.append(o)
        return ExactArray._make(out.field, nums, np.full(shape, L, dtype=object))
    np.add.at(out, index, values)
    return out


class ExactDomain:
    """Exact arithmetic in a real number field Q(α) (Q when α = 1).

    Parameters
    ----------
    field : symkkt.field.NumberField, optional
        The field the arrays live in; omitted, the rationals Q. Use :meth:`for_numbers` to get
        the field of given algebraic numbers.

    Examples
    --------
    >>> import sympy
    >>> ExactDomain().field.degree
    1
    >>> ExactDomain().array([[sympy.Rational(1, 2), 3]]).to_sympy()
    [[1/2, 3]]
    >>> K = ExactDomain.for_numbers(["sqrt(2)/2", 1]).field
    >>> K.degree, K.generator
    (2, sqrt(2))
    """

    tier = "exact"

    def __init__(self, field=None):
        self.field = NumberField(sympy.Integer(1)) if field is None else field

    @classmethod
    def for_numbers(cls, numbers):
        """The exact domain over the smallest convenient field containing ``numbers``.

        Parameters
        ----------
        numbers : iterable
            Real algebraic numbers: sympy numbers, ints or text in the exact-number grammar
            (:func:`symkkt.numbers.parse_number`), such as ``"2^(-3/4)"``.

        Returns
        -------
        ExactDomain
        """
        from .numbers import parse_number

        return cls(NumberField.of([parse_number(v) if isinstance(v, str) else v for v in numbers]))

    def array(self, nested):
        return ExactArray.from_sympy(self.field, nested)

    def zeros(self, shape):
        return ExactArray.zeros(self.field, shape)

    def full(self, shape, value):
        return ExactArray.constant(self.field, self.field.coords(as_sympy(value)), shape)

    def scalar(self, value):
        return self.full((), value)

    def choose(self, S, values):
        """Array with ``values[s]`` where the sign array ``S`` equals s."""
        coords = {s: self.field.coords(as_sympy(v)) for s, v in values.items()}
        D = 1
        for cs in coords.values():
            for c in cs:
                D = D * int(c.q) // math.gcd(D, int(c.q))
        masks = [S == s for s in coords]
        nums = []
        for i in range(self.field.degree):
            vals = [int(cs[i].p) * (D // int(cs[i].q)) for cs in coords.values()]
            kind = np.int64 if max(map(abs, vals)) < 1 << 62 else object
            nums.append(np.select(masks, [np.asarray(v, dtype=kind) for v in vals], np.asarray(0, dtype=kind)))
        return ExactArray._make(self.field, nums, np.asarray(D, dtype=object), reduce=False)

    def sign(self, a):
        return a.sign()

    def context(self):
        return contextlib.nullcontext()

    def tanh(self, a):
        raise ArithmeticError("tanh values are transcendental: no exact evaluation")

    def __repr__(self):
        return f"ExactDomain({self.field!r})"


class FloatDomain:
    """float64 arithmetic (for search and for comparison with float experiments)."""

    tier = "float"

    @staticmethod
    def _convert(v):
        return float(v) if isinstance(v, (float, int)) else float(sympy.N(as_sympy(v), 20))

    def array(self, nested):
        arr = nested if isinstance(nested, np.ndarray) else np.array(nested, dtype=object)
        if arr.dtype != object:
            return arr.astype(float)
        return np.array([self._convert(v) for v in arr.ravel()], dtype=float).reshape(arr.shape)

    def zeros(self, shape):
        return np.zeros(shape)

    def full(self, shape, value):
        return np.full(shape, self._convert(value))

    def scalar(self, value):
        return np.array(self._convert(value))

    def choose(self, S, values):
        out = np.zeros(S.shape)
        for s, v in values.items():
            out[S == s] = self._convert(v)
        return out

    def sign(self, a):
        return np.sign(a).astype(np.int8)

    def context(self):
        return contextlib.nullcontext()

    def tanh(self, a):
        return np.tanh(a)

    def __repr__(self):
        return "FloatDomain()"


class _ObjectDomain:
    """Numbers in numpy object arrays, converted one by one by ``self._convert``."""

    def array(self, nested):
        arr = np.array(nested, dtype=object)
        out = np.empty(arr.shape, dtype=object)
        with self.context():
            out.ravel()[:] = [self._convert(v) for v in arr.ravel()]
        return out

    def zeros(self, shape):
        return self.full(shape, 0)

    def full(self, shape, value):
        out = np.empty(shape, dtype=object)
        out.fill(self._convert(value))
        return out

    def scalar(self, value):
        return self.full((), value)

    def choose(self, S, values):
        out = self.zeros(S.shape)
        for s, v in values.items():
            out[S == s] = self._convert(v)
        return out


class MPDomain(_ObjectDomain):
    """mpmath arithmetic with ``dps`` decimal digits (high precision, not rigorous)."""

    tier = "high precision"

    def __init__(self, dps=50):
        self.dps = int(dps)

    def _convert(self, v):
        with mpmath.workdps(self.dps + 10):
            if isinstance(v, fmpq):
                return mpmath.mpf(int(v.p)) / int(v.q)
            return mpmath.mpf(sympy.N(v, self.dps + 10))

    def sign(self, a):
        flat = [(x > 0) - (x < 0) for x in a.ravel()]
        return np.array(flat, dtype=np.int8).reshape(a.shape)

    def context(self):
        """Working precision for a computation in this domain."""
        return mpmath.workdps(self.dps)

    def tanh(self, a):
        return np.vectorize(mpmath.tanh, otypes=[object])(a)

    def __repr__(self):
        return f"MPDomain(dps={self.dps})"


class BallDomain(_ObjectDomain):
    """Arb ball arithmetic with ``dps`` decimal digits: every value is a rigorous enclosure.

    A sign is decided only when the ball excludes 0 (or is exactly 0); otherwise
    :meth:`sign` raises ``ArithmeticError`` rather than guess.

    Examples
    --------
    >>> import sympy
    >>> dom = BallDomain(30)
    >>> with dom.context():
    ...     v = dom.array([sympy.sqrt(2), sympy.Rational(1, 3)])
    ...     dom.sign(v - dom.array([1, 1])).tolist()
    [1, -1]
    """

    tier = "rigorous enclosure"

    def __init__(self, dps=50):
        self.dps = int(dps)

    def _convert(self, v):
        if isinstance(v, arb):
            return v
        if isinstance(v, (int, fmpq)):
            return arb(fmpq(v))
        v = as_sympy(v)
        if v.is_Rational:
            return arb(fmpq(int(v.p), int(v.q)))
        K = NumberField.of([v])
        return K.ball(K.coords(v), prec=flint.ctx.prec)

    @staticmethod
    def _sign(x):
        if x > 0:
            return 1
        if x < 0:
            return -1
        if x.is_zero():
            return 0
        raise ArithmeticError(f"the sign of {x} is not decided at this precision")

    def sign(self, a):
        return np.array([self._sign(x) for x in a.ravel()], dtype=np.int8).reshape(a.shape)

    def context(self):
        """Working precision for a computation in this domain."""
        return flint.ctx.workdps(self.dps) if hasattr(flint.ctx, "workdps") else _workdps(self.dps)

    def tanh(self, a):
        return np.vectorize(lambda x: x.tanh(), otypes=[object])(a)

    def __repr__(self):
        return f"BallDomain(dps={self.dps})"


@contextlib.contextmanager
def _workdps(dps):
    old = flint.ctx.dps
    flint.ctx.dps = dps
    try:
        yield
    finally:
        flint.ctx.dps = old
