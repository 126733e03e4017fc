"""``certify``: from a trained point to a proved nearby KKT point (or an honest answer why not).

Steps: rigorous (ε, δ) figures of the point (:mod:`.approx`); guess of zero units, pattern and
active set, Newton with active-set rounds and high-precision refinement (:mod:`.snap`); the
Krawczyk box proof with its side conditions (:mod:`.krawczyk`); an optional exact snap decided by
the exact checker (:mod:`.recognize`); figures comparing the proved point with the trained one.

Examples
--------
>>> from symkkt.api import load_example
>>> import sympy
>>> problem, theta = load_example("example1")
>>> arch = problem.network.arch.to_json()
>>> data = problem.data.to_json()
>>> trained = [float(sympy.N(t, 20)) + 1e-9 for t in theta]
>>> r = certify(arch, data, trained)
>>> r.verdict, r.tier, r.proof["unknowns"]
('holds', 'exact', 8)
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..errors import NotHomogeneousError, ShapeError, UsageError, VERDICT_EXIT

CMD = "<command line>"
_SET_WORDS = {"gradient": "the gradient", "clarke": "the Clarke subdifferential",
              "chain_rule_hull": "the chain-rule hull (a superset of the Clarke subdifferential)"}


@dataclass
class CertifyResult:
    """What ``certify`` found: ``verdict`` holds / refuted / inconclusive, ``reason``, ``tier``
    (``exact``, ``rigorous enclosure``, or ``float`` when nothing was proved), the (ε, δ) figures
    ``approx``, the guessed ``pattern``, the ``snap`` log, the ``proof`` figures and the
    certificate (``kkt_point`` for an exact snap, else ``kkt_point_nearby``)."""

    verdict: str
    reason: str
    direction: bool
    tier: str = "float"
    approx: dict = field(default_factory=dict)
    pattern: dict = field(default_factory=dict)
    snap: dict = field(default_factory=dict)
    proof: dict = field(default_factory=dict)
    tried: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    _certificate: dict | None = None

    @property
    def exit_code(self):
        return VERDICT_EXIT[self.verdict]

    def certificate(self):
        """The certificate dict of a proved point (``None`` otherwise)."""
        return self._certificate

    def to_json(self):
        out = {"verdict": self.verdict, "reason": self.reason,
               "claim": "kkt_direction_nearby" if self.direction else "kkt_point_nearby",
               "tier": self.tier, "approximate_kkt": self.approx, "pattern": self.pattern,
               "snap": self.snap, "proof": self.proof, "tried": self.tried,
               "timings": {k: round(v, 4) for k, v in self.timings.items()}}
        if self._certificate is not None:
            out["certificate_kind"] = self._certificate["claim"]["kind"]
        return out

    def __repr__(self):
        what = "KKT direction" if self.direction else "KKT point"
        lines = [f"CertifyResult({what} nearby: {self.verdict} — {self.reason})"]
        a = self.approx
        if a.get("epsilon") is not None:
            lines.append(f"  (eps, delta)  eps <= {a['epsilon']:.3e}, delta <= {a['delta']:.3e} "
                         f"(rigorous upper bounds for NNLS multipliers; min margin {a['min_margin']:.6g})")
        elif a:
            lines.append(f"  (eps, delta)  not available: {a.get('reason')}")
        p = self.pattern
        if p:
            kinks = p.get("stated_kinks", p.get("kinks", []))
            names = [f"{kk['unit']}@{kk['point']}" for kk in kinks]
            lines.append(f"  pattern      active set {p.get('active')}, zero units {p.get('zero_units')}, "
                         f"{'stated kinks' if 'stated_kinks' in p else 'kinks (guess)'} "
                         f"{names[:6]}{' ...' if len(names) > 6 else ''}, near kinks on inactive points "
                         f"{len(p.get('near_kinks_inactive', []))}")
        if self.snap:
            lines.append(f"  snap         {self.snap.get('reason')}")
        pr = self.proof
        if "distance" in pr:
            lines.append(f"  distance     |theta_trained - theta*| in {pr['distance']} (point form)")
        if "angle_degrees" in pr:
            lines.append(f"  angle        {pr['angle_degrees'][0]:.6g} .. {pr['angle_degrees'][1]:.6g} degrees "
                         "between the trained direction and theta*")
        if "normalized_margin" in pr:
            lines.append(f"  norm. margin KKT point {pr['normalized_margin']}, trained {pr['trained_normalized_margin']}")
        if "unknowns" in pr:
            lines.append(f"  box          {pr['unknowns']} unknowns, radii 2^-{pr['radius_exponent']}·max(1, |x_i|); "
                         f"KKT for {_SET_WORDS.get(pr.get('clarke_set'), '?')}")
        for t in self.tried:
            lines.append(f"  tried        {t}")
        lines.append(f"  tier         {self.tier}")
        return "\n".join(lines)


def _fraction(v, file, place):
    import sympy

    from ..field import as_sympy

    v = as_sympy(v)
    if not v.is_Rational:
        raise UsageError("certify needs rational numbers (trained floats are rational)", file, place)
    return Fraction(int(v.p), int(v.q))


def load_inputs(arch_path, data_path, params_path=None):
    """(architecture dict, data dict, Dataset, θ as Fractions) from files; ARCH may be a model file."""
    from ..spec import load_architecture, load_data, load_parameters, require_binary_labels
    from ..trained import is_model_file, load_model

    if is_model_file(arch_path):
        if params_path is not None and not is_model_file(params_path):
            raise UsageError("a model file carries its parameters: give MODEL DATA", CMD)
        model = load_model(arch_path)
        arch, params = model.architecture, model.parameters
    elif params_path is not None and is_model_file(params_path):
        model = load_model(params_path, arch_path)
        arch, params = model.architecture, model.parameters
    else:
        if params_path is None:
            raise UsageError("give ARCH DATA PARAMS (or MODEL DATA)", CMD)
        arch = load_architecture(arch_path)
        params = load_parameters(params_path, arch)
    data = load_data(data_path, arch)
    require_binary_labels(data)
    from ..network import Network

    theta = Network(arch).flatten(params)
    theta = [_fraction(t, str(params_path or arch_path), f"parameter {i}") for i, t in enumerate(theta)]
    return arch, data, theta


def certify(arch, data, theta, direction=False, tolerance=Fraction(1, 100), zero_tolerance=Fraction(1, 100),
            prec=160, exact=True, refute=True, merging=True):
    """Certify a nearby KKT point (or direction) of a trained θ.

    Parameters
    ----------
    arch : dict or Architecture
    data : dict or Dataset
    theta : list of numbers (floats or Fractions: the exact trained values)
    direction : bool
        Treat θ as a direction: the KKT point sought is near θ / q_min^(1/L).
    tolerance : Fraction
        T > 0: points with q_k ≤ 1 + T (after scaling to q_min = 1 in direction form) form the
        active set; a pre-activation with |z_{u,k}| ≤ T·‖w_u‖·‖a_in,k‖ (|cosine| between the
        unit's incoming weights and its input ≤ T) is a kink.
    zero_tolerance : Fraction
        Z > 0: a hidden unit whose incoming and outgoing weights have norm ≤ Z times the largest
        such norm in its layer is a zero unit.
    prec : int
        Bits of the ball arithmetic.
    exact : bool
        Also try the exact snap (small nets).
    merging : bool
        Merge groups of parallel units of dense hidden layers and lift (see :mod:`.merge`).
    refute : bool
        When no KKT point is proved, try to prove that none lies in a box around the trained point.

    Returns
    -------
    CertifyResult
    """
    from ..spec import Architecture, Dataset, architecture_from_json, data_from_json
    from . import approx, krawczyk, merge, recognize, snap
    from .core import FLOAT, PatternNet

    t0 = time.perf_counter()
    arch_obj = arch if isinstance(arch, Architecture) else architecture_from_json(arch)
    data_obj = data if isinstance(data, Dataset) else data_from_json(data, arch=arch_obj)
    if not tolerance > 0:
        raise UsageError(f"the tolerance must be > 0, got {tolerance}", CMD, "--tolerance")
    if not zero_tolerance > 0:
        raise UsageError(f"the zero-unit tolerance must be > 0, got {zero_tolerance}", CMD, "--zero-tolerance")
    if direction:
        from ..network import Network

        h = Network(arch_obj).homogeneity()
        if h.degree is None:
            raise NotHomogeneousError(f"--direction needs a homogeneous network: {h.reason}")
    arch_json, data_json = arch_obj.to_json(), data_obj.to_json()
    net = PatternNet(arch_json)
    theta = [Fraction(t) if not isinstance(t, Fraction) else t for t in theta]
    if len(theta) != net.m:
        raise ShapeError(f"{len(theta)} parameters for a network with {net.m}", CMD)
    X = np.array([[_fraction(v, "<data>", f"points[{k}].x") for v in x] for k, x in enumerate(data_obj.X)],
                 dtype=object).T
    y = np.array([int(v) for v in data_obj.y])
    res = CertifyResult("inconclusive", "", direction)
    res.approx = approx.figures(net, theta, X, y, direction, prec=min(prec, 128))
    res.timings["approx"] = time.perf_counter() - t0
    thf = np.array([float(t) for t in theta])
    if direction:
        _, A = net.forward(FLOAT, thf, X.astype(float), None)
        if np.min(A[-1][0] * y) <= 0:
            res.reason = "the smallest margin is not positive: θ is not a direction with positive margins"
            return _done(res, t0)
    g = snap.guess(net, thf, X, y, float(tolerance), direction, float(zero_tolerance))
    onet, lift, g_orig = net, None, g
    groups = merge.find_groups(net, arch_json, g.theta, float(tolerance), set(g.zero_units)) if merging else []
    if groups:
        march, keep = merge.merged_architecture(arch_json, net, groups)
        net = PatternNet(march)
        wmap = merge.weight_map(onet, net, groups, keep)
        g = snap.guess(net, merge.merge_theta(wmap, g.theta, net.m), X, y, float(tolerance), direction,
                       float(zero_tolerance))
        lift = SimpleNamespace(net=onet, groups=groups, keep=keep, wmap=wmap)
        res.tried.append("merged parallel units: " + "; ".join(
            f"layer {gr.layer} units {gr.units} (scales {', '.join(str(t) for t in gr.scales)})" for gr in groups))
    def orig(name):         # a unit name of the merged net in the original numbering
        if lift is None:
            return name
        L, u = map(int, name.split(":"))
        return f"{L}:{lift.keep[L][u]}" if L in lift.keep else name

    res.pattern = {"active": g.active, "zero_units": [orig(u) for u in g.zero_units],
                   "kinks": [{"point": k, "unit": orig(u), "cosine": z} for k, u, z in g.kinks],
                   "near_kinks_inactive": [{"point": k, "unit": orig(u), "cosine": z} for k, u, z in g.near],
                   "tolerance": str(tolerance), "zero_tolerance": str(zero_tolerance)}
    candidates = [g.active]
    for extra in snap.support_guesses(net, g, X, y, float(tolerance)):
        if extra not in candidates:
            candidates.append(extra)
    box, system, why = None, None, ""
    res.snap = {"attempts": []}
    for n_try, active in enumerate(candidates):
        gc = g if n_try == 0 else snap.with_active(net, g, X, active, float(tolerance))
        s = snap.solve(net, X, y, gc, float(tolerance))
        att = {"initial_active": active, "reason": s.reason, "newton_iterations": s.iterations, "rounds": s.rounds,
               "log": s.log}
        res.snap["attempts"].append(att)
        res.snap["reason"] = s.reason
        label = "margins within the tolerance" if n_try == 0 else "from the NNLS support"
        if not s.ok:
            why = f"Newton on the KKT system of the guessed pattern (active set {label}): {s.reason}"
            res.tried.append(why)
            continue
        system = s.system
        centre, norm = snap.refine(system, s.u, prec=prec)
        att["refined_residual"] = norm
        box, kwhy = krawczyk.prove(system, centre, X, y, prec=prec)
        why = f"Krawczyk box proof (active set {label}, {system.active}): {kwhy}"
        res.tried.append(why)
        if box is not None:
            g = gc
            break
    res.timings["krawczyk"] = time.perf_counter() - t0
    if box is None:
        res.reason = (f"no KKT point of the guessed pattern proved: {why}" if system is not None else
                      f"no KKT point of the guessed pattern found: {why}")
        if refute:
            _refute(res, onet, g_orig, X, y, tolerance, direction)
        return _done(res, t0)
    res.pattern["active"] = system.active
    res.pattern["stated_kinks"] = [{"point": k, "unit": orig(f"{net.layers[li].index}:{u}")} for k, li, u in system.kinks]
    from .certificate import nearby_certificate

    cset, why_set = krawczyk.clarke_set(system, X)
    res.verdict, res.tier = "holds", "rigorous enclosure"
    res.reason = (f"a KKT {'direction' if direction else 'point'} is proved to exist in a box of radius "
                  f"<= 2^-{box.exponent}·max(1, |x_i|) around the snapped point (Krawczyk test)")
    if system.ng:
        res.reason += (f"; {system.ng} stated kink(s), KKT with respect to {_SET_WORDS[cset]}, slopes "
                       f"{'strictly inside' if box.interior else 'in (possibly at an end of)'} their intervals")
    res.proof = _figures(system, box, theta, X, y, direction, prec, lift)
    res.proof["clarke_set"] = cset
    res.proof["clarke_set_reason"] = why_set
    res.proof["slopes_interior"] = box.interior
    if system.ng:
        res.proof["slopes"] = [float(v) for v in box.centre[system.nt + system.na:]]
    res._certificate = nearby_certificate(system, box, arch_json, data_json, g.zero_units, cset, lift)
    if groups:
        res.reason += f"; lifted from the net with {len(groups)} group(s) of parallel units merged"
    if exact and not groups:
        th_c = [Fraction(0)] * net.m
        for i, j in enumerate(system.free):
            th_c[int(j)] = centre[i]
        kkt, why = recognize.exact_snap(arch_obj, data_obj, th_c)
        res.tried.append(f"exact snap: {why}")
        if kkt is not None:
            res.tier = "exact"
            res.reason = (f"a KKT {'direction' if direction else 'point'} with exact algebraic coordinates lies "
                          "next to the trained point (decided by the exact checker)")
            from ..numbers import format_number

            res.proof["exact_theta"] = [format_number(v) for v in kkt.theta]
            res.proof["exact_multipliers"] = kkt.to_json()["multipliers"]
            res._certificate = kkt.certificate()
    res.timings["exact"] = time.perf_counter() - t0
    return _done(res, t0)


def _refute(res, net, g, X, y, tolerance, direction):
    """Try to prove that no KKT point lies in a box around the (scaled) trained point."""
    from . import refute

    centre = [Fraction(float(t)) for t in g.theta]
    for rho in (tolerance, tolerance / 10, tolerance / 100):
        ok, why, fig = refute.refute_box(net, centre, X, y, rho)
        res.tried.append(f"refutation on the box theta~ ± {rho}·max(1, |theta~|_inf): {why}")
        if ok:
            what = "theta / q_min^(1/L) (rounded)" if direction else "theta"
            res.verdict, res.tier = "refuted", "rigorous enclosure"
            res.reason = (f"no KKT point (Clarke subdifferential, any activation pattern and active set) lies in the box "
                          f"{what} ± {float(fig['radius']):.3g} in every coordinate: {why}")
            res.proof = {"refuted_box_radius": fig["radius"], "refuted_box_relative": str(rho), **fig}
            return


def _done(res, t0):
    res.timings["total"] = time.perf_counter() - t0
    return res


def _figures(system, box, theta, X, y, direction, prec, lift=None):
    """Distance (point form), angle (direction form) and normalized margins, in balls over the box
    (with ``lift``: of the lifted box in the original net's coordinates)."""
    from flint import arb, ctx

    from .core import ball
    from .krawczyk import _ball

    be = ball(prec)
    old = ctx.prec
    ctx.prec = prec
    try:
        net = system.net
        U = np.array([_ball(c, r) for c, r in zip(box.centre, box.radius)], dtype=object)
        star = system.theta(be, U)
        if lift is not None:
            net = lift.net
            star = np.array([be.const(f) * star[j] for j, f in lift.wmap], dtype=object)
        th = be.array(theta)
        L = net.degree
        Xb = be.array(X)
        from .approx import _float_signs

        _, A = net.forward(be, th, Xb, net.slopes(be, _float_signs(net, th, Xb)))
        q = A[-1][0] * y
        qmin = min(q, key=lambda v: float(v.mid()))
        norm_t = sum((v * v for v in th), arb(0)).sqrt()
        out = {"unknowns": system.N, "radius_exponent": box.exponent,
               "radius_max": float(max(box.radius)), "active": list(system.active)}
        scaled = th
        if direction and qmin > 0:
            scaled = th / qmin ** (arb(1) / L)
        out["distance"] = _sqrt_bounds(sum(((a - b) * (a - b) for a, b in zip(scaled, star)), arb(0)))
        norm_s = sum((v * v for v in star), arb(0)).sqrt()
        cos = sum((a * b for a, b in zip(th, star)), arb(0)) / (norm_t * norm_s)
        lo, hi = cos.lower(), cos.upper()
        hi = arb(1) if hi > 1 else hi
        ang = [float(hi.acos().lower()), float(lo.acos().upper()) if lo > -1 else float(arb.pi())]
        out["angle_radians"] = ang
        out["angle_degrees"] = [a * 180 / np.pi for a in ang]
        if L:
            g_star = 1 / norm_s ** L
            g_t = qmin / norm_t ** L
            out["normalized_margin"] = f"[{float(g_star.lower()):.10g}, {float(g_star.upper()):.10g}]"
            out["trained_normalized_margin"] = f"[{float(g_t.lower()):.10g}, {float(g_t.upper()):.10g}]"
        return out
    finally:
        ctx.prec = old


def _sqrt_bounds(s):
    """[lower, upper] bounds of sqrt(s) for a ball s that encloses a non-negative number."""
    from flint import arb

    lo = s.lower()
    return [float(lo.sqrt().lower()) if lo > 0 else 0.0, float(s.upper().sqrt().upper())]
