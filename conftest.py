"""The root conftest: settings for the whole test run, and the plugin modules
whose fixtures every app's tests share (CONVENTIONS.md, "Tests").

Builders live in each app's `tests/factories.py`, helpers in its `tests/utils.py`
and shared fixtures in its `tests/fixtures.py`, listed in `pytest_plugins` below.
A directory's own conftest.py holds only the autouse fixtures of that directory,
and no test imports a conftest or another test module
(tests/test_test_layout.py checks both).
"""

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# refuses to run under one unless told it is safe (it is: one thread per test).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The helper modules' asserts report like the tests' own.
pytest.register_assert_rewrite(
    "hourglass.tests", "systemmaps.tests", "metrics.tests", "tests"
)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts and ends with an empty cache: the map page caches its
    drawing and the review its figures by pk, which rolled-back tests hand out
    again, and the rate limits (hourglass/ratelimit.py) count there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _compiled_translations():
    """The catalogues compiled, as `make run` does (`make messages`): the pages
    of the tests speak every language from the .po files of this checkout."""
    from django.core.management import call_command

    call_command(
        "compilemessages", ignore_patterns=[".venv", "node_modules"], verbosity=0
    )


pytest_plugins = [
    "hourglass.tests.fixtures",
    "systemmaps.tests.fixtures",
    "metrics.tests.fixtures",
]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix, tmp_path_factory
):
    """On SQLite the tests use a database file, as `make run` does, instead of
    Django's shared in-memory one: WAL and BEGIN IMMEDIATE (hourglass/settings.py)
    then work as in the app, and the live server's threads, an in-thread Celery
    worker and the test each have a connection of their own, so writers really
    meet (tests/test_concurrent_writers.py)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"] == "django.db.backends.sqlite3" and not test.get("NAME"):
        test["NAME"] = str(tmp_path_factory.mktemp("database") / "test.sqlite3")
