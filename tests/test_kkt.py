"""KKT decisions on worked instances, each against an independently derived answer."""

import itertools
import os

import pytest
import sympy
import yaml
from sympy import Rational as R, sqrt

from symkkt.api import EXAMPLES_DIR, load_example, load_problem
from symkkt.errors import NotHomogeneousError
from symkkt.kernel import check_certificate
from symkkt.linear import Feasible, nonnegative_solution
from symkkt.numbers import parse_number
from symkkt.spec import architecture_from_json, data_from_json
from symkkt.kkt import MaxMarginProblem


EXAMPLE1 = os.path.join(EXAMPLES_DIR, "example1")


def _eq(a, b):
    return sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0


def test_public_example_matches_theory_and_expected_file(example1_expected):
    problem, theta = load_problem(*(os.path.join(EXAMPLE1, f + ".yaml") for f in ("arch", "data", "params")))
    res = problem.decide(theta)
    expected = example1_expected["kkt"]
    assert res.verdict == expected["verdict"] == "holds"
    assert res.clarke_set == "gradient" and res.kinks == {}      # no active point on a kink
    assert [sympy.sympify(m) for m in res.margins] == expected["margins"]
    for got, want in zip(res.multipliers, expected["multipliers"]):
        assert _eq(got, parse_number(str(want)))
    assert _eq(res.squared_norm, parse_number(expected["squared_norm"]))
    assert _eq(res.normalized_margin, 1 / (2 + sqrt(2)))
    # sanity identity (Euler's identity at a KKT point): |theta|^2 = L * sum(lambda) (L = 2)
    assert _eq(res.squared_norm, 2 * sum(res.multipliers))
    assert res.identity["holds"] is True
    # balancedness |a_j| = |w_j| in two-layer nets
    w1, w2, a = theta[0:2], theta[2:4], theta[4:6]
    assert _eq(a[0] ** 2, w1[0] ** 2 + w1[1] ** 2) and _eq(a[1] ** 2, w2[0] ** 2 + w2[1] ** 2)


def _svm_by_active_sets(X, y):
    """Hard-margin SVM through the origin by enumerating active sets (closed form per set)."""
    d = len(X[0])
    best = None
    for r in range(1, len(X) + 1):
        for S in itertools.combinations(range(len(X)), r):
            lam = sympy.symbols(f"l0:{r}")
            w = [sum(lam[i] * y[k] * X[k][j] for i, k in enumerate(S)) for j in range(d)]
            sol = sympy.solve([y[k] * sum(w[j] * X[k][j] for j in range(d)) - 1 for k in S], lam, dict=True)
            for s in sol:
                wv = [sympy.simplify(c.subs(s)) for c in w]
                if all(s[l] >= 0 for l in lam) and all(
                        y[k] * sum(wv[j] * X[k][j] for j in range(d)) >= 1 for k in range(len(X))):
                    norm = sum(c * c for c in wv)
                    if best is None or norm < best[0]:
                        best = (norm, wv)
    return best[1]


def test_linear_net_kkt_point_is_the_svm_solution():
    problem, theta = load_example("svm")
    X = [list(x) for x in problem.data.X]
    y = list(problem.data.y)
    assert theta == _svm_by_active_sets(X, y)
    res = problem.decide(theta)
    assert res.verdict == "holds"
    assert res.multipliers == [1, 1, 0]
    # the same net with any other feasible w is refuted
    res2 = problem.decide([R(3, 2), R(3, 2)])
    assert res2.verdict == "refuted" and res2.witness["reason"] == "stationarity"


def test_svm_refuted_has_a_farkas_witness_that_separates():
    problem, theta = load_example("svm_refuted")
    res = problem.decide(theta)
    assert res.verdict == "refuted"
    yv = res.witness["farkas"]
    # independent check: the only active point is x2 = (0, 1), y = +1, gradient of w.x is x2
    assert res.active == [1]
    assert sum(a * b for a, b in zip(yv, [0, 1])) >= 0
    assert sum(a * b for a, b in zip(yv, theta)) < 0


def test_deep_linear_rank_one_direction():
    problem, theta = load_example("deep_linear")
    assert problem.homogeneity.degree == 3
    res = problem.decide(theta, direction=True)
    assert res.verdict == "holds"
    assert res.active == [0] and res.multipliers == [R(1, 5), 0, 0]
    # |theta|^2 = L q_min sum(mu) = 3 * 5 * 1/5
    assert res.identity["holds"] and res.squared_norm == 3
    # as a point it is not KKT: every margin is > 1 so all multipliers vanish but theta != 0
    assert problem.decide(theta).verdict == "refuted"
    # the point theta / q_min^(1/3) is a KKT point with lambda = q_min^(1/3) mu
    c = sympy.Integer(5) ** R(-1, 3)
    point = problem.decide([t * c for t in theta])
    assert point.verdict == "holds"
    assert _eq(point.multipliers[0], res.point_multipliers[0])


def test_unbalanced_deep_linear_is_not_a_direction():
    problem, theta = load_example("deep_linear")
    theta = list(theta)
    theta[-2] *= 2  # scale a by 2 and W1 by 1/2: same function, unbalanced
    theta[:4] = [t / 2 for t in theta[:4]]
    res = problem.decide(theta, direction=True)
    assert res.verdict == "refuted"


def test_kink_needs_interior_clarke_element():
    problem, theta = load_example("kink")
    res = problem.decide(theta)
    assert res.verdict == "holds"
    assert res.multipliers == [1, R(1, 4)]
    assert res.kinks == {0: ["1:1"]}
    assert res.clarke == [{"point": 0, "terms": [{"weight": 1, "slopes": {"1:1": R(1, 4)}}]}]
    # a first-layer kink with a non-zero gradient: both slopes are limiting, so the Clarke set is
    # the whole interval and the chain-rule hull gives the same answer
    assert res.clarke_set == "clarke"
    hull = problem.decide(theta, clarke_set="chain_rule_hull")
    assert hull.clarke_set == "chain_rule_hull" and hull.multipliers == res.multipliers
    # the autograd convention relu'(0) = 0, and the other end 1, admit no multipliers
    net = problem.network
    dom = problem.domain(theta)
    trace = net.forward(dom, theta, [list(x) for x in problem.data.X])
    K = dom.field
    for g in (0, 1, R(1, 4)):
        J = net.jacobian(trace, [0, 1], [{(0, 1): g}, {}]).elements()
        A = [[J[2 * r], J[2 * r + 1]] for r in range(net.num_parameters)]
        sol = nonnegative_solution(A, [K.element(t) for t in theta], lambda v: v.sign())
        assert isinstance(sol, Feasible) == (g == R(1, 4))


def test_perturbed_kkt_point_is_refuted():
    problem, theta = load_example("example1")
    bad = list(theta)
    bad[0] = bad[0] + R(1, 10**6)
    assert problem.decide(bad).verdict == "refuted"


def test_bad_split_is_infeasible():
    problem, theta = load_example("split_infeasible")
    res = problem.decide(theta)
    assert res.verdict == "refuted" and res.witness["reason"] == "infeasible"
    assert [sympy.nsimplify(m) for m in res.margins] == [R(1, 2), 1, R(3, 2)]


@pytest.mark.parametrize("name", ["example1", "svm", "kink", "svm_refuted", "split_infeasible", "deep_linear",
                                  "conv_tied"])
def test_certificates_verify_and_tampering_is_caught(name):
    from symkkt.api import EXAMPLES
    from symkkt.certificate import digest

    problem, theta = load_example(name)
    res = problem.decide(theta, direction=EXAMPLES[name][1])
    cert = res.certificate()
    assert check_certificate(cert).valid
    # change one parameter and re-seal the digest: the mathematics must catch it, unless the
    # claim is still true for the new parameters (then the witness must still prove it)
    tampered = yaml.safe_load(yaml.safe_dump(cert))
    tampered["parameters"][0]["weight"][0][0] = "7/3"
    tampered["digest"] = digest(tampered)
    theta2 = list(theta)
    theta2[0] = R(7, 3)
    still_true = problem.decide(theta2, direction=EXAMPLES[name][1]).verdict == res.verdict
    if res.verdict == "holds":
        assert not check_certificate(tampered).valid
    elif not still_true:
        assert not check_certificate(tampered).valid
    # a wrong witness is caught
    bad = yaml.safe_load(yaml.safe_dump(cert))
    w = bad["witness"]
    if "multipliers" in w:
        w["multipliers"][0] = "2/3"
    elif "farkas" in w:
        w["farkas"] = ["-" + f"({v})" for v in w["farkas"]]
    else:
        w["point"] = (w["point"] + 1) % len(bad["data"]["points"])
    bad["digest"] = digest(bad)
    assert not check_certificate(bad).valid
    # without re-sealing, the digest catches any change
    tampered2 = yaml.safe_load(yaml.safe_dump(cert))
    tampered2["data"]["points"][0]["y"] = str(-int(tampered2["data"]["points"][0]["y"]))
    assert not check_certificate(tampered2).valid


def test_perturbed_multiplier_certificate_is_invalid():
    from symkkt.certificate import digest

    problem, theta = load_example("example1")
    cert = problem.decide(theta).certificate()
    cert["witness"]["multipliers"][1] = "1"
    cert["digest"] = digest(cert)
    assert not check_certificate(cert).valid


def test_direction_needs_homogeneity():
    arch = architecture_from_json({"input": [1], "layers": [{"dense": {"width": 1, "activation": "tanh"}},
                                                            {"dense": {"width": 1}}]}, "<test>")
    data = data_from_json({"points": [{"x": [1], "y": 1}]}, "<test>", arch)
    problem = MaxMarginProblem(arch, data)
    with pytest.raises(NotHomogeneousError):
        problem.decide([1, 1], direction=True)
    assert problem.decide([1, 1]).verdict == "inconclusive"
