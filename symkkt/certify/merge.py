"""Merged units: trained nets often have several hidden units doing the same job.

Two units u, u' of a dense hidden layer followed by a dense layer are *parallel* when their
incoming rows and outgoing columns, joined into one vector per unit, point the same way. At a KKT
point such units form a continuum (the total can be shared among them in many ways: for units
with rows t_u·w̄ and columns t_u·c̄, Φ depends on them only through Σ t_u² = 1), so the KKT system
is singular there and no box proof can show uniqueness. The way out is the *lift*:

    if (w̄, c̄) is a KKT point of the net in which the group is one unit, and t_u > 0 with
    Σ_u t_u² = 1, then rows t_u·w̄ and columns t_u·c̄ give a KKT point of the original net,

because every path through the group contributes Σ t_u² times the merged unit's path, every
unit of the group has the merged unit's activation pattern (t_u > 0), and the gradient with
respect to unit u's row (column) is t_u times the merged unit's, so θ = Σ λ_k y_k h_k holds row
by row, with the same λ and the same slopes at stated kinks. The kernel re-checks the lift
exactly (:mod:`symkkt.kernel.nearby`): scales positive and rational with Σ t_u² = 1, the
centre's rows and columns exactly t_u times the merged ones, patterns equal within a group.

Scales are rational points of the unit sphere (inverse stereographic projection of a rational
approximation), so Σ t_u² = 1 holds exactly.

Examples
--------
>>> t = sphere_point([3.0, 4.0])
>>> t, sum(v * v for v in t)
([Fraction(3, 5), Fraction(4, 5)], Fraction(1, 1))
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


def sphere_point(a, max_denominator=10 ** 4):
    """A rational point with positive entries on the unit sphere near the direction of ``a`` (> 0)."""
    a = np.asarray(a, dtype=float)
    x = a / np.linalg.norm(a)
    if len(x) == 1:
        return [Fraction(1)]
    # pole -e_last: x = (2s, 1 - |s|²) / (1 + |s|²), s = x[:-1] / (1 + x[-1])
    s = [Fraction(float(v) / (1 + float(x[-1]))).limit_denominator(max_denominator) for v in x[:-1]]
    n2 = sum(v * v for v in s)
    return [2 * v / (1 + n2) for v in s] + [(1 - n2) / (1 + n2)]


@dataclass
class Group:
    layer: int                   # weight layer index (1-based)
    units: list                  # unit indices, the first is the representative
    scales: list                 # Fractions t_u > 0, Σ t² = 1


def find_groups(net, arch_json, theta, tolerance, zero_units):
    """Groups of ≥ 2 parallel units (unit vectors within ``tolerance``) of dense → dense layers."""
    layers = arch_json["layers"]
    groups = []
    for layer, nxt in net.hidden():
        if _kind(layers[layer.apos]) != "dense" or _kind(layers[nxt.apos]) != "dense" or nxt.apos != layer.apos + 1:
            continue
        vec, members = {}, []
        for u in range(layer.out):
            if f"{layer.index}:{u}" in zero_units:
                continue
            v = theta[net.zero_unit_weights(layer, nxt, u)]
            if np.linalg.norm(v) == 0:
                continue
            vec[u] = v / np.linalg.norm(v)
            for g in members:
                if np.linalg.norm(vec[u] - vec[g[0]]) <= tolerance:
                    g.append(u)
                    break
            else:
                members.append([u])
        for g in members:
            if len(g) > 1:
                t = sphere_point([np.linalg.norm(theta[net.zero_unit_weights(layer, nxt, u)]) for u in g])
                groups.append(Group(layer.index, list(g), t))
    return groups


def _kind(spec):
    return spec if isinstance(spec, str) else next(iter(spec))


def merged_architecture(arch_json, net, groups):
    """The architecture with every group replaced by its first unit, and the kept units per layer."""
    arch = copy.deepcopy(arch_json)
    wl = [l for l in net.layers if l.weight]
    keep = {l.index: list(range(l.out)) for l in wl}
    for g in groups:
        for u in g.units[1:]:
            keep[g.layer].remove(u)
        arch["layers"][wl[g.layer - 1].apos]["dense"]["width"] = len(keep[g.layer])
    return arch, keep


def weight_map(net, mnet, groups, keep):
    """For every θ index of the original net: (θ index of the merged net, lift factor f), with
    θ_orig = f·θ_merged on the lift; f is the product of the scales of the grouped units at both
    ends of the weight (1 elsewhere), so Σ f² = 1 over the weights that share a merged weight."""
    scale = {(g.layer, u): t for g in groups for u, t in zip(g.units, g.scales)}
    rep = {(g.layer, u): g.units[0] for g in groups for u in g.units}
    out = [None] * net.m
    for pos, (l, ml) in enumerate(zip(net.layers, mnet.layers)):
        if not l.weight:
            continue
        prev = net.layers[pos - 1] if pos > 0 and net.layers[pos - 1].weight else None
        mpos = {(int(o), int(i)): int(w) for o, i, w in zip(ml.o, ml.i, ml.w)}
        for o, i, w in zip(l.o, l.i, l.w):
            o, i, f = int(o), int(i), Fraction(1)
            if (l.index, o) in rep:
                f, o = f * scale[(l.index, o)], rep[(l.index, o)]
            if prev is not None and (prev.index, i) in rep:
                f, i = f * scale[(prev.index, i)], rep[(prev.index, i)]
            mo = keep[l.index].index(o)
            mi = keep[prev.index].index(i) if prev is not None else i
            out[int(w)] = (mpos[(mo, mi)], f)
    return out


def merge_theta(wmap, theta, m_merged):
    """The least-squares merged point: θ_merged[j] = Σ f·θ_orig over the weights mapped to j."""
    out = np.zeros(m_merged)
    for i, (j, f) in enumerate(wmap):
        out[j] += float(f) * float(theta[i])
    return out


def lift_theta(wmap, merged_theta):
    """θ of the original net (Fractions) from the merged θ (Fractions)."""
    return [f * merged_theta[j] for j, f in wmap]


def rename_zero_units(zero_units, keep):
    """Zero-unit names of the original net in the merged net's numbering."""
    out = []
    for name in zero_units:
        L, u = map(int, name.split(":"))
        out.append(f"{L}:{keep[L].index(u)}")
    return out
