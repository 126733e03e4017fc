"""The empirical-risk landscape: value, gradient, Hessian and Hessian inertia ([B], docs/mathematics.md §6).

:class:`LossProblem` is R(θ) = (1/n) Σ_i ℓ(f_θ(x_i), y_i) for a network of :mod:`symkkt.network`
(any activation, biases allowed) and one of three losses:

============  ===========================  =====================================
loss          ℓ(f, y)                      targets
============  ===========================  =====================================
``mse``       (f − y)²                     any real (exact) number
``exp``       exp(−y f)                    any real number (usually ±1)
``logistic``  log(1 + exp(−y f))           any real number (usually ±1)
============  ===========================  =====================================

What is decided exactly, and what is only high precision
-------------------------------------------------------
*Exact tier* (``"exact"``): the loss is ``mse`` and no activation is ``tanh``. Then R is a
polynomial in θ on each region where the ReLU-type units keep their signs, every value is a real
algebraic number, and all arithmetic happens in the number field Q(α) of θ, the data and the
activation constants (:mod:`symkkt.field`). Values, gradients and Hessians are exact sympy
numbers; ``gradient(θ).is_zero()`` decides criticality; the inertia of an exact symmetric
Hessian is decided from its characteristic polynomial by Descartes' rule of signs, which counts
the positive roots exactly when all roots are real (true for symmetric real matrices).

*High-precision tier* (``"high precision"``): ``tanh`` activations or the ``exp`` / ``logistic``
losses. Values are transcendental; they are computed with mpmath at ``dps`` decimal digits
(:class:`~symkkt.tensor.MPDomain`). Nothing is decided: in particular the inertia counts an
eigenvalue as zero when |λ| ≤ tol · max|λ| with tol = 10^(−dps/2), and reports the smallest
|λ| it counted as non-zero so a user can judge the gap.

Kinks: where a data point puts a ReLU-type unit exactly on its kink, R has no gradient; the
gradient and the Hessian raise :class:`KinkError` (the Hessian also at the second-order kink of
``poly_relu`` / ``poly_leaky_relu`` with power 2). Kinks are decided exactly whenever the
network has no ``tanh`` layer (otherwise at high precision only). At high precision the
Hessian also picks the active branch of each ReLU-type unit by an mpmath comparison.

Examples
--------
The shipped instance ``symkkt/examples/saddle``: an exact strict local minimum of a one-unit net
f(x) = a σ(w·x) with σ(z) = 1 + z + z², and non-zero residuals ...

>>> from symkkt.api import example_paths
>>> problem, theta = load_loss_problem(*example_paths("saddle"))
>>> problem.gradient(theta).is_zero(), problem.value(theta).value
(True, 5/32)
>>> H = problem.hessian(theta)
>>> H.value
Matrix([
[309/8, -3/8, 135/4],
[ -3/8,  3/4,     0],
[135/4,    0,    30]])
>>> problem.inertia(H)
Inertia(n_plus=3, n_zero=0, n_minus=0, tier='exact')

... becomes a strict saddle of the two-unit net after the one-step split T^α with α = 1/2
(docs/mathematics.md §6), and stays free of negative curvature with α = 2:

>>> from symkkt.spec import architecture_from_json
>>> wide = LossProblem(architecture_from_json({"input": [2], "layers": [
...     {"dense": {"width": 2, "activation": {"polynomial": {"coeffs": [1, 1, 1]}}}},
...     {"dense": {"width": 1}}]}), problem.data)
>>> w1, w2, a = theta
>>> def split(alpha):
...     return [w1, w2, w1, w2, alpha * a, (1 - alpha) * a]
>>> wide.gradient(split(sympy.Rational(1, 2))).is_zero()
True
>>> wide.inertia(split(sympy.Rational(1, 2))).counts, wide.inertia(split(2)).counts
((3, 1, 2), (5, 1, 0))
"""

from __future__ import annotations

import fractions
import operator
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy
from flint import fmpq, fmpq_mat

from .field import FieldElement, NumberField, as_sympy
from .network import Network
from .tensor import ExactDomain, MPDomain

__all__ = ["LossProblem", "Evaluation", "Inertia", "KinkError", "inertia", "load_loss_problem",
           "LOSSES", "EXACT", "HIGH_PRECISION", "MAX_HESSIAN_PARAMETERS"]

EXACT = "exact"
HIGH_PRECISION = "high precision"
#: the supported losses ℓ(f, y)
LOSSES = {"mse": "(f - y)^2", "exp": "exp(-y f)", "logistic": "log(1 + exp(-y f))"}
#: largest number of parameters :meth:`LossProblem.hessian` accepts
MAX_HESSIAN_PARAMETERS = 80


class KinkError(ValueError):
    """θ puts a data point on a kink of a ReLU-type unit: the derivative asked for does not exist.

    Attributes
    ----------
    kinks : dict
        ``{point: ["LAYER:UNIT", ...]}`` (1-based weight layer, flat unit), as in
        :meth:`LossProblem.kinks`.
    """

    def __init__(self, message, kinks):
        super().__init__(message)
        self.kinks = kinks


@dataclass(frozen=True)
class Evaluation:
    """A value, gradient or Hessian of R with the tier it was computed in.

    Attributes
    ----------
    value
        Exact tier: a sympy number (value), a list of sympy numbers (gradient) or a
        ``sympy.Matrix`` (Hessian). High-precision tier: ``mpmath.mpf``, a list of ``mpf`` or
        an ``mpmath.matrix``.
    tier : str
        ``"exact"`` or ``"high precision"``.
    dps : int or None
        Working precision (decimal digits) of the high-precision tier; ``None`` when exact.
    kind : str
        ``"value"``, ``"gradient"``, ``"hessian"`` or ``"outputs"``.
    """

    value: object
    tier: str
    dps: int | None = None
    kind: str = ""

    @property
    def exact(self):
        return self.tier == EXACT

    def _entries(self):
        if self.kind == "hessian":
            return list(self.value) if self.exact else [self.value[i, j] for i in range(self.value.rows)
                                                        for j in range(self.value.cols)]
        return list(self.value) if self.kind in ("gradient", "outputs") else [self.value]

    @property
    def values(self):
        """The entries as a flat list (gradient and outputs: the list itself; Hessian: row-major)."""
        return self._entries()

    @property
    def matrix(self):
        """A Hessian as a ``sympy.Matrix`` (high-precision tier: sympy Floats with ``dps`` digits)."""
        if self.kind != "hessian":
            raise AttributeError(f"a {self.kind} has no matrix")
        if self.exact:
            return self.value
        return sympy.Matrix(self.value.rows, self.value.cols,
                            lambda i, j: sympy.Float(self.value[i, j], self.dps))

    def is_zero(self):
        """Whether every entry is exactly 0 (exact tier only).

        Raises
        ------
        ValueError
            In the high-precision tier, where zero cannot be decided; compare
            :meth:`max_abs` with a tolerance instead.
        """
        if not self.exact:
            raise ValueError("high-precision values cannot be decided to be zero; "
                             "compare max_abs() with a tolerance")
        return all(v == 0 for v in self._entries())

    def max_abs(self):
        """The largest absolute value of an entry (exact sympy number or ``mpf``)."""
        entries = self._entries()
        if self.exact:
            return max((abs(v) for v in entries), key=lambda v: sympy.N(v, 30), default=sympy.Integer(0))
        return max((abs(v) for v in entries), default=mpmath.mpf(0))

    def to_float(self):
        """A float64 approximation: ``float``, or a numpy array for gradients and Hessians."""
        conv = (lambda v: float(sympy.N(v, 20))) if self.exact else float
        if self.kind == "hessian":
            return np.array([[conv(self.value[i, j]) for j in range(self.value.cols)]
                             for i in range(self.value.rows)])
        if self.kind in ("gradient", "outputs"):
            return np.array([conv(v) for v in self.value])
        return conv(self.value)

    def __repr__(self):
        extra = "" if self.exact else f", dps={self.dps}"
        return f"Evaluation({self.kind}, tier={self.tier!r}{extra}, value={self.value!r})"


class Inertia(tuple):
    """The inertia ``(n_plus, n_zero, n_minus)`` of a symmetric matrix, with how it was found.

    A tuple of the three counts (so ``inertia(H) == (3, 0, 0)`` works) with attributes:

    Attributes
    ----------
    n_plus, n_zero, n_minus : int
    tier : str
        ``"exact"`` (Descartes' rule on the exact characteristic polynomial) or
        ``"high precision"`` (``mpmath.eigsy`` with a tolerance).
    charpoly : list or None
        Exact tier: coefficients of det(λI − H), low to high degree, as sympy numbers.
    eigenvalues : list or None
        High-precision tier: the eigenvalues (``mpf``), ascending.
    tol : mpf or None
        High-precision tier: the absolute threshold; |λ| ≤ tol counted as zero.
    smallest_nonzero : mpf or None
        High-precision tier: the smallest |λ| counted as non-zero (``None`` if none).
    largest_zero : mpf or None
        High-precision tier: the largest |λ| counted as zero (``None`` if none).
    """

    def __new__(cls, n_plus, n_zero, n_minus, tier, charpoly=None, eigenvalues=None, tol=None,
                smallest_nonzero=None, largest_zero=None, dps=None):
        self = super().__new__(cls, (n_plus, n_zero, n_minus))
        self.tier = tier
        self.charpoly = charpoly
        self.eigenvalues = eigenvalues
        self.tol = tol
        self.smallest_nonzero = smallest_nonzero
        self.largest_zero = largest_zero
        self.dps = dps
        return self

    n_plus = property(lambda self: self[0])
    n_zero = property(lambda self: self[1])
    n_minus = property(lambda self: self[2])

    @property
    def counts(self):
        return tuple(self)

    def __repr__(self):
        out = f"Inertia(n_plus={self[0]}, n_zero={self[1]}, n_minus={self[2]}, tier={self.tier!r}"
        if self.tier != EXACT:
            small = mpmath.nstr(self.smallest_nonzero, 5) if self.smallest_nonzero is not None else None
            out += f", tol={mpmath.nstr(self.tol, 5)}, smallest_nonzero={small}"
        return out + ")"


# -- the loss -----------------------------------------------------------------------------------
def _loss_mp(loss, f, y):
    """ℓ, ℓ' and ℓ'' (derivatives in f) at high precision (inside an mpmath precision context)."""
    if loss == "mse":
        d = f - y
        return d * d, 2 * d, mpmath.mpf(2)
    if loss == "exp":
        e = mpmath.exp(-y * f)
        return e, -y * e, y * y * e
    # logistic: ℓ = log(1 + e^{-u}), u = y f; ℓ' = -y s(-u), ℓ'' = y² s(u) s(-u), s = sigmoid
    u = y * f
    value = mpmath.log1p(mpmath.exp(-u))
    s_minus = 1 / (1 + mpmath.exp(u))
    s_plus = 1 / (1 + mpmath.exp(-u))
    return value, -y * s_minus, y * y * s_plus * s_minus


def _exact_number(v, where):
    if isinstance(v, str):
        from .numbers import parse_number

        return parse_number(v, place=where)
    if isinstance(v, float):
        raise TypeError(f"{where}: float {v!r} is not exact; pass sympy.Rational({v!r}) for its binary value "
                        "or a string such as '1/10'")
    if isinstance(v, (int, fmpq, fractions.Fraction)):
        return as_sympy(v)
    if isinstance(v, FieldElement):
        return v.to_sympy()
    if isinstance(v, sympy.Basic) and v.is_number and not v.has(sympy.Float):
        return v
    raise TypeError(f"{where}: not an exact number: {v!r}")


class LossProblem:
    """The empirical risk R(θ) = (1/n) Σ_i ℓ(f_θ(x_i), y_i) of a network on a data set.

    Parameters
    ----------
    network : Network or symkkt.spec.Architecture
        Any activation (ReLU family, polynomial, tanh) and biases.
    data : symkkt.spec.Dataset
        Exact inputs ``X`` and targets ``y`` (any real numbers).
    loss : {"mse", "exp", "logistic"}

    Examples
    --------
    One unit, f(x) = a σ(w x) with σ(z) = z + z², two points (1, 1) and (2, 1/2); at
    θ = (w, a) = (1, 1/2) the outputs are f = (1, 3), the residuals (0, 5/2).

    >>> from symkkt.spec import architecture_from_json, data_from_json
    >>> arch = architecture_from_json({"input": [1], "layers": [
    ...     {"dense": {"width": 1, "activation": {"polynomial": {"coeffs": [0, 1, 1]}}}},
    ...     {"dense": {"width": 1}}]})
    >>> data = data_from_json({"points": [{"x": [1], "y": 1}, {"x": [2], "y": "1/2"}]}, arch=arch)
    >>> problem = LossProblem(arch, data)
    >>> problem.tier()
    'exact'
    >>> theta = [sympy.Integer(1), sympy.Rational(1, 2)]
    >>> problem.value(theta).value      # f = (1, 3): ((1-1)² + (3-1/2)²)/2
    25/8
    >>> problem.gradient(theta).value
    [25/2, 15]
    """

    def __init__(self, network, data, loss="mse"):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
        self.network = network if isinstance(network, Network) else Network(network)
        self.data = data
        self.loss = loss
        self.n = len(data.y)
        if self.n == 0:
            raise ValueError("the data set is empty")
        size = int(np.prod(self.network.arch.input))
        for k, x in enumerate(data.X):
            if len(x) != size:
                raise ValueError(f"point {k} has {len(x)} entries; the network's input needs {size}")
        self._has_tanh = any(r.kind == "tanh" for r in self.network.rules.values())
        self._symbols = sympy.symbols(f"theta0:{self.network.num_parameters}")
        self._compiled = None       # (keys, compiled Hessian of Φ(θ; x), constants)

    def __repr__(self):
        return (f"LossProblem: R(theta) = 1/{self.n} sum_i l(f(x_i), y_i) with l = {LOSSES[self.loss]} "
                f"({self.loss}); m = {self.network.num_parameters} parameters, tier {self.tier()!r}")

    # -- tiers and domains ------------------------------------------------------------------
    def tier(self, theta=None):
        """``"exact"`` for the ``mse`` loss without ``tanh``, else ``"high precision"``.

        The tier does not depend on θ (algebraic θ stays exact); ``theta`` is accepted for
        symmetry with the other methods.
        """
        return EXACT if self.loss == "mse" and not self._has_tanh else HIGH_PRECISION

    def _theta(self, theta):
        if hasattr(theta, "layers"):  # a symkkt.spec.Parameters
            theta = self.network.flatten(theta)
        theta = list(theta)
        m = self.network.num_parameters
        if len(theta) != m:
            raise ValueError(f"theta has {len(theta)} entries; the network has {m} parameters "
                             f"({', '.join(self.network.parameter_names)})")
        return [_exact_number(v, f"theta[{j}]") for j, v in enumerate(theta)]

    def _exact_domain(self, theta):
        numbers = list(theta) + [v for x in self.data.X for v in x] + list(self.data.y) + \
            self.network.constants()
        return ExactDomain.for_numbers(numbers)

    def _X(self):
        return [list(x) for x in self.data.X]

    def _forward(self, theta, dps):
        """``(domain, trace)`` in the tier's domain."""
        if self.tier() == EXACT:
            dom = self._exact_domain(theta)
        else:
            dom = MPDomain(dps)
        return dom, self.network.forward(dom, theta, self._X())

    # -- kinks --------------------------------------------------------------------------------
    def kinks(self, theta, order=1, dps=50):
        """Data points on a kink: ``{point: ["LAYER:UNIT", ...]}`` (empty when R is smooth there).

        Kinks that cannot matter are left out: units that never reach the output, and (for
        ``order`` 1) units whose outgoing weights are all exactly 0.

        Parameters
        ----------
        theta : list
            Flat exact parameters.
        order : {1, 2}
            1: kinks of σ itself (ReLU, leaky ReLU), where the gradient does not exist.
            2: also the points where σ'' jumps (``poly_relu`` / ``poly_leaky_relu`` of power 2),
            where the Hessian does not exist.
        dps : int
            Precision of the sign decisions when a ``tanh`` layer precedes a ReLU-type unit
            (then the kinks are found at high precision only; otherwise exactly).
        """
        theta = self._theta(theta)
        net = self.network

        def relevant(rule):
            if not rule.piecewise or rule.plus == rule.minus:
                return False
            return rule.power == 1 or (order >= 2 and rule.power == 2)

        if not any(relevant(r) for r in net.rules.values()):
            return {}
        dom = MPDomain(dps) if self._has_tanh else self._exact_domain(theta)
        trace = net.forward(dom, theta, self._X())
        skip = _harmless_kinks(net, theta, order)
        out = {}
        for k in range(self.n):
            units = []
            for i, S in trace.signs.items():
                if S is not None and relevant(net.rules[i]):
                    flat = S[..., k].ravel()
                    units += [net.unit_label(i, int(u)) for u in np.nonzero(flat == 0)[0] if (i, int(u)) not in skip]
            if units:
                out[k] = units
        return out

    def _refuse_kinks(self, theta, order, what, dps):
        found = self.kinks(theta, order=order, dps=dps)
        if found:
            where = "; ".join(f"point {k}: units {', '.join(u)}" for k, u in found.items())
            raise KinkError(f"{what} of R does not exist at theta: data points sit on kinks ({where})", found)

    # -- value and gradient -------------------------------------------------------------------
    def outputs(self, theta, dps=50):
        """The network outputs f_θ(x_i) as an :class:`Evaluation` (a list)."""
        theta = self._theta(theta)
        dom, trace = self._forward(theta, dps)
        if self.tier() == EXACT:
            return Evaluation(trace.output.to_sympy(), EXACT, None, "outputs")
        return Evaluation(list(trace.output), HIGH_PRECISION, dps, "outputs")

    def value(self, theta, dps=50):
        """R(θ) as an :class:`Evaluation` (exact sympy number, or ``mpf`` at ``dps`` digits).

        Examples
        --------
        >>> from symkkt.spec import architecture_from_json, data_from_json
        >>> arch = architecture_from_json({"input": [1], "layers": [{"dense": {"width": 1}}]})
        >>> data = data_from_json({"points": [{"x": [1], "y": 1}, {"x": [-1], "y": -1}]})
        >>> LossProblem(arch, data, "exp").value([0], dps=20)
        Evaluation(value, tier='high precision', dps=20, value=mpf('1.0'))
        """
        theta = self._theta(theta)
        dom, trace = self._forward(theta, dps)
        if self.tier() == EXACT:
            r = trace.output - dom.array(list(self.data.y))
            total = (r * r).sum().elements()[0] * fmpq(1, self.n)
            return Evaluation(total.to_sympy(), EXACT, None, "value")
        with dom.context():
            ys = dom.array(list(self.data.y))
            total = mpmath.fsum(_loss_mp(self.loss, f, y)[0] for f, y in zip(trace.output, ys)) / self.n
        return Evaluation(total, HIGH_PRECISION, dps, "value")

    def _first_order(self, theta, dps):
        """Domain, trace, Jacobian (m, n) and ℓ'(f_i), ℓ''(f_i) in the tier's domain."""
        dom, trace = self._forward(theta, dps)
        J = self.network.jacobian(trace, list(range(self.n)))
        if self.tier() == EXACT:
            d1 = (trace.output - dom.array(list(self.data.y))) * 2
            return dom, trace, J, d1, None
        with dom.context():
            ys = dom.array(list(self.data.y))
            parts = [_loss_mp(self.loss, f, y) for f, y in zip(trace.output, ys)]
        d1 = np.array([p[1] for p in parts], dtype=object)
        d2 = np.array([p[2] for p in parts], dtype=object)
        return dom, trace, J, d1, d2

    def gradient(self, theta, dps=50):
        """∇R(θ) = (1/n) Σ_i ℓ'(f_i) ∇_θ f_i as an :class:`Evaluation` (a list of length m).

        Raises
        ------
        KinkError
            When a data point puts a ReLU-type unit on its kink (no gradient there).

        Examples
        --------
        >>> from symkkt.spec import architecture_from_json, data_from_json
        >>> arch = architecture_from_json({"input": [1], "layers": [
        ...     {"dense": {"width": 1, "activation": "relu"}}, {"dense": {"width": 1}}]})
        >>> data = data_from_json({"points": [{"x": [0], "y": 1}]})
        >>> LossProblem(arch, data).gradient([1, 1])
        Traceback (most recent call last):
        ...
        symkkt.landscape.KinkError: gradient of R does not exist at theta: data points sit on kinks (point 0: units 1:0)
        """
        theta = self._theta(theta)
        self._refuse_kinks(theta, 1, "gradient", dps)
        dom, trace, J, d1, _ = self._first_order(theta, dps)
        if self.tier() == EXACT:
            g = (J @ d1.reshape(self.n, 1)) * fmpq(1, self.n)
            return Evaluation([v.to_sympy() for v in g.elements()], EXACT, None, "gradient")
        with dom.context():
            g = [mpmath.fsum(J[j, k] * d1[k] for k in range(self.n)) / self.n for j in range(J.shape[0])]
        return Evaluation(g, HIGH_PRECISION, dps, "gradient")

    # -- Hessian ------------------------------------------------------------------------------
    def _compiled_hessian(self):
        """The sympy Hessian of Φ(θ; x) in symbols θ and x, compiled once per problem.

        Returns ``(keys, code)``: the index pairs (j, k), j ≤ k, of the entries that are not
        identically zero, and a :class:`_Compiled` function of (θ, x, κ) returning them, where κ
        are the irrational constants of the activations (passed in as numbers of the domain).
        ReLU-type units stay ``Piecewise``: the compiled code picks the branch by an exact
        comparison (exact tier) or an mpmath one (high-precision tier).
        """
        if self._compiled is None:
            net = self.network
            size = int(np.prod(net.arch.input))
            xs = sympy.symbols(f"x0:{size}")
            phi = net.symbolic_output(self._symbols, xs)
            phi, consts = _lift_constants(phi)
            syms = self._symbols
            keys, entries = [], []
            first = [sympy.diff(phi, t) for t in syms]
            for j, dj in enumerate(first):
                if dj == 0:
                    continue
                for k in range(j, len(syms)):
                    d = sympy.diff(dj, syms[k])
                    if d != 0:
                        keys.append((j, k))
                        entries.append(d)
            code = _Compiled(list(syms) + list(xs) + [c for c, _ in consts], entries)
            self._compiled = (keys, code, [v for _, v in consts])
        return self._compiled

    def hessian(self, theta, dps=50):
        """The m×m Hessian ∇²R(θ) as an :class:`Evaluation`.

        Computed as (1/n) Σ_i [ℓ''(f_i) ∇f_i ∇f_iᵀ + ℓ'(f_i) ∇²f_i]: the gradients ∇f_i by the
        reverse pass of :meth:`Network.jacobian`, the Hessians ∇²f_i from the sympy Hessian of
        Φ(θ; x) (differentiated once per problem, with x symbolic, and compiled) evaluated at θ
        and x_i; ReLU-type units on their active branch at θ. Exact tier: exact arithmetic in
        Q(α), entries exact sympy numbers. High-precision tier: mpmath at ``dps`` digits.

        Raises
        ------
        ValueError
            For more than :data:`MAX_HESSIAN_PARAMETERS` parameters.
        KinkError
            When a data point sits on a kink of σ or σ' (no Hessian there).

        Examples
        --------
        >>> from symkkt.spec import architecture_from_json, data_from_json
        >>> arch = architecture_from_json({"input": [1], "layers": [
        ...     {"dense": {"width": 1, "activation": {"polynomial": {"coeffs": [0, 1, 1]}}}},
        ...     {"dense": {"width": 1}}]})
        >>> data = data_from_json({"points": [{"x": [1], "y": 1}]}, arch=arch)
        >>> LossProblem(arch, data).hessian([1, 1]).value   # R = (a(w + w²) - 1)²
        Matrix([
        [22, 18],
        [18,  8]])
        """
        m = self.network.num_parameters
        if m > MAX_HESSIAN_PARAMETERS:
            raise ValueError(f"the Hessian is for small instances: {m} parameters > "
                             f"{MAX_HESSIAN_PARAMETERS}")
        theta = self._theta(theta)
        self._refuse_kinks(theta, 2, "Hessian", dps)
        dom, trace, J, d1, d2 = self._first_order(theta, dps)
        keys, code, consts = self._compiled_hessian()
        n = self.n

        if self.tier() == EXACT:
            K = dom.field
            if K.degree == 1:
                conv, one = (lambda v: K.coords(v)[0]), fmpq(1)
                weights = list(d1.c[0].ravel())
            else:
                conv, one = K.element, K.element(1)
                weights = d1.elements()
            fixed = [conv(v) for v in theta]
            kappa = [conv(v) for v in consts]
            acc = [0] * len(keys)
            for i, x in enumerate(self.data.X):
                if weights[i] == 0:
                    continue
                vals = code(fixed + [conv(v) for v in x] + kappa, one)
                acc = [a + weights[i] * v for a, v in zip(acc, vals)]
            GN = ((J @ J.T) * 2).elements()          # Σ ℓ'' ∇f ∇fᵀ with ℓ'' = 2
            second = dict(zip(keys, acc))
            inv_n = fmpq(1, n)
            H = [[None] * m for _ in range(m)]
            for j in range(m):
                for k in range(j, m):
                    entry = GN[j * m + k]
                    if (j, k) in second:
                        extra = second[(j, k)]
                        entry = entry + (extra if K.degree > 1 else FieldElement(K, (fmpq(extra),)))
                    H[j][k] = H[k][j] = (entry * inv_n).to_sympy()
            return Evaluation(sympy.Matrix(H), EXACT, None, "hessian")

        with dom.context():
            H = mpmath.matrix(m, m)
            for j in range(m):
                for k in range(j, m):
                    H[j, k] = mpmath.fsum(d2[i] * J[j, i] * J[k, i] for i in range(n))
            fixed = [dom._convert(v) for v in theta]
            kappa = [dom._convert(v) for v in consts]
            for i, x in enumerate(self.data.X):
                vals = code(fixed + [dom._convert(v) for v in x] + kappa, mpmath.mpf(1))
                for (j, k), v in zip(keys, vals):
                    H[j, k] += d1[i] * v
            for j in range(m):
                for k in range(j, m):
                    H[j, k] = H[j, k] / n
                    H[k, j] = H[j, k]
        return Evaluation(H, HIGH_PRECISION, dps, "hessian")

    def inertia(self, H, dps=None, tol=None):
        """The inertia of a Hessian; ``H`` an :class:`Evaluation`, a matrix, or θ itself.

        With θ (a flat parameter list) the Hessian is computed first. See :func:`inertia`.
        """
        if not isinstance(H, Evaluation) and _looks_flat(H, self.network.num_parameters):
            H = self.hessian(H, dps=dps or 50)
        return inertia(H, dps=dps, tol=tol)


def _looks_flat(obj, m):
    if hasattr(obj, "layers"):
        return True
    if isinstance(obj, (sympy.MatrixBase, mpmath.matrix, np.ndarray)):
        return False
    try:
        items = list(obj)
    except TypeError:
        return False
    return len(items) == m and not any(isinstance(v, (list, tuple)) for v in items)


# -- compiled symbolic derivatives --------------------------------------------------------------
def _lift_constants(expr):
    """Replace maximal irrational numeric subexpressions by symbols: ``(expr, [(symbol, value)])``."""
    found = {}

    def walk(e):
        if e.is_number and not e.is_Rational:
            if e not in found:
                found[e] = sympy.Symbol(f"kappa{len(found)}")
            return found[e]
        if not e.args or e.is_Atom:
            return e
        args = [walk(a) for a in e.args]
        return e.func(*args) if any(a is not b for a, b in zip(args, e.args)) else e

    out = walk(expr)
    return out, [(s, v) for v, s in found.items()]


_RELATIONS = {sympy.GreaterThan: operator.ge, sympy.StrictGreaterThan: operator.gt, sympy.LessThan: operator.le,
              sympy.StrictLessThan: operator.lt, sympy.Equality: operator.eq, sympy.Unequality: operator.ne}


class _Compiled:
    """Expressions in Add, Mul, integer Pow, Piecewise and tanh compiled to nested closures.

    Numbers are built by the caller's arithmetic: rationals from ``one`` (``fmpq``,
    :class:`~symkkt.field.FieldElement` or ``mpf``) so that exact inputs give exact results;
    comparisons in Piecewise conditions use that arithmetic's exact (or mpmath) order.
    Each closure takes ``(a, k, pw, th)``: the arguments, the rational constants, an integer
    power and tanh in the caller's arithmetic.
    """

    def __init__(self, args, exprs):
        self.consts = {}
        self._names = {a: i for i, a in enumerate(args)}
        self._fs = [self._build(e) for e in exprs]
        self._rationals = list(self.consts)

    def _build(self, e):
        if e in self._names:
            i = self._names[e]
            return lambda a, k, pw, th: a[i]
        if e.is_Rational:
            j = self.consts.setdefault(e, len(self.consts))
            return lambda a, k, pw, th: k[j]
        if e.is_Add or e.is_Mul:
            fs = [self._build(x) for x in e.args]
            op = operator.add if e.is_Add else operator.mul

            def combine(a, k, pw, th):
                out = fs[0](a, k, pw, th)
                for f in fs[1:]:
                    out = op(out, f(a, k, pw, th))
                return out
            return combine
        if e.is_Pow and e.exp.is_Integer:
            base, n = self._build(e.base), int(e.exp)
            return lambda a, k, pw, th: pw(base(a, k, pw, th), n)
        if isinstance(e, sympy.Piecewise):
            branches = [(self._build(b), None if c is sympy.true else self._build(c)) for b, c in e.args]

            def piecewise(a, k, pw, th):
                for value, cond in branches:
                    if cond is None or cond(a, k, pw, th):
                        return value(a, k, pw, th)
                return None
            return piecewise
        if type(e) in _RELATIONS:
            op, lhs, rhs = _RELATIONS[type(e)], self._build(e.lhs), self._build(e.rhs)
            return lambda a, k, pw, th: op(lhs(a, k, pw, th), rhs(a, k, pw, th))
        if isinstance(e, sympy.tanh):
            inner = self._build(e.args[0])
            return lambda a, k, pw, th: th(inner(a, k, pw, th))
        raise NotImplementedError(f"cannot compile {e} ({type(e).__name__})")

    def __call__(self, args, one):
        ks = [one * int(q.p) / int(q.q) for q in self._rationals]

        def power(b, k):
            if k < 0:
                return one / power(b, -k)
            out = one
            for _ in range(k):
                out = out * b
            return out

        th = _tanh_of(one)
        return [f(args, ks, power, th) for f in self._fs]


def _tanh_of(one):
    if isinstance(one, mpmath.mpf):
        return mpmath.tanh

    def refuse(_):
        raise ArithmeticError("tanh values are transcendental: no exact evaluation")
    return refuse


# -- inertia ------------------------------------------------------------------------------------
def _rows(H):
    if isinstance(H, mpmath.matrix):
        return [[H[i, j] for j in range(H.cols)] for i in range(H.rows)]
    if isinstance(H, sympy.MatrixBase):
        return H.tolist()
    return [list(r) for r in np.asarray(H, dtype=object).tolist()] if isinstance(H, np.ndarray) \
        else [list(r) for r in H]


def _is_exact_entry(v):
    if isinstance(v, (int, fmpq, fractions.Fraction, FieldElement)) and not isinstance(v, bool):
        return True
    return isinstance(v, sympy.Basic) and v.is_number and not v.has(sympy.Float)


def inertia(H, dps=None, tol=None):
    """The inertia ``(n_plus, n_zero, n_minus)`` of a real symmetric matrix.

    Parameters
    ----------
    H : Evaluation, sympy.Matrix, mpmath.matrix, numpy array or nested lists
        Exact entries (sympy rationals or real algebraic numbers, ints, fmpq) give the exact
        tier; ``mpf`` / ``float`` entries, or a high-precision :class:`Evaluation`, give the
        high-precision tier.
    dps : int, optional
        High-precision tier: working precision (default: the Evaluation's, else 50).
    tol : number, optional
        High-precision tier: relative tolerance (default 10^(−dps/2)); |λ| ≤ tol · max|λ|
        counts as zero.

    Returns
    -------
    Inertia

    Notes
    -----
    Exact tier: p(λ) = det(λI − H) = λ^k q(λ) with q(0) ≠ 0. All roots of p are real (H is
    symmetric), so Descartes' rule of signs is exact: n_plus = sign changes of the coefficients
    of q(λ), n_minus = sign changes of q(−λ), n_zero = k. Rational matrices use
    ``flint.fmpq_mat.charpoly``; algebraic ones a Hessenberg reduction in the number field
    Q(α) of the entries with exact signs (:class:`~symkkt.field.NumberField`).

    Examples
    --------
    >>> import sympy
    >>> inertia(sympy.diag(1, 0, -2))
    Inertia(n_plus=1, n_zero=1, n_minus=1, tier='exact')
    >>> inertia([[1, sympy.sqrt(2)], [sympy.sqrt(2), 2]])      # det = 0, trace 3
    Inertia(n_plus=1, n_zero=1, n_minus=0, tier='exact')
    >>> import mpmath
    >>> inertia(mpmath.matrix([[2, 0], [0, mpmath.mpf(10) ** -40]]), dps=50).counts
    (1, 1, 0)
    """
    tier = None
    if isinstance(H, Evaluation):
        tier, dps = H.tier, (dps or H.dps)
        H = H.value
    rows = _rows(H)
    n = len(rows)
    if any(len(r) != n for r in rows):
        raise ValueError("inertia needs a square matrix")
    if tier is None:
        tier = EXACT if all(_is_exact_entry(v) for r in rows for v in r) else HIGH_PRECISION
    if tier == EXACT:
        return _inertia_exact(rows)
    return _inertia_mp(rows, dps or 50, tol)


def _sign_changes(signs):
    nz = [s for s in signs if s != 0]
    return sum(1 for a, b in zip(nz, nz[1:]) if a != b)


def _inertia_exact(rows):
    n = len(rows)
    if n == 0:
        return Inertia(0, 0, 0, EXACT, charpoly=[sympy.Integer(1)])
    entries = [_exact_number(v, "H") for r in rows for v in r]
    K = NumberField.of(entries)
    A = [[K.element(entries[i * n + j]) for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if A[i][j] != A[j][i]:
                raise ValueError(f"the matrix is not symmetric (entries ({i},{j}) and ({j},{i}) differ); "
                                 "Descartes' rule counts eigenvalues only for symmetric matrices")
    if K.degree == 1:
        M = fmpq_mat(n, n, [A[i][j].c[0] for i in range(n) for j in range(n)])
        coeffs = [K.element(as_sympy(c)) for c in M.charpoly().coeffs()]
        coeffs += [K.element(0)] * (n + 1 - len(coeffs))
    else:
        coeffs = _charpoly_field(A, K)
    signs = [c.sign() for c in coeffs]               # low -> high degree
    k = next(i for i, s in enumerate(signs) if s != 0)
    q = signs[k:]
    n_plus = _sign_changes(q)
    n_minus = _sign_changes([s * (-1) ** j for j, s in enumerate(q)])
    if n_plus + k + n_minus != n:  # pragma: no cover - impossible for symmetric real matrices
        raise ArithmeticError("Descartes counts do not add up: the characteristic polynomial has non-real roots")
    return Inertia(n_plus, k, n_minus, EXACT, charpoly=[c.to_sympy() for c in coeffs])


def _charpoly_field(A, K):
    """Coefficients (low -> high) of det(λI − A) over a number field, by Hessenberg reduction.

    Similarity transforms to upper Hessenberg form with exact pivoting (Cohen, *A Course in
    Computational Algebraic Number Theory*, Alg. 2.2.9), then the three-term recurrence.
    """
    n = len(A)
    H = [list(r) for r in A]
    zero = K.element(0)
    for m in range(1, n - 1):
        piv = next((i for i in range(m, n) if not H[i][m - 1].is_zero()), None)
        if piv is None:
            continue
        if piv != m:
            H[piv], H[m] = H[m], H[piv]
            for r in H:
                r[piv], r[m] = r[m], r[piv]
        inv = H[m][m - 1].inverse()
        for i in range(m + 1, n):
            if H[i][m - 1].is_zero():
                continue
            u = H[i][m - 1] * inv
            for j in range(n):
                H[i][j] = H[i][j] - u * H[m][j]
            for j in range(n):
                H[j][m] = H[j][m] + u * H[j][i]
    # p_0 = 1, p_k(λ) = (λ − h_kk) p_{k-1} − Σ_{i<k} h_ik (Π_{j=i+1..k} h_{j,j-1}) p_{i-1}
    polys = [[K.element(1)]]

    def add(p, q, scale):
        out = list(p) + [zero] * max(0, len(q) - len(p))
        for i, c in enumerate(q):
            out[i] = out[i] + c * scale
        return out

    for k in range(n):
        prev = polys[-1]
        shifted = [zero] + list(prev)                     # λ p_{k-1}
        p = add(shifted, prev, -H[k][k])
        t = K.element(1)
        for i in range(k - 1, -1, -1):
            t = t * H[i + 1][i]
            if t.is_zero():
                break
            p = add(p, polys[i], -(H[i][k] * t))
        polys.append(p)
    return polys[-1]


def _inertia_mp(rows, dps, tol):
    with mpmath.workdps(dps):
        M = mpmath.matrix([[mpmath.mpf(sympy.N(v, dps + 10)) if isinstance(v, sympy.Basic) else mpmath.mpf(v)
                            for v in r] for r in rows])
        n = M.rows
        for i in range(n):
            for j in range(i + 1, n):
                if abs(M[i, j] - M[j, i]) > mpmath.mpf(10) ** (-dps // 2) * (1 + abs(M[i, j])):
                    raise ValueError(f"the matrix is not symmetric at ({i},{j})")
        if n == 0:
            return Inertia(0, 0, 0, HIGH_PRECISION, eigenvalues=[], tol=mpmath.mpf(0), dps=dps)
        E = mpmath.eigsy(M, eigvals_only=True)
        eig = sorted(E[i] for i in range(n))
        scale = max(abs(v) for v in eig)
        rel = mpmath.mpf(tol) if tol is not None else mpmath.mpf(10) ** (-mpmath.mpf(dps) / 2)
        thresh = rel * scale
        zero = [v for v in eig if abs(v) <= thresh]
        nonzero = [v for v in eig if abs(v) > thresh]
        return Inertia(sum(1 for v in nonzero if v > 0), len(zero), sum(1 for v in nonzero if v < 0),
                       HIGH_PRECISION, eigenvalues=eig, tol=thresh,
                       smallest_nonzero=min((abs(v) for v in nonzero), default=None),
                       largest_zero=max((abs(v) for v in zero), default=None), dps=dps)


# -- loading ------------------------------------------------------------------------------------
def load_loss_problem(arch_path, data_path, params_path=None, loss="mse", float_input=False):
    """Read the input files: ``(LossProblem, theta)`` (θ flat and exact, or ``None``).

    Targets may be any exact real numbers (no ±1 requirement).
    """
    from .spec import load_architecture, load_data, load_parameters

    arch = load_architecture(arch_path)
    data = load_data(data_path, arch, float_input=float_input)
    problem = LossProblem(Network(arch), data, loss)
    theta = None
    if params_path is not None:
        theta = problem.network.flatten(load_parameters(params_path, arch, float_input=float_input))
    return problem, theta


def _harmless_kinks(net, theta, order):
    """Units whose kinks leave R differentiable (``order`` 1) or twice differentiable (2) at θ.

    A unit that never reaches the output does not enter R at all. A unit whose outgoing weights
    are all exactly 0 contributes a·σ(z) = o(‖Δθ‖) to the next layer, so R keeps its gradient
    (every slope gives the same one), but not its Hessian (∂²/∂a∂w of a·σ(w·x) jumps).
    """
    from .embed.witness import dead, silent_units

    return dead(net) | (silent_units(net, theta) if order == 1 else set())

