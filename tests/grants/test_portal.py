"""The applicant portal's forms, as Anna fills them in."""

import pytest

from grants.models import Application

from ..staff import draft

pytestmark = pytest.mark.django_db


def test_blank_budget_rows_are_left_out_not_refused(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    response = draft(
        client,
        inclusion_call,
        organisation=fisksatra,
        amount="10000",
        budget=(("cost", "Ledararvoden", "12000"), ("cost", "", ""), ("cost", "", "")),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    application = Application.objects.get()
    assert [(line.label, line.amount) for line in application.budget_lines.all()] == [("Ledararvoden", 12000)]


def test_a_half_filled_budget_row_is_refused_at_the_field(client, anna, fisksatra, inclusion_call):
    client.force_login(anna)
    response = draft(
        client,
        inclusion_call,
        organisation=fisksatra,
        amount="10000",
        budget=(("cost", "Ledararvoden", "12000"), ("cost", "Lokalhyra", ""), ("cost", "", "")),
    )
    assert response.status_code == 200
    assert "Detta fält måste fyllas i." in response.content.decode()
    assert not Application.objects.get().budget_lines.exists()  # the amount step saved nothing
