"""Exact witnesses that refute a property of a map T at concrete (θ, x).

Searching is done at random exact rational points (a fixed seed, so results repeat); deciding is
exact (rational or algebraic arithmetic) or, for tanh, by arb balls that must be disjoint.
"""

from __future__ import annotations

import random

import numpy as np
import sympy

from ..numbers import format_number
from ..tensor import BallDomain, ExactDomain

TRIES = 12


def _rational(rng):
    return sympy.Rational(rng.randint(-6, 6), rng.randint(1, 4))


def random_point(net, rng):
    """Random exact rational θ (no zero entries) and x."""
    theta = []
    for _ in range(net.num_parameters):
        v = _rational(rng)
        theta.append(v if v != 0 else sympy.Rational(1, 2))
    n = int(np.prod(net.arch.input))
    return theta, [_rational(rng) for _ in range(n)]


def _exact_domain(emb, theta, x):
    numbers = list(theta) + list(x) + emb.numbers() + emb.source.constants()
    return ExactDomain.for_numbers(numbers)


def _has_tanh(net):
    return any(r.kind == "tanh" for r in net.rules.values())


def _fmt_list(values):
    return [format_number(sympy.nsimplify(v) if isinstance(v, sympy.Float) else v) for v in values]


def output_witness(emb, tries=TRIES, seed=0):
    """θ, x with Φ̃(Tθ; x) ≠ Φ(θ; x), decided exactly (or by disjoint balls for tanh); None if none found."""
    rng = random.Random(seed)
    for _ in range(tries):
        theta, x = random_point(emb.source, rng)
        eta = emb.forward(theta)
        if _has_tanh(emb.source):
            dom = BallDomain(60)
            with dom.context():
                a = emb.source.forward(dom, theta, [x]).output[0]
                b = emb.target.forward(dom, eta, [x]).output[0]
                diff = b - a
                if diff > 0 or diff < 0:
                    return {"theta": _fmt_list(theta), "x": _fmt_list(x), "narrow": str(a), "wide": str(b),
                            "tier": dom.tier}
            continue
        dom = _exact_domain(emb, theta, x)
        a = emb.source.forward(dom, theta, [x]).output.elements()[0]
        b = emb.target.forward(dom, eta, [x]).output.elements()[0]
        if a != b:
            return {"theta": _fmt_list(theta), "x": _fmt_list(x), "narrow": format_number(a.to_sympy()),
                    "wide": format_number(b.to_sympy()), "tier": "exact"}
    return None


def gradient_witness(emb, S=None, tries=TRIES, seed=1):
    """θ, x off kinks with ∇Φ̃(Tθ; x) ≠ T ∇Φ(θ; x) (exact); None if none found.

    With ``S`` (a list of (source index, coefficient) rows) the comparison is against S ∇Φ.
    """
    balls = _has_tanh(emb.source)
    rng = random.Random(seed)
    for _ in range(tries):
        theta, x = random_point(emb.source, rng)
        if balls:
            found = _ball_gradient_witness(emb, S, theta, x)
            if found:
                return found
            continue
        dom = _exact_domain(emb, theta, x)
        tr_n = emb.source.forward(dom, theta, [x])
        tr_w = emb.target.forward(dom, emb.forward(theta), [x])
        if emb.source.kinks(tr_n, 0) or emb.target.kinks(tr_w, 0):
            continue
        g = [v.to_sympy() for v in emb.source.jacobian(tr_n, [0]).elements()]
        gw = [v.to_sympy() for v in emb.target.jacobian(tr_w, [0]).elements()]
        if S is None:
            expect = emb.forward(g)
        else:
            expect = [c.to_sympy() * g[p] if p >= 0 else sympy.Integer(0) for p, c in S]
        for r, (a, b) in enumerate(zip(gw, expect)):
            if sympy.expand(a - b) != 0:
                return {"theta": _fmt_list(theta), "x": _fmt_list(x),
                        "parameter": emb.target.parameter_names[r],
                        "wide_gradient": format_number(a), "mapped_narrow_gradient": format_number(b),
                        "tier": "exact"}
    return None


def _ball_gradient_witness(emb, S, theta, x):
    """The same comparison in arb balls (tanh nets): a component whose balls are disjoint."""
    dom = BallDomain(60)
    with dom.context():
        tn = emb.source.forward(dom, theta, [x])
        tw = emb.target.forward(dom, emb.forward(theta), [x])
        g = emb.source.jacobian(tn, [0]).ravel()
        gw = emb.target.jacobian(tw, [0]).ravel()
        rows = S if S is not None else [(int(i), c) for i, c in zip(emb.index, emb.coef)]
        for r, ((p, c), b) in enumerate(zip(rows, gw)):
            c = c.to_sympy() if hasattr(c, "to_sympy") else c
            expect = g[p] * dom.scalar(c)[()] if p >= 0 else dom.scalar(0)[()]
            d = b - expect
            if d > 0 or d < 0:
                return {"theta": _fmt_list(theta), "x": _fmt_list(x), "parameter": emb.target.parameter_names[r],
                        "wide_gradient": str(b), "mapped_narrow_gradient": str(expect),
                        "tier": dom.tier}
    return None


def _kink_candidate(emb):
    """(weight layer, layer index, source unit, [children]) of a split unit whose activation has a kink."""
    for w, rows in sorted(emb.units.items()):
        li = emb.source.arch.weight_layers[w - 1]
        if not emb.source.rules[li].has_kink:
            continue
        children = {}
        for c, (p, a, _b) in enumerate(rows):
            if a != 0:
                children.setdefault(p, []).append(c)
        for p, cs in children.items():
            if len(cs) >= 2:
                return w, li, p, cs
    return None


def kink_witness(emb, tries=TRIES, seed=2):
    """A point where a split unit sits on a kink and T∂°Φ(θ; x) ≠ ∂°Φ̃(Tθ; x).

    The unit's incoming weights are projected so that its pre-activation at the first position
    is exactly 0, with every other unit of both networks off its kink. Moving the first child's
    incoming weights by +εv and the others' by −εv (v: the unit's input at that position) puts
    the children's pre-activations at ±ε‖v‖² while no other unit changes sign for small ε, so the
    gradients there converge to h̃, the chain-rule element with slope σ'(0⁺) for the first child
    and σ'(0⁻) for the others: h̃ ∈ ∂°Φ̃(Tθ; x). The witness shows h̃ ≠ TTᵀh̃, i.e.
    h̃ ∉ range T ⊇ T∂°Φ(θ; x). Returns None when no unit qualifies.
    """
    cand = _kink_candidate(emb)
    if cand is None:
        return None
    w, li, u, children = cand
    src, dst = emb.source, emb.target
    layer = src.arch.layers[li]
    per = int(np.prod(src.arch.shapes[li][1:])) if layer.kind == "conv" else 1
    plus, minus = src.rules[li].plus, src.rules[li].minus   # slopes on the two sides of the kink
    rng = random.Random(seed)
    offs = _offsets(src)
    for _ in range(tries):
        theta, x = random_point(src, rng)
        dom = _exact_domain(emb, theta, x)
        tr = src.forward(dom, theta, [x])
        inp = tr.inputs[li][..., 0]
        if layer.kind == "dense":
            v = [e.to_sympy() for e in inp.reshape(-1).elements()]
        else:
            k = layer.kernel
            sl = (slice(None),) + tuple(slice(0, kk) for kk in k)
            v = [e.to_sympy() for e in inp[sl].reshape(-1).elements()]
        vv = sum(t * t for t in v)
        if vv == 0:
            continue
        start = offs[w - 1]
        n_in = len(v)
        row = theta[start + u * n_in: start + (u + 1) * n_in]
        z = sum(a * b for a, b in zip(row, v))
        if layer.bias:
            z += theta[start + int(np.prod(src.param_shapes[w - 1]["weight"])) + u]
        theta = list(theta)
        for j in range(n_in):
            theta[start + u * n_in + j] = row[j] - z / vv * v[j]
        dom = _exact_domain(emb, theta, x)
        tr = src.forward(dom, theta, [x])
        if src.kinks(tr, 0) != [(li, u * per)]:
            continue
        eta = emb.forward(theta)
        trw = dst.forward(dom, eta, [x])
        kinks = dst.kinks(trw, 0)
        child_units = [(li, c * per) for c in children]
        if [k for k in kinks if k not in child_units]:
            continue
        slopes = {child_units[0]: plus}          # child 1 pushed to z > 0, the others to z < 0
        for cu in child_units[1:]:
            slopes[cu] = minus
        h = [e.to_sympy() for e in dst.jacobian(trw, [0], [slopes]).elements()]
        proj = emb.forward(emb.pullback(h))
        gap = sympy.expand(sum((a - b) ** 2 for a, b in zip(h, proj)))
        if gap == 0:
            continue
        return {"theta": _fmt_list(theta), "x": _fmt_list(x), "unit": src.unit_label(li, u * per),
                "children": [dst.unit_label(*cu) for cu in child_units],
                "slopes": {dst.unit_label(*cu): format_number(g) for cu, g in slopes.items()},
                "distance_to_range_T_squared": format_number(gap), "tier": "exact",
                "statement": "h̃ (children on the two sides of the kink) is a limit of gradients of Φ̃ near Tθ, "
                             "so a Clarke element of Φ̃ at Tθ, but ‖h̃ − TTᵀh̃‖² > 0, so h̃ ∉ range T ⊇ T∂°Φ(θ; x)"}
    return None


def _offsets(net):
    out, pos = [], 0
    for sh in net.param_shapes:
        out.append(pos)
        pos += int(np.prod(sh["weight"])) + (sh["bias"][0] if sh.get("bias") else 0)
    return out
