"""The canonical form of a shallow ReLU realization on a box, and the same-function test.

On the open box Ω = (lo, hi)^d a neuron x ↦ a relu(w·x + b) is one of three kinds:

- *dead*: w·x + b ≤ 0 on Ω (it contributes 0); with w = 0 this is b ≤ 0;
- *affine*: w·x + b ≥ 0 on Ω (it contributes a(w·x + b)); with w = 0 the constant a·b;
- *visible*: its hyperplane {w·x + b = 0} meets Ω, i.e. min_Ω (w·x + b) < 0 < max_Ω (w·x + b); both
  extremes are sums of endpoint terms b + Σ_j min/max(w_j lo, w_j hi), computed exactly.

A visible neuron is written on its normalized hyperplane H = (n, β) = (w, b)/‖w‖_∞, oriented so
that the first non-zero entry of n is positive; the identity a relu(z) = a z + a relu(−z) moves
the linear part of a flipped neuron into (v, c̃). Hence, on Ω,

    R(x) = Σ_H μ_H relu(n_H·x + β_H) + v·x + c̃,   μ_H = Σ_{i on H} a_i ‖w_i‖_∞ ≠ 0.

This form is unique: the kink set of R in Ω is the union of the hyperplanes H ∩ Ω with μ_H ≠ 0
(the gradient jumps by μ_H n_H across H), which fixes every (n_H, β_H, μ_H), and then (v, c̃) is
the affine remainder. Two parametrizations realize the same function on Ω iff their
canonical forms are equal. When they differ, :func:`same_realization` returns a point of the
open box where the values differ: either the difference form is affine and non-zero, or it
has a hyperplane H with jump μ ≠ 0, and then at a point q of H ∩ Ω off the other hyperplanes
the second difference h(q + δn) + h(q − δn) − 2h(q) = δ μ ‖n‖² is not zero, so one of the three
values is not zero.

What this module trusts: exact arithmetic of the domain (:mod:`symkkt.realize.net`).

Examples
--------
>>> from symkkt.realize.net import ShallowNet
>>> f = ShallowNet.of([[1], [-1], [2], [1]], [0, 0, -4, "1/2"], [1, 1, 5, 0], 0)   # |x|, a dead neuron
>>> canonical_form(f)
CanonicalForm on (-1, 1)^1: 2 relu(x1) - x1; dead [2]; affine []
>>> g = ShallowNet.of([[2]], [0], [1], 0)            # relu(2x) = 2 relu(x) ≠ |x| for x < 0
>>> same, point = same_realization(f, g)
>>> same, point, f(point), g(point)
(False, (1/2,), 1/2, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError
from .net import fmt, relu, to_domain, unify

__all__ = ["CanonicalForm", "canonical_form", "same_realization", "neuron_kind", "box_range",
           "normalize", "check_box", "difference_witness"]


def check_box(lo, hi, file="<command line>", place="--domain"):
    """Raise :class:`UsageError` unless lo < hi."""
    if not lo < hi:
        raise UsageError(f"the box needs LO < HI, got LO = {fmt(lo)}, HI = {fmt(hi)}", file, place)


def box_range(w, b, lo, hi):
    """(min, max) of w·x + b over the closed box [lo, hi]^d, exactly."""
    mn = mx = b
    for wj in w:
        p, q = wj * lo, wj * hi
        if p < q:
            mn, mx = mn + p, mx + q
        else:
            mn, mx = mn + q, mx + p
    return mn, mx


def neuron_kind(w, b, lo, hi):
    """``"dead"``, ``"affine"`` or ``"visible"`` for the neuron relu(w·x + b) on (lo, hi)^d.

    Examples
    --------
    >>> from flint import fmpq
    >>> [neuron_kind(w, b, fmpq(-1), fmpq(1)) for w, b in [((fmpq(1),), fmpq(1)), ((fmpq(1),), fmpq(-1)),
    ...                                                     ((fmpq(1),), fmpq(0)), ((fmpq(0),), fmpq(1))]]
    ['affine', 'dead', 'visible', 'affine']
    """
    mn, mx = box_range(w, b, lo, hi)
    if mx <= 0:
        return "dead"
    if mn >= 0:
        return "affine"
    return "visible"


def normalize(w, b):
    """(n, β, s, flipped): (w, b) = ±s (n, β), s = ‖w‖_∞, first non-zero entry of n positive."""
    s = max((x if x > 0 else -x) for x in w)
    first = next(x for x in w if x != 0)
    flipped = first < 0
    if flipped:
        s_ = -s
        return tuple(x / s_ for x in w), b / s_, s, True
    return tuple(x / s for x in w), b / s, s, False


@dataclass(frozen=True)
class CanonicalForm:
    """Σ_H μ_H relu(n_H·x + β_H) + v·x + c on (lo, hi)^d.

    Attributes
    ----------
    hyperplanes : dict
        ``(n, beta) -> mu`` with μ ≠ 0, ``n`` a tuple with max |n_j| = 1 and first non-zero entry > 0.
    v : tuple
        The linear part.
    c : object
        The constant.
    dead, affine : tuple
        Indices of the dead and of the affine neurons of the parametrization (not part of
        the function: ignored by ``==``).
    lo, hi : object
        The box.
    members : dict
        ``(n, beta) -> tuple`` of the visible neuron indices on each hyperplane (also those
        whose jumps cancel; ignored by ``==``).
    """

    hyperplanes: dict
    v: tuple
    c: object
    dead: tuple = field(default=(), compare=False)
    affine: tuple = field(default=(), compare=False)
    lo: object = -1
    hi: object = 1
    members: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def d(self):
        return len(self.v)

    def sorted_hyperplanes(self):
        """[(n, beta, mu)] in lexicographic order of (n, beta)."""
        return [(n, beta, self.hyperplanes[(n, beta)]) for n, beta in sorted(self.hyperplanes)]

    def __call__(self, x):
        """The exact value at x (a tuple of domain elements)."""
        out = self.c + sum((vj * xj for vj, xj in zip(self.v, x)), self.c * 0)
        for (n, beta), mu in self.hyperplanes.items():
            out = out + mu * relu(sum((nj * xj for nj, xj in zip(n, x)), beta))
        return out

    def gradient(self, x):
        """The exact gradient at a point off the hyperplanes (ValueError on one)."""
        g = list(self.v)
        for (n, beta), mu in self.hyperplanes.items():
            z = sum((nj * xj for nj, xj in zip(n, x)), beta)
            if z == 0:
                raise ValueError("the point lies on a kink")
            if z > 0:
                g = [gj + mu * nj for gj, nj in zip(g, n)]
        return tuple(g)

    def __sub__(self, other):
        """The canonical form of the difference of the two functions (same box)."""
        hyp = dict(self.hyperplanes)
        for key, mu in other.hyperplanes.items():
            new = hyp.get(key, mu * 0) - mu
            if new == 0:
                hyp.pop(key, None)
            else:
                hyp[key] = new
        return CanonicalForm(hyp, tuple(p - q for p, q in zip(self.v, other.v)), self.c - other.c,
                             lo=self.lo, hi=self.hi)

    def is_zero(self):
        return not self.hyperplanes and all(x == 0 for x in self.v) and self.c == 0

    def to_json(self):
        """Exact strings: hyperplanes (normal, offset, jump, neurons), linear, constant, dead, affine."""
        return {"domain": [fmt(self.lo), fmt(self.hi)],
                "hyperplanes": [{"normal": [fmt(x) for x in n], "offset": fmt(beta), "jump": fmt(mu),
                                 "neurons": list(self.members.get((n, beta), ()))}
                                for n, beta, mu in self.sorted_hyperplanes()],
                "linear": [fmt(x) for x in self.v], "constant": fmt(self.c),
                "dead": list(self.dead), "affine": list(self.affine)}

    def formula(self):
        """The function as text, e.g. ``2 relu(x1 - 1/2) - x1 + 1``."""
        terms = []
        for n, beta, mu in self.sorted_hyperplanes():
            terms.append(_term(mu, f"relu({_linear(n, beta)})"))
        for j, vj in enumerate(self.v):
            if vj != 0:
                terms.append(_term(vj, f"x{j + 1}"))
        text = " ".join(terms).lstrip("+ ")
        if text.startswith("- "):
            text = "-" + text[2:]
        c = fmt(self.c)
        if text and c == "0":
            return text
        return (text + (f" - {c[1:]}" if c.startswith("-") else f" + {c}")) if text else c

    def __repr__(self):
        return (f"CanonicalForm on ({fmt(self.lo)}, {fmt(self.hi)})^{self.d}: {self.formula()}; "
                f"dead {list(self.dead)}; affine {list(self.affine)}")


def _paren(s):
    return f"({s})" if any(ch in s[1:] for ch in "+- ") else s


def _term(coef, what):
    s = fmt(coef)
    neg = s.startswith("-")
    mag = s[1:] if neg else s
    body = what if mag == "1" else f"{_paren(mag)} {what}"
    return ("- " if neg else "+ ") + body


def _linear(n, beta):
    parts = []
    for j, nj in enumerate(n):
        if nj != 0:
            parts.append(_term(nj, f"x{j + 1}"))
    if beta != 0:
        s = fmt(beta)
        parts.append(f"- {s[1:]}" if s.startswith("-") else f"+ {s}")
    text = " ".join(parts).lstrip("+ ")
    return "-" + text[2:] if text.startswith("- ") else text


def canonical_form(net, lo=-1, hi=1):
    """The canonical form of the realization of ``net`` on the open box (lo, hi)^d.

    Parameters
    ----------
    net : ShallowNet
    lo, hi : exact numbers
        The box; lo < hi.

    Returns
    -------
    CanonicalForm

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> net = ShallowNet.of([[2, 0], [-1, 0], [0, 0]], ["-1", "1/2", 3], [1, 4, 2], 0)
    >>> cf = canonical_form(net)
    >>> cf                                    # 2 relu(x1 - 1/2) + 4 relu(-x1 + 1/2) + 2 relu(3)
    CanonicalForm on (-1, 1)^2: 6 relu(x1 - 1/2) - 4 x1 + 8; dead []; affine [2]
    >>> cf(to_domain([1, 0])) == net(to_domain([1, 0]))
    True
    """
    (net,), (lo, hi) = unify([net], [lo, hi])
    check_box(lo, hi)
    zero = lo * 0
    v = [zero] * net.d
    c = net.c
    hyp, members, dead, affine = {}, {}, [], []
    for i, (w, b, a) in enumerate(zip(net.W, net.b, net.a)):
        kind = neuron_kind(w, b, lo, hi)
        if kind == "dead":
            dead.append(i)
        elif kind == "affine":
            affine.append(i)
            v = [vj + a * wj for vj, wj in zip(v, w)]
            c = c + a * b
        else:
            n, beta, s, flipped = normalize(w, b)
            if flipped:  # a relu(z) = a z + a relu(-z)
                v = [vj + a * wj for vj, wj in zip(v, w)]
                c = c + a * b
            key = (n, beta)
            hyp[key] = hyp.get(key, zero) + a * s
            members[key] = members.get(key, ()) + (i,)
    hyp = {k: mu for k, mu in hyp.items() if mu != 0}
    return CanonicalForm(hyp, tuple(v), c, tuple(dead), tuple(affine), lo, hi, members)


def _center(d, lo, hi):
    return tuple([(lo + hi) / 2] * d)


def _affine_value(n, beta, x):
    return sum((nj * xj for nj, xj in zip(n, x)), beta)


def _point_on(n, beta, lo, hi):
    """A point of the hyperplane n·x + β = 0 inside the open box (the hyperplane is visible)."""
    d = len(n)
    ctr = _center(d, lo, hi)
    xmin = tuple(ctr[j] if n[j] == 0 else (lo if n[j] > 0 else hi) for j in range(d))
    xmax = tuple(ctr[j] if n[j] == 0 else (hi if n[j] > 0 else lo) for j in range(d))

    def inward(corner, want):
        t = (lo * 0 + 1) / 2
        while True:
            p = tuple(cj + t * (mj - cj) for cj, mj in zip(corner, ctr))
            val = _affine_value(n, beta, p)
            if (val < 0) if want < 0 else (val > 0):
                return p, val
            t = t / 2

    p0, f0 = inward(xmin, -1)
    p1, f1 = inward(xmax, 1)
    s = -f0 / (f1 - f0)
    return tuple(a + s * (b - a) for a, b in zip(p0, p1))


def difference_witness(form):
    """A point of the open box where the (non-zero) canonical form ``form`` is not zero.

    Parameters
    ----------
    form : CanonicalForm
        Typically ``canonical_form(A) - canonical_form(B)``.

    Returns
    -------
    tuple or None
        None when the form is zero.
    """
    if form.is_zero():
        return None
    lo, hi, d = form.lo, form.hi, form.d
    ctr = _center(d, lo, hi)
    if form(ctr) != 0:
        return ctr
    if not form.hyperplanes:
        j = next(j for j, vj in enumerate(form.v) if vj != 0)
        return tuple(x + (hi - lo) / 4 if k == j else x for k, x in enumerate(ctr))
    # the hyperplane with the largest jump; a point of it off the others
    (n, beta), mu = max(form.hyperplanes.items(), key=lambda kv: kv[1] if kv[1] > 0 else -kv[1])
    others = [(k, m) for k, m in form.hyperplanes.items() if k != (n, beta)]
    q0 = _point_on(n, beta, lo, hi)
    k0 = next(j for j, nj in enumerate(n) if nj != 0)
    us = [tuple((lo * 0 + 1) if r == j else (-n[j] / n[k0] if r == k0 else lo * 0) for r in range(d))
          for j in range(d) if j != k0]
    tmax = len(others) * max(d - 1, 1) + 1
    curve = [tuple(sum((t ** (e + 1) * u[r] for e, u in enumerate(us)), lo * 0) for r in range(d))
             for t in range(1, tmax + 1)]
    slack = min(min(x - lo, hi - x) for x in q0)
    big = max([max((x if x > 0 else -x) for x in D) for D in curve if D] + [lo * 0 + 1])
    scale = slack / (2 * big) if d > 1 else lo * 0
    q = None
    for D in curve:
        cand = tuple(x + scale * y for x, y in zip(q0, D))
        if all(_affine_value(m, bt, cand) != 0 for (m, bt), _ in others):
            q = cand
            break
    assert q is not None, "a point of the moment curve avoids every other hyperplane"
    # δ: the segment q ± δn stays in the box and crosses no other hyperplane
    cands = []
    for j, nj in enumerate(n):
        if nj != 0:
            a = nj if nj > 0 else -nj
            cands += [(q[j] - lo) / a, (hi - q[j]) / a]
    for (m, bt), _ in others:
        dot = sum((mj * nj for mj, nj in zip(m, n)), lo * 0)
        if dot != 0:
            s = -_affine_value(m, bt, q) / dot
            cands.append(s if s > 0 else -s)
    delta = min(cands) / 2
    for p in (q, tuple(x + delta * y for x, y in zip(q, n)), tuple(x - delta * y for x, y in zip(q, n))):
        if form(p) != 0:
            return p
    raise AssertionError("the second difference across a kink is not zero")


def same_realization(net_a, net_b, lo=-1, hi=1):
    """Whether two networks realize the same function on the open box (lo, hi)^d.

    Returns
    -------
    (bool, tuple or None)
        ``(True, None)``, or ``(False, x)`` with x in the open box and R_A(x) ≠ R_B(x).

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> f = ShallowNet.of([[1], [2]], [0, "-1/2"], [3, 1], 1)
    >>> g = f.permuted([1, 0]).scaled(0, 4)
    >>> same_realization(f, g)
    (True, None)
    """
    (net_a, net_b), (lo, hi) = unify([net_a, net_b], [lo, hi])
    if net_a.d != net_b.d:
        raise ValueError(f"the networks have input dimensions {net_a.d} and {net_b.d}")
    fa, fb = canonical_form(net_a, lo, hi), canonical_form(net_b, lo, hi)
    if fa == fb:
        return True, None
    return False, difference_witness(fa - fb)
