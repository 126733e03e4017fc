"""Rank-one KKT points of the constrained NCF for leaky-ReLU feed-forward nets (family R).

Network H = W_L σ(W_{L−1} ⋯ σ(W_1 x)), dense, bias-free, every hidden layer the same
σ(z) = max(z, s·z)^p with 0 < s < 1 (leaky ReLU: p = 1), output layer linear. Let
φ = σ^(∘(L−1)) and f(b) = Σ_i y_i φ(b·x_i), the NCF of one neuron per layer.

Construction (checked, never trusted): take a unit b with b·x_i != 0 for every point with
y_i != 0 and x_i != 0, ∇f(b) = p^(L−1)·f(b)·b and f(b) != 0 (a smooth KKT point of the one-neuron
constrained NCF), ε = sign f(b), entrywise positive unit vectors a_1..a_{L−1} (p = 1: any; p > 1:
constant), ã = a^(∘p)/‖a^(∘p)‖, t_l = (p^(L−l)/K)^(1/2) and

    W_1 = t_1 a_1 bᵀ,   W_l = t_l a_l ã_{l−1}ᵀ,   W_L = ε t_L ã_{L−1}ᵀ.

Since a_l > 0 every hidden pre-activation on x_i has the sign of b·x_i, so H(x_i) =
ε Π t_l φ(b·x_i) and no unit sits on a kink; for p = 1, N(u) = |f(b)|·L^(−L/2). Positive
entries of a_l keep the points off kinks (zero entries would put whole units on kinks).

For p = 1, f is linear on each activation cell: f(b) = c_S·b with c_S = Σ_i y_i β_i x_i,
β_i = 1 on S = {i : b·x_i > 0} and s^(L−1) otherwise. Its smooth KKT points with f != 0 are
b = ±c_S/‖c_S‖ when that b realizes S strictly (exact sign of c_S·x_i: rational work, no
square roots), so the enumeration over all patterns S is complete. Every candidate is turned
into u (exact, in Q(√L, √‖c_S‖²)) and decided by :meth:`NCFProblem.decide`.

The maximum of f on the sphere may sit on a kink (some b·x_i = 0). A float search (ascent
inside cells) proposes a face Z = {i : b·x_i = 0}; the face's best point b* = P_V c/‖P_V c‖
(V = Z^⊥, c = the cell vector of the other points) is computed exactly, its pattern checked
exactly, and f(b*) compared exactly with the largest smooth value: when larger, the maximum
of f is certified to lie on a kink (the smooth list is complete), so no point of the list is
built from it. The rank-one point built from b* has the points of Z on kinks; it is decided
with the Clarke set like any other point.

For p > 1 (σ is C¹), f is the form F_S(b) = Σ_i y_i γ_i (b·x_i)^P on each cell, P = p^(L−1), and its
smooth KKT points are the eigen-lines of F_S inside the cell (:mod:`symkkt.ncf.one_neuron`
computes all of them exactly: cells by exact LPs, eigen-lines by resultants and real roots of
irreducible factors). The hidden vectors are indicators of their first m_l units, with m_l chosen
so that every layer scale is rational (:func:`supports`); the one irrational scale √(M/‖b₀‖²) is
adjoined by :func:`~symkkt.ncf.one_neuron.adjoin_sqrt`, so u lies in Q(θ) for one real algebraic θ,
and it is decided there. A float search stands in (labelled, list incomplete) for d ≥ 4, irrational
data, or sizes past the degree budget.

Examples
--------
>>> from symkkt.ncf.problem import ncf_from_dicts
>>> problem, _ = ncf_from_dicts(
...     {"input": [2], "layers": [{"dense": {"width": 2, "activation": {"leaky_relu": {"slope": "1/2"}}}},
...                               {"dense": {"width": 1}}]},
...     {"points": [{"x": [1, 0], "y": 1}, {"x": [0, 1], "y": 1}]})
>>> r = rank_one_points(problem)
>>> [(sorted(p.pattern), str(p.value), p.decision.verdict, p.norms_ok) for p in r.points]  # f = -sqrt(2)/2, sqrt(2)
[([], 'sqrt(2)/4', 'holds', True), ([0, 1], 'sqrt(2)/2', 'holds', True)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from ..errors import UsageError, VERDICT_EXIT
from ..field import as_sympy
from ..numbers import format_number

__all__ = ["rank_one_points", "RankOneResult", "RankOnePoint", "positive_unit_vector"]


@dataclass
class RankOnePoint:
    """A constructed rank-one point and its decision.

    ``u`` flat exact unit vector; ``value`` exact N(u); ``sign``; ``pattern`` the set S of
    points with b·x_i > 0; ``b`` the one-neuron direction; ``f`` the exact f(b); ``decision``
    the :class:`~symkkt.ncf.problem.NCFResult` of ``problem.decide(u)``; ``norms_ok`` whether
    ‖W_l‖² = p^(L−l)/K for every layer (exact).
    """

    u: list
    value: object
    sign: str
    pattern: frozenset
    b: list
    f: object
    decision: object
    norms_ok: bool
    predicted_value: object = None
    numfield: object = None
    face: list = field(default_factory=list)
    f_sign: int = 0

    def text(self, v):
        """A number of this point: the number grammar, or a polynomial in θ (see ``field``)."""
        if v is None:
            return None
        if self.numfield is None:
            return format_number(v)
        return _alg_text(self.numfield, self.numfield.coords(v))

    def _ncf_text(self):
        """N(û) exactly when it is in the grammar or in Q(θ) (a unit point), else None."""
        v = self.decision.ncf_value
        if self.numfield is None:
            return format_number(v)
        return self.text(v) if self.decision.kind == "ncf_kkt_point" else None

    def to_json(self):
        out = {"pattern": sorted(self.pattern), "face": list(self.face),
               "b": None if self.b is None else [self.text(v) for v in self.b],
               "f": None if self.f is None else format_number(self.f),
               "f_sign": {1: "positive", -1: "negative"}.get(self.f_sign) if self.f is None else None,
               "value": self.text(self.value), "ncf_value": self._ncf_text(),
               "ncf_value_approx": _approx(self.decision.ncf_value), "sign": self.sign,
               "predicted_value": None if self.predicted_value is None else format_number(self.predicted_value),
               "kind": self.decision.kind, "u": [self.text(v) for v in self.u],
               "field": None if self.numfield is None else _field_json(self.numfield),
               "verdict": self.decision.verdict, "clarke_set": self.decision.clarke_set, "norms_ok": self.norms_ok,
               "rank_one": [r["rank_one"] for r in self.decision.rank_one]}
        if self.numfield is not None:
            out["u_approx"] = [_approx(v) for v in self.u]
        return out


@dataclass
class RankOneResult:
    """All rank-one KKT points of family R found for a problem.

    ``points``: :class:`RankOnePoint` (exact, each decided); ``kink_maximum``: ``None`` or a dict
    describing the one-neuron maximum on a kink (exact b*, f(b*), the face Z, the decision of the
    point built from it); ``complete``: whether every smooth one-neuron KKT point with f != 0 is
    listed (p = 1: yes, by enumeration); ``approximate``: high-precision candidates (p > 1), not
    decided; ``patterns``: counts of the enumeration; ``notes``: what the figures mean.
    """

    points: list
    kink_maximum: dict | None
    complete: bool
    approximate: list = field(default_factory=list)
    patterns: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    degree: int = 0
    seconds: float = 0.0

    @property
    def verdict(self):
        """``holds`` when every constructed point is decided KKT with the norm identity and the
        list is complete; ``refuted`` if a constructed point fails; else ``inconclusive``."""
        if any(p.decision.verdict == "refuted" or not p.norms_ok for p in self.points):
            return "refuted"
        if self.complete and all(p.decision.verdict == "holds" for p in self.points):
            return "holds"
        return "inconclusive"

    @property
    def reason(self):
        n = len(self.points)
        if self.verdict == "holds":
            return (f"{n} rank-one KKT point{'s' * (n != 1)} of family R, each decided exactly; "
                    "the list of smooth one-neuron KKT points is complete")
        if self.verdict == "refuted":
            return "a constructed point is not a KKT point or violates the norm identity (a bug in the construction)"
        return (f"{n} exact points decided; the list is incomplete" if not self.complete
                else "a constructed point could not be decided")

    @property
    def exit_code(self):
        return VERDICT_EXIT[self.verdict]

    def to_json(self):
        return {"verdict": self.verdict, "reason": self.reason, "tier": "exact", "degree": self.degree,
                "complete": self.complete, "patterns": dict(self.patterns),
                "points": [p.to_json() for p in self.points],
                "kink_maximum": _kink_json(self.kink_maximum),
                "approximate": [dict(a, tier="float64 search (not decided)") for a in self.approximate],
                "notes": list(self.notes)}

    def __repr__(self):
        lines = [f"RankOneResult({self.verdict} — {self.reason})",
                 f"  patterns     {self.patterns}"]
        for p in self.points:
            if p.numfield is None and p.f is not None:
                lines.append(f"  S = {sorted(p.pattern)}: N = {format_number(p.value)} ({p.sign}), f(b) = "
                             f"{format_number(p.f)}, {p.decision.verdict} ({p.decision.clarke_set}), "
                             f"norm identity {'ok' if p.norms_ok else 'FAILS'}")
                continue
            what = "point" if p.decision.kind == "ncf_kkt_point" else "direction"
            where = f" on the face b·x_i = 0 for i in {p.face}" if p.face else ""
            num = (format_number(p.decision.ncf_value) if p.numfield is None
                   else f"≈ {_approx(p.decision.ncf_value)} (u exact in Q(θ), degree {p.numfield.degree})")
            lines.append(f"  S = {sorted(p.pattern)}{where}: N(û) = {num} ({p.sign}), {what} "
                         f"{p.decision.verdict} ({p.decision.clarke_set}), "
                         f"norm identity {'ok' if p.norms_ok else 'FAILS'}")
        if self.kink_maximum:
            k = self.kink_maximum
            lines.append(f"  kink maximum f(b*) = {k['f']} on the face b·x_i = 0 for i in {k['face']} "
                         f"(> largest smooth value {k['smooth_max']}; exact); its rank-one point: "
                         f"{k['decision']['verdict']} ({k['decision']['clarke_set']}): {k['decision']['reason']}")
        for a in self.approximate:
            lines.append(f"  ~ S = {a['pattern']}: f(b) ≈ {a['f']} (float64 search, not decided)")
        for note in self.notes:
            lines.append(f"  note         {note}")
        lines.append("  tier         exact (points and decisions)" + ("; the kink search is float, its answer certified "
                                                                    "exactly" if self.kink_maximum is not None or
                                                                    not self.approximate and self.patterns.get("P") is None
                                                                    else ""))
        return "\n".join(lines)


def _kink_json(k):
    if k is None:
        return None
    return {key: v for key, v in k.items()}


def positive_unit_vector(n):
    """An entrywise positive rational unit vector of length n (split the largest entry v into 3v/5, 4v/5).

    Examples
    --------
    >>> v = positive_unit_vector(3)
    >>> [str(x) for x in v], sum(x * x for x in v)
    (['3/5', '12/25', '16/25'], 1)
    """
    v = [sympy.Integer(1)]
    while len(v) < n:
        k = max(range(len(v)), key=lambda j: v[j])
        big = v.pop(k)
        v[k:k] = [big * sympy.Rational(3, 5), big * sympy.Rational(4, 5)]
    return v


def _covered(problem):
    """(d, widths, s, p) of a covered architecture, or raise UsageError saying what is not covered."""
    net = problem.network
    arch = net.arch
    why = []
    if any(layer.kind != "dense" for layer in arch.layers):
        why.append("only dense layers (no conv, pooling or flatten)")
    if any(getattr(layer, "bias", False) for layer in arch.layers):
        why.append("no biases")
    if len(arch.input) != 1:
        why.append("a flat input [d]")
    weights = arch.weight_layers
    if len(weights) < 2:
        why.append("at least two weight layers")
    hidden = [net.rules[i] for i in weights[:-1]]
    kinds = {(r.kind, r.spec.slope, r.power) for r in hidden}
    if hidden and (len(kinds) != 1 or next(iter(kinds))[0] not in ("leaky_relu", "poly_leaky_relu")):
        why.append("the same leaky_relu or poly_leaky_relu (slope s, power p) in every hidden layer "
                   f"(got {sorted({r.kind for r in hidden})})")
    elif hidden:
        s = as_sympy(hidden[0].spec.slope)
        if not (0 < s < 1):
            why.append(f"slope 0 < s < 1 (got {format_number(s)})")
    if weights and net.rules[weights[-1]].kind != "linear":
        why.append("a linear output layer")
    if why:
        raise UsageError("--rank-one covers bias-free dense nets with leaky ReLU or polynomial leaky ReLU only; "
                         "this network needs: "
                         + "; ".join(why), "<command line>", "--rank-one")
    return (int(arch.input[0]), [net.param_shapes[w]["weight"][0] for w in range(len(weights))],
            as_sympy(hidden[0].spec.slope), int(hidden[0].power))


def _build(problem, b, eps, widths, p):
    """The rank-one u of the construction for a unit b and sign ε (exact sympy numbers)."""
    L, K = len(widths), problem.degree
    t = [sympy.sqrt(sympy.Rational(p ** (L - 1 - l), K)) for l in range(L)]
    if p == 1:
        a = [positive_unit_vector(w) for w in widths[:-1]]
        at = a
    else:
        a = [[1 / sympy.sqrt(w)] * w for w in widths[:-1]]
        at = a                       # a constant: a^(∘p)/‖a^(∘p)‖ = a
    W = [[[t[0] * ai * bj for bj in b] for ai in a[0]]]
    for l in range(1, L - 1):
        W.append([[t[l] * ai * aj for aj in at[l - 1]] for ai in a[l]])
    W.append([[eps * t[L - 1] * aj for aj in at[L - 2]]])
    return [v if v.is_Rational else sympy.radsimp(v) for M in W for row in M for v in row]


def rank_one_points(problem, search_seed=0, search_samples=3000):
    """Enumerate the rank-one KKT points of family R (see the module docstring) and decide each.

    Parameters
    ----------
    problem : NCFProblem
    search_seed, search_samples : int
        Seed and size of the float search for a kink maximum of f (p = 1).

    Returns
    -------
    RankOneResult

    Raises
    ------
    symkkt.errors.UsageError
        An architecture the construction does not cover (the message says what is missing).
    """
    import time

    t0 = time.perf_counter()
    d, widths, s, p = _covered(problem)
    data = problem.data
    rel = [i for i, (x, y) in enumerate(zip(data.X, data.y)) if y != 0 and any(v != 0 for v in x)]
    L = len(widths)
    if p != 1:
        res = _polynomial(problem, rel, d, s, p, L, widths, search_seed)
        res.seconds = time.perf_counter() - t0
        return res
    beta_out = s ** (L - 1)
    rational = all(v.is_Rational for i in rel for v in data.X[i]) and all(data.y[i].is_Rational for i in rel) \
        and beta_out.is_Rational
    conv = (lambda v: Fraction(int(v.p), int(v.q))) if rational else (lambda v: v)
    X = [[conv(v) for v in data.X[i]] for i in rel]
    Y = [conv(data.y[i]) for i in rel]
    bo = conv(beta_out)
    n = len(rel)
    G = [[Y[i] * sum(a * c for a, c in zip(X[i], X[j])) for j in range(n)] for i in range(n)]
    g_all = [sum(G[i][j] for i in range(n)) for j in range(n)]          # C·x_j, C = Σ y_i x_i
    yx = [[Y[i] * v for v in X[i]] for i in range(n)]
    C = [sum(yx[i][k] for i in range(n)) for k in range(d)]
    # c_S·x_j = bo·(C·x_j) + (1 − bo)·Σ_{i∈S} G_ij, updated along a Gray code
    partial = [0] * n
    inS = [False] * n
    candidates, degenerate, seen = [], 0, 0

    def sign(v):
        return (v > 0) - (v < 0)

    for step in range(2 ** n):
        if step:
            k = (step & -step).bit_length() - 1                         # flip point k
            inS[k] = not inS[k]
            sgn = 1 if inS[k] else -1
            for j in range(n):
                partial[j] += sgn * G[k][j]
        seen += 1
        vals = [sign(bo * g_all[j] + (1 - bo) * partial[j]) for j in range(n)]
        for sigma in (1, -1):
            if all(sigma * v == (1 if inS[j] else -1) for j, v in enumerate(vals)):
                S = frozenset(rel[j] for j in range(n) if inS[j])
                cS = [bo * C[k] + (1 - bo) * sum(yx[i][k] for i in range(n) if inS[i]) for k in range(d)]
                if all(v == 0 for v in cS):
                    degenerate += 1
                    continue
                candidates.append((S, sigma, cS))
    points = []
    for S, sigma, cS in candidates:
        c = [as_sympy(sympy.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v) for v in cS]
        norm2 = sum(v * v for v in c)
        root = sympy.sqrt(norm2)
        b = [sigma * v / root for v in c]
        f = sigma * root                                                 # f(b) = c_S·b on the cell S
        u = _build(problem, b, sigma, widths, 1)
        decision = problem.decide(u)
        value = decision.value
        predicted = root * sympy.Integer(L) ** sympy.Rational(-L, 2)
        points.append(RankOnePoint(u, value, decision.sign, S, b, f, decision,
                                   decision.norm_identity["holds"], predicted))
    res = RankOneResult(points, None, True, degree=problem.degree,
                        patterns={"patterns": 2 ** n, "points_used": n, "candidates": len(candidates),
                                  "degenerate_c_S_zero": degenerate})
    res.notes.append("points with y_i = 0 or x_i = 0 do not enter N and are left out of the patterns")
    for pt in points:
        if sympy.simplify(pt.value - pt.predicted_value) != 0:
            res.notes.append(f"S = {sorted(pt.pattern)}: N(u) != |f(b)| L^(-L/2) (construction inconsistent)")
    smooth_max = max((pt.f for pt in points if pt.f > 0), default=None)
    res.kink_maximum = _kink_search(problem, rel, X, Y, bo, d, widths, smooth_max, search_seed, search_samples)
    if res.kink_maximum is not None:
        res.notes.append("the maximum of f on the sphere sits on a kink: no point of the list is built from the "
                         "one-neuron maximizer, so the largest N in the list is not the largest N over rank-one "
                         "points of this form")
    else:
        res.notes.append("the float search found no kink point above the largest smooth value of f "
                         "(search only: not a proof that the maximum is smooth)")
    res.seconds = time.perf_counter() - t0
    return res


# -- kink maximum (p = 1) -------------------------------------------------------------------------
#: Clarke cells and vertex columns spent on deciding the kink maximum's rank-one point
KINK_VERTICES = 64

def _kink_search(problem, rel, X, Y, bo, d, widths, smooth_max, seed, samples):
    """Search for a face of the arrangement where f exceeds every smooth KKT value; certify it exactly."""
    import numpy as np

    Xf = np.array([[float(v) for v in x] for x in X]) if X else np.zeros((0, d))
    Yf = np.array([float(y) for y in Y])
    bof = float(bo)

    def f(B):
        Z = B @ Xf.T
        return (np.where(Z > 0, Z, bof * Z) * Yf).sum(axis=-1)

    rng = np.random.default_rng(seed)
    B = rng.normal(size=(samples, d))
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    vals = f(B)
    best = B[np.argsort(vals)[-12:]]
    faces = set()
    for b in best:
        eta = 0.2
        for _ in range(400):                       # ascent inside cells (zigzags into a kink face)
            z = Xf @ b
            c = ((np.where(z > 0, 1.0, bof) * Yf)[:, None] * Xf).sum(axis=0)
            g = c - (c @ b) * b
            b = b + eta * g
            b /= np.linalg.norm(b)
            eta *= 0.985
        z = np.abs(Xf @ b) / np.maximum(np.linalg.norm(Xf, axis=1), 1e-300)
        for tol in (1e-6, 1e-4, 1e-3, 1e-2):
            Z = tuple(int(i) for i in np.nonzero(z < tol)[0])
            if Z:
                faces.add((Z, tuple(int(v) for v in np.sign(Xf @ b))))
    best_face = None
    for Z, signs in sorted(faces):
        cand = _face_point(X, Y, bo, d, Z, signs)
        if cand is None:
            continue
        bstar, f2 = cand
        if smooth_max is not None and not f2 > as_sympy(smooth_max) ** 2:
            continue
        if best_face is None or f2 > best_face[2]:
            best_face = (Z, bstar, f2)
    if best_face is None:
        return None
    Z, bstar, f2 = best_face
    fval = sympy.sqrt(f2)
    u = _build(problem, bstar, 1, widths, 1)
    from .. import limits

    # the kink point's units sit on kinks at several points at once: its joint Clarke patterns are
    # decided under a small cell budget (inconclusive past it; `symkkt ncf` on the point decides it fully)
    with limits.overridden(vertices=min(limits.get("vertices"), KINK_VERTICES)):
        dec = problem.decide(u)
    norms_ok = dec.norm_identity["holds"]          # ‖W_l‖² = d_l/K·‖u‖², decided in the field of u
    return {"face": [rel[i] for i in Z], "b": [format_number(v) for v in bstar], "f": format_number(fval),
            "smooth_max": "none positive" if smooth_max is None else format_number(as_sympy(smooth_max)),
            "certified": "exact: b* realizes its face's signs, f(b*)^2 > (largest smooth f)^2 compared exactly",
            "u": [format_number(v) for v in u],
            "decision": {"verdict": dec.verdict, "clarke_set": dec.clarke_set,
                         "reason": dec.reason + (f" (here at most {KINK_VERTICES} cells are spent; `symkkt ncf` on "
                                                 "this point, key u, decides it with the full budget)"
                                                 if dec.verdict == "inconclusive" else ""),
                         "value": format_number(dec.value), "norms_ok": norms_ok}}


def _face_point(X, Y, bo, d, Z, signs):
    """b* = P_V c/‖P_V c‖ on V = {b : b·x_i = 0, i in Z}, with the signs of the other points; exact.

    Returns (b*, f(b*)²) or None when b* does not realize the signs strictly or P_V c = 0."""
    Xs = [[as_sympy(v) for v in x] for x in X]
    Ys = [as_sympy(y) for y in Y]
    bos = as_sympy(bo)
    others = [i for i in range(len(X)) if i not in Z]
    if any(signs[i] == 0 for i in others):
        return None
    c = sympy.Matrix([sum((Ys[i] * (1 if signs[i] > 0 else bos) * Xs[i][k] for i in others), sympy.Integer(0))
                      for k in range(d)])
    A = sympy.Matrix([Xs[i] for i in Z])
    basis = A.nullspace()
    if not basis:
        return None
    B = sympy.Matrix.hstack(*basis)
    proj = B * (B.T * B).inv() * (B.T * c)
    f2 = sympy.expand((proj.T * proj)[0])     # exact: a rational
    if f2 == 0:
        return None
    for i in others:                                # exact signs of b*·x_i (the positive scale does not matter)
        v = sum(proj[k] * Xs[i][k] for k in range(d))
        if (v > 0) != (signs[i] > 0) or v == 0:
            return None
    root = sympy.sqrt(f2)
    return [sympy.radsimp(v / root) for v in proj], f2


# -- p > 1: exact eigen-lines of the cell forms -------------------------------------------------
#: largest degree of a point's number field built by default (``--limit field_degree`` raises it)
RANK_ONE_DEGREE = 64


def _is_square(q):
    q = sympy.Rational(q)
    return q >= 0 and math.isqrt(int(q.p)) ** 2 == int(q.p) and math.isqrt(int(q.q)) ** 2 == int(q.q)


def supports(widths, p, K):
    """Support sizes m_l of the hidden vectors that keep every layer scale rational.

    The hidden vectors a_l are indicators of the first m_l units (constant on their support, as
    p > 1 requires), W_l = c_l 1 1ᵀ (1 < l < L), W_L = ε c_L 1ᵀ and W_1 = 1 βᵀ with ‖β‖² = M, so
    ‖W_l‖² = c_l² m_l m_(l−1) must be p^(L−l)·ρ. ρ = 1/K gives a unit point; otherwise any ρ
    (a direction). Returns ``(m, rho, unit)`` with the largest supports (a unit point among
    equals), or None.

    Examples
    --------
    >>> supports([4, 1], 3, 4)                  # L = 2: c_2^2 = (1/4)/m_1, m_1 = 4 gives 1/16
    ([4], 1/4, True)
    >>> supports([3, 1], 3, 4)                  # a unit point needs m_1 = 1; a direction keeps all 3
    ([3], 3, False)
    >>> supports([3, 3, 1], 2, 7)               # no unit point: a direction with rho = m_2
    ([2, 3], 3, False)
    """
    L = len(widths)
    hidden = widths[:-1]

    def search(rho):
        def grow(ms):
            l = len(ms)                      # choose m_(l+1) for hidden layer l + 1 (1-based)
            if l == L - 1:
                return ms if _is_square(rho / ms[-1]) else None
            for m in range(hidden[l], 0, -1):
                if l >= 1 and not _is_square(sympy.Integer(p) ** (L - l - 1) * rho / (m * ms[-1])):
                    continue
                found = grow(ms + [m])
                if found:
                    return found
            return None

        return grow([])

    options = []
    unit = search(sympy.Rational(1, K))
    if unit:
        options.append((sum(unit), 1, unit, sympy.Rational(1, K), True))
    for m_last in range(hidden[-1], 0, -1):
        found = search(sympy.Integer(m_last))
        if found:
            options.append((sum(found), 0, found, sympy.Integer(m_last), False))
            break
    if not options:
        return None
    _, _, m, rho, unit = max(options, key=lambda o: (o[0], o[1]))
    return m, rho, unit


def _alg_text(K, coords):
    """An element of Q(θ) as a polynomial in θ (the point's generator)."""
    terms = []
    for i, c in enumerate(coords):
        if c == 0:
            continue
        c = sympy.Rational(int(c.p), int(c.q))
        mono = "" if i == 0 else ("θ" if i == 1 else f"θ^{i}")
        if not mono:
            terms.append(format_number(c))
        elif c == 1:
            terms.append(mono)
        elif c == -1:
            terms.append("-" + mono)
        else:
            terms.append(f"{format_number(c)}*{mono}")
    return " + ".join(terms).replace("+ -", "- ") if terms else "0"


def _field_json(K):
    lo, hi = K.interval
    return {"theta": f"real root {K.root_index} (counted from 0, from below) of the minimal polynomial",
            "minimal_polynomial": str(K.minpoly.as_expr()).replace("**", "^"), "degree": K.degree,
            "index": K.root_index, "interval": [str(lo), str(hi)], "approx": str(sympy.N(K.generator, 30))}


def _approx(v):
    return str(sympy.N(as_sympy(v), 20))


def _polynomial(problem, rel, d, s, p, L, widths, seed):
    """Exact smooth one-neuron KKT points (p > 1) in every cell, each built and decided."""
    from .. import limits
    from .one_neuron import Unsolved, cells, eigenline_bound, eigenlines

    data = problem.data
    P = p ** (L - 1)
    K = problem.degree
    budget = max(RANK_ONE_DEGREE, limits.get("field_degree"))
    rational = all(v.is_Rational for i in rel for v in data.X[i]) and all(data.y[i].is_Rational for i in rel) \
        and s.is_Rational
    why = None
    if not rational:
        why = "exact eigen-lines need rational data, targets and slope"
    elif d >= 4 and P != 2:
        why = f"exact eigen-lines of forms of degree P = {P} ≥ 3 are computed for d ≤ 3 (here d = {d})"
    elif eigenline_bound(P, d) > (budget if d <= 2 or P == 2 else budget // 4):
        why = (f"a cell form of degree P = {P} in d = {d} variables has up to {eigenline_bound(P, d)} eigen-lines, "
               f"past the budget of {budget // 4} for d = 3 (a quarter of the field degree budget {budget}; raise "
               "it with --limit field_degree=N)")
    scales = supports(widths, p, K)
    if scales is None and why is None:
        why = "no support sizes keep the layer scales rational (a square root of p would be needed)"
    if why:
        res = _polynomial_search(problem, rel, d, s, p, L, seed)
        res.notes.insert(0, why + "; the float search below stands in")
        return res
    m, rho, unit = scales
    v = sympy.Integer(-1)
    for _ in range(L - 1):
        v = max(v, s * v) ** p
    gamma = v * (-1) ** P                              # φ(z) = γ z^P for z < 0
    X = [[sympy.Rational(v) for v in data.X[i]] for i in rel]
    Y = [sympy.Rational(data.y[i]) for i in rel]
    from flint import fmpq

    Xq = [[fmpq(int(c.p), int(c.q)) for c in x] for x in X]
    gens = sympy.symbols(f"b0:{d}")
    powers = [sympy.Poly(sum(c * g for c, g in zip(x, gens)), *gens, domain="QQ") ** P for x in X]
    arrangement = cells([[Fraction(int(c.p), int(c.q)) for c in x] for x in X])
    M = sympy.Integer(p) ** (L - 1) * rho / m[0]
    points, unsolved, unbuilt, faces, seen = [], [], [], 0, set()
    for S in arrangement:
        F = sum((y * (1 if sg > 0 else gamma) * pw for y, sg, pw in zip(Y, S, powers)),
                sympy.Poly(0, *gens, domain="QQ"))
        if F.is_zero:
            continue

        def screen(balls, S=S):
            zs = [sum((b * c for b, c in zip(balls, x)), 0 * balls[0]) for x in Xq]
            return any(not any((o * z < 0 and sg > 0) or (o * z > 0 and sg < 0) for z, sg in zip(zs, S))
                       for o in (1, -1))

        try:
            lines = eigenlines(F, screen)
        except Unsolved as err:
            unsolved.append({"pattern": sorted(rel[j] for j in range(len(rel)) if S[j] > 0), "reason": str(err)})
            continue
        for line in lines:
            K0 = line[0].field
            for o in (1, -1):
                b0 = [o * c for c in line]
                z = [sum((c * x for c, x in zip(b0, xi)), 0 * b0[0]) for xi in Xq]
                signs = [v.sign() for v in z]
                if any(sg != 0 and sg != t for sg, t in zip(signs, S)):
                    continue
                Fv = _power_sum(Y, S, gamma, z, P)
                if Fv.is_zero():
                    continue
                face = [rel[j] for j, sg in enumerate(signs) if sg == 0]
                if face:
                    key = (tuple(face), tuple(round(float(v.field.approx(v.c)), 9) for v in b0))
                    if key in seen:
                        continue
                    seen.add(key)
                    faces += 1
                pattern = frozenset(rel[j] for j, sg in enumerate(signs) if sg > 0)
                if 2 * K0.degree > budget:
                    unbuilt.append({"pattern": sorted(pattern), "degree": 2 * K0.degree})
                    continue
                try:
                    points.append(_build_polynomial(problem, b0, Fv.sign(), pattern, face, M, m, rho, unit,
                                                    widths, p, L))
                except Unsolved as err:
                    unbuilt.append({"pattern": sorted(pattern), "degree": 2 * K0.degree, "reason": str(err)})
    complete = not unsolved and not unbuilt
    res = RankOneResult(points, None, complete, degree=K,
                        patterns={"power": p, "P": P, "cells": len(arrangement), "points_used": len(rel),
                                  "candidates": len(points) + len(unbuilt), "on_faces": faces})
    res.notes.append("points with y_i = 0 or x_i = 0 do not enter N and are left out of the patterns")
    res.notes.append(f"p = {p}: on each cell f is a form of degree P = {P}; its eigen-lines were computed exactly "
                     "(eigenvectors for P = 2, else resultants; real roots of irreducible factors), so the list of critical points of f on the "
                     "sphere with f != 0 is complete" + ("" if complete else " except as noted"))
    res.notes.append("σ is C¹ for p ≥ 2, so f is C¹ on the sphere: its maximum is the largest f in this list, and "
                     "points on a face b·x_i = 0 (listed with their face) are critical points too; no kink maximum")
    res.notes.append(f"hidden vectors: indicators of the first {m} units (constant on the support); "
                     + ("u is a unit KKT point" if unit else "u is a KKT direction (the scales of a unit point "
                                                             "would need a square root of p)"))
    for item in unsolved:
        res.notes.append(f"cell S = {item['pattern']}: not solved exactly ({item['reason']})")
    for item in unbuilt:
        res.notes.append(f"S = {item['pattern']}: its point is not built ({item['reason']})" if "reason" in item
                         else f"S = {item['pattern']}: its point needs a field of degree {item['degree']} "
                              f"> {budget}; not built (raise with --limit field_degree=N)")
    return res


def _power_sum(Y, S, gamma, z, P):
    out = 0 * z[0]
    for y, t, zv in zip(Y, S, z):
        acc = zv
        for _ in range(P - 1):
            acc = acc * zv
        coef = y * (1 if t > 0 else gamma)
        out = out + acc * zv.field.element(coef)
    return out


def _build_polynomial(problem, b0, eps, pattern, face, M, m, rho, unit, widths, p, L):
    """The rank-one u from an exact eigen-direction b0 (entries in Q(t0)), decided exactly."""
    from .one_neuron import adjoin_sqrt

    K0 = b0[0].field
    q0 = sum((v * v for v in b0), 0 * b0[0])
    if K0.degree == 1:
        lam = sympy.sqrt(M / q0.to_sympy())
        beta = [lam * v.to_sympy() for v in b0]
        field = None
    else:
        field, lam_el, embed = adjoin_sqrt(K0, q0.inverse() * K0.element(M))
        beta = [field.to_sympy((lam_el * embed(v)).c) for v in b0]
    ms = list(m) + [1]
    c = [None] + [sympy.sqrt(sympy.Integer(p) ** (L - 1 - l) * rho / (ms[l] * ms[l - 1])) for l in range(1, L)]
    zero = sympy.Integer(0)
    W = [[beta if i < m[0] else [zero] * len(beta) for i in range(widths[0])]]
    for l in range(1, L - 1):
        W.append([[c[l] if (i < m[l] and j < m[l - 1]) else zero for j in range(widths[l - 1])]
                  for i in range(widths[l])])
    W.append([[eps * c[L - 1] if j < m[L - 2] else zero for j in range(widths[L - 2])]])
    u = [v for Wl in W for row in Wl for v in row]
    decision = problem.decide(u, direction=not unit, field=field)
    root_M = sympy.sqrt(M)
    if field is None:
        b = [sympy.radsimp(v / root_M) for v in beta]
    elif root_M.is_Rational:                      # b = β/√M lies in Q(θ)
        b = [v / root_M for v in beta]
    else:
        b = None                                  # b needs √M as well: u carries it
    return RankOnePoint(u, decision.value, decision.sign, pattern, b, None, decision,
                        decision.norm_identity["holds"], numfield=field, face=face, f_sign=eps)


def _polynomial_search(problem, rel, d, s, p, L, seed):
    """A float64 search for smooth one-neuron KKT points (projected ascent and descent; not decided)."""
    import mpmath
    import numpy as np

    data = problem.data
    Xf = np.array([[float(v) for v in data.X[i]] for i in rel])
    P = p ** (L - 1)
    Yf = np.array([float(data.y[i]) for i in rel])
    unit = max((np.abs(Yf) * np.linalg.norm(Xf, axis=1) ** P).sum(), 1e-300)
    Yf = Yf / unit                                 # f / unit: its Hessian on the sphere is of order P^2
    v = -1.0
    for _ in range(L - 1):
        v = (max(v, float(s) * v)) ** p
    phi_neg = v                                    # φ(z) = z^P (z > 0), phi_neg·|z|^P (z < 0)

    def grad_f(B):
        """f and ∇f at the rows of B."""
        Z = B @ Xf.T
        A = np.abs(Z)
        dphi = np.where(Z > 0, P * A ** (P - 1), -phi_neg * P * A ** (P - 1))
        phi = np.where(Z > 0, A ** P, phi_neg * A ** P)
        return phi @ Yf, (dphi * Yf) @ Xf

    rng = np.random.default_rng(seed)
    B = rng.normal(size=(120, d))
    B /= np.linalg.norm(B, axis=1, keepdims=True)
    sense = np.repeat([[1.0], [-1.0]], 60, axis=0)            # ascent from 60 starts, descent from 60
    h = 1.0 / (2 * P * P + 1)
    for _ in range(6000):                                      # projected gradient steps, all starts at once
        _, G = grad_f(B)
        G = sense * (G - (G * B).sum(axis=1, keepdims=True) * B)
        step = np.linalg.norm(G, axis=1, keepdims=True)
        if step.max() < 1e-15:
            break
        B = B + h * G / np.maximum(1.0, step)
        B /= np.linalg.norm(B, axis=1, keepdims=True)
    F, G = grad_f(B)
    found = []
    for b, fv, g in zip(B, F, G):
        res = np.linalg.norm(g - P * fv * b)
        z = Xf @ b
        if res < 1e-10 and np.min(np.abs(z)) > 1e-6 and abs(fv) > 1e-12:
            if not any(np.linalg.norm(b - c) < 1e-6 for c, _ in found):
                found.append((b, fv))
    out = []
    mpmath.mp.dps = 30
    for b, fv in found:
        S = sorted(rel[j] for j in range(len(rel)) if Xf[j] @ b > 0)
        out.append({"pattern": S, "b": [mpmath.nstr(mpmath.mpf(v), 15) for v in b], "f": mpmath.nstr(mpmath.mpf(fv * unit), 15)})
    res = RankOneResult([], None, False, approximate=out, degree=problem.degree,
                        patterns={"power": p, "search_starts": 120, "candidates": len(out)})
    res.notes.append(f"p = {p}: the one-neuron critical points solve a polynomial system of degree {P}; they "
                     "were found by a float search (local ascent/descent on the sphere), not decided exactly, "
                     "and the list may be incomplete")
    return res
