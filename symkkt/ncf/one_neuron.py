"""Smooth KKT points of the one-neuron constrained NCF for polynomial leaky ReLU (p > 1), exactly.

With σ(z) = max(z, s·z)^p (0 < s < 1, p ≥ 2) and φ = σ^(∘(L−1)), φ(z) = z^P for z > 0 and
φ(z) = γ·z^P for z < 0, where P = p^(L−1) and γ is rational when s is. On the open cell

    C_S = {b : b·x_i > 0 for i in S, b·x_i < 0 for i not in S}

the one-neuron NCF f(b) = Σ_i y_i φ(b·x_i) is the form F_S(b) = Σ_i y_i γ_i (b·x_i)^P
(γ_i = 1 on S, γ off S). A smooth KKT point of max f on the unit sphere is a unit b in some
C_S with ∇F_S(b) = P·F_S(b)·b and F_S(b) != 0; by Euler's identity b·∇F_S = P·F_S this says
exactly that the line of b is an *eigen-line* of F_S (∇F_S(b) parallel to b) on which F_S != 0.

Everything below is exact:

1. :func:`cells` lists the sign vectors of the central arrangement {x_i^⊥}: a depth-first
   search over the points keeps a new sign vector when a rational b with σ_i x_i·b > 0 is
   found (a witness of the parent, a float guess checked exactly, or an exact LP) and drops it
   on a Gordan vector (a float NNLS support, solved and checked exactly) or an infeasible LP.
2. :func:`eigenlines` finds every real eigen-line of a form in the charts
   b = (0, …, 0, 1, x_(k+1), …, x_d), where the conditions read ∂_jF = 0 (j < k) and
   ∂_jF = x_j·∂_kF (j > k). One unknown: the roots of a univariate gcd. Two unknowns (d = 3):
   the resultant in y and the first subresultant, which gives y as a rational function of the
   root when the gcd at that root has degree one (else a shear x = t − c·y is tried). Real
   roots are exact real algebraic numbers (sympy's ``CRootOf`` of an irreducible factor), and
   the coordinates live in its field Q(t0) (:class:`~symkkt.field.NumberField`); the eigen
   equations are re-checked there.
3. The caller keeps b0 or −b0 when it lies in C_S (exact signs in Q(t0)) with F_S != 0.

Quadratic forms (P = 2) are handled in any dimension: their eigen-lines are the eigenvectors of
a symmetric rational matrix (roots of the characteristic polynomial, null vectors over Q(λ)).
Not covered (raises :class:`Unsolved` with the reason): forms of degree ≥ 3 with d ≥ 4, and
forms whose eigen-lines with F != 0 are not isolated.

Examples
--------
>>> import sympy
>>> b0, b1 = sympy.symbols("b0 b1")
>>> F = sympy.Poly(b0**3 + b1**3, b0, b1)     # (3 b0^2, 3 b1^2) parallel to b: b0 b1 (b0 - b1) = 0
>>> sorted(tuple(str(v.to_sympy()) for v in line) for line in eigenlines(F))
[('0', '1'), ('1', '0'), ('1', '1')]
>>> from fractions import Fraction as Fr
>>> len(cells([[Fr(1), Fr(0)], [Fr(0), Fr(1)], [Fr(1), Fr(1)]]))     # 3 lines through 0 in the plane
6
"""

from __future__ import annotations

from fractions import Fraction

import sympy
from flint import arb, ctx, fmpq, fmpq_mat

from ..field import FieldElement, NumberField
from ..linear import Feasible, float_direction, gauss_jordan, nnls, nonnegative_solution, rank_profile

__all__ = ["Unsolved", "cells", "eigenlines", "eigenline_bound", "adjoin_sqrt", "RATIONALS"]

#: the rational numbers as a :class:`NumberField` (shared)
RATIONALS = NumberField(sympy.Integer(1))

#: shears t = x + c·y tried for the two-unknown chart
SHEARS = (0, 1, -1, 2, -3, 5, 7)


class Unsolved(Exception):
    """The exact eigen-line computation does not cover this form (the message says why)."""


def eigenline_bound(P, d):
    """Bézout bound on the number of isolated eigen-lines of a degree-P form in d variables.

    Examples
    --------
    >>> eigenline_bound(3, 3), eigenline_bound(2, 3), eigenline_bound(9, 3)
    (7, 3, 73)
    """
    return d if P == 2 else ((P - 1) ** d - 1) // (P - 2)


# -- cells of the arrangement -----------------------------------------------------------------
def _sgn(v):
    return (v > 0) - (v < 0)


def _float_point(rows):
    """A rational b with r·b > 0 for every row, found in floats and checked exactly, or None."""
    import numpy as np

    b = float_direction(np.array([[float(v) for v in r] for r in rows]), iters=100)
    if b is None:
        return None
    q = [Fraction(float(v)).limit_denominator(1 << 20) for v in b / np.abs(b).max()]
    if all(sum(a * c for a, c in zip(r, q)) > 0 for r in rows):
        return q
    return None


def _gordan(rows):
    """Whether −(last row) is a positive combination of some earlier rows (then no b has r·b > 0 for
    all rows): the support from a float NNLS, the coefficients solved and checked exactly."""
    import numpy as np

    R = np.array([[float(v) for v in r] for r in rows])
    R /= np.abs(R).max()
    c = nnls(R[:-1].T, -R[-1])[0]
    if np.linalg.norm(R[:-1].T @ c + R[-1]) > 1e-9:
        return False
    S = [j for j in range(len(c)) if c[j] > 1e-10]
    if not S:
        return False
    d = len(rows[0])
    # Gram system G c = h with G_jk = r_j·r_k, h_j = −r_j·last (exact, |S| ≤ rows)
    G = [[sum(a * b for a, b in zip(rows[j], rows[k])) for k in S] + [-sum(a * b for a, b in zip(rows[j], rows[-1]))]
         for j in S]
    n = len(S)
    for col in range(n):
        piv = next((i for i in range(col, n) if G[i][col] != 0), None)
        if piv is None:
            return False
        G[col], G[piv] = G[piv], G[col]
        G[col] = [v / G[col][col] for v in G[col]]
        for i in range(n):
            if i != col and G[i][col] != 0:
                f = G[i][col]
                G[i] = [u - f * v for u, v in zip(G[i], G[col])]
    coef = [G[i][n] for i in range(n)]
    return all(v > 0 for v in coef) and all(
        rows[-1][k] + sum(cj * rows[j][k] for cj, j in zip(coef, S)) == 0 for k in range(d))


def _strict_point(rows):
    """b with r·b > 0 for every row (a float guess checked exactly, else an exact LP over Q), or None."""
    found = _float_point(rows)
    if found is not None:
        return found
    if len(rows) > 1 and _gordan(rows):
        return None
    d, m = len(rows[0]), len(rows)
    zero, one = Fraction(0), Fraction(1)
    A = [list(r) + [-v for v in r] + [-one if t == i else zero for t in range(m)] for i, r in enumerate(rows)]
    sol = nonnegative_solution(A, [one] * m, _sgn, zero, one)
    if isinstance(sol, Feasible):
        return [sol.x[j] - sol.x[d + j] for j in range(d)]
    return None


def cells(X):
    """The sign vectors σ in {±1}^n with some b such that σ_i·(x_i·b) > 0 for every i (exact).

    Parameters
    ----------
    X : list of list of Fraction
        Non-zero rational points x_1..x_n.

    Returns
    -------
    list of tuple
        The realized sign vectors (±1), each once.
    """
    n = len(X)
    out = []

    def grow(signs, w):
        k = len(signs)
        if k == n:
            out.append(signs)
            return
        v = sum(a * b for a, b in zip(w, X[k])) if w is not None else 0
        for s in (1, -1):
            if w is not None and _sgn(v) == s:
                grow(signs + (s,), w)
                continue
            rows = [[sg * c for c in X[i]] for i, sg in enumerate(signs + (s,))]
            w2 = _strict_point(rows)
            if w2 is not None:
                grow(signs + (s,), w2)

    if n:
        grow((), None)
    else:
        out.append(())
    return out


# -- algebraic helpers -------------------------------------------------------------------------
def _q(c):
    return fmpq(int(c.p), int(c.q))


def _evaluate(poly, point, K):
    """A sympy Poly (over QQ) at a point of field elements of K, by Horner in each monomial."""
    out = FieldElement(K, (fmpq(0),) * K.degree)
    powers = {}
    for monom, coeff in poly.terms():
        term = FieldElement(K, (_q(coeff),) + (fmpq(0),) * (K.degree - 1))
        for var, e in enumerate(monom):
            if e:
                key = (var, e)
                if key not in powers:
                    base, acc = point[var], FieldElement(K, K.coords(1))
                    for _ in range(e):
                        acc = acc * base
                    powers[key] = acc
                term = term * powers[key]
        out = out + term
    return out


class _Root:
    """A real root of an irreducible factor over Q: a rational, or (factor, index, isolating interval).

    :meth:`ball` is a rigorous arb ball around it (cheap; :meth:`refine` narrows it), and
    :meth:`exact` builds the field Q(t0) (costly: done only for roots that survive the screens)."""

    def __init__(self, factor, index, interval):
        self.factor, self.index, self.interval = factor, index, interval
        self._exact = None

    def ball(self):
        lo, hi = self.interval
        if lo == hi:
            return arb(lo)
        return arb((lo + hi) / 2, float((hi - lo) / 2) * (1 + 2.0 ** -40) + 2.0 ** -200)

    def refine(self, bits):
        lo, hi = self.interval
        if lo == hi or hi - lo < fmpq(1, 2 ** bits):
            return False
        lo_s, hi_s = (sympy.Rational(int(v.p), int(v.q)) for v in (lo, hi))
        lo_s, hi_s = self.factor.refine_root(lo_s, hi_s, eps=sympy.Rational(1, 2 ** bits))
        self.interval = (_q(lo_s), _q(hi_s))
        return True

    def exact(self):
        if self._exact is None:
            if self.factor.degree() == 1:
                self._exact = (RATIONALS, RATIONALS.element(sympy.Rational(int(self.interval[0].p),
                                                                           int(self.interval[0].q))))
            else:
                K = NumberField.root_of(self.factor, self.index, self.interval)
                self._exact = (K, FieldElement(K, (fmpq(0), fmpq(1)) + (fmpq(0),) * (K.degree - 2)))
        return self._exact


#: precisions (bits) of the isolating intervals tried by the screens before exact arithmetic
LADDER = (0, 24, 64, 160)


def _roots(poly):
    """The real roots of a univariate Poly over QQ, as :class:`_Root` objects."""
    if poly.is_zero:
        raise Unsolved("a chart equation vanishes identically (the eigen-lines are not isolated)")
    out = []
    for factor, _ in poly.factor_list()[1]:
        if factor.degree() == 1:
            a, b = factor.all_coeffs()
            r = _q(-b / a)
            out.append(_Root(factor, 0, (r, r)))
            continue
        for k, ((lo, hi), _) in enumerate(factor.intervals()):
            out.append(_Root(factor, k, (_q(lo), _q(hi))))
    return out


def _screened(root, test):
    """False when ``test(ball)`` is False at some precision of the ladder, else True."""
    for bits in LADDER:
        if bits and not root.refine(bits):
            continue
        if not test(root.ball()):
            return False
    return True


def _ball_eval(poly, point):
    """A sympy Poly (over QQ) at arb balls."""
    out = arb(0)
    for monom, coeff in poly.terms():
        term = arb(_q(coeff))
        for var, e in enumerate(monom):
            if e:
                term = term * point[var] ** e
        out = out + term
    return out


def _nonzero(poly, root):
    """Exactly whether the univariate ``poly`` is non-zero at ``root`` (balls first)."""
    if not _screened(root, lambda b: not (_ball_eval(poly, [b]) > 0 or _ball_eval(poly, [b]) < 0)):
        return True
    K, t0 = root.exact()
    return not _evaluate(poly, [t0], K).is_zero()


def eigenlines(F, screen=None):
    """Every real eigen-line of a form F (∇F(b) parallel to b, b != 0), one chart vector per line.

    Parameters
    ----------
    F : sympy.Poly
        A homogeneous polynomial over QQ in d ≤ 3 generators.
    screen : callable, optional
        ``screen(balls)`` gets rigorous arb balls around a line's chart vector and returns False
        when the caller can prove it has no use for the line (it is then never built exactly).

    Returns
    -------
    list of list of FieldElement
        One vector b0 per line, its entries in the field Q(t0) of the line (Q for rational lines).

    Raises
    ------
    Unsolved
        d ≥ 4, or a chart whose solutions are not isolated.
    """
    gens = F.gens
    d = len(gens)
    if F.total_degree() == 2:
        return _quadratic(F)
    if d >= 4:
        raise Unsolved(f"exact eigen-lines of forms of degree ≥ 3 are computed for d ≤ 3 (here d = {d})")
    keep = screen or (lambda balls: True)
    grads = [F.diff(g) for g in gens]
    lines = []
    old = ctx.prec
    ctx.prec = 128
    try:
        for k in range(d):
            unknown = gens[k + 1:]
            eqs = [grads[j] for j in range(k)]
            eqs += [grads[j] - sympy.Poly(gens[j], *gens, domain="QQ") * grads[k] for j in range(k + 1, d)]
            fixed = [0] * k + [1]
            polys = []
            for e in eqs + [F]:
                for j in range(k + 1):
                    e = e.eval(gens[j], fixed[j]) if isinstance(e, sympy.Poly) and e.gens[0] == gens[j] else e
                polys.append(e)
            polys, Fc = polys[:-1], polys[-1]
            if not unknown:
                if all(e == 0 for e in polys) and keep([arb(v) for v in fixed]):
                    lines.append([RATIONALS.element(v) for v in fixed])
                continue
            polys = [p for p in polys if not p.is_zero]
            if not polys:                   # every direction of the chart is critical: fine only where F = 0
                if not Fc.is_zero:
                    raise Unsolved("a whole family of directions with f != 0 is critical (not isolated)")
                continue
            if len(unknown) == 1:
                g = polys[0]
                for p in polys[1:]:
                    g = g.gcd(p)
                for root in _roots(g):
                    if _screened(root, lambda b: keep([arb(v) for v in fixed] + [b])):
                        K, t0 = root.exact()
                        lines.append([K.element(v) for v in fixed] + [t0])
                continue
            polys = _isolated_part(polys, Fc)
            if polys is None:
                continue
            lines += [[K.element(v) for v in fixed] + xy for K, xy in _two_unknowns(polys, unknown, fixed, keep)]
    finally:
        ctx.prec = old
    return lines


def _isolated_part(polys, Fc):
    """Divide the chart equations by their common factor G when F vanishes on every component of
    G = 0 (each irreducible factor of G divides F there: those critical points have f = 0 and do
    not matter). Returns the reduced pair, None when no isolated solution can remain, or raises
    Unsolved for a curve of critical points on which F is not identically zero."""
    G = polys[0]
    for p in polys[1:]:
        G = G.gcd(p)
    if G.total_degree() == 0:
        return polys
    for g, _ in G.factor_list()[1]:
        if g.total_degree() == 0:
            continue
        try:
            Fc.exquo(g)
        except sympy.polys.polyerrors.ExactQuotientFailed:
            raise Unsolved("a curve of critical directions with f != 0 (the eigen-lines are not isolated)") from None
    reduced = [p.exquo(G) for p in polys]
    if len(reduced) < 2 or any(p.total_degree() == 0 for p in reduced):
        return None                                  # one equation left, or a non-zero constant: no isolated line
    return reduced


def _quadratic(F):
    """Eigen-lines of a quadratic form F = bᵀAb (any d): eigenvectors of A for eigenvalues != 0.

    A non-zero eigenvalue with a multiple eigenspace gives a circle of critical points: Unsolved.
    (Eigenvectors of the eigenvalue 0 have F = 0 and are of no use.)"""
    gens = F.gens
    d = len(gens)
    A = [[sympy.Rational(0)] * d for _ in range(d)]
    for monom, coeff in F.terms():
        idx = [k for k, e in enumerate(monom) for _ in range(e)]
        i, j = idx
        if i == j:
            A[i][i] += coeff
        else:
            A[i][j] += coeff / 2
            A[j][i] += coeff / 2
    lam = sympy.Dummy("lam")
    chi = sympy.Matrix(A).charpoly(lam)
    lines = []
    for factor, mult in chi.factor_list()[1]:
        for root in _roots(factor):
            K, l0 = root.exact()
            if l0.is_zero():
                continue
            if mult > 1:
                raise Unsolved("a repeated non-zero eigenvalue: a whole circle of directions is critical")
            zero, one = K.element(0), K.element(1)
            M = [[K.element(A[i][j]) - (l0 if i == j else zero) for j in range(d)] for i in range(d)]
            R, P = rank_profile(M, zero, one)
            if d - len(R) != 1:
                raise Unsolved("a multiple eigenspace: a whole circle of directions is critical")  # pragma: no cover
            free = next(j for j in range(d) if j not in P)
            H = [[M[i][p] for p in P] + [-M[i][free]] for i in R]
            gauss_jordan(H, len(P), one)
            v = [zero] * d
            v[free] = one
            for k, p in enumerate(P):
                v[p] = H[k][len(P)]
            lines.append(v)
    return lines


def _two_unknowns(polys, unknown, fixed, keep):
    """Real common roots (x0, y0) of two bivariate polynomials (d = 3, chart b = (1, x, y))."""
    if len(polys) != 2:
        raise Unsolved("the chart equations are not a pair (the eigen-lines are not isolated)")
    x, y = unknown
    t = sympy.Dummy("t")
    for c in SHEARS:
        A, B = (sympy.Poly(p.as_expr().subs(x, t - c * y) if c else p.as_expr().subs(x, t), y, t, domain="QQ")
                for p in polys)
        if A.degree(y) == 0 or B.degree(y) == 0:
            continue
        prs = sympy.subresultants(A, B, y)
        res = sympy.Poly(prs[-1].as_expr(), t, y, domain="QQ")
        if res.is_zero or res.degree(y) != 0:
            raise Unsolved("the two chart equations share a factor (the eigen-lines are not isolated)")
        S1 = sympy.Poly(prs[-2].as_expr(), y, t, domain="QQ")
        if len(prs) < 3 or S1.degree(y) != 1:
            continue
        s1 = sympy.Poly(S1.as_expr().coeff(y, 1), t, domain="QQ")
        s0 = sympy.Poly(S1.as_expr().coeff(y, 0), t, domain="QQ")
        lcA = sympy.Poly(A.as_expr().coeff(y, A.degree(y)), t, domain="QQ")
        lcB = sympy.Poly(B.as_expr().coeff(y, B.degree(y)), t, domain="QQ")
        out, ok = [], True
        for root in _roots(sympy.Poly(res.as_expr(), t, domain="QQ")):
            if not (_nonzero(lcA, root) and _nonzero(lcB, root)):
                ok = False          # a solution may sit at infinity in y: shear and start again
                break
            if not _nonzero(s1, root):
                K, t0 = root.exact()
                y0 = _repeated_root(A, B, t0, K)
                if y0 is None:
                    ok = False      # the gcd at t0 has several roots: shear and start again
                    break
                x0 = t0 - c * y0
                if all(_evaluate(p, [x0, y0], K).is_zero() for p in polys):
                    out.append((K, [x0, y0]))
                continue
            def test(tb):
                yb = -_ball_eval(s0, [tb]) / _ball_eval(s1, [tb])
                return keep([arb(v) for v in fixed] + [tb - c * yb, yb])

            if not _screened(root, test):
                continue
            K, t0 = root.exact()
            y0 = -_evaluate(s0, [t0], K) / _evaluate(s1, [t0], K)
            x0 = t0 - c * y0
            if all(_evaluate(p, [x0, y0], K).is_zero() for p in polys):
                out.append((K, [x0, y0]))
        if ok:
            return out
    raise Unsolved("no shear puts the chart equations in general position")


def _repeated_root(A, B, t0, K):
    """y0 when gcd(A(t0, y), B(t0, y)) over Q(t0) is c·(y − y0)^k (one root, repeated), else None."""
    def coeffs(P):
        out = [FieldElement(K, (fmpq(0),) * K.degree)] * (P.degree(P.gens[0]) + 1)
        for (ey, et), c in P.terms():
            term = FieldElement(K, (_q(c),) + (fmpq(0),) * (K.degree - 1))
            for _ in range(et):
                term = term * t0
            out[ey] = out[ey] + term
        while len(out) > 1 and out[-1].is_zero():
            out.pop()
        return out                                   # low -> high in y

    def rem(a, b):
        a = list(a)
        while len(a) >= len(b) and not all(v.is_zero() for v in a):
            f = a[-1] / b[-1]
            shift = len(a) - len(b)
            for i, v in enumerate(b):
                a[shift + i] = a[shift + i] - f * v
            a.pop()
            while len(a) > 1 and a[-1].is_zero():
                a.pop()
        return a

    a, b = coeffs(A), coeffs(B)
    while not all(v.is_zero() for v in b):
        a, b = b, rem(a, b)
    k = len(a) - 1
    if k < 1:
        return None
    y0 = -a[k - 1] / (a[k] * k)
    # check a = a_k (y − y0)^k coefficient by coefficient
    binom, power = 1, FieldElement(K, K.coords(1))
    for j in range(k, -1, -1):
        if not (a[j] - a[k] * binom * power).is_zero():
            return None
        binom = binom * j // (k - j + 1)
        power = power * (-y0)
    return y0


# -- the scale √μ ----------------------------------------------------------------------------
def adjoin_sqrt(K0, mu):
    """The field L = Q(t0, λ), λ = +√μ for a positive μ in K0 = Q(t0), as Q(θ) with θ = t0 + k·λ.

    L is a 2n-dimensional space over Q (basis t0^i and t0^i·λ, n = [K0 : Q]); multiplication by θ
    is a rational 2n × 2n matrix whose characteristic polynomial χ is squarefree exactly when θ
    generates L (then χ is θ's minimal polynomial). t0 and λ are then solved for in the basis of
    powers of θ, and θ's real root of χ is isolated against a ball of t0 + k·√μ.

    Returns ``(K, lam, embed)``: the :class:`NumberField` Q(θ), λ as an element of it, and
    ``embed`` mapping elements of K0 into K. λ² = μ is checked exactly.

    When μ itself generates K0, λ alone generates L (its minimal polynomial divides χ_μ(z²)) and
    is used instead: its polynomial is far smaller.

    Raises
    ------
    Unsolved
        μ is a square in K0 (no k gives a generator; not needed for the points built here).
    """
    quick = _sqrt_generator(K0, mu)
    if quick is not None:
        return quick
    n = K0.degree
    Z = FieldElement(K0, (fmpq(0),) * n)
    t0 = FieldElement(K0, (fmpq(0), fmpq(1)) + (fmpq(0),) * (n - 2))

    def vec(a, b):                                   # a + b λ as 2n rationals
        return list(a.c) + list(b.c)

    powers_t = [FieldElement(K0, K0.coords(1))]
    for _ in range(n - 1):
        powers_t.append(powers_t[-1] * t0)
    for k in (1, 2, 3, 5, 7):
        cols = []
        for i in range(n):                           # θ·t0^i and θ·(t0^i λ), with θ = t0 + kλ, λ² = μ
            e = powers_t[i]
            cols.append(vec(t0 * e, e * k))
            cols.append(vec(mu * e * k, t0 * e))
        order = [2 * i for i in range(n)] + [2 * i + 1 for i in range(n)]
        T = fmpq_mat(2 * n, 2 * n, [cols[order[j]][r] for r in range(2 * n) for j in range(2 * n)])
        chi = T.charpoly()
        if chi.gcd(chi.derivative()).degree() == 0:
            break
    else:
        raise Unsolved("the squared scale is a square in the field of the direction")
    z = sympy.Symbol("z")
    chi_s = sympy.Poly([sympy.Rational(int(c.p), int(c.q)) for c in reversed(chi.coeffs())], z, domain="QQ")
    # powers of θ in the basis (t0^i, t0^i λ): columns of B; then t0 and λ in the power basis of θ
    a, b = FieldElement(K0, K0.coords(1)), Z
    basis = []
    for _ in range(2 * n):
        basis.append(vec(a, b))
        a, b = t0 * a + mu * b * k, a * k + t0 * b
    B = fmpq_mat(2 * n, 2 * n, [basis[j][r] for r in range(2 * n) for j in range(2 * n)])
    t_coords = B.solve(fmpq_mat(2 * n, 1, vec(t0, Z))).entries()
    l_coords = B.solve(fmpq_mat(2 * n, 1, vec(Z, FieldElement(K0, K0.coords(1))))).entries()
    K, _ = _isolate(_roots(chi_s), lambda prec: K0.ball(t0.c, prec) + k * K0.ball(mu.c, prec).sqrt()).exact()
    if K.degree != 2 * n:                            # χ splits: μ is a square in K0, λ lies in K0 itself
        return _sqrt_inside(K0, mu)
    t0_K, lam = FieldElement(K, tuple(t_coords)), FieldElement(K, tuple(l_coords))

    def embed(e):
        out = FieldElement(K, (fmpq(0),) * K.degree)
        for c in reversed(e.c):
            out = out * t0_K + FieldElement(K, (c,) + (fmpq(0),) * (K.degree - 1))
        return out

    if not (embed(mu) - lam * lam).is_zero() or not (t0_K + k * lam - FieldElement(
            K, (fmpq(0), fmpq(1)) + (fmpq(0),) * (K.degree - 2))).is_zero():
        raise Unsolved("the embedding of the scale failed")                            # pragma: no cover
    return K, lam, embed


def _isolate(roots, target):
    """The one root (:class:`_Root`) whose ball meets ``target(prec)``, refining both until one is left."""
    old = ctx.prec
    try:
        for prec in (64, 128, 256, 512, 1024, 4096):
            ctx.prec = prec
            ball = target(prec)
            for r in roots:
                r.refine(prec - 8)
            best = [r for r in roots if r.ball().overlaps(ball)]
            if len(best) == 1:
                return best[0]
    finally:
        ctx.prec = old
    raise Unsolved("a root could not be isolated from the others")                   # pragma: no cover


def _sqrt_inside(K0, mu):
    """(K0, λ, identity) for λ = +√μ when μ is a square in K0 (sympy's field isomorphism), else Unsolved."""
    from sympy.polys.numberfields import to_number_field

    try:
        anp = to_number_field(sympy.sqrt(K0.to_sympy(mu.c)), K0.generator)
    except Exception as err:                        # noqa: BLE001 - any failure: the point is not built
        raise Unsolved(f"the square root of the scale in the field of the direction: {err}") from None
    cs = [sympy.Rational(c) for c in anp.coeffs()][::-1]
    cs += [sympy.Integer(0)] * (K0.degree - len(cs))
    lam = FieldElement(K0, tuple(fmpq(int(c.p), int(c.q)) for c in cs))
    if lam.sign() < 0:
        lam = -lam
    if not (lam * lam - mu).is_zero():
        raise Unsolved("the square root of the scale in the field of the direction does not verify")
    return K0, lam, (lambda e: e)


def _sqrt_generator(K0, mu):
    """The field Q(λ), λ = +√μ for a positive μ in Q(t0) = K0 that generates K0 (μ's degree is K0's).

    Returns ``(K, lam, embed)``: the :class:`NumberField` generated by λ (a ``CRootOf`` of an
    irreducible factor of χ(z²), χ the minimal polynomial of μ), λ as its generator element, and
    ``embed`` mapping elements of K0 into K (t0 = Σ c_j μ^j, μ = λ²). λ² = μ is checked exactly.
    None when μ does not generate K0.
    """
    n = K0.degree
    one = FieldElement(K0, K0.coords(1))
    powers = [one]
    for _ in range(n):
        powers.append(powers[-1] * mu)
    M = fmpq_mat(n, n, [powers[j].c[i] for i in range(n) for j in range(n)])
    if M.rank() < n:
        return None                                  # μ generates a proper subfield: see adjoin_sqrt
    chi = M.solve(fmpq_mat(n, 1, list(powers[n].c))).entries()      # μ^n = Σ a_j μ^j
    t_in_mu = M.solve(fmpq_mat(n, 1, [fmpq(int(i == 1)) for i in range(n)])).entries()
    z = sympy.Symbol("z")
    chi_z2 = sympy.Poly(z ** (2 * n) - sum(sympy.Rational(int(a.p), int(a.q)) * z ** (2 * j) for j, a in enumerate(chi)),
                        z, domain="QQ")
    roots = [r for factor, _ in chi_z2.factor_list()[1] for r in _roots(factor)]
    K, lam = _isolate(roots, lambda prec: K0.ball(mu.c, prec).sqrt()).exact()      # μ > 0: the positive root
    mu_K = lam * lam
    t0 = FieldElement(K, (fmpq(0),) * K.degree)
    acc = FieldElement(K, K.coords(1))
    for c in t_in_mu:
        t0 = t0 + acc * FieldElement(K, (c,) + (fmpq(0),) * (K.degree - 1))
        acc = acc * mu_K

    def embed(e):
        out = FieldElement(K, (fmpq(0),) * K.degree)
        for c in reversed(e.c):
            out = out * t0 + FieldElement(K, (c,) + (fmpq(0),) * (K.degree - 1))
        return out

    if not (embed(mu) - mu_K).is_zero():
        raise Unsolved("the embedding of the scale failed")                            # pragma: no cover
    return K, lam, embed
