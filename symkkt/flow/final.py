"""The final parameters of a run as exact numbers, so that a run can be fed back to ``kkt``.

A run ends with θ (narrow) and η (wide) in its tier's representation. Each is turned into exact
numbers without rounding, and what those numbers are is stated with them:

- ``exact``: the exact iterates themselves;
- ``precision``: the exact binary values of the computed high-precision numbers;
- ``balls``: the exact midpoints of the final balls (the true iterate lies within the radius);
- ``float``: the exact binary values of the float64 numbers.
"""

from __future__ import annotations

import sympy

MEANING = {"exact": "the exact iterates",
           "precision": "the exact binary values of the computed high-precision numbers (not proved)",
           "balls": "the exact midpoints of the final balls (rigorous radius not included)",
           "float": "the exact binary values of the float64 numbers"}


def _binary(man, exp):
    man, exp = int(man), int(exp)
    return sympy.Integer(man) * sympy.Integer(2) ** exp if exp >= 0 else sympy.Rational(man, 2 ** -exp)


def exact_values(vector):
    """Exact sympy numbers of a flat vector of any tier (no rounding).

    Examples
    --------
    >>> import numpy as np
    >>> exact_values(np.array([0.5, 0.1]))
    [1/2, 3602879701896397/36028797018963968]
    >>> from flint import arb
    >>> exact_values([arb(3) / 4])
    [3/4]
    """
    c = getattr(vector, "c", None)
    if c is not None:                      # an exact array over Q(α): one coordinate array per power
        field = vector.field
        flat = [a.ravel() for a in c]
        return [field.to_sympy(tuple(a[i] for a in flat)) for i in range(flat[0].size)]
    out = []
    for x in list(vector):
        if hasattr(x, "mid") and hasattr(x, "rad"):          # flint arb
            man, exp = x.mid().man_exp()
            out.append(_binary(man, exp))
        elif hasattr(x, "man_exp"):                            # mpmath mpf
            man, exp = x.man_exp
            out.append(_binary(man, exp) if man else sympy.Integer(0))
        elif hasattr(x, "p") and hasattr(x, "q"):             # fmpq, Fraction-like
            out.append(sympy.Rational(int(x.p), int(x.q)))
        else:
            p, q = float(x).as_integer_ratio()
            out.append(sympy.Rational(p, q))
    return out


def final_parameters(result):
    """``{"theta": [...], "eta": [...], "values": meaning}`` with exact number strings, or None."""
    from ..numbers import format_number

    if result.final_theta is None:
        return None
    theta, eta = exact_values(result.final_theta), exact_values(result.final_eta)
    return {"theta": [format_number(v) for v in theta], "eta": [format_number(v) for v in eta],
            "values": MEANING[result.tier_flag], "tier": result.tier}


def params_file(network, values):
    """The PARAMS file form of a flat vector of exact numbers for ``network``."""
    from ..numbers import format_number

    def fmt(v):
        return [fmt(x) for x in v] if isinstance(v, list) else format_number(v)

    return [{"weight": fmt(l["weight"]), **({"bias": fmt(l["bias"])} if l["bias"] is not None else {})}
            for l in network.unflatten(values)]
