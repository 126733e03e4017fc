"""The KKT system of a network with a fixed activation pattern, in float64 or in arb balls.

With the slope of every unit on every data point fixed (1 or the leaky slope s), Φ(·; x_k) is a
polynomial in θ, and so is the KKT system of an active set A

    F(θ, λ) = ( θ − Σ_{k∈A} λ_k y_k ∇Φ_k(θ),  y_k Φ_k(θ) − 1  for k ∈ A ),

with Jacobian [[I − Σ λ_k y_k ∇²Φ_k, −(y_k ∇Φ_k)_k], [(y_k ∇Φ_k)ᵀ_k, 0]]. This module evaluates Φ, ∇Φ
and Σ w_k ∇²Φ_k (forward-over-reverse mode) over the connection lists of the kernel's compiled
network (:class:`symkkt.kernel.network.Network`: dense, conv and avgpool layers alike), on numpy
arrays of ``float`` or of ``flint.arb`` balls. With balls every result encloses the exact value
for every θ in the input balls (ball arithmetic is rigorous), which is what the Krawczyk test
needs; with floats the results are observations.

Coordinates of θ may be *fixed* (the weights of zero units, exactly 0); the Hessian is taken
with respect to the free coordinates only.

Examples
--------
>>> import numpy as np
>>> net = PatternNet({"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
...                                             {"dense": {"width": 1}}]})
>>> net.m, net.degree, net.kink_units
(6, 2, 2)
>>> theta = np.array([1.0, 0.0, -0.5, 0.5, 1.0, -1.0])
>>> X = np.array([[1.0, -1.0], [0.0, 1.0]])            # two points as columns
>>> Z, A = net.forward(FLOAT, theta, X, net.slopes(FLOAT, net.signs(theta, X)))
>>> A[-1][0].tolist()                                   # Φ = relu(x1) - relu((x2 - x1)/2)
[1.0, -1.0]
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np

from ..errors import UsageError


class _Float:
    """float64 numbers: observations."""

    dtype = float
    name = "float"

    @staticmethod
    def const(v):
        return float(v)

    def array(self, values):
        return np.asarray(values, dtype=float)


class _Ball:
    """arb balls at ``prec`` bits: rigorous enclosures."""

    dtype = object
    name = "arb"

    def __init__(self, prec=128):
        self.prec = prec

    @staticmethod
    def const(v):
        from flint import arb, fmpq

        if isinstance(v, Fraction):
            return arb(fmpq(v.numerator, v.denominator))
        if isinstance(v, (int, np.integer)):
            return arb(int(v))
        return arb(v)

    def array(self, values):
        out = np.empty(np.shape(values), dtype=object)
        flat = out.reshape(-1)
        for i, v in enumerate(np.asarray(values, dtype=object).reshape(-1)):
            flat[i] = self.const(v)
        return out


FLOAT = _Float()


def ball(prec=128):
    """The arb backend at ``prec`` bits (set ``flint.ctx.prec`` while using it)."""
    return _Ball(prec)


class PatternNet:
    """A bias-free network of linear / relu / leaky-relu layers as connection lists.

    Parameters
    ----------
    arch : dict
        The architecture in its input-file form.
    """

    def __init__(self, arch):
        from ..kernel.field import Invalid
        from ..kernel.network import Network

        try:
            knet = Network(arch)
        except Invalid as err:
            raise UsageError(str(err), "<architecture>") from None
        for layer in knet.weight_layers:
            if layer.bias:
                raise UsageError(f"weight layer {layer.index} has a bias: certify covers bias-free networks",
                                 "<architecture>")
            if layer.act.kind != "pl" or layer.act.p != 1:
                raise UsageError(f"weight layer {layer.index}: certify covers linear, relu and leaky_relu "
                                 "activations only", "<architecture>")
        self.knet, self.m, self.degree = knet, knet.n_params, knet.degree
        self.layers, size = [], _size(knet)
        for pos, layer in enumerate(knet.layers):
            o = np.array([u for u, c in enumerate(layer.conns) for _ in c], dtype=np.int64)
            i = np.array([xi for c in layer.conns for _, xi in c], dtype=np.int64)
            weight = layer in knet.weight_layers
            w = np.array([layer.woff + wi for c in layer.conns for wi, _ in c], dtype=np.int64) if weight else None
            s = layer.act.s
            self.layers.append(SimpleNamespace(
                pos=pos, apos=layer.pos, out=len(layer.conns), inp=size, o=o, i=i, w=w, weight=weight,
                index=getattr(layer, "index", None),
                coef=(layer.coef[0] if layer.coef else Fraction(0)) if not weight else None,
                kink=layer.act.kink is not None, slope=s[0] if s else Fraction(0)))
            size = len(layer.conns)
        self.kink_units = sum(l.out for l in self.layers if l.kink)

    # -- structure --------------------------------------------------------------------------------
    def hidden(self):
        """Weight layers followed directly by a weight layer (where zero units are allowed)."""
        ls = self.layers
        return [(l, ls[p + 1]) for p, l in enumerate(ls[:-1]) if l.weight and ls[p + 1].weight]

    def zero_unit_weights(self, layer, nxt, u):
        """Indices of the incoming and outgoing weights of unit ``u`` of ``layer``."""
        return np.concatenate([layer.w[layer.o == u], nxt.w[nxt.i == u]])

    # -- numbers ----------------------------------------------------------------------------------
    def matrix(self, be, l, theta):
        M = np.zeros((l.out, l.inp), dtype=be.dtype)
        if be.dtype is object:
            M[:] = be.const(0)
        if l.weight:
            M[l.o, l.i] = theta[l.w]
        else:
            M[l.o, l.i] = be.const(l.coef)
        return M

    def signs(self, theta, X):
        """Signs (+1, -1, 0) of the pre-activations of the kink layers, per layer (units × points), float."""
        Z, _ = self.forward(FLOAT, np.asarray(theta, float), np.asarray(X, float), None)
        return [np.sign(z) if l.kink else None for l, z in zip(self.layers, Z)]

    def slopes(self, be, signs):
        """Slope arrays per layer from sign arrays (None for layers without a kink; 0 signs get 1)."""
        out = []
        for l, s in zip(self.layers, signs):
            if not l.kink:
                out.append(None)
                continue
            one, sl = be.const(1), be.const(l.slope)
            arr = np.empty(s.shape, dtype=be.dtype)
            arr[...] = sl
            arr[s >= 0] = one
            if np.any(s == EITHER):
                arr[s == EITHER] = slope_hull(be, l.slope)
            out.append(arr)
        return out

    def forward(self, be, theta, X, C):
        """Pre-activations Z and layer outputs A (A[0] = X) of the points in the columns of X.
        ``C=None``: the true activations of the float values (for reading off signs)."""
        A, Z = [X], []
        for li, l in enumerate(self.layers):
            z = self.matrix(be, l, theta) @ A[-1]
            Z.append(z)
            if C is None:
                A.append(np.where(z >= 0, z, float(l.slope) * z) if l.kink else z)
            else:
                A.append(z if C[li] is None else C[li] * z)
        return Z, A

    def gradients(self, be, theta, A, C):
        """∇Φ(θ; x_k) for every column k: an (m × n) array."""
        n = A[0].shape[1]
        grad = np.zeros((self.m, n), dtype=be.dtype)
        if be.dtype is object:
            grad[:] = be.const(0)
        G = np.empty((1, n), dtype=be.dtype)
        G[:] = be.const(1)
        for li in range(len(self.layers) - 1, -1, -1):
            l = self.layers[li]
            gz = G if C[li] is None else G * C[li]
            if l.weight:
                np.add.at(grad, l.w, gz[l.o] * A[li][l.i])
            G = self.matrix(be, l, theta).T @ gz
        return grad

    def point_derivatives(self, be, theta, x, c, col, gcol, nv):
        """Derivatives of Φ(θ, g; x) for one point by forward-over-reverse mode.

        The variables v are the free θ coordinates (``col``: θ index -> v index or -1) and the
        slopes g of the stated kink units of this point (``gcol``: per layer, per unit, v index or
        -1); ``c`` holds the slope of every unit (the value of g at a stated kink). Returns
        ``(H, dg, zt)``: H (nv × nv) the rows of ∇²Φ for the θ variables (other rows 0), dg the
        gradient of Φ in v restricted to the slope variables (an nv vector, 0 on θ), and zt the
        tangent dz/dv of every pre-activation, per layer (units × nv)."""
        zero = be.const(0)

        def zeros(shape):
            a = np.empty(shape, dtype=be.dtype)
            a[...] = zero
            return a

        a, tan, ins, tans, Ms, zs, zts = x, zeros((len(x), nv)), [], [], [], [], []
        for li, l in enumerate(self.layers):
            M = self.matrix(be, l, theta)
            Ms.append(M)
            ins.append(a)
            tans.append(tan)
            z, zt = M @ a, M @ tan
            if l.weight:
                cw = col[l.w]
                sel = cw >= 0
                np.add.at(zt, (l.o[sel], cw[sel]), a[l.i[sel]])
            zs.append(z)
            zts.append(zt)
            if c[li] is not None:
                a, tan = c[li] * z, c[li][:, None] * zt
                if gcol is not None and gcol[li] is not None:
                    for u in np.nonzero(gcol[li] >= 0)[0]:
                        tan[u, gcol[li][u]] += z[u]
            else:
                a, tan = z, zt
        H = zeros((nv, nv))
        dg = zeros(nv)
        gb, gbt = np.array([be.const(1)], dtype=be.dtype), zeros((1, nv))
        for li in range(len(self.layers) - 1, -1, -1):
            l, M, a, tan = self.layers[li], Ms[li], ins[li], tans[li]
            if c[li] is None:
                gz, gzt = gb, gbt
            else:
                gz, gzt = c[li] * gb, c[li][:, None] * gbt
                if gcol is not None and gcol[li] is not None:
                    for u in np.nonzero(gcol[li] >= 0)[0]:
                        j = gcol[li][u]
                        gzt[u, j] += gb[u]
                        dg[j] += gb[u] * zs[li][u]
            gin, gint = M.T @ gz, M.T @ gzt
            if l.weight:
                cw = col[l.w]
                sel = cw >= 0
                o, i, r = l.o[sel], l.i[sel], cw[sel]
                np.add.at(H, r, gzt[o] * a[i][:, None] + gz[o][:, None] * tan[i])
                np.add.at(gint, (i, r), gz[o])
            gb, gbt = gin, gint
        return H, dg, zts

    def hessian(self, be, theta, x, c, weight, col, nf):
        """weight · ∇²Φ(θ; x) on the free coordinates (``col``: θ index -> free index or -1)."""
        H, _, _ = self.point_derivatives(be, theta, x, c, col, None, nf)
        return H * weight


def _size(knet):
    from math import prod

    return prod(knet.input_shape)


#: sign codes of a pattern besides +1, -1 and 0 (zero unit): a stated kink on an active point
#: (z = 0 is an equation, the slope g an unknown) and a unit near its kink on an inactive point
#: (either slope: only the margin matters there, enclosed with the slope interval)
KINK, EITHER = 2, 3


def slope_hull(be, s):
    """The interval [min(s, 1), max(s, 1)] (a ball; its midpoint in float)."""
    lo, hi = min(Fraction(s), Fraction(1)), max(Fraction(s), Fraction(1))
    if be.dtype is object:
        from flint import arb, fmpq

        mid, rad = (lo + hi) / 2, (hi - lo) / 2
        return arb(fmpq(mid.numerator, mid.denominator), fmpq(rad.numerator, rad.denominator))
    return float((lo + hi) / 2)


class KKTSystem:
    """F and its Jacobian for an active set, a pattern (with stated kinks) and fixed coordinates.

    Unknowns u = (free θ, λ_k for k ∈ A, g for each stated kink); equations: stationarity of the
    free θ, y_k Φ_k − 1 for k ∈ A, and z_{u,k} = 0 for each stated kink. The kinks are ordered by
    point, then by the unit's place in the pattern string.

    Parameters
    ----------
    net : PatternNet
    X : array (input size × n) of Fractions or floats, y : array of ±1
    signs : per layer sign arrays (units × n), the pattern (codes +1, -1, 0, KINK, EITHER)
    active : list of data indices
    fixed : sorted array of fixed θ indices (exactly 0)
    """

    def __init__(self, net, X, y, signs, active, fixed):
        self.net, self.X, self.y, self.signs = net, X, np.asarray(y), signs
        self.active = list(active)
        self.fixed = np.asarray(sorted(fixed), dtype=np.int64)
        mask = np.ones(net.m, bool)
        mask[self.fixed] = False
        self.free = np.nonzero(mask)[0]
        self.col = -np.ones(net.m, dtype=np.int64)
        self.col[self.free] = np.arange(len(self.free))
        self.nt, self.na = len(self.free), len(self.active)
        pos = {k: a for a, k in enumerate(self.active)}
        kinks = []
        for li, s in enumerate(signs):
            if s is not None:
                for u, k in zip(*np.nonzero(s == KINK)):
                    if int(k) not in pos:
                        raise ValueError(f"stated kink on inactive point {k}")
                    kinks.append((int(k), li, int(u)))
        self.kinks = sorted(kinks)                      # (point, layer position, unit)
        self.ng = len(self.kinks)
        self.N = self.nt + self.na + self.ng
        # per active point: per layer, v index (θ free then g) of the stated kinks, or None
        self.gcol = []
        for a, k in enumerate(self.active):
            g = [None if s is None else -np.ones(s.shape[0], dtype=np.int64) for s in signs]
            for j, (kk, li, u) in enumerate(self.kinks):
                if kk == k:
                    g[li][u] = self.nt + j
            self.gcol.append(g)

    def theta(self, be, u):
        th = np.empty(self.net.m, dtype=be.dtype)
        th[...] = be.const(0)
        th[self.free] = u[:self.nt]
        return th

    def unknowns(self, theta, lam, g=None):
        g = np.zeros(self.ng) if g is None else np.asarray(g)
        return np.concatenate([np.asarray(theta)[self.free], np.asarray(lam), g])

    def g_values(self, u):
        return u[self.nt + self.na:]

    def slope_arrays(self, be, u, points=None):
        """Slope arrays per layer for the active points (columns), with g at the stated kinks."""
        C = self._slopes(be)
        if self.ng:
            C = [None if c is None else c.copy() for c in C]
            g = self.g_values(u)
            pos = {k: a for a, k in enumerate(self.active)}
            for j, (k, li, un) in enumerate(self.kinks):
                C[li][un, pos[k]] = g[j]
        return C

    def evaluate(self, be, u, jacobian=True):
        """(F(u), J(u), ∇Φ of the active points) with numpy arrays of the backend's numbers."""
        th, lam = self.theta(be, u), u[self.nt:self.nt + self.na]
        nt, na, ng = self.nt, self.na, self.ng
        ya = self.y[self.active]
        Xa = self._data(be)
        C = self.slope_arrays(be, u)
        Z, A = self.net.forward(be, th, Xa, C)
        G = self.net.gradients(be, th, A, C)             # m × na
        w = lam * ya
        F = np.empty(self.N, dtype=be.dtype)
        F[:nt] = th[self.free] - (G[self.free] @ w if na else 0)
        F[nt:nt + na] = A[-1][0] * ya - be.const(1)
        pos = {k: a for a, k in enumerate(self.active)}
        for j, (k, li, un) in enumerate(self.kinks):
            F[nt + na + j] = Z[li][un, pos[k]]
        if not jacobian:
            return F, None, G
        J = np.empty((self.N, self.N), dtype=be.dtype)
        J[...] = be.const(0)
        nv = nt + ng
        for i in range(nt):
            J[i, i] = be.const(1)
        for a, k in enumerate(self.active):
            x = Xa[:, a]
            c = [None if s is None else s[:, a] for s in C]
            H, dg, zts = self.net.point_derivatives(be, th, x, c, self.col, self.gcol[a], nv)
            J[:nt, :nt] -= H[:nt, :nt] * w[a]
            if ng:
                J[:nt, nt + na:] -= H[:nt, nt:] * w[a]
                J[nt + a, nt + na:] = dg[nt:] * ya[a]
            for j, (kk, li, un) in enumerate(self.kinks):
                if kk == k:
                    J[nt + na + j, :nt] = zts[li][un, :nt]
                    J[nt + na + j, nt + na:] = zts[li][un, nt:]
        Gy = G[self.free] * ya[None, :]
        J[:nt, nt:nt + na] = -Gy
        J[nt:nt + na, :nt] = Gy.T
        return F, J, G

    def _data(self, be):
        key = be.name
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cache[key] = be.array(self.X[:, self.active]) if be.dtype is object else \
                np.asarray(self.X[:, self.active], dtype=float)
        return cache[key]

    def _slopes(self, be):
        return self.net.slopes(be, [None if s is None else s[:, self.active] for s in self.signs])
