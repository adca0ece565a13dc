"""The map import page: a file of any understood format is read, summed up
page by page, and only then created, as one map or one per page."""

import base64
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from hourglass.models import Membership
from hourglass.ratelimit import RULES
from systemmaps import selectors, services
from systemmaps.imports import free_name
from systemmaps.models import ImportDraft, SystemMap
from systemmaps.transfer import MAX_IMPORT_BYTES, export_json

from .factories import make_map, webinar_graph
from .utils import maps_snapshot

SAMPLES = sorted(Path(__file__).parent.joinpath("data", "drawio").glob("*.xml"))
SHARED = Path("/work/shared/interop/drawio")
if not SAMPLES and SHARED.is_dir():
    SAMPLES = sorted(SHARED.glob("*.xml"))


def url(name: str, **kwargs) -> str:
    return reverse(f"systemmaps:{name}", kwargs={"slug": "acme", **kwargs})


def upload(content: bytes, name: str = "map.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def send(client, content: bytes, name: str = "map.json"):
    return client.post(url("map-import"), {"file": upload(content, name)})


def draft_url(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    assert re.fullmatch(r"/b/acme/maps/import/\d+/", response.url), response.url
    return response.url


def counts_shown(html: str) -> list[dict[str, int]]:
    """The counts of each page section of the summary, as the page shows them."""
    sections = html.split('data-testid="import-page"')[1:]
    return [
        {
            key: int(value)
            for key, value in re.findall(r'data-count="(\w+)">(\d+)<', section)
        }
        for section in sections
    ]


FIELDS = {"half": "operations", "stages": ["buy", "repeat"]}


# ---------------------------------------------------------------------------
# Our JSON
# ---------------------------------------------------------------------------


def test_json_file_is_summed_up_before_anything_is_created(client_for, erin, acme):
    graph = webinar_graph()
    response = send(client_for(erin), export_json(graph))
    summary = client_for(erin).get(draft_url(response))

    assert summary.status_code == 200
    assert not SystemMap.objects.exists()
    assert "Hourglass JSON" in summary.text
    assert "map.json" in summary.text
    kinds = [node["kind"] for node in graph["nodes"]]
    assert counts_shown(summary.text) == [
        {
            "steps": len(kinds),
            "decisions": kinds.count("decision"),
            "arrows": len(graph["edges"]),
        }
    ]
    assert 'data-testid="lint-clean"' in summary.text
    assert summary.context["form"]["name"].value() == "Webinar to client"


def test_create_makes_the_map_and_deletes_the_draft(client_for, erin, acme):
    client = client_for(erin)
    summary = draft_url(send(client, export_json(webinar_graph())))

    response = client.post(summary, {"name": "Webinar", **FIELDS})

    system_map = SystemMap.objects.get()
    assert response.status_code == 302
    assert response.url == system_map.get_absolute_url()
    assert (system_map.name, system_map.half, system_map.stages) == (
        "Webinar",
        "operations",
        ["buy", "repeat"],
    )
    assert not ImportDraft.objects.exists()
    assert client.get(summary).status_code == 404


def test_json_round_trip_fills_in_the_map_fields(client_for, erin, acme, alice):
    original = make_map(
        acme,
        alice,
        "Webinar to client",
        half="operations",
        stages=["repeat", "refer"],
        product="Coaching",
        description="Our best seller.",
    )
    client = client_for(erin)
    exported = client.get(
        reverse(
            "systemmaps:map-export",
            kwargs={"slug": "acme", "pk": original.pk, "fmt": "json"},
        )
    ).content
    document = json.loads(exported)
    assert (document["half"], document["stages"], document["product"]) == (
        "operations",
        ["repeat", "refer"],
        "Coaching",
    )

    form = client.get(draft_url(send(client, exported))).context["form"]

    initial = {name: form[name].value() for name in form.fields}
    assert initial == {
        "name": f"Webinar to client (imported {_today_text()})",
        "product": "Coaching",
        "half": "operations",
        "stages": ["repeat", "refer"],
        "description": "Our best seller.",
    }


def _today_text() -> str:
    """Today where Acme is (Europe/Paris), as English pages write it: "7 Dec 2026"."""
    day = timezone.localdate(timezone=ZoneInfo("Europe/Paris"))
    return f"{day.day} {day:%b %Y}"


def test_old_file_without_map_fields_still_imports(client_for, erin, acme):
    document = json.loads(export_json(webinar_graph()))
    for key in ("half", "stages", "product", "description"):
        document.pop(key, None)
    client = client_for(erin)
    summary = draft_url(send(client, json.dumps(document).encode()))

    response = client.post(summary, {"name": "Old one", **FIELDS})

    assert response.status_code == 302
    assert SystemMap.objects.get().name == "Old one"


def test_steps_owners_come_by_email(client_for, erin, acme, bob):
    graph = webinar_graph()
    step = next(n["id"] for n in graph["nodes"] if n["kind"] == "task")
    raw = export_json(graph, {step: {"owner": "BOB@example.com", "critical": True}})
    client = client_for(erin)

    client.post(draft_url(send(client, raw)), {"name": "Owned", **FIELDS})

    system_map = SystemMap.objects.get()
    owned = system_map.nodes.get(owner__isnull=False)
    assert owned.owner == Membership.objects.get(user=bob)
    assert owned.critical


# ---------------------------------------------------------------------------
# The file survives a form error; names never collide
# ---------------------------------------------------------------------------


def test_file_survives_a_form_error(client_for, erin, acme):
    client = client_for(erin)
    summary = draft_url(send(client, export_json(webinar_graph()), "sales.json"))

    response = client.post(summary, {"name": "Webinar", "half": "marketing"})

    assert response.status_code == 422
    assert response.context["form"].errors["stages"] == ["Pick at least one stage."]
    assert "sales.json" in response.text
    assert 'href="/b/acme/maps/import/"' in response.text  # choose another file
    assert not SystemMap.objects.exists()
    # The same draft, still there: ticking a stage is all it takes.
    response = client.post(
        summary, {"name": "Webinar", "half": "marketing", "stages": ["try"]}
    )
    assert response.status_code == 302
    assert SystemMap.objects.get().stages == ["try"]


def test_taken_name_is_proposed_with_the_date(client_for, erin, acme, alice):
    make_map(acme, alice, "Webinar to client")
    make_map(acme, alice, f"Webinar to client (imported {_today_text()})")
    client = client_for(erin)

    form = client.get(draft_url(send(client, export_json(webinar_graph())))).context[
        "form"
    ]

    assert form["name"].value() == f"Webinar to client (imported {_today_text()} 2)"


def test_creating_with_a_taken_name_is_refused(client_for, erin, acme, alice):
    make_map(acme, alice, "Sales")
    client = client_for(erin)
    summary = draft_url(send(client, export_json(webinar_graph())))
    before = maps_snapshot()

    response = client.post(summary, {"name": " sales ", **FIELDS})

    assert response.status_code == 422
    (message,) = response.context["form"].errors["name"]
    assert "already called “sales”" in message
    assert f"“sales (imported {_today_text()})”" in message
    assert maps_snapshot() == before
    assert ImportDraft.objects.exists()


def test_a_map_in_the_trash_keeps_its_name(client_for, erin, acme, alice):
    trashed = make_map(acme, alice, "Webinar to client")
    services.map_delete(system_map=trashed, acting_user=alice)
    client = client_for(erin)

    form = client.get(draft_url(send(client, export_json(webinar_graph())))).context[
        "form"
    ]

    assert form["name"].value().startswith("Webinar to client (imported ")


def test_name_proposal_goes_through_the_locale():
    taken = {"ventes"}
    with translation.override("fr"):
        proposed = free_name("Ventes", taken, date(2026, 12, 7))
    # The words come from the catalogue; the date is French whatever they say.
    assert proposed.startswith("Ventes (")
    assert proposed.endswith("7 décembre 2026)")


def test_name_proposal_keeps_to_the_length_of_a_name():
    long_name = "x" * 200
    proposed = free_name(long_name, {long_name}, date(2026, 12, 7))
    assert len(proposed) == 200
    assert proposed.endswith("(imported 7 Dec 2026)")


# ---------------------------------------------------------------------------
# Who may, and bad files
# ---------------------------------------------------------------------------


def test_draft_of_another_user_is_404(client_for, erin, alice, acme):
    summary = draft_url(send(client_for(erin), export_json(webinar_graph())))

    assert client_for(alice).get(summary).status_code == 404
    assert client_for(alice).post(summary, {"name": "X", **FIELDS}).status_code == 404
    assert not SystemMap.objects.exists()


def test_draft_of_another_business_is_404(client_for, erin, acme, charlie, other_co):
    summary = draft_url(send(client_for(erin), export_json(webinar_graph())))
    pk = int(summary.rstrip("/").rsplit("/", 1)[1])
    other = reverse(
        "systemmaps:map-import-draft", kwargs={"slug": other_co.slug, "pk": pk}
    )

    assert client_for(charlie).get(other).status_code == 404
    assert client_for(charlie).get(summary).status_code == 404
    assert client_for(charlie).post(other, {"name": "X", **FIELDS}).status_code == 404
    assert not SystemMap.objects.exists()


def test_read_only_member_gets_403(client_for, bob, erin, acme):
    summary = draft_url(send(client_for(erin), export_json(webinar_graph())))

    assert client_for(bob).get(url("map-import")).status_code == 403
    assert send(client_for(bob), export_json(webinar_graph())).status_code == 403
    assert client_for(bob).post(summary, {"name": "X", **FIELDS}).status_code == 403
    assert ImportDraft.objects.count() == 1
    assert not SystemMap.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"   \n", "The file is empty."),
        (b'{"nodes": [', "The file is not valid JSON"),
        (b"[1, 2]", "must hold one JSON object"),
        (b"hello, world\nnot a map", "in no format Hourglass can read"),
        (b"\xff\xfe{", "in no format Hourglass can read"),
        (b'{"schema_version": 1, "name": "x", "nodes": [{}], "edges": []}', "Node 1"),
        (b"<html><body>Hi</body></html>", "in no format Hourglass can read"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "no format"),
    ],
)
def test_bad_file_says_what_is_wrong_and_creates_nothing(
    client_for, erin, acme, content, message
):
    before = SystemMap.objects.count()

    response = send(client_for(erin), content)

    assert response.status_code == 422
    assert message in response.text
    assert SystemMap.objects.count() == before
    assert not ImportDraft.objects.exists()


def test_file_over_one_megabyte_is_refused(client_for, erin, acme):
    body = export_json(webinar_graph())
    body += b" " * (MAX_IMPORT_BYTES + 1 - len(body))

    response = send(client_for(erin), body)

    assert response.status_code == 422
    assert "larger than 1 MB" in response.context["form"].errors["file"][0]
    assert not ImportDraft.objects.exists()


def test_bad_map_fields_in_a_json_file_are_named(client_for, erin, acme):
    document = json.loads(export_json(webinar_graph()))
    document.update(half="sideways", stages=["know", "fly"], product=7)

    response = send(client_for(erin), json.dumps(document).encode())

    assert response.status_code == 422
    text = response.content.decode()
    assert "Field “half”: must be one of marketing, operations." in text
    assert "Field “stages”: must be one of know, like, trust" in text
    assert "Field “product”: must be text." in text
    assert not ImportDraft.objects.exists()


def test_old_drafts_go_on_the_next_upload(client_for, erin, alice, acme):
    summary = draft_url(send(client_for(alice), export_json(webinar_graph())))
    ImportDraft.objects.update(created_at=timezone.now() - timedelta(days=1, minutes=1))

    draft_url(send(client_for(erin), export_json(webinar_graph())))

    assert client_for(alice).get(summary).status_code == 404
    assert list(ImportDraft.objects.values_list("user__email", flat=True)) == [
        "erin@example.com"
    ]


def test_a_new_upload_replaces_the_users_earlier_one(client_for, erin, acme):
    client = client_for(erin)
    first = draft_url(send(client, export_json(webinar_graph())))
    second = draft_url(send(client, export_json(webinar_graph())))

    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200


def test_create_is_rate_limited(client_for, erin, acme):
    client = client_for(erin)
    allowed = RULES["import"]["user"].count
    for number in range(allowed):
        summary = draft_url(send(client, export_json(webinar_graph())))
        assert (
            client.post(summary, {"name": f"Map {number}", **FIELDS}).status_code == 302
        )
    summary = draft_url(send(client, export_json(webinar_graph())))

    response = client.post(summary, {"name": "One too many", **FIELDS})

    assert response.status_code == 429
    assert "Too many imports for now." in response.text
    assert SystemMap.objects.count() == allowed
    assert client.get(summary).status_code == 200  # the file is still there


# ---------------------------------------------------------------------------
# diagrams.net
# ---------------------------------------------------------------------------


def two_pages() -> bytes:
    """A plain (uncompressed) two-page diagrams.net file: an order flow with a
    decision, a free text and an arrow with a loose end; then a short page."""
    return b"""<mxfile host="app.diagrams.net">
  <diagram id="p1" name="Orders">
    <mxGraphModel><root>
      <mxCell id="0"/><mxCell id="1" parent="0"/>
      <mxCell id="s" value="Order in" style="ellipse;" vertex="1" parent="1">
        <mxGeometry x="0" y="0" width="120" height="60" as="geometry"/></mxCell>
      <mxCell id="d" value="Paid?" style="rhombus;" vertex="1" parent="1">
        <mxGeometry x="200" y="0" width="120" height="80" as="geometry"/></mxCell>
      <mxCell id="t" value="Ship it" style="rounded=0;" vertex="1" parent="1">
        <mxGeometry x="400" y="0" width="120" height="60" as="geometry"/></mxCell>
      <mxCell id="e" value="Done" style="ellipse;" vertex="1" parent="1">
        <mxGeometry x="600" y="0" width="120" height="60" as="geometry"/></mxCell>
      <mxCell id="r" value="Remind" style="rounded=0;" vertex="1" parent="1">
        <mxGeometry x="200" y="200" width="120" height="60" as="geometry"/></mxCell>
      <mxCell id="legend" value="Legend" style="text;" vertex="1" parent="1">
        <mxGeometry x="0" y="400" width="80" height="20" as="geometry"/></mxCell>
      <mxCell id="a1" edge="1" source="s" target="d" parent="1">
        <mxGeometry relative="1" as="geometry"/></mxCell>
      <mxCell id="a2" value="yes" edge="1" source="d" target="t" parent="1">
        <mxGeometry relative="1" as="geometry"/></mxCell>
      <mxCell id="a3" edge="1" source="t" target="e" parent="1">
        <mxGeometry relative="1" as="geometry"/></mxCell>
      <mxCell id="a4" value="no" edge="1" source="d" target="r" parent="1">
        <mxGeometry relative="1" as="geometry"/></mxCell>
      <mxCell id="a5" edge="1" source="r" target="d" parent="1">
        <mxGeometry relative="1" as="geometry"/></mxCell>
      <mxCell id="loose" edge="1" source="e" parent="1">
        <mxGeometry relative="1" as="geometry">
        <mxPoint x="900" y="30" as="targetPoint"/></mxGeometry></mxCell>
    </root></mxGraphModel>
  </diagram>
  <diagram id="p2" name="Returns">
    <mxGraphModel><root>
      <mxCell id="0"/><mxCell id="1" parent="0"/>
      <mxCell id="s" value="Return in" style="ellipse;" vertex="1" parent="1">
        <mxGeometry x="0" y="0" width="120" height="60" as="geometry"/></mxCell>
      <mxCell id="e" value="Refunded" style="ellipse;" vertex="1" parent="1">
        <mxGeometry x="300" y="0" width="120" height="60" as="geometry"/></mxCell>
      <mxCell id="a" edge="1" source="s" target="e" parent="1">
        <mxGeometry relative="1" as="geometry"/></mxCell>
    </root></mxGraphModel>
  </diagram>
</mxfile>
"""


def independent_counts(raw: bytes) -> list[dict[str, int]]:
    """Each page's figures read straight from the XML, not by the reader: shapes
    with a text that are not free text, rhombi, and arrows attached at both
    ends to such shapes. Enough for files whose shapes are simple ones."""
    root = ET.fromstring(raw)
    figures = []
    for diagram in root.iter("diagram"):
        model = diagram.find("mxGraphModel")
        if model is None:
            text = zlib.decompress(base64.b64decode(diagram.text), -15).decode()
            model = ET.fromstring(urllib.parse.unquote(text))
        cells = list(model.iter("mxCell"))
        steps = {
            c.get("id"): c.get("style") or ""
            for c in cells
            if c.get("vertex") == "1"
            and (c.get("value") or "").strip()
            and not (c.get("style") or "").startswith("text")
        }
        figures.append(
            {
                "steps": len(steps),
                "decisions": sum("rhombus" in style for style in steps.values()),
                "arrows": sum(
                    c.get("edge") == "1"
                    and c.get("source") in steps
                    and c.get("target") in steps
                    for c in cells
                ),
            }
        )
    return figures


def test_drawio_pages_are_summed_up(client_for, erin, acme):
    raw = two_pages()
    client = client_for(erin)

    summary = client.get(draft_url(send(client, raw, "flows.drawio")))

    assert summary.status_code == 200
    assert "diagrams.net (draw.io)" in summary.text
    assert counts_shown(summary.text) == independent_counts(raw)
    assert counts_shown(summary.text) == [
        {"steps": 5, "decisions": 1, "arrows": 5},
        {"steps": 2, "decisions": 0, "arrows": 1},
    ]
    dropped = summary.text.split('data-testid="dropped"')[1].split("</ul>")[0]
    assert "Legend" in dropped
    assert dropped.count("<li>") == 2  # the text and the loose arrow
    labels = [label for _value, label in summary.context["form"].fields["page"].choices]
    assert labels == [
        "Orders: 5 steps, 1 decision, 5 arrows",
        "Returns: 2 steps, 0 decisions, 1 arrow",
        "One map per page (each named after its page)",
    ]
    assert not SystemMap.objects.exists()


def test_drawio_one_page_is_chosen(client_for, erin, acme):
    client = client_for(erin)
    summary = draft_url(send(client, two_pages(), "flows.drawio"))

    response = client.post(summary, {"page": "2", "name": "", **FIELDS})

    system_map = SystemMap.objects.get()
    assert response.url == system_map.get_absolute_url()
    assert system_map.name == "Returns"
    graph = selectors.graph_of(system_map)
    assert sorted(n["label"] for n in graph["nodes"]) == ["Refunded", "Return in"]
    assert len(graph["edges"]) == 1


def test_drawio_one_map_per_page(client_for, erin, acme, alice):
    make_map(acme, alice, "Orders")
    client = client_for(erin)
    summary = draft_url(send(client, two_pages(), "flows.drawio"))

    response = client.post(summary, {"page": "all", "name": "ignored", **FIELDS})

    assert response.status_code == 302
    assert response.url == "/b/acme/maps/"
    new = SystemMap.objects.exclude(name="Orders").order_by("pk")
    assert [m.name for m in new] == [f"Orders (imported {_today_text()})", "Returns"]
    assert [len(selectors.graph_of(m)["nodes"]) for m in new] == [5, 2]
    assert {(m.half, tuple(m.stages)) for m in new} == {
        ("operations", ("buy", "repeat"))
    }
    assert not ImportDraft.objects.exists()


@pytest.mark.skipif(not SAMPLES, reason="no diagrams.net samples")
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_real_drawio_files_go_through_the_page(client_for, erin, acme, sample):
    from systemmaps.drawio import read_drawio

    raw = sample.read_bytes()
    pages = read_drawio(raw)
    client = client_for(erin)

    summary = client.get(draft_url(send(client, raw, sample.name)))

    assert counts_shown(summary.text) == [page.counts for page in pages]
    shown = summary.text.count('data-testid="dropped"')
    assert shown == sum(1 for page in pages if page.dropped)
    response = client.post(
        summary.request["PATH_INFO"], {"name": sample.stem, **FIELDS}
    )
    assert response.status_code == 302
    graph = selectors.graph_of(SystemMap.objects.get())
    assert len(graph["nodes"]) == pages[0].counts["steps"]
    assert len(graph["edges"]) == pages[0].counts["arrows"]


def test_page_that_fails_the_checks_shows_why_and_cannot_be_chosen(
    client_for, erin, acme
):
    far = (
        '<diagram id="far" name="Far away"><mxGraphModel><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/><mxCell id="v" value="Lost" vertex="1" '
        'parent="1"><mxGeometry x="1e12" y="0" width="120" height="60" '
        'as="geometry"/></mxCell></root></mxGraphModel></diagram>'
    )
    raw = two_pages().replace(b"</mxfile>", far.encode() + b"</mxfile>")
    client = client_for(erin)
    summary_url = draft_url(send(client, raw, "flows.drawio"))
    summary = client.get(summary_url)
    problems = summary.text.split('data-testid="page-problems"')[1].split("</ul>")[0]
    assert "Node 1" in problems and "field “x”" in problems
    before = maps_snapshot()

    for page in ("3", "all"):
        response = client.post(summary_url, {"page": page, **FIELDS})
        assert response.status_code == 422
        assert "“Far away” cannot be imported" in response.text
    assert maps_snapshot() == before
    assert ImportDraft.objects.exists()


def test_file_whose_only_page_fails_stays_on_the_upload_page(client_for, erin, acme):
    far = b"""<mxfile><diagram name="Far away"><mxGraphModel><root><mxCell id="0"/>
<mxCell id="1" parent="0"/><mxCell id="v" value="Lost" vertex="1" parent="1">
<mxGeometry x="1e12" y="0" width="120" height="60" as="geometry"/></mxCell>
</root></mxGraphModel></diagram></mxfile>"""

    response = send(client_for(erin), far, "far.drawio")

    assert response.status_code == 422
    assert "field “x”" in response.text
    assert not ImportDraft.objects.exists()


def test_hostile_xml_is_refused_with_a_message(client_for, erin, acme):
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE mxfile [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<mxfile><diagram name="x">&b;</diagram></mxfile>"""

    response = send(client_for(erin), bomb, "bomb.drawio")

    assert response.status_code == 422
    assert 'data-testid="import-problems"' in response.text
    assert not ImportDraft.objects.exists()
    assert not SystemMap.objects.exists()


# ---------------------------------------------------------------------------
# Mermaid
# ---------------------------------------------------------------------------

MERMAID = b"""---
title: Orders
---
flowchart LR
  A([Order in]) --> B{Paid?}
  B -->|yes| C[Ship it] --> E([Done])
  B -- no --> D[Remind]
  D --> B
  classDef late fill:#f96
"""


def test_mermaid_file_is_summed_up_and_created(client_for, erin, acme):
    client = client_for(erin)
    summary_url = draft_url(send(client, MERMAID, "orders.mmd"))
    summary = client.get(summary_url)

    assert "Mermaid flowchart" in summary.text
    assert counts_shown(summary.text) == [{"steps": 5, "decisions": 1, "arrows": 5}]
    assert 'data-testid="notes"' in summary.text
    assert summary.context["form"]["name"].value() == "Orders"

    response = client.post(summary_url, {"name": "Orders", **FIELDS})

    system_map = SystemMap.objects.get()
    assert response.url == system_map.get_absolute_url()
    graph = selectors.graph_of(system_map)
    labels = {n["id"]: n["label"] for n in graph["nodes"]}
    assert sorted(
        (labels[e["source"]], labels[e["target"]]) for e in graph["edges"]
    ) == [
        ("Order in", "Paid?"),
        ("Paid?", "Remind"),
        ("Paid?", "Ship it"),
        ("Remind", "Paid?"),
        ("Ship it", "Done"),
    ]


def test_mermaid_syntax_error_names_the_line(client_for, erin, acme):
    response = send(client_for(erin), b"flowchart LR\n  A --> \n  B[[[\n", "x.mmd")

    assert response.status_code == 422
    assert "Line " in response.text
    assert not ImportDraft.objects.exists()


# ---------------------------------------------------------------------------
# Lucidchart
# ---------------------------------------------------------------------------

LUCID = """Id,Name,Shape Library,Page ID,Contained By,Group,Line Source,\
Line Destination,Source Arrow,Destination Arrow,Status,Text Area 1
1,Document,,,,,,,,,,Shop
2,Page,,,,,,,,,,Orders
3,Page,,,,,,,,,,Returns
4,Terminator,Flowchart Shapes,2,,,,,,,,Order in
5,Decision,Flowchart Shapes,2,,,,,,,,Paid?
6,Process,Flowchart Shapes,2,,,,,,,,Ship it
7,Terminator,Flowchart Shapes,2,,,,,,,,Done
8,Text,Standard,2,,,,,,,,Legend
9,Line,,2,,,4,5,None,Arrow,,
10,Line,,2,,,5,6,None,Arrow,,yes
11,Line,,2,,,6,7,None,Arrow,,
12,Line,,2,,,5,,None,Arrow,,no
13,Terminator,Flowchart Shapes,3,,,,,,,,Return in
14,Terminator,Flowchart Shapes,3,,,,,,,,Refunded
15,Line,,3,,,13,14,None,Arrow,,
"""


def lucid_counts(text: str) -> list[dict[str, int]]:
    """Each page's figures read from the CSV with the csv module: shapes with
    a text that are not pages, text or lines; lines between two of them."""
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text)))
    pages = [row["Id"] for row in rows if row["Name"] == "Page"]
    figures = []
    for page in pages:
        steps = {
            row["Id"]: row["Name"]
            for row in rows
            if row["Page ID"] == page
            and row["Name"] not in ("Line", "Text")
            and row["Text Area 1"].strip()
        }
        lines = [
            row
            for row in rows
            if row["Name"] == "Line"
            and row["Line Source"] in steps
            and row["Line Destination"] in steps
        ]
        figures.append(
            {
                "steps": len(steps),
                "decisions": list(steps.values()).count("Decision"),
                "arrows": len(lines),
            }
        )
    return figures


def test_lucid_csv_pages_are_summed_up_and_created(client_for, erin, acme):
    client = client_for(erin)
    summary_url = draft_url(send(client, LUCID.encode(), "shop.csv"))
    summary = client.get(summary_url)

    assert "Lucidchart CSV" in summary.text
    assert counts_shown(summary.text) == lucid_counts(LUCID)
    assert counts_shown(summary.text) == [
        {"steps": 4, "decisions": 1, "arrows": 3},
        {"steps": 2, "decisions": 0, "arrows": 1},
    ]
    assert "Legend" in summary.text.split('data-testid="dropped"')[1]

    response = client.post(summary_url, {"page": "all", **FIELDS})

    assert response.status_code == 302
    names = sorted(SystemMap.objects.values_list("name", flat=True))
    assert names == ["Orders", "Returns"]


# ---------------------------------------------------------------------------
# Queries: the summary's rows cost no query each
# ---------------------------------------------------------------------------


def mermaid_chain(steps: int) -> bytes:
    """A Mermaid flowchart of `steps` tasks in a row, each with a style line
    (ignored with a note) and a comment."""
    lines = ["flowchart LR", "  s([Start])"]
    previous = "s"
    for number in range(steps):
        lines.append(f"  {previous} --> t{number}[Task {number}]")
        lines.append(f"  style t{number} fill:#fff")
        previous = f"t{number}"
    lines.append(f"  {previous} --> e([Stop])")
    return "\n".join(lines).encode()


@pytest.mark.parametrize("steps", [3, 300])
def test_summary_queries_do_not_grow_with_the_file(
    client_for, erin, acme, steps, django_assert_max_num_queries
):
    client = client_for(erin)
    summary_url = draft_url(send(client, mermaid_chain(steps), "chain.mmd"))

    with django_assert_max_num_queries(8):
        summary = client.get(summary_url)

    assert counts_shown(summary.text) == [
        {"steps": steps + 2, "decisions": 0, "arrows": steps + 1}
    ]


PER_REQUEST, PER_MAP = 10, 14


@pytest.mark.parametrize("pages", [1, 2, 12])
def test_one_map_per_page_costs_the_same_queries_per_map(
    client_for, erin, acme, pages, django_assert_max_num_queries
):
    diagrams = "".join(
        f'<diagram name="Flow {n}"><mxGraphModel><root><mxCell id="0"/>'
        f'<mxCell id="1" parent="0"/>'
        f'<mxCell id="a" value="Start" style="ellipse;" vertex="1" parent="1">'
        f'<mxGeometry x="0" y="0" width="120" height="60" as="geometry"/></mxCell>'
        f'<mxCell id="b" value="Stop" style="ellipse;" vertex="1" parent="1">'
        f'<mxGeometry x="300" y="0" width="120" height="60" as="geometry"/></mxCell>'
        f'<mxCell id="e" edge="1" source="a" target="b" parent="1">'
        f'<mxGeometry relative="1" as="geometry"/></mxCell>'
        f"</root></mxGraphModel></diagram>"
        for n in range(pages)
    )
    raw = f"<mxfile>{diagrams}</mxfile>".encode()
    client = client_for(erin)
    summary_url = draft_url(send(client, raw, "flows.drawio"))
    choice = {"page": "all"} if pages > 1 else {"name": "Flow 0"}

    # Fixed costs (session, business, draft, names, lock, rate limit) and the
    # same writes for each map: no query per step or per row of the page.
    with django_assert_max_num_queries(PER_REQUEST + PER_MAP * pages):
        response = client.post(summary_url, {**choice, **FIELDS})

    assert response.status_code == 302
    assert SystemMap.objects.count() == pages


def test_stages_named_by_subgraphs_are_proposed(client_for, erin, acme):
    raw = b"""flowchart LR
  subgraph Buy
    a([Order in]) --> b[Pack]
  end
  subgraph Try
    t[Sample] --> a
  end
  b --> z([Shipped])
"""
    client = client_for(erin)

    form = client.get(draft_url(send(client, raw, "shop.mmd"))).context["form"]

    assert form["stages"].value() == ["try", "buy"]


def test_a_draft_its_reader_now_refuses_sends_back_to_the_upload(
    client_for, erin, acme
):
    client = client_for(erin)
    summary = draft_url(send(client, export_json(webinar_graph())))
    ImportDraft.objects.update(content=b'{"nodes": [')

    response = client.get(summary)

    assert response.status_code == 422
    assert "The file is not valid JSON" in response.text
    assert not SystemMap.objects.exists()


def test_what_was_left_out_is_grouped_by_reason(client_for, erin, acme):
    # Twelve free texts and one loose arrow: two lines, each naming its elements,
    # folded away (a <details> left closed) as there are more than a few.
    texts = "".join(
        f'<mxCell id="x{n}" value="Note {n}" style="text;" vertex="1" parent="1">'
        f'<mxGeometry x="{n * 90}" y="300" width="80" height="20" as="geometry"/>'
        "</mxCell>"
        for n in range(12)
    )
    raw = two_pages().replace(
        b'<mxCell id="legend"', texts.encode() + b'<mxCell id="legend"'
    )
    client = client_for(erin)

    summary = client.get(draft_url(send(client, raw, "flows.drawio")))

    box = summary.text.split('class="import-dropped-box"')[1].split("</details>")[0]
    assert box.startswith(">")  # not open
    assert "Left out: 14 elements" in box
    lines = re.findall(r"<li>(.*?)</li>", box, re.S)
    assert len(lines) == 2
    assert all(f"Note {n}" in lines[0] for n in range(12)) and "Legend" in lines[0]
    assert "Note" not in lines[1]
    # The short second page's box (nothing left out) is not there; the first
    # file's two elements alone would be shown open.
    small = client.get(draft_url(send(client, two_pages(), "flows.drawio")))
    assert 'class="import-dropped-box" open' in small.text
