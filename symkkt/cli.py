"""The ``symkkt`` command line: a thin skin over :mod:`symkkt.api`.

Exit codes: 0 holds / valid, 1 refuted / invalid, 3 inconclusive, 2 bad input or usage (one
line, no traceback). ``--help`` imports nothing heavy (no sympy).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
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


def add_common_arguments(parser, float_input=True):
    """The flags every subcommand that reads files shares: ``--float-input`` (unless told not to),
    ``--json`` and ``--limit``."""
    if float_input:
        parser.add_argument("--float-input", action="store_true",
                            help="read floats in JSON inputs as their exact binary values")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_limit_argument(parser)


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


MODEL_NOTE = "; omitted when ARCH is an ONNX model (which carries its parameters)"


def params_or_model(arch, params, flag="PARAMS"):
    """PARAMS, or ARCH itself when ARCH is an ONNX model file (it carries the parameters).

    Examples
    --------
    >>> params_or_model("net.onnx", None), params_or_model("arch.yaml", "p.yaml")
    ('net.onnx', 'p.yaml')
    """
    if params is not None:
        return params
    if os.fspath(arch).lower().endswith(".onnx"):
        return arch
    from .errors import UsageError

    raise UsageError(f"give {flag} (or an ONNX model as ARCH, which carries its parameters)", CMD, flag)


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
                        help="neuron/channel split of [A]: unit UNIT (0-based) of weight layer LAYER (1-based) "
                             "becomes children with coefficients c1,c2,... (repeatable; each index refers to "
                             "the network the previous steps produced; children replace the unit in place)")
    parser.add_argument("--critical-split", action=_StepAction, dest=dest, metavar="LAYER:UNIT:ALPHA",
                        help="one-step split of [B]: copy incoming weights, outgoing ALPHA and 1-ALPHA "
                             "(LAYER 1-based, UNIT 0-based)")
    parser.add_argument("--null", action=_StepAction, dest=dest, metavar="LAYER",
                        help="null embedding of [B]: append a zero unit to weight layer LAYER (1-based)")
    parser.add_argument("--splits", metavar="FILE",
                        help="YAML/JSON file with a 'splits:' list, applied first, e.g. "
                             "splits: [\"1:0:3/5,4/5\", {critical_split: \"1:2:1/3\"}, {null: 1}]")


def split_steps(args, dest="steps"):
    """The steps of ``--splits FILE`` followed by the split flags, parsed."""
    from .embed.maps import load_splits, parse_step

    steps = load_splits(args.splits) if args.splits else []
    return steps + [parse_step(text, kind) for kind, text in (getattr(args, dest) or [])]


#: what the positional files are, shared by every subcommand's --help
ARCH_HELP = "architecture file (YAML or JSON): 'input:' the input shape such as [2] or [1, 3], and 'layers:'"
DATA_HELP = ("data file (YAML or JSON 'points: [{x: [...], y: ...}]', or CSV with header x1,...,xd,y): "
             "the points x and their targets y")
PARAMS_HELP = ("parameters file (YAML or JSON): a list with one {weight: [[...]], bias: [...]} entry per "
               "weight layer, rows = output units")
INDICES = ("LAYER counts the weight (dense and conv) layers from 1; UNIT counts the units (dense) or "
           "output channels (conv) of that layer from 0. Numbers are exact: 1/2, sqrt(2)/2, 0.1.")
EXIT_CODES = "Exit codes: 0 holds/valid, 1 refuted/invalid, 3 inconclusive, 2 bad input or usage."


class HelpFormatter(argparse.HelpFormatter):
    """Wrap one-paragraph texts; keep texts written with line breaks (the epilog's example) as they are."""

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def subcommand(sub, name, help, description, example):
    """Add subcommand ``name`` whose --help ends with the exit codes and an example line."""
    return sub.add_parser(name, help=help, description=description,
                          epilog=f"{EXIT_CODES}\n\nexample:\n  {example}", formatter_class=HelpFormatter)


# Subcommands that live in their own package: the module's ``add_parser(sub)`` adds the parser and
# sets ``run`` (a function of the parsed arguments returning the exit code) with ``set_defaults``.
# These modules are imported to build the parser, so they must not import sympy or numpy at module level.
EXTENSIONS = (
    "symkkt.flow.cli",
    "symkkt.ncf.cli",
    "symkkt.ncf.smallinit_cli",
    "symkkt.trained.cli",
    "symkkt.certify.cli",
    "symkkt.realize.cli",
    "symkkt.optimality.cli",
)


def build_parser():
    from . import __version__

    p = _Parser(prog="symkkt", description="Exact checks of KKT points of homogeneous neural networks. "
                "Exit codes: 0 holds/valid, 1 refuted/invalid, 3 inconclusive, 2 bad input.",
                epilog="symkkt COMMAND --help describes each command's files and flags.")
    p.add_argument("--version", action="version", version=f"symkkt {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_SubParser)

    info = subcommand(sub, "info", "layers, parameter count and order, homogeneity degree L",
                      "Print the layers of ARCH with their output shapes, the parameter count and order "
                      "(the order of PARAMS entries flattened, as certificates list them), and whether the network is "
                      "positively homogeneous (exit 0) and of which degree L, or not (exit 1).",
                      "symkkt info arch.yaml --json")
    info.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    add_common_arguments(info, float_input=False)

    kkt = subcommand(sub, "kkt", "is PARAMS a KKT point (or direction) of the max-margin problem",
                     "Decide exactly whether PARAMS is a KKT point of min ||theta||^2/2 subject to "
                     "y_k f(theta; x_k) >= 1 for the network ARCH on DATA (with --direction: a KKT "
                     "direction). The files come in the order ARCH DATA PARAMS.",
                     "symkkt kkt arch.yaml data.yaml params.yaml --cert kkt.json")
    kkt.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    kkt.add_argument("data", metavar="DATA", help=DATA_HELP + ", labels +1 or -1")
    kkt.add_argument("params", metavar="PARAMS", nargs="?", help=PARAMS_HELP + MODEL_NOTE)
    kkt.add_argument("--direction", action="store_true",
                     help="decide whether PARAMS is a KKT direction (PARAMS / q_min^(1/L) a KKT point)")
    kkt.add_argument("--cert", metavar="FILE", help="write the certificate (holds or refuted) to FILE")
    kkt.add_argument("--clarke-set", choices=("clarke", "chain_rule_hull"), default="clarke",
                     help="the set stationarity is decided for: clarke (the Clarke subdifferential; "
                          "default) or chain_rule_hull (the hull of chain-rule elements with independent "
                          "per-unit slopes)")
    kkt.add_argument("--float-input", action="store_true",
                     help="read floats in JSON inputs as their exact binary values")
    kkt.add_argument("--show-system", action="store_true",
                     help="also print the KKT system at PARAMS in the parameter symbols: margins, stationarity "
                          "on the activation pattern, kink slopes (with --json: the key 'system')")
    add_common_arguments(kkt, float_input=False)

    emb = subcommand(sub, "embed", "split a network: isometry, output and gradient preservation for all "
                     "θ, x; KKT transfer or critical points on DATA PARAMS",
                     "Split units of ARCH (steps applied in order, --splits FILE first) and prove or refute "
                     "isometry, output and gradient preservation of the map T for all theta and x; with "
                     "DATA PARAMS (in that order) also KKT transfer, or with --loss criticality. "
                     + INDICES,
                     "symkkt embed arch.yaml data.yaml params.yaml --split 1:0:3/5,4/5 --out-arch wide.yaml")
    emb.add_argument("arch", metavar="ARCH", help=ARCH_HELP)
    emb.add_argument("data", metavar="DATA", nargs="?", help="optional; " + DATA_HELP + ", labels +1 or -1 "
                     "(any exact targets with --loss)")
    emb.add_argument("params", metavar="PARAMS", nargs="?", help="optional, with DATA; " + PARAMS_HELP)
    add_split_arguments(emb)
    emb.add_argument("--direction", action="store_true",
                     help="with DATA PARAMS: KKT transfer of directions, 'PARAMS is a KKT direction iff "
                          "T·PARAMS is one' (PARAMS / q_min^(1/L) a KKT point), instead of KKT points")
    emb.add_argument("--loss", choices=("mse", "exp", "logistic"),
                     help="with DATA PARAMS: criticality, the line of critical points and Hessian inertia")
    emb.add_argument("--precision", type=int_arg, default=50, metavar="DIGITS",
                     help="digits for high-precision landscape checks (tanh, exp, logistic; default 50)")
    emb.add_argument("--cert", metavar="FILE", help="write the certificate (structural claim or counterexample)")
    emb.add_argument("--out-arch", metavar="FILE", help="write the wide architecture (YAML or JSON)")
    emb.add_argument("--out-params", metavar="FILE", help="write T·PARAMS, the wide parameters (YAML or JSON)")
    add_common_arguments(emb)

    import importlib

    for name in EXTENSIONS:  # each adds its subcommand and a runner: ``set_defaults(run=...)``
        importlib.import_module(name).add_parser(sub)

    ver = subcommand(sub, "verify", "re-check certificates with the independent kernel",
                     "Re-check each CERT with the independent kernel, from the certificate alone: exit 0 "
                     "when all are valid, 1 when one is invalid, 2 when one cannot be read.",
                     "symkkt verify kkt.json embed.json")
    ver.add_argument("certs", nargs="+", metavar="CERT",
                     help="certificate file (JSON) written by --cert or demo")
    add_common_arguments(ver, float_input=False)

    demo = subcommand(sub, "demo", "the flagship checks on built-in examples, with certificates",
                      "Run the checks on the built-in examples and write their certificates into the folder "
                      "--out; takes no files.",
                      "symkkt demo --out symkkt-demo && symkkt verify symkkt-demo/*.json")
    demo.add_argument("--out", default="symkkt-demo", help="folder for the certificates (default: %(default)s)")
    add_common_arguments(demo, float_input=False)
    return p


def main(argv=None):
    """Run ``symkkt ARGV``; return the exit code.

    The exit code is the verdict's even when the reader of stdout or stderr goes away early
    (``symkkt kkt ... | head -c1``): the streams are guarded while the command runs, and a
    closed pipe sends the rest of the output to the null device instead of ending the command.
    """
    argv = sys.argv[1:] if argv is None else [os.fspath(a) for a in argv]
    guards = _PipeGuard.install()
    try:
        code = _run(argv)
        for guard in guards:
            guard.flush()               # a pipe closed at the last write must not change the code
        return code
    finally:
        _PipeGuard.uninstall(guards)


def _run(argv):
    try:
        args = build_parser().parse_args(argv)
    except _UsageExit as err:
        if "--json" in argv:
            _json_error(err.line, CMD, None)
        return EXIT_BAD_INPUT
    except SystemExit as exit_:         # --help, --version
        return exit_.code if isinstance(exit_.code, int) else 0
    from .errors import SymkktInputError

    command = {"info": cmd_info, "kkt": cmd_kkt, "embed": cmd_embed, "verify": cmd_verify,
               "demo": cmd_demo}.get(args.command) or args.run
    try:
        if args.command == "verify":
            return command(args)
        with limits_in_force(args):         # before any input is read
            return command(args)
    except SymkktInputError as err:
        return _bad_input(args, err)
    except OSError as err:       # a file the user named cannot be used: bad input, not a bug
        path = _user_file(err, args)
        if path is None:
            return _internal_error(err)
        from .output import os_error

        return _bad_input(args, os_error(err, path, "cannot use the file"))
    except KeyboardInterrupt:
        sys.stderr.write("symkkt: interrupted\n")
        return 130
    except Exception as err:  # a bug, not a user error: one line, traceback on request
        return _internal_error(err)


class _PipeGuard:
    """A stand-in for ``sys.stdout`` or ``sys.stderr`` that survives a closed pipe.

    On the first :class:`BrokenPipeError` the stream's descriptor is pointed at the null
    device (as the Python documentation recommends for SIGPIPE), so the command runs on and
    returns its verdict's exit code, and the interpreter's final flush does not fail.
    """

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    @classmethod
    def install(cls):
        guards = []
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if stream is not None and not isinstance(stream, cls):
                guard = cls(stream)
                setattr(sys, name, guard)
                guards.append((name, guard))
        return [g for _, g in guards]

    @staticmethod
    def uninstall(guards):
        for guard in guards:
            for name in ("stdout", "stderr"):
                if getattr(sys, name) is guard:
                    setattr(sys, name, guard._stream)

    def _closed(self):
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        except (OSError, ValueError, AttributeError):     # no descriptor (a captured stream)
            pass

    def write(self, text):
        if self.broken:
            return len(text)
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._closed()
            return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        if self.broken:
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()        # now into the null device
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._closed()
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _bad_input(args, err):
    """Exit 2: one line on stderr (and with ``--json`` one error object on stdout)."""
    line = err.line()
    sys.stderr.write(f"symkkt: {line}\n")
    if getattr(args, "json", False):
        _json_error(line, err.file, err.place)
    return EXIT_BAD_INPUT


def _json_error(line, file, place):
    """The ``--json`` object of bad input: ``verdict``, ``reason`` (the whole line), ``place`` (the
    file and the place in it, as the line starts) and ``file``."""
    where = ": ".join(p for p in (file, place) if p) or None
    print(json.dumps({"verdict": "error", "reason": line, "place": where, "file": file}, ensure_ascii=False))


def _internal_error(err):
    if os.environ.get("SYMKKT_DEBUG"):
        raise err
    sys.stderr.write(f"symkkt: internal error ({type(err).__name__}: {err}); "
                     "set SYMKKT_DEBUG=1 for a traceback\n")
    return 4


_PATH_ARGS = ("arch", "data", "params", "splits", "cert", "out_arch", "out_params", "plot", "out", "model",
              "arch_out", "params_out")


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


def _finite(obj):
    """JSON cannot carry NaN or infinities: replace them by None.

    Examples
    --------
    >>> _finite({"gamma": [float("nan"), 0.5], "loss": float("inf"), "steps": 3})
    {'gamma': [None, 0.5], 'loss': None, 'steps': 3}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def with_certificate(args, result, obj, text, none="none (inconclusive)"):
    """Write ``result.certificate()`` to ``--cert`` (when there is one) and say so in ``obj`` and ``text``.

    Returns ``(obj, text)``; ``none`` is the text shown when the verdict has no certificate.
    """
    if not args.cert:
        return obj, text
    cert = result.certificate()
    if cert is None:
        return obj, f"{text}\n  certificate  {none}"
    from .certificate import write_json

    write_json(cert, args.cert)
    obj["certificate"] = args.cert
    return obj, f"{text}\n  certificate  {args.cert} ({cert['claim']['kind']})"


def _emit(args, obj, text):
    """Print the result: one JSON object with ``--json`` (non-finite floats as null), else the text."""
    if args.json:
        print(json.dumps(_finite(obj), ensure_ascii=False))
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
        if layer.kind in ("dense", "conv", "diagonal"):
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
    from .errors import NotHomogeneousError

    args.params = params_or_model(args.arch, args.params)
    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS")], [("--cert", args.cert)])
    problem, theta = load_problem(args.arch, args.data, args.params, float_input=args.float_input)
    options = {} if args.clarke_set == "clarke" else {"clarke_set": args.clarke_set}
    try:
        result = problem.decide(theta, direction=args.direction, **options)
    except NotHomogeneousError as err:
        raise err.located(file=args.arch) from None
    obj, text = with_certificate(args, result, result.to_json(), repr(result))
    if args.show_system:        # after the verdict; the exit code stays the verdict's
        from .errors import SymkktInputError
        try:
            system = problem.system(theta, direction=args.direction)
            obj["system"], text = system.to_json(), text + "\nsystem:\n" + system.text()
        except SymkktInputError as err:
            obj["system"] = {"available": False, "reason": err.message}
            text += f"\nsystem: not available ({err.message})"
    _emit(args, obj, text)
    return result.exit_code


def cmd_embed(args):
    from .api import decide_embedding
    from .certificate import write_files
    from .errors import UsageError

    if args.data is not None and args.params is None and os.fspath(args.arch).lower().endswith(".onnx"):
        args.params = args.arch             # an ONNX model carries its parameters
    if args.out_params is not None and not args.params:
        raise UsageError("--out-params needs PARAMS", CMD)
    check_digits(args.precision, "--precision", minimum=10)
    check_files([(args.arch, "ARCH"), (args.data, "DATA"), (args.params, "PARAMS"), (args.splits, "--splits")],
                [("--cert", args.cert), ("--out-arch", args.out_arch), ("--out-params", args.out_params)],
                OUT_SUFFIXES)
    steps = split_steps(args)
    result, theta = decide_embedding(args.arch, steps, args.data, args.params, loss=args.loss,
                                     float_input=args.float_input, dps=args.precision, direction=args.direction)
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

    from .flow.demo import EvidenceError, read_evidence, verify_evidence
    from .output import input_problem

    options = _kernel_limits(args, check_file)
    rows, code = [], 0
    for path in args.certs:
        try:
            problem = input_problem(path)
            if problem is not None:
                raise CertificateUnreadable(problem)
            record = read_evidence(path)           # a flow evidence record is re-run, not kernel-checked
            if record is not None:
                ok, reason = verify_evidence(record)
                rows.append({"file": path, "verdict": "reproduced" if ok else "not reproduced",
                             "claim": "flow_evidence", "reason": reason})
                code = max(code, 0 if ok else 1)
                continue
            v = check_file(path, **options)
        except (CertificateUnreadable, EvidenceError) as err:
            rows.append({"file": path, "verdict": "unreadable", "reason": str(err), "place": path})
            code = max(code, 2)
            continue
        rows.append({"file": path, "verdict": "valid" if v.valid else "invalid",
                     "claim": v.claim, "reason": v.reason,
                     **({"clarke_set": v.clarke_set} if v.valid and getattr(v, "clarke_set", None) else {})})
        if not v.valid:
            code = max(code, 1) if code != 2 else code
    if args.json:
        verdict = {0: "holds", 1: "refuted", 2: "unreadable"}[code]
        unreadable = [r["file"] for r in rows if r["verdict"] == "unreadable"]
        print(json.dumps({"verdict": verdict, "reason": f"{len(rows)} certificate(s) checked",
                          **({"place": unreadable[0]} if unreadable else {}),
                          "certificates": rows}, ensure_ascii=False))
    else:
        for r in rows:
            if r.get("claim") == "flow_evidence":
                print(f"{r['file']}: {r['verdict']} ({r['reason']})" if r["verdict"] == "reproduced"
                      else f"{r['file']}: {r['verdict']}: {r['reason']}")
                continue
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
