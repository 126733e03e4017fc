"""The trusted certificate kernel of symkkt: an independent exact re-check of certificates.

A certificate is one JSON object with the fields ``symkkt_certificate`` (must be 1), ``claim``
(``kind`` and, for the KKT kinds, ``clarke_set``; an optional ``statement`` must be the canonical
one, :func:`statement`), ``architecture``, ``data``, ``parameters``, ``witness``, ``digest`` and
``provenance`` (optional, ignored); any other key anywhere is refused. The kernel checks the digest
(:func:`certificate_digest`), builds the number field of ``witness.field`` and parses every number
with its own grammar (:mod:`.field`, :mod:`.exact`), compiles the architecture and runs forward
pass, backprop and forward-mode derivatives exactly (:mod:`.network`), and re-decides the claim
from these recomputed quantities (:mod:`.claims`).

Claim kinds: ``kkt_point``, ``kkt_direction``, ``not_kkt_point``, ``not_kkt_direction``
(:mod:`.claims`, each for a Clarke set ``gradient``, ``clarke`` or ``chain_rule_hull`` named in
the verdict); ``split_embedding``, ``critical_embedding``, ``not_output_preserved``, whose split
map T is rebuilt from the witness' steps (:mod:`.splits`). The two embedding claims hold for
every θ and x and carry ``data = {"points": []}`` and ``parameters = []``; ``kkt_point_nearby``:
a KKT point lies in the witness' box around θ, proved by the Krawczyk test in rational interval
arithmetic with the activation pattern and the active set checked on the box (:mod:`.nearby`);
``same_realization``, ``different_realization``, ``realization_distance``: two one-hidden-layer
ReLU nets R_A (``architecture``, ``parameters``) and R_B (``witness.architecture_b``,
``witness.parameters_b``) on the box ``data.domain`` have equal canonical forms, differ at the
witness point, or have the stated exact L^∞ and W^{1,∞} distances (d <= 2) (:mod:`.realize`).

Resource limits (:mod:`.limits`; override with ``limits={name: int}`` or ``--limit NAME=N``).
Each is checked before the work it bounds; exceeding one is an invalid verdict
``limit exceeded: ... (raise with --limit NAME=N)``:

==============  =========  ===================================================================
name            default    bounds
==============  =========  ===================================================================
input_bytes     1048576    size of a certificate file (checked before reading; FIFOs, devices
                           and directories are refused without reading)
nesting         32         depth of JSON arrays/objects; depth of a number expression
field_degree    32         degree of ``witness.field.minpoly`` (and of any field element given)
digits          1000       decimal digits of any integer in a number, and of every exact result
                           (powers and inverses are estimated before they are computed)
parameters      100000     entries of θ of one network
units           10000      size of the input and of the output of every layer
connections     250000     multiply-adds of one forward pass of one network
points          10000      data points
power           64         power p of ``poly_relu`` / ``poly_leaky_relu``
coefficients    64         coefficients of a ``polynomial`` activation
vertices        4096       vertex Clarke columns of a refutation, over all active points together;
                           for ``realization_distance`` the breakpoints (d = 1) or the pairs of
                           lines, box edges included (d = 2), before they are enumerated
precision       4000       halvings of the field's isolating interval (bits of α) spent on deciding
                           signs; a number within about 2^-4000 of zero stops here
operations      1000000    coefficient operations of exact arithmetic in one check (estimated
                           before each batch of passes, and counted as they run)
==============  =========  ===================================================================

With these defaults any certificate is answered within seconds.

Trusted: the Python standard library (``fractions``, ``json``, ``hashlib``, ``re``, ``itertools``,
``functools``, ``math``, ``os``, ``stat``) and this package. Nothing else of symkkt is imported
and no stored result (margins, signs, gradients, verdicts) is believed.

Examples
--------
>>> cert = {"symkkt_certificate": 1, "claim": {"kind": "kkt_point", "clarke_set": "gradient"},
...         "architecture": {"input": [1], "layers": [{"dense": {"width": 1}}]},
...         "data": {"points": [{"x": ["1"], "y": 1}]}, "parameters": [{"weight": [["1"]]}],
...         "witness": {"multipliers": ["1"]}}
>>> cert["digest"] = certificate_digest(cert)
>>> v = check_certificate(cert)
>>> v.valid, v.claim
(True, 'kkt_point')
>>> v.reason.split("(Clarke set: ")[1]
'gradient — no point with a non-zero multiplier sits on a kink)'
>>> cert["witness"]["multipliers"] = ["2"]
>>> check_certificate(cert).reason
'digest does not match the certificate contents'
>>> cert["digest"] = certificate_digest(cert)
>>> check_certificate(cert).reason.split(":")[0]
'stationarity fails at parameter 0'
>>> check_certificate(cert, limits={"units": 0}).reason
'limit exceeded: units of architecture.input 1 > 0 (raise with --limit units=N)'
"""
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass

from .claims import check_claim, statement
from .field import Invalid
from .limits import DEFAULTS, Limits

__all__ = ["Verdict", "CertificateUnreadable", "check_certificate", "check_file", "certificate_digest",
           "statement", "DEFAULTS"]

FIELDS = {"symkkt_certificate": int, "claim": dict, "architecture": dict, "data": dict,
          "parameters": list, "witness": dict, "digest": str}
OPTIONAL = {"provenance"}


@dataclass(frozen=True)
class Verdict:
    """Outcome of a check: ``valid``, a one-line ``reason``, the claim ``kind`` and, for a valid
    KKT claim, the Clarke set it was checked for (``gradient``, ``clarke`` or ``chain_rule_hull``)."""
    valid: bool
    reason: str
    claim: str
    clarke_set: str | None = None


class CertificateUnreadable(Exception):
    """The file is not a certificate at all (unreadable, not JSON, missing or mistyped fields)."""


def certificate_digest(obj):
    """sha256 hex of the canonical JSON of ``obj`` without the keys ``digest`` and ``provenance``."""
    c = {k: v for k, v in obj.items() if k not in ("digest", "provenance")}
    text = json.dumps(c, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _structure(obj):
    if not isinstance(obj, dict):
        raise CertificateUnreadable("not a JSON object")
    for key, typ in FIELDS.items():
        if key not in obj:
            raise CertificateUnreadable(f"missing top-level field {key!r}")
        if not isinstance(obj[key], typ) or isinstance(obj[key], bool):
            raise CertificateUnreadable(f"top-level field {key!r} must be a JSON {typ.__name__}")
    if not isinstance(obj["claim"].get("kind"), str):
        raise CertificateUnreadable("claim.kind must be a string")


def _depth(obj, limits):
    """Check the nesting depth of lists and dicts (iteratively: no recursion on untrusted data)."""
    stack = [(obj, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (list, dict)):
            limits.check("nesting", d, "nesting depth of the certificate")
            stack.extend((c, d + 1) for c in (v.values() if isinstance(v, dict) else v))


def check_certificate(obj, limits=None):
    """Re-check a certificate (a dict) from scratch; returns a :class:`Verdict`.

    ``limits``: a dict {name: int} overriding :data:`DEFAULTS` (an unknown name is a
    ``ValueError`` naming the known ones). Raises :class:`CertificateUnreadable` only when ``obj``
    lacks the top-level structure of a certificate; every other defect (bad digest, malformed
    witness, false claim, exceeded limit) is an invalid verdict with the reason.
    """
    limits = Limits(limits)
    _structure(obj)
    kind = obj["claim"]["kind"]
    try:
        _depth(obj, limits)
        extra = set(obj) - set(FIELDS) - OPTIONAL
        if extra:
            raise Invalid(f"unknown top-level key(s) {sorted(extra)}")
        if obj["symkkt_certificate"] != 1:
            raise Invalid(f"unsupported certificate version {obj['symkkt_certificate']}")
        if certificate_digest(obj) != obj["digest"]:
            raise Invalid("digest does not match the certificate contents")
        reason = check_claim(obj, limits)
        return Verdict(True, reason, kind, obj["claim"].get("clarke_set"))
    except Invalid as e:
        return Verdict(False, str(e), kind)
    except RecursionError:
        return Verdict(False, "malformed certificate (nested too deeply)", kind)
    except Exception as e:      # a malformed certificate must never become a traceback
        return Verdict(False, f"malformed certificate ({type(e).__name__}: {str(e)[:200]})", kind)


def _read(path, limit):
    """(bytes, size) of a regular file, bytes None if it has more than ``limit``; never blocks on a
    FIFO or a device (opened non-blocking, refused by its type before any read)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise CertificateUnreadable(f"cannot open: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CertificateUnreadable("not a regular file")
        if st.st_size > limit:
            return None, st.st_size
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
        return (data, len(data)) if len(data) <= limit else (None, len(data))
    except OSError as e:
        raise CertificateUnreadable(f"cannot read: {e.strerror or e}") from None
    finally:
        os.close(fd)


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _text_depth(data):
    """Maximum nesting of [ and { in JSON text (strings skipped), without parsing it."""
    depth = top = 0
    for c in re.sub(_STRINGS, b"", data).translate(None, b" \t\r\n,:0123456789.-+eE"):
        if c in b"[{":
            depth += 1
            top = max(top, depth)
        elif c in b"]}":
            depth -= 1
    return top


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise CertificateUnreadable(f"duplicate key {k!r} in a JSON object")
        obj[k] = v
    return obj


def check_file(path, limits=None):
    """Read a JSON certificate file and check it (see :func:`check_certificate`).

    The file must be a regular file of at most ``input_bytes`` bytes (checked before reading it)
    whose JSON nests at most ``nesting`` deep (checked before parsing it) and has no duplicate
    key in any object.
    """
    lim = Limits(limits)
    data, size = _read(path, lim["input_bytes"])
    if data is None:
        return Verdict(False, f"limit exceeded: certificate size {size} bytes > {lim['input_bytes']} "
                              "(raise with --limit input_bytes=N)", "unknown")
    depth = _text_depth(data)
    if depth > lim["nesting"]:
        return Verdict(False, f"limit exceeded: nesting depth of the certificate {depth} > {lim['nesting']} "
                              "(raise with --limit nesting=N)", "unknown")
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CertificateUnreadable(f"cannot read JSON: {e}") from None
    return check_certificate(obj, lim.values)
