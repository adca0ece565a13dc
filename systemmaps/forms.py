from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from hourglass.models import Half, Membership, Stage
from hourglass.numbers import NumberField
from hourglass.validators import no_control_characters

from . import document, imports
from .models import STEP_DETAIL_FIELDS, MapStatus, Node, NodeKind
from .schema import MAX_EDGE_LABEL, MAX_NODE_LABEL, MAX_NOTES
from .transfer import MAX_IMPORT_BYTES

MAX_WIZARD_TASKS = 60


class _MapFieldsMixin(forms.Form):
    half = forms.ChoiceField(
        label=_("Half of the hourglass"),
        choices=Half.choices,
        widget=forms.RadioSelect,
        initial=Half.MARKETING,
        help_text=_(
            "Marketing: know, like, trust, try. Operations: buy, repeat, refer — "
            "delivering what the marketing promised."
        ),
    )
    stages = forms.MultipleChoiceField(
        label=_("Stages it spans"),
        choices=Stage.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one stage.")},
    )


class _MapDetailsMixin(_MapFieldsMixin):
    """The fields of a map that a new one is given, as its settings show them."""

    name = forms.CharField(
        label=_("Name"), max_length=200, validators=[no_control_characters]
    )
    product = forms.CharField(
        label=_("Product or service"),
        max_length=200,
        validators=[no_control_characters],
        required=False,
        help_text=_("The product or service this system sells or delivers."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MapForm(_MapDetailsMixin):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=MapStatus.choices,
        help_text=_("Active maps are the ones the team runs by; they must lint clean."),
    )
    field_order = ["name", "product", "half", "stages", "description", "status"]


class WizardForm(_MapFieldsMixin):
    """The four mapping steps of the method, on one page."""

    product = forms.CharField(
        label=_("1. Which product or service?"),
        max_length=200,
        validators=[no_control_characters],
        help_text=_("Start with the most important or most profitable one."),
    )
    name = forms.CharField(
        label=_("Name of the map"),
        max_length=200,
        required=False,
        validators=[no_control_characters],
        help_text=_("Leave empty to call it after the product or service."),
    )
    start = forms.CharField(
        label=_("2. Where does the system start?"),
        max_length=MAX_NODE_LABEL,
        help_text=_("The first thing that happens, e.g. “Webinar”."),
    )
    stop = forms.CharField(
        label=_("… and where does it stop?"),
        max_length=MAX_NODE_LABEL,
        help_text=_("The last thing, e.g. “Onboard new client”."),
    )
    tasks = forms.CharField(
        label=_("3. What happens in between?"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Brainstorm the tasks and activities, one per line, in order. You will "
            "label, branch and walk them on the map."
        ),
    )
    field_order = ["product", "name", "half", "stages", "start", "stop", "tasks"]

    def clean_tasks(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["tasks"].splitlines()]
        tasks = [line for line in lines if line]
        if len(tasks) > MAX_WIZARD_TASKS:
            raise forms.ValidationError(
                _("At most %(max)d tasks here; add more on the map.")
                % {"max": MAX_WIZARD_TASKS}
            )
        errors = [
            _("Line %(line)d is longer than %(max)d characters.")
            % {"line": number, "max": MAX_NODE_LABEL}
            for number, line in enumerate(lines, start=1)
            if len(line) > MAX_NODE_LABEL
        ]
        if errors:
            raise forms.ValidationError(errors)
        return tasks


class ImportForm(forms.Form):
    """The import page's first step: the file, whatever tool drew it."""

    file = forms.FileField(label=_("Map file"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = format_lazy(
            "{} {}", _("At most 1 MB. Hourglass reads:"), imports.understood_formats()
        )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than 1 MB; nothing was imported.")
            )
        return upload


ALL_PAGES = "all"


class ImportSummaryForm(_MapDetailsMixin):
    """The import page's second step: which page(s) of the file become maps,
    and the new map's fields, filled in from the file.

    `read` is the file (`imports.FileRead`), `taken` the name_key of every
    name the business's maps have, `proposals` each page's free name by number.
    """

    page = forms.ChoiceField(label=_("Which page?"), widget=forms.RadioSelect)
    field_order = ["page", "name", "product", "half", "stages", "description"]

    def __init__(self, *args, read, taken: set[str], proposals: dict[int, str], **kw):
        super().__init__(*args, **kw)
        self.read, self.taken, self.proposals = read, taken, proposals
        pages = read.pages
        if len(pages) == 1:
            del self.fields["page"]
            self.fields["name"].initial = proposals[1]
        else:
            self.fields["page"].choices = [
                (str(page.number), page_choice_label(page)) for page in pages
            ] + [(ALL_PAGES, _("One map per page (each named after its page)"))]
            self.fields["page"].initial = next(
                (str(page.number) for page in pages if page.imported), None
            )
            self.fields["name"].required = False
            self.fields["name"].help_text = _(
                "Leave empty to name the map after its page. Ignored for one map "
                "per page."
            )
        for key, value in read.fields.items():
            self.fields[key].initial = value

    def chosen(self) -> list[int]:
        """The numbers of the pages to import (valid form)."""
        page = self.cleaned_data.get("page") or "1"
        if page == ALL_PAGES:
            return [page.number for page in self.read.pages]
        return [int(page)]

    def names(self) -> dict[int, str]:
        """The new maps' names by page number (valid form)."""
        chosen = self.chosen()
        if len(chosen) > 1:
            return {number: self.proposals[number] for number in chosen}
        return {chosen[0]: self.cleaned_data["name"] or self.proposals[chosen[0]]}

    def clean(self):
        cleaned = super().clean()
        if "page" in self.fields and not cleaned.get("page"):
            return cleaned
        broken = [
            self.read.pages[number - 1]
            for number in self.chosen()
            if self.read.pages[number - 1].imported is None
        ]
        if broken:
            raise forms.ValidationError(
                [
                    _("“%(page)s” cannot be imported: see its problems above.")
                    % {"page": page.label}
                    for page in broken
                ]
            )
        if len(self.chosen()) == 1 and not self.has_error("name"):
            name = self.names()[self.chosen()[0]]
            if imports.name_key(name) in self.taken:
                self.add_error("name", name_taken_message(name, self.taken))
        return cleaned


def name_taken_message(name: str, taken: set[str]) -> str:
    return _(
        "A map of this business is already called “%(name)s”. Choose another "
        "name, e.g. “%(proposal)s”."
    ) % {
        "name": name,
        "proposal": imports.free_name(name, taken, timezone.localdate()),
    }


def page_choice_label(page: imports.PageRead) -> str:
    """ "Sales: 7 steps, 1 decision, 8 arrows" (or that it cannot be imported)."""
    if page.imported is None:
        return _("%(page)s: cannot be imported") % {"page": page.label}
    return _("%(page)s: %(counts)s") % {"page": page.label, "counts": page.counts_text}


class MapFilterForm(forms.Form):
    half = forms.ChoiceField(
        label=_("Half"), choices=[("", _("Both halves")), *Half.choices], required=False
    )
    stage = forms.ChoiceField(
        label=_("Stage"),
        choices=[("", _("All stages")), *Stage.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *MapStatus.choices],
        required=False,
    )
    lint = forms.ChoiceField(
        label=_("Lint"),
        choices=[
            ("", _("Any lint state")),
            ("errors", _("With errors")),
            ("warnings", _("Warnings only")),
            ("clean", _("Clean")),
        ],
        required=False,
    )


# ---------------------------------------------------------------------------
# Outline view and step panel
# ---------------------------------------------------------------------------


class OutlineVersionForm(forms.Form):
    """Every outline edit carries the version of the map the page showed, so a
    change made on an outdated page is refused instead of overwriting."""

    version = forms.IntegerField(
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The page did not say which version it shows; reload it."),
            "invalid": _("The page did not say which version it shows; reload it."),
        },
    )


class StepLabelField(forms.CharField):
    """A step's label: up to two lines or so (a line break is kept, as the canvas
    and every drawing show it), typed in a textarea whose CRLF becomes LF."""

    widget = forms.Textarea(attrs={"rows": 2, "data-enter-submits": ""})

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_NODE_LABEL)
        kwargs.setdefault(
            "help_text", _("Enter saves; Shift+Enter starts a second line.")
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        return document.clean_label(super().to_python(value))


class OutlineLabelForm(OutlineVersionForm):
    label = StepLabelField(label=_("Name of the step"))


class OutlineDetailsForm(OutlineVersionForm):
    """What else the outline edits on a step: its kind, stage and notes."""

    kind = forms.ChoiceField(label=_("Kind"), choices=NodeKind.choices)
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", _("No stage")), *Stage.choices], required=False
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=MAX_NOTES,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OutlineBranchForm(OutlineLabelForm):
    edge_label = forms.CharField(
        label=_("Branch label"),
        max_length=MAX_EDGE_LABEL,
        help_text=_("The answer that leads this way, e.g. “yes” or “no”."),
    )
    field_order = ["version", "edge_label", "label"]


class StepPanelForm(forms.Form):
    """A step's fields as the canvas's side panel edits them. Checked here; the
    canvas applies them and saves the whole graph."""

    # Enter applies, Shift+Enter breaks the line, as in the outline and on the
    # canvas (static/hourglass/app.js; panel.js also takes Ctrl+Enter).
    label = StepLabelField(label=_("Label"))
    kind = forms.ChoiceField(label=_("Kind"), choices=NodeKind.choices)
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", "—"), *Stage.choices], required=False
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=MAX_NOTES,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class StepDetailsForm(forms.ModelForm):
    """Who does a step and what it costs: the editor's side panel and the step page.

    The owner must be a member of the step's business; hourly cost left empty
    means "the owner's rate".
    """

    class Meta:
        model = Node
        fields = list(STEP_DETAIL_FIELDS)
        # Typed the person's way (1 250,5 in French), read by one reader.
        field_classes = {
            "minutes_per_run": NumberField,
            "runs_per_month": NumberField,
            "hourly_cost": NumberField,
        }
        help_texts = {
            "hourly_cost": _("Leave empty to use the owner's hourly rate."),
            "automation_tool": _("The software that does it, or could."),
        }

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = Membership.objects.filter(business=business).select_related(
            "user"
        )
        owner.label_from_instance = lambda m: m.user.name or m.user.email
        owner.empty_label = _("Nobody yet")
        owner.error_messages["invalid_choice"] = _(
            "Pick a member of this business as the owner."
        )


# ---------------------------------------------------------------------------
# Step page: SOP checklist, runs, flagged problems
# ---------------------------------------------------------------------------

CHECKLIST_ITEM_MAX = 500


class ChecklistItemForm(forms.Form):
    text = forms.CharField(
        label=_("Checklist item"),
        max_length=CHECKLIST_ITEM_MAX,
        error_messages={"required": _("Write what to do in this item.")},
    )


class ChecklistOrderForm(forms.Form):
    """The new order of a step's checklist after a drag: every item, once each."""

    item = forms.TypedMultipleChoiceField(
        coerce=int,
        error_messages={
            "required": _("The new order names no items; reload the page."),
            "invalid_choice": _(
                "The checklist changed since the page was loaded; reload it."
            ),
        },
    )

    def __init__(self, *args, item_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [(pk, pk) for pk in item_ids]
        self.item_ids = item_ids

    def clean_item(self) -> list[int]:
        order = self.cleaned_data["item"]
        if sorted(order) != sorted(self.item_ids):
            raise forms.ValidationError(
                _("The checklist changed since the page was loaded; reload it.")
            )
        return order


class ChecklistMoveForm(forms.Form):
    direction = forms.ChoiceField(
        choices=[("up", _("Up")), ("down", _("Down"))],
        error_messages={
            "required": _("Say whether to move the item up or down."),
            "invalid_choice": _("Say whether to move the item up or down."),
        },
    )

    @property
    def offset(self) -> int:
        return -1 if self.cleaned_data["direction"] == "up" else 1


class SopForm(forms.Form):
    why = forms.CharField(
        label=_("Why it matters"),
        max_length=MAX_NOTES,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What goes wrong when this step is skipped or done badly."),
    )
    reviewed_on = forms.DateField(
        label=_("Last reviewed"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter the date as YYYY-MM-DD.")},
    )

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_reviewed_on(self):
        reviewed_on = self.cleaned_data["reviewed_on"]
        if reviewed_on and reviewed_on > self.today:
            raise forms.ValidationError(_("The last review cannot be in the future."))
        return reviewed_on


class StepFlagForm(forms.Form):
    text = forms.CharField(
        label=_("Flag a problem"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What is wrong or missing at this step?"),
        error_messages={"required": _("Describe the problem.")},
    )


class RunStartForm(forms.Form):
    subject = forms.CharField(
        label=_("For (optional)"),
        max_length=200,
        required=False,
        help_text=_("Who or what this run is for, such as a client's name."),
    )


class RunForm(forms.Form):
    subject = forms.CharField(
        label=_("For"),
        max_length=200,
        required=False,
        help_text=_("Who or what this run is for, such as a client's name."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=MAX_NOTES,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RunTickForm(forms.Form):
    # Unchecked boxes are not sent: no value means "not ticked".
    ticked = forms.BooleanField(required=False)
