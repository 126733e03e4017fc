"""Short trajectory runs for ``symkkt demo`` and tier-labelled evidence records for ``proofs/``.

The runs use the built-in example1 (docs/mathematics.md §8) with the rational start of
examples/flow/example1/init.yaml and the split (3/5, 4/5) of hidden unit 0:

- ``exact``: squared hinge, GD lr 1/10, 8 steps in Q: η_k = Tθ_k exactly (a proof for this
  instance and horizon);
- ``precision``: exp loss, GD lr 1/10, 200 steps at 50 digits: deviation ~1e-49 (observed);
- ``balls``: the same 200 steps in arb balls: a certified bound on the deviation;
- ``adam``: the negative control, Adam at 30 digits, 20 steps: refuted.

An evidence record is not a kernel certificate: it states the claim, the tier, the figures and
every input needed to re-run it (``symkkt flow`` or :func:`rerun`). The symbolic part — the
gradient equivariance ∇L̃(Tθ) = T∇L(θ) for all θ and x behind these runs — is what the embed
certificates prove and the kernel re-checks.

Examples
--------
>>> rows = demo_rows()
>>> [(r["run"], r["verdict"], r["expected"]) for r in rows][:2]
[('exact', 'holds', 'holds'), ('precision', 'holds', 'holds')]
"""

from __future__ import annotations

import datetime
import os

import sympy

__all__ = ["DEMO_RUNS", "demo_problem", "demo_rows", "evidence", "rerun"]

THETA0 = ("1/2", "1/10", "-1/5", "2/5", "3/10", "-3/10")
SPLIT = "1:0:3/5,4/5"

#: name -> (settings, expected verdict)
DEMO_RUNS = {
    "exact": ({"loss": "squared_hinge", "lr": "1/10", "steps": 8, "tier": "exact"}, "holds"),
    "precision": ({"loss": "exp", "lr": "1/10", "steps": 200, "tier": "precision", "digits": 50}, "holds"),
    "balls": ({"loss": "exp", "lr": "1/10", "steps": 200, "tier": "balls", "digits": 50}, "holds"),
    "adam": ({"loss": "exp", "lr": "1/100", "steps": 20, "tier": "precision", "digits": 30,
              "optimizer": "adam"}, "refuted"),
}


def demo_problem():
    """``(FlowProblem, theta0)`` for example1 with the split (3/5, 4/5)."""
    from ..api import load_example
    from ..embed import chain, parse_step
    from .run import FlowProblem

    problem, _ = load_example("example1")
    emb = chain(problem.network, [parse_step(SPLIT)])
    return FlowProblem(problem.network, problem.data, emb), [sympy.Rational(v) for v in THETA0]


def demo_rows(names=None):
    """Run the demo runs; one summary row per run (``run``, ``tier``, ``verdict``, ``expected`` …)."""
    flow, theta0 = demo_problem()
    rows = []
    for name in names or DEMO_RUNS:
        settings, expected = DEMO_RUNS[name]
        r = flow.run(theta0, **settings)
        rows.append({"run": name, "tier": r.tier, "verdict": r.verdict, "expected": expected,
                     "max_deviation": r.max_deviation, "steps": r.steps_done, "seconds": round(r.seconds, 3),
                     "statement": r.statement, "result": r})
    return rows


def evidence(folder=None, names=None):
    """Evidence records of the demo runs (written as ``flow_<run>.json`` into ``folder`` if given,
    all together after the last run)."""
    from ..certificate import write_files

    flow, theta0 = demo_problem()
    out, files = [], {}
    for row in demo_rows(names):
        r = row.pop("result")
        rec = {"symkkt_evidence": 1, **r.evidence(),
               "inputs": {"architecture": flow.network.arch.to_json(), "data": flow.data.to_json(),
                          "theta0": list(THETA0), "splits": [SPLIT],
                          "settings": {k: str(v) for k, v in DEMO_RUNS[row["run"]][0].items()}},
               "provenance": {"tool": "symkkt flow", "time": datetime.datetime.now(datetime.timezone.utc)
                              .isoformat(timespec="seconds")}}
        out.append(rec)
        if folder:
            files[os.path.join(folder, f"flow_{row['run']}.json")] = rec
    write_files(files)              # all records or none
    return out


def rerun(record):
    """Re-run an evidence record; the new :class:`~symkkt.flow.run.FlowResult`."""
    from ..embed import chain, parse_step
    from ..network import Network
    from ..spec import architecture_from_json, data_from_json
    from .run import FlowProblem

    inp = record["inputs"]
    arch = architecture_from_json(inp["architecture"])
    net = Network(arch)
    data = data_from_json(inp["data"], arch=arch)
    flow = FlowProblem(net, data, chain(net, [parse_step(s) for s in inp["splits"]]))
    settings = dict(inp["settings"])
    for key in ("steps", "digits"):
        if key in settings:
            settings[key] = int(settings[key])
    return flow.run([sympy.Rational(v) for v in inp["theta0"]], **settings)
