"""The claims a certificate can make, each re-decided from architecture, data, θ and witness.

With q_k = y_k Φ(θ; x_k) (data points are numbered from 0 in the order of ``data.points``):

- ``kkt_point``: all q_k >= 1, λ >= 0, λ_k = 0 where q_k > 1, and θ = Σ_k y_k Σ_t w_t h_k(g_t)
  exactly, where a point with kink units lists terms (weights w_t >= 0 summing to λ_k, one slope
  per kink unit) and a smooth point uses λ_k ∇Φ. For homogeneous nets the consequence
  ‖θ‖² = L Σλ is re-checked as a sanity identity.
- ``kkt_direction``: homogeneous net of degree L >= 1, θ != 0, q_min > 0, μ >= 0 supported on
  argmin q, same stationarity (then θ / q_min^(1/L) is a KKT point); sanity ‖θ‖² = L q_min Σμ.
- ``not_kkt_point``: a point with q_k < 1, or a Farkas vector y with y·θ < 0 and y·c >= 0 for every
  vertex column c = y_k h_k(g) of an active point k (q_k = 1).
- ``not_kkt_direction``: a point with q_k <= 0, or a Farkas vector as above with the active set
  argmin q (homogeneous net, q_min > 0).

Each of the four records in ``claim.clarke_set`` the set of generalized gradients it is about:

- ``gradient``: no kink where it matters (no point with a non-zero multiplier, resp. no active
  point, has a kink unit), so the gradient is the whole Clarke subdifferential ∂°Φ;
- ``clarke``: holds with Clarke elements only: every term's slope pattern is realized by a
  ``direction`` d (forward-mode ż != 0 at every kink unit, slope 1 where ż > 0 and s where
  ż < 0), so h_k(g) is a limit of gradients of Φ(·; x_k) along θ + t·d, t ↓ 0, hence in ∂°Φ.
  One exemption: a *free* unit u, a kink unit of the FIRST weight layer with a_u = ∇_θ z_u = 0
  exactly (its input patch is zero and it has no bias), may take any slope of its interval, and
  its ż is not checked (it is 0 along every d). Sound because z_u is affine in θ with gradient
  0, so z_u ≡ 0 and σ(z_u) ≡ 0 for every θ: Φ(·; x_k) coincides with the reduced net in which u
  outputs the constant 0. In the backprop h_k the slope of u multiplies only u's weight gradient
  (slope·patch = 0; there is no bias and no parameter upstream of the first weight layer), so
  h_k(g) does not depend on g_u and equals the reduced net's chain rule; in the forward mode u
  passes on ẋ_u = slope·ż_u = 0, the reduced net's value, so ż of every other unit is the
  reduced net's, and a direction realizing the other units' pattern gives a limiting gradient
  of the reduced net, i.e. of Φ(·; x_k). Deeper units with ∇z_u = 0 are not exempt: z_u need
  not be constant near θ (its sign can be decided at second order).
  Refutes over the chain-rule hull minus the vertex patterns that ``excluded`` Gordan vectors
  prove unrealizable: for first-layer kink units z_u = a_u·θ is linear, and ν >= 0, ν != 0 with
  Σ ν_u σ_u a_u = 0 means no point near θ has sign σ_u z_u > 0 on all of them (a_u != 0 required),
  so no limiting gradient has that pattern (a free unit has a_u = 0 and is refused there: it has
  no sign near θ, and excluding it would drop columns that are limiting gradients);
- ``chain_rule_hull``: slopes anywhere in the intervals (the conservative set, which contains
  ∂°Φ because h is multilinear in the slopes and every limiting gradient has vertex slopes). A
  holds is only about that set; a refutation over it also refutes Clarke-KKT.

``claim.statement`` is optional and must be :func:`statement` of the kind and set; any other text
is refused. The split-map claims ``split_embedding``, ``critical_embedding`` and
``not_output_preserved`` are decided in :mod:`.splits`, the realization claims
``same_realization``, ``different_realization`` and ``realization_distance`` in :mod:`.realize`;
all are dispatched from :data:`CLAIMS`.

Nothing stored in the certificate is trusted except as a candidate: margins, pre-activation
signs, kinks, gradients and identities are all recomputed here.

Examples
--------
>>> statement("kkt_point", "clarke")
'theta is a KKT point of the max-margin problem with respect to the Clarke subdifferential'
"""
from itertools import product

from . import ncf, nearby, realize, splits
from . import optimality_global
from . import optimality
from .exact import Numbers
from .field import Invalid
from .network import Network, _keys

KKT_KINDS = {"kkt_point": "a KKT point", "kkt_direction": "a KKT direction",
             "not_kkt_point": "not a KKT point", "not_kkt_direction": "not a KKT direction"}
SETS = {"gradient": "gradient (no kink unit where it matters)",
        "clarke": "Clarke subdifferential",
        "chain_rule_hull": "chain-rule hull (a superset of the Clarke subdifferential)"}
SET_REASONS = {
    ("gradient", True): "gradient — no point with a non-zero multiplier sits on a kink",
    ("clarke", True): "clarke — limiting gradients, each realized by a direction",
    ("chain_rule_hull", True): "chain_rule_hull — KKT for the chain-rule hull only, not proved Clarke",
    ("gradient", False): "gradient — no active point sits on a kink",
    ("clarke", False): "clarke — hull of the realizable vertex patterns, which contains the Clarke subdifferential",
    ("chain_rule_hull", False): "chain_rule_hull — contains the Clarke subdifferential, so θ is not "
                                "Clarke-KKT either",
}


def statement(kind, clarke_set=None):
    """The canonical statement of a claim (a pure function of the kind and, for KKT claims, the set).

    ``not_output_preserved`` has one of the value-free form; :mod:`.splits` also accepts the form
    that names both outputs when they are the recomputed ones.
    """
    if kind in KKT_KINDS:
        if clarke_set not in SETS:
            raise ValueError(f"clarke_set must be one of {sorted(SETS)}, got {clarke_set!r}")
        return f"theta is {KKT_KINDS[kind]} of the max-margin problem with respect to the {SETS[clarke_set]}"
    if kind in splits.STATEMENTS:
        return splits.STATEMENTS[kind][0]
    if kind in realize.STATEMENTS:
        return realize.STATEMENTS[kind]
    if kind in ncf.KINDS:
        return ncf.statement(kind, clarke_set)
    if kind == nearby.KIND:     # a KKT point inside the witness box (Krawczyk test)
        return nearby.statement(clarke_set or "gradient")
    raise ValueError(f"unknown claim kind {kind!r}")


class Context:
    """Everything recomputed from a certificate: field, network, θ, data, forward passes, margins."""

    def __init__(self, cert, limits):
        claim = cert["claim"]
        _keys(claim, {"kind", "clarke_set", "statement"}, "claim")
        self.set = claim.get("clarke_set")
        if self.set not in SETS:
            raise Invalid(f"claim.clarke_set: must be one of {sorted(SETS)}, got {self.set!r}")
        if "statement" in claim and claim["statement"] != statement(claim["kind"], self.set):
            raise Invalid(f"claim.statement: must be the canonical statement "
                          f"{statement(claim['kind'], self.set)!r} (or absent)")
        self.witness = w = cert["witness"]
        self.N = Numbers(w.get("field"), limits)
        self.F = F = self.N.F
        self.limits = limits
        self.net = Network(cert["architecture"], self.N)
        self.theta = self.net.parameters(cert["parameters"])
        xs, self.y = self.net.points(cert["data"])
        self.evs = [self.net.evaluate(self.theta, x) for x in xs]
        self.q = [ev.output if y > 0 else F.neg(ev.output) for ev, y in zip(self.evs, self.y)]
        self.n, self.m = len(xs), self.net.n_params

    def fmt(self, a):
        return self.F.show(a)

    def dot(self, a, b):
        return self.F.sum(self.F.mul(u, v) for u, v in zip(a, b))

    def point(self, k, where):
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < self.n:
            raise Invalid(f"{where}: point must be a data index 0..{self.n - 1}")
        return k

    def vector(self, v, where, length):
        if not isinstance(v, list) or len(v) != length:
            raise Invalid(f"{where}: must be a list of {length} numbers")
        return [self.N.num(c, f"{where}[{i}]") for i, c in enumerate(v)]

    def degree(self):
        """The homogeneity degree L >= 1 of the net, or an invalid verdict saying why there is none."""
        if self.net.degree is None:
            raise Invalid(f"architecture is not positively homogeneous: {self.net.not_homogeneous}")
        return self.net.degree

    def bound(self, direction):
        """The margin of active points: 1 for KKT points, q_min > 0 for KKT directions."""
        if not direction:
            return self.F.const(1)
        self.degree()
        if all(self.F.is_zero(t) for t in self.theta):
            raise Invalid("θ = 0 is not a direction")
        qmin = self.q[0]
        for q in self.q[1:]:
            qmin = q if self.F.cmp(q, qmin) < 0 else qmin
        if self.F.sign(qmin) <= 0:
            raise Invalid(f"minimal margin {self.fmt(qmin)} is not positive")
        return qmin

    def only(self, *keys):
        _keys(self.witness, {"field", *keys}, "witness")

    def passes(self, count, what):
        """Check ``count`` more backprop/forward-mode passes against ``operations`` before running them."""
        self.limits.check("operations", self.limits.spent + 2 * count * self.net.n_conns,
                          f"operations of {count} {what} (estimated)")


def kkt(ctx, direction):
    """``kkt_point`` (direction False) and ``kkt_direction`` (True)."""
    F = ctx.F
    ctx.only("multipliers", "clarke")
    bound = ctx.bound(direction)
    lam = ctx.vector(ctx.witness.get("multipliers"), "witness.multipliers", ctx.n)
    for k, (q, v) in enumerate(zip(ctx.q, lam)):
        if F.sign(v) < 0:
            raise Invalid(f"multiplier {k} is negative")
        s = F.cmp(q, bound)
        if s < 0:
            raise Invalid(f"point {k} violates its constraint: margin {ctx.fmt(q)} < {ctx.fmt(bound)}")
        if s > 0 and not F.is_zero(v):
            raise Invalid(f"point {k} is inactive (margin {ctx.fmt(q)} > {ctx.fmt(bound)}) but its multiplier is not 0")
    kinks = stationarity(ctx, lam)
    if ctx.net.degree is not None:      # Euler: ‖θ‖² = Σ λ_k y_k <h_k, θ> = L Σ λ_k q_k = L·bound·Σλ
        rhs = F.mul(F.mul(F.const(ctx.net.degree), bound), F.sum(lam))
        if not F.is_zero(F.sub(ctx.dot(ctx.theta, ctx.theta), rhs)):
            raise Invalid("sanity identity ‖θ‖² = L·q_active·Σλ fails (inconsistent certificate)")
    return (f"q_min > 0 (L = {ctx.net.degree}), multipliers >= 0 on argmin q" if direction else
            "margins >= 1, multipliers >= 0 with complementary slackness") + ", θ = Σ λ_k y_k h_k exactly" + \
        (f" with {kinks} kink term{'s' * (kinks != 1)}" if kinks else "") + \
        f" (Clarke set: {SET_REASONS[ctx.set, True]})"


def stationarity(ctx, lam):
    """θ == Σ_k y_k Σ_terms w h_k(slopes); returns the number of terms used at kinks."""
    F, clarke, entries = ctx.F, ctx.witness.get("clarke", []), {}
    if not isinstance(clarke, list):
        raise Invalid("witness.clarke: must be a list")
    if clarke and ctx.set == "gradient":
        raise Invalid("witness.clarke: must be empty for the gradient set")
    for i, e in enumerate(clarke):
        where = f"witness.clarke[{i}]"
        _keys(e, {"point", "terms"}, where)
        k = ctx.point(e.get("point"), where)
        if k in entries:
            raise Invalid(f"{where}: duplicate entry for point {k}")
        if F.is_zero(lam[k]) or not ctx.evs[k].kinks:
            raise Invalid(f"{where}: point {k} has a zero multiplier or no kink unit")
        entries[k] = clarke_terms(ctx, k, e.get("terms"), where, lam[k])
    smooth = [k for k in range(ctx.n) if not F.is_zero(lam[k]) and k not in entries]
    ctx.passes(len(smooth) + sum(map(len, entries.values())), "gradients")
    total = [()] * ctx.m
    for k, ev in enumerate(ctx.evs):
        if F.is_zero(lam[k]):
            continue
        if ev.kinks and k not in entries:
            raise Invalid(f"point {k} has kink units {sorted(ev.kinks)[:8]} and a non-zero multiplier"
                          + (": not allowed for the gradient set" if ctx.set == "gradient"
                             else "; it needs a witness.clarke entry"))
        for w, slopes in entries.get(k, [(lam[k], None)]):
            wy = w if ctx.y[k] > 0 else F.neg(w)
            total = [F.add(t, F.mul(wy, h)) for t, h in zip(total, ctx.net.gradient(ctx.theta, ev, slopes))]
    for i, (t, th) in enumerate(zip(total, ctx.theta)):
        if not F.is_zero(F.sub(th, t)):
            raise Invalid(f"stationarity fails at parameter {i}: θ_i = {ctx.fmt(th)} but Σ λ y h = {ctx.fmt(t)}")
    return sum(map(len, entries.values()))


def clarke_terms(ctx, k, terms, where, lam):
    """[(weight, {unit: slope})] of one clarke entry, checked against the kinks of point k and,
    for the Clarke set, against the slopes its direction realizes."""
    F, kinks = ctx.F, ctx.evs[k].kinks
    if not isinstance(terms, list) or not terms:
        raise Invalid(f"{where}.terms: must be a non-empty list")
    out = []
    for j, t in enumerate(terms):
        tw = f"{where}.terms[{j}]"
        _keys(t, {"weight", "slopes", "direction"}, tw)
        w, slopes = ctx.N.num(t.get("weight"), f"{tw}.weight"), t.get("slopes")
        if F.sign(w) < 0:
            raise Invalid(f"{tw}.weight: must be >= 0")
        if not isinstance(slopes, dict) or set(slopes) != set(kinks):
            raise Invalid(f"{tw}.slopes: keys must be exactly the kink units {sorted(kinks)[:8]} of point {k}")
        vals = {u: ctx.N.num(v, f"{tw}.slopes[{u}]") for u, v in slopes.items()}
        for u, g in vals.items():
            lo, hi = kinks[u]
            if F.cmp(g, lo) < 0 or F.cmp(g, hi) > 0:
                raise Invalid(f"{tw}.slopes[{u}]: {ctx.fmt(g)} outside [{ctx.fmt(lo)}, {ctx.fmt(hi)}]")
        if ctx.set == "clarke":
            realized(ctx, k, vals, t.get("direction"), tw)
        elif "direction" in t:
            raise Invalid(f"{tw}.direction: only the clarke set carries directions")
        out.append((w, vals))
    total = F.sum(w for w, _ in out)
    if not F.is_zero(F.sub(total, lam)):
        raise Invalid(f"{where}: term weights sum to {ctx.fmt(total)}, multiplier is {ctx.fmt(lam)}")
    return out


def realized(ctx, k, slopes, direction, where):
    """Check that ``direction`` realizes the vertex pattern ``slopes`` at point k: ż != 0 at every
    kink unit and slope 1 where ż > 0, the negative-side slope where ż < 0 (then h_k(slopes) is
    a limiting gradient: Φ(·; x_k) is smooth near θ + t·d for small t > 0 with that pattern).

    A :func:`free` unit is exempt: its ż is 0 along every d and any slope of its interval (already
    checked by the caller) is accepted, because h_k does not depend on it."""
    F = ctx.F
    if direction is None:
        raise Invalid(f"{where}: the clarke set needs a direction realizing the slopes")
    d = ctx.vector(direction, f"{where}.direction", ctx.m)
    zdot, chosen = ctx.net.jvp(ctx.theta, ctx.evs[k], d)
    for u in sorted(slopes):
        if free(ctx, k, u):
            continue
        if F.sign(zdot[u]) == 0:
            raise Invalid(f"{where}.direction: ż = 0 at kink unit {u} (the direction does not pick a side)")
        if not F.is_zero(F.sub(slopes[u], chosen[u])):
            raise Invalid(f"{where}.direction: ż {'>' if F.sign(zdot[u]) > 0 else '<'} 0 at kink unit {u} selects "
                          f"slope {ctx.fmt(chosen[u])}, the term says {ctx.fmt(slopes[u])}")


def free(ctx, k, u):
    """Whether kink unit ``u`` of point k is in the first weight layer with a_u = ∇_θ z_u = 0
    (its input patch is zero and it has no bias): then z_u ≡ 0 and σ(z_u) ≡ 0 for every θ."""
    return u.startswith("1:") and all(not c for c in ctx.net.first_layer_row(ctx.evs[k], int(u[2:])))


def refute(ctx, direction):
    """``not_kkt_point`` (direction False) and ``not_kkt_direction`` (True)."""
    F, reason = ctx.F, ctx.witness.get("reason")
    tail = f" (Clarke set: {SET_REASONS[ctx.set, False]})"
    if reason == ("nonpositive_margin" if direction else "infeasible"):
        ctx.only("reason", "point")
        k = ctx.point(ctx.witness.get("point"), "witness.point")
        b, rel = (0, "<=") if direction else (1, "<")      # KKT direction needs q > 0, KKT point q >= 1
        s = F.cmp(ctx.q[k], F.const(b))
        if s > 0 or (s == 0 and not direction):
            raise Invalid(f"point {k} has margin {ctx.fmt(ctx.q[k])}, not {rel} {b}")
        return (f"point {k} has margin {ctx.fmt(ctx.q[k])} {rel} {b} "
                f"(Clarke set: {ctx.set}; needed by no margin refutation)")
    if reason != "stationarity":
        raise Invalid(f"witness.reason: unknown reason {reason!r}")
    ctx.only("reason", "farkas", "excluded")
    bound = ctx.bound(direction)
    active = [k for k, q in enumerate(ctx.q) if F.is_zero(F.sub(q, bound))]
    y = ctx.vector(ctx.witness.get("farkas"), "witness.farkas", ctx.m)
    excluded = exclusions(ctx, active)
    kinky = [k for k in active if ctx.evs[k].kinks]
    if ctx.set == "gradient" and kinky:
        raise Invalid(f"active point {kinky[0]} has kink units: not allowed for the gradient set")
    total = sum(2 ** len(ctx.evs[k].kinks) for k in active)
    ctx.limits.check("vertices", total, "vertex Clarke columns of all active points")
    ctx.passes(total, "vertex columns")
    if F.sign(ctx.dot(y, ctx.theta)) >= 0:
        raise Invalid(f"Farkas vector: y·θ = {ctx.fmt(ctx.dot(y, ctx.theta))} is not < 0")
    columns = skipped = 0
    for k in active:
        kinks = ctx.evs[k].kinks
        names = sorted(kinks)
        for signs in product((1, -1), repeat=len(names)):
            pattern = dict(zip(names, signs))
            if any(all(pattern[u] == s for u, s in e.items()) for e in excluded.get(k, ())):
                skipped += 1
                continue
            slopes = vertex(ctx, k, pattern)
            if F.sign(ctx.dot(y, ctx.net.gradient(ctx.theta, ctx.evs[k], slopes))) * ctx.y[k] < 0:
                raise Invalid(f"Farkas vector: y·c < 0 for point {k} at slopes "
                              f"{ {u: ctx.fmt(g) for u, g in slopes.items()} }")
            columns += 1
    return (f"Farkas vector: y·θ < 0 and y·c >= 0 for all {columns} vertex Clarke columns "
            f"of {len(active)} active points" + (f" ({skipped} excluded by Gordan vectors)" if skipped else "")
            + tail)


def vertex(ctx, k, pattern):
    """Slopes of a sign pattern at point k: 1 where the sign is +1, the negative-side slope where -1."""
    one = ctx.F.const(1)
    return {u: one if s > 0 else ctx.net.kink_slope(u) for u, s in pattern.items()}


def exclusions(ctx, active):
    """{point: [{unit: sign}]} of ``witness.excluded``, every Gordan vector checked exactly."""
    F, excl, out = ctx.F, ctx.witness.get("excluded", []), {}
    if not isinstance(excl, list):
        raise Invalid("witness.excluded: must be a list")
    if excl and ctx.set != "clarke":
        raise Invalid("witness.excluded: only the clarke set may exclude vertex patterns")
    for i, e in enumerate(excl):
        where = f"witness.excluded[{i}]"
        _keys(e, {"point", "signs", "gordan"}, where)
        k = ctx.point(e.get("point"), where)
        if k not in active:
            raise Invalid(f"{where}: point {k} is not active")
        signs, nu = e.get("signs"), e.get("gordan")
        if not isinstance(signs, dict) or not signs or not isinstance(nu, dict) or set(nu) != set(signs):
            raise Invalid(f"{where}: signs and gordan must be objects with the same unit keys")
        total, positive = [()] * ctx.m, False
        for u in sorted(signs):
            if u not in ctx.evs[k].kinks or not u.startswith("1:"):
                raise Invalid(f"{where}: {u!r} is not a kink unit of the first weight layer at point {k}")
            s = ctx.N.num(signs[u], f"{where}.signs[{u}]")
            if s not in ((1,), (-1,)):
                raise Invalid(f"{where}.signs[{u}]: must be 1 or -1")
            v = ctx.N.num(nu[u], f"{where}.gordan[{u}]")
            if F.sign(v) < 0:
                raise Invalid(f"{where}.gordan[{u}]: must be >= 0")
            positive = positive or F.sign(v) > 0
            a = ctx.net.first_layer_row(ctx.evs[k], int(u[2:]))
            if all(not c for c in a):
                raise Invalid(f"{where}: unit {u} has a_u = 0 (its pre-activation is constant near θ)")
            total = [F.add(t, F.mul(F.mul(s, v), c)) for t, c in zip(total, a)]
        if not positive:
            raise Invalid(f"{where}.gordan: all zero")
        if not all(F.is_zero(t) for t in total):
            raise Invalid(f"{where}: Σ ν_u σ_u a_u != 0 (not a Gordan vector)")
        out.setdefault(k, []).append({u: int(ctx.N.num(signs[u])[0]) for u in signs})
    return out


def _on_context(check, direction):
    """The claim checker ``(cert, limits) -> reason`` that runs ``check`` on the recomputed :class:`Context`."""
    return lambda cert, limits: check(Context(cert, limits), direction)


CLAIMS = {"kkt_point": _on_context(kkt, False), "kkt_direction": _on_context(kkt, True),
          "not_kkt_point": _on_context(refute, False), "not_kkt_direction": _on_context(refute, True),
          **splits.CLAIMS, **realize.CLAIMS, **ncf.CLAIMS, **nearby.CLAIMS}
CLAIMS.update(optimality_global.CLAIMS)     # global_optimum, not_global_optimum
CLAIMS.update(optimality.CLAIMS)            # not_local_optimum


def check_claim(cert, limits):
    """Decide the certificate's claim; returns a reason string or raises :class:`Invalid`."""
    kind = cert["claim"]["kind"]
    if kind not in CLAIMS:
        raise Invalid(f"unknown claim kind {kind!r}")
    return CLAIMS[kind](cert, limits)
