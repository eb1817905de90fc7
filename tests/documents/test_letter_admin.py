"""The administrator sets a committee's letter texts and logo in the admin; the logo must be a
real PNG or JPEG of at most 1 MB; meetings are listed with their announcement."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from documents.letters import logo_data_url
from grants.models import Committee, CommitteeMeeting
from grants.validators import validate_logo

from ..factories import committee as make_committee

pytestmark = pytest.mark.django_db


def image_bytes(kind="PNG", size=(160, 50)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 80, 122)).save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin", "admin@example.se", "pw"))
    return client


@pytest.fixture
def kfn(db):
    return make_committee()


def change_url(committee):
    return f"/admin/grants/committee/{committee.pk}/change/"


def form_data(committee, **changes):
    data = {
        "code": committee.code,
        "name": committee.name,
        "municipality": committee.municipality,
        "contact_email": committee.contact_email,
        "contact_phone": committee.contact_phone,
        "address": committee.address,
        "court": committee.court,
        "notice_board": committee.notice_board,
        "appeal_text": committee.appeal_text,
        # The committee's members (an inline formset): none added here.
        "members-TOTAL_FORMS": "0",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_the_letter_texts_have_their_own_fieldset(admin_client, kfn):
    page = admin_client.get(change_url(kfn)).content.decode()
    assert "Brevtexter" in page
    for field in ("address", "court", "notice_board", "appeal_text", "logo"):
        assert f'name="{field}"' in page, field
    assert "PNG eller JPEG, högst 1 MB" in page


def test_the_administrator_sets_court_appeal_text_address_and_logo(admin_client, kfn):
    logo = SimpleUploadedFile("nacka.png", image_bytes(), content_type="image/png")
    response = admin_client.post(
        change_url(kfn),
        form_data(
            kfn,
            court="Förvaltningsrätten i Uppsala",
            address="Granitvägen 15\r\n131 81 Nacka",
            appeal_text="Beslutet kan överklagas genom laglighetsprövning.",
            logo=logo,
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    kfn.refresh_from_db()
    assert kfn.court == "Förvaltningsrätten i Uppsala" and kfn.logo.name.startswith("committee-logos/")
    assert logo_data_url(kfn).startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("logo.png", b"%PDF-1.4\n%%EOF\n", "måste vara en PNG- eller JPEG-bild"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1/x"/></svg>',
            "måste vara en PNG- eller JPEG-bild",
        ),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (1024 * 1024), "högst 1 MB"),
        ("logo.png", b"\x89PNG\r\n\x1a\n" + b"trasig", "går inte att läsa som bild"),
        ("logo.jpg", image_bytes("PNG"), None),  # a PNG with a .jpg name is still a PNG: accepted
    ],
)
def test_the_logo_is_checked_by_its_content_and_size(admin_client, kfn, name, content, message):
    response = admin_client.post(change_url(kfn), form_data(kfn, logo=SimpleUploadedFile(name, content)))
    kfn.refresh_from_db()
    if message is None:
        assert response.status_code == 302 and kfn.logo
        return
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not kfn.logo


def test_validate_logo_accepts_png_and_jpeg():
    assert validate_logo(SimpleUploadedFile("a.png", image_bytes("PNG"))) == "image/png"
    assert validate_logo(SimpleUploadedFile("a.jpeg", image_bytes("JPEG"))) == "image/jpeg"
    with pytest.raises(ValidationError, match="PNG- eller JPEG"):
        validate_logo(SimpleUploadedFile("a.gif", image_bytes("GIF")))


def test_a_stored_logo_that_is_not_an_image_is_left_out_of_the_letter(kfn):
    kfn.logo.save("logo.png", io.BytesIO(b"<svg/>"), save=True)
    assert logo_data_url(Committee.objects.get(pk=kfn.pk)) == ""


def test_meetings_are_listed_with_their_announcement_and_appeal_deadline(admin_client, kfn):
    meeting = CommitteeMeeting.objects.create(
        committee=kfn, held_on=dt.date(2026, 3, 5), announced_on=dt.date(2026, 3, 12)
    )
    CommitteeMeeting.objects.create(committee=kfn, held_on=dt.date(2026, 4, 2))
    page = admin_client.get("/admin/grants/committeemeeting/").content.decode()
    assert "Kultur- och fritidsnämnden" in page
    assert "2026-03-05" in page or "5 mars 2026" in page
    assert "2026-03-12" in page or "12 mars 2026" in page
    assert "2026-04-02" in page or "2 april 2026" in page
    # Read-only here: the announcement is entered on the meeting's staff page.
    detail = admin_client.get(f"/admin/grants/committeemeeting/{meeting.pk}/change/")
    assert detail.status_code == 200
    assert f"/staff/sammantraden/{meeting.pk}/" in detail.content.decode()
    assert (
        admin_client.post(
            f"/admin/grants/committeemeeting/{meeting.pk}/change/", {"announced_on": "2026-03-20"}
        ).status_code
        == 403
    )
    meeting.refresh_from_db()
    assert meeting.announced_on == dt.date(2026, 3, 12)


def test_a_protocol_cannot_be_announced_before_the_meeting(kfn):
    meeting = CommitteeMeeting(committee=kfn, held_on=dt.date(2026, 3, 5), announced_on=dt.date(2026, 3, 4))
    with pytest.raises(ValidationError, match="före sammanträdet"):
        meeting.full_clean()
