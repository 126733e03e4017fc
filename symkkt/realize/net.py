"""One-hidden-layer ReLU networks with biases, over one exact number domain.

A :class:`ShallowNet` is R(x) = Σ_i a_i relu(w_i·x + b_i) + c with d inputs and m hidden
neurons. Its numbers live in ONE exact domain: ``flint.fmpq`` when every number is rational,
else :class:`symkkt.field.FieldElement` of the smallest convenient field
``NumberField.of(all numbers)``. All code of :mod:`symkkt.realize` uses only ``+ - * /``,
comparisons and signs, so the two domains share one code path; :func:`to_domain` converts
numbers, :func:`unify` puts several networks (and the box bounds) into one common domain.

What this module trusts: python-flint's exact rationals, :mod:`symkkt.field` for algebraic
numbers and the loaders of :mod:`symkkt.spec` (validation of files, exact number grammar).

Examples
--------
>>> net = ShallowNet.of([[1], [-1]], [0, "1/2"], [1, 2], "-1/3")
>>> net.m, net.d
(2, 1)
>>> net(["1/4"])                 # relu(1/4) + 2 relu(1/4) - 1/3
5/12
>>> net.gradient(["1/4"])
(-1,)
>>> net.to_params_json()
[{'weight': [['1'], ['-1']], 'bias': ['0', '1/2']}, {'weight': [['1', '2']], 'bias': ['-1/3']}]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction

import sympy
from flint import fmpq

from ..errors import SchemaError, ShapeError
from ..field import FieldElement, NumberField, as_sympy
from ..numbers import format_number, parse_number

__all__ = ["ShallowNet", "to_domain", "unify", "domain_field", "relu", "sign", "to_sympy", "fmt",
           "relu_layers", "is_rational"]


# -- the exact domain ----------------------------------------------------------------------
def _to_sympy_input(v, place=None):
    """A user or internal number as a sympy number (strings through the number grammar)."""
    if isinstance(v, FieldElement):
        return v.to_sympy()
    if isinstance(v, str):
        return parse_number(v, place=place)
    if isinstance(v, bool) or isinstance(v, float):
        raise TypeError(f"not an exact number: {v!r}")
    return as_sympy(v)


def is_rational(v):
    """Whether ``v`` (int, Fraction, fmpq, sympy number or FieldElement) is a rational number."""
    if isinstance(v, (int, fmpq, Fraction)):
        return not isinstance(v, bool)
    if isinstance(v, FieldElement):
        return all(x == 0 for x in v.c[1:])
    if isinstance(v, sympy.Basic):
        return bool(v.is_Rational)
    return False


def _as_fmpq(v):
    if isinstance(v, fmpq):
        return v
    if isinstance(v, int):
        return fmpq(v)
    if isinstance(v, Fraction):
        return fmpq(v.numerator, v.denominator)
    if isinstance(v, FieldElement):
        return v.c[0]
    return fmpq(int(v.p), int(v.q))


def domain_field(values):
    """The :class:`NumberField` of domain elements, or None when they are all ``fmpq``."""
    for v in values:
        if isinstance(v, FieldElement):
            return v.field
    return None


def to_domain(values, field=None):
    """Exact numbers as elements of one exact domain.

    Parameters
    ----------
    values : iterable
        ints, Fractions, ``fmpq``, sympy real algebraic numbers, :class:`FieldElement` or
        exact strings (``"1/2"``, ``"sqrt(2)"``, read by the number grammar).
    field : NumberField, optional
        Convert into this field (a field of degree 1 means ``fmpq``); by default ``fmpq``
        when all values are rational, else ``NumberField.of(values)``.

    Returns
    -------
    list
        ``fmpq`` or :class:`FieldElement` values, one domain for all.

    Examples
    --------
    >>> to_domain([1, "1/2"])
    [1, 1/2]
    >>> x, y = to_domain(["sqrt(2)", 3])
    >>> x * x - y
    -1
    """
    raw = list(values)
    if field is None or field.degree == 1:
        if all(isinstance(v, (fmpq, int, Fraction)) and not isinstance(v, bool) for v in raw):
            return [_as_fmpq(v) for v in raw]
        conv = [v if isinstance(v, (fmpq, int, Fraction)) else _to_sympy_input(v) for v in raw]
        if all(is_rational(v) for v in conv):
            return [_as_fmpq(v) for v in conv]
        if field is not None:
            raise ValueError("an irrational number does not belong to the field Q")
        field = NumberField.of([as_sympy(v) if not isinstance(v, sympy.Basic) else v for v in conv])
    out = []
    for v in raw:
        if isinstance(v, FieldElement) and v.field == field:
            out.append(v)
        elif isinstance(v, (fmpq, int, Fraction)) and not isinstance(v, bool):
            q = _as_fmpq(v)
            out.append(FieldElement(field, (q,) + (fmpq(0),) * (field.degree - 1)))
        else:
            out.append(field.element(_to_sympy_input(v)))
    return out


def to_sympy(v):
    """A domain element as a sympy number."""
    if isinstance(v, FieldElement):
        return v.to_sympy()
    return as_sympy(v)


def fmt(v):
    """A domain element as an exact string of the number grammar.

    Examples
    --------
    >>> fmt(fmpq(-3, 4)), fmt(to_domain(["sqrt(2)/2"])[0])
    ('-3/4', 'sqrt(2)/2')
    """
    if isinstance(v, fmpq):
        return str(v.p) if v.q == 1 else f"{v.p}/{v.q}"
    if isinstance(v, int):
        return str(v)
    return format_number(to_sympy(v))


def sign(v):
    """The sign -1, 0 or 1 of a domain element."""
    if isinstance(v, FieldElement):
        return v.sign()
    return (v > 0) - (v < 0)


def relu(z):
    """relu(z) = max(z, 0), exactly."""
    return z if z > 0 else z * 0


# -- networks -------------------------------------------------------------------------------
def relu_layers(arch, params, what="network"):
    """Check that ``arch`` is a dense ReLU network with a d-vector input; its layers as (W, b).

    Parameters
    ----------
    arch : symkkt.spec.Architecture
    params : symkkt.spec.Parameters
    what : str
        How to name the network in messages.

    Returns
    -------
    list of (tuple, tuple)
        Per weight layer the weight rows and the biases as sympy numbers (a missing bias is
        zero); every layer but the last has activation relu.

    Raises
    ------
    ShapeError, SchemaError
        Input not of the form ``[d]``, a layer that is not dense, an activation other than
        relu (one message naming the layer).
    """
    src = arch.source
    if len(arch.input) != 1:
        raise ShapeError(f"the {what} needs input [d] (a vector), got {list(arch.input)}", src, "input")
    for i, layer in enumerate(arch.layers):
        if layer.kind != "dense":
            raise SchemaError(f"{layer.kind} layers are not supported here: the {what} must be dense layers "
                              "with relu activations and a linear output", src, f"layers[{i}]")
        last = i == len(arch.layers) - 1
        if not last and layer.activation.kind != "relu":
            raise SchemaError(f"activation {layer.activation.kind} at hidden layer {i + 1}: only relu networks "
                              "are supported here", src, f"layers[{i}].dense.activation")
    out = []
    for entry in params.layers:
        W = entry["weight"]
        b = entry["bias"] if entry.get("bias") is not None else (sympy.Integer(0),) * len(W)
        out.append((W, b))
    return out


@dataclass(frozen=True)
class ShallowNet:
    """R(x) = Σ_i a_i relu(w_i·x + b_i) + c, all numbers in one exact domain.

    Attributes
    ----------
    W : tuple
        m tuples of d domain elements (the rows w_i).
    b : tuple
        m hidden biases b_i.
    a : tuple
        m output weights a_i.
    c : object
        The output bias.
    dim : int
        The input dimension d (needed only when m = 0).
    source : str
        Where the parameters came from (for messages).
    """

    W: tuple
    b: tuple
    a: tuple
    c: object
    dim: int | None = field(default=None, compare=False)
    source: str = field(default="<python>", compare=False, repr=False)

    @property
    def m(self):
        """The number of hidden neurons."""
        return len(self.a)

    @property
    def d(self):
        """The input dimension."""
        return len(self.W[0]) if self.W else self.dim

    @cached_property
    def field(self):
        """The :class:`NumberField` of the numbers, or None for Q (``fmpq``)."""
        return domain_field([self.c, *self.a, *self.b, *(x for row in self.W for x in row)])

    def numbers(self):
        """All numbers of the network (W row by row, b, a, c)."""
        return [x for row in self.W for x in row] + list(self.b) + list(self.a) + [self.c]

    # -- construction -------------------------------------------------------------------
    @classmethod
    def of(cls, W, b, a, c=0, field=None, d=None, source="<python>"):
        """A network from exact numbers (ints, Fractions, ``fmpq``, sympy, strings ``"1/2"``).

        Examples
        --------
        >>> ShallowNet.of([["sqrt(2)", 0]], [1], [-1], 0)(["1", "0"])
        -sqrt(2) - 1
        """
        W = [list(row) for row in W]
        m = len(W)
        if len(b) != m or len(a) != m:
            raise ShapeError(f"W has {m} rows, b has {len(b)} entries and a has {len(a)}", source)
        dim = len(W[0]) if W else d
        if any(len(row) != dim for row in W):
            raise ShapeError("the rows of W have different lengths", source)
        flat = [x for row in W for x in row] + list(b) + list(a) + [c]
        vals = to_domain(flat, field)
        k = m * (dim or 0)
        Wd = tuple(tuple(vals[i * dim:(i + 1) * dim]) for i in range(m))
        return cls(Wd, tuple(vals[k:k + m]), tuple(vals[k + m:k + 2 * m]), vals[-1], dim, source)

    @classmethod
    def from_json(cls, arch_obj, params_obj, source="<python>"):
        """A network from the architecture and parameter file forms (or their loaded objects).

        Examples
        --------
        >>> arch = {"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu", "bias": True}},
        ...                                  {"dense": {"width": 1, "bias": True}}]}
        >>> ShallowNet.from_json(arch, [{"weight": [[2]], "bias": [-1]}, {"weight": [[3]], "bias": [1]}])(["1"])
        4
        """
        from ..spec import Architecture, Parameters, architecture_from_json, parameters_from_json

        arch = arch_obj if isinstance(arch_obj, Architecture) else architecture_from_json(arch_obj, source)
        params = params_obj if isinstance(params_obj, Parameters) else parameters_from_json(params_obj, arch, source)
        layers = relu_layers(arch, params)
        if len(layers) != 2:
            raise ShapeError(f"one hidden layer expected, the network has {len(layers) - 1} hidden layers",
                             arch.source, "layers")
        (W, b), (A, c) = layers
        return cls.of(W, b, A[0], c[0], d=arch.input[0], source=params.source)

    @classmethod
    def from_files(cls, arch_path, params_path):
        """A network from an architecture file and a parameter file."""
        from ..spec import load_architecture, load_parameters

        arch = load_architecture(arch_path)
        return cls.from_json(arch, load_parameters(params_path, arch), str(params_path))

    # -- evaluation ---------------------------------------------------------------------
    def _aligned(self, x):
        """(net, x) in one domain: x converted, or both moved to a common field."""
        x = tuple(x)
        if len(x) != self.d:
            raise ValueError(f"a point of dimension {self.d} expected, got {len(x)}")
        fx = domain_field(x)
        if all(isinstance(v, (fmpq, FieldElement)) for v in x) and (fx is None or fx == self.field):
            return self, x
        (net,), xs = unify([self], x)
        return net, tuple(xs)

    def preactivations(self, x):
        """The values w_i·x + b_i."""
        net, x = self._aligned(x)
        return [sum((wj * xj for wj, xj in zip(w, x)), bi * 0) + bi for w, bi in zip(net.W, net.b)]

    def __call__(self, x):
        """The exact value R(x)."""
        net, x = self._aligned(x)
        out = net.c
        for ai, z in zip(net.a, net.preactivations(x)):
            if z > 0:
                out = out + ai * z
        return out

    def gradient(self, x):
        """The exact gradient ∇R(x) at a point off the kinks.

        Raises
        ------
        ValueError
            When x lies on the hyperplane of a neuron with a_i ≠ 0 and w_i ≠ 0.
        """
        net, x = self._aligned(x)
        g = [net.c * 0] * net.d
        for ai, w, z in zip(net.a, net.W, net.preactivations(x)):
            if z == 0 and ai != 0 and any(wj != 0 for wj in w):
                raise ValueError("the point lies on a kink of the network")
            if z > 0:
                g = [gj + ai * wj for gj, wj in zip(g, w)]
        return tuple(g)

    # -- file forms ----------------------------------------------------------------------
    def to_params_json(self):
        """The parameter file form with exact strings (m = 0 is written as one zero neuron)."""
        W, b, a = self.W, self.b, self.a
        if not W:
            W, b, a = ((0,) * self.d,), (0,), (0,)
        return [{"weight": [[fmt(x) for x in row] for row in W], "bias": [fmt(x) for x in b]},
                {"weight": [[fmt(x) for x in a]], "bias": [fmt(self.c)]}]

    def architecture_json(self):
        """The architecture file form (relu hidden layer and output, both with bias)."""
        return {"input": [self.d], "layers": [{"dense": {"width": max(self.m, 1), "activation": "relu", "bias": True}},
                                              {"dense": {"width": 1, "bias": True}}]}

    # -- re-parametrizations ------------------------------------------------------------
    def with_neurons(self, idx):
        """The network keeping the neurons ``idx`` (in that order)."""
        idx = list(idx)
        return ShallowNet(tuple(self.W[i] for i in idx), tuple(self.b[i] for i in idx),
                          tuple(self.a[i] for i in idx), self.c, self.d, self.source)

    def permuted(self, perm):
        """Neuron j of the result is neuron ``perm[j]`` of this network (same function)."""
        perm = list(perm)
        if sorted(perm) != list(range(self.m)):
            raise ValueError(f"not a permutation of range({self.m}): {perm}")
        return self.with_neurons(perm)

    def scaled(self, i, lam):
        """(w_i, b_i, a_i) -> (λw_i, λb_i, a_i/λ) for λ > 0 (same function)."""
        (lam,) = to_domain([lam], self.field) if not isinstance(lam, (fmpq, FieldElement)) else (lam,)
        if not lam > 0:
            raise ValueError("the rescaling factor must be positive")
        W, b, a = list(self.W), list(self.b), list(self.a)
        W[i] = tuple(lam * x for x in W[i])
        b[i], a[i] = lam * b[i], a[i] / lam
        return ShallowNet(tuple(W), tuple(b), tuple(a), self.c, self.d, self.source)

    def in_field(self, field):
        """The same network with its numbers in ``field`` (None: Q)."""
        if field is not None and field.degree == 1:
            field = None
        if field is None and self.field is None or field is not None and self.field == field:
            return self
        vals = to_domain(self.numbers(), field)
        m, d = self.m, self.d
        k = m * d
        W = tuple(tuple(vals[i * d:(i + 1) * d]) for i in range(m))
        return ShallowNet(W, tuple(vals[k:k + m]), tuple(vals[k + m:k + 2 * m]), vals[-1], d, self.source)

    def __repr__(self):
        rows = ", ".join(f"({'/'.join(fmt(x) for x in w) or '-'}; {fmt(bi)}; {fmt(ai)})"
                         for w, bi, ai in zip(self.W, self.b, self.a))
        return f"ShallowNet(d={self.d}, m={self.m}, neurons (w; b; a) = [{rows}], c={fmt(self.c)})"


def unify(nets, extra=()):
    """Put networks and extra numbers (e.g. the box bounds) into one exact domain.

    Parameters
    ----------
    nets : sequence
        :class:`ShallowNet` (or any object with ``numbers()`` and ``in_field(field)``).
    extra : sequence
        Further exact numbers (strings, ints, sympy, domain elements).

    Returns
    -------
    (list, list)
        The networks and the extra numbers, all in one domain.

    Examples
    --------
    >>> a = ShallowNet.of([[1]], [0], [1], 0)
    >>> (a2,), (lo, hi) = unify([a], ["-sqrt(2)", 1])
    >>> a2.field.degree, a2([lo])
    (2, 0)
    """
    extra = list(extra)
    fields = [f for f in (n.field for n in nets) if f is not None]
    fields += [v.field for v in extra if isinstance(v, FieldElement)]
    plain = [v for v in extra if not isinstance(v, FieldElement)]
    plain_rational = all(is_rational(parse_number(v) if isinstance(v, str) else v) for v in plain)
    if not fields and plain_rational:
        return list(nets), to_domain(extra)
    if fields and plain_rational and all(f == fields[0] for f in fields):
        K = fields[0]
    else:
        nums = [to_sympy(x) for n in nets for x in n.numbers()] + [_to_sympy_input(v) for v in extra]
        K = NumberField.of(nums)
        if K.degree == 1:
            return [n.in_field(None) for n in nets], to_domain(extra)
    return [n.in_field(K) for n in nets], to_domain(extra, K)
