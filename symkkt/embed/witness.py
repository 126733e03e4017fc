"""Exact witnesses that refute a property of a map T at concrete (θ, x).

Searching is done at random exact rational points (a fixed seed, so results repeat); deciding is
exact (rational or algebraic arithmetic) or, for tanh, by arb balls that must be disjoint.

Gradients are compared only where both networks are differentiable in θ. A unit whose
pre-activation is exactly 0 does not spoil differentiability when it never reaches the output
(:func:`~symkkt.embed.prove.dead_units`) or when all its outgoing weights are exactly 0: its term
a·σ(z) in the next layer is o(‖Δθ‖), so every choice of its slope gives the same, true gradient.
Such units are *ignorable*; every other unit must be off its kink.
"""

from __future__ import annotations

import random

import numpy as np
import sympy

from ..field import NumberField, as_sympy
from ..numbers import format_number
from ..tensor import BallDomain, ExactDomain
from .prove import dead_units

TRIES = 12
BALL_DPS = 60


def _rational(rng):
    return sympy.Rational(rng.randint(-6, 6), rng.randint(1, 4))


def random_point(net, rng):
    """Random exact rational θ (no zero entries) and x."""
    theta = []
    for _ in range(net.num_parameters):
        v = _rational(rng)
        theta.append(v if v != 0 else sympy.Rational(1, 2))
    return theta, _random_input(net, rng)


def _random_input(net, rng):
    return [_rational(rng) for _ in range(int(np.prod(net.arch.input)))]


def _exact_domain(emb, theta, x):
    numbers = list(theta) + list(x) + emb.numbers() + emb.source.constants()
    return ExactDomain.for_numbers(numbers)


def _has_tanh(net):
    return any(r.kind == "tanh" for r in net.rules.values())


def _first_tanh(net):
    """Index of the first layer with tanh (its pre-activation is still exact), or None."""
    return next((i for i in sorted(net.rules) if net.rules[i].kind == "tanh"), None)


def _fmt_list(values):
    return [format_number(sympy.nsimplify(v) if isinstance(v, sympy.Float) else v) for v in values]


# -- where the networks are differentiable ---------------------------------------------------
def silent_units(net, params):
    """Units (layer index, flat unit) whose outgoing weights are all exactly 0 at ``params``."""
    layers = net.unflatten(list(params))
    arch = net.arch
    out = set()
    for w, li in enumerate(arch.weight_layers[:-1], start=1):
        layer, nxt = arch.layers[li], arch.layers[arch.weight_layers[w]]
        n = layer.width if layer.kind == "dense" else layer.channels
        W = np.array(layers[w]["weight"], dtype=object)
        per = int(np.prod(arch.shapes[li][1:])) if layer.kind == "conv" else 1
        block = 1 if nxt.kind == "conv" else W.shape[1] // n
        for c in range(n):
            cols = W[:, c] if nxt.kind == "conv" else W[:, c * block:(c + 1) * block]
            if all(sympy.expand(as_sympy(v)) == 0 for v in np.ravel(cols)):
                out.update((li, c * per + pos) for pos in range(per))
    return out


def dead(net):
    """Units (layer index, flat unit) that never reach the output (:func:`~symkkt.embed.prove.dead_units`)."""
    return {(li, u) for li, units in dead_units(net.arch).items() for u in units}


def ignorable(net, params):
    """Units whose kinks do not spoil differentiability in θ at ``params``: dead or silent."""
    return dead(net) | silent_units(net, params)


def real_kinks(net, trace, params, column=0):
    """Kink units of data point ``column`` that are not ignorable (empty: Φ is differentiable in θ)."""
    skip = ignorable(net, params)
    return [k for k in net.kinks(trace, column) if k not in skip]


# -- traces: exact, or exact up to the first tanh layer and arb balls after it ----------------
class _ExactPrefix(ExactDomain):
    """Exact arithmetic that gives 0 for tanh: values up to the first tanh layer are exact (its
    pre-activation included), everything after it is meaningless and never used."""

    def tanh(self, a):
        return a * 0


class _PinnedBalls(BallDomain):
    """Arb balls whose first sign decisions are the exact signs of the layers before the first
    tanh layer (where the balls may straddle an exact 0); later signs must be decided by balls."""

    def __init__(self, dps, signs):
        super().__init__(dps)
        self._pinned = list(signs)

    def sign(self, a):
        if self._pinned:
            S = self._pinned.pop(0)
            if S.shape != a.shape:  # pragma: no cover - the forward pass calls sign layer by layer
                raise RuntimeError("pinned signs do not match the layer")
            return S
        return super().sign(a)


def _trace(net, params, X, field):
    """Forward pass at ``params`` on the rows of ``X``: exact (tier ``exact``), or with tanh exact up to
    the first tanh layer and arb balls after it (tier ``rigorous enclosure``).

    Returns ``(trace, prefix)`` where ``prefix`` is the exact trace (values valid up to the first
    tanh layer), or ``(None, prefix)`` when a sign after a tanh layer is not decided by the balls.
    """
    X = [list(x) for x in X]
    first = _first_tanh(net)
    if first is None:
        tr = net.forward(ExactDomain(field), params, X)
        return tr, tr
    prefix = net.forward(_ExactPrefix(field), params, X)
    pinned = [prefix.signs[i] for i in sorted(prefix.signs) if i < first and prefix.signs[i] is not None]
    try:
        return net.forward(_PinnedBalls(BALL_DPS, pinned), params, X), prefix
    except ArithmeticError:
        return None, prefix


def _field(emb, *numbers):
    return NumberField.of(list(emb.numbers()) + list(emb.source.constants()) + [v for ns in numbers for v in ns])


# -- output --------------------------------------------------------------------------------
def output_witness(emb, tries=TRIES, seed=0):
    """θ, x with Φ̃(Tθ; x) ≠ Φ(θ; x), decided exactly (or by disjoint balls for tanh); None if none found."""
    rng = random.Random(seed)
    for _ in range(tries):
        theta, x = random_point(emb.source, rng)
        eta = emb.forward(theta)
        if _has_tanh(emb.source):
            dom = BallDomain(BALL_DPS)
            try:
                with dom.context():
                    a = emb.source.forward(dom, theta, [x]).output[0]
                    b = emb.target.forward(dom, eta, [x]).output[0]
                    diff = b - a
                    if diff > 0 or diff < 0:
                        return {"theta": _fmt_list(theta), "x": _fmt_list(x), "narrow": str(a), "wide": str(b),
                                "tier": dom.tier}
            except ArithmeticError:      # a ReLU sign the balls do not decide: try another point
                pass
            continue
        dom = _exact_domain(emb, theta, x)
        a = emb.source.forward(dom, theta, [x]).output.elements()[0]
        b = emb.target.forward(dom, eta, [x]).output.elements()[0]
        if a != b:
            return {"theta": _fmt_list(theta), "x": _fmt_list(x), "narrow": format_number(a.to_sympy()),
                    "wide": format_number(b.to_sympy()), "tier": "exact"}
    return None


# -- gradients -----------------------------------------------------------------------------
def gradient_witness(emb, S=None, tries=TRIES, seed=1):
    """θ, x where both networks are differentiable and ∇Φ̃(Tθ; x) ≠ T ∇Φ(θ; x); None if none found.

    Exact, or with tanh by disjoint balls. With ``S`` (a list of (source index, coefficient) rows)
    the comparison is against S ∇Φ.
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
        eta = emb.forward(theta)
        tr_n = emb.source.forward(dom, theta, [x])
        tr_w = emb.target.forward(dom, eta, [x])
        if real_kinks(emb.source, tr_n, theta) or real_kinks(emb.target, tr_w, eta):
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
    dom = BallDomain(BALL_DPS)
    eta = emb.forward(theta)
    try:
        with dom.context():
            tn = emb.source.forward(dom, theta, [x])
            tw = emb.target.forward(dom, eta, [x])
    except ArithmeticError:          # a ReLU sign the balls do not decide
        return None
    if real_kinks(emb.source, tn, theta) or real_kinks(emb.target, tw, eta):
        return None
    with dom.context():
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


CRITICALITY_STATEMENT = (
    "Σ_j λ_j ∇Φ(θ_j; x_j) = 0 exactly, but Σ_j λ_j ∇Φ̃(Tθ_j; x_j) ≠ 0 (both networks differentiable at "
    "every point): a linear S with ∇Φ̃(Tθ; x) = S∇Φ(θ; x) would give Σ_j λ_j ∇Φ̃(Tθ_j; x_j) = "
    "S·Σ_j λ_j ∇Φ(θ_j; x_j) = 0, so no fixed linear S exists")


def criticality_witness(emb, seed=3, batch=3, patience=8, extra=12):
    """Points (θ_j, x_j) and exact λ_j refuting "∇Φ̃(Tθ; x) = S∇Φ(θ; x) for a fixed linear S".

    The narrow gradients g_j = ∇Φ(θ_j; x_j) and wide gradients G_j = ∇Φ̃(Tθ_j; x_j) are taken at
    random exact points where both networks are differentiable, and reduced together by exact
    Gaussian elimination on the g's. A g_j that reduces to 0 gives a linear dependence
    Σ λ_j g_j = 0; if the same combination of the G's is not 0, no linear S maps every g_j to
    G_j (see :data:`CRITICALITY_STATEMENT`). The search stops after ``patience`` dependences that
    the G's also satisfy, or m + ``extra`` points. Returns the witness or None (also for tanh,
    whose gradients are not exact).
    """
    src, dst = emb.source, emb.target
    if _has_tanh(src):
        return None
    K = _field(emb)
    zero = K.element(0)
    rng = random.Random(seed)
    points, raw, basis = [], [], []           # basis: (pivot, g, G, λ as {point: coefficient})
    stale = 0
    while len(points) < src.num_parameters + extra and stale < patience:
        theta, _ = random_point(src, rng)
        X = [_random_input(src, rng) for _ in range(batch)]
        eta = emb.forward(theta)
        dom = ExactDomain(K)
        tn, tw = src.forward(dom, theta, X), dst.forward(dom, eta, X)
        for j, x in enumerate(X):
            if real_kinks(src, tn, theta, j) or real_kinks(dst, tw, eta, j):
                continue
            g = src.jacobian(tn, [j]).elements()
            G = dst.jacobian(tw, [j]).elements()
            points.append((theta, x))
            raw.append((g, G))
            lam = {len(points) - 1: K.element(1)}
            for piv, bg, bG, blam in basis:
                f = g[piv]
                if f.is_zero():
                    continue
                g = [a - f * b for a, b in zip(g, bg)]
                G = [a - f * b for a, b in zip(G, bG)]
                for k, v in blam.items():
                    lam[k] = lam.get(k, zero) - f * v
            piv = next((i for i, v in enumerate(g) if not v.is_zero()), None)
            if piv is not None:
                inv = g[piv].inverse()
                basis.append((piv, [v * inv for v in g], [v * inv for v in G],
                              {k: v * inv for k, v in lam.items()}))
                continue
            r = next((i for i, v in enumerate(G) if not v.is_zero()), None)
            if r is None:
                stale += 1
                continue
            return _criticality_payload(emb, points, raw, lam, r, zero)
    return None


def _criticality_payload(emb, points, raw, lam, r, zero):
    """The witness, with the two combinations recomputed from the stored gradients."""
    lam = {k: v for k, v in lam.items() if not v.is_zero()}
    narrow = [sum((v * raw[k][0][i] for k, v in lam.items()), zero) for i in range(len(raw[0][0]))]
    wide = sum((v * raw[k][1][r] for k, v in lam.items()), zero)
    if any(not v.is_zero() for v in narrow) or wide.is_zero():  # pragma: no cover - bookkeeping check
        return None
    return {"points": [{"theta": _fmt_list(points[k][0]), "x": _fmt_list(points[k][1]),
                        "lambda": format_number(v.to_sympy())} for k, v in sorted(lam.items())],
            "parameter": emb.target.parameter_names[r],
            "wide_combination": format_number(wide.to_sympy()),
            "narrow_combination": "0", "tier": "exact", "statement": CRITICALITY_STATEMENT}


# -- kinks ---------------------------------------------------------------------------------
KINK_STATEMENT = ("h̃ (the chosen children on the two sides of the kink) is a limit of gradients of Φ̃ at "
                  "Tθ + εd (ε → 0+), so a Clarke element of Φ̃ at Tθ, but h̃ − T(TᵀT)⁻¹Tᵀh̃ ≠ 0, so "
                  "h̃ ∉ range T ⊇ T∂°Φ(θ; x)")


def kink_candidates(emb):
    """Split units whose activation has a kink: (weight layer, layer index, source unit, children),
    children being the target units with a non-zero incoming multiplier (at least two)."""
    out = []
    for w, rows in sorted(emb.units.items()):
        li = emb.source.arch.weight_layers[w - 1]
        if not emb.source.rules[li].has_kink:
            continue
        children = {}
        for c, (p, a, _b) in enumerate(rows):
            if a != 0:
                children.setdefault(p, []).append(c)
        out += [(w, li, p, cs) for p, cs in sorted(children.items()) if len(cs) >= 2]
    return out


def kink_equality(emb, tries=TRIES, seed=2):
    """Decide whether the equality ∂°Φ̃(Tθ; x) = T∂°Φ(θ; x) at kinks fails, with a witness.

    Returns a dict ``{"verdict", "claim", "witness" or "reason"}``: ``refuted`` with the witness of
    :func:`kink_witness`, ``not applicable`` when no split unit of a kink activation has two
    children with non-zero coefficients, ``inconclusive`` with the reason otherwise.
    """
    claim = "∂°Φ̃(Tθ; x) = T∂°Φ(θ; x) at kinks ([A])"
    cands = kink_candidates(emb)
    if not cands:
        return {"verdict": "not applicable", "claim": claim,
                "reason": "no split unit with a kink activation has two children with non-zero coefficients "
                          "(a zero-coefficient child has zero weights and adds no Clarke element)"}
    reasons = []
    per_unit = max(2, 2 * tries // len(cands))      # about 2·tries points in all
    for cand in cands:
        found, why = _kink_search(emb, cand, min(tries, per_unit), seed)
        if found is not None:
            return {"verdict": "refuted", "claim": claim, "witness": found}
        reasons.append(why)
    return {"verdict": "inconclusive", "claim": claim, "reason": "; ".join(reasons)}


def kink_witness(emb, tries=TRIES, seed=2):
    """A point where a split unit sits on a kink and T∂°Φ(θ; x) ≠ ∂°Φ̃(Tθ; x), or None.

    The unit's incoming weights are projected so that its pre-activation at the first position
    is exactly 0; every other unit of both networks must be off its kink or ignorable, and the
    split unit may sit on its kink at several positions P. With d a direction of the children's
    incoming weights (and bias) with d·(ṽ_p, 1) > 0 for every p in P (ṽ_p the children's input
    patch), moving one child by +εd and the other children by −εd puts that child's
    pre-activations at P above 0 and the others' below, while no other unit changes sign for small
    ε; the gradients there converge to h̃, the chain-rule element with slope σ'(0⁺) for that
    child and σ'(0⁻) for the others at P, so h̃ ∈ ∂°Φ̃(Tθ; x). The witness shows h̃ ∉ range T,
    exactly (or, when tanh layers follow, by arb balls of the residual excluding 0).
    """
    found = kink_equality(emb, tries, seed)
    return found.get("witness")


def _kink_search(emb, cand, tries, seed):
    w, li, u, children = cand
    src, dst = emb.source, emb.target
    label = src.unit_label(li, u * _per(src, li))
    first = _first_tanh(src)
    if first is not None and first < li:
        return None, (f"unit {label} follows a tanh layer: its pre-activation cannot be put exactly on the "
                      "kink at a rational point")
    rng = random.Random(seed)
    for _ in range(tries):
        theta, x = random_point(src, rng)
        theta = _project_on_kink(emb, cand, theta, x)
        if theta is None:
            continue
        found = _kink_at(emb, cand, theta, x)
        if found is not None:
            return found, ""
    return None, (f"unit {label}: no witness at {tries} random points (needs the unit alone on its kink, a "
                  "direction pushing its children apart, and h̃ outside range T)")


def _per(net, li):
    layer = net.arch.layers[li]
    return int(np.prod(net.arch.shapes[li][1:])) if layer.kind == "conv" else 1


def _patch(layer, inp, pos, out_spatial):
    """The input patch (flat, in weight order) of output position ``pos`` of a weight layer."""
    if layer.kind == "dense":
        return inp.reshape(-1)
    idx = np.unravel_index(pos, out_spatial)
    sl = (slice(None),) + tuple(slice(int(i) * s, int(i) * s + k) for i, s, k in zip(idx, layer.stride, layer.kernel))
    return inp[sl].reshape(-1)


def _bias_index(net, w, u):
    offs = _offsets(net)
    sh = net.param_shapes[w - 1]
    return offs[w - 1] + int(np.prod(sh["weight"])) + u if sh.get("bias") else None


def _project_on_kink(emb, cand, theta, x):
    """θ with the unit's incoming weights moved so that its pre-activation at position 0 is exactly 0."""
    w, li, u, _ = cand
    src = emb.source
    _, prefix = _trace(src, theta, [x], _field(emb, theta, x))
    layer = src.arch.layers[li]
    v = [e.to_sympy() for e in _patch(layer, prefix.inputs[li][..., 0], 0, src.arch.shapes[li][1:]).elements()]
    vv = sum(t * t for t in v)
    if vv == 0:
        return None
    start, n_in = _offsets(src)[w - 1], len(v)
    row = theta[start + u * n_in: start + (u + 1) * n_in]
    z = sum(a * b for a, b in zip(row, v))
    b = _bias_index(src, w, u)
    if b is not None:
        z += theta[b]
    theta = list(theta)
    for j in range(n_in):
        theta[start + u * n_in + j] = row[j] - z / vv * v[j]
    return theta


def _kink_at(emb, cand, theta, x):
    """The witness at this projected θ, or None."""
    w, li, u, children = cand
    src, dst = emb.source, emb.target
    per = _per(src, li)
    K = _field(emb, theta, x)
    eta = emb.forward(theta)
    tr, _ = _trace(src, theta, [x], K)
    trw, prefix_w = _trace(dst, eta, [x], K)
    if tr is None or trw is None:
        return None
    kinks = real_kinks(src, tr, theta)
    P = sorted(k[1] - u * per for k in kinks)
    if not kinks or any(k[0] != li or not 0 <= k[1] - u * per < per for k in kinks):
        return None
    child_units = [(li, c * per + p) for c in children for p in P]
    if set(real_kinks(dst, trw, eta)) - set(child_units) or any(
            cu not in set(dst.kinks(trw, 0)) for cu in child_units):
        return None
    d = _push_direction(emb, cand, prefix_w, P)
    if d is None:
        return None
    rule = src.rules[li]
    for up in children:              # one child above the kink, the others below
        slopes = {(li, c * per + p): (rule.plus if c == up else rule.minus) for c in children for p in P}
        found = _outside_range(emb, trw, slopes)
        if found is not None:
            return {"theta": _fmt_list(theta), "x": _fmt_list(x), "unit": src.unit_label(li, u * per + P[0]),
                    "kink_positions": [src.unit_label(li, u * per + p) for p in P],
                    "children": [dst.unit_label(li, c * per + P[0]) for c in children],
                    "pushed_up": dst.unit_label(li, up * per + P[0]),
                    "slopes": {dst.unit_label(*cu): format_number(g) for cu, g in slopes.items()},
                    "direction": d, **found, "statement": KINK_STATEMENT}
    return None


def _push_direction(emb, cand, prefix_w, P):
    """A direction d of one child's incoming weights (and bias) with d·(ṽ_p, 1) > 0 for all p in P."""
    w, li, u, children = cand
    dst = emb.target
    layer = dst.arch.layers[li]
    inp = prefix_w.inputs[li][..., 0]
    patches = [[e.to_sympy() for e in _patch(layer, inp, p, dst.arch.shapes[li][1:]).elements()] for p in P]
    has_bias = dst.param_shapes[w - 1].get("bias") is not None
    options = [(patches[0], 0), ([sum(c) for c in zip(*patches)], 0)]
    if has_bias:
        options.append(([0] * len(patches[0]), 1))
    for dw, db in options:
        if all(sum(a * b for a, b in zip(dw, v)) + db > 0 for v in patches):
            return {"weights": _fmt_list(dw), "bias": format_number(sympy.Integer(db))} if has_bias \
                else {"weights": _fmt_list(dw)}
    return None


def _outside_range(emb, trw, slopes):
    """The residual h̃ − T(TᵀT)⁻¹Tᵀh̃ of the chain-rule element with ``slopes``: exact, or arb balls."""
    dst = emb.target
    dom = trw.domain
    with dom.context():
        J = dst.jacobian(trw, [0], [slopes])
    norms = emb.column_norms()
    if isinstance(dom, ExactDomain):
        h = [e.to_sympy() for e in J.elements()]
        theta = [v / n if n != 0 else 0 for v, n in zip(emb.pullback(h), norms)]
        back = emb.forward(theta)
        res = [sympy.expand(a - b) for a, b in zip(h, back)]
        gap = sympy.expand(sum(r * r for r in res))
        if gap == 0:
            return None
        r = next(i for i, v in enumerate(res) if v != 0)
        return {"distance_to_range_T_squared": format_number(gap), "parameter": dst.parameter_names[r],
                "residual": format_number(res[r]), "tier": "exact"}
    with dom.context():
        h = J.ravel()
        coef = [dom.scalar(c)[()] for c in emb.coef]
        pulled = [dom.scalar(0)[()] for _ in norms]
        for c, i, e in zip(coef, emb.index, h):
            if i >= 0:
                pulled[i] = pulled[i] + c * e
        theta = [p / dom.scalar(n)[()] if n != 0 else dom.scalar(0)[()] for p, n in zip(pulled, norms)]
        for r, (c, i, e) in enumerate(zip(coef, emb.index, h)):
            res = e - (c * theta[i] if i >= 0 else dom.scalar(0)[()])
            if res > 0 or res < 0:
                return {"parameter": dst.parameter_names[r], "residual": str(res), "tier": dom.tier}
    return None


def _offsets(net):
    out, pos = [], 0
    for sh in net.param_shapes:
        out.append(pos)
        pos += int(np.prod(sh["weight"])) + (sh["bias"][0] if sh.get("bias") else 0)
    return out
