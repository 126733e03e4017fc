"""What ``symkkt embed`` reports: children in the terms of the split flags, the four cases of KKT
transfer said precisely, and KKT transfer of directions (``--direction``)."""

import json

import pytest
import sympy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy import Rational as R

from conftest import call
from symkkt.api import example_paths, load_example
from symkkt.embed.check import decide
from symkkt.embed.maps import chain, parse_step
from symkkt.network import Network
from symkkt.spec import architecture_from_json

# conv(1 -> 2 channels, kernel 1, relu) on inputs of length 4, flatten, dense: 4 output positions per
# channel, so a flat unit is channel · 4 + position
CONV = {"input": [1, 4], "layers": [{"conv": {"channels": 2, "kernel": 1, "activation": "relu"}},
                                    "flatten", {"dense": {"width": 1}}]}


def net_of(arch):
    return Network(architecture_from_json(arch))


def steps(*texts, kind="split"):
    return [parse_step(t, kind) for t in texts]


# -- children, in units of dense layers and channels of conv layers ----------------------------
def test_conv_children_are_channels_in_text_and_json(tmp_path, capsys):
    arch = tmp_path / "a.yaml"
    arch.write_text(yaml.safe_dump(CONV))
    code, out, _ = call(capsys, "embed", arch, "--split", "1:0:3/5,4/5", "--json")
    obj = json.loads(out)
    # channel 0 is replaced in place by two channels: wide channels 0 and 1 (not flat units 0 and 4)
    assert code == 0 and obj["children"] == {"1:0": ["1:0", "1:1"]}
    wit = obj["properties"]["gradient_preserved"]["kink_equality"]["witness"]
    assert wit["unit_kind"] == "channel" and wit["unit"] == "1:0"
    assert wit["children"] == {"1:0": ["1:0", "1:1"]} and wit["pushed_up"] in ("1:0", "1:1")
    # one slope per child channel: σ'(0+) = 1 for the child pushed up, σ'(0−) = 0 for the other
    assert wit["slopes"] == {c: ("1" if c == wit["pushed_up"] else "0") for c in ("1:0", "1:1")}
    # the flat form is labelled, and flat = channel · 4 + position for each kink position
    flat = wit["flat_units"]
    assert "channel · 4 + position" in flat["meaning"]
    p0 = wit["kink_positions"][0][0]
    assert flat["children"] == [f"1:{c * 4 + p0}" for c in (0, 1)]
    assert sorted(flat["kink_positions"]) == sorted(f"1:{p[0]}" for p in wit["kink_positions"])
    # the witness in channel terms, re-derived: kernel-1 conv without bias, so child c's pre-activation
    # at position p is (c-th coefficient)·w0·x_p, exactly 0 at every listed kink position
    theta, x = [sympy.Rational(v) for v in wit["theta"]], [sympy.Rational(v) for v in wit["x"]]
    assert all(theta[0] * x[p[0]] == 0 for p in wit["kink_positions"])
    code, text, _ = call(capsys, "embed", arch, "--split", "1:0:3/5,4/5")
    assert "children     channel 1:0 -> channels 1:0, 1:1" in text
    assert "channel 1:0 on its kink at positions" in text and "children channels 1:0, 1:1" in text
    assert "'1:4'" not in text


def test_two_dimensional_conv_witness_names_channel_and_positions():
    # conv 1 -> 2 channels, kernel 1, on 2x2 inputs: 4 positions (i, j) per channel, flat unit
    # channel · 4 + 2i + j; splitting channel 1 gives wide channels 1, 2 (flat units 4.., 8..)
    arch = {"input": [1, 2, 2], "layers": [{"conv": {"channels": 2, "kernel": 1, "activation": "relu"}},
                                           "flatten", {"dense": {"width": 1}}]}
    res = decide(chain(net_of(arch), steps("1:1:3/5,4/5")))
    wit = res.properties["gradient_preserved"].extra["kink_equality"]["witness"]
    assert wit["unit"] == "1:1" and wit["children"] == {"1:1": ["1:1", "1:2"]}
    flat = wit["flat_units"]
    assert flat["kink_positions"] == [f"1:{4 + 2 * i + j}" for i, j in wit["kink_positions"]]
    i, j = wit["kink_positions"][0]
    assert flat["children"] == [f"1:{4 * c + 2 * i + j}" for c in (1, 2)]
    assert flat["unit"] == f"1:{4 + 2 * i + j}"
    positions = ", ".join(f"({a}, {b})" for a, b in wit["kink_positions"])
    assert f"channel 1:1 on its kink at positions {positions}; children channels 1:1, 1:2" in repr(res)


def test_children_of_chained_splits_count_channels_of_the_final_network():
    # 1:1 -> wide channels 1, 2; then channel 2 (the second child) -> 2, 3: narrow 1 -> 1, 2, 3;
    # a coefficient-1 split of channel 0 changes nothing and has one child only
    emb = chain(net_of(CONV), steps("1:1:3/5,4/5", "1:2:3/5,4/5", "1:0:1"))
    assert emb.children() == {"1:1": ["1:1", "1:2", "1:3"]}
    assert emb.target.arch.layers[0].channels == 4


def test_dense_children_are_units():
    problem, theta = load_example("example1")
    res = decide(chain(problem.network, steps("1:0:3/5,4/5")))
    assert res.to_json()["children"] == {"1:0": ["1:0", "1:1"]}
    assert "children     unit 1:0 -> units 1:0, 1:1" in repr(res)
    wit = res.properties["gradient_preserved"].extra["kink_equality"]["witness"]
    assert wit["unit_kind"] == "unit" and "kink_positions" not in wit
    assert wit["children"] == {"1:0": ["1:0", "1:1"]} and wit["flat_units"]["children"] == ["1:0", "1:1"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.integers(1, 4), st.integers(0, 2), st.integers(1, 3), st.booleans(), st.data())
def test_children_of_random_conv_splits(channels, length, unit, s, second, data):
    """Splitting channel u into s children gives wide channels u..u+s-1; a second split of a later
    channel v (in the wide net) leaves them and adds v's own children."""
    unit = min(unit, channels - 1)
    arch = {"input": [1, length], "layers": [{"conv": {"channels": channels, "kernel": 1, "activation": "relu"}},
                                             {"conv": {"channels": 1, "kernel": 1, "activation": "relu"}},
                                             "flatten", {"dense": {"width": 1}}]}
    coeffs = ",".join(["1/2"] * s)
    texts = [f"1:{unit}:{coeffs}"]
    expected = {f"1:{unit}": [f"1:{unit + i}" for i in range(s)]} if s > 1 else {}
    wide = channels + s - 1
    if second and unit + s < wide:
        v = data.draw(st.integers(unit + s, wide - 1))
        texts.append(f"1:{v}:1/2,1/2")
        # v is narrow channel v - s + 1; after its split the channels after it shift by one
        expected[f"1:{v - s + 1}"] = [f"1:{v}", f"1:{v + 1}"]
        wide += 1
    emb = chain(net_of(arch), steps(*texts))
    assert emb.children() == dict(sorted(expected.items()))
    assert emb.target.arch.layers[0].channels == wide
    # a child of narrow channel p copies p's incoming kernel: the map's rows say so (no flat units)
    for parent, kids in emb.children().items():
        p = int(parent.split(":")[1])
        for kid in kids:
            c = int(kid.split(":")[1])
            assert int(emb.index[c]) == p          # W1[c,0,0] comes from W1[p,0,0] (kernel 1, one input)


# -- the four cases of KKT transfer ------------------------------------------------------------
def example1_split(text, scale_unit0=1, scale=1):
    """example1's KKT point θ* (times ``scale``; unit 0's weights times ``scale_unit0``) and the map."""
    problem, theta = load_example("example1")
    theta = [t * scale for t in theta]
    # θ = (W1[0,0], W1[0,1], W1[1,0], W1[1,1], a0, a1): unit 0 is W1[0,:] and a0
    for i in (0, 1, 4):
        theta[i] = theta[i] * scale_unit0
    return problem, theta, chain(problem.network, steps(text))


def test_both_kkt_points():
    problem, theta, emb = example1_split("1:0:3/5,4/5")
    kt = decide(emb, problem.data, theta).properties["kkt_transfer"]
    assert kt.verdict == "holds"
    assert kt.reason.startswith("θ is a KKT point (") and " and Tθ is a KKT point (" in kt.reason
    assert "'θ is a KKT point' ⇔ 'Tθ is a KKT point' holds at this instance, with the same multipliers" in kt.reason


def test_neither_is_a_kkt_point():
    # θ = 2θ*: Φ is 2-homogeneous, so every margin is 4·q*_k ≥ 4 > 1; no constraint is active, and
    # θ = Σ λ_k y_k h_k with λ supported on the active set would force θ = 0. The isometric split
    # preserves the outputs, so the same holds for Tθ.
    problem, theta, emb = example1_split("1:0:3/5,4/5", scale=2)
    kt = decide(emb, problem.data, theta).properties["kkt_transfer"]
    assert kt.verdict == "holds"
    assert kt.reason.startswith("θ is not a KKT point (") and " and Tθ is not a KKT point (" in kt.reason
    assert "'θ is a KKT point' ⇔ 'Tθ is a KKT point' holds at this instance (both sides false" in kt.reason


def test_only_theta_is_a_kkt_point():
    # c = (1/2, 1/2): Σc² = 1/2, so unit 0's contribution halves; point 0, x = (1, 0), reaches the
    # output through unit 0 only (unit 1's pre-activation is −2^(−3/4) < 0): wide margin 1/2 < 1
    problem, theta, emb = example1_split("1:0:1/2,1/2")
    kt = decide(emb, problem.data, theta).properties["kkt_transfer"]
    assert kt.verdict == "refuted" and kt.witness["reason"] == "infeasible"
    assert kt.reason.startswith("θ is a KKT point (")
    assert "Tθ is not a KKT point (infeasible: margin of point 0 is 1/2 < 1)" in kt.reason
    assert "'θ is a KKT point' ⇒ 'Tθ is a KKT point' fails at this instance" in kt.reason


def test_only_t_theta_is_a_kkt_point():
    # the one-child split 1:0:2 doubles unit 0's incoming and outgoing weights, so with unit 0 of θ*
    # halved, Tθ = θ* (a KKT point of the same network), while θ's margin at point 0 is
    # (1/2)(1/2)·relu(1) = 1/4 < 1: the converse fails
    problem, theta, emb = example1_split("1:0:2", scale_unit0=R(1, 2))
    star = load_example("example1")[1]
    assert [sympy.simplify(a - b) for a, b in zip(emb.forward(theta), star)] == [0] * 6
    kt = decide(emb, problem.data, theta).properties["kkt_transfer"]
    assert kt.verdict == "refuted" and kt.witness == {"reason": "infeasible", "point": 0, "margin": "1/4"}
    assert kt.reason.startswith("θ is not a KKT point (infeasible: margin of point 0 is 1/4 < 1) and Tθ is a KKT")
    assert "the converse 'Tθ is a KKT point' ⇒ 'θ is a KKT point' fails at this instance" in kt.reason


# -- KKT directions ----------------------------------------------------------------------------
def deep_linear(theta_layers):
    """deep_linear's problem with θ = (W1, W2, a) given as sympy matrices, flattened row by row."""
    problem, _ = load_example("deep_linear")
    return problem, [v for M in theta_layers for v in M]


def hand_gradient(W1, W2, a, x):
    """∇Φ of Φ = a W2 W1 x (deep linear, L = 3): (W2ᵀaᵀ)xᵀ, aᵀ(W1x)ᵀ, (W2W1x)ᵀ, flattened row by row."""
    x = sympy.Matrix(x)
    return [*(W2.T * a.T * x.T), *(a.T * (W1 * x).T), *(W2 * W1 * x).T]


def parallel(u, v):
    """u = μ v for some μ > 0 (v ≠ 0)."""
    k = next(i for i, b in enumerate(v) if b != 0)
    mu = u[k] / v[k]
    return mu > 0 and all(sympy.simplify(a - mu * b) == 0 for a, b in zip(u, v))


DL_X0 = [3, 4]      # point 0 of deep_linear, y = +1; margins of the example's θ are 5, 7, 10


def test_split_of_a_known_kkt_direction_is_a_kkt_direction(capsys):
    # θ = (u vᵀ, e1 e1ᵀ, e1ᵀ) with v = (3/5, 4/5): margins 5, 7, 10, only point 0 active, and by hand
    # ∇Φ(θ; x0) = ([[3, 4], [0, 0]], [[5, 0], [0, 0]], [5, 0]) = 5θ, so θ = (1/5) y_0 h_0
    W1, W2, a = sympy.Matrix([[R(3, 5), R(4, 5)], [0, 0]]), sympy.Matrix([[1, 0], [0, 0]]), sympy.Matrix([[1, 0]])
    problem, theta = deep_linear([W1, W2, a])
    assert [5 * t for t in theta] == hand_gradient(W1, W2, a, DL_X0)
    arch, data, params = example_paths("deep_linear")
    code, out, _ = call(capsys, "embed", arch, data, params, "--split", "1:0:3/5,4/5", "--direction", "--json")
    kt = json.loads(out)["properties"]["kkt_transfer"]
    assert code == 0 and kt["verdict"] == "holds" and kt["claim"] == "kkt_direction"
    assert kt["narrow"]["multipliers"] == kt["wide"]["multipliers"] == ["1/5", "0", "0"]
    assert "'θ is a KKT direction' ⇔ 'Tθ is a KKT direction' holds at this instance" in kt["reason"]
    # the same θ is not a KKT point (q_min = 5 > 1: no active constraint), in neither network
    code, out, _ = call(capsys, "embed", arch, data, params, "--split", "1:0:3/5,4/5", "--json")
    kt = json.loads(out)["properties"]["kkt_transfer"]
    assert code == 0 and kt["claim"] == "kkt_point" and kt["verdict"] == "holds"
    assert kt["reason"].startswith("θ is not a KKT point (") and "Tθ is not a KKT point (" in kt["reason"]


def test_scaled_kkt_point_is_a_kkt_direction(example1_expected):
    # 2θ*: Φ 2-homogeneous, h_k(2θ*) = 2h_k(θ*), so 2θ* = Σ λ*_k y_k h_k(2θ*) with the same λ*
    # on the same active points (all margins scale by 4): a KKT direction, and so is T(2θ*)
    problem, theta, emb = example1_split("1:0:3/5,4/5", scale=2)
    res = decide(emb, problem.data, theta, direction=True)
    kt = res.properties["kkt_transfer"]
    lam = [str(m) for m in example1_expected["kkt"]["multipliers"]]
    assert res.verdict == "holds" and kt.verdict == "holds" and kt.extra["claim"] == "kkt_direction"
    assert kt.extra["narrow"]["multipliers"] == kt.extra["wide"]["multipliers"] == lam
    assert len(kt.proof) == 2                          # the multipliers transferred both ways


def test_unbalanced_point_is_not_a_kkt_direction_on_either_side():
    # negative control: W1 doubled. Only point 0 is active (margins 10, 14, 20); h_0 by hand is
    # ([[3, 4], [0, 0]], [[10, 0], [0, 0]], [10, 0]), not parallel to θ, so θ is no KKT direction
    W1, W2, a = sympy.Matrix([[R(6, 5), R(8, 5)], [0, 0]]), sympy.Matrix([[1, 0], [0, 0]]), sympy.Matrix([[1, 0]])
    problem, theta = deep_linear([W1, W2, a])
    assert not parallel(theta, hand_gradient(W1, W2, a, DL_X0))
    emb = chain(problem.network, steps("1:0:3/5,4/5"))
    kt = decide(emb, problem.data, theta, direction=True).properties["kkt_transfer"]
    assert kt.verdict == "holds"
    assert kt.reason.startswith("θ is not a KKT direction (") and "Tθ is not a KKT direction (" in kt.reason
    assert "holds at this instance (both sides false" in kt.reason


def test_critical_split_loses_the_kkt_direction():
    # the one-step split 1:0:1/2 copies unit 0's incoming row and halves its outgoing column. By hand
    # at Tθ (W̃1 rows v, v, 0; W̃2 = [[1/2, 1/2, 0], [0, 0, 0]]; ã = (1, 0)) and x0:
    # ∂Φ̃/∂W̃1 rows (1/2)x0, (1/2)x0, 0 and ∂Φ̃/∂W̃2[0, :] = (5, 5, 0); only point 0 is active, so
    # Tθ = μ h̃_0 would need μ = 2 (from W̃1) and μ = 1/10 (from W̃2): not a KKT direction
    W1, W2, a = sympy.Matrix([[R(3, 5), R(4, 5)], [0, 0]]), sympy.Matrix([[1, 0], [0, 0]]), sympy.Matrix([[1, 0]])
    problem, theta = deep_linear([W1, W2, a])
    emb = chain(problem.network, steps("1:0:1/2", kind="critical_split"))
    Wt1 = sympy.Matrix([[R(3, 5), R(4, 5)], [R(3, 5), R(4, 5)], [0, 0]])
    Wt2, at = sympy.Matrix([[R(1, 2), R(1, 2), 0], [0, 0, 0]]), sympy.Matrix([[1, 0]])
    eta = [*Wt1, *Wt2, *at]
    assert emb.forward(theta) == eta
    assert not parallel(eta, hand_gradient(Wt1, Wt2, at, DL_X0))
    kt = decide(emb, problem.data, theta, direction=True).properties["kkt_transfer"]
    assert kt.verdict == "refuted" and kt.witness["reason"] == "stationarity"
    assert kt.reason.startswith("θ is a KKT direction (") and "Tθ is not a KKT direction (stationarity" in kt.reason
    assert "'θ is a KKT direction' ⇒ 'Tθ is a KKT direction' fails at this instance" in kt.reason


def test_only_t_theta_is_a_kkt_direction():
    # 1:0:2 doubles unit 0's rows: with them halved in θ, Tθ is deep_linear's KKT direction, while
    # h_0(θ) = ([[3/2, 2], [0, 0]], [[5/2, 0], [0, 0]], [5/4, 0]) is not parallel to θ
    W1, W2 = sympy.Matrix([[R(3, 10), R(2, 5)], [0, 0]]), sympy.Matrix([[R(1, 2), 0], [0, 0]])
    a = sympy.Matrix([[1, 0]])
    problem, theta = deep_linear([W1, W2, a])
    assert not parallel(theta, hand_gradient(W1, W2, a, DL_X0))
    emb = chain(problem.network, steps("1:0:2"))
    assert emb.forward(theta) == deep_linear([sympy.Matrix([[R(3, 5), R(4, 5)], [0, 0]]),
                                              sympy.Matrix([[1, 0], [0, 0]]), a])[1]
    kt = decide(emb, problem.data, theta, direction=True).properties["kkt_transfer"]
    assert kt.verdict == "refuted"
    assert kt.reason.startswith("θ is not a KKT direction (") and " and Tθ is a KKT direction (" in kt.reason
    assert "the converse 'Tθ is a KKT direction' ⇒ 'θ is a KKT direction' fails" in kt.reason


# -- bad use of --direction ----------------------------------------------------------------------
def test_direction_needs_data_and_no_loss(capsys):
    arch, data, params = example_paths("example1")
    for extra in ([], [data, params, "--loss", "mse"]):
        code, out, err = call(capsys, "embed", arch, *extra, "--split", "1:0:3/5,4/5", "--direction")
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "--direction" in err
    with pytest.raises(ValueError):
        problem, theta = load_example("example1")
        decide(chain(problem.network, steps("1:0:3/5,4/5")), direction=True)


def test_direction_on_a_non_homogeneous_network_names_the_file(tmp_path, capsys):
    # a bias after the hidden layer: Φ(cθ) = c²(...) + c·b, not homogeneous, so no KKT direction
    arch, params = tmp_path / "a.yaml", tmp_path / "p.yaml"
    arch.write_text(yaml.safe_dump({"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                                             {"dense": {"width": 1, "bias": True}}]}))
    params.write_text(yaml.safe_dump([{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, 1]], "bias": [0]}]))
    _, data, _ = example_paths("example1")
    code, out, err = call(capsys, "embed", arch, data, params, "--split", "1:0:3/5,4/5", "--direction")
    assert code == 2 and out == "" and str(arch) in err and "homogeneous" in err
    assert len(err.strip().splitlines()) == 1
