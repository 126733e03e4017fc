"""Optional exact snap: recognize a high-precision KKT point as exact algebraic numbers.

Each coordinate c is tried as 0, or ±(p/q)^(1/e) for e in 1, 2, 4, 3, 6, 8 with q ≤ 10^6: the
rational p/q is the best approximation of |c|^e with that denominator bound, accepted only when
it agrees with |c|^e to 10^-28 (the centre carries about 40 correct digits). The candidate is
then decided by the exact checker (:meth:`symkkt.kkt.MaxMarginProblem.decide`); a candidate it
does not accept, or a coordinate that is not recognized, only means there is no exact snap.

Examples
--------
>>> from fractions import Fraction
>>> c = Fraction(-5946035575013605333587499852802, 10 ** 31)    # -2^(-3/4) to 31 digits
>>> number_text(c, tolerance=Fraction(1, 10 ** 25))
'-(1/8)^(1/4)'
>>> number_text(Fraction(1, 3)), number_text(Fraction(0))
('1/3', '0')
"""

from __future__ import annotations

from fractions import Fraction

EXPONENTS = (1, 2, 4, 3, 6, 8)


def number_text(c, tolerance=Fraction(1, 10 ** 28), max_denominator=10 ** 6):
    """An exact-number text for ``c`` (a Fraction), or None when none is recognized."""
    if abs(c) <= tolerance:
        return "0"
    sign, a = ("-" if c < 0 else ""), abs(c)
    for e in EXPONENTS:
        v = a ** e
        r = v.limit_denominator(max_denominator)
        if r > 0 and abs(v - r) <= tolerance * max(1, v):
            base = f"{r.numerator}" if r.denominator == 1 else f"{r.numerator}/{r.denominator}"
            return sign + (base if e == 1 else f"({base})^(1/{e})")
    return None


def exact_snap(arch, data, centre_theta, limit=64):
    """Try to recognize θ (Fractions) and decide it exactly as a KKT point.

    Returns ``(KKTResult or None, reason)``; only a ``holds`` result is returned."""
    if len(centre_theta) > limit:
        return None, f"not tried (more than {limit} parameters)"
    texts = [number_text(c) for c in centre_theta]
    if any(t is None for t in texts):
        return None, "some coordinates are not recognized as ±(p/q)^(1/e)"
    from ..errors import SymkktInputError
    from ..kkt import MaxMarginProblem
    from ..network import Network
    from ..numbers import parse_number

    try:
        theta = [parse_number(t) for t in texts]
        result = MaxMarginProblem(Network(arch), data).decide(theta)
    except SymkktInputError as err:
        return None, f"recognized numbers are out of reach of the exact checker ({err.message})"
    if result.verdict != "holds":
        return None, f"the recognized point is not a KKT point ({result.reason})"
    return result, "recognized as exact algebraic numbers and decided by the exact checker"
