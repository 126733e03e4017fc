"""Trajectories: train a narrow net and its split side by side and decide η_k = Tθ_k ([A] §5).

- :mod:`.arith`: arithmetic tiers (exact, high precision, ball enclosures, float64);
- :mod:`.losses`: margin losses and the tiers that can run them;
- :mod:`.optimizers`: GD, momentum, weight decay, Adam (negative control), RK4 gradient flow;
- :mod:`.batches`: identical or independent mini-batches;
- :mod:`.engines`: loss gradients through :class:`~symkkt.network.Network` (generic) or fast paths;
- :mod:`.measure`: deviation, losses, normalized margins, KKT residuals;
- :mod:`.run`: the side-by-side run and its verdict (:class:`FlowResult`);
- :mod:`.plot`, :mod:`.cli`: ``--plot`` and the ``symkkt flow`` command.

Importing this package is cheap (``symkkt --help`` stays fast); the names below load
:mod:`.run` on first use.
"""

__all__ = ["FlowProblem", "FlowResult", "FlowSettings", "load_flow"]


def __getattr__(name):
    if name in __all__:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
