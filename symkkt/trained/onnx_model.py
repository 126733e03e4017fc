"""ONNX models as symkkt architectures and exact parameters.

The graph must be one chain from the input to a single scalar output, made of these operators:

========================  ===========================================================================
operator                  becomes
========================  ===========================================================================
``Gemm``                  ``dense`` (``alpha = beta = 1``, ``transA = 0``; ``transB`` either way;
                          the optional C input is the bias)
``MatMul`` [+ ``Add``]    ``dense`` (the initializer is the transposed weight; an ``Add`` of an
                          initializer right after it is the bias)
``Conv``                  ``conv`` (1-D or 2-D, ``group = 1``, dilations 1, no padding; strides)
``Relu``, ``LeakyRelu``   the activation of the layer before (``alpha`` as its exact binary value)
``AveragePool``           ``avgpool`` (stride = kernel, no padding, square kernels)
``Flatten``               ``flatten`` (``axis = 1``)
``Identity``, ``Dropout`` nothing (inference graphs)
========================  ===========================================================================

Anything else is refused with one line naming the node and its operator. Weights become exact
binary rationals (:mod:`.exact`).

What this module trusts: the ``onnx`` package's protobuf reader and ``numpy_helper.to_array``.
"""

from __future__ import annotations

from ..errors import SchemaError
from .exact import exact_scalar, exact_strings

SKIPPED = ("Identity", "Dropout")


class _Graph:
    """The chain being read: the current tensor, the layers and parameters so far."""

    def __init__(self, model, file):
        from onnx import numpy_helper

        self.file = file
        self.inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.consts = {}
        self.layers, self.params = [], []

    def fail(self, node, what):
        raise SchemaError(what, self.file, f"node {node.name or '(unnamed)'} ({node.op_type})")

    def attrs(self, node):
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def weight(self, node, name, what):
        if name not in self.inits:
            self.fail(node, f"{what} {name!r} is not a stored initializer (a constant weight is needed)")
        return self.inits[name]

    def exact(self, array, node, what):
        return exact_strings(array, self.file, f"node {node.name or '(unnamed)'} ({node.op_type}) {what}")

    def last_weight_layer(self, node):
        if not self.layers or not isinstance(self.layers[-1], dict) or \
                not set(self.layers[-1]) & {"dense", "conv"}:
            self.fail(node, "an activation must follow a Gemm, MatMul or Conv node")
        body = next(iter(self.layers[-1].values()))
        if "activation" in body:
            self.fail(node, "two activations in a row")
        return body


def _input_shape(model, inits, file):
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise SchemaError(f"the graph must have one input, it has {len(inputs)}", file, "graph.input")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = [d.dim_value if d.HasField("dim_value") else None for d in dims][1:]
    if not shape or any(v is None or v <= 0 for v in shape):
        raise SchemaError("the input shape must be fixed apart from the batch dimension, e.g. [N, 3]",
                          file, f"graph.input {inputs[0].name}")
    return inputs[0].name, shape


def read_onnx(path):
    """``(architecture, parameters)`` in the input-file forms, from an ONNX model file.

    Examples
    --------
    >>> import numpy as np, onnx, tempfile, os
    >>> from onnx import helper, numpy_helper, TensorProto
    >>> W = numpy_helper.from_array(np.array([[1.0, 0.5], [0.0, -1.0]], dtype=np.float32), "W")
    >>> v = numpy_helper.from_array(np.array([[2.0, 0.25]], dtype=np.float32), "v")
    >>> g = helper.make_graph(
    ...     [helper.make_node("Gemm", ["x", "W"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
    ...      helper.make_node("Gemm", ["r", "v"], ["y"], transB=1)], "mlp",
    ...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])], [W, v])
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
    >>> onnx.save(helper.make_model(g), path)
    >>> arch, params = read_onnx(path)
    >>> arch
    {'input': [2], 'layers': [{'dense': {'width': 2, 'activation': 'relu'}}, {'dense': {'width': 1}}]}
    >>> params
    [{'weight': [['1', '1/2'], ['0', '-1']]}, {'weight': [['2', '1/4']]}]
    """
    try:
        import onnx
    except ImportError:     # pragma: no cover - depends on the installation
        raise SchemaError("reading ONNX files needs the onnx package: pip install 'symkkt[onnx]'",
                          str(path)) from None
    file = str(path)
    try:
        model = onnx.load(file)
    except Exception as err:    # a corrupt or non-ONNX file
        raise SchemaError(f"not a readable ONNX model ({type(err).__name__}: {str(err)[:120]})", file) from None
    g = _Graph(model, file)
    current, shape = _input_shape(model, g.inits, file)
    nodes = list(model.graph.node)
    i = 0
    while i < len(nodes):
        node = nodes[i]
        i += 1
        op = node.op_type
        if op == "Constant":
            g.fail(node, "Constant nodes are not supported (store weights as initializers)")
        data_inputs = [n for n in node.input if n and n not in g.inits]
        if data_inputs != [current]:
            g.fail(node, f"the graph must be one chain: this node should read {current!r} only")
        if op in SKIPPED:
            current = node.output[0]
            continue
        handler = _HANDLERS.get(op)
        if handler is None:
            g.fail(node, f"operator {op} is not supported (supported: Gemm, MatMul, Add after MatMul, Conv, "
                         "Relu, LeakyRelu, AveragePool, Flatten)")
        shape, skip = handler(g, node, shape, nodes[i] if i < len(nodes) else None)
        i += skip
        current = nodes[i - 1].output[0]
    outputs = [o.name for o in model.graph.output]
    if outputs != [current]:
        raise SchemaError(f"the graph output must be the end of the chain ({current!r})", file, "graph.output")
    if shape != [1]:
        raise SchemaError(f"the network must end in one output unit, it ends with shape {shape}", file,
                          "graph.output")
    return {"input": _input_dims(model, g.inits), "layers": g.layers}, g.params


def _input_dims(model, inits):
    return _input_shape(model, inits, "")[1]


def _gemm(g, node, shape, nxt):
    a = g.attrs(node)
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
        g.fail(node, "only alpha = beta = 1 and transA = 0 are supported")
    if len(shape) != 1:
        g.fail(node, f"a dense layer needs a flat input, got shape {shape} (add a Flatten node)")
    B = g.weight(node, node.input[1], "weight")
    W = B if a.get("transB", 0) else B.T
    return _dense(g, node, shape, W, node.input[2] if len(node.input) > 2 and node.input[2] else None), 0


def _matmul(g, node, shape, nxt):
    if len(shape) != 1:
        g.fail(node, f"a dense layer needs a flat input, got shape {shape} (add a Flatten node)")
    W = g.weight(node, node.input[1], "weight").T
    bias, skip = None, 0
    if nxt is not None and nxt.op_type == "Add" and node.output[0] in nxt.input:
        other = [n for n in nxt.input if n != node.output[0]]
        if len(other) == 1 and other[0] in g.inits:
            bias, skip = other[0], 1
    return _dense(g, node, shape, W, bias), skip


def _dense(g, node, shape, W, bias_name):
    if W.ndim != 2 or W.shape[1] != shape[0]:
        g.fail(node, f"weight of shape {list(W.shape)} does not fit an input of {shape[0]} features")
    layer, entry = {"width": int(W.shape[0])}, {"weight": g.exact(W, node, "weight")}
    if bias_name is not None:
        b = g.weight(node, bias_name, "bias").reshape(-1)
        if b.shape[0] != W.shape[0]:
            g.fail(node, f"bias of {b.shape[0]} entries for {W.shape[0]} units")
        layer["bias"] = True
        entry["bias"] = g.exact(b, node, "bias")
    g.layers.append({"dense": layer})
    g.params.append(entry)
    return [int(W.shape[0])]


def _conv(g, node, shape, nxt):
    a = g.attrs(node)
    W = g.weight(node, node.input[1], "weight")
    nd = W.ndim - 2
    if nd not in (1, 2) or len(shape) != nd + 1:
        g.fail(node, f"only 1-D and 2-D convolutions of [C, L] or [C, H, W] inputs are supported "
                     f"(weight {list(W.shape)}, input {shape})")
    if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1] * nd)):
        g.fail(node, "only group = 1 and dilations 1 are supported")
    if any(p != 0 for p in a.get("pads", [0] * 2 * nd)) or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID",
                                                                                                "NOTSET", "VALID"):
        g.fail(node, "padding is not supported (symkkt's conv layers have no padding)")
    if W.shape[1] != shape[0]:
        g.fail(node, f"weight for {W.shape[1]} input channels, the input has {shape[0]}")
    kernel, stride = [int(k) for k in W.shape[2:]], [int(s) for s in a.get("strides", [1] * nd)]
    out = [(n - k) // s + 1 for n, k, s in zip(shape[1:], kernel, stride)]
    if any(o < 1 for o in out):
        g.fail(node, f"kernel {kernel} is larger than the input {shape[1:]}")
    layer = {"channels": int(W.shape[0]), "kernel": kernel if nd > 1 else kernel[0]}
    if any(s != 1 for s in stride):
        layer["stride"] = stride if nd > 1 else stride[0]
    entry = {"weight": g.exact(W, node, "weight")}
    if len(node.input) > 2 and node.input[2]:
        b = g.weight(node, node.input[2], "bias").reshape(-1)
        layer["bias"] = True
        entry["bias"] = g.exact(b, node, "bias")
    g.layers.append({"conv": layer})
    g.params.append(entry)
    return [int(W.shape[0])] + out, 0


def _relu(g, node, shape, nxt):
    g.last_weight_layer(node)["activation"] = "relu"
    return shape, 0


def _leaky(g, node, shape, nxt):
    alpha = g.attrs(node).get("alpha", 0.01)
    slope = exact_scalar(alpha, g.file, f"node {node.name or '(unnamed)'} (LeakyRelu) alpha")
    g.last_weight_layer(node)["activation"] = {"leaky_relu": {"slope": slope}}
    return shape, 0


def _avgpool(g, node, shape, nxt):
    a = g.attrs(node)
    kernel = [int(k) for k in a.get("kernel_shape", [])]
    nd = len(shape) - 1
    if len(kernel) != nd or nd not in (1, 2):
        g.fail(node, f"kernel_shape {kernel} does not fit the input shape {shape}")
    if [int(s) for s in a.get("strides", kernel)] != kernel or any(p != 0 for p in a.get("pads", [])) \
            or a.get("ceil_mode", 0):
        g.fail(node, "only strides equal to the kernel, no padding and ceil_mode 0 are supported")
    if len(set(kernel)) != 1:
        g.fail(node, "only square pooling kernels are supported")
    g.layers.append({"avgpool": {"kernel": kernel[0]}})
    return [shape[0]] + [n // kernel[0] for n in shape[1:]], 0


def _flatten(g, node, shape, nxt):
    if g.attrs(node).get("axis", 1) != 1:
        g.fail(node, "only axis = 1 is supported")
    g.layers.append("flatten")
    n = 1
    for v in shape:
        n *= v
    return [n], 0


_HANDLERS = {"Gemm": _gemm, "MatMul": _matmul, "Conv": _conv, "Relu": _relu, "LeakyRelu": _leaky,
             "AveragePool": _avgpool, "Flatten": _flatten}
