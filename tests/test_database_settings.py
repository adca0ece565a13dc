"""The SQLite options of hourglass/settings.py: a database file is opened in WAL
mode with synchronous=NORMAL and a 20-second busy timeout, and every transaction
begins with BEGIN IMMEDIATE, so two writers that both read first wait for each
other instead of one failing with "database is locked" (which is what happens
with SQLite's default deferred transactions, shown here too). PostgreSQL gets
none of these options.

The settings are read by a fresh process with only the variables a server
would have; the two writers run on the suite's own database, a file on SQLite
(the root conftest)."""

import json
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections, transaction

from hourglass.models import Business
from hourglass.tests.factories import BusinessFactory

BASE_DIR = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    pragmas = {}
    for name in ("journal_mode", "synchronous", "busy_timeout"):
        cursor.execute("PRAGMA " + name)
        pragmas[name] = cursor.fetchone()[0]
print(json.dumps({"pragmas": pragmas, "mode": connection.transaction_mode}))
"""


def run_python(code: str, **env: str) -> dict:
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "hourglass.settings",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_sqlite_file_is_opened_in_wal_mode_with_a_busy_timeout(tmp_path):
    path = tmp_path / "hourglass.sqlite3"

    seen = run_python(PROBE, DATABASE_URL=f"sqlite:///{path}")

    assert seen == {
        "pragmas": {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 20000},
        "mode": "IMMEDIATE",
    }
    # WAL is a property of the file: any later connection finds it.
    with sqlite3.connect(path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_postgresql_gets_none_of_the_sqlite_options():
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'].get('OPTIONS', {})))"
    )

    options = run_python(code, DATABASE_URL="postgres://hourglass@db.example/app")

    assert options == {}


# ---------------------------------------------------------------------------
# Two writers on the suite's own database file
# ---------------------------------------------------------------------------


@pytest.fixture
def sqlite_file():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite options")
    assert not connection.is_in_memory_db()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def read_then_write(mode: str | None) -> list[str]:
    """Two threads, each in a transaction: count the businesses, wait (a short
    while) for the other to have read too, then rename a business of its own.
    Returns each one's outcome."""
    mine = [BusinessFactory(name=f"Writer {i}").pk for i in range(2)]
    both_read = threading.Barrier(2, timeout=0.5)
    outcomes = ["", ""]

    def write(index: int) -> None:
        try:
            connection.ensure_connection()
            if mode != "settings":
                connection.transaction_mode = mode
            with transaction.atomic():
                Business.objects.count()
                try:
                    both_read.wait()
                except threading.BrokenBarrierError:
                    pass  # the other is still waiting to begin
                Business.objects.filter(pk=mine[index]).update(name="Written")
            outcomes[index] = "committed"
        except OperationalError as error:
            outcomes[index] = str(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_writers_that_read_first_both_commit(sqlite_file):
    assert read_then_write("settings") == ["committed", "committed"]
    assert Business.objects.filter(name="Written").count() == 2


@pytest.mark.django_db(transaction=True)
def test_with_deferred_transactions_one_of_them_would_fail(sqlite_file):
    # Why the settings say IMMEDIATE: SQLite cannot upgrade the second reader
    # to a writer once the first has written, and does not wait for it.
    assert sorted(read_then_write(None)) == ["committed", "database is locked"]
