"""Exact numbers: the grammar users write numbers in, and its printer.

Every number a user writes (in YAML, JSON, CSV or on the command line) is read by
:func:`parse_number`, a small recursive-descent parser over this grammar (whitespace is
allowed between tokens)::

    expr   := term (('+' | '-') term)*
    term   := factor (('*' | '/') factor)*
    factor := ('+' | '-') factor | power
    power  := atom (('^' | '**') factor)?          # right associative
    atom   := NUMBER | 'sqrt' '(' expr ')' | '(' expr ')'
    NUMBER := 12 | 0.1 | .5 | 1.25e-3              # decimals are exact: 0.1 is 1/10

Numbers are written in ASCII: other digits (fullwidth ``３``, Arabic-Indic ``٣``) are
refused. Exponents must be rational, roots are real roots, and results are real algebraic
numbers built only with sympy constructors: no ``eval``, no ``sympify``, no ``parse_expr``.

Sizes are bounded by :mod:`symkkt.limits` before the work: the characters of the text, the
digits of every integer (a power's size is estimated from its exponent before it is
computed), the digits under a root, the nesting of parentheses and signs, and the degree
and number of radicals of the field the number generates.
:func:`format_number` prints such a number back into the grammar.
"""
from __future__ import annotations

import fractions
import math
import re
import unicodedata

import sympy
from sympy.core.evalf import PrecisionExhausted

from . import limits
from .errors import LimitError, NumberSyntaxError

__all__ = ["parse_number", "format_number", "exact_sign"]

_TOKEN = re.compile(r"(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<op>\*\*|[-+*/^()])")
_LITERAL = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_SIMPLE = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]*))?(?:/([0-9]+))?")
_NONFINITE = re.compile(r"\s*[+-]?\.?(nan|inf|infinity)\s*", re.IGNORECASE)
_LOG10_2 = math.log10(2)
_X = sympy.Dummy("x")


def _int(digits):
    """``int(digits)`` for ASCII digit strings of any length (Python refuses > 4300 digits)."""
    if len(digits) <= 4000:
        return int(digits)
    from flint import fmpz

    return int(fmpz(digits))


def _int_str(n):
    """``str(n)`` for integers of any size."""
    n = int(n)
    if n.bit_length() <= 13000:
        return str(n)
    from flint import fmpz

    return str(fmpz(n))


def _ndigits(n, bound):
    """Decimal digits of the integer ``n`` if more than ``bound``, else 0 (cheap when small)."""
    n = abs(int(n))
    if n.bit_length() <= bound / _LOG10_2:
        return 0
    d = len(_int_str(n))
    return d if d > bound else 0


def _rational_digits(r, bound):
    """Digits of the larger of numerator and denominator of a Rational if above ``bound``, else 0."""
    return max(_ndigits(r.p, bound), _ndigits(r.q, bound))


def _log10_height(e):
    """An estimate of the decimal digits that one factor ``e`` adds to a power ``e^p``.

    Exact for rationals (log10 of the larger of |numerator| and denominator) and additive over
    products and rational powers of rationals; for sums, the largest such height inside plus
    log10 of the number of rationals (|a + b| <= 2 max(|a|, |b|)).
    """
    if e.is_Rational:
        return math.log10(max(abs(int(e.p)), int(e.q)))
    if e.is_Mul:
        return sum(_log10_height(f) for f in e.args)
    if e.is_Pow and e.exp.is_Rational and e.base.is_Rational:
        return abs(float(e.exp)) * _log10_height(e.base)
    rats = list(e.atoms(sympy.Rational))
    top = max((math.log10(max(abs(int(r.p)), int(r.q))) for r in rats), default=0.0)
    return top + (math.log10(len(rats)) if len(rats) > 1 else 0.0)


def check_degree(numbers, file=None, place=None):
    """Refuse numbers whose radicals exceed the ``radicals`` or ``field_degree`` limits.

    Parameters
    ----------
    numbers : iterable of sympy.Expr
    file, place : str, optional
        Where the numbers come from, for the message.

    Raises
    ------
    LimitError
    """
    from .field import RadicalCensus

    census = RadicalCensus()
    for v in numbers:
        census.add(v)
    census.check(file, place)


def exact_sign(e):
    """The exact sign (-1, 0 or 1) of a real algebraic number.

    Parameters
    ----------
    e : sympy.Expr
        A real algebraic number without free symbols.

    Returns
    -------
    int

    Raises
    ------
    LimitError
        When deciding zero would need the minimal polynomial of a number whose field exceeds
        the ``field_degree`` limit.

    Examples
    --------
    >>> import sympy
    >>> exact_sign(sympy.sqrt(3 + 2*sympy.sqrt(2)) - 1 - sympy.sqrt(2))
    0
    >>> exact_sign(1 - sympy.sqrt(2))
    -1
    """
    if e.is_Rational:
        return int(e.p > 0) - int(e.p < 0)
    for maxn in (100, 10_000):
        try:
            v = e.evalf(30, strict=True, maxn=maxn)
        except PrecisionExhausted:
            if maxn == 100:
                check_degree([e])
                if sympy.minimal_polynomial(e, _X) == _X:
                    return 0
            continue
        if v.is_real is False:
            raise ValueError(f"{e} is not a real number")
        return int(bool(v > 0)) - int(bool(v < 0))
    raise ValueError(f"cannot decide the sign of {e}")  # pragma: no cover


def _ascii_problem(text):
    """A message for the first non-ASCII character of ``text``, or ``None``."""
    for col, ch in enumerate(text, 1):
        if not ch.isascii():
            name = unicodedata.name(ch, "unnamed character")
            if unicodedata.category(ch) == "Nd" or ch.isdigit():
                return (f"non-ASCII digit {ch!r} (U+{ord(ch):04X} {name}) at column {col}: "
                        "write numbers with the ASCII digits 0-9")
            return f"non-ASCII character {ch!r} (U+{ord(ch):04X} {name}) at column {col}: numbers are written in ASCII"
    return None


class _Reader:
    """Recursive-descent parser for one number string, with the size limits of :mod:`symkkt.limits`."""

    def __init__(self, text, fail, over):
        self.fail, self.over, self.toks, self.i, self.depth = fail, over, [], 0, 0
        self.digits = limits.get("digits")
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos == len(text):
                break
            m = _TOKEN.match(text, pos)
            tok = (m.lastgroup, m.group()) if m else ("bad", text[pos])
            self.toks.append((*tok, pos + 1))
            pos += len(tok[1])

    def peek(self):
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self):
        self.i += 1
        return self.toks[self.i - 1][1]

    def unexpected(self):
        if self.i >= len(self.toks):
            self.fail("unexpected end of the number")
        kind, tok, col = self.toks[self.i]
        hint = " (no names except sqrt: numbers only)" if kind == "name" and tok != "sqrt" else ""
        self.fail(f"unexpected {tok!r} at column {col}{hint}")

    def expect(self, tok):
        if self.peek() != tok:
            self.unexpected()
        self.i += 1

    def sized(self, v):
        """Check the digits of every rational inside ``v`` (a full traversal only for irrationals)."""
        rats = [v] if v.is_Rational else v.atoms(sympy.Rational)
        big = max((_rational_digits(r, self.digits) for r in rats), default=0)
        if big:
            self.over("digits", big)
        return v

    def parse(self):
        if not self.toks:
            self.fail("empty")
        v = self.expr()
        if self.i < len(self.toks):
            self.unexpected()
        self.sized(v)
        if not v.is_Rational:
            self.over_degree(v)
        return v

    def over_degree(self, v):
        from .field import RadicalCensus

        census = RadicalCensus()
        census.add(v)
        census.check(over=self.over)

    def expr(self):
        terms = [self.term()]
        while self.peek() in ("+", "-"):
            neg = self.take() == "-"
            w = self.term()
            terms.append(sympy.Mul(sympy.Integer(-1), w) if neg else w)
        return sympy.Add(*terms) if len(terms) > 1 else terms[0]

    def term(self):
        factors = [self.factor()]
        while self.peek() in ("*", "/"):
            div = self.take() == "/"
            w = self.factor()
            if div:
                if exact_sign(w) == 0:
                    self.fail("division by zero")
                w = sympy.Pow(w, sympy.Integer(-1))
            factors.append(w)
        return sympy.Mul(*factors) if len(factors) > 1 else factors[0]

    def factor(self):
        self.depth += 1
        if self.depth > limits.get("nesting"):
            self.over("nesting", self.depth)
        if self.peek() in ("+", "-"):
            neg = self.take() == "-"
            v = self.factor()
            v = sympy.Mul(sympy.Integer(-1), v) if neg else v
        else:
            v = self.power()
        self.depth -= 1
        return v

    def power(self):
        base = self.atom()
        if self.peek() in ("^", "**"):
            self.take()
            return self.pow(base, self.factor())
        return base

    def atom(self):
        if self.i >= len(self.toks):
            self.unexpected()
        kind, tok, _ = self.toks[self.i]
        if kind == "num":
            self.i += 1
            return self.literal(tok)
        if tok in ("sqrt", "("):
            self.i += 1
            if tok == "sqrt":
                self.expect("(")
            v = self.expr()
            self.expect(")")
            return self.pow(v, sympy.Rational(1, 2)) if tok == "sqrt" else v
        self.unexpected()

    def literal(self, tok):
        whole, frac, exp = _LITERAL.fullmatch(tok).groups()
        frac = frac or ""
        mantissa = (whole + frac).lstrip("0")
        if not mantissa:
            return sympy.Integer(0)
        if exp and len(exp.lstrip("+-").lstrip("0")) > 30:
            self.over("digits", 10 ** len(exp.lstrip("+-").lstrip("0")))
        k = (int(exp) if exp else 0) - len(frac)
        size = max(len(mantissa) + max(k, 0), 1 - k if k < 0 else 0)
        if size > self.digits:
            self.over("digits", size)
        return sympy.Rational(_int(mantissa) * 10 ** max(k, 0), 10 ** max(-k, 0))

    def estimate(self, base, p, q):
        """Upper estimate of the digits of ``base^(p/q)`` (refused above the ``digits`` limit)."""
        height = _log10_height(base)
        if height == 0 or p == 0:
            return
        log_size = math.log10(abs(p)) - math.log10(q) + math.log10(height)
        if log_size > math.log10(self.digits):
            self.over("digits", int(abs(p) * height / q) + 1 if log_size < 15 else 10 ** int(log_size))

    def radicand(self, base):
        rats = [base] if base.is_Rational else base.atoms(sympy.Rational)
        bound = limits.get("radicand_digits")
        big = max((_rational_digits(r, bound) for r in rats), default=0)
        if big:
            self.over("radicand_digits", big)

    def pow(self, base, exp):
        if not exp.is_Rational:
            self.fail(f"exponent must be rational, got {format_number(exp)}")
        p, q = int(exp.p), int(exp.q)
        sign = exact_sign(base)
        if sign == 0 and p < 0:
            self.fail("division by zero")
        self.estimate(base, p, q)
        if q != 1:
            self.radicand(base)
        if sign < 0 and q != 1:
            if q % 2 == 0:
                self.fail("not a real number (even root of a negative number)")
            magnitude = sympy.Pow(sympy.Mul(sympy.Integer(-1), base), exp)
            v = magnitude if p % 2 == 0 else sympy.Mul(sympy.Integer(-1), magnitude)
        else:
            v = sympy.Pow(base, exp)
        if q != 1 and not v.is_Rational:
            self.over_degree(v)
        return self.sized(v)


def _simple(text, digits):
    """The value of a plain decimal or fraction such as ``-12.5`` or ``3/4`` (fast path), else ``None``.

    Only for texts shorter than the ``digits`` limit, so no integer involved can exceed it.
    """
    m = _SIMPLE.fullmatch(text) if len(text) < digits else None
    if not m:
        return None
    sign, whole, frac, den = m.groups()
    frac = frac or ""
    if den is not None and not den.strip("0"):
        return None
    num = _int(whole + frac) * (-1 if sign == "-" else 1)
    return sympy.Rational(num, 10 ** len(frac) * (_int(den) if den else 1))


def parse_number(value, file=None, place=None, float_input=False):
    """Read one exact real algebraic number.

    Parameters
    ----------
    value : str or int or float
        Text in the number grammar (see the module docstring), a Python int, or a float
        that came from JSON (refused unless ``float_input``). Rational and real algebraic
        sympy numbers and ``fractions.Fraction`` pass through unchanged.
    file, place : str, optional
        Where the number comes from, for error messages.
    float_input : bool
        Take floats as their exact binary value instead of refusing them.

    Returns
    -------
    sympy.Expr
        A sympy Rational or a real algebraic expression of rationals and radicals.

    Raises
    ------
    NumberSyntaxError
        If the value is not a number of the grammar, is not finite or not real, or divides
        by zero.
    LimitError
        If the number exceeds a limit of :mod:`symkkt.limits` (``characters``, ``digits``,
        ``radicand_digits``, ``nesting``, ``field_degree``, ``radicals``).

    Examples
    --------
    >>> parse_number("0.1")
    1/10
    >>> parse_number("-2^(-1/4)")
    -2**(3/4)/2
    >>> parse_number("sqrt(2)/2 + 1.25e-3")
    1/800 + sqrt(2)/2
    >>> parse_number("(-8)^(1/3)")
    -2
    >>> parse_number("1/0", "params.yaml", "[0].weight[0][1]")
    Traceback (most recent call last):
    ...
    symkkt.errors.NumberSyntaxError: params.yaml: [0].weight[0][1]: cannot read number '1/0': division by zero
    >>> parse_number("10^10^10", "params.yaml", "[0].weight[0][1]")
    Traceback (most recent call last):
    ...
    symkkt.errors.LimitError: params.yaml: [0].weight[0][1]: limit exceeded: 10000000001 digits > 4000 (raise with --limit digits=N)
    """
    def fail(reason):
        if isinstance(value, str):
            shown = repr(value if len(value) <= 80 else value[:77] + "...")
        else:
            shown = str(value)[:80] if not isinstance(value, int) or value.bit_length() < 300 else "a large int"
        raise NumberSyntaxError(f"cannot read number {shown}: {reason}", file, place)

    def over(name, size):
        limits.check(name, size, file, place)

    if isinstance(value, bool) or value is None:
        fail("expected a number")
    if isinstance(value, int):
        over("digits", _ndigits(value, limits.get("digits")))
        return sympy.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            fail("not a finite number (NaN and infinity are not allowed)")
        if not float_input:
            fail("floats are inexact; write the number as a string (e.g. '0.1') "
                 "or allow floats with --float-input")
        return sympy.Rational(fractions.Fraction(value))
    if isinstance(value, fractions.Fraction):
        bound = limits.get("digits")
        over("digits", max(_ndigits(value.numerator, bound), _ndigits(value.denominator, bound)))
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, sympy.Basic):
        if value.is_Rational or (isinstance(value, sympy.Expr) and not value.free_symbols and
                                 not value.has(sympy.Float) and value.is_real and value.is_algebraic):
            return value
        fail("not an exact real algebraic number")
    if not isinstance(value, str):
        fail(f"expected a number, got {type(value).__name__}")
    over("characters", len(value))
    if not value.isascii():
        fail(_ascii_problem(value))
    fast = _simple(value, limits.get("digits"))
    if fast is not None:
        return fast
    if _NONFINITE.fullmatch(value):
        fail("not a finite number (NaN and infinity are not allowed)")
    try:
        return _Reader(value, fail, over).parse()
    except LimitError as err:
        if err.file is None and err.place is None:
            raise err.located(file, place) from None
        raise
    except RecursionError:
        fail("nested too deeply for the reader (Python's recursion limit)")


def _wrap(e, prec):
    """Print ``e``, parenthesised unless it binds at least as tightly as ``prec``."""
    text, own = _fmt(e)
    return text if own >= prec else f"({text})"


def _fmt(e):
    """Return ``(text, precedence)``: 1 sum or sign, 2 product, 3 power, 4 atom."""
    if e.is_Integer:
        return _int_str(e.p), (4 if e >= 0 else 1)
    if e.is_Rational:
        return f"{_int_str(e.p)}/{_int_str(e.q)}", (2 if e > 0 else 1)
    if e.is_Add:
        terms = e.as_ordered_terms()
        out = _wrap(terms[0], 1)
        for t in terms[1:]:
            neg = t.could_extract_minus_sign()
            out += (" - " if neg else " + ") + _wrap(-t if neg else t, 2)
        return out, 1
    if e.is_Mul:
        if e.as_coeff_Mul()[0] < 0:
            return "-" + _wrap(-e, 2), 1
        num, den = [], []
        for f in sympy.Mul.make_args(e):
            if f.is_Rational:
                num += [sympy.Integer(f.p)] if f.p != 1 else []
                den += [sympy.Integer(f.q)] if f.q != 1 else []
            elif f.is_Pow and f.exp.is_Rational and f.exp < 0:
                den.append(sympy.Pow(f.base, -f.exp))
            else:
                num.append(f)
        text = "*".join(_wrap(f, 3) for f in num) or "1"
        if den:
            d = "*".join(_wrap(f, 3) for f in den)
            text += "/" + (d if len(den) == 1 else f"({d})")
        return text, 2
    if e.is_Pow and e.exp.is_Rational:
        b, x = e.base, e.exp
        if not x.is_Integer and b.is_negative:
            raise ValueError(f"format_number: {e} is not a real number")
        if x < 0:
            return "1/" + _wrap(sympy.Pow(b, -x), 3), 2
        if x == sympy.Rational(1, 2):
            return f"sqrt({_fmt(b)[0]})", 4
        return _wrap(b, 4) + "^" + (str(x) if x.is_Integer else f"({x.p}/{x.q})"), 3
    raise ValueError(f"format_number: {e!r} is not an exact real algebraic number of the grammar")


def format_number(expr):
    """Print an exact real algebraic number in the number grammar.

    Parameters
    ----------
    expr : sympy.Expr or int or fractions.Fraction
        A rational number, or a combination of rationals with ``+``, ``*`` and powers
        with rational exponents.

    Returns
    -------
    str
        Text that :func:`parse_number` reads back to the same number (``^``, never ``**``).

    Raises
    ------
    ValueError
        For floats, symbols, complex numbers and other non-grammar expressions.

    Examples
    --------
    >>> import sympy
    >>> format_number(sympy.Rational(3, 5))
    '3/5'
    >>> format_number(-sympy.sqrt(2) / 2)
    '-sqrt(2)/2'
    >>> format_number(sympy.Pow(2, sympy.Rational(1, 4)))
    '2^(1/4)'
    >>> format_number(2 + sympy.sqrt(2))
    'sqrt(2) + 2'
    >>> parse_number(format_number(1 / (2 + sympy.sqrt(2)))) == 1 / (2 + sympy.sqrt(2))
    True
    """
    if isinstance(expr, bool):
        raise ValueError("format_number: a bool is not a number")
    if isinstance(expr, int):
        expr = sympy.Integer(expr)
    elif isinstance(expr, fractions.Fraction):
        expr = sympy.Rational(expr.numerator, expr.denominator)
    if not isinstance(expr, sympy.Expr):
        raise ValueError(f"format_number: {expr!r} is not a sympy number")
    return _fmt(expr)[0]
