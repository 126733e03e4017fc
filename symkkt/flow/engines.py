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
children inherit the parent's choice and ∇L̃(Tθ) = T∇L(θ) holds at kinks too. Every engine takes
its signs from a :class:`~symkkt.flow.kinks.KinkRule`, which applies that rule in the tier: exact
signs at the (exact) start, proved kinks of idle first-layer units, certified signs in the ball
tier (a ball containing 0 that is not a proved kink stops the run as inconclusive,
:class:`~symkkt.flow.arith.Undecided`), and one decision per split group, with a rounding
threshold, in the precision and float tiers.

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

from ..tensor import FloatDomain
from .kinks import KinkRule, to_floats

__all__ = ["GenericEngine", "DenseEngine", "ShallowEngine", "make_engine"]


class _Engine:
    name = ""

    def __init__(self, net, ar, X, y, loss, reduction="mean", kinks=None):
        self.net, self.ar, self.loss, self.reduction = net, ar, loss, reduction
        self.n = len(y)
        self._weights = {}
        #: the Clarke selection (signs of the hidden pre-activations); default: groups of one
        self.kinks = kinks if kinks is not None else KinkRule(net, ar)

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

    def min_candidates(self, q):
        """Indices that can hold the smallest entry of ``q`` (None: all of them)."""
        return None

    def loss_sum_hint(self, q):
        """Σ ℓ(q_k) if the last gradient computation already has it for these margins, else None."""
        return None


class GenericEngine(_Engine):
    """Gradients through :class:`~symkkt.network.Network` over any domain (all architectures)."""

    name = "generic"

    def __init__(self, net, ar, X, y, loss, reduction="mean", kinks=None):
        super().__init__(net, ar, X, y, loss, reduction, kinks)
        dom = ar.domain
        with ar.context():
            self.X = dom.array([list(x) for x in X])
            self.y = dom.array(list(y))
        self.Xabs = np.abs(np.array([[float(sympy.N(v, 20)) for v in x] for x in X], dtype=float))
        # the layers whose pre-activations Network._forward asks the domain to sign, in order
        self.sign_layers = [i for i, layer in enumerate(net.arch.layers) if layer.kind in ("dense", "conv", "diagonal")
                            and net.rules[i].kind not in ("linear", "tanh")]
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
        if self.ar.name == "exact":
            return self.net._forward(self.ar.domain, self._params(theta), A), y
        rule = self.kinks
        scales = None
        if self.ar.name in ("precision", "float") and not rule.at_start(theta):
            scales = self._scales(theta, batch)
        dom = _DecidingDomain(self.ar.domain, rule, theta, batch, self.sign_layers, scales)
        trace = self.net._forward(dom, self._params(theta), A)
        dom.done()
        return trace, y

    def _scales(self, theta, batch):
        """s_i: the pre-activations of the same net at |θ| on |x| (float64), per signed layer."""
        th = np.abs(to_floats(theta))
        params = []
        for pos, shape, nb in self.layout:
            size = math.prod(shape)
            params.append((th[pos:pos + size].reshape(shape), th[pos + size:pos + size + nb] if nb else None))
        X = self.Xabs if batch is None else self.Xabs[batch]
        A = X.T.reshape(*self.net.arch.input, X.shape[0])
        trace = self.net._forward(_Positive(), params, A)
        return {i: np.abs(trace.pre[i]) for i in self.sign_layers}

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

    def __init__(self, net, ar, X, y, loss, reduction="mean", kinks=None):
        super().__init__(net, ar, X, y, loss, reduction, kinks)
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
                self.layers.append((i, pos, shape, slopes, float(sympy.N(rule.plus, 20))))
                pos += math.prod(shape)
        self.XTabs = np.abs(np.array([[float(sympy.N(v, 20)) for v in x] for x in X], dtype=float)).T

    def _forward(self, theta, batch):
        A = self.XT if batch is None else self.XT[:, batch]
        rounded = self.ar.name in ("precision", "float") and not self.kinks.at_start(theta)
        Af = (self.XTabs if batch is None else self.XTabs[:, batch]) if rounded else None
        Ws, acts, Ds = [], [A], []
        for i, pos, shape, slopes, plus_f in self.layers:
            W = theta[pos:pos + shape[0] * shape[1]].reshape(shape)
            Z = W @ A
            if rounded:   # s_i: the pre-activations of the net at |θ| on |x| (float64)
                sf = np.abs(to_floats(W)) @ Af
                Af = sf * plus_f if slopes is not None else sf
            if slopes is None:
                D, A = None, Z
            else:
                S = self.kinks.decide(i, Z, batch, theta, lambda: sf)
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


class ShallowEngine(_Engine):
    """One hidden layer, arb tiers: the batch sums run as two ``arb_mat`` products.

    For Φ(x) = Σ_j a_j σ(w_j·x) with σ piecewise linear, σ(w_j·x_k) = D_jk (w_j·x_k) with the
    slope D_jk fixed by the sign of w_j·x_k. Folding D and the labels into the data,
    M_j = [x_k D_jk y_k]_k (d × n), gives

    - margins q = Σ_j (a_j w_j)ᵀ M_j: one product (1 × hd)(hd × n) with the stacked M_j;
    - ∇ over the batch: G_j = M_j c with c_k = w ℓ'(q_k), so ∂L/∂w_j = a_j G_j, ∂L/∂a_j = w_j·G_j.

    M_j changes only when unit j's activation pattern does, so it is cached per pattern. Signs
    come from a float64 screen with a rigorous error margin (|fl(W)fl(X) − WX| plus the ball
    radii); entries inside the margin are decided in arb (midpoint sign in the precision tier,
    certified sign or :class:`~symkkt.flow.arith.Undecided` in the ball tier). Mini-batches go
    through :class:`DenseEngine`.
    """

    name = "shallow"

    @staticmethod
    def applies(net, ar):
        from flint import arb

        if not (DenseEngine.applies(net, ar) and ar.name in ("precision", "balls")):
            return False
        if not isinstance(ar.const(1), arb) or len(net.arch.layers) != 2:
            return False
        return net.rules[1].kind == "linear" or net.rules[1].plus == net.rules[1].minus == 1

    def __init__(self, net, ar, X, y, loss, reduction="mean", kinks=None):
        from flint import arb

        super().__init__(net, ar, X, y, loss, reduction, kinks)
        if not self.applies(net, ar):
            raise ValueError("the shallow engine needs a dense net with one hidden layer over an arb tier")
        self._dense = DenseEngine(net, ar, X, y, loss, reduction, self.kinks)
        self.h, self.d = net.param_shapes[0]["weight"]
        rule = net.rules[0]
        with ar.context():
            self.Xa = [[ar.const(v) for v in x] for x in X]          # n × d
            self.ya = [int(v) for v in y]
            if rule.plus == rule.minus == 1:
                vals = {1: sympy.Integer(1), -1: sympy.Integer(1), 0: sympy.Integer(1)}
            else:
                vals = {1: rule.plus, -1: rule.minus, 0: min(rule.plus, rule.minus)}
            self.slope = {s: ar.const(v) for s, v in vals.items()}
        self.Xf = np.array([[float(sympy.N(v, 20)) for v in x] for x in X]).T     # d × n
        # |fl(x) - x| <= 2^-52 |x|; the ball radii of X (rounding to the working precision)
        self.Xabs = np.abs(self.Xf) * (1 + 2.0**-50)
        self.Xrad = np.array([[float(v.rad()) * 1.01 for v in x] for x in self.Xa]).T
        self.Xmarg = 1e-10 * self.Xabs + self.Xrad
        self.yf = np.array([float(v) for v in y])
        self.slope_f = {s: float(sympy.N(v, 20)) for s, v in vals.items()}
        self._cache, self._keys, self._stack, self._stack_f = {}, None, None, None
        self._hint = (None, None)
        self._loss_hint = (None, None)
        self._ones = None
        self._arb = arb

    def _unit_matrix(self, S_j):
        """Entries of M_j = [x_k D_jk y_k] (row-major d × n) for the sign row ``S_j``, cached."""
        key = S_j.tobytes()
        entries = self._cache.get(key)
        if entries is None:
            slope, Xa, ya = self.slope, self.Xa, self.ya
            # y_k = ±1 is folded in by an exact negation
            entries = [Xa[k][i] * slope[int(s)] if ya[k] > 0 else -(Xa[k][i] * slope[int(s)])
                       for i in range(self.d) for k, s in enumerate(S_j)]
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = entries
        return key, entries

    def _signs(self, W, Wf, theta):
        """Signs of Z = W X (h × n) by the kink rule, screened in float64 with a rigorous margin.

        Entries within the margin of 0 are computed in arb: the ball tier takes their certified
        sign (or a proved kink); the precision tier passes their values, with every other member
        of their split group, to the group rule of :class:`~symkkt.flow.kinks.KinkRule`.
        """
        rule = self.kinks
        if rule.has_start_signs(theta, 0):
            return rule.start_signs(0, None)
        Zf = Wf @ self.Xf
        margin = np.abs(Wf) @ self.Xmarg + 1e-300
        if self.ar.rigorous:
            Wrad = np.array([[float(w.rad()) for w in row] for row in W]) * 1.01
            margin = margin + Wrad @ (self.Xabs + self.Xrad)
        S = np.sign(Zf).astype(np.int8)
        unsure = np.abs(Zf) <= margin
        if self.ar.rigorous:
            if unsure.any():
                proven = rule.proven_mask(0, None, S.shape)
                for j, k in zip(*np.nonzero(unsure)):
                    S[j, k] = rule.ball_sign(0, self._z(W, j, k), proven[j, k], j)
            return S
        unsure = rule.expand_to_groups(0, unsure)
        for j, k in zip(*np.nonzero(unsure)):
            Zf[j, k] = float(self._z(W, j, k))
        return rule.decide_float(0, Zf, np.abs(Wf) @ self.Xabs, None)

    def _z(self, W, j, k):
        """The pre-activation of unit j on point k in arb."""
        return sum((W[j][i] * self.Xa[k][i] for i in range(self.d)), self._arb(0))

    def _forward(self, theta):
        from flint import arb_mat

        h, d, n = self.h, self.d, self.n
        th = list(theta)
        W = [th[j * d:(j + 1) * d] for j in range(h)]
        a = th[h * d:h * d + h]
        Wf = np.array([[float(w) for w in row] for row in W])
        S = self._signs(W, Wf, theta)
        keys, rows = [], []
        for j in range(h):
            key, entries = self._unit_matrix(S[j])
            keys.append(key)
            rows.append(entries)
        keys = tuple(keys)
        if keys != self._keys:
            self._stack = arb_mat(h * d, n, [v for r in rows for v in r])
            self._negstack = -self._stack
            sf = self.slope_f
            D = np.vectorize(lambda s: sf[int(s)], otypes=[float])(S) * self.yf        # h × n
            self._stack_f = (D[:, None, :] * self.Xf[None, :, :]).reshape(h * d, n)
            self._stack_absmax = float(np.abs(self._stack_f).max()) if n else 0.0
            self._keys = keys
        coef = arb_mat(1, h * d, [a[j] * W[j][i] for j in range(h) for i in range(d)])
        q = _Negated((coef * self._negstack).entries())
        # float estimate of q for locating the smallest margin (see min_candidates)
        cf = (np.array([float(v) for v in a])[:, None] * Wf).ravel()
        # |fl(q) - q| <= (hd + 2) u |cf|.|M| << 1e-12 |cf|_1 max|M| (plus the conversions to float)
        self._qf = (cf @ self._stack_f, 1e-12 * float(np.abs(cf).sum()) * self._stack_absmax + 1e-300)
        return W, a, q

    def min_candidates(self, q):
        """Indices that can hold the smallest margin of ``q`` (the last margins computed), or None."""
        ref, cand = self._hint
        return cand if ref is q else None

    def loss_sum_hint(self, q):
        ref, total = self._loss_hint
        return total if ref is q else None

    def _remember(self, q):
        qf, err = self._qf
        finite = np.isfinite(err) and bool(np.isfinite(qf).all())
        cand = np.nonzero(qf <= qf.min() + 2 * err)[0] if finite else None   # None: search all margins
        self._hint = (q, cand)
        return q

    def margins(self, theta, batch=None):
        if batch is not None:
            return self._dense.margins(theta, batch)
        with self.ar.context():
            _, _, q = self._forward(theta)
            return self._remember(q)

    def loss_grad(self, theta, batch=None):
        if batch is not None:
            return self._dense.loss_grad(theta, batch)
        from flint import arb_mat

        with self.ar.context():
            W, a, q = self._forward(theta)
            if self.loss.name == "exp":   # c = -w e^(-q): the factor -w is applied to G below
                E = arb_mat(self.n, 1, [x.exp() for x in q.neg])
                if self._ones is None:
                    self._ones = arb_mat(1, self.n, [1] * self.n)
                self._loss_hint = (q, (self._ones * E).entries()[0])
                G = (self._stack * E).entries()
                scale = -self.weight(self.n)
                G = [g * scale for g in G]
            else:
                c = self.loss.derivative(self.ar, _objarray(list(q))) * self.weight(self.n)
                G = (self._stack * arb_mat(self.n, 1, list(c))).entries()
            h, d = self.h, self.d
            grad = [a[j] * G[j * d + i] for j in range(h) for i in range(d)]
            grad += [sum((W[j][i] * G[j * d + i] for i in range(1, d)), W[j][0] * G[j * d]) for j in range(h)]
            return self._remember(q), _objarray(grad)


class _Negated:
    """The margins q as a read-only sequence, stored as the list of −q (which the exp loss uses)."""

    __slots__ = ("neg",)

    def __init__(self, neg):
        self.neg = neg

    def __len__(self):
        return len(self.neg)

    def __getitem__(self, i):
        return -self.neg[i]

    def __iter__(self):
        return (-x for x in self.neg)

    def __array__(self, dtype=None, copy=None):
        return _objarray(list(self))


def _objarray(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


class _DecidingDomain:
    """The tier's domain, with the signs :meth:`Network._forward` asks for decided by a kink rule.

    ``sign`` is called once per signed layer, in order (``layers``); after :meth:`done` it is the
    domain's own ``sign``. Everything else is the wrapped domain's.
    """

    def __init__(self, dom, rule, theta, cols, layers, scales):
        self._dom, self._rule, self._theta, self._cols = dom, rule, theta, cols
        self._layers, self._scales, self._calls = layers, scales, 0

    def sign(self, Z):
        if self._layers is None:
            return self._dom.sign(Z)
        if self._calls >= len(self._layers):     # pragma: no cover - the network asked for more signs
            raise RuntimeError("the network signed more layers than the engine expected")
        i = self._layers[self._calls]
        self._calls += 1
        return self._rule.decide(i, Z, self._cols, self._theta, lambda: self._scales[i])

    def done(self):
        if self._calls != len(self._layers):      # pragma: no cover - the network signed fewer layers
            raise RuntimeError("the network signed fewer layers than the engine expected")
        self._layers = None

    def __getattr__(self, name):
        return getattr(self._dom, name)


class _Positive(FloatDomain):
    """float64 with every sign +1: the forward pass at |θ| on |x| that gives the scales s_i."""

    def sign(self, a):
        return np.ones(np.shape(a), dtype=np.int8)


def make_engine(kind, net, ar, X, y, loss, reduction="mean", kinks=None):
    """``kind`` = ``"auto"`` (shallow, else dense, else generic), ``"shallow"``, ``"dense"`` or ``"generic"``.

    ``kinks``: the net's :class:`~symkkt.flow.kinks.KinkRule` (default: a rule with groups of one).
    """
    if kind == "auto":
        kind = ("shallow" if ShallowEngine.applies(net, ar) else
                "dense" if DenseEngine.applies(net, ar) else "generic")
    cls = {"shallow": ShallowEngine, "dense": DenseEngine, "generic": GenericEngine}[kind]
    return cls(net, ar, X, y, loss, reduction, kinks)
