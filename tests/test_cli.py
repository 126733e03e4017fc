"""The ``symkkt`` command line: verdicts, exit codes, certificates and bad input (docs/formats.md).

Most checks call :func:`symkkt.cli.main` in-process (fast); the ones about the process itself
(``--help`` without sympy, exit statuses, no code execution) run ``python -m symkkt.cli``.
Expected values come from the worked instance (docs/mathematics.md §8) and from reasoning written next to each case.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

from symkkt.api import example_paths
from conftest import call
from symkkt.numbers import parse_number

EXAMPLES = Path(example_paths("example1")[0]).parent.parent


def ex(name):
    return [str(EXAMPLES / name / f"{f}.yaml") for f in ("arch", "data", "params")]


def run(*args, cwd=None):
    """``python -m symkkt.cli ARGS`` as a subprocess."""
    return subprocess.run([sys.executable, "-m", "symkkt.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)



def contract_digest(cert):
    """The digest as docs/formats.md defines it (computed here, not with symkkt's helper)."""
    body = {k: v for k, v in cert.items() if k not in ("digest", "provenance")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def same_number(text, value):
    return sympy.simplify(parse_number(text) - value) == 0


# ------------------------------------------------------------------------------ --help

HELP_PROBE = ("import sys; sys.argv=['symkkt','--help']\n"
              "from symkkt.cli import main\n"
              "try: main()\n"
              "except SystemExit: pass\n"
              "print('sympy' in sys.modules)")


@pytest.mark.parametrize("argv", [["--help"], ["kkt", "--help"], ["verify", "--help"]])
def test_help_does_not_import_sympy(argv):
    probe = HELP_PROBE.replace("['symkkt','--help']", repr(["symkkt", *argv]))
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


def test_help_exits_zero_and_lists_commands():
    proc = run("--help")
    assert proc.returncode == 0
    for command in ("info", "kkt", "verify", "demo"):
        assert command in proc.stdout
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------ kkt + certificates

@pytest.fixture(scope="module")
def example1_cert(tmp_path_factory):
    """``symkkt kkt example1 --json --cert F`` run once as a real process."""
    folder = tmp_path_factory.mktemp("ex1")
    cert = folder / "example1.cert.json"
    proc = run("kkt", *ex("example1"), "--json", "--cert", cert)
    return proc, cert


def test_kkt_example1_holds_with_theory_multipliers(example1_cert):
    proc, cert = example1_cert
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    obj = json.loads(proc.stdout)
    assert obj["verdict"] == "holds" and obj["reason"]
    # docs/mathematics.md §8: λ = (1, 1/√2, 0), margins (1, 1, 3), active set {0, 1}, ‖θ‖² = 2 + √2
    assert len(obj["multipliers"]) == 3
    for got, want in zip(obj["multipliers"], [1, sympy.sqrt(2) / 2, 0]):
        assert same_number(got, want), (got, want)
    assert [parse_number(m) for m in obj["margins"]] == [1, 1, 3]
    assert obj["active_set"] == [0, 1]
    assert same_number(obj["squared_norm"], 2 + sympy.sqrt(2))
    assert obj["certificate"] == str(cert)


def test_certificate_layout_and_digest(example1_cert):
    _, cert_path = example1_cert
    cert = json.loads(cert_path.read_text())
    assert cert["symkkt_certificate"] == 1
    for key in ("claim", "architecture", "data", "parameters", "witness", "provenance", "digest"):
        assert key in cert
    assert cert["claim"]["kind"] == "kkt_point"
    assert cert["digest"] == contract_digest(cert)
    # the parameters are example1's, as exact strings
    w = cert["parameters"][0]["weight"]
    assert same_number(w[1][0], -sympy.root(2, 4) ** -3) and same_number(w[1][1], sympy.root(2, 4) ** -3)
    assert same_number(cert["parameters"][1]["weight"][0][1], -sympy.root(2, 4) ** -1)


def test_verify_accepts_the_certificate(example1_cert):
    _, cert = example1_cert
    proc = run("verify", cert)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout


def _tamper(src, dst, edit, redigest):
    cert = json.loads(Path(src).read_text())
    edit(cert)
    if redigest:
        cert["digest"] = contract_digest(cert)
    Path(dst).write_text(json.dumps(cert))
    return dst


def _set_multiplier(cert):
    assert cert["witness"]["multipliers"][1] != "1/2"
    cert["witness"]["multipliers"][1] = "1/2"


def _set_weight(cert):
    cert["parameters"][0]["weight"][0][0] = "2"


def _set_data(cert):
    cert["data"]["points"][0]["x"][0] = "2"


@pytest.mark.parametrize("edit", [_set_multiplier, _set_weight, _set_data], ids=["multiplier", "weight", "data"])
@pytest.mark.parametrize("redigest", [False, True], ids=["stale-digest", "fresh-digest"])
def test_tampered_certificate_is_invalid(example1_cert, tmp_path, capsys, edit, redigest):
    """Every edit breaks the claim: λ₂ = 1/2 breaks stationarity (θ ≠ Σλ y h); W1[0,0] = 2
    or x₁ = (2, 0) makes q₁ = 2 > 1 with λ₁ = 1 (complementary slackness) and changes Σλ y h."""
    _, cert = example1_cert
    bad = _tamper(cert, tmp_path / "bad.json", edit, redigest)
    code, out, err = call(capsys, "verify", bad, "--json")
    assert code == 1, out + err
    obj = json.loads(out)
    assert obj["verdict"] == "refuted"
    assert obj["certificates"][0]["verdict"] == "invalid"
    if not redigest:
        assert "digest" in obj["certificates"][0]["reason"]


def test_tampered_certificate_exit_status(example1_cert, tmp_path):
    _, cert = example1_cert
    bad = _tamper(cert, tmp_path / "bad.json", _set_multiplier, False)
    assert run("verify", bad).returncode == 1


@pytest.mark.parametrize("content", ["this is not JSON\n", '{"symkkt_certificate": 1, "claim": ', ""],
                         ids=["text", "truncated", "empty"])
def test_unreadable_certificate_exits_2(tmp_path, capsys, content):
    f = tmp_path / "garbage.json"
    f.write_text(content)
    code, out, err = call(capsys, "verify", f)
    assert code == 2
    assert "garbage.json" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unreadable_certificate_exit_status(tmp_path):
    f = tmp_path / "garbage.json"
    f.write_text("not json")
    proc = run("verify", f)
    assert proc.returncode == 2 and "garbage.json" in proc.stderr and "Traceback" not in proc.stderr


def test_verify_several_takes_the_worst(example1_cert, tmp_path, capsys):
    _, cert = example1_cert
    bad = _tamper(cert, tmp_path / "bad.json", _set_multiplier, True)
    assert call(capsys, "verify", cert, cert)[0] == 0
    assert call(capsys, "verify", cert, bad)[0] == 1


# ------------------------------------------------------------------------------ other verdicts

@pytest.mark.parametrize("name, reason", [
    # w = (2, 1): margins (2, 1, 3), only point 1 active, and (2, 1) is no multiple of x₂ = (0, 1)
    ("svm_refuted", "stationar"),
    # split with c = (1/2, 1/2): Σc² = 1/2, so q₁ = (1/2)(1/2)·1 + (1/2)(1/2)·1 = 1/2 < 1
    ("split_infeasible", "infeasible"),
])
def test_refuted_examples(tmp_path, capsys, name, reason):
    cert = tmp_path / f"{name}.json"
    code, out, err = call(capsys, "kkt", *ex(name), "--json", "--cert", cert)
    assert code == 1, err
    obj = json.loads(out)
    assert obj["verdict"] == "refuted" and reason in obj["reason"]
    assert "witness" in obj
    if name == "split_infeasible":
        assert [parse_number(m) for m in obj["margins"]] == [sympy.Rational(1, 2), 1, sympy.Rational(3, 2)]
    # the refutation is certified too, and the kernel accepts it
    assert call(capsys, "verify", cert)[0] == 0


def test_deep_linear_direction_holds(capsys):
    code, out, err = call(capsys, "kkt", *ex("deep_linear"), "--direction", "--json")
    assert code == 0, err
    obj = json.loads(out)
    assert obj["verdict"] == "holds"
    # margins (5, 7, 10) of Φ = a W2 W1 x; μ = (1/5, 0, 0) (θ = μ₁ h₁ with ⟨h₁, θ⟩ = 3·5)
    assert [parse_number(m) for m in obj["margins"]] == [5, 7, 10]
    assert [parse_number(m) for m in obj["multipliers"]] == [sympy.Rational(1, 5), 0, 0]


def test_deep_linear_is_not_a_kkt_point(capsys):
    """All margins exceed 1, so every λ_k must vanish and θ = 0 would be forced."""
    code, out, _ = call(capsys, "kkt", *ex("deep_linear"), "--json")
    assert code == 1
    assert json.loads(out)["verdict"] == "refuted"


TANH_ARCH = "input: [2]\nlayers:\n  - dense: {width: 2, activation: tanh}\n  - dense: {width: 1}\n"
BIAS_ARCH = "input: [2]\nlayers:\n  - dense: {width: 2, activation: relu}\n  - dense: {width: 1, bias: true}\n"
BIAS_PARAMS = "- weight: [[1, 0], [0, 1]]\n- weight: [[1, 1]]\n  bias: [1]\n"


def test_tanh_net_is_inconclusive(tmp_path, capsys):
    arch = tmp_path / "tanh_arch.yaml"
    arch.write_text(TANH_ARCH)
    _, data, params = ex("example1")
    cert = tmp_path / "tanh.json"
    code, out, err = call(capsys, "kkt", arch, data, params, "--json", "--cert", cert)
    assert code == 3, err
    obj = json.loads(out)
    assert obj["verdict"] == "inconclusive" and "tanh" in obj["reason"]
    assert not cert.exists()


def test_exit_statuses_as_a_process(tmp_path):
    arch = tmp_path / "tanh_arch.yaml"
    arch.write_text(TANH_ARCH)
    _, data, params = ex("example1")
    assert run("kkt", arch, data, params).returncode == 3
    assert run("kkt", *ex("svm_refuted")).returncode == 1
    assert run("kkt", *ex("deep_linear"), "--direction").returncode == 0


# ------------------------------------------------------------------------------ info

def test_info_example1(capsys):
    arch = ex("example1")[0]
    code, out, _ = call(capsys, "info", arch)
    assert code == 0
    assert re.search(r"homogene\w*.*\b2\b", out) and "6 parameters" in out
    code, out, _ = call(capsys, "info", arch, "--json")
    assert code == 0
    obj = json.loads(out)
    assert obj["homogeneity_degree"] == 2
    assert obj["parameters"] == 6
    assert obj["parameter_order"] == ["W1[0,0]", "W1[0,1]", "W1[1,0]", "W1[1,1]", "W2[0,0]", "W2[0,1]"]
    assert "verdict" in obj and "reason" in obj


def test_info_bias_in_layer_two(tmp_path, capsys):
    arch = tmp_path / "bias_arch.yaml"
    arch.write_text(BIAS_ARCH)
    code, out, _ = call(capsys, "info", arch, "--json")
    assert code == 1                    # refuted: a bias breaks positive homogeneity
    obj = json.loads(out)
    assert obj["verdict"] == "refuted"
    assert obj["homogeneity_degree"] is None
    assert "bias" in obj["reason"]
    assert obj["parameters"] == 7


# ------------------------------------------------------------------------------ demo

def test_demo_writes_verified_certificates(tmp_path):
    from symkkt.api import EMBEDDINGS, EXAMPLES

    proc = run("demo", "--out", "tmp/x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    certs = sorted((tmp_path / "tmp" / "x").glob("*.json"))
    kkt = set(EXAMPLES)
    assert {"example1", "svm", "deep_linear", "kink", "svm_refuted", "split_infeasible", "conv_tied"} <= kkt
    from symkkt.demo import _extensions

    extra = {name for mod in _extensions() for name in mod.DEMO_NAMES}
    assert {"realize_same", "opt_zero_unit", "ncf_rank_one"} <= extra      # rows of the other capabilities
    written = {c.stem for c in certs}
    assert kkt | {f"embed_{n}" for n in EMBEDDINGS} <= written <= kkt | {f"embed_{n}" for n in EMBEDDINGS} | extra
    for c in certs:
        obj = json.loads(c.read_text())
        assert obj["symkkt_certificate"] == 1 and obj["digest"] == contract_digest(obj)
    assert "flow_exact" in proc.stdout and "flow_adam" in proc.stdout       # the trajectory rows
    proc = run("verify", *certs, "--json")
    assert proc.returncode == 0, proc.stdout
    rows = json.loads(proc.stdout)["certificates"]
    assert len(rows) == len(certs) and all(r["verdict"] == "valid" for r in rows)


# ------------------------------------------------------------------------------ bad input

EX1_ARCH = "input: [2]\nlayers:\n  - dense: {width: 2, activation: relu}\n  - dense: {width: 1}\n"
EX1_DATA = "points:\n  - {x: [1, 0], y: 1}\n  - {x: [-1, 1], y: -1}\n  - {x: [3, 1], y: 1}\n"
EX1_PARAMS = "- weight: [[1, 0], [1, 1]]\n- weight: [[1, 2]]\n"
PWNED_CODE = "__import__('os').system('touch PWNED')"

# name -> (file to replace: (role, file name, content) or None, extra argv, needle in stderr)
BAD = {
    "broken_yaml": (("arch", "broken_arch.yaml", "input: [2\nlayers: foo\n"), [], "broken_arch.yaml"),
    "unknown_layer": (("arch", "kind_arch.yaml", "input: [2]\nlayers:\n  - dense3: {width: 1}\n"), [], "kind_arch.yaml"),
    "unknown_activation": (("arch", "act_arch.yaml", EX1_ARCH.replace("relu", "swish")), [], "act_arch.yaml"),
    "zero_width": (("arch", "zero_arch.yaml", EX1_ARCH.replace("width: 2", "width: 0")), [], "zero_arch.yaml"),
    "negative_width": (("arch", "neg_arch.yaml", EX1_ARCH.replace("width: 2", "width: -2")), [], "neg_arch.yaml"),
    "param_shape": (("params", "shape_params.yaml", "- weight: [[1, 0, 3], [1, 1, 1]]\n- weight: [[1, 2]]\n"), [],
                    "shape_params.yaml"),
    "param_missing_layer": (("params", "short_params.yaml", "- weight: [[1, 0], [1, 1]]\n"), [], "short_params.yaml"),
    "data_dimension": (("data", "dim_data.yaml", "points:\n  - {x: [1, 0, 2], y: 1}\n"), [], "dim_data.yaml"),
    "label_2": (("data", "label_data.yaml", "points:\n  - {x: [1, 0], y: 2}\n"), [], "label_data.yaml"),
    "nan_yaml": (("params", "nan_params.yaml", EX1_PARAMS.replace("[1, 2]", "[1, .nan]")), [], "nan_params.yaml"),
    "nan_text": (("data", "nan_data.yaml", "points:\n  - {x: [1, 'NaN'], y: 1}\n"), [], "nan_data.yaml"),
    "division_by_zero": (("params", "div_params.yaml", EX1_PARAMS.replace("[1, 2]", "[1, '1/0']")), [],
                         "div_params.yaml"),
    "code_in_number": (("params", "code_params.yaml", EX1_PARAMS.replace("[1, 2]", f'[1, "{PWNED_CODE}"]')), [],
                       "code_params.yaml"),
    "missing_file": (("params", "missing_params.yaml", None), [], "missing_params.yaml"),
    "unknown_flag": (None, ["--frobnicate"], "--frobnicate"),
    "cert_folder_missing": (None, ["--cert", os.path.join("nodir", "out.json")], os.path.join("nodir", "out.json")),
    "direction_not_homogeneous": ((("arch", "bias_arch.yaml", BIAS_ARCH), ("params", "bias_params.yaml", BIAS_PARAMS)),
                                  ["--direction"], "bias"),
}


def _bad_argv(tmp_path, case):
    files, extra, needle = BAD[case]
    paths = {}
    for role, text in (("arch", EX1_ARCH), ("data", EX1_DATA), ("params", EX1_PARAMS)):
        (tmp_path / f"good_{role}.yaml").write_text(text)
        paths[role] = f"good_{role}.yaml"
    if files is not None:
        for role, name, content in (files if isinstance(files[0], tuple) else (files,)):
            if content is not None:
                (tmp_path / name).write_text(content)
            paths[role] = name
    argv = ["kkt", paths["arch"], paths["data"], paths["params"], *extra]
    if "--cert" not in extra:
        argv += ["--cert", "out.json"]
    return argv, needle


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_one_line_exit_2(tmp_path, monkeypatch, capsys, case):
    monkeypatch.chdir(tmp_path)
    argv, needle = _bad_argv(tmp_path, case)
    code, out, err = call(capsys, *argv)
    assert code == 2, (out, err)
    assert out == ""
    assert err.endswith("\n") and len(err.splitlines()) == 1, err
    assert needle in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out.json").exists()
    assert not list(tmp_path.glob(".symkkt-*")), "temporary certificate file left behind"
    assert not (tmp_path / "PWNED").exists()


# regression: the --direction refusal used to be raised without the architecture file's name
def test_direction_refusal_names_the_architecture_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv, _ = _bad_argv(tmp_path, "direction_not_homogeneous")
    code, _, err = call(capsys, *argv)
    assert code == 2
    assert "bias_arch.yaml" in err, err


@pytest.mark.parametrize("case", ["code_in_number", "unknown_flag", "missing_file", "broken_yaml"])
def test_bad_input_as_a_process(tmp_path, case):
    argv, needle = _bad_argv(tmp_path, case)
    proc = run(*argv, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and needle in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out.json").exists()
    assert not (tmp_path / "PWNED").exists()
    assert not (Path.cwd() / "PWNED").exists()


@pytest.mark.parametrize("content, needle", [
    (EX1_ARCH.replace("width: 2", "width: 0"), "width"),
    ("input: [2\n", "YAML"),
    (EX1_ARCH.replace("relu", "swish"), "swish"),
])
def test_info_bad_architecture(tmp_path, capsys, content, needle):
    arch = tmp_path / "bad_arch.yaml"
    arch.write_text(content)
    code, out, err = call(capsys, "info", arch)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and "bad_arch.yaml" in err and needle in err


def test_no_command_is_a_usage_error(capsys):
    code, out, err = call(capsys)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
