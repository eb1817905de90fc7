"""The case history's actions (CaseEvent.action) in the reader's language.

An action is stored in Swedish: the history is the municipality's record, and it must read
the same whoever looked at the case in which language. The portal shows it translated:
`action_label(action)` maps a stored action to its text in the active language. The fixed
actions the services record are listed in ACTIONS (marked for the catalogue); the ones with
a part number, a decision's outcome or a letter's kind in them are matched by PATTERNS. An
action that neither knows (an old row, say) is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.translation import gettext, gettext_noop, override

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Every fixed action a service records (grants/services/*); a test
# (tests/test_translations.py) finds every action the code writes here or in PATTERNS.
ACTIONS = frozenset(
    [
        gettext_noop("Utkast skapat"),
        gettext_noop("Fil bifogad"),
        gettext_noop("Fil borttagen"),
        gettext_noop("Ansökan inkommen"),
        gettext_noop("Skickad till medsökaren för bekräftelse"),
        gettext_noop("Bekräftad av medsökaren"),
        gettext_noop("Avböjd av medsökaren"),
        gettext_noop("Ansökan återtagen"),
        gettext_noop("Komplettering begärd"),
        gettext_noop("Komplettering inkommen"),
        gettext_noop("Ansökan komplett"),
        gettext_noop("Jäv anmält"),
        gettext_noop("Bedömning klar"),
        gettext_noop("Granskare utsedd"),
        gettext_noop("Jäv anmält i granskning"),
        gettext_noop("Granskning inlämnad"),
        gettext_noop("Protokollet tillkännagivet"),
        gettext_noop("Innehållen utbetalning släppt"),
        gettext_noop("Återrapport sparad som utkast"),
        gettext_noop("Återrapport inlämnad"),
        gettext_noop("Återrapport godkänd"),
        gettext_noop("Komplettering av återrapport begärd"),
        gettext_noop("Återrapport underkänd"),
        gettext_noop("Återkrav beslutat"),
        gettext_noop("Återbetalning registrerad"),
        gettext_noop("Påminnelse om återrapport skickad"),
        gettext_noop("Ärendet avslutat"),
        gettext_noop("Ändring av bankkonto begärd"),
        gettext_noop("Ändring av bankkonto godkänd"),
        gettext_noop("Ändring av bankkonto avslagen"),
        gettext_noop("Meddelande till sökande"),
        gettext_noop("Meddelande från sökande"),
        gettext_noop("Intern anteckning"),
        gettext_noop("Klar för nämnden"),
        gettext_noop("På nämndens föredragningslista"),
        gettext_noop("Jäv i nämnden"),
        gettext_noop("Delegationsbeslutet anmält till nämnden"),
        gettext_noop("Sekretessmarkering"),
        gettext_noop("Sekretessmarkering hävd"),
        gettext_noop("Gallring enligt dokumenthanteringsplanen"),
        gettext_noop("Arkivpaket framtaget"),
    ]
)

# The parametrised actions: (how the stored Swedish reads, its text to translate). The
# named groups fill the placeholders; a group called `label` holds a choice's Swedish label,
# which is translated too (`_choice_label`).
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Utbetalning del (?P<part>\d+) attesterad$"), gettext_noop("Utbetalning del %(part)s attesterad")),
    (re.compile(r"^Utbetalning del (?P<part>\d+) i betalfil$"), gettext_noop("Utbetalning del %(part)s i betalfil")),
    (re.compile(r"^Utbetalning del (?P<part>\d+) utbetald$"), gettext_noop("Utbetalning del %(part)s utbetald")),
    (
        re.compile(r"^Utbetalning del (?P<part>\d+) misslyckades$"),
        gettext_noop("Utbetalning del %(part)s misslyckades"),
    ),
    (re.compile(r"^Beslut: (?P<label>.+)$"), gettext_noop("Beslut: %(label)s")),
    (re.compile(r"^(?P<label>.+) skickat$"), gettext_noop("%(label)s skickat")),
    (re.compile(r"^(?P<label>.+) upprättad$"), gettext_noop("%(label)s upprättad")),
    (re.compile(r"^(?P<label>.+) kunde inte skapas$"), gettext_noop("%(label)s kunde inte skapas")),
]


def in_swedish(text: StrOrPromise) -> str:
    """Text for the record, a lazy one (a choice's label, a format_lazy) evaluated in Swedish
    whatever the language of the request."""
    with override("sv"):
        return str(text)


def _choice_label(swedish: str, choices: Iterable[StrOrPromise]) -> StrOrPromise | None:
    """The lazy label among `choices` whose Swedish text is `swedish`, or None."""
    with override("sv"):
        return next((label for label in choices if str(label) == swedish), None)


def action_label(action: str, *, choices: Iterable[StrOrPromise] = ()) -> str:
    """The stored Swedish `action` in the active language; as stored if it is not known.
    choices: the lazy labels that may stand in a parametrised action (CaseEvent.label passes a
    decision's outcomes and the document kinds), so that this module needs no model."""
    if action in ACTIONS:
        return gettext(action)
    for pattern, text in PATTERNS:
        if match := pattern.match(action):
            values = match.groupdict()
            if "label" in values:
                label = _choice_label(values["label"], choices)
                if label is None:
                    continue
                values["label"] = label
            return gettext(text) % values
    return action
