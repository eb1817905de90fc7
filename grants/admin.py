"""The administrator's screens: committees, programmes and their configuration, calls."""

from django.contrib import admin

from . import models


@admin.register(models.Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "municipality"]


class CallInline(admin.TabularInline):
    model = models.Call
    extra = 0


@admin.register(models.Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "committee", "calculator", "delegation_limit", "is_active"]
    list_filter = ["committee", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CallInline]


@admin.register(models.Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["title", "programme", "year", "opens_on", "closes_on", "max_amount", "budget"]
    list_filter = ["programme", "year"]


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "org_number", "bankgiro", "plusgiro", "sponsor"]
    list_filter = ["kind"]
    search_fields = ["name", "org_number"]
    inlines = [MembershipInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Cases change only through the workflow; the admin shows them but never edits them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
