"""Snapping a trained point to a nearby KKT point: guess the pattern, then Newton.

1. **Scale.** In direction form θ is replaced by θ / q_min(θ)^(1/L), which has q_min = 1.
2. **Guess** (:func:`guess`):
   - a hidden unit whose incoming and outgoing weights have norm ≤ Z (``zero_tolerance``) times
     the largest such norm in its layer is a *zero unit*: its weights are set to 0 and fixed;
   - the points with q_k ≤ 1 + T form the active set;
   - a pre-activation with |z_{u,k}| ≤ T·‖w_u‖·‖a_{u,k}‖ (|cosine| between the unit's incoming
     weights and its input ≤ T, :func:`kink_ratios`) is a *stated kink* (code KINK) on an active
     point and *either slope* (code EITHER) on an inactive one; the other signs give the pattern.
3. **Candidates** (:func:`support_guesses`): further active sets from the support of a
   non-negative least-squares fit with one column per vertex of the kink slopes
   (:func:`vertex_nnls`), which also gives the starting multipliers and slopes.
4. **Newton** (:func:`solve`) on the square system F(θ, λ, g) = 0 of :mod:`.core` in float64
   (damped, stopped when it diverges), then the *active-set round*: at the solution, points with
   λ_k ≤ 0 leave the active set, inactive points with q_k ≤ 1 join it, a stated kink whose slope
   left its interval takes the nearer side, and a unit that crossed its kink on an active point
   becomes a stated kink; at most a few rounds.
5. **Refinement** (:func:`refine`) of the float64 solution by Newton steps in arb balls at high
   precision (midpoints kept): the centre of the box proof and the input of exact recognition.

Everything here is search: nothing is proved until :mod:`.krawczyk` or the exact checker says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..linear import nnls  # noqa: F401  (re-exported: the search tools of this module use it)

from .core import EITHER, FLOAT, KINK, KKTSystem, ball


@dataclass
class Guess:
    """The pattern, active set and zero units guessed at the (scaled) trained point."""

    theta: np.ndarray            # the scaled trained point (float64), zero units set to 0
    signs: list                  # per layer: sign codes (units × n) or None (see core.KINK, EITHER)
    zero_units: list             # "L:U" names
    fixed: list                  # θ indices fixed at 0
    active: list
    kinks: list = field(default_factory=list)     # (point, "L:U", z / (‖w_u‖‖a_in‖)) on active points
    near: list = field(default_factory=list)      # the same on inactive points (either slope)
    scale: float = 1.0           # q_min^(1/L) in direction form (θ_scaled = θ / scale), else 1


def kink_ratios(net, theta, X):
    """Per kink layer: z_{u,k} / (‖w_u‖ · ‖a_in,k‖), the cosine between the unit's incoming weights
    and its input (units × n; 0 where a norm is 0), float; None for layers without a kink."""
    Z, A = net.forward(FLOAT, theta, X, None)
    out = []
    for li, (l, z) in enumerate(zip(net.layers, Z)):
        if not l.kink:
            out.append(None)
            continue
        if l.weight:
            wn = np.zeros(l.out)
            np.add.at(wn, l.o, theta[l.w] ** 2)
        else:
            wn = np.zeros(l.out)
            np.add.at(wn, l.o, float(l.coef) ** 2)
        an = np.zeros((l.out, z.shape[1]))
        np.add.at(an, l.o, A[li][l.i] ** 2)
        den = np.sqrt(wn)[:, None] * np.sqrt(an)
        out.append(np.divide(z, den, out=np.zeros_like(z), where=den > 0))
    return out


def pattern_at(net, theta, X, active, tolerance, zero):
    """Sign codes at ``theta``: |cosine| ≤ T gives KINK on active points and EITHER on the others;
    zero units get 0. Returns (signs, kinks, near)."""
    R = kink_ratios(net, theta, X)
    act = np.zeros(X.shape[1], bool)
    act[list(active)] = True
    signs, kinks, near = [], [], []
    for l, r in zip(net.layers, R):
        if r is None:
            signs.append(None)
            continue
        s = np.sign(r)
        s[s == 0] = 1
        close = np.abs(r) <= tolerance
        for u in range(l.out):
            if f"{l.index}:{u}" in zero:
                s[u, :] = 0
                close[u, :] = False
        s[close & act[None, :]] = KINK
        s[close & ~act[None, :]] = EITHER
        for u, k in zip(*np.nonzero(close)):
            (kinks if act[k] else near).append((int(k), f"{l.index}:{u}", float(r[u, k])))
        signs.append(s)
    return signs, sorted(kinks), sorted(near)


def guess(net, theta, X, y, tolerance, direction, zero_tolerance=None):
    """Guess zero units, the pattern and the active set at ``theta`` (float64); see the module doc."""
    zero_tolerance = tolerance if zero_tolerance is None else zero_tolerance
    theta = np.array(theta, dtype=float)
    Xf = np.asarray(X, dtype=float)
    yf = np.asarray(y, dtype=float)
    scale = 1.0
    if direction:
        _, A = net.forward(FLOAT, theta, Xf, None)
        qmin = float(np.min(A[-1][0] * yf))
        scale = qmin ** (1.0 / net.degree)
        theta = theta / scale
    zero_units, fixed = [], []
    for layer, nxt in net.hidden():
        norms = np.array([np.linalg.norm(theta[net.zero_unit_weights(layer, nxt, u)]) for u in range(layer.out)])
        top = norms.max() if len(norms) else 0.0
        for u in np.nonzero(norms <= zero_tolerance * top)[0]:
            zero_units.append(f"{layer.index}:{u}")
            fixed.extend(int(j) for j in net.zero_unit_weights(layer, nxt, u))
    fixed = sorted(set(fixed))
    theta[fixed] = 0.0
    _, A = net.forward(FLOAT, theta, Xf, None)
    q = A[-1][0] * yf
    active = [int(k) for k in np.nonzero(q <= 1 + tolerance)[0]]
    signs, kinks, near = pattern_at(net, theta, Xf, active, tolerance, set(zero_units))
    return Guess(theta, signs, zero_units, fixed, active, kinks, near, scale)


def with_active(net, g, X, active, tolerance):
    """The guess ``g`` with another active set (its pattern recomputed)."""
    signs, kinks, near = pattern_at(net, g.theta, np.asarray(X, dtype=float), active, tolerance, set(g.zero_units))
    return Guess(g.theta, signs, g.zero_units, g.fixed, sorted(active), kinks, near, g.scale)


def vertex_nnls(net, theta, X, y, points, signs):
    """Multipliers and kink slopes fitted by non-negative least squares: θ ≈ Σ_k Σ_v α_{k,v} y_k h_k(v)
    over ``points``, with one column per vertex v of the slopes of the point's stated kinks
    (sign code KINK; at most 3 per point, else their two uniform vertices). Returns (λ per point
    as a dict, g per (point, layer position, unit) as a dict, residual), a float search."""
    from itertools import product

    Xf = np.asarray(X, dtype=float)
    base = net.slopes(FLOAT, [None if s is None else np.where(s == KINK, 1, s) for s in signs])
    cols, owners = [], []
    for k in points:
        kinks = [(li, int(u)) for li, s in enumerate(signs) if s is not None for u in np.nonzero(s[:, k] == KINK)[0]]
        slopes = [(1.0, float(net.layers[li].slope)) for li, _ in kinks]
        verts = list(product(*slopes)) if len(kinks) <= 3 else [tuple(s[0] for s in slopes), tuple(s[1] for s in slopes)]
        for v in verts:
            c = [None if b is None else b[:, [k]].copy() for b in base]
            for (li, u), sv in zip(kinks, v):
                c[li][u, 0] = sv
            _, A = net.forward(FLOAT, theta, Xf[:, [k]], c)
            cols.append(net.gradients(FLOAT, theta, A, c)[:, 0] * float(y[k]))
            owners.append((k, kinks, v))
    if not cols:
        return {}, {}, float(np.linalg.norm(theta))
    alpha, res = nnls(np.stack(cols, 1), theta)
    lam, gsum = {k: 0.0 for k in points}, {}
    for a, (k, kinks, v) in zip(alpha, owners):
        lam[k] += a
        for (li, u), sv in zip(kinks, v):
            gsum[(k, li, u)] = gsum.get((k, li, u), 0.0) + a * sv
    gv = {key: (val / lam[key[0]] if lam[key[0]] > 0 else None) for key, val in gsum.items()}
    return lam, gv, res


def support_guesses(net, g, X, y, tolerance):
    """Further active sets: the support of :func:`vertex_nnls` over the points with q_k ≤ 1 + 10·T,
    with and without the points of ``g.active``, and over all points joined with ``g.active``."""
    Xf = np.asarray(X, dtype=float)
    _, A = net.forward(FLOAT, g.theta, Xf, None)
    q = A[-1][0] * np.asarray(y, dtype=float)
    out = []
    for pool, join in (([int(k) for k in np.nonzero(q <= 1 + 10 * tolerance)[0]], True),
                       ([int(k) for k in np.nonzero(q <= 1 + 10 * tolerance)[0]], False),
                       (list(range(len(q))), True)):
        signs, _, _ = pattern_at(net, g.theta, Xf, pool, tolerance, set(g.zero_units))
        lam, _, _ = vertex_nnls(net, g.theta, X, y, pool, signs)
        top = max(lam.values()) if lam else 0.0
        supp = [k for k, v in lam.items() if top > 0 and v > 1e-6 * top]
        cand = sorted(set(supp) | (set(g.active) if join else set()))
        if cand and cand not in out:
            out.append(cand)
    return out


def _nnls(G, theta):
    if G.shape[1] == 0:
        return np.zeros(0)
    return nnls(G, theta)[0]


@dataclass
class Snap:
    """Outcome of :func:`solve`: the system, the float64 solution and what happened."""

    ok: bool
    reason: str
    system: KKTSystem | None = None
    u: np.ndarray | None = None
    iterations: int = 0
    rounds: int = 0
    residual: float = float("nan")
    log: list = field(default_factory=list)


def newton(system, u, max_iter=60):
    """Damped Newton on F(u) = 0 in float64; returns (u, ‖F‖∞, iterations, converged). Stops early
    when F grows beyond 10^6 times its start, when J is singular or not finite, or when the line
    search finds no decrease."""
    F, J, _ = system.evaluate(FLOAT, u)
    norm = np.abs(F).max() if F.size else 0.0
    start = max(norm, 1.0)
    for it in range(1, max_iter + 1):
        if not norm <= 1e6 * start:                  # diverging: give up early
            return u, norm, it - 1, False
        if norm <= 1e-13 * max(1.0, np.abs(u).max()):
            return u, norm, it - 1, True
        if not np.all(np.isfinite(J)):
            return u, norm, it, False
        try:
            step = np.linalg.solve(J, -F)
        except np.linalg.LinAlgError:
            return u, norm, it, False
        if not np.all(np.isfinite(step)):
            return u, norm, it, False
        t = 1.0
        while True:
            u2 = u + t * step
            F2 = system.evaluate(FLOAT, u2, jacobian=False)[0]
            n2 = np.abs(F2).max()
            if n2 < (1 - t / 4) * norm:
                break
            if t < 1e-4:
                return u, norm, it, False
            t /= 2
        u, norm = u2, n2
        F, J, _ = system.evaluate(FLOAT, u)
    return u, norm, max_iter, norm <= 1e-10 * max(1.0, np.abs(u).max())


def _side(l, g):
    """The sign code whose slope (1 for +1, s for -1) is nearer to g."""
    return 1 if abs(g - 1.0) <= abs(g - float(l.slope)) else -1


def solve(net, X, y, g, tolerance, rounds=8):
    """Newton with active-set rounds from the guess ``g``; see the module docstring."""
    yf = np.asarray(y, dtype=float)
    Xf = np.asarray(X, dtype=float)
    theta, signs, active = g.theta.copy(), [None if s is None else s.copy() for s in g.signs], list(g.active)
    out = Snap(False, "")
    zero = set(g.zero_units)
    gvals = {}
    for r in range(1, rounds + 1):
        out.rounds = r
        if not active:
            out.reason = "no active point (every margin is above 1 + tolerance)"
            return out
        system = KKTSystem(net, X, y, signs, active, g.fixed)
        lamd, gfit, _ = vertex_nnls(net, theta, X, y, active, signs)      # multipliers and slopes to start
        lam = np.array([lamd[k] for k in active])
        g0 = []
        for key in system.kinks:
            k, li, un = key
            mid = (1.0 + float(net.layers[li].slope)) / 2
            v = gvals.get(key, gfit.get(key))
            g0.append(mid if v is None else v)
        u, res, its, ok = newton(system, system.unknowns(theta, lam, g0))
        out.iterations += its
        out.log.append({"round": r, "active": list(active), "stated_kinks": system.ng,
                        "newton_iterations": its, "residual": float(res)})
        if not ok:
            out.reason = f"Newton did not converge (round {r}, residual {res:.3g} after {its} iterations)"
            return out
        theta = system.theta(FLOAT, u)
        lam = u[system.nt:system.nt + system.na]
        gs = system.g_values(u)
        gvals = {kk: v for kk, v in zip(system.kinks, gs)}
        R = kink_ratios(net, theta, Xf)
        _, Aall = net.forward(FLOAT, theta, Xf, None)
        q = Aall[-1][0] * yf
        drop = [k for k, v in zip(active, lam) if v <= 0]
        add = [k for k in range(len(yf)) if k not in active and q[k] <= 1]
        new_active = sorted((set(active) - set(drop)) | set(add))
        isact = np.zeros(len(yf), bool)
        isact[new_active] = True
        changed, sides, crossed = False, 0, 0
        new_signs = []
        for li, (l, s, rr) in enumerate(zip(net.layers, signs, R)):
            if s is None:
                new_signs.append(None)
                continue
            ns = s.copy()
            for un in range(l.out):
                if f"{l.index}:{un}" in zero:
                    continue
                for k in range(len(yf)):
                    cur = s[un, k]
                    if isact[k]:
                        if cur == KINK and (k, li, un) in gvals:
                            gv = gvals[(k, li, un)]
                            lo, hi = sorted((1.0, float(l.slope)))
                            if not lo <= gv <= hi:
                                ns[un, k] = _side(l, gv)
                                sides += 1
                        elif cur in (KINK, EITHER):       # a point joining A: decide by the tolerance
                            ns[un, k] = KINK if abs(rr[un, k]) <= tolerance else (1 if rr[un, k] > 0 else -1)
                        elif rr[un, k] * cur < 0:         # crossed its kink: state the kink
                            ns[un, k] = KINK
                            crossed += 1
                    else:
                        ns[un, k] = EITHER if abs(rr[un, k]) <= tolerance else (1 if rr[un, k] > 0 else -1)
            changed = changed or bool(np.any((ns != s)[:, isact]))
            new_signs.append(ns)
        if not changed and not drop and not add:
            system = KKTSystem(net, X, y, new_signs, active, g.fixed)     # fresh signs of inactive points
            out.ok, out.system, out.u, out.residual = True, system, u, float(res)
            out.reason = (f"Newton converged (residual {res:.2e}) in {out.iterations} iterations, {r} round(s)"
                          + (f", {system.ng} stated kink(s)" if system.ng else ""))
            return out
        out.log[-1]["changes"] = {"dropped": drop, "added": add, "kinks_to_sides": sides,
                                  "signs_crossed": crossed}
        signs = new_signs
        active = new_active
    out.reason = f"the active set or the pattern did not settle in {rounds} rounds"
    return out


def to_fraction(x):
    """The exact value of a float or of the midpoint of an arb ball."""
    if isinstance(x, float) or isinstance(x, (np.floating, int)):
        return Fraction(float(x))
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    return Fraction(man * 2 ** exp) if exp >= 0 else Fraction(man, 2 ** -exp)


def refine(system, u, prec=160, iterations=3):
    """Newton steps in arb balls at ``prec`` bits from the float solution ``u``; the midpoints as
    Fractions (rounded to about ``prec − 16`` significant bits) and the last ‖F‖ upper bound."""
    from flint import arb_mat, ctx

    be = ball(prec)
    old = ctx.prec
    ctx.prec = prec
    try:
        cur = [to_fraction(v) for v in u]
        norm = float("inf")
        for _ in range(iterations):
            U = be.array(cur)
            F, J, _ = system.evaluate(be, U)
            norm = max(float(abs(f).upper()) for f in F) if len(F) else 0.0
            step = arb_mat([[v for v in row] for row in J]).solve(arb_mat([[f] for f in F]))
            cur = [c - to_fraction(step[i, 0]) for i, c in enumerate(cur)]
        cur = [_round(c, prec - 16) for c in cur]
        return cur, norm
    finally:
        ctx.prec = old


def _round(c, bits):
    """c rounded to ``bits`` significant bits (a dyadic rational)."""
    if c == 0:
        return Fraction(0)
    e = abs(c).numerator.bit_length() - abs(c).denominator.bit_length() - bits
    return Fraction(round(c / Fraction(2) ** e)) * Fraction(2) ** e
