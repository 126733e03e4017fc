"""Embeddings of narrow networks into wide ones: split maps, their proofs, and KKT transfer.

- :mod:`.maps`: the maps T (neuron/channel splits of [A], one-step splits and null units of [B]);
- :mod:`.prove`: output and gradient preservation proved for all θ and x;
- :mod:`.check`: the ``embed`` decision (properties, witnesses, KKT transfer, criticality).
"""
from .maps import Embedding, Step, chain, load_splits, parse_step

__all__ = ["Embedding", "Step", "chain", "load_splits", "parse_step"]
