"""Benchmark: the whole ``symkkt embed`` command, against a naive sympy identity check.

Cases (issue "Embeddings"):

- ``mlp``: 4-8-8-8-1 leaky-ReLU (slope 1/10) MLP, all 8 units of hidden layer 2 split in two with
  (3/5, 4/5); isometry, output and gradient preservation proved for all θ, x.
  Target ≤ 60 s, aim ≤ 10 s.
- ``cnn``: conv(1→4, 3×3) → relu → conv(4→4, 3×3) → relu → avgpool 2 → flatten → dense on a
  1×8×8 input, every channel of the first conv split in two: time and peak RSS reported.
- ``naive``: the MLP's output identity Φ̃(Tθ; x) − Φ(θ; x) = 0 by sympy (Piecewise
  expressions of all parameters and inputs, ``simplify``), with a time limit.

Run: ``python benchmarks/bench_embed.py [--naive-timeout SECONDS]``. Prints a table.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _table import print_table

MLP = {"input": [4], "layers": [{"dense": {"width": 8, "activation": {"leaky_relu": {"slope": "1/10"}}}}] * 3
       + [{"dense": {"width": 1}}]}
CNN = {"input": [1, 8, 8], "layers": [{"conv": {"channels": 4, "kernel": 3, "activation": "relu"}},
                                      {"conv": {"channels": 4, "kernel": 3, "activation": "relu"}},
                                      {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]}
MLP_SPLITS = [f"2:{2 * j}:3/5,4/5" for j in range(8)]     # each index refers to the previous result
CNN_SPLITS = [f"1:{2 * j}:3/5,4/5" for j in range(4)]


def run_cli(arch_path, splits):
    """Wall time, peak RSS (MiB) and verdict of one ``symkkt embed`` process."""
    cmd = [sys.executable, "-m", "symkkt.cli", "embed", arch_path, "--json"]
    for s in splits:
        cmd += ["--split", s]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    verdict = json.loads(out)["verdict"] if out else proc.stderr.read().decode()[:200]
    return wall, usage.ru_maxrss / 1024, verdict


def naive_identity(timeout):
    """sympy: simplify(Φ̃(Tθ; x) − Φ(θ; x)) for the MLP; seconds, or None on timeout."""
    import signal

    import sympy

    from symkkt.embed.maps import chain, parse_step
    from symkkt.network import Network
    from symkkt.spec import architecture_from_json

    def handler(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, handler)
    signal.alarm(int(timeout))
    t0 = time.perf_counter()
    try:
        net = Network(architecture_from_json(MLP))
        emb = chain(net, [parse_step(s) for s in MLP_SPLITS])
        theta = sympy.symbols(f"t0:{net.num_parameters}", real=True)
        x = sympy.symbols("x0:4", real=True)
        narrow = net.symbolic_output(theta, x)
        wide = emb.target.symbolic_output(emb.forward(theta), x)
        if sympy.simplify(wide - narrow) != 0:
            return -1.0
        return time.perf_counter() - t0
    except TimeoutError:
        return None
    except RecursionError:      # sympy's Piecewise folding nests too deep
        return -2.0
    finally:
        signal.alarm(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--naive-timeout", type=float, default=120)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, arch, splits, target, aim in (("mlp 4-8-8-8-1, layer 2 all split", MLP, MLP_SPLITS, "<= 60", "10"),
                                                ("cnn 1x8x8, conv1 all channels split", CNN, CNN_SPLITS, "report", "-")):
            path = os.path.join(folder, name.split()[0] + ".json")
            with open(path, "w") as fh:
                json.dump(arch, fh)
            wall, rss, verdict = run_cli(path, splits)
            ok = "ok" if verdict == "holds" and (target == "report" or wall <= 60) else "MISSED"
            rows.append((name, f"{wall:.2f}", f"{rss:.0f}", verdict, f"{target} (aim {aim})", ok))
    naive = naive_identity(args.naive_timeout)
    fast = float(rows[0][1])
    shown = (f"{naive:.2f}" if naive and naive > 0 else
             {-1.0: "no proof (simplify != 0)", -2.0: "fails (RecursionError)"}.get(naive, f"> {args.naive_timeout:.0f}"))
    ratio = (f"x{naive / fast:.0f} slower" if naive and naive > 0 else
             (f"> x{args.naive_timeout / fast:.0f} slower" if naive is None else "no answer"))
    rows.append(("naive sympy simplify (mlp output only)", shown, "-", "-", "baseline", ratio))
    head = ("case", "wall s", "peak RSS MiB", "verdict", "target s", "")
    print_table(head, rows)


if __name__ == "__main__":
    main()
