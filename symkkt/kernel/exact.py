"""Exact numbers of a certificate: the number grammar, evaluated in the certificate's field.

Grammar (no ``eval``)::

    expr   := term (('+'|'-') term)*
    term   := factor (('*'|'/') factor)*
    factor := ('+'|'-') factor | power
    power  := atom ('^' factor)?                       (right-associative)
    atom   := integer | decimal | 'sqrt' '(' expr ')' | '(' expr ')'

Decimals are exact (``0.1`` is 1/10). Exponents must be rational. ``b^(m/n)`` with n > 1 is
evaluated with a radical hint ``{"base": b, "index": n, "root": r}`` of ``witness.field``; every
hint is checked when the field is built: ``r^n == b`` exactly and ``r >= 0`` when n is even, so
``r`` is the principal real n-th root. ``sqrt(e)`` means ``e^(1/2)``.

Trusted: ``fractions``, ``re`` and the field arithmetic of :mod:`.field`.
"""
import re
from fractions import Fraction

from .field import Field, Invalid, trim

_TOKEN = re.compile(r"\s*(?:((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(sqrt)|([-+*/^()]))")
MAX_EXPONENT = 10000


def rational(v, where):
    """A rational number given as an int or a string such as ``"-3/4"`` or ``"0.5"``."""
    if isinstance(v, int) and not isinstance(v, bool):
        return Fraction(v)
    if isinstance(v, str):
        try:
            return Fraction(v.strip())
        except (ValueError, ZeroDivisionError):
            pass
    raise Invalid(f"{where}: not a rational number: {v!r}")


def tokenize(s):
    pos, out = 0, []
    s = s.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise Invalid(f"cannot parse number {s!r} at position {pos}")
        num, word, op = m.groups()
        out.append(("num", Fraction(num)) if num else ("op", word or op))
        pos = m.end()
    return out


class Numbers:
    """Number parsing and arithmetic for one certificate (field + verified radical hints).

    Examples
    --------
    >>> N = Numbers({"minpoly": ["-2", "0", "0", "0", "1"], "interval": ["1", "2"],
    ...              "radicals": [{"base": ["2"], "index": 4, "root": ["0", "1"]},
    ...                           {"base": ["2"], "index": 2, "root": ["0", "0", "1"]}]})
    >>> N.num("sqrt(2)/2")                      # α²/2 with α = 2^(1/4)
    (Fraction(0, 1), Fraction(0, 1), Fraction(1, 2))
    >>> N.num("-2^(-3/4)") == N.F.neg(N.F.inv(N.F.power(N.F.gen(), 3)))
    True
    >>> N.num("1.5e-3")
    (Fraction(3, 2000),)
    """

    def __init__(self, spec=None):
        spec = {} if spec is None else spec
        if not isinstance(spec, dict) or set(spec) - {"minpoly", "interval", "radicals"}:
            raise Invalid("witness.field: must be an object with keys minpoly, interval, radicals")
        if "minpoly" in spec or "interval" in spec:
            mp, iv = spec.get("minpoly"), spec.get("interval")
            if not isinstance(mp, list) or not isinstance(iv, list) or len(iv) != 2:
                raise Invalid("witness.field: needs a minpoly list and a two-element interval")
            self.F = Field([rational(c, "witness.field.minpoly") for c in mp],
                           *(rational(c, "witness.field.interval") for c in iv))
        else:
            self.F = Field((0, 1), -1, 1)              # Q, as Q[x]/(x) with α = 0
        self.hints = []
        radicals = spec.get("radicals", [])
        if not isinstance(radicals, list):
            raise Invalid("witness.field.radicals: must be a list")
        for i, h in enumerate(radicals):
            where = f"witness.field.radicals[{i}]"
            if not isinstance(h, dict) or set(h) != {"base", "index", "root"}:
                raise Invalid(f"{where}: needs exactly base, index, root")
            n = h["index"]
            if not isinstance(n, int) or isinstance(n, bool) or n < 2:
                raise Invalid(f"{where}: index must be an integer >= 2")
            base, root = self.coords(h["base"], where + ".base"), self.coords(h["root"], where + ".root")
            if not self.F.is_zero(self.F.sub(self.F.power(root, n), base)):
                raise Invalid(f"{where}: root^{n} != base")
            if n % 2 == 0 and self.F.sign(root) < 0:
                raise Invalid(f"{where}: root of even index must be >= 0 (principal root)")
            self.hints.append((base, n, root))

    def coords(self, v, where):
        if not isinstance(v, list):
            raise Invalid(f"{where}: field element must be a list of rationals (low to high degree)")
        return self.F.reduce(trim(rational(c, where) for c in v))

    def num(self, v, where="number"):
        """Evaluate a JSON number (int or grammar string) to a field element."""
        if isinstance(v, int) and not isinstance(v, bool):
            return self.F.const(v)
        if not isinstance(v, str):
            raise Invalid(f"{where}: numbers must be strings or integers, got {v!r}")
        try:
            self._toks, self._i = tokenize(v), 0
            val = self._expr()
            if self._i != len(self._toks):
                raise Invalid(f"unexpected {self._toks[self._i][1]!r}")
            return val
        except Invalid as e:
            raise Invalid(f"{where}: {v!r}: {e}") from None

    # --- recursive descent ---
    def _peek(self):
        return self._toks[self._i][1] if self._i < len(self._toks) else None

    def _take(self, op):
        if self._i < len(self._toks) and self._toks[self._i] == ("op", op):
            self._i += 1
            return True
        return False

    def _expr(self):
        v = self._term()
        while self._peek() in ("+", "-"):
            sign = self._toks[self._i][1]
            self._i += 1
            w = self._term()
            v = self.F.add(v, w) if sign == "+" else self.F.sub(v, w)
        return v

    def _term(self):
        v = self._factor()
        while self._peek() in ("*", "/"):
            op = self._toks[self._i][1]
            self._i += 1
            w = self._factor()
            v = self.F.mul(v, w) if op == "*" else self.F.div(v, w)
        return v

    def _factor(self):
        if self._take("+"):
            return self._factor()
        if self._take("-"):
            return self.F.neg(self._factor())
        base = self._atom()
        if self._take("^"):
            return self.pow(base, self._factor())
        return base

    def _atom(self):
        if self._i >= len(self._toks):
            raise Invalid("unexpected end")
        kind, val = self._toks[self._i]
        self._i += 1
        if kind == "num":
            return self.F.const(val)
        if val == "sqrt":
            if not self._take("("):
                raise Invalid("sqrt needs (")
            v = self._expr()
            if not self._take(")"):
                raise Invalid("missing )")
            return self.pow(v, self.F.const(Fraction(1, 2)))
        if val == "(":
            v = self._expr()
            if not self._take(")"):
                raise Invalid("missing )")
            return v
        raise Invalid(f"unexpected {val!r}")

    def pow(self, base, exponent):
        """base^exponent for a rational exponent; non-integer exponents need a radical hint."""
        e = self.F.reduce(exponent)
        if len(e) > 1:
            raise Invalid("exponent must be rational")
        e = e[0] if e else Fraction(0)
        m, n = e.numerator, e.denominator
        if abs(m) > MAX_EXPONENT or n > MAX_EXPONENT:
            raise Invalid(f"exponent {e} too large")
        if n == 1:
            return self.F.power(base, m)
        for b, idx, root in self.hints:
            if idx == n and self.F.is_zero(self.F.sub(base, b)):
                return self.F.power(root, m)
        raise Invalid(f"no radical hint for base {list(map(str, base)) or ['0']} with index {n}")
