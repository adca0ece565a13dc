"""Reads of metrics, shaped for pages: this app's and other apps' (the team
chart, the step page, My steps, the gap reports). Other apps import this
package, never the models behind it.

- `metrics`: the metric list, the This week form, a metric's page, `status_of`;
- `review`: the weekly review dashboard and its freshness;
- `meeting`: the issues, to-dos and notes of a review meeting;
- `steps`: metrics as the other apps' pages show them.
"""

from .meeting import (
    Agenda,
    issues_of_week,
    meeting_agenda,
    meeting_of_week,
    todos_of_week,
    week_bounds,
)
from .metrics import (
    HISTORY_WEEKS,
    RECENT_WEEKS,
    EntryRow,
    HistoryWeek,
    MetricList,
    StageMetrics,
    WeekValue,
    entry_rows,
    export_range_default,
    metric_history,
    metric_list,
    reminders_due,
    status_of,
    values_of,
    week_definitions,
    week_values,
)
from .review import (
    SCORECARD_WEEKS,
    Freshness,
    FunnelStage,
    MapConversions,
    Review,
    ReviewInputs,
    ReviewMetric,
    ScoreRow,
    StageRows,
    Unowned,
    freshness,
    review,
    review_inputs,
    rollup_week,
    trend_word,
)
from .steps import (
    StepMetric,
    business_gaps,
    measured_step_ids,
    metrics_for_chart,
    numbers_due,
    step_metrics,
)

__all__ = [
    "Agenda",
    "EntryRow",
    "Freshness",
    "FunnelStage",
    "HISTORY_WEEKS",
    "HistoryWeek",
    "MapConversions",
    "MetricList",
    "RECENT_WEEKS",
    "Review",
    "ReviewInputs",
    "ReviewMetric",
    "SCORECARD_WEEKS",
    "ScoreRow",
    "StageMetrics",
    "StageRows",
    "StepMetric",
    "Unowned",
    "WeekValue",
    "business_gaps",
    "entry_rows",
    "export_range_default",
    "freshness",
    "issues_of_week",
    "measured_step_ids",
    "meeting_agenda",
    "meeting_of_week",
    "metric_history",
    "metric_list",
    "metrics_for_chart",
    "numbers_due",
    "reminders_due",
    "review",
    "review_inputs",
    "rollup_week",
    "status_of",
    "step_metrics",
    "todos_of_week",
    "trend_word",
    "week_definitions",
    "values_of",
    "week_bounds",
    "week_values",
]
