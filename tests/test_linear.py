"""Tests for symkkt.linear: exact feasibility of A x = b, x >= 0 with certificates."""
import itertools
import random
import time
from fractions import Fraction as F

import pytest
from hypothesis import given, settings, strategies as st

from symkkt.linear import Feasible, Infeasible, nonnegative_solution, rank_profile


def sgn(v):
    return (v > 0) - (v < 0)


def fr(M):
    return [[F(v) for v in row] for row in M]


def check(A, b, res, zero=F(0), sign=sgn):
    """Independent check of a certificate; returns True for Feasible."""
    n = len(A[0]) if A else 0
    if isinstance(res, Feasible):
        assert len(res.x) == n and all(sign(v) >= 0 for v in res.x)
        for a, bi in zip(A, b):
            s = zero
            for u, v in zip(a, res.x):
                s = s + u * v
            assert s == bi
        return True
    assert isinstance(res, Infeasible) and len(res.y) == len(A)
    yA = [sum((res.y[i] * A[i][j] for i in range(len(A))), zero) for j in range(n)]
    yb = sum((yi * bi for yi, bi in zip(res.y, b)), zero)
    assert sign(yb) < 0 and all(sign(v) >= 0 for v in yA)
    assert res.kind in ("inconsistent", "sign")
    if res.kind == "inconsistent":
        assert all(v == zero for v in yA)
    return False


def solve(A, b):
    """Unique solution of A z = b (A with independent columns) or None if inconsistent."""
    m, n = len(A), len(A[0])
    T = [list(A[i]) + [b[i]] for i in range(m)]
    r = 0
    for c in range(n):
        p = next((i for i in range(r, m) if T[i][c] != 0), None)
        if p is None:
            return None
        T[r], T[p] = T[p], T[r]
        T[r] = [v / T[r][c] for v in T[r]]
        for i in range(m):
            if i != r and T[i][c] != 0:
                T[i] = [u - T[i][c] * v for u, v in zip(T[i], T[r])]
        r += 1
    if any(T[i][n] != 0 for i in range(r, m)):
        return None
    return [T[i][n] for i in range(n)]


def brute_force(A, b):
    """Feasible iff some basic solution (independent support columns) is >= 0."""
    m, n = len(A), len(A[0]) if A else 0
    if all(v == 0 for v in b):
        return True
    for size in range(1, min(m, n) + 1):
        for S in itertools.combinations(range(n), size):
            sub = [[A[i][j] for j in S] for i in range(m)]
            if len(rank_profile(sub, F(0), F(1))[0]) < size:
                continue
            z = solve(sub, b)
            if z is not None and all(v >= 0 for v in z):
                return True
    return False


# ---------------------------------------------------------------- hand examples

def test_unique_feasible():
    A, b = fr([[1, 1], [1, -1], [2, 0], [0, 2]]), fr([[3, 1, 4, 2]])[0]
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert res == Feasible([F(2), F(1)]) and check(A, b, res)


def test_multiple_solutions_feasible():
    A, b = fr([[1, 1, 1], [1, 2, 3]]), fr([[1, 2]])[0]
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert check(A, b, res)


def test_inconsistent():
    A, b = fr([[1, 0], [0, 1], [1, 1]]), fr([[1, 1, 3]])[0]
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert isinstance(res, Infeasible) and res.kind == "inconsistent" and not check(A, b, res)


def test_sign_infeasible_unique():
    A, b = fr([[1, 0], [0, 1], [1, 1]]), fr([[1, -2, -1]])[0]
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert res.kind == "sign" and not check(A, b, res)


def test_sign_infeasible_simplex():
    A, b = fr([[1, 1, 2], [1, -1, 0]]), fr([[-1, 0]])[0]
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert res.kind == "sign" and not check(A, b, res)


def test_degenerate_and_duplicates():
    A = fr([[1, 1, 0, 0, -1], [0, 0, 1, 1, 0], [1, 1, 1, 1, -1], [0, 0, 0, 0, 0]])
    for b in (fr([[0, 1, 1, 0]])[0], fr([[1, 0, 1, 0]])[0], fr([[-1, 0, -1, 0]])[0]):
        res = nonnegative_solution(A, b, sgn, F(0), F(1))
        assert check(A, b, res) == brute_force(A, b)
    # a degenerate cone: many columns, b on a face
    A = fr([[1, 0, 1, 1, 2, -1], [0, 1, 1, -1, 0, 0], [0, 0, 0, 0, 0, 1]])
    res = nonnegative_solution(A, fr([[1, 0, 0]])[0], sgn, F(0), F(1))
    assert check(A, fr([[1, 0, 0]])[0], res)


def test_skipped_rows_are_rechecked():
    # row 1 is satisfied by the first particular solution x = (1, 0) and skipped; row 2 adds
    # a pivot, after which row 1 is violated and turns out inconsistent
    A = fr([[1, 0], [0, 1], [1, 1]])
    res = nonnegative_solution(A, fr([[1, 0, 2]])[0], sgn, F(0), F(1))
    assert res.kind == "inconsistent" and res.y[1] != 0 and not check(A, fr([[1, 0, 2]])[0], res)
    assert check(A, fr([[1, 1, 2]])[0], nonnegative_solution(A, fr([[1, 1, 2]])[0], sgn, F(0), F(1)))


def test_phase_one_solution_violating_a_skipped_row():
    # row 1 is independent but satisfied by the particular solution (-1, 0, 0), so it is
    # skipped; the Phase-I solution of row 0 alone, (0, 0, 1), violates it
    A = fr([[-1, 0, 1], [0, 0, 1]])
    res = nonnegative_solution(A, fr([[1, 0]])[0], sgn, F(0), F(1))
    assert res.kind == "sign" and not check(A, fr([[1, 0]])[0], res)
    A = fr([[-1, 0, 1, 1], [0, 0, 1, 0]])
    res = nonnegative_solution(A, fr([[1, 0]])[0], sgn, F(0), F(1))
    assert check(A, fr([[1, 0]])[0], res) and res.x == [0, 0, 0, 1]


def test_edge_cases():
    z, o = F(0), F(1)
    assert nonnegative_solution([[], []], [z, z], sgn, z, o) == Feasible([])
    for bb in ([z, F(2)], [F(-3), z]):
        res = nonnegative_solution([[], []], bb, sgn, z, o)
        assert res.kind == "inconsistent" and not check([[], []], bb, res)
    assert nonnegative_solution([], [], sgn, z, o) == Feasible([])
    A = fr([[1, -1], [2, 3]])
    assert nonnegative_solution(A, [z, z], sgn, z, o) == Feasible([z, z])
    A = fr([[0, 1], [0, 1]])  # zero column and duplicate rows
    assert check(A, [F(2), F(2)], nonnegative_solution(A, [F(2), F(2)], sgn, z, o))
    assert not check(A, [F(-2), F(-2)], nonnegative_solution(A, [F(-2), F(-2)], sgn, z, o))
    with pytest.raises(ValueError):
        nonnegative_solution(A, [z], sgn, z, o)


def test_rank_profile():
    assert rank_profile(fr([[0, 0], [0, 2], [0, 1], [3, 3]])) == ([1, 3], [1, 0])
    assert rank_profile([]) == ([], [])


# ---------------------------------------------------------------- property tests

small = st.integers(-3, 3)


@st.composite
def matrices(draw, max_m=8, max_n=8):
    m, n = draw(st.integers(1, max_m)), draw(st.integers(0, max_n))
    return [[F(draw(small)) for _ in range(n)] for _ in range(m)]


@settings(max_examples=150, deadline=None)
@given(matrices(max_n=6), st.data())
def test_random_agrees_with_brute_force(A, data):
    b = [F(data.draw(small)) for _ in A]
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert check(A, b, res) == brute_force(A, b)


@settings(max_examples=150, deadline=None)
@given(matrices(), st.data())
def test_feasible_by_construction(A, data):
    n = len(A[0])
    x0 = [F(data.draw(st.integers(0, 3))) for _ in range(n)]
    b = [sum((a * x for a, x in zip(row, x0)), F(0)) for row in A]
    assert check(A, b, nonnegative_solution(A, b, sgn, F(0), F(1)))


@settings(max_examples=150, deadline=None)
@given(matrices(), st.data())
def test_infeasible_by_construction(A, data):
    """Pick y with y_0 = 1, then fix row 0 so that y^T A >= 0 and y^T b < 0."""
    m, n = len(A), len(A[0])
    y = [F(1)] + [F(data.draw(small)) for _ in range(m - 1)]
    b = [F(data.draw(small)) for _ in range(m)]
    for j in range(n):
        s = F(data.draw(st.integers(0, 3)))
        A[0][j] = s - sum((y[i] * A[i][j] for i in range(1, m)), F(0))
    b[0] = -F(data.draw(st.integers(1, 3))) - sum((y[i] * b[i] for i in range(1, m)), F(0))
    assert not check(A, b, nonnegative_solution(A, b, sgn, F(0), F(1)))


# ---------------------------------------------------------------- size and genericity

def test_tall_800x3_is_fast():
    rng = random.Random(1)
    A = [[F(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(3)] for _ in range(800)]
    x0 = [F(1, 3), F(0), F(7, 2)]
    b = [sum((a * x for a, x in zip(row, x0)), F(0)) for row in A]
    t = time.perf_counter()
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert time.perf_counter() - t < 5 and res == Feasible(x0)
    b[-1] += 1
    t = time.perf_counter()
    res = nonnegative_solution(A, b, sgn, F(0), F(1))
    assert time.perf_counter() - t < 5 and res.kind == "inconsistent" and not check(A, b, res)


def test_flint_fmpq():
    flint = pytest.importorskip("flint")
    q = flint.fmpq
    A = [[q(1), q(1), q(2)], [q(1), q(-1), q(0)], [q(0), q(1), q(1, 2)]]
    zero, one = q(0), q(1)
    for b in ([q(3), q(1), q(1)], [q(-1), q(0), q(1)]):
        res = nonnegative_solution(A, b, sgn, zero, one)
        assert check(A, b, res, zero) == (b[0] == 3)


class QSqrt2:
    """a + b*sqrt(2) with rational a, b; exact sign; no comparison with plain ints."""

    def __init__(self, a, b=0):
        self.a, self.b = F(a), F(b)

    def __add__(self, o):
        return QSqrt2(self.a + o.a, self.b + o.b)

    def __sub__(self, o):
        return QSqrt2(self.a - o.a, self.b - o.b)

    def __mul__(self, o):
        return QSqrt2(self.a * o.a + 2 * self.b * o.b, self.a * o.b + self.b * o.a)

    def __truediv__(self, o):
        d = o.a * o.a - 2 * o.b * o.b
        return self * QSqrt2(o.a / d, -o.b / d)

    def __neg__(self):
        return QSqrt2(-self.a, -self.b)

    def __eq__(self, o):
        return isinstance(o, QSqrt2) and self.a == o.a and self.b == o.b

    def sign(self):
        sa, sb = sgn(self.a), sgn(self.b)
        if sa == sb or sb == 0:
            return sa
        if sa == 0:
            return sb
        return sa * sgn(self.a * self.a - 2 * self.b * self.b)


def test_algebraic_elements():
    s = QSqrt2.sign
    zero, one, r2 = QSqrt2(0), QSqrt2(1), QSqrt2(0, 1)
    A = [[one, r2, zero], [r2, one, one], [one, one, r2]]
    x0 = [QSqrt2(1, -F(1, 2)), zero, QSqrt2(F(1, 3), 1)]  # 1 - sqrt2/2 > 0
    b = [A[i][0] * x0[0] + A[i][1] * x0[1] + A[i][2] * x0[2] for i in range(3)]
    res = nonnegative_solution(A, b, s, zero, one)
    assert check(A, b, res, zero, s) and res.x == x0
    b2 = [zero, -one, QSqrt2(3, -3)]  # 3 - 3 sqrt2 < 0
    res = nonnegative_solution(A + [[r2, r2, r2]], b2 + [r2], s, zero, one)
    assert check(A + [[r2, r2, r2]], b2 + [r2], res, zero, s) is False
    W = [[one, r2, -one], [r2, one, zero]]  # wide: goes through the simplex
    for bb in ([one, one], [-one, -r2]):
        res = nonnegative_solution(W, bb, s, zero, one)
        assert check(W, bb, res, zero, s) == (bb[0] == one)


def test_rows_checked_before_a_later_pivot_are_rechecked():
    """x2 = 1 and -x1 + x2 = 0 force x1 = 1, contradicting x1 = 0 (the row checked in between).

    By hand: y = (1, -1, 0, 1) gives y^T A = 0 and y^T b = -1 < 0.
    """
    A = [[F(-1), F(1)], [F(0), F(1)], [F(0), F(0)], [F(1), F(0)]]
    for b in ([F(0), F(1), F(0), F(0)], [F(0), F(2), F(0), F(0)]):
        res = nonnegative_solution(A, b, sgn, F(0), F(1))
        assert isinstance(res, Infeasible) and res.kind == "inconsistent"
        assert not brute_force(A, b)


def _sqrt2_field():
    import sympy

    from symkkt.field import NumberField

    return NumberField(sympy.sqrt(2))


def test_float_guided_answers_agree_with_the_exact_lp(monkeypatch):
    """Over Q(√2): the float-guided answer (NNLS support solved exactly) and the pure exact LP
    agree on feasibility for random systems; both certificates verify."""
    import random

    import sympy

    import symkkt.linear as lin

    K = _sqrt2_field()
    e = K.element
    rng = random.Random(3)
    for _ in range(40):
        m, n = rng.randint(1, 4), rng.randint(1, 6)
        A = [[e(rng.randint(-3, 3) + rng.randint(-2, 2) * sympy.sqrt(2)) for _ in range(n)] for _ in range(m)]
        b = [e(rng.randint(-3, 3)) for _ in range(m)]
        sign = lambda v: v.sign()                         # noqa: E731
        guided = lin.nonnegative_solution(A, b, sign, e(0), e(1))
        with monkeypatch.context() as mp:
            mp.setattr(lin, "_float_feasible", lambda *args: None)
            exact = lin.nonnegative_solution(A, b, sign, e(0), e(1))
        assert type(guided) is type(exact)


def test_float_guided_rejects_a_wrong_float_support(monkeypatch):
    """A float NNLS that proposes a wrong support must not produce an answer: the exact check
    refuses it and the exact LP decides (here: infeasible, x1 = -1 forced)."""
    import numpy as np

    import symkkt.linear as lin

    K = _sqrt2_field()
    e = K.element
    A, b = [[e(1), e(0)], [e(0), e(1)]], [e(1), e(-1)]
    monkeypatch.setattr(lin, "nnls", lambda A_, b_, max_iter=None: (np.array([1.0, 1.0]), 0.0))
    assert lin._float_feasible(A, b, lambda v: v.sign(), e(0), e(1)) is None
    assert isinstance(lin.nonnegative_solution(A, b, lambda v: v.sign(), e(0), e(1)), lin.Infeasible)


def test_strict_cone_float_guided_agrees_with_the_exact_lp(monkeypatch):
    import random

    import sympy

    import symkkt.kkt as kkt

    K = _sqrt2_field()
    e = K.element
    rng = random.Random(5)
    kinds = set()
    for _ in range(40):
        r, d = rng.randint(2, 5), rng.randint(1, 3)
        rows = [[e(rng.randint(-2, 2) + rng.randint(-1, 1) * sympy.sqrt(2)) for _ in range(d)] for _ in range(r)]
        if any(all(v.is_zero() for v in row) for row in rows):
            continue
        guided = kkt.strict_cone(rows, e(0), e(1))
        with monkeypatch.context() as mp:
            mp.setattr(kkt, "_float_guided", lambda *args: None)
            exact = kkt.strict_cone(rows, e(0), e(1))
        assert guided[0] == exact[0]
        kinds.add(guided[0])
        if guided[0] == "direction":
            assert all((sum((a * x for a, x in zip(row, guided[1])), e(0)) - e(1)).sign() >= 0 for row in rows)
        else:
            nu = guided[1]
            assert all(v.sign() >= 0 for v in nu) and any(v.sign() > 0 for v in nu)
            assert all(sum((v * row[j] for v, row in zip(nu, rows)), e(0)).is_zero() for j in range(len(rows[0])))
    assert kinds == {"direction", "gordan"}
