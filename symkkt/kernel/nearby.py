"""Claim kind ``kkt_point_nearby``: a KKT point of P_Φ lies in a stated box around θ̃.

The certificate gives a centre θ̃ (``parameters``, rationals) and, in ``witness``:

- ``active``: the active set A (sorted data indices), ``multipliers``: centre values λ̃_k, k ∈ A;
- ``pattern``: per data point a string with one character per unit of every weight layer whose
  activation has a kink (relu, leaky relu with slope s != 1), in layer order and flat C-order
  within a layer: ``+`` (slope 1), ``-`` (slope s), ``0`` (a zero unit), ``k`` (a *stated kink*
  on an active point: z = 0 is an equation and the slope g an unknown) or ``*`` (either slope, on
  an inactive point: the unit is evaluated with the interval [min(s, 1), max(s, 1)]);
- ``slopes``: centre values g̃ of the stated kinks, ordered by point, then by pattern position;
- ``zero_units``: units ``"L:U"`` of hidden weight layers whose incoming and outgoing weights are
  all exactly 0 in θ̃; those weights are fixed at 0, every other coordinate is an unknown;
- ``radius``: one positive rational per unknown (free θ coordinates in index order, then λ_k,
  k ∈ A, then the slopes), giving the box X = x̃ ± r; ``Y``: a rational N × N matrix (any
  matrix; an approximate inverse of the Jacobian makes the test succeed);
- ``merged`` (optional): groups of parallel units, see *Merged units* below.

With the pattern fixed, Φ_k(θ, g) (slope 1, s or the unknown g per unit) is a polynomial and the
KKT system is F(θ, λ, g) = (θ − Σ_{k∈A} λ_k y_k ∇_θΦ_k, y_k Φ_k − 1 for k ∈ A, z_{u,k} for each
stated kink). The kernel recomputes, in interval arithmetic over the rationals (below), F(x̃) and
an enclosure J(X) of the Jacobian over the box (forward-over-reverse differentiation over the
network's connection lists, the slopes of stated kinks as extra variables, so dense, conv and
avgpool layers are alike), and checks

1. Krawczyk: K(X) = x̃ − Y F(x̃) + (I − Y J(X))(X − x̃) ⊆ int X. Then F has exactly one zero
   (θ*, λ*, g*) in X (Krawczyk's theorem [K]);
2. every λ_k > 0 and every g in [min(s, 1), max(s, 1)] on X; every ``+``/``-`` pre-activation of
   every point has that strict sign on X (on active points evaluated with the g box at the stated
   kinks, which encloses the value at the zero, where z = 0 makes the kink unit's output 0 for any
   slope); zero units have pre-activation exactly 0; every inactive point has y_k Φ_k > 1 on X;
3. for a fixed coordinate j (a weight of a zero unit), ∂Φ_k/∂θ_j is exactly 0 on X for k ∈ A,
   so the stationarity row of j reads 0 = 0.

Hence θ* is a KKT point of P_Φ with active set exactly A and multipliers λ* > 0, where each h_k is
the chain-rule element with slope g* at the stated kinks of point k: an element of the chain-rule
hull, and of the Clarke subdifferential ``clarke_set = "clarke"`` when every stated kink is a
first-layer unit and, per point, the input patches (the exact gradients of the linear z_u) of the
stated kink units are linearly independent, so that every sign vector, hence every vertex slope
pattern, is realized next to θ* (checked here by exact rank). ``gradient`` allows no stated kink.
At θ* a zero unit sits on a kink at every point, but its weights enter Φ only through products of
its incoming row and outgoing column, both 0: along any sequence of differentiable points tending
to θ* the gradient entries of those weights tend to 0 and all other units keep their signs, so
every limiting gradient equals the computed one, and the Clarke subdifferential is {∇Φ_k}.

*Merged units.* A group {layer L (dense, followed directly by a dense layer), units u_1..u_r,
scales t_u > 0 rational with Σ t_u² = 1} says that θ̃'s incoming rows and outgoing columns of the
group are exactly t_u times those of one merged unit. The kernel checks this exactly, builds the
net with each group replaced by one unit (the merged θ̃, pattern and zero units) and checks that
certificate. Lift: rows t_u·w̄ and columns t_u·c̄ compute the same Φ (each path through the group
adds Σ t_u² = 1 times the merged path, σ being positively 1-homogeneous), keep the merged unit's
signs (t_u > 0), and have gradients t_u times the merged ones, so the merged KKT point (w̄, c̄)
lifts to a KKT point of the original net with the same λ, slopes and set.

Interval arithmetic: an interval is a pair of integers (lo, hi) standing for [lo, hi]·2^-BITS;
sums are exact, products are rounded outwards (floor of the lower end, ceiling of the upper),
and a rational enters as the smallest such interval containing it. Every result therefore
encloses the exact real value: nothing is rounded inwards.

Trusted: ``fractions``, Python integers, and the kernel's :mod:`.network` (structure only:
connection lists, shapes and parameter order) and :mod:`.exact` (rational parsing).

Examples
--------
>>> iv(Fraction(1, 3))[1] - iv(Fraction(1, 3))[0]
1
>>> mul(iv(Fraction(-1, 2)), iv(Fraction(3)))  == iv(Fraction(-3, 2))
True
"""
from fractions import Fraction

from .exact import Numbers, rational
from .field import Invalid
from .network import Network, _keys

BITS = 200
KIND = "kkt_point_nearby"
STATEMENT = ("a KKT point of the max-margin problem lies in the box of the witness around theta: the unique "
             "zero there of the KKT system of the stated activation pattern and active set (Krawczyk test), "
             "with positive multipliers, inactive margins > 1 and constant non-zero pre-activation signs")
#: the set of generalized gradients of each Φ_k the KKT point is proved for
SETS = {"gradient": "the gradient (no stated kink)",
        "clarke": "the Clarke subdifferential (stated kinks in the first layer, independent input patches)",
        "chain_rule_hull": "the chain-rule hull (a superset of the Clarke subdifferential)"}


def statement(clarke_set="gradient"):
    """The canonical statement for a set of generalized gradients (``gradient``: :data:`STATEMENT`)."""
    if clarke_set == "gradient":
        return STATEMENT
    return (STATEMENT + "; at the stated kinks z = 0 is an equation and the slope an unknown in its interval, so "
            f"the stationarity is with respect to {SETS[clarke_set]}")
ZERO = (0, 0)


# --- intervals [lo, hi]·2^-BITS with integer ends ---

def iv(r):
    """The smallest interval containing the rational ``r``."""
    n = r.numerator << BITS
    return (n // r.denominator, -((-n) // r.denominator))


def add(a, b):
    return (a[0] + b[0], a[1] + b[1])


def sub(a, b):
    return (a[0] - b[1], a[1] - b[0])


def mul(a, b):
    if a == ZERO or b == ZERO:
        return ZERO
    p = (a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1])
    return (min(p) >> BITS, -((-max(p)) >> BITS))


def positive(a):
    return a[0] > 0


def negative(a):
    return a[1] < 0


def show(a):
    return f"[{float(Fraction(a[0], 1 << BITS)):.6g}, {float(Fraction(a[1], 1 << BITS)):.6g}]"


# --- the network with a fixed pattern ---

class PatternNet:
    """Layers of a kernel :class:`Network` as connection lists with interval arithmetic.

    ``slopes[k][l]`` is the slope list of layer l at point k (1 or s by the pattern; 1 for
    layers without a kink). ``col[j]`` is the unknown index of θ_j, or None when θ_j is fixed."""

    def __init__(self, net, theta, col):
        self.net, self.col, self.theta = net, col, theta
        self.coefs = [iv(layer.coef[0]) if layer.coef is not None and layer.coef else None for layer in net.layers]

    def weight(self, li, layer, wi, th):
        return self.coefs[li] if wi is None else th[layer.woff + wi]

    def forward(self, th, x, slopes):
        """Pre-activations z per layer and the layer inputs a, on θ intervals ``th``."""
        a, zs, ins = x, [], []
        for li, layer in enumerate(self.net.layers):
            ins.append(a)
            z = []
            for c in layer.conns:
                s = ZERO
                for wi, xi in c:
                    s = add(s, mul(self.weight(li, layer, wi, th), a[xi]))
                z.append(s)
            zs.append(z)
            a = [v if g is None else mul(g, v) for g, v in zip(slopes[li], z)]
        return zs, ins, a[0]

    def derivatives(self, th, x, slopes, n_free, gcol=None, nv=None):
        """(Φ, ∇Φ, ∇²Φ rows, ∂Φ/∂g, ż) by forward-over-reverse mode.

        The variables are the n_free unknown θ coordinates, then (``nv`` > n_free) the slopes g of
        the stated kinks of this point: ``gcol[li][u]`` is the variable index of unit u's slope,
        else None. ∇Φ is full length (all θ); the Hessian has rows for the θ unknowns and ``nv``
        columns; ∂Φ/∂g has ``nv`` entries (0 on θ); ż holds dz/d(variables) of every
        pre-activation, per layer."""
        m = len(th)
        nv = n_free if nv is None else nv
        col = self.col if n_free else [None] * m
        zero_row = [ZERO] * nv
        a, ins, tans, zs, zts = x, [], [], [], []
        tan = [list(zero_row) for _ in x]                      # ȧ: d a / d unknowns
        for li, layer in enumerate(self.net.layers):
            ins.append(a)
            tans.append(tan)
            z, zt = [], []
            for c in layer.conns:
                s, t = ZERO, list(zero_row)
                for wi, xi in c:
                    w = self.weight(li, layer, wi, th)
                    s = add(s, mul(w, a[xi]))
                    if w != ZERO:
                        t = [add(u, mul(w, v)) for u, v in zip(t, tan[xi])]
                    j = None if wi is None else col[layer.woff + wi]
                    if j is not None:
                        t[j] = add(t[j], a[xi])
                z.append(s)
                zt.append(t)
            zs.append(z)
            zts.append(zt)
            g = slopes[li]
            a = [v if s is None else mul(s, v) for s, v in zip(g, z)]
            tan = [t if s is None else [mul(s, u) for u in t] for s, t in zip(g, zt)]
            for u, j in enumerate((gcol[li] if gcol else None) or []):
                if j is not None:                               # d(g z) = g dz + z dg
                    tan[u][j] = add(tan[u][j], z[u])
        out = a[0]
        grad, hess, dg = [ZERO] * m, [list(zero_row) for _ in range(n_free)], list(zero_row)
        gb, gbt = [iv(Fraction(1))], [list(zero_row)]           # ∂Φ/∂(layer output) and its tangent
        for li in range(len(self.net.layers) - 1, -1, -1):
            layer, a, tan, g = self.net.layers[li], ins[li], tans[li], slopes[li]
            gj = (gcol[li] if gcol else None) or [None] * len(layer.conns)
            gin, gint = [ZERO] * len(a), [list(zero_row) for _ in a]
            for u, c in enumerate(layer.conns):
                gz = gb[u] if g[u] is None else mul(g[u], gb[u])
                gzt = gbt[u] if g[u] is None else [mul(g[u], v) for v in gbt[u]]
                if gj[u] is not None:                           # ∂Φ/∂z = g ∂Φ/∂a: tangent + ∂Φ/∂a dg
                    gzt = list(gzt)
                    gzt[gj[u]] = add(gzt[gj[u]], gb[u])
                    dg[gj[u]] = add(dg[gj[u]], mul(gb[u], zs[li][u]))
                for wi, xi in c:
                    w = self.weight(li, layer, wi, th)
                    if wi is not None:
                        p = layer.woff + wi
                        grad[p] = add(grad[p], mul(gz, a[xi]))
                        r = col[p]
                        if r is not None:
                            row, ta = hess[r], tan[xi]
                            for j in range(nv):
                                row[j] = add(row[j], add(mul(gzt[j], a[xi]), mul(gz, ta[j])))
                    gin[xi] = add(gin[xi], mul(w, gz))
                    if w != ZERO:
                        gint[xi] = [add(s, mul(w, v)) for s, v in zip(gint[xi], gzt)]
                    j = None if wi is None else col[layer.woff + wi]
                    if j is not None:
                        gint[xi][j] = add(gint[xi][j], gz)
            gb, gbt = gin, gint
        return out, grad, hess, dg, zts


def _chars(net, text, k, zero, active):
    """Per layer: the pattern characters of its units at point k (None for a layer without a kink)."""
    if not isinstance(text, str):
        raise Invalid(f"witness.pattern[{k}]: must be a string")
    pos, out = 0, []
    for layer in net.layers:
        if layer.act.kink is None:
            out.append(None)
            continue
        chunk = text[pos:pos + len(layer.conns)]
        if len(chunk) != len(layer.conns):
            raise Invalid(f"witness.pattern[{k}]: too short for the kink units of the network")
        pos += len(layer.conns)
        for u, ch in enumerate(chunk):
            name = f"{layer.index}:{u}"
            if ch not in "+-0k*":
                raise Invalid(f"witness.pattern[{k}]: character {ch!r} (allowed: + - 0 k *)")
            if (ch == "0") != (name in zero):
                raise Invalid(f"witness.pattern[{k}]: unit {name} is {'not ' * (name not in zero)}a zero unit "
                              f"but the pattern says {ch!r}")
            if ch == "k" and not active:
                raise Invalid(f"witness.pattern[{k}]: a stated kink 'k' (unit {name}) on an inactive point")
            if ch == "*" and active:
                raise Invalid(f"witness.pattern[{k}]: '*' (either slope, unit {name}) on an active point")
        out.append(chunk)
    if pos != len(text):
        raise Invalid(f"witness.pattern[{k}]: {len(text)} characters, the network has {pos} kink units")
    return out


def _slope_iv(layer, ch, g, one):
    """The slope interval of a unit with pattern character ``ch`` (``g``: its stated-kink interval)."""
    s = layer.act.s[0] if layer.act.s else Fraction(0)
    if ch == "+":
        return one
    if ch == "-":
        return iv(s)
    if ch == "0":
        return ZERO
    if ch == "k":
        return g
    lo, hi = min(s, Fraction(1)), max(s, Fraction(1))      # '*': either slope
    return (iv(lo)[0], iv(hi)[1])


def _structure(net):
    for layer in net.weight_layers:
        where = f"architecture.layers[{layer.pos}]"
        if layer.bias:
            raise Invalid(f"{where}: {KIND} covers bias-free networks only")
        if layer.act.kind != "pl" or layer.act.p != 1:
            raise Invalid(f"{where}: {KIND} covers linear, relu and leaky_relu activations only")


def _fixed(net, theta, zero_units):
    """Names and weight indices of the zero units; every such weight must be exactly 0."""
    zero, fixed = set(), set()
    if not isinstance(zero_units, list):
        raise Invalid("witness.zero_units: must be a list")
    wl = net.weight_layers
    for i, name in enumerate(zero_units):
        where = f"witness.zero_units[{i}]"
        parts = name.split(":") if isinstance(name, str) else []
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise Invalid(f"{where}: must be 'LAYER:UNIT'")
        L, U = int(parts[0]), int(parts[1])
        if not 1 <= L < len(wl) or not 0 <= U < len(wl[L - 1].conns) or name in zero:
            raise Invalid(f"{where}: not a unit of a hidden weight layer (or listed twice)")
        layer = wl[L - 1]
        nxt = net.layers[net.layers.index(layer) + 1]
        if nxt not in wl:
            raise Invalid(f"{where}: the next layer must be a weight layer")
        incoming = [layer.woff + wi for wi, _ in layer.conns[U]]
        outgoing = [nxt.woff + wi for c in nxt.conns for wi, xi in c if xi == U]
        for j in incoming + outgoing:
            if theta[j] != 0:
                raise Invalid(f"{where}: weight θ_{j} of the zero unit is {theta[j]}, not 0")
        zero.add(name)
        fixed.update(incoming + outgoing)
    return zero, fixed


def _first_layer_independent(net, xs, kinks):
    """Whether every stated kink is a first-weight-layer unit and, per point, the input patches
    of its kink units (the gradients ∇_θ z_u, exact rationals) are linearly independent."""
    first = net.layers[0]
    if first not in net.weight_layers:
        return False, "the first layer has no weights"
    by_point = {}
    for k, li, u in kinks:
        if li != 0:
            return False, f"the stated kink of unit {net.layers[li].index}:{u} at point {k} is not in the first layer"
        by_point.setdefault(k, []).append(u)
    for k, units in by_point.items():
        rows = []
        for u in units:
            v = {}
            for wi, xi in first.conns[u]:
                v[wi] = v.get(wi, Fraction(0)) + xs[k][xi]
            rows.append({j: c for j, c in v.items() if c != 0})
        if _rank(rows) < len(rows):
            return False, f"the stated kink units at point {k} have linearly dependent input patches"
    return True, ""


def _rank(rows):
    """Exact rank of sparse rational vectors (dicts index -> Fraction), by elimination."""
    rank, rows = 0, [{j: c for j, c in r.items() if c != 0} for r in rows]
    while rows:
        r = rows.pop()
        if not r:
            continue
        rank += 1
        p = next(iter(r))
        for i, o in enumerate(rows):
            if p in o:
                f = o[p] / r[p]
                o = {j: o.get(j, Fraction(0)) - f * r.get(j, Fraction(0)) for j in set(o) | set(r)}
                rows[i] = {j: c for j, c in o.items() if c != 0}
    return rank


def _kind(spec):
    return spec if isinstance(spec, str) else next(iter(spec)) if isinstance(spec, dict) and spec else None


def _q(f):
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _unmerge(cert, limits):
    """The certificate of the merged net of ``witness.merged`` (see the module docstring, *Merged
    units*), after checking the groups and that the centre is exactly their lift."""
    import copy

    w = cert["witness"]
    groups = w["merged"]
    arch = cert["architecture"]
    net = Network(arch, Numbers(None, limits))
    _structure(net)
    theta = [t[0] if t else Fraction(0) for t in net.parameters(cert["parameters"])]
    wl, layers_json = net.weight_layers, arch["layers"]
    if not isinstance(groups, list) or not groups:
        raise Invalid("witness.merged: must be a non-empty list")
    keep = {layer.index: list(range(len(layer.conns))) for layer in wl}
    scale, rep = {}, {}
    for gi, g in enumerate(groups):
        where = f"witness.merged[{gi}]"
        if not isinstance(g, dict):
            raise Invalid(f"{where}: must be an object")
        _keys(g, {"layer", "units", "scales"}, where)
        L, units, scales = g.get("layer"), g.get("units"), g.get("scales")
        if not isinstance(L, int) or isinstance(L, bool) or not 1 <= L < len(wl):
            raise Invalid(f"{where}.layer: must be a hidden weight layer index")
        layer = wl[L - 1]
        nxt_pos = net.layers.index(layer) + 1
        if (_kind(layers_json[layer.pos]) != "dense" or nxt_pos >= len(net.layers)
                or net.layers[nxt_pos] not in wl or net.layers[nxt_pos].pos != layer.pos + 1
                or _kind(layers_json[layer.pos + 1]) != "dense"):
            raise Invalid(f"{where}.layer: merged units need a dense layer followed directly by a dense layer")
        if (not isinstance(units, list) or len(units) < 2
                or any(not isinstance(u, int) or isinstance(u, bool) or not 0 <= u < len(layer.conns) for u in units)
                or len(set(units)) != len(units) or any((L, u) in rep for u in units)):
            raise Invalid(f"{where}.units: at least two distinct units of the layer, in no other group")
        ts = [rational(v, f"{where}.scales[{i}]", limits) for i, v in enumerate(_list(scales, "scales", len(units), True))]
        if any(t <= 0 for t in ts) or sum(t * t for t in ts) != 1:
            raise Invalid(f"{where}.scales: must be positive with sum of squares exactly 1")
        for u, t in zip(units, ts):
            scale[(L, u)], rep[(L, u)] = t, units[0]
        for u in units[1:]:
            keep[L].remove(u)
    march = copy.deepcopy(arch)
    for L in {g["layer"] for g in groups}:
        march["layers"][wl[L - 1].pos]["dense"]["width"] = len(keep[L])
    mnet = Network(march, Numbers(None, limits))
    mtheta, links = [None] * mnet.n_params, []
    for pos, layer in enumerate(net.layers):
        if layer not in wl:
            continue
        prev = net.layers[pos - 1] if pos > 0 and net.layers[pos - 1] in wl else None
        ml = mnet.layers[pos]
        mpos = {(o, xi): ml.woff + wi for o, c in enumerate(ml.conns) for wi, xi in c}
        for o, c in enumerate(layer.conns):
            for wi, xi in c:
                f, mo, mi = Fraction(1), o, xi
                if (layer.index, o) in rep:
                    f, mo = f * scale[(layer.index, o)], rep[(layer.index, o)]
                if prev is not None and (prev.index, xi) in rep:
                    f, mi = f * scale[(prev.index, xi)], rep[(prev.index, xi)]
                mo = keep[layer.index].index(mo)
                mi = keep[prev.index].index(mi) if prev is not None else mi
                j, p = mpos[(mo, mi)], layer.woff + wi
                links.append((p, j, f))
                if mtheta[j] is None:
                    mtheta[j] = theta[p] / f
    for p, j, f in links:
        if theta[p] != f * mtheta[j]:
            raise Invalid(f"parameters: θ_{p} is not the lift (scale {f}) of the merged weight {mtheta[j]}")
    params, pos = [], 0
    for layer in mnet.weight_layers:
        size = 1
        for d in layer.wshape:
            size *= d
        flat = [_q(t) for t in mtheta[pos:pos + size]]
        for d in reversed(layer.wshape[1:]):
            flat = [flat[i:i + d] for i in range(0, len(flat), d)]
        params.append({"weight": flat})
        pos += size
    # patterns: a group's units carry its first unit's character, which the merged net keeps
    pattern = _list(w, "pattern", len(cert["data"].get("points", [])) if isinstance(cert["data"], dict) else -1)
    merged_pattern = []
    for k, text in enumerate(pattern):
        if not isinstance(text, str):
            raise Invalid(f"witness.pattern[{k}]: must be a string")
        out, i = [], 0
        for layer in net.layers:
            if layer.act.kink is None:
                continue
            chunk = text[i:i + len(layer.conns)]
            i += len(layer.conns)
            for u, ch in enumerate(chunk):
                key = (getattr(layer, "index", None), u)
                if key in rep and rep[key] != u:
                    if ch != chunk[rep[key]]:
                        raise Invalid(f"witness.pattern[{k}]: unit {key[0]}:{u} differs from its group's first unit")
                    continue
                out.append(ch)
        merged_pattern.append("".join(out) + text[i:])
    zero = []
    for i, name in enumerate(w.get("zero_units", [])):
        parts = name.split(":") if isinstance(name, str) else []
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise Invalid(f"witness.zero_units[{i}]: must be 'LAYER:UNIT'")
        L, u = int(parts[0]), int(parts[1])
        if (L, u) in rep:
            raise Invalid(f"witness.zero_units[{i}]: a unit of a merged group")
        zero.append(f"{L}:{keep[L].index(u)}" if L in keep and u in keep[L] else name)
    mw = {key: v for key, v in w.items() if key != "merged"}
    mw["pattern"], mw["zero_units"] = merged_pattern, zero
    sizes = ", ".join(str(len(g["units"])) for g in groups)
    return ({"claim": cert["claim"], "architecture": march, "data": cert["data"], "parameters": params,
             "witness": mw}, f"lift of {len(groups)} group(s) of parallel units (sizes {sizes}, scales with "
                             "sum of squares 1) checked exactly; merged net: ")


def check(cert, limits):
    """Decide a ``kkt_point_nearby`` certificate (see the module docstring)."""
    claim = cert["claim"]
    _keys(claim, {"kind", "clarke_set", "statement"}, "claim")
    cset = claim.get("clarke_set", "gradient")
    if cset not in SETS:
        raise Invalid(f"claim.clarke_set: must be one of {sorted(SETS)}, got {cset!r}")
    if "statement" in claim and claim["statement"] != statement(cset):
        raise Invalid(f"claim.statement: must be the canonical statement {statement(cset)!r} (or absent)")
    w = cert["witness"]
    _keys(w, {"active", "pattern", "zero_units", "multipliers", "slopes", "radius", "Y", "merged"}, "witness")
    if "merged" in w:
        merged, text = _unmerge(cert, limits)
        return text + check(merged, limits)
    N_ = Numbers(None, limits)
    net = Network(cert["architecture"], N_)
    _structure(net)
    theta = [t[0] if t else Fraction(0) for t in net.parameters(cert["parameters"])]
    xs, ys = net.points(cert["data"])
    xs = [[v[0] if v else Fraction(0) for v in x] for x in xs]
    n, m = len(xs), len(theta)
    zero, fixed = _fixed(net, theta, w.get("zero_units", []))
    free = [j for j in range(m) if j not in fixed]
    col = [None] * m
    for i, j in enumerate(free):
        col[j] = i
    active = w.get("active")
    if (not isinstance(active, list) or not active or any(not isinstance(k, int) or isinstance(k, bool)
                                                          for k in active)
            or active != sorted(set(active)) or not 0 <= active[0] <= active[-1] < n):
        raise Invalid("witness.active: must be a non-empty increasing list of data indices")
    pattern = _list(w, "pattern", n)
    chars = [_chars(net, p, k, zero, k in active) for k, p in enumerate(pattern)]
    # stated kinks, ordered by point and place in the pattern: (point, layer position, unit)
    kinks = [(k, li, u) for k in range(n) for li, ch in enumerate(chars[k]) if ch is not None
             for u, c in enumerate(ch) if c == "k"]
    nt, na, ng = len(free), len(active), len(kinks)
    N = nt + na + ng
    if ng and cset == "gradient":
        raise Invalid("claim.clarke_set: 'gradient' with stated kinks; use 'clarke' or 'chain_rule_hull'")
    if cset == "clarke" and ng:
        ok, why = _first_layer_independent(net, xs, kinks)
        if not ok:
            raise Invalid(f"claim.clarke_set 'clarke' not shown: {why}")
    lam = [rational(v, f"witness.multipliers[{i}]", limits) for i, v in enumerate(_list(w, "multipliers", na))]
    gs = [rational(v, f"witness.slopes[{i}]", limits) for i, v in enumerate(_list(w.get("slopes", []), "slopes", ng,
                                                                                 True))]
    radius = [rational(v, f"witness.radius[{i}]", limits) for i, v in enumerate(_list(w, "radius", N))]
    if any(r <= 0 for r in radius):
        raise Invalid("witness.radius: every radius must be > 0")
    rows = _list(w, "Y", N)
    # work: N^3 products for Y·J, N^2 per connection for the Hessians of active points, forward passes
    limits.spend(N ** 3 + N * N + na * 4 * net.n_conns * (nt + ng) + 2 * n * net.n_conns,
                 "interval operations (estimated)")
    Y = [[iv(rational(v, f"witness.Y[{i}][{j}]", limits)) for j, v in enumerate(_list(rows[i], f"Y[{i}]", N, True))]
         for i in range(N)]
    one = iv(Fraction(1))
    pn = PatternNet(net, theta, col)
    xiv = [[iv(v) for v in x] for x in xs]
    centre = [iv(theta[j]) for j in free] + [iv(v) for v in lam] + [iv(v) for v in gs]
    box = [(c[0] - iv(r)[1], c[1] + iv(r)[1]) for c, r in zip(centre, radius)]
    th_c = [iv(t) for t in theta]
    th_X = [ZERO if col[j] is None else box[col[j]] for j in range(m)]
    lam_X, g_X = box[nt:nt + na], box[nt + na:]
    kindex = {kk: j for j, kk in enumerate(kinks)}

    def slopes(k, gvals):
        return [[None] * len(layer.conns) if chars[k][li] is None else
                [_slope_iv(layer, c, gvals[kindex[(k, li, u)]] if c == "k" else None, one)
                 for u, c in enumerate(chars[k][li])] for li, layer in enumerate(net.layers)]

    # the slopes of stated kinks lie in [min(s, 1), max(s, 1)] on the box
    interior = True
    for (k, li, u), g in zip(kinks, g_X):
        s = net.layers[li].act.s[0] if net.layers[li].act.s else Fraction(0)
        lo, hi = iv(min(s, Fraction(1))), iv(max(s, Fraction(1)))
        if not (g[0] >= lo[1] and g[1] <= hi[0]):
            raise Invalid(f"point {k}, unit {net.layers[li].index}:{u}: slope {show(g)} on the box is not in "
                          f"[{min(s, 1)}, {max(s, 1)}]")
        interior = interior and g[0] > lo[1] and g[1] < hi[0]
    # side conditions on X: signs of every pre-activation of every point, inactive margins
    for k in range(n):
        zs, _, out = pn.forward(th_X, xiv[k], slopes(k, g_X))
        for li, layer in enumerate(net.layers):
            if chars[k][li] is None:
                continue
            for u, z in enumerate(zs[li]):
                ch = chars[k][li][u]
                ok = (positive(z) if ch == "+" else negative(z) if ch == "-" else z == ZERO if ch == "0" else True)
                if not ok:
                    raise Invalid(f"point {k}, unit {layer.index}:{u}: pre-activation {show(z)} on the box "
                                  f"does not have the pattern's sign {ch!r}")
        if k not in active:
            q = out if ys[k] > 0 else (-out[1], -out[0])
            if not q[0] > one[1]:
                raise Invalid(f"inactive point {k}: margin {show(q)} on the box is not > 1")
    for a, l in enumerate(lam_X):
        if not positive(l):
            raise Invalid(f"multiplier of point {active[a]}: {show(l)} on the box is not > 0")

    # F(x̃) and J(X); unknowns (free θ, λ, g), equations (stationarity, margins, kinks)
    F = [iv(t) for t in (theta[j] for j in free)] + [ZERO] * (na + ng)
    J = [[ZERO] * N for _ in range(N)]
    for i in range(nt):
        J[i][i] = one
    g_c = centre[nt + na:]
    nv = nt + ng
    for a, k in enumerate(active):
        yk = iv(Fraction(ys[k]))
        gcol = [None if chars[k][li] is None else
                [nt + kindex[(k, li, u)] if c == "k" else None for u, c in enumerate(chars[k][li])]
                for li in range(len(net.layers))]
        out_c, grad_c, _, _, zt_c = pn.derivatives(th_c, xiv[k], slopes(k, g_c), 0)
        zs_c, _, _ = pn.forward(th_c, xiv[k], slopes(k, g_c))
        wc = mul(yk, iv(lam[a]))
        for i, j in enumerate(free):
            F[i] = sub(F[i], mul(wc, grad_c[j]))
        F[nt + a] = sub(mul(yk, out_c), one)
        _, grad, hess, dg, zts = pn.derivatives(th_X, xiv[k], slopes(k, g_X), nt, gcol, nv)
        for j in fixed:
            if grad[j] != ZERO:
                raise Invalid(f"point {k}: ∂Φ/∂θ_{j} of a fixed weight is {show(grad[j])}, not exactly 0")
        wX = mul(yk, lam_X[a])
        for i, j in enumerate(free):
            g = mul(yk, grad[j])
            J[i][nt + a] = (-g[1], -g[0])
            J[nt + a][i] = g
            row = J[i]
            for c in range(nt):
                row[c] = sub(row[c], mul(wX, hess[i][c]))
            for c in range(ng):
                row[nt + na + c] = sub(row[nt + na + c], mul(wX, hess[i][nt + c]))
        for c in range(ng):
            J[nt + a][nt + na + c] = mul(yk, dg[nt + c])
        for (kk, li, u), j in kindex.items():
            if kk == k:
                F[nt + na + j] = zs_c[li][u]
                J[nt + na + j] = [zts[li][u][c] for c in range(nt)] + [ZERO] * na + \
                                 [zts[li][u][nt + c] for c in range(ng)]
    # Krawczyk: K = x̃ − Y F(x̃) + (I − Y J(X))(X − x̃)
    dX = [sub(b, c) for b, c in zip(box, centre)]
    for i in range(N):
        Yi = Y[i]
        k_i = sub(centre[i], _dot(Yi, F))
        for c in range(N):
            e = sub(one if c == i else ZERO, _dot(Yi, [J[r][c] for r in range(N)]))
            k_i = add(k_i, mul(e, dX[c]))
        if not (k_i[0] > box[i][0] and k_i[1] < box[i][1]):
            raise Invalid(f"Krawczyk test fails at unknown {i}: K = {show(k_i)} is not inside X = {show(box[i])}")
    kink_text = ""
    if ng:
        kink_text = (f", {ng} stated kink(s) z = 0 with slopes {'strictly inside' if interior else 'in'} their "
                     f"intervals ({SETS[cset]})")
    return (f"Krawczyk: K(X) ⊂ int X for {N} unknowns ({nt} weights, {na} multipliers, {ng} slopes; {len(fixed)} "
            f"weights of {len(zero)} zero units fixed at 0), max radius {float(max(radius)):.3g}: a unique KKT point "
            f"with active set {active[:8]}{'...' if na > 8 else ''}, positive multipliers, constant signs on the "
            f"box{kink_text}")


def _dot(a, b):
    s = ZERO
    for u, v in zip(a, b):
        s = add(s, mul(u, v))
    return s


def _list(w, key, length, given=False):
    v = w if given else w.get(key)
    if not isinstance(v, list) or len(v) != length:
        raise Invalid(f"witness.{key}: must be a list of {length} entries")
    return v


CLAIMS = {KIND: check}
