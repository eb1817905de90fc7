"""The staff roles as Django groups, kept in step with the code after every migrate."""

from typing import Any

from django.contrib.auth.models import Group, Permission

ROLES = {
    "Handläggare": ["grants.handle_application"],
    "Beslutsfattare": ["grants.decide_application"],
    "Ekonomi": ["grants.attest_payment"],
    "Ledning": ["grants.view_annual_report"],
    "Nämndsekreterare": ["grants.keep_protocol"],
    # Reviewers (issue 18): staff, or members of a reference group, who score applications
    # against a programme's criteria when an officer assigns them.
    "Granskare": ["grants.review_application"],
    "Systemförvaltare": [
        "grants.add_programme",
        "grants.change_programme",
        "grants.view_programme",
        "grants.add_call",
        "grants.change_call",
        "grants.view_call",
        "grants.add_committee",
        "grants.change_committee",
        "grants.view_committee",
        "grants.add_organisation",
        "grants.change_organisation",
        "grants.view_organisation",
        "grants.view_application",
        "grants.view_caseevent",
        "grants.add_committeemember",
        "grants.change_committeemember",
        "grants.view_committeemember",
        "records.add_retentionrule",
        "records.change_retentionrule",
        "records.view_retentionrule",
        "records.view_retentionlog",
        "records.view_registerentry",
        "records.extract_personal_data",
        "records.export_archive",
    ],
}


def roles_ensure(**kwargs: Any) -> None:
    """Run after every migrate (a post_migrate receiver), so a role's permissions follow the code.
    The roles name permissions of apps that come after grants (grants.records), whose own
    post_migrate has not yet created them: they are created here first."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for label in {code.split(".")[0] for codes in ROLES.values() for code in codes}:
        create_permissions(apps.get_app_config(label), verbosity=0)
    for name, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=code.split(".")[0], codename=code.split(".")[1])
            for code in codes
        ]
        group.permissions.set(permissions)
