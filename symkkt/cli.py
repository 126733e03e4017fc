"""The ``symkkt`` command line: a thin skin over :mod:`symkkt.api`.

Exit codes: 0 holds / valid, 1 refuted / invalid, 3 inconclusive, 2 bad input or usage (one
line, no traceback). ``--help`` imports nothing heavy (no sympy).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys

EXIT_BAD_INPUT = 2
CMD = "<command line>"


class _UsageExit(SystemExit):
    """A usage error, already reported on stderr; carries its one line for ``--json``."""

    def __init__(self, line):
        super().__init__(EXIT_BAD_INPUT)
        self.line = line


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        line = f"usage error: {message} (see symkkt --help)"
        sys.stderr.write(f"symkkt: {line}\n")
        raise _UsageExit(line)


class _SubParser(_Parser):
    """A subcommand parser that takes options and positional files in any order
    (``embed ARCH --split S DATA PARAMS``): argparse's intermixed parsing."""

    _plain = False

    def parse_known_args(self, args=None, namespace=None):
        if self._plain:
            return super().parse_known_args(args, namespace)
        self._plain = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._plain = False


class _StepAction(argparse.Action):
    """Collect --split / --critical-split / --null in command-line order as (kind, text)."""

    def __call__(self, parser, namespace, values, option_string=None):
        kind = {"--split": "split", "--critical-split": "critical_split", "--null": "null"}[option_string]
        steps = list(getattr(namespace, self.dest, None) or [])
        steps.append((kind, values))
        setattr(namespace, self.dest, steps)


def int_arg(text):
    """An argparse type: an integer written in ASCII digits (``int`` also takes other scripts' digits)."""
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        raise argparse.ArgumentTypeError(f"expected an integer in ASCII digits, got {text!r}")
    return int(text)


def add_limit_argument(parser):
    """The ``--limit NAME=VALUE`` flag every subcommand takes (repeatable)."""
    parser.add_argument("--limit", action="append", metavar="NAME=VALUE", default=None,
                        help="raise (or lower) a resource limit checked before the work, e.g. "
                             "--limit field_degree=32 (repeatable); verify takes the kernel's limits")


def parse_limit(text):
    """``NAME=VALUE`` with a name of ASCII letters, digits, ``_`` or ``-`` and a positive integer.

    Examples
    --------
    >>> parse_limit("field_degree=64")
    ('field_degree', 64)
    """
    from .errors import UsageError

    m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_-]{0,63})=([0-9]{1,18})", text)
    if not m or int(m.group(2)) <= 0:
        raise UsageError(f"expected NAME=VALUE with a positive integer VALUE, got {text!r}", CMD, "--limit")
    return m.group(1), int(m.group(2))


def limit_pairs(args):
    """The ``--limit`` pairs as a dict (later pairs win); None when no ``--limit`` was given."""
    texts = getattr(args, "limit", None)
    if not texts:
        return None
    return dict(parse_limit(t) for t in texts)


@contextlib.contextmanager
def limits_in_force(args):
    """The ``--limit`` pairs in force in :mod:`symkkt.limits` while a command runs (not ``verify``,
    whose limits are the kernel's); the previous limits return afterwards."""
    from .errors import UsageError

    texts = getattr(args, "limit", None) or []
    try:
        from . import limits
    except ImportError:
        limits = None
    if limits is None:
        for text in texts:
            parse_limit(text)
        if texts:
            raise UsageError("resource limits are not available in this version", CMD, "--limit")
        yield
        return
    pairs = dict(limits.parse_assignment(t) for t in texts)
    with limits.overridden(**pairs):
        yield


def check_digits(digits, flag, minimum=1):
    """Refuse a digit count below ``minimum`` (and above the ``digits`` limit, where one is set)."""
    from .errors import UsageError

    if digits < minimum:
        raise UsageError(f"DIGITS must be an integer >= {minimum}, got {digits}", CMD, flag)
    try:
        from .limits import check_precision
    except ImportError:
        return
    check_precision(digits, flag)


def check_files(inputs=(), outputs=(), suffixes=None):
    """Check the command's input and output files before any work (exit 2 on the first problem).

    ``inputs`` holds ``(path, role)``, ``outputs`` holds ``(flag, path)``; see
    :mod:`symkkt.output`.
    """
    from .output import check_inputs, check_outputs

    check_inputs(inputs)
    check_outputs(outputs, [p for p, _ in inputs if p], suffixes)


#: file name endings of the outputs that are read back as inputs
OUT_SUFFIXES = {"--out-arch": (".yaml", ".yml", ".json"), "--out-params": (".yaml", ".yml", ".json")}


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
    sub = p.add_subparsers(dest="command", required=True, parser_class=_SubParser)

    info = sub.add_parser("info", help="layers, parameter count and order, homogeneity degree L")
    info.add_argument("arch")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    add_limit_argument(info)

    kkt = sub.add_parser("kkt", help="is PARAMS a KKT point (or direction) of the max-margin problem")
    kkt.add_argument("arch")
    kkt.add_argument("data")
    kkt.add_argument("params")
    kkt.add_argument("--direction", action="store_true",
                     help="decide whether PARAMS is a KKT direction (PARAMS / q_min^(1/L) a KKT point)")
    kkt.add_argument("--cert", metavar="FILE", help="write the certificate (holds or refuted) to FILE")
    kkt.add_argument("--clarke-set", choices=("clarke", "chain_rule_hull"), default="clarke",
                     help="the set stationarity is decided for: clarke (the Clarke subdifferential; "
                          "default) or chain_rule_hull (the hull of chain-rule elements with independent "
                          "per-unit slopes)")
    kkt.add_argument("--float-input", action="store_true",
                     help="read floats in JSON inputs as their exact binary values")
    kkt.add_argument("--json", action="store_true", help="print one JSON object")
    add_limit_argument(kkt)

    emb = sub.add_parser("embed", help="split a network: isometry, output and gradient preservation for all "
                         "θ, x; KKT transfer or critical points on DATA PARAMS")
    emb.add_argument("arch")
    emb.add_argument("data", nargs="?")
    emb.add_argument("params", nargs="?")
    add_split_arguments(emb)
    emb.add_argument("--loss", choices=("mse", "exp", "logistic"),
                     help="with DATA PARAMS: criticality, the line of critical points and Hessian inertia")
    emb.add_argument("--precision", type=int_arg, default=50, metavar="DIGITS",
                     help="digits for high-precision landscape checks (tanh, exp, logistic; default 50)")
    emb.add_argument("--cert", metavar="FILE", help="write the certificate (structural claim or counterexample)")
    emb.add_argument("--out-arch", metavar="FILE", help="write the wide architecture (YAML or JSON)")
    emb.add_argument("--out-params", metavar="FILE", help="write T·PARAMS, the wide parameters (YAML or JSON)")
    emb.add_argument("--float-input", action="store_true",
                     help="read floats in JSON inputs as their exact binary values")
    emb.add_argument("--json", action="store_true", help="print one JSON object")
    add_limit_argument(emb)

    from .flow.cli import add_parser as _flow_parser
    _flow_parser(sub)

    ver = sub.add_parser("verify", help="re-check certificates with the independent kernel")
    ver.add_argument("certs", nargs="+", metavar="CERT")
    ver.add_argument("--json", action="store_true", help="print one JSON object")
    add_limit_argument(ver)

    demo = sub.add_parser("demo", help="the flagship checks on built-in examples, with certificates")
    demo.add_argument("--out", default="symkkt-demo", help="folder for the certificates (default: %(default)s)")
    demo.add_argument("--json", action="store_true", help="print one JSON object")
    add_limit_argument(demo)
    return p


def main(argv=None):
    argv = sys.argv[1:] if argv is None else [os.fspath(a) for a in argv]
    try:
        args = build_parser().parse_args(argv)
    except _UsageExit as err:
        if "--json" in argv:
            _json_error(err.line)
        return EXIT_BAD_INPUT
    from .errors import SymkktInputError

    command = {"info": cmd_info, "kkt": cmd_kkt, "embed": cmd_embed, "verify": cmd_verify,
               "demo": cmd_demo, "flow": cmd_flow}[args.command]
    try:
        if args.command == "verify":
            return command(args)
        with limits_in_force(args):         # before any input is read
            return command(args)
    except SymkktInputError as err:
        return _bad_input(args, err.line())
    except BrokenPipeError:      # the reader went away (symkkt ... | head): not an error
        sys.stderr.close()
        return 0
    except OSError as err:       # a file the user named cannot be used: bad input, not a bug
        path = _user_file(err, args)
        if path is None:
            return _internal_error(err)
        from .output import os_error

        return _bad_input(args, os_error(err, path, "cannot use the file").line())
    except KeyboardInterrupt:
        sys.stderr.write("symkkt: interrupted\n")
        return 130
    except Exception as err:  # a bug, not a user error: one line, traceback on request
        return _internal_error(err)


def _bad_input(args, line):
    """Exit 2: one line on stderr (and with ``--json`` one error object on stdout)."""
    sys.stderr.write(f"symkkt: {line}\n")
    if getattr(args, "json", False):
        _json_error(line)
    return EXIT_BAD_INPUT


def _json_error(line):
    try:
        print(json.dumps({"verdict": "error", "reason": line}, ensure_ascii=False))
    except BrokenPipeError:     # pragma: no cover
        pass


def _internal_error(err):
    if os.environ.get("SYMKKT_DEBUG"):
        raise err
    sys.stderr.write(f"symkkt: internal error ({type(err).__name__}: {err}); "
                     "set SYMKKT_DEBUG=1 for a traceback\n")
    return 4


_PATH_ARGS = ("arch", "data", "params", "splits", "cert", "out_arch", "out_params", "plot", "out")


def _user_file(err, args):
    """The file named on the command line that an OSError is about (None: not a user file)."""
    named = [getattr(args, a, None) for a in _PATH_ARGS] + list(getattr(args, "certs", None) or [])
    named = [os.fspath(p) for p in named if p]
    for culprit in (err.filename, err.filename2):
        if culprit is None:
            continue
        culprit = os.fspath(culprit)
        for path in named:
            if culprit == path or os.path.realpath(culprit) == os.path.realpath(path):
                return path
            folder = os.path.realpath(culprit).rstrip(os.sep)
            if folder and os.path.realpath(path).startswith(folder + os.sep):
                return path     # a folder on the way to the user's file
    return None


def _emit(args, obj, text):
    if args.json:
        print(json.dumps(obj, ensure_ascii=False))
    else:
        print(text)


# -- commands ---------------------------------------------------------------------------------
def cmd_info(args):
    from .network import Network
    from .spec import load_architecture

    check_files([(args.arch, "ARCH")])
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
    return 0 if h.holds else 1              # the verdict is about positive homogeneity


def cmd_kkt(args):
    from .api import load_problem
    from .certificate import write_json
    from .errors import NotHomogeneousError

    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS")], [("--cert", args.cert)])
    problem, theta = load_problem(args.arch, args.data, args.params, float_input=args.float_input)
    options = {} if args.clarke_set == "clarke" else {"clarke_set": args.clarke_set}
    try:
        result = problem.decide(theta, direction=args.direction, **options)
    except NotHomogeneousError as err:
        raise err.located(file=args.arch) from None
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

    if args.out_params is not None and not args.params:
        raise UsageError("--out-params needs PARAMS", CMD)
    check_digits(args.precision, "--precision", minimum=10)
    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS"), (args.splits, "--splits")],
                [("--cert", args.cert), ("--out-arch", args.out_arch), ("--out-params", args.out_params)],
                OUT_SUFFIXES)
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

    from .output import input_problem

    options = _kernel_limits(args, check_file)
    rows, code = [], 0
    for path in args.certs:
        try:
            problem = input_problem(path)
            if problem is not None:
                raise CertificateUnreadable(problem)
            v = check_file(path, **options)
        except CertificateUnreadable as err:
            rows.append({"file": path, "verdict": "unreadable", "reason": str(err)})
            code = max(code, 2)
            continue
        rows.append({"file": path, "verdict": "valid" if v.valid else "invalid",
                     "claim": v.claim, "reason": v.reason,
                     **({"clarke_set": v.clarke_set} if v.valid and v.clarke_set else {})})
        if not v.valid:
            code = max(code, 1) if code != 2 else code
    if args.json:
        verdict = {0: "holds", 1: "refuted", 2: "unreadable"}[code]
        print(json.dumps({"verdict": verdict, "reason": f"{len(rows)} certificate(s) checked",
                          "certificates": rows}, ensure_ascii=False))
    else:
        for r in rows:
            tail = (f" ({r['claim']}" + (f"; Clarke set: {r['clarke_set']}" if r.get("clarke_set") else "") + ")"
                    if r["verdict"] == "valid" else f": {r['reason']}")
            print(f"{r['file']}: {r['verdict']}{tail}")
    if code == 2:
        for r in rows:
            if r["verdict"] == "unreadable":
                sys.stderr.write(f"symkkt: {r['file']}: {r['reason']}\n")
                break
    return code


def _kernel_limits(args, check_file):
    """``{"limits": {...}}`` for the kernel when ``--limit`` was given, else ``{}``."""
    import inspect

    from .errors import UsageError

    limits = limit_pairs(args)
    if limits is None:
        return {}
    if "limits" not in inspect.signature(check_file).parameters:
        raise UsageError("the kernel of this version takes no limits", CMD, "--limit")
    try:
        from .kernel.limits import Limits
    except ImportError:
        return {"limits": limits}
    try:
        Limits(limits)                          # unknown names: one line before any certificate is read
    except ValueError as err:
        raise UsageError(str(err), CMD, "--limit") from None
    return {"limits": limits}


def cmd_demo(args):
    from .demo import run_demo

    return run_demo(args.out, as_json=args.json)


def cmd_flow(args):
    from .flow.cli import run

    return run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
