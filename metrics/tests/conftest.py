"""The metrics tests' own autouse fixture; their shared fixtures are in
metrics/tests/fixtures.py, a plugin of the root conftest."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_svg_cache():
    """As in the systemmaps tests: metrics tests draw maps too, and the map page
    caches its SVG by map pk and version, which rolled-back tests hand out again;
    and each test starts with none of the weekly review's cached figures."""
    cache.clear()
    yield
    cache.clear()
