"""The backup commands of docs/operations.md, run for real: `pg_dump -Fc` of the
database, `pg_restore` into a fresh database, and every table compared.

PostgreSQL only (CI runs on it through DATABASE_URL); skipped on SQLite or when the
PostgreSQL client programs are missing.
"""

import os
import shutil
import subprocess
import uuid

import psycopg2
import pytest
from django.db import connection

from systemmaps import services
from systemmaps.tests.factories import webinar_graph

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL; set DATABASE_URL")
    for program in ("pg_dump", "pg_restore", "createdb", "dropdb"):
        if shutil.which(program) is None:
            pytest.skip(f"{program} is not installed")


def client_env() -> tuple[list[str], dict[str, str]]:
    """Connection options for the PostgreSQL command-line clients."""
    db = connection.settings_dict
    args = ["-h", db["HOST"] or "localhost", "-p", str(db["PORT"] or 5432)]
    if db["USER"]:
        args += ["-U", db["USER"]]
    env = {**os.environ}
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def table_digests(dbname: str) -> dict[str, tuple[int, str]]:
    """Per table of the public schema: row count and an md5 of every row."""
    db = connection.settings_dict
    with (
        psycopg2.connect(
            dbname=dbname,
            host=db["HOST"] or "localhost",
            port=db["PORT"] or 5432,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        digests = {}
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' "
                f"ORDER BY t::text), '')) FROM \"{table}\" t"
            )
            digests[table] = cursor.fetchone()
    conn.close()
    return digests


def test_dump_and_restore_into_a_fresh_database_keeps_every_row(
    postgres, acme, alice, bob, tmp_path
):
    services.map_create(
        business=acme,
        acting_user=alice,
        name="Webinar to client",
        half="marketing",
        stages=["try"],
        graph=webinar_graph(),
    )
    args, env = client_env()
    source = connection.settings_dict["NAME"]
    dump = tmp_path / "hourglass.dump"
    fresh = f"restore_{uuid.uuid4().hex[:12]}"

    subprocess.run(
        ["pg_dump", *args, "-d", source, "-Fc", "-f", str(dump)],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(["createdb", *args, fresh], env=env, check=True)
    try:
        subprocess.run(
            [
                "pg_restore",
                *args,
                "-d",
                fresh,
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                str(dump),
            ],  # fmt: skip
            env=env,
            check=True,
            capture_output=True,
        )
        restored = table_digests(fresh)
    finally:
        subprocess.run(
            ["dropdb", *args, "--if-exists", "--force", fresh], env=env, check=True
        )

    original = table_digests(source)
    assert restored == original
    assert original["systemmaps_node"][0] == 9
    assert original["hourglass_membership"][0] == 2
