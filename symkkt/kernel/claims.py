"""The claims a certificate can make, each re-decided from architecture, data, θ and witness.

With q_k = y_k Φ(θ; x_k) (data points are numbered from 0 in the order of ``data.points``):

- ``kkt_point``: all q_k >= 1, λ >= 0, λ_k = 0 where q_k > 1, and θ = Σ_k y_k Σ_t w_t h_k(g_t)
  exactly, where a point with kink units lists Clarke terms (weights w_t >= 0 summing to λ_k, one
  slope per kink unit in its interval) and a smooth point uses λ_k ∇Φ. For homogeneous nets the
  consequence ‖θ‖² = L Σλ is re-checked as a sanity identity.
- ``kkt_direction``: homogeneous net, q_min > 0, μ >= 0 supported on argmin q, same stationarity
  (then θ / q_min^(1/L) is a KKT point); sanity ‖θ‖² = L q_min Σμ.
- ``not_kkt_point``: a point with q_k < 1, or a Farkas vector y with y·θ < 0 and y·c >= 0 for every
  vertex column c = y_k h_k(g), g a vertex of the slope box, k active (q_k = 1). The Clarke
  subdifferential lies in the convex hull of these vertex elements (h is multilinear in the slopes),
  so θ is not a non-negative combination of Clarke elements of active points.
- ``not_kkt_direction``: a point with q_k <= 0, or a Farkas vector as above with the active set
  argmin q (homogeneous net, q_min > 0).

Nothing stored in the certificate is trusted except as a candidate: margins, pre-activation
signs, kinks, gradients and identities are all recomputed here.
"""
from itertools import product

from .exact import Numbers
from .field import Invalid
from .network import Network, _keys

MAX_KINKS = 16


def fmt(F, a):
    a = F.reduce(a)
    return str(a[0]) if len(a) == 1 else "0" if not a else f"≈{F.to_float(a):.6g}"


class Context:
    def __init__(self, cert, witness_keys):
        w = cert["witness"]
        _keys(w, witness_keys | {"field"}, "witness")
        self.witness = w
        self.N = Numbers(w.get("field"))
        self.F = F = self.N.F
        self.net = Network(cert["architecture"], self.N)
        self.theta = self.net.parameters(cert["parameters"])
        xs, self.y = self.net.points(cert["data"])
        self.evs = [self.net.evaluate(self.theta, x) for x in xs]
        self.q = [ev.output if y > 0 else F.neg(ev.output) for ev, y in zip(self.evs, self.y)]
        self.n, self.m = len(xs), self.net.n_params

    def dot(self, a, b):
        return self.F.sum(self.F.mul(u, v) for u, v in zip(a, b))

    def point(self, k, where):
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < self.n:
            raise Invalid(f"{where}: point must be a data index 0..{self.n - 1}")
        return k

    def vector(self, v, length, where):
        if not isinstance(v, list) or len(v) != length:
            raise Invalid(f"{where}: must be a list of {length} numbers")
        return [self.N.num(c, f"{where}[{i}]") for i, c in enumerate(v)]

    def homogeneous(self):
        if self.net.degree is None:
            raise Invalid(f"architecture is not positively homogeneous: {self.net.not_homogeneous}")
        return self.net.degree

    def q_min(self):
        qmin = self.q[0]
        for q in self.q[1:]:
            if self.F.cmp(q, qmin) < 0:
                qmin = q
        return qmin


def stationarity(ctx, lam):
    """θ == Σ_k y_k Σ_terms w h_k(slopes); returns whether any Clarke term used a kink."""
    F, net = ctx.F, ctx.net
    clarke = ctx.witness.get("clarke", [])
    if not isinstance(clarke, list):
        raise Invalid("witness.clarke: must be a list")
    entries = {}
    for i, e in enumerate(clarke):
        where = f"witness.clarke[{i}]"
        _keys(e, {"point", "terms"}, where)
        k = ctx.point(e.get("point"), where)
        if k in entries:
            raise Invalid(f"{where}: duplicate entry for point {k}")
        if F.is_zero(lam[k]) or not ctx.evs[k].kinks:
            raise Invalid(f"{where}: point {k} has a zero multiplier or no kink unit")
        entries[k] = (e.get("terms"), where)
    total, used_kinks = [()] * ctx.m, False
    for k, ev in enumerate(ctx.evs):
        if F.is_zero(lam[k]):
            continue
        if not ev.kinks:
            terms = [(lam[k], None)]
        elif k not in entries:
            raise Invalid(f"point {k} has kink units {sorted(ev.kinks)} and needs a witness.clarke entry")
        else:
            terms, where = entries[k]
            terms = clarke_terms(ctx, k, terms, where, lam[k])
            used_kinks = True
        for w, slopes in terms:
            h = net.gradient(ctx.theta, ev, slopes)
            wy = w if ctx.y[k] > 0 else F.neg(w)
            total = [F.add(t, F.mul(wy, hi)) for t, hi in zip(total, h)]
    for i, (t, th) in enumerate(zip(total, ctx.theta)):
        if not F.is_zero(F.sub(th, t)):
            raise Invalid(f"stationarity fails at parameter {i}: θ_i = {fmt(F, th)} but Σ λ y h = {fmt(F, t)}")
    return used_kinks


def clarke_terms(ctx, k, terms, where, lam):
    F, kinks = ctx.F, ctx.evs[k].kinks
    if not isinstance(terms, list) or not terms:
        raise Invalid(f"{where}.terms: must be a non-empty list")
    out, total = [], ()
    for j, t in enumerate(terms):
        tw = f"{where}.terms[{j}]"
        _keys(t, {"weight", "slopes"}, tw)
        w = ctx.N.num(t.get("weight"), f"{tw}.weight")
        if F.sign(w) < 0:
            raise Invalid(f"{tw}.weight: must be >= 0")
        slopes = t.get("slopes")
        if not isinstance(slopes, dict) or set(slopes) != set(kinks):
            raise Invalid(f"{tw}.slopes: keys must be exactly the kink units {sorted(kinks)} of point {k}")
        vals = {}
        for u, v in slopes.items():
            g = vals[u] = ctx.N.num(v, f"{tw}.slopes[{u}]")
            lo, hi = kinks[u]
            if F.cmp(g, lo) < 0 or F.cmp(g, hi) > 0:
                raise Invalid(f"{tw}.slopes[{u}]: {fmt(F, g)} outside [{fmt(F, lo)}, {fmt(F, hi)}]")
        out.append((w, vals))
        total = F.add(total, w)
    if not F.is_zero(F.sub(total, lam)):
        raise Invalid(f"{where}: term weights sum to {fmt(F, total)}, multiplier is {fmt(F, lam)}")
    return out


def sanity(ctx, rhs, what):
    F = ctx.F
    if not F.is_zero(F.sub(ctx.dot(ctx.theta, ctx.theta), rhs)):
        raise Invalid(f"sanity identity ‖θ‖² = {what} fails (inconsistent certificate)")


def multipliers(ctx):
    lam = ctx.vector(ctx.witness.get("multipliers"), ctx.n, "witness.multipliers")
    for k, v in enumerate(lam):
        if ctx.F.sign(v) < 0:
            raise Invalid(f"multiplier {k} is negative")
    return lam


def kkt_point(ctx):
    F, one = ctx.F, ctx.F.const(1)
    lam = multipliers(ctx)
    for k, q in enumerate(ctx.q):
        s = F.cmp(q, one)
        if s < 0:
            raise Invalid(f"point {k} violates its constraint: margin {fmt(F, q)} < 1")
        if s > 0 and not F.is_zero(lam[k]):
            raise Invalid(f"point {k} is inactive (margin {fmt(F, q)} > 1) but its multiplier is not 0")
    kinks = stationarity(ctx, lam)
    if ctx.net.degree is not None:
        sanity(ctx, F.mul(F.const(ctx.net.degree), F.sum(lam)), "L Σλ")
    return "margins >= 1, multipliers >= 0 with complementary slackness, θ = Σ λ_k y_k h_k exactly" + \
        (" (kink slopes chosen per unit: chain-rule Clarke elements)" if kinks else "")


def kkt_direction(ctx):
    F, L = ctx.F, ctx.homogeneous()
    qmin = ctx.q_min()
    if F.sign(qmin) <= 0:
        raise Invalid(f"minimal margin {fmt(F, qmin)} is not positive")
    mu = multipliers(ctx)
    for k, q in enumerate(ctx.q):
        if F.cmp(q, qmin) > 0 and not F.is_zero(mu[k]):
            raise Invalid(f"point {k} is not a minimal-margin point but its multiplier is not 0")
    kinks = stationarity(ctx, mu)
    sanity(ctx, F.mul(F.mul(F.const(L), qmin), F.sum(mu)), "L q_min Σμ")
    return f"q_min > 0, multipliers >= 0 on argmin q, θ = Σ μ_k y_k h_k exactly (L = {L})" + \
        (" (kink slopes chosen per unit: chain-rule Clarke elements)" if kinks else "")


def farkas(ctx, active):
    F, net = ctx.F, ctx.net
    yv = ctx.vector(ctx.witness.get("farkas"), ctx.m, "witness.farkas")
    if F.sign(ctx.dot(yv, ctx.theta)) >= 0:
        raise Invalid(f"Farkas vector: y·θ = {fmt(F, ctx.dot(yv, ctx.theta))} is not < 0")
    columns = 0
    for k in active:
        ev = ctx.evs[k]
        names = sorted(ev.kinks)
        if len(names) > MAX_KINKS:
            raise Invalid(f"point {k}: too many kinks ({len(names)} > {MAX_KINKS})")
        for vertex in product(*(ev.kinks[u] for u in names)):
            slopes = dict(zip(names, vertex))
            s = F.sign(ctx.dot(yv, net.gradient(ctx.theta, ev, slopes))) * ctx.y[k]
            if s < 0:
                raise Invalid(f"Farkas vector: y·c < 0 for point {k} at slopes "
                              f"{ {u: fmt(F, g) for u, g in slopes.items()} }")
            columns += 1
    return f"Farkas vector: y·θ < 0 and y·c >= 0 for all {columns} vertex Clarke columns of {len(active)} active points"


def infeasible_point(ctx, bound, strict):
    k = ctx.point(ctx.witness.get("point"), "witness.point")
    s = ctx.F.cmp(ctx.q[k], ctx.F.const(bound))
    if s > 0 or (strict and s == 0):
        raise Invalid(f"point {k} has margin {fmt(ctx.F, ctx.q[k])}, not {'<' if strict else '<='} {bound}")
    return f"point {k} has margin {fmt(ctx.F, ctx.q[k])} {'<' if strict else '<='} {bound}"


def refutation(ctx, keys):
    reason = ctx.witness.get("reason")
    if reason in keys:
        _keys(ctx.witness, {"field", "reason", keys[reason]}, "witness")
    return reason


def not_kkt_point(ctx):
    reason = refutation(ctx, {"infeasible": "point", "stationarity": "farkas"})
    if reason == "infeasible":
        return infeasible_point(ctx, 1, True)
    if reason == "stationarity":
        one = ctx.F.const(1)
        return farkas(ctx, [k for k, q in enumerate(ctx.q) if ctx.F.is_zero(ctx.F.sub(q, one))])
    raise Invalid(f"witness.reason: unknown reason {reason!r}")


def not_kkt_direction(ctx):
    reason = refutation(ctx, {"nonpositive_margin": "point", "stationarity": "farkas"})
    if reason == "nonpositive_margin":
        return infeasible_point(ctx, 0, False)
    if reason == "stationarity":
        ctx.homogeneous()
        qmin = ctx.q_min()
        if ctx.F.sign(qmin) <= 0:
            raise Invalid(f"minimal margin {fmt(ctx.F, qmin)} is not positive")
        return farkas(ctx, [k for k, q in enumerate(ctx.q) if ctx.F.is_zero(ctx.F.sub(q, qmin))])
    raise Invalid(f"witness.reason: unknown reason {reason!r}")


CLAIMS = {
    "kkt_point": (kkt_point, {"multipliers", "clarke"}),
    "kkt_direction": (kkt_direction, {"multipliers", "clarke"}),
    "not_kkt_point": (not_kkt_point, {"reason", "point", "farkas"}),
    "not_kkt_direction": (not_kkt_direction, {"reason", "point", "farkas"}),
}


def check_claim(cert):
    """Decide the certificate's claim; returns a reason string or raises :class:`Invalid`."""
    kind = cert["claim"]["kind"]
    if kind not in CLAIMS:
        raise Invalid(f"unknown claim kind {kind!r}")
    check, keys = CLAIMS[kind]
    return check(Context(cert, keys))
