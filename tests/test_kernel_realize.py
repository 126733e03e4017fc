"""Tests of the kernel's realization claims (``symkkt.kernel.realize``): facts and negative controls.

Every certificate is written by hand here (except in the round trip with ``symkkt.realize``, whose
certificates come from that independent producer); every expected value is computed by hand in a
comment (or, in the property tests, by a dense grid / an independent Fraction evaluation), never
taken from the code under test. A net is written as neurons (w, b, a) and an output bias c:
R(x) = Σ a relu(w·x + b) + c, and h = R_A - R_B.
"""
import itertools
from fractions import Fraction as Q

import pytest
from hypothesis import given, settings, strategies as st

from symkkt.kernel import certificate_digest, check_certificate, statement
from symkkt.kernel import realize
from symkkt.kernel.limits import Limits
from conftest import assert_invalid, assert_valid, tampered

FIELD_SQRT2 = {"minpoly": ["-2", "0", "1"], "interval": ["1", "2"],
               "radicals": [{"base": ["2"], "index": 2, "root": ["0", "1"]}]}


def arch(m, d=1, bias=True):
    hidden = {"width": m, "activation": "relu", **({"bias": True} if bias else {})}
    return {"input": [d], "layers": [{"dense": hidden}, {"dense": {"width": 1, **({"bias": True} if bias else {})}}]}


def params(neurons, c="0"):
    """The parameter file form of neurons [(w, b, a)] (w a list of d numbers) and output bias c."""
    return [{"weight": [list(map(str, w)) for w, _, _ in neurons], "bias": [str(b) for _, b, _ in neurons]},
            {"weight": [[str(a) for _, _, a in neurons]], "bias": [str(c)]}]


def cert(kind, A, B, d=1, domain=("-1", "1"), field=None, **witness):
    """A certificate for nets A = (neurons, c) and B = (neurons, c) on (lo, hi)^d."""
    w = {"architecture_b": arch(len(B[0]), d), "parameters_b": params(*B), **witness}
    if field:
        w["field"] = field
    c = {"symkkt_certificate": 1, "claim": {"kind": kind, "statement": statement(kind)},
         "architecture": arch(len(A[0]), d), "data": {"domain": list(domain)},
         "parameters": params(*A), "witness": w, "provenance": {"tool": "tests"}}
    c["digest"] = certificate_digest(c)
    return c


def distance(A, B, d, sup, sup_point, w1inf, w1inf_point, coordinate, **kw):
    return cert("realization_distance", A, B, d, sup=sup, sup_point=sup_point, w1inf=w1inf,
                w1inf_point=w1inf_point, w1inf_coordinate=coordinate, **kw)


def setp(path, value):
    """An edit for :func:`tampered` that sets cert[path[0]][path[1]]... = value."""
    def edit(c):
        obj = c
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
    return edit


# ------------------------------------------------------------------ 1-D: relu(x) vs relu(x - 1/2)
# h = relu(x) - relu(x - 1/2) on (-1, 1): 0 for x <= 0, x on [0, 1/2], 1/2 on [1/2, 1].
# sup |h| = 1/2 (attained on [1/2, 1]); h' = 1 on (0, 1/2), 0 elsewhere: w1inf = max(1/2, 1) = 1.
RELU = ([([1], 0, 1)], 0)
SHIFTED = ([([1], "-1/2", 1)], 0)


@pytest.fixture
def shifted():
    return distance(RELU, SHIFTED, 1, "1/2", ["1"], "1", ["1/4"], 0)


def test_shifted_relu_distances_are_exact(shifted):
    v = assert_valid(shifted, r"sup \|h\| = 1/2 attained at \(1\), "
                              r"W\^\(1,inf\) norm 1 attained as \|∂_0 h\| at \(1/4\)")
    assert v.claim == "realization_distance"
    # any point of [1/2, 1] attains the sup; any point of (0, 1/2) the slope
    assert_valid(tampered(shifted, setp(["witness", "sup_point"], ["3/4"])))
    assert_valid(tampered(shifted, setp(["witness", "w1inf_point"], ["1/100"])))


@pytest.mark.parametrize("key, value, reason", [
    ("sup", "1/3", r"witness.sup: stated 1/3, but max \|R_A - R_B\| over the closed box is 1/2"),
    ("sup", "1", r"witness.sup: stated 1, "),
    ("sup_point", ["0"], r"witness.sup_point: \|R_A - R_B\| = 0 at \(0\)"),       # h(0) = 0
    ("sup_point", ["1/4"], r"= 1/4 at \(1/4\), not the sup 1/2"),                  # h(1/4) = 1/4
    ("sup_point", ["2"], r"not in the closed box"),
    ("w1inf", "1/2", r"witness.w1inf: stated 1/2, but max\(sup, ess sup \|∂_j h\|\) is 1"),
    ("w1inf", "2", r"witness.w1inf: stated 2"),
    ("w1inf_point", ["3/4"], r"\|∂_0 h\| = 0 at \(3/4\), not w1inf = 1"),            # h' = 0 on (1/2, 1)
    ("w1inf_point", ["1/2"], r"lies on the line of neuron 0 of R_B"),              # B's kink
    ("w1inf_point", ["0"], r"lies on the line of neuron 0 of R_A"),                # A's kink
    ("w1inf_point", ["1"], r"not in the open box"),
    ("w1inf_coordinate", 1, r"must be null or a coordinate 0..0"),
    ("w1inf_coordinate", True, r"must be null or a coordinate"),
    # null claims w1inf = sup, but the slope 1 exceeds the sup 1/2
    ("w1inf_coordinate", None, r"null says w1inf is the sup, but ess sup \|∂_j h\| = 1 > sup 1/2"),
])
def test_shifted_relu_tampered_witness_is_rejected(shifted, key, value, reason):
    assert_invalid(tampered(shifted, setp(["witness", key], value)), reason)


def test_a_changed_parameter_of_b_is_rejected(shifted):
    # B = relu(x - 1/4): h = 1/4 on [1/4, 1], so the sup is 1/4, not the stated 1/2
    assert_invalid(tampered(shifted, setp(["witness", "parameters_b", 0, "bias"], ["-1/4"])),
                   r"witness.sup: stated 1/2, but .* is 1/4")
    # B's output weight 2: h = relu(x) - 2 relu(x - 1/2) is 1 - x on [1/2, 1], so |h| <= 1/2 still,
    # but h' = -1 on (1/2, 1) and 1 on (0, 1/2): w1inf stays 1; h(1) = 0, so sup_point (1) fails
    assert_invalid(tampered(shifted, setp(["witness", "parameters_b", 1, "weight"], [["2"]])),
                   r"witness.sup_point: \|R_A - R_B\| = 0 at \(1\)")


def test_shifted_relu_differ_but_are_not_the_same():
    # R_A(1/4) = 1/4, R_B(1/4) = relu(-1/4) = 0
    assert_valid(cert("different_realization", RELU, SHIFTED, point=["1/4"]),
                 r"R_A\(x\) = 1/4 != R_B\(x\) = 0 at x = \(1/4\)")
    assert_invalid(cert("different_realization", RELU, SHIFTED, point=["-1/2"]),   # both 0 there
                   r"R_A\(x\) = R_B\(x\) = 0")
    assert_invalid(cert("different_realization", RELU, SHIFTED, point=["1"]),      # boundary: not open
                   r"not in the open box")
    # the kinks differ (0 for A, 1/2 for B): the canonical forms differ at the first hyperplane
    assert_invalid(cert("same_realization", RELU, SHIFTED), r"canonical forms differ .* β = -1/2 has μ_A - μ_B = -1")


# ------------------------------------------------------------------ same function, other parameters
# 2-D, permuted and rescaled: (w, b, a) -> (λw, λb, a/λ) with λ = 1/2 for A's neuron 0 and λ = 3
# for A's neuron 1; B lists them in the other order. Same output bias.
PERM_A = ([([1, 2], "1/2", 3), ([-1, 1], 0, -2)], 1)
PERM_B = ([([-3, 3], 0, "-2/3"), (["1/2", 1], "1/4", 6)], 1)


def test_permuted_rescaled_pair_is_the_same_function():
    c = cert("same_realization", PERM_A, PERM_B, d=2)
    assert_valid(c, r"are equal: 2 visible hyperplanes")
    # hyperplane (1/2, 1)·x + 1/4: μ_A = 3·‖(1, 2)‖_∞ = 6; with outgoing weight 5 instead of 6,
    # μ_B = 5·‖(1/2, 1)‖_∞ = 5, so μ_A - μ_B = 1
    assert_invalid(tampered(c, setp(["witness", "parameters_b", 1, "weight"], [["-2/3", "5"]])),
                   r"canonical forms differ .* n = \(1/2, 1\), β = 1/4 has μ_A - μ_B = 1 ")
    assert_invalid(tampered(c, setp(["witness", "parameters_b", 1, "bias"], ["2"])), r"constant 1 for R_A, 2 for R_B")
    # R_A(0) = 3 relu(1/2) + 1 = 5/2 = 6 relu(1/4) + 1 = R_B(0): no witness of a difference
    assert_invalid(cert("different_realization", PERM_A, PERM_B, d=2, point=["0", "0"]),
                   r"R_A\(x\) = R_B\(x\) = 5/2")


# relu(x) - relu(-x) = x, and relu(x + 2) - 2 = x on (-1, 1) (its kink -2 is outside: affine neuron);
# 5 relu(x - 3) is 0 on the box (dead neuron). On (-3, 3) the kink -2 is inside and they differ:
# at x = -5/2, R_A = -5/2 but R_B = relu(-1/2) - 2 = -2.
ODD = ([([1], 0, 1), ([-1], 0, -1)], 0)
FOLDED = ([([1], 2, 1), ([1], -3, 5)], -2)


def test_affine_and_dead_neurons_are_folded():
    assert_valid(cert("same_realization", ODD, FOLDED),
                 r"are equal: 0 visible hyperplanes with μ != 0, linear part \(1\), constant 0 "
                 r"\(R_A: 2 neurons, 0 dead, 0 affine, 0 constant; R_B: 2 neurons, 1 dead, 1 affine, 0 constant\)")
    wide = ("-3", "3")
    assert_invalid(cert("same_realization", ODD, FOLDED, domain=wide), r"canonical forms differ on \(-3, 3\)\^1")
    assert_valid(cert("different_realization", ODD, FOLDED, domain=wide, point=["-5/2"]),
                 r"R_A\(x\) = -5/2 != R_B\(x\) = -2")
    assert_invalid(cert("different_realization", ODD, FOLDED, point=["-1/2"]), r"R_A\(x\) = R_B\(x\) = -1/2")


# An orientation flip absorbed by the output bias: relu(z) = z + relu(-z) on both neurons of
# A = relu(x - 1/2) + relu(-x - 1/2) gives (x - 1/2) + (-x - 1/2) + relu(1/2 - x) + relu(x + 1/2),
# i.e. B = relu(-x + 1/2) + relu(x + 1/2) - 1. Check: x = 0: 0 = 1/2 + 1/2 - 1; x = 1: 1/2 = 0 + 3/2 - 1.
FLIP_A = ([([1], "-1/2", 1), ([-1], "-1/2", 1)], 0)
FLIP_B = ([([-1], "1/2", 1), ([1], "1/2", 1)], -1)


def test_orientation_flip_with_zero_linear_sum_is_the_same_function():
    c = cert("same_realization", FLIP_A, FLIP_B)
    # canonical form of A: its second neuron flips to relu(x + 1/2) and leaves -x - 1/2, so
    # R = relu(x - 1/2) + relu(x + 1/2) - x - 1/2; B's first neuron flips to relu(x - 1/2) and leaves
    # -x + 1/2, with -1: the same v = -1 and constant -1/2
    assert_valid(c, r"2 visible hyperplanes with μ != 0, linear part \(-1\), constant -1/2")
    # without the output bias -1, B is 1 higher everywhere
    assert_invalid(tampered(c, setp(["witness", "parameters_b", 1, "bias"], ["0"])),
                   r"constant -1/2 for R_A, 1/2 for R_B")


def test_missing_biases_are_zero():
    # A = relu(x) with no bias anywhere is the same as relu(x) with explicit zero biases
    c = cert("same_realization", RELU, RELU)
    c["architecture"] = arch(1, bias=False)
    c["parameters"] = [{"weight": [["1"]]}, {"weight": [["1"]]}]
    c["digest"] = certificate_digest(c)
    assert_valid(c)
    # a bias in the parameters of a layer without bias is refused
    bad = tampered(c, setp(["parameters", 0, "bias"], ["0"]))
    assert_invalid(bad, r"parameters\[0\]: layer 1 has no bias")


# ------------------------------------------------------------------ 2-D by hand
# h = relu(x) + relu(y) - relu(x + y) on (-1, 1)^2. Quadrants x, y >= 0 and x, y <= 0: h = 0.
# x >= 0 >= y: h = x - relu(x + y) = -y if x + y >= 0, else x; both at most 1, reached at (1, -1).
# Symmetric for y >= 0 >= x. So sup = 1 at (1, -1) and (-1, 1). Gradients: (0, -1) on {x > 0 > y,
# x + y > 0}, (1, 0) on {x > 0 > y, x + y < 0}, (-1, 0) and (0, 1) symmetrically, 0 elsewhere:
# ess sup |∂_j h| = 1, so w1inf = max(1, 1) = 1.
SUM = ([([1, 0], 0, 1), ([0, 1], 0, 1)], 0)
JOINT = ([([1, 1], 0, 1)], 0)


@pytest.mark.parametrize("w1inf_point, coordinate", [
    (["-1", "1"], None),            # w1inf = sup, attained as a value
    (["1/2", "-1/4"], 1),           # x + y = 1/4 > 0: ∇h = (0, -1)
    (["1/4", "-1/2"], 0),           # x + y = -1/4 < 0: ∇h = (1, 0)
    (["-1/2", "1/4"], 1),           # x < 0 < y, x + y < 0: ∇h = (0, 1)
])
def test_two_dimensional_pair_by_hand(w1inf_point, coordinate):
    assert_valid(distance(SUM, JOINT, 2, "1", ["1", "-1"], "1", w1inf_point, coordinate), r"sup \|h\| = 1")


@pytest.mark.parametrize("key, value, reason", [
    ("w1inf_point", ["1/2", "-1/4"], r"\|∂_0 h\| = 0 at \(1/2, -1/4\)"),   # ∇h = (0, -1) there
    ("w1inf_point", ["1/2", "1/2"], r"\|∂_0 h\| = 0"),                      # first quadrant: h = 0
    ("w1inf_point", ["1/2", "-1/2"], r"on the line of neuron 0 of R_B"),     # x + y = 0
    ("w1inf_point", ["0", "-1/2"], r"on the line of neuron 0 of R_A"),      # x = 0
    ("sup", "1/2", r"witness.sup: stated 1/2, but .* is 1"),
    ("sup_point", ["1", "1"], r"\|R_A - R_B\| = 0 at \(1, 1\)"),            # h(1, 1) = 2 - 2
    ("sup_point", ["1/2", "-1"], r"= 1/2 at"),                            # h = -y... x + y < 0: h = x = 1/2
    ("w1inf", "2", r"witness.w1inf: stated 2, but .* is 1"),
])
def test_two_dimensional_pair_tampered(key, value, reason):
    c = distance(SUM, JOINT, 2, "1", ["1", "-1"], "1", ["1/4", "-1/2"], 0)
    assert_invalid(tampered(c, setp(["witness", key], value)), reason)


# h = 4 relu(x + y - 3/2) (B has one neuron with a = 0, i.e. R_B = 0): x + y <= 2 on the box, so
# sup = 4·(1/2) = 2 at (1, 1); ∇h = (4, 4) on {x + y > 3/2}: w1inf = max(2, 4) = 4.
CORNER = ([([1, 1], "-3/2", 4)], 0)
ZERO2 = ([([1, 0], 0, 0)], 0)


def test_slope_larger_than_sup():
    c = distance(CORNER, ZERO2, 2, "2", ["1", "1"], "4", ["9/10", "9/10"], 1)
    assert_valid(c, r"sup \|h\| = 2 .* W\^\(1,inf\) norm 4")
    assert_invalid(tampered(c, setp(["witness", "w1inf_point"], ["1/2", "1/2"])), r"\|∂_1 h\| = 0")  # x + y < 3/2
    assert_invalid(tampered(c, setp(["witness", "w1inf"], "2")), r"stated 2, but .* is 4")
    both = tampered(c, lambda c: c["witness"].update(w1inf="2", w1inf_coordinate=None, w1inf_point=["1", "1"]))
    assert_invalid(both, r"stated 2, but")


# A vertical line: h = relu(x - 1/3) - relu(y). max h = 2/3 (x = 1, y <= 0), min h = -1 (y = 1,
# x <= 1/3): sup = 1 at (0, 1). ∇h ∈ {(0, 0), (1, 0), (0, -1), (1, -1)}: ess sup |∂_j h| = 1 = sup.
VERTICAL_A = ([([1, 0], "-1/3", 1)], 0)
VERTICAL_B = ([([0, 1], 0, 1)], 0)


def test_vertical_line_and_null_coordinate():
    c = distance(VERTICAL_A, VERTICAL_B, 2, "1", ["0", "1"], "1", ["1/3", "1"], None)
    assert_valid(c, r"attained as the sup")
    assert_valid(tampered(c, lambda c: c["witness"].update(w1inf_point=["1/2", "1/2"], w1inf_coordinate=0)))
    # |h(1, -1)| = 2/3 != 1
    assert_invalid(tampered(c, setp(["witness", "w1inf_point"], ["1", "-1"])), r"\|R_A - R_B\| = 2/3 at \(1, -1\)")
    assert_invalid(tampered(c, setp(["witness", "w1inf_point"], ["1/3", "1/2"])), r"= 1/2 at \(1/3, 1/2\)")
    on_vertical = tampered(c, lambda c: c["witness"].update(w1inf_point=["1/3", "1/2"], w1inf_coordinate=0))
    assert_invalid(on_vertical, r"lies on the line of neuron 0 of R_A")


# ------------------------------------------------------------------ algebraic numbers
# relu(sqrt(2) x) = sqrt(2) relu(x) (positive rescaling). relu(x - sqrt(2)/2) vs 0 on (-1, 1): the
# kink sqrt(2)/2 ≈ 0.707 is inside; sup = 1 - sqrt(2)/2 ≈ 0.293 at x = 1; slope 1 on (sqrt(2)/2, 1).
def test_sqrt2_rescaling_and_distance():
    a = ([(["sqrt(2)"], 0, 1)], 0)
    b = ([([1], 0, "sqrt(2)")], 0)
    assert_valid(cert("same_realization", a, b, field=FIELD_SQRT2), r"1 visible hyperplane with")
    assert_invalid(cert("same_realization", a, ([([1], 0, "3/2")], 0), field=FIELD_SQRT2), r"μ_A - μ_B = ≈-0.0857")
    kink = ([([1], "-sqrt(2)/2", 1)], 0)
    zero = ([([1], 0, 0)], 0)
    c = distance(kink, zero, 1, "1 - sqrt(2)/2", ["1"], "1", ["9/10"], 0, field=FIELD_SQRT2)
    assert_valid(c, r"sup \|h\| = ≈0.292893")
    assert_invalid(tampered(c, setp(["witness", "sup"], "3/10")), r"stated 3/10, but .* is ≈0.292893")
    # 7/10 < sqrt(2)/2 ≈ 0.7071: left of the kink, h' = 0
    assert_invalid(tampered(c, setp(["witness", "w1inf_point"], ["7/10"])), r"\|∂_0 h\| = 0 at \(7/10\)")
    assert_valid(cert("different_realization", kink, zero, field=FIELD_SQRT2, point=["sqrt(2)/2 + 1/10"]),
                 r"R_A\(x\) = 1/10 != R_B\(x\) = 0")


# ------------------------------------------------------------------ structure, statement, limits
def test_statements_are_canonical(shifted):
    assert statement("same_realization") == "R_A and R_B are the same function on the box (lo, hi)^d"
    assert_invalid(tampered(shifted, setp(["claim", "statement"], "R_A and R_B are close")),
                   r"claim.statement: must be the canonical statement")
    no_statement = tampered(shifted, lambda c: c["claim"].pop("statement"))
    assert_valid(no_statement)


@pytest.mark.parametrize("edit, reason", [
    (setp(["witness", "extra"], 1), r"witness: unknown key\(s\) \['extra'\]"),
    (setp(["data", "points"], []), r"data: unknown key\(s\) \['points'\]"),
    (setp(["claim", "clarke_set"], "gradient"), r"claim: unknown key\(s\)"),
    (setp(["witness", "architecture_b", "layers", 0, "dense", "dropout"], "1/2"),
     r"witness.architecture_b: .*unknown key"),
    (setp(["architecture", "layers", 0, "dense", "activation"], "linear"), r"activation: must be relu"),
    (setp(["architecture", "layers", 1, "dense", "activation"], "relu"), r"activation: must be linear"),
    (setp(["architecture", "layers", 1, "dense", "width"], 2), r"output layer must have width 1"),
    (setp(["architecture", "layers"], [{"dense": {"width": 1, "activation": "relu"}}] * 2 + [{"dense": {"width": 1}}]),
     r"one hidden dense relu layer .* \(got 3 layers\)"),
    (setp(["architecture", "input"], [1, 1]), r"architecture.input: must be \[d\]"),
    (setp(["witness", "architecture_b", "input"], [2]), r"witness.parameters_b|input dimension"),
    (setp(["data", "domain"], ["1", "-1"]), r"data.domain: needs lo < hi"),
    (setp(["data", "domain"], ["0"]), r"data.domain: must be a list"),
    (setp(["witness", "parameters_b", 0, "weight"], [["1", "2"]]), r"witness.parameters_b: .*"),
    (setp(["witness", "sup"], "1/0"), r"witness.sup"),
    (setp(["witness", "sup"], "x"), r"witness.sup: 'x': cannot parse"),
    (lambda c: c["witness"].pop("sup"), r"witness: missing key\(s\) \['sup'\]"),
])
def test_malformed_certificates_are_rejected(shifted, edit, reason):
    assert_invalid(tampered(shifted, edit), reason)


def test_limits_and_dimension():
    huge = tampered(cert("same_realization", RELU, RELU),
                    setp(["architecture", "layers", 0, "dense", "width"], 10 ** 9))
    assert_invalid(huge, r"limit exceeded: .*units .* > 10000")
    huge_b = tampered(cert("same_realization", RELU, RELU),
                      setp(["witness", "architecture_b", "layers", 0, "dense", "width"], 10 ** 9))
    assert_invalid(huge_b, r"limit exceeded")
    # 2-D: 2 + 1 net lines and 4 box edges give 7·6/2 = 21 candidate vertices
    c = distance(SUM, JOINT, 2, "1", ["1", "-1"], "1", ["-1", "1"], None)
    v = check_certificate(c, limits={"vertices": 20})
    assert not v.valid and v.reason.startswith("limit exceeded: candidate vertices") and "21 > 20" in v.reason
    assert check_certificate(c, limits={"vertices": 21}).valid
    # 1-D: 2 lines and 2 endpoints: 4 breakpoints
    v = check_certificate(distance(RELU, SHIFTED, 1, "1/2", ["1"], "1", ["1/4"], 0), limits={"vertices": 3})
    assert not v.valid and "breakpoints of the two nets in the box 4 > 3" in v.reason
    # a hostile 2-D certificate with 100 lines per net: 204·203/2 = 20706 pairs > 4096, refused before work
    many = ([([1, k], 0, 1) for k in range(100)], 0)
    assert_invalid(distance(many, many, 2, "0", ["0", "0"], "0", ["0", "0"], None),
                   r"limit exceeded: candidate vertices .* 20706 > 4096")
    v = check_certificate(cert("same_realization", PERM_A, PERM_B, d=2), limits={"operations": 50})
    assert not v.valid and "limit exceeded" in v.reason
    d3 = ([([1, 0, 0], 0, 1)], 0)
    assert_invalid(distance(d3, d3, 3, "0", ["0"] * 3, "0", ["0"] * 3, None),
                   r"not checkable: .* d <= 2 only \(d = 3\)")
    # same and different realization work in any dimension
    assert_valid(cert("same_realization", d3, d3, d=3))
    assert_valid(cert("different_realization", d3, ([([0, 1, 0], 0, 1)], 0), d=3, point=["1/2", "0", "0"]))


# ------------------------------------------------------------------ property tests
small = st.integers(-3, 3)


def nets(d, widths=st.integers(1, 3)):
    neuron = st.tuples(st.lists(small, min_size=d, max_size=d), st.fractions(-2, 2, max_denominator=3), small)
    return st.tuples(widths.flatmap(lambda m: st.lists(neuron, min_size=m, max_size=m)), small)


def value(R, x):
    neurons, c = R
    return Q(c) + sum(a * max(sum(Q(wj) * xj for wj, xj in zip(w, x)) + Q(b), 0) for w, b, a in neurons)


def on_kink(R, x):
    return any(a and any(w) and sum(Q(wj) * xj for wj, xj in zip(w, x)) + Q(b) == 0 for w, b, a in R[0])


def grad(R, x):
    g = [Q(0)] * len(x)
    for w, b, a in R[0]:
        if sum(Q(wj) * xj for wj, xj in zip(w, x)) + Q(b) > 0:
            g = [gj + a * wj for gj, wj in zip(g, w)]
    return g


def rational(e):
    """A rational field element of the kernel (a tuple of at most one Fraction) as a Fraction."""
    return e[0] if e else Q(0)


def kernel_distances(A, B, d):
    c = distance(A, B, d, "0", ["0"] * d, "0", ["0"] * d, None)
    return realize.distances(realize.Pair(c, Limits()))


@settings(max_examples=25, deadline=None)
@given(nets(2), nets(2))
def test_distances_agree_with_a_dense_grid(A, B):
    """Grid values bound the exact sup from below, and from above up to Lipschitz·spacing; grid
    gradients off the lines bound ess sup |∂_j h| from below; the kernel's maximizers attain."""
    D = kernel_distances(A, B, 2)
    sup, steep = rational(D.sup), rational(D.steep)
    n = 24
    grid = [Q(-1) + Q(2 * i, n) for i in range(n + 1)]
    lip = sum(abs(a) * sum(map(abs, w)) for R in (A, B) for w, _, a in R[0])
    vals = [abs(value(A, (x, y)) - value(B, (x, y))) for x in grid for y in grid]
    assert max(vals) <= sup <= max(vals) + lip * Q(1, n)
    slopes = [abs(ga - gb) for x in grid for y in grid if not on_kink(A, (x, y)) and not on_kink(B, (x, y))
              for ga, gb in zip(grad(A, (x, y)), grad(B, (x, y)))]
    assert max(slopes, default=0) <= steep
    sx = tuple(map(rational, D.sup_at))
    assert abs(value(A, sx) - value(B, sx)) == sup
    gx = tuple(map(rational, D.steep_at))
    assert not on_kink(A, gx) and not on_kink(B, gx)
    assert abs(grad(A, gx)[D.coordinate] - grad(B, gx)[D.coordinate]) == steep


@settings(max_examples=40, deadline=None)
@given(nets(1, st.integers(1, 4)), nets(1, st.integers(1, 4)))
def test_one_dimensional_distances_agree_with_a_dense_grid(A, B):
    D = kernel_distances(A, B, 1)
    sup, steep = rational(D.sup), rational(D.steep)
    n = 600                 # kinks have denominators <= 9: every piece longer than 1/81 holds grid points
    grid = [Q(-1) + Q(2 * i, n) for i in range(n + 1)]
    lip = sum(abs(a) * sum(map(abs, w)) for R in (A, B) for w, _, a in R[0])
    vals = [abs(value(A, (x,)) - value(B, (x,))) for x in grid]
    assert max(vals) <= sup <= max(vals) + lip * Q(1, n)
    slopes = [abs(grad(A, (x,))[0] - grad(B, (x,))[0]) for x in grid if not on_kink(A, (x,)) and not on_kink(B, (x,))]
    assert max(slopes, default=0) == steep      # distinct kinks are >= 1/81 apart > grid spacing 1/300


def reparametrize(R, scales, order):
    """The same function on (-1, 1)^2: rescale neuron i by scales[i] > 0, flip neuron 0 by
    a relu(z) = a relu(-z) + a relu(z + K) - a K (z + K > 0 on the box as K > |b| + ‖w‖_1), and
    list the m + 1 neurons in the given order."""
    neurons, c = R
    out = [([s * wj for wj in w], s * Q(b), Q(a) / s) for (w, b, a), s in zip(neurons, scales)]
    w, b, a = out[0]
    K = abs(b) + sum(map(abs, w)) + 1
    new = [([-wj for wj in w], -b, a), (w, b + K, a)] + out[1:]
    return [new[i] for i in order], Q(c) - a * K


@settings(max_examples=25, deadline=None)
@given(nets(2), st.lists(st.fractions(Q(1, 4), 4), min_size=3, max_size=3), st.data())
def test_reparametrized_nets_are_the_same_and_a_shift_is_not(A, scales, data):
    B = reparametrize(A, scales, data.draw(st.permutations(range(len(A[0]) + 1))))
    # the reparametrization agrees with A on a grid (an independent check of the construction)
    pts = [(Q(i, 3), Q(j, 3)) for i in range(-3, 4) for j in range(-3, 4)]
    assert all(value(A, x) == value(B, x) for x in pts)
    assert_valid(cert("same_realization", A, B, d=2))
    # + 1 on the output bias: a different function, witnessed at every point, e.g. (1/3, -1/5)
    shifted = (B[0], B[1] + 1)
    assert_invalid(cert("same_realization", A, shifted, d=2), r"constant")
    assert_valid(cert("different_realization", A, shifted, d=2, point=["1/3", "-1/5"]))


# ------------------------------------------------------------------ round trip with the producer
# symkkt.realize computes distances and canonical forms with its own code and writes certificates;
# the kernel must accept them, and reject them once a stated value is changed.
def core():
    pytest.importorskip("symkkt.realize.certificate")
    from symkkt.realize.canonical import same_realization
    from symkkt.realize.certificate import realization_certificate
    from symkkt.realize.distance import distance
    from symkkt.realize.net import ShallowNet, to_domain
    return ShallowNet, to_domain, distance, same_realization, realization_certificate


def producer_net(R, ShallowNet):
    neurons, c = R
    return ShallowNet.of([w for w, _, _ in neurons], [b for _, b, _ in neurons], [a for _, _, a in neurons], c)


def round_trip(A, B, d):
    """Both realization certificates the producer writes for A, B on (-1, 1)^d (distance and, by
    the producer's own decision, same or different)."""
    ShallowNet, to_domain, distance, same_realization, realization_certificate = core()
    a, b = producer_net(A, ShallowNet), producer_net(B, ShallowNet)
    lo, hi = to_domain([-1, 1])
    same, point = same_realization(a, b)
    kind = "same_realization" if same else "different_realization"
    return (realization_certificate("realization_distance", a, b, lo, hi, dist=distance(a, b)),
            realization_certificate(kind, a, b, lo, hi, point=point))


@pytest.mark.parametrize("A, B, d", [(RELU, SHIFTED, 1), (SUM, JOINT, 2), (CORNER, ZERO2, 2), (ODD, FOLDED, 1),
                                     (FLIP_A, FLIP_B, 1), (PERM_A, PERM_B, 2), (VERTICAL_A, VERTICAL_B, 2)])
def test_round_trip_of_the_hand_examples(A, B, d):
    dist, claim = round_trip(A, B, d)
    assert_valid(dist)
    assert_valid(claim)
    same = A in (ODD, FLIP_A, PERM_A)               # by hand above
    assert claim["claim"]["kind"] == ("same_realization" if same else "different_realization")
    assert (dist["witness"]["sup"] == "0") == same
    assert_invalid(tampered(dist, setp(["witness", "sup"], dist["witness"]["sup"] + " + 1/7")), r"witness.sup: stated")


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 2).flatmap(lambda d: st.tuples(st.just(d), nets(d), nets(d))))
def test_round_trip_of_random_pairs(args):
    d, A, B = args
    dist, claim = round_trip(A, B, d)
    assert_valid(dist)
    assert_valid(claim)
    assert_invalid(tampered(dist, setp(["witness", "w1inf"], dist["witness"]["w1inf"] + " + 1/7")), r"witness.w1inf")
    # the grid maximum of |h| is a lower bound of the sup; stated as the sup, the kernel accepts it
    # exactly when it is the producer's (exact) sup
    grid = itertools.product([Q(k, 4) for k in range(-4, 5)], repeat=d)
    low = max(abs(value(A, x) - value(B, x)) for x in grid)
    assert Q(dist["witness"]["sup"]) >= low
    lowered = tampered(dist, setp(["witness", "sup"], str(low)))
    assert check_certificate(lowered).valid == (Q(dist["witness"]["sup"]) == low)
