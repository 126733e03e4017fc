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

The split-map claims ``split_embedding``, ``critical_embedding`` and ``not_output_preserved``
are decided in :mod:`.splits` and dispatched from :data:`CLAIMS`.

Nothing stored in the certificate is trusted except as a candidate: margins, pre-activation
signs, kinks, gradients and identities are all recomputed here.
"""
from itertools import product

from . import splits
from .exact import Numbers
from .field import Invalid
from .network import Network, _keys

MAX_KINKS = 16


class Context:
    """Everything recomputed from a certificate: field, network, θ, data, forward passes, margins."""

    def __init__(self, cert):
        self.witness = w = cert["witness"]
        self.N = Numbers(w.get("field"))
        self.F = F = self.N.F
        self.net = Network(cert["architecture"], self.N)
        self.theta = self.net.parameters(cert["parameters"])
        xs, self.y = self.net.points(cert["data"])
        self.evs = [self.net.evaluate(self.theta, x) for x in xs]
        self.q = [ev.output if y > 0 else F.neg(ev.output) for ev, y in zip(self.evs, self.y)]
        self.n, self.m = len(xs), self.net.n_params

    def fmt(self, a):
        a = self.F.reduce(a)
        return "0" if not a else str(a[0]) if len(a) == 1 else f"≈{self.F.to_float(a):.6g}"

    def dot(self, a, b):
        return self.F.sum(self.F.mul(u, v) for u, v in zip(a, b))

    def point(self, k, where):
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < self.n:
            raise Invalid(f"{where}: point must be a data index 0..{self.n - 1}")
        return k

    def vector(self, key, length):
        v = self.witness.get(key)
        if not isinstance(v, list) or len(v) != length:
            raise Invalid(f"witness.{key}: must be a list of {length} numbers")
        return [self.N.num(c, f"witness.{key}[{i}]") for i, c in enumerate(v)]

    def bound(self, direction):
        """The margin of active points: 1 for KKT points, q_min > 0 for KKT directions."""
        if not direction:
            return self.F.const(1)
        if self.net.degree is None:
            raise Invalid(f"architecture is not positively homogeneous: {self.net.not_homogeneous}")
        qmin = self.q[0]
        for q in self.q[1:]:
            qmin = q if self.F.cmp(q, qmin) < 0 else qmin
        if self.F.sign(qmin) <= 0:
            raise Invalid(f"minimal margin {self.fmt(qmin)} is not positive")
        return qmin

    def only(self, *keys):
        _keys(self.witness, {"field", *keys}, "witness")


def kkt(ctx, direction):
    """``kkt_point`` (direction False) and ``kkt_direction`` (True)."""
    F = ctx.F
    ctx.only("multipliers", "clarke")
    bound = ctx.bound(direction)
    lam = ctx.vector("multipliers", ctx.n)
    for k, (q, v) in enumerate(zip(ctx.q, lam)):
        if F.sign(v) < 0:
            raise Invalid(f"multiplier {k} is negative")
        s = F.cmp(q, bound)
        if s < 0:
            raise Invalid(f"point {k} violates its constraint: margin {ctx.fmt(q)} < 1")
        if s > 0 and not F.is_zero(v):
            raise Invalid(f"point {k} is inactive (margin {ctx.fmt(q)} > {ctx.fmt(bound)}) but its multiplier is not 0")
    kinks = stationarity(ctx, lam)
    if ctx.net.degree is not None:      # Euler: ‖θ‖² = Σ λ_k y_k <h_k, θ> = L Σ λ_k q_k = L·bound·Σλ
        rhs = F.mul(F.mul(F.const(ctx.net.degree), bound), F.sum(lam))
        if not F.is_zero(F.sub(ctx.dot(ctx.theta, ctx.theta), rhs)):
            raise Invalid("sanity identity ‖θ‖² = L·q_active·Σλ fails (inconsistent certificate)")
    return (f"q_min > 0 (L = {ctx.net.degree}), multipliers >= 0 on argmin q" if direction else
            "margins >= 1, multipliers >= 0 with complementary slackness") + ", θ = Σ λ_k y_k h_k exactly" + \
        (" (kink slopes chosen per unit: chain-rule Clarke elements)" if kinks else "")


def stationarity(ctx, lam):
    """θ == Σ_k y_k Σ_terms w h_k(slopes); returns whether any Clarke term used a kink."""
    F, clarke, entries = ctx.F, ctx.witness.get("clarke", []), {}
    if not isinstance(clarke, list):
        raise Invalid("witness.clarke: must be a list")
    for i, e in enumerate(clarke):
        where = f"witness.clarke[{i}]"
        _keys(e, {"point", "terms"}, where)
        k = ctx.point(e.get("point"), where)
        if k in entries:
            raise Invalid(f"{where}: duplicate entry for point {k}")
        if F.is_zero(lam[k]) or not ctx.evs[k].kinks:
            raise Invalid(f"{where}: point {k} has a zero multiplier or no kink unit")
        entries[k] = clarke_terms(ctx, k, e.get("terms"), where, lam[k])
    total = [()] * ctx.m
    for k, ev in enumerate(ctx.evs):
        if F.is_zero(lam[k]):
            continue
        if ev.kinks and k not in entries:
            raise Invalid(f"point {k} has kink units {sorted(ev.kinks)} and needs a witness.clarke entry")
        for w, slopes in entries.get(k, [(lam[k], None)]):
            wy = w if ctx.y[k] > 0 else F.neg(w)
            total = [F.add(t, F.mul(wy, h)) for t, h in zip(total, ctx.net.gradient(ctx.theta, ev, slopes))]
    for i, (t, th) in enumerate(zip(total, ctx.theta)):
        if not F.is_zero(F.sub(th, t)):
            raise Invalid(f"stationarity fails at parameter {i}: θ_i = {ctx.fmt(th)} but Σ λ y h = {ctx.fmt(t)}")
    return bool(entries)


def clarke_terms(ctx, k, terms, where, lam):
    """[(weight, {unit: slope})] of one clarke entry, checked against the kinks of point k."""
    F, kinks = ctx.F, ctx.evs[k].kinks
    if not isinstance(terms, list) or not terms:
        raise Invalid(f"{where}.terms: must be a non-empty list")
    out = []
    for j, t in enumerate(terms):
        tw = f"{where}.terms[{j}]"
        _keys(t, {"weight", "slopes"}, tw)
        w, slopes = ctx.N.num(t.get("weight"), f"{tw}.weight"), t.get("slopes")
        if F.sign(w) < 0:
            raise Invalid(f"{tw}.weight: must be >= 0")
        if not isinstance(slopes, dict) or set(slopes) != set(kinks):
            raise Invalid(f"{tw}.slopes: keys must be exactly the kink units {sorted(kinks)} of point {k}")
        vals = {u: ctx.N.num(v, f"{tw}.slopes[{u}]") for u, v in slopes.items()}
        for u, g in vals.items():
            lo, hi = kinks[u]
            if F.cmp(g, lo) < 0 or F.cmp(g, hi) > 0:
                raise Invalid(f"{tw}.slopes[{u}]: {ctx.fmt(g)} outside [{ctx.fmt(lo)}, {ctx.fmt(hi)}]")
        out.append((w, vals))
    total = F.sum(w for w, _ in out)
    if not F.is_zero(F.sub(total, lam)):
        raise Invalid(f"{where}: term weights sum to {ctx.fmt(total)}, multiplier is {ctx.fmt(lam)}")
    return out


def refute(ctx, direction):
    """``not_kkt_point`` (direction False) and ``not_kkt_direction`` (True)."""
    F, reason = ctx.F, ctx.witness.get("reason")
    if reason == ("nonpositive_margin" if direction else "infeasible"):
        ctx.only("reason", "point")
        k = ctx.point(ctx.witness.get("point"), "witness.point")
        b, rel = (0, "<=") if direction else (1, "<")      # KKT direction needs q > 0, KKT point q >= 1
        s = F.cmp(ctx.q[k], F.const(b))
        if s > 0 or (s == 0 and not direction):
            raise Invalid(f"point {k} has margin {ctx.fmt(ctx.q[k])}, not {rel} {b}")
        return f"point {k} has margin {ctx.fmt(ctx.q[k])} {rel} {b}"
    if reason != "stationarity":
        raise Invalid(f"witness.reason: unknown reason {reason!r}")
    ctx.only("reason", "farkas")
    bound = ctx.bound(direction)
    active = [k for k, q in enumerate(ctx.q) if F.is_zero(F.sub(q, bound))]
    y = ctx.vector("farkas", ctx.m)
    if F.sign(ctx.dot(y, ctx.theta)) >= 0:
        raise Invalid(f"Farkas vector: y·θ = {ctx.fmt(ctx.dot(y, ctx.theta))} is not < 0")
    columns = 0
    for k in active:
        names = sorted(ctx.evs[k].kinks)
        if len(names) > MAX_KINKS:
            raise Invalid(f"point {k}: too many kinks ({len(names)} > {MAX_KINKS})")
        for vertex in product(*(ctx.evs[k].kinks[u] for u in names)):
            slopes = dict(zip(names, vertex))
            if F.sign(ctx.dot(y, ctx.net.gradient(ctx.theta, ctx.evs[k], slopes))) * ctx.y[k] < 0:
                raise Invalid(f"Farkas vector: y·c < 0 for point {k} at slopes "
                              f"{ {u: ctx.fmt(g) for u, g in slopes.items()} }")
            columns += 1
    return (f"Farkas vector: y·θ < 0 and y·c >= 0 for all {columns} vertex Clarke columns "
            f"of {len(active)} active points")


def _on_context(check, direction):
    """The claim checker ``cert -> reason`` that runs ``check`` on the recomputed :class:`Context`."""
    return lambda cert: check(Context(cert), direction)


CLAIMS = {"kkt_point": _on_context(kkt, False), "kkt_direction": _on_context(kkt, True),
          "not_kkt_point": _on_context(refute, False), "not_kkt_direction": _on_context(refute, True),
          **splits.CLAIMS}


def check_claim(cert):
    """Decide the certificate's claim; returns a reason string or raises :class:`Invalid`."""
    kind = cert["claim"]["kind"]
    if kind not in CLAIMS:
        raise Invalid(f"unknown claim kind {kind!r}")
    return CLAIMS[kind](cert)
