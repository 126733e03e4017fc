"""Activation functions as exact piecewise monomials, with their Clarke intervals at kinks.

Every ReLU-family activation is σ(z) = c₊·z^p for z ≥ 0 and c₋·z^p for z < 0 (relu: c₊ = 1,
c₋ = 0; leaky slope s: c₋ = s; poly_relu power p: c₋ = 0; poly_leaky_relu: c₋ = s^p; linear:
c₊ = c₋ = 1). For p = 1 and c₊ ≠ c₋ the derivative jumps at 0 and the Clarke subdifferential
there is the interval [min(c₊, c₋), max(c₊, c₋)]; no library's derivative-at-0 convention is
used. Polynomials Σ cᵢ zⁱ and tanh are smooth.

What this module decides: positive homogeneity of each activation, proved by cases on the
sign of z (c > 0 keeps the sign, and on each side σ is the monomial c± z^p, so
σ(c z) = c^p σ(z) is a polynomial identity that sympy checks by expansion).

Examples
--------
>>> from symkkt.spec import Activation
>>> rule = ActivationRule(Activation("leaky_relu", slope=sympy.Rational(1, 5)))
>>> rule.clarke_interval()
(1/5, 1)
>>> rule.homogeneity()
(1, '')
>>> ActivationRule(Activation("tanh")).homogeneity()
(None, 'tanh is not positively homogeneous')
"""

from __future__ import annotations

import sympy

from . import tensor as T
from .field import as_sympy
from .numbers import exact_sign

_z, _c = sympy.symbols("z c", real=True)


class ActivationRule:
    """Exact semantics of one activation (value, derivative, kinks, homogeneity).

    Parameters
    ----------
    activation : symkkt.spec.Activation
    """

    def __init__(self, activation):
        self.spec = activation
        kind = activation.kind
        self.kind = kind
        one = sympy.Integer(1)
        if kind in ("linear", "relu", "leaky_relu", "poly_relu", "poly_leaky_relu"):
            p = int(activation.power or 1)
            minus = {"linear": one, "relu": sympy.Integer(0), "poly_relu": sympy.Integer(0),
                     "leaky_relu": activation.slope,
                     "poly_leaky_relu": (activation.slope or 0) ** p}[kind]
            self.plus, self.minus, self.power = one, as_sympy(minus), p
            self.coeffs = None
        elif kind == "polynomial":
            self.coeffs = tuple(activation.coeffs)
            self.plus = self.minus = self.power = None
        elif kind == "tanh":
            self.coeffs = None
            self.plus = self.minus = self.power = None
        else:  # pragma: no cover - spec validates kinds
            raise ValueError(f"unknown activation {kind}")

    @property
    def piecewise(self):
        """True for the ReLU family (σ = c± z^p on each side of 0)."""
        return self.power is not None

    @property
    def has_kink(self):
        """Whether σ is not differentiable at 0."""
        return self.piecewise and self.power == 1 and self.plus != self.minus

    def clarke_interval(self):
        """The Clarke subdifferential of σ at 0 as ``(lo, hi)``, or ``None`` if smooth."""
        if not self.has_kink:
            return None
        return (min(self.plus, self.minus), max(self.plus, self.minus))

    def constants(self):
        """The exact constants this activation brings into the arithmetic."""
        if self.piecewise:
            return [self.plus, self.minus]
        return list(self.coeffs or [])

    # -- symbolic ---------------------------------------------------------------------------
    def symbolic(self, z):
        """σ(z) as a sympy expression (Max/Piecewise for the ReLU family)."""
        if self.piecewise:
            if self.plus == self.minus:
                return self.plus * z**self.power
            return sympy.Piecewise((self.plus * z**self.power, z >= 0), (self.minus * z**self.power, True))
        if self.kind == "polynomial":
            return sum(c * z**i for i, c in enumerate(self.coeffs))
        return sympy.tanh(z)

    def homogeneity(self):
        """``(p, "")`` if σ(cz) = c^p σ(z) for all c > 0 and z, else ``(None, reason)``.

        The proof: for c > 0, cz and z lie on the same side of 0, where σ is one polynomial
        branch f; the identity f(cz) - c^p f(z) = 0 is checked by sympy expansion.
        """
        if self.kind == "tanh":
            return None, "tanh is not positively homogeneous"
        if self.piecewise:
            branches = [self.plus * _z**self.power, self.minus * _z**self.power]
            p = self.power
        else:
            poly = sum(c * _z**i for i, c in enumerate(self.coeffs))
            degrees = [i for i, c in enumerate(self.coeffs) if c != 0]
            if len(degrees) != 1:
                return None, ("polynomial activation with several degrees "
                              f"{degrees} is not homogeneous" if degrees else "zero activation")
            branches, p = [poly], degrees[0]
        for f in branches:
            if sympy.expand(f.subs(_z, _c * _z) - _c**p * f) != 0:  # pragma: no cover
                return None, f"branch {f} is not {p}-homogeneous"
        return p, ""

    def value_at_zero(self):
        """σ(0), exactly (tanh(0) = 0)."""
        if self.kind == "polynomial":
            return self.coeffs[0]
        return sympy.Integer(0)

    def _monomial_everywhere(self):
        """The degree p if σ(z) = c·z^p for every real z, else None."""
        if self.piecewise and self.plus == self.minus:
            return self.power
        if self.kind == "polynomial":
            degrees = [i for i, c in enumerate(self.coeffs) if c != 0]
            return degrees[0] if len(degrees) == 1 else None
        return None

    def scaling(self, a):
        """``(f, c)`` with σ(a·t) = f·σ(t) + c for every real t, or ``None`` if no such law holds.

        Laws used (each a one-line identity): a = 1; a = 0 gives the constant σ(0);
        σ = c·z^p on all of R gives a^p for every a; a positively p-homogeneous σ gives a^p
        for a > 0 (:meth:`homogeneity`, proved by sign cases).

        Examples
        --------
        >>> from symkkt.spec import Activation
        >>> relu = ActivationRule(Activation("relu"))
        >>> relu.scaling(sympy.Rational(3, 5)), relu.scaling(sympy.Rational(-3, 5))
        ((3/5, 0), None)
        """
        a = as_sympy(a)
        zero = sympy.Integer(0)
        if a == 1:
            return sympy.Integer(1), zero
        if a == 0:
            return zero, self.value_at_zero()
        p = self._monomial_everywhere()
        if p is not None:
            return a**p, zero
        if self.piecewise and exact_sign(a) > 0:
            return a**self.power, zero
        return None

    def derivative_scaling(self, a):
        """``f`` with σ'(a·t) = f·σ'(t) for every t off kinks (a > 0: also the Clarke interval at a
        kink is the same), or ``None``."""
        a = as_sympy(a)
        if a == 1:
            return sympy.Integer(1)
        p = self._monomial_everywhere()
        if p is not None and a != 0:
            return a**(p - 1)
        if self.piecewise and exact_sign(a) > 0:
            return a**(self.power - 1)
        return None

    # -- numeric over a domain --------------------------------------------------------------
    def apply(self, dom, Z, S):
        """σ(Z) over the domain ``dom`` (S: exact signs of Z)."""
        if self.piecewise:
            if self.plus == self.minus:
                coef = dom.choose(S, {1: self.plus, -1: self.plus, 0: self.plus})
            else:
                coef = dom.choose(S, {1: self.plus, -1: self.minus, 0: 0})
            return T.power(Z, self.power) * coef
        if self.kind == "polynomial":
            out = dom.full(Z.shape, self.coeffs[-1])
            for c in reversed(self.coeffs[:-1]):
                out = out * Z + dom.full(Z.shape, c)
            return out
        return dom.tanh(Z)

    def derivative(self, dom, Z, S, kink_values=None):
        """σ'(Z); at kinks (S == 0) the entries of ``kink_values`` (default: lower end)."""
        if self.piecewise:
            p = self.power
            if p == 1:
                lo = min(self.plus, self.minus)
                coef = dom.choose(S, {1: self.plus, -1: self.minus, 0: lo})
                if self.has_kink and kink_values is not None:
                    mask = S == 0
                    if mask.any():
                        coef = T.where(mask, kink_values, coef)
                return coef
            coef = dom.choose(S, {1: p * self.plus, -1: p * self.minus, 0: 0})
            return T.power(Z, p - 1) * coef
        if self.kind == "polynomial":
            dc = [i * c for i, c in enumerate(self.coeffs)][1:] or [sympy.Integer(0)]
            out = dom.full(Z.shape, dc[-1])
            for c in reversed(dc[:-1]):
                out = out * Z + dom.full(Z.shape, c)
            return out
        t = dom.tanh(Z)
        return dom.full(Z.shape, 1) - t * t

