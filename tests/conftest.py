"""Suite-wide fixtures: compiled XLA programs are dropped after each test module, so the whole
suite's memory stays near that of its largest module instead of growing with every module."""

import gc

import pytest


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    yield
    import sys

    if "jax" in sys.modules:
        sys.modules["jax"].clear_caches()
    gc.collect()
