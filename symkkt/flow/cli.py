"""``symkkt flow``: train a narrow net and its split side by side; decide η_k = Tθ_k.

This module is imported while the parser is built, so it imports nothing heavy at module level
(``symkkt --help`` must not load sympy or numpy); :func:`run` loads the engine.
"""

from __future__ import annotations

import argparse
import sys
import time

from ..cli import (ARCH_HELP, DATA_HELP, EXIT_CODES, HelpFormatter, INDICES, MODEL_NOTE, PARAMS_HELP, _emit,
                   add_common_arguments, add_split_arguments, int_arg, params_or_model, split_steps)

CMD = "<command line>"


def add_parser(subparsers):
    """Add the ``flow`` subcommand to the ``symkkt`` parser."""
    p = subparsers.add_parser(
        "flow", help="train the narrow net and its split side by side: |eta_k - T theta_k|, losses, "
                     "normalized margins, KKT residuals",
        description="Train the narrow net from PARAMS and the wide net from T*PARAMS with the same optimizer "
                    "and report |eta_k - T theta_k| over the steps, in a stated arithmetic tier. Exit 0 holds "
                    "(exactly 0 / certified bound / below the tier's tolerance), 1 refuted, 3 inconclusive, "
                    "2 bad input. The files come in the order ARCH DATA PARAMS. " + INDICES,
        epilog=f"{EXIT_CODES}\n\nexample:\n  symkkt flow arch.yaml data.yaml params.yaml --split 1:0:3/5,4/5 "
               "--steps 50 --precision 50",
        formatter_class=HelpFormatter)
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("data", metavar="DATA", help=DATA_HELP + ", labels +1 or -1")
    p.add_argument("params", metavar="PARAMS", nargs="?",
                   help="starting parameters theta_0 of the narrow net: " + PARAMS_HELP + MODEL_NOTE)
    add_split_arguments(p, dest="split_steps")
    p.add_argument("--loss", choices=("exp", "logistic", "squared_hinge"),
                   help="margin loss (default: exp; squared_hinge with --exact)")
    p.add_argument("--reduction", choices=("mean", "sum"), default="mean",
                   help="loss over a batch: mean (default) or sum of l(q_k)")
    p.add_argument("--lr", default="1/10", metavar="R",
                   help="learning rate, or time step for rk4; an exact number such as 1/10 (default)")
    p.add_argument("--steps", type=int_arg, default=100, metavar="N", help="optimizer steps (default 100)")
    tier = p.add_mutually_exclusive_group()
    tier.add_argument("--exact", action="store_true",
                      help="rational arithmetic (squared_hinge only): deviation exactly 0 or not")
    tier.add_argument("--precision", type=int_arg, metavar="DIGITS",
                      help="high-precision floating point with DIGITS digits (default tier, 50 digits)")
    tier.add_argument("--balls", type=int_arg, metavar="DIGITS",
                      help="arb ball arithmetic with DIGITS digits: a rigorous bound on the deviation")
    tier.add_argument("--float", action="store_true", help="float64, for comparison with [A]")
    p.add_argument("--optimizer", default="gd", metavar="OPT",
                   help="gd (default; full batch unless --batch), sgd (gd on mini-batches: needs --batch B, "
                        "refused without it), momentum:BETA, weight_decay:KAPPA, adam[:B1,B2,EPS] (not "
                        "equivariant), or rk4 (gradient flow, RK4 with step --lr)")
    p.add_argument("--batch", type=int_arg, metavar="B", help="mini-batch size (default: full batch)")
    p.add_argument("--seed", type=int_arg, default=0, metavar="S", help="seed of the batch order (default 0)")
    same = p.add_mutually_exclusive_group()
    same.add_argument("--same-batches", dest="same_batches", action="store_true", default=True,
                      help="both nets see the same batches (default)")
    same.add_argument("--different-batches", dest="same_batches", action="store_false",
                      help="the wide net draws its own batches (seed S+1): the negative control")
    p.add_argument("--record-every", type=int_arg, metavar="K",
                   help="keep every K-th step in the series (default: about 100 records)")
    p.add_argument("--max-bits", type=int_arg, default=3_000_000, metavar="BITS",
                   help="--exact: stop (inconclusive) when exact numbers exceed BITS bits (default 3000000; "
                        "each step roughly triples them: example1 reaches 2.4 million bits at step 12)")
    p.add_argument("--kkt-check", action="store_true",
                   help="also run the exact KKT checker on the rounded final direction")
    p.add_argument("--engine", choices=("auto", "shallow", "dense", "generic"), default="auto",
                   help=argparse.SUPPRESS)
    p.add_argument("--out-params", metavar="FILE",
                   help="write the final theta of the narrow net as exact numbers (PARAMS form, YAML or JSON), "
                        "to feed a run back to kkt; the file says nothing about tiers: see the JSON's "
                        "final_parameters.values")
    p.add_argument("--plot", metavar="FILE.png",
                   help="plot deviation (log scale), losses and normalized margins (needs matplotlib)")
    add_common_arguments(p)
    p.set_defaults(run=run)
    return p


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream=None, every=0.1):
        self.stream = stream or sys.stderr
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.every = every
        self.t0 = time.perf_counter()
        self.last = 0.0
        self.shown = False

    def __call__(self, k, n, deviation):
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < self.every and k < n:
            return
        self.last = now
        frac = k / n
        width = 30
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        elapsed = now - self.t0
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        self.stream.write(f"\rflow [{bar}] {k}/{n} |eta-T theta| {deviation:.2e}  "
                          f"{elapsed:.1f}s elapsed, ~{eta:.1f}s left ")
        self.stream.flush()
        self.shown = True

    def close(self):
        if self.shown:
            self.stream.write("\r" + " " * 100 + "\r")
            self.stream.flush()


def _settings(args):
    from .run import FlowSettings

    if args.exact:
        tier, digits = "exact", None
    elif args.balls is not None:
        tier, digits = "balls", args.balls
    elif args.float:
        tier, digits = "float", None
    else:
        tier, digits = "precision", 50 if args.precision is None else args.precision
    loss = args.loss or ("squared_hinge" if tier == "exact" else "exp")
    digits = 50 if digits is None else digits       # 0 stays 0 and is refused, never read as 50
    return FlowSettings(loss=loss, lr=args.lr, steps=args.steps, tier=tier, digits=digits,
                        optimizer=args.optimizer, batch=args.batch, seed=args.seed,
                        same_batches=args.same_batches, reduction=args.reduction,
                        record_every=args.record_every, engine=args.engine, kkt_check=args.kkt_check,
                        max_bits=args.max_bits)


def run(args):
    """Run ``symkkt flow`` for parsed ``args``; the exit code."""
    from ..cli import check_digits, check_files
    from ..errors import UsageError
    from ..numbers import format_number
    from .run import load_flow

    for flag, digits in (("--precision", args.precision), ("--balls", args.balls)):
        if digits is not None:
            check_digits(digits, flag, minimum=5)
    from ..cli import OUT_SUFFIXES

    args.params = params_or_model(args.arch, args.params)
    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS"), (args.splits, "--splits")],
                [("--plot", args.plot), ("--out-params", args.out_params)],
                {"--out-params": OUT_SUFFIXES["--out-params"]})
    if args.plot is not None:
        from .plot import check_plot_path

        check_plot_path(args.plot)
    settings = _settings(args).validated()      # bad flags fail before any file is read
    steps = split_steps(args, "split_steps")       # none: T is the identity, one net is trained
    problem, theta0 = load_flow(args.arch, args.data, args.params, steps, float_input=args.float_input)
    bar = Progress()
    try:
        result = problem.run(theta0, settings, progress=bar)
    finally:
        bar.close()
    if not steps:           # one net: the deviation is 0 by construction, the figures are the point
        result.reason = "no split (T is the identity): one net trained, the figures are its own; " + result.reason
    from .final import final_parameters, params_file

    obj = result.to_json()
    text = repr(result)
    final = final_parameters(result)
    if final is not None:
        obj["final_parameters"] = final
        moved = final["theta"] != [format_number(v) for v in theta0]
        obj["moved"] = moved
        if not moved:
            sys.stderr.write("symkkt: warning: the run did not move (theta is unchanged: zero loss gradient "
                             "from the start?)\n")
    if args.out_params and final is not None:
        from ..certificate import write_files
        from .final import exact_values

        write_files({args.out_params: params_file(problem.embedding.source, exact_values(result.final_theta))})
        obj["out_params"] = args.out_params
        text += f"\n  final theta  written to {args.out_params} ({final['values']})"
    if args.plot:
        from ..output import write_outputs
        from .plot import plot_result

        write_outputs({args.plot: lambda tmp: plot_result(result, tmp)})
        obj["plot"] = args.plot
        text += f"\n  plot         {args.plot}"
    _emit(args, obj, text)
    return result.exit_code
