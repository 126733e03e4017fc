"""Clarke sets in the kernel's KKT claims: which generalized gradients a certificate is about.

Every expected value is computed by hand in the comments (or by an independent exact evaluation),
never taken from the code under test.
"""
import copy
import random
from fractions import Fraction as Q

import pytest
from hypothesis import given, settings, strategies as st

from symkkt.kernel import certificate_digest, check_certificate
from symkkt.kernel.claims import statement
from symkkt.kernel.exact import Numbers
from symkkt.kernel.network import Network
from conftest import assert_invalid as invalid, assert_valid as valid, tampered


def cert(kind, clarke_set, arch, points, params, witness, **claim):
    c = {"symkkt_certificate": 1, "claim": {"kind": kind, "clarke_set": clarke_set, **claim},
         "architecture": arch, "data": {"points": [{"x": x, "y": y} for x, y in points]},
         "parameters": [{"weight": w} for w in params], "witness": witness}
    c["digest"] = certificate_digest(c)
    return c




# ------------------------------------------------------------------ a conv net where two kinks are tied
# input [1, 3] -> conv (2 channels, kernel 2, relu) -> (2, 2) -> flatten (channel-major) -> dense 1.
# θ = W1 (2, 1, 2) at 0..3 = (1, -1, 1/2, 1/2), W2 (1, 4) at 4..7 = (1, -1, 1/2, 1/2).
# Units "1:0", "1:1" = channel 0 at positions 0, 1; "1:2", "1:3" = channel 1.
#   x0 = (1, 1, 1), y = +1:  z = (0, 0, 1, 1): units 1:0 and 1:1 are on their kink, Φ = 1/2 + 1/2 = 1.
#   x1 = (1/4, -3/4, 0), +1: z = (1, -3/4, -1/4, -3/8), Φ = 1.
#   x2 = (-1, 1/4, -3/4), -1: z = (-5/4, 1, -3/8, -1/4), Φ = -1.
# All margins are 1. Gradients (W1 part from W2[c,p]·slope·patch, W2 part = activations):
#   h0(g, g') = (1·g - g', 1·g - g', 1, 1, 0, 0, 1, 1)     (both positions see the patch (1, 1))
#   h1 = (1/4, -3/4, 0, 0, 1, 0, 0, 0),  h2 = (-1/4, 3/4, 0, 0, 0, 1, 0, 0).
# θ = λ0 h0 + λ1 h1 - λ2 h2: entries 2, 3 force λ0 = 1/2, entry 4 λ1 = 1, entry 5 λ2 = 1; then
# entries 0, 1 need λ0 (g - g') = 1 - 1/4 - 1/4 = 1/2, i.e. g - g' = 1: only (g, g') = (1, 0).
# z_{1:0} and z_{1:1} are the same linear function of θ near x0 (same patch), so no point near θ
# gives them different signs: (1, 0) is in the chain-rule hull but is no limiting gradient, and
# with tied slopes g = g' stationarity fails: θ is not a Clarke-KKT point.
CONV = {"input": [1, 3], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
                                    "flatten", {"dense": {"width": 1}}]}
CONV_POINTS = [(["1", "1", "1"], 1), (["1/4", "-3/4", "0"], 1), (["-1", "1/4", "-3/4"], -1)]
CONV_PARAMS = [[[["1", "-1"]], [["1/2", "1/2"]]], [["1", "-1", "1/2", "1/2"]]]
TIED_TERM = {"weight": "1/2", "slopes": {"1:0": "1", "1:1": "0"}}


def tied(clarke_set, term=TIED_TERM, **claim):
    return cert("kkt_point", clarke_set, CONV, CONV_POINTS, CONV_PARAMS,
                {"multipliers": ["1/2", "1", "1"], "clarke": [{"point": 0, "terms": [term]}]}, **claim)


def test_tied_kinks_hand_values():
    """The forward pass and the margins of the instance, as computed above."""
    N = Numbers()
    net = Network(CONV, N)
    theta = net.parameters([{"weight": w} for w in CONV_PARAMS])
    xs, ys = net.points({"points": [{"x": x, "y": y} for x, y in CONV_POINTS]})
    evs = [net.evaluate(theta, x) for x in xs]
    assert [y * ev.output[0] for ev, y in zip(evs, ys)] == [1, 1, 1]
    assert set(evs[0].kinks) == {"1:0", "1:1"} and not evs[1].kinks and not evs[2].kinks
    # both kink units of x0 have the same a_u = ∇θ z_u: the patch (1, 1) at W1[0]
    assert net.first_layer_row(evs[0], 0) == net.first_layer_row(evs[0], 1)


def test_tied_kinks_hull_only():
    """The false Clarke claim is rejected whatever set it names; the hull claim is what is true."""
    v = valid(tied("chain_rule_hull"), r"Clarke set: chain_rule_hull — KKT for the chain-rule hull only, not "
                                        r"proved Clarke")
    assert "clarke —" not in v.reason
    invalid(tied("clarke"), "needs a direction realizing the slopes")
    invalid(tied("gradient"), r"witness.clarke: must be empty for the gradient set")
    invalid(tampered(tied("gradient"), lambda c: c["witness"].pop("clarke")),
            r"point 0 has kink units .* not allowed for the gradient set")
    # any direction: ż is the same at both units (same linear function), so slopes 1 and 0 never occur
    m = 8
    for d in ([1] * m, [-1] * m, ["1", "2", "0", "0", "0", "0", "0", "0"], ["-3", "1", "5", "0", "0", "1", "0", "0"]):
        invalid(tied("clarke", dict(TIED_TERM, direction=d)), r"selects slope")
    invalid(tied("clarke", dict(TIED_TERM, direction=["1", "-1", "0", "0", "0", "0", "0", "0"])),
            r"ż = 0 at kink unit 1:0")
    # the hull claim may not carry directions, and its statement may not say Clarke
    invalid(tied("chain_rule_hull", dict(TIED_TERM, direction=[1] * m)), "only the clarke set carries directions")
    invalid(tied("chain_rule_hull", statement=statement("kkt_point", "clarke")), "canonical statement")
    valid(tied("chain_rule_hull", statement=statement("kkt_point", "chain_rule_hull")))
    invalid(tied("chain_rule_hull", statement="theta is a Clarke-KKT point"), "canonical statement")


# Refuting Clarke-KKT at the same θ: the patterns (1, 0) and (0, 1) of units 1:0, 1:1 are unrealizable
# (Gordan: 1·(+1)·a - 1·(-1)... = a - a = 0 with ν = (1, 1), signs (+1, -1) and (-1, +1)). The
# remaining vertex columns: c0 = h0(1,1) = h0(0,0) = (0, 0, 1, 1, 0, 0, 1, 1), c1 = h1, c2 = -h2 =
# (1/4, -3/4, 0, 0, 0, -1, 0, 0). y = (-2, -1, 0, ...): y·c0 = 0, y·c1 = y·c2 = -1/2 + 3/4 = 1/4 >= 0,
# y·θ = -2 + 1 = -1 < 0. Over the whole hull, the column h0(1, 0) = (1, 1, 1, 1, 0, 0, 1, 1) has y·c = -3.
FARKAS = ["-2", "-1", "0", "0", "0", "0", "0", "0"]
EXCLUDED = [{"point": 0, "signs": {"1:0": 1, "1:1": -1}, "gordan": {"1:0": 1, "1:1": 1}},
            {"point": 0, "signs": {"1:0": -1, "1:1": 1}, "gordan": {"1:0": "1/2", "1:1": "1/2"}}]


def refutation(clarke_set, excluded=EXCLUDED, farkas=FARKAS):
    w = {"reason": "stationarity", "farkas": farkas}
    if excluded is not None:
        w["excluded"] = copy.deepcopy(excluded)
    return cert("not_kkt_point", clarke_set, CONV, CONV_POINTS, CONV_PARAMS, w)


def test_tied_kinks_clarke_refutation():
    valid(refutation("clarke"), r"all 4 vertex Clarke columns .* \(2 excluded by Gordan vectors\).*Clarke set: clarke")
    invalid(refutation("clarke", excluded=None), r"y·c < 0 for point 0")          # the hull is not refuted
    invalid(refutation("chain_rule_hull", excluded=None), r"y·c < 0 for point 0")
    invalid(refutation("chain_rule_hull"), "only the clarke set may exclude")
    invalid(refutation("gradient", excluded=None), "active point 0 has kink units")
    bad_nu = copy.deepcopy(EXCLUDED)
    bad_nu[0]["gordan"] = {"1:0": 1, "1:1": 2}                                    # a - 2a != 0
    invalid(refutation("clarke", bad_nu), "not a Gordan vector")
    zero = copy.deepcopy(EXCLUDED)
    zero[0]["gordan"] = {"1:0": 0, "1:1": 0}
    invalid(refutation("clarke", zero), "all zero")
    same = copy.deepcopy(EXCLUDED)
    same[0]["signs"] = {"1:0": 1, "1:1": 1}                                       # (+,+) is realizable
    invalid(refutation("clarke", same), "not a Gordan vector")
    other = copy.deepcopy(EXCLUDED)
    other[0]["signs"] = {"1:0": 1, "1:2": -1}
    other[0]["gordan"] = {"1:0": 1, "1:2": 1}
    invalid(refutation("clarke", other), r"'1:2' is not a kink unit")
    extra = copy.deepcopy(EXCLUDED)
    extra[0]["note"] = "x"
    invalid(refutation("clarke", extra), "unknown key")
    inactive = copy.deepcopy(EXCLUDED)
    inactive[0]["point"] = 5
    invalid(refutation("clarke", inactive), "data index")


def test_gordan_needs_a_non_constant_pre_activation():
    """A first-layer unit that sees a zero patch has z_u = 0 for every θ (a_u = 0): it takes no
    sign near θ, and 'ν_u a_u = 0' would exclude both of its slopes, i.e. every vertex.

    input [1, 3] -> conv (1 channel, kernel 1, relu) -> flatten -> dense 1; θ = (w, v0, v1, v2)
    = (1, 1, 0, 0), x = (1, 0, 0): Φ = v0 relu(w) = 1, and h = (v0, relu(w), 0, 0) = (1, 1, 0, 0)
    whatever the slopes of the kink units 1:1, 1:2 (they multiply the zero patch): θ = 1·h is a
    KKT point. Excluding both signs of 1:1 would leave no column and 'refute' it with any y·θ < 0.
    """
    arch = {"input": [1, 3], "layers": [{"conv": {"channels": 1, "kernel": 1, "activation": "relu"}},
                                        "flatten", {"dense": {"width": 1}}]}
    params = [[[["1"]]], [["1", "0", "0"]]]
    forged = [{"point": 0, "signs": {"1:1": s}, "gordan": {"1:1": 1}} for s in (1, -1)]
    c = cert("not_kkt_point", "clarke", arch, [(["1", "0", "0"], 1)], params,
             {"reason": "stationarity", "farkas": ["-1", "0", "0", "0"], "excluded": forged})
    invalid(c, r"unit 1:1 has a_u = 0")
    # the true claim, for the hull and for the Clarke set: 1:1 and 1:2 are free (z ≡ 0), so any
    # direction will do and any slopes of their intervals give the same h
    terms = [{"weight": "1", "slopes": {"1:1": "0", "1:2": "0"}}]
    valid(cert("kkt_point", "chain_rule_hull", arch, [(["1", "0", "0"], 1)], params,
               {"multipliers": ["1"], "clarke": [{"point": 0, "terms": terms}]}))
    valid(cert("kkt_point", "clarke", arch, [(["1", "0", "0"], 1)], params,
               {"multipliers": ["1"], "clarke": [{"point": 0, "terms": [dict(terms[0], direction=["1"] * 4)]}]}),
          "Clarke set: clarke")


# ------------------------------------------------------------------ a Clarke certificate that exists
# Φ = a1 relu(w1·x) + a2 relu(w2·x), θ = (w1, w2, a) = (1, 0 | 0, 1 | 1, 1); P = (1, 0), Q = (-1/2, 1).
# P is on the kink of unit 1:1 (w2·P = 0) and stationarity needs its slope g = 1/2 (w2 = λ_P a2 g P +
# λ_Q a2 Q = (g - 1/2, 1)), which is the vertex average (0 + 1)/2. z_{1:1}(θ + t d; P) = t·d[2]:
# d[2] = 1 realizes slope 1, d[2] = -1 slope 0.
TWO = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}
KINK_POINTS = [(["1", "0"], 1), (["-1/2", "1"], 1)]
KINK_PARAMS = [[["1", "0"], ["0", "1"]], [["1", "1"]]]
UP, DOWN = ["0", "0", "1", "0", "0", "0"], ["0", "0", "-1", "0", "0", "0"]


def kink(terms, clarke_set="clarke"):
    return cert("kkt_point", clarke_set, TWO, KINK_POINTS, KINK_PARAMS,
                {"multipliers": ["1", "1"], "clarke": [{"point": 0, "terms": terms}]})


def term(weight, slope, direction=None):
    t = {"weight": weight, "slopes": {"1:1": slope}}
    if direction is not None:
        t["direction"] = direction
    return t


def test_clarke_certificate_with_directions():
    valid(kink([term("1/2", "0", DOWN), term("1/2", "1", UP)]), r"Clarke set: clarke — limiting gradients")
    # other directions with the same signs work too: only the sign of ż = d[2] matters
    valid(kink([term("1/2", "0", ["5", "-7", "-1/3", "2", "1", "9"]),
                term("1/2", "1", ["0", "0", "2", "1", "0", "0"])]))
    invalid(kink([term("1/2", "0", UP), term("1/2", "1", UP)]),
            r"ż > 0 at kink unit 1:1 selects slope 1, the term says 0")
    invalid(kink([term("1/2", "0", DOWN), term("1/2", "1", ["1", "0", "0", "5", "0", "0"])]), "ż = 0")
    invalid(kink([term("1", "1/2", UP)]), "selects slope 1, the term says 1/2")    # not a vertex
    invalid(kink([term("1/2", "0", DOWN), term("1/2", "1")]), "needs a direction")
    invalid(kink([term("1/2", "0", DOWN), term("1/2", "1", UP[:5])]), "list of 6")
    invalid(kink([term("1", "0", DOWN)]), "stationarity fails")                      # g = 0 is not enough
    # the same terms without directions are a (true) hull certificate; with directions they are not
    valid(kink([term("1/2", "0"), term("1/2", "1")], "chain_rule_hull"), "chain_rule_hull")
    valid(kink([term("1", "1/2")], "chain_rule_hull"))
    invalid(kink([term("1/2", "0", DOWN), term("1/2", "1", UP)], "chain_rule_hull"), "only the clarke set")


def test_clarke_direction_through_deeper_layers():
    """A kink in the second hidden layer: 1 -> 1 (relu) -> 2 (relu) -> 1, θ = (w, u1, u2, v1, v2).
    At x = 1 with w = 1, u = (1, 0): z2 = (1, 0), unit 2:1 is on its kink and
    ż_{2:1} = d_{u2}·relu(w x) + u2·(d_w x) = d[2] (u2 = 0). Φ = v1 relu(1) = v1."""
    arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu"}},
                                     {"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}
    N = Numbers()
    net = Network(arch, N)
    theta = net.parameters([{"weight": [["1"]]}, {"weight": [["1"], ["0"]]}, {"weight": [["1", "1"]]}])
    ev = net.evaluate(theta, [N.num(1)])
    assert set(ev.kinks) == {"2:1"}
    for d, sign in ([(0, 0, 1, 0, 0), 1], [(0, 0, -1, 0, 0), -1], [(5, 3, -2, 1, 1), -1], [(1, 0, 0, 0, 0), 0]):
        zdot, slopes = net.jvp(theta, ev, [N.num(v) for v in d])
        assert N.F.sign(zdot["2:1"]) == sign
        assert slopes.get("2:1") == {1: (Q(1),), -1: (), 0: None}[sign]


def test_direction_jvp_matches_difference_quotients():
    """ż of every kink unit and the output derivative agree with exact one-sided difference
    quotients (Φ(θ + t d) - Φ(θ)) / t for t = 10^-40 (the nets are polynomial in t near t = 0+)."""
    arch = {"input": [1, 4], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": "relu", "bias": True}},
                                        {"avgpool": {"kernel": 2}}, "flatten",
                                        {"dense": {"width": 2, "activation": {"leaky_relu": {"slope": "1/4"}}}},
                                        {"dense": {"width": 1}}]}
    rng = random.Random(7)
    N = Numbers()
    net = Network(arch, N)
    x = [N.num(v) for v in (1, -2, 1, 3)]
    # channel 0 filter (1, 1/2), bias 0: position 0 sees (1, -2): 1 - 1 = 0, a kink
    checked = 0
    for trial in range(20):
        w = [1, "1/2", rng.randint(-3, 3), rng.randint(-3, 3), 0, rng.randint(-2, 2)]
        w2 = [rng.randint(-3, 3) for _ in range(4)] + [rng.randint(-3, 3) for _ in range(4)] + [1, rng.randint(-3, 3)]
        theta = [N.num(v) for v in w + w2]
        ev = net.evaluate(theta, x)
        assert "1:0" in ev.kinks
        d = [N.num(rng.randint(-5, 5)) for _ in theta]
        zdot, slopes = net.jvp(theta, ev, d)
        if any(N.F.sign(v) == 0 for v in zdot.values()):
            continue
        t = N.F.const(Q(1, 10 ** 40))
        moved = [N.F.add(a, N.F.mul(t, b)) for a, b in zip(theta, d)]
        ev_t = net.evaluate(moved, x)
        quotient = N.F.div(N.F.sub(ev_t.output, ev.output), t)
        # output derivative by backprop with the selected slopes: ⟨h(g), d⟩
        h = net.gradient(theta, ev, slopes)
        expect = N.F.sum(N.F.mul(a, b) for a, b in zip(h, d))
        q, e = (quotient[0] if quotient else 0), (expect[0] if expect else 0)
        assert abs(q - e) < Q(1, 10 ** 30)
        # and the kink unit's pre-activation moves to the side ż says
        z00 = N.F.sum(N.F.mul(moved[wi], x[xi]) for wi, xi in net.layers[0].conns[0])
        z00 = N.F.add(z00, moved[net.layers[0].boff])
        assert N.F.sign(z00) == N.F.sign(zdot["1:0"])
        checked += 1
    assert checked >= 10


@st.composite
def dense_nets(draw):
    widths = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    act = draw(st.sampled_from(["relu", {"leaky_relu": {"slope": "1/3"}}, {"leaky_relu": {"slope": "-2"}}]))
    layers = [{"dense": {"width": w, "activation": act}} for w in widths] + [{"dense": {"width": 1}}]
    arch = {"input": [2], "layers": layers}
    small = st.integers(-2, 2)
    shapes, n = [], 2
    for w in widths + [1]:
        shapes.append((w, n))
        n = w
    params = [{"weight": [[draw(small) for _ in range(i)] for _ in range(o)]} for o, i in shapes]
    x = [draw(small), draw(small)]
    d = [draw(st.integers(-3, 3)) for _ in range(sum(o * i for o, i in shapes))]
    return arch, params, x, d


@given(dense_nets())
@settings(max_examples=60, deadline=None)
def test_jvp_is_gradient_times_direction(net_case):
    """Forward mode and backprop agree: Φ'(θ; d) = ⟨h(g(d)), d⟩ with the slopes g(d) that d
    selects at the kink units (small integers put many units exactly on their kinks)."""
    arch, params, x, d = net_case
    N = Numbers()
    net = Network(arch, N)
    theta = net.parameters(params)
    ev = net.evaluate(theta, [N.num(v) for v in x])
    dd = [N.num(v) for v in d]
    zdot, slopes = net.jvp(theta, ev, dd)
    if any(N.F.sign(v) == 0 for v in zdot.values()):
        return
    t = N.F.const(Q(1, 10 ** 30))
    moved = [N.F.add(a, N.F.mul(t, b)) for a, b in zip(theta, dd)]
    quotient = N.F.div(N.F.sub(net.evaluate(moved, [N.num(v) for v in x]).output, ev.output), t)
    h = net.gradient(theta, ev, slopes)
    expect = N.F.sum(N.F.mul(a, b) for a, b in zip(h, dd))
    q = quotient[0] if quotient else Q(0)
    e = expect[0] if expect else Q(0)
    assert abs(q - e) < Q(1, 10 ** 20)


# ------------------------------------------------------------------ free units: a zero patch, no bias
# input [1, 3] -> conv (1 channel, kernel 2, relu) -> flatten -> dense 1; θ = (w0, w1, v0, v1).
# x = (0, 0, 1): position 0 sees the patch (0, 0), so z_{1:0} = 0·w0 + 0·w1 ≡ 0 for EVERY θ (a = 0);
# position 1 sees (0, 1): z_{1:1} = w1.
# θ = (0, 1, 0, 1): Φ = v0·relu(z_{1:0}) + v1·relu(w1) = v1·relu(w1) on a neighbourhood of θ, q = 1;
# h = (v0·g·0 + v1·0, v0·g·0 + v1·1, relu(0), relu(1)) = (0, 1, 0, 1) for every slope g of 1:0,
# the gradient of the smooth v1·relu(w1) at θ: θ = 1·h, ‖θ‖² = 2 = L·q·μ (L = 2). A Clarke-KKT
# direction although no direction gives ż_{1:0} != 0.
ZPATCH = {"input": [1, 3], "layers": [{"conv": {"channels": 1, "kernel": 2, "activation": "relu"}},
                                      "flatten", {"dense": {"width": 1}}]}
ZERO_X = [(["0", "0", "1"], 1)]


def zpatch(kind, witness, theta=("0", "1", "0", "1"), clarke_set="clarke"):
    return cert(kind, clarke_set, ZPATCH, ZERO_X, [[[list(theta[:2])]], [list(theta[2:])]], witness)


def free_term(slope, direction, weight="1"):
    return {"multipliers": [weight], "clarke": [{"point": 0, "terms": [
        {"weight": weight, "slopes": {"1:0": slope}, "direction": direction}]}]}


def test_free_unit_takes_any_slope_of_its_interval():
    N = Numbers()
    net = Network(ZPATCH, N)
    ev = net.evaluate(net.parameters([{"weight": [[["0", "1"]]]}, {"weight": [["0", "1"]]}]), [N.num(v) for v in "001"])
    assert set(ev.kinks) == {"1:0"} and all(not c for c in net.first_layer_row(ev, 0))
    for slope in ("0", "1", "1/2"):
        for d in (["0"] * 4, ["5", "-7", "1", "2"]):
            valid(zpatch("kkt_direction", free_term(slope, d)), r"1 kink term \(Clarke set: clarke")
    invalid(zpatch("kkt_direction", free_term("2", ["0"] * 4)), r"slopes\[1:0\]: 2 outside \[0, 1\]")
    invalid(zpatch("kkt_direction", free_term("1", ["0"] * 4, weight="2")), "stationarity fails")
    invalid(zpatch("kkt_direction", {"multipliers": ["1"], "clarke": [{"point": 0, "terms": [
        {"weight": "1", "slopes": {}, "direction": ["0"] * 4}]}]}), "keys must be exactly the kink units")
    invalid(zpatch("kkt_direction", {"multipliers": ["1"], "clarke": [{"point": 0, "terms": [
        {"weight": "1", "slopes": {"1:0": "1"}}]}]}), "needs a direction")
    # a false claim: θ = (0, 1, 0, 2) has q = 2·relu(1) = 2 and h = (0, 2, 0, 1), not parallel to θ
    invalid(zpatch("kkt_direction", free_term("1", ["0"] * 4), theta=("0", "1", "0", "2")), "stationarity fails")


def test_exemption_is_only_for_first_layer_units_with_zero_gradient():
    """The same certificates on units that DO move are rejected."""
    # with a bias, z_{1:0} = b: a = e_b != 0 and the direction must pick a side (θ = (w, b, v) = (0, 1, 0, 0, 1))
    arch = copy.deepcopy(ZPATCH)
    arch["layers"][0]["conv"]["bias"] = True
    c = cert("kkt_direction", "clarke", arch, ZERO_X, [], free_term("1", ["0"] * 5))
    c["parameters"] = [{"weight": [[["0", "1"]]], "bias": ["0"]}, {"weight": [["0", "1"]]}]
    c["digest"] = certificate_digest(c)
    invalid(c, "ż = 0 at kink unit 1:0")
    # two-layer kink of unit 1:1 (a = (1, 0) at w2): g = 1/2 satisfies stationarity (see above) but
    # with ż = 0 it is no limiting gradient, and ż = 0 does not license it
    invalid(kink([term("1", "1/2", ["1", "0", "0", "5", "0", "0"])]), "ż = 0 at kink unit 1:1")
    valid(kink([term("1", "1/2")], "chain_rule_hull"))


# A deeper unit with ∇z = 0 that is not constant: input [1, 2] -> conv (1 channel, kernel 1, relu,
# bias) -> conv (2 channels, kernel 1, relu) -> flatten -> dense 1; θ = (w, b, W2_0, W2_1, V0..V3)
# = (3/5, 4/5, 1, 0, 0, 1, 0, 0), x = (-4/3, 3/4), y = 1. By hand: z1 = (3/5·(-4/3) + 4/5, 3/5·3/4 + 4/5)
# = (0, 5/4): unit 1:0 on its kink with a = (x0, 1) != 0. Layer 2 (channel-major): z = (W2_0·0, W2_0·5/4,
# W2_1·0, W2_1·5/4) = (0, 5/4, 0, 0): kinks 2:0, 2:2, 2:3. ∇z_{2:2} = (W2_1·g·(x0, 1), relu(z1_0)) = 0,
# yet z_{2:2}(θ + t·d) = t·d3·relu(t·(d1 - 4/3·d0)), = ±t² for d = (0, 1, 0, ±1, 0, ...).
# h = (V1·W2_0·x1, V1·W2_0, V1·z1_1, 0, 0, 5/4, 0, 0) = (3/4, 1, 5/4, 0, 0, 5/4, 0, 0) for all slopes
# (V0 = V2 = V3 = 0), q = 5/4, θ = (4/5)·h, ‖θ‖² = 3 = L·q·μ = 3·(5/4)·(4/5): KKT for the hull.
DEEP = {"input": [1, 2], "layers": [{"conv": {"channels": 1, "kernel": 1, "activation": "relu", "bias": True}},
                                    {"conv": {"channels": 2, "kernel": 1, "activation": "relu"}}, "flatten",
                                    {"dense": {"width": 1}}]}
DEEP_SLOPES = {"1:0": "1", "2:0": "1", "2:2": "0", "2:3": "1"}


def deep(clarke_set, direction=None):
    t = {"weight": "4/5", "slopes": DEEP_SLOPES}
    if direction is not None:
        t["direction"] = direction
    c = cert("kkt_direction", clarke_set, DEEP, [(["-4/3", "3/4"], 1)], [],
             {"multipliers": ["4/5"], "clarke": [{"point": 0, "terms": [t]}]})
    c["parameters"] = [{"weight": [[["3/5"]]], "bias": ["4/5"]}, {"weight": [[["1"]], [["0"]]]},
                       {"weight": [["0", "1", "0", "0"]]}]
    c["digest"] = certificate_digest(c)
    return c


def test_deeper_unit_with_zero_gradient_is_not_exempt():
    def z22(t, d):        # z_{2:2}(θ + t·d) by the formula above, in exact rationals
        z10 = (Q(3, 5) + t * d[0]) * Q(-4, 3) + Q(4, 5) + t * d[1]
        return (0 + t * d[3]) * max(z10, 0)
    for sign in (1, -1):
        d = [0, 1, 0, sign, 0, 0, 0, 0]
        assert all(z22(t, d) == sign * t * t for t in (Q(1, 10), Q(1, 10 ** 6)))
    valid(deep("chain_rule_hull"), "chain_rule_hull")
    # d = (0, 1, 0, 1, 0, ...): ż_{1:0} = d1 = 1, ż_{2:0} = W2_0·1·1 = 1, ż_{2:3} = d3·5/4 = 5/4 all
    # pick the sides of DEEP_SLOPES, ż_{2:2} = d3·relu(0) + W2_1·(...) = 0: refused
    invalid(deep("clarke", ["0", "1", "0", "1", "0", "0", "0", "0"]), "ż = 0 at kink unit 2:2")


def test_free_unit_refutations_and_forged_exclusions():
    """θ = (0, 1, 1, 1): q = 1, h = (0, 1, 0, 1) for both slopes of 1:0 (by hand as above), θ is not
    a multiple of h. y = (0, 0, -1, 0): y·θ = -1 < 0, y·h = 0 on both (equal) vertex columns."""
    refute = lambda farkas, excluded=(), theta=("0", "1", "1", "1"): zpatch(   # noqa: E731
        "not_kkt_direction", {"reason": "stationarity", "farkas": farkas, "excluded": list(excluded)}, theta)
    valid(refute(["0", "0", "-1", "0"]), "all 2 vertex Clarke columns")
    invalid(refute(["0", "0", "0", "-1"]), r"y·c < 0 for point 0")                  # y·h = -1
    # the true direction θ = (0, 1, 0, 1) cannot be 'refuted' by excluding both signs of the free unit
    forged = [{"point": 0, "signs": {"1:0": s}, "gordan": {"1:0": "1"}} for s in (1, -1)]
    invalid(refute(["0", "-1", "0", "-1"], forged, ("0", "1", "0", "1")), "unit 1:0 has a_u = 0")
    invalid(refute(["0", "-1", "0", "-1"], forged[:1], ("0", "1", "0", "1")), "unit 1:0 has a_u = 0")
    invalid(refute(["0", "-1", "0", "-1"], (), ("0", "1", "0", "1")), r"y·c < 0 for point 0")


# ------------------------------------------------------------------ statements, keys, θ = 0, degree 0

def test_statements_are_canonical_and_distinct():
    texts = {(k, s): statement(k, s) for k in ("kkt_point", "kkt_direction", "not_kkt_point", "not_kkt_direction")
             for s in ("gradient", "clarke", "chain_rule_hull")}
    assert len(set(texts.values())) == 12
    assert "Clarke subdifferential" in texts["kkt_point", "clarke"]
    assert "chain-rule hull" in texts["kkt_point", "chain_rule_hull"]
    assert texts["not_kkt_direction", "gradient"].startswith("theta is not a KKT direction")
    with pytest.raises(ValueError):
        statement("kkt_point", "hull")
    with pytest.raises(ValueError):
        statement("kkt_pointt", "clarke")


SVM = {"input": [2], "layers": [{"dense": {"width": 1}}]}
SVM_POINTS = [(["2", "0"], 1), (["0", "1"], -1), (["3", "-1"], 1)]


def svm(**edits):
    c = cert("kkt_point", "gradient", SVM, SVM_POINTS, [[["1/2", "-1"]]], {"multipliers": ["1/4", "1", "0"]})
    return c


@pytest.mark.parametrize("edit, pattern", [
    (lambda c: c["claim"].update(theorem="x"), r"claim: unknown key\(s\) \['theorem'\]"),
    (lambda c: c["claim"].pop("clarke_set"), "claim.clarke_set: must be one of"),
    (lambda c: c["claim"].update(clarke_set="Clarke"), "claim.clarke_set: must be one of"),
    (lambda c: c["claim"].update(statement="theta is a KKT point"), "canonical statement"),
    (lambda c: c["witness"].update(note="x"), "witness: unknown key"),
    (lambda c: c.update(comment="x"), r"unknown top-level key\(s\) \['comment'\]"),
    (lambda c: c["architecture"]["layers"][0]["dense"].update(padding=0), "unknown key"),
    (lambda c: c["data"]["points"][0].update(w=1), "unknown key"),
    (lambda c: c["parameters"][0].update(scale=1), "unknown key"),
    (lambda c: c["witness"].update(field={"minpoly": ["-2", "0", "1"], "interval": ["1", "2"], "extra": 1}),
     "witness.field"),
])
def test_unknown_keys_and_free_text_rejected(edit, pattern):
    c = svm()
    valid(c, "Clarke set: gradient")
    invalid(tampered(c, edit), pattern)
    valid(tampered(c, lambda c: c["claim"].update(statement=statement("kkt_point", "gradient"))))


def test_clarke_term_unknown_keys():
    invalid(kink([dict(term("1/2", "0", DOWN), note="x"), term("1/2", "1", UP)]), "unknown key")
    c = kink([term("1/2", "0", DOWN), term("1/2", "1", UP)])
    invalid(tampered(c, lambda c: c["witness"]["clarke"][0].update(why="x")), "unknown key")


def test_zero_direction_rejected():
    c = cert("kkt_direction", "gradient", SVM, SVM_POINTS, [[["0", "0"]]], {"multipliers": ["0", "0", "0"]})
    invalid(c, "θ = 0 is not a direction")
    # a true direction (1, -2) with μ = (1/2, 2, 0): θ = (1/2)(2, 0) - 2·(0, 1) = (1, -2)
    valid(cert("kkt_direction", "gradient", SVM, SVM_POINTS, [[["1", "-2"]]], {"multipliers": ["1/2", "2", "0"]}))


def test_degree_zero_networks_rejected():
    # no weight layer at all
    c = cert("kkt_direction", "gradient", {"input": [1, 2], "layers": [{"avgpool": {"kernel": 2}}, "flatten"]},
             [(["1", "1"], 1)], [], {"multipliers": ["1"]})
    invalid(c, "needs at least one weight layer")
    # a constant activation makes Φ independent of the scale of θ (degree 0)
    const = {"input": [1], "layers": [{"dense": {"width": 1, "activation": {"polynomial": {"coeffs": ["1"]}}}}]}
    c = cert("kkt_direction", "gradient", const, [(["1"], 1)], [[["1"]]], {"multipliers": ["0"]})
    invalid(c, "not positively homogeneous")
    c = cert("not_kkt_direction", "gradient", const, [(["1"], 1)], [[["1"]]], {"reason": "stationarity",
                                                                          "farkas": ["-1"]})
    invalid(c, "not positively homogeneous")
    assert Network(const).degree is None
