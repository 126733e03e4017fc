"""Exact sign decisions for univariate polynomials on an interval (0, s₀], by Sturm sequences.

A polynomial is a list of coefficients, LOW → HIGH degree, whose entries are exact field elements
(:class:`symkkt.field.FieldElement`, or ``fractions.Fraction``: anything with ``+ - * /`` and an
exact ``sign``). What this module decides, for P and a rational s₀ > 0:

- :func:`sign_on`: the constant sign of P on (0, s₀] (+1 or −1), 0 when P is the zero
  polynomial, ``None`` when P vanishes somewhere in (0, s₀] (and so has no constant sign there).
  P = s^v R with R(0) ≠ 0; R has the sign of R(0) on (0, s₀] iff it has no root there, and
  Sturm's theorem counts the distinct roots of R in (0, s₀] as V(0) − V(s₀) (V = sign changes
  of the Sturm sequence R, R', −rem(R, R'), …; valid because R(0) ≠ 0).
- :func:`root_guess`: a float guess of the smallest positive root (a search aid only: every
  s₀ it suggests is then decided by :func:`sign_on`).

Nothing is sampled: a sign on the interval is a statement about every s in it.

Trusted: the field's exact arithmetic and sign.

Examples
--------
>>> from fractions import Fraction as Fr
>>> P = [Fr(0), Fr(0), Fr(1), Fr(-2)]          # s² − 2s³ = s²(1 − 2s): positive on (0, 1/2)
>>> sign_on(P, Fr(1, 4), _sign), sign_on(P, Fr(1, 2), _sign), sign_on(P, Fr(1), _sign)
(1, None, None)
>>> sign_on([Fr(0)], Fr(1), _sign)
0
>>> count_roots([Fr(-2), Fr(0), Fr(1)], Fr(1), _sign)      # x² − 2 on (0, 1]: none
0
"""

from __future__ import annotations

from fractions import Fraction


def _sign(x):
    """The sign of a Fraction or of a field element."""
    if isinstance(x, (int, Fraction)):
        return (x > 0) - (x < 0)
    return x.sign()


def trim(p):
    """Drop high zero coefficients (the zero polynomial is ``[]``)."""
    p = list(p)
    while p and _is_zero(p[-1]):
        p.pop()
    return p


def _is_zero(x):
    return x == 0 if isinstance(x, (int, Fraction)) else x.is_zero()


def evaluate(p, t):
    """P(t) by Horner's rule (t an int, Fraction or field element)."""
    out = 0
    for c in reversed(p):
        out = c + out * t
    return out


def derivative(p):
    return trim([c * i for i, c in enumerate(p)][1:])


def remainder(a, b):
    """The remainder of a by b ≠ 0 (exact division in the field)."""
    a, b = trim(a), trim(b)
    lead = b[-1]
    while len(a) >= len(b):
        f, shift = a[-1] / lead, len(a) - len(b)
        a = [c - f * b[i - shift] if i >= shift else c for i, c in enumerate(a)]
        a = trim(a[:-1])            # the top coefficient cancels exactly
    return a


def sturm_sequence(p):
    """P, P', −rem(P, P'), … down to a constant (a gcd of P and P')."""
    seq = [trim(p), derivative(p)]
    while seq[-1] and len(seq[-1]) > 1:
        seq.append([-c for c in remainder(seq[-2], seq[-1])])
    return [q for q in seq if q]


def variations(seq, t, sign=_sign):
    """Sign changes of the sequence evaluated at t (zeros skipped)."""
    signs = [s for s in (sign(evaluate(q, t)) if q else 0 for q in seq) if s]
    return sum(1 for u, v in zip(signs, signs[1:]) if u != v)


def count_roots(p, s0, sign=_sign):
    """Distinct roots of P in (0, s₀], for P with P(0) ≠ 0 (Sturm's theorem)."""
    p = trim(p)
    if not p or sign(p[0]) == 0:
        raise ValueError("count_roots needs P(0) != 0")
    seq = sturm_sequence(p)
    return variations(seq, 0 * p[0], sign) - variations(seq, _like(p[0], s0), sign)


def _like(x, t):
    """The rational t as an element of x's field (Fractions stay Fractions)."""
    if isinstance(x, (int, Fraction)) or not isinstance(t, Fraction):
        return t
    import sympy

    return x.field.element(sympy.Rational(t.numerator, t.denominator))


def sign_on(p, s0, sign=_sign):
    """The constant sign of P on (0, s₀]: ±1, 0 for the zero polynomial, None if P has a root there."""
    p = trim(p)
    if not p:
        return 0
    v = next(i for i, c in enumerate(p) if not _is_zero(c))
    r = p[v:]
    if len(r) == 1:
        return sign(r[0])
    return sign(r[0]) if count_roots(r, s0, sign) == 0 else None


def leading_sign(p, sign=_sign):
    """The sign of P on (0, ε) for small ε > 0: the sign of its lowest non-zero coefficient."""
    for c in p:
        if not _is_zero(c):
            return sign(c)
    return 0


def root_guess(p):
    """A float guess of the smallest root of P in (0, ∞), or None (a search aid only)."""
    import numpy as np

    p = trim(p)
    if len(p) < 2:
        return None
    coeffs = [float(c) for c in reversed(p)]
    if not any(coeffs[:-1]):
        return None
    roots = np.roots(coeffs)
    pos = [r.real for r in roots if abs(r.imag) <= 1e-9 * max(1.0, abs(r)) and r.real > 0]
    return min(pos) if pos else None
