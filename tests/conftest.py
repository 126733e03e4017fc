import os

import pytest

from symkkt.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "cases")


@pytest.fixture
def shared_cases():
    if not os.path.isdir(SHARED):
        pytest.skip("../shared/cases is not beside the checkout")
    return SHARED


def call(capsys, *args):
    """``symkkt.cli.main(ARGS)`` in-process: (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err
