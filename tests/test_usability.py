"""The command line as a user meets it: version, ``python -m symkkt``, help texts, closed pipes,
splits files, error messages that say what to write, and the ``--json`` error object.

Verdicts used as expected values are worked out by hand next to each case: ``svm_refuted`` is
refuted (w = (2, 1) is no multiple of the only active point x₂ = (0, 1)), ``example1`` holds, a
tanh network is inconclusive (transcendental activation), and a bias after the first layer
breaks positive homogeneity (``info`` refutes it).
"""
from __future__ import annotations

import configparser
import itertools
import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from conftest import ROOT, call
from symkkt.api import example_paths
from symkkt.cli import build_parser

EXAMPLES = Path(example_paths("example1")[0]).parent.parent
COMMANDS = ("info", "kkt", "embed", "flow", "verify", "demo")


def ex(name):
    return [str(EXAMPLES / name / f"{f}.yaml") for f in ("arch", "data", "params")]


def run_module(*args, module="symkkt", **kw):
    """``python -m MODULE ARGS`` as a subprocess."""
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True, text=True,
                          timeout=300, **kw)


def one_line(err):
    assert err.endswith("\n") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    return err


# ------------------------------------------------------------------------------ version, python -m

def test_version_is_the_package_version():
    import symkkt

    cfg = configparser.ConfigParser()
    cfg.read(Path(ROOT) / "setup.cfg")
    assert re.fullmatch(r"\d+\.\d+\.\d+", symkkt.__version__)
    assert cfg["metadata"]["version"] == symkkt.__version__         # one version, in both places
    proc = run_module("--version")
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout == f"symkkt {symkkt.__version__}\n"


def test_version_in_process(capsys):
    import symkkt

    code, out, err = call(capsys, "--version")
    assert code == 0 and out == f"symkkt {symkkt.__version__}\n" and err == ""


@pytest.mark.parametrize("name, code", [("svm_refuted", 1), ("example1", 0)])
def test_python_m_symkkt_is_the_command(name, code, capsys):
    """``python -m symkkt`` gives the same output and exit code as ``symkkt.cli.main``."""
    proc = run_module("kkt", *ex(name), "--json")
    in_process = call(capsys, "kkt", *ex(name), "--json")
    assert proc.returncode == in_process[0] == code
    assert json.loads(proc.stdout) == json.loads(in_process[1])


HELP_PROBE = ("import runpy, sys\n"
              "sys.argv = {argv!r}\n"
              "try:\n"
              "    runpy.run_module('symkkt', run_name='__main__')\n"
              "except SystemExit as e:\n"
              "    code = e.code\n"
              "print(code, 'sympy' in sys.modules)")


@pytest.mark.parametrize("argv", [["--version"], ["--help"]] + [[c, "--help"] for c in COMMANDS])
def test_help_and_version_stay_light(argv):
    """Through ``python -m symkkt``: exit 0 and sympy never imported."""
    probe = HELP_PROBE.format(argv=["symkkt", *argv])
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 False"


# ------------------------------------------------------------------------------ help texts

def help_text(capsys, command):
    code, out, err = call(capsys, command, "--help")
    assert code == 0 and err == ""
    return out


def positional_help(text):
    """The 'positional arguments' section of a help text, as one line of words."""
    if "positional arguments:" not in text:
        return ""
    section = text.split("positional arguments:")[1].split("\n\n")[0]
    return " ".join(section.split())


@pytest.mark.parametrize("command, files", [("info", ["ARCH"]), ("kkt", ["ARCH", "DATA", "PARAMS"]),
                                            ("embed", ["ARCH", "DATA", "PARAMS"]),
                                            ("flow", ["ARCH", "DATA", "PARAMS"]), ("verify", ["CERT"])])
def test_help_describes_the_files(capsys, command, files):
    section = positional_help(help_text(capsys, command))
    for name in files:
        assert re.search(rf"\b{name}\b", section), (name, section)
    if "ARCH" in files:
        assert re.search(r"ARCH architecture file \(YAML or JSON\)", section)
    if "DATA" in files:
        assert re.search(r"DATA .*data file \(YAML or JSON .*CSV", section)
        assert "+1 or -1" in section
    if "PARAMS" in files:
        assert re.search(r"PARAMS .*parameters file \(YAML or JSON\).*weight", section)
    if "CERT" in files:
        assert "certificate" in section and "JSON" in section


@pytest.mark.parametrize("command", ["embed", "flow"])
def test_help_states_the_index_bases(capsys, command):
    text = " ".join(help_text(capsys, command).split())
    assert "LAYER counts the weight (dense and conv) layers from 1" in text
    assert "UNIT counts the units (dense) or output channels (conv) of that layer from 0" in text
    assert "UNIT (0-based) of weight layer LAYER (1-based)" in text


def test_the_stated_index_bases_are_the_ones_used(tmp_path, capsys):
    """example1 has one hidden layer of width 2: weight layer 1 holds units 0 and 1, no layer 0, no unit 2.
    c = (3/5, 4/5) has Σc² = 1, so the split is an isometry ([A])."""
    arch = ex("example1")[0]
    assert call(capsys, "embed", arch, "--split", "1:0:3/5,4/5")[0] == 0
    assert call(capsys, "embed", arch, "--split", "1:1:3/5,4/5")[0] == 0
    code, _, err = call(capsys, "embed", arch, "--split", "0:0:3/5,4/5")
    assert code == 2 and "1-based" in one_line(err)
    assert call(capsys, "embed", arch, "--split", "1:2:3/5,4/5")[0] == 2
    code, out, _ = call(capsys, "embed", arch, "--split", "1:0:3/5,4/5", "--json")
    # the split unit 0 of the width-2 layer gets 2 children: width 3, 3·2 + 1·3 = 9 parameters
    assert json.loads(out)["target"]["parameters"] == 9


@pytest.mark.parametrize("command", COMMANDS)
def test_help_ends_with_a_working_example(capsys, command):
    """The epilog's example line is a command line the parser accepts for this very command."""
    text = help_text(capsys, command)
    assert "example:" in text
    lines = text.split("example:")[1].strip().splitlines()
    assert lines and lines[0].startswith(f"symkkt {command} ")
    for part in lines[0].split("&&"):
        words = shlex.split(part)
        assert words[0] == "symkkt"
        args = build_parser().parse_args(words[1:])     # parses, runs nothing
        assert args.command in COMMANDS


# ------------------------------------------------------------------------------ closed pipes

TANH_ARCH = "input: [2]\nlayers:\n  - dense: {width: 2, activation: tanh}\n  - dense: {width: 1}\n"


def closed_pipe_run(argv, close="stdout"):
    """Run ``python -m symkkt ARGV`` with stdout (or stderr) a pipe whose reader has already gone:
    every write to it fails with EPIPE, as for ``symkkt ... | head -c0``."""
    read, write = os.pipe()
    os.close(read)
    streams = {"stdout": write, "stderr": subprocess.PIPE} if close == "stdout" else \
        {"stdout": subprocess.PIPE, "stderr": write}
    try:
        proc = subprocess.run([sys.executable, "-m", "symkkt", *map(str, argv)], text=True, timeout=300,
                              **streams)
    finally:
        os.close(write)
    return proc


def wide_biased_arch(tmp_path):
    """A bias after the first layer: not positively homogeneous, so ``info`` refutes (exit 1); the
    1000-unit layer makes the --json output (3001 parameter names) larger than any pipe buffer."""
    arch = tmp_path / "wide_arch.yaml"
    arch.write_text("input: [2]\nlayers:\n  - dense: {width: 1000, activation: relu}\n"
                    "  - dense: {width: 1, bias: true}\n")
    return arch


@pytest.mark.parametrize("case, code", [("refuted", 1), ("holds", 0), ("inconclusive", 3),
                                        ("bad_input", 2), ("large_refuted", 1)])
def test_a_closed_pipe_keeps_the_verdicts_exit_code(tmp_path, case, code):
    if case == "inconclusive":
        (tmp_path / "tanh_arch.yaml").write_text(TANH_ARCH)
        argv = ["kkt", tmp_path / "tanh_arch.yaml", *ex("example1")[1:]]
    elif case == "large_refuted":
        argv = ["info", wide_biased_arch(tmp_path), "--json"]
    else:
        name = {"refuted": "svm_refuted", "holds": "example1", "bad_input": "example1"}[case]
        argv = ["kkt", *ex(name)] + (["--json"] if case != "bad_input" else [])
        if case == "bad_input":
            argv[3] = tmp_path / "missing_params.yaml"
            argv.append("--json")
    proc = closed_pipe_run(argv)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    if case == "bad_input":
        assert "missing_params.yaml" in one_line(proc.stderr)
    else:
        assert proc.stderr == ""


def test_an_open_pipe_gives_the_same_code_and_the_whole_output(tmp_path):
    """Negative control of the above: with a reader, the large output arrives whole."""
    proc = run_module("info", wide_biased_arch(tmp_path), "--json")
    assert proc.returncode == 1
    obj = json.loads(proc.stdout)
    assert obj["verdict"] == "refuted" and obj["parameters"] == 1000 * 2 + 1000 + 1


def test_a_closed_stderr_keeps_the_bad_input_code(tmp_path):
    proc = closed_pipe_run(["kkt", *ex("example1")[:2], tmp_path / "missing_params.yaml"], close="stderr")
    assert proc.returncode == 2 and proc.stdout == ""


# ------------------------------------------------------------------------------ splits files

def embed_json(capsys, *argv):
    code, out, err = call(capsys, "embed", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("text, suffix", [("splits: [{null: 1}]\n", ".yaml"), ("splits:\n  - null: 1\n", ".yaml"),
                                          ('{"splits": [{"null": 1}]}', ".json")])
def test_splits_file_null_key_is_the_null_step(tmp_path, capsys, text, suffix):
    """YAML reads the key null as no value; it still means --null: example1's hidden layer of
    width 2 gets a third unit, 3·2 + 1·3 = 9 parameters."""
    arch = ex("example1")[0]
    f = tmp_path / f"splits{suffix}"
    f.write_text(text)
    from_file = embed_json(capsys, arch, "--splits", f)
    from_flag = embed_json(capsys, arch, "--null", "1")
    assert from_file["target"] == from_flag["target"]
    assert from_file["target"]["parameters"] == 9
    assert from_file["target"]["architecture"]["layers"][0]["dense"]["width"] == 3
    assert from_file["properties"] == from_flag["properties"]


def test_readme_splits_example_is_the_three_flags(tmp_path, capsys):
    arch = ex("example1")[0]
    f = tmp_path / "splits.yaml"
    f.write_text('splits: ["1:0:3/5,4/5", {critical_split: "1:2:1/3"}, {null: 1}]\n')
    from_file = embed_json(capsys, arch, "--splits", f)
    from_flags = embed_json(capsys, arch, "--split", "1:0:3/5,4/5", "--critical-split", "1:2:1/3", "--null", "1")
    # widths 2 -> 3 (split) -> 4 (critical split) -> 5 (null unit): 5·2 + 1·5 = 15 parameters
    assert from_file["target"] == from_flags["target"] and from_file["target"]["parameters"] == 15


@pytest.mark.parametrize("text, place", [
    ("splits: [{nul: 1}]\n", "splits[0]"),
    ("splits: [{split: [1, 2]}]\n", "splits[0].split"),
    ("splits: [{split: }]\n", "splits[0].split"),
    ('splits: ["1:0:3/5,4/5", {split: "1:0:1", null: 1}]\n', "splits[1]"),
    ("splits: [[1, 0, 1]]\n", "splits[0]"),
    ("splits: 3\n", "splits"),
])
def test_malformed_splits_entry_says_what_to_write(tmp_path, capsys, text, place):
    f = tmp_path / "bad_splits.yaml"
    f.write_text(text)
    code, out, err = call(capsys, "embed", ex("example1")[0], "--splits", f)
    assert code == 2 and out == ""
    one_line(err)
    assert f"bad_splits.yaml: {place}:" in err
    assert '"L:U:c1,c2,..."' in err and "{null: L}" in err and '{critical_split: "L:U:ALPHA"}' in err


# ------------------------------------------------------------------------------ error messages

PYTHON_TYPE = re.compile(r"got (an? )?(str|NoneType|dict|int|bool|float)\b|got list\b")


@pytest.mark.parametrize("value, got", [("3", "the value 3"), ("abc", "the value abc"), ("", "nothing (null)"),
                                        ("{d: 2}", "a mapping"), ("[]", "an empty list")])
def test_input_that_is_not_a_list_says_what_is_expected(tmp_path, capsys, value, got):
    arch = tmp_path / "arch.yaml"
    arch.write_text(f"input: {value}\nlayers:\n  - dense: {{width: 1}}\n")
    code, out, err = call(capsys, "info", arch)
    assert code == 2 and out == ""
    one_line(err)
    assert f"arch.yaml: input: expected a list of sizes such as [2] or [1, 3], got {got}" in err
    assert not PYTHON_TYPE.search(err), err


@pytest.mark.parametrize("where, text", [
    ("params", "- weight: [[1, 0], [1, 1]]\n- weight: [[1, ~]]\n"),
    ("params", "- weight: [[1, 0], [1, 1]]\n- weight: 3\n"),
    ("data", "points:\n  - {x: [1, 0], y: [1]}\n"),
    ("data", "points:\n  - {x: 1, y: 1}\n"),
])
def test_no_python_type_names_in_messages(tmp_path, capsys, where, text):
    """Numbers are read as text, so a Python type name (str, NoneType, ...) would mislead."""
    arch, data, params = ex("example1")
    f = tmp_path / f"bad_{where}.yaml"
    f.write_text(text)
    argv = [arch, f, params] if where == "data" else [arch, data, f]
    code, _, err = call(capsys, "kkt", *argv)
    assert code == 2 and f"bad_{where}.yaml" in one_line(err)
    assert not PYTHON_TYPE.search(err), err


CONV = "input: [1, 3]\nlayers:\n  - conv: {channels: 2, kernel: 2, activation: relu}\n  - flatten\n  - dense: {width: 1}\n"


@pytest.mark.parametrize("x, shape", [("[1, 1]", "[2]"), ("[[1, 1], [1, 1]]", "[2, 2]"), ("[[1], [1], [1]]", "[3, 1]")])
def test_wrong_x_shape_reports_both_shapes(tmp_path, capsys, x, shape):
    arch = tmp_path / "conv.yaml"
    arch.write_text(CONV)
    data = tmp_path / "data.yaml"
    data.write_text(f"points:\n  - {{x: {x}, y: 1}}\n")
    params = ex("conv_tied")[2]
    code, _, err = call(capsys, "kkt", arch, data, params)
    assert code == 2
    assert f"data.yaml: points[0].x: x has shape {shape}" in one_line(err)
    assert "input needs shape [1, 3] (or flat, shape [3])" in err


def test_flat_and_nested_x_give_the_same_verdict(tmp_path, capsys):
    """The conv_tied data written flat: the same points, hence the same decision (refuted)."""
    arch, data, params = ex("conv_tied")
    flat = tmp_path / "flat.yaml"
    flat.write_text("points:\n  - {x: [1, 1, 1], y: 1}\n  - {x: [1/4, -3/4, 0], y: 1}\n"
                    "  - {x: [-1, 1/4, -3/4], y: -1}\n")
    nested = call(capsys, "kkt", arch, data, params, "--json")
    flat_run = call(capsys, "kkt", arch, flat, params, "--json")
    assert nested[0] == flat_run[0] == 1
    assert json.loads(nested[1])["verdict"] == json.loads(flat_run[1])["verdict"] == "refuted"


@given(input_shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       x_shape=st.lists(st.integers(1, 4), min_size=1, max_size=3))
@settings(max_examples=40, deadline=None)
def test_x_shape_is_accepted_exactly_when_it_fits(input_shape, x_shape):
    """x fits when its shape is the input shape or the flat shape [prod(input)]; otherwise the
    message names both shapes."""
    from symkkt.errors import ShapeError
    from symkkt.spec import architecture_from_json, data_from_json

    layers = ([{"conv": {"channels": 1, "kernel": 1}}, "flatten"] if len(input_shape) > 1 else []) \
        + [{"dense": {"width": 1}}]
    arch = architecture_from_json({"input": input_shape, "layers": layers})

    def nested(shape):
        return "1" if not shape else [nested(shape[1:]) for _ in range(shape[0])]

    fits = x_shape in (input_shape, [math.prod(input_shape)])
    try:
        data = data_from_json({"points": [{"x": nested(x_shape), "y": "1"}]}, "d.yaml", arch)
    except ShapeError as err:
        assert not fits
        assert f"x has shape {x_shape}" in err.message and f"shape {input_shape}" in err.message
    else:
        assert fits and len(data.X[0]) == math.prod(input_shape)


def _swap_hint(err):
    return "the order is ARCH DATA PARAMS" in err


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_files_in_the_wrong_order_get_the_order_hint(capsys, order):
    files = ex("example1")
    code, out, err = call(capsys, "kkt", *[files[i] for i in order])
    if order == (0, 1, 2):
        assert code == 0 and err == ""              # example1 holds
        return
    assert code == 2 and out == ""
    one_line(err)
    assert _swap_hint(err)
    # the first file out of place is named, with the kind of file it looks like
    first = next(i for i, j in enumerate(order) if i != j)
    kind = ("an architecture", "a data", "a parameters")[order[first]]
    assert err.startswith(f"symkkt: {files[order[first]]}: this looks like {kind} file")


@pytest.mark.parametrize("command", ["embed", "flow"])
def test_swapped_data_and_params_in_embed_and_flow(capsys, command):
    arch, data, params = ex("example1")
    code, _, err = call(capsys, command, arch, params, data, "--split", "1:0:3/5,4/5")
    assert code == 2
    assert one_line(err).startswith(f"symkkt: {params}: this looks like a parameters file")
    assert _swap_hint(err)


# ------------------------------------------------------------------------------ --json error object

def json_error(capsys, *argv):
    code, out, err = call(capsys, *argv, "--json")
    assert code == 2
    one_line(err)
    obj = json.loads(out)
    assert obj["verdict"] == "error"
    assert err == f"symkkt: {obj['reason']}\n"          # the same line on stderr and in reason
    if obj["place"] != "<command line>":          # argparse's usage line has no place of its own
        assert obj["reason"].startswith(obj["place"] + ": ")
    return obj


@pytest.mark.parametrize("command", ["info", "kkt", "embed", "flow"])
def test_json_error_places_a_mistake_inside_a_file(tmp_path, capsys, command):
    arch = tmp_path / "arch.yaml"
    arch.write_text("input: [2]\nlayers:\n  - dense: {width: 0, activation: relu}\n  - dense: {width: 1}\n")
    _, data, params = ex("example1")
    argv = {"info": [arch], "kkt": [arch, data, params], "embed": [arch, "--split", "1:0:1"],
            "flow": [arch, data, params, "--split", "1:0:1"]}[command]
    obj = json_error(capsys, command, *argv)
    assert obj["place"] == f"{arch}: layers[0].dense.width" and obj["file"] == str(arch)


def test_json_error_places_a_command_line_mistake(capsys):
    obj = json_error(capsys, "embed", ex("example1")[0], "--split", "1:x:1")
    assert obj["place"] == "--split 1:x:1" and "UNIT" in obj["reason"]
    obj = json_error(capsys, "kkt", ex("example1")[0])       # DATA and PARAMS missing
    assert obj["place"] == "<command line>" and "DATA" in obj["reason"]


def test_json_error_of_demo_and_verify(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    obj = json_error(capsys, "demo", "--out", blocker / "sub")
    assert obj["place"] == str(blocker / "sub")
    obj = json_error(capsys, "verify", tmp_path / "c.json", "--limit", "field_degree=0")
    assert obj["place"] == "<command line>: --limit"
    # an unreadable certificate is a verdict of its own, placed at the file
    code, out, err = call(capsys, "verify", tmp_path / "missing.json", "--json")
    obj = json.loads(out)
    assert code == 2 and obj["verdict"] == "unreadable" and obj["place"] == str(tmp_path / "missing.json")
    assert obj["certificates"][0]["place"] == str(tmp_path / "missing.json")
