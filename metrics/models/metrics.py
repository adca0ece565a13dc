"""Metrics, the definitions they had for the weeks that closed, and their weekly
entries with the audit trail."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hourglass.models import Stage
from hourglass.validators import no_control_characters

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
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="metrics",
        db_index=False,
    )
    name = models.CharField(
        _("name"), max_length=120, validators=[no_control_characters]
    )
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
    # Which step it measures, kept when the step is deleted (a save of the map
    # without it): the weeks that closed before are judged by the map as it was
    # then (its revision at their close), where the step still is.
    step_map = models.ForeignKey(
        "systemmaps.SystemMap", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    step_key = models.CharField(max_length=64, blank=True)
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

    def save(self, *args, **kwargs):
        # The step's map and key follow the step while it exists; a deleted step
        # (SET_NULL) leaves them, a metric moved off its step clears them
        # (`services.metric_update`).
        if self.step_id is not None:
            self.step_map_id, self.step_key = self.step.map_id, self.step.client_id
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {
                    *kwargs["update_fields"],
                    "step_map",
                    "step_key",
                }
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse(
            "metrics:metric-detail",
            kwargs={"slug": self.business.slug, "pk": self.pk},
        )

    @property
    def is_archived(self) -> bool:
        return self.archived_on is not None


# What a definition is made of: the fields a week is judged by.
DEFINITION_FIELDS = (
    "unit",
    "direction",
    "goal",
    "owner_id",
    "stage",
    "in_funnel",
    "step_map_id",
    "step_key",
    "archived_on",
)


class MetricDefinition(models.Model):
    """A metric as it was for a run of weeks that have closed: the weeks from
    `from_week` up to (not including) `until_week` are judged by these fields,
    whatever the metric says today.

    The rule of history: a week, once it has closed (Monday 00:00 in the
    business's time zone), is judged by the definition in force when it closed.
    The metric row itself is the definition of every later week, the open one
    included; a change keeps the one it replaces here first
    (`services.definition_keep`), so recomputing a past week, now or in a year,
    gives the same figures."""

    metric = models.ForeignKey(
        Metric,
        on_delete=models.CASCADE,
        related_name="definitions",
        db_index=False,
    )
    from_week = models.DateField()
    until_week = models.DateField()
    unit = models.CharField(max_length=10, choices=Unit.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    goal = models.DecimalField(
        max_digits=VALUE_DIGITS, decimal_places=VALUE_PLACES, null=True, blank=True
    )
    owner = models.ForeignKey(
        "hourglass.Membership", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    stage = models.CharField(max_length=10, choices=Stage.choices)
    in_funnel = models.BooleanField()
    step_map = models.ForeignKey(
        "systemmaps.SystemMap", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    step_key = models.CharField(max_length=64, blank=True)
    archived_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["metric", "from_week"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "from_week"], name="metricdefinition_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(from_week__lt=models.F("until_week")),
                name="metricdefinition_weeks_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id} {self.from_week}–{self.until_week}"


class Entry(models.Model):
    """One metric's number for one week (weeks start on Monday)."""

    # The business is repeated here so the rollup groups entries without a join.
    business = models.ForeignKey(
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    metric = models.ForeignKey(
        Metric,
        on_delete=models.CASCADE,
        related_name="entries",
        db_index=False,
    )
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
