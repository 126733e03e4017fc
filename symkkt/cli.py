"""The ``symkkt`` command line: a thin skin over :mod:`symkkt.api`.

Exit codes: 0 holds / valid, 1 refuted / invalid, 3 inconclusive, 2 bad input or usage (one
line, no traceback). ``--help`` imports nothing heavy (no sympy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"symkkt: usage error: {message} (see symkkt --help)\n")
        sys.exit(EXIT_BAD_INPUT)


class _StepAction(argparse.Action):
    """Collect --split / --critical-split / --null in command-line order as (kind, text)."""

    def __call__(self, parser, namespace, values, option_string=None):
        kind = {"--split": "split", "--critical-split": "critical_split", "--null": "null"}[option_string]
        steps = list(getattr(namespace, self.dest, None) or [])
        steps.append((kind, values))
        setattr(namespace, self.dest, steps)


def add_split_arguments(parser, dest="steps"):
    """The split flags shared by ``embed`` and ``flow``, collected in command-line order."""
    parser.add_argument("--split", action=_StepAction, dest=dest, metavar="LAYER:UNIT:c1,c2,...",
                        help="neuron/channel split of [A] (repeatable; each index refers to the network the "
                             "previous steps produced; children replace the unit in place)")
    parser.add_argument("--critical-split", action=_StepAction, dest=dest, metavar="LAYER:UNIT:ALPHA",
                        help="one-step split of [B]: copy incoming weights, outgoing ALPHA and 1-ALPHA")
    parser.add_argument("--null", action=_StepAction, dest=dest, metavar="LAYER",
                        help="null embedding of [B]: append a zero unit to LAYER")
    parser.add_argument("--splits", metavar="FILE", help="YAML/JSON file with a 'splits:' list (applied first)")


def split_steps(args, dest="steps"):
    """The steps of ``--splits FILE`` followed by the split flags, parsed."""
    from .embed.maps import load_splits, parse_step

    steps = load_splits(args.splits) if args.splits else []
    return steps + [parse_step(text, kind) for kind, text in (getattr(args, dest) or [])]


def build_parser():
    p = _Parser(prog="symkkt", description="Exact checks of KKT points of homogeneous neural networks. "
                "Exit codes: 0 holds/valid, 1 refuted/invalid, 3 inconclusive, 2 bad input.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    info = sub.add_parser("info", help="layers, parameter count and order, homogeneity degree L")
    info.add_argument("arch")
    info.add_argument("--json", action="store_true", help="print one JSON object")

    kkt = sub.add_parser("kkt", help="is PARAMS a KKT point (or direction) of the max-margin problem")
    kkt.add_argument("arch")
    kkt.add_argument("data")
    kkt.add_argument("params")
    kkt.add_argument("--direction", action="store_true",
                     help="decide whether PARAMS is a KKT direction (PARAMS / q_min^(1/L) a KKT point)")
    kkt.add_argument("--cert", metavar="FILE", help="write the certificate (holds or refuted) to FILE")
    kkt.add_argument("--float-input", action="store_true",
                     help="read floats in JSON inputs as their exact binary values")
    kkt.add_argument("--json", action="store_true", help="print one JSON object")

    emb = sub.add_parser("embed", help="split a network: isometry, output and gradient preservation for all "
                         "θ, x; KKT transfer or critical points on DATA PARAMS")
    emb.add_argument("arch")
    emb.add_argument("data", nargs="?")
    emb.add_argument("params", nargs="?")
    add_split_arguments(emb)
    emb.add_argument("--loss", choices=("mse", "exp", "logistic"),
                     help="with DATA PARAMS: criticality, the line of critical points and Hessian inertia")
    emb.add_argument("--precision", type=int, default=50, metavar="DIGITS",
                     help="digits for high-precision landscape checks (tanh, exp, logistic; default 50)")
    emb.add_argument("--cert", metavar="FILE", help="write the certificate (structural claim or counterexample)")
    emb.add_argument("--out-arch", metavar="FILE", help="write the wide architecture (YAML or JSON)")
    emb.add_argument("--out-params", metavar="FILE", help="write T·PARAMS, the wide parameters (YAML or JSON)")
    emb.add_argument("--float-input", action="store_true",
                     help="read floats in JSON inputs as their exact binary values")
    emb.add_argument("--json", action="store_true", help="print one JSON object")

    from .flow.cli import add_parser as _flow_parser
    _flow_parser(sub)

    ver = sub.add_parser("verify", help="re-check certificates with the independent kernel")
    ver.add_argument("certs", nargs="+", metavar="CERT")
    ver.add_argument("--json", action="store_true", help="print one JSON object")

    demo = sub.add_parser("demo", help="the flagship checks on built-in examples, with certificates")
    demo.add_argument("--out", default="symkkt-demo", help="folder for the certificates (default: %(default)s)")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    from .errors import SymkktInputError

    try:
        return {"info": cmd_info, "kkt": cmd_kkt, "embed": cmd_embed, "verify": cmd_verify,
                "demo": cmd_demo, "flow": cmd_flow}[args.command](args)
    except SymkktInputError as err:
        sys.stderr.write(f"symkkt: {err.line()}\n")
        return EXIT_BAD_INPUT
    except BrokenPipeError:      # the reader went away (symkkt ... | head): not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("symkkt: interrupted\n")
        return 130
    except Exception as err:  # a bug, not a user error: one line, traceback on request
        if os.environ.get("SYMKKT_DEBUG"):
            raise
        sys.stderr.write(f"symkkt: internal error ({type(err).__name__}: {err}); "
                         "set SYMKKT_DEBUG=1 for a traceback\n")
        return 4


def _emit(args, obj, text):
    if args.json:
        print(json.dumps(obj, ensure_ascii=False))
    else:
        print(text)


def _check_writable(path, flag="--cert"):
    from .errors import UsageError

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError("folder does not exist", path, flag)
    if flag in ("--out-arch", "--out-params") and os.path.splitext(path)[1].lower() not in (".yaml", ".yml", ".json"):
        raise UsageError("file name must end in .yaml, .yml or .json", path, flag)


# -- commands ---------------------------------------------------------------------------------
def cmd_info(args):
    from .network import Network
    from .spec import load_architecture

    net = Network(load_architecture(args.arch))
    h = net.homogeneity()
    arch = net.arch
    layers = []
    for i, layer in enumerate(arch.layers):
        row = {"index": i, "kind": layer.kind, "output_shape": list(arch.shapes[i])}
        if layer.kind in ("dense", "conv"):
            w = net.weight_index(i)
            shapes = net.param_shapes[w - 1]
            row.update(weight_layer=w, activation=layer.activation.to_json(),
                       weight_shape=list(shapes["weight"]), bias=bool(layer.bias))
        layers.append(row)
    obj = {"verdict": "holds" if h.holds else "refuted",
           "reason": (f"positively homogeneous of degree L = {h.degree}" if h.holds else h.reason),
           "input": list(arch.input), "layers": layers, "parameters": net.num_parameters,
           "parameter_order": net.parameter_names, "homogeneity_degree": h.degree}
    lines = [f"{args.arch}: input {list(arch.input)}, {net.num_parameters} parameters"]
    for row in layers:
        extra = (f"  W{row['weight_layer']} {row['weight_shape']}{' + bias' if row['bias'] else ''}"
                 f"  activation {row['activation']}") if "weight_layer" in row else ""
        lines.append(f"  {row['index']:>2} {row['kind']:<8} -> {row['output_shape']}{extra}")
    lines.append(f"parameter order: {', '.join(net.parameter_names[:8])}"
                 + (" ..." if net.num_parameters > 8 else ""))
    lines.append(f"homogeneity: {obj['reason']}")
    _emit(args, obj, "\n".join(lines))
    return 0


def cmd_kkt(args):
    from .api import decide_kkt
    from .certificate import write_json

    if args.cert:
        _check_writable(args.cert)
    result = decide_kkt(args.arch, args.data, args.params, direction=args.direction,
                        float_input=args.float_input)
    obj = result.to_json()
    if args.cert:
        cert = result.certificate()
        if cert is not None:
            write_json(cert, args.cert)
            obj["certificate"] = args.cert
    text = repr(result)
    if args.cert:
        text += f"\n  certificate  {args.cert if 'certificate' in obj else 'none (inconclusive)'}"
    _emit(args, obj, text)
    return result.exit_code


def cmd_embed(args):
    from .api import decide_embedding
    from .certificate import write_files
    from .errors import UsageError

    for flag, path in (("--cert", args.cert), ("--out-arch", args.out_arch), ("--out-params", args.out_params)):
        if path:
            _check_writable(path, flag)
    if args.out_params and not args.params:
        raise UsageError("--out-params needs PARAMS", "<command line>")
    if args.precision < 10:
        raise UsageError(f"--precision must be at least 10 digits, got {args.precision}", "<command line>")
    steps = split_steps(args)
    result, theta = decide_embedding(args.arch, steps, args.data, args.params, loss=args.loss,
                                     float_input=args.float_input, dps=args.precision)
    obj = result.to_json()
    files = {}
    if args.out_arch or args.out_params:
        arch_obj, params_obj = result.embedding.target_files(theta)
        if args.out_arch:
            files[args.out_arch] = arch_obj
        if args.out_params:
            files[args.out_params] = params_obj
    if args.cert:
        cert = result.certificate()
        if cert is not None:
            files[args.cert] = cert
    write_files(files)
    text = repr(result)
    for path in files:
        text += f"\n  wrote        {path}"
    if args.cert and args.cert not in files:
        text += "\n  certificate  none (no structural claim or exact counterexample to certify)"
    obj["files"] = list(files)
    _emit(args, obj, text)
    return result.exit_code


def cmd_verify(args):
    from .kernel import CertificateUnreadable, check_file

    rows, code = [], 0
    for path in args.certs:
        try:
            v = check_file(path)
        except CertificateUnreadable as err:
            rows.append({"file": path, "verdict": "unreadable", "reason": str(err)})
            code = max(code, 2)
            continue
        rows.append({"file": path, "verdict": "valid" if v.valid else "invalid",
                     "claim": v.claim, "reason": v.reason})
        if not v.valid:
            code = max(code, 1) if code != 2 else code
    if args.json:
        verdict = {0: "holds", 1: "refuted", 2: "unreadable"}[code]
        print(json.dumps({"verdict": verdict, "reason": f"{len(rows)} certificate(s) checked",
                          "certificates": rows}, ensure_ascii=False))
    else:
        for r in rows:
            tail = f" ({r['claim']})" if r["verdict"] == "valid" else f": {r['reason']}"
            print(f"{r['file']}: {r['verdict']}{tail}")
    if code == 2:
        for r in rows:
            if r["verdict"] == "unreadable":
                sys.stderr.write(f"symkkt: {r['file']}: {r['reason']}\n")
                break
    return code


def cmd_demo(args):
    from .demo import run_demo

    return run_demo(args.out, as_json=args.json)


def cmd_flow(args):
    from .flow.cli import run

    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
