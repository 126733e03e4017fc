"""Short trajectory runs for ``symkkt demo`` and tier-labelled evidence records for ``proofs/``.

The runs use the built-in example1 (docs/mathematics.md §8) with the rational start of
examples/flow/example1/init.yaml and the split (3/5, 4/5) of hidden unit 0:

- ``exact``: squared hinge, GD lr 1/10, 8 steps in Q: η_k = Tθ_k exactly (a proof for this
  instance and horizon);
- ``precision``: exp loss, GD lr 1/10, 200 steps at 50 digits: deviation ~1e-49 (observed);
- ``balls``: the same 200 steps in arb balls: a certified bound on the deviation;
- ``adam``: the negative control, Adam at 30 digits, 20 steps: refuted.

An evidence record is not a kernel certificate: it states the claim, the tier, the figures and
every input needed to re-run it (``symkkt flow``, :func:`rerun`, or ``symkkt verify``, which
re-runs it through :func:`verify_evidence`). The symbolic part — the
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
import json
import os
import stat

import sympy

__all__ = ["DEMO_RUNS", "demo_problem", "demo_rows", "evidence", "rerun", "verify_evidence"]

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
    from ..errors import UsageError
    from ..network import Network
    from ..numbers import parse_number
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
    theta0 = [parse_number(str(v), "<evidence record>", f"inputs.theta0[{i}]") for i, v in enumerate(inp["theta0"])]
    if len(theta0) != net.num_parameters:
        raise UsageError(f"{len(theta0)} numbers, the network has {net.num_parameters} parameters",
                         "<evidence record>", "inputs.theta0")
    return flow.run(theta0, **settings)


#: an evidence record larger than this is left to the kernel (which refuses it as a certificate)
EVIDENCE_BYTES = 1 << 20
#: bounds on what ``symkkt verify`` re-runs from an untrusted record (steps, digits, exact bits)
EVIDENCE_LIMITS = {"steps": 10_000, "digits": 1_000, "max_bits": 1_000_000}
_SETTINGS = {"loss": str, "lr": str, "steps": int, "tier": str, "digits": int, "optimizer": str,
             "batch": int, "seed": int, "reduction": str, "max_bits": int}
_INPUTS = ("architecture", "data", "theta0", "splits", "settings")


class EvidenceError(ValueError):
    """An evidence record that cannot be re-run (the message names the place)."""


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup is not None:
        raise EvidenceError(f"duplicate key {dup!r}")
    return dict(pairs)


def read_evidence(path):
    """The flow evidence record in ``path``, or ``None`` when the file is not one.

    A file that is not a regular file, is larger than :data:`EVIDENCE_BYTES`, is not JSON, or
    is a JSON object without the key ``symkkt_evidence`` is not an evidence record (``None``:
    the caller treats it as a certificate).

    Raises
    ------
    EvidenceError
        An evidence record with duplicate keys.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > EVIDENCE_BYTES:
            return None
        with open(path, "rb") as fh:
            text = fh.read(EVIDENCE_BYTES + 1)
        obj = json.loads(text, object_pairs_hook=_no_duplicates)
    except EvidenceError:
        raw = json.loads(text)
        if isinstance(raw, dict) and "symkkt_evidence" in raw:
            raise
        return None
    except (OSError, ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) and "symkkt_evidence" in obj else None


def _checked_record(record):
    """``record`` with its settings typed and bounded; :class:`EvidenceError` naming the place."""
    if record.get("symkkt_evidence") != 1:
        raise EvidenceError(f"symkkt_evidence: version {record.get('symkkt_evidence')!r} is not 1")
    for key in ("verdict", "tier", "max_deviation"):
        if not isinstance(record.get(key), str):
            raise EvidenceError(f"{key}: missing or not a string")
    inp = record.get("inputs")
    if not isinstance(inp, dict):
        raise EvidenceError("inputs: missing or not an object")
    unknown = sorted(set(inp) - set(_INPUTS))
    missing = [k for k in _INPUTS if k not in inp]
    if unknown or missing:
        raise EvidenceError(f"inputs: {'unknown key ' + repr(unknown[0]) if unknown else 'missing ' + missing[0]}")
    if not (isinstance(inp["theta0"], list) and all(isinstance(v, str) for v in inp["theta0"])):
        raise EvidenceError("inputs.theta0: expected a list of exact numbers as strings")
    if not (isinstance(inp["splits"], list) and inp["splits"] and all(isinstance(v, str) for v in inp["splits"])):
        raise EvidenceError("inputs.splits: expected a non-empty list of split texts")
    settings = inp["settings"]
    if not isinstance(settings, dict):
        raise EvidenceError("inputs.settings: not an object")
    typed = {}
    for key, value in settings.items():
        if key not in _SETTINGS:
            raise EvidenceError(f"inputs.settings.{key}: unknown setting")
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise EvidenceError(f"inputs.settings.{key}: expected a string")
        if _SETTINGS[key] is int:
            text = str(value).strip()
            if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 12):
                raise EvidenceError(f"inputs.settings.{key}: expected an integer, got {str(value)[:40]!r}")
            value = int(text)
            if key in EVIDENCE_LIMITS and value > EVIDENCE_LIMITS[key]:
                raise EvidenceError(f"inputs.settings.{key}: {value} > {EVIDENCE_LIMITS[key]}, more than "
                                    "`symkkt verify` re-runs (run `symkkt flow` with these inputs instead)")
        typed[key] = value if _SETTINGS[key] is int else str(value)
    return {**record, "inputs": {**inp, "settings": typed}}


def verify_evidence(record):
    """Re-run a flow evidence record and compare: ``(reproduced, message)``.

    Reproduced means the re-run reaches the recorded verdict in the recorded tier, with the
    recorded number of steps and digits (and, in the exact tier, the same exact maximal deviation). An evidence record is not a kernel
    certificate: reproducing it repeats the observation (or, exact tier, the proof for this
    instance and horizon) with this version of symkkt.

    Raises
    ------
    EvidenceError
        A record that is malformed or asks for more than :data:`EVIDENCE_LIMITS`.

    Examples
    --------
    >>> rec = {"symkkt_evidence": 1, "verdict": "holds", "tier": "exact", "max_deviation": "0", "steps": 3,
    ...        "digits": None,
    ...        "inputs": {"architecture": {"input": [1], "layers": [{"dense": {"width": 2, "activation": "relu"}},
    ...                                                              {"dense": {"width": 1}}]},
    ...                   "data": {"points": [{"x": [1], "y": 1}]}, "theta0": ["1", "-1", "1", "1"],
    ...                   "splits": ["1:0:3/5,4/5"],
    ...                   "settings": {"loss": "squared_hinge", "lr": "1/10", "steps": "3", "tier": "exact"}}}
    >>> verify_evidence(rec)
    (True, 'flow evidence, exact tier: max |η−Tθ| = 0; holds for k = 0..3')
    >>> verify_evidence({**rec, "verdict": "refuted"})[0]
    False
    """
    from ..errors import SymkktInputError

    record = _checked_record(record)
    settings = record["inputs"]["settings"]
    settings.setdefault("max_bits", EVIDENCE_LIMITS["max_bits"])     # an exact re-run stays within seconds
    try:
        fresh = rerun(record)
    except SymkktInputError as err:
        raise EvidenceError(f"inputs: {err}") from None
    same = ((fresh.verdict, fresh.tier, fresh.settings.steps, fresh.digits)
            == (record["verdict"], record["tier"], record.get("steps"), record.get("digits")))
    if same and fresh.tier_flag == "exact":
        same = fresh.max_deviation == record["max_deviation"]
    figure = f"max |η−Tθ| = {fresh.max_deviation}"
    if fresh.tier_flag != "exact" or fresh.max_deviation != "0":
        figure += f", recorded {record['max_deviation']}"
    if same:
        return True, f"flow evidence, {fresh.tier} tier: {figure}; {fresh.verdict} for k = 0..{fresh.steps_done}"
    return False, (f"flow evidence: recorded {record['verdict']} ({record['tier']}, {record.get('steps')} steps, "
                   f"max |η−Tθ| = {record['max_deviation']}), the re-run gives {fresh.verdict} ({fresh.tier}, "
                   f"{fresh.settings.steps} steps, {figure}): {fresh.reason}")
