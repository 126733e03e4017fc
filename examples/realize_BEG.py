"""The degenerate parametrization of shallow ReLU nets [BEG], checked exactly.

Three parts:

1. **Pathology table.** For the families P0–P5 (and P5 in 2-D) and the sharpness family, the
   W^{1,∞} distance ε_k between g_k and R_{Γ_k}, the distance from Γ_k to the fiber of g_k
   (exact, or a rigorous lower bound with an explicit upper bound), and the ratio
   fiber distance / ε_k^{1/2}: it blows up for P1–P5, stays at √2 for P0 (the pathology there
   is the L^∞ norm) and at 1 for the sharpness family.
2. **Inverse stability on the restricted set S_m** (d = 1): on random adversarial pairs
   Γ, B ∈ S_m the distance from Γ to the S_m-fiber of R_B is compared, exactly, with
   max(2√2 ε^{1/2}, ε); the largest observed ratio distance / ε^{1/2} is reported (an
   observation: the bound itself is the theorem).
3. **Model merging.** Two networks with different widths and parametrizations (permuted,
   rescaled, one neuron split in two, a zero-sum orientation flip, a dead neuron) are recognized
   as the same function through canonical forms; averaging their raw parameters changes the
   function, averaging after canonicalization into S_{m+1} (where the parametrization is unique
   up to permutation) does not.

Run: ``python examples/realize_BEG.py [--pairs N] [--seed S] [--ks 10,100,1000]``.
"""

from __future__ import annotations

import argparse
import math
import random
import time

from flint import fmpq

from symkkt.realize.canonical import canonical_form, same_realization
from symkkt.realize.families import FAMILIES, family_table
from symkkt.realize.fiber import fiber_distance
from symkkt.realize.net import ShallowNet
from symkkt.realize.restricted import canonicalize, in_restricted_set, inverse_stability

Q = fmpq


def pathology_tables(ks):
    for name in FAMILIES:
        t = family_table(name, ks)
        print(t["text"])
        print()


# -- S_m: random adversarial pairs -------------------------------------------------------------------
def sm_net(neurons, c):
    """An S_m network from (s, sign, ξ) triples, meaning θ(sign·s², ξ) = (s, −sξ, sign·s), or None (zero)."""
    W, b, a = [], [], []
    for item in neurons:
        if item is None:
            W.append([0]), b.append(0), a.append(0)
            continue
        s, sign, xi = item
        W.append([s]), b.append(-s * xi), a.append(sign * s)
    return ShallowNet.of(W, b, a, c)


def valid(neurons):
    kinks = [n[2] for n in neurons if n is not None]
    return len(set(kinks)) == len(kinks) and all(-1 <= x < 1 for x in kinks) and \
        all(n[0] > 0 for n in neurons if n is not None)


def adversarial_pair(rng):
    """Γ, B in S_m built to be close in W^{1,∞} while their parameters differ.

    Moves: activate a zero neuron with a small jump; shrink a neuron to zero; move a kink a little;
    flip the sign of a small jump; random.
    """
    m = rng.randint(1, 4)
    kinks = rng.sample([Q(k, 8) for k in range(-8, 8)], m)
    G = [(Q(rng.randint(1, 16), 8), rng.choice([-1, 1]), xi) if rng.random() > 0.2 else None for xi in kinks]
    B = list(G)
    j = rng.randrange(m)
    move = rng.choice(["activate", "shrink", "shift", "flip", "random"])
    small = Q(1, rng.choice([2, 4, 8, 16, 32]))
    xi = kinks[j]
    if move == "activate":
        G[j] = None
        B[j] = (small, rng.choice([-1, 1]), xi)
    elif move == "shrink":
        G[j] = (small, rng.choice([-1, 1]), xi)
        B[j] = None
    elif move == "shift" and G[j] is not None:
        new = xi + Q(rng.choice([-1, 1]), rng.choice([16, 64, 256]))
        if -1 <= new < 1 and new not in kinks:
            B[j] = (G[j][0], G[j][1], new)
    elif move == "flip":
        G[j] = (small, 1, xi)
        B[j] = (small, -1, xi)
    else:
        B = [(Q(rng.randint(1, 16), 8), rng.choice([-1, 1]), x) if rng.random() > 0.2 else None for x in kinks]
    c = Q(rng.randint(-4, 4), 8)
    return [G, B, c, c + Q(rng.randint(-2, 2), 64)], move


def mutate(rng, state):
    """A small random change of one of Γ, B (kept in S_m)."""
    G, B, cg, cb = [list(state[0]), list(state[1]), state[2], state[3]]
    side = rng.choice([G, B])
    j = rng.randrange(len(side))
    step = Q(rng.choice([-1, 1]), rng.choice([8, 32, 128]))
    kind = rng.choice(["s", "xi", "sign", "zero", "c"])
    n = side[j]
    if kind == "c":
        if rng.random() < 0.5:
            cg += step
        else:
            cb += step
    elif n is None or kind == "zero":
        side[j] = None if n is not None else (Q(1, 8), rng.choice([-1, 1]), Q(rng.randint(-8, 7), 8))
    elif kind == "s":
        side[j] = (n[0] + step, n[1], n[2])
    elif kind == "xi":
        side[j] = (n[0], n[1], n[2] + step)
    else:
        side[j] = (n[0], -n[1], n[2])
    return [G, B, cg, cb] if valid(G) and valid(B) else None


def evaluate(state):
    G, B = sm_net(state[0], state[2]), sm_net(state[1], state[3])
    r = inverse_stability(G, B)
    return r, G, B


def restricted_experiment(pairs, seed, climb):
    rng = random.Random(seed)
    worst, worst_pair, failures, counted = 0.0, None, 0, 0
    t0 = time.time()
    states = []
    for _ in range(pairs):
        state, move = adversarial_pair(rng)
        r, G, B = evaluate(state)
        assert in_restricted_set(G)[0] and in_restricted_set(B)[0]
        if r["epsilon"] == "0":
            continue
        counted += 1
        failures += r["holds"] is not True
        states.append((r["ratio"], state, move))
        if r["ratio"] > worst:
            worst, worst_pair = r["ratio"], (G, B, move, r)
    # hill climbing from the ten worst pairs: accept a mutation when the ratio grows
    states.sort(key=lambda x: -x[0])
    for ratio, state, move in states[:10]:
        for _ in range(climb // 10):
            new = mutate(rng, state)
            if new is None:
                continue
            r, G, B = evaluate(new)
            if r["epsilon"] == "0":
                continue
            counted += 1
            failures += r["holds"] is not True
            if r["ratio"] >= ratio:
                ratio, state = r["ratio"], new
                if ratio > worst:
                    worst, worst_pair = ratio, (G, B, move + " + climb", r)
    print(f"restricted set S_m (d = 1): {counted} pairs (random adversarial, then hill climbing on the ratio), "
          f"{failures} violations of ||Phi - Gamma||_inf <= max(2 sqrt(2) eps^(1/2), eps) (each checked exactly), "
          f"{time.time() - t0:.1f} s")
    if worst_pair:
        G, B, move, r = worst_pair
        print(f"largest observed ratio distance / eps^(1/2) = {worst:.6f} (float; 2 sqrt(2) = {2 * math.sqrt(2):.6f})")
        print(f"  from move {move}: Gamma = {G}")
        print(f"  {' ' * len(move)}             B     = {B}")
        print(f"  eps = {r['epsilon']}, distance = {r['distance']}, bound = {r['bound']}")
    print()


# -- model merging -------------------------------------------------------------------------------------
def merging_example():
    f = ShallowNet.of([[2], [-1], [1]], ["-1", "1/2", "1/4"], [3, -2, "1/2"], 1)
    # g: f's neuron 2 rescaled by 1/3, neuron 1 rescaled by 5/2, neuron 0 split into two copies with
    # output weights 1 + 2 = 3, and a dead neuron (kink at 7/3); width 5 instead of 3
    g = ShallowNet.of([[fmpq(1, 3)], [-fmpq(5, 2)], [2], [2], [3]],
                      [fmpq(1, 12), fmpq(5, 4), -1, -1, -7],
                      [fmpq(3, 2), -fmpq(4, 5), 1, 2, 9], 1)
    same, point = same_realization(f, g)
    print("model merging: f =", f)
    print("               g =", g)
    print(f"  canonical form of f: {canonical_form(f).formula()}")
    print(f"  canonical form of g: {canonical_form(g).formula()}")
    print(f"  same function on (-1, 1): {same} (exact comparison of canonical forms)")
    # an orientation flip with zero linear sum: in h = relu(x) - relu(x - 1/2) the products a_i w_i are
    # 1 and -1, so flipping both neurons moves nothing linear, and the constant absorbs a_2 b_2 = 1/2
    h = ShallowNet.of([[1], [1]], [0, "-1/2"], [1, -1], 0)
    h_flip = ShallowNet.of([[-1], [-1]], [0, "1/2"], [1, -1], "1/2")
    r = fiber_distance(h_flip, h)
    print(f"  zero-sum flip: {h} and {h_flip}: same function {same_realization(h, h_flip)[0]}, "
          f"fiber distance {r['value']} ({r['method']})")
    # naive averaging of two parametrizations of one function changes it; canonical forms do not
    f2 = f.permuted([2, 0, 1]).scaled(0, 2).scaled(1, "1/2")
    avg = ShallowNet(tuple(tuple((x + y) / 2 for x, y in zip(f.W[i], f2.W[i])) for i in range(3)),
                     tuple((x + y) / 2 for x, y in zip(f.b, f2.b)), tuple((x + y) / 2 for x, y in zip(f.a, f2.a)),
                     (f.c + f2.c) / 2, 1)
    same_avg, pt = same_realization(avg, f)
    print(f"  f2 = f permuted and rescaled: same function {same_realization(f, f2)[0]}; "
          f"raw average of f and f2 equals f: {same_avg} (differs at x = {pt[0] if pt else None}: "
          f"{avg(pt) if pt else ''} vs {f(pt) if pt else ''})")
    cf, cf2 = canonicalize(f), canonicalize(f2)
    def by_kink(net):          # zero neurons last, the others by their kink -b/w
        return sorted(range(net.m), key=lambda i: (net.W[i][0] == 0, -net.b[i] / net.W[i][0] if net.W[i][0] else 0))

    p, p2 = cf.permuted(by_kink(cf)), cf2.permuted(by_kink(cf2))
    avg_c = ShallowNet(tuple(tuple((x + y) / 2 for x, y in zip(p.W[i], p2.W[i])) for i in range(p.m)),
                       tuple((x + y) / 2 for x, y in zip(p.b, p2.b)), tuple((x + y) / 2 for x, y in zip(p.a, p2.a)),
                       (p.c + p2.c) / 2, 1)
    print(f"  canonicalized into S_4 and sorted by kink: identical parametrizations: {p == p2}; "
          f"their average is again f: {same_realization(avg_c, f)[0]}")
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=300, help="random adversarial pairs in S_m (default 300)")
    ap.add_argument("--climb", type=int, default=2000, help="hill-climbing steps (default 2000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ks", default="10,100,1000", help="the k of the families (default 10,100,1000)")
    args = ap.parse_args(argv)
    ks = [int(k) for k in args.ks.split(",")]
    pathology_tables(ks)
    restricted_experiment(args.pairs, args.seed, args.climb)
    merging_example()


if __name__ == "__main__":
    main()
