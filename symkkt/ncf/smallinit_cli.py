"""``symkkt smallinit``: train from w(0) = δ·u₀ in rescaled coordinates next to the NCF flow from u₀.

This module is imported while the parser is built, so it imports nothing heavy at module level
(``symkkt --help`` must not load sympy or numpy); :func:`run` loads :mod:`symkkt.ncf.smallinit`.
"""

from __future__ import annotations


from ..cli import ARCH_HELP, DATA_HELP, PARAMS_HELP, _emit, add_common_arguments, int_arg, subcommand

CMD = "<command line>"


def add_parser(sub):
    """Add the ``smallinit`` subcommand to the ``symkkt`` parser."""
    p = subcommand(
        sub, "smallinit",
        "train from a small initialization delta*u0 next to the NCF flow: escape times, deviation rate "
        "delta^K, direction at escape (observed, high precision)",
        "Gradient flow on the square (or logistic) loss from w(0) = delta*u0, u0 = INIT/|INIT|, in the "
        "rescaled coordinates w = delta*u, tau = delta^(K-2)*t, where it is exactly du/dtau = grad N(u) - "
        "delta^K sum_i H(x_i;u) grad H(x_i;u) (square loss; N the neural correlation function), integrated "
        "by RK4 in high precision next to the NCF flow from u0. Reports per delta the escape time (first "
        "tau with |u| >= R), sup_tau |u_delta - u_0| and its rate in delta (expected: K), the loss at escape "
        "relative to the loss at w = 0, and the direction at escape: N, its constrained-NCF KKT residual "
        "and the closest known (rank-one) KKT point. Exit 0 holds (the figures agree with the predictions), "
        "1 refuted, 3 inconclusive (e.g. the flow collapses to 0 instead of escaping), 2 bad input. Every "
        "figure is high precision (observed), not proved. The files come in the order ARCH DATA INIT.",
        "symkkt smallinit arch.yaml data.yaml init.yaml --delta 1/100 --delta 1/1000 --delta 1/10000 "
        "--loss square --plot smallinit.png")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP + " (bias-free, positively homogeneous)")
    p.add_argument("data", metavar="DATA", help=DATA_HELP + " (exact numbers; labels +1 or -1 for logistic)")
    p.add_argument("init", metavar="INIT", help="the starting direction u0 (divided by its norm): " + PARAMS_HELP)
    p.add_argument("--delta", action="append", metavar="D", required=True,
                   help="initialization scale delta > 0, an exact number such as 1/100 (repeatable)")
    p.add_argument("--loss", choices=("square", "logistic"), required=True,
                   help="square: 1/2 sum (H - y)^2 (any exact targets); logistic: sum log(1 + exp(-y H)) "
                        "(labels +1 or -1; its small-delta limit is the NCF flow at half speed)")
    p.add_argument("--horizon", metavar="TAU",
                   help="tau-horizon (default: the blow-up bound of the NCF flow from u0 when N(u0) > 0 and "
                        "K > 2; a horizon beyond it is cut there)")
    p.add_argument("--radius", default="10", metavar="R",
                   help="escape radius: escape is the first tau with |u| >= R (default 10)")
    p.add_argument("--precision", type=int_arg, metavar="DIGITS",
                   help="working precision in decimal digits (default max(30, K*log10(1/delta_min) + 20))")
    p.add_argument("--max-steps", type=int_arg, default=20000, metavar="N",
                   help="RK4 steps per run at most (default 20000)")
    p.add_argument("--no-known-points", action="store_true",
                   help="do not compare the direction at escape with the rank-one KKT points")
    p.add_argument("--plot", metavar="FILE.png",
                   help="plot |u|, N(u/|u|) and the KKT residual against tau for each delta and the NCF "
                        "flow (needs matplotlib)")
    add_common_arguments(p)
    p.set_defaults(run=run)
    return p


def run(args):
    """Run ``symkkt smallinit`` for parsed ``args``; the exit code."""
    from ..cli import check_digits, check_files
    from ..errors import UsageError
    from ..numbers import exact_sign, format_number, parse_number

    if args.precision is not None:
        check_digits(args.precision, "--precision", minimum=10)
    if args.max_steps < 1:
        raise UsageError(f"N must be >= 1, got {args.max_steps}", CMD, "--max-steps")
    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.init, "INIT")], [("--plot", args.plot)])
    if args.plot is not None:
        from ..flow.plot import check_plot_path

        check_plot_path(args.plot)
    deltas = []
    for text in args.delta:
        d = parse_number(text, CMD, "--delta")
        if exact_sign(d) <= 0:
            raise UsageError(f"delta must be > 0, got {format_number(d)}", CMD, "--delta")
        deltas.append(d)
    radius = parse_number(args.radius, CMD, "--radius")
    if exact_sign(radius - 1) <= 0:
        raise UsageError(f"R must be > 1 (|u0| = 1), got {format_number(radius)}", CMD, "--radius")
    horizon = None
    if args.horizon is not None:
        horizon = parse_number(args.horizon, CMD, "--horizon")
        if exact_sign(horizon) <= 0:
            raise UsageError(f"TAU must be > 0, got {format_number(horizon)}", CMD, "--horizon")
    from .smallinit import load_smallinit

    problem, init = load_smallinit(args.arch, args.data, args.init, float_input=args.float_input)
    problem.check_targets(args.loss)
    result = problem.run(init, deltas, args.loss, horizon=horizon, digits=args.precision, radius=radius,
                         max_steps=args.max_steps, known_points=not args.no_known_points)
    obj = result.to_json()
    text = repr(result)
    if args.plot:
        from ..output import write_outputs
        from .plot import plot_smallinit

        write_outputs({args.plot: lambda tmp: plot_smallinit(result, tmp)})
        obj["plot"] = args.plot
        text += f"\n  plot         {args.plot}"
    _emit(args, obj, text)
    return result.exit_code
