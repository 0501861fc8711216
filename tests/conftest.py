"""Hypothesis profiles: dev (default locally), ci (derandomized, used by make test), thorough."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.register_profile("fuzz", max_examples=1000, deadline=None,  # tests/fuzz: the big run
                          suppress_health_check=[HealthCheck.too_slow], print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
