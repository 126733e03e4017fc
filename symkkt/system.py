"""The KKT system of P_Φ at a parameter point, written out symbolically in the user's own symbols.

:func:`kkt_system` fixes the activation pattern of every data point at θ (the exact signs of the
pre-activations, from an exact forward pass) and writes, in sympy expressions of the parameter
symbols (named as :attr:`Network.parameter_names`, ``W1[0,0]``, ...):

- the margins q_k(θ) = y_k Φ(θ; x_k) and the constraints q_k ≥ 1 (active: q_k = 1 at θ, exactly);
- stationarity θ_j = Σ_k λ_k y_k ∂Φ(θ; x_k)/∂θ_j, one equation per parameter;
- complementary slackness λ_k = 0 for the inactive points, λ_k ≥ 0 for the others;
- one slope symbol ``s_k[L:U]`` for every unit U of weight layer L whose pre-activation on point
  k is exactly 0 at θ, with the admissible interval of its activation at 0
  (:meth:`ActivationRule.clarke_interval <symkkt.activations.ActivationRule.clarke_interval>`:
  [0, 1] for relu, [min(s, 1), max(s, 1)] for leaky relu with slope s; {0} for max(z, 0)^p and
  other piecewise powers with p > 1, which are differentiable at 0 with derivative 0).

On the fixed pattern each unit is one branch c±·z^p of its activation; a unit with z = 0 at θ is
replaced by its first-order model s·z (s the slope symbol), which has the value σ(0) = 0 and, for
each admissible s, the derivative of a chain-rule element at θ. The expressions therefore have,
at θ, exactly the values and first derivatives the KKT conditions use: q_k evaluates to the exact
margin, and the right-hand sides to Σ_k λ_k y_k h_k with h_k the chain-rule element of the chosen
slopes (the gradient off kinks). Off kinks they agree with Φ on a neighbourhood of θ; they are not
Φ far from θ, where the pattern changes.

What the system does not decide: slopes range independently per unit and per point here (the
chain-rule hull); which slope combinations are Clarke elements (tied slopes, realized patterns)
and whether multipliers exist is what :meth:`MaxMarginProblem.decide
<symkkt.kkt.MaxMarginProblem.decide>` decides. Where one point has kink units in more than one
layer, a Clarke element can be a convex combination of several such h_k, not one choice of slopes.

Expressions are built layer by layer on the pattern (numpy object arrays of sympy expressions,
the network's own layer operations) and expanded one layer product at a time only while the
result has at most :data:`EXPAND_TERMS` monomials; larger ones stay in factored form (sympy
shares their subexpressions), so the work and memory grow linearly with the network times the
number of points. Printed text repeats shared subexpressions and is longer for deep nets.

Examples
--------
>>> from symkkt.api import load_example
>>> problem, theta = load_example("kink")
>>> system = kkt_system(problem, theta)
>>> system.margins[0]                # unit 1:1 sits on its kink on point 0
W1[0,1]*W2[0,0] + W1[1,1]*W2[0,1]*s_0[1:1]
>>> system.slopes
{s_0[1:1]: (0, 1)}
>>> system.equations[3]
Eq(W1[1,1], W2[0,1]*lambda_0*s_0[1:1] - W2[0,1]*lambda_1)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import sympy

from .network import _avgpool, _avgpool_backward, _linear, _linear_backward, _sum
from .field import as_sympy
from .numbers import format_number

#: expand a layer product only while it has at most this many monomials
EXPAND_TERMS = 100


# -- symbols -------------------------------------------------------------------------------------
def parameter_symbol(name):
    """The sympy symbol of a parameter, named as :attr:`Network.parameter_names` (``W1[0,0]``)."""
    return sympy.Symbol(name, real=True)


def multiplier_symbol(k):
    """λ_k of data point k (0-based)."""
    return sympy.Symbol(f"lambda_{k}", real=True)


def slope_symbol(k, label):
    """The slope symbol ``s_k[L:U]`` of unit ``label`` (``"L:U"``) on data point k."""
    return sympy.Symbol(f"s_{k}[{label}]", real=True)


def _parameter_latex(name):
    """``W1[0,1]`` -> ``W^{(1)}_{0,1}``; ``b2[3]`` -> ``b^{(2)}_{3}``."""
    head, _, rest = name.partition("[")
    return f"{head[0]}^{{({head[1:]})}}_{{{rest.rstrip(']')}}}"


# -- sizes ---------------------------------------------------------------------------------------
def _monomials(e, cap, memo):
    """An upper bound of the number of monomials of ``expand(e)``, or ``cap + 1`` once it exceeds cap."""
    key = id(e)
    if key in memo:
        return memo[key]
    if e.is_Add:
        n = 0
        for a in e.args:
            n += _monomials(a, cap, memo)
            if n > cap:
                break
    elif e.is_Mul:
        n = 1
        for a in e.args:
            n *= _monomials(a, cap, memo)
            if n > cap:
                break
    elif e.is_Pow and e.exp.is_Integer and e.exp > 0:
        b = _monomials(e.base, cap, memo)
        n = b ** int(e.exp) if b > 1 else 1
    else:
        n = 1
    n = min(n, cap + 1)
    memo[key] = n
    return n


def _tidy(e):
    """``expand(e)`` when the result is small (:data:`EXPAND_TERMS`), else ``e`` unchanged."""
    e = as_sympy(e)
    if e.is_Atom or _monomials(e, EXPAND_TERMS, {}) > EXPAND_TERMS:
        return e
    return sympy.expand(e)


_tidy_all = np.vectorize(_tidy, otypes=[object])


class _SymbolicDomain:
    """The two domain operations the network's backward helpers need, on sympy object arrays."""

    @staticmethod
    def zeros(shape):
        out = np.empty(shape, dtype=object)
        out.fill(sympy.Integer(0))
        return out

    @staticmethod
    def scalar(value):
        return np.array(as_sympy(value), dtype=object)


# -- the pattern ---------------------------------------------------------------------------------
def _zero_interval(rule):
    """The admissible derivatives of σ at 0 for a piecewise σ with two branches: the Clarke
    interval at a kink, and {0} for a power p > 1 (both branches c±·z^p have derivative 0)."""
    interval = rule.clarke_interval()
    if interval is not None:
        return interval
    return (sympy.Integer(0), sympy.Integer(0))


def _activate(rule, Z, S, point_unit, new_slope):
    """σ and σ' on the fixed pattern: object arrays ``(A, D)`` of the same shape as ``Z``.

    ``S`` are the exact signs at θ (None for smooth activations), ``point_unit(idx)`` gives
    ``(k, flat unit)`` of an entry, ``new_slope(k, unit, rule)`` the slope symbol of a unit at 0.
    """
    A = np.empty(Z.shape, dtype=object)
    D = np.empty(Z.shape, dtype=object)
    if rule.kind == "polynomial":
        for idx in np.ndindex(Z.shape):
            z = Z[idx]
            A[idx] = _tidy(sum(c * z ** i for i, c in enumerate(rule.coeffs)))
            D[idx] = _tidy(sum(i * c * z ** (i - 1) for i, c in enumerate(rule.coeffs) if i))
        return A, D
    p = rule.power
    for idx in np.ndindex(Z.shape):
        z = Z[idx]
        sign = int(S[idx]) if S is not None else 1
        if rule.plus == rule.minus:         # one monomial on all of R (linear, leaky slope 1, ...)
            c = rule.plus
        elif sign == 0:
            s = new_slope(*point_unit(idx), rule)
            A[idx], D[idx] = s * z, s
            continue
        else:
            c = rule.plus if sign > 0 else rule.minus
        A[idx] = _tidy(c * z ** p)
        D[idx] = _tidy(p * c * z ** (p - 1))
    return A, D


# -- the system ----------------------------------------------------------------------------------
@dataclass
class KKTSystem:
    """The KKT system of P_Φ at θ on the activation pattern of θ (see the module docstring).

    Attributes
    ----------
    parameters : list of sympy.Symbol
        θ_j, in :attr:`Network.parameter_names` order.
    multipliers : list of sympy.Symbol
        λ_k, one per data point (0-based).
    margins : list of sympy.Expr
        q_k = y_k Φ(θ; x_k) on the pattern, in the parameter and slope symbols.
    margin_values : list
        The exact margins at θ (sympy numbers).
    active : list of int
        Points with q_k = 1 (KKT point) or q_k = min_k q_k (``direction``), exactly.
    constraints : list of sympy.Ge
        q_k ≥ 1, one per point.
    equations : list of sympy.Eq
        Stationarity θ_j = Σ_k λ_k y_k ∂Φ(θ; x_k)/∂θ_j, one per parameter.
    slackness : list of sympy.Eq
        λ_k = 0 for the inactive points.
    slopes : dict
        slope symbol -> ``(lo, hi)``, its admissible interval (``lo == hi``: a single value).
    slope_units : dict
        slope symbol -> ``{"point", "unit", "activation", ...}`` (channel and position for conv).
    pattern : dict
        point -> {weight layer -> string of ``+``, ``-``, ``0`` per unit, flat order}.
    direction : bool
        The system of the KKT point θ / q_min^(1/L) (same equations, same symbols).
    degree : int or None
        The homogeneity degree L (None: not homogeneous).
    violated : list of int
        Points whose constraint fails at θ (q_k < 1; ``direction``: q_min ≤ 0).
    gradients : list
        ``gradients[j][k]`` = ∂Φ(θ; x_k)/∂θ_j on the pattern (sympy expressions).
    """

    problem: object
    theta: list
    parameters: list
    multipliers: list
    margins: list
    margin_values: list
    active: list
    constraints: list
    equations: list
    slackness: list
    slopes: dict
    slope_units: dict
    pattern: dict
    direction: bool = False
    degree: int | None = None
    violated: list = field(default_factory=list)
    gradients: list = field(default_factory=list, repr=False)

    # -- reading ---------------------------------------------------------------------------------
    @functools.cached_property
    def _latex_names(self):
        names = {s: _parameter_latex(s.name) for s in self.parameters}
        for s, unit in self.slope_units.items():
            names[s] = rf"s_{{{unit['point']},\,{unit['unit']}}}"
        return names

    def _tex(self, e):
        return sympy.latex(e, symbol_names=self._latex_names)

    @staticmethod
    def _txt(e):
        return sympy.sstr(e).replace("**", "^")

    def _interval_text(self, s):
        lo, hi = self.slopes[s]
        return f"{{{format_number(lo)}}}" if lo == hi else f"[{format_number(lo)}, {format_number(hi)}]"

    def _interval_tex(self, s):
        lo, hi = self.slopes[s]
        return rf"\{{{sympy.latex(lo)}\}}" if lo == hi else rf"[{sympy.latex(lo)}, {sympy.latex(hi)}]"

    def _unused_slopes(self):
        used = set()
        for e in list(self.equations) + list(self.margins):
            used |= e.free_symbols
        return [s for s in self.slopes if s not in used]

    def _header(self):
        what = "KKT direction" if self.direction else "KKT point"
        L = f"L = {self.degree}" if self.degree else "not homogeneous"
        return f"KKT system of P_Φ at θ ({what}; {L}), on the activation pattern of θ"

    def _direction_note(self):
        if not self.direction:
            return None
        if self.violated:
            return (f"q_min = {format_number(self.margin_values[self.active[0]])} ≤ 0: "
                    "no KKT point lies on the ray of θ")
        return (f"these are the KKT conditions of the point θ/q_min^(1/L) (L = {self.degree}, "
                f"q_min = {format_number(self.margin_values[self.active[0]])}): the same equations in the same symbols, "
                "since the pattern does not change along the ray; at θ itself, stationarity holds with "
                "μ_k = λ_k·q_min^((2-L)/L) in place of λ_k")

    def text(self):
        """The system as readable multi-line text (``^`` for powers, exact numbers)."""
        lines = [self._header()]
        m = len(self.parameters)
        shown = ", ".join(s.name for s in self.parameters[:8]) + (", ..." if m > 8 else "")
        lines.append(f"  parameters   {shown} (m = {m})")
        if self.pattern:
            lines.append("  pattern (sign of each unit's pre-activation at θ, units in flat order)")
        for k, layers in self.pattern.items():
            lines.append(f"    point {k}: " + "; ".join(f"layer {w} {signs}" for w, signs in layers.items()))
        lines.append("  margins (q_k = y_k Φ(θ; x_k); constraint q_k ≥ 1)")
        for k, (q, v) in enumerate(zip(self.margins, self.margin_values)):
            mark = ("  [attains q_min]" if self.direction else "  [active]") if k in self.active else ""
            mark += "  [violated]" if k in self.violated else ""
            lines.append(f"    q_{k} = {self._txt(q)}   (= {format_number(v)} at θ){mark}")
        lines.append("  stationarity (θ_j = Σ_k λ_k y_k ∂Φ(θ; x_k)/∂θ_j)")
        lines += [f"    {self._txt(e.lhs)} = {self._txt(e.rhs)}" for e in self.equations]
        if self.slackness:
            lines.append("  complementary slackness  " + ", ".join(f"{e.lhs} = 0" for e in self.slackness))
        if self.active:
            lines.append("  multipliers  " + ", ".join(f"{self.multipliers[k]} ≥ 0" for k in self.active))
        if self.slopes:
            unused = set(self._unused_slopes())
            lines.append("  slopes (derivative of σ at a zero pre-activation; independent per unit and point)")
            for s in self.slopes:
                u = self.slope_units[s]
                where = f"point {u['point']}, unit {u['unit']}" + (
                    f" (channel {u['channel']}, position {u['position']})" if "channel" in u else "")
                lines.append(f"    {s} ∈ {self._interval_text(s)}   {where}, {u['activation']}"
                             + ("; does not enter the system" if s in unused else ""))
        note = self._direction_note()
        if note:
            lines.append("  direction    " + note)
        return "\n".join(lines)

    def __repr__(self):
        return self.text()

    def latex(self):
        """The system as a LaTeX ``aligned`` environment (without math delimiters)."""
        rows = []
        for k, q in enumerate(self.margins):
            mark = r" \quad (\text{active})" if k in self.active else ""
            rows.append(rf"q_{{{k}}} &= {self._tex(q)} \ge 1{mark}")
        for e in self.equations:
            rows.append(rf"{self._tex(e.lhs)} &= {self._tex(e.rhs)}")
        for e in self.slackness:
            rows.append(rf"{self._tex(e.lhs)} &= 0")
        if self.active:
            rows.append(r"&" + r",\ ".join(rf"{self._tex(self.multipliers[k])} \ge 0" for k in self.active))
        for s in self.slopes:
            rows.append(rf"{self._tex(s)} &\in {self._interval_tex(s)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def _repr_latex_(self):
        return "$" + self.latex() + "$"

    def to_json(self):
        """A JSON-ready dict: each expression as ``{"text", "latex"}``, numbers as exact strings."""
        def both(e_text, e_tex):
            return {"text": e_text, "latex": e_tex}

        unused = set(self._unused_slopes())
        out = {
            "claim": "kkt_direction" if self.direction else "kkt_point",
            "homogeneity_degree": self.degree,
            "parameters": [s.name for s in self.parameters],
            "multipliers": [s.name for s in self.multipliers],
            "active_set": list(self.active),
            "pattern": {str(k): {str(w): v for w, v in layers.items()} for k, layers in self.pattern.items()},
            "margins": [{"point": k, **both(self._txt(q), self._tex(q)), "value": format_number(v),
                         "active": k in self.active}
                        for k, (q, v) in enumerate(zip(self.margins, self.margin_values))],
            "constraints": [both(f"{self._txt(c.lhs)} >= 1", rf"{self._tex(c.lhs)} \ge 1") for c in self.constraints],
            "equations": [{"parameter": e.lhs.name, **both(f"{self._txt(e.lhs)} = {self._txt(e.rhs)}",
                                                           f"{self._tex(e.lhs)} = {self._tex(e.rhs)}")}
                          for e in self.equations],
            "slackness": [both(f"{e.lhs} = 0", f"{self._tex(e.lhs)} = 0") for e in self.slackness],
            "slopes": [{"symbol": s.name, "latex": self._tex(s), **self.slope_units[s],
                        "interval": [format_number(v) for v in self.slopes[s]], "enters_system": s not in unused}
                       for s in self.slopes],
        }
        note = self._direction_note()
        if note:
            out["direction_note"] = note
        return out

    # -- checking --------------------------------------------------------------------------------
    def substitute(self, theta=None, multipliers=None, slopes=None):
        """Evaluate the system exactly with the symbols replaced.

        Parameters
        ----------
        theta : list, optional
            Exact values of the parameters (default: the θ of the system).
        multipliers : list, optional
            λ_k, one per point; without them only the margins are evaluated.
        slopes : dict, optional
            Values of slope symbols, keyed by the symbol or by ``(point, "L:U")``. A slope not
            given takes the lower end of its interval in the margins (at the system's θ its unit
            has z = 0, so the margins do not depend on it) and, if it has a single admissible
            value or its point's multiplier is 0, in the equations; stationarity needs every
            other slope that occurs.

        Returns
        -------
        dict
            ``{"margins": [...], "residuals": [...] or None}`` with exact sympy numbers;
            ``residuals[j]`` is θ_j minus the right-hand side of stationarity equation j.
        """
        from .field import NumberField

        theta = list(self.theta if theta is None else theta)
        env = dict(zip(self.parameters, theta))
        chosen = {}
        for key, v in (slopes or {}).items():
            sym = key if isinstance(key, sympy.Symbol) else slope_symbol(*key)
            chosen[sym] = v
        for s, (lo, hi) in self.slopes.items():
            env[s] = chosen.get(s, lo)
        if multipliers is not None:
            env.update(zip(self.multipliers, multipliers))
        numbers = [as_sympy(v) for v in env.values() if v is not None]
        numbers += [v for x in self.problem.data.X for v in x] + self.problem.network.constants()
        K = NumberField.of(numbers)
        values = {s: K.element(as_sympy(v)) for s, v in env.items() if v is not None}
        memo = {}

        def ev(e):
            return _evaluate(e, values, K, memo)

        margins = [ev(q).to_sympy() for q in self.margins]
        residuals = None
        if multipliers is not None:
            for s, (lo, hi) in self.slopes.items():     # s_k[..] enters only through λ_k
                point = self.slope_units[s]["point"]
                if s not in chosen and lo != hi and as_sympy(multipliers[point]) != 0:
                    del values[s]               # stationarity needs a chosen value where it occurs
            memo = {}
            residuals = [(ev(e.lhs) - ev(e.rhs)).to_sympy() for e in self.equations]
        return {"margins": margins, "residuals": residuals}


def _evaluate(e, values, K, memo):
    """Exact value of a polynomial expression in the number field K (symbols from ``values``)."""
    key = id(e)
    if key in memo:
        return memo[key][1]
    if e.is_Symbol:
        if e not in values:
            raise ValueError(f"no value for the symbol {e}")
        out = values[e]
    elif e.is_Add or e.is_Mul:
        parts = [_evaluate(a, values, K, memo) for a in e.args]
        out = parts[0]
        for p in parts[1:]:
            out = out + p if e.is_Add else out * p
    elif e.is_Pow and e.exp.is_Integer and e.exp > 0 and e.base.free_symbols:
        base, out = _evaluate(e.base, values, K, memo), K.element(1)
        for _ in range(int(e.exp)):
            out = out * base
    else:                                   # a number (rational or algebraic)
        out = K.element(e)
    memo[key] = (e, out)                    # keep e alive so that its id is not reused
    return out


def kkt_system(problem, theta, direction=False):
    """The KKT system of ``problem`` at θ on the activation pattern of θ.

    Parameters
    ----------
    problem : symkkt.kkt.MaxMarginProblem
    theta : list or symkkt.spec.Parameters
        As for :meth:`MaxMarginProblem.decide <symkkt.kkt.MaxMarginProblem.decide>`.
    direction : bool
        The system of the KKT point θ / q_min^(1/L): the active points are those attaining
        q_min (needs a homogeneous network).

    Returns
    -------
    KKTSystem

    Raises
    ------
    symkkt.errors.UsageError
        A tanh network (its values are transcendental: no exact margins or pattern).
    symkkt.errors.NotHomogeneousError
        ``direction`` on a network that is not homogeneous.

    Examples
    --------
    >>> from symkkt.api import load_example
    >>> problem, theta = load_example("example1")
    >>> system = kkt_system(problem, theta)
    >>> system.active, system.slopes
    ([0, 1], {})
    >>> system.margins[1]
    W1[1,0]*W2[0,1] - W1[1,1]*W2[0,1]
    >>> system.equations[0]
    Eq(W1[0,0], W2[0,0]*lambda_0 + 3*W2[0,0]*lambda_2)
    >>> system.substitute()["margins"]
    [1, 1, 3]
    """
    from .api import as_theta
    from .errors import NotHomogeneousError, UsageError

    net = problem.network
    if any(rule.kind == "tanh" for rule in net.rules.values()):
        raise UsageError("the KKT system needs exact margins and a fixed pattern; tanh values are "
                         "transcendental", "<python>", "architecture")
    L = problem.homogeneity.degree
    if direction and L is None:
        raise NotHomogeneousError(f"a KKT direction needs a homogeneous network: {problem.homogeneity.reason}")
    theta = as_theta(net, theta)
    q, trace = problem.margins(theta)
    values = [v.to_sympy() for v in q]
    n = len(values)
    if direction:
        qmin = min(q)
        active = [k for k in range(n) if q[k] == qmin]
        violated = [k for k in active if qmin.sign() <= 0]
    else:
        active = [k for k in range(n) if (q[k] - 1).is_zero()]
        violated = [k for k in range(n) if (q[k] - 1).sign() < 0]

    params = [parameter_symbol(name) for name in net.parameter_names]
    lams = [multiplier_symbol(k) for k in range(n)]
    slopes, slope_units = {}, {}

    def new_slope(k, unit, rule, layer_index):
        label = net.unit_label(layer_index, unit)
        s = slope_symbol(k, label)
        slopes[s] = _zero_interval(rule)
        reading = net.unit_reading(layer_index, unit)
        extra = {key: reading[key] for key in ("channel", "position") if key in reading}
        slope_units[s] = {"point": k, "unit": label, "activation": _activation_text(rule), **extra}
        return s

    grads, output, pattern = _symbolic_pass(net, problem.data, trace, params, new_slope)
    y = [int(v) for v in problem.data.y]
    margins = [_tidy(y[k] * output[k]) for k in range(n)]
    equations = [sympy.Eq(params[j], _tidy(sympy.Add(*[lams[k] * y[k] * grads[j][k] for k in range(n)])),
                          evaluate=False)
                 for j in range(len(params))]
    constraints = [sympy.Ge(margins[k], 1, evaluate=False) for k in range(n)]
    slackness = [sympy.Eq(lams[k], 0, evaluate=False) for k in range(n) if k not in active]
    return KKTSystem(problem, list(theta), params, lams, margins, values, active, constraints, equations,
                     slackness, dict(sorted(slopes.items(), key=lambda kv: _slope_order(slope_units[kv[0]]))),
                     slope_units, pattern, direction=direction, degree=L, violated=violated, gradients=grads)


def _slope_order(unit):
    layer, flat = unit["unit"].split(":")
    return unit["point"], int(layer), int(flat)


def _activation_text(rule):
    """``relu``, ``leaky_relu(slope=1/5)``, ``poly_relu(power=3)``."""
    spec = rule.spec.to_json()
    if isinstance(spec, str):
        return spec
    (kind, options), = spec.items()
    return f"{kind}(" + ", ".join(f"{k}={v}" for k, v in options.items()) + ")"


def _symbolic_pass(net, data, trace, params, new_slope):
    """Forward and reverse mode over sympy object arrays on the pattern of ``trace``.

    Returns ``(grads, output, pattern)``: ``grads[j][k]`` = ∂Φ(θ; x_k)/∂θ_j, ``output[k]`` =
    Φ(θ; x_k), and the sign strings of the pattern.
    """
    arch = net.arch
    n = len(data.y)
    layers = [(np.array(l["weight"], dtype=object),
               np.array(l["bias"], dtype=object) if l["bias"] is not None else None)
              for l in net.unflatten(params)]
    A = np.array([[as_sympy(v) for v in x] for x in data.X], dtype=object)
    A = A.T.reshape(*arch.input, n)
    inputs, dact, pattern = [], {}, {k: {} for k in range(n)}
    for i, layer in enumerate(arch.layers):
        inputs.append(A)
        if layer.kind in ("dense", "conv", "diagonal"):
            W, b = layers[net.weight_index(i) - 1]
            Z = _tidy_all(_linear(layer, W, b, A))
            rule = net.rules[i]
            S = trace.signs.get(i)
            shape = Z.shape[:-1]

            def point_unit(idx, shape=shape):
                return idx[-1], int(np.ravel_multi_index(idx[:-1], shape)) if shape else 0

            A, D = _activate(rule, Z, S, point_unit, lambda k, u, r, i=i: new_slope(k, u, r, i))
            dact[i] = D
            if S is not None and rule.piecewise and rule.plus != rule.minus:
                w = net.weight_index(i)
                flat = S.reshape(-1, n)
                for k in range(n):
                    pattern[k][w] = "".join({1: "+", -1: "-", 0: "0"}[int(v)] for v in flat[:, k])
        elif layer.kind == "avgpool":
            A = _avgpool(None, layer, A)
        elif layer.kind == "sum":
            A = _sum(A)
        else:
            A = A.reshape(-1, A.shape[-1])
    output = A.reshape(n)

    dom = _SymbolicDomain()
    delta = np.empty((1, n), dtype=object)
    delta.fill(sympy.Integer(1))
    blocks = {}
    for i in reversed(range(len(arch.layers))):
        layer = arch.layers[i]
        A = inputs[i]
        if layer.kind in ("dense", "conv", "diagonal"):
            delta = _tidy_all(delta * dact[i])
            W, _ = layers[net.weight_index(i) - 1]
            gW, gb, delta = _linear_backward(dom, layer, W, A, delta)
            blocks[i] = [_tidy_all(gW).reshape(-1, n)] + ([_tidy_all(gb).reshape(-1, n)] if layer.bias else [])
            delta = _tidy_all(delta) if i else delta
        elif layer.kind == "avgpool":
            delta = _avgpool_backward(dom, layer, A.shape, delta)
        elif layer.kind == "sum":       # every input of the sum gets the output's delta
            delta = np.repeat(delta, A.shape[0], axis=0)
        else:
            delta = delta.reshape(*A.shape)
    grads = np.concatenate([b for i in arch.weight_layers for b in blocks[i]], axis=0)
    return grads.tolist(), list(output), {k: v for k, v in pattern.items() if v}
