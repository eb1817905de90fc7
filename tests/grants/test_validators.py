"""Swedish numbers: organisationsnummer, bankgiro and plusgiro are refused in Swedish
when their check digit or form is wrong, and accepted when right."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.luhn import calc_check_digit

from grants.validators import validate_bankgiro, validate_orgnr, validate_plusgiro


def with_check_digit(body):
    return body + calc_check_digit(body)


def wrong_last_digit(number):
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def message_of(validator, value):
    with pytest.raises(ValidationError) as caught:
        validator(value)
    return " ".join(caught.value.messages)


# --- organisationsnummer ---------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["802412-1231", "8024121231", with_check_digit("556677889"), with_check_digit("202100525")]
)
def test_valid_organisationsnummer_is_accepted(value):
    validate_orgnr(value)


def test_organisationsnummer_with_wrong_check_digit_is_refused_in_swedish():
    message = message_of(validate_orgnr, "802412-1232")
    assert "Organisationsnumret 802412-1232 är inte giltigt" in message
    assert "NNNNNN-NNNN" in message


@pytest.mark.parametrize("value", ["80241-1231", "802412-12311", "80241A-1231", ""])
def test_organisationsnummer_of_wrong_length_or_with_letters_is_refused(value):
    assert "inte giltigt" in message_of(validate_orgnr, value)


def test_personnummer_is_refused_as_organisationsnummer():
    # A personnummer (born 12 May 1985): valid Luhn, but month 05 < 20.
    personal = with_check_digit("850512123")
    message = message_of(validate_orgnr, personal)
    assert "inget organisationsnummer" in message and "minst 20" in message


orgnr_bodies = st.tuples(
    st.text("0123456789", min_size=2, max_size=2),
    st.integers(min_value=20, max_value=99),
    st.text("0123456789", min_size=5, max_size=5),
).map(lambda parts: f"{parts[0]}{parts[1]:02d}{parts[2]}")


@given(orgnr_bodies)
def test_any_body_with_its_luhn_digit_is_an_organisationsnummer_and_a_changed_last_digit_is_not(body):
    number = with_check_digit(body)
    validate_orgnr(number)
    validate_orgnr(f"{number[:6]}-{number[6:]}")
    with pytest.raises(ValidationError):
        validate_orgnr(wrong_last_digit(number))


# --- bankgiro and plusgiro -------------------------------------------------------------


@pytest.mark.parametrize("value", ["5050-1055", "50501055", with_check_digit("123456"), with_check_digit("1234567")])
def test_valid_bankgiro_is_accepted(value):
    validate_bankgiro(value)


@pytest.mark.parametrize("value", ["5050-1056", wrong_last_digit(with_check_digit("1234567")), "12345", "123456789"])
def test_bankgiro_with_wrong_check_digit_or_length_is_refused_in_swedish(value):
    assert "Bankgironumret" in message_of(validate_bankgiro, value)
    assert "inte giltigt" in message_of(validate_bankgiro, value)


@pytest.mark.parametrize(
    "value",
    [
        with_check_digit("4"),
        with_check_digit("123456"),
        with_check_digit("1234567"),
        "12 34 56-" + calc_check_digit("123456"),
    ],
)
def test_valid_plusgiro_is_accepted(value):
    validate_plusgiro(value)


@pytest.mark.parametrize("value", [wrong_last_digit(with_check_digit("123456")), "1", "123456789"])
def test_plusgiro_with_wrong_check_digit_or_length_is_refused_in_swedish(value):
    message = message_of(validate_plusgiro, value)
    assert "Plusgironumret" in message and "inte giltigt" in message


@given(st.text("0123456789", min_size=6, max_size=7))
def test_bankgiro_with_its_luhn_digit_validates_and_a_changed_last_digit_does_not(body):
    number = with_check_digit(body)
    validate_bankgiro(number)
    with pytest.raises(ValidationError):
        validate_bankgiro(wrong_last_digit(number))
