"""The flowchart of one business system: a map, its steps (nodes) and arrows (edges),
and every saved version of it (revisions)."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hourglass.models import Business, Half, Membership, Stage
from hourglass.validators import no_control_characters

from . import costs, document

# How long an owner can bring back a deleted map.
TRASH_DAYS = 30


class MapStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")


class NodeKind(models.TextChoices):
    TERMINUS = document.TERMINUS, _("Terminus (start or stop)")
    TASK = document.TASK, _("Task")
    DECISION = document.DECISION, _("Decision")


class Automation(models.TextChoices):
    MANUAL = "manual", _("Manual")
    COULD = "could", _("Could be automated")
    AUTOMATED = "automated", _("Automated")


# Who does a step and what it costs: the fields of the step page's details and
# the side panel's "Owner and cost" (not part of the graph document).
STEP_DETAIL_FIELDS = (
    "owner",
    "critical",
    "automation",
    "automation_tool",
    "minutes_per_run",
    "runs_per_month",
    "hourly_cost",
)
# The standard operating procedure's text (its items are ChecklistItem rows).
STEP_SOP_FIELDS = ("sop_why", "sop_reviewed_on")


class SystemMapQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def in_trash(self):
        cutoff = timezone.now() - timedelta(days=TRASH_DAYS)
        return self.filter(deleted_at__isnull=False, deleted_at__gt=cutoff)


class SystemMap(models.Model):
    business = models.ForeignKey(
        Business,
        on_delete=models.CASCADE,
        related_name="system_maps",
        db_index=False,
    )
    name = models.CharField(
        _("name"), max_length=200, validators=[no_control_characters]
    )
    description = models.TextField(_("description"), blank=True, max_length=5000)
    half = models.CharField(
        _("half of the hourglass"), max_length=10, choices=Half.choices
    )
    # The stages the system spans, in hourglass order: one or more of the seven.
    stages = models.JSONField(_("stages"), default=list)
    product = models.CharField(
        _("product or service"),
        max_length=200,
        blank=True,
        validators=[no_control_characters],
        help_text=_("Start with the most important or most profitable one."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MapStatus.choices, default=MapStatus.DRAFT
    )
    # Bumped by every save of the graph; the ETag of the graph JSON API.
    version = models.PositiveIntegerField(_("version"), default=1)
    # Counts from the lint of the latest save, for lists and filters.
    lint_errors = models.PositiveIntegerField(default=0)
    lint_warnings = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("deleted by"),
    )

    objects = SystemMapQuerySet.as_manager()

    class Meta:
        verbose_name = _("system map")
        verbose_name_plural = _("system maps")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["business", "deleted_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "systemmaps:map-detail", kwargs={"slug": self.business.slug, "pk": self.pk}
        )

    @property
    def stage_labels(self) -> list[str]:
        return [Stage(s).label for s in self.stages if s in Stage.values]

    @property
    def purge_after(self):
        return self.deleted_at + timedelta(days=TRASH_DAYS) if self.deleted_at else None


class AliveNodeManager(models.Manager):
    """The steps in their maps now: a save that leaves a step out only marks it
    deleted (`deleted_at`), so a later save that brings its id back brings back
    what hung on it. The default manager, so a map's `nodes` skip them too."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Node(models.Model):
    map = models.ForeignKey(
        SystemMap,
        on_delete=models.CASCADE,
        related_name="nodes",
        db_index=False,
    )
    # The browser's id for the shape, kept across saves (owners, checklists, runs
    # and metrics hang on the row, so a save updates rows in place).
    client_id = models.CharField(_("id"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=NodeKind.choices)
    label = models.CharField(_("label"), max_length=200, blank=True)
    x = models.FloatField(default=0)
    y = models.FloatField(default=0)
    stage = models.CharField(
        _("stage"), max_length=10, choices=Stage.choices, blank=True, default=""
    )
    notes = models.TextField(_("notes"), blank=True, max_length=5000)

    # Who does it and what it costs (tasks and decisions). Not part of the graph
    # JSON: the graph save leaves these columns alone.
    owner = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_steps",
        verbose_name=_("owner"),
    )
    critical = models.BooleanField(_("critical step"), default=False)
    automation = models.CharField(
        _("automation"),
        max_length=10,
        choices=Automation.choices,
        default=Automation.MANUAL,
    )
    automation_tool = models.CharField(_("tool used"), max_length=100, blank=True)
    minutes_per_run = models.DecimalField(
        _("time per run (minutes)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    runs_per_month = models.DecimalField(
        _("runs per month"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    # Overrides the owner's hourly rate when set.
    hourly_cost = models.DecimalField(
        _("hourly cost"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    # The standard operating procedure (the checklist items are ChecklistItem rows).
    sop_why = models.TextField(_("why it matters"), blank=True, max_length=5000)
    sop_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True)
    # When a save of the map left the step out; purged TRASH_DAYS later
    # (`maps_purge_deleted`). Joins from other tables filter on it themselves.
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    all_objects = models.Manager()
    objects = AliveNodeManager()

    class Meta:
        verbose_name = _("step")
        verbose_name_plural = _("steps")
        ordering = ["map", "id"]
        # The model's own manager and a map's `nodes` skip deleted steps; related
        # lookups still see every row (a run's node, the purge's cascade).
        default_manager_name = "objects"
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["map", "client_id"], name="node_unique_client_id_per_map"
            ),
        ]
        indexes = [
            # Only the deleted rows, for the purge; live rows cost nothing.
            models.Index(
                fields=["deleted_at"],
                name="node_deleted_idx",
                condition=models.Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.label or self.client_id

    def get_absolute_url(self) -> str:
        return reverse(
            "systemmaps:step-detail",
            kwargs={
                "slug": self.map.business.slug,
                "pk": self.map_id,
                "node": self.client_id,
            },
        )

    @property
    def is_work(self) -> bool:
        return self.kind in document.WORK_KINDS

    @property
    def is_deleted(self) -> bool:
        """Left out by a save of its map: whatever still points at the row (a
        meeting issue) shows no step until a save brings it back."""
        return self.deleted_at is not None

    @property
    def effective_hourly_cost(self) -> Decimal | None:
        """The step's own hourly cost, else its owner's rate (owner preloaded)."""
        # The owner is read only when the step has no rate of its own.
        needs_owner = self.hourly_cost is None and self.owner_id is not None
        rate = self.owner.hourly_rate if needs_owner else None
        return costs.hourly_cost(self.hourly_cost, rate)

    @property
    def annual_cost(self) -> Decimal | None:
        return costs.annual_cost(
            minutes_per_run=self.minutes_per_run,
            runs_per_month=self.runs_per_month,
            hourly_cost=self.effective_hourly_cost,
        )


# The columns of a step's details and SOP text, with their defaults: what a copy
# or an import of a map carries over besides the drawing.
STEP_COPY_COLUMNS = {
    field.attname: field.get_default()
    for field in map(Node._meta.get_field, STEP_DETAIL_FIELDS + STEP_SOP_FIELDS)
}


class Edge(models.Model):
    map = models.ForeignKey(
        SystemMap,
        on_delete=models.CASCADE,
        related_name="edges",
        db_index=False,
    )
    client_id = models.CharField(_("id"), max_length=64)
    source = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(_("label"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("arrow")
        verbose_name_plural = _("arrows")
        ordering = ["map", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "client_id"], name="edge_unique_client_id_per_map"
            ),
        ]
        # Both ends in the edge's own map: enforced in the database by the
        # composite foreign keys of migration 0002 (Django cannot declare them).

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class Revision(models.Model):
    """One saved version of a map's graph, exactly as the graph JSON API gives it."""

    map = models.ForeignKey(
        SystemMap,
        on_delete=models.CASCADE,
        related_name="revisions",
        db_index=False,
    )
    version = models.PositiveIntegerField(_("version"))
    graph = models.JSONField(_("graph"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("saved by"),
    )
    created_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        ordering = ["map", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["map", "version"], name="revision_unique_version_per_map"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.map} v{self.version}"


class TrashSpan(models.Model):
    """A time a map spent in the trash (`restored_at` empty while it is there):
    the weekly review of a week judges the map as it was when the week closed,
    in the trash or not."""

    map = models.ForeignKey(
        SystemMap,
        on_delete=models.CASCADE,
        related_name="trash_spans",
        db_index=False,
    )
    trashed_at = models.DateTimeField()
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["map", "trashed_at"]
        indexes = [models.Index(fields=["map", "trashed_at"])]

    def __str__(self) -> str:
        return f"{self.map_id} {self.trashed_at}–{self.restored_at or ''}"


# ---------------------------------------------------------------------------
# Checklists (SOPs), their runs, and problems flagged at a step
# ---------------------------------------------------------------------------


class ChecklistItem(models.Model):
    node = models.ForeignKey(
        Node, on_delete=models.CASCADE, related_name="checklist_items"
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    text = models.CharField(_("item"), max_length=500)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["node", "position", "id"]

    def __str__(self) -> str:
        return self.text


class ChecklistRun(models.Model):
    """One time someone worked through a step's checklist (for one client, say)."""

    node = models.ForeignKey(
        Node,
        on_delete=models.CASCADE,
        related_name="runs",
        db_index=False,
    )
    subject = models.CharField(
        _("for"),
        max_length=200,
        blank=True,
        help_text=_("Who or what this run is for, such as a client's name."),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=5000)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # How many items the checklist had when the run finished: the completion
    # rate stays true after the checklist changes.
    item_count = models.PositiveIntegerField(_("items"), null=True, blank=True)
    ticked_count = models.PositiveIntegerField(_("ticked"), null=True, blank=True)

    class Meta:
        verbose_name = _("checklist run")
        verbose_name_plural = _("checklist runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["node", "finished_at"])]

    def __str__(self) -> str:
        return f"{self.node} — {self.subject or self.started_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.finished_at is None


class RunTick(models.Model):
    """An item ticked in a run, with the item's words at the time."""

    run = models.ForeignKey(
        ChecklistRun,
        on_delete=models.CASCADE,
        related_name="ticks",
        db_index=False,
    )
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    item_text = models.CharField(_("item"), max_length=500)
    ticked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("ticked by"),
    )
    ticked_at = models.DateTimeField(_("ticked"), default=timezone.now)

    class Meta:
        verbose_name = _("ticked item")
        verbose_name_plural = _("ticked items")
        ordering = ["run", "ticked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item"], name="runtick_unique_item_per_run"
            ),
        ]

    def __str__(self) -> str:
        return self.item_text


class StepFlag(models.Model):
    """A problem someone flagged at a step, in the walkthrough or on its page."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="flags")
    text = models.TextField(_("problem"), max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("flagged by"),
    )
    created_at = models.DateTimeField(_("flagged"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("flagged problem")
        verbose_name_plural = _("flagged problems")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:60]


class ImportFormat(models.TextChoices):
    JSON = "json", _("Hourglass JSON")
    DRAWIO = "drawio", _("diagrams.net (draw.io)")
    MERMAID = "mermaid", _("Mermaid flowchart")
    LUCID = "lucid", _("Lucidchart CSV")


class ImportDraft(models.Model):
    """An uploaded map file between the import page's two steps: read and
    summed up, not yet a map. Only its uploader sees it; creating the maps
    deletes it, and the next upload deletes drafts older than a day."""

    business = models.ForeignKey(Business, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(
        _("uploaded"), default=timezone.now, db_index=True
    )
    file_name = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("file"))
    format = models.CharField(_("format"), max_length=10, choices=ImportFormat.choices)

    class Meta:
        verbose_name = _("map file being imported")
        verbose_name_plural = _("map files being imported")

    def __str__(self) -> str:
        return self.file_name
