"""Train small bias-free leaky-ReLU nets with float64 numpy gradient descent on the exponential
loss, export them as ONNX, and ask ``symkkt certify --direction`` whether a true KKT direction lies
next to each trained direction.

    python examples/trained/train.py [OUTDIR]

OUTDIR defaults to this folder (the ONNX and data files here were written by this script). Three
runs, each an ONNX model and a data file:

- ``mlp``: input d = 2, one hidden layer of 8 leaky-ReLU units (slope 1/8), a linear output unit;
  n = 24 points;
- ``cnn``: a 1-D CNN: one input channel of length 6, a convolution with 2 channels and kernel 3
  (leaky ReLU 1/8), flatten, a dense output unit (14 parameters); n = 20 points;
- ``early``: the MLP of the first run stopped after 400 steps, just after the data are separated
  (the negative case).

Data are in general position: Gaussian coordinates rounded to multiples of 2^-10 (so the float64
data trained on and the exact data that symkkt reads are the same numbers); labels from a random
teacher network of the same kind.

Training: L(θ) = (1/n) Σ_k exp(−q_k(θ)) with q_k = y_k Φ(θ; x_k). The step is *normalized* gradient
descent, θ ← θ − η_t ∇L(θ)/L(θ) with η_t = 0.05/(1 + t/1000), 60000 steps: the step size is
proportional to 1/L(θ), the standard choice for homogeneous nets on separable data (plain GD with
a constant step makes the margin grow only logarithmically), and the decay of η_t lets the
direction settle instead of zig-zagging across the kinks it converges to. ∇L/L = −Σ_k softmax(−q)_k y_k ∇Φ_k is
computed without under- or overflow. Everything is plain float64 numpy.
"""
import json
import os
import subprocess
import sys

import numpy as np

SLOPE = 0.125
#: steps of the early-stopped run
EARLY = 400
HERE = os.path.dirname(os.path.abspath(__file__))


def act(z):
    return np.where(z >= 0, z, SLOPE * z)


def dact(z):
    return np.where(z >= 0, 1.0, SLOPE)


def _softmax(t):
    """exp(t_k) / Σ exp(t_j): with L = mean exp(-q), ∇L / L = Σ_k softmax(-q)_k ∇(-q_k)."""
    e = np.exp(t - t.max())
    return e / e.sum()


def gaussian(n, d, seed):
    """n points in R^d: standard normal coordinates rounded to multiples of 2^-10."""
    rng = np.random.default_rng(seed)
    return np.round(rng.standard_normal((n, d)) * 1024) / 1024


def mlp_out(W, v, X):
    return act(X @ W.T) @ v


def data(n, d, seed, width=4):
    """Points and ±1 labels of a random leaky-ReLU teacher (resampled until both labels occur)."""
    X = gaussian(n, d, seed)
    rng = np.random.default_rng(seed + 1000)
    while True:
        W, v = rng.standard_normal((width, d)), rng.standard_normal(width)
        y = np.where(mlp_out(W, v, X) >= 0, 1.0, -1.0)
        if 0.25 * n <= (y > 0).sum() <= 0.75 * n:
            return X, y


def rate(t, lr, tau):
    """The learning-rate schedule η_t = lr / (1 + t/τ)."""
    return lr / (1 + t / tau)


def train_mlp(X, y, width, steps, seed, lr=0.05, tau=1000, init=0.5):
    """Normalized GD: θ ← θ − η_t ∇L(θ)/L(θ) with η_t = :func:`rate`."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((width, X.shape[1])) * init
    v = rng.standard_normal(width) * init
    for t in range(steps):
        eta = rate(t, lr, tau)
        Z = X @ W.T                          # n × width
        out = act(Z) @ v
        r = -y * _softmax(-y * out)          # (dL/dout) / L
        gv = act(Z).T @ r
        gW = ((r[:, None] * dact(Z)) * v[None, :]).T @ X
        W -= eta * gW
        v -= eta * gv
    return W, v


def conv_forward(K, v, X):
    """X: n × T (one channel), K: C channels × 3 taps; returns patches P, Z (n × C × (T-2)), outputs."""
    T = X.shape[1]
    P = np.stack([X[:, i:i + 3] for i in range(T - 2)], axis=1)    # n × (T-2) × 3
    Z = np.einsum("npk,ck->ncp", P, K)
    out = act(Z).reshape(len(X), -1) @ v
    return P, Z, out


def train_cnn(X, y, channels, steps, seed, lr=0.05, tau=1000, init=0.5):
    """Normalized GD as :func:`train_mlp`."""
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((channels, 3)) * init
    v = rng.standard_normal(channels * (X.shape[1] - 2)) * init
    for t in range(steps):
        eta = rate(t, lr, tau)
        P, Z, out = conv_forward(K, v, X)
        r = -y * _softmax(-y * out)
        gv = act(Z).reshape(len(X), -1).T @ r
        G = (r[:, None] * v[None, :]).reshape(Z.shape) * dact(Z)    # n × c × p
        gK = np.einsum("ncp,npk->ck", G, P)
        K -= eta * gK
        v -= eta * gv
    return K, v


def cnn_data(n, T, channels, seed):
    X = gaussian(n, T, seed)
    rng = np.random.default_rng(seed + 1000)
    while True:
        K, v = rng.standard_normal((channels, 3)), rng.standard_normal(channels * (T - 2))
        y = np.where(conv_forward(K, v, X)[2] >= 0, 1.0, -1.0)
        if 0.25 * n <= (y > 0).sum() <= 0.75 * n:
            return X, y


def save_mlp(path, W, v):
    from onnx import helper
    nodes = [helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
             helper.make_node("LeakyRelu", ["h"], ["r"], alpha=SLOPE),
             helper.make_node("Gemm", ["r", "v"], ["y"], transB=1)]
    _save(path, nodes, {"W": W, "v": v[None, :]}, [1, W.shape[1]])


def save_cnn(path, K, v, T):
    from onnx import helper
    nodes = [helper.make_node("Conv", ["x", "K"], ["c"]),
             helper.make_node("LeakyRelu", ["c"], ["r"], alpha=SLOPE),
             helper.make_node("Flatten", ["r"], ["f"], axis=1),
             helper.make_node("Gemm", ["f", "v"], ["y"], transB=1)]
    _save(path, nodes, {"K": K[:, None, :], "v": v[None, :]}, [1, 1, T])


def _save(path, nodes, inits, shape):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    g = helper.make_graph(nodes, "net", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [1, 1])],
                          [numpy_helper.from_array(np.asarray(a, dtype=np.float64), name=k) for k, a in inits.items()])
    onnx.save(helper.make_model(g), path)


def save_data(path, X, y):
    """Coordinates as exact k/1024 strings (the float64 values exactly)."""
    pts = [{"x": [f"{int(round(v * 1024))}/1024" for v in x], "y": int(t)} for x, t in zip(X, y)]
    with open(path, "w") as f:
        json.dump({"points": pts}, f, indent=0)


def certify(model, data_file, *extra):
    cmd = [sys.executable, "-m", "symkkt", "certify", model, data_file, "--direction", *extra]
    return subprocess.run(cmd, capture_output=True, text=True)


#: the runs: name -> (model file, data file)
RUNS = {"mlp": ("mlp.onnx", "mlp_data.json"), "cnn": ("cnn.onnx", "cnn_data.json"),
        "early": ("early.onnx", "mlp_data.json")}


def build(outdir):
    """Train the three nets and write their ONNX and data files into ``outdir``."""
    os.makedirs(outdir, exist_ok=True)
    X, y = data(24, 2, 1)
    W, v = train_mlp(X, y, 8, 60000, 0)
    save_mlp(os.path.join(outdir, "mlp.onnx"), W, v)
    save_data(os.path.join(outdir, "mlp_data.json"), X, y)
    W, v = train_mlp(X, y, 8, EARLY, 0)
    save_mlp(os.path.join(outdir, "early.onnx"), W, v)
    Xc, yc = cnn_data(20, 6, 2, 4)
    K, vc = train_cnn(Xc, yc, 2, 60000, 2)
    save_cnn(os.path.join(outdir, "cnn.onnx"), K, vc, 6)
    save_data(os.path.join(outdir, "cnn_data.json"), Xc, yc)


def main(outdir):
    build(outdir)
    for name, (model, dfile) in RUNS.items():
        out = certify(os.path.join(outdir, model), os.path.join(outdir, dfile))
        print(f"$ symkkt certify {model} {dfile} --direction     (exit {out.returncode})")
        print(out.stdout.rstrip() or out.stderr.rstrip())
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else HERE))
