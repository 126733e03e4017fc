"""Certificates: one JSON object per claim, re-checked by :mod:`symkkt.kernel`.

Layout (CONTRACT.md): ``symkkt_certificate`` (schema version 1), ``claim``, ``architecture``,
``data``, ``parameters`` (shapes of the input files, numbers as exact strings), ``witness``,
``provenance`` and ``digest``. Numbers in an algebraic field come with ``witness.field``: the
minimal polynomial of the generator α (coefficients low to high), an isolating interval and one
radical hint per ``b^(m/n)`` written in the certificate (the coordinates of b^(1/n) in Q(α)),
so that the kernel can evaluate every number exactly with the standard library only.

Examples
--------
>>> digest({"a": 1, "provenance": {"t": 0}, "digest": "x"}) == digest({"a": 1})
True
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import tempfile

import sympy

from . import __version__
from .numbers import format_number
from .field import as_sympy


def digest(cert):
    """sha256 of the canonical JSON of ``cert`` without ``digest`` and ``provenance``."""
    body = {k: v for k, v in cert.items() if k not in ("digest", "provenance")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _q(x):
    return str(x) if x.q != 1 else str(x.p)


def _radicals(strings):
    """(base, index) of every b^(m/n), n > 1, in the printed numbers (as sympy sees them)."""
    from .numbers import parse_number

    found = {}
    for s in strings:
        for p in parse_number(s).atoms(sympy.Pow):
            if p.exp.is_Rational and not p.exp.is_Integer:
                found[(p.base, p.exp.q)] = None
    return list(found)


def field_block(field, strings):
    """The ``witness.field`` entry for numbers printed as ``strings`` (None for Q)."""
    if field.degree == 1:
        return None
    hints = []
    for base, n in _radicals(strings):
        root = sympy.root(base, n)
        hints.append({"base": [_q(c) for c in field.coords(base)], "index": int(n),
                      "root": [_q(c) for c in field.coords(root)]})
    lo, hi = field.interval
    return {"minpoly": [_q(c) for c in field.poly_coeffs],
            "interval": [_q(lo), _q(hi)], "radicals": hints}


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def finish(cert, field):
    """Add the field block, provenance and digest to a certificate body."""
    numbers = [s for s in _strings({k: cert[k] for k in ("architecture", "data", "parameters", "witness")})
               if _looks_numeric(s)]
    block = field_block(field, numbers)
    if block is not None:
        cert["witness"]["field"] = block
    cert["provenance"] = {"tool": f"symkkt {__version__}",
                          "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    cert["digest"] = digest(cert)
    return cert


def _looks_numeric(s):
    return bool(s) and all(ch in "0123456789+-*/^().e sqrt" for ch in s) and any(ch.isdigit() for ch in s)


def kkt_certificate(result):
    """Certificate for a decided :class:`~symkkt.kkt.KKTResult` (``None`` if inconclusive)."""
    if result.verdict == "inconclusive":
        return None
    problem = result.problem
    net = problem.network
    params = [{"weight": layer["weight"], **({"bias": layer["bias"]} if layer["bias"] is not None else {})}
              for layer in net.unflatten(result.theta)]
    fmt = result.to_json()
    kind = result.kind if result.verdict == "holds" else "not_" + result.kind
    if result.verdict == "holds":
        witness = {"multipliers": fmt["multipliers"], "clarke": fmt["clarke"]}
        statement = (f"theta is a {'KKT direction' if result.kind == 'kkt_direction' else 'KKT point'} "
                     f"of the max-margin problem; Clarke set: {result.clarke_set}")
    else:
        witness = {k: v for k, v in fmt["witness"].items() if k != "margin"}
        statement = f"theta is not a {result.kind.replace('_', ' ')}: {result.reason}"
    cert = {
        "symkkt_certificate": 1,
        "claim": {"kind": kind, "statement": statement},
        "architecture": net.arch.to_json(),
        "data": problem.data.to_json(),
        "parameters": _format_params(params),
        "witness": witness,
    }
    return finish(cert, problem.domain(result.theta).field)


def _format_params(params):
    def fmt(v):
        if isinstance(v, list):
            return [fmt(x) for x in v]
        return format_number(as_sympy(v))
    return [{k: fmt(v) for k, v in layer.items()} for layer in params]


def write_json(obj, path):
    """Write JSON atomically (a temporary file renamed into place: nothing half-written)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".symkkt-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
