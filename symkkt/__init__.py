"""symkkt: exact checks of KKT points, splitting embeddings and trajectories of homogeneous networks.

The main entry points are attributes of the package, imported on first use (so that
``import symkkt`` and ``symkkt --help`` stay fast):

========================  ====================================================================
name                      what
========================  ====================================================================
``load_problem``          ``(MaxMarginProblem, theta)`` from architecture, data, parameter files
``load_example``          the same for a built-in example (``symkkt.api.EXAMPLES``)
``problem_from_dicts``    the same from the input-file forms as Python dicts and lists
``MaxMarginProblem``      P_Φ; ``.decide(theta)`` decides KKT points and directions exactly
``Network``               forward pass, Clarke elements, homogeneity of an architecture
``check_certificate``     the independent kernel: re-checks a certificate dict
``architecture_from_json``, ``data_from_json``, ``parameters_from_json``: the single parts
``ExactDomain``           exact arithmetic in Q (no argument) or a number field Q(α)
========================  ====================================================================

Examples
--------
>>> import symkkt
>>> problem, theta = symkkt.load_example("svm")
>>> symkkt.check_certificate(problem.decide(theta).certificate()).valid
True
"""

import importlib

__version__ = "0.1.0"

#: public name -> submodule that defines it
_LAZY = {
    "load_problem": "api", "load_example": "api", "problem_from_dicts": "api", "as_theta": "api",
    "decide_kkt": "api", "decide_embedding": "api",
    "MaxMarginProblem": "kkt", "KKTResult": "kkt", "kkt_system": "system", "KKTSystem": "system",
    "Network": "network",
    "check_certificate": "kernel",
    "architecture_from_json": "spec", "data_from_json": "spec", "parameters_from_json": "spec",
    "Architecture": "spec", "Dataset": "spec", "Parameters": "spec",
    "ExactDomain": "tensor", "FloatDomain": "tensor", "MPDomain": "tensor",
    "parse_number": "numbers", "format_number": "numbers",
    "write_json": "certificate",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'symkkt' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
