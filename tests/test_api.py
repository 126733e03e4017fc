"""Building and deciding problems from Python.

- :func:`symkkt.api.problem_from_dicts` gives the same problem and θ as :func:`load_problem` on files
  with the same content, with the same checks (labels ±1, exact numbers, shapes).
- ``MaxMarginProblem.decide`` takes θ flat (numbers or exact text), as a ``Parameters`` object or in
  its input-file form, and decides the same claim each way. Instance: the hard-margin SVM through the
  origin for one point x with label y, whose solution is w* = y x / |x|² (margin exactly 1) with the
  single multiplier λ = 1 / |x|² (w* = λ y x); 2 w* is feasible with no active point, so not KKT.
- ``parameters_from_json`` names its missing architecture argument; ``ExactDomain()`` is Q.
- ``import symkkt`` imports no sympy; its entry points resolve on first use.
"""
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
import yaml
from hypothesis import given, settings, strategies as st

import symkkt
from symkkt.api import as_theta, example_paths, load_example, load_problem, problem_from_dicts
from symkkt.errors import NumberSyntaxError, SchemaError, ShapeError
from symkkt.network import Network
from symkkt.spec import Parameters, architecture_from_json, parameters_from_json
from symkkt.tensor import ExactDomain

LINEAR = {"input": [2], "layers": [{"dense": {"width": 1}}]}
TWO_LAYER = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}


def read_yaml(path):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


# ---------------------------------------------------------------- dicts == files


@pytest.mark.parametrize("name", ["example1", "svm", "kink", "svm_refuted"])
def test_problem_from_dicts_is_load_problem(name):
    arch, data, params = example_paths(name)
    from_files, theta_files = load_problem(arch, data, params)
    from_dicts, theta_dicts = problem_from_dicts(read_yaml(arch), read_yaml(data), read_yaml(params))
    assert theta_dicts == theta_files
    assert from_dicts.data.X == from_files.data.X and from_dicts.data.y == from_files.data.y
    assert from_dicts.network.parameter_names == from_files.network.parameter_names
    a, b = from_files.decide(theta_files), from_dicts.decide(theta_dicts)
    assert (a.verdict, a.multipliers, a.margins) == (b.verdict, b.multipliers, b.margins)


def test_problem_from_dicts_without_params_and_from_built_parts():
    arch = architecture_from_json(TWO_LAYER)
    problem, theta = problem_from_dicts(arch, {"points": [{"x": [1, 0], "y": 1}]})
    assert theta is None and problem.network.num_parameters == 2 * 2 + 2


def test_problem_from_dicts_checks_like_the_files():
    with pytest.raises(ShapeError, match=r"points\[1\]\.y: label must be \+1 or -1, got 1/2"):
        problem_from_dicts(LINEAR, {"points": [{"x": [1, 0], "y": 1}, {"x": [0, 1], "y": "1/2"}]})
    with pytest.raises(NumberSyntaxError, match="floats are inexact"):
        problem_from_dicts(LINEAR, {"points": [{"x": [0.5, 0], "y": 1}]})
    problem, theta = problem_from_dicts(LINEAR, {"points": [{"x": [0.5, 0], "y": 1}]}, [{"weight": [[2, 0]]}],
                                        float_input=True)
    assert problem.data.X == ((sympy.Rational(1, 2), 0),)
    assert problem.decide(theta).margins == [1]           # 2 · 1/2 = 1
    with pytest.raises(ShapeError, match="weight"):
        problem_from_dicts(LINEAR, {"points": [{"x": [1, 0], "y": 1}]}, [{"weight": [[1, 0, 0]]}])


# ---------------------------------------------------------------- every form of θ

nonzero_points = st.tuples(st.fractions(min_value=-5, max_value=5, max_denominator=7),
                           st.fractions(min_value=-5, max_value=5, max_denominator=7)).filter(lambda x: any(x))


def _svm(x, y):
    """Problem and the max-margin solution w* = y x / |x|², multiplier 1 / |x|²."""
    n2 = x[0] ** 2 + x[1] ** 2
    w = [y * x[0] / n2, y * x[1] / n2]
    problem, _ = problem_from_dicts(LINEAR, {"points": [{"x": [str(v) for v in x], "y": y}]})
    return problem, w, sympy.Rational(1) / sympy.Rational(n2.numerator, n2.denominator)


@settings(max_examples=15, deadline=None)
@given(nonzero_points, st.sampled_from([1, -1]))
def test_every_form_of_theta_decides_the_svm_solution(x, y):
    problem, w, lam = _svm(x, y)
    forms = [
        [sympy.Rational(v.numerator, v.denominator) for v in w],   # flat sympy
        [str(v) for v in w],                                       # flat exact text
        list(w),                                                   # flat Fraction
        [{"weight": [[str(v) for v in w]]}],                       # input-file form
        parameters_from_json([{"weight": [[str(v) for v in w]]}], problem),   # Parameters
    ]
    for theta in forms:
        res = problem.decide(theta)
        assert res.verdict == "holds", theta
        assert res.margins == [1] and res.multipliers == [lam]
    doubled = problem.decide([str(2 * v) for v in w])   # margin 2, no active point: θ = 0 would be forced
    assert doubled.verdict == "refuted" and doubled.margins == [2]


def test_as_theta_refuses_what_it_cannot_read():
    net = Network(architecture_from_json(LINEAR))
    with pytest.raises(ShapeError, match=r"theta: 3 numbers, the network has 2 parameters \(W1\[0,0\], W1\[0,1\]\)"):
        as_theta(net, [1, 2, 3])
    with pytest.raises(NumberSyntaxError, match=r"theta\[1\].*floats are inexact"):
        as_theta(net, [1, 0.5])
    assert as_theta(net, [1, 0.5], float_input=True) == [1, sympy.Rational(1, 2)]
    with pytest.raises(NumberSyntaxError, match=r"theta\[0\].*not an exact real algebraic number"):
        as_theta(net, [sympy.pi, 0])
    other = parameters_from_json([{"weight": [[1, 0]]}, {"weight": [[1]]}],
                                 {"input": [2], "layers": [{"dense": {"width": 1}}, {"dense": {"width": 1}}]})
    with pytest.raises(ShapeError, match="extra entry"):
        as_theta(net, other)
    assert as_theta(net, [Fraction(1, 3), "sqrt(2)"]) == [sympy.Rational(1, 3), sympy.sqrt(2)]
    params = Parameters(({"weight": ((sympy.Rational(1, 3), sympy.sqrt(2)),), "bias": None},))
    assert as_theta(net, params) == [sympy.Rational(1, 3), sympy.sqrt(2)]


def test_decide_with_the_wrong_length_fails_clearly():
    problem, theta = load_example("example1")
    with pytest.raises(ShapeError, match="5 numbers, the network has 6 parameters"):
        problem.decide(theta[:-1])


# ---------------------------------------------------------------- parameters_from_json


def test_parameters_from_json_names_the_architecture_it_needs():
    with pytest.raises(TypeError, match=r"parameters_from_json\(obj, arch\)"):
        parameters_from_json([{"weight": [[1, 0]]}])
    with pytest.raises(TypeError, match="got str"):
        parameters_from_json([{"weight": [[1, 0]]}], "arch.yaml")


def test_parameters_from_json_takes_any_stand_in_for_the_architecture():
    obj = [{"weight": [[1, 0], ["-2^(-3/4)", "2^(-3/4)"]]}, {"weight": [[1, "-2^(-1/4)"]]}]
    arch = architecture_from_json(TWO_LAYER)
    net = Network(arch)
    problem, _ = problem_from_dicts(TWO_LAYER, {"points": [{"x": [1, 0], "y": 1}]})
    want = parameters_from_json(obj, arch)
    assert want.layers[1]["weight"][0][1] == -sympy.root(2, 4) ** 3 / 2    # 2^(-1/4) = 2^(3/4) / 2
    for stand_in in (TWO_LAYER, net, problem):
        assert parameters_from_json(obj, stand_in) == want
    with pytest.raises(SchemaError):
        parameters_from_json(obj, {"input": [2]})


# ---------------------------------------------------------------- ExactDomain


def test_exact_domain_without_arguments_is_the_rationals():
    dom = ExactDomain()
    assert dom.field.degree == 1 and dom.tier == "exact"
    net = Network(architecture_from_json(LINEAR))
    X = [[sympy.Rational(1, 3), 2], [-1, sympy.Rational(5, 7)]]
    w = [sympy.Rational(3, 4), -2]
    out = net.forward(dom, w, X).output.to_sympy()
    assert out == [w[0] * x[0] + w[1] * x[1] for x in X]     # 1/4 - 4, -3/4 - 10/7


def test_exact_domain_for_numbers_reads_text_and_sympy_alike():
    a = ExactDomain.for_numbers(["2^(-3/4)", "1/2"]).field
    b = ExactDomain.for_numbers([2 ** sympy.Rational(-3, 4), sympy.Rational(1, 2)]).field
    assert a.degree == b.degree == 4                            # x^4 - 2 is irreducible (Eisenstein at 2)
    assert sympy.expand(a.generator ** 4) == 2
    assert ExactDomain.for_numbers([1, "3/5"]).field.degree == 1
    with pytest.raises(NumberSyntaxError):
        ExactDomain.for_numbers(["pi"])


# ---------------------------------------------------------------- the package namespace


def test_import_symkkt_is_light_and_exposes_the_entry_points():
    probe = ("import sys, symkkt\n"
             "print('sympy' in sys.modules)\n"
             "p, t = symkkt.load_example('svm')\n"
             "print(symkkt.check_certificate(p.decide(t).certificate()).valid)\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]


def test_every_public_name_is_the_submodule_object():
    import importlib

    for name in symkkt.__all__:
        module = importlib.import_module(f"symkkt.{symkkt._LAZY[name]}")
        assert getattr(symkkt, name) is getattr(module, name)
    assert {"load_problem", "load_example", "problem_from_dicts", "MaxMarginProblem",
            "check_certificate"} <= set(dir(symkkt))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        symkkt.nope

