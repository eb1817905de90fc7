"""The attachments a programme asks for (Programme.required_attachments, validated by
grants.validators.validate_required_attachments): what the applicant uploads a file for in
the portal's "Bilagor" step, what stops a submission when missing, and the officer's
checklist. A file is one of them when its Document.attachment_key is the attachment's key."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import translation


def _in_english() -> bool:
    return (translation.get_language() or "").split("-")[0] == "en"


def label_of(item: dict[str, Any]) -> str:
    """The attachment's name in the reader's language (English falls back to Swedish)."""
    return (item.get("label_en") if _in_english() else None) or item["label"]


def is_required(item: dict[str, Any]) -> bool:
    return bool(item.get("required", True))


def rows(programme, documents: Iterable) -> list[dict[str, Any]]:
    """One row per configured attachment, in the programme's order: its key, label, whether
    it is required, and the application's attachment files that are it (Document.Kind.ATTACHMENT)."""
    documents = [d for d in documents if d.kind == "attachment"]
    return [
        {
            "key": item["key"],
            "label": label_of(item),
            "required": is_required(item),
            "documents": [d for d in documents if d.attachment_key == item["key"]],
        }
        for item in programme.required_attachments or []
    ]


def missing(programme, documents: Iterable) -> list[dict[str, Any]]:
    """The required attachments no file is for yet."""
    return [row for row in rows(programme, documents) if row["required"] and not row["documents"]]


def others(programme, documents: Iterable) -> list:
    """The attachment files that are none of the configured attachments."""
    keys = {item["key"] for item in programme.required_attachments or []}
    return [d for d in documents if d.kind == "attachment" and d.attachment_key not in keys]
