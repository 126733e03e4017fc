"""The ``kkt_point_nearby`` certificate of a proved box (checked by :mod:`symkkt.kernel.nearby`)."""

from __future__ import annotations

from ..certificate import digest


def _q(f):
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _nest(flat, shape):
    if len(shape) == 1:
        return list(flat)
    step = len(flat) // shape[0]
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


#: pattern characters of the sign codes of :mod:`.core`
CHARS = {1: "+", -1: "-", 0: "0", 2: "k", 3: "*"}


def pattern_strings(net, signs, n):
    """Per point: '+', '-', '0' (zero unit), 'k' (stated kink) or '*' (either slope) for every unit
    of every kink layer, in layer order."""
    out = []
    for k in range(n):
        chars = []
        for l, s in zip(net.layers, signs):
            if l.kink:
                chars.extend(CHARS[int(v)] for v in s[:, k])
        out.append("".join(chars))
    return out


def nearby_certificate(system, box, arch_json, data_json, zero_units, clarke_set="gradient", lift=None):
    """The certificate dict (with digest) for a box proved by :func:`symkkt.certify.krawczyk.prove`;
    with ``lift`` (merged parallel units) the box is of the merged net and the centre, pattern and
    zero units are written for the original net, with the groups in ``witness.merged``."""
    import datetime

    from .. import __version__
    from ..kernel.nearby import KIND, statement

    net = system.net
    theta = [0] * net.m
    for i, j in enumerate(system.free):
        theta[int(j)] = box.centre[i]
    from fractions import Fraction

    theta = [Fraction(t) for t in theta]
    signs = system.signs
    if lift is not None:
        from .merge import lift_theta

        theta = lift_theta(lift.wmap, theta)
        zero_units = [f"{name.split(':')[0]}:{lift.keep[int(name.split(':')[0])][int(name.split(':')[1])]}"
                      for name in zero_units]
        rep_of = {(g.layer, u): g.units[0] for g in lift.groups for u in g.units}
        signs = []
        for l, s in zip(lift.net.layers, system.signs):
            if s is None:
                signs.append(None)
                continue
            rows = [lift.keep[l.index].index(rep_of.get((l.index, u), u)) if l.weight else u for u in range(l.out)]
            signs.append(s[rows])
        net = lift.net
    params, pos = [], 0
    for layer in net.knet.weight_layers:
        size = 1
        for d in layer.wshape:
            size *= d
        params.append({"weight": _nest([_q(t) for t in theta[pos:pos + size]], layer.wshape)})
        pos += size
    n = len(data_json["points"])
    cert = {
        "symkkt_certificate": 1,
        "claim": {"kind": KIND, "clarke_set": clarke_set, "statement": statement(clarke_set)},
        "architecture": arch_json,
        "data": data_json,
        "parameters": params,
        "witness": {
            "active": list(system.active),
            "pattern": pattern_strings(net, signs, n),
            "zero_units": list(zero_units),
            "multipliers": [_q(v) for v in box.centre[system.nt:system.nt + system.na]],
            "slopes": [_q(v) for v in box.centre[system.nt + system.na:]],
            "radius": [_q(r) for r in box.radius],
            "Y": [[_q(v) for v in row] for row in box.Y],
        },
    }
    if lift is not None:
        cert["witness"]["merged"] = [{"layer": g.layer, "units": list(g.units), "scales": [_q(t) for t in g.scales]}
                                     for g in lift.groups]
    cert["provenance"] = {"tool": f"symkkt {__version__}",
                          "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    cert["digest"] = digest(cert)
    return cert
