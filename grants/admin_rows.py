"""The administrator's inputs for a programme's configuration: rows of plain inputs instead of
JSON typed into a text box, and no JavaScript.

A rows field (RowsField) shows each stored item (a question, a part of the payment plan, an
attachment, …) as a block of labelled inputs named `<prefix>-<n>-<column>`, then three empty
blocks for new items; saving with more filled in gives three new empty ones. Empty blocks are
left out, and so are those whose "Ta bort" box is ticked. The field turns the blocks back into
the list stored in the programme's JSON field, refusing in Swedish what it cannot read; what
Programme.clean() then refuses lands on the same field, as the form field has the model
field's name. Stored configuration comes back unchanged when saved without changes.

The calculator's parameters (CalculatorParamsField) are one group of inputs per calculator,
each under the calculator's name; only the chosen calculator's are stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from . import calculators, questions
from .fields import KRONOR
from .models import FOLLOW_UP_PARTS
from .validators import RELEASES

EXTRA = 3  # empty blocks after the stored ones
MOST_ROWS = 200  # what a posted count may say: more is someone else's form
CSS: dict[str, Sequence[str]] = {"all": ["css/admin-rows.css"]}


@dataclass(frozen=True)
class Column:
    """One input of a block: `kind` is text, textarea, lines (one item a line), number, select
    or checkbox. A checkbox does not make a block filled in; `checked` is its state in an empty
    block."""

    name: str
    label: str
    kind: str = "text"
    choices: tuple[tuple[str, str], ...] = ()
    checked: bool = False


class Rows(list):
    """The blocks as posted: a list of {column: text or bool}, the empty ones left out."""


def _attrs(**attrs: Any) -> SafeString:
    return format_html_join(
        "", ' {}="{}"', ((name.replace("_", "-"), value) for name, value in attrs.items() if value is not None)
    )


def _input(column: Column, name: str, id_: str, value: Any) -> SafeString:
    if column.kind == "checkbox":
        return format_html(
            '<div class="admin-row-check"><input type="checkbox"{}{}><label for="{}">{}</label></div>',
            _attrs(name=name, id=id_),
            mark_safe(" checked") if value else "",
            id_,
            column.label,
        )
    label = format_html('<label for="{}">{}</label>', id_, column.label)
    if column.kind in ("textarea", "lines"):
        field = format_html(
            "<textarea{}>\n{}</textarea>", _attrs(name=name, id=id_, rows=3 if column.kind == "lines" else 2), value
        )
    elif column.kind == "select":
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((key, mark_safe(" selected") if key == value else "", text) for key, text in column.choices),
        )
        field = format_html("<select{}>{}</select>", _attrs(name=name, id=id_), options)
    else:
        numeric = column.kind == "number"
        field = format_html(
            "<input{}>",
            _attrs(type="text", name=name, id=id_, value=value, inputmode="numeric" if numeric else None),
        )
    return format_html('<div class="admin-row-input">{}{}</div>', label, field)


class RowsWidget(forms.Widget):
    """N blocks of inputs, one per row, then EXTRA empty ones, and the count of blocks."""

    def __init__(self, *, columns: Sequence[Column], row_name: str, prefix: str | None = None) -> None:
        super().__init__()
        self.columns, self.row_name, self.prefix = tuple(columns), row_name, prefix

    @property
    def media(self) -> forms.Media:
        return forms.Media(css=CSS)

    def _prefix(self, name: str) -> str:
        return self.prefix or name

    def id_for_label(self, id_: str) -> str:
        return ""  # each input has its own label; the field's own names the whole group

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False  # the inputs' names are prefixed: the field's own name is never posted

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Rows:
        prefix = self._prefix(name)
        try:
            count = min(int(data.get(f"{prefix}-count", 0)), MOST_ROWS)
        except (TypeError, ValueError):
            count = 0
        rows = Rows()
        for index in range(count):
            if f"{prefix}-{index}-delete" in data:
                continue
            row = {
                column.name: (
                    f"{prefix}-{index}-{column.name}" in data
                    if column.kind == "checkbox"
                    else str(data.get(f"{prefix}-{index}-{column.name}", "")).strip()
                )
                for column in self.columns
            }
            if any(row[column.name] for column in self.columns if column.kind != "checkbox"):
                rows.append(row)
        return rows

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        prefix = self._prefix(name)
        rows = list(value) if isinstance(value, list) else []
        empty = {column.name: column.checked if column.kind == "checkbox" else "" for column in self.columns}
        blocks = []
        for index, row in enumerate(rows + [empty] * EXTRA):
            number = index + 1
            is_new = index >= len(rows)
            inputs = [
                _input(
                    column,
                    f"{prefix}-{index}-{column.name}",
                    f"id_{prefix}-{index}-{column.name}",
                    row.get(column.name),
                )
                for column in self.columns
            ]
            if not is_new:
                remove = Column("delete", f"Ta bort {self.row_name.lower()} {number}", "checkbox")
                inputs.append(_input(remove, f"{prefix}-{index}-delete", f"id_{prefix}-{index}-delete", False))
            legend = f"{self.row_name} {number}" + (" (ny, fyll i för att lägga till)" if is_new else "")
            blocks.append(
                format_html(
                    '<fieldset class="admin-row"><legend>{}</legend>{}</fieldset>', legend, mark_safe("".join(inputs))
                )
            )
        count = format_html('<input type="hidden"{}>', _attrs(name=f"{prefix}-count", value=len(rows) + EXTRA))
        return format_html('<div class="admin-rows">{}{}</div>', mark_safe("".join(blocks)), count)


class RowsField(forms.Field):
    """A list of items edited as blocks of inputs. Subclasses give the columns and turn an
    item into a block (row_of) and a filled-in block back into an item (item_of); check()
    looks at the items together."""

    columns: tuple[Column, ...] = ()
    row_name = "Rad"

    def __init__(self, *, prefix: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs["widget"] = RowsWidget(columns=self.columns, row_name=self.row_name, prefix=prefix)
        super().__init__(**kwargs)

    def row_of(self, item: Any) -> dict[str, Any]:
        raise NotImplementedError

    def item_of(self, row: Mapping[str, Any], name: str) -> Any:
        """The stored item of a filled-in block, or ValidationError naming the block (`name`)."""
        raise NotImplementedError

    def check(self, items: list[Any]) -> None:
        """Refuse what is wrong between the items (two with the same key, …)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Rows):
            return value
        if not isinstance(value, list):
            return Rows()
        return Rows(self.row_of(item) for item in value if isinstance(item, dict))

    def to_python(self, value: Any) -> list[Any]:
        rows = value if isinstance(value, Rows) else self.prepare_value(value)
        items, problems = [], []
        for number, row in enumerate(rows, start=1):
            try:
                items.append(self.item_of(row, f"{self.row_name} {number}"))
            except ValidationError as error:
                problems += error.messages
        if problems:
            raise ValidationError(problems)
        self.check(items)
        return items

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return self.to_python(data) != (initial or [])
        except ValidationError:
            return True


def _lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def _key_of(row: Mapping[str, Any], name: str, *, example: str) -> str:
    """The block's key as written, or made from its Swedish label when left empty."""
    key = row.get("key") or slugify(row.get("label") or "")[:40].strip("-")
    if not key:
        raise ValidationError(f"{name}: skriv en nyckel, t.ex. ”{example}”.")
    if not questions.KEY.match(key) or len(key) > 40:
        raise ValidationError(
            f"{name}: nyckeln ”{key}” får bara ha bokstäver a–z, siffror, - och _ (högst 40 tecken, "
            f"inga mellanslag eller å, ä, ö), t.ex. ”{example}”."
        )
    return key


def _unique_keys(items: Iterable[Mapping[str, Any]], row_name: str) -> None:
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        if item["key"] in seen:
            raise ValidationError(
                f"{row_name} {number}: nyckeln ”{item['key']}” används redan av {row_name.lower()} "
                f"{seen[item['key']]}. Varje {row_name.lower()} behöver en egen."
            )
        seen[item["key"]] = number


# --- the application's questions ----------------------------------------------------------------

TYPE_NAMES = {
    "text": "Kort text",
    "textarea": "Lång text",
    "number": "Tal",
    "yesno": "Ja eller nej",
    "choice": "Val ur svarsalternativen",
    "date": "Datum",
}


class QuestionsField(RowsField):
    """Programme.application_questions (the format is in grants.questions' docstring)."""

    row_name = "Fråga"
    columns = (
        Column("label", "Frågan på svenska"),
        Column("label_en", "Frågan på engelska (frivilligt)"),
        Column("type", "Typ av svar", "select", (("", "Välj typ …"),) + tuple(TYPE_NAMES.items())),
        Column("required", "Måste besvaras", "checkbox", checked=True),
        Column("help", "Hjälptext på svenska (frivilligt)", "textarea"),
        Column("help_en", "Hjälptext på engelska (frivilligt)", "textarea"),
        Column("choices", "Svarsalternativ på svenska, ett per rad (bara för val)", "lines"),
        Column("choices_en", "Svarsalternativ på engelska, ett per rad i samma ordning (frivilligt)", "lines"),
        Column("show_if_question", "Visas bara om frågan med nyckeln … (frivilligt)"),
        Column("show_if_equals", "… har besvarats med (ja, nej eller ett svarsalternativ)"),
        Column("key", "Nyckel (frågans namn i systemet; tom: skapas av frågan)"),
    )

    def row_of(self, item: Any) -> dict[str, Any]:
        show_if = item.get("show_if") if isinstance(item.get("show_if"), dict) else {}
        return {
            "key": item.get("key", ""),
            "label": item.get("label", ""),
            "label_en": item.get("label_en", ""),
            "type": item.get("type", ""),
            "required": item.get("required", True) is not False,
            "help": item.get("help", ""),
            "help_en": item.get("help_en", ""),
            "choices": "\n".join(str(choice) for choice in item.get("choices") or []),
            "choices_en": "\n".join(str(choice) for choice in item.get("choices_en") or []),
            "show_if_question": show_if.get("question", ""),
            "show_if_equals": show_if.get("equals", ""),
        }

    def item_of(self, row: Mapping[str, Any], name: str) -> dict[str, Any]:
        problems = []
        if not row["label"]:
            problems.append(f"{name}: skriv frågan på svenska, som den sökande ska se den.")
        if row["type"] not in TYPE_NAMES:
            problems.append(f"{name}: välj typ av svar.")
        try:
            key = _key_of(row, name, example="meeting_place")
        except ValidationError as error:
            problems += error.messages
        if bool(row["show_if_question"]) != bool(row["show_if_equals"]):
            problems.append(
                f"{name}: ange både vilken fråga och vilket svar som visar frågan, eller inget av dem "
                f"(då visas den alltid)."
            )
        if problems:
            raise ValidationError(problems)
        item: dict[str, Any] = {"key": key, "label": row["label"], "type": row["type"]}
        if not row["required"]:
            item["required"] = False
        for text in ("label_en", "help", "help_en"):
            if row[text]:
                item[text] = row[text]
        for lines in ("choices", "choices_en"):
            if _lines(row[lines]):
                item[lines] = _lines(row[lines])
        if row["show_if_question"]:
            item["show_if"] = {"question": row["show_if_question"], "equals": row["show_if_equals"]}
        return item

    def check(self, items: list[Any]) -> None:
        _unique_keys(items, self.row_name)
        by_key = {item["key"]: item for item in items}
        problems = []
        for number, item in enumerate(items, start=1):
            condition = item.get("show_if")
            if not condition:
                continue
            name, other = f"{self.row_name} {number}", by_key.get(condition["question"])
            if other is None or other is item:
                keys = ", ".join(key for key in by_key if key != item["key"]) or "inga"
                problems.append(
                    f"{name}: ”visas bara om” ska ange nyckeln för en annan fråga i listan (nycklar: {keys})."
                )
            elif other["type"] == "yesno":
                answer = condition["equals"].lower()
                if answer not in (questions.YES, questions.NO):
                    problems.append(f"{name}: frågan ”{other['key']}” besvaras med ja eller nej.")
                condition["equals"] = answer
            elif other["type"] == "choice" and condition["equals"] not in other.get("choices", []):
                problems.append(
                    f"{name}: ”{condition['equals']}” är inget av svarsalternativen till frågan ”{other['key']}” "
                    f"({', '.join(other.get('choices', []))})."
                )
        if problems:
            raise ValidationError(problems)


# --- the payment plan ---------------------------------------------------------------------------

RELEASE_NAMES = {"decision": "Vid beslut", "follow_up": "Efter godkänd återrapport"}
assert set(RELEASE_NAMES) == set(RELEASES)


class PaymentPlanField(RowsField):
    """Programme.payment_plan: parts of the amount, each paid at the decision or after the
    follow-up report is approved (grants.validators.validate_payment_plan)."""

    row_name = "Del"
    columns = (
        Column("percent", "Andel i procent", "number"),
        Column("release", "Betalas ut", "select", (("", "Välj när …"),) + tuple(RELEASE_NAMES.items())),
    )

    def row_of(self, item: Any) -> dict[str, Any]:
        return {"percent": str(item.get("percent", "")), "release": item.get("release", "")}

    def item_of(self, row: Mapping[str, Any], name: str) -> dict[str, Any]:
        problems = []
        percent = row["percent"].rstrip("%").strip()
        if not re.fullmatch(r"\d{1,3}", percent):
            problems.append(f"{name}: skriv andelen som ett heltal i procent, t.ex. 85.")
        if row["release"] not in RELEASE_NAMES:
            problems.append(f"{name}: välj när delen betalas ut.")
        if problems:
            raise ValidationError(problems)
        return {"percent": int(percent), "release": row["release"]}


# --- required attachments -----------------------------------------------------------------------


class AttachmentsField(RowsField):
    """Programme.required_attachments: [{"key", "label", "label_en", "required"}]."""

    row_name = "Bilaga"
    columns = (
        Column("label", "Bilagans namn på svenska"),
        Column("label_en", "Namn på engelska (frivilligt)"),
        Column("required", "Måste bifogas", "checkbox", checked=True),
        Column("key", "Nyckel (bilagans namn i systemet; tom: skapas av namnet)"),
    )

    def row_of(self, item: Any) -> dict[str, Any]:
        return {
            "key": item.get("key", ""),
            "label": item.get("label", ""),
            "label_en": item.get("label_en", ""),
            "required": item.get("required", True) is not False,
        }

    def item_of(self, row: Mapping[str, Any], name: str) -> dict[str, Any]:
        if not row["label"]:
            raise ValidationError(f"{name}: skriv bilagans namn, t.ex. ”Projektbudget”.")
        key = _key_of(row, name, example="projektbudget")
        return {"key": key, "label": row["label"], "label_en": row["label_en"], "required": bool(row["required"])}

    def check(self, items: list[Any]) -> None:
        _unique_keys(items, self.row_name)


# --- the eligibility check's questions ----------------------------------------------------------


class EligibilityQuestionsField(RowsField):
    """Programme.eligibility_questions: [{"question", "answer": "ja"|"nej", "otherwise"}]
    (grants.validators.validate_eligibility_questions)."""

    row_name = "Fråga"
    columns = (
        Column("question", "Frågan"),
        Column("answer", "Svaret som krävs", "select", (("", "Välj svar …"), ("ja", "Ja"), ("nej", "Nej"))),
        Column("otherwise", "Vad den som svarar annorlunda får veta", "textarea"),
    )

    def row_of(self, item: Any) -> dict[str, Any]:
        return {name: str(item.get(name, "")) for name in ("question", "answer", "otherwise")}

    def item_of(self, row: Mapping[str, Any], name: str) -> dict[str, Any]:
        problems = []
        if not row["question"]:
            problems.append(f"{name}: skriv frågan.")
        if row["answer"] not in ("ja", "nej"):
            problems.append(f"{name}: välj vilket svar som krävs, ja eller nej.")
        if not row["otherwise"]:
            problems.append(f"{name}: skriv vad den som svarar annorlunda får veta.")
        if problems:
            raise ValidationError(problems)
        return {"question": row["question"], "answer": row["answer"], "otherwise": row["otherwise"]}


# --- lists --------------------------------------------------------------------------------------


class LinesField(forms.CharField):
    """A list of texts, one a line (priority areas, target groups)."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(str(item) for item in value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return _lines(value)

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(data) != (initial or [])


def follow_up_parts_field(**kwargs: Any) -> forms.MultipleChoiceField:
    """Programme.follow_up_parts: which of the follow-up report's parts the programme asks for."""
    return forms.MultipleChoiceField(
        choices=list(FOLLOW_UP_PARTS.items()), widget=forms.CheckboxSelectMultiple, required=False, **kwargs
    )


# --- the calculator's parameters ----------------------------------------------------------------


class Params(dict):
    """The parameter inputs as posted: {calculator: {parameter: text}}."""


class CalculatorParamsWidget(forms.Widget):
    """Every calculator's parameters, grouped under its name: which one is used is chosen in
    the calculator field, without JavaScript; `calculator` is the one whose stored values are
    shown."""

    calculator = ""

    @property
    def media(self) -> forms.Media:
        return forms.Media(css=CSS)

    def id_for_label(self, id_: str) -> str:
        return ""

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Params:
        return Params(
            {
                key: {param.name: str(data.get(f"{name}-{key}-{param.name}", "")).strip() for param in calc.params}
                for key, calc in _calculators()
            }
        )

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        value = value if isinstance(value, Params) else Params()
        groups = []
        for key, calc in _calculators():
            if calc.params:
                inputs = mark_safe(
                    "".join(
                        _param_input(param, f"{name}-{key}-{param.name}", value.get(key, {}).get(param.name, ""))
                        for param in calc.params
                    )
                )
            else:
                inputs = mark_safe("<p>Inga parametrar: beloppet är det sökta.</p>")
            groups.append(
                format_html('<fieldset class="admin-row"><legend>{}</legend>{}</fieldset>', calc.label, inputs)
            )
        note = mark_safe(
            '<p class="admin-rows-note">Fyll i parametrarna under den beräkning som är vald ovan; de andra sparas inte.</p>'
        )
        return format_html('<div class="admin-rows">{}{}</div>', note, mark_safe("".join(groups)))


def _calculators() -> list[tuple[str, calculators.Calculator]]:
    return [(key, calculators.get(key)) for key, _label in calculators.CHOICES]


def _param_input(param: calculators.Param, name: str, value: str) -> SafeString:
    id_ = f"id_{name}"
    help_id = f"{id_}_helptext"
    return format_html(
        '<div class="admin-row-input"><label for="{}">{}</label><input{}>{}</div>',
        id_,
        param.label + ("" if param.required else " (frivilligt)"),
        _attrs(
            type="text",
            name=name,
            id=id_,
            value=value,
            inputmode="numeric" if param.whole else "decimal",
            aria_describedby=help_id if param.help_text else None,
        ),
        format_html('<div class="help" id="{}">{}</div>', help_id, param.help_text) if param.help_text else "",
    )


def _param_value(param: calculators.Param, text: str, calc: calculators.Calculator) -> Any:
    """A parameter as stored: a count as a number, an amount as a decimal string."""
    where = f"”{param.label}” under ”{calc.label}”"
    if param.whole:
        if not re.fullmatch(r"\d{1,6}", text.replace(" ", "")):
            raise ValidationError(f"{where}: skriv ett heltal, t.ex. 3.")
        return int(text.replace(" ", ""))
    match = KRONOR.fullmatch(text)
    if match is None:
        raise ValidationError(f"{where}: skriv ett belopp i kronor, t.ex. 10 000 eller 12,50.")
    whole = re.sub(r"\D", "", match["whole"])
    return format(Decimal(f"{whole}.{match['ore']}" if match["ore"] else whole), "f")


class CalculatorParamsField(forms.Field):
    """Programme.calculator_params, as typed fields for each calculator. The field reads every
    calculator's inputs; the form keeps the chosen one's (chosen())."""

    widget = CalculatorParamsWidget

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Params):
            return value
        stored = value if isinstance(value, dict) else {}
        key = self.widget.calculator
        calc = dict(_calculators()).get(key)
        if calc is None:
            return Params()
        return Params({key: {param.name: str(stored.get(param.name, "")) for param in calc.params}})

    def to_python(self, value: Any) -> Params:
        return value if isinstance(value, Params) else self.prepare_value(value)

    def has_changed(self, initial: Any, data: Any) -> bool:
        # The stored calculator's inputs (a change of calculator is the calculator field's).
        key = self.widget.calculator
        return self.prepare_value(initial).get(key) != self.to_python(data).get(key)

    def chosen(self, posted: Params, key: str, stored: Mapping[str, Any]) -> dict[str, Any]:
        """The chosen calculator's parameters as stored; a value that reads the same as the
        stored one keeps its stored form ("5000" stays "5000", 3 stays 3)."""
        calc = calculators.get(key)
        params, problems = {}, []
        for param in calc.params:
            text = posted.get(key, {}).get(param.name, "")
            if not text:
                if param.required:
                    problems.append(f"Fyll i ”{param.label}” under ”{calc.label}”, den beräkning som är vald.")
                continue
            try:
                value = _param_value(param, text, calc)
            except ValidationError as error:
                problems += error.messages
                continue
            before = stored.get(param.name)
            if before is not None and str(before) == text:
                value = before
            params[param.name] = value
        if problems:
            raise ValidationError(problems)
        return params
