import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "cases")


@pytest.fixture
def shared_cases():
    if not os.path.isdir(SHARED):
        pytest.skip("../shared/cases is not beside the checkout")
    return SHARED
