"""The Content-Security-Policy (django-csp, config/settings.py): on every answer, with no
inline scripts allowed, and no template of ours that would need them."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from config.csp import form_action
from tests import factories

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy(response):
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


def test_every_kind_of_page_has_the_policy(client, anna, olle):
    answers = {"catalogue": client.get("/bidrag/"), "login": client.get("/konto/logga-in/"), "404": client.get("/nej/")}
    client.force_login(anna)
    answers["portal"] = client.get("/portal/")
    client.force_login(olle)
    answers["staff"] = client.get("/staff/arenden/")
    admin = factories.user("admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    answers["admin"] = client.get("/admin/")
    for name, response in answers.items():
        assert response.status_code in {200, 404}, name
        directives = policy(response)
        assert directives["script-src"] == ["'self'"], name
        assert directives["default-src"] == ["'self'"] and directives["object-src"] == ["'none'"], name
        assert directives["frame-ancestors"] == ["'none'"] and directives["base-uri"] == ["'self'"], name
        assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]


def test_forms_may_go_to_the_sign_in_providers_only(client):
    assert policy(client.get("/bidrag/"))["form-action"] == ["'self'"]  # no provider configured here
    issuers = ("https://eid.kommun.se/oidc/", "", "https://login.kommun.se:8443/x", "https://eid.kommun.se")
    assert form_action(*issuers) == ["'self'", "https://eid.kommun.se", "https://login.kommun.se:8443"]


def test_a_provider_configured_after_start_is_allowed_at_once(client, settings):
    settings.OIDC_EID_ISSUER = "https://eid.kommun.se/oidc"
    assert policy(client.get("/bidrag/"))["form-action"] == ["'self'", "https://eid.kommun.se"]


def test_no_template_of_ours_has_an_inline_script_or_event_handler():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
    javascript_url = re.compile(r"""href\s*=\s*["']\s*javascript:""", re.I)
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (inline_script, handler, javascript_url):
            found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)[:80]}" for m in pattern.finditer(text)]
    assert found == []


def test_the_pattern_check_finds_what_it_looks_for():
    """The check above can fail: the same patterns on a page that breaks the rule."""
    bad = '<script>alert(1)</script><a href="#" onclick="x()">x</a>'
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", bad) and re.search(r"<[a-z][^>]*\son[a-z]+\s*=", bad)
