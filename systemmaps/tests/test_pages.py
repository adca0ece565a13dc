"""The pages of system maps: lists, one map, creating, importing and exporting,
settings, versions, the trash, and the maps on the hourglass overview."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from hourglass.models import User
from hourglass.tests.utils import get_drawn
from systemmaps import document, selectors, services
from systemmaps.builtin import TEMPLATES, get_template
from systemmaps.models import MapStatus, Node, Revision, SystemMap
from systemmaps.transfer import MAX_IMPORT_BYTES, export_json

from .factories import graph_with_errors, graph_with_warnings, make_map, webinar_graph
from .utils import import_file, maps_snapshot


def url(name: str, system_map: SystemMap | None = None, **kwargs) -> str:
    if system_map is not None:
        kwargs["pk"] = system_map.pk
    return reverse(f"systemmaps:{name}", kwargs={"slug": "acme", **kwargs})


def listed(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-map-id="(\d+)"', response.text)}


def svg_in(html: str, testid: str) -> str:
    """The inline SVG inside the element marked `data-testid=testid`."""
    rest = html[html.index(f'data-testid="{testid}"') :]
    return rest[rest.index("<svg") : rest.index("</svg>") + len("</svg>")]


def structure(graph: dict) -> tuple:
    """What a map says, whatever its ids: its steps and its arrows by label."""
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    return (
        sorted(
            (n["kind"], n["label"], n["x"], n["y"], n["stage"] or "", n["notes"] or "")
            for n in graph["nodes"]
        ),
        sorted(
            (labels[e["source"]], labels[e["target"]], e["label"] or "")
            for e in graph["edges"]
        ),
    )


def renumbered(document: dict) -> dict:
    """The document with the ids an import gives: n1…nN and e1…eM in file order."""
    ids = {n["id"]: f"n{i}" for i, n in enumerate(document["nodes"], 1)}
    return {
        **document,
        "nodes": [{**n, "id": ids[n["id"]]} for n in document["nodes"]],
        "edges": [
            {
                **e,
                "id": f"e{i}",
                "source": ids[e["source"]],
                "target": ids[e["target"]],
            }
            for i, e in enumerate(document["edges"], 1)
        ],
    }


def upload(content: bytes, name: str = "map.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/json")


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


# ---------------------------------------------------------------------------
# Map list
# ---------------------------------------------------------------------------


@pytest.fixture
def three_maps(acme, alice, erin, other_map) -> dict[str, SystemMap]:
    """A clean draft, a draft with errors, an active map with a warning, plus a
    deleted map of Acme and a map of another business, neither of them listed."""
    maps = {
        "clean": make_map(
            acme, alice, "Webinar to client", half="marketing", stages=["like", "try"]
        ),
        "errors": make_map(
            acme,
            erin,
            "Broken onboarding",
            graph=graph_with_errors("Broken onboarding"),
            half="operations",
            stages=["buy"],
        ),
        "warnings": make_map(
            acme,
            alice,
            "Doubled arrow",
            graph=graph_with_warnings("Doubled arrow"),
            half="marketing",
            stages=["know"],
        ),
    }
    SystemMap.objects.filter(pk=maps["warnings"].pk).update(status=MapStatus.ACTIVE)
    gone = make_map(acme, alice, "Gone", stages=["try"])
    services.map_delete(system_map=gone, acting_user=alice)
    return maps


def test_map_list_shows_the_businesss_live_maps(client_for, bob, three_maps):
    response = client_for(bob).get(url("map-list"))

    assert response.status_code == 200
    assert listed(response) == {m.pk for m in three_maps.values()}
    assert "Their secret system" not in response.text
    assert "Broken onboarding" in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("half=operations", {"errors"}),
        ("half=marketing", {"clean", "warnings"}),
        ("stage=try", {"clean"}),
        ("stage=like", {"clean"}),
        ("stage=buy", {"errors"}),
        ("stage=refer", set()),
        ("status=active", {"warnings"}),
        ("status=draft", {"clean", "errors"}),
        ("lint=errors", {"errors"}),
        ("lint=warnings", {"warnings"}),
        ("lint=clean", {"clean"}),
        ("half=marketing&lint=clean", {"clean"}),
        ("stage=bogus", {"clean", "errors", "warnings"}),
    ],
)
def test_map_list_filters(alice_client, three_maps, query, expected):
    response = alice_client.get(url("map-list") + "?" + query)

    assert response.status_code == 200
    assert listed(response) == {three_maps[key].pk for key in expected}


def test_map_list_says_when_no_map_matches_the_filters(alice_client, three_maps):
    response = alice_client.get(url("map-list") + "?stage=refer")

    assert "No map matches these filters." in response.text
    assert "No maps yet" not in response.text


def test_map_list_without_maps_invites_to_map_the_first_system(alice_client, acme):
    response = alice_client.get(url("map-list"))

    assert response.status_code == 200
    assert listed(response) == set()
    assert "No maps yet" in response.text
    assert url("map-new") in response.text
    assert url("map-trash") not in response.text


def test_map_list_links_to_the_trash_with_the_count_of_deleted_maps(
    alice_client, acme, alice, three_maps
):
    long_gone = make_map(acme, alice, "Long gone")
    SystemMap.objects.filter(pk=long_gone.pk).update(
        deleted_at=timezone.now() - timedelta(days=31)
    )
    services.map_delete(system_map=three_maps["errors"], acting_user=alice)

    response = alice_client.get(url("map-list"))

    # "Gone" and "Broken onboarding"; "Long gone" is past the 30 days.
    assert "2 deleted maps in the trash" in response.text
    assert f'href="{url("map-trash")}"' in response.text
    assert three_maps["errors"].pk not in listed(response)


def test_map_list_queries_do_not_grow_with_the_number_of_maps(
    client_for, acme, alice, erin
):
    client = client_for(alice)
    for i in range(2):
        make_map(acme, [alice, erin][i % 2], f"Map {i}", graph=document.empty_graph())
    client.get(url("map-list"))  # the first visit remembers the business
    small = count_queries(client, url("map-list"))

    for i in range(2, 20):
        make_map(acme, [alice, erin][i % 2], f"Map {i}", graph=document.empty_graph())
    large = count_queries(client, url("map-list"))

    assert large == small


# ---------------------------------------------------------------------------
# One map
# ---------------------------------------------------------------------------


def test_map_page_draws_the_map_inline_without_any_script(alice_client, acme, alice):
    graph = webinar_graph()
    graph["nodes"][1]["label"] = "<script>alert('map')</script> nurture"
    system_map = make_map(acme, alice, "Webinar to client", graph=graph)

    response = get_drawn(alice_client, system_map.get_absolute_url())

    assert response.status_code == 200
    svg = svg_in(response.text, "map-svg")
    assert "<script" not in svg.lower()
    assert "Onboard new client" in svg
    assert "<script>alert" not in response.text


def test_map_page_lists_the_lint_findings(alice_client, acme, alice):
    system_map = make_map(acme, alice, "Broken", graph=graph_with_errors("Broken"))

    response = alice_client.get(system_map.get_absolute_url())

    assert 'data-testid="lint-list"' in response.text
    assert 'data-rule="isolated"' in response.text
    assert 'data-rule="decision-branches"' in response.text
    assert 'data-testid="lint-clean"' not in response.text


def test_map_page_says_when_the_map_is_clean(alice_client, webinar_map):
    response = alice_client.get(webinar_map.get_absolute_url())

    assert 'data-testid="lint-clean"' in response.text
    assert 'data-testid="lint-list"' not in response.text


def test_map_page_shows_the_analysis(client_for, bob, webinar_map):
    html = client_for(bob).get(webinar_map.get_absolute_url()).text

    paths = html[html.index('data-testid="paths"') :]
    assert (
        "<tr><td>Webinar</td><td>Onboard new client</td><td>1</td><td>7</td></tr>"
        in paths
    )
    assert (
        "<tr><td>Webinar</td><td>Future email automation bucket</td>"
        "<td>1</td><td>5</td></tr>" in paths
    )
    assert (
        '<ul class="inline-list" data-testid="steps-per-stage">'
        "<li>Like: <strong>1</strong></li><li>Try: <strong>2</strong></li>"
        "<li>Buy: <strong>3</strong></li></ul>"
    ) in html
    branches = html[html.index('data-testid="branches"') :]
    assert "<strong>Booked a consultation?</strong>" in branches
    assert '<span class="badge">yes</span> → Consultation call' in branches
    assert '<span class="badge">no</span> → Down-sell campaign' in branches
    assert "<strong>Signed?</strong>" in branches
    assert '<span class="badge">yes</span> → Onboard new client' in branches
    assert '<span class="badge">no</span> → Email nurture campaign' in branches


def test_map_page_lists_the_versions(alice_client, webinar_map, erin):
    services.map_save_graph(
        system_map=webinar_map,
        graph=webinar_graph(),
        acting_user=erin,
        expected_version=1,
        note="Moved the call",
    )

    html = alice_client.get(webinar_map.get_absolute_url()).text

    for version in (1, 2):
        assert url("revision-detail", webinar_map, version=version) in html
    assert "Erin Edwards · Moved the call" in html
    assert url("revision-list", webinar_map) in html


def test_member_reads_the_map_page_without_edit_buttons(client_for, bob, webinar_map):
    response = client_for(bob).get(webinar_map.get_absolute_url())

    assert response.status_code == 200
    assert url("map-settings", webinar_map) not in response.text
    assert url("map-delete", webinar_map) not in response.text
    assert url("map-export", webinar_map, fmt="json") in response.text


# ---------------------------------------------------------------------------
# New map: the wizard
# ---------------------------------------------------------------------------

WIZARD = {
    "product": "Monthly bookkeeping package",
    "name": "",
    "half": "marketing",
    "stages": ["try"],
    "start": "Webinar",
    "stop": "Onboard new client",
    "tasks": "Email nurture campaign\n\n  Consultation call \r\nProposal sent\n",
}


def test_wizard_page(client_for, erin):
    response = client_for(erin).get(url("map-new"))

    assert response.status_code == 200
    assert 'data-testid="wizard-submit"' in response.text


def test_wizard_maps_start_tasks_and_stop_in_a_row(client_for, erin, acme):
    response = client_for(erin).post(url("map-new"), WIZARD)

    system_map = SystemMap.objects.get(business=acme)
    assert response.status_code == 302
    assert response["Location"] == system_map.get_absolute_url()
    assert system_map.name == "Monthly bookkeeping package"
    assert system_map.product == "Monthly bookkeeping package"
    assert (system_map.half, system_map.stages) == ("marketing", ["try"])
    assert system_map.created_by == erin
    assert (system_map.version, system_map.lint_errors) == (1, 0)
    graph = selectors.graph_of(system_map)
    steps = [(n["kind"], n["label"], n["stage"]) for n in graph["nodes"]]
    assert steps == [
        ("terminus", "Webinar", "try"),
        ("task", "Email nurture campaign", "try"),
        ("task", "Consultation call", "try"),
        ("task", "Proposal sent", "try"),
        ("terminus", "Onboard new client", "try"),
    ]
    ids = [n["id"] for n in graph["nodes"]]
    assert [(e["source"], e["target"]) for e in graph["edges"]] == list(
        zip(ids, ids[1:], strict=False)
    )
    xs = [n["x"] for n in graph["nodes"]]
    assert xs == sorted(set(xs))
    assert len({n["y"] for n in graph["nodes"]}) == 1


def test_wizard_names_the_map_when_asked(client_for, erin, acme):
    client_for(erin).post(
        url("map-new"), {**WIZARD, "name": "Webinar to client", "tasks": ""}
    )

    system_map = SystemMap.objects.get(business=acme)
    assert system_map.name == "Webinar to client"
    assert [n.label for n in system_map.nodes.order_by("id")] == [
        "Webinar",
        "Onboard new client",
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"product": ""}, "product", "This field is required."),
        ({"stages": []}, "stages", "Pick at least one stage."),
        (
            {"tasks": "Email nurture\nConsultation call\n" + "x" * 201},
            "tasks",
            "Line 3 is longer than 200 characters.",
        ),
        (
            {"tasks": "Email nurture\n" + "y" * 201 + "\nCall\n" + "z" * 300},
            "tasks",
            "Line 4 is longer than 200 characters.",
        ),
    ],
    ids=["no-product", "no-stage", "long-task", "two-long-tasks"],
)
def test_wizard_refuses_bad_input_naming_the_field(
    client_for, erin, acme, change, field, message
):
    response = client_for(erin).post(url("map-new"), {**WIZARD, **change})

    assert response.status_code == 422
    assert message in response.context["form"].errors[field]
    assert message in response.text
    assert not SystemMap.objects.exists()


def test_wizard_counts_lines_as_typed_including_blank_first_lines(
    client_for, erin, acme
):
    # The person sees their text as typed, blank first lines included.
    tasks = "\n\nEmail nurture\n" + "x" * 201
    response = client_for(erin).post(url("map-new"), {**WIZARD, "tasks": tasks})

    assert response.status_code == 422
    assert response.context["form"].errors["tasks"] == [
        "Line 4 is longer than 200 characters."
    ]


# ---------------------------------------------------------------------------
# Templates
# ---------------------------------------------------------------------------


def test_template_page_lists_every_built_in_template(client_for, bob):
    response = client_for(bob).get(url("template-list"))

    assert response.status_code == 200
    for template in TEMPLATES:
        assert f'data-template="{template.key}"' in response.text
        assert template.name in response.text
    # A member reads them but cannot use one.
    assert url("template-use", key="webinar") not in response.text


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_using_a_template_makes_a_map_equal_to_it(client_for, erin, acme, template):
    response = client_for(erin).post(url("template-use", key=template.key))

    system_map = SystemMap.objects.get(business=acme)
    assert response.status_code == 302
    assert response["Location"] == system_map.get_absolute_url()
    assert system_map.name == template.name
    assert system_map.half == template.half
    assert system_map.stages == template.stages
    assert system_map.lint_errors == 0
    assert selectors.graph_of(system_map) == {**template.graph, "name": template.name}


@pytest.mark.parametrize("code", ["fr", "ko", "pl", "ro"])
def test_a_template_map_starts_in_its_owner_language(client_for, erin, acme, code):
    User.objects.filter(pk=erin.pk).update(language=code)
    template = get_template("webinar")

    client_for(erin).post(url("template-use", key="webinar"))

    graph = selectors.graph_of(SystemMap.objects.get(business=acme))
    with translation.override(code):
        expected = template.copy_graph()
    english = [n["label"] for n in template.graph["nodes"]]
    labels = [n["label"] for n in graph["nodes"]]
    assert labels == [n["label"] for n in expected["nodes"]]
    # Every step, note and arrow label of the template is in the language
    # (a loanword, like "Webinar" in Polish and Romanian, may stay).
    assert set(labels) & set(english) <= {"Webinar"}
    notes = [n["notes"] for n in graph["nodes"] if n["notes"]]
    english_notes = {n["notes"] for n in template.graph["nodes"] if n["notes"]}
    assert notes and not set(notes) & english_notes
    arrows = {e["label"] for e in graph["edges"] if e["label"]}
    assert arrows and arrows.isdisjoint({"yes", "no"})


def test_the_wizard_gives_its_steps_the_stages_chosen(client_for, erin, acme):
    data = {**WIZARD, "stages": ["try", "like", "trust"]}

    client_for(erin).post(url("map-new"), data)

    graph = selectors.graph_of(SystemMap.objects.get(business=acme))
    # Five steps over like, trust, try (in the hourglass's order, whatever the
    # order ticked): 2 like, 2 trust, 1 try.
    assert [n["stage"] for n in graph["nodes"]] == [
        "like",
        "like",
        "trust",
        "trust",
        "try",
    ]


def test_unknown_template_is_404(alice_client, acme):
    response = alice_client.post(url("template-use", key="no-such-template"))

    assert response.status_code == 404
    assert not SystemMap.objects.exists()


# ---------------------------------------------------------------------------
# Import and export
# ---------------------------------------------------------------------------


def test_import_page(client_for, erin):
    assert client_for(erin).get(url("map-import")).status_code == 200


def test_importing_an_exported_map_makes_a_new_map_with_new_ids(
    alice_client, webinar_map
):
    exported = alice_client.get(url("map-export", webinar_map, fmt="json")).content

    response = import_file(
        alice_client,
        exported,
        name="webinar.json",
        half="operations",
        stages=["buy", "try"],
    )

    imported = SystemMap.objects.exclude(pk=webinar_map.pk).get()
    assert response.status_code == 302
    assert response["Location"] == imported.get_absolute_url()
    # The original keeps its name; the copy says when it came in.
    assert imported.name.startswith("Webinar to client (imported ")
    assert (imported.half, imported.stages) == ("operations", ["try", "buy"])
    graph = selectors.graph_of(imported)
    assert structure(graph) == structure(webinar_graph())
    assert [n["id"] for n in graph["nodes"]] == [f"n{i}" for i in range(1, 10)]
    assert Revision.objects.get(map=imported).note == "Imported from webinar.json"
    assert not set(Node.objects.filter(map=imported).values_list("pk", flat=True)) & {
        *Node.objects.filter(map=webinar_map).values_list("pk", flat=True)
    }


def test_export_then_import_then_export_gives_the_same_file_but_ids(
    alice_client, acme, alice
):
    graph = graph_with_warnings()
    graph["nodes"][2]["notes"] = "Ask: “when suits you?”"
    original = make_map(acme, alice, "Webinar to client", graph=graph)
    first = alice_client.get(url("map-export", original, fmt="json")).content
    import_file(alice_client, first, stages=["try"])
    imported = SystemMap.objects.exclude(pk=original.pk).get()

    second = alice_client.get(url("map-export", imported, fmt="json")).content

    # The same file but for the ids and the name, which must differ.
    expected = {**renumbered(json.loads(first)), "name": imported.name}
    assert json.loads(second) == expected
    fields = selectors.export_fields(original)
    assert second == export_json(expected, fields=fields)


def test_import_of_a_bad_file_lists_its_problems_and_creates_nothing(
    client_for, erin, acme
):
    bad = webinar_graph()
    bad["nodes"][0]["kind"] = "circle"
    bad["edges"][0]["target"] = "nowhere"

    response = client_for(erin).post(
        url("map-import"), {"file": upload(json.dumps(bad).encode())}
    )

    assert response.status_code == 422
    assert "Nothing was imported" in response.text
    problems = response.context["problems"]
    assert len(problems) == 2
    assert problems[0].startswith("Node 1 (id “start”), field “kind”")
    assert problems[1].startswith("Arrow 1 (id “e1”), field “target”")
    for problem in problems:
        assert problem.split(":")[0] in response.text
    assert not SystemMap.objects.exists()


def test_import_of_a_file_that_is_not_json_is_refused(client_for, erin, acme):
    response = client_for(erin).post(
        url("map-import"), {"file": upload(b"<svg>not a map</svg>")}
    )

    assert response.status_code == 422
    assert "This file is in no format Hourglass can read" in response.text
    assert not SystemMap.objects.exists()


def test_import_of_a_file_over_one_megabyte_is_refused(client_for, erin, acme):
    body = export_json(webinar_graph())
    body += b" " * (MAX_IMPORT_BYTES + 1 - len(body))

    response = client_for(erin).post(url("map-import"), {"file": upload(body)})

    assert response.status_code == 422
    assert "larger than 1 MB" in response.context["form"].errors["file"][0]
    assert not SystemMap.objects.exists()


def test_import_without_stages_is_refused(client_for, erin, acme):
    response = import_file(client_for(erin), export_json(webinar_graph()))

    assert response.status_code == 422
    assert response.context["form"].errors["stages"] == ["Pick at least one stage."]
    assert not SystemMap.objects.exists()


def _is_svg(body: bytes) -> bool:
    return body.startswith(b"<?xml") and b"<svg" in body and b"<script" not in body


def _is_json_map(body: bytes) -> bool:
    return json.loads(body)["name"] == "Webinar to client"


@pytest.mark.parametrize(
    ("fmt", "content_type", "looks_right"),
    [
        ("svg", "image/svg+xml", _is_svg),
        ("png", "image/png", lambda body: body.startswith(b"\x89PNG\r\n\x1a\n")),
        ("pdf", "application/pdf", lambda body: body.startswith(b"%PDF-")),
        ("json", "application/json", _is_json_map),
        (
            "mmd",
            "text/plain; charset=utf-8",
            lambda body: body.startswith(b"%% Webinar to client\nflowchart LR\n"),
        ),
    ],
)
def test_export(client_for, bob, webinar_map, fmt, content_type, looks_right):
    response = get_drawn(client_for(bob), url("map-export", webinar_map, fmt=fmt))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert looks_right(response.content)
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="webinar-to-client-v1.{fmt}"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"


def test_export_file_name_carries_the_current_version(alice_client, webinar_map):
    services.map_save_graph(
        system_map=webinar_map,
        graph=webinar_graph("Webinar, revised"),
        acting_user=None,
        expected_version=1,
    )

    response = get_drawn(
        alice_client, url("map-export", webinar_map, fmt="svg") + "?inline=1"
    )

    assert (
        response["Content-Disposition"] == 'inline; filename="webinar-revised-v2.svg"'
    )
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_export_in_an_unknown_format_is_404(alice_client, webinar_map):
    response = alice_client.get(url("map-export", webinar_map, fmt="gif"))

    assert response.status_code == 404


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def settings_data(system_map: SystemMap, **changes) -> dict:
    return {
        "name": system_map.name,
        "product": system_map.product,
        "half": system_map.half,
        "stages": system_map.stages,
        "description": system_map.description,
        "status": system_map.status,
        **changes,
    }


def test_settings_page_shows_the_map_settings(client_for, erin, webinar_map):
    response = client_for(erin).get(url("map-settings", webinar_map))

    assert response.status_code == 200
    assert response.context["form"]["name"].value() == "Webinar to client"
    assert response.context["form"]["stages"].value() == ["like", "try"]


def test_renaming_in_settings_saves_a_new_version(client_for, erin, webinar_map):
    response = client_for(erin).post(
        url("map-settings", webinar_map),
        settings_data(webinar_map, name="Webinar funnel"),
    )

    assert response.status_code == 302
    assert response["Location"] == webinar_map.get_absolute_url()
    webinar_map.refresh_from_db()
    assert (webinar_map.name, webinar_map.version) == ("Webinar funnel", 2)
    assert Revision.objects.get(map=webinar_map, version=2).note == "Renamed"


def test_settings_refuse_active_while_the_map_has_errors(client_for, erin, acme, alice):
    broken = make_map(acme, alice, "Broken", graph=graph_with_errors("Broken"))
    before = maps_snapshot()

    response = client_for(erin).post(
        url("map-settings", broken),
        settings_data(broken, status="active", product="Changed"),
    )

    assert response.status_code == 422
    [message] = response.context["form"].errors["status"]
    assert "2 lint error(s)" in message
    assert "2 lint error(s)" in response.text
    assert maps_snapshot() == before


def test_settings_make_a_clean_map_active(client_for, erin, webinar_map):
    response = client_for(erin).post(
        url("map-settings", webinar_map), settings_data(webinar_map, status="active")
    )

    assert response.status_code == 302
    webinar_map.refresh_from_db()
    assert webinar_map.status == MapStatus.ACTIVE
    assert webinar_map.version == 1


def test_settings_refuse_a_map_without_a_name(client_for, erin, webinar_map):
    before = maps_snapshot()

    response = client_for(erin).post(
        url("map-settings", webinar_map), settings_data(webinar_map, name="  ")
    )

    assert response.status_code == 422
    assert "name" in response.context["form"].errors
    assert maps_snapshot() == before


# ---------------------------------------------------------------------------
# Tidy up, duplicate
# ---------------------------------------------------------------------------


def test_tidy_up_lays_the_map_out_as_a_new_version(client_for, erin, webinar_map):
    before = {n.pk: (n.x, n.y) for n in Node.objects.filter(map=webinar_map)}

    response = client_for(erin).post(url("map-tidy", webinar_map))

    assert response.status_code == 302
    assert response["Location"] == webinar_map.get_absolute_url()
    after = {n.pk: (n.x, n.y) for n in Node.objects.filter(map=webinar_map)}
    assert set(after) == set(before)
    assert after != before
    webinar_map.refresh_from_db()
    assert webinar_map.version == 2
    assert Revision.objects.get(map=webinar_map, version=2).note == "Tidied up"
    graph = selectors.graph_of(webinar_map)
    tidied = [(n["id"], n["label"]) for n in graph["nodes"]]
    assert tidied == [(n["id"], n["label"]) for n in webinar_graph()["nodes"]]
    assert graph["edges"] == webinar_graph()["edges"]


def test_duplicate_opens_the_copy(client_for, erin, webinar_map):
    response = client_for(erin).post(url("map-duplicate", webinar_map))

    copy = SystemMap.objects.exclude(pk=webinar_map.pk).get()
    assert response.status_code == 302
    assert response["Location"] == copy.get_absolute_url()
    assert copy.name == "Copy of Webinar to client"
    assert structure(selectors.graph_of(copy)) == structure(webinar_graph())
    webinar_map.refresh_from_db()
    assert webinar_map.version == 1


# ---------------------------------------------------------------------------
# Delete, trash, restore
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}], ids=["plain", "htmx"])
def test_delete_puts_the_map_in_the_trash(client_for, erin, webinar_map, headers):
    client = client_for(erin)

    response = client.post(url("map-delete", webinar_map), headers=headers)

    assert response.status_code == 302
    assert response["Location"] == url("map-list")
    webinar_map.refresh_from_db()
    assert webinar_map.deleted_at is not None
    assert webinar_map.deleted_by == erin
    assert client.get(webinar_map.get_absolute_url()).status_code == 404
    assert listed(client.get(url("map-list"))) == set()
    trash = client.get(url("map-trash"))
    assert "Webinar to client" in trash.text
    assert "Deleted by Erin Edwards" in trash.text


def test_editor_cannot_restore_a_deleted_map(client_for, erin, webinar_map):
    services.map_delete(system_map=webinar_map, acting_user=erin)
    client = client_for(erin)

    assert url("map-restore", webinar_map) not in client.get(url("map-trash")).text
    response = client.post(url("map-restore", webinar_map))

    assert response.status_code == 403
    webinar_map.refresh_from_db()
    assert webinar_map.deleted_at is not None


def test_owner_restores_a_deleted_map(client_for, alice, erin, webinar_map):
    services.map_delete(system_map=webinar_map, acting_user=erin)
    client = client_for(alice)

    assert url("map-restore", webinar_map) in client.get(url("map-trash")).text
    response = client.post(url("map-restore", webinar_map))

    assert response.status_code == 302
    assert response["Location"] == webinar_map.get_absolute_url()
    assert client.get(webinar_map.get_absolute_url()).status_code == 200
    assert listed(client.get(url("map-list"))) == {webinar_map.pk}


@pytest.mark.parametrize("deleted_days_ago", [None, 31], ids=["alive", "purgeable"])
def test_only_maps_in_the_trash_can_be_restored(
    alice_client, webinar_map, deleted_days_ago
):
    if deleted_days_ago:
        deleted_at = timezone.now() - timedelta(days=deleted_days_ago)
        SystemMap.objects.filter(pk=webinar_map.pk).update(deleted_at=deleted_at)
    before = maps_snapshot()

    response = alice_client.post(url("map-restore", webinar_map))

    assert response.status_code == 404
    assert maps_snapshot() == before


# ---------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------


@pytest.fixture
def two_versions(webinar_map, erin) -> SystemMap:
    """Version 2 renames “Proposal sent” and cuts the yes branch of “Signed?”."""
    graph = graph_with_errors()
    graph["nodes"][6]["label"] = "Quote sent"
    services.map_save_graph(
        system_map=webinar_map,
        graph=graph,
        acting_user=erin,
        expected_version=1,
        note="Quotes now",
    )
    webinar_map.refresh_from_db()
    return webinar_map


def test_versions_page_lists_every_version(client_for, alice, two_versions):
    response = client_for(alice).get(url("revision-list", two_versions))

    assert response.status_code == 200
    rows = re.findall(r"<tr>.*?</tr>", response.text, re.S)[1:]
    assert len(rows) == 2
    assert "v2" in rows[0] and "current" in rows[0] and "Quotes now" in rows[0]
    assert "Erin Edwards" in rows[0]
    assert "v1" in rows[1] and "Created" in rows[1] and "Alice Archer" in rows[1]
    assert url("revision-restore", two_versions, version=1) in rows[1]
    assert url("revision-restore", two_versions, version=2) not in response.text


def test_member_sees_the_versions_but_no_restore_button(client_for, bob, two_versions):
    response = client_for(bob).get(url("revision-list", two_versions))

    assert response.status_code == 200
    assert url("revision-restore", two_versions, version=1) not in response.text


def test_version_page_draws_that_version(client_for, bob, two_versions):
    client = client_for(bob)

    first = get_drawn(client, url("revision-detail", two_versions, version=1))
    second = get_drawn(client, url("revision-detail", two_versions, version=2))

    assert first.status_code == second.status_code == 200
    first_svg = svg_in(first.text, "revision-svg")
    second_svg = svg_in(second.text, "revision-svg")
    assert "Proposal sent" in first_svg and "Quote sent" not in first_svg
    assert "Quote sent" in second_svg and "Proposal sent" not in second_svg
    assert 'data-testid="lint-clean"' in first.text
    assert 'data-rule="decision-branches"' in second.text


def test_unknown_version_is_404(alice_client, webinar_map):
    response = alice_client.get(url("revision-detail", webinar_map, version=7))

    assert response.status_code == 404


def test_restoring_a_version_saves_it_as_a_new_one(client_for, erin, two_versions):
    first = Revision.objects.get(map=two_versions, version=1)

    response = client_for(erin).post(url("revision-restore", two_versions, version=1))

    assert response.status_code == 302
    assert response["Location"] == two_versions.get_absolute_url()
    two_versions.refresh_from_db()
    assert two_versions.version == 3
    assert two_versions.lint_errors == 0
    assert selectors.graph_of(two_versions) == first.graph
    assert list(
        Revision.objects.filter(map=two_versions).values_list("version", flat=True)
    ) == [3, 2, 1]


# ---------------------------------------------------------------------------
# The maps on the hourglass overview
# ---------------------------------------------------------------------------


def stage_cards(html: str) -> dict[str, str]:
    cards = re.findall(r'<article class="stage-card.*?</article>', html, re.S)
    return {re.search(r'data-stage="(\w+)"', card)[1]: card for card in cards}


def test_overview_shows_each_map_in_every_stage_it_spans(client_for, bob, three_maps):
    response = client_for(bob).get(reverse("hourglass:overview", args=["acme"]))

    cards = stage_cards(response.text)
    assert list(cards) == ["know", "like", "trust", "try", "buy", "repeat", "refer"]
    webinar = three_maps["clean"].get_absolute_url()
    onboarding = three_maps["errors"].get_absolute_url()
    assert webinar in cards["like"] and webinar in cards["try"]
    assert onboarding in cards["buy"]
    assert three_maps["warnings"].get_absolute_url() in cards["know"]
    for stage in ("trust", "repeat", "refer"):
        assert "No system mapped for this stage yet." in cards[stage]
    assert "Gone" not in response.text
    assert "Their secret system" not in response.text


def test_overview_queries_do_not_grow_with_the_number_of_maps(client_for, acme, alice):
    client = client_for(alice)
    overview = reverse("hourglass:overview", args=["acme"])
    for i in range(2):
        make_map(acme, alice, f"Map {i}", graph=document.empty_graph())
    client.get(overview)
    small = count_queries(client, overview)

    for i in range(2, 20):
        make_map(acme, alice, f"Map {i}", graph=document.empty_graph())
    large = count_queries(client, overview)

    assert large == small


# ---------------------------------------------------------------------------
# Who may do what
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("map-detail", {}),
        ("map-export", {"fmt": "json"}),
        ("map-export", {"fmt": "svg"}),
        ("revision-detail", {"version": 1}),
    ],
)
def test_outsider_gets_404_for_a_real_map(
    client_for, charlie, other_co, webinar_map, name, extra, method
):
    before = maps_snapshot()

    response = getattr(client_for(charlie), method)(url(name, webinar_map, **extra))

    assert response.status_code == 404
    assert maps_snapshot() == before


@pytest.fixture
def acme_maps(webinar_map, alice) -> dict[str, SystemMap]:
    """The webinar map at version 2, and a map in the trash."""
    services.map_save_graph(
        system_map=webinar_map,
        graph=webinar_graph("Webinar, revised"),
        acting_user=alice,
        expected_version=1,
    )
    webinar_map.refresh_from_db()
    trashed = make_map(webinar_map.business, alice, "Trashed")
    services.map_delete(system_map=trashed, acting_user=alice)
    return {"webinar": webinar_map, "trashed": trashed}


def write_request(name: str, maps: dict[str, SystemMap]) -> tuple[str, str, dict]:
    """(method, url, arguments) of a request an owner may make and a member may not:
    each would change something, so a refusal that wrote anyway would show."""
    webinar = maps["webinar"]
    graph = webinar_graph("Taken over")
    requests = {
        "map-new": lambda: ("post", url("map-new"), {"data": WIZARD}),
        "template-use": lambda: ("post", url("template-use", key="webinar"), {}),
        "map-import": lambda: (
            "post",
            url("map-import"),
            {"data": {"file": upload(export_json(graph))}},
        ),
        # The owner's own upload, confirmed.
        "map-import-draft": lambda: (
            "post",
            url("map-import-draft", pk=_draft_of(webinar.created_by, graph).pk),
            {"data": {"name": "Taken over", "half": "marketing", "stages": ["try"]}},
        ),
        "map-settings-get": lambda: ("get", url("map-settings", webinar), {}),
        "map-settings-post": lambda: (
            "post",
            url("map-settings", webinar),
            {"data": settings_data(webinar, name="Taken over")},
        ),
        "map-tidy": lambda: ("post", url("map-tidy", webinar), {}),
        "map-duplicate": lambda: ("post", url("map-duplicate", webinar), {}),
        "map-delete": lambda: ("post", url("map-delete", webinar), {}),
        "map-restore": lambda: ("post", url("map-restore", maps["trashed"]), {}),
        "revision-restore": lambda: (
            "post",
            url("revision-restore", webinar, version=1),
            {},
        ),
        "map-layout": lambda: (
            "post",
            url("map-layout", webinar),
            {"data": json.dumps(graph), "content_type": "application/json"},
        ),
        "map-graph": lambda: (
            "put",
            url("map-graph", webinar),
            {
                "data": json.dumps(graph),
                "content_type": "application/json",
                "headers": {"If-Match": f'"{webinar.version}"'},
            },
        ),
    }
    return requests[name]()


def _draft_of(user: User, graph: dict):
    return services.import_draft_create(
        business=user.memberships.get().business,
        user=user,
        file_name="map.json",
        content=export_json(graph),
        format="json",
    )


WRITES = [
    "map-new",
    "template-use",
    "map-import",
    "map-import-draft",
    "map-settings-get",
    "map-settings-post",
    "map-tidy",
    "map-duplicate",
    "map-delete",
    "map-restore",
    "revision-restore",
    "map-layout",
    "map-graph",
]
# These answer without writing a map: a form, positions for the editor, and an
# upload (kept as a draft for its summary).
READ_ONLY_FOR_OWNER = {"map-settings-get", "map-layout", "map-import"}


@pytest.mark.parametrize("name", WRITES)
def test_member_gets_403_on_every_write_and_nothing_is_written(
    client_for, bob, acme_maps, name
):
    method, path, arguments = write_request(name, acme_maps)
    before = maps_snapshot()

    response = getattr(client_for(bob), method)(path, **arguments)

    assert response.status_code == 403
    assert maps_snapshot() == before


@pytest.mark.parametrize("name", WRITES)
def test_owner_may_make_every_write(client_for, alice, acme_maps, name):
    # The control of the test above: the same requests do work for the owner.
    method, path, arguments = write_request(name, acme_maps)
    before = maps_snapshot()

    response = getattr(client_for(alice), method)(path, **arguments)

    assert response.status_code in (200, 302), response.content[:500]
    if name in READ_ONLY_FOR_OWNER:
        assert maps_snapshot() == before
    else:
        assert maps_snapshot() != before


def test_map_page_says_when_graphviz_fails_and_does_not_retry_each_load(
    alice_client, webinar_map, tmp_path, monkeypatch
):
    calls = tmp_path / "calls"
    fake_dot = tmp_path / "dot"
    fake_dot.write_text(f'#!/bin/sh\necho run >> "{calls}"\necho "boom" >&2\nexit 1\n')
    fake_dot.chmod(0o755)
    monkeypatch.setenv("GRAPHVIZ_DOT", str(fake_dot))
    url = webinar_map.get_absolute_url()

    first = get_drawn(alice_client, url)
    second = get_drawn(alice_client, url)

    assert first.status_code == second.status_code == 200
    assert "boom" in second.content.decode()
    assert 'role="alert"' in second.content.decode()
    assert 'data-testid="map-svg"' not in second.content.decode()
    assert calls.read_text().count("run") == 1
