"""``symkkt demo``: KKT decisions, split embeddings and short trajectory runs on the built-in examples.

Decisions are certified and re-checked by the kernel; trajectory runs are labelled by their tier.
"""

from __future__ import annotations

import json
import os
import time

from .api import EMBEDDINGS, EXAMPLES, embedding_example, load_example
from .certificate import write_files
from .kernel import check_certificate
from .output import check_folder, check_outputs, make_folder

#: the verdict each built-in example must get
EXPECTED = {"example1": "holds", "svm": "holds", "deep_linear": "holds", "kink": "holds",
            "svm_refuted": "refuted", "split_infeasible": "refuted", "conv_tied": "refuted"}


#: modules that add demo rows. Each has ``DEMO_NAMES`` (the row names, known before any work) and
#: ``demo_rows()``, which returns one dict per name: ``example``, ``claim``, ``verdict``, ``expected``,
#: ``certificate`` (a certificate dict or None), ``description``, ``seconds`` and optional figures.
DEMO_EXTENSIONS = ("symkkt.ncf.demo", "symkkt.certify.demo", "symkkt.realize.demo", "symkkt.optimality.demo")


def _extensions():
    import importlib

    return [importlib.import_module(name) for name in DEMO_EXTENSIONS]


def run_embedding(name):
    """Decide a built-in embedding (:data:`symkkt.api.EMBEDDINGS`)."""
    from .embed.check import decide

    emb, data, theta = embedding_example(name)
    return decide(emb, data, theta, loss=EMBEDDINGS[name][5])


def certificate_names():
    """The file names the demo may write into its folder."""
    extra = [f"{name}.json" for mod in _extensions() for name in mod.DEMO_NAMES]
    return [f"{name}.json" for name in EXAMPLES] + [f"embed_{name}.json" for name in EMBEDDINGS] + extra


def _check_folder(out):
    """Refuse an unusable ``--out`` before any work: not a folder, or a certificate name taken
    by a directory, device or FIFO (a missing folder is created when the files are written)."""
    check_folder(out, "--out")
    if os.path.isdir(out):
        check_outputs([("--out", os.path.join(out, name)) for name in certificate_names()])


def run_demo(out, as_json=False):
    """Decide every built-in example, write certificates into ``out``, verify them, print a table.

    The folder and its file names are checked before any work; all certificates are written
    together at the end, all or none.
    """
    _check_folder(out)
    files = {}
    rows = []
    for name, (desc, direction) in EXAMPLES.items():
        t0 = time.perf_counter()
        problem, theta = load_example(name)
        result = problem.decide(theta, direction=direction)
        cert = result.certificate()
        path = os.path.join(out, f"{name}.json")
        files[path] = cert
        valid = check_certificate(cert).valid
        rows.append({"example": name, "claim": result.kind, "verdict": result.verdict,
                     "expected": EXPECTED[name], "certificate": path, "kernel": "valid" if valid else "INVALID",
                     "seconds": round(time.perf_counter() - t0, 3), "description": desc})
    for name, (_ex, _steps, _data, expected, desc, _loss) in EMBEDDINGS.items():
        t0 = time.perf_counter()
        result = run_embedding(name)
        cert = result.certificate()
        path = os.path.join(out, f"embed_{name}.json")
        valid = "none"
        if cert is not None:
            files[path] = cert
            valid = "valid" if check_certificate(cert).valid else "INVALID"
        rows.append({"example": name, "claim": "embed", "verdict": result.verdict, "expected": expected,
                     "certificate": path if cert is not None else None, "kernel": valid,
                     "properties": {k: p.verdict for k, p in result.properties.items()},
                     "seconds": round(time.perf_counter() - t0, 3), "description": desc})
    from .flow.demo import demo_rows

    for r in demo_rows():
        res = r["result"]
        rows.append({"example": f"flow_{r['run']}", "claim": "flow", "verdict": r["verdict"],
                     "expected": r["expected"], "certificate": None, "kernel": "none", "tier": r["tier"],
                     "max_deviation": r["max_deviation"], "seconds": r["seconds"],
                     "description": f"example1 split (3/5, 4/5), {res.settings.loss} loss, "
                                    f"{res.settings.optimizer.label}, {r['steps']} steps: max |η−Tθ| = "
                                    f"{r['max_deviation']} ({r['tier']})"})
    for mod in _extensions():
        for r in mod.demo_rows():
            cert, valid = r.pop("certificate"), "none"
            if cert is not None:
                path = os.path.join(out, f"{r['example']}.json")
                files[path] = cert
                valid = "valid" if check_certificate(cert).valid else "INVALID"
            rows.append({**r, "certificate": path if cert is not None else None, "kernel": valid})
    make_folder(out)
    _check_folder(out)
    write_files(files)
    ok = all(r["verdict"] == r["expected"] and r["kernel"] in ("valid", "none") for r in rows)
    if as_json:
        print(json.dumps({"verdict": "holds" if ok else "refuted",
                          "reason": "all built-in decisions as expected and certified" if ok else
                          "a built-in decision or certificate is wrong",
                          "folder": out, "examples": rows}, ensure_ascii=False))
    else:
        print(f"symkkt demo: certificates in {out}/ (decisions exact and certified; flow and gd rows observed, "
              "labelled by tier)")
        we = max(len("example"), *(len(r["example"]) for r in rows))
        wc = max(len("claim"), *(len(r["claim"]) for r in rows))
        print(f"{'example':<{we}} {'claim':<{wc}} {'verdict':<9} {'kernel':<7} {'time':>7}  what")
        for r in rows:
            print(f"{r['example']:<{we}} {r['claim']:<{wc}} {r['verdict']:<9} {r['kernel']:<7} "
                  f"{r['seconds']:>6.2f}s  {r['description']}")
        print("all as expected" if ok else "UNEXPECTED RESULTS")
    return 0 if ok else 1
