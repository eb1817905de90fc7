"""A programme's own application questions: what an administrator configures in
Programme.application_questions, the form the portal's "Frågor" step builds from it, what a
draft still lacks before it can be sent, and the answers as people read them.

The configuration is a list of questions, each a dict:

    {"key": "meeting_place", "label": "Var träffas ni?", "type": "text", "required": true,
     "help": "…", "choices": ["…"], "label_en": "…", "help_en": "…", "choices_en": ["…"]}

Only key, label and type are needed; a question is required unless it says
"required": false. The English texts are used when the applicant reads the portal in
English, and fall back to the Swedish ones.

Answers are stored in Application.answers by key, always as JSON-safe strings:
text and textarea as written (trimmed), number as a decimal string with a point ("12.5"),
yesno as "ja" or "nej", choice as the Swedish choice itself (the English one is only shown),
date as ISO 8601 ("2026-09-15"). An unanswered question has no key. An answer whose
question was later removed is kept, and shown under its key.
"""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, translation
from django.utils.translation import gettext as _

from . import limits
from .fields import text_field

TYPES = ("text", "textarea", "number", "yesno", "choice", "date")
KNOWN = {"key", "label", "type", "required", "help", "choices", "label_en", "help_en", "choices_en", "show_if"}
KEY = re.compile(r"^[-a-zA-Z0-9_]+\Z")
YES, NO = "ja", "nej"
FIELD_PREFIX = "q_"
# A choice question with more choices than this is a drop-down list instead of radio buttons.
MAX_RADIOS = 6

# For the administrator (the admin is in Swedish, as the rest of Programme's validation).
HELP_TEXT = (
    'Egna frågor i ansökan, i ett eget steg "Frågor". Tom lista: inget sådant steg. T.ex. '
    '[{"key": "meeting_place", "label": "Var träffas ni?", "type": "text", "help": "Adress eller lokal.", '
    '"label_en": "Where do you meet?"}, {"key": "members_under_25", "label": "Hur många medlemmar är under 25 år?", '
    '"type": "number", "required": false}, {"key": "area", "label": "Var i kommunen?", "type": "choice", '
    '"choices": ["Fisksätra", "Orminge", "Annat"]}]. Typer: text, textarea (lång text), number (tal), '
    'yesno (ja/nej), choice (val ur "choices"), date (datum). "key" är frågans namn i systemet: bokstäver a–z, '
    "siffror, - och _, och ändras inte när frågan väl har besvarats. En fråga är obligatorisk om den inte har "
    '"required": false. Engelska texter (frivilligt): "label_en", "help_en", "choices_en".'
)


# --- the configuration ------------------------------------------------------------------------


def _is_text(value):
    return isinstance(value, str) and value.strip() != ""


def _text_list(value):
    return isinstance(value, list) and value and all(_is_text(item) for item in value)


def _problems_of(number, item, seen):
    """What is wrong with question `number` (1-based), as Swedish messages for the admin."""
    if not isinstance(item, dict):
        return [f'Fråga {number}: ange frågan som ett objekt med "key", "label" och "type".']
    key = item.get("key")
    name = f"Fråga {number} (”{key}”)" if _is_text(key) else f"Fråga {number}"
    problems = []
    if not _is_text(key):
        problems.append(
            f'{name}: "key" saknas. Ange ett kort namn med bokstäver a–z, siffror, - och _, t.ex. "meeting_place".'
        )
    elif not KEY.match(key):
        problems.append(
            f'{name}: "key" får bara innehålla bokstäver a–z, siffror, - och _ (inga mellanslag '
            f'eller å, ä, ö), t.ex. "meeting_place".'
        )
    elif key in seen:
        problems.append(f'{name}: "key" används redan av fråga {seen[key]}. Varje fråga behöver en egen.')
    else:
        seen[key] = number
    unknown = sorted(str(k) for k in set(item) - KNOWN)
    if unknown:
        problems.append(f"{name}: okänd uppgift {', '.join(unknown)}. Möjliga: {', '.join(sorted(KNOWN))}.")
    if not _is_text(item.get("label")):
        problems.append(f'{name}: "label" saknas. Skriv frågan som den sökande ska se.')
    kind = item.get("type")
    if kind not in TYPES:
        problems.append(
            f"{name}: okänd typ ”{kind}”. Möjliga typer: {', '.join(TYPES)}."
            if kind is not None
            else f'{name}: "type" saknas. Möjliga typer: {", ".join(TYPES)}.'
        )
    if "required" in item and not isinstance(item["required"], bool):
        problems.append(f'{name}: "required" ska vara true eller false.')
    for text in ("help", "label_en", "help_en"):
        if text in item and not isinstance(item[text], str):
            problems.append(f'{name}: "{text}" ska vara en text.')
    choices = item.get("choices")
    if kind == "choice":
        if not _text_list(choices):
            problems.append(
                f'{name}: en fråga av typen choice behöver "choices", en lista med minst ett val, '
                f't.ex. ["Fisksätra", "Orminge"].'
            )
        elif len(set(choices)) != len(choices):
            problems.append(f'{name}: "choices" innehåller samma val två gånger.')
        elif "choices_en" in item and (not _text_list(item["choices_en"]) or len(item["choices_en"]) != len(choices)):
            problems.append(f'{name}: "choices_en" ska ha lika många val som "choices", i samma ordning.')
    elif "choices" in item or "choices_en" in item:
        problems.append(f'{name}: "choices" gäller bara frågor av typen choice.')
    return problems


def validate_questions(value):
    """Programme.clean()'s check of application_questions: every problem, each naming its
    question by number and key."""
    if not isinstance(value, list):
        raise ValidationError(
            'Ange en lista med frågor, t.ex. [{"key": "meeting_place", "label": "Var träffas ni?", "type": "text"}].'
        )
    seen = {}
    problems = [problem for number, item in enumerate(value, start=1) for problem in _problems_of(number, item, seen)]
    if problems:
        raise ValidationError(problems)


# --- in the applicant's language --------------------------------------------------------------


def _in_english():
    return (translation.get_language() or "").split("-")[0] == "en"


def label_of(question):
    return (question.get("label_en") if _in_english() else None) or question["label"]


def help_of(question):
    return (question.get("help_en") if _in_english() else None) or question.get("help", "")


def choices_of(question):
    """(stored value, shown text) for a choice question: the value is always the Swedish choice."""
    shown = question.get("choices_en") if _in_english() else None
    return list(zip(question["choices"], shown or question["choices"]))


def is_required(question):
    return question.get("required", True)


# --- the step's form --------------------------------------------------------------------------


def field_name(question):
    return FIELD_PREFIX + question["key"]


class AnswerDecimalField(forms.DecimalField):
    """A number as people write it, with a decimal comma or a point and spaces between thousands."""

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"\s", "", value).replace(",", ".")
        return super().to_python(value)


def _field_for(question):
    label, required = label_of(question), is_required(question)
    if not required:
        label = _("%(label)s (frivilligt)") % {"label": label}
    common = {
        "label": label,
        "required": required,
        "help_text": help_of(question),
        "error_messages": {"required": _("Svara på frågan ”%(label)s”.") % {"label": label_of(question)}},
    }
    kind = question["type"]
    if kind == "text":
        return text_field(max_length=limits.SHORT_TEXT, **common)
    if kind == "textarea":
        return text_field(max_length=limits.LONG_TEXT, rows=5, **common)
    if kind == "number":
        common["error_messages"]["invalid"] = _("Skriv ett tal, t.ex. 12 eller 12,5.")
        return AnswerDecimalField(
            max_digits=14,
            decimal_places=2,
            widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            **common,
        )
    if kind == "date":
        common["error_messages"]["invalid"] = _("Skriv datumet som ÅÅÅÅ-MM-DD, t.ex. 2026-09-15.")
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    choices = [(YES, _("Ja")), (NO, _("Nej"))] if kind == "yesno" else choices_of(question)
    # Django formats this message with the value posted: a % in the label must stay a %.
    common["error_messages"]["invalid_choice"] = _("Välj ett av svaren på frågan ”%(label)s”.") % {
        "label": label_of(question).replace("%", "%%")
    }
    if kind == "choice" and len(choices) > MAX_RADIOS:
        return forms.ChoiceField(choices=[("", _("Välj …"))] + choices, **common)
    return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)


def _stored(question, value):
    """A cleaned value as it is stored (see the module's docstring), or None when unanswered."""
    if value in (None, ""):
        return None
    kind = question["type"]
    if kind == "number":
        return format(value.normalize(), "f")  # 12.50 → "12.5", 100 → "100"
    if kind == "date":
        return value.isoformat()
    return value.strip() if isinstance(value, str) else value


class QuestionsForm(forms.Form):
    """The "Frågor" step: one field per question of the programme, in its order."""

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[field_name(question)] = _field_for(question)

    def answers(self):
        """The cleaned answers as stored, by key; unanswered questions have none."""
        stored = {
            question["key"]: _stored(question, self.cleaned_data.get(field_name(question)))
            for question in self.questions
        }
        return {key: value for key, value in stored.items() if value is not None}


def form_for(programme, answers=None, data=None):
    """The step's form for the programme's questions: bound to `data` when posted, else
    showing the saved `answers`."""
    initial = {field_name(q): (answers or {}).get(q["key"]) for q in programme.application_questions}
    return QuestionsForm(data, questions=programme.application_questions, initial=initial)


def missing_answers(programme, answers):
    """The required questions the saved answers do not answer (or no longer answer, as the
    question has changed since): a list of question dicts, in the programme's order."""
    answers = answers or {}
    data = {field_name(q): answers[q["key"]] for q in programme.application_questions if q["key"] in answers}
    form = QuestionsForm(data, questions=programme.application_questions)
    form.is_valid()
    return [
        q
        for q in programme.application_questions
        if is_required(q) and (field_name(q) in form.errors or q["key"] not in answers)
    ]


# --- reading ----------------------------------------------------------------------------------


def shown_answer(question, value):
    """A stored answer as people read it, in their language."""
    if value in (None, ""):
        return ""
    kind = question["type"] if question else None
    if kind == "yesno":
        return {YES: _("Ja"), NO: _("Nej")}.get(value, value)
    if kind == "choice":
        return dict(choices_of(question)).get(value, value)
    if kind == "number":
        try:
            return formats.number_format(Decimal(value), use_l10n=True)
        except (InvalidOperation, TypeError):
            return value
    return value


def answer_rows(questions, answers, *, removed=True):
    """(label, answer) for every question, answered or not, in the programme's order; then,
    unless `removed` is false, the answers to questions the programme no longer has, under
    their keys (the officer reads what was sent, even after the programme has changed)."""
    answers = answers or {}
    rows = [(label_of(q), shown_answer(q, answers.get(q["key"]))) for q in questions]
    if removed:
        current = {q["key"] for q in questions}
        rows += [(key, str(value)) for key, value in answers.items() if key not in current]
    return rows
