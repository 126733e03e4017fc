"""Exact distances ‖R_A − R_B‖_{L^∞(Ω)} and ‖R_A − R_B‖_{W^{1,∞}(Ω)} of shallow ReLU realizations.

h = R_A − R_B is, on Ω = (lo, hi)^d, the canonical form Σ_H μ_H relu(n_H·x + β_H) + v·x + c
(:mod:`.canonical`; hyperplanes with μ_H = 0 are not kinks of h and are dropped). Then:

- h is affine on every cell of the arrangement of its hyperplanes and the box faces, so |h|, a
  convex function on each closed cell, attains its maximum over the closed box at a vertex of
  the arrangement: ``sup`` is the largest |h| over the vertices (in 1-D: the kinks and the two
  endpoints, swept left to right in O(m log m)).
- ∇h is constant on each open cell and undefined only on the hyperplanes (a null set), so the
  essential sup of |∂_j h| is the largest |∂_j h| over one interior point per cell. Cells are
  found by slabs: the x_1-coordinates of all vertices cut the box into slabs; every cell meets
  the middle hyperplane x_1 = m of some slab in a cell of the (d−1)-dimensional restricted
  arrangement (recursively; on the last coordinate the gradient is swept along the line).
  A derivative is never evaluated on a kink.
- ``w1inf = max(sup, max_j ess sup |∂_j h|)``.

When the number of vertices would pass a limit (or d is large), :func:`distance` returns
rigorous bounds instead: a lower bound from exact values at points found by a search, and an
upper bound from exact interval arithmetic on sub-boxes (branch and bound), labelled as bounds.

What this module trusts: the exact arithmetic of the domain and :mod:`.canonical`.

Examples
--------
>>> from symkkt.realize.net import ShallowNet
>>> f = ShallowNet.of([[1]], [0], [1], 0)              # relu(x)
>>> g = ShallowNet.of([[1]], ["-1/2"], [1], 0)         # relu(x - 1/2)
>>> D = distance(f, g)                                 # h = 1/2 on [1/2, 1), slope 1 on (0, 1/2)
>>> D.sup, D.sup_point, D.w1inf, D.w1inf_point, D.w1inf_coordinate
(1/2, (1/2,), 1, (1/4,), 0)
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field

from .canonical import canonical_form, check_box
from .net import fmt, unify

__all__ = ["Distance", "distance", "form_distance", "MAX_VERTICES", "estimate_vertices"]

#: default limit on the number of candidate vertices (d-subsets) of an exact enumeration
MAX_VERTICES = 2_000_000


def _abs(x):
    return x if x >= 0 else -x


@dataclass
class Distance:
    """Exact distances (or rigorous bounds) between two realizations on (lo, hi)^d.

    Attributes
    ----------
    exact : bool
        True: ``sup`` and ``w1inf`` are exact values; False: only the bounds are known.
    sup, w1inf : domain element or None
        ‖h‖_{L^∞(Ω)} and max(‖h‖_∞, max_j ess sup |∂_j h|) (exact case).
    sup_point : tuple
        A point of the closed box where |h| = sup (exact case) or the best found (bounds).
    w1inf_point, w1inf_coordinate :
        An interior point of a cell where |∂_j h| = w1inf with j = ``w1inf_coordinate``; when
        w1inf = sup the coordinate is None and the point is ``sup_point``.
    grad_sup : domain element
        max_j ess sup |∂_j h| (exact case).
    sup_bounds, w1inf_bounds : (lower, upper)
        Equal to (value, value) when exact.
    method : str
        ``"1-D sweep"``, ``"vertex and cell enumeration"``, ``"regions"`` or ``"branch and bound"``.
    vertices, cells : int
        Sizes of the enumeration (cells: interior points visited, each cell at least once).
    cell : object
        The cell of the gradient maximizer: in 1-D its interval, else the signs of the
        hyperplanes of h there.
    """

    d: int
    lo: object
    hi: object
    exact: bool
    method: str
    sup: object = None
    sup_point: tuple = None
    w1inf: object = None
    w1inf_point: tuple = None
    w1inf_coordinate: int = None
    grad_sup: object = None
    grad_point: tuple = None
    grad_coordinate: int = None
    sup_bounds: tuple = None
    w1inf_bounds: tuple = None
    vertices: int = 0
    cells: int = 0
    cell: object = None
    hyperplanes: int = 0
    note: str = ""
    extra: dict = field(default_factory=dict)

    def finish(self):
        """Fill w1inf and the bounds from sup and the gradient maximum (exact case)."""
        if self.exact:
            if self.grad_sup > self.sup:
                self.w1inf, self.w1inf_point, self.w1inf_coordinate = self.grad_sup, self.grad_point, self.grad_coordinate
            else:
                self.w1inf, self.w1inf_point, self.w1inf_coordinate = self.sup, self.sup_point, None
            self.sup_bounds = (self.sup, self.sup)
            self.w1inf_bounds = (self.w1inf, self.w1inf)
        return self

    def to_json(self):
        """Exact strings; ``exact`` says whether values or only bounds are given."""
        pt = (lambda p: None if p is None else [fmt(x) for x in p])
        out = {"exact": self.exact, "method": self.method, "domain": [fmt(self.lo), fmt(self.hi)], "d": self.d}
        if self.exact:
            out.update({"sup": fmt(self.sup), "sup_point": pt(self.sup_point), "w1inf": fmt(self.w1inf),
                        "w1inf_point": pt(self.w1inf_point), "w1inf_coordinate": self.w1inf_coordinate,
                        "gradient_sup": fmt(self.grad_sup), "gradient_point": pt(self.grad_point),
                        "gradient_coordinate": self.grad_coordinate})
            if self.cell is not None:
                out["cell"] = [fmt(x) for x in self.cell] if isinstance(self.cell, tuple) else self.cell
        else:
            out.update({"sup": {"lower": fmt(self.sup_bounds[0]), "upper": fmt(self.sup_bounds[1])},
                        "w1inf": {"lower": fmt(self.w1inf_bounds[0]), "upper": fmt(self.w1inf_bounds[1])},
                        "sup_point": pt(self.sup_point)})
        out.update({"vertices": self.vertices, "cells": self.cells, "hyperplanes": self.hyperplanes})
        if self.note:
            out["note"] = self.note
        return out

    def __repr__(self):
        pt = (lambda p: "(" + ", ".join(fmt(x) for x in p) + ")")
        if self.exact:
            j = "" if self.w1inf_coordinate is None else f", |d{self.w1inf_coordinate + 1} h|"
            return (f"sup |R_A - R_B| = {fmt(self.sup)} at {pt(self.sup_point)}; W^1,inf distance = {fmt(self.w1inf)}"
                    f" at {pt(self.w1inf_point)}{j} (exact, {self.method}: {self.vertices} vertices, "
                    f"{self.cells} cells)")
        (sl, su), (wl, wu) = self.sup_bounds, self.w1inf_bounds
        return (f"sup |R_A - R_B| in [{fmt(sl)}, {fmt(su)}]; W^1,inf distance in [{fmt(wl)}, {fmt(wu)}] "
                f"(rigorous bounds, {self.method}{'; ' + self.note if self.note else ''})")


# -- the difference form ---------------------------------------------------------------------
def _planes(form, keys=()):
    """(n, β, μ) of the kinks of h, and of the further hyperplanes ``keys`` (μ possibly 0)."""
    zero = form.lo * 0
    allk = set(form.hyperplanes) | set(keys)
    return [(n, beta, form.hyperplanes.get((n, beta), zero)) for n, beta in sorted(allk)]


def net_lines(net, form):
    """The hyperplanes of the visible neurons of ``net`` with a_i ≠ 0 (its possible kinks)."""
    return [key for key, idx in form.members.items() if any(net.a[i] != 0 for i in idx)]


def estimate_vertices(n_planes, d):
    """The number of d-subsets of hyperplanes and box faces an enumeration solves."""
    return math.comb(n_planes + 2 * d, d)


def distance(net_a, net_b, lo=-1, hi=1, max_vertices=MAX_VERTICES, max_dim=3, budget=2000):
    """‖R_A − R_B‖_{L^∞} and the W^{1,∞} distance on (lo, hi)^d, exactly when enumeration is feasible.

    Parameters
    ----------
    net_a, net_b : ShallowNet
        The same input dimension (widths may differ).
    lo, hi : exact numbers
    max_vertices : int
        Give bounds instead when the enumeration would solve more d-subsets than this.
    max_dim : int
        Give bounds instead for d > max_dim.
    budget : int
        Sub-boxes of the branch and bound (bounds only).

    Returns
    -------
    Distance

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> f = ShallowNet.of([[1, 1]], [0], [1], 0)                 # relu(x1 + x2)
    >>> g = ShallowNet.of([[1, 0], [0, 1]], [0, 0], [1, 1], 0)   # relu(x1) + relu(x2)
    >>> D = distance(f, g)     # h = relu(x1 + x2) - relu(x1) - relu(x2): h(-1, 1) = -1, slopes 0 or ±1
    >>> D.sup, D.w1inf, D.exact
    (1, 1, True)
    """
    (net_a, net_b), (lo, hi) = unify([net_a, net_b], [lo, hi])
    check_box(lo, hi)
    if net_a.d != net_b.d:
        raise ValueError(f"the networks have input dimensions {net_a.d} and {net_b.d}")
    fa, fb = canonical_form(net_a, lo, hi), canonical_form(net_b, lo, hi)
    return form_distance(fa - fb, max_vertices, max_dim, budget, net_lines(net_a, fa) + net_lines(net_b, fb))


def form_distance(form, max_vertices=MAX_VERTICES, max_dim=3, budget=2000, lines=()):
    """The distances of :func:`distance` for the canonical form ``form`` of h = R_A − R_B.

    ``lines`` are further hyperplanes (n, β) that the cells must avoid (the lines of both nets,
    also where their jumps cancel in h): the gradient maximizer is then on no line of either net.
    """
    d, lo, hi = form.d, form.lo, form.hi
    planes = _planes(form, lines)
    if d == 1:
        return _sweep_1d(form, planes)
    count = estimate_vertices(len(planes), d)
    if d > max_dim or count > max_vertices:
        why = (f"d = {d} is above the exact limit {max_dim}" if d > max_dim else
               f"{count} vertex candidates exceed the limit {max_vertices}")
        return _bounds(form, planes, budget, note=why)
    return _enumerate(form, planes)


# -- 1-D ------------------------------------------------------------------------------------------
def _sweep_1d(form, planes):
    lo, hi = form.lo, form.hi
    # n = (1,): the kink of relu(x + beta) is at t = -beta, strictly inside (lo, hi)
    kinks = sorted((-beta, mu) for (n, beta, mu) in planes)
    slope = form.v[0]
    x, val = lo, form((lo,))
    best, best_x = _abs(val), lo
    gbest, gpoint, gcell = None, None, None
    for t, mu in kinks + [(hi, None)]:
        val = val + slope * (t - x)
        g = _abs(slope)
        if gbest is None or g > gbest:
            gbest, gpoint, gcell = g, ((x + t) / 2,), (x, t)
        a = _abs(val)
        if a > best:
            best, best_x = a, t
        if mu is not None:
            slope = slope + mu
        x = t
    D = Distance(1, lo, hi, True, "1-D sweep", sup=best, sup_point=(best_x,), grad_sup=gbest, grad_point=gpoint,
                 grad_coordinate=0, vertices=len(kinks) + 2, cells=len(kinks) + 1, cell=gcell, hyperplanes=len(kinks))
    return D.finish()


# -- exact enumeration in d dimensions ---------------------------------------------------------------
def _solve(rows, rhs):
    """The unique solution of rows·x = rhs (Gaussian elimination), or None when singular."""
    n = len(rows)
    A = [list(r) + [b] for r, b in zip(rows, rhs)]
    for col in range(n):
        piv = next((r for r in range(col, n) if A[r][col] != 0), None)
        if piv is None:
            return None
        A[col], A[piv] = A[piv], A[col]
        p = A[col][col]
        for r in range(n):
            if r != col and A[r][col] != 0:
                f = A[r][col] / p
                A[r] = [x - f * y for x, y in zip(A[r], A[col])]
    return tuple(A[i][n] / A[i][i] for i in range(n))


def _vertices(rows, lo, hi, d):
    """Vertices in the closed box of the arrangement of {r·x = s} and the box faces."""
    zero = lo * 0
    one = zero + 1
    faces = []
    for j in range(d):
        e = tuple(one if k == j else zero for k in range(d))
        faces += [(e, lo, j), (e, hi, j)]
    cands = [(r, s, None) for r, s in rows] + faces
    out = set()
    for combo in itertools.combinations(cands, d):
        coords = [c[2] for c in combo if c[2] is not None]
        if len(coords) != len(set(coords)):
            continue
        x = _solve([c[0] for c in combo], [c[1] for c in combo])
        if x is not None and all(lo <= xj <= hi for xj in x):
            out.add(x)
    return out


def _restricted_rows(rows, m):
    """Rows r·x = s on the hyperplane x_1 = m, in the coordinates x_2..x_d."""
    return [(r[1:], s - r[0] * m) for r, s in rows if any(x != 0 for x in r[1:])]


def _cell_points(rows, lo, hi, d):
    """Prefixes (x_1..x_{d-1}) of slab midpoints; the last coordinate is swept by the caller."""
    if d == 1:
        return [()]
    xs = sorted({v[0] for v in _vertices(rows, lo, hi, d)})
    out = []
    for t0, t1 in zip(xs, xs[1:]):
        m = (t0 + t1) / 2
        for rest in _cell_points(_restricted_rows(rows, m), lo, hi, d - 1):
            out.append((m,) + rest)
    return out


def _sweep_line(form, planes, prefix, lo, hi, best):
    """Along the line x = (prefix, t), lo < t < hi: the gradient on each open interval; updates ``best``."""
    v = form.v
    d = len(v)
    zero = lo * 0
    events = []
    grad = list(v)
    active = []
    for k, (n, beta, mu) in enumerate(planes):
        rest = beta + sum((nj * pj for nj, pj in zip(n, prefix)), zero)
        nd = n[-1]
        if nd == 0:
            on = rest > 0
        else:
            t = -rest / nd
            on = (nd > 0 and t <= lo) or (nd < 0 and t > lo)
            if lo < t < hi:
                events.append((t, k))
        if on:
            grad = [g + mu * nj for g, nj in zip(grad, n)]
        active.append(on)
    events.sort()
    x = lo
    cells = 0
    i = 0
    events.append((hi, None))
    while i < len(events):
        t = events[i][0]
        if t > x:
            cells += 1
            for j, g in enumerate(grad):
                a = _abs(g)
                if best[0] is None or a > best[0]:
                    best[:] = [a, prefix + ((x + t) / 2,), j, tuple(active)]
        while i < len(events) and events[i][0] == t:
            k = events[i][1]
            if k is not None:
                n, beta, mu = planes[k]
                active[k] = not active[k]
                turn_on = active[k]
                grad = [g + (mu * nj if turn_on else -(mu * nj)) for g, nj in zip(grad, n)]
            i += 1
        x = t
    return cells


def _enumerate(form, planes):
    lo, hi, d = form.lo, form.hi, form.d
    rows = [(n, -beta) for n, beta, _ in planes]
    verts = _vertices(rows, lo, hi, d)
    best, best_x = None, None
    for x in sorted(verts):
        a = _abs(form(x))
        if best is None or a > best:
            best, best_x = a, x
    gbest = [None, None, None, None]
    cells = 0
    for prefix in _cell_points(rows, lo, hi, d):
        cells += _sweep_line(form, planes, prefix, lo, hi, gbest)
    signs = "".join("+" if s else "-" for s in gbest[3]) if gbest[3] is not None else ""
    D = Distance(d, lo, hi, True, "vertex and cell enumeration", sup=best, sup_point=best_x, grad_sup=gbest[0],
                 grad_point=gbest[1], grad_coordinate=gbest[2], vertices=len(verts), cells=cells,
                 cell=signs or None, hyperplanes=len(planes))
    return D.finish()


# -- rigorous bounds by branch and bound ------------------------------------------------------------
def _box_bounds(form, planes, box):
    """Exact enclosures on the closed sub-box ``box`` = [(a_j, b_j)]: (|h| upper, max_j |∂_j h| upper)."""
    zero = box[0][0] * 0
    hl = hu = form.c
    for vj, (a, b) in zip(form.v, box):
        p, q = vj * a, vj * b
        hl, hu = hl + (p if p < q else q), hu + (q if p < q else p)
    glo = list(form.v)
    ghi = list(form.v)
    for n, beta, mu in planes:
        zl = zu = beta
        for nj, (a, b) in zip(n, box):
            p, q = nj * a, nj * b
            zl, zu = zl + (p if p < q else q), zu + (q if p < q else p)
        rl, ru = (zl if zl > 0 else zero), (zu if zu > 0 else zero)
        p, q = mu * rl, mu * ru
        hl, hu = hl + (p if p < q else q), hu + (q if p < q else p)
        if zl >= 0:      # active on the whole box
            glo = [g + mu * nj for g, nj in zip(glo, n)]
            ghi = [g + mu * nj for g, nj in zip(ghi, n)]
        elif zu > 0:     # straddling: the term is 0 or mu n_j
            for j, nj in enumerate(n):
                s = mu * nj
                if s < 0:
                    glo[j] = glo[j] + s
                else:
                    ghi[j] = ghi[j] + s
    hmax = max(_abs(hl), _abs(hu))
    gmax = max(max(_abs(a), _abs(b)) for a, b in zip(glo, ghi))
    return hmax, gmax


def _bounds(form, planes, budget, note=""):
    """Rigorous lower and upper bounds on sup and w1inf by branch and bound on sub-boxes."""
    lo, hi, d = form.lo, form.hi, form.d
    root = tuple((lo, hi) for _ in range(d))
    best_sup, best_pt = None, None
    best_grad = None

    def visit(box):
        nonlocal best_sup, best_pt, best_grad
        ctr = tuple((a + b) / 2 for a, b in box)
        for x in [ctr] + [tuple(c) for c in itertools.islice(itertools.product(*box), 0, 2 ** min(d, 6))]:
            val = _abs(form(x))
            if best_sup is None or val > best_sup:
                best_sup, best_pt = val, x
        try:
            g = max(_abs(gj) for gj in form.gradient(ctr))
            if best_grad is None or g > best_grad:
                best_grad = g
        except ValueError:
            pass
        return _box_bounds(form, planes, box)

    hu, gu = visit(root)
    # two queues: boxes by their upper bound on |h| and on the gradient
    heap = [(-float(max(hu, gu)), 0, root, hu, gu)]
    done = []
    count, tick = 1, 1
    while heap and count < budget:
        _, _, box, bh, bg = heapq.heappop(heap)
        lower = max(best_sup, best_grad if best_grad is not None else best_sup)
        if max(bh, bg) <= lower:
            done.append((bh, bg))
            continue
        j = max(range(d), key=lambda k: float(box[k][1] - box[k][0]))
        a, b = box[j]
        m = (a + b) / 2
        for half in ((a, m), (m, b)):
            sub = box[:j] + (half,) + box[j + 1:]
            sh, sg = visit(sub)
            count += 1
            tick += 1
            heapq.heappush(heap, (-float(max(sh, sg)), tick, sub, sh, sg))
    rest = done + [(bh, bg) for _, _, _, bh, bg in heap]
    sup_up = max(bh for bh, _ in rest)
    grad_up = max(bg for _, bg in rest)
    sup_low = best_sup
    w_low = max(best_sup, best_grad) if best_grad is not None else best_sup
    D = Distance(d, lo, hi, False, "branch and bound", sup_point=best_pt, cells=count, hyperplanes=len(planes),
                 sup_bounds=(sup_low, max(sup_up, sup_low)),
                 w1inf_bounds=(w_low, max(sup_up, grad_up, w_low)),
                 note=(note + "; " if note else "") + f"{count} sub-boxes, exact interval arithmetic")
    if D.sup_bounds[0] == D.sup_bounds[1] and D.w1inf_bounds[0] == D.w1inf_bounds[1]:
        D.note += "; the bounds meet"
    return D
