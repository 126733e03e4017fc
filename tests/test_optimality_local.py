"""Local optimality of KKT points [V]: improving curves, second order, group lasso.

Every refutation is re-checked here by an independent exact evaluation: the curve θ̃(s) is
evaluated at rational s in (0, s0] with the project's ordinary forward pass
(:meth:`MaxMarginProblem.margins`), not with the polynomial forward pass that found it.
"""

import json
import math
import random
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy
from hypothesis import example, given, settings, strategies as st

from symkkt.api import load_problem, problem_from_dicts
from symkkt.errors import NotHomogeneousError
from symkkt.kernel import check_certificate
from symkkt.numbers import parse_number
from symkkt.optimality import decide_optimality
from symkkt.optimality import sturm
from symkkt.optimality.curves import example_paths_zero_unit, line_improves, sample_lines
from symkkt.optimality.local import decide_local, definiteness

RELU2 = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1}}]}
RELU3 = {"input": [2], "layers": [{"dense": {"width": 3, "activation": "relu"}}, {"dense": {"width": 1}}]}
MIRROR = {"points": [{"x": [1, 2], "y": 1}, {"x": [1, -2], "y": 1}]}
R = "5^(-1/4)/sqrt(5)"
OPTIMUM = [{"weight": [[R, f"2*{R}"], [R, f"-2*{R}"]]}, {"weight": [["5^(-1/4)", "5^(-1/4)"]]}]


def zero_unit():
    return load_problem(*example_paths_zero_unit())


def recheck(problem, theta, witness, points=(1, Fraction(1, 2), Fraction(1, 7), Fraction(1, 1000))):
    """At s = t·s0 for the given t: ‖θ‖^L q_k(θ̃(s)) > ‖θ̃(s)‖^L for every k (even L, exact, sympy)."""
    L = problem.homogeneity.degree
    curve = [[parse_number(v) for v in d] for d in witness["curve"]]
    s0 = sympy.Rational(witness["s0"])
    assert curve[0] == list(theta)
    for t in points:
        s = s0 * sympy.Rational(t.numerator, t.denominator) if isinstance(t, Fraction) else s0 * t
        point = [sum(d[j] * s ** i for i, d in enumerate(curve)) for j in range(len(theta))]
        q, _trace = problem.margins(point)
        K = problem.domain(list(point) + list(theta)).field      # exact signs in one number field
        th, pt = [K.element(v) for v in theta], [K.element(v) for v in point]
        N, n2 = sum((v * v for v in th), K.element(0)), sum((v * v for v in pt), K.element(0))
        for qk in q:
            qk = K.element(qk.to_sympy())
            if L % 2 == 0:
                gap = _pow(N, L // 2) * qk - _pow(n2, L // 2)
            else:
                assert qk.sign() > 0
                gap = _pow(N, L) * qk * qk - _pow(n2, L)
            assert gap.sign() > 0, (s, gap)


def _pow(x, n):
    out = x * 0 + 1
    for _ in range(n):
        out = out * x
    return out


# -- the public instance --------------------------------------------------------------------------------
def test_public_instance_is_refuted_by_a_checked_curve():
    problem, theta = zero_unit()
    result = decide_optimality(problem, theta)
    assert result.verdict == "refuted" and result.exit_code == 1
    assert result.properties["kkt"].verdict == "holds"
    local = result.properties["local"]
    assert local.method == "zero-unit curve"
    cert = result.certificate()
    assert cert["claim"]["kind"] == "not_local_optimum" and check_certificate(cert).valid
    recheck(problem, theta, local.witness)
    # the normalized margin grows: at s0 it is 655/89826 above 1/2 (positive whatever the exact figure)
    assert sympy.Rational(local.witness["normalized_margin_gain_at_s0"]) > 0
    # ‖θ‖² − ‖θ(s)‖² starts at order s² with a positive coefficient (the new unit grows like s)
    coeffs = [parse_number(c) for c in local.witness["norm_gain_coefficients"]]
    assert coeffs[0] == 0 and coeffs[1] == 0 and coeffs[2] > 0


def test_public_curve_from_the_theory_is_accepted_and_too_long_s0_refused():
    # w1 = (1, -c s²), v1 = 1, w2 = s x1/√5, v2 = s with c = 9/16: 2 q_k > ‖θ̃‖² for small s
    from symkkt.optimality.curves import Curve, check_curve

    problem, theta = zero_unit()
    curve = Curve.from_numbers(problem, [theta, [0, 0, "1/sqrt(5)", "2/sqrt(5)", 0, 1],
                                         [0, "-9/16", 0, 0, 0, 0]], "1/2")
    assert check_curve(problem, curve).ok
    recheck(problem, theta, {"curve": curve.to_json(), "s0": "1/2"})
    # by hand: for point 2 the gap is (2c - 1) s² - 2c·... ; at s = 9/10 it is negative, so s0 = 9/10 fails
    s = sympy.Rational(9, 10)
    c = sympy.Rational(9, 16)
    q2 = 1 + 2 * c * s ** 2          # w1·x2 = 1 + 2c s², the new unit is off on x2
    n2 = 1 + c ** 2 * s ** 4 + 1 + s ** 2 + s ** 2
    assert 2 * q2 - n2 < 0
    assert not check_curve(problem, curve.with_s0("9/10")).ok


def test_random_straight_lines_do_not_improve_the_public_instance():
    problem, theta = zero_unit()
    rng = random.Random(1)
    for _ in range(15):
        d = [sympy.Rational(rng.randint(-9, 9), 10) for _ in theta]
        s = sympy.Rational(1, 10 ** 6)
        point = [a + s * b for a, b in zip(theta, d)]
        q, _ = problem.margins(point)
        n2 = sum(v * v for v in point)
        # first order dominates at this s: some margin falls behind the norm
        worst = min(2 * qk.to_sympy() - n2 for qk in q)
        assert worst <= 0
        assert not line_improves(problem, theta, d)
    assert sample_lines(problem, theta, 20) == (0, 20)


def test_optimum_is_a_strict_local_optimum():
    problem, theta = problem_from_dicts(RELU2, MIRROR, OPTIMUM)
    result = decide_optimality(problem, theta)
    local = result.properties["local"]
    assert (local.verdict, local.method, local.strict) == ("holds", "second-order sufficient condition", True)
    # float cross-check: random feasible rescalings of nearby points are not shorter
    th = [float(v) for v in theta]
    n0 = sum(v * v for v in th)
    rng = random.Random(0)
    for _ in range(200):
        p = [v + 1e-3 * rng.gauss(0, 1) for v in th]
        q = [sum(p[4 + j] * max(0.0, p[2 * j] * x[0] + p[2 * j + 1] * x[1]) for j in range(2))
             for x in ((1, 2), (1, -2))]
        assert sum(v * v for v in p) / min(q) >= n0 - 1e-12


def test_split_optimum_fails_second_order_but_is_local_by_group_lasso():
    # split unit 0 of the optimum with (3/5, 4/5): same function, flat second order
    split = [{"weight": [[f"3/5*{R}", f"6/5*{R}"], [f"4/5*{R}", f"8/5*{R}"], [R, f"-2*{R}"]]},
             {"weight": [["3/5*5^(-1/4)", "4/5*5^(-1/4)", "5^(-1/4)"]]}]
    problem, theta = problem_from_dicts(RELU3, MIRROR, split)
    local = decide_local(problem, theta, problem.decide(theta))
    assert local.verdict == "holds" and local.method == "group lasso" and local.strict is False
    assert "positive semidefinite" in local.reason
    # not strict, independently: units 0 and 1 are (3/5, 4/5)·(one unit); rotating the pair (α0, α1) by the
    # angle with cos = 99/101, sin = 20/101 keeps α0² + α1², both α > 0, hence every margin and the norm
    c, s = sympy.Rational(99, 101), sympy.Rational(20, 101)
    rot = list(theta)
    for a, b in ((0, 2), (1, 3), (6, 7)):
        rot[a], rot[b] = c * theta[a] - s * theta[b], s * theta[a] + c * theta[b]
    assert rot != list(theta)
    assert [sympy.simplify(m.to_sympy()) for m in problem.margins(rot)[0]] == [1, 1]
    assert sympy.simplify(sum(v * v for v in rot) - sum(v * v for v in theta)) == 0


def test_local_but_not_global():
    problem, theta = problem_from_dicts(RELU2, MIRROR, [{"weight": [["3/5", 0], ["4/5", 0]]},
                                                        {"weight": [["3/5", "4/5"]]}])
    result = decide_optimality(problem, theta, global_claim=True)
    assert result.properties["local"].verdict == "holds"
    assert result.verdict == "refuted"


# -- property test: random two-layer ReLU data with a KKT point built by hand --------------------------------
def _dual_sup(lam, xs):
    """max over the unit circle of Σ λ_k relu(u·x_k), on a dense grid (float, independent)."""
    best = -1.0
    for i in range(20000):
        t = 2 * math.pi * i / 20000
        u = (math.cos(t), math.sin(t))
        best = max(best, sum(l * max(0.0, u[0] * x[0] + u[1] * x[1]) for l, x in zip(lam, xs)))
    return best


@settings(max_examples=6, deadline=None)
@given(a=st.fractions(min_value=Fraction(1, 2), max_value=4, max_denominator=4),
       b=st.fractions(min_value=Fraction(1, 2), max_value=4, max_denominator=4),
       extra=st.lists(st.tuples(st.fractions(min_value=Fraction(5, 4), max_value=3, max_denominator=4),
                                st.fractions(min_value=-3, max_value=3, max_denominator=4)), max_size=2))
@example(a=Fraction(2), b=Fraction(3), extra=[(Fraction(3, 2), Fraction(-1))])     # sup F ≈ 1.36 (grid)
def test_random_zero_unit_instances(a, b, extra):
    # unit (1, 0), v = 1 between x1 = (1, a) and x2 = (1, -b): KKT with λ = (b, a)/(a + b) (by hand:
    # w = λ1 x1 + λ2 x2 needs λ1 a = λ2 b and λ1 + λ2 = 1); extra points have margin x[0] > 1
    pts = [(1, a), (1, -b)] + list(extra)
    data = {"points": [{"x": [str(p), str(q)], "y": 1} for p, q in pts]}
    problem, theta = problem_from_dicts(RELU2, data, [{"weight": [[1, 0], [0, 0]]}, {"weight": [[1, 0]]}])
    kkt = problem.decide(theta)
    assert kkt.verdict == "holds"
    assert [sympy.Rational(m) for m in kkt.multipliers[:2]] == [sympy.Rational(b / (a + b)), sympy.Rational(a / (a + b))]
    sup = _dual_sup([float(b / (a + b)), float(a / (a + b))], [(1, float(a)), (1, float(-b))])
    local = decide_local(problem, theta, kkt)
    if sup > 1.01:
        assert local.verdict == "refuted"
        assert check_certificate(local.certificate).valid
        recheck(problem, theta, local.witness, points=(1, Fraction(1, 3)))
    else:
        # F(1, 0) = λ1 + λ2 = 1 (the live unit's direction), so sup F >= 1 always: nothing else is asserted
        assert sup >= 1 - 1e-9


# -- diagonal networks (the diagonal layer kind) ------------------------------------------------------------
def _diagonal():
    from symkkt.optimality.demo import diagonal_available

    if not diagonal_available():
        pytest.skip("the diagonal layer kind is not available")


def test_depth2_diagonal_zero_coordinate():
    _diagonal()
    # g = λ y x = (1, 2): |g_2| = 2 > 1 at the zero coordinate 2
    problem, theta = problem_from_dicts({"input": [2], "layers": ["diagonal", "diagonal", "sum"]},
                                        {"points": [{"x": [1, 2], "y": 1}]}, [{"weight": [1, 0]}, {"weight": [1, 0]}])
    result = decide_optimality(problem, theta)
    assert result.properties["local"].method == "diagonal zero-coordinate curve"
    recheck(problem, theta, result.properties["local"].witness)
    assert check_certificate(result.certificate()).valid
    # |g_2| = 1/2 < 1 instead: no curve, and the lasso argument proves it local
    problem, theta = problem_from_dicts({"input": [2], "layers": ["diagonal", "diagonal", "sum"]},
                                        {"points": [{"x": [1, "1/2"], "y": 1}]}, [{"weight": [1, 0]}, {"weight": [1, 0]}])
    local = decide_local(problem, theta, problem.decide(theta))
    assert local.verdict == "holds" and local.method == "group lasso"


def test_depth3_diagonal_all_nonzero_is_not_local():
    _diagonal()
    # β = u v w = (1/8, 1/8) on x = (4, 4): the ℓ_{2/3} cost 3Σ|β_j|^(2/3) is concave along β1 + β2 = 1/4
    problem, theta = problem_from_dicts({"input": [2], "layers": ["diagonal"] * 3 + ["sum"]},
                                        {"points": [{"x": [4, 4], "y": 1}]}, [{"weight": ["1/2", "1/2"]}] * 3)
    assert all(v != 0 for v in theta)
    result = decide_optimality(problem, theta)
    local = result.properties["local"]
    assert local.verdict == "refuted" and local.method == "second-order curve"
    recheck(problem, theta, local.witness)
    assert check_certificate(result.certificate()).valid


# -- the exact pieces -----------------------------------------------------------------------------------------
def test_sturm_sign_against_roots():
    # (s - 1/3)(s - 2) s: roots at 1/3 and 2 in (0, ∞)
    s = sympy.Symbol("s")
    P = sympy.Poly(sympy.expand((s - sympy.Rational(1, 3)) * (s - 2) * s), s)
    coeffs = [Fraction(int(c.p), int(c.q)) for c in reversed(P.all_coeffs())]
    assert sturm.sign_on(coeffs, Fraction(1, 4)) == 1          # (−)(−)(+) > 0 before the first root
    assert sturm.sign_on(coeffs, Fraction(1, 3)) is None       # the root itself is in (0, 1/3]
    assert sturm.sign_on([-c for c in coeffs], Fraction(1, 5)) == -1
    assert sturm.count_roots(coeffs[1:], Fraction(3)) == 2


def test_definiteness():
    from symkkt.field import NumberField

    K = NumberField(sympy.Integer(1))
    e = lambda v: K.element(v)
    zero, one = e(0), e(1)
    assert definiteness([[e(2), e(1)], [e(1), e(2)]], zero, one) == ("pd", None)
    kind, x = definiteness([[e(1), e(2)], [e(2), e(1)]], zero, one)       # eigenvalues 3, −1
    assert kind == "negative"
    val = sum(x[i] * x[j] * [[1, 2], [2, 1]][i][j] for i in range(2) for j in range(2))
    assert val.sign() < 0
    kind, x = definiteness([[e(0), e(1)], [e(1), e(0)]], zero, one)
    assert kind == "negative"
    assert definiteness([[e(1), e(1)], [e(1), e(1)]], zero, one) == ("psd", 1)


# -- bad input and the command ------------------------------------------------------------------------------------
def test_not_homogeneous_and_infeasible():
    arch = {"input": [2], "layers": [{"dense": {"width": 2, "activation": "relu"}}, {"dense": {"width": 1, "bias": True}}]}
    problem, theta = problem_from_dicts(arch, MIRROR, [{"weight": [[1, 0], [0, 0]]}, {"weight": [[1, 0]], "bias": [0]}])
    with pytest.raises(NotHomogeneousError):
        decide_optimality(problem, theta)
    problem, theta = problem_from_dicts(RELU2, MIRROR, [{"weight": [["1/2", 0], [0, 0]]}, {"weight": [[1, 0]]}])
    result = decide_optimality(problem, theta)
    assert result.verdict == "refuted" and result.properties["local"].reason.startswith("θ is not feasible")


def test_cli(tmp_path):
    arch, data, params = example_paths_zero_unit()
    cert = tmp_path / "c.json"
    out = subprocess.run([sys.executable, "-m", "symkkt", "optimality", arch, data, params, "--json", "--cert",
                          str(cert)], capture_output=True, text=True)
    assert out.returncode == 1
    obj = json.loads(out.stdout)
    assert obj["verdict"] == "refuted" and obj["properties"]["local"]["method"] == "zero-unit curve"
    assert check_certificate(json.loads(cert.read_text())).valid
    bad = tmp_path / "arch.yaml"
    bad.write_text("input: [2]\nlayers:\n  - dense: {width: 2, activation: relu}\n  - dense: {width: 1, bias: true}\n")
    badp = tmp_path / "p.yaml"
    badp.write_text("- weight: [[1, 0], [0, 0]]\n- {weight: [[1, 0]], bias: [0]}\n")
    out = subprocess.run([sys.executable, "-m", "symkkt", "optimality", str(bad), data, str(badp)],
                         capture_output=True, text=True)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "homogeneous" in out.stderr
