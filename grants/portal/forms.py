from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import limits
from ..fields import KronorField, count_field, text_field
from ..models import AGE_BANDS, GENDERS, BudgetLine, Organisation
from ..services.apply import period_problems
from ..validators import validate_upload

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UploadField(forms.FileField):
    """A file checked for type, size and real content before anything is stored."""

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded:
            uploaded.checked_content_type = validate_upload(uploaded, max_mb=settings.GRANTS_UPLOAD_MAX_MB)
        return uploaded


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadsField(forms.FileField):
    """Several files in one input, each checked as UploadField checks one; at most `max_files`."""

    widget = MultipleFileInput

    def __init__(self, *args, max_files=5, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [item for item in (data if isinstance(data, (list, tuple)) else [data]) if item]
        if len(files) > self.max_files:
            raise ValidationError(_("Högst %(max)s filer per meddelande.") % {"max": self.max_files})
        errors, cleaned = [], []
        for uploaded in files:
            try:
                uploaded = super().clean(uploaded, initial)
                uploaded.checked_content_type = validate_upload(uploaded, max_mb=settings.GRANTS_UPLOAD_MAX_MB)
            except ValidationError as exc:
                errors.append(exc)
            else:
                cleaned.append(uploaded)
        if errors:
            raise ValidationError(errors)
        return cleaned


class MessageForm(forms.Form):
    """A message in the case, to the officer (the portal) or to the applicant (the case page)."""

    body = text_field(gettext_lazy("Meddelande"), rows=5, max_length=limits.LONG_TEXT)
    files = UploadsField(
        label=gettext_lazy("Bifoga filer (valfritt)"),
        help_text=gettext_lazy("PDF, PNG eller JPEG, högst 5 filer."),
    )


class DetailsForm(forms.Form):
    """Step 1, "Sökande och projekt". The organisation is chosen when the draft is created;
    the programme's lists of priority areas and target groups are asked for when it has them."""

    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Sökande förening eller grupp"), queryset=None, empty_label=None
    )
    title = text_field(gettext_lazy("Projektnamn eller rubrik"), max_length=limits.TITLE)
    description = text_field(
        gettext_lazy("Beskrivning: vad vill ni göra, för vilka och varför?"), max_length=limits.DESCRIPTION, rows=6
    )
    period_start = forms.DateField(label=gettext_lazy("Periodens början"), widget=DATE_INPUT)
    period_end = forms.DateField(label=gettext_lazy("Periodens slut"), widget=DATE_INPUT)

    def __init__(self, *args, call, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        programme = call.programme
        if organisations is None:  # a saved draft keeps its organisation
            del self.fields["organisation"]
        else:
            if not programme.accepts_informal_groups:
                organisations = organisations.filter(kind=Organisation.Kind.ASSOCIATION)
            self.fields["organisation"].queryset = organisations
        earliest, latest = limits.period_bounds(call)
        for name in ("period_start", "period_end"):
            self.fields[name].widget.attrs.update(min=f"{earliest:%Y-%m-%d}", max=f"{latest:%Y-%m-%d}")
        # The programme's own lists, when it has them; the annual report sums grants by them.
        for name, label, required, choices in (
            ("priority_area", _("Prioriterat område"), _("Välj prioriterat område."), programme.priority_areas),
            ("target_group", _("Målgrupp"), _("Välj målgrupp."), programme.target_groups),
        ):
            if choices:
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=[("", _("Välj …"))] + [(choice, choice) for choice in choices],
                    error_messages={"required": required},
                )
        self.order_fields(["organisation", "title", "description", "priority_area", "target_group"])

    def clean(self):
        data = super().clean()
        for name, message in period_problems(self.call, data.get("period_start"), data.get("period_end")).items():
            self.add_error(name, message)
        return data


class AmountForm(forms.Form):
    """Step 2, "Belopp": the amount asked for, or what the programme's rule needs to work it out."""

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.calculator = call.programme.get_calculator()
        if self.calculator.applicant_states_amount:
            self.fields["requested_amount"] = KronorField(
                label=_("Sökt belopp (kr)"),
                min_value=1,
                help_text=_("Högst %(max)s kr.") % {"max": number_format(call.max_amount, 0, force_grouping=True)},
            )
        for item in self.calculator.inputs:
            self.fields[f"input_{item.name}"] = count_field(item.label, help_text=item.help_text, maximum=item.maximum)

    def clean_requested_amount(self):
        amount = self.cleaned_data["requested_amount"]
        if amount > self.call.max_amount:
            raise ValidationError(
                _("Beloppet är högre än utlysningens högsta belopp, %(max)s kr.")
                % {"max": f"{self.call.max_amount:.0f}"}
            )
        return amount

    def inputs(self):
        return {item.name: self.cleaned_data[f"input_{item.name}"] for item in self.calculator.inputs}


class BudgetLineForm(forms.Form):
    # The initial value lets an untouched extra row count as empty rather than invalid.
    kind = forms.ChoiceField(label=gettext_lazy("Typ"), choices=BudgetLine.Kind.choices, initial=BudgetLine.Kind.COST)
    label = text_field(gettext_lazy("Post"), max_length=limits.LABEL)
    amount = KronorField(label=gettext_lazy("Belopp (kr)"))


BudgetFormSet = forms.formset_factory(BudgetLineForm, extra=3, max_num=30)


class AttachmentForm(forms.Form):
    """Step 3, "Bilagor": one file at a time; each is stored as it is sent. When the
    programme asks for named attachments the applicant says which one the file is (or
    another file), the first one still missing chosen."""

    attachment = UploadField(
        label=gettext_lazy("Lägg till en bilaga"),
        required=False,
        help_text=gettext_lazy("PDF, PNG eller JPEG. Välj en fil i taget."),
    )

    def __init__(self, *args, rows=(), **kwargs):
        super().__init__(*args, **kwargs)
        rows = list(rows)
        if rows:
            missing = next((row["key"] for row in rows if not row["documents"]), "")
            self.fields["attachment_key"] = forms.ChoiceField(
                label=_("Vilken bilaga är filen?"),
                choices=[(row["key"], row["label"]) for row in rows] + [("", _("En annan fil"))],
                required=False,
                initial=missing,
                widget=forms.RadioSelect,
                error_messages={"invalid_choice": _("Välj vilken bilaga filen är.")},
            )
            self.order_fields(["attachment_key", "attachment"])


class WithdrawForm(forms.Form):
    confirm = forms.BooleanField(
        label=gettext_lazy("Ja, jag vill återta ansökan. Jag förstår att den inte går att skicka in igen."),
        error_messages={"required": gettext_lazy("Kryssa i rutan för att bekräfta att du vill återta ansökan.")},
    )
    note = text_field(
        gettext_lazy("Varför återtar ni ansökan? (frivilligt)"), required=False, rows=3, max_length=limits.NOTE
    )


class SponsorDeclineForm(forms.Form):
    reason = text_field(
        gettext_lazy("Varför avböjer ni?"),
        rows=4,
        max_length=limits.NOTE,
        help_text=gettext_lazy("Gruppen får skälet med e-post och kan ändra ansökan och skicka den till er igen."),
        error_messages={"required": gettext_lazy("Skriv varför ni avböjer, så att gruppen vet vad den kan göra.")},
    )


class CompletionAnswerForm(forms.Form):
    answer = text_field(gettext_lazy("Ditt svar"), rows=4, max_length=limits.LONG_TEXT)
    attachment = UploadsField(
        label=gettext_lazy("Filer (valfria)"),
        max_files=10,
        help_text=gettext_lazy("PDF, PNG eller JPEG. Du kan välja flera filer på en gång."),
    )


class FollowUpReportForm(forms.Form):
    """The follow-up report as the programme asks for it. Every field may be left empty while
    the grantee saves a draft; what submission needs is checked by grants.services.follow_up,
    except that each budgeted cost needs its outcome, which only this form knows."""

    what_was_done = text_field(
        gettext_lazy("Vad genomfördes?"),
        required=False,
        rows=5,
        max_length=limits.LONG_TEXT,
        help_text=gettext_lazy("Vilka aktiviteter hade ni, hur ofta och var? Blev något inte som planerat?"),
    )
    outcome = text_field(
        gettext_lazy("Resultat jämfört med målen i ansökan"),
        required=False,
        rows=5,
        max_length=limits.LONG_TEXT,
        help_text=gettext_lazy("Vad har ni uppnått? Jämför med vad ni skrev i ansökan."),
    )
    attachment = UploadField(
        label=gettext_lazy("Bilaga (valfri)"),
        required=False,
        help_text=gettext_lazy("PDF, PNG eller JPEG, t.ex. närvarolistor, kvitton eller en verksamhetsberättelse."),
    )

    def __init__(self, *args, parts, budget_lines=(), submitting=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.parts = parts
        self.budget_lines = list(budget_lines)
        self.submitting = submitting
        if "participants_by_age_gender" in parts:
            for band_index, band in enumerate(AGE_BANDS):
                for gender, gender_label in GENDERS.items():
                    # The grid has no room for a hint in each cell; the limit is in the error.
                    self.fields[self.participant_field(band_index, gender)] = forms.IntegerField(
                        label=_("Deltagare %(band)s år, %(gender)s") % {"band": band, "gender": gender_label},
                        required=False,
                        min_value=0,
                        max_value=limits.PARTICIPANTS,
                        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric", "class": "count"}),
                    )
        if "sessions" in parts:
            self.fields["sessions"] = count_field(
                gettext_lazy("Antal sammankomster"),
                required=False,
                maximum=limits.SESSIONS,
                help_text=gettext_lazy("Hur många gånger ni träffades under perioden."),
            )
        if "financial_statement" in parts:
            for line in self.budget_lines:
                self.fields[f"actual_{line.pk}"] = KronorField(
                    label=_("Utfall för %(label)s (kr)") % {"label": line.label},
                    required=False,
                )
            self.fields["own_contribution"] = KronorField(
                label=gettext_lazy("Egen insats (kr)"),
                required=False,
                help_text=gettext_lazy(
                    "Det föreningen själv bidrog med: pengar, och ideellt arbete räknat i kronor. Skriv 0 om ingen."
                ),
            )
        self.order_fields(["what_was_done", "outcome"])

    @staticmethod
    def participant_field(band_index, gender):
        return f"participants_{band_index}_{gender}"

    def participant_rows(self):
        """The grid for the template: (band, [bound field per gender])."""
        return [
            (band, [self[self.participant_field(index, gender)] for gender in GENDERS])
            for index, band in enumerate(AGE_BANDS)
        ]

    def budget_rows(self):
        return [(line, self[f"actual_{line.pk}"]) for line in self.budget_lines]

    def clean(self):
        data = super().clean()
        if self.submitting and "financial_statement" in self.parts:
            for line in self.budget_lines:
                name = f"actual_{line.pk}"
                if name not in self.errors and data.get(name) is None:
                    self.add_error(
                        name, _("Ange utfallet för %(label)s (0 om inget användes).") % {"label": line.label}
                    )
        return data

    def report_fields(self):
        """What the services take: the report's fields and its cost lines (or None)."""
        data = self.cleaned_data
        fields = {"what_was_done": data["what_was_done"].strip(), "outcome": data["outcome"].strip()}
        if "participants_by_age_gender" in self.parts:
            fields["participants_by_group"] = {
                band: {gender: data[self.participant_field(index, gender)] for gender in GENDERS}
                for index, band in enumerate(AGE_BANDS)
            }
        if "sessions" in self.parts:
            fields["sessions"] = data["sessions"]
        if "financial_statement" in self.parts:
            fields["own_contribution"] = data["own_contribution"]
        return fields

    def budget_cost_lines(self):
        return [
            (line.label, line.amount, self.cleaned_data[f"actual_{line.pk}"])
            for line in self.budget_lines
            if self.cleaned_data.get(f"actual_{line.pk}") is not None
        ]


class ExtraCostForm(forms.Form):
    """A cost the budget did not have. An empty row is left out; a half-filled one is refused."""

    label = text_field(gettext_lazy("Kostnad som inte fanns i budgeten"), max_length=limits.LABEL, required=False)
    actual = KronorField(label=gettext_lazy("Utfall (kr)"), required=False)

    def clean(self):
        data = super().clean()
        label, actual = (data.get("label") or "").strip(), data.get("actual")
        if label and actual is None and "actual" not in self.errors:
            self.add_error("actual", _("Ange vad %(label)s kostade.") % {"label": label})
        if actual is not None and not label:
            self.add_error("label", _("Skriv vad kostnaden gällde."))
        data["label"] = label
        return data


ExtraCostFormSet = forms.formset_factory(ExtraCostForm, extra=3, max_num=20)
