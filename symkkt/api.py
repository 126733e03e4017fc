"""The Python API: load files or build in code, decide, get certificates.

Everything the CLI does is a few calls here.

Examples
--------
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
from .spec import (load_architecture, load_data, load_parameters, require_binary_labels)

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

__all__ = ["Network", "MaxMarginProblem", "KKTResult", "load_problem", "decide_kkt", "decide_embedding",
           "load_example",
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
    """A built-in example as ``(MaxMarginProblem, theta)``."""
    if name not in EXAMPLES:
        raise KeyError(f"unknown example {name!r}; known: {', '.join(EXAMPLES)}")
    return load_problem(*example_paths(name))
