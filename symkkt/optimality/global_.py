"""Global optimality of a parameter point θ of P_Φ: proofs, refutations and their certificates.

θ (feasible) is a *global optimum* of P_Φ (minimise ½‖θ‖² subject to q_k(θ) = y_k Φ(θ; x_k) >= 1)
when no feasible θ' is shorter. Decided here:

- **deep linear SVM** (fully-connected linear nets of any depth m, no biases): with w* the exact
  hard-margin SVM solution, every feasible θ' has ‖θ'‖² >= m‖w*‖^(2/m) (:mod:`.svm`), so θ is a
  global optimum iff ‖θ‖² <= m‖w*‖^(2/m); otherwise a rank-one factorization of w* with rational
  factors is an exact shorter feasible point. Every KKT point of such a net is global;
- **dual bound S(λ)** (two-layer nets Σ_j v_j σ(w_j·x), no biases, σ linear, ReLU or leaky ReLU):
  for λ >= 0 and feasible θ', Σ_k λ_k <= S(λ)·½‖θ'‖² (:mod:`.dual`), so (½‖θ‖²)·S(λ) <= Σ_k λ_k —
  at a KKT point with its multipliers, S(λ) <= 1 — proves θ global, whatever the width. S(λ) is
  computed exactly over the cells of the data's hyperplane arrangement. A bound S(λ) > 1 alone
  proves nothing for a fixed width;
- **shorter feasible point** (refutation): an exact feasible θ' with ‖θ'‖ < ‖θ‖. It is searched
  for (floats only propose; every candidate is checked exactly): from an improving curve of the
  local decision (θ̃(s) at a point of its interval, scaled to feasibility), and for two-layer
  nets from the convex problem over units: min Σ_i |c_i|‖u_i‖ subject to
  y_k Σ_i c_i σ(u_i·x_k) >= 1 is a linear program for fixed directions u_i, whose dual is
  max Σ λ subject to |F(u_i)| <= ‖u_i‖; directions are added where the exact cells show
  |F| > ‖u‖ (column generation). Its solution, if it uses at most as many units as the net has,
  is rounded to rationals, scaled to feasibility and compared exactly;
- a θ that is not a KKT point is not a global optimum (KKT is necessary: MFCQ holds at every
  feasible point of a homogeneous net), and an improving curve that refutes local optimality
  refutes global optimality too.

Anything else is ``inconclusive``, with what was tried. The arrangement has O(n^(d−1)) cells
(n points in dimension d); past the ``vertices`` limit of :mod:`symkkt.limits` the dual bound is
not computed and the answer says so.

Examples
--------
>>> from symkkt.api import load_problem
>>> from symkkt.optimality.global_ import decide_global, zero_unit_paths
>>> problem, theta = load_problem(*zero_unit_paths("optimum.yaml"))
>>> p = decide_global(problem, theta, problem.decide(theta), None)
>>> p.verdict, p.method, p.witness["S_squared"]
('holds', 'dual bound S(lambda)', '1')
>>> problem, theta = load_problem(*zero_unit_paths("params.yaml"))
>>> p = decide_global(problem, theta, problem.decide(theta), None)
>>> from symkkt.numbers import parse_number
>>> p.verdict, p.method, parse_number(p.witness["shorter_squared_norm"]) < 2
('refuted', 'shorter feasible point', True)
"""

from __future__ import annotations

import itertools
import math
import os
from fractions import Fraction

import numpy as np
import sympy

from symkkt.numbers import exact_sign, format_number, parse_number
from symkkt.optimality import dual as _dual
from symkkt.optimality import svm as _svm

#: the canonical statements of the two claim kinds (the kernel requires exactly these)
STATEMENTS = {
    "global_optimum": "theta is a global optimum of the max-margin problem",
    "not_global_optimum": "theta is not a global optimum of the max-margin problem",
}


def zero_unit_paths(params="params.yaml"):
    """(arch, data, params) paths of the packaged zero-unit example (``params.yaml`` or ``optimum.yaml``)."""
    here = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "zero_unit")
    return tuple(os.path.join(here, f) for f in ("arch.yaml", "data.yaml", params))


def _property(*args, **kw):
    from symkkt.optimality.result import Property

    return Property(*args, **kw)


def _fmt(v):
    return format_number(sympy.nsimplify(v) if isinstance(v, float) else v)


def structure(network):
    """``"deep_linear"``, ``"two_layer"`` (one hidden layer of a positively 1-homogeneous piecewise
    linear activation, scalar linear output) or ``None`` (not covered); no biases, dense layers only."""
    arch = network.arch
    if len(arch.input) != 1 or any(l.kind != "dense" or l.bias for l in arch.layers) or arch.layers[-1].width != 1:
        return None
    if _svm.is_deep_linear(network):
        return "deep_linear"
    rules = [network.rules[i] for i in range(len(arch.layers))]
    if len(arch.layers) == 2 and rules[0].piecewise and rules[0].power == 1 and rules[1].kind == "linear":
        return "two_layer"
    return None


# -- the decision -------------------------------------------------------------------------------------
def decide_global(problem, theta, kkt_result, local_property):
    """Decide whether θ is a global optimum of P_Φ.

    Parameters
    ----------
    problem : symkkt.kkt.MaxMarginProblem
    theta : list
        Exact θ (flat, or any form :func:`symkkt.api.as_theta` takes).
    kkt_result : symkkt.kkt.KKTResult
        ``problem.decide(theta)``.
    local_property : Property or None
        The local decision; a refuted one (an improving curve) also refutes global optimality.

    Returns
    -------
    Property
        ``holds`` with method ``"deep linear SVM"`` or ``"dual bound S(lambda)"`` and a
        ``global_optimum`` certificate; ``refuted`` with ``"shorter feasible point"`` (a
        ``not_global_optimum`` certificate), ``"KKT condition fails"`` (the KKT refutation's
        certificate) or ``"improving curve"`` (the local refutation's); or ``inconclusive``.
    """
    from symkkt.api import as_theta

    theta = as_theta(problem.network, theta)
    kind = structure(problem.network)
    L = problem.homogeneity.degree
    dom = problem.domain(theta)
    K = dom.field
    q, _ = problem.margins(theta, dom)
    th = [K.element(v) for v in theta]
    N = _dual.dot(th, th, K.element(0))
    feasible = all((m - 1).sign() >= 0 for m in q)
    local_refuted = local_property is not None and local_property.verdict == "refuted"
    tried = []

    def shorter(extra=""):
        """A refutation by a shorter feasible point, or None."""
        if not L:
            return None
        cands = []
        if local_refuted:
            cands.append(("improving curve", lambda: _from_curve(problem, local_property.witness, N, L)))
        if kind == "deep_linear":
            cands.append(("rank-one SVM factorization", lambda: _from_svm(problem, K, N)))
        elif kind == "two_layer":
            cands.append(("convex problem over units", lambda: _from_convex(problem, theta, K, N)))
        for name, make in cands:
            found = make()
            tried.append(name)
            if found is not None:
                return _refuted_shorter(problem, theta, found, name, extra)
        return None

    if kkt_result.verdict == "refuted":
        w = kkt_result.to_json().get("witness", {})
        if not feasible:
            return _property("refuted", "infeasible", f"θ is not feasible: {kkt_result.reason}", w,
                             certificate=kkt_result.certificate())
        found = shorter("; θ is not a KKT point either")
        if found is not None:
            return found
        return _property("refuted", "KKT condition fails",
                         "θ is not a KKT point, and a global optimum of P_Φ is one (MFCQ holds at every "
                         f"feasible point): {kkt_result.reason}", w, certificate=kkt_result.certificate())
    if not feasible:    # pragma: no cover - a KKT decision of an infeasible θ is always refuted
        return _property("refuted", "infeasible", "θ is not feasible", {})

    if kind == "deep_linear":
        return _decide_linear(problem, theta, K, N, q)
    if kind == "two_layer":
        found = _decide_dual(problem, theta, kkt_result, K, N)
        if isinstance(found, dict):
            return _property("holds", "dual bound S(lambda)", found.pop("reason"), found,
                             certificate=found.pop("_certificate"))
        note = found
        refuted = shorter()
        if refuted is not None:
            return refuted
        if local_refuted:
            return _reuse_local(local_property)
        return _property("inconclusive", "dual bound S(lambda)",
                         note + "; no shorter feasible point found (tried: " + (", ".join(tried) or "nothing") + ")",
                         {})
    if local_refuted:
        refuted = shorter()
        return refuted if refuted is not None else _reuse_local(local_property)
    return _property("inconclusive", "none",
                     "global optimality is decided for fully-connected linear nets and two-layer nets with a "
                     "positively 1-homogeneous activation, without biases; this network is neither", {})


def _reuse_local(local_property):
    return _property("refuted", "improving curve",
                     "θ is not a local optimum, hence not a global one: " + local_property.reason,
                     dict(local_property.witness), certificate=local_property.certificate)


# -- deep linear nets -------------------------------------------------------------------------------------
def _decide_linear(problem, theta, K, N, q):
    X, y = problem.data.X, problem.data.y
    sol = _svm.hard_margin_svm(K, X, y)
    m = len(problem.network.arch.layers)
    if sol is None:     # pragma: no cover - θ is feasible, so the data are separable
        raise RuntimeError("internal error: feasible θ but no SVM solution")
    n2 = sol.norm2
    lhs = K.element(1)
    for _ in range(m):
        lhs = lhs * (N / m)
    witness = {"svm_weight": [_fmt(v.to_sympy()) for v in sol.w],
               "svm_multipliers": [_fmt(a.to_sympy()) for a in sol.alpha],
               "svm_squared_norm": _fmt(n2.to_sympy()), "layers": m,
               "squared_norm": _fmt(N.to_sympy())}
    w_theta = _svm.end_to_end(problem.network, theta, K)
    witness["end_to_end"] = [_fmt(v.to_sympy()) for v in w_theta]
    witness["balanced"], witness["rank_one"] = _svm.balance_and_rank(problem.network, theta, K)
    if (lhs - n2).sign() <= 0:
        cert = _certificate(problem, theta, "global_optimum",
                            {"method": "deep_linear_svm", "svm_weight": witness["svm_weight"],
                             "svm_multipliers": witness["svm_multipliers"]}, [])
        return _property("holds", "deep linear SVM",
                         f"every feasible θ' has ‖θ'‖² >= m‖w*‖^(2/m) with w* the hard-margin SVM solution "
                         f"(m = {m}), and (‖θ‖²/m)^m = ‖w*‖² = {witness['svm_squared_norm']}", witness,
                         certificate=cert)
    found = _from_svm(problem, K, N)
    return _refuted_shorter(problem, theta, found, "rank-one SVM factorization", "")


def _from_svm(problem, K, N):
    sol = _svm.hard_margin_svm(K, problem.data.X, problem.data.y)
    if sol is None:
        return None
    return _svm.shorter_linear(problem.network, K, sol, N)


# -- two-layer nets: the dual bound --------------------------------------------------------------------
def _slopes(problem):
    rule = problem.network.rules[0]
    return rule.plus, rule.minus


def _decide_dual(problem, theta, kkt_result, K, N):
    """A holds-witness dict (with ``_certificate``) or a sentence saying why the bound does not prove it."""
    from symkkt import limits

    if kkt_result.verdict != "holds":
        return f"θ is not known to be a KKT point ({kkt_result.reason}), so there are no multipliers to bound"
    plus, minus = _slopes(problem)
    def candidates():
        yield kkt_result.multipliers
        if kkt_result.uniqueness.get("unique") is False:
            yield kkt_result.uniqueness["multipliers"]
            yield from _guided_multipliers(problem, theta, kkt_result)
    cap = limits.get("vertices")
    half = N / 2
    notes = []
    for lam in candidates():
        try:
            bound = _dual.dual_bound(K, problem.data.X, problem.data.y, lam, plus, minus, cap=cap)
        except _dual.TooManyCells as err:
            return (f"{err} (raise with --limit vertices=N): S(λ) was not computed")
        total = sum((K.element(v) for v in lam), K.element(0))
        s2 = bound.s2
        lamj = [_fmt(v) for v in lam]
        if s2.sign() > 0 and (half * half * s2 - total * total).sign() <= 0:
            cells = [{"interior": [_fmt(v.to_sympy()) for v in c.interior],
                      "faces": [[c.row_points[i] for i in c.plus.face], [c.row_points[i] for i in c.minus.face]]}
                     for c in bound.cells]
            cert = _certificate(problem, theta, "global_optimum",
                                {"method": "dual_bound", "multipliers": lamj,
                                 "s_squared": _fmt(s2.to_sympy()), "cells": cells},
                                [v for c in bound.cells for v in c.interior] + [s2])
            return {"reason": f"S(λ)² = {_fmt(s2.to_sympy())} <= 1 exactly, over the {len(bound.cells)} cells of the "
                              "data's hyperplane arrangement: every feasible θ' has ½‖θ'‖² >= Σλ/S(λ) >= ½‖θ‖²",
                    "multipliers": lamj, "S_squared": _fmt(s2.to_sympy()), "cells": len(bound.cells),
                    "maximizer": [_fmt(v.to_sympy()) for v in bound.maximizer], "_certificate": cert}
        notes.append(f"S(λ)² = {_fmt(s2.to_sympy())} > 1 for λ = {lamj}")
    return "; ".join(notes) + " (the dual bound proves nothing at this width)"


def _guided_multipliers(problem, theta, kkt_result):
    """Exact KKT multipliers near the convex problem's dual λ (a list, possibly empty).

    When θ is a global optimum, the dual optimum of the convex problem over units is a set of
    KKT multipliers of θ with S(λ) <= 1; its support, read off the float solution, often pins
    the multipliers down. Two candidates, each an exact solution of the KKT system supported where
    the float λ is positive: the rounded float λ moved to the nearest exact solution (when that is
    still >= 0), and a basic solution.
    """
    from symkkt.linear import Feasible, nonnegative_solution, rank_profile

    found = column_generation(problem, theta)
    system = getattr(kkt_result, "_system", None)
    if found is None or system is None:
        return []
    lam_f = found[2]
    support = {k for k, v in enumerate(lam_f) if v > 1e-7 * max(1.0, float(np.max(lam_f)))}
    A, columns, _, th = system
    keep = [i for i, col in enumerate(columns) if col[0] in support]
    if not keep:
        return []
    zero = th[0] - th[0]
    one = zero + 1
    out = []
    As = [[row[i] for i in keep] for row in A]
    # 1. the rounded float λ, moved to the nearest exact solution of A λ = θ on the support
    per_col = {}
    for i in keep:
        k = columns[i][0]
        per_col[i] = lam_f[k] / sum(1 for j in keep if columns[j][0] == k)
    lam_r = [zero.field.element(Fraction(float(per_col[i])).limit_denominator(10**6)) for i in keep]
    R, _ = rank_profile(As, zero, one)
    rows = [As[r] for r in R]
    resid = [th[r] - _dual.dot(As[r], lam_r, zero) for r in R]
    M = [[_dual.dot(a, b, zero) for b in rows] for a in rows]
    try:
        z = _dual._solve(M, resid, zero, one) if rows else []
    except StopIteration:     # pragma: no cover - rows are independent
        z = None
    if z is not None:
        mu = list(lam_r)
        for zi, a in zip(z, rows):
            mu = [u + zi * v for u, v in zip(mu, a)]
        if all(v.sign() >= 0 for v in mu) and all(
                (_dual.dot(row, mu, zero) - t).is_zero() for row, t in zip(As, th)):
            out.append(_per_point(problem, columns, keep, mu, zero))
    # 2. a basic solution of the KKT system on the support
    sol = nonnegative_solution(As, th, lambda v: v.sign(), zero=zero, one=one)
    if isinstance(sol, Feasible):
        out.append(_per_point(problem, columns, keep, sol.x, zero))
    return out


def _per_point(problem, columns, keep, mu, zero):
    lam = [zero] * len(problem.data.y)
    for i, m in zip(keep, mu):
        lam[columns[i][0]] = lam[columns[i][0]] + m
    return [v.to_sympy() for v in lam]


# -- shorter feasible points ----------------------------------------------------------------------------
def _scaled(problem, theta_vals, N):
    """t·θ' for a rational t with every margin >= 1 and ‖tθ'‖² < N exactly, or None."""
    L = problem.homogeneity.degree
    q, _ = problem.margins(theta_vals)
    qmin = min(q)
    if qmin.sign() <= 0:
        return None
    K = qmin.field
    vals = [K.element(v) for v in theta_vals]
    n2 = _dual.dot(vals, vals, K.element(0))
    target = float(qmin) ** (-1.0 / L)
    for den in (10**4, 10**8, 10**16, 10**32):
        t = Fraction(math.ceil(target * den), den)
        for _ in range(3):
            tk = K.element(t)
            tl = K.element(1)
            for _ in range(L):
                tl = tl * tk
            if (tl * qmin - 1).sign() >= 0:
                break
            t += Fraction(1, den)
        else:
            continue
        new2 = (tk * tk * n2).to_sympy()
        if exact_sign(sympy.expand(N.to_sympy() - new2)) > 0:
            return [sympy.Rational(t.numerator, t.denominator) * v for v in theta_vals]
    return None


def _from_curve(problem, witness, N, L):
    """θ̃(s) at s = s₀, s₀/2, s₀/4 of an improving curve, scaled to feasibility, if shorter."""
    try:
        curve = [[parse_number(v) for v in d] for d in witness["curve"]]
        s0 = parse_number(witness["s0"])
    except Exception:       # a witness of another form: nothing to build from
        return None
    if not curve or any(len(d) != problem.network.num_parameters for d in curve):
        return None
    for k in range(4):
        s = s0 / 2**k
        vals = [sympy.expand(sum((s**j * d[i] for j, d in enumerate(curve)), sympy.Integer(0)))
                for i in range(len(curve[0]))]
        found = _scaled(problem, vals, N)
        if found is not None:
            return found
    return None


def _simplex_max(A, c, tol=1e-11):
    """max Σλ s.t. A λ <= c, λ >= 0 with c > 0 (floats, Bland's rule). Returns (λ, y) with y >= 0 the
    dual (one weight per row), or None when unbounded."""
    r, n = A.shape
    T = np.zeros((r + 1, n + r + 1))
    T[:r, :n], T[:r, n:n + r], T[:r, -1] = A, np.eye(r), c
    T[r, :n] = -1.0
    basis = list(range(n, n + r))
    for _ in range(50 * (n + r)):
        enter = next((j for j in range(n + r) if T[r, j] < -tol), None)
        if enter is None:
            break
        col = T[:r, enter]
        rows = [i for i in range(r) if col[i] > tol]
        if not rows:
            return None
        best = min(T[i, -1] / col[i] for i in rows)
        leave = min((i for i in rows if T[i, -1] / col[i] <= best + tol), key=lambda i: basis[i])
        T[leave] /= T[leave, enter]
        for i in range(r + 1):
            if i != leave and T[i, enter] != 0:
                T[i] -= T[i, enter] * T[leave]
        basis[leave] = enter
    lam = np.zeros(n)
    for i, b in enumerate(basis):
        if b < n:
            lam[b] = T[i, -1]
    return lam, np.maximum(T[r, n:n + r], 0.0)


def _rational_vector(v, den=10**6):
    return [Fraction(float(x)).limit_denominator(den) for x in v]


def column_generation(problem, theta, iterations=40):
    """The convex problem over units, in floats: ``(atoms, weights, lam)`` or None.

    min Σ_i |c_i|‖u_i‖ subject to y_k Σ_i c_i σ(u_i·x_k) >= 1 over directions u_i, with its dual
    max Σλ subject to |F_λ(u)| <= ‖u‖: a linear program for the directions found so far (the data
    points ±x_k and θ's units to start with); the direction where the exact cells show the largest
    |F_λ(u)|/‖u‖ > 1 is added, until there is none. A search only: nothing it returns is trusted.
    Cached on the problem per θ.
    """
    from symkkt import limits

    key = tuple(str(v) for v in theta)
    cache = problem.__dict__.setdefault("_column_generation", {})
    if key in cache:
        return cache[key]
    X = np.array([[float(v) for v in x] for x in problem.data.X])
    y = np.array([float(v) for v in problem.data.y])
    plus, minus = (float(v) for v in _slopes(problem))
    width = problem.network.arch.layers[0].width
    d = X.shape[1]
    sig = lambda Z: np.where(Z > 0, plus * Z, minus * Z)                       # noqa: E731
    K = problem.domain(theta).field
    zero = K.element(0)
    Xe = [[K.element(v) for v in x] for x in problem.data.X]
    cache[key] = None
    try:
        patterns = [[_dual.dot(x, w, zero).sign() for x in Xe]
                    for w in _dual.arrangement(K, problem.data.X, limits.get("vertices"))]
    except _dual.TooManyCells:
        return None
    cones = []
    for s in patterns:
        rows = [x * sk for x, sk in zip(X, s) if sk != 0]
        cones.append((np.array(rows).T if rows else None, np.array([plus if sk > 0 else minus for sk in s])))
    atoms = []
    for x in X:
        atoms += [x, -x]
    W1 = np.array([[float(v) for v in theta[j * d:(j + 1) * d]] for j in range(width)])
    atoms += [w for w in W1 if np.linalg.norm(w) > 0]
    atoms = [np.array([float(v) for v in _rational_vector(a)]) for a in atoms]
    weights = lam = None
    for _ in range(iterations):
        U = np.array(atoms)
        M = sig(U @ X.T) * y
        cost = np.linalg.norm(U, axis=1)
        sol = _simplex_max(np.vstack([M, -M]), np.concatenate([cost, cost]))
        if sol is None:
            return None
        lam, dual = sol
        weights = dual[:len(atoms)] - dual[len(atoms):]
        best, arg = 1.0 + 1e-9, None
        for G, slopes in cones:
            c = (lam * y * slopes) @ X
            if np.linalg.norm(c) <= best:         # ‖Π_C(±c)‖ <= ‖c‖: this cell cannot win
                continue
            for sign in (1.0, -1.0):
                if G is not None:
                    mu = _dual._nnls(G, -sign * c)
                    p = sign * c + G @ mu
                else:
                    p = sign * c
                val = np.linalg.norm(p)
                if val > best:
                    best, arg = val, p / val
        if arg is None:
            break
        atoms.append(np.array([float(v) for v in _rational_vector(arg)]))
    if weights is None:
        return None
    cache[key] = (atoms[:len(weights)], weights, lam)
    return cache[key]


def _restricted(problem, atoms):
    """The convex problem with only these directions (floats): (value, weights) or None if infeasible."""
    X = np.array([[float(v) for v in x] for x in problem.data.X])
    y = np.array([float(v) for v in problem.data.y])
    plus, minus = (float(v) for v in _slopes(problem))
    U = np.array(atoms)
    Z = U @ X.T
    M = np.where(Z > 0, plus * Z, minus * Z) * y
    cost = np.linalg.norm(U, axis=1)
    sol = _simplex_max(np.vstack([M, -M]), np.concatenate([cost, cost]))
    if sol is None:
        return None
    lam, dual = sol
    return float(lam.sum()), dual[:len(atoms)] - dual[len(atoms):]


def _from_convex(problem, theta, K, N, combinations=300):
    """The column generation's solution rounded to rationals and scaled to feasibility: an exact
    shorter θ', or None. When it needs more units than the net has, the best choices of at most
    ``width`` of its directions (and of θ's own) are tried, each re-solved as a linear program."""
    found = column_generation(problem, theta)
    if found is None:
        return None
    atoms, weights, _ = found
    width = problem.network.arch.layers[0].width
    size = np.abs(weights) * np.linalg.norm(np.array(atoms), axis=1)
    order = [i for i in np.argsort(-size) if abs(weights[i]) > 1e-12]
    if not order:
        return None
    plans = [([atoms[i] for i in order], [weights[i] for i in order])] if len(order) <= width else []
    if len(order) > width:
        pool = [atoms[i] for i in order[:8]]
        W1 = [np.array([float(v) for v in theta[j * len(atoms[0]):(j + 1) * len(atoms[0])]]) for j in range(width)]
        pool += [w for w in W1 if np.linalg.norm(w) > 0]
        scored = []
        for combo in itertools.islice(itertools.combinations(range(len(pool)), min(width, len(pool))), combinations):
            res = _restricted(problem, [pool[i] for i in combo])
            if res is not None:
                scored.append((res[0], [pool[i] for i in combo], list(res[1])))
        scored.sort(key=lambda t: t[0])
        plans = [(a, w) for _, a, w in scored[:3]]
    for chosen, wts in plans:
        built = _build(problem, chosen, wts, width, N)
        if built is not None:
            return built
    return None


def _build(problem, atoms, weights, width, N):
    """Units v_i σ(w_i·x) with w_i = r_i u_i, v_i = c_i / r_i (r_i ≈ (|c_i|/‖u_i‖)^(1/2), rational), the
    rest zero, scaled to feasibility: shorter than ‖θ‖² = N, or None."""
    d = len(problem.data.X[0])
    keep = [(u, c) for u, c in zip(atoms, weights) if abs(c) > 1e-12]
    for den in (10, 100, 10**4, 10**6, 10**9):        # small denominators first: a readable θ'
        W, v = [], []
        for u, c in keep:
            u = _rational_vector(u, den)
            nu = math.sqrt(sum(float(t) ** 2 for t in u))
            if nu == 0:
                continue
            r = Fraction(math.sqrt(abs(c) / nu)).limit_denominator(den) or Fraction(1, den)
            W.append([r * t for t in u])
            v.append(Fraction(float(c) / float(r)).limit_denominator(den))
        W += [[Fraction(0)] * d for _ in range(width - len(W))]
        v += [Fraction(0)] * (width - len(v))
        vals = [sympy.Rational(t.numerator, t.denominator) for t in [e for row in W for e in row] + v]
        found = _scaled(problem, vals, N)
        if found is not None:
            return found
    return None


def _refuted_shorter(problem, theta, found, how, extra):
    from symkkt.api import as_theta

    found = as_theta(problem.network, found)
    n2 = sympy.expand(sum((v * v for v in found), sympy.Integer(0)))
    params = _params(problem, found)
    witness = {"shorter": params, "shorter_squared_norm": _fmt(n2),
               "squared_norm": _fmt(sympy.expand(sum((v * v for v in theta), sympy.Integer(0)))), "found_by": how}
    cert = _certificate(problem, theta, "not_global_optimum", {"shorter": params}, list(found))
    return _property("refuted", "shorter feasible point",
                     f"θ' (found by {how}) is feasible with ‖θ'‖² = {witness['shorter_squared_norm']} < "
                     f"‖θ‖² = {witness['squared_norm']}" + extra, witness, certificate=cert)


# -- certificates -----------------------------------------------------------------------------------------
def _params(problem, flat):
    from symkkt.certificate import _format_params

    layers = problem.network.unflatten(list(flat))
    return _format_params([{"weight": l["weight"], **({"bias": l["bias"]} if l["bias"] is not None else {})}
                           for l in layers])


def _certificate(problem, theta, kind, witness, extra_numbers):
    """A ``global_optimum`` / ``not_global_optimum`` certificate (:mod:`symkkt.kernel.optimality_global`)."""
    from symkkt.certificate import finish
    from symkkt.tensor import ExactDomain

    numbers = list(theta) + [v for x in problem.data.X for v in x] + problem.network.constants()
    numbers += [v.to_sympy() if hasattr(v, "to_sympy") else v for v in extra_numbers]
    field = ExactDomain.for_numbers(numbers).field
    cert = {"symkkt_certificate": 1,
            "claim": {"kind": kind, "statement": STATEMENTS[kind]},
            "architecture": problem.network.arch.to_json(),
            "data": problem.data.to_json(),
            "parameters": _params(problem, theta),
            "witness": witness}
    return finish(cert, field)
