"""Deeper ReLU networks in d ≤ 2: exact same-function test and distances by region enumeration.

A dense ReLU network with biases is affine on each region of its activation patterns. The
regions are built layer by layer: start from the closed box (an interval or a convex polygon)
with the identity map; for each hidden neuron, its pre-activation is affine on every current
region, and the region is cut along the line where it vanishes (exact convex clipping). After
the last hidden layer every region carries the exact affine map x ↦ g·x + c of the output.

For two networks the regions of A are refined further by the layers of B, so that on every
final region h = R_A − R_B is affine: ‖h‖_∞ is the largest |h| over the region vertices, and
the essential sup of |∂_j h| the largest |∂_j h| over regions of positive size (read at the
vertex average, an interior point). The networks realize the same function on the open box
iff h vanishes on every region of positive size. Region counts grow quickly with width and
depth: this is meant for small nets (fibers and pathologies stay one-hidden-layer).

What this module trusts: the exact arithmetic of the domain (:mod:`.net`).

Examples
--------
>>> from symkkt.realize.net import ShallowNet
>>> deep = DeepNet.of([([[1], [-1]], [0, 0]), ([[1, 1]], [0]), ([[1]], [0])])    # relu(relu(x) + relu(-x)) = |x|
>>> shallow = ShallowNet.of([[1], [-1]], [0, 0], [1, 1], 0)
>>> region_same(deep, shallow)
(True, None)
>>> region_distance(deep, ShallowNet.of([[1]], [0], [1], 0)).sup      # |x| - relu(x) = relu(-x)
1
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flint import fmpq

from ..errors import ShapeError, UsageError
from ..field import FieldElement
from .canonical import check_box
from .distance import Distance
from .net import ShallowNet, domain_field, fmt, relu, relu_layers, to_domain, unify

__all__ = ["DeepNet", "as_deep", "load_net", "net_from_json", "regions", "region_distance", "region_same"]

#: largest input dimension of the region enumeration
MAX_DIM = 2


@dataclass(frozen=True)
class DeepNet:
    """A dense ReLU network with biases: ``layers`` = ((W, b), ...), the last of width 1 and linear."""

    layers: tuple
    dim: int
    source: str = field(default="<python>", compare=False, repr=False)

    @property
    def d(self):
        return self.dim

    @property
    def widths(self):
        return tuple(len(b) for _, b in self.layers)

    @property
    def field(self):
        return domain_field(self.numbers())

    def numbers(self):
        return [x for W, b in self.layers for row in W for x in row] + [x for _, b in self.layers for x in b]

    @classmethod
    def of(cls, layers, source="<python>"):
        """From nested exact numbers ``[(W, b), ...]`` (ints, fractions, sympy, strings)."""
        shapes = [(len(W), len(W[0]) if W else 0) for W, _ in layers]
        flat = [x for W, b in layers for row in W for x in row] + [x for _, b in layers for x in b]
        vals = to_domain(flat)
        k = sum(r * c for r, c in shapes)
        out, pos, bpos = [], 0, k
        for r, c in shapes:
            W = tuple(tuple(vals[pos + i * c:pos + (i + 1) * c]) for i in range(r))
            pos += r * c
            b = tuple(vals[bpos:bpos + r])
            bpos += r
            out.append((W, b))
        return cls(tuple(out), shapes[0][1], source)

    def in_field(self, field):
        if field is not None and field.degree == 1:
            field = None
        if (field is None and self.field is None) or (field is not None and self.field == field):
            return self
        flat = self.numbers()
        return DeepNet.of([(W, b) for W, b in self._rebuild(to_domain(flat, field))], self.source)

    def _rebuild(self, vals):
        k = sum(len(W) * len(W[0]) for W, _ in self.layers)
        pos, bpos = 0, k
        for W, b in self.layers:
            r, c = len(W), len(W[0])
            yield [vals[pos + i * c:pos + (i + 1) * c] for i in range(r)], vals[bpos:bpos + r]
            pos += r * c
            bpos += r

    def __call__(self, x):
        x = tuple(x)
        if not all(isinstance(v, (fmpq, FieldElement)) for v in x):
            x = tuple(to_domain(x, self.field))
        h = list(x)
        for k, (W, b) in enumerate(self.layers):
            z = [sum((wj * hj for wj, hj in zip(row, h)), bi * 0) + bi for row, bi in zip(W, b)]
            h = z if k == len(self.layers) - 1 else [relu(v) for v in z]
        return h[0]

    def __repr__(self):
        return f"DeepNet(d={self.d}, widths={list(self.widths)})"


def as_deep(net):
    """A :class:`ShallowNet` as a two-layer :class:`DeepNet` (DeepNet unchanged)."""
    if isinstance(net, DeepNet):
        return net
    if net.m == 0:      # one zero neuron: the same function
        z = net.c * 0
        return DeepNet(((((z,) * net.d,), (z,)), (((z,),), (net.c,))), net.d, net.source)
    return DeepNet(((tuple(net.W), tuple(net.b)), ((tuple(net.a),), (net.c,))), net.d, net.source)


def net_from_json(arch, params, source="<python>"):
    """A :class:`ShallowNet` (one hidden layer) or :class:`DeepNet` from loaded files."""
    layers = relu_layers(arch, params)
    if len(layers) == 2:
        return ShallowNet.from_json(arch, params, source)
    if len(layers) < 2:
        raise ShapeError("a ReLU network needs at least one hidden layer", arch.source, "layers")
    return DeepNet.of(layers, params.source)


def load_net(arch_path, params_path):
    """Read an architecture and a parameter file into a ShallowNet or a DeepNet."""
    from ..spec import load_architecture, load_parameters

    arch = load_architecture(arch_path)
    return net_from_json(arch, load_parameters(params_path, arch), str(params_path))


# -- convex clipping --------------------------------------------------------------------------
def _val(r, s, x):
    return sum((rj * xj for rj, xj in zip(r, x)), s)


def _dedupe(poly):
    out = []
    for p in poly:
        if not out or out[-1] != p:
            out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _split(poly, r, s):
    """(part with r·x + s ≥ 0, part with ≤ 0), each None when of size zero."""
    vals = [_val(r, s, p) for p in poly]
    if all(v >= 0 for v in vals) and any(v > 0 for v in vals):
        return poly, None
    if all(v <= 0 for v in vals):
        return None, poly
    if len(poly[0]) == 1:     # an interval [a, b]
        (a,), (b,) = poly
        t = a + (b - a) * vals[0] / (vals[0] - vals[1])
        lower, upper = [(a,), (t,)], [(t,), (b,)]
        return (upper, lower) if vals[1] > 0 else (lower, upper)
    pos, neg = [], []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        vp, vq = vals[i], vals[(i + 1) % n]
        if vp >= 0:
            pos.append(p)
        if vp <= 0:
            neg.append(p)
        if (vp > 0 and vq < 0) or (vp < 0 and vq > 0):
            t = vp / (vp - vq)
            x = tuple(a + t * (b - a) for a, b in zip(p, q))
            pos.append(x)
            neg.append(x)
    pos, neg = _dedupe(pos), _dedupe(neg)
    return (pos if len(pos) >= 3 else None), (neg if len(neg) >= 3 else None)


def _refine(items, net):
    """Refine ``[(poly, payload)]`` by the layers of ``net``: ``[(poly, payload, (g, c))]``."""
    d = net.d
    zero = net.layers[0][1][0] * 0
    one = zero + 1
    ident = [tuple(one if i == j else zero for j in range(d)) for i in range(d)]
    work = [(poly, pay, ident, [zero] * d) for poly, pay in items]
    for k, (W, b) in enumerate(net.layers):
        last = k == len(net.layers) - 1
        new = []
        for poly, pay, M, o in work:
            pre = [(tuple(sum((wi * M[i][j] for i, wi in enumerate(row)), zero) for j in range(d)),
                    sum((wi * oi for wi, oi in zip(row, o)), zero) + bi) for row, bi in zip(W, b)]
            if last:
                new.append((poly, pay, list(r for r, _ in pre), [s for _, s in pre]))
                continue
            parts = [(poly, [])]
            for r, s in pre:
                nxt = []
                for q, act in parts:
                    p_on, p_off = _split(q, r, s)
                    if p_on is not None:
                        nxt.append((p_on, act + [True]))
                    if p_off is not None:
                        nxt.append((p_off, act + [False]))
                parts = nxt
            for q, act in parts:
                M2 = [r if a else tuple(zero for _ in range(d)) for (r, _), a in zip(pre, act)]
                o2 = [s if a else zero for (_, s), a in zip(pre, act)]
                new.append((q, pay, M2, o2))
        work = new
    return [(poly, pay, (M[0], o[0])) for poly, pay, M, o in work]


def _box(d, lo, hi):
    if d == 1:
        return [(lo,), (hi,)]
    return [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]


def _prepare(net_a, net_b, lo, hi):
    net_a, net_b = as_deep(net_a), as_deep(net_b)
    (net_a, net_b), (lo, hi) = unify([net_a, net_b], [lo, hi])
    check_box(lo, hi)
    if net_a.d != net_b.d:
        raise ShapeError(f"the networks have input dimensions {net_a.d} and {net_b.d}")
    if net_a.d > MAX_DIM:
        raise UsageError(f"deeper networks are handled for d <= {MAX_DIM} only (region enumeration); "
                         f"this one has d = {net_a.d}", "<command line>", "ARCH")
    return net_a, net_b, lo, hi


def regions(net, lo=-1, hi=1):
    """The linear regions of ``net`` on the closed box: ``[(vertices, (g, c))]`` with R = g·x + c there.

    Examples
    --------
    >>> net = DeepNet.of([([[1]], [0]), ([[1]], ["-1/2"]), ([[1]], [0])])     # relu(relu(x) - 1/2)
    >>> [([fmt(p[0]) for p in poly], fmt(g[0]), fmt(c)) for poly, (g, c) in regions(net)]
    [(['-1', '0'], '0', '0'), (['0', '1/2'], '0', '0'), (['1/2', '1'], '1', '-1/2')]
    """
    net = as_deep(net)
    (net,), (lo, hi) = unify([net], [lo, hi])
    check_box(lo, hi)
    return sorted([(poly, gc) for poly, _, gc in _refine([(_box(net.d, lo, hi), None)], net)],
                  key=lambda item: min(item[0]))


def _abs(x):
    return x if x >= 0 else -x


def _pieces(net_a, net_b, lo, hi):
    """Final regions with h = R_A − R_B affine: [(vertices, grad h, const h)]."""
    first = _refine([(_box(net_a.d, lo, hi), None)], net_a)
    second = _refine([(poly, gc) for poly, _, gc in first], net_b)
    return [(poly, tuple(p - q for p, q in zip(ga, gb)), ca - cb) for poly, (ga, ca), (gb, cb) in second]


def _interior(poly):
    k = len(poly)
    return tuple(sum((p[j] for p in poly), poly[0][j] * 0) / k for j in range(len(poly[0])))


def region_distance(net_a, net_b, lo=-1, hi=1):
    """Exact sup and W^{1,∞} distances of two ReLU networks (any depth) on (lo, hi)^d, d ≤ 2."""
    net_a, net_b, lo, hi = _prepare(net_a, net_b, lo, hi)
    pieces = _pieces(net_a, net_b, lo, hi)
    best = gbest = None
    verts = set()
    for poly, g, c in pieces:
        for x in poly:
            verts.add(x)
            a = _abs(_val(g, c, x))
            if best is None or a > best:
                best, bx = a, x
        for j, gj in enumerate(g):
            a = _abs(gj)
            if gbest is None or a > gbest:
                gbest, gx, gj_ = a, _interior(poly), j
    D = Distance(net_a.d, lo, hi, True, "regions", sup=best, sup_point=bx, grad_sup=gbest, grad_point=gx,
                 grad_coordinate=gj_, vertices=len(verts), cells=len(pieces))
    return D.finish()


def region_same(net_a, net_b, lo=-1, hi=1):
    """Whether two ReLU networks (any depth, d ≤ 2) realize the same function on the open box.

    Returns ``(True, None)`` or ``(False, x)`` with x in the open box and R_A(x) ≠ R_B(x).
    """
    net_a, net_b, lo, hi = _prepare(net_a, net_b, lo, hi)
    for poly, g, c in _pieces(net_a, net_b, lo, hi):
        if all(x == 0 for x in g) and c == 0:
            continue
        ctr = _interior(poly)
        for p in [ctr] + [tuple((a + b) / 2 for a, b in zip(ctr, v)) for v in poly]:
            if _val(g, c, p) != 0:
                return False, p
    return True, None
