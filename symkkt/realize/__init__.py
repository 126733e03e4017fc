"""The realization map of one-hidden-layer ReLU networks with biases on a box, exactly.

For R(x) = Σ_i a_i relu(w_i·x + b_i) + c on Ω = (lo, hi)^d this package decides, with exact
numbers (rationals or one real algebraic number field):

- the canonical form of the realization on Ω (:mod:`.canonical`) and hence whether two
  parametrizations realize the same function on Ω;
- the exact distances ‖R_A − R_B‖_{L^∞(Ω)} and ‖R_A − R_B‖_{W^{1,∞}(Ω)} (:mod:`.distance`), with
  rigorous bounds where exact enumeration is too large;
- the same questions for deeper ReLU networks in small dimension by region enumeration
  (:mod:`.regions`);
- fibers, pathologies and a restricted parameter set (:mod:`.fiber`, :mod:`.pathologies`,
  :mod:`.restricted`, :mod:`.families`).

The command line is ``symkkt realize`` (:mod:`.cli`). Importing this package is cheap: the
submodules are imported on first use.
"""

_LAZY = {"ShallowNet": "net", "to_domain": "net", "CanonicalForm": "canonical",
         "canonical_form": "canonical", "same_realization": "canonical",
         "realization_distance": ("distance", "distance"), "realize": "cli", "RealizeResult": "cli"}

__all__ = sorted(_LAZY)     # ``realization_distance`` is :func:`.distance.distance` (the module takes its name)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name] if isinstance(_LAZY[name], tuple) else (_LAZY[name], name)
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
