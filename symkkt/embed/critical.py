"""Critical embeddings on data ([B]): criticality at θ, the line of critical points, Hessian inertia.

With a loss R(θ) = (1/n) Σ ℓ(f_θ(x_i), y_i) and a map T that preserves outputs (proved in
:mod:`.prove`), R'(Tθ) = R(θ) for all θ, hence

- ∇R'(Tθ) = S∇R(θ) with the matrix S of the gradient proof (checked here at θ as well);
- ∇²R(θ) = Tᵀ ∇²R'(Tθ) T (docs/mathematics.md §6), so the counts of positive and negative Hessian eigenvalues
  cannot decrease; the zero count is computed, not assumed;
- for one one-step split T^α: the forward pass at T^α θ does not depend on α (both children compute
  the parent's value, the next layer sees α + (1 − α) = 1 times it), and the gradient is affine in α
  (only the children's incoming gradients carry α, 1 − α); so if θ_c is critical, checking two values
  of α proves that the whole line {T^α θ_c : α ∈ R} is critical.

Tiers: exact for the mse loss with polynomial or ReLU-family activations; high precision (mpmath,
not rigorous, tolerance stated) for tanh, exp and logistic.
"""

from __future__ import annotations

import mpmath
import sympy

from ..landscape import KinkError, LossProblem
from ..numbers import exact_sign, format_number
from .maps import chain


def _fmt(v):
    try:
        return format_number(sympy.nsimplify(v) if isinstance(v, sympy.Float) else v)
    except Exception:  # mpmath values
        return str(v)


def _failed(tier):
    """The verdict of a failed check: ``refuted`` only when the failure was decided exactly; a
    high-precision evaluation is not a witness."""
    return "refuted" if tier == "exact" else "inconclusive"


def _not_rigorous(tier):
    return "" if tier == "exact" else " (high precision, within the stated tolerance; not a rigorous witness)"


def _is_zero_vector(values, tol):
    if tol is None:
        return all(v == 0 for v in values)
    return max((abs(v) for v in values), default=0) <= mpmath.mpf(str(tol))


def landscape_checks(emb, proofs, data, theta, loss, dps=50):
    """Properties and figures of the landscape at θ and Tθ (see the module docstring)."""
    from .check import Property

    narrow = LossProblem(emb.source, data, loss)
    wide = LossProblem(emb.target, data, loss)
    eta = emb.forward(theta)
    try:
        g = narrow.gradient(theta, dps=dps)
        gw = wide.gradient(eta, dps=dps)
    except KinkError as err:
        reason = f"R has no gradient at θ: {err}"
        return {"critical_image": Property("critical_image", "inconclusive", "θ critical ⇒ Tθ critical", True,
                                           "", "none", reason=reason)}, {"loss": loss, "note": reason}
    tier = g.tier
    tol = None if tier == "exact" else sympy.Float(10) ** (-(dps // 2))
    figures = {"loss": loss, "tier": tier, "tolerance": "0 (exact)" if tol is None else f"1e-{dps // 2}",
               "risk": _fmt(narrow.value(theta, dps=dps).value),
               "risk_wide": _fmt(wide.value(eta, dps=dps).value)}
    props = {}

    # ∇R'(Tθ) = S∇R(θ) at this θ
    if proofs.S is not None:
        if tier == "exact":
            mapped = [c.to_sympy() * g.values[p] if p >= 0 else 0 for p, c in proofs.S]
            diff = [sympy.expand(a - b) for a, b in zip(gw.values, mapped)]
        else:
            with mpmath.workdps(dps):
                mapped = [mpmath.mpf(sympy.N(c.to_sympy(), dps + 10)) * g.values[p] if p >= 0 else 0
                          for p, c in proofs.S]
                diff = [a - b for a, b in zip(gw.values, mapped)]
        ok = _is_zero_vector(diff, tol)
        props["gradient_relation"] = Property(
            "gradient_relation", "holds" if ok else _failed(tier), "∇R'(Tθ) = S∇R(θ) at this θ", True,
            "at this instance", tier, reason="the proved relation, evaluated" if ok else
            "the evaluated gradients do not satisfy the proved relation" + _not_rigorous(tier))
    critical = _is_zero_vector(g.values, tol)
    critical_w = _is_zero_vector(gw.values, tol)
    figures["critical"] = critical
    figures["critical_wide"] = critical_w
    figures["gradient_norm_squared"] = _fmt(sum(v * v for v in g.values))
    if critical:
        props["critical_image"] = Property(
            "critical_image", "holds" if critical_w else _failed(tier), "θ critical ⇒ Tθ critical", True,
            "at this instance", tier, reason="∇R(θ) = 0 and ∇R'(Tθ) = 0" if critical_w else
            "∇R(θ) = 0 but ∇R'(Tθ) ≠ 0" + _not_rigorous(tier))
        line = _critical_line(emb, data, theta, loss, dps, tol)
        if line is not None:
            props["critical_line"] = line
    else:
        figures["note"] = "θ is not a critical point of R: criticality transfer is vacuous here"

    # Hessian inertia before and after, and the congruence ∇²R(θ) = Tᵀ∇²R'(Tθ)T
    try:
        H = narrow.hessian(theta, dps=dps)
        Hw = wide.hessian(eta, dps=dps)
    except ValueError as err:     # too many parameters, or a kink of second order
        figures["hessian"] = f"not computed: {err}"
        return props, figures
    before, after = narrow.inertia(H, dps=dps), wide.inertia(Hw, dps=dps)
    figures["inertia"] = {"narrow": list(before.counts), "wide": list(after.counts), "tier": before.tier,
                          "order": "(n_plus, n_zero, n_minus)"}
    T = emb.matrix()
    congruent = _congruent(H.matrix, Hw.matrix, T, tol)
    props["hessian_congruence"] = Property(
        "hessian_congruence", "holds" if congruent else _failed(H.tier), "∇²R(θ) = Tᵀ ∇²R'(Tθ) T", True,
        "at this instance", H.tier, reason=f"inertia {tuple(before.counts)} -> {tuple(after.counts)} "
                                           "(n₊ and n₋ cannot decrease)" if congruent else
        "the Hessians are not congruent through T" + _not_rigorous(H.tier))
    n_plus, n_zero, n_minus = before.counts
    w_plus, w_zero, w_minus = after.counts
    figures["strict_local_min"] = critical and n_zero == 0 and n_minus == 0
    figures["wide_strict_saddle"] = critical_w and w_minus > 0 and w_plus > 0
    return props, figures


def _congruent(H, Hw, T, tol):
    lhs = T.T * sympy.Matrix(Hw) * T
    diff = lhs - sympy.Matrix(H)
    if tol is None:
        return all(exact_sign(v) == 0 for v in diff)
    return all(abs(sympy.N(v)) <= tol for v in diff)


def _critical_line(emb, data, theta, loss, dps, tol):
    """For a map that is one one-step split: ∇R'(T^α θ_c) = 0 at two more values of α."""
    from .check import Property

    if len(emb.steps) != 1 or emb.steps[0].kind != "critical_split":
        return None
    i = 0
    checked = []
    for alpha in (sympy.Integer(0), sympy.Integer(3)):
        steps = list(emb.steps)
        steps[i] = type(steps[i])("critical_split", steps[i].layer, steps[i].unit, alpha=alpha)
        other = chain(emb.source, steps)
        try:
            gw = LossProblem(other.target, data, loss).gradient(other.forward(theta), dps=dps)
        except KinkError as err:
            return Property("critical_line", "inconclusive", "T^α θ_c is critical for every α", True,
                            "", "none", reason=f"R' has no gradient at α = {format_number(alpha)}: {err}")
        ok = _is_zero_vector(gw.values, tol)
        checked.append((format_number(alpha), ok))
        if not ok:
            return Property("critical_line", _failed(gw.tier), "T^α θ_c is critical for every α", True,
                            "at this instance", gw.tier, reason=f"∇R'(T^α θ_c) ≠ 0 at α = {format_number(alpha)}"
                                                                + _not_rigorous(gw.tier))
    return Property("critical_line", "holds", "T^α θ_c is critical for every α", True, "for all α",
                    gw.tier, reason="critical at α = 0 and α = 3 (and the given α); the gradient is affine in α, "
                                    "so the whole line is critical",
                    extra={"alphas_checked": [a for a, _ in checked]})
