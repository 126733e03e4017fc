"""``symkkt realize``: canonical forms, same-function test and exact distances of ReLU realizations.

The Python API is :func:`realize` (one or two networks on a box) returning a
:class:`RealizeResult` with ``verdict``, ``reason``, ``exit_code``, ``to_json()``,
``certificate()`` and a text ``repr``. The command is a thin skin over it.

This module is imported while the parser is built, so it imports nothing heavy at module level
(``symkkt --help`` must not load sympy or numpy).
"""

from __future__ import annotations

import json

from ..cli import ARCH_HELP, EXIT_CODES, HelpFormatter, PARAMS_HELP, add_common_arguments, int_arg

CMD = "<command line>"
FAMILIES = ("P0", "P1", "P2", "P3", "P4", "P5", "P5-2d", "sharpness")
#: the fiber distance (an assignment search) runs by default only up to this width per network
FIBER_WIDTH = 64         # wider pairs: seconds to minutes (width 100: about 16 s); --fibers forces it

__all__ = ["add_parser", "run", "realize", "RealizeResult"]


def add_parser(subparsers):
    """Add the ``realize`` subcommand to the ``symkkt`` parser."""
    p = subparsers.add_parser(
        "realize", help="canonical form of a ReLU realization on a box; same function? exact L^inf and "
                        "W^1,inf distances",
        description="For ReLU networks with biases R(x) = sum_i a_i relu(w_i.x + b_i) + c on the box "
                    "(LO, HI)^d: with one PARAMS the canonical form of the function (visible hyperplanes and "
                    "their jumps, linear part, constant; dead and affine neurons), exit 0; with PARAMS2 too, "
                    "whether both realize the same function on the box (exit 0 holds, 1 refuted with a point "
                    "where they differ) and the exact distances sup |R_A - R_B| and the W^1,inf distance "
                    "with their maximizers. PARAMS2 may have other widths than ARCH (same input dimension). "
                    "Deeper nets: same function and distances for d <= 2 by region enumeration. "
                    "With --family the table of a pathology family (no files).",
        epilog=f"{EXIT_CODES}\n\nexamples:\n  symkkt realize arch.yaml a.yaml b.yaml --domain=-1,1 --cert same.json\n"
               "  symkkt realize --family P3 --k 10,100,1000",
        formatter_class=HelpFormatter)
    p.add_argument("files", nargs="*", metavar="ARCH PARAMS [PARAMS2]",
                   help=f"ARCH: {ARCH_HELP}; PARAMS, PARAMS2: {PARAMS_HELP}")
    p.add_argument("--arch2", metavar="FILE", help="architecture of PARAMS2 (default: ARCH with the widths "
                                                   "read from PARAMS2)")
    p.add_argument("--domain", metavar="LO,HI", default="-1,1",
                   help="the box (LO, HI)^d, exact numbers, LO < HI (default -1,1; write --domain=-1,1 "
                        "when LO is negative)")
    p.add_argument("--cert", metavar="FILE",
                   help="write the certificate of the verdict (same_realization or different_realization; "
                        "one-hidden-layer nets)")
    p.add_argument("--cert-distance", metavar="FILE",
                   help="write the realization_distance certificate (two one-hidden-layer nets, d <= 2)")
    p.add_argument("--plot", metavar="FILE.png",
                   help="1-D: both realizations and their difference; 2-D: heat maps of the difference and "
                        "its gradient norm; kinks marked (needs matplotlib)")
    p.add_argument("--out-params", metavar="FILE",
                   help="write a canonical parametrization of R_A (restricted set, one neuron per hyperplane)")
    p.add_argument("--max-vertices", type=int_arg, default=None, metavar="N",
                   help="largest exact vertex enumeration (d-subsets) before rigorous bounds are given instead")
    p.add_argument("--fibers", action="store_true",
                   help=f"compute the fiber distance also for widths above {FIBER_WIDTH} (it can be slow)")
    p.add_argument("--family", choices=FAMILIES, help="print the table of a pathology family (takes no files)")
    p.add_argument("--k", default="10,100,1000", metavar="K1,K2,...", help="parameters of --family "
                                                                            "(default 10,100,1000)")
    add_common_arguments(p)
    p.set_defaults(run=run)
    return p


# -- the Python API ---------------------------------------------------------------------------
class RealizeResult:
    """The decision of ``symkkt realize`` for one or two networks on a box.

    Attributes
    ----------
    verdict : str
        ``holds`` (one network: the canonical form was computed; two: the same function on
        the box) or ``refuted`` (two networks that differ at ``witness``).
    reason : str
    nets : tuple
        The networks in one exact domain.
    forms : tuple
        Their canonical forms (one-hidden-layer nets; None for deeper ones).
    witness : tuple or None
        A point of the open box where the values differ.
    distance : symkkt.realize.distance.Distance or None
    figures : dict
        Further figures (fiber distance, pathologies, restricted set, inverse stability), each
        a JSON-ready dict, or a note saying why it is missing.
    """

    def __init__(self, nets, lo, hi, forms, same=None, witness=None, distance=None, figures=None, deep=False):
        self.nets, self.lo, self.hi, self.forms = tuple(nets), lo, hi, tuple(forms)
        self.same, self.witness, self.distance = same, witness, distance
        self.figures = figures or {}
        self.deep = deep
        if len(self.nets) == 1:
            self.verdict = "holds"
            self.reason = ("canonical form of the realization on the box" if self.forms[0] is not None else
                           "deeper network: linear regions enumerated (canonical forms are for one hidden layer)")
        elif same:
            self.verdict = "holds"
            self.reason = "R_A and R_B are the same function on the box (equal canonical forms)" if not deep else \
                "R_A and R_B are the same function on the box (h = 0 on every linear region)"
        else:
            self.verdict = "refuted"
            self.reason = "R_A and R_B differ on the box: the values at the witness point differ"

    @property
    def exit_code(self):
        from ..errors import VERDICT_EXIT

        return VERDICT_EXIT[self.verdict]

    @property
    def d(self):
        return self.nets[0].d

    def _values(self):
        from .net import fmt

        x = self.witness
        return [fmt(n(x)) for n in self.nets]

    def to_json(self):
        from .net import fmt

        out = {"verdict": self.verdict, "reason": self.reason, "tier": "exact",
               "domain": [fmt(self.lo), fmt(self.hi)], "d": self.d}
        names = ("A", "B")
        for k, (net, form) in enumerate(zip(self.nets, self.forms)):
            key = f"canonical_{names[k]}"
            out[key] = form.to_json() if form is not None else {"note": "deeper network: no canonical form"}
            out[f"width_{names[k]}"] = net.m if form is not None else list(net.widths)
        if len(self.nets) == 2:
            out["same_function"] = bool(self.same)
            if self.witness is not None:
                va, vb = self._values()
                out["witness"] = {"point": [fmt(x) for x in self.witness], "R_A": va, "R_B": vb}
            if self.distance is not None:
                out["distance"] = self.distance.to_json()
        out.update(self.figures)
        return out

    def __repr__(self):
        from .net import fmt

        lines = [f"realize: {self.verdict} ({self.reason}; exact) on ({fmt(self.lo)}, {fmt(self.hi)})^{self.d}"]
        for name, net, form in zip(("R_A", "R_B"), self.nets, self.forms):
            if form is None:
                lines.append(f"  {name}: deeper network, widths {list(net.widths)}")
                continue
            lines.append(f"  {name} = {form.formula()}")
            lines.append(f"        {len(form.hyperplanes)} visible hyperplane(s), {net.m} neurons; "
                         f"dead {list(form.dead)}, affine {list(form.affine)}")
        if self.witness is not None:
            va, vb = self._values()
            pt = ", ".join(fmt(x) for x in self.witness)
            lines.append(f"  witness: R_A({pt}) = {va} != R_B({pt}) = {vb}")
        if self.distance is not None:
            lines.append(f"  distance: {self.distance!r}")
        for key, fig in self.figures.items():
            text = fig.get("text") if isinstance(fig, dict) else None
            lines.append(f"  {key}: {text if text else json.dumps(fig, ensure_ascii=False)}")
        return "\n".join(lines)

    def certificate(self):
        """The certificate of the verdict (two one-hidden-layer nets), else None."""
        from .certificate import realization_certificate

        if len(self.nets) != 2 or self.deep:
            return None
        kind = "same_realization" if self.same else "different_realization"
        return realization_certificate(kind, *self.nets, self.lo, self.hi, point=self.witness)

    def distance_certificate(self):
        """The ``realization_distance`` certificate (two one-hidden-layer nets, exact, d ≤ 2), else None."""
        from .certificate import realization_certificate

        if len(self.nets) != 2 or self.deep or self.distance is None:
            return None
        return realization_certificate("realization_distance", *self.nets, self.lo, self.hi, dist=self.distance)


def _optional(figures, key, call):
    """Run a figure of the fiber modules; a missing module or a refusal is recorded as a note."""
    try:
        figures[key] = call()
    except ImportError:
        figures[key] = {"note": "not available in this installation"}
    except NotImplementedError as err:
        figures[key] = {"note": str(err)}


def _jsonable(obj):
    from .net import fmt, ShallowNet

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (str, bool, int, float)) or obj is None:
        return obj
    if isinstance(obj, ShallowNet):
        return obj.to_params_json()
    try:
        return fmt(obj)
    except Exception:   # an object of the fiber modules without an exact form: its text
        return str(obj)


def realize(net_a, net_b=None, lo=-1, hi=1, fibers=True, max_vertices=None, fiber_width=FIBER_WIDTH):
    """Decide the realization questions for one or two networks on (lo, hi)^d.

    Parameters
    ----------
    net_a, net_b : ShallowNet or DeepNet
    lo, hi : exact numbers
    fibers : bool
        Also the figures of the fiber modules (pathologies, restricted set, fiber distance,
        inverse stability), one-hidden-layer nets only.
    fiber_width : int or None
        Compute the fiber distance only when both widths are at most this (None: always).
    max_vertices : int, optional
        Limit of the exact enumeration (see :func:`symkkt.realize.distance.distance`).

    Returns
    -------
    RealizeResult

    Examples
    --------
    >>> from symkkt.realize.net import ShallowNet
    >>> f = ShallowNet.of([[1]], [0], [1], 0)
    >>> realize(f, ShallowNet.of([[1]], ["-1/2"], [1], 0), fibers=False).to_json()["distance"]["sup"]
    '1/2'
    """
    from .canonical import canonical_form, same_realization
    from .distance import MAX_VERTICES, distance
    from .net import ShallowNet, unify
    from .regions import DeepNet, region_distance, region_same

    nets = [net_a] + ([net_b] if net_b is not None else [])
    nets, (lo, hi) = unify(nets, [lo, hi])
    from .canonical import check_box

    check_box(lo, hi)
    if len(nets) == 2 and nets[0].d != nets[1].d:
        from ..errors import ShapeError

        raise ShapeError(f"the networks have input dimensions {nets[0].d} and {nets[1].d}", CMD, "PARAMS2")
    shallow = all(isinstance(n, ShallowNet) for n in nets)
    forms = [canonical_form(n, lo, hi) if isinstance(n, ShallowNet) else None for n in nets]
    figures = {}
    if len(nets) == 1:
        if not shallow:
            from .regions import regions

            if nets[0].d <= 2:
                figures["regions"] = {"count": len(regions(nets[0], lo, hi))}
            return RealizeResult(nets, lo, hi, forms, figures=figures, deep=True)
        if fibers:
            _one_net_figures(figures, nets[0], lo, hi)
        return RealizeResult(nets, lo, hi, forms, figures=figures)
    if shallow:
        same, witness = same_realization(nets[0], nets[1], lo, hi)
        dist = distance(nets[0], nets[1], lo, hi, max_vertices=max_vertices or MAX_VERTICES)
        if fibers:
            _two_net_figures(figures, nets[0], nets[1], lo, hi, fiber_width)
    else:
        same, witness = region_same(nets[0], nets[1], lo, hi)
        dist = region_distance(nets[0], nets[1], lo, hi)
        figures["fibers"] = {"note": "fibers, pathologies and the restricted set are for one-hidden-layer nets"}
    del DeepNet
    return RealizeResult(nets, lo, hi, forms, same, witness, dist, figures, deep=not shallow)


def _one_net_figures(figures, net, lo, hi):
    def patho():
        from .pathologies import find_pathologies

        found = find_pathologies(net, lo, hi)
        return {"count": len(found), "found": _jsonable(found),
                "text": "; ".join(p.get("text", p.get("kind", "")) for p in found) or "none"}

    def restricted():
        from .restricted import in_restricted_set

        ok, why = in_restricted_set(net, lo, hi)
        return {"in_restricted_set": bool(ok), "reason": str(why), "text": f"{'yes' if ok else 'no'}: {why}"}

    _optional(figures, "pathologies", patho)
    _optional(figures, "restricted", restricted)


def _two_net_figures(figures, a, b, lo, hi, fiber_width=None):
    def fiber():
        from .fiber import fiber_distance

        out = _jsonable(fiber_distance(a, b, lo, hi))
        if out.get("exact"):
            text = f"{out.get('value')} (exact, {out.get('method', '')})"
        elif out.get("lower") is not None or out.get("upper") is not None:
            text = f"in [{out.get('lower')}, {out.get('upper')}] (bounds, {out.get('method', '')})"
        else:
            text = str(out.get("reason", "not decided"))
        out.setdefault("text", text)
        return out

    def stability():
        from .restricted import inverse_stability

        out = _jsonable(inverse_stability(a, b, lo, hi))
        if isinstance(out, dict) and "text" not in out and out.get("reason"):
            out["text"] = str(out["reason"])
        return out

    if fiber_width is not None and max(a.m, b.m) > fiber_width:
        figures["fiber_distance"] = {"note": f"skipped: widths {a.m} and {b.m} exceed {fiber_width} "
                                             "(--fibers computes it anyway)",
                                     "text": f"skipped for widths above {fiber_width} (--fibers forces it)"}
    else:
        _optional(figures, "fiber_distance", fiber)
    _optional(figures, "inverse_stability", stability)


# -- the command ------------------------------------------------------------------------------
def _domain(text):
    from ..errors import UsageError
    from ..numbers import parse_number

    parts = text.split(",")
    if len(parts) != 2:
        raise UsageError(f"expected LO,HI (two exact numbers), got {text!r}", CMD, "--domain")
    lo, hi = (parse_number(t.strip(), CMD, "--domain") for t in parts)
    if not lo < hi:
        from ..numbers import format_number

        raise UsageError(f"the box needs LO < HI, got LO = {format_number(lo)}, HI = {format_number(hi)}",
                         CMD, "--domain")
    return lo, hi


def _arch_for(params_path, arch, float_input):
    """The architecture of a second parameter file: ARCH's input and activations, the file's widths."""
    from ..errors import ShapeError
    from ..spec import _read, architecture_from_json, load_parameters

    raw = _read(params_path, (".yaml", ".yml", ".json"))
    ok = (isinstance(raw, list) and raw and all(isinstance(e, dict) and isinstance(e.get("weight"), list)
                                                 and e["weight"] and isinstance(e["weight"][0], list)
                                                 for e in raw))
    if not ok:
        load_parameters(params_path, arch, float_input)       # its own message
        return arch
    d2 = len(raw[0]["weight"][0])
    if len(arch.input) == 1 and d2 != arch.input[0]:
        raise ShapeError(f"PARAMS2 has input dimension {d2}, ARCH has {arch.input[0]}: both networks need "
                         "the same input dimension", str(params_path), "[0].weight")
    layers = []
    for k, e in enumerate(raw):
        last = k == len(raw) - 1
        body = {"width": len(e["weight"]), "bias": "bias" in e}
        if not last:
            body["activation"] = "relu"
        layers.append({"dense": body})
    return architecture_from_json({"input": [d2], "layers": layers}, str(params_path))


def _load(args):
    from ..errors import UsageError
    from ..spec import load_architecture, load_parameters
    from .regions import net_from_json

    n = len(args.files)
    if n not in (2, 3):
        raise UsageError(f"expected ARCH PARAMS [PARAMS2], got {n} file(s)", CMD, "files")
    arch = load_architecture(args.files[0])
    nets = [net_from_json(arch, load_parameters(args.files[1], arch, args.float_input), args.files[1])]
    if n == 3:
        arch2 = load_architecture(args.arch2) if args.arch2 else _arch_for(args.files[2], arch, args.float_input)
        nets.append(net_from_json(arch2, load_parameters(args.files[2], arch2, args.float_input), args.files[2]))
        if nets[0].d != nets[1].d:
            from ..errors import ShapeError

            raise ShapeError(f"PARAMS2 has input dimension {nets[1].d}, PARAMS has {nets[0].d}: both networks "
                             "need the same input dimension", args.files[2])
    return nets


def _family(args):
    from ..errors import UsageError

    if args.files:
        raise UsageError("--family takes no files", CMD, "--family")
    try:
        ks = [int(t) for t in args.k.split(",")]
    except ValueError:
        raise UsageError(f"expected integers K1,K2,..., got {args.k!r}", CMD, "--k") from None
    if not ks or any(k < 1 for k in ks):
        raise UsageError("each K must be a positive integer", CMD, "--k")
    from .families import family_table

    table = family_table(args.family, ks)
    if args.json:
        print(json.dumps({"verdict": "holds", "reason": f"table of the pathology family {args.family}",
                          "family": args.family, "k": ks, **_jsonable(table)}, ensure_ascii=False))
    else:
        print(table.get("text") or json.dumps(_jsonable(table), ensure_ascii=False))
    return 0


def run(args):
    """Run ``symkkt realize`` for parsed ``args``; the exit code."""
    from ..cli import OUT_SUFFIXES, check_files
    from ..errors import UsageError

    if args.family:
        return _family(args)
    outputs = [("--cert", args.cert), ("--cert-distance", args.cert_distance), ("--plot", args.plot),
               ("--out-params", args.out_params)]
    roles = ["ARCH", "PARAMS", "PARAMS2"]
    check_files([(f, roles[i] if i < 3 else "file") for i, f in enumerate(args.files)] + [(args.arch2, "--arch2")],
                outputs, {"--out-params": OUT_SUFFIXES["--out-params"]})
    if args.plot is not None:
        from .plot import check_plot_path

        check_plot_path(args.plot)
    lo, hi = _domain(args.domain)
    nets = _load(args)
    two = len(nets) == 2
    from .net import ShallowNet

    shallow = all(isinstance(n, ShallowNet) for n in nets)
    if args.cert and not (two and shallow):
        raise UsageError("--cert needs two one-hidden-layer networks (ARCH PARAMS PARAMS2)", CMD, "--cert")
    if args.cert_distance and not (two and shallow and nets[0].d <= 2):
        raise UsageError("--cert-distance needs two one-hidden-layer networks with d <= 2", CMD, "--cert-distance")
    if args.plot and nets[0].d > 2:
        raise UsageError(f"--plot draws d = 1 or d = 2, the networks have d = {nets[0].d}", CMD, "--plot")
    if args.out_params and not shallow:
        raise UsageError("--out-params is for one-hidden-layer networks", CMD, "--out-params")
    result = realize(*nets, lo=lo, hi=hi, max_vertices=args.max_vertices,
                     fiber_width=None if args.fibers else FIBER_WIDTH)
    obj = result.to_json()
    text = repr(result)
    files = {}
    if args.cert:
        files[args.cert] = result.certificate()
    if args.cert_distance:
        cert = result.distance_certificate()
        if cert is None:
            raise UsageError("no distance certificate: the distances are bounds, not exact values", CMD,
                             "--cert-distance")
        files[args.cert_distance] = cert
    if args.out_params:
        try:
            from .restricted import canonicalize
        except ImportError:
            raise UsageError("--out-params needs the restricted-set module, not available", CMD,
                             "--out-params") from None
        canon = canonicalize(result.nets[0], result.lo, result.hi)
        files[args.out_params] = canon.to_params_json()
        obj["out_params"] = args.out_params
        text += f"\n  canonical parameters written to {args.out_params} (width {canon.m})"
    for flag, path in (("certificate", args.cert), ("distance_certificate", args.cert_distance)):
        if path:
            obj[flag] = path
            text += f"\n  {flag.replace('_', ' ')}  {path}"
    from ..certificate import encode

    contents = {path: encode(content, path) for path, content in files.items()}
    if args.plot:
        from .plot import plot_realize

        contents[args.plot] = lambda tmp: plot_realize(result, tmp)
        obj["plot"] = args.plot
        text += f"\n  plot  {args.plot}"
    if contents:
        from ..output import write_outputs

        write_outputs(contents)     # all files or none
    print(json.dumps(obj, ensure_ascii=False) if args.json else text)
    return result.exit_code
