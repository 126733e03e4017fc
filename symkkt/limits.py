"""Resource limits of the front end: every input is measured against them *before* the work.

Exact arithmetic makes some small inputs very expensive: ``2^(1/128)`` lives in a field of
degree 128, ``(9^10000)^10000`` has 95 million digits, ``width: 1000000000`` asks for a
billion units, and a FIFO or ``/dev/zero`` given as a file never ends. Each limit below
bounds one such cost; the check runs before the expensive step and refuses with one line
that names the file, the place, the limit and how to raise it::

    arch.yaml: layers[0].dense.width: limit exceeded: 1000000000 units > 100000 (raise with --limit units=N)

The command line raises a limit with ``--limit NAME=N`` (repeatable); Python code calls
:func:`configure` or uses :func:`overridden`.

========================  ===========  ======================================================
name                      default      meaning (and what it protects against)
========================  ===========  ======================================================
``input_bytes``           16777216     size of one input file (16 MiB), checked with ``stat``
                                       before reading; only regular files are read, so
                                       FIFOs, devices and directories are refused without
                                       blocking. 16 MiB holds a 20000-point data set with
                                       about 50 coordinates per point and refuses a 60 MB
                                       YAML file, whose parse alone would take minutes and
                                       gigabytes.
``nesting``               100          depth of nested lists and mappings in a YAML/JSON
                                       file, and of parentheses and signs in one number
                                       (the readers recurse; real files nest at most ~7).
``field_degree``          16           degree of the number field Q(α) that the numbers of
                                       one number, one file, or all inputs of a command
                                       generate (an upper bound from their radicals, exact
                                       for radicals of rationals), and the index q of any
                                       root x^(1/q). Locating radicals in Q(α) costs
                                       seconds at degree 16 and minutes at 32; nested
                                       roots such as sqrt(sqrt(...(2)...)) merge into
                                       2^(1/128).
``radicals``              32           distinct radicals b^(1/q) in one file or one
                                       number field (each is located in Q(α) separately).
``radicand_digits``       100          decimal digits of each rational inside the base of
                                       a root; sympy searches roots for perfect powers in
                                       time growing like the cube of this size (one second
                                       at 1000 digits, minutes at 4000).
``digits``                4000         decimal digits of any integer appearing in or
                                       produced while parsing a number; the size of a
                                       power is estimated from its exponent first, so
                                       ``(9^10000)^10000`` and ``10^10^10`` are refused
                                       without being computed. Python itself refuses to
                                       convert integers of more than 4300 digits to text,
                                       so every number read stays printable.
``characters``            20000        characters in the text of one number (parsing is
                                       quadratic in the number of unlike terms).
``parameters``            10000000     parameters of an architecture in total (weights and
                                       biases); a 20000×20000 dense layer has 4·10^8.
``units``                 100000       units of one layer (width, or channels × positions),
                                       and the size of the input.
``power``                 100          the power p of ``poly_relu`` / ``poly_leaky_relu``
                                       (exact values grow p-fold in size per layer).
``coefficients``          100          coefficients of a ``polynomial`` activation.
``vertices``              4096         Clarke vertex patterns and cells enumerated in total
                                       over all data points when deciding a KKT point (up
                                       to 2^k per point with k kink units); the kernel
                                       checks refutations against the same default.
``precision``             10000        decimal digits asked for with ``--precision`` or
                                       ``--balls`` (at least 1).
``points``                1000000      data points in one data file.
========================  ===========  ======================================================

Examples
--------
>>> get("units")
100000
>>> check("units", 5, "arch.yaml", "layers[0].dense.width")
5
>>> with overridden(units=4):
...     check("units", 5, "arch.yaml", "layers[0].dense.width")
Traceback (most recent call last):
...
symkkt.errors.LimitError: arch.yaml: layers[0].dense.width: limit exceeded: 5 units > 4 (raise with --limit units=N)
>>> parse_assignment("units=200000")
('units', 200000)
"""

from __future__ import annotations

import contextlib
import re

from .errors import LimitError, UsageError

__all__ = ["LIMITS", "get", "configure", "reset", "overridden", "parse_assignment", "check",
           "check_precision", "summary"]

#: limit name -> default value (see the module docstring for what each one bounds)
LIMITS = {
    "input_bytes": 16 * 2**20,
    "nesting": 100,
    "field_degree": 16,
    "radicals": 32,
    "radicand_digits": 100,
    "digits": 4_000,
    "characters": 20_000,
    "parameters": 10_000_000,
    "units": 100_000,
    "power": 100,
    "coefficients": 100,
    "vertices": 4096,
    "precision": 10_000,
    "points": 1_000_000,
}

#: how a measured value is named in the one-line message
_PHRASE = {
    "input_bytes": "{} bytes",
    "nesting": "{} levels of nesting",
    "field_degree": "field degree {}",
    "radicals": "{} distinct radicals",
    "radicand_digits": "{} digits under a root",
    "digits": "{} digits",
    "characters": "{} characters",
    "parameters": "{} parameters",
    "units": "{} units",
    "power": "power {}",
    "coefficients": "{} coefficients",
    "vertices": "{} Clarke vertices",
    "precision": "{} digits of precision",
    "points": "{} points",
}

_CMD = "<command line>"
_overrides = {}
_COUNT = re.compile(r"[0-9]+")


def get(name):
    """The current value of limit ``name`` (an override from :func:`configure`, else the default).

    Parameters
    ----------
    name : str
        A key of :data:`LIMITS`.

    Returns
    -------
    int
    """
    if name not in LIMITS:
        raise KeyError(f"unknown limit {name!r}")
    return _overrides.get(name, LIMITS[name])


def _known():
    return ", ".join(LIMITS)


def _validated(mapping, place="--limit"):
    out = {}
    for name, value in dict(mapping).items():
        if name not in LIMITS:
            raise UsageError(f"unknown limit {name!r}; known limits: {_known()}", _CMD, place)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"limit {name} must be a positive integer, got {value!r}", _CMD, place)
        out[name] = value
    return out


def configure(mapping):
    """Set process-wide overrides ``{name: value}`` (all checked first, then all applied).

    Parameters
    ----------
    mapping : dict
        Limit names of :data:`LIMITS` to positive integers.

    Raises
    ------
    UsageError
        An unknown name (the message lists the known ones) or a value that is not a
        positive integer.

    Examples
    --------
    >>> configure({"unit": 3})
    Traceback (most recent call last):
    ...
    symkkt.errors.UsageError: <command line>: --limit: unknown limit 'unit'; known limits: input_bytes, nesting, field_degree, radicals, radicand_digits, digits, characters, parameters, units, power, coefficients, vertices, precision, points
    """
    _overrides.update(_validated(mapping))


def reset():
    """Drop every override: all limits are back to their defaults."""
    _overrides.clear()


@contextlib.contextmanager
def overridden(**values):
    """Temporarily override limits inside a ``with`` block (the previous overrides return after it).

    Examples
    --------
    >>> with overridden(points=10):
    ...     get("points")
    10
    >>> get("points")
    1000000
    """
    saved = dict(_overrides)
    configure(values)
    try:
        yield
    finally:
        _overrides.clear()
        _overrides.update(saved)


def parse_assignment(text):
    """Read ``NAME=VALUE`` as given to ``--limit``.

    Parameters
    ----------
    text : str
        A limit name, ``=``, and a positive integer written with the ASCII digits 0-9.

    Returns
    -------
    tuple
        ``(name, value)``.

    Raises
    ------
    UsageError
        Place ``--limit``: no ``=``, an unknown name, or a value that is not a positive integer.

    Examples
    --------
    >>> parse_assignment(" field_degree = 32 ")
    ('field_degree', 32)
    >>> parse_assignment("units=0")
    Traceback (most recent call last):
    ...
    symkkt.errors.UsageError: <command line>: --limit: limit units must be a positive integer, got '0'
    """
    name, sep, value = str(text).partition("=")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        raise UsageError(f"expected NAME=VALUE, got {text!r}; known limits: {_known()}", _CMD, "--limit")
    if name not in LIMITS:
        raise UsageError(f"unknown limit {name!r}; known limits: {_known()}", _CMD, "--limit")
    if not _COUNT.fullmatch(value) or int(value) < 1:
        raise UsageError(f"limit {name} must be a positive integer, got {value!r}", _CMD, "--limit")
    return name, int(value)


def check(name, value, file=None, place=None):
    """Return ``value`` if it is within limit ``name``, else raise :class:`~symkkt.errors.LimitError`.

    Parameters
    ----------
    name : str
        A key of :data:`LIMITS`.
    value : int
        The measured size (bytes, units, digits, ...).
    file, place : str, optional
        Where the size was measured, for the one-line message.

    Returns
    -------
    int
        ``value``.

    Raises
    ------
    LimitError
        ``file: place: limit exceeded: VALUE WHAT > LIMIT (raise with --limit NAME=N)``.
    """
    limit = get(name)
    if value > limit:
        shown = value if value < 10**15 else f"~10^{int(value.bit_length() * 0.30103)}"
        raise LimitError(f"limit exceeded: {_PHRASE[name].format(shown)} > {limit} "
                         f"(raise with --limit {name}=N)", file, place)
    return value


def check_precision(digits, flag="--precision"):
    """Check a number of digits given to ``--precision`` or ``--balls``.

    Parameters
    ----------
    digits : int or str
        The value of the flag; text must be written with the ASCII digits 0-9.
    flag : str
        The flag's name, for the message.

    Returns
    -------
    int
        The number of digits, at least 1 and at most the ``precision`` limit.

    Raises
    ------
    UsageError
        Zero, a negative number or text that is not a whole number.
    LimitError
        More digits than the ``precision`` limit.

    Examples
    --------
    >>> check_precision(50)
    50
    >>> check_precision(0, "--balls")
    Traceback (most recent call last):
    ...
    symkkt.errors.UsageError: <command line>: --balls: the number of digits must be at least 1, got 0
    >>> check_precision(1000000)
    Traceback (most recent call last):
    ...
    symkkt.errors.LimitError: <command line>: --precision: limit exceeded: 1000000 digits of precision > 10000 (raise with --limit precision=N)
    """
    if isinstance(digits, str):
        text = digits.strip()
        negative = text.startswith("-")
        if not _COUNT.fullmatch(text.lstrip("-")) or text.count("-") > 1:
            raise UsageError(f"expected a whole number of digits written with 0-9, got {digits!r}", _CMD, flag)
        digits = -int(text[1:]) if negative else int(text)
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise UsageError(f"expected a whole number of digits, got {digits!r}", _CMD, flag)
    if digits < 1:
        raise UsageError(f"the number of digits must be at least 1, got {digits}", _CMD, flag)
    return check("precision", digits, _CMD, flag)


def summary():
    """The current limits as ``name=value`` pairs, comma separated (for ``--help`` texts).

    Examples
    --------
    >>> summary().split(", ")[:2]
    ['input_bytes=16777216', 'nesting=100']
    """
    return ", ".join(f"{name}={get(name)}" for name in LIMITS)
