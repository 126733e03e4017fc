"""``python -m symkkt.kernel [--limit NAME=VALUE ...] CERT...``: re-check certificate files with the kernel alone.

Prints one line per file: ``path: valid (kind): reason``, ``path: INVALID: reason`` or
``path: UNREADABLE: message``. Exit status 0 if all are valid, 1 if any is invalid,
2 if any is unreadable (or on a usage error). ``--limit NAME=VALUE`` (repeatable) raises or
lowers one resource limit of :mod:`symkkt.kernel.limits`.
"""
import sys

from . import CertificateUnreadable, check_file
from .limits import DEFAULTS, Limits

USAGE = ("usage: python -m symkkt.kernel [--limit NAME=VALUE ...] CERT.json [CERT.json ...]\n"
         "limits (default): " + ", ".join(f"{k}={v}" for k, v in DEFAULTS.items()))


def parse_args(argv):
    """(paths, limits) from the command line; raises ValueError with a usage message."""
    paths, limits, args = [], {}, list(argv)
    while args:
        a = args.pop(0)
        if a == "--limit" or a.startswith("--limit="):
            text = a[len("--limit="):] if a.startswith("--limit=") else (args.pop(0) if args else "")
            name, eq, value = text.partition("=")
            if not eq or not value.strip().isdigit() or not value.strip().isascii():
                raise ValueError(f"--limit needs NAME=VALUE with a non-negative integer VALUE, got {text!r}")
            limits[name.strip()] = int(value)
        elif a.startswith("-") and a != "-":
            raise ValueError(f"unknown option {a!r}")
        else:
            paths.append(a)
    Limits(limits)                              # unknown names: ValueError naming the known ones
    if not paths:
        raise ValueError("no certificate given")
    return paths, limits


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    try:
        paths, limits = parse_args(argv)
    except ValueError as e:
        print(f"{e}\n{USAGE}", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        try:
            v = check_file(path, limits)
        except CertificateUnreadable as e:
            print(f"{path}: UNREADABLE: {e}")
            status = 2
            continue
        if v.valid:
            print(f"{path}: valid ({v.claim}): {v.reason}")
        else:
            print(f"{path}: INVALID: {v.reason}")
            status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
