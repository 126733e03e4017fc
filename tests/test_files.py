"""Files on the command line: outputs checked before any work and written all or nothing,
inputs never overwritten, file system problems as one line with exit code 2, and every
activation through every command with verdicts and exit codes that agree.

The tests run in-process through :func:`symkkt.cli.main`. Tests run as root, where permission
bits stop nothing, so a read-only folder or an unsearchable input folder is simulated by making
``os.replace``, ``tempfile.mkstemp`` or ``os.stat`` raise the error the kernel would raise.
"""
from __future__ import annotations

import errno
import json
import os
import stat
import sys
import tempfile
import types
from fractions import Fraction
from pathlib import Path

import pytest
import sympy
import yaml
from hypothesis import given, settings, strategies as st

import symkkt
import symkkt.output as output
from conftest import call
from symkkt.api import example_paths
from symkkt.numbers import parse_number

ARCH, DATA, PARAMS = example_paths("example1")
SPLIT = "1:0:3/5,4/5"
#: rational parameters of the example1 architecture: W1 = [[1, 0], [1, 1]], W2 = [[1, 2]]
Q_PARAMS = "- weight: [[1, 0], [1, 1]]\n- weight: [[1, 2]]\n"


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith(".symkkt-"))


def one_line_exit_2(code, out, err, needle=None):
    assert code == 2, (code, out, err)
    assert out == "", out
    assert err.endswith("\n") and len(err.splitlines()) == 1 and err.startswith("symkkt: "), err
    assert "Traceback" not in err and "internal error" not in err
    if needle is not None:
        assert needle in err, err


def frac(text):
    value = parse_number(str(text))
    assert value.is_Rational
    return Fraction(int(value.p), int(value.q))


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("q.yaml").write_text(Q_PARAMS)
    return tmp_path


# ------------------------------------------------------------------------- all or nothing

def test_wide_files_are_the_split_network(here, capsys):
    """T of the split (3/5, 4/5) of hidden unit 0: its incoming row and outgoing weight are
    scaled by 3/5 and 4/5 and take its place, so W1 = [[3/5, 0], [4/5, 0], [1, 1]] and
    W2 = [[3/5, 4/5, 2]]: 9 parameters."""
    code, out, err = call(capsys, "embed", ARCH, DATA, "q.yaml", "--split", SPLIT,
                          "--out-arch", "w.yaml", "--out-params", "p.json")
    assert code == 0, err
    arch = yaml.safe_load(Path("w.yaml").read_text())
    assert arch["layers"][0]["dense"]["width"] == 3
    params = json.loads(Path("p.json").read_text())
    got = [[[frac(v) for v in row] for row in layer["weight"]] for layer in params]
    F = Fraction
    assert got == [[[F(3, 5), 0], [F(4, 5), 0], [1, 1]], [[F(3, 5), F(4, 5), 2]]]
    code, out, _ = call(capsys, "info", "w.yaml", "--json")
    assert code == 0 and json.loads(out)["parameters"] == 9
    assert leftovers(here) == []


def test_wide_files_of_a_kkt_point_are_a_kkt_point(here, capsys):
    """KKT transfer: the split (c >= 0, sum c^2 = 1) of example1's KKT point is a KKT point of
    the wide net; the written files must say so when read back."""
    code, _, err = call(capsys, "embed", ARCH, DATA, PARAMS, "--split", SPLIT,
                        "--out-arch", "w.yaml", "--out-params", "p.yaml")
    assert code == 0, err
    code, out, err = call(capsys, "kkt", "w.yaml", DATA, "p.yaml", "--json")
    assert code == 0, err
    assert json.loads(out)["verdict"] == "holds"


def test_directory_as_second_output_changes_nothing(here, capsys):
    """The audit's instance: --out-arch w.yaml --out-params DIR used to replace w.yaml, then fail."""
    Path("w.yaml").write_text("old\n")
    Path("d.yaml").mkdir()
    code, out, err = call(capsys, "embed", ARCH, DATA, "q.yaml", "--split", SPLIT,
                          "--out-arch", "w.yaml", "--out-params", "d.yaml")
    one_line_exit_2(code, out, err, "d.yaml")
    assert "directory" in err
    assert Path("w.yaml").read_text() == "old\n"
    assert Path("d.yaml").is_dir() and not any(Path("d.yaml").iterdir())
    assert leftovers(here) == []


@pytest.mark.parametrize("fail_at", [0, 1, 2])
def test_failed_rename_restores_every_target(here, capsys, monkeypatch, fail_at):
    """A rename that fails after others succeeded (a read-only folder, a full disk): the
    targets already replaced get their old contents back and new ones disappear."""
    Path("w.yaml").write_text("old arch\n")
    Path("c.json").write_text("old cert\n")
    real_replace = os.replace
    calls = []

    def replace(src, dst, *a, **k):
        if os.path.basename(src).startswith(".symkkt-") and not os.path.basename(src).startswith(".symkkt-old-"):
            calls.append(dst)
            if len(calls) == fail_at + 1:
                raise PermissionError(errno.EACCES, "Permission denied", dst)
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    code, out, err = call(capsys, "embed", ARCH, DATA, "q.yaml", "--split", SPLIT, "--out-arch", "w.yaml",
                          "--out-params", "p.yaml", "--cert", "c.json")
    one_line_exit_2(code, out, err, "Permission denied")
    assert Path("w.yaml").read_text() == "old arch\n"
    assert Path("c.json").read_text() == "old cert\n"
    assert not Path("p.yaml").exists()
    assert leftovers(here) == []


def test_failed_temporary_file_changes_nothing(here, capsys, monkeypatch):
    """A read-only folder makes creating the temporary file fail: nothing is replaced."""
    Path("w.yaml").write_text("old\n")
    real_mkstemp = tempfile.mkstemp
    count = []

    def mkstemp(*a, **k):
        count.append(1)
        if len(count) == 2:
            raise PermissionError(errno.EACCES, "Permission denied", os.path.join(k.get("dir", "."), ".symkkt-x"))
        return real_mkstemp(*a, **k)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    code, out, err = call(capsys, "embed", ARCH, DATA, "q.yaml", "--split", SPLIT,
                          "--out-arch", "w.yaml", "--out-params", "p.yaml")
    one_line_exit_2(code, out, err, "p.yaml: cannot write the file: Permission denied")
    assert Path("w.yaml").read_text() == "old\n" and not Path("p.yaml").exists()
    assert leftovers(here) == []


def test_read_only_folder_is_refused_before_the_work(here, capsys, monkeypatch):
    Path("ro").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k:
                        False if os.path.basename(os.fspath(p)) == "ro" else real_access(p, mode, *a, **k))
    code, out, err = call(capsys, "kkt", ARCH, DATA, PARAMS, "--cert", "ro/c.json")
    one_line_exit_2(code, out, err, "ro/c.json: --cert: cannot write into the folder")


@settings(max_examples=40, deadline=None)
@given(existing=st.lists(st.booleans(), min_size=1, max_size=4), data=st.data())
def test_write_outputs_is_all_or_nothing(existing, data):
    """For any set of targets (some existing) and any failing rename, every target keeps its
    old state; without a failure every target has its new contents."""
    n = len(existing)
    fail_at = data.draw(st.integers(min_value=-1, max_value=n - 1), label="fail_at")
    with tempfile.TemporaryDirectory() as folder:
        paths = [os.path.join(folder, f"f{i}.json") for i in range(n)]
        for i, (p, old) in enumerate(zip(paths, existing)):
            if old:
                Path(p).write_text(f"old {i}")
        real_replace, forward = os.replace, []

        def replace(src, dst):
            if not os.path.basename(src).startswith(".symkkt-old-"):
                forward.append(dst)
                if len(forward) == fail_at + 1:
                    raise OSError(errno.ENOSPC, "No space left on device", dst)
            return real_replace(src, dst)

        os.replace = replace
        try:
            if fail_at >= 0:
                with pytest.raises(symkkt.errors.UsageError, match="No space left"):
                    output.write_outputs({p: f"new {i}" for i, p in enumerate(paths)})
            else:
                output.write_outputs({p: f"new {i}" for i, p in enumerate(paths)})
        finally:
            os.replace = real_replace
        for i, (p, old) in enumerate(zip(paths, existing)):
            if fail_at >= 0:
                assert (Path(p).read_text() if os.path.exists(p) else None) == (f"old {i}" if old else None)
            else:
                assert Path(p).read_text() == f"new {i}"
        assert leftovers(folder) == []


def test_permissions_of_a_replaced_file_are_kept(tmp_path):
    target = tmp_path / "c.json"
    target.write_text("old")
    os.chmod(target, 0o640)
    output.write_outputs({str(target): "new"})
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    fresh = tmp_path / "n.json"
    mask = os.umask(0o022)
    os.umask(mask)
    output.write_outputs({str(fresh): "x"})
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~mask


def test_symbolic_link_output_replaces_the_file_it_points_to(here, capsys):
    Path("target.json").write_text("old")
    os.symlink("target.json", "link.json")
    code, _, err = call(capsys, "kkt", ARCH, DATA, PARAMS, "--cert", "link.json")
    assert code == 0, err
    assert os.path.islink("link.json")
    assert json.loads(Path("target.json").read_text())["claim"]["kind"] == "kkt_point"


# ------------------------------------------------------------------------- inputs and names

def test_cert_onto_the_params_file_is_refused(here, capsys):
    """The audit's instance: --cert params.yaml overwrote an input."""
    before = Path("q.yaml").read_bytes()
    code, out, err = call(capsys, "kkt", ARCH, DATA, "q.yaml", "--cert", "q.yaml")
    one_line_exit_2(code, out, err, "q.yaml: --cert: is the input file q.yaml")
    assert Path("q.yaml").read_bytes() == before


@pytest.mark.parametrize("link", ["symlink", "hardlink", "dotted"])
def test_other_names_of_an_input_are_refused(here, capsys, link):
    name = {"symlink": "s.json", "hardlink": "h.json", "dotted": "./sub/../q.yaml"}[link]
    if link == "symlink":
        os.symlink("q.yaml", name)
    elif link == "hardlink":
        os.link("q.yaml", name)
    else:
        Path("sub").mkdir()
    before = Path("q.yaml").read_bytes()
    code, out, err = call(capsys, "kkt", ARCH, DATA, "q.yaml", "--cert", name)
    one_line_exit_2(code, out, err, "is the input file q.yaml")
    assert Path("q.yaml").read_bytes() == before


@pytest.mark.parametrize("flag, victim", [("--out-arch", "a.yaml"), ("--out-params", "q.yaml"),
                                          ("--cert", "d.yaml"), ("--cert", "s.yaml")])
def test_embed_outputs_never_replace_an_input(here, capsys, flag, victim):
    Path("a.yaml").write_text(Path(ARCH).read_text())
    Path("d.yaml").write_text(Path(DATA).read_text())
    Path("s.yaml").write_text(f"splits: ['{SPLIT}']\n")
    before = {p: Path(p).read_bytes() for p in ("a.yaml", "d.yaml", "q.yaml", "s.yaml")}
    code, out, err = call(capsys, "embed", "a.yaml", "d.yaml", "q.yaml", "--splits", "s.yaml", flag, victim)
    one_line_exit_2(code, out, err, f"is the input file {victim}")
    assert {p: Path(p).read_bytes() for p in before} == before


@pytest.mark.parametrize("second", ["x.json", "./x.json"])
def test_two_outputs_with_one_name_are_refused(here, capsys, second):
    """The audit's instance: --out-arch x.json --cert x.json silently lost one of them."""
    code, out, err = call(capsys, "embed", ARCH, DATA, "q.yaml", "--split", SPLIT,
                          "--out-arch", "x.json", "--cert", second)
    one_line_exit_2(code, out, err, "is the same file as")
    assert not Path("x.json").exists()


@pytest.mark.parametrize("argv", [
    ["kkt", ARCH, DATA, PARAMS, "--cert", ""],
    ["embed", ARCH, "--split", SPLIT, "--cert", ""],
    ["embed", ARCH, "--split", SPLIT, "--out-arch", ""],
    ["embed", ARCH, DATA, PARAMS, "--split", SPLIT, "--out-params", ""],
    ["flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--plot", ""],
    ["demo", "--out", ""],
], ids=["kkt-cert", "embed-cert", "out-arch", "out-params", "plot", "demo"])
def test_empty_output_names_are_refused(here, capsys, argv):
    """The audit's instance: --cert "" wrote nothing and said nothing."""
    code, out, err = call(capsys, *argv)
    one_line_exit_2(code, out, err, "empty")
    assert os.listdir(here) == ["q.yaml"]


def test_device_node_is_not_replaced(here, capsys):
    code, out, err = call(capsys, "kkt", ARCH, DATA, PARAMS, "--cert", os.devnull)
    one_line_exit_2(code, out, err, "is a device")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_fifo_is_not_replaced(here, capsys):
    os.mkfifo("pipe.json")
    code, out, err = call(capsys, "embed", ARCH, "--split", SPLIT, "--cert", "pipe.json")
    one_line_exit_2(code, out, err, "FIFO")
    assert stat.S_ISFIFO(os.stat("pipe.json").st_mode)


def test_fifo_and_device_inputs_are_refused_without_reading(here):
    """Reading a FIFO waits for a writer and /dev/zero never ends: both are refused by their
    status, before any read (run as a process with a timeout, so a regression cannot hang)."""
    import subprocess

    os.mkfifo("arch.yaml")
    os.mkfifo("cert.json")
    for argv, needle in ((["info", "arch.yaml"], "arch.yaml: is a FIFO"),
                         (["kkt", ARCH, DATA, "/dev/zero"], "/dev/zero: is a device"),
                         (["verify", "cert.json", "/dev/zero"], "cert.json: is a FIFO")):
        proc = subprocess.run([sys.executable, "-m", "symkkt.cli", *argv], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr


def test_directory_as_output_and_input(here, capsys):
    Path("c.json").mkdir()
    code, out, err = call(capsys, "kkt", ARCH, DATA, PARAMS, "--cert", "c.json")
    one_line_exit_2(code, out, err, "c.json: --cert: is a directory")
    Path("p.yaml").mkdir()
    code, out, err = call(capsys, "kkt", ARCH, DATA, "p.yaml")
    one_line_exit_2(code, out, err, "p.yaml: is a directory")


def test_missing_output_folder(here, capsys):
    code, out, err = call(capsys, "embed", ARCH, "--split", SPLIT, "--out-arch", "nowhere/w.yaml")
    one_line_exit_2(code, out, err, "folder does not exist")


def test_unsearchable_input_folder(here, capsys, monkeypatch):
    """stat() of a file below a folder without search permission fails with EACCES."""
    Path("locked").mkdir()
    Path("locked/a.yaml").write_text(Path(ARCH).read_text())
    real_stat, locked = os.stat, os.path.abspath("locked") + os.sep

    def fake_stat(path, *a, **k):
        if os.path.abspath(os.fspath(path)).startswith(locked):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_stat(path, *a, **k)

    monkeypatch.setattr(os, "stat", fake_stat)
    for argv in (["info", "locked/a.yaml"], ["kkt", "locked/a.yaml", DATA, PARAMS],
                 ["embed", "locked/a.yaml", "--split", SPLIT],
                 ["flow", "locked/a.yaml", DATA, PARAMS, "--split", SPLIT, "--steps", "1"]):
        code, out, err = call(capsys, *argv)
        one_line_exit_2(code, out, err, "locked/a.yaml")
        assert "Permission denied" in err


def test_os_error_on_a_user_file_is_bad_input_and_elsewhere_internal(here, capsys, monkeypatch):
    """An OSError about a file the user named is exit 2; about any other file it is a bug (4)."""
    import symkkt.spec

    def unreadable(path, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(symkkt.spec, "load_architecture", unreadable)
    code, out, err = call(capsys, "info", "q.yaml")
    one_line_exit_2(code, out, err, "q.yaml: cannot use the file: Permission denied")

    def internal(path, *a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", "/somewhere/internal.cache")

    monkeypatch.setattr(symkkt.spec, "load_architecture", internal)
    code, out, err = call(capsys, "info", "q.yaml")
    assert code == 4 and "internal error" in err


def test_demo_out_is_a_file(here, capsys):
    """The audit's instance: demo --out FILE exited 4 (FileExistsError)."""
    Path("f").write_text("keep\n")
    code, out, err = call(capsys, "demo", "--out", "f")
    one_line_exit_2(code, out, err, "f: --out: is a file, not a folder")
    assert Path("f").read_text() == "keep\n"


def test_demo_file_name_taken_by_a_directory(here, capsys):
    Path("out/example1.json").mkdir(parents=True)
    code, out, err = call(capsys, "demo", "--out", "out")
    one_line_exit_2(code, out, err, "example1.json: --out: is a directory")
    assert os.listdir("out") == ["example1.json"]


def test_demo_folder_that_cannot_be_created(here, capsys, monkeypatch):
    import symkkt.demo

    import symkkt.flow.demo

    real_makedirs = os.makedirs

    def makedirs(name, *a, **k):
        if os.fspath(name) == "x/y":
            raise PermissionError(errno.EACCES, "Permission denied", "x")
        return real_makedirs(name, *a, **k)

    monkeypatch.setattr(os, "makedirs", makedirs)
    monkeypatch.setattr(symkkt.flow.demo, "demo_rows", lambda: [])      # the trajectory runs are not needed here
    code, out, err = call(capsys, "demo", "--out", "x/y")
    one_line_exit_2(code, out, err, "x/y: cannot create the folder: Permission denied")


def test_flow_evidence_records_are_written_together(tmp_path, monkeypatch):
    from symkkt.flow.demo import evidence

    real_replace, seen = os.replace, []

    def replace(src, dst):
        seen.append(dst)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    records = evidence(str(tmp_path), names=["exact", "adam"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flow_adam.json", "flow_exact.json"]
    assert [json.loads((tmp_path / f"flow_{r}.json").read_text())["symkkt_evidence"] for r in ("exact", "adam")] \
        == [1, 1] and len(records) == 2
    assert len(seen) == 2


# ------------------------------------------------------------------------- digits and limits

@pytest.mark.parametrize("argv, needle", [
    (["flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--precision", "0"], "--precision"),
    (["flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--balls", "0"], "--balls"),
    (["flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--balls=-7"], "--balls"),
    (["flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--precision", "\uff15\uff10"], "ASCII"),
    (["embed", ARCH, "--split", SPLIT, "--precision", "0"], "--precision"),
    (["embed", ARCH, "--split", SPLIT, "--precision=-50"], "--precision"),
], ids=["flow-precision-0", "flow-balls-0", "flow-balls-negative", "fullwidth", "embed-0", "embed-negative"])
def test_zero_and_negative_digits_are_refused(here, capsys, argv, needle):
    """The audit's instance: --precision 0 and --balls 0 silently meant 50 digits."""
    code, out, err = call(capsys, *argv)
    one_line_exit_2(code, out, err, needle)


def test_small_digit_counts_are_used_as_given(here, capsys):
    """--balls 5 runs at 5 digits (the smallest allowed), not at 50."""
    code, out, err = call(capsys, "flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--balls", "5",
                          "--json")
    assert code in (0, 3), err
    obj = json.loads(out)
    # a rigorous bound computed with 5 digits cannot be near the 1e-50 a 50-digit run gives
    assert obj["digits"] == 5 and float(obj["deviation_bound"]) > 1e-12


def test_digits_above_the_limit_are_refused(here, capsys):
    limits = pytest.importorskip("symkkt.limits")
    huge = "1000000000"
    code, out, err = call(capsys, "flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--precision", huge)
    one_line_exit_2(code, out, err, "--precision")
    code, out, err = call(capsys, "embed", ARCH, "--split", SPLIT, "--precision", huge)
    one_line_exit_2(code, out, err, "--precision")
    assert limits.get("precision") < int(huge)


@pytest.mark.parametrize("text", ["digits", "digits=0", "digits=-3", "=5", "digits=\uff15", "a b=3"])
@pytest.mark.parametrize("command", ["info", "verify"])
def test_bad_limit_syntax(here, capsys, text, command):
    argv = ["info", ARCH] if command == "info" else ["verify", "nothing.json"]
    code, out, err = call(capsys, *argv, "--limit", text)
    one_line_exit_2(code, out, err, "--limit")


@pytest.fixture
def fake_limits(monkeypatch):
    """A stand-in for :mod:`symkkt.limits` that records what the command line hands it."""
    import contextlib

    from symkkt.cli import parse_limit

    seen = []

    @contextlib.contextmanager
    def overridden(**values):
        seen.append(("configure", values))
        try:
            yield
        finally:
            seen.append(("restore",))

    fake = types.ModuleType("symkkt.limits")
    fake.parse_assignment = parse_limit
    fake.overridden = overridden
    fake.check_precision = lambda digits, flag: seen.append(("check_precision", digits, flag))
    monkeypatch.setitem(sys.modules, "symkkt.limits", fake)
    monkeypatch.setattr(symkkt, "limits", fake, raising=False)
    return seen


@pytest.mark.parametrize("argv", [
    ["info", "missing.yaml"], ["kkt", "missing.yaml", DATA, PARAMS], ["embed", "missing.yaml", "--split", SPLIT],
    ["flow", "missing.yaml", DATA, PARAMS, "--split", SPLIT],
])
def test_limits_are_configured_before_any_input_is_read(here, capsys, fake_limits, argv):
    code, out, err = call(capsys, *argv, "--limit", "digits=7", "--limit", "width=3", "--limit", "digits=9")
    one_line_exit_2(code, out, err, "missing.yaml: file not found")
    assert fake_limits[0] == ("configure", {"digits": 9, "width": 3})
    assert fake_limits[-1] == ("restore",)


def test_a_limit_applies_to_its_command_only(here, capsys):
    """example1's input has 2 units: --limit units=1 refuses it; the next call has the default."""
    pytest.importorskip("symkkt.limits")
    code, out, err = call(capsys, "info", ARCH, "--limit", "units=1")
    one_line_exit_2(code, out, err, "units")
    assert call(capsys, "info", ARCH)[0] == 0
    one_line_exit_2(*call(capsys, "info", ARCH, "--limit", "no_such_limit=1"), "unknown limit")


def test_precision_goes_through_the_limit_check(here, capsys, fake_limits):
    call(capsys, "embed", ARCH, "--split", SPLIT, "--precision", "60")
    assert ("check_precision", 60, "--precision") in fake_limits
    call(capsys, "flow", ARCH, DATA, PARAMS, "--split", SPLIT, "--steps", "1", "--balls", "20")
    assert ("check_precision", 20, "--balls") in fake_limits


def test_verify_passes_limits_to_the_kernel_only_when_given(here, capsys, monkeypatch):
    import symkkt.kernel

    seen = []

    class Verdict:
        valid, claim, reason = True, "kkt_point", ""

    def check_file(path, limits=None):
        seen.append(limits)
        return Verdict()

    monkeypatch.setattr(symkkt.kernel, "check_file", check_file)
    assert call(capsys, "verify", "a.json")[0] == 0
    assert call(capsys, "verify", "a.json", "--limit", "field_degree=8")[0] == 0
    assert seen == [None, {"field_degree": 8}]

    def old_check_file(path):
        return Verdict()

    monkeypatch.setattr(symkkt.kernel, "check_file", old_check_file)
    assert call(capsys, "verify", "a.json")[0] == 0
    one_line_exit_2(*call(capsys, "verify", "a.json", "--limit", "field_degree=8"), "--limit")


def test_verify_refuses_an_unknown_kernel_limit(here, capsys):
    import inspect

    import symkkt.kernel

    pytest.importorskip("symkkt.kernel.limits")
    if "limits" not in inspect.signature(symkkt.kernel.check_file).parameters:
        pytest.skip("the kernel takes no limits in this version")
    code, out, err = call(capsys, "kkt", ARCH, DATA, PARAMS, "--cert", "c.json")
    assert code == 0, err
    one_line_exit_2(*call(capsys, "verify", "c.json", "--limit", "no_such_limit=5"), "unknown limit")
    # example1's field Q(2^(1/4)) has degree 4: a limit of 3 on the field degree makes it invalid,
    # a limit of 4 lets it through
    assert call(capsys, "verify", "c.json", "--limit", "field_degree=4")[0] == 0
    code, out, err = call(capsys, "verify", "c.json", "--limit", "field_degree=3")
    assert code == 1 and "field_degree" in out, out


# ------------------------------------------------------------------------- --clarke-set

def test_clarke_set_is_passed_only_when_not_the_default(here, capsys, monkeypatch):
    from symkkt.kkt import MaxMarginProblem

    real, seen = MaxMarginProblem.decide, []

    def decide(self, theta, direction=False, **options):
        seen.append(options)
        return real(self, theta, direction=direction)

    monkeypatch.setattr(MaxMarginProblem, "decide", decide)
    assert call(capsys, "kkt", ARCH, DATA, PARAMS)[0] == 0
    assert call(capsys, "kkt", ARCH, DATA, PARAMS, "--clarke-set", "chain_rule_hull")[0] == 0
    assert seen == [{}, {"clarke_set": "chain_rule_hull"}]
    one_line_exit_2(*call(capsys, "kkt", ARCH, DATA, PARAMS, "--clarke-set", "gradient"), "--clarke-set")


def test_clarke_set_chain_rule_hull_on_example1(here, capsys):
    """example1 has no active point on a kink, so both sets are the gradient: the KKT point holds
    for either (multipliers (1, sqrt(2)/2, 0))."""
    import inspect

    from symkkt.kkt import MaxMarginProblem

    if "clarke_set" not in inspect.signature(MaxMarginProblem.decide).parameters:
        pytest.skip("MaxMarginProblem.decide takes no clarke_set in this version")
    for choice in ("clarke", "chain_rule_hull"):
        code, out, err = call(capsys, "kkt", ARCH, DATA, PARAMS, "--clarke-set", choice, "--json")
        assert code == 0, err
        lam = json.loads(out)["multipliers"]
        assert [sympy.simplify(parse_number(m) - v) for m, v in zip(lam, [1, sympy.sqrt(2) / 2, 0])] == [0, 0, 0]


# ------------------------------------------------------------------------- command line shape

def test_options_and_files_in_any_order(here, capsys):
    code1, out1, _ = call(capsys, "embed", ARCH, DATA, "q.yaml", "--split", SPLIT, "--json")
    code2, out2, _ = call(capsys, "embed", ARCH, "--split", SPLIT, DATA, "q.yaml", "--json")
    code3, out3, _ = call(capsys, "embed", "--split", SPLIT, ARCH, DATA, "q.yaml", "--json")
    assert code1 == code2 == code3 == 0
    assert json.loads(out1)["properties"] == json.loads(out2)["properties"] == json.loads(out3)["properties"]


def test_json_bad_input_prints_an_error_object(here, capsys):
    code, out, err = call(capsys, "kkt", ARCH, DATA, "missing.yaml", "--json")
    assert code == 2 and len(err.splitlines()) == 1
    assert json.loads(out) == {"verdict": "error", "reason": "missing.yaml: file not found",
                               "place": "missing.yaml", "file": "missing.yaml"}
    code, out, err = call(capsys, "kkt", ARCH, "--json")
    assert code == 2 and json.loads(out)["verdict"] == "error" and "usage error" in err


# ------------------------------------------------------------------------- every activation

ACTIVATIONS = {
    # name: (YAML text, homogeneity degree p of sigma or None)
    "linear": ("linear", 1),
    "relu": ("relu", 1),
    "leaky_relu": ("{leaky_relu: {slope: 1/5}}", 1),
    "poly_relu": ("{poly_relu: {power: 2}}", 2),
    "poly_leaky_relu": ("{poly_leaky_relu: {slope: 1/2, power: 2}}", 2),
    "tanh": ("tanh", None),
    "polynomial": ("{polynomial: {coeffs: [0, 1, 0, 1]}}", None),      # z + z^3: degrees 1 and 3
}
#: two nets per activation sigma:
#: "alone":  2 -> 2 sigma -> 1, the sigma unit split (output preserved iff sigma(c z) = c sigma(z));
#: "behind": 2 -> 2 relu -> 2 sigma -> 1, the relu unit split: sum c_i relu(c_i z) w = relu(z) w
#:           whatever sigma follows, so output, isometry and gradient are preserved for every sigma.
NETS = {
    "alone": ("  - dense: {{width: 2, activation: {act}}}\n  - dense: {{width: 1}}\n", None),     # example1's θ
    "behind": ("  - dense: {{width: 2, activation: relu}}\n  - dense: {{width: 2, activation: {act}}}\n"
               "  - dense: {{width: 1}}\n",
               "- weight: [[1, 0], [1, 1]]\n- weight: [[1, -1], [1/2, 1]]\n- weight: [[1, 2]]\n"),
}
VERDICT_CODE = {"holds": 0, "refuted": 1, "inconclusive": 3}


def _agrees(code, out, err):
    """Exit code and verdict agree; no internal error; bad input is one line on stderr."""
    assert code != 4, err
    if code == 2:
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        return None
    verdict = json.loads(out)["verdict"]
    assert VERDICT_CODE[verdict] == code, (verdict, code, err)
    return verdict


def _degree(p, net):
    """Homogeneity degree: layer by layer, a p-homogeneous sigma multiplies the degree by p
    after the weight layer adds 1; alone: p*1 + 1; behind relu: (1*1 + 1)*p + 1."""
    if p is None:
        return None
    return p + 1 if net == "alone" else 2 * p + 1


CASES = [pytest.param(a, n, id=f"{a}-{n}") for a in ACTIVATIONS for n in NETS]


@pytest.mark.parametrize("act, net", CASES)
def test_every_activation_through_every_command(tmp_path, monkeypatch, capsys, act, net):
    monkeypatch.chdir(tmp_path)
    text, p = ACTIVATIONS[act]
    layers, params = NETS[net]
    Path("arch.yaml").write_text("input: [2]\nlayers:\n" + layers.format(act=text))
    if params is None:
        params = PARAMS
    else:
        Path("params.yaml").write_text(params)
        params = "params.yaml"
    certs = []

    code, out, err = call(capsys, "info", "arch.yaml", "--json")
    verdict = _agrees(code, out, err)
    assert json.loads(out)["homogeneity_degree"] == _degree(p, net)
    assert verdict == ("holds" if p is not None else "refuted")

    code, out, err = call(capsys, "kkt", "arch.yaml", DATA, params, "--json", "--cert", "kkt.json")
    verdict = _agrees(code, out, err)
    if act == "tanh":
        assert verdict == "inconclusive"        # tanh values are transcendental
    if (act, net) == ("relu", "alone"):
        assert verdict == "holds"               # example1: lambda = (1, 1/sqrt 2, 0)
    if (act, net) == ("linear", "alone"):
        # Phi = v.x with v = W2 W1 = (3/2, -1/2): margins 3/2, 2, 4 > 1, so lambda = 0 and theta = 0
        assert verdict == "refuted"
    certs.append("kkt.json")

    for with_data in (False, True):
        files = [DATA, params] if with_data else []
        cert = f"embed{int(with_data)}.json"
        code, out, err = call(capsys, "embed", "arch.yaml", *files, "--split", SPLIT, "--json", "--cert", cert)
        verdict = _agrees(code, out, err)
        props = json.loads(out)["properties"]
        out_verdict = props["output_preserved"]["verdict"] if isinstance(props["output_preserved"], dict) \
            else props["output_preserved"]
        if net == "behind" or p == 1:
            assert out_verdict != "refuted"     # preserved: a false refutation otherwise
            if act != "tanh":
                assert out_verdict == "holds"
        else:
            # sum c_i sigma(c_i z) = sigma(z) fails: p = 2 gives (27 + 64)/125 z^2 != z^2 for z > 0,
            # z + z^3 gives z + (91/125) z^3, tanh is not 1-homogeneous
            assert out_verdict != "holds" and verdict != "holds"
        certs.append(cert)

    code, out, err = call(capsys, "flow", "arch.yaml", DATA, params, "--split", SPLIT, "--steps", "1", "--json")
    verdict = _agrees(code, out, err)
    if p == 1:
        assert verdict == "holds"               # gradient equivariance of a split of 1-homogeneous units

    for cert in certs:
        if os.path.exists(cert):
            code, out, err = call(capsys, "verify", cert, "--json")
            assert code == 0, (cert, out, err)   # every certificate the tool writes is valid
            assert json.loads(out)["certificates"][0]["verdict"] == "valid"
