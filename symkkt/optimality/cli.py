"""``symkkt optimality``: is a KKT point of P_Φ a local optimum? a global optimum?

The command is a thin skin over :func:`symkkt.optimality.decide_optimality`; the exit code and
``verdict`` are those of the claim "θ is a local optimum" (``--global``: "θ is a global
optimum"). This module is imported while the parser is built, so it imports nothing heavy at
module level (``symkkt --help`` must not load sympy or numpy).
"""

from __future__ import annotations

from ..cli import (ARCH_HELP, DATA_HELP, MODEL_NOTE, PARAMS_HELP, _emit, add_common_arguments, params_or_model,
                   subcommand, with_certificate)

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Add the ``optimality`` subcommand to the ``symkkt`` parser."""
    p = subcommand(
        sub, "optimality",
        "is theta a local / global optimum of the max-margin problem? (improving curves, second order, "
        "group lasso, global bounds)",
        "Decide whether PARAMS is a KKT point, a local optimum and a global optimum of the max-margin problem "
        "minimize 1/2 |theta|^2 subject to y_k Phi(theta; x_k) >= 1. Each property is holds / refuted / "
        "inconclusive with its method and witness. Local optimality is refuted by an exact polynomial curve "
        "theta(s) along which every normalized margin grows on (0, s0] (decided by Sturm sequences), proved by "
        "the second-order sufficient condition (strict) or the group-lasso argument (two-layer nets). The exit "
        "code and verdict are those of 'theta is a local optimum' (with --global: 'a global optimum').",
        "symkkt optimality arch.yaml data.yaml params.yaml --cert not_local.json")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("data", metavar="DATA", help=DATA_HELP + ", labels +1 or -1")
    p.add_argument("params", metavar="PARAMS", nargs="?", help=PARAMS_HELP + MODEL_NOTE)
    p.add_argument("--global", dest="global_claim", action="store_true",
                   help="the claim is 'theta is a global optimum' (exit code and verdict)")
    p.add_argument("--cert", metavar="FILE",
                   help="write the kernel certificate of the claim's verdict when there is one "
                        "(not_local_optimum, not_kkt_point, global_optimum, not_global_optimum)")
    add_common_arguments(p)
    p.set_defaults(run=run)
    return p


def run(args):
    """Run the command; returns the exit code."""
    import json

    from ..api import load_problem
    from ..cli import check_files
    from ..errors import NotHomogeneousError
    from . import decide_optimality

    args.params = params_or_model(args.arch, args.params)
    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS")], [("--cert", args.cert)])
    problem, theta = load_problem(args.arch, args.data, args.params, float_input=args.float_input)
    try:
        result = decide_optimality(problem, theta, global_claim=args.global_claim)
    except NotHomogeneousError as err:
        raise err.located(file=args.arch) from None
    obj, text = with_certificate(args, result, result.to_json(), repr(result),
                                 "none (no kernel certificate for this verdict)")
    _emit(args, obj, text)
    return result.exit_code
