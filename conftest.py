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


@pytest.fixture(scope="session", autouse=True)
def _test_run_folders(tmp_path_factory):
    """The embedded default's shared cache files and filesystem broker folders
    (hourglass/settings.py, under var/) are this test run's own, in a temporary
    folder, so a parallel run or a developer's `make run` never sees them. Redis
    (CACHE_URL, CELERY_BROKER_URL) is left as configured."""
    from django.conf import settings
    from django.test import override_settings

    from hourglass.celery import app
    from metrics.tests.utils import use_broker

    caches = {**settings.CACHES}
    for alias, config in caches.items():
        if config["BACKEND"].endswith("FileBasedCache"):
            folder = tmp_path_factory.mktemp(f"cache-{alias}")
            caches[alias] = {**config, "LOCATION": str(folder)}
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    if saved[0].startswith("filesystem://"):
        broker = tmp_path_factory.mktemp("broker")
        for name in ("queue", "processed", "control"):
            (broker / name).mkdir()
        use_broker(
            saved[0],
            {
                "data_folder_in": str(broker / "queue"),
                "data_folder_out": str(broker / "queue"),
                "processed_folder": str(broker / "processed"),
                "control_folder": str(broker / "control"),
                "store_processed": False,
            },
        )
    with override_settings(CACHES=caches):
        yield
    use_broker(*saved)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts and ends with an empty cache: the worker caches a map's
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


@pytest.fixture(scope="session", autouse=True)
def _editor_bundle():
    """The edit page's bundled first script (package.json's "build") as of this
    checkout's sources, as `make install` builds it: rebuilt when a module under
    static/systemmaps/editor/ is newer, so a test never drives yesterday's code."""
    import subprocess
    from pathlib import Path

    from django.conf import settings

    bundle = Path(settings.BUNDLE_DIR) / "static-view.js"
    sources = Path(settings.BASE_DIR, "static", "systemmaps", "editor").glob("*.js")
    newest = max(source.stat().st_mtime for source in sources)
    if not bundle.exists() or bundle.stat().st_mtime < newest:
        subprocess.run(["npm", "run", "-s", "build"], cwd=settings.BASE_DIR, check=True)
