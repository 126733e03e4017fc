"""Claims about the realization map of shallow ReLU networks: equality, difference and exact
distances of two realized functions on a box.

A certificate of these kinds carries two networks, each R(x) = Σ_i a_i relu(w_i·x + b_i) + c on
the box Ω = (lo, hi)^d: R_A in ``architecture`` and ``parameters``, R_B in
``witness.architecture_b`` and ``witness.parameters_b`` (the parameter file form: hidden
``weight`` m×d and ``bias``, output ``weight`` 1×m and ``bias``). Each architecture must be
``input: [d]``, one hidden ``dense`` layer with ``activation: relu`` and a ``dense`` output layer
of width 1 (linear); a layer without ``bias`` has bias 0. ``data`` is ``{"domain": [lo, hi]}``
with lo < hi. Numbers use the kernel's grammar in the field of ``witness.field`` (optional).
With h = R_A - R_B:

- ``same_realization``: R_A = R_B on Ω, decided by comparing canonical forms (below).
- ``different_realization``: ``witness.point`` lies in the open box and h(point) != 0.
- ``realization_distance`` (d <= 2 only; larger d is refused as not checkable):
  ``witness.sup`` = max of |h| over the closed box, attained at ``witness.sup_point``;
  ``witness.w1inf`` = max(sup, max_j ess sup_Ω |∂_j h|). ``witness.w1inf_coordinate`` is a
  0-based coordinate j and ``witness.w1inf_point`` a point of the open box on no line of either
  net with |∂_j h| = w1inf there; or the coordinate is null, w1inf equals the sup, and the
  point is a point of the closed box with |h| = w1inf.

Canonical form (the function on the open box, unique, so equality of forms is equality of
functions): a neuron with a_i = 0 or w_i = 0 is a constant (a_i relu(b_i) goes into c); otherwise
z = w·x + b ranges over (z_min, z_max) on Ω, with z_min, z_max sums of endpoint terms. If
z_max <= 0 the neuron is *dead* (0 on Ω); if z_min >= 0 it is *affine* (a w goes into v, a b into
c); else its hyperplane is *visible*. A visible neuron is normalized by s = ‖w‖_∞ to n = w/s,
β = b/s; if the first non-zero entry of n is negative, a relu(z) = a z + a relu(-z) flips it
(a w into v, a b into c). The neurons on one hyperplane (n, β) are merged into
μ = Σ a_i ‖w_i‖_∞ (a flipped neuron keeps its a_i: its linear part is already in v and c), and
hyperplanes with μ = 0 are dropped. Then
R = Σ μ_H relu(n_H·x + β_H) + v·x + c on Ω. Uniqueness: crossing H at a point on no other
hyperplane the gradient jumps by μ_H n_H != 0, so the kink set and the jumps determine every
(n_H, β_H, μ_H), and then v and c.

Exact distances: h is continuous and affine on each closed cell of the arrangement of the box
faces and the visible lines of both nets (neurons with a != 0, w != 0 whose line meets the open
box; every other neuron is affine on the closed box). |h| is convex on a cell, so its
max over the closed box is attained at a vertex: in 1-D the kinks inside the box and the two
endpoints, in 2-D the intersection points of two non-parallel lines (box edges included) that lie
in the closed box. ∇h is constant on each open cell; the cells are found by slabs: the distinct
x_1-coordinates of the vertices cut the box into slabs, no vertex lies strictly inside a slab, so
every cell meets the middle line x_1 = (t_i + t_(i+1))/2 of a slab in one open interval between
consecutive crossings of that line with the lines; the midpoints of these intervals (in 1-D: of
the intervals between breakpoints) hit every cell, lie on no line, and give ess sup |∂_j h| as a
max over finitely many exact gradients.

Limits (:mod:`.limits`): each network is checked by :class:`~.network.Network` (``units``,
``parameters``, ``connections``) before its numbers are read; the number of breakpoints (1-D) or
of candidate vertices, pairs of lines (2-D), is checked against ``vertices`` before the
enumeration, and the arithmetic of every batch of evaluations against ``operations`` before it.

Trusted: the field arithmetic of :mod:`.field`, the number parser of :mod:`.exact`, the shape
and parameter parsing of :mod:`.network`, ``itertools`` and ``functools``. Nothing stored (values,
points, canonical forms) is believed: all of it is recomputed here.

Examples
--------
>>> N = Numbers()
>>> arch = {"input": [1], "layers": [{"dense": {"width": 2, "activation": "relu", "bias": True}},
...                                  {"dense": {"width": 1, "bias": True}}]}
>>> R = shallow(arch, [{"weight": [["1"], ["-1"]], "bias": ["0", "0"]},
...                    {"weight": [["1", "-1"]], "bias": ["0"]}], N)   # relu(x) - relu(-x) = x
>>> form = canonical(N.F, R, N.F.const(-1), N.F.const(1))
>>> form.planes, form.v, form.c                     # no kink: the function is x on (-1, 1)
([], [(Fraction(1, 1),)], ())
"""
from functools import cmp_to_key
from itertools import combinations
from types import SimpleNamespace

from .exact import Numbers, short
from .field import Invalid
from .network import Network, _keys

STATEMENTS = {
    "same_realization": "R_A and R_B are the same function on the box (lo, hi)^d",
    "different_realization": "R_A and R_B differ at the witness point of the open box (lo, hi)^d",
    "realization_distance": "sup and w1inf are the exact L^inf and W^{1,inf} distances of R_A and R_B "
                            "on the box (lo, hi)^d",
}
SHAPE = "the net must be input [d], one hidden dense relu layer and a dense output layer of width 1"
WITNESS = {"same_realization": (), "different_realization": ("point",),
           "realization_distance": ("sup", "sup_point", "w1inf", "w1inf_point", "w1inf_coordinate")}


# ------------------------------------------------------------------ numbers and points

def fmt(F, a):
    """A field element for a message: exact if rational, else ≈ a float."""
    return F.show(a)


def fmt_point(F, x):
    return "(" + ", ".join(fmt(F, t) for t in x) + ")"


def absolute(F, a):
    return F.neg(a) if F.sign(a) < 0 else a


def largest(F, values):
    """(index, value) of a largest element of a non-empty list (the first one)."""
    best = 0
    for i in range(1, len(values)):
        if F.cmp(values[i], values[best]) > 0:
            best = i
    return best, values[best]


def lex(F, u, v):
    """Lexicographic comparison of two equally long tuples of field elements (-1, 0, 1)."""
    for x, y in zip(u, v):
        s = F.cmp(x, y)
        if s:
            return s
    return 0


def distinct(F, points):
    """The distinct tuples of ``points``, sorted lexicographically (equality decided exactly)."""
    out = []
    for p in sorted(points, key=cmp_to_key(lambda u, v: lex(F, u, v))):
        if not out or lex(F, out[-1], p):
            out.append(p)
    return out


def dot(F, w, x):
    return F.sum(F.mul(u, v) for u, v in zip(w, x))


# ------------------------------------------------------------------ networks

def shallow(arch, params, N, wa="architecture", wp="parameters"):
    """The network R(x) = Σ a_i relu(w_i·x + b_i) + c of an architecture and parameter block.

    Returns a namespace with ``W`` (m tuples of d field elements), ``b``, ``a`` (m each), ``c``,
    ``m``, ``d``. ``wa``/``wp`` name the blocks in messages.
    """
    _keys(arch, {"input", "layers"}, wa)
    layers = arch.get("layers")
    if not isinstance(arch.get("input"), list) or len(arch["input"]) != 1:
        raise Invalid(f"{wa}.input: must be [d] (a vector input); {SHAPE}")
    if not isinstance(layers, list) or len(layers) != 2:
        raise Invalid(f"{wa}: {SHAPE} (got {len(layers) if isinstance(layers, list) else 'no'} layers)")
    for i, (spec, act) in enumerate(zip(layers, ("relu", "linear"))):
        if not isinstance(spec, dict) or set(spec) != {"dense"} or not isinstance(spec["dense"], dict):
            raise Invalid(f"{wa}.layers[{i}]: must be a dense layer; {SHAPE}")
        if spec["dense"].get("activation", "linear") != act:
            raise Invalid(f"{wa}.layers[{i}].dense.activation: must be {act}, got "
                          f"{short(spec['dense'].get('activation', 'linear'))}")
    if layers[1]["dense"].get("width") != 1:
        raise Invalid(f"{wa}.layers[1].dense.width: the output layer must have width 1")
    net = _named(lambda: Network(arch, N), wa, wa == "architecture")
    theta = _named(lambda: net.parameters(params), wp, wp == "parameters")
    hidden, out = net.weight_layers
    m, d = hidden.wshape
    W = [tuple(theta[hidden.woff + i * d: hidden.woff + (i + 1) * d]) for i in range(m)]
    zero = N.F.const(0)
    b = theta[hidden.boff: hidden.boff + m] if hidden.bias else [zero] * m
    a = theta[out.woff: out.woff + m]
    c = theta[out.boff] if out.bias else zero
    return SimpleNamespace(W=W, b=list(b), a=list(a), c=c, m=m, d=d)


def _named(build, where, plain):
    """``build()``, its invalid messages prefixed by ``where`` unless ``plain`` (the kernel's own
    messages already name ``architecture`` and ``parameters``) or a limit is exceeded."""
    try:
        return build()
    except Invalid as e:
        if plain or str(e).startswith("limit exceeded"):
            raise
        raise Invalid(f"{where}: {e}") from None


def value(F, R, x):
    """R(x), exactly."""
    out = R.c
    for w, b, a in zip(R.W, R.b, R.a):
        z = F.add(dot(F, w, x), b)
        if a and F.sign(z) > 0:
            out = F.add(out, F.mul(a, z))
    return out


def on_line(F, R, x):
    """Index of a neuron with w != 0 whose line w·x + b = 0 passes through x, else None."""
    for i, (w, b) in enumerate(zip(R.W, R.b)):
        if any(F.sign(t) for t in w) and F.sign(F.add(dot(F, w, x), b)) == 0:
            return i
    return None


def gradient(F, R, x):
    """∇R(x) at a point on no line of a neuron with w != 0 and a != 0."""
    g = [F.const(0)] * R.d
    for w, b, a in zip(R.W, R.b, R.a):
        if not a or not any(F.sign(t) for t in w):
            continue
        s = F.sign(F.add(dot(F, w, x), b))
        if s == 0:
            raise Invalid(f"internal: gradient asked on a line at {fmt_point(F, x)}")
        if s > 0:
            g = [F.add(gj, F.mul(a, wj)) for gj, wj in zip(g, w)]
    return g


# ------------------------------------------------------------------ canonical form

def extent(F, w, b, lo, hi):
    """(min, max) of w·x + b over the closed box [lo, hi]^d: sums of endpoint terms. Over the open
    box the values fill the open interval between them (when w != 0)."""
    lows = [F.mul(t, lo) if F.sign(t) > 0 else F.mul(t, hi) for t in w]
    highs = [F.mul(t, hi) if F.sign(t) > 0 else F.mul(t, lo) for t in w]
    return F.add(b, F.sum(lows)), F.add(b, F.sum(highs))


def visible(F, w, b, lo, hi):
    """Does the hyperplane w·x + b = 0 (w != 0) meet the open box (lo, hi)^d?"""
    zmin, zmax = extent(F, w, b, lo, hi)
    return F.sign(zmin) < 0 < F.sign(zmax)


def canonical(F, R, lo, hi):
    """The canonical form of R on the open box (lo, hi)^d (see the module docstring).

    Returns a namespace with ``planes`` (sorted list of (n, β, μ), μ != 0), ``v``, ``c`` and the
    counts ``dead``, ``affine``, ``constant`` of neurons.
    """
    v, c, planes = [F.const(0)] * R.d, R.c, []
    dead = affine = constant = 0
    for w, b, a in zip(R.W, R.b, R.a):
        if not any(F.sign(t) for t in w) or F.sign(a) == 0:
            constant += 1
            if F.sign(b) > 0:
                c = F.add(c, F.mul(a, b))
            continue
        zmin, zmax = extent(F, w, b, lo, hi)
        if F.sign(zmax) <= 0:
            dead += 1
            continue
        if F.sign(zmin) >= 0 or F.sign(next(t for t in w if F.sign(t))) < 0:
            # affine on the box, or visible with a negative leading entry: a relu(z) = a z + a relu(-z)
            v = [F.add(vj, F.mul(a, wj)) for vj, wj in zip(v, w)]
            c = F.add(c, F.mul(a, b))
            if F.sign(zmin) >= 0:
                affine += 1
                continue
            w, b = [F.neg(t) for t in w], F.neg(b)
        s = largest(F, [absolute(F, t) for t in w])[1]
        planes.append((tuple(F.div(t, s) for t in w), F.div(b, s), F.mul(a, s)))
    return SimpleNamespace(planes=merge(F, planes), v=v, c=c, dead=dead, affine=affine, constant=constant)


def merge(F, planes):
    """Sum μ over equal (n, β) (decided exactly) and drop μ = 0; sorted by (n, β)."""
    out = []
    for n, beta, mu in sorted(planes, key=cmp_to_key(lambda p, q: lex(F, p[0] + (p[1],), q[0] + (q[1],)))):
        if out and not lex(F, out[-1][0] + (out[-1][1],), n + (beta,)):
            out[-1] = (n, beta, F.add(out[-1][2], mu))
        else:
            out.append((n, beta, mu))
    return [p for p in out if F.sign(p[2]) != 0]


# ------------------------------------------------------------------ the certificate

class Pair:
    """The recomputed content of a realization certificate: field, box, R_A, R_B, witness."""

    def __init__(self, cert, limits):
        kind, claim = cert["claim"]["kind"], cert["claim"]
        _keys(claim, {"kind", "statement"}, "claim")
        if "statement" in claim and claim["statement"] != STATEMENTS[kind]:
            raise Invalid(f"claim.statement: must be the canonical statement {STATEMENTS[kind]!r} (or absent)")
        self.witness = w = cert["witness"]
        needed = {"architecture_b", "parameters_b", *WITNESS[kind]}
        _keys(w, needed | {"field"}, "witness")
        if needed - set(w):
            raise Invalid(f"witness: missing key(s) {sorted(needed - set(w))}")
        self.limits, self.N = limits, Numbers(w.get("field"), limits)
        self.F = F = self.N.F
        _keys(cert["data"], {"domain"}, "data")
        dom = cert["data"].get("domain")
        if not isinstance(dom, list) or len(dom) != 2:
            raise Invalid("data.domain: must be a list [lo, hi]")
        self.lo, self.hi = (self.N.num(t, f"data.domain[{i}]") for i, t in enumerate(dom))
        if F.cmp(self.lo, self.hi) >= 0:
            raise Invalid(f"data.domain: needs lo < hi, got [{fmt(F, self.lo)}, {fmt(F, self.hi)}]")
        self.A = shallow(cert["architecture"], cert["parameters"], self.N)
        self.B = shallow(w["architecture_b"], w["parameters_b"], self.N, "witness.architecture_b",
                         "witness.parameters_b")
        if self.A.d != self.B.d:
            raise Invalid(f"R_A has input dimension {self.A.d}, R_B has {self.B.d}")
        self.d = self.A.d
        self.box = f"({fmt(F, self.lo)}, {fmt(F, self.hi)})^{self.d}"

    def h(self, x):
        return self.F.sub(value(self.F, self.A, x), value(self.F, self.B, x))

    def grad(self, x):
        return [self.F.sub(u, v) for u, v in zip(gradient(self.F, self.A, x), gradient(self.F, self.B, x))]

    def point(self, key, closed):
        """``witness[key]`` as a point of the closed (``closed``) or open box."""
        p = self.witness[key]
        if not isinstance(p, list) or len(p) != self.d:
            raise Invalid(f"witness.{key}: must be a list of {self.d} numbers")
        x = tuple(self.N.num(t, f"witness.{key}[{j}]") for j, t in enumerate(p))
        F = self.F
        inside = (lambda s: s >= 0) if closed else (lambda s: s > 0)
        if not all(inside(F.cmp(t, self.lo)) and inside(F.cmp(self.hi, t)) for t in x):
            raise Invalid(f"witness.{key}: {fmt_point(F, x)} is not in the {'closed' if closed else 'open'} "
                          f"box {self.box}")
        return x

    def budget(self, count, what):
        """Check ``count`` evaluations of h or ∇h against ``operations`` before running them."""
        per = (self.A.m + self.B.m) * (2 * self.d + 3)
        self.limits.check("operations", self.limits.spent + count * per,
                          f"operations of {count} {what} (estimated)")


def same_realization(cert, limits):
    """``same_realization``: the canonical forms of R_A and R_B on the open box are equal."""
    P = Pair(cert, limits)
    F = P.F
    fa, fb = canonical(F, P.A, P.lo, P.hi), canonical(F, P.B, P.lo, P.hi)
    diff = merge(F, fa.planes + [(n, beta, F.neg(mu)) for n, beta, mu in fb.planes])
    if diff:
        n, beta, mu = diff[0]
        raise Invalid(f"canonical forms differ on {P.box}: the hyperplane n·x + β = 0 with n = "
                      f"{fmt_point(F, n)}, β = {fmt(F, beta)} has μ_A - μ_B = {fmt(F, mu)} != 0")
    for j, (x, y) in enumerate(zip(fa.v, fb.v)):
        if F.cmp(x, y):
            raise Invalid(f"canonical forms differ on {P.box}: linear part v_{j} is {fmt(F, x)} for R_A, "
                          f"{fmt(F, y)} for R_B")
    if F.cmp(fa.c, fb.c):
        raise Invalid(f"canonical forms differ on {P.box}: constant {fmt(F, fa.c)} for R_A, {fmt(F, fb.c)} for R_B")
    k = len(fa.planes)
    return (f"canonical forms on the open box {P.box} are equal: {k} visible hyperplane{'s' * (k != 1)} "
            f"with μ != 0, linear part {fmt_point(F, fa.v)}, constant {fmt(F, fa.c)} "
            f"(R_A: {P.A.m} neurons, {fa.dead} dead, {fa.affine} affine, {fa.constant} constant; "
            f"R_B: {P.B.m} neurons, {fb.dead} dead, {fb.affine} affine, {fb.constant} constant)")


def different_realization(cert, limits):
    """``different_realization``: the witness point is in the open box and R_A(x) != R_B(x)."""
    P = Pair(cert, limits)
    F, x = P.F, P.point("point", closed=False)
    ra, rb = value(F, P.A, x), value(F, P.B, x)
    if not F.cmp(ra, rb):
        raise Invalid(f"R_A(x) = R_B(x) = {fmt(F, ra)} at x = {fmt_point(F, x)}")
    return f"R_A(x) = {fmt(F, ra)} != R_B(x) = {fmt(F, rb)} at x = {fmt_point(F, x)} in the open box {P.box}"


def lines(F, nets, lo, hi):
    """(w, b) of the neurons of ``nets`` where h may have a kink in the open box: a != 0, w != 0
    and the line meets the open box (every other neuron is affine on the closed box)."""
    return [(w, b) for R in nets for w, b, a in zip(R.W, R.b, R.a)
            if F.sign(a) != 0 and any(F.sign(t) for t in w) and visible(F, w, b, lo, hi)]


def cut(F, values, lo, hi):
    """lo, hi and the ``values`` strictly between them, sorted and distinct."""
    inside = [(t,) for t in values if F.cmp(lo, t) < 0 and F.cmp(t, hi) < 0]
    return [t for t, in distinct(F, [(lo,), (hi,)] + inside)]


def midpoints(F, ts):
    return [F.div(F.add(s, t), F.const(2)) for s, t in zip(ts, ts[1:])]


def arrangement(P):
    """(vertices, cell points, number of lines) of the arrangement of both nets' lines and the
    box faces, in the closed box (d = 1 or 2); see the module docstring."""
    F, lo, hi, limits = P.F, P.lo, P.hi, P.limits
    net_lines = lines(F, (P.A, P.B), lo, hi)
    if P.d == 1:
        limits.check("vertices", len(net_lines) + 2, "breakpoints of the two nets in the box")
        ts = cut(F, [F.neg(F.div(b, w[0])) for w, b in net_lines], lo, hi)
        return [(t,) for t in ts], [(t,) for t in midpoints(F, ts)], len(net_lines)
    one, zero = F.const(1), F.const(0)
    edges = [((one, zero), F.neg(lo)), ((one, zero), F.neg(hi)), ((zero, one), F.neg(lo)), ((zero, one), F.neg(hi))]
    every = net_lines + edges
    limits.check("vertices", len(every) * (len(every) - 1) // 2,
                 "candidate vertices (pairs of lines, box edges included) of the line arrangement")
    found = []
    for (p, bp), (q, bq) in combinations(every, 2):
        det = F.sub(F.mul(p[0], q[1]), F.mul(p[1], q[0]))
        if F.sign(det) == 0:
            continue
        x = (F.div(F.sub(F.mul(p[1], bq), F.mul(bp, q[1])), det),
             F.div(F.sub(F.mul(bp, q[0]), F.mul(p[0], bq)), det))
        if all(F.cmp(lo, t) <= 0 and F.cmp(t, hi) <= 0 for t in x):
            found.append(x)
    vertices = distinct(F, found)
    xs = [t for t, in distinct(F, [(v[0],) for v in vertices])]
    cells = []
    for s in midpoints(F, xs):
        ys = cut(F, [F.neg(F.div(F.add(F.mul(w[0], s), b), w[1])) for w, b in net_lines if F.sign(w[1])], lo, hi)
        cells += [(s, y) for y in midpoints(F, ys)]
    return vertices, cells, len(net_lines)


def distances(P):
    """The exact distances of R_A and R_B on the box of ``P`` (d <= 2), as a namespace: ``sup``
    (max |h| over the closed box) at the vertex ``sup_at``; ``steep`` (max_j ess sup |∂_j h|) at
    the cell point ``steep_at`` and ``coordinate`` j; ``w1`` = max(sup, steep); ``vertices``,
    ``cells`` and the number of net ``lines`` enumerated (there is always at least one cell)."""
    F = P.F
    vertices, cells, n_lines = arrangement(P)
    P.budget(len(vertices), "values of h at the vertices")
    i, sup = largest(F, [absolute(F, P.h(x)) for x in vertices])
    P.budget(len(cells), "gradients of h on the cells")
    slopes = [absolute(F, g) for x in cells for g in P.grad(x)]
    k, steep = largest(F, slopes)
    return SimpleNamespace(sup=sup, sup_at=vertices[i], steep=steep, steep_at=cells[k // P.d], coordinate=k % P.d,
                           w1=sup if F.cmp(sup, steep) >= 0 else steep, vertices=vertices, cells=cells,
                           lines=n_lines)


def realization_distance(cert, limits):
    """``realization_distance``: the stated sup and w1inf are the exact distances, attained at the
    stated points."""
    P = Pair(cert, limits)
    F, w = P.F, P.witness
    if P.d > 2:
        raise Invalid(f"not checkable: realization_distance is decided for input dimension d <= 2 only (d = {P.d})")
    sup_stated, w1_stated = P.N.num(w["sup"], "witness.sup"), P.N.num(w["w1inf"], "witness.w1inf")
    sup_point = P.point("sup_point", closed=True)
    j = w["w1inf_coordinate"]
    if j is not None and (not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < P.d):
        raise Invalid(f"witness.w1inf_coordinate: must be null or a coordinate 0..{P.d - 1}")
    w1_point = P.point("w1inf_point", closed=j is None)

    D = distances(P)
    sup, steep, w1, vertices, cells = D.sup, D.steep, D.w1, D.vertices, D.cells
    where = (f"checked at {len(vertices)} vertices and {len(cells)} cells of the arrangement of {D.lines} "
             f"visible line{'s' * (D.lines != 1)} of the nets in {P.box}")
    if F.cmp(sup_stated, sup):
        raise Invalid(f"witness.sup: stated {fmt(F, sup_stated)}, but max |R_A - R_B| over the closed box is "
                      f"{fmt(F, sup)} (at x = {fmt_point(F, D.sup_at)}; {where})")
    at = absolute(F, P.h(sup_point))
    if F.cmp(at, sup):
        raise Invalid(f"witness.sup_point: |R_A - R_B| = {fmt(F, at)} at {fmt_point(F, sup_point)}, "
                      f"not the sup {fmt(F, sup)}")
    if F.cmp(w1_stated, w1):
        best = f"|∂_{D.coordinate} h| = {fmt(F, steep)} at x = {fmt_point(F, D.steep_at)}"
        raise Invalid(f"witness.w1inf: stated {fmt(F, w1_stated)}, but max(sup, ess sup |∂_j h|) is "
                      f"{fmt(F, w1)} (sup {fmt(F, sup)}, {best}; {where})")
    if j is None:
        if F.cmp(steep, sup) > 0:
            raise Invalid(f"witness.w1inf_coordinate: null says w1inf is the sup, but ess sup |∂_j h| = "
                          f"{fmt(F, steep)} > sup {fmt(F, sup)}")
        at = absolute(F, P.h(w1_point))
        if F.cmp(at, w1):
            raise Invalid(f"witness.w1inf_point: |R_A - R_B| = {fmt(F, at)} at {fmt_point(F, w1_point)}, "
                          f"not w1inf = {fmt(F, w1)}")
        attained = f"the sup, at {fmt_point(F, w1_point)}"
    else:
        for name, R in (("R_A", P.A), ("R_B", P.B)):
            u = on_line(F, R, w1_point)
            if u is not None:
                raise Invalid(f"witness.w1inf_point: {fmt_point(F, w1_point)} lies on the line of neuron {u} "
                              f"of {name} (not inside a cell)")
        at = absolute(F, P.grad(w1_point)[j])
        if F.cmp(at, w1):
            raise Invalid(f"witness.w1inf_point: |∂_{j} h| = {fmt(F, at)} at {fmt_point(F, w1_point)}, "
                          f"not w1inf = {fmt(F, w1)}")
        attained = f"|∂_{j} h| at {fmt_point(F, w1_point)}"
    return (f"exact distances of R_A and R_B on {P.box}: sup |h| = {fmt(F, sup)} attained at "
            f"{fmt_point(F, sup_point)}, W^(1,inf) norm {fmt(F, w1)} attained as {attained} ({where})")


CLAIMS = {"same_realization": same_realization, "different_realization": different_realization,
          "realization_distance": realization_distance}
