import json
import string
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from hourglass.archive import ImportInvalid
from hourglass.models import Stage
from hourglass.tests.factories import MembershipFactory, UserFactory
from hourglass.tests.utils import get_drawn
from systemmaps import selectors, services
from systemmaps.builtin import get_template
from systemmaps.models import (
    Automation,
    ChecklistItem,
    ChecklistRun,
    Node,
    SystemMap,
)
from systemmaps.schema import validate_graph
from systemmaps.tests.factories import make_map
from systemmaps.tests.utils import import_file
from systemmaps.transfer import (
    MAX_IMPORT_BYTES,
    export_json,
    import_document,
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
    # A map's name is one line (labels and notes may break lines).
    name = draw(
        st.text(
            st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=200
        )
    )
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


# --- step details: owner, cost, SOP and checklist per node -------------------

STEP = {
    "owner": "bob@example.com",
    "critical": True,
    "automation": "could",
    "automation_tool": "Calendly",
    "minutes_per_run": Decimal("45"),
    "runs_per_month": Decimal("12.50"),
    "hourly_cost": Decimal("80.25"),
    "sop_why": "First impressions sell.",
    "sop_reviewed_on": date(2024, 5, 2),
    "checklist": ["Read the lead's answers", "Send the agenda"],
}
# STEP as a file has it.
FILE_STEP = {
    **STEP,
    "minutes_per_run": 45,
    "runs_per_month": 12.5,
    "hourly_cost": 80.25,
    "sop_reviewed_on": "2024-05-02",
}


def file_with_step(step, kind="task"):
    """A three-step file whose middle step (id "call", node 2) has `step`."""
    document = json.loads(small_file())
    document["nodes"].insert(
        1,
        {"id": "call", "kind": kind, "label": "Call", "x": 110, "y": 0, "step": step},
    )
    return json.dumps(document)


def test_export_writes_step_details_under_each_task_and_decision(webinar):
    ids = {node["label"]: node["id"] for node in webinar["nodes"]}
    steps = {
        ids["Consultation call"]: STEP,
        ids["Webinar"]: STEP,  # a terminus: not written
    }

    document = json.loads(export_json(webinar, steps))

    nodes = {node["label"]: node for node in document["nodes"]}
    step = nodes["Consultation call"]["step"]
    assert list(step) == [
        "owner", "critical", "automation", "automation_tool", "minutes_per_run",
        "runs_per_month", "hourly_cost", "sop_why", "sop_reviewed_on", "checklist",
    ]  # fmt: skip
    assert step["owner"] == "bob@example.com"
    assert (step["minutes_per_run"], step["runs_per_month"]) == (45, 12.5)
    assert step["hourly_cost"] == 80.25
    assert step["sop_reviewed_on"] == "2024-05-02"
    assert step["checklist"] == ["Read the lead's answers", "Send the agenda"]
    assert "step" not in nodes["Webinar"]
    assert "step" not in nodes["Proposal sent"]
    assert list(nodes["Consultation call"])[-1] == "step"


def test_import_reads_step_details_by_the_new_ids():
    imported = import_document(file_with_step(FILE_STEP))

    assert [node["id"] for node in imported.graph["nodes"]] == ["n1", "n2", "n3"]
    assert "step" not in imported.graph["nodes"][1]
    assert imported.steps == {"n2": STEP}


def test_import_of_a_step_without_details_gives_the_defaults():
    imported = import_document(file_with_step({}, kind="decision"))

    assert imported.steps == {
        "n2": {
            "owner": None,
            "critical": False,
            "automation": "manual",
            "automation_tool": "",
            "minutes_per_run": None,
            "runs_per_month": None,
            "hourly_cost": None,
            "sop_why": "",
            "sop_reviewed_on": None,
            "checklist": [],
        }
    }


def test_import_ignores_the_step_of_a_terminus_and_files_without_steps():
    assert import_document(file_with_step("nonsense", kind="terminus")).steps == {}
    assert import_document(small_file()).steps == {}


def test_step_details_survive_export_import_export(webinar):
    ids = {node["label"]: node["id"] for node in webinar["nodes"]}
    first = export_json(webinar, {ids["Consultation call"]: STEP})

    imported = import_document(first)
    again = export_json(imported.graph, imported.steps)

    assert json.loads(again) == renamed(json.loads(first))


def test_import_rounds_numbers_to_cents():
    imported = import_document(
        file_with_step({"minutes_per_run": 1.005, "hourly_cost": 3})
    )

    assert imported.steps["n2"]["minutes_per_run"] == Decimal("1.01")
    assert imported.steps["n2"]["hourly_cost"] == Decimal("3.00")


@pytest.mark.parametrize(
    ("step", "field", "message"),
    [
        ({"minutes_per_run": -5}, "step.minutes_per_run", "must be 0 or more."),
        ({"runs_per_month": "10"}, "step.runs_per_month", "must be a number"),
        ({"hourly_cost": True}, "step.hourly_cost", "must be a number"),
        ({"hourly_cost": 1e30}, "step.hourly_cost", "must be at most 99999999.99"),
        ({"automation": "robots"}, "step.automation", "manual, could, automated"),
        ({"critical": "yes"}, "step.critical", "must be true or false."),
        ({"automation_tool": "x" * 101}, "step.automation_tool", "At most 100"),
        ({"sop_why": 5}, "step.sop_why", "must be text."),
        ({"sop_reviewed_on": "2.5.2024"}, "step.sop_reviewed_on", "YYYY-MM-DD"),
        ({"owner": 7}, "step.owner", "a member's email address"),
        ({"checklist": "Send it"}, "step.checklist", "must be a list of texts."),
        ({"checklist": ["ok", " "]}, "step.checklist", "item 2 must be text"),
        ({"checklist": [1]}, "step.checklist", "item 1 must be text"),
        ({"checklist": ["x"] * 201}, "step.checklist", "At most 200 items."),
    ],
)
def test_import_refuses_bad_step_values_naming_node_and_field(step, field, message):
    problems = problems_of(file_with_step(step))

    assert len(problems) == 1
    assert problems[0].startswith(f"Node 2 (id “call”), field “{field}”: ")
    assert message in problems[0]


def test_import_refuses_a_step_that_is_not_an_object():
    assert problems_of(file_with_step(["Send it"])) == [
        "Node 2 (id “call”), field “step”: must be an object of step details."
    ]


def test_import_lists_graph_and_step_problems_together():
    document = json.loads(file_with_step({"minutes_per_run": -1}))
    document["nodes"][0]["kind"] = "circle"

    problems = problems_of(json.dumps(document))

    assert [p.split(":")[0] for p in problems] == [
        "Node 1 (id “a”), field “kind”",
        "Node 2 (id “call”), field “step.minutes_per_run”",
    ]


def test_import_refuses_half_a_surrogate_pair_in_a_checklist():
    raw = file_with_step({"checklist": ["ok"]}).replace('"ok"', '"\\ud800"')

    assert problems_of(raw) == [
        "Node 2 (id “call”), field “step.checklist”: contains an invalid character "
        "(a lone surrogate)."
    ]


# --- through the map's pages: exports and imports with step details ----------


def page_url(name: str, system_map=None, slug: str = "acme", **kwargs) -> str:
    if system_map is not None:
        kwargs["pk"] = system_map.pk
    return reverse(f"systemmaps:{name}", kwargs={"slug": slug, **kwargs})


def upload(content: bytes, name: str = "map.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


def node_of(system_map, client_id: str) -> Node:
    return Node.objects.select_related("owner__user").get(
        map=system_map, client_id=client_id
    )


@pytest.fixture
def detailed_map(webinar_map, acme, bob, erin):
    """The webinar map with owners, costs, an SOP and checklists."""
    call = node_of(webinar_map, "call")
    services.step_update(
        node=call,
        owner=bob.memberships.get(business=acme),
        critical=True,
        automation=Automation.COULD,
        automation_tool="Calendly",
        minutes_per_run=Decimal("45"),
        runs_per_month=Decimal("12.5"),
        hourly_cost=Decimal("80"),
    )
    services.sop_update(
        node=call, why="First impressions.", reviewed_on=date(2024, 5, 2)
    )
    services.checklist_item_add(node=call, text="Send the agenda")
    services.checklist_item_add(node=call, text="Book the call")
    services.step_update(
        node=node_of(webinar_map, "signed"),
        owner=erin.memberships.get(business=acme),
        automation=Automation.AUTOMATED,
    )
    return webinar_map


@pytest.mark.django_db
def test_json_export_has_each_steps_details_with_the_owner_as_email(
    client_for, bob, detailed_map
):
    response = client_for(bob).get(page_url("map-export", detailed_map, fmt="json"))

    nodes = {node["id"]: node for node in json.loads(response.content)["nodes"]}
    assert nodes["call"]["step"] == {
        "owner": "bob@example.com",
        "critical": True,
        "automation": "could",
        "automation_tool": "Calendly",
        "minutes_per_run": 45,
        "runs_per_month": 12.5,
        "hourly_cost": 80,
        "sop_why": "First impressions.",
        "sop_reviewed_on": "2024-05-02",
        "checklist": ["Send the agenda", "Book the call"],
    }
    assert nodes["signed"]["step"]["owner"] == "erin@example.com"
    assert nodes["nurture"]["step"]["owner"] is None
    assert "step" not in nodes["start"]


@pytest.mark.django_db
def test_json_export_queries_do_not_grow_with_steps(
    client_for, acme, alice, bob, django_assert_max_num_queries
):
    owner = bob.memberships.get(business=acme)

    def map_with(count: int):
        graph = {
            "schema_version": 1,
            "name": f"{count} steps",
            "nodes": [
                {"id": f"n{i}", "kind": "task", "label": f"Step {i}"}
                | {"x": 200.0 * i, "y": 0.0, "stage": None, "notes": None}
                for i in range(count)
            ],
            "edges": [],
        }
        system_map = make_map(acme, alice, graph["name"], graph=graph)
        Node.objects.filter(map=system_map).update(owner=owner, critical=True)
        for node in system_map.nodes.all():
            services.checklist_item_add(node=node, text="Do it")
        return system_map

    small, large = map_with(5), map_with(200)
    client = client_for(alice)
    with CaptureQueriesContext(connection) as queries:
        client.get(page_url("map-export", small, fmt="json"))
    with django_assert_max_num_queries(len(queries)):
        response = client.get(page_url("map-export", large, fmt="json"))
    steps = [node["step"] for node in json.loads(response.content)["nodes"]]
    assert len(steps) == 200
    assert all(step["owner"] == "bob@example.com" for step in steps)


@pytest.mark.django_db
def test_importing_an_export_restores_details_and_owners_by_email(
    client_for, alice, erin, detailed_map
):
    exported = client_for(alice).get(page_url("map-export", detailed_map, fmt="json"))
    # An email written in other letter case is the same member.
    content = exported.content.replace(b"erin@example.com", b"Erin@Example.com")

    response = import_file(client_for(erin), content, stages=["try"], follow=True)

    imported = SystemMap.objects.exclude(pk=detailed_map.pk).get()
    assert [str(m) for m in response.context["messages"]] == [
        f"“{imported.name}” is imported."
    ]
    call = node_of(imported, "n6")  # the sixth step of the file
    assert call.label == "Consultation call"
    assert call.owner.user.email == "bob@example.com"
    assert (call.critical, call.automation, call.automation_tool) == (
        True,
        "could",
        "Calendly",
    )
    assert (call.minutes_per_run, call.runs_per_month, call.hourly_cost) == (
        Decimal("45"),
        Decimal("12.5"),
        Decimal("80"),
    )
    assert (call.sop_why, call.sop_reviewed_on) == (
        "First impressions.",
        date(2024, 5, 2),
    )
    assert list(call.checklist_items.values_list("text", "position")) == [
        ("Send the agenda", 0),
        ("Book the call", 1),
    ]
    assert node_of(imported, "n8").owner.user == erin
    assert not ChecklistRun.objects.filter(node__map=imported).exists()


@pytest.mark.django_db
def test_import_into_another_business_keeps_details_but_not_unknown_owners(
    client_for, alice, charlie, other_co, detailed_map
):
    exported = client_for(alice).get(page_url("map-export", detailed_map, fmt="json"))

    response = import_file(
        client_for(charlie),
        exported.content,
        slug=other_co.slug,
        stages=["try"],
        follow=True,
    )

    imported = SystemMap.objects.get(business=other_co)
    assert [str(m) for m in response.context["messages"]] == [
        "“Webinar to client” is imported. 2 steps have no owner: no member of this "
        "business has the email bob@example.com, erin@example.com."
    ]
    call = node_of(imported, "n6")
    assert (call.owner, call.critical, call.hourly_cost) == (None, True, Decimal("80"))
    assert call.checklist_items.count() == 2
    assert not Node.objects.filter(map=imported, owner__isnull=False).exists()


@pytest.mark.django_db
def test_import_with_bad_step_values_lists_them_and_creates_nothing(
    client_for, erin, acme
):
    document = json.loads(file_with_step({"minutes_per_run": -5, "critical": 1}))

    response = client_for(erin).post(
        page_url("map-import"), {"file": upload(json.dumps(document).encode())}
    )

    assert response.status_code == 422
    assert response.context["problems"] == [
        "Node 2 (id “call”), field “step.critical”: must be true or false.",
        "Node 2 (id “call”), field “step.minutes_per_run”: must be 0 or more.",
    ]
    assert "step.minutes_per_run" in response.content.decode()
    assert not SystemMap.objects.exists()
    assert not ChecklistItem.objects.exists()


@pytest.mark.django_db
def test_svg_and_mermaid_exports_show_owner_critical_and_automation(
    client_for, bob, detailed_map
):
    client = client_for(bob)

    svg = get_drawn(client, page_url("map-export", detailed_map, fmt="svg")).content
    mermaid = client.get(page_url("map-export", detailed_map, fmt="mmd")).content

    text = svg.decode()
    assert "BB · ★\u00a0Critical ·" in text and "⚡\u00a0Could be automated" in text
    assert "EE · ⚙\u00a0Automated" in text
    assert (
        '["Consultation call (BB · ★\u00a0Critical · ⚡\u00a0Could be automated)"]'
        in mermaid.decode()
    )
    assert '{"Signed? (EE · ⚙\u00a0Automated)"}' in mermaid.decode()


@pytest.mark.django_db
def test_owner_names_with_markup_are_escaped_in_the_exports(
    client_for, acme, alice, webinar_map
):
    user = UserFactory(email="mallory@example.com", name='<script>x "N\\N')
    owner = MembershipFactory(business=acme, user=user)
    services.step_update(node=node_of(webinar_map, "call"), owner=owner)
    client = client_for(alice)

    svg = get_drawn(client, page_url("map-export", webinar_map, fmt="svg")).content
    mermaid = client.get(page_url("map-export", webinar_map, fmt="mmd")).content

    assert user.initials == '<"'
    assert b"<script" not in svg
    shown = [el.text for el in ET.fromstring(svg).iter() if el.tag.endswith("text")]
    assert '<"' in shown
    assert '["Consultation call (#lt;#quot;)"]' in mermaid.decode()


@pytest.mark.django_db
def test_map_page_drawing_follows_owner_changes_without_a_new_version(
    client_for, acme, alice, bob, webinar_map
):
    client = client_for(alice)

    def drawing() -> str:
        page = get_drawn(client, page_url("map-detail", webinar_map)).content.decode()
        svg = page[page.index('data-testid="map-svg"') :]
        return svg[: svg.index("</svg>")]

    # (The drawing, not the page: a CSRF token may hold "BB".)
    assert "BB" not in drawing()

    services.step_update(
        node=node_of(webinar_map, "call"),
        owner=bob.memberships.get(business=acme),
        critical=True,
    )
    assert "BB · ★\u00a0Critical" in drawing()
    assert SystemMap.objects.get(pk=webinar_map.pk).version == 1


@pytest.mark.django_db
def test_a_two_line_label_survives_json_export_and_import(
    client_for, alice, webinar_map
):
    graph = selectors.graph_of(webinar_map)
    for node in graph["nodes"]:
        if node["id"] == "call":
            node["label"] = "Bake and decorate\n(day before)"
            node["notes"] = "First line\nSecond line"
    services.map_save_graph(
        system_map=webinar_map, graph=graph, acting_user=alice, expected_version=1
    )
    client = client_for(alice)

    exported = client.get(page_url("map-export", webinar_map, fmt="json"))
    assert '"Bake and decorate\\n(day before)"' in exported.content.decode()
    import_file(client, exported.content, stages=["try"])

    imported = SystemMap.objects.exclude(pk=webinar_map.pk).get()
    call = node_of(imported, "n6")
    assert call.label == "Bake and decorate\n(day before)"
    assert call.notes == "First line\nSecond line"
    # The map's name stays one line.
    assert "\n" not in imported.name
