"""Local optimality of a KKT point θ of P_Φ: improving curves, second order, group lasso [V].

θ (a KKT point with multipliers λ, q_min(θ) = 1, degree L, N = ‖θ‖²) is decided as follows;
every step is exact over the number field of θ, the data and λ.

**Refuted: an improving curve** θ̃(s) = θ + s·d + s²·e (:mod:`.curves`). If the first-order
terms of the margins along d vanish on the active points and θ·d = 0, the s² coefficient of
‖θ‖^L q_k(θ̃(s)) − ‖θ̃(s)‖^L is N^(L/2) times

    a_k·e − b_k,   a_k = ∇q_k(θ) − (L/N)·θ,   b_k = (L/2N)‖d‖² − Q_k(d),

where Q_k(d) is the s² coefficient of q_k(θ + s·d) (read off the forward pass along the
curve). Since θ = Σ λ_k ∇q_k and N = L Σ λ_k, Σ λ_k a_k = 0 and Σ λ_k b_k = ½(‖d‖² − 2Σ λ_k Q_k(d)):
when that is negative, e with a_k·e > b_k on every active point exists unless other multipliers
block it, and an exact LP finds it. The directions d come from two mechanisms (the third of [V],
zero coordinates of diagonal nets, is the first one on a diagonal layer):

1. *zero units* (two-layer nets, dense or diagonal hidden layer, ReLU-family slope): a hidden unit
   with all incoming and outgoing weights 0, and c with F(c)² > ‖c‖², F(c) = Σ λ_k y_k σ(c·x_k)
   the dual function. d grows the unit as (w, v) = (c, F(c)), so Q_k(d) = F(c)·y_k σ(c·x_k) and
   ‖d‖² − 2Σλ_k Q_k(d) = ‖c‖² − F(c)² < 0. Candidates c = ±Σ_{k∈P} λ_k y_k x_k are exact; the
   patterns P are proposed by a float ascent on F over the sphere (a search aid). For a
   diagonal layer this is a zero coordinate u_j = v_j = 0 with |g_j| > 1, g = Σ λ_k y_k x_k;
2. *second order* (any depth, the activation pattern fixed on the active points): d in the
   subspace {∇q_k·d = 0, k active} (inside the critical cone) with dᵀ(I − Σ λ_k ∇²q_k)d < 0,
   found by an exact symmetric elimination of that quadratic form, whose matrix comes from the
   s² coefficients of the margins along θ + s(z_i + z_j) (polarization).

The curve is accepted only after :func:`symkkt.optimality.curves.check_curve` has decided
every margin and pre-activation sign on (0, s₀] exactly.

**Holds, strict: second-order sufficient condition.** No pre-activation of an active point is 0
(every q_k is a polynomial near θ), and I − Σ λ_k ∇²q_k is positive definite on
C₁ = {d : ∇q_k·d = 0 for active k with λ_k > 0}. C₁ contains the critical cone C, so the matrix
is positive definite on C, and θ is a strict local minimum (the classical second-order
sufficient condition). When some active λ_k = 0 the critical cone is a cone, not a subspace:
positive definite on the subspace where all active gradients vanish, but not on C₁, is
reported as inconclusive (copositivity on the cone is not decided).

**Holds, not necessarily strict: the group-lasso argument** (two-layer nets Φ = Σ_j v_j σ(w_j·x)
with positively 1-homogeneous σ). Suppose no unit with w_j ≠ 0 has a zero pre-activation on a
point with λ_k > 0, and every zero unit has sup_{‖u‖=1} |F(u)| ≤ 1 (decided here when the unit
sees one input coordinate: diagonal layers). Near θ the slopes σ_jk of the non-zero units on
those points are fixed, and at a KKT point Σ_k λ_k y_k σ_jk x_k = w_j / v_j with |v_j| = ‖w_j‖.
For feasible θ' near θ:

    Σ λ_k ≤ Σ λ_k q_k(θ') = Σ_j v'_j w'_j·(w_j/v_j) + Σ_zero v'_j F(w'_j) ≤ Σ_j |v'_j| ‖w'_j‖ ≤ ½‖θ'‖²,

and ½‖θ‖² = Σ λ_k, so ‖θ'‖ ≥ ‖θ‖: a local optimum (the local form of the convex group-lasso
problem min Σ_j ‖v_j w_j‖). Two non-zero units with the same direction w/‖w‖ and the same sign
of v make it non-strict (moving mass between them keeps Φ and ‖θ‖).

Trusted: the exact KKT decision, :func:`symkkt.linear.nonnegative_solution`, the field
arithmetic and :mod:`.curves`. Floats only propose candidates.

Examples
--------
>>> from symkkt.api import load_problem
>>> from symkkt.optimality.curves import example_paths_zero_unit
>>> problem, theta = load_problem(*example_paths_zero_unit())
>>> prop = decide_local(problem, theta, problem.decide(theta))
>>> prop.verdict, prop.method, prop.witness["s0"]
('refuted', 'zero-unit curve', '1/2')
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction

from . import curves, sturm
from ..kkt import _dot
from .result import Property

#: most slope choices enumerated for kink units of non-zero units in one curve search
MAX_KINK_PATTERNS = 64
#: most zero-unit candidates c tried per unit
MAX_CANDIDATES = 4

STATEMENT = ("theta is not a local optimum of the max-margin problem: along the witness curve every margin "
             "and activation sign is a polynomial in s, and ||theta||^L q_k(curve(s)) > ||curve(s)||^L for every "
             "point and every s in (0, s0]")


def _fmt(v):
    from ..numbers import format_number

    return format_number(v.to_sympy() if hasattr(v, "to_sympy") else v)


# -- KKT figures -----------------------------------------------------------------------------------
def kkt_witness(kkt):
    """The KKT decision's witness, JSON-ready: multipliers and active set, or the failing condition."""
    obj = kkt.to_json()
    if kkt.verdict == "holds":
        return {"multipliers": obj["multipliers"], "active_set": obj["active_set"]}
    return obj.get("witness", {"reason": kkt.reason})


def figures(problem, theta, kkt):
    obj = kkt.to_json()
    out = {"margins": obj["margins"], "active_set": obj["active_set"]}
    for key in ("squared_norm", "normalized_margin", "multipliers"):
        if key in obj:
            out[key] = obj[key]
    return out


def not_kkt(kkt, kkt_prop):
    """(local, global) for a θ that is not a KKT point (or whose KKT property is undecided)."""
    if kkt.verdict == "refuted":
        why = ("θ is not a KKT point, and every local optimum of P_Φ is one (for a homogeneous net the "
               "constraint qualification MFCQ holds at every feasible point): " + kkt.reason)
        if kkt.witness.get("reason") == "infeasible":
            why = "θ is not feasible: " + kkt.reason
        p = Property("refuted", "not a KKT point", why, kkt_prop.witness, certificate=kkt_prop.certificate)
        return p, Property("refuted", "not a KKT point", why, kkt_prop.witness, certificate=kkt_prop.certificate)
    why = "the KKT decision is inconclusive (" + kkt.reason + "), so nothing further was tried"
    return Property("inconclusive", "none", why), Property("inconclusive", "none", why)


# -- the context of one decision ------------------------------------------------------------------------
@dataclass
class Unit:
    """A hidden unit: its layer, index, incoming and outgoing parameter indices."""

    layer: int
    index: int
    incoming: list
    outgoing: list
    label: str


@dataclass
class Context:
    problem: object
    K: object
    theta: list            # field elements
    lam: list              # field elements, all points
    active: list
    L: int
    N: object
    trace: object
    units: list = field(default_factory=list)
    zero_units: list = field(default_factory=list)
    hard_kinks: dict = field(default_factory=dict)     # active k -> [(layer, unit)] of non-zero units
    free: list = field(default_factory=list)           # parameters outside zero units
    tried: list = field(default_factory=list)

    @property
    def net(self):
        return self.problem.network

    @property
    def m(self):
        return len(self.theta)

    def zero(self):
        return self.K.element(0)


def _units(net):
    """Hidden units of a dense/diagonal net with their parameter indices (None if another layer kind)."""
    arch = net.arch
    if any(layer.kind not in ("dense", "diagonal", "sum", "flatten") for layer in arch.layers):
        return None
    if len(arch.input) != 1:
        return None
    offs = curves.offsets(net)
    wl = list(arch.weight_layers)
    units = []
    for w, li in enumerate(wl[:-1]):
        woff, boff, shape = offs[w]
        nxt = offs[w + 1]
        width = shape[0]
        for u in range(width):
            if arch.layers[li].kind == "dense":
                n = shape[1]
                inc = [woff + u * n + j for j in range(n)]
            else:
                inc = [woff + u]
            if boff is not None:
                inc.append(boff + u)
            if arch.layers[wl[w + 1]].kind == "dense":
                w2, n2 = nxt[2]
                out = [nxt[0] + o * n2 + u for o in range(w2)]
            else:
                out = [nxt[0] + u]
            units.append(Unit(li, u, inc, out, net.unit_label(li, u)))
    return units


def _context(problem, theta, kkt):
    K = problem.domain(theta).field
    th = [K.element(v) for v in theta]
    lam = [K.element(v) for v in kkt.multipliers]
    _q, trace = problem.margins(theta)
    N = K.element(0)
    for t in th:
        N = N + t * t
    ctx = Context(problem, K, th, lam, list(kkt.active), problem.homogeneity.degree, N, trace)
    net = problem.network
    units = _units(net)
    ctx.units = units or []
    ctx.zero_units = [u for u in ctx.units if all(th[i].is_zero() for i in u.incoming)]
    zero_params = {i for u in ctx.zero_units for i in u.incoming + u.outgoing}
    ctx.free = [i for i in range(len(th)) if i not in zero_params]
    zero_ids = {(u.layer, u.index) for u in ctx.zero_units}
    for k in ctx.active:
        hard = [ku for ku in net.kinks(trace, k) if ku not in zero_ids]
        if hard:
            ctx.hard_kinks[k] = hard
    return ctx


def _gradient(ctx, k, slopes=None):
    """∇q_k(θ) (slopes at kink units: the dict, else the lower end of the interval)."""
    net = ctx.net
    col = net.jacobian(ctx.trace, [k], [slopes or {}]).elements()
    y = int(ctx.problem.data.y[k])
    return [c if y == 1 else -c for c in col]


# -- the order-s² step: find e, build and check the curve -------------------------------------------
def _orders(ctx, d, order=2):
    """Coefficients of s and s² of q_k(θ + s d) for every point."""
    curve = curves.Curve(ctx.K, [ctx.theta, d], Fraction(1))
    margins, _pattern, _sp = curves.curve_polynomials(ctx.problem, curve, order)
    zero = ctx.zero()
    return [[(q[i] if i < len(q) else zero) for i in (1, 2)] for q in margins]


def _solve_e(ctx, rows, extra):
    """e on the free parameters with a_k·e > b_k for (a_k, b_k) in ``rows`` and r·e > 0 for r in
    ``extra`` (exact LP, homogenized: a_k·ê − t b_k ≥ 1, r·ê ≥ 1, t ≥ 1, e = ê / t), or None."""
    from ..linear import Feasible, nonnegative_solution

    zero, one = ctx.zero(), ctx.K.element(1)
    p = len(ctx.free)
    cons = [(a, b) for a, b in rows] + [(r, zero) for r in extra]
    n_rows = len(cons) + 1
    A = []
    for i, (a, b) in enumerate(cons):
        af = [a[j] for j in ctx.free]
        A.append(af + [-v for v in af] + [-b] + [-one if t == i else zero for t in range(n_rows)])
    A.append([zero] * (2 * p) + [one] + [-one if t == n_rows - 1 else zero for t in range(n_rows)])
    sol = nonnegative_solution(A, [one] * n_rows, lambda v: v.sign(), zero=zero, one=one)
    if not isinstance(sol, Feasible):
        return None
    x, t = sol.x, sol.x[2 * p]
    e = [zero] * ctx.m
    for j, idx in enumerate(ctx.free):
        e[idx] = (x[j] - x[p + j]) / t
    return e


def _curve_from(ctx, d, mechanism, note):
    """Find e for the direction d and check the curve θ + s d + s² e exactly; a Property or None."""
    zero = ctx.zero()
    if not _dot(ctx.theta, d, zero).is_zero():
        ctx.tried.append(f"{note}: θ·d ≠ 0")
        return None
    orders = _orders(ctx, d)
    L, N = ctx.L, ctx.N
    norm_d = _dot(d, d, zero)
    kinks = sorted({ku for ks in ctx.hard_kinks.values() for ku in ks})
    if 2 ** len(kinks) > MAX_KINK_PATTERNS:
        ctx.tried.append(f"{note}: {len(kinks)} kink units of non-zero units on active points (more than "
                         f"{MAX_KINK_PATTERNS} slope patterns)")
        return None
    rule = ctx.net.rules
    for signs in itertools.product((1, -1), repeat=len(kinks)):
        slopes = {ku: (rule[ku[0]].plus if s > 0 else rule[ku[0]].minus) for ku, s in zip(kinks, signs)}
        rows, extra, bad = [], [], False
        for k in ctx.active:
            c1, c2 = orders[k]
            if c1.sign() < 0:
                bad = True
                break
            if c1.sign() > 0:
                continue
            g = _gradient(ctx, k, slopes)
            a = [gi - ti * L / N for gi, ti in zip(g, ctx.theta)]
            b = norm_d * L / (2 * N) - c2
            rows.append((a, b))
            for (li, u), s in zip(kinks, signs):
                if (li, u) in ctx.hard_kinks.get(k, []):
                    grad = ctx.net.preactivation_jacobian(ctx.trace, k, li, [u], slopes).elements()
                    extra.append([v if s > 0 else -v for v in grad])
        if bad:
            ctx.tried.append(f"{note}: a margin decreases at first order along d")
            return None
        e = _solve_e(ctx, rows, extra)
        if e is None:
            continue
        found, check = curves.choose_s0(ctx.problem, curves.Curve(ctx.K, [ctx.theta, d, e], Fraction(1), mechanism))
        if found is not None:
            return _refuted(ctx, found, check, mechanism, note)
    ctx.tried.append(f"{note}: no order-s² correction e found (exact LP infeasible)")
    return None


def _refuted(ctx, curve, check, mechanism, note):
    problem = ctx.problem
    gain = curves.norm_gain_series(problem, check, 4)
    L = ctx.L
    witness = {"curve": curve.to_json(), "s0": str(curve.s0), "pattern": check.pattern,
               "mechanism": mechanism, "direction": note,
               "norm_gain": curves.series_text(gain),
               "norm_gain_coefficients": [_fmt(c) for c in gain],
               "tier": "exact"}
    if L % 2 == 0:
        theta_s0 = curve.at(curve.s0)
        q = [sturm.evaluate(m, ctx.K.element(curves._rational(curve.s0))) for m in check.margins]
        n2 = _dot(theta_s0, theta_s0, ctx.zero())
        gbar = min(q) / curves._power(n2, L // 2)
        gbar0 = ctx.K.element(1) / curves._power(ctx.N, L // 2)
        witness["normalized_margin_at_s0"] = _fmt(gbar)
        witness["normalized_margin_gain_at_s0"] = _fmt(gbar - gbar0)
    reason = (f"an exact polynomial curve through θ ({note}) is feasible after rescaling and strictly shorter "
              f"for every s in (0, {curve.s0}]: ‖θ‖² − ‖θ(s)‖² = {witness['norm_gain']}")
    return Property("refuted", mechanism, reason, witness, certificate=certificate(problem, curve, check))


# -- mechanism 1: zero units of two-layer nets ----------------------------------------------------------
def _two_layer(ctx):
    """Why the zero-unit mechanism does not apply, or None."""
    net = ctx.net
    arch = net.arch
    if not ctx.units:
        return "the network has layers other than dense, diagonal and sum"
    if len(arch.weight_layers) != 2:
        return f"the network has {len(arch.weight_layers)} weight layers, not 2"
    first, second = (arch.layers[i] for i in arch.weight_layers)
    rule = net.rules.get(arch.weight_layers[0]) or _rule(first)
    if not (rule.piecewise and rule.power == 1):
        return "the hidden activation is not positively 1-homogeneous piecewise linear"
    if _rule(second).kind != "linear":
        return "the output layer is not linear"
    if any(len(u.outgoing) != 1 for u in ctx.units):
        return "a hidden unit has more than one outgoing weight (the output is not Σ_j v_j σ(w_j·x))"
    return None


def _rule(layer):
    from ..activations import ActivationRule

    return ActivationRule(layer.activation)


def _features(ctx, unit):
    """φ_k: what the unit's incoming weights multiply on point k (its inputs, and 1 for a bias)."""
    net = ctx.net
    first = net.arch.layers[unit.layer]
    out = []
    for x in ctx.problem.data.X:
        xs = [ctx.K.element(v) for v in x]
        phi = xs if first.kind == "dense" else [xs[unit.index]]
        if first.bias:
            phi = phi + [ctx.K.element(1)]
        out.append(phi)
    return out


def dual_value(ctx, unit, c, phis=None):
    """F(c) = Σ_k λ_k y_k σ(c·φ_k) for a zero unit (exact)."""
    rule = _rule(ctx.net.arch.layers[unit.layer])
    plus, minus = ctx.K.element(rule.plus), ctx.K.element(rule.minus)
    phis = phis or _features(ctx, unit)
    zero = ctx.zero()
    total = zero
    for k, (lam, phi) in enumerate(zip(ctx.lam, phis)):
        if lam.is_zero():
            continue
        z = _dot(c, phi, zero)
        sg = z.sign()
        val = z * plus if sg > 0 else z * minus if sg < 0 else zero
        total = total + lam * val * int(ctx.problem.data.y[k])
    return total


def _candidates(ctx, unit, phis):
    """Exact vectors c = ±Σ_{k∈P} λ_k y_k slope_k φ_k for activation patterns P proposed by a
    float ascent of ±F on the sphere; each with F(c), sorted by |F(c)|/‖c‖ (largest first)."""
    rule = _rule(ctx.net.arch.layers[unit.layer])
    plus, minus = float(rule.plus), float(rule.minus)
    lamf = [float(v) for v in ctx.lam]
    ys = [int(y) for y in ctx.problem.data.y]
    phif = [[float(v) for v in phi] for phi in phis]
    n = len(phif[0])
    rng = random.Random(0)
    starts = [p for phi in phif for p in (phi, [-v for v in phi])]
    starts += [[rng.gauss(0, 1) for _ in range(n)] for _ in range(60)]
    patterns = set()
    for sgn in (1, -1):
        for u in starts:
            for _ in range(12):
                P = tuple(sum(a * b for a, b in zip(u, phi)) > 0 for phi in phif)
                c = [sgn * sum(lamf[k] * ys[k] * (plus if P[k] else minus) * phif[k][i] for k in range(len(phif)))
                     for i in range(n)]
                patterns.add((sgn, P))
                norm = math.sqrt(sum(v * v for v in c))
                if norm == 0:
                    break
                nu = [v / norm for v in c]
                if nu == u:
                    break
                u = nu
    K = ctx.K
    zero = ctx.zero()
    pl, mi = K.element(rule.plus), K.element(rule.minus)
    found = {}
    for sgn, P in patterns:
        c = [zero] * n
        for k, phi in enumerate(phis):
            if ctx.lam[k].is_zero():
                continue
            coef = ctx.lam[k] * ys[k] * (pl if P[k] else mi) * sgn
            c = [ci + coef * p for ci, p in zip(c, phi)]
        if all(v.is_zero() for v in c):
            continue
        key = tuple(v.c for v in c)
        if key in found:
            continue
        Fc = dual_value(ctx, unit, c, phis)
        norm2 = _dot(c, c, zero)
        if (Fc * Fc - norm2).sign() > 0:
            found[key] = (c, Fc, float(Fc) ** 2 / float(norm2))
    return sorted(found.values(), key=lambda t: -t[2])


def zero_unit_curves(ctx):
    """Mechanism 1: grow a zero unit of a two-layer net along a dual direction c with |F(c)| > ‖c‖."""
    if not ctx.zero_units:
        return None
    why = _two_layer(ctx)
    if why:
        ctx.tried.append(f"zero units: not covered ({why}; the zero-unit curve is for two-layer nets)")
        return None
    kind = ctx.net.arch.layers[ctx.zero_units[0].layer].kind
    mechanism = "zero-unit curve" if kind == "dense" else "diagonal zero-coordinate curve"
    none_found = []
    for unit in ctx.zero_units:
        phis = _features(ctx, unit)
        cands = _candidates(ctx, unit, phis)
        if not cands:
            none_found.append(unit.label)
            continue
        for c, Fc, ratio in cands[:MAX_CANDIDATES]:
            d = [ctx.zero()] * ctx.m
            for i, v in zip(unit.incoming, c):
                d[i] = v
            for i in unit.outgoing:
                d[i] = Fc
            note = (f"grow zero unit {unit.label} as s·(w, v) with w = ({', '.join(_fmt(v) for v in c)}), "
                    f"v = {_fmt(Fc)}: F(w)/‖w‖ ≈ {math.copysign(math.sqrt(ratio), float(Fc)):.6g}")
            prop = _curve_from(ctx, d, mechanism, note)
            if prop is not None:
                return prop
    if none_found:
        ctx.tried.append(f"zero units {', '.join(none_found)}: no direction with |F| > 1 found among the exact "
                         "candidates (sup |F| ≤ 1 is not decided here)")
    return None


# -- mechanism 2: second order on a fixed pattern ----------------------------------------------------------
def nullspace(rows, cols, zero, one):
    """A basis of {d supported on ``cols`` : r·d = 0 for every row r} (exact Gauss–Jordan)."""
    A = [[r[j] for j in cols] for r in rows]
    pivots, R = [], []
    for row in A:
        row = list(row)
        for (pc, prow) in zip(pivots, R):
            f = row[pc]
            if not f.is_zero():
                row = [a - f * b for a, b in zip(row, prow)]
        pc = next((j for j, v in enumerate(row) if not v.is_zero()), None)
        if pc is None:
            continue
        inv = one / row[pc]
        row = [v * inv for v in row]
        R = [[a - r[pc] * b for a, b in zip(r, row)] if not r[pc].is_zero() else r for r in R]
        pivots.append(pc)
        R.append(row)
    basis = []
    for f in range(len(cols)):
        if f in pivots:
            continue
        vec = [zero] * len(cols)
        vec[f] = one
        for pc, prow in zip(pivots, R):
            vec[pc] = -prow[f]
        basis.append(vec)
    return basis


def _lagrangian_form(ctx, Z):
    """The matrix of B(d) = ‖d‖² − 2 Σ λ_k Q_k(d) on the columns of Z (polarization)."""
    zero = ctx.zero()
    act = [k for k in ctx.active if not ctx.lam[k].is_zero()]

    def B(d):
        orders = _orders(ctx, d)
        return _dot(d, d, zero) - 2 * sum((ctx.lam[k] * orders[k][1] for k in act), zero)

    r = len(Z)
    diag = [B(z) for z in Z]
    M = [[zero] * r for _ in range(r)]
    for i in range(r):
        M[i][i] = diag[i]
        for j in range(i + 1, r):
            v = (B([a + b for a, b in zip(Z[i], Z[j])]) - diag[i] - diag[j]) / 2
            M[i][j] = M[j][i] = v
    return M


def definiteness(M, zero, one):
    """``("pd", None)``, ``("psd", null count)`` or ``("negative", x)`` with xᵀMx < 0 (exact
    symmetric elimination with the transformation tracked)."""
    r = len(M)
    S = [row[:] for row in M]
    V = [[one if i == j else zero for j in range(r)] for i in range(r)]    # rows: current vectors
    alive = list(range(r))
    flat = 0
    while alive:
        neg = next((i for i in alive if S[i][i].sign() < 0), None)
        if neg is not None:
            return "negative", V[neg]
        p = next((i for i in alive if S[i][i].sign() > 0), None)
        if p is None:
            for i in alive:
                for j in alive:
                    if i != j and not S[i][j].is_zero():
                        t = -one if S[i][j].sign() > 0 else one      # B(v_i + t v_j) = 2 t S_ij < 0
                        return "negative", [a + t * b for a, b in zip(V[i], V[j])]
            return "psd", flat + len(alive)
        alive.remove(p)
        for j in alive:
            f = S[j][p] / S[p][p]
            if f.is_zero():
                continue
            V[j] = [a - f * b for a, b in zip(V[j], V[p])]
            for l in alive:
                S[j][l] = S[j][l] - f * S[p][l]
        for j in alive:
            S[p][j] = S[j][p] = zero
    return ("pd", None) if flat == 0 else ("psd", flat)


def _combine(Z, x, zero):
    return [sum((xi * z[j] for xi, z in zip(x, Z)), zero) for j in range(len(Z[0]))] if Z else []


def second_order(ctx):
    """Mechanism 2 and the second-order sufficient condition. Returns (Property or None, status)
    with status one of "pd", "psd", "cone", "not applicable"."""
    if ctx.hard_kinks:
        where = "; ".join(f"point {k}: " + ", ".join(ctx.net.unit_label(*u) for u in us)
                          for k, us in sorted(ctx.hard_kinks.items()))
        ctx.tried.append(f"second order: not applicable (non-zero units have pre-activation 0 on active points, "
                         f"so the margins are not smooth there: {where})")
        return None, "not applicable"
    if not ctx.units and any(l.kind not in ("dense", "diagonal", "sum", "flatten") for l in ctx.net.arch.layers):
        ctx.tried.append("second order: not applicable (the polynomial forward pass covers dense, diagonal and "
                         "sum layers)")
        return None, "not applicable"
    zero, one = ctx.zero(), ctx.K.element(1)
    grads = {k: _gradient(ctx, k) for k in ctx.active}
    pos = [k for k in ctx.active if ctx.lam[k].sign() > 0]
    Z0 = nullspace([grads[k] for k in ctx.active], ctx.free, zero, one)
    Z1 = nullspace([grads[k] for k in pos], ctx.free, zero, one) if len(pos) < len(ctx.active) else Z0
    full = lambda z: _embed(ctx, z)
    Z0f = [full(z) for z in Z0]
    if Z0f:
        M0 = _lagrangian_form(ctx, Z0f)
        kind, x = definiteness(M0, zero, one)
        if kind == "negative":
            d = _combine(Z0f, x, zero)
            prop = _curve_from(ctx, d, "second-order curve",
                               "a direction d with ∇q_k·d = 0 on the active points and "
                               "dᵀ(I − Σλ_k∇²q_k)d < 0")
            if prop is not None:
                return prop, "negative"
            return None, "negative"
    if ctx.zero_units:
        ctx.tried.append("second order: zero units sit on kinks at every point, so the margins are not smooth "
                         "at θ (the second-order sufficient condition does not apply)")
        return None, "not applicable"
    flat = _zero_preactivations(ctx)
    if flat:
        ctx.tried.append("second-order sufficient condition: not applicable (pre-activation exactly 0 on an active "
                         "point, where the activation is not twice differentiable: " + ", ".join(flat) + ")")
        return None, "not applicable"
    if not Z1:
        return None, "pd"
    Z1f = [full(z) for z in Z1] if Z1 is not Z0 else Z0f
    M1 = _lagrangian_form(ctx, Z1f) if Z1 is not Z0 else M0
    kind, x = definiteness(M1, zero, one)
    if kind == "pd":
        return None, "pd"
    if Z1 is not Z0 and definiteness(M0, zero, one)[0] == "pd":
        ctx.tried.append("second-order sufficient condition: some active λ_k = 0, so the critical cone is a cone, "
                         "not a subspace; the Lagrangian Hessian is positive definite where every active gradient "
                         "vanishes but not on {∇q_k·d = 0 for λ_k > 0}, and copositivity on the cone is not decided")
        return None, "cone"
    ctx.tried.append("second-order sufficient condition fails: the Lagrangian Hessian is only positive "
                     "semidefinite on the critical subspace (flat directions)")
    return None, "psd"


def _zero_preactivations(ctx):
    """``"point k unit L:U"`` for every exactly-zero pre-activation of a piecewise unit on an active point."""
    import numpy as np

    out = []
    for li in curves.pattern_layers(ctx.net):
        S = ctx.trace.signs.get(li)
        if S is None:
            continue
        for k in ctx.active:
            out += [f"point {k} unit {ctx.net.unit_label(li, int(u))}" for u in np.nonzero(S[..., k].ravel() == 0)[0]]
    return out


def _embed(ctx, z):
    out = [ctx.zero()] * ctx.m
    for j, idx in enumerate(ctx.free):
        out[idx] = z[j]
    return out


# -- group lasso ---------------------------------------------------------------------------------------
def group_lasso(ctx):
    """The group-lasso argument for two-layer nets (module docstring): a Property or None."""
    why = _two_layer(ctx)
    if why:
        ctx.tried.append(f"group lasso: not applicable ({why})")
        return None
    if ctx.L != 2:
        return None
    pos = [k for k in ctx.active if ctx.lam[k].sign() > 0]
    bad = [(k, u) for k in pos for u in ctx.hard_kinks.get(k, [])]
    if bad:
        ctx.tried.append("group lasso: not applicable (non-zero units on kinks of points with λ_k > 0: "
                         + ", ".join(f"point {k} unit {ctx.net.unit_label(*u)}" for k, u in bad) + ")")
        return None
    sup = {}
    for unit in ctx.zero_units:
        phis = _features(ctx, unit)
        if len(phis[0]) != 1:
            ctx.tried.append(f"group lasso: zero unit {unit.label} would need sup_(|u|=1) |F(u)| ≤ 1 over its "
                             f"{len(phis[0])}-dimensional input, which is not decided here")
            return None
        one = ctx.K.element(1)
        vals = [dual_value(ctx, unit, [one], phis), dual_value(ctx, unit, [-one], phis)]
        absolute = [abs_(v) for v in vals]
        if any((v - 1).sign() > 0 for v in absolute):        # every value decided exactly
            return None
        worst = absolute[0] if (absolute[0] - absolute[1]).sign() >= 0 else absolute[1]
        sup[unit.label] = _fmt(worst)
    witness = {"multipliers": [_fmt(v) for v in ctx.lam], "units": len(ctx.units),
               "zero_units_sup_F": sup}
    strict, note = None, "strictness not decided"
    pair = _parallel_pair(ctx)
    if pair is not None:
        strict = False
        witness["parallel_units"] = pair
        note = (f"not strict: units {pair[0]} and {pair[1]} have the same direction w/‖w‖ and sign of v, so "
                "moving weight between them keeps Φ and ‖θ‖")
    reason = ("two-layer net with the activation pattern fixed near θ on the points with λ_k > 0: "
              "Σλ_k ≤ Σλ_k q_k(θ') ≤ Σ_j |v'_j| ‖w'_j‖ ≤ ½‖θ'‖² for feasible θ' near θ"
              + (", using sup|F| ≤ 1 on the zero units" if sup else "") + f"; {note}")
    return Property("holds", "group lasso", reason, witness, strict=strict)


def abs_(v):
    return -v if v.sign() < 0 else v


def _parallel_pair(ctx):
    live = [u for u in ctx.units if u not in ctx.zero_units]
    zero = ctx.zero()
    for a, b in itertools.combinations(live, 2):
        wa = [ctx.theta[i] for i in a.incoming]
        wb = [ctx.theta[i] for i in b.incoming]
        va, vb = ctx.theta[a.outgoing[0]], ctx.theta[b.outgoing[0]]
        if len(a.outgoing) != 1 or va.sign() != vb.sign() or va.is_zero():
            continue
        # same direction: wa = t wb with t > 0  <=>  wa·wb > 0 and (wa·wb)² = |wa|²|wb|²
        ab = _dot(wa, wb, zero)
        if ab.sign() > 0 and (ab * ab - _dot(wa, wa, zero) * _dot(wb, wb, zero)).is_zero():
            return [a.label, b.label]
    return None


# -- the decision --------------------------------------------------------------------------------------
def decide_local(problem, theta, kkt):
    """Decide whether the KKT point θ is a local optimum of P_Φ (see the module docstring).

    Parameters
    ----------
    problem : symkkt.kkt.MaxMarginProblem
    theta : list
        θ flat, exact.
    kkt : symkkt.kkt.KKTResult
        The KKT decision of θ (``holds``).

    Returns
    -------
    Property
    """
    if kkt.verdict != "holds":
        raise ValueError("decide_local needs a KKT point")
    ctx = _context(problem, theta, kkt)
    try:
        prop = zero_unit_curves(ctx)
        if prop is not None:
            return prop
        prop, status = second_order(ctx)
        if prop is not None:
            return prop
    except curves.Unsupported as err:
        ctx.tried.append(f"curves: not covered ({err})")
        status = "not applicable"
    if status == "pd":
        return Property("holds", "second-order sufficient condition",
                        "no pre-activation of an active point is 0, and the Lagrangian Hessian I − Σλ_k∇²q_k is "
                        "positive definite on {∇q_k·d = 0 for active k with λ_k > 0} ⊇ critical cone: a strict "
                        "local optimum", {"multipliers": [_fmt(v) for v in ctx.lam]}, strict=True)
    prop = group_lasso(ctx)
    if prop is not None:
        if ctx.tried:
            prop.reason += " (" + "; ".join(ctx.tried) + ")"
        return prop
    return Property("inconclusive", "none", "tried: " + ("; ".join(ctx.tried) or "nothing applies"),
                    {"tried": list(ctx.tried)})


# -- the certificate ------------------------------------------------------------------------------------
def certificate(problem, curve, check):
    """The kernel certificate ``not_local_optimum`` of an accepted curve."""
    import datetime

    from .. import __version__
    from ..certificate import _format_params, digest, field_block

    net = problem.network
    params = [{"weight": layer["weight"], **({"bias": layer["bias"]} if layer["bias"] is not None else {})}
              for layer in net.unflatten([v.to_sympy() for v in curve.coeffs[0]])]
    params = _format_params(params)
    witness = {"curve": curve.to_json(), "s0": str(curve.s0), "pattern": check.pattern,
               "mechanism": curve.mechanism}
    data = problem.data.to_json()
    numbers = [v for d in witness["curve"] for v in d] + _strings(params) + _strings(data)
    cert = {"symkkt_certificate": 1, "claim": {"kind": "not_local_optimum", "statement": STATEMENT},
            "architecture": net.arch.to_json(), "data": data, "parameters": params, "witness": witness}
    block = field_block(curve.K, [s for s in numbers if isinstance(s, str) and any(ch.isdigit() for ch in s)])
    if block is not None:
        witness["field"] = block
    cert["provenance"] = {"tool": f"symkkt {__version__}",
                          "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    cert["digest"] = digest(cert)
    return cert


def _strings(obj):
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []
