"""Proofs, for all parameters θ and inputs x, that a map T preserves outputs and gradients.

The proof is an induction over the layers with exact linear algebra; the network is never
expanded. Write h, z, δ = ∂Φ/∂z and g = ∂Φ/∂h for the narrow network at (θ, x) and h̃, z̃, δ̃, g̃
for the wide one at (Tθ, x). Each relation below has at most one non-zero entry per row and is
proved for every θ and x:

forward
    h̃ = M h + m  (M_0 = I at the input).  A weight layer needs the identity of matrices of linear
    forms in θ, W̃(Tθ)·M = N·W(θ), b̃(Tθ) = N·b(θ), W̃(Tθ)·m = 0, giving z̃ = N z; an activation
    then needs a scaling law σ(n·t) = f·σ(t) + c (:func:`scaling_law`: n > 0 for positively
    homogeneous σ, any n for a σ of one degree, n = −1 for odd or even smooth σ), giving the next
    M; average pooling and flattening keep channel-aligned relations.  At the output M = [1]
    means Φ̃(Tθ; x) = Φ(θ; x).
backward
    g̃ = R g, δ̃ = Q δ.  Through an activation, σ'(n·t) = f'·σ'(t) (off kinks; for n > 0 and a
    piecewise-linear σ the Clarke interval at 0 is the same, so with children taking their
    parent's slope the relation holds at kinks too). Through a weight layer, W̃(Tθ)ᵀ·Q = R·W(θ)ᵀ
    as bilinear forms in (θ, δ).  The gradient of a wide parameter, Σ δ̃_i h̃_k over its
    connections, is a bilinear form in (δ, h); matching it against s·(the form of one narrow
    parameter) gives a matrix S with ∇Φ̃(Tθ; x) = S ∇Φ(θ; x).  Units that never reach the output
    (positions that average pooling drops or that a stride never reads, :func:`dead_units`) have
    δ = 0 for every θ and x; their terms are dropped from both sides before matching.  The
    induction stops at the first weight layer: what lies below it (pooling of the input) has
    no parameters.

The relations' candidates come from the map's per-unit multipliers; every one is re-checked
as an exact identity, so a wrong candidate can only make a proof fail, never succeed. A failed
step is reported with the identity that failed; refutations with exact witnesses are found by
:mod:`symkkt.embed.check`.

Trusted: the exact arithmetic of :mod:`symkkt.field` and the scaling laws of
:mod:`symkkt.activations` (one-line identities, proved there by sign cases) and of
:func:`scaling_law` / :func:`derivative_law` (identities in t checked by sympy).

Examples
--------
>>> from symkkt.api import load_architecture
>>> from symkkt.network import Network
>>> from symkkt.embed.maps import chain, parse_step
>>> from symkkt.spec import architecture_from_json
>>> net = Network(architecture_from_json({"input": [2], "layers": [
...     {"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}))
>>> proof = prove(chain(net, [parse_step("1:0:3/5,4/5")]))
>>> proof.output.holds, proof.gradient.holds, proof.s_equals_t
(True, True, True)
>>> proof = prove(chain(net, [parse_step("1:0:1/2,1/2")]))
>>> proof.output.holds, proof.output.failure.split(":")[0]
(False, 'weight layer 2 (output)')
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..field import NumberField, as_sympy
from ..numbers import format_number


@dataclass
class Proof:
    """The outcome of one induction: ``holds``, the ``steps`` it proved, or the ``failure``."""

    holds: bool
    steps: list = field(default_factory=list)
    failure: str = ""


@dataclass
class Proofs:
    """Output and gradient proofs of one map, with the gradient relation S (when proved)."""

    output: Proof
    gradient: Proof
    S: list | None = None          # per wide parameter (source index or -1, coefficient)
    s_equals_t: bool = False
    s_differs_at: int | None = None


class _Rel:
    """A relation with one non-zero per row: row r is ``fac[r]`` times source entry ``par[r]``
    (``par[r] = -1``: none), plus a constant ``const[r]`` (forward relations only)."""

    def __init__(self, par, fac, const=None):
        self.par = list(par)
        self.fac = list(fac)
        self.const = list(const) if const is not None else None

    @classmethod
    def identity(cls, n, one):
        return cls(range(n), [one] * n)


def connections(arch, li):
    """Connections ``(out, in, param)`` (flat indices) of weight layer ``arch.layers[li]``.

    ``param`` is the flat index inside the layer's weight array; conv layers list every
    (output position, kernel offset) pair, i.e. the entries of their Toeplitz matrix.
    """
    layer = arch.layers[li]
    in_shape = tuple(arch.shapes[li - 1]) if li else tuple(arch.input)
    out_shape = tuple(arch.shapes[li])
    if layer.kind == "dense":
        n_out, n_in = out_shape[0], math.prod(in_shape)
        o, k = np.meshgrid(np.arange(n_out), np.arange(n_in), indexing="ij")
        return o.ravel(), k.ravel(), (o * n_in + k).ravel()
    C, O = in_shape[0], out_shape[0]
    ker, st = layer.kernel, layer.stride
    osp, isp = out_shape[1:], in_shape[1:]
    grids = np.indices((O, C) + tuple(ker) + tuple(osp)).reshape(2 + 2 * len(ker), -1)
    o, c = grids[0], grids[1]
    offs, pos = grids[2:2 + len(ker)], grids[2 + len(ker):]
    out = o.copy()
    for d, n in enumerate(osp):
        out = out * n + pos[d]
    inp = c.copy()
    for d, n in enumerate(isp):
        inp = inp * n + pos[d] * st[d] + offs[d]
    par = o * C + c
    for d, n in enumerate(ker):
        par = par * n + offs[d]
    return out, inp, par


def _units_per_channel(shape):
    return math.prod(shape[1:]) if len(shape) > 1 else 1


def _in_shape(arch, li):
    """The shape entering layer ``li`` (the network input for the first layer)."""
    return tuple(arch.shapes[li - 1]) if li else tuple(arch.input)


def _pool_windows(in_shape, out_shape, kernel):
    """Flat input units averaged into each flat output unit of an average pooling layer."""
    out = []
    for flat in range(math.prod(out_shape)):
        idx = np.unravel_index(flat, out_shape)
        out.append([int(np.ravel_multi_index((idx[0],) + tuple(p * k + o for p, k, o in zip(idx[1:], kernel, off)),
                                             in_shape)) for off in np.ndindex(*kernel)])
    return out


def dead_units(arch):
    """Units that never reach the output: ``{layer index: set of flat units}`` per weight layer.

    A unit is *live* if some path of connections joins its pre-activation to the output; the
    others (positions that average pooling drops, or that a stride or a narrower kernel never
    reads) have δ = ∂Φ/∂z = 0 for every θ and x, and every gradient term through them is 0.

    Examples
    --------
    >>> from symkkt.spec import architecture_from_json
    >>> arch = architecture_from_json({"input": [1, 3], "layers": [
    ...     {"conv": {"channels": 1, "kernel": 1, "activation": "relu"}}, {"avgpool": {"kernel": 2}},
    ...     "flatten", {"dense": {"width": 1}}]})
    >>> dead_units(arch)
    {3: set(), 0: {2}}
    """
    live = np.ones(1, dtype=bool)
    dead = {}
    for li in reversed(range(len(arch.layers))):
        layer = arch.layers[li]
        in_shape = tuple(arch.shapes[li - 1]) if li else tuple(arch.input)
        if layer.kind in ("dense", "conv"):
            dead[li] = set(np.nonzero(~live)[0].tolist())
            o, k, _ = connections(arch, li)
            reach = np.zeros(math.prod(in_shape), dtype=bool)
            reach[k[live[o]]] = True
            live = reach
        elif layer.kind == "avgpool":
            reach = np.zeros(math.prod(in_shape), dtype=bool)
            for flat, window in enumerate(_pool_windows(in_shape, tuple(arch.shapes[li]), layer.kernel)):
                if live[flat]:
                    reach[window] = True
            live = reach
        # flatten keeps the flat order
    return dead


_t = sympy.Symbol("t", real=True)


def scaling_law(rule, a):
    """``(f, c)`` with σ(a·t) = f·σ(t) + c for every real t, or ``None``.

    The laws of :meth:`~symkkt.activations.ActivationRule.scaling`, and for smooth σ two more:
    a polynomial σ = c₀ + Σ cᵢ tⁱ satisfies the law iff aⁱ is the same number f for every
    i ≥ 1 with cᵢ ≠ 0 (then c = (1 − f)·c₀): one degree for any a, or, for a = −1, degrees of
    one parity (odd σ: f = −1; even σ: f = 1); tanh is odd, σ(−t) = −σ(t). Each of these is
    checked as an identity in t by sympy before it is used.

    Examples
    --------
    >>> from symkkt.activations import ActivationRule
    >>> from symkkt.spec import Activation
    >>> scaling_law(ActivationRule(Activation("tanh")), -1)
    (-1, 0)
    >>> cubic = ActivationRule(Activation("polynomial", coeffs=(1, 1, 0, 1)))
    >>> scaling_law(cubic, -1), scaling_law(cubic, 2)
    ((-1, 2), None)
    """
    a = sympy.nsimplify(a) if isinstance(a, float) else as_sympy(a)
    law = rule.scaling(a)
    if law is not None or rule.piecewise:
        return law
    if rule.kind == "polynomial":
        powers = {a ** i for i, c in enumerate(rule.coeffs) if i >= 1 and c != 0}
        if len(powers) > 1:
            return None
        f = powers.pop() if powers else sympy.Integer(1)
        c = (1 - f) * rule.coeffs[0]
    elif a == -1:          # tanh
        f, c = sympy.Integer(-1), sympy.Integer(0)
    else:
        return None
    if sympy.expand(rule.symbolic(a * _t) - f * rule.symbolic(_t) - c) != 0:  # pragma: no cover
        return None
    return sympy.expand(f), sympy.expand(c)


def derivative_law(rule, a):
    """``f`` with σ'(a·t) = f·σ'(t) for every t off kinks, or ``None``.

    :meth:`~symkkt.activations.ActivationRule.derivative_scaling`, and for smooth σ and a ≠ 0 the
    law that makes σ'(a·t) − f·σ'(t) vanish identically (checked by sympy), with f = 1, −1 or
    a^(i−1) for a degree i of σ.

    Examples
    --------
    >>> from symkkt.activations import ActivationRule
    >>> from symkkt.spec import Activation
    >>> derivative_law(ActivationRule(Activation("tanh")), -1)
    1
    >>> derivative_law(ActivationRule(Activation("polynomial", coeffs=(0, 0, 1))), -1)
    -1
    """
    a = as_sympy(a)
    f = rule.derivative_scaling(a)
    if f is not None or rule.piecewise or a == 0:
        return f
    d = sympy.diff(rule.symbolic(_t), _t)
    candidates = [sympy.Integer(1), sympy.Integer(-1)]
    if rule.kind == "polynomial":
        candidates += [a ** (i - 1) for i, c in enumerate(rule.coeffs) if i >= 1 and c != 0]
    for f in candidates:
        if sympy.expand(d.subs(_t, a * _t) - f * d) == 0:
            return sympy.expand(f)
    return None


class _Prover:
    def __init__(self, emb):
        self.emb = emb
        self.src, self.dst = emb.source, emb.target
        self.K = NumberField.of(emb.numbers() + [c for c in self.src.constants() if c is not None])
        self._elems = {}
        self.zero, self.one = self.K.element(0), self.K.element(1)
        self.tcoef = [self.el(c) for c in emb.coef]
        self.woff_src, self.woff_dst = self._offsets(self.src), self._offsets(self.dst)
        self._conn_cache = {}
        self.dead = dead_units(self.src.arch)   # narrow units with δ = 0 for all θ, x
        self.null_params = set()                # narrow parameters whose gradient is 0 for all θ, x
        self._laws = {}

    def _conns(self, li, w):
        """Connections ``(out, in, parameter)`` of weight layer ``w`` in both networks, with global
        parameter indices, and the two bias offsets (cached per layer)."""
        if li not in self._conn_cache:
            (wd, bd), (ws, bs) = self.woff_dst[w - 1], self.woff_src[w - 1]
            o, k, p = connections(self.dst.arch, li)
            wide = list(zip(o.tolist(), k.tolist(), (p + wd).tolist()))
            o, k, p = connections(self.src.arch, li)
            narrow = list(zip(o.tolist(), k.tolist(), (p + ws).tolist()))
            self._conn_cache[li] = (wide, narrow, bd, bs)
        return self._conn_cache[li]

    def el(self, v):
        key = v
        if key not in self._elems:
            self._elems[key] = self.K.element(v)
        return self._elems[key]

    @staticmethod
    def _offsets(net):
        out, pos = [], 0
        for sh in net.param_shapes:
            w = math.prod(sh["weight"])
            out.append((pos, pos + w))
            pos += w + (sh["bias"][0] if sh.get("bias") else 0)
        return out

    def _hint(self, w, shape):
        """The candidate N of weight layer w on flat units (channel multipliers spread over positions)."""
        per = _units_per_channel(shape)
        par, inc, out = [], [], []
        for p, a, b in self.emb.unit_map(w):
            for pos in range(per):
                par.append(p * per + pos)
                inc.append(a)
                out.append(b)
        return par, inc, out

    # -- forward -----------------------------------------------------------------------------
    def forward(self):
        arch_s, arch_d = self.src.arch, self.dst.arch
        M = _Rel.identity(math.prod(arch_s.input), self.one)
        M.const = [self.zero] * len(M.par)
        steps, self.N, self.M_in = [], {}, {}
        for li, layer in enumerate(arch_d.layers):
            if layer.kind in ("dense", "conv"):
                w = arch_d.weight_layers.index(li) + 1
                self.M_in[li] = M
                shape = arch_d.shapes[li]
                hint, _, _ = self._hint(w, shape)
                N = self._linear_relation(li, w, M, hint)
                if isinstance(N, str):
                    if li == arch_d.weight_layers[-1]:
                        # the output is not related, but δ = 1 at the (linear) output of both networks,
                        # so the backward induction can still run
                        self.N[li] = _Rel([0], [self.one])
                        self.complete = True
                        return Proof(False, steps, f"weight layer {w} (output): {N}")
                    return Proof(False, steps, f"weight layer {w}: {N}")
                self.N[li] = N
                steps.append(f"weight layer {w}: W̃(Tθ)·M = N·W(θ)" + (", b̃(Tθ) = N·b(θ)" if layer.bias else "")
                             + f" ({len(N.par)} units, exact)")
                rule = self.src.rules[li]
                laws, par2, fac2, const2 = {}, [], [], []
                for i, a in zip(N.par, (n.to_sympy() for n in N.fac)):
                    if a not in laws:
                        laws[a] = scaling_law(rule, a)
                    law = laws[a]
                    if law is None:
                        return Proof(False, steps, f"weight layer {w}: no law σ({format_number(a)}·t) = f·σ(t) + c "
                                                   f"for {rule.kind} (needs a > 0 for a homogeneous σ, a σ of one "
                                                   "degree on all of R, or a = -1 for an odd or even σ)")
                    f, c = law
                    par2.append(i if f != 0 else -1)
                    fac2.append(self.el(f))
                    const2.append(self.el(c))
                M = _Rel(par2, fac2, const2)
                used = sorted((format_number(a), format_number(l[0]), l[1]) for a, l in laws.items() if a != 1)
                if used:
                    steps.append(f"activation {w} ({rule.kind}): " + ", ".join(
                        f"σ({a}·t) = {f}·σ(t)" + (f" + {format_number(c)}" if c != 0 else "") for a, f, c in used))
            elif layer.kind == "avgpool":
                M = self._pool_forward(li, M)
                if isinstance(M, str):
                    return Proof(False, steps, M)
                steps.append(f"average pooling {li}: relation is channel-aligned, pooling commutes")
        self.complete = True
        self.output_relation = (M.par[0], M.fac[0], M.const[0])
        if M.par != [0] or M.fac[0] != self.one or not M.const[0].is_zero():
            rel = (f"{M.fac[0]}·Φ(θ; x)" if M.par[0] == 0 else "0") + \
                (f" + {M.const[0]}" if not M.const[0].is_zero() else "")
            return Proof(False, steps, f"output: Φ̃(Tθ; x) = {rel} for all θ, x, not Φ(θ; x)")
        steps.append("output: Φ̃(Tθ; x) = Φ(θ; x)")
        return Proof(True, steps)

    def _linear_relation(self, li, w, M, hint):
        """N with W̃(Tθ)·(M h + m) + b̃(Tθ) = N·(W(θ) h + b(θ)) as linear forms in θ and h.

        Row o of the left side is a form in the pairs (input k, parameter) and (bias, parameter);
        it must be n times the row of one narrow unit i (the hint first, then any unit).
        Returns the relation or a string saying which unit has no such i.
        """
        zero = self.zero
        wide, narrow_conns, bd, bs = self._conns(li, w)
        index = self.emb.index
        rows = defaultdict(lambda: defaultdict(lambda: zero))
        for o, k, r in wide:
            src = int(index[r])
            if src < 0:
                continue
            t = self.tcoef[r]
            kk = M.par[k]
            if kk >= 0:
                rows[o][(kk, src)] = rows[o][(kk, src)] + t * M.fac[k]
            if not M.const[k].is_zero():
                rows[o][("const", src)] = rows[o][("const", src)] + t * M.const[k]
        layer = self.dst.arch.layers[li]
        per_d = _units_per_channel(self.dst.arch.shapes[li])
        per_s = _units_per_channel(self.src.arch.shapes[li])
        n_out = math.prod(self.dst.arch.shapes[li])
        if layer.bias:
            for o in range(n_out):
                r = bd + o // per_d
                src = int(index[r])
                if src >= 0:
                    rows[o][("bias", src)] = rows[o][("bias", src)] + self.tcoef[r]
        narrow = defaultdict(dict)
        for o, k, p in narrow_conns:
            narrow[o][(k, p)] = self.one
        if layer.bias:
            for o in range(math.prod(self.src.arch.shapes[li])):
                narrow[o][("bias", bs + o // per_s)] = self.one
        match = _Matcher(narrow)
        par, fac = [], []
        for o in range(n_out):
            form = _clean(rows.get(o, {}))
            if not form:
                par.append(-1)
                fac.append(zero)
                continue
            found = match(form, hint[o])
            if found is None:
                names = self.src.parameter_names
                shown = " + ".join(f"{v}·{names[p]}" + (f"·h{k}" if isinstance(k, int) else f" ({k})")
                                   for (k, p), v in sorted(form.items(), key=repr)[:4])
                return (f"the pre-activation of wide unit {o} is {shown}{' + ...' if len(form) > 4 else ''}, "
                        "not a multiple of one narrow unit's")
            par.append(found[0])
            fac.append(found[1])
        return _Rel(par, fac)

    def _pool_forward(self, li, M):
        layer = self.dst.arch.layers[li]
        in_d = _in_shape(self.dst.arch, li)
        in_s = _in_shape(self.src.arch, li)
        out_d = tuple(self.dst.arch.shapes[li])
        ker = layer.kernel
        par, fac, const = [], [], []
        per_in_s = _units_per_channel(in_s)
        for flat in range(math.prod(out_d)):
            idx = np.unravel_index(flat, out_d)
            window = [np.ravel_multi_index((idx[0],) + tuple(p * k + o for p, k, o in zip(idx[1:], ker, off)), in_d)
                      for off in np.ndindex(*ker)]
            rows = [(M.par[u], M.fac[u], M.const[u]) for u in window]
            chans = {r[0] // per_in_s if r[0] >= 0 else -1 for r in rows}
            f, c = rows[0][1], rows[0][2]
            if len(chans) != 1 or any(r[1] != f or r[2] != c for r in rows):
                return f"average pooling {li}: the relation is not channel-aligned on window {flat}"
            ch = chans.pop()
            if ch >= 0:
                expect = [np.ravel_multi_index((ch,) + tuple(p * k + o for p, k, o in zip(idx[1:], ker, off)), in_s)
                          for off in np.ndindex(*ker)]
                if [r[0] for r in rows] != [int(e) for e in expect]:
                    return f"average pooling {li}: window {flat} is not mapped onto one narrow window"
                par.append(int(np.ravel_multi_index((ch,) + tuple(int(v) for v in idx[1:]),
                                                    tuple(self.src.arch.shapes[li]))))
            else:
                par.append(-1)
            fac.append(f)
            const.append(c)
        return _Rel(par, fac, const)

    # -- backward -----------------------------------------------------------------------------
    def backward(self):
        arch_d = self.dst.arch
        R = _Rel([0], [self.one])
        S = [None] * self.dst.num_parameters
        steps = []
        for li in reversed(range(len(arch_d.layers))):
            layer = arch_d.layers[li]
            if layer.kind in ("dense", "conv"):
                w = arch_d.weight_layers.index(li) + 1
                N, M = self.N[li], self.M_in[li]
                rule = self.src.rules[li]
                qpar, qfac = [], []
                for o, (i, n) in enumerate(zip(N.par, N.fac)):
                    rp, r = R.par[o], R.fac[o]
                    if rp < 0 or r.is_zero():
                        qpar.append(-1)
                        qfac.append(self.zero)
                        continue
                    if rp != i:
                        return Proof(False, steps, f"weight layer {w}: unit {o} gets its gradient from unit {rp} "
                                                   f"but its pre-activation from unit {i}"), None
                    f = self._derivative_law(li, rule, n.to_sympy())
                    if f is None:
                        return Proof(False, steps, f"weight layer {w}: no law σ'({n}·t) = f·σ'(t) for {rule.kind}"), None
                    qpar.append(i)
                    qfac.append(self.el(f) * r)
                Q = _Rel(qpar, qfac)
                bad = self._gradients(li, w, Q, M, S)
                if bad:
                    return Proof(False, steps, f"weight layer {w}: {bad}"), None
                steps.append(f"weight layer {w}: ∇_W̃ Φ̃ = S·∇_W Φ as bilinear forms in (δ, h)")
                if w == 1:
                    break       # only parameter-free layers (pooling, flatten of the input) lie below
                R = self._backprop(li, w, Q, M)
                if isinstance(R, str):
                    return Proof(False, steps, f"weight layer {w}: {R}"), None
                steps.append(f"weight layer {w}: W̃(Tθ)ᵀ·Q = R·W(θ)ᵀ (backward relation)")
            elif layer.kind == "avgpool":
                R = self._pool_backward(li, R)
        steps.append("∇Φ̃(Tθ; x) = S ∇Φ(θ; x) for all θ, x off kinks")
        return Proof(True, steps), S

    def _derivative_law(self, li, rule, a):
        if (li, a) not in self._laws:
            self._laws[(li, a)] = derivative_law(rule, a)
        return self._laws[(li, a)]

    def _gradients(self, li, w, Q, M, S):
        """S on the parameters of weight layer w: each wide gradient Σ δ̃_o h̃_k (a bilinear form in
        the narrow δ and h) is s times one narrow parameter's form. Terms through narrow units that
        never reach the output are 0 (their δ is) and are dropped on both sides."""
        zero = self.zero
        dead = self.dead.get(li, set())
        wide, narrow_conns, bd, bs = self._conns(li, w)
        wd = self.woff_dst[w - 1][0]
        layer = self.dst.arch.layers[li]
        forms = defaultdict(lambda: defaultdict(lambda: zero))
        for o, k, p in wide:
            i, q = Q.par[o], Q.fac[o]
            if i < 0 or i in dead:
                continue
            if M.par[k] >= 0:
                forms[p][(i, M.par[k])] = forms[p][(i, M.par[k])] + q * M.fac[k]
            if not M.const[k].is_zero():
                forms[p][(i, None)] = forms[p][(i, None)] + q * M.const[k]
        per_d = _units_per_channel(self.dst.arch.shapes[li])
        per_s = _units_per_channel(self.src.arch.shapes[li])
        if layer.bias:
            for o, (i, q) in enumerate(zip(Q.par, Q.fac)):
                if i >= 0 and i not in dead:
                    r = bd + o // per_d
                    forms[r][(i, None)] = forms[r][(i, None)] + q
        narrow = defaultdict(dict)
        for o, k, p in narrow_conns:
            if o not in dead:
                narrow[p][(o, k)] = self.one
        n_bias = self.src.param_shapes[w - 1]["bias"][0] if layer.bias else 0
        if layer.bias:
            for o in range(math.prod(self.src.arch.shapes[li])):
                if o not in dead:
                    narrow[bs + o // per_s][(o, None)] = self.one
        ws = self.woff_src[w - 1][0]
        self.null_params.update(p for p in range(ws, bs + n_bias) if p not in narrow)
        match = _Matcher(narrow)
        rows = list(range(wd, bd)) + (list(range(bd, bd + self.dst.param_shapes[w - 1]["bias"][0])) if layer.bias else [])
        for r in rows:
            form = _clean(forms.get(r, {}))
            if not form:
                S[r] = (-1, zero)
                continue
            found = match(form, int(self.emb.index[r]))
            if found is None:
                return (f"the gradient of wide parameter {self.dst.parameter_names[r]} is not a multiple of "
                        "one narrow parameter's gradient")
            S[r] = found
        return ""

    def _backprop(self, li, w, Q, M):
        """R with g̃_in = R g_in from W̃(Tθ)ᵀ Q = R W(θ)ᵀ (bilinear forms in θ and δ)."""
        zero = self.zero
        dead = self.dead.get(li, set())
        wide_conns, narrow_conns, _, _ = self._conns(li, w)
        index = self.emb.index
        wide = defaultdict(lambda: defaultdict(lambda: zero))
        for o, k, p in wide_conns:
            i, q = Q.par[o], Q.fac[o]
            src = int(index[p])
            if i < 0 or src < 0 or i in dead:
                continue
            wide[k][(src, i)] = wide[k][(src, i)] + self.tcoef[p] * q
        narrow = defaultdict(dict)
        for o, k, p in narrow_conns:
            if o not in dead:
                narrow[k][(p, o)] = self.one
        match = _Matcher(narrow)
        n_in = len(M.par)
        par, fac = [], []
        for k in range(n_in):
            form = _clean(wide.get(k, {}))
            if not form:
                par.append(-1)
                fac.append(zero)
                continue
            found = match(form, M.par[k])
            if found is None:
                return f"the gradient with respect to wide input {k} is not a multiple of one narrow input's"
            par.append(found[0])
            fac.append(found[1])
        return _Rel(par, fac)

    def _pool_backward(self, li, R):
        layer = self.dst.arch.layers[li]
        in_d = _in_shape(self.dst.arch, li)
        in_s = _in_shape(self.src.arch, li)
        out_d, out_s = tuple(self.dst.arch.shapes[li]), tuple(self.src.arch.shapes[li])
        ker = layer.kernel
        par, fac = [-1] * math.prod(in_d), [self.zero] * math.prod(in_d)
        for flat in range(math.prod(out_d)):
            idx = np.unravel_index(flat, out_d)
            P, r = R.par[flat], R.fac[flat]
            pidx = np.unravel_index(P, out_s) if P >= 0 else None
            for off in np.ndindex(*ker):
                u = np.ravel_multi_index((idx[0],) + tuple(p * k + o for p, k, o in zip(idx[1:], ker, off)), in_d)
                if pidx is None:
                    continue
                par[u] = int(np.ravel_multi_index((pidx[0],) + tuple(p * k + o for p, k, o in zip(pidx[1:], ker, off)),
                                                  in_s))
                fac[u] = r
        return _Rel(par, fac)


def _clean(form):
    return {k: v for k, v in form.items() if not v.is_zero()}


class _Matcher:
    """Finds ``(u, s)`` with form == s·narrow[u]: the candidate ``hint`` first, then any u with the
    same normalised form (the lookup table is built on first need)."""

    def __init__(self, narrow):
        self.narrow, self._lookup = narrow, None

    def __call__(self, form, hint):
        if hint >= 0 and hint in self.narrow:
            found = _ratio(form, self.narrow[hint], hint)
            if found is not None:
                return found
        if self._lookup is None:
            self._lookup = {}
            for u, f in self.narrow.items():
                self._lookup.setdefault(_normal(f), u)
        u = self._lookup.get(_normal(form))
        return _ratio(form, self.narrow[u], u) if u is not None else None


def _normal(form):
    keys = sorted(form, key=repr)
    first = form[keys[0]]
    return tuple((k, (form[k] / first).c) for k in keys)


def _ratio(form, narrow_form, p):
    """``(p, s)`` if form == s·narrow_form, else None."""
    if set(form) != set(narrow_form):
        return None
    key = next(iter(form))
    s = form[key] / narrow_form[key]
    if all(form[k] == s * narrow_form[k] for k in form):
        return (p, s)
    return None


def _form(form, net):
    if not form:
        return "0"
    names = net.parameter_names
    return " + ".join(f"{v}·{names[k] if isinstance(k, (int, np.integer)) else k}" for k, v in sorted(form.items(), key=repr))


def prove(emb):
    """Prove output and gradient preservation of the map ``emb`` for all θ and x.

    Returns
    -------
    Proofs
        ``output`` (Φ̃(Tθ; x) = Φ(θ; x)), ``gradient`` (∇Φ̃(Tθ; x) = S ∇Φ(θ; x) with S given per
        wide parameter), and whether S = T (``s_equals_t``; then gradients are preserved in the
        sense of [A]: ∇Φ̃(Tθ; x) = T ∇Φ(θ; x)).
    """
    pr = _Prover(emb)
    out = pr.forward()
    if not getattr(pr, "complete", False):
        return Proofs(out, Proof(False, [], "the forward relations failed: " + out.failure))
    grad, S = pr.backward()
    res = Proofs(out, grad)
    if S is not None:
        res.S = [(p, c) for p, c in S]
        for r, ((p, c), i, t) in enumerate(zip(res.S, emb.index, pr.tcoef)):
            same = (p == i and c == t) or (p < 0 and (i < 0 or t.is_zero() or int(i) in pr.null_params))
            if not same:
                res.s_differs_at = r
                break
        res.s_equals_t = res.s_differs_at is None
    return res
