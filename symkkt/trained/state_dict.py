"""State dicts (``.safetensors``, ``.npz``) with PyTorch-style names, read against an architecture.

A state dict stores tensors by name: ``0.weight``, ``0.bias``, ``2.weight`` for an
``nn.Sequential``, or ``features.0.weight``, ``head.weight`` for nested modules. The modules (the
names without their last part) are taken in natural order (numbers compared as numbers) and
matched, in that order, with the weight layers (dense, conv) of the architecture file; each
module has a ``weight`` and, exactly where the layer says ``bias: true``, a ``bias``. PyTorch's
layouts are symkkt's: ``Linear.weight`` is [out, in] and ``Conv.weight`` is [out, in, k...].

The ``.safetensors`` format is read directly (an 8-byte little-endian header length, a JSON header
of ``{name: {dtype, shape, data_offsets}}``, then the raw little-endian data), so neither
``safetensors`` nor ``torch`` is needed. Weights become exact binary rationals (:mod:`.exact`).
"""

from __future__ import annotations

import json
import os
import struct

from ..errors import SchemaError, ShapeError
from .exact import exact_strings

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
           "I8": "i1", "U8": "u1"}


def read_safetensors(path):
    """``{name: numpy array}`` of a ``.safetensors`` file (bfloat16 widened exactly to float32).

    Examples
    --------
    >>> import numpy as np, json, struct, tempfile, os
    >>> data = np.array([[0.5, -1.0]], dtype="<f4").tobytes()
    >>> header = json.dumps({"0.weight": {"dtype": "F32", "shape": [1, 2], "data_offsets": [0, 8]}}).encode()
    >>> path = os.path.join(tempfile.mkdtemp(), "m.safetensors")
    >>> _ = open(path, "wb").write(struct.pack("<Q", len(header)) + header + data)
    >>> read_safetensors(path)["0.weight"]
    array([[ 0.5, -1. ]], dtype=float32)
    """
    import numpy as np

    file = os.fspath(path)
    with open(file, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise SchemaError("not a safetensors file (shorter than its header length)", file)
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise SchemaError("not a safetensors file (header length beyond the end of the file)", file)
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SchemaError("not a safetensors file (the header is not JSON)", file) from None
    if not isinstance(header, dict):
        raise SchemaError("not a safetensors file (the header is not a JSON object)", file)
    body, out = raw[8 + n:], {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (start, end) = info["dtype"], [int(v) for v in info["shape"]], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise SchemaError("tensor entry needs dtype, shape and data_offsets", file, name) from None
        if dtype not in _DTYPES:
            raise SchemaError(f"dtype {dtype} is not supported (floats and integers only)", file, name)
        count = 1
        for v in shape:
            count *= v
        width = np.dtype(_DTYPES[dtype]).itemsize
        if not (0 <= start <= end <= len(body)) or end - start != count * width:
            raise SchemaError(f"data_offsets [{start}, {end}] do not hold {count} entries of {dtype}", file, name)
        arr = np.frombuffer(body[start:end], dtype=_DTYPES[dtype]).reshape(shape)
        if dtype == "BF16":     # the upper half of a float32: exact
            arr = (arr.astype("<u4") << 16).view("<f4")
        out[name] = arr
    return out


def read_npz(path):
    """``{name: numpy array}`` of a ``.npz`` file (no pickled objects)."""
    import numpy as np

    file = os.fspath(path)
    try:
        with np.load(file, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except ValueError as err:
        raise SchemaError(f"not a usable .npz file ({str(err)[:120]})", file) from None
    except (OSError, EOFError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise SchemaError(f"not a readable .npz file ({type(err).__name__})", file) from None


def _natural(name):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in name.split(".")]


def modules(tensors, file):
    """``[(module name, {"weight": array, "bias": array?}), ...]`` in natural order.

    Examples
    --------
    >>> [m for m, _ in modules({"10.weight": 0, "2.weight": 0, "2.bias": 0, "0.weight": 0}, "f")]
    ['0', '2', '10']
    """
    groups = {}
    for name, arr in tensors.items():
        module, _, part = name.rpartition(".")
        if part not in ("weight", "bias"):
            raise SchemaError("expected names like '0.weight' or '0.bias' (PyTorch state dict)", file, name)
        groups.setdefault(module, {})[part] = arr
    for module, parts in groups.items():
        if "weight" not in parts:
            raise SchemaError(f"module {module!r} has a bias but no weight", file, f"{module}.bias")
    return sorted(groups.items(), key=lambda item: _natural(item[0]))


def read_state_dict(path, arch):
    """Exact parameters (input-file form) for ``arch`` from a state dict file.

    Parameters
    ----------
    path : str
        A ``.safetensors`` or ``.npz`` file.
    arch : symkkt.spec.Architecture
        The architecture the tensors belong to.
    """
    file = os.fspath(path)
    tensors = read_safetensors(file) if file.lower().endswith(".safetensors") else read_npz(file)
    mods = modules(tensors, file)
    shapes = arch.param_shapes()
    if len(mods) != len(shapes):
        raise ShapeError(f"the file has {len(mods)} modules with weights ({', '.join(m for m, _ in mods)}), the "
                         f"architecture {len(shapes)} weight layers", file)
    params = []
    for k, ((module, parts), spec) in enumerate(zip(mods, shapes)):
        entry = {}
        for part in ("weight", "bias"):
            want = spec[part]
            have = parts.get(part)
            place = f"{module}.{part}"
            if want is None and have is not None:
                raise ShapeError(f"weight layer {k + 1} has no bias in the architecture (add bias: true)", file, place)
            if want is not None and have is None:
                raise ShapeError(f"weight layer {k + 1} has a bias in the architecture, the file has none", file,
                                 f"{module}.bias")
            if have is None:
                continue
            if tuple(have.shape) != tuple(want):
                raise ShapeError(f"shape {list(have.shape)} does not fit weight layer {k + 1}, which needs "
                                 f"{list(want)}", file, place)
            entry[part] = exact_strings(have, file, place)
        params.append(entry)
    return params
