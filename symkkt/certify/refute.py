"""Refutation: a proof that a box around the trained point holds no KKT point at all.

Let X = θ̃ ± ρ (every coordinate; θ̃ the trained point, in direction form scaled to q_min = 1 and
rounded to a rational), Φ positively homogeneous of degree L. Suppose θ* ∈ X is a KKT point:
θ* = Σ_k λ_k y_k h_k with λ_k ≥ 0, λ_k = 0 unless q_k(θ*) = 1, q_k(θ*) ≥ 1 for all k, and
h_k ∈ ∂°Φ_k(θ*). Three facts bound what such a point can look like:

1. feasibility: every q_k(θ*) ≥ 1, and only points with 1 ∈ q_k(X) can carry λ_k > 0;
2. Euler's identity ⟨h, θ⟩ = L·Φ(θ) holds for every Clarke element of a positively homogeneous
   function, so ‖θ*‖² = Σ λ_k y_k L Φ_k(θ*) = L Σ_k λ_k, i.e. Σ_k λ_k ≤ Λ := sup_X ‖θ‖² / L;
3. every h_k lies in the interval enclosure H_k of the chain-rule elements over X, computed with
   slope 1 or s where a pre-activation has a constant sign on X and the interval [min(s, 1),
   max(s, 1)] where it may vanish (the chain-rule hull contains the Clarke subdifferential).

So for any vector v, v·θ* = Σ λ_k y_k v·h_k ≤ Λ · max_k (sup y_k v·H_k)⁺ over the possible active
points. If inf_X v·θ is larger, no KKT point lies in X. The vector v is the residual θ̃ − Σ λ̂_k y_k
∇Φ_k(θ̃) of a non-negative least-squares fit (a float search, then taken exactly); for it the
fitted columns have y_k v·∇Φ_k ≤ 0, so the test succeeds when X is small against the residual.
If some q_k < 1 on all of X, the box holds no feasible point: refuted as well.

What is refuted: no KKT point of the max-margin problem (for the Clarke subdifferential, and
even for the chain-rule hull; with any activation pattern and any active set) lies in X. Nothing
is said about points outside X. Trusted: python-flint's arb ball arithmetic.

Examples
--------
>>> import numpy as np
>>> from fractions import Fraction
>>> from symkkt.certify.core import PatternNet
>>> net = PatternNet({"input": [2], "layers": [{"dense": {"width": 1}}]})     # Φ = w·x, L = 1
>>> X = np.array([[Fraction(1)], [Fraction(0)]], dtype=object)                 # one point (1, 0), y = +1
>>> refute_box(net, [Fraction(1), Fraction(1)], X, np.array([1]), Fraction(1, 10))[0]   # KKT point (1, 0)
True
>>> refute_box(net, [Fraction(1), Fraction(1, 100)], X, np.array([1]), Fraction(1, 10))[0]
False
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .core import FLOAT, ball, slope_hull


def _forward(net, be, th, Xb):
    """Pre-activations and outputs over balls, slopes chosen per sign of each ball (interval slope
    where a ball contains 0): encloses the net's values and its chain-rule slopes."""
    A, Z, C = [Xb], [], []
    for l in net.layers:
        z = net.matrix(be, l, th) @ A[-1]
        Z.append(z)
        if not l.kink:
            C.append(None)
            A.append(z)
            continue
        c = np.empty(z.shape, dtype=object)
        hull, one, s = slope_hull(be, l.slope), be.const(1), be.const(l.slope)
        for idx, v in np.ndenumerate(z):
            c[idx] = one if v > 0 else s if v < 0 else hull
        C.append(c)
        A.append(c * z)
    return Z, A, C


def refute_box(net, centre, X, y, rho, prec=128):
    """``(refuted, reason, figures)`` for the box centre ± rho·max(1, ‖centre‖∞) (see the module doc)."""
    from flint import arb, ctx, fmpq
    from .snap import nnls

    be = ball(prec)
    old = ctx.prec
    ctx.prec = prec
    try:
        centre = [Fraction(c) for c in centre]
        r = Fraction(rho) * max(Fraction(1), max(abs(c) for c in centre))
        rb = arb(0, fmpq(r.numerator, r.denominator))
        th = np.array([be.const(c) + rb for c in centre], dtype=object)
        Xb = be.array(X)
        yb = np.asarray(y)
        Z, A, C = _forward(net, be, th, Xb)
        q = A[-1][0] * yb
        figures = {"radius": float(r), "box": f"centre ± {float(r):.3g} in every coordinate"}
        for k, qk in enumerate(q):
            if qk < 1:
                return True, (f"the margin of point {k} is < 1 on the whole box (q in [{float(qk.lower()):.6g}, "
                              f"{float(qk.upper()):.6g}]): the box holds no feasible point"), figures
        possible = [k for k, qk in enumerate(q) if not qk > 1]
        if not possible:
            return True, "every margin is > 1 on the box: no point can be active", figures
        # v: the residual of the NNLS fit at the centre (float search), then exact
        thf = np.array([float(c) for c in centre])
        Xf = np.asarray(X, dtype=float)
        Cf = net.slopes(FLOAT, net.signs(thf, Xf))
        _, Af = net.forward(FLOAT, thf, Xf, Cf)
        Gf = net.gradients(FLOAT, thf, Af, Cf)[:, possible] * yb[possible][None, :].astype(float)
        lam, _ = nnls(Gf, thf)
        v = [Fraction(float(t)) for t in thf - Gf @ lam]
        vb = be.array(v)
        H = net.gradients(be, th, A, C)                 # m × n enclosures of the chain-rule elements
        vth = sum((a * b for a, b in zip(vb, th)), arb(0))
        Lam = sum((t * t for t in th), arb(0)) / net.degree
        worst = max((sum((a * b for a, b in zip(vb, H[:, k])), arb(0)) * int(yb[k])).upper() for k in possible)
        bound = Lam.upper() * max(worst, arb(0))
        figures.update({"possible_active": possible, "v_dot_theta_lower": float(vth.lower()),
                        "bound_upper": float(bound.upper())})
        if vth.lower() > bound:
            return True, (f"for v = the NNLS residual, v·θ >= {float(vth.lower()):.4g} on the box but v·θ* <= "
                          f"{float(bound.upper()):.4g} at every KKT point θ* there (Euler: Σλ <= sup|θ|²/L; "
                          f"active points among {possible[:10]}{' ...' if len(possible) > 10 else ''})"), figures
        return False, (f"not refuted: v·θ >= {float(vth.lower()):.4g} does not exceed the bound "
                       f"{float(bound.upper()):.4g}"), figures
    finally:
        ctx.prec = old
