"""Train a narrow net and its split side by side and decide whether η_k = Tθ_k along the run.

[A, Thm 5.2] (docs/mathematics.md §7): gradient flow started at η(0) = Tθ(0) stays at η(t) = Tθ(t),
because ∇L̃(Tθ) = T∇L(θ). Every linear-equivariant discrete optimizer inherits this step by
step. :meth:`FlowProblem.run` trains θ (narrow net, from θ_0) and η (wide net, from η_0 = Tθ_0)
with the same optimizer, loss and batches, each through its own network, and measures
‖η_k − Tθ_k‖ after every step in the chosen arithmetic tier.

Verdict (the tier is always reported, see :mod:`symkkt.flow.arith`):

- ``exact``: holds iff η_k − Tθ_k is exactly 0 for k = 0..N — a proof for this instance and
  horizon; refuted with the first step where it is not.
- ``balls``: the balls enclose the iterates of the same iteration in exact real arithmetic
  (exact exp/log, the stated Clarke element at exact kinks). Refuted when some coordinate of
  η_k − Tθ_k is certified non-zero (then the exact iterates differ); holds when every step is
  certified ‖η_k − Tθ_k‖ ≤ B_k with B_k ≤ tol_k — what is proved is the bound, not that the
  deviation is 0; inconclusive when a bound exceeds the tolerance or a pre-activation's ball
  contains 0 and is not a proved kink (a sign at a kink is not guessed).
- ``precision`` / ``float``: holds iff ‖η_k − Tθ_k‖ ≤ tol_k = 10^(−DIGITS/2)·max(1, ‖θ_k‖)
  (float: 10^-8·max(1, ‖θ_k‖)) for every k; observed, not proved. Refuted means the deviation
  exceeds the tolerance while both nets make the same Clarke selection at kinks.

Kinks (:mod:`symkkt.flow.kinks`): both nets use the lower end of the Clarke interval where a
pre-activation is exactly 0, and split children inherit their parent's element. The non-exact
tiers decide the signs at the start exactly (θ_0 and Tθ_0 are exact numbers), keep a first-layer
kink of a unit whose incoming gradients stay exactly 0, and otherwise use the certified sign
(balls) or one decision per split group with a rounding threshold (precision, float);
``diagnostics.kinks`` counts the decisions.

Examples
--------
>>> import sympy
>>> from symkkt.api import load_example
>>> from symkkt.embed import chain, parse_step
>>> problem, _ = load_example("example1")
>>> flow = FlowProblem(problem.network, problem.data, chain(problem.network, [parse_step("1:0:3/5,4/5")]))
>>> theta0 = [sympy.Rational(v) for v in ("1/2", "1/10", "-1/5", "2/5", "3/10", "-3/10")]
>>> r = flow.run(theta0, loss="squared_hinge", lr="1/10", steps=3, tier="exact")
>>> r.verdict, r.max_deviation, r.tier
('holds', '0', 'exact')
>>> r2 = flow.run(theta0, loss="exp", lr="1/10", steps=20, tier="precision", digits=40)
>>> r2.verdict, r2.max_deviation_float < 1e-38
('holds', True)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..errors import NotHomogeneousError, UsageError, VERDICT_EXIT
from ..numbers import exact_sign, format_number, parse_number
from ..spec import require_binary_labels
from .arith import Undecided, format_arb, format_upper, make_arithmetic
from .batches import BatchSampler
from .engines import make_engine
from .kinks import RULE_TEXT, KinkRule, exact_start_signs
from .losses import LOSSES
from .measure import Meter
from .optimizers import Optimizer, parse_optimizer

__all__ = ["FlowSettings", "FlowProblem", "FlowResult", "load_flow"]

_CMD = "<command line>"

#: how many points a default recording keeps (record_every = ceil(steps / RECORDS))
RECORDS = 100

THEOREM = ("[A] Thm 5.2: gradient flow from eta(0) = T theta(0) stays at eta(t) = T theta(t); "
           "linear-equivariant discrete optimizers keep eta_k = T theta_k (docs/mathematics.md section 7)")


@dataclass
class FlowSettings:
    """What to run. Numbers may be exact strings (``"1/10"``) or sympy numbers.

    Attributes
    ----------
    loss : {"exp", "logistic", "squared_hinge"}
    lr : number
        Learning rate (GD family) or time step (``rk4``); must be > 0.
    steps : int
        Number of optimizer steps N ≥ 1.
    tier : {"exact", "precision", "balls", "float"}
    digits : int
        Decimal digits for ``precision`` and ``balls``.
    optimizer : str or Optimizer
        ``gd``, ``sgd`` (gd on mini-batches: needs ``batch``), ``momentum:β``, ``weight_decay:κ``,
        ``adam[:β1,β2,ε]`` or ``rk4``.
    batch : int or None
        Mini-batch size (None: full batch).
    seed : int
    same_batches : bool
        Both nets get the same batches (True) or independent ones (False: seed + 1 for the wide net).
    reduction : {"mean", "sum"}
    record_every : int or None
        Keep every K-th step in the series (default: about 100 points).
    engine : {"auto", "dense", "generic"}
    backend : {"arb", "mpmath"}
        Scalars of the precision tier.
    kkt_check : bool
        Also run the exact KKT checker on the (rounded) final direction.
    max_bits : int
        Exact tier: stop (inconclusive) once a numerator or denominator of θ_k or η_k exceeds this
        many bits (default 3000000). Each GD step roughly triples the size (θ_{k+1} is a cubic
        polynomial in θ_k for a two-layer net and the squared hinge), so the budget is a handful of
        steps: example1 takes 0.1 s for 8 steps, 3 s for 10 and about a minute for 12, whose numbers
        reach 2,385,158 bits (within the default); step 13 would reach 7.2 million bits, so a
        longer run stops there, inconclusive.
    """

    loss: str = "exp"
    lr: object = "1/10"
    steps: int = 100
    tier: str = "precision"
    digits: int = 50
    optimizer: object = "gd"
    batch: int | None = None
    seed: int = 0
    same_batches: bool = True
    reduction: str = "mean"
    record_every: int | None = None
    engine: str = "auto"
    backend: str = "arb"
    kkt_check: bool = False
    max_bits: int = 3_000_000

    def validated(self):
        """A copy with parsed numbers and optimizer; :class:`UsageError` on bad values."""
        s = FlowSettings(**{k: getattr(self, k) for k in self.__dataclass_fields__})
        if s.loss not in LOSSES:
            raise UsageError(f"unknown loss {s.loss!r}; choose {', '.join(LOSSES)}", _CMD, "--loss")
        if s.tier not in ("exact", "precision", "balls", "float"):
            raise UsageError(f"unknown tier {s.tier!r}", _CMD, "--tier")
        lr = s.lr if isinstance(s.lr, sympy.Basic) else parse_number(str(s.lr), _CMD, "--lr")
        if exact_sign(lr) <= 0:
            raise UsageError(f"learning rate must be positive, got {format_number(lr)}", _CMD, "--lr")
        s.lr = lr
        if not isinstance(s.steps, int) or isinstance(s.steps, bool) or s.steps <= 0:
            raise UsageError(f"must be a positive integer, got {s.steps}", _CMD, "--steps")
        if s.tier in ("precision", "balls"):
            if not isinstance(s.digits, int) or s.digits < 5:
                raise UsageError(f"DIGITS must be an integer >= 5, got {s.digits}", _CMD,
                                 "--precision" if s.tier == "precision" else "--balls")
        opt = s.optimizer if isinstance(s.optimizer, Optimizer) else parse_optimizer(str(s.optimizer))
        s.optimizer = opt
        loss = LOSSES[s.loss]
        if not loss.allowed(s.tier):
            raise UsageError(f"the {s.loss} loss ({loss.formula}) is transcendental; --exact needs a "
                             "rational loss: --loss squared_hinge", _CMD, f"--loss {s.loss}")
        if opt.needs_sqrt and s.tier == "exact":
            raise UsageError(f"{opt.label} needs square roots, which --exact does not do; use "
                             "--precision, --balls or --float", _CMD, f"--optimizer {opt.label}")
        if opt.needs_batch and s.batch is None:
            raise UsageError("sgd is gd on mini-batches: give --batch B (or use --optimizer gd for full-batch "
                             "gradient descent)", _CMD, f"--optimizer {opt.label}")
        if s.batch is not None:
            if not isinstance(s.batch, int) or s.batch <= 0:
                raise UsageError(f"must be a positive integer, got {s.batch}", _CMD, "--batch")
            if opt.full_batch_only:
                raise UsageError("rk4 integrates the full-batch gradient flow; drop --batch", _CMD,
                                 f"--optimizer {opt.label}")
        if s.record_every is not None and (not isinstance(s.record_every, int) or s.record_every <= 0):
            raise UsageError(f"must be a positive integer, got {s.record_every}", _CMD, "--record-every")
        if not isinstance(s.max_bits, int) or s.max_bits <= 0:
            raise UsageError(f"must be a positive integer, got {s.max_bits}", _CMD, "--max-bits")
        if s.reduction not in ("mean", "sum"):
            raise UsageError(f"choose mean or sum, got {s.reduction!r}", _CMD, "--reduction")
        return s


class FlowProblem:
    """A narrow network, its data and a split map T (``embedding.source`` is the narrow net).

    Parameters
    ----------
    network : Network
    data : symkkt.spec.Dataset
        Labels ±1.
    embedding : symkkt.embed.Embedding
        A chain of neuron / channel splits of ``network``.
    """

    def __init__(self, network, data, embedding, source=("<python>", "<python>")):
        self.network, self.data, self.embedding = network, data, embedding
        require_binary_labels(data)
        h = network.homogeneity()
        if not h.holds:
            raise NotHomogeneousError(f"the flow theorem needs a homogeneous network: {h.reason}", source[0])
        self.L = h.degree
        self.wide = embedding.target

    def __repr__(self):
        return (f"<FlowProblem: {self.network.num_parameters} -> {self.wide.num_parameters} parameters, "
                f"{len(self.data.y)} points, L = {self.L}, "
                f"{'; '.join(s.label() for s in self.embedding.steps) or 'identity'}>")

    def run(self, theta0, settings=None, progress=None, **kwargs):
        """Train both nets; a :class:`FlowResult`.

        Parameters
        ----------
        theta0 : list
            Exact starting parameters of the narrow net (flat, ``Network.parameter_names`` order).
        settings : FlowSettings, optional
            Or give its fields as keyword arguments.
        progress : callable, optional
            ``progress(step, steps, deviation_float)`` after every step.
        """
        s = (settings or FlowSettings(**kwargs)).validated()
        return _Run(self, list(theta0), s, progress).go()


def load_flow(arch_path, data_path, params_path, splits, float_input=False):
    """Read the files and the ``--split`` texts: ``(FlowProblem, theta0)``."""
    from ..embed import chain, parse_step
    from ..network import Network
    from ..spec import load_architecture, load_data, load_parameters

    arch = load_architecture(arch_path)
    data = load_data(data_path, arch, float_input=float_input)
    params = load_parameters(params_path, arch, float_input=float_input)
    net = Network(arch)
    steps = [parse_step(t) if isinstance(t, str) else t for t in splits]
    emb = chain(net, steps)
    try:
        problem = FlowProblem(net, data, emb, (str(arch_path), str(data_path)))
    except NotHomogeneousError as err:
        raise err.located(file=str(arch_path)) from None
    except UsageError:
        raise
    return problem, net.flatten(params)


class _Run:
    """One side-by-side run (the loop of :meth:`FlowProblem.run`)."""

    def __init__(self, problem, theta0, s, progress):
        self.p, self.theta0, self.s, self.progress = problem, theta0, s, progress
        emb = problem.embedding
        numbers = (list(theta0) + [v for x in problem.data.X for v in x] + problem.network.constants()
                   + emb.numbers() + [s.lr] + s.optimizer.constants())
        self.numbers = numbers
        self.ar = make_arithmetic(s.tier, s.digits, numbers, s.backend)
        self.loss = LOSSES[s.loss]
        X, y = problem.data.X, problem.data.y
        self.n = len(y)
        self.kinkN = KinkRule.for_net(emb, "narrow", self.ar)
        self.kinkW = KinkRule.for_net(emb, "wide", self.ar)
        self.engN = make_engine(s.engine, problem.network, self.ar, X, y, self.loss, s.reduction, self.kinkN)
        self.engW = make_engine(s.engine, problem.wide, self.ar, X, y, self.loss, s.reduction, self.kinkW)
        self.meter = Meter(self.ar, emb, problem.L, self.loss, s.reduction, self.n)
        self.record_every = s.record_every or max(1, math.ceil(s.steps / RECORDS))

    def go(self):
        s, ar, meter = self.s, self.ar, self.meter
        res = FlowResult(problem=self.p, settings=s, tier=ar.label, tier_flag=ar.name, digits=ar.digits,
                         tolerance_rule=ar.tolerance_rule, engine=self.engN.name,
                         record_every=self.record_every)
        samplerN = BatchSampler(self.n, s.batch, s.seed)
        samplerW = samplerN if s.same_batches else BatchSampler(self.n, s.batch, s.seed + 1)
        full = samplerN.full
        t0 = time.perf_counter()
        opt = s.optimizer
        emb = self.p.embedding
        gammas = {"narrow": None, "wide": None}
        with ar.context():
            theta = ar.vector(self.theta0)
            eta = _image(ar, emb, self.theta0, theta)
            if ar.name != "exact":      # θ_0 and Tθ_0 are exact: their signs are decided exactly
                X = self.p.data.X
                self.kinkN.set_start(theta, exact_start_signs(self.p.network, self.theta0, X, self.numbers), opt)
                self.kinkW.set_start(eta, exact_start_signs(self.p.wide, emb.forward(self.theta0), X,
                                                            self.numbers), opt)
            stN, stW = opt.init(ar, theta, s.lr), opt.init(ar, eta, s.lr)
            k = 0
            try:
                for k in range(s.steps + 1):
                    dev = meter.deviation(theta, eta)
                    n2 = meter.norm2(theta)
                    norm = math.sqrt(max(float(n2.mid()), 0.0))
                    if not ar.rigorous and not (math.isfinite(dev.value) and math.isfinite(norm)):
                        res.steps_done = max(k - 1, 0)
                        res.undecided = (f"step {k}: the {ar.label} iterates overflowed (|eta_k - T theta_k| = "
                                         f"{dev.value}, |theta_k| = {norm}); no deviation is observed: lower "
                                         "--lr or --steps, or use --precision / --balls")
                        break
                    res._add_deviation(k, dev, norm, ar)
                    last = k == s.steps
                    bN = samplerN.next() if not last else None
                    bW = (bN if s.same_batches else samplerW.next()) if not last else None
                    record = (k % self.record_every == 0) or last
                    qN, gN = self.engN.loss_grad(theta, bN)
                    qW, gW = self.engW.loss_grad(eta, bW)
                    if full or last:
                        for side, q, th, eng, sq in (("narrow", qN, theta, self.engN, n2),
                                                     ("wide", qW, eta, self.engW, None)):
                            gammas[side] = res._add_gamma(side, k, meter, q, th, gammas[side], ar, eng, sq)
                    if record:
                        if bN is None and bW is None:
                            fN, fW = (qN, gN), (qW, gW)
                        else:
                            fN = self.engN.loss_grad(theta, None)
                            fW = self.engW.loss_grad(eta, None)
                            for side, q, th, eng in (("narrow", fN[0], theta, self.engN),
                                                     ("wide", fW[0], eta, self.engW)):
                                gammas[side] = res._add_gamma(side, k, meter, q, th, gammas[side], ar, eng)
                        res._record(k, dev, meter.point(theta, *fN), meter.point(eta, *fW), norm,
                                    time.perf_counter() - t0, ar, theta)
                    if last:
                        break
                    self.kinkN.observe(gN)
                    self.kinkW.observe(gW)
                    theta, stN = opt.step(ar, theta, stN, gN, self._gradient(self.engN, self.kinkN, bN))
                    eta, stW = opt.step(ar, eta, stW, gW, self._gradient(self.engW, self.kinkW, bW))
                    theta, eta = ar.strip(theta), ar.strip(eta)
                    stN, stW = opt.strip(ar, stN), opt.strip(ar, stW)
                    if ar.name == "exact":
                        bits = max(ar.bits(theta), ar.bits(eta))
                        if bits > s.max_bits:
                            res.steps_done = k
                            res.undecided = (f"step {k + 1}: exact numbers reached {bits} bits (budget "
                                             f"{s.max_bits}; each step roughly triples them): lower --steps, "
                                             f"raise --max-bits, or use --precision / --balls")
                            break
                    if self.progress:
                        self.progress(k + 1, s.steps, dev.value)
                if not res.undecided:
                    res.steps_done = s.steps
            except Undecided as err:
                res.steps_done = k
                res.undecided = (f"step {k}: {err} (a pre-activation's ball contains 0: raise --balls DIGITS; "
                                 "an exact kink the rule does not prove stays undecided at every precision)")
            except (FloatingPointError, OverflowError, ZeroDivisionError) as err:
                res.steps_done = k
                res.undecided = f"step {k}: arithmetic failed ({type(err).__name__}: {err})"
            except ArithmeticError as err:     # a ball sign the generic network code could not decide
                res.steps_done = k
                res.undecided = f"step {k}: {err} (raise --balls DIGITS)"
            res.final_theta, res.final_eta = theta, eta
            res.diagnostics["kinks"] = self._kink_report()
            res._finish(meter, self.p, s, theta, eta)
        res.seconds = time.perf_counter() - t0
        return res

    @staticmethod
    def _gradient(engine, rule, batch):
        """∇L at other points (RK4 stages); the kink rule sees every gradient an update uses."""
        def grad(t):
            g = engine.loss_grad(t, batch)[1]
            rule.observe(g)
            return g
        return grad

    def _kink_report(self):
        """How the kinks were decided (counts over all gradient evaluations)."""
        if self.ar.name == "exact":
            return {"tier": "exact",
                    "rule": "exact signs; lower end of the Clarke interval at a pre-activation exactly 0 "
                            "(children of a split unit are exactly 0 together with their parent)"}
        return {"rule": RULE_TEXT, "narrow": self.kinkN.summary(), "wide": self.kinkW.summary(),
                "tier": _figure_tiers(self.ar)["decrease"],
                "statement": "kink decisions: exact_at_start (exact signs at theta_0 and T theta_0), "
                             "idle_first_layer (proved still exactly 0), certified_zero (ball exactly 0), "
                             "below_threshold (precision/float: |parent-equivalent value| <= u^(3/4) * scale), "
                             "group_overrides (children whose own rounded sign differed from their group's)"}


@dataclass
class FlowResult:
    """The outcome of a side-by-side run.

    Attributes
    ----------
    verdict : {"holds", "refuted", "inconclusive"}
    reason : str
    tier : str
        ``exact``, ``high precision``, ``rigorous enclosure`` or ``float``.
    max_deviation : str
        max_k ‖η_k − Tθ_k‖: ``"0"`` when exactly zero; balls: a rigorous upper bound (rounded up).
    series : dict of lists
        The recorded steps (every ``record_every``-th step and the last one).
    diagnostics, final : dict
        Directional-convergence figures (see :mod:`symkkt.flow.measure`).
    """

    problem: object = None
    settings: object = None
    tier: str = ""
    tier_flag: str = ""
    digits: int | None = None
    tolerance_rule: str = ""
    engine: str = ""
    record_every: int = 1
    verdict: str = "inconclusive"
    reason: str = ""
    max_deviation: str = "0"
    max_deviation_float: float = 0.0
    max_deviation_step: int = 0
    max_relative_deviation: str = "0"
    steps_done: int = 0
    seconds: float = 0.0
    series: dict = field(default_factory=lambda: {k: [] for k in _SERIES})
    diagnostics: dict = field(default_factory=dict)
    final: dict = field(default_factory=dict)
    witness: dict = field(default_factory=dict)
    undecided: str = ""
    final_theta: object = None
    final_eta: object = None
    _max_ball: object = None
    _max_rel: float = 0.0
    _first_nonzero: object = None
    _first_over: object = None
    _gamma_flags: dict = field(default_factory=lambda: {"narrow": [], "wide": []})
    _gamma_checked: dict = field(default_factory=lambda: {"narrow": 0, "wide": 0})
    _smoothed_flags: dict = field(default_factory=lambda: {"narrow": [], "wide": []})
    _smoothed_checked: dict = field(default_factory=lambda: {"narrow": 0, "wide": 0})

    # -- accumulation ---------------------------------------------------------------------------
    def _add_deviation(self, k, dev, norm, ar):
        rel = dev.value / norm if norm > 0 else (0.0 if dev.value == 0 else math.inf)
        if self._max_ball is None or dev.value > self.max_deviation_float:
            self._max_ball, self.max_deviation_float, self.max_deviation_step = dev.ball, dev.value, k
        self._max_rel = max(self._max_rel, rel)
        nonzero = dev.exact_zero is False if ar.name == "exact" else dev.certified_nonzero
        if nonzero and self._first_nonzero is None:
            self._first_nonzero = (k, dev)
        if ar.name != "exact" and self._first_over is None and not dev.value <= ar.tolerance(norm):
            self._first_over = (k, dev, ar.tolerance(norm))

    def _add_gamma(self, side, k, meter, q, theta, prev, ar, engine, norm2=None):
        """γ̄ and the smoothed margin γ̃ at step k; flag decreases once all margins are positive."""
        qmin = meter.qmin(q, engine.min_candidates(q))
        norm2 = meter.norm2(theta) if norm2 is None else norm2
        g = meter.gamma(qmin, norm2)
        gs = meter.smoothed_margin(meter.loss_sum(q, engine), norm2)
        if prev is not None:
            pk, pq, pg, pgs = prev
            if pq > 0 and qmin > 0:
                self._gamma_checked[side] += 1
                if _dropped(meter, ar, g, pg):
                    self._gamma_flags[side].append(k)
            if pgs is not None and gs is not None:
                self._smoothed_checked[side] += 1
                if _dropped(meter, ar, gs, pgs):
                    self._smoothed_flags[side].append(k)
        return (k, qmin, g, gs)

    def _record(self, k, dev, pn, pw, norm, seconds, ar, theta):
        S = self.series
        fn, fw = pn.floats(), pw.floats()
        S["step"].append(k)
        S["deviation"].append(dev.value)
        S["relative_deviation"].append(dev.value / norm if norm > 0 else 0.0)
        for key, name in (("loss", "loss"), ("gamma", "gamma"), ("kkt_eps", "kkt_residual"),
                          ("kkt_delta", "kkt_slackness"), ("norm", "norm"), ("qmin", "min_margin")):
            S[f"{name}_narrow"].append(fn[key])
            S[f"{name}_wide"].append(fw[key])
        S["seconds"].append(round(seconds, 4))
        if ar.name == "exact":
            S.setdefault("bits", []).append(ar.bits(theta))
        self._last_points = (pn, pw)

    def _finish(self, meter, problem, s, theta, eta):
        ar = meter.ar
        # deviation figures
        if ar.name == "exact":
            self.max_deviation = "0" if self._first_nonzero is None else format_arb(self._max_ball, 6)
        elif ar.rigorous:
            self.max_deviation = format_upper(self._max_ball)
        else:
            self.max_deviation = format_arb(self._max_ball) if self._max_ball is not None else "0"
        self.max_relative_deviation = "0" if self._max_rel == 0 else f"{self._max_rel:.3g}"
        self._diagnose(meter, problem, s, theta, eta)
        self._decide(ar, s)

    def _decide(self, ar, s):
        n = self.steps_done
        horizon = f"k = 0..{n}"
        if self._first_nonzero is not None and (ar.name == "exact" or ar.rigorous):
            k, dev = self._first_nonzero
            self.verdict = "refuted"
            what = ("exactly" if ar.name == "exact" else "certified by ball arithmetic")
            self.reason = (f"eta_k != T theta_k at step {k} ({what}): |eta_k - T theta_k| = "
                           f"{format_upper(dev.ball) if ar.rigorous and ar.name != 'exact' else format_arb(dev.ball, 6)}")
            if ar.rigorous and ar.name != "exact":
                self.reason += f" >= {_lower_str(dev.ball)} > 0"
            self.witness = self._witness(k, dev, ar)
            return
        if self.undecided and (ar.rigorous or self._first_over is None):
            self.verdict, self.reason = "inconclusive", self.undecided
            return
        if ar.name == "exact":
            self.verdict = "holds"
            self.reason = f"eta_k = T theta_k exactly for {horizon} (exact arithmetic, this instance)"
            return
        if self._first_over is not None:
            k, dev, tol = self._first_over
            if ar.rigorous:
                self.verdict = "inconclusive"
                self.reason = (f"step {k}: certified bound {format_upper(dev.ball)} exceeds the tolerance "
                               f"{tol:.3g} (enclosures too wide: raise --balls DIGITS)")
                return
            self.verdict = "refuted"
            self.reason = (f"|eta_k - T theta_k| = {format_arb(dev.ball)} > tolerance {tol:.3g} at step {k} "
                           f"({self.tier}, {self._digits_text()}; observed)")
            self.witness = self._witness(k, dev, ar)
            return
        self.verdict = "holds"
        if ar.rigorous:
            self.reason = (f"certified |eta_k - T theta_k| <= {self.max_deviation} for {horizon} "
                           f"(bound <= tolerance {ar.tolerance_rule})")
        else:
            self.reason = (f"max |eta_k - T theta_k| = {self.max_deviation} <= tolerance "
                           f"{ar.tolerance_rule} for {horizon} ({self.tier}, {self._digits_text()}; "
                           f"observed, not proved)")

    def _digits_text(self):
        return "53 bits" if self.tier_flag == "float" else f"{self.digits} digits"

    def _witness(self, k, dev, ar):
        out = {"step": k, "deviation": format_arb(dev.ball, 6), "parameter": None}
        if dev.worst >= 0:
            out["parameter"] = self.problem.wide.parameter_names[dev.worst]
            if dev.exact_diff is not None:
                v = dev.exact_diff.elements()[dev.worst].to_sympy()
                text = format_number(v)
                out["difference"] = text if len(text) <= 200 else f"{float(v):.6e} ({len(text)} characters exactly)"
        if ar.rigorous and ar.name != "exact":
            out["deviation_lower_bound"] = _lower_str(dev.ball)
        return out

    def _diagnose(self, meter, problem, s, theta, eta):
        S = self.series
        tiers = _figure_tiers(meter.ar)
        self.diagnostics["gamma_monotone"] = {
            "holds": not self._gamma_flags["narrow"] and not self._gamma_flags["wide"],
            "checked_steps": self._gamma_checked["narrow"],
            "where": "every step" if s.batch is None else "recorded steps (mini-batches)",
            **_per_net(self._gamma_flags, self._gamma_checked),
            "tier": tiers["decrease"], "decided_by": tiers["decrease_rule"],
            "statement": "gamma-bar = q_min/|theta|^L non-decreasing, per net (flagged, not assumed: with more "
                         "than one data point it may decrease, docs/mathematics.md section 9)",
        }
        self.diagnostics["smoothed_margin_monotone"] = {
            "holds": not self._smoothed_flags["narrow"] and not self._smoothed_flags["wide"],
            "checked_steps": self._smoothed_checked["narrow"],
            **_per_net(self._smoothed_flags, self._smoothed_checked),
            "tier": tiers["decrease"], "decided_by": tiers["decrease_rule"],
            "statement": "smoothed margin log(1/L_sum)/|theta|^L (exp; logistic: log(1/(e^L_sum - 1))) "
                         "non-decreasing once L_sum < l(0): the Lyu-Li theorem for gradient flow; "
                         "gamma-bar itself need not be monotone (gamma~ <= gamma-bar <= gamma~ + log(n)/|theta|^L)",
        }
        eps = [(k, e) for k, e, q in zip(S["step"], S["kkt_residual_narrow"], S["min_margin_narrow"])
               if e is not None and q is not None and q > 0]
        ups = [eps[i + 1][0] for i in range(len(eps) - 1) if eps[i + 1][1] > eps[i][1]]
        self.diagnostics["kkt_residual"] = {
            "first": eps[0][1] if eps else None, "last": eps[-1][1] if eps else None,
            "decreased": (eps[-1][1] < eps[0][1]) if len(eps) > 1 else None,
            "increasing_steps": ups[:50], "recorded": len(eps), "tier": tiers["estimate"],
            "statement": "Lyu-Li (eps, delta)-KKT residual of theta_k / q_min^(1/L), recorded steps",
        }
        final = {}
        final["direction_deviation"], direction_tier = meter.direction_figure(theta, eta)
        final["statement"] = ("|eta_N/|eta_N| - T theta_N/|T theta_N|| (the omega-limit statement of [A] Thm 5.4 "
                              "relates the limit directions by T)")
        final_tiers = {"direction_deviation": direction_tier}
        if getattr(self, "_last_points", None):
            pn, pw = self._last_points
            fn, fw = pn.floats(), pw.floats()
            figures = dict(gamma_narrow=fn["gamma"], gamma_wide=fw["gamma"],
                           kkt_residual_narrow=fn["kkt_eps"], kkt_residual_wide=fw["kkt_eps"],
                           kkt_slackness_narrow=fn["kkt_delta"], kkt_slackness_wide=fw["kkt_delta"])
            final.update(figures)
            final_tiers.update(dict.fromkeys(figures, tiers["estimate"]))
        if s.kkt_check and self.steps_done == s.steps:
            final["kkt_checker"] = _kkt_cross_check(problem, meter, theta)
            final_tiers["kkt_checker"] = "exact (the KKT checker on theta_N rounded to rationals)"
        final["tiers"] = final_tiers
        final["tier_legend"] = tiers["legend"]
        self.final = final

    # -- output ---------------------------------------------------------------------------------
    @property
    def exit_code(self):
        return VERDICT_EXIT[self.verdict]

    @property
    def statement(self):
        n = self.steps_done
        if self.tier_flag == "exact":
            return f"eta_k = T theta_k exactly for k = 0..{n} (this instance, exact arithmetic)"
        if self.tier_flag == "balls":
            return (f"the exact-arithmetic iterates satisfy |eta_k - T theta_k| <= B_k for k = 0..{n} "
                    f"(rigorous enclosure); max B_k = {self.max_deviation}")
        return f"observed max_k |eta_k - T theta_k| = {self.max_deviation} ({self.tier}; not a proof)"

    def to_json(self):
        """A JSON-ready dict (floats for the series, exact or rigorous strings for the verdict figures)."""
        s = self.settings
        emb = self.problem.embedding
        out = {
            "verdict": self.verdict,
            "reason": self.reason,
            "claim": "trajectory_equivariance",
            "statement": self.statement,
            "theorem": THEOREM,
            "tier": self.tier,
            "tier_flag": self.tier_flag,
            "digits": self.digits,
            "rigorous": self.tier_flag in ("exact", "balls"),
            "tolerance": self.tolerance_rule,
            "max_deviation": self.max_deviation,
            "max_deviation_step": self.max_deviation_step,
            "max_relative_deviation": self.max_relative_deviation,
            "steps": s.steps,
            "steps_done": self.steps_done,
            "seconds": round(self.seconds, 3),
            "settings": {
                "loss": s.loss, "loss_formula": LOSSES[s.loss].formula, "reduction": s.reduction,
                "lr": format_number(s.lr), "optimizer": s.optimizer.label,
                "optimizer_equivariant": s.optimizer.equivariant,
                "batch": s.batch, "seed": s.seed,
                "batches": "full" if s.batch is None else ("same" if s.same_batches else "different"),
                "record_every": self.record_every,
                "engine": self.engine,
                "splits": [st.label() for st in emb.steps],
                "narrow_parameters": emb.source.num_parameters,
                "wide_parameters": emb.target.num_parameters,
                "homogeneity_degree": self.problem.L,
                "kink_rule": RULE_TEXT,
            },
            "series": self.series,
            "diagnostics": self.diagnostics,
            "final": self.final,
        }
        if self.tier_flag == "balls":
            out["deviation_bound"] = self.max_deviation
        if self.witness:
            out["witness"] = self.witness
        return out

    def evidence(self):
        """A compact record for proofs/ (tier-labelled evidence, not a kernel certificate)."""
        j = self.to_json()
        keep = ("verdict", "reason", "claim", "statement", "theorem", "tier", "digits", "rigorous",
                "tolerance", "max_deviation", "max_deviation_step", "max_relative_deviation", "steps", "settings")
        return {k: j[k] for k in keep}

    def table_rows(self, limit=12):
        """Rows of the text table (a subset of the recorded steps)."""
        S = self.series
        idx = list(range(len(S["step"])))
        if len(idx) > limit:
            pick = sorted(set(np.linspace(0, len(idx) - 1, limit).round().astype(int).tolist()))
            idx = pick
        return idx

    def __repr__(self):
        s = self.settings
        emb = self.problem.embedding
        f = _g
        lines = [f"FlowResult(trajectory equivariance eta_k = T theta_k: {self.verdict} - {self.reason})",
                 f"  tier         {self.tier}" + ("" if self.tier_flag == "exact" else f" ({self._digits_text()})")
                 + f"; tolerance {self.tolerance_rule}",
                 f"  run          {s.loss} loss ({s.reduction}), {s.optimizer.label}, lr {format_number(s.lr)}, "
                 f"{s.steps} steps, " + ("full batch" if s.batch is None else
                                         f"batch {s.batch} ({'same' if s.same_batches else 'different'} "
                                         f"batches, seed {s.seed})") + f", engine {self.engine}",
                 f"  split        {'; '.join(st.label() for st in emb.steps) or 'none: T is the identity'} "
                 f"({emb.source.num_parameters} -> {emb.target.num_parameters} parameters)",
                 f"  deviation    max {self.max_deviation}"
                 + (" (rigorous upper bound)" if self.tier_flag == "balls" else "")
                 + f" at step {self.max_deviation_step}; relative {self.max_relative_deviation}",
                 f"  {'step':>6} {'|eta-Ttheta|':>12} {'loss':>10} {'loss~':>10} {'gamma':>10} {'gamma~':>10} "
                 f"{'KKT eps':>10} {'|theta|':>9}"]
        S = self.series
        for i in self.table_rows():
            lines.append(f"  {S['step'][i]:>6} {f(S['deviation'][i]):>12} {f(S['loss_narrow'][i]):>10} "
                         f"{f(S['loss_wide'][i]):>10} {f(S['gamma_narrow'][i]):>10} {f(S['gamma_wide'][i]):>10} "
                         f"{f(S['kkt_residual_narrow'][i]):>10} {f(S['norm_narrow'][i]):>9}")
        g = self.diagnostics.get("gamma_monotone", {})
        if g:
            lines.append("  gamma-bar    non-decreasing once margins > 0: "
                         + (f"yes ({g['checked_steps']} steps checked" if g["holds"] else f"{_decreases(g)} (")
                         + f"{', ' if g['holds'] else ''}{g['where']}; {g['tier']})")
        sm = self.diagnostics.get("smoothed_margin_monotone", {})
        if sm and sm["checked_steps"]:
            lines.append("  smoothed     Lyu-Li margin non-decreasing: "
                         + (f"yes ({sm['checked_steps']} steps checked; " if sm["holds"] else f"{_decreases(sm)} (")
                         + f"{sm['tier']})")
        kk = self.diagnostics.get("kkt_residual", {})
        if kk and kk.get("first") is not None:
            lines.append(f"  KKT residual {f(kk['first'])} -> {f(kk['last'])}"
                         + (f" ({len(kk['increasing_steps'])} recorded increases)" if kk["increasing_steps"] else "")
                         + f" ({kk['tier']}s)")
        fin = self.final
        if fin:
            ft = fin.get("tiers", {})
            lines.append(f"  final        direction deviation {fin.get('direction_deviation')} "
                         f"({ft.get('direction_deviation')}); eps-KKT narrow "
                         f"{f(fin.get('kkt_residual_narrow'))}, wide {f(fin.get('kkt_residual_wide'))}"
                         + (f" ({ft['kkt_residual_narrow']}s)" if "kkt_residual_narrow" in ft else ""))
            if "kkt_checker" in fin:
                kc = fin["kkt_checker"]
                lines.append(f"  KKT checker  {kc['verdict']} on the rounded final direction ({kc['reason']})")
        kinks = self.diagnostics.get("kinks", {})
        if any(kinks.get(side, {}).get(key) for side in ("narrow", "wide") for key in kinks.get(side, {})):
            def counts(c):
                return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in c.items() if v) or "none"
            lines.append(f"  kinks        lower end, children inherit; narrow: {counts(kinks['narrow'])}; "
                         f"wide: {counts(kinks['wide'])}")
        lines.append(f"  statement    {self.statement}")
        lines.append(f"  time         {self.seconds:.2f} s")
        return "\n".join(lines)


_SERIES = ("step", "deviation", "relative_deviation", "loss_narrow", "loss_wide", "gamma_narrow", "gamma_wide",
           "kkt_residual_narrow", "kkt_residual_wide", "kkt_slackness_narrow", "kkt_slackness_wide",
           "norm_narrow", "norm_wide", "min_margin_narrow", "min_margin_wide", "seconds")


def _image(ar, emb, theta0, theta):
    """η_0 = Tθ_0 in the tier: exact in the exact tier; else c_r·θ_i with c_r and θ_i in the tier
    (one rounding of each coefficient, one of each product; balls enclose the exact Tθ_0)."""
    if ar.name == "exact":
        return ar.vector(emb.forward(theta0))
    consts = {}
    coef = []
    for c, i in zip(emb.coef, emb.index):
        if i < 0:
            coef.append(ar.const(0))
            continue
        key = sympy.srepr(c) if isinstance(c, sympy.Basic) else repr(c)
        if key not in consts:
            consts[key] = ar.const(c)
        coef.append(consts[key])
    idx = np.maximum(np.asarray(emb.index), 0)
    if ar.name == "float":
        return theta[idx] * np.array(coef, dtype=float)
    out = np.empty(len(coef), dtype=object)
    out[:] = [theta[i] * c for i, c in zip(idx, coef)]
    return ar.strip(out)


def _dropped(meter, ar, new, old):
    """Whether a monitored quantity decreased from ``old`` to ``new`` beyond the tier's noise.

    Exact and ball tiers: certified decrease (the arb difference is < 0); precision: by more
    than 1000 units in the last place; float: by more than 1e-12 relative.
    """
    with meter.context():
        diff = new - old
    if ar.rigorous:
        return bool(diff < 0)
    slack = 1e-12 if ar.name == "float" else 1e3 * ar.unit
    return float(diff.mid()) < -slack * abs(float(old.mid()))


def _per_net(flags, checked):
    """Per net: whether the quantity never decreased, steps checked, and where it decreased
    (how many steps, the first one, and up to 50 of them)."""
    out = {}
    for side in ("narrow", "wide"):
        steps = flags[side]
        out[side] = {"holds": not steps, "checked_steps": checked[side], "decreasing_steps": len(steps),
                     "first_decrease": steps[0] if steps else None, "steps": steps[:50]}
        out[f"decreasing_steps_{side}"] = steps[:50]
    return out


def _figure_tiers(ar):
    """The tier each kind of diagnostic figure is computed in, for a run in tier ``ar``.

    ``decrease``: how a monotonicity flag is decided; ``estimate``: the label of a float read-out
    of a ball (γ̄, KKT residuals); ``legend``: what the labels mean.
    """
    if ar.name in ("exact", "balls"):
        of = "the exact iterates" if ar.name == "exact" else "the exact-arithmetic iterates (enclosed)"
        decrease = "rigorous enclosure"
        rule = f"ball arithmetic on {of}: every flagged decrease is certified"
    elif ar.name == "precision":
        decrease = f"{ar.label} (observed)"
        rule = "a drop by more than 1000 units in the last place is flagged"
    else:
        decrease = f"{ar.label} (observed)"
        rule = "a relative drop by more than 1e-12 is flagged"
    estimate = "float estimate"
    return {"decrease": decrease, "decrease_rule": rule, "estimate": estimate,
            "legend": {"exact": "decided in exact arithmetic",
                       "rigorous enclosure": "a proved bound (ball arithmetic)",
                       "observed": "measured on the iterates of a rounding tier, not proved",
                       estimate: f"a float read off a ball around the value at the {ar.label} iterates "
                                 "(neither exact nor a proved bound)"}}


def _decreases(mono):
    """``NO: narrow decreases at 3 steps (first 2), wide never`` for a monotonicity diagnostic."""
    parts = []
    for side in ("narrow", "wide"):
        d = mono[side]
        parts.append(f"{side} never" if d["holds"] else
                     f"{side} decreases at {d['decreasing_steps']} of {d['checked_steps']} steps "
                     f"(first at step {d['first_decrease']})")
    return "NO: " + ", ".join(parts)


def _g(v):
    if v is None:
        return "-"
    if v == 0:
        return "0"
    return f"{v:.3g}"


def _lower_str(ball):
    from .arith import format_lower

    return format_lower(ball)


def _kkt_cross_check(problem, meter, theta):
    """The exact KKT checker on θ_N rounded to 12 significant digits (as a KKT direction)."""
    from fractions import Fraction

    from ..kkt import MaxMarginProblem

    vals = [float(x.mid()) for x in meter.ar.to_arb(theta, meter.prec)]
    top = max(abs(v) for v in vals) or 1.0
    rat = [sympy.Rational(Fraction(v / top).limit_denominator(10**12)) for v in vals]
    try:
        res = MaxMarginProblem(problem.network, problem.data).decide(rat, direction=True)
    except Exception as err:  # pragma: no cover - the checker refuses something
        return {"verdict": "inconclusive", "reason": f"{type(err).__name__}: {err}"}
    return {"verdict": res.verdict, "reason": res.reason, "active_set": list(res.active),
            "note": "theta_N / max|theta_N| rounded to rationals; trajectories are only approximately KKT, "
                    "so 'refuted' is expected before convergence"}
