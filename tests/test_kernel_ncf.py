"""The kernel's NCF claims: valid certificates accepted, tampered ones (digest recomputed) rejected.

The instances and their expected answers are worked by hand in tests/test_ncf.py (TWO, ONE, the
tied instance) and repeated here in short comments.
"""
import copy

import pytest
import sympy

from symkkt.kernel import certificate_digest, check_certificate
from symkkt.kernel.claims import statement
from conftest import assert_invalid as invalid, assert_valid as valid, tampered
from test_ncf import ONE, TWO, problem_of, rank_one_u, tied_instance


def rank_one_cert(direction=False):
    arch, X, Y = TWO
    r2 = sympy.sqrt(2)
    problem, u = problem_of(arch, X, Y, rank_one_u([1 / r2, 1 / r2], [2], 1, 2))
    return problem.decide(u, direction=direction).certificate()


def test_rank_one_certificate_valid_and_tampered():
    cert = rank_one_cert()
    assert cert["claim"]["kind"] == "ncf_kkt_point" and cert["claim"]["clarke_set"] == "gradient"
    valid(cert, "N positive; Clarke set: gradient")
    assert cert["witness"]["multiplier"] == "sqrt(2)"           # λ = K N = 2·sqrt(2)/2

    def lam(c):
        c["witness"]["multiplier"] = "1"
    invalid(tampered(cert, lam), "multiplier")

    def u_entry(c):
        c["parameters"][0]["weight"][0][0] = "1/2"
    invalid(tampered(cert, u_entry), "not 1|stationarity")

    def target(c):
        c["data"]["points"][1]["y"] = "2"
    invalid(tampered(cert, target), "multiplier|stationarity")

    def point(c):
        c["claim"]["kind"] = "ncf_kkt_direction"
        c["claim"]["statement"] = statement("ncf_kkt_direction", "gradient")
    valid(tampered(cert, point))                                # a unit KKT point is also a KKT direction

    def wording(c):
        c["claim"]["statement"] = "u is a global maximum"
    invalid(tampered(cert, wording), "canonical statement")
    c = copy.deepcopy(cert)
    c["witness"]["multiplier"] = "1"
    invalid(c, "digest")


def test_refutations():
    arch, X, Y = TWO
    r2 = sympy.sqrt(2)
    problem, u = problem_of(arch, X, Y, rank_one_u([1 / r2, 1 / r2], [2], 1, 2))
    bad = list(u)
    bad[1] += sympy.Rational(1, 50)
    cert = problem.decide(bad, direction=True).certificate()
    assert cert["claim"]["kind"] == "not_ncf_kkt_direction"
    valid(cert, "Farkas")

    def flip(c):
        c["witness"]["farkas"] = ["-" + v if not v.startswith("-") else v[1:] for v in c["witness"]["farkas"]]
    invalid(tampered(cert, flip), "Farkas")

    def restore(c):                                             # the claim about the KKT point itself
        c["parameters"] = rank_one_cert()["parameters"]
    invalid(tampered(cert, restore), "Farkas")
    unit = problem.decide(bad).certificate()
    assert unit["witness"] == {"reason": "not_unit", "field": unit["witness"]["field"]} or \
        unit["witness"] == {"reason": "not_unit"}
    valid(unit, "!= 1")
    invalid(tampered(unit, restore), "on the unit sphere")


def test_kink_clarke_certificates():
    # x = ±1, y = 1, u = (0, 1): joint patterns (1, 1/2) and (1/2, 1) along ±w, weights 1/2 each.
    problem, u = problem_of(ONE, [[1], [-1]], [1, 1], [0, 1])
    cert = problem.decide(u).certificate()
    assert cert["claim"]["clarke_set"] == "clarke"
    valid(cert, "Clarke set: clarke")

    def slope(c):               # a slope the direction does not select
        t = c["witness"]["terms"][0]
        t["slopes"]["0"]["1:0"] = "1/2" if t["slopes"]["0"]["1:0"] == "1" else "1"
    invalid(tampered(cert, slope), "selects slope")

    def direction(c):
        c["witness"]["terms"][0]["direction"] = ["0", "1"]
    invalid(tampered(cert, direction), "ż = 0")

    def weights(c):
        c["witness"]["terms"][0]["weight"] = "1"
    invalid(tampered(cert, weights), "sum to")

    def one_term(c):            # keep one vertex with weight 1: ∂N/∂w = ±1/2 != 0
        t = c["witness"]["terms"][0]
        t["weight"] = "1"
        c["witness"]["terms"] = [t]
    invalid(tampered(cert, one_term), "stationarity")

    def missing_point(c):
        for t in c["witness"]["terms"]:
            t["slopes"].pop("1")
    invalid(tampered(cert, missing_point), "one entry per kinky point")


def test_single_kink_refutation_and_hull():
    # x = 1, y = 1, u = (0, 1): ∂N/∂w = g in [1/2, 1], target 0: refuted for both sets.
    problem, u = problem_of(ONE, [[1]], [1], [0, 1])
    for cs in ("clarke", "chain_rule_hull"):
        cert = problem.decide(u, clarke_set=cs).certificate()
        assert cert["claim"]["kind"] == "not_ncf_kkt_point"
        valid(cert, "Farkas")

        def zero(c):
            c["witness"]["farkas"] = ["0", "0"]
        invalid(tampered(cert, zero), "not below")


def test_tied_kinks_gordan_and_hull_certificates():
    problem, u = tied_instance()
    refuted = problem.decide(u).certificate()
    assert refuted["claim"]["kind"] == "not_ncf_kkt_point" and refuted["witness"]["excluded"]
    valid(refuted, "Clarke set: clarke")

    def no_exclusion(c):        # without the Gordan exclusions the tied opposite patterns return
        c["witness"]["excluded"] = []
    invalid(tampered(refuted, no_exclusion), "not below")

    def bad_gordan(c):
        e = c["witness"]["excluded"][0]
        k = next(iter(e["gordan"]))
        unit = next(iter(e["gordan"][k]))
        e["gordan"][k][unit] = "7"
    invalid(tampered(refuted, bad_gordan), "not a Gordan vector")

    def hull_claims_clarke(c):
        c["claim"]["clarke_set"] = "chain_rule_hull"
        c["claim"]["statement"] = statement("not_ncf_kkt_point", "chain_rule_hull")
        c["witness"].pop("excluded")
    invalid(tampered(refuted, hull_claims_clarke), "not below")     # the hull contains t

    holds = problem.decide(u, clarke_set="chain_rule_hull").certificate()
    assert holds["claim"]["kind"] == "ncf_kkt_point"
    valid(holds, "chain-rule hull")

    def as_clarke(c):           # the hull element relies on opposite slopes: not accepted as Clarke
        c["claim"]["clarke_set"] = "clarke"
        c["claim"]["statement"] = statement("ncf_kkt_point", "clarke")
    invalid(tampered(holds, as_clarke), "witness")

    def slope_out(c):
        c["witness"]["points"][0]["terms"][0]["slopes"]["1:0"] = "2"
    invalid(tampered(holds, slope_out), "outside")


def test_non_homogeneous_and_zero_refused():
    cert = rank_one_cert()

    def bias(c):
        c["architecture"]["layers"][1]["dense"]["bias"] = True
        c["parameters"][1]["bias"] = ["0"]
    invalid(tampered(cert, bias), "not positively homogeneous")

    def zero(c):
        c["parameters"] = [{"weight": [["0", "0"], ["0", "0"]]}, {"weight": [["0", "0"]]}]
    invalid(tampered(cert, zero), "u = 0")
