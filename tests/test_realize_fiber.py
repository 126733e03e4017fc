"""Fiber distances, pathologies, the restricted set S_m and inverse stability on it.

Expected values are computed independently: by hand (in comments), by brute force over
permutations and orientation flips with a float search of each per-pair scale, or by exact
evaluation of the networks at points.
"""

import itertools
import math
import random

import pytest
import sympy
from flint import fmpq

from symkkt.numbers import exact_sign, parse_number
from symkkt.realize.canonical import same_realization
from symkkt.realize.fiber import bottleneck, fiber_distance, scale_optimum
from symkkt.realize.net import ShallowNet, to_domain
from symkkt.realize.pathologies import find_pathologies
from symkkt.realize.restricted import canonicalize, in_restricted_set, inverse_stability

Q = fmpq


def val(text):
    return parse_number(text)


def same(text, expr):
    return exact_sign(val(text) - sympy.sympify(expr)) == 0


# -- per-pair scale optimum --------------------------------------------------------------------
def pair_cost(u, v, lam):
    (w, b, a), (w2, b2, a2) = u, v
    return max([abs(float(x) - lam * float(y)) for x, y in zip(w, w2)] +
               [abs(float(b) - lam * float(b2)), abs(float(a) - float(a2) / lam)])


def brute_pair(u, v):
    """min over λ > 0 by a log grid and a ternary refinement (the cost is quasi-convex)."""
    grid = [10 ** (e / 200) for e in range(-1200, 1201)]
    i = min(range(len(grid)), key=lambda j: pair_cost(u, v, grid[j]))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    for _ in range(200):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if pair_cost(u, v, m1) <= pair_cost(u, v, m2):
            hi = m2
        else:
            lo = m1
    return pair_cost(u, v, (lo + hi) / 2)


def rnd(rng, den=4, lo=-3, hi=3):
    return Q(rng.randint(lo * den, hi * den), den)


def test_scale_optimum_by_hand():
    # u = (1, 0, 1), v = (1, -1/2, 1/10): 1 - λ = 1 - 1/(10λ) at λ = 1/sqrt(10); λ/2 is smaller there
    r = scale_optimum(((Q(1),), Q(0), Q(1)), ((Q(1),), Q(-1, 2), Q(1, 10)))
    assert exact_sign(r["value"].to_sympy() - (1 - 1 / sympy.sqrt(10))) == 0
    # u = 0, v = (1, 0, eps): max(λ, eps/λ) is least at λ = sqrt(eps): value sqrt(eps) (= 1/2 for eps = 1/4)
    assert scale_optimum(((Q(0),), Q(0), Q(0)), ((Q(1),), Q(0), Q(1, 4)))["value"] == Q(1, 2)
    # v is a rescaling of u: cost 0 at λ = 3
    r = scale_optimum(((Q(3),), Q(-3, 2), Q(2, 3)), ((Q(1),), Q(-1, 2), Q(2)))
    assert r["value"] == 0 and r["lam"] == 3


def test_scale_optimum_matches_float_search():
    rng = random.Random(1)
    for _ in range(200):
        d = rng.choice([1, 2])
        u = (tuple(rnd(rng) for _ in range(d)), rnd(rng), rnd(rng))
        v = (tuple(rnd(rng) for _ in range(d)), rnd(rng), rnd(rng))
        if all(x == 0 for x in v[0]) or v[2] == 0:
            continue
        r = scale_optimum(u, v)
        got = float(r["value"])
        assert abs(got - brute_pair(u, v)) < 1e-6 * (1 + got)
        # the exact cost at the domain scale is an upper bound, close to the optimum
        assert float(r["cost"]) >= got - 1e-12 and float(r["cost"]) - got < 1e-4 * (1 + got)


def test_quad_arithmetic_and_signs_against_sympy():
    from symkkt.realize.fiber import Quad, exact_cmp

    rng = random.Random(7)
    for _ in range(50):
        D1, D2 = Q(rng.randint(1, 30), rng.randint(1, 5)), Q(rng.randint(1, 30), rng.randint(1, 5))
        x = Quad(rnd(rng), rnd(rng), D1)
        y = Quad(rnd(rng), rnd(rng), D2)
        z = Quad(rnd(rng), rnd(rng), D1)
        xs, ys, zs = (sympy.Rational(str(v.p)) + sympy.Rational(str(v.q)) * sympy.sqrt(sympy.Rational(str(v.D)))
                      for v in (x, y, z))
        assert exact_cmp(x, y) == exact_sign(xs - ys)                  # different radicands
        assert exact_cmp(x, z) == exact_sign(xs - zs)
        for got, want in ((x * z, xs * zs), (x - z, xs - zs), (x + 3, xs + 3)):
            got = got.to_sympy() if isinstance(got, Quad) else sympy.Rational(str(got))
            assert exact_sign(got - want) == 0
        if exact_sign(zs) != 0:
            got = x / z
            got = got.to_sympy() if isinstance(got, Quad) else sympy.Rational(str(got))
            assert exact_sign(got - xs / zs) == 0


def test_bottleneck_against_permutations():
    rng = random.Random(2)
    for _ in range(30):
        m = rng.randint(1, 4)
        c = [[Q(rng.randint(0, 9)) for _ in range(m)] for _ in range(m)]
        value, assign = bottleneck(c)
        best = min(max(c[i][p[i]] for i in range(m)) for p in itertools.permutations(range(m)))
        assert value == best
        assert sorted(assign) == list(range(m)) and max(c[i][assign[i]] for i in range(m)) == best


# -- fiber distance: exact case against brute force --------------------------------------------------
def random_orbit_pair(rng, m):
    """A random A and a B with m distinct visible kinks in (-1, 1) (1-D)."""
    kinks = rng.sample([Q(k, 8) for k in range(-7, 8)], m)
    if rng.random() < 0.3 and m >= 2:     # force a zero-sum flip: a_i w_i = 1 and -1 on two neurons
        W = [[Q(1)], [Q(1)]] + [[Q(rng.choice([-2, 1, 3]))] for _ in range(m - 2)]
        a = [Q(1), Q(-1)] + [Q(rng.choice([5, 7, 11]), 3) for _ in range(m - 2)]
        B = ShallowNet.of(W, [-W[i][0] * kinks[i] for i in range(m)], a, rnd(rng))
        A = ShallowNet.of([[rnd(rng)] for _ in range(m)], [rnd(rng) for _ in range(m)],
                          [rnd(rng) for _ in range(m)], rnd(rng))
        return A, B
    W, b, a = [], [], []
    for xi in kinks:
        w = Q(rng.choice([-2, -1, 1, 2, 3]), rng.choice([1, 2]))
        W.append([w])
        b.append(-w * xi)
        a.append(Q(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([1, 2, 4])))
    B = ShallowNet.of(W, b, a, rnd(rng))
    A = ShallowNet.of([[rnd(rng)] for _ in range(m)], [rnd(rng) for _ in range(m)], [rnd(rng) for _ in range(m)],
                      rnd(rng))
    return A, B


def brute_fiber(A, B, lo=-1, hi=1):
    """min over orientation flips S (kept when the flipped net realizes R_B) and permutations."""
    m = A.m
    best = math.inf
    nb = list(zip(B.W, B.b, B.a))
    na = list(zip(A.W, A.b, A.a))
    for size in range(m + 1):
        for S in itertools.combinations(range(m), size):
            neurons = [((-w[0],), -bi, ai) if i in S else (w, bi, ai) for i, (w, bi, ai) in enumerate(nb)]
            c = B.c + sum((nb[i][2] * nb[i][1] for i in S), Q(0))   # a relu(z) = a relu(-z) + a z
            BS = ShallowNet(tuple(n[0] for n in neurons), tuple(n[1] for n in neurons),
                            tuple(n[2] for n in neurons), c, 1)
            if not same_realization(BS, B, lo, hi)[0]:
                continue
            costs = [[brute_pair(na[i], neurons[j]) for j in range(m)] for i in range(m)]
            for p in itertools.permutations(range(m)):
                best = min(best, max([costs[i][p[i]] for i in range(m)] + [abs(float(A.c - c))]))
    return best


def test_fiber_distance_exact_matches_brute_force():
    rng = random.Random(3)
    for trial in range(30):
        m = 1 + trial % 3
        A, B = random_orbit_pair(rng, m)
        r = fiber_distance(A, B)
        assert r["exact"] and r["tier"] == "exact"
        assert abs(r["float"] - brute_fiber(A, B)) < 1e-6 * (1 + r["float"])
        W = ShallowNet.from_json(B.architecture_json(), r["witness"])
        assert same_realization(W, B)[0]


def test_fiber_distance_algebraic_numbers_and_other_boxes():
    # entries in Q(sqrt(2), sqrt(3)); then the box (0, 2), where the kinks 1/2 and 3/2 are visible
    A = ShallowNet.of([["sqrt(2)"], [1]], [0, "-1/3"], [1, "sqrt(2)"], 0)
    B = ShallowNet.of([[1], [-1]], ["1/5", "1/2"], ["sqrt(3)", 2], 1)
    r = fiber_distance(A, B)
    assert r["exact"] and abs(r["float"] - brute_fiber(A, B)) < 1e-6
    A = ShallowNet.of([[1], [2]], [0, -1], [1, 1], 0)
    B = ShallowNet.of([[2], [-1]], [-1, "3/2"], [3, "1/2"], 2)
    r = fiber_distance(A, B, 0, 2)
    assert r["exact"] and abs(r["float"] - brute_fiber(A, B, 0, 2)) < 1e-6
    # on (-1, 1) the kink 3/2 of B is outside: one visible hyperplane for two neurons, so bounds
    r = fiber_distance(A, B)
    assert "lower bound" in r["method"] and val(r["lower"]) <= val(r["upper"])


def test_fiber_distance_zero_on_the_fiber_and_positive_off_it():
    B = ShallowNet.of([[1], [-2]], ["-1/2", "1/2"], [3, "1/2"], 1)
    A = B.permuted([1, 0]).scaled(0, 5).scaled(1, "1/3")          # same orbit
    r = fiber_distance(A, B)
    assert r["exact"] and r["value"] == "0"
    A2 = ShallowNet.of([[1], [-2]], ["-1/2", "1/2"], [3, "1/2"], "11/10")   # c moved by 1/10
    assert fiber_distance(A2, B)["value"] == "1/10"


def test_fiber_distance_two_orbits():
    # relu(x) + relu(-x) = |x| = 2 relu(x) - x ... with m = 2 and kinks 0 and 1/2: a w sums to zero for
    # B = (1; 0; 1), (1; -1/2; -1): flipping both keeps the slope and changes c by a_2 b_2 = 1/2
    B = ShallowNet.of([[1], [1]], [0, "-1/2"], [1, -1], 0)
    Bf = ShallowNet.of([[-1], [-1]], [0, "1/2"], [1, -1], "1/2")
    assert same_realization(B, Bf)[0]
    assert fiber_distance(Bf, B)["value"] == "0"           # Bf itself realizes R_B
    # Bf with c moved by 1/100: the nearest member is Bf, in the second (flipped) orbit; the first orbit
    # needs w = -1 -> λ·1 with λ > 0, a cost >= 1
    near = ShallowNet.of([[-1], [-1]], [0, "1/2"], [1, -1], "51/100")
    r = fiber_distance(near, B)
    assert r["exact"] and r["value"] == "1/100" and "2 orbits" in r["method"]


def test_fiber_distance_other_width_and_dimension_mismatch():
    # R_B = relu(x) + relu(x) = 2 relu(x) among width-1 nets: (λ, 0, 2/λ), λ > 0. From A = (1, 0, 1):
    # min_λ max(|1 - λ|, |1 - 2/λ|) is at λ = √2 (both √2 - 1).
    A = ShallowNet.of([[1]], [0], [1], 0)
    r = fiber_distance(A, ShallowNet.of([[1], [1]], [0, 0], [1, 1], 0))
    assert r["exact"] and r["value"] == "-1 + sqrt(2)" and "re-parametrized with m_A = 1" in r["method"]
    r = fiber_distance(A, ShallowNet.of([[1, 0]], [0], [1], 0))
    assert r["value"] is None and "input dimensions" in r["reason"]


# -- fiber distance: bounds when the fiber is not a finite union of orbits ----------------------------------
def test_bounds_p4_by_hand_and_against_fiber_members():
    # Γ = (1; 0; 1), (-1; 0; -1) realizes x; g = x + relu(x - 1/2)/10. A neuron of any Φ must lie on
    # x = 1/2: min_λ max(|±1 - λ|, |λ/2|) = 1/3 (λ = ±2/3), the lower bound.
    A = ShallowNet.of([[1], [-1]], [0, 0], [1, -1], 0)
    B = ShallowNet.of([[1], [1]], [1, "-1/2"], [1, "1/10"], -1)
    r = fiber_distance(A, B)
    assert not r["exact"] and r["tier"] == "rigorous bounds" and r["lower"] == "1/3"
    W = ShallowNet.from_json(B.architecture_json(), r["witness"])
    assert same_realization(W, B)[0]
    up = max([abs(x - y) for x, y in zip(A.numbers(), W.numbers())])
    assert str(up) == r["upper"] and val(r["lower"]) <= val(r["upper"])
    # random members of the fiber never beat the lower bound
    rng = random.Random(4)
    for _ in range(200):
        lam1, lam2 = Q(rng.randint(1, 40), 10), Q(rng.randint(1, 40), 10)
        q = Q(rng.randint(-30, 30), 10)
        # neuron 1 affine on the box (offset λ1 (1 + q²) >= λ1) carrying x, neuron 2 on the kink 1/2:
        Phi = ShallowNet.of([[lam1], [lam2]], [lam1 * (1 + q * q), -lam2 / 2], [1 / lam1, Q(1, 10) / lam2], 0)
        Phi = ShallowNet(Phi.W, Phi.b, Phi.a, B(to_domain([0])) - Phi(to_domain([0])), 1)
        if same_realization(Phi, B)[0]:
            dist = max(abs(x - y) for x, y in zip(A.numbers(), Phi.numbers()))
            assert dist >= Q(1, 3)


def test_bounds_dead_neurons_allowed():
    # g = relu(x) with m = 2: A's second neuron is free. A = B itself is in the fiber: upper bound 0.
    B = ShallowNet.of([[1], [1]], [0, 5], [1, 0], 0)
    r = fiber_distance(B, B)
    assert r["exact"] and r["value"] == "0"


# -- pathologies ----------------------------------------------------------------------------------------
def kinds(net):
    return sorted((p["kind"], p["name"]) for p in find_pathologies(net))


def test_pathologies_of_each_family_start():
    assert ("P1", "unbalanced") in kinds(ShallowNet.of([[10]], [0], [0], 0))
    assert kinds(ShallowNet.of([[1]], [-2], [2], 0)) == [("P2", "dead")]
    assert kinds(ShallowNet.of([[1]], [2], [1], 0)) == [("P2", "affine")]
    assert kinds(ShallowNet.of([[1], [1]], [0, 0], [1, 1], 0)) == [("P3", "same hyperplane")]
    p4 = find_pathologies(ShallowNet.of([[1], [-1]], [0, 0], [1, -1], 0))
    assert [(p["kind"], p["witness"]["jump"]) for p in p4] == [("P4", "0")]    # relu(x) - relu(-x): no kink
    p5 = find_pathologies(ShallowNet.of([[1], [-1]], ["-1/2", "-1/2"], [1, 1], 0))
    assert [(p["kind"], p["neurons"], p["witness"]["constant_shift"]) for p in p5] == [("P5", [0, 1], "-1")]
    p5d = find_pathologies(ShallowNet.of([[1, 0], [0, 1], [-1, -1]], ["-1/2", "-1/2", 0], [1, 1, 1], 0))
    assert [(p["kind"], p["neurons"], p["witness"]["opposite_pair"]) for p in p5d] == [("P5", [0, 1, 2], False)]


def test_no_pathology_in_a_clean_net():
    # balanced, positively oriented, distinct kinks, a_i w_i = 1, 4, -9: no subset sums to zero
    net = ShallowNet.of([[1], [2], [3]], ["-1/2", 0, "3/2"], [1, 2, -3], 3)     # kinks 1/2, 0, -1/2
    assert find_pathologies(net) == []
    # a linear neuron (kink at -1) is not a pathology; the zero neuron is not dead
    assert find_pathologies(ShallowNet.of([[1], [0]], [1, 0], [1, 0], 0)) == []


# -- the restricted set --------------------------------------------------------------------------------------
def test_in_restricted_set_conditions():
    ok = ShallowNet.of([[1], [2], [0]], [1, -1, 0], [1, -2, 0], 0)
    assert in_restricted_set(ok)[0]                                         # kinks -1, 1/2 and a zero neuron
    bad = {
        "unbalanced": ShallowNet.of([[2]], [0], [1], 0),
        "oriented": ShallowNet.of([[-1]], [0], [1], 0),
        "dead": ShallowNet.of([[1]], [-1], [1], 0),                          # kink at 1 is not in [-1, 1)
        "kink": ShallowNet.of([[1], [2]], [0, 0], [1, 2], 0),                # two neurons at kink 0
        "misses": ShallowNet.of([[1]], [2], [1], 0),                         # kink at -2
        "linear": ShallowNet.of([[1], [2]], [1, 2], [1, 2], 0),              # two kinks at -1
    }
    for name, net in bad.items():
        assert not in_restricted_set(net)[0], name


def test_canonicalize_lands_in_S_m_plus_1_and_keeps_the_function():
    rng = random.Random(5)
    for _ in range(6):
        m = rng.randint(1, 3)
        net = ShallowNet.of([[Q(rng.choice([-2, -1, 1, 2]), 1)] for _ in range(m)],
                            [Q(rng.randint(-8, 8), 4) for _ in range(m)],
                            [Q(rng.choice([1, 4, 9, -1, -4]), 1) for _ in range(m)], Q(rng.randint(-4, 4), 2))
        out = canonicalize(net)
        assert out.m == m + 1 and in_restricted_set(out)[0]
        # exact values at grid points: kinks are multiples of 1/4, so the grid of step 1/24 has
        # several points in every linear piece, and two piecewise-linear functions agreeing there are equal
        for k in range(-23, 24):
            assert out([Q(k, 24)]) == net([Q(k, 24)])


def test_relu_minus_x_needs_the_extra_neuron():
    # relu(-x) has slope -1 next to -1 and one kink; in S_1 a neuron either has its kink in (-1, 1) (slope 0
    # left of it) or at -1 (no kink inside): so S_1 cannot realize it, S_2 can.
    out = canonicalize(ShallowNet.of([[-1]], [0], [1], 0))
    nonzero = [i for i in range(out.m) if out.a[i] != 0]
    assert len(nonzero) == 2


def test_canonicalize_2d():
    net = ShallowNet.of([[1, -1], [-2, 0]], [0, "1/2"], [3, 1], 0)
    out = canonicalize(net)
    assert out.m == 3 and in_restricted_set(out)[0] and same_realization(out, net)[0]


# -- inverse stability on S_m -------------------------------------------------------------------------------
def random_sm(rng, m, kinks=None):
    """A random member of S_m: neurons θ(μ, ξ) with μ = ±s², ξ in [-1, 1) distinct, maybe zeros."""
    kinks = kinks or rng.sample([Q(k, 4) for k in range(-4, 4)], m)
    W, b, a = [], [], []
    for xi in kinks:
        if rng.random() < 0.15:
            W.append([Q(0)]), b.append(Q(0)), a.append(Q(0))
            continue
        s = Q(rng.randint(1, 12), 4)
        W.append([s]), b.append(-s * xi), a.append(s * rng.choice([-1, 1]))
    return ShallowNet.of(W, b, a, Q(rng.randint(-4, 4), 4))


def test_inverse_stability_holds_on_random_adversarial_pairs():
    rng = random.Random(6)
    worst = 0.0
    for _ in range(25):
        m = rng.randint(1, 3)
        G = random_sm(rng, m)
        # adversarial: B shares the kinks of Γ with small changes of the jumps, or moves one kink a little
        kinks = [-G.b[i] / G.W[i][0] if G.W[i][0] != 0 else Q(rng.randint(-4, 3), 4) for i in range(m)]
        if rng.random() < 0.5:
            j = rng.randrange(m)
            kinks[j] = kinks[j] + Q(1, 64) if kinks[j] + Q(1, 64) not in kinks else kinks[j]
        B = random_sm(rng, m, kinks)
        r = inverse_stability(G, B)
        assert r["applicable"] and r["holds"] is True, r
        worst = max(worst, r["ratio"])
    assert worst <= 2 * math.sqrt(2)


def test_inverse_stability_sharpness_and_decision():
    G = ShallowNet.of([[0]], [0], [0], 0)
    # g = relu(x)/100 realized in S_1 by θ(1/100, 0) = (1/10, 0, 1/10): distance exactly eps^(1/2) = 1/10
    r = inverse_stability(G, ShallowNet.of([["1/10"]], [0], ["1/10"], 0))
    assert (r["epsilon"], r["distance"], r["holds"]) == ("1/100", "1/10", True)
    assert same(r["bound"], 2 * sympy.sqrt(2) / 10)
    # outside S_m the check does not apply
    r = inverse_stability(ShallowNet.of([[1], [-1]], ["-1/2", "-1/2"], [1, 1], 0),
                          ShallowNet.of([[-1], [1]], ["1/2", "1/2"], ["11/10", 1], -1))
    assert r["holds"] is None and not r["applicable"]


def balanced_distinct_alive(net):
    """The weaker set: balanced, distinct visible hyperplanes, no dead neuron — no orientation convention."""
    from symkkt.realize.canonical import neuron_kind, normalize

    planes = set()
    for w, b, a in zip(net.W, net.b, net.a):
        if abs(a) != max(abs(x) for x in w) or neuron_kind(w, b, Q(-1), Q(1)) != "visible":
            return False
        n, beta, _, _ = normalize(w, b)
        planes.add((n, beta))
    return len(planes) == net.m


@pytest.mark.parametrize("d", [1, 2])
def test_negative_control_p5_breaks_the_weaker_set(d):
    # Γ of P5 is balanced with distinct visible hyperplanes and no dead neuron, but not oriented: the
    # fiber distance stays >= 1 (it is 1: the constant must move by 1) while eps = 3δ/2 -> 0, so no bound
    # C eps^(1/2) holds; Γ is not in the restricted set.
    from symkkt.realize.families import family_pair
    from symkkt.realize.distance import distance

    name = "P5" if d == 1 else "P5-2d"
    for k in (100, 1000):                                      # (k = 10: 8 eps = 6/5 > 1, no violation yet)
        G, B = family_pair(name, k)
        assert balanced_distinct_alive(G) and not in_restricted_set(G)[0]
        eps = distance(G, B).w1inf
        assert eps == Q(3, 2 * k)                                # |δ relu(1/2 - x1)| is largest at x1 = -1
        r = fiber_distance(G, B)
        assert r["exact"] and r["value"] == "1"
        assert 1 > 8 * eps and 1 > eps                         # 1 > max(2 sqrt(2) eps^(1/2), eps)
