from django.apps import apps
from django.core.management import call_command

from hourglass import demo
from hourglass.models import Business, Membership, Role, Stage, Tactic, User
from systemmaps.models import ChecklistRun, Node


def _all_rows() -> dict[str, list[tuple]]:
    """Every row of every model of our apps, as plain values."""
    rows = {}
    for model in apps.get_models():
        if model._meta.app_label in {"hourglass", "systemmaps", "metrics"}:
            rows[model._meta.label] = sorted(
                (tuple(sorted(row.items())) for row in model.objects.values()),
                key=repr,
            )
    return rows


def test_seed_demo_creates_a_believable_business(db):
    call_command("seed_demo", verbosity=0)

    business = Business.objects.get(slug=demo.DEMO_SLUG)
    memberships = Membership.objects.filter(business=business)
    assert memberships.count() == 4  # the demo owner and three teammates
    assert memberships.get(user__email=demo.DEMO_EMAIL).role == Role.OWNER
    assert {m.role for m in memberships} == {Role.OWNER, Role.EDITOR, Role.MEMBER}
    stages_with_tactics = set(
        Tactic.objects.filter(business=business).values_list("stage", flat=True)
    )
    assert len(stages_with_tactics) >= 4
    know_buckets = set(
        Tactic.objects.filter(business=business, stage=Stage.KNOW).values_list(
            "pep", flat=True
        )
    )
    assert len(know_buckets) >= 2
    assert User.objects.get(email=demo.DEMO_EMAIL).check_password(demo.DEMO_PASSWORD)


def test_seed_demo_twice_changes_nothing(db):
    call_command("seed_demo", verbosity=0)
    first = _all_rows()
    call_command("seed_demo", verbosity=0)
    assert _all_rows() == first
    # The comparison covers real rows of every kind the demo makes.
    for label in ("hourglass.Tactic", "systemmaps.ChecklistItem", "systemmaps.RunTick"):
        assert first[label], label


def test_demo_login_owns_steps_with_checklists_costs_and_runs(db):
    call_command("seed_demo", verbosity=0)
    business = Business.objects.get(slug=demo.DEMO_SLUG)
    dana = Membership.objects.get(business=business, user__email=demo.DEMO_EMAIL)
    mine = list(Node.objects.filter(owner=dana).select_related("owner").order_by("pk"))
    assert len(mine) >= 5
    assert len({node.map_id for node in mine}) >= 2  # My steps spans maps
    assert all(node.annual_cost for node in mine)
    critical = [node for node in mine if node.critical]
    assert any(node.checklist_items.count() >= 3 for node in critical)
    runs = ChecklistRun.objects.filter(node__owner=dana)
    assert runs.filter(finished_at__isnull=True).exists()  # an open run to go on with
    assert runs.filter(finished_at__isnull=False, ticked_count__gt=0).exists()
    assert business.marketing_owner.user.email == "sam@example.com"
    assert all(m.hourly_rate for m in Membership.objects.filter(business=business))
    # Something for the gap report to find on first run.
    assert Node.objects.filter(
        map__business=business, kind="task", owner__isnull=True
    ).exists()


def test_demo_login_reaches_the_hourglass(client, db):
    call_command("seed_demo", verbosity=0)
    response = client.post(
        "/accounts/login/",
        {"username": demo.DEMO_EMAIL, "password": demo.DEMO_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/b/{demo.DEMO_SLUG}/"
    assert b"Brightside Bookkeeping" in response.content
