"""The audit trail in the admin: read only, for the administrator and the auditor."""

from django.contrib import admin

from .models import Identity, SecurityEvent, StaffRoleMapping


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "user", "actor", "identifier", "address"]
    list_filter = ["kind"]
    search_fields = ["user__username", "user__email", "identifier", "address"]
    date_hierarchy = "at"
    list_select_related = ["user", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffRoleMapping)
class StaffRoleMappingAdmin(admin.ModelAdmin):
    """Which of the identity provider's groups give which staff role (read at every single sign-on)."""

    list_display = ["claim_value", "group"]
    list_select_related = ["group"]
    search_fields = ["claim_value"]


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    """Linked sign-ins: the administrator may unlink one (e.g. a lost or wrongly linked one)."""

    list_display = ["user", "provider", "display", "created_at", "last_used_at"]
    list_filter = ["provider"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email", "display"]
    fields = readonly_fields = ("user", "provider", "display", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
