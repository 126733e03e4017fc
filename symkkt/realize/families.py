"""Families that show where inverse stability fails, and the one that shows the exponent 1/2 is sharp.

Each family is a sequence of pairs (Γ_k, g_k = R_{B_k}) on Ω = (−1, 1)^d with
ε_k = ‖g_k − R_{Γ_k}‖_{W^{1,∞}(Ω)} → 0. For each k the table gives ε_k (exact,
:func:`symkkt.realize.distance.distance`), the L^∞ distance, the distance from Γ_k to the fiber
of g_k (:func:`symkkt.realize.fiber.fiber_distance`: exact, or a rigorous lower bound with an
explicit upper bound) and the ratio fiber distance / ε_k^{1/2}. Inverse stability with
exponent 1/2 would keep the ratio bounded; for P1–P5 it blows up.

====== =============================================================== ===================
family Γ_k  →  g_k (neurons (w; b; a), constant c)                      fiber distance
====== =============================================================== ===================
P0     0 (m = 3)  →  tent kρ(x + 1/k²) − 2kρ(x) + kρ(x − 1/k²)          √(2k) (exact), but
                                                                         ‖g_k‖_{L^∞} = 1/k
P1     (k; 0; 0)  →  ρ(−x)/k   (unbalanced)                              ≥ k
P2     (1; −2; 2)  →  ρ(x)/k   (dead neuron)                             ≥ 2
P3     (1; 0; 1) twice  →  2ρ(x) + ρ(x − 1/2)/k   (same hyperplane)      ≥ 1/2
P4     (1; 0; 1), (−1; 0; −1)  →  x + ρ(x − 1/2)/k   (opposite)          ≥ 1/3
P5     (1; −1/2; 1), (−1; −1/2; 1)  →  R_Γ + ρ(1/2 − x)/k   (flip)       ≥ 1
P5-2d  w = (1,0), (0,1), (−1,−1), b = −1/2, −1/2, 0, a = 1, 1, 1
       →  R_Γ + ρ(1/2 − x_1)/k   (flip without opposite pair)            ≥ 1
sharp  0 (m = 1)  →  ρ(x)/k   (Γ and g in S_1)                           = ε^{1/2} exactly
====== =============================================================== ===================

P0 is about the norm: measured in L^∞ the perturbation vanishes while the fiber runs away; in
W^{1,∞} the ratio stays bounded (√2). In the sharpness family the ratio is exactly 1 and the
bound max(2√2 ε^{1/2}, ε) of the restricted set is checked (:mod:`.restricted`).

What this module trusts: :mod:`.fiber`, :mod:`.distance`, :mod:`.restricted` and sympy for
the exact ratios.

Examples
--------
>>> t = family_table("P2", [10, 100])
>>> [(r["k"], r["epsilon"], r["fiber"], r["ratio"]) for r in t["rows"]]
[(10, '1/10', '2', '2*sqrt(10)'), (100, '1/100', '2', '20')]
"""

from __future__ import annotations

import sympy

from ..errors import UsageError
from ..numbers import format_number
from .fiber import fiber_distance
from .net import ShallowNet, to_sympy

__all__ = ["FAMILIES", "family_table", "family_pair"]

H = "1/2"


def _p0(k):
    if k < 2:
        raise UsageError("family P0 needs k >= 2 (the kinks ±1/k² must lie inside (-1, 1))", "<command line>", "--k")
    G = ShallowNet.of([[0]] * 3, [0] * 3, [0] * 3, 0)
    B = ShallowNet.of([[1]] * 3, [f"1/{k * k}", 0, f"-1/{k * k}"], [k, -2 * k, k], 0)
    return G, B


def _p1(k):
    return ShallowNet.of([[k]], [0], [0], 0), ShallowNet.of([[-1]], [0], [f"1/{k}"], 0)


def _p2(k):
    return ShallowNet.of([[1]], [-2], [2], 0), ShallowNet.of([[1]], [0], [f"1/{k}"], 0)


def _p3(k):
    return (ShallowNet.of([[1], [1]], [0, 0], [1, 1], 0),
            ShallowNet.of([[1], [1]], [0, "-1/2"], [2, f"1/{k}"], 0))


def _p4(k):
    # x + relu(x - 1/2)/k = relu(x + 1) - 1 + relu(x - 1/2)/k on (-1, 1)
    return (ShallowNet.of([[1], [-1]], [0, 0], [1, -1], 0),
            ShallowNet.of([[1], [1]], [1, "-1/2"], [1, f"1/{k}"], -1))


def _p5(k):
    # R_Γ = relu(1/2 - x) + relu(x + 1/2) - 1, so g = (1 + 1/k) relu(1/2 - x) + relu(x + 1/2) - 1
    return (ShallowNet.of([[1], [-1]], ["-1/2", "-1/2"], [1, 1], 0),
            ShallowNet.of([[-1], [1]], ["1/2", "1/2"], [f"1 + 1/{k}", 1], -1))


def _p5_2d(k):
    # relu(z) = relu(-z) + z and the three z_i sum to -1: R_Γ = Σ relu(-z_i) - 1
    return (ShallowNet.of([[1, 0], [0, 1], [-1, -1]], ["-1/2", "-1/2", 0], [1, 1, 1], 0),
            ShallowNet.of([[-1, 0], [0, -1], [1, 1]], ["1/2", "1/2", 0], [f"1 + 1/{k}", 1, 1], -1))


def _sharp(k):
    return ShallowNet.of([[0]], [0], [0], 0), ShallowNet.of([[1]], [0], [f"1/{k}"], 0)


#: name -> (description, what the fiber distance does, builder k -> (Γ_k, B_k))
FAMILIES = {
    "P0": ("L^inf instead of W^{1,inf}: Gamma = 0, g_k = tent of height 1/k and slope k",
           "fiber distance sqrt(2k) -> inf while ||g_k||_Linf = 1/k -> 0", _p0),
    "P1": ("unbalanced: Gamma_k = (k; 0; 0), g_k = relu(-x)/k", "fiber distance >= k", _p1),
    "P2": ("dead neuron: Gamma = (1; -2; 2), g_k = relu(x)/k", "fiber distance >= 2", _p2),
    "P3": ("two neurons on one hyperplane: Gamma = (1; 0; 1) twice, g_k = 2 relu(x) + relu(x - 1/2)/k",
           "fiber distance >= 1/2", _p3),
    "P4": ("opposite directions: Gamma = (1; 0; 1), (-1; 0; -1) (R = x), g_k = x + relu(x - 1/2)/k",
           "fiber distance >= 1/3", _p4),
    "P5": ("orientation flip with zero linear sum: Gamma = (1; -1/2; 1), (-1; -1/2; 1), "
           "g_k = R_Gamma + relu(1/2 - x)/k", "fiber distance >= 1", _p5),
    "P5-2d": ("orientation flip in 2-D without an opposite pair: w = (1,0), (0,1), (-1,-1), b = -1/2, -1/2, 0, "
              "a = 1, 1, 1, g_k = R_Gamma + relu(1/2 - x1)/k", "fiber distance >= 1", _p5_2d),
    "sharpness": ("sharpness of the exponent 1/2: Gamma = 0, g = eps relu(x) with eps = 1/k (both in S_1)",
                  "fiber distance = eps^(1/2) exactly", _sharp),
}


def family_pair(name, k):
    """(Γ_k, B_k) of a family, as :class:`ShallowNet` (raises UsageError for unknown names)."""
    if name not in FAMILIES:
        raise UsageError(f"unknown family {name!r}; known: {', '.join(FAMILIES)}", "<command line>", "--family")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise UsageError(f"k must be a positive integer, got {k!r}", "<command line>", "--k")
    return FAMILIES[name][2](k)


def _ratio(value, eps):
    """value / eps^(1/2) as an exact string."""
    return format_number(sympy.expand(sympy.radsimp(value / sympy.sqrt(eps))))


def family_table(name, ks):
    """The table of one family for the given k.

    Parameters
    ----------
    name : str
        ``"P0"`` … ``"P5"``, ``"P5-2d"`` or ``"sharpness"``.
    ks : iterable of int
        Positive integers (P0: at least 2).

    Returns
    -------
    dict
        ``columns``, ``rows`` (per k: ``k``, ``epsilon`` = ‖g − R_Γ‖_{W^{1,∞}}, ``linf``, the
        fiber distance ``fiber`` (exact) or ``fiber_lower``/``fiber_upper``, ``tier``,
        ``ratio`` = fiber / ε^{1/2} (exact; for bounds ``ratio_lower`` from the lower bound),
        ``ratio_float``; P0 also ``ratio_linf`` = fiber / ‖g − R_Γ‖_{L^∞}^{1/2}; sharpness also
        the restricted-set ``bound`` and ``holds``), ``text``, ``name``, ``description``,
        ``claim``.

    Examples
    --------
    >>> t = family_table("sharpness", [4])
    >>> r = t["rows"][0]
    >>> r["epsilon"], r["fiber"], r["ratio"], r["bound"], r["holds"]
    ('1/4', '1/2', '1', 'sqrt(2)', True)
    """
    from .distance import distance

    ks = list(ks)
    if not ks:
        raise UsageError("give at least one k", "<command line>", "--k")
    desc, claim, _ = FAMILIES[name] if name in FAMILIES else (None, None, None)
    rows = []
    for k in ks:
        G, B = family_pair(name, k)
        D = distance(G, B)
        eps, linf = to_sympy(D.w1inf), to_sympy(D.sup)
        F = fiber_distance(G, B)
        row = {"k": k, "epsilon": format_number(eps), "linf": format_number(linf), "tier": F["tier"],
               "method": F["method"]}
        if F["exact"]:
            val = _parse(F["value"])
            row["fiber"] = F["value"]
            row["ratio"] = _ratio(val, eps)
            row["ratio_float"] = float(sympy.N(val / sympy.sqrt(eps), 15))
            row["fiber_float"] = float(sympy.N(val, 15))
        else:
            low, up = _parse(F["lower"]), _parse(F["upper"])
            row["fiber_lower"], row["fiber_upper"] = F["lower"], F["upper"]
            row["ratio_lower"] = _ratio(low, eps)
            row["ratio_float"] = float(sympy.N(low / sympy.sqrt(eps), 15))
            row["fiber_float"] = [float(sympy.N(low, 15)), float(sympy.N(up, 15))]
            val = low
        if name == "P0":
            row["ratio_linf"] = _ratio(val, linf)
        if name == "sharpness":
            from .restricted import canonicalize, inverse_stability

            Bs = canonicalize(B).with_neurons([0])      # the S_1 parametrization θ(1/k, 0)
            st = inverse_stability(G, Bs)
            row["bound"], row["holds"] = st["bound"], st["holds"]
        rows.append(row)
    columns = ["k", "epsilon", "linf", "fiber", "fiber_lower", "fiber_upper", "tier", "ratio", "ratio_lower",
               "ratio_float"] + (["ratio_linf"] if name == "P0" else []) + \
        (["bound", "holds"] if name == "sharpness" else [])
    return {"name": name, "description": desc, "claim": claim, "columns": columns, "rows": rows,
            "text": _text(name, desc, claim, rows)}


def _parse(text):
    from ..numbers import parse_number

    return parse_number(text)


def _text(name, desc, claim, rows):
    head = ["k", "eps = W1inf", "Linf", "fiber distance", "tier", "fiber / eps^(1/2)"]
    if name == "P0":
        head.append("fiber / Linf^(1/2)")
    if name == "sharpness":
        head += ["bound max(2sqrt2 eps^(1/2), eps)", "holds"]
    body = []
    for r in rows:
        if "fiber" in r:
            fib = r["fiber"]
            ratio = f"{r['ratio']} ~ {r['ratio_float']:.6g}"
        else:
            fib = f"[{r['fiber_lower']}, {r['fiber_upper']}]"
            ratio = f">= {r['ratio_lower']} ~ {r['ratio_float']:.6g}"
        line = [str(r["k"]), r["epsilon"], r["linf"], fib, r["tier"], ratio]
        if name == "P0":
            line.append(r["ratio_linf"])
        if name == "sharpness":
            line += [r["bound"], str(r["holds"])]
        body.append(line)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt_line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()   # noqa: E731
    lines = [f"family {name}: {desc}", f"expected: {claim}", fmt_line(head),
             fmt_line(["-" * w for w in widths])] + [fmt_line(b) for b in body]
    return "\n".join(lines)
