"""The eligibility check (kan vi söka?): a visitor's answers against a programme's rules.

The rules are the programme's data: who may apply (registered associations, or also
informal groups with a sponsor association), the minimum number of members, and the
programme's own yes/no questions. The verdict says whether and how to apply, and why not.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import Programme


@dataclass
class Verdict:
    may_apply: bool
    with_sponsor: bool = False
    reasons: list[str] = field(default_factory=list)


def eligibility_verdict(
    programme: "Programme", *, registered: bool, members: int | None = None, answers: Sequence[str] = ()
) -> Verdict:
    """`registered`: the applicant is a registered association with an organisationsnummer.
    `members`: how many members it has (asked only when the programme sets a minimum).
    `answers`: "ja"/"nej" for each of programme.eligibility_questions, in order."""
    reasons: list[str] = []
    with_sponsor = False
    if not registered:
        if programme.accepts_informal_groups:
            with_sponsor = True
        else:
            reasons.append(
                _(
                    "Bidraget kan bara sökas av registrerade föreningar med organisationsnummer. "
                    "En grupp som inte är en förening kan bilda en förening, eller söka ett bidrag "
                    "som tar emot ansökningar från grupper med medsökare."
                )
            )
    if registered and programme.min_members and (members is None or members < programme.min_members):
        reasons.append(
            _("Föreningen behöver minst %(count)s medlemmar för att söka bidraget.") % {"count": programme.min_members}
        )
    for question, answer in zip(programme.eligibility_questions, answers):
        if answer != question["answer"]:
            reasons.append(question["otherwise"])
    if len(answers) < len(programme.eligibility_questions):
        reasons.append(_("Svara på alla frågor."))
    return Verdict(may_apply=not reasons, with_sponsor=with_sponsor and not reasons, reasons=reasons)
