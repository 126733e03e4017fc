"""Optimizers and integrators, written once over every arithmetic tier.

An optimizer maps (θ_k, state, ∇L(θ_k)) to θ_{k+1}; it may evaluate the gradient at other
points (RK4). Whether it keeps η_k = Tθ_k is a property of its formula ([A] Thm 5.2; docs/mathematics.md §7):

==========================  ===========================================  ===================
``--optimizer``             update                                        equivariant
==========================  ===========================================  ===================
``gd``                      θ ← θ − lr g                                  yes (linear)
``sgd``                     gd on mini-batches (needs ``--batch B``)      yes, same batches
``momentum:β``              v ← β v + g; θ ← θ − lr v  (v₀ = 0)           yes (linear)
``weight_decay:κ``          θ ← θ − lr (g + κ θ)                          yes (linear)
``adam[:β1,β2,ε]``          bias-corrected Adam, elementwise √            no (elementwise)
``rk4``                     gradient flow θ' = −∇L, classic RK4, step lr  yes (linear stages)
==========================  ===========================================  ===================

A linear optimizer commutes with T because every step is a fixed linear combination of states
and gradients, and ∇L̃(Tθ) = T∇L(θ) off kinks (docs/mathematics.md §7). Adam divides elementwise by
√v, and (Tg)² ≠ T(g²) entrywise, so it breaks the equivariance: the negative control.
Adam needs square roots, so ``--exact`` refuses it. Defaults: β1 = 9/10, β2 = 999/1000,
ε = 10^-8 (PyTorch's).

Examples
--------
>>> from symkkt.flow.arith import make_arithmetic
>>> ar = make_arithmetic("exact")
>>> opt = parse_optimizer("momentum:1/2")
>>> opt.equivariant, opt.label
(True, 'momentum:1/2')
>>> theta = ar.vector([1, 2])
>>> state = opt.init(ar, theta, lr=sympy.Rational(1, 10))
>>> grad = lambda th: th                      # L = |θ|²/2
>>> theta, state = opt.step(ar, theta, state, grad(theta), grad)
>>> theta, state = opt.step(ar, theta, state, grad(theta), grad)
>>> theta.to_sympy()
[19/25, 38/25]
"""

from __future__ import annotations

import sympy

from ..errors import UsageError
from ..numbers import exact_sign, format_number, parse_number

__all__ = ["Optimizer", "parse_optimizer", "GD", "SGD", "Momentum", "WeightDecay", "Adam", "RK4"]


class Optimizer:
    """Base class: ``init`` builds the state, ``step`` advances one step."""

    name = ""
    equivariant = True
    needs_sqrt = False
    full_batch_only = False
    #: coordinates whose gradients have all been exactly 0 since the start are only rescaled, all
    #: by one common factor (so a first-layer pre-activation exactly 0 at the start stays 0; the
    #: kink rule of :mod:`symkkt.flow.kinks` relies on it). False unless an optimizer declares it.
    keeps_idle_coordinates = False
    #: the optimizer is defined on mini-batches only (``sgd``): a run without a batch size is refused
    needs_batch = False

    def __init__(self, label=None):
        self.label = label or self.name

    def constants(self):
        """Exact constants of the update (for the exact tier's number field)."""
        return []

    def init(self, ar, theta, lr):
        """State before the first step (constants are converted into the tier here)."""
        return {"lr": ar.const(lr)}

    def step(self, ar, theta, state, grad, grad_fn):
        """θ_{k+1} and the new state; ``grad`` = ∇L(θ_k), ``grad_fn`` evaluates ∇L elsewhere."""
        raise NotImplementedError

    def strip(self, ar, state):
        """Round the vector parts of the state (precision tier)."""
        return {k: (ar.strip(v) if k in self.vectors and v is not None else v) for k, v in state.items()}

    vectors = ()

    def __repr__(self):
        return f"<Optimizer {self.label}: {'equivariant' if self.equivariant else 'not equivariant'}>"


class GD(Optimizer):
    name = "gd"
    keeps_idle_coordinates = True     # θ ← θ − lr·0

    def step(self, ar, theta, state, grad, grad_fn):
        return theta - grad * state["lr"], state


class SGD(GD):
    """Stochastic gradient descent: the gd update on the mini-batch gradient (needs a batch size)."""

    name = "sgd"
    needs_batch = True


class Momentum(Optimizer):
    """Heavy-ball momentum (PyTorch's SGD momentum without dampening)."""

    name = "momentum"
    vectors = ("v",)
    keeps_idle_coordinates = True     # v stays 0 there

    def __init__(self, beta, label=None):
        super().__init__(label)
        self.beta = beta

    def constants(self):
        return [self.beta]

    def init(self, ar, theta, lr):
        return {"lr": ar.const(lr), "beta": ar.const(self.beta), "v": None}

    def step(self, ar, theta, state, grad, grad_fn):
        v = grad if state["v"] is None else state["v"] * state["beta"] + grad
        return theta - v * state["lr"], {**state, "v": v}


class WeightDecay(Optimizer):
    """L2 weight decay: the gradient of L(θ) + κ‖θ‖²/2."""

    name = "weight_decay"
    keeps_idle_coordinates = True     # θ_r ← (1 − lr·κ) θ_r there

    def __init__(self, kappa, label=None):
        super().__init__(label)
        self.kappa = kappa

    def constants(self):
        return [self.kappa]

    def init(self, ar, theta, lr):
        return {"lr": ar.const(lr), "kappa": ar.const(self.kappa)}

    def step(self, ar, theta, state, grad, grad_fn):
        return theta - (grad + theta * state["kappa"]) * state["lr"], state


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba): the negative control."""

    name = "adam"
    equivariant = False
    needs_sqrt = True
    vectors = ("m", "v")
    keeps_idle_coordinates = True     # m = v = 0 there: the step is 0/(√0 + ε) = 0

    def __init__(self, beta1, beta2, eps, label=None):
        super().__init__(label)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def constants(self):
        return [self.beta1, self.beta2, self.eps]

    def init(self, ar, theta, lr):
        c = ar.const
        return {"lr": c(lr), "b1": c(self.beta1), "b2": c(self.beta2), "eps": c(self.eps),
                "c1": c(1 - self.beta1), "c2": c(1 - self.beta2), "one": c(1),
                "p1": c(1), "p2": c(1), "m": ar.zeros(len(theta)), "v": ar.zeros(len(theta))}

    def step(self, ar, theta, state, grad, grad_fn):
        s = state
        m = s["m"] * s["b1"] + grad * s["c1"]
        v = s["v"] * s["b2"] + grad * grad * s["c2"]
        p1, p2 = s["p1"] * s["b1"], s["p2"] * s["b2"]
        mhat = m * (s["one"] / (s["one"] - p1))
        vhat = v * (s["one"] / (s["one"] - p2))
        theta = theta - mhat / (ar.sqrt(vhat) + s["eps"]) * s["lr"]
        return theta, {**s, "m": m, "v": v, "p1": p1, "p2": p2}


class RK4(Optimizer):
    """Gradient flow θ' = −∇L(θ) integrated by the classic fourth-order Runge–Kutta method.

    The step size is ``lr``; N steps reach time N·lr. Every stage is a linear combination of
    states and gradients, so RK4 keeps η_k = Tθ_k like GD (same equivariance as the flow).
    """

    name = "rk4"
    full_batch_only = True
    keeps_idle_coordinates = True     # with k1..k4 all 0 there (each stage's gradient is observed)

    def init(self, ar, theta, lr):
        c = ar.const
        return {"h": c(lr), "h2": c(sympy.Rational(1, 2) * lr), "h6": c(lr / 6), "two": c(2)}

    def step(self, ar, theta, state, grad, grad_fn):
        s = state
        k1 = grad
        k2 = grad_fn(theta - k1 * s["h2"])
        k3 = grad_fn(theta - k2 * s["h2"])
        k4 = grad_fn(theta - k3 * s["h"])
        return theta - (k1 + (k2 + k3) * s["two"] + k4) * s["h6"], state


def _num(text, place):
    return parse_number(text.strip(), "<command line>", place)


def parse_optimizer(text):
    """Read ``--optimizer`` text: ``gd``, ``sgd``, ``momentum:β``, ``weight_decay:κ``, ``adam[:β1,β2,ε]``, ``rk4``.

    Raises
    ------
    UsageError
        One line naming ``--optimizer TEXT`` and what is wrong.

    Examples
    --------
    >>> parse_optimizer("adam").constants()
    [9/10, 999/1000, 1/100000000]
    >>> parse_optimizer("momentum:1")
    Traceback (most recent call last):
    ...
    symkkt.errors.UsageError: <command line>: --optimizer momentum:1: momentum β must satisfy 0 <= β < 1, got 1
    """
    place = f"--optimizer {text}"
    name, _, arg = text.strip().partition(":")
    name = name.strip().lower().replace("-", "_")

    def fail(msg):
        raise UsageError(msg, "<command line>", place)

    if name in ("gd", "sgd"):
        if arg:
            fail(f"{name} takes no parameter (the learning rate is --lr)")
        return GD(label="gd") if name == "gd" else SGD(label="sgd")
    if name in ("rk4", "flow"):
        if arg and arg.strip().lower() != "rk4":
            fail("the gradient-flow integrator is rk4")
        return RK4(label="rk4")
    if name == "momentum":
        if not arg:
            fail("expected momentum:β, e.g. momentum:9/10")
        beta = _num(arg, place)
        if exact_sign(beta) < 0 or exact_sign(beta - 1) >= 0:
            fail(f"momentum β must satisfy 0 <= β < 1, got {format_number(beta)}")
        return Momentum(beta, label=f"momentum:{format_number(beta)}")
    if name in ("weight_decay", "wd"):
        if not arg:
            fail("expected weight_decay:κ, e.g. weight_decay:1/100")
        kappa = _num(arg, place)
        if exact_sign(kappa) < 0:
            fail(f"weight decay κ must be >= 0, got {format_number(kappa)}")
        return WeightDecay(kappa, label=f"weight_decay:{format_number(kappa)}")
    if name == "adam":
        vals = [sympy.Rational(9, 10), sympy.Rational(999, 1000), sympy.Rational(1, 10**8)]
        if arg:
            parts = arg.split(",")
            if len(parts) != 3:
                fail("expected adam or adam:β1,β2,ε")
            vals = [_num(p, place) for p in parts]
            for v, what in zip(vals[:2], ("β1", "β2")):
                if exact_sign(v) < 0 or exact_sign(v - 1) >= 0:
                    fail(f"Adam {what} must satisfy 0 <= {what} < 1, got {format_number(v)}")
            if exact_sign(vals[2]) <= 0:
                fail(f"Adam ε must be > 0, got {format_number(vals[2])}")
        return Adam(*vals, label="adam" if not arg else f"adam:{','.join(format_number(v) for v in vals)}")
    fail("unknown optimizer; choose gd, sgd (with --batch), momentum:β, weight_decay:κ, adam[:β1,β2,ε] or rk4")
