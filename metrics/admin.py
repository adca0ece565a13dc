from django.contrib import admin

from .models import (
    Entry,
    EntryRevision,
    Meeting,
    MeetingIssue,
    Metric,
    RollupWeek,
    Todo,
)


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    list_display = ["name", "business", "stage", "unit", "goal", "owner", "archived_on"]
    list_filter = ["stage", "unit", "archived_on"]
    search_fields = ["name", "business__name"]
    raw_id_fields = ["business", "owner", "step", "created_by"]


class EntryRevisionInline(admin.TabularInline):
    model = EntryRevision
    extra = 0
    raw_id_fields = ["entered_by", "replaced_by"]
    readonly_fields = [
        "value",
        "entered_by",
        "entered_at",
        "replaced_by",
        "replaced_at",
    ]
    can_delete = False


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ["metric", "week", "value", "entered_by", "entered_at"]
    list_filter = ["week"]
    search_fields = ["metric__name", "business__name"]
    raw_id_fields = ["business", "metric", "entered_by"]
    inlines = [EntryRevisionInline]


@admin.register(RollupWeek)
class RollupWeekAdmin(admin.ModelAdmin):
    list_display = ["business", "week", "computed_at", "stale_since", "metric_count"]
    list_filter = ["week"]
    raw_id_fields = ["business"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["business", "week", "updated_at"]
    raw_id_fields = ["business", "updated_by"]


@admin.register(MeetingIssue)
class MeetingIssueAdmin(admin.ModelAdmin):
    list_display = ["title", "business"]
    search_fields = ["title"]
    raw_id_fields = ["business"]


@admin.register(Todo)
class TodoAdmin(admin.ModelAdmin):
    list_display = ["text", "business", "owner", "due", "done_week"]
    raw_id_fields = ["business", "owner", "issue", "created_by"]
