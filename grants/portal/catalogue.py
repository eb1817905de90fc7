"""The public side of the portal, no login needed: the catalogue of grant programmes and
their calls, each programme's page, the eligibility check, and the accessibility statement."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.mail import send_mail
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.ratelimit import limit_posts

from .. import calculators
from ..eligibility import eligibility_verdict
from ..models import Committee
from ..selectors import catalogue, catalogue_programme
from .cache import MISSING, cached

YES_NO = [("ja", gettext_lazy("Ja")), ("nej", gettext_lazy("Nej"))]


def _committee_choices():
    return cached("committees", (), lambda: list(Committee.objects.order_by("name").values_list("pk", "name")))


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Sök"), required=False, max_length=100)
    committee = forms.TypedChoiceField(label=gettext_lazy("Nämnd"), coerce=int, required=False, empty_value=None)
    open_only = forms.BooleanField(label=gettext_lazy("Bara bidrag som går att söka nu"), required=False)
    groups_only = forms.BooleanField(
        label=gettext_lazy("Bara bidrag som grupper utan organisationsnummer kan söka"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The committees from the catalogue's cache, not a query of every visitor's own.
        self.fields["committee"].choices = [("", _("Alla nämnder")), *_committee_choices()]


def programme_list(request):
    form = CatalogueFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    parameters = (
        filters.get("q", ""),
        filters.get("committee"),
        filters.get("open_only", False),
        filters.get("groups_only", False),
    )
    query, committee_id, open_only, groups_only = parameters
    programmes = cached(
        "list",
        parameters,
        lambda: list(catalogue(query=query, committee_id=committee_id, open_only=open_only, groups_only=groups_only)),
    )
    return render(
        request, "catalogue/list.html", {"form": form, "programmes": programmes, "today": timezone.localdate()}
    )


def _payment_plan_text(programme):
    parts = []
    for part in programme.payment_plan:
        when = _("efter beslut") if part["release"] == "decision" else _("efter godkänd återrapport")
        parts.append(_("%(percent)s %% %(when)s") % {"percent": part["percent"], "when": when})
    return ", ".join(parts)


def _programme_or_missing(slug):
    try:
        return catalogue_programme(slug)
    except Http404:
        return MISSING


def programme_detail(request, slug):
    programme = cached("programme", (slug,), lambda: _programme_or_missing(slug))
    if programme == MISSING:
        raise Http404("Bidraget finns inte.")
    today = timezone.localdate()
    open_calls = [call for call in programme.current_calls if call.opens_on <= today]
    coming_calls = [call for call in programme.current_calls if call.opens_on > today]
    return render(
        request,
        "catalogue/programme.html",
        {
            "programme": programme,
            "open_calls": open_calls,
            "coming_calls": coming_calls,
            "payment_plan": _payment_plan_text(programme),
            "amount_rule": calculators.amount_rule(programme.calculator, programme.calculator_params),
            "attachments": [line.strip() for line in programme.what_to_attach.splitlines() if line.strip()],
        },
    )


class EligibilityForm(forms.Form):
    registered = forms.ChoiceField(
        label=gettext_lazy("Är ni en registrerad förening med organisationsnummer?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("En ideell förening får sitt organisationsnummer från Skatteverket."),
    )

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        if programme.min_members:
            self.fields["members"] = forms.IntegerField(
                label=gettext_lazy("Hur många medlemmar har föreningen?"),
                min_value=0,
                required=False,
                help_text=gettext_lazy("Behöver bara fyllas i av föreningar."),
            )
        for index, question in enumerate(programme.eligibility_questions):
            self.fields[f"question_{index}"] = forms.ChoiceField(
                label=question["question"], choices=YES_NO, widget=forms.RadioSelect
            )

    def clean(self):
        data = super().clean()
        if data.get("registered") == "ja" and "members" in self.fields and data.get("members") is None:
            self.add_error("members", _("Ange hur många medlemmar föreningen har."))
        return data

    def verdict(self):
        data = self.cleaned_data
        answers = [data[f"question_{index}"] for index in range(len(self.programme.eligibility_questions))]
        return eligibility_verdict(
            self.programme, registered=data["registered"] == "ja", members=data.get("members"), answers=answers
        )


def eligibility_check(request, slug):
    programme = cached("programme", (slug,), lambda: _programme_or_missing(slug))
    if programme == MISSING:
        raise Http404("Bidraget finns inte.")
    # The hidden "check" field marks a submitted form, even one with nothing answered.
    form = EligibilityForm(request.GET if "check" in request.GET else None, programme=programme)
    verdict = form.verdict() if form.is_bound and form.is_valid() else None
    today = timezone.localdate()
    return render(
        request,
        "catalogue/eligibility.html",
        {
            "programme": programme,
            "form": form,
            "verdict": verdict,
            "open_calls": [call for call in programme.current_calls if call.opens_on <= today],
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


class BarrierReportForm(forms.Form):
    page = forms.CharField(label=gettext_lazy("Vilken sida eller funktion gäller det?"), max_length=300)
    description = forms.CharField(
        label=gettext_lazy("Vad fungerade inte?"), widget=forms.Textarea(attrs={"rows": 5}), max_length=5000
    )
    email = forms.EmailField(label=gettext_lazy("Din e-postadress (om du vill ha svar)"), required=False)


@limit_posts("barrier-reports", setting="RATE_LIMIT_BARRIER_REPORTS")
def accessibility_statement(request):
    form = BarrierReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        send_mail(
            subject="Tillgänglighetsbrist rapporterad i bidragsportalen",
            message=f"Sida eller funktion: {data['page']}\n\n{data['description']}\n\nSvar till: {data['email'] or '–'}",
            from_email=None,
            recipient_list=[settings.ACCESSIBILITY_CONTACT_EMAIL],
        )
        messages.success(request, _("Tack! Vi har tagit emot din rapport och återkommer om du har lämnat e-post."))
        return redirect("accessibility")
    return render(
        request,
        "catalogue/accessibility.html",
        {
            "form": form,
            "contact": settings.ACCESSIBILITY_CONTACT_EMAIL,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
