"""Deep linear nets and the exact hard-margin SVM.

A fully-connected linear net without biases, Φ(θ; x) = W_m ⋯ W_1 x = w(θ)·x with m weight layers,
has every feasible θ' of P_Φ give an SVM-feasible end-to-end vector w(θ') (y_k w·x_k >= 1), so
‖w(θ')‖ >= ‖w*‖ for the hard-margin SVM solution w*, and

    ‖θ'‖² = Σ_l ‖W_l‖_F² >= m (Π_l ‖W_l‖_F)^(2/m) >= m ‖w(θ')‖^(2/m) >= m ‖w*‖^(2/m)

(arithmetic–geometric means, then ‖w‖ <= Π ‖W_l‖_op <= Π ‖W_l‖_F). A feasible θ with
‖θ‖² <= m‖w*‖^(2/m), i.e. (‖θ‖²/m)^m <= ‖w*‖² (no root taken), is therefore a global optimum. At
a KKT point the layers are balanced and rank one along w*, and equality holds, so every KKT
point of a linear net is a global optimum; any other feasible θ is beaten by the balanced
rank-one factorization of w*, which :func:`shorter_linear` writes down with rational factors.

w* is certified by its SVM multipliers α >= 0: w* = Σ α_k y_k x_k, y_k w*·x_k >= 1, α_k = 0 where
the margin exceeds 1. Then for every SVM-feasible w, ‖w‖² >= ‖w*‖² + 2 w*·(w − w*) =
‖w*‖² + 2 Σ α_k (y_k w·x_k − 1) >= ‖w*‖² (convexity of ‖·‖²), so w* is the SVM solution.

How w* is found: a float coordinate-descent solve of the SVM dual proposes the support; the
exact solution on an independent subset of it (a Gram system) is checked as above; if the
check fails, supports of at most d independent points are tried in order of size (one of
them works whenever the data are linearly separable, by Carathéodory's theorem for cones).

What it trusts: exact field arithmetic (:mod:`symkkt.field`); floats only propose supports.

Examples
--------
>>> import sympy
>>> from symkkt.field import NumberField
>>> K = NumberField(sympy.Integer(1))
>>> sol = hard_margin_svm(K, [[3, 4], [5, 5], [-6, -8]], [1, 1, -1])
>>> [str(v) for v in sol.w], [str(a) for a in sol.alpha]
(['3/25', '4/25'], ['1/25', '0', '0'])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from symkkt.linear import rank_profile
from symkkt.optimality.dual import dot, _solve


@dataclass
class SVMSolution:
    """The hard-margin SVM solution w* and its multipliers α (field elements)."""

    w: list
    alpha: list

    @property
    def norm2(self):
        zero = self.w[0] - self.w[0]
        return dot(self.w, self.w, zero)


def is_deep_linear(network):
    """Whether the net is fully connected (dense layers only), bias-free and linear throughout."""
    layers = network.arch.layers
    if len(network.arch.input) != 1 or any(l.kind != "dense" or l.bias for l in layers):
        return False
    if layers[-1].width != 1:
        return False
    return all(r.kind == "linear" for r in network.rules.values())


def _float_support(G):
    """Coordinate descent on the SVM dual min ½αᵀQα − Σα, α >= 0 (Q = G Gᵀ); the support it proposes."""
    Q = G @ G.T
    n = len(G)
    alpha = np.zeros(n)
    diag = np.maximum(np.diag(Q), 1e-300)
    for _ in range(3000):
        old = alpha.copy()
        for k in range(n):
            alpha[k] = max(0.0, alpha[k] - (Q[k] @ alpha - 1.0) / diag[k])
        if np.abs(alpha - old).max() < 1e-14 * max(1.0, alpha.max()):
            break
    return [k for k in range(n) if alpha[k] > 1e-9 * max(1.0, alpha.max())]


def _on_support(G, support, zero, one):
    if support:
        R, _ = rank_profile([G[k] for k in support], zero, one)
        support = [support[r] for r in R]
    rows = [G[k] for k in support]
    M = [[dot(a, b, zero) for b in rows] for a in rows]
    coef = _solve(M, [one] * len(rows), zero, one) if rows else []
    w = [zero] * len(G[0])
    for c, g in zip(coef, rows):
        w = [u + c * v for u, v in zip(w, g)]
    alpha = [zero] * len(G)
    for k, c in zip(support, coef):
        alpha[k] = c
    return w, alpha


def _is_svm(G, w, alpha, zero, one):
    if any(a.sign() < 0 for a in alpha):
        return False
    for g, a in zip(G, alpha):
        m = dot(g, w, zero) - one
        if m.sign() < 0 or (m.sign() > 0 and not a.is_zero()):
            return False
    return True


def hard_margin_svm(K, X, y):
    """The exact hard-margin SVM (min ½‖w‖² s.t. y_k w·x_k >= 1) over the field K, or ``None``
    when the data are not linearly separable (no support of independent points works)."""
    zero, one = K.element(0), K.element(1)
    G = [[K.element(v) * int(yk) for v in x] for x, yk in zip(X, y)]
    d = len(G[0])
    guess = _float_support(np.array([[float(v) for v in g] for g in G]))
    faces = itertools.chain([guess], (list(f) for s in range(1, min(len(G), d) + 1)
                                      for f in itertools.combinations(range(len(G)), s)))
    for face in faces:
        if face is not guess and len(rank_profile([G[k] for k in face], zero, one)[0]) < len(face):
            continue                # a dependent support repeats a smaller one
        w, alpha = _on_support(G, list(face), zero, one)
        if face and _is_svm(G, w, alpha, zero, one):
            return SVMSolution(w, alpha)
    return None


def end_to_end(network, theta, K):
    """w(θ) = W_m ⋯ W_1 as a list of field elements (row vector)."""
    layers = network.unflatten(list(theta))
    M = [[K.element(v) for v in row] for row in layers[0]["weight"]]
    for layer in layers[1:]:
        W = [[K.element(v) for v in row] for row in layer["weight"]]
        M = [[dot(Wr, [M[t][j] for t in range(len(M))], K.element(0)) for j in range(len(M[0]))] for Wr in W]
    return M[0]


def balance_and_rank(network, theta, K):
    """(balanced, rank_one): W_{l+1}ᵀW_{l+1} = W_l W_lᵀ for every l, and every W_l of rank <= 1 —
    the structure every KKT point of a linear net has (reported; the bound does not need them)."""
    zero = K.element(0)
    Ws = [[[K.element(v) for v in row] for row in layer["weight"]] for layer in network.unflatten(list(theta))]
    balanced = True
    for A, B in zip(Ws, Ws[1:]):                # A: h × n (layer l), B: k × h (layer l + 1)
        h = len(A)
        for i in range(h):
            for j in range(h):
                left = dot([B[r][i] for r in range(len(B))], [B[r][j] for r in range(len(B))], zero)
                if not (left - dot(A[i], A[j], zero)).is_zero():
                    balanced = False
    rank_one = all(len(rank_profile(W, zero, K.element(1))[0]) <= 1 for W in Ws)
    return balanced, rank_one


def _rational_above(x, den):
    """A fraction >= the positive float x (roughly, for a first proposal), denominator ``den``."""
    return Fraction(int(np.ceil(x * den)), den)


def shorter_linear(network, K, svm, norm2_theta):
    """A feasible θ' with ‖θ'‖² < ‖θ‖² = ``norm2_theta`` (field element), exact, or ``None``.

    θ' is rank one along w*: W_1 = a·e_1 w*ᵀ, W_l = b·e_1 e_1ᵀ (1 < l < m), W_m = b·e_1ᵀ, with
    a = b^(1−m), so w(θ') = w* (feasible) and ‖θ'‖² = a²‖w*‖² + (m − 1) b², close to m‖w*‖^(2/m)
    for b near ‖w*‖^(1/m); b is rational and refined until θ' is shorter, if it can be.
    """
    widths = [l.width for l in network.arch.layers]
    dims = [len(svm.w)] + widths
    m = len(widths)
    zero = K.element(0)
    n2 = svm.norm2
    candidates = []
    if m == 1:
        candidates.append(None)
    else:
        target = float(n2) ** (1.0 / (2 * m))
        for den in (10**3, 10**6, 10**12, 10**24):
            candidates.append(_rational_above(target, den))
    for b in candidates:
        layers = []
        for l in range(m):
            rows, cols = dims[l + 1], dims[l]
            W = [[zero] * cols for _ in range(rows)]
            if l == 0:
                a = K.element(1) if b is None else K.element(1 / (b ** (m - 1)))
                W[0] = [a * v for v in svm.w]
            else:
                W[0][0] = K.element(b)
            layers.append(W)
        flat = [v for W in layers for row in W for v in row]
        n2p = dot(flat, flat, zero)
        if (n2p - norm2_theta).sign() < 0:
            return [v.to_sympy() for v in flat]
    return None
