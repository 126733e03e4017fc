"""``symkkt import``: read a trained model exactly and write it as ARCH and PARAMS files.

This module is imported while the parser is built: nothing heavy at module level.
"""

from __future__ import annotations

from ..cli import ARCH_HELP, OUT_SUFFIXES, _emit, add_common_arguments, check_files, subcommand


def add_parser(sub):
    """Add the ``import`` subcommand."""
    p = subcommand(sub, "import", "read an ONNX model or a state dict exactly; write ARCH and PARAMS files",
                   "Read MODEL (ONNX: Gemm/MatMul, Conv 1-D/2-D without padding, Relu, LeakyRelu, AveragePool, "
                   "Flatten and their biases; or a .safetensors/.npz state dict with PyTorch-style names "
                   "0.weight, 0.bias, ... together with --arch) and write its architecture and parameters. "
                   "Every float becomes its exact binary value (nothing is rounded). A model file can also "
                   "stand in the place of ARCH and PARAMS in the other commands.",
                   "symkkt import net.onnx --arch-out arch.yaml --params-out params.yaml")
    p.add_argument("model", metavar="MODEL", help="model file: .onnx, or .safetensors / .npz with --arch")
    p.add_argument("--arch", metavar="ARCH", help="the architecture of a state dict: " + ARCH_HELP)
    p.add_argument("--arch-out", metavar="FILE", help="write the architecture (YAML or JSON)")
    p.add_argument("--params-out", metavar="FILE", help="write the exact parameters (YAML or JSON)")
    add_common_arguments(p, float_input=False)
    p.set_defaults(run=run)
    return p


def run(args):
    """Import the model; exit 0 when it was read (2 on bad input)."""
    from ..certificate import write_files
    from .model import load_model

    outputs = [("--arch-out", args.arch_out), ("--params-out", args.params_out)]
    check_files([(args.model, "MODEL"), (args.arch, "ARCH")], outputs,
                {"--arch-out": OUT_SUFFIXES["--out-arch"], "--params-out": OUT_SUFFIXES["--out-params"]})
    model = load_model(args.model, args.arch)
    arch_obj, params_obj = model.files()
    files = {path: obj for path, obj in ((args.arch_out, arch_obj), (args.params_out, params_obj)) if path}
    if files:
        write_files(files)
    arch = model.architecture
    count = sum(len(_flat(entry.get("weight"))) + len(_flat(entry.get("bias"))) for entry in params_obj)
    obj = {"verdict": "holds", "reason": f"read exactly: {count} parameters as exact binary rationals",
           "model": args.model, "architecture": arch_obj, "parameters": count,
           "written": {k: v for k, v in (("architecture", args.arch_out), ("parameters", args.params_out)) if v}}
    lines = [f"{model.source}: input {list(arch.input)}, {count} parameters, read exactly (floats as their "
             "exact binary values)"]
    for layer in arch_obj["layers"]:
        lines.append(f"  {layer if isinstance(layer, str) else _layer_text(layer)}")
    for what, path in obj["written"].items():
        lines.append(f"{what} written to {path}")
    if not files:
        lines.append("(write the files with --arch-out FILE --params-out FILE)")
    _emit(args, obj, "\n".join(lines))
    return 0


def _layer_text(layer):
    (kind, body), = layer.items()
    return f"{kind}: " + ", ".join(f"{k} {v}" for k, v in body.items())


def _flat(v):
    if v is None:
        return []
    if isinstance(v, list):
        return [x for item in v for x in _flat(item)]
    return [v]
