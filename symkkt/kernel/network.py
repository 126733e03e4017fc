"""Networks of a certificate: shapes, exact forward pass, Clarke elements by backprop.

Every layer is stored as a list of connections per output unit (``(weight index, input index)``),
so dense layers, 1-D/2-D convolutions (no padding) and average pooling share one forward and one
backward pass. Units are named ``"LAYER:UNIT"`` (1-based weight layer, 0-based flat C-order index of
the unit's output, conv channel-major). The parameter vector θ is, per weight layer in order, the
weight entries in C-order followed by the bias entries.

A unit has a kink on a data point when its pre-activation is exactly 0 and its activation is
piecewise linear there (relu, leaky_relu with slope s != 1, poly_(leaky_)relu of power 1); its
derivative is then any g in [min(s, 1), max(s, 1)] ([0, 1] for relu), chosen per unit and point.
Elsewhere the ordinary derivative is used (power p >= 2 at 0: derivative 0). A Clarke element is
the backprop chain rule with one such g per kink unit (the conservative set of assumption A.3 of
[A]; for two-layer nets it is the Clarke subdifferential).

Trusted: the field arithmetic of :mod:`.field` and the parser of :mod:`.exact`.
"""
from fractions import Fraction
from itertools import product
from math import prod

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
    ``poly``: a polynomial with coefficients LOW → HIGH."""

    def __init__(self, spec, N, where):
        F, self.F = N.F, N.F
        self.kind, self.s, self.p, self.coeffs = "pl", F.const(1), 1, None
        if spec is None or spec == "linear":
            pass
        elif spec == "relu":
            self.s = F.const(0)
        elif spec == "tanh":
            raise Invalid(f"{where}: tanh is not exact")
        elif isinstance(spec, dict) and len(spec) == 1:
            (name, body), = spec.items()
            fields = {"leaky_relu": {"slope"}, "poly_relu": {"power"},
                      "poly_leaky_relu": {"slope", "power"}, "polynomial": {"coeffs"}}.get(name)
            if fields is None or not isinstance(body, dict) or set(body) != fields:
                raise Invalid(f"{where}: bad activation {spec!r}")
            if name == "polynomial":
                if not isinstance(body["coeffs"], list) or not body["coeffs"]:
                    raise Invalid(f"{where}: polynomial needs a list of coeffs")
                self.kind = "poly"
                self.coeffs = [N.num(c, f"{where}.coeffs") for c in body["coeffs"]]
            else:
                self.s = N.num(body["slope"], f"{where}.slope") if "slope" in body else F.const(0)
                self.p = _int(body.get("power", 1), f"{where}.power")
        else:
            raise Invalid(f"{where}: unknown activation {spec!r}")
        self.identity = self.kind == "pl" and self.p == 1 and F.is_zero(F.sub(self.s, F.const(1)))
        self.kink = None
        if self.kind == "pl" and self.p == 1 and not self.identity:
            one = F.const(1)
            self.kink = (self.s, one) if F.cmp(self.s, one) < 0 else (one, self.s)

    def homogeneity(self):
        """Power p with σ(tz) = t^p σ(z) for t > 0, or None."""
        if self.kind == "pl":
            return self.p
        nz = [i for i, c in enumerate(self.coeffs) if not self.F.is_zero(c)]
        return nz[0] if len(nz) == 1 else None

    def apply(self, z):
        """(σ(z), σ'(z)); the derivative is None at a kink (z exactly 0, an interval of slopes)."""
        F = self.F
        if self.identity:
            return z, F.const(1)
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


class Layer:
    def __init__(self, kind, out_shape, conns, unit_bias=None, wshape=None, act=None, bias=False):
        self.kind, self.out_shape, self.conns = kind, out_shape, conns
        self.unit_bias, self.wshape, self.act, self.bias = unit_bias, wshape, act, bias
        self.coef = None


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


class Network:
    """An architecture block checked and compiled into connection lists.

    Examples
    --------
    >>> from symkkt.kernel.exact import Numbers
    >>> net = Network({"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
    ...                                         {"dense": {"width": 1}}]}, Numbers())
    >>> net.n_params, net.degree
    (6, 2)
    """

    def __init__(self, arch, N):
        self.N, self.F = N, N.F
        _keys(arch, {"input", "layers"}, "architecture")
        shape = arch.get("input")
        if not isinstance(shape, list) or not 1 <= len(shape) <= 3:
            raise Invalid("architecture.input: must be [d], [C, L] or [C, H, W]")
        self.input_shape = shape = tuple(_int(n, "architecture.input") for n in shape)
        if not isinstance(arch.get("layers"), list) or not arch["layers"]:
            raise Invalid("architecture.layers: must be a non-empty list")
        self.layers, self.n_params, degree, self.not_homogeneous = [], 0, 0, None
        for i, spec in enumerate(arch["layers"]):
            where = f"architecture.layers[{i}]"
            if spec == "flatten":
                spec = {"flatten": {}}
            if not isinstance(spec, dict) or len(spec) != 1:
                raise Invalid(f"{where}: must be an object with one key")
            (kind, body), = spec.items()
            if kind == "flatten":
                if body not in (None, {}, True):
                    raise Invalid(f"{where}: flatten takes no options")
                layer = Layer("flatten", (prod(shape),), None)
            elif kind in ("dense", "conv"):
                layer = self._weight_layer(kind, body, shape, f"{where}.{kind}")
                layer.index, layer.woff = len(self.weight_layers()) + 1, self.n_params
                layer.boff = layer.woff + prod(layer.wshape)
                self.n_params = layer.boff + (layer.wshape[0] if layer.bias else 0)
                p = layer.act.homogeneity()
                degree = None if degree is None or p is None else p * (1 + degree)
                if layer.bias:
                    self.not_homogeneous = self.not_homogeneous or f"weight layer {layer.index} has a bias"
                if p is None:
                    self.not_homogeneous = self.not_homogeneous or \
                        f"weight layer {layer.index}: activation is not positively homogeneous"
            elif kind == "avgpool":
                _keys(body, {"kernel"}, f"{where}.avgpool")
                if len(shape) < 2:
                    raise Invalid(f"{where}: avgpool needs a (C, L) or (C, H, W) input")
                k = _tuple(body.get("kernel"), len(shape) - 1, f"{where}.avgpool.kernel")
                out = (shape[0],) + tuple(n // kk for n, kk in zip(shape[1:], k))
                if min(out) < 1:
                    raise Invalid(f"{where}: pooling kernel larger than its input")
                conns = [[(None, _flat((c,) + tuple(a * kk + b for a, kk, b in zip(pos, k, off)), shape))
                          for off in product(*map(range, k))]
                         for c in range(shape[0]) for pos in product(*map(range, out[1:]))]
                layer = Layer("pool", out, conns)
                layer.coef = self.F.const(Fraction(1, prod(k)))
            else:
                raise Invalid(f"{where}: unknown layer kind {kind!r}")
            self.layers.append(layer)
            shape = layer.out_shape
        if prod(shape) != 1:
            raise Invalid(f"architecture: output shape {list(shape)} is not scalar")
        self.degree = degree if self.not_homogeneous is None else None

    def weight_layers(self):
        return [la for la in self.layers if la.kind == "weight"]

    def _weight_layer(self, kind, body, shape, where):
        allowed = {"width", "activation", "bias"} if kind == "dense" else \
            {"channels", "kernel", "stride", "activation", "bias"}
        _keys(body, allowed, where)
        bias = body.get("bias", False)
        if not isinstance(bias, bool):
            raise Invalid(f"{where}.bias: must be true or false")
        act = Activation(body.get("activation"), self.N, f"{where}.activation")
        if kind == "dense":
            if len(shape) != 1:
                raise Invalid(f"{where}: dense needs a flat input (add a flatten layer)")
            n, width = shape[0], _int(body.get("width"), f"{where}.width")
            conns = [[(o * n + i, i) for i in range(n)] for o in range(width)]
            return Layer("weight", (width,), conns, list(range(width)), (width, n), act, bias)
        if len(shape) < 2:
            raise Invalid(f"{where}: conv needs a (C, L) or (C, H, W) input")
        cin, d = shape[0], len(shape) - 1
        cout = _int(body.get("channels"), f"{where}.channels")
        k = _tuple(body.get("kernel"), d, f"{where}.kernel")
        st = _tuple(body.get("stride", 1), d, f"{where}.stride")
        out = (cout,) + tuple((n - kk) // s + 1 if n >= kk else 0 for n, kk, s in zip(shape[1:], k, st))
        if min(out) < 1:
            raise Invalid(f"{where}: kernel larger than its input")
        wshape, conns, unit_bias = (cout, cin) + k, [], []
        for o in range(cout):
            for pos in product(*map(range, out[1:])):
                conns.append([(_flat((o, c) + off, wshape),
                               _flat((c,) + tuple(a * s + b for a, s, b in zip(pos, st, off)), shape))
                              for c in range(cin) for off in product(*map(range, k))])
                unit_bias.append(o)
        return Layer("weight", out, conns, unit_bias, wshape, act, bias)

    # --- values ---
    def parameters(self, params):
        """θ as a list of field elements, shapes checked against the architecture."""
        wl = self.weight_layers()
        if not isinstance(params, list) or len(params) != len(wl):
            raise Invalid(f"parameters: need one entry per weight layer ({len(wl)})")
        theta = []
        for j, (layer, P) in enumerate(zip(wl, params)):
            where = f"parameters[{j}]"
            _keys(P, {"weight", "bias"}, where)
            theta += [self.N.num(v, f"{where}.weight") for v in nested(P.get("weight"), layer.wshape, f"{where}.weight")]
            if layer.bias:
                theta += [self.N.num(v, f"{where}.bias") for v in nested(P.get("bias"), layer.wshape[:1], f"{where}.bias")]
            elif "bias" in P:
                raise Invalid(f"{where}: layer {j + 1} has no bias")
        return theta

    def points(self, data):
        """(inputs, labels) of the data block; labels are +1 or -1."""
        _keys(data, {"points"}, "data")
        pts = data.get("points")
        if not isinstance(pts, list) or not pts:
            raise Invalid("data.points: must be a non-empty list")
        xs, ys, n = [], [], prod(self.input_shape)
        for k, pt in enumerate(pts):
            where = f"data.points[{k}]"
            _keys(pt, {"x", "y"}, where)
            x = pt.get("x")
            flat = isinstance(x, list) and len(x) == n and not any(isinstance(v, list) for v in x)
            x = x if flat else nested(x, self.input_shape, f"{where}.x")
            xs.append([self.N.num(v, f"{where}.x") for v in x])
            y = self.N.num(pt.get("y"), f"{where}.y")
            if y not in ((Fraction(1),), (Fraction(-1),)):
                raise Invalid(f"{where}.y: label must be 1 or -1")
            ys.append(int(y[0]))
        return xs, ys

    def evaluate(self, theta, x):
        """Forward pass: output Φ(θ; x), per-layer inputs, activation derivatives and kinks."""
        F = self.F
        ev = Evaluation()
        for layer in self.layers:
            ev.inputs.append(x)
            if layer.kind == "flatten":
                ev.dact.append(None)
                continue
            if layer.kind == "pool":
                z = [F.mul(layer.coef, F.sum(x[xi] for _, xi in c)) for c in layer.conns]
                ev.dact.append(None)
                x = z
                continue
            z = []
            for u, c in enumerate(layer.conns):
                v = F.sum(F.mul(theta[layer.woff + wi], x[xi]) for wi, xi in c)
                z.append(F.add(v, theta[layer.boff + layer.unit_bias[u]]) if layer.bias else v)
            vd = [layer.act.apply(v) for v in z]
            for u, (_, g) in enumerate(vd):
                if g is None:
                    ev.kinks[f"{layer.index}:{u}"] = layer.act.kink
            ev.dact.append([g for _, g in vd])
            x = [v for v, _ in vd]
        ev.output = x[0]
        return ev

    def gradient(self, theta, ev, slopes=None):
        """A Clarke element of Φ(·; x) at θ: backprop with slope ``slopes[unit]`` at each kink."""
        F, slopes = self.F, slopes or {}
        grad = [()] * self.n_params
        g = [F.const(1)]
        for layer, x, d in zip(reversed(self.layers), reversed(ev.inputs), reversed(ev.dact)):
            if layer.kind == "flatten":
                continue
            gx = [()] * len(x)
            if layer.kind == "pool":
                for gu, c in zip(g, layer.conns):
                    for _, xi in c:
                        gx[xi] = F.add(gx[xi], F.mul(layer.coef, gu))
                g = gx
                continue
            for u, (gu, c) in enumerate(zip(g, layer.conns)):
                du = d[u] if d[u] is not None else slopes[f"{layer.index}:{u}"]
                gz = F.mul(gu, du)
                if not gz:
                    continue
                for wi, xi in c:
                    grad[layer.woff + wi] = F.add(grad[layer.woff + wi], F.mul(gz, x[xi]))
                    gx[xi] = F.add(gx[xi], F.mul(theta[layer.woff + wi], gz))
                if layer.bias:
                    b = layer.boff + layer.unit_bias[u]
                    grad[b] = F.add(grad[b], gz)
            g = gx
        return grad


class Evaluation:
    def __init__(self):
        self.inputs, self.dact, self.kinks, self.output = [], [], {}, None


def nested(obj, shape, where):
    """Leaves of a nested list of the given shape, in C-order."""
    if not shape:
        if isinstance(obj, list):
            raise Invalid(f"{where}: nested too deep")
        return [obj]
    if not isinstance(obj, list) or len(obj) != shape[0]:
        raise Invalid(f"{where}: expected a list of length {shape[0]} (shape {list(shape)})")
    return [leaf for item in obj for leaf in nested(item, shape[1:], where)]
