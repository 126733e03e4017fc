"""Polynomial curves θ̃(s) = Σ_j s^j d_j through θ = d_0, and their exact check on (0, s₀].

Along a polynomial curve every pre-activation of every data point is a polynomial in s as long
as the units keep their signs; a non-zero polynomial keeps one sign on (0, ε) for some ε > 0,
so near s = 0 the activation pattern is fixed and each margin q_k(θ̃(s)) is a polynomial in s
(:func:`forward`: the forward pass with polynomial entries, each unit's side read off the lowest
non-zero coefficient of its pre-activation). A curve *improves* θ on (0, s₀] when, for every s
there and every data point k,

    ‖θ‖^L · q_k(θ̃(s)) > ‖θ̃(s)‖^L          (even L; for odd L: q_k > 0 and the squares),

and every pre-activation keeps the sign of the pattern there (or is the zero polynomial). Then
θ(s) = θ̃(s) / q_min(θ̃(s))^(1/L) is feasible, tends to θ when s → 0 (if q_min(θ) = 1), and
is strictly shorter than θ: θ is not a local optimum of P_Φ. :func:`check_curve` decides all
these polynomial sign conditions exactly (:mod:`.sturm`), never by sampling.

Covered layers: ``dense``, ``diagonal``, ``sum`` and ``flatten`` (on flat inputs), with linear
and ReLU-family activations (σ = c± z^p on each side of 0).

Trusted: the number field arithmetic of :mod:`symkkt.field` and :mod:`.sturm`.

Examples
--------
>>> from symkkt.api import load_problem
>>> from symkkt.optimality.curves import Curve, check_curve, example_paths_zero_unit
>>> problem, theta = load_problem(*example_paths_zero_unit())
>>> curve = Curve.from_numbers(problem, [theta,                        # the public instance's curve
...                                      [0, 0, "1/sqrt(5)", "2/sqrt(5)", 0, 1],
...                                      [0, "-9/16", 0, 0, 0, 0]], "1/2")
>>> check_curve(problem, curve).ok
True
>>> check_curve(problem, curve.with_s0("9/10")).failures[0]
'point 0: ‖θ‖^L q_k(θ̃(s)) − ‖θ̃(s)‖^L is not positive on all of (0, 9/10]'
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

from . import sturm


class Unsupported(Exception):
    """The network has a layer or activation that the polynomial forward pass does not cover."""


# -- polynomials with field coefficients (LOW → HIGH) -------------------------------------------
def padd(a, b):
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)]


def pmul(a, b, order=None):
    if not a or not b:
        return []
    n = len(a) + len(b) - 1 if order is None else min(len(a) + len(b) - 1, order + 1)
    zero = a[0] * 0
    out = [zero] * n
    for i, u in enumerate(a):
        if i >= n or u.is_zero():
            continue
        for j, v in enumerate(b[:n - i]):
            out[i + j] = out[i + j] + u * v
    return out


def pscale(a, c):
    return [c * u for u in a]


def ppow(a, p, order=None):
    out = [a[0] * 0 + 1] if a else [1]
    for _ in range(p):
        out = pmul(out, a, order)
    return out


def truncate(a, order):
    return a if order is None else a[:order + 1]


# -- the network along a curve ---------------------------------------------------------------------
def _rules(net):
    from ..activations import ActivationRule

    return {i: ActivationRule(layer.activation) for i, layer in enumerate(net.arch.layers)
            if layer.kind in ("dense", "conv", "diagonal")}


def offsets(net):
    """Per weight layer ``(weight offset, bias offset or None, weight shape)`` in θ."""
    out, pos = [], 0
    for shapes in net.param_shapes:
        size = 1
        for n in shapes["weight"]:
            size *= n
        bias = pos + size if shapes.get("bias") else None
        out.append((pos, bias, tuple(shapes["weight"])))
        pos += size + (shapes["bias"][0] if shapes.get("bias") else 0)
    return out


def pattern_layers(net):
    """Indices of the layers whose units enter the pattern (a ReLU-family activation other than
    the identity), in order."""
    rules = _rules(net)
    return [i for i, r in sorted(rules.items())
            if r.piecewise and not (r.plus == r.minus and r.power == 1)]


def forward(net, K, polys, x, order=None):
    """Φ(θ̃(s); x) as a polynomial, with every pre-activation.

    Parameters
    ----------
    net : symkkt.network.Network
    K : symkkt.field.NumberField
    polys : list
        One polynomial (list of field elements, LOW → HIGH) per parameter.
    x : list
        The input, field elements (flat).
    order : int, optional
        Drop every power above s^order (the result is then right up to that order).

    Returns
    -------
    (list, dict)
        The output polynomial and ``{layer_index: [pre-activation polynomial per unit]}``.
    """
    rules, offs = _rules(net), offsets(net)
    h = [[v] for v in x]
    pre = {}
    one = K.element(1)
    for i, layer in enumerate(net.arch.layers):
        kind = layer.kind
        if kind == "flatten":
            continue
        if kind == "sum":
            z = []
            for v in h:
                z = padd(z, v)
            h = [z]
            continue
        if kind not in ("dense", "diagonal"):
            raise Unsupported(f"a {kind} layer (the curve methods cover dense, diagonal and sum layers)")
        w = net.arch.weight_layers.index(i)
        woff, boff, shape = offs[w]
        if kind == "dense":
            width, n = shape
            z = []
            for o in range(width):
                acc = []
                for j in range(n):
                    acc = padd(acc, pmul(polys[woff + o * n + j], h[j], order))
                z.append(acc)
        else:
            z = [pmul(polys[woff + j], h[j], order) for j in range(shape[0])]
        if boff is not None:
            z = [padd(v, polys[boff + o]) for o, v in enumerate(z)]
        z = [sturm.trim(v) for v in z]
        pre[i] = z
        rule = rules[i]
        if not rule.piecewise:
            raise Unsupported(f"activation {rule.kind} (the curve methods cover linear and ReLU-family "
                              "activations)")
        plus, minus = K.element(rule.plus), K.element(rule.minus)
        out = []
        for v in z:
            sg = sturm.leading_sign(v)
            if sg == 0:
                out.append([])
            else:
                c = plus if sg > 0 else minus
                out.append(v if rule.power == 1 and (c - one).is_zero() else pscale(ppow(v, rule.power, order), c))
        h = out
    return (h[0] if h else []), pre


# -- curves --------------------------------------------------------------------------------------
@dataclass
class Curve:
    """θ̃(s) = Σ_j s^j d_j (``coeffs[0]`` is θ), field elements, with s₀ (a Fraction)."""

    K: object
    coeffs: list
    s0: Fraction
    mechanism: str = ""

    @classmethod
    def from_numbers(cls, problem, vectors, s0, mechanism=""):
        """A curve from exact numbers (sympy, ints or exact-number text)."""
        from ..numbers import parse_number

        K = problem.domain([parse_number(v) if isinstance(v, str) else v for vec in vectors for v in vec]).field
        coeffs = [[K.element(parse_number(v) if isinstance(v, str) else v) for v in vec] for vec in vectors]
        return cls(K, coeffs, Fraction(s0) if not isinstance(s0, Fraction) else s0, mechanism)

    def with_s0(self, s0):
        return Curve(self.K, self.coeffs, Fraction(s0), self.mechanism)

    @property
    def polys(self):
        return [sturm.trim([d[j] for d in self.coeffs]) for j in range(len(self.coeffs[0]))]

    def at(self, s):
        """θ̃(s) for a rational s, as field elements."""
        t = self.K.element(_rational(s))
        return [sturm.evaluate(p, t) if p else self.K.element(0) for p in self.polys]

    def to_json(self):
        from ..numbers import format_number

        return [[format_number(v.to_sympy()) for v in d] for d in self.coeffs]


def _rational(s):
    import sympy

    s = Fraction(s)
    return sympy.Rational(s.numerator, s.denominator)


@dataclass
class CurveCheck:
    """The exact check of a curve: ``ok`` and, per point, the polynomials that were decided."""

    ok: bool
    failures: list
    margins: list = field(default_factory=list)      # q_k(θ̃(s))
    gaps: list = field(default_factory=list)         # ‖θ‖^L q_k − ‖θ̃‖^L (or the squared form)
    norm2: list = field(default_factory=list)        # ‖θ̃(s)‖²
    pattern: list = field(default_factory=list)      # per point: string of + - 0
    sign_polys: list = field(default_factory=list)   # pre-activations that must keep their sign


def curve_polynomials(problem, curve, order=None):
    """Margins, pattern and pre-activation polynomials of every data point along the curve."""
    net, K = problem.network, curve.K
    polys = curve.polys
    layers = pattern_layers(net)
    margins, pattern, sign_polys = [], [], []
    for k, (x, y) in enumerate(zip(problem.data.X, problem.data.y)):
        out, pre = forward(net, K, polys, [K.element(v) for v in x], order)
        margins.append(sturm.trim(out if int(y) == 1 else [-c for c in out]))
        chars = []
        for li in layers:
            for u, z in enumerate(pre[li]):
                sg = sturm.leading_sign(z)
                chars.append("+" if sg > 0 else "-" if sg < 0 else "0")
                if sg:
                    sign_polys.append((k, li, u, z, sg))
        pattern.append("".join(chars))
    return margins, pattern, sign_polys


def gap_polynomials(problem, curve, margins, order=None):
    """(‖θ̃‖², [‖θ‖^L q_k − ‖θ̃‖^L]) for even L, or the squared form for odd L."""
    L = problem.homogeneity.degree
    norm2 = []
    for p in curve.polys:
        norm2 = padd(norm2, pmul(p, p, order))
    norm2 = sturm.trim(norm2)
    N = curve.K.element(0) + norm2[0] if norm2 else curve.K.element(0)
    if L % 2 == 0:
        NL, right = _power(N, L // 2), ppow(norm2, L // 2, order)
        gaps = [sturm.trim(padd(pscale(q, NL), pscale(right, -1))) for q in margins]
    else:
        NL, right = _power(N, L), ppow(norm2, L, order)
        gaps = [sturm.trim(padd(pscale(pmul(q, q, order), NL), pscale(right, -1))) for q in margins]
    return norm2, gaps


def _power(x, p):
    out = x * 0 + 1
    for _ in range(p):
        out = out * x
    return out


def check_curve(problem, curve):
    """Decide exactly whether the curve improves θ on (0, s₀] (see the module docstring)."""
    L = problem.homogeneity.degree
    failures = []
    if not L:
        raise ValueError("check_curve needs a positively homogeneous network")
    if curve.s0 <= 0:
        return CurveCheck(False, ["s0 must be positive"])
    margins, pattern, sign_polys = curve_polynomials(problem, curve)
    norm2, gaps = gap_polynomials(problem, curve, margins)
    for k, li, u, z, sg in sign_polys:
        if sturm.sign_on(z, curve.s0) != sg:
            failures.append(f"point {k}: the pre-activation of unit {problem.network.unit_label(li, u)} "
                            f"changes sign on (0, {curve.s0}]")
    for k, (q, g) in enumerate(zip(margins, gaps)):
        if L % 2 and sturm.sign_on(q, curve.s0) != 1:
            failures.append(f"point {k}: q_k(θ̃(s)) is not positive on all of (0, {curve.s0}]")
        if sturm.sign_on(g, curve.s0) != 1:
            failures.append(f"point {k}: ‖θ‖^L q_k(θ̃(s)) − ‖θ̃(s)‖^L is not positive on all of (0, {curve.s0}]")
    return CurveCheck(not failures, failures, margins, gaps, norm2, pattern, sign_polys)


def choose_s0(problem, curve, tries=40):
    """The curve with the largest simple s₀ ≤ 1 that :func:`check_curve` accepts, or None.

    Float root guesses of the polynomials propose s₀ (a search aid); each proposal is decided
    exactly, and halved until accepted (at most ``tries`` times).
    """
    L = problem.homogeneity.degree
    margins, _pattern, sign_polys = curve_polynomials(problem, curve)
    _norm2, gaps = gap_polynomials(problem, curve, margins)
    if any(sturm.leading_sign(g) <= 0 for g in gaps):
        return None, "the curve does not improve every margin near s = 0"
    polys = [z for *_, z, _ in sign_polys] + gaps + (margins if L % 2 else [])
    guesses = [r for r in (sturm.root_guess(_strip_low(p)) for p in polys) if r is not None]
    s0 = _simple(min([1.0] + [0.9 * r for r in guesses]))
    for _ in range(tries):
        trial = curve.with_s0(s0)
        check = check_curve(problem, trial)
        if check.ok:
            return trial, check
        s0 = s0 / 2
    return None, f"no s0 down to {s0 * 2} passed the exact check"


def _strip_low(p):
    v = next((i for i, c in enumerate(p) if not c.is_zero()), len(p))
    return p[v:]


def _simple(x):
    """A rational with a small denominator just below x > 0."""
    for den in (1, 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128, 1000, 1024, 10**4, 10**6):
        f = Fraction(int(x * den), den)
        if f > 0 and f >= x / 2:
            return f
    return Fraction(x).limit_denominator(10**12) or Fraction(1, 10**12)


# -- figures ---------------------------------------------------------------------------------------
def series_power(f, alpha, n):
    """The power series (f)^alpha up to s^n, for f with f[0] = 1 and a rational alpha (exact)."""
    from flint import fmpq

    a = fmpq(alpha.numerator, alpha.denominator)
    f = list(f) + [f[0] * 0] * (n + 1 - len(f))
    g = [f[0] * 0 + 1]
    for m in range(1, n + 1):
        acc = f[0] * 0
        for k in range(1, m + 1):
            acc = acc + f[k] * g[m - k] * ((a + 1) * k - m)
        g.append(acc * fmpq(1, m))
    return g


def norm_gain_series(problem, check, n=4):
    """The first orders of ‖θ‖² − ‖θ(s)‖², θ(s) = θ̃(s)/q_min(θ̃(s))^(1/L), with q_min the
    smallest margin near s = 0+ (exact coefficients, up to s^n)."""
    L = problem.homogeneity.degree
    margins = check.margins
    qmin = margins[0]
    for q in margins[1:]:
        if sturm.leading_sign(sturm.trim(padd(q, pscale(qmin, -1)))) < 0:
            qmin = q
    inv = series_power(qmin, Fraction(-2, L), n)
    shrunk = pmul(check.norm2, inv, n)
    N = check.norm2[0]
    gain = [N - shrunk[0]] + [-c for c in shrunk[1:n + 1]]
    return gain + [N * 0] * (n + 1 - len(gain))


def series_text(coeffs, var="s"):
    """``c2 s^2 + c3 s^3 + O(s^n)`` from exact coefficients."""
    from ..numbers import format_number

    terms = [f"({format_number(c.to_sympy())}) {var}^{i}" for i, c in enumerate(coeffs) if not c.is_zero()]
    return (" + ".join(terms) if terms else "0") + f" + O({var}^{len(coeffs)})"


def example_paths_zero_unit():
    """The files of the built-in instance ``zero_unit`` (a KKT point with a zero unit)."""
    folder = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples", "zero_unit")
    return tuple(os.path.join(folder, f"{f}.yaml") for f in ("arch", "data", "params"))


# -- straight lines ---------------------------------------------------------------------------------
def line_improves(problem, theta, d):
    """Does the straight line θ + s·d improve θ for all small s > 0? (exact: the lowest-order
    coefficient of every ‖θ‖^L q_k − ‖θ + s d‖^L must be positive.)"""
    from ..numbers import parse_number

    d = [parse_number(v) if isinstance(v, str) else v for v in d]
    K = problem.domain(list(theta) + d).field
    curve = Curve(K, [[K.element(v) for v in theta], [K.element(v) for v in d]], Fraction(1))
    margins, _pattern, _sp = curve_polynomials(problem, curve)
    _norm2, gaps = gap_polynomials(problem, curve, margins)
    return all(sturm.leading_sign(g) > 0 for g in gaps)


def sample_lines(problem, theta, n=50, seed=0):
    """How many of ``n`` random straight lines θ + s·d (d with integer entries in [-9, 9]) improve θ
    for small s > 0: ``(improving, n)``, each line decided exactly by :func:`line_improves`."""
    import random

    rng = random.Random(seed)
    m = problem.network.num_parameters
    hits = 0
    for _ in range(n):
        d = [rng.randint(-9, 9) for _ in range(m)]
        if any(d):
            hits += line_improves(problem, theta, d)
    return hits, n
