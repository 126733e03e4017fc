"""Global optimality: the deep linear SVM bound, the dual bound S(λ), shorter feasible points.

Every verdict is cross-checked by an independent method: hand computations (in comments),
dense float sampling of the sphere for S(λ), a float random search of P_Φ itself for the
global optimum of tiny two-layer nets, and an exact re-evaluation of every shorter point by a
forward pass written out here with sympy.
"""
import math
import os

import numpy as np
import pytest
import sympy

from symkkt import limits
from symkkt.api import load_example, load_problem, problem_from_dicts
from symkkt.field import NumberField
from symkkt.numbers import exact_sign, parse_number
from symkkt.optimality import dual, global_, svm
from symkkt.optimality.global_ import decide_global

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "symkkt", "examples")
QQ = NumberField(sympy.Integer(1))


def _problem(name, params="params.yaml"):
    d = os.path.join(EXAMPLES, name)
    return load_problem(os.path.join(d, "arch.yaml"), os.path.join(d, "data.yaml"), os.path.join(d, params))


def _decide(problem, theta, local=None):
    return decide_global(problem, theta, problem.decide(theta), local)


def _two_layer_margins(X, y, W, v, slope=0):
    """q_k = y_k Σ_j v_j σ(w_j·x_k), exactly with sympy (independent of the package's forward pass)."""
    out = []
    for x, yk in zip(X, y):
        total = 0
        for w, vj in zip(W, v):
            z = sum(sympy.sympify(a) * b for a, b in zip(w, x))
            total += vj * (z if exact_sign(sympy.nsimplify(z)) >= 0 else slope * z)
        out.append(sympy.expand(yk * total))
    return out


def _shorter_point(prop):
    """θ' of a refutation, as (W1, v) exact sympy matrices."""
    layers = prop.witness["shorter"]
    W = [[parse_number(t) for t in row] for row in layers[0]["weight"]]
    v = [parse_number(t) for t in layers[1]["weight"][0]]
    return W, v


def _float_sup(X, y, lam, slope, n=200_000, seed=0):
    """max |F(w)| over n random unit vectors (a lower bound of S(λ), close for small d)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, len(X[0])))
    W /= np.linalg.norm(W, axis=1)[:, None]
    Z = W @ np.array(X, dtype=float).T
    F = np.where(Z > 0, Z, slope * Z) @ (np.array(lam, dtype=float) * np.array(y, dtype=float))
    return float(np.abs(F).max())


def _float_global(X, y, width, restarts=300, steps=400, seed=0):
    """min ‖θ‖² over feasible two-layer ReLU nets of this width, by random search and hill climbing
    on the normalized margin γ̄(θ) = q_min/‖θ‖² (float; the optimum is 1/max γ̄)."""
    X = np.array(X, dtype=float)
    y = np.array(y, dtype=float)
    d = X.shape[1]
    rng = np.random.default_rng(seed)

    def gamma(t):
        W, v = t[:width * d].reshape(width, d), t[width * d:]
        q = y * (np.maximum(X @ W.T, 0) @ v)
        return q.min() / (t @ t)

    best = -np.inf
    for _ in range(restarts):
        t = rng.normal(size=width * d + width)
        g = gamma(t)
        step = 0.5
        for _ in range(steps):
            c = t + step * rng.normal(size=t.size)
            gc = gamma(c)
            if gc > g:
                t, g = c, gc
            else:
                step *= 0.97
        best = max(best, g)
    return 1.0 / best


# -- the public zero-unit instance ----------------------------------------------------------------
def test_zero_unit_optimum_holds_with_S_equal_one():
    problem, theta = load_problem(*global_.zero_unit_paths("optimum.yaml"))
    p = _decide(problem, theta)
    assert (p.verdict, p.method) == ("holds", "dual bound S(lambda)")
    # multipliers (5^(-1/2), 5^(-1/2)) by hand: stationarity of v_1 = λ_1 relu(w_1·x_1) with
    # w_1·x_1 = 5^(-1/4)·√5 and v_1 = 5^(-1/4)
    assert [parse_number(m) for m in p.witness["multipliers"]] == [1 / sympy.sqrt(5)] * 2
    assert parse_number(p.witness["S_squared"]) == 1
    # S² = 1 exactly; float sampling of the circle agrees to 1e-6 (F(x_1/√5) = 1 by hand)
    assert abs(_float_sup([[1, 2], [1, -2]], [1, 1], [5 ** -0.5] * 2, 0) - 1) < 1e-6
    # ‖θ‖² = 4/√5 by hand, and Σλ = 2/√5 = ½‖θ‖² (Euler)
    assert sympy.simplify(sum(v * v for v in theta) - 4 / sympy.sqrt(5)) == 0


def test_zero_unit_params_refuted_by_a_shorter_feasible_point():
    problem, theta = load_problem(*global_.zero_unit_paths("params.yaml"))
    p = _decide(problem, theta)
    assert (p.verdict, p.method) == ("refuted", "shorter feasible point")
    W, v = _shorter_point(p)
    q = _two_layer_margins([[1, 2], [1, -2]], [1, 1], W, v)
    assert all(exact_sign(m - 1) >= 0 for m in q)
    n2 = sum(t * t for row in W for t in row) + sum(t * t for t in v)
    assert exact_sign(n2 - 2) < 0                           # ‖θ'‖² < 2 = ‖θ‖² exactly
    assert exact_sign(n2 - 4 / sympy.sqrt(5)) >= 0          # and not below the global optimum 4/√5


def test_dual_bound_at_the_zero_unit_kkt_point():
    # λ = (1/2, 1/2): F(x_1/√5) = (1/2)·√5, the supremum by the cell computation (hand: on the cell
    # where only x_1 is active, c = x_1/2 lies inside the cone, so S² = ‖x_1‖²/4 = 5/4)
    b = dual.dual_bound(QQ, [[1, 2], [1, -2]], [1, 1], [sympy.Rational(1, 2)] * 2, 1, 0)
    assert b.s2.to_sympy() == sympy.Rational(5, 4)
    assert abs(_float_sup([[1, 2], [1, -2]], [1, 1], [0.5, 0.5], 0) - math.sqrt(5) / 2) < 1e-6
    w = [v.to_sympy() for v in b.maximizer]                 # along x_1
    assert w[0] * 2 == w[1] and w[0] > 0


# -- S(λ) against dense sampling, cells against sampled sign patterns ---------------------------------
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("slope", [0, sympy.Rational(1, 4), 1])
def test_dual_bound_matches_float_sampling(seed, slope):
    rng = np.random.default_rng(seed)
    n, d = 5, (2 if seed % 2 else 3)
    X = rng.integers(-3, 4, size=(n, d)).tolist()
    X = [x if any(x) else [1] + x[1:] for x in X]
    y = rng.choice([-1, 1], size=n).tolist()
    lam = [sympy.Rational(int(a), 5) for a in rng.integers(0, 6, size=n)]
    b = dual.dual_bound(QQ, X, y, lam, 1, slope)
    s = math.sqrt(float(b.s2))
    sampled = _float_sup(X, y, [float(v) for v in lam], float(slope), seed=seed)
    assert sampled <= s + 1e-9                     # a sample never beats the supremum
    assert s - sampled < 2e-2 * max(1.0, s)        # and dense sampling comes close to it


@pytest.mark.parametrize("seed", range(3))
def test_cells_are_the_sampled_sign_patterns(seed):
    rng = np.random.default_rng(10 + seed)
    X = rng.integers(-3, 4, size=(5, 3)).tolist()
    X = [x if any(x) else [0, 0, 1] for x in X]
    Xe = [[QQ.element(v) for v in x] for x in X]
    zero, one = QQ.element(0), QQ.element(1)
    pts = dual.cell_points(Xe, 3, zero, one)
    patterns = {tuple(dual.dot(x, w, zero).sign() for x in Xe) for w in pts}
    assert len(patterns) == len(pts) == dual.count_cells(Xe, 3, zero)
    assert all(0 not in p for p in patterns)
    W = np.random.default_rng(seed).normal(size=(300_000, 3))
    sampled = {tuple(r) for r in np.sign(W @ np.array(X, dtype=float).T).astype(int)}
    assert sampled <= patterns              # every sampled cell is found (no cell is missed) ...
    assert len(sampled) >= len(patterns) - 2   # ... and sampling finds (almost) all of them


@pytest.mark.parametrize("n,d", [(4, 2), (5, 3), (6, 3), (6, 4)])
def test_cell_count_in_general_position(n, d):
    # n hyperplanes through 0 in general position in R^d cut it into 2·Σ_{i<d} C(n−1, i) cells
    X = [[(k + 1) ** j for j in range(d)] for k in range(n)]      # Vandermonde rows: any d independent
    Xe = [[QQ.element(v) for v in x] for x in X]
    expected = 2 * sum(math.comb(n - 1, i) for i in range(d))
    assert dual.count_cells(Xe, d, QQ.element(0)) == expected
    assert len(dual.cell_points(Xe, d, QQ.element(0), QQ.element(1))) == expected


def test_projection_onto_a_cone_is_exact():
    e = lambda v: [QQ.element(t) for t in v]                      # noqa: E731
    zero, one = QQ.element(0), QQ.element(1)
    # C = {w1 >= 0, w2 >= 0} (the quadrant): Π(c) = max(c, 0) coordinatewise
    for c in ([3, -2], [-1, -1], [2, 5], [0, -7]):
        pr = dual.project(e(c), [e([1, 0]), e([0, 1])], zero, one)
        assert [v.to_sympy() for v in pr.p] == [max(t, 0) for t in c]
    # a wedge of angle < 90°: C = {w2 >= 0, w1 − w2 >= 0}; c = (−1, 1) is in the polar cone → 0
    pr = dual.project(e([-1, 1]), [e([0, 1]), e([1, -1])], zero, one)
    assert all(v.is_zero() for v in pr.p)


# -- two-layer nets: exhaustive float search of P_Φ ----------------------------------------------------
@pytest.mark.parametrize("name,params", [("zero_unit", "optimum.yaml"), ("zero_unit", "params.yaml"),
                                         ("opt_relu_local", "optimum.yaml"), ("opt_relu_local", "params.yaml"),
                                         ("example1", "params.yaml"), ("kink", "params.yaml")])
def test_two_layer_verdicts_agree_with_a_float_global_search(name, params):
    problem, theta = _problem(name, params)
    p = _decide(problem, theta)
    X = [[float(v) for v in x] for x in problem.data.X]
    y = [int(v) for v in problem.data.y]
    best = _float_global(X, y, problem.network.arch.layers[0].width, restarts=120, steps=300)
    n2 = float(sum(v * v for v in theta))
    if p.verdict == "holds":
        assert n2 <= best * (1 + 1e-9)          # no sampled feasible point is shorter
        assert best <= n2 * 1.02                # and the search gets close to it
    else:
        assert p.verdict == "refuted"
        assert best < n2                        # the search also finds something shorter
        W, v = _shorter_point(p)
        q = _two_layer_margins(problem.data.X, problem.data.y, W, v)
        assert all(exact_sign(m - 1) >= 0 for m in q)
        n2p = sum(t * t for row in W for t in row) + sum(t * t for t in v)
        assert exact_sign(n2p - sum(t * t for t in theta)) < 0


def test_local_but_not_global_relu_point():
    # opt_relu_local/params.yaml: units serve {x_0, x_1} and {x_2}; Σ‖β_j‖ = √2 + 1/√2, so
    # ‖θ‖² = 2Σ‖β_j‖ = 3√2 (hand); grouping {x_0} and {x_1, x_2} costs 2: ‖θ'‖² = 4 < 3√2
    problem, theta = _problem("opt_relu_local")
    r = problem.decide(theta)
    assert r.verdict == "holds" and not r.kinks          # KKT, no pre-activation is 0 on any point
    p = decide_global(problem, theta, r, None)
    assert p.verdict == "refuted"
    assert sympy.simplify(sum(v * v for v in theta) - 3 * sympy.sqrt(2)) == 0
    W, v = _shorter_point(p)
    n2p = sum(t * t for row in W for t in row) + sum(t * t for t in v)
    assert exact_sign(n2p - 3 * sympy.sqrt(2)) < 0


def test_improving_curve_becomes_a_shorter_point():
    # the zero-unit curve w_1 = (1, −9/16 s²), w_2 = s x_1/√5, v_2 = s, valid on (0, 1/2]
    problem, theta = load_problem(*global_.zero_unit_paths("params.yaml"))
    witness = {"curve": [[str(t) for t in theta], ["0", "0", "1/sqrt(5)", "2/sqrt(5)", "0", "1"],
                         ["0", "-9/16", "0", "0", "0", "0"]], "s0": "1/2"}
    N = QQ.element(2)
    found = global_._from_curve(problem, witness, N, 2)
    assert found is not None
    W = [found[0:2], found[2:4]]
    q = _two_layer_margins([[1, 2], [1, -2]], [1, 1], W, found[4:6])
    assert all(exact_sign(m - 1) >= 0 for m in q)
    assert exact_sign(sum(t * t for t in found) - 2) < 0
    # a bogus "curve" (θ itself) gives nothing shorter
    assert global_._from_curve(problem, {"curve": [witness["curve"][0]], "s0": "1/2"}, N, 2) is None


def test_refuted_local_property_refutes_global_on_uncovered_nets():
    from symkkt.optimality.result import Property

    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu"}},
                                     {"dense": {"width": 1, "activation": "relu"}}, {"dense": {"width": 1}}]}
    problem, theta = problem_from_dicts(arch, {"points": [{"x": [1], "y": 1}]},
                                        [{"weight": [[1]]}, {"weight": [[1]]}, {"weight": [[1]]}])
    assert problem.decide(theta).verdict == "holds"               # margin 1, θ = 1·∇q (hand)
    assert _decide(problem, theta).verdict == "inconclusive"      # depth 3 ReLU: not covered
    local = Property("refuted", "improving curve", "a curve", {"curve": [], "s0": "1"})
    p = _decide(problem, theta, local)
    assert (p.verdict, p.method) == ("refuted", "improving curve")
    # the witness holds no usable curve, so no shorter point is built and the local witness is reused
    assert p.witness == local.witness


# -- deep linear nets -------------------------------------------------------------------------------------
def test_svm_solution_by_hand():
    # data (3,4)+, (5,5)+, (−6,−8)−: w* = (3,4)/25 (margins 1, 7/5, 2), α = (1/25, 0, 0)
    sol = svm.hard_margin_svm(QQ, [[3, 4], [5, 5], [-6, -8]], [1, 1, -1])
    assert [v.to_sympy() for v in sol.w] == [sympy.Rational(3, 25), sympy.Rational(4, 25)]
    assert [a.to_sympy() for a in sol.alpha] == [sympy.Rational(1, 25), 0, 0]
    assert svm.hard_margin_svm(QQ, [[1, 0], [1, 0]], [1, -1]) is None      # not separable


@pytest.mark.parametrize("seed", range(4))
def test_svm_against_a_float_check(seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(-4, 5, size=(6, 2)).tolist()
    y = [1 if x[0] + 2 * x[1] > 0 else -1 for x in X]
    X = [x for x in X if x[0] + 2 * x[1] != 0] or [[1, 0]]
    y = [1 if x[0] + 2 * x[1] > 0 else -1 for x in X]
    sol = svm.hard_margin_svm(QQ, X, y)
    w = np.array([float(v) for v in sol.w])
    # feasible, and no sampled feasible direction of the same margin is shorter
    G = np.array(X, float) * np.array(y)[:, None]
    assert (G @ w >= 1 - 1e-12).all()
    for t in np.linspace(0, 2 * np.pi, 20_000, endpoint=False):
        u = np.array([np.cos(t), np.sin(t)])
        m = (G @ u).min()
        if m > 0:
            assert 1 / m >= np.linalg.norm(w) - 1e-9


@pytest.mark.parametrize("name,params,depth", [("svm", "params.yaml", 1), ("opt_linear_depth2", "params.yaml", 2),
                                               ("opt_linear_depth3", "params.yaml", 3)])
def test_linear_kkt_points_are_global(name, params, depth):
    problem, theta = _problem(name, params)
    r = problem.decide(theta)
    assert r.verdict == "holds"
    p = decide_global(problem, theta, r, None)
    assert (p.verdict, p.method) == ("holds", "deep linear SVM")
    # ‖θ‖² = m‖w*‖^(2/m) with ‖w*‖² read off the witness
    assert p.witness["balanced"] and p.witness["rank_one"]        # the structure of a KKT point
    assert [parse_number(t) for t in p.witness["end_to_end"]] == [sympy.Rational(3, 25), sympy.Rational(4, 25)] \
        or depth == 1
    w2 = parse_number(p.witness["svm_squared_norm"])
    assert sympy.simplify(sum(v * v for v in theta) - depth * w2 ** sympy.Rational(1, depth)) == 0


def test_every_kkt_point_of_a_depth_two_linear_net_is_global():
    # balanced rank-one points u·(a w*ᵀ) with a unit vector u in the hidden layer are KKT points;
    # rotate u: the rotated point is KKT and global as well
    for u in ([1, 0], ["3/5", "4/5"], ["-5/13", "12/13"]):
        u = [parse_number(t) for t in u]
        c = 5 ** sympy.Rational(-1, 2)
        W1 = [[str(c * ui * sympy.Rational(3, 5)), str(c * ui * sympy.Rational(4, 5))] for ui in u]
        W2 = [[str(c * ui) for ui in u]]
        problem, theta = problem_from_dicts(
            {"input": [2], "layers": [{"dense": {"width": 2}}, {"dense": {"width": 1}}]},
            {"points": [{"x": [3, 4], "y": 1}, {"x": [5, 5], "y": 1}, {"x": [-6, -8], "y": -1}]},
            [{"weight": W1}, {"weight": W2}])
        r = problem.decide(theta)
        assert r.verdict == "holds"
        assert decide_global(problem, theta, r, None).verdict == "holds"


@pytest.mark.parametrize("name", ["opt_linear_depth2", "opt_linear_depth3"])
def test_linear_non_kkt_point_refuted_with_a_shorter_point(name):
    problem, theta = _problem(name, "notkkt.yaml")
    r = problem.decide(theta)
    assert r.verdict == "refuted"
    p = decide_global(problem, theta, r, None)
    assert (p.verdict, p.method) == ("refuted", "shorter feasible point")
    # θ' exactly: end-to-end product and margins by hand-rolled matrix products
    layers = [sympy.Matrix([[parse_number(t) for t in row] for row in l["weight"]]) for l in p.witness["shorter"]]
    w = layers[0]
    for M in layers[1:]:
        w = M * w
    for x, yk in zip(problem.data.X, problem.data.y):
        assert exact_sign(yk * (w * sympy.Matrix(x))[0] - 1) >= 0
    n2 = sum(t * t for M in layers for t in M)
    assert exact_sign(n2 - sum(t * t for t in theta)) < 0


def test_infeasible_point_is_refuted():
    problem, theta = _problem("zero_unit", "params.yaml")
    half = [t / 2 for t in theta]                     # margins 1/4 < 1
    p = _decide(problem, half)
    assert (p.verdict, p.method) == ("refuted", "infeasible")
    assert p.certificate["claim"]["kind"] == "not_kkt_point"


def test_non_kkt_two_layer_point_refuted():
    # zero_unit scaled by 2 in v: margins 2, 2 — feasible, no active point, θ != 0: not KKT
    problem, theta = _problem("zero_unit", "params.yaml")
    theta = list(theta[:4]) + [2, 0]
    r = problem.decide(theta)
    assert r.verdict == "refuted"
    p = decide_global(problem, theta, r, None)
    assert p.verdict == "refuted"
    assert p.method in ("shorter feasible point", "KKT condition fails")


# -- limits and uncovered nets ------------------------------------------------------------------------
def test_cell_limit_makes_the_dual_bound_inconclusive():
    problem, theta = load_problem(*global_.zero_unit_paths("optimum.yaml"))
    with limits.overridden(vertices=3):                     # the arrangement has 4 cells
        p = _decide(problem, theta)
    assert p.verdict == "inconclusive"
    assert "more than 3 cells" in p.reason and "--limit vertices" in p.reason


def test_biases_are_not_covered():
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu", "bias": True}},
                                     {"dense": {"width": 1}}]}
    problem, theta = problem_from_dicts(arch, {"points": [{"x": [1], "y": 1}]},
                                        [{"weight": [[1]], "bias": [0]}, {"weight": [[1]]}])
    assert global_.structure(problem.network) is None


def test_structure_detection():
    problem, _ = load_example("example1")
    assert global_.structure(problem.network) == "two_layer"
    problem, _ = load_example("deep_linear")
    assert global_.structure(problem.network) == "deep_linear"
    from symkkt.network import Network
    from symkkt.spec import load_architecture

    assert global_.structure(Network(load_architecture(os.path.join(EXAMPLES, "cnn", "arch.yaml")))) is None


def test_leaky_relu_width_one_local_is_not_global():
    # Φ = v σ(w x), σ leaky with slope 1/4, x = 2 (y = +1), x = −1 (y = −1). With v, w > 0 the
    # constraints are 2vw >= 1 and vw/4 >= 1: vw >= 4, ‖θ‖² >= 8 at w = v = 2 (a KKT point). With
    # v, w < 0: (1/4)·2·vw >= 1 and vw >= 1: vw >= 2, ‖θ‖² = 4 at w = v = −√2 (hand).
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"leaky_relu": {"slope": "1/4"}}}},
                                     {"dense": {"width": 1}}]}
    data = {"points": [{"x": [2], "y": 1}, {"x": [-1], "y": -1}]}
    problem, theta = problem_from_dicts(arch, data, [{"weight": [[2]]}, {"weight": [[2]]}])
    r = problem.decide(theta)
    assert r.verdict == "holds"
    p = decide_global(problem, theta, r, None)
    assert p.verdict == "refuted"
    W, v = _shorter_point(p)
    q = _two_layer_margins([[2], [-1]], [1, -1], W, v, slope=sympy.Rational(1, 4))
    assert all(exact_sign(m - 1) >= 0 for m in q)
    n2 = sum(t * t for row in W for t in row) + sum(t * t for t in v)
    assert exact_sign(n2 - 8) < 0 and exact_sign(n2 - 4) >= 0
    # w = v = −√2 is the global optimum of width 1, but two units do better, so the dual bound,
    # which holds for every width, cannot certify it: S(λ) > 1 and the answer stays inconclusive
    problem, theta = problem_from_dicts(arch, data, [{"weight": [["-sqrt(2)"]]}, {"weight": [["-sqrt(2)"]]}])
    p = _decide(problem, theta)
    assert p.verdict == "inconclusive" and "at this width" in p.reason
    # width 2: unit 1 (w, v) = (1, 1/2), unit 2 = (−1, −1); margins 1 + 1/2 = 3/2 at x = 2 and
    # 1/8 + 1 = 9/8 at x = −1 (hand), ‖θ‖² = 1 + 1/4 + 1 + 1 = 13/4 < 4
    q = _two_layer_margins([[2], [-1]], [1, -1], [[1], [-1]], [sympy.Rational(1, 2), -1], slope=sympy.Rational(1, 4))
    assert q == [sympy.Rational(3, 2), sympy.Rational(9, 8)]


def test_balance_and_rank_one():
    # notkkt.yaml: W1 = [[1, 1], [0, 0]], W2 = [[1, 0]]: W2ᵀW2 = diag(1, 0) but W1W1ᵀ = diag(2, 0)
    problem, theta = _problem("opt_linear_depth2", "notkkt.yaml")
    assert svm.balance_and_rank(problem.network, theta, QQ) == (False, True)
    # W1 = [[1, 0], [0, 1]], W2 = [[1, 1]]: W2ᵀW2 = [[1, 1], [1, 1]] != I, and W1 has rank 2
    assert svm.balance_and_rank(problem.network, [1, 0, 0, 1, 1, 1], QQ) == (False, False)
    problem, theta = _problem("opt_linear_depth2")
    K = problem.domain(theta).field
    assert svm.balance_and_rank(problem.network, theta, K) == (True, True)


def test_relu_local_by_enumerating_activation_patterns():
    # opt_relu_local: all labels +1, width 2. A unit with v > 0 serving the group P of points is
    # β = v·w with β·x_k >= 1 on P and β·x_k <= 0 off P (its pattern); the cheapest such β is the
    # exact min-norm point of {β·x_k >= 1, k in P} when that one happens to satisfy the rest.
    # Enumerate every split of the 3 points into two served groups (each point served by exactly
    # one unit; units with v < 0 only lower margins): ½‖θ‖² = min Σ‖β‖ over consistent splits.
    problem, theta = _problem("opt_relu_local", "optimum.yaml")
    X = [list(x) for x in problem.data.X]
    best = None
    for mask in range(1, 7):                      # group P = points in mask, the rest Q (both non-empty)
        P = [k for k in range(3) if mask >> k & 1]
        Q = [k for k in range(3) if not mask >> k & 1]
        cost = 0
        for group, other in ((P, Q), (Q, P)):
            sol = svm.hard_margin_svm(QQ, [X[k] for k in group], [1] * len(group))
            beta = [v.to_sympy() for v in sol.w]
            if any(sum(b * x for b, x in zip(beta, X[k])) > 0 for k in other):
                cost = None                   # pattern inconsistent: this unit would also serve `other`
                break
            cost += sympy.sqrt(sum(b * b for b in beta))
        if cost is not None:
            best = cost if best is None or cost < best else best
    # groupings {0,1}|{2} → √2 + 1/√2, {0}|{1,2} → 1 + 1, {0,2}|{1} → √5 + 1/√5 (hand): min 2
    assert best == 2
    assert sum(v * v for v in theta) == 2 * best                     # optimum.yaml reaches it
    assert _decide(problem, theta).verdict == "holds"               # and the dual bound proves it
    problem, theta = _problem("opt_relu_local")
    assert sympy.simplify(sum(v * v for v in theta) - 2 * (sympy.sqrt(2) + 1 / sympy.sqrt(2))) == 0
