"""The administrator's screens for the record: the document management plan (retention
rules), which the administrator keeps, and the retention log, which only retention writes."""

from django.contrib import admin

from .models import RetentionLog, RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(admin.ModelAdmin):
    """One line of the plan per kind of record. RetentionRule.clean() says at the field when
    the period does not fit the action."""

    list_display = ["subject", "action", "years", "decision_reference"]
    list_filter = ["action"]
    fields = ["subject", "action", "years", "decision_reference"]


@admin.register(RetentionLog)
class RetentionLogAdmin(admin.ModelAdmin):
    """What `manage.py retention_apply` culled or anonymised: read only."""

    list_display = ["performed_at", "case_number", "subject", "action", "what", "decision_reference"]
    list_filter = ["action", "subject"]
    search_fields = ["case_number", "what", "decision_reference"]
    date_hierarchy = "performed_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
