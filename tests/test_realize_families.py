"""The pathology families and the sharpness family: every number derived by hand in the comments."""

import math

import pytest
import sympy

from symkkt.errors import UsageError
from symkkt.numbers import exact_sign, parse_number
from symkkt.realize.families import FAMILIES, family_pair, family_table
from symkkt.realize.net import ShallowNet

KS = [10, 100, 1000]


def eq(text, expr):
    return exact_sign(parse_number(text) - sympy.sympify(expr)) == 0


def rows(name, ks=KS):
    return {r["k"]: r for r in family_table(name, ks)["rows"]}


def test_p0_linf_vanishes_while_the_fiber_runs_away():
    # tent k relu(x + 1/k²) - 2k relu(x) + k relu(x - 1/k²): height k·1/k² = 1/k, slopes ±k.
    # Γ = 0: moving the middle neuron (0, 0, 0) to (λ, 0, -2k/λ) costs max(λ, 2k/λ) >= sqrt(2k); the outer
    # ones cost max(λ, λ/k², k/λ) >= sqrt(k). Both orientations (a w sums to 0) give the same costs.
    for k, r in rows("P0").items():
        assert eq(r["linf"], sympy.Rational(1, k)) and eq(r["epsilon"], k)
        assert r["tier"] == "exact" and eq(r["fiber"], sympy.sqrt(2 * k))
        assert eq(r["ratio"], sympy.sqrt(2))                       # bounded in W^{1,inf}
        assert eq(r["ratio_linf"], sympy.sqrt(2) * k)              # unbounded in L^inf


def test_p1_unbalanced():
    # Γ = (k; 0; 0), g = relu(-x)/k: Φ = (-λ, 0, 1/(kλ)), cost max(k + λ, 1/(kλ)); equal where
    # kλ² + k²λ - 1 = 0, so the distance is k + λ = (k² + sqrt(k⁴ + 4k)) / (2k) >= k; eps = 1/k.
    for k, r in rows("P1").items():
        assert eq(r["epsilon"], sympy.Rational(1, k))
        assert eq(r["fiber"], (k * k + sympy.sqrt(k ** 4 + 4 * k)) / (2 * k))
        assert r["ratio_float"] > k ** 1.5 - 1e-9


def test_p2_dead():
    # Γ = (1; -2; 2), g = relu(x)/k: Φ = (λ, 0, 1/(kλ)) costs max(|1 - λ|, 2, |2 - 1/(kλ)|) = 2 for
    # λ in [1/(4k), 3]: exactly 2; eps = 1/k, ratio 2 sqrt(k).
    for k, r in rows("P2").items():
        assert r["fiber"] == "2" and eq(r["epsilon"], sympy.Rational(1, k))
        assert eq(r["ratio"], 2 * sympy.sqrt(k))


def test_p3_same_hyperplane():
    # B = (1; 0; 2), (1; -1/2; 1/k). Γ's neuron (1; 0; 1) to (λ, 0, 2/λ): max(|1 - λ|, |1 - 2/λ|) least at
    # λ = sqrt(2): sqrt(2) - 1. To (λ, -λ/2, 1/(kλ)): 1 - λ = 1 - 1/(kλ) at λ = 1/sqrt(k), and λ/2 is smaller
    # there: 1 - 1/sqrt(k). Distance max(sqrt(2) - 1, 1 - 1/sqrt(k)) = 1 - 1/sqrt(k) for k >= 10; eps = 1/k
    # (h = relu(x - 1/2)/k: value 1/(2k) at 1, slope 1/k); ratio sqrt(k) - 1.
    for k, r in rows("P3").items():
        assert eq(r["epsilon"], sympy.Rational(1, k)) and eq(r["linf"], sympy.Rational(1, 2 * k))
        assert eq(r["fiber"], 1 - 1 / sympy.sqrt(k))
        assert eq(r["ratio"], sympy.sqrt(k) - 1)


def test_p4_opposite_directions_bounds():
    # g = x + relu(x - 1/2)/k has one kink: some neuron of Φ sits on x = 1/2; from (±1, 0) that costs
    # min_λ max(|1 - λ|, λ/2) = 1/3 (λ = 2/3). eps = 1/k. Not a finite union of orbits: bounds only.
    for k, r in rows("P4").items():
        assert r["tier"] == "rigorous bounds" and r["fiber_lower"] == "1/3"
        assert parse_number(r["fiber_lower"]) <= parse_number(r["fiber_upper"])
        assert eq(r["ratio_lower"], sympy.sqrt(k) / 3)


@pytest.mark.parametrize("name", ["P5", "P5-2d"])
def test_p5_orientation_flip(name):
    # The only realization of g flips every neuron (the linear part forces it), and the constant then moves
    # from 0 to -1: distance max(bottleneck, 1) = 1 (the bottleneck is below 1 here). eps: δ relu(1/2 - x1)
    # with δ = 1/k is largest at x1 = -1 (3δ/2) and has slope δ: eps = 3/(2k); ratio sqrt(2k/3).
    for k, r in rows(name).items():
        assert r["fiber"] == "1" and eq(r["epsilon"], sympy.Rational(3, 2 * k))
        assert eq(r["ratio"], sympy.sqrt(sympy.Rational(2 * k, 3)))


def test_sharpness_exponent_one_half():
    # Γ = 0, g = eps relu(x): Φ = (λ, 0, eps/λ), cost max(λ, eps/λ) >= sqrt(eps): exactly eps^(1/2), ratio 1,
    # below the restricted-set bound 2 sqrt(2) eps^(1/2).
    for k, r in rows("sharpness").items():
        assert eq(r["fiber"], 1 / sympy.sqrt(k)) and r["ratio"] == "1"
        assert eq(r["bound"], 2 * sympy.sqrt(2) / sympy.sqrt(k)) and r["holds"] is True


def test_ratios_blow_up_outside_and_stay_bounded_inside():
    for name in ["P1", "P2", "P3", "P4", "P5", "P5-2d"]:
        ratios = [r["ratio_float"] for r in family_table(name, KS)["rows"]]
        assert ratios == sorted(ratios) and ratios[-1] > 2 * math.sqrt(2), name
    for name in ["P0", "sharpness"]:
        assert all(r["ratio_float"] <= 2 * math.sqrt(2) for r in family_table(name, KS)["rows"])


def test_family_pairs_are_what_they_say():
    # P4: B realizes x + relu(x - 1/2)/k on (-1, 1); P5: B realizes R_Γ + relu(1/2 - x)/k (checked at points)
    G, B = family_pair("P4", 10)
    for t in ["-9/10", "-1/3", "0", "1/2", "7/10"]:
        x = parse_number(t)
        assert sympy.Rational(str(B([t]))) == x + sympy.Max(x - sympy.Rational(1, 2), 0) / 10
    G, B = family_pair("P5", 10)
    for t in ["-9/10", "-1/2", "0", "1/3", "9/10"]:
        x = parse_number(t)
        assert sympy.Rational(str(B([t]))) == sympy.Rational(str(G([t]))) + sympy.Max(sympy.Rational(1, 2) - x, 0) / 10


def test_table_text_and_errors():
    t = family_table("P2", [10])
    assert "P2" in t["text"] and "2*sqrt(10)" in t["text"] and set(FAMILIES) >= {"P0", "P5", "sharpness"}
    with pytest.raises(UsageError):
        family_table("P9", [10])
    with pytest.raises(UsageError):
        family_table("P0", [1])
    with pytest.raises(UsageError):
        family_pair("P1", 0)
    assert isinstance(family_pair("P1", 3)[0], ShallowNet)
