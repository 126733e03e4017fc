"""Canonical forms and the same-function test of shallow ReLU realizations on a box (symkkt.realize).

Every check compares with an independent computation: pointwise exact evaluation of the
parameters, hand-derived forms, and the deeper-net region enumeration.
"""

import json
import os
from fractions import Fraction as F

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import call
from symkkt.realize.canonical import canonical_form, neuron_kind, same_realization
from symkkt.realize.net import ShallowNet, to_domain
from symkkt.realize.regions import DeepNet, region_same

Q = st.fractions(min_value=-3, max_value=3, max_denominator=4)


def nets(d, max_m=5):
    return st.integers(0, max_m).flatmap(lambda m: st.tuples(
        st.lists(st.lists(Q, min_size=d, max_size=d), min_size=m, max_size=m),
        st.lists(Q, min_size=m, max_size=m), st.lists(Q, min_size=m, max_size=m), Q)).map(
        lambda t: ShallowNet.of(*t, d=d))


def points(d):
    return st.lists(st.fractions(min_value=F(-49, 50), max_value=F(49, 50), max_denominator=50),
                    min_size=d, max_size=d)


@pytest.mark.parametrize("d", [1, 2, 3])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_canonical_form_equals_parameters_pointwise(d, data):
    # R(x) from the canonical form equals R(x) = sum a_i relu(w_i.x + b_i) + c computed by hand
    net = data.draw(nets(d))
    form = canonical_form(net)
    for _ in range(4):
        x = data.draw(points(d))
        direct = sum((F(int(a.p), int(a.q)) * max(sum(F(int(w.p), int(w.q)) * xi for w, xi in zip(row, x))
                                                    + F(int(b.p), int(b.q)), 0)
                      for row, b, a in zip(net.W, net.b, net.a)), F(int(net.c.p), int(net.c.q)))
        val = form(tuple(to_domain(x)))
        assert F(int(val.p), int(val.q)) == direct
    # normalization: max |n_j| = 1, first non-zero entry positive, mu != 0
    for (n, beta), mu in form.hyperplanes.items():
        assert max(abs(v) for v in n) == 1 and next(v for v in n if v != 0) > 0 and mu != 0


def test_canonical_form_by_hand():
    # |x| = relu(x) + relu(-x) = 2 relu(x) - x; relu(2x - 4) is dead on (-1, 1); relu(x + 3) is affine
    net = ShallowNet.of([[1], [-1], [2], [1]], [0, 0, -4, 3], [1, 1, 5, "1/2"], 1)
    form = canonical_form(net)
    one, zero = to_domain([1, 0])
    assert form.hyperplanes == {((one,), zero): 2}
    assert form.v == tuple(to_domain([F(-1, 2)])) and form.c == to_domain([F(5, 2)])[0]
    assert form.dead == (2,) and form.affine == (3,)
    # on the box (0, 5) the first neuron is affine and the others change roles: relu(2x - 4) kinks at 2
    form5 = canonical_form(net, 0, 5)
    assert set(form5.hyperplanes) == {((one,), to_domain([-2])[0])} and form5.affine == (0, 3)
    assert form5.dead == (1,)


def test_visibility_is_for_the_open_box():
    # relu(x - 1) touches the closed box [-1, 1] at 1 only: dead; relu(x + 1): affine; relu(x): visible
    lo, hi = to_domain([-1, 1])
    kinds = [neuron_kind(tuple(to_domain([1])), to_domain([b])[0], lo, hi) for b in (-1, 1, 0)]
    assert kinds == ["dead", "affine", "visible"]
    # 2-D: |b| < ||w||_1 on (-1, 1)^2: w = (1, 1), b = 2 - 1/10 is visible, b = 2 is affine
    assert neuron_kind(tuple(to_domain([1, 1])), to_domain([F(19, 10)])[0], lo, hi) == "visible"
    assert neuron_kind(tuple(to_domain([1, 1])), to_domain([2])[0], lo, hi) == "affine"


def _merged_pair():
    # A: relu(x1) + 2 relu(x2 - 1/2) + relu(x1 + x2 + 3) - relu(x1 - x2) (third neuron affine on the box)
    A = ShallowNet.of([[1, 0], [0, 1], [1, 1], [1, -1]], [0, "-1/2", 3, 0], [1, 2, 1, -1], 0)
    # permuted, rescaled (neuron 1 by 2), split (neuron 0 as 1/3 + 2/3, the second copy scaled by 3),
    # affine neuron folded: x1 + x2 + 3 = relu(x1 + x2) - relu(-x1 - x2) + 3
    B = ShallowNet.of([[1, -1], [0, 2], [1, 0], [3, 0], [1, 1], [-1, -1]], [0, -1, 0, 0, 0, 0],
                      [-1, 1, "1/3", "2/9", 1, -1], 3)
    return A, B


def test_same_realization_holds_for_reparametrizations():
    A, B = _merged_pair()
    assert same_realization(A, B) == (True, None)
    # independent check: the values agree on a grid (a necessary condition)
    grid = [F(k, 7) for k in range(-6, 7)]
    assert all(A(to_domain([x, y])) == B(to_domain([x, y])) for x in grid for y in grid)
    # and permutations / positive rescalings of A itself
    C = A.permuted([3, 1, 0, 2]).scaled(0, F(5, 3)).scaled(2, 7)
    assert same_realization(A, C) == (True, None)


@pytest.mark.parametrize("shift", [F(1, 100), F(-1, 10**6)])
def test_tiny_bias_shift_is_refuted_with_a_real_witness(shift):
    A, B = _merged_pair()
    b = list(B.b)
    b[2] = b[2] + to_domain([shift])[0]
    C = ShallowNet(B.W, tuple(b), B.a, B.c, B.d)
    same, x = same_realization(A, C)
    assert not same
    assert all(-1 < v < 1 for v in x)                 # inside the open box
    assert A(x) != C(x)                               # the values really differ there


def test_same_on_a_smaller_box_only():
    # relu(x - 1/2) vanishes on (-1, 1/2): the zero net realizes the same function on (-1, 0) but not on (-1, 1)
    f = ShallowNet.of([[1]], ["-1/2"], [1], 0)
    z = ShallowNet.of([[1]], [0], [0], 0)
    assert same_realization(f, z, -1, 0) == (True, None)
    same, x = same_realization(f, z, -1, 1)
    assert not same and f(x) != z(x) and x[0] > to_domain([F(1, 2)])[0]


def test_witness_when_forms_differ_only_by_jumps_through_the_center():
    # relu(x1 + x2) vs relu(x1) + relu(x2): both vanish at the center; the witness is elsewhere
    f = ShallowNet.of([[1, 1]], [0], [1], 0)
    g = ShallowNet.of([[1, 0], [0, 1]], [0, 0], [1, 1], 0)
    same, x = same_realization(f, g)
    assert not same and f(x) != g(x) and all(-1 < v < 1 for v in x)


def test_algebraic_parameters():
    # relu(sqrt(2) x - 1) = sqrt(2) relu(x - sqrt(2)/2): the same function; with sqrt(3) not
    a = ShallowNet.of([["sqrt(2)"]], ["-1"], [1], 0)
    b = ShallowNet.of([[1]], ["-sqrt(2)/2"], ["sqrt(2)"], 0)
    c = ShallowNet.of([[1]], ["-sqrt(2)/2"], ["sqrt(3)"], 0)
    assert same_realization(a, b) == (True, None)
    same, x = same_realization(a, c, "-sqrt(2)", 1)
    assert not same and a(x) != c(x)


def test_deeper_net_same_as_shallow():
    # relu(relu(x1) + relu(-x1)) = |x1| and the identity layer relu(h) = h on h >= 0
    deep = DeepNet.of([([[1, 0], [-1, 0], [0, 1]], [0, 0, 0]),
                       ([[1, 1, 0], [0, 0, 1]], [0, 0]),
                       ([[1, 2]], ["1/2"])])
    shallow = ShallowNet.of([[1, 0], [-1, 0], [0, 1]], [0, 0, 0], [1, 1, 2], "1/2")
    assert region_same(deep, shallow) == (True, None)
    other = ShallowNet.of([[1, 0], [-1, 0], [0, 1]], [0, 0, "1/10"], [1, 1, 2], "1/2")
    same, x = region_same(deep, other)
    assert not same and deep(x) != other(x)


# -- CLI ----------------------------------------------------------------------------------------------
def _write(tmp_path, name, obj):
    path = tmp_path / name
    path.write_text(json.dumps(obj))
    return str(path)


def _arch(d, m, act="relu"):
    return {"input": [d], "layers": [{"dense": {"width": m, "activation": act, "bias": True}},
                                     {"dense": {"width": 1, "bias": True}}]}


def _files(tmp_path, net, name):
    return _write(tmp_path, name, net.to_params_json())


def test_cli_holds_refuted_and_certificates(tmp_path, capsys):
    A, B = _merged_pair()
    arch = _write(tmp_path, "arch.json", _arch(2, 4))
    pa, pb = _files(tmp_path, A, "a.json"), _files(tmp_path, B, "b.json")      # B has width 6
    cert = str(tmp_path / "same.json")
    code, out, err = call(capsys, "realize", arch, pa, pb, "--json", "--cert", cert)
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "holds" and obj["distance"]["sup"] == "0"
    kernel = pytest.importorskip("symkkt.kernel.realize")
    assert kernel
    from conftest import assert_valid

    assert_valid(json.load(open(cert)), "equal")
    b = B.to_params_json()
    b[0]["bias"][2] = "1/100"
    pc = _write(tmp_path, "c.json", b)
    cert2, cert3 = str(tmp_path / "diff.json"), str(tmp_path / "dist.json")
    code, out, err = call(capsys, "realize", "--cert", cert2, arch, pa, pc, "--cert-distance", cert3, "--json")
    obj = json.loads(out)
    assert code == 1 and obj["verdict"] == "refuted" and obj["witness"]["R_A"] != obj["witness"]["R_B"]
    assert_valid(json.load(open(cert2)), "!=")
    assert_valid(json.load(open(cert3)), "exact distances")
    code, out, _ = call(capsys, "verify", cert, cert2, cert3)
    assert code == 0


def test_cli_one_net_canonical_form(tmp_path, capsys):
    arch = _write(tmp_path, "arch.json", _arch(1, 2))
    p = _write(tmp_path, "p.json", [{"weight": [["1"], ["-1"]], "bias": ["0", "0"]},
                                    {"weight": [["1", "1"]], "bias": ["0"]}])
    code, out, _ = call(capsys, "realize", arch, p, "--json")
    obj = json.loads(out)
    # |x| = 2 relu(x) - x
    assert code == 0 and obj["verdict"] == "holds"
    assert obj["canonical_A"]["hyperplanes"] == [{"normal": ["1"], "offset": "0", "jump": "2", "neurons": [0, 1]}]
    assert obj["canonical_A"]["linear"] == ["-1"]


@pytest.mark.parametrize("case, pattern", [
    ("tanh", "activation tanh"),
    ("domain", "LO < HI"),
    ("dims", "input dimension"),
    ("files", "ARCH PARAMS"),
])
def test_cli_bad_input(tmp_path, capsys, case, pattern):
    arch = _write(tmp_path, "arch.json", _arch(1, 1, "tanh" if case == "tanh" else "relu"))
    p = _write(tmp_path, "p.json", [{"weight": [["1"]], "bias": ["0"]}, {"weight": [["1"]], "bias": ["0"]}])
    q = _write(tmp_path, "q.json", [{"weight": [["1", "2"]], "bias": ["0"]}, {"weight": [["1"]], "bias": ["0"]}])
    args = {"tanh": [arch, p], "domain": [arch, p, "--domain", "1,1"], "dims": [arch, p, q],
            "files": [arch]}[case]
    code, out, err = call(capsys, "realize", *args, "--json")
    assert code == 2 and len(err.strip().splitlines()) == 1 and pattern in err, err
    assert json.loads(out)["verdict"] == "error"


def test_cli_net_without_biases(tmp_path, capsys):
    # a missing bias is zero: relu(x) vs relu(x) + 0 with biases written out
    arch = _write(tmp_path, "arch.json", {"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu"}},
                                                                    {"dense": {"width": 1}}]})
    p = _write(tmp_path, "p.json", [{"weight": [["1"]]}, {"weight": [["1"]]}])
    q = _write(tmp_path, "q.json", [{"weight": [["2"]], "bias": ["0"]}, {"weight": [["1/2"]], "bias": ["0"]}])
    code, out, err = call(capsys, "realize", arch, p, q, "--json")
    assert code == 0 and json.loads(out)["verdict"] == "holds", err


def test_cli_family_table(capsys):
    pytest.importorskip("symkkt.realize.families")
    code, out, err = call(capsys, "realize", "--family", "P1", "--k", "10,100", "--json")
    assert code == 0 and json.loads(out)["family"] == "P1"
    code, out, err = call(capsys, "realize", "--family", "P1", "--k", "0")
    assert code == 2


def test_cli_deep_same(tmp_path, capsys):
    arch = _write(tmp_path, "deep.json", {"input": [1], "layers": [
        {"dense": {"width": 2, "activation": "relu", "bias": True}},
        {"dense": {"width": 1, "activation": "relu", "bias": True}}, {"dense": {"width": 1, "bias": True}}]})
    p = _write(tmp_path, "p.json", [{"weight": [["1"], ["-1"]], "bias": ["0", "0"]},
                                    {"weight": [["1", "1"]], "bias": ["0"]}, {"weight": [["1"]], "bias": ["0"]}])
    q = _write(tmp_path, "q.json", [{"weight": [["1"], ["-1"]], "bias": ["0", "0"]},
                                    {"weight": [["1", "1"]], "bias": ["0"]}])       # |x| as a shallow net
    code, out, err = call(capsys, "realize", arch, p, q, "--json")
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "holds" and obj["distance"]["method"] == "regions", err
