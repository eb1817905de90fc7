"""The rules of linking an e-legitimation, without a provider: the number is kept only as a
keyed hash, one per account, one account per number, and never the last way in removed."""

import pytest
from django.core.exceptions import ValidationError

from grants.identity import accounts
from grants.identity.models import Identity, SecurityEvent
from grants.identity.oidc import SignInFailed
from tests.oidc import ANNA_PERSONNUMMER, EVE_PERSONNUMMER, PERSONNUMMER_CLAIM

pytestmark = pytest.mark.django_db


def test_the_key_is_a_keyed_hash(settings):
    key = accounts.personnummer_key(ANNA_PERSONNUMMER)
    assert ANNA_PERSONNUMMER not in key and len(key) == 64
    settings.IDENTITY_HASH_KEY = "another key"
    assert accounts.personnummer_key(ANNA_PERSONNUMMER) != key


@pytest.mark.parametrize("value", ["", "19850312-9284", "8503129283", "abc", None])
def test_a_claim_that_is_no_personnummer_is_refused(value):
    with pytest.raises(SignInFailed):
        accounts.personnummer_from_claims({PERSONNUMMER_CLAIM: value})


def test_a_personnummer_with_a_hyphen_is_read(settings):
    assert accounts.personnummer_from_claims({PERSONNUMMER_CLAIM: "19850312-9283"}) == ANNA_PERSONNUMMER


def test_one_e_legitimation_per_account(anna):
    accounts.eid_link(user=anna, personnummer=ANNA_PERSONNUMMER)
    with pytest.raises(ValidationError, match="redan en annan e-legitimation"):
        accounts.eid_link(user=anna, personnummer=EVE_PERSONNUMMER)
    assert anna.identities.count() == 1
    assert SecurityEvent.objects.filter(kind="identity_linked").count() == 1


def test_the_only_way_in_is_not_removed(anna):
    accounts.eid_link(user=anna, personnummer=ANNA_PERSONNUMMER)
    anna.set_unusable_password()
    anna.save()
    with pytest.raises(ValidationError, match="enda sätt att logga in"):
        accounts.eid_unlink(user=anna)
    assert Identity.objects.filter(user=anna).exists()
