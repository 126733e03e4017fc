"""Tests of the kernel's split-map claims (``symkkt.kernel.splits``): facts and negative controls.

Every expected map T below is written out by hand from the definition (docs/mathematics.md §5 and §6), never
produced by the code under test. θ is numbered per weight layer: weight entries in C-order, then bias.
"""
import copy
import re
from fractions import Fraction as Q

import pytest
from hypothesis import given, settings, strategies as st

from symkkt.kernel import certificate_digest, check_certificate
from conftest import assert_invalid, assert_valid, tampered

FIELD_SQRT2 = {"minpoly": ["-2", "0", "1"], "interval": ["1", "2"],
               "radicals": [{"base": ["2"], "index": 2, "root": ["0", "1"]}]}
FIELD_2_4 = {"minpoly": ["-2", "0", "0", "0", "1"], "interval": ["1", "2"],
             "radicals": [{"base": ["2"], "index": 4, "root": ["0", "1"]},
                          {"base": ["2"], "index": 2, "root": ["0", "0", "1"]}]}


def dense(*widths, act="relu", bias=False, inp=2):
    """input [inp], hidden dense layers of the given widths with ``act``, then a linear width-1 layer."""
    layers = [{"dense": {"width": w, "activation": act, **({"bias": True} if bias else {})}} for w in widths]
    return {"input": [inp], "layers": layers + [{"dense": {"width": 1, **({"bias": True} if bias else {})}}]}


def cert(kind, arch, steps, target, rows, field=None, points=(), params=()):
    w = {"steps": steps, "target_architecture": target, "map": rows}
    if field:
        w["field"] = copy.deepcopy(field)
    c = {"symkkt_certificate": 1, "claim": {"kind": kind},
         "architecture": arch, "data": {"points": [{"x": x, "y": 1} for x in points]},
         "parameters": [{"weight": p} for p in params], "witness": w, "provenance": {"tool": "tests"}}
    c["digest"] = certificate_digest(c)
    return c




def split(layer, unit, *coeffs):
    return {"split": {"layer": layer, "unit": unit, "coeffs": list(coeffs)}}


# ------------------------------------------------------------------ dense 2 -> 2 -> 1, one split
# θ = (W1[0,0], W1[0,1], W1[1,0], W1[1,1], W2[0,0], W2[0,1]) = indices 0..5.
# Split hidden unit 0 with c = (3/5, 4/5): row 0 of W1 becomes rows 0, 1 (3/5 and 4/5 of it), old
# row 1 moves to row 2; column 0 of W2 becomes columns 0, 1 (3/5 and 4/5 of it), old column 1 -> 2.
NARROW = dense(2)
WIDE3 = dense(3)
SPLIT_35 = split(1, 0, "3/5", "4/5")
MAP_35 = [[0, "3/5"], [1, "3/5"], [0, "4/5"], [1, "4/5"], [2, "1"], [3, "1"],
          [4, "3/5"], [4, "4/5"], [5, "1"]]


@pytest.fixture
def split35():
    return cert("split_embedding", NARROW, [SPLIT_35], WIDE3, MAP_35)


def test_dense_split_is_a_valid_embedding(split35):
    v = assert_valid(split35, r"1 valid neuron/channel split .*\[A\] Theorems 4.8/4.11 and Proposition 4.4")
    assert v.claim == "split_embedding"


def relu_net(theta, x, width):
    """Φ of dense(width) by hand: Σ_j a_j relu(w_j · x), θ = (W1 row-major, a)."""
    W, a = theta[:2 * width], theta[2 * width:]
    return sum(a[j] * max(W[2 * j] * x[0] + W[2 * j + 1] * x[1], 0) for j in range(width))


def apply_map(rows, theta):
    return [Q(0) if s is None else Q(c) * theta[s] for s, c in rows]


rationals = st.fractions(min_value=-5, max_value=5, max_denominator=7)


@settings(max_examples=50, deadline=None)
@given(st.lists(rationals, min_size=6, max_size=6), st.lists(rationals, min_size=2, max_size=2))
def test_literal_map_preserves_output_and_norm(theta, x):
    """Facts about MAP_35 computed without the kernel: Φ̃(Tθ; x) = Φ(θ; x) and ‖Tθ‖ = ‖θ‖;
    the kernel agrees: the refutation 'outputs differ' is invalid."""
    eta = apply_map(MAP_35, theta)
    assert relu_net(eta, x, 3) == relu_net(theta, x, 2)
    assert sum(e * e for e in eta) == sum(t * t for t in theta)
    c = cert("not_output_preserved", NARROW, [SPLIT_35], WIDE3, MAP_35, points=[[str(v) for v in x]],
             params=[[[str(t) for t in theta[:2]], [str(t) for t in theta[2:4]]], [[str(t) for t in theta[4:]]]])
    assert_invalid(c, "outputs coincide")


# ------------------------------------------------------------------ compositions
# Then split unit 1 of the wide net (the 4/5 child of old unit 0) with (5/13, 12/13): hidden units
# become (3/5, 4/5·5/13, 4/5·12/13, 1) = (3/5, 4/13, 48/65, 1) times the old units (0, 0, 0, 1).
MAP_TWO = [[0, "3/5"], [1, "3/5"], [0, "4/13"], [1, "4/13"], [0, "48/65"], [1, "48/65"], [2, "1"], [3, "1"],
           [4, "3/5"], [4, "4/13"], [4, "48/65"], [5, "1"]]

# Deep 1 -> 1 -> 1 -> 1 (relu, relu, linear), θ = (w1, w2, w3). Split layer 1 with (3/5, 4/5):
# (3/5 w1, 4/5 w1 | 3/5 w2, 4/5 w2 | w3). Then split layer 2 (a row of the (1, 2) matrix W2) with
# (5/13, 12/13): W2 rows 5/13·(3/5, 4/5) w2 = (3/13, 4/13) w2 and 12/13·(3/5, 4/5) w2 = (36/65, 48/65) w2;
# W3 = (5/13 w3, 12/13 w3).
MAP_DEEP = [[0, "3/5"], [0, "4/5"], [1, "3/13"], [1, "4/13"], [1, "36/65"], [1, "48/65"],
            [2, "5/13"], [2, "12/13"]]


def test_composition_of_two_splits_in_the_same_layer():
    c = cert("split_embedding", NARROW, [SPLIT_35, split(1, 1, "5/13", "12/13")], dense(4), MAP_TWO)
    assert_valid(c, "composition of 2 valid")
    # the second step indexes into the WIDE net: unit 1 of the narrow net would be a different map
    assert_invalid(tampered(c, lambda c: c["witness"]["steps"][1]["split"].update(unit=2)), r"witness.map\[2\]")


def test_composition_across_layers():
    narrow, wide = dense(1, 1, inp=1), dense(2, 2, inp=1)
    c = cert("split_embedding", narrow, [split(1, 0, "3/5", "4/5"), split(2, 0, "5/13", "12/13")], wide, MAP_DEEP)
    assert_valid(c, "2 valid")
    assert_invalid(tampered(c, lambda c: c["witness"]["map"][3].__setitem__(1, "4/5")), r"map\[3\]")


# ------------------------------------------------------------------ convolutions

def conv_arch(channels, pool=True, flatten=False, inp=(1, 5), kernel=2, bias=False):
    conv = {"channels": channels, "kernel": kernel, "activation": "relu"}
    layers = [{"conv": dict(conv, bias=True) if bias else conv}]
    layers += [{"avgpool": {"kernel": 2}}] if pool else []
    layers += ["flatten", {"dense": {"width": 1}}] if flatten else [{"conv": {"channels": 1, "kernel": 2}}]
    return {"input": list(inp), "layers": layers}


# input [1, 5] -> conv 2 channels, kernel 2, bias -> (2, 4) -> avgpool 2 -> (2, 2) -> conv 1 channel, kernel 2.
# θ: W1 (2, 1, 2) = 0..3 (channel 0: 0, 1; channel 1: 2, 3), b1 = 4, 5, W2 (1, 2, 2) = 6..9
# (input channel 0: 6, 7; input channel 1: 8, 9). Split channel 1 with (3/5, 4/5): filter 1 and bias 1
# become children 1, 2; the input slice W2[:, 1] becomes slices 1, 2.
MAP_CONV = [[0, "1"], [1, "1"], [2, "3/5"], [3, "3/5"], [2, "4/5"], [3, "4/5"],
            [4, "1"], [5, "3/5"], [5, "4/5"],
            [6, "1"], [7, "1"], [8, "3/5"], [9, "3/5"], [8, "4/5"], [9, "4/5"]]

# input [1, 5] -> conv 2 channels -> (2, 4) -> avgpool 2 -> (2, 2) -> flatten (4) -> dense 1.
# θ: W1 = 0..3, W2 (1, 4) = 4..7; dense columns of channel 0 are 4, 5 (block of size 2), of channel 1: 6, 7.
# Split channel 0 with (3/5, 4/5): the block (4, 5) becomes two blocks 3/5·(4, 5) and 4/5·(4, 5).
MAP_FLAT = [[0, "3/5"], [1, "3/5"], [0, "4/5"], [1, "4/5"], [2, "1"], [3, "1"],
            [4, "3/5"], [5, "3/5"], [4, "4/5"], [5, "4/5"], [6, "1"], [7, "1"]]

# 2-D: input [1, 3, 3] -> conv 2 channels, kernel 2 -> (2, 2, 2) -> flatten (8) -> dense 1.
# W1 (2, 1, 2, 2) = 0..7 (channel 1: 4..7), W2 (1, 8) = 8..15 (channel 1's block: 12..15).
# Split channel 1 with (3/5, 4/5).
MAP_FLAT2D = ([[k, "1"] for k in range(4)] + [[k, "3/5"] for k in range(4, 8)] + [[k, "4/5"] for k in range(4, 8)]
              + [[k, "1"] for k in range(8, 12)] + [[k, "3/5"] for k in range(12, 16)]
              + [[k, "4/5"] for k in range(12, 16)])


@pytest.mark.parametrize("narrow, wide, step, rows", [
    (conv_arch(2, bias=True), conv_arch(3, bias=True), split(1, 1, "3/5", "4/5"), MAP_CONV),
    (conv_arch(2, flatten=True), conv_arch(3, flatten=True), split(1, 0, "3/5", "4/5"), MAP_FLAT),
    (conv_arch(2, pool=False, flatten=True, inp=(1, 3, 3)), conv_arch(3, pool=False, flatten=True, inp=(1, 3, 3)),
     split(1, 1, "3/5", "4/5"), MAP_FLAT2D),
], ids=["conv-avgpool-conv", "conv-avgpool-flatten-dense", "conv2d-flatten-dense"])
def test_channel_splits(narrow, wide, step, rows):
    c = cert("split_embedding", narrow, [step], wide, rows)
    assert_valid(c, "valid neuron/channel split")
    # swapping two block rows (a wrong flatten order) is rejected
    i = next(i for i, r in enumerate(rows) if r[1] == "4/5")
    assert_invalid(tampered(c, lambda c: c["witness"]["map"][i].__setitem__(1, "3/5")), rf"map\[{i}\]")
    assert_invalid(tampered(c, lambda c: c["witness"]["map"][i].__setitem__(0, rows[i][0] + 1)), rf"map\[{i}\]")


def test_channel_split_preserves_output_numerically():
    """The refutation is invalid for the hand-written conv map at a concrete θ, x (outputs equal)."""
    c = cert("not_output_preserved", conv_arch(2, bias=True), [split(1, 1, "3/5", "4/5")], conv_arch(3, bias=True),
             MAP_CONV, points=[[1, 2, -1, 3, 1]])
    c = tampered(c, lambda c: c.update(parameters=[{"weight": [[[1, -2]], [[3, "1/2"]]], "bias": ["1/3", -1]},
                                                   {"weight": [[["-1", 2], [1, 1]]]}]))
    assert_invalid(c, "outputs coincide")
    # with (1/2, 1/2) on the same θ, x the output changes (channel 1 is active there)
    half = [[k, "1/2" if v == "3/5" or v == "4/5" else v] for k, v in MAP_CONV]
    assert_valid(tampered(c, lambda c: c["witness"].update(steps=[split(1, 1, "1/2", "1/2")], map=half)), "!=")


def test_kernel_and_stride_are_normalised():
    wide = conv_arch(3, bias=True)
    wide["layers"][0]["conv"].update(kernel=[2], stride=1)
    wide["layers"][1] = {"avgpool": {"kernel": [2]}}
    assert_valid(cert("split_embedding", conv_arch(2, bias=True), [split(1, 1, "3/5", "4/5")], wide, MAP_CONV))
    wide["layers"][0]["conv"]["stride"] = 2
    wide["input"] = [1, 9]          # same shapes after the stride, but different connections
    assert_invalid(cert("split_embedding", conv_arch(2, bias=True), [split(1, 1, "3/5", "4/5")], wide, MAP_CONV),
                   r"target_architecture is not .*: input \[1, 9\]")
    # input 5, kernel 2: stride 2 reads positions (0, 1), (2, 3), stride 3 reads (0, 1), (3, 4)
    narrow, wide = conv_arch(2, pool=False, flatten=True), conv_arch(3, pool=False, flatten=True)
    narrow["layers"][0]["conv"]["stride"], wide["layers"][0]["conv"]["stride"] = 2, 3
    rows = [[0, "1"], [1, "1"], [2, "3/5"], [3, "3/5"], [2, "4/5"], [3, "4/5"],
            [4, "1"], [5, "1"], [6, "3/5"], [7, "3/5"], [6, "4/5"], [7, "4/5"]]
    c = cert("split_embedding", narrow, [split(1, 1, "3/5", "4/5")], wide, rows)
    assert_invalid(c, r"layers\[0\]: connections \(kernel or stride\) differ")
    assert_valid(tampered(c, lambda c: c["witness"]["target_architecture"]["layers"][0]["conv"].update(stride=[2])))


# ------------------------------------------------------------------ algebraic coefficients

SQRT_MAP = [[0, "sqrt(2)/2"], [1, "sqrt(2)/2"], [0, "sqrt(2)/2"], [1, "sqrt(2)/2"], [2, "1"], [3, "1"],
            [4, "sqrt(2)/2"], [4, "sqrt(2)/2"], [5, "1"]]


def test_algebraic_coefficients():
    c = cert("split_embedding", NARROW, [split(1, 0, "sqrt(2)/2", "sqrt(2)/2")], WIDE3, SQRT_MAP, FIELD_SQRT2)
    assert_valid(c)
    # the same numbers written differently are the same map
    assert_valid(tampered(c, lambda c: c["witness"]["map"][0].__setitem__(1, "1/sqrt(2)")))
    assert_valid(tampered(c, lambda c: c["witness"]["map"][0].__setitem__(1, "2^(-1/2)")))
    # a nearby rational is not
    assert_invalid(tampered(c, lambda c: c["witness"]["map"][0].__setitem__(1, "7071/10000")), r"map\[0\]")
    assert_invalid(tampered(c, lambda c: c["witness"].pop("field")), "no radical hint")
    # (√2/2, 1/2): Σc² = 3/4
    assert_invalid(tampered(c, lambda c: c["witness"]["steps"][0]["split"]["coeffs"].__setitem__(1, "1/2")),
                   "Σ c_i² = 3/4 != 1")


# ------------------------------------------------------------------ [B]: critical splits and null units
# 2 -> 2 -> 1 with tanh and biases: θ = W1 0..3, b1 4, 5, W2 6, 7, b2 8.
# critical_split unit 0, α = 1/3: rows 0, 1 of W1 and b1[0] copied (multiplier 1), W2 column 0 becomes
# 1/3 and 2/3 of it. null: a 4th hidden unit with zero incoming weights, bias and outgoing weight.
CRIT_STEPS = [{"critical_split": {"layer": 1, "unit": 0, "alpha": "1/3"}}, {"null": {"layer": 1}}]
ZERO = [None, "0"]
MAP_CRIT = [[0, "1"], [1, "1"], [0, "1"], [1, "1"], [2, "1"], [3, "1"], ZERO, ZERO,
            [4, "1"], [4, "1"], [5, "1"], ZERO,
            [6, "1/3"], [6, "2/3"], [7, "1"], ZERO,
            [8, "1"]]


@pytest.fixture
def critical():
    return cert("critical_embedding", dense(2, act="tanh", bias=True), CRIT_STEPS, dense(4, act="tanh", bias=True),
                MAP_CRIT)


def test_critical_split_and_null_embedding(critical):
    assert_valid(critical, r"\[B\] \(one-step splits and null embeddings preserve the output")
    assert_invalid(tampered(critical, lambda c: c["witness"]["map"].__setitem__(13, [6, "1/3"])), r"map\[13\]")
    # a zero row may name a source: [3, "0"] is the same row of T as [null, "0"]
    assert_valid(tampered(critical, lambda c: c["witness"]["map"].__setitem__(7, [3, "0"])))
    assert_invalid(tampered(critical, lambda c: c["witness"]["map"].__setitem__(7, [3, "1"])), r"map\[7\]")
    assert_invalid(tampered(critical, lambda c: c["witness"]["map"].__setitem__(7, [17, "0"])), "src must be 0..8")
    assert_invalid(tampered(critical, lambda c: c["witness"]["map"].__setitem__(7, [None, "1"])), "coefficient 0")
    assert_invalid(tampered(critical, lambda c: c["witness"]["target_architecture"]["layers"][0]["dense"]
                            .update(activation="relu")), "activation differs")


def test_critical_split_with_alpha_one_has_a_zero_row():
    steps = [{"critical_split": {"layer": 1, "unit": 1, "alpha": 1}}]
    # unit 1 copied to units 1, 2; W2 = (a0, a1) becomes (a0, 1·a1, 0·a1)
    rows = [[0, "1"], [1, "1"], [2, "1"], [3, "1"], [2, "1"], [3, "1"], [4, "1"], [5, "1"], ZERO]
    c = cert("critical_embedding", NARROW, steps, WIDE3, rows)
    assert_valid(c)
    assert_valid(tampered(c, lambda c: c["witness"]["map"].__setitem__(8, [5, "0"])))
    assert_invalid(tampered(c, lambda c: c["witness"]["map"].__setitem__(8, [5, "1"])), r"map\[8\]")


def test_zero_coefficient_split():
    """c = (1, 0) is a valid [A] split (c >= 0, Σc² = 1); its zero child has zero rows."""
    rows = [[0, "1"], [1, "1"], ZERO, ZERO, [2, "1"], [3, "1"], [4, "1"], ZERO, [5, "1"]]
    c = cert("split_embedding", NARROW, [split(1, 0, 1, 0)], WIDE3, rows)
    assert_valid(c)
    assert_valid(tampered(c, lambda c: c["witness"].update(map=rows[:2] + [[0, "0"], [1, "0"]] + rows[4:])))
    assert_invalid(tampered(c, lambda c: c["witness"]["map"].__setitem__(2, [0, "1"])), r"map\[2\]")


def test_step_kinds_are_claim_specific(split35, critical):
    assert_invalid(tampered(split35, lambda c: c["witness"].update(steps=[{"critical_split": {
        "layer": 1, "unit": 0, "alpha": "3/5"}}])), "only split steps")
    assert_invalid(tampered(critical, lambda c: c["witness"]["steps"].__setitem__(0, split(1, 0, 1, 1))),
                   "only critical_split and null")


# ------------------------------------------------------------------ negative controls of split_embedding

@pytest.mark.parametrize("coeffs, rows, pattern", [
    (["1/2", "1/2"], [[0, "1/2"], [1, "1/2"], [0, "1/2"], [1, "1/2"], [2, "1"], [3, "1"], [4, "1/2"], [4, "1/2"],
                      [5, "1"]], "Σ c_i² = 1/2 != 1"),
    (["-3/5", "4/5"], [[0, "-3/5"], [1, "-3/5"], [0, "4/5"], [1, "4/5"], [2, "1"], [3, "1"], [4, "-3/5"],
                       [4, "4/5"], [5, "1"]], r"-3/5 < 0"),
])
def test_invalid_coefficients(coeffs, rows, pattern):
    """The map is the correct T of these coefficients; the split itself is not an [A] split."""
    assert_invalid(cert("split_embedding", NARROW, [split(1, 0, *coeffs)], WIDE3, rows), pattern)


@pytest.mark.parametrize("act, ok", [
    ("linear", True), ({"leaky_relu": {"slope": "1/100"}}, True), ({"leaky_relu": {"slope": -2}}, True),
    ({"poly_relu": {"power": 1}}, True), ({"poly_leaky_relu": {"slope": "1/5", "power": 1}}, True),
    ("tanh", False), ({"polynomial": {"coeffs": [0, 1]}}, False), ({"poly_relu": {"power": 2}}, False),
    ({"poly_leaky_relu": {"slope": "1/5", "power": 3}}, False),
])
def test_split_layer_activation(act, ok):
    c = cert("split_embedding", dense(2, act=act), [SPLIT_35], dense(3, act=act), MAP_35)
    if ok:
        assert_valid(c)
    else:
        assert_invalid(c, "not positively 1-homogeneous and piecewise linear")


def test_biases_are_allowed_in_split_embedding():
    # θ = W1 0..3, b1 4, 5, W2 6, 7, b2 8; b1[0] becomes (3/5, 4/5)·b1[0]
    rows = [[0, "3/5"], [1, "3/5"], [0, "4/5"], [1, "4/5"], [2, "1"], [3, "1"], [4, "3/5"], [4, "4/5"], [5, "1"],
            [6, "3/5"], [6, "4/5"], [7, "1"], [8, "1"]]
    assert_valid(cert("split_embedding", dense(2, bias=True), [SPLIT_35], dense(3, bias=True), rows))


@pytest.mark.parametrize("edit, pattern", [
    (lambda c: c["witness"]["steps"][0]["split"].update(layer=2), "not the last"),
    (lambda c: c["witness"]["steps"][0]["split"].update(layer=0), "integer >= 1"),
    (lambda c: c["witness"]["steps"][0]["split"].update(unit=2), "out of range"),
    (lambda c: c["witness"]["steps"][0]["split"].update(coeffs=[]), "non-empty"),
    (lambda c: c["witness"]["steps"][0]["split"].pop("unit"), "needs exactly"),
    (lambda c: c["witness"].update(steps=[]), "non-empty"),
    (lambda c: c["witness"]["target_architecture"]["layers"][0]["dense"].update(width=4), r"output shape \[4\]"),
    (lambda c: c["witness"]["target_architecture"]["layers"][0]["dense"].update(bias=True), "bias"),
    (lambda c: c["witness"]["map"][0].__setitem__(1, "4/5"), r"map\[0\]: \[0, 4/5\] but the steps give \[0, 3/5\]"),
    (lambda c: c["witness"]["map"][0].__setitem__(0, 1), r"map\[0\]: \[1, 3/5\]"),
    (lambda c: c["witness"]["map"][0].__setitem__(0, 6), "src must be 0..5"),
    (lambda c: c["witness"]["map"].pop(), "list of 9 rows"),
    (lambda c: c["witness"]["map"].__setitem__(4, [3, "1"]), r"map\[4\]"),
    (lambda c: c["witness"].update(extra=1), "unknown key"),
    (lambda c: c["claim"].update(verdict="holds"), "unknown key"),
    (lambda c: c["data"]["points"].append({"x": [1, 0], "y": 1}), "every θ and x"),
    (lambda c: c["parameters"].append({"weight": [[1, 0]]}), "every θ and x"),
])
def test_split_embedding_negative_controls(split35, edit, pattern):
    assert_invalid(tampered(split35, edit), pattern)


def test_every_row_change_is_caught(split35):
    for i in range(len(MAP_35)):
        assert_invalid(tampered(split35, lambda c: c["witness"]["map"][i].__setitem__(1, "2")), rf"map\[{i}\]")


def test_tampered_digest(split35):
    c = copy.deepcopy(split35)
    c["witness"]["map"][0][1] = "4/5"
    assert_invalid(c, "digest")


def test_kkt_claims_still_need_points():
    c = cert("kkt_point", NARROW, [], WIDE3, [], params=[[[1, 0], [0, 1]], [[1, 1]]])
    c = tampered(c, lambda c: c.update(witness={"multipliers": []},
                                       claim={"kind": "kkt_point", "clarke_set": "gradient"}))
    assert_invalid(c, "non-empty list")


# ------------------------------------------------------------------ not_output_preserved
# example1 (docs/mathematics.md §8): W1 = [[1, 0], [-2^(-3/4), 2^(-3/4)]], W2 = [[1, -2^(-1/4)]].
EX1_PARAMS = [[[1, 0], ["-2^(-3/4)", "2^(-3/4)"]], [[1, "-2^(-1/4)"]]]
HALF_MAP = [[0, "1/2"], [1, "1/2"], [0, "1/2"], [1, "1/2"], [2, "1"], [3, "1"], [4, "1/2"], [4, "1/2"], [5, "1"]]


def refutation(x, coeffs=("1/2", "1/2"), rows=HALF_MAP, params=EX1_PARAMS, act="relu"):
    return cert("not_output_preserved", dense(2, act=act), [split(1, 0, *coeffs)], dense(3, act=act), rows,
                FIELD_2_4, points=[x], params=params)


def test_half_split_changes_the_output():
    # x = (1, 0): unit 0 has pre-activation 1, unit 1 has -2^(-3/4) < 0, so Φ = 1·1 = 1; the children
    # give 2·(1/2)·(1/2)·1 = 1/2 (the margin 1/2 of docs/mathematics.md §8).
    assert_valid(refutation([1, 0]), r"Φ̃\(Tθ; x\) = 1/2 != Φ\(θ; x\) = 1")


@pytest.mark.parametrize("x", [[-1, 1], [-1, -1], [0, 0]])
def test_half_split_where_the_outputs_coincide(x):
    # unit 0 (the split one) is inactive there: w1·x = -1 or 0, so both outputs ignore it
    assert_invalid(refutation(x), "outputs coincide")


def test_valid_split_cannot_be_refuted():
    rows35 = [[0, "3/5"], [1, "3/5"], [0, "4/5"], [1, "4/5"], [2, "1"], [3, "1"], [4, "3/5"], [4, "4/5"], [5, "1"]]
    for x in ([1, 0], [-1, 1], [3, 1], [2, "1/3"]):
        assert_invalid(refutation(x, ("3/5", "4/5"), rows35), "outputs coincide")


def test_negative_coefficient_breaks_relu_but_not_linear():
    rows = [[0, "-3/5"], [1, "-3/5"], [0, "4/5"], [1, "4/5"], [2, "1"], [3, "1"], [4, "-3/5"], [4, "4/5"], [5, "1"]]
    params = [[[1, 0], [0, 1]], [[1, 1]]]
    # relu, x = (1, 0): Φ = 1; children pre-activations -3/5, 4/5, so Φ̃ = (4/5)² = 16/25
    assert_valid(refutation([1, 0], ("-3/5", "4/5"), rows, params), "16/25 != .* = 1")
    # linear σ: Σ c_i² = 1 suffices, signs do not matter
    assert_invalid(refutation([1, 0], ("-3/5", "4/5"), rows, params, act="linear"), "outputs coincide")


def test_refutation_needs_exact_values_and_consistent_witness():
    assert_invalid(refutation([1, 0], act="tanh"), "tanh is not exact")
    c = refutation([1, 0])
    assert_invalid(tampered(c, lambda c: c["data"]["points"].append({"x": [0, 1], "y": 1})), "exactly one point")
    assert_invalid(tampered(c, lambda c: c["data"]["points"][0].update(y=0)), "label")
    assert_invalid(tampered(c, lambda c: c["witness"]["map"][6].__setitem__(1, "1")), r"map\[6\]")
    assert_invalid(tampered(c, lambda c: c["parameters"].pop()), "one entry per weight layer")
    # critical splits may be refuted-tested too: they always preserve the output
    crit = tampered(c, lambda c: c["witness"].update(
        steps=[{"critical_split": {"layer": 1, "unit": 0, "alpha": "-7"}}],
        map=[[0, "1"], [1, "1"], [0, "1"], [1, "1"], [2, "1"], [3, "1"], [4, "-7"], [4, "8"], [5, "1"]]))
    assert_invalid(crit, "outputs coincide")


# ------------------------------------------------------------------ claim texts

def test_claim_texts_are_checked(split35, critical):
    from symkkt.kernel.claims import statement
    from symkkt.kernel.splits import STATEMENTS

    for c, kind in ((split35, "split_embedding"), (critical, "critical_embedding")):
        text, theorem = STATEMENTS[kind]
        assert statement(kind) == text
        assert_valid(tampered(c, lambda c: c["claim"].update(statement=text, theorem=theorem)))
        assert_invalid(tampered(c, lambda c: c["claim"].update(statement="T is a Clarke-KKT embedding")),
                       "claim.statement: must be the canonical statement")
        assert_invalid(tampered(c, lambda c: c["claim"].update(theorem="[A] Theorem 9.9")), "claim.theorem")
        assert_invalid(tampered(c, lambda c: c["claim"].update(clarke_set="clarke")), "unknown key")
    # the split text may not be used for the critical claim and vice versa
    assert_invalid(tampered(critical, lambda c: c["claim"].update(statement=STATEMENTS["split_embedding"][0])),
                   "canonical statement")


def test_refutation_statement_names_the_recomputed_outputs():
    # x = (1, 0) on example 1 split by (1/2, 1/2): Φ = 1, Φ̃ = 1/2 (see test_half_split_changes_the_output)
    c = refutation([1, 0])
    text = "the wide output {} differs from the narrow output {} at this theta and x"
    assert_valid(tampered(c, lambda c: c["claim"].update(statement=text.format("1/2", "1"))))
    assert_valid(tampered(c, lambda c: c["claim"].update(statement=text.format("2/4", "(2^(1/4))^4/2"))))
    assert_valid(tampered(c, lambda c: c["claim"].update(
        statement="the wide output differs from the narrow output at this theta and x")))
    assert_invalid(tampered(c, lambda c: c["claim"].update(statement=text.format("1/3", "1"))),
                   "the wide output is 1/2, not 1/3")
    assert_invalid(tampered(c, lambda c: c["claim"].update(statement=text.format("1/2", "2"))),
                   "the narrow output is 1, not 2")
    assert_invalid(tampered(c, lambda c: c["claim"].update(statement=text.format("x", "1"))), "cannot parse")


@pytest.mark.parametrize("edit", [
    lambda c: c["witness"]["steps"][0]["split"].update(extra=1),
    lambda c: c["witness"]["steps"].append({"split": {"layer": 1, "unit": 0, "coeffs": [1]}, "x": 1}),
    lambda c: c["witness"]["target_architecture"].update(note=1),
    lambda c: c["witness"]["target_architecture"]["layers"][0]["dense"].update(dropout=0),
    lambda c: c.update(extra={}),
])
def test_unknown_keys_in_split_witnesses(split35, edit):
    v = check_certificate(tampered(split35, edit))
    assert not v.valid and re.search("unknown|one key", v.reason), v.reason


def test_split_certificates_refuse_diagonal_layers():
    """A diagonal unit is tied to its input coordinate (z_i = u_i x_i): the split maps of [A] are
    not defined there, so a split certificate over such a net is invalid, whatever its map says."""
    import json
    from pathlib import Path

    from symkkt.kernel import certificate_digest, check_certificate

    cert = json.loads((Path(__file__).resolve().parent.parent / "proofs" / "embed_split_fc.json").read_text())
    cert["architecture"] = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                                     {"diagonal": {}}, "sum"]}
    cert["witness"]["target_architecture"] = {"input": [2], "layers": [{"dense": {"width": 3, "activation": "relu"}},
                                                                       {"diagonal": {}}, "sum"]}
    cert["digest"] = certificate_digest(cert)
    verdict = check_certificate(cert)
    assert not verdict.valid and "split maps are defined" in verdict.reason
