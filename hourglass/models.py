"""The tenant and its people: users, businesses, memberships, invitations, and a
business's plan for the seven stages of the Marketing Hourglass."""

import secrets
import uuid
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .validators import no_control_characters

# ---------------------------------------------------------------------------
# The method
# ---------------------------------------------------------------------------


class Stage(models.TextChoices):
    """The seven stages of the customer journey, top of the hourglass first."""

    KNOW = "know", _("Know")
    LIKE = "like", _("Like")
    TRUST = "trust", _("Trust")
    TRY = "try", _("Try")
    BUY = "buy", _("Buy")
    REPEAT = "repeat", _("Repeat")
    REFER = "refer", _("Refer")


class Half(models.TextChoices):
    MARKETING = "marketing", _("Marketing system")
    OPERATIONS = "operations", _("Operations system")


STAGE_ORDER = [stage.value for stage in Stage]
MARKETING_STAGES = [Stage.KNOW, Stage.LIKE, Stage.TRUST, Stage.TRY]
OPERATIONS_STAGES = [Stage.BUY, Stage.REPEAT, Stage.REFER]
STAGE_DESCRIPTIONS = {
    Stage.KNOW: _("Prospects find out that you exist."),
    Stage.LIKE: _("They come to like what you say and how you say it."),
    Stage.TRUST: _("They trust you enough to take the next step."),
    Stage.TRY: _("They try a small piece of what you offer."),
    Stage.BUY: _("They buy, and you deliver what the marketing promised."),
    Stage.REPEAT: _("They come back and buy again."),
    Stage.REFER: _("They send others your way."),
}


def stage_half(stage: str) -> str:
    return Half.MARKETING if stage in MARKETING_STAGES else Half.OPERATIONS


class PepBucket(models.TextChoices):
    """PEP media: how a tactic reaches people."""

    PAID = "paid", _("Paid")
    EARNED = "earned", _("Earned")
    PERSON = "person", _("Person")


# ---------------------------------------------------------------------------
# Users
# ---------------------------------------------------------------------------


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str):
        return self.get(email=normalize_email(username))


def normalize_email(email: str) -> str:
    """Email addresses are compared without regard to case, so store them lower."""
    return (email or "").strip().lower()


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(
        _("name"), max_length=150, validators=[no_control_characters]
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # The language the app speaks to this person, on every page and in every
    # email (`hourglass.languages`); "" follows the browser's.
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["name", "email"]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.split() if p]
        if not parts:
            return self.email[:2].upper()
        return "".join(p[0] for p in parts[:2]).upper()


# ---------------------------------------------------------------------------
# Businesses (the tenant)
# ---------------------------------------------------------------------------

CURRENCIES = [
    ("EUR", _("EUR — euro")),
    ("USD", _("USD — US dollar")),
    ("GBP", _("GBP — pound sterling")),
    ("CHF", _("CHF — Swiss franc")),
    ("CAD", _("CAD — Canadian dollar")),
    ("AUD", _("AUD — Australian dollar")),
    ("NZD", _("NZD — New Zealand dollar")),
    ("PLN", _("PLN — Polish złoty")),
    ("RON", _("RON — Romanian leu")),
    ("CZK", _("CZK — Czech koruna")),
    ("HUF", _("HUF — Hungarian forint")),
    ("SEK", _("SEK — Swedish krona")),
    ("NOK", _("NOK — Norwegian krone")),
    ("DKK", _("DKK — Danish krone")),
    ("KRW", _("KRW — South Korean won")),
    ("JPY", _("JPY — Japanese yen")),
    ("INR", _("INR — Indian rupee")),
    ("BRL", _("BRL — Brazilian real")),
    ("MXN", _("MXN — Mexican peso")),
    ("ZAR", _("ZAR — South African rand")),
]


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Business(models.Model):
    name = models.CharField(
        _("name"), max_length=120, validators=[no_control_characters]
    )
    slug = models.SlugField(_("slug"), max_length=60, unique=True, allow_unicode=True)
    currency = models.CharField(
        _("currency"), max_length=3, choices=CURRENCIES, default="EUR"
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, choices=timezone_choices, default="UTC"
    )
    # ISO 3166 code (hourglass/places.py); "" for a business made before it
    # was asked.
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The one person accountable for marketing (DESIGN: one person owns it).
    # A membership, so removing the member clears it.
    marketing_owner = models.ForeignKey(
        "Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accountable for marketing"),
    )

    class Meta:
        verbose_name = _("business")
        verbose_name_plural = _("businesses")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("hourglass:overview", kwargs={"slug": self.slug})


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    EDITOR = "editor", _("Editor")
    MEMBER = "member", _("Member")


ROLE_RANK = {Role.MEMBER: 1, Role.EDITOR: 2, Role.OWNER: 3}
ROLE_HELP = {
    Role.OWNER: _("Everything, including members, settings and deleting the business."),
    Role.EDITOR: _("Edits maps, stages, tactics and metrics."),
    Role.MEMBER: _(
        "Reads the whole business; works on the steps and metrics they own."
    ),
}


class Membership(models.Model):
    business = models.ForeignKey(
        Business,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        _("role"), max_length=10, choices=Role.choices, default=Role.MEMBER
    )
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    # Which business `/` opens for this user: the one used most recently.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # The accountability chart: the hats this person wears, in their words.
    roles = models.CharField(
        _("roles in the business"),
        max_length=200,
        blank=True,
        help_text=_("For example: marketing, sales, customer service."),
    )
    # What an hour of this person's time costs; the default hourly cost of the
    # steps they own.
    hourly_rate = models.DecimalField(
        _("hourly rate"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["business__name", "user__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "user"], name="membership_unique_user_per_business"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.business} ({self.get_role_display()})"

    def has_role(self, role: str) -> bool:
        """True when this membership's role is `role` or above."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def can_edit(self) -> bool:
        return self.has_role(Role.EDITOR)

    def can_work_on(self, owner_id: int | None) -> bool:
        """Editors and owners work on everything of the business; a member on
        what they own (a step's checklist and runs, a metric's numbers, a to-do).
        `owner_id` is the owning membership's pk."""
        return self.can_edit or (owner_id is not None and owner_id == self.pk)


def _invitation_nonce() -> str:
    return secrets.token_urlsafe(16)


class Invitation(models.Model):
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(
        _("role"), max_length=10, choices=Role.choices, default=Role.MEMBER
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    # Part of the signed token: a leaked id alone cannot be turned into a link.
    nonce = models.CharField(max_length=32, default=_invitation_nonce, editable=False)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.business}"

    @property
    def expires_at(self):
        return self.created_at + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and not self.is_expired


# ---------------------------------------------------------------------------
# The hourglass of one business
# ---------------------------------------------------------------------------


class StagePlan(models.Model):
    """A business's goal and notes for one stage of the hourglass."""

    business = models.ForeignKey(
        Business,
        on_delete=models.CASCADE,
        related_name="stage_plans",
        db_index=False,
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    goal = models.CharField(_("goal"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stage plan")
        verbose_name_plural = _("stage plans")
        constraints = [
            models.UniqueConstraint(
                fields=["business", "stage"], name="stageplan_unique_stage_per_business"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business} — {self.get_stage_display()}"


class Tactic(models.Model):
    business = models.ForeignKey(
        Business, on_delete=models.CASCADE, related_name="tactics"
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    name = models.CharField(
        _("name"), max_length=120, validators=[no_control_characters]
    )
    pep = models.CharField(_("PEP bucket"), max_length=10, choices=PepBucket.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("tactic")
        verbose_name_plural = _("tactics")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("waiting for a worker")
    RUNNING = "running", _("importing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ArchiveImport(models.Model):
    """One upload of a business archive and what became of it: the worker
    imports it in the background (hourglass.archive.archive_import_run)."""

    # Not a counter: the job's address is shown to one person only.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="archive_imports",
        verbose_name=_("started by"),
    )
    # The new business, once the import is done.
    business = models.ForeignKey(
        Business,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("business"),
    )
    name = models.CharField(
        _("business name"),
        max_length=120,
        blank=True,
        validators=[no_control_characters],
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    # The uploaded bytes until the job ends: in the row, so the web process and
    # the worker need no shared folder, and the row and its upload are written,
    # read and deleted together.
    upload = models.BinaryField(_("upload"), editable=False, default=b"")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ImportStatus.choices,
        default=ImportStatus.QUEUED,
    )
    maps_done = models.PositiveIntegerField(_("maps imported"), default=0)
    maps_total = models.PositiveIntegerField(_("maps in the archive"), default=0)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("business import")
        verbose_name_plural = _("business imports")

    def __str__(self) -> str:
        return f"{self.file_name or self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("business-import-job", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)
