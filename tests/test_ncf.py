"""The constrained NCF: exact values, Euler's identity, KKT decisions at smooth points and kinks, CLI.

Expected values are derived by hand in the comments or computed independently (a float
forward/backward written here, central finite differences), never taken from the code under test.
"""
import json
import os
import random
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from symkkt.errors import NotHomogeneousError, UsageError
from symkkt.ncf.problem import ncf_from_dicts
from symkkt.ncf.rank_one import positive_unit_vector
from conftest import ROOT, call

EX = os.path.join(ROOT, "symkkt", "examples")


def leaky_arch(d, widths, slope="1/5"):
    layers = [{"dense": {"width": w, "activation": {"leaky_relu": {"slope": slope}}}} for w in widths]
    return {"input": [d], "layers": layers + [{"dense": {"width": 1}}]}


def float_ncf(arch, X, Y, u, slope):
    """N(u) by a float forward pass written here (independent of symkkt.network)."""
    d = arch["input"][0]
    widths = [l["dense"]["width"] for l in arch["layers"]]
    Ws, pos, prev = [], 0, d
    for w in widths:
        Ws.append(np.array(u[pos:pos + w * prev], dtype=float).reshape(w, prev))
        pos, prev = pos + w * prev, w
    A = np.array(X, dtype=float).T
    for W in Ws[:-1]:
        Z = W @ A
        A = np.where(Z >= 0, Z, slope * Z)
    return float(np.dot((Ws[-1] @ A).ravel(), np.array(Y, dtype=float)))


def fd_gradient(fun, u, h=1e-6):
    u = np.array(u, dtype=float)
    g = np.zeros_like(u)
    for j in range(len(u)):
        e = np.zeros_like(u)
        e[j] = h
        g[j] = (fun(u + e) - fun(u - e)) / (2 * h)
    return g


rationals = st.fractions(min_value=-3, max_value=3, max_denominator=7)


@st.composite
def instances(draw):
    d = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))      # depth 2-4
    n = draw(st.integers(1, 4))
    X = [[draw(rationals) for _ in range(d)] for _ in range(n)]
    Y = [draw(rationals) for _ in range(n)]
    arch = leaky_arch(d, widths)
    m = sum(a * b for a, b in zip([d] + widths, widths + [1]))
    u = [draw(rationals) for _ in range(m)]
    return arch, X, Y, u


def problem_of(arch, X, Y, u=None):
    data = {"points": [{"x": [str(v) for v in x], "y": str(y)} for x, y in zip(X, Y)]}
    params = None
    if u is not None:
        from symkkt.network import Network
        from symkkt.spec import architecture_from_json

        net = Network(architecture_from_json(arch))
        params = [{"weight": [[str(v) for v in row] for row in layer["weight"]]} for layer in net.unflatten(list(u))]
    return ncf_from_dicts(arch, data, params)


# ------------------------------------------------------------------------------------------ Euler
@settings(max_examples=25, deadline=None)
@given(instances())
def test_euler_identity_exact(inst):
    """<∇N(u), u> = K·N(u) exactly at rational points (any Clarke element satisfies it)."""
    arch, X, Y, u = inst
    problem, u = problem_of(arch, X, Y, u)
    K = len(arch["layers"])                         # leaky ReLU: K = number of weight layers
    assert problem.degree == K
    g = problem.gradient(u)
    total = sum((sympy.sympify(a) * b for a, b in zip(g, u)), sympy.Integer(0))   # exact: no float in between
    assert sympy.expand(total - K * problem.value(u)) == 0


@settings(max_examples=15, deadline=None)
@given(instances())
def test_value_matches_float_forward(inst):
    arch, X, Y, u = inst
    problem, u = problem_of(arch, X, Y, u)
    assert float(problem.value(u)) == pytest.approx(float_ncf(arch, X, Y, u, 0.2), abs=1e-9)


# --------------------------------------------------------------------- decisions vs float residual
@settings(max_examples=15, deadline=None)
@given(instances())
def test_random_directions_agree_with_float_residual(inst):
    """Away from kinks: exact 'holds' iff the float residual |grad N - K N u/|u|^2| vanishes."""
    arch, X, Y, u = inst
    if all(v == 0 for v in u):
        return
    problem, u = problem_of(arch, X, Y, u)
    res = problem.decide(u, direction=True)
    if res.kinks:
        return                                      # finite differences are meaningless at kinks
    uf = np.array([float(v) for v in u])
    fun = lambda w: float_ncf(arch, X, Y, list(w), 0.2)
    K = len(arch["layers"])
    residual = np.linalg.norm(fd_gradient(fun, uf) - K * fun(uf) * uf / (uf @ uf))
    assert res.clarke_set == "gradient"
    if res.verdict == "holds":
        assert residual < 1e-5
    else:
        assert res.verdict == "refuted" and residual > 1e-7


def rank_one_u(b, widths, eps, L, a_first=None):
    """W_1 = t a_1 b^T, W_l = t a_l a_{l-1}^T, W_L = eps t a_{L-1}^T with t = L^(-1/2) (leaky, p = 1)."""
    t = 1 / sympy.sqrt(L)
    a = [positive_unit_vector(w) for w in widths]
    if a_first is not None:
        a[0] = a_first
    u = [t * ai * bj for ai in a[0] for bj in b]
    for l in range(1, len(widths)):
        u += [t * ai * aj for ai in a[l] for aj in a[l - 1]]
    return u + [eps * t * aj for aj in a[-1]]


# two points, f(b) = phi(b1) + phi(b2), s = 1/2, L = 2: on S = {0, 1}, c = (1, 1), b = (1, 1)/sqrt(2),
# f(b) = sqrt(2), N = |f| L^(-L/2) = sqrt(2)/2.
TWO = ({"input": [2], "layers": [{"dense": {"width": 2, "activation": {"leaky_relu": {"slope": "1/2"}}}},
                                 {"dense": {"width": 1}}]},
       [[1, 0], [0, 1]], [1, 1])


def test_rank_one_point_holds_and_perturbation_refuted():
    arch, X, Y = TWO
    r2 = sympy.sqrt(2)
    u = rank_one_u([1 / r2, 1 / r2], [2], 1, 2)
    problem, u = problem_of(arch, X, Y, u)
    res = problem.decide(u)
    assert res.verdict == "holds" and res.clarke_set == "gradient"
    assert res.ncf_value == r2 / 2 and res.sign == "positive"
    assert res.multiplier == r2                      # λ = K N = 2 · sqrt(2)/2
    assert res.layer_norms == [sympy.Rational(1, 2)] * 2 and res.norm_identity["holds"]
    assert [r["rank_one"] for r in res.rank_one] == [True, True]
    bad = list(u)
    bad[1] += sympy.Rational(1, 50)
    out = problem.decide(bad, direction=True)
    assert out.verdict == "refuted" and out.witness["reason"] == "stationarity"
    assert problem.decide(bad).witness["reason"] == "not_unit"


def test_mixed_sign_hidden_vector_refuted():
    """a_1 = (3/5, -4/5): unit 1 sees -b·x, so H no longer factors through φ(b·x) and u is not KKT."""
    arch, X, Y = TWO
    r2 = sympy.sqrt(2)
    u = rank_one_u([1 / r2, 1 / r2], [2], 1, 2, a_first=[sympy.Rational(3, 5), sympy.Rational(-4, 5)])
    problem, u = problem_of(arch, X, Y, u)
    assert sum(v * v for v in u) == 1
    res = problem.decide(u)
    assert res.verdict == "refuted" and res.rank_one[0]["rank_one"]


def test_negative_point_is_kkt_of_min_and_sign_reported():
    """Negating W_L negates N and keeps K N(u) u = grad N(u): a KKT point of min N."""
    arch, X, Y = TWO
    r2 = sympy.sqrt(2)
    u = rank_one_u([1 / r2, 1 / r2], [2], -1, 2)
    problem, u = problem_of(arch, X, Y, u)
    res = problem.decide(u)
    assert res.verdict == "holds" and res.sign == "negative" and res.ncf_value == -r2 / 2
    assert "min N" in res.reason


def test_biases_refused_first_layer_bias_allowed():
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "bias": True, "activation": {"leaky_relu": {"slope": "1/2"}}}},
                                     {"dense": {"width": 1, "bias": True}}]}
    with pytest.raises(NotHomogeneousError, match="bias in weight layer 2"):
        ncf_from_dicts(arch, {"points": [{"x": [1], "y": 1}]})
    arch["layers"][1]["dense"]["bias"] = False        # a first-layer bias is a weight on the input 1
    problem, _ = ncf_from_dicts(arch, {"points": [{"x": [1], "y": 1}]})
    assert problem.degree == 2


def test_zero_point_is_bad_input():
    arch, X, Y = TWO
    problem, u = problem_of(arch, X, Y, [0] * 6)
    with pytest.raises(UsageError, match="u = 0"):
        problem.decide(u)


# ----------------------------------------------------------------------------------------- kinks
ONE = {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"leaky_relu": {"slope": "1/2"}}}},
                                {"dense": {"width": 1}}]}


def test_kink_single_point_refuted_for_every_set():
    # u = (w, a) = (0, 1), x = 1, y = 1: N = 0, target 0; ∂N/∂w = a·g with g in [1/2, 1]: never 0.
    problem, u = problem_of(ONE, [[1]], [1], [0, 1])
    for cs in ("clarke", "chain_rule_hull"):
        res = problem.decide(u, clarke_set=cs)
        assert res.verdict == "refuted" and res.kinks == {0: ["1:0"]}
        y = [sympy.nsimplify(v) for v in res.witness["farkas"]]
        # y·t = 0 < y·(g, 0) for both vertex slopes g = 1/2, 1
        assert all(y[0] * g > 0 for g in (sympy.Rational(1, 2), 1))


def test_joint_patterns_of_two_points():
    # x = 1 and x = -1, y = 1, 1, u = (0, 1): along w > 0 point 0 takes slope 1 and point 1 slope 1/2,
    # ∂N/∂w = 1 - 1/2 = 1/2; along w < 0 it is 1/2 - 1 = -1/2. The Clarke set {(t, 0): |t| <= 1/2} has 0.
    problem, u = problem_of(ONE, [[1], [-1]], [1, 1], [0, 1])
    res = problem.decide(u)
    assert res.verdict == "holds" and res.clarke_set == "clarke"
    assert res.patterns["realized"] == 2 and res.patterns["gordan_excluded"] == 2
    assert sorted(t["weight"] for t in res.clarke) == [sympy.Rational(1, 2)] * 2


def tied_instance():
    """Hull holds, Clarke refutes (worked by hand).

    H = a·σ(w·x), σ leaky 1/2; x1 = (1,-1), y1 = 1; x2 = 2·x1, y2 = -1/2; x3 = (1,1), y3 = 1;
    x4 = (1,0), y4 = 1/2; u = (1/2, 1/2, sqrt(2)/2). Points 1, 2 sit on the kink w·x = 0 and their
    slopes are tied (x2 = 2·x1). ∂N/∂w = a[(1,1) + (1/2)(1,0) + (g1 - g2)(1,-1)], N = 5aw/2 = 5 sqrt(2)/8,
    target 2N·w = (5 sqrt(2)/8)(1,1) forces g1 - g2 = -1/4: possible with independent slopes, impossible
    with tied ones (g1 = g2).
    """
    arch = {"input": [2], "layers": [{"dense": {"width": 1, "activation": {"leaky_relu": {"slope": "1/2"}}}},
                                     {"dense": {"width": 1}}]}
    X = [[1, -1], [2, -2], [1, 1], [1, 0]]
    Y = [1, Fraction(-1, 2), 1, Fraction(1, 2)]
    return problem_of(arch, X, Y, [sympy.Rational(1, 2), sympy.Rational(1, 2), sympy.sqrt(2) / 2])


def test_tied_kinks_clarke_refutes_hull_holds():
    problem, u = tied_instance()
    assert problem.value(u) == 5 * sympy.sqrt(2) / 8
    clarke = problem.decide(u)
    assert clarke.verdict == "refuted" and clarke.clarke_set == "clarke"
    assert clarke.witness["excluded"]                 # opposite signs of the tied units are excluded
    hull = problem.decide(u, clarke_set="chain_rule_hull")
    assert hull.verdict == "holds" and hull.clarke_set == "chain_rule_hull"
    slope = {e["point"]: sum(t["weight"] * t["slopes"]["1:0"] for t in e["terms"]) for e in hull.clarke}
    assert slope[0] - slope[1] == sympy.Rational(-1, 4)


# ------------------------------------------------------------------------------------------- CLI
def paths(name):
    return [os.path.join(EX, name, f"{p}.yaml") for p in ("arch", "data", "params")]


def test_cli_examples_and_certificates(capsys, tmp_path):
    cert = tmp_path / "c.json"
    code, out, _ = call(capsys, "ncf", *paths("ncf_rank_one"), "--json", "--cert", cert)
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "holds" and obj["sign"] == "positive"
    assert obj["layer_norms"] == ["1/3", "1/3", "1/3"] and all(r["rank_one"] for r in obj["rank_one"])
    assert call(capsys, "verify", cert)[0] == 0
    code, out, _ = call(capsys, "ncf", "--direction", *paths("ncf_perturbed"))
    assert code == 1 and "refuted" in out
    code, out, _ = call(capsys, "ncf", *paths("ncf_negative"), "--json")
    assert code == 0 and json.loads(out)["sign"] == "negative"


def test_cli_bad_input(capsys, tmp_path):
    arch, data, params = paths("ncf_rank_one")
    zero = tmp_path / "zero.yaml"
    zero.write_text("- weight: [[0, 0, 0], [0, 0, 0], [0, 0, 0]]\n- weight: [[0, 0, 0], [0, 0, 0]]\n- weight: [[0, 0]]\n")
    code, out, err = call(capsys, "ncf", arch, data, zero, "--json")
    assert code == 2 and err.count("\n") == 1 and "u = 0" in err and json.loads(out)["verdict"] == "error"
    code, _, err = call(capsys, "ncf", arch, data)
    assert code == 2 and "PARAMS" in err
    conv = paths("conv_tied")
    code, _, err = call(capsys, "ncf", conv[0], conv[1], "--rank-one")
    assert code == 2 and "only dense layers" in err and "(got ['relu'])" in err
    bias = tmp_path / "bias.yaml"
    bias.write_text("input: [3]\nlayers:\n  - dense: {width: 2, activation: relu}\n  - dense: {width: 1, bias: true}\n")
    code, _, err = call(capsys, "ncf", bias, data, "--rank-one")
    assert code == 2 and "not positively homogeneous" not in err and "breaks homogeneity" in err
