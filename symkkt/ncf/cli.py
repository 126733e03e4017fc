"""``symkkt ncf``: KKT points of the constrained neural correlation function; rank-one points.

This module is imported while the parser is built, so it imports nothing heavy at module level;
:func:`run` loads :mod:`symkkt.ncf.problem` and :mod:`symkkt.ncf.rank_one`.
"""

from __future__ import annotations

from ..cli import ARCH_HELP, DATA_HELP, PARAMS_HELP, _emit, add_common_arguments, subcommand, with_certificate

CMD = "<command line>"


def add_parser(sub):
    """Add the ``ncf`` subcommand to the ``symkkt`` parser."""
    p = subcommand(sub, "ncf", "is PARAMS a KKT point (or direction) of the constrained NCF; rank-one KKT points",
                   "Decide exactly whether PARAMS is a KKT point (|u| = 1) or, with --direction, a KKT direction "
                   "of max N(u) = sum_i y_i H(x_i; u) subject to |u|^2 = 1, the neural correlation function of a "
                   "positively homogeneous network ARCH on DATA (targets y may be any exact numbers). At kinks "
                   "the Clarke set used is named. With --rank-one (no PARAMS): enumerate the rank-one KKT points "
                   "of bias-free dense leaky-ReLU and polynomial leaky-ReLU nets built from the one-neuron problem "
                   "(exact entries, algebraic where needed), each decided by the "
                   "same check. The files come in the order ARCH DATA PARAMS.",
                   "symkkt ncf arch.yaml data.yaml params.yaml --cert ncf.json")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    p.add_argument("data", metavar="DATA", help=DATA_HELP + " (any exact numbers)")
    p.add_argument("params", metavar="PARAMS", nargs="?", help=PARAMS_HELP + " (not with --rank-one)")
    p.add_argument("--direction", action="store_true",
                   help="decide whether PARAMS/|PARAMS| is a KKT point (K N(u) u in |u|^2 Clarke(N)(u))")
    p.add_argument("--rank-one", action="store_true",
                   help="enumerate the rank-one KKT points of family R (bias-free dense nets with leaky ReLU or "
                        "polynomial leaky ReLU)")
    p.add_argument("--clarke-set", choices=("clarke", "chain_rule_hull"), default="clarke",
                   help="the set of generalized gradients of N: clarke (default) or chain_rule_hull "
                        "(independent per-unit, per-point slopes; contains the Clarke set)")
    p.add_argument("--cert", metavar="FILE", help="write the certificate (holds or refuted) to FILE")
    add_common_arguments(p)
    p.set_defaults(run=run)
    return p


def run(args):
    """Run ``symkkt ncf`` for parsed ``args``; the exit code."""
    from ..cli import check_files
    from ..errors import UsageError

    if args.rank_one and args.params:
        raise UsageError("--rank-one takes ARCH DATA only (no PARAMS)", CMD, "--rank-one")
    if args.rank_one and (args.cert or args.direction):
        raise UsageError("--rank-one writes no certificate and takes no --direction", CMD, "--rank-one")
    if not args.rank_one and not args.params and str(args.arch).lower().endswith(".onnx"):
        args.params = args.arch             # an ONNX model carries its parameters
    if not args.rank_one and not args.params:
        raise UsageError("PARAMS is required (or --rank-one)", CMD, "PARAMS")
    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS")], [("--cert", args.cert)])
    from .problem import load_ncf

    problem, u = load_ncf(args.arch, args.data, args.params, float_input=args.float_input)
    if args.rank_one:
        from .rank_one import rank_one_points

        result = rank_one_points(problem)
        _emit(args, result.to_json(), repr(result))
        return result.exit_code
    if all(v == 0 for v in u):
        raise UsageError("u = 0 is neither a point of the unit sphere nor a direction (N(0) = 0)", args.params)
    result = problem.decide(u, direction=args.direction, clarke_set=args.clarke_set)
    obj, text = with_certificate(args, result, result.to_json(), repr(result))
    _emit(args, obj, text)
    return result.exit_code
