"""Mini-batches for SGD runs: the same index sets for both nets, or independent ones.

Each epoch is a random permutation of the n data points (``random.Random(seed)``, so runs are
reproducible across machines and Python versions), cut into consecutive batches of B points;
the last batch of an epoch may be smaller. ``--same-batches`` gives the narrow and the wide net
the same index sets at every step (η_k = Tθ_k is kept); ``--different-batches`` draws the wide
net's batches from the stream of seed S + 1, which breaks the equivariance as soon as B < n
(the negative control of [A]'s SGD experiment). With B = n every batch is the whole data set
and the two choices coincide.

Examples
--------
>>> s = BatchSampler(5, 2, seed=0)
>>> [b.tolist() for b in (s.next(), s.next(), s.next(), s.next())]
[[2, 1], [0, 4], [3], [0, 2]]
>>> BatchSampler(5, None).next() is None
True
"""

from __future__ import annotations

import random

import numpy as np

__all__ = ["BatchSampler"]


class BatchSampler:
    """Batches of ``batch`` indices out of ``n`` (``batch=None`` or ``>= n``: full batch, ``None``)."""

    def __init__(self, n, batch=None, seed=0):
        self.n = int(n)
        self.batch = None if batch is None or int(batch) >= self.n else int(batch)
        self.seed = seed
        self._rng = random.Random(seed)
        self._queue = []

    @property
    def full(self):
        return self.batch is None

    def next(self):
        """The next batch as an int array (``None`` for the full data set)."""
        if self.full:
            return None
        if not self._queue:
            perm = list(range(self.n))
            self._rng.shuffle(perm)
            self._queue = [perm[i:i + self.batch] for i in range(0, self.n, self.batch)][::-1]
        return np.array(self._queue.pop(), dtype=np.int64)

    def __repr__(self):
        return f"BatchSampler(n={self.n}, batch={self.batch}, seed={self.seed})"
