"""The schema's answers that DRF gives on every operation but drf-spectacular leaves out: a
refused request (400), no or a bad key (401), a key whose role or committees may not (403),
and nothing there (404), each with the Swedish reason in `detail`."""

from typing import Any

ERROR = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
ERRORS = {
    "400": ("Fel i förfrågan (parametrar eller innehåll)", {"type": "object", "additionalProperties": True}),
    "401": ("Ingen nyckel, eller en okänd, återkallad eller utgången", {"$ref": "#/components/schemas/Error"}),
    "403": ("Nyckelns roll eller nämnder räcker inte", {"$ref": "#/components/schemas/Error"}),
    "404": ("Finns inte, eller inte för den här nyckeln", {"$ref": "#/components/schemas/Error"}),
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, (description, schema) in ERRORS.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": schema}}}
                )
    return result
