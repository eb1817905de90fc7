"""The administrator's screens: committees, programmes and their configuration, calls."""

from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from . import admin_rows, calculators, models
from .identity import audit
from .validators import validate_logo


class CommitteeForm(forms.ModelForm):
    class Meta:
        model = models.Committee
        fields = "__all__"
        help_texts = {
            "appeal_text": "Ersätter standardtexten om vem som får överklaga och hur (laglighetsprövning enligt "
            "13 kap. kommunallagen). Lämna tomt för standardtexten. Förvaltningsrätten, dagen då "
            "protokollet tillkännagavs och sista dag för överklagande skrivs alltid ut efter texten.",
            "logo": "PNG eller JPEG, högst 1 MB. Visas i brevhuvudet, högst 16 mm hög.",
        }

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if isinstance(logo, UploadedFile):  # a new upload; a stored logo was checked when it came
            validate_logo(logo)
        return logo


class CommitteeMemberInline(admin.StackedInline):
    """The committee's members and substitutes, whose attendance and jäv the protocol records.
    A member who leaves is marked as no longer serving, never deleted: old protocols name them."""

    model = models.CommitteeMember
    fields = ["name", "party", "role", "email", "active"]
    extra = 1

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.Committee)
class CommitteeAdmin(admin.ModelAdmin):
    form = CommitteeForm
    inlines = [CommitteeMemberInline]
    list_display = ["code", "name", "municipality", "court"]
    fieldsets = [
        (None, {"fields": ["code", "name", "municipality", "contact_email", "contact_phone"]}),
        (
            "Brevtexter",
            {
                "description": "Det här står i nämndens brev: beslutsbrev, mottagningskvitton och beslut om återkrav.",
                "fields": ["address", "court", "notice_board", "appeal_text", "logo"],
            },
        ),
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases and meetings change only through the workflow and the decision makers' pages;
    the admin shows them but never edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent for audit, never added, changed or deleted here."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.CommitteeMeeting)
class CommitteeMeetingAdmin(ReadOnlyAdmin):
    """Meetings come into being with the committee's decisions. The day the protocol's approval
    was announced is entered by the decision maker on the meeting's staff page, which also
    sends its letters (and refuses to change the date once they have gone out); here it is
    only shown."""

    list_display = ["committee", "held_on", "announced_on", "appeal_deadline"]
    list_filter = ["committee"]
    date_hierarchy = "held_on"
    list_select_related = ["committee"]
    fields = ["committee", "held_on", "announced_on", "appeal_deadline", "staff_page"]
    readonly_fields = fields

    @admin.display(description="sista dag för överklagande")
    def appeal_deadline(self, obj):
        return obj.appeal_deadline or "–"

    @admin.display(description="tillkännagivande och beslutsbrev")
    def staff_page(self, obj):
        from django.urls import NoReverseMatch, reverse
        from django.utils.html import format_html

        try:
            url = reverse("meetings:detail", args=[obj.pk])
        except NoReverseMatch:
            return "–"
        return format_html('<a href="{}">Sammanträdets sida för beslutsfattare</a>', url)


class CallInline(admin.StackedInline):
    """The programme's calls, stacked: each input with its label, and narrow enough for a phone."""

    model = models.Call
    extra = 0


class ScoringCriterionInline(admin.StackedInline):
    """A programme's scoring criteria for assessment by several reviewers (issue 18)."""

    model = models.ScoringCriterion
    extra = 0


class ProgrammeForm(forms.ModelForm):
    """A programme's configuration as inputs, not JSON (grants.admin_rows): questions, payment
    plan, attachments and the eligibility check's questions as blocks, lists one item a line,
    the calculator's parameters as typed fields. Programme.clean() still checks the whole, and
    its errors land on these fields, which have the model fields' names."""

    application_questions = admin_rows.QuestionsField(
        prefix="questions",
        label="Frågor i ansökan",
        help_text='Programmets egna frågor, i ansökans steg "Frågor"; inga frågor: inget sådant steg. En fråga per '
        "block. Fyll i ett tomt block för att lägga till en fråga (spara för att få fler tomma block) och kryssa i "
        "”Ta bort” för att ta bort en. Nyckeln är frågans namn i systemet och ändras inte när frågan väl har "
        "besvarats. ”Visas bara om”: nyckeln för en annan fråga och det svar som visar den här frågan.",
    )
    # Declared fields take no default from the model: a new programme's are given here.
    payment_plan = admin_rows.PaymentPlanField(
        initial=calculators.default_payment_plan,
        label="Utbetalningsplan",
        help_text="Delar av beloppet i procent, tillsammans 100 %. Delar efter återrapport kommer efter delar vid "
        "beslut och kräver att återrapportering är påslagen.",
    )
    calculator_params = admin_rows.CalculatorParamsField(label="Parametrar för beräkningen")
    required_attachments = admin_rows.AttachmentsField(
        prefix="attachments",
        label="Bilagor som ska bifogas",
        help_text="Bilagor som ansökan frågar efter. En bilaga som måste bifogas hindrar att ansökan skickas in "
        "utan den.",
    )
    priority_areas = admin_rows.LinesField(
        label="Prioriterade områden", help_text="Ett per rad; den sökande väljer ett. Tomt: inget val."
    )
    target_groups = admin_rows.LinesField(
        label="Målgrupper", help_text="En per rad; den sökande väljer en. Tomt: inget val."
    )
    eligibility_questions = admin_rows.EligibilityQuestionsField(
        label="Frågor i kan-vi-söka-testet",
        help_text="Utöver föreningsfrågorna: ja/nej-frågor, det svar som krävs och vad den som svarar annorlunda får "
        "veta.",
    )
    follow_up_parts = admin_rows.follow_up_parts_field(
        initial=models.default_follow_up_parts,
        label="Återrapportens delar",
        help_text="Utöver vad som genomfördes och resultatet.",
    )

    class Meta:
        model = models.Programme
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The stored parameters are shown under the stored calculator.
        self.fields["calculator_params"].widget.calculator = self.instance.calculator  # type: ignore[attr-defined]

    def clean_calculator_params(self):
        chosen = self.cleaned_data.get("calculator")
        if not chosen:
            return self.instance.calculator_params  # the calculator field says what is wrong
        stored = self.instance.calculator_params if chosen == self.instance.calculator else {}
        field = self.fields["calculator_params"]
        return field.chosen(self.cleaned_data["calculator_params"], chosen, stored or {})  # type: ignore[attr-defined]


@admin.register(models.Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    form = ProgrammeForm
    list_display = ["name", "committee", "calculator", "delegation_limit", "is_active"]
    list_filter = ["committee", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CallInline, ScoringCriterionInline]


@admin.register(models.Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "programme",
        "year",
        "opens_on",
        "closes_on",
        "max_amount",
        "budget",
        "committed",
        "remaining",
    ]
    list_filter = ["programme", "year"]
    readonly_fields = ["committed"]

    @admin.display(description="kvar")
    def remaining(self, obj):
        return obj.remaining


@admin.register(models.AnnualBudget)
class AnnualBudgetAdmin(admin.ModelAdmin):
    """A committee's grant budget for a year, or a programme's share of it. Decisions must
    fit in it as well as in their call's budget."""

    list_display = ["year", "committee", "programme", "amount", "committed", "remaining"]
    list_filter = ["year", "committee"]
    list_select_related = ["committee", "programme"]
    readonly_fields = ["committed"]

    @admin.display(description="kvar")
    def remaining(self, obj):
        return obj.remaining


def _scope_described(scope):
    """A staff member's committees as the audit trail writes them: their codes, or "alla"."""
    if scope is None:
        return []
    if scope.all_committees:
        return ["alla"]
    return sorted(scope.committees.values_list("code", flat=True))


@admin.register(models.StaffScope)
class StaffScopeAdmin(admin.ModelAdmin):
    """In which committees a staff member works: her roles (groups) say what she may do, this
    says where. No row: no committee's cases (a superuser sees all). Single sign-on sets it
    from the identity provider's groups (rollkopplingar) at every sign-in; a change here is
    audited as a role change, with the administrator as actor."""

    list_display = ["user", "all_committees", "committee_codes"]
    list_filter = ["all_committees", "committees"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["committees"]
    fields = ["user", "all_committees", "committees"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("committees")

    @admin.display(description="nämnder")
    def committee_codes(self, obj):
        return ", ".join(sorted(committee.code for committee in obj.committees.all())) or "–"

    def save_related(self, request, form, formsets, change):
        # form.initial holds the row as it was (the committees as objects).
        if not change:
            before = []
        elif form.initial.get("all_committees"):
            before = ["alla"]
        else:
            before = sorted(committee.code for committee in form.initial.get("committees", []))
        super().save_related(request, form, formsets, change)
        after = _scope_described(form.instance)
        if before != after:
            audit.record(
                audit.Kind.ROLE_CHANGE,
                request=request,
                user=form.instance.user,
                actor=request.user,
                details={"committees_from": before, "committees_to": after, "by": "admin"},
            )


@admin.register(models.AttestationLimit)
class AttestationLimitAdmin(admin.ModelAdmin):
    list_display = ["user", "max_amount"]
    autocomplete_fields = ["user"]


@admin.register(models.PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    """Payment files are made and settled on finance's pages; here they are only shown."""

    list_display = ["reference", "created_at", "created_by", "execution_date", "count", "total", "status"]
    list_filter = ["status"]
    list_select_related = ["created_by"]


def _membership_audit(request, membership, change, before):
    """Memberships changed in the admin are written to the audit trail as the portal's are,
    with the administrator as the one who did it."""
    after = "removed" if change == "removed" else f"{membership.status}:{membership.role}"
    audit.record(
        audit.Kind.MEMBERSHIP_CHANGE,
        request=request,
        user=membership.user,
        actor=request.user,
        details={
            "organisation": membership.organisation.org_number or membership.organisation.name,
            "change": f"admin: {change}",
            "from": before,
            "to": after,
        },
    )


class MembershipInline(admin.TabularInline):
    model = models.Membership
    fk_name = "organisation"
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "status", "confirmed_by", "confirmed_at"]
    readonly_fields = ["confirmed_by", "confirmed_at"]


class OrganisationFileInline(ReadOnlyInline):
    """The statutes and minutes as uploaded in the portal: immutable, with their checksum."""

    model = models.OrganisationFile
    extra = 0
    fields = readonly_fields = ["kind", "filename", "uploaded_by", "uploaded_at", "sha256"]
    ordering = ["kind", "-uploaded_at"]


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "org_number", "verification", "bankgiro", "plusgiro", "iban", "sponsor"]
    list_filter = ["kind", "verification"]
    search_fields = ["name", "org_number"]
    inlines = [MembershipInline, OrganisationFileInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not models.Membership:
            return super().save_formset(request, form, formset, change)
        before = {f.instance.pk: f"{f.initial.get('status')}:{f.initial.get('role')}" for f in formset.initial_forms}
        super().save_formset(request, form, formset, change)
        for membership in formset.new_objects:
            _membership_audit(request, membership, "created", "")
        for membership, _fields in formset.changed_objects:
            _membership_audit(request, membership, "changed", before.get(membership.pk, ""))
        for membership in formset.deleted_objects:
            _membership_audit(request, membership, "removed", before.get(membership.pk, ""))

    # The account changes only by a request that finance approves (Bankkonton under Utbetalningar),
    # and the verification only in the officers' list (Föreningar att verifiera), which audits it.
    readonly_fields = [
        "bankgiro",
        "plusgiro",
        "iban",
        "account_approved_at",
        "verification",
        "verified_at",
        "verified_by",
        "refusal_reason",
    ]


@admin.register(models.AccountChangeRequest)
class AccountChangeRequestAdmin(ReadOnlyAdmin):
    """The audit trail of the associations' accounts: requested in the portal, decided by finance."""

    list_display = [
        "organisation",
        "scheme",
        "number",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["status"]
    list_select_related = ["organisation", "requested_by", "decided_by"]
    search_fields = ["organisation__name", "organisation__org_number", "number"]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who acts for which organisation. Members confirm each other in the portal; here the
    administrator can help, e.g. when an association's only contact has left."""

    list_display = ["user", "organisation", "role", "status", "confirmed_by", "confirmed_at"]
    list_filter = ["status", "role"]
    list_select_related = ["user", "organisation", "confirmed_by"]
    search_fields = [
        "user__username",
        "user__email",
        "user__first_name",
        "user__last_name",
        "organisation__name",
        "organisation__org_number",
    ]
    autocomplete_fields = ["user", "organisation"]
    readonly_fields = ["confirmed_by", "confirmed_at"]

    def save_model(self, request, obj, form, change):
        before = f"{form.initial.get('status')}:{form.initial.get('role')}" if change else ""
        if obj.status == models.Membership.Status.CONFIRMED and obj.confirmed_at is None:
            obj.confirmed_by, obj.confirmed_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)
        _membership_audit(request, obj, "changed" if change else "created", before)

    def delete_model(self, request, obj):
        before = f"{obj.status}:{obj.role}"
        super().delete_model(request, obj)
        _membership_audit(request, obj, "removed", before)

    def delete_queryset(self, request, queryset):
        removed = [(m, f"{m.status}:{m.role}") for m in queryset.select_related("user", "organisation")]
        super().delete_queryset(request, queryset)
        for membership, before in removed:
            _membership_audit(request, membership, "removed", before)


@admin.register(models.Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations are sent from the portal. The token is a secret and never shown; deleting
    an invitation that is not yet used withdraws it."""

    list_display = ["email", "organisation", "role", "invited_by", "created_at", "accepted_by", "accepted_at"]
    list_filter = ["role"]
    list_select_related = ["organisation", "invited_by", "accepted_by"]
    search_fields = ["email", "organisation__name"]
    exclude = ["token"]

    def has_delete_permission(self, request, obj=None):
        return obj is None or obj.accepted_at is None


@admin.register(models.ApplicantSettings)
class ApplicantSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "optional_emails"]
    list_filter = ["language", "optional_emails"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


@admin.register(models.Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["case_number", "title", "organisation", "status", "requested_amount"]
    list_filter = ["status", "call__programme"]
    search_fields = ["case_number", "title", "organisation__name"]
    list_select_related = ["organisation"]


@admin.register(models.CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "application", "action", "actor", "from_state", "to_state"]
    list_select_related = ["application", "actor"]


class FollowUpCostLineInline(ReadOnlyInline):
    model = models.FollowUpCostLine
    extra = 0
    fields = readonly_fields = ["label", "budgeted", "actual"]


@admin.register(models.FollowUpReport)
class FollowUpReportAdmin(ReadOnlyAdmin):
    """Reports are written in the portal and reviewed in the review task; here they are only shown."""

    list_display = ["application", "status", "due_on", "submitted_at", "reviewed_by"]
    list_filter = ["status"]
    list_select_related = ["application", "reviewed_by"]
    search_fields = ["application__case_number", "application__organisation__name"]
    inlines = [FollowUpCostLineInline]


@admin.register(models.RepaymentClaim)
class RepaymentClaimAdmin(ReadOnlyAdmin):
    """Claims are decided in the review task and followed by finance on its pages; here only shown."""

    list_display = ["application", "amount", "repaid_amount", "outstanding", "due_on", "status", "repaid_on"]
    list_filter = ["status"]
    list_select_related = ["application"]
    search_fields = ["application__case_number", "application__organisation__name", "ocr"]

    @admin.display(description="kvar att betala")
    def outstanding(self, obj):
        return obj.outstanding


class VoucherLineInline(ReadOnlyInline):
    model = models.VoucherLine
    fields = readonly_fields = ["account", "amount", "application", "cost_centre", "project", "text"]
    extra = 0


@admin.register(models.Voucher)
class VoucherAdmin(ReadOnlyAdmin):
    """The ledger's vouchers are booked by grants.services.ledger only: here only shown, for audit."""

    list_display = ["__str__", "date", "registered_on", "text", "ledger_file"]
    list_filter = ["series"]
    date_hierarchy = "date"
    list_select_related = ["ledger_file"]
    search_fields = ["text", "lines__application__case_number"]
    inlines = [VoucherLineInline]
