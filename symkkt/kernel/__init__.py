"""The trusted certificate kernel of symkkt: an independent exact re-check of certificates.

A certificate is one JSON object with the fields ``symkkt_certificate`` (must be 1), ``claim``
(``kind`` and a statement), ``architecture``, ``data``, ``parameters``, ``witness``, ``digest`` and
``provenance`` (optional, ignored). The kernel checks the digest (:func:`certificate_digest`), builds
the number field of ``witness.field`` and parses every number with its own grammar (:mod:`.field`,
:mod:`.exact`), compiles the architecture and runs forward pass and backprop exactly
(:mod:`.network`), and re-decides the claim from these recomputed quantities (:mod:`.claims`).

Claim kinds: ``kkt_point``, ``kkt_direction``, ``not_kkt_point``, ``not_kkt_direction``
(:mod:`.claims`); ``split_embedding``, ``critical_embedding``, ``not_output_preserved``, whose
split map T is rebuilt from the witness' steps (:mod:`.splits`). The two embedding claims hold
for every θ and x and carry ``data = {"points": []}`` and ``parameters = []``.

Trusted: the Python standard library (``fractions``, ``json``, ``hashlib``, ``re``, ``itertools``,
``math``) and this package. Nothing else of symkkt is imported and no stored result (margins,
signs, gradients, verdicts) is believed.

Examples
--------
>>> cert = {"symkkt_certificate": 1, "claim": {"kind": "kkt_point"},
...         "architecture": {"input": [1], "layers": [{"dense": {"width": 1}}]},
...         "data": {"points": [{"x": ["1"], "y": 1}]}, "parameters": [{"weight": [["1"]]}],
...         "witness": {"multipliers": ["1"]}}
>>> cert["digest"] = certificate_digest(cert)
>>> v = check_certificate(cert)
>>> v.valid, v.claim
(True, 'kkt_point')
>>> cert["witness"]["multipliers"] = ["2"]
>>> check_certificate(cert).reason
'digest does not match the certificate contents'
>>> check_certificate(dict(cert, digest=certificate_digest(cert))).reason.split(":")[0]
'stationarity fails at parameter 0'
"""
import hashlib
import json
from dataclasses import dataclass

from .claims import check_claim
from .field import Invalid

__all__ = ["Verdict", "CertificateUnreadable", "check_certificate", "check_file", "certificate_digest"]

FIELDS = {"symkkt_certificate": int, "claim": dict, "architecture": dict, "data": dict,
          "parameters": list, "witness": dict, "digest": str}


@dataclass(frozen=True)
class Verdict:
    """Outcome of a check: ``valid``, a one-line ``reason`` and the claim ``kind``."""
    valid: bool
    reason: str
    claim: str


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


def check_certificate(obj):
    """Re-check a certificate (a dict) from scratch; returns a :class:`Verdict`.

    Raises :class:`CertificateUnreadable` only when ``obj`` lacks the top-level structure of a
    certificate; every other defect (bad digest, malformed witness, false claim) is an invalid
    verdict with the reason.
    """
    _structure(obj)
    kind = obj["claim"]["kind"]
    try:
        if obj["symkkt_certificate"] != 1:
            raise Invalid(f"unsupported certificate version {obj['symkkt_certificate']}")
        if certificate_digest(obj) != obj["digest"]:
            raise Invalid("digest does not match the certificate contents")
        return Verdict(True, check_claim(obj), kind)
    except Invalid as e:
        return Verdict(False, str(e), kind)
    except Exception as e:      # a malformed certificate must never become a traceback
        return Verdict(False, f"malformed certificate ({type(e).__name__}: {e})", kind)


def check_file(path):
    """Read a JSON certificate file and check it (see :func:`check_certificate`)."""
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise CertificateUnreadable(f"cannot read JSON: {e}") from None
    return check_certificate(obj)
