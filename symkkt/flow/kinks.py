"""The Clarke selection at kinks, the same in every tier: the sign each hidden pre-activation gets.

Where a pre-activation z is exactly 0, both nets take σ' at the *lower end* of its Clarke
interval [min(1, s), max(1, s)] (ReLU: 0), and the children of a split unit, whose
pre-activations are a_i·z when η = Tθ, inherit their parent's element; then
∇L̃(Tθ) = T∇L(θ) holds at kinks too. The exact tier reads exact signs. The other tiers see
rounded values (``precision``, ``float``) or enclosures (``balls``), so a :class:`KinkRule`
decides for them, in this order:

1. **The start.** θ_0 and η_0 = Tθ_0 are exact, so every sign at the start is the exact sign of
   an exact forward pass (:func:`exact_start_signs`): a data point on a kink gets the lower end
   in both nets, in every tier.
2. **Idle first-layer units.** The first weight layer reads the data, which are exact. If every
   gradient the run has used so far is exactly 0 on a unit's incoming weights and bias, every
   optimizer here has only rescaled them (θ_r ← λ_k θ_r with one λ_k for all r: 1 for GD,
   momentum, Adam and RK4, 1 − lr·κ for weight decay; an optimizer declares this with
   ``keeps_idle_coordinates``), so a pre-activation that was exactly 0 at the start is still
   exactly 0: a proved kink (:meth:`KinkRule.observe` keeps the record).
3. **Otherwise, by tier.**

   - ``balls``: the certified sign of the ball; a ball that is exactly 0 is a kink; a ball that
     contains 0 and is not a proved kink is never guessed: :class:`~symkkt.flow.arith.Undecided`
     (the run stops, inconclusive).
   - ``precision`` and ``float``: one decision per *group*, the units that come from the same
     narrow unit (an unsplit unit, and every unit of the narrow net, is a group of one). With
     incoming multipliers a_i (the c_i of a split), the group's parent-equivalent value is
     ẑ = Σ a_i z_i / Σ a_i² (= z when z_i = a_i z) and its scale ŝ = Σ |a_i| s_i / Σ a_i², where
     s_i = Σ_j |W_ij| |A_j| (+ |b_i|) bounds the terms of z_i. The group is at a kink when
     |ẑ| ≤ u^(3/4)·ŝ (u the unit roundoff; the rounding noise of a pre-activation is a few u·s),
     else it has the sign of ẑ; child i gets sign(a_i) times the group's decision. The narrow
     net applies the same rule to its own units, so the two nets make the same selection
     whenever η_k is close to Tθ_k, and a sign flipped by rounding at a kink cannot show up as
     a deviation. A pre-activation that is not 0 but below u^(3/4)·s is treated as a kink too
     (in both nets); these tiers observe, they do not prove.

Every decision that lands on a kink is counted (:attr:`KinkRule.counts`); the run reports the
counts (``diagnostics.kinks``).

Examples
--------
>>> import numpy as np
>>> from symkkt.api import load_example
>>> from symkkt.embed import chain, parse_step
>>> from symkkt.flow.arith import make_arithmetic
>>> problem, _ = load_example("example1")
>>> emb = chain(problem.network, [parse_step("1:0:3/5,4/5")])
>>> rule = KinkRule.for_net(emb, "wide", make_arithmetic("float"))
>>> Z = np.array([[3e-17], [-2e-17], [0.5]])   # two children of a unit on its kink, one other unit
>>> rule.decide_float(0, Z, np.ones((3, 1)), None).ravel().tolist()
[0, 0, 1]
>>> rule.counts["below_threshold"], rule.counts["group_overrides"]
(2, 0)
"""

from __future__ import annotations

import numpy as np
import sympy
from flint import arb

from ..field import as_sympy

__all__ = ["KinkRule", "exact_start_signs", "RULE_TEXT"]

#: the rule in one paragraph, for reports
RULE_TEXT = ("lower end of the Clarke interval at a pre-activation that is exactly 0; split children "
             "inherit the parent's element. Non-exact tiers: exact signs at the start (theta_0 and T theta_0 "
             "are exact); a first-layer pre-activation exactly 0 at the start stays a kink while every "
             "gradient on its unit's incoming weights is exactly 0; otherwise balls use the certified sign "
             "and stop (inconclusive) on a ball containing 0, and precision/float decide once per split "
             "group from the parent-equivalent value sum_i a_i z_i / sum_i a_i^2, a kink when it is at most "
             "u^(3/4) times its scale (the same rule in both nets)")

_COUNTS = ("exact_at_start", "idle_first_layer", "certified_zero", "below_threshold",
           "group_overrides")


def exact_start_signs(net, theta, X, numbers=()):
    """Exact signs of every hidden pre-activation of ``net`` at the exact parameters ``theta``.

    Returns ``{layer index: int8 array of shape (units, ..., n)}`` over all data points ``X``
    (layers with a sign: dense or conv with an activation other than linear or tanh).
    """
    from ..tensor import ExactDomain

    dom = ExactDomain.for_numbers(list(numbers) + list(theta) + [v for x in X for v in x])
    trace = net.forward(dom, list(theta), [list(x) for x in X])
    return {i: np.asarray(S, dtype=np.int8) for i, S in trace.signs.items() if S is not None}


def _exact_zero(x):
    if isinstance(x, arb):
        return x.is_zero()
    return x == 0


def to_floats(a):
    """A float64 copy of a tier array (float64 itself, or object arrays of arb / mpf)."""
    if isinstance(a, np.ndarray) and a.dtype != object:
        return np.asarray(a, dtype=float)
    flat = np.fromiter((float(x) for x in a.ravel()), dtype=float, count=a.size)
    return flat.reshape(a.shape)


class KinkRule:
    """The Clarke selection of one net in one run (see the module docstring).

    Parameters
    ----------
    net : Network
    ar : Arithmetic
        The tier; in the exact tier the rule is the exact sign and nothing else.
    groups : dict, optional
        Layer index -> per unit ``(group, multiplier)``: units with the same group come from one
        narrow unit, the multiplier is their incoming coefficient a_i (sympy). Default: groups of one.
    """

    def __init__(self, net, ar, groups=None):
        self.net, self.ar, self.tier = net, ar, ar.name
        self.rho = ar.unit ** 0.75 if ar.name != "exact" else 0.0
        self.counts = dict.fromkeys(_COUNTS, 0)
        self._groups = {i: self._group_arrays(g) for i, g in (groups or {}).items()}
        self._start, self._start_signs = None, None
        self.first = net.arch.weight_layers[0]
        self._blocks = self._first_blocks(net)
        self._idle = np.ones(len(self._blocks), dtype=bool)
        self._start_zero = None
        self.idle_proofs = True

    @classmethod
    def for_net(cls, embedding, side, ar):
        """The rule of the ``"narrow"`` (``embedding.source``) or ``"wide"`` (``embedding.target``) net."""
        if side == "narrow":
            return cls(embedding.source, ar)
        net = embedding.target
        groups = {}
        for w, li in enumerate(net.arch.weight_layers[:-1], start=1):
            rows = embedding.unit_map(w)
            if any(p != u or a != 1 for u, (p, a, _b) in enumerate(rows)):
                groups[li] = [(p, a) for p, a, _b in rows]
        return cls(net, ar, groups)

    # -- structure ------------------------------------------------------------------------------
    @staticmethod
    def _group_arrays(rows):
        """``(M, sgn, member)``: M (G × U) maps unit values to parent-equivalent values."""
        keys, member, mult = {}, [], []
        for u, (p, a) in enumerate(rows):
            a = as_sympy(a)
            if a == 0:                      # a zero-coefficient child is a group of its own
                key, a = ("zero", u), sympy.Integer(1)
            else:
                key = ("parent", p)
            member.append(keys.setdefault(key, len(keys)))
            mult.append(float(sympy.N(a, 20)))
        member, mult = np.array(member), np.array(mult)
        G = len(keys)
        norm = np.zeros(G)
        np.add.at(norm, member, mult * mult)
        M = np.zeros((G, len(rows)))
        M[member, np.arange(len(rows))] = mult / norm[member]
        return M, np.sign(mult).astype(np.int8), member

    @staticmethod
    def _first_blocks(net):
        """Flat parameter positions of each first-layer unit's incoming weights and bias."""
        shapes = net.param_shapes[0]
        W = shapes["weight"]
        per = int(np.prod(W[1:]))
        nb = shapes["bias"][0] if shapes.get("bias") else 0
        out = []
        for u in range(W[0]):
            pos = list(range(u * per, (u + 1) * per))
            if nb:
                pos.append(W[0] * per + u)
            out.append(np.array(pos))
        return out

    # -- the start and the idle record ----------------------------------------------------------
    def set_start(self, theta, signs, optimizer=None):
        """The run starts at the tier vector ``theta``, the exact θ_0 whose exact signs are ``signs``.

        Idle first-layer units are proved kinks only when ``optimizer`` keeps idle coordinates
        (:attr:`~symkkt.flow.optimizers.Optimizer.keeps_idle_coordinates`; None: it does).
        """
        self._start, self._start_signs = theta, signs
        self.idle_proofs = optimizer is None or bool(optimizer.keeps_idle_coordinates)
        S = signs.get(self.first)
        self._start_zero = None if S is None else (S == 0)

    def at_start(self, theta):
        return self._start is not None and theta is self._start

    def has_start_signs(self, theta, i):
        """Whether ``theta`` is the start and layer ``i`` has exact start signs (a layer without a
        kink, such as a linear one, has none: every sign gives the same value and slope)."""
        return self.at_start(theta) and i in self._start_signs

    def observe(self, grad):
        """Record a gradient the optimizer uses: units with a non-zero entry stop being idle."""
        if self.tier == "exact" or not self._idle.any():
            return
        for u in np.nonzero(self._idle)[0]:
            if not all(_exact_zero(grad[r]) for r in self._blocks[u]):
                self._idle[u] = False

    def _proven(self, i, cols, shape):
        """Mask of the pre-activations of layer ``i`` (at columns ``cols``) proved exactly 0."""
        if i != self.first or self._start_zero is None or not self.idle_proofs or not self._idle.any():
            return None
        Z0 = self._start_zero if cols is None else self._start_zero[..., cols]
        idle = self._idle.reshape((-1,) + (1,) * (Z0.ndim - 1))
        mask = Z0 & idle
        return mask if mask.any() and mask.shape == tuple(shape) else None

    # -- decisions ------------------------------------------------------------------------------
    def decide(self, i, Z, cols, theta, scale):
        """Signs (int8, the shape of ``Z``) of the pre-activations ``Z`` of layer ``i``.

        ``cols``: the data points of the columns (None: all); ``theta``: the iterate;
        ``scale``: a callable giving s = |W||A| (+|b|) as float64 (used by precision and float).
        """
        if self.tier == "exact":
            return self.ar.domain.sign(Z)
        if self.has_start_signs(theta, i):
            return self.start_signs(i, cols)
        if self.tier == "balls":
            return self.decide_balls(i, Z, cols)
        return self.decide_float(i, to_floats(Z), scale(), cols)

    def start_signs(self, i, cols):
        S = self._start_signs[i]
        S = S if cols is None else S[..., cols]
        self.counts["exact_at_start"] += int((S == 0).sum())
        return S.copy()

    def decide_balls(self, i, Z, cols):
        """Certified signs; a proved kink is 0; any other ball containing 0 raises ``Undecided``."""
        flat = Z.ravel()
        S = np.zeros(flat.size, dtype=np.int8)
        proven = None
        for k, x in enumerate(flat):
            if x > 0:
                S[k] = 1
            elif x < 0:
                S[k] = -1
            else:
                if proven is None:
                    proven = self.proven_mask(i, cols, Z.shape)
                S[k] = self.ball_sign(i, x, proven.ravel()[k], np.unravel_index(k, Z.shape)[0])
        return S.reshape(Z.shape)

    def proven_mask(self, i, cols, shape):
        """Boolean mask (``shape``) of the pre-activations of layer ``i`` proved to be exactly 0."""
        mask = self._proven(i, cols, shape)
        return np.zeros(shape, dtype=bool) if mask is None else mask

    def ball_sign(self, i, x, proven, unit):
        """The sign of one ball ``x`` of layer ``i`` (``proven``: a proved kink)."""
        from .arith import Undecided

        if x > 0:
            return 1
        if x < 0:
            return -1
        if x.is_zero():
            self.counts["certified_zero"] += 1
            return 0
        if proven:
            self.counts["idle_first_layer"] += 1
            return 0
        raise Undecided(f"the sign of {x} (weight layer {self.net.weight_index(i)}, unit {unit}) is not "
                        "decided at this precision and is not a proved kink")

    def decide_float(self, i, Zf, sf, cols):
        """The group rule on float64 values ``Zf`` with scales ``sf`` (see the module docstring)."""
        tau = self.rho * sf
        g = self._groups.get(i)
        if g is None:
            S = np.sign(Zf).astype(np.int8)
            small = np.abs(Zf) <= tau
        else:
            M, sgn, member = g
            zg = np.tensordot(M, Zf, axes=(1, 0))
            sg = np.tensordot(np.abs(M), sf, axes=(1, 0))
            Dg = np.sign(zg).astype(np.int8)
            Dg[np.abs(zg) <= self.rho * sg] = 0
            bshape = (-1,) + (1,) * (Zf.ndim - 1)
            S = (sgn.reshape(bshape) * Dg[member]).astype(np.int8)
            own = np.sign(Zf).astype(np.int8)
            own[np.abs(Zf) <= tau] = 0
            self.counts["group_overrides"] += int((own != S).sum())
            small = S == 0
        proven = self._proven(i, cols, Zf.shape)
        if proven is not None:
            self.counts["idle_first_layer"] += int(proven.sum())
            small = small & ~proven
            S[proven] = 0
        self.counts["below_threshold"] += int(small.sum())
        S[small] = 0
        return S

    def expand_to_groups(self, i, mask):
        """``mask`` (units × ...) widened to every member of a group with a marked member."""
        g = self._groups.get(i)
        if g is None:
            return mask
        M, _, member = g
        hit = np.tensordot(M != 0, mask, axes=(1, 0)) > 0
        return hit[member]

    def summary(self):
        """The counts, for the run's diagnostics."""
        return dict(self.counts)
