"""Benchmark: global optimality (``symkkt optimality --global``) and the growth of the dual bound S(λ).

Cases:

- ``zero_unit optimum`` / ``zero_unit params``: the whole command
  ``symkkt optimality ARCH DATA PARAMS --global --json`` on the packaged zero-unit instance
  (``symkkt/examples/zero_unit``), in a fresh process. Target ≤ 2 s.
- ``relu8 global`` / ``relu8 not global``: a two-layer ReLU net with 8 units, d = 3, n = 12 (points
  (1, a, b) with label +1, in ± pairs); θ is one unit along e_1 split into 8 parallel copies with
  coefficients (3, 3, 2, 2, 2, 2, 1, 1)/6 (squares summing to 1, so θ stays a KKT point). For the
  first data set the dual bound proves θ global, for the second a shorter feasible point refutes
  it. Whole command in a fresh process, and the kernel's check of the certificate. Target ≤ 10 s
  (aim ≤ 3 s).
- growth: S(λ) for random integer data and random rational λ, n points in dimension d. The
  arrangement has at most 2·Σ_{i<d} C(n−1, i) = O(n^(d−1)) cells; the table gives the cells, the
  exact S(λ) time and the kernel's recount. Past the ``vertices`` limit (4096 cells by default,
  ``--limit vertices=N``) the command does not compute S(λ) and answers ``inconclusive``, saying
  so; the table marks those rows.

Run from the repository root::

    python benchmarks/bench_optimality.py [--quick]
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

import sympy
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _table import print_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = "import sys; from symkkt.cli import main; sys.exit(main(sys.argv[1:]))"
ZERO = os.path.join(ROOT, "symkkt", "examples", "zero_unit")
SPLIT = ["1/2", "1/2", "1/3", "1/3", "1/3", "1/3", "1/6", "1/6"]
RELU8 = {"global": [(1, 0), (-1, 0), (0, 1), (0, -1), (2, 1), (-2, -1), (1, -2), (-1, 2), (1, 1), (-1, -1),
                    (2, -1), (-2, 1)],
         "not global": [(2, 4), (-2, -4), (-3, -1), (3, 1), (-4, -1), (4, 1), (2, 0), (-2, 0), (-2, 2), (2, -2),
                        (-2, -3), (2, 3)]}


def command(arch, data, params, cert=None):
    """Wall time and parsed JSON of the whole command in a fresh process."""
    args = [sys.executable, "-c", RUNNER, "optimality", arch, data, params, "--global", "--json"]
    if cert:
        args += ["--cert", cert]
    t = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t
    try:
        return dt, json.loads(out.stdout)
    except ValueError:
        return dt, {"verdict": "error", "reason": (out.stderr or out.stdout).strip()[-200:]}


def relu8_files(folder, which):
    arch = {"input": [3], "layers": [{"dense": {"width": 8, "activation": "relu"}}, {"dense": {"width": 1}}]}
    data = {"points": [{"x": [1, a, b], "y": 1} for a, b in RELU8[which]]}
    params = [{"weight": [[c, 0, 0] for c in SPLIT]}, {"weight": [SPLIT]}]
    paths = []
    for name, obj in (("arch", arch), ("data", data), ("params", params)):
        p = os.path.join(folder, f"{name}.yaml")
        with open(p, "w") as fh:
            yaml.safe_dump(obj, fh)
        paths.append(p)
    return paths


def kernel_time(path):
    from symkkt.kernel import check_file

    t = time.perf_counter()
    v = check_file(path)
    return time.perf_counter() - t, v.valid


def growth(quick):
    from symkkt import limits
    from symkkt.field import NumberField
    from symkkt.kernel.exact import Numbers
    from symkkt.kernel.limits import Limits
    from symkkt.kernel.optimality_global import count_cells
    from symkkt.optimality import dual

    K = NumberField(sympy.Integer(1))
    sizes = [(12, 2), (48, 2), (12, 3), (24, 3), (48, 3), (12, 4), (24, 4), (12, 5), (16, 6)]
    if quick:
        sizes = sizes[:4]
    cap = limits.get("vertices")
    rows = []
    for n, d in sizes:
        rng = random.Random(n * 100 + d)
        X = [[rng.randint(-6, 6) for _ in range(d)] for _ in range(n)]
        y = [rng.choice([-1, 1]) for _ in range(n)]
        lam = [sympy.Rational(rng.randint(0, 6), 7) for _ in range(n)]
        bound = 2 * sum(math.comb(n - 1, i) for i in range(d))
        t = time.perf_counter()
        try:
            b = dual.dual_bound(K, X, y, lam, 1, 0, cap=cap)
        except dual.TooManyCells:
            rows.append((n, d, bound, f"> {cap}", f"{time.perf_counter() - t:.2f}", "-", "inconclusive (limit)"))
            continue
        ts = time.perf_counter() - t
        N = Numbers()
        Xk = [[N.num(str(v)) for v in x] for x in X]
        t = time.perf_counter()
        count_cells(N.F, Xk, d, Limits({"operations": 10**9}))
        tk = time.perf_counter() - t
        rows.append((n, d, bound, len(b.cells), f"{ts:.2f}", f"{tk:.2f}", f"S^2 ~ {float(b.s2):.4g}"))
    print_table(("n", "d", "cells <=", "cells", "S(lambda) s", "kernel count s", "result"), rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer growth rows")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for params in ("optimum.yaml", "params.yaml"):
            cert = os.path.join(tmp, "zero.json")
            dt, out = command(os.path.join(ZERO, "arch.yaml"), os.path.join(ZERO, "data.yaml"),
                              os.path.join(ZERO, params), cert)
            kt, ok = kernel_time(cert) if os.path.exists(cert) else (0.0, None)
            rows.append((f"zero_unit {params.split('.')[0]}", f"{dt:.2f}", "2", out["verdict"],
                         out.get("properties", {}).get("global", {}).get("method", "-"), f"{kt:.2f}", ok))
            if os.path.exists(cert):
                os.remove(cert)
        for which in RELU8:
            folder = os.path.join(tmp, which.replace(" ", "_"))
            os.mkdir(folder)
            cert = os.path.join(folder, "cert.json")
            dt, out = command(*relu8_files(folder, which), cert)
            kt, ok = kernel_time(cert) if os.path.exists(cert) else (0.0, None)
            rows.append((f"relu8 {which}", f"{dt:.2f}", "10 (aim 3)", out["verdict"],
                         out.get("properties", {}).get("global", {}).get("method", "-"), f"{kt:.2f}", ok))
    print("symkkt optimality --global (whole command, fresh process)")
    print_table(("case", "time s", "target s", "verdict", "global method", "kernel s", "kernel valid"), rows)
    print()
    print("dual bound S(lambda): exact cells of the data's arrangement (random data, ReLU)")
    growth(args.quick)


if __name__ == "__main__":
    main()
