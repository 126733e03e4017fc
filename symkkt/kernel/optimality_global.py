"""Claims about global optimality in P_Φ (minimise ½‖θ‖² subject to q_k(θ) = y_k Φ(θ; x_k) >= 1).

- ``not_global_optimum``: ``witness.shorter`` is a parameter point θ' (same architecture) with every
  q_k(θ') >= 1 and ‖θ'‖² < ‖θ‖², recomputed exactly. Then θ is not a global optimum.
- ``global_optimum``: θ is feasible (every q_k(θ) >= 1, recomputed) and one of two bounds shows
  that no feasible θ' is shorter:

  * ``method: deep_linear_svm`` — every layer dense, linear, without bias; m layers. The witness
    gives w* and α: α >= 0, w* = Σ α_k y_k x_k, y_k w*·x_k >= 1 with α_k = 0 where it is > 1. Then
    w* is the hard-margin SVM solution (for SVM-feasible w, ‖w‖² >= ‖w*‖² + 2w*·(w − w*) =
    ‖w*‖² + 2Σ α_k (y_k w·x_k − 1) >= ‖w*‖²). Every feasible θ' has an SVM-feasible end-to-end
    vector w(θ') = W_m ⋯ W_1, and ‖θ'‖² = Σ‖W_l‖_F² >= m (Π‖W_l‖_F)^(2/m) >= m‖w(θ')‖^(2/m) >=
    m‖w*‖^(2/m). Checked: (‖θ‖²/m)^m <= ‖w*‖², so ‖θ‖² <= ‖θ'‖².
  * ``method: dual_bound`` — two dense layers without bias, a scalar linear output and a hidden
    activation σ with σ(z) = z (z >= 0), s·z (z < 0) (linear, relu, leaky_relu). For multipliers
    λ >= 0 (``witness.multipliers``) and F(w) = Σ_k λ_k y_k σ(w·x_k), S(λ) = sup_{‖w‖<=1} |F(w)|,
    every feasible θ' has Σλ <= Σ_k λ_k q_k(θ') = Σ_j v_j‖w_j‖ F(w_j/‖w_j‖) <= S(λ)·½‖θ'‖². The
    kernel recomputes S(λ)²: ``witness.cells`` lists one interior point per cell of the central
    arrangement of the hyperplanes x_k·w = 0 (every x_k·w != 0 for x_k != 0; the sign patterns
    are pairwise different, so they are different cells) and their number is compared with the
    number of cells the kernel counts itself by deletion–restriction, r(A) = r(A − H) + r(A
    restricted to H): so every cell is listed. On the closed cone C of a cell, F(w) = c·w with
    c = Σ_k λ_k y_k σ'_k x_k (σ'_k = 1 or s by the sign), and sup_{C ∩ ball} ±F = ‖Π_C(±c)‖. For
    each sign the witness names an active set (``faces``: point indices); the kernel solves the
    Gram system for p = ±c + Σ_{k in face} μ_k g_k with g_k·p = 0 on the face (g_k = sign_k x_k)
    and accepts p as the projection only if μ >= 0 and g_k·p >= 0 for every k (the projection's
    optimality conditions). The largest ‖p‖² must equal ``witness.s_squared``. Checked: S(λ) > 0
    and (½‖θ‖²)²·S(λ)² <= (Σλ)², so ½‖θ‖² <= Σλ / S(λ) <= ½‖θ'‖².

Limits: the number of cells, and of cells counted, against ``vertices``; every field operation
against ``operations``.

Trusted: the field arithmetic of :mod:`.field`, the parser of :mod:`.exact` and the networks of
:mod:`.network`.

Examples
--------
>>> from symkkt.kernel import certificate_digest, check_certificate
>>> cert = {"symkkt_certificate": 1, "claim": {"kind": "global_optimum"},
...         "architecture": {"input": [2], "layers": [{"dense": {"width": 1}}]},
...         "data": {"points": [{"x": ["1", "0"], "y": 1}]}, "parameters": [{"weight": [["1", "0"]]}],
...         "witness": {"method": "deep_linear_svm", "svm_weight": ["1", "0"], "svm_multipliers": ["1"]}}
>>> cert["digest"] = certificate_digest(cert)
>>> check_certificate(cert).valid
True
>>> cert["witness"]["svm_weight"] = ["1", "1"]
>>> cert["digest"] = certificate_digest(cert)
>>> check_certificate(cert).reason
'w* != Σ α_k y_k x_k at coordinate 1'
"""
from .exact import Numbers
from .field import Invalid
from .network import Network, _keys

STATEMENTS = {
    "global_optimum": "theta is a global optimum of the max-margin problem",
    "not_global_optimum": "theta is not a global optimum of the max-margin problem",
}


class _Problem:
    """Field, network, θ, data and the recomputed margins of a certificate."""

    def __init__(self, cert, limits):
        claim = cert["claim"]
        _keys(claim, {"kind", "statement"}, "claim")
        kind = claim["kind"]
        if "statement" in claim and claim["statement"] != STATEMENTS[kind]:
            raise Invalid(f"claim.statement: must be the canonical statement {STATEMENTS[kind]!r} (or absent)")
        self.witness = cert["witness"]
        self.arch = cert["architecture"]
        self.limits = limits
        self.N = Numbers(self.witness.get("field"), limits)
        self.F = self.N.F
        self.net = Network(self.arch, self.N)
        self.theta = self.net.parameters(cert["parameters"])
        self.xs, self.y = self.net.points(cert["data"])
        self.n, self.d = len(self.xs), len(self.xs[0])

    def margins(self, theta):
        out = []
        for x, y in zip(self.xs, self.y):
            o = self.net.evaluate(theta, x).output
            out.append(o if y > 0 else self.F.neg(o))
        return out

    def dot(self, a, b):
        return self.F.sum(self.F.mul(u, v) for u, v in zip(a, b))

    def vector(self, v, where, length):
        if not isinstance(v, list) or len(v) != length:
            raise Invalid(f"{where}: must be a list of {length} numbers")
        return [self.N.num(c, f"{where}[{i}]") for i, c in enumerate(v)]

    def fmt(self, a):
        return self.F.show(a)

    def feasible(self, theta, what):
        one = self.F.const(1)
        for k, q in enumerate(self.margins(theta)):
            if self.F.cmp(q, one) < 0:
                raise Invalid(f"{what} is not feasible: margin of point {k} is {self.fmt(q)} < 1")


def _dense_layers(arch):
    """The bodies of the layers if every one is ``dense`` without bias, else None."""
    bodies = []
    for spec in arch.get("layers", []):
        if not isinstance(spec, dict) or list(spec) != ["dense"] or not isinstance(spec["dense"], dict):
            return None
        if spec["dense"].get("bias", False):
            return None
        bodies.append(spec["dense"])
    return bodies if len(arch.get("input", [])) == 1 else None


# -- not_global_optimum ---------------------------------------------------------------------------
def not_global(cert, limits):
    P = _Problem(cert, limits)
    _keys(P.witness, {"field", "shorter"}, "witness")
    shorter = P.net.parameters(P.witness.get("shorter"))
    P.feasible(shorter, "witness.shorter")
    a, b = P.dot(shorter, shorter), P.dot(P.theta, P.theta)
    if P.F.cmp(a, b) >= 0:
        raise Invalid(f"witness.shorter is not shorter: ‖θ'‖² = {P.fmt(a)}, ‖θ‖² = {P.fmt(b)}")
    return f"θ' = witness.shorter is feasible (all margins >= 1) and ‖θ'‖² = {P.fmt(a)} < ‖θ‖² = {P.fmt(b)}"


# -- global_optimum ---------------------------------------------------------------------------------
def global_optimum(cert, limits):
    P = _Problem(cert, limits)
    method = P.witness.get("method")
    if method == "deep_linear_svm":
        return _svm(P)
    if method == "dual_bound":
        return _dual_bound(P)
    raise Invalid(f"witness.method: must be 'deep_linear_svm' or 'dual_bound', got {method!r}")


def _svm(P):
    F = P.F
    _keys(P.witness, {"field", "method", "svm_weight", "svm_multipliers"}, "witness")
    bodies = _dense_layers(P.arch)
    if bodies is None or any(b.get("activation", "linear") != "linear" for b in bodies):
        raise Invalid("deep_linear_svm needs dense linear layers without bias")
    m = len(bodies)
    P.feasible(P.theta, "θ")
    w = P.vector(P.witness.get("svm_weight"), "witness.svm_weight", P.d)
    alpha = P.vector(P.witness.get("svm_multipliers"), "witness.svm_multipliers", P.n)
    one = F.const(1)
    total = [()] * P.d
    for k, (x, y, a) in enumerate(zip(P.xs, P.y, alpha)):
        if F.sign(a) < 0:
            raise Invalid(f"SVM multiplier {k} is negative")
        margin = P.dot(w, x) if y > 0 else F.neg(P.dot(w, x))
        s = F.cmp(margin, one)
        if s < 0:
            raise Invalid(f"w* is not SVM-feasible: y_k w*·x_k = {P.fmt(margin)} < 1 at point {k}")
        if s > 0 and not F.is_zero(a):
            raise Invalid(f"SVM multiplier {k} is not 0 although the margin {P.fmt(margin)} > 1")
        ay = a if y > 0 else F.neg(a)
        total = [F.add(t, F.mul(ay, v)) for t, v in zip(total, x)]
    for i, (t, v) in enumerate(zip(total, w)):
        if not F.is_zero(F.sub(t, v)):
            raise Invalid(f"w* != Σ α_k y_k x_k at coordinate {i}")
    n2, wn2 = P.dot(P.theta, P.theta), P.dot(w, w)
    lhs = F.power(F.div(n2, F.const(m)), m)
    if F.cmp(lhs, wn2) > 0:
        raise Invalid(f"(‖θ‖²/m)^m = {P.fmt(lhs)} > ‖w*‖² = {P.fmt(wn2)}: the SVM bound does not reach θ")
    return (f"w* is the hard-margin SVM solution (multipliers checked), ‖w*‖² = {P.fmt(wn2)}; θ is feasible and "
            f"(‖θ‖²/m)^m <= ‖w*‖² with m = {m} layers, so no feasible θ' is shorter")


def _distinct(F, normals):
    """Non-zero normals, one per hyperplane (parallel normals define the same hyperplane)."""
    out = []
    for a in normals:
        i = next((i for i, v in enumerate(a) if not F.is_zero(v)), None)
        if i is None:
            continue
        if not any(all(F.is_zero(F.sub(F.mul(b[i], a[j]), F.mul(b[j], a[i]))) for j in range(len(a))) for b in out):
            out.append(a)
    return out


def count_cells(F, normals, dim, limits):
    """Cells of the central arrangement {w : a·w = 0} in R^dim, by deletion–restriction (stops past the
    ``vertices`` limit)."""
    total = [0]

    def rec(hyper, d):
        hyper = _distinct(F, hyper)
        if not hyper or d == 1:
            total[0] += 1 if not hyper else 2
            limits.check("vertices", total[0], "cells of the data's hyperplane arrangement (counted)")
            return
        h, rest = hyper[-1], hyper[:-1]
        i = next(i for i, v in enumerate(h) if not F.is_zero(v))
        rec(rest, d)
        # the trace of a^⊥ on H = h^⊥, in the coordinates of H (coordinate i eliminated)
        rec([[F.sub(a[l], F.mul(F.div(a[i], h[i]), h[l])) for l in range(len(a)) if l != i] for a in rest], d - 1)

    rec(list(normals), dim)
    return total[0]


def _solve(F, M, rhs, where):
    """x with M x = rhs (exact Gauss–Jordan); a singular M is an invalid certificate."""
    n = len(M)
    H = [list(M[i]) + [rhs[i]] for i in range(n)]
    for c in range(n):
        piv = next((i for i in range(c, n) if not F.is_zero(H[i][c])), None)
        if piv is None:
            raise Invalid(f"{where}: the face's rows are linearly dependent")
        H[c], H[piv] = H[piv], H[c]
        inv = F.inv(H[c][c])
        H[c] = [F.mul(v, inv) for v in H[c]]
        for i in range(n):
            if i != c and not F.is_zero(H[i][c]):
                f = H[i][c]
                H[i] = [F.sub(u, F.mul(f, v)) for u, v in zip(H[i], H[c])]
    return [H[i][n] for i in range(n)]


def _projection(P, c, rows, face, where):
    """‖Π_C(c)‖² for C = {w : g·w >= 0, g in rows.values()}, from the active set ``face``."""
    F = P.F
    if not isinstance(face, list) or len(face) > P.d:
        raise Invalid(f"{where}: must be a list of at most {P.d} point indices")
    for k in face:
        if not isinstance(k, int) or isinstance(k, bool) or k not in rows:
            raise Invalid(f"{where}: {k!r} is not a point with x_k·w != 0 in this cell")
    if len(set(face)) != len(face):
        raise Invalid(f"{where}: repeated point index")
    G = [rows[k] for k in face]
    mu = _solve(F, [[P.dot(a, b) for b in G] for a in G], [F.neg(P.dot(a, c)) for a in G], where)
    p = list(c)
    for m, g in zip(mu, G):
        if F.sign(m) < 0:
            raise Invalid(f"{where}: a multiplier of the projection is negative (not the projection)")
        p = [F.add(u, F.mul(m, v)) for u, v in zip(p, g)]
    for k, g in rows.items():
        if F.sign(P.dot(g, p)) < 0:
            raise Invalid(f"{where}: the point is outside the cone at point {k} (not the projection)")
    return P.dot(p, p)


def _dual_bound(P):
    F = P.F
    _keys(P.witness, {"field", "method", "multipliers", "s_squared", "cells"}, "witness")
    bodies = _dense_layers(P.arch)
    if bodies is None or len(bodies) != 2 or bodies[1].get("width") != 1 or \
            bodies[1].get("activation", "linear") != "linear":
        raise Invalid("dual_bound needs two dense layers without bias and a scalar linear output")
    act = P.net.weight_layers[0].act
    if act.kind != "pl" or act.p != 1:
        raise Invalid("dual_bound needs a positively 1-homogeneous piecewise linear hidden activation")
    slope = {1: F.const(1), -1: act.s}
    P.feasible(P.theta, "θ")
    lam = P.vector(P.witness.get("multipliers"), "witness.multipliers", P.n)
    for k, v in enumerate(lam):
        if F.sign(v) < 0:
            raise Invalid(f"multiplier {k} is negative")
    s2 = P.N.num(P.witness.get("s_squared"), "witness.s_squared")
    cells = P.witness.get("cells")
    if not isinstance(cells, list) or not cells:
        raise Invalid("witness.cells: must be a non-empty list")
    P.limits.check("vertices", len(cells), "cells of the data's hyperplane arrangement (listed)")
    counted = count_cells(F, P.xs, P.d, P.limits)
    if counted != len(cells):
        raise Invalid(f"witness.cells lists {len(cells)} cells, the arrangement has {counted}")
    seen, best = set(), None
    for i, cell in enumerate(cells):
        where = f"witness.cells[{i}]"
        _keys(cell, {"interior", "faces"}, where)
        w = P.vector(cell.get("interior"), f"{where}.interior", P.d)
        signs = []
        for k, x in enumerate(P.xs):
            s = F.sign(P.dot(x, w))
            if s == 0 and any(not F.is_zero(v) for v in x):
                raise Invalid(f"{where}.interior: lies on the hyperplane of point {k}")
            signs.append(s)
        if tuple(signs) in seen:
            raise Invalid(f"{where}: same sign pattern as an earlier cell")
        seen.add(tuple(signs))
        rows = {k: (x if s > 0 else [F.neg(v) for v in x]) for k, (x, s) in enumerate(zip(P.xs, signs)) if s}
        c = [()] * P.d
        for k, (x, s) in enumerate(zip(P.xs, signs)):
            if s:
                coef = F.mul(lam[k] if P.y[k] > 0 else F.neg(lam[k]), slope[s])
                c = [F.add(u, F.mul(coef, v)) for u, v in zip(c, x)]
        faces = cell.get("faces")
        if not isinstance(faces, list) or len(faces) != 2:
            raise Invalid(f"{where}.faces: must be two active sets (for +c and for −c)")
        for sign, face in zip((1, -1), faces):
            value = _projection(P, c if sign > 0 else [F.neg(v) for v in c], rows, face,
                                f"{where}.faces[{0 if sign > 0 else 1}]")
            best = value if best is None or F.cmp(value, best) > 0 else best
    if not F.is_zero(F.sub(best, s2)):
        raise Invalid(f"witness.s_squared is {P.fmt(s2)}, the cells give S(λ)² = {P.fmt(best)}")
    if F.sign(s2) <= 0:         # S = 0 (e.g. λ = 0): Σλ <= S·½‖θ'‖² says nothing about θ'
        raise Invalid("S(λ) = 0: the dual bound gives no lower bound on ‖θ'‖")
    half = F.div(P.dot(P.theta, P.theta), F.const(2))
    total = F.sum(lam)
    lhs, rhs = F.mul(F.mul(half, half), s2), F.mul(total, total)
    if F.cmp(lhs, rhs) > 0:
        raise Invalid(f"(½‖θ‖²)²·S(λ)² = {P.fmt(lhs)} > (Σλ)² = {P.fmt(rhs)}: the dual bound does not reach θ")
    return (f"dual bound: S(λ)² = {P.fmt(s2)} recomputed over all {counted} cells of the data's arrangement; "
            f"θ is feasible and (½‖θ‖²)·S(λ) <= Σλ, so no feasible θ' is shorter")


CLAIMS = {"global_optimum": global_optimum, "not_global_optimum": not_global}
