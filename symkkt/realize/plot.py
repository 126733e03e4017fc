"""``symkkt realize --plot FILE.png``: pictures of realizations and their difference.

1-D: R_A (and R_B) and h = R_A − R_B over the box, kinks marked, the sup point marked.
2-D: heat maps of h and of |∇h| (or of R_A for one network), the visible hyperplanes drawn.
The pictures evaluate float approximations of the exact parameters on a grid (a picture, not
a decision). matplotlib is imported lazily with the Agg backend (the ``plot`` extra).
"""

from __future__ import annotations

from ..flow.plot import FORMATS, check_plot_path

__all__ = ["check_plot_path", "plot_realize", "FORMATS"]


def _floats(net):
    """(W, b, a, c) of a ShallowNet, or the layers of a DeepNet, as floats."""
    import numpy as np

    if hasattr(net, "layers"):
        return [(np.array([[float(x) for x in row] for row in W], dtype=float).reshape(len(W), -1),
                 np.array([float(x) for x in b])) for W, b in net.layers]
    W = np.array([[float(x) for x in row] for row in net.W], dtype=float).reshape(net.m, net.d)
    return [(W, np.array([float(x) for x in net.b])), (np.array([[float(x) for x in net.a]]).reshape(1, net.m),
                                                      np.array([float(net.c)]))]


def _eval(layers, X):
    """Values at the rows of X (n × d), float64."""
    import numpy as np

    H = X
    for k, (W, b) in enumerate(layers):
        Z = H @ W.T + b if W.size else np.zeros((H.shape[0], len(b))) + b
        H = Z if k == len(layers) - 1 else np.maximum(Z, 0)
    return H[:, 0]


def _kinks(form):
    return [] if form is None else [(n, beta) for n, beta, _ in form.sorted_hyperplanes()]


def plot_realize(result, path):
    """Draw a :class:`~symkkt.realize.cli.RealizeResult` into ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    lo, hi, d = float(result.lo), float(result.hi), result.d
    nets = [_floats(n) for n in result.nets]
    two = len(nets) == 2
    if d == 1:
        xs = np.linspace(lo, hi, 2001)
        ys = [_eval(L, xs[:, None]) for L in nets]
        fig, axes = plt.subplots(1, 2 if two else 1, figsize=(11 if two else 6, 3.8), squeeze=False)
        ax = axes[0][0]
        for y, name, style in zip(ys, ("R_A", "R_B"), ("-", "--")):
            ax.plot(xs, y, style, label=name)
        for form, color in zip(result.forms, ("C0", "C1")):
            for n, beta in _kinks(form):
                ax.axvline(-float(beta) / float(n[0]), color=color, lw=0.6, alpha=0.5)
        ax.set_title("realizations (kinks marked)")
        ax.set_xlabel("x")
        ax.legend(fontsize=8)
        if two:
            ax = axes[0][1]
            ax.plot(xs, ys[0] - ys[1], color="C3", label="h = R_A - R_B")
            D = result.distance
            if D is not None and D.exact:
                p = float(D.sup_point[0])
                ax.plot([p], [float(result.nets[0]([D.sup_point[0]]) - result.nets[1]([D.sup_point[0]]))], "ko",
                        label=f"sup |h| = {D.sup!r}")
            ax.axhline(0, color="k", lw=0.5)
            ax.set_title("difference")
            ax.set_xlabel("x")
            ax.legend(fontsize=8)
    elif d == 2:
        g = np.linspace(lo, hi, 301)
        X1, X2 = np.meshgrid(g, g)
        P = np.column_stack([X1.ravel(), X2.ravel()])
        vals = _eval(nets[0], P) - (_eval(nets[1], P) if two else 0)
        Hm = vals.reshape(X1.shape)
        step = g[1] - g[0]
        G2, G1 = np.gradient(Hm, step)
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
        for ax, Z, title in ((axes[0], Hm, "h = R_A - R_B" if two else "R_A"),
                             (axes[1], np.hypot(G1, G2), "|grad h| (finite differences)" if two else "|grad R_A|")):
            im = ax.imshow(Z, origin="lower", extent=(lo, hi, lo, hi), aspect="equal", cmap="viridis")
            fig.colorbar(im, ax=ax, shrink=0.8)
            for form, color in zip(result.forms, ("w", "r")):
                for n, beta in _kinks(form):
                    n1, n2, b = float(n[0]), float(n[1]), float(beta)
                    if abs(n2) > 1e-12:
                        ax.plot(g, -(b + n1 * g) / n2, color=color, lw=0.6, alpha=0.7)
                    else:
                        ax.axvline(-b / n1, color=color, lw=0.6, alpha=0.7)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_title(title)
    else:
        from ..errors import UsageError

        raise UsageError(f"--plot draws d = 1 or d = 2, this network has d = {d}", path, "--plot")
    fig.suptitle(f"symkkt realize: {result.verdict} ({result.reason})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
