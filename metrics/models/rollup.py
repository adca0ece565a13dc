"""The rollup tables: written only by `metrics.rollup`, read by the dashboard."""

from django.db import models

from hourglass.models import Stage

from .metrics import VALUE_DIGITS, VALUE_PLACES, Direction, Metric, Status, Trend, Unit

# ---------------------------------------------------------------------------
# Rollup tables: written only by metrics.rollup, read by the dashboard
# ---------------------------------------------------------------------------


class RollupWeek(models.Model):
    """One business's week: when it was last rolled up and whether it is stale."""

    # Indexed by the composite keys below, which start with it.
    business = models.ForeignKey(
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    week = models.DateField()
    computed_at = models.DateTimeField(null=True, blank=True)
    # Set when an entry that this week's figures depend on changed after the last
    # rollup; cleared by a rollup that started after it.
    stale_since = models.DateTimeField(null=True, blank=True)
    # When the owners missing a number of this week were reminded (once).
    reminded_at = models.DateTimeField(null=True, blank=True)
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
    # Indexed by the composite keys below, which start with it.
    business = models.ForeignKey(
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    # Indexed by (metric, week), the unique key.
    metric = models.ForeignKey(
        Metric, on_delete=models.CASCADE, related_name="+", db_index=False
    )
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
    # The rest of the week's definition, for the funnel and the conversions.
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.COUNT)
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    in_funnel = models.BooleanField(default=False)
    step_map = models.ForeignKey(
        "systemmaps.SystemMap", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    step_key = models.CharField(max_length=64, blank=True)
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

    # Indexed by the composite keys below, which start with it.
    business = models.ForeignKey(
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    map = models.ForeignKey(
        "systemmaps.SystemMap",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    week = models.DateField()
    # The two steps by their key and name in the map as it was when the week
    # closed (a step deleted since keeps its pair).
    from_key = models.CharField(max_length=64)
    to_key = models.CharField(max_length=64)
    from_label = models.CharField(max_length=200, blank=True)
    to_label = models.CharField(max_length=200, blank=True)
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
    # An arrow back to a step met earlier on the way (a loop): the second
    # number comes back, it is not a share of the first.
    is_return = models.BooleanField(default=False)
    # Order along the map (breadth-first from the start), for display.
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["map", "week", "from_key", "to_key"],
                name="stepconversion_unique",
            ),
        ]
        indexes = [models.Index(fields=["business", "week"])]

    def __str__(self) -> str:
        return f"{self.from_key}→{self.to_key} {self.week}: {self.rate}"


class StageWeek(models.Model):
    # Indexed by the composite keys below, which start with it.
    business = models.ForeignKey(
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
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
    # Indexed by the composite keys below, which start with it.
    business = models.ForeignKey(
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
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
