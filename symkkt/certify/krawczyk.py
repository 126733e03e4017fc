"""The box proof: Krawczyk's test in arb ball arithmetic, with the side conditions on the box.

For the square KKT system F of :mod:`.core` (a fixed pattern, active set and fixed zero-unit
weights), a box X = x̃ ± r, and any matrix Y (here a float64 inverse of J(x̃), taken exactly):

    K(X) = x̃ − Y F(x̃) + (I − Y J(X)) (X − x̃) ⊆ int X   ⇒   F has exactly one zero in X   [K].

J(X) is enclosed by evaluating the Jacobian on balls that contain the box (ball arithmetic
encloses the exact values for every point of its input balls). On the same box the side
conditions are checked: every λ_k > 0, every slope g of a stated kink in [min(s, 1), max(s, 1)],
every pre-activation with sign code ±1 has that strict sign, and every inactive margin is > 1
(units marked EITHER enclosed with the slope interval). Then the zero (θ*, λ*, g*) is a KKT
point with active set A, for the set :func:`clarke_set` names (see :mod:`symkkt.kernel.nearby`
for the argument, and for why zero units do not spoil the Clarke subdifferential). The radii tried are 2^-e · max(1, |x̃_i|) for
e = 64, 48, 32, 20, smallest box first.

What is trusted: python-flint's arb ball arithmetic (every result encloses the exact one). The
certificate of a success is re-checked by the kernel in rational interval arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .core import FLOAT, ball

EXPONENTS = (64, 48, 32, 20)


@dataclass
class Box:
    """A proved box: centre, radii (Fractions), the matrix Y (Fractions) and the enclosures."""

    centre: list
    radius: list
    Y: list
    exponent: int
    interior: bool = True        # every slope g strictly inside its interval


def _ball(c, r):
    from flint import arb, fmpq

    return arb(fmpq(c.numerator, c.denominator)) + arb(0, fmpq(r.numerator, r.denominator))


def side_conditions(system, be, U, X, y):
    """``(reason, interior)`` for the box of balls ``U``: reason None when λ > 0, every slope g of a
    stated kink lies in [min(s, 1), max(s, 1)], every pre-activation with sign code ±1 has that
    strict sign and every inactive margin is > 1; ``interior`` says whether every g is strictly
    inside its interval."""
    net = system.net
    nt, na = system.nt, system.na
    for a, l in enumerate(U[nt:nt + na]):
        if not l > 0:
            return f"multiplier of point {system.active[a]} is not certainly positive on the box ({l})", False
    interior = True
    for (k, li, un), g in zip(system.kinks, U[nt + na:]):
        s = net.layers[li].slope
        lo, hi = be.const(min(s, Fraction(1))), be.const(max(s, Fraction(1)))
        if not (g >= lo and g <= hi):
            return (f"slope of the stated kink of unit {net.layers[li].index}:{un} at point {k} is not certainly "
                    f"in [{min(s, 1)}, {max(s, 1)}] on the box ({g})"), False
        interior = interior and bool(g > lo and g < hi)
    th = system.theta(be, U)
    Xb = be.array(X)
    C = [None if c is None else c.copy() for c in net.slopes(be, system.signs)]
    for (k, li, un), g in zip(system.kinks, U[nt + na:]):
        C[li][un, k] = g
    Z, A = net.forward(be, th, Xb, C)
    for l, z, s in zip(net.layers, Z, system.signs):
        if s is None:
            continue
        for u, k in zip(*np.nonzero(s == 1)):
            if not z[u, k] > 0:
                return (f"pre-activation of unit {l.index}:{u} at point {k} is not certainly positive on the box",
                        False)
        for u, k in zip(*np.nonzero(s == -1)):
            if not z[u, k] < 0:
                return (f"pre-activation of unit {l.index}:{u} at point {k} is not certainly negative on the box",
                        False)
    q = A[-1][0] * np.asarray(y)
    for k in range(len(y)):
        if k not in system.active and not q[k] > 1:
            return f"margin of inactive point {k} is not certainly > 1 on the box", False
    return None, interior


def clarke_set(system, X):
    """Which set of generalized gradients the proved point is KKT for, and why.

    ``gradient``: no stated kink. ``clarke``: every stated kink is a unit of the first weight layer
    and, at each point, the gradients ∇_θ z_u = (input patch of u at x_k) of its stated kink units
    are linearly independent (exact rank): then z ↦ all sign vectors are realized near θ*, every
    vertex slope pattern is a limiting gradient, and g in the box of intervals is a Clarke element.
    ``chain_rule_hull`` otherwise."""
    if not system.ng:
        return "gradient", "no stated kink: each Φ_k is smooth at the point"
    net = system.net
    first = net.layers[0]
    if any(li != 0 for _, li, _ in system.kinks) or not first.weight:
        return "chain_rule_hull", "a stated kink in a deeper layer: slopes in the chain-rule hull"
    by_point = {}
    for k, li, un in system.kinks:
        by_point.setdefault(k, []).append(un)
    for k, units in by_point.items():
        rows = []
        for un in units:
            sel = first.o == un
            v = {}
            for wi, xi in zip(first.w[sel], first.i[sel]):
                v[int(wi)] = v.get(int(wi), Fraction(0)) + Fraction(X[int(xi), k])
            rows.append(v)
        if _rank(rows) < len(rows):
            return "chain_rule_hull", f"the kink units at point {k} have linearly dependent input patches"
    return "clarke", "every stated kink is a first-layer unit with linearly independent input patches per point"


def _rank(rows):
    """Exact rank of sparse rational row vectors (dicts index -> Fraction)."""
    rows = [{j: v for j, v in r.items() if v != 0} for r in rows]
    rank = 0
    while rows:
        r = rows.pop()
        if not r:
            continue
        rank += 1
        p = next(iter(r))
        new = []
        for o in rows:
            if p in o:
                f = o[p] / r[p]
                o = {j: o.get(j, Fraction(0)) - f * r.get(j, Fraction(0)) for j in set(o) | set(r)}
                o = {j: v for j, v in o.items() if v != 0}
            new.append(o)
        rows = new
    return rank


def prove(system, centre, X, y, prec=160):
    """Try the Krawczyk test on boxes around ``centre`` (Fractions); ``(Box or None, reason)``."""
    from flint import arb_mat, ctx

    be = ball(prec)
    old = ctx.prec
    ctx.prec = prec
    try:
        N = system.N
        Uc = be.array(centre)
        Fc, _, _ = system.evaluate(be, Uc, jacobian=False)
        _, Jf, _ = system.evaluate(FLOAT, np.array([float(c) for c in centre]))
        try:
            Yf = np.linalg.inv(Jf)
        except np.linalg.LinAlgError:
            return None, "the Jacobian of the KKT system is singular at the snapped point (degenerate KKT point)"
        if not np.all(np.isfinite(Yf)):
            return None, "the Jacobian of the KKT system is singular at the snapped point (degenerate KKT point)"
        Yq = [[Fraction(float(v)) for v in row] for row in Yf]
        Ym = arb_mat([[be.const(v) for v in row] for row in Yq])
        Fm = arb_mat([[f] for f in Fc])
        YF = Ym * Fm
        reason = "no box passed"
        for e in EXPONENTS:
            radius = [Fraction(1, 2 ** e) * _pow2(max(Fraction(1), abs(c))) for c in centre]
            U = np.empty(N, dtype=object)
            for i, (c, r) in enumerate(zip(centre, radius)):
                U[i] = _ball(c, r)
            side, interior = side_conditions(system, be, U, X, y)
            if side is not None:
                reason = side
                continue
            _, JX, _ = system.evaluate(be, U)
            M = arb_mat([[v for v in row] for row in JX])
            R = arb_mat([[1 if i == j else 0 for j in range(N)] for i in range(N)]) - Ym * M
            D = arb_mat([[U[i] - Uc[i]] for i in range(N)])
            K = R * D
            inside = True
            for i in range(N):
                k = Uc[i] - YF[i, 0] + K[i, 0]
                lo, hi = Uc[i] - be.const(radius[i]), Uc[i] + be.const(radius[i])
                if not (k - lo > 0 and hi - k > 0):
                    inside = False
                    reason = f"Krawczyk test fails at unknown {i} with radius 2^-{e}"
                    break
            if inside:
                return (Box(list(centre), radius, Yq, e, interior),
                        f"Krawczyk test passed with radii 2^-{e}·max(1, |x_i|)")
        return None, reason
    finally:
        ctx.prec = old


def _pow2(v):
    """The least power of 2 that is >= v (v > 0, a Fraction)."""
    p = Fraction(1)
    while p < v:
        p *= 2
    return p
