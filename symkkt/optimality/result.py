"""Result types of ``symkkt optimality``: one :class:`Property` per question, one
:class:`OptimalityResult` per parameter point.

The three questions about a parameter point θ of P_Φ (minimise ½‖θ‖² subject to
q_k(θ) = y_k Φ(θ; x_k) ≥ 1) are asked in order of strength:

- ``kkt``: is θ a (Clarke) KKT point? Necessary for the other two (MFCQ holds at every feasible
  point of a homogeneous net, take the direction θ itself);
- ``local``: is θ a local optimum (no shorter feasible point near θ)?
- ``global``: is θ a global optimum?

Each answer is ``holds``, ``refuted`` or ``inconclusive`` with the method used, a reason, a
JSON-ready witness (numbers as exact strings) and, where one exists, a kernel certificate.
The result's own ``verdict`` is the answer to *the claim*: "θ is a local optimum" by default,
"θ is a global optimum" with ``global_claim=True``.

Examples
--------
>>> p = Property("holds", "second-order sufficient condition", "the Hessian is positive definite", {},
...              strict=True)
>>> p.to_json()["strict"], p.exit_code
(True, 0)
>>> r = OptimalityResult({"kkt": Property("holds", "KKT decision", "θ is a KKT point", {}),
...                       "local": p,
...                       "global": Property("inconclusive", "none", "not decided", {})})
>>> r.verdict, r.exit_code, r.claim
('holds', 0, 'local')
>>> OptimalityResult(r.properties, global_claim=True).verdict
'inconclusive'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import VERDICT_EXIT as EXIT_CODES
#: the three properties, weakest first
NAMES = ("kkt", "local", "global")
#: what each property claims, in words
STATEMENTS = {"kkt": "θ is a KKT point of P_Φ",
              "local": "θ is a local optimum of P_Φ",
              "global": "θ is a global optimum of P_Φ"}


@dataclass
class Property:
    """One decided property (``kkt``, ``local`` or ``global``) of θ.

    Attributes
    ----------
    verdict : str
        ``"holds"``, ``"refuted"`` or ``"inconclusive"``.
    method : str
        How it was decided, e.g. ``"zero-unit curve"``, ``"second-order sufficient condition"``,
        ``"group lasso"``, ``"deep linear SVM"``, ``"dual bound S(lambda)"``,
        ``"shorter feasible point"``, ``"improving curve"``.
    reason : str
        One sentence; for ``inconclusive`` it says what was tried.
    witness : dict
        JSON-ready, numbers as exact strings.
    strict : bool or None
        For a local optimum: strict (no other feasible point of the same norm nearby) or not;
        ``None`` when not decided or not applicable.
    certificate : dict or None
        A kernel certificate of this property, when one exists.
    """

    verdict: str
    method: str
    reason: str
    witness: dict = field(default_factory=dict)
    strict: bool | None = None
    certificate: dict | None = None

    def __post_init__(self):
        if self.verdict not in EXIT_CODES:
            raise ValueError(f"verdict must be one of {sorted(EXIT_CODES)}, got {self.verdict!r}")

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    def to_json(self):
        """``{verdict, method, reason, witness[, strict][, certificate: True]}`` (JSON-ready)."""
        out = {"verdict": self.verdict, "method": self.method, "reason": self.reason,
               "witness": self.witness}
        if self.strict is not None:
            out["strict"] = self.strict
        if self.certificate is not None:
            out["certified"] = True
        return out

    def line(self, name):
        """One text line: ``local   refuted  (zero-unit curve) reason``."""
        strict = {True: ", strict", False: ", not strict"}.get(self.strict, "")
        return f"  {name:<7} {self.verdict:<12} ({self.method}{strict}) {self.reason}"


@dataclass
class OptimalityResult:
    """The answers about one θ, and the verdict of the claim (local, or global).

    Parameters
    ----------
    properties : dict
        ``{"kkt": Property, "local": Property, "global": Property}``.
    global_claim : bool
        The claim is "θ is a global optimum" (else "θ is a local optimum").
    figures : dict
        Extra exact figures for the report (margins, ‖θ‖², multipliers, ...), JSON-ready.
    """

    properties: dict
    global_claim: bool = False
    figures: dict = field(default_factory=dict)

    def __post_init__(self):
        missing = [n for n in NAMES if n not in self.properties]
        if missing:
            raise ValueError(f"missing properties {missing}")

    @property
    def claim(self):
        return "global" if self.global_claim else "local"

    @property
    def claimed(self):
        """The property the verdict is about."""
        return self.properties[self.claim]

    @property
    def verdict(self):
        return self.claimed.verdict

    @property
    def reason(self):
        p = self.claimed
        return f"{STATEMENTS[self.claim]}: {p.verdict} ({p.method}) — {p.reason}"

    @property
    def exit_code(self):
        return EXIT_CODES[self.verdict]

    def certificate(self):
        """The kernel certificate of the claimed property, or ``None``."""
        return self.claimed.certificate

    def to_json(self):
        out = {"verdict": self.verdict, "reason": self.reason, "claim": f"{self.claim}_optimum",
               "tier": "exact",
               "properties": {n: self.properties[n].to_json() for n in NAMES}}
        out.update(self.figures)
        return out

    def __repr__(self):
        lines = [f"OptimalityResult({self.claim}_optimum: {self.verdict} — {self.reason})"]
        lines += [self.properties[n].line(n) for n in NAMES]
        for key, value in self.figures.items():
            lines.append(f"  {key:<12} {value}")
        return "\n".join(lines)
