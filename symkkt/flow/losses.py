"""Margin losses ℓ(q) for training on q_k = y_k Φ(θ; x_k), and which tiers can evaluate them.

The training loss is L(θ) = (1/|B|) Σ_{k∈B} ℓ(q_k) over the batch B (``reduction="mean"``, the
default, as PyTorch's ``reduction="mean"``) or the plain sum Σ_{k∈B} ℓ(q_k) (``"sum"``, the L of
docs/mathematics.md §7). Its gradient is Σ_k w_k ℓ'(q_k) y_k ∇Φ(θ; x_k) with w_k = 1/|B| or 1; the two
choices differ by a constant factor in the learning rate and keep η_k = Tθ_k alike.

=================  =========================  ============================  =====================
``--loss``         ℓ(q)                       ℓ'(q)                         tiers
=================  =========================  ============================  =====================
``exp``            e^(−q)                     −e^(−q)                       precision, balls, float
``logistic``       log(1 + e^(−q))            −1/(1 + e^q)                  precision, balls, float
``squared_hinge``  max(0, 1 − q)²             −2 max(0, 1 − q)              all, including exact
=================  =========================  ============================  =====================

exp and logistic values are transcendental, so ``--exact`` refuses them; the squared hinge is
rational and C¹, its derivative piecewise linear, so it runs in Q exactly. (It is not one of
the losses of Lyu–Li's margin theory: its gradient vanishes once every margin exceeds 1.)

Loss values for the reports are computed from the tier's margins in arb ball arithmetic
(:meth:`Loss.value_arb`); only ℓ' runs in the tier itself (:meth:`Loss.derivative`).

Examples
--------
>>> from symkkt.flow.arith import make_arithmetic
>>> ar = make_arithmetic("exact")
>>> q = ar.vector([0, sympy.Rational(1, 2), 3])
>>> LOSSES["squared_hinge"].derivative(ar, q).to_sympy()
[-2, -1, 0]
>>> LOSSES["exp"].allowed("exact")
False
"""

from __future__ import annotations

import numpy as np
import sympy
from flint import arb

__all__ = ["Loss", "LOSSES", "get_loss"]


class Loss:
    """A margin loss: name, formulas, derivative in a tier, value in arb."""

    name = ""
    formula = ""
    rational = False

    def allowed(self, tier):
        """Whether the tier ``tier`` (flag name) can run this loss."""
        return self.rational or tier != "exact"

    def derivative(self, ar, q):
        """ℓ'(q) elementwise in the arithmetic ``ar``."""
        raise NotImplementedError

    def value_arb(self, q):
        """ℓ(q) for an arb ball ``q`` (rigorous)."""
        raise NotImplementedError

    def value_slope_arb(self, q):
        """``(ℓ(q), |ℓ'(q)|)`` for an arb ball ``q``."""
        raise NotImplementedError

    def __repr__(self):
        return f"<Loss {self.name}: {self.formula}>"


class ExpLoss(Loss):
    name = "exp"
    formula = "exp(-q)"

    def derivative(self, ar, q):
        return -ar.exp(-q)

    def value_arb(self, q):
        return (-q).exp()

    def value_slope_arb(self, q):
        e = (-q).exp()
        return e, e


class LogisticLoss(Loss):
    name = "logistic"
    formula = "log(1 + exp(-q))"

    def derivative(self, ar, q):
        one = ar.const(1)
        if ar.name == "float":
            with np.errstate(over="ignore"):
                return -1.0 / (1.0 + np.exp(q))
        return -(one / (ar.exp(q) + one))

    def value_arb(self, q):
        if q < 0:  # log(1 + e^(-q)) = -q + log(1 + e^q), without overflow
            return -q + q.exp().log1p()
        return (-q).exp().log1p()

    def value_slope_arb(self, q):
        return self.value_arb(q), 1 / (q.exp() + 1)


class SquaredHingeLoss(Loss):
    name = "squared_hinge"
    formula = "max(0, 1 - q)^2"
    rational = True

    def derivative(self, ar, q):
        one = ar.const(1)
        two = ar.const(-2)
        return ar.relu(one - q) * two

    def value_arb(self, q):
        r = (arb(1) - q).max(arb(0))
        return r * r

    def value_slope_arb(self, q):
        r = (arb(1) - q).max(arb(0))
        return r * r, 2 * r


LOSSES = {cls.name: cls() for cls in (ExpLoss, LogisticLoss, SquaredHingeLoss)}


def get_loss(name):
    """The loss called ``name`` (KeyError if unknown)."""
    return LOSSES[name]
