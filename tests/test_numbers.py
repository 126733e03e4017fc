"""The exact-number grammar: values, precedence, rejections, and printing back."""
import fractions

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from symkkt import limits
from symkkt.errors import LimitError, NumberSyntaxError
from symkkt.numbers import exact_sign, format_number, parse_number

R = sympy.Rational


@pytest.mark.parametrize("text, value", [
    ("0.1", R(1, 10)), ("1.25e-3", R(1, 800)), ("12", 12), ("-3/4", R(-3, 4)), (".5", R(1, 2)),
    ("2E+2", 200), ("  1 / 3 ", R(1, 3)), ("2^3^2", 2 ** 9), ("2**3**2", 2 ** 9), ("-2^2", -4),
    ("2*3/4", R(3, 2)), ("1-2-3", -4), ("8/4/2", 1), ("2^-1", R(1, 2)), ("(-8)^(1/3)", -2),
    ("(-8)^(2/3)", 4), ("+-+1", -1), ("0^0", 1), ("sqrt(16)", 4), ("4^(1/2)", 2), ("0.000", 0),
    ("2^100", 2 ** 100), ("(2^64)^(1/64)", 2), ("0e99999999999999999999999999999999", 0), ("1" * 4000, int("1" * 4000)),
])
def test_values(text, value):
    assert parse_number(text) == value


def test_algebraic_values():
    v = parse_number("-2^(-1/4)")
    assert v ** 4 == R(1, 2) and exact_sign(v) == -1
    assert sympy.simplify(v + 2 ** R(-1, 4)) == 0
    assert parse_number("sqrt(2)/2") == sympy.sqrt(2) / 2
    assert parse_number("sqrt(2)^2") == 2
    assert parse_number("(1 - sqrt(2))^(1/3)") ** 3 == sympy.expand((1 - sympy.sqrt(2)))


def test_python_values():
    assert parse_number(7) == 7 and isinstance(parse_number(7), sympy.Integer)
    assert parse_number(0.1, float_input=True) == R(3602879701896397, 36028797018963968)
    assert parse_number(fractions.Fraction(2, 6)) == R(1, 3)
    assert parse_number(sympy.sqrt(3)) == sympy.sqrt(3)


@pytest.mark.parametrize("value, fragment", [
    ('__import__("os")', "'__import__' at column 1"),
    ("1/0", "division by zero"), ("0^(-1)", "division by zero"),
    ("1/(sqrt(3+2*sqrt(2)) - 1 - sqrt(2))", "division by zero"),
    ("(-1)^(1/2)", "not a real number"), ("sqrt(1 - sqrt(2))", "not a real number"),
    ("nan", "not a finite number"), ("inf", "not a finite number"), ("-Infinity", "not a finite number"),
    ("2^x", "'x' at column 3"), ("pi", "'pi'"), ("", "empty"), ("   ", "empty"),
    ("2^sqrt(2)", "exponent must be rational"), ("(1", "unexpected end"),
    ("1 2", "'2' at column 3"), ("1..2", "'.2'"),
    ("\uff13", "non-ASCII digit '\uff13' (U+FF13 FULLWIDTH DIGIT THREE) at column 1"),
    ("1\u0663", "non-ASCII digit '\u0663' (U+0663 ARABIC-INDIC DIGIT THREE) at column 2"),
    ("sqrt(\u0662)", "non-ASCII digit"), ("1\uff0b2", "non-ASCII character"),
    (0.5, "floats are inexact"), (float("nan"), "not a finite number"), (True, "expected a number"),
    (None, "expected a number"), ([1], "expected a number"), (sympy.pi, "not an exact real algebraic"),
])
def test_rejections(value, fragment):
    with pytest.raises(NumberSyntaxError) as info:
        parse_number(value, "f.yaml", "a[0]")
    assert fragment in str(info.value)
    assert str(info.value).startswith("f.yaml: a[0]: cannot read number")


@pytest.mark.parametrize("value, name", [
    ("1e100000", "digits"), ("1" * 4001, "digits"), ("((10^64)^64)^64", "digits"), ("-" * 500 + "1", "nesting"),
    ("2^(1/1000)", "field_degree"), ("sqrt(" + "7" * 101 + ")", "radicand_digits"), ("1" * 20001, "characters"),
    (10 ** 4000, "digits"),
])
def test_limit_rejections(value, name):
    with pytest.raises(LimitError) as info:
        parse_number(value, "f.yaml", "a[0]")
    assert str(info.value).startswith("f.yaml: a[0]: limit exceeded: ")
    assert str(info.value).endswith(f"(raise with --limit {name}=N)")


def test_non_ascii_digits_are_not_their_ascii_values():
    # Python's int() reads fullwidth and Arabic-Indic digits as 3; the grammar must not
    assert int("\uff13") == 3 == int("\u0663")
    for text in ("\uff13", "\u0663", "1/\uff13", "2^\u0663"):
        with pytest.raises(NumberSyntaxError, match="non-ASCII digit"):
            parse_number(text)


def test_float_input_refuses_nonfinite():
    for v in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(NumberSyntaxError, match="finite"):
            parse_number(v, float_input=True)


@pytest.mark.parametrize("expr, text", [
    (R(3, 5), "3/5"), (-sympy.sqrt(2) / 2, "-sqrt(2)/2"), (2 ** R(1, 4), "2^(1/4)"),
    (sympy.Integer(-7), "-7"), (sympy.Integer(0), "0"), (-(2 ** R(3, 4)) / 2, "-2^(3/4)/2"),
])
def test_format_examples(expr, text):
    assert format_number(expr) == text
    assert parse_number(text) == expr


def test_format_rejects_non_grammar():
    for bad in (sympy.Float(0.5), sympy.Symbol("x"), sympy.I, sympy.pi, sympy.Pow(-2, R(1, 3), evaluate=False)):
        with pytest.raises(ValueError):
            format_number(bad)


@given(st.integers(-10 ** 30, 10 ** 30), st.integers(1, 10 ** 30))
def test_fractions_read_exactly(p, q):
    assert parse_number(f"{p}/{q}") == R(p, q)
    assert parse_number(format_number(R(p, q))) == R(p, q)


@given(st.integers(-10 ** 9, 10 ** 9), st.integers(0, 12), st.integers(-20, 20))
def test_decimals_read_exactly(m, frac, e):
    digits = str(abs(m)).rjust(frac + 1, "0")
    text = ("-" if m < 0 else "") + digits[:len(digits) - frac] + "." + digits[len(digits) - frac:] + f"e{e}"
    assert parse_number(text) == R(m) * R(10) ** (e - frac)


_rationals = st.builds(R, st.integers(-30, 30), st.integers(1, 12))
_leaves = st.one_of(
    _rationals,
    _rationals.map(lambda r: sympy.sqrt(abs(r))),
    _rationals.map(lambda r: sympy.Pow(abs(r), R(1, 3))),
    _rationals.map(lambda r: -sympy.Pow(abs(r), R(2, 3))),
)


def _sign(e):
    """exact_sign without the field-degree guard (nested roots of cube roots exceed degree 16)."""
    with limits.overridden(field_degree=10 ** 6):
        return exact_sign(e)


def _combine(kids):
    return st.one_of(
        st.builds(sympy.Add, kids, kids),
        st.builds(sympy.Mul, kids, kids),
        st.builds(lambda a, b: a / b if _sign(b) else a, kids, kids),
        st.builds(lambda a: sympy.sqrt(a * a + 1), kids),
    )


@settings(max_examples=60, deadline=None)
@given(st.recursive(_leaves, _combine, max_leaves=4))
def test_format_parse_round_trip(e):
    text = format_number(e)
    assert "**" not in text
    with limits.overridden(field_degree=10 ** 6):  # nested roots of cube roots: fields of degree > 16
        back = parse_number(text)
    assert back == e or _sign(back - e) == 0
