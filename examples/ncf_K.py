"""[K]'s small-initialization claims, reproduced next to the NCF flow (high precision, observed).

Gradient flow on the square loss from w(0) = δ·u₀ is, in the rescaled coordinates w = δu,
τ = δ^(K−2)t, exactly du/dτ = ∇N(u) − δ^K Σ_i H(x_i; u)∇H(x_i; u), with N the neural
correlation function (docs/mathematics.md, "Small initialization"). This script checks, on data
sets built here (d = 3, n = 10, depth 3):

1. the escape time (first τ with ‖u‖ ≥ R) does not depend on δ (three δ over two decades);
2. sup_τ ‖u_δ(τ) − u₀(τ)‖ shrinks like δ^K;
3. the direction at escape approaches a non-negative KKT point of the constrained NCF: its
   relative KKT residual ‖∇N(û) − K N(û) û‖/‖∇N(û)‖ falls as R grows, N(û) > 0, and for
   leaky ReLU the distance to the rank-one KKT family through an exactly decided rank-one KKT
   point shrinks with it;
4. the weight matrices are nearly rank one at escape (σ2/σ1) for leaky ReLU (p = 1) and the
   polynomial leaky ReLU max(z, z/5)^3 (p = 3, K = 13);
5. the collapse alternative: started near the negated KKT direction (N(û) < 0), the flow
   shrinks ‖u‖ and N(û) stays ≤ 0: no escape.

Every figure is high precision (observed), not proved. Run: ``python examples/ncf_K.py``
(about a minute; the exact rank-one search for p = 3 is skipped, it takes longer).
"""

from __future__ import annotations

import time

import numpy as np
import sympy

from symkkt.ncf.smallinit import smallinit_from_dicts

Q = sympy.Rational


def instance(p, seed=0, flip=True):
    """A depth-3 net (widths 3, 3, 1) with max(z, z/5)^p, ten points in Q^3 with labels ±1, and INIT."""
    rng = np.random.default_rng(seed)
    d, n, widths = 3, 10, [3, 3]
    act = {"leaky_relu": {"slope": "1/5"}} if p == 1 else {"poly_leaky_relu": {"slope": "1/5", "power": p}}
    arch = {"input": [d], "layers": [{"dense": {"width": w, "activation": act}} for w in widths]
            + [{"dense": {"width": 1}}]}
    scale = 4 if p == 1 else 2          # keeps N(u) of order one at |u| = 1 for K = 13 as well
    points = [{"x": [str(Q(int(v), scale)) for v in rng.integers(-6, 7, d)], "y": 1 if i % 2 == 0 else -1}
              for i in range(n)]
    shapes = [(widths[0], d), (widths[1], widths[0]), (1, widths[1])]
    init = [{"weight": [[str(Q(int(v), 10)) for v in rng.integers(-9, 10, c)] for _ in range(r)]}
            for r, c in shapes]
    if flip:                            # start with N(u0) < 0: the direction turns before it grows
        init[-1]["weight"] = [[str(-Q(v)) for v in init[-1]["weight"][0]]]
    return arch, {"points": points}, init


def norm_crossings(run, radii):
    """The relative KKT residual of the NCF flow at the first grid point with |u| >= r, per r."""
    S = run.series
    out = []
    for r in radii:
        k = next((i for i, v in enumerate(S["norm"]) if v >= r), None)
        out.append(None if k is None else S["residual_relative"][k])
    return out


def fmt(x, spec=".3g"):
    return "-" if x is None else format(float(x), spec)


def table(name, result):
    rows = []
    for run in result.runs:
        c = run.closest or {}
        rows.append([name, str(result.degree), "NCF" if run.delta is None else str(run.delta),
                     fmt(run.escape_time, ".7g") if run.escaped else "none",
                     fmt(run.deviation), "-" if run.rate is None else f"{run.rate:.3f}",
                     fmt(run.loss_ratio, ".4f"), fmt(run.ncf_value, ".4g"), fmt(run.residual_relative),
                     c.get("family_distance", "-"),
                     " ".join("-" if v is None else f"{v:.1e}" for v in run.layers[:-1])])
    return rows


def main():
    t0 = time.perf_counter()
    head = ["instance", "K", "delta", "escape tau", "sup|u_d-u_0|", "rate", "loss/L(0)", "N(u^)",
            "rel. resid", "family dist", "sigma2/sigma1"]
    rows, lines = [], []

    # leaky ReLU, p = 1, K = 3
    arch, data, init = instance(1)
    problem, u0 = smallinit_from_dicts(arch, data, init)
    deltas = ["1/10000", "1/100000", "1/1000000"]          # delta*R <= 1/10
    leaky = problem.run(u0, deltas, "square", radius=1000)
    rows += table("leaky p=1", leaky)
    lines.append(f"leaky p=1: {leaky.verdict} ({leaky.reason})")
    lines.append("  relative KKT residual of the NCF flow at |u| = 10, 100, 1000: "
                 + ", ".join(fmt(v) for v in norm_crossings(leaky.runs[0], (10, 100, 1000))))
    lines.append(f"  known KKT points: {leaky.known_text}")
    c = leaky.runs[-1].closest
    if c:
        lines.append(f"  nearest family: through rank-one point #{c.get('family_index')} (exact N = "
                     f"{c.get('family_value')}, decision {c.get('family_decision')}), distance "
                     f"{c.get('family_distance')} (float64); N(u^) at escape {fmt(leaky.runs[-1].ncf_value, '.6g')}")
    lines.append(f"  blow-up bound: {leaky.blowup['text']}")

    # the same with the logistic loss: its limit is the NCF flow at half speed
    logi = problem.run(u0, deltas, "logistic", radius=1000, known_points=False)
    rows += table("leaky logistic", logi)
    lines.append(f"leaky logistic: {logi.verdict}; escape tau of the limit flow {fmt(logi.runs[0].escape_time, '.7g')}"
                 f" = 2 x {fmt(leaky.runs[0].escape_time, '.7g')} (half speed)")

    # polynomial leaky ReLU, p = 3, K = 13
    arch3, data3, init3 = instance(3, flip=False)
    problem3, u03 = smallinit_from_dicts(arch3, data3, init3)
    cubic = problem3.run(u03, ["1/1000", "1/10000", "1/100000"], "square", radius=100, known_points=False)
    rows += table("cubic p=3", cubic)
    lines.append(f"cubic p=3: {cubic.verdict} ({cubic.reason})")
    lines.append("  relative KKT residual of the NCF flow at |u| = 2, 10, 100: "
                 + ", ".join(fmt(v) for v in norm_crossings(cubic.runs[0], (2, 10, 100))))

    # the collapse alternative: start at the leaky escape direction with its last layer negated
    u = leaky.runs[0].direction
    m = problem.network.num_parameters
    last = problem.network.param_shapes[-1]["weight"][1]
    start = [Q(sympy.nsimplify(float(v), rational=True, tolerance=1e-12)) * (-1 if i >= m - last else 1)
             for i, v in enumerate(u)]
    from symkkt.ncf.smallinit import make_init

    collapse = problem.run(make_init(start, problem.network), ["1/100", "1/1000"], "square", horizon=20,
                           known_points=False)
    rows += table("collapse", collapse)
    S = collapse.runs[0].series
    lines.append(f"collapse: {collapse.verdict} ({collapse.reason}); max N(u^) along the NCF flow "
                 f"{max(S['ncf']):.3g}, |u| at tau = {S['tau'][-1]:.3g}: {S['norm'][-1]:.3g}")

    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print()
    for line in lines:
        print(line)
    print(f"\nevery figure: high precision (observed), not proved; {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
