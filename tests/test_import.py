"""Model import: ONNX graphs and state dicts become the same network, exactly.

The models are built with ``onnx.helper`` and numpy (no torch). Weights are dyadic rationals
(exact in float32), so a round trip must give back exactly the parameters we started from, and the
exact forward pass of the imported network must agree with a float64 numpy forward pass of the
stored arrays.
"""
import json
import os
import struct
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from symkkt.cli import main  # noqa: E402
from symkkt.errors import SymkktInputError  # noqa: E402
from symkkt.trained import load_model  # noqa: E402
from symkkt.trained.exact import exact_strings  # noqa: E402

F32 = np.float32


def dyadic(rng, shape):
    """Random k/8, |k| <= 16: exact in float32."""
    return (rng.integers(-16, 17, size=shape) / 8).astype(F32)


def save(nodes, inits, in_shape, out_shape, path):
    g = helper.make_graph(nodes, "net", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + in_shape)],
                          [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, ["N"] + out_shape)],
                          [numpy_helper.from_array(np.ascontiguousarray(v), k) for k, v in inits.items()])
    onnx.save(helper.make_model(g), str(path))
    return str(path)


def frac(s):
    return Fraction(s)


def numpy_mlp(x, layers):
    """float64 forward of dense layers [(W, b, act)]."""
    h = x.astype(np.float64)
    for W, b, act in layers:
        h = h @ W.astype(np.float64).T + (0 if b is None else b.astype(np.float64))
        if act == "relu":
            h = np.maximum(h, 0)
        elif isinstance(act, float):
            h = np.where(h > 0, h, act * h)
    return h


def exact_mlp(x, params, acts):
    """Exact forward of dense layers from imported parameter strings (Fractions)."""
    h = [Fraction(v) for v in x]
    for entry, act in zip(params, acts):
        W = [[frac(v) for v in row] for row in entry["weight"]]
        b = [frac(v) for v in entry.get("bias", ["0"] * len(W))]
        h = [sum((w * v for w, v in zip(row, h)), Fraction(0)) + bi for row, bi in zip(W, b)]
        if act == "relu":
            h = [max(v, Fraction(0)) for v in h]
        elif act is not None:
            h = [v if v > 0 else act * v for v in h]
    return h


# ------------------------------------------------------------------ ONNX MLPs

@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 4), st.integers(1, 5), st.booleans(), st.booleans())
def test_mlp_round_trip_is_exact(seed, d, width, transposed, with_bias):
    rng = np.random.default_rng(seed)
    W1, b1, v = dyadic(rng, (width, d)), dyadic(rng, (width,)), dyadic(rng, (1, width))
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), "m.onnx")
    first = ["x", "W1"] + (["b1"] if with_bias else [])
    inits = {"W1": W1 if transposed else W1.T.copy(), "v": v}
    if with_bias:
        inits["b1"] = b1
    save([helper.make_node("Gemm", first, ["h"], transB=int(transposed)), helper.make_node("Relu", ["h"], ["r"]),
          helper.make_node("MatMul", ["r", "vt"], ["y"])], {**inits, "vt": v.T.copy()}, [d], [1], path)
    model = load_model(path)
    arch, params = model.files()
    assert arch["input"] == [d] and arch["layers"][0]["dense"]["width"] == width
    # exactly the stored dyadic numbers
    assert [[frac(s) for s in row] for row in params[0]["weight"]] == [[Fraction(float(w)) for w in row] for row in W1]
    assert ("bias" in params[0]) == with_bias
    x = dyadic(rng, (d,))
    want = numpy_mlp(x[None, :], [(W1, b1 if with_bias else None, "relu"), (v, None, None)])[0, 0]
    got = exact_mlp([Fraction(float(t)) for t in x], params, ["relu", None])[0]
    assert float(got) == want      # dyadic inputs: float64 is exact here too


def test_leaky_slope_is_the_exact_float32_value(tmp_path):
    rng = np.random.default_rng(1)
    W, v = dyadic(rng, (3, 2)), dyadic(rng, (1, 3))
    path = save([helper.make_node("Gemm", ["x", "W"], ["h"], transB=1), helper.make_node("LeakyRelu", ["h"], ["r"],
                                                                                         alpha=0.01),
                 helper.make_node("Gemm", ["r", "v"], ["y"], transB=1)], {"W": W, "v": v}, [2], [1], tmp_path / "m.onnx")
    arch, _ = load_model(path).files()
    slope = Fraction(arch["layers"][0]["dense"]["activation"]["leaky_relu"]["slope"])
    assert slope == Fraction(float(F32(0.01))) and slope != Fraction(1, 100)


def test_matmul_add_is_a_biased_dense_layer(tmp_path):
    rng = np.random.default_rng(2)
    W, b, v = dyadic(rng, (3, 2)), dyadic(rng, (3,)), dyadic(rng, (1, 3))
    path = save([helper.make_node("MatMul", ["x", "Wt"], ["z"]), helper.make_node("Add", ["z", "b"], ["h"]),
                 helper.make_node("Relu", ["h"], ["r"]), helper.make_node("MatMul", ["r", "vt"], ["y"])],
                {"Wt": W.T.copy(), "b": b, "vt": v.T.copy()}, [2], [1], tmp_path / "m.onnx")
    arch, params = load_model(path).files()
    assert arch["layers"][0]["dense"] == {"width": 3, "activation": "relu", "bias": True}
    assert [frac(s) for s in params[0]["bias"]] == [Fraction(float(t)) for t in b]


# ------------------------------------------------------------------ ONNX CNNs

def test_conv2d_stride_pool_flatten(tmp_path):
    rng = np.random.default_rng(3)
    K1, K2, v = dyadic(rng, (2, 1, 3, 3)), dyadic(rng, (2, 2, 2, 2)), dyadic(rng, (1, 2))
    nodes = [helper.make_node("Conv", ["x", "K1"], ["c1"], strides=[1, 1]), helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "K2"], ["c2"], strides=[2, 2]), helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("AveragePool", ["r2"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"], axis=1), helper.make_node("Gemm", ["f", "v"], ["y"], transB=1)]
    # 1x8x8 -> conv3 -> 2x6x6 -> conv2 stride 2 -> 2x3x3 ... pool 2 needs even: use 1x9x9 -> 7x7 -> 3x3 -> pool? use 10x10
    path = save(nodes, {"K1": K1, "K2": K2, "v": v}, [1, 11, 11], [1], tmp_path / "c.onnx")
    # 11 -> 9 (k3) -> 4 (k2, s2) -> 2 (pool 2) : 2 channels x 2 x 2 = 8 features; v must have 8 entries
    with pytest.raises(SymkktInputError, match="does not fit"):
        load_model(path)
    v8 = dyadic(rng, (1, 8))
    path = save(nodes, {"K1": K1, "K2": K2, "v": v8}, [1, 11, 11], [1], tmp_path / "c.onnx")
    arch, params = load_model(path).files()
    kinds = [next(iter(l)) if isinstance(l, dict) else l for l in arch["layers"]]
    assert kinds == ["conv", "conv", "avgpool", "flatten", "dense"]
    assert arch["layers"][1]["conv"]["stride"] == [2, 2]
    assert np.array([[[[frac(s) for s in r] for r in c] for c in o] for o in params[1]["weight"]],
                    dtype=object).shape == (2, 2, 2, 2)
    from symkkt.network import Network
    from symkkt.spec import architecture_from_json

    assert Network(architecture_from_json(arch)).num_parameters == K1.size + K2.size + v8.size


def test_conv1d(tmp_path):
    rng = np.random.default_rng(4)
    K, v = dyadic(rng, (3, 2, 2)), dyadic(rng, (1, 12))
    path = save([helper.make_node("Conv", ["x", "K"], ["c"]), helper.make_node("Relu", ["c"], ["r"]),
                 helper.make_node("Flatten", ["r"], ["f"]), helper.make_node("Gemm", ["f", "v"], ["y"], transB=1)],
                {"K": K, "v": v}, [2, 5], [1], tmp_path / "c1.onnx")
    arch, _ = load_model(path).files()
    assert arch["layers"][0]["conv"] == {"channels": 3, "kernel": [2], "activation": "relu"}


# ------------------------------------------------------------------ state dicts

def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr.astype({"F32": "<f4", "F64": "<f8"}[dtype])).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


ARCH = {"input": [2], "layers": [{"dense": {"width": 3, "activation": "relu", "bias": True}}, {"dense": {"width": 1}}]}


@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_state_dict_matches_architecture(tmp_path, fmt):
    rng = np.random.default_rng(5)
    tensors = {"0.weight": dyadic(rng, (3, 2)), "0.bias": dyadic(rng, (3,)), "2.weight": dyadic(rng, (1, 3))}
    path = str(tmp_path / f"sd.{fmt}")
    write_safetensors(path, tensors) if fmt == "safetensors" else np.savez(path, **tensors)
    _, params = load_model(path, ARCH).files()
    assert [frac(s) for s in params[0]["bias"]] == [Fraction(float(t)) for t in tensors["0.bias"]]
    assert [[frac(s) for s in r] for r in params[1]["weight"]] == [[Fraction(float(t)) for t in tensors["2.weight"][0]]]


def test_state_dict_natural_order_and_float64(tmp_path):
    # modules 2 and 10: natural order puts 2 first (string order would not)
    arch = {"input": [1], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}
    w = np.array([[0.1], [-0.2]])
    path = str(tmp_path / "sd.safetensors")
    write_safetensors(path, {"10.weight": np.array([[1.0, 3.0]]), "2.weight": w}, "F64")
    _, params = load_model(path, arch).files()
    assert Fraction(params[0]["weight"][0][0]) == Fraction(0.1)      # the float64 value, not 1/10
    assert Fraction(params[0]["weight"][0][0]) != Fraction(1, 10)


# ------------------------------------------------------------------ bad input

def one_line(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    return code, err


def test_unsupported_operator_names_node(tmp_path, capsys):
    path = save([helper.make_node("Gemm", ["x", "W"], ["h"], transB=1, name="fc"),
                 helper.make_node("Tanh", ["h"], ["y"], name="act")], {"W": np.ones((1, 2), F32)}, [2], [1],
                tmp_path / "t.onnx")
    code, err = one_line(capsys, ["import", path])
    assert code == 2 and err.count("\n") == 1 and "node act (Tanh)" in err and "Traceback" not in err


def test_nan_weight_refused_with_place(tmp_path, capsys):
    W = np.ones((1, 2), F32)
    W[0, 1] = np.nan
    path = save([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1, name="fc")], {"W": W}, [2], [1],
                tmp_path / "n.onnx")
    code, err = one_line(capsys, ["import", path])
    assert code == 2 and "NaN" in err and "[0][1]" in err


def test_padding_refused(tmp_path):
    path = save([helper.make_node("Conv", ["x", "K"], ["c"], pads=[1, 1]), helper.make_node("Flatten", ["c"], ["y"])],
                {"K": np.ones((1, 1, 3), F32)}, [1, 4], [4], tmp_path / "p.onnx")
    with pytest.raises(SymkktInputError, match="padding"):
        load_model(path)


def test_state_dict_errors(tmp_path, capsys):
    path = str(tmp_path / "sd.npz")
    np.savez(path, **{"0.weight": np.ones((3, 2)), "2.weight": np.ones((1, 3))})
    with pytest.raises(SymkktInputError, match="has a bias in the architecture"):
        load_model(path, ARCH)
    np.savez(path, **{"0.weight": np.ones((3, 3)), "0.bias": np.ones(3), "2.weight": np.ones((1, 3))})
    with pytest.raises(SymkktInputError, match=r"shape \[3, 3\] does not fit"):
        load_model(path, ARCH)
    code, err = one_line(capsys, ["import", path])
    assert code == 2 and "needs an architecture" in err
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00")
    code, err = one_line(capsys, ["import", str(bad), "--arch", str(tmp_path / "none.yaml")])
    assert code == 2 and err.count("\n") == 1


def test_outputs_written_together(tmp_path, capsys):
    rng = np.random.default_rng(6)
    path = save([helper.make_node("Gemm", ["x", "W"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
                 helper.make_node("Gemm", ["r", "v"], ["y"], transB=1)], {"W": dyadic(rng, (2, 2)),
                                                                          "v": dyadic(rng, (1, 2))},
                [2], [1], tmp_path / "m.onnx")
    a, p = tmp_path / "a.yaml", tmp_path / "p.json"
    assert main(["import", "--arch-out", str(a), path, "--params-out", str(p)]) == 0
    capsys.readouterr()
    assert main(["info", str(a)]) == 0
    assert json.loads(p.read_text())[0]["weight"] == load_model(path).files()[1][0]["weight"]


def test_exact_strings_of_float16_and_integers():
    assert exact_strings(np.array([0.333], dtype=np.float16), "f", "t") == [str(Fraction(float(np.float16(0.333))))]
    assert exact_strings(np.array([[3, -2]], dtype=np.int64), "f", "t") == [["3", "-2"]]


# ------------------------------------------------------------------ model files in place of ARCH and PARAMS

def test_model_file_stands_for_arch_and_params(tmp_path, capsys):
    """`kkt MODEL DATA` decides exactly what `kkt ARCH DATA PARAMS` decides for the imported files.

    The model is the hard-margin SVM of x = (1, 0), y = 1 and x = (-1, 0), y = -1 as a one-layer net
    w = (1, 0): margins (1, 1), a KKT point with λ_1 + λ_2 = 1, λ ≥ 0 (by hand: w = λ_1 x_1 − λ_2 x_2)."""
    path = save([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)], {"W": np.array([[1.0, 0.0]], F32)}, [2], [1],
                tmp_path / "svm.onnx")
    data = tmp_path / "data.yaml"
    data.write_text("points:\n  - {x: [1, 0], y: 1}\n  - {x: [-1, 0], y: -1}\n")
    a, p = tmp_path / "a.yaml", tmp_path / "p.yaml"
    assert main(["import", path, "--arch-out", str(a), "--params-out", str(p)]) == 0
    capsys.readouterr()
    answers = []
    for argv in (["kkt", path, str(data)], ["kkt", str(a), str(data), str(p)], ["kkt", str(a), str(data), path],
                 ["kkt", path, str(data), path]):
        assert main(argv + ["--json"]) == 0
        answers.append(json.loads(capsys.readouterr().out))
    for r in answers:
        lam = [Fraction(v) for v in r["multipliers"]]
        assert r["margins"] == ["1", "1"] and sum(lam) == 1 and min(lam) >= 0
    assert all(r["multipliers"] == answers[0]["multipliers"] for r in answers)


def test_state_dict_as_params_and_refusals(tmp_path, capsys):
    arch = tmp_path / "a.yaml"
    arch.write_text("input: [2]\nlayers:\n  - dense: {width: 1}\n")
    sd = str(tmp_path / "w.npz")
    np.savez(sd, **{"0.weight": np.array([[1.0, 0.0]])})
    data = tmp_path / "data.yaml"
    data.write_text("points:\n  - {x: [1, 0], y: 1}\n  - {x: [-1, 0], y: -1}\n")
    assert main(["kkt", str(arch), str(data), sd]) == 0
    capsys.readouterr()
    code, err = one_line(capsys, ["kkt", sd, str(data), sd])          # a state dict has no architecture
    assert code == 2 and "state dict" in err
    other = tmp_path / "b.yaml"
    other.write_text("input: [2]\nlayers:\n  - dense: {width: 2, activation: relu}\n  - dense: {width: 1}\n")
    path = save([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)], {"W": np.array([[1.0, 0.0]], F32)}, [2], [1],
                tmp_path / "m.onnx")
    code, err = one_line(capsys, ["kkt", str(other), str(data), path])  # the model is not ARCH
    assert code == 2 and "not ARCH" in err
    code, err = one_line(capsys, ["kkt", str(other), str(data)])        # no PARAMS and ARCH is no model
    assert code == 2 and "give PARAMS" in err
