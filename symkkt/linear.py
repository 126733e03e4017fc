"""Exact feasibility of ``A x = b, x >= 0`` over an arbitrary exact ordered field.

The answer is always certified: either a solution ``x`` or a Farkas vector ``y`` with
``y^T A >= 0`` and ``y^T b < 0``. Both are checked exactly before they are returned.

Elements only need ``+ - * /``, unary ``-`` and exact ``==``; their sign comes from a
caller-supplied ``sign`` function. Entries must be field elements (``Fraction``,
``flint.fmpq``, an algebraic-number class, ...): plain ``int`` entries would make ``/``
produce floats. The work is organised for tall systems (many rows, few columns):

1. an incremental reduced row echelon form of ``[A | b]`` on its ``N + 1`` columns. A row
   that the current particular solution (pivot variables from the right-hand side, free
   ones 0) already satisfies costs ``r`` products and is only re-checked if a later row adds
   a pivot; a violated row is independent (new pivot) or inconsistent (certificate). Once
   one particular solution satisfies every row, the equations are proved consistent;
2. with rank ``N`` the solution is unique; otherwise an exact Phase-I simplex (Bland's
   rule) runs on the ``r <= N`` pivot rows, and a solution violating a skipped row adds it
   as a pivot and re-solves.

No ``m x m`` object is ever formed; row combinations for certificates are recovered by
one ``r x r`` solve, and only when the answer is *infeasible*.
"""
from collections import deque
from dataclasses import dataclass

import numpy as np

__all__ = ["Feasible", "Infeasible", "float_direction", "gauss_jordan", "nnls", "nonnegative_solution", "rank_profile"]


@dataclass
class Feasible:
    """``A x == b`` with ``x >= 0`` (a basic solution: its support columns are independent)."""

    x: list


@dataclass
class Infeasible:
    """Farkas certificate: ``y^T A >= 0`` componentwise and ``y^T b < 0``.

    ``kind`` is ``'inconsistent'`` when moreover ``y^T A == 0`` (the equations alone have no
    solution) and ``'sign'`` when the equations are solvable but not with ``x >= 0``.
    """

    y: list
    kind: str


class _Echelon:
    """Incremental reduced row echelon form of ``[A | b]`` (rows added one at a time).

    ``rows[k]`` (length ``n + 1``, last entry the right-hand side) has a 1 in column
    ``P[k]`` and 0 in the other pivot columns; it is a combination of original rows ``R``.
    """

    def __init__(self, n, zero, one):
        self.n, self.zero, self.one = n, zero, one
        self.rows, self.R, self.P = [], [], []
        self.free = list(range(n))  # non-pivot columns

    def satisfies(self, a, rhs):
        """Does the particular solution (pivot variables = rhs column, others 0) satisfy row a?"""
        zero, s = self.zero, self.zero
        for k, p in enumerate(self.P):
            c, v = a[p], self.rows[k][self.n]
            if not (c == zero or v == zero):
                s = s + c * v
        return s == rhs

    def add(self, i, a, rhs):
        """Reduce row ``i`` = ``(a, rhs)``; return ``None`` if it is consistent with the
        rows so far (it becomes a pivot row if independent), else its nonzero rhs residual."""
        zero, n = self.zero, self.n
        cols = self.free + [n]
        full = list(a) + [rhs]
        res = [full[j] for j in cols]
        for k, p in enumerate(self.P):
            c = full[p]
            if c == zero:
                continue
            rk = self.rows[k]
            for t, j in enumerate(cols):
                v = rk[j]
                if not v == zero:
                    res[t] = res[t] - c * v
        t = next((t for t in range(len(cols) - 1) if not res[t] == zero), None)
        if t is None:
            return None if res[-1] == zero else res[-1]
        q = cols[t]
        inv = self.one / res[t]
        new = [zero] * (n + 1)
        for s, j in enumerate(cols):
            if not res[s] == zero:
                new[j] = res[s] * inv
        new[q] = self.one
        for rk in self.rows:  # clear column q from the other pivot rows
            f = rk[q]
            if not f == zero:
                for j in cols:
                    if not new[j] == zero:
                        rk[j] = rk[j] - f * new[j]
                rk[q] = zero
        self.rows.append(new)
        self.R.append(i)
        self.P.append(q)
        self.free.remove(q)
        return None


def rank_profile(A, zero=0, one=1):
    """Independent rows and pivot columns of ``A`` (greedy: earliest rows first).

    Returns ``(R, P)``: ``A[R][:, P]`` is invertible and every row of ``A`` is a combination
    of the rows ``R``; ``len(R)`` is the rank.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> rank_profile([[F(1), F(2)], [F(2), F(4)], [F(0), F(1)]])
    ([0, 2], [0, 1])
    """
    ech = _Echelon(len(A[0]) if A else 0, zero, one)
    for i, a in enumerate(A):
        ech.add(i, a, zero)
    return ech.R, ech.P


def gauss_jordan(H, n, one):
    """Reduce the rows ``H`` (n rows, the first n columns invertible) to ``[I | M⁻¹·rest]`` in place.

    Elements need ``is_zero()`` (field elements of :mod:`symkkt.field`).
    """
    for c in range(n):
        piv = next(i for i in range(c, n) if not H[i][c].is_zero())
        H[c], H[piv] = H[piv], H[c]
        inv = one / H[c][c]
        H[c] = [v * inv for v in H[c]]
        for i in range(n):
            f = H[i][c]
            if i != c and not f.is_zero():
                H[i] = [u - f * v for u, v in zip(H[i], H[c])]
    return H


def _left_solve(A, R, P, target, zero, one):
    """Solve ``sum_l y_l A[R[l]][P[k]] == target[k]`` for all ``k`` (an ``r x r`` system)."""
    r = len(R)
    H = [[A[R[l]][P[k]] for l in range(r)] + [target[k]] for k in range(r)]
    for c in range(r):
        p = next(k for k in range(c, r) if not H[k][c] == zero)
        H[c], H[p] = H[p], H[c]
        inv = one / H[c][c]
        H[c] = [zero] * c + [v * inv for v in H[c][c:]]  # columns < c are already eliminated
        for k in range(r):
            f = H[k][c]
            if k != c and not f == zero:
                H[k][c:] = [u if v == zero else u - f * v for u, v in zip(H[k][c:], H[c][c:])]
    return [H[k][r] for k in range(r)]


def _phase_one(M, beta, P, n, sign, zero, one):
    """Phase-I simplex (Bland's rule) on ``M x = beta, x >= 0`` with ``M`` in RREF.

    Returns ``(x, None)`` or ``(None, w)`` with ``w^T M >= 0`` and ``w^T beta < 0``.
    """
    r = len(M)
    art = {}  # row -> artificial column, for the rows whose rhs is negative
    for k in range(r):
        if sign(beta[k]) < 0:
            art[k] = n + len(art)
    width = n + len(art) + 1
    T, basis = [], []
    for k in range(r):
        row = M[k][:n] + [zero] * len(art) + [beta[k]]
        if k in art:
            row = [-v for v in row]
            row[art[k]] = one
        T.append(row)
        basis.append(art.get(k, P[k]))
    z = [zero] * width  # reduced costs of  min sum(artificials); z[-1] = -objective
    for k in art:
        for j in list(range(n)) + [width - 1]:
            if not T[k][j] == zero:
                z[j] = z[j] - T[k][j]
    while True:
        q = next((j for j in range(width - 1) if not z[j] == zero and sign(z[j]) < 0), None)
        if q is None:
            break
        p, best = None, None
        for k in range(r):
            if sign(T[k][q]) > 0:
                ratio = T[k][-1] / T[k][q]
                s = 0 if p is None else sign(ratio - best)
                if p is None or s < 0 or (s == 0 and basis[k] < basis[p]):
                    p, best = k, ratio
        if p is None:
            raise RuntimeError("Phase-I simplex unbounded (impossible)")
        inv = one / T[p][q]
        T[p] = [v * inv for v in T[p]]
        T[p][q] = one
        for row in T[:p] + T[p + 1:] + [z]:
            f = row[q]
            if not f == zero:
                for j, v in enumerate(T[p]):
                    if not v == zero:
                        row[j] = row[j] - f * v
                row[q] = zero
        basis[p] = q
    if sign(z[-1]) < 0:  # positive Phase-I optimum: read the dual off the initial identity columns
        return None, [one - z[art[k]] if k in art else z[P[k]] for k in range(r)]
    x = [zero] * n
    for k, j in enumerate(basis):
        if j < n:
            x[j] = T[k][-1]
    return x, None


def _dot(a, x, zero):
    """``a . x``, skipping zero entries of ``x``."""
    s = zero
    for u, v in zip(a, x):
        if not v == zero:
            s = s + u * v
    return s


def _verify(A, b, res, sign, zero):
    """Raise ``RuntimeError`` unless ``res`` is a valid certificate for ``(A, b)``."""
    if isinstance(res, Feasible):
        ok = all(sign(v) >= 0 for v in res.x) and all(_dot(a, res.x, zero) == bi for a, bi in zip(A, b))
    else:
        n = len(A[0]) if A else 0
        yA, yb = [zero] * n, zero
        for yi, a, bi in zip(res.y, A, b):
            if not yi == zero:
                yA = [u + yi * v for u, v in zip(yA, a)]
                yb = yb + yi * bi
        ok = sign(yb) < 0 and all(sign(v) >= 0 for v in yA)
        ok = ok and (res.kind == "sign" or all(v == zero for v in yA))
    if not ok:
        raise RuntimeError("internal error: linear feasibility certificate does not verify")
    return res


def nnls(A, b, max_iter=None):
    """Non-negative least squares min ‖A x − b‖, x ≥ 0 (Lawson–Hanson active-set method, float64):
    ``(x, ‖A x − b‖)``. A search tool: its output is only ever used as a starting point or a
    candidate that is then checked rigorously.

    Examples
    --------
    >>> x, r = nnls(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([2.0, -1.0]))
    >>> x.tolist(), round(r, 12)
    ([2.0, 0.0], 1.0)
    """
    A, b = np.asarray(A, dtype=float), np.asarray(b, dtype=float)
    m, n = A.shape
    x, P = np.zeros(n), np.zeros(n, bool)
    tol = 10 * np.finfo(float).eps * max(1.0, np.abs(A).max() if A.size else 1.0) * max(m, n)
    w = A.T @ (b - A @ x)
    for _ in range(max_iter or 3 * n + 10):
        if P.all() or not np.any(w[~P] > tol):
            break
        j = np.argmax(np.where(P, -np.inf, w))
        P[j] = True
        while True:
            z = np.zeros(n)
            z[P] = np.linalg.lstsq(A[:, P], b, rcond=None)[0]
            if np.all(z[P] > 0):
                x = z
                break
            neg = P & (z <= 0)
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            P &= x > tol
            x[~P] = 0.0
        w = A.T @ (b - A @ x)
    return x, float(np.linalg.norm(A @ x - b))


def float_direction(R, iters=200):
    """A float d with R d > 0 (least squares, then perceptron steps on the normalized rows), or None.

    A search tool: callers round d and check the strict inequalities exactly.

    Examples
    --------
    >>> d = float_direction(np.array([[1.0, 0.0], [1.0, 1.0]]))
    >>> bool((np.array([[1.0, 0.0], [1.0, 1.0]]) @ d > 0).all())
    True
    >>> float_direction(np.array([[1.0, 0.0], [-1.0, 0.0]])) is None
    True
    """
    unit = R / np.linalg.norm(R, axis=1, keepdims=True)
    d = np.linalg.lstsq(unit, np.ones(len(R)), rcond=None)[0]
    for _ in range(iters):
        bad = unit @ d <= 1e-9 * np.linalg.norm(d)
        if not bad.any():
            return d
        d = d + unit[bad].sum(axis=0) * max(np.linalg.norm(d), 1.0) / len(R)
    return None


def _float_feasible(A, b, sign, zero, one):
    """A ``Feasible`` answer found in floats (NNLS) and then solved and checked exactly, or None.

    Only for elements of :mod:`symkkt.field` (which convert to floats cheaply). The float
    solution proposes the support S; x_S is solved exactly from independent rows of A[:, S],
    and the answer is kept only when x_S ≥ 0 and A x = b hold exactly.
    """
    from .field import to_floats

    m, n = len(A), len(A[0])
    Af = np.array([to_floats(a) for a in A])
    bf = to_floats(b)
    if not (np.isfinite(Af).all() and np.isfinite(bf).all()):
        return None
    scale = max(np.abs(Af).max(), np.abs(bf).max(), 1e-300)
    x = nnls(Af / scale, bf / scale)[0]
    if np.linalg.norm(Af @ x - bf) > 1e-9 * scale * max(1.0, np.linalg.norm(x)):
        return None
    S = [j for j in range(n) if x[j] > 1e-12 * max(1.0, x.max())]
    if not S or len(S) > m:
        return None
    R, _ = rank_profile([[a[j] for j in S] for a in A], zero, one)
    k = len(S)
    if len(R) < k:
        return None
    H = [[A[i][j] for j in S] + [b[i]] for i in R]
    gauss_jordan(H, k, one)
    xs = [H[i][k] for i in range(k)]
    if any(sign(v) < 0 for v in xs):
        return None
    full = [zero] * n
    for j, v in zip(S, xs):
        full[j] = v
    if not all(_dot(a, full, zero) == bi for a, bi in zip(A, b)):
        return None
    return _verify(A, b, Feasible(full), sign, zero)


def nonnegative_solution(A, b, sign, zero=0, one=1):
    """Decide exactly whether ``A x = b`` has a solution ``x >= 0``.

    Parameters
    ----------
    A : list of list
        ``m`` rows of ``N`` field elements (``m = 0`` is allowed; ``N`` is then taken as 0).
    b : list
        ``m`` field elements.
    sign : callable
        Exact sign of an element: returns -1, 0 or 1.
    zero, one : element, optional
        The field's 0 and 1 (used to build the answer).

    Returns
    -------
    Feasible or Infeasible
        ``Feasible(x)`` with ``x >= 0``, ``A x == b`` (a basic solution), or
        ``Infeasible(y, kind)`` with ``y^T A >= 0``, ``y^T b < 0`` (``kind='inconsistent'``:
        ``y^T A == 0``, supported on at most ``rank + 1`` rows; ``kind='sign'``: the equations
        are solvable, ``y`` is supported on at most ``rank`` independent rows). The certificate is verified before it is returned.

    Raises
    ------
    RuntimeError
        If the certificate fails verification (cannot happen for exact arithmetic).

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> sgn = lambda v: (v > 0) - (v < 0)
    >>> A = [[F(1), F(1)], [F(1), F(-1)], [F(2), F(0)]]
    >>> nonnegative_solution(A, [F(3), F(1), F(4)], sgn)
    Feasible(x=[Fraction(2, 1), Fraction(1, 1)])
    >>> nonnegative_solution(A, [F(1), F(3), F(4)], sgn)
    Infeasible(y=[Fraction(1, 2), Fraction(-1, 2), 0], kind='sign')
    >>> nonnegative_solution(A, [F(1), F(3), F(5)], sgn).kind
    'inconsistent'
    >>> nonnegative_solution([[F(1), F(-1)]], [F(-2)], sgn)
    Feasible(x=[0, Fraction(2, 1)])
    """
    m, n = len(A), (len(A[0]) if A else 0)
    if len(b) != m or any(len(a) != n for a in A):
        raise ValueError("A must be a list of m rows of equal length and b of length m")
    if all(v == zero for v in b):
        return _verify(A, b, Feasible([zero] * n), sign, zero)
    if n and hasattr(zero, "field"):                 # field elements: try a float-guided answer first
        quick = _float_feasible(A, b, sign, zero, one)
        if quick is not None:
            return quick
    ech = _Echelon(n, zero, one)
    pending, ok = deque(range(m)), []  # ok: rows satisfied by the current particular solution
    while pending:  # until the particular solution of the pivot rows satisfies every row
        i = pending.popleft()
        if ech.satisfies(A[i], b[i]):
            ok.append(i)
            continue
        res = ech.add(i, A[i], b[i])  # violated: row i is independent or inconsistent
        if res is not None:  # y = e_i - (combination of R reproducing row i), y^T A = 0
            yR = _left_solve(A, ech.R, ech.P, [A[i][p] for p in ech.P], zero, one)
            y = [zero] * m
            y[i] = one
            for l, v in zip(ech.R, yR):
                y[l] = -v
            if sign(res) > 0:
                y = [-v for v in y]
            return _verify(A, b, Infeasible(y, "inconsistent"), sign, zero)
        pending.extend(ok)  # a new pivot changes the particular solution: re-check them
        ok = []
    # The equations are consistent; the pivot rows R need not span all rows, so a
    # solution x >= 0 of the R-rows is checked against all rows (a violated row is a new pivot).
    R, P, rows = ech.R, ech.P, ech.rows
    while len(R) < n:
        x, w = _phase_one(rows, [row[n] for row in rows], P, n, sign, zero, one)
        if w is not None:
            target = w  # y^T A_R = w^T M; on the pivot columns that is w itself
            break
        i = next((i for i in range(m) if not _dot(A[i], x, zero) == b[i]), None)
        if i is None:
            return _verify(A, b, Feasible(x), sign, zero)
        if ech.add(i, A[i], b[i]) is not None:
            raise RuntimeError("internal error: consistent system reported inconsistent")
    else:  # unique solution x[P[k]] = rows[k][n]
        x = [zero] * n
        for k, p in enumerate(P):
            x[p] = rows[k][n]
        j = next((k for k in range(n) if sign(rows[k][n]) < 0), None)
        if j is None:
            return _verify(A, b, Feasible(x), sign, zero)
        target = [zero] * n  # y^T A = e_{P[j]}^T, hence y^T b = x[P[j]] < 0
        target[j] = one
    y = [zero] * m
    for l, v in zip(R, _left_solve(A, R, P, target, zero, one)):
        y[l] = v
    return _verify(A, b, Infeasible(y, "sign"), sign, zero)
