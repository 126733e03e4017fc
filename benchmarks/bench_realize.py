"""Benchmark: ``symkkt realize`` exact distances against a float64 numpy grid.

Cases (random rational parameters, numerators up to 1000 over primes near 1000, seeds fixed):

- 1-D, two nets of width 1000 on (−1, 1): exact sup and W^{1,∞} distance by the sorted sweep.
  Targets: ≤ 1 s, aim ≤ 0.2 s. Rows: the library call :func:`symkkt.realize.distance.distance`
  (from loaded nets) and the whole command ``symkkt realize ARCH A B --json`` as a subprocess
  (imports, reading and validating the files, canonical forms, same-function test, distances).
- 2-D, width 30 each: exact sup distance by vertex and cell enumeration. Targets: ≤ 10 s, aim
  ≤ 2 s. Also width 60 (cell count and time).
- float64 numpy grid: the max of |h| over a uniform grid of n points per axis; the table shows
  the first n (doubling) whose value is within 1e-6 of the exact sup, and the time of that grid.

Run: ``python benchmarks/bench_realize.py [--repeat R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _table import print_table  # noqa: E402

from symkkt.realize.distance import distance  # noqa: E402
from symkkt.realize.net import ShallowNet  # noqa: E402


def random_net(m, d, seed):
    rng = random.Random(seed)
    q = (lambda p: Fraction(rng.randint(-1000, 1000), p))
    return ShallowNet.of([[q(997) for _ in range(d)] for _ in range(m)], [q(991) for _ in range(m)],
                         [q(983) for _ in range(m)], q(977))


def floats(net):
    W = np.array([[float(x) for x in row] for row in net.W])
    return W, np.array([float(x) for x in net.b]), np.array([float(x) for x in net.a]), float(net.c)


def grid_max(A, B, d, n):
    """max |h| over the grid of n points per axis (float64), and its time."""
    fa, fb = floats(A), floats(B)
    t = time.perf_counter()
    g = np.linspace(-1.0, 1.0, n)
    best = 0.0
    if d == 1:
        X = g[:, None]
        chunks = [X]
    else:
        X1, X2 = np.meshgrid(g, g)
        P = np.column_stack([X1.ravel(), X2.ravel()])
        chunks = np.array_split(P, max(1, len(P) // 20000))
    for X in chunks:
        h = 0
        for (W, b, a, c), s in ((fa, 1), (fb, -1)):
            h = h + s * (np.maximum(X @ W.T + b, 0) @ a + c)
        best = max(best, float(np.max(np.abs(h))))
    return best, time.perf_counter() - t


def grid_to(A, B, d, exact, start, limit):
    n = start
    while True:
        val, secs = grid_max(A, B, d, n)
        if abs(val - exact) <= 1e-6 or n >= limit:
            return n, val, secs, abs(val - exact) <= 1e-6
        n *= 2


def best_of(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def write_case(folder, A, B, d):
    arch = {"input": [d], "layers": [{"dense": {"width": A.m, "activation": "relu", "bias": True}},
                                     {"dense": {"width": 1, "bias": True}}]}
    paths = []
    for name, obj in (("arch.json", arch), ("a.json", A.to_params_json()), ("b.json", B.to_params_json())):
        p = os.path.join(folder, name)
        with open(p, "w") as fh:
            json.dump(obj, fh)
        paths.append(p)
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    # 1-D, width 1000
    A, B = random_net(1000, 1, 1), random_net(1000, 1, 2)
    secs, D = best_of(lambda: distance(A, B), args.repeat)
    rows.append(["1-D w=1000 library", f"{secs:.3f} s", D.vertices, D.cells, f"{float(D.sup):.9g}",
                 f"{float(D.w1inf):.9g}", "exact"])
    with tempfile.TemporaryDirectory() as tmp:
        files = write_case(tmp, A, B, 1)

        def command():
            r = subprocess.run([sys.executable, "-m", "symkkt", "realize", *files, "--json"], capture_output=True,
                               text=True)
            return json.loads(r.stdout)
        csecs, obj = best_of(command, args.repeat)
    rows.append(["1-D w=1000 command", f"{csecs:.3f} s", "", "", obj["distance"]["sup"][:12] + "...",
                 obj["distance"]["w1inf"][:12] + "...", obj["verdict"]])
    n, val, gsecs, ok = grid_to(A, B, 1, float(D.sup), 1000, 2 ** 26)
    rows.append([f"1-D float64 grid n={n}", f"{gsecs:.3f} s", "", "", f"{val:.9g}", "",
                 "within 1e-6" if ok else "NOT within 1e-6"])
    # 2-D, widths 30 and 60
    for m in (30, 60):
        A, B = random_net(m, 2, 10 + m), random_net(m, 2, 20 + m)
        secs, D = best_of(lambda: distance(A, B), 1 if m == 60 else args.repeat)
        rows.append([f"2-D w={m} library", f"{secs:.3f} s", D.vertices, D.cells, f"{float(D.sup):.9g}",
                     f"{float(D.w1inf):.9g}", "exact"])
        n, val, gsecs, ok = grid_to(A, B, 2, float(D.sup), 64, 2048)
        rows.append([f"2-D w={m} float64 grid n={n}^2", f"{gsecs:.3f} s", "", "", f"{val:.9g}", "",
                     "within 1e-6" if ok else "NOT within 1e-6"])
    print_table(["case", "time", "vertices", "cells", "sup", "w1inf", "tier"], rows)


if __name__ == "__main__":
    main()
