"""[V]'s phenomenon on instances built here: KKT points of the max-margin problem that are not even
local optima, and KKT points that are.

For each instance the script prints the three properties (KKT, local, global) with their methods,
re-checks every improving curve with the kernel, and counts how many random straight lines through
θ improve it (each line decided exactly). Then gradient descent (exp loss, 50 digits: high precision,
observed) on the zero-unit instance: from a symmetric start it converges in direction to the
non-optimal KKT point, from a generic start it does not.

Run: ``python examples/optimality_V.py`` (a few seconds). Everything except the gradient-descent
figures is exact.
"""

from __future__ import annotations

from symkkt.api import problem_from_dicts
from symkkt.kernel import check_certificate
from symkkt.optimality import decide_optimality
from symkkt.optimality.curves import sample_lines
from symkkt.optimality.demo import DIAGONAL, INSTANCES, diagonal_available, flow_rows


def show(name, arch, data, params, global_claim, expected, description):
    problem, theta = problem_from_dicts(arch, data, params)
    result = decide_optimality(problem, theta, global_claim=global_claim)
    print(f"== {name}: {description}")
    for key in ("kkt", "local", "global"):
        prop = result.properties[key]
        strict = {True: ", strict", False: ", not strict"}.get(prop.strict, "")
        print(f"   {key:<6} {prop.verdict:<12} {prop.method}{strict}")
    local = result.properties["local"]
    if local.verdict == "refuted" and "curve" in local.witness:
        w = local.witness
        print(f"   curve  {w['curve'][1:]} (coefficients of s, s², ...), s0 = {w['s0']}")
        print(f"   ‖θ‖² − ‖θ(s)‖² = {w['norm_gain']}")
        print(f"   kernel {check_certificate(local.certificate).reason}")
        hits, n = sample_lines(problem, theta, 40)
        print(f"   random straight lines θ + s·d improving θ for small s: {hits} of {n} (exact)")
    assert result.verdict == expected, (name, result.verdict)


def main():
    cases = dict(INSTANCES)
    if diagonal_available():
        cases.update(DIAGONAL)
    else:
        print("(the diagonal layer kind is not available: diagonal instances skipped)")
    for name, case in cases.items():
        show(name, *case)
    print("== gradient descent on the zero-unit instance (high precision, observed)")
    for row in flow_rows():
        print(f"   {row['example']}: {row['description']}")


if __name__ == "__main__":
    main()
