"""The neural correlation function (NCF) of a homogeneous network and its KKT points [K].

For a bias-free (or first-layer-bias) network H(x; u) that is positively K-homogeneous in its
parameters u and data (x_i, y_i) with any exact targets y_i, the NCF is
N(u) = Σ_i y_i H(x_i; u), and the constrained NCF maximizes N(u) subject to ‖u‖² = 1.

- :mod:`symkkt.ncf.problem`: :class:`~symkkt.ncf.problem.NCFProblem`, exact values N(u) and the
  exact decision "u is a (Clarke) KKT point / direction of the constrained NCF";
- :mod:`symkkt.ncf.rank_one`: rank-one KKT points of leaky-ReLU feed-forward nets built from the
  one-neuron problem, each decided again by the general check;
- :mod:`symkkt.ncf.certificate`: certificates ``ncf_kkt_point`` / ``ncf_kkt_direction`` and their
  refutations, re-checked by :mod:`symkkt.kernel.ncf`;
- :mod:`symkkt.ncf.cli`: ``symkkt ncf``.

This package imports nothing heavy at import time (the CLI module is loaded to build the parser).
"""

_LAZY = {"NCFProblem": "problem", "NCFResult": "problem", "load_ncf": "problem", "ncf_from_dicts": "problem",
         "rank_one_points": "rank_one", "RankOneResult": "rank_one"}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
