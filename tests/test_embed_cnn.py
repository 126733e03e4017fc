"""Channel splits of convolutional networks ([A] Theorem 4.11 and compositions, Proposition 4.4).

For c_i ≥ 0, Σc_i² = 1 and positively 1-homogeneous σ, a channel split T satisfies
Φ̃(Tθ; x) = Φ(θ; x) and ∇Φ̃(Tθ; x) = T∇Φ(θ; x) for all θ, x. The gradient of a shared conv
weight is a sum over output positions, Σ_p δ_{o,p} h_{c,p·s+k}; positions that average pooling
drops, or that a stride never reads, carry δ = 0 for every θ and x.

Everything ``decide`` claims is re-checked by the independent exact evaluator of
``test_embed_soundness`` (forward-mode differentiation over the architecture's JSON), at random
exact points and with both one-sided slopes at kinks: children sit on a kink exactly when their
parent does (z̃ = c_i z), so with every unit on a kink taking the same side the chain rule gives
∇Φ̃(Tθ; x) = T∇Φ(θ; x) at every point, kinks included.
"""

import math
from fractions import Fraction as F

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symkkt.embed.check import decide
from symkkt.embed.maps import chain, parse_step
from symkkt.embed.prove import dead_units
from symkkt.network import Network
from symkkt.spec import architecture_from_json
from test_embed_soundness import apply_rows, check_result, evaluate, t_rows

ACTS = ["relu", {"leaky_relu": {"slope": "1/10"}}, {"leaky_relu": {"slope": "2"}}, "linear"]
SPHERE = [(F(3, 5), F(4, 5)), (F(1),), (F(1, 3), F(2, 3), F(2, 3)), (F(0), F(1)), (F(2, 7), F(3, 7), F(6, 7))]
OFF_SPHERE = [(F(1, 2), F(1, 2)), (F(2),), (F(1), F(1)), (F(1, 3), F(1, 3))]


def net_of(arch):
    return Network(architecture_from_json(arch))


def split_text(w, unit, cs):
    return f"{w}:{unit}:{','.join(str(c) for c in cs)}"


# -- random conv stacks --------------------------------------------------------------------------
@st.composite
def conv_stacks(draw):
    """(avgpool →) conv (→ avgpool) → conv (→ conv) → avgpool → flatten (→ dense) → dense, on 1-D or
    2-D inputs, kernels up to 3 (at least 2 along one axis), strides 1 or 2, pooling with remainders."""
    dims = draw(st.sampled_from([1, 2]))
    spatial = [draw(st.integers(7, 10))] if dims == 1 else [draw(st.integers(5, 7)) for _ in range(2)]
    inp = [draw(st.integers(1, 2))] + spatial
    layers, n_conv = [], draw(st.integers(2, 3)) if dims == 1 else 2
    if draw(st.integers(0, 4)) == 0:            # pooling of the input itself
        pk = [draw(st.integers(1, 2)) if n >= 8 else 1 for n in spatial]
        spatial = [n // kk for n, kk in zip(spatial, pk)]
        layers.append({"avgpool": {"kernel": pk}})
    for i in range(n_conv):
        last = i == n_conv - 1
        # before another convolution keep at least 2 positions along every axis
        top = [min(3, n if last else n - 1) for n in spatial]
        k = [draw(st.integers(1, t)) for t in top]
        if max(k) == 1 and max(top) >= 2:
            k[top.index(max(top))] = 2
        s = [draw(st.integers(1, 2)) for _ in spatial]
        if not last:
            s = [ss if (n - kk) // ss + 1 >= 2 else 1 for n, kk, ss in zip(spatial, k, s)]
        spatial = [(n - kk) // ss + 1 for n, kk, ss in zip(spatial, k, s)]
        layers.append({"conv": {"channels": draw(st.integers(1, 2)), "kernel": k, "stride": s,
                                "activation": draw(st.sampled_from(ACTS)), "bias": draw(st.booleans())}})
        room = 2 if last else 4
        if any(n >= room for n in spatial) and draw(st.integers(0, 4 if last else 1)) > 0:
            pk = [draw(st.integers(1, max(1, min(3 if last else 2, n // (room // 2))))) for n in spatial]
            spatial = [n // kk for n, kk in zip(spatial, pk)]
            layers.append({"avgpool": {"kernel": pk}})
    layers.append("flatten")
    if draw(st.booleans()):
        layers.append({"dense": {"width": draw(st.integers(1, 2)), "activation": draw(st.sampled_from(ACTS)),
                                 "bias": draw(st.booleans())}})
    layers.append({"dense": {"width": 1, "bias": draw(st.booleans())}})
    return {"input": inp, "layers": layers}


def _units(net, w):
    layer = net.arch.layers[net.arch.weight_layers[w - 1]]
    return layer.channels if layer.kind == "conv" else layer.width


@st.composite
def sphere_split_cases(draw):
    """A conv stack and a chain of [A] splits: one in every conv layer, then up to two more anywhere
    (children split again included), each indexed in the network the previous steps produced."""
    arch = draw(conv_stacks())
    net = net_of(arch)
    n_conv = sum(1 for li in net.arch.weight_layers if net.arch.layers[li].kind == "conv")
    layers = list(range(1, n_conv + 1))
    layers += [draw(st.integers(1, len(net.arch.weight_layers) - 1)) for _ in range(draw(st.integers(0, 2)))]
    texts, wide = [], net
    for w in layers:
        texts.append(split_text(w, draw(st.integers(0, _units(wide, w) - 1)), draw(st.sampled_from(SPHERE))))
        wide = chain(net, [parse_step(t) for t in texts]).target
    return arch, texts


def random_point(rnd, n):
    return [F(rnd.randint(-9, 9), rnd.randint(1, 4)) for _ in range(n)]


def check_identities(arch, emb, rnd, points=2):
    """Φ̃(Tθ; x) = Φ(θ; x) and, for both one-sided slopes at kinks, ∇Φ̃(Tθ; x) = T∇Φ(θ; x), exactly."""
    warch, T = emb.target.arch.to_json(), t_rows(emb)
    for _ in range(points):
        th, x = random_point(rnd, emb.source.num_parameters), random_point(rnd, math.prod(arch["input"]))
        eta = apply_rows(T, th)
        for side in (0, 1):
            v, g, _ = evaluate(arch, th, x, side)
            V, G, _ = evaluate(warch, eta, x, side)
            assert V == v
            assert G == apply_rows(T, g)


# -- the theorem, on random stacks ---------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sphere_split_cases(), st.randoms(use_true_random=False))
def test_channel_splits_in_every_conv_layer_preserve_output_and_gradient(case, rnd):
    arch, texts = case
    emb = chain(net_of(arch), [parse_step(t) for t in texts])
    res = decide(emb)
    verdicts = {k: p.verdict for k, p in res.properties.items()}
    assert verdicts == {"isometry": "holds", "output_preserved": "holds", "gradient_preserved": "holds"}, \
        (texts, res.properties["gradient_preserved"].reason)
    # the proved relation is S = T itself, row by row
    assert res.proofs.s_equals_t
    check_identities(arch, emb, rnd)


# -- hand-derived instances ----------------------------------------------------------------------
# input 5 → conv k2 (4 positions) → conv k2 (3 positions) → avgpool 2 (1 position, drops position 2)
DROPPED = {"input": [1, 5], "layers": [{"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
                                       {"conv": {"channels": 1, "kernel": 2, "activation": "relu"}},
                                       {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]}


def test_positions_dropped_by_pooling_after_two_convolutions():
    net = net_of(DROPPED)
    # position 2 of conv 2 is dropped by the pooling; position 3 of conv 1 is read only by it
    # (flat units: channel · 4 + position in conv 1, position in conv 2)
    assert dead_units(net.arch) == {4: set(), 1: {2}, 0: {3, 7}}
    for texts in (["1:0:3/5,4/5"], ["2:0:3/5,4/5"], ["1:1:1/3,2/3,2/3", "2:0:5/13,12/13", "1:3:0,1"]):
        emb = chain(net, [parse_step(t) for t in texts])
        res = decide(emb)
        assert res.verdict == "holds" and res.proofs.s_equals_t, res.reason
        import random
        check_identities(DROPPED, emb, random.Random(len(texts)), points=3)


def test_gradient_of_a_shared_kernel_entry_by_hand():
    # Φ = a·(relu(v·h0 + v'·h1) + relu(v·h1 + v'·h2))/2 with h_p = relu(w x_p + w' x_{p+1}) (one channel
    # each); splitting the conv-1 channel into (3/5, 4/5) gives wide kernels (3/5)(w, w') and (4/5)(w, w'),
    # and conv-2 entries (3/5)(v, v'), (4/5)(v, v') on the children. ∂Φ/∂v = (a/2)(h0 + h1) where every
    # pre-activation is positive; the wide entry of the first child is 3/5 of it.
    arch = {"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 2, "activation": "relu"}},
                                        {"conv": {"channels": 1, "kernel": 2, "activation": "relu"}},
                                        {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]}
    w, w2, v, v2, a = F(1), F(2), F(1, 2), F(3), F(5)
    x = [F(1), F(2), F(3), F(4)]
    h = [w * x[p] + w2 * x[p + 1] for p in range(3)]               # 5, 8, 11 (all positive)
    z = [v * h[0] + v2 * h[1], v * h[1] + v2 * h[2]]               # 53/2, 37 (positive)
    assert min(h + z) > 0
    emb = chain(net_of(arch), [parse_step("1:0:3/5,4/5")])
    res = decide(emb)
    assert res.verdict == "holds"
    wide = emb.target.arch.to_json()
    eta = apply_rows(t_rows(emb), [w, w2, v, v2, a])
    _, G, kinks = evaluate(wide, eta, x)
    names = emb.target.parameter_names
    assert not kinks
    assert G[names.index("W2[0,0,0]")] == F(3, 5) * a / 2 * (h[0] + h[1])
    assert G[names.index("W2[0,1,1]")] == F(4, 5) * a / 2 * (h[1] + h[2])
    assert G[names.index("W3[0,0]")] == (z[0] + z[1]) / 2


@pytest.mark.parametrize("arch, texts", [
    # stride 2 after a kernel-3 convolution never reads the last position; a later conv splits too
    ({"input": [1, 7], "layers": [
        {"conv": {"channels": 1, "kernel": 2, "activation": "linear", "bias": True}},
        {"conv": {"channels": 2, "kernel": 3, "stride": 2, "activation": "relu", "bias": True}},
        {"avgpool": {"kernel": 1}}, {"conv": {"channels": 2, "kernel": 2, "activation": "linear", "bias": True}},
        "flatten", {"dense": {"width": 1, "bias": True}}]}, ["3:1:3/5,4/5", "1:0:1", "2:1:0,1"]),
    # 2-D: strides (1, 2) and (2, 1), kernels (1, 3) and (1, 2), then a hidden dense layer
    ({"input": [1, 5, 6], "layers": [
        {"conv": {"channels": 2, "kernel": [1, 3], "stride": [1, 2], "activation": "linear"}},
        {"conv": {"channels": 2, "kernel": [1, 2], "stride": [2, 1], "activation": "linear", "bias": True}},
        "flatten", {"dense": {"width": 1, "activation": {"leaky_relu": {"slope": "1/10"}}, "bias": True}},
        {"dense": {"width": 1, "bias": True}}]}, ["1:1:3/5,4/5", "2:0:2/7,3/7,6/7"]),
    # 2-D conv → conv → avgpool (2, 1) with a remainder, both conv layers split
    ({"input": [2, 7, 5], "layers": [
        {"conv": {"channels": 2, "kernel": [3, 2], "activation": "linear", "bias": True}},
        {"conv": {"channels": 1, "kernel": [3, 2], "stride": [1, 2], "activation": "relu"}},
        {"avgpool": {"kernel": [2, 1]}}, "flatten", {"dense": {"width": 1}}]},
     ["1:1:5/13,12/13", "1:0:5/13,12/13", "2:0:3/5,4/5"]),
])
def test_stacks_that_needed_dead_positions(arch, texts):
    emb = chain(net_of(arch), [parse_step(t) for t in texts])
    res = decide(emb)
    assert res.verdict == "holds" and res.proofs.s_equals_t, res.reason
    import random
    check_identities(arch, emb, random.Random(7))


def test_pooling_of_the_input_before_the_first_convolution():
    # the average of input pairs feeds the convolutions; nothing below the first weight layer has
    # parameters, so the backward induction stops there
    arch = {"input": [1, 9], "layers": [{"avgpool": {"kernel": 2}},
                                        {"conv": {"channels": 2, "kernel": 2, "activation": "relu", "bias": True}},
                                        {"conv": {"channels": 1, "kernel": 2, "stride": 2, "activation": "relu"}},
                                        {"avgpool": {"kernel": 1}}, "flatten", {"dense": {"width": 1}}]}
    emb = chain(net_of(arch), [parse_step(t) for t in ("1:1:3/5,4/5", "2:0:1/3,2/3,2/3")])
    res = decide(emb)
    assert res.verdict == "holds" and res.proofs.s_equals_t, res.reason
    import random
    check_identities(arch, emb, random.Random(11), points=3)


def test_irrational_coefficients_in_both_conv_layers():
    # c = (√2/2, √2/2) and (1/2, √3/2): Σc² = 1 over Q(√2, √3); S = T is proved in that field
    arch = {"input": [3, 8], "layers": [
        {"conv": {"channels": 3, "kernel": 3, "activation": {"leaky_relu": {"slope": "1/10"}}}},
        {"conv": {"channels": 1, "kernel": 2, "activation": "relu"}},
        {"avgpool": {"kernel": 3}}, "flatten", {"dense": {"width": 1, "bias": True}}]}
    emb = chain(net_of(arch), [parse_step(t) for t in ("1:2:sqrt(2)/2,sqrt(2)/2", "2:0:1/2,sqrt(3)/2")])
    res = decide(emb)
    assert res.verdict == "holds" and res.proofs.s_equals_t, res.reason


# -- negative controls ---------------------------------------------------------------------------
@st.composite
def bad_split_cases(draw):
    """A conv stack and one split of a conv channel with Σc² ≠ 1, or with a negative c on a relu layer."""
    arch = draw(conv_stacks())
    convs = [i for i, l in enumerate(arch["layers"]) if isinstance(l, dict) and "conv" in l]
    w = draw(st.integers(1, len(convs)))
    spec = arch["layers"][convs[w - 1]]["conv"]
    unit = draw(st.integers(0, spec["channels"] - 1))
    if draw(st.booleans()):
        cs = draw(st.sampled_from(OFF_SPHERE))
    else:
        spec["activation"] = "relu"
        cs = draw(st.sampled_from([(F(-3, 5), F(4, 5)), (F(-1),), (F(4, 5), F(-3, 5))]))
    return arch, split_text(w, unit, cs), cs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bad_split_cases(), st.randoms(use_true_random=False))
def test_bad_channel_splits_are_refuted_with_real_witnesses(case, rnd):
    arch, text, cs = case
    emb = chain(net_of(arch), [parse_step(text)])
    res = decide(emb)
    on_sphere = sum(c * c for c in cs) == 1
    assert res.properties["isometry"].verdict == ("holds" if on_sphere else "refuted")
    out = res.properties["output_preserved"]
    assert res.verdict == "refuted" and out.verdict == "refuted" and out.tier == "exact", (text, out.reason)
    # the witness separates the outputs under the independent evaluator
    th, x = [F(v) for v in out.witness["theta"]], [F(v) for v in out.witness["x"]]
    assert evaluate(arch, th, x)[0] != evaluate(emb.target.arch.to_json(), apply_rows(t_rows(emb), th), x)[0]
    # and every other refutation or `holds` is re-checked too
    check_result(arch, emb, res, rnd)
