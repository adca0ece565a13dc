"""The weekly review meeting: its notes, the issues raised and the to-dos."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .metrics import Metric

# ---------------------------------------------------------------------------
# The weekly review meeting
# ---------------------------------------------------------------------------


class Meeting(models.Model):
    business = models.ForeignKey(
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="meetings",
        db_index=False,
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
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="meeting_issues",
        db_index=False,
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
        "hourglass.Business",
        on_delete=models.CASCADE,
        related_name="todos",
        db_index=False,
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
