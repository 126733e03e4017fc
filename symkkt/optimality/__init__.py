"""Are KKT points of P_Φ optimal? Exact decisions of local and global optimality [V].

For a parameter point θ of P_Φ (minimise ½‖θ‖² subject to y_k Φ(θ; x_k) ≥ 1) the package
decides three properties, each ``holds`` / ``refuted`` / ``inconclusive`` with its method and
witness (:mod:`.result`):

- ``kkt``: the exact KKT decision of :meth:`symkkt.kkt.MaxMarginProblem.decide`. A KKT point is
  necessary for optimality (for homogeneous nets MFCQ holds at every feasible point, with the
  direction θ itself), so a point that is not KKT is neither a local nor a global optimum;
- ``local`` (:mod:`.local`): refuted by an exact improving curve (:mod:`.curves`, decided on
  (0, s₀] by Sturm sequences, :mod:`.sturm`), proved by the second-order sufficient condition
  (strict) or, for two-layer nets, by the group-lasso argument (not necessarily strict);
- ``global`` (:mod:`.global_`, where available): deep linear nets via the hard-margin SVM,
  two-layer nets via the dual bound S(λ) ≤ 1, refuted by a shorter feasible point.

A global optimum is a local one, and a point that is not a local optimum is not a global one;
:func:`decide_optimality` uses both implications.

Examples
--------
>>> from symkkt.api import load_problem
>>> from symkkt.optimality.curves import example_paths_zero_unit
>>> problem, theta = load_problem(*example_paths_zero_unit())
>>> result = decide_optimality(problem, theta)
>>> result.verdict, result.properties["local"].method
('refuted', 'zero-unit curve')
"""

from __future__ import annotations

from .result import OptimalityResult, Property

__all__ = ["Property", "OptimalityResult", "decide_optimality"]


def decide_optimality(problem, theta, global_claim=False):
    """Decide whether θ is a KKT point, a local optimum and a global optimum of P_Φ.

    Parameters
    ----------
    problem : symkkt.kkt.MaxMarginProblem
        A positively homogeneous network and labelled data.
    theta : list
        θ flat and exact (as :func:`symkkt.api.load_problem` gives it), or any form
        :func:`symkkt.api.as_theta` accepts.
    global_claim : bool
        The verdict is about "θ is a global optimum" instead of "θ is a local optimum".

    Returns
    -------
    OptimalityResult

    Raises
    ------
    symkkt.errors.NotHomogeneousError
        The network is not positively homogeneous (P_Φ's optimality is then not about directions,
        and none of the methods applies).
    """
    from ..api import as_theta
    from ..errors import NotHomogeneousError
    from .local import decide_local, figures, not_kkt

    theta = as_theta(problem.network, theta)
    if not problem.homogeneity.holds:
        raise NotHomogeneousError(f"optimality needs a positively homogeneous network: "
                                  f"{problem.homogeneity.reason}")
    kkt = problem.decide(theta)
    props = {"kkt": _kkt_property(kkt)}
    if kkt.verdict != "holds":
        props["local"], props["global"] = not_kkt(kkt, props["kkt"])
        return OptimalityResult(props, global_claim, figures(problem, theta, kkt))
    props["local"] = decide_local(problem, theta, kkt)
    props["global"] = _global(problem, theta, kkt, props["local"])
    if props["global"].verdict == "holds" and props["local"].verdict != "holds":
        tried = props["local"].reason
        props["local"] = Property("holds", "implied by global optimality",
                                  f"a global optimum is a local optimum ({props['global'].method}); "
                                  f"the local methods alone: {tried}",
                                  {"global_method": props["global"].method})
    return OptimalityResult(props, global_claim, figures(problem, theta, kkt))


def _kkt_property(kkt):
    from .local import kkt_witness

    reason = kkt.reason
    return Property(kkt.verdict, f"exact KKT decision ({kkt.clarke_set})", reason, kkt_witness(kkt),
                    certificate=kkt.certificate() if kkt.verdict != "inconclusive" else None)


def _global(problem, theta, kkt, local):
    """The global decision, from :mod:`.global_` when it is installed."""
    try:
        from .global_ import decide_global
    except ImportError:
        decide_global = None
    if decide_global is not None:
        return decide_global(problem, theta, kkt, local)
    if local.verdict == "refuted":
        return Property("refuted", local.method, "not a local optimum, so not a global optimum",
                        local.witness, certificate=local.certificate)
    return Property("inconclusive", "none", "no global method is available here")
