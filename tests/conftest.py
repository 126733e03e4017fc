import copy
import os
import re

import pytest
import yaml
from hypothesis import settings

from symkkt.cli import main

# CI runs are reproducible (a fixed example sequence); local runs keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE1 = os.path.join(ROOT, "symkkt", "examples", "example1")
CASES = os.path.join(ROOT, "tests", "cases")


@pytest.fixture
def example1_expected():
    """The hand-derived answers for example1 (docs/mathematics.md §8): ``tests/cases/example1_expected.yaml``."""
    with open(os.path.join(CASES, "example1_expected.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def call(capsys, *args):
    """``symkkt.cli.main(ARGS)`` in-process: (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def tampered(cert, edit):
    """A copy of a certificate with ``edit(copy)`` applied and the digest recomputed (so only the
    mathematics can reject it)."""
    from symkkt.kernel import certificate_digest

    cert = copy.deepcopy(cert)
    edit(cert)
    cert["digest"] = certificate_digest(cert)
    return cert


def assert_valid(cert, pattern=""):
    """The kernel accepts ``cert`` with a reason matching ``pattern``; returns the verdict."""
    from symkkt.kernel import check_certificate

    v = check_certificate(cert)
    assert v.valid, v.reason
    assert re.search(pattern, v.reason), v.reason
    return v


def assert_invalid(cert, pattern=""):
    """The kernel rejects ``cert`` with a reason matching ``pattern``; returns the verdict."""
    from symkkt.kernel import check_certificate

    v = check_certificate(cert)
    assert not v.valid, "false claim accepted: " + v.reason
    assert re.search(pattern, v.reason), v.reason
    return v
