"""Metrics and the weekly review.

A metric is a number the team enters once a week, often on a step of a map (what
passed through that step this week). Entries are the raw numbers; the rollup
tables (MetricWeek, StepConversion, StageWeek, OwnerWeek, RollupWeek) are what
`metrics.rollup` computes from them with set-based SQL, and all the weekly review
dashboard reads. Meetings, issues and to-dos are what the review meeting captures.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hourglass.models import Stage

VALUE_DIGITS = 14
VALUE_PLACES = 2


class Unit(models.TextChoices):
    COUNT = "count", _("Count")
    PERCENT = "percent", _("Percent")
    MONEY = "money", _("Money")
    DURATION = "duration", _("Duration (hours)")


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Status(models.TextChoices):
    ON_TRACK = "on", _("On track")
    OFF_TRACK = "off", _("Off track")
    MISSING = "missing", _("Missing")
    NO_GOAL = "nogoal", _("No goal")


class Trend(models.TextChoices):
    UP = "up", _("Rising")
    DOWN = "down", _("Falling")
    FLAT = "flat", _("Steady")
    UNKNOWN = "", _("Not enough weeks")


class Metric(models.Model):
    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="metrics"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("how it is counted"), blank=True, max_length=2000)
    unit = models.CharField(
        _("unit"), max_length=10, choices=Unit.choices, default=Unit.COUNT
    )
    direction = models.CharField(
        _("direction"),
        max_length=10,
        choices=Direction.choices,
        default=Direction.HIGHER,
    )
    goal = models.DecimalField(
        _("weekly goal"),
        max_digits=VALUE_DIGITS,
        decimal_places=VALUE_PLACES,
        null=True,
        blank=True,
    )
    owner = models.ForeignKey(
        "hourglass.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="metrics",
        verbose_name=_("owner"),
    )
    # The step it measures: what passed through that step in a week. A step may
    # carry several metrics; a deleted step leaves the metric without one.
    step = models.ForeignKey(
        "systemmaps.Node",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="metrics",
        verbose_name=_("step"),
    )
    stage = models.CharField(_("stage"), max_length=10, choices=Stage.choices)
    # Count metrics that add to their stage's total in the hourglass funnel.
    in_funnel = models.BooleanField(
        _("counts toward the stage total"),
        default=True,
        help_text=_("Only count metrics are added up in the hourglass funnel."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    # The first week the metric is expected to have a number (the week it was
    # created, or the earliest week someone backfilled).
    first_week = models.DateField(_("first week"))
    # The day it was archived: weeks after it are not expected any more.
    archived_on = models.DateField(_("archived on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["position", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                "business",
                Lower("name"),
                name="metric_unique_name_per_business",
            ),
        ]
        indexes = [models.Index(fields=["business", "archived_on"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse(
            "metrics:metric-detail",
            kwargs={"slug": self.business.slug, "pk": self.pk},
        )

    @property
    def is_archived(self) -> bool:
        return self.archived_on is not None


class Entry(models.Model):
    """One metric's number for one week (weeks start on Monday)."""

    # The business is repeated here so the rollup groups entries without a join.
    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="+"
    )
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="entries")
    week = models.DateField(_("week"))
    # None: the number was cleared (the audit trail keeps what it was).
    value = models.DecimalField(
        _("value"),
        max_digits=VALUE_DIGITS,
        decimal_places=VALUE_PLACES,
        null=True,
        blank=True,
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"))

    class Meta:
        verbose_name = _("entry")
        verbose_name_plural = _("entries")
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "week"], name="entry_unique_week_per_metric"
            ),
        ]
        indexes = [models.Index(fields=["business", "week"])]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.week}: {self.value}"


class EntryRevision(models.Model):
    """What an entry said before an edit replaced it: the audit trail."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="revisions")
    value = models.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField()
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    replaced_at = models.DateTimeField()

    class Meta:
        ordering = ["-replaced_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.value} until {self.replaced_at}"


# ---------------------------------------------------------------------------
# Rollup tables: written only by metrics.rollup, read by the dashboard
# ---------------------------------------------------------------------------


class RollupWeek(models.Model):
    """One business's week: when it was last rolled up and whether it is stale."""

    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="+"
    )
    week = models.DateField()
    computed_at = models.DateTimeField(null=True, blank=True)
    # Set when an entry that this week's figures depend on changed after the last
    # rollup; cleared by a rollup that started after it.
    stale_since = models.DateTimeField(null=True, blank=True)
    metric_count = models.PositiveIntegerField(default=0)
    on_track = models.PositiveIntegerField(default=0)
    off_track = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    no_goal = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business", "week"], name="rollupweek_unique"
            ),
        ]
        indexes = [models.Index(fields=["stale_since"])]

    def __str__(self) -> str:
        return f"{self.business_id} {self.week}"


class MetricWeek(models.Model):
    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="+"
    )
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    # Snapshots of the metric at rollup time, so the dashboard needs no other table.
    stage = models.CharField(max_length=10, choices=Stage.choices)
    owner = models.ForeignKey(
        "hourglass.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    value = models.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True
    )
    goal = models.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    avg_4 = models.DecimalField(
        max_digits=VALUE_DIGITS + 4, decimal_places=4, null=True, blank=True
    )
    avg_13 = models.DecimalField(
        max_digits=VALUE_DIGITS + 4, decimal_places=4, null=True, blank=True
    )
    # The average of the four weeks before the last four: the trend compares them.
    avg_prev_4 = models.DecimalField(
        max_digits=VALUE_DIGITS + 4, decimal_places=4, null=True, blank=True
    )
    trend = models.CharField(max_length=4, choices=Trend.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "week"], name="metricweek_unique"
            ),
        ]
        indexes = [models.Index(fields=["business", "week"])]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.week}: {self.value} ({self.status})"


class StepConversion(models.Model):
    """Between two consecutive measured steps of a map (along the arrows): how many
    of the first step's number made it to the next one that week."""

    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="+"
    )
    map = models.ForeignKey(
        "systemmaps.SystemMap", on_delete=models.CASCADE, related_name="+"
    )
    week = models.DateField()
    from_step = models.ForeignKey(
        "systemmaps.Node", on_delete=models.CASCADE, related_name="+"
    )
    to_step = models.ForeignKey(
        "systemmaps.Node", on_delete=models.CASCADE, related_name="+"
    )
    from_metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    to_metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    from_value = models.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True
    )
    to_value = models.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True
    )
    # to_value ÷ from_value; None when either is missing or the first is zero.
    rate = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    # The pair of this map with the lowest rate that week.
    is_biggest_drop = models.BooleanField(default=False)
    # Order along the map (breadth-first from the start), for display.
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["map", "week", "from_step", "to_step"],
                name="stepconversion_unique",
            ),
        ]
        indexes = [models.Index(fields=["business", "week"])]

    def __str__(self) -> str:
        return f"{self.from_step_id}→{self.to_step_id} {self.week}: {self.rate}"


class StageWeek(models.Model):
    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="+"
    )
    week = models.DateField()
    stage = models.CharField(max_length=10, choices=Stage.choices)
    # Sum of the stage's funnel count metrics; None when none has a number.
    total = models.DecimalField(
        max_digits=VALUE_DIGITS + 4, decimal_places=VALUE_PLACES, null=True, blank=True
    )
    metric_count = models.PositiveIntegerField(default=0)
    on_track = models.PositiveIntegerField(default=0)
    off_track = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    # This stage's total ÷ the total of the nearest stage above it that has one.
    from_stage = models.CharField(max_length=10, choices=Stage.choices, blank=True)
    conversion = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business", "week", "stage"], name="stageweek_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_id} {self.week} {self.stage}: {self.total}"


class OwnerWeek(models.Model):
    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="+"
    )
    week = models.DateField()
    owner = models.ForeignKey(
        "hourglass.Membership", on_delete=models.CASCADE, related_name="+"
    )
    metric_count = models.PositiveIntegerField(default=0)
    on_track = models.PositiveIntegerField(default=0)
    off_track = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    no_goal = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business", "week", "owner"], name="ownerweek_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.week}"


# ---------------------------------------------------------------------------
# The weekly review meeting
# ---------------------------------------------------------------------------


class Meeting(models.Model):
    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="meetings"
    )
    week = models.DateField(_("week"))
    notes = models.TextField(_("notes"), blank=True, max_length=20000)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.UniqueConstraint(
                fields=["business", "week"], name="meeting_unique_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_id} {self.week}"


class MeetingIssue(models.Model):
    """Something the meeting has to solve, raised in one week's review and open
    until resolved (it carries over to every later review)."""

    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="meeting_issues"
    )
    title = models.CharField(_("issue"), max_length=200)
    detail = models.TextField(_("detail"), blank=True, max_length=5000)
    metric = models.ForeignKey(
        Metric,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issues",
        verbose_name=_("metric"),
    )
    step = models.ForeignKey(
        "systemmaps.Node",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issues",
        verbose_name=_("step"),
    )
    raised_week = models.DateField(_("raised in the review of"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)
    resolved_week = models.DateField(
        _("resolved in the review of"), null=True, blank=True
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        ordering = ["raised_week", "id"]
        indexes = [models.Index(fields=["business", "resolved_week"])]

    def __str__(self) -> str:
        return self.title


class Todo(models.Model):
    business = models.ForeignKey(
        "hourglass.Business", on_delete=models.CASCADE, related_name="todos"
    )
    text = models.CharField(_("to-do"), max_length=300)
    owner = models.ForeignKey(
        "hourglass.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="todos",
        verbose_name=_("owner"),
    )
    due = models.DateField(_("due"), null=True, blank=True)
    issue = models.ForeignKey(
        MeetingIssue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="todos",
        verbose_name=_("issue"),
    )
    created_week = models.DateField(_("agreed in the review of"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    done_week = models.DateField(_("done in the review of"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("to-do")
        verbose_name_plural = _("to-dos")
        ordering = ["due", "created_week", "id"]
        indexes = [models.Index(fields=["business", "done_week"])]

    def __str__(self) -> str:
        return self.text
