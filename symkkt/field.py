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
from functools import reduce

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
        return f"NumberField({format_number(self.generator)}, minpoly {poly})"


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
def _objarray(shape, value=0):
    a = np.empty(shape, dtype=object)
    a.fill(fmpq(value))
    return a


class ExactArray:
    """A numpy-like array over a :class:`NumberField` (one fmpq object array per coordinate).

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
    """

    __array_priority__ = 100
    __slots__ = ("field", "c")

    def __init__(self, field, coords):
        self.field = field
        self.c = tuple(coords)

    @classmethod
    def from_sympy(cls, field, nested):
        """Build from a nested list (or array) of sympy numbers."""
        arr = np.array(nested, dtype=object)
        flat = [field.coords(v) for v in arr.ravel()]
        coords = []
        for i in range(field.degree):
            a = np.empty(arr.shape, dtype=object)
            a.ravel()[:] = [f[i] for f in flat] if flat else []
            coords.append(a)
        return cls(field, coords)

    @classmethod
    def zeros(cls, field, shape):
        return cls(field, [_objarray(shape) for _ in range(field.degree)])

    @classmethod
    def rational(cls, field, arr):
        """Embed an object array of rationals (fmpq or int)."""
        arr = np.asarray(arr, dtype=object)
        return cls(field, [arr] + [_objarray(arr.shape) for _ in range(field.degree - 1)])

    # -- shape ------------------------------------------------------------------------
    @property
    def shape(self):
        return self.c[0].shape

    @property
    def ndim(self):
        return self.c[0].ndim

    def _map(self, f):
        return ExactArray(self.field, [f(a) for a in self.c])

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
        for a, v in zip(self.c, value.c):
            a[idx] = v

    def copy(self):
        return self._map(lambda a: a.copy())

    def sum(self, axis=None):
        return self._map(lambda a: np.asarray(a.sum(axis=axis), dtype=object))

    def __len__(self):
        return self.shape[0]

    # -- linear ops ---------------------------------------------------------------------
    def _coerce(self, other):
        if isinstance(other, ExactArray):
            return other
        if isinstance(other, FieldElement):
            return ExactArray(self.field, [np.array(x, dtype=object) for x in other.c])
        if isinstance(other, (int, fmpq)):
            return ExactArray.rational(self.field, np.array(fmpq(other), dtype=object))
        if isinstance(other, np.ndarray) and other.dtype == object:
            return ExactArray.rational(self.field, other)
        return NotImplemented

    def __add__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return ExactArray(self.field, [a + b for a, b in zip(self.c, o.c)])

    __radd__ = __add__

    def __sub__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return ExactArray(self.field, [a - b for a, b in zip(self.c, o.c)])

    def __rsub__(self, other):
        return (-self) + other

    def __neg__(self):
        return self._map(lambda a: -a)

    # -- bilinear ops -------------------------------------------------------------------
    def _bilinear(self, other, op):
        n = self.field.degree
        if n == 1:
            return ExactArray(self.field, [op(self.c[0], other.c[0])])
        nz_a = [i for i, a in enumerate(self.c) if i == 0 or (a != 0).any()]
        nz_b = [j for j, b in enumerate(other.c) if j == 0 or (b != 0).any()]
        raw = {}
        for i in nz_a:
            for j in nz_b:
                prod = op(self.c[i], other.c[j])
                raw[i + j] = prod if i + j not in raw else raw[i + j] + prod
        if not raw:
            shape = op(self.c[0], other.c[0]).shape
            return ExactArray.zeros(self.field, shape)
        shape = next(iter(raw.values())).shape
        out = [None] * n
        for k, arr in raw.items():
            for l, t in enumerate(self.field._reduction[k]):
                if t != 0:
                    term = arr if t == 1 else arr * t
                    out[l] = term if out[l] is None else out[l] + term
        return ExactArray(self.field, [o if o is not None else _objarray(shape) for o in out])

    def __mul__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return self._bilinear(o, lambda a, b: a * b)

    __rmul__ = __mul__

    def __matmul__(self, other):
        o = self._coerce(other)
        if o is NotImplemented:
            return o
        return self._bilinear(o, _matmul)

    def __rmatmul__(self, other):
        o = self._coerce(other)
        return o._bilinear(self, _matmul)

    def einsum(self, spec, other):
        """``numpy.einsum(spec, self, other)`` over the field."""
        return self._bilinear(self._coerce(other), lambda a, b: np.einsum(spec, a, b))

    def __pow__(self, p):
        out = self
        for _ in range(p - 1):
            out = out * self
        return out

    # -- exact predicates -----------------------------------------------------------------
    def sign(self):
        """Elementwise exact signs as an int8 array."""
        flat = [a.ravel() for a in self.c]
        size = flat[0].size
        out = np.zeros(size, dtype=np.int8)
        if self.field.degree == 1:
            for i, x in enumerate(flat[0]):
                out[i] = (x > 0) - (x < 0)
            return out.reshape(self.shape)
        # fast float screen with a generous error bound; exact fallback near zero
        alpha = float(self.field.ball([fmpq(0), fmpq(1)] + [fmpq(0)] * (self.field.degree - 2)).mid())
        approx = np.zeros(size)
        bound = np.zeros(size)
        for k, a in enumerate(flat):
            f = a.astype(float)
            approx += f * alpha**k
            bound += np.abs(f) * abs(alpha) ** k
        tol = bound * 1e-12 + 1e-300
        sure = np.abs(approx) > tol
        out[sure] = np.sign(approx[sure]).astype(np.int8)
        for i in np.nonzero(~sure)[0]:
            out[i] = self.field.sign(tuple(a[i] for a in flat))
        return out.reshape(self.shape)

    def element(self, idx):
        """The scalar at ``idx`` as a :class:`FieldElement`."""
        return FieldElement(self.field, [a[idx] for a in self.c])

    def to_sympy(self):
        """Nested lists of sympy numbers."""
        flat = [a.ravel() for a in self.c]
        vals = [self.field.to_sympy(tuple(a[i] for a in flat)) for i in range(flat[0].size)]
        return np.array(vals, dtype=object).reshape(self.shape).tolist()

    def elements(self):
        """Flat list of :class:`FieldElement`."""
        flat = [a.ravel() for a in self.c]
        return [FieldElement(self.field, [a[i] for a in flat]) for i in range(flat[0].size)]

    def to_float(self):
        """A float64 approximation."""
        alpha = float(self.field.ball([fmpq(0), fmpq(1)] + [fmpq(0)] * (self.field.degree - 2)).mid()) \
            if self.field.degree > 1 else 1.0
        out = np.zeros(self.shape)
        for k, a in enumerate(self.c):
            out = out + a.astype(float) * alpha**k
        return out

    def __repr__(self):
        return f"ExactArray({self.to_sympy()!r}, field={self.field!r})"


def _matmul(a, b):
    """Exact 2-D product of fmpq object arrays through ``flint.fmpq_mat``."""
    if a.ndim == 2 and b.ndim == 2 and a.size and b.size:
        m, k = a.shape
        n = b.shape[1]
        prod = fmpq_mat(m, k, list(a.ravel())) * fmpq_mat(k, n, list(b.ravel()))
        out = np.empty(m * n, dtype=object)
        out[:] = prod.entries()
        return out.reshape(m, n)
    return a @ b
