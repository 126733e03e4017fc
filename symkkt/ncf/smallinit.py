"""Training from a small initialization next to the NCF flow [K]: observed, never proved.

Gradient flow on the square loss L(w) = ½ Σ_i (H(x_i; w) − y_i)² from w(0) = δ·u₀, ‖u₀‖ = 1, for
a network H that is positively K-homogeneous in its parameters. With w = δ·u and τ = δ^(K−2)·t the
flow is **exactly** (H(x; δu) = δ^K H(x; u) and ∇H(x; δu) = δ^(K−1) ∇H(x; u))

    du/dτ = −δ^(1−K) ∇L(δu) = ∇N(u) − δ^K Σ_i H(x_i; u) ∇H(x_i; u),

where N(u) = Σ_i y_i H(x_i; u) is the neural correlation function (NCF). For the logistic loss
Σ_i log(1 + exp(−y_i H(x_i; w))), the same substitution gives

    du/dτ = Σ_i y_i s(−y_i δ^K H(x_i; u)) ∇H(x_i; u),      s the logistic sigmoid,

whose δ → 0 limit is ½∇N(u): the NCF flow at half speed, u_NCF(τ/2). Every δ-run is compared with
its own limit (δ → 0 in the coefficients). [K]'s claims, as testable consequences: (a) on a fixed
τ-interval, ‖u_δ(τ) − u₀(τ)‖ shrinks like δ^K; (b) the escape time (first τ with ‖u‖ ≥ R) does not
depend on δ; (c) the direction at escape is close to a non-negative KKT point of the constrained
NCF (maximize N on the unit sphere), measured by the residual ‖∇N(û) − K·N(û)·û‖; (d) the loss
stays near its value at w = 0 until escape. When N(û) stays ≤ 0 the NCF flow shrinks ‖u‖
(d‖u‖²/dτ = 2K·N(u)) and w collapses towards 0 instead.

What this module computes, and the tier of every figure: the trajectories are integrated by the
classical Runge–Kutta scheme (RK4) in **high precision** (python-flint arb midpoints at DIGITS
decimal digits) on one τ-grid for all runs, built from the limit flow by the step rule
h_k = min(η·‖u_k‖/‖F(u_k)‖, h_max) (each step moves u by about η of its length); the escape
time is found on the cubic Hermite interpolant of the last step. Every figure is *high
precision (observed), not proved*; the only exact statement is the rescaling identity above,
which :func:`rescaled_field` evaluates exactly (rational or algebraic u and δ) through
:class:`~symkkt.network.Network`. What it trusts: the forward and reverse passes of
:class:`~symkkt.network.Network` (the dense fast path is tested against them), and at an exact
kink (a pre-activation that is 0 at the working precision) the lower end of the Clarke interval,
as the flow engines use.

Examples
--------
>>> from symkkt.ncf.smallinit import smallinit_from_dicts
>>> arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": {"leaky_relu": {"slope": "1/2"}}}},
...                                  {"dense": {"width": 1}}]}
>>> data = {"points": [{"x": [1, 0], "y": 1}, {"x": [0, 1], "y": -1}]}
>>> problem, u0 = smallinit_from_dicts(arch, data, [{"weight": [[1, 0], [0, 1]]}, {"weight": [[1, -1]]}])
>>> problem.degree, u0.normalized
(2, True)
>>> r = problem.run(u0, ["1/100", "1/1000", "1/10000"], "square", digits=30)
>>> r.verdict, [round(run.rate, 2) for run in r.runs[2:]]
('holds', [2.0, 2.0])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy
import flint
from flint import arb

from ..errors import NotHomogeneousError, SchemaError, ShapeError, UsageError, VERDICT_EXIT
from ..field import as_sympy
from ..network import Network
from ..numbers import exact_sign, format_number, parse_number

__all__ = ["SmallInitProblem", "SmallInitResult", "Init", "DeltaRun", "load_smallinit", "smallinit_from_dicts",
           "make_init", "rescaled_field", "loss_gradient", "blowup_bound", "family_distance", "LOSSES", "TIER"]

LOSSES = ("square", "logistic")
#: the tier every trajectory figure is in
TIER = "high precision (observed), not proved"
CMD = "<command line>"

#: default escape radius R, step rule η, collapse radius, step cap, and the verdict windows
RADIUS = 10
ETA = sympy.Rational(1, 40)
COLLAPSE = sympy.Rational(1, 100)
MAX_STEPS = 20000
DEFAULT_HORIZON = 50
TIME_TOL = 1e-2          # holds: escape times agree to this relative tolerance
RATE_WINDOW = 0.1        # holds: every observed rate within K·(1 ± RATE_WINDOW)
REFUTE_TIME = 0.1        # refuted: escape times differ by more than this (relative) ...
REFUTE_RATE = 0.5        # ... or a rate outside K·(1 ± REFUTE_RATE)


# -- exact fields (the rescaling identity) -----------------------------------------------------
def _exact_forward_jacobian(net, X, u):
    """Exact H(x_i; u) (list) and the columns ∇H(x_i; u) (list of lists) through the Network."""
    from ..tensor import ExactDomain

    u = [parse_number(v) if isinstance(v, str) else as_sympy(v) for v in u]
    dom = ExactDomain.for_numbers(list(u) + [v for x in X for v in x] + net.constants())
    trace = net.forward(dom, u, [list(x) for x in X])
    H = [sympy.expand(v) for v in trace.output.to_sympy()]
    J = net.jacobian(trace, list(range(len(X)))).to_sympy()      # (m, n)
    return H, J


def rescaled_field(net, X, y, u, delta, loss="square"):
    """The exact right-hand side ∇N(u) − δ^K Σ_i H(x_i; u) ∇H(x_i; u) of the rescaled square-loss flow.

    Parameters
    ----------
    net : symkkt.network.Network
        Positively K-homogeneous in its parameters.
    X, y : sequences of exact numbers
        Points and targets.
    u : list of exact numbers
        Flat parameters in ``net.parameter_names`` order.
    delta : exact number
        δ ≥ 0 (δ = 0 gives the NCF gradient ∇N(u)).
    loss : {"square"}
        The logistic field is transcendental and has no exact form.

    Returns
    -------
    list of sympy numbers

    Examples
    --------
    >>> from symkkt.spec import architecture_from_json
    >>> net = Network(architecture_from_json({"input": [1], "layers": [
    ...     {"dense": {"width": 1, "activation": "relu"}}, {"dense": {"width": 1}}]}))
    >>> rescaled_field(net, [[1]], [1], [1, 2], sympy.Rational(1, 2))   # H = 2: (2, 1) − (1/4)·2·(2, 1)
    [1, 1/2]
    """
    if loss != "square":
        raise ValueError("only the square-loss field is exact")
    K = net.homogeneity().degree
    delta = as_sympy(delta)
    H, J = _exact_forward_jacobian(net, X, u)
    c = [as_sympy(yi) - delta**K * h for yi, h in zip(y, H)]
    return [sympy.expand(sum(ci * row[i] for i, ci in enumerate(c))) for row in J]


def loss_gradient(net, X, y, w):
    """The exact gradient ∇L(w) of the square loss ½ Σ_i (H(x_i; w) − y_i)² (for the identity check)."""
    H, J = _exact_forward_jacobian(net, X, w)
    c = [h - as_sympy(yi) for h, yi in zip(H, y)]
    return [sympy.expand(sum(ci * row[i] for i, ci in enumerate(c))) for row in J]


def blowup_bound(K, r, nu):
    """τ-length within which the NCF flow from a point of norm ``r`` and N(û) = ``nu`` > 0 blows up.

    Along the NCF flow N(û) never decreases (d/dτ N(û) = ‖∇N(u) − K N(u) u/‖u‖²‖²/‖u‖^K ≥ 0 off
    kinks), so d‖u‖/dτ = K·N(û)·‖u‖^(K−1) ≥ K·ν·‖u‖^(K−1), and for K > 2 the norm is infinite
    before r^(2−K)/((K−2)·K·ν). For K ≤ 2, or ν ≤ 0, there is no blow-up (``math.inf``).
    Works with floats and arb numbers.

    Examples
    --------
    >>> blowup_bound(3, 1.0, 0.5)          # 1/(1·3·0.5)
    0.6666666666666666
    >>> blowup_bound(2, 1.0, 0.5)
    inf
    """
    if K <= 2 or not nu > 0:
        return math.inf
    return r ** (2 - K) / ((K - 2) * K * nu)


# -- vector fields in a tier -------------------------------------------------------------------
def _sign_mid(x):
    if x > 0:
        return 1
    if x < 0:
        return -1
    m = x.mid() if isinstance(x, arb) else x
    return 1 if m > 0 else (-1 if m < 0 else 0)


class _DenseField:
    """H(x_i; u) and Σ_i c_i ∇H(x_i; u) for a bias-free dense net with piecewise activations.

    σ(z) = c₊·z^p (z ≥ 0), c₋·z^p (z < 0): plain matrix products over the whole batch, on numpy
    arrays of float64 or of arb numbers. At a kink (z = 0 at the working precision, p = 1) the
    derivative is the lower end of the Clarke interval; for p > 1 it is 0.
    """

    @staticmethod
    def applies(net):
        for i, layer in enumerate(net.arch.layers):
            if layer.kind != "dense" or layer.bias or not net.rules[i].piecewise:
                return False
        return True

    def __init__(self, net, X, conv, floats):
        self.floats = floats
        self.conv = conv
        self.XT = np.array([[conv(v) for v in x] for x in X], dtype=float if floats else object).T.copy()
        self.layers = []
        pos = 0
        for i, layer in enumerate(net.arch.layers):
            shape = tuple(net.param_shapes[net.weight_index(i) - 1]["weight"])
            rule = net.rules[i]
            p = rule.power
            if rule.kind == "linear" or (rule.plus == rule.minus and p == 1):
                slopes = None if rule.plus == 1 else (conv(rule.plus),) * 3
            else:
                lo = min(rule.plus, rule.minus) if p == 1 else 0
                slopes = (conv(rule.plus), conv(rule.minus), conv(lo))
            self.layers.append((pos, shape, slopes, p))
            pos += shape[0] * shape[1]

    def _signs(self, Z):
        if self.floats:
            return np.sign(Z)
        return np.fromiter((_sign_mid(x) for x in Z.ravel()), dtype=np.int8, count=Z.size).reshape(Z.shape)

    def forward(self, u):
        A = self.XT
        acts, Ws, Ds = [A], [], []
        for pos, shape, slopes, p in self.layers:
            W = u[pos:pos + shape[0] * shape[1]].reshape(shape)
            Z = W @ A
            if slopes is None:
                D, A = None, Z
            else:
                S = self._signs(Z)
                plus, minus, lo = slopes
                C = np.where(S > 0, plus, minus)            # σ(z) = C·z^p
                if p == 1:
                    A = C * Z
                    D = np.where(S == 0, lo, C)
                else:
                    Zp = Z ** (p - 1)
                    A = C * Zp * Z
                    D = C * Zp * p
            Ws.append(W)
            Ds.append(D)
            acts.append(A)
        return acts[-1][0], (Ws, acts, Ds)

    def backward(self, cache, c):
        Ws, acts, Ds = cache
        delta = np.asarray(c).reshape(1, -1)
        grads = []
        for l in reversed(range(len(Ws))):
            if Ds[l] is not None:
                delta = delta * Ds[l]
            grads.append((delta @ acts[l].T).ravel())
            if l:
                delta = Ws[l].T @ delta
        return np.concatenate(grads[::-1])


class _NetworkField:
    """The same through :class:`~symkkt.network.Network` (any homogeneous architecture), arb or float64."""

    def __init__(self, net, X, dom):
        self.net, self.dom = net, dom
        self.X = dom.array([list(x) for x in X])
        self.n = len(X)

    def forward(self, u):
        trace = self.net.forward(self.dom, list(u), self.X)
        return np.asarray(trace.output), trace

    def backward(self, trace, c):
        J = self.net.jacobian(trace, list(range(self.n)))
        return J @ np.asarray(c)


def _sigmoid(x):
    """1/(1 + e^(−x)) for an arb (or float) x, without overflow."""
    if isinstance(x, float):
        return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
    if x >= 0:
        return 1 / (1 + (-x).exp())
    e = x.exp()
    return e / (1 + e)


def _softplus(x):
    """log(1 + e^x) for an arb x."""
    if x > 0:
        return x + (1 + (-x).exp()).log()
    return (1 + x.exp()).log()


class _Tier:
    """Scalars and vectors of one tier: arb midpoints at ``digits`` digits, or float64."""

    def __init__(self, digits):
        self.digits = digits
        self.floats = digits is None
        self.half = 0.5 if self.floats else arb(0.5)
        self._cache = {}

    def context(self):
        import contextlib

        return contextlib.nullcontext() if self.floats else flint.ctx.workprec(_bits(self.digits))

    def const(self, v):
        """An exact number (sympy, int, str of the grammar) in the tier."""
        key = v if isinstance(v, (int, str)) else as_sympy(v)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        e = parse_number(v) if isinstance(v, str) else as_sympy(v)
        if self.floats:
            out = float(sympy.N(e, 20))
        elif e.is_Rational:
            out = arb(flint.fmpq(int(e.p), int(e.q)))
        else:
            out = arb(str(sympy.N(e, self.digits + 15)))
        self._cache[key] = out
        return out

    def vec(self, values):
        return np.array(list(values), dtype=float if self.floats else object)

    def strip(self, v):
        if self.floats:
            return v
        return np.array([x.mid() for x in v], dtype=object)

    def sqrt(self, x):
        """√x of a non-negative quantity (a value rounded below 0 gives 0)."""
        if self.floats:
            return math.sqrt(max(x, 0.0))
        m = x.mid()
        return m.sqrt() if m > 0 else arb(0)

    def log(self, x):
        return math.log(x) if self.floats else x.log()

    def to_float(self, x):
        return float(x)


def _bits(digits):
    return int(math.ceil(digits * math.log2(10))) + 8


def _dot(a, b):
    return (a * b).sum()


# -- the problem -------------------------------------------------------------------------------
@dataclass
class Init:
    """The starting direction u₀ = INIT/‖INIT‖ (exact INIT, normalized in the working tier).

    ``normalized`` says whether INIT was *not* of unit norm (and had to be divided by ‖INIT‖,
    exact value ``norm2`` = ‖INIT‖²).
    """

    theta: list
    norm2: object
    normalized: bool
    source: str = "<python>"

    def vector(self, tier):
        with tier.context():
            v = tier.vec(tier.const(t) for t in self.theta)
            if self.normalized:
                v = v / tier.sqrt(tier.const(self.norm2))
            return tier.strip(v) if not tier.floats else v


class SmallInitProblem:
    """A homogeneous network and data, ready to train from small initializations.

    Parameters
    ----------
    network : symkkt.network.Network
        Bias-free (a first-layer bias is allowed), positively K-homogeneous.
    data : symkkt.spec.Dataset
        Points and exact targets.
    ncf : symkkt.ncf.problem.NCFProblem, optional
        The exact NCF problem (KKT decisions, known KKT points), when available.
    """

    def __init__(self, network, data, ncf=None, source=None):
        self.network, self.data, self.ncf = network, data, ncf
        h = network.homogeneity()
        if not h.holds:
            raise NotHomogeneousError(f"the NCF needs a positively homogeneous network: {h.reason}",
                                      source)
        self.degree = h.degree
        self.X, self.y = data.X, data.y

    # -- fields ---------------------------------------------------------------------------------
    def _engine(self, tier):
        if _DenseField.applies(self.network):
            return _DenseField(self.network, self.X, tier.const, tier.floats)
        from ..flow.arith import CachedFloatDomain, PrecisionDomain

        dom = CachedFloatDomain() if tier.floats else PrecisionDomain(tier.digits)
        return _NetworkField(self.network, self.X, dom)

    def check_targets(self, loss):
        """Logistic needs labels ±1 (ShapeError with the data file and point)."""
        if loss not in LOSSES:
            raise UsageError(f"unknown loss {loss!r}; allowed: {', '.join(LOSSES)}", CMD, "--loss")
        if loss == "logistic":
            from ..spec import require_binary_labels

            require_binary_labels(self.data)

    def run(self, u0, deltas, loss="square", horizon=None, digits=None, radius=RADIUS, eta=ETA,
            max_steps=MAX_STEPS, known_points=True, floats=False):
        """Train from w(0) = δ·u₀ for each δ next to the limit flow from u₀; a :class:`SmallInitResult`.

        Parameters
        ----------
        u0 : Init or list of exact numbers
            The starting direction (normalized to unit norm).
        deltas : list of exact numbers
            δ > 0 (text in the number grammar, ints or sympy numbers).
        loss : {"square", "logistic"}
        horizon : exact number, optional
            The τ-horizon. Default: the blow-up bound of the NCF flow from u₀ when N(u₀) > 0 and
            K > 2 (the NCF flow escapes before it), log(R)/(2·N(u₀)) when K = 2 and N(u₀) > 0,
            else 50. A horizon beyond the blow-up bound is cut there (and the result says so).
        digits : int, optional
            Working precision; default max(30, ⌈K·log10(1/δ_min)⌉ + 20), so that deviations of
            size δ^K stay far above the rounding.
        radius : exact number
            R: escape is the first τ with ‖u‖ ≥ R (default 10).
        eta : exact number
            The step rule's relative step η (default 1/40).
        known_points : bool
            Compare the direction at escape with the rank-one KKT points of the NCF package.
        floats : bool
            Run in float64 instead (for comparison; every figure then has the float tier).
        """
        self.check_targets(loss)
        init = u0 if isinstance(u0, Init) else make_init(u0, self.network)
        deltas = _check_deltas(deltas)
        K = self.degree
        if digits is None:
            dmin = min(deltas)
            digits = max(30, int(math.ceil(K * -math.log10(float(dmin)))) + 20)
        radius = _positive(radius, "--radius")
        if exact_sign(radius - 1) <= 0:
            raise UsageError(f"R must be > 1 (|u0| = 1), got {format_number(radius)}", CMD, "--radius")
        eta = _positive(eta, "step rule eta")
        tier = _Tier(None if floats else int(digits))
        return _run_all(self, init, deltas, loss, horizon, tier, radius, eta, max_steps, known_points)


def _positive(v, flag):
    e = parse_number(v, CMD, flag) if isinstance(v, str) else as_sympy(v)
    if exact_sign(e) <= 0:
        raise UsageError(f"must be positive, got {format_number(e)}", CMD, flag)
    return e


def _check_deltas(deltas):
    if isinstance(deltas, (str, int)) or not hasattr(deltas, "__iter__"):
        deltas = [deltas]
    out = []
    for d in deltas:
        e = parse_number(d, CMD, "--delta") if isinstance(d, (str, int)) else as_sympy(d)
        if exact_sign(e) <= 0:
            raise UsageError(f"delta must be > 0, got {format_number(e)}", CMD, "--delta")
        out.append(e)
    if not out:
        raise UsageError("give at least one --delta D", CMD, "--delta")
    out = sorted(set(out), key=lambda e: -float(sympy.N(e, 30)))
    return out


def make_init(theta, net=None, source="<python>"):
    """:class:`Init` from exact flat parameters; INIT of norm zero is refused (exit 2)."""
    theta = [parse_number(v) if isinstance(v, str) else as_sympy(v) for v in theta]
    if net is not None and len(theta) != net.num_parameters:
        raise ShapeError(f"INIT has {len(theta)} entries, the network has {net.num_parameters} parameters",
                         source)
    norm2 = sympy.expand(sum(t * t for t in theta))
    if exact_sign(norm2) == 0:
        raise SchemaError("INIT has norm zero: u0 = INIT/|INIT| needs a nonzero INIT", source)
    return Init(theta, norm2, norm2 != 1, source)


def smallinit_from_dicts(arch, data, init):
    """:class:`SmallInitProblem` and :class:`Init` from input-file dicts (see docs/formats.md)."""
    from ..spec import architecture_from_json, data_from_json, parameters_from_json

    a = architecture_from_json(arch)
    d = data_from_json(data, arch=a)
    net = Network(a)
    params = parameters_from_json(init, a)
    ncf = None
    try:
        from .problem import ncf_from_dicts

        ncf, _ = ncf_from_dicts(arch, data)
    except ImportError:
        ncf = None
    problem = SmallInitProblem(net, d, ncf)
    return problem, make_init(net.flatten(params), net)


def load_smallinit(arch_path, data_path, init_path, float_input=False):
    """:class:`SmallInitProblem` and :class:`Init` from files (bad input raises, exit 2)."""
    from ..spec import load_architecture, load_data, load_parameters

    a = load_architecture(arch_path)
    d = load_data(data_path, a, float_input=float_input)
    net = Network(a)
    params = load_parameters(init_path, a, float_input=float_input)
    ncf = None
    try:
        from .problem import load_ncf

        ncf, _ = load_ncf(arch_path, data_path, float_input=float_input)
    except ImportError:
        ncf = None
    try:
        problem = SmallInitProblem(net, d, ncf, source=str(arch_path))
    except NotHomogeneousError as err:
        raise err.located(file=str(arch_path)) from None
    return problem, make_init(net.flatten(params), net, str(init_path))


# -- results -----------------------------------------------------------------------------------
@dataclass
class DeltaRun:
    """One trajectory: δ (None for the limit flow), its series and its figures at escape."""

    delta: object
    series: dict
    escaped: bool = False
    escape_time: object = None          # τ at ‖u‖ = R (tier number) or None
    deviation: object = None            # sup over the common grid up to the limit flow's escape
    rate: float | None = None           # observed exponent against the previous (larger) δ
    loss_ratio: object = None           # loss at escape / loss at w = 0
    ncf_value: object = None            # N(û) at escape
    residual: object = None             # ‖∇N(û) − K N(û) û‖ at escape
    residual_relative: object = None    # the same divided by ‖∇N(û)‖ (the sine of the angle ∇N(û), û)
    direction: object = None            # û at escape (tier vector)
    closest: dict | None = None         # the closest known KKT point
    layers: list = field(default_factory=list)   # per weight matrix: rank-one ratio σ2/σ1
    end_norm: object = None
    end_time: object = None
    stop: str = ""
    escape_index: int | None = None     # first grid point with ‖u‖ ≥ R
    escape_fraction: object = None      # where in the step before it ‖u‖ = R (0..1)
    escape_point: object = None         # u at the escape time
    points: list = field(default_factory=list, repr=False)   # u at the grid points (tier vectors)
    fields: list = field(default_factory=list, repr=False)   # du/dτ there


class SmallInitResult:
    """The runs, the [K] comparisons and the verdict (``holds`` / ``refuted`` / ``inconclusive``).

    Every figure is *high precision (observed), not proved* (float, for ``floats=True``).
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def exit_code(self):
        return VERDICT_EXIT[self.verdict]

    def _f(self, x, digits=4):
        if x is None:
            return None
        if isinstance(x, float):
            return float(f"{x:.{digits}g}") if math.isfinite(x) else x
        return float(x)

    def _s(self, x, digits=6):
        if x is None:
            return None
        if isinstance(x, float):
            return f"{x:.{digits}g}"
        if x.is_zero():
            return "0"
        return x.mid().str(digits, radius=False)

    def to_json(self):
        """One JSON-ready dict; numbers as decimal strings with their tier."""
        runs = []
        for run in self.runs:
            row = {"delta": None if run.delta is None else format_number(run.delta),
                   "flow": "limit (NCF)" if run.delta is None else "small initialization",
                   "escaped": run.escaped, "escape_time": self._s(run.escape_time),
                   "end_time": self._s(run.end_time), "end_norm": self._s(run.end_norm), "stop": run.stop,
                   "deviation": self._s(run.deviation), "rate": None if run.rate is None else round(run.rate, 4),
                   "loss_ratio": self._s(run.loss_ratio), "ncf_value": self._s(run.ncf_value),
                   "kkt_residual": self._s(run.residual),
                   "kkt_residual_relative": self._s(run.residual_relative),
                   "rank_one_ratios": [None if v is None else float(f"{v:.3g}") for v in run.layers],
                   "closest_kkt_point": run.closest}
            runs.append(row)
        obj = {"verdict": self.verdict, "reason": self.reason, "tier": self.tier, "digits": self.digits,
               "loss": self.loss, "degree": self.degree, "radius": format_number(self.radius),
               "horizon": self._s(self.horizon), "step_rule": self.step_rule,
               "init_normalized": self.init_normalized, "ncf_value_at_start": self._s(self.nu0),
               "limit_flow": self.limit_text, "notes": list(self.notes),
               "escape_time_tolerance": TIME_TOL, "rate_window": [round(self.degree * (1 - RATE_WINDOW), 6),
                                                                  round(self.degree * (1 + RATE_WINDOW), 6)],
               "escape_time_spread": self._s(self.time_spread), "rates": [None if r is None else round(r, 4)
                                                                         for r in self.rates],
               "blowup_check": self.blowup, "grid_steps": self.grid_steps, "runs": runs,
               "known_points": self.known_text}
        return obj

    def _init_text(self):
        return " / |INIT| (INIT was not of unit norm)" if self.init_normalized else " (unit norm)"

    def __repr__(self):
        K = self.degree
        lines = [f"SmallInitResult(smallinit: {self.verdict} — {self.reason})",
                 f"  tier         {self.tier} ({'float64' if self.digits is None else f'{self.digits} digits'}); "
                 f"RK4, {self.step_rule}",
                 f"  loss         {self.loss}; K = {K}; escape radius R = {format_number(self.radius)}; "
                 f"horizon tau = {self._s(self.horizon, 5)}",
                 f"  u0           INIT{self._init_text()}; N(u0) = {self._s(self.nu0, 5)}",
                 f"  limit flow   {self.limit_text}"]
        for note in self.notes:
            lines.append(f"  note         {note}")
        head = f"  {'delta':>8}  {'escape tau':>11}  {'sup|u_d-u_0|':>12}  {'rate':>6}  {'loss/L(0)':>9}  " \
               f"{'N(u^)':>9}  {'KKT resid':>9}  {'relative':>8}  closest KKT point"
        lines.append(head)
        for run in self.runs:
            d = "NCF" if run.delta is None else format_number(run.delta)
            esc = self._s(run.escape_time, 6) if run.escaped else f"none ({run.stop})"
            close = "-"
            if run.closest:
                close = f"#{run.closest['index']} at {run.closest['distance']}"
                if "family_distance" in run.closest:
                    close += f"; family of #{run.closest['family_index']} at {run.closest['family_distance']}"
            lines.append(f"  {d:>8}  {esc:>11}  {self._s(run.deviation, 3) or '-':>12}  "
                         f"{'-' if run.rate is None else f'{run.rate:.3f}':>6}  "
                         f"{self._s(run.loss_ratio, 4) or '-':>9}  "
                         f"{self._s(run.ncf_value, 4) or '-':>9}  {self._s(run.residual, 3) or '-':>9}  "
                         f"{self._s(run.residual_relative, 3) or '-':>8}  {close}")
        lines.append(f"  escape times spread {self._s(self.time_spread, 3)} (relative; holds within {TIME_TOL:g}); "
                     f"rates {', '.join('-' if r is None else f'{r:.3f}' for r in self.rates) or '-'} "
                     f"(holds within K(1 ± {RATE_WINDOW:g}) = [{K * (1 - RATE_WINDOW):g}, {K * (1 + RATE_WINDOW):g}])")
        lines.append(f"  blow-up      {self.blowup['text']}")
        rk = self.runs[-1].layers if self.runs else []
        if rk:
            lines.append(f"  rank one     sigma2/sigma1 per weight matrix at escape (smallest delta): "
                         + ", ".join("-" if v is None else f"{v:.2e}" for v in rk) + " (float64 SVD)")
        lines.append(f"  known KKT    {self.known_text}")
        lines.append(f"  every figure: {self.tier}")
        return "\n".join(lines)


# -- the runs ----------------------------------------------------------------------------------
class _Flow:
    """The vector fields of one problem in one tier, and the figures measured at a point."""

    def __init__(self, problem, tier, loss):
        self.tier, self.loss, self.K = tier, loss, problem.degree
        self.eng = problem._engine(tier)
        self.y = tier.vec(tier.const(v) for v in problem.y)
        self.yint = [int(v) if loss == "logistic" else None for v in problem.y]
        self.n = len(problem.y)
        self.half = tier.half
        self.y2 = _dot(self.y, self.y)
        self.loss0 = (self.y2 if loss == "square" else tier.const(self.n) * tier.log(tier.const(2)))

    def coefficients(self, H, dK):
        """c with F(u) = Σ_i c_i ∇H(x_i; u); ``dK`` = δ^K in the tier, None for the limit flow."""
        if dK is None:
            return self.y * self.half if self.loss == "logistic" else self.y
        if self.loss == "square":
            return self.y - H * dK
        return self.tier.vec(yi * _sigmoid(-(yi * h * dK)) for yi, h in zip(self.y, H))

    def field(self, u, dK):
        H, cache = self.eng.forward(u)
        return self.eng.backward(cache, self.coefficients(H, dK)), H, cache

    def measure(self, u, H, cache, dK):
        """‖u‖, N(û), the KKT residual ‖∇N(û) − K N(û) û‖ and the loss ratio L(δu)/L(0)."""
        t = self.tier
        r = t.sqrt(_dot(u, u))
        Nu = _dot(self.y, H)
        K = self.K
        g = self.eng.backward(cache, self.y)
        rK1 = r ** (K - 1)
        res = g - u * (Nu * K / (r * r))
        residual = t.sqrt(_dot(res, res)) / rK1
        gn = t.sqrt(_dot(g, g)) / rK1
        relative = residual / gn if gn > 0 else None
        nu = Nu / (rK1 * r)
        ratio = None
        if dK is not None and self.y2 > 0:
            if self.loss == "square":
                e = H * dK - self.y
                ratio = _dot(e, e) / self.y2
            else:
                total = sum(((_softplus(-(yi * h * dK)) if not t.floats else math.log1p(math.exp(-float(yi * h * dK))))
                             for yi, h in zip(self.y, H)), t.const(0))
                ratio = total / self.loss0
        return r, nu, residual, ratio, relative


def _rk4(flow, u, h, dK, k1):
    half = h * flow.half
    k2 = flow.field(u + k1 * half, dK)[0]
    k3 = flow.field(u + k2 * half, dK)[0]
    k4 = flow.field(u + k3 * h, dK)[0]
    return flow.tier.strip(u + (k1 + (k2 + k3) * 2 + k4) * (h / 6))


def _hermite(u0, F0, u1, F1, h, s):
    s2, s3 = s * s, s * s * s
    return (u0 * (2 * s3 - 3 * s2 + 1) + F0 * (h * (s3 - 2 * s2 + s)) + u1 * (-2 * s3 + 3 * s2)
            + F1 * (h * (s3 - s2)))


def _escape(tier, R, taus, us, Fs, k):
    """τ and u where ‖u‖ = R between grid points k−1 and k (bisection on the Hermite cubic)."""
    h = taus[k] - taus[k - 1]
    lo, hi = tier.const(0), tier.const(1)
    R2 = R * R
    iters = 60 if tier.floats else int(tier.digits * 3.4) + 4
    for _ in range(iters):
        mid = (lo + hi) * tier.half
        p = _hermite(us[k - 1], Fs[k - 1], us[k], Fs[k], h, mid)
        if _dot(p, p) >= R2:
            hi = mid
        else:
            lo = mid
    s = hi
    if not tier.floats:
        s = s.mid()
    return taus[k - 1] + h * s, tier.strip(_hermite(us[k - 1], Fs[k - 1], us[k], Fs[k], h, s)), s


def _norm(tier, v):
    return tier.sqrt(_dot(v, v))


def _default_horizon(K, nu0, R, speed):
    """(horizon, how) for the limit flow from u₀ with N(u₀) = nu0 (floats)."""
    if nu0 > 0 and K > 2:
        return blowup_bound(K, 1.0, nu0) / speed, "the blow-up bound of the NCF flow from u0"
    if nu0 > 0 and K == 2:
        return 1.1 * math.log(R) / (2 * nu0) / speed, "1.1 x log(R)/(2 N(u0)), by which the NCF flow has escaped"
    return float(DEFAULT_HORIZON), f"{DEFAULT_HORIZON} (N(u0) <= 0 or K < 2: no escape guaranteed)"


def _run_all(problem, init, deltas, loss, horizon, tier, radius, eta, max_steps, known_points):
    K = problem.degree
    notes = []
    speed = 0.5 if loss == "logistic" else 1.0
    with tier.context():
        flow = _Flow(problem, tier, loss)
        u0 = init.vector(tier)
        R = tier.const(radius)
        Rstop = R * tier.const(sympy.Rational(3, 2))
        rcol = tier.const(COLLAPSE)
        F, H, cache = flow.field(u0, None)
        nu0 = flow.measure(u0, H, cache, None)[1]
        nu0f = float(nu0)
        tau_bound, how = _default_horizon(K, nu0f, float(radius), speed)
        if horizon is None:
            hor = tau_bound
            notes.append(f"horizon: {how}")
        else:
            hor_exact = _positive(horizon, "--horizon")
            hor = float(sympy.N(hor_exact, 20))
            blow = blowup_bound(K, 1.0, nu0f) / speed
            if hor > blow:
                notes.append(f"the horizon {format_number(hor_exact)} is beyond the blow-up bound "
                             f"{blow:.6g} of the NCF flow from u0 (in tau units of this flow): stopped there")
                hor = blow
        horizon_t = hor if tier.floats else arb(repr(float(hor)))
        hmax = horizon_t / 100
        etat = tier.const(eta)

        # the limit flow builds the grid
        taus, us, Fs, meas, hs = [tier.const(0)], [u0], [F], [flow.measure(u0, H, cache, None)], []
        stop = "max_steps"
        u, tau = u0, taus[0]
        for _ in range(max_steps):
            r = meas[-1][0]
            if r >= Rstop:
                stop = "escaped"
                break
            if r <= rcol:
                stop = "collapse"
                break
            if not tau < horizon_t:
                stop = "horizon"
                break
            fn = _norm(tier, F)
            h = hmax if not fn > 0 else min(etat * r / fn, hmax)
            h = min(h, horizon_t - tau)
            if not tier.floats:
                h = h.mid()
            u = _rk4(flow, u, h, None, F)
            tau = tau + h
            F, H, cache = flow.field(u, None)
            taus.append(tau), us.append(u), Fs.append(F), hs.append(h)
            meas.append(flow.measure(u, H, cache, None))
        limit = _finish(tier, None, taus, us, Fs, meas, R, stop, flow, None)
        runs = [limit]
        for d in deltas:
            dK = tier.const(d) ** K
            F, H, cache = flow.field(u0, dK)
            dtaus, dus, dFs, dmeas = [taus[0]], [u0], [F], [flow.measure(u0, H, cache, dK)]
            u, tau, dstop = u0, taus[0], "grid"
            k = 0
            while True:
                r = dmeas[-1][0]
                if r >= Rstop:
                    dstop = "escaped"
                    break
                if r <= rcol:
                    dstop = "collapse"
                    break
                if k < len(hs):
                    h = hs[k]
                else:
                    if stop != "escaped" or r >= R or not tau < horizon_t or k >= max_steps:
                        dstop = stop if stop != "escaped" else ("escaped" if r >= R else
                                                                "horizon" if not tau < horizon_t else "max_steps")
                        break
                    fn = _norm(tier, F)
                    h = min(hmax if not fn > 0 else min(etat * r / fn, hmax), horizon_t - tau)
                    if not tier.floats:
                        h = h.mid()
                u = _rk4(flow, u, h, dK, F)
                tau = tau + h
                k += 1
                F, H, cache = flow.field(u, dK)
                dtaus.append(tau), dus.append(u), dFs.append(F)
                dmeas.append(flow.measure(u, H, cache, dK))
            run = _finish(tier, d, dtaus, dus, dFs, dmeas, R, dstop, flow, dK)
            # sup_τ ‖u_δ − u_0‖ over the common grid points before the limit flow's escape, and at
            # the escape time itself (both cubic Hermite interpolants at the same point of that step)
            last = len(us) - 1
            if limit.escaped:
                last = limit.escape_index - 1
            last = min(last, len(dus) - 1)
            dev = tier.const(0)
            for i in range(last + 1):
                e = _norm(tier, dus[i] - us[i])
                if e > dev:
                    dev = e
            k = limit.escape_index
            if limit.escaped and k is not None and 0 < k < len(dus):
                h = taus[k] - taus[k - 1]
                p = _hermite(dus[k - 1], dFs[k - 1], dus[k], dFs[k], h, limit.escape_fraction)
                e = _norm(tier, p - limit.escape_point)
                if e > dev:
                    dev = e
            run.deviation = dev
            runs.append(run)
        known, known_text = _known(problem, tier) if known_points else ([], "not compared (--no-known-points)")
        for run in runs:
            if run.direction is not None:
                run.layers = _rank_one_ratios(problem.network, run.direction)
                if known:
                    run.closest = _closest(tier, run.direction, known, problem.network)
        result = _verdict(problem, tier, loss, runs, deltas, notes, radius, horizon_t, eta, init, nu0,
                          meas, taus, limit, speed)
        result.known_text = known_text
        if "note" in result.blowup:
            notes.append(result.blowup["note"])
        return result


def _finish(tier, delta, taus, us, Fs, meas, R, stop, flow, dK):
    series = {"tau": [float(t) for t in taus], "norm": [float(m[0]) for m in meas],
              "ncf": [float(m[1]) for m in meas], "residual": [float(m[2]) for m in meas],
              "loss_ratio": [None if m[3] is None else float(m[3]) for m in meas],
              "residual_relative": [None if m[4] is None else float(m[4]) for m in meas]}
    run = DeltaRun(delta, series, stop=stop, end_norm=meas[-1][0], end_time=taus[-1], points=us, fields=Fs)
    k = next((i for i, m in enumerate(meas) if m[0] >= R), None)
    if k is None:
        run.escaped = False
        return run
    run.escaped = True
    if k == 0:
        tau, u, frac = taus[0], us[0], None
    else:
        tau, u, frac = _escape(tier, R, taus, us, Fs, k)
    run.escape_index, run.escape_fraction, run.escape_point = k, frac, u
    _, H, cache = flow.field(u, dK)
    r, nu, residual, ratio, relative = flow.measure(u, H, cache, dK)
    run.escape_time, run.ncf_value, run.residual, run.loss_ratio = tau, nu, residual, ratio
    run.residual_relative = relative
    run.direction = tier.strip(u / r) if not tier.floats else u / r
    return run


def _rank_one_ratios(net, direction):
    """σ2/σ1 of every weight matrix of û (float64 SVD of the high-precision entries); None for vectors."""
    v = np.array([float(x) for x in direction])
    out, pos = [], 0
    for shapes in net.param_shapes:
        shape = tuple(shapes["weight"])
        size = int(np.prod(shape))
        W = v[pos:pos + size]
        pos += size + (shapes["bias"][0] if shapes.get("bias") else 0)
        if len(shape) != 2 or min(shape) < 2:
            out.append(None)
            continue
        s = np.linalg.svd(W.reshape(shape), compute_uv=False)
        out.append(float(s[1] / s[0]) if s[0] > 0 else None)
    return out


def _known(problem, tier):
    """The rank-one KKT points of the NCF package, converted to the tier (exact values kept)."""
    if problem.ncf is None:
        return [], "none (the exact NCF package is not available)"
    try:
        from .rank_one import rank_one_points

        res = rank_one_points(problem.ncf)
    except ImportError:
        return [], "none (the exact NCF package is not available)"
    except (ValueError, NotImplementedError, TypeError) as err:
        return [], f"none ({err})"
    except Exception as err:            # noqa: BLE001 - an input error of that package: say it
        from ..errors import SymkktInputError

        if isinstance(err, SymkktInputError):
            return [], f"none ({err.message})"
        raise
    points = []
    for i, p in enumerate(res.points):
        vec = tier.vec(tier.const(v) for v in p.u)
        decision = getattr(p, "decision", None)
        if getattr(decision, "kind", "ncf_kkt_point") == "ncf_kkt_direction":
            vec = vec / _norm(tier, vec)                 # a KKT direction: compare with its unit point
        value = decision.ncf_value if decision is not None else p.value
        text = (f"≈ {sympy.N(value, 20)}" if getattr(p, "numfield", None) is not None
                else format_number(value))
        points.append({"index": i, "vector": vec, "value": text, "sign": p.sign,
                       "decision": getattr(decision, "verdict", None)})
    if not points:
        return [], "none (the rank-one construction found no point for these data)"
    return points, (f"{len(points)} rank-one KKT point(s) of the constrained NCF (exact, each decided); "
                    "distances from the direction at escape: to each point high precision, to the rank-one "
                    "family through its b float64")


def _closest(tier, direction, known, net=None):
    """The known point nearest to û, and the distance from û to the rank-one family through each one's b."""
    best = None
    for p in known:
        d = _norm(tier, direction - p["vector"])
        if best is None or d < best[0]:
            best = (d, p)
    d, p = best
    out = {"index": p["index"], "distance": f"{float(d):.4g}", "value": p["value"], "sign": p["sign"],
           "decision": p["decision"]}
    fam = [(f, q["index"], q) for q in known
           for f in [family_distance(net, direction, q["vector"])] if f is not None] if net is not None else []
    if fam:
        f, j, q = min(fam, key=lambda t: t[:2])
        out.update(family_index=j, family_distance=f"{f:.4g}", family_value=q["value"],
                   family_decision=q["decision"])
    return out


def _rank_one_shape(net):
    """(p, weight shapes) when ``net`` is dense, bias-free, with one activation max(z, s z)^p (0 < s < 1) on
    every hidden layer and a linear output layer; else None."""
    layers = net.arch.layers
    if any(l.kind != "dense" or l.bias for l in layers) or len(layers) < 2:
        return None
    hidden = [net.rules[i] for i in range(len(layers) - 1)]
    last = net.rules[len(layers) - 1]
    if last.kind != "linear" or any(r.power is None or r.kind not in ("leaky_relu", "poly_leaky_relu")
                                    for r in hidden):
        return None
    if len({(r.plus, r.minus, r.power) for r in hidden}) != 1:
        return None
    return hidden[0].power, [tuple(sh["weight"]) for sh in net.param_shapes]


def family_distance(net, direction, known):
    """‖û − v‖ for the member v of the rank-one family through the known point's (b, ε) built from û.

    The family: W_1 = t_1 a_1 bᵀ, W_l = t_l a_l ã_{l−1}ᵀ, W_L = ε t_L ã_{L−1}ᵀ with non-negative unit a_l
    (for p > 1 constant on their support), ã = a^(∘p)/‖a^(∘p)‖, t_l = (p^(L−l)/K)^(1/2). b and ε are read
    off the known point (b ∝ W_1ᵀ𝟙, ε the sign of the entries of W_L); a_l is the normalized positive
    part of W_l ã_{l−1} (W_1 b for l = 1), or for p > 1 the normalized indicator of its positive
    entries. A member of the family is rebuilt exactly this way, so the distance is 0 on the family
    and otherwise an upper bound on the distance to it. float64; None when the net is not of the
    rank-one kind or a positive part vanishes.
    """
    shape = _rank_one_shape(net)
    if shape is None:
        return None
    p, shapes = shape
    u = np.array([float(x) for x in direction])
    v = np.array([float(x) for x in known])
    L = len(shapes)
    K = net.homogeneity().degree
    mats, mk, pos = [], [], 0
    for sh in shapes:
        size = sh[0] * sh[1]
        mats.append(u[pos:pos + size].reshape(sh))
        mk.append(v[pos:pos + size].reshape(sh))
        pos += size
    b = mk[0].sum(axis=0)
    if not np.linalg.norm(b) > 0:
        return None
    b = b / np.linalg.norm(b)
    eps = 1.0 if mk[-1].sum() > 0 else -1.0
    t = [math.sqrt(p ** (L - l) / K) for l in range(1, L + 1)]
    built, prev = [], b
    for l in range(L - 1):
        z = mats[l] @ prev
        a = np.maximum(z, 0.0) if p == 1 else (z > 0).astype(float)
        if not np.linalg.norm(a) > 0:
            return None
        a = a / np.linalg.norm(a)
        built.append(t[l] * np.outer(a, prev))
        at = a ** p
        prev = at / np.linalg.norm(at)
    built.append(eps * t[L - 1] * prev.reshape(1, -1))
    w = np.concatenate([m.ravel() for m in built])
    return float(np.linalg.norm(u - w))


def _blowup_check(K, taus, meas, escape, speed):
    """The blow-up bound and the norm lower bounds of the NCF flow, checked along the computed limit flow."""
    t = np.array([float(x) for x in taus])
    steps = np.array([float(b - a) for a, b in zip(taus[:-1], taus[1:])])   # accurate differences
    r = np.array([float(m[0]) for m in meas])
    nu = np.array([float(m[1]) for m in meas])
    tol = 1e-6
    drops = np.diff(nu)
    worst_drop = float(max(0.0, -drops.min())) if len(drops) else 0.0
    mono = worst_drop <= tol * max(1.0, float(np.abs(nu).max()))
    out = {"nu_nondecreasing": bool(mono), "largest_decrease_of_nu": worst_drop}
    if not mono:
        out["note"] = (f"N(u^) decreased by up to {worst_drop:.2g} along the computed flow: it runs along (or "
                       "across) a kink of the activations, where the gradient jumps and the RK4 steps are "
                       "less accurate")
    if K < 2:
        out.update(applies=False, violations=0,
                   text=f"no bound for K = {K} < 2; N(u^) non-decreasing along the flow: {'yes' if mono else 'NO'}")
        return out
    pos = nu > 1e-12 * max(1.0, float(np.abs(nu).max()))      # ν_k > 0 beyond rounding
    n = len(t)
    # from grid point k (N(û) = ν_k > 0), reaching |u| = r_j takes at most
    #   K > 2: (r_k^(2−K) − r_j^(2−K)) / ((K−2)·K·ν_k),   K = 2: log(r_j/r_k) / (2ν_k)
    # NCF-time units (÷ speed for this flow); the check compares the τ actually taken with it
    viol, worst = 0, 0.0
    idx = np.nonzero(pos)[0][:3000]
    for k in idx:
        taken = np.cumsum(steps[k:])
        if K == 2:
            allowed = np.log(r[k + 1:] / r[k]) / (2 * nu[k])
        else:
            allowed = (r[k] ** (2 - K) - r[k + 1:] ** (2 - K)) / ((K - 2) * K * nu[k])
        allowed = allowed / speed
        excess = taken - allowed          # with ν_k > 0 the norm must grow: allowed ≤ 0 otherwise
        scale = np.maximum(taken, 1e-300)
        bad = excess > tol * scale
        viol += int(bad.sum())
        if excess.size:
            worst = max(worst, float((excess / scale).max()))
    bound = math.inf
    if K > 2 and idx.size:
        bound = float(min(t[k] + blowup_bound(K, r[k], nu[k]) / speed for k in idx))
    esc_ok = None if escape is None or not math.isfinite(bound) else bool(float(escape) <= bound * (1 + tol))
    out.update(applies=True, violations=viol + (0 if esc_ok in (None, True) else 1),
               largest_relative_excess_time=worst,
               earliest_blowup_bound=None if not math.isfinite(bound) else bound, escape_before_bound=esc_ok)
    parts = [f"growth bounds from every grid point with N(u^) > 0 ({idx.size} of {n}) to every later one: "
             f"{'never violated' if viol == 0 else f'{viol} violations'} (time taken <= time allowed, relative "
             f"tolerance {tol:g}; largest excess {max(worst, 0.0):.1e})"]
    if K > 2 and math.isfinite(bound):
        said = "yes" if esc_ok else "no" if esc_ok is False else "no escape"
        parts.append(f"escape before the blow-up bound {bound:.6g}: {said}")
    parts.append(f"N(u^) non-decreasing: {'yes' if mono else 'NO'} (float64 checks of the high-precision values)")
    out["text"] = "; ".join(parts)
    return out


def _verdict(problem, tier, loss, runs, deltas, notes, radius, horizon_t, eta, init, nu0, meas, taus,
             limit, speed):
    K = problem.degree
    digits = tier.digits
    label = "float (observed), not proved" if tier.floats else TIER
    rates = []
    prev = None
    floor = (1e-11 if tier.floats else 10.0 ** (5 - digits)) * float(radius)
    at_floor = []
    for run in runs[1:]:
        dev = run.deviation
        if float(dev) <= floor:
            at_floor.append(run)
        if prev is not None and float(prev.deviation) > 0 and float(dev) > 0:
            num = tier.log(prev.deviation / dev)
            den = tier.log(tier.const(prev.delta) / tier.const(run.delta))
            run.rate = float(num / den)
            rates.append(run.rate)
        prev = run
    spread = None
    if limit.escaped and all(r.escaped for r in runs[1:]):
        t0 = limit.escape_time
        spread = max(abs(r.escape_time - t0) / t0 for r in runs[1:]) if len(runs) > 1 else tier.const(0)
    limit_text = ("du/dtau = grad N(u) (the NCF flow)" if loss == "square" else
                  "du/dtau = grad N(u)/2: the NCF flow at half speed, u_NCF(tau/2); escape times are in "
                  "tau units of this flow (NCF time = tau/2)")
    maxnu = max(float(m[1]) for m in meas)
    if not limit.escaped:
        if limit.stop == "collapse" or maxnu <= 0:
            verdict = "inconclusive"
            reason = (f"collapse alternative: the limit flow did not escape; |u| went from 1 to "
                      f"{float(limit.end_norm):.4g} by tau = {float(limit.end_time):.4g} with N(u^) <= "
                      f"{maxnu:.3g} throughout" + (" (<= 0: w collapses towards 0)" if maxnu <= 0 else ""))
        else:
            verdict = "inconclusive"
            reason = (f"no escape within the horizon: |u| = {float(limit.end_norm):.4g} at tau = "
                      f"{float(limit.end_time):.4g} ({limit.stop})")
    elif any(not r.escaped for r in runs[1:]):
        late = [r for r in runs[1:] if not r.escaped]
        t0 = float(limit.escape_time)
        far = any(float(r.end_time) >= t0 * (1 + REFUTE_TIME) for r in late)
        verdict = "refuted" if far else "inconclusive"
        reason = (f"delta = {', '.join(format_number(r.delta) for r in late)} did not escape although the limit "
                  f"flow escapes at tau = {t0:.6g}" + ("" if far else " (the run ended before 1.1 x that time)"))
    elif at_floor:
        verdict = "inconclusive"
        reason = (f"the deviation for delta = {', '.join(format_number(r.delta) for r in at_floor)} is at the "
                  f"rounding floor {floor:.1e}: raise --precision")
    else:
        sp = float(spread)
        rate_ok = bool(rates) and all(abs(r - K) <= RATE_WINDOW * K for r in rates)
        rate_bad = any(abs(r - K) > REFUTE_RATE * K for r in rates)
        if sp <= TIME_TOL and rate_ok:
            verdict = "holds"
            reason = (f"escape times agree to {sp:.2g} (relative, tolerance {TIME_TOL:g}) and the deviation from "
                      f"the limit flow shrinks like delta^{', '.join(f'{r:.3f}' for r in rates)} (K = {K}); "
                      f"{label}")
        elif sp > REFUTE_TIME or rate_bad:
            verdict = "refuted"
            reason = (f"escape times differ by {sp:.2g} (relative) or a deviation rate "
                      f"({', '.join(f'{r:.3f}' for r in rates)}) is far from K = {K}; {label}")
        else:
            verdict = "inconclusive"
            why = "give two or more delta values for a rate" if not rates else \
                f"escape-time spread {sp:.2g}, rates {', '.join(f'{r:.3f}' for r in rates)}"
            reason = f"between the windows: {why} (K = {K}); {label}"
    return SmallInitResult(
        verdict=verdict, reason=reason, tier=label, digits=digits, loss=loss, degree=K, radius=radius,
        horizon=horizon_t, step_rule=(f"steps h = min({format_number(eta)}*|u|/|F(u)|, horizon/100) from the "
                                      f"limit flow, shared by all runs; grid runs on to 1.5R"),
        init_normalized=init.normalized, nu0=nu0, limit_text=limit_text, notes=notes, runs=runs,
        time_spread=spread, rates=rates, grid_steps=len(taus) - 1,
        blowup=_blowup_check(K, taus, meas, limit.escape_time if limit.escaped else None, speed),
        known_text="")
