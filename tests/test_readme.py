"""Every Python example of README.md runs as shown.

Each fenced ```python or ```pycon block of README.md that contains ``>>>`` is one doctest, run on
its own (fresh globals, from the repository root, so that relative paths such as
``symkkt/examples/...`` resolve). Blocks without ``>>>`` are not executed. The extractor and the
runner are also tried on small texts with a known defect (negative controls).
"""
import doctest
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")

_BLOCK = re.compile(r"^```(python|pycon)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def doctest_blocks(text):
    """``(line number, source)`` of each ```python / ```pycon block containing ``>>>``."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(2))
            for m in _BLOCK.finditer(text) if ">>>" in m.group(2)]


def run_block(source, name):
    """Run one block as a doctest from the repository root; ``(failed, attempted, report)``."""
    test = doctest.DocTestParser().get_doctest(source, {"__name__": "__readme__"}, name, README, 0)
    lines = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = runner.run(test, out=lines.append, clear_globs=True)
    finally:
        os.chdir(cwd)
    return result.failed, result.attempted, "".join(lines)


def _readme():
    with open(README, encoding="utf-8") as fh:
        return fh.read()


BLOCKS = doctest_blocks(_readme())


@pytest.mark.parametrize("line,source", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_block_runs(line, source):
    failed, attempted, report = run_block(source, f"README.md:{line}")
    assert attempted > 0
    assert failed == 0, report


def test_python_api_section_has_doctests():
    text = _readme()
    start = text.index("\n## Python API")
    end = text.find("\n## ", start + 1)
    section = text[start:end if end != -1 else len(text)]
    assert len(doctest_blocks(section)) >= 3


def test_extractor_picks_only_python_blocks_with_prompts():
    text = ("intro\n```pycon\n>>> 1 + 1\n2\n```\n"
            "```python\nx = 1  # no prompt: not run\n```\n"
            "```bash\n>>> not python\n```\n"
            "```python\n>>> print('a')\na\n```\n")
    assert doctest_blocks(text) == [(2, ">>> 1 + 1\n2\n"), (12, ">>> print('a')\na\n")]


def test_runner_reports_a_wrong_output():
    failed, attempted, report = run_block(">>> 2 ** 10\n1000\n", "control")
    assert (failed, attempted) == (1, 1)
    assert "1024" in report


def test_runner_runs_from_the_repository_root_with_fresh_globals():
    failed, attempted, _ = run_block(">>> import os\n>>> os.path.isfile('symkkt/examples/svm/arch.yaml')\nTrue\n"
                                     ">>> y = 1\n", "a")
    assert (failed, attempted) == (0, 3)
    failed, attempted, _ = run_block(">>> y\n1\n", "b")
    assert (failed, attempted) == (1, 1)
