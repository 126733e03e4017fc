"""Tests of the trusted kernel ``symkkt.kernel``: mathematical facts and negative controls.

Every check is shown to accept a true claim and to reject at least one false one.
"""
import copy
import json
import random
import re
import subprocess
import sys
from fractions import Fraction as Q
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from symkkt.kernel import CertificateUnreadable, Verdict, certificate_digest, check_certificate, check_file
from symkkt.kernel.exact import Numbers
from symkkt.kernel.field import Field, Invalid, sturm_count
from symkkt.kernel.network import Network

ROOT = Path(__file__).resolve().parents[1]


def cert(kind, arch, data, params, witness, clarke_set="gradient"):
    c = {"symkkt_certificate": 1, "claim": {"kind": kind, "clarke_set": clarke_set},
         "architecture": arch, "data": {"points": [{"x": x, "y": y} for x, y in data]},
         "parameters": [{"weight": w} for w in params], "witness": witness,
         "provenance": {"tool": "tests"}}
    c["digest"] = certificate_digest(c)
    return c


def redigest(c):
    c["digest"] = certificate_digest(c)
    return c


def tampered(c, edit):
    c = copy.deepcopy(c)
    edit(c)
    return redigest(c)


def assert_valid(c):
    v = check_certificate(c)
    assert v.valid, v.reason
    return v


def assert_invalid(c, pattern=""):
    v = check_certificate(c)
    assert not v.valid, "false claim accepted"
    assert re.search(pattern, v.reason), v.reason
    return v


TWO_LAYER = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}
FIELD_2_4 = {"minpoly": ["-2", "0", "0", "0", "1"], "interval": ["1", "2"],
             "radicals": [{"base": ["2"], "index": 4, "root": ["0", "1"]},
                          {"base": ["2"], "index": 2, "root": ["0", "0", "1"]}]}
EX1_DATA = [([1, 0], 1), ([-1, 1], -1), ([3, 1], 1)]
EX1_PARAMS = [[[1, 0], ["-2^(-3/4)", "2^(-3/4)"]], [[1, "-2^(-1/4)"]]]


@pytest.fixture
def example1():
    """example1 (docs/mathematics.md §8): a KKT point with algebraic entries (2^(1/4))."""
    return cert("kkt_point", TWO_LAYER, EX1_DATA, EX1_PARAMS,
                {"field": copy.deepcopy(FIELD_2_4), "multipliers": [1, "sqrt(2)/2", 0]})


# ---------------------------------------------------------------- worked instance (docs/mathematics.md §8)

def test_example1_is_kkt_point(example1):
    v = assert_valid(example1)
    assert v == Verdict(True, v.reason, "kkt_point", "gradient")     # no active point has a kink


def test_example1_margins_and_norm(example1):
    N = Numbers(FIELD_2_4)
    net = Network(TWO_LAYER, N)
    theta = net.parameters(example1["parameters"])
    xs, ys = net.points(example1["data"])
    q = [N.F.mul(N.F.const(y), net.evaluate(theta, x).output) for x, y in zip(xs, ys)]
    assert [N.F.reduce(v) for v in q] == [(1,), (1,), (3,)]
    sq = N.F.sum(N.F.mul(t, t) for t in theta)
    assert N.F.is_zero(N.F.sub(sq, N.num("2 + sqrt(2)")))
    assert net.degree == 2


@pytest.mark.parametrize("edit, pattern", [
    (lambda c: c["witness"]["multipliers"].__setitem__(1, "sqrt(2)/3"), "stationarity"),
    (lambda c: c["witness"]["multipliers"].__setitem__(0, "-1"), "negative"),
    (lambda c: c["parameters"][0]["weight"][1].__setitem__(1, "2^(-1/4)"), ""),
    (lambda c: c["parameters"][1]["weight"][0].__setitem__(0, "1.0001"), "inactive"),
    (lambda c: c["witness"]["multipliers"].__setitem__(2, "1/10"), "inactive"),
    (lambda c: c["witness"]["field"]["radicals"][0].__setitem__("root", ["0", "-1"]), "principal"),
    (lambda c: c["witness"]["field"]["radicals"][1].__setitem__("root", ["0", "1"]), r"root\^2 != base"),
    (lambda c: c["witness"]["field"].__setitem__("interval", ["-2", "2"]), "2 distinct real roots"),
    (lambda c: c["witness"]["field"].__setitem__("interval", ["2", "3"]), "0 distinct real roots"),
    (lambda c: c["witness"]["field"]["radicals"].pop(1), "no radical hint"),
    (lambda c: c["witness"].pop("field"), "no radical hint"),
    (lambda c: c["claim"].__setitem__("kind", "kkt_pointt"), "unknown claim kind"),
    (lambda c: c.__setitem__("symkkt_certificate", 2), "version"),
])
def test_example1_tampered_is_invalid(example1, edit, pattern):
    assert_invalid(tampered(example1, edit), pattern)


def test_wrong_digest_is_invalid(example1):
    c = copy.deepcopy(example1)
    c["witness"]["multipliers"][0] = "1/1"          # same value, digest not updated
    assert_invalid(c, "digest")
    c = copy.deepcopy(example1)
    c["provenance"] = {"tool": "other"}             # provenance is outside the digest
    assert_valid(c)


def test_reducible_minpoly_still_works(example1):
    # (x^4 - 2)(x^2 - 3) = x^6 - 3x^4 - 2x^2 + 6; [1, 3/2] isolates 2^(1/4) (√3 ≈ 1.73 is outside)
    c = tampered(example1, lambda c: c["witness"]["field"].update(
        minpoly=["6", "0", "-2", "0", "-3", "0", "1"], interval=["1", "3/2"]))
    assert_valid(c)
    assert_invalid(tampered(c, lambda c: c["witness"]["field"].update(interval=["1", "2"])), "2 distinct")


def test_split_example1_keeps_kkt(example1):
    """Neuron split of unit 1 with c = (3/5, 4/5): same multipliers (docs/mathematics.md §5, §8)."""
    arch = copy.deepcopy(TWO_LAYER)
    arch["layers"][0]["dense"]["width"] = 3
    params = [[["3/5", 0], ["4/5", 0], ["-2^(-3/4)", "2^(-3/4)"]], [["3/5", "4/5", "-2^(-1/4)"]]]
    c = cert("kkt_point", arch, EX1_DATA, params, example1["witness"])
    assert_valid(c)
    bad = [[["1/2", 0], ["1/2", 0], ["-2^(-3/4)", "2^(-3/4)"]], [["1/2", "1/2", "-2^(-1/4)"]]]
    assert_invalid(cert("kkt_point", arch, EX1_DATA, bad, example1["witness"]), "violates")
    refute = cert("not_kkt_point", arch, EX1_DATA, bad,
                  {"field": FIELD_2_4, "reason": "infeasible", "point": 0})
    assert_valid(refute)
    assert_invalid(tampered(refute, lambda c: c["witness"].update(point=2)), "margin")


# ---------------------------------------------------------------- kinks

# Φ = a1 relu(w1·x) + a2 relu(w2·x), P = (1, 0) lies on the kink of unit 2 (w2·P = 0).
# Stationarity in w2: w2 = λ_P a2 g P + λ_Q a2 Q = (g - 1/2, 1) forces g = 1/2.
KINK_DATA = [([1, 0], 1), (["-1/2", 1], 1)]
KINK_PARAMS = [[[1, 0], [0, 1]], [[1, 1]]]


def kink_cert(slopes, params=KINK_PARAMS, data=KINK_DATA):
    terms = [{"weight": w, "slopes": {"1:1": g}} for w, g in slopes]
    return cert("kkt_point", TWO_LAYER, data, params,
                {"multipliers": [1, 1], "clarke": [{"point": 0, "terms": terms}]}, "chain_rule_hull")


def test_kink_needs_interior_slope():
    assert_valid(kink_cert([(1, "1/2")]))
    assert_valid(kink_cert([("1/2", 0), ("1/2", 1)]))          # convex combination of vertices
    assert_invalid(kink_cert([(1, 1)]), "stationarity")
    assert_invalid(kink_cert([(1, 0)]), "stationarity")          # autograd's relu'(0) = 0 fails
    assert_invalid(kink_cert([(1, "3/2")]), "outside")
    assert_invalid(kink_cert([("1/2", "1/2")]), "sum")
    assert_invalid(kink_cert([(1, "-1/2"), (0, 1)]), "outside")


def test_kink_witness_structure():
    base = kink_cert([(1, "1/2")])
    assert_invalid(tampered(base, lambda c: c["witness"].pop("clarke")), "needs a witness.clarke")
    assert_invalid(tampered(base, lambda c: c["witness"]["clarke"].append(c["witness"]["clarke"][0])),
                   "duplicate")
    assert_invalid(tampered(base, lambda c: c["witness"]["clarke"].append(
        {"point": 1, "terms": [{"weight": 1, "slopes": {}}]})), "no kink")
    assert_invalid(tampered(base, lambda c: c["witness"]["clarke"][0]["terms"][0]["slopes"].update(
        {"1:0": "1/2"})), "exactly the kink units")
    assert_invalid(tampered(base, lambda c: c["witness"]["clarke"][0].update(point=5)), "data index")
    assert_invalid(tampered(base, lambda c: c["witness"].update(clarke="x")), "list")
    assert_invalid(tampered(base, lambda c: c["witness"].update(multipliers="x")), "multipliers")


def test_leaky_kink_interval():
    arch = copy.deepcopy(TWO_LAYER)
    arch["layers"][0]["dense"]["activation"] = {"leaky_relu": {"slope": "1/5"}}
    # leaky: at Q unit 1 now contributes; a generic rational check through the Farkas route below
    N = Numbers()
    net = Network(arch, N)
    theta = net.parameters([{"weight": w} for w in KINK_PARAMS])
    ev = net.evaluate(theta, [N.num(1), N.num(0)])
    assert ev.kinks == {"1:1": ((Q(1, 5),), (Q(1),))}


# ---------------------------------------------------------------- refutations (Farkas)

# Same net with Q = (-2, 1): stationarity would need g = 2 ∉ [0, 1].  θ = (w1, w2, a1, a2).
# Columns: c_P(g) = (1,0, g,0, 1,0), c_Q = (0,0, -2,1, 0,1); y = (1,0,-1,-2,0,0) gives
# y·c_P(0) = 1, y·c_P(1) = 0, y·c_Q = 0 and y·θ = -1.
FARKAS_DATA = [([1, 0], 1), ([-2, 1], 1)]


def farkas_cert(y, data=FARKAS_DATA, kind="not_kkt_point"):
    return cert(kind, TWO_LAYER, data, KINK_PARAMS, {"reason": "stationarity", "farkas": y}, "chain_rule_hull")


def test_farkas_refutation():
    assert_valid(farkas_cert([1, 0, -1, -2, 0, 0]))
    assert_invalid(farkas_cert([0, 0, -1, 0, 0, 0]), "not < 0")
    assert_invalid(farkas_cert([1, 0, -2, -2, 0, 0]), r"y·c < 0 for point 0")   # fails at vertex g = 1
    assert_invalid(farkas_cert([1, 0, -1, -2, 0]), "list of 6")
    # the true KKT point of the kink example cannot be refuted by the same vector
    assert_invalid(farkas_cert([1, 0, -1, -2, 0, 0], data=KINK_DATA), "")
    # nor can the §6 KKT point be refuted by any vector: try a few
    for y in ([0, 0, 0, 0, -1, 0], [-1, 0, 0, 0, 0, 0], [0, 0, 1, -1, 0, 0]):
        assert_invalid(cert("not_kkt_point", TWO_LAYER, EX1_DATA, EX1_PARAMS,
                            {"field": FIELD_2_4, "reason": "stationarity", "farkas": y}))


def test_farkas_linear_model():
    arch = {"input": [2], "layers": [{"dense": {"width": 1}}]}
    data = [([1, 0], 1), ([0, 1], 1)]      # θ = (1, 2): margins (1, 2), active {0}, column (1, 0)
    ok = cert("not_kkt_point", arch, data, [[[1, 2]]], {"reason": "stationarity", "farkas": [0, -1]})
    assert_valid(ok)
    assert_invalid(tampered(ok, lambda c: c["witness"].update(farkas=[-1, 0])), "y·c < 0")
    assert_invalid(tampered(ok, lambda c: c["witness"].update(farkas=[1, 0])), "not < 0")
    assert_invalid(tampered(ok, lambda c: c["witness"].update(reason="other")), "unknown reason")
    assert_invalid(tampered(ok, lambda c: c["witness"].update(point=0)), "unknown key")


# ---------------------------------------------------------------- directions (rational)

SVM_ARCH = {"input": [2], "layers": [{"dense": {"width": 1}}]}
# hard-margin SVM through the origin: 2 w1 >= 1, -w2 >= 1 gives w = (1/2, -1), λ = (1/4, 1, 0).
SVM_DATA = [([2, 0], 1), ([0, 1], -1), ([3, -1], 1)]


def test_linear_svm_kkt_point_and_direction():
    w1, w2 = sympy.symbols("w1 w2")
    sol = sympy.solve([2 * w1 - 1, -w2 - 1], [w1, w2])        # both constraints active
    assert (sol[w1], sol[w2]) == (sympy.Rational(1, 2), -1)
    assert_valid(cert("kkt_point", SVM_ARCH, SVM_DATA, [[["1/2", -1]]], {"multipliers": ["1/4", 1, 0]}))
    d = cert("kkt_direction", SVM_ARCH, SVM_DATA, [[[1, -2]]], {"multipliers": ["1/2", 2, 0]})
    assert_valid(d)
    assert_invalid(tampered(d, lambda c: c["witness"].update(multipliers=["1/2", 2, "1/8"])), "inactive")
    assert_invalid(tampered(d, lambda c: c["witness"].update(multipliers=[1, 2, 0])), "stationarity")
    assert_invalid(tampered(d, lambda c: c["parameters"][0].update(weight=[[1, -3]])), "")
    neg = cert("kkt_direction", SVM_ARCH, SVM_DATA, [[[-1, 2]]], {"multipliers": ["1/2", 2, 0]})
    assert_invalid(neg, "not positive")
    ref = cert("not_kkt_direction", SVM_ARCH, SVM_DATA, [[[-1, 2]]], {"reason": "nonpositive_margin", "point": 0})
    assert_valid(ref)
    assert_invalid(tampered(ref, lambda c: c["parameters"][0].update(weight=[[1, -2]])), "not <= 0")
    assert_invalid(tampered(ref, lambda c: c["witness"].update(reason="stationarity", farkas=[1, 0], point=None)),
                   "unknown key")
    farkas = {"reason": "stationarity", "farkas": [-1, 0]}
    assert_invalid(cert("not_kkt_direction", SVM_ARCH, SVM_DATA, [[[-1, 2]]], farkas), "not positive")
    # (1, -1): margins (2, 1, 4), argmin {1}, column y_1 x_1 = (0, -1); y = (-1, 0) separates
    assert_valid(cert("not_kkt_direction", SVM_ARCH, SVM_DATA, [[[1, -1]]], farkas))
    assert_invalid(cert("not_kkt_direction", SVM_ARCH, SVM_DATA, [[[1, -2]]], farkas))       # a true direction


def test_direction_needs_homogeneity():
    # a bias after a weight layer breaks homogeneity: Φ(cθ) = c² W2 relu(W1 x) + c b2
    arch = {"input": [2], "layers": [{"dense": {"width": 1, "activation": "relu"}},
                                     {"dense": {"width": 1, "bias": True}}]}
    c = cert("kkt_direction", arch, SVM_DATA, [], {"multipliers": ["1/2", 2, 0]})
    c["parameters"] = [{"weight": [[1, -2]]}, {"weight": [[1]], "bias": [0]}]
    assert_invalid(redigest(c), "not positively homogeneous.*bias")
    c["parameters"] = [{"weight": [[1, -2]]}, {"weight": [[1]]}]
    assert_invalid(redigest(c), "bias")


def test_first_layer_bias_keeps_homogeneity():
    # w·x + b is a weight on the constant input 1: Φ(cθ; x) = c Φ(θ; x), as the producer says
    first = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu", "bias": True}},
                                      {"dense": {"width": 1}}]}
    later = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                      {"dense": {"width": 1, "bias": True}}]}
    assert Network(first).degree == 2 and Network(later).degree is None
    from symkkt.network import Network as Producer
    from symkkt.spec import architecture_from_json
    assert Producer(architecture_from_json(first)).homogeneity().degree == 2
    assert Producer(architecture_from_json(later)).homogeneity().degree is None


def test_biased_kkt_point_without_sanity_identity():
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "bias": True}}]}
    c = cert("kkt_point", arch, [([2], 1)], [], {"multipliers": ["1/5"]})
    c["parameters"] = [{"weight": [["2/5"]], "bias": ["1/5"]}]          # θ = λ (x, 1), λ(4 + 1) = 1
    assert_valid(redigest(c))


# ---------------------------------------------------------------- conv / pool / backprop

CONV1D = {"input": [1, 4], "layers": [
    {"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
    {"avgpool": {"kernel": 3}}, {"flatten": {}}, {"dense": {"width": 1}}]}


def test_conv1d_forward_by_hand():
    N = Numbers()
    net = Network(CONV1D, N)
    theta = net.parameters([{"weight": [[[2, 1]], [[-1, 1]]]}, {"weight": [[1, 2]]}])
    ev = net.evaluate(theta, [N.num(v) for v in (1, 2, 3, 4)])
    # channel 0: (2+2, 4+3, 6+4) = (4, 7, 10) -> mean 7; channel 1: (1, 1, 1) -> 1; 7 + 2*1 = 9
    assert ev.output == (9,)
    assert net.n_params == 6 and net.degree == 2
    strided = copy.deepcopy(CONV1D)
    strided["layers"][0]["conv"]["stride"] = 2
    strided["layers"][1]["avgpool"]["kernel"] = 2
    net = Network(strided, N)
    ev = net.evaluate(net.parameters([{"weight": [[[2, 1]], [[-1, 1]]]}, {"weight": [[1, 2]]}]),
                      [N.num(v) for v in (1, 2, 3, 4)])
    assert ev.output == (Q(4 + 10, 2) + 2,)             # (4, 10) -> 7; (1, 1) -> 1


def test_conv2d_forward_and_kink_names():
    arch = {"input": [1, 3, 3], "layers": [
        {"conv": {"channels": 1, "kernel": [2, 2], "activation": "relu"}}, {"flatten": {}}, {"dense": {"width": 1}}]}
    N = Numbers()
    net = Network(arch, N)
    theta = net.parameters([{"weight": [[[[1, 0], [0, 1]]]]}, {"weight": [[1, 1, 1, 1]]}])
    ev = net.evaluate(theta, [N.num(v) for v in range(1, 10)])
    assert ev.output == (6 + 8 + 12 + 14,) and not ev.kinks
    x = [[[1, 2, 3], [4, -1, 6], [7, 8, 9]]]                # unit (0, 0): 1 + (-1) = 0 -> kink
    xs, _ = net.points({"points": [{"x": x, "y": 1}]})
    assert set(net.evaluate(theta, xs[0]).kinks) == {"1:0"}


def test_conv_pool_kkt_direction_certificate():
    """Φ = a·w·(x1 + x2)/2 through conv (kernel 1) → avgpool → flatten → dense; θ = (w, a) = (1, 1)."""
    arch = {"input": [1, 2], "layers": [{"conv": {"channels": 1, "kernel": 1, "activation": "relu"}},
                                        {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]}
    data = [([[1, 1]], 1), ([2, 2], 1)]                   # nested and flat inputs; margins (1, 2)
    c = cert("kkt_direction", arch, data, [[[[1]]], [[1]]], {"multipliers": [1, 0]})
    assert_valid(c)
    assert_invalid(tampered(c, lambda c: c["witness"].update(multipliers=[2, 0])), "stationarity")
    assert_invalid(tampered(c, lambda c: c["witness"].update(multipliers=[0, "1/2"])), "inactive")
    assert_invalid(tampered(c, lambda c: c["parameters"][0].update(weight=[[[1, 1]]])), "length 1")


def test_too_many_kinks():
    """18 hidden units, 17 of them exactly at their kink on the single active point."""
    arch = {"input": [2], "layers": [{"dense": {"width": 18, "activation": "relu"}}, {"dense": {"width": 1}}]}
    params = [[[1, 0]] + [[0, 1]] * 17, [[1] * 18]]
    c = cert("not_kkt_point", arch, [([1, 0], 1)], params, {"reason": "stationarity", "farkas": [-1] + [0] * 53},
             "chain_rule_hull")
    assert_invalid(c, r"limit exceeded: vertex Clarke columns of all active points 131072 > 4096")


ACTS = ["relu", {"leaky_relu": {"slope": "1/10"}}, "linear", {"poly_relu": {"power": 1}},
        {"poly_leaky_relu": {"slope": "-1/3", "power": 1}}]


def random_net(rng, act, conv):
    if conv:
        arch = {"input": [2, 5], "layers": [
            {"conv": {"channels": 3, "kernel": 2, "activation": act}},
            {"conv": {"channels": 2, "kernel": [2], "stride": 2, "activation": act}},
            {"avgpool": {"kernel": 2}}, {"flatten": {}}, {"dense": {"width": 1}}]}
        shapes = [(3, 2, 2), (2, 3, 2), (1, 2)]
    else:
        arch = {"input": [3], "layers": [{"dense": {"width": 3, "activation": act}},
                                         {"dense": {"width": 2, "activation": act}}, {"dense": {"width": 1}}]}
        shapes = [(3, 3), (2, 3), (1, 2)]

    def rand(shape):
        if not shape:
            return f"{rng.randint(-9, 9)}/{rng.randint(1, 7)}"
        return [rand(shape[1:]) for _ in range(shape[0])]
    return arch, [{"weight": rand(s)} for s in shapes], rand((10,) if conv else (3,))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("conv", [False, True])
def test_backprop_exact_difference_quotient_and_euler(seed, conv):
    """Off kinks these nets are multilinear in each single parameter, so an exact difference
    quotient equals the partial derivative; and Euler's identity ⟨h, θ⟩ = L Φ holds."""
    rng, N = random.Random(seed), Numbers()
    for _ in range(100):                       # skip draws where every ReLU path is dead
        arch, params, x = random_net(rng, ACTS[seed % len(ACTS)], conv)
        net = Network(arch, N)
        theta = net.parameters(params)
        xs, _ = net.points({"points": [{"x": x, "y": 1}]})
        ev = net.evaluate(theta, xs[0])
        h = net.gradient(theta, ev, {u: lo for u, (lo, hi) in ev.kinks.items()})
        if ev.output:
            break
    assert ev.output
    assert N.F.sum(N.F.mul(a, b) for a, b in zip(h, theta)) == N.F.mul(N.F.const(net.degree), ev.output)
    if ev.kinks:
        return
    t = N.F.const(Q(1, 10 ** 12))
    for i in range(net.n_params):
        moved = list(theta)
        moved[i] = N.F.add(moved[i], t)
        diff = N.F.sub(net.evaluate(moved, xs[0]).output, ev.output)
        assert N.F.div(diff, t) == N.F.reduce(h[i]), i


def test_polynomial_activations_euler_against_sympy():
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": {"poly_relu": {"power": 3}}}},
                                     {"dense": {"width": 1, "activation": {"polynomial": {"coeffs": [0, 0, "1/2"]}}}}]}
    N = Numbers()
    net = Network(arch, N)
    assert net.degree == 2 * (1 + 3)
    ws = sympy.symbols("a b c d e f")
    vals = dict(zip(ws, [2, -1, 1, 3, "1/2", -2]))
    x = (3, 1)
    h1 = [sympy.Max(ws[0] * x[0] + ws[1] * x[1], 0) ** 3, sympy.Max(ws[2] * x[0] + ws[3] * x[1], 0) ** 3]
    phi = sympy.Rational(1, 2) * (ws[4] * h1[0] + ws[5] * h1[1]) ** 2
    subs = {k: sympy.Rational(v) for k, v in vals.items()}
    theta = net.parameters([{"weight": [[2, -1], [1, 3]]}, {"weight": [["1/2", -2]]}])
    ev = net.evaluate(theta, [N.num(3), N.num(1)])
    assert ev.output == (Q(str(phi.subs(subs))),)
    grad = net.gradient(theta, ev)
    expect = [Q(str(sympy.diff(phi, w).subs(subs))) for w in ws]
    assert [g[0] if g else 0 for g in grad] == expect
    arch["layers"][1]["dense"]["activation"] = {"polynomial": {"coeffs": [0, 1, 1]}}
    assert Network(arch, N).degree is None


@pytest.mark.parametrize("arch, pattern", [
    ({"input": [2], "layers": [{"dense": {"width": 1, "activation": "tanh"}}]}, "tanh is not exact"),
    ({"input": [1, 4], "layers": [{"dense": {"width": 1}}]}, "flatten"),
    ({"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 5}}]}, "kernel larger"),
    ({"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 2, "padding": 1}}]}, "unknown key"),
    ({"input": [2], "layers": [{"dense": {"width": 2}}]}, "not scalar"),
    ({"input": [2], "layers": [{"dropout": {}}]}, "unknown layer"),
])
def test_bad_architectures(arch, pattern):
    with pytest.raises(Invalid, match=pattern):
        Network(arch, Numbers())


def test_shape_mismatches_are_invalid(example1):
    assert_invalid(tampered(example1, lambda c: c["parameters"][0]["weight"].pop()), "length 2")
    assert_invalid(tampered(example1, lambda c: c["parameters"].pop()), "one entry per weight layer")
    assert_invalid(tampered(example1, lambda c: c["parameters"][0].update(bias=[0, 0])), "no bias")
    assert_invalid(tampered(example1, lambda c: c["data"]["points"][0].update(x=[1, 0, 0])), "length 2")
    assert_invalid(tampered(example1, lambda c: c["data"]["points"][0].update(y=2)), "label")
    assert_invalid(tampered(example1, lambda c: c["data"]["points"][0].update(x=[1.0, 0])), "strings or integers")
    assert_invalid(tampered(example1, lambda c: c["witness"]["multipliers"].pop()), "list of 3")


# ---------------------------------------------------------------- number field

def test_sturm_counts():
    x4m2 = (Q(-2), 0, 0, 0, 1)
    assert sturm_count(x4m2, Q(1), Q(2)) == 1
    assert sturm_count(x4m2, Q(-2), Q(2)) == 2
    assert sturm_count(x4m2, Q(2), Q(3)) == 0
    sq = (Q(4), 0, Q(-4), 0, 1)                       # (x^2 - 2)^2: distinct roots only
    assert sturm_count(sq, Q(0), Q(2)) == 1
    p = sympy.Poly(sympy.prod(sympy.Symbol("x") - k for k in range(1, 6)))
    assert sturm_count(tuple(Q(int(c)) for c in reversed(p.all_coeffs())), Q(1, 2), Q(7, 2)) == 3


def test_field_sign_zero_inverse():
    F = Field((-2, 0, 0, 0, 1), 1, 2)                # α = 2^(1/4)
    a = F.gen()
    assert F.sign(F.sub(F.mul(a, a), F.const(2))) == -1
    assert F.sign(F.sub(F.mul(a, a), F.const(Q(141, 100)))) == 1
    assert F.is_zero(F.sub(F.power(a, 4), F.const(2)))
    assert F.mul(F.inv(a), a) == (1,)
    with pytest.raises(Invalid, match="division by zero"):
        F.inv(F.sub(F.power(a, 4), F.const(2)))


def test_inverse_with_reducible_modulus():
    # p = (x^2 - 2)(x - 1) on [6/5, 2]: α = √2.  α - 1 shares the factor x - 1 with p.
    F = Field((Q(2), Q(-2), Q(-1), Q(1)), Q(6, 5), 2)
    a = F.gen()
    inv = F.inv(F.sub(a, F.const(1)))
    assert F.is_zero(F.sub(inv, F.add(a, F.const(1))))          # 1/(√2 - 1) = √2 + 1
    with pytest.raises(Invalid, match="division by zero"):
        F.inv(F.sub(F.mul(a, a), F.const(2)))
    assert F.sign(F.sub(a, F.const(Q(1414, 1000)))) == 1 and F.sign(F.sub(a, F.const(Q(1415, 1000)))) == -1


def test_rational_root_found_by_bisection():
    # (x - 3/2)(x^2 - 5) = x^3 - 3/2 x^2 - 5x + 15/2; α = 3/2 is hit at the first midpoint
    F = Field((Q(15, 2), -5, Q(-3, 2), 1), 1, 2)
    a = F.gen()
    assert F.sign(F.sub(F.mul(a, a), F.const(2))) == 1
    assert F.is_zero(F.sub(a, F.const(Q(3, 2))))


def test_field_rejects_bad_intervals():
    for args in [((-2, 0, 1), 2, 1), ((-2, 0, 1), -2, 2), ((-4, 0, 1), 2, 3), ((5,), 0, 1)]:
        with pytest.raises(Invalid):
            Field(*args)


@pytest.mark.parametrize("text, value", [
    ("1.5e-3", Q(3, 2000)), ("0.1", Q(1, 10)), ("2^3^2", Q(512)), ("-2^2", Q(-4)), ("(-2)^2", Q(4)),
    ("2^-1", Q(1, 2)), ("+3 - -2", Q(5)), ("1/2/2", Q(1, 4)), ("sqrt(4)", Q(2)), ("8^(2/3)", Q(4)),
    ("(-8)^(1/3)", Q(-2)), (" 7 ", Q(7)), (12, Q(12)),
])
def test_number_grammar(text, value):
    N = Numbers({"radicals": [{"base": ["4"], "index": 2, "root": ["2"]},
                              {"base": ["8"], "index": 3, "root": ["2"]},
                              {"base": ["-8"], "index": 3, "root": ["-2"]}]})
    assert N.num(text) == (value,)


@pytest.mark.parametrize("text, pattern", [
    ("1+", "end"), ("abc", "cannot parse"), ("2^(1/2)", "no radical hint"), ("1/0", "division by zero"),
    ("2^(2^(1/4))", "exponent must be rational"), ("(1", "missing"), ("1 2", "unexpected"), ("", "end"),
    (0.5, "strings or integers"), (True, "strings or integers"), ("2^100000", "too large"),
    ("sqrt(2", "missing"), ("1e", "cannot parse"), ("1/((2^(1/4))^4 - 2)", "division by zero"),
    ("2^(1/4)^4", "index 256")])
def test_number_grammar_rejects(text, pattern):
    field = dict(FIELD_2_4, radicals=FIELD_2_4["radicals"][:1])
    with pytest.raises(Invalid, match=pattern):
        Numbers(field).num(text)


@st.composite
def expressions(draw, depth=3):
    """(text, sympy value) of a random expression in the grammar (integer powers only)."""
    if depth == 0 or draw(st.booleans()):
        n, d = draw(st.integers(0, 30)), draw(st.integers(1, 9))
        text = draw(st.sampled_from([f"{n}", f"{n}/{d}", f"{n}.{d}", f"{n}e-{d % 3}"]))
        return text, sympy.Rational(sympy.nsimplify(text.replace("e-", "*10**-")))
    op = draw(st.sampled_from(["+", "-", "*", "/", "^", "neg"]))
    a, va = draw(expressions(depth - 1))
    if op == "neg":
        return f"-({a})", -va
    if op == "^":
        e = draw(st.integers(-3, 3))
        if va == 0 and e < 0:
            e = -e
        return f"({a})^({e})", va ** e
    b, vb = draw(expressions(depth - 1))
    if op == "/" and vb == 0:
        op = "*"
    return f"({a}){op}({b})", {"+": va + vb, "-": va - vb, "*": va * vb, "/": va / vb if vb else 0}[op]


@given(expressions())
@settings(max_examples=200, deadline=None)
def test_grammar_agrees_with_sympy(expr):
    text, value = expr
    got = Numbers().num(text)
    assert (got[0] if got else 0) == Q(int(value.p), int(value.q))


def test_negative_radical_hint_rejected():
    with pytest.raises(Invalid, match="root\\^2 != base"):
        Numbers({"radicals": [{"base": ["-4"], "index": 2, "root": ["2"]}]})


# ---------------------------------------------------------------- files and CLI

def test_check_file_and_unreadable(tmp_path, example1):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(example1, ensure_ascii=False), encoding="utf-8")
    assert check_file(good).valid
    for name, text in [("notjson.json", "{"), ("array.json", "[1]"), ("missing.json", '{"claim": {}}')]:
        (tmp_path / name).write_text(text)
        with pytest.raises(CertificateUnreadable):
            check_file(tmp_path / name)
    with pytest.raises(CertificateUnreadable):
        check_file(tmp_path / "absent.json")
    wrong_type = dict(example1, parameters={})
    with pytest.raises(CertificateUnreadable, match="parameters"):
        check_certificate(wrong_type)


def run_cli(*paths):
    return subprocess.run([sys.executable, "-m", "symkkt.kernel", *map(str, paths)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_exit_codes(tmp_path, example1):
    good, bad, junk = tmp_path / "good.json", tmp_path / "bad.json", tmp_path / "junk.json"
    good.write_text(json.dumps(example1))
    bad.write_text(json.dumps(tampered(example1, lambda c: c["witness"]["multipliers"].__setitem__(0, 2))))
    junk.write_text("not json")
    r = run_cli(good)
    assert r.returncode == 0 and r.stdout.startswith(f"{good}: valid (kkt_point): margins >= 1")
    assert "(Clarke set: gradient" in r.stdout
    r = run_cli(good, bad)
    assert r.returncode == 1 and f"{bad}: INVALID: " in r.stdout and "Traceback" not in r.stderr
    r = run_cli(good, bad, junk)
    assert r.returncode == 2 and len(r.stdout.splitlines()) == 3
    assert run_cli().returncode == 2


def test_kernel_imports_only_stdlib():
    pattern = re.compile(r"^(from|import) (symkkt|sympy|numpy|mpmath|networkx|flint)", re.M)
    files = list((ROOT / "symkkt" / "kernel").glob("*.py"))
    assert files and not [f for f in files if pattern.search(f.read_text())]


def test_field_decisions_agree_with_sympy_on_reducible_moduli():
    """Signs, zero tests and inverses in Q[x]/(p) with p reducible and not squarefree: α is a root
    of one factor, every other factor a trap. Expected signs are sympy's, at 50 digits."""
    x = sympy.Symbol("x")
    rng = random.Random(11)

    def poly(c):
        return sympy.Poly(list(reversed(c)), x)

    checked = 0
    for _ in range(40):
        base = rng.choice([[-2, 0, 1], [-3, 0, 1], [-2, 0, 0, 1], [1, -3, 0, 1]])
        p = poly(base) * poly([rng.randint(-3, 3), 1]) * (poly(base) if rng.random() < 0.3 else 1)
        alpha = rng.choice(sorted(set(sympy.real_roots(poly(base))), key=float))
        roots = sorted(set(sympy.real_roots(p)), key=float)
        i = next(j for j, r in enumerate(roots) if sympy.simplify(r - alpha) == 0)
        lo = sympy.floor(((roots[i - 1] + alpha) / 2 if i else alpha - 1) * 10 ** 6) / 10 ** 6
        hi = sympy.ceiling(((roots[i + 1] + alpha) / 2 if i + 1 < len(roots) else alpha + 1) * 10 ** 6) / 10 ** 6
        F = Field([Q(int(c)) for c in reversed(p.all_coeffs())], Q(str(lo)), Q(str(hi)))
        for _ in range(4):
            a = tuple(Q(rng.randint(-6, 6), rng.randint(1, 4)) for _ in range(rng.randint(1, p.degree())))
            if rng.random() < 0.3:                                  # a multiple of α's polynomial: zero
                a = tuple(Q(int(c)) for c in reversed((poly(base) * poly([rng.randint(-2, 2), 1])).all_coeffs()))
            value = sympy.expand(sum(sympy.Rational(c.numerator, c.denominator) * alpha ** k for k, c in enumerate(a)))
            expect = 0 if sympy.simplify(value) == 0 else (1 if sympy.N(value, 50) > 0 else -1)
            assert F.sign(a) == expect
            if expect:
                assert F.is_zero(F.sub(F.mul(F.inv(a), a), F.const(1)))
            checked += 1
    assert checked == 160
