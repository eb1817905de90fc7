"""The audit trail in the admin: read only, for the administrator and the auditor; and the
staff's second factors (django-otp's admin), whose removal is audited."""

from django.contrib import admin
from django_otp.plugins.otp_static import admin as otp_static_admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as otp_totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import Kind, record
from .models import ApiToken, Identity, SecurityEvent, StaffRoleMapping
from .tokens import token_revoke


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
    """Which of the identity provider's groups give which staff role, in which committees
    (read at every single sign-on)."""

    list_display = ["claim_value", "group", "all_committees", "committee_codes"]
    list_select_related = ["group"]
    list_filter = ["group", "all_committees"]
    search_fields = ["claim_value"]
    fields = ["claim_value", "group", "all_committees", "committees"]
    filter_horizontal = ["committees"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("committees")

    @admin.display(description="nämnder")
    def committee_codes(self, obj):
        # The person's committees at sign-on: the union of her mappings' (all, if any says so).
        return ", ".join(sorted(committee.code for committee in obj.committees.all())) or "–"


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


class _DeviceRemovalAudited(admin.ModelAdmin):
    """django-otp's admin of a second factor, with an audit row when the administrator
    removes one (a lost phone: the person then sets the app up again)."""

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _removed(request, [obj])

    def delete_queryset(self, request, queryset):
        devices = list(queryset.select_related("user"))
        super().delete_queryset(request, queryset)
        _removed(request, devices)


def _removed(request, devices):
    for device in devices:
        record(
            Kind.SECOND_FACTOR,
            request=request,
            user=device.user,
            actor=request.user,
            details={"action": "removed", "device": type(device).__name__},
        )


class TOTPDeviceAdmin(_DeviceRemovalAudited, otp_totp_admin.TOTPDeviceAdmin):
    pass


class StaticDeviceAdmin(_DeviceRemovalAudited, otp_static_admin.StaticDeviceAdmin):
    pass


for _model, _model_admin in ((TOTPDevice, TOTPDeviceAdmin), (StaticDevice, StaticDeviceAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """The REST API's keys: read only here (a key is made with `manage.py api_token_create`,
    which shows it once); the administrator sees who uses which and revokes a key."""

    list_display = ["name", "prefix", "role", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["role"]
    search_fields = ["name", "prefix"]
    readonly_fields = [field.name for field in ApiToken._meta.fields if field.name != "key_hash"] + ["committees"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Återkalla valda nycklar", permissions=["delete"])
    def revoke(self, request, queryset):
        for token in queryset.select_related("account"):
            token_revoke(token=token, by=request.user)
        self.message_user(request, f"{queryset.count()} nycklar återkallade.")

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
