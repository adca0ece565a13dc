"""The demo business that `manage.py seed_demo` creates: idempotent by natural keys.

Later apps add their own demo data on top of the business this returns.
"""

from django.db import transaction

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
DEMO_SLUG = "brightside-bookkeeping"

PEOPLE = [
    # email, name, role, roles in the business, hourly rate (€)
    (DEMO_EMAIL, "Dana Reyes", Role.OWNER, "owner, sales", 90),
    ("sam@example.com", "Sam Okafor", Role.EDITOR, "marketing", 55),
    (
        "priya@example.com",
        "Priya Nair",
        Role.MEMBER,
        "customer service, bookkeeping",
        40,
    ),
    ("leo@example.com", "Leo Hartmann", Role.MEMBER, "bookkeeping, referrals", 35),
]
# The one person accountable for marketing.
MARKETING_OWNER = "sam@example.com"

STAGE_PLANS = {
    Stage.KNOW: (
        "120 new website visitors a week from local owners",
        "Owners of shops and trades within 30 km. Most find us through Google or the "
        "chamber of commerce breakfasts.",
    ),
    Stage.LIKE: (
        "40 new newsletter readers a month",
        "The monthly 'Cash-flow Corner' email and short LinkedIn posts.",
    ),
    Stage.TRUST: (
        "Three new client stories on the website each quarter",
        "Reviews on Google; case studies with real numbers (with permission).",
    ),
    Stage.TRY: (
        "25 webinar attendees a month",
        "The free 'Year-end without panic' webinar, then a 30-minute cash-flow review.",
    ),
    Stage.BUY: (
        "Six new monthly-bookkeeping clients a month",
        "Fixed-fee packages; proposal within two working days of the consultation.",
    ),
    Stage.REPEAT: (
        "90 % of clients renew for a second year",
        "Quarterly check-in call; tax-planning add-on offered in Q4.",
    ),
    Stage.REFER: (
        "One referral a month from existing clients",
        "Thank-you gift card for every referral that signs.",
    ),
}

TACTICS = [
    # stage, name, PEP bucket, note
    (
        Stage.KNOW,
        "Google Ads on 'bookkeeper near me'",
        PepBucket.PAID,
        "300 € a month budget.",
    ),
    (Stage.KNOW, "SEO blog: one practical article a week", PepBucket.EARNED, ""),
    (
        Stage.KNOW,
        "Chamber of commerce breakfast",
        PepBucket.PERSON,
        "First Tuesday of the month.",
    ),
    (
        Stage.LIKE,
        "Cash-flow Corner newsletter",
        PepBucket.EARNED,
        "Monthly, sent by Sam.",
    ),
    (Stage.LIKE, "LinkedIn tips, three posts a week", PepBucket.EARNED, ""),
    (Stage.TRUST, "Client case studies", PepBucket.EARNED, ""),
    (Stage.TRUST, "Ask happy clients for Google reviews", PepBucket.PERSON, ""),
    (
        Stage.TRY,
        "Free webinar: Year-end without panic",
        PepBucket.EARNED,
        "Monthly, 45 minutes.",
    ),
    (
        Stage.TRY,
        "30-minute cash-flow review",
        PepBucket.PERSON,
        "Booked from the webinar.",
    ),
    (Stage.BUY, "Fixed-fee monthly packages", PepBucket.PERSON, ""),
    (Stage.REPEAT, "Quarterly check-in call", PepBucket.PERSON, ""),
    (
        Stage.REFER,
        "Referral thank-you gift card",
        PepBucket.PAID,
        "50 € per signed referral.",
    ),
]


@transaction.atomic
def seed() -> Business:
    business, _ = Business.objects.get_or_create(
        slug=DEMO_SLUG,
        defaults={
            "name": "Brightside Bookkeeping",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
        },
    )
    for email, name, role, roles, rate in PEOPLE:
        # The owner of the demo may open /admin/ on a development machine.
        is_admin = email == DEMO_EMAIL
        user, created = User.objects.get_or_create(
            email=email,
            defaults={"name": name, "is_staff": is_admin, "is_superuser": is_admin},
        )
        # Set the password only when it differs: a new hash (new salt) is a change.
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        membership, _ = Membership.objects.get_or_create(
            business=business,
            user=user,
            defaults={"role": role, "roles": roles, "hourly_rate": rate},
        )
        if email == MARKETING_OWNER and business.marketing_owner_id is None:
            business.marketing_owner = membership
            business.save(update_fields=["marketing_owner"])
    for stage, (goal, notes) in STAGE_PLANS.items():
        StagePlan.objects.get_or_create(
            business=business, stage=stage, defaults={"goal": goal, "notes": notes}
        )
    for stage, name, pep, note in TACTICS:
        Tactic.objects.get_or_create(
            business=business,
            stage=stage,
            name=name,
            defaults={"pep": pep, "note": note},
        )
    return business
