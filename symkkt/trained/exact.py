"""Float arrays as exact binary rationals.

Every finite binary floating-point number (float16, bfloat16, float32, float64) is a rational
p/2^k; :func:`exact_strings` writes it as the exact number string ``"p/q"`` (``"p"`` when it is an
integer) of the project's number grammar, so an imported weight means exactly what the model file
stores. NaN and infinities have no exact value and are refused, with the tensor and the index.

What this module trusts: Python's ``float.as_integer_ratio`` (exact by definition) and numpy's
widening conversions to float64 (exact for every narrower binary format).
"""

from __future__ import annotations

from ..errors import ShapeError


def _text(v):
    p, q = v.as_integer_ratio()
    return str(p) if q == 1 else f"{p}/{q}"


def exact_strings(array, file, place):
    """Nested lists of exact number strings for a float (or integer) numpy array.

    Parameters
    ----------
    array : numpy.ndarray
        Any real dtype; floats are widened to float64 (exact) first.
    file, place : str
        Where the array comes from, for the error line.

    Raises
    ------
    ShapeError
        If an entry is NaN or infinite (the first one is named) or the dtype is not real.

    Examples
    --------
    >>> import numpy as np
    >>> exact_strings(np.array([[0.5, -3.0], [0.1, 2.0]], dtype=np.float32), "m.onnx", "W")
    [['1/2', '-3'], ['13421773/134217728', '2']]
    >>> exact_strings(np.array([1.0, np.nan]), "m.onnx", "fc.bias")
    Traceback (most recent call last):
    ...
    symkkt.errors.ShapeError: m.onnx: fc.bias[1]: NaN is not a number symkkt can use (the model must have finite weights)
    """
    import numpy as np

    if array.dtype.kind not in "fiu":
        raise ShapeError(f"tensor of type {array.dtype} is not real-valued", file, place)
    wide = array.astype(np.float64) if array.dtype.kind == "f" else array.astype(object)
    if wide.dtype.kind == "f":
        bad = ~np.isfinite(wide)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            what = "NaN" if np.isnan(wide[idx]) else "an infinity"
            raise ShapeError(f"{what} is not a number symkkt can use (the model must have finite weights)",
                             file, f"{place}[{']['.join(map(str, idx))}]")
        flat = [_text(v) for v in wide.ravel().tolist()]
    else:
        flat = [str(int(v)) for v in wide.ravel().tolist()]
    return _nest(flat, array.shape)


def _nest(flat, shape):
    if not shape:
        return flat[0]
    out = flat
    for n in reversed(shape[1:]):
        out = [out[i:i + n] for i in range(0, len(out), n)]
    return out


def exact_scalar(value, file, place):
    """One float attribute (e.g. a LeakyRelu slope) as an exact number string.

    Examples
    --------
    >>> exact_scalar(0.25, "m.onnx", "alpha")
    '1/4'
    """
    import math

    if not math.isfinite(value):
        raise ShapeError(f"{value} is not a number symkkt can use", file, place)
    return _text(float(value))
