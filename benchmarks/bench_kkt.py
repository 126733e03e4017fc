"""Benchmark: the whole ``symkkt kkt`` command on large instances, now and at a baseline revision.

Cases:

- ``example1``: the public instance itself; the cost of a small decision is mostly imports.
  Target ≤ 0.6 s for the whole command.
- ``split W / n N``: example1 with each of its two hidden units split into W/2 children
  (repeated splits by (3/5, 4/5), so the coefficients have squares summing to 1 and the KKT
  point transfers with the same multipliers), and N points: example1's three plus N − 3 points
  with exact margin in (1, 3] (inactive), written as YAML (and CSV) files. Targets: W = 1024,
  N = 5000 ≤ 10 s (aim 3 s); W = 4096, N = 20000 ≤ 60 s (aim 15 s) in ≤ 4 GiB peak RSS.
- ``split64``, ``split256``, ``random64``: the older, smaller cases (targets 5 s, 20 s, 5 s).
- ``naive sympy``: with ``--naive``, split64 through a naive sympy pipeline (Max, diff, subs,
  linsolve), with a time limit.

Each case runs the whole command ``symkkt kkt ARCH DATA PARAMS --json`` in a fresh process (wall
time, peak RSS from ``wait4``), with this checkout's code and with the code of ``--baseline REV``
(extracted by ``git archive`` into a temporary folder and run with ``PYTHONPATH`` from a folder
outside the checkout). A baseline run past ``--timeout`` seconds or ``--memory`` MiB of resident
memory is stopped and reported as such. Both runs must give the same verdict and multipliers.

Run from the repository root::

    python benchmarks/bench_kkt.py [--baseline REV] [--timeout SECONDS] [--memory MIB] [--cases A,B] [--naive]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from fractions import Fraction as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _table import print_table  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = "import sys; from symkkt.cli import main; sys.exit(main(sys.argv[1:]))"
C = (F(3, 5), F(4, 5))
EXAMPLE1 = os.path.join(ROOT, "symkkt", "examples", "example1")


# -- instances -------------------------------------------------------------------------------------
def split_coefficients(children):
    """Coefficients c_1..c_children (a power of two) with Σ c_i² = 1: products of 3/5 and 4/5."""
    coeffs = [F(1)]
    while len(coeffs) < children:
        coeffs = [c * s for c in coeffs for s in C]
    if len(coeffs) != children:
        raise ValueError("the number of children must be a power of two")
    return coeffs


def example1_phi(x):
    """Φ(θ*; x) of example1, exactly: relu(x1) − 2^(−1/4)·relu(2^(−3/4)(x2 − x1)) = relu(x1) − relu(x2 − x1)/2."""
    return max(x[0], F(0)) - max(x[1] - x[0], F(0)) / 2


def far_points(count, rng):
    """``count`` points with exact margin y·Φ(x) in {3/2, 2, 5/2, 3} (inactive), off every kink.

    Coordinates are fractions and decimals (e.g. ``0.35``), as users write them.
    """
    out = []
    while len(out) < count:
        x = [F(rng.randint(-400, 400), rng.choice((1, 3, 7, 20, 100))) for _ in range(2)]
        val = example1_phi(x)
        if val == 0 or x[0] == 0 or x[1] == x[0]:
            continue
        margin = F(rng.choice((3, 4, 5, 6)), 2)
        s = margin / abs(val)
        out.append(([v * s for v in x], 1 if val > 0 else -1))
    return out


def text(v):
    """An exact rational as text: a decimal when it has a short one, else p/q."""
    v = F(v)
    if v.denominator == 1:
        return str(v.numerator)
    d = v.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d == 1 and max(twos, fives) <= 6:
        digits = max(twos, fives)
        scaled = v * 10 ** digits
        sign = "-" if scaled < 0 else ""
        s = str(abs(scaled.numerator)).rjust(digits + 1, "0")
        return f"{sign}{s[:-digits]}.{s[-digits:]}"
    return f"{v.numerator}/{v.denominator}"


def split_parameters(width):
    """Example1's KKT point split to ``width`` hidden units: the YAML text of PARAMS.

    Entries are c·w with w ∈ {1, 0, ±2^(−3/4)} and c·a with a ∈ {1, −2^(−1/4)}, written as
    ``q*2^(1/4)``-style strings.
    """
    coeffs = split_coefficients(width // 2)

    def alg(q, num, den):       # q · 2^(num/den) as text
        q = F(q)
        if q == 0:
            return "0"
        return f'"{text(q)}*2^({num}/{den})"'

    rows = [f"[{text(c)}, 0]" for c in coeffs]
    rows += [f"[{alg(-c, -3, 4)}, {alg(c, -3, 4)}]" for c in coeffs]
    outs = [text(c) for c in coeffs] + [alg(-c, -1, 4) for c in coeffs]
    return ("- weight:\n" + "".join(f"  - {r}\n" for r in rows)
            + "- weight:\n  - [" + ", ".join(outs) + "]\n")


def write_split_case(folder, width, n, rng):
    """ARCH, DATA (YAML and CSV) and PARAMS files of the split case; returns the paths."""
    base = [([F(1), F(0)], 1), ([F(-1), F(1)], -1), ([F(3), F(1)], 1)]
    points = base + far_points(n - 3, rng)
    name = f"w{width}_n{n}"
    paths = {k: os.path.join(folder, f"{name}_{k}") for k in ("arch.yaml", "data.yaml", "data.csv", "params.yaml")}
    with open(paths["arch.yaml"], "w") as fh:
        fh.write(f"input: [2]\nlayers:\n  - dense: {{width: {width}, activation: relu}}\n  - dense: {{width: 1}}\n")
    with open(paths["data.yaml"], "w") as fh:
        fh.write("points:\n")
        fh.writelines(f"  - {{x: [{text(x[0])}, {text(x[1])}], y: {y}}}\n" for x, y in points)
    with open(paths["data.csv"], "w") as fh:
        fh.write("x1,x2,y\n")
        fh.writelines(f"{text(x[0])},{text(x[1])},{y}\n" for x, y in points)
    with open(paths["params.yaml"], "w") as fh:
        fh.write(split_parameters(width))
    return paths


def write_random_case(folder, rng, width=64, d=10, n=200):
    """A random rational width-64 net with labels = its own signs (a KKT point it is not: refuted)."""
    W1 = [[F(rng.randint(-9, 9), rng.randint(1, 9)) for _ in range(d)] for _ in range(width)]
    a = [F(rng.randint(-9, 9), rng.randint(1, 9)) for _ in range(width)]
    pts = []
    while len(pts) < n:
        x = [F(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(d)]
        val = sum(aj * max(sum(w * xi for w, xi in zip(row, x)), 0) for aj, row in zip(a, W1))
        if val != 0:
            pts.append((x, 1 if val > 0 else -1))
    arch = {"input": [d], "layers": [{"dense": {"width": width, "activation": "relu"}}, {"dense": {"width": 1}}]}
    data = {"points": [{"x": [text(v) for v in x], "y": y} for x, y in pts]}
    params = [{"weight": [[text(v) for v in row] for row in W1]}, {"weight": [[text(v) for v in a]]}]
    paths = []
    for kind, obj in (("arch", arch), ("data", data), ("params", params)):
        paths.append(os.path.join(folder, f"random{width}_{kind}.json"))
        with open(paths[-1], "w") as fh:
            json.dump(obj, fh)
    return paths


# -- running ---------------------------------------------------------------------------------------
def _rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_cli(tree, argv, timeout, memory):
    """One ``symkkt`` process of the code in ``tree``: (seconds or None, peak MiB, answer dict or text).

    The peak is the kernel's maximum resident set of the child (``wait4``); a process past
    ``timeout`` seconds or ``memory`` MiB resident is stopped (the answer then says so).
    """
    env = dict(os.environ, PYTHONPATH=tree)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, *argv], env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, cwd=tempfile.gettempdir())
        stopped, peak = None, 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _rss_mib(proc.pid))
            if not stopped and time.perf_counter() - start > timeout:
                stopped = f"> {timeout:g} s"
            elif not stopped and peak > memory:
                stopped = f"> {memory:g} MiB"
            if stopped:
                proc.kill()
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = max(peak, usage.ru_maxrss / 1024)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if stopped:
        return None, peak, stopped
    try:
        return seconds, peak, json.loads(stdout)
    except ValueError:
        text = stderr.decode(errors="replace").strip().splitlines() or ["no output"]
        return seconds, peak, ("out of memory" if "MemoryError" in text[-1] else text[-1][:80])


def summary(answer):
    """verdict and multipliers of an answer (or the failure text)."""
    if isinstance(answer, dict):
        return answer.get("verdict"), tuple(answer.get("multipliers") or ())
    return answer, ()


def naive_pipeline(paths, timeout):
    """Max-expressions + diff + subs + linsolve on the active points; returns seconds or None."""
    import signal

    import sympy

    from symkkt.api import load_problem

    def handler(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, handler)
    signal.alarm(int(timeout))
    t0 = time.perf_counter()
    try:
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
    ap.add_argument("--baseline", default="HEAD", help="revision to compare with (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per baseline run (default %(default)s)")
    ap.add_argument("--memory", type=float, default=6144, help="MiB of resident memory per baseline run "
                                                               "(default %(default)s)")
    ap.add_argument("--cases", default=None, help="comma-separated case names (default: all): example1, "
                                                   "w1024, w1024csv, w4096, w4096csv, split64, split256, random64")
    ap.add_argument("--no-baseline", action="store_true", help="run this checkout's code only")
    ap.add_argument("--naive", action="store_true", help="also time the naive sympy pipeline on split64")
    ap.add_argument("--naive-timeout", type=float, default=120)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        old = os.path.join(folder, "baseline")
        os.makedirs(old)
        if not args.no_baseline:
            archive = subprocess.run(["git", "-C", ROOT, "archive", args.baseline, "symkkt"], capture_output=True,
                                     check=True).stdout
            subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        ex1 = [os.path.join(EXAMPLE1, f) for f in ("arch.yaml", "data.yaml", "params.yaml")]
        s64 = write_split_case(folder, 64, 200, rng)
        s256 = write_split_case(folder, 256, 1000, rng)
        s1k = write_split_case(folder, 1024, 5000, rng)
        s4k = write_split_case(folder, 4096, 20000, rng)
        prand = write_random_case(folder, rng)

        def files(p, data="data.yaml"):
            return [p["arch.yaml"], p[data], p["params.yaml"]]

        # name -> (argv files, target s, aim s, target MiB or None)
        cases = {
            "example1": (ex1, 0.6, 0.6, None),
            "w1024": (files(s1k), 10, 3, None),
            "w1024csv": (files(s1k, "data.csv"), 10, 3, None),
            "w4096": (files(s4k), 60, 15, 4096),
            "w4096csv": (files(s4k, "data.csv"), 60, 15, 4096),
            "split64": (files(s64), 5, 1, None),
            "split256": (files(s256), 20, 3, 1024),
            "random64": (prand, 5, 1, None),
        }
        labels = {"example1": "example1 (w=2, n=3)", "w1024": "split w=1024, n=5000 (YAML)",
                  "w1024csv": "split w=1024, n=5000 (CSV)", "w4096": "split w=4096, n=20000 (YAML)",
                  "w4096csv": "split w=4096, n=20000 (CSV)", "split64": "split w=64, n=200",
                  "split256": "split w=256, n=1000", "random64": "random w=64, d=10, n=200"}
        chosen = args.cases.split(",") if args.cases else list(cases)
        rows = []
        for name in chosen:
            paths, target, aim, mib = cases[name]
            argv = ["kkt", *paths, "--json"]
            t, rss, answer = run_cli(ROOT, argv, max(4 * target, 60), 1e9)
            if args.no_baseline:
                bt, brss, banswer = None, 0.0, "not run"
            else:
                bt, brss, banswer = run_cli(old, argv, args.timeout, args.memory)
            verdict, lam = summary(answer)
            same = "" if args.no_baseline or isinstance(banswer, str) else (
                "same answer" if summary(banswer) == (verdict, lam) else "DIFFERENT answer")
            ok = t is not None and t <= target and (mib is None or rss <= mib) and isinstance(answer, dict)
            rows.append((labels[name],
                         f"{bt:.2f}" if bt is not None else str(banswer), f"{brss:.0f}",
                         f"{t:.2f}" if t is not None else str(answer), f"{rss:.0f}",
                         f"<= {target:g} s (aim {aim:g})" + (f", <= {mib} MiB" if mib else ""),
                         "ok" if ok else "MISSED", verdict, same))
        if args.naive:
            naive = naive_pipeline(files(s64), args.naive_timeout)
            rows.append(("naive sympy on split w=64", "-", "-",
                         f"{naive:.2f}" if naive else f"> {args.naive_timeout:.0f}", "-", "-", "-", "-", ""))
    head = ("case", f"{args.baseline} s", f"{args.baseline} MiB", "new s", "new MiB", "target", "ok", "verdict", "")
    print_table(head, rows)


if __name__ == "__main__":
    main()
