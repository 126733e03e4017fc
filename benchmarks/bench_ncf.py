"""Benchmark: the NCF commands on a 3-4-5-1 leaky ReLU net, and ``smallinit`` against float64 numpy RK4.

Cases (files written to a temporary folder; every point, target and weight is an exact rational):

- ``ncf`` decision: ``symkkt ncf ARCH DATA PARAMS --direction`` on the 3-4-5-1 leaky ReLU net (slope 1/5),
  n = 8 points in Q^3 (target: the whole command ≤ 2 s);
- ``ncf --rank-one`` on d = 3, n = 12 (target ≤ 10 s, aim ≤ 3 s); when the one-neuron maximum sits on
  a kink, ``ncf`` on the rank-one point built from it (the full Clarke decision, no budget);
- ``ncf --rank-one`` for a polynomial leaky ReLU (p = 3, 3-4-1) on d = 3, n = 8: exact algebraic points;
- ``smallinit`` with δ = 1/100, 1/1000, 1/10000 on the same net at 30 digits, to escape at R = 10
  (target ≤ 60 s, aim ≤ 15 s): the whole command, and :meth:`SmallInitProblem.run` in-process;
- ``numpy float64 RK4``: a plain vectorized float64 RK4 loop of the same rescaled flows on the same
  τ-grid; its largest distance from the 30-digit trajectories over the grid is the precision figure,
  and so is the relative error of its sup-deviations (which are differences of nearby
  trajectories: float64 loses them first, at δ^K ≈ 1e-12).

Rows whose command is not available in this version are marked ``n/a``.

Run: ``python benchmarks/bench_ncf.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _table import print_table  # noqa: E402

SLOPE = "1/5"
ARCH = {"input": [3], "layers": [{"dense": {"width": 4, "activation": {"leaky_relu": {"slope": SLOPE}}}},
                                 {"dense": {"width": 5, "activation": {"leaky_relu": {"slope": SLOPE}}}},
                                 {"dense": {"width": 1}}]}
DELTAS = ["1/100", "1/1000", "1/10000"]


def points(n, seed):
    rng = np.random.default_rng(seed)
    return {"points": [{"x": [f"{int(v)}/4" for v in rng.integers(-6, 7, 3)], "y": 1 if i % 2 == 0 else -1}
                       for i in range(n)]}


def init(seed=1):
    rng = np.random.default_rng(seed)
    return [{"weight": [[f"{int(v)}/10" for v in rng.integers(-9, 10, c)] for _ in range(r)]}
            for r, c in ((4, 3), (5, 4), (1, 5))]


def command(args, repeat):
    """Best wall time of ``symkkt ARGS`` as a subprocess and its exit code (None: not available)."""
    best, code = None, None
    for _ in range(repeat):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "symkkt", *args], capture_output=True, text=True)
        dt = time.perf_counter() - t
        if proc.returncode == 2 and "invalid choice" in proc.stderr:
            return None, None, proc.stderr.strip()
        best = dt if best is None else min(best, dt)
        code = proc.returncode
        out = proc.stdout
        if code == 2:
            out = json.dumps({"verdict": "error", "reason": proc.stderr.strip()[:160]})
    return best, code, out


# -- plain float64 numpy RK4 ------------------------------------------------------------------
def float_field(X, y, s, K, delta):
    """du/dτ = Σ_i c_i ∇H(x_i; u) with c = y − δ^K H for the 3-4-5-1 leaky net, float64 numpy."""
    XT = np.asarray(X, float).T
    yv = np.asarray(y, float)
    dK = 0.0 if delta is None else float(delta) ** K

    def F(u):
        W1, W2, W3 = u[:12].reshape(4, 3), u[12:32].reshape(5, 4), u[32:].reshape(1, 5)
        Z1 = W1 @ XT
        D1 = np.where(Z1 >= 0, 1.0, s)
        A1 = D1 * Z1
        Z2 = W2 @ A1
        D2 = np.where(Z2 >= 0, 1.0, s)
        A2 = D2 * Z2
        H = (W3 @ A2)[0]
        c = (yv - dK * H).reshape(1, -1)
        g3 = c @ A2.T
        d2 = (W3.T @ c) * D2
        g2 = d2 @ A1.T
        d1 = (W2.T @ d2) * D1
        g1 = d1 @ XT.T
        return np.concatenate([g1.ravel(), g2.ravel(), g3.ravel()])
    return F


def float_rk4(F, u0, steps):
    us = [u0]
    u = u0
    for h in steps:
        k1 = F(u)
        k2 = F(u + h / 2 * k1)
        k3 = F(u + h / 2 * k2)
        k4 = F(u + h * k3)
        u = u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        us.append(u)
    return us


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=1, help="best of N runs for each row (default 1)")
    a = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-ncf-")
    files = {"arch.json": ARCH, "data8.json": points(8, 0), "data12.json": points(12, 2), "init.json": init()}
    for name, obj in files.items():
        with open(os.path.join(folder, name), "w") as fh:
            json.dump(obj, fh)
    f = {k: os.path.join(folder, k) for k in files}
    rows = []

    t, code, out = command(["ncf", f["arch.json"], f["data8.json"], f["init.json"], "--direction", "--json"],
                           a.repeat)
    rows.append(["ncf decision (command), n = 8", "n/a" if t is None else f"{t:.2f}s", "<= 2 s",
                 "-" if t is None else f"exit {code}: {json.loads(out)['verdict']}"
                 + (f" ({json.loads(out)['reason']})" if code == 2 else "")])
    t, code, out = command(["ncf", f["arch.json"], f["data12.json"], "--rank-one", "--json"], a.repeat)
    extra = "-"
    if t is not None:
        obj = json.loads(out)
        extra = f"exit {code}: " + (obj["reason"] if code == 2 else f"{len(obj.get('points', []))} points")
    rows.append(["ncf --rank-one (command), n = 12", "n/a" if t is None else f"{t:.2f}s", "<= 10 s (aim 3 s)",
                 extra])
    kink = json.loads(out).get("kink_maximum") if t is not None else None
    if kink:                       # the rank-one point of the kink maximum, decided with the full Clarke budget
        flat, params = list(kink["u"]), []
        for r, c in ((4, 3), (5, 4), (1, 5)):
            params.append({"weight": [[flat.pop(0) for _ in range(c)] for _ in range(r)]})
        f["kink.json"] = os.path.join(folder, "kink.json")
        with open(f["kink.json"], "w") as fh:
            json.dump(params, fh)
        t, code, out = command(["ncf", f["arch.json"], f["data12.json"], f["kink.json"], "--json"], a.repeat)
        obj = json.loads(out)
        rows.append(["ncf on the kink maximum's point (Clarke)", f"{t:.2f}s", "",
                     f"exit {code}: {obj['verdict']} ({obj['clarke_set']}), "
                     f"{obj.get('patterns', {}).get('realized', '?')} joint patterns realized"])
    P3 = {"input": [3], "layers": [{"dense": {"width": 4, "activation": {"poly_leaky_relu": {"slope": "1/2",
                                                                                            "power": 3}}}},
                                   {"dense": {"width": 1}}]}
    for name, obj in (("arch_p3.json", P3), ("data8pm.json", points(8, 7))):
        f[name] = os.path.join(folder, name)
        with open(f[name], "w") as fh:
            json.dump(obj, fh)
    t, code, out = command(["ncf", f["arch_p3.json"], f["data8pm.json"], "--rank-one", "--json"], a.repeat)
    obj = json.loads(out)
    degrees = sorted({p["field"]["degree"] for p in obj.get("points", []) if p.get("field")})
    rows.append(["ncf --rank-one, p = 3 (3-4-1), n = 8", f"{t:.2f}s", "",
                 f"exit {code}: {obj['verdict']}, {len(obj.get('points', []))} exact points "
                 f"(fields of degree {degrees}), {obj['patterns'].get('cells')} cells"])

    args = ["smallinit", f["arch.json"], f["data8.json"], f["init.json"], "--loss", "square", "--precision", "30",
            "--json", "--no-known-points"] + [x for d in DELTAS for x in ("--delta", d)]
    t, code, out = command(args, a.repeat)
    verdict = json.loads(out)["verdict"] if t is not None else "-"
    rows.append(["smallinit 3 deltas, 30 digits (command)", f"{t:.2f}s", "<= 60 s (aim 15 s)",
                 f"exit {code}: {verdict}"])

    from symkkt.ncf.smallinit import load_smallinit

    problem, u0 = load_smallinit(f["arch.json"], f["data8.json"], f["init.json"])
    best = None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        res = problem.run(u0, DELTAS, "square", digits=30, known_points=False)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    rows.append(["smallinit 3 deltas, 30 digits (run)", f"{best:.2f}s", "",
                 f"{res.verdict}; {res.grid_steps} RK4 steps per run; rates "
                 + ", ".join(f"{r:.4f}" for r in res.rates)])

    # float64 numpy on the same grid
    K = problem.degree
    X = [[float(v) for v in x] for x in problem.X]
    y = [float(v) for v in problem.y]
    lim = res.runs[0]
    hp_steps = [float(b - a_) for a_, b in zip(lim.series["tau"][:-1], lim.series["tau"][1:])]
    u0f = np.array([float(v) for v in lim.points[0]])
    t0 = time.perf_counter()
    runs_f = [float_rk4(float_field(X, y, 0.2, K, None), u0f, hp_steps)]
    for d in DELTAS:
        n_steps = len(res.runs[1 + DELTAS.index(d)].points) - 1
        runs_f.append(float_rk4(float_field(X, y, 0.2, K, eval_frac(d)), u0f,
                                hp_steps[:n_steps]))
    tf = time.perf_counter() - t0
    worst = 0.0
    for run, us in zip(res.runs, runs_f):
        for uh, uf in zip(run.points, us):
            worst = max(worst, float(np.linalg.norm(np.array([float(v) for v in uh]) - uf)))
    k_esc = res.runs[0].escape_index
    devs = []
    for j, run in enumerate(res.runs[1:], start=1):
        m = min(k_esc, len(runs_f[j]))
        dev_f = max(float(np.linalg.norm(runs_f[j][i] - runs_f[0][i])) for i in range(m))
        dev_h = max(float(np.linalg.norm(np.array([float(v) for v in run.points[i]])
                                         - np.array([float(v) for v in res.runs[0].points[i]]))) for i in range(m))
        devs.append(abs(dev_f - dev_h) / dev_h)
    rows.append(["numpy float64 RK4, same grid", f"{tf:.3f}s", "",
                 f"max |u_float - u_30digits| = {worst:.1e}; relative error of sup-deviations "
                 + ", ".join(f"{e:.1e}" for e in devs) + " (delta = " + ", ".join(DELTAS) + ")"])
    shutil.rmtree(folder, ignore_errors=True)
    print_table(["case", "time", "target", "result"], rows)
    print("\nsmallinit figures are high precision (observed), not proved; float64 figures are float.")


def eval_frac(text):
    """'1/100' -> 0.01 (the benchmark's own constants only)."""
    p, q = text.split("/")
    return int(p) / int(q)


if __name__ == "__main__":
    main()
