"""Splitting maps T as objects: neuron and channel splits ([A]), one-step splits and null units ([B]).

A step replaces one unit (a dense unit or a conv output channel) of a hidden weight layer, in
place, by s children. Child i gets the unit's incoming weights (and bias) times ``incoming[i]``
and, in the next weight layer, the unit's outgoing weights times ``outgoing[i]``:

==================  ============================  ==================  ===================
step                flag                          incoming            outgoing
==================  ============================  ==================  ===================
neuron / channel    ``--split L:U:c1,...,cs``      c_i                 c_i
one-step [B]        ``--critical-split L:U:α``     1, 1                α, 1 − α
null unit [B]       ``--null L``                   (1, 0) on the last  (1, 0)
==================  ============================  ==================  ===================

A dense layer followed (possibly after average pooling) by a flatten and a dense layer has its
channel's block of dense columns split, in flatten order. Every step, and every composition of
steps, is a linear map θ ↦ Tθ with at most one non-zero entry per row; :class:`Embedding`
stores it as ``index[r]`` (the source parameter of wide parameter r, -1 for a zero row) and
``coef[r]``, with the per-unit multipliers it came from (``units``), which the proofs in
:mod:`symkkt.embed.prove` use as candidates and re-check.

Networks with ``diagonal`` or ``sum`` layers are refused: unit i of a diagonal layer is tied to
coordinate i of its input (z_i = u_i x_i), so it has no split in the sense of [A], and the
relations the proofs build are written for dense and conv layers only.

This module decides nothing; it builds maps. It trusts the architecture validation of
:mod:`symkkt.spec`.

Examples
--------
>>> from symkkt.spec import architecture_from_json
>>> from symkkt.network import Network
>>> net = Network(architecture_from_json(
...     {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
...                               {"dense": {"width": 1}}]}))
>>> T = Embedding.identity(net).then(parse_step("1:0:3/5,4/5"))
>>> T.target.parameter_names
['W1[0,0]', 'W1[0,1]', 'W1[1,0]', 'W1[1,1]', 'W1[2,0]', 'W1[2,1]', 'W2[0,0]', 'W2[0,1]', 'W2[0,2]']
>>> [str(v) for v in T.forward([1, 2, 3, 4, 5, 6])]
['3/5', '6/5', '4/5', '8/5', '3', '4', '3', '4', '6']
>>> [str(v) for v in T.pullback(T.forward([1, 2, 3, 4, 5, 6]))]
['1', '2', '3', '4', '5', '6']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np
import sympy

from ..errors import UsageError
from ..field import as_sympy
from ..network import Network
from ..numbers import exact_sign, format_number, parse_number

__all__ = ["Step", "Embedding", "chain", "parse_step", "load_splits"]

_ONE, _ZERO = sympy.Integer(1), sympy.Integer(0)


@dataclass(frozen=True)
class Step:
    """One splitting step.

    Attributes
    ----------
    kind : {"split", "critical_split", "null"}
    layer : int
        1-based weight layer (in the network the previous steps produced).
    unit : int or None
        0-based unit (dense) or output channel (conv); ``None`` for a null unit (appended).
    coeffs : tuple
        Split coefficients c_i (``split``).
    alpha : sympy number or None
        ``critical_split`` only.
    """

    kind: str
    layer: int
    unit: int | None = None
    coeffs: tuple = ()
    alpha: object = None
    flag: str = ""

    @property
    def incoming(self):
        if self.kind == "split":
            return tuple(self.coeffs)
        return (_ONE, _ONE) if self.kind == "critical_split" else (_ONE, _ZERO)

    @property
    def outgoing(self):
        if self.kind == "split":
            return tuple(self.coeffs)
        return (self.alpha, 1 - self.alpha) if self.kind == "critical_split" else (_ONE, _ZERO)

    @property
    def place(self):
        """Where the step came from, for error messages (``--split 1:0:3/5,4/5``)."""
        return self.flag or self.label()

    def label(self):
        """The command-line form of the step."""
        if self.kind == "split":
            return f"--split {self.layer}:{self.unit}:{','.join(format_number(c) for c in self.coeffs)}"
        if self.kind == "critical_split":
            return f"--critical-split {self.layer}:{self.unit}:{format_number(self.alpha)}"
        return f"--null {self.layer}"

    def to_json(self):
        """The certificate / splits-file form of the step."""
        if self.kind == "split":
            return {"split": {"layer": self.layer, "unit": self.unit,
                              "coeffs": [format_number(c) for c in self.coeffs]}}
        if self.kind == "critical_split":
            return {"critical_split": {"layer": self.layer, "unit": self.unit,
                                       "alpha": format_number(self.alpha)}}
        return {"null": {"layer": self.layer}}


_ASCII_INT = re.compile(r"[ \t]*([0-9]+)[ \t]*")
MAX_INDEX_DIGITS = 9


def _int(text, what, place):
    """A non-negative integer written with ASCII digits 0-9 (other scripts' digits are refused)."""
    m = _ASCII_INT.fullmatch(text)
    if not m:
        raise UsageError(f"{what} must be a non-negative integer in ASCII digits 0-9, got {text!r}", place=place)
    if len(m.group(1).lstrip("0")) > MAX_INDEX_DIGITS:
        raise UsageError(f"{what} {m.group(1)[:12]}... is too large", place=place)
    return int(m.group(1))


def parse_step(text, kind="split"):
    """Parse ``LAYER:UNIT:c1,c2,...`` (split), ``LAYER:UNIT:ALPHA`` (critical) or ``LAYER`` (null).

    Raises :class:`~symkkt.errors.UsageError` naming the flag on malformed text.

    Examples
    --------
    >>> parse_step("2:1:sqrt(2)/2, sqrt(2)/2").coeffs
    (sqrt(2)/2, sqrt(2)/2)
    >>> parse_step("1:0:1/3", "critical_split").alpha
    1/3
    >>> parse_step("1:0:３/5,4/5")
    Traceback (most recent call last):
    ...
    symkkt.errors.UsageError: --split 1:0:３/5,4/5: non-ASCII character '３' at column 5 (steps are written in ASCII)
    >>> parse_step("1:x:1")
    Traceback (most recent call last):
    ...
    symkkt.errors.UsageError: --split 1:x:1: UNIT must be a non-negative integer in ASCII digits 0-9, got 'x'
    """
    flag = {"split": "--split", "critical_split": "--critical-split", "null": "--null"}[kind]
    place = f"{flag} {text}"
    bad = next(((i, ch) for i, ch in enumerate(text) if not ch.isascii()), None)
    if bad is not None:
        raise UsageError(f"non-ASCII character {bad[1]!r} at column {bad[0] + 1} (steps are written in ASCII)",
                         place=place)
    if kind == "null":
        layer = _int(text, "LAYER", place)
        if layer < 1:
            raise UsageError("LAYER is 1-based", place=place)
        return Step("null", layer, flag=place)
    parts = text.split(":")
    if len(parts) != 3:
        form = "LAYER:UNIT:c1,c2,..." if kind == "split" else "LAYER:UNIT:ALPHA"
        raise UsageError(f"expected {form}", place=place)
    layer, unit = _int(parts[0], "LAYER", place), _int(parts[1], "UNIT", place)
    if layer < 1:
        raise UsageError("LAYER is 1-based (the first weight layer is 1)", place=place)
    if kind == "split":
        items = [c for c in parts[2].split(",")]
        if not items or any(not c.strip() for c in items):
            raise UsageError("coefficients must be a non-empty comma-separated list", place=place)
        coeffs = tuple(parse_number(c.strip(), place=f"{place} coefficient {i + 1}")
                       for i, c in enumerate(items))
        return Step("split", layer, unit, coeffs, flag=place)
    return Step("critical_split", layer, unit, alpha=parse_number(parts[2].strip(), place=f"{place} ALPHA"),
                flag=place)


def _expand(idx, coef, axis, j, mults, block=1):
    """Replace slice ``j`` (of ``block`` entries) along ``axis`` by copies times ``mults``."""
    shape = idx.shape
    if block > 1:  # dense columns of a channel: view the axis as (channels, block)
        idx = idx.reshape(shape[:axis] + (shape[axis] // block, block) + shape[axis + 1:])
        coef = coef.reshape(idx.shape)
    take = [slice(None)] * idx.ndim
    take[axis] = slice(j, j + 1)
    piece_i, piece_c = idx[tuple(take)], coef[tuple(take)]
    parts_i, parts_c = [], []
    for m in mults:
        if m == 0:
            parts_i.append(np.full(piece_i.shape, -1))
            parts_c.append(np.full(piece_c.shape, _ZERO, dtype=object))
        else:
            parts_i.append(piece_i.copy())
            parts_c.append(piece_c * m)
    before, after = [slice(None)] * idx.ndim, [slice(None)] * idx.ndim
    before[axis], after[axis] = slice(0, j), slice(j + 1, None)
    new_i = np.concatenate([idx[tuple(before)], *parts_i, idx[tuple(after)]], axis=axis)
    new_c = np.concatenate([coef[tuple(before)], *parts_c, coef[tuple(after)]], axis=axis)
    if block > 1:
        out = shape[:axis] + (new_i.shape[axis] * block,) + shape[axis + 1:]
        new_i, new_c = new_i.reshape(out), new_c.reshape(out)
    return new_i, new_c


class Embedding:
    """A linear map T from the parameters of ``source`` to those of ``target``.

    Use :meth:`identity` and :meth:`then` (or :func:`chain`) to build one; every map knows its
    networks, its exact sparse matrix (:meth:`matrix`), maps parameters forward (:meth:`forward`)
    and back (:meth:`pullback`), composes (:meth:`then`), and writes the wide network
    (:meth:`target_files`).

    Attributes
    ----------
    source, target : Network
    steps : tuple of Step
    index : numpy.ndarray of int
        Source parameter of each target parameter (-1: the row of T is zero).
    coef : list of sympy numbers
        The non-zero entry of each row of T (0 for a zero row).
    units : dict
        Weight layer (1-based) -> per target unit ``(source unit, incoming, outgoing)``
        multipliers, for the layers whose units changed.
    """

    def __init__(self, source, target, steps, index, coef, units):
        self.source, self.target, self.steps = source, target, tuple(steps)
        self.index = np.asarray(index, dtype=np.int64)
        self.coef = list(coef)
        self.units = units

    @classmethod
    def identity(cls, network):
        """The identity map of a network (the start of a chain)."""
        m = network.num_parameters
        return cls(network, network, (), np.arange(m), [_ONE] * m, {})

    # -- structure ------------------------------------------------------------------------------
    @property
    def kinds(self):
        return {s.kind for s in self.steps}

    @property
    def is_split_chain(self):
        """All steps are neuron / channel splits ([A]): the maps of Theorems 4.8 and 4.11."""
        return self.kinds <= {"split"}

    def accepts(self, network):
        """Whether this map can be applied to parameters of ``network``."""
        return network.arch == self.source.arch

    def then(self, step):
        """The composition (step ∘ self): apply ``step`` to the target network of this map."""
        one = _build(self.target, step)
        index = np.where(one.index >= 0, self.index[np.maximum(one.index, 0)], -1)
        coef = [(c * self.coef[i]) if i >= 0 else _ZERO for c, i in zip(one.coef, one.index)]
        units = {}
        for w in set(self.units) | set(one.units):
            inner = self.units.get(w)
            outer = one.units.get(w) or [(u, _ONE, _ONE) for u in range(_units(self.target, w))]
            units[w] = [(inner[p][0], inner[p][1] * a, inner[p][2] * b) if inner else (p, a, b)
                        for p, a, b in outer]
        return Embedding(self.source, one.target, self.steps + (step,), index, coef, units)

    def children(self):
        """The units the steps replaced, each with the wide units that took its place.

        Returns ``{"LAYER:UNIT": ["LAYER:UNIT", ...]}`` for every narrow unit that became two or
        more wide units, in the terms the split flags use: UNIT counts the units of a dense layer
        and the output channels of a conv layer (not their flat positions). LAYER is the same in
        both networks; a null unit counts as a child of the unit it was appended after.

        Examples
        --------
        >>> from symkkt.spec import architecture_from_json
        >>> net = Network(architecture_from_json(
        ...     {"input": [1, 4], "layers": [{"conv": {"channels": 2, "kernel": 1, "activation": "relu"}},
        ...                                  "flatten", {"dense": {"width": 1}}]}))
        >>> chain(net, [parse_step("1:0:3/5,4/5"), parse_step("1:2:1")]).children()
        {'1:0': ['1:0', '1:1']}
        >>> chain(net, [parse_step("1:1:3/5,4/5"), parse_step("1:1:3/5,4/5")]).children()
        {'1:1': ['1:1', '1:2', '1:3']}
        """
        out = {}
        for w, rows in sorted(self.units.items()):
            kids = {}
            for c, (p, _a, _b) in enumerate(rows):
                kids.setdefault(p, []).append(c)
            out.update({f"{w}:{p}": [f"{w}:{c}" for c in cs] for p, cs in sorted(kids.items()) if len(cs) > 1})
        return out

    def unit_kind(self, w):
        """``"channel"`` if weight layer ``w`` (1-based) is a conv layer, else ``"unit"``."""
        return "channel" if self.source.arch.layers[self.source.arch.weight_layers[w - 1]].kind == "conv" else "unit"

    def unit_map(self, w):
        """Per target unit of weight layer ``w``: ``(source unit, incoming, outgoing)``."""
        if w in self.units:
            return self.units[w]
        return [(u, _ONE, _ONE) for u in range(_units(self.source, w))]

    # -- the linear map -------------------------------------------------------------------------
    def forward(self, theta):
        """Tθ for a flat θ of exact numbers (sympy), as a list."""
        theta = [as_sympy(t) for t in theta]
        return [c * theta[i] if i >= 0 else _ZERO for c, i in zip(self.coef, self.index)]

    def pullback(self, eta):
        """Tᵀη for a flat wide η of exact numbers, as a list."""
        out = [_ZERO] * self.source.num_parameters
        for c, i, e in zip(self.coef, self.index, eta):
            if i >= 0:
                out[i] += c * as_sympy(e)
        return out

    def invert(self, eta):
        """The θ with Tθ = η, for η in the range of T (else ``ValueError``).

        For an isometry this is Tᵀη; in general the least-squares solution (TᵀT)⁻¹Tᵀη, which T
        maps back to η exactly when η is in the range.

        Examples
        --------
        >>> from symkkt.api import load_example
        >>> problem, theta = load_example("example1")
        >>> T = chain(problem.network, [parse_step("1:0:3/5,4/5")])
        >>> T.invert(T.forward(theta)) == theta
        True
        """
        norms = self.column_norms()
        if any(n == 0 for n in norms):
            raise ValueError("T has a zero column: θ is not determined by Tθ")
        theta = [v / n for v, n in zip(self.pullback(eta), norms)]
        back = self.forward(theta)
        if any(sympy.expand(a - as_sympy(b)) != 0 for a, b in zip(back, eta)):
            raise ValueError("η is not in the range of T")
        return [sympy.expand(t) for t in theta]

    def matrix(self):
        """T as a sympy SparseMatrix (rows: target parameters, columns: source parameters)."""
        entries = {(r, int(i)): c for r, (i, c) in enumerate(zip(self.index, self.coef)) if i >= 0 and c != 0}
        return sympy.SparseMatrix(self.target.num_parameters, self.source.num_parameters, entries)

    def column_norms(self):
        """(TᵀT)_cc = Σ_r T_rc² for every source parameter c (T has one non-zero per row, so
        TᵀT is diagonal)."""
        out = [_ZERO] * self.source.num_parameters
        for c, i in zip(self.coef, self.index):
            if i >= 0:
                out[i] += c * c
        return out

    def rows_json(self):
        """T as certificate rows ``[[source index or None, "coef"], ...]``."""
        return [[int(i), format_number(c)] if i >= 0 else [None, "0"] for i, c in zip(self.index, self.coef)]

    def numbers(self):
        """Exact constants of the map (for choosing a number field)."""
        return list({c for c in self.coef if c != 0})

    # -- files ----------------------------------------------------------------------------------
    def target_files(self, theta=None):
        """``(architecture JSON, parameters JSON or None)`` of the wide network."""
        arch = self.target.arch.to_json()
        if theta is None:
            return arch, None
        layers = self.target.unflatten(self.forward(theta))
        params = [{"weight": _fmt(l["weight"]), **({"bias": _fmt(l["bias"])} if l["bias"] is not None else {})}
                  for l in layers]
        return arch, params

    def __repr__(self):
        steps = "; ".join(s.label() for s in self.steps) or "identity"
        return (f"<Embedding {steps}: m={self.source.num_parameters} -> {self.target.num_parameters}, "
                f"widths {_widths(self.source)} -> {_widths(self.target)}>")

    def _repr_latex_(self):
        return (rf"$T:\mathbb{{R}}^{{{self.source.num_parameters}}}\to\mathbb{{R}}^{{{self.target.num_parameters}}},"
                rf"\ \theta\mapsto T\theta$ ({len(self.steps)} step(s))")


def chain(network, steps):
    """The composition of ``steps`` applied in order to ``network`` (each on the previous result)."""
    emb = Embedding.identity(network)
    for step in steps:
        emb = emb.then(step)
    return emb


def _fmt(v):
    if isinstance(v, list):
        return [_fmt(x) for x in v]
    return format_number(as_sympy(v))


def _widths(net):
    return [net.arch.shapes[i][0] for i in net.arch.weight_layers]   # units (dense, diagonal) or channels (conv)


def _units(net, w):
    return net.arch.shapes[net.arch.weight_layers[w - 1]][0]   # units (dense, diagonal) or channels (conv)


def _build(net, step):
    """The one-step map of ``step`` on ``net`` (validated against the architecture)."""
    arch = net.arch
    nw = len(arch.weight_layers)
    place = step.place
    if not 1 <= step.layer <= nw:
        raise UsageError(f"LAYER {step.layer} out of range: the network has {nw} weight layers", place=place)
    if arch.layers[arch.weight_layers[step.layer - 1]].kind == "diagonal":
        raise UsageError(f"weight layer {step.layer} is a diagonal layer: its unit i is tied to input coordinate i "
                         "(z_i = u_i x_i), so its units cannot be split; split a dense or conv layer", place=place)
    if any(layer.kind in ("diagonal", "sum") for layer in arch.layers):
        raise UsageError("splits are supported for networks of dense, conv, avgpool and flatten layers only; "
                         "this network has diagonal or sum layers", place=place)
    if step.layer == nw:
        raise UsageError(f"weight layer {step.layer} is the output layer; split a hidden layer (1..{nw - 1})",
                         place=place)
    w = step.layer
    li, lj = arch.weight_layers[w - 1], arch.weight_layers[w]
    layer, nxt = arch.layers[li], arch.layers[lj]
    n = layer.width if layer.kind == "dense" else layer.channels
    unit = n - 1 if step.kind == "null" else step.unit
    if not 0 <= unit < n:
        raise UsageError(f"UNIT {unit} out of range: weight layer {w} has {n} "
                         f"{'units' if layer.kind == 'dense' else 'channels'} (0..{n - 1})", place=place)
    if step.kind == "split" and not step.coeffs:
        raise UsageError("a split needs at least one coefficient", place=place)
    inc, out = step.incoming, step.outgoing
    s = len(inc)
    grown = replace(layer, width=n + s - 1) if layer.kind == "dense" else replace(layer, channels=n + s - 1)
    target_arch = replace(arch, layers=arch.layers[:li] + (grown,) + arch.layers[li + 1:])
    target = Network(target_arch)

    shapes = net.param_shapes
    index, coef, offset = [], [], 0
    for v, sh in enumerate(shapes, start=1):
        blocks = [("weight", sh["weight"])] + ([("bias", sh["bias"])] if sh.get("bias") else [])
        for name, shape in blocks:
            size = math.prod(shape)
            idx = (offset + np.arange(size)).reshape(shape)
            cf = np.full(shape, _ONE, dtype=object)
            offset += size
            if v == w:
                idx, cf = _expand(idx, cf, 0, unit, inc)
            elif v == w + 1 and name == "weight":
                if nxt.kind == "conv":
                    idx, cf = _expand(idx, cf, 1, unit, out)
                else:   # dense: the channel's block of flattened inputs
                    block = shape[1] // n
                    idx, cf = _expand(idx, cf, 1, unit, out, block)
            index.append(idx.ravel())
            coef.extend(cf.ravel().tolist())
    index = np.concatenate(index)
    units = {w: [(u, _ONE, _ONE) for u in range(unit)] + [(unit, a, b) for a, b in zip(inc, out)]
             + [(u, _ONE, _ONE) for u in range(unit + 1, n)]}
    if len(index) != target.num_parameters:  # pragma: no cover - a bug in the layout
        raise RuntimeError("split map does not match the wide parameter layout")
    return Embedding(net, target, (step,), index, coef, units)


def coefficient_problems(step):
    """Why a split step is not an [A] split: ``[]`` or reasons (negative c, Σc² ≠ 1)."""
    if step.kind != "split":
        return [f"{step.label()} is a [B] embedding, not a neuron split"]
    out = []
    neg = [i for i, c in enumerate(step.coeffs) if exact_sign(c) < 0]
    if neg:
        out.append(f"coefficient c_{neg[0] + 1} = {format_number(step.coeffs[neg[0]])} < 0")
    total = sum(c * c for c in step.coeffs)
    if exact_sign(total - 1) != 0:
        out.append(f"sum of squares {format_number(total)} != 1")
    return out


#: how to write one entry of a splits file
SPLITS_FORM = ('write each step as "L:U:c1,c2,..." or as a mapping with one key: {split: "L:U:c1,..."}, '
               '{critical_split: "L:U:ALPHA"} or {null: L} (LAYER L 1-based, UNIT U 0-based)')


def _describe(value):
    if isinstance(value, dict):
        return f"a mapping with keys {', '.join(map(repr, value)) or '(none)'}"
    if isinstance(value, list):
        return "a list"
    return "nothing (null)" if value is None else repr(value)


def _splits_entry(item, file, place):
    """``(kind, text)`` of one entry of a splits file.

    YAML reads the key ``null`` (as in ``{null: 1}``) as no value at all, so a ``None`` key is
    read as ``"null"``.
    """
    from ..errors import SchemaError

    if isinstance(item, str):
        return "split", item
    if isinstance(item, dict) and len(item) == 1:
        (kind, text), = item.items()
        kind = "null" if kind is None else kind
        if kind not in ("split", "critical_split", "null"):
            raise SchemaError(f"unknown step {kind!r}; {SPLITS_FORM}", file, place)
        if not isinstance(text, str) or not text.strip():
            raise SchemaError(f"{kind} needs a value, got {_describe(text)}; {SPLITS_FORM}", file, f"{place}.{kind}")
        return kind, text
    raise SchemaError(f"got {_describe(item)}; {SPLITS_FORM}", file, place)


def load_splits(path):
    """Read a splits file: ``splits:`` a list of steps, applied in order.

    Each entry is ``"L:U:c1,c2,..."`` (a neuron/channel split), or a mapping with one key:
    ``split: "L:U:c1,..."``, ``critical_split: "L:U:ALPHA"`` or ``null: L``.
    """
    from ..errors import SchemaError, SymkktInputError
    from ..spec import _read

    file = str(path)
    obj = _read(path, (".yaml", ".yml", ".json"))
    if not isinstance(obj, dict) or set(obj) != {"splits"}:
        raise SchemaError(f"expected a mapping with the single key 'splits', got {_describe(obj)}; "
                          f"for example splits: [\"1:0:3/5,4/5\", {{null: 1}}]", file)
    items = obj["splits"]
    if not isinstance(items, list) or not items:
        raise SchemaError(f"expected a non-empty list of steps, got {_describe(items)}; {SPLITS_FORM}", file, "splits")
    steps = []
    for i, item in enumerate(items):
        place = f"splits[{i}]"
        kind, text = _splits_entry(item, file, place)
        try:
            step = parse_step(text, kind)
        except SymkktInputError as err:
            raise type(err)(err.message, file, place) from None
        steps.append(replace(step, flag=f"{file}: {place}"))
    return steps
