"""``symkkt certify``: snapping float64 points to exact KKT points, box proofs, bad input.

Exact KKT points used (all smooth, checked by hand in docs/mathematics.md and proofs/):
example1 (±2^(-1/4), ±2^(-3/4): algebraic), the hard-margin SVM θ = (1, 1) of proofs/kkt_svm.json,
and the deep linear direction of proofs/kkt_deep_linear.json (zero units).
"""
import json
import subprocess
import sys

import numpy as np
import pytest
import sympy

from symkkt.api import load_example
from symkkt.certify.run import certify
from symkkt.errors import NotHomogeneousError, UsageError
from symkkt.kernel import check_certificate
from symkkt.numbers import parse_number


def _proof(name):
    c = json.load(open(f"proofs/{name}.json"))
    theta = [parse_number(v) for layer in c["parameters"] for row in layer["weight"] for v in row]
    return c["architecture"], c["data"], theta


def _example1():
    problem, theta = load_example("example1")
    return problem.network.arch.to_json(), problem.data.to_json(), list(theta)


def _perturbed(theta, size, seed=0, scale=1):
    rng = np.random.default_rng(seed)
    return [scale * float(sympy.N(t, 30)) + size * v for t, v in zip(theta, rng.standard_normal(len(theta)))]


def _example(name):
    problem, theta = load_example(name)
    return problem.network.arch.to_json(), problem.data.to_json(), list(theta)


@pytest.mark.parametrize("name, direction, scale", [("example1", False, 1), ("example1", True, 3),
                                                     ("kkt_svm", False, 1), ("kkt_deep_linear", True, 1),
                                                     ("kink", False, 1)])
def test_snap_recovers_exact_point(name, direction, scale):
    # kink: point 0 sits on the kink of unit 1:1 (a stated kink, slope 1/4 by hand in the example)
    arch, data, theta = _example(name) if name in ("example1", "kink") else _proof(name)
    res = certify(arch, data, _perturbed(theta, 1e-10, scale=scale), direction=direction)
    assert res.verdict == "holds" and res.tier == "exact", res.reason
    got = [parse_number(v) for v in res.proof["exact_theta"]]
    # the known exact point; in direction form the KKT point is θ / q_min^(1/L) of the stored direction
    expected = theta
    if name == "kkt_deep_linear":           # by hand: Φ = (3/5, 4/5)·x, margins 5, 7, 10, so q_min = 5; L = 3
        expected = [t / sympy.Integer(5) ** sympy.Rational(1, 3) for t in theta]
        # not rational: the recognized point is decided exactly, compare numerically to 30 digits
        assert all(abs(sympy.N(g - e, 40)) < 1e-30 for g, e in zip(got, expected))
    else:
        assert all(sympy.simplify(g - e) == 0 for g, e in zip(got, expected))
    cert = res.certificate()
    assert cert["claim"]["kind"] == "kkt_point"
    assert check_certificate(cert).valid


@pytest.mark.parametrize("direction", [False, True])
def test_box_proof_contains_exact_point(direction):
    arch, data, theta = _example1()
    res = certify(arch, data, _perturbed(theta, 1e-10, seed=1, scale=2 if direction else 1),
                  direction=direction, exact=False)
    assert res.verdict == "holds" and res.tier == "rigorous enclosure"
    cert = res.certificate()
    assert check_certificate(cert).valid
    centre = [parse_number(v) for layer in cert["parameters"] for row in layer["weight"] for v in row]
    radius = [parse_number(r) for r in cert["witness"]["radius"]]
    assert all(abs(sympy.N(c - t, 60)) < r for c, t, r in zip(centre, theta, radius))
    # distance from the (scaled) trained point: about the perturbation, 1e-10·sqrt(6) within a factor 3
    lo, hi = res.proof["distance"]
    assert 0 < lo <= hi < 3e-9 * (1 if not direction else 1)
    # normalized margin of the KKT point: 1 - sqrt(2)/2 (docs/mathematics.md §8)
    nm = res.proof["normalized_margin"].strip("[]").split(",")
    assert float(nm[0]) <= 1 - 2 ** 0.5 / 2 + 1e-9 and float(nm[1]) >= 1 - 2 ** 0.5 / 2 - 1e-9


def test_epsilon_delta_bounds_against_float():
    # at a point 1e-3 away from the KKT point the residual is of that size; the rigorous upper
    # bound must be >= the float64 residual for the same λ and close to it
    arch, data, theta = _example1()
    trained = _perturbed(theta, 1e-3, seed=2)
    res = certify(arch, data, trained, exact=False)
    a = res.approx
    from symkkt.certify.core import FLOAT, PatternNet
    net = PatternNet(arch)
    X = np.array([[float(parse_number(v)) for v in p["x"]] for p in data["points"]]).T
    y = np.array([int(p["y"]) for p in data["points"]])
    th = np.array(trained)
    Z, A = net.forward(FLOAT, th, X, None)
    G = net.gradients(FLOAT, th, A, net.slopes(FLOAT, net.signs(th, X)))
    r = th - G @ (np.array(a["multipliers"]) * y)
    assert np.linalg.norm(r) <= a["epsilon"] <= np.linalg.norm(r) * (1 + 1e-9) + 1e-15
    assert 1e-6 < a["epsilon"] < 1e-1


def test_far_point_not_certified():
    # a random point is not next to a KKT point of its own pattern: never "holds" with it
    arch, data, theta = _example1()
    rng = np.random.default_rng(7)
    res = certify(arch, data, list(rng.standard_normal(6)), exact=False)
    assert res.verdict != "holds" or res.proof["distance"][0] > 1e-3


def test_bad_tolerance_and_not_homogeneous():
    arch, data, theta = _example1()
    with pytest.raises(UsageError):
        certify(arch, data, [1.0] * 6, tolerance=0)
    late_bias = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                          {"dense": {"width": 1, "bias": True}}]}
    with pytest.raises(NotHomogeneousError):
        certify(late_bias, data, [1.0] * 7, direction=True)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "symkkt", "certify", *args], capture_output=True, text=True)


def test_cli_bad_input(tmp_path):
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps({"input": [3], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                                         {"dense": {"width": 1}}]}))
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"points": [{"x": [1, 0], "y": 1}]}))            # dimension 2, not 3
    params = tmp_path / "params.json"
    params.write_text(json.dumps([{"weight": [[1, 0, 0], [0, 1, 0]]}, {"weight": [[1, 1]]}]))
    out = _cli(str(arch), str(data), str(params))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    data.write_text(json.dumps({"points": [{"x": [1, 0, 0], "y": 1}]}))
    params.write_text('[{"weight": [[NaN, 0, 0], [0, 1, 0]]}, {"weight": [[1, 1]]}]')
    out = _cli(str(arch), str(data), str(params))
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    params.write_text(json.dumps([{"weight": [[1, 0, 0], [0, 1, 0]]}, {"weight": [[1, 1]]}]))
    out = _cli(str(arch), str(data), str(params), "--tolerance", "-1", "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["verdict"] == "error"


def test_cli_holds_with_certificate(tmp_path):
    arch, data, theta = _example1()
    (tmp_path / "a.json").write_text(json.dumps(arch))
    (tmp_path / "d.json").write_text(json.dumps(data))
    trained = _perturbed(theta, 1e-10, seed=3)
    (tmp_path / "p.json").write_text(json.dumps([{"weight": [trained[0:2], trained[2:4]]},
                                                 {"weight": [trained[4:6]]}]))
    cert = tmp_path / "c.json"
    out = _cli(str(tmp_path / "a.json"), str(tmp_path / "d.json"), str(tmp_path / "p.json"), "--no-exact",
               "--json", "--cert", str(cert))
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert obj["verdict"] == "holds" and obj["tier"] == "rigorous enclosure"
    from symkkt.kernel import check_file
    assert check_file(str(cert)).valid


# --- refutation: sound (never refutes a box that holds the KKT point) and able to refute ---

@pytest.mark.parametrize("shift, refuted", [(0.004, False), (0.3, True)])
def test_refutation_box(shift, refuted):
    # example1's KKT point θ* (docs/mathematics.md §8); centre θ* + shift·(1, ..., 1), box radius
    # 1/100·max(1, |centre|_inf) ≈ 0.01: with shift 0.004 the box contains θ*, so a refutation would
    # be false; with shift 0.3 every coordinate is 0.3 away and θ* is far outside
    from fractions import Fraction
    from symkkt.certify.core import PatternNet
    from symkkt.certify.refute import refute_box
    arch, data, theta = _example1()
    net = PatternNet(arch)
    X = np.array([[Fraction(str(parse_number(v))) for v in p["x"]] for p in data["points"]], dtype=object).T
    y = np.array([int(p["y"]) for p in data["points"]])
    centre = [Fraction(float(sympy.N(t, 30)) + shift) for t in theta]
    ok, why, fig = refute_box(net, centre, X, y, Fraction(1, 100))
    assert ok == refuted, why
    if not refuted:
        assert all(abs(float(sympy.N(t, 30)) - float(c)) <= fig["radius"] for t, c in zip(theta, centre))


def test_far_point_finds_the_known_kkt_point():
    # from θ* + 0.3·(1, ..., 1) the search lands on example1's KKT point itself: the proved distance
    # must then be |0.3·(1, ..., 1)| = 0.3·sqrt(6), computed by hand; holds is about that point, far away
    arch, data, theta = _example1()
    trained = [float(sympy.N(t, 30)) + 0.3 for t in theta]
    res = certify(arch, data, trained, exact=False)
    assert res.verdict == "holds", res.reason
    lo, hi = res.proof["distance"]
    assert lo - 1e-12 <= 0.3 * 6 ** 0.5 <= hi + 1e-12


# --- the trained examples (examples/trained/, written by train.py) ---

@pytest.mark.parametrize("name, data, verdict", [("mlp", "mlp_data.json", "holds"), ("cnn", "cnn_data.json", "holds"),
                                                 ("early", "mlp_data.json", "refuted")])
def test_trained_examples(tmp_path, name, data, verdict):
    cert = tmp_path / "c.json"
    out = _cli(f"examples/trained/{name}.onnx", f"examples/trained/{data}", "--direction", "--json", "--cert", str(cert))
    obj = json.loads(out.stdout)
    assert obj["verdict"] == verdict, obj["reason"]
    if verdict == "holds":
        from symkkt.kernel import check_file
        assert check_file(str(cert)).valid
        # the proved direction is within a fraction of a degree of the trained one (see the README there)
        assert 0 <= obj["proof"]["angle_degrees"][0] <= obj["proof"]["angle_degrees"][1] < 1
        # a KKT point of the max-margin problem has normalized margin >= the trained one's here (it is
        # a local improvement found by Newton; both are rigorous enclosures)
    else:
        assert out.returncode == 1


def test_zero_tolerance_option(tmp_path):
    out = _cli("examples/trained/mlp.onnx", "examples/trained/mlp_data.json", "--zero-tolerance", "0", "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["verdict"] == "error"


def test_demo_rows():
    # every row is a float point next to a known exact KKT point: all must hold, with valid certificates
    from symkkt.certify.demo import DEMO_NAMES, demo_rows
    rows = demo_rows()
    assert [r["example"] for r in rows] == list(DEMO_NAMES)
    for r in rows:
        assert r["verdict"] == r["expected"] == "holds"
        assert check_certificate(r["certificate"]).valid


def test_exact_rank_against_sympy():
    # the rank test behind clarke_set = "clarke" (search side and kernel), against sympy's rank
    from fractions import Fraction
    from symkkt.certify.krawczyk import _rank as rank_search
    from symkkt.kernel.nearby import _rank as rank_kernel
    rng = np.random.default_rng(3)
    for _ in range(40):
        r, c = rng.integers(1, 5, 2)
        M = rng.integers(-2, 3, (r, c))
        if rng.random() < 0.3 and r > 1:
            M[-1] = 2 * M[0]                      # a dependent row
        rows = [{j: Fraction(int(v)) for j, v in enumerate(row)} for row in M]
        expected = sympy.Matrix(M.tolist()).rank()
        assert rank_search([dict(x) for x in rows]) == expected == rank_kernel([dict(x) for x in rows])


def test_merge_lift_round_trip():
    # lifting then merging returns the merged point, and the lift preserves Φ on every point
    # (Σ t² = 1 for the scales 3/5, 4/5), checked against a direct float forward pass
    from fractions import Fraction
    from symkkt.certify import merge
    from symkkt.certify.core import FLOAT, PatternNet
    from symkkt.certify.demo import SPLIT_ARCH, SPLIT_DATA
    net = PatternNet(SPLIT_ARCH)
    groups = [merge.Group(1, [0, 2], [Fraction(3, 5), Fraction(4, 5)])]
    march, keep = merge.merged_architecture(SPLIT_ARCH, net, groups)
    mnet = PatternNet(march)
    wmap = merge.weight_map(net, mnet, groups, keep)
    mtheta = [Fraction(1), Fraction(-2, 3), Fraction(1, 2), Fraction(5, 7), Fraction(3), Fraction(-1, 4)]
    lifted = merge.lift_theta(wmap, mtheta)
    assert [Fraction(v).limit_denominator(10 ** 6) for v in merge.merge_theta(wmap, lifted, mnet.m)] == mtheta
    X = np.array([p["x"] for p in SPLIT_DATA["points"]], dtype=float).T
    out = net.forward(FLOAT, np.array([float(v) for v in lifted]), X, None)[1][-1][0]
    mout = mnet.forward(FLOAT, np.array([float(v) for v in mtheta]), X, None)[1][-1][0]
    assert np.allclose(out, mout, atol=1e-12)
