"""The kernel's ``kkt_point_nearby`` check: valid boxes are accepted, tampered ones refused.

Instances: example1 (a two-layer ReLU net whose KKT point has coordinates ±2^(-1/4), ±2^(-3/4),
worked out by hand in docs/mathematics.md §8) and the deep linear direction of proofs/ (zero units).
The certificates are produced by ``certify`` from float64 perturbations of size 1e-9 of the exact
points; every tampered certificate has its digest recomputed, so only the mathematics can reject it.
"""
import copy
import json
from fractions import Fraction

import pytest
import sympy

from symkkt.api import load_example
from symkkt.certify.run import certify
from symkkt.kernel import certificate_digest, check_certificate
from symkkt.kernel.nearby import STATEMENT
from symkkt.numbers import parse_number


@pytest.fixture(scope="module")
def example1():
    problem, theta = load_example("example1")
    arch, data = problem.network.arch.to_json(), problem.data.to_json()
    trained = [float(sympy.N(t, 30)) + 1e-9 * (-1) ** i for i, t in enumerate(theta)]
    res = certify(arch, data, trained, exact=False)
    assert res.verdict == "holds" and res.tier == "rigorous enclosure"
    return res.certificate(), theta


@pytest.fixture(scope="module")
def deep_linear():
    c = json.load(open("proofs/kkt_deep_linear.json"))
    th = [float(parse_number(v)) + 1e-10 for layer in c["parameters"] for row in layer["weight"] for v in row]
    res = certify(c["architecture"], c["data"], th, direction=True, exact=False)
    return res.certificate()


def tampered(cert, change):
    c = copy.deepcopy(cert)
    change(c)
    c["digest"] = certificate_digest(c)
    return check_certificate(c)


def test_valid_certificate_and_statement(example1):
    cert, _ = example1
    v = check_certificate(cert)
    assert v.valid, v.reason
    assert cert["claim"]["statement"] == STATEMENT
    assert v.reason.startswith("Krawczyk")


def test_box_contains_the_exact_point(example1):
    # the exact KKT point (docs/mathematics.md §8) must lie in the proved box: the box holds exactly
    # one zero of F, and the exact point is a zero of F with the same pattern and active set
    cert, theta = example1
    centre = [parse_number(v) for layer in cert["parameters"] for row in layer["weight"] for v in row]
    radius = [parse_number(r) for r in cert["witness"]["radius"]]
    for c, r, t in zip(centre, radius, theta):
        assert abs(sympy.N(c - t, 60)) < r
    lam = [parse_number(v) for v in cert["witness"]["multipliers"]]       # λ = (1, 1/√2) by hand
    for got, exact, r in zip(lam, [1, sympy.sqrt(2) / 2], radius[6:]):
        assert abs(sympy.N(got - exact, 60)) < r


def test_zero_units_accepted(deep_linear):
    v = check_certificate(deep_linear)
    assert v.valid, v.reason
    assert deep_linear["witness"]["zero_units"] == ["1:1", "2:1"]    # the zero row/column of proofs/ by inspection


def test_shifted_box_rejected(example1):
    cert, _ = example1

    def shift(c):       # move the centre of θ_0 = 1 by 1/1000, far more than the radius 2^-64
        c["parameters"][0]["weight"][0][0] = str(Fraction(parse_number(c["parameters"][0]["weight"][0][0])) + Fraction(1, 1000))
    v = tampered(cert, shift)
    assert not v.valid and "Krawczyk" in v.reason


def test_pattern_change_rejected(example1):
    cert, _ = example1

    def flip(c):
        p = c["witness"]["pattern"][0]
        c["witness"]["pattern"][0] = ("-" if p[0] == "+" else "+") + p[1:]
    v = tampered(cert, flip)
    assert not v.valid and "sign" in v.reason


@pytest.mark.parametrize("radius, words", [("1/10" + "0" * 60, "Krawczyk"), ("10", "")])
def test_radius_change_rejected(example1, radius, words):
    # 1e-60 is below the centre's residual (the box cannot contain the zero's displacement);
    # 10 lets signs and multipliers change inside the box
    cert, _ = example1
    v = tampered(cert, lambda c: c["witness"].__setitem__("radius", [radius] * len(c["witness"]["radius"])))
    assert not v.valid and words in v.reason


def test_active_set_change_rejected(example1):
    cert, _ = example1

    def drop(c):
        c["witness"]["active"] = [0]
        c["witness"]["multipliers"] = c["witness"]["multipliers"][:1]
        c["witness"]["radius"] = c["witness"]["radius"][:-1]
        c["witness"]["Y"] = [row[:-1] for row in c["witness"]["Y"][:-1]]
    v = tampered(cert, drop)
    assert not v.valid                  # point 1 has margin 1 on the box, not > 1
    assert "inactive point 1" in v.reason


def test_false_zero_unit_rejected(example1):
    cert, _ = example1

    def zero(c):
        c["witness"]["zero_units"] = ["1:0"]
    v = tampered(cert, zero)
    assert not v.valid and "zero unit" in v.reason


def test_operations_limit(example1):
    cert, _ = example1
    v = check_certificate(cert, limits={"operations": 100})
    assert not v.valid and "limit exceeded" in v.reason


# --- stated kinks: symkkt/examples/kink, whose KKT point has point 0 on the kink of unit 1:1 ---
# By hand (docs in symkkt/examples/kink): θ = (W = [[0, 1], [1/2, 0]], v = (1, 1/2)); stationarity of
# w_0 gives λ_0 = 1, of v_1 gives 2 λ_1 = 1/2, of w_1 gives (2 λ_1, λ_0 g/2 - λ_1/2) = (1/2, 0), so g = 1/4.

@pytest.fixture(scope="module")
def kink():
    problem, theta = load_example("kink")
    arch, data = problem.network.arch.to_json(), problem.data.to_json()
    trained = [float(t) + 1e-10 * (-1) ** i for i, t in enumerate(theta)]
    res = certify(arch, data, trained, exact=False)
    assert res.verdict == "holds", res.reason
    return res.certificate(), theta


def test_kink_certificate_valid_and_contains_exact_point(kink):
    cert, theta = kink
    v = check_certificate(cert)
    assert v.valid, v.reason
    assert cert["claim"]["clarke_set"] == "clarke"          # a first-layer unit, patch (0, 1) != 0
    assert cert["witness"]["pattern"][0] == "+k"            # unit 1:1 at point 0 is the stated kink
    centre = [parse_number(x) for layer in cert["parameters"] for row in layer["weight"] for x in row]
    radius = [parse_number(r) for r in cert["witness"]["radius"]]
    exact = list(theta) + [1, sympy.Rational(1, 4), sympy.Rational(1, 4)]     # θ, λ, g by hand
    got = centre + [parse_number(x) for x in cert["witness"]["multipliers"] + cert["witness"]["slopes"]]
    for c, e, r in zip(got, exact, radius):
        assert abs(c - e) < r


def test_kink_slope_outside_interval_rejected(kink):
    cert, _ = kink
    v = tampered(cert, lambda c: c["witness"].__setitem__("slopes", ["2"]))     # relu slopes lie in [0, 1]
    assert not v.valid and "not in [0, 1]" in v.reason


def test_kink_dropped_rejected(kink):
    cert, _ = kink

    def drop(c):        # unit 1:1 at point 0 declared on the + side: its pre-activation is ~0, not > 0
        w = c["witness"]
        w["pattern"][0] = "++"
        w["slopes"] = []
        w["radius"] = w["radius"][:-1]
        w["Y"] = [row[:-1] for row in w["Y"][:-1]]
    v = tampered(cert, drop)
    assert not v.valid and "sign" in v.reason


def test_kink_added_rejected(kink):
    cert, _ = kink

    def add(c):         # unit 1:0 at point 1 has z = -1, so z = 0 is not solvable next to the centre
        w = c["witness"]
        w["pattern"][1] = "k+"
        w["slopes"] = w["slopes"] + ["1/2"]
        n = len(w["Y"])
        w["radius"] = w["radius"] + ["1/1000"]
        w["Y"] = [row + ["0"] for row in w["Y"]] + [["0"] * n + ["1"]]
    v = tampered(cert, add)
    assert not v.valid and "Krawczyk" in v.reason


def test_kink_characters_and_sets(kink):
    cert, _ = kink
    v = tampered(cert, lambda c: c["witness"]["pattern"].__setitem__(0, "+*"))      # '*' on an active point
    assert not v.valid and "active point" in v.reason
    v = tampered(cert, lambda c: (c["claim"].__setitem__("clarke_set", "gradient"), c["claim"].pop("statement")))
    assert not v.valid and "gradient" in v.reason
    # the chain-rule hull contains the Clarke set: the weaker claim is valid as well
    from symkkt.kernel.nearby import statement
    v = tampered(cert, lambda c: c["claim"].update({"clarke_set": "chain_rule_hull",
                                                    "statement": statement("chain_rule_hull")}))
    assert v.valid, v.reason


# --- merged units: example1 with its hidden unit 0 split into units 0 and 2 with scales 3/5, 4/5 ---
# (3/5)² + (4/5)² = 1, so the split net computes the same Φ, and by the lift (rows and columns t·(w, c))
# the split point is again a KKT point; the exact checker confirms it independently below.

WIDE = {"input": [2], "layers": [{"dense": {"width": 3, "activation": "relu"}}, {"dense": {"width": 1}}]}
WIDE_DATA = {"points": [{"x": [1, 0], "y": 1}, {"x": [-1, 1], "y": -1}, {"x": [3, 1], "y": 1}]}


def _wide_theta():
    a, b = sympy.Integer(2) ** sympy.Rational(-3, 4), sympy.Integer(2) ** sympy.Rational(-1, 4)
    return [sympy.Rational(3, 5), 0, -a, a, sympy.Rational(4, 5), 0, sympy.Rational(3, 5), -b, sympy.Rational(4, 5)]


@pytest.fixture(scope="module")
def merged():
    theta = _wide_theta()
    trained = [float(sympy.N(t, 30)) + 1e-10 * (-1) ** i for i, t in enumerate(theta)]
    res = certify(WIDE, WIDE_DATA, trained, exact=False)
    assert res.verdict == "holds", res.reason
    return res.certificate(), theta


def test_split_point_is_kkt_exactly():
    from symkkt.kkt import MaxMarginProblem
    from symkkt.network import Network
    from symkkt.spec import architecture_from_json, data_from_json
    arch = architecture_from_json(WIDE)
    assert MaxMarginProblem(Network(arch), data_from_json(WIDE_DATA, arch=arch)).decide(_wide_theta()).verdict == "holds"


def test_merged_certificate_valid(merged):
    cert, theta = merged
    assert cert["witness"]["merged"] == [{"layer": 1, "units": [0, 2], "scales": ["3/5", "4/5"]}]
    v = check_certificate(cert)
    assert v.valid and v.reason.startswith("lift"), v.reason
    centre = [parse_number(x) for layer in cert["parameters"] for row in layer["weight"] for x in row]
    assert all(abs(sympy.N(c - t, 50)) < 1e-15 for c, t in zip(centre, theta))


def test_merged_tampered_rejected(merged):
    cert, _ = merged
    # scales off the unit sphere: 3/5, 3/5
    v = tampered(cert, lambda c: c["witness"]["merged"][0].__setitem__("scales", ["3/5", "3/5"]))
    assert not v.valid and "sum of squares" in v.reason
    # the centre is no longer the exact lift: the second unit's weight moved by 1/10^30

    def move(c):
        w = c["parameters"][1]["weight"][0]
        w[2] = str(parse_number(w[2]) + sympy.Rational(1, 10 ** 30))
    v = tampered(cert, move)
    assert not v.valid and "lift" in v.reason
    # members of a group must carry the same pattern character
    v = tampered(cert, lambda c: c["witness"]["pattern"].__setitem__(0, "+--"))
    assert not v.valid and "group" in v.reason
