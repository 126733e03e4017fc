"""Rigorous (ε, δ)-KKT figures of a trained point (Lyu–Li).

θ is (ε, δ)-KKT for multipliers λ ≥ 0 when ‖θ − Σ_k λ_k y_k h_k‖ ≤ ε and Σ_k λ_k (q_k − 1) ≤ δ, with
h_k ∈ ∂°Φ(θ; x_k) (the gradient where no pre-activation of x_k is 0). In direction form the point
is θ / q_min^(1/L), whose smallest margin is 1.

The multipliers come from non-negative least squares over all points (float64: a search), are
then taken as the exact rationals they are, and ε and δ are evaluated for exactly these λ in arb
ball arithmetic from the exact θ and data: the reported numbers are proved upper bounds for that
λ (not the smallest possible ε). When a pre-activation ball contains 0 the gradient is not
determined and no ε is given.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .core import FLOAT, ball


def figures(net, theta, X, y, direction, prec=128):
    """A dict with ``epsilon`` and ``delta`` (upper bounds, floats), ``multipliers`` (floats),
    ``min_margin`` and ``tier``; or ``{"epsilon": None, "reason": ...}``."""
    from flint import arb, ctx
    from .snap import nnls

    be = ball(prec)
    old = ctx.prec
    ctx.prec = prec
    try:
        th = be.array(theta)
        Xb = be.array(X)
        yb = np.asarray(y)
        Z, A = net.forward(be, th, Xb, net.slopes(be, _float_signs(net, th, Xb)))
        q = A[-1][0] * yb
        if direction:
            qmin = min(q, key=lambda v: float(v.mid()))
            if not qmin > 0:
                return {"epsilon": None, "reason": "the smallest margin is not certainly positive"}
            scale = qmin ** (arb(1) / net.degree)
            th = th / scale
        signs = _float_signs(net, th, Xb)
        Z, A = net.forward(be, th, Xb, net.slopes(be, signs))
        q = A[-1][0] * yb
        for l, z, s in zip(net.layers, Z, signs):
            if l.kink:
                bad = np.vectorize(lambda v, t: not ((t > 0 and v > 0) or (t < 0 and v < 0)))(z, s)
                for u, k in zip(*np.nonzero(bad)):
                    return {"epsilon": None, "min_margin": _up(min(q, key=lambda v: float(v.mid()))),
                            "reason": f"pre-activation of unit {l.index}:{u} at point {k} is 0 or too close "
                                      "to 0 to fix the gradient"}
        G = net.gradients(be, th, A, net.slopes(be, signs))
        Gf = np.vectorize(lambda v: float(v.mid()))(G) * yb[None, :]
        thf = np.array([float(v.mid()) for v in th])
        lam = nnls(Gf, thf)[0]
        lam_b = be.array([Fraction(float(v)) for v in lam])
        r = th - G @ (lam_b * yb)
        eps = sum((v * v for v in r), arb(0)).sqrt()
        delta = sum((l_ * (qk - 1) for l_, qk in zip(lam_b, q)), arb(0))
        qmin = min(q, key=lambda v: float(v.mid()))
        return {"epsilon": _up(eps), "delta": _up(delta), "multipliers": [float(v) for v in lam],
                "min_margin": _up(qmin), "min_margin_lower": float(qmin.lower()),
                "tier": "rigorous enclosure (upper bounds for these multipliers)"}
    finally:
        ctx.prec = old


def _up(v):
    """A float ≥ the ball's upper end (rounded up by one ulp after conversion)."""
    return float(np.nextafter(float(v.upper()), np.inf))


def _float_signs(net, th, Xb):
    """Signs of the pre-activations at the midpoints (a guess, confirmed on the balls by the caller)."""
    Z, _ = net.forward(FLOAT, np.array([float(v.mid()) for v in th]),
                       np.vectorize(lambda v: float(v.mid()))(Xb), None)
    return [np.sign(z) if l.kink else None for l, z in zip(net.layers, Z)]
