"""Rank-one KKT points for polynomial leaky ReLU (p > 1): exact eigen-lines of the cell forms.

The exact list is compared with methods that share no code with it: sign changes of the
tangential derivative on a dense grid of the circle (d = 2), a float ascent/descent search and
dense sampling of the sphere (d = 3). Every listed point must also pass the general decision,
and a perturbed point must be refuted.
"""
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from symkkt.ncf.one_neuron import Unsolved, cells, eigenline_bound, eigenlines
from symkkt.ncf.problem import ncf_from_dicts
from symkkt.ncf.rank_one import rank_one_points, supports


def poly_arch(d, widths, p, slope="1/2"):
    act = {"poly_leaky_relu": {"slope": slope, "power": p}}
    return {"input": [d], "layers": [{"dense": {"width": w, "activation": act}} for w in widths]
            + [{"dense": {"width": 1}}]}


def data(X, Y):
    return {"points": [{"x": [str(v) for v in x], "y": str(y)} for x, y in zip(X, Y)]}


def phi_float(z, s, p, L):
    """φ = σ^(∘(L−1)), σ(z) = max(z, s z)^p, on floats (written out directly)."""
    for _ in range(L - 1):
        z = np.maximum(z, s * z) ** p
    return z


def f_float(B, X, Y, s, p, L):
    return (phi_float(np.asarray(B) @ np.asarray(X, dtype=float).T, s, p, L) * np.asarray(Y, dtype=float)).sum(axis=-1)


def b_of(point, d):
    """The unit one-neuron direction of a listed point, from its first-layer row (floats)."""
    row = np.array([float(v) for v in point.to_json()["u_approx" if point.numfield is not None else "u"][:d]]
                   if point.numfield is not None else [float(sympy.N(v)) for v in point.u[:d]])
    return row / np.linalg.norm(row)


def kink_distance(t, X):
    """Angular distance from t to the nearest kink direction (b·x_i = 0) on the circle."""
    kinks = []
    for x in X:
        a = math.atan2(x[1], x[0])
        kinks += [(a + math.pi / 2) % (2 * math.pi), (a - math.pi / 2) % (2 * math.pi)]
    return min(abs((t - a + math.pi) % (2 * math.pi) - math.pi) for a in kinks)


def random_data(rng, d, n):
    """n integer points in [−3, 3]^d (zero points dropped) with non-zero integer targets."""
    X = [[int(a) for a in rng.integers(-3, 4, size=d)] for _ in range(n)]
    X = [x for x in X if any(x)]
    return X, [int(a) or 1 for a in rng.integers(-2, 3, size=len(X))]


def assert_search_points_listed(problem, res, X, Y, d, p, L):
    """Every critical point found by the float search (ascent/descent, no exact arithmetic) is listed."""
    from symkkt.ncf.rank_one import _polynomial_search

    listed = [b_of(pt, d) for pt in res.points]
    rel = [i for i, (x, y) in enumerate(zip(X, Y)) if y != 0 and any(x)]
    found = _polynomial_search(problem, rel, d, sympy.Rational(1, 2), p, L, 0).approximate if rel else []
    for a in found:
        b = np.array([float(v) for v in a["b"]])
        assert listed and min(np.linalg.norm(b - c) for c in listed) < 1e-6, (X, Y, p, L)
    return listed, found


def critical_angles(X, Y, s, p, L, grid=200000, away=1e-3):
    """Angles of the critical points of f on the circle farther than ``away`` from the kinks:
    sign changes of df/dθ on a grid."""
    th = np.linspace(0, 2 * np.pi, grid, endpoint=False)
    B = np.stack([np.cos(th), np.sin(th)], axis=1)
    f = f_float(B, X, Y, s, p, L)
    g = np.gradient(np.concatenate([f[-2:], f, f[:2]]), th[1] - th[0])[2:-2]
    out = []
    for k in range(grid):
        if g[k] == 0 or g[k] * g[(k + 1) % grid] < 0:
            if kink_distance(th[k], X) > away:
                out.append(th[k])
    return out


def test_hand_instance_d2():
    """x = (1,0), (0,1), (1,1), y = (1,−1,1), σ(z) = max(z, z/2)^3: φ(z) = z^3 (z > 0), z^3/8 (z < 0)."""
    X, Y = [[1, 0], [0, 1], [1, 1]], [1, -1, 1]
    problem, _ = ncf_from_dicts(poly_arch(2, [2], 3), data(X, Y))
    res = rank_one_points(problem)
    assert res.complete and res.verdict == "holds"
    assert res.patterns["cells"] == 6                      # three lines through 0 cut the plane in 6
    angles = critical_angles(X, Y, 0.5, 3, 2)
    assert len(res.points) == len(angles)
    for pt in res.points:
        b = b_of(pt, 2)
        t = math.atan2(b[1], b[0]) % (2 * math.pi)
        assert min(abs((t - a + math.pi) % (2 * math.pi) - math.pi) for a in angles) < 1e-3
        # stationarity of f on the sphere at b (floats, independent formula): ∇f = P f b
        z = np.array(X, dtype=float) @ b
        df = np.where(z > 0, 3 * z ** 2, 3 * z ** 2 / 8)
        grad = ((np.array(Y) * df)[:, None] * np.array(X, dtype=float)).sum(axis=0)
        f = f_float(b, X, Y, 0.5, 3, 2)
        assert np.linalg.norm(grad - 3 * f * b) < 1e-9
        assert pt.decision.verdict == "holds" and pt.norms_ok
        assert all(r["rank_one"] for r in pt.decision.rank_one)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10 ** 6), st.sampled_from([(2, 2), (3, 2), (2, 3)]))
def test_d2_list_equals_grid_critical_points(seed, pL):
    p, L = pL
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 7))
    X = [[int(a) for a in rng.integers(-4, 5, size=2)] for _ in range(n)]
    X = [x for x in X if any(x)] or [[1, 2]]
    Y = [int(a) or 1 for a in rng.integers(-2, 3, size=len(X))]
    problem, _ = ncf_from_dicts(poly_arch(2, [3] * (L - 1), p), data(X, Y))
    res = rank_one_points(problem)
    assume_generic = [pt for pt in res.points if pt.face]
    if assume_generic:                                       # a critical point on a kink: not comparable here
        return
    angles = critical_angles(X, Y, 0.5, p, L, away=3e-3)
    assert res.complete
    for pt in res.points:
        assert pt.decision.verdict == "holds" and pt.norms_ok
    far = [pt for pt in res.points
           if kink_distance(math.atan2(b_of(pt, 2)[1], b_of(pt, 2)[0]) % (2 * math.pi), X) > 3e-3]
    # near a kink the grid cannot resolve the sign changes; every listed point is decided exactly anyway
    near = len(res.points) - len(far)
    assert len(far) <= len(angles) <= len(far) + near, (X, Y, p, L)


def test_d3_against_float_search_and_sampling():
    rng = np.random.default_rng(3)
    X, Y = random_data(rng, 3, 7)
    problem, _ = ncf_from_dicts(poly_arch(3, [2], 3), data(X, Y))
    res = rank_one_points(problem)
    assert res.complete and res.verdict == "holds" and res.points
    listed, _ = assert_search_points_listed(problem, res, X, Y, 3, 3, 2)
    # complete list: the maximum of f on the sphere is the largest listed f (f is C^1 for p = 3)
    S = rng.normal(size=(200000, 3))
    S /= np.linalg.norm(S, axis=1, keepdims=True)
    sampled = f_float(S, X, Y, 0.5, 3, 2).max()
    best = max(f_float(b, X, Y, 0.5, 3, 2) for b in listed)
    assert sampled <= best + 1e-9 and best - sampled < 0.05 * abs(best)


def test_perturbed_algebraic_point_refuted():
    X, Y = [[1, 0, 1], [0, 1, 2], [1, 1, 0], [2, -1, 1]], [1, -1, 1, 2]
    problem, _ = ncf_from_dicts(poly_arch(3, [2], 3), data(X, Y))
    res = rank_one_points(problem)
    algebraic = [pt for pt in res.points if pt.numfield is not None]
    assert algebraic
    pt = algebraic[0]
    kind = pt.decision.kind == "ncf_kkt_direction"
    assert problem.decide(pt.u, direction=kind, field=pt.numfield).verdict == "holds"
    bad = list(pt.u)
    bad[0] = bad[0] + sympy.Rational(1, 100)
    out = problem.decide(bad, direction=True, field=pt.numfield)
    assert out.verdict == "refuted" and out.witness["reason"] == "stationarity"
    bad = list(pt.u)
    bad[-2:] = [-v for v in bad[-2:]]                        # −W_L: N < 0, still stationary (a KKT point of min N)
    out = problem.decide(bad, direction=kind, field=pt.numfield)
    assert out.sign == "negative" and out.verdict == "holds" and "min N" in out.reason


def test_degree_past_the_budget_falls_back_to_the_search():
    X, Y = [[1, 0, 1], [0, 1, 2], [1, 1, 0]], [1, -1, 1]
    problem, _ = ncf_from_dicts(poly_arch(3, [2, 2], 3), data(X, Y))      # P = 9: 73 eigen-lines per cell
    res = rank_one_points(problem)
    assert not res.complete and res.verdict == "inconclusive" and "field_degree" in res.notes[0]


def test_d4_cubic_falls_back_to_the_search():
    X, Y = [[1, 0, 1, 0], [0, 1, 2, 1], [1, 1, 0, -1]], [1, -1, 1]
    problem, _ = ncf_from_dicts(poly_arch(4, [2], 3), data(X, Y))
    res = rank_one_points(problem)
    assert not res.complete and res.verdict == "inconclusive" and "d ≤ 3" in res.notes[0]


def test_quadratic_forms_in_any_dimension_against_eigh():
    """P = 2: the eigen-lines with F != 0 are the eigenvectors of A (F = bᵀAb) with non-zero eigenvalues."""
    rng = np.random.default_rng(11)
    for d in (2, 4, 5):
        B = rng.integers(-3, 4, size=(d, d))
        A = B + B.T                                       # integer symmetric, eigenvalues generically simple
        b = sympy.symbols(f"b0:{d}")
        F = sympy.Poly(sum(int(A[i, j]) * b[i] * b[j] for i in range(d) for j in range(d)), *b)
        lines = eigenlines(F)
        w, V = np.linalg.eigh(A.astype(float))
        expected = [V[:, k] for k in range(d) if abs(w[k]) > 1e-9]
        assert len(lines) == len(expected)
        for line in lines:
            v = np.array([float(x) for x in line])
            v /= np.linalg.norm(v)
            assert max(abs(v @ e) for e in expected) > 1 - 1e-9
    b0, b1, b2 = sympy.symbols("b0 b1 b2")
    with pytest.raises(Unsolved):                         # eigenvalue 1 twice: a circle of critical points
        eigenlines(sympy.Poly(b0 ** 2 + b1 ** 2 - b2 ** 2, b0, b1, b2))


def test_d4_p2_rank_one_points_against_float_search():
    rng = np.random.default_rng(4)
    X, Y = random_data(rng, 4, 7)
    problem, _ = ncf_from_dicts(poly_arch(4, [3], 2), data(X, Y))
    res = rank_one_points(problem)
    assert res.complete and res.verdict == "holds" and res.points
    _, found = assert_search_points_listed(problem, res, X, Y, 4, 2, 2)
    assert found


def test_cells_of_points_in_general_position():
    """Central arrangements of n lines in the plane have 2n cells; n planes in general position in
    R^3 have n^2 − n + 2 (points on the moment curve (1, t, t^2) are in general position)."""
    for n in range(1, 7):
        X2 = [[Fraction(1), Fraction(t)] for t in range(n)]
        assert len(cells(X2)) == 2 * n
        X3 = [[Fraction(1), Fraction(t), Fraction(t * t)] for t in range(n)]
        assert len(cells(X3)) == n * n - n + 2
    # a repeated point does not add cells; its opposite neither
    assert len(cells([[Fraction(1), Fraction(2)], [Fraction(2), Fraction(4)], [Fraction(-1), Fraction(-2)]])) == 2


def test_eigenlines_of_known_forms():
    b0, b1, b2 = sympy.symbols("b0 b1 b2")
    # F = b0 b1 b2: ∇F ∥ b at the 4 lines (±1, ±1, 1) and on the three coordinate circles where
    # two coordinates vanish... those have ∇F = 0 (F = 0): the zero set is not isolated
    with pytest.raises(Unsolved):
        eigenlines(sympy.Poly(b0 ** 2 + b1 ** 2, b0, b1))          # every line: ∇F = 2b
    lines = eigenlines(sympy.Poly(b0 ** 3 + b1 ** 3 + b2 ** 3, b0, b1, b2))
    # coordinates of an eigen-line of Σ b_k^3 are 0 or equal: 2^3 − 1 = 7 lines (the Bézout bound)
    got = sorted(tuple(str(v.to_sympy()) for v in line) for line in lines)
    assert len(got) == 7 == eigenline_bound(3, 3)
    assert ("1", "1", "1") in got and ("0", "0", "1") in got
    # an irrational eigen-line: F = b0^3 − 3 b0 b1^2 − b1^3 (d = 2)
    lines = eigenlines(sympy.Poly(b0 ** 3 - 3 * b0 * b1 ** 2 - b1 ** 3, b0, b1))
    for line in lines:
        b = [float(v) for v in line]
        grad = [3 * b[0] ** 2 - 3 * b[1] ** 2, -6 * b[0] * b[1] - 3 * b[1] ** 2]
        assert abs(grad[0] * b[1] - grad[1] * b[0]) < 1e-12


def test_supports_keep_scales_rational():
    for widths, p in [([4, 1], 3), ([3, 3, 1], 2), ([5, 4, 3, 1], 2), ([3, 1], 2), ([6, 6, 1], 3)]:
        L = len(widths)
        K = sum(p ** (L - l) for l in range(1, L + 1))
        m, rho, unit = supports(widths, p, K)
        ms = m + [1]
        for l in range(1, L):
            c2 = sympy.Integer(p) ** (L - 1 - l) * rho / (ms[l] * ms[l - 1])
            assert sympy.sqrt(c2).is_Rational
        assert all(1 <= a <= w for a, w in zip(m, widths))
        assert not unit or rho == sympy.Rational(1, K)


def test_degenerate_forms_keep_the_list_complete():
    """Critical sets that are not isolated but lie where F = 0 do not matter: one data point
    (∇F = 0 on the plane b·x = 0) and a form of two linear forms (a cylinder, double roots)."""
    b0, b1, b2 = sympy.symbols("b0 b1 b2")
    lines = eigenlines(sympy.Poly(2 * (b0 + 2 * b1 - b2) ** 3, b0, b1, b2))
    useful = [l for l in lines if float(l[0]) + 2 * float(l[1]) - float(l[2]) != 0]
    assert [[str(v.to_sympy()) for v in l] for l in useful] == [["1", "2", "-1"]]
    F = sympy.Poly((b0 + 2 * b1 - b2) ** 3 - (b1 + b2) ** 3, b0, b1, b2)
    lines = eigenlines(F)
    # x1 × x2 = (3, −1, 1) (where ∇F = 0) and the 3 eigen-lines of α^3 − β^3 in the plane of x1, x2
    assert len(lines) == 4
    for line in lines:
        v = np.array([float(x) for x in line])
        g = np.array([3 * (v @ [1, 2, -1]) ** 2 * np.array([1, 2, -1]) - 3 * (v @ [0, 1, 1]) ** 2 * np.array([0, 1, 1])])[0]
        assert np.linalg.norm(np.cross(g, v)) < 1e-9
    # one data point: b = ±x/|x| are the two critical points with f != 0
    problem, _ = ncf_from_dicts(poly_arch(3, [2], 3), data([[1, 2, -1]], [1]))
    res = rank_one_points(problem)
    assert res.complete and res.verdict == "holds" and len(res.points) == 2
    for pt in res.points:
        b = b_of(pt, 3)
        assert abs(abs(b @ np.array([1, 2, -1])) / np.sqrt(6) - 1) < 1e-12


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.integers(-2, 2), st.integers(-2, 2), st.integers(-2, 2), st.integers(-2, 2)),
                min_size=1, max_size=6),
       st.sampled_from([2, 3]))
def test_random_small_data_every_listed_point_decided(rows, p):
    """Any data (repeated, parallel or zero points, zero targets): no crash; every listed point holds
    with the norm identity; a complete list contains every float critical point found by search."""
    X = [list(r[:3]) for r in rows]
    Y = [r[3] for r in rows]
    problem, _ = ncf_from_dicts(poly_arch(3, [2], p), data(X, Y))
    res = rank_one_points(problem)
    for pt in res.points:
        assert pt.decision.verdict == "holds" and pt.norms_ok, (X, Y, p)
    if res.complete:
        assert_search_points_listed(problem, res, X, Y, 3, p, 2)


def test_scale_that_is_a_square_in_the_field_of_the_direction():
    """x = (1,2,2), (−1,−2,1), y = (1, −1), p = 2: in one cell the squared scale M/‖b₀‖² is a square
    in the quadratic field of the eigenvector, so no extension is needed (and none must be forced)."""
    problem, _ = ncf_from_dicts(poly_arch(3, [2], 2), data([[1, 2, 2], [-1, -2, 1]], [1, -1]))
    res = rank_one_points(problem)
    assert res.complete and res.verdict == "holds"
    assert any(pt.numfield is not None and pt.numfield.degree == 2 for pt in res.points)
    for pt in res.points:
        assert pt.decision.verdict == "holds" and pt.norms_ok
