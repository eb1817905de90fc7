from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from ..models import BudgetLine
from ..validators import validate_upload

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UploadField(forms.FileField):
    """A file checked for type, size and real content before anything is stored."""

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded:
            uploaded.checked_content_type = validate_upload(uploaded, max_mb=settings.GRANTS_UPLOAD_MAX_MB)
        return uploaded


class ApplicationForm(forms.Form):
    organisation = forms.ModelChoiceField(label="Sökande förening", queryset=None, empty_label=None)
    title = forms.CharField(label="Projektnamn eller rubrik", max_length=200)
    description = forms.CharField(label="Beskrivning: vad vill ni göra, för vilka och varför?",
                                  widget=forms.Textarea(attrs={"rows": 6}))
    period_start = forms.DateField(label="Periodens början", widget=DATE_INPUT)
    period_end = forms.DateField(label="Periodens slut", widget=DATE_INPUT)
    attachment = UploadField(label="Bilaga (PDF, PNG eller JPEG)", required=False)

    def __init__(self, *args, call, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        self.calculator = call.programme.get_calculator()
        self.fields["organisation"].queryset = organisations
        if self.calculator.applicant_states_amount:
            self.fields["requested_amount"] = forms.DecimalField(
                label="Sökt belopp (kr)", max_digits=14, decimal_places=2, min_value=1,
                help_text=f"Högst {call.max_amount:.0f} kr.",
            )
        for item in self.calculator.inputs:
            self.fields[f"input_{item.name}"] = forms.IntegerField(label=item.label, help_text=item.help_text,
                                                                   min_value=0)

    def clean_requested_amount(self):
        amount = self.cleaned_data["requested_amount"]
        if amount > self.call.max_amount:
            raise ValidationError(f"Beloppet är högre än utlysningens högsta belopp, {self.call.max_amount:.0f} kr.")
        return amount

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "Periodens slut kan inte ligga före dess början.")
        return data

    def inputs(self):
        return {item.name: self.cleaned_data[f"input_{item.name}"] for item in self.calculator.inputs}


class BudgetLineForm(forms.Form):
    # The initial value lets an untouched extra row count as empty rather than invalid.
    kind = forms.ChoiceField(label="Typ", choices=BudgetLine.Kind.choices, initial=BudgetLine.Kind.COST)
    label = forms.CharField(label="Post", max_length=200)
    amount = forms.DecimalField(label="Belopp (kr)", max_digits=14, decimal_places=2, min_value=0)


BudgetFormSet = forms.formset_factory(BudgetLineForm, extra=3, max_num=30)


class CompletionAnswerForm(forms.Form):
    answer = forms.CharField(label="Ditt svar", widget=forms.Textarea(attrs={"rows": 4}))
    attachment = UploadField(label="Fil (valfri)", required=False)


class FollowUpForm(forms.Form):
    what_was_done = forms.CharField(label="Vad genomfördes?", widget=forms.Textarea(attrs={"rows": 4}))
    participants = forms.IntegerField(label="Antal deltagare", min_value=0)
    outcome = forms.CharField(label="Vad blev resultatet jämfört med målen i ansökan?",
                              widget=forms.Textarea(attrs={"rows": 4}))
    actual_costs = forms.DecimalField(label="Faktiska kostnader (kr)", max_digits=14, decimal_places=2, min_value=0)
    attachment = UploadField(label="Bilaga, t.ex. ekonomisk redovisning (valfri)", required=False)
