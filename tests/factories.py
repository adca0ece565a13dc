"""Builders of the project-wide tests: a business populated through the services
with one of every kind of object (the isolation matrix, the whole-business archive
and the hostile archive tests start from it)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from hourglass import services
from hourglass.models import Business, Membership, Role, User
from metrics import rollup, weeks
from metrics import services as metric_services
from systemmaps import selectors as map_selectors
from systemmaps import services as map_services
from systemmaps.tests.factories import webinar_graph
from systemmaps.transfer import export_json


@dataclass
class World:
    """One business with one of every kind of object, and their ids for URLs."""

    business: Business
    owner: User
    ids: dict[str, int | str]
    # The map's current version (its If-Match) and the step's checklist in order.
    map_version: int
    item_ids: list[int]

    def kwargs(self, route) -> dict[str, int | str]:
        """The URL arguments of `route` (a Route of tests/utils.py, whose
        `kwargs` name each argument's key in `ids`) filled in for this business."""
        return {"slug": self.business.slug} | {
            arg: self.ids[key] for arg, key in route.kwargs.items()
        }


def populate(
    business: Business, *, owner: User, member: User, step_owner: User
) -> World:
    """`member` is a plain member who owns the step "call"; `step_owner` owns
    "nurture", the step the isolation matrix's URLs name, with its checklist,
    runs and flag."""
    memberships = {m.user_id: m for m in Membership.objects.filter(business=business)}
    system_map = map_services.map_create(
        business=business,
        acting_user=owner,
        name=f"{business.name} webinar",
        half="marketing",
        stages=["like", "try"],
        graph=webinar_graph(f"{business.name} webinar"),
    )
    # Two more saves: three revisions, the middle one to look at and restore.
    for label in ("Weekly email", "Email twice a week"):
        graph = map_selectors.graph_of(system_map)
        next(n for n in graph["nodes"] if n["id"] == "nurture")["label"] = label
        system_map = map_services.map_save_graph(
            system_map=system_map,
            graph=graph,
            acting_user=owner,
            expected_version=system_map.version,
        ).system_map
    step = system_map.nodes.get(client_id="nurture")
    own_step = system_map.nodes.get(client_id="call")
    map_services.step_update(
        node=step,
        owner=memberships[step_owner.pk],
        critical=True,
        minutes_per_run=Decimal(30),
        runs_per_month=Decimal(8),
    )
    map_services.step_update(node=own_step, owner=memberships[member.pk])
    map_services.sop_update(
        node=step, why="Leads go cold.", reviewed_on=date(2024, 1, 2)
    )
    items = [
        map_services.checklist_item_add(node=step, text=text)
        for text in ("Write the email", "Check the links", "Schedule it")
    ]
    map_services.checklist_item_add(node=own_step, text="Confirm the time")
    open_run = map_services.run_start(node=step, acting_user=owner, subject="Client A")
    map_services.run_tick(run=open_run, item=items[0], ticked=True, acting_user=owner)
    finished = map_services.run_start(node=step, acting_user=owner, subject="Client B")
    map_services.run_tick(run=finished, item=items[1], ticked=True, acting_user=owner)
    map_services.run_finish(run=finished)
    flag = map_services.flag_add(
        node=step, acting_user=member, text="The template is old."
    )
    trashed = map_services.map_create(
        business=business,
        acting_user=owner,
        name="Old system",
        half="operations",
        stages=["buy"],
        graph=webinar_graph("Old system"),
    )
    map_services.map_delete(system_map=trashed, acting_user=owner)
    tactic = services.tactic_create(
        business=business, stage="know", name="Flyers", pep="paid", note="At fairs"
    )
    invitation = services.invitation_create(
        business=business,
        email=f"invitee@{business.slug}.example.com",
        role=Role.EDITOR,
        acting_user=owner,
        base_url="http://testserver/",
    )
    services.stage_plan_update(
        business=business, stage="know", goal="200 readers", notes="Mostly local."
    )
    services.membership_update_profile(
        membership=memberships[member.pk], roles="Sales", hourly_rate=Decimal(40)
    )
    services.business_set_marketing_owner(
        business=business, membership=memberships[member.pk]
    )
    # Metrics: one on the step, owned by its owner (not the plain member), with
    # last week's number edited once; one owned by nobody; last week's meeting
    # with notes, an issue on the metric and a to-do; the week rolled up.
    last = weeks.last_week(business.timezone)
    metric = metric_services.metric_create(
        business=business,
        acting_user=owner,
        name=f"{business.name} nurture emails",
        unit="count",
        direction="higher",
        goal=Decimal(10),
        owner=memberships[step_owner.pk],
        step=step,
        stage="",
        in_funnel=True,
    )
    metric_services.metric_create(
        business=business,
        acting_user=owner,
        name=f"{business.name} referrals",
        unit="count",
        direction="higher",
        goal=None,
        owner=None,
        step=None,
        stage="refer",
        in_funnel=True,
    )
    for value in (12, 14):
        metric_services.entry_record(
            metric=metric, week=last, value=Decimal(value), acting_user=owner
        )
    metric_services.meeting_notes_save(
        business=business, week=last, notes="Leads are slow.", acting_user=owner
    )
    issue = metric_services.issue_raise(
        business=business,
        week=last,
        title="Fewer emails opened",
        metric=metric,
        step=step,
        acting_user=owner,
    )
    todo = metric_services.todo_add(
        business=business,
        week=last,
        text="Rewrite the subject lines",
        owner=memberships[step_owner.pk],
        due=last + timedelta(days=14),
        issue=issue,
        acting_user=owner,
    )
    rollup.rollup_business_week(business.pk, last)
    draft = map_services.import_draft_create(
        business=business,
        user=owner,
        file_name="upload.json",
        content=export_json(webinar_graph(f"{business.name} upload")),
        format="json",
    )
    return World(
        business=business,
        owner=owner,
        ids={
            "map": system_map.pk,
            "trashed_map": trashed.pk,
            "draft": draft.pk,
            "step": "nurture",
            "decision": "booked",
            "version": 2,
            "item": items[0].pk,
            "flag": flag.pk,
            "run": open_run.pk,
            "tactic": tactic.pk,
            "invitation": invitation.pk,
            "member": memberships[member.pk].pk,
            "stage": "know",
            "fmt": "svg",
            "template": "webinar",
            "metric": metric.pk,
            "issue": issue.pk,
            "todo": todo.pk,
            "week": last.isoformat(),
            # Not in URLs: what the metrics forms name.
            "metric_name": metric.name,
            "step_pk": step.pk,
            "metric_owner": memberships[step_owner.pk].pk,
        },
        map_version=system_map.version,
        item_ids=[item.pk for item in items],
    )
