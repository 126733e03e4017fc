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

Exponents must be rational, roots are real roots, and results are real algebraic numbers
built only with sympy constructors: no ``eval``, no ``sympify``, no ``parse_expr``.
:func:`format_number` prints such a number back into the grammar.
"""
from __future__ import annotations

import fractions
import math
import re

import sympy
from sympy.core.evalf import PrecisionExhausted

from .errors import NumberSyntaxError

__all__ = ["parse_number", "format_number", "exact_sign"]

MAX_DIGITS = 1000     # significant digits of a literal, and |e| in scientific notation
MAX_EXPONENT = 64     # |numerator| and denominator of an exponent
MAX_BITS = 200_000    # size of any rational number inside a result
MAX_LENGTH = 10_000   # characters in one number string
MAX_DEPTH = 100       # nesting of parentheses and signs
_GUARD = "a guard against huge computations"

_TOKEN = re.compile(r"(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<op>\*\*|[-+*/^()])")
_LITERAL = re.compile(r"([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_NONFINITE = re.compile(r"\s*[+-]?\.?(nan|inf|infinity)\s*", re.IGNORECASE)


def exact_sign(e):
    """The exact sign (-1, 0 or 1) of a real algebraic number.

    Parameters
    ----------
    e : sympy.Expr
        A real algebraic number without free symbols.

    Returns
    -------
    int

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
            if maxn == 100 and sympy.minimal_polynomial(e, _X) == _X:
                return 0
            continue
        if v.is_real is False:
            raise ValueError(f"{e} is not a real number")
        return int(bool(v > 0)) - int(bool(v < 0))
    raise ValueError(f"cannot decide the sign of {e}")  # pragma: no cover


_X = sympy.Dummy("x")


def _bits(e):
    """Size in bits of the largest rational number inside ``e``."""
    rats = [e] if e.is_Rational else e.atoms(sympy.Rational)
    return max((max(abs(r.p).bit_length(), r.q.bit_length()) for r in rats), default=0)


class _Reader:
    """Recursive-descent parser for one number string."""

    def __init__(self, text, fail):
        self.fail, self.toks, self.i, self.depth = fail, [], 0, 0
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

    def check(self, v):
        if _bits(v) > MAX_BITS:
            self.fail(f"result too large (at most {MAX_BITS} bits per number, {_GUARD})")
        return v

    def parse(self):
        if not self.toks:
            self.fail("empty")
        v = self.expr()
        if self.i < len(self.toks):
            self.unexpected()
        return v

    def expr(self):
        v = self.term()
        while self.peek() in ("+", "-"):
            neg = self.take() == "-"
            w = self.term()
            v = self.check(sympy.Add(v, sympy.Mul(sympy.Integer(-1), w) if neg else w))
        return v

    def term(self):
        v = self.factor()
        while self.peek() in ("*", "/"):
            div = self.take() == "/"
            w = self.factor()
            if div:
                if exact_sign(w) == 0:
                    self.fail("division by zero")
                w = sympy.Pow(w, sympy.Integer(-1))
            v = self.check(sympy.Mul(v, w))
        return v

    def factor(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"nested too deeply (at most {MAX_DEPTH} levels, {_GUARD})")
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
        big_exp = exp and len(exp.lstrip("+-").lstrip("0")) > 4 or exp and abs(int(exp)) > MAX_DIGITS
        if len((whole + frac).lstrip("0")) > MAX_DIGITS or big_exp:
            self.fail(f"number too large (at most {MAX_DIGITS} digits and exponents e±{MAX_DIGITS}, {_GUARD})")
        e = (int(exp) if exp else 0) - len(frac)
        return sympy.Rational(int(whole + frac or "0") * 10 ** max(e, 0), 10 ** max(-e, 0))

    def pow(self, base, exp):
        if not exp.is_Rational:
            self.fail(f"exponent must be rational, got {format_number(exp)}")
        p, q = exp.p, exp.q
        if abs(p) > MAX_EXPONENT or q > MAX_EXPONENT:
            self.fail(f"exponent {exp} too large (numerator and denominator at most {MAX_EXPONENT}, {_GUARD})")
        sign = exact_sign(base)
        if sign == 0 and p < 0:
            self.fail("division by zero")
        if _bits(base) * abs(p) > MAX_BITS * q:
            self.fail(f"result too large (at most {MAX_BITS} bits per number, {_GUARD})")
        if sign < 0 and q != 1:
            if q % 2 == 0:
                self.fail("not a real number (even root of a negative number)")
            magnitude = sympy.Pow(sympy.Mul(sympy.Integer(-1), base), exp)
            return self.check(magnitude if p % 2 == 0 else sympy.Mul(sympy.Integer(-1), magnitude))
        return self.check(sympy.Pow(base, exp))


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
        If the value is not a number of the grammar, is not finite or not real, divides
        by zero, or exceeds the size guards.

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
    """
    shown = repr(value if len(str(value)) <= 80 else str(value)[:77] + "...") \
        if isinstance(value, str) else str(value)[:80]

    def fail(reason):
        raise NumberSyntaxError(f"cannot read number {shown}: {reason}", file, place)

    if isinstance(value, bool) or value is None:
        fail("expected a number")
    if isinstance(value, int):
        if value.bit_length() > MAX_DIGITS * 3.33:
            fail(f"number too large (at most {MAX_DIGITS} digits, {_GUARD})")
        return sympy.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            fail("not a finite number (NaN and infinity are not allowed)")
        if not float_input:
            fail("floats are inexact; write the number as a string (e.g. '0.1') "
                 "or allow floats with --float-input")
        return sympy.Rational(fractions.Fraction(value))
    if isinstance(value, fractions.Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, sympy.Basic):
        if value.is_Rational or (isinstance(value, sympy.Expr) and not value.free_symbols and
                                 not value.has(sympy.Float) and value.is_real and value.is_algebraic):
            return value
        fail("not an exact real algebraic number")
    if not isinstance(value, str):
        fail(f"expected a number, got {type(value).__name__}")
    if len(value) > MAX_LENGTH:
        fail(f"too long (at most {MAX_LENGTH} characters, {_GUARD})")
    if _NONFINITE.fullmatch(value):
        fail("not a finite number (NaN and infinity are not allowed)")
    return _Reader(value, fail).parse()


def _wrap(e, prec):
    """Print ``e``, parenthesised unless it binds at least as tightly as ``prec``."""
    text, own = _fmt(e)
    return text if own >= prec else f"({text})"


def _fmt(e):
    """Return ``(text, precedence)``: 1 sum or sign, 2 product, 3 power, 4 atom."""
    if e.is_Integer:
        return str(e), (4 if e >= 0 else 1)
    if e.is_Rational:
        return f"{e.p}/{e.q}", (2 if e > 0 else 1)
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
