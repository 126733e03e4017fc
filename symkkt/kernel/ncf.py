"""Claims about the constrained neural correlation function, re-decided from the certificate.

With H(x; u) the network (positively K-homogeneous in u; K recomputed from the architecture) and
data (x_i, y_i) with any exact targets y_i (points numbered from 0), the NCF is
N(u) = Σ_i y_i H(x_i; u). Write λ = K·N(u)/‖u‖² and t = λ·u. Only points with y_i != 0 enter N
(and not x_i = 0 when the first weight layer has no bias and every σ(0) = 0: then H(0; ·) ≡ 0);
a point is *kinky* when it has a kink unit (pre-activation exactly 0 at a piecewise-linear unit).

- ``ncf_kkt_point``: ‖u‖² = 1 and t is in the named Clarke set of N at u;
- ``ncf_kkt_direction``: u != 0 and t is in the set (then u/‖u‖ is a KKT point, because
  ∂°N(cu) = c^(K−1)∂°N(u) for c > 0);
- ``not_ncf_kkt_point``: ``reason: not_unit`` (‖u‖² != 1), or ``reason: stationarity`` with a
  Farkas vector y: y·t < y·h for every h of the set, so t is not in it;
- ``not_ncf_kkt_direction``: ``reason: stationarity`` as above.

``witness.multiplier`` of a holds must be λ exactly (Euler's identity forces it). The sets:

- ``gradient``: no kinky point; the set is {∇N(u)} = {Σ_i y_i ∇H(x_i; u)};
- ``clarke``: a holds lists ``terms`` {weight, slopes: {"i": {"L:U": g}}, direction}: weights
  >= 0 summing to 1, slopes for exactly the kink units of exactly the kinky points, and ONE
  direction d per term that realizes the slopes of every point at once (forward-mode ż != 0 at
  every kink unit, slope 1 where ż > 0 and the negative-side slope where ż < 0), so that along
  u + r·d, r ↓ 0, every H(x_i; ·) is smooth with those slopes and Σ_i y_i h_i(g_i) is a limit of
  gradients of N, a Clarke element. Free units (first weight layer, ∇z = 0: z ≡ 0) take any slope
  of their interval and are not checked (h_i does not depend on them, see :mod:`.claims`). A
  refutation checks y·t < min over all JOINT vertex patterns (a sign for every kink unit of every
  kinky point) not excluded by ``excluded`` Gordan vectors {signs: {"i": {"1:U": ±1}},
  gordan: {"i": {"1:U": ν}}} over first-layer kink units (possibly of several points) with
  a_u = ∇z_u != 0: ν >= 0, ν != 0 and Σ ν σ a = 0 prove that no u' near u has those signs, so no
  limiting gradient of N has that pattern; the remaining patterns' gradients contain every
  limiting gradient, and the min of a linear function over their hull is attained at one of them;
- ``chain_rule_hull``: G(u) = Σ_i y_i conv{h_i(g) : vertex slopes of point i} (contains ∂°N(u),
  since every limiting gradient of N is Σ_i y_i h_i(g_i) with vertex slopes). A holds lists
  ``points`` [{point, terms: [{weight, slopes}]}] with weights >= 0 summing to 1 for each kinky
  point; a refutation checks y·t < y·(smooth part) + Σ_i min_g y_i·(y·h_i(g)), the minimum of
  y·h over G(u). A refutation for G refutes Clarke-KKT as well.

Trusted: :mod:`.network` (forward pass, backprop, forward mode), :mod:`.exact`, :mod:`.field`.
Nothing stored is believed: N, K, λ, norms, kinks, gradients and patterns are recomputed.

Examples
--------
>>> statement("ncf_kkt_point", "gradient")[:60]
'u is a KKT point of the constrained neural correlation funct'
"""
from itertools import product
from math import prod

from .exact import Numbers
from .field import Invalid
from .network import Network, _keys, nested

KINDS = {"ncf_kkt_point": "a KKT point", "ncf_kkt_direction": "a KKT direction",
         "not_ncf_kkt_point": "not a KKT point", "not_ncf_kkt_direction": "not a KKT direction"}
SETS = {"gradient": "gradient (no point with a non-zero target sits on a kink)",
        "clarke": "Clarke subdifferential of N",
        "chain_rule_hull": "chain-rule hull of N (a superset of the Clarke subdifferential)"}


def statement(kind, clarke_set):
    """The canonical statement of an NCF claim (a pure function of the kind and the set)."""
    if kind not in KINDS:
        raise ValueError(f"unknown claim kind {kind!r}")
    if clarke_set not in SETS:
        raise ValueError(f"clarke_set must be one of {sorted(SETS)}, got {clarke_set!r}")
    return (f"u is {KINDS[kind]} of the constrained neural correlation function (maximize "
            f"N(u) = sum_i y_i H(x_i; u) subject to |u|^2 = 1) with respect to the {SETS[clarke_set]}")


class NCFContext:
    """Everything recomputed from an NCF certificate: field, network, u, targets, N, λ, kinks."""

    def __init__(self, cert, limits):
        claim = cert["claim"]
        _keys(claim, {"kind", "clarke_set", "statement"}, "claim")
        self.kind, self.set = claim["kind"], claim.get("clarke_set")
        if self.set not in SETS:
            raise Invalid(f"claim.clarke_set: must be one of {sorted(SETS)}, got {self.set!r}")
        if "statement" in claim and claim["statement"] != statement(self.kind, self.set):
            raise Invalid(f"claim.statement: must be the canonical statement "
                          f"{statement(self.kind, self.set)!r} (or absent)")
        self.witness = w = cert["witness"]
        self.N = Numbers(w.get("field"), limits)
        self.F = F = self.N.F
        self.limits = limits
        self.net = net = Network(cert["architecture"], self.N)
        if net.degree is None:
            raise Invalid(f"architecture is not positively homogeneous: {net.not_homogeneous}")
        self.K = net.degree
        self.u = net.parameters(cert["parameters"])
        self.m = net.n_params
        xs, self.y = self.points(cert["data"])
        self.n = len(xs)
        self.active = [i for i, y in enumerate(self.y) if not F.is_zero(y) and not self.null_point(xs[i])]
        self.evs = {i: net.evaluate(self.u, xs[i]) for i in self.active}
        self.kinky = [i for i in self.active if self.evs[i].kinks]
        self.norm2 = self.dot(self.u, self.u)
        if F.is_zero(self.norm2):
            raise Invalid("u = 0 is neither a point of the unit sphere nor a direction")
        self.value = F.sum(F.mul(self.y[i], self.evs[i].output) for i in self.active)
        self.lam = F.div(F.mul(F.const(self.K), self.value), self.norm2)
        self.target = [F.mul(self.lam, c) for c in self.u]
        smooth = [i for i in self.active if i not in self.kinky]
        self.passes(len(smooth), "gradients")
        self.smooth = self.combine([(i, None) for i in smooth])

    def points(self, data):
        """(inputs, targets) of the data block: x flat (C-order) or nested, y any exact number."""
        _keys(data, {"points"}, "data")
        pts = data.get("points")
        if not isinstance(pts, list) or not pts:
            raise Invalid("data.points: must be a non-empty list")
        self.limits.check("points", len(pts), "data points")
        self.limits.check("operations", self.limits.spent + 2 * len(pts) * self.net.n_conns,
                          "operations of the forward passes (estimated)")
        xs, ys, n = [], [], prod(self.net.input_shape)
        for k, pt in enumerate(pts):
            where = f"data.points[{k}]"
            _keys(pt, {"x", "y"}, where)
            x = pt.get("x")
            flat = isinstance(x, list) and len(x) == n and not any(isinstance(v, list) for v in x)
            xs.append([self.N.num(v, f"{where}.x")
                       for v in (x if flat else nested(x, self.net.input_shape, f"{where}.x"))])
            ys.append(self.N.num(pt.get("y"), f"{where}.y"))
        return xs, ys

    def null_point(self, x):
        """x = 0, no bias in the first weight layer and σ(0) = 0 in every layer: H(0; u) = 0 for every
        u (each layer maps 0 to 0), so the point contributes nothing to N or to any of its gradients."""
        F = self.F
        return (all(F.is_zero(v) for v in x) and not self.net.weight_layers[0].bias
                and all(F.is_zero(layer.act.apply(F.const(0))[0]) for layer in self.net.layers))

    def fmt(self, a):
        return self.F.show(a)

    def dot(self, a, b):
        return self.F.sum(self.F.mul(p, q) for p, q in zip(a, b))

    def vector(self, v, where, length):
        if not isinstance(v, list) or len(v) != length:
            raise Invalid(f"{where}: must be a list of {length} numbers")
        return [self.N.num(c, f"{where}[{i}]") for i, c in enumerate(v)]

    def passes(self, count, what):
        self.limits.check("operations", self.limits.spent + 2 * count * self.net.n_conns,
                          f"operations of {count} {what} (estimated)")

    def combine(self, items, weight=None):
        """Σ y_i h_i(slopes) over ``items`` [(i, slopes)], times ``weight`` (None: 1)."""
        F, total = self.F, [()] * self.m
        for i, slopes in items:
            c = self.y[i] if weight is None else F.mul(weight, self.y[i])
            total = [F.add(t, F.mul(c, h)) for t, h in zip(total, self.net.gradient(self.u, self.evs[i], slopes))]
        return total

    def only(self, *keys):
        _keys(self.witness, {"field", *keys}, "witness")

    def slopes(self, i, obj, where):
        """{unit: slope} for exactly the kink units of point i, each inside its Clarke interval."""
        F, kinks = self.F, self.evs[i].kinks
        if not isinstance(obj, dict) or set(obj) != set(kinks):
            raise Invalid(f"{where}: keys must be exactly the kink units {sorted(kinks)[:8]} of point {i}")
        out = {}
        for u in sorted(obj):
            g = self.N.num(obj[u], f"{where}[{u}]")
            lo, hi = kinks[u]
            if F.cmp(g, lo) < 0 or F.cmp(g, hi) > 0:
                raise Invalid(f"{where}[{u}]: {self.fmt(g)} outside [{self.fmt(lo)}, {self.fmt(hi)}]")
            out[u] = g
        return out

    def free(self, i, u):
        """A first-layer kink unit of point i with ∇_u z = 0: z ≡ 0, its slope changes nothing."""
        return u.startswith("1:") and all(not c for c in self.net.first_layer_row(self.evs[i], int(u[2:])))

    def weights(self, items, where):
        """Check weights >= 0 summing to 1."""
        F = self.F
        for j, w in enumerate(items):
            if F.sign(w) < 0:
                raise Invalid(f"{where}[{j}].weight: must be >= 0")
        total = F.sum(items)
        if not F.is_zero(F.sub(total, F.const(1))):
            raise Invalid(f"{where}: weights sum to {self.fmt(total)}, not 1 (a convex combination)")


def _point_key(ctx, key, where):
    if not isinstance(key, str) or not key.isdigit() or str(int(key)) != key or int(key) not in ctx.kinky:
        raise Invalid(f"{where}: {key!r} is not a kinky point with a non-zero target (kinky: {ctx.kinky[:8]})")
    return int(key)


def holds(ctx, direction):
    """``ncf_kkt_point`` / ``ncf_kkt_direction``."""
    F = ctx.F
    if not direction and not F.is_zero(F.sub(ctx.norm2, F.const(1))):
        raise Invalid(f"|u|^2 = {ctx.fmt(ctx.norm2)} is not 1: u is not on the unit sphere")
    extra = {"gradient": (), "clarke": ("terms",), "chain_rule_hull": ("points",)}[ctx.set]
    ctx.only("multiplier", *extra)
    lam = ctx.N.num(ctx.witness.get("multiplier"), "witness.multiplier")
    if not F.is_zero(F.sub(lam, ctx.lam)):
        raise Invalid(f"witness.multiplier: {ctx.fmt(lam)} is not K·N(u)/|u|^2 = {ctx.fmt(ctx.lam)} "
                      f"(K = {ctx.K})")
    if ctx.set == "gradient":
        if ctx.kinky:
            raise Invalid(f"point {ctx.kinky[0]} has kink units {sorted(ctx.evs[ctx.kinky[0]].kinks)[:8]}: "
                          "not allowed for the gradient set")
        total, what = ctx.smooth, "= grad N(u)"
    elif ctx.set == "clarke":
        total, what = _clarke_element(ctx), "a Clarke element of N"
    else:
        total, what = _hull_element(ctx), "an element of the chain-rule hull of N"
    for j, (t, h) in enumerate(zip(ctx.target, total)):
        if not F.is_zero(F.sub(t, h)):
            raise Invalid(f"stationarity fails at parameter {j}: K N(u) u_j / |u|^2 = {ctx.fmt(t)} but h {what} "
                          f"gives {ctx.fmt(h)}")
    sign = {1: "positive", 0: "zero", -1: "negative"}[F.sign(ctx.value)]
    return (("|u|^2 = 1, " if not direction else "u != 0, ") + f"K = {ctx.K}, λ = K·N(u)/|u|^2 exactly, "
            f"K N(u) u = |u|^2 h with h {what} (N {sign}; Clarke set: {ctx.set})")


def _clarke_element(ctx):
    F, terms = ctx.F, ctx.witness.get("terms")
    if not isinstance(terms, list) or not terms:
        raise Invalid("witness.terms: must be a non-empty list")
    ctx.passes(len(terms) * (2 * len(ctx.kinky) + 1), "gradients and forward-mode passes")
    total, weights = ctx.smooth, []
    for j, t in enumerate(terms):
        where = f"witness.terms[{j}]"
        _keys(t, {"weight", "slopes", "direction"}, where)
        w = ctx.N.num(t.get("weight"), f"{where}.weight")
        weights.append(w)
        s = t.get("slopes")
        if not isinstance(s, dict) or {_point_key(ctx, k, f"{where}.slopes") for k in s} != set(ctx.kinky):
            raise Invalid(f"{where}.slopes: needs one entry per kinky point {ctx.kinky[:8]}")
        d = ctx.vector(t.get("direction"), f"{where}.direction", ctx.m)
        items = []
        for key, obj in s.items():
            i = int(key)
            slopes = ctx.slopes(i, obj, f"{where}.slopes[{key}]")
            zdot, chosen = ctx.net.jvp(ctx.u, ctx.evs[i], d)
            for u in sorted(slopes):
                if ctx.free(i, u):
                    continue
                if F.sign(zdot[u]) == 0:
                    raise Invalid(f"{where}.direction: ż = 0 at kink unit {u} of point {i} (no side picked)")
                if not F.is_zero(F.sub(slopes[u], chosen[u])):
                    raise Invalid(f"{where}.direction: ż {'>' if F.sign(zdot[u]) > 0 else '<'} 0 at kink unit {u} "
                                  f"of point {i} selects slope {ctx.fmt(chosen[u])}, the term says "
                                  f"{ctx.fmt(slopes[u])}")
            items.append((i, slopes))
        total = [F.add(a, b) for a, b in zip(total, ctx.combine(items, w))]
    ctx.weights(weights, "witness.terms")
    return total


def _hull_element(ctx):
    F, entries = ctx.F, ctx.witness.get("points")
    if not isinstance(entries, list):
        raise Invalid("witness.points: must be a list")
    seen, total = set(), ctx.smooth
    for j, e in enumerate(entries):
        where = f"witness.points[{j}]"
        _keys(e, {"point", "terms"}, where)
        i = e.get("point")
        if not isinstance(i, int) or isinstance(i, bool) or i not in ctx.kinky or i in seen:
            raise Invalid(f"{where}.point: must be a kinky point with a non-zero target, listed once")
        seen.add(i)
        terms = e.get("terms")
        if not isinstance(terms, list) or not terms:
            raise Invalid(f"{where}.terms: must be a non-empty list")
        ctx.passes(len(terms), "gradients")
        weights = []
        for k, t in enumerate(terms):
            _keys(t, {"weight", "slopes"}, f"{where}.terms[{k}]")
            w = ctx.N.num(t.get("weight"), f"{where}.terms[{k}].weight")
            weights.append(w)
            slopes = ctx.slopes(i, t.get("slopes"), f"{where}.terms[{k}].slopes")
            total = [F.add(a, b) for a, b in zip(total, ctx.combine([(i, slopes)], w))]
        ctx.weights(weights, f"{where}.terms")
    if seen != set(ctx.kinky):
        raise Invalid(f"witness.points: needs one entry per kinky point {ctx.kinky[:8]}")
    return total


def refute(ctx, direction):
    """``not_ncf_kkt_point`` / ``not_ncf_kkt_direction``."""
    F, reason = ctx.F, ctx.witness.get("reason")
    if reason == "not_unit" and not direction:
        ctx.only("reason")
        if F.is_zero(F.sub(ctx.norm2, F.const(1))):
            raise Invalid("|u|^2 = 1: u is on the unit sphere")
        return f"|u|^2 = {ctx.fmt(ctx.norm2)} != 1: not a point of the unit sphere (Clarke set: {ctx.set}; not needed)"
    if reason != "stationarity":
        raise Invalid(f"witness.reason: unknown reason {reason!r}")
    ctx.only("reason", "farkas", *(("excluded",) if ctx.set == "clarke" else ()))
    y = ctx.vector(ctx.witness.get("farkas"), "witness.farkas", ctx.m)
    yt = ctx.dot(y, ctx.target)
    base = ctx.dot(y, ctx.smooth)
    if ctx.set == "gradient":
        if ctx.kinky:
            raise Invalid(f"point {ctx.kinky[0]} has kink units: not allowed for the gradient set")
        bound, count = base, 0
    else:
        names = {i: sorted(ctx.evs[i].kinks) for i in ctx.kinky}
        per = sum(2 ** len(v) for v in names.values())
        ctx.limits.check("vertices", per, "vertex Clarke columns of the kinky points")
        ctx.passes(per, "vertex columns")
        values = {}                 # (i, signs) -> y_i (y · h_i(vertex slopes))
        for i, units in names.items():
            for signs in product((1, -1), repeat=len(units)):
                slopes = {u: F.const(1) if s > 0 else ctx.net.kink_slope(u) for u, s in zip(units, signs)}
                values[i, signs] = F.mul(ctx.y[i], ctx.dot(y, ctx.net.gradient(ctx.u, ctx.evs[i], slopes)))
        if ctx.set == "chain_rule_hull":
            bound = base
            for i, units in names.items():
                bound = F.add(bound, min_value(F, [v for (j, _), v in values.items() if j == i]))
            count = per
        else:
            bound, count = _joint_minimum(ctx, names, values, base)
    if F.cmp(yt, bound) >= 0:
        raise Invalid(f"Farkas vector: y·t = {ctx.fmt(yt)} is not below the minimum {ctx.fmt(bound)} of y·h over "
                      "the set")
    return (f"Farkas vector: y·(K N(u) u/|u|^2) < min y·h over the {ctx.set} set of N"
            + (f" ({count} vertex patterns)" if count else "") + f" (Clarke set: {ctx.set})")


def min_value(F, vals):
    best = vals[0]
    for v in vals[1:]:
        best = v if F.cmp(v, best) < 0 else best
    return best


def _joint_minimum(ctx, names, values, base):
    """min over joint vertex patterns not Gordan-excluded of y·(smooth + Σ_i y_i h_i)."""
    F = ctx.F
    excluded = _exclusions(ctx)
    order = [(i, u) for i in sorted(names) for u in names[i]]
    ctx.limits.check("vertices", 2 ** len(order), "joint vertex patterns of all kinky points")
    best, count = None, 0
    for signs in product((1, -1), repeat=len(order)):
        pattern = dict(zip(order, signs))
        if any(all(pattern.get(k) == s for k, s in e.items()) for e in excluded):
            continue
        v = base
        for i in names:
            v = F.add(v, values[i, tuple(pattern[i, u] for u in names[i])])
        best = v if best is None or F.cmp(v, best) < 0 else best
        count += 1
    if best is None:
        raise Invalid("witness.excluded: every joint pattern is excluded (inconsistent certificate)")
    return best, count


def _exclusions(ctx):
    """[{(point, unit): sign}] of ``witness.excluded``, every Gordan vector checked exactly."""
    F, excl, out = ctx.F, ctx.witness.get("excluded", []), []
    if not isinstance(excl, list):
        raise Invalid("witness.excluded: must be a list")
    for j, e in enumerate(excl):
        where = f"witness.excluded[{j}]"
        _keys(e, {"signs", "gordan"}, where)
        signs, nu = e.get("signs"), e.get("gordan")
        if not isinstance(signs, dict) or not signs or not isinstance(nu, dict) or set(nu) != set(signs):
            raise Invalid(f"{where}: signs and gordan must be objects with the same point keys")
        total, positive, pattern = [()] * ctx.m, False, {}
        for key in sorted(signs):
            i = _point_key(ctx, key, f"{where}.signs")
            s_i, n_i = signs[key], nu[key]
            if not isinstance(s_i, dict) or not s_i or not isinstance(n_i, dict) or set(s_i) != set(n_i):
                raise Invalid(f"{where}[{key}]: signs and gordan must be objects with the same unit keys")
            for u in sorted(s_i):
                if u not in ctx.evs[i].kinks or not u.startswith("1:"):
                    raise Invalid(f"{where}: {u!r} is not a kink unit of the first weight layer at point {i}")
                s = ctx.N.num(s_i[u], f"{where}.signs[{key}][{u}]")
                if s not in ((1,), (-1,)):
                    raise Invalid(f"{where}.signs[{key}][{u}]: must be 1 or -1")
                v = ctx.N.num(n_i[u], f"{where}.gordan[{key}][{u}]")
                if F.sign(v) < 0:
                    raise Invalid(f"{where}.gordan[{key}][{u}]: must be >= 0")
                positive = positive or F.sign(v) > 0
                a = ctx.net.first_layer_row(ctx.evs[i], int(u[2:]))
                if all(not c for c in a):
                    raise Invalid(f"{where}: unit {u} of point {i} has a_u = 0 (its pre-activation is constant)")
                total = [F.add(t, F.mul(F.mul(s, v), c)) for t, c in zip(total, a)]
                pattern[i, u] = int(s[0])
        if not positive:
            raise Invalid(f"{where}.gordan: all zero")
        if not all(F.is_zero(t) for t in total):
            raise Invalid(f"{where}: Σ ν σ a != 0 (not a Gordan vector)")
        out.append(pattern)
    return out


def _on_context(check, direction):
    return lambda cert, limits: check(NCFContext(cert, limits), direction)


CLAIMS = {"ncf_kkt_point": _on_context(holds, False), "ncf_kkt_direction": _on_context(holds, True),
          "not_ncf_kkt_point": _on_context(refute, False), "not_ncf_kkt_direction": _on_context(refute, True)}
