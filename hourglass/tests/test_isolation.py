"""Tenant isolation: every page under /b/<slug>/ belongs to the business's members only.

The URLs are found by walking the resolver, so every page any app has under
/b/<slug>/ is checked without being listed in this file.
"""

import re
import uuid

import pytest
from django.apps import apps
from django.urls import resolve, reverse
from django.urls.converters import get_converters

from hourglass.models import Business, Membership, StagePlan
from hourglass.tests.utils import PARAM, business_routes, business_snapshot

# A form body that many views would accept: if a view forgot its access check,
# this would change something and the snapshot comparison would notice.
HOSTILE_POST = {
    "name": "Hacked",
    "stage": "know",
    "pep": "paid",
    "note": "hacked",
    "goal": "hacked",
    "notes": "hacked",
    "role": "owner",
    "email": "charlie+spy@example.com",
    "confirm": "Acme",
    "currency": "USD",
    "timezone": "UTC",
}

CORE_BUSINESS_URLS = {
    "hourglass:overview",
    "hourglass:stage-plan",
    "hourglass:stage-edit",
    "hourglass:tactic-create",
    "hourglass:tactic-edit",
    "hourglass:tactic-delete",
    "hourglass:team",
    "hourglass:invite",
    "hourglass:invitation-resend",
    "hourglass:invitation-revoke",
    "hourglass:member-role",
    "hourglass:member-remove",
    "hourglass:member-profile",
    "hourglass:marketing-owner",
    "hourglass:leave",
    "hourglass:settings",
    "hourglass:delete",
    "hourglass:export",
}


BUSINESS_ROUTES = business_routes()
ROUTE_IDS = [route for route, _name, _regex in BUSINESS_ROUTES]


def _acme_pk_for(segment: str, business: Business) -> int | None:
    """The pk of one of the business's objects that the URL segment names, if any.

    `tactics/<int:pk>/` names a Tactic, `members/<int:pk>/` a Membership.
    """
    singular = segment.rstrip("s")
    if not singular:
        return None
    for model in apps.get_models():
        fields = {f.name: f for f in model._meta.fields}
        business_fk = fields.get("business")
        if business_fk is None or business_fk.related_model is not Business:
            continue
        if model._meta.model_name.startswith(singular):
            obj = (
                model._default_manager.filter(business=business).order_by("pk").first()
            )
            if obj is not None:
                return obj.pk
    return None


def build_url(route: str, business: Business) -> str:
    """A concrete URL for `route` in `business`, with plausible values for the rest."""
    converters = get_converters()
    path, position, previous_segment = "", 0, ""
    first = True
    for match in PARAM.finditer(route):
        literal = route[position : match.start()]
        path += literal
        segments = [s for s in literal.split("/") if s]
        if segments:
            previous_segment = segments[-1]
        converter = converters[match["converter"] or "str"]
        if first:
            value = business.slug
            first = False
        elif re.fullmatch(converter.regex, "know"):
            value = "know"
        else:
            pk = _acme_pk_for(previous_segment, business)
            candidates = ([str(pk)] if pk else []) + ["1", str(uuid.UUID(int=1)), "x"]
            value = next(c for c in candidates if re.fullmatch(converter.regex, c))
        path += value
        position = match.end()
    url = "/" + path + route[position:]
    assert resolve(url).route == route, f"{url} does not resolve to {route}"
    return url


@pytest.fixture
def acme_world(acme, alice, bob, erin, acme_tactic, acme_invitation, other_co):
    """Acme with a member, an editor, a tactic, a pending invitation and a goal."""
    StagePlan.objects.filter(business=acme, stage="know").update(goal="200 readers")
    return acme


# ---------------------------------------------------------------------------
# The walk itself
# ---------------------------------------------------------------------------


def test_walk_finds_every_core_business_url():
    names = {name for _route, name, _regex in BUSINESS_ROUTES}

    assert CORE_BUSINESS_URLS <= names


def test_business_urls_are_plain_routes_the_walk_can_fill_in():
    # A regex URL would need hand-written arguments: use path() under /b/<slug>/.
    assert [route for route, _name, regex in BUSINESS_ROUTES if regex] == []


@pytest.mark.parametrize("name", sorted(CORE_BUSINESS_URLS))
def test_owner_reaches_every_core_business_url(alice_client, acme_world, name):
    # The positive control: the 404s below come from the access check, not broken URLs.
    route = next(r for r, n, _x in BUSINESS_ROUTES if n == name)

    response = alice_client.get(build_url(route, acme_world))

    assert response.status_code in (200, 302, 405)


# ---------------------------------------------------------------------------
# Outsiders: 404 everywhere, nothing written
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTE_IDS)
def test_outsider_gets_404_on_get(client_for, charlie, acme_world, route):
    snapshot = business_snapshot(acme_world)

    response = client_for(charlie).get(build_url(route, acme_world))

    assert response.status_code == 404
    assert business_snapshot(acme_world) == snapshot


@pytest.mark.parametrize("route", ROUTE_IDS)
def test_outsider_gets_404_on_post_and_nothing_changes(
    client_for,
    charlie,
    acme_world,
    route,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    snapshot = business_snapshot(acme_world)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(charlie).post(build_url(route, acme_world), HOSTILE_POST)

    assert response.status_code == 404
    assert business_snapshot(acme_world) == snapshot
    assert mailoutbox == []


def test_outsider_sweep_leaves_acme_exactly_as_it_was(client_for, charlie, acme_world):
    before = business_snapshot(acme_world)
    outsider = client_for(charlie)

    for route in ROUTE_IDS:
        url = build_url(route, acme_world)
        outsider.get(url)
        outsider.post(url, HOSTILE_POST)

    after = business_snapshot(acme_world)
    assert after == before
    assert len(after["tactics"]) == 1
    assert [t[2] for t in after["tactics"]] == ["Flyers"]
    assert len(after["memberships"]) == 3
    assert len(after["stage_plans"]) == 7
    assert len(after["invitations"]) == 1
    assert not Membership.objects.filter(business=acme_world, user=charlie).exists()


# ---------------------------------------------------------------------------
# Anonymous visitors: sent to log in
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", ROUTE_IDS)
def test_anonymous_visitor_is_sent_to_login(client, acme_world, route, method):
    snapshot = business_snapshot(acme_world)
    url = build_url(route, acme_world)

    response = getattr(client, method)(url, HOSTILE_POST if method == "post" else None)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
    assert business_snapshot(acme_world) == snapshot


# ---------------------------------------------------------------------------
# Members and editors: 403 on writes above their role
# ---------------------------------------------------------------------------

EDITOR_WRITES = ["stage-edit", "tactic-create", "tactic-edit", "tactic-delete"]
OWNER_WRITES = [
    "invite",
    "invitation-resend",
    "invitation-revoke",
    "member-role",
    "member-remove",
    "member-profile",
    "marketing-owner",
    "settings",
    "delete",
]


def write_url(name: str, acme: Business) -> str:
    route = next(r for r, n, _x in BUSINESS_ROUTES if n == f"hourglass:{name}")
    return build_url(route, acme)


@pytest.mark.parametrize("name", EDITOR_WRITES + OWNER_WRITES)
def test_member_gets_403_on_every_write_and_nothing_changes(
    client_for, bob, acme_world, name, mailoutbox, django_capture_on_commit_callbacks
):
    snapshot = business_snapshot(acme_world)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(bob).post(write_url(name, acme_world), HOSTILE_POST)

    assert response.status_code == 403
    assert business_snapshot(acme_world) == snapshot
    assert mailoutbox == []


@pytest.mark.parametrize("name", OWNER_WRITES)
def test_editor_gets_403_on_owner_writes_and_nothing_changes(
    client_for, erin, acme_world, name, mailoutbox, django_capture_on_commit_callbacks
):
    snapshot = business_snapshot(acme_world)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(erin).post(write_url(name, acme_world), HOSTILE_POST)

    assert response.status_code == 403
    assert business_snapshot(acme_world) == snapshot
    assert mailoutbox == []


@pytest.mark.parametrize(
    "name", ["stage-edit", "tactic-create", "tactic-edit", "settings"]
)
def test_member_gets_403_on_edit_forms(client_for, bob, acme_world, name):
    response = client_for(bob).get(write_url(name, acme_world))

    assert response.status_code == 403


@pytest.mark.parametrize("name", ["overview", "team"])
def test_member_reads_the_business(client_for, bob, acme_world, name):
    response = client_for(bob).get(write_url(name, acme_world))

    assert response.status_code == 200
