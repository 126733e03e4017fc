"""``symkkt certify``: prove that a KKT point (or direction) lies next to a trained network.

This module is imported while the parser is built: nothing heavy at module level.
"""

from __future__ import annotations

from ..cli import (ARCH_HELP, DATA_HELP, PARAMS_HELP, _emit, add_common_arguments, check_files, subcommand,
                   with_certificate)

CMD = "<command line>"


def add_parser(sub):
    """Add the ``certify`` subcommand."""
    p = subcommand(sub, "certify", "prove that a true KKT point lies next to a trained (float) point",
                   "Rigorous (eps, delta)-KKT figures of PARAMS; then guess the active set and activation "
                   "pattern (within --tolerance; pre-activations at a kink on active points become equations "
                   "z = 0 with the slope as an unknown; parallel hidden units are merged and lifted), solve the "
                   "KKT system by Newton at high precision, and prove a KKT point in a small box around the "
                   "solution (Krawczyk test in ball arithmetic), or recognize it as exact algebraic numbers "
                   "decided by the exact checker. Without a proof, try to prove that a box around the trained "
                   "point holds no KKT point (refuted). ARCH may be an ONNX model (then give MODEL DATA). "
                   "Bias-free nets with linear, relu and leaky_relu layers.",
                   "symkkt certify net.onnx data.yaml --direction --cert near.json")
    p.add_argument("arch", metavar="ARCH", help=ARCH_HELP + "; or a model file (.onnx)")
    p.add_argument("data", metavar="DATA", help=DATA_HELP + ", labels +1 or -1")
    p.add_argument("params", metavar="PARAMS", nargs="?", help="the trained point: " + PARAMS_HELP)
    p.add_argument("--direction", action="store_true",
                   help="PARAMS is a direction: look for a KKT point near theta / q_min^(1/L)")
    p.add_argument("--tolerance", default="1/100", metavar="T",
                   help="active set: margins q_k <= 1 + T (after scaling to q_min = 1 with --direction); kinks: "
                        "|z| <= T * |w_unit| * |unit input| (exact number > 0, default 1/100)")
    p.add_argument("--zero-tolerance", default="1/100", metavar="Z",
                   help="zero units: incoming and outgoing weights of norm <= Z times the largest in the layer "
                        "(exact number > 0, default 1/100)")
    p.add_argument("--no-exact", action="store_true", help="skip the exact snap (recognition)")
    p.add_argument("--cert", metavar="FILE", help="write the certificate (kkt_point or kkt_point_nearby)")
    add_common_arguments(p, float_input=False)
    p.set_defaults(run=run)
    return p


def run(args):
    """Run ``symkkt certify``; the exit code."""
    from fractions import Fraction

    from ..errors import UsageError
    from ..numbers import parse_number

    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS")], [("--cert", args.cert)])
    tols = []
    for text, opt in ((args.tolerance, "--tolerance"), (args.zero_tolerance, "--zero-tolerance")):
        t = parse_number(text, CMD, opt)
        if not t.is_Rational or not t > 0:
            raise UsageError(f"the tolerance must be a rational number > 0, got {text}", CMD, opt)
        tols.append(Fraction(int(t.p), int(t.q)))
    from .run import certify, load_inputs

    arch, data, theta = load_inputs(args.arch, args.data, args.params)
    result = certify(arch, data, theta, direction=args.direction, tolerance=tols[0], zero_tolerance=tols[1],
                     exact=not args.no_exact)
    obj, text = with_certificate(args, result, result.to_json(), repr(result), "none (nothing proved)")
    _emit(args, obj, text)
    return result.exit_code
