"""Resource limits of the kernel: every loop driven by certificate data is bounded before it runs.

:data:`DEFAULTS` names each limit (see the module docstring of :mod:`symkkt.kernel` for what
each one bounds). A check that would exceed a limit stops with an invalid verdict naming it::

    limit exceeded: field degree 160 > 32 (raise with --limit field_degree=N)

Trusted: nothing but the standard library.

Examples
--------
>>> lim = Limits({"units": 5})
>>> lim.check("units", 5, "units in a layer")
>>> lim.check("units", 6, "units in a layer")
Traceback (most recent call last):
...
symkkt.kernel.field.Invalid: limit exceeded: units in a layer 6 > 5 (raise with --limit units=N)
>>> Limits({"unit": 5})
Traceback (most recent call last):
...
ValueError: unknown limit 'unit' (known: coefficients, connections, digits, field_degree, input_bytes, nesting, operations, parameters, points, power, precision, units, vertices)
"""
from .field import Invalid

DEFAULTS = {
    "input_bytes": 1 << 20,     # size of a certificate file, checked before it is parsed
    "nesting": 32,              # depth of JSON arrays/objects, and of parentheses/signs/powers in a number
    "field_degree": 32,         # degree of witness.field.minpoly
    "digits": 1000,             # decimal digits of an integer written in a number, or of any exact result
    "parameters": 100_000,      # entries of θ (per network)
    "units": 10_000,            # values of the input and of each layer's output
    "connections": 250_000,     # multiply-adds of one forward pass (per network)
    "points": 10_000,           # data points
    "power": 64,                # power p of poly_relu / poly_leaky_relu
    "coefficients": 64,         # coefficients of a polynomial activation
    "vertices": 4096,           # vertex Clarke columns enumerated by a refutation, over all points together
    "precision": 4000,          # halvings of the field's isolating interval (bits of α) to decide signs
    "operations": 1_000_000,    # coefficient operations of exact arithmetic in one check
}


class Limits:
    """The limits in force for one check (defaults overridden by ``overrides``), plus the running
    count of arithmetic operations charged against ``operations``."""

    def __init__(self, overrides=None):
        overrides = dict(overrides or {})
        for name, value in overrides.items():
            if name not in DEFAULTS:
                raise ValueError(f"unknown limit {name!r} (known: {', '.join(sorted(DEFAULTS))})")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"limit {name} must be a non-negative integer, got {value!r}")
        self.values = dict(DEFAULTS, **overrides)
        self.spent = 0

    def __getitem__(self, name):
        return self.values[name]

    def check(self, name, value, what):
        """Raise :class:`Invalid` naming the limit if ``value`` exceeds it (called before the work)."""
        if value > self.values[name]:
            raise Invalid(f"limit exceeded: {what} {value} > {self.values[name]} (raise with --limit {name}=N)")

    def spend(self, amount, what="arithmetic operations"):
        """Charge ``amount`` operations (an estimate made before the work) against ``operations``."""
        self.spent += amount
        if self.spent > self.values["operations"]:
            self.check("operations", self.spent, what)
