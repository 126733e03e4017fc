"""Exact arithmetic in a real number field Q(α), sound for an untrusted modulus.

α is the unique real root of a polynomial p ∈ Q[x] in an isolating interval [lo, hi].
Elements are polynomials in α with Fraction coefficients (tuples, LOW → HIGH degree).
Ring operations are done modulo p; evaluation at α is a ring homomorphism whether or not p is
irreducible, so identities computed this way are true identities of real numbers.
Zero tests, inverses and signs are decided without trusting p:

- the field first checks with a Sturm sequence that p has exactly one root in (lo, hi), then
  replaces p by its squarefree part, so α is a simple root and p changes sign at α only;
- r(α) = 0  iff  g = gcd(r, p) vanishes at α  iff  g changes sign on [lo, hi] (g divides the
  squarefree p, whose only root in the interval is α);
- inverse: extended Euclid when gcd(r, p) = 1, otherwise the modulus shrinks to a factor of p
  that still vanishes at α;
- sign: r(α) has the sign of r(m), m the midpoint, once |r(m)| > M·(hi - lo)/2 with M a bound of
  |r'| on the interval; if the current interval does not show that, r(α) = 0 is tested exactly,
  and a non-zero r(α) is then separated by halving the interval (by the sign of p at m).

Gcds and Sturm sequences run on integer polynomials (subresultant remainder sequences), so their
coefficients stay of the size of determinants; products are formed over a common denominator. Every result of a ring operation is checked against the ``digits``
limit and charged to the ``operations`` limit, and every halving to ``precision``
(:mod:`.limits`).

Trusted: Python's ``fractions`` and ``math`` modules. Nothing else.
"""
from fractions import Fraction
from math import gcd, lcm


class Invalid(Exception):
    """The certificate is wrong; the message says why (becomes an invalid verdict)."""


# --- polynomials with Fraction coefficients (elements of Q(α) and their ring operations) ---

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


# --- integer polynomials (lists of ints, LOW → HIGH) for gcds, Sturm sequences and signs ---

def primitive(a):
    """The integer polynomial c·a with c > 0 rational and coprime coefficients (same signs, roots)."""
    a = trim(a)
    if not a:
        return []
    den = lcm(*(Fraction(c).denominator for c in a))
    ints = [int(Fraction(c) * den) for c in a]
    g = gcd(*ints)
    return [c // g for c in ints]


def integral(a):
    """(A, d): integer coefficients A and a positive integer d with a = A / d."""
    d = lcm(*(c.denominator for c in a))
    return [c.numerator * (d // c.denominator) for c in a], d


def size(a):
    """Bits of the integer form of a (the larger of max |A_i| and d, where a = A / d)."""
    if not a:
        return 0
    A, d = integral(a)
    return max(d.bit_length(), max(map(abs, A)).bit_length())


def _itrim(a):
    while a and a[-1] == 0:
        a.pop()
    return a


def _content_free(a):
    g = gcd(*a) if a else 1
    return [c // g for c in a] if g > 1 else a


def idivmod(a, b):
    """(f, q, r) with f·a = q·b + r, f > 0, deg r < deg b (pseudo-division of integer polynomials)."""
    r, n = list(a), len(b) - 1
    q = [0] * max(len(a) - n, 0)
    al, sg, f = abs(b[-1]), (1 if b[-1] > 0 else -1), 1
    while len(r) > n:
        c, k = r[-1], len(r) - 1 - n
        r, q, f = [x * al for x in r], [x * al for x in q], f * al
        q[k] += sg * c
        for j, bj in enumerate(b):
            r[k + j] -= sg * c * bj
        _itrim(r)
    return f, q, r


def prem(u, v):
    """|lc(v)|^(deg u - deg v + 1) · u  mod v, for integer polynomials with deg u >= deg v."""
    f, _, r = idivmod(u, v)
    return [c * (abs(v[-1]) ** (len(u) - len(v) + 1) // f) for c in r]


def subresultants(u, v):
    """Remainder sequence u, v, -prem(u, v)/β, ... with the subresultant divisors β (exact).

    Every term is a positive multiple of the classical term of the Sturm-type sequence
    r_{i+1} = -rem(r_{i-1}, r_i), so it can serve as a Sturm sequence when v = u'; its last term
    is a gcd of u and v. Coefficients stay of the size of determinants of the Sylvester matrix.
    """
    seq, g, h = [list(u), list(v)], 1, 1
    while seq[-1] and len(seq[-1]) > 1:
        a, b = seq[-2], seq[-1]
        d = len(a) - len(b)
        beta = g * h ** d
        seq.append(_itrim([-c // beta for c in prem(a, b)]))
        g = abs(b[-1])
        h = h if d == 0 else g ** d // h ** (d - 1)
    return seq if seq[-1] else seq[:-1]


def igcd(a, b):
    """A primitive gcd of the integer polynomials a, b (b non-zero)."""
    a, b = (a, b) if len(a) >= len(b) else (b, a)
    return _content_free(list(subresultants(a, b)[-1]))


def iquo(a, b):
    """Exact quotient a / b of integer polynomials (b divides a), made primitive."""
    _, q, r = idivmod(a, b)
    assert not r, "inexact polynomial division"
    return _content_free(q)


def ideriv(a):
    return _itrim([i * a[i] for i in range(1, len(a))])


def isign_at(a, t):
    """Sign of a(t) for an integer polynomial a and a rational t (exact, integers only)."""
    u, v = t.numerator, t.denominator
    h, vp = 0, 1
    for c in reversed(a):                 # h = v^deg · a(u/v), built by homogeneous Horner
        h, vp = h * u + c * vp, vp * v
    return (h > 0) - (h < 0)


def sturm_sequence(a):
    """Sturm sequence of an integer polynomial, each term a positive multiple of the classical one."""
    return subresultants(a, ideriv(a))


def variations(seq, t):
    signs = [s for s in (isign_at(p, t) for p in seq) if s]
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
    P = primitive(p)
    if isign_at(P, Fraction(lo)) == 0 or isign_at(P, Fraction(hi)) == 0:
        raise ValueError("Sturm count needs endpoints that are not roots")
    seq = seq or sturm_sequence(P)
    return variations(seq, Fraction(lo)) - variations(seq, Fraction(hi))


class Field:
    """Q(α) with α the unique root of ``minpoly`` in [lo, hi] (all Fractions; checked here).

    ``limits``: the :class:`~.limits.Limits` of the check (default: the default limits).

    Examples
    --------
    >>> F = Field((-2, 0, 0, 0, 1), 1, 2)          # α = 2^(1/4)
    >>> a = F.gen()
    >>> F.sign(F.sub(F.mul(a, a), F.const(2)))     # α² - 2 = √2 - 2 < 0
    -1
    >>> F.is_zero(F.sub(F.power(a, 4), F.const(2)))
    True
    """

    def __init__(self, minpoly, lo, hi, limits=None):
        if limits is None:
            from .limits import Limits
            limits = Limits()
        self.limits, self.halvings = limits, 0
        self.max_bits = limits["digits"] * 100000 // 30103 + 1  # bits of the largest d-digit integer
        p, self.lo, self.hi = trim(Fraction(c) for c in minpoly), Fraction(lo), Fraction(hi)
        limits.check("field_degree", len(p) - 1, "field degree")
        if len(p) < 2:
            raise Invalid("field: minpoly must have degree >= 1")
        if not self.lo < self.hi:
            raise Invalid("field: interval needs lo < hi")
        P = primitive(p)
        self._estimate(self._bits(P), "digits of the minimal polynomial (over a common denominator)")
        if isign_at(P, self.lo) == 0 or isign_at(P, self.hi) == 0:
            raise Invalid("field: minpoly vanishes at an interval endpoint")
        limits.spend(_gcd_cost(P, P), "operations of the field's Sturm sequence (estimated)")
        n = sturm_count(p, self.lo, self.hi)
        if n != 1:
            raise Invalid(f"field: minpoly has {n} distinct real roots in the interval, need exactly 1")
        g = igcd(P, ideriv(P))
        self._modulus(iquo(P, g) if len(g) > 1 else P)

    def _modulus(self, P):
        """Use the integer polynomial P (squarefree, α its only root in (lo, hi)) as modulus."""
        self.P, self.P_bits = P, self._bits(P)
        self.p = tuple(Fraction(c, P[-1]) for c in P)           # monic, for reductions
        self.sign_lo = isign_at(P, self.lo)

    @staticmethod
    def _bits(A):
        return max(map(abs, A)).bit_length()

    # --- ring operations (on representatives) ---
    def _result(self, a, ops):
        """Check the size of a result against ``digits`` and charge its cost to ``operations``."""
        if len(a) == 1:
            bits = max(a[0].numerator.bit_length(), a[0].denominator.bit_length())
        else:
            bits = size(a)
        if bits > 511:                              # large numbers cost more: charge (1 + bits/512)²
            if bits > self.max_bits:
                self._estimate(bits, "digits of an exact intermediate result")
            ops *= (1 + bits // 512) ** 2
        limits = self.limits
        limits.spent += ops
        if limits.spent > limits.values["operations"]:
            limits.spend(0)
        return a

    def const(self, c):
        return trim([Fraction(c)])

    def gen(self):
        return self.reduce((Fraction(0), Fraction(1)))

    def reduce(self, a):
        a = trim(a)
        if len(a) < len(self.p):
            return a
        return self._result(pdivmod(a, self.p)[1], (len(a) - len(self.p) + 1) * len(self.p))

    def add(self, a, b):
        if len(a) <= 1 and len(b) <= 1:
            c = (a[0] if a else 0) + (b[0] if b else 0)
            return self._result((c,), 1) if c else ()
        return self._result(padd(a, b), max(len(a), len(b)))

    neg = staticmethod(pneg)

    def sub(self, a, b):
        return self.add(a, pneg(b))

    def sum(self, terms):
        out = ()
        for t in terms:
            out = self.add(out, t)
        return out

    def mul(self, a, b):
        if not a or not b:
            return ()
        if len(a) == 1 and len(b) == 1:
            return self._result((a[0] * b[0],), 1)
        if len(a) == 1 or len(b) == 1:
            c, v = (a[0], b) if len(a) == 1 else (b[0], a)
            return self._result(trim(c * x for x in v), len(v))
        (A, da), (B, db) = integral(a), integral(b)         # over a common denominator: integers only
        steps = len(A) + len(B) - len(self.P)               # reduction steps, each may grow by P's size
        self._estimate(size(a) + size(b) + max(steps, 0) * self.P_bits, "digits of a product (estimated)")
        AB = [0] * (len(A) + len(B) - 1)
        for i, x in enumerate(A):
            for j, y in enumerate(B):
                AB[i + j] += x * y
        f, _, R = idivmod(AB, self.P)                       # f·AB = q·P + R, so a·b ≡ R / (f·da·db)
        den = f * da * db
        return self._result(trim(Fraction(c, den) for c in R), len(A) * len(B) + len(AB) * len(self.P))

    def power(self, a, n):
        """a^n for an integer n; the size of every square and product is estimated before it is formed."""
        if n < 0:
            return self.power(self.inv(a), -n)
        out, base = self.const(1), a
        while n:
            if n & 1:
                self._estimate(size(out) + size(base))
                out = self.mul(out, base)
            n >>= 1
            if n:
                self._estimate(2 * size(base))
                base = self.mul(base, base)
        return out

    def _estimate(self, bits, what="digits of a power (estimated before computing it)"):
        if bits > self.max_bits:
            self.limits.check("digits", bits * 30103 // 100000 + 1, what)

    # --- sound decisions ---
    def _separated(self, A):
        """Sign of A(α) if the interval already proves it (|A(m)| > M·w), else 0; A an integer polynomial."""
        m, w = (self.lo + self.hi) / 2, (self.hi - self.lo) / 2
        R = int(max(abs(self.lo), abs(self.hi))) + 1               # |t| < R on the interval
        M = sum(i * abs(c) * R ** (i - 1) for i, c in enumerate(A) if i)
        u, v = m.numerator, m.denominator
        h, vp = 0, 1
        for c in reversed(A):
            h, vp = h * u + c * vp, vp * v                          # h = v^deg · A(m)
        # |A(m)| > M·w  ⟺  |h|·w.den > M·w.num·v^deg
        if abs(h) * w.denominator > M * w.numerator * (vp // v):
            return (h > 0) - (h < 0)
        return 0

    def _vanishes(self, A):
        """Does A vanish at α?  Exact, via g = gcd(A, p); the modulus shrinks to a factor of p."""
        self.limits.spend(_gcd_cost(self.P, A), "operations of a gcd (estimated)")
        g = igcd(self.P, A)
        if len(g) == 1:
            return False
        zero = isign_at(g, self.lo) != isign_at(g, self.hi)
        self._modulus(g if zero else iquo(self.P, g))
        return zero

    def is_zero(self, a):
        a = self.reduce(a)
        if len(a) <= 1:
            return not a
        A = primitive(a)
        return not self._separated(A) and self._vanishes(A)

    def inv(self, a):
        while True:
            a = self.reduce(a)
            if not a:
                raise Invalid("division by zero")
            if len(a) == 1:
                return (1 / a[0],)
            A, n = primitive(a), len(self.P) - 1
            # the inverse's coefficients are quotients of determinants of the Sylvester matrix
            self._estimate(n * self._bits(A) + (len(A) - 1) * self.P_bits,
                           "digits of an inverse (estimated before computing it)")
            self.limits.spend(_gcd_cost(self.P, A), "operations of an inverse (estimated)")
            r, S, d = _ixgcd(A, self.P)
            if len(r) == 1:                         # S·A ≡ d·r (mod P), r constant, A = c·a
                c = Fraction(A[-1]) / a[-1]
                return self.reduce(self._result(tuple(Fraction(x * c.numerator, d * r[0] * c.denominator)
                                                      for x in S), len(S)))
            if isign_at(r, self.lo) != isign_at(r, self.hi):
                raise Invalid("division by zero")
            self._modulus(iquo(self.P, r))

    def div(self, a, b):
        return self.mul(a, self.inv(b))

    def sign(self, a):
        a = self.reduce(a)
        if len(a) <= 1:
            return 0 if not a else 1 if a[0] > 0 else -1
        A = primitive(a)
        s = self._separated(A)
        if s:
            return s
        if self._vanishes(A):
            return 0
        while not s:
            if self._bisect():
                return self.sign(a)
            s = self._separated(A)
        return s

    def _bisect(self, strict=True):
        """Halve the isolating interval; True if α turned out rational (modulus becomes x - α)."""
        n = len(self.P)
        if strict:
            self.limits.check("precision", self.halvings + 1, "halvings of the isolating interval (bits of α)")
            # p is evaluated at a midpoint of about `halvings` bits: n products of up to n·halvings bits
            self.limits.spend(n * (1 + n * self.halvings // 2048), "operations to refine α (estimated)")
        self.halvings += 1
        m = (self.lo + self.hi) / 2
        s = isign_at(self.P, m)
        if s == 0:
            self._modulus([-m.numerator, m.denominator])
            return True
        if s == self.sign_lo:
            self.lo = m
        else:
            self.hi = m
        return False

    def cmp(self, a, b):
        return self.sign(self.sub(a, b))

    def show(self, a):
        """An element for a message: exact if rational, else ≈ a float (never used to decide)."""
        a = self.reduce(a)
        return "0" if not a else str(a[0]) if len(a) == 1 else f"≈{self.to_float(a):.6g}"

    def to_float(self, a):
        """Approximate value (for messages only; never used in a decision, never exceeds a limit)."""
        while len(self.p) > 2 and self.hi - self.lo > Fraction(1, 2 ** 50) and \
                self.halvings < self.limits["precision"]:
            self._bisect(strict=False)
        a = self.reduce(a)
        return float(peval(a, (self.lo + self.hi) / 2 if len(self.p) > 2 else -self.p[0]))


def _gcd_cost(P, A):
    """Estimated cost of the remainder sequence of P and A (deg A <= deg P): len(A) steps of
    len(P)·len(A) operations on numbers that grow to about (len(P) + len(A))·bits bits."""
    bits = max(max(map(abs, P)).bit_length(), max(map(abs, A)).bit_length())
    return len(P) * len(A) ** 2 * (1 + (len(P) + len(A)) * bits // 4096) ** 2


def _ixgcd(A, P):
    """(r, S, d) for integer polynomials A, P: r a primitive gcd and S·A ≡ d·r (mod P), d > 0.

    Remainders are kept primitive; each cofactor S/d is divided by the same content as its
    remainder, so the identity holds exactly at every step.
    """
    r0, r1, (S0, d0), (S1, d1) = list(A), list(P), ([1], 1), ([], 1)
    while r1:
        f, q, r = idivmod(r0, r1)                           # f·r0 = q·r1 + r
        g = gcd(*r) if r else 1
        # S/d = (f·S0/d0 - q·S1/d1) / g
        qS1 = [0] * max(len(q) + len(S1) - 1, 0)
        for i, x in enumerate(q):
            for j, y in enumerate(S1):
                qS1[i + j] += x * y
        n = max(len(S0), len(qS1))
        S = [(f * d1 * (S0[i] if i < len(S0) else 0)) - d0 * (qS1[i] if i < len(qS1) else 0) for i in range(n)]
        d = d0 * d1 * g
        h = gcd(d, *S)
        r0, r1, (S0, d0), (S1, d1) = r1, [c // g for c in r], (S1, d1), (_itrim([c // h for c in S]), d // h)
    return r0, S0, d0
