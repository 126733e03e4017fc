"""Certificates of realization claims: ``same_realization``, ``different_realization``,
``realization_distance`` (d ≤ 2), re-checked by the kernel from the two networks alone.

Both networks are written in the parameter file form (R_A at the top level, R_B in
``witness.architecture_b`` / ``witness.parameters_b``), the box in ``data.domain``, and all
numbers as exact strings; algebraic numbers bring the ``witness.field`` block of
:func:`symkkt.certificate.finish`.
"""

from __future__ import annotations

from ..certificate import finish
from .net import ShallowNet, fmt

__all__ = ["realization_certificate", "statement"]

KINDS = ("same_realization", "different_realization", "realization_distance")
_FALLBACK = {
    "same_realization": "R_A and R_B are the same function on the box (lo, hi)^d",
    "different_realization": "R_A and R_B differ at the witness point of the open box (lo, hi)^d",
    "realization_distance": "sup and w1inf are the exact L^inf and W^{1,inf} distances of R_A and R_B "
                            "on the box (lo, hi)^d",
}


def statement(kind):
    """The kernel's canonical statement of a realization claim."""
    try:
        from ..kernel import claims

        return claims.statement(kind)
    except (ImportError, ValueError, AttributeError):
        return _FALLBACK[kind]


def _field(net_a, net_b, lo, hi, extra=()):
    fields = [f for f in (net_a.field, net_b.field) if f is not None]
    fields += [getattr(x, "field", None) for x in (lo, hi, *extra) if getattr(x, "field", None) is not None]
    if fields:
        return fields[0]
    import sympy

    from ..field import NumberField

    return NumberField(sympy.Integer(1))


def realization_certificate(kind, net_a, net_b, lo, hi, point=None, dist=None):
    """The certificate of a realization claim (``None`` when it cannot be stated).

    Parameters
    ----------
    kind : str
        ``same_realization``, ``different_realization`` (needs ``point``) or
        ``realization_distance`` (needs an exact ``dist`` with d ≤ 2).
    net_a, net_b : ShallowNet
        In one exact domain with ``lo`` and ``hi``.
    point : tuple, optional
        A point of the open box where R_A and R_B differ.
    dist : symkkt.realize.distance.Distance, optional

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet, to_domain
    >>> a = ShallowNet.of([[1]], [0], [1], 0)
    >>> b = ShallowNet.of([[2]], [0], ["1/2"], 0)
    >>> lo, hi = to_domain([-1, 1])
    >>> cert = realization_certificate("same_realization", a, b, lo, hi)
    >>> cert["claim"]["kind"], cert["data"], cert["witness"]["parameters_b"][1]
    ('same_realization', {'domain': ['-1', '1']}, {'weight': [['1/2']], 'bias': ['0']})
    """
    if not isinstance(net_a, ShallowNet) or not isinstance(net_b, ShallowNet):
        return None
    witness = {"architecture_b": net_b.architecture_json(), "parameters_b": net_b.to_params_json()}
    extra = ()
    if kind == "different_realization":
        witness["point"] = [fmt(x) for x in point]
        extra = tuple(point)
    elif kind == "realization_distance":
        if dist is None or not dist.exact or dist.d > 2:
            return None
        witness.update({"sup": fmt(dist.sup), "sup_point": [fmt(x) for x in dist.sup_point],
                        "w1inf": fmt(dist.w1inf), "w1inf_point": [fmt(x) for x in dist.w1inf_point],
                        "w1inf_coordinate": dist.w1inf_coordinate})
        extra = (dist.sup, dist.w1inf, *dist.sup_point, *dist.w1inf_point)
    elif kind != "same_realization":
        raise ValueError(f"unknown realization claim {kind!r}")
    cert = {"symkkt_certificate": 1,
            "claim": {"kind": kind, "statement": statement(kind)},
            "architecture": net_a.architecture_json(),
            "data": {"domain": [fmt(lo), fmt(hi)]},
            "parameters": net_a.to_params_json(),
            "witness": witness}
    return finish(cert, _field(net_a, net_b, lo, hi, extra))
