"""Shared test settings."""

from hypothesis import HealthCheck, settings

# Derandomised so that a run is reproducible; no deadline because CI machines are slow.
settings.register_profile(
    "book",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("book")
