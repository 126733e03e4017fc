"""The max-margin problem P_Φ and exact decisions of its KKT points and directions.

P_Φ: minimise ½‖θ‖² subject to q_k(θ) = y_k Φ(θ; x_k) ≥ 1. θ is a (Clarke) KKT point when it is
feasible and θ = Σ_k λ_k y_k h_k with λ ≥ 0, λ_k = 0 whenever q_k > 1 and h_k ∈ ∂°Φ(θ; x_k).
θ is a KKT direction when θ / q_min^(1/L) is a KKT point, equivalently θ = Σ μ_k y_k h_k with
μ ≥ 0 supported on argmin q_k.

How it is decided (exactly, in the number field of the inputs):

1. margins q_k by an exact forward pass; feasibility and the active set;
2. on each active point, the kink units (pre-activation exactly 0) and the vertices of their
   Clarke intervals; the columns y_k h_k(vertex) by exact reverse mode;
3. θ ∈ cone(columns) by :func:`symkkt.linear.nonnegative_solution`: a solution gives the
   multipliers and Clarke elements, otherwise an exact Farkas vector refutes.

Step 3 uses the convex hull of the chain-rule elements with independent per-unit slopes. It
equals the Clarke subdifferential when no active point has a kink, and for dense two-layer
nets; for deeper nets it contains it (assumption A.3 of [A]), so a refutation is always a
refutation of Clarke-KKT, and ``holds`` is stated for the set that was used.

Examples
--------
>>> from symkkt.api import load_example
>>> problem, theta = load_example("example1")
>>> result = problem.decide(theta)
>>> result.verdict, [str(m) for m in result.multipliers]
('holds', ['1', 'sqrt(2)/2', '0'])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy

from .linear import Feasible, nonnegative_solution
from .network import Network
from .numbers import format_number
from .field import as_sympy
from .tensor import ExactDomain

#: most vertices of the Clarke box enumerated per data point
MAX_VERTICES = 2**12

CLARKE_GRADIENT = "gradient (no active point sits on a kink)"
CLARKE_TWO_LAYER = "Clarke subdifferential (dense two-layer net: chain rule is exact)"
CLARKE_HULL = "convex hull of chain-rule elements with independent per-unit slopes (A.3 of [A])"


@dataclass
class KKTResult:
    """The decision on one parameter point, with its witness and figures (all exact).

    ``verdict`` is ``"holds"``, ``"refuted"`` or ``"inconclusive"``; ``witness`` holds the
    multipliers and Clarke elements (holds) or the failing condition (refuted).
    """

    verdict: str
    reason: str
    kind: str
    problem: "MaxMarginProblem"
    theta: list
    margins: list = field(default_factory=list)
    active: list = field(default_factory=list)
    multipliers: list | None = None
    clarke: list = field(default_factory=list)
    kinks: dict = field(default_factory=dict)
    clarke_set: str = ""
    witness: dict = field(default_factory=dict)
    squared_norm: object = None
    normalized_margin: object = None
    identity: dict = field(default_factory=dict)
    point_multipliers: list | None = None
    tier: str = "exact"

    @property
    def exit_code(self):
        return {"holds": 0, "refuted": 1, "inconclusive": 3}[self.verdict]

    def to_json(self):
        """A JSON-ready dict; numbers are exact strings in the input grammar."""
        f = _fmt
        out = {
            "verdict": self.verdict,
            "reason": self.reason,
            "claim": self.kind,
            "tier": self.tier,
            "margins": [f(q) for q in self.margins],
            "active_set": list(self.active),
            "kinks": {str(k): v for k, v in self.kinks.items()},
        }
        if self.squared_norm is not None:
            out["squared_norm"] = f(self.squared_norm)
        if self.normalized_margin is not None:
            out["normalized_margin"] = f(self.normalized_margin)
        if self.multipliers is not None:
            out["multipliers"] = [f(m) for m in self.multipliers]
            out["clarke_set"] = self.clarke_set
            out["clarke"] = _clarke_json(self.clarke)
        if self.point_multipliers is not None:
            out["kkt_point_multipliers"] = [f(m) for m in self.point_multipliers]
        if self.identity:
            out["identity"] = {k: (f(v) if not isinstance(v, (bool, str)) else v)
                               for k, v in self.identity.items()}
        if self.verdict == "refuted":
            out["witness"] = _witness_json(self.witness)
        return out

    def certificate(self):
        """The certificate of this decision (``None`` for inconclusive results)."""
        from .certificate import kkt_certificate

        return kkt_certificate(self)

    def __repr__(self):
        lines = [f"KKTResult({self.kind}: {self.verdict} — {self.reason})",
                 f"  margins      {[format_number(q) for q in self.margins]}",
                 f"  active set   {self.active}"]
        if self.multipliers is not None:
            lines.append(f"  multipliers  {[format_number(m) for m in self.multipliers]}")
            lines.append(f"  Clarke set   {self.clarke_set}")
        if self.clarke:
            lines.append(f"  Clarke slopes {_clarke_json(self.clarke)}")
        if self.identity:
            lines.append(f"  identity     {self.identity['statement']}: "
                         f"{format_number(self.identity['lhs'])} = {format_number(self.identity['rhs'])}")
        if self.normalized_margin is not None:
            lines.append(f"  normalized margin {format_number(self.normalized_margin)}")
        if self.verdict == "refuted":
            w = _witness_json(self.witness)
            lines.append(f"  witness      {w}")
        lines.append(f"  tier         {self.tier}")
        return "\n".join(lines)


def _fmt(v):
    return format_number(as_sympy(v))


def _clarke_json(clarke):
    return [{"point": c["point"],
             "terms": [{"weight": _fmt(t["weight"]),
                        "slopes": {u: _fmt(g) for u, g in t["slopes"].items()}} for t in c["terms"]]}
            for c in clarke]


def _witness_json(w):
    out = dict(w)
    if "farkas" in out:
        out["farkas"] = [_fmt(v) for v in out["farkas"]]
    if "margin" in out:
        out["margin"] = _fmt(out["margin"])
    return out


class MaxMarginProblem:
    """P_Φ for a network and a labelled data set.

    Parameters
    ----------
    network : Network or symkkt.spec.Architecture
    data : symkkt.spec.Dataset
        Labels must be ±1.
    """

    def __init__(self, network, data):
        self.network = network if isinstance(network, Network) else Network(network)
        self.data = data
        self.homogeneity = self.network.homogeneity()

    def __repr__(self):
        n = len(self.data.y)
        L = self.homogeneity.degree
        return (f"MaxMarginProblem: minimize 1/2 |theta|^2 subject to y_k Phi(theta; x_k) >= 1, "
                f"k = 1..{n}; m = {self.network.num_parameters} parameters, "
                + (f"L = {L}" if L else f"not homogeneous ({self.homogeneity.reason})")
                + "\n  KKT: theta = sum_k lambda_k y_k h_k, h_k in Clarke(Phi(.; x_k)), "
                  "lambda >= 0, lambda_k (q_k - 1) = 0")

    def _repr_latex_(self):
        return (r"$\min_\theta \tfrac12\|\theta\|^2 \ \text{s.t.}\ y_k\,\Phi(\theta;x_k)\ge 1,"
                rf"\ k=1..{len(self.data.y)};\quad \theta=\sum_k \lambda_k y_k h_k,\ "
                r"h_k\in\partial^\circ\Phi(\theta;x_k),\ \lambda\ge0,\ \lambda_k(q_k-1)=0$")

    def domain(self, theta):
        """The exact domain for θ, the data and the activation constants."""
        numbers = list(theta) + [v for x in self.data.X for v in x] + self.network.constants()
        return ExactDomain.for_numbers(numbers)

    def margins(self, theta, dom=None):
        """Exact margins q_k as field elements, with the forward trace."""
        dom = dom or self.domain(theta)
        trace = self.network.forward(dom, list(theta), [list(x) for x in self.data.X])
        out = trace.output.elements()
        return [o if y == 1 else -o for o, y in zip(out, self.data.y)], trace

    # -- decision -----------------------------------------------------------------------------
    def decide(self, theta, direction=False):
        """Decide whether θ (flat, exact sympy numbers) is a KKT point (or direction)."""
        from .errors import NotHomogeneousError

        kind = "kkt_direction" if direction else "kkt_point"
        L = self.homogeneity.degree
        if direction and L is None:
            raise NotHomogeneousError(f"--direction needs a homogeneous network: {self.homogeneity.reason}")
        if any(r.kind == "tanh" for r in self.network.rules.values()):
            return KKTResult("inconclusive", "tanh values are transcendental: no exact decision",
                             kind, self, list(theta), tier="none")
        dom = self.domain(theta)
        q, trace = self.margins(theta, dom)
        res = KKTResult("inconclusive", "", kind, self, list(theta), tier="exact")
        res.margins = [m.to_sympy() for m in q]
        Kf = dom.field
        th = [Kf.element(v) for v in theta]
        norm2 = sum((t * t for t in th), Kf.element(0))
        res.squared_norm = norm2.to_sympy()
        qmin_i = min(range(len(q)), key=lambda k: q[k]) if q else None
        if qmin_i is not None and L and q[qmin_i].sign() > 0 and not norm2.is_zero():
            res.normalized_margin = sympy.simplify(res.margins[qmin_i] / sympy.sqrt(res.squared_norm) ** L)

        # feasibility and active set
        if direction:
            if q[qmin_i].sign() <= 0:
                res.verdict, res.reason = "refuted", f"margin of point {qmin_i} is not positive"
                res.witness = {"reason": "nonpositive_margin", "point": qmin_i, "margin": res.margins[qmin_i]}
                return res
            res.active = [k for k in range(len(q)) if q[k] == q[qmin_i]]
        else:
            bad = [k for k in range(len(q)) if (q[k] - 1).sign() < 0]
            if bad:
                k = min(bad, key=lambda k: q[k])
                res.verdict = "refuted"
                res.reason = f"infeasible: margin of point {k} is {format_number(res.margins[k])} < 1"
                res.witness = {"reason": "infeasible", "point": k, "margin": res.margins[k]}
                return res
            res.active = [k for k in range(len(q)) if (q[k] - 1).is_zero()]

        # columns y_k h_k(vertex) for every vertex of each active point's Clarke box
        net = self.network
        columns, slopes, owner = [], [], []
        for k in res.active:
            kinks = net.kinks(trace, k)
            if kinks:
                res.kinks[k] = [net.unit_label(i, u) for i, u in kinks]
            if 2 ** len(kinks) > MAX_VERTICES:
                res.reason = (f"point {k} has {len(kinks)} kink units: more than "
                              f"{MAX_VERTICES} Clarke vertices to enumerate")
                return res
            ends = [net.rules[i].clarke_interval() for i, _ in kinks]
            for vertex in itertools.product(*ends):
                columns.append(k)
                slopes.append(dict(zip(kinks, vertex)))
                owner.append(k)
        res.clarke_set = self._clarke_set(res.kinks)
        if columns:
            J = net.jacobian(trace, columns, slopes)
            flat = J.elements()
            ncol = len(columns)
            A = [[flat[r * ncol + c] * int(self.data.y[owner[c]]) for c in range(ncol)]
                 for r in range(net.num_parameters)]
        else:
            A = [[] for _ in range(net.num_parameters)]
        sol = nonnegative_solution(A, th, lambda x: x.sign(), zero=Kf.element(0), one=Kf.element(1))
        if not isinstance(sol, Feasible):
            res.verdict = "refuted"
            res.reason = ("stationarity fails: θ is not in the span of the active Clarke elements"
                          if sol.kind == "inconsistent" else
                          "stationarity fails: no multipliers λ ≥ 0 and Clarke elements give θ")
            res.witness = {"reason": "stationarity", "farkas": [v.to_sympy() for v in sol.y]}
            return res

        # multipliers and Clarke elements from the vertex weights
        lam = [Kf.element(0) for _ in q]
        terms = {}
        for c, (k, mu) in enumerate(zip(owner, sol.x)):
            lam[k] = lam[k] + mu
            if k in res.kinks and not mu.is_zero():
                terms.setdefault(k, []).append((mu, slopes[c]))
        res.multipliers = [v.to_sympy() for v in lam]
        res.clarke = [self._clarke_entry(k, terms[k], lam[k]) for k in sorted(terms)]
        res.verdict = "holds"
        res.reason = ("θ is a KKT direction of P_Φ" if direction else "θ is a KKT point of P_Φ") + \
            ("" if res.clarke_set != CLARKE_HULL else " (with respect to the chain-rule set)")
        self._identities(res, lam, norm2, q[qmin_i] if direction else None, direction)
        return res

    def _clarke_set(self, kinks):
        if not kinks:
            return CLARKE_GRADIENT
        layers = [l for l in self.network.arch.layers if l.kind in ("dense", "conv")]
        if len(layers) == 2 and all(l.kind == "dense" for l in layers) and len(self.network.arch.layers) == 2:
            return CLARKE_TWO_LAYER
        return CLARKE_HULL

    def _clarke_entry(self, k, terms, lam_k):
        net = self.network
        layers = {i for (i, _u) in terms[0][1]}
        if len(layers) == 1:
            # h_k is affine in the slopes of one layer: merge vertices into one interior element
            merged = {}
            for mu, chosen in terms:
                for key, g in chosen.items():
                    merged[key] = merged.get(key, 0) + mu * lam_k.field.element(g)
            slopes = {net.unit_label(*key): (v / lam_k).to_sympy() for key, v in merged.items()}
            return {"point": k, "terms": [{"weight": lam_k.to_sympy(), "slopes": slopes}]}
        return {"point": k, "terms": [{"weight": mu.to_sympy(),
                                       "slopes": {net.unit_label(*key): g for key, g in chosen.items()}}
                                      for mu, chosen in terms]}

    def _identities(self, res, lam, norm2, qmin, direction):
        L = self.homogeneity.degree
        if not L:
            return
        total = sum(lam, lam[0].field.element(0))
        rhs = total * L * (qmin if direction else 1)
        res.identity = {"statement": "|theta|^2 = L * q_min * sum(mu)" if direction
                        else "|theta|^2 = L * sum(lambda)",
                        "lhs": norm2.to_sympy(), "rhs": rhs.to_sympy(), "holds": norm2 == rhs}
        if direction:
            c = as_sympy(res.margins[res.active[0]]) ** sympy.Rational(L - 2, L)
            res.point_multipliers = [sympy.simplify(m * c) for m in res.multipliers]
        if not res.identity["holds"]:  # pragma: no cover - would be a bug upstream
            raise RuntimeError("Euler identity failed on a KKT witness")
