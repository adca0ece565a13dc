from django.urls import include, path

from . import review_views, views

app_name = "metrics"

metric_patterns = [
    path("", views.metric_list, name="metric-list"),
    path("new/", views.metric_create, name="metric-create"),
    path("import/", views.entries_import, name="entries-import"),
    path("export.csv", views.entries_export, name="entries-export"),
    path("<int:pk>/", views.metric_detail, name="metric-detail"),
    path("<int:pk>/edit/", views.metric_edit, name="metric-edit"),
    path("<int:pk>/archive/", views.metric_archive, name="metric-archive"),
    path("<int:pk>/weeks/<str:week>/", views.entry_save, name="entry-save"),
]

review_patterns = [
    path("", review_views.review, name="review"),
    path("issues/<int:pk>/resolve/", review_views.issue_resolve, name="issue-resolve"),
    path("todos/<int:pk>/done/", review_views.todo_done, name="todo-done"),
    path("<str:week>/", review_views.review_week, name="review-week"),
    path("<str:week>/status/", review_views.review_status, name="review-status"),
    path(
        "<str:week>/recompute/",
        review_views.review_recompute,
        name="review-recompute",
    ),
    path("<str:week>/meeting/", review_views.meeting, name="meeting"),
    path("<str:week>/meeting/notes/", review_views.meeting_notes, name="meeting-notes"),
    path("<str:week>/meeting/print/", review_views.meeting_print, name="meeting-print"),
    path("<str:week>/issues/", review_views.issue_add, name="issue-add"),
    path("<str:week>/todos/", review_views.todo_add, name="todo-add"),
]

# Included under /b/<slug>/ (hourglass.urls).
urlpatterns = [
    path("metrics/", include(metric_patterns)),
    path("numbers/", views.this_week, name="this-week"),
    path("review/", include(review_patterns)),
]
