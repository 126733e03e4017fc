"""The KKT system written out symbolically (``symkkt.system``, ``symkkt kkt --show-system``).

Each check compares the system's expressions with something computed another way: the exact forward
pass and reverse-mode Clarke elements of :class:`Network` (in the number field of θ), the
multipliers, slopes and Farkas vectors of :meth:`MaxMarginProblem.decide`, sympy differentiation of
the margin expressions, and equations derived by hand in comments.
"""
from __future__ import annotations

import json

import pytest
import sympy
from hypothesis import HealthCheck, given, settings, strategies as st
from sympy import Rational as R

from conftest import call
from symkkt.api import example_paths, load_example, problem_from_dicts
from symkkt.errors import NotHomogeneousError, UsageError
from symkkt.system import KKTSystem, kkt_system, parameter_symbol, slope_symbol
from symkkt.tensor import ExactDomain


def forward_margins(problem, theta):
    """y_k Φ(θ; x_k) from Network's exact forward pass."""
    dom = ExactDomain.for_numbers(list(theta) + [v for x in problem.data.X for v in x]
                                  + problem.network.constants())
    out = problem.network.forward(dom, list(theta), [list(x) for x in problem.data.X]).output.to_sympy()
    return [y * o for y, o in zip(problem.data.y, out)]


def columns(system, theta, k, slopes):
    """y_k h_k as the system writes it: with λ = e_k, residual = θ − y_k h_k."""
    lam = [1 if j == k else 0 for j in range(len(system.multipliers))]
    res = system.substitute(theta, lam, slopes)["residuals"]
    return [t - r for t, r in zip(theta, res)]


def jacobian_column(problem, theta, k, slopes):
    """h_k from Network.jacobian (reverse mode in the number field) with the given kink slopes."""
    net = problem.network
    dom = ExactDomain.for_numbers(list(theta) + [v for x in problem.data.X for v in x] + net.constants()
                                  + list(slopes.values()))
    trace = net.forward(dom, list(theta), [list(x) for x in problem.data.X])
    chosen = {}
    for (point, label), g in slopes.items():
        if point == k:
            layer, unit = label.split(":")
            chosen[(net.arch.weight_layers[int(layer) - 1], int(unit))] = g
    return [row[0] for row in net.jacobian(trace, [k], [chosen]).to_sympy()]


def is_zero(v):
    return sympy.simplify(v) == 0


# -- example1: no kinks ---------------------------------------------------------------------------
def test_example1_system_is_satisfied_by_the_decisions_multipliers():
    problem, theta = load_example("example1")
    system = problem.system(theta)
    assert isinstance(system, KKTSystem)
    decision = problem.decide(theta)
    assert decision.verdict == "holds"
    # docs/mathematics.md §8: margins (1, 1, 3), active {0, 1}, λ = (1, 1/√2, 0)
    assert system.margin_values == [1, 1, 3] and system.active == [0, 1]
    assert [str(e.lhs) for e in system.slackness] == ["lambda_2"]
    sub = system.substitute(multipliers=decision.multipliers)
    assert sub["margins"] == [1, 1, 3]
    assert all(is_zero(r) for r in sub["residuals"])
    assert len(system.equations) == problem.network.num_parameters == 6
    assert system.slopes == {}


def test_example1_equations_by_hand():
    # Φ = a_0 relu(w_0·x) + a_1 relu(w_1·x). Pattern at θ: unit 0 on for x_0, x_2; unit 1 on for x_1 only.
    # ∂Φ/∂w_0 = a_0 x on points 0 and 2: W1[0,0] = λ_0 a_0·1 + λ_2 a_0·3, W1[0,1] = λ_2 a_0·1;
    # ∂Φ/∂w_1 = a_1 x on point 1 with y = −1, x = (−1, 1): W1[1,0] = λ_1 a_1, W1[1,1] = −λ_1 a_1;
    # ∂Φ/∂a_0 = w_0·x on points 0, 2; ∂Φ/∂a_1 = w_1·x on point 1 (times y = −1).
    problem, theta = load_example("example1")
    system = kkt_system(problem, theta)
    W = {n: parameter_symbol(n) for n in problem.network.parameter_names}
    l0, l1, l2 = system.multipliers
    a0, a1 = W["W2[0,0]"], W["W2[0,1]"]
    want = [l0 * a0 + 3 * l2 * a0, l2 * a0, l1 * a1, -l1 * a1,
            l0 * W["W1[0,0]"] + l2 * (3 * W["W1[0,0]"] + W["W1[0,1]"]),
            -l1 * (-W["W1[1,0]"] + W["W1[1,1]"])]
    for eq, rhs in zip(system.equations, want):
        assert sympy.expand(eq.rhs - rhs) == 0
    assert [e.lhs for e in system.equations] == [W[n] for n in problem.network.parameter_names]


def test_perturbed_point_fails_stationarity_with_the_decisions_multipliers():
    problem, theta = load_example("example1")
    lam = problem.decide(theta).multipliers
    moved = list(theta)
    moved[1] += R(1, 7)        # W1[0,1]: 0 -> 1/7, the pattern stays (z on x_1 is -1 + 1/7 < 0)
    # equation W1[0,1] = λ_2 a_0 with λ_2 = 0: residual exactly 1/7 (computed by hand)
    for system in (kkt_system(problem, moved), kkt_system(problem, theta)):
        res = system.substitute(moved, lam)["residuals"]
        assert res[1] == R(1, 7)
        assert not all(is_zero(r) for r in res)
    assert problem.decide(moved).verdict == "refuted"


def test_no_slope_symbol_without_kinks():
    for name in ("example1", "svm", "deep_linear"):
        problem, theta = load_example(name)
        system = kkt_system(problem, theta)
        assert system.slopes == {}
        used = set().union(*(e.free_symbols for e in system.equations + system.margins))
        assert not any(s.name.startswith("s_") for s in used)
        assert not system.pattern or all("0" not in v for p in system.pattern.values() for v in p.values())


# -- kinks ------------------------------------------------------------------------------------------
def test_kink_example_slope_symbol_interval_and_decision():
    problem, theta = load_example("kink")
    system = kkt_system(problem, theta)
    s = slope_symbol(0, "1:1")
    assert system.slopes == {s: (0, 1)}                       # relu: [0, 1]
    assert system.slope_units[s]["unit"] == "1:1" and system.slope_units[s]["point"] == 0
    # by hand: x_0 = (0, 1) puts w_1 = (1/2, 0) on its kink; ∂Φ/∂W1[1,1] is a_1·s·1 on x_0 and a_1·1·(−1) on x_1
    a1 = parameter_symbol("W2[0,1]")
    l0, l1 = system.multipliers
    assert sympy.expand(system.equations[3].rhs - (l0 * a1 * s - l1 * a1)) == 0
    decision = problem.decide(theta)
    assert decision.verdict == "holds" and decision.multipliers == [1, R(1, 4)]
    slopes = {(c["point"], u): g for c in decision.clarke for t in c["terms"] for u, g in t["slopes"].items()}
    assert slopes == {(0, "1:1"): R(1, 4)}
    assert all(r == 0 for r in system.substitute(multipliers=decision.multipliers, slopes=slopes)["residuals"])
    # autodiff's relu'(0) = 0 and the other end 1 do not satisfy W1[1,1] = 0 = a_1 (λ_0 s − λ_1) with these λ
    for g in (0, 1):
        res = system.substitute(multipliers=decision.multipliers, slopes={(0, "1:1"): g})["residuals"]
        assert res[3] == -R(1, 2) * (g - R(1, 4))
    assert system.substitute()["margins"] == forward_margins(problem, theta) == [1, 1]


def test_stationarity_needs_the_slopes_that_occur():
    problem, theta = load_example("kink")
    system = kkt_system(problem, theta)
    with pytest.raises(ValueError, match="s_0"):
        system.substitute(multipliers=[1, R(1, 4)])


def test_margin_expressions_differentiate_to_the_stationarity_terms():
    # reverse mode (the equations) against sympy's derivative of the forward expressions (the margins)
    for name in ("kink", "example1", "conv_tied"):
        problem, theta = load_example(name)
        system = kkt_system(problem, theta)
        for j, eq in enumerate(system.equations):
            rhs = sum(lam * sympy.diff(q, system.parameters[j])
                      for lam, q in zip(system.multipliers, system.margins))
            assert sympy.expand(eq.rhs - rhs) == 0


def test_conv_tied_slopes_hull_witness_and_farkas_vector():
    problem, theta = load_example("conv_tied")
    system = kkt_system(problem, theta)
    assert system.substitute()["margins"] == forward_margins(problem, theta)
    s0, s1 = slope_symbol(0, "1:0"), slope_symbol(0, "1:1")
    assert system.slopes == {s0: (0, 1), s1: (0, 1)}
    assert [(system.slope_units[s]["channel"], system.slope_units[s]["position"]) for s in (s0, s1)] == \
        [(0, [0]), (0, [1])]
    # the chain-rule hull accepts θ with slopes 1 and 0: the system is satisfied by that witness
    hull = problem.decide(theta, clarke_set="chain_rule_hull")
    assert hull.verdict == "holds"
    slopes = {(c["point"], u): g for c in hull.clarke for t in c["terms"] for u, g in t["slopes"].items()}
    assert all(r == 0 for r in system.substitute(multipliers=hull.multipliers, slopes=slopes)["residuals"])
    # Clarke refutes with a Farkas vector f: f·θ < 0 and f·(y_k h_k) ≥ 0 for every Clarke element. The tied
    # slopes s0 = s1 = t (t = 0, 1) and the smooth points give columns of the system with f·column ≥ 0.
    clarke = problem.decide(theta)
    assert clarke.verdict == "refuted"
    f = clarke.witness["farkas"]
    assert sum(a * b for a, b in zip(f, theta)) < 0
    for t in (0, 1):
        col = columns(system, theta, 0, {(0, "1:0"): t, (0, "1:1"): t})
        assert sum(a * b for a, b in zip(f, col)) >= 0
    for k in (1, 2):
        assert sum(a * b for a, b in zip(f, columns(system, theta, k, {}))) >= 0


def test_cnn_margins_and_gradients_match_the_network():
    import random

    rng = random.Random(5)
    problem, _ = problem_from_dicts(
        {"input": [1, 6, 6], "layers": [{"conv": {"channels": 2, "kernel": 3, "activation": "relu"}},
                                        {"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
                                        {"avgpool": {"kernel": 3}}, {"flatten": {}}, {"dense": {"width": 1}}]},
        {"points": [{"x": [[[rng.choice([-1, 0, 1]) for _ in range(6)] for _ in range(6)]], "y": 1}]})
    theta = [R(rng.randint(-2, 2), rng.randint(1, 2)) for _ in range(problem.network.num_parameters)]
    system = kkt_system(problem, theta)
    assert system.substitute()["margins"] == forward_margins(problem, theta)
    slopes = {(u["point"], u["unit"]): system.slopes[s][1] for s, u in system.slope_units.items()}
    assert columns(system, theta, 0, slopes) == jacobian_column(problem, theta, 0, slopes)


# -- KKT directions ----------------------------------------------------------------------------------
def test_direction_system_is_the_system_of_the_rescaled_point():
    problem, theta = load_example("deep_linear")
    system = kkt_system(problem, theta, direction=True)
    decision = problem.decide(theta, direction=True)
    assert decision.verdict == "holds" and system.degree == 3
    assert system.margin_values == [5, 7, 10] and system.active == [0]
    assert "L = 3" in system.text() and "θ/q_min^(1/L)" in system.text()
    # at θ: stationarity with μ; at θ* = θ / 5^(1/3): margins (1, 7/5, 2) and stationarity with λ = μ·5^(1/3)
    assert all(r == 0 for r in system.substitute(multipliers=decision.multipliers)["residuals"])
    c = sympy.root(5, 3)
    star = [t / c for t in theta]
    sub = system.substitute(star, decision.point_multipliers)
    assert sub["margins"] == [1, R(7, 5), 2]
    assert all(is_zero(r) for r in sub["residuals"])
    with pytest.raises(NotHomogeneousError):
        problem2, theta2 = problem_from_dicts(
            {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"polynomial": {"coeffs": [0, 1, 1]}}}},
                                      {"dense": {"width": 1}}]}, {"points": [{"x": [1], "y": 1}]}, [{"weight": [[1]]},
                                                                                                   {"weight": [[1]]}])
        kkt_system(problem2, theta2, direction=True)


def test_relu_power_zero_unit_has_derivative_zero():
    # relu^2 is differentiable at 0 with derivative 0: the unit gets a slope symbol with the single value 0
    problem, theta = problem_from_dicts(
        {"input": [2], "layers": [{"dense": {"width": 2, "activation": {"poly_relu": {"power": 2}}}},
                                  {"dense": {"width": 1}}]},
        {"points": [{"x": [1, -1], "y": 1}, {"x": [2, 1], "y": -1}]},
        [{"weight": [[1, 1], [1, 0]]}, {"weight": [[1, -1]]}])
    system = kkt_system(problem, theta)
    s = slope_symbol(0, "1:0")
    assert system.slopes == {s: (0, 0)} and "{0}" in system.text()
    slopes = {(0, "1:0"): 0}
    assert columns(system, theta, 0, slopes) == jacobian_column(problem, theta, 0, slopes)
    assert system.substitute()["margins"] == forward_margins(problem, theta)


def test_tanh_is_refused():
    problem, theta = problem_from_dicts(
        {"input": [1], "layers": [{"dense": {"width": 1, "activation": "tanh"}}, {"dense": {"width": 1}}]},
        {"points": [{"x": [1], "y": 1}]}, [{"weight": [[1]]}, {"weight": [[1]]}])
    with pytest.raises(UsageError, match="tanh"):
        kkt_system(problem, theta)


# -- random dense nets -------------------------------------------------------------------------------
VALUES = [R(v) for v in (-2, -1, R(-1, 2), 0, 0, R(1, 3), 1, 2)]


@st.composite
def dense_problems(draw):
    d = draw(st.integers(1, 3))
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    act = draw(st.sampled_from(["relu", {"leaky_relu": {"slope": "1/5"}}, {"leaky_relu": {"slope": "2"}},
                                {"poly_relu": {"power": 2}}]))
    arch = {"input": [d], "layers": [{"dense": {"width": w, "activation": act}} for w in widths]
            + [{"dense": {"width": 1}}]}
    n = draw(st.integers(1, 3))
    value = st.sampled_from(VALUES)
    points = [{"x": [draw(value) for _ in range(d)], "y": draw(st.sampled_from([1, -1]))} for _ in range(n)]
    problem, _ = problem_from_dicts(arch, {"points": points})
    theta = [draw(value) for _ in range(problem.network.num_parameters)]
    ends = [draw(st.booleans()) for _ in range(64)]
    return problem, theta, ends


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dense_problems())
def test_random_dense_nets_margins_and_clarke_elements(case):
    problem, theta, ends = case
    system = kkt_system(problem, theta)
    assert system.substitute()["margins"] == forward_margins(problem, theta)
    # a vertex slope per unit at a kink: the system's columns equal Network.jacobian's chain-rule elements
    slopes = {(u["point"], u["unit"]): system.slopes[s][int(e)]
              for (s, u), e in zip(system.slope_units.items(), ends)}
    for k in range(len(problem.data.y)):
        y = problem.data.y[k]
        assert columns(system, theta, k, slopes) == [y * h for h in jacobian_column(problem, theta, k, slopes)]
    # one slope symbol per zero pre-activation, with the activation's Clarke interval ([0, 1] relu,
    # [1/5, 1] and [1, 2] leaky; relu^2 is differentiable at 0 with derivative 0: {0})
    rule = problem.network.rules[0]
    assert all(iv == (rule.clarke_interval() or (0, 0)) for iv in system.slopes.values())
    zeros = sum(v.count("0") for p in system.pattern.values() for v in p.values())
    assert len(system.slopes) == zeros


# -- output forms ------------------------------------------------------------------------------------
def test_latex_text_and_json_forms():
    problem, theta = load_example("kink")
    system = problem.system(theta)
    tex = system._repr_latex_()
    assert tex.startswith("$") and tex.endswith("$") and r"\begin{aligned}" in tex and r"\end{aligned}" in tex
    assert r"s_{0,\,1:1} &\in [0, 1]" in tex
    obj = json.loads(json.dumps(system.to_json()))
    assert [e["parameter"] for e in obj["equations"]] == problem.network.parameter_names
    assert all(set(e) >= {"text", "latex"} for e in obj["equations"])
    assert obj["equations"][3]["text"] == "W1[1,1] = W2[0,1]*lambda_0*s_0[1:1] - W2[0,1]*lambda_1"
    assert obj["slopes"] == [{"symbol": "s_0[1:1]", "latex": r"s_{0,\,1:1}", "point": 0, "unit": "1:1",
                              "activation": "relu", "interval": ["0", "1"], "enters_system": True}]
    assert repr(system) == system.text()


# -- command line --------------------------------------------------------------------------------------
def test_cli_show_system_text_and_json(capsys):
    files = example_paths("kink")
    code, out, _ = call(capsys, "kkt", *files, "--show-system")
    assert code == 0
    head, _, tail = out.partition("\nsystem:\n")
    assert head.startswith("KKTResult(kkt_point: holds")
    assert "W1[1,1] = W2[0,1]*lambda_0*s_0[1:1] - W2[0,1]*lambda_1" in tail
    assert "s_0[1:1] ∈ [0, 1]" in tail
    code2, out2, _ = call(capsys, "kkt", "--show-system", *files)       # the flag before the files
    assert code2 == 0 and out2 == out
    code3, out3, _ = call(capsys, "kkt", *files, "--json", "--show-system")
    obj = json.loads(out3)
    assert code3 == 0 and obj["verdict"] == "holds"
    assert len(obj["system"]["equations"]) == 6 and obj["system"]["active_set"] == [0, 1]
    code4, out4, _ = call(capsys, "kkt", *files, "--json")
    assert "system" not in json.loads(out4)


def test_cli_show_system_keeps_the_verdicts_exit_code(capsys, tmp_path):
    code, out, _ = call(capsys, "kkt", *example_paths("svm_refuted"), "--show-system")
    assert code == 1 and "\nsystem:\n" in out
    arch = tmp_path / "arch.yaml"
    arch.write_text("input: [1]\nlayers:\n  - dense: {width: 1, activation: tanh}\n  - dense: {width: 1}\n")
    data = tmp_path / "data.yaml"
    data.write_text("points:\n  - {x: [1], y: 1}\n")
    params = tmp_path / "params.yaml"
    params.write_text("- weight: [[1]]\n- weight: [[1]]\n")
    code, out, _ = call(capsys, "kkt", arch, data, params, "--show-system", "--json")
    obj = json.loads(out)
    assert code == 3 and obj["verdict"] == "inconclusive"
    assert obj["system"]["available"] is False and "tanh" in obj["system"]["reason"]


def test_diagonal_network_system_by_hand():
    """Φ = sum(v ⊙ relu(u ⊙ x)) with x = (1, 2), y = 1 at u = (1, -1), v = (2, 3):
    unit 0 is on (u_0 x_0 = 1 > 0), unit 1 off (u_1 x_1 = -2 < 0), so q = v_0 u_0 x_0 = v_0 u_0 and
    stationarity is u_0 = λ v_0, u_1 = 0, v_0 = λ u_0, v_1 = 0 (by hand)."""
    arch = {"input": [2], "layers": [{"diagonal": {"activation": "relu"}}, {"diagonal": {}}, "sum"]}
    problem, theta = problem_from_dicts(arch, {"points": [{"x": [1, 2], "y": 1}]},
                                        [{"weight": [1, -1]}, {"weight": [2, 3]}])
    system = problem.system(theta)
    u0, u1, v0, v1 = (parameter_symbol(n) for n in problem.network.parameter_names)
    lam = system.multipliers[0]
    assert sympy.expand(system.margins[0] - u0 * v0) == 0 and system.margin_values == [2]
    want = [lam * v0, 0, lam * u0, 0]
    assert all(sympy.expand(eq.rhs - w) == 0 for eq, w in zip(system.equations, want))
    assert [e.lhs for e in system.equations] == [u0, u1, v0, v1]
