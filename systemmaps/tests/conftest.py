"""The systemmaps tests' own autouse fixture; their shared fixtures are in
systemmaps/tests/fixtures.py, a plugin of the root conftest."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_svg_cache():
    """The map page caches its SVG by map pk and version. Rolled-back tests hand
    out the same pks again on SQLite, so a cached drawing of one test's map would
    show up as another test's map."""
    cache.clear()
    yield
    cache.clear()
