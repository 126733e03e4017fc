"""Claim kind ``not_local_optimum``: θ is not a local optimum of P_Φ, by an improving curve.

The certificate gives θ (``parameters``, a feasible point with min_k q_k(θ) = 1 exactly) and, in
``witness``:

- ``curve``: vectors d_0, d_1, ..., d_r (r >= 1), each with one number per parameter of θ, d_0 = θ;
  the curve is θ̃(s) = Σ_j s^j d_j;
- ``s0``: a positive rational;
- ``pattern``: per data point a string with one character per unit of every layer whose
  activation is piecewise (relu, leaky relu with s != 1, poly_(leaky_)relu), in layer order and
  flat C-order within a layer: ``+`` (pre-activation > 0 on (0, s0]), ``-`` (< 0 there) or ``0``
  (the pre-activation is the zero polynomial);
- ``mechanism`` (optional, free text, not trusted) and ``field`` (the number field, as for every
  certificate).

The kernel runs the forward pass with polynomial entries in s (coefficients in the field): each
weight is the polynomial Σ_j s^j (d_j)_i, each unit takes the branch its pattern character names
(σ(z) = z^p on ``+``, (s z)^p on ``-``, 0 on ``0``). It then decides, by its own Sturm sequences:

1. every ``+`` / ``-`` pre-activation polynomial has that sign at every s in (0, s0], every ``0`` one is
   the zero polynomial. By induction over the layers the polynomial forward pass then equals the
   network's values at every s in (0, s0], so q_k(θ̃(s)) is the polynomial found;
2. for every point k, G_k(s) = ‖θ‖^L q_k(θ̃(s)) − ‖θ̃(s)‖^L > 0 on (0, s0] (L even, with ‖·‖^L =
   (‖·‖²)^(L/2)); for odd L, q_k > 0 and ‖θ‖^(2L) q_k² − ‖θ̃(s)‖^(2L) > 0 there.

Why this proves the claim: for s in (0, s0], q_min(s) = min_k q_k(θ̃(s)) > 0 and
θ(s) = θ̃(s) / q_min(s)^(1/L) is feasible (Φ is positively L-homogeneous) with ‖θ(s)‖^L =
‖θ̃(s)‖^L / q_min(s) < ‖θ‖^L. As s → 0, θ̃(s) → θ and q_min(s) → q_min(θ) = 1 (Φ is continuous), so
θ(s) → θ: every neighbourhood of θ holds a shorter feasible point.

Sturm's theorem on (0, s0]: write P = s^v R with R(0) != 0. R keeps the sign of R(0) on (0, s0] iff it
has no root there, and the number of distinct roots in (0, s0] is V(0) − V(s0), V the sign changes of
the sequence R, R', −rem(R, R'), ... (exact division in the field).

Trusted: the field arithmetic of :mod:`.field`, the number parser of :mod:`.exact` and the network
structure of :mod:`.network` (connection lists, parameter order, activations).

Examples
--------
>>> from fractions import Fraction as Fr
>>> from .field import Field
>>> F = Field((0, 1), -1, 1)                  # Q
>>> P = [F.const(0), F.const(0), F.const(1), F.const(-2)]     # s² − 2s³
>>> sign_on(F, P, Fr(1, 4)), sign_on(F, P, Fr(1, 2))
(1, None)
"""
from fractions import Fraction

from .exact import Numbers, rational
from .field import Invalid
from .network import Network, _keys

KIND = "not_local_optimum"
STATEMENT = ("theta is not a local optimum of the max-margin problem: along the witness curve every margin "
             "and activation sign is a polynomial in s, and ||theta||^L q_k(curve(s)) > ||curve(s)||^L for every "
             "point and every s in (0, s0]")


# --- polynomials in s over the field (LOW → HIGH, entries field elements) ---

def ptrim(p):
    p = list(p)
    while p and not p[-1]:
        p.pop()
    return p


def padd(F, a, b):
    n = max(len(a), len(b))
    return [F.add(a[i] if i < len(a) else (), b[i] if i < len(b) else ()) for i in range(n)]


def pmul(F, a, b):
    if not a or not b:
        return []
    out = [()] * (len(a) + len(b) - 1)
    for i, u in enumerate(a):
        if u:
            for j, v in enumerate(b):
                if v:
                    out[i + j] = F.add(out[i + j], F.mul(u, v))
    return out


def ppow(F, a, p):
    out = [F.const(1)]
    for _ in range(p):
        out = pmul(F, out, a)
    return out


def pscale(F, a, c):
    return [F.mul(c, u) for u in a]


def peval(F, a, t):
    out = ()
    for c in reversed(a):
        out = F.add(F.mul(out, t), c)
    return out


def canon(F, p):
    """Reduce every coefficient and drop exact zeros at the top (so the degree is the true one)."""
    p = [F.reduce(c) for c in p]
    while p and F.is_zero(p[-1]):
        p.pop()
    return p


def prem(F, a, b):
    """Remainder of a by b (b's leading coefficient non-zero; exact field division)."""
    a, lead = list(a), b[-1]
    while len(a) >= len(b):
        f, shift = F.div(a[-1], lead), len(a) - len(b)
        a = [F.sub(c, F.mul(f, b[i - shift])) if i >= shift else c for i, c in enumerate(a)]
        a = canon(F, a[:-1])
    return a


def sturm(F, p):
    seq = [p, canon(F, [F.mul(F.const(i), c) for i, c in enumerate(p)][1:])]
    while seq[-1] and len(seq[-1]) > 1:
        seq.append([F.neg(c) for c in prem(F, seq[-2], seq[-1])])
    return [q for q in seq if q]


def variations(F, seq, t):
    signs = [s for s in (F.sign(peval(F, q, t)) for q in seq) if s]
    return sum(1 for u, v in zip(signs, signs[1:]) if u != v)


def sign_on(F, p, s0):
    """The sign of P on all of (0, s0]: ±1, 0 for the zero polynomial, None if P vanishes there."""
    p = canon(F, p)
    if not p:
        return 0
    v = next(i for i, c in enumerate(p) if not F.is_zero(c))
    r = p[v:]
    s = F.sign(r[0])
    if len(r) == 1:
        return s
    seq = sturm(F, r)
    roots = variations(F, seq, F.const(0)) - variations(F, seq, F.const(s0))
    return s if roots == 0 else None


# --- the claim ---

def _curve(w, n, N, limits):
    curve = w.get("curve")
    if not isinstance(curve, list) or len(curve) < 2:
        raise Invalid("witness.curve: must be a list of at least two vectors d_0 (= theta), d_1, ...")
    limits.check("power", len(curve) - 1, "witness.curve: degree of the curve")
    out = []
    for j, d in enumerate(curve):
        if not isinstance(d, list) or len(d) != n:
            raise Invalid(f"witness.curve[{j}]: must have {n} numbers (one per parameter)")
        out.append([N.num(v, f"witness.curve[{j}]") for v in d])
    return out


def forward(F, net, polys, x, chars, where):
    """Output polynomial of the net along the curve with the pattern ``chars`` (an iterator), and the
    list of (unit name, character, pre-activation polynomial) to decide."""
    h, decide = [[v] if v else [] for v in x], []
    for layer in net.layers:
        z = []
        for o, c in enumerate(layer.conns):
            acc = []
            for wi, xi in c:
                wpoly = [layer.coef] if wi is None else polys[layer.woff + wi]
                acc = padd(F, acc, pmul(F, wpoly, h[xi]))
            if getattr(layer, "bias", False):
                acc = padd(F, acc, polys[layer.boff + layer.unit_bias[o]])
            z.append(canon(F, acc))
        act = layer.act
        if act.identity:
            h = z
            continue
        if act.kind != "pl":
            raise Invalid(f"{where}: activation of layer {layer.pos} is not covered (linear and ReLU-family only)")
        h = []
        for o, v in enumerate(z):
            ch = next(chars, None)
            if ch not in ("+", "-", "0"):
                raise Invalid(f"{where}: too short, or a character other than + - 0")
            decide.append((f"{getattr(layer, 'index', layer.pos)}:{o}", ch, v))
            if ch == "0":
                h.append([])
            else:
                base = v if ch == "+" else pscale(F, v, act.s)
                h.append(ppow(F, base, act.p))
    return (h[0] if h else []), decide


def check(cert, limits):
    claim = cert["claim"]
    _keys(claim, {"kind", "statement"}, "claim")
    if "statement" in claim and claim["statement"] != STATEMENT:
        raise Invalid(f"claim.statement: must be the canonical statement {STATEMENT!r} (or absent)")
    w = cert["witness"]
    _keys(w, {"curve", "s0", "pattern", "mechanism", "field"}, "witness")
    if "mechanism" in w and not isinstance(w["mechanism"], str):
        raise Invalid("witness.mechanism: must be a string")
    N = Numbers(w.get("field"), limits)
    F = N.F
    net = Network(cert["architecture"], N)
    if net.degree is None or net.degree < 1:
        raise Invalid(f"architecture: not positively homogeneous ({net.not_homogeneous or 'degree 0'})")
    L = net.degree
    theta = net.parameters(cert["parameters"])
    xs, ys = net.points(cert["data"])
    curve = _curve(w, len(theta), N, limits)
    s0 = rational(w.get("s0"), "witness.s0", limits)
    if s0 <= 0:
        raise Invalid("witness.s0: must be positive")
    if any(not F.is_zero(F.sub(a, b)) for a, b in zip(curve[0], theta)):
        raise Invalid("witness.curve[0]: must equal theta")
    pattern = w.get("pattern")
    if not isinstance(pattern, list) or len(pattern) != len(xs) or not all(isinstance(p, str) for p in pattern):
        raise Invalid("witness.pattern: must be one string per data point")
    # theta is feasible with an active constraint: min_k q_k(theta) = 1
    q0 = []
    for x, y in zip(xs, ys):
        out = net.evaluate(theta, x).output
        q0.append(out if y == 1 else F.neg(out))
    one = F.const(1)
    low = [k for k, q in enumerate(q0) if F.cmp(q, one) < 0]
    if low:
        raise Invalid(f"theta is not feasible: margin of point {low[0]} is below 1")
    if not any(F.is_zero(F.sub(q, one)) for q in q0):
        raise Invalid("theta has no active constraint (min_k q_k > 1): the curve would not approach a "
                      "feasible point next to theta")
    r = len(curve) - 1
    limits.spend(len(xs) * net.n_conns * (r * L + 1) ** 2, "operations of the polynomial forward passes (estimated)")
    polys = [ptrim([d[i] for d in curve]) for i in range(len(theta))]
    norm2 = []
    for p in polys:
        norm2 = padd(F, norm2, pmul(F, p, p))
    nt = F.sum(F.mul(t, t) for t in theta)
    for k, (x, y) in enumerate(zip(xs, ys)):
        where = f"witness.pattern[{k}]"
        chars = iter(pattern[k])
        out, decide = forward(F, net, polys, x, chars, where)
        if next(chars, None) is not None:
            raise Invalid(f"{where}: too long")
        for name, ch, z in decide:
            want = {"+": 1, "-": -1, "0": 0}[ch]
            got = sign_on(F, z, s0)
            if got != want:
                raise Invalid(f"point {k}, unit {name}: the pre-activation does not have the sign {ch!r} "
                              f"on all of (0, {s0}]")
        q = out if y == 1 else [F.neg(c) for c in out]
        if L % 2 == 0:
            gap = padd(F, pscale(F, q, F.power(nt, L // 2)), [F.neg(c) for c in ppow(F, norm2, L // 2)])
        else:
            if sign_on(F, q, s0) != 1:
                raise Invalid(f"point {k}: q_k(curve(s)) is not positive on all of (0, {s0}]")
            gap = padd(F, pscale(F, pmul(F, q, q), F.power(nt, L)), [F.neg(c) for c in ppow(F, norm2, L)])
        if sign_on(F, gap, s0) != 1:
            raise Invalid(f"point {k}: ||theta||^L q_k(curve(s)) - ||curve(s)||^L is not positive on all of "
                          f"(0, {s0}]")
    return (f"theta is not a local optimum: the degree-{r} curve improves every normalized margin on (0, {s0}] "
            f"(L = {L}, {len(xs)} points, Sturm sequences)")


CLAIMS = {KIND: check}
