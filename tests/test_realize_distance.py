"""Exact L^inf and W^{1,inf} distances of ReLU realizations (symkkt.realize.distance, .regions).

Checked against hand computations, dense exact grids (never above the exact value, equal when
the grid contains the maximizer), the independent region enumeration, and the kernel.
"""

import itertools
from fractions import Fraction as F

import pytest
from flint import fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

from symkkt.realize.distance import distance
from symkkt.realize.net import ShallowNet, to_domain
from symkkt.realize.regions import DeepNet, region_distance

Q = st.fractions(min_value=-3, max_value=3, max_denominator=2)


def nets(d, max_m=4):
    return st.integers(0, max_m).flatmap(lambda m: st.tuples(
        st.lists(st.lists(Q, min_size=d, max_size=d), min_size=m, max_size=m),
        st.lists(Q, min_size=m, max_size=m), st.lists(Q, min_size=m, max_size=m), Q)).map(
        lambda t: ShallowNet.of(*t, d=d))


def grid_sup(A, B, d, N):
    g = to_domain([F(-1) + F(2 * k, N) for k in range(N + 1)])
    return max(abs(A(x) - B(x)) for x in itertools.product(g, repeat=d))


def test_one_d_by_hand():
    # relu(x) vs relu(x - 1/2) on (-1, 1): h = 0, x, 1/2 on (-1, 0), (0, 1/2), (1/2, 1): sup 1/2, slope 1
    f = ShallowNet.of([[1]], [0], [1], 0)
    g = ShallowNet.of([[1]], ["-1/2"], [1], 0)
    D = distance(f, g)
    assert D.exact and D.sup == fmpq(1, 2) and D.w1inf == 1 and D.w1inf_coordinate == 0
    assert 0 < D.w1inf_point[0] < fmpq(1, 2)             # inside the piece of slope 1, not at a kink
    # on (-1, 0) both vanish: distance 0
    assert distance(f, g, -1, 0).sup == 0 and distance(f, g, -1, 0).w1inf == 0


def test_ess_sup_ignores_kinks():
    # relu(x) vs relu(x) + 0 relu(-x): h = 0 everywhere; a derivative read at the kink x = 0 (either one-sided
    # derivative or the difference quotient through it) would see a slope, the ess sup is 0
    f = ShallowNet.of([[1]], [0], [1], 0)
    g = ShallowNet.of([[1], [-1]], [0, 0], [1, 0], 0)
    D = distance(f, g)
    assert D.sup == 0 and D.w1inf == 0
    # relu(x1) vs relu(x1) in 2-D with an extra zero-weight kink line x1 + x2 = 0
    f2 = ShallowNet.of([[1, 0]], [0], [1], 0)
    g2 = ShallowNet.of([[1, 0], [1, 1]], [0, 0], [1, 0], 0)
    assert distance(f2, g2).w1inf == 0


def test_two_d_by_hand():
    # relu(x1 + x2) - relu(x1) - relu(x2): -1 at (-1, 1) and (1, -1), gradient entries in {0, ±1}
    f = ShallowNet.of([[1, 1]], [0], [1], 0)
    g = ShallowNet.of([[1, 0], [0, 1]], [0, 0], [1, 1], 0)
    D = distance(f, g)
    assert D.sup == 1 and D.w1inf == 1 and D.sup_point in {tuple(to_domain([-1, 1])), tuple(to_domain([1, -1]))}
    # 3 relu(x1 - 1/2) vs 0: sup = 3/2 at x1 = 1, |d1 h| = 3 on x1 > 1/2
    h = ShallowNet.of([[1, 0]], ["-1/2"], [3], 0)
    z = ShallowNet.of([[1, 0]], [0], [0], 0)
    D = distance(h, z)
    assert D.sup == fmpq(3, 2) and D.w1inf == 3 and D.w1inf_coordinate == 0 and D.w1inf_point[0] > fmpq(1, 2)


@pytest.mark.parametrize("d, N", [(1, 48), (2, 12)])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_never_below_a_dense_grid(d, N, data):
    A, B = data.draw(nets(d)), data.draw(nets(d))
    D = distance(A, B)
    assert D.exact and D.sup >= grid_sup(A, B, d, N)
    assert abs(A(D.sup_point) - B(D.sup_point)) == D.sup          # attained where stated
    # the ess sup of the gradient is the largest |d_j h| at interior grid points off every kink
    g = to_domain([F(-1) + F(2 * k + 1, 2 * N) for k in range(N)])
    for x in itertools.product(g, repeat=d):
        try:
            ga, gb = A.gradient(x), B.gradient(x)
        except ValueError:
            continue
        assert max(abs(p - q) for p, q in zip(ga, gb)) <= D.w1inf


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_equal_to_grid_when_the_grid_holds_the_maximizer(data):
    # kinks and weights on a grid of step 1/4 in 1-D: all vertices lie on the grid of step 1/4, so the
    # grid maximum is the exact sup
    ks = st.integers(-3, 3).map(lambda k: F(k, 4))
    m = data.draw(st.integers(1, 4))
    A = ShallowNet.of([[1]] * m, data.draw(st.lists(ks, min_size=m, max_size=m)),
                      data.draw(st.lists(ks, min_size=m, max_size=m)), data.draw(ks))
    B = ShallowNet.of([[-1]] * m, data.draw(st.lists(ks, min_size=m, max_size=m)),
                      data.draw(st.lists(ks, min_size=m, max_size=m)), data.draw(ks))
    assert distance(A, B).sup == grid_sup(A, B, 1, 8)


def test_two_d_grid_with_the_maximizer():
    # lines on the grid of step 1/2: x1 = 1/2, x2 = -1/2, x1 + x2 = 0 meet the box in grid points
    A = ShallowNet.of([[1, 0], [0, 1]], ["-1/2", "1/2"], [2, -1], "1/2")
    B = ShallowNet.of([[1, 1]], [0], [3], 0)
    D = distance(A, B)
    assert D.sup == grid_sup(A, B, 2, 4)
    assert D.sup == grid_sup(A, B, 2, 16)


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_enumeration_agrees_with_regions(data):
    # two independent algorithms: hyperplane arrangement (vertices + slabs) and layer-wise region clipping
    d = data.draw(st.sampled_from([1, 2]))
    A, B = data.draw(nets(d, 3)), data.draw(nets(d, 3))
    D1, D2 = distance(A, B), region_distance(A, B)
    assert (D1.sup, D1.w1inf) == (D2.sup, D2.w1inf)


def test_three_d_against_grid():
    A = ShallowNet.of([[1, 0, 0], [0, 1, -1], [1, 1, 1]], [0, "1/2", -1], [1, -2, 3], 0)
    B = ShallowNet.of([[0, 0, 1], [1, -1, 0]], [0, 0], [2, 1], "1/4")
    D = distance(A, B)
    assert D.exact and D.sup >= grid_sup(A, B, 3, 8)
    assert abs(A(D.sup_point) - B(D.sup_point)) == D.sup


def test_deeper_net_distance_vs_grid():
    # relu(relu(x1) - relu(x2)) vs relu(x1 - x2): equal where x1, x2 >= 0, differ elsewhere
    deep = DeepNet.of([([[1, 0], [0, 1]], [0, 0]), ([[1, -1]], [0]), ([[1]], [0])])
    shallow = ShallowNet.of([[1, -1]], [0], [1], 0)
    D = region_distance(deep, shallow)
    # at (-1, -1): deep 0, shallow 0; at (1, -1): deep 1, shallow 2 -> |h| = 1; at (-1, ... ) 0
    assert D.sup == 1
    g = to_domain([F(-1) + F(k, 4) for k in range(9)])
    assert max(abs(deep(x) - shallow(x)) for x in itertools.product(g, repeat=2)) == D.sup


def test_bounds_are_labelled_and_enclose_the_value():
    A = ShallowNet.of([[1, 0], [0, 1], [1, 1]], ["-1/3", "1/4", 0], [1, -1, 2], 0)
    B = ShallowNet.of([[1, -1]], ["1/5"], [1], 0)
    exact = distance(A, B)
    bounded = distance(A, B, max_vertices=1, budget=300)
    assert not bounded.exact and "bounds" in repr(bounded)
    assert bounded.sup_bounds[0] <= exact.sup <= bounded.sup_bounds[1]
    assert bounded.w1inf_bounds[0] <= exact.w1inf <= bounded.w1inf_bounds[1]
    # d = 5 is above the exact limit: bounds, never below a grid value
    A5 = ShallowNet.of([[1, 0, 0, 0, 1], [0, 1, -1, 0, 0]], [0, "1/2"], [1, -1], 0)
    B5 = ShallowNet.of([[0, 0, 0, 1, 0]], [0], [2], 0)
    D5 = distance(A5, B5, budget=200)
    assert not D5.exact
    corner = tuple(to_domain([1, -1, 1, 1, 1]))
    assert D5.sup_bounds[1] >= abs(A5(corner) - B5(corner))


def test_distance_certificates_kernel():
    pytest.importorskip("symkkt.kernel.realize")
    from conftest import assert_invalid, assert_valid, tampered
    from symkkt.realize.certificate import realization_certificate

    A = ShallowNet.of([[1, 0], [0, 1]], ["-1/2", "1/2"], [2, -1], "1/2")
    B = ShallowNet.of([[1, 1]], [0], [3], 0)
    lo, hi = to_domain([-1, 1])
    cert = realization_certificate("realization_distance", A, B, lo, hi, dist=distance(A, B))
    assert_valid(cert, "exact distances")
    assert_invalid(tampered(cert, lambda c: c["witness"].__setitem__("sup", "1/1000")), "sup")
