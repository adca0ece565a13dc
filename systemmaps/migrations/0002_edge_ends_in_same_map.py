"""Both ends of an arrow belong to the arrow's own map, enforced by the database.

Django cannot declare a composite foreign key, so: on PostgreSQL, (source_id,
map_id) and (target_id, map_id) reference node (id, map_id); on SQLite, triggers
refuse an insert or update that would cross maps.
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE systemmaps_node ADD CONSTRAINT node_id_map_unique UNIQUE (id, map_id)",
    "ALTER TABLE systemmaps_edge ADD CONSTRAINT edge_source_in_same_map "
    "FOREIGN KEY (source_id, map_id) REFERENCES systemmaps_node (id, map_id) "
    "ON DELETE CASCADE",
    "ALTER TABLE systemmaps_edge ADD CONSTRAINT edge_target_in_same_map "
    "FOREIGN KEY (target_id, map_id) REFERENCES systemmaps_node (id, map_id) "
    "ON DELETE CASCADE",
]
PG_BACKWARD = [
    "ALTER TABLE systemmaps_edge DROP CONSTRAINT edge_target_in_same_map",
    "ALTER TABLE systemmaps_edge DROP CONSTRAINT edge_source_in_same_map",
    "ALTER TABLE systemmaps_node DROP CONSTRAINT node_id_map_unique",
]

_SQLITE_CHECK = """
CREATE TRIGGER {name} BEFORE {event} ON systemmaps_edge
WHEN (SELECT map_id FROM systemmaps_node WHERE id = NEW.source_id) IS NOT NEW.map_id
  OR (SELECT map_id FROM systemmaps_node WHERE id = NEW.target_id) IS NOT NEW.map_id
BEGIN
  SELECT RAISE(ABORT, 'edge_in_same_map: both ends of an arrow must be in its map');
END
"""
SQLITE_FORWARD = [
    _SQLITE_CHECK.format(name="edge_in_same_map_insert", event="INSERT"),
    _SQLITE_CHECK.format(
        name="edge_in_same_map_update", event="UPDATE OF source_id, target_id, map_id"
    ),
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS edge_in_same_map_insert",
    "DROP TRIGGER IF EXISTS edge_in_same_map_update",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("systemmaps", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        ),
    ]
