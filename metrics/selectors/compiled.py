"""Queries of the weekly review compiled once per process.

A drawn review reads its rollup rows in a handful of small queries; the ORM
compiling each one (about 0.2 ms) costs as much as reading the 2,600 cells of
200 metrics, or more than reading a small table. So each query is built by the
ORM once, with stand-in arguments, and its SQL is run with the real ones: the
ORM still writes the SQL, converts the columns (SQLite stores dates as text and
decimals as numbers; PostgreSQL needs no conversion) and builds the models, so
the rows are exactly those of the queryset. Each run is one query, counted like
any other.
"""

from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import QuerySet

# A query: a function of its arguments (ints and dates) returning the queryset,
# either `values_list` (rows come as tuples) or of a model (rows come as models).
Build = Callable[..., QuerySet]


class _Compiled(NamedTuple):
    sql: str
    # Which argument each parameter of the SQL is.
    positions: list[int]
    compiler: Any
    converters: dict
    # The model built of each row and the attribute each column is; None for
    # `values_list` rows.
    model: Any
    attnames: list[str] | None


def _stand_in(kind: type, i: int) -> int | date:
    """An argument's stand-in, distinct from every other one's."""
    return date(1900 + i, 1, 1) if kind is date else -1000 - i


def _adapt(ops, value: int | date):
    return ops.adapt_datefield_value(value) if isinstance(value, date) else value


@lru_cache(maxsize=64)
def _compiled(alias: str, build: Build, kinds: tuple[type, ...]) -> _Compiled:
    stand_ins = [_stand_in(kind, i) for i, kind in enumerate(kinds)]
    queryset = build(*stand_ins).using(alias)
    compiler = queryset.query.get_compiler(alias)
    sql, params = compiler.as_sql()
    adapted = [_adapt(compiler.connection.ops, a) for a in stand_ins]
    # (A parameter that is none of the arguments raises here, at the first run.)
    positions = [adapted.index(p) for p in params]
    columns = [s[0] for s in compiler.select]
    converters = compiler.get_converters(columns)
    if not queryset.query.values_select:
        model, attnames = queryset.model, [c.target.attname for c in columns]
    else:
        model = attnames = None
    return _Compiled(sql, positions, compiler, converters, model, attnames)


def run(build: Build, *args: int | date) -> list:
    """The rows of `build(*args)`: tuples of a `values_list`, else models.
    `build` must be a module-level function (it is the cache's key) whose SQL
    depends on its arguments' types and number only."""
    compiled = _compiled(connection.alias, build, tuple(map(type, args)))
    ops = connection.ops
    params = [_adapt(ops, args[i]) for i in compiled.positions]
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    if compiled.converters:
        rows = compiled.compiler.apply_converters(rows, compiled.converters)
    if compiled.model is None:
        return rows if isinstance(rows, list) else list(map(tuple, rows))
    from_db, alias, attnames = (
        compiled.model.from_db,
        connection.alias,
        compiled.attnames,
    )
    return [from_db(alias, attnames, row) for row in rows]
