"""Arithmetic tiers for trajectories: how parameter vectors are stored, rounded and compared.

A tier wraps a number domain of :mod:`symkkt.tensor` (so the forward and backward passes of
:class:`~symkkt.network.Network` run unchanged) and adds the few vector operations an optimizer
and a loss need (``exp``, ``sqrt``, ``relu``, signs), plus a rigorous read-out of its values as
``flint.arb`` balls for the measurements (:meth:`Arithmetic.to_arb`).

=============  ===================================  ======================================  ==============
tier (flag)    numbers                              what a verdict means                    tolerance
=============  ===================================  ======================================  ==============
``exact``      Q or Q(α) (:class:`ExactDomain`)     η_k = Tθ_k exactly (zero means zero)    0
``precision``  arb midpoints at DIGITS digits       observed (not rigorous)                 10^(-DIGITS/2)
``balls``      arb balls at DIGITS digits           rigorous: exact iterates enclosed       10^(-DIGITS/2)
``float``      float64                              observed (float proves nothing)         10^-8
=============  ===================================  ======================================  ==============

The ``precision`` tier is floating point with DIGITS decimal digits: python-flint ``arb``
values whose radii are dropped after every optimizer step (:meth:`Arithmetic.strip`), with
signs decided by the midpoint. It is MPFR-style rounding arithmetic, about ten times faster
than ``mpmath`` without gmpy; :class:`PrecisionDomain` is the same thing as a tensor domain.
``MPDomain`` (mpmath) can be used instead from Python (``backend="mpmath"``).

Tolerances are relative to max(1, ‖θ_k‖): a rounding error of unit u = 10^-DIGITS that is
amplified over the run (range T can be transversally unstable, docs/mathematics.md §7) stays below √u
for any horizon a user can afford, while a real break of equivariance (Adam, different
batches) shows at the size of a learning-rate step, far above √u.

Examples
--------
>>> import sympy
>>> ar = make_arithmetic("precision", 30)
>>> with ar.context():
...     v = ar.vector([sympy.Rational(1, 3), 2])
...     [float(x) for x in ar.exp(-v)]
[0.7165313105737893, 0.1353352832366127]
>>> make_arithmetic("exact").tolerance_rule
'0 (exact)'
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy
import flint
from flint import arb, fmpq

from .. import tensor as T
from ..field import NumberField, as_sympy
from ..tensor import BallDomain, ExactDomain, FloatDomain, MPDomain

__all__ = ["Arithmetic", "make_arithmetic", "PrecisionDomain", "TIERS", "Undecided", "format_upper",
           "format_arb"]

#: flag name -> tier label used in every report (docs/mathematics.md §7: exact, rigorous enclosure,
#: high precision, float)
TIERS = {"exact": "exact", "precision": "high precision", "balls": "rigorous enclosure",
         "float": "float"}


class Undecided(ArithmeticError):
    """A sign the ball arithmetic cannot decide (a ball contains 0)."""


class CachedBallDomain(BallDomain):
    """Ball domain with cached conversions of exact constants (per working precision).

    The network code converts the same activation slopes at every step, and converting an
    algebraic number builds its number field; both are done once here.
    """

    def __init__(self, dps=50):
        super().__init__(dps)
        self._cache, self._ids = {}, {}

    @staticmethod
    def _fresh(v):
        if isinstance(v, (int, fmpq)):
            return arb(fmpq(v))
        v = as_sympy(v)
        if v.is_Rational:
            return arb(fmpq(int(v.p), int(v.q)))
        K = NumberField.of([v])
        return K.ball(K.coords(v), prec=flint.ctx.prec)

    def _convert(self, v):
        if isinstance(v, arb):
            return v
        prec = flint.ctx.prec
        hit = self._ids.get((id(v), prec))
        if hit is not None and hit[0] is v:
            return hit[1]
        key = (v, prec)
        try:
            out = self._cache[key]
        except (KeyError, TypeError):
            out = self._fresh(v)
            try:
                self._cache[key] = out
            except TypeError:  # pragma: no cover - unhashable number
                pass
        self._ids[(id(v), prec)] = (v, out)
        return out


class PrecisionDomain(CachedBallDomain):
    """High-precision floating point: arb arithmetic with signs read from the midpoint.

    Not rigorous: a value within its (discarded) radius of 0 gets the sign of its midpoint.

    Examples
    --------
    >>> dom = PrecisionDomain(20)
    >>> with dom.context():
    ...     v = dom.array([1, -2, 0])
    ...     dom.sign(v).tolist()
    [1, -1, 0]
    """

    tier = "high precision"

    @staticmethod
    def _sign(x):
        if x > 0:
            return 1
        if x < 0:
            return -1
        m = x.mid()
        return 1 if m > 0 else (-1 if m < 0 else 0)

    def __repr__(self):
        return f"PrecisionDomain(dps={self.dps})"


class CachedFloatDomain(FloatDomain):
    """float64 domain whose conversions of exact constants are cached (the network code converts
    the same activation slopes at every step)."""

    def __init__(self):
        self._cache, self._ids = {}, {}

    def _convert(self, v):
        hit = self._ids.get(id(v))
        if hit is not None and hit[0] is v:
            return hit[1]
        try:
            out = self._cache[v]
            self._ids[id(v)] = (v, out)
            return out
        except (KeyError, TypeError):
            out = FloatDomain._convert(v)
        try:
            self._cache[v] = out
        except TypeError:  # pragma: no cover
            pass
        return out


def _obj(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class Arithmetic:
    """One arithmetic tier (see the module docstring). Build with :func:`make_arithmetic`.

    Attributes
    ----------
    name : {"exact", "precision", "balls", "float"}
    label : str
        The tier as printed in reports.
    digits : int or None
        Working precision in decimal digits (53 bits ≈ 16 digits for float).
    domain : a domain of :mod:`symkkt.tensor`
    """

    #: vectors are numpy arrays (float64 or object arrays of arb / mpf): the dense fast path applies
    numpy_backed = True
    rigorous = False

    def __init__(self, name, digits, domain):
        self.name = name
        self.label = TIERS[name]
        self.digits = digits
        self.domain = domain

    # -- precision ----------------------------------------------------------------------------
    def context(self):
        """Working precision of the tier (enter around every computation)."""
        return self.domain.context()

    @property
    def unit(self):
        """Unit roundoff 10^-digits (0 for exact)."""
        return 10.0 ** -self.digits if self.digits else 0.0

    @property
    def tolerance_rule(self):
        """The verdict tolerance as text."""
        if self.name == "exact":
            return "0 (exact)"
        return f"10^-{self.digits / 2:g} * max(1, |theta_k|)"

    def tolerance(self, norm):
        """Largest deviation accepted at a step where ‖θ_k‖ = ``norm`` (a float)."""
        if self.name == "exact":
            return 0.0
        return 10.0 ** (-self.digits / 2) * max(1.0, norm)

    # -- vectors ------------------------------------------------------------------------------
    def vector(self, numbers):
        """A flat vector from exact numbers (sympy, int, fmpq)."""
        return self.domain.array(list(numbers))

    def const(self, number):
        """A scalar that multiplies vectors of this tier."""
        return self.domain.scalar(number)[()] if self.numpy_backed else self.domain.scalar(number)

    def zeros(self, m):
        return self.domain.zeros((m,))

    def sign(self, v):
        try:
            return self.domain.sign(v)
        except ArithmeticError as err:
            raise Undecided(str(err)) from None

    def relu(self, v):
        """max(0, v) elementwise."""
        S = self.sign(v)
        return T.where(S > 0, v, self.zeros(len(v)))

    def exp(self, v):
        raise ArithmeticError(f"exp is not available in the {self.label} tier")

    def sqrt(self, v):
        raise ArithmeticError(f"sqrt is not available in the {self.label} tier")

    def strip(self, v):
        """Round a vector to the tier's representation after a step (precision: drop radii)."""
        return v

    def take(self, v, index):
        return v[index]

    def to_arb(self, v, prec):
        """The values of ``v`` as a list of arb balls at ``prec`` bits (exact or rigorous)."""
        raise NotImplementedError

    def __repr__(self):
        return f"<Arithmetic {self.name}: {self.label}{'' if self.name == 'exact' else f', {self.digits} digits'}>"


class ExactArithmetic(Arithmetic):
    numpy_backed = False
    rigorous = True

    def __init__(self, numbers=()):
        super().__init__("exact", None, ExactDomain.for_numbers(numbers))

    def vector(self, numbers):
        return self.domain.array([as_sympy(v) for v in numbers])

    def relu(self, v):
        S = self.sign(v)
        return T.where(S > 0, v, self.zeros(len(v)))

    def to_arb(self, v, prec):
        K = self.domain.field
        with flint.ctx.workprec(prec):
            if K.degree == 1:
                return [arb(x) for x in v.c[0]]
            flat = [a.ravel() for a in v.c]
            return [K.ball(tuple(a[i] for a in flat), prec) for i in range(flat[0].size)]

    def is_zero(self, v):
        return all(x == 0 for c in v.c for x in c.ravel())

    def bits(self, v):
        """Largest numerator/denominator size in bits (the cost of exact arithmetic)."""
        out = 0
        for c in v.c:
            for x in c:
                out = max(out, int(x.p).bit_length(), int(x.q).bit_length())
        return out


class FloatArithmetic(Arithmetic):
    def __init__(self):
        super().__init__("float", 16, CachedFloatDomain())

    def const(self, number):
        return float(sympy.N(as_sympy(number), 20))

    def vector(self, numbers):
        return np.array([float(sympy.N(as_sympy(v), 20)) for v in numbers], dtype=float)

    def zeros(self, m):
        return np.zeros(m)

    def sign(self, v):
        return np.sign(v).astype(np.int8)

    def relu(self, v):
        return np.maximum(v, 0.0)

    def exp(self, v):
        with np.errstate(over="ignore", under="ignore"):
            return np.exp(v)

    def sqrt(self, v):
        return np.sqrt(v)

    @property
    def unit(self):
        return 2.0 ** -53

    @property
    def tolerance_rule(self):
        return "1e-8 * max(1, |theta_k|)"

    def tolerance(self, norm):
        return 1e-8 * max(1.0, norm)

    def to_arb(self, v, prec):
        return [arb(float(x)) for x in v]


class BallArithmetic(Arithmetic):
    """arb balls (``balls``) or arb midpoints (``precision``)."""

    def __init__(self, name, digits):
        dom = CachedBallDomain(digits) if name == "balls" else PrecisionDomain(digits)
        super().__init__(name, int(digits), dom)
        self.rigorous = name == "balls"
        self._zero = arb(0)

    def const(self, number):
        if isinstance(number, arb):
            return number
        with self.context():
            return self.domain._convert(as_sympy(number) if not isinstance(number, (int, fmpq)) else number)

    def vector(self, numbers):
        with self.context():
            return _obj([self.const(v) for v in numbers])

    def zeros(self, m):
        return _obj([self._zero] * m)

    def sign(self, v):
        s = self.domain._sign
        try:
            return np.fromiter((s(x) for x in v.ravel()), dtype=np.int8, count=v.size).reshape(v.shape)
        except ArithmeticError as err:
            raise Undecided(str(err)) from None

    def relu(self, v):
        if self.rigorous:  # max(0, x) is continuous: no sign decision needed
            z = self._zero
            return _obj([x.max(z) for x in v])
        return super().relu(v)

    def exp(self, v):
        return _obj([x.exp() for x in v])

    def sqrt(self, v):
        return _obj([x.nonnegative_part().sqrt() for x in v])

    def strip(self, v):
        if self.rigorous:
            return v
        return _obj([x.mid() for x in v])

    def to_arb(self, v, prec):
        return list(v)


class MPArithmetic(Arithmetic):
    """mpmath mpf arithmetic (``precision`` tier, Python API only; slower than arb)."""

    def __init__(self, digits):
        super().__init__("precision", int(digits), MPDomain(digits))

    def const(self, number):
        with self.context():
            conv = getattr(self.domain, "_convert", None) or self.domain._mpf
            return conv(as_sympy(number) if not isinstance(number, (int, fmpq)) else number)

    def vector(self, numbers):
        with self.context():
            return _obj([self.const(v) for v in numbers])

    def exp(self, v):
        import mpmath

        return _obj([mpmath.exp(x) for x in v])

    def sqrt(self, v):
        import mpmath

        return _obj([mpmath.sqrt(x) for x in v])

    def to_arb(self, v, prec):
        out = []
        with flint.ctx.workprec(max(prec, int(self.digits * 3.33) + 16)):
            for x in v:
                man, exp = x.man_exp
                out.append(arb(flint.fmpz(int(man))) * arb(2) ** int(exp) if man else arb(0))
        return out


def make_arithmetic(tier, digits=None, numbers=(), backend="arb"):
    """The :class:`Arithmetic` of a tier.

    Parameters
    ----------
    tier : {"exact", "precision", "balls", "float"}
    digits : int, optional
        Decimal digits for ``precision`` and ``balls`` (default 50).
    numbers : iterable, optional
        Exact constants the run uses (``exact`` picks the number field containing them).
    backend : {"arb", "mpmath"}
        Scalars of the ``precision`` tier.
    """
    if tier == "exact":
        return ExactArithmetic(numbers)
    if tier == "float":
        return FloatArithmetic()
    digits = int(digits or 50)
    if tier == "precision" and backend == "mpmath":
        return MPArithmetic(digits)
    if tier in ("precision", "balls"):
        return BallArithmetic(tier, digits)
    raise ValueError(f"unknown tier {tier!r}")


# -- printing arb values ----------------------------------------------------------------------
def _exact_fraction(x):
    """The exact value of an exact arb (finite midpoint, zero radius) as a Fraction."""
    if x.is_zero():
        return Fraction(0)
    man, exp = x.man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)


def _scientific(v, digits, up):
    """Decimal m·10^(e−digits+1) with ``digits`` digits, ≥ the exact positive arb ``v`` (``up``) or ≤ it.

    Exact rationals for moderate exponents; for binary exponents beyond a few thousand bits
    (runs that diverge) the decimal exponent comes from an arb logarithm and the digits from an
    arb enclosure of v·10^(digits−1−e), rounded outward, so no huge integer is ever built.
    """
    man, exp = (int(t) for t in v.man_exp())
    if abs(exp) + man.bit_length() < 3000:
        f = Fraction(man * 2**exp) if exp >= 0 else Fraction(man, 2**-exp)
        e = math.floor(math.log10(f.numerator) - math.log10(f.denominator))
        while Fraction(10) ** e > f:       # correct e for float rounding in log10
            e -= 1
        while Fraction(10) ** (e + 1) <= f:
            e += 1
        scaled = f * Fraction(10) ** (digits - 1 - e)
        m = math.ceil(scaled) if up else math.floor(scaled)
    else:
        with flint.ctx.workprec(256):
            l10 = (arb(man).log() + arb(exp) * arb(2).log()) / arb(10).log()
            e = math.floor(float(l10.mid()))
            for _ in range(4):
                scaled = v * arb(10) ** (digits - 1 - e)
                m = _exact_fraction(scaled.upper() if up else scaled.lower())
                m = math.ceil(m) if up else math.floor(m)
                if m > 10**digits or (m == 10**digits and not up):
                    e += 1
                elif m < 10 ** (digits - 1):
                    e -= 1
                else:
                    break
    if m >= 10**digits:
        m, e = (math.ceil(Fraction(m, 10)) if up else m // 10), e + 1
    text = str(m)
    return f"{text[0]}.{text[1:]}e{e}" if digits > 1 else f"{text}e{e}"


def format_upper(x, digits=3):
    """A decimal string ≥ the upper end of the arb ball ``x`` (rounded up), ``"0"`` for exact 0.

    Examples
    --------
    >>> format_upper(arb(fmpq(1, 3)))
    '3.34e-1'
    >>> format_upper(arb(0))
    '0'
    >>> format_upper(arb(2) ** (10**12))       # 2^(10^12) = 9.5716...·10^301029995663, instantly
    '9.58e301029995663'
    """
    if not x.is_finite():
        return "inf"
    up = x.upper()
    if up.is_zero():
        return "0"
    if up < 0:
        return "-" + format_lower(-x, digits)
    return _scientific(up, digits, True)


def format_lower(x, digits=3):
    """A decimal string ≤ the lower end of the ball ``x`` (for non-negative values)."""
    lo = x.lower()
    if not lo > 0:
        return "0"
    if not lo.is_finite():
        return "inf"
    return _scientific(lo, digits, False)


def format_arb(x, digits=3):
    """The midpoint of ``x`` in scientific notation with ``digits`` significant digits.

    Examples
    --------
    >>> format_arb(arb(fmpq(1, 7)))
    '0.143'
    """
    if x.is_zero():
        return "0"
    return x.mid().str(digits, radius=False)
