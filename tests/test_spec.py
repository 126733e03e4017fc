"""Loading and validating architectures, data and parameters; every bad input names file and place."""
import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import sympy

from symkkt.errors import NumberSyntaxError, SchemaError, ShapeError, UsageError
from symkkt.spec import (Activation, Architecture, Dataset, Layer, architecture_from_json, data_from_json,
                         load_architecture, load_data, load_parameters, parameters_from_json,
                         require_binary_labels, schema)

R = sympy.Rational
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE1 = ROOT / "symkkt" / "examples" / "example1"
TOY2D = ROOT / "examples" / "flow" / "toy2d"
ARCH = """\
input: [2]
layers:
  - dense: {width: 2, activation: relu}
  - dense: {width: 1}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def fails(cls, place, fn, *args, file=None, **kw):
    """Call ``fn`` and check it raises ``cls`` whose one line names the file (default: first path arg) and place."""
    with pytest.raises(cls) as info:
        fn(*args, **kw)
    line = str(info.value)
    path = file or next(a for a in args if isinstance(a, Path))
    assert str(path) in line and place in line, line
    assert "\n" not in line
    return line


@pytest.fixture
def arch(tmp_path):
    return load_architecture(write(tmp_path, "arch.yaml", ARCH))


# --------------------------------------------------------------------- shared cases

def test_example1_exact():
    a = load_architecture(EXAMPLE1 / "arch.yaml")
    assert a.input == (2,) and a.shapes == ((2,), (1,)) and a.weight_layers == (0, 1)
    assert a.layers[0].activation == Activation("relu")
    d = require_binary_labels(load_data(EXAMPLE1 / "data.yaml", a))
    assert d.X == ((1, 0), (-1, 1), (3, 1)) and d.y == (1, -1, 1)
    p = load_parameters(EXAMPLE1 / "params.yaml", a)
    w = p.layers[0]["weight"]
    assert w[0] == (1, 0) and (w[1][0] ** 4, w[1][1] ** 4) == (R(1, 8), R(1, 8))
    assert sympy.simplify(w[1][0] + 2 ** R(-3, 4)) == 0
    assert p.layers[1]["weight"][0][1] ** 4 == R(1, 2) and p.layers[1]["bias"] is None
    assert parameters_from_json(p.to_json(), a) == p


def test_toy2d_exact():
    a = load_architecture(TOY2D / "arch.yaml")
    assert a.layers[0].activation == Activation("leaky_relu", slope=R(1, 100))
    d = require_binary_labels(load_data(TOY2D / "data.csv", a))
    assert len(d.X) == 100 and d.X[0] == (R(223, 1000), R(-1979, 1000)) and d.y[0] == 1
    p = load_parameters(TOY2D / "init.yaml", a)
    assert p.layers[0]["weight"] == ((R(3, 10), R(-1, 5)), (R(-1, 10), R(2, 5)))


# --------------------------------------------------------------------- shapes and round trips

def test_conv1d_shapes():
    a = architecture_from_json({"input": [2, 10], "layers": [
        {"conv": {"channels": 3, "kernel": 3, "stride": 2, "activation": "relu", "bias": True}},
        {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}]})
    assert a.shapes == ((3, 4), (3, 2), (6,), (1,))
    assert a.layers[0].kernel == (3,) and a.layers[0].stride == (2,) and a.layers[1].stride == (2,)
    assert a.param_shapes() == [{"weight": (3, 2, 3), "bias": (3,)}, {"weight": (1, 6), "bias": None}]
    assert architecture_from_json(a.to_json()) == a


def test_conv2d_shapes():
    a = architecture_from_json({"input": [1, 7, 6], "layers": [
        {"conv": {"channels": 2, "kernel": [3, 2], "stride": [2, 2], "activation": {"poly_relu": {"power": 2}}}},
        {"avgpool": {"kernel": 2}}, {"flatten": None}, {"dense": {"width": 3, "activation": "tanh"}},
        {"dense": {"width": 1, "bias": True}}]})
    assert a.shapes == ((2, 3, 3), (2, 1, 1), (2,), (3,), (1,))
    assert a.weight_layers == (0, 3, 4)
    assert [s["weight"] for s in a.param_shapes()] == [(2, 1, 3, 2), (3, 2), (1, 3)]
    assert a.param_shapes()[2]["bias"] == (1,)
    assert a.to_json()["layers"][0] == {"conv": {"channels": 2, "kernel": [3, 2], "stride": [2, 2],
                                                 "activation": {"poly_relu": {"power": 2}}}}
    assert architecture_from_json(json.loads(json.dumps(a.to_json()))) == a


def test_activations_round_trip():
    for spec in ["linear", "relu", "tanh", {"leaky_relu": {"slope": "sqrt(2)/2"}}, {"poly_relu": {"power": 3}},
                 {"poly_leaky_relu": {"slope": "1/5", "power": 3}}, {"polynomial": {"coeffs": ["0", "1", "1/2"]}}]:
        a = architecture_from_json({"input": [2], "layers": [{"dense": {"width": 2, "activation": spec}},
                                                             {"dense": {"width": 1}}]})
        assert a.layers[0].to_json()["dense"].get("activation", "linear") == spec
    assert Activation("polynomial", coeffs=(0, 1, "1/2")).coeffs == (0, 1, R(1, 2))
    assert Activation("leaky_relu", slope=1).slope == 1


def test_nested_data_and_float_input(tmp_path):
    a = architecture_from_json({"input": [2, 3], "layers": ["flatten", {"dense": {"width": 1}}]})
    d = data_from_json({"points": [{"x": [[1, 2, 3], [4, 5, "6/7"]], "y": "0.5"}, {"x": [0] * 6, "y": -1}]}, arch=a)
    assert d.X[0] == (1, 2, 3, 4, 5, R(6, 7)) and d.y[0] == R(1, 2)
    assert d.to_json()["points"][0]["x"] == [["1", "2", "3"], ["4", "5", "6/7"]]
    assert data_from_json(d.to_json(), arch=a) == d
    path = write(tmp_path, "d.json", '{"points": [{"x": [0.1, 2], "y": 1}]}')
    assert load_data(path).X[0][0] == R(1, 10)
    assert load_data(path, float_input=True).X[0][0] == R(3602879701896397, 36028797018963968)
    assert load_data(write(tmp_path, "d.yaml", "points:\n  - {x: [0.1, 1e-3], y: 1}\n")).X[0] == (R(1, 10), R(1, 1000))


def test_python_api_objects():
    a = Architecture((2,), (Layer("dense", width=2, activation="relu"), Layer("dense", width=1)))
    assert a == architecture_from_json({"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}},
                                                                 {"dense": {"width": 1}}]})
    assert Dataset([[1, "1/2"]], [1]).X == ((1, R(1, 2)),)


def test_schemas_are_valid_and_accept_examples():
    for name in ("architecture", "data", "parameters"):
        jsonschema.Draft202012Validator.check_schema(schema(name))
    a = architecture_from_json({"input": [1, 4], "layers": [{"conv": {"channels": 1, "kernel": 2}}, "flatten",
                                                            {"dense": {"width": 1}}]})
    jsonschema.validate(a.to_json(), schema("architecture"))
    jsonschema.validate(Dataset([[1, 2]], [1]).to_json(), schema("data"))


# --------------------------------------------------------------------- bad inputs

def test_broken_yaml(tmp_path):
    line = fails(SchemaError, "line 3", load_architecture, write(tmp_path, "a.yaml", "input: [2]\nlayers:\n  x: y: z\n"))
    assert "not valid YAML" in line


def test_broken_json(tmp_path):
    fails(SchemaError, "line 2", load_architecture, write(tmp_path, "a.json", '{"input": [2],\n "layers": [}'))


def test_duplicate_yaml_key(tmp_path):
    line = fails(SchemaError, "line 2", load_architecture, write(tmp_path, "a.yaml", "input: [2]\ninput: [3]\n"))
    assert "duplicate key" in line


def test_unknown_layer_kind(tmp_path):
    line = fails(SchemaError, "layers[0]", load_architecture,
                 write(tmp_path, "a.yaml", ARCH.replace("dense: {width: 2", "dense2: {width: 2")))
    assert "'dense2'" in line and "dense, conv, avgpool, flatten" in line


def test_unknown_activation(tmp_path):
    line = fails(SchemaError, "layers[0].dense.activation", load_architecture,
                 write(tmp_path, "a.yaml", ARCH.replace("relu", "sigmoid")))
    assert "'sigmoid'" in line and "leaky_relu" in line


def test_unknown_key(tmp_path):
    line = fails(SchemaError, "layers[0].dense.widht", load_architecture,
                 write(tmp_path, "a.yaml", ARCH.replace("width: 2", "widht: 2")))
    assert "allowed: width, activation, bias" in line


@pytest.mark.parametrize("width", ["0", "-2", "1/2"])
def test_bad_width(tmp_path, width):
    fails(SchemaError, "layers[0].dense.width", load_architecture,
          write(tmp_path, "a.yaml", ARCH.replace("width: 2", f"width: {width}")))


@pytest.mark.parametrize("activation, place", [
    ("{leaky_relu: {slope: -1/100}}", "activation.leaky_relu.slope"),
    ("{leaky_relu: {}}", "activation.leaky_relu"),
    ("{poly_relu: {power: 0}}", "activation.poly_relu.power"),
    ("{poly_relu: {power: 3/2}}", "activation.poly_relu.power"),
    ("{polynomial: {coeffs: []}}", "activation.polynomial.coeffs"),
])
def test_bad_activation_parameters(tmp_path, activation, place):
    fails(SchemaError, f"layers[0].dense.{place}", load_architecture,
          write(tmp_path, "a.yaml", ARCH.replace("activation: relu", f"activation: {activation}")))


@pytest.mark.parametrize("last", ["dense: {width: 2}", "dense: {width: 1, activation: relu}", "flatten"])
def test_last_layer_must_be_scalar_linear(tmp_path, last):
    fails(SchemaError, "layers[1]", load_architecture, write(tmp_path, "a.yaml", ARCH.replace("dense: {width: 1}", last)))


@pytest.mark.parametrize("layers, place, fragment", [
    ("[{conv: {channels: 2, kernel: 5}}, flatten, {dense: {width: 1}}]", "layers[0].conv.kernel", "larger"),
    ("[{conv: {channels: 0, kernel: 2}}, flatten, {dense: {width: 1}}]", "layers[0].conv.channels", "positive"),
    ("[{conv: {channels: 2, kernel: 2, stride: 0}}, flatten, {dense: {width: 1}}]", "layers[0].conv.stride", "positive"),
    ("[{conv: {channels: 2, kernel: [2, 2]}}, flatten, {dense: {width: 1}}]", "layers[0].conv.kernel", "1 entries"),
    ("[{conv: {channels: 2, kernel: 2}}, {dense: {width: 1}}]", "layers[1].dense", "needs a flatten layer"),
    ("[{avgpool: {kernel: 4}}, flatten, {dense: {width: 1}}]", "layers[0].avgpool.kernel", "larger"),
    ("[{avgpool: {kernel: 2, stride: 1}}, flatten, {dense: {width: 1}}]", "layers[0].avgpool.stride", "allowed: kernel"),
    ("[flatten, {conv: {channels: 1, kernel: 2}}, {dense: {width: 1}}]", "layers[1].conv", "[C, L]"),
])
def test_bad_conv_layers(tmp_path, layers, place, fragment):
    line = fails(SchemaError, place, load_architecture, write(tmp_path, "a.yaml", f"input: [1, 3]\nlayers: {layers}\n"))
    assert fragment in line


def test_last_layer_python_api():
    with pytest.raises(SchemaError, match=r"layers\[0\]: the last layer must be dense with width 1"):
        Architecture((2,), (Layer("dense", width=2),))


def test_missing_file_and_unknown_type(tmp_path):
    fails(UsageError, "file not found", load_architecture, tmp_path / "nope.yaml")
    fails(UsageError, "unknown file type '.txt'", load_architecture, write(tmp_path, "a.txt", ARCH))
    fails(UsageError, "unknown file type '.csv'", load_parameters, write(tmp_path, "p.csv", "x"), None)


def test_wrong_parameter_shape(tmp_path, arch):
    line = fails(ShapeError, "[0].weight[1]", load_parameters,
                 write(tmp_path, "p.yaml", "- weight: [[1, 0], [1, 2, 3]]\n- weight: [[1, 1]]\n"), arch)
    assert "expected a list of 2 entries, got 3" in line and "[2, 2]" in line
    fails(ShapeError, "[1].weight", load_parameters, write(tmp_path, "p.yaml", "- weight: [[1, 0], [1, 2]]\n- weight: [1, 1]\n"), arch)


def test_missing_and_extra_parameter_layers(tmp_path, arch):
    fails(ShapeError, "[1]: missing entry for weight layer 2", load_parameters,
          write(tmp_path, "p.yaml", "- weight: [[1, 0], [1, 2]]\n"), arch)
    fails(ShapeError, "[2]: extra entry", load_parameters,
          write(tmp_path, "p.yaml", "- weight: [[1, 0], [1, 2]]\n- weight: [[1, 1]]\n- weight: [[1]]\n"), arch)


def test_bias_mismatch(tmp_path, arch):
    fails(ShapeError, "[0].bias", load_parameters,
          write(tmp_path, "p.yaml", "- {weight: [[1, 0], [1, 2]], bias: [0, 0]}\n- weight: [[1, 1]]\n"), arch)
    biased = architecture_from_json({"input": [2], "layers": [{"dense": {"width": 1, "bias": True}}]})
    fails(ShapeError, "[0]: missing bias", load_parameters, write(tmp_path, "p.yaml", "- weight: [[1, 0]]\n"), biased)
    p = load_parameters(write(tmp_path, "p.yaml", "- {weight: [[1, 0]], bias: ['-1/3']}\n"), biased)
    assert p.layers[0]["bias"] == (R(-1, 3),) and p.to_json() == [{"weight": [["1", "0"]], "bias": ["-1/3"]}]


def test_division_by_zero_and_code_in_numbers(tmp_path, arch):
    line = fails(NumberSyntaxError, "[0].weight[0][1]", load_parameters,
                 write(tmp_path, "p.yaml", "- weight: [[1, 1/0], [1, 2]]\n- weight: [[1, 1]]\n"), arch)
    assert "division by zero" in line
    line = fails(NumberSyntaxError, "[1].weight[0][0]", load_parameters,
                 write(tmp_path, "p.yaml", "- weight: [[1, 0], [1, 2]]\n- weight: [[\"__import__('os').system('true')\", 1]]\n"),
                 arch)
    assert "'__import__' at column 1" in line


def test_wrong_data_dimension(tmp_path, arch):
    fails(ShapeError, "points[1].x", load_data, write(tmp_path, "d.yaml", "points:\n  - {x: [1, 0], y: 1}\n  - {x: [1, 0, 2], y: 1}\n"), arch)
    fails(ShapeError, "line 1", load_data, write(tmp_path, "d.csv", "x1,x2,x3,y\n1,2,3,1\n"), arch)
    fails(ShapeError, "points[1].x", load_data, write(tmp_path, "d.yaml", "points:\n  - {x: [1, 0], y: 1}\n  - {x: [[1], [0]], y: 1}\n"))


def test_label_two(tmp_path, arch):
    path = write(tmp_path, "d.yaml", "points:\n  - {x: [1, 0], y: 1}\n  - {x: [0, 1], y: 2}\n")
    fails(ShapeError, "points[1].y: label must be +1 or -1", require_binary_labels, load_data(path, arch), file=path)


def test_label_two_in_csv(tmp_path, arch):
    path = write(tmp_path, "d.csv", "x1,x2,y\n1,0,1\n0,1,2\n")
    fails(ShapeError, "points[1].y", lambda p: require_binary_labels(load_data(p, arch)), path)


@pytest.mark.parametrize("name, text, place", [
    ("d.yaml", "points:\n  - {x: [.nan, 1], y: 1}\n", "points[0].x[0]"),
    ("d.yaml", "points:\n  - {x: [1, nan], y: 1}\n", "points[0].x[1]"),
    ("d.json", '{"points": [{"x": [1, 2], "y": NaN}]}', "points[0].y"),
    ("d.csv", "x1,x2,y\n1,inf,1\n", "line 2, column x2"),
])
def test_nan_and_inf(tmp_path, arch, name, text, place):
    line = fails(NumberSyntaxError, place, load_data, write(tmp_path, name, text), arch)
    assert "not a finite number" in line
    fails(NumberSyntaxError, place, load_data, tmp_path / name, arch, float_input=True)


@pytest.mark.parametrize("text, place", [
    ("a,b,y\n1,2,1\n", "line 1"), ("x1,x2,y\n1,2\n", "line 2"), ("x1,x2,y\n", "no data rows"),
    ("x1,x2,y\n1,2,1\n\n1,2,3/0\n", "line 4, column y"),
])
def test_bad_csv(tmp_path, text, place):
    fails((SchemaError, NumberSyntaxError), place, load_data, write(tmp_path, "d.csv", text))


@pytest.mark.parametrize("text, place, fragment", [
    ("input: [2]\n", "", "missing key 'layers'"),
    ("input: [2]\nlayers: []\n", "layers", "empty list"),
    (ARCH + "name: x\n", "name", "unknown key 'name'"),
    (ARCH.replace("width: 2,", "width: 2, bias: 1,"), "layers[0].dense.bias", "true or false"),
    ("- 1\n", "", "expected a mapping"),
])
def test_structure_errors(tmp_path, text, place, fragment):
    line = fails(SchemaError, place, load_architecture, write(tmp_path, "a.yaml", text))
    assert fragment in line


def test_float_refused_without_flag_in_python_api(arch):
    with pytest.raises(NumberSyntaxError, match=r"points\[0\].x\[0\].*inexact"):
        data_from_json({"points": [{"x": [0.5, 1], "y": 1}]}, arch=arch)
    assert data_from_json({"points": [{"x": [0.5, 1], "y": 1}]}, arch=arch, float_input=True).X[0][0] == R(1, 2)


def test_yaml_aliases_refused(tmp_path, arch):
    path = write(tmp_path, "d.yaml", "a: &a [1, 0]\npoints:\n  - {x: *a, y: 1}\n")
    line = fails(SchemaError, "line 3", load_data, path, arch)
    assert "aliases" in line


# --------------------------------------------------------------------- the YAML and JSON readers

@pytest.mark.parametrize("text, place, fragment", [
    ("input: [2]\n---\ninput: [3]\n", "line 2", "expected a single document"),
    ("base: &b {input: [2]}\n<<: {layers: []}\n", "line 2", "merge keys (<<) not supported"),
    ("input: !!python/tuple [2]\n", "line 1", "the tag tag:yaml.org,2002:python/tuple not supported"),
    ("? [a, b]\n: 1\n", "line 1", "mapping keys must be plain values"),
])
def test_yaml_reader_refuses(tmp_path, text, place, fragment):
    line = fails(SchemaError, place, load_architecture, write(tmp_path, "a.yaml", text))
    assert fragment in line


def test_yaml_reader_keeps_numbers_as_text(tmp_path):
    # 0.1 must stay the decimal 1/10, not the binary float 0.1000000000000000055...
    path = write(tmp_path, "d.yaml", "points:\n  - {x: [0.1, !!float 2.5, '3/7', 1e3], y: -1}\n")
    assert load_data(path).X[0] == (R(1, 10), R(5, 2), R(3, 7), R(1000))


def test_duplicate_json_key(tmp_path):
    path = write(tmp_path, "a.json", '{"input": [2], "input": [3], "layers": [{"dense": {"width": 1}}]}')
    line = fails(SchemaError, "duplicate key 'input'", load_architecture, path)
    assert "not valid JSON" in line


def test_file_bytes_are_read_exactly(tmp_path):
    # a UTF-8 byte order mark is dropped, the rest is read to the last byte
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbfx1,y\n" + b"".join(b"%d,1\n" % k for k in range(5000)))
    data = load_data(path)
    assert len(data.X) == 5000 and data.X[-1] == (4999,)
