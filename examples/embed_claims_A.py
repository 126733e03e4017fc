"""The static claims of [A] (Theorems 4.8 and 4.11) on small architectures, with negative controls.

For a neuron split (fully connected, Thm 4.8) and a channel split (CNN, Thm 4.11) with c_i >= 0 and
Σ c_i² = 1 on positively 1-homogeneous activations, T is an isometry that preserves outputs and
gradients for all θ and x. Each row below is decided by ``symkkt.embed.check.decide``: proved for all
θ, x by the layer-wise identities of ``symkkt.embed.prove``, or refuted with an exact witness.

Run: ``python examples/embed_claims_A.py``.
"""

from symkkt.embed.check import decide
from symkkt.embed.maps import chain, parse_step
from symkkt.network import Network
from symkkt.spec import architecture_from_json


def net(layers, inp):
    return Network(architecture_from_json({"input": inp, "layers": layers}))


FC = net([{"dense": {"width": 3, "activation": {"leaky_relu": {"slope": "1/100"}}}},
          {"dense": {"width": 3, "activation": "relu"}}, {"dense": {"width": 1}}], [2])
FC_TANH = net([{"dense": {"width": 3, "activation": "tanh"}}, {"dense": {"width": 1}}], [2])
CNN = net([{"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
           {"conv": {"channels": 2, "kernel": 2, "activation": "relu"}},
           {"avgpool": {"kernel": 2}}, "flatten", {"dense": {"width": 1}}], [1, 6, 6])

CASES = [
    ("Thm 4.8: FC split (3/5, 4/5) in layer 2", FC, ["2:1:3/5,4/5"], "holds"),
    ("Thm 4.8 + Prop 4.4: two splits, algebraic c", FC, ["1:0:sqrt(2)/2,sqrt(2)/2", "2:2:1/3,2/3,2/3"], "holds"),
    ("Thm 4.11: CNN channel split before conv", CNN, ["1:1:3/5,4/5"], "holds"),
    ("Thm 4.11: CNN channel split before pool+dense", CNN, ["2:0:5/13,12/13"], "holds"),
    ("control: Σc² = 1/2", FC, ["2:1:1/2,1/2"], "refuted"),
    ("control: c = (-3/5, 4/5)", FC, ["2:1:-3/5,4/5"], "refuted"),
    ("control: tanh (not homogeneous)", FC_TANH, ["1:0:3/5,4/5"], "refuted"),
    ("control: CNN Σc² = 2", CNN, ["1:0:1,1"], "refuted"),
]


def main():
    print(f"{'claim':<46} {'isometry':<9} {'output':<9} {'gradient':<13} verdict")
    ok = True
    for name, network, texts, expected in CASES:
        res = decide(chain(network, [parse_step(t) for t in texts]))
        p = res.properties
        print(f"{name:<46} {p['isometry'].verdict:<9} {p['output_preserved'].verdict:<9} "
              f"{p['gradient_preserved'].verdict:<13} {res.verdict}")
        ok &= res.verdict == expected
    print("all as expected" if ok else "UNEXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
