"""Decide a KKT point from Python, write its certificate and re-check it with the kernel."""

import sys

from symkkt.api import example_paths, load_problem
from symkkt.certificate import write_json
from symkkt.kernel import check_certificate

problem, theta = load_problem(*example_paths("example1"))
print(problem)
result = problem.decide(theta)
print(result)
cert = result.certificate()
write_json(cert, "example1-certificate.json")
print("kernel:", check_certificate(cert))
sys.exit(result.exit_code)
