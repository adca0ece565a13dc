"""Metrics and the weekly review.

A metric is a number the team enters once a week, often on a step of a map (what
passed through that step this week). Entries are the raw numbers; the rollup
tables (MetricWeek, StepConversion, StageWeek, OwnerWeek, RollupWeek) are what
`metrics.rollup` computes from them with set-based SQL, and all the weekly review
dashboard reads. Meetings, issues and to-dos are what the review meeting captures.
"""

from .meetings import Meeting, MeetingIssue, Todo
from .metrics import (
    DEFINITION_FIELDS,
    VALUE_DIGITS,
    VALUE_PLACES,
    Direction,
    Entry,
    EntryRevision,
    Metric,
    MetricDefinition,
    Status,
    Trend,
    Unit,
)
from .rollup import MetricWeek, OwnerWeek, RollupWeek, StageWeek, StepConversion

__all__ = [
    "VALUE_DIGITS",
    "VALUE_PLACES",
    "Direction",
    "Entry",
    "EntryRevision",
    "Meeting",
    "MeetingIssue",
    "DEFINITION_FIELDS",
    "Metric",
    "MetricDefinition",
    "MetricWeek",
    "OwnerWeek",
    "RollupWeek",
    "StageWeek",
    "Status",
    "StepConversion",
    "Todo",
    "Trend",
    "Unit",
]
