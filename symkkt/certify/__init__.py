"""Certify trained networks: a true KKT point (direction) proved to exist next to a float θ.

- :mod:`.approx`: rigorous (ε, δ)-KKT bounds of the trained point itself (Lyu–Li);
- :mod:`.snap`: the guessed activation pattern, active set, zero units and stated kinks, and
  Newton on the square KKT system at high precision;
- :mod:`.krawczyk`, :mod:`.core`: the Krawczyk box proof in ball arithmetic with every side
  condition checked on the box; :mod:`.refute`: boxes that hold no KKT point;
- :mod:`.merge`: groups of parallel units merged, and the proved point lifted back exactly;
- :mod:`.recognize`: exact snapping to algebraic numbers, decided by the exact KKT checker;
- :mod:`.run`: :func:`certify` and :class:`CertifyResult`; :mod:`.certificate`: the
  ``kkt_point_nearby`` certificate, re-checked by :mod:`symkkt.kernel.nearby`; :mod:`.cli`:
  ``symkkt certify``.

Importing this package is cheap; the names below load :mod:`.run` on first use.
"""

__all__ = ["CertifyResult", "certify", "load_inputs"]


def __getattr__(name):
    if name in __all__:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
