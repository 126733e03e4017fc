"""Decide a KKT point from Python, write its certificate and re-check it with the kernel."""

import os
import sys

from symkkt.api import load_problem
from symkkt.certificate import write_json
from symkkt.kernel import check_certificate

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kkt", "example1")
problem, theta = load_problem(*(os.path.join(here, f + ".yaml") for f in ("arch", "data", "params")))
print(problem)
result = problem.decide(theta)
print(result)
cert = result.certificate()
write_json(cert, "example1-certificate.json")
print("kernel:", check_certificate(cert))
sys.exit(result.exit_code)
