"""``--plot FILE.png``: the deviation (log scale), both losses and both normalized margins.

matplotlib is imported lazily with the Agg backend (no display needed); it is the ``plot``
extra (``pip install 'symkkt[plot]'``). The image is written to a temporary file in the target
folder and renamed into place, so a failed run never leaves a half-written file.
"""

from __future__ import annotations

import math
import os
import tempfile

from ..errors import UsageError

__all__ = ["check_plot_path", "plot_result"]

FORMATS = (".png", ".pdf", ".svg")


def check_plot_path(path):
    """Refuse an unusable ``--plot`` path before the run (UsageError, exit 2)."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError("folder does not exist", path, "--plot")
    if os.path.splitext(path)[1].lower() not in FORMATS:
        raise UsageError(f"file name must end in {', '.join(FORMATS)}", path, "--plot")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'symkkt[plot]'", path, "--plot") from None


def plot_result(result, path):
    """Draw a :class:`~symkkt.flow.run.FlowResult` into ``path`` (atomically)."""
    check_plot_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    S = result.series
    steps = S["step"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    dev = [v if v is not None and v > 0 else math.nan for v in S["deviation"]]
    if any(not math.isnan(v) for v in dev):
        ax.semilogy(steps, dev, color="C3",
                    label="rigorous upper bound" if result.tier_flag == "balls" else result.tier)
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(0.5, 0.5, "exactly 0 at every recorded step", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_yticks([])
    ax.set_title("|eta_k - T theta_k|")
    ax.set_xlabel("step")
    ax = axes[1]
    for key, label, style in (("loss_narrow", "narrow L(theta)", "-"), ("loss_wide", "wide L(eta)", "--")):
        vals = [v if v is not None and v > 0 else math.nan for v in S[key]]
        ax.semilogy(steps, vals, style, label=label)
    ax.set_title(f"{result.settings.loss} loss")
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
    ax = axes[2]
    for key, label, style in (("gamma_narrow", "narrow", "-"), ("gamma_wide", "wide", "--")):
        ax.plot(steps, [math.nan if v is None else v for v in S[key]], style, label=label)
    ax.set_title("normalized margin gamma-bar")
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
    digits = "" if result.tier_flag == "exact" else f", {result._digits_text()}"
    fig.suptitle(f"symkkt flow: {result.verdict} ({result.tier}{digits}); "
                 f"{result.settings.optimizer.label}, lr {result.to_json()['settings']['lr']}", fontsize=10)
    fig.tight_layout()
    folder = os.path.dirname(os.path.abspath(path))
    ext = os.path.splitext(path)[1]
    fd, tmp = tempfile.mkstemp(prefix=".symkkt-plot-", suffix=ext, dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format=ext[1:], dpi=110)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    finally:
        plt.close(fig)
    return path
