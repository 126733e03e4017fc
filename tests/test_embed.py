"""Split maps and their properties: hand-derived maps, theorem instances, negative controls."""

import json
import os

import pytest
import sympy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Rational as R

from symkkt.api import example_paths, load_example
from symkkt.cli import main
from symkkt.embed.check import decide
from symkkt.embed.maps import chain, parse_step
from symkkt.kernel import check_certificate, check_file
from symkkt.network import Network
from symkkt.spec import architecture_from_json
from symkkt.tensor import BallDomain, ExactDomain

RELU2 = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}


def net_of(arch):
    return Network(architecture_from_json(arch))


def steps(*texts, kind="split"):
    return [parse_step(t, kind) for t in texts]


# -- the map T ---------------------------------------------------------------------------------
def test_neuron_split_matrix_by_hand():
    # θ = (W1[0,0], W1[0,1], W1[1,0], W1[1,1], a0, a1); unit 0 -> children (3/5, 4/5) in place:
    # wide θ = (3/5 w00, 3/5 w01, 4/5 w00, 4/5 w01, w10, w11, 3/5 a0, 4/5 a0, a1)
    T = chain(net_of(RELU2), steps("1:0:3/5,4/5")).matrix()
    c, d = R(3, 5), R(4, 5)
    expected = sympy.Matrix([[c, 0, 0, 0, 0, 0], [0, c, 0, 0, 0, 0], [d, 0, 0, 0, 0, 0], [0, d, 0, 0, 0, 0],
                             [0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0], [0, 0, 0, 0, c, 0], [0, 0, 0, 0, d, 0],
                             [0, 0, 0, 0, 0, 1]])
    assert T == expected
    assert T.T * T == sympy.eye(6)


def test_composition_indexes_the_wide_network():
    # split unit 1 into three, then unit 3 (the old unit 2 ... here the third child) into two
    emb = chain(net_of({"input": [1], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                                 {"dense": {"width": 1}}]}),
                steps("1:1:1/3,2/3,2/3", "1:3:3/5,4/5"))
    assert emb.target.param_shapes[0]["weight"] == (5, 1)
    # wide incoming column: (w0, w1/3, 2w1/3, 2/3*3/5 w1, 2/3*4/5 w1)
    th = [R(7), R(11), R(5), R(13)]
    assert emb.forward(th)[:5] == [7, R(11, 3), R(22, 3), R(22, 5), R(88, 15)]
    assert [u[0] for u in emb.unit_map(1)] == [0, 1, 1, 1, 1]


def test_channel_split_before_flatten_splits_the_dense_block():
    arch = {"input": [1, 4], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
                                         "flatten", {"dense": {"width": 1}}]}
    emb = chain(net_of(arch), steps("1:1:3/5,4/5"))
    net = emb.source
    # dense weight: 2 channels x 3 positions; channel 1 block = params 6.. 6+2*2=4 conv params + 3
    wide_names = emb.target.parameter_names
    dense = [i for i, n in enumerate(wide_names) if n.startswith("W2")]
    src = [net.parameter_names[emb.index[i]] for i in dense]
    assert src == ["W2[0,0]", "W2[0,1]", "W2[0,2]"] + ["W2[0,3]", "W2[0,4]", "W2[0,5]"] * 2
    assert [emb.coef[i] for i in dense] == [1, 1, 1] + [R(3, 5)] * 3 + [R(4, 5)] * 3


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-9, 9), min_size=6, max_size=6), st.lists(st.integers(-9, 9), min_size=9, max_size=9))
def test_pullback_is_the_adjoint(theta, eta):
    emb = chain(net_of(RELU2), steps("1:1:sqrt(2)/2,sqrt(2)/2", "1:0:3/5,4/5"))
    eta = eta + [1, 2, 3]
    lhs = sum(a * b for a, b in zip(emb.forward(theta), eta))
    rhs = sum(a * b for a, b in zip(theta, emb.pullback(eta)))
    assert sympy.expand(lhs - rhs) == 0


# -- properties over random architectures ------------------------------------------------------
PYTHAGOREAN = [(R(3, 5), R(4, 5)), (R(5, 13), R(12, 13)), (R(8, 17), R(15, 17)), (R(1, 3), R(2, 3), R(2, 3)),
               (R(1),)]
ACTS = ["relu", {"leaky_relu": {"slope": "1/10"}}, "linear", {"leaky_relu": {"slope": "3"}}]


@st.composite
def architectures(draw):
    conv = draw(st.booleans())
    depth = draw(st.integers(1, 3))
    layers = []
    if conv:
        inp = [1, draw(st.integers(4, 6))]
        for _ in range(depth):
            layers.append({"conv": {"channels": draw(st.integers(1, 3)), "kernel": 2,
                                    "activation": draw(st.sampled_from(ACTS)), "bias": draw(st.booleans())}})
        if draw(st.booleans()):
            layers.append({"avgpool": {"kernel": 1}})
        layers.append("flatten")
    else:
        inp = [draw(st.integers(1, 3))]
        for _ in range(depth):
            layers.append({"dense": {"width": draw(st.integers(1, 3)), "activation": draw(st.sampled_from(ACTS)),
                                     "bias": draw(st.booleans())}})
    layers.append({"dense": {"width": 1}})
    arch = {"input": inp, "layers": layers}
    net = net_of(arch)
    hidden = len(net.arch.weight_layers) - 1
    texts = []
    for _ in range(draw(st.integers(1, 2))):
        w = draw(st.integers(1, hidden))
        li = net.arch.weight_layers[w - 1]
        n = net.arch.layers[li].width or net.arch.layers[li].channels
        cs = draw(st.sampled_from(PYTHAGOREAN))
        texts.append(f"{w}:{draw(st.integers(0, n - 1))}:{','.join(str(c) for c in cs)}")
        net = chain(net, steps(texts[-1])).target
    return arch, texts


def _exact_values(emb, theta, x):
    dom = ExactDomain.for_numbers(list(theta) + list(x) + emb.numbers() + emb.source.constants())
    tn = emb.source.forward(dom, theta, [x])
    tw = emb.target.forward(dom, emb.forward(theta), [x])
    return dom, tn, tw


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures(), st.randoms(use_true_random=False))
def test_sphere_splits_have_all_properties_and_agree_with_evaluation(case, rnd):
    arch, texts = case
    emb = chain(net_of(arch), steps(*texts))
    res = decide(emb)
    assert {k: p.verdict for k, p in res.properties.items()} == \
        {"isometry": "holds", "output_preserved": "holds", "gradient_preserved": "holds"}
    # the symbolic proof agrees with exact evaluation at a random point
    theta = [R(rnd.randint(-5, 5), rnd.randint(1, 3)) for _ in range(emb.source.num_parameters)]
    x = [R(rnd.randint(-5, 5), rnd.randint(1, 3)) for _ in range(int(sympy.prod(emb.source.arch.input)))]
    dom, tn, tw = _exact_values(emb, theta, x)
    assert tn.output.to_sympy() == tw.output.to_sympy()
    if not emb.source.kinks(tn, 0):
        g = [v.to_sympy() for v in emb.source.jacobian(tn, [0]).elements()]
        gw = [v.to_sympy() for v in emb.target.jacobian(tw, [0]).elements()]
        assert all(sympy.expand(a - b) == 0 for a, b in zip(gw, emb.forward(g)))
    norm = sum(t * t for t in theta)
    assert sympy.expand(sum(t * t for t in emb.forward(theta)) - norm) == 0
    # KKT transfer at (θ, data labelled by the sign of Φ): the narrow and wide decisions agree
    from symkkt.spec import Dataset

    X = [[R(rnd.randint(-5, 5), rnd.randint(1, 3)) for _ in range(len(x))] for _ in range(3)]
    outs = emb.source.forward(ExactDomain.for_numbers(theta + [v for r in X for v in r] + emb.source.constants()),
                              theta, X).output.to_sympy()
    keep = [(r, 1 if o > 0 else -1) for r, o in zip(X, outs) if o != 0]
    if keep:
        data = Dataset([r for r, _ in keep], [y for _, y in keep])
        kt = decide(emb, data, theta).properties["kkt_transfer"]
        assert kt.verdict == "holds", kt.reason


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(architectures(), st.sampled_from([(R(1, 2), R(1, 2)), (R(3, 5), R(3, 5)), (R(2),)]))
def test_off_sphere_splits_are_refuted(case, cs):
    arch, texts = case
    first = texts[0].rsplit(":", 1)[0] + ":" + ",".join(str(c) for c in cs)
    emb = chain(net_of(arch), steps(first))
    res = decide(emb)
    assert res.properties["isometry"].verdict == "refuted"
    assert res.verdict == "refuted"
    out = res.properties["output_preserved"]
    if out.verdict == "refuted":      # the witness really separates the outputs
        theta = [sympy.sympify(v) for v in out.witness["theta"]]
        x = [sympy.sympify(v) for v in out.witness["x"]]
        _, tn, tw = _exact_values(emb, theta, x)
        assert tn.output.to_sympy() != tw.output.to_sympy()


@pytest.mark.parametrize("act", ["relu", {"leaky_relu": {"slope": "1/5"}}])
def test_negative_coefficient_breaks_output_for_relu_like(act):
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": act}}, {"dense": {"width": 1}}]}
    res = decide(chain(net_of(arch), steps("1:0:-3/5,4/5")))
    assert res.properties["isometry"].verdict == "holds"          # Σc² = 1 still
    assert res.properties["output_preserved"].verdict == "refuted"
    # independent check: a·[(4/5)² relu(z) + (3/5)²·(-1)·relu(-z)... ] differs from a·relu(z) at z ≠ 0
    w = res.properties["output_preserved"].witness
    assert w["narrow"] != w["wide"]


def test_negative_coefficient_is_fine_for_linear_activation():
    arch = {"input": [2], "layers": [{"dense": {"width": 2}}, {"dense": {"width": 1}}]}
    res = decide(chain(net_of(arch), steps("1:0:-3/5,4/5")))
    assert res.verdict == "holds"


@pytest.mark.parametrize("act, name", [("tanh", "tanh"), ({"polynomial": {"coeffs": [0, 1, 1]}}, "polynomial"),
                                       ({"poly_relu": {"power": 3}}, "poly_relu p=3")])
def test_non_homogeneous_or_higher_degree_activations_break_output(act, name):
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": act}}, {"dense": {"width": 1}}]}
    res = decide(chain(net_of(arch), steps("1:0:3/5,4/5")))
    out = res.properties["output_preserved"]
    assert out.verdict == "refuted", name
    if act == "tanh":
        assert out.tier == "rigorous enclosure"
        dom = BallDomain(60)
        theta = [sympy.sympify(v) for v in out.witness["theta"]]
        x = [sympy.sympify(v) for v in out.witness["x"]]
        emb = res.embedding
        with dom.context():
            d = emb.target.forward(dom, emb.forward(theta), [x]).output[0] - \
                emb.source.forward(dom, theta, [x]).output[0]
            assert d > 0 or d < 0


def test_poly_relu_split_with_fourth_powers_summing_to_one_keeps_the_output():
    # σ = relu^3: σ(c z) = c³σ(z), so the output is preserved iff Σ c_i·c_i³ = Σ c_i⁴ = 1
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"poly_relu": {"power": 3}}}},
                                     {"dense": {"width": 1}}]}
    c = sympy.Rational(1, 2) ** sympy.Rational(1, 4)          # 2·c⁴ = 1
    emb = chain(net_of(arch), [parse_step(f"1:0:{c},{c}".replace("**", "^"))])
    res = decide(emb)
    assert res.properties["output_preserved"].verdict == "holds"
    assert res.properties["isometry"].verdict == "refuted"       # 2c² = √2 ≠ 1


# -- gradients at kinks ------------------------------------------------------------------------
def test_kink_witness_is_outside_range_T():
    emb = chain(net_of(RELU2), steps("1:0:3/5,4/5"))
    p = decide(emb).properties["gradient_preserved"]
    ke = p.extra["kink_equality"]
    assert p.verdict == "holds" and ke["verdict"] == "refuted"
    w = ke["witness"]
    theta = [sympy.sympify(v) for v in w["theta"]]
    x = [sympy.sympify(v) for v in w["x"]]
    # recompute independently: the pre-activation of unit 0 is exactly zero
    assert theta[0] * x[0] + theta[1] * x[1] == 0
    # wide Clarke element with child slopes (1, 0) by hand: children rows c_i a0 g_i x, outgoing relu(c_i z)=0
    c, a0 = (R(3, 5), R(4, 5)), theta[4]
    z1 = theta[2] * x[0] + theta[3] * x[1]
    g1 = 1 if z1 > 0 else 0
    h = [c[0] * a0 * 1 * x[0], c[0] * a0 * 1 * x[1], c[1] * a0 * 0 * x[0], c[1] * a0 * 0 * x[1],
         theta[5] * g1 * x[0], theta[5] * g1 * x[1], 0, 0, max(z1, 0)]
    T = emb.matrix()
    hv = sympy.Matrix(h)
    gap = (hv - T * (T.T * hv)).dot(hv - T * (T.T * hv))
    assert gap == sympy.sympify(w["distance_to_range_T_squared"]) and gap > 0


# -- [B] embeddings ----------------------------------------------------------------------------
TANH_B = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "tanh", "bias": True}},
                                   {"dense": {"width": 1, "bias": True}}]}


def test_critical_split_preserves_output_for_tanh_with_biases():
    emb = chain(net_of(TANH_B), steps("1:1:2", kind="critical_split") + steps("1", kind="null"))
    res = decide(emb)
    props = {k: (p.verdict, p.claimed) for k, p in res.properties.items()}
    assert props["output_preserved"] == ("holds", True)
    assert props["criticality_preserved"] == ("holds", True)
    assert props["isometry"] == ("refuted", False)
    assert res.verdict == "holds"
    # S_α: the children's incoming gradients are α and 1 − α times the parent's
    S = res.properties["criticality_preserved"].extra["S"]
    names = emb.target.parameter_names
    assert S[names.index("W1[1,0]")] == {"source": "W1[1,0]", "coef": "2"}
    assert S[names.index("W1[2,0]")] == {"source": "W1[1,0]", "coef": "-1"}


@pytest.mark.parametrize("bias, verdict", [(False, "refuted"), (True, "holds")])
def test_null_unit_keeps_criticality_iff_sigma0_is_zero_or_next_layer_has_bias(bias, verdict):
    # σ(z) = 1 + z + z², σ(0) = 1: the zero unit's outgoing weight has gradient σ(0)·δ
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"polynomial": {"coeffs": [1, 1, 1]}}}},
                                     {"dense": {"width": 1, "bias": bias}}]}
    res = decide(chain(net_of(arch), steps("1", kind="null")))
    assert res.properties["output_preserved"].verdict == "holds"
    assert res.properties["criticality_preserved"].verdict == verdict


# -- KKT transfer ------------------------------------------------------------------------------
def test_kkt_transfer_example1_same_multipliers():
    problem, theta = load_example("example1")
    res = decide(chain(problem.network, steps("1:0:3/5,4/5")), problem.data, theta)
    kt = res.properties["kkt_transfer"]
    assert kt.verdict == "holds"
    assert kt.extra["wide"]["multipliers"] == ["1", "sqrt(2)/2", "0"]
    assert kt.extra["wide"]["squared_norm"] == kt.extra["narrow"]["squared_norm"]


@pytest.mark.parametrize("text, kind, failure", [("1:0:1/2,1/2", "split", "infeasible"),
                                                 ("1:0:1/2", "critical_split", "stationarity")])
def test_kkt_transfer_failures_of_theory_section_6(text, kind, failure):
    problem, theta = load_example("example1")
    res = decide(chain(problem.network, steps(text, kind=kind)), problem.data, theta)
    kt = res.properties["kkt_transfer"]
    assert kt.verdict == "refuted" and kt.witness["reason"] == failure
    assert res.verdict == "refuted"


def test_kkt_transfer_when_the_split_unit_sits_on_a_kink():
    problem, theta = load_example("kink")              # needs relu'(0) = 1/4 on unit 1:1
    res = decide(chain(problem.network, steps("1:1:3/5,4/5")), problem.data, theta)
    kt = res.properties["kkt_transfer"]
    assert kt.verdict == "holds"
    assert len(kt.proof) == 2                            # forward transfer and the converse


# -- CLI ---------------------------------------------------------------------------------------
def test_cli_embed_writes_wide_files_that_are_kkt(tmp_path, capsys):
    arch, data, params = example_paths("example1")
    wa, wp, cert = tmp_path / "w.yaml", tmp_path / "wp.json", tmp_path / "c.json"
    code = main(["embed", arch, data, params, "--split", "1:0:3/5,4/5", "--out-arch", str(wa),
                 "--out-params", str(wp), "--cert", str(cert), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["verdict"] == "holds"
    assert set(out["properties"]) == {"isometry", "output_preserved", "gradient_preserved", "kkt_transfer"}
    assert check_file(cert).valid
    assert main(["kkt", str(wa), data, str(wp), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["multipliers"] == ["1", "sqrt(2)/2", "0"]


def test_cli_certificate_tampering_is_detected(tmp_path, capsys):
    arch, _, _ = example_paths("example1")
    cert = tmp_path / "c.json"
    assert main(["embed", arch, "--split", "1:0:3/5,4/5", "--cert", str(cert)]) == 0
    obj = json.loads(cert.read_text())
    obj["witness"]["steps"][0]["split"]["coeffs"] = ["4/5", "3/5"]
    assert not check_certificate(obj).valid           # digest
    from symkkt.kernel import certificate_digest
    obj["digest"] = certificate_digest(obj)
    assert not check_certificate(obj).valid           # the map no longer matches the steps


def test_cli_refutation_certificate(tmp_path, capsys):
    arch, _, _ = example_paths("example1")
    cert = tmp_path / "c.json"
    assert main(["embed", arch, "--split", "1:0:1/2,1/2", "--cert", str(cert)]) == 1
    v = check_file(cert)
    assert v.valid and v.claim == "not_output_preserved"


def test_splits_file_and_flag_order(tmp_path, capsys):
    arch, _, _ = example_paths("example1")
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({"splits": ["1:0:3/5,4/5", {"critical_split": "1:2:1/3"}]}))
    assert main(["embed", arch, "--splits", str(f), "--null", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["steps"] == ["--split 1:0:3/5,4/5", "--critical-split 1:2:1/3", "--null 1"]
    assert out["target"]["parameters"] == 6 + 3 + 3 + 3


@pytest.mark.parametrize("args, message", [
    (["--split", "2:0:1"], "output layer"),
    (["--split", "1:2:1"], "UNIT 2 out of range"),
    (["--split", "0:0:1"], "1-based"),
    (["--split", "1:0:"], "non-empty"),
    (["--split", "1:0:3/5,abc"], "coefficient 2"),
    (["--split", "1:0"], "LAYER:UNIT"),
    (["--critical-split", "1:0:x"], "ALPHA"),
    (["--null", "one"], "LAYER must be"),
    ([], "no split given"),
])
def test_cli_bad_split_is_one_line_exit_2(args, message, capsys, tmp_path):
    arch, _, _ = example_paths("example1")
    out = tmp_path / "w.yaml"
    assert main(["embed", arch, *args, "--out-arch", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not os.listdir(tmp_path)                    # nothing half-written


def test_cli_bad_splits_file(tmp_path, capsys):
    arch, _, _ = example_paths("example1")
    f = tmp_path / "s.yaml"
    f.write_text("splits:\n  - {split: '1:0:3/5'}\n  - {unknown: 1}\n")
    assert main(["embed", arch, "--splits", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"{f}: splits[1]:" in err


def test_cli_data_without_params_and_out_params_without_params(capsys):
    arch, data, _ = example_paths("example1")
    assert main(["embed", arch, data, "--split", "1:0:1"]) == 2
    assert main(["embed", arch, "--split", "1:0:1", "--out-params", "x.yaml"]) == 2


# -- the worked instance example1 (docs/mathematics.md §8) ---------------------------------------
def test_example1_splits_match_hand_derived_answers(example1_expected):
    problem, theta = load_example("example1")
    for case in example1_expected["splits"]:
        res = decide(chain(problem.network, [parse_step(case["split"])]), problem.data, theta)
        assert res.properties["isometry"].verdict == case["isometry"]
        assert res.properties["output_preserved"].verdict == case["output_preserved"]
        assert res.properties["kkt_transfer"].verdict == case["kkt_of_image"]


# -- critical embeddings on data ([B], docs/mathematics.md §6) -------------------------------------
def _saddle(alpha):
    from symkkt.api import load_data, load_parameters
    arch, data, params = example_paths("saddle")
    net = net_of(yaml.safe_load(open(arch)))
    emb = chain(net, steps(f"1:0:{alpha}", kind="critical_split"))
    return emb, load_data(data, net.arch), net.flatten(load_parameters(params, net.arch))


@pytest.mark.parametrize("alpha, inertia, saddle", [("1/2", [3, 1, 2], True), ("2", [5, 1, 0], False),
                                                    ("0", [3, 3, 0], False)])
def test_strict_minimum_becomes_strict_saddle_for_alpha_in_0_1(alpha, inertia, saddle):
    emb, data, theta = _saddle(alpha)
    res = decide(emb, data, theta, loss="mse")
    assert res.verdict == "holds"
    assert res.landscape["inertia"]["narrow"] == [3, 0, 0] and res.landscape["strict_local_min"]
    assert res.landscape["inertia"]["wide"] == inertia
    assert res.landscape["wide_strict_saddle"] is saddle
    # independent: Hessian of R' at T^α θ_c by sympy differentiation of the expanded risk
    if alpha == "1/2":
        w = sympy.symbols("w0:6")
        f = lambda x: sum(w[4 + j] * (1 + (w[2 * j] * x[0] + w[2 * j + 1] * x[1])
                                       + (w[2 * j] * x[0] + w[2 * j + 1] * x[1]) ** 2) for j in range(2))
        risk = sum((f(x) - y) ** 2 for x, y in zip(data.X, data.y)) / len(data.y)
        H = sympy.hessian(risk, w).subs(dict(zip(w, emb.forward(theta))))
        import numpy as np
        eig = np.linalg.eigvalsh(np.array(H.evalf(), dtype=float))
        assert sum(eig < -1e-9) == 2 and sum(abs(eig) < 1e-9) == 1 and sum(eig > 1e-9) == 3


def test_perturbed_critical_point_is_not_critical():
    emb, data, theta = _saddle("1/2")
    theta = list(theta)
    theta[2] += R(1, 10)
    res = decide(emb, data, theta, loss="mse")
    assert res.landscape["critical"] is False and "critical_line" not in res.properties
    assert res.properties["gradient_relation"].verdict == "holds"      # ∇R'(Tθ) = S∇R(θ) still


def test_critical_split_on_tanh_is_high_precision():
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "tanh", "bias": True}},
                                     {"dense": {"width": 1}}]}
    from symkkt.spec import Dataset
    data = Dataset([[1, 0], [0, 1], [1, 1]], [1, -1, 1])
    emb = chain(net_of(arch), steps("1:1:1/3", kind="critical_split"))
    theta = [R(1, 2), R(-1, 3), R(1, 4), R(2, 3), R(1, 5), R(-1, 7), R(3, 2), R(-2)]
    res = decide(emb, data, theta, loss="logistic", dps=40)
    assert res.landscape["tier"] == "high precision"
    assert res.properties["gradient_relation"].verdict == "holds"
    assert res.properties["hessian_congruence"].verdict == "holds"


def test_cli_embed_loss(capsys):
    arch, data, params = example_paths("saddle")
    assert main(["embed", arch, data, params, "--critical-split", "1:0:1/2", "--loss", "mse", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["landscape"]["inertia"]["wide"] == [3, 1, 2]
    assert out["properties"]["critical_line"]["verdict"] == "holds"
    assert main(["embed", arch, "--critical-split", "1:0:1/2", "--loss", "mse"]) == 2


def test_invert_recovers_theta_and_refuses_points_outside_the_range():
    problem, theta = load_example("example1")
    for text, kind in (("1:0:3/5,4/5", "split"), ("1:1:1/3", "critical_split")):
        emb = chain(problem.network, steps(text, kind=kind))
        assert emb.accepts(problem.network) and not emb.accepts(emb.target)
        assert emb.invert(emb.forward(theta)) == theta
        eta = emb.forward(theta)
        eta[2] += 1                       # moves one child's weight alone: not a split of any θ
        with pytest.raises(ValueError, match="range"):
            emb.invert(eta)
