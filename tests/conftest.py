"""Fixtures of the project-wide tests (security, hostile input, concurrency)."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """The map page caches its drawing by map pk and version, and rolled-back
    tests hand out the same pks again: start and end every test with no cache."""
    cache.clear()
    yield
    cache.clear()
