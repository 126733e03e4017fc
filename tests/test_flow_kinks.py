"""Trajectories started exactly on a kink, in every tier (``symkkt flow``).

Facts tested, with where they come from:

- the Clarke selection at a kink: both nets take σ' at the lower end of its Clarke interval
  (ReLU: 0), and the children of a split unit, whose pre-activations are c_i z, take their
  parent's element; then ∇L̃(Tθ) = T∇L(θ) at the kink too, and [A] Thm 5.2's step-by-step
  argument keeps η_k = Tθ_k. In exact arithmetic the deviation is exactly 0, and the rounded
  and enclosed tiers must not report a deviation that only a sign flipped by rounding made;
- the first GD step from a kink, by hand: for Φ = Σ_j a_j relu(w_j·x) and the squared hinge
  ℓ(q) = max(0, 1 − q)², ∂L/∂w_j = (1/n) Σ_k ℓ'(q_k) y_k a_j relu'(w_j·x_k) x_k with
  relu'(0) = 0 and ∂L/∂a_j = (1/n) Σ_k ℓ'(q_k) y_k relu(w_j·x_k): every tier's θ_1 is that
  point (and not the one slope 1 at the kink gives);
- a property over random relu / leaky nets (2 and 3 dense layers, a 1-D CNN with average
  pooling that drops a position) with a data point put exactly on a hidden unit's kink and that
  unit split with Pythagorean coefficients: no tier refutes, the exact deviation is 0, and the
  50-digit final θ agrees with the exact one (the exact engine, an independent path) to 1e-40;
- the ball tier never guesses: a ball containing 0 that is not a proved kink is inconclusive;
- negative controls from a kink start: Adam and different batches are refuted in every tier.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import sympy
from flint import arb, ctx, fmpq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import call
from symkkt.embed import chain, parse_step
from symkkt.errors import UsageError
from symkkt.flow import FlowProblem
from symkkt.flow.arith import Undecided, make_arithmetic
from symkkt.flow.engines import DenseEngine, GenericEngine, ShallowEngine
from symkkt.flow.kinks import KinkRule
from symkkt.flow.losses import LOSSES
from symkkt.network import Network
from symkkt.spec import Dataset, architecture_from_json

R = sympy.Rational
TIERS = ("exact", "balls", "precision", "float")

# The instance: 2-2-1 ReLU; point 0 lies on hidden unit 0's kink: (-3/5)(-1/25) + (-1/10)(6/25) = 0.
ARCH = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}
W1 = [[R(-3, 5), R(-1, 10)], [R(7, 10), R(-3, 10)]]
W2 = [R(2, 5), R(-9, 10)]
X = [[R(-1, 25), R(6, 25)], [R(1), R(1, 2)], [R(-1), R(-1)]]
Y = [-1, 1, 1]
SPLIT = "1:0:3/5,4/5"


def bug_instance(split=SPLIT):
    net = Network(architecture_from_json(ARCH))
    problem = FlowProblem(net, Dataset(X, Y), chain(net, [parse_step(split)]))
    return problem, [w for row in W1 for w in row] + W2


def exact_values(vec):
    """Exact numbers of an exact-tier vector."""
    return list(vec.to_sympy())


def as_arb(v):
    """An arb ball of a tier value (arb itself, a float, or an exact rational)."""
    if isinstance(v, arb):
        return v
    if isinstance(v, float):
        return arb(v)
    v = sympy.Rational(v)
    return arb(fmpq(int(v.p), int(v.q)))


def max_gap(tier_vec, exact):
    """Upper bound of max_r |tier_r − exact_r|, computed in arb at 400 bits."""
    with ctx.workprec(400):
        return max(float((as_arb(a) - as_arb(b)).abs_upper()) for a, b in zip(tier_vec, exact))


# ------------------------------------------------------------------------------ the instance

def test_the_start_is_on_a_kink_and_no_other():
    z = [[sum(w * x for w, x in zip(row, pt)) for row in W1] for pt in X]
    assert z[0][0] == 0                                    # the kink
    assert all(v != 0 for k, zk in enumerate(z) for j, v in enumerate(zk) if (k, j) != (0, 0))


@pytest.mark.parametrize("engine", ["auto", "generic", "dense"])
def test_instance_holds_in_every_tier(engine):
    problem, theta0 = bug_instance()
    res = {}
    for tier in TIERS:
        if tier == "exact" and engine == "dense":
            continue
        res[tier] = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=4, tier=tier, digits=50,
                                engine=engine)
        assert res[tier].verdict == "holds", (tier, res[tier].reason)
    if "exact" in res:
        assert res["exact"].max_deviation == "0" and res["exact"].steps_done == 4
        exact = exact_values(res["exact"].final_theta)
        assert max_gap(res["precision"].final_theta, exact) < 1e-45
        assert max_gap(res["float"].final_theta, exact) < 1e-13
        with ctx.workprec(400):   # the balls enclose the exact iterate
            assert all(b.contains(as_arb(e)) for b, e in zip(res["balls"].final_theta, exact))


def hand_first_step(slope_at_kink, lr=R(1, 10)):
    """θ_1 = θ_0 − lr ∇L(θ_0) for the instance, from the formulas in the module docstring."""
    n = len(Y)

    def relu(z):
        return max(z, 0)

    def d_relu(z):
        return 1 if z > 0 else (0 if z < 0 else slope_at_kink)

    z = [[sum(w * x for w, x in zip(row, pt)) for row in W1] for pt in X]
    q = [Y[k] * sum(W2[j] * relu(z[k][j]) for j in range(2)) for k in range(n)]
    lp = [-2 * relu(1 - qk) for qk in q]
    gW = [[sum(lp[k] * Y[k] * W2[j] * d_relu(z[k][j]) * X[k][i] for k in range(n)) / n for i in range(2)]
          for j in range(2)]
    ga = [sum(lp[k] * Y[k] * relu(z[k][j]) for k in range(n)) / n for j in range(2)]
    theta0 = [w for row in W1 for w in row] + W2
    grad = [g for row in gW for g in row] + ga
    return [t - lr * g for t, g in zip(theta0, grad)]


@pytest.mark.parametrize("tier", TIERS)
def test_first_step_uses_the_lower_end_in_both_nets(tier):
    problem, theta0 = bug_instance()
    lower, upper = hand_first_step(0), hand_first_step(1)
    # the two Clarke choices give points (2/5)(1/3)(2/10)|x_0| ≈ 0.0065 apart: a real difference
    assert max(abs(a - b) for a, b in zip(lower, upper)) > R(1, 200)
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=1, tier=tier, digits=50)
    if tier == "exact":
        assert exact_values(r.final_theta) == lower
        # the wide net took the same element: η_1 = Tθ_1 of the hand value
        assert exact_values(r.final_eta) == problem.embedding.forward(lower)
        return
    tol = {"balls": 1e-45, "precision": 1e-45, "float": 1e-15}[tier]
    assert max_gap(r.final_theta, lower) <= tol and max_gap(r.final_theta, upper) > 1e-3
    assert max_gap(r.final_eta, problem.embedding.forward(lower)) <= tol


def test_cli_reproduction_and_kink_report(capsys, tmp_path):
    (tmp_path / "arch.yaml").write_text("input: [2]\nlayers:\n  - dense: {width: 2, activation: relu}\n"
                                        "  - dense: {width: 1}\n")
    (tmp_path / "data.yaml").write_text("points:\n  - {x: [-1/25, 6/25], y: -1}\n  - {x: [1, 1/2], y: 1}\n"
                                        "  - {x: [-1, -1], y: 1}\n")
    (tmp_path / "init.yaml").write_text("- weight: [[-3/5, -1/10], [7/10, -3/10]]\n- weight: [[2/5, -9/10]]\n")
    files = [tmp_path / f for f in ("arch.yaml", "data.yaml", "init.yaml")]
    for flags in (["--exact"], ["--precision", 50], ["--balls", 50], ["--float"]):
        code, out, err = call(capsys, "flow", *files, "--split", SPLIT, "--loss", "squared_hinge", "--steps", 4,
                              "--json", *flags)
        obj = json.loads(out)
        assert (code, obj["verdict"]) == (0, "holds"), (flags, obj["reason"])
        if flags[0] != "--exact":
            kinks = obj["diagnostics"]["kinks"]
            # one point on one unit's kink: one kink decision at the start in the narrow net, and
            # one for each of the two children in the wide net
            assert kinks["narrow"]["exact_at_start"] == 1 and kinks["wide"]["exact_at_start"] == 2
            assert "inherit" in obj["settings"]["kink_rule"]


CNN = {"input": [1, 6], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
                                   {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]}
CNN_K = [[R(3, 10), R(-7, 10)], [R(1, 2), R(1)]]
CNN_X = [[R(1, 3), R(1, 7), 1, 3, -1, 0], [1, 0, -1, 1, 2, 3], [-1, 1, R(1, 4), -2, 0, 1]]


def test_cnn_with_pooling_from_a_kink_holds_in_every_tier():
    # channel 0 at position 0 of point 0: (3/10)(1/3) − (7/10)(1/7) = 0, the only pre-activation that is 0
    # (pooling keeps positions 0..3 of the 5; position 4 is dropped). Deciding its sign from each net's
    # rounded values independently gives the two nets different elements in float (a deviation of 1.4e-3).
    z = [[[sum(k * x for k, x in zip(K, pt[p:p + 2])) for p in range(5)] for K in CNN_K] for pt in CNN_X]
    assert [(n, c, p) for n in range(3) for c in range(2) for p in range(5) if z[n][c][p] == 0] == [(0, 0, 0)]
    net = Network(architecture_from_json(CNN))
    problem = FlowProblem(net, Dataset(CNN_X, [1, -1, 1]), chain(net, [parse_step("1:0:5/13,12/13")]))
    theta0 = [k for K in CNN_K for k in K] + [R(1, 2), R(-1), R(1), R(1, 4)]
    runs = {tier: problem.run(theta0, loss="squared_hinge", lr="1/10", steps=4, tier=tier, digits=50)
            for tier in TIERS}
    assert all(r.verdict == "holds" for r in runs.values()), {t: r.reason for t, r in runs.items()}
    assert runs["exact"].max_deviation == "0"
    exact = exact_values(runs["exact"].final_theta)
    assert max_gap(runs["precision"].final_theta, exact) < 1e-45
    for tier in ("balls", "precision", "float"):
        kinks = runs[tier].diagnostics["kinks"]
        assert (kinks["narrow"]["exact_at_start"], kinks["wide"]["exact_at_start"]) == (1, 2)


# ------------------------------------------------------------------------------ the rule itself

def test_group_rule_decides_children_together():
    problem, _ = bug_instance()
    ar = make_arithmetic("float")
    rule = KinkRule.for_net(problem.embedding, "wide", ar)
    scale = np.ones((3, 2))
    # column 0: children (3/5 z, 4/5 z) of a unit with z ≈ 0, rounded to opposite signs: one kink for both;
    # column 1: z = 1/2 → children 3/10, 2/5 positive; unit 1 at -1 and +1e-20 (below u^(3/4))
    Z = np.array([[1e-17, 0.3], [-1e-17, 0.4], [-1.0, 1e-20]])
    S = rule.decide_float(0, Z, scale, None)
    assert S.tolist() == [[0, 1], [0, 1], [-1, 0]]
    # a child with a negative multiplier has the opposite sign of its group
    net = problem.network
    emb = chain(net, [parse_step("1:0:3/5,-4/5")])
    rule = KinkRule.for_net(emb, "wide", ar)
    S = rule.decide_float(0, np.array([[0.3], [-0.4], [2.0]]), np.ones((3, 1)), None)
    assert S.ravel().tolist() == [1, -1, 1]


@pytest.mark.parametrize("cls", [GenericEngine, DenseEngine, ShallowEngine])
def test_balls_never_guess_an_unproved_kink(cls):
    # the same θ_0 without the run's exact start: 1/25·3/5 − 6/25·1/10 rounded is a ball around 0
    problem, theta0 = bug_instance()
    ar = make_arithmetic("balls", 30)
    eng = cls(problem.network, ar, problem.data.X, problem.data.y, LOSSES["squared_hinge"])
    with pytest.raises(Undecided, match="not a proved kink"):
        eng.loss_grad(ar.vector(theta0))


def test_balls_unproved_kink_after_the_start_is_inconclusive():
    # the unit's weights (1, -1) move along (1, -1) only (the active point x_1 = (1, -1) is
    # orthogonal to x_0 = (1/3, 1/3)), so x_0 stays exactly on the kink: a kink the rule does not
    # prove after the start. The ball tier stops; the exact and precision tiers agree.
    net = Network(architecture_from_json(ARCH))
    data = Dataset([[R(1, 3), R(1, 3)], [1, -1], [-1, 2]], [1, 1, -1])
    problem = FlowProblem(net, data, chain(net, [parse_step(SPLIT)]))
    theta0 = [R(1), R(-1), R(-1, 2), R(1), R(1), R(-1)]
    b = problem.run(theta0, loss="exp", lr="1/10", steps=3, tier="balls", digits=30)
    assert b.verdict == "inconclusive" and b.reason.startswith("step 1") and "not a proved kink" in b.reason
    e = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier="exact")
    p = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier="precision", digits=50)
    assert (e.verdict, e.max_deviation, p.verdict) == ("holds", "0", "holds")
    assert max_gap(p.final_theta, exact_values(e.final_theta)) < 1e-45


def test_idle_unit_stays_a_proved_kink():
    # unit 0 is negative on the two other points, so its incoming gradient is exactly 0 at every
    # step: x_0 stays on the kink, which the ball tier proves (weight decay only rescales the row)
    net = Network(architecture_from_json(ARCH))
    data = Dataset([X[0], [1, R(1, 2)], [1, -1]], [-1, 1, 1])
    problem = FlowProblem(net, data, chain(net, [parse_step(SPLIT)]))
    _, theta0 = bug_instance()
    for opt in ("gd", "weight_decay:1/10", "rk4"):
        b = problem.run(theta0, loss="exp", lr="1/10", steps=5, tier="balls", digits=40, optimizer=opt)
        assert b.verdict == "holds", (opt, b.reason)
        counts = b.diagnostics["kinks"]
        assert counts["narrow"]["idle_first_layer"] > 0 and counts["wide"]["idle_first_layer"] > 0


# ------------------------------------------------------------------------------ negative controls

@pytest.mark.parametrize("tier", TIERS)
def test_negative_controls_still_refuted_from_a_kink(tier):
    problem, theta0 = bug_instance()
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier=tier, digits=40, batch=1,
                    same_batches=False)
    assert r.verdict == "refuted" and r.max_deviation_float > 1e-3, tier
    if tier == "exact":
        with pytest.raises(UsageError):
            problem.run(theta0, loss="squared_hinge", steps=3, tier=tier, optimizer="adam")
        return
    a = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=5, tier=tier, digits=40, optimizer="adam")
    assert a.verdict == "refuted" and a.max_deviation_float > 1e-3, tier


# ------------------------------------------------------------------------------ property

rationals = st.builds(lambda p, q: R(p, q), st.integers(-6, 6), st.sampled_from([2, 4, 5, 10]))
nonzero = rationals.filter(lambda v: v != 0)
activations = st.sampled_from(["relu", {"leaky_relu": {"slope": "1/10"}}])
coefficients = st.sampled_from([("3/5", "4/5"), ("5/13", "12/13"), ("4/5", "3/5")])


def _sigma(act, z):
    if z >= 0:
        return z
    return 0 if act == "relu" else z / 10


def _project(v, w):
    """v minus its component along w (exact): the result is orthogonal to w."""
    ww = sum(a * a for a in w)
    c = sum(a * b for a, b in zip(v, w)) / ww
    return [a - c * b for a, b in zip(v, w)]


@st.composite
def kink_instances(draw):
    """(problem, theta0): a random net, a point exactly on a hidden unit's kink, that unit split."""
    kind = draw(st.sampled_from(["dense2", "dense3", "cnn"]))
    act = draw(activations)
    n = 3
    y = [draw(st.sampled_from([-1, 1])) for _ in range(n)]
    c = draw(coefficients)
    if kind == "cnn":
        arch = {"input": [1, 6], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": act}},
                                            {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]}
        K = [[draw(nonzero), draw(nonzero)] for _ in range(2)]            # W1[c][0] = K[c]
        V = [draw(rationals) for _ in range(4)]
        X = [[draw(rationals) for _ in range(6)] for _ in range(n)]
        ch, pos = draw(st.integers(0, 1)), draw(st.integers(0, 3))         # a position pooling keeps
        X[0][pos:pos + 2] = _project(X[0][pos:pos + 2], K[ch])
        assert sum(a * b for a, b in zip(K[ch], X[0][pos:pos + 2])) == 0
        theta0 = [w for row in K for w in row] + V
        split = f"1:{ch}:{c[0]},{c[1]}"
    else:
        h = draw(st.integers(2, 3))
        W = [[draw(nonzero), draw(nonzero)] for _ in range(h)]
        X = [[draw(rationals), draw(rationals)] for _ in range(n)]
        layers = [{"dense": {"width": h, "activation": act}}]
        if kind == "dense2":
            j = draw(st.integers(0, h - 1))
            X[0] = _project(X[0], W[j])
            assert sum(a * b for a, b in zip(W[j], X[0])) == 0
            theta0 = [w for row in W for w in row] + [draw(nonzero) for _ in range(h)]
            split = f"1:{j}:{c[0]},{c[1]}"
        else:
            layers.append({"dense": {"width": 2, "activation": act}})
            V = [[draw(nonzero) for _ in range(h)] for _ in range(2)]
            j = draw(st.integers(0, 1))
            a = [_sigma(act, sum(w * x for w, x in zip(row, X[0]))) for row in W]
            if any(v != 0 for v in a):
                V[j] = _project(V[j], a)
            assert sum(v * b for v, b in zip(V[j], a)) == 0
            theta0 = [w for row in W for w in row] + [v for row in V for v in row] + [draw(nonzero) for _ in range(2)]
            split = f"2:{j}:{c[0]},{c[1]}"
        arch = {"input": [2], "layers": layers + [{"dense": {"width": 1}}]}
    net = Network(architecture_from_json(arch))
    return FlowProblem(net, Dataset(X, y), chain(net, [parse_step(split)])), theta0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kink_instances())
def test_property_kink_starts_are_never_refuted(instance):
    problem, theta0 = instance
    runs = {tier: problem.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier=tier, digits=50)
            for tier in TIERS}
    for tier, r in runs.items():
        assert r.verdict != "refuted", (tier, r.reason)
    ex = runs["exact"]
    assert ex.verdict == "holds" and ex.max_deviation == "0"
    assert runs["precision"].verdict == "holds"
    for tier in ("balls", "precision", "float"):       # the kink was seen, at the start, in both nets
        kinks = runs[tier].diagnostics["kinks"]
        assert kinks["narrow"]["exact_at_start"] >= 1 and kinks["wide"]["exact_at_start"] >= 2
    exact = exact_values(ex.final_theta)
    size = max(1.0, max(abs(float(v)) for v in exact))
    assert max_gap(runs["precision"].final_theta, exact) < 1e-40 * size
    assert max_gap(runs["float"].final_theta, exact) < 1e-10 * size
    if runs["balls"].verdict == "holds":
        with ctx.workprec(400):
            assert all(b.contains(as_arb(e)) for b, e in zip(runs["balls"].final_theta, exact))
