"""One entry point for model files: :func:`load_model`.

A :class:`Model` holds the architecture and the exact parameters of a trained network in the
input-file forms, validated by the same code as the YAML/JSON files (:mod:`symkkt.spec`), so a
model file can stand wherever ARCH and PARAMS files can.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Model:
    """A trained network read exactly from a model file.

    Attributes
    ----------
    architecture : symkkt.spec.Architecture
    params_json : list
        The parameters in the input-file form: exact number strings (``"p/q"``), shapes checked
        against the architecture.
    source : str
        The model file (and the architecture file, for state dicts).
    """

    architecture: object
    params_json: list
    source: str

    @property
    def parameters(self):
        """The exact parameters as :class:`symkkt.spec.Parameters` (parsed on first use)."""
        cached = self.__dict__.get("_parameters")
        if cached is None:
            from ..spec import parameters_from_json

            cached = parameters_from_json(self.params_json, self.architecture, source=self.source)
            object.__setattr__(self, "_parameters", cached)
        return cached

    def files(self):
        """``(architecture, parameters)`` as JSON-ready input-file forms (exact strings)."""
        return self.architecture.to_json(), self.params_json

    def __repr__(self):
        arch = self.architecture
        return (f"Model({self.source}: input {list(arch.input)}, {len(arch.layers)} layers, "
                f"{sum(1 for _ in arch.weight_layers)} weight layers)")


def load_model(path, arch=None):
    """Read a model file exactly.

    Parameters
    ----------
    path : str
        An ONNX file (``.onnx``), or a state dict (``.safetensors``, ``.npz``) with ``arch``.
    arch : str, dict or symkkt.spec.Architecture, optional
        The architecture of a state dict (a file path, the input-file form or an object); ONNX
        files carry their own and refuse one.

    Returns
    -------
    Model

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "sd.npz")
    >>> np.savez(path, **{"0.weight": np.array([[1.0, -0.5]]), "2.weight": np.array([[0.25]])})
    >>> m = load_model(path, {"input": [2], "layers": [{"dense": {"width": 1, "activation": "relu"}},
    ...                                                {"dense": {"width": 1}}]})
    >>> m.files()[1]
    [{'weight': [['1', '-1/2']]}, {'weight': [['1/4']]}]
    """
    from ..spec import Architecture, architecture_from_json, load_architecture

    file = os.fspath(path)
    low = file.lower()
    if low.endswith(".onnx"):
        if arch is not None:
            raise UsageError("an ONNX model carries its architecture: give no architecture file with it",
                             "<command line>")
        from .onnx_model import read_onnx

        arch_obj, params_obj = read_onnx(file)
        architecture = architecture_from_json(arch_obj, source=file)
        source = file
    elif low.endswith((".safetensors", ".npz")):
        if arch is None:
            raise UsageError(f"{os.path.basename(file)} is a state dict: it needs an architecture file "
                             "(--arch ARCH)", "<command line>")
        if isinstance(arch, Architecture):
            architecture, name = arch, "<python>"
        elif isinstance(arch, dict):
            architecture, name = architecture_from_json(arch), "<python>"
        else:
            architecture, name = load_architecture(arch), os.fspath(arch)
        from .state_dict import read_state_dict

        params_obj = read_state_dict(file, architecture)
        source = f"{file} with {name}"
    else:
        raise UsageError(f"{file}: not a model file (expected .onnx, .safetensors or .npz)", "<command line>")
    _check_shapes(params_obj, architecture, file)
    return Model(architecture, params_obj, source)


def _shape(nested):
    shape, v = [], nested
    while isinstance(v, list):
        shape.append(len(v))
        v = v[0] if v else None
    return tuple(shape)


def _check_shapes(params, architecture, file):
    """The parameter arrays have the architecture's shapes (they come from rectangular arrays)."""
    from ..errors import ShapeError

    shapes = architecture.param_shapes()
    if len(params) != len(shapes):
        raise ShapeError(f"{len(params)} weight layers in the model, {len(shapes)} in the architecture", file)
    for k, (entry, want) in enumerate(zip(params, shapes)):
        for part in ("weight", "bias"):
            have = _shape(entry[part]) if part in entry else None
            need = tuple(want[part]) if want[part] is not None else None
            if have != need:
                raise ShapeError(f"weight layer {k + 1} {part}: shape {have} where the architecture needs {need}",
                                 file)
