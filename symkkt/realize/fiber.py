"""The distance from a parametrization to the fiber of a function, exactly or with bounds.

For networks A and B of the same shape (d inputs, m hidden neurons) this module bounds

    dist_∞(A, R⁻¹(R_B)) = inf { ‖Φ − Θ_A‖_∞ : Φ of width m, R_Φ = R_B on Ω = (lo, hi)^d },

where ‖·‖_∞ is the largest absolute entry of (W, b, a, c).

*Exact case.* When R_B has exactly m visible hyperplanes, every Φ in the fiber puts one neuron
on each hyperplane, so Φ differs from a fixed representative only by a permutation, positive
per-neuron rescalings (w, b, a) ↦ (λw, λb, a/λ) and an orientation flip of a set S of
neurons. A flip of S moves −Σ_{H∈S} μ_H n_H into the linear part, so it is allowed only when
that keeps the linear part of R_B; the constant then changes by a known amount. The fiber is
the finite union of these orbits, and on each orbit the distance is a bottleneck assignment
over per-pair costs (:func:`scale_optimum`) together with |c_A − c_Φ|. One orbit is the case
"m distinct visible hyperplanes and no zero-sum flip subset" of [BEG]-type analyses.

*Otherwise* (fewer hyperplanes than neurons: neurons may be dead, affine, or share a
hyperplane) the answer is a rigorous lower bound — each hyperplane of R_B needs its own neuron
of Φ on it, so the bottleneck over (w, b)-costs of hyperplane-to-neuron injections bounds the
distance from below — and an upper bound ‖Φ − Θ_A‖_∞ for an explicit Φ whose canonical form is
checked equal to that of B.

*Per-pair scale optimum.* min_{λ>0} max(‖w − λw'‖_∞, |b − λb'|, |a − a'/λ|) is a quasi-convex
problem in λ. For a threshold t the set {λ : cost ≤ t} is an intersection of intervals whose
ends are (p + qt)/(r + st); the optimum t* is the least t where a lower end meets an upper end
(or a constant term binds). Those meeting points are roots of linear or quadratic equations in
t; they are sorted (floats only order the work) and the least one that passes the exact
feasibility test is t*. (Every feasible t is ≥ t*, and t* itself is a candidate, so the least
feasible candidate is t*; it is also checked to be tight.) Roots with a square root outside the
domain are kept as p + q√D over the domain (:class:`Quad`), with exact arithmetic and signs.
The result is the exact infimum; ``lam_domain`` is a nearby scale in the domain at which the cost
is evaluated exactly (for explicit parametrizations).

What this module trusts: the exact domain of :mod:`symkkt.realize.net` (and sympy only to
print quadratic irrationalities), and :mod:`symkkt.realize.canonical` for the fiber-membership
checks.

Examples
--------
>>> from symkkt.realize.net import ShallowNet
>>> A = ShallowNet.of([[0]], [0], [0], 0)          # the zero network
>>> B = ShallowNet.of([[1]], [0], ["1/4"], 0)      # relu(x)/4: its fiber is {(λ, 0, 1/(4λ))}
>>> r = fiber_distance(A, B)
>>> r["exact"], r["value"], r["tier"]              # min_λ max(λ, 1/(4λ)) = 1/2
(True, '1/2', 'exact')
"""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import sympy
from flint import fmpq

from ..field import FieldElement
from ..numbers import format_number
from .canonical import box_range, canonical_form, same_realization
from .net import ShallowNet, fmt, to_sympy, unify

__all__ = ["scale_optimum", "fiber_distance", "bottleneck", "exact_cmp", "exact_str", "neuron_distance", "Quad",
           "fiber_orbits", "MAX_FLIP_SUBSETS"]

#: at most this many hyperplanes for the enumeration of orientation flips (2^r subsets)
MAX_FLIP_SUBSETS = 16
#: the upper-bound construction tries all 2^r orientations up to this many hyperplanes
MAX_PATTERN_HYPERPLANES = 6


# -- mixed exact numbers: domain elements and quadratic irrationalities over the domain ---------
class Quad:
    """p + q√D with p, q, D in the exact domain, D > 0: a quadratic irrationality over the domain.

    Arithmetic with domain elements and with Quads of the same D stays exact; the sign of
    p + q√D is read off the signs of p, q and p² − q²D.

    Examples
    --------
    >>> x = Quad(fmpq(1), fmpq(-1, 10), fmpq(10))           # 1 - sqrt(10)/10
    >>> x.sign(), float(x) > 0.68, x.to_sympy()
    (1, True, 1 - sqrt(10)/10)
    >>> (x * x).to_sympy(), (1 / x).to_sympy()
    (11/10 - sqrt(10)/5, sqrt(10)/9 + 10/9)
    """

    __slots__ = ("p", "q", "D")

    def __init__(self, p, q, D):
        self.p, self.q, self.D = p, q, D

    def _pq(self, o):
        if isinstance(o, Quad):
            if o.D != self.D:
                raise ArithmeticError("Quads with different radicands")
            return o.p, o.q
        return o, self.q * 0

    @staticmethod
    def _make(p, q, D):
        return p if q == 0 else Quad(p, q, D)

    def __add__(self, o):
        p, q = self._pq(o)
        return Quad._make(self.p + p, self.q + q, self.D)

    __radd__ = __add__

    def __neg__(self):
        return Quad(-self.p, -self.q, self.D)

    def __sub__(self, o):
        return self + (-o)

    def __rsub__(self, o):
        return (-self) + o

    def __mul__(self, o):
        p, q = self._pq(o)
        return Quad._make(self.p * p + self.q * q * self.D, self.p * q + self.q * p, self.D)

    __rmul__ = __mul__

    def inverse(self):
        n = self.p * self.p - self.q * self.q * self.D
        return Quad._make(self.p / n, -self.q / n, self.D)

    def __truediv__(self, o):
        return self * (o.inverse() if isinstance(o, Quad) else 1 / o)

    def __rtruediv__(self, o):
        return self.inverse() * o

    def sign(self):
        sp, sq = _sign(self.p), _sign(self.q)
        if sq == 0 or sp == sq:
            return sp if sp else sq
        if sp == 0:
            return sq
        return sp * _sign(self.p * self.p - self.q * self.q * self.D)

    def __float__(self):
        return float(self.p) + float(self.q) * math.sqrt(float(self.D))

    def to_sympy(self):
        return to_sympy(self.p) + to_sympy(self.q) * sympy.sqrt(to_sympy(self.D))

    def __repr__(self):
        return format_number(sympy.radsimp(self.to_sympy()))


def _sign(x):
    return x.sign() if isinstance(x, (FieldElement, Quad)) else (x > 0) - (x < 0)


def _dom(x):
    return isinstance(x, (fmpq, FieldElement))


def exact_cmp(x, y):
    """The sign of x − y for domain elements and :class:`Quad` numbers, exactly.

    Examples
    --------
    >>> r2, r3 = Quad(fmpq(0), fmpq(1), fmpq(2)), Quad(fmpq(0), fmpq(1), fmpq(3))
    >>> exact_cmp(fmpq(3, 2), r2), exact_cmp(r2, r3), exact_cmp(r2 + 1, r3)
    (1, -1, 1)
    """
    if not isinstance(x, Quad) and not isinstance(y, Quad):
        return _sign(x - y)
    if not isinstance(x, Quad) or not isinstance(y, Quad) or x.D == y.D:
        return _sign(x - y)
    X = x - y.p                               # in Q(√D1); compare X with Y = y.q √D2
    sx, sy = _sign(X), _sign(y.q)
    if sx != sy:
        return 1 if sx > sy else -1
    return sx * _sign(X * X - y.q * y.q * y.D)


def exact_str(x):
    """An exact value (domain element or :class:`Quad`) as a string of the number grammar."""
    return repr(x) if isinstance(x, Quad) else fmt(x)


def _float(x):
    return float(x)


def _op(f, *xs):
    """Apply f to numbers of which some may be :class:`Quad` (fmpq defers to Quad's reflected ops)."""
    return f(*xs)


def _abs(x):
    return -x if exact_cmp(x, 0) < 0 else x


# -- the per-pair scale optimum --------------------------------------------------------------
def _ends(u, v):
    """Interval-end functions of the threshold t for cost(λ) ≤ t, and the constant thresholds.

    Returns (lows, ups, consts, rec) with ends (p, q, r, s) meaning (p + q t)/(r + s t).
    """
    (w, b, a), (w2, b2, a2) = u, v
    zero = a * 0
    lows, ups, consts = [], [], [zero]
    for x, y in list(zip(w, w2)) + [(b, b2)]:
        if y == 0:
            consts.append(_abs(x))
        else:
            sg = 1 if y > 0 else -1
            lows.append((x, zero - sg, y, zero))       # (x - sg t)/y
            ups.append((x, zero + sg, y, zero))        # (x + sg t)/y
    if a2 == 0:
        consts.append(_abs(a))
    elif a2 > 0:
        lows.append((a2, zero, a, zero + 1))           # a'/(a + t), needs a + t > 0
        ups.append((a2, zero, a, zero - 1))            # a'/(a - t) while a - t > 0, else +inf
    else:
        lows.append((a2, zero, a, zero - 1))           # a'/(a - t), needs a - t < 0
        ups.append((a2, zero, a, zero + 1))            # a'/(a + t) while a + t < 0, else +inf
    return lows, ups, consts


def _interval(u, v, t):
    """The closed set {λ ∈ [0, ∞] : cost(λ) ≤ t} as (L, U) (U None for +∞), or None when empty.

    Exact for a threshold ``t`` of the domain or a :class:`Quad`.
    """
    (w, b, a), (w2, b2, a2) = u, v
    lt = lambda x, y: exact_cmp(x, y) < 0               # noqa: E731
    add = lambda x, y: _op(lambda p, q: p + q, x, y)    # noqa: E731
    sub = lambda x, y: _op(lambda p, q: p - q, x, y)    # noqa: E731
    div = lambda x, y: _op(lambda p, q: p / q, x, y)    # noqa: E731
    zero = a * 0
    low, up = zero, None
    for x, y in list(zip(w, w2)) + [(b, b2)]:
        if y == 0:
            if lt(t, _abs(x)):
                return None
            continue
        e1, e2 = div(sub(x, t), y), div(add(x, t), y)
        lo_, hi_ = (e1, e2) if y > 0 else (e2, e1)
        low = lo_ if lt(low, lo_) else low
        up = hi_ if up is None or lt(hi_, up) else up
    ap, am = add(a, t), sub(a, t)
    if a2 == 0:
        if lt(t, _abs(a)):
            return None
    else:
        inner, outer = (ap, am) if a2 > 0 else (am, ap)   # a'/λ lies between a - t and a + t
        if exact_cmp(inner, 0) * (1 if a2 > 0 else -1) <= 0:
            return None
        e = div(a2, inner)
        low = e if lt(low, e) else low
        if exact_cmp(outer, 0) * (1 if a2 > 0 else -1) > 0:
            e = div(a2, outer)
            up = e if up is None or lt(e, up) else up
    if up is not None and lt(up, low):
        return None
    return low, up


def _maybe_feasible(u, v, t, tol=1e-9):
    """A float prefilter: False only when threshold t is infeasible by a clear margin."""
    (w, b, a), (w2, b2, a2) = u, v
    f = float
    low, up = 0.0, math.inf
    for x, y in list(zip(w, w2)) + [(b, b2)]:
        x, y = f(x), f(y)
        if y == 0:
            if t < abs(x) - tol:
                return False
            continue
        e1, e2 = (x - t) / y, (x + t) / y
        low, up = max(low, min(e1, e2)), min(up, max(e1, e2))
    a, a2 = f(a), f(a2)
    if a2 == 0:
        return t >= abs(a) - tol
    inner, outer = (a + t, a - t) if a2 > 0 else (t - a, -a - t)
    if inner < -tol:
        return False
    if inner > tol:
        low = max(low, abs(a2) / inner)
    if outer > tol:
        up = min(up, abs(a2) / outer)
    return up >= low - tol * (1 + abs(low))


def _roots(e1, e2):
    """Real roots t of (p1 + q1 t)(r2 + s2 t) = (p2 + q2 t)(r1 + s1 t)."""
    p1, q1, r1, s1 = e1
    p2, q2, r2, s2 = e2
    A = q1 * s2 - q2 * s1
    B = p1 * s2 + q1 * r2 - p2 * s1 - q2 * r1
    C = p1 * r2 - p2 * r1
    if A == 0:
        return [] if B == 0 else [-C / B]
    D = B * B - 4 * A * C
    if D < 0:
        return []
    if D == 0:
        return [-B / (2 * A)]
    if isinstance(D, fmpq) and D.p.is_square() and D.q.is_square():
        sq = fmpq(D.p.isqrt(), D.q.isqrt())
        return [(-B + sq) / (2 * A), (-B - sq) / (2 * A)]
    return [Quad(-B / (2 * A), 1 / (2 * A), D), Quad(-B / (2 * A), -1 / (2 * A), D)]


def _rational_near(x, digits=6):
    f = Fraction(_float(x)).limit_denominator(10 ** digits)
    return fmpq(f.numerator, f.denominator)


def scale_optimum(u, v):
    """min over λ > 0 of max(‖w − λw'‖_∞, |b − λb'|, |a − a'/λ|), exactly.

    Parameters
    ----------
    u, v : tuple
        Neurons (w, b, a) with w a tuple; all numbers in one exact domain. The infimum is over
        λ ∈ (0, ∞); it is attained when a' ≠ 0 and (w', b') ≠ 0, else it may be a limit.

    Returns
    -------
    dict
        ``value`` (domain element, or a :class:`Quad` when the optimum is a quadratic
        irrationality), ``lam`` (an optimal λ, same kinds; 0 or None mark a limit λ → 0 or ∞),
        ``lam_domain`` (a λ of the domain at which the cost is evaluated exactly: ``cost``).

    Examples
    --------
    >>> u = ((fmpq(1),), fmpq(0), fmpq(1))
    >>> r = scale_optimum(u, ((fmpq(1),), fmpq(-1, 2), fmpq(1, 10)))
    >>> r["value"], r["lam"]           # 1 - λ = 1 - 1/(10λ) at λ = 1/sqrt(10)
    (1 - sqrt(10)/10, sqrt(10)/10)
    >>> scale_optimum(u, ((fmpq(2),), fmpq(0), fmpq(1, 2)))["value"]   # λ = 1/2 reaches u
    0
    """
    lows, ups, consts = _ends(u, v)
    lows = lows + [(consts[0], consts[0], consts[0] + 1, consts[0])]    # the end λ ≥ 0
    cands = list(consts)
    for e1 in lows:
        for e2 in ups:
            cands += [t for t in _roots(e1, e2) if _float(t) > -1e-12 and exact_cmp(t, 0) >= 0]
    order = sorted(set(cands), key=_float) if all(_dom(t) for t in cands) else \
        sorted(cands, key=_float)
    best = None
    for t in order:
        if not _maybe_feasible(u, v, _float(t)):
            continue
        iv = _interval(u, v, t)
        if iv is not None:
            best = (t, iv)
            break
    if best is None:  # pragma: no cover - the optimum is always a candidate
        raise AssertionError("no feasible threshold among the candidates")
    t, (L, U) = best
    if not (any(exact_cmp(t, c0) == 0 for c0 in consts) or (U is not None and exact_cmp(L, U) == 0)):
        raise AssertionError("the optimal threshold is not tight")  # pragma: no cover
    lam = L
    if exact_cmp(L, 0) == 0:
        lam = U if U is not None else consts[0] + 1
    lam_dom = lam if _dom(lam) and lam != 0 else None
    if lam_dom is None:
        lam_dom = _rational_near(lam) if lam is not None and exact_cmp(lam, 0) > 0 else fmpq(1)
        lam_dom = lam_dom if lam_dom > 0 else fmpq(1, 10 ** 12)
        lam_dom = lam_dom + u[2] * 0
    return {"value": t, "lam": lam, "lam_domain": lam_dom, "cost": _cost_at(u, v, lam_dom)}


def _cost_at(u, v, lam):
    """max(‖w − λw'‖_∞, |b − λb'|, |a − a'/λ|) at one λ of the domain."""
    (w, b, a), (w2, b2, a2) = u, v
    terms = [x - lam * y for x, y in zip(w, w2)] + [b - lam * b2, a - a2 / lam]
    return max(_abs(x) for x in terms)


def neuron_distance(u, v):
    """‖u − v‖_∞ of two neurons (w, b, a), exactly."""
    (w, b, a), (w2, b2, a2) = u, v
    return max(_abs(x - y) for x, y in zip(tuple(w) + (b, a), tuple(w2) + (b2, a2)))


# -- bottleneck assignment ----------------------------------------------------------------------
def _matching(n_rows, n_cols, allowed):
    """A matching saturating all rows in the bipartite graph ``allowed[i]`` (Kuhn's algorithm)."""
    match_col = [-1] * n_cols

    def augment(i, seen):
        for j in allowed[i]:
            if not seen[j]:
                seen[j] = True
                if match_col[j] < 0 or augment(match_col[j], seen):
                    match_col[j] = i
                    return True
        return False

    for i in range(n_rows):
        if not augment(i, [False] * n_cols):
            return None
    out = [None] * n_rows
    for j, i in enumerate(match_col):
        if i >= 0:
            out[i] = j
    return out


def bottleneck(costs):
    """The least threshold τ with an injective assignment rows → columns of costs ≤ τ.

    Parameters
    ----------
    costs : list of lists
        Exact costs (domain elements or :class:`Quad`); ``n_rows ≤ n_cols``.

    Returns
    -------
    (value, assignment)
        ``assignment[i]`` is the column of row i; value None when there are no rows.

    Examples
    --------
    >>> c = [[fmpq(1), fmpq(5)], [fmpq(2), fmpq(3)]]
    >>> bottleneck(c)                  # 1 -> 0, 2 -> 1 costs max(1, 3) = 3 < max(5, 2) = 5
    (3, [0, 1])
    """
    n = len(costs)
    if n == 0:
        return None, []
    ncol = len(costs[0])
    flat = [(i, j) for i in range(n) for j in range(ncol)]
    key = functools.cmp_to_key(lambda p, q: exact_cmp(costs[p[0]][p[1]], costs[q[0]][q[1]]))
    flat.sort(key=key)
    lo, hi = n - 1, len(flat) - 1        # at least n entries are needed

    def feasible(k):
        thr = costs[flat[k][0]][flat[k][1]]
        allowed = [[j for j in range(ncol) if exact_cmp(costs[i][j], thr) <= 0] for i in range(n)]
        return _matching(n, ncol, allowed)

    best = feasible(hi)
    while lo < hi:
        mid = (lo + hi) // 2
        m = feasible(mid)
        if m is not None:
            hi, best = mid, m
        else:
            lo = mid + 1
    best = feasible(hi)
    return costs[flat[hi][0]][flat[hi][1]], best


# -- the fiber --------------------------------------------------------------------------------------
def _neurons(net):
    return [(w, b, a) for w, b, a in zip(net.W, net.b, net.a)]


def fiber_orbits(form, m):
    """The orbit representatives of the width-m fiber of a canonical form with m hyperplanes.

    Returns a list of (neurons, c, flipped) with neurons (σn_H, σβ_H, μ_H) in the order of
    ``form.sorted_hyperplanes()`` and ``flipped`` the set of hyperplane positions with σ = −1;
    None when the number of hyperplanes is not m or too large to enumerate the flips.
    """
    hyp = form.sorted_hyperplanes()
    if len(hyp) != m or m > MAX_FLIP_SUBSETS:
        return None
    zero = form.c * 0
    out = []
    for size in range(m + 1):
        for S in itertools.combinations(range(m), size):
            lin = [zero] * form.d
            const = form.c
            for k in S:
                n, beta, mu = hyp[k]
                lin = [x + mu * nj for x, nj in zip(lin, n)]   # flip: mu relu(z) = mu relu(-z) + mu z
                const = const + mu * beta
            if all(x == -vj for x, vj in zip(lin, form.v)):
                neurons = [(tuple(-x for x in n), -beta, mu) if k in S else (n, beta, mu)
                           for k, (n, beta, mu) in enumerate(hyp)]
                out.append((neurons, const, set(S)))
    return out


def _none(reason):
    return {"exact": False, "value": None, "lower": None, "upper": None, "method": "none",
            "assignment": [], "tier": None, "reason": reason}


def fiber_distance(net_a, net_b, lo=-1, hi=1):
    """dist_∞(A, R⁻¹(R_B)) over width-m parametrizations on the box (lo, hi)^d.

    Parameters
    ----------
    net_a, net_b : ShallowNet
        The same input dimension and width.
    lo, hi : exact numbers
        The box.

    Returns
    -------
    dict
        ``exact`` (bool); ``value`` (exact string) when exact, else ``lower`` and ``upper``
        (exact strings); ``method``; ``assignment`` [[i, j, scale], ...] (neuron i of A placed
        on the hyperplane of neuron j of B, with Φ_i = scale · (B_j or its flip)); ``flipped``
        (neurons j of B used with the opposite orientation); ``tier`` "exact" or "rigorous
        bounds"; ``witness`` the parameter file form of a Φ in the fiber attaining ``upper``
        (or, in the exact case, close to the optimum); ``float`` a float of the value or the
        bounds. When the shapes differ: ``value`` None and ``reason``.

    Examples
    --------
    >>> A = ShallowNet.of([[1], [-1]], [0, 0], [1, -1], 0)            # relu(x) - relu(-x) = x
    >>> B = ShallowNet.of([[1], [1]], [1, "-1/2"], [1, "1/10"], -1)   # x + relu(x - 1/2)/10
    >>> r = fiber_distance(A, B)
    >>> r["exact"], r["lower"], r["tier"]
    (False, '1/3', 'rigorous bounds')
    """
    if net_a.d != net_b.d:
        return _none(f"the networks have input dimensions {net_a.d} and {net_b.d}")
    from .canonical import same_realization

    if same_realization(net_a, net_b, lo, hi)[0]:       # A itself lies in the fiber
        return {"exact": True, "value": "0", "method": "A realizes R_B itself (equal canonical forms)",
                "assignment": [[i, i, "1"] for i in range(net_a.m)], "flipped": [], "tier": "exact", "float": 0.0,
                "witness": net_a.to_params_json(), "witness_distance": "0", "orbits": None}
    note = None
    if net_a.m != net_b.m:          # the fiber of R_B among the width-m_A parametrizations
        wide = net_b
        net_b = _at_width(net_b, net_a.m, lo, hi)
        if net_b is None:
            return _none(f"R_B needs more than m_A = {net_a.m} neurons in the parametrization symkkt builds "
                         f"(one per visible hyperplane and one for the linear part); no fiber computed")
        note = (f"R_B re-parametrized with m_A = {net_a.m} neurons (from {wide.m}; canonical form checked "
                "equal)")
    r = _fiber(net_a, net_b, lo, hi)
    if note:
        r["method"] = f"{r['method']}; {note}"
    return r


def _at_width(net, m, lo, hi):
    """A parametrization of R_net with exactly ``m`` neurons (zero neurons added), or None."""
    from .canonical import same_realization
    from .restricted import canonicalize

    if net.m > m:
        net = canonicalize(net, lo, hi)
        keep = [i for i in range(net.m) if not (net.a[i] == 0 and all(w == 0 for w in net.W[i]) and net.b[i] == 0)]
        net = net.with_neurons(keep)
        if net.m > m:
            return None
    zero = net.c - net.c
    k = m - net.m
    out = ShallowNet(net.W + ((zero,) * net.d,) * k, net.b + (zero,) * k, net.a + (zero,) * k, net.c, net.d,
                     net.source)
    return out


def _fiber(net_a, net_b, lo, hi):
    (net_a, net_b), (lo, hi) = unify([net_a, net_b], [lo, hi])
    form = canonical_form(net_b, lo, hi)
    m = net_a.m
    A = _neurons(net_a)
    orbits = fiber_orbits(form, m)
    if orbits is not None:
        return _exact_orbits(net_a, net_b, A, form, orbits, lo, hi)
    return _bounds(net_a, net_b, A, form, lo, hi)


def _b_index(form, net_b):
    """Hyperplane position -> (neuron j of B on it, its scale ‖w_j‖_∞, whether B_j is flipped)."""
    out = {}
    hyp = form.sorted_hyperplanes()
    for k, (n, beta, _) in enumerate(hyp):
        j = form.members[(n, beta)][0]
        w = net_b.W[j]
        s = max(_abs(x) for x in w)
        first = next(x for x in w if x != 0)
        out[k] = (j, s, first < 0)
    return out


def _exact_orbits(net_a, net_b, A, form, orbits, lo, hi):
    m = len(A)
    bidx = _b_index(form, net_b)
    best = None
    memo = {}          # (i, k, flipped): the per-pair optimum, shared by the orbits

    def pair(i, k, S, target):
        key = (i, k, k in S)
        if key not in memo:
            memo[key] = scale_optimum(A[i], target)
        return memo[key]

    for neurons, const, S in orbits:
        cdist = _abs(net_a.c - const)
        if best is not None and exact_cmp(cdist, best[0]) >= 0:
            continue                   # this orbit cannot beat the best one: its constant is too far
        cmat = [[pair(i, k, S, neurons[k]) for k in range(m)] for i in range(m)]
        value, assign = bottleneck([[r["value"] for r in row] for row in cmat]) if m else (None, [])
        total = cdist if value is None or exact_cmp(cdist, value) > 0 else value
        if best is None or exact_cmp(total, best[0]) < 0:
            best = (total, assign, cmat, neurons, const, S)
    total, assign, cmat, neurons, const, S = best
    rows, phi = [], [None] * m
    for i, k in enumerate(assign):
        j, s, bflip = bidx[k]
        r = cmat[i][k]
        phi[i] = tuple(r["lam_domain"] * x for x in neurons[k][0]), r["lam_domain"] * neurons[k][1], \
            neurons[k][2] / r["lam_domain"]
        rows.append([i, j, exact_str(_op(lambda p, q: p / q, r["lam"], s))])
    flipped = sorted(bidx[k][0] for k in range(m) if (k in S) != bidx[k][2])
    witness = ShallowNet(tuple(p[0] for p in phi), tuple(p[1] for p in phi), tuple(p[2] for p in phi),
                         const, net_a.d)
    same, _ = same_realization(witness, net_b, lo, hi)
    assert same, "the orbit representative realizes R_B"
    n_orb = len(orbits)
    return {"exact": True, "value": exact_str(total), "method":
            f"bottleneck assignment over {n_orb} orbit{'s' if n_orb > 1 else ''} of permutations and positive "
            f"rescalings (R_B has m = {m} visible hyperplanes; {n_orb - 1} admissible orientation flip"
            f"{'s' if n_orb != 2 else ''})",
            "assignment": rows, "flipped": flipped, "tier": "exact", "float": _float(total),
            "witness": witness.to_params_json(), "witness_distance": fmt(_param_distance(net_a, witness)),
            "orbits": n_orb}


def _param_distance(net_a, net_b):
    return max([neuron_distance(u, v) for u, v in zip(_neurons(net_a), _neurons(net_b))] + [_abs(net_a.c - net_b.c)])


# -- bounds when the fiber is not a finite union of orbits --------------------------------------------
def _line_cost(u, n, beta):
    """min over λ ∈ R of max(‖w − λn‖_∞, |b − λβ|): the cost of moving (w, b) onto the hyperplane (n, β).

    A convex piecewise-linear function of λ: its minimum is at a zero of a term or where two
    terms meet, all candidates in the domain. (λ = 0 is a limit: the neuron degenerates.)
    """
    w, b, _ = u
    pairs = list(zip(w, n)) + [(b, beta)]
    cands = []
    for (x1, y1), (x2, y2) in itertools.combinations_with_replacement(pairs, 2):
        for sg in (1, -1):
            den = y1 - sg * y2
            if den != 0:
                cands.append((x1 - sg * x2) / den)
    for x, y in pairs:
        if y != 0:
            cands.append(x / y)
    cands.append(b * 0)
    return min(max(_abs(x - lam * y) for x, y in pairs) for lam in cands)


def _null_neuron(u, lo, hi):
    """The cheapest change making neuron u contribute nothing on the box: a = 0, or dead."""
    w, b, a = u
    _, mx = box_range(w, b, lo, hi)
    shift = mx if mx > 0 else mx * 0              # b - max_box(w·x + b) ... makes it dead
    if _abs(a) <= shift:
        return (w, b, a * 0)
    return (w, b - shift, a)


def _scale_near(u, v):
    """A λ > 0 of the domain near the optimal scale (exact search for rationals, else a float search)."""
    if all(isinstance(x, fmpq) for x in (u[1], u[2], v[1], v[2])):
        return scale_optimum(u, v)["lam_domain"]
    cost = lambda lam: _float_cost(u, v, lam)   # noqa: E731
    lo_, hi_ = -30.0, 30.0
    grid = [lo_ + (hi_ - lo_) * k / 600 for k in range(601)]
    k = min(range(len(grid)), key=lambda j: cost(math.exp(grid[j])))
    a_, b_ = grid[max(k - 1, 0)], grid[min(k + 1, 600)]
    for _ in range(100):
        m1, m2 = a_ + (b_ - a_) / 3, b_ - (b_ - a_) / 3
        if cost(math.exp(m1)) <= cost(math.exp(m2)):
            b_ = m2
        else:
            a_ = m1
    return _rational_near(math.exp((a_ + b_) / 2)) + u[2] * 0


def _float_cost(u, v, lam):
    (w, b, a), (w2, b2, a2) = u, v
    return max([abs(float(x) - lam * float(y)) for x, y in zip(w, w2)] +
               [abs(float(b) - lam * float(b2)), abs(float(a) - float(a2) / lam)])


def _on_plane(u, n, beta, q):
    """The neuron (λn, λβ, q/λ) (λ > 0) close to u: it realizes q relu(n·x + β)."""
    lam = _scale_near(u, (n, beta, q))
    return tuple(lam * x for x in n), lam * beta, q / lam


def _affine_carrier(u, r, lo, hi):
    """A neuron close to u that is affine on the box with slope vector r (a·w = r)."""
    w, b, a = u
    rn = max(_abs(x) for x in r)
    rhat = tuple(x / rn for x in r)
    mn, mx = box_range(rhat, b * 0, lo, hi)
    best = None
    # w = λ rhat (λ > 0) needs b ≥ -λ mn; w = -λ rhat needs b ≥ λ mx
    for tgt in ((rhat, -mn, rn), (tuple(-x for x in rhat), mx, -rn)):
        lam = _scale_near(u, tgt)
        wn = tuple(lam * x for x in tgt[0])
        bmin = -box_range(wn, b * 0, lo, hi)[0]
        cand = (wn, b if b >= bmin else bmin, tgt[2] / lam)
        cost = neuron_distance(u, cand)
        if best is None or cost < best[0]:
            best = (cost, cand)
    return best[1]


def _bounds(net_a, net_b, A, form, lo, hi):
    m = len(A)
    hyp = form.sorted_hyperplanes()
    r = len(hyp)
    # lower bound: each hyperplane needs its own neuron of Φ on it
    if r:
        lmat = [[_line_cost(A[i], n, beta) for i in range(m)] for (n, beta, _) in hyp]
        lower, lassign = bottleneck(lmat)
    else:
        lower, lassign = net_a.c * 0, []
    # upper bound: an explicit parametrization in the fiber
    b_orient = []
    for n, beta, _ in hyp:
        j = form.members[(n, beta)][0]
        b_orient.append(-1 if next(x for x in net_b.W[j] if x != 0) < 0 else 1)
    Phi = _construct(net_a, A, hyp, form, lo, hi, lassign, b_orient)
    orbit = _aligned_b(net_a, net_b)                  # B permuted and rescaled lies in the fiber
    if Phi is None or _param_distance(net_a, orbit) < _param_distance(net_a, Phi):
        Phi = orbit
    same, _ = same_realization(Phi, net_b, lo, hi)
    assert same, "the constructed parametrization realizes R_B"
    upper = _param_distance(net_a, Phi)
    exact = upper == lower
    out = {"exact": exact, "lower": fmt(lower), "upper": fmt(upper),
           "method": f"lower bound: bottleneck of (w, b)-costs placing one neuron on each of the {r} visible "
                     f"hyperplane{'s' if r != 1 else ''} of R_B (m = {m}); upper bound: an explicit "
                     "parametrization of R_B with its canonical form checked equal",
           "assignment": [[i, (form.members[(hyp[k][0], hyp[k][1])][0]), None] for k, i in enumerate(lassign)],
           "tier": "exact" if exact else "rigorous bounds", "float": [_float(lower), _float(upper)],
           "witness": Phi.to_params_json()}
    if exact:
        out["value"] = fmt(upper)
    return out


def _aligned_b(net_a, net_b):
    """B with its neurons permuted and rescaled (scales of the domain) to be near A."""
    A, B = _neurons(net_a), _neurons(net_b)
    m = len(A)
    if not m:
        return net_b
    opt = [[_aligned_pair(A[i], B[j]) for j in range(m)] for i in range(m)]
    _, assign = bottleneck([[o[0] for o in row] for row in opt])
    ns = [opt[i][assign[i]][1] for i in range(m)]
    return ShallowNet(tuple(n[0] for n in ns), tuple(n[1] for n in ns), tuple(n[2] for n in ns), net_b.c, net_a.d)


def _aligned_pair(u, v):
    """(exact cost, neuron): v rescaled by a positive λ of the domain near the best one for u."""
    w, b, a = v
    if all(x == 0 for x in w) and b == 0 or a == 0:
        lam = a * 0 + 1
    else:
        lam = _scale_near(u, v)
    n = (tuple(lam * x for x in w), lam * b, a / lam)
    return neuron_distance(u, n), n


def _complete(net_a, neurons, form, lo, hi, carrier):
    """Φ from the neurons and the constant that makes its canonical form equal ``form``.

    With an affine carrier neuron j its offset b_j is free above the least value keeping it
    affine; a·b_j enters the constant, so b_j is chosen to balance |b_j − b^A_j| against |c − c_A|.
    """
    d = net_a.d

    def build(ns):
        P = ShallowNet(tuple(n[0] for n in ns), tuple(n[1] for n in ns), tuple(n[2] for n in ns), net_a.c * 0, d)
        return ShallowNet(P.W, P.b, P.a, form.c - canonical_form(P, lo, hi).c, d)

    Phi = build(neurons)
    if carrier is None:
        return Phi
    j = carrier
    w, b0, a = neurons[j]
    bmin = -box_range(w, b0 * 0, lo, hi)[0]
    bA, cA = net_a.b[j], net_a.c
    C0 = Phi.c + a * b0                      # c_Φ(b) = C0 − a·b
    cands = {b0, bA, (C0 - cA) / a}
    for sg in (1, -1):
        if 1 + sg * a != 0:
            cands.add((bA + sg * (C0 - cA)) / (1 + sg * a))
    best = None
    for bc in cands:
        bc = bc if bc >= bmin else bmin
        ns = list(neurons)
        ns[j] = (w, bc, a)
        P = ShallowNet(Phi.W, tuple(n[1] for n in ns), Phi.a, C0 - a * bc, d)
        cost = _param_distance(net_a, P)
        if best is None or cost < best[0]:
            best = (cost, P)
    return best[1]


def _construct(net_a, A, hyp, form, lo, hi, lassign, b_orient):
    """A Φ with R_Φ = Σ μ_H relu(n_H·x + β_H) + v·x + c (the canonical form), close to A.

    Hyperplane k gets neuron lassign[k] (orientations tried exhaustively for r ≤
    MAX_PATTERN_HYPERPLANES, else the nearer one, B's own and all positive); the
    linear remainder goes to one free neuron, either affine on the box or, when parallel to
    a hyperplane normal, a second neuron on that hyperplane with the opposite orientation;
    the other free neurons are switched off (a = 0 or dead, whichever is nearer).
    """
    m, r = len(A), len(hyp)
    free = [i for i in range(m) if i not in lassign]
    prim = {}
    for k, i in enumerate(lassign):
        n, beta, mu = hyp[k]
        for sg in (1, -1):
            prim[(k, sg)] = _on_plane(A[i], tuple(sg * x for x in n), sg * beta, mu)
    nulls = {i: _null_neuron(A[i], lo, hi) for i in free}
    if r <= MAX_PATTERN_HYPERPLANES:
        patterns = list(itertools.product((1, -1), repeat=r))
    else:   # the nearer orientation per hyperplane, B's own orientations, all positive
        patterns = {tuple(1 if neuron_distance(A[lassign[k]], prim[(k, 1)]) <=
                          neuron_distance(A[lassign[k]], prim[(k, -1)]) else -1 for k in range(r)),
                    tuple(b_orient), (1,) * r}
    best = None
    for pat in patterns:
        resid = list(form.v)
        for k, sg in enumerate(pat):
            if sg < 0:
                n, beta, mu = hyp[k]
                resid = [x + mu * nj for x, nj in zip(resid, n)]
        base = {lassign[k]: prim[(k, sg)] for k, sg in enumerate(pat)}
        options = []
        if all(x == 0 for x in resid):
            options.append(({}, None))
        elif free:
            for j in free:
                options.append(({j: _affine_carrier(A[j], resid, lo, hi)}, j))
                for k, (n, beta, mu) in enumerate(hyp):
                    ratio = _parallel(resid, n)
                    if ratio is None:
                        continue
                    # a second neuron j on H_k with the orientation opposite to neuron i; the
                    # flipped one of the two, with coefficient q, adds -q n to the linear part
                    sg = pat[k]
                    if sg > 0:
                        q_j = -ratio
                        q_i = mu - q_j
                    else:
                        q_i = mu - ratio
                        q_j = mu - q_i
                    if q_i == 0 or q_j == 0:
                        continue
                    i = lassign[k]
                    ni = _on_plane(A[i], tuple(sg * x for x in n), sg * beta, q_i)
                    nj = _on_plane(A[j], tuple(-sg * x for x in n), -sg * beta, q_j)
                    options.append(({j: nj, i: ni}, None))
        for opt, carrier in options:
            neurons = [opt.get(i, base.get(i, nulls.get(i))) for i in range(m)]
            Phi = _complete(net_a, neurons, form, lo, hi, carrier)
            cost = _param_distance(net_a, Phi)
            if best is None or cost < best[0]:
                best = (cost, Phi)
    return best[1] if best else None


def _parallel(r, n):
    """ρ with r = ρ n, or None."""
    k = next(j for j, x in enumerate(n) if x != 0)
    rho = r[k] / n[k]
    return rho if all(x == rho * y for x, y in zip(r, n)) else None
