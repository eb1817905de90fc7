"""The administrator's screens for the record: the document management plan (retention
rules), which the administrator keeps, and the retention log, which only retention writes."""

from django.contrib import admin

from grants.admin import ReadOnlyAdmin

from .models import RegisterEntry, RetentionLog, RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """One line of the plan per kind of record. RetentionRule.clean() says at the field when
    the period does not fit the action."""

    list_display = ["subject", "action", "years", "decision_reference"]
    list_filter = ["action"]
    fields = ["subject", "action", "years", "decision_reference"]


@admin.register(RetentionLog)
class RetentionLogAdmin(ReadOnlyAdmin):
    """What `manage.py retention_apply` culled or anonymised: read only."""

    list_display = ["performed_at", "case_number", "subject", "action", "what", "decision_reference"]
    list_filter = ["action", "subject"]
    search_fields = ["case_number", "what", "decision_reference"]
    date_hierarchy = "performed_at"


@admin.register(RegisterEntry)
class RegisterEntryAdmin(ReadOnlyAdmin):
    """The register (diarium): written as documents and messages come and go, marked secret by
    the case's officers; read only here."""

    list_display = ["registered_at", "application", "direction", "description", "counterpart", "secret"]
    list_filter = ["direction", "secret", "counterpart_kind"]
    search_fields = ["application__case_number", "description", "counterpart"]
    date_hierarchy = "registered_at"
    list_select_related = ["application"]
