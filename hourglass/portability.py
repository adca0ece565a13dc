"""The core app's part of a business archive (see hourglass.archive): the
people with their roles and rates, the stage plans and the tactics.

People are named by email. Nobody joins a business by someone else's upload:
the importing user is the one member, and everyone else of the exported
business gets an invitation with their role, sent only when an owner chooses
to from the team page.
"""

import json
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from .archive import (
    ImportContext,
    ImportInvalid,
    csv_bytes,
    csv_rows,
    parse_decimal_cell,
    row_error,
)
from .models import (
    Business,
    Invitation,
    Membership,
    PepBucket,
    Role,
    Stage,
    StagePlan,
    Tactic,
)
from .validators import is_one_line

MEMBER_COLUMNS = [
    "email",
    "name",
    "role",
    "roles",
    "hourly_rate",
    "marketing_owner",
]
PLAN_FILE = "hourglass.json"
MEMBERS_FILE = "members.csv"
RATE_LIMIT = Decimal("99999999.99")


def export_part(business: Business) -> dict[str, bytes]:
    members = business.memberships.select_related("user").order_by("user__email")
    plan = {
        "stages": [
            {"stage": p.stage, "goal": p.goal, "notes": p.notes}
            for p in StagePlan.objects.filter(business=business).order_by("stage")
        ],
        "tactics": [
            {"stage": t.stage, "name": t.name, "pep": t.pep, "note": t.note}
            for t in Tactic.objects.filter(business=business)
        ],
    }
    return {
        MEMBERS_FILE: csv_bytes(
            MEMBER_COLUMNS,
            (
                [
                    m.user.email,
                    m.user.name,
                    m.role,
                    m.roles,
                    "" if m.hourly_rate is None else m.hourly_rate,
                    "yes" if m.pk == business.marketing_owner_id else "",
                ]
                for m in members
            ),
        ),
        PLAN_FILE: (json.dumps(plan, ensure_ascii=False, indent=2) + "\n").encode(
            "utf-8"
        ),
    }


def import_part(
    business: Business, files: dict[str, bytes], context: ImportContext
) -> list[str]:
    warnings = _import_members(business, files, context)
    _import_plan(business, files)
    return warnings


# ---------------------------------------------------------------------------
# The people
# ---------------------------------------------------------------------------


def _import_members(
    business: Business, files: dict[str, bytes], context: ImportContext
) -> list[str]:
    warnings: list[str] = []
    label = f"hourglass/{MEMBERS_FILE}"
    invitations: list[Invitation] = []
    marketing_owner: Membership | None = None
    seen: set[str] = set()
    for line, row in csv_rows(files, MEMBERS_FILE, MEMBER_COLUMNS, label=label):
        email = row["email"].strip().lower()
        if email in seen:
            raise row_error(label, line, _("this email appears twice."))
        seen.add(email)
        rate = _member_row_rate(label, line, email, row)
        if email in context.members:
            # The importing user keeps the owner role of the new business.
            membership = context.members[email]
            membership.roles = row["roles"].strip()
            membership.hourly_rate = rate
            membership.save(update_fields=["roles", "hourly_rate"])
            if row["marketing_owner"] == "yes":
                marketing_owner = membership
        else:
            invitations.append(
                Invitation(
                    business=business,
                    email=email,
                    role=row["role"],
                    invited_by=context.user,
                )
            )
            context.invited[email] = row["role"]
            if row["marketing_owner"] == "yes":
                warnings.append(
                    _(
                        "%(email)s was accountable for marketing; choose who is "
                        "on the team page once they have joined."
                    )
                    % {"email": email}
                )
    Invitation.objects.bulk_create(invitations)
    if invitations:
        warnings.append(
            _(
                "%(count)d other people of the exported business are invited with "
                "their roles (%(emails)s): send their invitations from the team "
                "page. Until they join, the steps they owned have no owner."
            )
            % {
                "count": len(invitations),
                "emails": ", ".join(sorted(i.email for i in invitations)),
            }
        )
    if marketing_owner is not None:
        business.marketing_owner = marketing_owner
        business.save(update_fields=["marketing_owner"])
    return warnings


def _member_row_rate(
    label: str, line: int, email: str, row: dict[str, str]
) -> Decimal | None:
    """The hourly rate of a checked row of members.csv; ImportInvalid naming the
    line when its email, role or texts are not acceptable."""
    try:
        validate_email(email)
    except ValidationError:
        raise row_error(label, line, _("not an email address.")) from None
    if row["role"] not in Role.values:
        raise row_error(label, line, _("unknown role."))
    if len(row["roles"]) > 200 or len(row["name"]) > 150:
        raise row_error(label, line, _("a text is too long."))
    if not is_one_line(row["name"]):
        raise row_error(
            label, line, _("the name must be one line (no line break or tab).")
        )
    try:
        return parse_decimal_cell(row["hourly_rate"], limit=RATE_LIMIT)
    except ValueError:
        raise row_error(
            label, line, _("the hourly rate must be a figure of 0 or more.")
        ) from None


# ---------------------------------------------------------------------------
# The stage plans and the tactics
# ---------------------------------------------------------------------------

PLAN_LABEL = f"hourglass/{PLAN_FILE}"


def _import_plan(business: Business, files: dict[str, bytes]) -> None:
    raw = files.get(PLAN_FILE)
    if raw is None:
        return
    try:
        plan = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImportInvalid(
            [_("%(file)s: not valid JSON.") % {"file": PLAN_LABEL}]
        ) from None
    if not isinstance(plan, dict):
        raise ImportInvalid(
            [_("%(file)s: must be one JSON object.") % {"file": PLAN_LABEL}]
        )
    _import_stage_plans(business, plan.get("stages") or [])
    Tactic.objects.bulk_create(_tactics(business, plan.get("tactics") or []))


def _plan_invalid(message: str, where: str) -> ImportInvalid:
    """`message` (with %(file)s and %(where)s) about one item of the plan file."""
    return ImportInvalid([message % {"file": PLAN_LABEL, "where": where}])


def _text(item: dict[str, Any], key: str, limit: int, where: str) -> str:
    value = item.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise ImportInvalid(
            [
                _(
                    "%(file)s, %(where)s: “%(field)s” must be text of at most "
                    "%(max)d characters."
                )
                % {"file": PLAN_LABEL, "where": where, "field": key, "max": limit}
            ]
        )
    return value


def _import_stage_plans(business: Business, stages: list[Any]) -> None:
    plans = {p.stage: p for p in StagePlan.objects.filter(business=business)}
    for number, item in enumerate(stages, start=1):
        where = _("stage %(number)d") % {"number": number}
        if not isinstance(item, dict) or item.get("stage") not in Stage.values:
            raise _plan_invalid(_("%(file)s, %(where)s: unknown stage."), where)
        stage_plan = plans[item["stage"]]
        stage_plan.goal = _text(item, "goal", 300, where)
        stage_plan.notes = _text(item, "notes", 5000, where)
    StagePlan.objects.bulk_update(plans.values(), ["goal", "notes"])


def _tactics(business: Business, items: list[Any]) -> list[Tactic]:
    tactics = []
    for number, item in enumerate(items, start=1):
        where = _("tactic %(number)d") % {"number": number}
        if (
            not isinstance(item, dict)
            or item.get("stage") not in Stage.values
            or item.get("pep") not in PepBucket.values
        ):
            raise _plan_invalid(
                _("%(file)s, %(where)s: unknown stage or PEP bucket."), where
            )
        name = _text(item, "name", 120, where).strip()
        if not is_one_line(name):
            raise _plan_invalid(
                _("%(file)s, %(where)s: the name must be one line."),
                where,
            )
        if not name:
            raise _plan_invalid(_("%(file)s, %(where)s: a tactic needs a name."), where)
        tactics.append(
            Tactic(
                business=business,
                stage=item["stage"],
                pep=item["pep"],
                name=name,
                note=_text(item, "note", 2000, where),
            )
        )
    return tactics
