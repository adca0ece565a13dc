from django.urls import include, path

from .views import csv, entries, meeting, metrics, review

app_name = "metrics"

metric_patterns = [
    path("", metrics.metric_list, name="metric-list"),
    path("new/", metrics.metric_create, name="metric-create"),
    path("import/", csv.entries_import, name="entries-import"),
    path("export.csv", csv.entries_export, name="entries-export"),
    path("<int:pk>/", metrics.metric_detail, name="metric-detail"),
    path("<int:pk>/edit/", metrics.metric_edit, name="metric-edit"),
    path("<int:pk>/archive/", metrics.metric_archive, name="metric-archive"),
    path("<int:pk>/weeks/<str:week>/", entries.entry_save, name="entry-save"),
]

review_patterns = [
    path("", review.review, name="review"),
    path("issues/<int:pk>/resolve/", meeting.issue_resolve, name="issue-resolve"),
    path("todos/<int:pk>/done/", meeting.todo_done, name="todo-done"),
    path("<str:week>/", review.review_week, name="review-week"),
    path("<str:week>/status/", review.review_status, name="review-status"),
    path("<str:week>/recompute/", review.review_recompute, name="review-recompute"),
    path("<str:week>/meeting/", meeting.meeting, name="meeting"),
    path("<str:week>/meeting/notes/", meeting.meeting_notes, name="meeting-notes"),
    path("<str:week>/meeting/print/", meeting.meeting_print, name="meeting-print"),
    path("<str:week>/issues/", meeting.issue_add, name="issue-add"),
    path("<str:week>/todos/", meeting.todo_add, name="todo-add"),
]

# Included under /b/<slug>/ (hourglass.urls).
urlpatterns = [
    path("metrics/", include(metric_patterns)),
    path("numbers/", entries.this_week, name="this-week"),
    path("review/", include(review_patterns)),
]
