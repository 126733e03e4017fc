"""The kernel's ``not_local_optimum`` claim: accepted when the curve improves θ on all of (0, s0],
refused after any tampering (curve coefficient, s0, pattern, θ), with the digest recomputed."""

import copy
import random
from fractions import Fraction

import pytest
import sympy

from symkkt.api import load_problem
from symkkt.kernel import certificate_digest, check_certificate
from symkkt.kernel import optimality as kopt
from symkkt.kernel.field import Field
from symkkt.optimality import decide_optimality
from symkkt.optimality.curves import example_paths_zero_unit


@pytest.fixture(scope="module")
def cert():
    problem, theta = load_problem(*example_paths_zero_unit())
    return decide_optimality(problem, theta).certificate()


def redigest(c):
    c["digest"] = certificate_digest(c)
    return c


def test_accepts_the_public_certificate(cert):
    v = check_certificate(cert)
    assert v.valid and v.claim == "not_local_optimum"


def test_refuses_a_changed_curve_coefficient(cert):
    c = copy.deepcopy(cert)
    # the new unit (1/2, -1)·s, v = 5/4·s is off on x1 = (1, 2), so point 0 gains only through the
    # order-s² correction of w1[1]: by hand 2 q_1 − ‖θ̃‖² = 2·2·e s² − (1/4 + 1 + 25/16) s² + O(s⁴),
    # positive for the certificate's e = 25/32 (5/16 s²) and negative (−45/16 s²) for e = 0
    assert c["witness"]["curve"][2][1] == "25/32"
    c["witness"]["curve"][2][1] = "0"
    assert not check_certificate(redigest(c)).valid


def test_refuses_a_too_long_interval(cert):
    c = copy.deepcopy(cert)
    c["witness"]["s0"] = "10"
    v = check_certificate(redigest(c))
    assert not v.valid and "(0, 10]" in v.reason


def test_refuses_a_wrong_pattern(cert):
    c = copy.deepcopy(cert)
    c["witness"]["pattern"][0] = c["witness"]["pattern"][0][:-1] + ("+" if c["witness"]["pattern"][0][-1] != "+"
                                                                    else "-")
    assert not check_certificate(redigest(c)).valid
    c = copy.deepcopy(cert)
    c["witness"]["pattern"][0] += "+"
    assert "too long" in check_certificate(redigest(c)).reason


def test_refuses_theta_not_on_the_curve_and_infeasible_theta(cert):
    c = copy.deepcopy(cert)
    c["witness"]["curve"][0][0] = "2"
    assert "curve[0]" in check_certificate(redigest(c)).reason
    c = copy.deepcopy(cert)
    c["parameters"][1]["weight"] = [["1/2", "0"]]           # margins 1/2: infeasible
    c["witness"]["curve"][0][4] = "1/2"
    assert "not feasible" in check_certificate(redigest(c)).reason


def test_refuses_unknown_keys_statement_and_bad_digest(cert):
    c = copy.deepcopy(cert)
    c["witness"]["extra"] = 1
    assert "unknown key" in check_certificate(redigest(c)).reason
    c = copy.deepcopy(cert)
    c["claim"]["statement"] = "theta is optimal"
    assert "statement" in check_certificate(redigest(c)).reason
    c = copy.deepcopy(cert)
    c["witness"]["s0"] = "1/4"                              # a shorter interval is still true ...
    assert not check_certificate(c).valid                  # ... but the digest must be recomputed
    assert check_certificate(redigest(c)).valid


def test_kernel_sturm_against_sympy_roots():
    """sign_on agrees with sympy's exact real roots on random rational polynomials."""
    F = Field((0, 1), -1, 1)
    s = sympy.Symbol("s")
    rng = random.Random(3)
    for _ in range(40):
        roots = [sympy.Rational(rng.randint(-20, 20), rng.randint(1, 8)) for _ in range(rng.randint(1, 3))]
        lead = sympy.Rational(rng.choice([-3, -1, 1, 2]), rng.randint(1, 3))
        extra = rng.choice([0, 1]) * (s ** 2 + 1)       # a factor without real roots
        P = sympy.Poly(sympy.expand(lead * sympy.prod([s - r for r in roots]) * (extra or 1) * s ** rng.randint(0, 2)), s)
        coeffs = [F.const(Fraction(int(c.p), int(c.q))) for c in reversed(P.all_coeffs())]
        s0 = Fraction(rng.randint(1, 30), rng.randint(1, 5))
        inside = [r for r in roots if 0 < r <= sympy.Rational(s0.numerator, s0.denominator)]
        got = kopt.sign_on(F, coeffs, s0)
        if inside:
            assert got is None
        else:
            t = sympy.Rational(s0.numerator, s0.denominator)
            assert got == (1 if P.eval(t) > 0 else -1)
