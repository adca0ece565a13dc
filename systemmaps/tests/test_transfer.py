import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hourglass.models import Stage
from systemmaps.builtin import get_template
from systemmaps.schema import validate_graph
from systemmaps.transfer import (
    MAX_IMPORT_BYTES,
    ImportInvalid,
    export_json,
    import_json,
)


def renamed(graph):
    """`graph` with the ids an import gives: n1…, e1… in order."""
    ids = {node["id"]: f"n{i}" for i, node in enumerate(graph["nodes"], 1)}
    return {
        **graph,
        "nodes": [{**node, "id": ids[node["id"]]} for node in graph["nodes"]],
        "edges": [
            {
                **edge,
                "id": f"e{i}",
                "source": ids[edge["source"]],
                "target": ids[edge["target"]],
            }
            for i, edge in enumerate(graph["edges"], 1)
        ],
    }


def problems_of(raw):
    with pytest.raises(ImportInvalid) as caught:
        import_json(raw)
    return caught.value.problems


def small_file(**overrides):
    document = {
        "schema_version": 1,
        "name": "Small",
        "nodes": [
            {"id": "a", "kind": "terminus", "label": "Start", "x": 0, "y": 0},
            {"id": "b", "kind": "terminus", "label": "Stop", "x": 220, "y": 0},
        ],
        "edges": [{"id": "ab", "source": "a", "target": "b"}],
    }
    document.update(overrides)
    return json.dumps(document).encode()


@pytest.fixture
def webinar():
    return get_template("webinar").copy_graph()


def test_export_is_indented_utf8_json_ending_with_a_newline(webinar):
    webinar["name"] = "Webinar → client, café"
    raw = export_json(webinar)
    assert raw.endswith(b"}\n")
    text = raw.decode("utf-8")
    assert "Webinar → client, café" in text
    assert '\n  "nodes": [\n' in text
    assert json.loads(text) == webinar


def test_export_writes_only_the_graph_document_in_schema_order(webinar):
    webinar["pk"] = 4
    webinar["nodes"][0]["business"] = 7
    document = json.loads(export_json(webinar))
    assert list(document) == ["schema_version", "name", "nodes", "edges"]
    assert list(document["nodes"][0]) == [
        "id", "kind", "label", "x", "y", "stage", "notes",
    ]  # fmt: skip
    assert list(document["edges"][0]) == ["id", "source", "target", "label"]


def test_import_gives_fresh_ids_in_file_order(webinar):
    graph = import_json(export_json(webinar))
    assert [node["id"] for node in graph["nodes"]] == [f"n{i}" for i in range(1, 10)]
    assert [edge["id"] for edge in graph["edges"]] == [f"e{i}" for i in range(1, 10)]
    assert graph == renamed(webinar)


def test_export_import_export_gives_the_same_file_except_ids(webinar):
    again = export_json(import_json(export_json(webinar)))
    assert again == export_json(renamed(webinar))


def test_import_ignores_database_and_business_ids():
    document = json.loads(small_file())
    document.update({"business": 5, "pk": 12, "map": 3, "version": 9})
    document["nodes"][0].update({"pk": 1, "business": 5, "map": 3, "checklist": []})
    document["edges"][0].update({"pk": 44, "map_id": 3})
    graph = import_json(json.dumps(document))
    assert graph == {
        "schema_version": 1,
        "name": "Small",
        "nodes": [
            {
                "id": "n1",
                "kind": "terminus",
                "label": "Start",
                "x": 0.0,
                "y": 0.0,
                "stage": None,
                "notes": None,
            },
            {
                "id": "n2",
                "kind": "terminus",
                "label": "Stop",
                "x": 220.0,
                "y": 0.0,
                "stage": None,
                "notes": None,
            },
        ],
        "edges": [{"id": "e1", "source": "n1", "target": "n2", "label": None}],
    }


def test_import_accepts_integer_ids_from_a_hand_written_file():
    raw = small_file(
        nodes=[
            {"id": 1, "kind": "terminus", "label": "Start", "x": 0, "y": 0},
            {"id": 2, "kind": "terminus", "label": "Stop", "x": 220, "y": 0},
        ],
        edges=[{"id": 10, "source": 1, "target": "2"}],
    )
    graph = import_json(raw)
    assert [node["id"] for node in graph["nodes"]] == ["n1", "n2"]
    assert graph["edges"] == [
        {"id": "e1", "source": "n1", "target": "n2", "label": None}
    ]


def test_import_accepts_arrows_without_ids():
    raw = small_file(
        edges=[
            {"source": "a", "target": "b"},
            {"id": "edge-2", "source": "b", "target": "a"},
        ]
    )
    graph = import_json(raw)
    assert [(e["id"], e["source"], e["target"]) for e in graph["edges"]] == [
        ("e1", "n1", "n2"),
        ("e2", "n2", "n1"),
    ]


def test_import_accepts_text_and_a_byte_order_mark():
    assert import_json(small_file().decode())["name"] == "Small"
    assert import_json(b"\xef\xbb\xbf" + small_file())["name"] == "Small"


def test_import_refuses_a_file_that_is_not_utf8():
    raw = small_file().replace(b'"Small"', b'"Caf\xe9"')
    position = raw.index(b"\xe9")
    assert problems_of(raw) == [
        f"The file is not UTF-8 text (invalid byte at position {position})."
    ]
    assert problems_of(b"\xef\xbb\xbf" + raw) == [
        f"The file is not UTF-8 text (invalid byte at position {position + 3})."
    ]


def test_import_refuses_invalid_json_with_line_and_column():
    assert problems_of(b'{\n  "name": "x",\n  nodes: []\n}') == [
        "The file is not valid JSON: Expecting property name enclosed in double "
        "quotes (line 3, column 3)."
    ]


@pytest.mark.parametrize("raw", [b"", b"   \n"])
def test_import_refuses_an_empty_file(raw):
    assert problems_of(raw) == ["The file is empty."]


@pytest.mark.parametrize("raw", [b"[]", b'"map"', b"42", b"null"])
def test_import_refuses_a_file_that_is_not_an_object(raw):
    assert problems_of(raw) == [
        "The file must hold one JSON object (a map), not a list or a value."
    ]


@pytest.mark.parametrize("version", [2, "1", None, True])
def test_import_refuses_another_schema_version(version):
    assert problems_of(small_file(schema_version=version)) == [
        "schema_version must be 1."
    ]


def test_import_names_the_top_level_field_at_fault():
    assert problems_of(small_file(name=["a"], edges={})) == [
        "Field “name”: Must be text.",
        "edges must be a list.",
    ]


def test_import_survives_ids_of_any_json_type():
    raw = small_file(
        edges=[
            {"id": {"x": 1}, "source": ["a"], "target": "b"},
            {"id": [2], "source": "a", "target": "b"},
        ]
    )
    problems = problems_of(raw)
    assert problems[0] == (
        'Arrow 1 (id {"x": 1}), field “id”: An edge id must be 1 to 64 letters, '
        "digits or - _ . :"
    )
    assert len(problems) == 3


def test_import_names_the_nodes_that_share_an_id():
    raw = small_file(
        nodes=[
            {"id": "a", "kind": "terminus", "label": "Start", "x": 0, "y": 0},
            {"id": "b", "kind": "terminus", "label": "Stop", "x": 220, "y": 0},
            {"id": "a", "kind": "task", "label": "Again", "x": 440, "y": 0},
        ]
    )
    assert problems_of(raw) == [
        "Node 3 (id “a”), field “id”: Two nodes share the id “a”."
    ]


def test_import_names_the_arrow_that_points_at_an_unknown_step():
    raw = small_file(edges=[{"id": "ab", "source": "a", "target": "zz"}])
    assert problems_of(raw) == [
        "Arrow 1 (id “ab”), field “target”: target must be the id of a node of "
        'this map. (the file says "zz")'
    ]


def test_import_names_the_arrows_that_share_an_id():
    raw = small_file(
        edges=[
            {"id": 7, "source": "a", "target": "b"},
            {"id": "7", "source": "b", "target": "a"},
        ]
    )
    assert problems_of(raw) == [
        "Arrow 2 (id “7”), field “id”: Two edges share the id “7”."
    ]


def test_import_lists_every_problem_with_node_position_id_and_field():
    raw = small_file(
        nodes=[
            {"id": "a", "kind": "box", "label": "x" * 201, "x": "left", "y": 0},
            {"id": "b", "kind": "terminus", "label": "Stop", "x": 0, "y": 0,
             "stage": "Know"},
        ]
    )  # fmt: skip
    assert problems_of(raw) == [
        "Node 1 (id “a”), field “kind”: kind must be terminus, task or decision.",
        "Node 1 (id “a”), field “label”: At most 200 characters (this has 201).",
        "Node 1 (id “a”), field “x”: Must be a number.",
        "Node 2 (id “b”), field “stage”: stage must be one of know, like, trust, "
        "try, buy, repeat, refer, or null.",
    ]


@pytest.mark.parametrize(
    ("bad_id", "shown"),
    [
        ("has space", "(id “has space”)"),
        ("x" * 65, "(id “" + "x" * 40 + "…”)"),
        (True, "(id true)"),
        (1.5, "(id 1.5)"),
        (None, None),
    ],
)
def test_import_refuses_ids_that_are_not_short_names_or_integers(bad_id, shown):
    raw = small_file(
        nodes=[
            {"id": bad_id, "kind": "terminus", "label": "Start", "x": 0, "y": 0},
            {"id": "b", "kind": "terminus", "label": "Stop", "x": 220, "y": 0},
        ],
        edges=[{"id": "e", "source": "b", "target": "b"}],
    )
    where = "Node 1 " + shown if shown else "Node 1"
    assert problems_of(raw) == [
        f"{where}, field “id”: A node id must be 1 to 64 letters, digits or - _ . :"
    ]


def test_import_refuses_non_finite_numbers():
    raw = small_file().replace(b'"x": 0,', b'"x": NaN,', 1)
    assert problems_of(raw) == [
        "The file is not valid JSON for a map: a value cannot be read."
    ]


def test_import_refuses_nesting_too_deep_to_read():
    raw = b"[" * 200_000 + b"]" * 200_000
    assert problems_of(raw) == [
        "The file is not valid JSON for a map: a value cannot be read."
    ]


def test_import_refuses_half_a_surrogate_pair():
    raw = small_file().replace(b'"Stop"', b'"St\\ud800op"')
    assert problems_of(raw) == [
        "Node 2 (id “b”), field “label”: contains an invalid character (a lone "
        "surrogate)."
    ]


def test_import_refuses_a_file_over_the_size_cap():
    raw = small_file(padding="x" * MAX_IMPORT_BYTES)
    assert problems_of(raw) == [
        f"The file is {len(raw)} bytes; at most 1048576 bytes (1 MB) can be imported."
    ]
    assert problems_of(raw.decode())[0].startswith("The file is ")


def test_import_refuses_more_steps_than_a_map_holds():
    nodes = [
        {"id": i, "kind": "task", "label": "", "x": 0, "y": 0} for i in range(1001)
    ]
    assert problems_of(small_file(nodes=nodes, edges=[])) == [
        "A map holds at most 1000 steps; this one has 1001."
    ]


# --- properties ------------------------------------------------------------

ids = st.text(string.ascii_letters + string.digits + "_.:-", min_size=1, max_size=64)
text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))
coordinates = st.floats(
    min_value=-1_000_000, max_value=1_000_000, allow_nan=False, allow_infinity=False
)


@st.composite
def graphs(draw):
    node_ids = draw(st.lists(ids, unique=True, max_size=8))
    nodes = [
        {
            "id": node_id,
            "kind": draw(st.sampled_from(["terminus", "task", "decision"])),
            "label": draw(text.filter(lambda t: len(t) <= 200)),
            "x": draw(coordinates),
            "y": draw(coordinates),
            "stage": draw(st.sampled_from([None, *Stage.values])),
            "notes": draw(st.one_of(st.none(), text)),
        }
        for node_id in node_ids
    ]
    edges = []
    if node_ids:
        for edge_id in draw(st.lists(ids, unique=True, max_size=12)):
            edges.append(
                {
                    "id": edge_id,
                    "source": draw(st.sampled_from(node_ids)),
                    "target": draw(st.sampled_from(node_ids)),
                    "label": draw(
                        st.one_of(st.none(), text.filter(lambda t: len(t) <= 60))
                    ),
                }
            )
    name = draw(text.filter(lambda t: len(t) <= 200))
    return validate_graph(
        {"schema_version": 1, "name": name, "nodes": nodes, "edges": edges}
    )


@settings(deadline=None)
@given(graphs())
def test_import_of_an_export_is_the_graph_with_ids_renamed_in_order(graph):
    assert import_json(export_json(graph)) == renamed(graph)


@settings(deadline=None)
@given(graphs())
def test_export_after_one_round_trip_is_stable(graph):
    once = export_json(import_json(export_json(graph)))
    twice = export_json(import_json(export_json(import_json(export_json(graph)))))
    assert once == twice
