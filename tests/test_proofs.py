"""Every certificate in proofs/ is valid for the kernel, and its claim matches a fresh decision."""

import glob
import json
import os

import pytest

from symkkt.kernel import check_certificate

PROOFS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "proofs")
FILES = sorted(glob.glob(os.path.join(PROOFS, "*.json")))


def test_proofs_folder_is_populated():
    kinds = {json.load(open(f))["claim"]["kind"] for f in FILES}
    assert {"kkt_point", "kkt_direction", "not_kkt_point", "split_embedding", "critical_embedding",
            "not_output_preserved"} <= kinds


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f) for f in FILES])
def test_proof_verifies(path):
    with open(path, encoding="utf-8") as fh:
        cert = json.load(fh)
    verdict = check_certificate(cert)
    assert verdict.valid, verdict.reason


@pytest.mark.parametrize("path", FILES, ids=[os.path.basename(f) for f in FILES])
def test_proof_claim_matches_a_fresh_decision(path):
    from symkkt.api import EXAMPLES, load_example

    base = os.path.basename(path)
    cert = json.load(open(path, encoding="utf-8"))
    if base.startswith("embed_"):
        from symkkt.demo import run_embedding

        fresh = run_embedding(base[len("embed_"):-len(".json")]).certificate()
        assert cert["claim"]["kind"] == fresh["claim"]["kind"]
        assert cert["witness"]["map"] == fresh["witness"]["map"]
        return
    if not base.startswith("kkt_"):          # a row of the ncf, certify, realize or optimality demo
        fresh = _extension_rows()[base[:-len(".json")]]
        assert cert["claim"]["kind"] == fresh["claim"]["kind"]
        assert cert["parameters"] == fresh["parameters"]
        return
    name = base[len("kkt_"):-len(".json")]
    problem, theta = load_example(name)
    res = problem.decide(theta, direction=EXAMPLES[name][1])
    expected_kind = res.kind if res.verdict == "holds" else "not_" + res.kind
    assert cert["claim"]["kind"] == expected_kind


_ROWS = {}


def _extension_rows():
    """Fresh certificates of the demo rows of the other capabilities, by name (computed once)."""
    if not _ROWS:
        from symkkt.demo import _extensions

        for mod in _extensions():
            for r in mod.demo_rows():
                if r["certificate"] is not None:
                    _ROWS[r["example"]] = r["certificate"]
    return _ROWS


FLOW = sorted(glob.glob(os.path.join(PROOFS, "flow", "*.json")))


def test_flow_evidence_is_there():
    assert {os.path.basename(f) for f in FLOW} >= {"flow_exact.json", "flow_adam.json"}


@pytest.mark.parametrize("path", FLOW, ids=[os.path.basename(f) for f in FLOW])
def test_flow_evidence_reruns(path):
    from symkkt.flow.demo import rerun

    record = json.load(open(path, encoding="utf-8"))
    fresh = rerun(record)
    assert (fresh.verdict, fresh.tier) == (record["verdict"], record["tier"])
    if record["tier"] == "exact":
        assert record["max_deviation"] == fresh.max_deviation == "0"
