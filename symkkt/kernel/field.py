"""Exact arithmetic in a real number field Q(α), sound for an untrusted modulus.

α is the unique real root of a polynomial p ∈ Q[x] in an isolating interval [lo, hi].
Elements are polynomials in α with Fraction coefficients (tuples, LOW → HIGH degree).
Ring operations are done modulo p; evaluation at α is a ring homomorphism whether or not p is
irreducible, so identities computed this way are true identities of real numbers.
Zero tests, inverses and signs are decided with gcds and Sturm sequences (never by trusting p):

- r(α) = 0  iff  g = gcd(r, p) has a root in (lo, hi) (α is the only root of p there);
- inverse: extended Euclid when gcd(r, p) = 1, otherwise the modulus shrinks to a factor of p
  that still vanishes at α;
- sign: bisect the isolating interval until r has no root in it, then evaluate r at a rational point.

Trusted: Python's ``fractions`` module. Nothing else.
"""
from fractions import Fraction


class Invalid(Exception):
    """The certificate is wrong; the message says why (becomes an invalid verdict)."""


def trim(a):
    a = list(a)
    while a and a[-1] == 0:
        a.pop()
    return tuple(a)


def padd(a, b):
    n = max(len(a), len(b))
    return trim([(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)])


def pneg(a):
    return tuple(-c for c in a)


def peval(a, t):
    v = Fraction(0)
    for c in reversed(a):
        v = v * t + c
    return v


def pmul(a, b):
    if not a or not b:
        return ()
    out = [Fraction(0)] * (len(a) + len(b) - 1)
    for i, ai in enumerate(a):
        if ai:
            for j, bj in enumerate(b):
                out[i + j] += ai * bj
    return trim(out)


def pdivmod(a, b):
    """Quotient and remainder of a by a non-zero b."""
    a, b = list(trim(a)), trim(b)
    if not b:
        raise ZeroDivisionError("polynomial division by zero")
    q = [Fraction(0)] * max(len(a) - len(b) + 1, 0)
    lead = Fraction(1) / b[-1]
    for i in range(len(a) - len(b), -1, -1):
        c = a[i + len(b) - 1] * lead
        q[i] = c
        if c:
            for j, bj in enumerate(b):
                a[i + j] -= c * bj
    return trim(q), trim(a[:len(b) - 1])


def xgcd(a, b):
    """(g, s) with s·a ≡ g (mod b), g = gcd(a, b) monic."""
    r0, r1, s0, s1 = trim(a), trim(b), (Fraction(1),), ()
    while r1:
        q, r = pdivmod(r0, r1)
        r0, r1, s0, s1 = r1, r, s1, padd(s0, pneg(pmul(q, s1)))
    return tuple(c / r0[-1] for c in r0), tuple(c / r0[-1] for c in s0)


def sturm_sequence(p):
    seq = [trim(p), trim([i * p[i] for i in range(1, len(p))])]
    while seq[-1]:
        seq.append(pneg(pdivmod(seq[-2], seq[-1])[1]))
    return seq[:-1]


def variations(seq, t):
    signs = [v > 0 for v in (peval(s, t) for s in seq) if v != 0]
    return sum(1 for u, v in zip(signs, signs[1:]) if u != v)


def sturm_count(p, lo, hi, seq=None):
    """Number of distinct real roots of p in (lo, hi); lo, hi must not be roots of p.

    Examples
    --------
    >>> sturm_count((Fraction(-2), 0, 1), Fraction(0), Fraction(2))   # x^2 - 2
    1
    >>> sturm_count((Fraction(-2), 0, 0, 0, 1), Fraction(-2), Fraction(2))  # x^4 - 2
    2
    """
    if peval(p, lo) == 0 or peval(p, hi) == 0:
        raise ValueError("Sturm count needs endpoints that are not roots")
    seq = seq or sturm_sequence(p)
    return variations(seq, lo) - variations(seq, hi)


class Field:
    """Q(α) with α the unique root of ``minpoly`` in [lo, hi] (all Fractions; checked here).

    Examples
    --------
    >>> F = Field((-2, 0, 0, 0, 1), 1, 2)          # α = 2^(1/4)
    >>> a = F.gen()
    >>> F.sign(F.sub(F.mul(a, a), F.const(2)))     # α² - 2 = √2 - 2 < 0
    -1
    >>> F.is_zero(F.sub(F.power(a, 4), F.const(2)))
    True
    """

    def __init__(self, minpoly, lo, hi):
        p, self.lo, self.hi = trim(Fraction(c) for c in minpoly), Fraction(lo), Fraction(hi)
        if len(p) < 2:
            raise Invalid("field: minpoly must have degree >= 1")
        if not self.lo < self.hi:
            raise Invalid("field: interval needs lo < hi")
        if peval(p, self.lo) == 0 or peval(p, self.hi) == 0:
            raise Invalid("field: minpoly vanishes at an interval endpoint")
        n = sturm_count(p, self.lo, self.hi)
        if n != 1:
            raise Invalid(f"field: minpoly has {n} distinct real roots in the interval, need exactly 1")
        self.p = p

    # --- ring operations (on representatives) ---
    def const(self, c):
        return trim([Fraction(c)])

    def gen(self):
        return self.reduce((Fraction(0), Fraction(1)))

    def reduce(self, a):
        a = trim(a)
        return a if len(a) < len(self.p) else pdivmod(a, self.p)[1]

    add, neg = staticmethod(padd), staticmethod(pneg)

    def sub(self, a, b):
        return padd(a, pneg(b))

    def sum(self, terms):
        out = ()
        for t in terms:
            out = padd(out, t)
        return out

    def mul(self, a, b):
        if not a or not b:
            return ()
        if len(a) == 1 or len(b) == 1:
            return trim(c * a[0] for c in b) if len(a) == 1 else trim(c * b[0] for c in a)
        return self.reduce(pmul(a, b))

    def power(self, a, n):
        if n < 0:
            return self.power(self.inv(a), -n)
        out, base = self.const(1), a
        while n:
            if n & 1:
                out = self.mul(out, base)
            base, n = self.mul(base, base), n >> 1
        return out

    # --- sound decisions ---
    def _vanishes_at_alpha(self, g):
        """Does the divisor g of p vanish at α?  (Sturm count of g on the isolating interval.)"""
        return len(g) > 1 and sturm_count(g, self.lo, self.hi) > 0

    def is_zero(self, a):
        a = self.reduce(a)
        if len(a) <= 1:
            return not a
        g = xgcd(a, self.p)[0]
        if len(g) == 1:
            return False
        zero = self._vanishes_at_alpha(g)
        self.p = g if zero else pdivmod(self.p, g)[0]   # a smaller modulus, α still its root
        return zero

    def inv(self, a):
        while True:
            a = self.reduce(a)
            if not a:
                raise Invalid("division by zero")
            g, s = xgcd(a, self.p)
            if len(g) == 1:
                return self.reduce(s)
            if self._vanishes_at_alpha(g):
                raise Invalid("division by zero")
            self.p = pdivmod(self.p, g)[0]

    def div(self, a, b):
        return self.mul(a, self.inv(b))

    def sign(self, a):
        if self.is_zero(a):
            return 0
        a = self.reduce(a)
        if len(a) == 1:
            return 1 if a[0] > 0 else -1
        seq = sturm_sequence(a)
        while peval(a, self.lo) == 0 or peval(a, self.hi) == 0 or sturm_count(a, self.lo, self.hi, seq):
            if self._bisect():
                return self.sign(a)
        return 1 if peval(a, self.lo) > 0 else -1

    def _bisect(self):
        """Halve the isolating interval; True if α turned out rational (modulus becomes x - α)."""
        m = (self.lo + self.hi) / 2
        if peval(self.p, m) == 0:
            self.p = (-m, Fraction(1))
            return True
        if sturm_count(self.p, self.lo, m):
            self.hi = m
        else:
            self.lo = m
        return False

    def cmp(self, a, b):
        return self.sign(self.sub(a, b))

    def to_float(self, a):
        """Approximate value (for messages only; never used in a decision)."""
        while len(self.p) > 2 and self.hi - self.lo > Fraction(1, 2 ** 50):
            self._bisect()
        a = self.reduce(a)
        return float(peval(a, (self.lo + self.hi) / 2 if len(self.p) > 2 else -self.p[0]))
