"""The ``embed`` decision: which properties a map T has, each proved or refuted with a witness.

Properties (docs/mathematics.md §5, §6):

=====================  ==============================================  =========================
property               statement                                       how it is decided
=====================  ==============================================  =========================
isometry               TᵀT = I                                         exact, on T
output_preserved       Φ̃(Tθ; x) = Φ(θ; x) for all θ, x                 proof (:mod:`.prove`) or
                                                                       exact witness
gradient_preserved     ∇Φ̃(Tθ; x) = T∇Φ(θ; x) for all θ, x off kinks;   proof; kink witness for
                       at kinks T∂°Φ ⊆ ∂°Φ̃ (equality fails)            the equality
criticality_preserved  ∇Φ̃(Tθ; x) = S∇Φ(θ; x), so ∇R'(Tθ) = S∇R(θ)     proof ([B] maps)
                       for every loss
kkt_transfer           θ KKT for P_Φ ⇔ Tθ KKT for P_Φ̃, same λ          exact, on DATA PARAMS
=====================  ==============================================  =========================

A chain of [A] splits claims isometry, output and gradient preservation; a chain with [B]
steps claims output and criticality preservation (isometry and gradient preservation are
reported but not claimed). With DATA and PARAMS, KKT transfer is claimed (and, with a loss,
the landscape checks of :mod:`.critical`). The verdict is ``holds`` iff every claimed property
holds, ``refuted`` if one is refuted, ``inconclusive`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy

from ..errors import VERDICT_EXIT
from ..kkt import MaxMarginProblem
from ..numbers import exact_sign, format_number
from . import witness as W
from .maps import coefficient_problems
from .prove import prove

THEOREM_A = "[A] Theorems 4.8 and 4.11 (neuron and channel splits), Proposition 4.4 (compositions)"
THEOREM_B = "[B] (one-step splits and null embeddings preserve outputs and critical points)"
ALL_THETA_X = "for all θ, x (symbolic proof)"


@dataclass
class Property:
    """One decided property: ``verdict`` with the statement, its scope, tier and evidence."""

    name: str
    verdict: str
    statement: str
    claimed: bool = True
    scope: str = ""
    tier: str = "exact"
    proof: list = field(default_factory=list)
    reason: str = ""
    witness: dict | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self):
        out = {"verdict": self.verdict, "claimed": self.claimed, "statement": self.statement,
               "scope": self.scope, "tier": self.tier, "reason": self.reason}
        if self.proof:
            out["proof"] = list(self.proof)
        if self.witness is not None:
            out["witness"] = self.witness
        out.update(self.extra)
        return out


@dataclass
class EmbedResult:
    """Everything ``symkkt embed`` reports about one map."""

    embedding: object
    properties: dict
    verdict: str
    reason: str
    theorem: str
    theta: list | None = None
    data: object = None
    proofs: object = None
    landscape: dict | None = None

    @property
    def exit_code(self):
        return VERDICT_EXIT[self.verdict]

    def to_json(self):
        emb = self.embedding
        return {
            "verdict": self.verdict, "reason": self.reason, "theorem": self.theorem,
            "steps": [s.label() for s in emb.steps],
            "children": emb.children(),
            "source": {"parameters": emb.source.num_parameters, "architecture": emb.source.arch.to_json()},
            "target": {"parameters": emb.target.num_parameters, "architecture": emb.target.arch.to_json()},
            "properties": {k: p.to_json() for k, p in self.properties.items()},
            **({"landscape": self.landscape} if self.landscape else {}),
        }

    def certificate(self):
        """A certificate of the structural claim (or of an output refutation); None if there is none.

        A chain of splits is certified as ``split_embedding`` only inside the kernel's theorem:
        c_i ≥ 0, Σc_i² = 1 and positively 1-homogeneous piecewise-linear activations in the split
        layers. Outside it (a tanh or an odd polynomial with c = −1, say) the proofs still decide,
        but there is no certificate.
        """
        from ..certificate import embedding_certificate

        if self.embedding.is_split_chain and not _kernel_split_scope(self.embedding):
            out = self.properties.get("output_preserved")
            if out is None or out.verdict != "refuted":
                return None
        return embedding_certificate(self)

    def __repr__(self):
        emb = self.embedding
        lines = [f"EmbedResult({self.verdict} — {self.reason})",
                 f"  map          {'; '.join(s.label() for s in emb.steps)}: "
                 f"m = {emb.source.num_parameters} -> {emb.target.num_parameters}",
                 f"  theorem      {self.theorem}"]
        if emb.children():
            lines.append(f"  children     {_children_text(emb)}")
        for name, p in self.properties.items():
            tag = "" if p.claimed else " (not claimed)"
            lines.append(f"  {name:<22} {p.verdict}{tag}: {p.reason or p.statement}")
            if p.witness is not None and p.verdict != "holds":
                lines.append(f"  {'':<22}   witness {p.witness}")
            if "kink_equality" in p.extra:
                ke = p.extra["kink_equality"]
                lines.append(f"  {'':<22}   at kinks: equality {ke['verdict']}"
                             + (f" ({_kink_text(ke['witness'])})" if ke.get("witness") else ""))
        if self.landscape:
            for k, v in self.landscape.items():
                lines.append(f"  {k:<22} {v}")
        return "\n".join(lines)


def decide(emb, data=None, theta=None, loss=None, dps=50, direction=False):
    """Decide the properties of the map ``emb`` (an :class:`~symkkt.embed.maps.Embedding`).

    Parameters
    ----------
    emb : Embedding
    data : symkkt.spec.Dataset, optional
    theta : list, optional
        Narrow parameters (flat, exact); with ``data`` they enable KKT transfer (labels ±1) or,
        with ``loss``, the landscape checks.
    loss : {"mse", "exp", "logistic"}, optional
    dps : int
        Digits for high-precision landscape checks (tanh, exp, logistic).
    direction : bool
        With ``data`` and ``theta`` (and no ``loss``): transfer of KKT directions instead of KKT
        points.

    Examples
    --------
    >>> from symkkt.api import load_example
    >>> from symkkt.embed.maps import chain, parse_step
    >>> problem, theta = load_example("example1")
    >>> emb = chain(problem.network, [parse_step("1:0:3/5,4/5")])
    >>> res = decide(emb, problem.data, theta)
    >>> res.verdict, {k: p.verdict for k, p in res.properties.items()}
    ('holds', {'isometry': 'holds', 'output_preserved': 'holds', 'gradient_preserved': 'holds', 'kkt_transfer': 'holds'})
    """
    if direction and (loss is not None or data is None or theta is None):
        raise ValueError("direction=True decides KKT transfer of directions: give data and theta, and no loss")
    split_chain = emb.is_split_chain
    props = {}
    props["isometry"] = _isometry(emb, claimed=split_chain)
    proofs = prove(emb)
    props["output_preserved"] = _output(emb, proofs)
    if split_chain:
        props["gradient_preserved"] = _gradient(emb, proofs, claimed=True)
    else:
        props["gradient_preserved"] = _gradient(emb, proofs, claimed=False)
        props["criticality_preserved"] = _criticality(emb, proofs)
    landscape = None
    if data is not None and theta is not None:
        if loss is None:
            props["kkt_transfer"] = kkt_transfer(emb, data, theta, direction)
        else:
            from .critical import landscape_checks

            extra, landscape = landscape_checks(emb, proofs, data, theta, loss, dps)
            props.update(extra)
    claimed = [p for p in props.values() if p.claimed]
    if any(p.verdict == "refuted" for p in claimed):
        verdict = "refuted"
        bad = [k for k, p in props.items() if p.claimed and p.verdict == "refuted"]
        reason = f"refuted: {', '.join(bad)}"
    elif all(p.verdict == "holds" for p in claimed):
        verdict = "holds"
        reason = "all claimed properties hold: " + ", ".join(k for k, p in props.items() if p.claimed)
    else:
        verdict = "inconclusive"
        reason = "undecided: " + ", ".join(k for k, p in props.items() if p.claimed and p.verdict == "inconclusive")
    return EmbedResult(emb, props, verdict, reason, THEOREM_A if split_chain else THEOREM_B, theta, data, proofs,
                       landscape)


def _children_text(emb):
    """``channel 1:0 -> channels 1:0, 1:1; unit 2:1 -> units 2:1, 2:2`` (the terms of the split flags)."""
    parts = []
    for unit, kids in emb.children().items():
        kind = emb.unit_kind(int(unit.split(":")[0]))
        parts.append(f"{kind} {unit} -> {kind}s {', '.join(kids)}")
    return "; ".join(parts)


def _kink_text(wit):
    """The kink witness in one line, in the terms of the split flags."""
    kind = wit["unit_kind"]
    (unit, kids), = wit["children"].items()
    at = (" at positions " + ", ".join("(" + ", ".join(map(str, p)) + ")" for p in wit["kink_positions"])
          if "kink_positions" in wit else "")
    return (f"{kind} {unit} on its kink{at}; children {kind}s {', '.join(kids)}, "
            f"{kind} {wit['pushed_up']} pushed up, the other{'s' if len(kids) > 2 else ''} down")


def _split_terms(emb, ke):
    """The kink witness of ``ke`` relabelled in the terms of the split flags.

    The witness is built on flat units (for a conv layer: channel · P + position, P the output
    positions per channel); ``unit``, ``children``, ``pushed_up`` and ``slopes`` become dense
    units or conv channels, the positions on the kink become ``kink_positions`` (spatial indices,
    conv layers only), and the flat form is kept, labelled, under ``flat_units``.
    """
    wit = ke.get("witness")
    if wit is None:
        return ke
    w, flat = (int(v) for v in wit["unit"].split(":"))
    li = emb.source.arch.weight_layers[w - 1]
    spatial = tuple(emb.source.arch.shapes[li][1:]) if emb.unit_kind(w) == "channel" else ()
    per = int(np.prod(spatial)) if spatial else 1

    def channel(label):
        return f"{w}:{int(label.split(':')[1]) // per}"

    flat_form = {k: wit[k] for k in ("unit", "kink_positions", "children", "pushed_up", "slopes")}
    slopes = {}
    for label, g in wit["slopes"].items():
        slopes.setdefault(channel(label), set()).add(g)
    out = {"theta": wit["theta"], "x": wit["x"], "unit": channel(wit["unit"]), "unit_kind": emb.unit_kind(w)}
    if spatial:
        out["kink_positions"] = [[int(i) for i in np.unravel_index(int(lab.split(":")[1]) % per, spatial)]
                                 for lab in wit["kink_positions"]]
    out["children"] = {out["unit"]: [channel(lab) for lab in wit["children"]]}
    out["pushed_up"] = channel(wit["pushed_up"])
    if all(len(v) == 1 for v in slopes.values()):      # one slope per child at every kink position
        out["slopes"] = {k: next(iter(v)) for k, v in slopes.items()}
    out.update({k: v for k, v in wit.items() if k not in flat_form and k not in out})
    out["flat_units"] = {"meaning": f"LAYER:FLAT with FLAT = {out['unit_kind']} · {per} + position"
                         if spatial else "LAYER:UNIT (a dense layer: flat units are its units)", **flat_form}
    return {**ke, "witness": out}


def _kernel_split_scope(emb):
    """Whether every step is a split with c_i ≥ 0, Σc_i² = 1 of a layer whose activation is positively
    1-homogeneous and piecewise linear (the scope of the kernel's ``split_embedding``)."""
    if any(coefficient_problems(s) for s in emb.steps):
        return False
    net = emb.source
    for step in emb.steps:     # the activation of a layer does not change along the chain
        rule = net.rules[net.arch.weight_layers[step.layer - 1]]
        if not (rule.piecewise and rule.power == 1):
            return False
    return True


# -- single properties -------------------------------------------------------------------------
def _isometry(emb, claimed):
    norms = emb.column_norms()
    st = "TᵀT = I (T has one non-zero per row, so TᵀT is diagonal with entries Σ_r T_rc²)"
    for c, v in enumerate(norms):
        if exact_sign(v - 1) != 0:
            w = {"column": emb.source.parameter_names[c], "TtT_cc": format_number(v)}
            why = [p for s in emb.steps for p in coefficient_problems(s) if s.kind == "split"]
            reason = f"(TᵀT) at {w['column']} is {w['TtT_cc']} ≠ 1" + (f" ({why[0]})" if why else "")
            return Property("isometry", "refuted", st, claimed, "the linear map T", proof=[], reason=reason, witness=w)
    return Property("isometry", "holds", st, claimed, "the linear map T", reason="TᵀT = I exactly",
                    proof=[f"Σ_r T_rc² = 1 for all {len(norms)} columns"])


def _output(emb, proofs):
    st = "Φ̃(Tθ; x) = Φ(θ; x)"
    if proofs.output.holds:
        return Property("output_preserved", "holds", st, True, ALL_THETA_X, "symbolic", proofs.output.steps,
                        reason="proved for all θ, x by induction over the layers")
    wit = W.output_witness(emb)
    if wit is not None:
        return Property("output_preserved", "refuted", st, True, "at the witness", wit.pop("tier"),
                        proofs.output.steps, reason=f"proof fails at {proofs.output.failure}; outputs differ at "
                                                    f"the witness", witness=wit)
    return Property("output_preserved", "inconclusive", st, True, "", "none", proofs.output.steps,
                    reason=f"no proof ({proofs.output.failure}) and no counterexample found")


def _gradient(emb, proofs, claimed):
    st = "∇Φ̃(Tθ; x) = T ∇Φ(θ; x) off kinks; T∂°Φ(θ; x) ⊆ ∂°Φ̃(Tθ; x) at kinks"
    if proofs.gradient.holds and proofs.s_equals_t:
        p = Property("gradient_preserved", "holds", st, claimed, ALL_THETA_X, "symbolic", proofs.gradient.steps,
                     reason="proved for all θ, x off kinks (S = T); at kinks the inclusion holds with children "
                            "taking their parent's Clarke slope")
        p.extra["kink_equality"] = _split_terms(emb, W.kink_equality(emb))
        return p
    if proofs.gradient.holds:
        r = proofs.s_differs_at
        S = [(p, c) for p, c in proofs.S]
        wit = W.gradient_witness(emb)
        reason = (f"∇Φ̃(Tθ; x) = S∇Φ(θ; x) is proved with S ≠ T (row {emb.target.parameter_names[r]}: "
                  f"{_row(S[r], emb)} vs T {_row((int(emb.index[r]), emb.coef[r]), emb)})")
        return Property("gradient_preserved", "refuted" if wit else "inconclusive", st, claimed,
                        "at the witness" if wit else "", wit.pop("tier") if wit else "symbolic",
                        proofs.gradient.steps, reason=reason, witness=wit)
    wit = W.gradient_witness(emb)
    if wit is not None:
        return Property("gradient_preserved", "refuted", st, claimed, "at the witness", wit.pop("tier"),
                        proofs.gradient.steps, reason=f"proof fails: {proofs.gradient.failure}", witness=wit)
    return Property("gradient_preserved", "inconclusive", st, claimed, "", "none", proofs.gradient.steps,
                    reason=f"no proof ({proofs.gradient.failure}) and no counterexample found")


def _row(row, emb):
    p, c = row
    if p < 0:
        return "0"
    return f"{format_number(c.to_sympy() if hasattr(c, 'to_sympy') else c)}·{emb.source.parameter_names[p]}"


def _criticality(emb, proofs):
    st = "∇Φ̃(Tθ; x) = S ∇Φ(θ; x) for a fixed matrix S, hence ∇R'(Tθ) = S∇R(θ) for every loss"
    if proofs.output.holds and proofs.gradient.holds:
        S = [{"source": emb.source.parameter_names[p] if p >= 0 else None,
              "coef": format_number(c.to_sympy())} for p, c in proofs.S]
        return Property("criticality_preserved", "holds", st, True, ALL_THETA_X, "symbolic", proofs.gradient.steps,
                        reason="proved for all θ, x: critical points of any loss map to critical points",
                        extra={"S": S})
    if proofs.gradient.holds:
        # ∇Φ̃ = S∇Φ is proved, but without output preservation ∇R' = S∇R does not follow
        return Property("criticality_preserved", "inconclusive", st, True, "", "none", proofs.gradient.steps,
                        reason=f"∇Φ̃(Tθ; x) = S∇Φ(θ; x) is proved, but the output is not "
                               f"({proofs.output.failure}), so the loss relation does not follow")
    failure = proofs.gradient.failure
    wit = W.criticality_witness(emb)
    if wit is not None:
        return Property("criticality_preserved", "refuted", st, True, "at the witness", wit.pop("tier"),
                        proofs.gradient.steps, reason=f"{failure}; no fixed linear S exists: a linear relation "
                                                      "among narrow gradients fails for the wide ones (see witness)",
                        witness=wit)
    why = "tanh gradients are not exact, so no exact linear relation was sought" if W._has_tanh(emb.source) \
        else "every linear relation among the narrow gradients found at random points held for the wide ones"
    return Property("criticality_preserved", "inconclusive", st, True, "", "none", proofs.gradient.steps,
                    reason=f"no proof ({failure}) and no counterexample ({why})")


# -- KKT transfer ------------------------------------------------------------------------------
def _children(emb):
    """Narrow (layer index, flat unit) -> wide flat units of its children with incoming multiplier ≠ 0."""
    out = {}
    for w, rows in emb.units.items():
        li = emb.source.arch.weight_layers[w - 1]
        shape = emb.source.arch.shapes[li]
        per = int(sympy.prod(shape[1:])) if len(shape) > 1 else 1
        for c, (p, a, _b) in enumerate(rows):
            if a == 0:
                continue
            for pos in range(per):
                out.setdefault((li, p * per + pos), []).append((c * per + pos, a))
    return out


def _parse_label(net, label):
    w, u = label.split(":")
    return net.arch.weight_layers[int(w) - 1], int(u)


def kkt_transfer(emb, data, theta, direction=False):
    """θ is a KKT point (or direction) of P_Φ iff Tθ is one of P_Φ̃, with the same multipliers (exact).

    Both sides are decided exactly; of the four combinations, "both" and "neither" make the
    equivalence hold at this instance, and "only θ" or "only Tθ" refute one implication. When both
    are KKT, the multipliers are transferred: forward, the narrow multipliers with each child taking
    its parent's Clarke slope satisfy Tθ = Σ λ_k y_k h̃_k exactly; backward (for isometries), the
    wide multipliers with merged slopes Σ c_i² g_i satisfy θ = Σ λ_k y_k h_k exactly. With
    ``direction`` the claims are KKT directions (θ = Σ μ_k y_k h_k, μ ≥ 0 on the points of
    minimal margin), transferred in the same way.
    """
    what = "KKT direction" if direction else "KKT point"
    st = f"θ is a {what} of P_Φ ⇔ Tθ is a {what} of P_Φ̃, with the same multipliers"
    equiv = f"'θ is a {what}' ⇔ 'Tθ is a {what}'"
    narrow = MaxMarginProblem(emb.source, data)
    wide = MaxMarginProblem(emb.target, data)
    rn = narrow.decide(theta, direction=direction)
    eta = emb.forward(theta)
    rw = wide.decide(eta, direction=direction)
    extra = {"claim": "kkt_direction" if direction else "kkt_point", "narrow": _summary(rn), "wide": _summary(rw)}
    sides = f"{_side('θ', rn, what)} and {_side('Tθ', rw, what)}"
    if "inconclusive" in (rn.verdict, rw.verdict):
        return Property("kkt_transfer", "inconclusive", st, True, "at this instance", "none",
                        reason=f"{sides}: {equiv} is undecided at this instance", extra=extra)
    if rn.verdict != rw.verdict:
        failing = (f"'θ is a {what}' ⇒ 'Tθ is a {what}' fails" if rn.verdict == "holds"
                   else f"the converse 'Tθ is a {what}' ⇒ 'θ is a {what}' fails")
        return Property("kkt_transfer", "refuted", st, True, "at this instance", "exact",
                        reason=f"{sides}: {failing} at this instance",
                        witness=(rw if rn.verdict == "holds" else rn).to_json().get("witness"),
                        extra={**extra, "witness_side": "wide" if rn.verdict == "holds" else "narrow"})
    if rn.verdict == "refuted":
        return Property("kkt_transfer", "holds", st, True, "at this instance", "exact",
                        reason=f"{sides}: {equiv} holds at this instance (both sides false; the same "
                               f"multipliers are not in question)", extra=extra)
    proof = []
    # both are KKT; what is left is "with the same multipliers", checked for one choice of
    # Clarke elements only, so a failure leaves it open rather than refuting it
    ok, why = _forward_transfer(emb, rn, wide, eta)
    if not ok:
        return Property("kkt_transfer", "inconclusive", st, True, "at this instance", "exact",
                        reason=f"{sides}, so {equiv} holds at this instance, but the narrow multipliers with "
                               f"children taking their parent's slopes do not certify Tθ ({why}); other Clarke "
                               "elements were not searched, so 'with the same multipliers' is undecided",
                        extra=extra)
    proof.append("Tθ = Σ λ_k y_k h̃_k with the narrow λ, children taking their parent's slopes (exact)")
    if emb.is_split_chain:
        ok, why = _pullback_transfer(emb, rw, narrow, theta)
        if not ok:
            return Property("kkt_transfer", "inconclusive", st, True, "at this instance", "exact",
                            reason=f"{sides}, so {equiv} holds at this instance, but the wide multipliers with "
                                   f"merged slopes Σ c_i² g_i do not certify θ ({why}), so 'with the same "
                                   "multipliers' is undecided", extra=extra)
        proof.append("θ = Σ λ̃_k y_k h_k with the wide λ̃ and merged slopes Σ c_i² g_i (exact)")
    same = "[" + ", ".join(format_number(a) for a in rn.multipliers) + "]"
    return Property("kkt_transfer", "holds", st, True, "at this instance", "exact", proof,
                    reason=f"{sides}: {equiv} holds at this instance, with the same multipliers {same}",
                    extra=extra)


def _side(name, r, what):
    """One side of the equivalence in words: ``θ is a KKT point (...)``, ``Tθ is not (...)``."""
    reason = r.reason if name == "θ" else _widen(r.reason)
    if r.verdict == "holds":
        return f"{name} is a {what} (stationarity with {CLARKE_WORDS.get(r.clarke_set, r.clarke_set)})"
    if r.verdict == "refuted":
        return f"{name} is not a {what} ({reason})"
    return f"whether {name} is a {what} is undecided ({reason})"


#: the set stationarity was decided for, in words
CLARKE_WORDS = {"gradient": "gradients (no active point on a kink)",
                "clarke": "Clarke elements (limiting gradients realized by directions)",
                "chain_rule_hull": "the chain-rule hull (not a proof for the Clarke subdifferential)"}


def _widen(text):
    """A reason written for θ and P_Φ, said of Tθ and P_Φ̃."""
    return text.replace("P_Φ", "P_Φ̃").replace("θ", "Tθ")


def _summary(r):
    out = {"verdict": r.verdict, "reason": r.reason, "margins": [format_number(q) for q in r.margins]}
    if r.multipliers is not None:
        out["multipliers"] = [format_number(m) for m in r.multipliers]
    if r.normalized_margin is not None:
        out["normalized_margin"] = format_number(r.normalized_margin)
    if r.squared_norm is not None:
        out["squared_norm"] = format_number(r.squared_norm)
    return out


def _terms(result, k):
    """Clarke terms [(weight, {label: slope})] of point k in a holds result."""
    for e in result.clarke:
        if e["point"] == k:
            return [(t["weight"], t["slopes"]) for t in e["terms"]]
    return [(result.multipliers[k], {})]


def _stationary(problem, theta, columns, target):
    """target == Σ weight·y_k·h_k(slopes) exactly, the columns given as (k, weight, slopes)."""
    if not columns:
        return all(t == 0 for t in target)
    dom = problem.domain(list(theta) + [w for _, w, _ in columns] + [g for *_, s in columns for g in s.values()])
    trace = problem.network.forward(dom, list(theta), [list(x) for x in problem.data.X])
    J = problem.network.jacobian(trace, [k for k, _, _ in columns], [s for *_, s in columns])
    flat = J.elements()
    n = len(columns)
    K = dom.field
    for r, t in enumerate(target):
        total = K.element(0)
        for c, (k, wgt, _) in enumerate(columns):
            total = total + flat[r * n + c] * K.element(wgt * int(problem.data.y[k]))
        if total != K.element(t):
            return False, f"parameter {problem.network.parameter_names[r]}: Σ λ y h = {format_number(total.to_sympy())} " \
                          f"≠ {format_number(t)}"
    return True, ""


def _forward_transfer(emb, rn, wide, eta):
    kids = _children(emb)
    columns = []
    for k, lam in enumerate(rn.multipliers):
        if lam == 0:
            continue
        for wgt, slopes in _terms(rn, k):
            wide_slopes = {}
            for label, g in slopes.items():
                li, u = _parse_label(emb.source, label)
                for cu, _a in kids.get((li, u), [(u, 1)]):
                    wide_slopes[(li, cu)] = g
            columns.append((k, wgt, wide_slopes))
    return _stationary(wide, eta, columns, eta)


def _pullback_transfer(emb, rw, narrow, theta):
    kids = _children(emb)
    parent = {(li, cu): (u, a) for (li, u), cs in kids.items() for cu, a in cs}
    columns = []
    for k, lam in enumerate(rw.multipliers):
        if lam == 0:
            continue
        for wgt, slopes in _terms(rw, k):
            merged, weights = {}, {}
            for label, g in slopes.items():
                li, cu = _parse_label(emb.target, label)
                u, a = parent.get((li, cu), (None, 0))
                if u is None:
                    continue
                merged[(li, u)] = merged.get((li, u), 0) + a * a * g
                weights[(li, u)] = weights.get((li, u), 0) + a * a
            columns.append((k, wgt, {key: v / weights[key] for key, v in merged.items()}))
    return _stationary(narrow, theta, columns, theta)
