"""The one rule of who enters which week's number (`metrics.access`): the This
week form offers a field exactly where a posted number is taken, and both agree
with the rule as the README states it, written again here on its own."""

import re

import pytest
from django.urls import reverse

from metrics import weeks
from metrics.access import entry_refusal, may_enter
from metrics.models import Entry

# Weeks before this one the matrix tries (0 is this week).
WEEKS_BACK = (0, 1, 2, 5)


def documented_rule(*, role: str, owns: bool, back: int, archived: bool) -> bool:
    """README: editors and owners enter any metric's number for any week up to
    this one; a member only their own metrics', this week and last week; an
    archived metric takes no number."""
    if archived:
        return False
    if role in ("owner", "editor"):
        return True
    return owns and back <= 1


def field_is_offered(html: str, metric_pk: int) -> bool:
    tag = re.search(rf'<input[^>]*name="value-{metric_pk}"[^>]*>', html, re.S)
    assert tag, f"no field for metric {metric_pk}"
    return "hx-post" in tag.group(0) and "disabled" not in tag.group(0)


@pytest.mark.parametrize("who", ["alice", "erin", "bob"])
def test_the_form_offers_exactly_what_a_save_takes(
    request, client_for, acme, who, metric, bob_metric, this_week
):
    user = request.getfixturevalue(who)
    role = {"alice": "owner", "erin": "editor", "bob": "member"}[who]
    client = client_for(user)
    page = reverse("metrics:this-week", args=[acme.slug])
    for back in WEEKS_BACK:
        week = this_week - weeks.WEEK * back
        # Editors and owners list everybody's metrics, a member their own.
        query = {
            "week": week.isoformat(),
            **({} if role == "member" else {"who": "all"}),
        }
        html = client.get(page, query).content.decode()
        for m in (metric, bob_metric):
            owns = m.owner.user_id == user.pk
            expected = documented_rule(role=role, owns=owns, back=back, archived=False)
            if role != "member" or owns:
                assert field_is_offered(html, m.pk) is expected, (who, m.name, back)
            url = reverse("metrics:entry-save", args=[acme.slug, m.pk, week])
            response = client.post(url, {"value": "7"})
            status = 302 if expected else 403
            assert response.status_code == status, (who, m.name, back)
            stored = Entry.objects.filter(metric=m, week=week, value=7).exists()
            assert stored is expected


def test_no_field_and_no_number_for_an_archived_metric(
    alice_client, acme, metric, this_week, alice_membership
):
    metric.archived_on = this_week
    metric.save()
    metric.refresh_from_db()
    assert not may_enter(alice_membership, metric, this_week, current=this_week)
    # The refusal is the archive's, said next to the field, not a 403.
    assert entry_refusal(alice_membership, metric, this_week, current=this_week) == ""
    url = reverse("metrics:entry-save", args=[acme.slug, metric.pk, this_week])
    response = alice_client.post(url, {"value": "3"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "archived" in response.content.decode()
    assert not Entry.objects.exists()


def test_no_field_for_a_week_not_started(alice_membership, metric, this_week):
    later = this_week + weeks.WEEK
    assert not may_enter(alice_membership, metric, later, current=this_week)
