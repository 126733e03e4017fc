"""Timings of ``symkkt certify`` and of importing a large ONNX model; prints a table.

    python benchmarks/bench_certify.py

Rows: the trained examples of examples/trained/ (MLP width 8, n = 24; 1-D CNN, n = 20; the
early-stopped MLP), a width-64 MLP with n = 200 Gaussian points trained the same way (normalized
GD, 20000 steps), the example1 point perturbed by 1e-10 (box proof, and exact snap), and
``symkkt import`` of a 1M-parameter ONNX MLP (1000 → 1000 → 1, float64 weights). Whole-command
times include Python start-up.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINED = os.path.join(HERE, "..", "examples", "trained")
sys.path.insert(0, TRAINED)
sys.path.insert(0, HERE)

from _table import print_table  # noqa: E402
import train  # noqa: E402


def _run(args):
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "symkkt", *args], capture_output=True, text=True)
    return time.perf_counter() - t, out


def _first(out):
    return (out.stdout or out.stderr).splitlines()[0][:110] if (out.stdout or out.stderr) else ""


def main():
    tmp = tempfile.mkdtemp()
    rows = []
    for name, (model, data) in train.RUNS.items():
        dt, out = _run(["certify", os.path.join(TRAINED, model), os.path.join(TRAINED, data), "--direction"])
        rows.append([f"certify trained {name} (examples/trained)", f"{dt:.2f}s", out.returncode, _first(out)])
    X, y = train.data(200, 2, 4)
    t = time.perf_counter()
    W, v = train.train_mlp(X, y, 64, 20000, 0)
    train_s = time.perf_counter() - t
    train.save_mlp(os.path.join(tmp, "w64.onnx"), W, v)
    train.save_data(os.path.join(tmp, "w64.json"), X, y)
    dt, out = _run(["certify", os.path.join(tmp, "w64.onnx"), os.path.join(tmp, "w64.json"), "--direction"])
    rows.append([f"certify MLP width 64, n = 200 (trained {train_s:.0f}s)", f"{dt:.2f}s", out.returncode, _first(out)])
    ex = os.path.join(HERE, "..", "symkkt", "examples", "example1")
    import sympy
    from symkkt.api import load_example
    problem, theta = load_example("example1")
    th = [float(sympy.N(t, 30)) + 1e-10 for t in theta]
    with open(os.path.join(tmp, "p1.json"), "w") as f:
        json.dump([{"weight": [th[0:2], th[2:4]]}, {"weight": [th[4:6]]}], f)
    for flag in ([], ["--no-exact"]):
        dt, out = _run(["certify", os.path.join(ex, "arch.yaml"), os.path.join(ex, "data.yaml"),
                        os.path.join(tmp, "p1.json"), *flag])
        rows.append([f"certify example1 + 1e-10 {' '.join(flag)}", f"{dt:.2f}s", out.returncode, _first(out)])
    rng = np.random.default_rng(0)
    W, v = rng.standard_normal((1000, 1000)), rng.standard_normal(1000)
    big = os.path.join(tmp, "big.onnx")
    train.save_mlp(big, W, v)
    dt, out = _run(["import", big])
    rows.append(["import 1M-parameter ONNX MLP", f"{dt:.2f}s", out.returncode, _first(out)])
    print_table(["what", "time", "exit", "answer"], rows)


if __name__ == "__main__":
    main()
