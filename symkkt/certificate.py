"""Certificates: one JSON object per claim, re-checked by :mod:`symkkt.kernel`.

Layout (docs/formats.md, section 3): ``symkkt_certificate`` (schema version 1), ``claim``, ``architecture``,
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
    """Certificate for a decided :class:`~symkkt.kkt.KKTResult` (``None`` if inconclusive).

    The claim records the set the decision was made for (``clarke_set``: ``gradient``, ``clarke``
    or ``chain_rule_hull``) and the kernel's canonical statement for it. For ``clarke`` the
    witness lists vertex terms, each with the direction that realizes its pattern; a refutation
    adds the Gordan vectors of the vertex patterns it leaves out (``excluded``).
    """
    if result.verdict == "inconclusive":
        return None
    problem = result.problem
    net = problem.network
    params = [{"weight": layer["weight"], **({"bias": layer["bias"]} if layer["bias"] is not None else {})}
              for layer in net.unflatten(result.theta)]
    fmt = result.to_json()
    kind = result.kind if result.verdict == "holds" else "not_" + result.kind
    if result.verdict == "holds":
        from .kkt import _clarke_json

        clarke = _clarke_json(result.clarke_terms) if result.clarke_set == "clarke" else fmt["clarke"]
        witness = {"multipliers": fmt["multipliers"], "clarke": clarke}
    else:
        witness = {k: v for k, v in fmt["witness"].items() if k != "margin"}
    claim = {"kind": kind, "clarke_set": result.clarke_set}
    statement = _kernel_statement(kind, result.clarke_set)
    if statement is not None:
        claim["statement"] = statement
    cert = {
        "symkkt_certificate": 1,
        "claim": claim,
        "architecture": net.arch.to_json(),
        "data": problem.data.to_json(),
        "parameters": _format_params(params),
        "witness": witness,
    }
    return finish(cert, problem.domain(result.theta).field)


def _kernel_statement(kind, clarke_set):
    """The kernel's canonical statement of a KKT claim, or None if the kernel has none."""
    from .kernel import claims

    statement = getattr(claims, "statement", None)
    return statement(kind, clarke_set) if statement is not None else None


def _format_params(params):
    def fmt(v):
        if isinstance(v, list):
            return [fmt(x) for x in v]
        return format_number(as_sympy(v))
    return [{k: fmt(v) for k, v in layer.items()} for layer in params]


def encode(obj, path):
    """The text of a JSON-ready object for ``path``: YAML for ``.yaml``/``.yml``, else JSON."""
    if os.fspath(path).lower().endswith((".yaml", ".yml")):
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)     # the C emitter when PyYAML has it
        return yaml.dump(obj, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def write_files(files):
    """Write several files all or nothing (:func:`symkkt.output.write_outputs`).

    ``files`` maps a path to a JSON-ready object; ``.yaml``/``.yml`` paths are written as YAML.
    Every text is made before the first file is touched; then each goes to a temporary file in
    its folder, and all are renamed into place, or none (a file system error is a
    :class:`~symkkt.errors.UsageError` naming the file).
    """
    from .output import write_outputs

    return write_outputs({os.fspath(path): encode(obj, path) for path, obj in files.items()})


def write_json(obj, path):
    """Write JSON atomically (a temporary file renamed into place: nothing half-written)."""
    from .output import write_outputs

    write_outputs({os.fspath(path): json.dumps(obj, indent=1, ensure_ascii=False) + "\n"})


def embedding_certificate(result):
    """Certificate for an :class:`~symkkt.embed.check.EmbedResult`, or ``None``.

    ``split_embedding``: the map is a chain of [A] splits and isometry, output and gradient
    preservation were proved. ``critical_embedding``: a chain of [B] steps whose output
    preservation was proved. ``not_output_preserved``: an exact witness (θ, x) where the outputs
    differ. The kernel rebuilds T from ``witness.steps`` and re-decides each claim.
    """
    from .field import NumberField
    from .numbers import parse_number

    emb = result.embedding
    props = result.properties
    witness = {"steps": [s.to_json() for s in emb.steps], "target_architecture": emb.target.arch.to_json(),
               "map": emb.rows_json()}
    numbers = emb.numbers()
    out = props["output_preserved"]
    if emb.is_split_chain and all(props[k].verdict == "holds"
                                  for k in ("isometry", "output_preserved", "gradient_preserved")):
        kind, data, params = "split_embedding", {"points": []}, []
        statement = ("T is a composition of neuron/channel splits with c >= 0 and sum c^2 = 1 on positively "
                     "1-homogeneous activations: isometry, output and gradient preservation for all theta, x")
        theorem = "[A] Theorems 4.8 and 4.11, Proposition 4.4"
    elif not emb.is_split_chain and emb.kinds <= {"critical_split", "null"} and out.verdict == "holds":
        kind, data, params = "critical_embedding", {"points": []}, []
        statement = "one-step splits and null units: the wide output equals the narrow output for all theta, x"
        theorem = "[B] critical embeddings (output preservation)"
    elif out.verdict == "refuted" and out.tier == "exact":
        kind = "not_output_preserved"
        theta = [parse_number(v) for v in out.witness["theta"]]
        x = [parse_number(v) for v in out.witness["x"]]
        numbers += theta + x
        data = {"points": [{"x": [format_number(v) for v in x], "y": "1"}]}
        params = _format_params([{"weight": l["weight"], **({"bias": l["bias"]} if l["bias"] is not None else {})}
                                 for l in emb.source.unflatten(theta)])
        statement = (f"the wide output {out.witness['wide']} differs from the narrow output "
                     f"{out.witness['narrow']} at this theta and x")
        theorem = "counterexample to output preservation"
    else:
        return None
    cert = {"symkkt_certificate": 1,
            "claim": {"kind": kind, "statement": statement, "theorem": theorem},
            "architecture": emb.source.arch.to_json(), "data": data, "parameters": params,
            "witness": witness}
    return finish(cert, NumberField.of(numbers + emb.source.constants()))
