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

Limits (:mod:`.limits`): at most ``digits`` decimal digits in any integer written in a number
(for a decimal with exponent, mantissa digits plus the exponent), expressions nested at most
``nesting`` deep (parentheses, signs, powers), and powers whose result would exceed ``digits``
are refused before they are computed.

Trusted: ``fractions``, ``re`` and the field arithmetic of :mod:`.field`.
"""
import re
from fractions import Fraction

from .field import Field, Invalid, trim
from .limits import Limits

_DECIMAL = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?"      # bounded exponent: no 1e999999999
_TOKEN = re.compile(rf"\s*(?:({_DECIMAL})|(sqrt)|([-+*/^()]))")
_RATIONAL = re.compile(rf"\s*[+-]?(?:\d+/\d+|{_DECIMAL})\s*")
_DIGITS = re.compile(r"(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?|\.(\d+)(?:[eE]([+-]?\d+))?")
MAX_EXPONENT = 10000


def digits(text, limits, where):
    """Refuse a number text with an integer of more than ``digits`` decimal digits (before parsing)."""
    for m in _DIGITS.finditer(text):
        whole, frac, exp, frac2, exp2 = m.groups()
        exp = exp or exp2 or "0"
        size = len(whole or "") + len(frac or frac2 or "") + (abs(int(exp)) if len(exp) < 7 else 10 ** 7)
        limits.check("digits", size, f"{where}: decimal digits of a number")


def rational(v, where, limits=None):
    """A rational number given as an int or a string such as ``"-3/4"`` or ``"0.5"``."""
    limits = limits or Limits()
    if isinstance(v, int) and not isinstance(v, bool):
        limits.check("digits", v.bit_length() * 30103 // 100000 + 1, f"{where}: decimal digits of a number")
        return Fraction(v)
    if isinstance(v, str) and _RATIONAL.fullmatch(v):
        digits(v, limits, where)
        try:
            return Fraction(v.strip())
        except ZeroDivisionError:
            pass
    raise Invalid(f"{where}: not a rational number: {short(v)}")


def short(v):
    """repr of v for a message, cut to 60 characters."""
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def tokenize(s, limits):
    pos, out = 0, []
    s = s.rstrip()
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            raise Invalid(f"cannot parse number {short(s)} at position {pos}")
        num, word, op = m.groups()
        if num:
            digits(num, limits, "number")
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

    def __init__(self, spec=None, limits=None):
        self.limits = limits = limits if limits is not None else Limits()
        spec = {} if spec is None else spec
        if not isinstance(spec, dict) or set(spec) - {"minpoly", "interval", "radicals"}:
            raise Invalid("witness.field: must be an object with keys minpoly, interval, radicals")
        if "minpoly" in spec or "interval" in spec:
            mp, iv = spec.get("minpoly"), spec.get("interval")
            if not isinstance(mp, list) or not isinstance(iv, list) or len(iv) != 2:
                raise Invalid("witness.field: needs a minpoly list and a two-element interval")
            limits.check("field_degree", len(mp) - 1, "field degree")
            self.F = Field([rational(c, "witness.field.minpoly", limits) for c in mp],
                           *(rational(c, "witness.field.interval", limits) for c in iv), limits=limits)
        else:
            self.F = Field((0, 1), -1, 1, limits)      # Q, as Q[x]/(x) with α = 0
        self.hints = []
        radicals = spec.get("radicals", [])
        if not isinstance(radicals, list):
            raise Invalid("witness.field.radicals: must be a list")
        for i, h in enumerate(radicals):
            where = f"witness.field.radicals[{i}]"
            if not isinstance(h, dict) or set(h) != {"base", "index", "root"}:
                raise Invalid(f"{where}: needs exactly base, index, root")
            n = h["index"]
            if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= MAX_EXPONENT:
                raise Invalid(f"{where}: index must be an integer from 2 to {MAX_EXPONENT}")
            base, root = self.coords(h["base"], where + ".base"), self.coords(h["root"], where + ".root")
            if not self.F.is_zero(self.F.sub(self.F.power(root, n), base)):
                raise Invalid(f"{where}: root^{n} != base")
            if n % 2 == 0 and self.F.sign(root) < 0:
                raise Invalid(f"{where}: root of even index must be >= 0 (principal root)")
            self.hints.append((base, n, root))

    def coords(self, v, where):
        if not isinstance(v, list):
            raise Invalid(f"{where}: field element must be a list of rationals (low to high degree)")
        self.limits.check("field_degree", len(v) - 1, f"{where}: degree of a field element")
        return self.F.reduce(trim(rational(c, where, self.limits) for c in v))

    def num(self, v, where="number"):
        """Evaluate a JSON number (int or grammar string) to a field element."""
        if isinstance(v, int) and not isinstance(v, bool):
            return self.F.const(rational(v, where, self.limits))
        if not isinstance(v, str):
            raise Invalid(f"{where}: numbers must be strings or integers, got {short(v)}")
        try:
            self._toks, self._i, self._depth = tokenize(v, self.limits), 0, 0
            val = self._expr()
            if self._i != len(self._toks):
                raise Invalid(f"unexpected {self._toks[self._i][1]!r}")
            return val
        except Invalid as e:
            raise Invalid(f"{where}: {short(v)}: {e}") from None

    # --- recursive descent over self._toks ---
    def _take(self, *ops):
        if self._i < len(self._toks) and self._toks[self._i][0] == "op" and self._toks[self._i][1] in ops:
            self._i += 1
            return self._toks[self._i - 1][1]
        return None

    def _expr(self):
        return self._chain(self._term, "+", "-")

    def _term(self):
        return self._chain(self._factor, "*", "/")

    def _chain(self, operand, *ops):
        v = operand()
        while op := self._take(*ops):
            v = getattr(self.F, {"+": "add", "-": "sub", "*": "mul", "/": "div"}[op])(v, operand())
        return v

    def _factor(self):
        self._depth += 1                        # signs, powers and parentheses all nest through here
        self.limits.check("nesting", self._depth, "nesting depth of a number expression")
        if sign := self._take("+", "-"):
            v = self._factor()
            v = v if sign == "+" else self.F.neg(v)
        else:
            base = self._atom()
            v = self.pow(base, self._factor()) if self._take("^") else base
        self._depth -= 1
        return v

    def _atom(self):
        if self._i >= len(self._toks):
            raise Invalid("unexpected end")
        kind, val = self._toks[self._i]
        self._i += 1
        if kind == "num":
            return self.F.const(val)
        if val not in ("sqrt", "(") or (val == "sqrt" and not self._take("(")):
            raise Invalid(f"unexpected {val!r}")
        v = self._expr()
        if not self._take(")"):
            raise Invalid("missing )")
        return self.pow(v, self.F.const(Fraction(1, 2))) if val == "sqrt" else v

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
