"""A profile table's keys are its rules' dataclass fields, and a key left out gets the field's own default."""

from __future__ import annotations

from dataclasses import fields

from popool_gui.browser.portal import _TABLES, AttachmentRules, RequisitionRules, SupplierRules, parse_portal


def test_every_table_reads_exactly_its_dataclass_fields() -> None:
    for table, (_, rules, kinds) in _TABLES.items():
        assert set(kinds) == {f.name for f in fields(rules)}, table


def test_a_minimal_profile_gets_the_dataclass_defaults() -> None:
    profile = parse_portal(
        {
            "name": "minimal",
            "po_url": "{base_url}/po/{po_id}",
            "detect": {"login_url_contains": ["login"], "not_found_text": ["gone"], "access_denied_text": ["no"]},
            "attachments": {"selectors": ["a.doc"]},
        }
    )
    assert profile.attachments == AttachmentRules(selectors=("a.doc",))
    assert profile.supplier == SupplierRules()
    assert profile.requisition == RequisitionRules()
