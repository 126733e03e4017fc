"""Networks of a certificate: shapes, exact forward pass, Clarke elements by backprop.

Every layer is stored as a list of connections per output unit (``(weight index, input index)``),
so dense layers, 1-D/2-D convolutions (no padding), diagonal layers (unit i has the one connection
(weight i, input i): z_i = u_i x_i), average pooling and ``sum`` (one unit joined to every input with
the fixed coefficient 1) share one forward and one backward pass. Units are named ``"LAYER:UNIT"``
(1-based weight layer, 0-based flat C-order index of the unit's output, conv channel-major). The
parameter vector θ is, per weight layer in order, the weight entries in C-order followed by the
bias entries.

A unit has a kink on a data point when its pre-activation is exactly 0 and its activation is
piecewise linear there (relu, leaky_relu with slope s != 1, poly_(leaky_)relu of power 1); its
derivative is then any g in [min(s, 1), max(s, 1)] ([0, 1] for relu), chosen per unit and point.
Elsewhere the ordinary derivative is used (power p >= 2 at 0: derivative 0). A Clarke element is
the backprop chain rule with one such g per kink unit (the conservative set of assumption A.3 of
[A]; for two-layer nets it is the Clarke subdifferential).

tanh is refused (its values are not exact) unless a network is built with ``allow_tanh`` for
structural use only (shapes, parameter order, split maps); evaluating it is still refused.

A network needs at least one weight layer. Sizes are checked against the limits of
:mod:`.limits` from the shapes alone, before any connection list is built: ``units`` (input and
every layer output), ``parameters`` (θ), ``connections`` (one forward pass), ``power`` and
``coefficients`` (activations), ``points`` (data).

:meth:`Network.jvp` is the forward-mode derivative of the pre-activations along a direction d,
with the slope of each kink unit chosen by the sign of its own derivative (1 if ż > 0, s if ż < 0).
:meth:`Network.first_layer_row` is ∇_θ z_u of a first-weight-layer unit (z_u is affine in θ); where
it is 0 (a zero input patch, no bias) z_u ≡ 0, and such a kink unit's slope changes neither the
backprop (it multiplies the zero patch) nor the forward mode (ż_u = 0).

Trusted: the field arithmetic of :mod:`.field` and the parser of :mod:`.exact`.
"""
from fractions import Fraction
from itertools import product
from math import prod
from types import SimpleNamespace

from .exact import Numbers
from .field import Invalid


def _int(v, where, least=1):
    if not isinstance(v, int) or isinstance(v, bool) or v < least:
        raise Invalid(f"{where}: must be an integer >= {least}")
    return v


def _keys(d, allowed, where):
    if not isinstance(d, dict):
        raise Invalid(f"{where}: must be an object")
    extra = set(d) - set(allowed)
    if extra:
        raise Invalid(f"{where}: unknown key(s) {sorted(extra)}")


class Activation:
    """``pl``: z^p for z >= 0, (s z)^p for z < 0 (linear, relu, leaky and polynomial ReLUs);
    ``poly``: a polynomial with coefficients LOW → HIGH; ``tanh`` only with ``allow_tanh``
    (structure only: its values are not exact, so :meth:`apply` refuses it)."""

    def __init__(self, spec, N, where, allow_tanh=False):
        F, self.F, self.where = N.F, N.F, where
        self.kind, self.s, self.p, self.coeffs = "pl", F.const(1), 1, None
        if spec is None or spec == "linear":
            pass
        elif spec == "relu":
            self.s = F.const(0)
        elif spec == "tanh":
            if not allow_tanh:
                raise Invalid(f"{where}: tanh is not exact")
            self.kind = "tanh"
        elif isinstance(spec, dict) and len(spec) == 1:
            (name, body), = spec.items()
            fields = {"leaky_relu": {"slope"}, "poly_relu": {"power"},
                      "poly_leaky_relu": {"slope", "power"}, "polynomial": {"coeffs"}}.get(name)
            if fields is None or not isinstance(body, dict) or set(body) != fields:
                raise Invalid(f"{where}: bad activation {spec!r}")
            if name == "polynomial":
                if not isinstance(body["coeffs"], list) or not body["coeffs"]:
                    raise Invalid(f"{where}: polynomial needs a list of coeffs")
                N.limits.check("coefficients", len(body["coeffs"]), f"{where}: coefficients of a polynomial")
                self.kind = "poly"
                self.coeffs = [N.num(c, f"{where}.coeffs") for c in body["coeffs"]]
            else:
                self.s = N.num(body["slope"], f"{where}.slope") if "slope" in body else F.const(0)
                self.p = _int(body.get("power", 1), f"{where}.power")
                N.limits.check("power", self.p, f"{where}.power: activation power")
        else:
            raise Invalid(f"{where}: unknown activation {spec!r}")
        self.identity = self.kind == "pl" and self.p == 1 and F.is_zero(F.sub(self.s, F.const(1)))
        self.kink = None
        if self.kind == "pl" and self.p == 1 and not self.identity:
            one = F.const(1)
            self.kink = (self.s, one) if F.cmp(self.s, one) < 0 else (one, self.s)

    def homogeneity(self):
        """Power p >= 1 with σ(tz) = t^p σ(z) for t > 0, or None (degree 0, a constant, counts as None)."""
        if self.kind != "poly":
            return self.p if self.kind == "pl" else None
        nz = [i for i, c in enumerate(self.coeffs) if not self.F.is_zero(c)]
        return nz[0] if len(nz) == 1 and nz[0] >= 1 else None

    def apply(self, z):
        """(σ(z), σ'(z)); the derivative is None at a kink (z exactly 0, an interval of slopes)."""
        F = self.F
        if self.identity:
            return z, F.const(1)
        if self.kind == "tanh":
            raise Invalid(f"{self.where}: tanh is not exact")
        if self.kind == "poly":
            val, der = (), ()
            for i in range(len(self.coeffs) - 1, -1, -1):
                val = F.add(F.mul(val, z), self.coeffs[i])
                if i:
                    der = F.add(F.mul(der, z), F.mul(F.const(i), self.coeffs[i]))
            return val, der
        sg = F.sign(z)
        if sg == 0:
            return (), (None if self.p == 1 else F.const(0))
        zp = F.power(z if sg > 0 else F.mul(self.s, z), self.p - 1)     # (z or s z)^(p-1)
        val = F.mul(zp, z if sg > 0 else F.mul(self.s, z))
        return val, F.mul(F.const(self.p), zp if sg > 0 else F.mul(self.s, zp))

    def same(self, other):
        """Is ``other`` (over the same field) the same function?  (Compared by kind, power, slope
        and polynomial coefficients; ``linear`` equals a leaky ReLU of slope 1.)"""
        F = self.F
        if (self.kind, self.p) != (other.kind, other.p) or not F.is_zero(F.sub(self.s, other.s)):
            return False
        a, b = list(self.coeffs or ()), list(other.coeffs or ())
        n = max(len(a), len(b))
        return all(F.is_zero(F.sub(u, v)) for u, v in zip(a + [()] * (n - len(a)), b + [()] * (n - len(b))))


class Layer:
    """A linear map given per output unit by connections (weight index or None, input index);
    ``None`` means the fixed coefficient ``coef`` (average pooling), followed by ``act``.
    ``pos`` is the layer's index in ``architecture.layers``."""

    def __init__(self, out_shape, conns, act, coef=None, wshape=None, unit_bias=None, bias=False):
        self.out_shape, self.conns, self.act, self.coef = out_shape, conns, act, coef
        self.wshape, self.unit_bias, self.bias = wshape, unit_bias, bias


def _flat(idx, shape):
    f = 0
    for i, n in zip(idx, shape):
        f = f * n + i
    return f


def _tuple(v, d, where):
    v = [v] * d if isinstance(v, int) and not isinstance(v, bool) else v
    if not isinstance(v, list) or len(v) != d:
        raise Invalid(f"{where}: must be an integer or a list of {d} integers")
    return tuple(_int(k, where) for k in v)


def _windows(shape, body, stride, where, reserve):
    """Output spatial shape and, per output position, pairs (kernel offset, input flat index
    without the channel) of a sliding window without padding. ``reserve(out, k)`` checks the
    layer's size against the limits before anything is built."""
    if len(shape) < 2:
        raise Invalid(f"{where}: needs a (C, L) or (C, H, W) input")
    k = _tuple(body.get("kernel"), len(shape) - 1, f"{where}.kernel")
    st = k if stride is None else _tuple(stride, len(k), f"{where}.stride")
    out = tuple((n - kk) // s + 1 if n >= kk else 0 for n, kk, s in zip(shape[1:], k, st))
    if min(out) < 1:
        raise Invalid(f"{where}: kernel larger than its input")
    reserve(out, k)
    return k, out, [[(off, tuple(a * s + b for a, s, b in zip(pos, st, off))) for off in product(*map(range, k))]
                    for pos in product(*map(range, out))]


class Network:
    """An architecture block checked and compiled into connection lists.

    Examples
    --------
    >>> net = Network({"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
    ...                                         {"dense": {"width": 1}}]})
    >>> net.n_params, net.degree
    (6, 2)
    """

    def __init__(self, arch, N=None, allow_tanh=False):
        """``N``: the certificate's :class:`~.exact.Numbers` (default: the rationals);
        ``allow_tanh``: accept tanh layers for structural use only (no evaluation)."""
        N = self.N = N or Numbers()
        self.allow_tanh, self.limits = allow_tanh, N.limits
        self.F = N.F
        _keys(arch, {"input", "layers"}, "architecture")
        shape = arch.get("input")
        if not isinstance(shape, list) or not 1 <= len(shape) <= 3:
            raise Invalid("architecture.input: must be [d], [C, L] or [C, H, W]")
        self.input_shape = shape = tuple(_int(n, "architecture.input") for n in shape)
        self.limits.check("units", prod(shape), "units of architecture.input")
        if not isinstance(arch.get("layers"), list) or not arch["layers"]:
            raise Invalid("architecture.layers: must be a non-empty list")
        self.layers, self.weight_layers, self.n_params, degree, self.not_homogeneous = [], [], 0, 0, None
        self.n_conns = 0
        for i, spec in enumerate(arch["layers"]):
            where = f"architecture.layers[{i}]"
            spec = {spec: {}} if spec in ("flatten", "diagonal", "sum") else spec
            if not isinstance(spec, dict) or len(spec) != 1:
                raise Invalid(f"{where}: must be an object with one key")
            (kind, body), = spec.items()
            where += "." + str(kind)
            if kind == "flatten":
                if body not in (None, {}, True):
                    raise Invalid(f"{where}: flatten takes no options")
                shape = (prod(shape),)      # values are kept flat in C-order already
                continue
            if kind == "sum":               # z = Σ_i x_i: fixed coefficient 1, no parameter
                if body not in (None, {}, True):
                    raise Invalid(f"{where}: sum takes no options")
                if len(shape) != 1:
                    raise Invalid(f"{where}: sum needs a flat input (add a flatten layer)")
                self._reserve(1, shape[0], 0, where)
                layer = Layer((1,), [[(None, i) for i in range(shape[0])]], Activation(None, N, where), N.F.const(1))
                layer.pos = i
                self.layers.append(layer)
                shape = layer.out_shape
                continue
            if kind == "avgpool":
                _keys(body, {"kernel"}, where)
                k, out, win = _windows(shape, body, None, where,
                                       lambda out, k: self._reserve(shape[0] * prod(out), prod(k), 0, where))
                conns = [[(None, _flat((c,) + idx, shape)) for _, idx in w] for c in range(shape[0]) for w in win]
                layer = Layer((shape[0],) + out, conns, Activation(None, N, where), N.F.const(Fraction(1, prod(k))))
            elif kind in ("dense", "conv", "diagonal"):
                layer = self._weight_layer(kind, body, shape, where)
                self.weight_layers.append(layer)
                layer.index, layer.woff = len(self.weight_layers), self.n_params
                layer.boff = layer.woff + prod(layer.wshape)
                self.n_params = layer.boff + (layer.wshape[0] if layer.bias else 0)
                p = layer.act.homogeneity()
                # a bias acts like a weight on a constant input, so it keeps homogeneity only where the
                # layer's input has degree 0: in the first weight layer
                late_bias = layer.bias and degree != 0
                degree = None if degree is None or p is None else p * (1 + degree)
                if late_bias or p is None:
                    self.not_homogeneous = self.not_homogeneous or f"weight layer {layer.index} " + \
                        ("has a bias after a weight layer" if late_bias else "has a non-homogeneous activation")
            else:
                raise Invalid(f"architecture.layers[{i}]: unknown layer kind {kind!r}")
            layer.pos = i
            self.layers.append(layer)
            shape = layer.out_shape
        if prod(shape) != 1:
            raise Invalid(f"architecture: output shape {list(shape)} is not scalar")
        if not self.weight_layers:
            raise Invalid("architecture: needs at least one weight layer (dense, conv or diagonal)")
        self.degree = degree if self.not_homogeneous is None else None

    def _reserve(self, units, fan_in, params, where):
        """Check a layer of ``units`` outputs with ``fan_in`` connections each and ``params`` new
        parameters against the limits, before its connection lists are built."""
        self.limits.check("units", units, f"{where}: units")
        self.limits.check("parameters", self.n_params + params, "parameters of the network")
        self.n_conns += units * fan_in
        self.limits.check("connections", self.n_conns, "connections of the network")
        self.limits.spend(units * fan_in, "operations to build the network")

    def _weight_layer(self, kind, body, shape, where):
        if kind == "diagonal" and body is None:
            body = {}
        _keys(body, {"width", "activation", "bias"} if kind == "dense" else {"activation", "bias"} if kind == "diagonal"
              else {"channels", "kernel", "stride", "activation", "bias"}, where)
        bias = body.get("bias", False)
        if not isinstance(bias, bool):
            raise Invalid(f"{where}.bias: must be true or false")
        act = Activation(body.get("activation"), self.N, f"{where}.activation", self.allow_tanh)
        if kind == "dense":
            if len(shape) != 1:
                raise Invalid(f"{where}: dense needs a flat input (add a flatten layer)")
            n, width = shape[0], _int(body.get("width"), f"{where}.width")
            self._reserve(width, n, width * n + width * bias, where)
            conns = [[(o * n + i, i) for i in range(n)] for o in range(width)]
            return Layer((width,), conns, act, None, (width, n), list(range(width)), bias)
        if kind == "diagonal":
            if len(shape) != 1:
                raise Invalid(f"{where}: diagonal needs a flat input (add a flatten layer)")
            n = shape[0]
            self._reserve(n, 1, n + n * bias, where)
            return Layer((n,), [[(i, i)] for i in range(n)], act, None, (n,), list(range(n)), bias)
        cout, cin = _int(body.get("channels"), f"{where}.channels"), shape[0]
        k, out, win = _windows(shape, body, body.get("stride", 1), where, lambda out, k: self._reserve(
            cout * prod(out), cin * prod(k), cout * cin * prod(k) + cout * bias, where))
        wshape = (cout, cin) + k
        conns = [[(_flat((o, c) + off, wshape), _flat((c,) + idx, shape)) for c in range(cin) for off, idx in w]
                 for o in range(cout) for w in win]
        return Layer((cout,) + out, conns, act, None, wshape, [o for o in range(cout) for _ in win], bias)

    # --- values ---
    def parameters(self, params):
        """θ as a list of field elements, shapes checked against the architecture."""
        wl = self.weight_layers
        if not isinstance(params, list) or len(params) != len(wl):
            raise Invalid(f"parameters: need one entry per weight layer ({len(wl)})")
        theta = []
        for j, (layer, P) in enumerate(zip(wl, params)):
            where = f"parameters[{j}]"
            _keys(P, {"weight", "bias"}, where)
            for key, shape in [("weight", layer.wshape)] + [("bias", layer.wshape[:1])] * layer.bias:
                theta += [self.N.num(v, f"{where}.{key}") for v in nested(P.get(key), shape, f"{where}.{key}")]
            if "bias" in P and not layer.bias:
                raise Invalid(f"{where}: layer {j + 1} has no bias")
        return theta

    def points(self, data):
        """(inputs, labels) of the data block; x flat (C-order) or nested; labels are +1 or -1."""
        _keys(data, {"points"}, "data")
        pts = data.get("points")
        if not isinstance(pts, list) or not pts:
            raise Invalid("data.points: must be a non-empty list")
        self.limits.check("points", len(pts), "data points")
        self.limits.check("operations", self.limits.spent + 2 * len(pts) * self.n_conns,
                          "operations of the forward passes (estimated)")
        xs, ys, n = [], [], prod(self.input_shape)
        for k, pt in enumerate(pts):
            where = f"data.points[{k}]"
            _keys(pt, {"x", "y"}, where)
            x = pt.get("x")
            flat = isinstance(x, list) and len(x) == n and not any(isinstance(v, list) for v in x)
            xs.append([self.N.num(v, f"{where}.x") for v in (x if flat else nested(x, self.input_shape, f"{where}.x"))])
            y = self.N.num(pt.get("y"), f"{where}.y")
            if y not in ((Fraction(1),), (Fraction(-1),)):
                raise Invalid(f"{where}.y: label must be 1 or -1")
            ys.append(int(y[0]))
        return xs, ys

    def _w(self, layer, theta, wi):
        return layer.coef if wi is None else theta[layer.woff + wi]

    def evaluate(self, theta, x):
        """Forward pass: output Φ(θ; x), per-layer inputs, activation derivatives (None at a kink)
        and kinks {unit: (lo, hi)}."""
        F, ev = self.F, SimpleNamespace(inputs=[], dact=[], kinks={}, output=None)
        for layer in self.layers:
            ev.inputs.append(x)
            z = [F.sum(F.mul(self._w(layer, theta, wi), x[xi]) for wi, xi in c) for c in layer.conns]
            if layer.bias:
                z = [F.add(v, theta[layer.boff + o]) for v, o in zip(z, layer.unit_bias)]
            vd = [layer.act.apply(v) for v in z]
            ev.kinks.update((f"{layer.index}:{u}", layer.act.kink) for u, (_, g) in enumerate(vd) if g is None)
            ev.dact.append([g for _, g in vd])
            x = [v for v, _ in vd]
        ev.output = x[0]
        return ev

    def gradient(self, theta, ev, slopes=None):
        """A Clarke element of Φ(·; x) at θ: backprop with slope ``slopes[unit]`` at each kink."""
        F, grad, g = self.F, [()] * self.n_params, [self.F.const(1)]
        for layer, x, d in zip(reversed(self.layers), reversed(ev.inputs), reversed(ev.dact)):
            gx = [()] * len(x)
            for u, (gu, c) in enumerate(zip(g, layer.conns)):
                gz = F.mul(gu, d[u] if d[u] is not None else slopes[f"{layer.index}:{u}"])
                if not gz:
                    continue
                for wi, xi in c:
                    if wi is not None:
                        grad[layer.woff + wi] = F.add(grad[layer.woff + wi], F.mul(gz, x[xi]))
                    gx[xi] = F.add(gx[xi], F.mul(self._w(layer, theta, wi), gz))
                if layer.bias:
                    grad[layer.boff + layer.unit_bias[u]] = F.add(grad[layer.boff + layer.unit_bias[u]], gz)
            g = gx
        return grad

    def jvp(self, theta, ev, d):
        """Forward-mode derivative of the pre-activations at θ along the direction d.

        Returns ``(zdot, slopes)``: ż per kink unit of ``ev`` and, per kink unit with ż != 0, the
        slope the direction selects (1 if ż > 0, the negative-side slope s if ż < 0). Units
        downstream of a kink unit with ż = 0 are not defined by d; the caller rejects such d.
        Non-kink units use their ordinary derivative, exactly as in :meth:`gradient`.
        """
        F, one = self.F, self.F.const(1)
        xdot, zdot, slopes = [()] * len(ev.inputs[0]), {}, {}
        for layer, x, dact in zip(self.layers, ev.inputs, ev.dact):
            zd = [F.sum(F.add(() if wi is None else F.mul(d[layer.woff + wi], x[xi]),
                              F.mul(self._w(layer, theta, wi), xdot[xi])) for wi, xi in c) for c in layer.conns]
            if layer.bias:
                zd = [F.add(v, d[layer.boff + o]) for v, o in zip(zd, layer.unit_bias)]
            xdot = []
            for u, (v, g) in enumerate(zip(zd, dact)):
                if g is None:                                   # a kink unit: the sign of ż picks the side
                    name, sg = f"{layer.index}:{u}", F.sign(v)
                    zdot[name] = v
                    g = () if sg == 0 else one if sg > 0 else layer.act.s
                    if sg:
                        slopes[name] = g
                xdot.append(F.mul(g, v))
        return zdot, slopes

    def kink_slope(self, name):
        """The negative-side slope s of the activation of unit ``name`` ("LAYER:UNIT")."""
        return self.weight_layers[int(name.split(":")[0]) - 1].act.s

    def first_layer_row(self, ev, unit):
        """a_u = ∇_θ z_u(θ; x) of a unit u of the first weight layer: the layer's input at u's
        weight positions and 1 at its bias (z_u is linear in θ there). Empty entries ``()`` are 0;
        a_u = 0 means z_u(·; x) ≡ 0 on all of parameter space."""
        layer = self.weight_layers[0]
        x, a = ev.inputs[self.layers.index(layer)], [()] * self.n_params
        for wi, xi in layer.conns[unit]:
            a[layer.woff + wi] = x[xi]
        if layer.bias:
            a[layer.boff + layer.unit_bias[unit]] = self.F.const(1)
        return a


def nested(obj, shape, where):
    """Leaves of a nested list of the given shape, in C-order."""
    if not shape:
        if isinstance(obj, list):
            raise Invalid(f"{where}: nested too deep")
        return [obj]
    if not isinstance(obj, list) or len(obj) != shape[0]:
        raise Invalid(f"{where}: expected a list of length {shape[0]} (shape {list(shape)})")
    return [leaf for item in obj for leaf in nested(item, shape[1:], where)]
