"""The max-margin problem P_Φ and exact decisions of its KKT points and directions.

P_Φ: minimise ½‖θ‖² subject to q_k(θ) = y_k Φ(θ; x_k) ≥ 1. θ is a (Clarke) KKT point when it is
feasible and θ = Σ_k λ_k y_k h_k with λ ≥ 0, λ_k = 0 whenever q_k > 1 and h_k ∈ ∂°Φ(θ; x_k).
θ is a KKT direction when θ / q_min^(1/L) is a KKT point, equivalently θ = Σ μ_k y_k h_k with
μ ≥ 0 supported on argmin q_k.

How it is decided (exactly, in the number field of the inputs):

1. margins q_k by an exact forward pass; feasibility and the active set;
2. on each active point, the kink units (pre-activation exactly 0). A *vertex pattern* gives
   each kink unit u a slope in {1, s_u} (s_u its left slope); h_k(g) is the chain rule at θ
   with those slopes. Every limiting gradient of Φ(·; x_k) at θ is such an h_k(g), so
   ∂°Φ(θ; x_k) lies in the *chain-rule hull* conv{h_k(g) : all vertex patterns};
3. ``clarke_set="clarke"`` (default) enumerates the vertex patterns realized near θ: the cells
   of the arrangement of the kink pre-activations' gradients in direction space, layer by layer
   (the gradient a_u of a deeper kink unit depends on the slopes chosen upstream). A pattern is
   *first-order realizable* when a direction d has σ_u a_u·d > 0 at every kink unit (σ_u = +1
   for slope 1, −1 for s_u), found by an exact LP: along θ + t·d every kink unit then has the
   sign σ_u, so h_k(g) is a limiting gradient, a Clarke element. When the LP is infeasible for
   units of the first weight layer (whose pre-activations are linear in θ), its Farkas vector is
   a Gordan vector ν ≥ 0, Σ ν_u σ_u a_u = 0, which proves the pattern never occurs near θ.
   A first-layer kink unit with a_u = 0 (a zero input patch and no bias) is *free*: z_u ≡ 0,
   so σ(z_u) ≡ 0 near θ and Φ(·; x_k) coincides there with the net in which u outputs the
   constant 0. Its slope multiplies a zero patch and nothing downstream sees it, so h_k does
   not depend on it; the limiting gradients are those of the reduced net. A free unit puts no
   condition on d, takes slope 1 in every pattern (for either vertex) and is left out of the
   Gordan systems;
4. θ ∈ cone(columns y_k h_k) by :func:`symkkt.linear.nonnegative_solution`: a solution gives
   the multipliers and Clarke elements, otherwise an exact Farkas vector refutes.

The decision is exactly Clarke-KKT when the realizable patterns of every active point are all
vertex patterns minus the Gordan-excluded ones, free units counted once (always so when every
kink unit is in the first weight layer, or when the kink gradients are linearly independent).
Otherwise ``holds`` is proved with realizable patterns only, ``refuted`` with the hull minus the
excluded patterns, and in between the answer is ``inconclusive``. ``clarke_set="chain_rule_hull"``
decides KKT with respect to the chain-rule hull with independent per-unit slopes instead.

Examples
--------
>>> from symkkt.api import load_example
>>> problem, theta = load_example("example1")
>>> result = problem.decide(theta)
>>> result.verdict, [str(m) for m in result.multipliers]
('holds', ['1', 'sqrt(2)/2', '0'])
>>> result.clarke_set
'gradient'
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy

from .errors import VERDICT_EXIT
from .linear import Feasible, float_direction, gauss_jordan, nnls, nonnegative_solution, rank_profile
from .network import Network
from .numbers import format_number
from .field import as_sympy, to_floats
from .tensor import ExactDomain


#: the sets a decision can be made for: machine name -> description
CLARKE_SETS = {
    "gradient": "gradient (no active point sits on a kink)",
    "clarke": "Clarke subdifferential: convex hull of limiting gradients, each vertex pattern "
              "realized by a direction",
    "chain_rule_hull": "convex hull of chain-rule elements with independent per-unit slopes "
                       "(contains the Clarke subdifferential, A.3 of [A])",
}


@dataclass
class KKTResult:
    """The decision on one parameter point, with its witness and figures (all exact).

    ``verdict`` is ``"holds"``, ``"refuted"`` or ``"inconclusive"``; ``witness`` holds the
    multipliers and Clarke elements (holds) or the failing condition (refuted).
    ``clarke_set`` is the machine name of the set the decision was made for (a key of
    :data:`CLARKE_SETS`); ``clarke`` lists Clarke elements for display (vertex terms merged
    into interior slopes where that is exact), ``clarke_terms`` the vertex terms with their
    realizing directions (``clarke`` set). ``tied`` lists, per point, kink units of the first
    weight layer whose slopes are tied together near θ. ``kinks`` maps each active point with
    kink units to their labels ``"LAYER:UNIT"`` (flat units, as in certificates), ``kink_units``
    to where each sits (:meth:`Network.unit_reading`: channel and position for conv layers).
    ``uniqueness`` (holds only) says whether every representation θ = Σ λ_k y_k h_k with
    admissible h_k has the same λ: ``{"unique": True | False | None, ...}`` with a second
    multiplier vector and its Clarke elements when False.

    Every data point index (``point``, the keys of ``kinks``, ``tied``, the active set) is
    0-based, in the order of the data file.
    """

    verdict: str
    reason: str
    kind: str
    problem: "MaxMarginProblem"
    theta: list
    margins: list = field(default_factory=list)
    active: list = field(default_factory=list)
    multipliers: list | None = None
    clarke: list = field(default_factory=list)
    clarke_terms: list = field(default_factory=list)
    kinks: dict = field(default_factory=dict)
    kink_units: dict = field(default_factory=dict)
    uniqueness: dict = field(default_factory=dict)
    tied: dict = field(default_factory=dict)
    clarke_set: str = "clarke"
    witness: dict = field(default_factory=dict)
    squared_norm: object = None
    normalized_margin: object = None
    identity: dict = field(default_factory=dict)
    point_multipliers: list | None = None
    tier: str = "exact"

    @property
    def exit_code(self):
        return VERDICT_EXIT[self.verdict]

    @property
    def clarke_set_description(self):
        """What :attr:`clarke_set` means, in words."""
        return CLARKE_SETS[self.clarke_set]

    def to_json(self):
        """A JSON-ready dict; numbers are exact strings in the input grammar."""
        f = _fmt
        out = {
            "verdict": self.verdict,
            "reason": self.reason,
            "claim": self.kind,
            "tier": self.tier,
            "margins": [f(q) for q in self.margins],
            "active_set": list(self.active),
            "kinks": {str(k): {u: dict(self.kink_units.get(k, {}).get(u, {})) for u in v}
                      for k, v in self.kinks.items()},
            "clarke_set": self.clarke_set,
            "clarke_set_description": self.clarke_set_description,
        }
        if self.tied:
            out["tied"] = {str(k): v for k, v in self.tied.items()}
        if self.squared_norm is not None:
            out["squared_norm"] = f(self.squared_norm)
        if self.normalized_margin is not None:
            out["normalized_margin"] = f(self.normalized_margin)
        if self.multipliers is not None:
            out["multipliers"] = [f(m) for m in self.multipliers]
            out["clarke"] = _clarke_json(self.clarke)
        if self.uniqueness:
            out["multipliers_unique"] = self.uniqueness["unique"]
            out["multipliers_unique_reason"] = self.uniqueness["reason"]
            if self.uniqueness["unique"] is False:
                out["second_multipliers"] = [f(m) for m in self.uniqueness["multipliers"]]
                out["second_clarke"] = _clarke_json(self.uniqueness["clarke"])
        if self.point_multipliers is not None:
            out["kkt_point_multipliers"] = [f(m) for m in self.point_multipliers]
        if self.identity:
            out["identity"] = {k: (f(v) if not isinstance(v, (bool, str)) else v)
                               for k, v in self.identity.items()}
        if self.verdict == "refuted":
            out["witness"] = _witness_json(self.witness)
        return out

    def certificate(self):
        """The certificate of this decision (``None`` for inconclusive results)."""
        from .certificate import kkt_certificate

        return kkt_certificate(self)

    def __repr__(self):
        lines = [f"KKTResult({self.kind}: {self.verdict} — {self.reason})",
                 f"  margins      {[format_number(q) for q in self.margins]}",
                 f"  active set   {self.active}",
                 f"  Clarke set   {self.clarke_set}: {self.clarke_set_description}"]
        if self.kinks:
            lines.append("  kinks        " + "; ".join(
                f"point {k}: " + ", ".join(_kink_text(u, self.kink_units.get(k, {}).get(u, {})) for u in units)
                for k, units in sorted(self.kinks.items())))
        if self.tied:
            lines.append(f"  tied slopes  {self.tied}")
        if self.multipliers is not None:
            lines.append(f"  multipliers  {[format_number(m) for m in self.multipliers]}")
        if self.clarke:
            lines.append(f"  Clarke slopes {_clarke_json(self.clarke)}")
        if self.uniqueness:
            u = self.uniqueness
            lines.append("  unique       " + {True: "yes", None: "undecided", False: "no"}[u["unique"]]
                         + f" — {u['reason']}"
                         + (f"; also {[format_number(m) for m in u['multipliers']]}" if u["unique"] is False else ""))
        if self.identity:
            lines.append(f"  identity     {self.identity['statement']}: "
                         f"{format_number(self.identity['lhs'])} = {format_number(self.identity['rhs'])}")
        if self.normalized_margin is not None:
            lines.append(f"  normalized margin {format_number(self.normalized_margin)}")
        if self.verdict == "refuted":
            w = _witness_json(self.witness)
            lines.append(f"  witness      {w}")
        lines.append(f"  tier         {self.tier}")
        return "\n".join(lines)


def _fmt(v):
    return format_number(as_sympy(v))


def _power(x, p):
    """x^p for a field element and an integer p >= 0."""
    out = x.field.element(1)
    for _ in range(p):
        out = out * x
    return out


def _kink_text(label, reading):
    """``1:3`` or, for a conv unit, ``1:3 (channel 1, position [1])``."""
    if "channel" in reading:
        return f"{label} (channel {reading['channel']}, position {reading['position']})"
    return label


def _clarke_json(clarke):
    return [{"point": c["point"],
             "terms": [{"weight": _fmt(t["weight"]),
                        "slopes": {u: _fmt(g) for u, g in t["slopes"].items()},
                        **({"direction": [_fmt(v) for v in t["direction"]]} if "direction" in t else {})}
                       for t in c["terms"]]}
            for c in clarke]


def _witness_json(w):
    out = dict(w)
    if "farkas" in out:
        out["farkas"] = [_fmt(v) for v in out["farkas"]]
    if "margin" in out:
        out["margin"] = _fmt(out["margin"])
    if "excluded" in out:
        out["excluded"] = [{"point": e["point"], "signs": dict(e["signs"]),
                            "gordan": {u: _fmt(v) for u, v in e["gordan"].items()}} for e in out["excluded"]]
    return out


# -- the arrangement of kink gradients ---------------------------------------------------------
class VertexCapExceeded(Exception):
    """More cells or vertex columns would be enumerated than the ``vertices`` limit allows."""


@dataclass
class _Budget:
    """Cells and vertex columns spent so far, against the ``vertices`` limit (:mod:`symkkt.limits`,
    raised with ``--limit vertices=N``)."""

    spent: int = 0

    def check(self, extra, what):
        from . import limits

        cap = limits.get("vertices")
        if self.spent + extra > cap:
            raise VertexCapExceeded(f"limit exceeded: more than {cap} Clarke cells and vertex columns to "
                                    f"enumerate in total ({what}) (raise with --limit vertices=N)")

    def spend(self, n):
        self.spent += n


@dataclass
class _Cell:
    """A sign pattern of the kink units processed so far, with the strict system that realizes it.

    ``rows`` are ``(unit, σ, a_u)``; ``d`` satisfies σ·a_u·d > 0 for all of them (``None``
    while there is no row: only free units so far). Free units carry a sign but no row.
    """

    signs: dict
    rows: list
    d: list | None

    def child(self, unit, sigma, grad, d):
        rows = self.rows + ([(unit, sigma, grad)] if grad is not None else [])
        return _Cell({**self.signs, unit: sigma}, rows, d)

    def signed(self, extra=()):
        """The rows σ·a_u, then ``extra``."""
        return [a if s > 0 else [-v for v in a] for _, s, a in self.rows] + list(extra)


@dataclass
class PointPatterns:
    """The vertex patterns of one active point (units are ``(layer_index, unit)``).

    ``realizable``: ``[(slopes, direction)]`` first-order realizable patterns with a direction d
    (field elements); ``excluded``: Gordan entries ``{"signs", "gordan"}`` over first-layer kink
    units; ``first``: the sign patterns of the first-layer kink units not excluded; ``deeper``:
    the other kink units; ``exact``: the realizable patterns are all vertex patterns that are
    not excluded; ``free``: first-layer kink units with ∇_θ z_u = 0 (z_u ≡ 0, e.g. a zero input
    patch without bias). Φ(·; x_k) equals near θ the net in which a free unit outputs the
    constant 0, so h_k does not depend on its slope: every pattern gives it slope 1 (standing
    for both vertices), it puts no condition on the directions, and ``exact`` counts the
    patterns of the other units only.
    """

    point: int
    kinks: list
    realizable: list
    excluded: list
    first: list
    deeper: list
    exact: bool
    free: set = field(default_factory=set)

    def hull(self, slope):
        """Slope dicts of all vertex patterns not excluded (``slope(unit, σ)`` gives the slope)."""
        for signs in self.first:
            base = {u: slope(u, s) for u, s in signs.items()}
            for deep in itertools.product((1, -1), repeat=len(self.deeper)):
                yield {**base, **{u: slope(u, s) for u, s in zip(self.deeper, deep)}}

    @property
    def hull_size(self):
        return len(self.first) * 2 ** len(self.deeper)


def _dot(a, b, zero):
    s = zero
    for u, v in zip(a, b):
        if not (u.is_zero() or v.is_zero()):
            s = s + u * v
    return s


def strict_cone(rows, zero, one):
    """A direction d with r·d ≥ 1 for every row r, or a Gordan vector.

    Exact LP over the rows' field: d = d⁺ − d⁻ and slacks s ≥ 0 with r_i·(d⁺ − d⁻) − s_i = 1.
    Returns ``("direction", d)`` or ``("gordan", ν)`` with ν ≥ 0, Σν > 0 and Σ ν_i r_i = 0
    (then no d has r_i·d > 0 for all i).

    Examples
    --------
    >>> from symkkt.field import NumberField
    >>> K = NumberField(sympy.Integer(1))
    >>> e = K.element
    >>> kind, d = strict_cone([[e(1), e(0)], [e(0), e(-1)]], e(0), e(1))
    >>> kind, [str(v) for v in d]
    ('direction', ['1', '-1'])
    >>> kind, nu = strict_cone([[e(1), e(-1)], [e(-1), e(1)]], e(0), e(1))
    >>> kind, [str(v) for v in nu]
    ('gordan', ['1', '1'])
    """
    quick = _float_guided(rows, zero, one)
    if quick is not None:
        return quick
    m, r = len(rows[0]), len(rows)
    support = [j for j in range(m) if any(not row[j].is_zero() for row in rows)]
    A = [[row[j] for j in support] + [-row[j] for j in support] + [-one if t == i else zero for t in range(r)]
         for i, row in enumerate(rows)]
    sol = nonnegative_solution(A, [one] * r, lambda v: v.sign(), zero=zero, one=one)
    if isinstance(sol, Feasible):
        d = [zero] * m
        for t, j in enumerate(support):
            d[j] = sol.x[t] - sol.x[len(support) + t]
        return "direction", d
    # y^T A >= 0 on ±r columns forces Σ y_i r_i = 0; on the slack columns y <= 0; y^T 1 < 0
    nu = [-v for v in sol.y]
    top = next(v for v in nu if v.sign() > 0)
    return "gordan", [v / top for v in nu]


def _dot_rational(row, q, zero):
    """row·q for field elements ``row`` and rationals ``q`` (coordinate-wise, no field products)."""
    n = zero.field.degree
    acc = [0] * n
    for v, x in zip(row, q):
        if x:
            for i, c in enumerate(v.c):
                if c:
                    acc[i] += c * x
    return type(zero)(zero.field, [zero.c[i] + acc[i] for i in range(n)])


def _float_guided(rows, zero, one):
    """:func:`strict_cone` answered from a float solution when it verifies exactly, else None.

    With the earlier rows strictly feasible (as in the pattern enumeration), the last row r makes
    the system infeasible iff −r is a non-negative combination Σ c_j r_j of the others; a float
    NNLS proposes the support of c, which is then solved for and checked exactly (Gordan vector
    (c, 1)). Otherwise a float direction (least squares, then perceptron steps) is rounded to
    rationals and kept when r·d > 0 holds exactly for every row (then scaled to min r·d = 1).
    """
    import numpy as np

    if len(rows) < 2 or not rows[0]:
        return None
    R = np.array([to_floats(r) for r in rows])
    if not np.isfinite(R).all():
        return None
    scale = np.abs(R).max()
    if scale == 0:
        return None
    R = R / scale
    old, new = R[:-1], R[-1]
    c = nnls(old.T, -new)[0]
    if np.linalg.norm(old.T @ c + new) < 1e-9:
        found = _exact_gordan(rows, [j for j in range(len(c)) if c[j] > 1e-10], zero, one)
        if found is not None:
            return "gordan", found
        return None
    d = float_direction(R)
    if d is None:
        return None
    from fractions import Fraction

    from flint import fmpq

    q = [fmpq(v.numerator, v.denominator)
         for v in (Fraction(float(x)).limit_denominator(1 << 24) for x in d / np.abs(d).max())]
    values = [_dot_rational(r, q, zero) for r in rows]
    if not all(v.sign() > 0 for v in values):
        return None
    low = values[0]
    for v in values[1:]:
        if (v - low).sign() < 0:
            low = v
    inv = low.inverse()
    return "direction", [inv * x for x in q]


def _exact_gordan(rows, support, zero, one):
    """ν ≥ 0 with Σ ν_i r_i = 0 and ν_last = 1, from the support of the earlier rows; exact; or None."""
    if not support:
        return None
    sub = [rows[j] for j in support]
    R, P = rank_profile(sub, zero, one)
    if len(R) < len(sub):
        return None
    k = len(sub)
    # solve Σ_j c_j sub_j[p] = −last[p] on the pivot columns p, then check every column
    H = [[sub[j][p] for j in range(k)] + [-rows[-1][p]] for p in P]
    gauss_jordan(H, k, one)
    c = [H[i][k] for i in range(k)]
    if not all(v.sign() > 0 for v in c):
        return None
    for col in range(len(rows[0])):
        total = rows[-1][col]
        for cj, row in zip(c, sub):
            total = total + cj * row[col]
        if not total.is_zero():
            return None
    nu = [zero] * len(rows)
    for cj, j in zip(c, support):
        nu[j] = cj
    nu[-1] = one
    top = next(v for v in nu if v.sign() > 0)
    return [v / top for v in nu]


def _right_inverse(rows, zero, one):
    """For linearly independent rows r_i: the map s ↦ d with r_i·d = s_i (d on pivot columns),
    else None."""
    if not rows:
        return lambda s: []
    R, P = rank_profile(rows, zero, one)
    n = len(rows)
    if len(R) < n:
        return None
    # Gauss-Jordan on [M | I] with M = rows restricted to the pivot columns P
    H = [[rows[i][p] for p in P] + [one if j == i else zero for j in range(n)] for i in range(n)]
    gauss_jordan(H, n, one)
    m = len(rows[0])

    def solve(s):
        d = [zero] * m
        for k, p in enumerate(P):
            d[p] = _dot(H[k][n:], s, zero)
        return d
    return solve


def _tied(first, units):
    """Groups of first-layer kink units with equal (or opposite) signs in every pattern of ``first``."""
    if not first:
        return []
    groups, seen = [], set()
    for u in units:
        if u in seen:
            continue
        equal = [v for v in units if v not in seen and all(p[v] == p[u] for p in first)]
        opposite = [v for v in units if v not in seen and all(p[v] == -p[u] for p in first)]
        if len(equal) + len(opposite) > 1:
            groups.append((equal, opposite))
            seen.update(equal + opposite)
    return groups


class MaxMarginProblem:
    """P_Φ for a network and a labelled data set.

    Parameters
    ----------
    network : Network or symkkt.spec.Architecture
    data : symkkt.spec.Dataset
        Labels must be ±1.
    """

    def __init__(self, network, data):
        self.network = network if isinstance(network, Network) else Network(network)
        self.data = data
        self.homogeneity = self.network.homogeneity()

    def __repr__(self):
        n = len(self.data.y)
        L = self.homogeneity.degree
        return (f"MaxMarginProblem: minimize 1/2 |theta|^2 subject to y_k Phi(theta; x_k) >= 1, "
                f"k = 0..{n - 1}; m = {self.network.num_parameters} parameters, "
                + (f"L = {L}" if L else f"not homogeneous ({self.homogeneity.reason})")
                + "\n  KKT: theta = sum_k lambda_k y_k h_k, h_k in Clarke(Phi(.; x_k)), "
                  "lambda >= 0, lambda_k (q_k - 1) = 0")

    def _repr_latex_(self):
        return (r"$\min_\theta \tfrac12\|\theta\|^2 \ \text{s.t.}\ y_k\,\Phi(\theta;x_k)\ge 1,"
                rf"\ k=1..{len(self.data.y)};\quad \theta=\sum_k \lambda_k y_k h_k,\ "
                r"h_k\in\partial^\circ\Phi(\theta;x_k),\ \lambda\ge0,\ \lambda_k(q_k-1)=0$")

    def domain(self, theta):
        """The exact domain for θ, the data and the activation constants."""
        numbers = list(theta) + [v for x in self.data.X for v in x] + self.network.constants()
        return ExactDomain.for_numbers(numbers)

    def margins(self, theta, dom=None):
        """Exact margins q_k as field elements, with the forward trace."""
        dom = dom or self.domain(theta)
        trace = self.network.forward(dom, list(theta), [list(x) for x in self.data.X])
        out = trace.output.elements()
        return [o if y == 1 else -o for o, y in zip(out, self.data.y)], trace

    # -- decision -----------------------------------------------------------------------------
    def decide(self, theta, direction=False, clarke_set="clarke"):
        """Decide whether θ is a KKT point (or direction).

        Parameters
        ----------
        theta : list or symkkt.spec.Parameters
            Exact numbers in :attr:`Network.parameter_names` order (sympy numbers, ints or
            exact-number text), a ``Parameters`` object, or its input-file form
            ``[{'weight': ..., 'bias': ...}, ...]`` (see :func:`symkkt.api.as_theta`).
        direction : bool
            Decide "KKT direction" instead of "KKT point".
        clarke_set : {"clarke", "chain_rule_hull"}
            ``"clarke"``: the Clarke subdifferential, through the realizable vertex patterns
            (``inconclusive`` where degeneracy at kinks leaves only the hull);
            ``"chain_rule_hull"``: the convex hull of chain-rule elements with independent
            per-unit slopes. Without kinks on active points both are the gradient, and the
            result says ``"gradient"``.

        Returns
        -------
        KKTResult
        """
        from .api import as_theta
        from .errors import NotHomogeneousError

        theta = as_theta(self.network, theta)
        if clarke_set not in ("clarke", "chain_rule_hull"):
            raise ValueError(f"clarke_set must be 'clarke' or 'chain_rule_hull', not {clarke_set!r}")
        kind = "kkt_direction" if direction else "kkt_point"
        L = self.homogeneity.degree
        if direction and L is None:
            raise NotHomogeneousError(f"--direction needs a homogeneous network: {self.homogeneity.reason}")
        if any(r.kind == "tanh" for r in self.network.rules.values()):
            return KKTResult("inconclusive", f"not positively homogeneous ({self.homogeneity.reason}), "
                             "and tanh values are transcendental: no exact decision",
                             kind, self, list(theta), tier="none", clarke_set=clarke_set)
        dom = self.domain(theta)
        q, trace = self.margins(theta, dom)
        res = KKTResult("inconclusive", "", kind, self, list(theta), tier="exact", clarke_set=clarke_set)
        res.margins = [m.to_sympy() for m in q]
        Kf = dom.field
        th = [Kf.element(v) for v in theta]
        norm2 = sum((t * t for t in th), Kf.element(0))
        res.squared_norm = norm2.to_sympy()
        qmin_i = min(range(len(q)), key=lambda k: q[k]) if q else None
        if qmin_i is not None and L and q[qmin_i].sign() > 0 and not norm2.is_zero():
            if L % 2 == 0:      # q_min / |θ|^L = q_min / (|θ|²)^(L/2), in the field
                res.normalized_margin = (q[qmin_i] / _power(norm2, L // 2)).to_sympy()
            else:
                res.normalized_margin = sympy.simplify(res.margins[qmin_i] / sympy.sqrt(res.squared_norm) ** L)

        # feasibility and active set
        if direction:
            if q[qmin_i].sign() <= 0:
                res.verdict, res.reason = "refuted", f"margin of point {qmin_i} is not positive"
                res.witness = {"reason": "nonpositive_margin", "point": qmin_i, "margin": res.margins[qmin_i]}
                return res
            res.active = [k for k in range(len(q)) if q[k] == q[qmin_i]]
        else:
            bad = [k for k in range(len(q)) if (q[k] - 1).sign() < 0]
            if bad:
                k = min(bad, key=lambda k: q[k])
                res.verdict = "refuted"
                res.reason = f"infeasible: margin of point {k} is {format_number(res.margins[k])} < 1"
                res.witness = {"reason": "infeasible", "point": k, "margin": res.margins[k]}
                return res
            res.active = [k for k in range(len(q)) if (q[k] - 1).is_zero()]

        net = self.network
        kinks = {k: net.kinks(trace, k) for k in res.active}
        res.kinks = {k: [net.unit_label(i, u) for i, u in ks] for k, ks in kinks.items() if ks}
        res.kink_units = {k: {net.unit_label(i, u): net.unit_reading(i, u) for i, u in ks}
                          for k, ks in kinks.items() if ks}
        if not res.kinks:
            res.clarke_set = "gradient"
        try:
            if res.clarke_set == "clarke":
                self._decide_clarke(res, trace, th, kinks)
            else:
                total = sum(2 ** len(ks) for ks in kinks.values())
                _Budget().check(total, f"{total} vertex patterns")
                columns = [(k, g, None) for k in res.active for g in self._vertices(kinks[k])]
                self._solve_or_refute(res, trace, th, columns, [])
        except VertexCapExceeded as err:
            res.verdict, res.reason, res.multipliers, res.clarke = "inconclusive", str(err), None, []
            return res
        if res.verdict == "holds":
            lam = [Kf.element(m) for m in res.multipliers]
            self._identities(res, lam, norm2, q[qmin_i] if direction else None, direction)
            res.uniqueness = self._uniqueness(res, Kf)
        return res

    def system(self, theta, direction=False):
        """The KKT system at θ on its activation pattern, in the parameter symbols
        (:func:`symkkt.system.kkt_system`): margins, stationarity, slackness and kink slopes.

        Examples
        --------
        >>> from symkkt.api import load_example
        >>> problem, theta = load_example("kink")
        >>> problem.system(theta).slopes
        {s_0[1:1]: (0, 1)}
        """
        from .system import kkt_system

        return kkt_system(self, theta, direction=direction)

    def _uniqueness(self, res, Kf):
        """Whether every μ ≥ 0 with Σ_c μ_c y_k h_c = θ over the decision's columns gives the same λ.

        λ_k = Σ_{c at k} μ_c is linear in μ, so λ_k is constant on the polyhedron of solutions iff
        it can be neither raised nor lowered. It can be raised (σ = 1; lowered: σ = −1) iff the
        homogenized system μ, t, s ≥ 0, Aμ − tθ = 0, σ(Σ_{c at k} μ_c − tλ_k) − s = 1 has a
        solution (exact LP): with t > 0, μ/t is a solution with σλ'_k > σλ_k; with t = 0, μ is a
        recession direction and μ* + μ one. The columns are the set's vertices (gradient,
        chain-rule hull, or Clarke with every pattern accounted for), so the answer is the one
        for the set; where degeneracy leaves realizable Clarke patterns only, a second λ is
        still a witness, but uniqueness is left undecided.
        """
        A, columns, mu, th = res._system
        zero, one = Kf.element(0), Kf.element(1)
        n, m = len(columns), len(th)
        lam = [Kf.element(v) for v in res.multipliers]
        for k in sorted({c[0] for c in columns}):
            at_k = [one if c[0] == k else zero for c in columns]
            for sigma in (1, -1):
                M = [A[r] + [-th[r], zero] for r in range(m)]
                M.append([v if sigma > 0 else -v for v in at_k] + [-lam[k] if sigma > 0 else lam[k], -one])
                sol = nonnegative_solution(M, [zero] * m + [one], lambda x: x.sign(), zero=zero, one=one)
                if isinstance(sol, Feasible):
                    t = sol.x[n]
                    mu2 = ([v / t for v in sol.x[:n]] if t.sign() > 0
                           else [a + b for a, b in zip(mu, sol.x[:n])])
                    return self._second(res, k, A, columns, mu2, th, zero)
        if getattr(res, "_exact", True) or res.clarke_set != "clarke":
            what = {"gradient": "h_k = ∇Φ(θ; x_k)", "clarke": "h_k ∈ ∂°Φ(θ; x_k)",
                    "chain_rule_hull": "h_k in the chain-rule hull"}[res.clarke_set]
            return {"unique": True, "reason": f"θ = Σ λ_k y_k h_k with λ ≥ 0 and {what} only for these λ "
                                              "(exact LPs: no λ_k can be raised or lowered)"}
        return {"unique": None, "reason": "unique over the Clarke elements realized by directions, but "
                                          "degeneracy at kinks leaves the rest of the Clarke set undecided"}

    def _second(self, res, k, A, columns, mu2, th, zero):
        """The witness of non-uniqueness: a second solution μ2 (checked exactly)."""
        n = len(columns)
        if any(sum((A[r][c] * mu2[c] for c in range(n)), zero) != th[r] for r in range(len(th))):
            raise RuntimeError("internal error: second multipliers do not give θ")  # pragma: no cover
        lam2 = [zero for _ in self.data.y]
        terms = {}
        for (j, g, d), v in zip(columns, mu2):
            lam2[j] = lam2[j] + v
            if j in res.kinks and not v.is_zero():
                terms.setdefault(j, []).append((v, g, d))
        return {"unique": False, "reason": f"λ_{k} is not determined by θ = Σ λ_k y_k h_k "
                                           "(a second λ ≥ 0 with admissible h_k gives θ)",
                "multipliers": [v.to_sympy() for v in lam2],
                "clarke": [self._clarke_entry(j, terms[j], lam2[j]) for j in sorted(terms)]}

    def clarke_patterns(self, theta, points=None):
        """The vertex patterns of each data point's kink units near θ.

        Returns ``{k: PointPatterns}`` for the points (default: all) that have kink units; units
        are ``(layer_index, unit)`` (:meth:`Network.unit_label` names them), directions are
        elements of the exact field of θ and the data. Raises :class:`VertexCapExceeded` past
        the ``vertices`` limit of cells in total.

        Examples
        --------
        >>> from symkkt.api import load_example
        >>> problem, theta = load_example("kink")
        >>> pp = problem.clarke_patterns(theta)[0]
        >>> [(g, [str(v) for v in d]) for g, d in pp.realizable]
        [({(0, 1): 1}, ['0', '0', '0', '1', '0', '0']), ({(0, 1): 0}, ['0', '0', '0', '-1', '0', '0'])]
        >>> pp.exact, pp.excluded
        (True, [])
        """
        _, trace = self.margins(theta)
        budget = _Budget()
        points = range(len(self.data.y)) if points is None else points
        return {k: self._patterns(trace, k, ks, budget) for k in points if (ks := self.network.kinks(trace, k))}

    def _vertices(self, kinks):
        """All vertex slope dicts of a point's kink units (one empty dict without kinks)."""
        ends = [self.network.rules[i].clarke_interval() for i, _ in kinks]
        return [dict(zip(kinks, v)) for v in itertools.product(*ends)]

    def _slope(self, unit, sigma):
        rule = self.network.rules[unit[0]]
        return rule.plus if sigma > 0 else rule.minus

    def _decide_clarke(self, res, trace, th, kinks):
        """Realizable patterns first; the hull minus Gordan-excluded patterns where that is not exact."""
        net, budget = self.network, _Budget()
        patterns = {k: self._patterns(trace, k, ks, budget) for k, ks in kinks.items() if ks}
        label = net.unit_label
        for k, pp in patterns.items():
            groups = _tied(pp.first, [u for u in pp.kinks if u[0] == net.arch.weight_layers[0] and u not in pp.free])
            if groups:
                res.tied[k] = [{"equal": [label(*u) for u in eq], "opposite": [label(*u) for u in op]}
                               for eq, op in groups]
        excluded = [{"point": k, "signs": {label(*u): s for u, s in e["signs"].items()},
                     "gordan": {label(*u): v.to_sympy() for u, v in e["gordan"].items()}}
                    for k, pp in patterns.items() for e in pp.excluded]
        columns = []
        for k in res.active:
            if k in patterns:
                columns += [(k, g, d) for g, d in patterns[k].realizable]
            else:
                columns.append((k, {}, None))
        exact = all(pp.exact for pp in patterns.values())
        res._exact = exact
        if self._solve_or_refute(res, trace, th, columns, excluded if exact else None):
            return
        # not exact: refute with every vertex pattern that is not excluded, or stay undecided
        hull = sum(pp.hull_size for pp in patterns.values())
        budget.check(hull, f"{hull} vertex patterns of the hull")
        columns = []
        for k in res.active:
            if k in patterns:
                columns += [(k, g, None) for g in patterns[k].hull(self._slope)]
            else:
                columns.append((k, {}, None))
        if self._solve_or_refute(res, trace, th, columns, excluded, hull_only=True):
            return
        degenerate = [k for k, pp in patterns.items() if not pp.exact]
        res.verdict, res.multipliers, res.clarke = "inconclusive", None, []
        why = [f"point {k}: {len(patterns[k].realizable)} of {patterns[k].hull_size} vertex patterns realized "
               f"by a direction" for k in degenerate]
        res.reason = ("θ is KKT with respect to the chain-rule hull"
                      + (f" (without its {len(excluded)} Gordan-excluded vertex patterns)" if excluded else "")
                      + ", but not with first-order realizable Clarke elements alone: degeneracy at kinks "
                      + "leaves only the hull (" + "; ".join(why) + ")")

    def _patterns(self, trace, k, kinks, budget):
        """Enumerate the vertex patterns of active point ``k`` realized near θ (see the module doc)."""
        net = self.network
        K = trace.domain.field
        zero, one = K.element(0), K.element(1)
        m = net.num_parameters
        first_layer = net.arch.weight_layers[0]
        cells, excluded, first, free = [_Cell({}, [], None)], [], None, set()
        for li in sorted({i for i, _ in kinks}):
            units = [(li, u) for i, u in kinks if i == li]
            if li != first_layer and first is None:
                first = cells
            new = []
            for c in cells:
                slopes = {u: self._slope(u, s) for u, s in c.signs.items()}
                flat = net.preactivation_jacobian(trace, k, li, [u for _, u in units], slopes).elements()
                grads = [[flat[p * len(units) + j] for p in range(m)] for j in range(len(units))]
                new += self._extend(c, units, grads, li == first_layer, zero, one, excluded, free,
                                    lambda n: budget.check(len(new) + n, f"point {k}, {len(kinks)} kink units"))
            cells = new
        budget.spend(len(cells))
        if first is None:
            first = cells
        realizable = []
        for c in cells:
            d = c.d if c.d is not None else [zero] * m     # only free units: any d realizes the pattern
            self._check_direction(trace, k, c.signs, d, free)
            realizable.append(({u: self._slope(u, s) for u, s in c.signs.items()}, d))
        first_signs = [{u: s for u, s in c.signs.items() if u[0] == first_layer} for c in first]
        deeper = [u for u in kinks if u[0] != first_layer]
        return PointPatterns(k, list(kinks), realizable, excluded, first_signs, deeper,
                             len(realizable) == len(first_signs) * 2 ** len(deeper), free)

    @staticmethod
    def _extend(cell, units, grads, first_layer, zero, one, excluded, free, check):
        """The cells that extend ``cell`` by a sign for each unit of one layer (gradients ``grads``).

        A first-layer unit with ∇z = 0 is ``free``: it adds no row and takes sign +1 (slope 1),
        since z_u ≡ 0 near θ and h_k does not depend on its slope. For the other units: if the
        cell's rows and the new gradients are linearly independent, every sign vector σ is
        realized by the d with row·d = 1 and a_u·d = σ_u (one linear solve); otherwise units are
        added one at a time, each new sign by the strict-cone LP. An infeasible LP on first-layer
        units gives a Gordan exclusion. A deeper unit with ∇z = 0 ends its cell (not first-order
        realizable).
        """
        flat = [all(v.is_zero() for v in a) for a in grads]
        lone = [u for u, f in zip(units, flat) if f and first_layer]
        free.update(lone)
        pairs = [(u, a) for u, a, f in zip(units, grads, flat) if not (f and first_layer)]
        cells = MaxMarginProblem._extend_signs(cell, pairs, first_layer, zero, one, excluded, check)
        for unit in lone:                       # no direction moves z_u: slope 1 stands for both
            cells = [c.child(unit, 1, None, c.d) for c in cells]
        return cells

    @staticmethod
    def _extend_signs(cell, pairs, first_layer, zero, one, excluded, check):
        """:meth:`_extend` for the units ``pairs = [(unit, a_u)]`` that are not free."""
        if pairs and all(any(not v.is_zero() for v in a) for _, a in pairs):
            solve = _right_inverse([a for _, _, a in cell.rows] + [a for _, a in pairs], zero, one)
            if solve is not None:
                check(2 ** len(pairs))
                out = []
                for sigma in itertools.product((1, -1), repeat=len(pairs)):
                    d = solve([one if s > 0 else -one for s in [s for _, s, _ in cell.rows] + list(sigma)])
                    child = cell
                    for (unit, a), s in zip(pairs, sigma):
                        child = child.child(unit, s, a, d)
                    out.append(child)
                return out
        cells = [cell]
        for unit, a in pairs:
            new = []
            for c in cells:
                check(len(new) + 2)
                if all(v.is_zero() for v in a):     # a deeper unit with ∇z = 0: ż = 0 along every d
                    continue
                ad = _dot(a, c.d, zero).sign() if c.d is not None else 0
                for sigma in (1, -1):
                    if ad == sigma:
                        new.append(c.child(unit, sigma, a, c.d))
                        continue
                    found, vec = strict_cone(c.signed([a if sigma > 0 else [-v for v in a]]), zero, one)
                    if found == "direction":
                        new.append(c.child(unit, sigma, a, vec))
                    elif first_layer:
                        here = [(w, s) for w, s, _ in c.rows] + [(unit, sigma)]
                        excluded.append({"signs": {w: s for (w, s), v in zip(here, vec) if v.sign() > 0},
                                         "gordan": {w: v for (w, _), v in zip(here, vec) if v.sign() > 0}})
            cells = new
        return cells

    def _check_direction(self, trace, k, signs, d, free=()):
        """Re-derive the pattern from the forward-mode derivatives along d (a guard against bugs);
        ``free`` units must have ż = 0 and take no side."""
        dz = self.network.jvp(trace, k, d)
        for (li, u), s in signs.items():
            if dz[li][u].sign() != (0 if (li, u) in free else s):
                raise RuntimeError(f"internal error: direction does not realize the pattern at point {k}")

    def _solve_or_refute(self, res, trace, th, columns, excluded, hull_only=False):
        """θ = Σ μ_c y_k h_k(g_c), μ ≥ 0 over ``columns`` (k, slopes, direction or None).

        Sets ``holds`` (unless ``hull_only``) or, when ``excluded`` is not None, ``refuted`` with
        the Farkas vector; returns whether it decided.
        """
        net = self.network
        Kf = trace.domain.field
        zero = Kf.element(0)
        if columns:
            J = net.jacobian(trace, [k for k, _, _ in columns], [g for _, g, _ in columns]).elements()
            n = len(columns)
            A = [[J[r * n + c] * int(self.data.y[columns[c][0]]) for c in range(n)]
                 for r in range(net.num_parameters)]
        else:
            A = [[] for _ in range(net.num_parameters)]
        sol = nonnegative_solution(A, th, lambda x: x.sign(), zero=zero, one=Kf.element(1))
        if not isinstance(sol, Feasible):
            if excluded is None:
                return False
            res.verdict = "refuted"
            over = {"gradient": "the gradients", "clarke": "Clarke elements",
                    "chain_rule_hull": "chain-rule elements (hence no Clarke elements)"}[res.clarke_set]
            res.reason = ("stationarity fails: θ is not in the span of " + over
                          if sol.kind == "inconsistent" else
                          "stationarity fails: θ is not in the cone of " + over + ": no non-negative multipliers")
            if res.tied:
                res.reason += "; kink slopes are tied (" + "; ".join(
                    f"point {k}: " + ", ".join(" = ".join(g["equal"]) + (f" opposite to {' = '.join(g['opposite'])}"
                                                                        if g["opposite"] else "") for g in groups)
                    for k, groups in sorted(res.tied.items())) + ")"
            res.witness = {"reason": "stationarity", "farkas": [v.to_sympy() for v in sol.y]}
            if res.clarke_set == "clarke":
                res.witness["excluded"] = excluded
            return True
        if hull_only:
            return False
        res._system = (A, columns, sol.x, th)
        lam = [zero for _ in self.data.y]
        terms = {}
        for (k, g, d), mu in zip(columns, sol.x):
            lam[k] = lam[k] + mu
            if k in res.kinks and not mu.is_zero():
                terms.setdefault(k, []).append((mu, g, d))
        res.multipliers = [v.to_sympy() for v in lam]
        label = net.unit_label
        res.clarke = [self._clarke_entry(k, terms[k], lam[k]) for k in sorted(terms)]
        res.clarke_terms = [{"point": k, "terms": [
            {"weight": mu.to_sympy(), "slopes": {label(*u): s for u, s in g.items()},
             **({"direction": [v.to_sympy() for v in d]} if d is not None else {})}
            for mu, g, d in terms[k]]} for k in sorted(terms)]
        res.verdict = "holds"
        what = "KKT direction" if res.kind == "kkt_direction" else "KKT point"
        res.reason = {"gradient": f"θ is a {what} of P_Φ",
                      "clarke": f"θ is a {what} of P_Φ (Clarke elements: limiting gradients realized by directions)",
                      "chain_rule_hull": f"θ is a {what} of P_Φ with respect to the chain-rule hull "
                                         "(not a proof for the Clarke subdifferential)"}[res.clarke_set]
        return True

    def _clarke_entry(self, k, terms, lam_k):
        net = self.network
        layers = {i for (i, _u) in terms[0][1]}
        if len(layers) == 1:
            # h_k is affine in the slopes of one layer: merge vertices into one interior element
            merged = {}
            for mu, chosen, _d in terms:
                for key, g in chosen.items():
                    merged[key] = merged.get(key, 0) + mu * lam_k.field.element(g)
            slopes = {net.unit_label(*key): (v / lam_k).to_sympy() for key, v in merged.items()}
            return {"point": k, "terms": [{"weight": lam_k.to_sympy(), "slopes": slopes}]}
        return {"point": k, "terms": [{"weight": mu.to_sympy(),
                                       "slopes": {net.unit_label(*key): g for key, g in chosen.items()}}
                                      for mu, chosen, _d in terms]}

    def _identities(self, res, lam, norm2, qmin, direction):
        L = self.homogeneity.degree
        if not L:
            return
        total = sum(lam, lam[0].field.element(0))
        rhs = total * L * (qmin if direction else 1)
        res.identity = {"statement": "|theta|^2 = L * sum(mu)" if direction
                        else "|theta|^2 = L * sum(lambda)",
                        "lhs": norm2.to_sympy(), "rhs": rhs.to_sympy(), "holds": norm2 == rhs}
        if direction:
            c = as_sympy(res.margins[res.active[0]]) ** sympy.Rational(L - 2, L)
            res.point_multipliers = [sympy.simplify(m * c) for m in res.multipliers]
        if not res.identity["holds"]:  # pragma: no cover - would be a bug upstream
            raise RuntimeError("Euler identity failed on a KKT witness")
