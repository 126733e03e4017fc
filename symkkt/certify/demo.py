"""Demo rows of ``symkkt certify``: float points next to known KKT points, each proved by a box.

Each row perturbs a built-in exact KKT point by 1e-10 (float64, as training would leave it),
runs :func:`symkkt.certify.run.certify` without the exact snap, and returns the
``kkt_point_nearby`` certificate (re-checked by the kernel when the demo writes it):

- ``certify_example1``: example1 (smooth KKT point, algebraic coordinates);
- ``certify_kink``: the kink example, point 0 on a kink: a stated kink, slope 1/4 (Clarke set);
- ``certify_split``: example1 with hidden unit 0 split into two parallel units (scales 3/5, 4/5):
  a continuum of KKT points, proved through the merged net and the exact lift.
"""

from __future__ import annotations

import time

DEMO_NAMES = ("certify_example1", "certify_kink", "certify_split")

#: the split net of ``certify_split``: example1 widened by a copy of unit 0
SPLIT_ARCH = {"input": [2], "layers": [{"dense": {"width": 3, "activation": "relu"}}, {"dense": {"width": 1}}]}
SPLIT_DATA = {"points": [{"x": [1, 0], "y": 1}, {"x": [-1, 1], "y": -1}, {"x": [3, 1], "y": 1}]}


def _inputs(name):
    """(architecture, data, exact θ as sympy numbers, description) of a row."""
    import sympy

    from ..api import load_example

    if name == "certify_split":
        a, b = sympy.Integer(2) ** sympy.Rational(-3, 4), sympy.Integer(2) ** sympy.Rational(-1, 4)
        t = [sympy.Rational(3, 5), 0, -a, a, sympy.Rational(4, 5), 0, sympy.Rational(3, 5), -b, sympy.Rational(4, 5)]
        return SPLIT_ARCH, SPLIT_DATA, t, "example1 with unit 0 split 3/5 : 4/5, + 1e-10: merged units, exact lift"
    problem, theta = load_example(name.split("_", 1)[1])
    desc = {"certify_example1": "example1 + 1e-10: box proof of the nearby KKT point (Krawczyk)",
            "certify_kink": "kink example + 1e-10: stated kink z = 0, slope in [0, 1] (Clarke set)"}[name]
    return problem.network.arch.to_json(), problem.data.to_json(), list(theta), desc


def demo_rows():
    """One row per name of :data:`DEMO_NAMES` (see ``DEMO_EXTENSIONS`` in :mod:`symkkt.demo`)."""
    import sympy

    from .run import certify

    rows = []
    for name in DEMO_NAMES:
        t0 = time.perf_counter()
        arch, data, theta, desc = _inputs(name)
        trained = [float(sympy.N(t, 30)) + 1e-10 * (-1) ** i for i, t in enumerate(theta)]
        res = certify(arch, data, trained, exact=False)
        rows.append({"example": name, "claim": "kkt_point_nearby", "verdict": res.verdict, "expected": "holds",
                     "certificate": res.certificate(), "tier": res.tier,
                     "description": f"{desc} ({res.proof.get('clarke_set', '-')})",
                     "seconds": round(time.perf_counter() - t0, 3)})
    return rows
