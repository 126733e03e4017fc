"""Exact real number fields Q(α) and exact arrays over them.

A :class:`NumberField` is Q(α) for one real algebraic generator α, given by its minimal
polynomial (computed by sympy, hence irreducible) and an isolating interval. Its elements are
coordinate vectors in the power basis 1, α, …, α^(n-1) with ``flint.fmpq`` entries; an element
is zero exactly when all its coordinates are zero, and the sign of a non-zero element is read
off a rigorous ball evaluation (python-flint ``arb``), refined until it excludes 0.

An :class:`ExactArray` is a numpy-like array over Q(α): one ``numpy`` object array of
``fmpq`` per coordinate. Bilinear operations (elementwise product, matmul, einsum) multiply
coordinate arrays and reduce powers α^k, k ≥ n, with the minimal polynomial; 2-D matrix
products go through ``flint.fmpq_mat``. Rationals are the field of degree 1 (α = 1).

What this module trusts: sympy's ``minimal_polynomial``, ``to_number_field`` and root
isolation, python-flint's exact rationals and ball arithmetic.

Examples
--------
>>> import sympy
>>> K = NumberField.of([sympy.root(2, 4), sympy.sqrt(2) / 2])
>>> K
NumberField(2^(1/4), minpoly x^4 - 2)
>>> K.coords(sympy.sqrt(2) / 2)
(0, 0, 1/2, 0)
>>> K.sign(K.coords(sympy.sqrt(2) - sympy.Rational(3, 2)))
-1
"""

from __future__ import annotations

import math
from functools import partial, reduce

import numpy as np
import sympy
from flint import arb, ctx, fmpq, fmpq_mat

_X = sympy.Symbol("x")


def as_sympy(v):
    """An internal exact number (int, fmpq, Fraction or sympy) as a sympy number (never parses text)."""
    if isinstance(v, sympy.Basic):
        return v
    if isinstance(v, bool) or isinstance(v, str):
        raise TypeError(f"not an exact number: {v!r}")
    if isinstance(v, int):
        return sympy.Integer(v)
    return sympy.Rational(int(v.numerator) if hasattr(v, "numerator") else int(v.p),
                          int(v.denominator) if hasattr(v, "denominator") else int(v.q))


def _radical_atoms(expr):
    """Pow atoms b^(1/q) (q > 1) that generate the field of a real algebraic ``expr``."""
    out = set()
    for p in expr.atoms(sympy.Pow):
        e = p.exp
        if e.is_Rational and not e.is_Integer:
            out.add(sympy.Pow(p.base, sympy.Rational(1, e.q), evaluate=False))
    return out


def _coprime_base(numbers):
    """Pairwise coprime integers > 1, none a perfect power, over which every number factors."""
    base = []
    for n in numbers:
        todo = [n]
        while todo:
            x = todo.pop()
            if x == 1:
                continue
            for i, b in enumerate(base):
                g = math.gcd(x, b)
                if g > 1:  # split b and x along g; the product of the pending numbers drops
                    del base[i]
                    todo += [g, b // g, x // g]
                    break
            else:
                base.append(x)
    out = []
    for b in base:
        root = sympy.perfect_power(b)
        out.append(int(root[0]) if root else b)
    return out


def _valuation(n, c):
    k = 0
    while n % c == 0:
        n //= c
        k += 1
    return k


def _lattice_index(rows, m, Q):
    """Index in Z^m of the lattice spanned by ``rows`` and Q·Z^m (integer row reduction mod Q)."""
    active = [[x % Q for x in r] for r in rows if any(x % Q for x in r)]
    index = 1
    for col in range(m):
        pivots = [r for r in active if r[col]] + [[Q if j == col else 0 for j in range(m)]]
        rest = [r for r in active if not r[col]]
        while len(pivots) > 1:
            pivots.sort(key=lambda r: abs(r[col]))
            p = pivots[0]
            kept = [p]
            for r in pivots[1:]:
                f = r[col] // p[col]
                r = [a - f * b if j <= col else (a - f * b) % Q for j, (a, b) in enumerate(zip(r, p))]
                (kept if r[col] else rest).append(r)
            pivots = kept
        index *= abs(pivots[0][col])
        active = [r for r in rest if any(r[col + 1:])]
    return index


def kummer_degree(radicals):
    """The degree [Q(b_1^(1/q_1), ..., b_k^(1/q_k)) : Q] for positive rationals b_i.

    For real roots of positive rationals the degree is the index [Q*·<b_i^(1/q_i)> : Q*]
    (Kneser's theorem: no root of unity other than ±1 is real). Over a coprime base
    c_1, ..., c_m of the numerators and denominators, b_i^(1/q_i) has the exponent vector
    v_i = (v_{c_j}(b_i) / q_i)_j, and the index is the order of the group the v_i generate
    in (Q/Z)^m: with Q = lcm(q_i), Q^m divided by the index of the lattice spanned by
    Q·v_i and Q·Z^m.

    Parameters
    ----------
    radicals : list of (sympy.Rational, int)
        Pairs ``(b, q)`` with b > 0.

    Returns
    -------
    int

    Examples
    --------
    >>> import sympy
    >>> kummer_degree([(sympy.Integer(2), 2), (sympy.Integer(3), 2), (sympy.Integer(6), 2)])
    4
    >>> kummer_degree([(sympy.Integer(2), 4), (sympy.Integer(4), 4), (sympy.Rational(1, 8), 3)])
    4
    """
    radicals = [(int(b.p), int(b.q), int(q)) for b, q in radicals]
    base = _coprime_base([n for n, _, _ in radicals] + [d for _, d, _ in radicals])
    if not base:
        return 1
    Q = reduce(math.lcm, (q for _, _, q in radicals), 1)
    rows = [[(_valuation(n, c) - _valuation(d, c)) * (Q // q) for c in base] for n, d, q in radicals]
    return Q ** len(base) // _lattice_index(rows, len(base), Q)


class RadicalCensus:
    """The distinct radicals b^(1/q) among some numbers, and the degree of the field they generate.

    :meth:`degree` is an upper bound on [Q(numbers) : Q]: exact for radicals of rationals
    (:func:`kummer_degree`), times the product over other radicands b of the least common
    multiple L_b of their root indices (adjoining b^(1/L_b) after the radicals inside b
    multiplies the degree by at most L_b). :meth:`check` compares it with the
    ``field_degree`` limit before any field is built.

    Examples
    --------
    >>> import sympy
    >>> census = RadicalCensus()
    >>> for v in (sympy.sqrt(2), sympy.sqrt(6), sympy.root(3, 4), sympy.sqrt(1 + sympy.sqrt(2))):
    ...     census.add(v)
    >>> census.count, census.degree()
    (4, 16)
    """

    def __init__(self):
        self.indices = {}   # radicand -> lcm of the root indices
        self.atoms = set()

    def add(self, value):
        """Record the radicals of one sympy number."""
        value = as_sympy(value)
        if value.is_Rational:
            return
        for atom in _radical_atoms(value):
            if atom not in self.atoms:
                self.atoms.add(atom)
                b, q = atom.base, int(atom.exp.q)
                self.indices[b] = math.lcm(self.indices.get(b, 1), q)

    @property
    def count(self):
        """Number of distinct radicals b^(1/q)."""
        return len(self.atoms)

    def naive(self):
        """The product of the L_b (cheap; at least :meth:`degree`)."""
        return math.prod(self.indices.values())

    def degree(self):
        """An upper bound on the field degree, exact for radicals of positive rationals."""
        rational = [(b, q) for b, q in self.indices.items() if b.is_Rational and b > 0]
        other = math.prod(q for b, q in self.indices.items() if not (b.is_Rational and b > 0))
        return (kummer_degree(rational) if rational else 1) * other

    def check(self, file=None, place=None, over=None):
        """Raise :class:`~symkkt.errors.LimitError` above the ``radicals`` or ``field_degree`` limit.

        ``over(name, value)``, if given, replaces :func:`symkkt.limits.check` (it adds the place).
        """
        from . import limits

        over = over or (lambda name, value: limits.check(name, value, file, place))
        over("radicals", self.count)
        if self.naive() > limits.get("field_degree"):
            over("field_degree", self.degree())


def _simplest_generator(atoms):
    """A generator for Q(atoms); pure radicals of one rational base share b^(1/lcm)."""
    atoms = sorted(atoms, key=sympy.default_sort_key)
    bases = {a.base for a in atoms}
    if len(bases) == 1 and next(iter(bases)).is_Rational:
        q = reduce(math.lcm, (a.exp.q for a in atoms))
        return sympy.root(next(iter(bases)), q) if q > 1 else sympy.Integer(1)
    if len(atoms) == 1:
        return sympy.Pow(atoms[0].base, atoms[0].exp)
    from sympy.polys.numberfields import primitive_element

    _, coeffs = primitive_element([sympy.Pow(a.base, a.exp) for a in atoms], _X)
    return sympy.Add(*[c * sympy.Pow(a.base, a.exp) for c, a in zip(coeffs, atoms)])


class NumberField:
    """The real number field Q(α) generated by a real algebraic number α.

    Parameters
    ----------
    generator : sympy.Expr
        A real algebraic number (rational numbers give Q itself).

    Examples
    --------
    >>> import sympy
    >>> Q = NumberField(sympy.Integer(1))
    >>> Q.degree, Q.coords(sympy.Rational(3, 5))
    (1, (3/5,))
    """

    def __init__(self, generator):
        generator = sympy.nsimplify(generator) if generator.is_Float else generator
        if generator.is_Rational:
            generator = sympy.Integer(1)
            minpoly = sympy.Poly(_X - 1, _X)
        else:
            from sympy.polys.numberfields import minimal_polynomial

            minpoly = minimal_polynomial(generator, _X, polys=True)
        self.generator = generator
        self.minpoly = minpoly
        self.degree = minpoly.degree()
        lc = minpoly.LC()
        #: minimal polynomial coefficients, low -> high, monic
        self.poly_coeffs = tuple(fmpq(int(c.p), int(c.q)) / fmpq(int(lc.p), int(lc.q))
                                 for c in reversed(minpoly.all_coeffs()))
        self.interval = self._isolate()
        self._reduction = self._power_table()
        self._ball_cache = {}

    # -- construction -------------------------------------------------------------------
    @classmethod
    def root_of(cls, poly, index, interval):
        """Q(α) for the real root α of an *irreducible* polynomial given with an isolating interval.

        Parameters
        ----------
        poly : sympy.Poly
            Univariate, irreducible over Q, degree ≥ 2 (the caller's factorization vouches for it).
        index : int
            α is ``sympy.CRootOf(poly, index)`` (real roots in increasing order).
        interval : tuple of fmpq
            ``(lo, hi)`` containing α and no other root of ``poly``.

        Examples
        --------
        >>> import sympy
        >>> x = sympy.Symbol("x")
        >>> K = NumberField.root_of(sympy.Poly(x**3 - 3*x + 1), 2, (fmpq(3, 2), fmpq(2)))
        >>> K.degree, K.sign(K.coords(sympy.CRootOf(x**3 - 3*x + 1, 2) - sympy.Rational(3, 2)))
        (3, 1)
        """
        self = cls.__new__(cls)
        # sympy may return c·CRootOf(g, k) (it scales the polynomial): remember the atom's coordinates
        self.generator = sympy.CRootOf(poly.as_expr(), index, radicals=False)
        self.root_poly, self.root_index = sympy.Poly(poly.all_coeffs(), _X, domain="QQ"), index
        self.minpoly = self.root_poly
        self.degree = self.minpoly.degree()
        lc = self.minpoly.LC()
        self.poly_coeffs = tuple(fmpq(int(c.p), int(c.q)) / fmpq(int(lc.p), int(lc.q))
                                 for c in reversed(self.minpoly.all_coeffs()))
        self.interval = (fmpq(interval[0]), fmpq(interval[1]))
        self._reduction = self._power_table()
        self._ball_cache = {}
        if not isinstance(self.generator, sympy.CRootOf):
            coeff, atom = self.generator.as_coeff_Mul()
            if isinstance(atom, sympy.CRootOf) and coeff.is_Rational and coeff != 0:
                inv = 1 / fmpq(int(coeff.p), int(coeff.q))
                self.__dict__.setdefault("_radicals", {})[(atom, 1)] = FieldElement(
                    self, (fmpq(0), inv) + (fmpq(0),) * (self.degree - 2))
        return self

    @classmethod
    def of(cls, numbers):
        """The smallest convenient field containing all ``numbers`` (sympy real algebraic).

        Examples
        --------
        >>> import sympy
        >>> NumberField.of([sympy.Rational(1, 2), 3]).degree
        1
        >>> NumberField.of([sympy.sqrt(2), sympy.sqrt(3)]).degree
        4
        """
        census = RadicalCensus()
        for v in numbers:
            census.add(v)
        census.check(place="the numbers of all inputs together")
        if not census.atoms:
            return cls(sympy.Integer(1))
        return cls(_simplest_generator(census.atoms))

    def _isolate(self):
        if self.degree == 1:
            r = -self.poly_coeffs[0]
            return (r, r)
        approx = sympy.N(self.generator, 30)
        for (lo, hi), _ in self.minpoly.intervals():
            if lo <= approx <= hi:
                lo, hi = self.minpoly.refine_root(lo, hi, eps=sympy.Rational(1, 10**20))
                return (fmpq(int(lo.p), int(lo.q)), fmpq(int(hi.p), int(hi.q)))
        raise ArithmeticError(f"cannot isolate the generator {self.generator}")

    def _power_table(self):
        """Coordinates of α^k for k = 0 .. 2n-2 (α^n = -Σ c_i α^i for monic minpoly)."""
        n = self.degree
        table = []
        cur = [fmpq(0)] * n
        cur[0] = fmpq(1)
        for _ in range(max(2 * n - 1, 1)):
            table.append(tuple(cur))
            top = cur[-1]
            cur = [fmpq(0)] + cur[:-1]
            if top != 0:
                cur = [c - top * p for c, p in zip(cur, self.poly_coeffs[:-1])]
        return table

    # -- scalars ------------------------------------------------------------------------
    def coords(self, value):
        """Coordinates (low -> high) of a sympy number in the power basis of α.

        The expression tree is evaluated in the field; each distinct radical b^(1/q) is
        located once with sympy's ``to_number_field`` and cached.
        """
        value = as_sympy(value)
        if value.is_Rational:
            return (fmpq(int(value.p), int(value.q)),) + (fmpq(0),) * (self.degree - 1)
        if self.degree == 1:
            raise ArithmeticError(f"{value} is not rational")
        return self._eval(value).c

    def _eval(self, e):
        if e == self.generator and self.degree > 1:
            return FieldElement(self, (fmpq(0), fmpq(1)) + (fmpq(0),) * (self.degree - 2))
        if e.is_Rational:
            return FieldElement(self, (fmpq(int(e.p), int(e.q)),) + (fmpq(0),) * (self.degree - 1))
        if e.is_Add:
            out = self._eval(e.args[0])
            for a in e.args[1:]:
                out = out + self._eval(a)
            return out
        if e.is_Mul:
            out = self._eval(e.args[0])
            for a in e.args[1:]:
                out = out * self._eval(a)
            return out
        if e.is_Pow and e.exp.is_Rational:
            p, q = int(e.exp.p), int(e.exp.q)
            base = self._radical(e.base, q) if q > 1 else self._eval(e.base)
            if p < 0:
                base, p = base.inverse(), -p
            out = FieldElement(self, self.coords(1))
            while p:  # square and multiply
                if p & 1:
                    out = out * base
                p >>= 1
                if p:
                    base = base * base
            return out
        return self._radical(e, 1)

    def _radical(self, base, q):
        key = (base, q)
        cache = self.__dict__.setdefault("_radicals", {})
        if key not in cache:
            from sympy.polys.numberfields import to_number_field

            anp = to_number_field(sympy.root(base, q) if q > 1 else base, self.generator)
            cs = [sympy.Rational(c) for c in anp.coeffs()][::-1]
            cs += [sympy.Integer(0)] * (self.degree - len(cs))
            cache[key] = FieldElement(self, tuple(fmpq(int(c.p), int(c.q)) for c in cs))
        return cache[key]

    def to_sympy(self, coords):
        """The sympy number with these coordinates (expanded)."""
        out = sympy.Integer(0)
        for i, c in enumerate(coords):
            if c != 0:
                out += sympy.Rational(int(c.p), int(c.q)) * self.generator**i
        return sympy.expand(out)

    def ball(self, coords, prec=64):
        """A rigorous ``arb`` ball containing the element's value."""
        alpha = self._alpha_ball(prec)
        out = arb(0)
        for c in reversed(coords):
            out = out * alpha + arb(c)
        return out

    def _alpha_ball(self, prec):
        if prec not in self._ball_cache:
            lo, hi = self.interval
            old = ctx.prec
            ctx.prec = prec
            try:
                if self.degree == 1:
                    ball = arb(lo)
                else:
                    # refine the isolating interval until it is narrower than 2^-prec
                    lo_s = sympy.Rational(int(lo.p), int(lo.q))
                    hi_s = sympy.Rational(int(hi.p), int(hi.q))
                    lo_s, hi_s = self.minpoly.refine_root(lo_s, hi_s, eps=sympy.Rational(1, 2**prec))
                    lo, hi = fmpq(int(lo_s.p), int(lo_s.q)), fmpq(int(hi_s.p), int(hi_s.q))
                    ball = arb((lo + hi) / 2, float((hi - lo) / 2) * (1 + 2.0**-40) + 2.0**-prec)
                self._ball_cache[prec] = ball
            finally:
                ctx.prec = old
        return self._ball_cache[prec]

    def sign(self, coords):
        """Exact sign (-1, 0 or 1) of the element with these coordinates."""
        if all(c == 0 for c in coords):
            return 0
        if self.degree == 1:
            return 1 if coords[0] > 0 else -1
        prec = 64
        while True:
            old = ctx.prec
            ctx.prec = prec
            try:
                b = self.ball(coords, prec)
                if b > 0:
                    return 1
                if b < 0:
                    return -1
            finally:
                ctx.prec = old
            prec *= 2

    def approx(self, coords):
        """A float approximation of the element."""
        return float(self.ball(coords, 64).mid())

    def element(self, value):
        """The :class:`FieldElement` of a sympy number (or int / fmpq)."""
        return FieldElement(self, self.coords(value))

    def mul_coords(self, a, b):
        """Product of two elements given by coordinates."""
        n = self.degree
        raw = [fmpq(0)] * (2 * n - 1)
        for i, x in enumerate(a):
            if x != 0:
                for j, y in enumerate(b):
                    raw[i + j] += x * y
        return self._reduce_scalar(raw)

    def _integer_reduction(self):
        """``(table, T)``: α^k = Σ_l (table[k][l] / T) α^l for k = 0 .. 2n-2, integers, T > 0."""
        if "_int_table" not in self.__dict__:
            T = reduce(math.lcm, (int(t.q) for row in self._reduction for t in row), 1)
            table = [[int(t.p) * (T // int(t.q)) for t in row] for row in self._reduction]
            self.__dict__["_int_table"] = (table, T)
        return self.__dict__["_int_table"]

    def _alpha_float(self):
        """The generator as a float (for screening signs only)."""
        if self.degree == 1:
            return 1.0
        return float(self.ball((fmpq(0), fmpq(1)) + (fmpq(0),) * (self.degree - 2)).mid())

    def _reduce_scalar(self, raw):
        n = self.degree
        out = list(raw[:n]) + [fmpq(0)] * (n - len(raw[:n]))
        for k in range(n, len(raw)):
            if raw[k] != 0:
                out = [o + raw[k] * t for o, t in zip(out, self._reduction[k])]
        return tuple(out)

    def __eq__(self, other):
        return isinstance(other, NumberField) and self.poly_coeffs == other.poly_coeffs and \
            self.interval == other.interval

    def __hash__(self):
        return hash(self.poly_coeffs)

    def __repr__(self):
        from .numbers import format_number

        if self.degree == 1:
            return "NumberField(QQ)"
        poly = str(self.minpoly.as_expr()).replace("**", "^")
        if "root_index" in self.__dict__:  # a root of a polynomial (not in radicals)
            return f"NumberField(real root {self.root_index} of {poly})"
        return f"NumberField({format_number(self.generator)}, minpoly {poly})"


def to_floats(values):
    """Field elements of one field as a float64 numpy array (for screening only, never for answers).

    Examples
    --------
    >>> import sympy
    >>> K = NumberField(sympy.sqrt(2))
    >>> [round(float(v), 6) for v in to_floats([K.element(sympy.sqrt(2)), K.element(sympy.Rational(1, 2))])]
    [1.414214, 0.5]
    """
    values = list(values)
    if not values:
        return np.zeros(0)
    field = values[0].field
    if field.degree == 1:
        return np.array([float(v.c[0]) for v in values])
    alpha = field.__dict__.get("_screen_alpha")
    if alpha is None:
        alpha = field.__dict__["_screen_alpha"] = field._alpha_float()
    out = []
    for v in values:
        f = 0.0
        for c in reversed(v.c):
            f = f * alpha + float(c)
        out.append(f)
    return np.array(out)


class FieldElement:
    """A scalar of a :class:`NumberField`, with exact ``+ - * /``, comparisons and ``sign``.

    Examples
    --------
    >>> import sympy
    >>> K = NumberField(sympy.sqrt(2))
    >>> r2 = K.element(sympy.sqrt(2))
    >>> (r2 * r2 - 2).is_zero(), (1 / r2).to_sympy()
    (True, sqrt(2)/2)
    """

    __slots__ = ("field", "c")

    def __init__(self, field, coords):
        self.field = field
        self.c = tuple(coords)

    def _lift(self, other):
        if isinstance(other, FieldElement):
            return other.c
        if isinstance(other, (int, fmpq)):
            return (fmpq(other),) + (fmpq(0),) * (self.field.degree - 1)
        return NotImplemented

    def __add__(self, other):
        o = self._lift(other)
        return NotImplemented if o is NotImplemented else FieldElement(self.field, [a + b for a, b in zip(self.c, o)])

    __radd__ = __add__

    def __sub__(self, other):
        o = self._lift(other)
        return NotImplemented if o is NotImplemented else FieldElement(self.field, [a - b for a, b in zip(self.c, o)])

    def __rsub__(self, other):
        return (-self) + other

    def __neg__(self):
        return FieldElement(self.field, [-a for a in self.c])

    def __mul__(self, other):
        o = self._lift(other)
        if o is NotImplemented:
            return NotImplemented
        if self.field.degree == 1:
            return FieldElement(self.field, (self.c[0] * o[0],))
        return FieldElement(self.field, self.field.mul_coords(self.c, o))

    __rmul__ = __mul__

    def inverse(self):
        """Multiplicative inverse (ZeroDivisionError for 0)."""
        if self.is_zero():
            raise ZeroDivisionError("division by zero in a number field")
        if self.field.degree == 1:
            return FieldElement(self.field, (1 / self.c[0],))
        # solve (multiplication-by-self matrix) * v = e_0 exactly
        n = self.field.degree
        cols = []
        basis = [tuple(fmpq(int(i == j)) for j in range(n)) for i in range(n)]
        for e in basis:
            cols.append(self.field.mul_coords(self.c, e))
        M = fmpq_mat(n, n, [cols[j][i] for i in range(n) for j in range(n)])
        rhs = fmpq_mat(n, 1, list(basis[0]))
        return FieldElement(self.field, M.solve(rhs).entries())

    def __truediv__(self, other):
        o = self._lift(other)
        if o is NotImplemented:
            return NotImplemented
        return self * FieldElement(self.field, o).inverse()

    def __rtruediv__(self, other):
        return self.inverse() * other

    def is_zero(self):
        return all(x == 0 for x in self.c)

    def sign(self):
        return self.field.sign(self.c)

    def __eq__(self, other):
        o = self._lift(other)
        return NotImplemented if o is NotImplemented else tuple(self.c) == tuple(o)

    def __hash__(self):
        return hash(self.c)

    def __lt__(self, other):
        return (self - other).sign() < 0

    def __le__(self, other):
        return (self - other).sign() <= 0

    def __gt__(self, other):
        return (self - other).sign() > 0

    def __ge__(self, other):
        return (self - other).sign() >= 0

    def __float__(self):
        return self.field.approx(self.c)

    def to_sympy(self):
        return self.field.to_sympy(self.c)

    def __repr__(self):
        from .numbers import format_number

        return format_number(self.to_sympy())


# -- arrays ------------------------------------------------------------------------------
#: integer arrays stay int64 while every entry (and every intermediate) is below this bound
_LIMB = 1 << 62
#: float64 products and sums of integers below this bound are exact (the BLAS path)
_EXACT_FLOAT = 1 << 53


def _amax(a):
    """max |entry| of an integer array as a Python int (0 when empty)."""
    a = np.asarray(a)
    if a.size == 0:
        return 0
    return max(int(a.max()), -int(a.min()))


def _obj(a):
    """The array with Python ints (dtype object), for entries that may exceed int64."""
    a = _int_array(a)
    return a if a.dtype == object else a.astype(object)


def _int_array(a):
    """An integer array from an array, a numpy integer or a Python int, never through a lossy type:
    a Python int becomes a 0-d object array (``np.asarray`` would give uint64 between 2^63 and 2^64
    and fail above), an unsigned array becomes Python ints."""
    if isinstance(a, int):
        return np.array(a, dtype=object)
    a = np.asarray(a)
    return a.astype(object) if a.dtype.kind == "u" else a


def _small(a):
    """int64 when every entry fits comfortably, else Python ints (dtype object)."""
    a = _int_array(a)
    if a.dtype == object:
        if a.size == 0 or _amax(a) < _LIMB:
            return a.astype(np.int64)
        return a
    return a.astype(np.int64, copy=False)


def _op(f, a, b, bound):
    """``f(a, b)`` on integer arrays: in int64 when ``bound`` (on every result and intermediate)
    allows it, else with Python ints."""
    if a.dtype != object and b.dtype != object and bound < _LIMB:
        return f(a, b)
    return _small(f(_obj(a), _obj(b)))


def _gcd_all(arrays):
    g = arrays[0]
    for a in arrays[1:]:
        g = np.gcd(g, a) if g.dtype == a.dtype else np.gcd(_obj(g), _obj(a))
    return g


def _lcm(a, b):
    """Elementwise lcm of positive integer arrays (broadcasting)."""
    return _op(np.lcm, a, b, _amax(a) * _amax(b))


def _common(den, axes):
    """The lcm of ``den`` over ``axes`` (kept as size-1 axes): a denominator common along them."""
    L = den
    for ax in sorted(axes):
        while L.shape[ax] > 1:
            first = np.take(L, [0], axis=ax)
            if (L == first).all():          # already common (the usual case)
                L = first
                break
            half = L.shape[ax] // 2        # pairwise lcm: log2(size) vectorized steps
            lo = np.take(L, range(half), axis=ax)
            hi = np.take(L, range(half, 2 * half), axis=ax)
            rest = np.take(L, range(2 * half, L.shape[ax]), axis=ax)
            L = _lcm(lo, hi)
            if rest.shape[ax]:
                L = np.concatenate([L, rest], axis=ax) if L.dtype == rest.dtype else \
                    np.concatenate([_obj(L), _obj(rest)], axis=ax)
    return L


def _ints_of(values):
    """Numerators per coordinate and one positive denominator per entry, from fmpq coordinates.

    ``values`` is a list of coordinate tuples; returns (list of Python-int lists, Python-int list).
    """
    nums = [[] for _ in range(len(values[0]))] if values else []
    dens = []
    for coords in values:
        d = 1
        for c in coords:
            q = int(c.q)
            if q != 1:
                d = d * q // math.gcd(d, q)
        dens.append(d)
        for lst, c in zip(nums, coords):
            lst.append(int(c.p) * (d // int(c.q)))
    return nums, dens


class ExactArray:
    """A numpy-like array over a :class:`NumberField`, stored as integers.

    Entry e is (Σ_i num[i][e] α^i) / den[e]: one integer array per power-basis coordinate and
    one array of positive denominators shared by the coordinates, all of one shape. Integer
    arrays are ``int64`` while every entry and every intermediate result stays below 2^62
    (bounds are checked before each operation), and arrays of Python integers otherwise, so
    nothing overflows. Bilinear operations (elementwise product, matmul, einsum) first make
    the denominators common along the contracted axes, multiply coordinate arrays (2-D
    products of small integers through float64 BLAS when every partial sum is below 2^53, so
    exactly; large ones through ``flint.fmpz_mat``), and reduce powers α^k, k ≥ n, with the
    minimal polynomial. Signs are decided for the whole array at once (a float screen with a
    generous error bound, exact refinement for the few entries it leaves open). The same code
    serves Q (degree 1) and every Q(α).

    ``c`` gives the classic view: one ``numpy`` object array of ``flint.fmpq`` per coordinate.

    Supports ``+ - *`` (elementwise, broadcasting), ``@`` (2-D), ``einsum``, indexing,
    ``reshape``, ``transpose`` and ``sum``; :meth:`sign` gives exact signs elementwise.

    Examples
    --------
    >>> import sympy
    >>> K = NumberField(sympy.sqrt(2))
    >>> A = ExactArray.from_sympy(K, [[sympy.sqrt(2), 1], [0, 2]])
    >>> (A @ A).to_sympy()
    [[2, sqrt(2) + 2], [0, 4]]
    >>> (A * A - 2).sign().tolist()
    [[0, -1], [-1, 1]]
    >>> B = ExactArray.from_sympy(K, [[sympy.Rational(1, 3)], [sympy.sqrt(2) / 5]])
    >>> (A @ B).to_sympy()
    [[8*sqrt(2)/15], [2*sqrt(2)/5]]
    """

    __array_priority__ = 100
    __slots__ = ("field", "num", "den", "_c")

    def __init__(self, field, coords):
        """From one array (or nested list) of ``fmpq`` (or int) per coordinate."""
        arrs = [np.asarray(a, dtype=object) for a in coords]
        shape = np.broadcast_shapes(*[a.shape for a in arrs])
        arrs = [np.broadcast_to(a, shape).ravel() for a in arrs]
        values = [tuple(fmpq(a[e]) for a in arrs) for e in range(int(np.prod(shape, dtype=np.int64)))]
        nums, dens = _ints_of(values) if values else ([[] for _ in arrs], [])
        self.field = field
        self.num = [_small(np.array(n, dtype=object).reshape(shape)) for n in nums]
        self.den = _small(np.array(dens, dtype=object).reshape(shape))
        self._c = None

    @classmethod
    def _make(cls, field, num, den, reduce=True):
        out = object.__new__(cls)
        out.field, out.num, out.den, out._c = field, [_small(n) for n in num], _small(den), None
        if reduce:
            out._reduce()
        return out

    def _reduce(self):
        """Divide numerators and denominators by common factors (keeps integers small).

        The denominator array may be compact (size-1 axes broadcast over the values): the factor
        taken out of a denominator entry divides every numerator it stands for.
        """
        if self.den.size == 0 or _amax(self.den) == 1:
            return
        axes = tuple(i for i, (d, n) in enumerate(zip(self.den.shape, self.shape)) if d == 1 and n != 1) \
            if self.den.ndim == len(self.shape) else None
        g = self.den
        for n in self.num:
            if axes is None:             # a 0-d denominator: one factor for the whole array
                r = np.gcd.reduce(n.ravel()) if n.size else 0
            else:
                r = np.gcd.reduce(n, axis=axes, keepdims=True) if axes else n
            r = _int_array(r)
            g = _int_array(np.gcd(g, r) if g.dtype == r.dtype else np.gcd(_obj(g), _obj(r)))
            if _amax(g) == 1:
                return
        g = np.where(g == 0, 1, g)
        if (g != 1).any():
            self.num = [_small(_floordiv(n, g)) for n in self.num]
            self.den = _small(_floordiv(self.den, g))

    @classmethod
    def from_sympy(cls, field, nested):
        """Build from a nested list (or array) of sympy numbers."""
        arr = np.array(nested, dtype=object)
        flat = arr.ravel()
        n = field.degree
        nums, dens = [[] for _ in range(n)], []
        irrational = []
        for e, v in enumerate(flat):
            v = as_sympy(v)
            if v.is_Rational:
                dens.append(int(v.q))
                nums[0].append(int(v.p))
                for lst in nums[1:]:
                    lst.append(0)
            else:
                irrational.append(e)
                dens.append(1)
                for lst in nums:
                    lst.append(0)
        if irrational:
            vn, vd = _ints_of([field.coords(flat[e]) for e in irrational])
            for j, e in enumerate(irrational):
                dens[e] = vd[j]
                for i in range(n):
                    nums[i][e] = vn[i][j]
        shape = arr.shape
        num = [_small(np.array(x, dtype=object).reshape(shape)) for x in nums]
        return cls._make(field, num, _small(np.array(dens, dtype=object).reshape(shape)), reduce=False)

    @classmethod
    def zeros(cls, field, shape):
        return cls._make(field, [_zeros(shape) for _ in range(field.degree)],
                         np.ones((), dtype=np.int64), reduce=False)

    @classmethod
    def constant(cls, field, coords, shape=()):
        """The array of ``shape`` whose every entry has the coordinates ``coords`` (fmpq)."""
        nums, (d,) = _ints_of([tuple(coords)])
        return cls._make(field, [_small(np.full(shape, n[0], dtype=object)) for n in nums],
                         _small(np.asarray(d, dtype=object)), reduce=False)

    @classmethod
    def rational(cls, field, arr):
        """Embed an array of rationals (fmpq or int)."""
        arr = np.asarray(arr, dtype=object)
        zero = np.zeros(arr.shape, dtype=object)
        return cls(field, [arr] + [zero] * (field.degree - 1))

    # -- the fmpq view ------------------------------------------------------------------
    @property
    def c(self):
        """One object array of ``flint.fmpq`` per coordinate (built on first use)."""
        if self._c is None:
            den = self._full_den().ravel()
            out = []
            for n in self.num:
                flat = n.ravel()
                a = np.empty(flat.size, dtype=object)
                a[:] = [fmpq(int(p), int(q)) for p, q in zip(flat, den)]
                out.append(a.reshape(self.shape))
            self._c = tuple(out)
        return self._c

    # -- shape ------------------------------------------------------------------------
    @property
    def shape(self):
        return self.num[0].shape

    @property
    def ndim(self):
        return self.num[0].ndim

    @property
    def size(self):
        return self.num[0].size

    def _full_den(self):
        """The denominators as an array of the values' shape (a read-only broadcast view)."""
        return self.den if self.den.shape == self.shape else np.broadcast_to(self.den, self.shape)

    def _map(self, f):
        den = self.den
        if den.ndim != 0:
            den = f(self._full_den())
        return ExactArray._make(self.field, [np.asarray(f(a)) for a in self.num], np.asarray(den), reduce=False)

    def reshape(self, *shape):
        return self._map(lambda a: a.reshape(*shape))

    def transpose(self, *axes):
        return self._map(lambda a: a.transpose(*axes))

    @property
    def T(self):
        return self._map(lambda a: a.T)

    def __getitem__(self, idx):
        return self._map(lambda a: a[idx])

    def __setitem__(self, idx, value):
        if not isinstance(value, ExactArray):
            value = self._coerce(value)
        big = any(a.dtype == object for a in value.num + [value.den])
        self.num = [(_obj(a) if big else a).copy() if big or not a.flags.writeable else a for a in self.num]
        self.den = np.array(_obj(self._full_den()) if big else self._full_den())
        for a, v in zip(self.num, value.num):
            a[idx] = v
        self.den[idx] = value.den
        self._c = None

    def copy(self):
        return self._map(lambda a: a.copy())

    def sum(self, axis=None):
        axes = tuple(range(self.ndim)) if axis is None else \
            tuple(a % self.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
        L = _common(self._den_nd(), axes)
        count = int(np.prod([self.shape[a] for a in axes], dtype=np.int64)) if axes else 1
        num = []
        for n in self.num:
            n = _scale(n, L, self.den)
            num.append(_small(np.asarray((n if _amax(n) * count < _LIMB else _obj(n)).sum(axis=axes))))
        den = np.asarray(L.reshape([s for i, s in enumerate(L.shape) if i not in axes]))
        return ExactArray._make(self.field, num, den)

    def __len__(self):
        return self.shape[0]

    def _common_denominator(self):
        """The lcm of all denominators, a Python int."""
        L = self.den.ravel()
        while L.size > 1:
            if (L == L[0]).all():
                L = L[:1]
                break
            half = L.size // 2
            L = np.concatenate([_obj(_lcm(L[:half], L[half:2 * half])), _obj(L[2 * half:])])
        return int(L[0]) if L.size else 1

    # -- linear ops ---------------------------------------------------------------------
    def _coerce(self, other):
        if isinstance(other, ExactArray):
            return other
        if isinstance(other, FieldElement):
            return ExactArray.constant(self.field, other.c)
        if isinstance(other, (int, fmpq)):
            return ExactArray.constant(self.field, (fmpq(other),) + (fmpq(0),) * (self.field.degree - 1))
        if isinstance(other, np.ndarray) and other.dtype == object:
            return ExactArray.rational(self.field, other)
        return NotImplemented

    def _add(self, other, sign):
        a, b = self, other
        if a.den.shape == b.den.shape and np.array_equal(a.den, b.den):
            L, fa, fb = a.den, None, None
        else:
            L = _lcm(a.den, b.den)
            fa, fb = _floordiv(L, a.den), _floordiv(L, b.den)
        num = []
        for x, y in zip(a.num, b.num):
            if fa is not None:
                x = _op(np.multiply, x, fa, _amax(x) * _amax(fa))
                y = _op(np.multiply, y, fb, _amax(y) * _amax(fb))
            if x.strides == y.strides == (0,) * x.ndim and x.shape == y.shape and not x.any() and not y.any():
                num.append(x)
                continue
            num.append(_op(np.add if sign > 0 else np.subtract, x, y, _amax(x) + _amax(y)))
        shape = np.broadcast_shapes(*[n.shape for n in num])
        num = [np.broadcast_to(n, shape) if n.shape != shape else n for n in num]
        return ExactArray._make(self.field, num, L)

    def __add__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return self._add(o, 1)

    __radd__ = __add__

    def __sub__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return self._add(o, -1)

    def __rsub__(self, other):
        return (-self) + other

    def __neg__(self):
        return ExactArray._make(self.field, [-n for n in self.num], self.den.copy(), reduce=False)

    # -- bilinear ops -------------------------------------------------------------------
    def _bilinear(self, other, kind, spec=None):
        """A bilinear product over the field: ``kind`` is ``"mul"`` (elementwise), ``"matmul"``
        or ``"einsum"`` (with ``spec``).

        Denominators are first made common along the contracted axes (for a 2-D product: the
        smaller factor gets one denominator, so the result's denominators stay compact).
        """
        a, b = self, other
        if kind == "mul":
            op, axes_a, axes_b = np.multiply, (), ()
        elif kind == "matmul":
            op, axes_a, axes_b = _matmul, (a.ndim - 1,), (max(b.ndim - 2, 0),)
            if a.ndim == 2 and b.ndim == 2:
                axes_a, axes_b = _matmul_axes(a._den_nd(), b._den_nd())
        else:
            ins, out = spec.replace(" ", "").split("->")
            sa, sb = ins.split(",")
            op = partial(np.einsum, spec)
            axes_a = tuple(range(a.ndim))       # one denominator per factor
            axes_b = tuple(range(b.ndim))
        count = 1
        if kind == "matmul":
            count = a.shape[-1]
        elif kind == "einsum":      # every summed index, whichever factor carries it
            sizes = {**dict(zip(sb, b.shape)), **dict(zip(sa, a.shape))}
            for ch, size in sizes.items():
                if ch not in out:
                    count *= size
        La, Lb = _common(a._den_nd(), axes_a), _common(b._den_nd(), axes_b)
        na = [_scale(n, La, a.den) for n in a.num]
        nb = [_scale(n, Lb, b.den) for n in b.num]
        if kind == "einsum":
            den = _op(np.multiply, La.reshape(()), Lb.reshape(()), _amax(La) * _amax(Lb))
        elif kind == "matmul" and a.ndim == 2 and b.ndim == 2:
            den = _op(np.multiply, La, Lb, _amax(La) * _amax(Lb))     # (m, 1)·(1, 1) or (1, 1)·(1, n)
        else:
            den = _apply(op, La, Lb, _amax(La), _amax(Lb), 1)
        ma = [(i, x, _amax(x)) for i, x in enumerate(na)]
        mb = [(j, y, _amax(y)) for j, y in enumerate(nb)]
        raw = {}
        for i, x, xa in ma:
            for j, y, xb in mb:
                if (xa == 0 or xb == 0) and (i, j) != (0, 0):
                    continue
                prod = _apply(op, x, y, xa, xb, max(count, 1))
                raw[i + j] = prod if i + j not in raw else _op(np.add, raw[i + j], prod,
                                                              _amax(raw[i + j]) + _amax(prod))
        table, scale = self.field._integer_reduction()
        shape = raw[0].shape
        result = [None] * self.field.degree
        for k, arr in raw.items():
            for l, t in enumerate(table[k]):
                if t:
                    term = arr if t == 1 else _op(np.multiply, arr, np.asarray(t, dtype=object), _amax(arr) * abs(t))
                    result[l] = term if result[l] is None else _op(np.add, result[l], term,
                                                                   _amax(result[l]) + _amax(term))
        result = [_zeros(shape) if r is None else r for r in result]
        if scale != 1:
            den = _op(np.multiply, den, np.asarray(scale, dtype=object), _amax(den) * scale)
        den = np.asarray(den)
        if den.ndim not in (0, len(shape)):
            den = den.reshape(den.shape[-len(shape):]) if den.ndim > len(shape) else \
                den.reshape((1,) * (len(shape) - den.ndim) + den.shape)
        return ExactArray._make(self.field, result, den)

    def _den_nd(self):
        """The denominators with as many axes as the values (size-1 axes where they are shared)."""
        d = self.den
        return d.reshape((1,) * self.ndim) if d.ndim == 0 else d

    def __mul__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return self._bilinear(o, "mul")

    __rmul__ = __mul__

    def __matmul__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return self._bilinear(o, "matmul")

    def __rmatmul__(self, other):
        o = self._coerce(other)
        return o.__matmul__(self)

    def einsum(self, spec, other):
        """``numpy.einsum(spec, self, other)`` over the field."""
        return self._bilinear(self._coerce(other), "einsum", spec)

    def __pow__(self, p):
        out = self
        for _ in range(p - 1):
            out = out * self
        return out

    # -- exact predicates -----------------------------------------------------------------
    def sign(self):
        """Elementwise exact signs as an int8 array (the denominators are positive)."""
        flat = [n.ravel() for n in self.num]
        size = self.size
        if self.field.degree == 1:
            return np.sign(flat[0]).astype(np.int8).reshape(self.shape)
        out = np.zeros(size, dtype=np.int8)
        nonzero = np.zeros(size, dtype=bool)
        for a in flat:
            nonzero |= a != 0
        # float screen: |Σ f_k α^k| above a generous bound on the rounding errors decides the sign
        huge = any(a.dtype == object and _amax(a) >= 1 << 1000 for a in flat)
        sure = np.zeros(size, dtype=bool)
        if not huge:
            alpha = self.field._alpha_float()
            approx = np.zeros(size)
            bound = np.zeros(size)
            for k, a in enumerate(flat):
                if not a.any():
                    continue
                f = a.astype(float)
                approx += f * alpha**k
                bound += np.abs(f) * abs(alpha) ** k
            sure = nonzero & (np.abs(approx) > bound * 1e-12 + 1e-300)
            out[sure] = np.sign(approx[sure]).astype(np.int8)
        for i in np.nonzero(nonzero & ~sure)[0]:
            out[i] = self.field.sign(tuple(fmpq(int(a[i])) for a in flat))
        return out.reshape(self.shape)

    def element(self, idx):
        """The scalar at ``idx`` as a :class:`FieldElement`."""
        d = int(self._full_den()[idx])
        return FieldElement(self.field, [fmpq(int(n[idx]), d) for n in self.num])

    def to_sympy(self):
        """Nested lists of sympy numbers."""
        vals = [e.to_sympy() for e in self.elements()]
        return np.array(vals, dtype=object).reshape(self.shape).tolist()

    def elements(self):
        """Flat list of :class:`FieldElement`."""
        flat = [n.ravel().tolist() for n in self.num]
        dens = self._full_den().ravel().tolist()
        return [FieldElement(self.field, [fmpq(int(a[e]), int(d)) for a in flat]) for e, d in enumerate(dens)]

    def to_float(self):
        """A float64 approximation."""
        alpha = self.field._alpha_float()
        if any(a.dtype == object for a in self.num + [self.den]):
            return np.array([float(e) for e in self.elements()]).reshape(self.shape)
        out = np.zeros(self.shape)
        for k, a in enumerate(self.num):
            out = out + a.astype(float) * alpha**k
        return out / self._full_den().astype(float)

    def __repr__(self):
        return f"ExactArray({self.to_sympy()!r}, field={self.field!r})"


def _matmul_axes(da, db):
    """Where a product A·B makes its denominators common: per row of A and per column of B, and,
    when that costs few extra digits, over all of A (or all of B), so that the product's
    denominators stay one per column (or per row) instead of one per entry."""
    row, col = _common(da, (1,)), _common(db, (0,))
    base = _amax(row).bit_length() + _amax(col).bit_length()
    all_a = _amax(_common(da, (0, 1))).bit_length() + _amax(col).bit_length()
    all_b = _amax(row).bit_length() + _amax(_common(db, (0, 1))).bit_length()
    if min(all_a, all_b) > base + 32:
        return (1,), (0,)
    return ((0, 1), (0,)) if all_a <= all_b else ((1,), (0, 1))


def _zeros(shape):
    """An all-zero coordinate: a read-only broadcast view (no memory per entry)."""
    return np.broadcast_to(np.zeros((), dtype=np.int64), shape)


def _floordiv(a, b):
    a, b = _int_array(a), _int_array(b)
    return a // b if a.dtype == b.dtype else _small(_obj(a) // _obj(b))


def _scale(n, L, den):
    """Numerators ``n`` over denominators ``den`` rewritten over the common denominators ``L``."""
    if L.shape == den.shape and L is den:
        return n
    f = _floordiv(L, den)
    if f.size and _amax(f) == 1:
        return n
    return _op(np.multiply, n, f, _amax(n) * _amax(f))


def _apply(op, a, b, xa, xb, count):
    """A bilinear integer ``op`` computed exactly; ``xa``, ``xb`` bound the entries, ``count`` the
    number of products in each sum.

    Small integers go through float64 (BLAS for matrix products): when count·xa·xb < 2^53 every
    product and partial sum is an integer that float64 holds exactly, whatever the summation
    order. Larger int64 operands are cut into limbs of k bits (x = Σ x_s 2^(ks)) so that each
    limb product is such a float64 product, and the limbs are put back together in integers.
    Beyond int64, Python integers (2-D products through ``flint.fmpz_mat``).
    """
    bound = xa * xb * count
    if a.dtype != object and b.dtype != object:
        if op is np.multiply:
            if bound < _LIMB:
                return a * b
        elif bound < _EXACT_FLOAT:
            return np.rint(op(a.astype(float), b.astype(float))).astype(np.int64)
        elif xa < _LIMB and xb < _LIMB:
            return _limb_product(op, a, b, xa, xb, count)
    return _small(op(_obj(a), _obj(b)))


def _limbs(x, xmax, k):
    """Float arrays x_s with x = Σ x_s 2^(ks) and |x_s| < 2^k (x int64)."""
    sign = np.sign(x)
    u = np.abs(x)
    mask = (1 << k) - 1
    out = []
    for _ in range(max(1, -(-xmax.bit_length() // k))):
        out.append((sign * (u & mask)).astype(float))
        u = u >> k
    return out


def _limb_product(op, a, b, xa, xb, count):
    k = max(1, (52 - max(count, 1).bit_length()) // 2)
    la, lb = _limbs(a, xa, k), _limbs(b, xb, k)
    groups = {}
    for s, x in enumerate(la):
        for t, y in enumerate(lb):
            p = np.rint(op(x, y)).astype(np.int64)      # |p| <= count·2^(2k) <= 2^52: exact
            groups[s + t] = p if s + t not in groups else groups[s + t] + p
    if xa * xb * count < _LIMB:
        out = None
        for u, r in groups.items():
            out = (r << (k * u)) if out is None else out + (r << (k * u))
        return out
    out = None
    for u, r in groups.items():
        term = _obj(r) * (1 << (k * u))
        out = term if out is None else out + term
    return _small(out)


def _matmul(a, b):
    """Exact 2-D product of integer arrays; large entries through ``flint.fmpz_mat``."""
    if a.dtype == object and a.ndim == 2 and b.ndim == 2 and a.size and b.size:
        from flint import fmpz_mat

        m, k = a.shape
        n = b.shape[1]
        prod = fmpz_mat(m, k, [int(x) for x in a.ravel()]) * fmpz_mat(k, n, [int(x) for x in b.ravel()])
        out = np.empty(m * n, dtype=object)
        out[:] = [int(x) for x in prod.entries()]
        return out.reshape(m, n)
    return a @ b
