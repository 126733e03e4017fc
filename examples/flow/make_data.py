"""Regenerate the data sets of examples/flow (deterministic; values rounded to exact 3-decimal numbers).

- ``nonsep2d/data.csv``: 100 points in two overlapping Gaussian blobs centred at (1, -1) (label +1)
  and (-1, 1) (label -1), std 1.2: not linearly separable (nor by the 2-2-1 net), the
  non-separable 2-D experiment of [A];
- ``cnn1d/data.csv``: 40 signals of length 8 (one channel), label +1 when the bump sits in the first
  half, -1 otherwise, plus noise: the small CNN experiment.

Run: ``python examples/flow/make_data.py`` (toy2d is fixed data, not regenerated).
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def blobs(rng, n, centre, std, label):
    return [(round(rng.gauss(centre[0], std), 3), round(rng.gauss(centre[1], std), 3), label) for _ in range(n)]


def write(path, header, rows):
    with open(path, "w") as fh:
        fh.write(",".join(header) + "\n")
        for r in rows:
            fh.write(",".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in r) + "\n")


def main():
    rng = random.Random(2505)
    rows = blobs(rng, 50, (1, -1), 1.2, 1) + blobs(rng, 50, (-1, 1), 1.2, -1)
    write(os.path.join(HERE, "nonsep2d", "data.csv"), ["x1", "x2", "y"], rows)
    rows = []
    for k in range(40):
        label = 1 if k % 2 == 0 else -1
        centre = rng.randint(1, 2) if label == 1 else rng.randint(5, 6)
        sig = [round(rng.gauss(0, 0.3) + (1.0 if abs(i - centre) <= 1 else 0.0), 3) for i in range(8)]
        rows.append(tuple(sig) + (label,))
    write(os.path.join(HERE, "cnn1d", "data.csv"), [f"x{i + 1}" for i in range(8)] + ["y"], rows)


if __name__ == "__main__":
    main()
