"""Exact arrays against a Fraction reference, with entries at the int64 / float64 boundaries.

:class:`symkkt.field.ExactArray` keeps integers in int64 or float64 (BLAS) where that is exact and
switches to Python integers beyond. Every operation is compared here with plain ``Fraction``
arithmetic on object arrays, for numerators and denominators drawn around 2^53, 2^62, 2^63 and
2^64, where a wrong switch would wrap around silently. A wrapped denominator once turned an exact
sum into a wrong number (a numerator/denominator pair reduced to a value above 2^63 was read back
as a negative int64).
"""
from fractions import Fraction

import numpy as np
import sympy
from flint import fmpq
from hypothesis import given, settings, strategies as st

from symkkt.field import ExactArray, NumberField

Q = NumberField(sympy.Integer(1))
EDGES = [2 ** 53, 2 ** 62, 2 ** 63, 2 ** 64, 3 ** 40, 10 ** 19]
big = st.one_of(st.integers(-9, 9), st.sampled_from(EDGES).flatmap(lambda e: st.integers(e - 3, e + 3)),
                st.integers(-2 ** 70, 2 ** 70))
positive = st.one_of(st.integers(1, 9), st.sampled_from(EDGES).flatmap(lambda e: st.integers(e - 3, e + 3)),
                     st.integers(1, 2 ** 70))
fractions = st.builds(Fraction, big, positive)


def arrays(shape):
    n = int(np.prod(shape))
    return st.lists(fractions, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=object).reshape(shape))


def exact(ref):
    return ExactArray.rational(Q, np.vectorize(lambda f: fmpq(f.numerator, f.denominator), otypes=[object])(ref))


def back(arr):
    vals = [Fraction(int(e.c[0].p), int(e.c[0].q)) for e in arr.elements()]
    return np.array(vals, dtype=object).reshape(arr.shape)


@settings(max_examples=60, deadline=None)
@given(arrays((3, 4)), arrays((3, 4)))
def test_add_sub_mul_sum(a, b):
    A, B = exact(a), exact(b)
    assert (back(A + B) == a + b).all() and (back(A - B) == a - b).all()
    assert (back(A * B) == a * b).all()
    assert (back(A.sum()) == a.sum()).all()
    for axis in (0, 1):
        assert (back(A.sum(axis=axis)) == a.sum(axis=axis)).all()


@settings(max_examples=60, deadline=None)
@given(arrays((3, 4)), arrays((4, 2)))
def test_matmul(a, b):
    assert (back(exact(a) @ exact(b)) == a @ b).all()


@settings(max_examples=40, deadline=None)
@given(arrays((2, 3)), arrays((3, 2)), st.sampled_from(["ij,jk->ik", "ij,jk->i", "ij,kl->ik", "in,jn->ijn"]))
def test_einsum_every_summed_index(a, b, spec):
    if spec == "in,jn->ijn":
        b = b.reshape(2, 3)
    want = np.einsum(spec, a, b)
    assert (back(exact(a).einsum(spec, exact(b))) == want).all()


def test_sum_whose_reduced_denominator_lies_between_2_63_and_2_64():
    """The case that once wrapped: the common denominator 35444162250000000000, halved by the
    reduction to 17722081125000000000 (> 2^63), must stay positive and exact."""
    num = [1638496490380611481, 1355047768897866481, 36978986586090510049, 587778288889, 9154376701749049]
    den = [437582250000000000, 437582250000000000, 8861040562500000000, 31116960000, 109395562500000000]
    ref = np.array([Fraction(n, d) for n, d in zip(num, den)], dtype=object)
    total = back(exact(ref).sum())
    assert total == ref.sum() and ref.sum().denominator == 17722081125000000000 > 2 ** 63


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(fractions, fractions), min_size=4, max_size=4))
def test_algebraic_products_match_sympy(pairs):
    """Q(√2): (a + b√2)(c + d√2) entrywise and summed, against sympy."""
    K = NumberField(sympy.sqrt(2))
    vals = [sympy.Rational(p.numerator, p.denominator) + sympy.Rational(q.numerator, q.denominator) * sympy.sqrt(2)
            for p, q in pairs]
    A = ExactArray.from_sympy(K, [vals[:2]])
    B = ExactArray.from_sympy(K, [[vals[2]], [vals[3]]])
    got = (A @ B).to_sympy()[0][0]
    assert sympy.expand(got - (vals[0] * vals[2] + vals[1] * vals[3])) == 0
    signs = A.sign().ravel().tolist()
    assert signs == [int(sympy.sign(v)) for v in vals[:2]]
