"""Regenerate the certificates in proofs/ and the table in proofs/README.md.

Run from the repository root: ``python proofs/make.py``. Each certificate is produced by the
checker, then re-checked by the independent kernel before it is written.
"""

import os
import sys

from symkkt.api import EMBEDDINGS, EXAMPLES, load_example
from symkkt.certificate import write_json
from symkkt.demo import EXPECTED, run_embedding
from symkkt.kernel import check_certificate

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rows = []
    for name, (desc, direction) in EXAMPLES.items():
        problem, theta = load_example(name)
        result = problem.decide(theta, direction=direction)
        if result.verdict != EXPECTED[name]:
            sys.exit(f"{name}: expected {EXPECTED[name]}, got {result.verdict}: {result.reason}")
        cert = result.certificate()
        verdict = check_certificate(cert)
        if not verdict.valid:
            sys.exit(f"{name}: the kernel rejects the certificate: {verdict.reason}")
        write_json(cert, os.path.join(HERE, f"kkt_{name}.json"))
        rows.append((f"kkt_{name}.json", cert["claim"]["kind"], desc, result.reason))
    for name, (_ex, _steps, _data, expected, desc, _loss) in EMBEDDINGS.items():
        result = run_embedding(name)
        if result.verdict != expected:
            sys.exit(f"{name}: expected {expected}, got {result.verdict}: {result.reason}")
        cert = result.certificate()
        if cert is None:
            continue
        verdict = check_certificate(cert)
        if not verdict.valid:
            sys.exit(f"{name}: the kernel rejects the certificate: {verdict.reason}")
        write_json(cert, os.path.join(HERE, f"embed_{name}.json"))
        rows.append((f"embed_{name}.json", cert["claim"]["kind"], desc, verdict.reason))
    from symkkt.demo import _extensions

    for mod in _extensions():              # ncf, certify, realize and optimality rows with certificates
        for r in mod.demo_rows():
            cert = r["certificate"]
            if r["verdict"] != r["expected"]:
                sys.exit(f"{r['example']}: expected {r['expected']}, got {r['verdict']}")
            if cert is None:
                continue
            verdict = check_certificate(cert)
            if not verdict.valid:
                sys.exit(f"{r['example']}: the kernel rejects the certificate: {verdict.reason}")
            write_json(cert, os.path.join(HERE, f"{r['example']}.json"))
            rows.append((f"{r['example']}.json", cert["claim"]["kind"], r["description"], verdict.reason))
    from symkkt.flow.demo import DEMO_RUNS, evidence

    flow_dir = os.path.join(HERE, "flow")
    os.makedirs(flow_dir, exist_ok=True)
    flow_rows = []
    for name, rec in zip(DEMO_RUNS, evidence(flow_dir)):
        if rec["verdict"] != DEMO_RUNS[name][1]:
            sys.exit(f"flow run {name}: expected {DEMO_RUNS[name][1]}, got {rec['verdict']}: {rec['reason']}")
        flow_rows.append((f"flow/flow_{name}.json", rec["tier"], rec["verdict"], rec["max_deviation"], rec["statement"]))
    lines = ["# Certificates", "",
             "Regenerate with `python proofs/make.py`; re-check with `symkkt verify proofs/*.json`",
             "(the tests do this for every file here). The certificate format is described in",
             "[docs/formats.md](../docs/formats.md#3-certificates).", "",
             "| file | claim | instance | decision |", "|---|---|---|---|"]
    lines += [f"| {f} | {k} | {d} | {r} |" for f, k, d, r in rows]
    lines += ["", "## Trajectory evidence (`flow/`)", "",
              "Tier-labelled records of `symkkt flow` runs on example1 split by (3/5, 4/5), re-run by the tests",
              "(`symkkt.flow.demo.rerun`). They are evidence, not kernel certificates: the symbolic part, gradient",
              "equivariance for all θ and x, is what the `split_embedding` certificates prove.", "",
              "| file | tier | verdict | max ‖η − Tθ‖ | statement |", "|---|---|---|---|---|"]
    lines += [f"| {f} | {t} | {v} | {d} | {st} |" for f, t, v, d, st in flow_rows]
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {len(rows)} certificates to {HERE}")


if __name__ == "__main__":
    main()
