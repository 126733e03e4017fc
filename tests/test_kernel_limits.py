"""Resource limits of the kernel: small hostile certificates get an invalid verdict at once, and
legitimate certificates just under a limit still check.

Time bounds are generous (a loaded two-core machine); each hostile instance finishes in well
under a second on an idle one.
"""
import json
import os
import subprocess
import sys
import threading
import time
from fractions import Fraction as Q
from pathlib import Path

import pytest

from symkkt.kernel import CertificateUnreadable, certificate_digest, check_certificate, check_file
from symkkt.kernel.exact import Numbers
from symkkt.kernel.field import Invalid
from symkkt.kernel.limits import DEFAULTS, Limits

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 10


def cert(kind, arch, points, params, witness, clarke_set="gradient"):
    c = {"symkkt_certificate": 1, "claim": {"kind": kind, "clarke_set": clarke_set}, "architecture": arch,
         "data": {"points": [{"x": x, "y": y} for x, y in points]}, "parameters": params, "witness": witness}
    c["digest"] = certificate_digest(c)
    return c


def timed(c, limits=None):
    start = time.monotonic()
    v = check_certificate(c, limits)
    elapsed = time.monotonic() - start
    assert elapsed < SECONDS, f"took {elapsed:.1f} s"
    return v


def refused(c, name, limits=None):
    v = timed(c, limits)
    assert not v.valid
    assert v.reason.startswith("limit exceeded") or ": limit exceeded" in v.reason, v.reason
    assert f"(raise with --limit {name}=N)" in v.reason, v.reason
    return v


def accepted(c, limits=None):
    v = timed(c, limits)
    assert v.valid, v.reason
    return v


# Φ = w·x on one point x = 1 with y = 1: θ = w = 1 is a KKT point with λ = 1 (margin 1, θ = λ x).
LINEAR = {"input": [1], "layers": [{"dense": {"width": 1}}]}


def linear(weight="1", x="1", field=None, multiplier="1"):
    w = {"multipliers": [multiplier]}
    if field:
        w["field"] = field
    return cert("kkt_point", LINEAR, [([x], 1)], [{"weight": [[weight]]}], w)


# ------------------------------------------------------------------ the audit's instances

def test_field_degree_160():
    field = {"minpoly": ["-2"] + ["0"] * 159 + ["1"], "interval": ["1", "2"]}
    v = refused(linear(field=field), "field_degree")
    assert v.reason == "limit exceeded: field degree 160 > 32 (raise with --limit field_degree=N)"
    assert len(json.dumps(linear(field=field))) < 1500


def test_field_degree_at_the_limit_works():
    # x^32 - 2 has the single root 2^(1/32) in [1, 2]; θ = 2^(1/32)·2^(-1/32) = 1 written with radicals
    field = {"minpoly": ["-2"] + ["0"] * 31 + ["1"], "interval": ["1", "2"],
             "radicals": [{"base": ["2"], "index": 32, "root": ["0", "1"]}]}
    accepted(linear(weight="2^(1/32) * 2^(-1/32)", field=field))
    refused(linear(weight="2^(1/32) * 2^(-1/32)", field=field), "field_degree", {"field_degree": 31})


def test_huge_power_is_estimated_before_computing():
    v = refused(linear(weight="(9^10000)^10000"), "digits")
    assert "estimated before computing" in v.reason
    # 9^1000 = 3^2000 has 955 digits: allowed, and the value is exact
    assert Numbers().num("9^1000") == (Q(3 ** 2000),)
    # θ = 9^1000 / 9^1000 = 1
    accepted(linear(weight="9^1000 / 9^1000"))
    refused(linear(weight="9^1000 / 9^1000"), "digits", {"digits": 900})


def test_long_literals():
    refused(linear(x="1" * 1001), "digits")
    refused(linear(x="1e2000"), "digits")
    refused(linear(x="0." + "0" * 1000 + "1"), "digits")
    # x = 10^499, θ = w = 10^-499, λ = 10^-998 (999 digits): margin w·x = 1 and w = λ·x
    ok = linear(weight="1/1" + "0" * 499, x="1" + "0" * 499, multiplier="1/1" + "0" * 998)
    accepted(ok)
    refused(ok, "digits", {"digits": 998})


@pytest.mark.parametrize("arch, name", [
    ({"input": [1], "layers": [{"dense": {"width": 10 ** 9, "activation": "relu"}}, {"dense": {"width": 1}}]}, "units"),
    ({"input": [20000], "layers": [{"dense": {"width": 20000, "activation": "relu"}}, {"dense": {"width": 1}}]},
     "units"),
    ({"input": [5000], "layers": [{"dense": {"width": 50, "activation": "relu"}}, {"dense": {"width": 1}}]},
     "parameters"),
    ({"input": [1, 5000], "layers": [{"conv": {"channels": 2, "kernel": 100}}, "flatten", {"dense": {"width": 1}}]},
     "connections"),
    ({"input": [10 ** 6, 10 ** 6, 10 ** 6], "layers": [{"dense": {"width": 1}}]}, "units"),
    ({"input": [1], "layers": [{"dense": {"width": 1, "activation": {"poly_relu": {"power": 1000000}}}}]}, "power"),
    ({"input": [1], "layers": [{"dense": {"width": 1, "activation": {"polynomial": {"coeffs": ["1"] * 10000}}}}]},
     "coefficients"),
])
def test_huge_networks(arch, name):
    """Sizes are checked from the shapes, before a connection list or θ is built."""
    refused(cert("kkt_point", arch, [(["1"], 1)], [], {"multipliers": ["1"]}), name)


def test_a_layer_at_the_units_limit_works():
    # Φ = Σ_j v_j relu(w_j x) with 10000 hidden units w_j = v_j = 1/100: Φ(1) = 10000/10^4 = 1, and
    # θ = λ h with h = (v_j, relu(w_j)) = θ: λ = 1.
    arch = {"input": [1], "layers": [{"dense": {"width": 10000, "activation": "relu"}}, {"dense": {"width": 1}}]}
    params = [{"weight": [["1/100"]] * 10000}, {"weight": [["1/100"] * 10000]}]
    accepted(cert("kkt_point", arch, [(["1"], 1)], params, {"multipliers": ["1"]}))
    refused(cert("kkt_point", arch, [(["1"], 1)], params, {"multipliers": ["1"]}), "units", {"units": 9999})


def kinky(units, points):
    """``units`` relu units on their kink at every point plus one unit with z = 1.

    Φ = relu(x0) + Σ_j v_j relu(x1), θ = (W1 rows (1, 0), (0, 1)×units | W2 = 1...1), x = (1, 0):
    Φ = 1, every point is active. Every Clarke column has W2-entry relu(z_1) = 0 at the first kink
    unit while θ has v_1 = 1, so y = -e_{v_1} gives y·θ = -1 < 0 and y·c = 0 for every vertex:
    θ is not a KKT point (a true refutation, which needs every vertex column).
    """
    arch = {"input": [2], "layers": [{"dense": {"width": units + 1, "activation": "relu"}}, {"dense": {"width": 1}}]}
    params = [{"weight": [["1", "0"]] + [["0", "1"]] * units}, {"weight": [["1"] * (units + 1)]}]
    farkas = ["0"] * (2 * (units + 1)) + ["0", "-1"] + ["0"] * (units - 1)
    return cert("not_kkt_point", arch, [(["1", "0"], 1)] * points, params,
                {"reason": "stationarity", "farkas": farkas}, "chain_rule_hull")


def test_sixteen_kinks_on_64_points():
    v = refused(kinky(16, 64), "vertices")
    assert "4194304 > 4096" in v.reason                 # 64 · 2^16, the total over all points


def test_vertices_up_to_the_limit_are_enumerated():
    assert "all 4096 vertex Clarke columns of 2 active points" in accepted(kinky(11, 2)).reason
    assert "all 4096 vertex Clarke columns of 1 active points" in accepted(kinky(12, 1)).reason
    refused(kinky(12, 2), "vertices")                   # 8192
    refused(kinky(11, 2), "vertices", {"vertices": 4095})


def test_margin_within_10_to_the_minus_2000_of_an_algebraic_number():
    """(√2 - 1)^n ≈ 2.414^-n: θ = 1 + (√2 - 1)^n makes the margin exceed 1 by that much."""
    field = {"minpoly": ["-2", "0", "1"], "interval": ["1", "2"],
             "radicals": [{"base": ["2"], "index": 2, "root": ["0", "1"]}]}
    hostile = linear(weight="1 + (sqrt(2) - 1)^5300", field=field)      # ≈ 1 + 10^-2028
    assert len(json.dumps(hostile)) < 700
    refused(hostile, "digits")                                           # coordinates of ~2000 digits
    v = refused(hostile, "precision", {"digits": 3000})                 # the sign needs ~13500 bits
    assert "halvings of the isolating interval" in v.reason
    # 2500: a margin 1 + 10^-957; the sign needs ~6400 bits > 4000
    refused(linear(weight="1 + (sqrt(2) - 1)^2500", field=field), "precision")
    # (√2 - 1)^200 ≈ 10^-77 is decided (the point is inactive, so λ = 1 is wrong: a real answer)
    v = timed(linear(weight="1 + (sqrt(2) - 1)^200", field=field))
    assert not v.valid and "inactive" in v.reason
    v = timed(linear(weight="1 - (sqrt(2) - 1)^200", field=field))
    assert not v.valid and "violates" in v.reason


def test_operations_budget():
    # 1000 hidden units, 600 points: 2·600·2000 = 2.4·10^6 estimated operations for the forward passes
    arch = {"input": [1], "layers": [{"dense": {"width": 1000, "activation": "relu"}}, {"dense": {"width": 1}}]}
    params = [{"weight": [["1"]] * 1000}, {"weight": [["1"] * 1000]}]
    c = cert("kkt_point", arch, [(["1"], 1)] * 600, params, {"multipliers": ["0"] * 600})
    v = refused(c, "operations")
    assert "forward passes (estimated)" in v.reason


# ------------------------------------------------------------------ files

def test_non_regular_files_never_block(tmp_path):
    fifo = tmp_path / "cert.fifo"
    os.mkfifo(fifo)
    result = {}

    def read(path):
        try:
            check_file(path)
        except CertificateUnreadable as e:
            result[path] = str(e)

    for path in (str(fifo), "/dev/zero", str(tmp_path)):
        t = threading.Thread(target=read, args=(path,), daemon=True)
        t.start()
        t.join(SECONDS)
        assert not t.is_alive(), f"check_file({path}) blocked"
        assert result[path] == "not a regular file"


def test_input_bytes(tmp_path):
    path = tmp_path / "big.json"
    c = linear()
    text = json.dumps(c)
    path.write_text(text)
    assert check_file(path).valid
    v = check_file(path, {"input_bytes": len(text) - 1})
    assert not v.valid and v.reason == (f"limit exceeded: certificate size {len(text)} bytes > {len(text) - 1} "
                                        "(raise with --limit input_bytes=N)")
    assert check_file(path, {"input_bytes": len(text)}).valid
    big = tmp_path / "huge.json"
    big.write_bytes(b"[" + b"0," * (DEFAULTS["input_bytes"] // 2) + b"0]")
    start = time.monotonic()
    v = check_file(big)
    assert not v.valid and "input_bytes" in v.reason and time.monotonic() - start < SECONDS


def test_deep_nesting(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    v = check_file(path)
    assert not v.valid and v.reason.startswith("limit exceeded: nesting depth of the certificate 100000 > 32")
    c = linear()
    c["witness"]["multipliers"] = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["1"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    c["digest"] = certificate_digest(c)
    refused(c, "nesting")
    refused(linear(weight="(" * 40 + "1" + ")" * 40), "nesting")
    refused(linear(weight="-" * 40 + "1"), "nesting")
    refused(linear(weight="2^" * 40 + "1"), "nesting")
    accepted(linear(weight="(" * 10 + "1" + ")" * 10))


def test_duplicate_keys_are_unreadable(tmp_path):
    path = tmp_path / "dup.json"
    text = json.dumps(linear())
    path.write_text(text.replace('"symkkt_certificate": 1', '"symkkt_certificate": 1, "symkkt_certificate": 1'))
    with pytest.raises(CertificateUnreadable, match="duplicate key 'symkkt_certificate'"):
        check_file(path)
    nested = text.replace('"multipliers": ["1"]', '"multipliers": ["2"], "multipliers": ["1"]')
    assert nested != text
    path.write_text(nested)
    with pytest.raises(CertificateUnreadable, match="duplicate key 'multipliers'"):
        check_file(path)


# ------------------------------------------------------------------ API and command line

def test_limits_api():
    with pytest.raises(ValueError, match=r"unknown limit 'unit' \(known: .*units.*\)"):
        check_certificate(linear(), {"unit": 3})
    with pytest.raises(ValueError, match="non-negative integer"):
        Limits({"units": -1})
    assert check_certificate(linear(), {"units": 1}).valid
    lim = Limits({"operations": 10})
    lim.spend(10)
    with pytest.raises(Invalid, match=r"limit exceeded: arithmetic operations 11 > 10"):
        lim.spend(1)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "symkkt.kernel", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_limit_flag(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(linear()))
    r = run_cli("--limit", "units=0", path)
    assert r.returncode == 1 and "limit exceeded: units of architecture.input 1 > 0" in r.stdout
    r = run_cli("--limit", "units=0", "--limit", "units=1", path)         # later pairs win
    assert r.returncode == 0
    r = run_cli("--limit=units=1", path)
    assert r.returncode == 0
    for bad in ("unit=1", "units", "units=-1", "units=x"):
        r = run_cli("--limit", bad, path)
        assert r.returncode == 2 and not r.stdout and "Traceback" not in r.stderr
    assert "known: " in run_cli("--limit", "unit=1", path).stderr


def test_refining_a_high_degree_generator_is_charged():
    """θ = 1 + α - c with α = 2^(1/n) and c = α rounded down to 998 decimals: the margin exceeds 1
    by less than 10^-998, and deciding that needs ~3300 bits of α. At degree 16 this is decided
    (point inactive); at degree 32 each halving is dearer and the operations budget stops it."""
    from math import isqrt

    def case(n):
        c = 2 * 10 ** (998 * n)
        for _ in range(n.bit_length() - 1):                 # n = 2^k: k square roots, rounded down
            c = isqrt(c)
        field = {"minpoly": ["-2"] + ["0"] * (n - 1) + ["1"], "interval": ["1", "2"],
                 "radicals": [{"base": ["2"], "index": n, "root": ["0", "1"]}]}
        return linear(weight=f"1 + 2^(1/{n}) - {c}/1{'0' * 998}", field=field)

    v = timed(case(16))
    assert not v.valid and "inactive" in v.reason
    v = refused(case(32), "operations")
    assert "refine α" in v.reason
