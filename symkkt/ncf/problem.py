"""The constrained neural correlation function and exact decisions of its KKT points [K].

For a network H(x; u), positively K-homogeneous in its parameters u (bias-free, or with a bias
in the first weight layer only), and data (x_i, y_i) with any exact targets y_i, the NCF is

    N(u) = Σ_i y_i H(x_i; u),    and the constrained NCF is    max N(u) subject to ‖u‖² = 1.

u is a (Clarke) **KKT point** when ‖u‖ = 1 and λu ∈ ∂°N(u) for some real λ. Euler's identity
⟨h, u⟩ = K·N(u) for every Clarke element h forces λ = K·N(u), so the test is
**K·N(u)·u ∈ ∂°N(u)**. u ≠ 0 is a **KKT direction** when u/‖u‖ is a KKT point; since
∂°N(cu) = c^(K−1)·∂°N(u) for c > 0 this is **K·N(u)·u ∈ ‖u‖²·∂°N(u)**, which keeps rational
points rational. The same condition describes KKT points of min N (λ has no sign), so the
result reports the sign of N(û) (``positive``, ``zero``, ``negative``); a KKT point of the
maximization problem in the sense of [K] with N ≥ 0 is a *non-negative* one.

How it is decided (exactly, in the number field of u, the data and the activation constants):

1. an exact forward pass gives N(u), ‖u‖² and the kink units (pre-activation exactly 0) of
   every point with y_i ≠ 0 (points with y_i = 0 do not enter N, nor do points x_i = 0 when
   there is no first-layer bias: then H(0; ·) ≡ 0);
2. no kink: ∂°N(u) = {∇N(u)} and the test is one exact comparison (a refutation gives
   y = ∇N − t with y·t < y·∇N);
3. kinks, ``clarke_set="clarke"`` (default): ∂°N(u) is the convex hull of the limiting gradients
   of the *sum* N. Along u + t·d (t ↓ 0) a direction d fixes the side of every kink unit of
   every point at once, so the limiting gradients come from **joint** sign patterns over all
   kink units of all points: Σ_i y_i h_i(g_i), where h_i(g) is the chain rule of H(x_i; ·) with
   slope g_u = 1 or s_u at each kink unit. Patterns are enumerated as the cells of the
   arrangement of the kink units' gradients in direction space, layer by layer, with the exact
   strict-cone LP of :mod:`symkkt.kkt` (a direction d realizing each cell; Gordan vectors where
   first-layer signs are incompatible, also across different points). The test is then a
   convex combination of the realized pattern gradients (:func:`symkkt.linear.nonnegative_solution`);
4. ``clarke_set="chain_rule_hull"``: the set G(u) = Σ_i y_i conv{h_i(g) : vertex slopes}
   (independent slopes per unit and per point; y_i·conv V = conv(y_i V) for every sign of y_i).
   G(u) contains ∂°N(u), so a refutation for G refutes Clarke-KKT too.

The Clarke decision is exact when every joint vertex pattern that is not Gordan-excluded is
realized by a direction (always so when the kink gradients are linearly independent or all kink
units are in the first weight layer). Otherwise ``holds`` uses realized patterns only, a
refutation falls back to G(u), and in between the answer is ``inconclusive`` with the reason.

Trusted: the exact field arithmetic (:mod:`symkkt.field`), the network passes
(:mod:`symkkt.network`), the exact LP (:mod:`symkkt.linear`) and the pattern enumeration of
:mod:`symkkt.kkt`. Certificates of every decided answer are re-checked by :mod:`symkkt.kernel.ncf`.

Examples
--------
>>> problem, u = ncf_from_dicts(
...     {"input": [2], "layers": [{"dense": {"width": 1, "activation": {"leaky_relu": {"slope": "1/2"}}}},
...                               {"dense": {"width": 1}}]},
...     {"points": [{"x": [1, 0], "y": 1}, {"x": [-1, 0], "y": -1}]},
...     [{"weight": [["sqrt(2)/2", 0]]}, {"weight": [["sqrt(2)/2"]]}])
>>> problem.degree, problem.value(u)
(2, 3/4)
>>> r = problem.decide(u)
>>> r.verdict, str(r.ncf_value), r.sign, r.clarke_set, str(r.multiplier)
('holds', '3/4', 'positive', 'gradient', '3/2')
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy

from ..errors import NotHomogeneousError, UsageError, VERDICT_EXIT
from ..field import as_sympy
from ..kkt import MaxMarginProblem, VertexCapExceeded, _Budget, _Cell
from ..linear import Feasible, nonnegative_solution, rank_profile
from ..network import Network
from ..numbers import format_number
from ..tensor import ExactDomain

#: the sets a decision can be made for: machine name -> description
CLARKE_SETS = {
    "gradient": "gradient (no point with y_i != 0 sits on a kink: the Clarke set of N is {grad N(u)})",
    "clarke": "Clarke subdifferential of N: convex hull of limiting gradients, each joint vertex pattern "
              "of all points' kink units realized by one direction",
    "chain_rule_hull": "sum over points of y_i times the convex hull of chain-rule elements with independent "
                       "per-unit, per-point slopes (contains the Clarke subdifferential of N)",
}

__all__ = ["NCFProblem", "NCFResult", "load_ncf", "ncf_from_dicts", "CLARKE_SETS"]


def _fmt(v):
    """The number in the number grammar; an algebraic number outside it (a ``CRootOf`` expression)
    as ``algebraic ≈ <30 digits>``."""
    v = as_sympy(v)
    if v.has(sympy.CRootOf):
        return f"algebraic ≈ {sympy.N(v, 30)}"
    return format_number(v)


@dataclass
class NCFResult:
    """The decision on one point u of the constrained NCF, with its witness and figures (exact).

    ``verdict`` is ``"holds"``, ``"refuted"`` or ``"inconclusive"``; ``kind`` is
    ``"ncf_kkt_point"`` or ``"ncf_kkt_direction"``. ``value`` is N(u), ``ncf_value`` is N(û)
    with û = u/‖u‖, ``sign`` its sign; ``multiplier`` λ = K·N(u)/‖u‖² (λ = K·N(u) for a unit u),
    the number with λ·u ∈ ∂°N(u) at a KKT direction. ``clarke_set`` names the set used (a key
    of :data:`CLARKE_SETS`); ``clarke`` lists the Clarke element as weighted joint patterns
    (weight, slopes per point, realizing direction) or, for the hull, per-point convex
    combinations. ``witness`` holds the failing condition of a refutation: ``not_unit`` with
    the squared norm, or ``stationarity`` with an exact Farkas vector y (y·t < y·h for every h
    of the set, t = K·N(u)·u/‖u‖²) and, for the Clarke set, the Gordan-excluded joint patterns.
    ``layer_norms`` are the exact ‖W_l‖² (first-layer bias included), ``layer_degrees`` the
    degrees d_l of N in W_l, ``norm_identity`` compares ‖W_l‖²/‖u‖² with d_l/K (forced at every
    KKT direction with N ≠ 0, by Euler's identity per layer), ``rank_one`` the exact rank of
    each weight matrix. Point indices are 0-based.
    """

    verdict: str
    reason: str
    kind: str
    problem: "NCFProblem"
    u: list
    value: object = None
    ncf_value: object = None
    sign: str = ""
    squared_norm: object = None
    multiplier: object = None
    clarke_set: str = "clarke"
    clarke: list = field(default_factory=list)
    kinks: dict = field(default_factory=dict)
    witness: dict = field(default_factory=dict)
    layer_norms: list = field(default_factory=list)
    layer_degrees: list = field(default_factory=list)
    norm_identity: dict = field(default_factory=dict)
    rank_one: list = field(default_factory=list)
    patterns: dict = field(default_factory=dict)
    tier: str = "exact"

    @property
    def exit_code(self):
        return VERDICT_EXIT[self.verdict]

    @property
    def clarke_set_description(self):
        return CLARKE_SETS[self.clarke_set]

    def to_json(self):
        """A JSON-ready dict; numbers are exact strings in the input grammar."""
        out = {"verdict": self.verdict, "reason": self.reason, "claim": self.kind, "tier": self.tier,
               "ncf_value": _fmt(self.ncf_value), "ncf_value_at_u": _fmt(self.value), "sign": self.sign,
               "squared_norm": _fmt(self.squared_norm), "degree": self.problem.degree,
               "clarke_set": self.clarke_set, "clarke_set_description": self.clarke_set_description,
               "kinks": {str(k): v for k, v in self.kinks.items()},
               "layer_norms": [_fmt(v) for v in self.layer_norms],
               "layer_degrees": list(self.layer_degrees),
               "norm_identity": {"statement": "|W_l|^2 / |u|^2 = d_l / K",
                                 "predicted": [_fmt(v) for v in self.norm_identity.get("predicted", [])],
                                 "holds": self.norm_identity.get("holds")},
               "rank_one": [dict(r) for r in self.rank_one]}
        if self.patterns:
            out["patterns"] = dict(self.patterns)
        if self.multiplier is not None:
            out["multiplier"] = _fmt(self.multiplier)
        if self.verdict == "holds":
            out["witness"] = {"multiplier": _fmt(self.multiplier), **_clarke_json(self.clarke_set, self.clarke)}
        elif self.verdict == "refuted":
            out["witness"] = _witness_json(self.witness)
        return out

    def certificate(self):
        """The certificate of this decision (``None`` for inconclusive results)."""
        from .certificate import ncf_certificate

        return ncf_certificate(self)

    def __repr__(self):
        f = _fmt
        lines = [f"NCFResult({self.kind}: {self.verdict} — {self.reason})",
                 f"  N(u/|u|)     {f(self.ncf_value)} ({self.sign}; exact)",
                 f"  |u|^2        {f(self.squared_norm)}",
                 f"  degree K     {self.problem.degree}",
                 f"  Clarke set   {self.clarke_set}: {self.clarke_set_description}"]
        if self.kinks:
            lines.append("  kinks        " + "; ".join(f"point {k}: {', '.join(v)}" for k, v in sorted(self.kinks.items())))
        if self.patterns:
            lines.append(f"  patterns     {self.patterns}")
        if self.multiplier is not None:
            lines.append(f"  lambda       {f(self.multiplier)} (= K N(u) / |u|^2)")
        if self.verdict == "holds" and self.clarke:
            lines.append(f"  Clarke elt   {_clarke_json(self.clarke_set, self.clarke)}")
        lines.append(f"  |W_l|^2      {[f(v) for v in self.layer_norms]}"
                     + (f"  (d_l/K |u|^2 = {[f(v) for v in self.norm_identity['predicted']]}: "
                        f"{'equal' if self.norm_identity['holds'] else 'not equal'})" if self.norm_identity else ""))
        lines.append("  rank         " + ", ".join(f"W{r['layer']}: {r['rank']}{' (rank one)' if r['rank_one'] else ''}"
                                           for r in self.rank_one))
        if self.verdict == "refuted":
            lines.append(f"  witness      {_witness_json(self.witness)}")
        lines.append(f"  tier         {self.tier}")
        return "\n".join(lines)


def _clarke_json(clarke_set, clarke):
    if clarke_set == "clarke":
        return {"terms": [{"weight": _fmt(t["weight"]),
                           "slopes": {str(k): {u: _fmt(g) for u, g in s.items()} for k, s in t["slopes"].items()},
                           "direction": [_fmt(v) for v in t["direction"]]} for t in clarke]}
    if clarke_set == "chain_rule_hull":
        return {"points": [{"point": e["point"], "terms": [{"weight": _fmt(t["weight"]),
                                                           "slopes": {u: _fmt(g) for u, g in t["slopes"].items()}}
                                                          for t in e["terms"]]} for e in clarke]}
    return {}


def _witness_json(w):
    out = {"reason": w["reason"]}
    if "squared_norm" in w:
        out["squared_norm"] = _fmt(w["squared_norm"])
    if "farkas" in w:
        out["farkas"] = [_fmt(v) for v in w["farkas"]]
    if w.get("excluded"):
        out["excluded"] = [{"signs": {str(k): dict(s) for k, s in e["signs"].items()},
                            "gordan": {str(k): {u: _fmt(v) for u, v in g.items()} for k, g in e["gordan"].items()}}
                           for e in w["excluded"]]
    return out


class NCFProblem:
    """The constrained NCF  max N(u) = Σ_i y_i H(x_i; u)  subject to ‖u‖² = 1.

    Parameters
    ----------
    network : Network or symkkt.spec.Architecture
        Positively homogeneous in the parameters (else :class:`~symkkt.errors.NotHomogeneousError`).
    data : symkkt.spec.Dataset
        Points x_i and targets y_i, any exact real numbers.
    """

    def __init__(self, network, data, source=None):
        self.network = network if isinstance(network, Network) else Network(network)
        self.data = data
        h = self.network.homogeneity()
        if not h.holds:
            raise NotHomogeneousError(f"the NCF needs a positively homogeneous network: {h.reason}", source)
        self.degree = h.degree
        self.layer_degrees = self._layer_degrees()

    def _layer_degrees(self):
        """d_l with N(.., c·W_l, ..) = c^(d_l) N: the product of the activation powers from layer l on."""
        net, powers = self.network, []
        for i in net.arch.weight_layers:
            p, _ = net.rules[i].homogeneity()
            powers.append(p)
        return [int(sympy.prod(powers[l:])) for l in range(len(powers))]

    def __repr__(self):
        return (f"NCFProblem: maximize N(u) = sum_i y_i H(x_i; u) subject to |u|^2 = 1; "
                f"{len(self.data.y)} points, m = {self.network.num_parameters} parameters, K = {self.degree}\n"
                f"  KKT: K N(u) u in Clarke(N)(u)")

    # -- exact values ---------------------------------------------------------------------------
    def domain(self, u):
        """The exact domain for u, the data, the targets and the activation constants."""
        numbers = list(u) + [v for x in self.data.X for v in x] + list(self.data.y) + self.network.constants()
        return ExactDomain.for_numbers(numbers)

    def _theta(self, u):
        from ..api import as_theta

        return as_theta(self.network, u)

    def value(self, u):
        """Exact N(u) = Σ_i y_i H(x_i; u) (a sympy number); u flat in parameter order.

        Examples
        --------
        >>> problem, u = ncf_from_dicts({"input": [1], "layers": [{"dense": {"width": 1}}]},
        ...                             {"points": [{"x": [2], "y": "-1/3"}]}, [{"weight": [[3]]}])
        >>> problem.value(u)
        -2
        """
        u = self._theta(u)
        dom = self.domain(u)
        N, _, _ = self._forward(dom, u)
        return N.to_sympy()

    def _forward(self, dom, u):
        Kf = dom.field
        trace = self.network.forward(dom, list(u), [list(x) for x in self.data.X])
        out = trace.output.elements()
        Y = [Kf.element(y) for y in self.data.y]
        N = Kf.element(0)
        for y, o in zip(Y, out):
            if not y.is_zero():
                N = N + y * o
        return N, trace, Y

    def gradient(self, u, slopes=None):
        """∇N(u) as exact sympy numbers (at kinks: the chain rule with ``slopes``, one dict per
        point ``{(layer_index, unit): g}``; default the lower end of each Clarke interval)."""
        u = self._theta(u)
        dom = self.domain(u)
        _, trace, Y = self._forward(dom, u)
        return [v.to_sympy() for v in self._combined(trace, Y, [i for i, y in enumerate(Y) if not y.is_zero()],
                                                     slopes)]

    def _combined(self, trace, Y, points, slopes=None):
        """Σ_i y_i h_i over ``points`` (field elements)."""
        Kf = trace.domain.field
        m = self.network.num_parameters
        total = [Kf.element(0)] * m
        if not points:
            return total
        J = self.network.jacobian(trace, list(points), [(slopes or {}).get(i, {}) if isinstance(slopes, dict)
                                                        else {} for i in points]).elements()
        n = len(points)
        for c, i in enumerate(points):
            for r in range(m):
                v = J[r * n + c]
                if not v.is_zero():
                    total[r] = total[r] + Y[i] * v
        return total

    # -- figures ---------------------------------------------------------------------------------
    def _layers(self, u, Kf):
        """Per weight layer: (‖W_l‖², rank of W_l as a matrix of rows = output units)."""
        net, norms, ranks, pos = self.network, [], [], 0
        zero, one = Kf.element(0), Kf.element(1)
        for w, shapes in enumerate(net.param_shapes, start=1):
            rows_n = shapes["weight"][0]
            size = int(sympy.prod(shapes["weight"]))
            block = [Kf.element(v) for v in u[pos:pos + size]]
            pos += size
            total = sum((v * v for v in block), zero)
            if shapes.get("bias"):
                bias = [Kf.element(v) for v in u[pos:pos + shapes["bias"][0]]]
                pos += shapes["bias"][0]
                total = total + sum((v * v for v in bias), zero)
            cols = size // rows_n
            rows = [block[r * cols:(r + 1) * cols] for r in range(rows_n)]
            nonzero = [r for r in rows if any(not v.is_zero() for v in r)]
            rank = len(rank_profile(nonzero, zero, one)[0]) if nonzero else 0
            norms.append(total)
            ranks.append({"layer": w, "rank": rank, "rank_one": rank == 1})
        return norms, ranks

    # -- decision --------------------------------------------------------------------------------
    def decide(self, u, direction=False, clarke_set="clarke", field=None):
        """Decide whether u is a KKT point (or, with ``direction``, a KKT direction) of the constrained NCF.

        Parameters
        ----------
        u : list or symkkt.spec.Parameters
            Exact numbers in :attr:`Network.parameter_names` order, or the parameters file form.
        direction : bool
            Decide "u/‖u‖ is a KKT point" instead of "u is a KKT point" (which needs ‖u‖ = 1).
        clarke_set : {"clarke", "chain_rule_hull"}
            The set of generalized gradients of N (see the module docstring). Without kinks on
            points with y_i ≠ 0 both are {∇N(u)} and the result says ``"gradient"``.

        Returns
        -------
        NCFResult

        Raises
        ------
        symkkt.errors.UsageError
            u = 0 (neither a point of the sphere nor a direction), or an unknown ``clarke_set``.
        """
        if clarke_set not in ("clarke", "chain_rule_hull"):
            raise UsageError(f"clarke_set must be 'clarke' or 'chain_rule_hull', not {clarke_set!r}",
                             "<python>", "clarke_set")
        u = self._theta(u) if field is None else list(u)
        if len(u) != self.network.num_parameters:
            raise UsageError(f"u has {len(u)} entries, the network {self.network.num_parameters} parameters",
                             "<python>", "u")
        if all(v == 0 for v in u):
            raise UsageError("u = 0 is neither a point of the unit sphere nor a direction (N(0) = 0)",
                             "<python>", "u")
        kind = "ncf_kkt_direction" if direction else "ncf_kkt_point"
        dom = self.domain(u) if field is None else ExactDomain(field)
        Kf = dom.field
        zero, one = Kf.element(0), Kf.element(1)
        N, trace, Y = self._forward(dom, u)
        th = [Kf.element(v) for v in u]
        norm2 = sum((t * t for t in th), zero)
        K = self.degree
        res = NCFResult("inconclusive", "", kind, self, list(u), tier="exact", clarke_set=clarke_set)
        res.value, res.squared_norm = N.to_sympy(), norm2.to_sympy()
        res.ncf_value = _normalized(res.value, res.squared_norm, K)
        res.sign = {1: "positive", 0: "zero", -1: "negative"}[N.sign()]
        norms, res.rank_one = self._layers(u, Kf)
        res.layer_norms = [v.to_sympy() for v in norms]
        res.layer_degrees = list(self.layer_degrees)
        predicted = [norm2 * Kf.element(sympy.Rational(d, K)) for d in self.layer_degrees]
        res.norm_identity = {"predicted": [v.to_sympy() for v in predicted],
                             "holds": all(a == b for a, b in zip(norms, predicted))}
        lam = N * Kf.element(K) / norm2
        res.multiplier = lam.to_sympy()
        net = self.network
        active = [i for i, y in enumerate(Y) if not y.is_zero() and not self._null_point(i)]
        kinks = {i: ks for i in active if (ks := net.kinks(trace, i))}
        res.kinks = {i: [net.unit_label(li, un) for li, un in ks] for i, ks in kinks.items()}
        if not direction and norm2 != one:
            res.verdict = "refuted"
            res.reason = f"|u|^2 = {_fmt(res.squared_norm)} is not 1: u is not on the unit sphere"
            res.witness = {"reason": "not_unit", "squared_norm": res.squared_norm}
            res.multiplier = None
            return res
        target = [lam * t for t in th]
        smooth = self._combined(trace, Y, [i for i in active if i not in kinks])
        try:
            if not kinks:
                res.clarke_set = "gradient"
                self._decide_gradient(res, target, smooth)
            elif clarke_set == "clarke":
                self._decide_clarke(res, trace, Y, kinks, target, smooth)
            else:
                self._decide_hull(res, trace, Y, kinks, target, smooth, final=True)
        except VertexCapExceeded as err:
            res.verdict, res.reason, res.clarke = "inconclusive", str(err), []
        if res.verdict == "holds" and not N.is_zero() and not res.norm_identity["holds"]:
            raise RuntimeError("internal error: per-layer Euler identity fails at a KKT point")  # pragma: no cover
        if res.verdict == "holds":
            res.reason = self._holds_reason(res)
        return res

    def _null_point(self, i):
        """x_i = 0 in a net without first-layer bias whose activations vanish at 0: H(0; ·) ≡ 0, so
        the point drops out of N (its units all sit at 0, but no slope of theirs matters)."""
        net = self.network
        return (all(v == 0 for v in self.data.X[i]) and not net.arch.layers[net.arch.weight_layers[0]].bias
                and all(rule.value_at_zero() == 0 for rule in net.rules.values()))

    def _holds_reason(self, res):
        what = "KKT direction" if res.kind == "ncf_kkt_direction" else "KKT point"
        base = {"gradient": f"u is a {what} of the constrained NCF: K N(u) u = |u|^2 grad N(u)",
                "clarke": f"u is a {what} of the constrained NCF (Clarke element: limiting gradients "
                          "of N, each joint pattern realized by a direction)",
                "chain_rule_hull": f"u is a {what} of the constrained NCF with respect to the chain-rule "
                                   "hull (not a proof for the Clarke subdifferential)"}[res.clarke_set]
        tail = {"positive": "; N > 0: a positive KKT point of max N",
                "zero": "; N = 0: a non-negative KKT point with value 0",
                "negative": "; N < 0: stationary on the sphere with a negative value (a KKT point of min N, "
                            "not a non-negative KKT point of max N)"}[res.sign]
        return base + tail

    def _decide_gradient(self, res, target, smooth):
        if all(a == b for a, b in zip(target, smooth)):
            res.verdict = "holds"
            return
        res.verdict = "refuted"
        res.reason = "stationarity fails: K N(u) u != |u|^2 grad N(u) (no kink: the Clarke set is the gradient)"
        res.witness = {"reason": "stationarity", "farkas": [(g - t).to_sympy() for g, t in zip(smooth, target)]}

    # -- Clarke: joint patterns --------------------------------------------------------------
    def _slope(self, unit, sigma):
        rule = self.network.rules[unit[1]]
        return rule.plus if sigma > 0 else rule.minus

    def joint_patterns(self, trace, kinks):
        """Enumerate the joint vertex patterns of all kink units of all points realized near u.

        Units are ``(point, layer_index, unit)``. Returns ``(cells, excluded, exact, free,
        truncated)``: cells with their sign dict and realizing direction, Gordan exclusions over
        first-layer units (possibly of several points), whether every non-excluded joint pattern
        is realized, the free units (first layer, ∇z = 0), and ``None`` or the message of the
        ``vertices`` limit when the enumeration stopped there in the last kink layer (the cells
        are then complete patterns, realized, but not all of them: enough to prove a Clarke
        element, never to refute).
        """
        net = self.network
        Kf = trace.domain.field
        zero, one = Kf.element(0), Kf.element(1)
        m = net.num_parameters
        first_layer = net.arch.weight_layers[0]
        budget = _Budget()
        cells, excluded, free = [_Cell({}, [], None)], [], set()
        layers = sorted({li for ks in kinks.values() for li, _ in ks})
        first_count = None
        truncated = None
        for li in layers:
            if li != first_layer and first_count is None:
                first_count = len(cells)
            new = []
            try:
                self._extend_layer(trace, kinks, li, cells, new, first_layer, zero, one, excluded, free, budget, m)
            except VertexCapExceeded as err:
                if li != layers[-1] or not new:
                    raise
                truncated = str(err)         # complete patterns so far: enough to prove `holds`, not to refute
            cells = new
        if first_count is None:
            first_count = len(cells)
        deeper = sum(1 for ks in kinks.values() for li, _ in ks if li != first_layer)
        exact = truncated is None and len(cells) == first_count * 2 ** deeper
        for c in cells:                     # guard: re-derive each pattern by forward mode along d
            d = c.d if c.d is not None else [zero] * m
            for i in kinks:
                dz = net.jvp(trace, i, d)
                for (j, li, un), s in c.signs.items():
                    if j == i and dz[li][un].sign() != (0 if (j, li, un) in free else s):
                        raise RuntimeError("internal error: a direction does not realize its joint pattern")
        return cells, excluded, exact, free, truncated

    def _extend_layer(self, trace, kinks, li, cells, new, first_layer, zero, one, excluded, free, budget, m):
        """Extend every cell by the kink units of layer ``li`` (appending to ``new``)."""
        net = self.network
        for c in cells:
            units, grads = [], []
            for i in sorted(kinks):
                here = [un for l, un in kinks[i] if l == li]
                if not here:
                    continue
                slopes = {(l, un): self._slope((j, l, un), s) for (j, l, un), s in c.signs.items() if j == i}
                flat = net.preactivation_jacobian(trace, i, li, here, slopes).elements()
                units += [(i, li, un) for un in here]
                grads += [[flat[p * len(here) + j] for p in range(m)] for j in range(len(here))]
            new += MaxMarginProblem._extend(c, units, grads, li == first_layer, zero, one, excluded, free,
                                            lambda n: budget.check(len(new) + n, f"{len(units)} kink units"))

    def _decide_clarke(self, res, trace, Y, kinks, target, smooth):
        net = self.network
        Kf = trace.domain.field
        zero, one = Kf.element(0), Kf.element(1)
        m = net.num_parameters
        cells, excluded, exact, free, truncated = self.joint_patterns(trace, kinks)
        total = 2 ** sum(len(ks) - sum(1 for li, un in ks if (i, li, un) in free) for i, ks in kinks.items())
        res.patterns = {"realized": len(cells), "vertex_patterns": total, "gordan_excluded": len(excluded),
                        "exact": exact, "stopped_at_limit": truncated is not None}
        label = net.unit_label
        columns = []
        points = sorted(kinks)
        for c in cells:
            per = {i: {(li, un): self._slope((j, li, un), s) for (j, li, un), s in c.signs.items() if j == i}
                   for i in points}
            columns.append(per)
        J = net.jacobian(trace, [i for _ in cells for i in points],
                         [per[i] for per in columns for i in points]).elements() if cells else []
        n = len(cells) * len(points)
        cols = []
        for ci in range(len(cells)):
            v = [zero] * m
            for pj, i in enumerate(points):
                col = ci * len(points) + pj
                for r in range(m):
                    h = J[r * n + col]
                    if not h.is_zero():
                        v[r] = v[r] + Y[i] * h
            cols.append(v)
        rhs = [t - s for t, s in zip(target, smooth)] + [one]
        A = [[cols[c][r] for c in range(len(cols))] for r in range(m)] + [[one] * len(cols)]
        sol = nonnegative_solution(A, rhs, lambda x: x.sign(), zero=zero, one=one)
        excl_json = [_exclusion(e, label) for e in excluded]
        if isinstance(sol, Feasible):
            res.verdict = "holds"
            res.clarke = [{"weight": mu.to_sympy(),
                           "slopes": {i: {label(li, un): as_sympy(g) for (li, un), g in per[i].items()} for i in points},
                           "direction": [v.to_sympy() for v in (c.d if c.d is not None else [zero] * m)]}
                          for mu, per, c in zip(sol.x, columns, cells) if not mu.is_zero()]
            return
        if truncated is not None:           # the patterns not enumerated might still contain K N(u) u
            raise VertexCapExceeded(truncated)
        if exact:
            res.verdict = "refuted"
            res.reason = ("stationarity fails: K N(u) u / |u|^2 is not in the Clarke subdifferential of N "
                          f"({len(cells)} realized joint patterns"
                          + (f", {len(excluded)} Gordan-excluded" if excluded else "") + ": a separating Farkas vector)")
            res.witness = {"reason": "stationarity", "farkas": [v.to_sympy() for v in sol.y[:m]], "excluded": excl_json}
            return
        if self._decide_hull(res, trace, Y, kinks, target, smooth, final=False):
            return
        res.verdict, res.clarke = "inconclusive", []
        res.reason = (f"K N(u) u / |u|^2 lies in the chain-rule hull G(u) but not in the hull of the {len(cells)} "
                      f"joint patterns realized by a direction (of {total} vertex patterns, {len(excluded)} "
                      "Gordan-excluded): degeneracy at kinks leaves the Clarke set undecided")

    # -- chain-rule hull G(u) ----------------------------------------------------------------
    def _decide_hull(self, res, trace, Y, kinks, target, smooth, final):
        """G(u) = Σ_i y_i conv{h_i(g)}: per point convex weights. ``final``: also decide holds."""
        net = self.network
        Kf = trace.domain.field
        zero, one = Kf.element(0), Kf.element(1)
        m = net.num_parameters
        points = sorted(kinks)
        count = sum(2 ** len(kinks[i]) for i in points)
        _Budget().check(count, f"{count} vertex patterns of the chain-rule hull")
        cols, meta = [], []
        for i in points:
            ends = [net.rules[li].clarke_interval() for li, _ in kinks[i]]
            for v in itertools.product(*ends):
                meta.append((i, dict(zip(kinks[i], v))))
        J = net.jacobian(trace, [i for i, _ in meta], [g for _, g in meta]).elements()
        n = len(meta)
        A = [[Y[meta[c][0]] * J[r * n + c] for c in range(n)] for r in range(m)]
        A += [[one if meta[c][0] == i else zero for c in range(n)] for i in points]
        rhs = [t - s for t, s in zip(target, smooth)] + [one] * len(points)
        sol = nonnegative_solution(A, rhs, lambda x: x.sign(), zero=zero, one=one)
        if isinstance(sol, Feasible):
            if not final:
                return False
            res.verdict, res.clarke_set = "holds", "chain_rule_hull"
            label = net.unit_label
            res.clarke = [{"point": i, "terms": [{"weight": mu.to_sympy(),
                                                  "slopes": {label(li, un): as_sympy(g) for (li, un), g in gs.items()}}
                                                 for (j, gs), mu in zip(meta, sol.x) if j == i and not mu.is_zero()]}
                          for i in points]
            return True
        res.verdict, res.clarke_set = "refuted", "chain_rule_hull"
        res.reason = ("stationarity fails: K N(u) u / |u|^2 is not in the chain-rule hull G(u) of N, "
                      "which contains the Clarke subdifferential (a separating Farkas vector)")
        res.witness = {"reason": "stationarity", "farkas": [v.to_sympy() for v in sol.y[:m]]}
        return True


def _exclusion(e, label):
    """A Gordan exclusion over joint units ``(point, layer, unit)`` in certificate form (per point)."""
    signs, gordan = {}, {}
    for (i, li, un), s in e["signs"].items():
        signs.setdefault(i, {})[label(li, un)] = s
    for (i, li, un), v in e["gordan"].items():
        gordan.setdefault(i, {})[label(li, un)] = v.to_sympy()
    return {"signs": signs, "gordan": gordan}


def _normalized(value, norm2, K):
    """N(u/‖u‖) = N(u) / ‖u‖^K, exactly."""
    if norm2 == 1:
        return value
    if value.has(sympy.CRootOf) or norm2.has(sympy.CRootOf):
        return value / sympy.sqrt(norm2) ** K
    out = sympy.radsimp(value / sympy.sqrt(norm2) ** K)
    return out


# -- loading ----------------------------------------------------------------------------------
def load_ncf(arch_path, data_path, params_path=None, float_input=False):
    """Read ARCH, DATA (any exact targets) and optionally PARAMS: ``(NCFProblem, u or None)``.

    Raises :class:`~symkkt.errors.SymkktInputError` subclasses on bad input (a network that is
    not positively homogeneous is a :class:`~symkkt.errors.NotHomogeneousError` naming ARCH).
    """
    from ..spec import load_architecture, load_data, load_parameters

    arch = load_architecture(arch_path)
    data = load_data(data_path, arch, float_input=float_input)
    problem = NCFProblem(Network(arch), data, source=str(arch_path))
    u = None
    if params_path is not None:
        u = problem.network.flatten(load_parameters(params_path, arch, float_input=float_input))
    return problem, u


def ncf_from_dicts(arch, data, params=None, float_input=False):
    """Build ``(NCFProblem, u or None)`` from the input-file forms (as :func:`load_ncf`)."""
    from ..api import as_theta
    from ..spec import Architecture, Dataset, architecture_from_json, data_from_json

    if not isinstance(arch, Architecture):
        arch = architecture_from_json(arch)
    if not isinstance(data, Dataset):
        data = data_from_json(data, arch=arch, float_input=float_input)
    problem = NCFProblem(Network(arch), data, source="<python>")
    u = None if params is None else as_theta(problem.network, params, float_input=float_input)
    return problem, u
