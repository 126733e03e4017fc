"""Property tests of :mod:`symkkt.network`: forward pass, reverse mode, homogeneity and graph.

Every fact is checked against an independently obtained value: the homogeneity degree
against the formula d_l = p_l (d_{l-1} + 1) computed here from the layer list, gradients
against exact difference quotients and against ``sympy.diff`` of the symbolic network,
exact outputs against float / mpmath evaluation and against sympy's evaluation of
``symbolic_output`` (a different code path), and example1 against docs/mathematics.md §8.
"""
from __future__ import annotations

import mpmath
import networkx as nx
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from sympy import Rational as R

from symkkt.api import example_paths
from symkkt.network import Network
from symkkt.spec import (architecture_from_json, load_architecture, load_data, load_parameters)
from symkkt.tensor import ExactDomain, FloatDomain, MPDomain

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

FIXED_CONV2D = {"input": [1, 4, 4], "layers": [
    {"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
    {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]}


# ------------------------------------------------------------------------------ helpers

def make_net(arch_json):
    return Network(architecture_from_json(arch_json))


def act_power(act):
    """Homogeneity power p of an activation in input-file form (computed independently)."""
    if isinstance(act, str):
        return 1
    (kind, body), = act.items()
    return int(body.get("power", 1))


def degree_by_hand(arch_json):
    """L from the layer list: d_0 = 0, d_l = p_l (d_{l-1} + 1) over weight layers."""
    d = 0
    for layer in arch_json["layers"]:
        if isinstance(layer, dict) and ("dense" in layer or "conv" in layer):
            body = layer.get("dense") or layer.get("conv")
            d = act_power(body.get("activation", "linear")) * (d + 1)
    return d


def exact_trace(net, theta, X):
    dom = ExactDomain.for_numbers(list(theta) + [v for x in X for v in x] + net.constants())
    return net.forward(dom, list(theta), [list(x) for x in X])


def exact_outputs(net, theta, X):
    return [sympy.sympify(v) for v in exact_trace(net, theta, X).output.to_sympy()]


def columns(J):
    """An exact (m, n) Jacobian as a list of n columns of sympy numbers."""
    rows = J.to_sympy()
    return [list(col) for col in zip(*rows)]


def is_zero(e):
    e = sympy.sympify(e)
    return e == 0 or sympy.simplify(sympy.expand(e)) == 0


def input_size(arch_json):
    return int(np.prod(arch_json["input"]))


# ------------------------------------------------------------------------------ strategies

def rationals(max_num=4, max_den=4, nonzero=False):
    nums = st.integers(-max_num, max_num)
    if nonzero:
        nums = st.sampled_from([p for p in range(-max_num, max_num + 1) if p != 0])
    return st.builds(lambda p, q: R(p, q), nums, st.integers(1, max_den))


positive_rationals = st.builds(lambda p, q: R(p, q), st.integers(1, 5), st.integers(1, 5))

slopes_text = st.builds(lambda p, q: f"{p}/{q}", st.integers(0, 4), st.integers(5, 5)) | \
    st.sampled_from(["0", "1/5", "1/100", "2/3"])


@st.composite
def activations(draw, kinds=("linear", "relu", "leaky_relu", "poly_relu", "poly_leaky_relu")):
    kind = draw(st.sampled_from(kinds))
    if kind in ("linear", "relu"):
        return kind
    if kind == "leaky_relu":
        return {"leaky_relu": {"slope": draw(slopes_text)}}
    if kind == "poly_relu":
        return {"poly_relu": {"power": draw(st.sampled_from([2, 3]))}}
    return {"poly_leaky_relu": {"slope": draw(slopes_text), "power": draw(st.sampled_from([2, 3]))}}


@st.composite
def dense_archs(draw, kinds=("linear", "relu", "leaky_relu", "poly_relu", "poly_leaky_relu"),
                max_hidden=3, max_width=3):
    d = draw(st.integers(1, 3))
    layers = [{"dense": {"width": draw(st.integers(1, max_width)), "activation": draw(activations(kinds))}}
              for _ in range(draw(st.integers(1, max_hidden)))]
    layers.append({"dense": {"width": 1}})
    return {"input": [d], "layers": layers}


@st.composite
def conv_archs(draw, pool=None):
    C, L = draw(st.integers(1, 2)), draw(st.integers(4, 6))
    k, s = draw(st.integers(2, 3)), draw(st.integers(1, 2))
    act = draw(st.sampled_from(["relu", {"leaky_relu": {"slope": "1/5"}}, {"leaky_relu": {"slope": "1/2"}}]))
    layers = [{"conv": {"channels": draw(st.integers(1, 2)), "kernel": k, "stride": s, "activation": act}}]
    out = (L - k) // s + 1
    use_pool = draw(st.booleans()) if pool is None else pool
    if use_pool and out >= 2:
        layers.append({"avgpool": {"kernel": 2}})
    layers += ["flatten", {"dense": {"width": 1}}]
    return {"input": [C, L], "layers": layers}


@st.composite
def conv2d_archs(draw):
    """Input (C, H, W), one 2-D conv (kernel 2, stride 1 or 2), optional avgpool 2, dense 1."""
    C, H, W = draw(st.integers(1, 2)), draw(st.integers(3, 4)), draw(st.integers(3, 4))
    s = draw(st.sampled_from([1, 2, [1, 2], [2, 1]]))
    act = draw(st.sampled_from(["relu", {"leaky_relu": {"slope": "1/3"}}]))
    layers = [{"conv": {"channels": draw(st.integers(1, 2)), "kernel": 2, "stride": s, "activation": act}}]
    ss = s if isinstance(s, list) else [s, s]
    if draw(st.booleans()) and all((n - 2) // t + 1 >= 2 for n, t in zip((H, W), ss)):
        layers.append({"avgpool": {"kernel": 2}})
    layers += ["flatten", {"dense": {"width": 1}}]
    return {"input": [C, H, W], "layers": layers}


any_archs = dense_archs() | conv_archs() | conv2d_archs() | st.just(FIXED_CONV2D)


@st.composite
def problems(draw, archs=any_archs, n_points=2, nonzero=False):
    """(architecture json, network, θ, X) with small exact rationals."""
    arch_json = draw(archs)
    net = make_net(arch_json)
    theta = draw(st.lists(rationals(nonzero=nonzero), min_size=net.num_parameters,
                          max_size=net.num_parameters))
    size = input_size(arch_json)
    X = draw(st.lists(st.lists(rationals(nonzero=nonzero), min_size=size, max_size=size),
                      min_size=1, max_size=n_points))
    return arch_json, net, theta, X


# ------------------------------------------------------------------------------ 1. homogeneity

@SETTINGS
@given(problems(), positive_rationals)
def test_homogeneity_scaling_is_exact(prob, c):
    arch_json, net, theta, X = prob
    L = net.homogeneity().degree
    assert L == degree_by_hand(arch_json)
    base = exact_outputs(net, theta, X)
    scaled = exact_outputs(net, [c * t for t in theta], X)
    for b, s in zip(base, scaled):
        assert is_zero(s - c ** L * b)


@pytest.mark.parametrize("acts, expected", [
    (["relu", "relu", "relu"], 4),
    ([{"poly_relu": {"power": 2}}], 2 * (0 + 1) + 1),                       # 3
    ([{"poly_relu": {"power": 2}}, {"poly_relu": {"power": 3}}], 3 * (2 + 1) + 1),   # 10
    ([{"poly_leaky_relu": {"slope": "1/5", "power": 3}}, "linear", {"poly_relu": {"power": 2}}],
     2 * ((3 + 1) + 1) + 1),                                               # 11
])
def test_homogeneity_degree_table(acts, expected):
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": a}} for a in acts]
            + [{"dense": {"width": 1}}]}
    assert Network(architecture_from_json(arch)).homogeneity().degree == expected == degree_by_hand(arch)


def test_bias_in_first_layer_keeps_homogeneity():
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu", "bias": True}},
                                     {"dense": {"width": 1}}]}
    net = Network(architecture_from_json(arch))
    assert net.homogeneity().degree == 2
    assert net.parameter_names[4:6] == ["b1[0]", "b1[1]"]
    theta = [1, 2, -1, 3, R(1, 2), -5, 2, 3]
    X = [[1, 1], [R(-1, 3), 2]]
    c = R(7, 3)
    for b, s in zip(exact_outputs(net, theta, X), exact_outputs(net, [c * t for t in theta], X)):
        assert s == c ** 2 * b
    # by hand: z = W1 x + b1 = (3 + 1/2, 2 - 5) and (-1/3 + 4 + 1/2, 1/3 + 6 - 5) on the two points
    assert exact_outputs(net, theta, X) == [2 * R(7, 2), 2 * R(25, 6) + 3 * R(4, 3)]


# ------------------------------------------------------------------------------ 2. Euler

@SETTINGS
@given(problems(), st.data())
def test_euler_identity(prob, data):
    """⟨h, θ⟩ = L·Φ for the default Clarke element and for random slopes at every kink."""
    arch_json, net, theta, X = prob
    L = net.homogeneity().degree
    trace = exact_trace(net, theta, X)
    cols = list(range(len(X)))
    out = trace.output.to_sympy()
    chosen = []
    for k in cols:
        pick = {}
        for i, u in net.kinks(trace, k):
            lo, hi = net.rules[i].clarke_interval()
            pick[(i, u)] = lo + (hi - lo) * R(data.draw(st.integers(0, 4)), 4)
        chosen.append(pick)
    for slopes in (None, chosen):
        J = net.jacobian(trace, cols, slopes)
        assert J.shape == (net.num_parameters, len(X))
        for k, h in enumerate(columns(J)):
            assert is_zero(sum(hi * ti for hi, ti in zip(h, theta)) - L * out[k])


@st.composite
def kink_problems(draw):
    """A dense net whose first layer is relu / leaky relu and unit j sits exactly on its kink."""
    first = draw(st.sampled_from(["relu", {"leaky_relu": {"slope": "1/5"}}, {"leaky_relu": {"slope": "0"}}]))
    arch_json = draw(dense_archs())
    arch_json["input"] = [draw(st.integers(2, 3))]
    arch_json["layers"][0]["dense"]["activation"] = first
    net = make_net(arch_json)
    d = arch_json["input"][0]
    width = arch_json["layers"][0]["dense"]["width"]
    theta = draw(st.lists(rationals(nonzero=True), min_size=net.num_parameters, max_size=net.num_parameters))
    x = draw(st.lists(rationals(nonzero=True), min_size=d, max_size=d))
    j = draw(st.integers(0, width - 1))
    row = theta[j * d:(j + 1) * d]
    if draw(st.booleans()):
        new = [R(0)] * d                                   # a zero row: z_j = 0 on every x
    else:                                                  # row projected orthogonal to x
        xx = sum(v * v for v in x)
        rx = sum(r * v for r, v in zip(row, x))
        new = [r - rx / xx * v for r, v in zip(row, x)]
    theta[j * d:(j + 1) * d] = new
    lo = R(0) if first == "relu" else R(first["leaky_relu"]["slope"])
    g = draw(st.builds(lambda a, b: lo + (1 - lo) * R(a, b), st.integers(0, 8), st.integers(8, 8)))
    return arch_json, net, theta, x, j, lo, g


@SETTINGS
@given(kink_problems())
def test_euler_identity_at_a_kink_for_any_clarke_slope(prob):
    arch_json, net, theta, x, j, lo, g = prob
    L = net.homogeneity().degree
    trace = exact_trace(net, theta, [x])
    assert trace.signs[0][j, 0] == 0
    assert (0, j) in net.kinks(trace, 0)
    phi = trace.output.to_sympy()[0]
    cols = {}
    for slope in (R(1, 2), g, lo, R(1)):
        h = columns(net.jacobian(trace, [0], [{(0, j): slope}]))[0]
        assert is_zero(sum(hi * ti for hi, ti in zip(h, theta)) - L * phi), slope
        cols[slope] = h
    # the Clarke element is affine in the chosen slope (and slope = lo is the default)
    default = columns(net.jacobian(trace, [0]))[0]
    assert default == cols[lo]
    t = (g - lo) / (1 - lo)
    for a, b, c in zip(cols[g], cols[lo], cols[R(1)]):
        assert is_zero(a - ((1 - t) * b + t * c))
    # the slope reaches the incoming weights of unit j: d/dW1[j,:] = slope * delta_j * x, where
    # delta_j (the backpropagated derivative at unit j's output) does not depend on the slope
    d = len(x)
    one = cols[R(1)][j * d:(j + 1) * d]
    if any(v != 0 for v in one):
        ratios = {sympy.simplify(b / v) for b, v in zip(one, x)}
        assert len(ratios) == 1
    for slope, h in cols.items():
        assert all(is_zero(a - slope * b) for a, b in zip(h[j * d:(j + 1) * d], one)), slope


def test_kink_slope_changes_the_clarke_element():
    """Φ = a·relu(w·x) with w·x = 0: h_w = g·a·x for the chosen slope g."""
    net = Network(architecture_from_json({"input": [2], "layers": [
        {"dense": {"width": 1, "activation": "relu"}}, {"dense": {"width": 1}}]}))
    theta, x = [R(1), R(-1), R(3)], [R(2), R(2)]
    trace = exact_trace(net, theta, [x])
    assert net.kinks(trace, 0) == [(0, 0)]
    for g in (R(0), R(1, 4), R(1, 2), R(1)):
        h = columns(net.jacobian(trace, [0], [{(0, 0): g}]))[0]
        assert h == [g * 3 * 2, g * 3 * 2, 0]


# ------------------------------------------------------------------------------ 3. tiers

@SETTINGS
@given(problems())
def test_exact_float_and_mpmath_agree(prob):
    arch_json, net, theta, X = prob
    trace = exact_trace(net, theta, X)
    exact = trace.output.to_sympy()
    J = columns(net.jacobian(trace, list(range(len(X)))))
    ftrace = net.forward(FloatDomain(), theta, X)
    mtrace = net.forward(MPDomain(50), theta, X)
    assert isinstance(ftrace.output, np.ndarray) and ftrace.output.shape == (len(X),)
    fJ = net.jacobian(ftrace, list(range(len(X))))
    mJ = net.jacobian(mtrace, list(range(len(X))))
    def same_pattern(other, k):
        # the Clarke element taken depends on the signs: Jacobians are only comparable where the
        # inexact tier sees the exact activation pattern (a rounded 1 - 1/3 - 2/3 is not 0)
        return all(np.array_equal(S[..., k], other.signs[i][..., k]) for i, S in trace.signs.items())

    compared = 0
    with mpmath.workdps(80):
        for k, e in enumerate(exact):
            ev = mpmath.mpf(str(sympy.N(e, 80)))
            assert abs(ftrace.output[k] - float(ev)) <= 1e-9 * (1 + abs(float(ev)))
            assert abs(mtrace.output[k] - ev) <= mpmath.mpf("1e-40") * (1 + abs(ev))
            for i, hi in enumerate(J[k]):
                hv = mpmath.mpf(str(sympy.N(hi, 80)))
                if same_pattern(ftrace, k):
                    assert abs(fJ[i, k] - float(hv)) <= 1e-9 * (1 + abs(float(hv)))
                if same_pattern(mtrace, k):
                    assert abs(mJ[i, k] - hv) <= mpmath.mpf("1e-40") * (1 + abs(hv))
                    compared += 1
    if not any((S == 0).any() for S in trace.signs.values()):
        assert compared == len(J) * net.num_parameters   # off kinks 50 digits see every sign


# ------------------------------------------------------------------------------ 4. gradients

@SETTINGS
@given(problems(archs=dense_archs(kinds=("linear", "relu", "leaky_relu")) | conv_archs() | conv2d_archs(),
                n_points=1, nonzero=True))
def test_gradient_equals_exact_central_difference(prob):
    """ReLU family with power 1: Φ is affine in each θ_i on a fixed activation pattern."""
    arch_json, net, theta, X = prob
    base = exact_trace(net, theta, X)
    assume(all((S != 0).all() for S in base.signs.values()))
    h = columns(net.jacobian(base, [0]))[0]
    t = R(1, 10 ** 6)
    checked = 0
    for i in range(net.num_parameters):
        plus, minus = list(theta), list(theta)
        plus[i] += t
        minus[i] -= t
        tp, tm = exact_trace(net, plus, X), exact_trace(net, minus, X)
        if not all(np.array_equal(base.signs[k], tp.signs[k]) and np.array_equal(base.signs[k], tm.signs[k])
                   for k in base.signs):
            continue
        quotient = (tp.output.to_sympy()[0] - tm.output.to_sympy()[0]) / (2 * t)
        assert quotient == h[i], net.parameter_names[i]
        checked += 1
    assume(checked > 0)


@SETTINGS
@given(problems(archs=dense_archs(kinds=("linear", "poly_relu", "poly_leaky_relu"), max_hidden=2),
                n_points=1), st.data())
def test_gradient_equals_sympy_diff_for_poly_activations(prob, data):
    arch_json, net, theta, X = prob
    names = sympy.symbols(f"t0:{net.num_parameters}", real=True)
    expr = net.symbolic_output(list(names), X[0])
    trace = exact_trace(net, theta, X)
    h = columns(net.jacobian(trace, [0]))[0]
    subs = dict(zip(names, theta))
    assert is_zero(expr.subs(subs) - trace.output.to_sympy()[0])
    idx = data.draw(st.lists(st.integers(0, net.num_parameters - 1), min_size=1, max_size=4, unique=True))
    for i in idx:
        assert is_zero(sympy.diff(expr, names[i]).subs(subs) - h[i]), net.parameter_names[i]


# ------------------------------------------------------------------------------ 5. symbolic path

@SETTINGS
@given(problems())
def test_forward_agrees_with_symbolic_output(prob):
    arch_json, net, theta, X = prob
    out = exact_outputs(net, theta, X)
    for k, x in enumerate(X):
        assert is_zero(net.symbolic_output(theta, x) - out[k])


def test_fixed_conv2d_by_hand():
    """[1,4,4] → conv 2×(2×2) relu → avgpool 2 (floor: top-left 2×2 of the 3×3 map) → dense 1."""
    net = make_net(FIXED_CONV2D)
    assert net.num_parameters == 2 * 4 + 2
    assert net.homogeneity().degree == 2
    theta = [1, 0, 0, -1,          # channel 0: x[i,j] - x[i+1,j+1]
             0, 1, 0, 0,           # channel 1: x[i,j+1]
             2, R(-1, 3)]
    theta = [sympy.sympify(v) for v in theta]
    x = np.arange(16).reshape(4, 4) ** 2 % 7 - 3       # fixed integer image
    z0 = np.array([[x[i, j] - x[i + 1, j + 1] for j in range(3)] for i in range(3)])
    z1 = np.array([[x[i, j + 1] for j in range(3)] for i in range(3)])
    p0 = R(int(np.maximum(z0[:2, :2], 0).sum()), 4)
    p1 = R(int(np.maximum(z1[:2, :2], 0).sum()), 4)
    expected = 2 * p0 - R(1, 3) * p1
    flat = [sympy.Integer(int(v)) for v in x.ravel()]
    assert exact_outputs(net, theta, [flat]) == [expected]
    assert is_zero(net.symbolic_output(theta, flat) - expected)


# ------------------------------------------------------------------------------ 6. algebraic

def test_example1_outputs_in_q_2_to_the_quarter():
    arch_path, data_path, params_path = example_paths("example1")
    arch = load_architecture(arch_path)
    data = load_data(data_path, arch)
    net = Network(arch)
    theta = net.flatten(load_parameters(params_path, arch))
    assert theta[2] == -sympy.root(2, 4) ** -3
    trace = exact_trace(net, theta, [list(x) for x in data.X])
    assert trace.domain.field.degree == 4
    assert sympy.expand(trace.domain.field.generator ** 4) == 2
    assert trace.output.to_sympy() == [1, -1, 3]
    assert [e.to_sympy() for e in trace.output.elements()] == [1, -1, 3]
    # by hand: Φ(x) = relu(x1) - 2^(-1/4) relu(2^(-3/4) (x2 - x1))
    a = sympy.root(2, 4)
    for x, want in zip(data.X, [1, -1, 3]):
        phi = sympy.Max(x[0], 0) - sympy.Max((x[1] - x[0]) / a ** 3, 0) / a
        assert sympy.simplify(phi - want) == 0
    # float and 50-digit evaluation of the algebraic parameters
    X = [list(x) for x in data.X]
    assert np.allclose(net.forward(FloatDomain(), theta, X).output, [1, -1, 3], rtol=0, atol=1e-12)
    with mpmath.workdps(50):
        mp_out = net.forward(MPDomain(50), theta, X).output
        assert all(abs(v - w) < mpmath.mpf("1e-40") for v, w in zip(mp_out, [1, -1, 3]))
    # margins y·Φ = (1, 1, 3), and Euler ⟨h, θ⟩ = 2Φ in the field
    J = columns(net.jacobian(trace, [0, 1, 2]))
    for h, out in zip(J, [1, -1, 3]):
        assert is_zero(sum(hi * ti for hi, ti in zip(h, theta)) - 2 * out)


# ------------------------------------------------------------------------------ 7. negative controls

def _not_homogeneous_for_any_small_L(phi, phi_scaled, c):
    for L in range(1, 5):
        assert phi_scaled != c ** L * phi, L


def test_bias_in_second_layer_is_not_homogeneous():
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                     {"dense": {"width": 1, "bias": True}}]}
    net = Network(architecture_from_json(arch))
    h = net.homogeneity()
    assert h.degree is None and not h.holds
    assert "bias" in h.reason and "2" in h.reason
    theta, x, c = [1, 0, 0, 1, 1, 1, 1], [1, 1], R(2)
    phi, = exact_outputs(net, theta, [x])
    phi2, = exact_outputs(net, [c * t for t in theta], [x])
    assert (phi, phi2) == (3, 10)                 # by hand: 1 + 1 + 1 and 4 + 4 + 2
    _not_homogeneous_for_any_small_L(phi, phi2, c)


def test_tanh_is_not_homogeneous():
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": "tanh"}}, {"dense": {"width": 1}}]}
    net = Network(architecture_from_json(arch))
    h = net.homogeneity()
    assert h.degree is None and "tanh" in h.reason
    with pytest.raises(ArithmeticError):
        exact_trace(net, [1, 1], [[1]])
    dom = MPDomain(50)
    phi = net.forward(dom, [1, 1], [[1]]).output[0]
    phi2 = net.forward(dom, [2, 2], [[1]]).output[0]
    with mpmath.workdps(50):
        assert abs(phi - mpmath.tanh(1)) < mpmath.mpf("1e-40")
        assert abs(phi2 - 2 * mpmath.tanh(2)) < mpmath.mpf("1e-40")
        for L in range(1, 5):
            assert abs(phi2 - 2 ** L * phi) > mpmath.mpf("0.1"), L


def test_polynomial_with_two_degrees_is_not_homogeneous():
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"polynomial": {"coeffs": [0, 1, 1]}}}},
                                     {"dense": {"width": 1}}]}
    net = Network(architecture_from_json(arch))
    h = net.homogeneity()
    assert h.degree is None and "polynomial" in h.reason and "degrees" in h.reason
    theta, x, c = [1, 1], [1], R(2)
    phi, = exact_outputs(net, theta, [x])
    phi2, = exact_outputs(net, [c * t for t in theta], [x])
    assert (phi, phi2) == (2, 12)                 # σ(z) = z + z²: 1·σ(1) and 2·σ(2)
    _not_homogeneous_for_any_small_L(phi, phi2, c)


def test_polynomial_with_one_degree_is_homogeneous():
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"polynomial": {"coeffs": [0, 0, 3]}}}},
                                     {"dense": {"width": 1}}]}
    net = Network(architecture_from_json(arch))
    assert net.homogeneity().degree == 2 * (0 + 1) + 1
    theta, x, c = [R(1, 2), 3], [R(-2)], R(5, 2)
    phi, = exact_outputs(net, theta, [x])
    assert phi == 3 * 3 * (R(1, 2) * -2) ** 2
    assert exact_outputs(net, [c * t for t in theta], [x]) == [c ** 3 * phi]


# ------------------------------------------------------------------------------ 8. graph

@SETTINGS
@given(dense_archs() | conv_archs() | conv2d_archs() | st.just(FIXED_CONV2D))
def test_graph_is_a_dag_of_sympy_expressions(arch_json):
    net = Network(architecture_from_json(arch_json))
    g = net.graph
    assert isinstance(g, nx.DiGraph) and nx.is_directed_acyclic_graph(g)
    weight_layers = [l for l in arch_json["layers"] if isinstance(l, dict) and ("dense" in l or "conv" in l)]
    assert "x" in g and g.in_degree("x") == 0
    for w, layer in enumerate(weight_layers, start=1):
        kind = "dense" if "dense" in layer else "conv"
        op = f"{kind}{w}"
        assert op in g and f"W{w}" in g
        assert g.nodes[f"W{w}"]["op"] == "parameter" and g.in_degree(f"W{w}") == 0
        assert g.has_edge(f"W{w}", op)
        assert tuple(g.nodes[f"W{w}"]["shape"]) == tuple(net.param_shapes[w - 1]["weight"])
        act = layer[kind].get("activation", "linear")
        if act != "linear" and not (isinstance(act, dict) and act.get("leaky_relu", {}).get("slope") in ("1", "1/1")):
            assert f"act{w}" in g and g.has_edge(op, f"act{w}")
            assert g.nodes[f"act{w}"]["op"] == "activation"
    for name, attrs in g.nodes(data=True):
        assert isinstance(attrs["expr"], sympy.Basic), name
    ops = [n for n, a in g.nodes(data=True) if a["op"] != "parameter"]
    # the operation nodes form one chain x -> ... -> output
    chain = g.subgraph(ops)
    assert nx.is_directed_acyclic_graph(chain)
    order = list(nx.topological_sort(chain))
    assert order[0] == "x" and order[-1] == g.graph["output"]
    assert all(chain.has_edge(a, b) for a, b in zip(order, order[1:]))
    assert g.graph["output"] == f"dense{len(weight_layers)}"
    # operation expressions have the shape of the flattened layer output
    for n in ops:
        expr = g.nodes[n]["expr"]
        assert expr.shape == (int(np.prod(g.nodes[n]["shape"])), 1), n


def test_graph_of_example1():
    net = Network(load_architecture(example_paths("example1")[0]))
    g = net.graph
    assert set(g.nodes) == {"x", "W1", "dense1", "act1", "W2", "dense2"}
    assert set(g.edges) == {("x", "dense1"), ("W1", "dense1"), ("dense1", "act1"),
                            ("act1", "dense2"), ("W2", "dense2")}
    W1 = sympy.MatrixSymbol("W1", 2, 2)
    h0 = sympy.MatrixSymbol("h0", 2, 1)
    assert g.nodes["dense1"]["expr"] == W1 * h0
    assert g.nodes["act1"]["activation"] == "relu"


def test_graph_bias_node():
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu", "bias": True}},
                                     {"dense": {"width": 1}}]}
    g = Network(architecture_from_json(arch)).graph
    assert g.has_edge("b1", "dense1") and g.nodes["b1"]["op"] == "parameter"


# regression: the avgpool node used to keep the un-pooled expression, so building the graph
# of any conv → avgpool → flatten → dense net raised sympy's ShapeError
@pytest.mark.parametrize("arch_json", [
    FIXED_CONV2D,
    {"input": [1, 6], "layers": [{"conv": {"channels": 2, "kernel": 3, "activation": "relu"}},
                                 {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]},
], ids=["conv2d", "conv1d"])
def test_network_with_avgpool_builds(arch_json):
    net = Network(architecture_from_json(arch_json))
    pool = [n for n, a in net.graph.nodes(data=True) if a["op"] == "avgpool"]
    assert len(pool) == 1
    node = net.graph.nodes[pool[0]]
    assert node["expr"].shape == (int(np.prod(node["shape"])), 1)
