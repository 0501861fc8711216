"""Hypothesis profiles: dev (default locally), ci (derandomized, used by make test), thorough.

Torch threads: PARADEC_TEST_THREADS (default 1: the suite runs under pytest-xdist on 2
shared cores) sets torch's intra-op threads here and, through OMP_NUM_THREADS, in the
commands the tests start as subprocesses. ``make test-kernels`` runs the suite with 1 and 2
threads under every CPU kernel (ATEN_CPU_CAPABILITY) the machine has.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.register_profile("fuzz", max_examples=1000, deadline=None,  # tests/fuzz: the big run
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

THREADS = int(os.environ.get("PARADEC_TEST_THREADS", "1"))
os.environ["OMP_NUM_THREADS"] = str(THREADS)


def pytest_configure(config):
    import torch

    torch.set_num_threads(THREADS)
