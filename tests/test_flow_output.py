"""What ``symkkt flow`` reports, and ``symkkt verify`` on flow evidence records.

Facts tested, with where they come from:

- γ̄ = q_min/‖θ‖^L is tracked per net: the steps where it decreases are those of an independent
  exact gradient descent on example1 (written out by hand below: f(x) = Σ_j a_j relu(w_j·x),
  squared hinge, mean reduction), and the narrow and the wide net are reported separately — for
  Adam, which breaks η_k = Tθ_k, the two nets decrease at different steps;
- a split with Σ c_j² = 1 is an isometry that preserves the margins, so while η_k = Tθ_k the
  two nets have the same γ̄ and the same decreases;
- the final direction ‖η/‖η‖ − Tθ/‖Tθ‖‖ is exactly 0 when η = λTθ with λ > 0 (in particular
  η = Tθ), and 2 for η = −Tθ (antipodal unit vectors); every figure names its tier;
- ``sgd`` is gd on mini-batches: refused without a batch size, identical to gd with the same
  batches, different from full-batch gd (the mini-batch gradient is not the full gradient);
- the exact numbers of a GD step on example1 roughly triple in size (θ_{k+1} is cubic in θ_k),
  so 12 steps fit the default ``--max-bits`` budget;
- ``symkkt verify`` re-runs flow evidence records: the stored records are reproduced; a record
  whose verdict, tier or settings were changed is not (exit 1); a malformed one exits 2.
"""
from __future__ import annotations

import copy
import json
import math
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from conftest import call
from symkkt.flow import load_flow
from symkkt.flow.arith import make_arithmetic
from symkkt.flow.measure import Meter
from symkkt.flow.run import FlowSettings

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "examples" / "flow"
EX1 = [str(FLOW / "example1" / f) for f in ("arch.yaml", "data.yaml", "init.yaml")]
TOY = [str(FLOW / "toy2d" / f) for f in ("arch.yaml", "data.csv", "init.yaml")]
SPLIT = "1:0:3/5,4/5"
PROOFS = sorted((ROOT / "proofs" / "flow").glob("*.json"))

# example1: input [2], dense 2 relu, dense 1; parameters w11, w12, w21, w22, a1, a2
EX1_DATA = [((1, 0), 1), ((-1, 1), -1), ((3, 1), 1)]
EX1_THETA0 = [Fraction(1, 2), Fraction(1, 10), Fraction(-1, 5), Fraction(2, 5), Fraction(3, 10), Fraction(-3, 10)]


@pytest.fixture(scope="module")
def ex1():
    return load_flow(*EX1, [SPLIT])


@pytest.fixture(scope="module")
def toy():
    return load_flow(*TOY, [SPLIT])


# ------------------------------------------------------------------------------ an independent GD

def _margins(theta):
    w, a = (theta[0:2], theta[2:4]), theta[4:6]
    return [y * sum(a[j] * max(Fraction(0), w[j][0] * x[0] + w[j][1] * x[1]) for j in range(2))
            for x, y in EX1_DATA]


def _gd_step(theta, lr=Fraction(1, 10)):
    """One GD step on the mean squared hinge max(0, 1 − q)², slope 0 of relu at 0 (the lower end)."""
    w, a = (theta[0:2], theta[2:4]), theta[4:6]
    n = len(EX1_DATA)
    grad = [Fraction(0)] * 6
    for (x, y), q in zip(EX1_DATA, _margins(theta)):
        dl = -2 * max(Fraction(0), 1 - q) / n            # ℓ'(q) / n
        for j in range(2):
            z = w[j][0] * x[0] + w[j][1] * x[1]
            grad[4 + j] += dl * y * max(Fraction(0), z)
            if z > 0:
                grad[2 * j] += dl * y * a[j] * x[0]
                grad[2 * j + 1] += dl * y * a[j] * x[1]
    return [t - lr * g for t, g in zip(theta, grad)]


def _gamma_decreases(steps):
    """Steps k ≥ 1 where γ̄ = q_min/‖θ‖² (L = 2) decreases, both margins positive."""
    theta, prev, out = EX1_THETA0, None, []
    for k in range(steps + 1):
        qmin = min(_margins(theta))
        gamma = qmin / sum(t * t for t in theta)
        if prev is not None and prev[0] > 0 and qmin > 0 and gamma < prev[1]:
            out.append(k)
        prev = (qmin, gamma)
        theta = _gd_step(theta)
    return out


def test_gamma_decreases_per_net_match_an_independent_exact_gd(capsys):
    expected = _gamma_decreases(8)
    assert expected                                   # γ̄ does dip on example1 (three data points)
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, "--exact", "--steps", 8, "--json")
    g = json.loads(out)["diagnostics"]["gamma_monotone"]
    assert code == 0 and not g["holds"]
    for side in ("narrow", "wide"):                   # isometry + same margins: the same γ̄ in both nets
        d = g[side]
        assert d["steps"] == expected and d["decreasing_steps"] == len(expected)
        assert d["first_decrease"] == expected[0] and d["checked_steps"] == 8 and not d["holds"]
    assert "count" not in g                           # no sum over the two nets
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, "--exact", "--steps", 8)
    line = next(x for x in out.splitlines() if "gamma-bar" in x)
    for side in ("narrow", "wide"):
        assert f"{side} decreases at {len(expected)} of 8 steps (first at step {expected[0]})" in line


def test_gamma_decreases_are_reported_per_net_when_the_nets_differ(toy):
    """Adam breaks η_k = Tθ_k, so the two nets' γ̄ differ; each net's flags follow its own series."""
    problem, theta0 = toy
    r = problem.run(theta0, loss="exp", lr="1/100", steps=150, tier="precision", digits=30, optimizer="adam",
                    record_every=1)
    g = r.diagnostics["gamma_monotone"]
    S = r.series
    for side in ("narrow", "wide"):
        gam, q = S[f"gamma_{side}"], S[f"min_margin_{side}"]
        flagged = set(g[side]["steps"])
        clear_drop = {S["step"][i] for i in range(1, len(gam))
                      if q[i - 1] > 0 and q[i] > 0 and gam[i] < gam[i - 1] * (1 - 1e-9)}
        clear_rise = {S["step"][i] for i in range(1, len(gam))
                      if q[i - 1] > 0 and q[i] > 0 and gam[i] > gam[i - 1] * (1 + 1e-9)}
        assert clear_drop <= flagged and not (clear_rise & flagged)
        assert g[side]["first_decrease"] == (min(flagged) if flagged else None)
        assert g[side]["decreasing_steps"] >= len(g[side]["steps"])
    assert g["narrow"]["steps"] != g["wide"]["steps"]
    text = repr(r)
    line = next(x for x in text.splitlines() if "gamma-bar" in x)
    for side in ("narrow", "wide"):
        d = g[side]
        part = (f"{side} never" if d["holds"] else
                f"{side} decreases at {d['decreasing_steps']} of {d['checked_steps']} steps "
                f"(first at step {d['first_decrease']})")
        assert part in line


# ------------------------------------------------------------------------------ tiers of the figures

def _direction(u, v):
    """‖u/‖u‖ − v/‖v‖‖ in floats (an independent reference)."""
    nu, nv = math.sqrt(sum(x * x for x in u)), math.sqrt(sum(x * x for x in v))
    return math.sqrt(sum((a / nu - b / nv) ** 2 for a, b in zip(u, v)))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.fractions(min_value=-3, max_value=3, max_denominator=50), min_size=6, max_size=6)
       .filter(lambda t: any(t[0:2]) and any(t[4:6]) and any(t[2:4])),
       st.fractions(min_value=Fraction(1, 20), max_value=20, max_denominator=30))
def test_direction_figure_is_exact_for_positive_multiples(ex1, theta, lam):
    problem, _ = ex1
    emb = problem.embedding
    ar = make_arithmetic("exact", numbers=emb.numbers())
    meter = Meter(ar, emb, 2)
    th = [sympy.Rational(x.numerator, x.denominator) for x in theta]
    img = emb.forward(th)
    lam = sympy.Rational(lam.numerator, lam.denominator)
    with ar.context():
        assert meter.direction_figure(ar.vector(th), ar.vector([lam * v for v in img])) == ("0", "exact")
        text, tier = meter.direction_figure(ar.vector(th), ar.vector([-v for v in img]))
    assert tier == "rigorous enclosure (upper bound)"           # antipodal directions: exactly 2
    assert 2 <= float(text) <= 2 * (1 + 1e-2)
    # a perturbed η: the figure is an upper bound of the float reference value
    eta = [v + (sympy.Rational(1, 7) if r == 0 else 0) for r, v in enumerate(img)]
    with ar.context():
        text, tier = meter.direction_figure(ar.vector(th), ar.vector(eta))
    ref = _direction([float(v) for v in eta], [float(v) for v in img])
    assert tier == "rigorous enclosure (upper bound)" and float(text) >= ref * (1 - 1e-12) > 0


def _check_every_figure_has_a_tier(obj):
    fin = obj["final"]
    figures = set(fin) - {"statement", "tiers", "tier_legend"}
    assert figures and figures <= set(fin["tiers"]), figures - set(fin["tiers"])
    for name, entry in obj["diagnostics"].items():
        assert isinstance(entry.get("tier"), str) and entry["tier"], name
    words = set(fin["tier_legend"])
    for label in list(fin["tiers"].values()) + [e["tier"] for e in obj["diagnostics"].values()]:
        assert any(w in label for w in words), label


@pytest.mark.parametrize("tier", [("--exact",), ("--precision", "30"), ("--balls", "30"), ("--float",)])
def test_every_figure_names_its_tier(capsys, tier):
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, *tier, "--steps", 6, "--json")
    obj = json.loads(out)
    assert code == 0
    _check_every_figure_has_a_tier(obj)
    t = obj["final"]["tiers"]["direction_deviation"]
    if tier[0] == "--exact":
        assert (obj["final"]["direction_deviation"], t) == ("0", "exact")
    elif tier[0] == "--balls":
        assert t == "rigorous enclosure (upper bound)"
    else:
        assert t.endswith("(observed)") and obj["tier"] in t
    assert obj["final"]["tiers"]["gamma_narrow"] == "float estimate"


def test_exact_final_direction_prints_exact_zero(capsys):
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, "--exact", "--steps", 8)
    line = next(x for x in out.splitlines() if x.strip().startswith("final"))
    assert code == 0 and "direction deviation 0 (exact)" in line and "e-" not in line.split(";")[0]


def test_exact_negative_control_direction_is_not_zero(capsys, ex1):
    """Different batches break η_k = Tθ_k exactly: the final directions differ, bounded rigorously."""
    problem, theta0 = ex1
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=4, tier="exact", batch=1, same_batches=False)
    assert r.verdict == "refuted"
    fin = r.final
    assert fin["tiers"]["direction_deviation"] == "rigorous enclosure (upper bound)"
    eta = [float(x) for x in r.final_eta.to_sympy()]
    img = [float(v) for v in problem.embedding.forward(r.final_theta.to_sympy())]
    ref = _direction(eta, img)
    assert ref > 0 and float(fin["direction_deviation"]) >= ref * (1 - 1e-9)
    _check_every_figure_has_a_tier(r.to_json())


# ------------------------------------------------------------------------------ sgd

def test_sgd_without_batch_is_refused(capsys):
    code, out, err = call(capsys, "flow", *EX1, "--split", SPLIT, "--optimizer", "sgd", "--steps", 2)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--optimizer sgd" in err and "--batch" in err


def test_unknown_optimizer_lists_the_choices(capsys):
    code, _, err = call(capsys, "flow", *EX1, "--split", SPLIT, "--optimizer", "sdg")
    assert code == 2 and err.count("\n") == 1
    for name in ("gd", "sgd", "momentum", "weight_decay", "adam", "rk4"):
        assert name in err


def test_sgd_is_gd_on_mini_batches(ex1):
    problem, theta0 = ex1
    kw = dict(loss="squared_hinge", lr="1/10", steps=5, tier="exact")
    sgd = problem.run(theta0, optimizer="sgd", batch=1, seed=3, **kw)
    gd_b = problem.run(theta0, optimizer="gd", batch=1, seed=3, **kw)
    gd_full = problem.run(theta0, optimizer="gd", **kw)
    assert sgd.to_json()["settings"]["optimizer"] == "sgd"
    assert sgd.verdict == "holds" and sgd.max_deviation == "0"          # same batches: equivariant
    assert sgd.final_theta.to_sympy() == gd_b.final_theta.to_sympy()
    assert sgd.final_theta.to_sympy() != gd_full.final_theta.to_sympy()  # negative control
    bad = problem.run(theta0, optimizer="sgd", batch=1, seed=3, same_batches=False, **kw)
    assert bad.verdict == "refuted"


# ------------------------------------------------------------------------------ the exact budget

def test_twelve_exact_steps_fit_the_default_bit_budget(ex1):
    """θ_{k+1} is cubic in θ_k, so the sizes triple: 9 × bits(θ_10) estimates bits(θ_12)."""
    problem, theta0 = ex1
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=10, tier="exact", record_every=1)
    bits = r.series["bits"]
    ratios = [bits[k + 1] / bits[k] for k in range(6, 10)]
    assert all(2.9 < x < 3.1 for x in ratios), ratios
    default = FlowSettings().max_bits
    assert 9 * bits[10] * 1.1 < default
    from symkkt.cli import build_parser

    args = build_parser().parse_args(["flow", *EX1, "--split", SPLIT, "--exact"])
    assert args.max_bits == default


# ------------------------------------------------------------------------------ verify evidence

def test_verify_reproduces_the_stored_evidence(capsys):
    code, out, err = call(capsys, "verify", *PROOFS)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(PROOFS) >= 2
    for path, line in zip(PROOFS, lines):
        rec = json.loads(path.read_text(encoding="utf-8"))
        assert line.startswith(f"{path}: reproduced (flow evidence, {rec['tier']} tier: max |η−Tθ| = ")
        assert f"; {rec['verdict']} for k = 0..{rec['steps']})" in line
    exact = next(x for x in lines if "flow_exact" in x)
    assert "exact tier: max |η−Tθ| = 0;" in exact
    code, out, _ = call(capsys, "verify", *PROOFS, "--json")
    obj = json.loads(out)
    assert code == 0 and obj["verdict"] == "holds"
    assert {r["verdict"] for r in obj["certificates"]} == {"reproduced"}


def _tampered(tmp_path, name, change):
    rec = json.loads((ROOT / "proofs" / "flow" / name).read_text(encoding="utf-8"))
    rec = copy.deepcopy(rec)
    change(rec)
    path = tmp_path / f"t_{name}"
    path.write_text(json.dumps(rec), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("name, change", [
    ("flow_exact.json", lambda r: r.update(verdict="refuted")),                 # the claim is false
    ("flow_exact.json", lambda r: r.update(tier="high precision")),             # wrong tier
    ("flow_exact.json", lambda r: r.update(max_deviation="1/2")),               # wrong exact figure
    ("flow_precision.json", lambda r: r["inputs"]["settings"].update(optimizer="adam")),  # adam breaks it
    ("flow_adam.json", lambda r: r.update(verdict="holds")),                    # Adam is not equivariant
    ("flow_precision.json", lambda r: r["inputs"]["settings"].update(steps="7")),  # a shorter horizon
])
def test_verify_rejects_tampered_evidence(capsys, tmp_path, name, change):
    path = _tampered(tmp_path, name, change)
    code, out, _ = call(capsys, "verify", path)
    assert code == 1 and out.startswith(f"{path}: not reproduced: flow evidence: recorded ")


@pytest.mark.parametrize("change, fragment", [
    (lambda r: r["inputs"]["settings"].update(foo="1"), "inputs.settings.foo: unknown setting"),
    (lambda r: r["inputs"]["settings"].update(steps="100000"), "inputs.settings.steps: 100000 > 10000"),
    (lambda r: r["inputs"].update(theta0=["1"]), "inputs.theta0"),
    (lambda r: r["inputs"]["theta0"].__setitem__(0, "__import__('os')"), "inputs.theta0[0]"),
    (lambda r: r.pop("inputs"), "inputs: missing"),
])
def test_verify_malformed_evidence_exits_2(capsys, tmp_path, change, fragment):
    path = _tampered(tmp_path, "flow_exact.json", change)
    code, out, err = call(capsys, "verify", path)
    assert code == 2 and fragment in out and err.count("\n") == 1 and fragment in err


def test_verify_still_checks_kernel_certificates(capsys):
    certs = sorted((ROOT / "proofs").glob("kkt_*.json"))[:1]
    if not certs:
        pytest.skip("no kernel certificate stored")
    code, out, _ = call(capsys, "verify", certs[0], PROOFS[0])
    assert code == 0 and ": valid (" in out.splitlines()[0] and ": reproduced (" in out.splitlines()[1]


# ------------------------------------------------------------------------------ final parameters

def test_out_params_are_the_exact_iterate_of_an_independent_gd(capsys, tmp_path):
    """--exact --out-params writes θ_3 of GD on the mean squared hinge, computed here by hand."""
    theta = EX1_THETA0
    for _ in range(3):
        theta = _gd_step(theta)
    out_file = tmp_path / "final.yaml"
    code, out, err = call(capsys, "flow", *EX1, "--out-params", out_file, "--split", SPLIT, "--exact", "--steps", 3,
                          "--json")
    obj = json.loads(out)
    assert obj["moved"] and "did not move" not in err
    assert [Fraction(v) for v in obj["final_parameters"]["theta"]] == theta
    from symkkt.spec import load_architecture, load_parameters

    params = load_parameters(str(out_file), load_architecture(EX1[0]))
    flat = [Fraction(str(v)) for layer in params.to_json() for v in _flatten(layer["weight"])]
    assert flat == theta
    # fed back to kkt: a decision, not an error
    code, out, _ = call(capsys, "kkt", EX1[0], EX1[1], out_file, "--json")
    assert code in (0, 1) and json.loads(out)["verdict"] in ("holds", "refuted")


def _flatten(v):
    return [x for item in v for x in _flatten(item)] if isinstance(v, list) else [v]


def test_precision_final_values_are_binary_and_close_to_exact(capsys):
    """High-precision iterates are written as their exact binary values: dyadic, within 10^-40 of exact GD."""
    theta = EX1_THETA0
    for _ in range(3):
        theta = _gd_step(theta)
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, "--loss", "squared_hinge", "--precision", 50,
                        "--steps", 3, "--json")
    final = json.loads(out)["final_parameters"]
    assert "binary values" in final["values"]
    got = [Fraction(v) for v in final["theta"]]
    assert all(g.denominator & (g.denominator - 1) == 0 for g in got)          # powers of two
    assert all(abs(g - t) < Fraction(1, 10**40) for g, t in zip(got, theta))


def test_warning_when_the_run_does_not_move(capsys, tmp_path):
    """At example1's KKT point every margin is 1, so the squared hinge gradient is exactly 0."""
    base = ROOT / "symkkt" / "examples" / "example1"
    code, out, err = call(capsys, "flow", base / "arch.yaml", base / "data.yaml", base / "params.yaml",
                          "--split", SPLIT, "--exact", "--steps", 2, "--json")
    assert "did not move" in err and json.loads(out)["moved"] is False
