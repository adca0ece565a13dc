"""Tenant isolation matrix: every URL under /b/<slug>/ × GET, POST, PUT, DELETE,
filled with the ids of real objects of one business and sent by someone of another.

Two businesses are fully populated through the services (a map with revisions,
steps with owners, checklist items, an open and a finished run with ticks, a
flagged problem, a map in the trash, a tactic, a pending invitation, a member with
a rate, a marketing owner; a metric on a step owned by the step's owner with an
edited number for last week, a metric owned by nobody, last week's meeting with
notes, an issue, a to-do, and that week rolled up). `ROUTES` says, for every URL
pattern the resolver has under /b/<slug>/, which of a business's objects fill its
arguments and who may read and write through it. A URL missing from the table
fails the test, so every new URL must say how it is reached and who it is for.

The sweeps, each ending with every row of the hourglass, systemmaps and metrics
apps exactly as it was and no mail sent:

- charlie (owner of Other Co only) sends every method to every URL built with
  Acme's slug and Acme's objects, with and without htmx → 404;
- charlie sends them under his own slug with Acme's object ids in the URL (all of
  them, then one at a time among Other Co's own) → 404, exactly as for an id that
  exists nowhere (405 only where the method is not served at all);
- bob (plain member of Acme) gets 403 on every write above his role, and on the
  checklist and run writes of a step he does not own;
- Acme's owner, for contrast, reaches every URL with the same ids (requests that
  write are rolled back), so the 404s above come from the access checks and not
  from URLs that point at nothing.

Ids of Other Co inside an Acme request (an arrow to its step, its member as owner
or marketing owner, its checklist item in a new order or a run, its members'
emails in an imported file; its member or step on a metric, its metric or step
on an issue, its member on a to-do, its metric named in a CSV of numbers) are
refused with a 4xx, or (the map import's emails, the This week form's field for
its metric) ignored as designed, and nothing is written.
"""

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse

from hourglass import services
from hourglass.models import Membership, Role, User
from hourglass.tests.factories import MembershipFactory, UserFactory
from hourglass.tests.utils import PARAM, business_routes
from metrics.models import Entry, EntryRevision, Metric, RollupWeek
from systemmaps import selectors as map_selectors
from systemmaps import services as map_services
from systemmaps.models import ChecklistItem, Node, SystemMap
from systemmaps.tests.factories import webinar_graph
from systemmaps.tests.utils import import_file
from systemmaps.transfer import export_json
from tests.factories import World, populate
from tests.utils import EDITOR, MEMBER, OWNER, ROUTES, WORKER, Route

METHODS = ("GET", "POST", "PUT", "DELETE")

# World.ids keys naming a row by its primary key: valid in no other business.
ROW_KEYS = {
    "map",
    "trashed_map",
    "draft",
    "tactic",
    "invitation",
    "member",
    "item",
    "flag",
    "run",
    "metric",
    "issue",
    "todo",
}
# An id no row has: what a guess at another business's id looks like.
NO_SUCH_ID = 999_999_999

RESOLVER_ROUTES = {name: route for route, name, _regex in business_routes()}
NAMES = sorted(ROUTES)

# ---------------------------------------------------------------------------
# Two populated businesses
# ---------------------------------------------------------------------------


@dataclass
class Worlds:
    acme: World
    other: World


@pytest.fixture
def other_co(charlie):
    """The other business has a name in Hangul, so its slug and every URL the
    sweeps build under it are not ASCII (`/b/서울-회계법인/…`)."""
    business = services.business_create(name="서울 회계법인", owner=charlie)
    assert business.slug == "서울-회계법인"
    return business


@pytest.fixture
def olga(other_co) -> User:
    """A plain member of Other Co."""
    user = UserFactory(email="olga@example.com", name="Olga Ortiz")
    MembershipFactory(business=other_co, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def worlds(acme, alice, bob, erin, other_co, charlie, olga) -> Worlds:
    return Worlds(
        acme=populate(acme, owner=alice, member=bob, step_owner=erin),
        other=populate(other_co, owner=charlie, member=olga, step_owner=charlie),
    )


# ---------------------------------------------------------------------------
# Helpers: hostile requests and the whole database
# ---------------------------------------------------------------------------


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def hostile_form(target: World) -> dict:
    """Every field name of every form under /b/<slug>/, with values the target
    business would accept: had a view forgotten its access check, this would
    change something."""
    exported = export_json(webinar_graph("Hacked"))
    return {
        # Stages, tactics, team, settings
        # A stage plan's goal is text, a metric's a number: this is both.
        "goal": "10",
        "notes": "hacked",
        "name": "Hacked",
        "stage": "know",
        "pep": "paid",
        "note": "hacked",
        "email": "spy@example.com",
        "role": Role.OWNER,
        "roles": "spy",
        "hourly_rate": "1",
        "marketing_owner": target.ids["member"],
        "currency": "USD",
        "timezone": "UTC",
        "confirm": target.business.name,
        # Maps: wizard, settings, import, outline, side panel
        "product": "Hacked",
        "half": "operations",
        "stages": ["buy"],
        "description": "hacked",
        "status": "draft",
        "start": "Hacked",
        "stop": "Hacked",
        "tasks": "Hacked",
        "file": SimpleUploadedFile("map.json", exported, "application/json"),
        "version": target.map_version,
        "label": "Hacked",
        "edge_label": "hacked",
        "kind": "task",
        # Steps: details, SOP, checklist, runs, flags, walkthrough
        "owner": target.ids["member"],
        "critical": "on",
        "automation": "automated",
        "automation_tool": "spyware",
        "minutes_per_run": "1",
        "runs_per_month": "1",
        "hourly_cost": "1",
        "why": "hacked",
        "reviewed_on": "2020-01-02",
        "text": "hacked",
        "item": list(reversed(target.item_ids)),
        "direction": "down",
        "subject": "hacked",
        "ticked": "on",
        "path": "start,nurture",
        # Metrics: the metric form, entries, the import, meeting mode
        "unit": "count",
        "step": target.ids["step_pk"],
        "in_funnel": "on",
        "week": target.ids["week"],
        "value": "7",
        f"value-{target.ids['metric']}": "7",
        # Whose numbers the This week form lists: the metric's owner's.
        "who": target.ids["metric_owner"],
        "csv_text": f"metric,week,value\n{target.ids['metric_name']},"
        f"{target.ids['week']},9\n",
        "file_name": "numbers.csv",
        "metric": target.ids["metric"],
        "title": "Hacked",
        "detail": "hacked",
        "resolution": "hacked",
        "due": "2030-01-07",
    }


def hostile_graph(target: World) -> str:
    graph = webinar_graph("Hacked")
    graph["nodes"][1]["label"] = "Hacked"
    return json.dumps(graph)


def send(
    client: Client, method: str, url: str, route: Route, target: World, htmx=False
):
    """One request of `method`: a form for POST (JSON for the graph API), the
    graph JSON with a valid If-Match for PUT, a form-encoded body for DELETE."""
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        return client.get(url, headers=headers)
    form = hostile_form(target) | dict(route.form)
    if method == "POST" and not route.json:
        return client.post(url, form, headers=headers)
    if method in ("POST", "PUT"):
        return client.generic(
            method,
            url,
            hostile_graph(target),
            content_type="application/json",
            headers={**headers, "If-Match": f'"{target.map_version}"'},
        )
    form = {k: v for k, v in form.items() if k != "file"}
    return client.generic(
        method,
        url,
        urlencode(form, doseq=True),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


SNAPSHOT_APPS = ("hourglass", "systemmaps", "metrics")
# Written by logging in and by visiting one's own business (which business `/`
# opens), not by what a request asks for.
VOLATILE = {"hourglass.user": {"last_login"}, "hourglass.membership": {"last_used_at"}}


def database() -> dict[str, list[tuple]]:
    """Every row of every model of our apps (both businesses, the users)."""
    rows = {}
    for app in SNAPSHOT_APPS:
        for model in apps.get_app_config(app).get_models():
            skip = VOLATILE.get(model._meta.label_lower, set())
            columns = [
                f.attname for f in model._meta.concrete_fields if f.name not in skip
            ]
            rows[model._meta.label] = list(
                model._base_manager.order_by("pk").values_list(*columns)
            )
    return rows


def assert_populated(rows: dict[str, list[tuple]]) -> None:
    """Both businesses have one of everything (a sweep of empty tables proves
    nothing)."""
    counts = {label: len(table) for label, table in rows.items()}
    assert counts["hourglass.Business"] == 2
    assert counts["hourglass.Invitation"] == 2
    assert counts["hourglass.Tactic"] == 2
    assert counts["systemmaps.SystemMap"] == 4
    assert counts["systemmaps.Revision"] == 2 * 3 + 2
    assert counts["systemmaps.ChecklistRun"] == 4
    assert counts["systemmaps.RunTick"] == 4
    assert counts["systemmaps.StepFlag"] == 2
    assert counts["metrics.Metric"] == 4
    assert counts["metrics.Entry"] == 2
    assert counts["metrics.EntryRevision"] == 2
    assert counts["metrics.Meeting"] == 2
    assert counts["metrics.MeetingIssue"] == 2
    assert counts["metrics.Todo"] == 2
    # Last week rolled up in both businesses, a row per table at least.
    assert counts["metrics.RollupWeek"] >= 2
    for table in ("MetricWeek", "StageWeek", "OwnerWeek"):
        assert counts[f"metrics.{table}"] >= 2, table


def url_of(name: str, kwargs: dict) -> str:
    return reverse(name, kwargs=kwargs)


# ---------------------------------------------------------------------------
# The table covers the resolver
# ---------------------------------------------------------------------------


def test_every_business_url_is_in_the_matrix():
    unnamed = [route for name, route in RESOLVER_ROUTES.items() if name is None]
    missing = sorted(set(RESOLVER_ROUTES) - set(ROUTES) - {None})
    stale = sorted(set(ROUTES) - set(RESOLVER_ROUTES))

    assert unnamed == [], f"name these URLs so the matrix can list them: {unnamed}"
    assert missing == [], (
        f"add these URLs to ROUTES in tests/utils.py (how to fill their arguments "
        f"and who may read and write): {missing}"
    )
    assert stale == [], f"these ROUTES entries match no URL any more: {stale}"


def test_matrix_fills_exactly_the_arguments_of_each_url():
    wrong = {}
    for name, route in ROUTES.items():
        params = {m["name"] for m in PARAM.finditer(RESOLVER_ROUTES[name])}
        if set(route.kwargs) != params - {"slug"}:
            wrong[name] = sorted(params - {"slug"})
    unexplained = [n for n, r in ROUTES.items() if r.write == MEMBER and not r.why]

    assert wrong == {}, "fill exactly these URL arguments"
    assert unexplained == [], "say why a plain member may write through these"


# ---------------------------------------------------------------------------
# Control: the owner reaches every URL with the same ids
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_owner_reaches_every_url_with_the_matrix_ids(worlds, name):
    route, acme = ROUTES[name], worlds.acme
    owner = login(acme.owner)
    url = url_of(name, acme.kwargs(route))

    for method in METHODS:
        # Writes happen, then are rolled back: each method meets the same world.
        with transaction.atomic():
            response = send(owner, method, url, route, acme)
            transaction.set_rollback(True)

        assert response.status_code not in (403, 404), (method, url)
        assert response.status_code < 500, (method, url)


@pytest.mark.parametrize("name", NAMES)
def test_head_is_answered_like_get_on_every_url(worlds, name):
    route, acme = ROUTES[name], worlds.acme
    owner = login(acme.owner)
    url = url_of(name, acme.kwargs(route))

    got = owner.get(url)
    head = owner.head(url)

    assert head.status_code == got.status_code, url
    assert head.get("Content-Type") == got.get("Content-Type"), url
    assert head.content == b"", url


# ---------------------------------------------------------------------------
# Outsiders: 404 for every method, nothing written
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_outsider_gets_404_for_every_method_and_nothing_changes(
    worlds, charlie, name, mailoutbox, django_capture_on_commit_callbacks
):
    route, acme = ROUTES[name], worlds.acme
    outsider = login(charlie)
    url = url_of(name, acme.kwargs(route))
    before = database()
    assert_populated(before)

    with django_capture_on_commit_callbacks(execute=True):
        for method in METHODS:
            for htmx in (False, True):
                response = send(outsider, method, url, route, acme, htmx=htmx)

                assert response.status_code == 404, (method, htmx, url)

    assert database() == before
    assert mailoutbox == []


def cross_urls(name: str, acme: World, other: World) -> list[tuple[str, str]]:
    """URLs under Other Co's slug naming Acme's rows: all of them, then each one
    alone among Other Co's own objects (an item, flag or run looked up without
    its parent's business would be found), each with its control: the same URL
    with an id that exists nowhere in place of each of Acme's."""
    route = ROUTES[name]
    own = other.kwargs(route)
    rows = [arg for arg, key in route.kwargs.items() if key in ROW_KEYS]
    variants = [list(route.kwargs)] + [[arg] for arg in rows]
    pairs = []
    for swapped in variants:
        foreign = own | {arg: acme.ids[route.kwargs[arg]] for arg in swapped}
        made_up = foreign | {arg: NO_SUCH_ID for arg in swapped if arg in rows}
        pair = (url_of(name, foreign), url_of(name, made_up))
        if pair not in pairs:
            pairs.append(pair)
    return pairs


CROSS_NAMES = [
    n for n in NAMES if any(key in ROW_KEYS for key in ROUTES[n].kwargs.values())
]


@pytest.mark.parametrize("name", CROSS_NAMES)
def test_acme_ids_under_the_outsiders_own_slug_are_404_and_nothing_changes(
    worlds, charlie, name, mailoutbox, django_capture_on_commit_callbacks
):
    route, acme, other = ROUTES[name], worlds.acme, worlds.other
    outsider = login(charlie)
    # Control: with his own ids the URL works, so a 404 below is Acme's id's.
    with transaction.atomic():
        method = "GET" if route.read else "POST"
        own = send(outsider, method, url_of(name, other.kwargs(route)), route, other)
        transaction.set_rollback(True)
    # 202: a download the worker is still drawing (a page that asks again).
    assert own.status_code in (200, 202, 302), (method, own.status_code)
    before = database()
    assert_populated(before)

    with django_capture_on_commit_callbacks(execute=True):
        for url, made_up in cross_urls(name, acme, other):
            statuses = []
            for method in METHODS:
                response = send(outsider, method, url, route, acme)
                control = send(outsider, method, made_up, route, acme)

                # The answer must not tell another business's id from a
                # made-up one; 405 only where the method is not served at all.
                assert response.status_code == control.status_code, (method, url)
                assert response.status_code in (404, 405), (method, url)
                statuses.append(response.status_code)
            assert 404 in statuses, url

    assert database() == before
    assert mailoutbox == []


# ---------------------------------------------------------------------------
# The read-only role: 403 on every write above it, nothing written
# ---------------------------------------------------------------------------

RANK = {MEMBER: 1, WORKER: 1, EDITOR: 2, OWNER: 3}


def expected_for(route: Route, method: str, role: str) -> tuple[int, ...]:
    """The statuses a member of `role` may get: the refusals the table implies."""
    rank = {Role.MEMBER: 1, Role.EDITOR: 2, Role.OWNER: 3}[role]
    if method == "GET":
        if route.read is None:
            return (403, 405)  # no page: refused by role or by method
        if RANK[route.read] > rank:
            return (403,)
        return (200, 202, 302)  # 202: a download the worker is still drawing
    if route.write is None:
        if route.read is not None and RANK[route.read] > rank:
            return (403, 405)  # a page above the role: refused whatever is sent
        return (200, 302, 405)  # a page: nothing to write whatever is sent
    if route.write == WORKER:
        # Not the step's owner. POST is the method these URLs serve.
        return (403,) if method == "POST" else (403, 405)
    if RANK[route.write] > rank:
        return (403,)
    raise AssertionError(f"{role} may write through {route}")


BELOW_WRITE = [n for n in NAMES if ROUTES[n].write != MEMBER]


@pytest.mark.parametrize("name", BELOW_WRITE)
def test_member_gets_403_on_every_write_above_his_role_and_nothing_changes(
    worlds, bob, erin, name, mailoutbox, django_capture_on_commit_callbacks
):
    route, acme = ROUTES[name], worlds.acme
    url = url_of(name, acme.kwargs(route))
    # bob, a plain member, owns no part of the step the URLs name; erin, an
    # editor, is checked against the owners' URLs too.
    people = [(bob, Role.MEMBER)]
    if OWNER in (route.read, route.write):
        people.append((erin, Role.EDITOR))
    before = database()
    assert_populated(before)

    with django_capture_on_commit_callbacks(execute=True):
        for user, role in people:
            client = login(user)
            for method in METHODS:
                response = send(client, method, url, route, acme)

                assert response.status_code in expected_for(route, method, role), (
                    user.email,
                    method,
                    url,
                    response.status_code,
                )

    assert database() == before
    assert mailoutbox == []


MEMBER_WRITES = [n for n in NAMES if ROUTES[n].write == MEMBER]


@pytest.mark.parametrize("name", MEMBER_WRITES)
def test_member_writes_where_the_matrix_says_a_member_may(worlds, bob, name):
    route, acme = ROUTES[name], worlds.acme
    url = url_of(name, acme.kwargs(route))

    with transaction.atomic():
        response = send(login(bob), "POST", url, route, acme)
        transaction.set_rollback(True)

    assert response.status_code == 302


def test_member_works_on_the_step_he_owns(worlds, bob):
    # The contrast to the WORKER refusals above: bob owns "call".
    acme = worlds.acme
    url = reverse(
        "systemmaps:step-checklist",
        kwargs={"slug": acme.business.slug, "pk": acme.ids["map"], "node": "call"},
    )

    response = login(bob).post(url, {"text": "Send the agenda"})

    assert response.status_code == 302
    assert ChecklistItem.objects.filter(
        node__map_id=acme.ids["map"], node__client_id="call", text="Send the agenda"
    ).exists()


# ---------------------------------------------------------------------------
# Ids of another business inside a request: 4xx, nothing written
# ---------------------------------------------------------------------------


def other_membership(worlds: Worlds) -> int:
    return worlds.other.ids["member"]


def step_url(world: World, name: str, node: str = "nurture", **kwargs) -> str:
    return reverse(
        f"systemmaps:{name}",
        kwargs={
            "slug": world.business.slug,
            "pk": world.ids["map"],
            "node": node,
            **kwargs,
        },
    )


DETAILS = {
    "critical": "on",
    "automation": "automated",
    "automation_tool": "Zapier",
    "minutes_per_run": "5",
    "runs_per_month": "10",
    "hourly_cost": "50",
}


def _arrow_to_a_step_of_the_other_map(w: Worlds):
    # "secret" is a step of Other Co's map only: ids name steps of the map saved.
    theirs = SystemMap.objects.get(pk=w.other.ids["map"])
    graph = map_selectors.graph_of(theirs)
    graph["nodes"].append(
        {"id": "secret", "kind": "task", "label": "Secret", "x": 0.0, "y": 300.0}
    )
    map_services.map_save_graph(
        system_map=theirs, graph=graph, acting_user=None, expected_version=None
    )
    graph = webinar_graph(f"{w.acme.business.name} webinar")
    graph["edges"].append(
        {"id": "e99", "source": "call", "target": "secret", "label": None}
    )
    url = reverse(
        "systemmaps:map-graph",
        kwargs={"slug": w.acme.business.slug, "pk": w.acme.ids["map"]},
    )
    return "PUT", url, json.dumps(graph), {"If-Match": f'"{w.acme.map_version}"'}


def _step_details_owner(w: Worlds):
    body = {**DETAILS, "owner": other_membership(w)}
    return "POST", step_url(w.acme, "step-details"), body, {}


def _side_panel_owner(w: Worlds):
    body = {**DETAILS, "owner": other_membership(w)}
    return "POST", step_url(w.acme, "step-panel-owner"), body, {}


def _checklist_order_with_a_foreign_item(w: Worlds):
    foreign = w.other.item_ids[0]
    body = {"item": [foreign, *reversed(w.acme.item_ids[1:])]}
    return "POST", step_url(w.acme, "step-checklist-order"), body, {}


def _checklist_order_plus_a_foreign_item(w: Worlds):
    body = {"item": [*reversed(w.acme.item_ids), w.other.item_ids[0]]}
    return "POST", step_url(w.acme, "step-checklist-order"), body, {}


def _run_tick_of_another_steps_item(w: Worlds):
    other_step_item = ChecklistItem.objects.get(
        node__map_id=w.acme.ids["map"], node__client_id="call"
    )
    url = reverse(
        "systemmaps:run-tick",
        kwargs={
            "slug": w.acme.business.slug,
            "run": w.acme.ids["run"],
            "item": other_step_item.pk,
        },
    )
    return "POST", url, {"ticked": "on"}, {}


def _run_tick_of_another_business_item(w: Worlds):
    url = reverse(
        "systemmaps:run-tick",
        kwargs={
            "slug": w.acme.business.slug,
            "run": w.acme.ids["run"],
            "item": w.other.item_ids[1],
        },
    )
    return "POST", url, {"ticked": "on"}, {}


def _marketing_owner(w: Worlds):
    url = reverse("hourglass:marketing-owner", kwargs={"slug": w.acme.business.slug})
    return "POST", url, {"marketing_owner": other_membership(w)}, {}


def _member_url(name: str) -> Callable[[Worlds], tuple]:
    def build(w: Worlds):
        url = reverse(
            f"hourglass:{name}",
            kwargs={"slug": w.acme.business.slug, "pk": other_membership(w)},
        )
        return "POST", url, {"roles": "spy", "hourly_rate": "1", "role": "owner"}, {}

    return build


def metrics_url(world: World, name: str, **kwargs) -> str:
    return reverse(f"metrics:{name}", kwargs={"slug": world.business.slug, **kwargs})


def metric_form(w: Worlds, **changes) -> dict:
    """A metric form Acme would accept, but for `changes`."""
    return {
        "name": "Signed proposals",
        "unit": "count",
        "direction": "higher",
        "goal": "3",
        "owner": w.acme.ids["member"],
        "step": w.acme.ids["step_pk"],
        "stage": "",
        "in_funnel": "on",
        "description": "",
        **changes,
    }


def _metric_create_owner(w: Worlds):
    body = metric_form(w, owner=other_membership(w))
    return "POST", metrics_url(w.acme, "metric-create"), body, {}


def _metric_create_step(w: Worlds):
    body = metric_form(w, step=w.other.ids["step_pk"])
    return "POST", metrics_url(w.acme, "metric-create"), body, {}


def _metric_edit(**changes: str) -> Callable[[Worlds], tuple]:
    def build(w: Worlds):
        body = metric_form(
            w, **{field: w.other.ids[key] for field, key in changes.items()}
        )
        url = metrics_url(w.acme, "metric-edit", pk=w.acme.ids["metric"])
        return "POST", url, body, {}

    return build


def _issue_add(**changes: str) -> Callable[[Worlds], tuple]:
    def build(w: Worlds):
        body = {"title": "Spy", "detail": "", "metric": "", "step": ""}
        body |= {field: w.other.ids[key] for field, key in changes.items()}
        url = metrics_url(w.acme, "issue-add", week=w.acme.ids["week"])
        return "POST", url, body, {}

    return build


def _todo_add_owner(w: Worlds):
    body = {"text": "Spy", "owner": w.other.ids["metric_owner"], "due": ""}
    url = metrics_url(w.acme, "todo-add", week=w.acme.ids["week"])
    return "POST", url, body, {}


def _import_naming_the_other_metric(w: Worlds):
    text = (
        "metric,week,value\n"
        f"{w.acme.ids['metric_name']},{w.acme.ids['week']},20\n"
        f"{w.other.ids['metric_name']},{w.other.ids['week']},20\n"
    )
    upload = SimpleUploadedFile("numbers.csv", text.encode(), "text/csv")
    return "POST", metrics_url(w.acme, "entries-import"), {"file": upload}, {}


def _import_confirm_naming_the_other_metric(w: Worlds):
    text = f"metric,week,value\n{w.other.ids['metric_name']},{w.acme.ids['week']},20\n"
    body = {"csv_text": text, "file_name": "numbers.csv", "confirm": "1"}
    return "POST", metrics_url(w.acme, "entries-import"), body, {}


def _entry_save_of_the_other_metric(w: Worlds):
    url = metrics_url(
        w.acme, "entry-save", pk=w.other.ids["metric"], week=w.acme.ids["week"]
    )
    return "POST", url, {"value": "20"}, {}


def _acme_url_of_other(name: str, key: str, **extra) -> Callable[[Worlds], tuple]:
    def build(w: Worlds):
        url = metrics_url(w.acme, name, pk=w.other.ids[key])
        return "POST", url, {"week": w.acme.ids["week"], **extra}, {}

    return build


NOT_FOUND = ""  # a 404 page: nothing to say beyond it
FOREIGN_IDS = {
    "graph PUT: arrow to a step of Other Co's map": (
        _arrow_to_a_step_of_the_other_map,
        400,
        "target must be the id of a node of this map.",
    ),
    "step details: owner is an Other Co member": (
        _step_details_owner,
        422,
        "Pick a member of this business as the owner.",
    ),
    "side panel: owner is an Other Co member": (
        _side_panel_owner,
        422,
        "Pick a member of this business as the owner.",
    ),
    "checklist order: an Other Co item instead of one": (
        _checklist_order_with_a_foreign_item,
        422,
        "The checklist changed since the page was loaded; reload it.",
    ),
    "checklist order: an Other Co item added": (
        _checklist_order_plus_a_foreign_item,
        422,
        "The checklist changed since the page was loaded; reload it.",
    ),
    "run tick: item of another step": (_run_tick_of_another_steps_item, 404, NOT_FOUND),
    "run tick: item of Other Co": (_run_tick_of_another_business_item, 404, NOT_FOUND),
    "marketing owner: an Other Co member": (
        _marketing_owner,
        422,
        "Pick a member of this business.",
    ),
    "member profile: an Other Co membership": (
        _member_url("member-profile"),
        404,
        NOT_FOUND,
    ),
    "member role: an Other Co membership": (_member_url("member-role"), 404, NOT_FOUND),
    "member remove: an Other Co membership": (
        _member_url("member-remove"),
        404,
        NOT_FOUND,
    ),
    "metric create: owner is an Other Co member": (
        _metric_create_owner,
        422,
        "Choose one of the people of this business.",
    ),
    "metric create: step of Other Co's map": (
        _metric_create_step,
        422,
        "is not one of the available choices.",
    ),
    "metric edit: owner is an Other Co member": (
        _metric_edit(owner="member"),
        422,
        "Choose one of the people of this business.",
    ),
    "metric edit: step of Other Co's map": (
        _metric_edit(step="step_pk"),
        422,
        "is not one of the available choices.",
    ),
    "metric edit: an Other Co metric": (
        _acme_url_of_other("metric-edit", "metric"),
        404,
        NOT_FOUND,
    ),
    "metric archive: an Other Co metric": (
        _acme_url_of_other("metric-archive", "metric"),
        404,
        NOT_FOUND,
    ),
    "entry save: an Other Co metric": (_entry_save_of_the_other_metric, 404, NOT_FOUND),
    "issue: an Other Co metric": (
        _issue_add(metric="metric"),
        422,
        "Choose a metric of this business.",
    ),
    "issue: a step of Other Co's map": (
        _issue_add(step="step_pk"),
        422,
        "Choose a step of one of this business's maps.",
    ),
    "issue resolve: an Other Co issue": (
        _acme_url_of_other("issue-resolve", "issue", resolution="Spy"),
        404,
        NOT_FOUND,
    ),
    "to-do: owner is an Other Co member": (
        _todo_add_owner,
        422,
        "Choose a member of this business.",
    ),
    "to-do done: an Other Co to-do": (
        _acme_url_of_other("todo-done", "todo"),
        404,
        NOT_FOUND,
    ),
    "CSV import: a row naming Other Co's metric": (
        _import_naming_the_other_metric,
        422,
        "numbers.csv, line 3: column “metric”: there is no metric named "
        "“서울 회계법인 nurture emails”.",
    ),
    "CSV import confirmed: a row naming Other Co's metric": (
        _import_confirm_naming_the_other_metric,
        422,
        "numbers.csv, line 2: column “metric”: there is no metric named "
        "“서울 회계법인 nurture emails”.",
    ),
}


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("case", list(FOREIGN_IDS))
def test_ids_of_another_business_in_a_request_are_refused(
    worlds, mailoutbox, django_capture_on_commit_callbacks, case, htmx
):
    build, status, message = FOREIGN_IDS[case]
    method, url, body, headers = build(worlds)
    if htmx:
        headers = {**headers, "HX-Request": "true"}
    owner = login(worlds.acme.owner)
    before = database()

    with django_capture_on_commit_callbacks(execute=True):
        if isinstance(body, str):
            response = owner.generic(
                method, url, body, content_type="application/json", headers=headers
            )
        else:
            response = owner.post(url, body, headers=headers)

    assert response.status_code == status
    assert message in html.unescape(response.content.decode())
    assert database() == before
    assert mailoutbox == []


def _import(worlds: Worlds, document: dict) -> tuple[SystemMap, list[str]]:
    response = import_file(
        login(worlds.acme.owner),
        json.dumps(document).encode(),
        slug=worlds.acme.business.slug,
        name="theirs.json",
        stages=["try"],
        follow=True,
    )
    assert response.status_code == 200
    imported = SystemMap.objects.get(business=worlds.acme.business, name="Theirs")
    return imported, [str(m) for m in response.context["messages"]]


def test_import_naming_only_the_other_business_members_links_to_none_of_them(
    worlds,
):
    # Other Co's map exported with its owners' emails, plus the database ids
    # a hostile file might carry: the ids are ignored, the emails name nobody
    # in Acme, so the steps come in with no owner (by design, and said so).
    other_map = SystemMap.objects.get(pk=worlds.other.ids["map"])
    graph = map_selectors.graph_of(other_map)
    steps = {
        client_id: {**step, "owner": None}
        for client_id, step in map_selectors.steps_of(other_map).items()
    }
    steps["nurture"]["owner"] = "charlie@example.com"
    steps["call"]["owner"] = "olga@example.com"
    document = json.loads(export_json({**graph, "name": "Theirs"}, steps))
    for node in document["nodes"]:
        if "step" in node:
            node["step"]["owner_id"] = worlds.other.ids["member"]
            node["id_in_database"] = worlds.other.ids["map"]
    other_before = database()["hourglass.Membership"]

    imported, messages = _import(worlds, document)

    assert messages == [
        "“Theirs” is imported. 2 steps have no owner: no member of this business "
        "has the email charlie@example.com, olga@example.com."
    ]
    other_memberships = Membership.objects.filter(business=worlds.other.business)
    assert not Node.objects.filter(map=imported, owner__isnull=False).exists()
    assert not Node.objects.filter(
        owner__in=other_memberships, map__business=worlds.acme.business
    ).exists()
    assert database()["hourglass.Membership"] == other_before
    # The drawing and the step details themselves did come in.
    assert imported.nodes.count() == other_map.nodes.count()
    assert imported.nodes.get(label="Email twice a week").critical is True


# The recompute writes in the worker it queues the task for, not in the request.
METRICS_WRITES = [
    n
    for n in NAMES
    if n.startswith("metrics:") and ROUTES[n].write and n != "metrics:review-recompute"
]


@pytest.mark.parametrize("name", METRICS_WRITES)
def test_the_hostile_form_writes_through_every_metrics_url_for_the_owner(worlds, name):
    # The sweeps' form is not inert: sent by Acme's owner it changes Acme's
    # rows, so a view that forgot its access check would be caught.
    route, acme = ROUTES[name], worlds.acme
    url = url_of(name, acme.kwargs(route))
    before = database()

    with transaction.atomic():
        response = send(login(acme.owner), "POST", url, route, acme)
        after = database()
        transaction.set_rollback(True)

    assert response.status_code == 302, response.content.decode()[:2000]
    changed = [label for label in before if before[label] != after[label]]
    assert changed, name


def other_co_numbers(world: World) -> list[tuple]:
    business = world.business
    return [
        *Entry.objects.filter(business=business).values_list().order_by("pk"),
        *EntryRevision.objects.filter(entry__business=business)
        .values_list()
        .order_by("pk"),
        *RollupWeek.objects.filter(business=business).values_list().order_by("pk"),
        *Metric.objects.filter(business=business).values_list().order_by("pk"),
    ]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_this_week_form_ignores_a_field_naming_an_other_co_metric(
    worlds, htmx, django_capture_on_commit_callbacks
):
    # The form reads only the fields of the metrics it lists (Acme's): a field
    # for Other Co's metric is not looked at, beside one of Acme's that is saved.
    acme, other = worlds.acme, worlds.other
    headers = {"HX-Request": "true"} if htmx else {}
    before = other_co_numbers(other)

    with django_capture_on_commit_callbacks(execute=True):
        response = login(acme.owner).post(
            metrics_url(acme, "this-week"),
            {
                "who": "all",
                "week": acme.ids["week"],
                f"value-{acme.ids['metric']}": "20",
                f"value-{other.ids['metric']}": "21",
            },
            headers=headers,
        )

    assert response.status_code == 302
    assert other_co_numbers(other) == before
    assert Entry.objects.get(metric_id=acme.ids["metric"]).value == 20
    assert not Entry.objects.filter(metric_id=other.ids["metric"], value=21).exists()
