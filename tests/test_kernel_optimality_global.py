"""The kernel's ``global_optimum`` and ``not_global_optimum`` checks: true certificates are
accepted, every tampered one (digest recomputed, so only the mathematics can reject it) refused."""
import math
import os

import pytest

from conftest import tampered
from symkkt.api import load_problem
from symkkt.kernel import check_certificate
from symkkt.kernel.optimality_global import count_cells
from symkkt.kernel.exact import Numbers
from symkkt.optimality import global_
from symkkt.optimality.global_ import decide_global

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "symkkt", "examples")


def _cert(name, params="params.yaml"):
    d = os.path.join(EXAMPLES, name)
    problem, theta = load_problem(os.path.join(d, "arch.yaml"), os.path.join(d, "data.yaml"), os.path.join(d, params))
    p = decide_global(problem, theta, problem.decide(theta), None)
    assert p.certificate is not None
    return p.certificate


@pytest.fixture(scope="module")
def optimum():
    return _cert("zero_unit", "optimum.yaml")


@pytest.fixture(scope="module")
def shorter():
    return _cert("zero_unit", "params.yaml")


@pytest.fixture(scope="module")
def linear():
    return _cert("opt_linear_depth3")


def _dual_witness(cert, lam):
    """The dual-bound witness (multipliers, S², cells with faces) of λ for the certificate's data."""
    import sympy
    from symkkt.field import NumberField
    from symkkt.numbers import format_number, parse_number
    from symkkt.optimality import dual

    X = [[parse_number(v) for v in p["x"]] for p in cert["data"]["points"]]
    y = [int(p["y"]) for p in cert["data"]["points"]]
    b = dual.dual_bound(NumberField(sympy.Integer(1)), X, y, [parse_number(v) for v in lam], 1, 0)
    return {"multipliers": list(lam), "s_squared": format_number(b.s2.to_sympy()),
            "cells": [{"interior": [format_number(v.to_sympy()) for v in c.interior],
                       "faces": [[c.row_points[i] for i in c.plus.face], [c.row_points[i] for i in c.minus.face]]}
                      for c in b.cells]}


def _valid(cert, pattern=""):
    v = check_certificate(cert)
    assert v.valid, v.reason
    assert pattern in v.reason
    return v


def _invalid(cert, pattern=""):
    v = check_certificate(cert)
    assert not v.valid
    assert pattern in v.reason, v.reason
    return v


def test_true_certificates_are_accepted(optimum, shorter, linear):
    _valid(optimum, "S(λ)² = 1 recomputed over all 4 cells")
    _valid(shorter, "< ‖θ‖² = 2")
    _valid(linear, "m = 3 layers")
    _valid(_cert("opt_relu_local", "optimum.yaml"), "over all 6 cells")
    _valid(_cert("opt_relu_local"), "‖θ'‖² = 4")
    _valid(_cert("svm"), "m = 1 layers")


# -- dual bound -----------------------------------------------------------------------------------------
def test_tampered_multiplier(optimum):
    # λ_0 = 1/2 instead of 1/√5: S² changes, the stated S² = 1 no longer matches
    bad = tampered(optimum, lambda c: c["witness"]["multipliers"].__setitem__(0, "1/2"))
    _invalid(bad, "witness.s_squared is 1, the cells give")


def test_tampered_multipliers_with_consistent_s(optimum):
    # λ = (1/2, 1/2) is (√5/2)·(1/√5, 1/√5) and S is 1-homogeneous: S² = 5/4 (hand: c = x_0/2 on the
    # cell of x_0 alone), Σλ/S = 1/(√5/2) = 2/√5 = ½‖θ‖²: still a proof, accepted
    ok = tampered(optimum, lambda c: c["witness"].update(multipliers=["1/2", "1/2"], s_squared="5/4"))
    _valid(ok, "S(λ)² = 5/4")
    # λ = (1/2, 0): S = ‖x_0‖/2 = √5/2, S² = 5/4, but Σλ/S = 1/√5 < 2/√5: the bound fails
    bad = tampered(optimum, lambda c: c["witness"].update(_dual_witness(c, ["1/2", "0"])))
    assert bad["witness"]["s_squared"] == "5/4"
    _invalid(bad, "the dual bound does not reach θ")


def test_zero_multipliers_prove_nothing(optimum):
    # λ = 0 gives S = 0 and 0 <= 0: the inequality Σλ <= S·½‖θ'‖² carries no information
    bad = tampered(optimum, lambda c: c["witness"].update(_dual_witness(c, ["0", "0"])))
    assert bad["witness"]["s_squared"] == "0"
    _invalid(bad, "S(λ) = 0")


def test_tampered_s_squared(optimum):
    _invalid(tampered(optimum, lambda c: c["witness"].__setitem__("s_squared", "99/100")), "witness.s_squared")
    _invalid(tampered(optimum, lambda c: c["witness"].__setitem__("s_squared", "2")), "witness.s_squared")


def test_missing_cell(optimum):
    _invalid(tampered(optimum, lambda c: c["witness"]["cells"].pop()), "lists 3 cells, the arrangement has 4")


def test_duplicated_cell(optimum):
    def edit(c):
        c["witness"]["cells"][1] = dict(c["witness"]["cells"][0])
    _invalid(tampered(optimum, edit), "same sign pattern")


def test_interior_point_on_a_hyperplane(optimum):
    def edit(c):
        c["witness"]["cells"][0]["interior"] = ["2", "1"]      # (2, 1)·(1, −2) = 0
    _invalid(tampered(optimum, edit), "lies on the hyperplane of point 1")


def test_wrong_face(optimum):
    # cell 0 has both points positive; −c = −(2/√5, 0) projects to 0 only with both rows active
    def edit(c):
        c["witness"]["cells"][0]["faces"][1] = [0]
    _invalid(tampered(optimum, edit), "not the projection")

    def edit2(c):
        c["witness"]["cells"][0]["faces"][1] = [0, 0]
    _invalid(tampered(optimum, edit2), "")


def test_tampered_theta(optimum):
    # a longer θ: scale the output layer by 2 (still feasible): the bound no longer reaches it
    def edit(c):
        c["parameters"][1]["weight"] = [["2*5^(-1/4)", "2*5^(-1/4)"]]
    _invalid(tampered(optimum, edit), "")


def test_wrong_architecture_for_the_dual_bound(optimum):
    def edit(c):
        c["architecture"]["layers"][0]["dense"]["activation"] = {"poly_relu": {"power": 2}}
    _invalid(tampered(optimum, edit), "")


def test_statement_and_keys(optimum):
    _invalid(tampered(optimum, lambda c: c["claim"].__setitem__("statement", "theta is fine")), "canonical statement")
    _invalid(tampered(optimum, lambda c: c["witness"].__setitem__("extra", 1)), "unknown key")
    _invalid(tampered(optimum, lambda c: c["witness"].__setitem__("method", "magic")), "witness.method")


# -- shorter points -----------------------------------------------------------------------------------
def test_shorter_point_must_be_shorter(shorter):
    def edit(c):
        c["witness"]["shorter"] = [{"weight": [["1", "0"], ["0", "0"]]}, {"weight": [["1", "0"]]}]   # θ itself
    _invalid(tampered(shorter, edit), "not shorter")


def test_shorter_point_must_be_feasible(shorter):
    def edit(c):
        c["witness"]["shorter"][1]["weight"] = [["1/2", "1/2"]]
    _invalid(tampered(shorter, edit), "is not feasible")


def test_shorter_point_shape(shorter):
    _invalid(tampered(shorter, lambda c: c["witness"]["shorter"].pop()), "one entry per weight layer")


# -- deep linear SVM ------------------------------------------------------------------------------------
def test_tampered_svm_multiplier(linear):
    _invalid(tampered(linear, lambda c: c["witness"]["svm_multipliers"].__setitem__(0, "1/20")), "w* != Σ α_k y_k x_k")
    _invalid(tampered(linear, lambda c: c["witness"]["svm_multipliers"].__setitem__(1, "1/25")), "not 0 although")


def test_tampered_svm_weight(linear):
    # w* = (3/20, 1/5) = (5/4)·(3/25, 4/25) is SVM-feasible with α = (1/20, 0, 0) but its margins are 5/4 > 1
    def edit(c):
        c["witness"].update(svm_weight=["3/20", "1/5"], svm_multipliers=["1/20", "0", "0"])
    _invalid(tampered(linear, edit), "not 0 although")


def test_linear_theta_too_long(linear):
    def edit(c):
        c["parameters"][2]["weight"] = [["2*5^(-1/3)", "0"]]      # margins double, ‖θ‖² grows
    _invalid(tampered(linear, edit), "the SVM bound does not reach θ")


def test_svm_needs_linear_layers(linear):
    def edit(c):
        c["architecture"]["layers"][0]["dense"]["activation"] = "relu"
    _invalid(tampered(linear, edit), "dense linear layers")


# -- the kernel's cell count ------------------------------------------------------------------------
@pytest.mark.parametrize("n,d", [(3, 2), (5, 3), (6, 3), (5, 4)])
def test_kernel_cell_count_general_position(n, d):
    from symkkt.kernel.limits import Limits

    N = Numbers()
    X = [[N.num(str((k + 1) ** j)) for j in range(d)] for k in range(n)]
    assert count_cells(N.F, X, d, Limits()) == 2 * sum(math.comb(n - 1, i) for i in range(d))


def test_kernel_cell_count_parallel_and_zero():
    from symkkt.kernel.limits import Limits

    N = Numbers()
    X = [[N.num(v) for v in x] for x in (["1", "2"], ["-2", "-4"], ["0", "0"], ["1", "-2"])]
    assert count_cells(N.F, X, 2, Limits()) == 4          # two distinct lines through 0


def test_kernel_cell_limit(optimum):
    v = check_certificate(optimum, limits={"vertices": 3})
    assert not v.valid and "limit exceeded" in v.reason


def test_zero_unit_paths():
    assert all(os.path.exists(p) for p in global_.zero_unit_paths())
