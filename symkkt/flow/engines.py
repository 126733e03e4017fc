"""Loss gradients Σ_k w ℓ'(q_k) y_k ∇Φ(θ; x_k) over a batch, in any arithmetic tier.

Two engines compute the same numbers:

- :class:`GenericEngine` runs :meth:`Network._forward <symkkt.network.Network.forward>` and
  :meth:`Network.jacobian` (one Clarke element per point) over the tier's domain of
  :mod:`symkkt.tensor`, for every architecture (dense, conv, pooling) and every tier;
- :class:`DenseEngine` is a tailored path for bias-free dense nets with (leaky) ReLU or linear
  activations over numpy-backed tiers (float64, arb balls, arb midpoints): plain matrix products
  over the whole batch, with the same sign decisions and the same Clarke element at kinks.
  The tests check that both engines agree (to the last bits in the ball tiers).

**Kinks.** Where a pre-activation is exactly 0 the derivative of σ is taken at the *lower end*
of its Clarke interval [min(1, s), max(1, s)] (ReLU: 0), in both nets. A split child has
pre-activation c_i z, which is 0 exactly when its parent's is, so it gets the same element: the
children inherit the parent's choice and ∇L̃(Tθ) = T∇L(θ) holds at kinks too. In the ball tier a
pre-activation whose ball contains 0 (but is not exactly 0) is not guessed: the run stops as
inconclusive (:class:`~symkkt.flow.arith.Undecided`).

Examples
--------
>>> import sympy
>>> from symkkt.api import load_example
>>> from symkkt.flow.arith import make_arithmetic
>>> from symkkt.flow.losses import LOSSES
>>> problem, theta = load_example("example1")
>>> data = problem.data
>>> ar = make_arithmetic("precision", 30)
>>> g = GenericEngine(problem.network, ar, data.X, data.y, LOSSES["exp"])
>>> d = DenseEngine(problem.network, ar, data.X, data.y, LOSSES["exp"])
>>> th = ar.vector([sympy.Rational(1, 2), 0, 0, 1, 1, -1])
>>> with ar.context():
...     _, g1 = g.loss_grad(th)
...     _, g2 = d.loss_grad(th)
...     max(abs(float(a - b)) for a, b in zip(g1, g2)) < 1e-28
True
"""

from __future__ import annotations

import math

import numpy as np
import sympy

__all__ = ["GenericEngine", "DenseEngine", "make_engine"]


class _Engine:
    name = ""

    def __init__(self, net, ar, X, y, loss, reduction="mean"):
        self.net, self.ar, self.loss, self.reduction = net, ar, loss, reduction
        self.n = len(y)
        self._weights = {}

    def weight(self, size):
        """w = 1/|B| (mean) or 1 (sum), as a tier constant."""
        if size not in self._weights:
            w = sympy.Rational(1, size) if self.reduction == "mean" else sympy.Integer(1)
            self._weights[size] = self.ar.const(w)
        return self._weights[size]

    def margins(self, theta, batch=None):
        """q_k = y_k Φ(θ; x_k) over ``batch`` (``None``: all points)."""
        raise NotImplementedError

    def loss_grad(self, theta, batch=None):
        """``(q, g)``: margins on the batch and the gradient of the batch loss at θ."""
        raise NotImplementedError


class GenericEngine(_Engine):
    """Gradients through :class:`~symkkt.network.Network` over any domain (all architectures)."""

    name = "generic"

    def __init__(self, net, ar, X, y, loss, reduction="mean"):
        super().__init__(net, ar, X, y, loss, reduction)
        dom = ar.domain
        with ar.context():
            self.X = dom.array([list(x) for x in X])
            self.y = dom.array(list(y))
        self.layout = []
        pos = 0
        for shapes in net.param_shapes:
            size = math.prod(shapes["weight"])
            nb = shapes["bias"][0] if shapes.get("bias") else 0
            self.layout.append((pos, tuple(shapes["weight"]), nb))
            pos += size + nb

    def _params(self, theta):
        out = []
        for pos, shape, nb in self.layout:
            size = math.prod(shape)
            W = theta[pos:pos + size].reshape(*shape)
            b = theta[pos + size:pos + size + nb] if nb else None
            out.append((W, b))
        return out

    def _trace(self, theta, batch):
        X = self.X if batch is None else self.X[batch]
        y = self.y if batch is None else self.y[batch]
        A = X.T.reshape(*self.net.arch.input, X.shape[0])
        trace = self.net._forward(self.ar.domain, self._params(theta), A)
        return trace, y

    def margins(self, theta, batch=None):
        with self.ar.context():
            trace, y = self._trace(theta, batch)
            return trace.output * y

    def loss_grad(self, theta, batch=None):
        with self.ar.context():
            trace, y = self._trace(theta, batch)
            q = trace.output * y
            size = len(y)
            c = self.loss.derivative(self.ar, q) * y * self.weight(size)
            J = self.net.jacobian(trace, list(range(size)))
            return q, J @ c


class DenseEngine(_Engine):
    """Batch matrix products for bias-free dense nets with piecewise-linear activations."""

    name = "dense"

    @staticmethod
    def applies(net, ar):
        """Whether the fast path covers this network and tier."""
        if not ar.numpy_backed:
            return False
        for i, layer in enumerate(net.arch.layers):
            if layer.kind != "dense" or layer.bias:
                return False
            rule = net.rules[i]
            if not rule.piecewise or rule.power != 1:
                return False
        return True

    def __init__(self, net, ar, X, y, loss, reduction="mean"):
        super().__init__(net, ar, X, y, loss, reduction)
        if not self.applies(net, ar):
            raise ValueError("the dense engine needs a bias-free dense net with (leaky) ReLU or "
                             "linear activations over a numpy-backed tier")
        with ar.context():
            d = len(X[0])
            flat = ar.vector([v for x in X for v in x])
            self.XT = flat.reshape(self.n, d).T.copy()
            self.y = ar.vector(list(y))
            self.layers = []
            pos = 0
            for i, layer in enumerate(net.arch.layers):
                shape = tuple(net.param_shapes[net.weight_index(i) - 1]["weight"])
                rule = net.rules[i]
                if rule.plus == rule.minus == 1:
                    slopes = None
                else:
                    lo = min(rule.plus, rule.minus)
                    slopes = (ar.const(rule.plus), ar.const(rule.minus), ar.const(lo))
                self.layers.append((pos, shape, slopes))
                pos += math.prod(shape)

    def _forward(self, theta, batch):
        A = self.XT if batch is None else self.XT[:, batch]
        Ws, acts, Ds = [], [A], []
        for pos, shape, slopes in self.layers:
            W = theta[pos:pos + shape[0] * shape[1]].reshape(shape)
            Z = W @ A
            if slopes is None:
                D, A = None, Z
            else:
                S = self.ar.sign(Z)
                plus, minus, lo = slopes
                D = np.where(S > 0, plus, np.where(S < 0, minus, lo))
                A = Z * D
            Ws.append(W)
            Ds.append(D)
            acts.append(A)
        return Ws, acts, Ds

    def margins(self, theta, batch=None):
        with self.ar.context():
            _, acts, _ = self._forward(theta, batch)
            y = self.y if batch is None else self.y[batch]
            return acts[-1][0] * y

    def loss_grad(self, theta, batch=None):
        with self.ar.context():
            Ws, acts, Ds = self._forward(theta, batch)
            y = self.y if batch is None else self.y[batch]
            q = acts[-1][0] * y
            c = self.loss.derivative(self.ar, q) * y * self.weight(len(y))
            delta = c.reshape(1, -1)
            grads = []
            for l in reversed(range(len(Ws))):
                grads.append((delta @ acts[l].T).ravel())
                if l:
                    delta = Ws[l].T @ delta
                    if Ds[l - 1] is not None:
                        delta = delta * Ds[l - 1]
            return q, np.concatenate(grads[::-1])


def make_engine(kind, net, ar, X, y, loss, reduction="mean"):
    """``kind`` = ``"auto"`` (dense when it applies), ``"dense"`` or ``"generic"``."""
    if kind == "auto":
        kind = "dense" if DenseEngine.applies(net, ar) else "generic"
    cls = {"dense": DenseEngine, "generic": GenericEngine}[kind]
    return cls(net, ar, X, y, loss, reduction)
