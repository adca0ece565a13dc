"""How the rollup writes its rows: INSERT … ON CONFLICT … DO UPDATE, changing a
row only when one of its figures differs, so recomputing an unchanged week
writes nothing (no dead rows, no index churn, no WAL). A statement that can
also leave out the unchanged rows before they reach the conflict (which locks
each row it meets) compares them with `differs`. The one place that spells
both; `metrics.rollup` and `metrics.conversions` use it."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def differs(old: str, new: str, columns: Sequence[str]) -> str:
    """True where one of `columns` of row `old` is distinct from `new`'s (NULLs
    compared as values)."""
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return "(" + " OR ".join(f"{old}.{c} {distinct} {new}.{c}" for c in columns) + ")"


def conflict_clause(table: str, key: Sequence[str], columns: Sequence[str]) -> str:
    """`ON CONFLICT (key) DO UPDATE SET …` of `columns`, only where one of them
    differs from the row already there."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    return (
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} "
        f"WHERE {differs(table, 'excluded', columns)}"
    )


def sync_rows(
    existing: models.QuerySet,
    key: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Make the rows of `existing` (a queryset of one model: the rows a
    recompute replaces) equal `rows` (values for `key` then `columns`, by
    column name): the rows no longer there are deleted, the new and the
    changed ones written, the same ones left alone (read once and compared
    here, so they are not even locked)."""
    width = len(key)
    wanted = {tuple(row[:width]): tuple(row[width:]) for row in rows}
    have = {
        tuple(found[1 : width + 1]): (found[0], tuple(found[width + 1 :]))
        for found in existing.values_list("pk", *key, *columns)
    }
    gone = [pk for pair, (pk, _) in have.items() if pair not in wanted]
    if gone:
        existing.model.objects.filter(pk__in=gone).delete()
    changed = [
        (*pair, *values)
        for pair, values in wanted.items()
        if pair not in have or have[pair][1] != values
    ]
    upsert_rows(existing.model, key, columns, changed)


def upsert_rows(
    model: type[models.Model],
    key: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Write `rows` (values for `key` then `columns`, by column name) into the
    model's table in as few statements as the database's parameter limit
    allows: new rows are inserted, changed ones updated, the same ones left."""
    if not rows:
        return
    table = model._meta.db_table
    names = [*key, *columns]
    width = len(names)
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(len(rows), limit // width))
    one = "(" + ", ".join(["%s"] * width) + ")"
    head = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
    tail = " " + conflict_clause(table, key, columns)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            values = ", ".join([one] * len(batch))
            params = [value for row in batch for value in row]
            cursor.execute(head + values + tail, params)
