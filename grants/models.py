"""The grant domain: who gives money, to whom, under which rules, and what happened.

State changes happen only through the transitions declared here (viewflow.fsm),
and transitions are called only from the services in grants/services/, which lock
the row, check the acting user's permission and write a CaseEvent.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow import fsm

from . import calculators, limits, questions
from .events import action_label
from .validators import (
    compact_account,
    validate_bankgiro,
    validate_choice_list,
    validate_eligibility_questions,
    validate_iban,
    validate_orgnr,
    validate_payment_plan,
    validate_plusgiro,
    validate_required_attachments,
)

ZERO = Decimal("0.00")


def money_field(**kwargs):
    # Öre-exact amounts: never float.
    return models.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _access():
    """grants.access, imported when a transition asks who may take it: access reads these
    models, so it cannot be imported before them."""
    from . import access

    return access


# The transitions' permissions: each asks its rule in grants.access.


def _by_officer(instance, user):
    return _access().is_officer(user)


def _by_case_handler(instance, user):
    return _access().is_case_handler(user)


def _by_decider(instance, user):
    """Who may record a decision: the case handlers, and the committee's secretary recording
    its decision from the meeting (the service says which of them for which case)."""
    access = _access()
    return access.is_case_handler(user) or access.is_secretary(user)


def _by_finance(instance, user):
    return _access().is_finance(user)


def _by_applicant(application, user):
    return _access().is_applicant(user, application)


def _by_sponsor_contact(application, user):
    return _access().is_sponsor_contact(user, application)


def _by_reporting_applicant(report, user):
    return _access().is_applicant(user, report.application)


def _by_account_decider(request, user):
    return _access().may_decide_account_change(user, request)


# --- organisation and configuration ----------------------------------------------------

# What a programme's follow-up report asks for beyond what was done and what it gave.
FOLLOW_UP_PARTS = {
    "participants_by_age_gender": "deltagare per åldersgrupp och kön",
    "sessions": "antal sammankomster",
    "financial_statement": "ekonomisk redovisning: budget mot utfall och egen insats",
}
AGE_BANDS = ["0–6", "7–12", "13–16", "17–20", "21–25", "26–64", "65–"]
GENDERS = {"girls": _("flickor/kvinnor"), "boys": _("pojkar/män"), "other": _("annat/vill inte ange")}


def default_follow_up_parts():
    return ["financial_statement"]


class Committee(models.Model):
    """A nämnd that owns programmes and decides above the officers' delegation."""

    code = models.CharField("förkortning", max_length=10, unique=True, help_text="Används i diarienumret, t.ex. KFN.")
    name = models.CharField("namn", max_length=200)
    municipality = models.CharField("kommun", max_length=100, default="Nacka kommun")
    contact_email = models.EmailField("kontakt-e-post", blank=True)
    contact_phone = models.CharField("telefon", max_length=40, blank=True)
    # What the letters say, per committee (in Swedish; empty means the standard text).
    address = models.TextField("postadress", blank=True, help_text="Visas i brevhuvudet och under Kontakt.")
    court = models.CharField(
        "förvaltningsrätt",
        max_length=100,
        default="Förvaltningsrätten i Stockholm",
        help_text="Domstolen som prövar överklaganden (laglighetsprövning).",
    )
    notice_board = models.CharField(
        "anslagstavla",
        max_length=200,
        default="kommunens digitala anslagstavla på webbplatsen",
        help_text="Var tillkännagivandet om justerat protokoll finns.",
    )
    appeal_text = models.TextField(
        "egen text om överklagande",
        blank=True,
        help_text="Lämna tomt för standardtexten om laglighetsprövning enligt 13 kap. kommunallagen.",
    )
    logo = models.FileField("logotyp (PNG eller JPEG)", upload_to="committee-logos/", blank=True)

    class Meta:
        verbose_name = "nämnd"
        verbose_name_plural = "nämnder"
        ordering = ["name"]

    def __str__(self):
        return self.name


class CommitteeMember(models.Model):
    """A member of a committee (ledamot or ersättare), whose attendance and jäv the protocol records.
    Politicians need no account: the secretary records them."""

    class Role(models.TextChoices):
        CHAIR = "chair", _("Ordförande")
        VICE_CHAIR = "vice_chair", _("Vice ordförande")
        MEMBER = "member", _("Ledamot")
        SUBSTITUTE = "substitute", _("Ersättare")

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="members", verbose_name="nämnd")
    name = models.CharField("namn", max_length=200)
    party = models.CharField("parti", max_length=60, blank=True)
    email = models.EmailField("e-post", blank=True, help_text="Föredragningslistan skickas hit.")
    role = models.CharField("uppdrag", max_length=20, choices=Role.choices, default=Role.MEMBER)
    active = models.BooleanField("har uppdraget nu", default=True)

    class Meta:
        verbose_name = "ledamot"
        verbose_name_plural = "ledamöter"
        ordering = ["committee", "name"]

    def __str__(self):
        return f"{self.name} ({self.get_role_display().lower()})"

    @property
    def votes(self):
        """Ledamöter decide; an ersättare only when serving for an absent member."""
        return self.role != self.Role.SUBSTITUTE


class CommitteeMeeting(models.Model):
    """A committee meeting: its agenda (föredragningslista), the members present, and its
    protocol, whose numbered paragraphs hold the decisions. The appeal period starts when the
    approval of its protocol is announced on the notice board."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField("sammanträdesdatum")
    place = models.CharField("plats", max_length=200, blank=True)
    agenda_sent_at = models.DateTimeField("föredragningslistan skickad", null=True, blank=True)
    present = models.ManyToManyField(CommitteeMember, blank=True, related_name="+", verbose_name="närvarande")
    protocol_recorded_at = models.DateTimeField("besluten protokollförda", null=True, blank=True)
    secretary = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="sekreterare",
    )
    first_paragraph = models.PositiveIntegerField(
        "första paragrafnummer",
        default=1,
        help_text="Protokollets paragrafer numreras i följd från detta nummer (fortlöpande under året).",
    )
    announced_on = models.DateField(
        "protokollet tillkännagivet",
        null=True,
        blank=True,
        help_text="Dagen då det anslogs att protokollet har justerats.",
    )

    class Meta:
        verbose_name = "sammanträde"
        verbose_name_plural = "sammanträden"
        ordering = ["-held_on"]
        constraints = [models.UniqueConstraint(fields=["committee", "held_on"], name="one_meeting_per_day")]
        permissions = [("keep_protocol", "Kan föra nämndens föredragningslista och protokoll")]

    def __str__(self):
        return f"{self.committee.code} {self.held_on:%Y-%m-%d}"

    def clean(self):
        if self.announced_on and self.held_on and self.announced_on < self.held_on:
            raise ValidationError({"announced_on": "Protokollet kan inte ha tillkännagetts före sammanträdet."})

    @property
    def appeal_deadline(self):
        """Three weeks from the announcement (KL 13 kap. 6 §), when it is known."""
        if self.announced_on is None:
            return None
        return self.announced_on + timezone.timedelta(weeks=3)

    @property
    def is_held(self):
        """The secretary has recorded the protocol's decisions."""
        return self.protocol_recorded_at is not None


class Programme(models.Model):
    """A bidragsform. Everything that differs between programmes is data here."""

    class ApplicantKind(models.TextChoices):
        ASSOCIATIONS = "associations", _("Registrerade föreningar")
        ASSOCIATIONS_AND_GROUPS = "associations_and_groups", _("Föreningar och grupper med medsökare")

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="programmes", verbose_name="nämnd")
    slug = models.SlugField(unique=True)
    name = models.CharField("namn", max_length=200)
    description = models.TextField("beskrivning", blank=True)
    # What the public catalogue and the eligibility check tell a visitor.
    purpose = models.TextField("syfte", blank=True, help_text="Vad bidraget ska åstadkomma, i klarspråk.")
    what_to_attach = models.TextField(
        "vad som ska bifogas", blank=True, help_text="En rad per bilaga, t.ex. stadgar, senaste årsmötesprotokoll."
    )
    min_members = models.PositiveIntegerField("minsta antal medlemmar", null=True, blank=True)
    eligibility_questions = models.JSONField(
        "frågor i kan-vi-söka-testet",
        default=list,
        blank=True,
        help_text='Utöver föreningsfrågorna: [{"question": "Bedriver ni verksamhet i kommunen?", '
        '"answer": "ja", "otherwise": "Bidraget går bara till verksamhet i kommunen."}].',
    )
    who_may_apply = models.CharField(
        "vem får söka", max_length=30, choices=ApplicantKind.choices, default=ApplicantKind.ASSOCIATIONS
    )
    calculator = models.CharField(
        "beloppsberäkning", max_length=40, choices=calculators.CHOICES, default=calculators.REQUESTED
    )
    calculator_params = models.JSONField(
        "parametrar för beräkningen",
        default=dict,
        blank=True,
        help_text='T.ex. {"base": "5000", "per_member": "50"} eller {"per_participant_session": "12"}.',
    )
    delegation_limit = money_field(
        verbose_name="delegationsgräns (kr)",
        validators=[MinValueValidator(ZERO)],
        help_text="Handläggaren beslutar upp till och med detta belopp; över det beslutar nämnden.",
    )
    delegation_point = models.CharField(
        "delegationspunkt", max_length=40, blank=True, help_text="Punkt i delegationsordningen, t.ex. 4.2."
    )
    payment_plan = models.JSONField(
        "utbetalningsplan",
        default=calculators.default_payment_plan,
        help_text='Lista med delar, t.ex. [{"percent": 85, "release": "decision"}, '
        '{"percent": 15, "release": "follow_up"}].',
    )
    follow_up_required = models.BooleanField("återrapportering krävs", default=True)
    follow_up_days_after_end = models.PositiveIntegerField(
        "dagar efter periodens slut till återrapportering", default=60
    )
    follow_up_parts = models.JSONField(
        "återrapportens delar",
        default=default_follow_up_parts,
        blank=True,
        help_text="Utöver vad som genomfördes och resultatet: lista med "
        + ", ".join(f'"{key}" ({label})' for key, label in FOLLOW_UP_PARTS.items())
        + ".",
    )
    priority_areas = models.JSONField(
        "prioriterade områden",
        default=list,
        blank=True,
        help_text='Lista som sökande väljer ur, t.ex. ["Barn och unga", "Jämställdhet"]. Tom lista: inget val.',
    )
    target_groups = models.JSONField(
        "målgrupper",
        default=list,
        blank=True,
        help_text='Lista som sökande väljer ur, t.ex. ["Barn 7–12 år", "Unga 13–25 år"]. Tom lista: inget val.',
    )
    application_questions = models.JSONField(
        "frågor i ansökan",
        default=list,
        blank=True,
        help_text=questions.HELP_TEXT,
    )
    # The attachments the programme asks for: [{"key": "budget", "label": "Projektbudget",
    # "label_en": "Project budget", "required": true}] (issue 18).
    required_attachments = models.JSONField("bilagor som ska bifogas", default=list, blank=True)
    expense_account = models.CharField(
        "bokföringskonto",
        max_length=6,
        default="4990",
        help_text="Kostnadskontot som bidragen bokförs på i SIE-filen till ekonomisystemet.",
        validators=[RegexValidator(r"^\d{4,6}$", "Ett konto är 4–6 siffror.")],
    )
    accounting_code = models.CharField(
        "projektkod i ekonomisystemet",
        max_length=20,
        blank=True,
        help_text="Objektet i projektdimensionen som bidragen bokförs på. Tom: bidragsformens kortnamn (slug).",
        validators=[RegexValidator(r"^[A-Za-z0-9_.-]+$", "En projektkod är bokstäver a–z, siffror, - _ och punkt.")],
    )
    service_days = models.PositiveIntegerField(
        "servicemål (dagar)",
        default=14,
        validators=[MinValueValidator(1)],
        help_text="Så många dagar får en uppgift i ett ärende vänta innan handläggarna påminns per e-post.",
    )
    is_active = models.BooleanField("aktiv", default=True)
    # Assessment by several reviewers (issue 18): with scoring criteria, the officer's proposal
    # waits for this many submitted reviews. Without criteria the single assessment stands.
    reviewers_required = models.PositiveSmallIntegerField(
        "antal granskare",
        default=0,
        help_text="Så många granskare ska poängsätta ansökan mot bedömningskriterierna innan handläggaren "
        "skriver sitt förslag. 0: ingen granskning.",
    )

    class Meta:
        verbose_name = "bidragsform"
        verbose_name_plural = "bidragsformer"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        try:
            # An unknown calculator is reported by the field's choices; only known ones check params.
            if self.calculator in dict(calculators.CHOICES):
                calculators.get(self.calculator).check_params(self.calculator_params or {})
        except ValidationError as exc:
            errors["calculator_params"] = exc.messages
        try:
            validate_eligibility_questions(self.eligibility_questions)
        except ValidationError as exc:
            errors["eligibility_questions"] = exc.messages
        for field in ("follow_up_parts", "priority_areas", "target_groups"):
            try:
                validate_choice_list(
                    getattr(self, field), allowed=FOLLOW_UP_PARTS if field == "follow_up_parts" else None
                )
            except ValidationError as exc:
                errors[field] = exc.messages
        try:
            questions.validate_questions(self.application_questions)
        except ValidationError as exc:
            errors["application_questions"] = exc.messages
        try:
            validate_required_attachments(self.required_attachments)
        except ValidationError as exc:
            errors["required_attachments"] = exc.messages
        try:
            validate_payment_plan(self.payment_plan)
        except ValidationError as exc:
            errors["payment_plan"] = exc.messages
        else:
            if not self.follow_up_required and any(p["release"] == "follow_up" for p in self.payment_plan):
                errors["payment_plan"] = [
                    "En del som betalas ut efter återrapportering kräver att återrapportering är påslagen."
                ]
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # Programme configuration is data an administrator edits: validate on every save.
        self.full_clean()
        super().save(*args, **kwargs)

    @property
    def accepts_informal_groups(self):
        return self.who_may_apply == self.ApplicantKind.ASSOCIATIONS_AND_GROUPS

    def get_calculator(self):
        return calculators.get(self.calculator)

    @property
    def project_code(self):
        """The programme's object in the ledger's project dimension."""
        return self.accounting_code or self.slug[:20].upper()


def _save_keeping_committed(instance, args, kwargs):
    """Save a budget row without writing `committed`: only budget_commit's F() update does,
    under its lock. An admin who opened the form before a decision was made would otherwise
    put back the amount committed when the form was read."""
    if not instance._state.adding and kwargs.get("update_fields") is None:
        kwargs["update_fields"] = [
            field.name
            for field in instance._meta.concrete_fields
            if not field.primary_key and field.name != "committed"
        ]
    return args, kwargs


class Call(models.Model):
    """An utlysning: a period in which one programme takes applications, with its budget."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="calls", verbose_name="bidragsform")
    title = models.CharField("rubrik", max_length=200)
    year = models.PositiveIntegerField("budgetår")
    opens_on = models.DateField("öppnar")
    closes_on = models.DateField("sista ansökningsdag")
    max_amount = money_field(verbose_name="högsta belopp per ansökan", validators=[MinValueValidator(Decimal("1"))])
    budget = money_field(verbose_name="budget", validators=[MinValueValidator(ZERO)])
    # What decisions have granted from the budget. Kept by grants.services.budgets under a
    # row lock; the database refuses any update that would take it past the budget.
    committed = money_field(verbose_name="beviljat hittills", default=ZERO, editable=False)

    class Meta:
        verbose_name = "utlysning"
        verbose_name_plural = "utlysningar"
        ordering = ["closes_on"]
        indexes = [models.Index(fields=["year"], name="call_year")]
        constraints = [
            models.CheckConstraint(condition=Q(closes_on__gte=models.F("opens_on")), name="call_closes_after_opening"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="call_budget_not_negative"),
            models.CheckConstraint(
                condition=Q(committed__gte=0, committed__lte=models.F("budget")), name="call_budget_not_overcommitted"
            ),
        ]

    def __str__(self):
        return f"{self.programme.name}: {self.title}"

    def is_open(self, on=None):
        on = on or timezone.localdate()
        return self.opens_on <= on <= self.closes_on

    def save(self, *args, **kwargs):
        args, kwargs = _save_keeping_committed(self, args, kwargs)
        super().save(*args, **kwargs)

    def clean(self):
        if self.budget is not None and self.budget < self.committed:
            raise ValidationError(
                {"budget": f"Budgeten kan inte vara lägre än det som redan är beviljat ({self.committed} kr)."}
            )

    @property
    def remaining(self):
        return self.budget - self.committed


class AnnualBudget(models.Model):
    """A committee's grant budget for a year, or one programme's share of it. A decision
    must fit in its call's budget and in every annual budget set above the call."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="budgets", verbose_name="nämnd")
    programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="budgets",
        verbose_name="bidragsform",
        help_text="Tomt: nämndens hela bidragsbudget för året.",
    )
    year = models.PositiveIntegerField("budgetår")
    amount = money_field(verbose_name="budget", validators=[MinValueValidator(ZERO)])
    committed = money_field(verbose_name="beviljat hittills", default=ZERO, editable=False)

    class Meta:
        verbose_name = "årsbudget"
        verbose_name_plural = "årsbudgetar"
        ordering = ["year", "committee", "programme"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "year"], condition=Q(programme__isnull=True), name="one_committee_budget_a_year"
            ),
            models.UniqueConstraint(
                fields=["programme", "year"], condition=Q(programme__isnull=False), name="one_programme_budget_a_year"
            ),
            models.CheckConstraint(
                condition=Q(committed__gte=0, committed__lte=models.F("amount")), name="annual_budget_not_overcommitted"
            ),
        ]

    def __str__(self):
        return f"{self.programme or self.committee} {self.year}"

    def save(self, *args, **kwargs):
        args, kwargs = _save_keeping_committed(self, args, kwargs)
        super().save(*args, **kwargs)

    def clean(self):
        if self.programme_id and self.committee_id and self.programme.committee_id != self.committee_id:
            raise ValidationError({"programme": "Bidragsformen hör till en annan nämnd."})
        if self.amount is not None and self.amount < self.committed:
            raise ValidationError(
                {"amount": f"Budgeten kan inte vara lägre än det som redan är beviljat ({self.committed} kr)."}
            )

    @property
    def remaining(self):
        return self.amount - self.committed


class PayeeScheme(models.TextChoices):
    BANKGIRO = "bankgiro", "Bankgiro"
    PLUSGIRO = "plusgiro", "Plusgiro"
    IBAN = "iban", "IBAN"


def account_masked(scheme, number):
    """An account as those who may not see it whole see it: "Bankgiro ****1055"."""
    if not number:
        return ""
    compact = "".join(ch for ch in number if ch.isalnum())
    return f"{PayeeScheme(scheme).label} ****{compact[-4:]}"


class Organisation(models.Model):
    """A förening, or an informal group (no organisationsnummer) that applies with a sponsor."""

    class Kind(models.TextChoices):
        ASSOCIATION = "association", _("Förening")
        INFORMAL_GROUP = "informal_group", _("Grupp utan organisationsnummer")

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Väntar på verifiering")
        VERIFIED = "verified", _("Verifierad")
        REFUSED = "refused", _("Inte verifierad")

    kind = models.CharField("typ", max_length=20, choices=Kind.choices, default=Kind.ASSOCIATION)
    name = models.CharField("namn", max_length=200)
    org_number = models.CharField(
        "organisationsnummer", max_length=11, blank=True, validators=[validate_orgnr], help_text="NNNNNN-NNNN"
    )
    bankgiro = models.CharField("bankgiro", max_length=9, blank=True, validators=[validate_bankgiro])
    plusgiro = models.CharField("plusgiro", max_length=10, blank=True, validators=[validate_plusgiro])
    iban = models.CharField(
        "IBAN",
        max_length=42,
        blank=True,
        validators=[validate_iban],
        help_text="Bara om föreningen saknar bankgiro och plusgiro.",
    )
    # The account above is the approved one: it changes only when finance approves an
    # AccountChangeRequest (grants.services.payee_accounts), which sets this time.
    account_approved_at = models.DateTimeField("kontot godkänt", null=True, blank=True)
    sponsor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sponsored_groups",
        verbose_name="medsökande förening",
        limit_choices_to={"kind": "association"},
    )
    email = models.EmailField("e-post", blank=True)
    phone = models.CharField("telefon", max_length=40, blank=True)
    street_address = models.CharField("utdelningsadress", max_length=200, blank=True)
    postal_code = models.CharField("postnummer", max_length=6, blank=True)
    city = models.CharField("postort", max_length=100, blank=True)
    district = models.CharField("kommundel", max_length=100, blank=True)
    # The board as the association states it: [{"name": "Anna Andersson", "role": "ordförande"}, …].
    board = models.JSONField("styrelse", default=list, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        through_fields=("organisation", "user"),
        related_name="organisations",
    )
    # Whether an officer has seen the association's statutes and minutes and found that it
    # is who it says it is. An association registered in the portal starts unverified
    # (grants.services.organisations); one the municipality enters itself (the admin, an
    # import) is verified. Until then its drafts cannot be submitted (access.may_submit_for).
    # An informal group's own state is not used: the payee, its sponsor, is the one verified.
    verification = models.CharField(
        "verifiering", max_length=12, choices=Verification.choices, default=Verification.VERIFIED
    )
    verified_at = models.DateTimeField("verifierad", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="verifierad av",
    )
    refusal_reason = models.TextField("skäl att inte verifiera", blank=True, max_length=1000)
    registered_at = models.DateTimeField("registrerad", default=timezone.now)

    class Meta:
        verbose_name = "förening"
        verbose_name_plural = "föreningar"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["org_number"], condition=~Q(org_number=""), name="unique_org_number"),
            models.CheckConstraint(
                condition=Q(kind="informal_group", org_number="", sponsor__isnull=False)
                | Q(kind="association", sponsor__isnull=True) & ~Q(org_number=""),
                name="association_has_orgnr_group_has_sponsor",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.kind == self.Kind.ASSOCIATION:
            if not self.org_number:
                raise ValidationError({"org_number": "En förening måste ha ett organisationsnummer."})
            if self.sponsor_id:
                raise ValidationError({"sponsor": "Bara grupper utan organisationsnummer har medsökare."})
        else:
            if self.org_number:
                raise ValidationError({"org_number": "En grupp utan organisationsnummer ska inte ha något."})
            if not self.sponsor_id:
                raise ValidationError(
                    {"sponsor": "En grupp utan organisationsnummer måste söka med en medsökande förening."}
                )

    @property
    def payee(self):
        """Who receives the money: the association itself, or an informal group's sponsor."""
        return self.sponsor if self.kind == self.Kind.INFORMAL_GROUP else self

    @property
    def payment_account(self):
        """The payee's account as people read it ("Bankgiro 5050-1055"), or "" if none."""
        account = self.payee.account()
        return f"{account[0].label} {account[1]}" if account else ""

    def account(self):
        """(scheme, number) of this organisation's own account: bankgiro before plusgiro
        before IBAN, or None."""
        for scheme in PayeeScheme:
            if getattr(self, scheme.value):
                return scheme, getattr(self, scheme.value)
        return None

    def check_payee_account(self):
        """The payee's account, validated, as (name, scheme, compact number). The money goes
        to the association's own account, or for an informal group to its sponsor's."""
        payee = self.payee
        account = payee.account()
        whose = f"{payee.name}" + (f" (medsökare för {self.name})" if payee != self else "")
        if account is None:
            raise ValidationError(f"{whose} saknar bankgiro, plusgiro och IBAN att betala ut bidraget till.")
        scheme, number = account
        try:
            payee._meta.get_field(scheme.value).run_validators(number)
        except ValidationError as exc:
            raise ValidationError(f"{whose}: {exc.messages[0]}")
        return payee.name, scheme, compact_account(scheme.value, number)


class Membership(models.Model):
    """A person's right to act for an organisation in the portal. Someone who joins, or is
    invited, is pending until a confirmed member confirms them; only confirmed members see
    the organisation's cases."""

    class Role(models.TextChoices):
        CONTACT = "contact", _("Kontaktperson")
        SIGNATORY = "signatory", _("Firmatecknare")
        TREASURER = "treasurer", _("Kassör")
        MEMBER = "member", _("Styrelseledamot")

    # The roles that may act for the association's money, e.g. ask for a new bank account.
    MONEY_ROLES = (Role.SIGNATORY, Role.TREASURER)

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar på bekräftelse")
        CONFIRMED = "confirmed", _("Bekräftad")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("roll", max_length=20, choices=Role.choices, default=Role.CONTACT)
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.CONFIRMED)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "medlemskap"
        verbose_name_plural = "medlemskap"
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="unique_membership")]

    def __str__(self):
        return f"{self.user} – {self.organisation}"


class AccountChangeRequest(models.Model):
    """An association's request to change (or set) the account its grants are paid to.
    It takes effect only when someone in finance who did not ask for it approves it; until
    then payments go to the approved account on the Organisation. The rows are the audit
    trail of the account: who asked, when, the old and new account, who decided and why."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar på godkännande")
        APPROVED = "approved", _("Godkänd")
        REFUSED = "refused", _("Avslagen")
        REPLACED = "replaced", _("Ersatt av en ny begäran")

    status_subject = _("begäran om nytt bankkonto")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="account_requests", verbose_name="förening"
    )
    scheme = models.CharField("kontotyp", max_length=10, choices=PayeeScheme.choices)
    number = models.CharField("nytt konto", max_length=42)
    # The approved account when the request was made, "" if there was none.
    old_scheme = models.CharField("tidigare kontotyp", max_length=10, choices=PayeeScheme.choices, blank=True)
    old_number = models.CharField("tidigare konto", max_length=42, blank=True)
    status = fsm.FSMField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="begärd av"
    )
    requested_at = models.DateTimeField("begärd", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="beslutad av",
    )
    decided_at = models.DateTimeField("beslutad", null=True, blank=True)
    refusal_reason = models.TextField("skäl", blank=True)

    class Meta:
        verbose_name = "begäran om nytt bankkonto"
        verbose_name_plural = "begäranden om nytt bankkonto"
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(status="pending"), name="one_pending_account_request"
            ),
            # The two-person rule, whatever the code does: the requester never decides.
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("requested_by")), name="account_decider_is_not_requester"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | Q(status="approved", decided_by__isnull=False, decided_at__isnull=False)
                | Q(status="refused", decided_by__isnull=False, decided_at__isnull=False) & ~Q(refusal_reason="")
                | Q(status="replaced", decided_at__isnull=False),
                name="account_request_decided_when_closed",
            ),
        ]

    def __str__(self):
        return f"{self.organisation}: {self.get_scheme_display()} {self.number}"

    @property
    def account_label(self):
        return f"{self.get_scheme_display()} {self.number}"

    @property
    def old_account_label(self):
        return f"{self.get_old_scheme_display()} {self.old_number}" if self.old_number else ""

    # As members see them: the last four digits only.
    @property
    def masked_label(self):
        return account_masked(self.scheme, self.number)

    @property
    def masked_old_label(self):
        return account_masked(self.old_scheme, self.old_number)

    @status.transition(source=Status.PENDING, target=Status.APPROVED, permission=_by_account_decider)
    def approve(self, by, at):
        self.decided_by, self.decided_at = by, at

    @status.transition(source=Status.PENDING, target=Status.REFUSED, permission=_by_account_decider)
    def refuse(self, by, at, reason):
        self.decided_by, self.decided_at, self.refusal_reason = by, at, reason

    @status.transition(source=Status.PENDING, target=Status.REPLACED)
    def replace(self, at):
        self.decided_at = at


class Invitation(models.Model):
    """A confirmed member invites another board member by e-mail. The link in the e-mail
    lets the invitee join once logged in; their membership is then pending until a
    confirmed member confirms it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("e-post")
    role = models.CharField("roll", max_length=20, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "inbjudan"
        verbose_name_plural = "inbjudningar"


class OrganisationFile(models.Model):
    """A file of the association's profile (statutes, annual meeting minutes), reused in
    every application. Stored once under a fresh key, with its SHA-256; a newer upload of
    the same kind is a new row, and the newest one is the current."""

    class Kind(models.TextChoices):
        STATUTES = "statutes", _("Stadgar")
        MINUTES = "annual_meeting_minutes", _("Årsmötesprotokoll")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField("typ", max_length=30, choices=Kind.choices)
    filename = models.CharField("filnamn", max_length=200)
    content_type = models.CharField(max_length=100)
    storage_key = models.CharField(max_length=300, unique=True)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "föreningsdokument"
        verbose_name_plural = "föreningsdokument"
        ordering = ["kind", "-uploaded_at", "-pk"]


class OrganisationClaim(models.Model):
    """Someone registered an organisationsnummer that already has a profile: they are not
    let in, the claim waits for an officer, who accepts it (the claimant becomes a confirmed
    signatory) or refuses it with a reason. The evidence is the claimant's own statutes and
    minutes, stored as the profile's files are but not shown to the association."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Väntar på kommunen")
        ACCEPTED = "accepted", _("Godtaget")
        REFUSED = "refused", _("Avslaget")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="claims", verbose_name="förening"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="den som gör anspråk"
    )
    # The name the claimant typed, which may differ from the registered one.
    name = models.CharField("angivet namn", max_length=200)
    role = models.CharField("angiven roll", max_length=20, choices=Membership.Role.choices)
    status = models.CharField("status", max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField("inkommet", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField("skäl", blank=True, max_length=1000)

    class Meta:
        verbose_name = "anspråk på förening"
        verbose_name_plural = "anspråk på föreningar"
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "claimant"], condition=Q(status="pending"), name="one_pending_claim"
            )
        ]

    def __str__(self):
        return f"{self.claimant} → {self.organisation}"


class ClaimFile(models.Model):
    """A claim's evidence: statutes or annual meeting minutes, stored with its SHA-256."""

    claim = models.ForeignKey(OrganisationClaim, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField("typ", max_length=30, choices=OrganisationFile.Kind.choices)
    filename = models.CharField("filnamn", max_length=200)
    content_type = models.CharField(max_length=100)
    storage_key = models.CharField(max_length=300, unique=True)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "underlag för anspråk"
        verbose_name_plural = "underlag för anspråk"
        ordering = ["kind", "pk"]


class ApplicantSettings(models.Model):
    """A portal user's own choices: the language of pages and e-mails, and whether to get
    the e-mails that are not required (receipts, decisions, completion requests, claims and
    report reminders always go out)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="applicant_settings")
    language = models.CharField("språk", max_length=5, choices=settings.LANGUAGES, default="sv")
    optional_emails = models.BooleanField("e-post om ärendets gång", default=True)

    class Meta:
        verbose_name = "inställningar för sökande"
        verbose_name_plural = "inställningar för sökande"


class CaseNumberSeries(models.Model):
    """The last diarienummer used per committee and year. Locked while a number is taken,
    so numbers are gapless and never repeat, however many submit at once."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "diarienummerserie"
        verbose_name_plural = "diarienummerserier"
        constraints = [models.UniqueConstraint(fields=["committee", "year"], name="unique_case_series")]


# --- the case --------------------------------------------------------------------------


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Utkast")
        AWAITING_SPONSOR = "awaiting_sponsor", _("Väntar på medsökarens bekräftelse")
        SUBMITTED = "submitted", _("Inkommen")
        AWAITING_COMPLETION = "awaiting_completion", _("Komplettering begärd")
        IN_ASSESSMENT = "in_assessment", _("Under bedömning")
        ASSESSED = "assessed", _("Bedömd, väntar på beslut")
        APPROVED = "approved", _("Beviljad")
        PARTLY_APPROVED = "partly_approved", _("Delvis beviljad")
        REJECTED = "rejected", _("Avslagen")
        WITHDRAWN = "withdrawn", _("Återtagen")
        CLOSED = "closed", _("Avslutad")

    GRANTED = (Status.APPROVED, Status.PARTLY_APPROVED)

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications", verbose_name="utlysning")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="applications", verbose_name="sökande"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = fsm.FSMField(max_length=30, choices=Status.choices, default=Status.DRAFT, enforce_initial=True)
    case_number = models.CharField("diarienummer", max_length=30, blank=True)
    title = models.CharField("projektnamn / rubrik", max_length=limits.TITLE)
    # A TextField's max_length only reaches the form: the validator makes full_clean() keep it.
    description = models.TextField(
        "beskrivning", max_length=limits.DESCRIPTION, validators=[MaxLengthValidator(limits.DESCRIPTION)]
    )
    period_start = models.DateField("periodens början")
    period_end = models.DateField("periodens slut")
    requested_amount = money_field(verbose_name="sökt belopp", default=ZERO)
    inputs = models.JSONField("uppgifter för beloppsberäkningen", default=dict, blank=True)
    # The answers to the programme's own questions, by the question's key (grants.questions).
    answers = models.JSONField("svar på bidragsformens frågor", default=dict, blank=True)
    # Chosen from the programme's lists; the annual report sums grants by them.
    priority_area = models.CharField("prioriterat område", max_length=100, blank=True)
    target_group = models.CharField("målgrupp", max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # An informal group's application reaches the officer only once its sponsor association's
    # contact person has confirmed it.
    sponsor_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sponsor_confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # When the case ended (closed, rejected or withdrawn): retention periods count from it.
    closed_at = models.DateTimeField("avslutat", null=True, blank=True)
    retention_hold = models.BooleanField(
        "spärrad för gallring",
        default=False,
        help_text="T.ex. under en tvist eller en begäran om utlämnande: inget i ärendet gallras.",
    )

    class Meta:
        verbose_name = "ansökan"
        verbose_name_plural = "ansökningar"
        ordering = ["-created_at"]
        permissions = [
            ("handle_application", "Handlägga ansökningar"),
            ("decide_application", "Besluta om ansökningar över delegationsgränsen"),
            ("attest_payment", "Attestera och betala ut bidrag"),
            ("view_annual_report", "Se årsrapporten om bidrag och publicera öppna data"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case_number"], condition=~Q(case_number=""), name="unique_case_number"),
            models.CheckConstraint(condition=Q(requested_amount__gte=0), name="requested_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="application_period_in_order"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "awaiting_sponsor"])
                | Q(status="withdrawn", case_number="")
                | ~Q(case_number=""),
                name="submitted_application_has_case_number",
            ),
        ]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["organisation", "status"]),
            # The applicant's start page: the association's newest cases first, a page at a time.
            models.Index(fields=["organisation", "-created_at", "-id"], name="application_org_newest"),
            models.Index(fields=["call", "status"], name="application_call_status"),
        ]

    def __str__(self):
        return self.case_number or f"Utkast: {self.title}"

    @property
    def programme(self):
        return self.call.programme

    def input_rows(self):
        """The calculator's inputs as (label, value), for people to read."""
        return [(item.label, self.inputs.get(item.name, "")) for item in self.call.programme.get_calculator().inputs]

    def answer_rows(self):
        """The programme's questions and the answers, as (label, answer), for people to read."""
        return questions.answer_rows(self.call.programme.application_questions, self.answers)

    # Transitions. Permissions are checked by the services with .has_perm(user).

    @status.transition(source=Status.DRAFT, target=Status.AWAITING_SPONSOR, permission=_by_applicant)
    def ask_sponsor(self):
        pass

    @status.transition(source=Status.AWAITING_SPONSOR, target=Status.DRAFT, permission=_by_sponsor_contact)
    def sponsor_decline(self):
        pass

    @status.transition(source=Status.DRAFT, target=Status.SUBMITTED, permission=_by_applicant)
    def submit(self):
        self.submitted_at = timezone.now()

    @status.transition(source=Status.AWAITING_SPONSOR, target=Status.SUBMITTED, permission=_by_sponsor_contact)
    def sponsor_confirm(self, by):
        self.sponsor_confirmed_by = by
        self.sponsor_confirmed_at = timezone.now()
        self.submitted_at = self.sponsor_confirmed_at

    # Before a decision the applicant may withdraw; the service also cancels the case's flow.
    WITHDRAWABLE = (
        Status.DRAFT,
        Status.AWAITING_SPONSOR,
        Status.SUBMITTED,
        Status.AWAITING_COMPLETION,
        Status.IN_ASSESSMENT,
        Status.ASSESSED,
    )

    @status.transition(source=WITHDRAWABLE, target=Status.WITHDRAWN, permission=_by_applicant)
    def withdraw(self):
        self.withdrawn_at = self.closed_at = timezone.now()

    @status.transition(
        source=[Status.SUBMITTED, Status.IN_ASSESSMENT], target=Status.AWAITING_COMPLETION, permission=_by_officer
    )
    def request_completion(self):
        pass

    @status.transition(source=Status.AWAITING_COMPLETION, target=Status.SUBMITTED, permission=_by_applicant)
    def complete(self):
        pass

    @status.transition(source=Status.SUBMITTED, target=Status.IN_ASSESSMENT, permission=_by_officer)
    def accept_as_complete(self):
        pass

    @status.transition(source=Status.IN_ASSESSMENT, target=Status.ASSESSED, permission=_by_officer)
    def assess(self):
        pass

    @status.transition(
        source=Status.ASSESSED, target=fsm.State.RETURN_VALUE(*GRANTED, Status.REJECTED), permission=_by_decider
    )
    def decide(self, outcome):
        if outcome == self.Status.REJECTED:
            self.closed_at = timezone.now()  # a rejection ends the case
        return outcome

    # Closing is the system's step once the case is settled (see services.follow_up);
    # it needs no person's permission, only the settled state the service checks.
    @status.transition(source=[Status.APPROVED, Status.PARTLY_APPROVED], target=Status.CLOSED, permission=None)
    def close(self):
        self.closed_at = timezone.now()


class BudgetLine(models.Model):
    class Kind(models.TextChoices):
        COST = "cost", _("Kostnad")
        INCOME = "income", _("Intäkt / egen insats")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="budget_lines")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.COST)
    label = models.CharField("post", max_length=limits.LABEL)
    amount = money_field(verbose_name="belopp", validators=[MinValueValidator(ZERO)])

    class Meta:
        verbose_name = "budgetpost"
        verbose_name_plural = "budgetposter"
        ordering = ["kind", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="budget_line_not_negative")]


class CompletionRequest(models.Model):
    """A komplettering: the officer's question and the applicant's answer."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="completion_requests")
    message = models.TextField("vad som ska kompletteras")
    due_on = models.DateField("svara senast")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(
        "svar", blank=True, max_length=limits.LONG_TEXT, validators=[MaxLengthValidator(limits.LONG_TEXT)]
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "begäran om komplettering"
        verbose_name_plural = "begäranden om komplettering"
        ordering = ["-requested_at"]


class ConflictOfInterest(models.Model):
    """A declared jäv (KL 6 kap. 28–32 §§): the person may take no further part in the case."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="conflicts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField("skäl")
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "jävsanmälan"
        verbose_name_plural = "jävsanmälningar"
        constraints = [models.UniqueConstraint(fields=["application", "user"], name="unique_conflict")]


class Assessment(models.Model):
    class Proposal(models.TextChoices):
        APPROVE = "approved", _("Bevilja")
        PARTLY = "partly_approved", _("Bevilja delvis")
        REJECT = "rejected", _("Avslå")

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="assessment")
    officer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    no_conflict_declared = models.BooleanField("jag är inte jävig")
    proposal = models.CharField("förslag", max_length=20, choices=Proposal.choices)
    proposed_amount = money_field(verbose_name="föreslaget belopp", validators=[MinValueValidator(ZERO)])
    calculated_amount = money_field(verbose_name="belopp enligt beräkningsregeln", default=ZERO)
    justification = models.TextField("motivering")
    assessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "bedömning"
        verbose_name_plural = "bedömningar"
        constraints = [
            models.CheckConstraint(condition=Q(no_conflict_declared=True), name="assessor_declared_no_conflict"),
            models.CheckConstraint(condition=Q(proposed_amount__gte=0), name="proposed_amount_not_negative"),
        ]

    @property
    def needs_committee(self):
        return self.proposed_amount > self.application.call.programme.delegation_limit


class ScoringCriterion(models.Model):
    """What a programme's reviewers score an application on: a name, a scale 1..scale_max
    and a weight in the weighted average (issue 18)."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="criteria", verbose_name="bidragsform"
    )
    name = models.CharField("kriterium", max_length=200)
    description = models.TextField("beskrivning", blank=True, help_text="Vad granskaren ska bedöma.")
    scale_max = models.PositiveSmallIntegerField(
        "högsta poäng",
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text="Granskaren ger 1 till så här många poäng.",
    )
    weight = models.DecimalField(
        "vikt",
        max_digits=5,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Kriteriets vikt i det viktade medelvärdet.",
    )
    position = models.PositiveSmallIntegerField("ordning", default=0)

    class Meta:
        verbose_name = "bedömningskriterium"
        verbose_name_plural = "bedömningskriterier"
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
            models.CheckConstraint(condition=Q(scale_max__gte=2), name="criterion_scale_at_least_two"),
        ]

    def __str__(self):
        return self.name


class Review(models.Model):
    """One reviewer's review of an application: assigned by the officer, then either closed
    by the reviewer's declaration of jäv or submitted with a score for each criterion."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews", verbose_name="granskare"
    )
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    no_conflict_declared = models.BooleanField("jag är inte jävig", default=False)
    conflict_reason = models.TextField("skäl till jäv", blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "granskning"
        verbose_name_plural = "granskningar"
        ordering = ["assigned_at", "pk"]
        permissions = [("review_application", "Granska och poängsätta ansökningar")]
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="one_review_per_reviewer"),
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | Q(no_conflict_declared=True, conflict_reason=""),
                name="submitted_review_without_conflict",
            ),
        ]

    def __str__(self):
        return f"{self.application} – {self.reviewer}"

    @property
    def conflicted(self):
        return bool(self.conflict_reason)

    @property
    def is_open(self):
        return self.submitted_at is None and not self.conflict_reason


class ReviewScore(models.Model):
    """A reviewer's score on one criterion, 1..the criterion's scale_max (checked by the
    service, review_submit), with a comment."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(ScoringCriterion, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField("poäng", validators=[MinValueValidator(1)])
    comment = models.TextField("kommentar", blank=True, max_length=4000, validators=[MaxLengthValidator(4000)])

    class Meta:
        verbose_name = "poäng"
        verbose_name_plural = "poäng"
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(condition=Q(score__gte=1), name="score_at_least_one"),
        ]

    def clean(self):
        if self.criterion_id and self.score is not None and self.score > self.criterion.scale_max:
            raise ValidationError({"score": f"Poängen är 1–{self.criterion.scale_max}."})


class Decision(models.Model):
    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Beviljas")
        PARTLY_APPROVED = "partly_approved", _("Beviljas delvis")
        REJECTED = "rejected", _("Avslås")

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField("beslut", max_length=20, choices=Outcome.choices)
    amount = money_field(verbose_name="beviljat belopp", validators=[MinValueValidator(ZERO)])
    reasons = models.TextField("motivering")
    conditions = models.TextField("villkor", blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    by_committee = models.BooleanField("beslut i nämnd", default=False)
    delegation_point = models.CharField("delegationspunkt", max_length=40, blank=True)
    meeting = models.ForeignKey(
        CommitteeMeeting,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name="sammanträde",
    )
    protocol_paragraph = models.CharField("protokollsparagraf", max_length=20, blank=True)
    # Omedelbar justering: the committee approved the paragraph at the meeting, so the
    # decision may be executed before the whole protocol is approved and announced.
    approved_immediately = models.BooleanField("paragrafen omedelbart justerad", default=False)
    # A delegation decision is reported to the committee (KL 6 kap. 40 §) as part of an item of
    # a meeting's agenda (the delegation report); it is reported once that meeting is held.
    reported_item = models.ForeignKey(
        "AgendaItem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_decisions",
        verbose_name="anmäld till nämnden i",
    )

    class Meta:
        verbose_name = "beslut"
        verbose_name_plural = "beslut"
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="rejected", amount=0)
                | Q(outcome__in=["approved", "partly_approved"], amount__gt=0),
                name="decision_amount_matches_outcome",
            ),
            models.CheckConstraint(
                condition=Q(by_committee=False) | Q(meeting__isnull=False) & ~Q(protocol_paragraph=""),
                name="committee_decision_has_protocol",
            ),
            models.CheckConstraint(
                condition=Q(approved_immediately=False) | Q(by_committee=True),
                name="only_committee_paragraph_approved_immediately",
            ),
            models.CheckConstraint(
                condition=Q(reported_item__isnull=True) | Q(by_committee=False),
                name="only_delegation_decisions_reported",
            ),
        ]

    @staticmethod
    def executable_q(prefix=""):
        """The decisions that may be executed, as a filter (prefix: the path to the decision,
        e.g. "application__decision__"): a delegation decision at once; a committee decision
        once the approval of its meeting's protocol has been announced, or when the paragraph
        was approved at the meeting. Until then nothing of it is attested, paid or published."""
        return (
            Q(**{f"{prefix}by_committee": False})
            | Q(**{f"{prefix}approved_immediately": True})
            | Q(**{f"{prefix}meeting__announced_on__isnull": False})
        )

    @property
    def may_be_executed(self):
        """The same rule as executable_q, for a decision in hand (its meeting selected)."""
        return not self.by_committee or self.approved_immediately or self.meeting.announced_on is not None

    @property
    def award_date(self):
        """The day the grant was decided: the committee's meeting, or the delegation decision's day."""
        return self.meeting.held_on if self.by_committee else timezone.localdate(self.decided_at)

    @property
    def is_granted(self):
        return self.outcome != self.Outcome.REJECTED

    @property
    def meeting_date(self):
        return self.meeting.held_on if self.meeting_id else None


class OfficerReport(models.Model):
    """The officer's report (tjänsteskrivelse) of a case the committee decides: written from the
    assessment when the officer marks the case ready for the committee, editable until the
    agenda it is on has been sent."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="officer_report")
    background = models.TextField("bakgrund", max_length=limits.LONG_TEXT)
    proposal = models.TextField("förslag till beslut", max_length=limits.LONG_TEXT)
    reasons = models.TextField("skäl för förslaget", max_length=limits.LONG_TEXT)
    budget_effect = models.TextField("ekonomiska konsekvenser", max_length=limits.LONG_TEXT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="handläggare"
    )
    ready_at = models.DateTimeField("klar för nämnden", default=timezone.now)
    updated_at = models.DateTimeField("senast ändrad", auto_now=True)

    class Meta:
        verbose_name = "tjänsteskrivelse"
        verbose_name_plural = "tjänsteskrivelser"

    def __str__(self):
        return f"Tjänsteskrivelse {self.application.case_number}"


class AgendaItem(models.Model):
    """An item of a meeting's agenda: a case with its officer's report, or the delegation
    report. At the meeting it gets its protocol paragraph, and the members who declared jäv
    and left for it are recorded."""

    class Kind(models.TextChoices):
        CASE = "case", _("Ärende")
        DELEGATION_REPORT = "delegation_report", _("Anmälan av delegationsbeslut")

    meeting = models.ForeignKey(CommitteeMeeting, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField("ordning")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CASE)
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, null=True, blank=True, related_name="agenda_items"
    )
    title = models.CharField("rubrik", max_length=300)
    paragraph = models.PositiveIntegerField("paragraf", null=True, blank=True)
    conflicted = models.ManyToManyField(
        CommitteeMember, blank=True, related_name="+", verbose_name="anmälde jäv och deltog inte"
    )

    class Meta:
        verbose_name = "punkt på föredragningslistan"
        verbose_name_plural = "punkter på föredragningslistan"
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="one_item_per_position"),
            models.UniqueConstraint(
                fields=["meeting", "application"], condition=Q(application__isnull=False), name="case_once_per_agenda"
            ),
            models.UniqueConstraint(
                fields=["meeting", "paragraph"], condition=Q(paragraph__isnull=False), name="paragraph_once_per_meeting"
            ),
            models.UniqueConstraint(
                fields=["meeting"], condition=Q(kind="delegation_report"), name="one_delegation_report_per_meeting"
            ),
            models.CheckConstraint(
                condition=Q(kind="case", application__isnull=False) | Q(kind="delegation_report", application=None),
                name="agenda_item_kind_matches_case",
            ),
        ]

    def __str__(self):
        return f"{self.meeting} punkt {self.position}: {self.title}"

    @property
    def paragraph_label(self):
        return f"§ {self.paragraph}" if self.paragraph else ""


class MeetingDocument(models.Model):
    """A document of a meeting rather than of one case: the agenda, the delegation report.
    Stored once and never overwritten; a new agenda is a new version."""

    class Kind(models.TextChoices):
        AGENDA = "agenda", _("Föredragningslista")
        DELEGATION_REPORT = "delegation_report", _("Delegationsrapport")

    meeting = models.ForeignKey(CommitteeMeeting, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    filename = models.CharField("filnamn", max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=300, unique=True)
    version = models.PositiveIntegerField(default=1)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "sammanträdesdokument"
        verbose_name_plural = "sammanträdesdokument"
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind", "version"], name="one_meeting_document_per_version")
        ]

    def __str__(self):
        return self.filename


class PaymentBatch(models.Model):
    """A betalfil: the attested payments sent to the bank together (ISO 20022 pain.001). A
    payment is in at most one file. The ledger books a payment when the bank has paid it
    (Voucher), not when it is put in a file."""

    class Status(models.TextChoices):
        EXPORTED = "exported", _("Skickad till banken")
        SETTLED = "settled", _("Avslutad")

    status_subject = _("betalfilen")  # in refusals: "… betalfilen har status …"

    reference = models.CharField("meddelande-id", max_length=35, unique=True)
    status = fsm.FSMField(max_length=20, choices=Status.choices, default=Status.EXPORTED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="skapad av"
    )
    created_at = models.DateTimeField("skapad", default=timezone.now)
    execution_date = models.DateField("önskad betaldag")
    count = models.PositiveIntegerField("antal betalningar")
    total = money_field(verbose_name="summa")
    pain001_key = models.CharField(max_length=300, blank=True)
    pain001_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "betalfil"
        verbose_name_plural = "betalfiler"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gt=0, total__gt=0), name="batch_is_not_empty"),
        ]

    def __str__(self):
        return self.reference

    @status.transition(source=Status.EXPORTED, target=Status.SETTLED, permission=_by_finance)
    def settle(self):
        pass


class AttestationLimit(models.Model):
    """How much one attester may attest in a single payment (attesträtt upp till ett belopp).
    Without a row, the attester has no amount limit."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attestation_limit", verbose_name="attestant"
    )
    max_amount = money_field(verbose_name="högsta belopp per utbetalning", validators=[MinValueValidator(ZERO)])

    class Meta:
        verbose_name = "attestgräns"
        verbose_name_plural = "attestgränser"

    def __str__(self):
        return f"{self.user}: {self.max_amount} kr"


class Payment(models.Model):
    """One payment instruction. planned ─attest─▶ attested ─export─▶ exported ─▶ paid | failed.
    A failed payment stays failed; a new planned payment of the same part replaces it, so that
    every instruction is in one payment file at most, and a part is paid at most once."""

    class Status(models.TextChoices):
        WITHHELD = "withheld", _("Väntar på godkänd återrapport")
        PLANNED = "planned", _("Väntar på attest")
        ATTESTED = "attested", _("Attesterad")
        EXPORTED = "exported", _("I betalfil")
        PAID = "paid", _("Utbetald")
        FAILED = "failed", _("Misslyckad")

    OPEN = (Status.PLANNED, Status.ATTESTED, Status.EXPORTED)
    status_subject = _("utbetalningen")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="payments")
    sequence = models.PositiveSmallIntegerField("del")
    percent = models.PositiveSmallIntegerField("andel (%)")
    amount = money_field(verbose_name="belopp")
    release = models.CharField("betalas ut efter", max_length=20)
    status = fsm.FSMField(max_length=20, choices=Status.choices, default=Status.PLANNED)
    # The payee and account are fixed when the payment is attested: the attester attests
    # this account, and the payment file pays exactly it.
    payee_name = models.CharField("mottagare", max_length=200, blank=True)
    payee_scheme = models.CharField("kontotyp", max_length=10, choices=PayeeScheme.choices, blank=True)
    payee_account = models.CharField("mottagarkonto", max_length=42, blank=True)
    # The decider is copied here so that the database itself refuses a payment
    # attested by the same person (two-person rule), whatever the code does.
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    batch = models.ForeignKey(
        PaymentBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="payments", verbose_name="betalfil"
    )
    paid_at = models.DateTimeField(null=True, blank=True)  # when it was recorded as paid
    # The day the bank paid it, from its status report (or the file's execution date): the
    # voucher's date, what the applicant and the reports are told.
    paid_on = models.DateField("utbetald dag", null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    failure_reason = models.TextField(blank=True)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name="ersätter"
    )

    class Meta:
        verbose_name = "utbetalning"
        verbose_name_plural = "utbetalningar"
        ordering = ["application", "sequence", "pk"]
        constraints = [
            # One live instruction per part: a part is never paid twice.
            models.UniqueConstraint(
                fields=["application", "sequence"], condition=~Q(status="failed"), name="one_live_payment_per_part"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=~Q(attested_by=models.F("decided_by")), name="attester_is_not_decider"),
            models.CheckConstraint(
                condition=Q(status__in=["withheld", "planned"]) | Q(attested_by__isnull=False, payee_account__gt=""),
                name="attested_payment_has_attester_and_account",
            ),
            # In a payment file exactly when exported, paid or failed; paid only from a file.
            models.CheckConstraint(
                condition=Q(status__in=["exported", "paid", "failed"], batch__isnull=False)
                | Q(status__in=["withheld", "planned", "attested"], batch__isnull=True),
                name="payment_in_file_when_exported",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="paid_payment_has_date"
            ),
        ]
        indexes = [models.Index(fields=["status", "batch"])]

    def __str__(self):
        return f"{self.application.case_number} del {self.sequence}"

    @property
    def reference(self):
        """The end-to-end id in the payment file and in the bank's status report."""
        return f"BIDRAG-{self.pk}"

    @status.transition(source=Status.WITHHELD, target=Status.PLANNED, permission=_by_officer)
    def release_part(self):
        pass

    @status.transition(source=Status.PLANNED, target=Status.ATTESTED, permission=_by_finance)
    def attest(self, by, payee, at=None):
        self.attested_by = by
        self.attested_at = at or timezone.now()
        self.payee_name, self.payee_scheme, self.payee_account = payee

    @status.transition(source=Status.ATTESTED, target=Status.EXPORTED, permission=_by_finance)
    def export(self, batch):
        self.batch = batch

    @status.transition(source=Status.EXPORTED, target=Status.PAID, permission=_by_finance)
    def mark_paid(self, by, on):
        self.paid_at = timezone.now()
        self.paid_on = on
        self.paid_by = by

    @status.transition(source=Status.EXPORTED, target=Status.FAILED, permission=_by_finance)
    def mark_failed(self, reason):
        self.failure_reason = reason

    def replacement(self):
        """A new planned payment of the same part, for a payment that failed."""
        return Payment(
            application=self.application,
            sequence=self.sequence,
            percent=self.percent,
            amount=self.amount,
            release=self.release,
            decided_by_id=self.decided_by_id,
            status=self.Status.PLANNED,
            replaces=self,
            failure_reason=self.failure_reason,
        )


class FollowUpReport(models.Model):
    class Status(models.TextChoices):
        DUE = "due", _("Ska lämnas")
        SUBMITTED = "submitted", _("Inlämnad")
        COMPLETION_REQUESTED = "completion_requested", _("Komplettering begärd")
        APPROVED = "approved", _("Godkänd")
        REJECTED = "rejected", _("Underkänd")

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="follow_up")
    status = fsm.FSMField(max_length=30, choices=Status.choices, default=Status.DUE)
    due_on = models.DateField("ska lämnas senast")
    what_was_done = models.TextField(
        "vad genomfördes", blank=True, max_length=limits.LONG_TEXT, validators=[MaxLengthValidator(limits.LONG_TEXT)]
    )
    participants = models.PositiveIntegerField("antal deltagare", null=True, blank=True)
    # {"7–12": {"girls": 4, "boys": 6, "other": 0}, ...} over AGE_BANDS and GENDERS,
    # when the programme asks for participants by age band and gender.
    participants_by_group = models.JSONField("deltagare per åldersgrupp och kön", default=dict, blank=True)
    sessions = models.PositiveIntegerField(
        "antal sammankomster", null=True, blank=True, validators=[MaxValueValidator(limits.SESSIONS)]
    )
    outcome = models.TextField(
        "resultat jämfört med målen",
        blank=True,
        max_length=limits.LONG_TEXT,
        validators=[MaxLengthValidator(limits.LONG_TEXT)],
    )
    actual_costs = money_field(verbose_name="faktiska kostnader", null=True, blank=True)
    own_contribution = money_field(
        verbose_name="egen insats", null=True, blank=True, validators=[MinValueValidator(ZERO)]
    )
    saved_at = models.DateTimeField("senast sparad", null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField("kommentar", blank=True)
    # When each reminder went out: set by the conditional UPDATE that claims it, so that a
    # reminder is sent once however many workers run (grants.services.follow_up).
    reminded_before_at = models.DateTimeField("påmind före sista dagen", null=True, blank=True, editable=False)
    reminded_due_at = models.DateTimeField("påmind på sista dagen", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "återrapportering"
        verbose_name_plural = "återrapporteringar"

    @status.transition(
        source=[Status.DUE, Status.COMPLETION_REQUESTED], target=Status.SUBMITTED, permission=_by_reporting_applicant
    )
    def submit(self):
        self.submitted_at = timezone.now()

    @status.transition(source=Status.SUBMITTED, target=Status.APPROVED, permission=_by_officer)
    def approve(self):
        pass

    @status.transition(source=Status.SUBMITTED, target=Status.COMPLETION_REQUESTED, permission=_by_officer)
    def request_completion(self):
        pass

    @status.transition(source=Status.SUBMITTED, target=Status.REJECTED, permission=_by_officer)
    def reject(self):
        pass


class FollowUpCostLine(models.Model):
    """One line of a follow-up report's financial statement: what the application's budget
    said (empty for a cost that was not budgeted) and what it actually cost."""

    report = models.ForeignKey(FollowUpReport, on_delete=models.CASCADE, related_name="cost_lines")
    label = models.CharField("post", max_length=200)
    budgeted = money_field(verbose_name="budget", null=True, blank=True, validators=[MinValueValidator(ZERO)])
    actual = money_field(verbose_name="utfall", validators=[MinValueValidator(ZERO)])

    class Meta:
        verbose_name = "kostnadspost i återrapport"
        verbose_name_plural = "kostnadsposter i återrapporter"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(actual__gte=0) & (Q(budgeted__isnull=True) | Q(budgeted__gte=0)),
                name="follow_up_cost_not_negative",
            )
        ]


class RepaymentClaim(models.Model):
    """An återkrav after a rejected follow-up report: what the grantee must pay back.
    open ─▶ repaid, as finance registers what comes back."""

    class Status(models.TextChoices):
        OPEN = "open", _("Obetalt")
        REPAID = "repaid", _("Återbetalt")

    status_subject = _("återkravet")

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="repayment_claim")
    amount = money_field(verbose_name="belopp att betala tillbaka", validators=[MinValueValidator(ZERO)])
    reasons = models.TextField("motivering")
    due_on = models.DateField("ska vara återbetalt senast")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    status = fsm.FSMField(max_length=20, choices=Status.choices, default=Status.OPEN)
    repaid_amount = money_field(verbose_name="återbetalt hittills", default=ZERO)
    repaid_on = models.DateField("helt återbetalt", null=True, blank=True)
    # Bankgirot's OCR reference that the grantee quotes when paying back, so that finance
    # can match what comes in to the claim (grants.services.ledger.ocr_reference).
    ocr = models.CharField("OCR-nummer", max_length=25, unique=True, null=True, blank=True)

    class Meta:
        verbose_name = "återkrav"
        verbose_name_plural = "återkrav"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="repayment_not_negative"),
            models.CheckConstraint(
                condition=Q(repaid_amount__gte=0, repaid_amount__lte=models.F("amount")), name="repaid_within_claim"
            ),
            models.CheckConstraint(
                condition=Q(status="open", repaid_on__isnull=True)
                | Q(status="repaid", repaid_on__isnull=False, repaid_amount=models.F("amount")),
                name="repaid_claim_is_whole",
            ),
        ]

    @property
    def outstanding(self):
        return self.amount - self.repaid_amount

    @status.transition(source=Status.OPEN, target=Status.REPAID, permission=_by_finance)
    def settle(self, on):
        self.repaid_on = on


# --- the ledger ----------------------------------------------------------------------------


class LedgerFile(models.Model):
    """A bokföringsfil: the vouchers not yet sent to the accounting system, as one SIE 4I
    file, stored immutable with its SHA-256. A voucher is in exactly one file once sent."""

    reference = models.CharField("referens", max_length=40, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="skapad av"
    )
    created_at = models.DateTimeField("skapad", default=timezone.now)
    count = models.PositiveIntegerField("antal verifikationer")
    key = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "bokföringsfil"
        verbose_name_plural = "bokföringsfiler"
        ordering = ["-created_at"]
        constraints = [models.CheckConstraint(condition=Q(count__gt=0), name="ledger_file_is_not_empty")]

    def __str__(self):
        return self.reference


class VoucherNumber(models.Model):
    """The last voucher number taken in a series and year: locked to take the next one, so
    that the numbers have no gaps and no duplicates, as the accounting act requires."""

    series = models.CharField(max_length=10)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "verifikationsnummer"
        verbose_name_plural = "verifikationsnummer"
        constraints = [models.UniqueConstraint(fields=["series", "year"], name="one_counter_per_series_and_year")]


class Voucher(models.Model):
    """A verifikation: what the bank paid, a repayment claim decided, or a repayment received,
    booked as balanced lines (VoucherLine). Made by grants.services.ledger only."""

    series = models.CharField("serie", max_length=10)
    number = models.PositiveIntegerField("verifikationsnummer")
    date = models.DateField("verifikationsdatum")
    registered_on = models.DateField("registreringsdatum", default=timezone.localdate)
    text = models.CharField("text", max_length=200)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ledger_file = models.ForeignKey(
        LedgerFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouchers",
        verbose_name="bokföringsfil",
    )
    # Not a field: the lines that grants.services.ledger.ledger_file_create hands on with the
    # voucher, read once for the whole file.
    booked: list["VoucherLine"]

    class Meta:
        verbose_name = "verifikation"
        verbose_name_plural = "verifikationer"
        ordering = ["series", "date", "number"]
        constraints = [
            # Numbered per series and year of the voucher's date (VoucherNumber).
            models.UniqueConstraint("series", ExtractYear("date"), "number", name="one_voucher_per_number"),
            models.CheckConstraint(condition=Q(number__gt=0), name="voucher_number_positive"),
        ]

    def __str__(self):
        return f"{self.series} {self.number}"


class VoucherLine(models.Model):
    """One #TRANS: a signed amount (debit positive) on an account, for a case, with the
    committee as cost centre and the programme as project."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Utbetalning"
        CLAIM = "claim", "Återkrav"
        REPAYMENT = "repayment", "Återbetalning"

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    account = models.CharField("konto", max_length=6)
    amount = money_field(verbose_name="belopp")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="ledger_lines")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_lines")
    cost_centre = models.CharField("kostnadsställe", max_length=20, blank=True)
    project = models.CharField("projekt", max_length=20, blank=True)
    text = models.CharField("text", max_length=200)

    class Meta:
        verbose_name = "verifikationsrad"
        verbose_name_plural = "verifikationsrader"
        ordering = ["voucher", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="voucher_line_not_zero"),
            # A payment is booked once: one line on its expense account, one on the bank.
            models.UniqueConstraint(
                fields=["payment", "account"], condition=Q(payment__isnull=False), name="payment_booked_once"
            ),
        ]


class CaseEvent(models.Model):
    """The case's history: who did what, when, and from which state to which."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=60)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "ärendehändelse"
        verbose_name_plural = "ärendehändelser"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["application", "created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    @property
    def label(self):
        """The action, stored in Swedish as the record, in the reader's language (grants.events)."""
        return action_label(self.action, choices=(*Decision.Outcome.labels, *Document.Kind.labels))


class Document(models.Model):
    """Every file of a case, sent or received, stored once and never overwritten."""

    class Kind(models.TextChoices):
        ATTACHMENT = "attachment", _("Bilaga till ansökan")
        COMPLETION = "completion", _("Komplettering")
        FOLLOW_UP = "follow_up", _("Bilaga till återrapport")
        RECEIPT = "receipt", _("Mottagningskvitto")
        DECISION_LETTER = "decision_letter", _("Beslutsbrev")
        REPAYMENT_LETTER = "repayment_letter", _("Beslut om återkrav")
        MESSAGE = "message", _("Bilaga till meddelande")
        OFFICER_REPORT = "officer_report", _("Tjänsteskrivelse")
        PROTOCOL_EXTRACT = "protocol_extract", _("Protokollsutdrag")

    SENT_BY_MUNICIPALITY = (Kind.RECEIPT, Kind.DECISION_LETTER, Kind.REPAYMENT_LETTER, Kind.PROTOCOL_EXTRACT)
    # Drawn up by the municipality for the case but not sent to the applicant.
    DRAWN_UP = (Kind.OFFICER_REPORT,)

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    filename = models.CharField("filnamn", max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=300, unique=True)
    version = models.PositiveIntegerField(default=1)
    # The message a file was sent with (kind "message"): an officer's or the applicant's.
    message = models.ForeignKey(
        "CaseMessage", on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Which of the programme's required attachments (Programme.required_attachments) this file is.
    attachment_key = models.CharField("bilaga enligt bidragsformen", max_length=40, blank=True)
    # Gallring: the file is deleted under the document management plan; the row, its checksum
    # and its register entry remain, and the retention log says under which decision.
    culled_at = models.DateTimeField("gallrad", null=True, blank=True)

    class Meta:
        verbose_name = "dokument"
        verbose_name_plural = "dokument"
        ordering = ["created_at", "pk"]
        constraints = [
            # Letters the municipality sends are versioned: a correction is version 2, and
            # two workers can never both write version 1.
            models.UniqueConstraint(
                fields=["application", "kind", "version"],
                condition=Q(
                    kind__in=["receipt", "decision_letter", "repayment_letter", "officer_report", "protocol_extract"]
                ),
                name="one_letter_per_version",
            ),
        ]

    def __str__(self):
        return self.filename


class StaffScope(models.Model):
    """Where a staff member works: the committees whose cases she sees and handles. Her
    roles (groups) say what she may do; this says in which committees. A staff member
    without a scope sees no committee's cases (a superuser sees all). Set in the admin, or
    at single sign-on from the identity provider's groups (identity.StaffRoleMapping)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_scope", verbose_name="person"
    )
    all_committees = models.BooleanField(
        "alla nämnder", default=False, help_text="T.ex. för ledning och ekonomi som arbetar för hela kommunen."
    )
    committees = models.ManyToManyField(Committee, blank=True, related_name="+", verbose_name="nämnder")

    class Meta:
        verbose_name = "nämnder för personal"
        verbose_name_plural = "nämnder för personal"

    def __str__(self):
        return str(self.user)


class CaseMessage(models.Model):
    """A message in a case: between the officer and the applicant (the applicant gets an
    e-mail and sees it in the portal), or an internal note that only staff see. Part of the
    case record: never edited or deleted."""

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Meddelande")
        NOTE = "note", _("Intern anteckning")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MESSAGE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # True when the municipality wrote it (an officer); False when the applicant did.
    from_staff = models.BooleanField(default=True)
    body = models.TextField("meddelande", max_length=limits.LONG_TEXT)
    created_at = models.DateTimeField(default=timezone.now)
    # When the other side first read it (the applicant for the officer's, staff for the applicant's).
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "meddelande i ärende"
        verbose_name_plural = "meddelanden i ärenden"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["application", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(kind="message") | Q(from_staff=True), name="notes_are_written_by_staff")
        ]

    def __str__(self):
        return f"{self.application.case_number} {self.created_at:%Y-%m-%d %H:%M}"


class StaffSettings(models.Model):
    """How a staff member wants to hear of her cases by e-mail."""

    class Email(models.TextChoices):
        IMMEDIATE = "immediate", _("Direkt, ett e-brev per händelse")
        DAILY = "daily", _("En sammanfattning per dag")
        OFF = "off", _("Inga e-brev")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_settings")
    email = models.CharField("e-post om mina ärenden", max_length=10, choices=Email.choices, default=Email.IMMEDIATE)

    class Meta:
        verbose_name = "inställningar för personal"
        verbose_name_plural = "inställningar för personal"

    def __str__(self):
        return str(self.user)


class StaffNotice(models.Model):
    """Something a staff member should hear of in a case she handles: sent at once, or
    collected for her daily digest (sent_at empty until it goes out)."""

    class Kind(models.TextChoices):
        COMPLETION_ANSWER = "completion_answer", _("Kompletteringssvar")
        MESSAGE = "message", _("Meddelande från sökande")
        FOLLOW_UP = "follow_up", _("Återrapport")
        OVERDUE = "overdue", _("Uppgift över servicemålet")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # For OVERDUE: the waiting task (viewflow's Task id), so that each task is reported once.
    task_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "avisering till personal"
        verbose_name_plural = "aviseringar till personal"
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["sent_at", "user"])]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "task_id"], condition=Q(kind="overdue"), name="one_overdue_notice_per_task"
            )
        ]

    def __str__(self):
        return f"{self.user} {self.kind} {self.application_id}"
