"""Resource limits: small inputs that would hang the front end or exhaust memory are refused at once.

Each case is refused before the expensive step, within a time bound generous for a loaded
machine, with one line naming the file, the place, the limit and the flag that raises it;
raising the limit lets the same input through where that is cheap to show.
"""
import fractions
import json
import math
import os
import stat
import textwrap
import threading
import time

import pytest
import sympy
from hypothesis import given, settings, strategies as st
from sympy.polys.numberfields import primitive_element

from symkkt import limits
from symkkt.errors import LimitError, SymkktInputError, UsageError
from symkkt.field import NumberField, RadicalCensus, kummer_degree
from symkkt.numbers import format_number, parse_number
from symkkt.spec import (Activation, architecture_from_json, data_from_json, load_architecture, load_data,
                         load_parameters)

from conftest import call

R = sympy.Rational
SECONDS = 5.0   # generous for a loaded 2-core machine; the refusals take milliseconds


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def refused(name, fn, *args, **kw):
    """Call ``fn``: it must raise LimitError for limit ``name`` within SECONDS; return the line."""
    start = time.monotonic()
    with pytest.raises(LimitError) as info:
        fn(*args, **kw)
    assert time.monotonic() - start < SECONDS
    line = str(info.value)
    assert "limit exceeded: " in line and line.endswith(f"(raise with --limit {name}=N)"), line
    assert "\n" not in line
    return line


def arch_with(tmp_path, layer, inputs="[2]"):
    return write(tmp_path, "arch.yaml", f"input: {inputs}\nlayers:\n  - {layer}\n  - dense: {{width: 1}}\n")


# ------------------------------------------------------------------------------- the API

def test_defaults_and_overrides():
    assert limits.get("units") == limits.LIMITS["units"] == 100_000
    with limits.overridden(units=7):
        assert limits.get("units") == 7
        with limits.overridden(points=3):
            assert (limits.get("units"), limits.get("points")) == (7, 3)
        assert limits.get("points") == limits.LIMITS["points"]
    assert limits.get("units") == 100_000
    try:
        limits.configure({"units": 9})
        assert limits.get("units") == 9
    finally:
        limits.reset()
    assert limits.get("units") == 100_000


@pytest.mark.parametrize("mapping, fragment", [
    ({"unit": 3}, "unknown limit 'unit'; known limits: input_bytes, nesting, field_degree"),
    ({"units": 0}, "positive integer"), ({"units": -5}, "positive integer"), ({"units": True}, "positive integer"),
    ({"units": 2.5}, "positive integer"), ({"units": "7"}, "positive integer"),
])
def test_configure_refuses(mapping, fragment):
    with pytest.raises(UsageError, match=fragment):
        limits.configure(mapping)
    assert limits.get("units") == 100_000   # nothing applied


@pytest.mark.parametrize("text, expected", [
    ("units=5", ("units", 5)), (" digits = 20000 ", ("digits", 20000)), ("field_degree=32", ("field_degree", 32)),
])
def test_parse_assignment(text, expected):
    assert limits.parse_assignment(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("units", "expected NAME=VALUE"), ("=5", "expected NAME=VALUE"), ("width=5", "unknown limit 'width'"),
    ("units=0", "positive integer"), ("units=-1", "positive integer"), ("units=1e6", "positive integer"),
    ("units=\uff15", "positive integer"), ("units=", "positive integer"),
])
def test_parse_assignment_refuses(text, fragment):
    with pytest.raises(UsageError) as info:
        limits.parse_assignment(text)
    assert fragment in str(info.value) and str(info.value).startswith("<command line>: --limit: ")


def test_check_message_and_error_class():
    assert limits.check("units", 100_000) == 100_000          # the limit itself is allowed
    line = refused("units", limits.check, "units", 1_000_000_000, "arch.yaml", "layers[0].dense.width")
    assert line == ("arch.yaml: layers[0].dense.width: limit exceeded: 1000000000 units > 100000 "
                    "(raise with --limit units=N)")
    assert issubclass(LimitError, SymkktInputError)


@pytest.mark.parametrize("value, flag, cls, fragment", [
    (0, "--precision", UsageError, "at least 1, got 0"), (-3, "--balls", UsageError, "at least 1, got -3"),
    ("0", "--precision", UsageError, "at least 1, got 0"), ("\uff15\uff10", "--precision", UsageError, "written with 0-9"),
    ("5x", "--balls", UsageError, "written with 0-9"), (2.5, "--precision", UsageError, "whole number"),
    (1_000_000, "--precision", LimitError, "1000000 digits of precision > 10000"),
])
def test_check_precision_refuses(value, flag, cls, fragment):
    with pytest.raises(cls) as info:
        limits.check_precision(value, flag)
    assert str(info.value).startswith(f"<command line>: {flag}: ") and fragment in str(info.value)


def test_check_precision_accepts_and_can_be_raised():
    assert limits.check_precision(50) == 50 and limits.check_precision("12") == 12
    assert limits.check_precision(10_000, "--balls") == 10_000
    with limits.overridden(precision=1_000_000):
        assert limits.check_precision(1_000_000) == 1_000_000


# ---------------------------------------------------------------------- architectures

def test_width_of_a_billion(tmp_path):
    line = refused("units", load_architecture, arch_with(tmp_path, "dense: {width: 1000000000, activation: relu}"))
    assert line == (f"{tmp_path / 'arch.yaml'}: layers[0].dense.width: limit exceeded: 1000000000 units > 100000 "
                    "(raise with --limit units=N)")


def test_width_just_over_a_lowered_limit(tmp_path):
    path = arch_with(tmp_path, "dense: {width: 5, activation: relu}")
    with limits.overridden(units=4):
        refused("units", load_architecture, path)
    with limits.overridden(units=5):
        assert load_architecture(path).shapes == ((5,), (1,))


def test_conv_units_count_channels_times_positions(tmp_path):
    # 3 channels x (10 - 2 + 1) positions = 27 units; the input has 10
    path = arch_with(tmp_path, "conv: {channels: 3, kernel: 2, activation: relu}\n  - flatten", "[1, 10]")
    with limits.overridden(units=26):
        assert "layers[0].conv: limit exceeded: 27 units > 26" in refused("units", load_architecture, path)
    with limits.overridden(units=27):
        assert load_architecture(path).shapes[0] == (3, 9)
    with limits.overridden(units=9):
        assert "input: limit exceeded: 10 units > 9" in refused("units", load_architecture, path)


def test_dense_layer_of_20000_by_20000(tmp_path):
    line = refused("parameters", load_architecture, arch_with(tmp_path, "dense: {width: 20000}", "[20000]"))
    assert "layers[0].dense: limit exceeded: 400000000 parameters > 10000000" in line


def test_parameter_count_matches_param_shapes(tmp_path):
    path = write(tmp_path, "a.yaml", """\
        input: [1, 6]
        layers:
          - conv: {channels: 2, kernel: 3, activation: relu, bias: true}
          - flatten
          - dense: {width: 3, activation: relu}
          - dense: {width: 1}
        """)
    arch = load_architecture(path)
    total = sum(math.prod(s["weight"]) + (s["bias"][0] if s["bias"] else 0) for s in arch.param_shapes())
    assert total == 2 * 3 + 2 + 3 * 8 + 3    # by hand: conv 2x1x3 + bias 2, dense 3x8, dense 1x3
    with limits.overridden(parameters=total - 1):
        assert f"layers[3].dense: limit exceeded: {total} parameters > {total - 1}" in \
            refused("parameters", load_architecture, path)
    with limits.overridden(parameters=total):
        load_architecture(path)


def test_poly_relu_power_of_a_million(tmp_path):
    line = refused("power", load_architecture, arch_with(tmp_path, "dense: {width: 2, activation: {poly_relu: {power: 1000000}}}"))
    assert "layers[0].dense.activation.poly_relu.power: limit exceeded: power 1000000 > 100" in line
    refused("power", Activation, "poly_relu", power=10 ** 6)
    assert Activation("poly_relu", power=100).power == 100


def test_polynomial_with_ten_thousand_coefficients(tmp_path):
    coeffs = ", ".join(["1"] * 10_000)
    line = refused("coefficients", load_architecture, arch_with(tmp_path, f"dense: {{width: 2, activation: {{polynomial: {{coeffs: [{coeffs}]}}}}}}"))
    assert "layers[0].dense.activation.polynomial.coeffs: limit exceeded: 10000 coefficients > 100" in line
    refused("coefficients", Activation, "polynomial", coeffs=tuple(range(10_000)))


# ---------------------------------------------------------------------------- numbers

def params_file(tmp_path, entries):
    arch = architecture_from_json({"input": [len(entries)], "layers": [{"dense": {"width": 1}}]})
    path = write(tmp_path, "params.yaml", "- weight: [[" + ", ".join(f"'{e}'" for e in entries) + "]]\n")
    return arch, path


def test_nested_roots_merging_into_2_to_the_1_over_128(tmp_path):
    text = "sqrt(" * 7 + "2" + ")" * 7
    arch, path = params_file(tmp_path, [text])
    line = refused("field_degree", load_parameters, path, arch)
    assert "[0].weight[0][0]: limit exceeded: field degree 32 > 16" in line   # stopped at 2^(1/32)
    with limits.overridden(field_degree=128):
        assert parse_number(text) == 2 ** R(1, 128)


def test_distinct_roots_multiplying_the_degree(tmp_path):
    arch, path = params_file(tmp_path, ["sqrt(2)", "sqrt(3)", "sqrt(5)", "sqrt(7)", "sqrt(11)"])
    line = refused("field_degree", load_parameters, path, arch)
    assert "[0].weight[0][4]: limit exceeded: field degree 32 > 16" in line
    with limits.overridden(field_degree=32):
        assert load_parameters(path, arch).layers[0]["weight"][0][4] == sympy.sqrt(11)


def test_dependent_roots_do_not_count_twice(tmp_path):
    # Q(sqrt 2, sqrt 3, sqrt 5) has degree 8 and contains every sqrt of a product of 2, 3, 5
    roots = ["sqrt(2)", "sqrt(3)", "sqrt(6)", "sqrt(5)", "sqrt(10)", "sqrt(15)", "sqrt(30)", "sqrt(3/2)", "1/sqrt(30)"]
    arch, path = params_file(tmp_path, roots)
    with limits.overridden(field_degree=8):
        load_parameters(path, arch)
    with limits.overridden(field_degree=7):
        assert "field degree 8 > 7" in refused("field_degree", load_parameters, path, arch)


def test_field_of_all_inputs_together():
    data = [sympy.sqrt(2), sympy.sqrt(3), sympy.sqrt(5)]        # degree 8 each side ...
    params = [sympy.sqrt(7), sympy.sqrt(11), sympy.sqrt(2)]
    for part in (data, params):
        NumberField.of(part)
    line = refused("field_degree", NumberField.of, data + params)  # ... 32 together
    assert "field degree 32 > 16" in line


def test_too_many_distinct_radicals():
    # sqrt(2), 2^(1/3), 2^(1/4), ...: all in Q(2^(1/L)); a lowered radicals limit counts them
    values = [sympy.root(2, q) for q in (2, 3, 4, 6, 12)]
    census = RadicalCensus()
    for v in values:
        census.add(v)
    assert census.count == 5 and census.degree() == 12
    with limits.overridden(radicals=4):
        refused("radicals", census.check)
    census.check()


@pytest.mark.parametrize("text, value, limit", [
    ("(9^10000)^10000", 9543, 4000), ("(9^10000)^10000", 95_424_251, 10_000), ("10^10^10", 10 ** 10 + 1, 4000),
    ("1e100000", 100_001, 4000), ("2^(10^100)", None, 4000), ("0.5^100000", None, 4000),
])
def test_huge_powers_are_sized_before_computing(tmp_path, text, value, limit):
    arch, path = params_file(tmp_path, [text])
    with limits.overridden(digits=limit):
        line = refused("digits", load_parameters, path, arch)
    assert "[0].weight[0][0]: limit exceeded: " in line
    if value is not None:    # the exact digit count of the result, e.g. 10^(10^10) has 10^10 + 1 digits
        assert f"{value} digits > {limit}" in line


def test_digit_counts_of_the_refused_powers():
    # floor(n log10 b) + 1 digits for b^n: the values the messages above report
    assert math.floor(10 ** 8 * math.log10(9)) + 1 == 95_424_251
    assert math.floor(10 ** 4 * math.log10(9)) + 1 == 9543 == len(format_number(R(9) ** 10000))


def test_big_power_allowed_once_the_limit_is_raised():
    with limits.overridden(digits=10_000):
        assert parse_number("9^10000") == 9 ** 10000


def test_root_of_a_huge_integer():
    line = refused("radicand_digits", parse_number, "sqrt(" + "7" * 3000 + ")", "f.yaml", "x")
    assert "3000 digits under a root > 100" in line


def test_long_number_text():
    refused("characters", parse_number, "+".join(["(1+sqrt(2))*(3+sqrt(2))"] * 1000), "f.yaml", "x")


def test_deeply_nested_number():
    assert "101 levels of nesting > 100" in refused("nesting", parse_number, "(" * 5000 + "1" + ")" * 5000)


# ------------------------------------------------------------------------------ files

def run_with_timeout(fn, *args):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it blocks."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            outcome["error"] = e
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(SECONDS)
    assert not thread.is_alive(), "blocked"
    return outcome


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "data.yaml"
    os.mkfifo(fifo)
    outcome = run_with_timeout(load_data, fifo)
    assert isinstance(outcome.get("error"), UsageError)
    assert "not a regular file (a FIFO)" in str(outcome["error"]) and str(fifo) in str(outcome["error"])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_refused(tmp_path):
    link = tmp_path / "params.yaml"
    link.symlink_to("/dev/zero")
    assert stat.S_ISCHR(os.stat(link).st_mode)
    outcome = run_with_timeout(load_architecture, link)
    assert "not a regular file (a character device)" in str(outcome["error"])


def test_directory_is_refused(tmp_path):
    (tmp_path / "arch.yaml").mkdir()
    with pytest.raises(UsageError, match=r"not a regular file \(a directory\)"):
        load_architecture(tmp_path / "arch.yaml")


def test_60_megabyte_yaml_is_refused_before_reading(tmp_path):
    path = tmp_path / "data.yaml"
    with open(path, "wb") as fh:      # sparse: the size is there, the bytes are never read
        fh.truncate(60 * 10 ** 6)
    line = refused("input_bytes", load_data, path)
    assert "limit exceeded: 60000000 bytes > 16777216" in line


def test_input_bytes_just_over_a_lowered_limit(tmp_path):
    path = write(tmp_path, "d.yaml", "points:\n  - {x: [1, 2], y: 1}\n")
    size = os.path.getsize(path)
    with limits.overridden(input_bytes=size - 1):
        refused("input_bytes", load_data, path)
    with limits.overridden(input_bytes=size):
        assert load_data(path).y == (1,)


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "a:\n" + "".join(" " * (2 * i) + "- \n" for i in range(1, 400))])
def test_deeply_nested_yaml(tmp_path, text):
    line = refused("nesting", load_data, write(tmp_path, "d.yaml", text))
    assert "line " in line and "101 levels of nesting > 100" in line


def test_deeply_nested_json(tmp_path):
    line = refused("nesting", load_data, write(tmp_path, "d.json", "[" * 100_000 + "]" * 100_000))
    assert "100000 levels of nesting > 100" in line      # the true depth, counted without recursion
    nested = {"points": [{"x": json.loads("[" * 150 + "1" + "]" * 150), "y": 1}]}
    path = tmp_path / "e.json"
    path.write_text(json.dumps(nested))
    assert "points[0].x" in refused("nesting", load_data, path)
    assert "points[0].x" in refused("nesting", data_from_json, nested)


def test_yaml_billion_laughs(tmp_path):
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    start = time.monotonic()
    with pytest.raises(SymkktInputError) as info:
        load_data(write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n"))
    assert time.monotonic() - start < SECONDS
    assert "aliases (*name) are not supported" in str(info.value) and "line 2" in str(info.value)


def test_points_limit_in_yaml_and_csv(tmp_path):
    yaml_path = write(tmp_path, "d.yaml", "points:\n" + "".join(f"  - {{x: [{k}, 1], y: 1}}\n" for k in range(3)))
    csv_path = write(tmp_path, "d.csv", "x1,x2,y\n" + "".join(f"{k},1,1\n" for k in range(3)))
    with limits.overridden(points=2):
        assert "points: limit exceeded: 3 points > 2" in refused("points", load_data, yaml_path)
        assert "line 4: limit exceeded: 3 points > 2" in refused("points", load_data, csv_path)
    with limits.overridden(points=3):
        assert len(load_data(yaml_path).X) == len(load_data(csv_path).X) == 3


def test_a_20000_point_csv_still_loads(tmp_path):
    rows = "".join(f"{k % 97}/{k % 13 + 1},{'-' if k % 2 else ''}{k % 10}.5,{1 if k % 2 else -1}\n"
                   for k in range(20_000))
    path = write(tmp_path, "d.csv", "x1,x2,y\n" + rows)
    start = time.monotonic()
    data = load_data(path)
    assert time.monotonic() - start < 60
    assert len(data.X) == 20_000
    assert data.X[12345] == (R(12345 % 97, 12345 % 13 + 1), -(R(12345 % 10) + R(1, 2))) and data.y[12345] == 1


def test_cli_exit_code_2_and_one_line(tmp_path, capsys):
    code, out, err = call(capsys, "info", arch_with(tmp_path, "dense: {width: 1000000000, activation: relu}"))
    assert code == 2 and out == ""
    assert err.strip().endswith("layers[0].dense.width: limit exceeded: 1000000000 units > 100000 "
                                "(raise with --limit units=N)")
    assert err.count("\n") == 1


# ------------------------------------------------------------- the grammar is unchanged

def _decimal():
    """A plain, scientific or fraction literal as (text, Fraction read independently)."""
    plain = st.builds(lambda w, f: f"{w}.{f}" if f else str(w), st.integers(0, 10 ** 12),
                      st.one_of(st.just(""), st.integers(0, 10 ** 6).map(str)))
    sci = st.builds(lambda m, e: f"{m}e{e}", plain, st.integers(-12, 12))
    frac = st.builds(lambda a, b: f"{a}/{b}", st.integers(0, 10 ** 15), st.integers(1, 10 ** 15))
    return st.one_of(plain, sci, frac).map(lambda t: (t, fractions.Fraction(t.split("/")[0]) /
                                                  (fractions.Fraction(t.split("/")[1]) if "/" in t else 1)))


def _combine(kids):
    def binary(a, b, op):
        (ta, va), (tb, vb) = a, b
        if op == "/" and vb == 0:
            op = "*"
        value = {"+": va + vb, "-": va - vb, "*": va * vb, "/": va / vb if vb else 0}[op]
        return f"({ta}) {op} ({tb})", value

    def power(a, k):
        t, v = a
        if v == 0 and k < 0:
            k = -k
        return f"({t})^({k})", v ** k

    return st.one_of(
        st.builds(binary, kids, kids, st.sampled_from("+-*/")),
        st.builds(power, kids, st.integers(-3, 3)),
        kids.map(lambda a: (f"-({a[0]})", -a[1])),
        kids.map(lambda a: (f"sqrt(({a[0]})^2)", abs(a[1]))),
    )


@settings(max_examples=150, deadline=None)
@given(st.recursive(_decimal(), _combine, max_leaves=5))
def test_valid_rational_numbers_parse_to_their_value(case):
    text, value = case
    with limits.overridden(digits=10 ** 6, radicand_digits=10 ** 6):   # the grammar, not the limits
        assert parse_number(text) == R(value.numerator, value.denominator)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["", "+", "-"]), st.integers(0, 10 ** 20), st.one_of(st.none(), st.text("0123456789", max_size=12)),
       st.one_of(st.none(), st.integers(1, 10 ** 20)))
def test_plain_literals_parse_to_their_value(sign, whole, frac, den):
    text = f"{sign}{whole}" + ("" if frac is None else f".{frac}") + ("" if den is None else f"/{den}")
    value = fractions.Fraction(f"{whole}.{frac or 0}") / (den or 1) * (-1 if sign == "-" else 1)
    assert parse_number(text) == R(value.numerator, value.denominator)
    assert parse_number(f" {text} ") == parse_number(text)     # whitespace goes the long way


# ------------------------------------------------------------- the field degree bound

_RADICALS = st.lists(st.tuples(st.sampled_from([2, 3, 5, 6, 10, 12, 15, 18, 4, 8, 9, R(1, 2), R(3, 4), R(2, 9)]),
                               st.sampled_from([2, 3, 4])), min_size=1, max_size=2, unique=True)


@settings(max_examples=25, deadline=None)
@given(_RADICALS)
def test_kummer_degree_is_the_true_degree(radicals):
    values = [sympy.root(sympy.Integer(b) if isinstance(b, int) else b, q) for b, q in radicals]
    census = RadicalCensus()
    for v in values:
        census.add(v)
    with limits.overridden(field_degree=10 ** 6):
        # the field of the radicals sympy writes the values with, e.g. 12^(1/4) = sqrt(2)*3^(1/4)
        atoms_degree = NumberField.of(values).degree
    assert census.degree() == atoms_degree
    # the field of the values themselves: sympy's minimal polynomial of a primitive element
    irrational = [v for v in values if not v.is_Rational]
    x = sympy.Symbol("x")
    true_degree = sympy.degree(primitive_element(irrational, x)[0], x) if irrational else 1
    assert kummer_degree([(sympy.Integer(b) if isinstance(b, int) else b, q) for b, q in radicals]) == true_degree


def test_nested_radicals_bound_is_an_upper_bound():
    # sqrt(3 + 2 sqrt 2) = 1 + sqrt 2: the bound 4 over-counts the true degree 2, never under-counts
    census = RadicalCensus()
    census.add(sympy.sqrt(3 + 2 * sympy.sqrt(2)))
    assert census.degree() == 4
    assert sympy.degree(sympy.minimal_polynomial(sympy.sqrt(3 + 2 * sympy.sqrt(2)), sympy.Symbol("x"))) == 2
    census = RadicalCensus()
    census.add(sympy.sqrt(1 + sympy.sqrt(2)))
    assert census.degree() == 4 == sympy.degree(sympy.minimal_polynomial(sympy.sqrt(1 + sympy.sqrt(2)), sympy.Symbol("x")))
