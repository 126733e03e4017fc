"""``symkkt smallinit``: small initialization next to the NCF flow [K] (docs/mathematics.md).

Facts tested, with where they come from:

- the rescaling identity −δ^(1−K)·∇L(δu) = ∇N(u) − δ^K Σ_i H(x_i; u)∇H(x_i; u) of the square loss,
  exactly, at random rational points, δ and targets of leaky MLPs of depth 2 and 3 (the left side
  is the loss gradient computed through the exact Network at w = δu; the right side is
  :func:`rescaled_field` at u); a wrong power of δ is rejected;
- closed forms on one-unit chains (H = a·b·x, H = a·b·c·x): on the ray u = r·(1, 1)/√2 the
  square-loss flow is dq/dτ = 2q − δ²q² for q = ‖u‖², so the escape time is
  ½·log(R²(2 − δ²)/(2 − δ²R²)) and the deviation from the NCF flow at τ = log R is
  R − R·(1 + δ²(R² − 1)/2)^(−1/2); on the depth-3 ray 1/r = 1 − τ/√3, escape at √3·(1 − 1/R),
  blow-up exactly at the bound √3 of the blow-up lemma; from u₀ = (1, −1)/√2 the flow is
  u' = −u, ‖u‖ = e^(−τ): the collapse alternative;
- Euler's identity d/dτ‖u‖² = 2K·N(u) along the computed NCF flow (second-order central
  differences), and not with 2(K−1);
- the blow-up bound and the norm lower bounds never violated along computed flows; a
  trajectory that grows too slowly is flagged;
- the deviation rate ≈ K (K = 2, 3) and the escape time stable across δ; with δR of order 1 the
  escape time moves (the check can fail);
- the logistic flow's limit is the NCF flow at half speed: its escape time is twice the
  square-loss one;
- the dense fast path agrees with the Network path (arb, 30 digits, leaky and cubic leaky);
- bad input: one line, exit 2.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import call
from symkkt.ncf.smallinit import (_blowup_check, _DenseField, _NetworkField, _Tier, family_distance, make_init,
                                  rescaled_field, smallinit_from_dicts)
from symkkt.network import Network
from symkkt.spec import architecture_from_json
from symkkt.tensor import ExactDomain

Q = sympy.Rational


def leaky_arch(widths, d, slope="1/5", power=None):
    act = {"leaky_relu": {"slope": slope}} if power is None else \
        {"poly_leaky_relu": {"slope": slope, "power": power}}
    layers = [{"dense": {"width": w, "activation": act}} for w in widths] + [{"dense": {"width": 1}}]
    return {"input": [d], "layers": layers}


def chain(depth):
    """H = (product of the weights)·x: one unit per layer, linear."""
    return {"input": [1], "layers": [{"dense": {"width": 1}} for _ in range(depth)]}


ONE = {"points": [{"x": [1], "y": 1}]}


# -- the rescaling identity, exactly -----------------------------------------------------------
rationals = st.fractions(min_value=-3, max_value=3, max_denominator=7).map(lambda f: Q(f.numerator, f.denominator))


@st.composite
def instances(draw):
    depth = draw(st.integers(2, 3))
    d = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3)) for _ in range(depth - 1)]
    net = Network(architecture_from_json(leaky_arch(widths, d, slope=draw(st.sampled_from(["1/5", "1/2", "0"])))))
    n = draw(st.integers(1, 4))
    X = [[draw(rationals) for _ in range(d)] for _ in range(n)]
    y = [draw(rationals) for _ in range(n)]
    u = [draw(rationals) for _ in range(net.num_parameters)]
    delta = Q(draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    return net, X, y, u, delta


def loss_gradient_at(net, X, y, w):
    """∇L(w) = Σ_i (H(x_i; w) − y_i)·∇H(x_i; w), straight from the exact Network at w."""
    dom = ExactDomain.for_numbers([1])
    trace = net.forward(dom, w, X)
    H = trace.output.to_sympy()
    J = net.jacobian(trace, list(range(len(X)))).to_sympy()
    return [sum((h - yi) * row[i] for i, (h, yi) in enumerate(zip(H, y))) for row in J]


@settings(max_examples=25, deadline=None)
@given(instances())
def test_rescaling_identity_exact(inst):
    net, X, y, u, delta = inst
    K = net.homogeneity().degree
    grad = loss_gradient_at(net, X, y, [delta * v for v in u])
    lhs = [sympy.expand(-delta ** (1 - K) * g) for g in grad]
    rhs = rescaled_field(net, X, y, u, delta)
    assert [sympy.simplify(a - b) for a, b in zip(lhs, rhs)] == [0] * len(u)


def test_rescaling_identity_rejects_wrong_power():
    # H = a·b·x on x = 1, y = 0 at u = (1, 2), δ = 1/2: ∇L(δu) = H(δu)∇H(δu) = (1/2)(1, 1/2)
    # (H(δu) = 1/2, ∇H(δu) = (b, a)δ = (1, 1/2)); −δ^(1−K)∇L = −2·(1/2)(1, 1/2) = (−1, −1/2);
    # the field with δ^(K−1) instead of δ^K would give −(1/2)·2·(2, 1) = (−2, −1).
    net = Network(architecture_from_json(chain(2)))
    d = Q(1, 2)
    grad = loss_gradient_at(net, [[1]], [0], [d, 2 * d])
    assert grad == [Q(1, 2), Q(1, 4)]
    assert [-d ** (1 - 2) * g for g in grad] == rescaled_field(net, [[1]], [0], [1, 2], d) == [-1, Q(-1, 2)]
    wrong = [0 - d ** 1 * 2 * v for v in (2, 1)]
    assert wrong != rescaled_field(net, [[1]], [0], [1, 2], d)


# -- closed forms on one-unit chains -----------------------------------------------------------
def test_depth2_ray_escape_time_and_deviation_closed_form():
    problem, u0 = smallinit_from_dicts(chain(2), ONE, [{"weight": [[1]]}, {"weight": [[1]]}])
    R = 10
    deltas = [Q(1, 100), Q(1, 1000)]
    res = problem.run(u0, deltas, "square", radius=R, digits=30, known_points=False)
    lim, *runs = res.runs
    assert abs(float(lim.escape_time) - math.log(R)) < 1e-7            # r = e^τ
    for run, d in zip(runs, deltas):
        d = float(d)
        tau = 0.5 * math.log(R * R * (2 - d * d) / (2 - d * d * R * R))
        assert abs(float(run.escape_time) - tau) < 1e-7
        dev = R - R * (1 + d * d * (R * R - 1) / 2) ** -0.5
        assert abs(float(run.deviation) - dev) < 1e-6 * dev
        # on the ray the NCF value is constant, ab/|u|^2 = 1/2, and the direction is a KKT point
        assert abs(float(run.ncf_value) - 0.5) < 1e-20 and float(run.residual) < 1e-20
    assert res.verdict == "holds" and abs(runs[1].rate - 2) < 0.01


def test_depth3_ray_blowup_bound_is_tight_and_never_violated():
    problem, u0 = smallinit_from_dicts(chain(3), ONE, [{"weight": [[1]]}] * 3)
    res = problem.run(u0, [Q(1, 100), Q(1, 1000)], "square", radius=10, digits=30, known_points=False)
    lim = res.runs[0]
    assert abs(float(lim.escape_time) - math.sqrt(3) * 0.9) < 1e-7      # 1/r = 1 − τ/√3
    assert res.blowup["violations"] == 0 and res.blowup["escape_before_bound"] is True
    assert abs(res.blowup["earliest_blowup_bound"] - math.sqrt(3)) < 1e-6
    assert abs(res.runs[2].rate - 3) < 0.01


def test_collapse_alternative():
    # u0 = (1, -1)/√2: ∇N = (b, a) = −u, so u' = −u and |u| = e^(−τ); N(û) = −1/2 throughout
    problem, u0 = smallinit_from_dicts(chain(2), ONE, [{"weight": [[1]]}, {"weight": [[-1]]}])
    res = problem.run(u0, [Q(1, 10), Q(1, 100)], "square", horizon=3, digits=30, known_points=False)
    assert res.verdict == "inconclusive" and "collapse" in res.reason
    lim = res.runs[0]
    assert not lim.escaped and abs(float(lim.end_norm) - math.exp(-float(lim.end_time))) < 1e-8
    assert max(lim.series["ncf"]) < 0


def test_blowup_check_flags_a_trajectory_that_grows_too_slowly():
    # K = 3, N(û) = 1 throughout but |u| stays 1: the lower bound 1/(1 − 3τ) is violated at τ = 0.1
    taus = [0.0, 0.1, 0.2]
    meas = [(1.0, 1.0, 0.0, None)] * 3
    assert _blowup_check(3, taus, meas, None, 1.0)["violations"] > 0
    grown = [(1.0, 1.0, 0, None), (1 / (1 - 0.3), 1.0, 0, None), (1 / (1 - 0.6), 1.0, 0, None)]
    assert _blowup_check(3, taus, grown, None, 1.0)["violations"] == 0


# -- leaky nets --------------------------------------------------------------------------------
ARCH3 = leaky_arch([4, 5], 3)
DATA3 = {"points": [{"x": x, "y": y} for x, y in [
    ([1, 0, "1/2"], 1), ([0, 1, -1], -1), (["-1/2", 1, 1], 1), ([1, 1, 0], -1),
    ([2, "-1/3", 1], 1), ([0, "-1", "1/4"], -1), (["1/3", 2, -1], 1), ([-1, -1, 1], -1)]]}


def init3():
    rng = np.random.default_rng(1)
    shapes = [(4, 3), (5, 4), (1, 5)]
    return [{"weight": [[str(Q(int(v), 10)) for v in rng.integers(-9, 10, s[1])] for _ in range(s[0])]}
            for s in shapes]


@pytest.fixture(scope="module")
def leaky_run():
    problem, u0 = smallinit_from_dicts(ARCH3, DATA3, init3())
    return problem, u0, problem.run(u0, ["1/100", "1/1000", "1/10000"], "square", digits=30, known_points=False)


def test_rate_is_K_and_escape_time_stable(leaky_run):
    problem, _, res = leaky_run
    K = problem.degree
    assert K == 3 and res.verdict == "holds"
    assert all(abs(r - K) < 0.05 for r in res.rates) and not any(abs(r - (K - 1)) < 0.5 for r in res.rates)
    t0 = float(res.runs[0].escape_time)
    assert all(abs(float(r.escape_time) - t0) < 1e-3 * t0 for r in res.runs[1:])


def test_escape_time_moves_when_delta_R_is_of_order_one(leaky_run):
    problem, u0, _ = leaky_run
    res = problem.run(u0, ["1/4", "1/5"], "square", digits=30, known_points=False)
    t0 = float(res.runs[0].escape_time)
    assert all(abs(float(r.escape_time) - t0) > 1e-2 * t0 for r in res.runs[1:])
    assert res.verdict != "holds"


def test_euler_identity_along_the_ncf_flow(leaky_run):
    problem, _, res = leaky_run
    K = problem.degree
    S = res.runs[0].series
    t, r, nu = np.array(S["tau"]), np.array(S["norm"]), np.array(S["ncf"])
    q = r ** 2
    worst, worst_wrong = 0.0, math.inf
    for k in range(1, len(t) - 1):
        h0, h1 = t[k] - t[k - 1], t[k + 1] - t[k]
        # second-order derivative on a non-uniform grid
        dq = (-h1 / (h0 * (h0 + h1))) * q[k - 1] + ((h1 - h0) / (h0 * h1)) * q[k] + (h0 / (h1 * (h0 + h1))) * q[k + 1]
        N = nu[k] * r[k] ** K
        worst = max(worst, abs(dq - 2 * K * N) / max(abs(2 * K * N), 1e-3))
        worst_wrong = min(worst_wrong, abs(dq - 2 * (K - 1) * N) / max(abs(2 * K * N), 1e-3))
    assert worst < 2e-2 and worst_wrong > 0.1      # second-order differences on steps of relative size 1/40


def test_euler_identity_at_the_computed_points_to_the_precision(leaky_run):
    # <u, du/dtau> = <u, grad N(u)> = K N(u) at every computed point of the NCF flow (square loss: the
    # field is grad N); N(u) from the Network path, the field from the dense path, at 30 digits
    from symkkt.flow.arith import PrecisionDomain

    problem, _, res = leaky_run
    K = problem.degree
    lim = res.runs[0]
    tier = _Tier(30)
    with tier.context():
        gen = _NetworkField(problem.network, problem.X, PrecisionDomain(30))
        y = tier.vec(tier.const(v) for v in problem.y)
        worst = 0.0
        for u, F in zip(lim.points, lim.fields):
            H, _ = gen.forward(u)
            N = (y * H).sum()
            lhs = (u * F).sum()
            worst = max(worst, abs(float(lhs - K * N)) / max(1.0, abs(float(N))))
            assert abs(float(lhs - (K - 1) * N)) > 1e-6 * abs(float(N))
    assert worst < 1e-25


def test_logistic_limit_is_the_ncf_flow_at_half_speed(leaky_run):
    problem, u0, square = leaky_run
    res = problem.run(u0, ["1/1000", "1/10000"], "logistic", digits=30, known_points=False)
    assert abs(float(res.runs[0].escape_time) - 2 * float(square.runs[0].escape_time)) < 1e-6
    assert res.verdict == "holds" and all(abs(r - 3) < 0.05 for r in res.rates)
    assert "half speed" in res.limit_text


@pytest.mark.parametrize("power", [None, 3])
def test_dense_path_agrees_with_network_path(power):
    net = Network(architecture_from_json(leaky_arch([3, 2], 3, power=power)))
    X = [[Q(1), Q(-1, 2), Q(2)], [Q(0), Q(1, 3), Q(-1)], [Q(-2), Q(1), Q(1, 5)]]
    tier = _Tier(30)
    rng = np.random.default_rng(0)
    u_exact = [Q(int(v), 2) for v in rng.integers(-3, 4, net.num_parameters)]
    c_exact = [Q(1), Q(-2, 3), Q(1, 2)]
    from symkkt.flow.arith import PrecisionDomain

    with tier.context():
        u = tier.vec(tier.const(v) for v in u_exact)
        c = tier.vec(tier.const(v) for v in c_exact)
        dense = _DenseField(net, X, tier.const, False)
        H1, cache = dense.forward(u)
        g1 = dense.backward(cache, c)
        gen = _NetworkField(net, X, PrecisionDomain(30))
        H2, tr = gen.forward(u)
        g2 = gen.backward(tr, c)
    exact = rescaled_field(net, X, c_exact, u_exact, 0)        # Σ c_i ∇H(x_i; u), exact
    assert max(abs(float(a - b)) for a, b in zip(H1, H2)) < 1e-25
    assert max(abs(float(a) - float(e)) for a, e in zip(g1, exact)) < 1e-12 * max(1, max(abs(float(e)) for e in exact))
    assert max(abs(float(a - b)) for a, b in zip(g1, g2)) < 1e-25


def test_init_normalization_is_exact():
    net = Network(architecture_from_json(chain(2)))
    init = make_init([3, 4], net)
    assert init.normalized and init.norm2 == 25
    with _Tier(40).context():
        v = init.vector(_Tier(40))
    assert abs(float(v[0]) - 0.6) < 1e-30 and abs(float(v[1]) - 0.8) < 1e-30
    assert not make_init([Q(3, 5), Q(4, 5)], net).normalized


# -- command line ------------------------------------------------------------------------------
@pytest.fixture
def files(tmp_path):
    (tmp_path / "arch.yaml").write_text(json.dumps(ARCH3))        # JSON is YAML
    (tmp_path / "data.yaml").write_text(json.dumps(DATA3))
    (tmp_path / "init.yaml").write_text(json.dumps(init3()))
    zero = [{"weight": [["0"] * len(row) for row in layer["weight"]]} for layer in init3()]
    (tmp_path / "zero.yaml").write_text(json.dumps(zero))
    bad = {"points": [dict(p, y="1/2") if i == 0 else p for i, p in enumerate(DATA3["points"])]}
    (tmp_path / "half.yaml").write_text(json.dumps(bad))
    word = {"points": [dict(p, y="abc") if i == 0 else p for i, p in enumerate(DATA3["points"])]}
    (tmp_path / "word.yaml").write_text(json.dumps(word))
    return tmp_path


def test_cli_holds_json_and_plot(capsys, files):
    png = files / "si.png"
    code, out, err = call(capsys, "smallinit", "--delta", "1/100", files / "arch.yaml", "--loss", "square",
                          files / "data.yaml", files / "init.yaml", "--delta", "1/1000", "--json",
                          "--precision", "30", "--plot", png, "--no-known-points")
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "holds" and obj["degree"] == 3 and png.stat().st_size > 1000
    assert obj["init_normalized"] is True and obj["tier"].startswith("high precision (observed)")
    assert obj["blowup_check"]["violations"] == 0


@pytest.mark.parametrize("args, needle", [
    (["init.yaml", "--delta", "0"], "delta must be > 0"),
    (["init.yaml", "--delta=-1/10"], "delta must be > 0"),
    (["zero.yaml", "--delta", "1/10"], "norm zero"),
    (["init.yaml", "--delta", "1/10", "--horizon", "0"], "TAU must be > 0"),
])
def test_cli_bad_input(capsys, files, args, needle):
    code, out, err = call(capsys, "smallinit", files / "arch.yaml", files / "data.yaml",
                          *[files / a if a.endswith(".yaml") else a for a in args], "--loss", "square")
    assert code == 2 and needle in err and err.count("\n") == 1 and out == ""


def test_cli_targets(capsys, files):
    # logistic needs labels ±1; square takes any exact target; a word is not a number
    code, _, err = call(capsys, "smallinit", files / "arch.yaml", files / "half.yaml", files / "init.yaml",
                        "--delta", "1/10", "--loss", "logistic")
    assert code == 2 and "label must be +1 or -1" in err
    code, _, err = call(capsys, "smallinit", files / "arch.yaml", files / "word.yaml", files / "init.yaml",
                        "--delta", "1/10", "--loss", "square")
    assert code == 2 and "points[0].y" in err
    code, out, _ = call(capsys, "smallinit", files / "arch.yaml", files / "half.yaml", files / "init.yaml",
                        "--delta", "1/100", "--delta", "1/1000", "--loss", "square", "--json", "--no-known-points")
    assert code in (0, 1, 3) and json.loads(out)["loss"] == "square"


def test_cli_horizon_beyond_blowup_is_cut(capsys, files):
    code, out, _ = call(capsys, "smallinit", files / "arch.yaml", files / "data.yaml", files / "init.yaml",
                        "--delta", "1/100", "--loss", "square", "--horizon", "1000", "--json", "--no-known-points")
    obj = json.loads(out)
    assert any("beyond the blow-up bound" in n for n in obj["notes"])
    assert float(obj["horizon"]) < 1000 and obj["runs"][0]["escaped"]


def test_family_distance_is_zero_on_the_rank_one_family_and_positive_off_it():
    # a member of the family for the 3-4-5-1 leaky net (p = 1, K = 3, t = 3^(-1/2)): b = (1, 2, 2)/3,
    # a_1 = (1, 1, 1, 1)/2, a_2 = (3, 4, 0, 0, 0)/5, ε = −1
    net = Network(architecture_from_json(ARCH3))
    t = 3 ** -0.5
    b, a1, a2 = np.array([1, 2, 2]) / 3, np.ones(4) / 2, np.array([3, 4, 0, 0, 0]) / 5
    member = np.concatenate([(t * np.outer(a1, b)).ravel(), (t * np.outer(a2, a1)).ravel(), -t * a2])
    assert abs(np.linalg.norm(member) - 1) < 1e-12
    assert family_distance(net, member, member) < 1e-12
    c1 = np.array([1, 2, 3, 4]) / 30 ** 0.5
    other = np.concatenate([(t * np.outer(c1, b)).ravel(), (t * np.outer(a2, c1)).ravel(), -t * a2])
    assert family_distance(net, other, member) < 1e-12          # another member through the same b
    off = member.copy()
    off[0] += 0.1                                               # W_1 no longer rank one
    assert family_distance(net, off, member) > 0.05
    relu = Network(architecture_from_json({"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu"}},
                                                                    {"dense": {"width": 1}}]}))
    assert family_distance(relu, [1, 0], [1, 0]) is None        # not of the rank-one kind
