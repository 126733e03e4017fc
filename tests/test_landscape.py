"""Tests of symkkt.landscape: the empirical risk, its derivatives and Hessian inertia (docs/mathematics.md §6).

Every expectation is computed independently of the module: risks written by hand as sympy
expressions (not through symkkt.network), Hessians derived on paper, numpy float code, or
mpmath eigenvalues. Negative controls accompany the positive claims.
"""

import math
import time

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from symkkt.api import example_paths
from symkkt.landscape import (Evaluation, Inertia, KinkError, LossProblem, inertia, load_loss_problem,
                              MAX_HESSIAN_PARAMETERS)
from symkkt.spec import architecture_from_json, data_from_json

R = sympy.Rational
SQ2 = sympy.sqrt(2)


def two_layer(d, h, act, bias1=False, bias2=False):
    return {"input": [d], "layers": [{"dense": {"width": h, "activation": act, "bias": bias1}},
                                     {"dense": {"width": 1, "bias": bias2}}]}


def problem_of(arch_json, points, loss="mse"):
    arch = architecture_from_json(arch_json)
    data = data_from_json({"points": [{"x": [str(v) for v in x], "y": str(y)} for x, y in points]}, arch=arch)
    return LossProblem(arch, data, loss)


def unpack(theta, d, h, bias1, bias2):
    """(W1 rows, b1, a, c) from the flat θ in Network order: W1, b1, W2, b2."""
    pos = 0
    W = [theta[pos + j * d: pos + (j + 1) * d] for j in range(h)]
    pos += h * d
    b = theta[pos:pos + h] if bias1 else [0] * h
    pos += h if bias1 else 0
    a = theta[pos:pos + h]
    pos += h
    c = theta[pos] if bias2 else 0
    return W, b, a, c


def hand_risk(sym, points, d, h, sigma, bias1, bias2, loss="mse"):
    """R(θ) written directly: f(x) = Σ_j a_j σ(W_j·x + b_j) + c (independent of symkkt.network)."""
    W, b, a, c = unpack(sym, d, h, bias1, bias2)
    terms = []
    for x, y in points:
        f = sum(a[j] * sigma(sum(W[j][k] * x[k] for k in range(d)) + b[j]) for j in range(h)) + c
        if loss == "mse":
            terms.append((f - y) ** 2)
        elif loss == "exp":
            terms.append(sympy.exp(-y * f))
        else:
            terms.append(sympy.log(1 + sympy.exp(-y * f)))
    return sympy.Add(*terms) / len(points)


def split_two_layer(arch_json, theta, s, alpha):
    """The one-step split T^α of hidden unit s (docs/mathematics.md §6), written here by hand.

    Unit s's incoming weights and bias are copied into a new unit placed right after it; its
    outgoing weight a_s becomes α·a_s (unit s) and (1 − α)·a_s (the copy).
    """
    d = arch_json["input"][0]
    dense1, dense2 = arch_json["layers"][0]["dense"], arch_json["layers"][1]["dense"]
    h, bias1, bias2 = dense1["width"], dense1.get("bias", False), dense2.get("bias", False)
    W, b, a, c = unpack(list(theta), d, h, bias1, bias2)
    W2 = W[:s + 1] + [list(W[s])] + W[s + 1:]
    b2 = list(b[:s + 1]) + [b[s]] + list(b[s + 1:])
    a2 = list(a[:s]) + [alpha * a[s], (1 - alpha) * a[s]] + list(a[s + 1:])
    wide = {"input": [d], "layers": [{"dense": dict(dense1, width=h + 1)}, {"dense": dict(dense2)}]}
    out = [v for row in W2 for v in row] + (b2 if bias1 else []) + a2 + ([c] if bias2 else [])
    return wide, out


POLY = {"polynomial": {"coeffs": [0, 1, 1]}}          # σ(z) = z + z²
CUBIC = {"polynomial": {"coeffs": [1, "-1/2", 0, "1/3"]}}


def sigma_poly(z):
    return z + z ** 2


def sigma_cubic(z):
    return 1 - z / 2 + z ** 3 / 3


# ------------------------------------------------------------------------- value and gradient

POINTS = [((1, R(1, 2)), R(3, 2)), ((-1, 2), -1), ((R(2, 3), -1), R(1, 4)), ((0, 1), 2), ((2, 1), R(-5, 3))]
THETA13 = [R(1, 2), -1, R(1, 3), 2, R(-3, 2), R(1, 5), R(1, 4), R(-1, 2), R(1, 7), 1, R(-2, 3), R(1, 2), R(1, 9)]


@pytest.mark.parametrize("act, sigma", [(POLY, sigma_poly), (CUBIC, sigma_cubic)])
def test_value_and_gradient_equal_sympy_diff_of_hand_written_risk(act, sigma):
    arch = two_layer(2, 3, act, True, True)
    p = problem_of(arch, POINTS)
    assert p.tier() == "exact" and p.network.num_parameters == 13
    sym = sympy.symbols("t0:13")
    Rh = hand_risk(sym, POINTS, 2, 3, sigma, True, True)
    env = dict(zip(sym, THETA13))
    assert p.value(THETA13).value == Rh.xreplace(env)
    g = p.gradient(THETA13)
    assert g.tier == "exact" and g.dps is None
    assert g.value == [sympy.diff(Rh, t).xreplace(env) for t in sym]
    assert not g.is_zero()


def test_gradient_central_differences_exact_rationals():
    """For polynomial R, (R(θ+he_i) − R(θ−he_i))/2h − ∂_iR = c₂h² + c₄h⁴ + …: the error divided
    by h² converges (computed with the module's exact values only, not its gradient)."""
    arch = two_layer(2, 3, POLY, True, True)
    p = problem_of(arch, POINTS)
    g = p.gradient(THETA13).value

    def cd(i, h):
        up, dn = list(THETA13), list(THETA13)
        up[i] += h
        dn[i] -= h
        return (p.value(up).value - p.value(dn).value) / (2 * h)

    for i in range(13):
        e1, e2 = cd(i, R(1, 10 ** 3)) - g[i], cd(i, R(1, 10 ** 4)) - g[i]
        assert abs(e1) < R(1, 10 ** 4) and abs(e2) < R(1, 10 ** 6)
        # c₂ estimate stable to O(h²)
        assert abs(e1 * 10 ** 6 - e2 * 10 ** 8) < R(1, 10 ** 4)
    # negative control: a wrong gradient (entry 4 off by 1/1000) fails the same check
    wrong = list(g)
    wrong[4] += R(1, 1000)
    assert abs(cd(4, R(1, 10 ** 4)) - wrong[4]) > R(1, 10 ** 4)


def test_gradient_algebraic_parameters_leaky_relu():
    """Q(√2): leaky ReLU slope √2/2 and an algebraic θ; exact agreement with sympy on the active branches."""
    slope = SQ2 / 2
    arch = two_layer(2, 2, {"leaky_relu": {"slope": "sqrt(2)/2"}}, True, False)
    pts = [((1, 2), 1), ((-2, 1), -1), ((1, -3), R(1, 2))]
    p = problem_of(arch, pts)
    theta = [SQ2, -1, R(1, 2), 1, R(1, 3), -SQ2 / 4, 1, R(-2, 3)]
    sym = sympy.symbols("t0:8")
    env = dict(zip(sym, theta))

    def leaky(z):  # branch chosen from the exact sign at θ (no point sits on a kink)
        s = sympy.sign(sympy.nsimplify(z.xreplace(env)))
        assert s != 0
        return z if s > 0 else slope * z

    Rh = hand_risk(sym, pts, 2, 2, leaky, True, False)
    g = p.gradient(theta).value
    for gi, t in zip(g, sym):
        assert sympy.simplify(gi - sympy.diff(Rh, t).xreplace(env)) == 0
    H = p.hessian(theta).value
    Hh = sympy.hessian(Rh, sym).xreplace(env)
    assert sympy.simplify(H - Hh) == sympy.zeros(8, 8)


def test_kinks_refused_exactly():
    arch = two_layer(2, 2, "relu", False, False)
    p = problem_of(arch, [((1, 1), 1), ((2, -1), 0)])
    theta = [1, -1, 1, 1, 2, 3]            # unit 0 on point 0: 1 - 1 = 0
    assert p.kinks(theta) == {0: ["1:0"]}
    with pytest.raises(KinkError, match="point 0: units 1:0") as err:
        p.gradient(theta)
    assert err.value.kinks == {0: ["1:0"]}
    with pytest.raises(KinkError):
        p.hessian(theta)
    assert p.value(theta).value == R(1, 2) * ((2 * 0 + 3 * 2 - 1) ** 2 + (2 * 3 + 3 * 1 - 0) ** 2)
    # control: move off the kink by 1/100 and both exist
    off = [1, R(-99, 100), 1, 1, 2, 3]
    assert p.kinks(off) == {}
    p.gradient(off), p.hessian(off)


def test_kink_of_a_unit_with_zero_outgoing_weights_keeps_the_gradient():
    """R = ½Σ(a0 relu(w0·x) + a1 relu(w1·x) − y)² with unit 1 at (w1, a1) = (0, 0): a1·relu(w1·x) is
    o(‖Δθ‖), so ∇R exists (every slope of unit 1 gives ∂R/∂w1 = a1·(...) = 0 and ∂R/∂a1 = 0), but
    ∂²R/∂a1∂w1 = r·relu'(w1·x)·x jumps, so the Hessian does not exist."""
    arch = two_layer(2, 2, "relu", False, False)
    p = problem_of(arch, [((1, 2), 1), ((-2, 1), 0)])
    theta = [1, 1, 0, 0, 2, 0]
    assert p.kinks(theta) == {}                                   # first order: harmless
    assert p.kinks(theta, order=2) == {0: ["1:1"], 1: ["1:1"]}
    # by hand: f(x) = 2 relu(x1 + x2): f = (6, 0), residuals (5, 0), ∇f at point 0 = (2, 4, 0, 0, 3, 0)
    g = p.gradient(theta).value
    assert g == [R(1, 2) * 2 * 5 * 2 * 1, R(1, 2) * 2 * 5 * 2 * 2, 0, 0, R(1, 2) * 2 * 5 * 3, 0]
    with pytest.raises(KinkError, match="Hessian"):
        p.hessian(theta)
    # control: a non-zero outgoing weight makes the kink real
    assert p.kinks([1, 1, 0, 0, 2, 1]) == {0: ["1:1"], 1: ["1:1"]}


def test_second_order_kink_of_squared_relu():
    """max(z,0)² is C¹: gradient exists at z = 0, the Hessian does not (σ'' jumps 0 → 2)."""
    arch = two_layer(1, 1, {"poly_relu": {"power": 2}}, True, False)
    p = problem_of(arch, [((1,), 1), ((2,), 3)])
    theta = [1, -1, 2]                                        # z = x - 1: point 0 at 0
    assert p.kinks(theta) == {} and p.kinks(theta, order=2) == {0: ["1:0"]}
    assert p.gradient(theta).value == [R(1, 2) * 2 * (2 - 3) * 2 * 2 * 1 * 2,
                                       R(1, 2) * 2 * (2 - 3) * 2 * 2 * 1, R(1, 2) * 2 * (2 - 3) * 1]
    with pytest.raises(KinkError, match="Hessian"):
        p.hessian(theta)


# ------------------------------------------------------------------------------------ Hessian

def test_hessian_tiny_net_by_hand():
    """f = a σ(w x + b), σ = z + z², mse on two points; Hessian derived on paper:
    H = (2/n) Σ_i [∇f_i ∇f_iᵀ + r_i ∇²f_i], ∇f = (aσ'x, aσ', σ), ∇²f = [[2a x², 2a x, σ'x],
    [2a x, 2a, σ'], [σ'x, σ', 0]] with σ' = 1 + 2z."""
    arch = two_layer(1, 1, POLY, True, False)
    pts = [((2,), 1), ((-1,), R(1, 2))]
    w, b, a = R(1, 2), R(-1, 3), 3
    p = problem_of(arch, pts)
    H = p.hessian([w, b, a])
    assert H.tier == "exact" and H.kind == "hessian"
    expect = sympy.zeros(3, 3)
    for (x,), y in pts:
        z = w * x + b
        s, ds = z + z ** 2, 1 + 2 * z
        r = a * s - y
        grad = sympy.Matrix([a * ds * x, a * ds, s])
        hess = sympy.Matrix([[2 * a * x * x, 2 * a * x, ds * x], [2 * a * x, 2 * a, ds], [ds * x, ds, 0]])
        expect += R(2, len(pts)) * (grad * grad.T + r * hess)
    assert H.value == expect
    assert H.value == H.value.T
    # negative control: the Gauss–Newton part alone is not the Hessian here (r ≠ 0)
    gn = sum((R(2, 2) * sympy.Matrix([a * (1 + 2 * (w * x + b)) * x, a * (1 + 2 * (w * x + b)),
                                      (w * x + b) + (w * x + b) ** 2]) *
              sympy.Matrix([a * (1 + 2 * (w * x + b)) * x, a * (1 + 2 * (w * x + b)),
                            (w * x + b) + (w * x + b) ** 2]).T for (x,), _ in pts), sympy.zeros(3, 3))
    assert H.value != gn


@pytest.mark.parametrize("act, sigma", [(POLY, sigma_poly), (CUBIC, sigma_cubic)])
def test_hessian_equals_sympy_hessian_with_biases(act, sigma):
    arch = two_layer(2, 3, act, True, True)
    p = problem_of(arch, POINTS)
    sym = sympy.symbols("t0:13")
    Rh = hand_risk(sym, POINTS, 2, 3, sigma, True, True)
    H = p.hessian(THETA13).value
    assert H == sympy.hessian(Rh, sym).xreplace(dict(zip(sym, THETA13)))


def test_hessian_relu_off_kinks():
    arch = two_layer(2, 3, "relu", True, True)
    p = problem_of(arch, POINTS)
    sym = sympy.symbols("t0:13")
    env = dict(zip(sym, THETA13))

    def relu(z):
        v = z.xreplace(env)
        assert v != 0
        return z if v > 0 else 0 * z

    Rh = hand_risk(sym, POINTS, 2, 3, relu, True, True)
    assert p.hessian(THETA13).value == sympy.hessian(Rh, sym).xreplace(env)


def test_hessian_conv_net_matches_differences_of_reverse_mode_gradient():
    """Conv + avgpool + flatten + dense, polynomial σ: each Hessian row equals the exact central
    difference of the (reverse-mode) gradient up to O(h²); a perturbed row does not."""
    arch = architecture_from_json({"input": [1, 6], "layers": [
        {"conv": {"channels": 2, "kernel": 3, "activation": {"polynomial": {"coeffs": [0, 1, "1/2"]}}, "bias": True}},
        {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]})
    pts = [{"x": [[str(R(i * j % 5 - 2, 3)) for i in range(6)]], "y": str(R(j, 4))} for j in range(5)]
    p = LossProblem(arch, data_from_json({"points": pts}, arch=arch))
    m = p.network.num_parameters
    theta = [R((3 * k) % 7 - 3, 4) for k in range(m)]
    H = p.hessian(theta).value
    assert H == H.T
    h = R(1, 10 ** 6)
    for i in (0, 4, m - 1):
        up, dn = list(theta), list(theta)
        up[i] += h
        dn[i] -= h
        row = [(a - b) / (2 * h) for a, b in zip(p.gradient(up).value, p.gradient(dn).value)]
        assert max(abs(row[j] - H[i, j]) for j in range(m)) < R(1, 10 ** 8)
        assert abs(row[0] - (H[i, 0] + R(1, 10 ** 6))) > R(1, 10 ** 8)


def test_hessian_is_fast_for_small_two_layer_nets():
    arch = two_layer(2, 3, POLY, True, True)
    pts = [((R(k, 3), R(5 - k, 7)), R(k, 5)) for k in range(10)]
    p = problem_of(arch, pts)
    t = time.perf_counter()
    p.hessian(THETA13)
    first = time.perf_counter() - t
    t = time.perf_counter()
    p.hessian([v + R(1, 11) for v in THETA13])
    again = time.perf_counter() - t
    assert first < 1.0 and again < 0.2, (first, again)


def test_hessian_refuses_large_nets():
    arch = two_layer(20, 4, POLY, False, False)       # 84 parameters
    p = problem_of(arch, [([1] * 20, 1)])
    assert p.network.num_parameters > MAX_HESSIAN_PARAMETERS
    with pytest.raises(ValueError, match="small instances"):
        p.hessian([1] * p.network.num_parameters)


def test_float_parameters_are_refused():
    p = problem_of(two_layer(1, 1, POLY), [((1,), 1)])
    with pytest.raises(TypeError, match="not exact"):
        p.gradient([0.5, 1])


# ------------------------------------------------------------------------------------ inertia

def test_inertia_hand_made_matrices():
    assert inertia(sympy.diag(1, 0, -2)) == (1, 1, 1)
    I = inertia(sympy.diag(1, 0, -2))
    assert isinstance(I, Inertia) and I.tier == "exact" and (I.n_plus, I.n_zero, I.n_minus) == (1, 1, 1)
    # det(λI − diag(1,0,−2)) = λ(λ − 1)(λ + 2) = λ³ + λ² − 2λ
    assert I.charpoly == [0, -2, 1, 1]
    assert inertia(sympy.zeros(3, 3)) == (0, 3, 0)
    assert inertia([[5]]) == (1, 0, 0) and inertia([[-R(1, 7)]]) == (0, 0, 1)
    # eigenvalues 0 and 3 (det 0) with an algebraic entry
    assert inertia([[1, SQ2], [SQ2, 2]]) == (1, 1, 0)
    # eigenvalues 2 and −1
    assert inertia([[0, SQ2], [SQ2, 1]]) == (1, 0, 1)
    # control: perturb the singular one slightly either way
    assert inertia([[1, SQ2], [SQ2, 2 + R(1, 10 ** 30)]]) == (2, 0, 0)
    assert inertia([[1, SQ2], [SQ2, 2 - R(1, 10 ** 30)]]) == (1, 0, 1)


def test_inertia_algebraic_3x3_and_charpoly():
    """Q(√2, √3) entries: exact Hessenberg charpoly equals sympy's, signs equal mpmath's eigenvalues."""
    s3 = sympy.sqrt(3)
    M = sympy.Matrix([[1, SQ2, 0, s3], [SQ2, 2, s3, 1], [0, s3, -1, SQ2 - 1], [s3, 1, SQ2 - 1, R(1, 2)]])
    I = inertia(M)
    lam = sympy.Symbol("lam")
    expect = sympy.Poly(M.charpoly(lam).as_expr(), lam).all_coeffs()[::-1]
    assert all(sympy.simplify(a - b) == 0 for a, b in zip(I.charpoly, expect))
    with mpmath.workdps(40):
        ev = mpmath.eigsy(mpmath.matrix([[mpmath.mpf(sympy.N(v, 50)) for v in row] for row in M.tolist()]),
                          eigvals_only=True)
        assert I.counts == (sum(1 for v in ev if v > 0), 0, sum(1 for v in ev if v < 0))


def test_inertia_not_symmetric_is_refused():
    with pytest.raises(ValueError, match="not symmetric"):
        inertia([[1, 2], [3, 4]])


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.lists(st.integers(-4, 4), min_size=36, max_size=36), st.integers(0, 5))
def test_inertia_matches_eigenvalues_rank_deficient(n, raw, rank_cut):
    """H = B D Bᵀ with exact rank deficiency; exact counts = mpmath eigenvalue signs (well separated)."""
    B = sympy.Matrix(n, n, lambda i, j: raw[i * n + j] if i > j else int(i == j))   # unit triangular
    diag = [R(raw[-1 - k], 1) if k >= rank_cut else 0 for k in range(n)]
    Hm = B * sympy.diag(*diag) * B.T
    expect = (sum(1 for v in diag if v > 0), sum(1 for v in diag if v == 0), sum(1 for v in diag if v < 0))
    assert inertia(Hm) == expect                          # Sylvester's law of inertia
    hp = inertia(mpmath.matrix([[mpmath.mpf(int(v.p)) / int(v.q) for v in row] for row in Hm.tolist()]),
                 dps=60)
    assert hp.tier == "high precision" and hp.counts == expect


def test_inertia_high_precision_reports_gap():
    M = mpmath.matrix([[2, 0, 0], [0, mpmath.mpf(10) ** -40, 0], [0, 0, -3]])
    I = inertia(M, dps=50)
    assert I == (1, 1, 1) and I.tier == "high precision"
    assert I.smallest_nonzero == 2 and I.largest_zero < mpmath.mpf(10) ** -39
    assert abs(I.tol / (3 * mpmath.mpf(10) ** -25) - 1) < 1e-12
    # a looser or tighter tolerance changes the count: it is not a decision
    assert inertia(M, dps=50, tol=mpmath.mpf(10) ** -45) == (2, 0, 1)


# ------------------------------------------------------------------------- the saddle instance

SADDLE_SIGMA = {"polynomial": {"coeffs": [1, 1, 1]}}


@pytest.fixture(scope="module")
def saddle():
    problem, theta = load_loss_problem(*example_paths("saddle"))
    return problem, theta


def wide_problem(problem, arch_json):
    return LossProblem(architecture_from_json(arch_json), problem.data)


def saddle_S(problem, theta):
    """S = Σ_i (∂R/∂f_i) σ''(w·x_i) x_i x_iᵀ from the residuals, by hand (σ'' = 2, ∂R/∂f_i = 2 r_i / n)."""
    w, a = theta[:2], theta[2]
    S = sympy.zeros(2, 2)
    n = len(problem.data.y)
    for x, y in zip(problem.data.X, problem.data.y):
        z = w[0] * x[0] + w[1] * x[1]
        r = a * (1 + z + z ** 2) - y
        S += R(2, n) * r * 2 * sympy.Matrix(x) * sympy.Matrix(x).T
    return S


def test_saddle_narrow_is_exact_strict_local_minimum(saddle):
    problem, theta = saddle
    assert theta == [2, 1, R(3, 2)]
    f = problem.outputs(theta).value
    residuals = [fi - yi for fi, yi in zip(f, problem.data.y)]
    assert residuals == [R(-1, 4), R(-1, 2), R(-1, 2), R(1, 4)]          # non-zero residuals
    assert problem.gradient(theta).is_zero()                               # exact critical point
    H = problem.hessian(theta).value
    # independent: Sylvester's criterion (leading principal minors > 0)
    assert all(H[:k, :k].det() > 0 for k in (1, 2, 3))
    assert problem.inertia(theta) == (3, 0, 0)


def test_saddle_perturbed_points_are_not_critical(saddle):
    problem, theta = saddle
    for j in range(3):
        moved = list(theta)
        moved[j] += R(1, 100)
        assert not problem.gradient(moved).is_zero()
    # perturbing one target instead also breaks criticality
    data = data_from_json({"points": [{"x": [str(v) for v in x], "y": str(y + (R(1, 8) if k == 0 else 0))}
                                      for k, (x, y) in enumerate(zip(problem.data.X, problem.data.y))]})
    assert not LossProblem(problem.network, data).gradient(theta).is_zero()


def test_saddle_S_block(saddle):
    problem, theta = saddle
    S = saddle_S(problem, theta)
    assert S == sympy.Matrix([[R(-1, 2), R(1, 2)], [R(1, 2), -1]])
    assert S[0, 0] < 0 and S.det() > 0                       # negative definite; a_s = 3/2 > 0


@pytest.mark.parametrize("alpha, expect", [(R(1, 2), (3, 1, 2)), (R(1, 3), (3, 1, 2)), (R(9, 10), (3, 1, 2)),
                                           (2, (5, 1, 0)), (-1, (5, 1, 0)), (R(3, 2), (5, 1, 0)),
                                           (0, (3, 3, 0)), (1, (3, 3, 0))])
def test_saddle_split_inertia(saddle, alpha, expect):
    """Wide inertia = inertia(H) + (0,1,0) + inertia(α(1−α) a_s S_s), each part computed independently."""
    problem, theta = saddle
    arch = two_layer(2, 1, SADDLE_SIGMA)
    wide_arch, wide_theta = split_two_layer(arch, theta, 0, alpha)
    wide = wide_problem(problem, wide_arch)
    assert wide.outputs(wide_theta).value == problem.outputs(theta).value    # output preservation
    assert wide.gradient(wide_theta).is_zero()                               # criticality preserved
    block = alpha * (1 - alpha) * theta[2] * saddle_S(problem, theta)
    ev = [sympy.N(v, 30) for v in block.eigenvals(multiple=True)]
    predicted = (3 + sum(1 for v in ev if v > 0), 1 + sum(1 for v in ev if v == 0), sum(1 for v in ev if v < 0))
    assert predicted == expect
    got = wide.inertia(wide_theta)
    assert got == expect and got.tier == "exact"
    if 0 < alpha < 1:
        assert got.n_zero >= 1 and got.n_minus >= 1                          # strict saddle


def test_saddle_hessian_congruence(saddle):
    """The block form of docs/mathematics.md §6, exactly: Pᵀ ∇²R'(T^α θ_c) P = H(θ_c) ⊕ [0] ⊕ α(1−α) a_s S_s, with
    P: (v, A, e, δ) ↦ (v + (1−α)δ, v − αδ, αA + e, (1−α)A − e), det P = ±1."""
    problem, theta = saddle
    H = problem.hessian(theta).value
    S = saddle_S(problem, theta)
    for alpha in (R(1, 2), 2, R(-3, 7)):
        wide_arch, wide_theta = split_two_layer(two_layer(2, 1, SADDLE_SIGMA), theta, 0, alpha)
        Hw = wide_problem(problem, wide_arch).hessian(wide_theta).value
        # columns: v0, v1, A, e, δ0, δ1; rows: W1[0,0], W1[0,1], W1[1,0], W1[1,1], W2[0,0], W2[0,1]
        P = sympy.Matrix([[1, 0, 0, 0, 1 - alpha, 0],
                          [0, 1, 0, 0, 0, 1 - alpha],
                          [1, 0, 0, 0, -alpha, 0],
                          [0, 1, 0, 0, 0, -alpha],
                          [0, 0, alpha, 1, 0, 0],
                          [0, 0, 1 - alpha, -1, 0, 0]])
        assert abs(P.det()) == 1
        expect = sympy.diag(H, sympy.zeros(1, 1), alpha * (1 - alpha) * theta[2] * S)
        assert P.T * Hw * P == expect
        # the congruence keeps inertia, not eigenvalues: control that the spectra differ
        lam = sympy.Symbol("lam")
        assert Hw.charpoly(lam) != expect.charpoly(lam)


def test_sigma_zero_at_zero_forces_vSv_zero():
    """With σ = z + z² (σ(0) = 0) the same recipe gives a critical point whose S_s satisfies
    wᵀ S w = 0 exactly, so S_s is never definite. The wide inertia is still predicted by
    H ⊕ [0] ⊕ α(1−α) a_s S_s, with the zero count growing by more than one (S_s w = 0 here)."""
    w, a = (2, 1), R(3, 2)
    xs = [(-1, 0), (-1, 1), (0, -1), (1, 0)]
    sig, dsig = (lambda z: z + z ** 2), (lambda z: 1 + 2 * z)
    zs = [w[0] * x[0] + w[1] * x[1] for x in xs]
    J = sympy.Matrix([[a * dsig(z) * x[0] for z, x in zip(zs, xs)], [a * dsig(z) * x[1] for z, x in zip(zs, xs)],
                      [sig(z) for z in zs]])
    (r,) = J.nullspace()
    r = r / 8 / max(abs(v) for v in r)
    pts = [(x, a * sig(z) - ri) for x, z, ri in zip(xs, zs, r)]
    arch = two_layer(2, 1, POLY)
    p = problem_of(arch, pts)
    theta = [w[0], w[1], a]
    assert p.gradient(theta).is_zero() and p.value(theta).value != 0
    S = sum((R(2, 4) * ri * 2 * sympy.Matrix(x) * sympy.Matrix(x).T for x, ri in zip(xs, r)), sympy.zeros(2, 2))
    wv = sympy.Matrix(w)
    assert (wv.T * S * wv)[0, 0] == 0 and S != sympy.zeros(2, 2) and S.det() <= 0   # not definite
    narrow = p.inertia(theta)
    for alpha in (R(1, 2), 2):
        wide_arch, wide_theta = split_two_layer(arch, theta, 0, alpha)
        wide = LossProblem(architecture_from_json(wide_arch), p.data)
        assert wide.gradient(wide_theta).is_zero()
        block = [sympy.sign(v) for v in (alpha * (1 - alpha) * a * S).eigenvals(multiple=True)]
        predicted = (narrow.n_plus + block.count(1), narrow.n_zero + 1 + block.count(0),
                     narrow.n_minus + block.count(-1))
        assert wide.inertia(wide_theta) == predicted
        assert predicted[1] >= narrow.n_zero + 2


def test_split_of_unit_with_zero_outgoing_weight_breaks_the_block_formula():
    """a_s = 0 at a critical point: in the coordinates of docs/mathematics.md §6 the (e, δ) block is
    g = Σ_i ∂R/∂f_i σ'(w_s·x_i) x_i, not 0, so the wide Hessian is H ⊕ [[0, gᵀ], [g, 0]]: one more
    negative eigenvalue than H ⊕ [0] ⊕ α(1−α)·a_s·S_s = H ⊕ 0 predicts, for every α."""
    sig, dsig = (lambda z: 1 + z + z ** 2), (lambda z: 1 + 2 * z)
    w0, a0, w1 = (1, 0), 1, (1, 1)
    xs = [(-1, 0), (1, 1), (2, -1), (0, 1), (1, -2)]
    z0 = [w0[0] * x[0] + w0[1] * x[1] for x in xs]
    z1 = [w1[0] * x[0] + w1[1] * x[1] for x in xs]
    C = sympy.Matrix([[a0 * dsig(z) * x[0] for z, x in zip(z0, xs)], [a0 * dsig(z) * x[1] for z, x in zip(z0, xs)],
                      [sig(z) for z in z0], [sig(z) for z in z1]])
    (r,) = C.nullspace()            # ∂R/∂w0 = ∂R/∂a0 = ∂R/∂a1 = 0; ∂R/∂w1 = 0 because a1 = 0
    pts = [(x, a0 * sig(z) - ri) for x, z, ri in zip(xs, z0, r)]
    arch = two_layer(2, 2, SADDLE_SIGMA)
    p = problem_of(arch, pts)
    theta = [w0[0], w0[1], w1[0], w1[1], a0, 0]
    assert p.gradient(theta).is_zero()
    g = sum((R(2, 5) * ri * dsig(z) * sympy.Matrix(x) for x, z, ri in zip(xs, z1, r)), sympy.zeros(2, 1))
    assert g != sympy.zeros(2, 1)
    narrow = p.inertia(theta)
    for alpha in (R(1, 2), 2):
        wide_arch, wide_theta = split_two_layer(arch, theta, 1, alpha)
        wide = LossProblem(architecture_from_json(wide_arch), p.data)
        assert wide.gradient(wide_theta).is_zero()
        got = wide.inertia(wide_theta)
        formula = (narrow.n_plus, narrow.n_zero + 3, narrow.n_minus)     # H ⊕ [0] ⊕ 0 (a_s = 0, d = 2)
        # [[0, gᵀ], [g, 0]] (1 + 2 dims) has eigenvalues ±|g| and 0
        assert got == (narrow.n_plus + 1, narrow.n_zero + 1, narrow.n_minus + 1)
        assert got != formula


# ------------------------------------------------------------------------- high-precision tier

def float_two_layer(theta, pts, d, h, loss, bias1=True, bias2=True):
    """R, ∇R in numpy float64, by hand, for f = Σ a_j tanh(W_j x + b_j) + c."""
    th = np.array([float(v) for v in theta])
    W = th[:h * d].reshape(h, d)
    pos = h * d
    b = th[pos:pos + h] if bias1 else np.zeros(h)
    pos += h if bias1 else 0
    a = th[pos:pos + h]
    pos += h
    c = th[pos] if bias2 else 0.0
    val, grad = 0.0, np.zeros_like(th)
    for x, y in pts:
        x, y = np.array([float(v) for v in x]), float(y)
        t = np.tanh(W @ x + b)
        f = a @ t + c
        if loss == "mse":
            l, dl = (f - y) ** 2, 2 * (f - y)
        elif loss == "exp":
            l, dl = math.exp(-y * f), -y * math.exp(-y * f)
        else:
            l, dl = math.log1p(math.exp(-y * f)), -y / (1 + math.exp(y * f))
        val += l
        dz = a * (1 - t ** 2)
        g = list(np.outer(dz, x).ravel()) + (list(dz) if bias1 else []) + list(t) + ([1.0] if bias2 else [])
        grad += dl * np.array(g)
    n = len(pts)
    return val / n, grad / n


@pytest.mark.parametrize("loss", ["mse", "exp", "logistic"])
def test_tanh_high_precision_agrees_with_float(loss):
    arch = two_layer(2, 3, "tanh", True, True)
    pts = [(x, 1 if k % 2 else -1) if loss != "mse" else (x, y) for k, (x, y) in enumerate(POINTS)]
    p = problem_of(arch, pts, loss)
    assert p.tier() == "high precision"
    v, g = p.value(THETA13, dps=40), p.gradient(THETA13, dps=40)
    assert v.tier == g.tier == "high precision" and v.dps == 40
    fv, fg = float_two_layer(THETA13, pts, 2, 3, loss)
    assert abs(float(v.value) - fv) < 1e-12
    assert np.max(np.abs(g.to_float() - fg)) < 1e-12
    with pytest.raises(ValueError, match="cannot be decided"):
        g.is_zero()
    # Hessian against sympy's Hessian of the hand-written risk, evaluated by mpmath at 40 digits
    sym = sympy.symbols("t0:13")
    Rh = hand_risk(sym, pts, 2, 3, sympy.tanh, True, True, loss)
    Hh = sympy.lambdify(sym, sympy.hessian(Rh, sym), "mpmath")
    H = p.hessian(THETA13, dps=40)
    with mpmath.workdps(40):
        ref = Hh(*[mpmath.mpf(int(t.p)) / int(t.q) for t in map(sympy.Rational, THETA13)])
        assert mpmath.mnorm(H.value - ref, 1) < mpmath.mpf(10) ** -30
    assert H.value == H.value.T
    I = p.inertia(H)
    assert I.tier == "high precision" and sum(I) == 13 and I.smallest_nonzero > 10 * I.tol
    assert np.max(np.abs(H.to_float() - np.array(ref.tolist(), dtype=float))) < 1e-12


def test_exp_loss_on_polynomial_net_is_high_precision_and_control_is_exact():
    arch = two_layer(1, 1, POLY, False, False)
    pts = [((1,), 1), ((-2,), -1)]
    assert problem_of(arch, pts, "exp").tier() == "high precision"
    assert problem_of(arch, pts, "mse").tier() == "exact"
    p = problem_of(arch, pts, "exp")
    v = p.value([1, R(1, 2)], dps=30).value       # f = (1, 1): (e^{-1} + e^{1}) / 2 = cosh 1
    with mpmath.workdps(30):
        assert abs(v - mpmath.cosh(1)) < mpmath.mpf(10) ** -28


def test_evaluation_helpers():
    p = problem_of(two_layer(1, 1, POLY), [((1,), 1)])
    g = p.gradient([1, 1])
    assert isinstance(g, Evaluation) and g.exact and g.max_abs() == 6 and list(g.to_float()) == [6.0, 4.0]
    assert "exact" in repr(p)
    assert g.values == [6, 4] and p.outputs([1, 1]).values == [2]
    H = p.hessian([1, 1])
    assert H.matrix == H.value and H.values == [22, 18, 18, 8]
    with pytest.raises(AttributeError):
        g.matrix
