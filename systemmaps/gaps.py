"""The gap report: what keeps a drawing from being a system a team runs.

Pure rules on plain data, tested without a database. A map's nodes are the graph
JSON's nodes (see document.py) with the facts of a step added:

    nodes: [{"id", "kind", "label", ...,
             "owner": member id or None, "critical": bool,
             "automation": "manual" | "could" | "automated",
             "checklist_items": int, "sop_reviewed_on": date | None,
             "annual_cost": Decimal | None,
             "open_flags": [{"text", "by", "created_at"}]}]
    edges: [{"id", "source", "target", "label"}]

Missing step facts read as "not there" (no owner, no checklist, …). Termini are
where a system starts and stops: only the flow rules look at them.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import graph
from .document import DECISION, WORK_KINDS, capfirst, step_name

MANUAL_KINDS = ("manual", "could")
REVIEW_DAYS = 90

NO_OWNER = "no-owner"
CRITICAL_NO_CHECKLIST = "critical-no-checklist"
STALE_CHECKLIST = "stale-checklist"
DECISION_UNLABELLED = "decision-unlabelled"
UNREACHABLE = "unreachable"
DEAD_END = "dead-end"
OPEN_FLAG = "open-flag"
CRITICAL_NO_METRIC = "critical-no-metric"
AUTOMATION = "automation-candidate"

# The gap rules in the order the report lists them, with a title and what to do.
RULES: dict[str, tuple[Any, Any]] = {
    NO_OWNER: (
        gettext_lazy("Steps without an owner"),
        gettext_lazy("Every step needs a person. Name the owner on the step page."),
    ),
    CRITICAL_NO_CHECKLIST: (
        gettext_lazy("Critical steps without a checklist"),
        gettext_lazy(
            "Write the checklist of a critical step in enough detail that someone "
            "else could do it."
        ),
    ),
    STALE_CHECKLIST: (
        gettext_lazy("Checklists not reviewed for 90 days"),
        gettext_lazy(
            "Walk through the checklist with its owner and set the review date."
        ),
    ),
    DECISION_UNLABELLED: (
        gettext_lazy("Decisions without labelled branches"),
        gettext_lazy(
            "A decision needs an arrow for each answer, each labelled, for example "
            "“Yes” and “No”."
        ),
    ),
    UNREACHABLE: (
        gettext_lazy("Unreachable steps"),
        gettext_lazy("Connect them to the flow from the start in the editor."),
    ),
    DEAD_END: (
        gettext_lazy("Dead ends"),
        gettext_lazy(
            "Add what happens next, or connect them to a stop, in the editor."
        ),
    ),
    OPEN_FLAG: (
        gettext_lazy("Open problems flagged"),
        gettext_lazy("Fix the step, then mark the problem resolved on its page."),
    ),
    # The caller passes the measured steps (steps some active metric measures).
    CRITICAL_NO_METRIC: (
        gettext_lazy("Critical steps without a metric"),
        gettext_lazy("Every critical step needs a number someone reports each week."),
    ),
}

# Rules about the drawing itself: their gaps are fixed in the editor.
FLOW_RULES = (DECISION_UNLABELLED, UNREACHABLE, DEAD_END)

# Which lint findings (graph.py) each flow rule reports. A map with no start has
# no reachable step at all; one with no stop has no step that leads to one.
_LINT_RULES = {
    UNREACHABLE: (graph.NO_START, graph.ISOLATED, graph.UNREACHABLE),
    DEAD_END: (graph.NO_END, graph.DEAD_END, graph.CLOSED_LOOP),
}

NodeData = Mapping[str, Any]
EdgeData = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Gap:
    """One gap, about one step (`node`, its client id) or the whole map."""

    rule: str
    message: str
    node: str | None = None
    # Words someone wrote (a flagged problem), shown quoted.
    quote: str = ""
    # Who and when, or other small print.
    note: str = ""
    # An automation candidate's annual cost.
    amount: Decimal | None = None

    @property
    def in_editor(self) -> bool:
        return self.rule in FLOW_RULES


@dataclass(slots=True)
class Section:
    rule: str
    gaps: list[Gap]

    @property
    def title(self) -> str:
        return str(RULES[self.rule][0])

    @property
    def help(self) -> str:
        return str(RULES[self.rule][1])


@dataclass(slots=True)
class Report:
    sections: list[Section]
    # Manual steps ranked by annual cost, and how many manual steps have no cost.
    candidates: list[Gap] = field(default_factory=list)
    candidates_without_cost: int = 0

    @property
    def gap_count(self) -> int:
        return sum(len(s.gaps) for s in self.sections)

    @property
    def counts(self) -> list[tuple[Section, int]]:
        return [(s, len(s.gaps)) for s in self.sections if s.gaps]

    @property
    def open_sections(self) -> list[Section]:
        return [s for s in self.sections if s.gaps]

    @property
    def clean_sections(self) -> list[Section]:
        return [s for s in self.sections if not s.gaps]


def _gap(rule: str, message: str, node: str | None = None, **extra: Any) -> Gap:
    # Messages may start with a step's name, such as "an unnamed task".
    return Gap(rule, capfirst(message), node, **extra)


def _work(nodes: Sequence[NodeData]) -> list[NodeData]:
    return [n for n in nodes if n["kind"] in WORK_KINDS]


# --- the rules ----------------------------------------------------------------


def steps_without_owner(nodes: Sequence[NodeData]) -> list[Gap]:
    return [
        _gap(
            NO_OWNER,
            _("Nobody owns %(name)s.") % {"name": step_name(n)},
            n["id"],
        )
        for n in _work(nodes)
        if not n.get("owner")
    ]


def critical_without_checklist(nodes: Sequence[NodeData]) -> list[Gap]:
    return [
        _gap(
            CRITICAL_NO_CHECKLIST,
            _("%(name)s is critical but has no checklist.") % {"name": step_name(n)},
            n["id"],
        )
        for n in _work(nodes)
        if n.get("critical") and not n.get("checklist_items")
    ]


def stale_checklists(
    nodes: Sequence[NodeData], *, today: date, days: int = REVIEW_DAYS
) -> list[Gap]:
    """Checklists never reviewed, or last reviewed `days` or more days ago."""
    gaps = []
    for n in _work(nodes):
        if not n.get("checklist_items"):
            continue
        reviewed = n.get("sop_reviewed_on")
        name = step_name(n)
        if reviewed is None:
            message = _("The checklist of %(name)s has never been reviewed.") % {
                "name": name
            }
        elif (age := (today - reviewed).days) >= days:
            message = ngettext(
                "The checklist of %(name)s was last reviewed on %(date)s, "
                "%(days)d day ago.",
                "The checklist of %(name)s was last reviewed on %(date)s, "
                "%(days)d days ago.",
                age,
            ) % {"name": name, "date": date_format(reviewed), "days": age}
        else:
            continue
        gaps.append(_gap(STALE_CHECKLIST, message, n["id"]))
    return gaps


def decisions_without_labelled_branches(
    nodes: Sequence[NodeData], edges: Sequence[EdgeData]
) -> list[Gap]:
    """Decisions with fewer than two arrows out, or an arrow out without a label."""
    out: dict[str, list[EdgeData]] = {}
    for edge in edges:
        out.setdefault(edge["source"], []).append(edge)
    gaps = []
    for n in nodes:
        if n["kind"] != DECISION:
            continue
        arrows = out.get(n["id"], [])
        unlabelled = [e for e in arrows if not (e.get("label") or "").strip()]
        if len(arrows) < 2:
            message = ngettext(
                "%(name)s has %(count)d arrow out; a decision needs one for each "
                "answer.",
                "%(name)s has %(count)d arrows out; a decision needs one for each "
                "answer.",
                len(arrows),
            ) % {"name": step_name(n), "count": len(arrows)}
        elif unlabelled:
            message = ngettext(
                "%(count)d arrow out of %(name)s has no label.",
                "%(count)d arrows out of %(name)s have no label.",
                len(unlabelled),
            ) % {"name": step_name(n), "count": len(unlabelled)}
        else:
            continue
        gaps.append(_gap(DECISION_UNLABELLED, message, n["id"]))
    return gaps


def flow_gaps(
    nodes: Sequence[NodeData], edges: Sequence[EdgeData]
) -> dict[str, list[Gap]]:
    """Unreachable steps and dead ends, as the lint finds them (graph.lint)."""
    found: dict[str, list[Gap]] = {rule: [] for rule in _LINT_RULES}
    if not nodes:
        # An empty map has no gaps in its flow, only no flow yet.
        return found
    by_lint_rule = {
        lint_rule: rule
        for rule, lint_rules in _LINT_RULES.items()
        for lint_rule in lint_rules
    }
    for finding in graph.lint(nodes, edges):
        rule = by_lint_rule.get(finding.rule)
        if rule:
            node = finding.nodes[0] if finding.nodes else None
            found[rule].append(Gap(rule, finding.message, node))
    return found


def open_flags(nodes: Sequence[NodeData]) -> list[Gap]:
    gaps = []
    for n in nodes:
        for flag in n.get("open_flags") or ():
            note = ""
            if flag.get("created_at"):
                note = _("flagged by %(name)s on %(date)s") % {
                    "name": flag.get("by") or _("someone"),
                    "date": date_format(flag["created_at"]),
                }
            gaps.append(
                _gap(
                    OPEN_FLAG,
                    _("A problem at %(name)s:") % {"name": step_name(n)},
                    n["id"],
                    quote=flag["text"],
                    note=note,
                )
            )
    return gaps


def critical_without_metric(
    nodes: Sequence[NodeData], measured: Collection[str] | None = None
) -> list[Gap]:
    """Critical steps no metric measures. `measured` holds the ids of the steps
    that have a metric; None leaves the rule out (a caller that does not know
    them) rather than calling every critical step unmeasured."""
    if measured is None:
        return []
    return [
        _gap(
            CRITICAL_NO_METRIC,
            _("Nobody measures %(name)s, a critical step.") % {"name": step_name(n)},
            n["id"],
        )
        for n in _work(nodes)
        if n.get("critical") and n["id"] not in measured
    ]


def automation_candidates(nodes: Sequence[NodeData]) -> tuple[list[Gap], int]:
    """Manual steps (manual, or could be automated) with a cost, dearest first,
    and how many manual steps have no cost figures to rank them by."""
    manual = [n for n in _work(nodes) if n.get("automation", "manual") in MANUAL_KINDS]
    costed = [n for n in manual if n.get("annual_cost") is not None]
    costed.sort(key=lambda n: (-n["annual_cost"], n.get("label") or "", n["id"]))
    candidates = [
        Gap(
            AUTOMATION,
            (n.get("label") or "").strip() or step_name(n),
            n["id"],
            note=_("could be automated") if n.get("automation") == "could" else "",
            amount=n["annual_cost"],
        )
        for n in costed
        # Free work is no reason to automate.
        if n["annual_cost"] > 0
    ]
    return candidates, len(manual) - len(costed)


# --- the report ----------------------------------------------------------------


def report(
    nodes: Sequence[NodeData],
    edges: Sequence[EdgeData],
    *,
    today: date,
    measured: Collection[str] | None = None,
) -> Report:
    """Every rule's gaps for one map, in the order of `RULES`.

    The "critical steps without a metric" section is there only when `measured`
    (the steps some metric measures) is given.
    """
    flow = flow_gaps(nodes, edges)
    found = {
        NO_OWNER: steps_without_owner(nodes),
        CRITICAL_NO_CHECKLIST: critical_without_checklist(nodes),
        STALE_CHECKLIST: stale_checklists(nodes, today=today),
        DECISION_UNLABELLED: decisions_without_labelled_branches(nodes, edges),
        UNREACHABLE: flow[UNREACHABLE],
        DEAD_END: flow[DEAD_END],
        OPEN_FLAG: open_flags(nodes),
        CRITICAL_NO_METRIC: critical_without_metric(nodes, measured),
    }
    sections = [
        Section(rule, found[rule])
        for rule in RULES
        if rule != CRITICAL_NO_METRIC or measured is not None
    ]
    candidates, without_cost = automation_candidates(nodes)
    return Report(sections, candidates, without_cost)
