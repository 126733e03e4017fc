"""What ``symkkt kkt`` reports: uniqueness of the multipliers, kinks with their conv reading,
0-based point numbers, the span/cone wording and non-homogeneous nets.

Expected values are computed here by hand or by a separate exact computation (sympy matrices),
never read back from the code under test.
"""

from __future__ import annotations

import json

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from conftest import call
from symkkt.api import example_paths, load_problem

R = sympy.Rational


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def linear_problem(tmp_path, points, w):
    """A one-layer linear net Φ = w·x (so ∇_w Φ(w; x) = x) with DATA points ``[(x, y)]``."""
    arch = write(tmp_path, "arch.yaml", "input: [2]\nlayers:\n  - dense: {width: 1}\n")
    rows = "".join(f"  - {{x: [{x[0]}, {x[1]}], y: {y}}}\n" for x, y in points)
    data = write(tmp_path, "data.yaml", "points:\n" + rows)
    params = write(tmp_path, "params.yaml", f"- weight: [[{w[0]}, {w[1]}]]\n")
    return arch, data, params


def kkt_json(capsys, *args):
    code, out, err = call(capsys, "kkt", *args, "--json")
    return code, json.loads(out)


def combination(lam, points):
    """Σ λ_k y_k x_k, exactly (the gradient of w·x is x)."""
    return [sum(sympy.sympify(l) * y * sympy.sympify(x[i]) for l, (x, y) in zip(lam, points)) for i in range(2)]


# -- 1. uniqueness of the multipliers ----------------------------------------------------------
def test_dependent_gradients_give_a_second_multiplier_vector(tmp_path, capsys):
    # x_3 = (x_1 + x_2)/2: θ = (1, 1) = 1·x_1 + 1·x_2 = 2·x_3, all margins 1
    points = [((1, 0), 1), ((0, 1), 1), ((R(1, 2), R(1, 2)), 1)]
    code, obj = kkt_json(capsys, *linear_problem(tmp_path, points, (1, 1)))
    assert code == 0 and obj["verdict"] == "holds" and obj["active_set"] == [0, 1, 2]
    assert obj["multipliers_unique"] is False
    first = [sympy.sympify(v) for v in obj["multipliers"]]
    second = [sympy.sympify(v) for v in obj["second_multipliers"]]
    assert first != second
    for lam in (first, second):
        assert all(v >= 0 for v in lam)
        assert combination(lam, points) == [1, 1]         # θ = Σ λ_k y_k ∇Φ(θ; x_k), substituted
    code, out, _ = call(capsys, "kkt", *linear_problem(tmp_path, points, (1, 1)))
    assert sum(line.strip().startswith("unique") for line in out.splitlines()) == 1
    assert "unique       no" in out


def test_independent_gradients_give_unique_multipliers(capsys):
    # example1: Φ = v_1 relu(w_1·x) + v_2 relu(w_2·x); the active gradients, by hand
    code, obj = kkt_json(capsys, *example_paths("example1"))
    assert code == 0 and obj["active_set"] == [0, 1]
    c = 2 ** R(-3, 4)
    w = [[1, 0], [-c, c]]
    v = [1, -2 ** R(-1, 4)]
    grads = []
    for x in ([1, 0], [-1, 1]):
        z = [sum(a * b for a, b in zip(row, x)) for row in w]
        g = [v[j] * (1 if z[j] > 0 else 0) * xi for j in range(2) for xi in x] + [max(zj, 0) for zj in z]
        grads.append(g)
    assert sympy.Matrix(grads).rank() == 2              # independent: λ is unique
    assert obj["multipliers_unique"] is True and "second_multipliers" not in obj


def test_svm_multipliers_unique_negative_control(capsys):
    # the SVM example: active x = (1, 0), (0, 1) are independent, λ = (1, 1, 0) is the only one
    code, obj = kkt_json(capsys, *example_paths("svm"))
    assert obj["multipliers_unique"] is True
    assert [sympy.sympify(v) for v in obj["multipliers"]] == [1, 1, 0]


@settings(max_examples=20, deadline=None)
@given(a=st.fractions(-3, 3, max_denominator=4), b=st.fractions(-3, 3, max_denominator=4),
       n=st.integers(2, 3), ts=st.lists(st.integers(-3, 3), min_size=2, max_size=2),
       ls=st.lists(st.integers(1, 4), min_size=3, max_size=3), flips=st.lists(st.booleans(), min_size=3, max_size=3))
def test_uniqueness_matches_linear_independence(tmp_path_factory, a, b, n, ts, ls, flips):
    # points on w·x = 1 with a strictly positive λ: λ is unique iff the x_k are independent
    if a == 0 and b == 0:
        return
    a, b = R(a.numerator, a.denominator), R(b.numerator, b.denominator)
    w2 = a * a + b * b
    t = list(ts[:n - 1])
    t.append(-sum(l * s for l, s in zip(ls, t)) / R(ls[n - 1]))
    xs = [(a / w2 - s * b, b / w2 + s * a) for s in t]
    points = [((-x[0], -x[1]), -1) if f else (x, 1) for x, f in zip(xs, flips)]
    problem, theta = load_problem(*linear_problem(tmp_path_factory.mktemp("u"), points, (a, b)))
    obj = problem.decide(theta).to_json()
    assert obj["verdict"] == "holds"
    independent = sympy.Matrix([list(x) for x in xs]).rank() == n
    assert obj["multipliers_unique"] is independent
    if not independent:
        lam2 = [sympy.sympify(v) for v in obj["second_multipliers"]]
        assert all(v >= 0 for v in lam2) and combination(lam2, points) == [a, b]
        assert lam2 != [sympy.sympify(v) for v in obj["multipliers"]]


# -- 2 and 6. kinks per point, with the conv reading, and the set ------------------------------
def test_conv_refutation_names_kinks_channels_positions_and_set(capsys, tmp_path):
    # conv_tied: input [1, 3], conv {channels: 2, kernel: 2}: 2 channels × 2 positions, flat unit
    # u = 2·channel + position. On x_0 = (1, 1, 1) channel 0 sees 1 − 1 = 0 at both positions.
    files = example_paths("conv_tied")
    code, obj = kkt_json(capsys, *files)
    assert code == 1 and obj["verdict"] == "refuted"
    assert obj["kinks"] == {"0": {"1:0": {"weight_layer": 1, "unit": 0, "channel": 0, "position": [0]},
                                  "1:1": {"weight_layer": 1, "unit": 1, "channel": 0, "position": [1]}}}
    assert obj["clarke_set"] == "clarke"
    code, out, _ = call(capsys, "kkt", *files)
    assert "kinks        point 0: 1:0 (channel 0, position [0]), 1:1 (channel 0, position [1])" in out
    assert "Clarke set   clarke:" in out
    # the certificate keeps the flat labels, and the kernel still accepts it
    cert = tmp_path / "c.json"
    call(capsys, "kkt", *files, "--cert", cert)
    text = cert.read_text()
    assert "\"1:0\"" in text and "\"channel\":" not in text and "\"position\"" not in text
    code, out, _ = call(capsys, "verify", cert)
    assert code == 0, out


def test_dense_kinks_have_no_conv_reading(capsys):
    # kink example: unit 1 of the first layer sits on its kink at point 0
    code, obj = kkt_json(capsys, *example_paths("kink"))
    assert obj["kinks"] == {"0": {"1:1": {"weight_layer": 1, "unit": 1}}}


@settings(max_examples=15, deadline=None)
@given(channels=st.integers(1, 3), length=st.integers(2, 6), kernel=st.integers(1, 2), data=st.data())
def test_unit_reading_inverts_row_major_flattening(tmp_path_factory, channels, length, kernel, data):
    from symkkt.network import Network
    from symkkt.spec import load_architecture
    arch = write(tmp_path_factory.mktemp("conv"), "arch.yaml",
                 f"input: [1, {length}]\nlayers:\n  - conv: {{channels: {channels}, kernel: {kernel}, "
                 "activation: relu}\n  - flatten: {}\n  - dense: {width: 1}\n")
    net = Network(load_architecture(arch))
    positions = length - kernel + 1
    c, p = data.draw(st.integers(0, channels - 1)), data.draw(st.integers(0, positions - 1))
    # numpy's row-major flat index of (c, p) in a (channels, positions) array, computed separately
    import numpy as np
    flat = int(np.ravel_multi_index((c, p), (channels, positions)))
    assert net.unit_reading(0, flat) == {"weight_layer": 1, "unit": flat, "channel": c, "position": [p]}


# -- 3. 0-based point numbers --------------------------------------------------------------------
def test_points_are_zero_based_everywhere(tmp_path, capsys):
    # w = (1, 1/2): margins 1, 1/2, 3/2, so the second point of the file (index 1) is infeasible
    points = [((1, 0), 1), ((0, 1), 1), ((-1, -1), -1)]
    files = linear_problem(tmp_path, points, (1, R(1, 2)))
    code, obj = kkt_json(capsys, *files)
    assert code == 1 and obj["witness"]["point"] == 1
    assert "margin of point 1 is 1/2 < 1" in obj["reason"]
    problem, _ = load_problem(*files)
    assert "k = 0..2" in repr(problem)
    # the kink example's kink sits on the first point of the file: index 0
    code, obj = kkt_json(capsys, *example_paths("kink"))
    assert list(obj["kinks"]) == ["0"] and obj["clarke"][0]["point"] == 0


# -- 4. span versus cone -----------------------------------------------------------------------
def test_span_wording_only_for_inconsistent_equations(tmp_path, capsys):
    # active point (0, 1) alone (margins 2, 1, 3): θ = (2, 1) is not a multiple of (0, 1)
    code, obj = kkt_json(capsys, *linear_problem(tmp_path, [((1, 0), 1), ((0, 1), 1), ((-1, -1), -1)], (2, 1)))
    assert code == 1 and "not in the span of the gradients" in obj["reason"]
    # x = (1, 1), (1, 2), both margins 1 at θ = (1, 0): θ = 2·x_1 − 1·x_2 (in the span, λ_2 < 0,
    # the only solution since the x_k are independent), so θ is outside the cone only
    assert sympy.Matrix([[1, 1], [1, 2]]).T.solve(sympy.Matrix([1, 0])) == sympy.Matrix([2, -1])
    code, obj = kkt_json(capsys, *linear_problem(tmp_path, [((1, 1), 1), ((1, 2), 1)], (1, 0)))
    assert code == 1 and "span" not in obj["reason"]
    assert "not in the cone of the gradients: no non-negative multipliers" in obj["reason"]
    farkas = [sympy.sympify(v) for v in obj["witness"]["farkas"]]
    # a sign Farkas vector: y·x_k ≥ 0 on both columns, y·θ < 0
    assert farkas[0] + farkas[1] >= 0 and farkas[0] + 2 * farkas[1] >= 0 and farkas[0] < 0


# -- 5. nets that are not positively homogeneous ---------------------------------------------
NON_HOMOGENEOUS = {
    "tanh": ("  - dense: {width: 2, activation: tanh}\n  - dense: {width: 1}\n", ""),
    "bias2": ("  - dense: {width: 2, activation: relu}\n  - dense: {width: 1, bias: true}\n", "  bias: [0]\n"),
    "poly": ("  - dense: {width: 2, activation: {polynomial: {coeffs: [0, 1, 1]}}}\n  - dense: {width: 1}\n", ""),
}


@pytest.mark.parametrize("name", sorted(NON_HOMOGENEOUS))
def test_non_homogeneous_nets_are_treated_alike(name, tmp_path, capsys):
    layers, bias = NON_HOMOGENEOUS[name]
    arch = write(tmp_path, "arch.yaml", "input: [2]\nlayers:\n" + layers)
    data = write(tmp_path, "data.yaml", "points:\n  - {x: [1, 0], y: 1}\n  - {x: [-1, 1], y: -1}\n")
    params = write(tmp_path, "params.yaml", "- weight: [[1, 0], [0, 1]]\n- weight: [[1, -1]]\n" + bias)
    code, out, _ = call(capsys, "info", arch)
    assert code == 1                                    # info: not positively homogeneous
    # a KKT point of P_Φ is defined for any net: decided where exact, never exit 2
    code, obj = kkt_json(capsys, arch, data, params)
    if name == "tanh":
        assert code == 3 and obj["reason"].startswith("not positively homogeneous")
    else:
        assert code in (0, 1)
    # a KKT direction needs homogeneity: exit 2, one line
    code, out, err = call(capsys, "kkt", arch, data, params, "--direction")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "homogeneous" in err


def test_second_multipliers_at_a_kink_substitute_exactly(tmp_path, capsys):
    # the kink example with its kink point listed twice. By hand (θ = (w_1; w_2; v) =
    # (0, 1; 1/2, 0; 1, 1/2)): on x = (0, 1) unit 1 is at its kink and a Clarke element with slope
    # s ∈ [0, 1] is h(s) = (0, 1, 0, s/2, 1, 0); on x = (4, −1) h = (0, 0, 2, −1/2, 0, 2).
    # θ = λ_a h(s_a) + λ_b h(s_b) + λ_2 h_2 ⇔ λ_a + λ_b = 1, λ_2 = 1/4, λ_a s_a + λ_b s_b = 1/4:
    # many solutions.
    arch, _, params = example_paths("kink")
    data = write(tmp_path, "data.yaml", "points:\n  - {x: [0, 1], y: 1}\n  - {x: [0, 1], y: 1}\n"
                                        "  - {x: [4, -1], y: 1}\n")
    code, obj = kkt_json(capsys, arch, data, params)
    assert code == 0 and obj["multipliers_unique"] is False
    theta = [0, 1, R(1, 2), 0, 1, R(1, 2)]

    def h(k, s):
        return [0, 1, 0, s / 2, 1, 0] if k < 2 else [0, 0, 2, R(-1, 2), 0, 2]

    for lam_key, clarke_key in (("multipliers", "clarke"), ("second_multipliers", "second_clarke")):
        lam = [sympy.sympify(v) for v in obj[lam_key]]
        slopes = {e["point"]: e["terms"] for e in obj[clarke_key]}
        total = [0] * 6
        for k in range(3):
            if lam[k] == 0:
                continue
            terms = slopes.get(k, [{"weight": str(lam[k]), "slopes": {}}])
            assert sum(sympy.sympify(t["weight"]) for t in terms) == lam[k]
            for t in terms:
                s = sympy.sympify(t["slopes"].get("1:1", 1))
                assert 0 <= s <= 1
                total = [a + sympy.sympify(t["weight"]) * b for a, b in zip(total, h(k, s))]
        assert total == theta and all(v >= 0 for v in lam)
    assert obj["multipliers"] != obj["second_multipliers"]
