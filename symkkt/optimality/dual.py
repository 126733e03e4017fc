"""The dual bound S(λ) of two-layer nets, exactly, over the cones of the data's hyperplane arrangement.

For a two-layer net Φ(θ; x) = Σ_j v_j σ(w_j·x) without biases and a positively 1-homogeneous,
piecewise linear σ (σ(z) = z for z >= 0, s·z for z < 0: linear, ReLU, leaky ReLU), and multipliers
λ >= 0, the *dual function* is F(w) = Σ_k λ_k y_k σ(w·x_k) and

    S(λ) = sup_{‖w‖ <= 1} |F(w)|.

For every feasible θ', Σ_k λ_k <= Σ_k λ_k y_k Φ(θ'; x_k) = Σ_j v_j ‖w_j‖ F(w_j/‖w_j‖)
<= S(λ) Σ_j |v_j| ‖w_j‖ <= S(λ)·½‖θ'‖² (the last step is 2|v|‖w‖ <= v² + ‖w‖²). So a feasible θ with
(½‖θ‖²)·S(λ) <= Σ_k λ_k is a global optimum of P_Φ; at a KKT point ½‖θ‖² = Σ_k λ_k (Euler), and the
test is S(λ) <= 1.

How S(λ) is computed (exactly, in the number field of the data and λ):

1. the *cells* of the central arrangement of the hyperplanes {w : w·x_k = 0}: one interior point per
   cell (every x_k·w != 0 for x_k != 0), built by deletion–restriction. Adding a hyperplane H splits
   exactly the cells met by H, and those correspond one to one to the cells of the arrangement
   restricted to H (one dimension lower, by recursion); a restricted cell's point u gives the two
   halves u ± ε·x_k with an exact ε small enough to keep every other sign. :func:`count_cells`
   counts the cells by the same recursion (r(A) = r(A − H) + r(A restricted to H)) without building
   them, to stop before a large enumeration (the ``vertices`` limit of :mod:`symkkt.limits`);
2. on the closed cone C of a cell (sign pattern s_k = sign(w·x_k)), F(w) = c·w with
   c = Σ_k λ_k y_k σ'(s_k) x_k, so sup_{C ∩ ball} F = ‖Π_C(c)‖ and sup_{C ∩ ball} (−F) = ‖Π_C(−c)‖;
3. the projection onto C = {w : g_k·w >= 0}, g_k = s_k x_k, is p = c + Σ_{k∈A} μ_k g_k on an
   *active set* A of independent rows with g_k·p = 0 on A (a Gram system), and it is the projection
   exactly when μ >= 0 and p ∈ C (the KKT conditions of the convex projection problem). A float
   non-negative least-squares solve proposes A; if its exact check fails, the active sets of at
   most d independent rows are tried in order of size. The value ‖p‖² is exact;
4. S(λ)² is the largest ‖p‖² over all cells and both signs: an element of the field, compared
   with 1 exactly (S is a square root; no root is taken).

What it trusts: exact field arithmetic (:mod:`symkkt.field`); floats only propose active sets.

Examples
--------
The public zero-unit instance: x = (1, 2), (1, −2), y = (1, 1), ReLU, λ = (1/2, 1/2)
(F(x₁/√5) = √5/2, so S² = 5/4); and λ = (5^(−1/2), 5^(−1/2)) gives S = 1:

>>> import sympy
>>> from symkkt.field import NumberField
>>> K = NumberField(sympy.sqrt(5))
>>> X, y = [[1, 2], [1, -2]], [1, 1]
>>> dual_bound(K, X, y, [sympy.Rational(1, 2)] * 2, 1, 0).s2
5/4
>>> b = dual_bound(K, X, y, [1 / sympy.sqrt(5)] * 2, 1, 0)
>>> b.s2, len(b.cells)
(1, 4)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from symkkt.linear import gauss_jordan, rank_profile


class TooManyCells(Exception):
    """The arrangement has more cells than the limit allows (the message says how many)."""


# -- small exact linear algebra over field elements --------------------------------------------
def dot(a, b, zero):
    s = zero
    for u, v in zip(a, b):
        if not (u.is_zero() or v.is_zero()):
            s = s + u * v
    return s


def _parallel(a, b):
    """Whether the non-zero vectors a, b are parallel (every 2×2 minor vanishes)."""
    i = next(i for i, v in enumerate(a) if not v.is_zero())
    return all((a[i] * b[j] - a[j] * b[i]).is_zero() for j in range(len(a)))


def distinct_hyperplanes(normals):
    """The non-zero normals, one per hyperplane (parallel normals give the same hyperplane)."""
    out = []
    for a in normals:
        if all(v.is_zero() for v in a):
            continue
        if not any(_parallel(a, b) for b in out):
            out.append(a)
    return out


def _restrict(a, h, i):
    """The normal, in coordinates of H = h^⊥ (coordinate i eliminated), of the trace of a^⊥ on H."""
    r = a[i] / h[i]
    return [a[l] - r * h[l] for l in range(len(a)) if l != i]


def _lift(u, h, i, zero):
    """The point of H = h^⊥ with coordinates u (coordinate i solved for)."""
    w = list(u[:i]) + [zero] + list(u[i:])
    w[i] = -dot([h[l] for l in range(len(h)) if l != i], u, zero) / h[i]
    return w


def count_cells(normals, dim, zero, cap=None):
    """Number of cells (open full-dimensional regions) of the central arrangement {w·a = 0 : a in normals}.

    Deletion–restriction: r(A) = r(A − H) + r(A^H); an empty arrangement has 1 cell, a line cut at
    the origin 2. Raises :class:`TooManyCells` as soon as the count exceeds ``cap``.

    Examples
    --------
    >>> from symkkt.field import NumberField
    >>> import sympy
    >>> K = NumberField(sympy.Integer(1))
    >>> e = lambda v: [K.element(t) for t in v]
    >>> count_cells([e([1, 0, 0]), e([0, 1, 0]), e([0, 0, 1])], 3, K.element(0))   # the octants
    8
    >>> count_cells([e([1, 2]), e([2, 4]), e([1, -2])], 2, K.element(0))           # two lines
    4
    """
    total = [0]

    def rec(hyper, d):
        hyper = distinct_hyperplanes(hyper)
        if not hyper or d == 1:
            total[0] += 1 if not hyper else 2
            if cap is not None and total[0] > cap:
                raise TooManyCells(f"the arrangement of the data's hyperplanes has more than {cap} cells")
            return
        h, rest = hyper[-1], hyper[:-1]
        i = next(i for i, v in enumerate(h) if not v.is_zero())
        rec(rest, d)
        rec([_restrict(a, h, i) for a in rest], d - 1)

    rec(list(normals), dim)
    return total[0]


def cell_points(normals, dim, zero, one):
    """One interior point per cell of the central arrangement {w·a = 0 : a in normals} in R^dim.

    Every returned w has a·w != 0 for every non-zero normal a, and no two lie in the same cell.

    Examples
    --------
    >>> from symkkt.field import NumberField
    >>> import sympy
    >>> K = NumberField(sympy.Integer(1))
    >>> e = lambda v: [K.element(t) for t in v]
    >>> pts = cell_points([e([1, 0]), e([1, 1])], 2, K.element(0), K.element(1))
    >>> sorted((w[0].sign(), (w[0] + w[1]).sign()) for w in pts)
    [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    """
    hyper = distinct_hyperplanes(normals)
    if dim == 1:
        return [[one], [-one]] if hyper else [[one]]
    cells = {(): [one] + [zero] * (dim - 1)}         # pattern over the hyperplanes so far -> point
    for k, h in enumerate(hyper):
        i = next(i for i, v in enumerate(h) if not v.is_zero())
        prev = hyper[:k]
        split = cell_points([_restrict(a, h, i) for a in prev], dim - 1, zero, one) if prev else [[zero] * (dim - 1)]
        new = {}
        for u_r in split:
            u = _lift(u_r, h, i, zero)
            key = tuple((dot(a, u, zero)).sign() for a in prev)
            eps = one
            for a in prev:
                ah = dot(a, h, zero)
                if not ah.is_zero():
                    bound = dot(a, u, zero) / ah
                    bound = bound if bound.sign() > 0 else -bound
                    if bound / 2 < eps:
                        eps = bound / 2
            del cells[key]
            new[key + (1,)] = [ui + eps * hi for ui, hi in zip(u, h)]
            new[key + (-1,)] = [ui - eps * hi for ui, hi in zip(u, h)]
        for key, w in cells.items():
            s = dot(h, w, zero).sign()
            if s == 0:       # pragma: no cover - an unsplit cell cannot meet H
                raise RuntimeError("internal error: arrangement cell point on a hyperplane")
            new[key + (s,)] = w
        cells = new
    return list(cells.values())


_ARRANGEMENTS = {}


def arrangement(K, X, cap=None):
    """Interior points (field elements of K) of the cells of the data's arrangement {w·x_k = 0},
    cached per field and data; :class:`TooManyCells` past ``cap`` cells (counted first)."""
    key = (K.poly_coeffs, K.interval, tuple(tuple(str(v) for v in x) for x in X))
    if key not in _ARRANGEMENTS:
        zero, one = K.element(0), K.element(1)
        Xe = [[K.element(v) for v in x] for x in X]
        dim = len(Xe[0]) if Xe else 1
        count = count_cells(Xe, dim, zero, cap)          # stops early past the cap
        if len(_ARRANGEMENTS) > 16:
            _ARRANGEMENTS.clear()
        _ARRANGEMENTS[key] = (count, cell_points(Xe, dim, zero, one))
    count, points = _ARRANGEMENTS[key]
    if cap is not None and count > cap:
        raise TooManyCells(f"the arrangement of the data's hyperplanes has more than {cap} cells")
    return points


# -- projection onto a polyhedral cone -------------------------------------------------------------
def _nnls(A, b, iters=200):
    """Lawson–Hanson non-negative least squares in floats: argmin_{x >= 0} ‖A x − b‖ (a proposal only)."""
    m, n = A.shape
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    tol = 1e-12 * max(1.0, np.abs(A).max()) * max(1.0, np.abs(b).max())
    for _ in range(iters):
        g = A.T @ (b - A @ x)
        cand = np.where(~passive & (g > tol))[0]
        if cand.size == 0:
            break
        passive[cand[np.argmax(g[cand])]] = True
        while True:
            z = np.zeros(n)
            idx = np.where(passive)[0]
            z[idx] = np.linalg.lstsq(A[:, idx], b, rcond=None)[0]
            if (z[idx] > tol).all():
                x = z
                break
            bad = idx[z[idx] <= tol]
            alpha = np.min(x[bad] / np.maximum(x[bad] - z[bad], 1e-300))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
    return x


@dataclass
class Projection:
    """Π_C(c) = p = c + Σ_{k in face} μ_k g_k, exact; ``value`` = ‖p‖²."""

    face: list
    mu: list
    p: list
    value: object


def _solve(M, rhs, zero, one):
    """Solve the square system M x = rhs exactly (M invertible)."""
    n = len(M)
    H = gauss_jordan([list(M[i]) + [rhs[i]] for i in range(n)], n, one)
    return [H[i][n] for i in range(n)]


def _on_face(c, rows, face, zero, one):
    """The projection of c onto {w : g_k·w = 0, k in face} and its multipliers (rows independent)."""
    G = [rows[k] for k in face]
    M = [[dot(a, b, zero) for b in G] for a in G]
    mu = _solve(M, [-dot(a, c, zero) for a in G], zero, one) if G else []
    p = list(c)
    for m, a in zip(mu, G):
        if not m.is_zero():
            p = [u + m * v for u, v in zip(p, a)]
    return mu, p


def _is_projection(rows, mu, p, zero):
    return all(m.sign() >= 0 for m in mu) and all(dot(g, p, zero).sign() >= 0 for g in rows)


def _independent(rows, face, zero, one):
    if not face:
        return []
    R, _ = rank_profile([rows[k] for k in face], zero, one)
    return [face[r] for r in R]


def project(c, rows, zero, one, guess=None):
    """Exact Π_C(c) for C = {w : g·w >= 0 for g in rows} (a :class:`Projection`).

    ``guess``: the float proposal of the active rows (from :func:`_nnls`); tried first.

    Examples
    --------
    >>> from symkkt.field import NumberField
    >>> import sympy
    >>> K = NumberField(sympy.Integer(1))
    >>> e = lambda v: [K.element(t) for t in v]
    >>> pr = project(e([1, -1]), [e([0, 1])], K.element(0), K.element(1))   # onto the half plane w2 >= 0
    >>> [str(v) for v in pr.p], pr.face, str(pr.value)
    (['1', '0'], [0], '1')
    """
    dim = len(c)
    if guess is None:
        guess = _float_face(c, rows)
    tried = set()
    candidates = [_independent(rows, guess, zero, one)] if guess is not None else []
    candidates = itertools.chain(candidates, (list(f) for size in range(0, dim + 1)
                                              for f in itertools.combinations(range(len(rows)), size)))
    for face in candidates:
        key = tuple(sorted(face))
        if key in tried:
            continue
        tried.add(key)
        if len(face) > 1 and len(_independent(rows, face, zero, one)) < len(face):
            continue
        mu, p = _on_face(c, rows, face, zero, one)
        if _is_projection(rows, mu, p, zero):
            return Projection(list(face), mu, p, dot(p, p, zero))
    raise RuntimeError("internal error: no active set gives the projection")  # pragma: no cover


def _float_face(c, rows):
    if not rows:
        return []
    A = np.array([[float(v) for v in g] for g in rows]).T
    b = -np.array([float(v) for v in c])
    mu = _nnls(A, b)
    return [k for k in range(len(rows)) if mu[k] > 1e-10 * max(1.0, np.abs(mu).max())]


# -- S(λ) -----------------------------------------------------------------------------------------------
@dataclass
class Cell:
    """One cell: interior point, sign of w·x_k per point (0 for x_k = 0), the cone's rows, and the
    projections of +c and −c."""

    interior: list
    signs: list
    rows: list
    row_points: list
    c: list
    plus: Projection
    minus: Projection


@dataclass
class DualBound:
    """S(λ)² exactly, with every cell's projections; ``argmax`` = (cell index, +1 or −1)."""

    s2: object
    cells: list = field(default_factory=list)
    argmax: tuple = (0, 1)

    @property
    def maximizer(self):
        """A direction w (the projection p of the best cell, not normalized) with |F(w)| = S‖w‖."""
        cell = self.cells[self.argmax[0]]
        return (cell.plus if self.argmax[1] > 0 else cell.minus).p


def dual_bound(K, X, y, lam, plus, minus, cap=None):
    """S(λ)² for the data (X, y), multipliers λ and the slopes σ' = ``plus`` on z > 0, ``minus`` on z < 0.

    Parameters
    ----------
    K : symkkt.field.NumberField
        A field containing the data, λ and the slopes.
    X : list of list
        Data points (sympy numbers or ints).
    y : list of int
        Labels ±1.
    lam : list
        Multipliers λ_k >= 0 (sympy numbers).
    plus, minus : number
        The activation's slopes (ReLU: 1 and 0; leaky ReLU: 1 and s; linear: 1 and 1).
    cap : int, optional
        Refuse (:class:`TooManyCells`) an arrangement with more cells.

    Returns
    -------
    DualBound
    """
    zero, one = K.element(0), K.element(1)
    Xe = [[K.element(v) for v in x] for x in X]
    lam = [K.element(v) for v in lam]
    plus, minus = K.element(plus), K.element(minus)
    dim = len(Xe[0]) if Xe else 1
    points = arrangement(K, X, cap)
    best, argmax, cells = None, (0, 1), []
    for w in points:
        signs = [dot(x, w, zero).sign() for x in Xe]
        rows = [x if s > 0 else [-v for v in x] for x, s in zip(Xe, signs) if s != 0]
        row_points = [k for k, s in enumerate(signs) if s != 0]
        c = [zero] * dim
        for k, (x, s) in enumerate(zip(Xe, signs)):
            if s == 0 or lam[k].is_zero():
                continue
            coef = lam[k] * (plus if s > 0 else minus) * int(y[k])
            if not coef.is_zero():
                c = [u + coef * v for u, v in zip(c, x)]
        pp = project(c, rows, zero, one)
        pm = project([-v for v in c], rows, zero, one)
        cells.append(Cell(w, signs, rows, row_points, c, pp, pm))
        for sgn, pr in ((1, pp), (-1, pm)):
            if best is None or (pr.value - best).sign() > 0:
                best, argmax = pr.value, (len(cells) - 1, sgn)
    return DualBound(best if best is not None else zero, cells, argmax)
