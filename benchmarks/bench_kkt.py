"""Benchmark: the whole ``symkkt kkt`` command on large instances, against a naive sympy pipeline.

Cases (issue "Core"):

- ``split64``: example1 with both hidden units split repeatedly by (3/5, 4/5) to width 64, plus
  inactive points (margin > 1) up to 200 points: still a KKT point (holds). Target ≤ 5 s.
- ``split256``: the same to width 256 with 1000 points. Target ≤ 20 s, peak RSS ≤ 1 GiB.
- ``random64``: random rational width-64 net, d = 10, n = 200, labels = its own signs (refuted).
  Target ≤ 5 s.
- ``naive64``: the smallest case through a naive sympy pipeline (Max expressions, diff, subs,
  linsolve), with a time limit.

Run: ``python benchmarks/bench_kkt.py [--naive-timeout SECONDS]``. Prints a table.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import sympy
from sympy import Rational as R

from symkkt.api import load_example
from symkkt.numbers import format_number
from symkkt.tensor import ExactDomain

from _table import print_table

C = (R(3, 5), R(4, 5))


def split_all(W1, a, rounds):
    """Split every hidden unit of a two-layer net into two children with coefficients C."""
    for _ in range(rounds):
        W1 = [[c * w for w in row] for row in W1 for c in C]
        a = [c * v for v in a for c in C]
    return W1, a


def inactive_points(net, theta, count, d, rng):
    """Random rational points labelled by the network's sign, rescaled to margin in (1, 3]."""
    dom = ExactDomain.for_numbers(theta)
    pts = []
    while len(pts) < count:
        x = [R(rng.randint(-40, 40), rng.randint(1, 9)) for _ in range(d)]
        out = net.forward(dom, theta, [x]).output.elements()[0]
        val = out.to_sympy()
        if val == 0:
            continue
        s = 2 / abs(val) if abs(val) <= 1 else 1          # margin exactly 2 after scaling (> 1)
        x = [xi * s for xi in x]
        pts.append({"x": [format_number(v) for v in x], "y": 1 if val > 0 else -1})
    return pts


def write_case(folder, name, arch, points, params):
    paths = []
    for kind, obj in (("arch", arch), ("data", {"points": points}), ("params", params)):
        p = os.path.join(folder, f"{name}_{kind}.json")
        with open(p, "w") as fh:
            json.dump(obj, fh)
        paths.append(p)
    return paths


def make_split_case(folder, width, n, rng):
    problem, theta = load_example("example1")
    W1 = [theta[0:2], theta[2:4]]
    a = theta[4:6]
    rounds = {64: 5, 256: 7}[width]
    W1, a = split_all(W1, a, rounds)
    base = [{"x": [format_number(v) for v in x], "y": int(y)} for x, y in zip(problem.data.X, problem.data.y)]
    points = base + inactive_points(problem.network, theta, n - 3, 2, rng)
    arch = {"input": [2], "layers": [{"dense": {"width": width, "activation": "relu"}}, {"dense": {"width": 1}}]}
    params = [{"weight": [[format_number(v) for v in row] for row in W1]},
              {"weight": [[format_number(v) for v in a]]}]
    return write_case(folder, f"split{width}", arch, points, params), (problem, theta, base)


def make_random_case(folder, rng, width=64, d=10, n=200):
    from symkkt.network import Network
    from symkkt.spec import architecture_from_json

    arch = {"input": [d], "layers": [{"dense": {"width": width, "activation": "relu"}}, {"dense": {"width": 1}}]}
    W1 = [[R(rng.randint(-9, 9), rng.randint(1, 9)) for _ in range(d)] for _ in range(width)]
    a = [R(rng.randint(-9, 9), rng.randint(1, 9)) for _ in range(width)]
    net = Network(architecture_from_json(arch))
    theta = [v for row in W1 for v in row] + a
    dom = ExactDomain.for_numbers(theta)
    pts = []
    while len(pts) < n:
        x = [R(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(d)]
        val = net.forward(dom, theta, [x]).output.elements()[0].to_sympy()
        if val != 0:
            pts.append({"x": [format_number(v) for v in x], "y": 1 if val > 0 else -1})
    params = [{"weight": [[format_number(v) for v in row] for row in W1]},
              {"weight": [[format_number(v) for v in a]]}]
    return write_case(folder, "random64", arch, pts, params)


def run_cli(paths):
    """Wall time, peak RSS (MiB), verdict of one ``symkkt kkt`` process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "symkkt.cli", "kkt", *paths, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    verdict = json.loads(out)["verdict"] if out else proc.stderr.read().decode()[:200]
    return wall, usage.ru_maxrss / 1024, verdict


def naive_pipeline(paths, timeout):
    """Max-expressions + diff + subs + linsolve on the active points; returns seconds or None."""
    import signal

    def handler(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, handler)
    signal.alarm(int(timeout))
    t0 = time.perf_counter()
    try:
        from symkkt.api import load_problem

        problem, theta = load_problem(*paths)
        width = problem.network.param_shapes[0]["weight"][0]
        w = sympy.Matrix(width, 2, sympy.symbols(f"w0:{2 * width}"))
        a = sympy.Matrix(1, width, sympy.symbols(f"a0:{width}"))
        x = sympy.symbols("x0:2")
        phi = sum(a[j] * sympy.Max(0, w[j, 0] * x[0] + w[j, 1] * x[1]) for j in range(width))
        params = list(w) + list(a)
        values = dict(zip(params, theta))
        grads = [sympy.diff(phi, p) for p in params]
        margins = []
        for xk, yk in zip(problem.data.X, problem.data.y):
            sub = {**values, x[0]: xk[0], x[1]: xk[1]}
            margins.append(sympy.simplify(yk * phi.subs(sub)))
        active = [k for k, q in enumerate(margins) if sympy.simplify(q - 1) == 0]
        lam = sympy.symbols(f"l0:{len(active)}")
        eqs = []
        for i, p in enumerate(params):
            rhs = 0
            for l, k in zip(lam, active):
                xk = problem.data.X[k]
                rhs += l * problem.data.y[k] * grads[i].subs({**values, x[0]: xk[0], x[1]: xk[1]})
            eqs.append(sympy.expand(values[p] - rhs))
        sympy.linsolve(eqs, lam)
        return time.perf_counter() - t0
    except TimeoutError:
        return None
    finally:
        signal.alarm(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--naive-timeout", type=float, default=120)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        p64, _ = make_split_case(folder, 64, 200, rng)
        p256, _ = make_split_case(folder, 256, 1000, rng)
        prand = make_random_case(folder, rng)
        for name, paths, target, aim, expect in (("split64 (w=64, n=200)", p64, 5, 1, "holds"),
                                                 ("split256 (w=256, n=1000)", p256, 20, 3, "holds"),
                                                 ("random64 (w=64, d=10, n=200)", prand, 5, 1, "refuted")):
            wall, rss, verdict = run_cli(paths)
            ok = "ok" if wall <= target and verdict == expect else "MISSED"
            rows.append((name, f"{wall:.2f}", f"{rss:.0f}", verdict, f"<= {target} (aim {aim})", ok))
        naive = naive_pipeline(p64, args.naive_timeout)
        fast = float(rows[0][1])
        rows.append(("naive sympy on split64", f"{naive:.2f}" if naive else f"> {args.naive_timeout:.0f}",
                     "-", "-", "baseline",
                     f"x{naive / fast:.0f} slower" if naive else f"> x{args.naive_timeout / fast:.0f} slower"))
    head = ("case", "wall s", "peak RSS MiB", "verdict", "target s", "")
    print_table(head, rows)


if __name__ == "__main__":
    main()
