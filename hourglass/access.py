"""Who may see and change what.

Every view under `/b/<slug>/` resolves the business from the logged-in user's
membership: anyone without one gets 404, so another business's pages look exactly
like pages that do not exist. A role too low for a write gets 403.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from . import selectors
from .http import INVALID  # noqa: F401 (views of every app import it from here)
from .models import ArchiveImport, Business, Invitation, Membership, Stage, Tactic

SESSION_BUSINESS_KEY = "hourglass_business"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class BusinessRequest(HtmxHttpRequest):
    """A request to a page under `/b/<slug>/`, once `business_view` resolved the
    business from the logged-in user's membership."""

    business: Business
    membership: Membership
    # Every membership of the user, by business name (the business switcher).
    memberships: list[Membership]


def get_membership(request: HttpRequest, slug: str) -> Membership:
    """The logged-in user's membership of the business `slug`, or 404.

    Read with the user's other memberships, by business name, in one query:
    every business page draws them all in its business switcher
    (`request.memberships`, which `hourglass.context_processors` hands on)."""
    memberships = selectors.user_memberships(request.user)
    request.memberships = memberships
    for membership in memberships:
        if membership.business.slug == slug:
            return membership
    raise Http404("No such business")


def one_or_404(objects, message: str, **lookup):
    """The one object of the queryset or manager `objects` matching `lookup`,
    or 404 with `message`: what every `get_<x>_for_member` helper does."""
    try:
        return objects.get(**lookup)
    except objects.model.DoesNotExist:
        raise Http404(message) from None


def require(allowed: bool, message: str) -> None:
    """403 with `message` unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message)


def require_role(membership: Membership, role: str) -> None:
    """403 unless the membership's role is `role` or above."""
    require(membership.has_role(role), "Your role does not allow this.")


def business_view(role: str | None = None, *, write_role: str | None = None):
    """Resolve `slug` to `request.business` and `request.membership`.

    `role` is needed for every method; `write_role` only for methods other than
    GET and HEAD, so one URL can serve a page to readers and take edits from
    editors. The business's time zone is active while the view runs.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str, *args, **kwargs) -> HttpResponse:
            membership = get_membership(request, slug)
            if role:
                require_role(membership, role)
            if write_role and request.method not in ("GET", "HEAD"):
                require_role(membership, write_role)
            request.business = membership.business
            request.membership = membership
            _remember_business(request, membership)
            timezone.activate(membership.business.timezone)
            try:
                return view(request, *args, **kwargs)
            finally:
                timezone.deactivate()

        return wrapped

    return decorator


def _remember_business(request: HttpRequest, membership: Membership) -> None:
    # Written only when the user switches business, not on every page view.
    if request.session.get(SESSION_BUSINESS_KEY) == membership.business_id:
        return
    request.session[SESSION_BUSINESS_KEY] = membership.business_id
    membership.last_used_at = timezone.now()
    Membership.objects.filter(pk=membership.pk).update(
        last_used_at=membership.last_used_at
    )


# ---------------------------------------------------------------------------
# The objects of a business page
# ---------------------------------------------------------------------------
#
# Each returns an object of `request.business` with what its page shows, or
# raises 404, so an id of another business answers like one that does not
# exist. The role is not checked here: every core URL has one role for all it
# does, and `business_view(role=…)` refuses a lower role (403) before the
# method is even looked at, so a member gets 403 from an owner's URL whatever
# he sends.


def get_stage_for_member(request: BusinessRequest, stage: str) -> str:
    """A stage named in the URL, or 404."""
    if stage not in Stage.values:
        raise Http404("No such stage")
    return stage


def get_tactic_for_member(request: BusinessRequest, pk: int) -> Tactic:
    """A tactic of the business, or 404."""
    tactics = Tactic.objects.select_related("business")
    return one_or_404(tactics, "No such tactic", pk=pk, business=request.business)


def get_invitation_for_member(request: BusinessRequest, pk: int) -> Invitation:
    """A pending invitation of the business with who sent it, or 404."""
    pending = Invitation.objects.filter(accepted_at__isnull=True)
    return one_or_404(
        pending.select_related("business", "invited_by"),
        "No such invitation",
        pk=pk,
        business=request.business,
    )


def get_membership_for_member(request: BusinessRequest, pk: int) -> Membership:
    """A membership of the business with its user, or 404."""
    members = Membership.objects.select_related("user", "business")
    return one_or_404(members, "No such member", pk=pk, business=request.business)


def get_import_job_for_user(request: HttpRequest, job_id) -> ArchiveImport:
    """A business import the logged-in user started, or whose new business they
    are a member of; 404 for anyone else. The upload's bytes are not read."""
    job = one_or_404(
        ArchiveImport.objects.defer("upload").select_related("business"),
        "No such import",
        pk=job_id,
    )
    if job.started_by_id == request.user.pk:
        return job
    if (
        job.business_id
        and Membership.objects.filter(
            business_id=job.business_id, user=request.user
        ).exists()
    ):
        return job
    raise Http404("No such import")
