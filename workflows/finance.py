"""Finance's pages (/staff/utbetalningar/…): the attestation queue, payment files, what
the bank says about them, the associations' requested bank accounts to approve, and the
repayment claims followed until they are repaid. Every
change goes through grants.services.pay or .repayments; those that settle a case also move
its flow on (grants.process)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents import ledger_files, payment_files
from grants import access
from grants.models import (
    ZERO,
    AccountChangeRequest,
    Committee,
    Document,
    LedgerFile,
    Membership,
    OrganisationFile,
    Payment,
    PaymentBatch,
    Programme,
    RepaymentClaim,
    Voucher,
)
from grants.services import pay, payee_accounts, repayments
from grants.validators import compact_account
from grants.web import refusal_messages, refusal_to_form, stored_file_response

PAGE_SIZE = 50
STATUS_REPORT_MAX_BYTES = payment_files.MAX_STATUS_REPORT_BYTES
FILE_KINDS = ("pain001",)

# The list's sort keys (GET ?sort=…) and what they order by; anything else is ignored.
SORTS = {
    "case": ("application__case_number", "sequence"),
    "-case": ("-application__case_number", "-sequence"),
    "amount": ("amount", "application__case_number"),
    "-amount": ("-amount", "application__case_number"),
    "decided": ("application__decision__decided_at", "application__case_number"),
    "-decided": ("-application__decision__decided_at", "application__case_number"),
}
DEFAULT_SORT = "case"


finance_only = access.required(access.is_finance, "Utbetalningarna hanteras av ekonomi (attestanter).")

# Committee scope (grants.access.committee_scope): finance usually works for every committee.
# One with a scope sees and attests the payments, and follows the repayment claims, of those
# committees only. Payment files and ledger files hold every committee's payments at once
# (one bank file, one ledger file for the municipality), so they are for finance working for
# all committees; the associations' bank accounts belong to no committee and are for all finance.
all_committees_only = access.required(access.works_for_all_committees)


# --- forms -------------------------------------------------------------------------------


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            (status, Payment.Status(status).label)
            for status in ("planned", "attested", "exported", "paid", "failed", "withheld")
        ]
        + [("all", "Alla")],
    )
    committee = forms.ModelChoiceField(
        label="Nämnd", required=False, empty_label="Alla nämnder", queryset=Committee.objects.order_by("name")
    )
    programme = forms.ModelChoiceField(
        label="Bidragsform",
        required=False,
        empty_label="Alla bidragsformer",
        queryset=Programme.objects.order_by("name"),
    )
    q = forms.CharField(label="Sök diarienummer eller förening", required=False, max_length=100)
    sort = forms.ChoiceField(
        label="Sortering", required=False, choices=[(key, key) for key in SORTS], widget=forms.HiddenInput
    )


class BatchCreateForm(forms.Form):
    execution_date = forms.DateField(
        label="Önskad betaldag",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Dagen då banken ska betala ut. Alla attesterade utbetalningar som inte ligger i en betalfil "
        "kommer med.",
    )

    def clean_execution_date(self):
        day = self.cleaned_data["execution_date"]
        if day < timezone.localdate():
            raise ValidationError("Betaldagen kan inte ligga bakåt i tiden.")
        return day


class MarkForm(forms.Form):
    """Paid or failed, for the selected payments of a file that still wait for the bank."""

    payments = forms.ModelMultipleChoiceField(
        label="Utbetalningar",
        queryset=Payment.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Välj minst en utbetalning.",
            "invalid_choice": "Utbetalningen väntar inte längre på banken. Ladda om sidan.",
        },
    )
    outcome = forms.ChoiceField(label="Vad hände", choices=[("paid", "Utbetald"), ("failed", "Misslyckad")])
    paid_on = forms.DateField(
        label="Dag då banken betalade (för utbetalda)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Som på bankens kontoutdrag. Lämna tomt för betalfilens önskade betaldag.",
        error_messages={"invalid": "Skriv datumet som ÅÅÅÅ-MM-DD."},
    )
    reason = forms.CharField(
        label="Orsak (krävs för misslyckade)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Visas för attestanten när utbetalningen åter ligger för attest, t.ex. ”Bankgirot är avslutat”.",
    )

    def __init__(self, *args, batch, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payments"].queryset = batch.payments.filter(status=Payment.Status.EXPORTED)

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "failed" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Ange varför utbetalningen misslyckades.")
        if data.get("paid_on") and data["paid_on"] > timezone.localdate():
            self.add_error("paid_on", "Dagen då banken betalade kan inte ligga i framtiden.")
        return data


class StatusReportForm(forms.Form):
    report = forms.FileField(
        label="Statusrapport från banken (pain.002, XML)",
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
        help_text="Högst 5 MB. Betalningar som banken har genomfört markeras som utbetalda, avvisade som "
        "misslyckade. Om något i rapporten inte stämmer ändras ingenting.",
        error_messages={
            "required": "Välj statusrapporten som ska läsas in.",
            "empty": "Filen är tom, så den är ingen statusrapport. Inget har ändrats.",
        },
    )

    def clean_report(self):
        upload = self.cleaned_data["report"]
        if upload.size > STATUS_REPORT_MAX_BYTES:
            raise ValidationError(
                "Filen är större än 5 MB. En statusrapport för en betalfil är mycket mindre; "
                "kontrollera att det är rätt fil."
            )
        return upload


# --- the attestation queue ----------------------------------------------------------------


def _payments(filters, user):
    payments = (
        Payment.objects.filter(access.in_scope(user, "application__"))
        .select_related(
            "application__organisation__sponsor",
            "application__call__programme__committee",
            "application__assessment",
            "application__decision__meeting",
        )
        .annotate(process_pk=F("application__process__pk"))
    )
    status = filters.get("status") or Payment.Status.PLANNED
    if status != "all":
        payments = payments.filter(status=status)
    if filters.get("committee"):
        payments = payments.filter(application__call__programme__committee=filters["committee"])
    if filters.get("programme"):
        payments = payments.filter(application__call__programme=filters["programme"])
    if query := (filters.get("q") or "").strip():
        payments = payments.filter(
            Q(application__case_number__icontains=query)
            | Q(payee_name__icontains=query)
            | Q(application__organisation__name__icontains=query)
            | Q(application__organisation__sponsor__name__icontains=query)
        )
    return payments.order_by(*SORTS[filters.get("sort") or DEFAULT_SORT], "pk")


def _mark_refusals(payments, user):
    """Why the user may not attest each payment on the page, if so: the service's own answer
    (two-person rule, a decision not yet to be executed, amount limit, an account shared
    with another association), for the whole page in a fixed number of queries. Also the
    account each payment goes to: the one fixed at attestation, or the payee's approved
    account now, flagged when it is new."""
    planned = [payment for payment in payments if payment.status == Payment.Status.PLANNED]
    refusals = pay.attest_refusals(planned, user)
    new_since = timezone.now() - timezone.timedelta(days=payee_accounts.NEW_ACCOUNT_DAYS)
    for payment in payments:
        payment.refusal = refusals.get(payment.pk, "")
        payment.attestable = payment.status == Payment.Status.PLANNED and not payment.refusal
        payee = payment.application.organisation.payee
        if payment.payee_account:
            payment.account_text = f"{payment.get_payee_scheme_display()} {payment.payee_account}"
        else:
            payment.account_text = payee.payment_account
        approved = payee.account_approved_at
        fixed_before = payment.attested_at is not None and approved is not None and payment.attested_at < approved
        payment.new_account_on = approved if approved and approved >= new_since and not fixed_before else None
    return any(payment.attestable for payment in payments)


def _sort_links(request, current):
    """For each sortable column: the link that sorts by it (or reverses it), and the arrow."""
    links = {}
    for key in ("case", "amount", "decided"):
        params = request.GET.copy()
        params.pop("page", None)
        params["sort"] = f"-{key}" if current == key else key
        arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
        links[key] = {
            "url": f"?{params.urlencode()}",
            "arrow": arrow,
            "aria": "ascending" if arrow == "▲" else "descending" if arrow == "▼" else "none",
        }
    return links


def _waiting_for_file():
    return Payment.objects.filter(status=Payment.Status.ATTESTED, batch__isnull=True).aggregate(
        count=Count("pk"), total=Sum("amount")
    )


def _list_page(request, *, errors=(), selected=(), batch_form=None, status=200):
    data = request.GET.copy()
    data.setdefault("status", Payment.Status.PLANNED)
    filter_form = PaymentFilterForm(data)
    filter_form.fields["committee"].queryset = Committee.objects.filter(  # type: ignore[attr-defined]
        access.in_committees(request.user, "pk")
    ).order_by("name")
    filter_form.is_valid()
    filters = filter_form.cleaned_data
    page = Paginator(_payments(filters, request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    any_attestable = _mark_refusals(page.object_list, request.user)
    waiting = _waiting_for_file()
    page_params = request.GET.copy()
    page_params.pop("page", None)
    return render(
        request,
        "finance/payment_list.html",
        {
            "filter_form": filter_form,
            "status": filters.get("status") or Payment.Status.PLANNED,
            "page": page,
            "page_query": page_params.urlencode(),
            "query": request.GET.urlencode(),
            "sort_links": _sort_links(request, filters.get("sort") or DEFAULT_SORT),
            "any_attestable": any_attestable,
            "errors": errors,
            "selected": {str(pk) for pk in selected},
            "all_committees": bool(access.works_for_all_committees(request.user)),
            "waiting_count": waiting["count"],
            "waiting_total": waiting["total"] or ZERO,
            "batch_form": batch_form or BatchCreateForm(initial={"execution_date": timezone.localdate()}),
        },
        status=status,
    )


def _back_to_list(request):
    query = request.GET.urlencode()
    return redirect(reverse("finance:payments") + (f"?{query}" if query else ""))


@require_http_methods(["GET", "POST"])
@finance_only
def payments(request):
    """The queue; its form posts back here with action=attest and the selected payments."""
    if request.method == "GET":
        return _list_page(request)
    if request.POST.get("action") != "attest":
        return _list_page(request, errors=["Okänd åtgärd. Ladda om sidan och försök igen."], status=400)
    return _attest(request)


def _selected_ids(request):
    values = request.POST.getlist("payments")
    if not all(value.isdigit() for value in values):
        raise ValidationError("Markeringen kunde inte läsas. Ladda om sidan och försök igen.")
    return [int(value) for value in values]


def _attest(request):
    """Attest the selected payments, all of them or (on any refusal) none."""
    selected = request.POST.getlist("payments")
    try:
        attested = pay.payments_attest(payment_ids=_selected_ids(request), by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        return _list_page(request, errors=refusal_messages(exc), selected=selected, status=400)
    total = sum(payment.amount for payment in attested)
    messages.success(
        request,
        f"{len(attested)} {'utbetalning' if len(attested) == 1 else 'utbetalningar'} "
        f"attesterade, sammanlagt {_kronor(total)}. De väntar nu på en betalfil.",
    )
    return _back_to_list(request)


@require_POST
@finance_only
@all_committees_only
def batch_create(request):
    """Put every attested payment not yet in a file into a new payment file."""
    form = BatchCreateForm(request.POST)
    if form.is_valid():
        try:
            batch = payment_files.payment_file_create(
                by=request.user, execution_date=form.cleaned_data["execution_date"]
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                f"Betalfilen {batch.reference} är skapad med {batch.count} "
                f"{'utbetalning' if batch.count == 1 else 'utbetalningar'}, sammanlagt "
                f"{_kronor(batch.total)}. Hämta filen och skicka den till banken.",
            )
            return redirect("finance:batch", pk=batch.pk)
    return _list_page(request, batch_form=form, status=400)


def _kronor(amount):
    """An amount as the templates show it (floatformat:"2g"): "34 000,00 kr" in Swedish."""
    return f"{number_format(amount, 2, use_l10n=True, force_grouping=True)} kr"


# --- payment files -----------------------------------------------------------------------


@require_GET
@finance_only
@all_committees_only
def batch_list(request):
    batches = PaymentBatch.objects.select_related("created_by").order_by("-created_at", "-pk")
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "finance/batch_list.html", {"page": page})


def _batch(pk):
    return get_object_or_404(PaymentBatch.objects.select_related("created_by"), pk=pk)


def _batch_page(request, batch, *, mark_form=None, report_form=None, status=200):
    payments = (
        batch.payments.select_related("application__organisation")
        .annotate(process_pk=F("application__process__pk"))
        .order_by("application__case_number", "sequence", "pk")
    )
    return render(
        request,
        "finance/batch_detail.html",
        {
            "batch": batch,
            "payments": payments,
            "waiting": sum(1 for payment in payments if payment.status == Payment.Status.EXPORTED),
            "mark_form": mark_form or MarkForm(batch=batch),
            "report_form": report_form or StatusReportForm(),
        },
        status=status,
    )


@require_GET
@finance_only
@all_committees_only
def batch_detail(request, pk):
    return _batch_page(request, _batch(pk))


@require_GET
@finance_only
@all_committees_only
def batch_download(request, pk, kind):
    batch = _batch(pk)
    if kind not in FILE_KINDS:
        raise Http404("Betalfilen har ingen sådan fil.")
    return stored_file_response(request, lambda: payment_files.batch_file(batch, kind))


@require_POST
@finance_only
@all_committees_only
def batch_mark(request, pk):
    """The selected payments were paid, or failed (with the reason): the cases move on."""
    batch = _batch(pk)
    form = MarkForm(request.POST, batch=batch)
    if form.is_valid():
        ids = [payment.pk for payment in form.cleaned_data["payments"]]
        try:
            if form.cleaned_data["outcome"] == "paid":
                done = pay.payments_mark_paid(payment_ids=ids, by=request.user, on=form.cleaned_data["paid_on"])
                text = f"{len(done)} markerade som utbetalda."
            else:
                done = pay.payments_mark_failed(
                    payment_ids=ids, by=request.user, reason=form.cleaned_data["reason"].strip()
                )
                text = (
                    f"{len(done)} markerade som misslyckade. De ligger åter för attest i listan över "
                    "utbetalningar, med orsaken."
                )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            messages.success(request, text)
            return redirect("finance:batch", pk=batch.pk)
    return _batch_page(request, batch, mark_form=form, status=400)


@require_POST
@finance_only
@all_committees_only
def batch_status_report(request, pk):
    """Read the bank's status report for this file and mark what it says; all or nothing."""
    batch = _batch(pk)
    form = StatusReportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            report = payment_files.pain002_read(form.cleaned_data["report"].read())
            if report.original_message_id != batch.reference:
                raise ValidationError(
                    f"Statusrapporten gäller betalfilen ”{report.original_message_id}”, inte "
                    f"{batch.reference}. Läs in den på den betalfilens sida. Inget har ändrats."
                )
            paid, failed = pay.status_report_apply(report=report, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc, at="report")
        else:
            messages.success(
                request,
                f"Statusrapporten är inläst: {len(paid)} utbetalda och {len(failed)} "
                "misslyckade." + (" De misslyckade ligger åter för attest." if failed else ""),
            )
            return redirect("finance:batch", pk=batch.pk)
    return _batch_page(request, batch, report_form=form, status=400)


# --- the associations' bank accounts ------------------------------------------------------


class AccountRefusalForm(forms.Form):
    reason = forms.CharField(
        label="Skäl",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Föreningen får se skälet, t.ex. ”Bankgirot står inte i föreningens namn”.",
        error_messages={"required": "Skriv varför kontot inte godkänns. Föreningen får se skälet."},
    )


def _account_requests_page(request, *, errors=(), refusal_forms=None, status=200):
    """The pending requests, oldest first, with what finance needs to judge them — the
    association's documents, who asked in which role, whether another association already has
    the account — and the latest decisions. A fixed number of queries whatever their number."""
    pending = (
        AccountChangeRequest.objects.filter(status=AccountChangeRequest.Status.PENDING)
        .select_related("organisation", "requested_by")
        .order_by("requested_at", "pk")
    )
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    organisation_ids = {row.organisation_id for row in rows}
    roles = {
        (membership.user_id, membership.organisation_id): membership
        for membership in Membership.objects.filter(
            organisation__in=organisation_ids, user__in={row.requested_by_id for row in rows}
        )
    }
    files = {}
    for row in OrganisationFile.objects.filter(organisation__in=organisation_ids):  # newest first per kind
        files.setdefault(row.organisation_id, {}).setdefault(row.kind, row)
    shared = payee_accounts.shared_accounts([(row.scheme, row.number) for row in rows])
    member_of = set(Membership.objects.filter(user=request.user).values_list("organisation_id", flat=True))
    refusal_forms = refusal_forms or {}
    for row in rows:
        membership = roles.get((row.requested_by_id, row.organisation_id))
        row.requester_role = membership.get_role_display() if membership else "inte längre medlem"
        row.current_files = [files.get(row.organisation_id, {}).get(kind) for kind in OrganisationFile.Kind.values]
        row.also_at = [
            name
            for pk, name in shared.get((row.scheme, compact_account(row.scheme, row.number)), [])
            if pk != row.organisation_id
        ]
        if row.requested_by_id == request.user.pk:
            row.may_not = "Du begärde ändringen själv och får inte besluta om den (tvåpersonsregeln)."
        elif row.organisation_id in member_of:
            row.may_not = "Du tillhör föreningen och får inte besluta om dess bankkonto."
        else:
            row.may_not = ""
        row.refusal_form = refusal_forms.get(row.pk) or AccountRefusalForm(prefix=f"refuse-{row.pk}")
    decided = (
        AccountChangeRequest.objects.exclude(status=AccountChangeRequest.Status.PENDING)
        .select_related("organisation", "requested_by", "decided_by")
        .order_by("-decided_at", "-pk")[:20]
    )
    return render(
        request,
        "finance/account_requests.html",
        {
            "page": page,
            "rows": rows,
            "decided": decided,
            "errors": errors,
            "file_kinds": OrganisationFile.Kind.choices,
        },
        status=status,
    )


@require_GET
@finance_only
def account_requests(request):
    return _account_requests_page(request)


@require_POST
@finance_only
def account_request_decide(request, pk):
    """Approve (action=approve) or refuse with a reason (action=refuse) one request."""
    change = get_object_or_404(AccountChangeRequest.objects.select_related("organisation"), pk=pk)
    action = request.POST.get("action")
    form = AccountRefusalForm(request.POST, prefix=f"refuse-{change.pk}")
    try:
        if action == "approve":
            payee_accounts.account_change_approve(request=change, by=request.user)
            text = (
                f"{change.account_label} är godkänt för {change.organisation.name}. Utbetalningar som attesteras "
                "från och med nu går dit."
            )
        elif action == "refuse" and form.is_valid():
            payee_accounts.account_change_refuse(request=change, by=request.user, reason=form.cleaned_data["reason"])
            text = (
                f"Begäran om {change.account_label} för {change.organisation.name} är avslagen. "
                "Föreningen har meddelats."
            )
        elif action == "refuse":
            return _account_requests_page(request, refusal_forms={change.pk: form}, status=400)
        else:
            raise ValidationError("Okänd åtgärd. Ladda om sidan och försök igen.")
    except (ValidationError, PermissionDenied) as exc:
        return _account_requests_page(
            request, status=400, errors=[f"{change.organisation.name}: {error}" for error in refusal_messages(exc)]
        )
    messages.success(request, text)
    return redirect("finance:accounts")


account_urls = [
    path("konton/", account_requests, name="accounts"),
    path("konton/<int:pk>/", account_request_decide, name="account"),
]


# --- ledger files (bokföringsfiler) -------------------------------------------------------


@require_http_methods(["GET", "POST"])
@finance_only
@all_committees_only
def ledger_file_list(request):
    """The ledger files made so far, and a button that puts every voucher not yet sent in a new one."""
    error, status = None, 200
    if request.method == "POST":
        try:
            ledger_file = ledger_files.ledger_file_create(by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            error, status = " ".join(refusal_messages(exc)), 400
        else:
            messages.success(
                request,
                f"Bokföringsfilen {ledger_file.reference} är skapad med {ledger_file.count} "
                f"{'verifikation' if ledger_file.count == 1 else 'verifikationer'}. Hämta den "
                "och läs in den i ekonomisystemet.",
            )
            return redirect("finance:ledger_files")
    page = Paginator(
        LedgerFile.objects.select_related("created_by").order_by("-created_at", "-pk"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    waiting = Voucher.objects.filter(ledger_file__isnull=True).count()
    return render(
        request, "finance/ledger_file_list.html", {"page": page, "waiting": waiting, "error": error}, status=status
    )


@require_GET
@finance_only
@all_committees_only
def ledger_file_download(request, pk):
    ledger_file = get_object_or_404(LedgerFile, pk=pk)
    return stored_file_response(request, lambda: ledger_files.ledger_file_read(ledger_file))


# --- repayment claims (återkrav) ----------------------------------------------------------

CLAIM_STATUSES = [("open", "Obetalda"), ("repaid", "Återbetalda"), ("all", "Alla")]


class ClaimFilterForm(forms.Form):
    q = forms.CharField(label="Sök OCR-nummer eller diarienummer", required=False, max_length=40)
    status = forms.ChoiceField(label="Visa", required=False, choices=CLAIM_STATUSES)


class RepaymentForm(forms.Form):
    amount = forms.DecimalField(
        label="Inbetalt belopp (kr)",
        max_digits=14,
        decimal_places=2,
        error_messages={"required": "Ange hur mycket som kom in."},
    )
    received_on = forms.DateField(
        label="Dag då pengarna kom in",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": "Ange dagen då pengarna kom in.", "invalid": "Skriv datumet som ÅÅÅÅ-MM-DD."},
    )


def _claims():
    return RepaymentClaim.objects.select_related(
        "application__organisation", "application__call__programme__committee", "decided_by"
    ).annotate(process_pk=F("application__process__pk"), outstanding_amount=F("amount") - F("repaid_amount"))


@require_GET
@finance_only
def claim_list(request):
    """Every repayment claim finance follows until it is repaid: open ones first by due date."""
    form = ClaimFilterForm(request.GET or {"status": "open"})
    form.is_valid()
    query = (form.cleaned_data.get("q") or "").strip()
    # A search looks among every claim: an OCR number on a repayment may be for a repaid one.
    status = form.cleaned_data.get("status") or ("all" if query else "open")
    claims = _claims().filter(access.in_scope(request.user, "application__"))
    if query:
        # An OCR number as the bank prints it may have spaces; a case number has them.
        digits = "".join(query.split())
        claims = claims.filter(Q(ocr=digits) | Q(application__case_number__icontains=query))
    if status != "all":
        claims = claims.filter(status=status)
    claims = claims.order_by("status", "due_on", "pk")  # open before repaid, the earliest due first
    page = Paginator(claims, PAGE_SIZE).get_page(request.GET.get("page"))
    totals = RepaymentClaim.objects.filter(
        access.in_scope(request.user, "application__"), status=RepaymentClaim.Status.OPEN
    ).aggregate(count=Count("pk"), outstanding=Sum(F("amount") - F("repaid_amount")))
    page_params = request.GET.copy()
    page_params.pop("page", None)
    page_params["status"] = status
    return render(
        request,
        "finance/claim_list.html",
        {
            "filter_form": form,
            "status": status,
            "page": page,
            "today": timezone.localdate(),
            "page_query": page_params.urlencode(),
            "open_count": totals["count"],
            "open_outstanding": totals["outstanding"] or ZERO,
        },
    )


def _claim_page(request, claim, *, form=None, status=200):
    return render(
        request,
        "finance/claim_detail.html",
        {
            "claim": claim,
            "application": claim.application,
            "form": form or RepaymentForm(initial={"amount": claim.outstanding, "received_on": timezone.localdate()}),
            "events": claim.application.events.filter(action__startswith="Återbetalning").select_related("actor"),
            "letters": claim.application.documents.filter(kind=Document.Kind.REPAYMENT_LETTER),
            "today": timezone.localdate(),
            "payer_bankgiro": settings.PAYER_BANKGIRO,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@finance_only
def claim_detail(request, pk):
    """One claim: what was decided and why, what has come back, and a form to register a payment."""
    claim = get_object_or_404(_claims(), pk=pk)
    access.require(access.may_see_case(request.user, claim.application))
    if request.method == "GET":
        return _claim_page(request, claim)
    form = RepaymentForm(request.POST)
    if form.is_valid():
        try:
            claim = repayments.repayment_register(
                claim=claim,
                by=request.user,
                amount=form.cleaned_data["amount"],
                received_on=form.cleaned_data["received_on"],
            )
        except (ValidationError, PermissionDenied) as exc:
            refusal_to_form(form, exc)
        else:
            text = f"{_kronor(form.cleaned_data['amount'])} registrerat för {claim.application.case_number}."
            if claim.status == RepaymentClaim.Status.REPAID:
                text += " Återkravet är helt återbetalt."
            else:
                text += f" Kvar att betala: {_kronor(claim.outstanding)}."
            messages.success(request, text)
            return redirect("finance:claim", pk=claim.pk)
    return _claim_page(request, get_object_or_404(_claims(), pk=pk), form=form, status=400)


# config/urls.py puts these under finance's pages: /staff/utbetalningar/aterkrav/…
claim_urls = [
    path("aterkrav/", claim_list, name="claims"),
    path("aterkrav/<int:pk>/", claim_detail, name="claim"),
]

# … and /staff/utbetalningar/bokforingsfiler/…
ledger_urls = [
    path("bokforingsfiler/", ledger_file_list, name="ledger_files"),
    path("bokforingsfiler/<int:pk>/fil/", ledger_file_download, name="ledger_file"),
]
