"""Writes of the core app: sign-up, businesses, memberships, invitations, stages.

Callers (views, the seed command) validate input first; these functions assume it
is valid and keep the rules that span rows, such as "a business always keeps an
owner", inside one transaction.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from . import languages, mail
from .locks import business_write
from .models import (
    STAGE_ORDER,
    Business,
    Invitation,
    Membership,
    Role,
    StagePlan,
    Tactic,
    User,
    normalize_email,
)

INVITATION_SALT = "hourglass.invitation"


class LastOwnerError(Exception):
    """Raised when a change would leave a business without an owner."""


class InvitationError(Exception):
    """Why an invitation link cannot be used; `reason` is one of the codes below."""

    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"

    def __init__(self, reason: str, invitation: Invitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


# ---------------------------------------------------------------------------
# Users and businesses
# ---------------------------------------------------------------------------


def user_create(*, email: str, name: str, password: str | None) -> User:
    """A new account speaks the language it was created in (a sign-up page in
    French makes a French account); the profile changes it."""
    return User.objects.create_user(
        email=email,
        password=password,
        name=name.strip(),
        language=languages.supported(translation.get_language()),
    )


@transaction.atomic
def user_update_profile(
    *, user: User, name: str, email: str, language: str | None = None
) -> User:
    """Save a user's name and email; a changed email is told to the old
    address (once committed), so a takeover does not go unnoticed."""
    old_email = User.objects.select_for_update().get(pk=user.pk).email
    user.name = name
    user.email = email
    fields = ["name", "email"]
    if language is not None:
        user.language = languages.supported(language)
        fields.append("language")
    user.save(update_fields=fields)
    if email != old_email:
        context = {"user": user, "old_email": old_email, "site_url": settings.SITE_URL}
        language = languages.of_user(user)
        transaction.on_commit(
            lambda: mail.send_in(
                language,
                subject_template="hourglass/email/email_changed_subject.txt",
                body_template="hourglass/email/email_changed.txt",
                context=context,
                to=old_email,
            )
        )
    return user


def user_set_language(*, user: User, language: str) -> None:
    """Save the language `user` chose ("" follows the browser's)."""
    user.language = languages.supported(language)
    user.save(update_fields=["language"])


def _unique_slug(name: str) -> str:
    # Letters of every script stay: `서울 회계법인` → `서울-회계법인`.
    base = slugify(name, allow_unicode=True)[:50].strip("-_") or "business"
    slug, n = base, 2
    while Business.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def business_create(
    *,
    name: str,
    owner: User,
    currency: str = "EUR",
    timezone_name: str = "UTC",
    country: str = "",
) -> Business:
    business = Business.objects.create(
        name=name.strip(),
        slug=_unique_slug(name),
        currency=currency,
        timezone=timezone_name,
        country=country,
    )
    Membership.objects.create(
        business=business, user=owner, role=Role.OWNER, last_used_at=timezone.now()
    )
    StagePlan.objects.bulk_create(
        [StagePlan(business=business, stage=stage) for stage in STAGE_ORDER]
    )
    return business


@transaction.atomic
def user_sign_up(
    *,
    name: str,
    email: str,
    password: str,
    business_name: str,
    currency: str = "EUR",
    timezone_name: str = "UTC",
    country: str = "",
) -> tuple[User, Business]:
    user = user_create(email=email, name=name, password=password)
    business = business_create(
        name=business_name,
        owner=user,
        currency=currency,
        timezone_name=timezone_name,
        country=country,
    )
    return user, business


def business_update(
    *,
    business: Business,
    name: str,
    currency: str,
    timezone_name: str,
    country: str | None = None,
) -> None:
    business.name = name.strip()
    business.currency = currency
    business.timezone = timezone_name
    fields = ["name", "currency", "timezone"]
    if country is not None:
        business.country = country
        fields.append("country")
    business.save(update_fields=fields)


@business_write(lambda *, business: business.pk)
def business_delete(*, business: Business) -> None:
    business.delete()


# ---------------------------------------------------------------------------
# Memberships
# ---------------------------------------------------------------------------


def _lock_owners(business: Business) -> list[int]:
    # Locking the owner rows serialises concurrent demotions and removals, so two
    # owners cannot each remove the other at the same moment.
    return list(
        Membership.objects.select_for_update()
        .filter(business=business, role=Role.OWNER)
        .values_list("pk", flat=True)
    )


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER:
        if _lock_owners(membership.business) == [membership.pk]:
            raise LastOwnerError(
                _(
                    "%(name)s is the last owner of %(business)s; "
                    "make someone else an owner first."
                )
                % {"name": membership.user, "business": membership.business}
            )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


# Removing a member deletes their rows in the rollup tables (OwnerWeek).
@business_write(lambda *, membership: membership.business_id)
def membership_remove(*, membership: Membership) -> None:
    if membership.role == Role.OWNER:
        if _lock_owners(membership.business) == [membership.pk]:
            raise LastOwnerError(
                _(
                    "%(name)s is the last owner of %(business)s and cannot leave it; "
                    "make someone else an owner first, or delete the business."
                )
                % {"name": membership.user, "business": membership.business}
            )
    membership.delete()


def membership_update_profile(
    *, membership: Membership, roles: str, hourly_rate: Decimal | None
) -> Membership:
    """The accountability chart's facts about a member: their hats and their rate."""
    membership.roles = roles
    membership.hourly_rate = hourly_rate
    membership.save(update_fields=["roles", "hourly_rate"])
    return membership


def business_set_marketing_owner(
    *, business: Business, membership: Membership | None
) -> Business:
    """Name the one member accountable for marketing (None: nobody)."""
    if membership is not None and membership.business_id != business.pk:
        raise ValueError("the marketing owner must be a member of the business")
    business.marketing_owner = membership
    business.save(update_fields=["marketing_owner"])
    return business


# ---------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"i": invitation.pk, "n": invitation.nonce}, salt=INVITATION_SALT
    )


def invitation_url(invitation: Invitation) -> str:
    return reverse("invitation-accept", kwargs={"token": invitation_token(invitation)})


def invitation_from_token(token: str) -> Invitation:
    """The invitation a link names, or InvitationError saying why it cannot be used."""
    max_age = settings.INVITATION_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise InvitationError(InvitationError.EXPIRED) from None
    except signing.BadSignature:
        raise InvitationError(InvitationError.INVALID) from None
    invitation = (
        Invitation.objects.select_related("business", "invited_by")
        .filter(pk=data.get("i"), nonce=data.get("n"))
        .first()
    )
    if invitation is None:
        raise InvitationError(InvitationError.INVALID)
    if invitation.accepted_at is not None:
        raise InvitationError(InvitationError.USED, invitation)
    if invitation.is_expired:
        raise InvitationError(InvitationError.EXPIRED, invitation)
    return invitation


@transaction.atomic
def invitation_create(
    *, business: Business, email: str, role: str, acting_user: User, base_url: str
) -> Invitation:
    """`acting_user` invites `email`, replacing any pending invitation to the
    same address."""
    email = normalize_email(email)
    Invitation.objects.filter(
        business=business, email=email, accepted_at__isnull=True
    ).delete()
    invitation = Invitation.objects.create(
        business=business, email=email, role=role, invited_by=acting_user
    )
    link = base_url.rstrip("/") + invitation_url(invitation)
    # None until the commit sends it; then whether the email went out (when it
    # did not, the team page still shows the link to pass on by hand).
    invitation.mailed = None
    transaction.on_commit(lambda: _send_invitation(invitation, link))
    return invitation


def _send_invitation(invitation: Invitation, link: str) -> None:
    context = {"invitation": invitation, "link": link}
    invitation.mailed = mail.send_in(
        languages.of_address(invitation.email),
        subject_template="hourglass/email/invitation_subject.txt",
        body_template="hourglass/email/invitation.txt",
        context=context,
        to=invitation.email,
    )


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Turn the invitation into a membership; a second use finds it already spent."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None:
        raise InvitationError(InvitationError.USED, locked)
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    membership, created = Membership.objects.get_or_create(
        business=locked.business, user=user, defaults={"role": locked.role}
    )
    return membership


@transaction.atomic
def invitation_sign_up(
    *, invitation: Invitation, name: str, password: str
) -> Membership:
    """Create the invited person's account and accept: both or neither."""
    user = user_create(email=invitation.email, name=name, password=password)
    return invitation_accept(invitation=invitation, user=user)


def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.delete()


def invitations_purge_expired() -> int:
    """Delete invitations that can no longer be accepted; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    deleted, _rows = Invitation.objects.filter(
        accepted_at__isnull=True, created_at__lte=cutoff
    ).delete()
    return deleted


# ---------------------------------------------------------------------------
# Stages and tactics
# ---------------------------------------------------------------------------


def stage_plan_update(
    *, business: Business, stage: str, goal: str, notes: str
) -> StagePlan:
    plan, _created = StagePlan.objects.update_or_create(
        business=business,
        stage=stage,
        defaults={"goal": goal.strip(), "notes": notes.strip()},
    )
    return plan


def tactic_create(
    *, business: Business, stage: str, name: str, pep: str, note: str
) -> Tactic:
    return Tactic.objects.create(
        business=business, stage=stage, name=name.strip(), pep=pep, note=note.strip()
    )


def tactic_update(
    *, tactic: Tactic, stage: str, name: str, pep: str, note: str
) -> Tactic:
    tactic.stage, tactic.name, tactic.pep, tactic.note = (
        stage,
        name.strip(),
        pep,
        note.strip(),
    )
    tactic.save(update_fields=["stage", "name", "pep", "note"])
    return tactic


def tactic_delete(*, tactic: Tactic) -> None:
    tactic.delete()
