"""Large exact decisions: the integer-matrix arithmetic and the fast input reading give exactly the
results of slow references (sympy matrices, Python integers, the JSON Schema validator)."""

import random
from fractions import Fraction as F

import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

from symkkt.api import load_example, load_problem
from symkkt.errors import SymkktInputError
from symkkt.field import ExactArray, NumberField, _apply, _matmul
from symkkt.numbers import exact_sign
from symkkt import spec

SQRT2, ROOT4 = sympy.sqrt(2), sympy.root(2, 4)
FIELDS = {"Q": sympy.Integer(1), "sqrt2": SQRT2, "root4": ROOT4}


def _random_number(rng, gen, big=False):
    """A random element of Q(gen): Σ r_i gen^i with random rationals (huge ones if ``big``)."""
    top = 10 ** 30 if big else 9
    deg = 1 if gen == 1 else (2 if gen == SQRT2 else 4)
    out = sympy.Integer(0)
    for i in range(deg):
        if rng.random() < 0.6:
            out += sympy.Rational(rng.randint(-top, top), rng.randint(1, top)) * gen ** i
    return out


def _matrix(rng, gen, m, n, big=False):
    return [[_random_number(rng, gen, big) for _ in range(n)] for _ in range(m)]


def _same(a, b):
    """Exact equality of nested lists of sympy numbers."""
    return all(sympy.expand(x - y) == 0 for x, y in zip(np.ravel(np.array(a, dtype=object)),
                                                         np.ravel(np.array(b, dtype=object))))


@pytest.mark.parametrize("name", sorted(FIELDS))
@pytest.mark.parametrize("big", [False, True])
def test_matmul_equals_sympy_matrix_product(name, big):
    rng = random.Random(hash((name, big)) % 1000)
    gen = FIELDS[name]
    K = NumberField(gen)
    for m, k, n in ((3, 4, 2), (1, 7, 5), (5, 1, 3)):
        A, B = _matrix(rng, gen, m, k, big), _matrix(rng, gen, k, n, big)
        got = (ExactArray.from_sympy(K, A) @ ExactArray.from_sympy(K, B)).to_sympy()
        want = (sympy.Matrix(A) * sympy.Matrix(B)).tolist()
        assert _same(got, want)
        # and a changed factor is told apart: A[0][0] + 1 changes row 0 by B's row 0 (made non-zero)
        B[0][0] += 1 if B[0][0] == 0 else 0
        A2 = [row[:] for row in A]
        A2[0][0] += 1
        want = (sympy.Matrix(A) * sympy.Matrix(B)).tolist()
        wrong = (ExactArray.from_sympy(K, A2) @ ExactArray.from_sympy(K, B)).to_sympy()
        assert not _same(wrong, want)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(FIELDS)), st.integers(0, 10 ** 6))
def test_elementwise_ops_and_signs_equal_sympy(name, seed):
    rng = random.Random(seed)
    gen = FIELDS[name]
    K = NumberField(gen)
    A, B = _matrix(rng, gen, 3, 4), _matrix(rng, gen, 3, 4)
    a, b = ExactArray.from_sympy(K, A), ExactArray.from_sympy(K, B)
    mA, mB = sympy.Matrix(A), sympy.Matrix(B)
    assert _same((a * b).to_sympy(), mA.multiply_elementwise(mB).tolist())
    assert _same((a + b).to_sympy(), (mA + mB).tolist())
    assert _same((a - b).to_sympy(), (mA - mB).tolist())
    assert _same(a.sum(axis=0).to_sympy(), [sum(mA[:, j]) for j in range(4)])
    assert _same(a.einsum("ij,kj->ikj", b).to_sympy(),
                 [[[A[i][j] * B[k][j] for j in range(4)] for k in range(3)] for i in range(3)])
    # signs: the batched decision against sympy's exact sign, one number at a time
    D = a - b
    assert D.sign().tolist() == [[exact_sign(sympy.expand(x - y)) for x, y in zip(r, s)] for r, s in zip(A, B)]


def test_signs_near_zero_are_exact():
    """Differences of order 10^-40 (below any float screen) and exact zeros get their exact sign."""
    K = NumberField(SQRT2)
    # (sqrt2 - 1)^k is a unit of size 0.414^k: tiny for k = 100, and its sign is +1 (k even or odd)
    tiny = sympy.expand((SQRT2 - 1) ** 100)
    vals = [tiny, -tiny, tiny - tiny, sympy.expand((1 - SQRT2) ** 101)]
    assert ExactArray.from_sympy(K, vals).sign().tolist() == [1, -1, 0, -1]


@pytest.mark.parametrize("bits,inner", [(20, 50), (26, 300), (31, 100), (40, 64), (70, 5)])
def test_integer_products_all_tiers_equal_python_ints(bits, inner):
    """float64 (BLAS), limbs with int64 or Python-int recombination, fmpz_mat: Python ints agree."""
    rng = random.Random(bits * inner)
    A = [[rng.randint(-2 ** bits, 2 ** bits) for _ in range(inner)] for _ in range(3)]
    B = [[rng.randint(-2 ** bits, 2 ** bits) for _ in range(4)] for _ in range(inner)]
    want = [[sum(A[i][t] * B[t][j] for t in range(inner)) for j in range(4)] for i in range(3)]
    kind = np.int64 if bits < 62 else object
    a, b = np.array(A, dtype=kind), np.array(B, dtype=kind)
    got = _apply(_matmul, a, b, 2 ** bits, 2 ** bits, inner)
    assert [[int(v) for v in row] for row in got] == want
    off = np.array(B, dtype=kind)
    off[0, 0] += 1
    assert [[int(v) for v in row] for row in _apply(_matmul, a, off, 2 ** bits, 2 ** bits, inner)] != want


# -- reading ---------------------------------------------------------------------------------------
def _random_points(rng, n, d=2):
    texts = ["0.1", "-0.25", "1/3", "sqrt(2)/2", "2^(-3/4)", "7", "-12.5e-1", "3/7 + sqrt(2)"]
    return [{"x": [rng.choice(texts) for _ in range(d)], "y": rng.choice(["1", "-1"])} for _ in range(n)]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10 ** 6))
def test_direct_check_agrees_with_the_schema_validator(seed):
    """On random valid and damaged data/parameter objects, the direct check never accepts what
    the JSON Schema validator refuses (so the validator's messages are kept)."""
    rng = random.Random(seed)
    data = {"points": _random_points(rng, rng.randint(1, 5))}
    params = [{"weight": [["1", "0.5"], ["sqrt(2)", "-1/3"]]}, {"weight": [["1", 2]], "bias": None}]
    damages = [lambda o: o["points"][0].update(z=1), lambda o: o["points"][0].update(y=None),
               lambda o: o["points"][0].update(x=[]), lambda o: o["points"][0].update(x=[[True]]),
               lambda o: o.update(extra=1), lambda o: o.update(points=[])]
    pdamages = [lambda o: o[0].update(weight=[[None]]), lambda o: o[1].update(bias=[[1]]),
                lambda o: o[0].update(other=1), lambda o: o.append("weight")]
    for obj, name, hurts in ((data, "data", damages), (params, "parameters", pdamages)):
        assert spec._conforms(obj, name) and spec._schema_error(obj, name) is None
        import copy

        bad = copy.deepcopy(obj)
        rng.choice(hurts)(bad)
        assert spec._schema_error(bad, name) is not None
        assert not spec._conforms(bad, name)


def test_architecture_direct_check_agrees_with_the_schema_validator():
    good = [{"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]},
            {"input": [1, 6], "layers": [{"conv": {"channels": 2, "kernel": 3, "activation":
                                                   {"leaky_relu": {"slope": "1/5"}}}},
                                         {"avgpool": {"kernel": [2]}}, "flatten", {"dense": {"width": 1, "bias": True}}]},
            {"input": [2], "layers": [{"dense": {"width": 2, "activation": {"polynomial": {"coeffs": [0, 1]}}}},
                                      {"flatten": None}, {"dense": {"width": 1, "activation": {"relu": {}}}}]}]
    bad = [{"input": [2], "layers": []}, {"input": [], "layers": ["flatten"]},
           {"input": [2], "layers": [{"dense": {"width": 2, "activation": "softmax"}}]},
           {"input": [2], "layers": [{"dense": {"width": 2, "bias": "yes"}}]},
           {"input": [2], "layers": [{"conv": {"channels": 2, "kernel": [1, 2, 3]}}]},
           {"input": [2], "layers": [{"dense": {"width": 2}, "conv": {"channels": 1, "kernel": 1}}]},
           {"input": [2], "layers": [{"dense": {"width": 2, "activation": {"leaky_relu": {}}}}]}]
    for obj in good:
        assert spec._conforms(obj, "architecture") and spec._schema_error(obj, "architecture") is None
    for obj in bad:
        assert spec._schema_error(obj, "architecture") is not None and not spec._conforms(obj, "architecture")


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_yaml_and_csv_readers_give_the_same_exact_numbers(tmp_path):
    rng = random.Random(3)
    pts = _random_points(rng, 40)
    yaml_text = "points:\n" + "".join(f"  - {{x: [\"{p['x'][0]}\", \"{p['x'][1]}\"], y: {p['y']}}}\n" for p in pts)
    csv_text = "x1,x2,y\n" + "".join(f"\"{p['x'][0]}\",\"{p['x'][1]}\",{p['y']}\n" for p in pts)
    d1 = spec.load_data(_write(tmp_path / "d.yaml", yaml_text))
    d2 = spec.load_data(_write(tmp_path / "d.csv", csv_text))
    assert d1.X == d2.X and d1.y == d2.y
    # 0.1 is exactly 1/10, and sqrt(2)/2 stays algebraic
    for p, x in zip(pts, d1.X):
        for text, v in zip(p["x"], x):
            if text == "0.1":
                assert v == sympy.Rational(1, 10)
            if text == "sqrt(2)/2":
                assert v == SQRT2 / 2
    # plain YAML decimals are exact too (the loader keeps scalars as text)
    d3 = spec.load_data(_write(tmp_path / "e.yaml", "points:\n  - {x: [0.1, 1e-3], y: 1}\n"))
    assert d3.X == ((sympy.Rational(1, 10), sympy.Rational(1, 1000)),)


BAD_DATA = [
    "points:\n  - {x: [1, 0], y: 1}\n  - {x: [1, 0], y: 1, z: 3}\n",
    "points:\n  - {x: [1, 0], y: 1}\n  - {x: [1, 0]}\n",
    "points:\n  - {x: [1, 0], y: 1}\n  - {x: [], y: 1}\n",
    "points:\n  - {x: [1, 0], y: 1}\n  - {x: [1, abc], y: 1}\n",
    "points: []\n",
    "points:\n  - {x: [1, 0], y: [1]}\n",
    "points:\n  - {x: [1, 0], y: 1}\nextra: 1\n",
    "points:\n  - {x: [1, 0], y: 1}\n  - {x: [1, 0], y: !!binary aGk=}\n",
]


@pytest.mark.parametrize("text", BAD_DATA)
def test_error_lines_are_those_of_the_schema_path(tmp_path, monkeypatch, text):
    """The same one-line error with the direct check as with the validator alone."""
    path = _write(tmp_path / "d.yaml", text)

    def message():
        try:
            spec.load_data(path)
        except SymkktInputError as err:
            return err.line()
        return None

    fast = message()
    monkeypatch.setattr(spec, "_conforms", lambda obj, name: False)
    slow = message()
    assert fast is not None and fast == slow


# -- a medium instance -----------------------------------------------------------------------------
def test_medium_split_instance_keeps_the_multipliers(tmp_path):
    """Width 128 (each hidden unit of example1 split into 64 children by (3/5, 4/5) repeatedly) and
    500 points: by the splitting theorem of [A] the split point is a KKT point with the same
    multipliers as example1's (1, sqrt(2)/2, 0), and every extra point keeps its margin, which is
    computed here independently: Φ(x) = relu(x1) − relu(x2 − x1)/2 for example1's θ."""
    import os
    import sys
    import time

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
    import bench_kkt

    paths = bench_kkt.write_split_case(str(tmp_path), 128, 500, random.Random(5))
    start = time.perf_counter()
    problem, theta = load_problem(paths["arch.yaml"], paths["data.yaml"], paths["params.yaml"])
    result = problem.decide(theta)
    seconds = time.perf_counter() - start
    base = load_example("example1")[0].decide(load_example("example1")[1])
    assert result.verdict == "holds"
    assert result.multipliers[:3] == base.multipliers and all(m == 0 for m in result.multipliers[3:])
    for x, y, q in zip(problem.data.X, problem.data.y, result.margins):
        fx = [F(int(v.p), int(v.q)) for v in x]
        assert sympy.Rational(int(y) * bench_kkt.example1_phi(fx)) == q
    assert result.active == [0, 1]
    assert seconds < 30
    # the CSV file gives the same decision
    problem2, theta2 = load_problem(paths["arch.yaml"], paths["data.csv"], paths["params.yaml"])
    assert problem2.decide(theta2).multipliers == result.multipliers
    # and a point moved onto the margin-1 boundary from outside is refused as infeasible when pushed in
    X = [list(x) for x in problem.data.X]
    X[3] = [v / 4 for v in X[3]]          # margin in (1, 3] divided by 4: below 1 (Φ is 1-homogeneous in x)
    from symkkt.spec import Dataset
    from symkkt.kkt import MaxMarginProblem

    shrunk = MaxMarginProblem(problem.network, Dataset(X, problem.data.y)).decide(theta)
    assert shrunk.verdict == "refuted" and shrunk.witness["reason"] == "infeasible"
