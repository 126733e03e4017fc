"""The ``diagonal`` and ``sum`` layer kinds: diagonal linear networks Φ = ⟨u⁽¹⁾ ⊙ ⋯ ⊙ u⁽ᵐ⁾, x⟩
of [V] and diagonal layers with activations.

Every expected value is computed independently of the network code: by the closed formulas
Φ = Σ_i x_i Π_j u⁽ʲ⁾_i and ∂Φ/∂u⁽ʲ⁾_i = x_i Π_{l≠j} u⁽ˡ⁾_i in Fractions, or by hand in a
comment.
"""
import json
from fractions import Fraction as Q

import pytest
import sympy
import yaml
from hypothesis import given, settings, strategies as st

from conftest import call, tampered
from symkkt.api import problem_from_dicts
from symkkt.certificate import kkt_certificate
from symkkt.embed import chain, parse_step
from symkkt.errors import SchemaError, ShapeError, UsageError
from symkkt.flow.run import FlowProblem
from symkkt.kernel import check_certificate
from symkkt.kernel.exact import Numbers
from symkkt.kernel.field import Invalid
from symkkt.kernel.network import Network as KernelNetwork
from symkkt.network import Network
from symkkt.spec import architecture_from_json, data_from_json, parameters_from_json
from symkkt.tensor import ExactDomain


def diag_arch(d, m, act="linear", bias=False):
    """m diagonal layers on R^d, then sum: the diagonal network of depth m."""
    first = {"diagonal": {"activation": act, **({"bias": True} if bias else {})}}
    return {"input": [d], "layers": [first] + [{"diagonal": {"activation": act}} for _ in range(m - 1)] + ["sum"]}


def write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(obj) if name.endswith(".yaml") else json.dumps(obj))
    return path


def product(values):
    out = Q(1)
    for v in values:
        out *= v
    return out


# -- architecture, parameter count, homogeneity -------------------------------------------------

@pytest.mark.parametrize("d,m", [(1, 1), (3, 1), (2, 2), (3, 4)])
def test_info_parameters_and_degree(capsys, tmp_path, d, m):
    # m layers of d weights each; Φ(cθ; x) = Σ_i x_i Π_j (c u_ij) = c^m Φ(θ; x): degree m
    code, out, _ = call(capsys, "info", write(tmp_path, "a.yaml", diag_arch(d, m)), "--json")
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "holds"
    assert obj["parameters"] == d * m and obj["homogeneity_degree"] == m
    assert obj["parameter_order"][:d] == [f"W1[{i}]" for i in range(d)]
    assert [row["output_shape"] for row in obj["layers"]] == [[d]] * m + [[1]]


def test_degree_with_activations_bias_and_dense_output():
    # relu is 1-homogeneous: each weight layer adds 1 -> diagonal relu, diagonal relu, sum: L = 2
    assert Network(architecture_from_json(diag_arch(2, 2, "relu"))).homogeneity().degree == 2
    # poly_relu of power 2 doubles: diagonal (d+1 = 1, times 2) then dense (2 + 1 = 3)
    arch = architecture_from_json({"input": [2], "layers": [{"diagonal": {"activation": {"poly_relu": {"power": 2}}}},
                                                            {"dense": {"width": 1}}]})
    assert Network(arch).homogeneity().degree == 3
    # a bias in the first weight layer keeps homogeneity; 2 + 2 + 2 parameters
    net = Network(architecture_from_json(diag_arch(2, 2, bias=True)))
    assert net.homogeneity().degree == 2 and net.num_parameters == 6
    # a bias in a later diagonal layer breaks it
    late = {"input": [2], "layers": [{"diagonal": {}}, {"diagonal": {"bias": True}}, "sum"]}
    h = Network(architecture_from_json(late)).homogeneity()
    assert h.degree is None and "bias in weight layer 2" in h.reason


def test_shapes_and_json_round_trip():
    arch = architecture_from_json({"input": [3], "layers": [{"diagonal": {"activation": "relu"}},
                                                            {"dense": {"width": 2}}, "diagonal", {"sum": None}]})
    assert arch.shapes == ((3,), (2,), (2,), (1,)) and arch.weight_layers == (0, 1, 2)
    assert arch.param_shapes() == [{"weight": (3,), "bias": None}, {"weight": (2, 3), "bias": None},
                                   {"weight": (2,), "bias": None}]
    assert architecture_from_json(arch.to_json()) == arch


# -- forward pass and gradient against the closed formulas ---------------------------------------

fractions = st.fractions(min_value=-3, max_value=3, max_denominator=6)


@st.composite
def diagonal_instance(draw):
    d, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    us = [[draw(fractions) for _ in range(d)] for _ in range(m)]
    xs = [[draw(fractions) for _ in range(d)] for _ in range(draw(st.integers(1, 3)))]
    return d, m, us, xs


def _net_theta(d, m, us):
    net = Network(architecture_from_json(diag_arch(d, m)))
    theta = [sympy.Rational(v.numerator, v.denominator) for u in us for v in u]
    return net, theta


@settings(max_examples=40, deadline=None)
@given(diagonal_instance())
def test_forward_is_inner_product_of_products(inst):
    d, m, us, xs = inst
    net, theta = _net_theta(d, m, us)
    trace = net.forward(ExactDomain(), theta, [[sympy.Rational(v.numerator, v.denominator) for v in x] for x in xs])
    expected = [sum(x[i] * product(u[i] for u in us) for i in range(d)) for x in xs]
    assert [Q(str(v)) for v in trace.output.to_sympy()] == expected
    # the kernel's connection lists give the same numbers
    kn = KernelNetwork(diag_arch(d, m))
    kt = kn.parameters([{"weight": [str(v) for v in u]} for u in us])
    for x, e in zip(xs, expected):
        out = kn.evaluate(kt, [kn.N.num(str(v), "x") for v in x]).output
        assert (out[0] if out else Q(0)) == e


@settings(max_examples=40, deadline=None)
@given(diagonal_instance())
def test_gradient_is_hand_formula(inst):
    d, m, us, xs = inst
    net, theta = _net_theta(d, m, us)
    trace = net.forward(ExactDomain(), theta, [[sympy.Rational(v.numerator, v.denominator) for v in x] for x in xs])
    J = net.jacobian(trace, list(range(len(xs)))).to_sympy()
    kn = KernelNetwork(diag_arch(d, m))
    kt = kn.parameters([{"weight": [str(v) for v in u]} for u in us])
    for k, x in enumerate(xs):
        # ∂Φ/∂u⁽ʲ⁾_i = x_i Π_{l≠j} u⁽ˡ⁾_i, θ ordered layer by layer
        expected = [x[i] * product(us[l][i] for l in range(m) if l != j) for j in range(m) for i in range(d)]
        assert [Q(str(J[r][k])) for r in range(d * m)] == expected
        ev = kn.evaluate(kt, [kn.N.num(str(v), "x") for v in x])
        assert [g[0] if g else Q(0) for g in kn.gradient(kt, ev)] == expected


def test_symbolic_output_and_irrational_point():
    net = Network(architecture_from_json(diag_arch(2, 3)))
    u = sympy.symbols("W1_0 W1_1 W2_0 W2_1 W3_0 W3_1")
    x = sympy.symbols("x0 x1")
    assert sympy.expand(net.symbolic_output() - (u[0] * u[2] * u[4] * x[0] + u[1] * u[3] * u[5] * x[1])) == 0
    # over Q(sqrt(2)): u = (sqrt2, 1), (sqrt2, 2), (1/2, 3) on x = (1, 1): 2·1/2 + 1·2·3 = 7
    r2 = sympy.sqrt(2)
    theta = [r2, 1, r2, 2, sympy.Rational(1, 2), 3]
    trace = net.forward(ExactDomain.for_numbers([r2]), theta, [[1, 1]])
    assert trace.output.to_sympy() == [7]


# -- KKT points decided by hand -----------------------------------------------------------------

HAND = {"input": [2], "layers": ["diagonal", "diagonal", "sum"]}
HAND_DATA = {"points": [{"x": [1, 0], "y": 1}]}


def test_kkt_depth_two_by_hand():
    # Φ = u1 v1 x1 + u2 v2 x2; x = (1, 0), y = 1. At u = v = (1, 0): q = 1 (active) and
    # ∇Φ = (v1 x1, v2 x2, u1 x1, u2 x2) = (1, 0, 1, 0) = θ, so θ = 1·∇Φ: KKT with λ = 1,
    # and ‖θ‖² = 2 = L·Σλ with L = 2.
    problem, theta = problem_from_dicts(HAND, HAND_DATA, [{"weight": [1, 0]}, {"weight": [1, 0]}])
    r = problem.decide(theta)
    assert r.verdict == "holds" and [str(v) for v in r.multipliers] == ["1"]
    # at u = v = (1, 1/2): q = 1 but ∇Φ = (1, 0, 1, 0) while θ_2 = 1/2 != 0: no λ
    problem, theta = problem_from_dicts(HAND, HAND_DATA, [{"weight": [1, "1/2"]}, {"weight": [1, "1/2"]}])
    r = problem.decide(theta)
    assert r.verdict == "refuted" and r.witness["reason"] == "stationarity"
    # the Farkas vector y has y·θ < 0 and y·∇Φ >= 0 (checked here, not taken from the code)
    y = [sympy.sympify(v) for v in r.to_json()["witness"]["farkas"]]
    assert sum(a * b for a, b in zip(y, theta)) < 0 and sum(a * b for a, b in zip(y, [1, 0, 1, 0])) >= 0
    # u = v = (2, 0): q = 4 > 1, no active point, θ != 0: not a KKT point
    problem, theta = problem_from_dicts(HAND, HAND_DATA, [{"weight": [2, 0]}, {"weight": [2, 0]}])
    assert problem.decide(theta).verdict == "refuted"


def test_kkt_direction_depth_three():
    # depth 3: u = v = w = (2, 0) on x = (1, 0): q = 8, θ/q^(1/3) = (1, 0) per layer is the KKT point
    # above one layer deeper: ∇Φ there = (1, 0, 1, 0, 1, 0) = θ, λ = 1; so θ is a KKT direction
    arch = {"input": [2], "layers": ["diagonal"] * 3 + ["sum"]}
    problem, theta = problem_from_dicts(arch, HAND_DATA, [{"weight": [2, 0]}] * 3)
    assert problem.decide(theta, direction=True).verdict == "holds"
    problem, theta = problem_from_dicts(arch, HAND_DATA, [{"weight": [2, 1]}] * 3)
    assert problem.decide(theta, direction=True).verdict == "refuted"


KINK = {"points": [{"x": [1, 1], "y": 1}]}


def kink_arch(act):
    return {"input": [2], "layers": [{"diagonal": {"activation": act}}, "sum"]}


def test_relu_kink_clarke_interval():
    # Φ = σ(u1 x1) + σ(u2 x2) at u = (1, 0), x = (1, 1): unit 1:1 has z = 0 (a kink) with
    # ∇_θ z = (0, x2) != 0, Clarke slopes g in [0, 1]; h(g) = (x1, g x2) = (1, g)
    problem, theta = problem_from_dicts(kink_arch("relu"), KINK, [{"weight": [1, 0]}])
    net = problem.network
    dom = ExactDomain()
    trace = net.forward(dom, theta, [[1, 1]])
    assert net.kinks(trace, 0) == [(0, 1)] and net.unit_label(0, 1) == "1:1"
    assert net.rules[0].clarke_interval() == (0, 1)
    for g in (0, sympy.Rational(1, 3), 1):
        h = net.jacobian(trace, [0], [{(0, 1): g}]).to_sympy()
        assert h == [[1], [g]]
    # the pre-activation row of a first-layer diagonal unit: z_i = u_i x_i, so ∇z_1 = x_1 e_1
    assert net.preactivation_jacobian(trace, 0, 0, [1]).to_sympy() == [[0], [1]]
    # KKT: θ = (1, 0) = λ (1, g) needs λ = 1, g = 0, the left end of [0, 1] (direction d2 < 0)
    r = problem.decide(theta)
    assert r.verdict == "holds" and r.clarke_set == "clarke"
    assert [str(v) for v in r.multipliers] == ["1"]
    terms = r.to_json()["clarke"][0]["terms"]
    assert [t["slopes"] for t in terms] == [{"1:1": "0"}]


def test_deeper_diagonal_kink_rows():
    # dense relu W = [[2, 1], [0, 1]], then diagonal relu u = (0, 3), then sum, on x = (1, 1):
    # h = relu(W x) = (3, 1), z = u ⊙ h = (0, 3): unit 2:0 is a kink. By hand,
    # ∇z_0 = (u_0 relu'(3) x, 0, 0; h_0, 0) = (0, 0, 0, 0, 3, 0),
    # ∇z_1 = (0, 0, u_1 relu'(1) x; 0, h_1) = (0, 0, 3, 3, 0, 1)
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                     {"diagonal": {"activation": "relu"}}, "sum"]}
    problem, theta = problem_from_dicts(arch, KINK, [{"weight": [[2, 1], [0, 1]]}, {"weight": [0, 3]}])
    net = problem.network
    trace = net.forward(ExactDomain(), theta, [[1, 1]])
    assert net.kinks(trace, 0) == [(1, 0)] and net.unit_label(1, 0) == "2:0"
    rows = net.preactivation_jacobian(trace, 0, 1, [0, 1]).to_sympy()
    assert [list(r) for r in zip(*rows)] == [[0, 0, 0, 0, 3, 0], [0, 0, 3, 3, 0, 1]]
    # Φ = relu(0·3) + relu(3·1) = 3, and with slope g at 2:0: ∂Φ/∂u_0 = g h_0 = 3g
    for g in (0, sympy.Rational(1, 2), 1):
        h = [r[0] for r in net.jacobian(trace, [0], [{(1, 0): g}]).to_sympy()]
        assert h == [0, 0, 3, 3, 3 * g, 1]


def test_leaky_kink_interval_excludes_zero():
    # leaky slope 1/2: g in [1/2, 1], so θ_2 = 0 = λ g is impossible with λ = 1: not KKT; a Farkas
    # vector y needs y·θ = y1 < 0 and y1 + g y2 >= 0 at g = 1/2 and g = 1
    problem, theta = problem_from_dicts(kink_arch({"leaky_relu": {"slope": "1/2"}}), KINK, [{"weight": [1, 0]}])
    assert problem.network.rules[0].clarke_interval() == (sympy.Rational(1, 2), 1)
    r = problem.decide(theta)
    assert r.verdict == "refuted"
    y1, y2 = (sympy.sympify(v) for v in r.to_json()["witness"]["farkas"])
    assert y1 < 0 and y1 + y2 / 2 >= 0 and y1 + y2 >= 0


# -- kernel certificates ------------------------------------------------------------------------

def _cert(arch, data, params):
    problem, theta = problem_from_dicts(arch, data, params)
    return kkt_certificate(problem.decide(theta))


def test_kernel_accepts_and_rejects():
    good = _cert(HAND, HAND_DATA, [{"weight": [1, 0]}, {"weight": [1, 0]}])
    assert good["claim"]["kind"] == "kkt_point" and good["architecture"]["layers"][0] == {"diagonal": {}}
    assert check_certificate(good).valid
    # θ moved to u = v = (1, 1/2): the same multiplier no longer gives stationarity
    moved = tampered(good, lambda c: c["parameters"].__setitem__(1, {"weight": ["1", "1/2"]}))
    assert not check_certificate(moved).valid
    # λ = 2 breaks θ = λ∇Φ (and the identity ‖θ‖² = 2Σλ)
    doubled = tampered(good, lambda c: c["witness"].__setitem__("multipliers", ["2"]))
    assert not check_certificate(doubled).valid
    # the refutation at (1, 1/2) is valid; a Farkas vector with y·θ >= 0 is not
    bad = _cert(HAND, HAND_DATA, [{"weight": [1, "1/2"]}, {"weight": [1, "1/2"]}])
    assert bad["claim"]["kind"] == "not_kkt_point" and check_certificate(bad).valid
    flipped = tampered(bad, lambda c: c["witness"].__setitem__("farkas", [str(-sympy.sympify(v))
                                                                           for v in c["witness"]["farkas"]]))
    assert not check_certificate(flipped).valid


def test_kernel_kink_certificate():
    cert = _cert(kink_arch("relu"), KINK, [{"weight": [1, 0]}])
    assert cert["claim"]["clarke_set"] == "clarke" and check_certificate(cert).valid
    # slope 1 at the kink: h = (1, 1) != θ
    slope1 = tampered(cert, lambda c: c["witness"]["clarke"][0]["terms"][0]["slopes"].__setitem__("1:1", "1"))
    assert not check_certificate(slope1).valid
    # a slope outside [0, 1]
    outside = tampered(cert, lambda c: c["witness"]["clarke"][0]["terms"][0]["slopes"].__setitem__("1:1", "-1"))
    assert not check_certificate(outside).valid


def test_kernel_network_refuses_bad_shapes():
    with pytest.raises(Invalid, match="flat input"):
        KernelNetwork({"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 1}}, "diagonal", "flatten",
                                                   {"dense": {"width": 1}}]})
    with pytest.raises(Invalid, match="sum takes no options"):
        KernelNetwork({"input": [2], "layers": ["diagonal", {"sum": {"width": 1}}]})
    with pytest.raises(Invalid, match="not scalar"):
        KernelNetwork({"input": [2], "layers": ["diagonal"]})
    with pytest.raises(Invalid, match="length 2"):
        KernelNetwork(HAND).parameters([{"weight": [1, 2, 3]}, {"weight": [1, 2]}])
    # the sum layer is one unit with the fixed coefficient 1 on every input, no parameter
    net = KernelNetwork(HAND, Numbers())
    assert net.n_params == 4 and net.degree == 2 and net.layers[-1].conns == [[(None, 0), (None, 1)]]


# -- flow ---------------------------------------------------------------------------------------

def test_flow_exact_gradient_descent_by_hand():
    # squared hinge, mean over 2 points, lr 1/10, θ = (u1, u2, v1, v2) = (1/2, 1/3, 1/2, 1/4):
    # point (1, 0), y = 1: q = 1/4, ℓ' = -2(3/4) = -3/2, ∇Φ = (1/2, 0, 1/2, 0)
    # point (0, 1), y = -1: q = -1/12, ℓ' = -2(13/12) = -13/6, y∇Φ = -(0, 1/4, 0, 1/3)
    # ∇L = ((-3/2)(1/2, 0, 1/2, 0) + (13/6)(0, 1/4, 0, 1/3)) / 2 = (-3/8, 13/48, -3/8, 13/36)
    # θ1 = θ - ∇L/10 = (43/80, 49/160, 43/80, 77/360)
    net = Network(architecture_from_json(HAND))
    data = data_from_json({"points": [{"x": [1, 0], "y": 1}, {"x": [0, 1], "y": -1}]})
    flow = FlowProblem(net, data, chain(net, []))
    theta0 = [sympy.Rational(1, 2), sympy.Rational(1, 3), sympy.Rational(1, 2), sympy.Rational(1, 4)]
    r = flow.run(theta0, loss="squared_hinge", lr="1/10", steps=1, tier="exact")
    assert r.verdict == "holds" and r.engine == "generic"
    assert r.final_theta.to_sympy() == [sympy.Rational(43, 80), sympy.Rational(49, 160),
                                        sympy.Rational(43, 80), sympy.Rational(77, 360)]
    # three steps against plain Fraction gradient descent with the closed-form gradient
    th = [Q(1, 2), Q(1, 3), Q(1, 2), Q(1, 4)]
    for _ in range(3):
        u, v = th[:2], th[2:]
        g = [Q(0)] * 4
        for x, y in (((1, 0), 1), ((0, 1), -1)):
            q = y * sum(u[i] * v[i] * x[i] for i in range(2))
            c = -2 * max(Q(0), 1 - q) * y / 2
            for i in range(2):
                g[i] += c * v[i] * x[i]
                g[2 + i] += c * u[i] * x[i]
        th = [a - b / 10 for a, b in zip(th, g)]
    r = flow.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier="exact")
    assert [Q(str(v)) for v in r.final_theta.to_sympy()] == th
    # the float tier follows the same iteration
    rf = flow.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier="float")
    assert max(abs(float(a) - float(b)) for a, b in zip(rf.final_theta, th)) < 1e-12


# -- bad input ----------------------------------------------------------------------------------

def test_wrong_weight_length_is_one_line(capsys, tmp_path):
    arch, data = write(tmp_path, "a.yaml", HAND), write(tmp_path, "d.yaml", HAND_DATA)
    params = write(tmp_path, "p.yaml", [{"weight": [1, 0, 0]}, {"weight": [1, 0]}])
    code, out, err = call(capsys, "kkt", arch, data, params)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "[0].weight" in err and "2 entries" in err
    # a nested (dense-style) weight is refused too
    with pytest.raises(ShapeError, match="expected a number"):
        parameters_from_json([{"weight": [[1], [0]]}, {"weight": [1, 0]}], HAND)


def test_diagonal_after_conv_is_refused(capsys, tmp_path):
    conv = {"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 2}}, {"diagonal": {}},
                                        "flatten", {"dense": {"width": 1}}]}
    with pytest.raises(SchemaError, match=r"layers\[1\]\.diagonal: diagonal layer needs a flat input"):
        architecture_from_json(conv)
    code, out, err = call(capsys, "info", write(tmp_path, "c.yaml", conv))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "flatten" in err
    # after a flatten it is a flat vector again: accepted, 2 + 3 + 3 parameters
    ok = dict(conv, layers=[conv["layers"][0], "flatten", "diagonal", {"dense": {"width": 1}}])
    assert Network(architecture_from_json(ok)).num_parameters == 8
    with pytest.raises(SchemaError, match="sum layer needs a flat input"):
        architecture_from_json({"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 2}}, "sum"]})


def test_other_bad_architectures():
    with pytest.raises(SchemaError, match="the last layer must be dense with width 1.*or sum"):
        architecture_from_json({"input": [2], "layers": ["diagonal"]})
    with pytest.raises(SchemaError, match="at least one weight layer"):
        architecture_from_json({"input": [2], "layers": ["sum"]})
    with pytest.raises(SchemaError, match="diagonal layers take no width|unknown key 'width'"):
        architecture_from_json({"input": [2], "layers": [{"diagonal": {"width": 2}}, "sum"]})
    with pytest.raises(SchemaError, match="unknown key 'activation'"):
        architecture_from_json({"input": [2], "layers": ["diagonal", {"sum": {"activation": "relu"}}]})


def test_embed_refuses_diagonal_splits(capsys, tmp_path):
    net = Network(architecture_from_json(diag_arch(2, 2)))
    with pytest.raises(UsageError, match="weight layer 1 is a diagonal layer"):
        chain(net, [parse_step("1:0:3/5,4/5")])
    # a dense layer in a network with diagonal layers is refused too (no proof machinery for it)
    mixed = {"input": [2], "layers": [{"diagonal": {"activation": "relu"}},
                                      {"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}
    with pytest.raises(UsageError, match="diagonal or sum layers"):
        chain(Network(architecture_from_json(mixed)), [parse_step("2:0:3/5,4/5")])
    code, out, err = call(capsys, "embed", write(tmp_path, "a.yaml", diag_arch(2, 2)), "--null", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "diagonal layer" in err


def test_flow_command_without_split_trains_the_diagonal_net(tmp_path, capsys):
    """`symkkt flow` with no --split trains one net (T = identity): θ_1 is the hand step above."""
    import json as _json

    from symkkt.cli import main

    arch, data, params = tmp_path / "a.yaml", tmp_path / "d.yaml", tmp_path / "p.yaml"
    arch.write_text(_json.dumps(HAND))
    data.write_text("points:\n  - {x: [1, 0], y: 1}\n  - {x: [0, 1], y: -1}\n")
    params.write_text("- weight: [1/2, 1/3]\n- weight: [1/2, 1/4]\n")
    assert main(["flow", str(arch), str(data), str(params), "--exact", "--steps", "1", "--json"]) == 0
    out = _json.loads(capsys.readouterr().out)
    assert out["final_parameters"]["theta"] == ["43/80", "49/160", "43/80", "77/360"]
    assert out["reason"].startswith("no split")
