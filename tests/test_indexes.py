"""No redundant index: an index whose columns begin another index or unique
constraint of its table only costs writes (every entry save, every rollup row)
and plan choices. Checked on the database the suite runs on (PostgreSQL in CI),
through Django's introspection of the migrated tables."""

import pytest
from django.apps import apps
from django.db import connection

OUR_APPS = ("hourglass", "systemmaps", "metrics")


def indexes_of(table: str) -> dict[str, tuple[list[str], bool]]:
    """name → (columns, unique) of the table's plain indexes and unique
    constraints; expression indexes have no columns and are left out."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {
        name: (list(info["columns"]), bool(info["unique"] or info["primary_key"]))
        for name, info in found.items()
        if (info["index"] or info["unique"] or info["primary_key"])
        and info["columns"]
        and not info.get("foreign_key")
        and not info.get("check")
    }


def redundant(indexes: dict[str, tuple[list[str], bool]]) -> list[str]:
    """Non-unique indexes whose columns are a leading part of another index's."""
    out = []
    for name, (columns, unique) in indexes.items():
        if unique:
            continue
        for other, (other_columns, _) in indexes.items():
            if other == name:
                continue
            if other_columns[: len(columns)] == columns and (
                len(other_columns) > len(columns) or other < name
            ):
                out.append(f"{name} {columns} is covered by {other} {other_columns}")
                break
    return out


def test_the_rule_finds_a_covered_index_and_keeps_the_others():
    indexes = {
        "pk": (["id"], True),
        "by_metric": (["metric_id"], False),
        "metric_week": (["metric_id", "week"], True),
        "by_week": (["week"], False),
        "by_business_week": (["business_id", "week"], False),
    }
    assert redundant(indexes) == [
        "by_metric ['metric_id'] is covered by metric_week ['metric_id', 'week']"
    ]


@pytest.mark.django_db
def test_no_table_of_ours_has_a_redundant_index():
    found = []
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            table = model._meta.db_table
            found += [f"{table}: {line}" for line in redundant(indexes_of(table))]
    assert found == []


@pytest.mark.django_db
def test_every_foreign_key_still_leads_an_index():
    """The other side of the rule: a foreign key whose own index was dropped as
    redundant is still the first column of an index (deletes that cascade and
    joins from the parent stay indexed)."""
    unindexed = []
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            table = model._meta.db_table
            leading = {columns[0] for columns, _ in indexes_of(table).values()}
            unindexed += [
                f"{table}.{field.column}"
                for field in model._meta.concrete_fields
                if field.is_relation and field.column not in leading
            ]
    assert unindexed == []
