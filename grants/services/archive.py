"""The e-archive's side of a case: that its archive package was taken out, written into its
history. documents/archive.py builds the package (FGS Paketstruktur with FGS Ärendehantering)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import access
from ..models import Application, CaseEvent
from ._base import record_event

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def archive_export_check(*, application: Application, by: User | None) -> None:
    """Who may take out a case's archive package: the records administrator of a committee she
    works for. `by` None is the system itself (the management command, run by the operator)."""
    if by is not None:
        access.require(access.may_export_archive(by))
        access.require(access.may_see_case(by, application))


def archive_export_record(*, application: Application, by: User | None, filename: str, sha256: str) -> CaseEvent:
    """Write "Arkivpaket framtaget" into the case's history, naming the package and its SHA-256."""
    archive_export_check(application=application, by=by)
    return record_event(application, by=by, action="Arkivpaket framtaget", note=f"{filename}, SHA-256 {sha256}")
