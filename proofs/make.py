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
    lines = ["# Certificates", "",
             "Regenerate with `python proofs/make.py`; re-check with `symkkt verify proofs/*.json`",
             "(the tests do this for every file here).", "",
             "| file | claim | instance | decision |", "|---|---|---|---|"]
    lines += [f"| {f} | {k} | {d} | {r} |" for f, k, d, r in rows]
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {len(rows)} certificates to {HERE}")


if __name__ == "__main__":
    main()
