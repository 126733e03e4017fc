"""The pathologies of a parameter set that break inverse stability, each with an exact witness.

Inverse stability asks that a function g close to R_Γ in W^{1,∞}(Ω) have a parametrization
close to Γ. Each of the following features of Γ lets a sequence g_k → R_Γ keep every
parametrization of g_k far from Γ (the families of :mod:`symkkt.realize.families` show the
numbers); this module finds them in one parameter set Γ on the box Ω = (lo, hi)^d:

- **P1 unbalanced**: a neuron that is not dead with |a_i| ≠ ‖w_i‖_∞. A kink of g_k with a
  small jump μ forces a|λ| ≈ μ on some neuron, which is far from an unbalanced (w_i, a_i)
  (e.g. w = k, a = 0 cannot carry the jump 1/k of relu(−x)/k without moving by about k).
- **P2 dead** / **affine**: a neuron whose hyperplane misses the open box (on its negative
  side: dead, contributes 0; on its positive side: affine) and which is not the zero neuron.
  To create a new kink inside the box it must move its hyperplane across the box boundary:
  a change of order dist(hyperplane, box) in (w, b). An affine neuron whose hyperplane touches
  the closed box (min over the box of w·x + b = 0, the "linear neuron") is not reported.
- **P3 same hyperplane**: two visible neurons on one hyperplane with the same orientation. A
  perturbation that splits the kink needs one of them to move the whole distance.
- **P4 opposite directions**: two visible neurons on one hyperplane with opposite
  orientations (their kinks may cancel, as in relu(x) − relu(−x) = x).
- **P5 orientation flip**: a non-empty set S of visible neurons with Σ_{i∈S} a_i w_i = 0.
  Using a relu(z) = a relu(−z) + a z, flipping every neuron of S changes the linear part by
  Σ_S a_i w_i = 0 and the constant by Σ_S a_i b_i, which c absorbs: the same function has a
  second, far away, orbit of parametrizations, and perturbations can force that one. It
  occurs in 2-D with no two opposite w_i: w = (1, 0), (0, 1), (−1, −1).

P0 (measuring the perturbation in L^∞ instead of W^{1,∞}) concerns the norm, not the parameters,
and is shown only as a family.

The orientation convention of the restricted set (:mod:`.restricted`) removes P5 for
perturbations inside its range: there every neuron is positively oriented, and the flipped
orbit lies outside the set.

What this module trusts: the exact domain of :mod:`symkkt.realize.net` and
:func:`symkkt.realize.canonical.normalize` / :func:`~symkkt.realize.canonical.box_range`.

Examples
--------
>>> from symkkt.realize.net import ShallowNet
>>> G = ShallowNet.of([[1], [-1]], ["-1/2", "-1/2"], [1, 1], 0)
>>> [(p["kind"], p["name"], p["neurons"]) for p in find_pathologies(G)]
[('P5', 'orientation flip', [0, 1])]
"""

from __future__ import annotations

import itertools

from .canonical import box_range, neuron_kind, normalize
from .net import fmt, unify

__all__ = ["find_pathologies", "MAX_SUBSET_NEURONS", "zero_sum_subset", "is_zero_neuron"]

#: the search for zero-sum flip subsets enumerates subsets of at most this many visible neurons
MAX_SUBSET_NEURONS = 20


def _abs(x):
    return -x if x < 0 else x


def _inf_norm(w):
    return max((_abs(x) for x in w), default=None)


def is_zero_neuron(w, b, a):
    """Whether the neuron is (0, 0, 0)."""
    return all(x == 0 for x in w) and b == 0 and a == 0


def zero_sum_subset(vectors, max_n=MAX_SUBSET_NEURONS):
    """The first non-empty set S (smallest size first) with Σ_{i∈S} vectors[i] = 0, or None.

    Returns "skipped" when there are more than ``max_n`` vectors.

    Examples
    --------
    >>> from flint import fmpq
    >>> zero_sum_subset([(fmpq(1), fmpq(0)), (fmpq(0), fmpq(1)), (fmpq(-1), fmpq(-1))])
    (0, 1, 2)
    """
    n = len(vectors)
    if n > max_n:
        return "skipped"
    for size in range(1, n + 1):
        for S in itertools.combinations(range(n), size):
            tot = [sum((vectors[i][j] for i in S[1:]), vectors[S[0]][j]) for j in range(len(vectors[S[0]]))]
            if all(x == 0 for x in tot):
                return S
    return None


def find_pathologies(net, lo=-1, hi=1):
    """The pathologies P1–P5 of the parameter set ``net`` on the box (lo, hi)^d.

    Parameters
    ----------
    net : ShallowNet
    lo, hi : exact numbers

    Returns
    -------
    list of dict
        ``{"kind": "P1".."P5", "name", "neurons": [...], "witness": {...exact strings...},
        "text": str}``, in the order P1, P2, P3, P4, P5 (per neuron or group).

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> G = ShallowNet.of([[3], [1], [1]], [0, -2, 2], [1, 1, 1], 0)
    >>> for p in find_pathologies(G):
    ...     print(p["kind"], p["name"], p["neurons"], p["text"])
    P1 unbalanced [0] neuron 0: |a| = 1 but ||w||_inf = 3
    P2 dead [1] neuron 1: w.x + b <= -1 < 0 on the box (max -1): it contributes nothing
    P2 affine [2] neuron 2: w.x + b >= 1 > 0 on the box: affine, its hyperplane misses the closed box
    """
    (net,), (lo, hi) = unify([net], [lo, hi])
    out = []
    kinds = [neuron_kind(w, b, lo, hi) for w, b in zip(net.W, net.b)]
    # P1 unbalanced
    for i, (w, b, a) in enumerate(zip(net.W, net.b, net.a)):
        if kinds[i] == "dead" or is_zero_neuron(w, b, a):
            continue
        s = _inf_norm(w)
        if _abs(a) != s:
            out.append({"kind": "P1", "name": "unbalanced", "neurons": [i],
                        "witness": {"neuron": i, "abs_a": fmt(_abs(a)), "w_inf_norm": fmt(s)},
                        "text": f"neuron {i}: |a| = {fmt(_abs(a))} but ||w||_inf = {fmt(s)}"})
    # P2 dead / affine
    for i, (w, b, a) in enumerate(zip(net.W, net.b, net.a)):
        if is_zero_neuron(w, b, a):
            continue
        mn, mx = box_range(w, b, lo, hi)
        if kinds[i] == "dead":
            out.append({"kind": "P2", "name": "dead", "neurons": [i],
                        "witness": {"neuron": i, "max_on_box": fmt(mx), "a": fmt(a)},
                        "text": f"neuron {i}: w.x + b <= {fmt(mx)} {'< 0' if mx < 0 else '= 0'} on the box "
                                f"(max {fmt(mx)}): it contributes nothing"})
        elif kinds[i] == "affine" and mn > 0:
            out.append({"kind": "P2", "name": "affine", "neurons": [i],
                        "witness": {"neuron": i, "min_on_box": fmt(mn), "a": fmt(a)},
                        "text": f"neuron {i}: w.x + b >= {fmt(mn)} > 0 on the box: affine, its hyperplane "
                                "misses the closed box"})
    # P3 / P4: visible neurons sharing a hyperplane
    groups = {}
    for i, (w, b) in enumerate(zip(net.W, net.b)):
        if kinds[i] != "visible":
            continue
        n, beta, s, flipped = normalize(w, b)
        groups.setdefault((n, beta), []).append((i, flipped))
    for (n, beta), members in groups.items():
        plane = {"normal": [fmt(x) for x in n], "offset": fmt(beta)}
        for orient in (False, True):
            same = [i for i, f in members if f == orient]
            if len(same) > 1:
                out.append({"kind": "P3", "name": "same hyperplane", "neurons": same,
                            "witness": {"hyperplane": plane, "neurons": same},
                            "text": f"neurons {same} lie on one hyperplane with the same orientation"})
        pos = [i for i, f in members if not f]
        neg = [i for i, f in members if f]
        if pos and neg:
            # the gradient of a relu(±z) jumps by a ||w||_inf n across H in both orientations
            jump = sum((net.a[i] * _inf_norm(net.W[i]) for i, _ in members[1:]),
                       net.a[members[0][0]] * _inf_norm(net.W[members[0][0]]))
            out.append({"kind": "P4", "name": "opposite directions", "neurons": sorted(pos + neg),
                        "witness": {"hyperplane": plane, "positive": pos, "negative": neg,
                                    "jump": fmt(jump)},
                        "text": f"neurons {pos} and {neg} lie on one hyperplane with opposite orientations"
                                f" (jump of R across it: {fmt(jump)})"})
    # P5: orientation flip with zero linear sum
    vis = [i for i in range(net.m) if kinds[i] == "visible"]
    vecs = [tuple(net.a[i] * x for x in net.W[i]) for i in vis]
    S = zero_sum_subset(vecs)
    if S == "skipped":
        out.append({"kind": "P5", "name": "orientation flip", "neurons": [],
                    "witness": {"checked": False, "visible": len(vis)},
                    "text": f"not checked: {len(vis)} visible neurons exceed the subset search limit "
                            f"{MAX_SUBSET_NEURONS}"})
    elif S is not None:
        idx = [vis[k] for k in S]
        shift = sum((net.a[i] * net.b[i] for i in idx[1:]), net.a[idx[0]] * net.b[idx[0]])
        opposite = any(_parallel_opposite(net.W[i], net.W[j]) for i, j in itertools.combinations(idx, 2))
        out.append({"kind": "P5", "name": "orientation flip", "neurons": idx,
                    "witness": {"subset": idx, "linear_sum": ["0"] * net.d, "constant_shift": fmt(shift),
                                "opposite_pair": opposite},
                    "text": f"neurons {idx}: sum of a_i w_i is 0, so flipping them (w, b, a) -> (-w, -b, a) "
                            f"and changing c by {fmt(shift)} gives the same function"
                            + ("" if opposite else " (no two of them have opposite w)")})
    return out


def _parallel_opposite(w1, w2):
    """Whether w2 = −λ w1 for some λ > 0."""
    k = next((j for j, x in enumerate(w1) if x != 0), None)
    if k is None or w2[k] == 0:
        return False
    lam = -w2[k] / w1[k]
    return lam > 0 and all(y == -lam * x for x, y in zip(w1, w2))
