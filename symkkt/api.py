"""The Python API: load files or build in code, decide, get certificates.

Everything the CLI does is a few calls here. A problem comes from files (:func:`load_problem`),
from a built-in example (:func:`load_example`) or from the input-file forms as plain Python
objects (:func:`problem_from_dicts`); each gives ``(MaxMarginProblem, theta)``.
:meth:`MaxMarginProblem.decide` takes θ flat (:attr:`Network.parameter_names` order), as a
:class:`~symkkt.spec.Parameters` object or in its input-file form (:func:`as_theta`).

Examples
--------
>>> problem, theta = problem_from_dicts(
...     {"input": [2], "layers": [{"dense": {"width": 1}}]},
...     {"points": [{"x": [1, 0], "y": 1}, {"x": [-1, 0], "y": -1}]},
...     [{"weight": [[1, 0]]}])
>>> problem.decide(theta).verdict
'holds'
>>> from symkkt.api import load_example
>>> problem, theta = load_example("kink")
>>> result = problem.decide(theta)
>>> result.verdict, result.clarke[0]["terms"][0]["slopes"]
('holds', {'1:1': 1/4})
>>> cert = result.certificate()
>>> from symkkt.kernel import check_certificate
>>> check_certificate(cert).valid
True
"""

from __future__ import annotations

import os

from .kkt import KKTResult, MaxMarginProblem
from .network import Network
from .spec import (Architecture, Dataset, Parameters, architecture_from_json, data_from_json, load_architecture,
                   load_data, load_parameters, parameters_from_json, require_binary_labels)

EXAMPLES_DIR = os.path.join(os.path.dirname(__file__), "examples")

#: built-in examples: name -> (description, decide as direction?)
EXAMPLES = {
    "example1": ("two-layer ReLU, algebraic KKT point (2^(1/4)); docs/mathematics.md §8", False),
    "svm": ("one-layer linear net: the hard-margin SVM solution", False),
    "deep_linear": ("deep linear net, balanced rank-one KKT direction", True),
    "kink": ("two-layer ReLU KKT point needing relu'(0) = 1/4 at a kink", False),
    "svm_refuted": ("feasible linear point that is not stationary (Farkas witness)", False),
    "split_infeasible": ("example1 split with c = (1/2, 1/2): infeasible image", False),
    "conv_tied": ("conv positions seeing one patch have tied slopes: KKT for the chain-rule hull, "
                  "not Clarke-KKT (Farkas and Gordan vectors)", False),
}
#: examples that are not max-margin problems (no KKT decision in the demo)
LANDSCAPE_EXAMPLES = {"saddle": "[B] worked instance: strict local minimum of the mse risk, σ(z) = 1 + z + z²"}

#: built-in embeddings: name -> (example, steps as (kind, text), use DATA PARAMS?, expected verdict,
#: description, loss or None)
EMBEDDINGS = {
    "split_fc": ("example1", [("split", "1:0:3/5,4/5")], True, "holds",
                 "split a unit of the KKT point, same multipliers; docs/mathematics.md §8", None),
    "split_kink": ("kink", [("split", "1:1:3/5,4/5")], True, "holds",
                   "split the unit sitting on a kink (Clarke slope 1/4), KKT transfer both ways", None),
    "split_cnn": ("cnn", [("split", "1:0:3/5,4/5"), ("split", "1:2:3/5,4/5"), ("split", "1:4:3/5,4/5"),
                          ("split", "1:6:3/5,4/5")], False, "holds",
                  "every channel of the first conv split (3/5, 4/5): proved for all θ, x", None),
    "split_off_sphere": ("example1", [("split", "1:0:1/2,1/2")], True, "refuted",
                         "c = (1/2, 1/2): isometry and output refuted, image infeasible", None),
    "critical_kkt": ("example1", [("critical_split", "1:0:1/2")], True, "refuted",
                     "[B] split α = 1/2 keeps the output but not the KKT point", None),
    "critical_saddle": ("saddle", [("critical_split", "1:0:1/2")], True, "holds",
                        "[B] split α = 1/2 of a strict local minimum (mse): a strict saddle, line of critical points",
                        "mse"),
}

__all__ = ["Network", "MaxMarginProblem", "KKTResult", "load_problem", "problem_from_dicts", "as_theta",
           "decide_kkt", "decide_embedding", "load_example", "example_paths",
           "EXAMPLES", "load_architecture", "load_data", "load_parameters"]


def load_problem(arch_path, data_path, params_path=None, float_input=False):
    """Read the three input files: ``(MaxMarginProblem, theta)`` (θ flat, exact).

    Raises :class:`~symkkt.errors.SymkktInputError` subclasses on bad input.
    """
    arch = load_architecture(arch_path)
    data = load_data(data_path, arch, float_input=float_input)
    require_binary_labels(data)
    problem = MaxMarginProblem(Network(arch), data)
    theta = None
    if params_path is not None:
        params = load_parameters(params_path, arch, float_input=float_input)
        theta = problem.network.flatten(params)
    return problem, theta


def problem_from_dicts(arch, data, params=None, float_input=False):
    """Build a problem in code from the input-file forms: ``(MaxMarginProblem, theta)``.

    The same checks and the same result as :func:`load_problem` on files with this content.

    Parameters
    ----------
    arch : dict or Architecture
        ``{'input': [...], 'layers': [...]}`` (see :func:`symkkt.spec.architecture_from_json`).
    data : dict or Dataset
        ``{'points': [{'x': [...], 'y': 1}, ...]}``, labels ±1.
    params : list or Parameters, optional
        ``[{'weight': [[...]], 'bias': [...]}, ...]``, one entry per weight layer.
    float_input : bool
        Take float values as their exact binary value (else floats are refused).

    Returns
    -------
    (MaxMarginProblem, list or None)
        θ flat and exact in :attr:`Network.parameter_names` order, ``None`` without ``params``.

    Raises
    ------
    symkkt.errors.SymkktInputError
        Bad structure, shapes, numbers or labels (the place is named, the file is ``<python>``).

    Examples
    --------
    >>> problem, theta = problem_from_dicts({"input": [2], "layers": [{"dense": {"width": 1}}]},
    ...                                     {"points": [{"x": [1, 0], "y": 1}]}, [{"weight": [["1/2", 0]]}])
    >>> theta, problem.network.parameter_names
    ([1/2, 0], ['W1[0,0]', 'W1[0,1]'])
    >>> problem_from_dicts({"input": [2], "layers": [{"dense": {"width": 1}}]},
    ...                    {"points": [{"x": [1, 0], "y": 2}]})
    Traceback (most recent call last):
    ...
    symkkt.errors.ShapeError: <python>: points[0].y: label must be +1 or -1, got 2
    """
    if not isinstance(arch, Architecture):
        arch = architecture_from_json(arch)
    if not isinstance(data, Dataset):
        data = data_from_json(data, arch=arch, float_input=float_input)
    require_binary_labels(data)
    problem = MaxMarginProblem(Network(arch), data)
    theta = None
    if params is not None:
        theta = as_theta(problem.network, params, float_input=float_input)
    return problem, theta


def as_theta(network, theta, float_input=False):
    """θ as the flat list of exact numbers that :meth:`MaxMarginProblem.decide` works with.

    Parameters
    ----------
    network : Network
    theta : list, tuple or Parameters
        Flat, in :attr:`Network.parameter_names` order (sympy numbers, ints, ``Fraction`` or
        exact-number text such as ``"2^(-3/4)"``); or a :class:`~symkkt.spec.Parameters` object;
        or the input-file form ``[{'weight': ..., 'bias': ...}, ...]``.
    float_input : bool
        Take float values as their exact binary value (else floats are refused).

    Returns
    -------
    list of sympy.Expr

    Raises
    ------
    symkkt.errors.ShapeError
        A size that does not fit the network.
    symkkt.errors.NumberSyntaxError
        An entry that is not an exact real algebraic number.

    Examples
    --------
    >>> from symkkt.spec import architecture_from_json
    >>> net = Network(architecture_from_json({"input": [2], "layers": [{"dense": {"width": 1, "bias": True}}]}))
    >>> as_theta(net, ["1/2", 0, "sqrt(2)"])
    [1/2, 0, sqrt(2)]
    >>> as_theta(net, [{"weight": [["1/2", 0]], "bias": ["sqrt(2)"]}])
    [1/2, 0, sqrt(2)]
    >>> as_theta(net, [1, 2])
    Traceback (most recent call last):
    ...
    symkkt.errors.ShapeError: <python>: theta: 2 numbers, the network has 3 parameters (W1[0,0], W1[0,1], b1[0])
    """
    from .errors import ShapeError
    from .numbers import parse_number

    if isinstance(theta, Parameters):
        theta = theta.to_json()
    theta = list(theta)
    if theta and all(isinstance(entry, dict) for entry in theta):
        return network.flatten(parameters_from_json(theta, network.arch, float_input=float_input))
    if len(theta) != network.num_parameters:
        names = network.parameter_names
        shown = ", ".join(names) if len(names) <= 8 else ", ".join(names[:4]) + ", ..., " + names[-1]
        raise ShapeError(f"{len(theta)} numbers, the network has {len(names)} parameters ({shown})",
                         "<python>", "theta")
    return [parse_number(v, "<python>", f"theta[{i}]", float_input) for i, v in enumerate(theta)]


def decide_kkt(arch_path, data_path, params_path, direction=False, float_input=False):
    """Decide whether the parameters in ``params_path`` are a KKT point (or direction)."""
    from .errors import NotHomogeneousError

    problem, theta = load_problem(arch_path, data_path, params_path, float_input)
    try:
        return problem.decide(theta, direction=direction)
    except NotHomogeneousError as err:
        raise err.located(file=arch_path) from None


def decide_embedding(arch_path, steps, data_path=None, params_path=None, loss=None, float_input=False, dps=50,
                     direction=False):
    """Build the map of ``steps`` on the architecture file and decide its properties.

    Parameters
    ----------
    arch_path : str
    steps : list of symkkt.embed.Step
        Applied in order, each on the network the previous ones produced.
    data_path, params_path : str, optional
        Both or neither: enable KKT transfer (labels ±1), or with ``loss`` the landscape checks.
    loss : {"mse", "exp", "logistic"}, optional
    direction : bool
        With DATA and PARAMS and no ``loss``: KKT transfer of directions instead of points.

    Returns
    -------
    (symkkt.embed.check.EmbedResult, theta or None)
    """
    from .embed.check import decide
    from .embed.maps import chain
    from .errors import NotHomogeneousError, UsageError

    if (data_path is None) != (params_path is None):
        raise UsageError("give both DATA and PARAMS, or neither", "<command line>")
    if loss is not None and data_path is None:
        raise UsageError(f"--loss {loss} needs DATA and PARAMS", "<command line>")
    if direction and (data_path is None or loss is not None):
        raise UsageError("--direction needs DATA and PARAMS and no --loss (it decides KKT transfer of "
                         "directions)", "<command line>")
    arch = load_architecture(arch_path)
    net = Network(arch)
    if not steps:
        raise UsageError("no split given (use --split, --critical-split, --null or --splits)", "<command line>")
    emb = chain(net, steps)
    data = theta = None
    if data_path is not None:
        data = load_data(data_path, arch, float_input=float_input)
        if loss is None:
            require_binary_labels(data)
        theta = net.flatten(load_parameters(params_path, arch, float_input=float_input))
    try:
        return decide(emb, data, theta, loss=loss, dps=dps, direction=direction), theta
    except NotHomogeneousError as err:
        raise err.located(file=arch_path) from None


def embedding_example(name):
    """A built-in embedding: ``(Embedding, data or None, theta or None)``."""
    from .embed.maps import chain, parse_step

    example, texts, use_data, _expected, _desc, _loss = EMBEDDINGS[name]
    arch, data, params = example_paths(example)
    net = Network(load_architecture(arch))
    emb = chain(net, [parse_step(t, k) for k, t in texts])
    if not use_data:
        return emb, None, None
    dataset = load_data(data, net.arch)
    return emb, dataset, net.flatten(load_parameters(params, net.arch))


def example_paths(name):
    """Paths ``(arch, data, params)`` of a built-in example."""
    folder = os.path.join(EXAMPLES_DIR, name)
    return tuple(os.path.join(folder, f"{f}.yaml") for f in ("arch", "data", "params"))


def load_example(name):
    """A built-in example as ``(MaxMarginProblem, theta)``.

    Parameters
    ----------
    name : str
        A key of :data:`EXAMPLES`; the files are :func:`example_paths` ``(name)``.

    Examples
    --------
    >>> problem, theta = load_example("svm")
    >>> problem.decide(theta).verdict
    'holds'
    """
    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}; known: {', '.join(EXAMPLES)}")
    return load_problem(*example_paths(name))
