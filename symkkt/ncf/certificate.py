"""Certificates of NCF decisions: ``ncf_kkt_point``, ``ncf_kkt_direction`` and their refutations.

The layout is the project's (docs/formats.md, section 3): ``claim`` {kind, clarke_set, statement},
``architecture``, ``data`` (targets any exact numbers), ``parameters`` (u), ``witness``, and the
digest. The witness of a holds is the multiplier λ = K·N(u)/‖u‖² and the Clarke element
(``terms`` of joint patterns with their directions for the Clarke set, per-point ``points`` for
the chain-rule hull, nothing for the gradient); a refutation carries ``reason: not_unit`` or
``reason: stationarity`` with the Farkas vector (and Gordan ``excluded`` patterns for the Clarke
set). :mod:`symkkt.kernel.ncf` re-checks every field from scratch.
"""

from __future__ import annotations

from ..certificate import _format_params, finish


def ncf_certificate(result):
    """Certificate for a decided :class:`~symkkt.ncf.problem.NCFResult` (``None`` if inconclusive).

    Examples
    --------
    >>> from symkkt.ncf.problem import ncf_from_dicts
    >>> from symkkt.kernel import check_certificate
    >>> problem, u = ncf_from_dicts({"input": [1], "layers": [{"dense": {"width": 1}}]},
    ...                             {"points": [{"x": [1], "y": "1/2"}]}, [{"weight": [[1]]}])
    >>> cert = problem.decide(u).certificate()
    >>> cert["claim"]["kind"], cert["witness"], check_certificate(cert).valid
    ('ncf_kkt_point', {'multiplier': '1/2'}, True)
    """
    if result.verdict == "inconclusive":
        return None
    from ..kernel.ncf import statement

    problem = result.problem
    net = problem.network
    params = [{"weight": layer["weight"], **({"bias": layer["bias"]} if layer["bias"] is not None else {})}
              for layer in net.unflatten(result.u)]
    out = result.to_json()
    kind = result.kind if result.verdict == "holds" else "not_" + result.kind
    witness = dict(out["witness"])
    if result.verdict == "refuted" and witness["reason"] == "not_unit":
        witness = {"reason": "not_unit"}
    elif result.verdict == "refuted" and "excluded" in witness and result.clarke_set != "clarke":
        witness.pop("excluded")
    cert = {"symkkt_certificate": 1,
            "claim": {"kind": kind, "clarke_set": result.clarke_set, "statement": statement(kind, result.clarke_set)},
            "architecture": net.arch.to_json(),
            "data": problem.data.to_json(),
            "parameters": _format_params(params),
            "witness": witness}
    return finish(cert, problem.domain(result.u).field)
