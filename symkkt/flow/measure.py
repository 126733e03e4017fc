"""Measurements along a run: ‖η_k − Tθ_k‖, losses, normalized margins, KKT residuals.

Every measurement reads the tier's stored values exactly (rationals, binary floats and arb
midpoints are exact numbers; balls stay balls) and computes in arb ball arithmetic at the tier's
precision plus 64 bits, so what is reported is the quantity *of the iterates the tier produced*,
not a second rounding of it. In the exact tier the deviation is decided exactly (``is_zero``).

Quantities (docs/mathematics.md §3, §7), for a net of homogeneity degree L at θ with margins q_k:

- deviation ‖η_k − Tθ_k‖ and its ratio to ‖θ_k‖;
- normalized margin γ̄ = q_min / ‖θ‖^L;
- the Lyu–Li KKT residual of the direction: with θ̃ = θ / q_min^(1/L) and g = ∇L(θ),
  ε = ‖θ̃‖ · ‖θ/‖θ‖ + g/‖g‖‖ (the distance of θ̃ from the multiple of −g of the same norm: −g is
  Σ w|ℓ'(q_k)| y_k h_k, so the multipliers are λ_k ∝ |ℓ'(q_k)|), and the complementary-slackness
  gap δ = Σ λ_k (q_k/q_min − 1) with λ_k = ‖θ‖ q_min^((L−2)/L) w |ℓ'(q_k)| / ‖g‖.
  θ̃ is an (ε, δ)-KKT point of P_Φ; ε = δ = 0 exactly at a KKT direction (with these λ).
  Defined when q_min > 0 and g ≠ 0.

Examples
--------
>>> import sympy
>>> from symkkt.api import load_example
>>> from symkkt.embed import chain, parse_step
>>> from symkkt.flow.arith import make_arithmetic
>>> problem, theta = load_example("example1")
>>> emb = chain(problem.network, [parse_step("1:0:3/5,4/5")])
>>> theta = [1, 2, 3, 4, 5, 6]
>>> ar = make_arithmetic("exact", numbers=emb.numbers())
>>> d = Meter(ar, emb, 2).deviation(ar.vector(theta), ar.vector(emb.forward(theta)))
>>> d.value, d.exact_zero
(0.0, True)
>>> fl = make_arithmetic("float")           # fl(3/5 * 1) is not 3/5 * fl(1): rounding shows
>>> Meter(fl, emb, 2).deviation(fl.vector(theta), fl.vector(emb.forward(theta))).value > 0
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import flint
from flint import arb

from .arith import format_arb, format_upper

__all__ = ["Meter", "Deviation", "PointDiagnostics"]


@dataclass
class Deviation:
    """‖η − Tθ‖ at one step.

    ``ball`` encloses the deviation of the stored iterates (for the ball tier: of the exact
    iterates); ``value`` is a float (the upper end for balls); ``certified_nonzero`` says
    that some coordinate of η − Tθ provably differs from 0; ``exact_zero`` is the exact tier's
    decision (``None`` elsewhere).
    """

    ball: object
    value: float
    certified_nonzero: bool
    exact_zero: object = None
    worst: int = -1          # coordinate with the largest |η_r − (Tθ)_r|
    exact_diff: object = None


@dataclass
class PointDiagnostics:
    """Figures of one net at one step (arb balls; ``None`` where undefined)."""

    norm: object
    loss: object
    qmin: object
    gamma: object
    kkt_eps: object
    kkt_delta: object

    def floats(self):
        return {k: (None if v is None else _float(v)) for k, v in self.__dict__.items()}


def _norm_ball(values):
    """A ball [lower, upper] enclosing the Euclidean norm of a vector of arb balls.

    (sqrt of a sum of squares of balls around 0 would be NaN; this uses |x| bounds instead.)
    """
    upper = sum((u * u for u in (x.abs_upper() for x in values)), arb(0)).sqrt().upper()
    lower = sum((v * v for v in (x.abs_lower() for x in values)), arb(0)).sqrt().lower()
    return lower.union(upper)


def _float(x):
    if not x.is_finite():
        return float("nan")
    return float(x.mid())


class Meter:
    """Measurements for one run (embedding T, homogeneity degree L, loss)."""

    def __init__(self, ar, embedding, L, loss=None, reduction="mean", n=1):
        self.ar, self.emb, self.L = ar, embedding, L
        self.loss, self.reduction, self.n = loss, reduction, n
        self.prec = int((ar.digits or 38) * 3.33) + 64
        self.index = np.asarray(embedding.index)
        with flint.ctx.workprec(self.prec):
            from .arith import CachedBallDomain

            dom = CachedBallDomain(int(self.prec / 3.33))
            self.coef = [dom._convert(c) if i >= 0 else arb(0) for c, i in zip(embedding.coef, self.index)]
        if ar.name == "exact":
            with ar.context():
                keep = np.maximum(self.index, 0)
                self._keep = keep
                self._coef_exact = ar.vector([c if i >= 0 else 0 for c, i in zip(embedding.coef, self.index)])

    def context(self):
        return flint.ctx.workprec(self.prec)

    # -- deviation ------------------------------------------------------------------------------
    def image(self, theta):
        """Tθ in the measurement arithmetic (arb list)."""
        ta = self.ar.to_arb(theta, self.prec)
        with self.context():
            return [c * ta[i] if i >= 0 else arb(0) for c, i in zip(self.coef, self.index)]

    def deviation(self, theta, eta):
        """:class:`Deviation` of the stored iterates θ_k, η_k."""
        exact_zero, exact_diff = None, None
        if self.ar.name == "exact":
            d = eta - self.ar.take(theta, self._keep) * self._coef_exact
            exact_zero = self.ar.is_zero(d)
            if exact_zero:
                return Deviation(arb(0), 0.0, False, True)
            exact_diff = d
            da = self.ar.to_arb(d, self.prec)
        else:
            ea = self.ar.to_arb(eta, self.prec)
            with self.context():
                da = [e - t for e, t in zip(ea, self.image(theta))]
                if not self.ar.rigorous:   # values are exact numbers: the norm needs no enclosure
                    s2 = sum((x * x for x in da), arb(0))
                    if s2 > 0:
                        ball = s2.sqrt()
                        worst = max(range(len(da)), key=lambda r: abs(da[r]))
                        return Deviation(ball, float(ball.mid()), False, None, worst, None)
        with self.context():
            ball = _norm_ball(da)
            nonzero = any(not x.contains(0) for x in da)
            worst = int(np.argmax([float(x.abs_upper()) for x in da])) if da else -1
        value = float(ball.upper()) if self.ar.rigorous and self.ar.name != "exact" else _float(ball)
        return Deviation(ball, value, nonzero, exact_zero, worst, exact_diff)

    def direction_deviation(self, theta, eta):
        """‖η/‖η‖ − Tθ/‖θ‖‖ (the ω-limit statement compares these directions)."""
        ea = self.ar.to_arb(eta, self.prec)
        img = self.image(theta)
        with self.context():
            ne = sum((x * x for x in ea), arb(0)).sqrt()
            nt = sum((x * x for x in img), arb(0)).sqrt()
            if not (ne > 0 and nt > 0):
                return None
            return _norm_ball([e / ne - t / nt for e, t in zip(ea, img)])

    def direction_figure(self, theta, eta):
        """``(text, tier)``: ‖η/‖η‖ − Tθ/‖Tθ‖‖ as reported and the tier it was computed in.

        Exact tier: 0 exactly when η = λ·Tθ for an exact λ > 0 (in particular when η = Tθ);
        otherwise the directions differ and the figure is a rigorous upper bound. Ball tier: a
        rigorous upper bound. Rounding tiers: the value at the stored iterates (observed).
        ``text`` is ``None`` when η or Tθ is 0 (no direction).
        """
        ar = self.ar
        if ar.name == "exact":
            par = self._exactly_parallel(theta, eta)
            if par is None:
                return None, "exact (eta_N or T theta_N is 0: no direction)"
            if par:
                return "0", "exact"
        d = self.direction_deviation(theta, eta)
        if d is None:
            return None, ("exact (eta_N or T theta_N is 0: no direction)" if ar.name == "exact"
                          else f"{ar.label} (observed: no direction)")
        if ar.rigorous:
            return format_upper(d), "rigorous enclosure (upper bound)"
        return format_arb(d), f"{ar.label} (observed)"

    def _exactly_parallel(self, theta, eta):
        """Exact tier: whether η = λ·Tθ for some λ > 0 (``None`` if η or Tθ is 0; ``False`` also
        when the number field is not Q and η ≠ Tθ, leaving the figure to a rigorous bound)."""
        ar = self.ar
        img = ar.take(theta, self._keep) * self._coef_exact
        if ar.is_zero(img) or ar.is_zero(eta):
            return None
        if ar.is_zero(eta - img):
            return True
        if ar.domain.field.degree != 1:
            return False
        e, t = list(eta.c[0]), list(img.c[0])
        r = next(i for i, x in enumerate(t) if x != 0)
        lam = e[r] / t[r]
        return lam > 0 and all(a == lam * b for a, b in zip(e, t))

    # -- per-net figures ------------------------------------------------------------------------
    def norm2(self, theta):
        ta = self.ar.to_arb(theta, self.prec)
        with self.context():
            return sum((x * x for x in ta), arb(0))

    def qmin(self, q, candidates=None):
        """The smallest margin as an arb ball (``candidates``: indices known to contain the argmin)."""
        ar = self.ar
        if candidates is not None and ar.numpy_backed and ar.name != "float":
            return min((q[i] for i in candidates), key=lambda x: x.mid())
        if ar.name == "float":
            return arb(float(np.min(q)))
        if ar.name == "exact":
            if ar.domain.field.degree == 1:
                return self._exact_arb(min(q.c[0]))
            qa = ar.to_arb(q, self.prec)
            return min(qa, key=lambda x: x.mid())
        return ar.to_arb([min(q)], self.prec)[0]      # arb: itself; mpmath: exact conversion

    def _exact_arb(self, x):
        with self.context():
            return arb(x)

    def loss_sum(self, q, engine=None):
        """Σ_k ℓ(q_k) over the given margins (arb), or None for the squared hinge."""
        if self.loss is None or self.loss.name == "squared_hinge":
            return None
        hint = engine.loss_sum_hint(q) if engine is not None else None
        if hint is not None:
            return hint
        if self.ar.name == "float":
            from flint import arb as _arb

            qf = np.asarray(q, dtype=float)
            with np.errstate(over="ignore", under="ignore"):
                v = np.exp(-qf).sum() if self.loss.name == "exp" else np.logaddexp(0.0, -qf).sum()
            return _arb(float(v))
        qa = self.ar.to_arb(q, self.prec)
        with self.context():
            return sum((self.loss.value_arb(x) for x in qa), arb(0))

    def smoothed_margin(self, loss_sum, norm2):
        """Lyu–Li's smoothed normalized margin γ̃ = log(1/L)/‖θ‖^L (exp) or log(1/(e^L − 1))/‖θ‖^L
        (logistic), L = Σ ℓ(q_k); ``None`` unless L < ℓ(0) (then every margin is positive)."""
        if loss_sum is None:
            return None
        with self.context():
            if self.loss.name == "exp":
                if not loss_sum < 1:
                    return None
                num = -loss_sum.log()
            else:
                if not loss_sum < arb(2).log():
                    return None
                num = -loss_sum.expm1().log()
            L = self.L
            denom = norm2 ** (L // 2) if L % 2 == 0 else norm2.sqrt() ** L
            return num / denom

    def gamma(self, qmin, norm2):
        """γ̄ = q_min / ‖θ‖^L."""
        with self.context():
            L = self.L
            denom = norm2 ** (L // 2) if L % 2 == 0 else norm2.sqrt() ** L
            return qmin / denom

    def point(self, theta, q, grad):
        """:class:`PointDiagnostics` at θ with full-data margins ``q`` and gradient ``grad``."""
        ta = self.ar.to_arb(theta, self.prec)
        qa = self.ar.to_arb(q, self.prec)
        ga = self.ar.to_arb(grad, self.prec)
        L = self.L
        with self.context():
            norm2 = sum((x * x for x in ta), arb(0))
            norm = norm2.sqrt()
            w = arb(1) / len(qa) if self.reduction == "mean" else arb(1)
            vs = [self.loss.value_slope_arb(x) for x in qa]
            loss = sum((v for v, _ in vs), arb(0)) * w
            qmin = min(qa, key=lambda x: x.mid())
            gamma = self.gamma(qmin, norm2)
            eps = delta = None
            gnorm = sum((x * x for x in ga), arb(0)).sqrt()
            if qmin > 0 and gnorm > 0 and norm > 0:
                r = qmin.root(L)                      # q_min^(1/L)
                eps = norm / r * sum(((t / norm + g / gnorm) ** 2 for t, g in zip(ta, ga)), arb(0)).sqrt()
                beta = norm * r ** (L - 2) / gnorm
                lam = [beta * w * sl for _, sl in vs]
                delta = sum((l * (x / qmin - 1) for l, x in zip(lam, qa)), arb(0))
            return PointDiagnostics(norm, loss, qmin, gamma, eps, delta)
