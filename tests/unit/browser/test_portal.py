"""Portal profiles: the built-ins, a user's file, and every way a profile is rejected (with the key named)."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from popool_gui.batch.input import normalise_po
from popool_gui.batch.model import DEFAULT_PO_ID_REGEX
from popool_gui.browser.portal import (
    BUILTIN_PORTALS,
    DEFAULT_SERVER_ERROR_TEXT,
    PortalError,
    RequisitionWhen,
    css_syntax_error,
    load_portal,
)

VALID = """
name = "acme"
base_url = "https://acme.example.com/"
po_url = "{base_url}/order_headers/{po_id}"
po_id_regex = '^(?:P[OM])?[\\s-]*(\\d{6,})$'
[detect]
login_url_contains = ["/sessions/new"]
not_found_text = ["Oops"]
access_denied_text = ["Denied"]
[attachments]
selectors = ["a[download]"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "portal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def rejected(tmp_path: Path, text: str) -> str:
    with pytest.raises(PortalError) as info:
        load_portal(str(write(tmp_path, text)))
    return str(info.value)


@pytest.mark.parametrize("name", BUILTIN_PORTALS)
def test_builtins_load_and_need_a_base_url(name):
    portal = load_portal(name)
    assert portal.name == name
    assert portal.base_url == ""
    with pytest.raises(PortalError, match="base URL"):
        portal.require_base_url()
    with pytest.raises(PortalError, match="base_url"):
        portal.po_url_for("123456")


def test_coupa_builtin_matches_the_domain():
    portal = load_portal("coupa", "https://acme.coupahost.com/")
    assert portal.base_url == "https://acme.coupahost.com"
    assert portal.po_url_for("15262984") == "https://acme.coupahost.com/order_headers/15262984"
    assert "Desculpe, não encontramos o que você procurava" in portal.detect.not_found_text
    assert "div.notice" not in portal.detect.error_selectors
    assert portal.attachments.name_strip_suffix == " file attachment"
    assert portal.requisition.enabled and portal.requisition.when is RequisitionWhen.NO_ATTACHMENTS
    assert portal.detect.server_error_text == DEFAULT_SERVER_ERROR_TEXT
    for value, expected in [
        ("PO15262984", "15262984"),
        ("pm-15492200", "15492200"),
        ("15262984", "15262984"),
        ("PO 123", None),
        ("XX1234567", None),
    ]:
        assert normalise_po(value, portal.po_id_regex)[0] == expected


@pytest.mark.parametrize("name", BUILTIN_PORTALS)
def test_builtins_read_po_numbers_in_the_house_shape(name):
    assert load_portal(name).po_id_regex == DEFAULT_PO_ID_REGEX


def test_a_profile_without_a_po_pattern_gets_the_house_shape(tmp_path):
    text = VALID.replace("po_id_regex = '^(?:P[OM])?[\\s-]*(\\d{6,})$'\n", "")
    assert "po_id_regex" not in text
    assert load_portal(str(write(tmp_path, text))).po_id_regex == DEFAULT_PO_ID_REGEX


def test_profiles_cross_process_boundaries():
    portal = load_portal("demo", "http://127.0.0.1:8000")
    assert pickle.loads(pickle.dumps(portal)) == portal


def test_user_file_with_defaults(tmp_path):
    portal = load_portal(str(write(tmp_path, VALID)))
    assert portal.base_url == "https://acme.example.com"
    assert portal.attachments.settle_ms == 600
    assert portal.attachments.name_attributes[0] == "download"
    assert not portal.requisition.enabled
    assert portal.supplier.selectors == ()
    assert portal.attachments.line_selectors == portal.attachments.comment_selectors == ()
    assert portal.source.endswith("portal.toml")


@pytest.mark.parametrize("name", ["coupa", "demo"])
def test_builtins_tell_line_and_comment_attachments_apart(name):
    rules = load_portal(name, "https://x.example.com").attachments
    assert ".line-details" in rules.line_selectors and "#comments" in rules.comment_selectors


def test_base_url_argument_overrides_the_file(tmp_path):
    portal = load_portal(str(write(tmp_path, VALID)), "http://127.0.0.1:9999")
    assert portal.po_url_for("123456") == "http://127.0.0.1:9999/order_headers/123456"
    assert load_portal(str(write(tmp_path, VALID)), "https://b.example.com/").base_url == "https://b.example.com"
    with pytest.raises(PortalError, match="base_url"):
        load_portal(str(write(tmp_path, VALID)), "ftp://x")


def test_unknown_name_or_missing_file():
    with pytest.raises(PortalError, match="neither a built-in"):
        load_portal("ariba")


def test_not_toml(tmp_path):
    assert "cannot read" in rejected(tmp_path, "name = ")


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda t: t + "colour = 'red'\n", "attachments.colour"),
        (lambda t: t.replace('name = "acme"', 'name = "acme"\ncolour = 1'), "colour"),
        (lambda t: t.replace("[detect]", "[detect]\nloginurl = []"), "detect.loginurl"),
        (lambda t: t + "[extra]\na = 1\n", "extra"),
    ],
)
def test_unknown_keys_at_any_level(tmp_path, edit, key):
    message = rejected(tmp_path, edit(VALID))
    assert f"{key}: unknown key" in message


@pytest.mark.parametrize(
    ("remove", "key"),
    [
        ('name = "acme"\n', "name"),
        ('po_url = "{base_url}/order_headers/{po_id}"\n', "po_url"),
        ('login_url_contains = ["/sessions/new"]\n', "detect.login_url_contains"),
        ('selectors = ["a[download]"]\n', "attachments.selectors"),
    ],
)
def test_missing_required_keys(tmp_path, remove, key):
    assert f"{key}: missing required key" in rejected(tmp_path, VALID.replace(remove, ""))


def test_missing_required_table(tmp_path):
    text = VALID[: VALID.index("[attachments]")]
    assert "[attachments]: missing required table" in rejected(tmp_path, text)


@pytest.mark.parametrize(
    ("edit", "key", "why"),
    [
        (lambda t: t.replace('name = "acme"', "name = 3"), "name", "must be a string"),
        (
            lambda t: t.replace('not_found_text = ["Oops"]', 'not_found_text = "Oops"'),
            "detect.not_found_text",
            "must be a list",
        ),
        (
            lambda t: t.replace('not_found_text = ["Oops"]', 'not_found_text = ["Oops", 3]'),
            "detect.not_found_text[1]",
            "non-empty string",
        ),
        (lambda t: t + "settle_ms = '600'\n", "attachments.settle_ms", "must be an integer"),
        (lambda t: t + "settle_ms = true\n", "attachments.settle_ms", "must be an integer"),
        (lambda t: t + "settle_ms = 999999\n", "attachments.settle_ms", "must be 0-"),
        (lambda t: t + "[requisition]\nenabled = 'yes'\n", "requisition.enabled", "true or false"),
        (lambda t: t + "[supplier]\ninput_column = []\n", "supplier.input_column", "must be a string"),
        (lambda t: t.replace("[detect]", "detect = 1\n[attachments2]"), "detect", "must be a table"),
    ],
)
def test_wrong_types(tmp_path, edit, key, why):
    message = rejected(tmp_path, edit(VALID))
    assert re.search(rf"{re.escape(key)}\S*: .*{why}", message), message


@pytest.mark.parametrize(
    ("regex", "why"),
    [("'^(\\d{6,}$'", "not a valid regular expression"), ("'^\\d{6,}$'", "capturing group")],
)
def test_bad_regex(tmp_path, regex, why):
    text = VALID.replace("po_id_regex = '^(?:P[OM])?[\\s-]*(\\d{6,})$'", f"po_id_regex = {regex}")
    message = rejected(tmp_path, text)
    assert "po_id_regex" in message and why in message


@pytest.mark.parametrize(
    ("po_url", "why"),
    [
        ('"{base_url}/order_headers/"', "must contain {po_id}"),
        ('"{base_url}/order/{po}"', "must contain {po_id}"),
        ('"{base_url}/{tenant}/{po_id}"', "unknown placeholder"),
        ('"/order_headers/{po_id}"', "must start with {base_url}"),
        ('"{base_url}/{po_id"', "po_url"),
    ],
)
def test_bad_po_url(tmp_path, po_url, why):
    text = VALID.replace('po_url = "{base_url}/order_headers/{po_id}"', f"po_url = {po_url}")
    message = rejected(tmp_path, text)
    assert "po_url" in message and why in message


def test_base_url_must_be_http(tmp_path):
    message = rejected(tmp_path, VALID.replace("https://acme.example.com/", "acme.example.com"))
    assert "base_url: must be an http:// or https:// address" in message


def test_when_must_be_known(tmp_path):
    text = VALID + "[requisition]\nenabled = true\nwhen = 'always'\nlink_selectors = ['a']\n"
    assert "requisition.when: must be one of no_attachments, no_pdf" in rejected(tmp_path, text)


def test_requisition_needs_a_link_selector(tmp_path):
    text = VALID + "[requisition]\nenabled = true\n"
    assert "requisition.link_selectors: required" in rejected(tmp_path, text)


def test_bad_name_attribute(tmp_path):
    text = VALID + "name_attributes = ['download', 'not an attribute']\n"
    assert "attachments.name_attributes" in rejected(tmp_path, text)


@pytest.mark.parametrize(
    ("key_line", "key"),
    [
        ('selectors = ["a[download"]', "attachments.selectors[0]"),
        ("[detect]\nerror_selectors = ['div.ok', 'div{x}']", "detect.error_selectors[1]"),
        ('[detect]\nlogin_selectors = ["input[name=\'x]"]', "detect.login_selectors[0]"),
        ('selectors = ["a[download]"]\nline_selectors = ["tr.line[x"]', "attachments.line_selectors[0]"),
    ],
)
def test_invalid_css_is_rejected_with_the_key(tmp_path, key_line, key):
    if key_line.startswith("selectors"):
        text = VALID.replace('selectors = ["a[download]"]', key_line)
    else:
        text = VALID.replace("[detect]", key_line)
    message = rejected(tmp_path, text)
    assert f"{key}: invalid CSS selector" in message


def test_every_problem_is_reported_at_once(tmp_path):
    text = VALID.replace('name = "acme"', "name = 1").replace('selectors = ["a[download]"]', 'selectors = ["a("]')
    with pytest.raises(PortalError) as info:
        load_portal(str(write(tmp_path, text)))
    assert len(info.value.problems) == 2


@pytest.mark.parametrize(
    "selector",
    [
        "span[aria-label$='file attachment']",
        "a[href*='attachment_file']",
        "a[download]",
        "div#error_explanation",
        "[class*='supplier-name']",
        "ul.list > li:not(.hidden) + li ~ a",
        'a[title="x, y (z)"]',
        "a:nth-child(2n+1)",
        "span[role=button]",
        "a[href*='/requisition_headers/']",
        "#id\\:with\\:colons",
    ],
)
def test_css_checker_accepts_real_selectors(selector):
    assert css_syntax_error(selector) == ""


@pytest.mark.parametrize(
    ("selector", "why"),
    [
        ("", "empty"),
        ("a[b", "unclosed '['"),
        ("a]", "unbalanced"),
        ("a:not(.b", "unclosed '('"),
        ("a[x='y]", "unterminated"),
        ("a 'b'", "quote"),
        ("a,", "dangling ','"),
        ("> a", "dangling '>'"),
        ("a,,b", "between commas"),
        ("a{color:red}", "not allowed"),
        ("a;b", "not allowed"),
        ("a/b", "not allowed outside"),
        ("a\\", "lone backslash"),
    ],
)
def test_css_checker_says_what_is_wrong(selector, why):
    assert why in css_syntax_error(selector)
