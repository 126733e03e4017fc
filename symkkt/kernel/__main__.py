"""``python -m symkkt.kernel CERT...``: re-check certificate files with the kernel alone.

Prints one line per file: ``path: valid (kind)``, ``path: INVALID: reason`` or
``path: UNREADABLE: message``. Exit status 0 if all are valid, 1 if any is invalid,
2 if any is unreadable (or on a usage error).
"""
import sys

from . import CertificateUnreadable, check_file

USAGE = "usage: python -m symkkt.kernel CERT.json [CERT.json ...]"


def main(argv=None):
    paths = sys.argv[1:] if argv is None else list(argv)
    if not paths or any(p in ("-h", "--help") for p in paths):
        print(USAGE, file=sys.stdout if paths else sys.stderr)
        return 0 if paths else 2
    status = 0
    for path in paths:
        try:
            v = check_file(path)
        except CertificateUnreadable as e:
            print(f"{path}: UNREADABLE: {e}")
            status = 2
            continue
        if v.valid:
            print(f"{path}: valid ({v.claim})")
        else:
            print(f"{path}: INVALID: {v.reason}")
            status = max(status, 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
