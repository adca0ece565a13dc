from datetime import date
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import pgettext_lazy

from hourglass.models import Business, Membership, Stage
from hourglass.numbers import NumberField, read_as
from hourglass.validators import no_control_characters
from systemmaps import selectors as map_selectors
from systemmaps.document import WORK_KINDS
from systemmaps.models import Node

from . import csvio, weeks
from .models import (
    VALUE_DIGITS,
    VALUE_PLACES,
    Direction,
    MeetingIssue,
    Metric,
    Todo,
    Unit,
)
from .numbers import check_places, parse_value
from .services import stage_of_step


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
        validators=[no_control_characters],
        help_text=_lazy("What is counted, e.g. “Webinar attendees”."),
    )
    unit = forms.ChoiceField(label=_lazy("Unit"), choices=Unit.choices)
    direction = forms.ChoiceField(
        label=_lazy("Direction"),
        choices=Direction.choices,
        widget=forms.RadioSelect,
        initial=Direction.HIGHER,
    )
    goal = NumberField(
        label=_lazy("Weekly goal"),
        required=False,
        min_value=0,
        max_digits=VALUE_DIGITS,
        decimal_places=VALUE_PLACES,
        help_text=_lazy("Optional. Each week's number is on or off track against it."),
    )
    owner = OwnerChoiceField(
        label=pgettext_lazy("responsible", "Owner"),
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
        initial=False,
        help_text=_lazy(
            "Tick it for the count of the step where customers enter the stage "
            "(ticked for you when you start from that step): further steps of "
            "the same journey in that stage would count the same people again. "
            "Only count metrics are added up in the hourglass funnel."
        ),
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
        if metric is not None and not self.is_bound:
            self.initial = {**self.initial_of(metric), **self.initial}

    @staticmethod
    def initial_of(metric: Metric) -> dict:
        """The form's fields as the saved metric has them."""
        return {
            "name": metric.name,
            "unit": metric.unit,
            "direction": metric.direction,
            "goal": metric.goal,
            "owner": metric.owner_id,
            "step": str(metric.step_id) if metric.step_id else "",
            "stage": metric.stage,
            "in_funnel": metric.in_funnel,
            "description": metric.description,
        }

    def prefill_step(self, step: str) -> bool:
        """Start a new metric of the step `step` (a pk from the step's page),
        named after it; False when the business has no such step."""
        if step not in self.steps:
            return False
        node = self.steps[step]
        self.initial = {
            "step": step,
            "name": node.label[:120],
            "in_funnel": map_selectors.is_stage_entry(node),
        }
        return True

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
        if data.get("goal") is not None and data.get("unit"):
            try:
                check_places(
                    data["goal"], unit=data["unit"], currency=self.business.currency
                )
            except ValidationError as problem:
                field = str(self.fields["goal"].label)
                read = read_as(data["goal"], field=field)
                self.add_error("goal", f"{read}: {problem.messages[0]}")
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


ARCHIVED = _lazy("This metric is archived; restore it to enter numbers.")


class EntryForm(forms.Form):
    """One week's number of one metric; the week comes in the form (backfill)
    or from the URL (`week` given). An archived metric takes no number."""

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
        tz_name = self.metric.business.timezone
        week = parse_entry_week(text, tz_name=tz_name)
        try:
            weeks.check_history(
                week, created_at=self.metric.created_at, tz_name=tz_name
            )
        except weeks.BadWeek as error:
            raise ValidationError(str(error), code="week") from None
        return week

    def clean_value(self) -> Decimal | None:
        return parse_value(
            self.cleaned_data["value"],
            unit=self.metric.unit,
            currency=self.metric.business.currency,
            field=self.metric.name,
        )

    def clean(self) -> dict:
        if self.metric.is_archived:
            raise ValidationError(ARCHIVED, code="archived")
        return super().clean()

    def problem(self) -> str:
        """The one message a single field shows: the week's, else the metric's
        (archived), else the number's."""
        for errors in (
            self.errors.get("week"),
            self.non_field_errors(),
            self.errors.get("value"),
        ):
            if errors:
                return " ".join(errors)
        return ""


class ThisWeekForm(forms.Form):
    """Which week and whose numbers the This week form shows: `week` (any day of
    it; this week when blank) and `who` (a member's pk, or "all")."""

    week = forms.CharField(required=False)
    who = forms.CharField(required=False)

    def __init__(self, data, *, tz_name: str, current: date):
        super().__init__(data)
        self.tz_name = tz_name
        self.current = current

    def clean_week(self) -> date:
        text = self.cleaned_data["week"]
        return parse_entry_week(text, tz_name=self.tz_name) if text else self.current

    @property
    def chosen_week(self) -> date:
        """The week asked for, or this week when it cannot be read."""
        return self.cleaned_data.get("week", self.current)

    @property
    def week_error(self) -> str:
        return " ".join(self.errors.get("week", []))


class EntryNumberField(forms.Field):
    """A week's number as typed for the metric `name` of `unit` (`parse_value`)."""

    def __init__(self, *, unit: str, currency: str, name: str, **kwargs):
        super().__init__(required=False, **kwargs)
        self.unit, self.currency, self.name = unit, currency, name

    def clean(self, value) -> Decimal | None:
        return parse_value(
            value, unit=self.unit, currency=self.currency, field=self.name
        )


class NumbersForm(forms.Form):
    """The This week form posted whole (without JavaScript): a field
    `value-<pk>` for each row the member may enter and the post carries. Valid
    when every number is; then `changes()` are the numbers that differ from the
    saved ones."""

    def __init__(self, data, *, rows: list):
        super().__init__(data)
        self.rows = {
            f"value-{row.metric.pk}": row
            for row in rows
            if row.can_enter and f"value-{row.metric.pk}" in data
        }
        for name, row in self.rows.items():
            self.fields[name] = EntryNumberField(
                unit=row.metric.unit,
                currency=row.metric.business.currency,
                name=row.metric.name,
            )

    def changes(self) -> list[tuple[Metric, Decimal | None]]:
        return [
            (row.metric, self.cleaned_data[name])
            for name, row in self.rows.items()
            if self.cleaned_data[name] != row.value
        ]

    def typed(self) -> dict[int, tuple[str, str]]:
        """Each posted field's text and problem, by metric pk: what the page shows
        again when something needs fixing."""
        return {
            row.metric.pk: (self.data[name], " ".join(self.errors.get(name, [])))
            for name, row in self.rows.items()
        }


class ImportForm(forms.Form):
    """The CSV upload, or on confirm the text of the file previewed (sent back in
    a hidden field, checked again). Cleaned: `raw` bytes, `label` (the file's
    name) and `confirm`."""

    file = forms.FileField(
        label=_lazy("CSV file"),
        required=False,
        # An empty file is the CSV reader's to name ("the columns … are missing").
        allow_empty_file=True,
        help_text=_lazy(
            "Columns metric, week and value, with a header row. The metric by its "
            "name, the week as any date in it (YYYY-MM-DD)."
        ),
    )
    csv_text = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    file_name = forms.CharField(required=False, widget=forms.HiddenInput)
    confirm = forms.BooleanField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("file")
        if data.get("confirm") and data.get("csv_text"):
            data["raw"] = data["csv_text"].encode("utf-8", "surrogatepass")
            data["label"] = data.get("file_name", "")[:200]
        elif upload is not None:
            data["label"] = upload.name[:200]
            if upload.size > csvio.MAX_BYTES:
                raise ValidationError(csvio.too_large(data["label"], upload.size))
            data["raw"] = upload.read()
        else:
            raise ValidationError(_("Choose a CSV file to import."))
        return data

    def problems(self) -> list[str]:
        return [str(message) for errors in self.errors.values() for message in errors]


class ExportForm(forms.Form):
    """The weeks to export, `from` and `to` (any day of each week), each
    defaulting to the ends of `default`. Cleaned: their Mondays."""

    start = forms.DateField(label=_lazy("From"), required=False)
    end = forms.DateField(label=_lazy("To"), required=False)

    def __init__(self, *args, default: tuple[date, date], **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        data["start"] = weeks.monday_of(data.get("start") or self.default[0])
        data["end"] = weeks.monday_of(data.get("end") or self.default[1])
        if data["start"] > data["end"]:
            raise ValidationError(_("“from” must be a date before “to”."))
        return data

    def problem(self) -> str:
        """The problems, each named by its query parameter (from, to)."""
        names = {"start": "from", "end": "to"}
        return " ".join(
            f"{names[name]}: {' '.join(errors)}" if name in names else " ".join(errors)
            for name, errors in self.errors.items()
        )


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
        queryset=Membership.objects.none(),
        required=True,
        label=pgettext_lazy("responsible", "Owner"),
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
