"""Rank-one KKT points of the constrained NCF (family R): construction, completeness, kink maximum.

Every constructed point must pass the general exact decision; completeness of the smooth list is
cross-checked by a dense grid on the circle (d = 2), and values against |f(b)|·L^(-L/2) computed
here from f.
"""
import time
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from symkkt.errors import UsageError
from symkkt.ncf.problem import ncf_from_dicts
from symkkt.ncf.rank_one import positive_unit_vector, rank_one_points


def leaky_arch(d, widths, slope="1/5", kind="leaky_relu", power=None):
    act = {kind: {"slope": slope, **({"power": power} if power else {})}}
    return {"input": [d], "layers": [{"dense": {"width": w, "activation": act}} for w in widths]
            + [{"dense": {"width": 1}}]}


def data(X, Y):
    return {"points": [{"x": [str(v) for v in x], "y": str(y)} for x, y in zip(X, Y)]}


def f_one_neuron(b, X, Y, beta):
    """f(b) = Σ y_i φ(b·x_i), φ(z) = z (z > 0), beta·z (z < 0), in floats."""
    z = np.array(X, dtype=float) @ np.array(b, dtype=float)
    return float((np.where(z > 0, z, beta * z) * np.array(Y, dtype=float)).sum())


rationals = st.fractions(min_value=-3, max_value=3, max_denominator=5)


@settings(max_examples=12, deadline=None)
@given(d=st.integers(2, 3), widths=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       X=st.lists(st.lists(rationals, min_size=3, max_size=3), min_size=1, max_size=5),
       Y=st.lists(rationals, min_size=5, max_size=5))
def test_constructed_points_are_kkt(d, widths, X, Y):
    X = [x[:d] for x in X]
    Y = Y[:len(X)]
    problem, _ = ncf_from_dicts(leaky_arch(d, widths), data(X, Y))
    res = rank_one_points(problem, search_samples=200)
    L = len(widths) + 1
    beta = 0.2 ** (L - 1)
    for p in res.points:
        assert p.decision.verdict == "holds" and p.norms_ok
        assert all(r["rank_one"] for r in p.decision.rank_one)
        assert sum(v * v for v in p.u) == 1
        # N = |f(b)| L^(-L/2), with f evaluated here in floats
        fb = f_one_neuron([float(v) for v in p.b], X, Y, beta)
        assert float(p.value) == pytest.approx(abs(fb) * L ** (-L / 2), rel=1e-9, abs=1e-12)
        # a random perturbation (as a direction) is not a KKT direction
        bad = list(p.u)
        bad[0] += sympy.Rational(1, 7)
        assert problem.decide(bad, direction=True).verdict == "refuted"
    assert res.verdict in ("holds", "inconclusive")


def circle_extrema(X, Y, beta, grid=40000):
    """Smooth critical points of f on the unit circle with f != 0, by a dense grid (away from kinks)."""
    th = np.linspace(0, 2 * np.pi, grid, endpoint=False)
    B = np.stack([np.cos(th), np.sin(th)], axis=1)
    Z = B @ np.array(X, dtype=float).T
    F = (np.where(Z > 0, Z, beta * Z) * np.array(Y, dtype=float)).sum(axis=1)
    kink_angles = [np.arctan2(-x[0], x[1]) % np.pi for x in np.array(X, dtype=float)]
    out = []
    for k in range(grid):
        a, c = F[k - 1], F[(k + 1) % grid]
        if (F[k] >= a and F[k] > c) or (F[k] <= a and F[k] < c):
            ang = th[k] % np.pi
            near = min(min(abs(ang - q), np.pi - abs(ang - q)) for q in kink_angles)
            if near > 5 * 2 * np.pi / grid and abs(F[k]) > 1e-9:
                out.append(F[k])
    return sorted(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_list_is_complete_against_a_dense_grid(seed):
    rng = np.random.default_rng(seed)
    X = [[Fraction(int(a), 3) for a in rng.integers(-6, 7, size=2)] for _ in range(5)]
    X = [x if any(x) else [Fraction(1), Fraction(0)] for x in X]
    Y = [Fraction(int(a), 2) for a in rng.integers(-3, 4, size=5)]
    problem, _ = ncf_from_dicts(leaky_arch(2, [2], slope="1/2"), data(X, Y))
    res = rank_one_points(problem, search_samples=200)
    exact = sorted(float(p.f) for p in res.points)
    grid = circle_extrema(X, Y, 0.5)
    assert len(exact) == len(grid)
    assert exact == pytest.approx(grid, abs=1e-6)


def test_two_points_by_hand():
    # f(b) = φ(b1) + φ(b2), s = 1/2, L = 2. S = {0,1}: c = (1,1), b = c/sqrt2, f = sqrt2, N = sqrt2/2.
    # S = {}: c = (1/2,1/2), b = -c/|c| realizes S, f = -sqrt2/2, ε = -1, N = sqrt2/4. Mixed S: c ∝ (1, 1/2)
    # has both signs positive, so it does not realize {0} (nor {1}).
    problem, _ = ncf_from_dicts(leaky_arch(2, [2], slope="1/2"), data([[1, 0], [0, 1]], [1, 1]))
    res = rank_one_points(problem)
    got = {tuple(sorted(p.pattern)): (p.f, p.value) for p in res.points}
    r2 = sympy.sqrt(2)
    assert got == {(0, 1): (r2, r2 / 2), (): (-r2 / 2, r2 / 4)}
    assert res.verdict == "holds" and res.complete and res.kink_maximum is None


def test_kink_maximum_certified_and_decided():
    # f(b) = φ(b1) - φ(b2) - φ(-b2) = φ(b1) - (1 - s)|b2|: a ridge at b2 = 0. Cells with b1 > 0 have
    # c = (1, ∓(1-s)), pointing into the other half: no smooth candidate with f > 0. The maximum is
    # f(1, 0) = 1, on the face b·x_1 = b·x_2 = 0; the point built from it has N = 1·2^(-1) = 1/2.
    problem, _ = ncf_from_dicts(leaky_arch(2, [2], slope="1/2"), data([[1, 0], [0, 1], [0, -1]], [1, -1, -1]))
    res = rank_one_points(problem, search_samples=500)
    k = res.kink_maximum
    assert k is not None and k["face"] == [1, 2] and k["b"] == ["1", "0"] and k["f"] == "1"
    assert k["decision"]["value"] == "1/2" and k["decision"]["clarke_set"] == "clarke"
    assert k["decision"]["verdict"] == "holds" and k["decision"]["norms_ok"]
    assert all(p.f < 0 for p in res.points)
    assert any("kink" in n for n in res.notes)


@pytest.mark.parametrize("arch, needs", [
    ({"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}, "got ['relu']"),
    ({"input": [2], "layers": [{"dense": {"width": 2, "bias": True, "activation": {"leaky_relu": {"slope": "1/2"}}}},
                               {"dense": {"width": 1}}]}, "no biases"),
    ({"input": [2], "layers": [{"dense": {"width": 1}}]}, "at least two weight layers"),
    ({"input": [2], "layers": [{"dense": {"width": 2, "activation": {"leaky_relu": {"slope": 2}}}},
                               {"dense": {"width": 1}}]}, "0 < s < 1"),
])
def test_uncovered_architectures_refused(arch, needs):
    problem, _ = ncf_from_dicts(arch, data([[1, 0]], [1]))
    with pytest.raises(UsageError, match=needs.replace("[", r"\[").replace("]", r"\]")):
        rank_one_points(problem)


def test_positive_unit_vectors():
    for n in range(1, 8):
        v = positive_unit_vector(n)
        assert len(v) == n and all(x > 0 for x in v) and sum(x * x for x in v) == 1


def test_speed_d3_n12():
    rng = np.random.default_rng(5)
    X = [[Fraction(int(a), 4) for a in rng.integers(-8, 9, size=3)] for _ in range(12)]
    Y = [int(a) or 1 for a in rng.integers(-2, 3, size=12)]
    problem, _ = ncf_from_dicts(leaky_arch(3, [4, 5]), data(X, Y))
    t0 = time.perf_counter()
    res = rank_one_points(problem)
    seconds = time.perf_counter() - t0
    assert res.patterns["patterns"] == 4096 and all(p.decision.verdict == "holds" for p in res.points)
    assert seconds < 30, seconds                     # target 10 s (aim 3 s) on a quiet machine


def test_kink_maximum_point_stays_in_a_small_number_field():
    """The kink maximizer b* = P_V c/‖P_V c‖ involves one square root, so the rank-one point built
    from it lives in a field of degree <= 4 (with sqrt(1/K)); an approximate simplification once
    put fractional powers such as 2^(917/937) into it. Instance: 3-4-5-1 leaky ReLU (slope 1/5), twelve
    points of (Z/4)^3 with alternating labels, where no smooth one-neuron candidate is realized."""
    import time

    import numpy as np
    import sympy

    from symkkt.ncf import ncf_from_dicts, rank_one_points

    rng = np.random.default_rng(2)
    act = {"leaky_relu": {"slope": "1/5"}}
    arch = {"input": [3], "layers": [{"dense": {"width": 4, "activation": act}},
                                     {"dense": {"width": 5, "activation": act}}, {"dense": {"width": 1}}]}
    data = {"points": [{"x": [f"{int(v)}/4" for v in rng.integers(-6, 7, 3)], "y": 1 if i % 2 == 0 else -1}
                       for i in range(12)]}
    problem, _ = ncf_from_dicts(arch, data)
    t = time.perf_counter()
    res = rank_one_points(problem)
    assert time.perf_counter() - t < 30
    km = res.kink_maximum
    assert km is not None
    u = [sympy.sympify(v) for v in km["u"]]
    powers = {p for v in u for p in v.atoms(sympy.Pow) if not p.exp.is_Integer}
    assert all(p.exp in (sympy.Rational(1, 2), sympy.Rational(-1, 2)) for p in powers)
    b = [sympy.sympify(v) for v in km["b"]]
    assert sympy.simplify(sum(v * v for v in b) - 1) == 0          # a unit vector, exactly


def test_clarke_decision_stopped_at_the_vertices_limit_never_refutes():
    """A limit that stops the joint-pattern enumeration in the last kink layer leaves complete,
    realized patterns: a Clarke element among them still proves `holds`; a refutation needs them
    all, so a stopped enumeration gives `inconclusive` instead. Instance: the data of
    test_kink_maximum_certified_and_decided on a 2-2-2-1 net, whose kink-maximum point has units
    of both hidden layers on kinks at x = (0, ±1) (8 realized joint patterns), and that point with
    W3 changed (not a KKT direction, refuted with the full enumeration)."""
    import sympy

    from symkkt import limits

    problem, _ = ncf_from_dicts(leaky_arch(2, [2, 2], slope="1/2"), data([[1, 0], [0, 1], [0, -1]], [1, -1, -1]))
    u = [sympy.sympify(v) for v in rank_one_points(problem, search_samples=500).kink_maximum["u"]]
    bad = list(u)
    bad[-1] = bad[-1] + sympy.Rational(1, 10)
    full_good = problem.decide(u)
    full_bad = problem.decide(bad, direction=True)
    assert full_good.verdict == "holds" and full_good.clarke_set == "clarke"
    assert full_bad.verdict == "refuted"
    seen = set()
    for cap in range(1, full_good.patterns["realized"] + 2):
        with limits.overridden(vertices=cap):
            good, worse = problem.decide(u), problem.decide(bad, direction=True)
        assert worse.verdict == "inconclusive" or (worse.verdict == "refuted" and not worse.patterns.get(
            "stopped_at_limit"))
        assert good.verdict in ("holds", "inconclusive")
        if good.verdict == "holds":
            assert sum(c["weight"] for c in good.clarke) == 1
        seen.add((good.verdict, good.patterns.get("stopped_at_limit")))
    assert ("holds", True) in seen and ("holds", False) in seen and ("inconclusive", True) in seen
