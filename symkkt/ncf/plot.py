"""``symkkt smallinit --plot FILE.png``: ‖u‖, N(û) and the KKT residual against τ, per δ and the NCF flow.

matplotlib is imported lazily with the Agg backend (the ``plot`` extra). The figure is drawn into
the path it is given; the command hands it a temporary file that is renamed into place
(:func:`symkkt.output.write_outputs`), so a failed run leaves no half-written image.
"""

from __future__ import annotations

import math

__all__ = ["plot_smallinit"]


def plot_smallinit(result, path):
    """Draw a :class:`~symkkt.ncf.smallinit.SmallInitResult` into ``path``; returns ``path``."""
    import os

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9))
    R = float(result.radius)
    for i, run in enumerate(result.runs):
        S = run.series
        if run.delta is None:
            label, style, color = "NCF flow" + (" (half speed)" if result.loss == "logistic" else ""), "-", "k"
        else:
            from ..numbers import format_number

            label, style, color = f"delta = {format_number(run.delta)}", "--", f"C{i}"
        tau = S["tau"]
        axes[0].semilogy(tau, S["norm"], style, color=color, label=label, lw=1.2)
        axes[1].plot(tau, S["ncf"], style, color=color, label=label, lw=1.2)
        res = [v if v is not None and v > 0 else math.nan for v in S["residual_relative"]]
        axes[2].semilogy(tau, res, style, color=color, label=label, lw=1.2)
        if run.escaped:
            for ax in axes:
                ax.axvline(float(run.escape_time), color=color, lw=0.6, alpha=0.5)
    axes[0].axhline(R, color="grey", lw=0.8, ls=":")
    axes[0].set_title("|u| (escape at |u| = R)")
    axes[1].set_title("N(u/|u|)")
    axes[2].set_title("KKT residual |grad N(u^) - K N(u^) u^| / |grad N(u^)|", fontsize=9)
    for ax in axes:
        ax.set_xlabel("tau")
        ax.legend(fontsize=7, loc="best")
    digits = "float64" if result.digits is None else f"{result.digits} digits"
    fig.suptitle(f"symkkt smallinit: {result.verdict}; {result.loss} loss, K = {result.degree}; "
                 f"{result.tier} ({digits})", fontsize=10)
    fig.tight_layout()
    ext = os.path.splitext(path)[1].lower().lstrip(".") or "png"
    try:
        with open(path, "wb") as fh:
            fig.savefig(fh, format=ext, dpi=110)
    finally:
        plt.close(fig)
    return path
