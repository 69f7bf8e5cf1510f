"""Sample input for the demo portal: a PO list in the house CSV format, and the status popool should reach.

The statuses are plain strings equal to `popool_gui.batch.model.PoStatus` values, so the demo package stays
free of the rest of the app.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from popool_gui.demo.data import PoKind, po_spec
from popool_gui.demo.skins import OTHER_DIGITS, Skin, demo_id, request_number

COLUMNS: tuple[str, ...] = ("PO_NUMBER", "SUPPLIER", "COST_CENTER")
# Most telling first: a small sample still meets every status.
SPECIAL_ORDER: tuple[str, ...] = (
    "100007",
    "100003",
    "100004",
    "100005",
    "100006",
    "100001",
    "100002",
    "100011",
    "100009",
    "100010",
    "100012",
    "100013",
    "100014",
    "100008",
    "100015",
)
INVALID_VALUES: tuple[str, ...] = ("PO12", "")
MIN_COUNT_FOR_INVALID = 10
MIN_COUNT_FOR_DUPLICATE = 20

_STATUS_BY_KIND: dict[PoKind, str] = {
    PoKind.NOT_FOUND: "PO_NOT_FOUND",
    PoKind.DENIED: "ACCESS_DENIED",
    PoKind.REQUISITION_ONLY: "COMPLETED",  # through the requisition fallback
}


def expected_status(po_id: str, seed: int = 0, skin: Skin = Skin.COUPA) -> str:
    """The status popool should report for this portal id (digits, as the profile captures it) on a demo portal
    with this seed and skin."""
    spec = po_spec(demo_id(skin, str(po_id)), seed)
    if spec.kind in _STATUS_BY_KIND:
        return _STATUS_BY_KIND[spec.kind]
    # The other skin's pages show the header's list only; the Coupa skin's show the lines' and comments' too.
    shown = (*spec.attachments, *spec.line_attachments, *spec.comment_attachments)
    if skin is not Skin.COUPA:
        shown = spec.attachments
    if any(a.truncated for a in shown):
        return "PARTIAL"
    return "COMPLETED" if shown else "NO_ATTACHMENTS"


def _po_value(rng: random.Random, po_id: str, skin: Skin) -> str:
    """A PO value the way users' exports write it."""
    if skin is Skin.OTHER:
        number = request_number(po_id)
        return number if rng.random() < 0.8 else number.replace("-", "")
    form = rng.choices(("PO{}", "PM{}", "{}", "po {}", "PO-{}"), weights=(50, 15, 25, 5, 5))[0]
    return form.format(po_id)


# Random ids: 8 digits as Coupa numbers them; the other skin's request numbers have 7.
_RANDOM_IDS: dict[Skin, tuple[int, int]] = {
    Skin.COUPA: (15_000_000, 16_000_000),
    Skin.OTHER: (10 ** (OTHER_DIGITS - 1), 10**OTHER_DIGITS),
}


def write_sample_csv(
    path: Path, count: int, seed: int = 0, include_specials: bool = True, skin: Skin = Skin.COUPA
) -> Path:
    """Write `count` rows (UTF-8, `;`-delimited, PO_NUMBER;SUPPLIER;COST_CENTER) and return the path.

    From 10 rows on, two rows are invalid (`PO12` and an empty value); from 20 rows on, one PO appears twice.
    With `include_specials`, up to half of the POs are the special ids of `data.py`, most telling first. With
    `skin=Skin.OTHER` the values are that skin's request numbers (`PR-0100007`, sometimes `PR0100007`).
    """
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    rng = random.Random(f"popool-demo-sample:{seed}")
    invalid = len(INVALID_VALUES) if count >= MIN_COUNT_FOR_INVALID else 0
    duplicate = 1 if count >= MIN_COUNT_FOR_DUPLICATE else 0
    unique = count - invalid - duplicate
    ids = list(SPECIAL_ORDER[: unique // 2]) if include_specials else []
    taken = set(ids)
    while len(ids) < unique:
        po_id = str(rng.randrange(*_RANDOM_IDS[skin]))
        if po_id not in taken:
            taken.add(po_id)
            ids.append(po_id)

    rows: list[list[str]] = []
    for po_id in ids:
        supplier = po_spec(po_id, seed).supplier if rng.random() < 0.8 else ""  # blanks exercise the fallback
        rows.append([_po_value(rng, po_id, skin), supplier, f"CC-{rng.randint(1000, 1999)}"])
    if duplicate:
        rows.append(list(rng.choice(rows)))
    rows.extend([value, "", f"CC-{rng.randint(1000, 1999)}"] for value in INVALID_VALUES[:invalid])
    rng.shuffle(rows)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path
