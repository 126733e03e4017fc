"""Demo rows of ``symkkt demo`` for the realization map (see ``DEMO_EXTENSIONS`` in :mod:`symkkt.demo`).

- ``realize_same``: a 2-D net and a merged-model style re-parametrization of it (neurons
  permuted, one rescaled, one split in two, an affine neuron folded into a pair of opposite
  neurons and the output bias): the same function on (−1, 1)², certified;
- ``realize_different``: the same pair after a bias shift of 1/100 in one neuron: a witness
  point where the values differ, certified;
- ``realize_distance``: the exact sup and W^{1,∞} distances of that pair, certified.
"""

from __future__ import annotations

import time

DEMO_NAMES = ("realize_same", "realize_different", "realize_distance")


def demo_pair(shift="1/100"):
    """(A, B, B_shifted): A and B realize the same function on (−1, 1)²; B_shifted does not.

    Examples
    --------
    >>> from symkkt.realize.canonical import same_realization
    >>> A, B, C = demo_pair()
    >>> same_realization(A, B)[0], same_realization(A, C)[0], A.m, B.m
    (True, False, 4, 6)
    """
    from .net import ShallowNet

    # A: relu(x1) + 2 relu(x2 - 1/2) + relu(x1 + x2 + 3) - relu(x1 - x2); the third is affine on the box
    A = ShallowNet.of([[1, 0], [0, 1], [1, 1], [1, -1]], [0, "-1/2", 3, 0], [1, 2, 1, -1], 0)
    # B: neuron 3 first, neuron 1 rescaled by 2, neuron 0 split into 1/3 + 2/3 (the second rescaled by 3),
    # and x1 + x2 + 3 = relu(x1 + x2) - relu(-x1 - x2) + 3 folded into two opposite neurons and c
    rows = ([[1, -1], [0, 2], [1, 0], [3, 0], [1, 1], [-1, -1]],
            [0, -1, 0, 0, 0, 0],
            [-1, 1, "1/3", "2/9", 1, -1], 3)
    B = ShallowNet.of(*rows)
    b = list(rows[1])
    b[2] = shift
    C = ShallowNet.of(rows[0], b, rows[2], rows[3])
    return A, B, C


def demo_rows():
    """The three rows, each with its certificate."""
    from .canonical import same_realization
    from .certificate import realization_certificate
    from .distance import distance
    from .net import fmt, to_domain

    lo, hi = to_domain([-1, 1])
    A, B, C = demo_pair()
    rows = []
    t0 = time.perf_counter()
    same, _ = same_realization(A, B, lo, hi)
    cert = realization_certificate("same_realization", A, B, lo, hi) if same else None
    rows.append({"example": "realize_same", "claim": "same_realization", "verdict": "holds" if same else "refuted",
                 "expected": "holds", "certificate": cert, "seconds": round(time.perf_counter() - t0, 3),
                 "description": "2-D net vs its permuted, rescaled, split and affine-folded re-parametrization "
                                "(width 4 vs 6): same function on (-1,1)^2"})
    t0 = time.perf_counter()
    same, point = same_realization(A, C, lo, hi)
    cert = None if same else realization_certificate("different_realization", A, C, lo, hi, point=point)
    rows.append({"example": "realize_different", "claim": "different_realization",
                 "verdict": "holds" if same else "refuted", "expected": "refuted", "certificate": cert,
                 "seconds": round(time.perf_counter() - t0, 3),
                 "point": None if point is None else [fmt(x) for x in point],
                 "description": "the same pair after a bias shift of 1/100 in one split neuron: values differ at "
                                + ("(" + ", ".join(fmt(x) for x in point) + ")" if point is not None else "-")})
    t0 = time.perf_counter()
    D = distance(A, C, lo, hi)
    cert = realization_certificate("realization_distance", A, C, lo, hi, dist=D)
    rows.append({"example": "realize_distance", "claim": "realization_distance", "verdict": "holds",
                 "expected": "holds", "certificate": cert, "seconds": round(time.perf_counter() - t0, 3),
                 "sup": fmt(D.sup), "w1inf": fmt(D.w1inf),
                 "description": f"exact distances of that pair: sup |R_A - R_B| = {fmt(D.sup)}, "
                                f"W^1,inf = {fmt(D.w1inf)} ({D.vertices} vertices, {D.cells} cells)"})
    return rows
