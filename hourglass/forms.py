from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import languages, places
from .models import (
    CURRENCIES,
    Membership,
    PepBucket,
    Role,
    Stage,
    User,
    normalize_email,
    timezone_choices,
)
from .numbers import NumberField
from .validators import no_control_characters


class _PasswordPairMixin:
    """Two password fields that must match and pass the configured validators."""

    def clean_password2(self):
        p1 = self.cleaned_data.get("password1")
        p2 = self.cleaned_data.get("password2")
        if p1 and p2 and p1 != p2:
            raise forms.ValidationError(_("The two passwords do not match."))
        return p2

    def _validate_password(self, user: User) -> None:
        password = self.cleaned_data.get("password2")
        if password:
            try:
                password_validation.validate_password(password, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)


def _password_fields() -> tuple[forms.CharField, forms.CharField]:
    return (
        forms.CharField(
            label=_("Password"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
            help_text=password_validation.password_validators_help_text_html(),
        ),
        forms.CharField(
            label=_("Password again"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        ),
    )


class BusinessPlaceForm(forms.Form):
    """Where a business is (hourglass/places.py): its country, its currency and
    its time zone. A new one starts from the browser (`initial_place`); the
    page's script suggests the currency and zone of a country picked."""

    country = forms.ChoiceField(label=_("Country"), required=False)
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=timezone_choices,
        help_text=_("Weeks start on Monday in this time zone."),
    )

    def __init__(self, *args, new: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *places.countries()]
        if new:
            # The script puts the browser's zone in (static/hourglass/app.js).
            self.fields["timezone"].widget.attrs["data-place-new"] = ""
        self.fields["country"].widget.attrs["data-place-country"] = ""
        self.fields["currency"].widget.attrs["data-place-currency"] = ""
        self.fields["timezone"].widget.attrs["data-place-timezone"] = ""


def initial_place(request) -> dict[str, str]:
    """A new business's country, currency and zone as the browser suggests
    them: its language's region, that country's currency and (when it has one)
    zone; the script then puts the browser's own zone in."""
    country = places.country_of_language(
        request.headers.get("accept-language", ""), translation.get_language()
    )
    return {
        "country": country,
        "currency": places.currency_of(country),
        "timezone": places.zone_of(country) or "UTC",
    }


class SignUpForm(_PasswordPairMixin, BusinessPlaceForm):
    name = forms.CharField(
        label=_("Your name"), max_length=150, validators=[no_control_characters]
    )
    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    business_name = forms.CharField(
        label=_("Business name"),
        max_length=120,
        validators=[no_control_characters],
        help_text=_("You can rename it later, and add more businesses."),
    )
    password1, password2 = _password_fields()
    field_order = [
        "name",
        "email",
        "password1",
        "password2",
        "business_name",
        "country",
        "currency",
        "timezone",
    ]

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                _("An account with this email address exists already. Log in instead.")
            )
        return email

    def clean(self):
        cleaned = super().clean()
        self._validate_password(
            User(email=cleaned.get("email", ""), name=cleaned.get("name", ""))
        )
        return cleaned


class InvitedSignUpForm(_PasswordPairMixin, forms.Form):
    """Sign-up from an invitation: the email address is the invited one."""

    name = forms.CharField(
        label=_("Your name"), max_length=150, validators=[no_control_characters]
    )
    password1, password2 = _password_fields()

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        if User.objects.filter(email=self.email).exists():
            raise forms.ValidationError(
                _(
                    "An account with this email address exists already. "
                    "Log in to accept."
                )
            )
        self._validate_password(User(email=self.email, name=cleaned.get("name", "")))
        return cleaned


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        return normalize_email(self.cleaned_data["username"])


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form; the mail is in the account's language."""

    def send_mail(self, *args, **kwargs) -> None:
        context = args[2] if len(args) > 2 else kwargs["context"]
        with translation.override(languages.of_user(context["user"])):
            super().send_mail(*args, **kwargs)


class ProfileForm(forms.ModelForm):
    # Asked for only when the email changes: whoever holds a session (a
    # computer left signed in) must not be able to take the account over by
    # moving its password resets to their own address.
    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Needed only to change your email address."),
    )

    class Meta:
        model = User
        fields = ["name", "email", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.old_email = self.instance.email
        self.fields["language"].choices = [
            ("", _("As my browser says")),
            *languages.choices(),
        ]
        self.fields["language"].help_text = _(
            "The pages and the emails you get are in this language."
        )

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("Another account uses this email address."))
        return email

    @property
    def email_changed(self) -> bool:
        return self.cleaned_data.get("email", self.old_email) != self.old_email

    def clean(self):
        cleaned = super().clean()
        if self.email_changed:
            password = cleaned.get("current_password") or ""
            if not password:
                self.add_error(
                    "current_password",
                    _("Enter your current password to change your email address."),
                )
            elif not self.instance.check_password(password):
                self.add_error(
                    "current_password",
                    _("This is not your current password."),
                )
        return cleaned


class BusinessForm(BusinessPlaceForm):
    name = forms.CharField(
        label=_("Business name"), max_length=120, validators=[no_control_characters]
    )
    field_order = ["name", "country", "currency", "timezone"]


class DeleteBusinessForm(forms.Form):
    confirm = forms.CharField(
        label=_("Type the business name to confirm"), max_length=120, strip=True
    )

    def __init__(self, *args, business_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.business_name = business_name

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"]
        if value != self.business_name:
            raise forms.ValidationError(
                _("That is not the name of this business; nothing was deleted.")
            )
        return value


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.business = business

    def clean_email(self) -> str:
        email = normalize_email(self.cleaned_data["email"])
        if Membership.objects.filter(
            business=self.business, user__email=email
        ).exists():
            raise forms.ValidationError(
                _("%(email)s is a member of this business already.") % {"email": email}
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class StagePlanForm(forms.Form):
    goal = forms.CharField(
        label=_("Goal"),
        max_length=300,
        required=False,
        help_text=_(
            "What this stage should achieve, e.g. “200 new newsletter readers a month”."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TacticForm(forms.Form):
    name = forms.CharField(
        label=_("Tactic"), max_length=120, validators=[no_control_characters]
    )
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    pep = forms.ChoiceField(
        label=_("PEP bucket"),
        choices=PepBucket.choices,
        help_text=_(
            "Paid: you keep paying. Earned: slow, pays off long-term. "
            "Person: someone must do it."
        ),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class MemberProfileForm(forms.Form):
    """A member's line on the accountability chart: their hats and their rate."""

    roles = forms.CharField(
        label=_("Roles in the business"),
        max_length=200,
        required=False,
        help_text=_("For example: marketing, sales, customer service."),
    )
    hourly_rate = NumberField(
        label=_("Hourly rate"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text=_("What an hour of their time costs: the steps they own use it."),
        error_messages={"min_value": _("The hourly rate cannot be negative.")},
    )

    @classmethod
    def for_member(cls, membership: Membership, data=None) -> "MemberProfileForm":
        # One form per member on the team page: ids must not clash.
        return cls(
            data,
            initial={"roles": membership.roles, "hourly_rate": membership.hourly_rate},
            auto_id=f"id_%s_{membership.pk}",
        )


class MarketingOwnerForm(forms.Form):
    """Who is accountable for marketing: one member of the business, or nobody."""

    marketing_owner = forms.ChoiceField(
        label=_("Member accountable for marketing"), required=False
    )

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {str(m.pk): m for m in members}
        self.fields["marketing_owner"].choices = [
            ("", _("Nobody yet")),
            *((str(m.pk), m.user.name or m.user.email) for m in members),
        ]
        self.fields["marketing_owner"].error_messages["invalid_choice"] = _(
            "Pick a member of this business."
        )

    def clean_marketing_owner(self) -> Membership | None:
        value = self.cleaned_data["marketing_owner"]
        return self.members[value] if value else None


class BusinessImportForm(forms.Form):
    file = forms.FileField(
        label=_("Archive (.zip)"),
        help_text=_("A business exported from Hourglass, at most 20 MB."),
    )
    name = forms.CharField(
        label=_("Business name"),
        max_length=120,
        required=False,
        validators=[no_control_characters],
        help_text=_("Leave empty to use the name in the archive."),
    )

    def clean_file(self):
        from .archive import MAX_ARCHIVE_BYTES

        upload = self.cleaned_data["file"]
        if upload.size > MAX_ARCHIVE_BYTES:
            raise forms.ValidationError(
                _("The archive is larger than 20 MB; nothing was imported.")
            )
        return upload
