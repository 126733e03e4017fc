"""Validated inputs: architectures, data and parameters, with exact numbers.

The loaders read YAML, JSON (and CSV for data) without ever turning a number into a float:
YAML scalars and JSON numbers are kept as text and read by
:func:`symkkt.numbers.parse_number`. Every file is validated against the JSON Schema shipped
in ``symkkt/schemas/`` and by structural checks that name the place of a mistake
(``layers[1].dense.width``, ``points[3].y``, ``[0].weight[1][0]`` or ``line 5``).

Inputs are measured against :mod:`symkkt.limits` before the work: only regular files of at
most ``input_bytes`` are read (checked with ``fstat`` on a non-blocking descriptor, so a FIFO
or ``/dev/zero`` never blocks), YAML is built from the parser's events without recursion
(``nesting``; aliases refused), and architectures are checked for ``units``, ``parameters``,
``power`` and ``coefficients``, data for ``points``, and the numbers of each file together for
``field_degree`` and ``radicals``.
"""
from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import math
import os
import re
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

import sympy
import yaml

from . import limits
from .errors import SchemaError, ShapeError, SymkktInputError, UsageError
from .field import RadicalCensus
from .numbers import exact_sign, format_number, parse_number

__all__ = ["Activation", "Layer", "Architecture", "Dataset", "Parameters", "ACTIVATIONS", "LAYERS",
           "load_architecture", "load_data", "load_parameters", "architecture_from_json",
           "data_from_json", "parameters_from_json", "require_binary_labels", "schema"]

#: activation kind -> its parameters
ACTIVATIONS = {"linear": (), "relu": (), "tanh": (), "leaky_relu": ("slope",), "poly_relu": ("power",),
               "poly_leaky_relu": ("slope", "power"), "polynomial": ("coeffs",)}
#: layer kind -> its keys
LAYERS = {"dense": ("width", "activation", "bias"), "conv": ("channels", "kernel", "stride", "activation", "bias"),
          "avgpool": ("kernel",), "flatten": (), "diagonal": ("activation", "bias"), "sum": ()}
_SCHEMAS = Path(__file__).parent / "schemas"


def _int_like(v):
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class Activation:
    """An activation function ``sigma`` applied unit-wise.

    ``kind`` is one of :data:`ACTIVATIONS`; ``slope`` (leaky kinds, exact, >= 0), ``power``
    (poly kinds, integer >= 1) and ``coeffs`` (polynomial, low to high degree) as needed.
    Numbers given as text are parsed with :func:`~symkkt.numbers.parse_number`.

    Examples
    --------
    >>> Activation("leaky_relu", slope="1/100").to_json()
    {'leaky_relu': {'slope': '1/100'}}
    """

    kind: str
    slope: sympy.Expr | None = None
    power: int | None = None
    coeffs: tuple = ()

    def __post_init__(self):
        if self.kind not in ACTIVATIONS:
            raise SchemaError(f"unknown activation {self.kind!r}; allowed: {', '.join(ACTIVATIONS)}")
        for name in ("slope", "power", "coeffs"):
            given, needed = getattr(self, name) not in (None, ()), name in ACTIVATIONS[self.kind]
            if given != needed:
                raise SchemaError(f"{self.kind} {'needs' if needed else 'takes no'} {name}", place=f"{self.kind}.{name}")
        if self.slope is not None:
            slope = parse_number(self.slope, place=f"{self.kind}.slope")
            if exact_sign(slope) < 0:
                raise SchemaError(f"slope must be >= 0, got {format_number(slope)}", place=f"{self.kind}.slope")
            object.__setattr__(self, "slope", slope)
        if self.power is not None:
            power = parse_number(self.power, place=f"{self.kind}.power")
            if not (power.is_Integer and power >= 1):
                raise SchemaError(f"power must be an integer >= 1, got {format_number(power)}", place=f"{self.kind}.power")
            limits.check("power", int(power), place=f"{self.kind}.power")
            object.__setattr__(self, "power", int(power))
        limits.check("coefficients", len(self.coeffs), place=f"{self.kind}.coeffs")
        object.__setattr__(self, "coeffs", tuple(parse_number(c, place=f"{self.kind}.coeffs[{i}]")
                                                 for i, c in enumerate(self.coeffs)))

    def to_json(self):
        """The input-file form: ``'relu'`` or ``{'leaky_relu': {'slope': '1/100'}}``."""
        if not ACTIVATIONS[self.kind]:
            return self.kind
        body = {"slope": format_number(self.slope) if self.slope is not None else None, "power": self.power,
                "coeffs": [format_number(c) for c in self.coeffs] or None}
        return {self.kind: {k: v for k, v in body.items() if v is not None}}


@dataclass(frozen=True)
class Layer:
    """One layer: ``dense`` (``width``), ``conv`` (``channels``, ``kernel``, ``stride``),
    ``avgpool`` (``kernel``; stride = kernel), ``flatten``, ``diagonal`` (elementwise weights
    z = u ⊙ x on a flat input, same width) or ``sum`` (z = Σ_i x_i, no parameters).

    Kernel and stride are tuples (one entry per spatial axis); an int kernel or stride is
    expanded by :class:`Architecture` to the input's number of spatial axes.

    Examples
    --------
    >>> Layer("dense", width=2, activation="relu").to_json()
    {'dense': {'width': 2, 'activation': 'relu'}}
    """

    kind: str
    width: int | None = None
    channels: int | None = None
    kernel: tuple = ()
    stride: tuple = ()
    activation: Activation = Activation("linear")
    bias: bool = False

    def __post_init__(self):
        if self.kind not in LAYERS:
            raise SchemaError(f"unknown layer kind {self.kind!r}; allowed: {', '.join(LAYERS)}")
        if isinstance(self.activation, str):
            object.__setattr__(self, "activation", Activation(self.activation))
        for name in ("kernel", "stride"):
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("width", "channels", "kernel", "stride", "activation", "bias"):
            default = Layer.__dataclass_fields__[name].default
            if name not in LAYERS[self.kind] and getattr(self, name) != default and \
                    not (self.kind == "avgpool" and name == "stride" and self.stride == self.kernel):
                raise SchemaError(f"{self.kind} layers take no {name}", place=f"{self.kind}.{name}")

    def to_json(self):
        """The input-file form, defaults omitted: ``{'dense': {'width': 2, 'activation': 'relu'}}``."""
        body = {"width": self.width, "channels": self.channels}
        if self.kind in ("conv", "avgpool"):
            body["kernel"] = list(self.kernel) if isinstance(self.kernel, tuple) else self.kernel
        if self.kind == "conv" and self.stride and set(self.stride) != {1}:
            body["stride"] = list(self.stride)
        if self.activation.kind != "linear":
            body["activation"] = self.activation.to_json()
        body["bias"] = self.bias or None
        return {self.kind: {k: v for k, v in body.items() if v is not None}}


def _ints(value, dims):
    return (value,) * dims if _int_like(value) else tuple(value)


def _apply(layer, shape, place, bad, limit):
    """Normalise ``layer`` for input ``shape``; return it and its output shape.

    ``bad(message, place)`` reports a mistake, ``limit(name, value, place)`` checks a limit.
    """
    def positive(value, at, what):
        if not (_int_like(value) and value >= 1):
            bad(f"{what} must be a positive integer, got {value}", at)

    if layer.kind == "flatten":
        return layer, (math.prod(shape),)
    if layer.kind in ("diagonal", "sum"):
        if len(shape) > 1:
            bad(f"{layer.kind} layer needs a flat input: add a flatten layer after conv layers "
                f"(its input has shape {list(shape)})", place)
        return layer, (shape if layer.kind == "diagonal" else (1,))
    if layer.kind == "dense":
        if layer.width is None:
            bad("a dense layer needs a width", place)
        positive(layer.width, f"{place}.width", "width")
        limit("units", layer.width, f"{place}.width")
        if len(shape) > 1:
            bad(f"dense layer needs a flatten layer after conv layers (its input has shape {list(shape)})", place)
        return layer, (layer.width,)
    if len(shape) not in (2, 3):
        bad(f"{layer.kind} needs an input of shape [C, L] or [C, H, W], got {list(shape)}", place)
    dims, sizes = len(shape) - 1, shape[1:]
    kernel = _ints(layer.kernel, dims)
    stride = kernel if layer.kind == "avgpool" else _ints(1 if layer.stride == () else layer.stride, dims)
    for name, value in (("kernel", kernel), ("stride", stride)):
        if len(value) != dims:
            bad(f"{name} needs {dims} entries for input shape {list(shape)}, got {list(value)}", f"{place}.{name}")
        for v in value:
            positive(v, f"{place}.{name}", name)
    if any(k > n for k, n in zip(kernel, sizes)):
        bad(f"kernel {list(kernel)} is larger than the input {list(sizes)}", f"{place}.kernel")
    if layer.kind == "avgpool":
        return replace(layer, kernel=kernel, stride=stride), (shape[0],) + tuple(n // k for n, k in zip(sizes, kernel))
    if layer.channels is None:
        bad("a conv layer needs channels", place)
    positive(layer.channels, f"{place}.channels", "channels")
    limit("units", layer.channels, f"{place}.channels")
    out = (layer.channels,) + tuple((n - k) // s + 1 for n, k, s in zip(sizes, kernel, stride))
    limit("units", math.prod(out), place)
    return replace(layer, kernel=kernel, stride=stride), out


@dataclass(frozen=True)
class Architecture:
    """A feed-forward network with a scalar output, validated on construction.

    Attributes
    ----------
    input : tuple
        ``(d,)``, ``(C, L)`` or ``(C, H, W)``.
    layers : tuple of Layer
        Normalised (kernels and strides as full tuples).
    shapes : tuple of tuple
        Output shape after each layer.
    weight_layers : tuple of int
        Indices into ``layers`` of the dense, conv and diagonal layers; weight layer ``j`` (1-based,
        as in ``--split``) is ``layers[weight_layers[j - 1]]``.

    Examples
    --------
    >>> a = Architecture((2,), (Layer("dense", width=3, activation="relu"), Layer("dense", width=1)))
    >>> a.shapes, a.weight_layers
    (((3,), (1,)), (0, 1))
    >>> a.param_shapes()
    [{'weight': (3, 2), 'bias': None}, {'weight': (1, 3), 'bias': None}]
    """

    input: tuple
    layers: tuple
    source: str = field(default="<python>", compare=False)
    shapes: tuple = field(init=False, compare=False, repr=False)
    weight_layers: tuple = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        def bad(message, place):
            raise SchemaError(message, self.source, place)

        def limit(name, value, place):
            limits.check(name, value, self.source, place)

        inp = tuple(self.input)
        if not 1 <= len(inp) <= 3:
            bad(f"input must be [d], [C, L] or [C, H, W], got {list(inp)}", "input")
        for j, d in enumerate(inp):
            if not (_int_like(d) and d >= 1):
                bad(f"input sizes must be positive integers, got {d}", f"input[{j}]")
        limit("units", math.prod(inp), "input")
        if not self.layers:
            bad("at least one layer is needed", "layers")
        shape, shapes, layers, parameters = inp, [], [], 0
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                bad(f"expected a Layer, got {type(layer).__name__}", f"layers[{i}]")
            prev = shape
            layer, shape = _apply(layer, shape, f"layers[{i}].{layer.kind}", bad, limit)
            if layer.kind in ("dense", "conv", "diagonal"):
                n = shape[0]
                parameters += n * (math.prod(prev) if layer.kind == "dense" else 1 if layer.kind == "diagonal"
                                   else prev[0] * math.prod(layer.kernel))
                parameters += n if layer.bias else 0
                limit("parameters", parameters, f"layers[{i}].{layer.kind}")
            layers.append(layer)
            shapes.append(shape)
        last = layers[-1]
        if not (last.kind == "dense" and last.width == 1 and last.activation.kind == "linear") and last.kind != "sum":
            bad("the last layer must be dense with width 1 and linear activation, or sum (scalar output)",
                f"layers[{len(layers) - 1}]")
        if not any(l.kind in ("dense", "conv", "diagonal") for l in layers):
            bad("at least one weight layer (dense, conv or diagonal) is needed", "layers")
        object.__setattr__(self, "input", inp)
        object.__setattr__(self, "layers", tuple(layers))
        object.__setattr__(self, "shapes", tuple(shapes))
        object.__setattr__(self, "weight_layers", tuple(i for i, l in enumerate(layers)
                                                        if l.kind in ("dense", "conv", "diagonal")))

    def param_shapes(self):
        """Per weight layer: ``{'weight': shape, 'bias': (n,) or None}``.

        Dense weights are ``(width, inputs)``; conv weights ``(channels, C, k...)``; diagonal
        weights ``(width,)`` (one weight per unit, the width of its input).
        """
        out = []
        for i in self.weight_layers:
            layer, prev = self.layers[i], (self.shapes[i - 1] if i else self.input)
            n = layer.width if layer.kind == "dense" else prev[0] if layer.kind == "diagonal" else layer.channels
            weight = (n, math.prod(prev)) if layer.kind == "dense" else (n,) if layer.kind == "diagonal" \
                else (n, prev[0]) + layer.kernel
            out.append({"weight": weight, "bias": (n,) if layer.bias else None})
        return out

    def to_json(self):
        """The input-file form ``{'input': [...], 'layers': [...]}``."""
        return {"input": list(self.input), "layers": [layer.to_json() for layer in self.layers]}


def _nest(flat, shape):
    if len(shape) <= 1:
        return list(flat)
    step = math.prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _strings(nested):
    return [_strings(v) for v in nested] if isinstance(nested, (tuple, list)) else format_number(nested)


@dataclass(frozen=True)
class Dataset:
    """Data points ``X`` (each flattened in C order) and targets ``y``, exact.

    ``input_shape`` (an addition to the input-file fields) is the shape each point is
    nested back to by :meth:`to_json`.

    Examples
    --------
    >>> d = Dataset([[1, "1/2"], [0, "-sqrt(2)"]], [1, -1])
    >>> d.X[1]
    (0, -sqrt(2))
    >>> d.to_json()
    {'points': [{'x': ['1', '1/2'], 'y': '1'}, {'x': ['0', '-sqrt(2)'], 'y': '-1'}]}
    """

    X: tuple
    y: tuple
    source: str = field(default="<python>", compare=False)
    input_shape: tuple = ()

    def __post_init__(self):
        X = tuple(tuple(parse_number(v, self.source, f"points[{k}].x[{j}]") for j, v in enumerate(row))
                  for k, row in enumerate(self.X))
        y = tuple(parse_number(v, self.source, f"points[{k}].y") for k, v in enumerate(self.y))
        if len(X) != len(y):
            raise ShapeError(f"{len(X)} points but {len(y)} targets", self.source, "points")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "input_shape", tuple(self.input_shape) or ((len(X[0]),) if X else ()))

    def to_json(self):
        """The input-file form ``{'points': [{'x': [...], 'y': '1'}, ...]}`` with exact strings."""
        return {"points": [{"x": _nest(_strings(x), self.input_shape), "y": format_number(y)}
                           for x, y in zip(self.X, self.y)]}


@dataclass(frozen=True)
class Parameters:
    """Exact parameters: per weight layer ``{'weight': nested tuples, 'bias': tuple or None}``."""

    layers: tuple
    source: str = field(default="<python>", compare=False)

    def to_json(self):
        """The input-file form ``[{'weight': [[...]]}, {'weight': ..., 'bias': [...]}]``."""
        return [{"weight": _strings(l["weight"]), **({"bias": _strings(l["bias"])} if l.get("bias") is not None else {})}
                for l in self.layers]


def require_binary_labels(dataset):
    """Check that every label is exactly +1 or -1 (classification problems).

    Parameters
    ----------
    dataset : Dataset

    Returns
    -------
    Dataset
        ``dataset`` itself.

    Raises
    ------
    ShapeError
        ``points[k].y: label must be +1 or -1``.
    """
    for k, v in enumerate(dataset.y):
        if not (v.is_Integer and abs(v) == 1):
            raise ShapeError(f"label must be +1 or -1, got {format_number(v)}", dataset.source, f"points[{k}].y")
    return dataset


# ---------------------------------------------------------------------------- reading files

class _FloatText(str):
    """A JSON float literal kept as its text (exact decimal unless --float-input)."""


_YAML = "tag:yaml.org,2002:"
_YAML_TEXT = {_YAML + t for t in ("str", "int", "float", "timestamp")}
_YAML_COLLECTIONS = {None, "!", _YAML + "seq", _YAML + "map"}
_YamlParser = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


def _line(mark):
    return f"line {mark.line + 1}" if mark is not None else None


def _yaml_scalar(loader, event, file):
    """A YAML scalar as Python: null, true/false, and every other scalar as its text (numbers stay exact)."""
    tag = event.tag
    if tag is None or tag == "!":
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag in _YAML_TEXT:
        return event.value
    if tag == _YAML + "null":
        return None
    if tag == _YAML + "bool" and event.value.lower() in yaml.constructor.SafeConstructor.bool_values:
        return yaml.constructor.SafeConstructor.bool_values[event.value.lower()]
    what = "merge keys (<<)" if tag == _YAML + "merge" else f"the tag {tag}"
    raise SchemaError(f"not valid YAML: {what} not supported", file, _line(event.start_mark))


def _yaml_load(text, file, parser=None):
    """Read one YAML document into lists, dicts and text, without recursion.

    Built from the parser's events with an explicit stack, so the ``nesting`` limit is
    checked as the document opens a level; aliases (``*name``, which can expand a small file
    into a huge one), duplicate keys, non-scalar keys and unusual tags are refused.
    """
    loader = (parser or _YamlParser)(text)
    nesting, stack, root, documents = limits.get("nesting"), [], None, 0
    try:
        while True:
            event = loader.get_event()
            if isinstance(event, yaml.StreamEndEvent):
                return root
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise SchemaError("not valid YAML: expected a single document in the file", file,
                                      _line(event.start_mark))
                continue
            if isinstance(event, (yaml.StreamStartEvent, yaml.DocumentEndEvent)):
                continue
            if isinstance(event, yaml.AliasEvent):
                raise SchemaError("not valid YAML: aliases (*name) are not supported", file, _line(event.start_mark))
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if event.tag not in _YAML_COLLECTIONS:
                    raise SchemaError(f"not valid YAML: the tag {event.tag} not supported", file,
                                      _line(event.start_mark))
                limits.check("nesting", len(stack) + 1, file, _line(event.start_mark))
                # frame: [container, pending key, whether a key is pending]
                stack.append([[] if isinstance(event, yaml.SequenceStartEvent) else {}, None, False])
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                value = stack.pop()[0]
            else:
                value = _yaml_scalar(loader, event, file)
            if not stack:
                root = value
                continue
            frame = stack[-1]
            container = frame[0]
            if isinstance(container, list):
                container.append(value)
            elif frame[2]:
                container[frame[1]] = value
                frame[2] = False
            elif isinstance(value, (list, dict)):
                raise SchemaError("not valid YAML: mapping keys must be plain values", file, _line(event.start_mark))
            elif value in container:
                raise SchemaError(f"not valid YAML: duplicate key {value!r}", file, _line(event.start_mark))
            else:
                frame[1], frame[2] = value, True
    finally:
        loader.dispose()


def _json_depth(text):
    """The deepest nesting of brackets in JSON text (strings removed first)."""
    brackets = re.sub(r"[^\[\]{}]", "", re.sub(r'"(?:[^"\\]|\\.)*"', "", text))
    return max(itertools.accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def _json_pairs(file):
    def pairs(items):
        out = {}
        for key, value in items:
            if key in out:
                raise SchemaError(f"not valid JSON: duplicate key {key!r}", file)
            out[key] = value
        return out
    return pairs


def _json_load(text, file):
    try:
        return json.loads(text, parse_float=_FloatText, parse_int=str, parse_constant=_FloatText,
                          object_pairs_hook=_json_pairs(file))
    except json.JSONDecodeError as e:
        raise SchemaError(f"not valid JSON: {e.msg}", file, f"line {e.lineno}") from None
    except RecursionError:
        limits.check("nesting", _json_depth(text), file)
        raise SchemaError("not valid JSON: nested too deeply for Python's JSON reader", file) from None


def _check_nesting(obj, file):
    """Refuse lists and mappings nested deeper than the ``nesting`` limit (iteratively, no recursion)."""
    if not isinstance(obj, (list, dict)):
        return
    limit, stack = limits.get("nesting"), [(obj, 1, ())]
    while stack:
        node, depth, path = stack.pop()
        if depth > limit:
            limits.check("nesting", depth, file, _where(path) or None)
        items = enumerate(node) if isinstance(node, list) else node.items()
        stack.extend((v, depth + 1, path + (k,)) for k, v in items if isinstance(v, (list, dict)))


def _read_bytes(path, file):
    """The bytes of a regular file of at most ``input_bytes`` bytes.

    The file is opened without blocking and checked with ``fstat`` before anything is read,
    so FIFOs, devices (``/dev/zero``), sockets and directories are refused at once, and a
    file is never read beyond the limit (files that grow, or report size 0, included).
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError("file not found", file) from None
    except OSError as e:
        raise UsageError(f"cannot read the file: {e.strerror}", file) from None
    try:
        info = os.fstat(fd)
        mode, size = info.st_mode, info.st_size
        if not stat.S_ISREG(mode):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
                    "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode) else
                    "a socket" if stat.S_ISSOCK(mode) else "an unknown kind")
            raise UsageError(f"not a regular file ({kind}); give a YAML, JSON or CSV file", file)
        limits.check("input_bytes", size, file)
        limit = limits.get("input_bytes")
        chunks, total = [], 0
        while total <= limit:  # never more than limit + 1 bytes, even if the file grows
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as e:
        raise UsageError(f"cannot read the file: {e.strerror}", file) from None
    finally:
        os.close(fd)
    limits.check("input_bytes", total, file)
    return b"".join(chunks)


def _read(path, kinds):
    """Read a YAML/JSON file into Python objects (numbers as text), or return CSV text."""
    file, p = str(path), Path(path)
    ext = p.suffix.lower()
    if ext not in kinds:
        if not os.path.lexists(path):
            raise UsageError("file not found", file)
        raise UsageError(f"unknown file type {ext or '(none)'!r}; expected {', '.join(kinds)}", file)
    data = _read_bytes(path, file)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SchemaError("not UTF-8 text", file) from None
    if ext == ".csv":
        return text
    if ext == ".json":
        obj = _json_load(text, file)
        _check_nesting(obj, file)
    else:
        try:
            try:
                obj = _yaml_load(text, file)
            except yaml.YAMLError as e:
                if "nesting depth" not in str(getattr(e, "problem", None) or e):
                    raise
                # libyaml refuses more than 1000 levels while scanning ahead, before the first
                # event; the pure-Python parser goes event by event, so the nesting limit decides
                obj = _yaml_load(text, file, yaml.SafeLoader)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            raise SchemaError(f"not valid YAML: {getattr(e, 'problem', None) or e}", file, _line(mark)) from None
    if obj is None:
        raise SchemaError("the file is empty", file)
    return obj


@functools.lru_cache(maxsize=None)
def schema(name):
    """The JSON Schema shipped with symkkt (draft 2020-12), as a dict.

    Parameters
    ----------
    name : {'architecture', 'data', 'parameters'}

    Returns
    -------
    dict
    """
    return json.loads((_SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=None)
def _validator(name):
    import jsonschema

    return jsonschema.Draft202012Validator(schema(name))


def _schema_error(obj, name):
    """The error jsonschema reports first for ``obj`` against schema ``name`` (None if it matches)."""
    from jsonschema.exceptions import best_match

    return best_match(_validator(name).iter_errors(obj))


# -- direct structural checks: the shipped schemas' rules as plain code (fast for large files).
# Each returns True only when the object certainly matches its schema; anything else goes to the
# JSON Schema validator, so the error messages are the validator's.
def _is_num(v):
    return isinstance(v, (int, str, float)) and not isinstance(v, bool)


def _is_tensor(v, nonempty):
    """A (nested) list of numbers; ``nonempty``: every list has at least one item."""
    stack = [v]
    while stack:
        node = stack.pop()
        if not isinstance(node, list) or (nonempty and not node):
            return False
        for item in node:
            if isinstance(item, list):
                stack.append(item)
            elif not _is_num(item):
                return False
    return True


def _keys(obj, allowed, required):
    return isinstance(obj, dict) and all(k in allowed for k in obj) and all(k in obj for k in required)


def _is_ints(v):
    return _is_num(v) or (isinstance(v, list) and 1 <= len(v) <= 2 and all(_is_num(x) for x in v))


_ACT_BODY = {"leaky_relu": ("slope",), "poly_relu": ("power",), "poly_leaky_relu": ("slope", "power"),
             "polynomial": ("coeffs",)}


def _is_activation(a):
    if isinstance(a, str):
        return a in ("linear", "relu", "tanh")
    if not (isinstance(a, dict) and len(a) == 1):
        return False
    (kind, body), = a.items()
    if kind in ("linear", "relu", "tanh"):
        return body is None or body == {}
    if kind not in _ACT_BODY or not _keys(body, _ACT_BODY[kind], _ACT_BODY[kind]):
        return False
    if kind == "polynomial":
        return isinstance(body["coeffs"], list) and body["coeffs"] and all(_is_num(c) for c in body["coeffs"])
    return all(_is_num(v) for v in body.values())


def _is_layer(layer):
    if layer in ("flatten", "diagonal", "sum"):
        return True
    if not (isinstance(layer, dict) and len(layer) == 1):
        return False
    (kind, body), = layer.items()
    if kind in ("flatten", "sum"):
        return body is None or body == {}
    bias_ok = not isinstance(body, dict) or "bias" not in body or isinstance(body["bias"], bool)
    act_ok = not isinstance(body, dict) or "activation" not in body or _is_activation(body["activation"])
    if kind == "dense":
        return _keys(body, ("width", "activation", "bias"), ("width",)) and _is_num(body["width"]) \
            and bias_ok and act_ok
    if kind == "conv":
        return _keys(body, ("channels", "kernel", "stride", "activation", "bias"), ("channels", "kernel")) \
            and _is_num(body["channels"]) and _is_ints(body["kernel"]) \
            and ("stride" not in body or _is_ints(body["stride"])) and bias_ok and act_ok
    if kind == "avgpool":
        return _keys(body, ("kernel",), ("kernel",)) and _is_ints(body["kernel"])
    if kind == "diagonal":
        return (body is None or _keys(body, ("activation", "bias"), ())) and bias_ok and act_ok
    return False


def _conforms(obj, name):
    """Whether ``obj`` certainly matches the shipped schema ``name`` (checked without jsonschema)."""
    if name == "data":
        return _keys(obj, ("points",), ("points",)) and isinstance(obj["points"], list) and bool(obj["points"]) \
            and all(_keys(p, ("x", "y"), ("x", "y")) and _is_tensor(p["x"], True) and _is_num(p["y"])
                    for p in obj["points"])
    if name == "parameters":
        return isinstance(obj, list) and all(
            _keys(e, ("weight", "bias"), ("weight",)) and _is_tensor(e["weight"], False)
            and (e.get("bias") is None or (isinstance(e["bias"], list) and all(_is_num(b) for b in e["bias"])))
            for e in obj)
    if name == "architecture":
        return _keys(obj, ("input", "layers"), ("input", "layers")) and isinstance(obj["input"], list) \
            and 1 <= len(obj["input"]) <= 3 and all(_is_num(v) for v in obj["input"]) \
            and isinstance(obj["layers"], list) and bool(obj["layers"]) and all(_is_layer(l) for l in obj["layers"])
    return False


def _describe(value):
    """What a file holds at a place, in the file's terms (numbers are read as text, so not ``str``).

    Examples
    --------
    >>> [_describe(v) for v in ("3", None, {}, [], ["1"], True)]
    ['the value 3', 'nothing (null)', 'a mapping', 'an empty list', 'a list', 'true']
    """
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, str):
        return f"the value {value if len(value) <= 40 else value[:40] + '...'}"
    return f"the value {value!r}"


def _looks_like(obj):
    """The kind of input file ``obj`` looks like: ``'architecture'``, ``'data'``, ``'parameters'`` or None."""
    if isinstance(obj, dict):
        if "points" in obj:
            return "data"
        if "input" in obj or "layers" in obj:
            return "architecture"
        if "weight" in obj:
            return "parameters"
    if isinstance(obj, list) and obj and isinstance(obj[0], dict) and "weight" in obj[0]:
        return "parameters"
    return None


_FILE_FORM = {"architecture": "{input: [...], layers: [...]}", "data": "points: [{x: [...], y: ...}]",
              "parameters": "a list of {weight: ...}"}


def _check_role(obj, role, ctx):
    """Refuse a file of another kind given in ``role``'s place, with the command-line order as a hint."""
    kind = _looks_like(obj)
    if kind is not None and kind != role:
        ctx.fail(f"this looks like {'an' if kind[0] == 'a' else 'a'} {kind} file ({_FILE_FORM[kind]}), not "
                 f"{'an' if role[0] == 'a' else 'a'} {role} file; the order is ARCH DATA PARAMS", None)


def _where(path):
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


class _Ctx:
    """Reading context: the file, the float policy and helpers that raise located errors."""

    def __init__(self, file, float_input=False):
        self.file, self.float_input = file, float_input
        self.census = RadicalCensus()   # the radicals of this file, against the field limits

    def fail(self, message, place, cls=SchemaError):
        raise cls(message, self.file, place)

    def num(self, value, place):
        if value is None or isinstance(value, (bool, list, dict)):
            self.fail(f"expected a number, got {_describe(value)}", place)
        if isinstance(value, _FloatText) and self.float_input:
            value = float(value)
        v = parse_number(value, self.file, place, self.float_input)
        if not v.is_Rational:
            self.census.add(v)
            self.census.check(self.file, place)
        return v

    def int(self, value, place):
        v = self.num(value, place)
        if not v.is_Integer:
            self.fail(f"must be an integer, got {format_number(v)}", place)
        return int(v)

    def mapping(self, obj, place, allowed, required=()):
        if not isinstance(obj, dict):
            self.fail(f"expected a mapping with keys {', '.join(allowed) or '(none)'}, got {_describe(obj)}", place)
        for key in obj:
            if key not in allowed:
                self.fail(f"unknown key {key!r}; allowed: {', '.join(allowed) or '(none)'}", f"{place}.{key}".lstrip("."))
        for key in required:
            if key not in obj:
                self.fail(f"missing key {key!r}", place)
        return obj

    def list(self, obj, place, what="a list"):
        if not isinstance(obj, list) or not obj:
            self.fail(f"expected {what}, got {_describe(obj)}", place)
        return obj

    def checked(self, obj, name, build):
        """Validate ``obj`` against schema ``name`` and build; prefer the builder's clearer errors."""
        _check_nesting(obj, self.file)
        error = None if _conforms(obj, name) else _schema_error(obj, name)
        result = build()
        if error is not None:
            message = " ".join(error.message.split())
            self.fail(f"does not match the {name} schema: {message[:200]}", _where(error.absolute_path))
        return result


def _kind_body(spec, place, ctx, what, allowed):
    if isinstance(spec, str):
        kind, body = spec, None
    elif isinstance(spec, dict) and len(spec) == 1:
        (kind, body), = spec.items()
    else:
        ctx.fail(f"{what} is written as a name or {{name: {{...}}}}; allowed names: {', '.join(allowed)}", place)
    if kind not in allowed:
        ctx.fail(f"unknown {what.split()[-1]} {kind!r}; allowed: {', '.join(allowed)}", place)
    return kind, ({} if body is None else body)


def _activation(spec, place, ctx):
    kind, body = _kind_body(spec, place, ctx, "an activation", ACTIVATIONS)
    here = f"{place}.{kind}"
    ctx.mapping(body, here, ACTIVATIONS[kind], ACTIVATIONS[kind])
    kw = {key: ctx.num(value, f"{here}.{key}") for key, value in body.items() if key == "slope"}
    if "power" in body:
        kw["power"] = ctx.int(body["power"], f"{here}.power")
    if "coeffs" in body:
        coeffs = ctx.list(body["coeffs"], f"{here}.coeffs", "a non-empty list of coefficients")
        limits.check("coefficients", len(coeffs), ctx.file, f"{here}.coeffs")
        kw["coeffs"] = tuple(ctx.num(c, f"{here}.coeffs[{j}]") for j, c in enumerate(coeffs))
    try:
        return Activation(kind, **kw)
    except SymkktInputError as e:
        raise e.located(ctx.file, place) from None


def _layer(spec, place, ctx):
    kind, body = _kind_body(spec, place, ctx, "a layer kind", LAYERS)
    here = f"{place}.{kind}"
    ctx.mapping(body, here, LAYERS[kind])
    kw = {}
    for key, value in body.items():
        at = f"{here}.{key}"
        if key in ("width", "channels"):
            kw[key] = ctx.int(value, at)
        elif key in ("kernel", "stride"):
            kw[key] = tuple(ctx.int(v, f"{at}[{j}]") for j, v in enumerate(value)) \
                if isinstance(value, list) else ctx.int(value, at)
        elif key == "activation":
            kw[key] = _activation(value, at, ctx)
        elif not isinstance(value, bool):
            ctx.fail("bias must be true or false", at)
        else:
            kw[key] = value
    try:
        return Layer(kind, **kw)
    except SymkktInputError as e:
        raise e.located(ctx.file, place) from None


def architecture_from_json(obj, source="<python>"):
    """Build an :class:`Architecture` from its input-file form.

    Parameters
    ----------
    obj : dict
        ``{'input': [...], 'layers': [...]}`` as read from YAML/JSON (numbers as int or text).
    source : str
        The file name for error messages.

    Returns
    -------
    Architecture

    Raises
    ------
    SchemaError
        Wrong structure: unknown key, layer kind or activation, missing field, bad value, broken file.
    ShapeError
        Sizes that do not fit the architecture.
    NumberSyntaxError
        A number outside the exact-number grammar (also NaN, infinity, division by zero).

    Examples
    --------
    >>> arch = architecture_from_json({"input": [1, 6], "layers": [
    ...     {"conv": {"channels": 2, "kernel": 3, "activation": "relu"}},
    ...     {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]})
    >>> arch.shapes
    ((2, 4), (2, 2), (4,), (1,))
    >>> arch.param_shapes()[0]
    {'weight': (2, 1, 3), 'bias': None}
    >>> architecture_from_json({"input": [2], "layers": [{"dense": {"width": 0}}]}, "arch.yaml")
    Traceback (most recent call last):
    ...
    symkkt.errors.SchemaError: arch.yaml: layers[0].dense.width: width must be a positive integer, got 0
    """
    ctx = _Ctx(source)

    def build():
        _check_role(obj, "architecture", ctx)
        ctx.mapping(obj, "", ("input", "layers"), ("input", "layers"))
        dims = tuple(ctx.int(v, f"input[{j}]") for j, v in
                     enumerate(ctx.list(obj["input"], "input", "a list of sizes such as [2] or [1, 3]")))
        layers = ctx.list(obj["layers"], "layers", "a list of layers")
        return Architecture(dims, tuple(_layer(s, f"layers[{i}]", ctx) for i, s in enumerate(layers)), source)
    return ctx.checked(obj, "architecture", build)


def _tensor(value, place, ctx):
    """Flatten a nested list of numbers; return ``(flat list, shape)``."""
    if not isinstance(value, list):
        return [ctx.num(value, place)], ()
    if not value:
        ctx.fail("empty list", place, ShapeError)
    parts = [_tensor(v, f"{place}[{j}]", ctx) for j, v in enumerate(value)]
    for j, (_, s) in enumerate(parts):
        if s != parts[0][1]:
            ctx.fail(f"ragged list: this entry has shape {list(s)}, entry 0 has {list(parts[0][1])}", f"{place}[{j}]", ShapeError)
    return [v for flat, _ in parts for v in flat], (len(value),) + parts[0][1]


def _fit(s, shape, arch, place, ctx):
    """Check a point's shape ``s`` against the architecture or the first point; return the input shape."""
    if arch is not None:
        n = math.prod(arch.input)
        if s not in (arch.input, (n,)):
            wanted = f"shape {list(arch.input)}" + (f" (or flat, shape [{n}])" if len(arch.input) > 1 else "")
            ctx.fail(f"x has shape {list(s)} ({math.prod(s)} entries); the architecture's input needs {wanted}",
                     place, ShapeError)
        return arch.input
    if shape is not None and s != shape:
        ctx.fail(f"x has shape {list(s)} but points[0].x has shape {list(shape)}", place, ShapeError)
    return s


def data_from_json(obj, source="<python>", arch=None, float_input=False):
    """Build a :class:`Dataset` from ``{'points': [{'x': [...], 'y': ...}, ...]}``.

    Parameters
    ----------
    obj : dict
        ``x`` may be flat or nested to the input shape.
    source : str
        The file name for error messages.
    arch : Architecture, optional
        If given, each point's size must fit ``arch.input``.
    float_input : bool
        Take float values as their exact binary value (else floats are refused; JSON
        float literals read by :func:`load_data` are exact decimals).

    Returns
    -------
    Dataset

    Raises
    ------
    SchemaError
        Wrong structure: unknown key, layer kind or activation, missing field, bad value, broken file.
    ShapeError
        Sizes that do not fit the architecture.
    NumberSyntaxError
        A number outside the exact-number grammar (also NaN, infinity, division by zero).

    Examples
    --------
    >>> d = data_from_json({"points": [{"x": ["0.1", 2], "y": 1}]})
    >>> d.X, d.y
    (((1/10, 2),), (1,))
    """
    ctx = _Ctx(source, float_input)
    if isinstance(obj, dict) and isinstance(obj.get("points"), list):
        limits.check("points", len(obj["points"]), source, "points")

    def build():
        _check_role(obj, "data", ctx)
        ctx.mapping(obj, "", ("points",), ("points",))
        X, y, shape = [], [], None
        for k, p in enumerate(ctx.list(obj["points"], "points", "a non-empty list of points")):
            here = f"points[{k}]"
            ctx.mapping(p, here, ("x", "y"), ("x", "y"))
            flat, s = _tensor(ctx.list(p["x"], f"{here}.x", "a list of numbers"), f"{here}.x", ctx)
            shape = _fit(s, shape, arch, f"{here}.x", ctx)
            X.append(tuple(flat))
            y.append(ctx.num(p["y"], f"{here}.y"))
        return Dataset(tuple(X), tuple(y), source, shape)
    return ctx.checked(obj, "data", build)


def _csv_data(text, arch, ctx):
    reader, header, X, y = csv.reader(io.StringIO(text)), None, [], []
    try:
        for row in reader:
            cells, line = [c.strip() for c in row], f"line {reader.line_num}"
            if not any(cells):
                continue
            if header is None:
                header = cells
                if len(cells) < 2 or cells != [f"x{j}" for j in range(1, len(cells))] + ["y"]:
                    ctx.fail(f"the CSV header must be x1,...,xd,y; got {','.join(cells)}", line)
                if arch is not None and len(cells) - 1 != math.prod(arch.input):
                    ctx.fail(f"the data have {len(cells) - 1} input columns; the architecture's input has shape "
                             f"{list(arch.input)}, written flat in {math.prod(arch.input)} columns", line, ShapeError)
                continue
            if len(cells) != len(header):
                ctx.fail(f"expected {len(header)} values, got {len(cells)}", line)
            limits.check("points", len(X) + 1, ctx.file, line)
            X.append(tuple(ctx.num(c, f"{line}, column {h}") for c, h in zip(cells[:-1], header)))
            y.append(ctx.num(cells[-1], f"{line}, column y"))
    except csv.Error as e:
        ctx.fail(f"not valid CSV: {e}", f"line {reader.line_num}")
    if not X:
        ctx.fail("no data rows (expected a header x1,...,xd,y and one row per point)", None)
    return Dataset(tuple(X), tuple(y), ctx.file, arch.input if arch is not None else (len(header) - 1,))


def _exact(value, shape, place, ctx, what):
    """Read a nested list of numbers of exactly ``shape``."""
    if not shape:
        if isinstance(value, (list, dict)):
            ctx.fail(f"expected a number, got {_describe(value)} ({what})", place, ShapeError)
        return ctx.num(value, place)
    if not isinstance(value, list) or len(value) != shape[0]:
        got = f"{len(value)} entries" if isinstance(value, list) else _describe(value)
        ctx.fail(f"expected a list of {shape[0]} entries, got {got} ({what})", place, ShapeError)
    return tuple(_exact(v, shape[1:], f"{place}[{i}]", ctx, what) for i, v in enumerate(value))


def parameters_from_json(obj, arch=None, source="<python>", float_input=False):
    """Build :class:`Parameters` for ``arch`` from ``[{'weight': ..., 'bias': ...}, ...]``.

    Parameters
    ----------
    obj : list
        One entry per weight layer: weight rows = output units (conv: ``[out][in][k...]``),
        ``bias`` exactly where the layer has ``bias: true``.
    arch : Architecture, dict, symkkt.network.Network or symkkt.kkt.MaxMarginProblem
        The architecture the parameters belong to (its input-file form, or a network or a
        problem standing for its architecture): it fixes the number of weight layers and every shape. Required: without
        it a ``TypeError`` says how to get one.
    source : str
        The file name for error messages.
    float_input : bool
        Take float values as their exact binary value.

    Returns
    -------
    Parameters

    Raises
    ------
    SchemaError
        Wrong structure: unknown key, layer kind or activation, missing field, bad value, broken file.
    ShapeError
        Sizes that do not fit the architecture.
    NumberSyntaxError
        A number outside the exact-number grammar (also NaN, infinity, division by zero).

    Examples
    --------
    >>> arch = architecture_from_json({"input": [2], "layers": [{"dense": {"width": 1}}]})
    >>> parameters_from_json([{"weight": [["sqrt(2)/2", "-0.5"]]}], arch).layers
    ({'weight': ((sqrt(2)/2, -1/2),), 'bias': None},)
    >>> parameters_from_json([], arch, "p.yaml")
    Traceback (most recent call last):
    ...
    symkkt.errors.ShapeError: p.yaml: [0]: missing entry for weight layer 1: the architecture has 1 weight layers, the file has 0
    >>> parameters_from_json([{"weight": [[1, 0]]}])
    Traceback (most recent call last):
    ...
    TypeError: parameters_from_json needs the architecture the parameters belong to: parameters_from_json(obj, arch) with arch from architecture_from_json (or a Network or MaxMarginProblem)
    """
    arch = getattr(getattr(arch, "network", arch), "arch", arch)
    if isinstance(arch, dict):
        arch = architecture_from_json(arch)
    if not isinstance(arch, Architecture):
        raise TypeError("parameters_from_json needs the architecture the parameters belong to: "
                        "parameters_from_json(obj, arch) with arch from architecture_from_json "
                        "(or a Network or MaxMarginProblem)" + ("" if arch is None else f", got {type(arch).__name__}"))
    ctx = _Ctx(source, float_input)

    def build():
        _check_role(obj, "parameters", ctx)
        if not isinstance(obj, list):
            ctx.fail("expected a list with one {weight: ..., bias: ...} entry per weight layer", None)
        specs = arch.param_shapes()
        if len(obj) < len(specs):
            ctx.fail(f"missing entry for weight layer {len(obj) + 1}: the architecture has {len(specs)} "
                     f"weight layers, the file has {len(obj)}", f"[{len(obj)}]", ShapeError)
        if len(obj) > len(specs):
            ctx.fail(f"extra entry: the architecture has {len(specs)} weight layers, the file has {len(obj)}",
                     f"[{len(specs)}]", ShapeError)
        layers = []
        for j, (entry, spec) in enumerate(zip(obj, specs)):
            here = f"[{j}]"
            ctx.mapping(entry, here, ("weight", "bias"), ("weight",))
            what = f"weight layer {j + 1} has weight shape {list(spec['weight'])}"
            weight = _exact(entry["weight"], spec["weight"], f"{here}.weight", ctx, what)
            bias = entry.get("bias")
            if spec["bias"] is None and bias is not None:
                ctx.fail(f"weight layer {j + 1} has no bias (add bias: true to its layer)", f"{here}.bias", ShapeError)
            if spec["bias"] is not None and bias is None:
                ctx.fail(f"missing bias: weight layer {j + 1} has bias: true", here, ShapeError)
            if bias is not None:
                bias = _exact(bias, spec["bias"], f"{here}.bias", ctx, f"weight layer {j + 1} has {spec['bias'][0]} biases")
            layers.append({"weight": weight, "bias": bias})
        return Parameters(tuple(layers), source)
    return ctx.checked(obj, "parameters", build)


def load_architecture(path):
    """Read an architecture file.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.yaml``, ``.yml`` or ``.json`` file.

    Returns
    -------
    Architecture

    Raises
    ------
    UsageError
        Missing file or unknown extension.
    SchemaError, NumberSyntaxError
        As :func:`architecture_from_json`, with the file name.
    """
    from .trained import is_model_file

    if is_model_file(path):         # an ONNX model carries its architecture; a state dict does not
        if not str(path).lower().endswith(".onnx"):
            raise UsageError(f"{path} is a state dict: give the architecture file as ARCH and the state dict as "
                             "PARAMS", str(path))
        from .trained import load_model

        return load_model(path).architecture
    return architecture_from_json(_read(path, (".yaml", ".yml", ".json")), str(path))


def load_data(path, arch=None, float_input=False):
    """Read a data file into a :class:`Dataset`.

    Parameters
    ----------
    path : str or os.PathLike
        YAML/JSON ``points: [{x: [...], y: ...}]`` or CSV with header ``x1,...,xd,y``.
    arch : Architecture, optional
        If given, each point's size must match the architecture's input (else ShapeError).
    float_input : bool
        Take JSON floats as exact binary values (default: exact decimals, as in YAML/CSV).

    Returns
    -------
    Dataset

    Raises
    ------
    UsageError, SchemaError, ShapeError, NumberSyntaxError
        With the file name and the place (``points[3].y``, ``line 5, column x2``).
    """
    obj = _read(path, (".yaml", ".yml", ".json", ".csv"))
    if isinstance(obj, str) and Path(path).suffix.lower() == ".csv":
        return _csv_data(obj, arch, _Ctx(str(path), float_input))
    return data_from_json(obj, str(path), arch, float_input)


def load_parameters(path, arch, float_input=False):
    """Read a parameters file (a list of ``{weight: ..., bias: ...}``) for ``arch``.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.yaml``, ``.yml`` or ``.json`` file.
    arch : Architecture
    float_input : bool
        Take JSON floats as exact binary values (default: exact decimals).

    Returns
    -------
    Parameters

    Raises
    ------
    UsageError, SchemaError, ShapeError, NumberSyntaxError
        With the file name and the place (``[0].weight[1][0]``).
    """
    from .trained import is_model_file

    if is_model_file(path):         # floats of a model file are always their exact binary values
        from .trained import load_model

        if str(path).lower().endswith(".onnx"):
            model = load_model(path)
            if model.architecture.to_json() != arch.to_json():
                raise ShapeError("the model's architecture is not ARCH (give the model file as ARCH too)", str(path))
        else:
            model = load_model(path, arch)
        return model.parameters
    return parameters_from_json(_read(path, (".yaml", ".yml", ".json")), arch, str(path), float_input)
