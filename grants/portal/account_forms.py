"""The forms of the account and association pages. They check what a form can (required
fields, formats, the password); the rules that need the database — a unique
organisationsnummer, a board of three, who may do what — are the services' to say."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access
from ..fields import text_field
from ..models import Membership, OrganisationFile, PayeeScheme
from .forms import UploadField

# A public sign-up form checks passwords even where the settings leave the validators out
# (the embedded default has none, so that the demo accounts can use "demo").
DEFAULT_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


def registration_password_validators():
    return password_validation.get_password_validators(settings.AUTH_PASSWORD_VALIDATORS or DEFAULT_PASSWORD_VALIDATORS)


# The model's choices are Swedish text; these are the same, for translation.
ROLES = [
    (Membership.Role.CONTACT, gettext_lazy("Kontaktperson")),
    (Membership.Role.SIGNATORY, gettext_lazy("Firmatecknare")),
    (Membership.Role.TREASURER, gettext_lazy("Kassör")),
    (Membership.Role.MEMBER, gettext_lazy("Styrelseledamot")),
]
ROLE_HELP = gettext_lazy("Bara firmatecknare och kassör kan begära ett nytt bankkonto för föreningen.")
FILE_KINDS = [
    (OrganisationFile.Kind.STATUTES, gettext_lazy("Stadgar")),
    (OrganisationFile.Kind.MINUTES, gettext_lazy("Årsmötesprotokoll")),
]
ACCOUNT_SCHEMES = [
    (PayeeScheme.BANKGIRO, gettext_lazy("Bankgiro")),
    (PayeeScheme.PLUSGIRO, gettext_lazy("Plusgiro")),
    (PayeeScheme.IBAN, gettext_lazy("IBAN (utländskt konto)")),
]


class RegistrationForm(BaseUserCreationForm):
    """Django's user creation form (its password fields and validators) with a name, an
    e-mail address that is also the username, and consent to the municipality's keeping the data."""

    name = forms.CharField(
        label=gettext_lazy("Namn"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=gettext_lazy("E-postadress"),
        max_length=150,
        help_text=gettext_lazy("Du loggar in med e-postadressen."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    consent = forms.BooleanField(
        label=gettext_lazy("Jag har läst hur kommunen behandlar mina uppgifter och godkänner det."),
        error_messages={
            "required": gettext_lazy(
                "Du behöver godkänna att kommunen sparar uppgifterna för att kunna skapa ett konto."
            )
        },
    )

    class Meta(BaseUserCreationForm.Meta):
        model = User
        fields = ()

    field_order = ["name", "email", "password1", "password2", "consent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].label = _("Lösenord")
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html(
            registration_password_validators()
        )
        self.fields["password2"].label = _("Upprepa lösenordet")
        self.fields["password2"].help_text = _("Skriv samma lösenord en gång till.")
        self.fields["name"].widget.attrs["autofocus"] = True

    def clean_email(self):
        # Whether the address already has an account is not said here (that would tell anyone
        # who has one): account_register answers every valid registration alike.
        return self.cleaned_data["email"].strip()

    def _post_clean(self):
        # What the similarity validator compares the password with.
        self.instance.username = self.cleaned_data.get("email", "").lower()
        self.instance.email = self.cleaned_data.get("email", "")
        self.instance.first_name = self.cleaned_data.get("name", "")
        super()._post_clean()

    def validate_password_for_user(self, user, password_field_name="password2"):
        password = self.cleaned_data.get(password_field_name)
        if password:
            try:
                password_validation.validate_password(password, user, registration_password_validators())
            except ValidationError as error:
                self.add_error(password_field_name, error)


class AssociationForm(forms.Form):
    """A new association with its evidence: the statutes and the minutes that name the board
    and who signs for it, which the officer reads before verifying it."""

    name = forms.CharField(label=gettext_lazy("Föreningens namn"), max_length=200)
    org_number = forms.CharField(
        label=gettext_lazy("Organisationsnummer"),
        max_length=13,
        help_text=gettext_lazy("Tio siffror, till exempel 802412-1231."),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Din roll i föreningen"),
        choices=[(value, label) for value, label in ROLES if value in access.LEADING_ROLES],
        initial=Membership.Role.SIGNATORY,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Föreningen registreras av dess firmatecknare eller kontaktperson. Andra ur styrelsen bjuder ni in sedan."
        ),
    )
    statutes = UploadField(
        label=gettext_lazy("Stadgar (PDF, PNG eller JPEG)"),
        error_messages={"required": gettext_lazy("Ladda upp föreningens stadgar.")},
    )
    annual_meeting_minutes = UploadField(
        label=gettext_lazy("Senaste årsmötesprotokollet (PDF, PNG eller JPEG)"),
        help_text=gettext_lazy(
            "Protokollet ska visa vilka som sitter i styrelsen och vem som tecknar föreningens firma."
        ),
        error_messages={
            "required": gettext_lazy(
                "Ladda upp det senaste årsmötesprotokollet, där styrelsen och firmatecknarna står."
            )
        },
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Roll"), choices=ROLES)


class GroupForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Gruppens namn"),
        max_length=200,
        help_text=gettext_lazy("Till exempel Nattvandrarna i Fisksätra."),
    )
    sponsor_org_number = forms.CharField(
        label=gettext_lazy("Medsökande förenings organisationsnummer"),
        max_length=13,
        help_text=gettext_lazy(
            "Föreningen måste ha en profil i portalen. Bidrag till gruppen betalas till föreningens konto."
        ),
    )


class JoinForm(forms.Form):
    org_number = forms.CharField(
        label=gettext_lazy("Föreningens organisationsnummer"),
        max_length=13,
        help_text=gettext_lazy("Tio siffror, till exempel 802412-1231."),
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Din roll i föreningen"), choices=ROLES, initial=Membership.Role.MEMBER, help_text=ROLE_HELP
    )


class ProfileForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Namn"), max_length=200)
    email = forms.EmailField(
        label=gettext_lazy("E-postadress"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(label=gettext_lazy("Telefon"), max_length=40, required=False)
    street_address = forms.CharField(
        label=gettext_lazy("Utdelningsadress"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Gatuadress eller box."),
    )
    postal_code = forms.CharField(label=gettext_lazy("Postnummer"), max_length=6, required=False)
    city = forms.CharField(label=gettext_lazy("Postort"), max_length=100, required=False)
    district = forms.CharField(
        label=gettext_lazy("Kommundel"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Där ni har er verksamhet, till exempel Fisksätra."),
    )


class BoardMemberForm(forms.Form):
    # Not required: a row left empty is no one, and clearing a row removes the person.
    name = text_field(gettext_lazy("Namn"), max_length=200, required=False)
    role = text_field(
        gettext_lazy("Roll"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Till exempel ordförande, kassör, ledamot."),
    )

    def clean(self):
        data = super().clean()
        if data.get("role") and not data.get("name"):
            self.add_error("name", _("Skriv namnet, eller töm raden."))
        elif data.get("name") and not data.get("role"):
            self.add_error("role", _("Skriv personens roll i styrelsen."))
        return data


BoardFormSet = forms.formset_factory(BoardMemberForm, extra=3, max_num=30)


class BankAccountForm(forms.Form):
    account_scheme = forms.ChoiceField(
        label=gettext_lazy("Kontotyp"), choices=ACCOUNT_SCHEMES, widget=forms.RadioSelect, initial=PayeeScheme.BANKGIRO
    )
    account_number = forms.CharField(
        label=gettext_lazy("Nytt kontonummer"),
        max_length=42,
        help_text=gettext_lazy("Kontot ska stå i föreningens namn. Bankgiro till exempel 5050-1055."),
    )


class OrganisationFileForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Vad är det för dokument?"), choices=FILE_KINDS)
    file = UploadField(label=gettext_lazy("Fil (PDF, PNG eller JPEG)"))


class InvitationForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-postadress till den du bjuder in"), max_length=254)
    role = forms.ChoiceField(
        label=gettext_lazy("Roll"), choices=ROLES, initial=Membership.Role.MEMBER, help_text=ROLE_HELP
    )
