"""Networks as expression graphs, with one forward and one reverse-mode pass over all domains.

A :class:`Network` turns an :class:`~symkkt.spec.Architecture` into a ``networkx.DiGraph`` with
one node per layer operation (``x``, ``dense1``, ``act1``, ``conv2``, ``diagonal3``, ``avgpool``,
``flatten``, ``sum``)
and one node per parameter block (``W1``, ``b1``). Each operation node carries a sympy
expression of the layer in matrix form (``W1*h0``, ``relu(z1)``), never the expanded network.

Numbers flow through :meth:`Network.forward` (all data points at once, batch as the last axis)
and :meth:`Network.jacobian` (reverse mode, one column per data point, with explicit Clarke
elements at kinks), in any domain of :mod:`symkkt.tensor`.

What this module decides: the homogeneity degree L (:meth:`Network.homogeneity`), by
induction over the graph from each activation's proved homogeneity.

Examples
--------
>>> from symkkt.spec import architecture_from_json
>>> net = Network(architecture_from_json(
...     {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
...                               {"dense": {"width": 1}}]}))
>>> net.parameter_names
['W1[0,0]', 'W1[0,1]', 'W1[1,0]', 'W1[1,1]', 'W2[0,0]', 'W2[0,1]']
>>> net.homogeneity().degree
2
>>> list(net.graph.successors("dense1"))
['act1']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy

from . import tensor as T
from .activations import ActivationRule


@dataclass
class Homogeneity:
    """Result of the homogeneity analysis: ``degree`` L or ``None`` with a ``reason``."""

    degree: int | None
    reason: str = ""
    steps: list = field(default_factory=list)

    @property
    def holds(self):
        return self.degree is not None


@dataclass
class Trace:
    """Values of a forward pass: per operation its input, pre-activation and exact signs."""

    domain: object
    inputs: list       # input array of each layer operation
    pre: dict          # layer index -> pre-activation Z (weight layers)
    signs: dict        # layer index -> sign array of Z (weight layers with an activation)
    output: object     # shape (n,)
    params: list       # [(W, b or None), ...] in the trace's domain


class Network:
    """A feed-forward network built from an architecture.

    Parameters
    ----------
    arch : symkkt.spec.Architecture
    """

    def __init__(self, arch):
        self.arch = arch
        self.rules = {i: ActivationRule(layer.activation)
                      for i, layer in enumerate(arch.layers) if layer.kind in ("dense", "conv", "diagonal")}
        self.param_shapes = arch.param_shapes()
        names = []
        for w, (shapes, li) in enumerate(zip(self.param_shapes, arch.weight_layers), start=1):
            for idx in itertools.product(*[range(s) for s in shapes["weight"]]):
                names.append(f"W{w}[{','.join(map(str, idx))}]")
            if shapes.get("bias"):
                names += [f"b{w}[{j}]" for j in range(shapes["bias"][0])]
        self.parameter_names = names
        self._graph = None

    # -- structure ----------------------------------------------------------------------------
    @property
    def graph(self):
        """The expression graph (``networkx.DiGraph``), built on first use."""
        if self._graph is None:
            self._graph = self._build_graph()
        return self._graph

    @property
    def num_parameters(self):
        return len(self.parameter_names)

    def weight_index(self, layer_index):
        """1-based weight-layer number of ``arch.layers[layer_index]``."""
        return self.arch.weight_layers.index(layer_index) + 1

    def _build_graph(self):
        import networkx as nx

        g = nx.DiGraph()
        prev = "x"
        g.add_node("x", op="input", shape=tuple(self.arch.input),
                   expr=sympy.MatrixSymbol("h0", int(np.prod(self.arch.input)), 1))
        h = g.nodes["x"]["expr"]
        for i, layer in enumerate(self.arch.layers):
            shape = tuple(self.arch.shapes[i])
            if layer.kind in ("dense", "conv", "diagonal"):
                w = self.weight_index(i)
                name = f"{layer.kind}{w}"
                size_in = int(np.prod(self.arch.shapes[i - 1] if i else self.arch.input))
                size_out = int(np.prod(shape))
                if layer.kind == "diagonal":  # elementwise: z = u ⊙ h
                    W = sympy.MatrixSymbol(f"W{w}", size_out, 1)
                    z = sympy.HadamardProduct(W, h)
                else:
                    W = sympy.MatrixSymbol(f"W{w}", size_out, size_in)  # conv: its Toeplitz matrix
                    z = W * h
                g.add_node(f"W{w}", op="parameter", shape=self.param_shapes[w - 1]["weight"], expr=W)
                g.add_edge(f"W{w}", name)
                if layer.bias:
                    b = sympy.MatrixSymbol(f"b{w}", size_out, 1)
                    g.add_node(f"b{w}", op="parameter", shape=self.param_shapes[w - 1]["bias"], expr=b)
                    g.add_edge(f"b{w}", name)
                    z = z + b
                g.add_node(name, op=layer.kind, layer=i, shape=shape, expr=z)
                g.add_edge(prev, name)
                prev = name
                rule = self.rules[i]
                if rule.kind != "linear" and not (rule.piecewise and rule.plus == rule.minus and rule.power == 1):
                    sigma = sympy.Function(rule.kind)
                    h = sympy.MatrixSymbol(f"z{w}", size_out, 1).applyfunc(sigma)
                    g.add_node(f"act{w}", op="activation", layer=i, shape=shape, expr=h,
                               activation=rule.kind)
                    g.add_edge(prev, f"act{w}")
                    prev = f"act{w}"
                else:
                    h = sympy.MatrixSymbol(f"z{w}", size_out, 1)
            else:
                name = f"{layer.kind}{i}"
                if layer.kind == "avgpool":  # a fixed averaging matrix
                    size_in = int(np.prod(self.arch.shapes[i - 1] if i else self.arch.input))
                    h = sympy.MatrixSymbol(f"P{i}", int(np.prod(shape)), size_in) * h
                elif layer.kind == "sum":  # a fixed row of ones
                    size_in = int(np.prod(self.arch.shapes[i - 1] if i else self.arch.input))
                    h = sympy.MatrixSymbol(f"S{i}", 1, size_in) * h
                g.add_node(name, op=layer.kind, layer=i, shape=shape, expr=h)
                g.add_edge(prev, name)
                prev = name
        g.graph["output"] = prev
        return g

    # -- parameters ---------------------------------------------------------------------------
    def flatten(self, params):
        """θ as a flat list of exact numbers in :attr:`parameter_names` order."""
        out = []
        for layer in params.layers:
            out += list(np.array(layer["weight"], dtype=object).ravel())
            if layer.get("bias") is not None:
                out += list(layer["bias"])
        return out

    def unflatten(self, theta):
        """Per weight layer ``{'weight': nested list, 'bias': list or None}`` from a flat θ."""
        out, pos = [], 0
        for shapes in self.param_shapes:
            size = int(np.prod(shapes["weight"]))
            w = np.array(theta[pos:pos + size], dtype=object).reshape(shapes["weight"]).tolist()
            pos += size
            b = None
            if shapes.get("bias"):
                b = list(theta[pos:pos + shapes["bias"][0]])
                pos += shapes["bias"][0]
            out.append({"weight": w, "bias": b})
        return out

    def constants(self):
        """Exact constants of the architecture (activation slopes, coefficients)."""
        return [c for rule in self.rules.values() for c in rule.constants()]

    def tensors(self, dom, theta):
        """Parameter arrays ``[(W, b or None), ...]`` in domain ``dom`` from a flat θ."""
        return [(dom.array(layer["weight"]),
                 dom.array(layer["bias"]) if layer["bias"] is not None else None)
                for layer in self.unflatten(list(theta))]

    # -- evaluation ---------------------------------------------------------------------------
    def forward(self, dom, theta, X):
        """Evaluate Φ(θ; x_k) for all rows x_k of ``X`` (exact numbers, flat inputs).

        Returns a :class:`Trace`; ``trace.output`` has shape (n,).
        """
        with dom.context():
            params = self.tensors(dom, theta)
            A = dom.array(X) if not _is_array(X) else X
            n = A.shape[0]
            A = A.T.reshape(*self.arch.input, n)
            units = max(int(np.prod(s)) for s in self.arch.shapes)
            block = max(1, _BLOCK // units)
            if getattr(dom, "tier", None) != "exact" or n <= block:
                return self._forward(dom, params, A)
            # exact and large: points in blocks; the trace keeps outputs and signs of all points,
            # and recomputes layer values for the few points that are asked for (the active ones)
            outputs, sign_parts, first = [], [], None
            for s in range(0, n, block):
                part = self._forward(dom, params, A[..., s:s + block])
                outputs.append(part.output)
                sign_parts.append(part.signs)
                if first is None:
                    first = ([a.shape[:-1] for a in part.inputs], {i: Z.shape[:-1] for i, Z in part.pre.items()})
                del part                    # only outputs and signs are kept for all points
            signs = {i: (np.concatenate([p[i] for p in sign_parts], axis=-1) if S is not None else None)
                     for i, S in sign_parts[0].items()}
            output = T.concat(outputs, axis=0)
            cache = _ColumnCache(self, dom, params, A)
            inputs = [_Columns(cache, "inputs", i, shape + (n,)) for i, shape in enumerate(first[0])]
            pre = {i: _Columns(cache, "pre", i, shape + (n,)) for i, shape in first[1].items()}
            return Trace(dom, inputs, pre, signs, output, params)

    def _forward(self, dom, params, A):
        inputs, pre, signs = [], {}, {}
        for i, layer in enumerate(self.arch.layers):
            inputs.append(A)
            if layer.kind in ("dense", "conv", "diagonal"):
                W, b = params[self.weight_index(i) - 1]
                Z = _linear(layer, W, b, A)
                pre[i] = Z
                rule = self.rules[i]
                if rule.kind == "linear":
                    A = Z
                else:
                    S = dom.sign(Z) if rule.kind != "tanh" else None
                    signs[i] = S
                    A = rule.apply(dom, Z, S)
            elif layer.kind == "avgpool":
                A = _avgpool(dom, layer, A)
            elif layer.kind == "sum":
                A = _sum(A)
            else:  # flatten
                A = A.reshape(-1, A.shape[-1])
        return Trace(dom, inputs, pre, signs, A.reshape(A.shape[-1]), params)

    def kinks(self, trace, column):
        """Kink units of data point ``column``: ``[(layer_index, flat_unit), ...]``."""
        out = []
        for i, S in trace.signs.items():
            if S is not None and self.rules[i].has_kink:
                flat = S[..., column].ravel()
                out += [(i, int(u)) for u in np.nonzero(flat == 0)[0]]
        return out

    def unit_label(self, layer_index, unit):
        """The public name ``"LAYER:UNIT"`` of a unit (1-based weight layer, flat unit)."""
        return f"{self.weight_index(layer_index)}:{unit}"

    def unit_reading(self, layer_index, unit):
        """Where a flat unit sits: ``{"weight_layer", "unit"}``, plus ``"channel"`` and
        ``"position"`` (0-based, per spatial axis) for a conv layer, whose flat units run over
        (channel, position) in row-major order.

        Examples
        --------
        >>> from symkkt.api import load_example
        >>> net = load_example("conv_tied")[0].network
        >>> net.unit_reading(0, 3)
        {'weight_layer': 1, 'unit': 3, 'channel': 1, 'position': [1]}
        """
        out = {"weight_layer": self.weight_index(layer_index), "unit": int(unit)}
        if self.arch.layers[layer_index].kind == "conv":
            channels, *spatial = self.arch.shapes[layer_index]
            size = int(np.prod(spatial)) if spatial else 1
            out["channel"] = int(unit) // size
            out["position"] = [int(p) for p in np.unravel_index(int(unit) % size, spatial)] if spatial else []
        return out

    def jacobian(self, trace, columns, slopes=None):
        """Clarke elements h_k of Φ(·; x_k) at θ as the columns of an (m, len(columns)) array.

        Parameters
        ----------
        trace : Trace
            A forward pass in some domain.
        columns : list of int
            Data points (indices into the batch of ``trace``); repeats allowed.
        slopes : list of dict, optional
            One dict per column mapping ``(layer_index, unit)`` to the exact Clarke slope chosen
            at that kink (a sympy number in the activation's interval). Kinks without a
            chosen slope take the lower end of the interval.
        """
        dom = trace.domain
        cols = np.asarray(columns, dtype=int)
        with dom.context():
            return self._backward(trace, cols, slopes, len(self.arch.layers) - 1, dom.full((1, len(cols)), 1), True)

    def preactivation_jacobian(self, trace, column, layer_index, units, slopes=None):
        """Gradients ∇_θ z_u(θ; x_column) of hidden pre-activations, as columns of an (m, len(units)) array.

        The chain rule runs from the pre-activation z_u of each unit ``u`` of weight layer
        ``arch.layers[layer_index]`` down to the input; weight layers above it get zero rows.
        ``slopes`` (one dict ``(layer_index, unit) -> slope`` for all columns) chooses the
        derivative at kinks upstream of the layer, as in :meth:`jacobian`.

        Examples
        --------
        >>> from symkkt.spec import architecture_from_json
        >>> from symkkt.tensor import ExactDomain
        >>> net = Network(architecture_from_json(
        ...     {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
        ...                               {"dense": {"width": 1}}]}))
        >>> dom = ExactDomain.for_numbers([1])
        >>> trace = net.forward(dom, [1, 2, 3, 4, 5, 6], [[1, -1]])
        >>> net.preactivation_jacobian(trace, 0, 0, [1]).to_sympy()
        [[0], [0], [1], [-1], [0], [0]]
        """
        dom = trace.domain
        cols = np.full(len(units), column, dtype=int)
        shape = tuple(trace.pre[layer_index].shape[:-1])
        with dom.context():
            seed = dom.zeros(shape + (len(units),))
            for c, u in enumerate(units):
                idx = tuple(int(i) for i in np.unravel_index(u, shape)) + (c,)
                seed[idx] = dom.scalar(1)
            return self._backward(trace, cols, [slopes] * len(units), layer_index, seed, False)

    def _backward(self, trace, cols, slopes, top, delta, through_top):
        """Reverse mode from layer ``top`` (its output if ``through_top``, else its pre-activation)
        with seed ``delta``: the (m, len(cols)) array of parameter gradients."""
        dom, params, grads = trace.domain, trace.params, {}
        for i in reversed(range(top + 1)):
            layer = self.arch.layers[i]
            A = trace.inputs[i][..., cols]
            if layer.kind in ("dense", "conv", "diagonal"):
                if i in trace.signs and (through_top or i != top):
                    rule = self.rules[i]
                    Z = trace.pre[i][..., cols]
                    S = trace.signs[i][..., cols] if trace.signs[i] is not None else None
                    kv = self._kink_values(dom, i, S, slopes) if rule.has_kink else None
                    delta = delta * rule.derivative(dom, Z, S, kv)
                W, b = params[self.weight_index(i) - 1]
                gW, gb, delta = _linear_backward(dom, layer, W, A, delta)
                grads[i] = (gW, gb if layer.bias else None)
            elif layer.kind == "avgpool":
                delta = _avgpool_backward(dom, layer, A.shape, delta)
            elif layer.kind == "sum":
                delta = T.repeat(delta, A.shape[0], 0)
            else:
                delta = delta.reshape(*A.shape)
        blocks, n = [], len(cols)
        for i, shapes in zip(self.arch.weight_layers, self.param_shapes):
            if i in grads:
                gW, gb = grads[i]
                blocks += [gW.reshape(-1, n)] + ([gb.reshape(-1, n)] if gb is not None else [])
            else:
                size = int(np.prod(shapes["weight"])) + (shapes["bias"][0] if shapes.get("bias") else 0)
                blocks.append(dom.zeros((size, n)))
        return T.concat(blocks, axis=0)

    def jvp(self, trace, column, direction):
        """Directional derivatives ż of every pre-activation on data point ``column`` along ``direction``.

        Forward mode along θ + t·d (t → 0+), in topological order: a weight layer gives
        ż = Ẇ·a + W·ȧ (+ ḃ), an activation ȧ = σ'(z)·ż, where at a kink (z exactly 0) the
        one-sided slope is used: the right derivative (slope 1) if ż > 0, the left one if
        ż < 0 (ż = 0 gives ȧ = 0). Pooling and flattening are linear.

        Parameters
        ----------
        trace : Trace
            A forward pass (exact or not) containing data point ``column``.
        column : int
            The data point.
        direction : list
            d ∈ R^m as exact numbers (sympy) or elements of the trace's field.

        Returns
        -------
        dict
            ``layer_index -> flat list`` of ż per unit, for every weight layer (C-order, as
            :meth:`kinks` numbers units).

        Examples
        --------
        >>> from symkkt.spec import architecture_from_json
        >>> from symkkt.tensor import ExactDomain
        >>> net = Network(architecture_from_json(
        ...     {"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu"}},
        ...                               {"dense": {"width": 1}}]}))
        >>> dom = ExactDomain.for_numbers([1])
        >>> trace = net.forward(dom, [0, 3], [[1]])          # z = 0: a kink
        >>> [str(v) for v in net.jvp(trace, 0, [1, 0])[1]]   # relu'(0+) = 1: Φ' = 3
        ['3']
        >>> [str(v) for v in net.jvp(trace, 0, [-1, 0])[1]]  # relu'(0-) = 0
        ['0']
        """
        dom = trace.domain
        col = [column]
        with dom.context():
            tangents = self._flat_tensors(dom, direction)
            dA = None
            out = {}
            for i, layer in enumerate(self.arch.layers):
                A = trace.inputs[i][..., col]
                if dA is None:
                    dA = dom.zeros(A.shape)
                if layer.kind in ("dense", "conv", "diagonal"):
                    w = self.weight_index(i)
                    W, _ = trace.params[w - 1]
                    dW, db = tangents[w - 1]
                    dZ = _linear(layer, dW, db, A) + _linear(layer, W, None, dA)
                    out[i] = dZ.elements() if hasattr(dZ, "elements") else list(dZ.ravel())
                    rule = self.rules[i]
                    if rule.kind == "linear":
                        dA = dZ
                    else:
                        Z = trace.pre[i][..., col]
                        S = trace.signs[i][..., col] if trace.signs[i] is not None else None
                        kv = dom.choose(dom.sign(dZ), {1: rule.plus, -1: rule.minus, 0: 0}) \
                            if rule.has_kink else None
                        dA = dZ * rule.derivative(dom, Z, S, kv)
                elif layer.kind == "avgpool":
                    dA = _avgpool(dom, layer, dA)
                elif layer.kind == "sum":
                    dA = _sum(dA)
                else:
                    dA = dA.reshape(-1, dA.shape[-1])
            return out

    def _flat_tensors(self, dom, flat):
        """Parameter arrays ``[(W, b or None), ...]`` of a flat vector (sympy numbers or field elements)."""
        flat = list(flat)
        if flat and hasattr(flat[0], "field") and hasattr(dom, "field"):
            from .field import ExactArray

            coords = [np.empty(len(flat), dtype=object) for _ in range(dom.field.degree)]
            for j, arr in enumerate(coords):
                arr[:] = [v.c[j] for v in flat]
            vec = ExactArray(dom.field, coords)
        else:
            vec = dom.array([v.to_sympy() if hasattr(v, "to_sympy") else v for v in flat])
        out, pos = [], 0
        for shapes in self.param_shapes:
            size = int(np.prod(shapes["weight"]))
            W = vec[pos:pos + size].reshape(*shapes["weight"])
            pos += size
            b = None
            if shapes.get("bias"):
                b = vec[pos:pos + shapes["bias"][0]]
                pos += shapes["bias"][0]
            out.append((W, b))
        return out

    def _kink_values(self, dom, i, S, slopes):
        lo, _ = self.rules[i].clarke_interval()
        vals = np.empty(S.shape, dtype=object)
        vals.fill(lo)
        if slopes:
            for c, chosen in enumerate(slopes):
                for (li, unit), g in (chosen or {}).items():
                    if li == i:
                        idx = np.unravel_index(unit, S.shape[:-1])
                        vals[idx + (c,)] = g
        return dom.array(vals)

    # -- homogeneity --------------------------------------------------------------------------
    def homogeneity(self):
        """The degree L with Φ(cθ; x) = c^L Φ(θ; x) for all c > 0, or why there is none.

        Induction over the layers: with θ ↦ cθ, a weight layer maps an input of degree d to a
        pre-activation of degree d + 1 (W x is bilinear); a bias adds a term of degree 1, so it
        keeps homogeneity only when d = 0 (first layer); a p-homogeneous activation multiplies
        the degree by p; average pooling, flattening and ``sum`` are linear (a diagonal layer is a
        weight layer like a dense one).
        """
        d = 0
        steps = []
        for i, layer in enumerate(self.arch.layers):
            if layer.kind in ("dense", "conv", "diagonal"):
                w = self.weight_index(i)
                if layer.bias and d != 0:
                    return Homogeneity(None, f"bias in weight layer {w} (input of degree {d}) "
                                             "breaks homogeneity", steps)
                d += 1
                p, why = self.rules[i].homogeneity()
                if p is None:
                    return Homogeneity(None, f"weight layer {w}: {why}", steps)
                d *= p
                steps.append((w, layer.kind, self.rules[i].kind, d))
        return Homogeneity(d, "", steps)

    # -- symbolic -----------------------------------------------------------------------------
    def symbolic_output(self, theta=None, x=None):
        """Φ as one sympy expression (small networks only: this expands the graph).

        ``theta`` and ``x`` default to symbols named after :attr:`parameter_names` and
        ``x0, x1, ...``.
        """
        theta = theta if theta is not None else sympy.symbols(
            [n.replace("[", "_").replace("]", "").replace(",", "_") for n in self.parameter_names])
        size = int(np.prod(self.arch.input))
        x = x if x is not None else sympy.symbols(f"x0:{size}")
        params = [(np.array(l["weight"], dtype=object), np.array(l["bias"], dtype=object)
                   if l["bias"] is not None else None) for l in self.unflatten(list(theta))]
        A = np.array(list(x), dtype=object).reshape(*self.arch.input, 1)
        for i, layer in enumerate(self.arch.layers):
            if layer.kind in ("dense", "conv", "diagonal"):
                W, b = params[self.weight_index(i) - 1]
                Z = _linear(layer, W, b, A)
                rule = self.rules[i]
                A = np.vectorize(rule.symbolic, otypes=[object])(Z)
            elif layer.kind == "avgpool":
                A = _avgpool(None, layer, A)
            elif layer.kind == "sum":
                A = _sum(A)
            else:
                A = A.reshape(-1, A.shape[-1])
        return A.ravel()[0]

    def __repr__(self):
        h = self.homogeneity()
        deg = f"L={h.degree}" if h.holds else "not homogeneous"
        return f"<Network {self.arch.to_json()['layers']} m={self.num_parameters} {deg}>"


def _is_array(X):
    return isinstance(X, np.ndarray) or hasattr(X, "field")


#: exact forward passes hold at most about this many values of one layer at a time
_BLOCK = 1 << 21


class _ColumnCache:
    """Layer values of a forward pass, recomputed for a selection of points (the last one kept)."""

    def __init__(self, net, dom, params, A):
        self.net, self.dom, self.params, self.A = net, dom, params, A
        self.key, self.trace = None, None

    def get(self, cols):
        key = tuple(int(c) for c in np.ravel(cols))
        if key != self.key:
            with self.dom.context():
                self.trace = self.net._forward(self.dom, self.params, self.A[..., list(key)])
            self.key = key
        return self.trace


class _Columns:
    """A layer's values for all points, given on demand for selected points: ``values[..., cols]``."""

    def __init__(self, cache, which, index, shape):
        self.cache, self.which, self.index, self.shape = cache, which, index, tuple(shape)

    def __getitem__(self, idx):
        if not (isinstance(idx, tuple) and len(idx) == 2 and idx[0] is Ellipsis):
            return self.materialize()[idx]
        cols = idx[1]
        single = np.ndim(cols) == 0
        trace = self.cache.get([cols] if single else cols)
        values = trace.inputs[self.index] if self.which == "inputs" else trace.pre[self.index]
        return values[..., 0] if single else values

    def materialize(self):
        """All points at once (memory of the whole layer)."""
        return self[..., list(range(self.shape[-1]))]


# -- layer operations (shared by all domains and by the symbolic path) -------------------------
def _patches(layer, A):
    """im2col: A (C, *spatial, n) -> patches (C, *out, *kernel, n) and the gather index."""
    k, s = layer.kernel, layer.stride
    spatial = A.shape[1:-1]
    outs = [(L - kk) // ss + 1 for L, kk, ss in zip(spatial, k, s)]
    if len(k) == 1:
        idx = (np.arange(outs[0])[:, None] * s[0] + np.arange(k[0])[None, :],)
        index = (slice(None), idx[0], slice(None))
    else:
        r = np.arange(outs[0])[:, None] * s[0] + np.arange(k[0])[None, :]   # (Ho, kh)
        c = np.arange(outs[1])[:, None] * s[1] + np.arange(k[1])[None, :]   # (Wo, kw)
        index = (slice(None), r[:, None, :, None], c[None, :, None, :], slice(None))
    return A[index], index


def _conv_specs(ndim):
    if ndim == 1:
        return "ock,clkn->oln", "oln,clkn->ockn", "ock,oln->clkn"
    return "ocab,chwabn->ohwn", "ohwn,chwabn->ocabn", "ocab,ohwn->chwabn"


def _linear(layer, W, b, A):
    if layer.kind in ("dense", "diagonal"):
        Z = W @ A if layer.kind == "dense" else W.reshape(-1, 1) * A   # diagonal: z_i = u_i x_i
        if b is not None:
            Z = Z + b.reshape(-1, 1)
        return Z
    P, _ = _patches(layer, A)
    fwd, _, _ = _conv_specs(len(layer.kernel))
    Z = T.einsum(fwd, W, P)
    if b is not None:
        Z = Z + b.reshape(-1, *([1] * (Z.ndim - 1)))
    return Z


def _linear_backward(dom, layer, W, A, delta):
    """Per-column gradients of a weight layer and the delta of its input."""
    if layer.kind == "dense":
        gW = T.einsum("in,jn->ijn", delta, A)
        return gW, delta, W.T @ delta
    if layer.kind == "diagonal":   # ∂z_i/∂u_i = x_i, ∂z_i/∂x_i = u_i
        return delta * A, delta, W.reshape(-1, 1) * delta
    P, index = _patches(layer, A)
    _, wspec, pspec = _conv_specs(len(layer.kernel))
    gW = T.einsum(wspec, delta, P)
    gb = delta.sum(axis=tuple(range(1, delta.ndim - 1)))
    dP = T.einsum(pspec, W, delta)
    return gW, gb, T.scatter_add(dom, A.shape, index, dP)


def _sum(A):
    """The ``sum`` layer: a flat (d, n) array to its column sums, shape (1, n)."""
    return A.sum(axis=0).reshape(1, A.shape[-1])


def _avgpool(dom, layer, A):
    k = layer.kernel
    C, n = A.shape[0], A.shape[-1]
    outs = [L // kk for L, kk in zip(A.shape[1:-1], k)]
    if len(k) == 1:
        A = A[:, :outs[0] * k[0], :].reshape(C, outs[0], k[0], n).sum(axis=2)
    else:
        A = A[:, :outs[0] * k[0], :outs[1] * k[1], :].reshape(C, outs[0], k[0], outs[1], k[1], n)
        A = A.sum(axis=(2, 4))
    scale = sympy.Rational(1, int(np.prod(k)))
    if dom is None:
        return A * scale
    return A * dom.scalar(scale)


def _avgpool_backward(dom, layer, in_shape, delta):
    k = layer.kernel
    out = dom.zeros(in_shape)
    d = delta * dom.scalar(sympy.Rational(1, int(np.prod(k))))
    for axis, kk in enumerate(k, start=1):
        d = T.repeat(d, kk, axis)
    region = (slice(None),) + tuple(slice(0, s) for s in d.shape[1:-1]) + (slice(None),)
    out[region] = d
    return out
