"""Demo rows of the NCF decisions: a rank-one KKT point, its perturbation, a negative-N point.

Each row decides a built-in example in ``symkkt/examples/ncf_*`` exactly and returns its
certificate (re-checked by the kernel when the demo writes it).
"""

from __future__ import annotations

import os
import time

DEMO_NAMES = ("ncf_rank_one", "ncf_perturbed", "ncf_negative")

#: name -> (decide as direction?, expected verdict, description)
ROWS = {
    "ncf_rank_one": (False, "holds", "constrained NCF, 3-3-2-1 leaky ReLU: rank-one KKT point, |W_l|^2 = 1/3 each"),
    "ncf_perturbed": (True, "refuted", "the rank-one point with W1[0,0] + 1/100, as a direction: Farkas vector"),
    "ncf_negative": (False, "holds", "output layer negated: N < 0, a KKT point of min N (sign negative)"),
}


def example_paths(name):
    """(arch, data, params) paths of a built-in NCF example."""
    folder = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples", name)
    return tuple(os.path.join(folder, f"{part}.yaml") for part in ("arch", "data", "params"))


def demo_rows():
    """One row per name of :data:`DEMO_NAMES` (see ``DEMO_EXTENSIONS`` in :mod:`symkkt.demo`)."""
    from .problem import load_ncf

    rows = []
    for name in DEMO_NAMES:
        direction, expected, desc = ROWS[name]
        t0 = time.perf_counter()
        problem, u = load_ncf(*example_paths(name))
        result = problem.decide(u, direction=direction)
        rows.append({"example": name, "claim": result.kind, "verdict": result.verdict, "expected": expected,
                     "certificate": result.certificate(), "sign": result.sign,
                     "description": f"{desc} (sign of N: {result.sign}; Clarke set: {result.clarke_set})",
                     "seconds": round(time.perf_counter() - t0, 3)})
    return rows
