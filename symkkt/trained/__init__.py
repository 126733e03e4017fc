"""Trained networks: import models saved by PyTorch, JAX or ONNX tools as exact symkkt inputs.

- :mod:`.exact`: float arrays to exact binary rationals (the ``--float-input`` rule: nothing is
  rounded; NaN and infinities are refused with their place);
- :mod:`.onnx_model`: ONNX graphs of Gemm/MatMul(+Add), Conv (1-D/2-D, no padding), Relu,
  LeakyRelu, AveragePool and Flatten nodes, with their biases;
- :mod:`.state_dict`: ``.safetensors`` and ``.npz`` state dicts with PyTorch-style names
  (``0.weight``, ``0.bias``, ``2.weight``, ...) together with an architecture file;
- :mod:`.model`: :func:`load_model`, the one entry point, and :class:`Model`;
- :mod:`.cli`: ``symkkt import``.

Importing this package is cheap; :func:`load_model` loads what a format needs (``onnx`` is an
optional dependency: ``pip install 'symkkt[onnx]'``).
"""

__all__ = ["Model", "load_model", "is_model_file"]

MODEL_SUFFIXES = (".onnx", ".safetensors", ".npz")


def is_model_file(path):
    """Whether ``path`` names a model file (by its suffix: ``.onnx``, ``.safetensors``, ``.npz``).

    Examples
    --------
    >>> is_model_file("net.onnx"), is_model_file("params.yaml")
    (True, False)
    """
    import os

    return os.fspath(path).lower().endswith(MODEL_SUFFIXES)


def __getattr__(name):
    if name in ("Model", "load_model"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
