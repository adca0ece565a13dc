"""The map import page: a file of any understood format is read, summed up
page by page, and only then created, as one map or one per page."""

import json
import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from hourglass.models import Membership
from hourglass.ratelimit import RULES
from systemmaps import services
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
