"""Clarke-KKT at kinks: realizable vertex patterns, Gordan exclusions, and their certificates.

Every element the decision uses is re-derived here by a different method: a small reference
evaluator of the network over Python fractions (:func:`forward`), gradients of polynomial pieces
by exact central differences (each parameter enters a piece with degree 1), and limiting gradients
lim_{t→0+} ∇Φ(θ + t·d) from exact gradients at small rational t, interpolated to t = 0.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import random
from fractions import Fraction as F
from math import prod

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st

from symkkt.api import load_example
from symkkt.certificate import digest
from symkkt.embed.maps import chain, parse_step
from symkkt.kernel import check_certificate
from symkkt.kernel.claims import statement
from symkkt import limits
from symkkt.kkt import MaxMarginProblem
from symkkt.numbers import parse_number
from symkkt.spec import architecture_from_json, data_from_json


# ----------------------------------------------------------------------- reference evaluator
def _slopes(act):
    """(right slope, left slope) of an activation in input-file form."""
    if act in (None, "linear"):
        return F(1), F(1)
    if act == "relu":
        return F(1), F(0)
    (kind, body), = act.items()
    assert kind == "leaky_relu"
    return F(1), F(sympy.Rational(body["slope"]).p, sympy.Rational(body["slope"]).q)


def _weight_layers(arch):
    return [body for layer in arch["layers"] if isinstance(layer, dict)
            for kind, body in layer.items() if kind in ("dense", "conv")]


def _int(v):
    return v[0] if isinstance(v, list) else v


def forward(arch, theta, x, forced=None):
    """Φ(θ; x) and the pre-activations ``{(weight layer, flat unit): z}`` (C-order, channel-major).

    ``forced`` maps units to a slope g: σ is replaced by z ↦ g·z there.
    """
    forced = forced or {}
    shape, h, pos, w, pre = list(arch["input"]), [F(v) for v in x], 0, 0, {}
    for layer in arch["layers"]:
        (kind, body), = ({"flatten": {}} if layer == "flatten" else layer).items()
        if kind == "flatten":
            shape = [prod(shape)]
            continue
        if kind == "avgpool":
            k, (C, L) = _int(body["kernel"]), shape
            h = [sum(h[c * L + p * k + j] for j in range(k)) / k for c in range(C) for p in range(L // k)]
            shape = [C, L // k]
            continue
        w += 1
        if kind == "dense":
            n, width = len(h), body["width"]
            W = theta[pos:pos + width * n]
            pos += width * n
            z = [sum(W[o * n + i] * h[i] for i in range(n)) for o in range(width)]
            channel, nb, out = list(range(width)), width, [width]
        else:
            cout, (C, L), k, s = body["channels"], shape, _int(body["kernel"]), _int(body.get("stride", 1))
            Lo = (L - k) // s + 1
            W = theta[pos:pos + cout * C * k]
            pos += cout * C * k
            z = [sum(W[(o * C + c) * k + j] * h[c * L + p * s + j] for c in range(C) for j in range(k))
                 for o in range(cout) for p in range(Lo)]
            channel, nb, out = [o for o in range(cout) for _ in range(Lo)], cout, [cout, Lo]
        if body.get("bias"):
            b = theta[pos:pos + nb]
            pos += nb
            z = [zi + b[channel[i]] for i, zi in enumerate(z)]
        plus, minus = _slopes(body.get("activation"))
        h = []
        for u, zu in enumerate(z):
            pre[(w, u)] = zu
            g = forced.get((w, u))
            h.append((g if g is not None else plus if zu > 0 else minus) * zu)
        shape = out
    assert pos == len(theta)
    return h[0], pre


def piece_gradient(arch, theta, x, kink_slopes):
    """∇ at θ of the polynomial piece with every unit linear: slope by the sign of z at θ, and
    ``kink_slopes[unit]`` where z = 0. Exact central differences (degree 1 in each parameter)."""
    slopes = [_slopes(body.get("activation")) for body in _weight_layers(arch)]
    _, pre = forward(arch, theta, x)
    forced = {u: (F(kink_slopes[u]) if z == 0 and len(set(slopes[u[0] - 1])) == 2
                  else slopes[u[0] - 1][0 if z >= 0 else 1]) for u, z in pre.items()}
    grad = []
    for i in range(len(theta)):
        up, dn = list(theta), list(theta)
        up[i] += 1
        dn[i] -= 1
        grad.append((forward(arch, up, x, forced)[0] - forward(arch, dn, x, forced)[0]) / 2)
    return grad


def limiting_gradient(arch, theta, x, d, signs, degree):
    """lim_{t→0+} ∇Φ(θ + t·d; x), or None if no small t shows the claimed signs.

    At t = j·t0 (j = 1..degree) every pre-activation must be non-zero, the kink units of θ must
    have the signs ``signs`` and the other units their signs at θ; Φ is then the polynomial
    piece of that pattern around θ + t·d, whose gradient is a polynomial of degree < L in t:
    Lagrange interpolation gives its value at t = 0. Free units (:func:`free_units`, z ≡ 0 for
    every θ) are the exception: their z stays 0, their sign in ``signs`` is ignored, and the
    gradient of the piece must be the same for both of their slopes (Φ equals that polynomial
    near θ + t·d whatever σ does at 0 there).
    """
    slopes = [_slopes(body.get("activation")) for body in _weight_layers(arch)]
    _, pre0 = forward(arch, theta, x)
    free = free_units(arch, theta, x)
    expected = {u: (signs[u] if z == 0 else (1 if z > 0 else -1))
                for u, z in pre0.items() if len(set(slopes[u[0] - 1])) == 2 and u not in free}
    for k in range(1, 60):
        ts = [F(j, 2 ** k) for j in range(1, degree + 1)]
        grads = []
        for t in ts:
            th = [a + t * b for a, b in zip(theta, d)]
            _, pre = forward(arch, th, x)
            if any(pre[u] == 0 or (pre[u] > 0) != (s > 0) for u, s in expected.items()):
                break
            assert all(pre[u] == 0 for u in free)
            ends = {piece_gradient_tuple(arch, th, x, dict(zip(free, g)))
                    for g in (itertools.product(*[slopes[u[0] - 1] for u in free]) if not grads
                              else [[slopes[u[0] - 1][0] for u in free]])}
            assert len(ends) == 1, "the slope of a free unit changed the gradient"
            grads.append(list(ends.pop()))
        else:
            return [sum(g[i] * _lagrange_at_zero(ts, j) for j, g in enumerate(grads)) for i in range(len(theta))]
    return None


def _lagrange_at_zero(ts, j):
    out = F(1)
    for i, t in enumerate(ts):
        if i != j:
            out *= -t / (ts[j] - t)
    return out


def first_layer_gradient(arch, theta, x, unit):
    """∇_θ z_u of a first-layer unit (z_u is affine in θ: forward differences are exact)."""
    z0 = forward(arch, theta, x)[1][unit]
    out = []
    for i in range(len(theta)):
        up = list(theta)
        up[i] += 1
        out.append(forward(arch, up, x)[1][unit] - z0)
    return out


_FREE = {}


def free_units(arch, theta, x):
    """First-layer kink units with ∇_θ z_u = 0: z_u is affine in θ, so z_u ≡ 0 on all of R^m."""
    key = (repr(arch), tuple(theta), tuple(x))
    if key not in _FREE:
        _FREE[key] = [u for u in kinks_of(arch, theta, x)
                      if u[0] == 1 and all(v == 0 for v in first_layer_gradient(arch, theta, x, u))]
    return _FREE[key]


def piece_gradient_tuple(arch, theta, x, kink_slopes):
    return tuple(piece_gradient(arch, theta, x, kink_slopes))


def degree(arch):
    return len(_weight_layers(arch))


def q(v):
    """A sympy number, Fraction or grammar string as a Fraction (rational instances only)."""
    if isinstance(v, F):
        return v
    v = sympy.Rational(parse_number(v) if isinstance(v, str) else v)
    return F(int(v.p), int(v.q))


def unit_of(label):
    w, u = label.split(":")
    return int(w), int(u)


def problem_of(arch, points):
    a = architecture_from_json(arch, "<test>")
    data = data_from_json({"points": [{"x": [str(v) for v in x], "y": y} for x, y in points]}, "<test>", a)
    return MaxMarginProblem(a, data)


def exact(theta):
    return [sympy.Rational(t.numerator, t.denominator) for t in theta]


# ---------------------------------------------------------------------- independent checks
def kinks_of(arch, theta, x):
    """Units with z = 0 whose activation has two different slopes."""
    slopes = [_slopes(body.get("activation")) for body in _weight_layers(arch)]
    return sorted(u for u, z in forward(arch, theta, x)[1].items() if z == 0 and len(set(slopes[u[0] - 1])) == 2)


def check_term_is_a_limiting_gradient(arch, theta, x, slopes, direction):
    """The term's pattern is realized by its direction and its element is the limit of gradients."""
    plus_minus = [_slopes(body.get("activation")) for body in _weight_layers(arch)]
    signs = {u: (1 if g == plus_minus[u[0] - 1][0] else -1) for u, g in slopes.items()}
    for u, g in slopes.items():
        assert g in plus_minus[u[0] - 1], "a Clarke term must be a vertex pattern"
    lim = limiting_gradient(arch, theta, x, direction, signs, degree(arch))
    assert lim is not None, f"direction does not realize {slopes}"
    assert lim == piece_gradient(arch, theta, x, slopes)
    return lim


def check_holds(arch, theta, points, res):
    """θ = Σ_k y_k Σ_terms w·h_k(g) with λ ≥ 0 on the active set, elements re-derived here."""
    lam = [q(m) for m in res.multipliers]
    assert len(lam) == len(points)
    assert all(v >= 0 for v in lam)
    assert all(lam[k] == 0 for k in range(len(points)) if k not in res.active)
    total = [F(0)] * len(theta)
    entries = {e["point"]: e["terms"] for e in res.clarke_terms}
    for k, (x, y) in enumerate(points):
        if lam[k] == 0:
            assert k not in entries
            continue
        kinks = kinks_of(arch, theta, x)
        if not kinks:
            terms = [(lam[k], {}, None)]
        else:
            terms = [(q(t["weight"]), {unit_of(u): q(g) for u, g in t["slopes"].items()}, t.get("direction"))
                     for t in entries[k]]
            assert sum(w for w, _, _ in terms) == lam[k]
            assert all(set(g) == set(kinks) for _, g, _ in terms)
        for w, g, d in terms:
            assert w >= 0
            if res.clarke_set == "clarke" and kinks:
                h = check_term_is_a_limiting_gradient(arch, theta, x, g, [q(v) for v in d])
            else:
                h = piece_gradient(arch, theta, x, g)
            total = [t + w * y * v for t, v in zip(total, h)]
    assert total == list(theta)


def check_gordan(arch, theta, x, signs, nu):
    """ν ≥ 0, ν ≠ 0, Σ ν_u σ_u ∇z_u = 0 over first-layer units with ∇z_u ≠ 0 (units as (w, u))."""
    assert set(signs) == set(nu) and all(u[0] == 1 for u in signs)
    assert all(v >= 0 for v in nu.values()) and any(v > 0 for v in nu.values())
    grads = {u: first_layer_gradient(arch, theta, x, u) for u in signs}
    assert all(any(c != 0 for c in g) for g in grads.values()), "a Gordan unit needs ∇z ≠ 0"
    assert all(sum(nu[u] * signs[u] * grads[u][i] for u in signs) == 0 for i in range(len(theta)))


def check_refuted(arch, theta, points, res):
    """The witness refutes: a margin, or a Farkas vector separating θ from every vertex column
    of every active point that no (checked) Gordan vector excludes."""
    w = res.witness
    if w["reason"] != "stationarity":
        x, y = points[w["point"]]
        margin = y * forward(arch, theta, x)[0]
        assert margin <= 0 if w["reason"] == "nonpositive_margin" else margin < 1
        return
    yv = [q(v) for v in w["farkas"]]
    assert sum(a * b for a, b in zip(yv, theta)) < 0
    excluded = w.get("excluded", [])
    if res.clarke_set != "clarke":
        assert not excluded
    for e in excluded:
        check_gordan(arch, theta, points[e["point"]][0], {unit_of(u): s for u, s in e["signs"].items()},
                     {unit_of(u): q(v) for u, v in e["gordan"].items()})
    slopes = [_slopes(body.get("activation")) for body in _weight_layers(arch)]
    for k in res.active:
        x, y = points[k]
        kinks = kinks_of(arch, theta, x)
        for signs in itertools.product((1, -1), repeat=len(kinks)):
            pattern = dict(zip(kinks, signs))
            if any(e["point"] == k and all(pattern[unit_of(u)] == s for u, s in e["signs"].items())
                   for e in excluded):
                continue
            g = {u: slopes[u[0] - 1][0 if s > 0 else 1] for u, s in pattern.items()}
            h = piece_gradient(arch, theta, x, g)
            assert y * sum(a * b for a, b in zip(yv, h)) >= 0


def ref_units(problem, units):
    """``{(layer_index, unit): v}`` of the network code as ``{(weight layer, unit): v}``."""
    return {(problem.network.weight_index(li), u): v for (li, u), v in units.items()}


def check_patterns(arch, theta, x, problem, pp):
    """Every realizable pattern of a point is a limiting gradient, every exclusion a Gordan vector."""
    for slopes, d in pp.realizable:
        check_term_is_a_limiting_gradient(arch, theta, x, {u: q(g) for u, g in ref_units(problem, slopes).items()},
                                          [q(v.to_sympy()) for v in d])
    for e in pp.excluded:
        check_gordan(arch, theta, x, ref_units(problem, e["signs"]),
                     {u: q(v.to_sympy()) for u, v in ref_units(problem, e["gordan"]).items()})


def _flat(v):
    return [leaf for item in v for leaf in _flat(item)] if isinstance(v, list) else [v]


def check_certificate_content(cert):
    """Re-decide a KKT certificate's claim from its own architecture, data and parameters, with the
    reference evaluator (a second reader of the format, beside the kernel)."""
    num = lambda v: q(str(v))   # noqa: E731
    arch = cert["architecture"]
    points = [([num(v) for v in _flat(p["x"])], int(num(p["y"]))) for p in cert["data"]["points"]]
    theta = [num(v) for layer in cert["parameters"] for key in ("weight", "bias") for v in _flat(layer.get(key, []))]
    claim, w = cert["claim"], cert["witness"]
    assert set(claim) <= {"kind", "clarke_set", "statement"}
    direction = claim["kind"].endswith("direction")
    margins = [y * forward(arch, theta, x)[0] for x, y in points]
    bound = min(margins) if direction else 1
    active = [k for k, m in enumerate(margins) if m == bound]
    kind = "kkt_direction" if direction else "kkt_point"

    class Result:
        pass
    res = Result()
    res.kind, res.clarke_set, res.active = kind, claim["clarke_set"], active
    if claim["kind"].startswith("not_"):
        assert set(w) <= {"reason", "farkas", "excluded", "point"}
        res.witness = w
        check_refuted(arch, theta, points, res)
        return
    assert set(w) <= {"multipliers", "clarke"}
    res.multipliers = w["multipliers"]
    res.clarke_terms = w.get("clarke", [])
    assert all(margins[k] >= bound for k in range(len(points)))
    if claim["clarke_set"] == "gradient":
        assert not res.clarke_terms
    for e in res.clarke_terms:
        for t in e["terms"]:
            assert ("direction" in t) == (claim["clarke_set"] == "clarke")
            assert len(t.get("direction", theta)) == len(theta)
    check_holds(arch, theta, points, res)


# ----------------------------------------------------------------------- the audit instance
TIED = {"input": [1, 3], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": "relu"}}, "flatten",
                                    {"dense": {"width": 1}}]}
TIED_POINTS = [([1, 1, 1], 1), ([F(1, 4), F(-3, 4), 0], 1), ([-1, F(1, 4), F(-3, 4)], -1)]
TIED_THETA = [F(1), F(-1), F(1, 2), F(1, 2), F(1), F(-1), F(1, 2), F(1, 2)]


def test_positions_seeing_the_same_patch_have_the_same_preactivation_everywhere():
    rnd = random.Random(0)
    for _ in range(20):
        theta = [F(rnd.randint(-9, 9), rnd.randint(1, 5)) for _ in TIED_THETA]
        _, pre = forward(TIED, theta, TIED_POINTS[0][0])
        assert pre[(1, 0)] == pre[(1, 1)] and pre[(1, 2)] == pre[(1, 3)]


def test_tied_conv_positions_refute_clarke_kkt_with_a_checked_farkas_vector():
    problem = problem_of(TIED, TIED_POINTS)
    res = problem.decide(exact(TIED_THETA))
    assert res.verdict == "refuted" and res.clarke_set == "clarke"
    assert res.kinks == {0: ["1:0", "1:1"]}
    assert res.tied == {0: [{"equal": ["1:0", "1:1"], "opposite": []}]}
    # the excluded patterns are exactly the untied ones, with the Gordan vector (1, 1)
    assert sorted(tuple(sorted(e["signs"].items())) for e in res.witness["excluded"]) == \
        [(("1:0", -1), ("1:1", 1)), (("1:0", 1), ("1:1", -1))]
    check_refuted(TIED, TIED_THETA, TIED_POINTS, res)
    # by hand: the realizable elements of point 0 are the one-sided gradients along ±e_{W1[0,0,0]}
    # (both positions move together); points 1 and 2 are smooth
    y = [q(v) for v in res.witness["farkas"]]
    assert sum(a * b for a, b in zip(y, TIED_THETA)) < 0
    d = [F(1)] + [F(0)] * 7
    for sign in (1, -1):
        lim = limiting_gradient(TIED, TIED_THETA, TIED_POINTS[0][0], [sign * v for v in d],
                                {(1, 0): sign, (1, 1): sign}, 2)
        assert sum(a * b for a, b in zip(y, lim)) >= 0
    for x, label in TIED_POINTS[1:]:
        grad = piece_gradient(TIED, TIED_THETA, x, {})
        assert label * sum(a * b for a, b in zip(y, grad)) >= 0
    # negative controls: the checks reject a flipped Farkas vector and a wrong Gordan vector
    flipped = copy.deepcopy(res)
    flipped.witness["farkas"] = [-v for v in flipped.witness["farkas"]]
    with pytest.raises(AssertionError):
        check_refuted(TIED, TIED_THETA, TIED_POINTS, flipped)
    with pytest.raises(AssertionError):
        check_gordan(TIED, TIED_THETA, TIED_POINTS[0][0], {(1, 0): 1, (1, 1): -1}, {(1, 0): F(1), (1, 1): F(2)})


def test_tied_instance_is_kkt_only_for_the_chain_rule_hull():
    problem = problem_of(TIED, TIED_POINTS)
    res = problem.decide(exact(TIED_THETA), clarke_set="chain_rule_hull")
    assert res.verdict == "holds" and res.clarke_set == "chain_rule_hull"
    assert "chain-rule hull" in res.reason and "not a proof for the Clarke" in res.reason
    assert res.multipliers == [F(1, 2), 1, 1]
    check_holds(TIED, TIED_THETA, TIED_POINTS, res)
    # the hull's element takes slopes 1 and 0 on the tied positions: not a limiting gradient
    (term,) = res.clarke[0]["terms"]
    assert term["slopes"] == {"1:0": 1, "1:1": 0}
    assert res.to_json()["clarke_set"] == "chain_rule_hull"


def test_tied_certificates_name_their_set_and_the_hull_cannot_pass_as_clarke():
    problem = problem_of(TIED, TIED_POINTS)
    refuted = problem.decide(exact(TIED_THETA)).certificate()
    assert refuted["claim"]["clarke_set"] == "clarke" and refuted["witness"]["excluded"]
    check_certificate_content(refuted)
    assert check_certificate(refuted).valid
    hull = problem.decide(exact(TIED_THETA), clarke_set="chain_rule_hull").certificate()
    assert hull["claim"]["kind"] == "kkt_point" and hull["claim"]["clarke_set"] == "chain_rule_hull"
    check_certificate_content(hull)
    assert check_certificate(hull).valid
    forged = copy.deepcopy(hull)
    forged["claim"]["clarke_set"] = "clarke"
    forged["claim"].pop("statement", None)
    forged["digest"] = digest(forged)
    assert not check_certificate(forged).valid
    # directions cannot help: any direction moves both positions of channel 0 alike
    for d in (["1"] + ["0"] * 7, ["-1"] + ["0"] * 7):
        forged["witness"]["clarke"][0]["terms"][0]["direction"] = d
        forged["digest"] = digest(forged)
        assert not check_certificate(forged).valid


# ----------------------------------------------------------------------- hand-derived holds
KINK = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}


def test_two_layer_kink_is_clarke_kkt_with_interior_slope():
    problem, theta = load_example("kink")
    theta_q = [q(t) for t in theta]
    points = [([q(v) for v in x], int(y)) for x, y in zip(problem.data.X, problem.data.y)]
    res = problem.decide(theta)
    assert res.verdict == "holds" and res.clarke_set == "clarke"
    assert res.multipliers == [1, F(1, 4)]
    # displayed merged: relu'(0) = 1/4 (by hand: w_2 = λ_0 a_2 g x_0 + λ_1 a_2 x_1 gives g = 1/4)
    assert res.clarke == [{"point": 0, "terms": [{"weight": 1, "slopes": {"1:1": F(1, 4)}}]}]
    # certified as vertex terms 1/4·(slope 1) + 3/4·(slope 0), each realized by a direction
    terms = {t["slopes"]["1:1"]: t["weight"] for t in res.clarke_terms[0]["terms"]}
    assert terms == {1: F(1, 4), 0: F(3, 4)}
    check_holds(KINK, theta_q, points, res)
    check_certificate_content(res.certificate())
    assert check_certificate(res.certificate()).valid


DEEP = {"input": [2], "layers": [{"dense": {"width": 2}}, {"dense": {"width": 2, "activation": "relu"}},
                                 {"dense": {"width": 1}}]}
DEEP_POINTS = [([0, 1], 1), ([1, F(-1, 2)], 1)]
DEEP_THETA = [F(1), F(0), F(0), F(1), F(0), F(1), F(1), F(0), F(1), F(1)]


def test_three_layer_kink_in_layer_two_by_hand():
    """Φ = a·relu(W U x), U = I, W = [[0, 1], [1, 0]], a = (1, 1): unit 2:1 sits on its kink at x_0.

    By hand: margins 1, 1; stationarity in a gives λ = (1, 1); in W's second row
    (1, 0) = λ_0 g x_0 + λ_1 x_1 = (1, g − 1/2) gives g = 1/2; U = I = W^T(Σ λ y (a ⊙ D) x^T) and
    ‖θ‖² = 6 = L Σλ with L = 3.
    """
    problem = problem_of(DEEP, DEEP_POINTS)
    res = problem.decide(exact(DEEP_THETA))
    assert res.verdict == "holds" and res.clarke_set == "clarke"
    assert res.kinks == {0: ["2:1"]}
    assert res.multipliers == [1, 1]
    assert res.clarke == [{"point": 0, "terms": [{"weight": 1, "slopes": {"2:1": F(1, 2)}}]}]
    check_holds(DEEP, DEEP_THETA, DEEP_POINTS, res)
    # the two vertex elements, each the limit of exact gradients along its own direction
    for term in res.clarke_terms[0]["terms"]:
        d = [q(v) for v in term["direction"]]
        g = term["slopes"]["2:1"]
        lim = limiting_gradient(DEEP, DEEP_THETA, DEEP_POINTS[0][0], d, {(2, 1): 1 if g == 1 else -1}, 3)
        assert lim == piece_gradient(DEEP, DEEP_THETA, DEEP_POINTS[0][0], {(2, 1): g})
    check_certificate_content(res.certificate())
    assert check_certificate(res.certificate()).valid


def test_negative_controls_wrong_weights_slopes_and_directions_are_rejected():
    problem = problem_of(DEEP, DEEP_POINTS)
    res = problem.decide(exact(DEEP_THETA))
    # perturbed multipliers or term weights break stationarity
    bad = copy.deepcopy(res)
    bad.clarke_terms[0]["terms"][0]["weight"] += sympy.Rational(1, 10)
    bad.multipliers[0] += sympy.Rational(1, 10)
    with pytest.raises(AssertionError):
        check_holds(DEEP, DEEP_THETA, DEEP_POINTS, bad)
    # a direction that realizes the other vertex does not support the claimed slope
    bad = copy.deepcopy(res)
    t0, t1 = bad.clarke_terms[0]["terms"]
    t0["direction"], t1["direction"] = t1["direction"], t0["direction"]
    with pytest.raises(AssertionError):
        check_holds(DEEP, DEEP_THETA, DEEP_POINTS, bad)
    # and the kernel agrees on the certificate
    cert = res.certificate()
    for edit in ("weight", "direction", "slope"):
        forged = copy.deepcopy(cert)
        terms = forged["witness"]["clarke"][0]["terms"]
        if edit == "weight":
            forged["witness"]["multipliers"][0] = "11/10"
            terms[0]["weight"] = str(sympy.Rational(terms[0]["weight"]) + sympy.Rational(1, 10))
        elif edit == "direction":
            terms[0]["direction"], terms[1]["direction"] = terms[1]["direction"], terms[0]["direction"]
        else:
            terms[0]["slopes"]["2:1"], terms[1]["slopes"]["2:1"] = terms[1]["slopes"]["2:1"], terms[0]["slopes"]["2:1"]
        forged["digest"] = digest(forged)
        assert not check_certificate(forged).valid, edit


# ----------------------------------------------------------------------- Gordan vectors and ties
DEPENDENT = {"input": [1, 4], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": "relu"}}, "flatten",
                                         {"dense": {"width": 1}}]}


def test_dependent_patches_exclude_exactly_the_sign_patterns_gordan_forbids():
    """x = (1, 0, 1, 1) and a zero channel: the patches (1,0), (0,1), (1,1) satisfy p_3 = p_1 + p_2,
    so z_3 = z_1 + z_2 near θ: (+,+,−) and (−,−,+) never occur, the other 6 patterns do."""
    theta = [F(0), F(0), F(1), F(1), F(0), F(0), F(0), F(1), F(1), F(1)]
    x = [1, 0, 1, 1]
    problem = problem_of(DEPENDENT, [(x, 1)])
    (pp,) = problem.clarke_patterns(exact(theta)).values()
    assert pp.exact
    signs = sorted(tuple(s for _, s in sorted(e["signs"].items())) for e in pp.excluded)
    assert signs == [(-1, -1, 1), (1, 1, -1)]
    assert all(sorted(v.to_sympy() for v in e["gordan"].values()) == [1, 1, 1] for e in pp.excluded)
    assert len(pp.realizable) == 6
    check_patterns(DEPENDENT, theta, x, problem, pp)


def test_opposite_patches_tie_opposite_slopes():
    # channel 0, w = (1, 1), sees (1, -1) and (-1, 1): both positions on the kink, with opposite
    # gradients; channel 1, w = (1, 0), carries the margin
    theta = [1, 1, 1, 0, 1, 1, 1, 1]
    res = problem_of(TIED, [([1, -1, 1], 1)]).decide(theta, direction=True)
    assert res.kinks == {0: ["1:0", "1:1"]}
    assert res.tied == {0: [{"equal": ["1:0"], "opposite": ["1:1"]}]}


ZERO = {"input": [1, 3], "layers": [{"conv": {"channels": 1, "kernel": 2, "activation": "relu"}}, "flatten",
                                    {"dense": {"width": 1}}]}


def test_zero_patch_unit_is_free_and_the_direction_is_clarke_kkt():
    """x = (0, 0, 1), θ = (w0, w1, v0, v1) = (0, 1, 0, 1). Position 0 sees the zero patch (0, 0):
    z_0 = 0·w0 + 0·w1 ≡ 0 for every θ, so relu(z_0) ≡ 0 and Φ = v1·relu(w1) near θ.

    By hand: q = Φ = 1; h = (v0·g·0 + v1·0, v0·g·0 + v1·1, relu(z_0), relu(z_1)) = (0, 1, 0, 1)
    for every slope g of unit 1:0; θ = μ·h with μ = 1, and ‖θ‖² = 2 = L·q·μ with L = 2.
    No direction moves z_0, yet h is the gradient of the smooth function v1·relu(w1) at θ, a
    Clarke element: θ is a Clarke-KKT direction.
    """
    x = [F(0), F(0), F(1)]
    theta = [F(0), F(1), F(0), F(1)]
    assert first_layer_gradient(ZERO, theta, x, (1, 0)) == [0, 0, 0, 0]
    assert free_units(ZERO, theta, x) == [(1, 0)]
    assert piece_gradient(ZERO, theta, x, {(1, 0): 0}) == piece_gradient(ZERO, theta, x, {(1, 0): 1}) == [0, 1, 0, 1]
    problem = problem_of(ZERO, [(x, 1)])
    res = problem.decide(exact(theta), direction=True)
    assert res.verdict == "holds" and res.clarke_set == "clarke"
    assert res.kinks == {0: ["1:0"]} and res.multipliers == [1]
    assert res.identity["lhs"] == res.identity["rhs"] == 2
    (pp,) = problem.clarke_patterns(exact(theta)).values()
    assert pp.free == {(0, 0)} and pp.exact and not pp.excluded
    assert [g for g, _ in pp.realizable] == [{(0, 0): 1}]
    check_patterns(ZERO, theta, x, problem, pp)
    check_holds(ZERO, theta, [(x, 1)], res)
    cert = res.certificate()
    assert cert["claim"] == {"kind": "kkt_direction", "clarke_set": "clarke",
                             "statement": statement("kkt_direction", "clarke")}
    check_certificate_content(cert)
    verdict = check_certificate(cert)
    assert verdict.valid and "Clarke set: clarke" in verdict.reason
    assert problem.decide(exact(theta), direction=True, clarke_set="chain_rule_hull").verdict == "holds"


def test_zero_patch_refutation_enumerates_both_slopes_of_the_free_unit():
    """Same net and point, θ = (0, 1, 1, 1): q = v1·relu(w1) = 1 and h = (0, 1, 0, 1) for both
    slopes of 1:0 (by hand, as above). θ is not a multiple of h: not a KKT direction. Any Farkas
    vector has y·θ < 0 ≤ y·h; the kernel checks it on both vertex columns of 1:0 (equal)."""
    x = [F(0), F(0), F(1)]
    theta = [F(0), F(1), F(1), F(1)]
    problem = problem_of(ZERO, [(x, 1)])
    res = problem.decide(exact(theta), direction=True)
    assert res.verdict == "refuted" and res.clarke_set == "clarke"
    assert res.witness["reason"] == "stationarity" and not res.witness["excluded"]
    check_refuted(ZERO, theta, [(x, 1)], res)
    cert = res.certificate()
    check_certificate_content(cert)
    verdict = check_certificate(cert)
    assert verdict.valid and "all 2 vertex Clarke columns" in verdict.reason
    # negative control: y = (0, 0, 0, -1) has y·θ = -1 < 0 but y·h = -1 < 0
    forged = copy.deepcopy(cert)
    forged["witness"]["farkas"] = ["0", "0", "0", "-1"]
    forged["digest"] = digest(forged)
    assert not check_certificate(forged).valid


MIXED = {"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 2, "activation": "relu"}}, "flatten",
                                     {"dense": {"width": 1}}]}


@pytest.mark.parametrize("v2, verdict", [(0, "holds"), (1, "refuted")])
def test_free_and_moving_kink_units_on_one_point(v2, verdict):
    """x = (0, 0, 1, 0), θ = (w0, w1, v0, v1, v2) = (0, 1, 0, 1, v2): patches (0, 0), (0, 1), (1, 0),
    so z = (0, w1, w0) = (0, 1, 0): unit 1:0 is free (zero patch), unit 1:2 is on its kink with
    ∇z = e_{w0} (it moves with w0), q = v1·relu(w1) = 1.

    By hand: h(g2) = (v2·g2, v1, relu(z_0), relu(z_1), relu(z_2)) = (v2·g2, 1, 0, 1, 0). With v2 = 0,
    θ = 1·h for both slopes: holds with μ = 1, both patterns of 1:2 realized by w0 ↦ ±, 1:0 free.
    With v2 = 1, θ_4 = 1 but h_4 = 0 for every slope: refuted.
    """
    x = [F(0), F(0), F(1), F(0)]
    theta = [F(0), F(1), F(0), F(1), F(v2)]
    assert free_units(MIXED, theta, x) == [(1, 0)] and kinks_of(MIXED, theta, x) == [(1, 0), (1, 2)]
    problem = problem_of(MIXED, [(x, 1)])
    (pp,) = problem.clarke_patterns(exact(theta)).values()
    assert pp.free == {(0, 0)} and pp.exact and pp.hull_size == 2
    assert sorted(g[(0, 2)] for g, _ in pp.realizable) == [0, 1]
    assert all(g[(0, 0)] == 1 for g, _ in pp.realizable)
    check_patterns(MIXED, theta, x, problem, pp)
    res = problem.decide(exact(theta), direction=True)
    assert res.verdict == verdict and res.clarke_set == "clarke"
    if verdict == "holds":
        assert res.multipliers == [1]
        check_holds(MIXED, theta, [(x, 1)], res)
    else:
        check_refuted(MIXED, theta, [(x, 1)], res)
    check_certificate_content(res.certificate())
    assert check_certificate(res.certificate()).valid


def test_deeper_unit_with_zero_gradient_is_not_free():
    """input [1, 2] -> conv (1 channel, kernel 1, relu, bias) -> conv (2 channels, kernel 1, relu)
    -> flatten -> dense 1; θ = (w, b, W2_0, W2_1, V) = (3/5, 4/5, 1, 0, (0, 1, 0, 0)),
    x = (-4/3, 3/4). By hand: z1 = (w·x_0 + b, w·x_1 + b) = (0, 5/4); unit 2:2 = W2_1·relu(z1_0) = 0
    with ∇z = (W2_1·g·(x_0, 1), relu(z1_0)) = 0, but it is not constant near θ:
    z_{2:2}(θ + t·d) = t·d_3·relu(t·(d_1 − (4/3)·d_0)) = t²·d_3·relu(d_1 − (4/3)d_0) takes both
    signs. The free-unit argument does not apply, no direction gives it ż ≠ 0, so the decision
    stays inconclusive (KKT for the hull: h = (3/4, 1, 5/4, 0, 0, 5/4, 0, 0) for every slope
    pattern, θ = (4/5)·h, q = 5/4)."""
    arch = {"input": [1, 2], "layers": [{"conv": {"channels": 1, "kernel": 1, "activation": "relu", "bias": True}},
                                        {"conv": {"channels": 2, "kernel": 1, "activation": "relu"}}, "flatten",
                                        {"dense": {"width": 1}}]}
    x = [F(-4, 3), F(3, 4)]
    theta = [F(3, 5), F(4, 5), F(1), F(0), F(0), F(1), F(0), F(0)]
    assert kinks_of(arch, theta, x) == [(1, 0), (2, 0), (2, 2), (2, 3)] and free_units(arch, theta, x) == []
    for d3, sign in ((1, 1), (-1, -1)):
        d = [F(0), F(1), F(0), F(d3), F(0), F(0), F(0), F(0)]
        for t in (F(1, 10), F(1, 1000)):
            z = forward(arch, [a + t * b for a, b in zip(theta, d)], x)[1][(2, 2)]
            assert z == sign * t * t
    problem = problem_of(arch, [(x, 1)])
    res = problem.decide(exact(theta), direction=True)
    assert res.verdict == "inconclusive" and "chain-rule hull" in res.reason and res.certificate() is None
    hull = problem.decide(exact(theta), direction=True, clarke_set="chain_rule_hull")
    assert hull.verdict == "holds" and hull.multipliers == [F(4, 5)]
    check_holds(arch, theta, [(x, 1)], hull)


def test_gordan_vector_on_a_zero_gradient_unit_is_not_a_refutation():
    """Excluding both signs of a unit with ∇z = 0 would drop every vertex of its point and let any
    y = −θ 'refute' a true KKT direction: the kernel must refuse such an exclusion."""
    arch = {"input": [1, 3], "layers": [{"conv": {"channels": 1, "kernel": 2, "activation": "relu"}}, "flatten",
                                        {"dense": {"width": 1}}]}
    problem = problem_of(arch, [([0, 0, 1], 1)])
    cert = problem_of(TIED, TIED_POINTS).decide(exact(TIED_THETA)).certificate()
    forged = copy.deepcopy(cert)
    forged["architecture"] = problem.network.arch.to_json()
    forged["data"] = problem.data.to_json()
    forged["parameters"] = [{"weight": [["0", "1"]]}, {"weight": [["0", "1"]]}]
    forged["claim"] = {"kind": "not_kkt_direction", "clarke_set": "clarke"}
    forged["witness"] = {"reason": "stationarity", "farkas": ["0", "-1", "0", "-1"],
                         "excluded": [{"point": 0, "signs": {"1:0": s}, "gordan": {"1:0": "1"}} for s in (1, -1)]}
    forged["digest"] = digest(forged)
    assert not check_certificate(forged).valid


def test_vertex_cap_counts_cells_and_vertices_over_all_points():
    """Channel 0 has weight 0, so all 14 positions of both points sit on a kink: 2 · 2^14 hull
    vertices, past the cap. Their gradients x_i e_{w_0} are all parallel (x > 0), so only the
    patterns 'all +' and 'all −' occur: 2 cells per point, well within it."""
    arch = {"input": [1, 14], "layers": [{"conv": {"channels": 2, "kernel": 1, "activation": "relu"}}, "flatten",
                                         {"dense": {"width": 1}}]}
    theta = [0, 1] + [1] * 28
    problem = problem_of(arch, [([1] * 14, 1), ([2] * 14, 1)])
    hull = problem.decide(theta, direction=True, clarke_set="chain_rule_hull")
    cap = limits.get("vertices")
    assert 2 * 2 ** 14 > cap
    assert hull.verdict == "inconclusive" and f"more than {cap} Clarke cells" in hull.reason
    assert hull.reason.endswith("(raise with --limit vertices=N)")
    with limits.overridden(vertices=2 * 2 ** 14):
        assert problem.decide(theta, direction=True, clarke_set="chain_rule_hull").verdict != "inconclusive"
    res = problem.decide(theta, direction=True)
    assert res.verdict != "inconclusive" and res.clarke_set == "clarke"
    assert res.tied[0] == [{"equal": [f"1:{i}" for i in range(14)], "opposite": []}]
    theta_q = [F(t) for t in theta]
    points = [([F(1)] * 14, 1), ([F(2)] * 14, 1)]
    check_holds(arch, theta_q, points, res) if res.verdict == "holds" else check_refuted(arch, theta_q, points, res)


# ----------------------------------------------------------------------- random kink instances
ACTS = ["relu", {"leaky_relu": {"slope": "1/2"}}, {"leaky_relu": {"slope": "2"}}]


def _random_arch(rnd):
    if rnd.random() < 0.5:
        layers = [{"dense": {"width": rnd.randint(1, 3), "activation": rnd.choice(ACTS)}}
                  for _ in range(rnd.randint(1, 2))]
        return {"input": [rnd.randint(1, 3)], "layers": layers + [{"dense": {"width": 1}}]}
    C, L = rnd.randint(1, 2), rnd.randint(3, 5)
    conv = {"channels": rnd.randint(1, 2), "kernel": rnd.randint(1, 2), "stride": rnd.randint(1, 2),
            "activation": rnd.choice(ACTS)}
    layers = [{"conv": conv}]
    Lc = (L - conv["kernel"]) // conv["stride"] + 1
    extra = rnd.random()
    if Lc >= 2 and extra < 0.3:
        layers.append({"avgpool": {"kernel": 2}})
    elif Lc >= 2 and extra < 0.7:
        layers.append({"conv": {"channels": rnd.randint(1, 2), "kernel": 2, "activation": rnd.choice(ACTS)}})
    return {"input": [C, L], "layers": layers + ["flatten", {"dense": {"width": 1}}]}


def _on_kink(arch, theta, x, unit, rnd):
    """Move one coordinate of x so that z_unit(θ; x) = 0 exactly (None if that fails)."""
    _, pre = forward(arch, theta, x)
    for j in rnd.sample(range(len(x)), len(x)):
        step = F(1, 10 ** 6)
        moved = list(x)
        moved[j] += step
        _, pre2 = forward(arch, theta, moved)
        if any((pre2[u] > 0) != (pre[u] > 0) or (pre2[u] == 0) != (pre[u] == 0) for u in pre):
            continue
        rate = (pre2[unit] - pre[unit]) / step
        if rate != 0:
            moved = list(x)
            moved[j] -= pre[unit] / rate
            if forward(arch, theta, moved)[1][unit] == 0:
                return moved
    return None


def _random_instance(rnd):
    """A random bias-free net, θ and points scaled to margin 1 (Φ is 1-homogeneous in x), most on kinks."""
    arch = _random_arch(rnd)
    n_params = problem_of(arch, [([1] * prod(arch["input"]), 1)]).network.num_parameters
    num = lambda: F(rnd.randint(-3, 3), rnd.randint(1, 2))   # noqa: E731
    theta = [num() for _ in range(n_params)]
    points, wanted = [], rnd.randint(1, 3)
    for _ in range(3 * wanted):
        if len(points) == wanted:
            break
        x = [num() for _ in range(prod(arch["input"]))]
        for _ in range(rnd.randint(0, 2)):
            units = sorted(forward(arch, theta, x)[1])
            x = _on_kink(arch, theta, x, rnd.choice(units), rnd) or x
        phi = forward(arch, theta, x)[0]
        if phi != 0:
            points.append(([v / abs(phi) for v in x], 1 if phi > 0 else -1))
    return arch, theta, points


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_random_kink_instances_every_element_and_every_refutation_checks_out(rnd):
    arch, theta, points = _random_instance(rnd)
    if not points:
        return
    problem = problem_of(arch, points)
    res = problem.decide(exact(theta))
    assert res.kinks == {k: [f"{w}:{u}" for w, u in kinks_of(arch, theta, points[k][0])]
                         for k in res.active if kinks_of(arch, theta, points[k][0])}
    # every realizable pattern is a limiting gradient, every exclusion a valid Gordan vector
    for k, pp in problem.clarke_patterns(exact(theta)).items():
        check_patterns(arch, theta, points[k][0], problem, pp)
    hull = problem.decide(exact(theta), clarke_set="chain_rule_hull")
    for r in (res, hull):
        if r.verdict == "holds":
            check_holds(arch, theta, points, r)
        elif r.verdict == "refuted":
            check_refuted(arch, theta, points, r)
        else:
            assert r is res and "chain-rule hull" in r.reason
            continue
        check_certificate_content(r.certificate())
    # the Clarke subdifferential lies in the hull: Clarke-KKT implies hull-KKT
    if res.verdict == "holds":
        assert hull.verdict == "holds"
    if hull.verdict == "refuted":
        assert res.verdict == "refuted"
    if not res.kinks:
        assert res.clarke_set == hull.clarke_set == "gradient" and res.verdict == hull.verdict


# ----------------------------------------------------------------------- zero patches: free units
UNIT_VECTORS = [(F(1),), (F(3, 5), F(4, 5)), (F(1, 3), F(2, 3), F(2, 3))]    # Euclidean norm 1


def _zero_patch_arch(rnd):
    C, L = rnd.randint(1, 2), rnd.randint(3, 6)
    conv = {"channels": rnd.randint(1, 2), "kernel": rnd.randint(1, 2), "stride": rnd.randint(1, 2),
            "activation": rnd.choice(ACTS)}
    hidden = [{"dense": {"width": rnd.randint(1, 2), "activation": rnd.choice(ACTS)}}] if rnd.random() < 0.5 else []
    return {"input": [C, L], "layers": [{"conv": conv}, "flatten"] + hidden + [{"dense": {"width": 1}}]}


def _zero_patch_instance(rnd):
    """A conv net (a dense hidden layer after it or not), inputs with many zero entries and θ.

    θ sends one path through the net: channel c* has the filter (β/r)·P, where P is the patch of
    x* at position p* (‖P‖ = r), the other channels are 0, and (c*, p*) feeds the output through
    weights β (through one hidden unit j* with output weight β, if there is a hidden layer); all
    else is 0. By hand, with L weight layers: z_path = (β/r)·‖P‖² = β·r, q* = Φ(θ; x*) = β^L·r,
    and if every other unit of the first layer has σ(z) = 0 on x*, the chain rule is the path's
    alone: h = β^(L−1)·(P, r, ..., r) on (filter of c*, path weights), 0 elsewhere, whatever the
    kink slopes (they multiply zero weights or zero activations), and θ = ((β/r)·P, β, ..., β) =
    μ·h with μ = 1/(r·β^(L−2)); ‖θ‖² = L·β² = L·q*·μ. Other points are random (zero entries
    likely) scaled to the margin q*. With a perturbation one coordinate of θ moves by ±1/2 and
    the answer is whatever it is.

    Returns (arch, θ, points, path) with ``path`` None when perturbed, else (first-layer unit of
    the path, μ).
    """
    arch = _zero_patch_arch(rnd)
    C, L = arch["input"]
    conv = arch["layers"][0]["conv"]
    cout, k, stride = conv["channels"], conv["kernel"], conv["stride"]
    Lc = (L - k) // stride + 1
    hidden = arch["layers"][2]["dense"]["width"] if len(arch["layers"]) == 4 else None
    num = lambda: F(rnd.randint(-3, 3), rnd.randint(1, 2))   # noqa: E731
    zeroish = lambda: F(0) if rnd.random() < 0.5 else num()   # noqa: E731
    x = [zeroish() for _ in range(C * L)]
    c_star, p_star = rnd.randrange(cout), rnd.randrange(Lc)
    slots = [(ci, j) for ci in range(C) for j in range(k)]
    vec = rnd.choice([v for v in UNIT_VECTORS if len(v) <= len(slots)])
    r, beta = F(rnd.randint(1, 3), rnd.randint(1, 2)), F(rnd.randint(1, 4), 2)
    patch = dict.fromkeys(slots, F(0))
    patch.update(zip(rnd.sample(slots, len(vec)), (rnd.choice((1, -1)) * r * v for v in vec)))
    for (ci, j), v in patch.items():
        x[ci * L + p_star * stride + j] = v
    conv_w = [patch[s] * beta / r if o == c_star else F(0) for o in range(cout) for s in slots]
    n1 = cout * Lc
    path = c_star * Lc + p_star
    if hidden is None:
        rest = [beta if i == path else F(0) for i in range(n1)]
    else:
        j_star = rnd.randrange(hidden)
        rest = [beta if (j, i) == (j_star, path) else F(0) for j in range(hidden) for i in range(n1)]
        rest += [beta if j == j_star else F(0) for j in range(hidden)]
    theta = conv_w + rest
    perturb = rnd.random() < 1 / 3
    if perturb:
        i = rnd.randrange(len(theta))
        theta[i] += rnd.choice((F(1, 2), F(-1, 2)))
    q_star = forward(arch, theta, x)[0]
    points = [(x, 1 if q_star > 0 else -1)] if q_star else []
    for _ in range(rnd.randint(0, 2)):
        extra = [zeroish() for _ in range(C * L)]
        phi = forward(arch, theta, extra)[0]
        if phi and q_star:
            points.append(([v * abs(q_star) / abs(phi) for v in extra], 1 if phi > 0 else -1))
    mu = 1 / (r * beta ** (len(_weight_layers(arch)) - 2))
    return arch, theta, points, None if perturb else (path, mu)


def _path_is_alone(arch, theta, x, path):
    """Whether every first-layer unit other than the path's has σ(z) = 0 on x (z = 0, or z < 0
    under relu): then no unit off the path contributes to Φ or to its chain-rule elements."""
    plus_minus = _slopes(_weight_layers(arch)[0]["activation"])
    pre = forward(arch, theta, x)[1]
    return all(z == 0 or (z < 0 and plus_minus[1] == 0) for (w, u), z in pre.items() if w == 1 and u != path)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False))
def test_zero_patches_every_clarke_certificate_checks_out(rnd):
    """Random conv nets on inputs with zero entries (zero patches make free first-layer kink
    units), θ a balanced one-path KKT direction or a perturbation of one. When the path is alone
    (checked on the pre-activations), θ = μ·h for the chain rule h of the path, which no kink
    slope changes, so θ = μ·h for every vertex pattern, a limiting gradient among them: the
    answer must be ``holds`` (with μ itself when x* is the only point). Every holds is re-derived (each term a limiting
    gradient along its direction, by exact gradients at θ + t·d) and every refutation's Farkas
    vector checked on all vertex columns; every certificate passes the kernel."""
    arch, theta, points, path = _zero_patch_instance(rnd)
    if not points:
        return
    problem = problem_of(arch, points)
    res = problem.decide(exact(theta), direction=True)
    if path is not None and _path_is_alone(arch, theta, points[0][0], path[0]):
        assert res.verdict == "holds" and res.clarke_set in ("gradient", "clarke")
        if len(points) == 1:
            assert res.multipliers == [path[1]]
    for k, pp in problem.clarke_patterns(exact(theta)).items():
        assert {(1, u) for _, u in pp.free} == set(free_units(arch, theta, points[k][0]))
        some = rnd.sample(pp.realizable, min(4, len(pp.realizable)))      # each one costs exact gradients
        check_patterns(arch, theta, points[k][0], problem, dataclasses.replace(pp, realizable=some))
    if res.verdict == "holds":
        check_holds(arch, theta, points, res)
    elif res.verdict == "refuted":
        check_refuted(arch, theta, points, res)
    else:
        assert "chain-rule hull" in res.reason
        return
    cert = res.certificate()
    check_certificate_content(cert)
    verdict = check_certificate(cert)
    assert verdict.valid, verdict.reason


# ----------------------------------------------------------------------- split KKT points
PYTHAGOREAN = [(F(3, 5), F(4, 5)), (F(5, 13), F(12, 13)), (F(1, 3), F(2, 3), F(2, 3))]
KKT_INSTANCES = {"kink": (KINK, [([0, 1], 1), ([4, -1], 1)], [F(0), F(1), F(1, 2), F(0), F(1), F(1, 2)], "holds"),
                 "deep": (DEEP, DEEP_POINTS, DEEP_THETA, "holds"),
                 "tied": (TIED, TIED_POINTS, TIED_THETA, "refuted")}


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(KKT_INSTANCES)),
       st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.sampled_from(PYTHAGOREAN)), min_size=1, max_size=2))
def test_splits_of_clarke_kkt_points_are_clarke_kkt_points(name, picks):
    """A split with c_i > 0, Σ c_i² = 1 maps a Clarke-KKT point to one (children take their parent's
    pattern, realized by T·d), and a refuted tie stays tied in every child channel. Every element
    of the wide decision is re-derived by finite differences."""
    arch, points, theta, expected = KKT_INSTANCES[name]
    problem = problem_of(arch, points)
    net, texts = problem.network, []
    for layer, unit, cs in picks:
        bodies = _weight_layers(net.arch.to_json())
        w = 1 + layer % (len(bodies) - 1)                   # a hidden weight layer
        units = bodies[w - 1].get("width") or bodies[w - 1].get("channels")
        texts.append(f"{w}:{unit % units}:{','.join(str(c) for c in cs)}")
        net = chain(net, [parse_step(texts[-1], "split")]).target
    emb = chain(problem.network, [parse_step(t, "split") for t in texts])
    wide_arch = emb.target.arch.to_json()
    eta = [q(v) for v in emb.forward(exact(theta))]
    wide = problem_of(wide_arch, points)
    res = wide.decide(exact(eta))
    assert res.verdict == expected and res.clarke_set == "clarke"
    (check_holds if expected == "holds" else check_refuted)(wide_arch, eta, points, res)
    check_certificate_content(res.certificate())
