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
    parameters : symkkt.spec.Parameters
    source : str
        The model file (and the architecture file, for state dicts).
    """

    architecture: object
    parameters: object
    source: str

    def files(self):
        """``(architecture, parameters)`` as JSON-ready input-file forms (exact strings)."""
        return self.architecture.to_json(), self.parameters.to_json()

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
    from ..spec import Architecture, architecture_from_json, load_architecture, parameters_from_json

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
    parameters = parameters_from_json(params_obj, architecture, source=file)
    return Model(architecture, parameters, source)
