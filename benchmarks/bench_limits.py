"""Small hostile inputs against the resource limits: time to an answer, now and before the limits.

Each case is a file of a few hundred bytes (or a device, or a large file) that asks for an
unbounded amount of exact work. The current tree must answer each one within seconds: the kernel
with an ``invalid`` verdict naming the limit (exit 1), the front end with one line and exit 2.
The baseline is the same command on an older revision (default ``b7ba15a``, the last one without
limits), exported with ``git archive`` and run with a timeout and a 4 GiB address-space cap, so a
case that hangs or exhausts memory there shows as ``> T s`` or ``out of memory``.

Run from the repository root::

    python benchmarks/bench_limits.py [--baseline REV] [--timeout SECONDS]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _table import print_table  # noqa: E402

from symkkt.kernel import certificate_digest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = "import sys; from symkkt.cli import main; sys.exit(main(sys.argv[1:]))"
LINEAR = {"input": [1], "layers": [{"dense": {"width": 1}}]}
SQRT2 = {"minpoly": ["-2", "0", "1"], "interval": ["1", "2"],
         "radicals": [{"base": ["2"], "index": 2, "root": ["0", "1"]}]}


def certificate(arch, points, params, witness, kind="kkt_point", clarke_set="gradient"):
    """A certificate body (new format) with its digest; ``old`` drops the fields the old kernel lacks."""
    claim = {"kind": kind, "clarke_set": clarke_set}
    c = {"symkkt_certificate": 1, "claim": claim, "architecture": arch,
         "data": {"points": [{"x": x, "y": y} for x, y in points]}, "parameters": params, "witness": witness}
    c["digest"] = certificate_digest(c)
    old = dict(c, claim={"kind": kind})
    old["digest"] = certificate_digest(old)
    return c, old


def linear(weight="1", field=None):
    w = {"multipliers": ["1"], **({"field": field} if field else {})}
    return certificate(LINEAR, [(["1"], 1)], [{"weight": [[weight]]}], w)


def kinky(units, points):
    arch = {"input": [2], "layers": [{"dense": {"width": units + 1, "activation": "relu"}}, {"dense": {"width": 1}}]}
    params = [{"weight": [["1", "0"]] + [["0", "1"]] * units}, {"weight": [["1"] * (units + 1)]}]
    farkas = ["0"] * (2 * (units + 1)) + ["0", "-1"] + ["0"] * (units - 1)
    return certificate(arch, [(["1", "0"], 1)] * points, params, {"reason": "stationarity", "farkas": farkas},
                       kind="not_kkt_point", clarke_set="chain_rule_hull")


def wide(width, inputs=1):
    arch = {"input": [inputs], "layers": [{"dense": {"width": width, "activation": "relu"}}, {"dense": {"width": 1}}]}
    return certificate(arch, [(["1"] * inputs, 1)], [], {"multipliers": ["1"]})


KERNEL = {
    "field degree 160": lambda: linear(field={"minpoly": ["-2"] + ["0"] * 159 + ["1"], "interval": ["1", "2"]}),
    "(9^10000)^10000": lambda: linear(weight="(9^10000)^10000"),
    "width 10^9": lambda: wide(10 ** 9),
    "20000 x 20000 layer": lambda: wide(20000, 20000),
    "16 kinks on 64 points": lambda: kinky(16, 64),
    "margin 1 + 10^-2028": lambda: linear(weight="1 + (sqrt(2) - 1)^5300", field=SQRT2),
}

ARCH = "input: [2]\nlayers:\n  - dense: {{width: {width}, activation: {act}}}\n  - dense: {{width: 1}}\n"
DATA = "points:\n  - {x: [1, 0], y: 1}\n  - {x: [-1, 1], y: -1}\n"
PARAMS = "- weight: [[{a}, 0], [0, 1]]\n- weight: [[1, 1]]\n"


def front_cases(d):
    """name -> argv of the CLI (after ``symkkt``), writing the files it needs into ``d``."""
    def put(name, text):
        path = os.path.join(d, name)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    arch = put("arch.yaml", ARCH.format(width=2, act="relu"))
    data = put("data.yaml", DATA)
    nested = "2"
    for _ in range(7):
        nested = f"sqrt({nested})"
    radicals = " + ".join(f"sqrt({p})" for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37))
    big = os.path.join(d, "big.yaml")
    with open(big, "w") as fh:
        fh.write("points:\n")
        line = "  - {x: [1, 0], y: 1}\n"
        fh.write(line * (60_000_000 // len(line)))
    return {
        "width: 1000000000": ["info", put("w.yaml", ARCH.format(width=10 ** 9, act="relu"))],
        "poly_relu power 10^6": ["info", put("p.yaml", ARCH.format(width=2, act="{poly_relu: {power: 1000000}}"))],
        "polynomial, 10^4 coefficients": ["info", put("c.yaml", ARCH.format(
            width=2, act="{polynomial: {coeffs: [" + ", ".join(["1"] * 10000) + "]}}"))],
        "2^(1/128) by nested sqrt": ["kkt", arch, data, put("n.yaml", PARAMS.format(a=f'"{nested}"'))],
        "12 distinct square roots": ["kkt", arch, data, put("r.yaml", PARAMS.format(a=f'"{radicals}"'))],
        "60 MB YAML data": ["kkt", arch, big, put("ok.yaml", PARAMS.format(a=1))],
        "/dev/zero as data": ["kkt", arch, "/dev/zero", os.path.join(d, "ok.yaml")],
        "--precision 1000000": ["flow", arch, data, os.path.join(d, "ok.yaml"), "--split", "1:0:3/5,4/5",
                                "--steps", "1", "--precision", "1000000"],
    }


def _cap():
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run(tree, argv, timeout):
    """(seconds or '> T s', exit code, first output line) of the CLI of ``tree`` on ``argv``."""
    env = dict(os.environ, PYTHONPATH=tree)
    start = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", RUNNER, *argv], env=env, capture_output=True, text=True,
                           timeout=timeout, preexec_fn=_cap, stdin=subprocess.DEVNULL,
                           cwd=os.path.dirname(tree))     # not the checkout: '' leads sys.path
    except subprocess.TimeoutExpired:
        return f"> {timeout:g} s", "-", "(stopped)"
    seconds = time.perf_counter() - start
    text = (p.stdout + p.stderr).strip().splitlines()
    first = text[-1] if text else ""
    if "MemoryError" in p.stdout + p.stderr:
        first = "out of memory"
    return f"{seconds:.2f}", p.returncode, first[:90]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="b7ba15a", help="older revision to compare with (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per baseline run (default %(default)s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        old = os.path.join(d, "old")
        os.makedirs(old)
        archive = subprocess.run(["git", "-C", ROOT, "archive", args.baseline, "symkkt"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        rows = []
        for name, make in KERNEL.items():
            new_cert, old_cert = make()
            paths = []
            for tag, c in (("new", new_cert), ("old", old_cert)):
                paths.append(os.path.join(d, f"{tag}.json"))
                with open(paths[-1], "w") as fh:
                    json.dump(c, fh)
            t, code, line = run(ROOT, ["verify", paths[0]], 60)
            bt, bcode, _ = run(old, ["verify", paths[1]], args.timeout)
            rows.append((f"verify: {name}", f"{os.path.getsize(paths[0])} B", t, code, bt, bcode, line))
        for name, argv in front_cases(d).items():
            t, code, line = run(ROOT, argv, 60)
            bt, bcode, _ = run(old, argv, args.timeout)
            size = os.path.getsize(argv[2]) if name.startswith("60 MB") else "-"
            rows.append((name, size, t, code, bt, bcode, line))
    print_table(("case", "input", "now s", "exit", f"{args.baseline} s", "exit", "answer now"), rows)
    slow = [r[0] for r in rows if not r[2].replace(".", "").isdigit() or float(r[2]) > 5]
    print("target: every case answered within 5 s: " + ("met" if not slow else f"NOT met ({', '.join(slow)})"))


if __name__ == "__main__":
    main()
