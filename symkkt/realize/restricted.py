"""The restricted parameter set S_m, canonicalization into S_{m+1}, and inverse stability on S_m.

**S_m for d = 1** on the box (lo, hi): every neuron is the zero neuron (0, 0, 0) or positively
oriented and balanced: w_i > 0, kink ξ_i = −b_i/w_i ∈ [lo, hi), |a_i| = w_i; the kinks are
distinct (so at most one sits at lo: that neuron is affine on the box and carries the slope
next to lo). A neuron of S_m is θ(μ, ξ) = (√|μ|, −ξ√|μ|, sgn(μ)√|μ|): it realizes μ relu(x − ξ).

**The d-dimensional version** used here: every neuron is zero or balanced (|a_i| = ‖w_i‖_∞ > 0)
with its first non-zero weight positive, and either visible (its hyperplane meets the open
box) or the *linear neuron* (affine on the box with min over the closed box of w·x + b equal to
0); the visible hyperplanes are distinct and there is at most one linear neuron. For d = 1 this
is exactly S_m.

**Nothing is lost.** Every width-m realization on the box is realized in S_{m+1}
(:func:`canonicalize`): from the canonical form take θ(μ_H, H) for every visible hyperplane and
one linear neuron for the linear part; the constant absorbs the rest. The extra neuron is
needed: relu(−x) = relu(x) − x has one kink and a slope −1 next to lo, so S_1 cannot realize it.

**Inverse stability (our precise version for d = 1).** For Γ ∈ S_m and g = R_B with B ∈ S_m,
ε = ‖g − R_Γ‖_{W^{1,∞}(Ω)}, there is Φ ∈ S_m with R_Φ = g and ‖Φ − Γ‖_∞ ≤ max(2√2 ε^{1/2}, ε).
Inside S_m the realization of g is unique up to permuting neurons (balance and orientation fix
each neuron from its kink and jump, the slope next to lo fixes the linear neuron, and the rest
are zero), so min over such Φ of ‖Φ − Γ‖_∞ is a bottleneck assignment between the neurons of Γ
and B, computed exactly here, and the bound is checked exactly (d ≤ √8·√ε ⟺ d² ≤ 8ε). The
exponent 1/2 cannot be improved: Γ = 0, g = ε relu(x) gives exactly ε^{1/2}. In d dimensions the
analogous statement has constants that are not optimized, so only the distance is reported.

What this module trusts: :mod:`symkkt.realize.canonical` (canonical forms, same-function test),
:mod:`symkkt.realize.distance` (‖·‖_{W^{1,∞}}), :mod:`symkkt.realize.fiber` (bottleneck
assignment) and sympy for the square roots of canonicalization.

Examples
--------
>>> from symkkt.realize.net import ShallowNet
>>> in_restricted_set(ShallowNet.of([[1], [2]], [1, 0], [-1, 2], 0))
(True, 'in S_2: 2 balanced positively oriented neurons with distinct kinks in [-1, 1) (one at -1)')
>>> N = canonicalize(ShallowNet.of([[-1]], [0], [1], 0))     # relu(-x) needs 2 neurons of S_2
>>> N
ShallowNet(d=1, m=2, neurons (w; b; a) = [(1; 0; 1), (1; 1; -1)], c=1)
"""

from __future__ import annotations

import sympy

from ..numbers import format_number
from .canonical import box_range, canonical_form, neuron_kind, normalize, same_realization
from .fiber import bottleneck, exact_cmp, neuron_distance
from .net import ShallowNet, fmt, to_sympy, unify

__all__ = ["in_restricted_set", "canonicalize", "inverse_stability", "theta", "restricted_distance"]


def _abs(x):
    return -x if x < 0 else x


def _is_zero(w, b, a):
    return all(x == 0 for x in w) and b == 0 and a == 0


def in_restricted_set(net, lo=-1, hi=1):
    """Whether ``net`` lies in S_m (d = 1) or its d-dimensional version, with the reason.

    Parameters
    ----------
    net : ShallowNet
    lo, hi : exact numbers
        The box (lo, hi)^d.

    Returns
    -------
    (bool, str)
        The reason names the first violated condition (neuron index and numbers).

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> in_restricted_set(ShallowNet.of([[1], [-1]], ["-1/2", "-1/2"], [1, 1], 0))
    (False, 'neuron 1 is not positively oriented (w = (-1))')
    >>> in_restricted_set(ShallowNet.of([[2], [1]], [0, 0], [2, -1], 0))
    (False, 'neurons 0 and 1 share the kink hyperplane x1 = 0')
    """
    (net,), (lo, hi) = unify([net], [lo, hi])
    planes, linear, nonzero = {}, [], 0
    for i, (w, b, a) in enumerate(zip(net.W, net.b, net.a)):
        if _is_zero(w, b, a):
            continue
        nonzero += 1
        wtxt = "(" + ", ".join(fmt(x) for x in w) + ")"
        if all(x == 0 for x in w):
            return False, f"neuron {i} has w = 0 but is not the zero neuron"
        first = next(x for x in w if x != 0)
        if first < 0:
            return False, f"neuron {i} is not positively oriented (w = {wtxt})"
        s = max(_abs(x) for x in w)
        if _abs(a) != s:
            return False, f"neuron {i} is not balanced (|a| = {fmt(_abs(a))}, ||w||_inf = {fmt(s)})"
        kind = neuron_kind(w, b, lo, hi)
        if kind == "dead":
            return False, f"neuron {i} is dead on the box"
        if kind == "affine":
            mn, _ = box_range(w, b, lo, hi)
            if mn != 0:
                return False, (f"neuron {i} is affine on the box and its hyperplane misses the closed box "
                               f"(min of w.x + b = {fmt(mn)} > 0)")
            linear.append(i)
            continue
        n, beta, _, _ = normalize(w, b)
        if (n, beta) in planes:
            return False, f"neurons {planes[(n, beta)]} and {i} share the kink hyperplane {_plane_text(n, beta)}"
        planes[(n, beta)] = i
    if len(linear) > 1:
        at = f"at {fmt(lo)}" if net.d == 1 else "touching the box"
        return False, f"neurons {linear[0]} and {linear[1]} are both linear neurons (kink {at})"
    if net.d == 1:
        extra = f" (one at {fmt(lo)})" if linear else ""
        return True, (f"in S_{net.m}: {nonzero} balanced positively oriented neuron{'s' if nonzero != 1 else ''} "
                      f"with distinct kinks in [{fmt(lo)}, {fmt(hi)}){extra}")
    return True, (f"in the restricted set (d = {net.d}, m = {net.m}): {len(planes)} balanced oriented neurons on "
                  f"distinct visible hyperplanes, {len(linear)} linear neuron{'s' if len(linear) != 1 else ''}")


def _plane_text(n, beta):
    if len(n) == 1:
        return f"x1 = {fmt(-beta / n[0])}"
    return "(" + ", ".join(fmt(x) for x in n) + ")·x + " + fmt(beta) + " = 0"


def theta(mu, n, beta):
    """The balanced neuron (√|μ| n, √|μ| β, sgn(μ)√|μ|) as sympy numbers (realizes μ relu(n·x + β)).

    Examples
    --------
    >>> import sympy
    >>> theta(sympy.Rational(-1, 2), (sympy.Integer(1),), sympy.Rational(-1, 3))
    ((sqrt(2)/2,), -sqrt(2)/6, -sqrt(2)/2)
    """
    mu = to_sympy(mu) if not isinstance(mu, sympy.Basic) else mu
    r = sympy.sqrt(sympy.Abs(mu))
    sg = 1 if mu > 0 else -1
    return tuple(r * _s(x) for x in n), r * _s(beta), sg * r


def _s(x):
    return x if isinstance(x, sympy.Basic) else to_sympy(x)


def canonicalize(net, lo=-1, hi=1):
    """An equivalent parametrization in S_{m+1} (its d-dimensional version for d > 1).

    One balanced, positively oriented neuron per visible hyperplane of the canonical form, one
    linear neuron for the linear part (its hyperplane touches the closed box), zero neurons to
    fill m + 1, and the constant. The result is checked to realize the same function on the box
    (exactly, through canonical forms) and to lie in the restricted set.

    Parameters
    ----------
    net : ShallowNet
    lo, hi : exact numbers

    Returns
    -------
    ShallowNet
        Width m + 1; its numbers may need square roots (one number field for all).

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> canonicalize(ShallowNet.of([[1], [1]], [0, 0], [1, 1], 0))   # 2 relu(x): one hyperplane
    ShallowNet(d=1, m=3, neurons (w; b; a) = [(sqrt(2); 0; sqrt(2)), (0; 0; 0), (0; 0; 0)], c=0)
    """
    (net,), (lo, hi) = unify([net], [lo, hi])
    form = canonical_form(net, lo, hi)
    d = net.d
    W, B, A = [], [], []
    for n, beta, mu in form.sorted_hyperplanes():
        w, b, a = theta(mu, n, beta)
        W.append(list(w))
        B.append(b)
        A.append(a)
    c = to_sympy(form.c)
    v = [to_sympy(x) for x in form.v]
    if any(x != 0 for x in v):
        vmax = max(abs(x) for x in v)
        first = next(x for x in v if x != 0)
        a = sympy.sqrt(vmax) * (1 if first > 0 else -1)
        w = [sympy.radsimp(x / a) for x in v]
        # b = -min over the closed box of w·x, so that min of w·x + b is 0
        lo_s, hi_s = to_sympy(lo), to_sympy(hi)
        b = -sum((min(x * lo_s, x * hi_s) for x in w), sympy.Integer(0))
        W.append(w)
        B.append(b)
        A.append(a)
        c = c - a * b
    while len(W) < net.m + 1:
        W.append([0] * d)
        B.append(0)
        A.append(0)
    out = ShallowNet.of(W, B, A, sympy.radsimp(c), d=d, source=net.source)
    same, point = same_realization(out, net, lo, hi)
    if not same:  # pragma: no cover - the construction follows the canonical form
        raise AssertionError(f"canonicalization changed the function (at {point})")
    ok, reason = in_restricted_set(out, lo, hi)
    if not ok:  # pragma: no cover
        raise AssertionError(f"canonicalization left the restricted set: {reason}")
    return out


def restricted_distance(net_a, net_b):
    """min over permutations π of max(max_i ‖A_i − B_π(i)‖_∞, |c_A − c_B|), with the assignment."""
    (net_a, net_b), _ = unify([net_a, net_b])
    A = list(zip(net_a.W, net_a.b, net_a.a))
    B = list(zip(net_b.W, net_b.b, net_b.a))
    cdist = _abs(net_a.c - net_b.c)
    if not A:
        return cdist, []
    value, assign = bottleneck([[neuron_distance(u, v) for v in B] for u in A])
    return (value if value > cdist else cdist), assign


def inverse_stability(net_a, net_b, lo=-1, hi=1):
    """Check the inverse-stability bound of S_m on the pair Γ = ``net_a``, g = R_B.

    Parameters
    ----------
    net_a, net_b : ShallowNet
        Both in S_m (same d and m).
    lo, hi : exact numbers

    Returns
    -------
    dict
        ``epsilon`` = ‖R_B − R_A‖_{W^{1,∞}} (exact string, or ``{"lo", "hi"}`` bounds),
        ``distance`` = min ‖Φ − Γ‖_∞ over Φ ∈ S_m with R_Φ = R_B (exact string), ``bound`` =
        max(2√2 ε^{1/2}, ε) (exact string), ``holds`` (bool; None when not applicable or
        undecided), ``ratio`` = distance / ε^{1/2} (float, for reading), ``assignment``,
        ``reason``.

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> G = ShallowNet.of([[0]], [0], [0], 0)
    >>> r = inverse_stability(G, ShallowNet.of([["1/10"]], [0], ["1/10"], 0))   # g = relu(x)/100
    >>> r["epsilon"], r["distance"], r["bound"], r["holds"]
    ('1/100', '1/10', 'sqrt(2)/5', True)
    """
    from .distance import distance

    if net_a.d != net_b.d or net_a.m != net_b.m:
        return {"holds": None, "applicable": False,
                "reason": f"the networks have shapes (d, m) = ({net_a.d}, {net_a.m}) and ({net_b.d}, {net_b.m})"}
    (net_a, net_b), (lo, hi) = unify([net_a, net_b], [lo, hi])
    out = {"applicable": True}
    for name, net in (("A", net_a), ("B", net_b)):
        ok, why = in_restricted_set(net, lo, hi)
        if not ok:
            return {"holds": None, "applicable": False, "reason": f"network {name} is not in the restricted set: {why}"}
    D = distance(net_a, net_b, lo, hi)
    dist, assign = restricted_distance(net_a, net_b)
    out.update({"distance": fmt(dist), "assignment": [[i, j] for i, j in enumerate(assign)]})
    if D.exact:
        eps_lo = eps_hi = D.w1inf
        out["epsilon"] = fmt(D.w1inf)
    else:
        eps_lo, eps_hi = D.w1inf_bounds
        out["epsilon"] = {"lo": fmt(eps_lo), "hi": fmt(eps_hi)}

    def within(eps):
        return dist <= eps or dist * dist <= 8 * eps

    out["bound"] = _bound_text(eps_hi) if D.exact else {"lo": _bound_text(eps_lo), "hi": _bound_text(eps_hi)}
    out["ratio"] = float(dist) / float(eps_hi) ** 0.5 if eps_hi > 0 else (0.0 if dist == 0 else float("inf"))
    if net_a.d != 1:
        out.update(holds=None, reason="the d-dimensional version has constants that are not optimized: "
                                      "the distance is reported, the bound is the one-dimensional one")
        return out
    if within(eps_lo):
        out.update(holds=True, reason="||Phi - Gamma||_inf <= max(2 sqrt(2) eps^(1/2), eps) (checked exactly)")
    elif not within(eps_hi):
        out.update(holds=False, reason="||Phi - Gamma||_inf > max(2 sqrt(2) eps^(1/2), eps): the bound fails")
    else:
        out.update(holds=None, reason="undecided: only bounds on eps are known")
    return out


def _bound_text(eps):
    e = to_sympy(eps)
    val = 2 * sympy.sqrt(2) * sympy.sqrt(e) if exact_cmp(eps, 8) <= 0 else e
    return format_number(sympy.radsimp(val))
