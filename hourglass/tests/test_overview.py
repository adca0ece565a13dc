import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass.models import (
    STAGE_ORDER,
    Membership,
    PepBucket,
    Stage,
    StagePlan,
    Tactic,
)
from hourglass.selectors import pep_warning
from hourglass.tests.factories import (
    BusinessFactory,
    MembershipFactory,
    TacticFactory,
)
from hourglass.tests.utils import HTMX, ancestor_attr, elements

STAGE_ID = re.compile(r'\bid="stage-([a-z]+)"')


def overview_url(business) -> str:
    return reverse("hourglass:overview", kwargs={"slug": business.slug})


def stage_edit_url(business, stage: str) -> str:
    return reverse(
        "hourglass:stage-edit", kwargs={"slug": business.slug, "stage": stage}
    )


def stage_plan_url(business, stage: str) -> str:
    return reverse(
        "hourglass:stage-plan", kwargs={"slug": business.slug, "stage": stage}
    )


def tactic_create_url(business) -> str:
    return reverse("hourglass:tactic-create", kwargs={"slug": business.slug})


def tactic_edit_url(business, tactic) -> str:
    return reverse(
        "hourglass:tactic-edit", kwargs={"slug": business.slug, "pk": tactic.pk}
    )


def tactic_delete_url(business, tactic) -> str:
    return reverse(
        "hourglass:tactic-delete", kwargs={"slug": business.slug, "pk": tactic.pk}
    )


def anchor(business, stage: str) -> str:
    return f"{overview_url(business)}#stage-{stage}"


def goal_of(business, stage: str) -> str:
    return StagePlan.objects.get(business=business, stage=stage).goal


def pep_warning_stages(html: str) -> list[str]:
    """The stages whose tactics section shows the PEP warning."""
    return [
        ancestor_attr(ancestors, "data-stage")
        for attrs, ancestors in elements(html)
        if attrs.get("data-testid") == "pep-warning"
    ]


def tactic_data(**overrides) -> dict:
    data = {"name": "Podcast guest spots", "stage": "know", "pep": "earned", "note": ""}
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------


def test_overview_lists_the_seven_stages_in_order(alice_client, acme):
    html = alice_client.get(overview_url(acme)).content.decode()

    assert STAGE_ID.findall(html) == [
        "know",
        "like",
        "trust",
        "try",
        "buy",
        "repeat",
        "refer",
    ]


def test_overview_puts_know_to_try_in_the_marketing_half_and_the_rest_in_operations(
    alice_client, acme
):
    html = alice_client.get(overview_url(acme)).content.decode()

    halves = {
        attrs["id"].removeprefix("stage-"): ancestor_attr(ancestors, "data-half")
        for attrs, ancestors in elements(html)
        if STAGE_ID.fullmatch(f'id="{attrs.get("id", "")}"')
    }
    assert halves == {
        "know": "marketing",
        "like": "marketing",
        "trust": "marketing",
        "try": "marketing",
        "buy": "operations",
        "repeat": "operations",
        "refer": "operations",
    }


def test_overview_hourglass_drawing_has_seven_bands_in_stage_order(alice_client, acme):
    html = alice_client.get(overview_url(acme)).content.decode()

    in_svg = [
        (attrs, ancestors)
        for attrs, ancestors in elements(html)
        if any(a.get("data-testid") == "hourglass" for a in ancestors)
    ]
    bands = [
        attrs["data-stage"]
        for attrs, _a in in_svg
        if "hg-band" in attrs.get("class", "")
    ]
    assert bands == STAGE_ORDER
    assert html.count("<polygon") == 7


def test_overview_shows_goals_and_tactics(alice_client, acme, acme_tactic):
    StagePlan.objects.filter(business=acme, stage="trust").update(goal="50 demo calls")

    html = alice_client.get(overview_url(acme)).content.decode()

    assert "50 demo calls" in html
    assert "Flyers" in html


def test_overview_shows_only_its_own_business_tactics(alice_client, acme, other_co):
    TacticFactory(business=other_co, name="Secret plan of Other Co")

    html = alice_client.get(overview_url(acme)).content.decode()

    assert "Secret plan of Other Co" not in html


# ---------------------------------------------------------------------------
# The PEP warning
# ---------------------------------------------------------------------------


def test_pep_warning_for_know_without_tactics():
    assert "No tactics yet" in pep_warning("know", [])


@pytest.mark.parametrize("bucket", [b.value for b in PepBucket])
def test_pep_warning_for_know_with_one_bucket_names_it(bucket):
    warning = pep_warning("know", [bucket, bucket, bucket])

    assert f"All your Know tactics are {bucket}" in warning


@pytest.mark.parametrize(
    "buckets", [["paid", "earned"], ["earned", "person"], ["person", "paid", "paid"]]
)
def test_no_pep_warning_for_know_with_two_buckets(buckets):
    assert pep_warning("know", buckets) == ""


@pytest.mark.parametrize("stage", [s for s in STAGE_ORDER if s != Stage.KNOW])
@pytest.mark.parametrize("buckets", [[], ["paid"]])
def test_no_pep_warning_for_stages_other_than_know(stage, buckets):
    assert pep_warning(stage, buckets) == ""


def test_overview_warns_about_know_without_tactics(alice_client, acme):
    html = alice_client.get(overview_url(acme)).content.decode()

    assert pep_warning_stages(html) == ["know"]


def test_overview_warns_about_know_tactics_of_one_bucket(alice_client, acme):
    TacticFactory.create_batch(2, business=acme, stage="know", pep="paid")

    html = alice_client.get(overview_url(acme)).content.decode()

    assert pep_warning_stages(html) == ["know"]
    assert "All your Know tactics are paid" in html


def test_overview_drops_the_warning_with_two_buckets_in_know(alice_client, acme):
    TacticFactory(business=acme, stage="know", pep="paid")
    TacticFactory(business=acme, stage="know", pep="person")

    html = alice_client.get(overview_url(acme)).content.decode()

    assert pep_warning_stages(html) == []


def test_overview_never_warns_on_other_stages(alice_client, acme):
    for stage in STAGE_ORDER[1:]:
        TacticFactory(business=acme, stage=stage, pep="paid")

    html = alice_client.get(overview_url(acme)).content.decode()

    assert pep_warning_stages(html) == ["know"]


def test_tactic_added_with_a_second_bucket_clears_the_warning_in_the_fragment(
    alice_client, acme, acme_tactic
):
    response = alice_client.post(
        tactic_create_url(acme), tactic_data(pep="person"), headers=HTMX
    )

    assert pep_warning_stages(response.content.decode()) == []


# ---------------------------------------------------------------------------
# Stage goal and notes
# ---------------------------------------------------------------------------


def test_stage_edit_with_htmx_returns_the_form_fragment(alice_client, acme):
    response = alice_client.get(stage_edit_url(acme, "know"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert '<form class="stage-plan' in html
    assert 'id="stage-plan-know"' in html
    assert 'name="goal"' in html


def test_stage_edit_without_htmx_is_a_full_page(alice_client, acme):
    response = alice_client.get(stage_edit_url(acme, "know"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'name="goal"' in html


def test_stage_edit_form_is_filled_with_the_current_goal(alice_client, acme):
    StagePlan.objects.filter(business=acme, stage="like").update(
        goal="Weekly newsletter"
    )

    response = alice_client.get(stage_edit_url(acme, "like"), headers=HTMX)

    assert 'value="Weekly newsletter"' in response.content.decode()


def test_stage_edit_post_with_htmx_saves_and_returns_the_display_fragment(
    alice_client, acme
):
    response = alice_client.post(
        stage_edit_url(acme, "know"),
        {"goal": "200 new readers a month", "notes": "Start with the blog"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<form" not in html
    assert 'id="stage-plan-know"' in html
    assert "200 new readers a month" in html
    plan = StagePlan.objects.get(business=acme, stage="know")
    assert (plan.goal, plan.notes) == ("200 new readers a month", "Start with the blog")


def test_stage_edit_post_without_htmx_redirects_to_the_stage_on_the_overview(
    alice_client, acme
):
    response = alice_client.post(
        stage_edit_url(acme, "buy"), {"goal": "Deliver in 2 days"}
    )

    assert response.status_code == 302
    assert response["Location"] == anchor(acme, "buy")
    assert goal_of(acme, "buy") == "Deliver in 2 days"


def test_stage_edit_by_editor_saves(erin_client, acme):
    response = erin_client.post(stage_edit_url(acme, "try"), {"goal": "Free trial"})

    assert response.status_code == 302
    assert goal_of(acme, "try") == "Free trial"


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_stage_edit_with_a_too_long_goal_is_refused(alice_client, acme, headers):
    response = alice_client.post(
        stage_edit_url(acme, "know"), {"goal": "x" * 301}, headers=headers
    )

    assert response.status_code == 422
    assert "at most 300 characters" in response.content.decode()
    assert goal_of(acme, "know") == ""


def test_stage_edit_by_member_is_forbidden(bob_client, acme):
    response = bob_client.post(
        stage_edit_url(acme, "know"), {"goal": "Member was here"}
    )

    assert response.status_code == 403
    assert goal_of(acme, "know") == ""


def test_stage_edit_of_an_unknown_stage_is_not_found(alice_client, acme):
    response = alice_client.post(stage_edit_url(acme, "sell"), {"goal": "Nope"})

    assert response.status_code == 404
    assert not StagePlan.objects.filter(stage="sell").exists()


def test_stage_plan_with_htmx_returns_the_display_fragment(alice_client, acme):
    StagePlan.objects.filter(business=acme, stage="refer").update(
        goal="1 referral a week"
    )

    response = alice_client.get(stage_plan_url(acme, "refer"), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="stage-plan-refer"' in html
    assert "1 referral a week" in html


def test_stage_plan_without_htmx_redirects_to_the_overview_anchor(alice_client, acme):
    response = alice_client.get(stage_plan_url(acme, "refer"))

    assert response.status_code == 302
    assert response["Location"] == anchor(acme, "refer")


def test_member_sees_no_edit_buttons(bob_client, acme, acme_tactic):
    html = bob_client.get(overview_url(acme)).content.decode()

    assert 'data-testid="edit-stage-know"' not in html
    assert 'data-testid="add-tactic-know"' not in html
    assert tactic_edit_url(acme, acme_tactic) not in html


# ---------------------------------------------------------------------------
# Tactics
# ---------------------------------------------------------------------------


def test_tactic_create_form_with_htmx_is_a_fragment(alice_client, acme):
    response = alice_client.get(tactic_create_url(acme) + "?stage=trust", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="tactic-form-new-trust"' in html


def test_tactic_create_form_without_htmx_is_a_full_page(alice_client, acme):
    response = alice_client.get(tactic_create_url(acme) + "?stage=trust")

    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_tactic_create_with_htmx_returns_the_stage_tactics(alice_client, acme):
    response = alice_client.post(
        tactic_create_url(acme), tactic_data(stage="like"), headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<section class="tactics" id="tactics-like"')
    assert "Podcast guest spots" in html
    tactic = Tactic.objects.get(business=acme)
    assert (tactic.stage, tactic.name, tactic.pep) == (
        "like",
        "Podcast guest spots",
        "earned",
    )


def test_tactic_create_without_htmx_redirects_to_the_stage(alice_client, acme):
    response = alice_client.post(tactic_create_url(acme), tactic_data(stage="repeat"))

    assert response.status_code == 302
    assert response["Location"] == anchor(acme, "repeat")
    assert Tactic.objects.get(business=acme).stage == "repeat"


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("name", "   ", "This field is required."),
        ("pep", "tv", "Select a valid choice."),
        ("pep", "", "This field is required."),
    ],
)
def test_invalid_tactic_is_refused_naming_the_field(
    alice_client, acme, headers, field, value, message
):
    response = alice_client.post(
        tactic_create_url(acme), tactic_data(**{field: value}), headers=headers
    )

    assert response.status_code == 422
    assert any(message in error for error in response.context["form"].errors[field])
    assert message in response.content.decode()
    assert not Tactic.objects.exists()


def test_invalid_tactic_with_htmx_retargets_the_form(alice_client, acme):
    response = alice_client.post(
        tactic_create_url(acme), tactic_data(name=""), headers=HTMX
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#tactic-form-new-know"
    assert 'id="tactic-form-new-know"' in response.content.decode()


def test_tactic_with_an_unknown_stage_is_refused_with_a_message(alice_client, acme):
    response = alice_client.post(tactic_create_url(acme), tactic_data(stage="sell"))

    assert response.status_code == 422
    assert "Select a valid choice." in response.content.decode()
    assert not Tactic.objects.exists()


def _htmx_form(client, url: str) -> tuple[dict, dict]:
    """The form an htmx GET of `url` returns: its attributes and its hidden inputs."""
    found = elements(client.get(url, headers=HTMX).content.decode())
    form = next(attrs for attrs, _ancestors in found if "hx-post" in attrs)
    hidden = {
        attrs["name"]: attrs.get("value", "")
        for attrs, _ancestors in found
        if attrs.get("type") == "hidden" and attrs.get("name") != "csrfmiddlewaretoken"
    }
    return form, hidden


def _post_like_htmx(client, form: dict, data: dict):
    """Submit `form` as htmx does: to its hx-post, naming its hx-target in HX-Target."""
    target = form["hx-target"].removeprefix("#")
    return client.post(form["hx-post"], data, headers={**HTMX, "HX-Target": target})


def test_tactic_added_to_another_stage_than_the_forms_keeps_both_stages_on_the_page(
    alice_client, acme
):
    # The "add" form under Know swaps out #tactics-know; the editor picks Like in it.
    form, hidden = _htmx_form(alice_client, tactic_create_url(acme) + "?stage=know")
    assert form["hx-target"] == "#tactics-know"

    response = _post_like_htmx(
        alice_client, form, {**hidden, **tactic_data(stage="like")}
    )

    assert response.status_code == 200
    swapped = {
        attrs["id"]: attrs
        for attrs, _ancestors in elements(response.content.decode())
        if re.fullmatch(r"tactics-[a-z]+", attrs.get("id", ""))
    }
    # What replaces the target must be the target again, or Know vanishes from the page.
    assert "tactics-know" in swapped
    assert "hx-swap-oob" not in swapped["tactics-know"]
    assert swapped.get("tactics-like", {}).get("hx-swap-oob") == "true"
    assert Tactic.objects.get(business=acme).stage == "like"


def test_invalid_tactic_in_another_stage_than_the_forms_retargets_the_form_on_the_page(
    alice_client, acme
):
    form, hidden = _htmx_form(alice_client, tactic_create_url(acme) + "?stage=know")

    response = _post_like_htmx(
        alice_client, form, {**hidden, **tactic_data(stage="like", name="")}
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#{form['id']}"
    assert not Tactic.objects.exists()


def test_tactic_edit_form_with_htmx_is_a_fragment(alice_client, acme, acme_tactic):
    response = alice_client.get(tactic_edit_url(acme, acme_tactic), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert f'id="tactic-form-{acme_tactic.pk}"' in html
    assert 'value="Flyers"' in html


def test_tactic_edit_with_htmx_returns_the_stage_tactics(
    alice_client, acme, acme_tactic
):
    response = alice_client.post(
        tactic_edit_url(acme, acme_tactic),
        tactic_data(name="Posters", pep="paid"),
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="tactics-know"' in html
    assert "Posters" in html
    assert "hx-swap-oob" not in html
    acme_tactic.refresh_from_db()
    assert (acme_tactic.name, acme_tactic.pep) == ("Posters", "paid")


def test_tactic_edit_without_htmx_redirects_to_the_stage(
    alice_client, acme, acme_tactic
):
    response = alice_client.post(
        tactic_edit_url(acme, acme_tactic), tactic_data(name="Posters")
    )

    assert response.status_code == 302
    assert response["Location"] == anchor(acme, "know")
    acme_tactic.refresh_from_db()
    assert acme_tactic.name == "Posters"


def test_moving_a_tactic_to_another_stage_swaps_the_new_stage_out_of_band(
    alice_client, acme, acme_tactic
):
    response = alice_client.post(
        tactic_edit_url(acme, acme_tactic),
        tactic_data(name="Flyers", stage="trust"),
        headers=HTMX,
    )

    html = response.content.decode()
    sections = {
        attrs["id"]: attrs
        for attrs, _ancestors in elements(html)
        if re.fullmatch(r"tactics-[a-z]+", attrs.get("id", ""))
    }
    assert set(sections) == {"tactics-know", "tactics-trust"}
    assert "hx-swap-oob" not in sections["tactics-know"]
    assert sections["tactics-trust"]["hx-swap-oob"] == "true"
    old, new = html.split('id="tactics-trust"')
    assert f'id="tactic-{acme_tactic.pk}"' not in old
    assert f'id="tactic-{acme_tactic.pk}"' in new
    acme_tactic.refresh_from_db()
    assert acme_tactic.stage == "trust"


def test_moving_a_tactic_without_htmx_redirects_to_its_new_stage(
    alice_client, acme, acme_tactic
):
    response = alice_client.post(
        tactic_edit_url(acme, acme_tactic), tactic_data(stage="buy")
    )

    assert response["Location"] == anchor(acme, "buy")


def test_invalid_tactic_edit_changes_nothing(alice_client, acme, acme_tactic):
    response = alice_client.post(
        tactic_edit_url(acme, acme_tactic), tactic_data(name="", pep="tv"), headers=HTMX
    )

    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"name", "pep"}
    assert response["HX-Retarget"] == f"#tactic-form-{acme_tactic.pk}"
    acme_tactic.refresh_from_db()
    assert (acme_tactic.name, acme_tactic.pep) == ("Flyers", "paid")


def test_tactic_delete_with_htmx_returns_the_stage_without_it(
    alice_client, acme, acme_tactic
):
    response = alice_client.post(tactic_delete_url(acme, acme_tactic), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="tactics-know"' in html
    assert "Flyers" not in html
    assert not Tactic.objects.exists()


def test_tactic_delete_without_htmx_redirects_to_the_stage(
    alice_client, acme, acme_tactic
):
    response = alice_client.post(tactic_delete_url(acme, acme_tactic))

    assert response.status_code == 302
    assert response["Location"] == anchor(acme, "know")
    assert not Tactic.objects.exists()


def test_tactic_delete_needs_a_post(alice_client, acme, acme_tactic):
    response = alice_client.get(tactic_delete_url(acme, acme_tactic))

    assert response.status_code == 405
    assert Tactic.objects.exists()


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_tactic_of_another_business_is_not_found(alice_client, acme, other_co, action):
    theirs = TacticFactory(business=other_co, name="Theirs")
    url = reverse(
        f"hourglass:tactic-{action}", kwargs={"slug": acme.slug, "pk": theirs.pk}
    )

    response = alice_client.post(url, tactic_data(name="Mine now"))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.business) == ("Theirs", other_co)


def test_member_cannot_create_tactics(bob_client, acme):
    response = bob_client.post(tactic_create_url(acme), tactic_data())

    assert response.status_code == 403
    assert not Tactic.objects.exists()


def test_member_cannot_edit_tactics(bob_client, acme, acme_tactic):
    response = bob_client.post(
        tactic_edit_url(acme, acme_tactic), tactic_data(name="Mine")
    )

    assert response.status_code == 403
    acme_tactic.refresh_from_db()
    assert acme_tactic.name == "Flyers"


def test_member_cannot_delete_tactics(bob_client, acme, acme_tactic):
    response = bob_client.post(tactic_delete_url(acme, acme_tactic))

    assert response.status_code == 403
    assert Tactic.objects.filter(pk=acme_tactic.pk).exists()


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------


def _overview_queries(client, business) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(overview_url(business))
    assert response.status_code == 200
    return len(queries)


def test_overview_query_count_does_not_grow_with_tactics(alice_client, acme, erin):
    alice_client.get(overview_url(acme))  # the first visit also records the business
    TacticFactory(business=acme)
    with_one = _overview_queries(alice_client, acme)

    for index in range(99):
        TacticFactory(
            business=acme,
            stage=STAGE_ORDER[index % 7],
            pep=[b.value for b in PepBucket][index % 3],
            note="A note",
        )
    StagePlan.objects.filter(business=acme).update(goal="A goal", notes="Some notes")
    with_hundred = _overview_queries(alice_client, acme)

    assert Tactic.objects.filter(business=acme).count() == 100
    assert with_hundred == with_one


def test_overview_stays_within_a_fixed_query_budget(
    alice_client, acme, django_assert_max_num_queries
):
    alice_client.get(overview_url(acme))
    for index in range(100):
        TacticFactory(business=acme, stage=STAGE_ORDER[index % 7])

    # Five today: session, user, memberships (with the switcher's), stage plans,
    # tactics.
    with django_assert_max_num_queries(10):
        alice_client.get(overview_url(acme))


def test_a_business_page_reads_the_users_memberships_once(
    alice_client, alice, acme, other_co
):
    """The membership that opens the page and the switcher's list of the user's
    businesses come from one query; the switcher lists every business of the
    user by name, and only theirs."""
    MembershipFactory(user=alice, business=BusinessFactory(name="Zebra Bakery"))
    MembershipFactory(user=alice, business=BusinessFactory(name="Aardvark Tours"))
    with CaptureQueriesContext(connection) as queries:
        html = alice_client.get(overview_url(acme)).content.decode()
    table = Membership._meta.db_table
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT")
        and f'FROM "{table}"' in q["sql"]
    ]
    assert len(reads) == 1, reads
    switcher = html[html.index('data-testid="business-switcher"') :]
    switcher = switcher[: switcher.index("</details>")]
    names = re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+) <small>', switcher)
    assert names == ["Aardvark Tours", acme.name, "Zebra Bakery"]
    assert other_co.name not in switcher
