"""Claims about split maps: neuron/channel splits [A §4], one-step splits and null embeddings [B].

A certificate of these kinds has the narrow ``architecture`` and a witness with

- ``steps``: a non-empty list; each step acts on the architecture made by the steps before it,
  ``layer`` is 1-based among its weight layers (not the last one), ``unit`` 0-based (dense: unit,
  conv: output channel):
  ``{"split": {"layer", "unit", "coeffs": [c_1..c_s]}}`` (children c_i·incoming, c_i·outgoing),
  ``{"critical_split": {"layer", "unit", "alpha"}}`` (two children: incoming copied, outgoing
  α and 1-α) and ``{"null": {"layer"}}`` (a zero unit appended at the end of the layer);
- ``target_architecture``: the wide architecture;
- ``map``: T: θ ↦ η, one row ``[src, coef]`` per wide parameter in wide order, meaning
  η_i = coef·θ_src, or ``[null, "0"]`` for η_i = 0. Rows are compared as rows of the matrix T,
  so a zero row may also be written ``[src, "0"]``;
- ``field`` (optional): the number field of the coefficients, as for kkt certificates.

Every step replaces unit j of weight layer L in place by s children at j..j+s-1 with incoming
multipliers a_i (the unit's weights and bias) and outgoing multipliers b_i (its weights in weight
layer L+1: a column of a dense layer, an input-channel slice of a conv kernel, or, after
flatten, the block of dense columns of channel j in flatten order). A split is a = b = c,
a critical split a = (1, 1), b = (α, 1-α), a null step splits the last unit with a = b = (1, 0).

Checked (:func:`apply_steps` builds the wide architecture and T itself; nothing stored is believed):

- ``split_embedding`` (data ``{"points": []}``, parameters ``[]``): only ``split`` steps, each
  with c_i >= 0, Σ c_i² = 1 and a positively 1-homogeneous piecewise linear activation in the
  split layer (linear, (leaky) ReLU, poly_(leaky_)relu of power 1); the steps give
  ``target_architecture`` and ``map``; and, re-checked on the map itself, every coefficient is
  >= 0 and every column has Σ coef² = 1. Then T is an isometry and preserves outputs and Clarke
  subgradients for all θ and x: [A] Theorems 4.8/4.11, compositions by Proposition 4.4.
- ``critical_embedding`` (data ``{"points": []}``, parameters ``[]``): only ``critical_split`` and
  ``null`` steps, any activation (tanh included: nothing is evaluated) and biases; the steps give
  ``target_architecture`` and ``map``. Then f_{Tθ} = f_θ for every θ: [B].
- ``not_output_preserved`` (parameters θ, exactly one data point x): steps of any kind with any
  real coefficients; the steps give ``target_architecture`` and ``map``, and the exact forward
  passes give Φ̃(Tθ; x) != Φ(θ; x).

``claim`` has the keys ``kind`` and, optionally, ``statement`` and ``theorem``; each must be the
canonical text of :data:`STATEMENTS` (for ``not_output_preserved`` the statement may also name
both outputs, which are then checked against the recomputed ones).

Trusted: the field arithmetic (:mod:`.field`), the number grammar (:mod:`.exact`) and the
architecture compiler and forward pass (:mod:`.network`). The map is recomputed, never read
as a fact.

Examples
--------
>>> N = Numbers()
>>> narrow = {"input": [1], "layers": [{"dense": {"width": 1, "activation": "relu"}},
...                                    {"dense": {"width": 1}}]}
>>> step = parse_step({"split": {"layer": 1, "unit": 0, "coeffs": ["3/5", "4/5"]}}, N, "step")
>>> _, wide, rows, _ = apply_steps(narrow, [step], N)
>>> [(src, str(c[0])) for src, c in rows]           # θ = (w, a) ↦ η = (3w/5, 4w/5, 3a/5, 4a/5)
[(0, '3/5'), (0, '4/5'), (1, '3/5'), (1, '4/5')]
>>> wide.layers[0].out_shape
(2,)
"""
import re
from math import prod
from types import SimpleNamespace

from .exact import Numbers
from .field import Invalid
from .network import Network, _int, _keys

STEPS = {"split": {"layer", "unit", "coeffs"}, "critical_split": {"layer", "unit", "alpha"}, "null": {"layer"}}
STATEMENTS = {   # kind: (statement, theorem)
    "split_embedding": ("T is a composition of neuron/channel splits with c >= 0 and sum c^2 = 1 on positively "
                        "1-homogeneous activations: isometry, output and gradient preservation for all theta, x",
                        "[A] Theorems 4.8 and 4.11, Proposition 4.4"),
    "critical_embedding": ("one-step splits and null units: the wide output equals the narrow output for all "
                           "theta, x", "[B] critical embeddings (output preservation)"),
    "not_output_preserved": ("the wide output differs from the narrow output at this theta and x",
                             "counterexample to output preservation"),
}
_VALUED = re.compile(r"the wide output (.+) differs from the narrow output (.+) at this theta and x")


def _fmt(F, a):
    return F.show(a)


def parse_step(step, N, where):
    """One JSON step as (kind, layer, unit (None: the last unit), multipliers a and b, where)."""
    if not isinstance(step, dict) or len(step) != 1:
        raise Invalid(f"{where}: must be an object with one key")
    (kind, body), = step.items()
    if kind not in STEPS:
        raise Invalid(f"{where}: unknown step {kind!r} (split, critical_split or null)")
    where += "." + kind
    _keys(body, STEPS[kind], where)
    if set(body) != STEPS[kind]:
        raise Invalid(f"{where}: needs exactly the keys {sorted(STEPS[kind])}")
    one, st = N.F.const(1), SimpleNamespace(kind=kind, layer=_int(body["layer"], f"{where}.layer"),
                                            unit=None, where=where)
    if kind == "null":
        st.a = st.b = [one, ()]
        return st
    st.unit = _int(body["unit"], f"{where}.unit", 0)
    if kind == "critical_split":
        alpha = N.num(body["alpha"], f"{where}.alpha")
        st.a, st.b = [one, one], [alpha, N.F.sub(one, alpha)]
        return st
    if not isinstance(body["coeffs"], list) or not body["coeffs"]:
        raise Invalid(f"{where}.coeffs: must be a non-empty list")
    st.a = st.b = [N.num(c, f"{where}.coeffs[{i}]") for i, c in enumerate(body["coeffs"])]
    return st


def _widen(arch, layer, extra):
    """A copy of the architecture JSON with ``extra`` more units (channels) in weight layer ``layer``."""
    layers = list(arch["layers"])
    i = [i for i, spec in enumerate(layers) if isinstance(spec, dict) and set(spec) & {"dense", "conv"}][layer - 1]
    (kind, body), = layers[i].items()
    key = "width" if kind == "dense" else "channels"
    layers[i] = {kind: dict(body, **{key: body[key] + extra})}
    return dict(arch, layers=layers)


def _child(u, j, s):
    """(old unit, child number or None) of new unit u when unit j became the s units j..j+s-1."""
    return (u, None) if u < j else (j, u - j) if u < j + s else (u - s + 1, None)


def _step_rows(old, new, L, j, a, b):
    """Per parameter of ``new``: (index in ``old``, multiplier) for one step at unit j of layer L.

    Layer L's weights are viewed as (units, R) and layer L+1's as (outputs, units, R'): between
    them there are only avgpool (per channel) and flatten (channel-major), so the inputs of
    layer L+1 that come from unit/channel j form the contiguous block j of size R'.
    """
    one, s, rows = old.F.const(1), len(a), []
    for k, (lo, ln) in enumerate(zip(old.weight_layers, new.weight_layers), start=1):
        if k == L:                                          # incoming weights and bias: a_i
            R = prod(ln.wshape[1:])
            for idx in range(prod(ln.wshape)):
                (o, i), r = _child(idx // R, j, s), idx % R
                rows.append((lo.woff + o * R + r, one if i is None else a[i]))
            for u in range(ln.wshape[0] * ln.bias):
                o, i = _child(u, j, s)
                rows.append((lo.boff + o, one if i is None else a[i]))
        elif k == L + 1:                                    # outgoing weights: b_i
            cn = new.weight_layers[L - 1].wshape[0]
            co, R = cn - s + 1, prod(ln.wshape[1:]) // cn
            for idx in range(prod(ln.wshape)):
                p, (o, i), r = idx // (cn * R), _child(idx // R % cn, j, s), idx % R
                rows.append((lo.woff + (p * co + o) * R + r, one if i is None else b[i]))
            rows += [(lo.boff + u, one) for u in range(ln.wshape[0] * ln.bias)]
        else:
            rows += [(lo.woff + t, one) for t in range(prod(lo.wshape) + lo.wshape[0] * lo.bias)]
    if len(rows) != new.n_params:
        raise Invalid("internal: split map has the wrong size")
    return rows


def apply_steps(arch, steps, N, allow_tanh=False, check=None):
    """Apply parsed steps to the architecture JSON ``arch``.

    Returns (narrow network, wide network, T rows ``(src or None, coef)`` with every zero row
    as ``(None, ())``, wide architecture JSON). ``check(step, layer)`` is called before each step
    with the compiled weight layer it splits.
    """
    F = N.F
    kinds = [spec if isinstance(spec, str) else next(iter(spec), None) if isinstance(spec, dict) else None
             for spec in arch.get("layers", []) if isinstance(arch, dict)]
    other = sorted({k for k in kinds if k not in ("dense", "conv", "avgpool", "flatten")} - {None})
    if other:       # a diagonal unit is tied to its input coordinate: no split of [A] exists
        raise Invalid(f"architecture: split maps are defined for dense, conv, avgpool and flatten layers, "
                      f"not {', '.join(other)}")
    net = narrow = Network(arch, N, allow_tanh)
    rows = [(k, F.const(1)) for k in range(net.n_params)]
    for st in steps:
        wl = net.weight_layers
        if not 1 <= st.layer < len(wl):
            raise Invalid(f"{st.where}.layer: must be a weight layer 1..{len(wl) - 1} (not the last)")
        width = wl[st.layer - 1].wshape[0]
        unit = width - 1 if st.unit is None else st.unit
        if unit >= width:
            raise Invalid(f"{st.where}.unit: {unit} out of range 0..{width - 1}")
        if check:
            check(st, wl[st.layer - 1])
        arch = _widen(arch, st.layer, len(st.a) - 1)
        wide = Network(arch, N, allow_tanh)
        # composition: η_new[i] = m·η_old[o] = m·coef·θ_src, at most one non-zero per row
        rows = [(None, ()) if rows[o][0] is None or F.is_zero(m) else (rows[o][0], F.mul(rows[o][1], m))
                for o, m in _step_rows(net, wide, st.layer, unit, st.a, st.b)]
        net = wide
    return narrow, net, rows, arch


def architecture_difference(a, b):
    """None if the compiled networks ``a`` and ``b`` are the same, else what differs.

    Compiled layers carry shapes, connections (kernel, stride), bias flags and activations, so
    ``kernel: 3`` equals ``kernel: [3]`` and an omitted stride equals stride 1.
    """
    F = a.F
    if a.input_shape != b.input_shape:
        return f"input {list(b.input_shape)}, expected {list(a.input_shape)}"
    if len(a.layers) != len(b.layers):
        return f"{len(b.layers)} layers (besides flatten), expected {len(a.layers)}"
    for x, y in zip(a.layers, b.layers):
        where = f"layers[{y.pos}]"
        if x.out_shape != y.out_shape:
            return f"{where}: output shape {list(y.out_shape)}, expected {list(x.out_shape)}"
        if (x.wshape, x.bias, x.coef is None) != (y.wshape, y.bias, y.coef is None):
            return f"{where}: weight shape or bias differs"
        if x.coef is not None and not F.is_zero(F.sub(x.coef, y.coef)):
            return f"{where}: pooling differs"
        if not x.act.same(y.act):
            return f"{where}: activation differs"
        if x.conns != y.conns:
            return f"{where}: connections (kernel or stride) differ"
    return None


def _texts(claim):
    """Check claim keys and the canonical theorem; returns the statement (None if absent)."""
    _keys(claim, {"kind", "statement", "theorem"}, "claim")
    text, theorem = STATEMENTS[claim["kind"]]
    if "theorem" in claim and claim["theorem"] != theorem:
        raise Invalid(f"claim.theorem: must be {theorem!r} (or absent)")
    st = claim.get("statement")
    if st is not None and st != text and not (claim["kind"] == "not_output_preserved"
                                              and isinstance(st, str) and _VALUED.fullmatch(st)):
        raise Invalid(f"claim.statement: must be the canonical statement {text!r} (or absent)")
    return st


def _prepare(cert, limits, allow_tanh, check=None):
    """Shared part of the three claims: claim and witness keys, steps applied, target and map."""
    _texts(cert["claim"])
    w = cert["witness"]
    _keys(w, {"steps", "target_architecture", "map", "field"}, "witness")
    N = Numbers(w.get("field"), limits)
    F = N.F
    if not isinstance(w.get("steps"), list) or not w["steps"]:
        raise Invalid("witness.steps: must be a non-empty list")
    steps = [parse_step(s, N, f"witness.steps[{i}]") for i, s in enumerate(w["steps"])]
    narrow, wide, rows, _ = apply_steps(cert["architecture"], steps, N, allow_tanh, check)
    try:
        target = Network(w.get("target_architecture"), N, allow_tanh)
    except Invalid as e:
        raise Invalid(f"witness.target_architecture: {e}") from None
    diff = architecture_difference(wide, target)
    if diff:
        raise Invalid(f"witness.target_architecture is not what the steps produce: {diff}")
    given = w.get("map")
    if not isinstance(given, list) or len(given) != len(rows):
        raise Invalid(f"witness.map: must be a list of {len(rows)} rows (one per wide parameter)")
    for i, (row, (src, c)) in enumerate(zip(given, rows)):
        where = f"witness.map[{i}]"
        if not isinstance(row, list) or len(row) != 2:
            raise Invalid(f"{where}: must be [src, coef]")
        gc = N.num(row[1], f"{where}.coef")
        if row[0] is None and not F.is_zero(gc):
            raise Invalid(f"{where}: a row without source must have coefficient 0")
        if row[0] is not None and _int(row[0], f"{where}.src", 0) >= narrow.n_params:
            raise Invalid(f"{where}: src must be 0..{narrow.n_params - 1}")
        # equal as rows of T: same coefficient, and the same source unless the row is zero
        if not F.is_zero(F.sub(gc, c)) or (row[0] != src and not F.is_zero(c)):
            raise Invalid(f"{where}: [{row[0]}, {_fmt(F, gc)}] but the steps give [{src}, {_fmt(F, c)}]")
    return SimpleNamespace(N=N, F=F, steps=steps, narrow=narrow, wide=wide, rows=rows)


def _no_instance(cert):
    if cert["data"] != {"points": []} or cert["parameters"] != []:
        raise Invalid('this claim is about every θ and x: data must be {"points": []} and parameters []')


def split_embedding(cert, limits):
    """``split_embedding``: T is a composition of valid [A] splits (isometry, output and subgradients)."""
    _no_instance(cert)

    def check(st, layer):
        F = layer.act.F
        if st.kind != "split":
            raise Invalid(f"{st.where}: a split_embedding allows only split steps")
        for i, c in enumerate(st.a):
            if F.sign(c) < 0:
                raise Invalid(f"{st.where}.coeffs[{i}]: {_fmt(F, c)} < 0 (c_i >= 0 is needed)")
        sq = F.sum(F.mul(c, c) for c in st.a)
        if not F.is_zero(F.sub(sq, F.const(1))):
            raise Invalid(f"{st.where}.coeffs: Σ c_i² = {_fmt(F, sq)} != 1")
        if layer.act.kind != "pl" or layer.act.p != 1:
            raise Invalid(f"{st.where}: the activation of weight layer {st.layer} is not positively "
                          "1-homogeneous and piecewise linear")

    s = _prepare(cert, limits, True, check)
    F, cols = s.F, [()] * s.narrow.n_params
    for i, (src, c) in enumerate(s.rows):       # re-checked on the map itself
        if src is not None:
            if F.sign(c) < 0:
                raise Invalid(f"witness.map[{i}]: negative coefficient")
            cols[src] = F.add(cols[src], F.mul(c, c))
    # One non-zero per row: distinct columns have disjoint supports, so they are orthogonal, and
    # Σ coef² = 1 per column makes them orthonormal: TᵀT = I, ‖Tθ‖ = ‖θ‖.
    for k, v in enumerate(cols):
        if not F.is_zero(F.sub(v, F.const(1))):
            raise Invalid(f"witness.map: column {k} has Σ coef² = {_fmt(F, v)} != 1 (not an isometry)")
    n = len(s.steps)
    return (f"T is a composition of {n} valid neuron/channel split{'s' * (n > 1)} (c >= 0, Σc² = 1, positively "
            "1-homogeneous activations) with orthonormal columns: isometry, output and (sub)gradient "
            "preservation for all θ, x by [A] Theorems 4.8/4.11 and Proposition 4.4 "
            "(at kinks the inclusion T∂°Φ ⊆ ∂°Φ̃)")


def critical_embedding(cert, limits):
    """``critical_embedding``: T is a composition of [B] one-step splits and null embeddings."""
    _no_instance(cert)

    def check(st, layer):
        if st.kind == "split":
            raise Invalid(f"{st.where}: a critical_embedding allows only critical_split and null steps")

    n = len(_prepare(cert, limits, True, check).steps)
    return (f"T is a composition of {n} one-step split{'s' * (n > 1)}/null embedding{'s' * (n > 1)}: "
            "f_{Tθ} = f_θ for every θ by [B] (one-step splits and null embeddings preserve the output "
            "for every θ and any activation)")


def not_output_preserved(cert, limits):
    """``not_output_preserved``: Φ̃(Tθ; x) != Φ(θ; x) at the certificate's θ and single point x."""
    s = _prepare(cert, limits, False)
    F = s.F
    theta = s.narrow.parameters(cert["parameters"])
    xs, _ = s.narrow.points(cert["data"])
    if len(xs) != 1:
        raise Invalid("data.points: must be exactly one point")
    eta = [() if src is None else F.mul(c, theta[src]) for src, c in s.rows]
    phi, wide = s.narrow.evaluate(theta, xs[0]).output, s.wide.evaluate(eta, xs[0]).output
    if F.is_zero(F.sub(phi, wide)):
        raise Invalid(f"the outputs coincide: Φ̃(Tθ; x) = Φ(θ; x) = {_fmt(F, phi)}")
    valued = _VALUED.fullmatch(cert["claim"].get("statement") or "")
    if valued:
        for text, value, name in zip(valued.groups(), (wide, phi), ("wide", "narrow")):
            if not F.is_zero(F.sub(s.N.num(text, f"claim.statement: the {name} output"), value)):
                raise Invalid(f"claim.statement: the {name} output is {_fmt(F, value)}, not {text}")
    return f"Φ̃(Tθ; x) = {_fmt(F, wide)} != Φ(θ; x) = {_fmt(F, phi)}: T does not preserve the output"


CLAIMS = {"split_embedding": split_embedding, "critical_embedding": critical_embedding,
          "not_output_preserved": not_output_preserved}
