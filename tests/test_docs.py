"""The documentation a clone ships: links resolve, and nothing points at files a clone lacks.

- Every relative link in ``README.md``, ``docs/*.md`` and the other READMEs names a file of the
  checkout, and a ``#fragment`` names a heading of that file (GitHub's heading slugs).
- No file tracked by git mentions design notes that are not part of the repository.
- Every paper label the README uses is defined in ``docs/references.md``.

Each checker is also run on a small text with a known defect (negative controls).
"""
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
PAGES = (["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(DOCS) if f.endswith(".md"))
         + ["proofs/README.md", "examples/README.md", "examples/flow/README.md", "examples/flow/toy2d/README.md",
            "examples/trained/README.md"])

# Names of notes that are not in the repository (written split so this file does not match itself).
UNSHIPPED = ["THEORY" + ".md", "CONTRACT" + ".md", "ARCHITECTURE" + ".md", "shared" + "/", "THEORY" + " §",
             "CONTRACT" + " §"]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as fh:
        return fh.read()


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text):
    return {slug(h) for h in _HEADING.findall(_FENCE.sub("", text))}


def links(text):
    """Relative link targets of a Markdown text (code spans and fenced blocks are not links)."""
    prose = _CODE.sub("", _FENCE.sub("", text))
    return [t for t in _LINK.findall(prose) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def broken_links(page, text):
    """``(target, problem)`` for every relative link of ``page`` (a path relative to ROOT) that fails."""
    bad = []
    for target in links(text):
        path, _, fragment = target.partition("#")
        full = os.path.normpath(os.path.join(ROOT, os.path.dirname(page), path)) if path else \
            os.path.join(ROOT, page)
        if not os.path.exists(full):
            bad.append((target, "no such file"))
        elif fragment and full.endswith(".md") and fragment not in anchors(read(os.path.relpath(full, ROOT))):
            bad.append((target, "no such heading"))
    return bad


def mentions(text):
    return [name for name in UNSHIPPED if name in text]


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page):
    assert broken_links(page, read(page)) == []


def test_docs_pages_exist_and_are_linked_from_the_readme():
    targets = set(links(read("README.md")))
    for name in ("mathematics.md", "formats.md", "references.md"):
        assert os.path.isfile(os.path.join(DOCS, name))
        assert f"docs/{name}" in targets


def test_link_checker_rejects_broken_links():
    text = ("[ok](docs/formats.md) [gone](docs/nowhere.md) [bad anchor](docs/formats.md#no-such-part) "
            "[good anchor](docs/formats.md#6-resource-limits) [web](https://arxiv.org/abs/2505.12419) "
            "`[code](not/a/link.md)`")
    assert links(text) == ["docs/formats.md", "docs/nowhere.md", "docs/formats.md#no-such-part",
                           "docs/formats.md#6-resource-limits"]
    assert broken_links("README.md", text) == [("docs/nowhere.md", "no such file"),
                                               ("docs/formats.md#no-such-part", "no such heading")]


def test_slug_follows_github():
    assert slug("6. Critical embeddings and the Hessian [B]") == "6-critical-embeddings-and-the-hessian-b"
    assert slug("Resource limits") == "resource-limits"


def tracked_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [f for f in out.decode().split("\0") if f]


def test_no_tracked_file_mentions_unshipped_notes():
    offenders = {}
    for rel in tracked_files():
        if not os.path.isfile(os.path.join(ROOT, rel)):
            continue
        with open(os.path.join(ROOT, rel), "rb") as fh:
            found = mentions(fh.read().decode("utf-8", errors="ignore"))
        if found:
            offenders[rel] = found
    assert offenders == {}


def test_mention_scanner_finds_a_mention():
    assert mentions("see " + UNSHIPPED[0] + " section 4") == [UNSHIPPED[0]]
    assert mentions("see docs/mathematics.md section 7") == []


def test_paper_labels_are_defined_in_references():
    refs = read(os.path.join("docs", "references.md"))
    used = set(re.findall(r"\[(A|B|K|V|BEG)\]", read("README.md") + read(os.path.join("docs", "mathematics.md"))))
    assert used >= {"A", "B"}
    assert all(f"**[{label}]**" in refs for label in used)
    for arxiv in ("2505.12419", "2105.14573", "2111.15527", "1906.05890"):
        assert arxiv in refs
