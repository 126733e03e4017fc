"""``symkkt flow``: trajectories of a narrow net and its split, side by side (docs/mathematics.md §7).

Facts tested, with where they come from:

- [A] Thm 5.2 and its discrete versions: GD, momentum, weight decay, RK4 and SGD with the same
  batches keep η_k = Tθ_k; in exact arithmetic the deviation is exactly 0 (example1, toy2d,
  including a split over Q(√2)), at 50 digits it is below 1e-40, in ball arithmetic it is
  certified below a bound;
- negative controls: Adam and different batches break the equivariance (refuted in every tier,
  exactly in the exact tier, with a certified lower bound in the ball tier), and so does a [B]
  one-step split, which is not an isometry;
- the float tier really is float: its deviation is non-zero for the split (3/5, 4/5) (and exactly
  0 for the dyadic split (1, 0), whose map is exact in binary);
- γ̄ is non-decreasing along gradient flow for a single data point (d/dt log γ̄ =
  e^(−q)(‖∇q‖²/q − L²q/‖θ‖²) ≥ 0 by Cauchy–Schwarz and Euler's identity ⟨θ, ∇q⟩ = Lq), and
  Lyu–Li's smoothed margin is non-decreasing once L_sum < 1;
- the three gradient engines (generic through Network, dense, shallow) give the same numbers;
- bad input exits 2 with one line.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from flint import arb

from conftest import call
from symkkt.embed import chain, parse_step
from symkkt.flow import FlowProblem, load_flow
from symkkt.flow.arith import format_upper, make_arithmetic
from symkkt.flow.batches import BatchSampler
from symkkt.flow.engines import DenseEngine, GenericEngine, ShallowEngine
from symkkt.flow.losses import LOSSES
from symkkt.network import Network
from symkkt.spec import Dataset, architecture_from_json

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "examples" / "flow"
EX1 = [str(FLOW / "example1" / f) for f in ("arch.yaml", "data.yaml", "init.yaml")]
TOY = [str(FLOW / "toy2d" / f) for f in ("arch.yaml", "data.csv", "init.yaml")]
SPLIT = "1:0:3/5,4/5"


@pytest.fixture(scope="module")
def ex1():
    return load_flow(*EX1, [SPLIT])


@pytest.fixture(scope="module")
def toy():
    return load_flow(*TOY, [SPLIT])


def single_point_problem():
    """One data point: γ̄ is monotone along gradient flow (see the module docstring)."""
    net = Network(architecture_from_json(
        {"input": [2], "layers": [{"dense": {"width": 2, "activation": {"leaky_relu": {"slope": "1/10"}}}},
                                  {"dense": {"width": 1}}]}))
    data = Dataset([[1, "1/2"]], [1])
    theta0 = [sympy.Rational(v) for v in ("1/2", "-1/5", "1/5", "3/10", "1/2", "-1/2")]
    return FlowProblem(net, data, chain(net, [parse_step("1:1:3/5,4/5")])), theta0


# ------------------------------------------------------------------------------ exact tier

def test_exact_example1_eight_steps_deviation_is_zero(ex1):
    problem, theta0 = ex1
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=8, tier="exact")
    assert (r.verdict, r.max_deviation, r.tier, r.exit_code) == ("holds", "0", "exact", 0)
    assert r.steps_done == 8 and r.series["step"] == list(range(9))
    assert all(d == 0 for d in r.series["deviation"])
    # the narrow and wide losses and margins are the same numbers (output preservation)
    assert r.series["loss_narrow"] == pytest.approx(r.series["loss_wide"], rel=1e-12)
    assert r.series["bits"][-1] > 1000          # the denominators really grow


def test_exact_bit_budget_stops_inconclusive(ex1):
    problem, theta0 = ex1
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=50, tier="exact", max_bits=5000)
    assert r.verdict == "inconclusive" and "bits" in r.reason and r.steps_done < 10
    assert r.max_deviation == "0"          # every step done so far was exact


def test_exact_split_over_q_sqrt2(ex1):
    problem, theta0 = load_flow(*EX1, ["1:0:sqrt(2)/2,sqrt(2)/2"])
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=5, tier="exact")
    assert (r.verdict, r.max_deviation) == ("holds", "0")


def test_exact_kink_uses_the_same_clarke_element_in_both_nets(tmp_path):
    # point 0 sits exactly on the kink of hidden unit 0 (1/3 - 1/3 = 0); children inherit the element
    (tmp_path / "data.yaml").write_text("points:\n  - {x: [1/3, 1/3], y: 1}\n  - {x: [1, -1], y: 1}\n"
                                        "  - {x: [-1, 2], y: -1}\n")
    (tmp_path / "init.yaml").write_text("- weight: [[1, -1], [-1/2, 1]]\n- weight: [[1, -1]]\n")
    problem, theta0 = load_flow(EX1[0], tmp_path / "data.yaml", tmp_path / "init.yaml", [SPLIT])
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier="exact")
    assert r.verdict == "holds"
    # the start is exact, so the ball tier decides 1/3 - 1/3 = 0 exactly; the unit's weights then move
    # along (1, -1), orthogonal to x_0, so x_0 stays on the kink, which the rule does not prove: the
    # ball tier does not guess its sign at step 1 (inconclusive)
    for engine in ("shallow", "generic"):
        b = problem.run(theta0, loss="exp", lr="1/10", steps=3, tier="balls", digits=30, engine=engine)
        assert b.verdict == "inconclusive" and b.reason.startswith("step 1") and "not decided" in b.reason
        assert b.exit_code == 3


def test_exact_optimizers_and_same_batches_keep_equivariance(toy, ex1):
    # (an RK4 step composes four gradient evaluations: the numbers grow ~81-fold per step)
    for (problem, theta0), opt, extra, steps in ((toy, "momentum:1/2", {}, 3), (toy, "weight_decay:1/10", {}, 3),
                                                 (toy, "gd", {"batch": 10}, 3), (toy, "rk4", {}, 1),
                                                 (ex1, "rk4", {}, 2)):
        r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=steps, tier="exact", optimizer=opt, **extra)
        assert (r.verdict, r.max_deviation) == ("holds", "0"), opt


def test_exact_different_batches_refuted_exactly(ex1):
    problem, theta0 = ex1
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier="exact", batch=1, same_batches=False)
    assert r.verdict == "refuted" and r.exit_code == 1
    assert "exactly" in r.reason and r.witness["step"] >= 1 and r.max_deviation != "0"
    assert "difference" in r.witness


def test_critical_split_of_B_is_not_trajectory_preserving(ex1):
    # T^α is not an isometry: output is preserved, GD trajectories are not (docs/mathematics.md §6)
    problem, theta0 = load_flow(*EX1, [parse_step("1:0:1/3", "critical_split")])
    r = problem.run(theta0, loss="squared_hinge", lr="1/10", steps=2, tier="exact")
    assert r.verdict == "refuted"


# ------------------------------------------------------------------------------ high precision

def test_precision_fifty_digits_below_1e40(toy):
    problem, theta0 = toy
    r = problem.run(theta0, loss="exp", lr="1/10", steps=200, tier="precision", digits=50)
    assert r.verdict == "holds" and r.tier == "high precision"
    assert 0 < r.max_deviation_float < 1e-40
    assert r.engine == "shallow"


def test_precision_logistic_and_mean_vs_sum(toy):
    problem, theta0 = toy
    for reduction in ("mean", "sum"):
        r = problem.run(theta0, loss="logistic", lr="1/100", steps=40, tier="precision", digits=40,
                        reduction=reduction)
        assert r.verdict == "holds" and r.max_deviation_float < 1e-30


@pytest.mark.parametrize("opt", ["momentum:9/10", "weight_decay:1/100", "rk4"])
def test_precision_linear_optimizers_hold(toy, opt):
    problem, theta0 = toy
    r = problem.run(theta0, loss="exp", lr="1/10", steps=60, tier="precision", digits=30, optimizer=opt)
    assert r.verdict == "holds" and r.max_deviation_float < 1e-25


def test_same_batches_hold_different_batches_refuted(toy):
    problem, theta0 = toy
    same = problem.run(theta0, loss="exp", lr="1/10", steps=40, tier="precision", digits=30, batch=10, seed=3)
    diff = problem.run(theta0, loss="exp", lr="1/10", steps=40, tier="precision", digits=30, batch=10, seed=3,
                       same_batches=False)
    assert same.verdict == "holds"
    assert diff.verdict == "refuted" and diff.max_deviation_float > 1e-2


@pytest.mark.parametrize("tier", ["precision", "float", "balls"])
def test_adam_is_refuted_in_every_tier(toy, tier):
    problem, theta0 = toy
    r = problem.run(theta0, loss="exp", lr="1/100", steps=30, tier=tier, digits=30, optimizer="adam")
    assert r.verdict == "refuted" and r.exit_code == 1
    assert r.max_deviation_float > 1e-2
    if tier == "balls":          # a certified lower bound: the exact Adam iterates differ
        assert "certified" in r.reason and float(r.witness["deviation_lower_bound"]) > 1e-3


# ------------------------------------------------------------------------------ balls and float

def test_balls_certify_a_bound(toy):
    problem, theta0 = toy
    r = problem.run(theta0, loss="exp", lr="1/10", steps=100, tier="balls", digits=50)
    assert r.verdict == "holds" and r.tier == "rigorous enclosure"
    assert r.to_json()["deviation_bound"] == r.max_deviation
    assert 0 < float(r.max_deviation) < 1e-40


def test_float_tier_really_is_float(toy):
    problem, theta0 = toy
    r = problem.run(theta0, loss="exp", lr="1/10", steps=300, tier="float")
    # 3/5 and 4/5 are not binary fractions: rounding shows, at the size [A] reports (1e-13 after 100k steps)
    assert r.verdict == "holds" and 0 < r.max_deviation_float < 1e-12
    # the dyadic split (1, 0) is exact in binary, and so is every step of the wide run
    problem2, _ = load_flow(*TOY, ["1:0:1,0"])
    r2 = problem2.run(theta0, loss="exp", lr="1/10", steps=100, tier="float")
    assert r2.max_deviation_float == 0.0


def test_format_upper_rounds_up():
    assert format_upper(arb(sympy.Rational(1, 3).p) / 3) == "3.34e-1"
    assert format_upper(arb(0)) == "0"


# ------------------------------------------------------------------------------ engines

def test_engines_agree():
    problem, theta0 = load_flow(*TOY, [SPLIT])
    data, net = problem.data, problem.wide
    ar = make_arithmetic("precision", 40)
    eta0 = problem.embedding.forward(theta0)
    theta = ar.vector(eta0)
    for loss in LOSSES.values():
        grads = []
        for cls in (GenericEngine, DenseEngine, ShallowEngine):
            q, g = cls(net, ar, data.X, data.y, loss).loss_grad(theta)
            grads.append([float(x.mid()) for x in g] + [float(sum(list(q), arb(0)).mid())])
        for other in grads[1:]:
            assert other == pytest.approx(grads[0], rel=1e-30, abs=1e-35), loss.name


def test_engines_agree_in_the_float_tier():
    problem, theta0 = load_flow(*TOY, [SPLIT])
    ar = make_arithmetic("float")
    th = ar.vector(theta0)
    q1, g1 = GenericEngine(problem.network, ar, problem.data.X, problem.data.y, LOSSES["exp"]).loss_grad(th)
    q2, g2 = DenseEngine(problem.network, ar, problem.data.X, problem.data.y, LOSSES["exp"]).loss_grad(th)
    assert list(g1) == pytest.approx(list(g2), rel=1e-13)


def test_mpmath_backend_agrees_with_arb_midpoints(toy):
    problem, theta0 = toy
    runs = [problem.run(theta0, loss="exp", lr="1/10", steps=20, tier="precision", digits=40, backend=b,
                        engine="dense") for b in ("arb", "mpmath")]
    assert all(r.verdict == "holds" and r.max_deviation_float < 1e-38 for r in runs)
    a = [float(x.mid()) for x in runs[0].final_theta]
    b = [float(x) for x in runs[1].final_theta]
    assert a == pytest.approx(b, rel=1e-14)


def test_batch_sampler_epochs_cover_the_data():
    s = BatchSampler(7, 3, seed=5)
    seen = sorted(i for _ in range(3) for i in s.next().tolist())
    assert seen == list(range(7))


# ------------------------------------------------------------------------------ diagnostics

def test_gamma_bar_monotone_along_gradient_flow_single_point():
    problem, theta0 = single_point_problem()
    r = problem.run(theta0, loss="exp", lr="1/10", steps=200, tier="precision", digits=30, optimizer="rk4")
    g = r.diagnostics["gamma_monotone"]
    assert r.verdict == "holds"
    assert g["holds"] and g["checked_steps"] >= 150
    assert r.diagnostics["smoothed_margin_monotone"]["holds"]
    gam = r.series["gamma_narrow"]
    assert gam[-1] > gam[1] > 0
    kkt = r.diagnostics["kkt_residual"]
    assert kkt["decreased"]


def test_smoothed_margin_monotone_on_toy2d_gd_and_gamma_bar_flags(toy):
    problem, theta0 = toy
    r = problem.run(theta0, loss="exp", lr="1/10", steps=500, tier="precision", digits=30)
    sm = r.diagnostics["smoothed_margin_monotone"]
    assert sm["holds"] and sm["checked_steps"] > 100
    # gamma-bar itself dips for a while on this data: flagged, with the steps named
    g = r.diagnostics["gamma_monotone"]
    assert not g["holds"] and g["decreasing_steps_narrow"]
    fin = r.final
    assert float(fin["direction_deviation"]) < 1e-25
    assert fin["kkt_residual_narrow"] == pytest.approx(fin["kkt_residual_wide"], rel=1e-12)


def test_kkt_checker_cross_check(ex1):
    problem, theta0 = ex1
    r = problem.run(theta0, loss="exp", lr="1/10", steps=50, tier="precision", digits=30, kkt_check=True)
    kc = r.final["kkt_checker"]
    assert kc["verdict"] in ("holds", "refuted") and "approximately KKT" in kc["note"]


# ------------------------------------------------------------------------------ CLI

def test_cli_exact_json(capsys):
    code, out, err = call(capsys, "flow", *EX1, "--split", SPLIT, "--exact", "--steps", 8, "--json",
                          "--record-every", 2)
    obj = json.loads(out)
    assert code == 0 and err == ""
    assert (obj["verdict"], obj["max_deviation"], obj["tier"]) == ("holds", "0", "exact")
    assert obj["settings"]["loss"] == "squared_hinge"
    assert obj["series"]["step"] == [0, 2, 4, 6, 8]
    for key in ("deviation", "relative_deviation", "loss_narrow", "loss_wide", "gamma_narrow", "gamma_wide",
                "kkt_residual_narrow", "norm_narrow"):
        assert len(obj["series"][key]) == 5


def test_cli_refuted_exit_1_and_text(capsys):
    code, out, err = call(capsys, "flow", *TOY, "--split", SPLIT, "--optimizer", "adam", "--lr", "1/100",
                          "--steps", 10, "--precision", 30)
    assert code == 1 and "refuted" in out.splitlines()[0] and "high precision" in out


def test_cli_balls_and_float(capsys):
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, "--balls", 30, "--steps", 20, "--json")
    obj = json.loads(out)
    assert code == 0 and obj["tier"] == "rigorous enclosure" and "deviation_bound" in obj
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, "--float", "--steps", 20, "--json")
    assert code == 0 and json.loads(out)["tier"] == "float"


@pytest.mark.parametrize("args, fragment", [
    (["--lr", "0"], "--lr: learning rate must be positive"),
    (["--lr=-1/10"], "--lr: learning rate must be positive"),
    (["--steps", "0"], "--steps: must be a positive integer"),
    (["--steps", "-3"], "--steps: must be a positive integer"),
    (["--exact", "--loss", "exp"], "--exact needs a rational loss"),
    (["--exact", "--loss", "logistic"], "--exact needs a rational loss"),
    (["--exact", "--optimizer", "adam"], "needs square roots"),
    (["--loss", "hinge"], "invalid choice"),
    (["--optimizer", "nadam"], "unknown optimizer"),
    (["--optimizer", "momentum:3/2"], "0 <= β < 1"),
    (["--optimizer", "rk4", "--batch", "2"], "full-batch gradient flow"),
    (["--batch", "0"], "--batch: must be a positive integer"),
    (["--precision", "2"], "DIGITS must be an integer"),
    (["--record-every", "0"], "--record-every"),
    (["--exact", "--float"], "not allowed with"),
])
def test_cli_bad_flags_exit_2_one_line(capsys, args, fragment):
    code, out, err = call(capsys, "flow", *EX1, "--split", SPLIT, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("symkkt: ") and fragment in err, err


def test_cli_bad_files_and_splits_exit_2(capsys, tmp_path):
    code, out, err = call(capsys, "flow", *EX1, "--steps", 2)       # no split: one net, T the identity
    assert code == 0 and "T is the identity" in out
    code, _, err = call(capsys, "flow", EX1[0], EX1[1], tmp_path / "missing.yaml", "--split", SPLIT)
    assert code == 2 and "missing.yaml" in err and err.count("\n") == 1
    code, _, err = call(capsys, "flow", *EX1, "--split", "1:7:3/5,4/5")
    assert code == 2 and "UNIT 7 out of range" in err
    bad = tmp_path / "data.yaml"
    bad.write_text("points:\n  - {x: [1, 0], y: 2}\n")
    code, _, err = call(capsys, "flow", EX1[0], bad, EX1[2], "--split", SPLIT)
    assert code == 2 and "points[0].y" in err
    code, _, err = call(capsys, "flow", *EX1, "--split", SPLIT, "--plot", tmp_path / "no" / "x.png")
    assert code == 2 and "--plot" in err
    code, _, err = call(capsys, "flow", *EX1, "--split", SPLIT, "--plot", tmp_path / "x.txt")
    assert code == 2 and ".png" in err


def test_cli_not_homogeneous_refused(capsys, tmp_path):
    arch = tmp_path / "arch.yaml"
    arch.write_text("input: [2]\nlayers:\n  - dense: {width: 2, activation: relu}\n"
                    "  - dense: {width: 1, bias: true}\n")
    params = tmp_path / "p.yaml"
    params.write_text("- weight: [[1, 0], [0, 1]]\n- {weight: [[1, 1]], bias: [1]}\n")
    code, _, err = call(capsys, "flow", arch, EX1[1], params, "--split", SPLIT)
    assert code == 2 and "homogeneous" in err and str(arch) in err


def test_first_layer_bias_is_homogeneous_and_runs_generic(capsys, tmp_path):
    # a bias in the first layer keeps Φ homogeneous (z = c(Wx + b)); the generic engine handles it
    arch = tmp_path / "arch.yaml"
    arch.write_text("input: [2]\nlayers:\n  - dense: {width: 2, activation: relu, bias: true}\n"
                    "  - dense: {width: 1}\n")
    params = tmp_path / "p.yaml"
    params.write_text("- {weight: [[1, 0], [0, 1]], bias: [1/2, -1/3]}\n- weight: [[1, -1]]\n")
    code, out, _ = call(capsys, "flow", arch, EX1[1], params, "--split", SPLIT, "--exact", "--steps", 4, "--json")
    obj = json.loads(out)
    assert code == 0 and obj["max_deviation"] == "0" and obj["settings"]["engine"] == "generic"


def test_cli_plot_written_atomically(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "run.png"
    code, out, _ = call(capsys, "flow", *EX1, "--split", SPLIT, "--exact", "--steps", 4, "--plot", png)
    assert code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.png"]


def test_progress_only_on_a_tty(capsys):
    from symkkt.flow.cli import Progress

    code, _, err = call(capsys, "flow", *EX1, "--split", SPLIT, "--steps", 30, "--precision", 20)
    assert code == 0 and err == ""           # not a TTY: silent

    class TTY:
        def __init__(self):
            self.text = ""

        def isatty(self):
            return True

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    tty = TTY()
    bar = Progress(tty, every=0)
    bar(5, 10, 1e-40)
    bar.close()
    assert "5/10" in tty.text


def test_flow_cli_module_imports_nothing_heavy():
    code = ("import sys, symkkt.cli as c; c.build_parser(); "
            "bad = [m for m in ('sympy', 'numpy', 'flint', 'mpmath') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
