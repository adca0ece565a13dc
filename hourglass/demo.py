"""The demo business that `manage.py seed_demo` creates: idempotent by natural keys.

Later apps add their own demo data on top of the business this returns. Every
text is English here, marked with `gettext_noop` so that makemessages finds it,
and written with `gettext` in the language the demo is seeded in (the command's
`translation.override`); names of people stay as they are.
"""

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from . import services
from .models import (
    Business,
    Membership,
    PepBucket,
    Role,
    Stage,
    StagePlan,
    Tactic,
    User,
)

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "hourglass-demo"
# The demo is found by this slug (and its owner by DEMO_EMAIL), never by its
# name, which is in the language it was seeded in.
DEMO_SLUG = "brightside-bookkeeping"
DEMO_NAME = gettext_noop("Brightside Bookkeeping")

PEOPLE = [
    # email, name, role, roles in the business, hourly rate (€)
    (DEMO_EMAIL, "Dana Reyes", Role.OWNER, gettext_noop("owner, sales"), 90),
    ("sam@example.com", "Sam Okafor", Role.EDITOR, gettext_noop("marketing"), 55),
    (
        "priya@example.com",
        "Priya Nair",
        Role.MEMBER,
        gettext_noop("customer service, bookkeeping"),
        40,
    ),
    (
        "leo@example.com",
        "Leo Hartmann",
        Role.MEMBER,
        gettext_noop("bookkeeping, referrals"),
        35,
    ),
]
# The one person accountable for marketing.
MARKETING_OWNER = "sam@example.com"

STAGE_PLANS = {
    Stage.KNOW: (
        gettext_noop("120 new website visitors a week from local owners"),
        gettext_noop(
            "Owners of shops and trades within 30 km. Most find us through Google or "
            "the chamber of commerce breakfasts."
        ),
    ),
    Stage.LIKE: (
        gettext_noop("40 new newsletter readers a month"),
        gettext_noop("The monthly 'Cash-flow Corner' email and short LinkedIn posts."),
    ),
    Stage.TRUST: (
        gettext_noop("Three new client stories on the website each quarter"),
        gettext_noop(
            "Reviews on Google; case studies with real numbers (with permission)."
        ),
    ),
    Stage.TRY: (
        gettext_noop("25 webinar attendees a month"),
        gettext_noop(
            "The free 'Year-end without panic' webinar, then a 30-minute cash-flow "
            "review."
        ),
    ),
    Stage.BUY: (
        gettext_noop("Six new monthly-bookkeeping clients a month"),
        gettext_noop(
            "Fixed-fee packages; proposal within two working days of the consultation."
        ),
    ),
    Stage.REPEAT: (
        # xgettext:no-python-format
        gettext_noop("90 % of clients renew for a second year"),
        gettext_noop("Quarterly check-in call; tax-planning add-on offered in Q4."),
    ),
    Stage.REFER: (
        gettext_noop("One referral a month from existing clients"),
        gettext_noop("Thank-you gift card for every referral that signs."),
    ),
}

TACTICS = [
    # stage, name, PEP bucket, note
    (
        Stage.KNOW,
        gettext_noop("Google Ads on 'bookkeeper near me'"),
        PepBucket.PAID,
        gettext_noop("300 € a month budget."),
    ),
    (
        Stage.KNOW,
        gettext_noop("SEO blog: one practical article a week"),
        PepBucket.EARNED,
        "",
    ),
    (
        Stage.KNOW,
        gettext_noop("Chamber of commerce breakfast"),
        PepBucket.PERSON,
        gettext_noop("First Tuesday of the month."),
    ),
    (
        Stage.LIKE,
        gettext_noop("Cash-flow Corner newsletter"),
        PepBucket.EARNED,
        gettext_noop("Monthly, sent by Sam."),
    ),
    (
        Stage.LIKE,
        gettext_noop("LinkedIn tips, three posts a week"),
        PepBucket.EARNED,
        "",
    ),
    (Stage.TRUST, gettext_noop("Client case studies"), PepBucket.EARNED, ""),
    (
        Stage.TRUST,
        gettext_noop("Ask happy clients for Google reviews"),
        PepBucket.PERSON,
        "",
    ),
    (
        Stage.TRY,
        gettext_noop("Free webinar: Year-end without panic"),
        PepBucket.EARNED,
        gettext_noop("Monthly, 45 minutes."),
    ),
    (
        Stage.TRY,
        gettext_noop("30-minute cash-flow review"),
        PepBucket.PERSON,
        gettext_noop("Booked from the webinar."),
    ),
    (Stage.BUY, gettext_noop("Fixed-fee monthly packages"), PepBucket.PERSON, ""),
    (Stage.REPEAT, gettext_noop("Quarterly check-in call"), PepBucket.PERSON, ""),
    (
        Stage.REFER,
        gettext_noop("Referral thank-you gift card"),
        PepBucket.PAID,
        gettext_noop("50 € per signed referral."),
    ),
]


def existing_language() -> str | None:
    """The language the demo already in the database was seeded in (its owner's
    language; "en" for a demo seeded before there was a choice), or None."""
    if not Business.objects.filter(slug=DEMO_SLUG).exists():
        return None
    owner = User.objects.filter(email=DEMO_EMAIL).only("language").first()
    return (owner.language if owner else "") or "en"


def remove() -> None:
    """Delete the demo business and everything in it (its people's accounts
    stay, so a new demo finds them)."""
    business = Business.objects.filter(slug=DEMO_SLUG).first()
    if business is not None:
        services.business_delete(business=business)


@transaction.atomic
def seed(*, language: str) -> Business:
    """The demo business, its people (who speak `language`), stage plans and
    tactics, with texts in the active language."""
    business, _ = Business.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={
            "name": gettext(DEMO_NAME),
            "currency": "EUR",
            "timezone": "Europe/Berlin",
        },
    )
    for email, name, role, roles, rate in PEOPLE:
        # The owner of the demo may open /admin/ on a development machine.
        is_admin = email == DEMO_EMAIL
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "name": name,
                "is_staff": is_admin,
                "is_superuser": is_admin,
                "language": language,
            },
        )
        # Set the password only when it differs: a new hash (new salt) is a change.
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if user.language != language:
            user.language = language
            user.save(update_fields=["language"])
        membership, _ = Membership.objects.get_or_create(
            business=business,
            user=user,
            defaults={"role": role, "roles": gettext(roles), "hourly_rate": rate},
        )
        if email == MARKETING_OWNER and business.marketing_owner_id is None:
            business.marketing_owner = membership
            business.save(update_fields=["marketing_owner"])
    for stage, (goal, notes) in STAGE_PLANS.items():
        StagePlan.objects.get_or_create(
            business=business,
            stage=stage,
            defaults={"goal": gettext(goal), "notes": gettext(notes)},
        )
    for stage, name, pep, note in TACTICS:
        Tactic.objects.get_or_create(
            business=business,
            stage=stage,
            name=gettext(name),
            defaults={"pep": pep, "note": gettext(note)},
        )
    return business
