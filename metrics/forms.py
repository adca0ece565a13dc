from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from hourglass.models import Business, Membership, Stage
from systemmaps.document import WORK_KINDS
from systemmaps.models import Node

from . import weeks
from .models import (
    VALUE_DIGITS,
    VALUE_PLACES,
    Direction,
    MeetingIssue,
    Metric,
    Todo,
    Unit,
)
from .services import stage_of_step

# The largest number an entry or a goal can hold (14 digits, 2 after the point).
MAX_VALUE = Decimal(10) ** (VALUE_DIGITS - VALUE_PLACES) - Decimal("0.01")
PLACES = Decimal(1).scaleb(-VALUE_PLACES)


def parse_value(text: str | None, *, unit: str) -> Decimal | None:
    """A week's number as typed: blank clears it (None); ValidationError with a
    message for the person who typed it otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(
            _("“%(value)s” is not a number.") % {"value": text[:40]}, code="invalid"
        )
    if number < 0:
        raise ValidationError(_("A number cannot be negative."), code="negative")
    if number > MAX_VALUE:
        raise ValidationError(
            _("This number is too large: at most %(digits)d digits before the point.")
            % {"digits": VALUE_DIGITS - VALUE_PLACES},
            code="too_large",
        )
    if unit == Unit.COUNT and number != number.to_integral_value():
        raise ValidationError(
            _("A count must be a whole number, like 12."), code="whole"
        )
    if number != number.quantize(PLACES):
        raise ValidationError(
            _("Use at most %(places)d decimals.") % {"places": VALUE_PLACES},
            code="places",
        )
    return number.quantize(PLACES)


def parse_entry_week(text: str | None, *, tz_name: str) -> date:
    """The Monday of the week typed; ValidationError with the BadWeek message."""
    try:
        return weeks.parse_week(text or "", tz_name=tz_name)
    except weeks.BadWeek as error:
        raise ValidationError(str(error), code="week") from None


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.name or obj.user.email


class MetricForm(forms.Form):
    name = forms.CharField(
        label=_lazy("Name"),
        max_length=120,
        help_text=_lazy("What is counted, e.g. “Webinar attendees”."),
    )
    unit = forms.ChoiceField(label=_lazy("Unit"), choices=Unit.choices)
    direction = forms.ChoiceField(
        label=_lazy("Direction"),
        choices=Direction.choices,
        widget=forms.RadioSelect,
        initial=Direction.HIGHER,
    )
    goal = forms.DecimalField(
        label=_lazy("Weekly goal"),
        required=False,
        min_value=0,
        max_digits=VALUE_DIGITS,
        decimal_places=VALUE_PLACES,
        help_text=_lazy("Optional. Each week's number is on or off track against it."),
    )
    owner = OwnerChoiceField(
        label=_lazy("Owner"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_lazy("— nobody yet —"),
        help_text=_lazy("Who enters the number each week."),
        error_messages={
            "invalid_choice": _lazy("Choose one of the people of this business.")
        },
    )
    step = forms.ChoiceField(
        label=_lazy("Step it measures"),
        required=False,
        help_text=_lazy(
            "Optional. What passed through this step of a map in the week."
        ),
    )
    stage = forms.ChoiceField(
        label=_lazy("Stage"),
        required=False,
        choices=[("", _lazy("— the step's stage —")), *Stage.choices],
        help_text=_lazy("Needed when the metric measures no step."),
    )
    in_funnel = forms.BooleanField(
        label=_lazy("Counts toward the stage total"),
        required=False,
        initial=True,
        help_text=_lazy("Only count metrics are added up in the hourglass funnel."),
    )
    description = forms.CharField(
        label=_lazy("How it is counted"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, business: Business, metric: Metric | None = None, **kw):
        super().__init__(*args, **kw)
        self.business = business
        self.metric = metric
        self.fields["owner"].queryset = (
            Membership.objects.filter(business=business)
            .select_related("user")
            .order_by("user__name", "user__email")
        )
        steps = (
            Node.objects.filter(
                map__business=business,
                map__deleted_at__isnull=True,
                kind__in=WORK_KINDS,
            )
            .select_related("map")
            .order_by("map__name", "map_id", "x", "y", "id")
        )
        self.steps: dict[str, Node] = {}
        groups: dict[int, tuple[str, list]] = {}
        for step in steps:
            self.steps[str(step.pk)] = step
            group = groups.setdefault(step.map_id, (step.map.name, []))
            group[1].append((str(step.pk), step.label or step.client_id))
        self.fields["step"].choices = [
            ("", _("— no step —")),
            *((name, choices) for name, choices in groups.values()),
        ]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("A metric needs a name."))
        same = Metric.objects.filter(business=self.business, name__iexact=name)
        if self.metric is not None:
            same = same.exclude(pk=self.metric.pk)
        if same.exists():
            raise ValidationError(
                _("A metric named “%(name)s” already exists.") % {"name": name}
            )
        return name

    def clean_step(self) -> Node | None:
        value = self.cleaned_data["step"]
        return self.steps[value] if value else None

    def clean(self) -> dict:
        data = super().clean()
        step = data.get("step")
        if "step" in data and not data.get("stage"):
            if step is None:
                self.add_error("stage", _("Choose a stage, or a step it measures."))
            elif not stage_of_step(step):
                self.add_error(
                    "stage", _("The step has no stage: choose one for the metric.")
                )
        return data


# ---------------------------------------------------------------------------
# Entries
# ---------------------------------------------------------------------------


class EntryForm(forms.Form):
    """One week's number of one metric; the week comes in the form (backfill)
    or from the URL (`week` given)."""

    week = forms.CharField(label=_lazy("Week"), required=False)
    value = forms.CharField(label=_lazy("Number"), required=False, max_length=60)

    def __init__(self, *args, metric: Metric, week: str | None = None, **kw):
        super().__init__(*args, **kw)
        self.metric = metric
        self.fixed_week = week
        self.fields["week"].widget = forms.DateInput(attrs={"type": "date"})

    def clean_week(self) -> date:
        text = self.fixed_week
        if text is None:
            text = self.cleaned_data["week"]
        return parse_entry_week(text, tz_name=self.metric.business.timezone)

    def clean_value(self) -> Decimal | None:
        return parse_value(self.cleaned_data["value"], unit=self.metric.unit)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_lazy("CSV file"),
        required=False,
        help_text=_lazy(
            "Columns metric, week and value, with a header row. The metric by its "
            "name, the week as any date in it (YYYY-MM-DD)."
        ),
    )
    csv_text = forms.CharField(required=False, widget=forms.HiddenInput)


class ExportForm(forms.Form):
    start = forms.DateField(label=_lazy("From"), required=False)
    end = forms.DateField(label=_lazy("To"), required=False)


# ---------------------------------------------------------------------------
# Meetings
# ---------------------------------------------------------------------------


class StepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Node) -> str:
        return f"{obj.map.name}: {obj.label or obj.client_id}"


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.name or obj.user.email


class IssueForm(forms.ModelForm):
    """Raise an issue; the metric and the step are limited to the business's own."""

    metric = forms.ModelChoiceField(
        queryset=Metric.objects.none(), required=False, label=_lazy("Metric")
    )
    step = StepChoiceField(
        queryset=Node.objects.none(), required=False, label=_lazy("Step")
    )

    class Meta:
        model = MeetingIssue
        fields = ["title", "detail", "metric", "step"]
        widgets = {"detail": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, business: Business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["metric"].queryset = Metric.objects.filter(
            business=business, archived_on__isnull=True
        ).order_by("name", "id")
        self.fields["step"].queryset = (
            Node.objects.filter(
                map__business=business,
                map__deleted_at__isnull=True,
                kind__in=WORK_KINDS,
            )
            .select_related("map")
            .order_by("map__name", "map_id", "label", "id")
        )
        self.fields["metric"].error_messages["invalid_choice"] = _(
            "Choose a metric of this business."
        )
        self.fields["step"].error_messages["invalid_choice"] = _(
            "Choose a step of one of this business's maps."
        )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_lazy("Resolution"), max_length=500, required=False
    )


class TodoForm(forms.ModelForm):
    owner = MemberChoiceField(
        queryset=Membership.objects.none(), required=True, label=_lazy("Owner")
    )

    class Meta:
        model = Todo
        fields = ["text", "owner", "due"]
        widgets = {"due": forms.DateInput(attrs={"type": "date"})}
        error_messages = {
            "due": {"invalid": _lazy("Enter the due date as YYYY-MM-DD.")},
        }

    def __init__(self, *args, business: Business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            Membership.objects.filter(business=business)
            .select_related("user")
            .order_by("user__name", "id")
        )
        self.fields["owner"].error_messages["invalid_choice"] = _(
            "Choose a member of this business."
        )


class NotesForm(forms.Form):
    notes = forms.CharField(
        label=_lazy("Notes"),
        max_length=20000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class WeekForm(forms.Form):
    """The review a change belongs to, sent with the resolve and done buttons."""

    week = forms.CharField(max_length=40)

    def __init__(self, *args, tz_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz_name = tz_name

    def clean_week(self) -> date:
        try:
            return weeks.parse_week(self.cleaned_data["week"], tz_name=self.tz_name)
        except weeks.BadWeek as error:
            raise ValidationError(str(error)) from None
