"""The demo portal's purchase orders: every PO is computed from its number, so nothing is stored.

A PO's spec comes from `random.Random(f"...:{seed}:{po_id}")` (not `hash()`, which changes per process), so
the portal, the sample CSV and the tests agree on what each PO holds. Plain numeric ids are distributed as:

======================  ======  ==============================================================
kind                    share   what the portal shows
======================  ======  ==============================================================
ok                      ~81 %   0-5 attachments (about 1 in 10 has none -> NO_ATTACHMENTS)
not_found               ~6 %    HTTP 200 "Oops! We couldn't find what you wanted" (or a variant)
denied                  ~5 %    HTTP 200 "You are not authorized" / "Access denied"
requisition_only        ~8 %    no PO attachments; the requisition page has 1-3
======================  ======  ==============================================================

Ids that are not digits are not found. Special ids have fixed contents for tests and docs:

======  ==================================================================================  ==============
id      behaviour                                                                            status
======  ==================================================================================  ==============
100001  two attachments named ``invoice.pdf`` (different bytes) and ``price list.xlsx``      COMPLETED
100002  hostile names: ``../../evil.txt``, ``CON.txt``, a 300-character name, ``a:b*c?.pdf``,  COMPLETED
        ``Relatório de preços – São Paulo.xlsx``, ``<script>alert(1)</script>.txt``,
        ``quote "final".pdf``, ``NUL`` (no extension)
100003  not found                                                                            PO_NOT_FOUND
100004  access denied (``div.flash_error``)                                                  ACCESS_DENIED
100005  requisition only: no PO attachments, the requisition has 3                          COMPLETED
100006  no attachments and no requisition                                                    NO_ATTACHMENTS
100007  one attachment of every kind: pdf docx xlsx msg eml zip png jpg xml txt              COMPLETED
100008  one big (2 MB) PDF                                                                   COMPLETED
100009  no attachments; its requisition has none either                                     NO_ATTACHMENTS
100010  a PDF, and a requisition with files that must not be taken (PO has attachments)      COMPLETED
100011  one attachment in each markup: span in a link, ``a[download]``, span-only JS click    COMPLETED
100012  not found, Portuguese message ("Desculpe, não encontramos o que você procurava")     PO_NOT_FOUND
100013  access denied shown as ``div#error_explanation``                                     ACCESS_DENIED
100014  supplier name Windows forbids in a folder (``Smith & Sons / Partners: A.B.C.``)       COMPLETED
100015  twelve attachments (the list renders in two steps and runs under the toolbar)          COMPLETED
100016  three attachments; ``broken scan.pdf`` always arrives truncated                      PARTIAL
100017  a PDF on the header, one on a line and a message on a comment                        COMPLETED
100018  nothing on the header; ``invoice.pdf`` on a line and another ``invoice.pdf`` with a   COMPLETED
        note on a comment (the comment's is kept as ``_2``, in header-line-comment order)
======  ==================================================================================  ==============

Line attachments hang off the PO's first line (`LINE_WITH_ATTACHMENTS`), comment attachments off its one comment;
the page shows them where a Coupa page does (inside the line's details, in the comments section) and the API lists
them at the same places. Only special POs have them, so random POs hold what they always held.

Requisition ids are the PO id behind a ``7`` (PO 100005 -> requisition 7100005), so a requisition page finds
its PO without any state. Requisitions with files only hang off POs that show a PDF themselves, so popool's
"no attachments" and "no PDF" fallback rules both leave them alone and the expected files stay the PO's own.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from enum import StrEnum

from popool_gui.demo.files import CONTENT_TYPES, MIN_SIZE, FileContext, FileKind, build_file, kind_of

DEFAULT_SIZE_RANGE: tuple[int, int] = (2_000, 60_000)
REQUISITION_PREFIX = "7"
LINE_WITH_ATTACHMENTS = 1  # the line number whose details hold a PO's line attachments
COMMENT_TEXT = "Approved, see the attached message."
BIG_FILE_SIZE = 2_000_000


class PoKind(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    DENIED = "denied"
    REQUISITION_ONLY = "requisition_only"


class Markup(StrEnum):
    """How the page renders one attachment; Coupa tenants show all three."""

    SPAN_IN_LINK = "span_in_link"  # <a href=...attachment_file><span role=button aria-label="x file attachment">
    DOWNLOAD_LINK = "download_link"  # <a href=...attachment_file download="x">
    SPAN_ONLY = "span_only"  # <span role=button aria-label=...>; a click handler navigates to the file


class PageVariant(StrEnum):
    """Which wording and markup an error page uses (tenants differ in language and layout)."""

    STANDARD = "standard"
    MISSING_PAGE = "missing_page"  # not found: "The page you were looking for doesn't exist"
    PORTUGUESE = "portuguese"  # not found: "Desculpe, não encontramos o que você procurava"
    ERROR_EXPLANATION = "error_explanation"  # denied: div#error_explanation instead of div.flash_error


@dataclass(frozen=True, slots=True)
class AttachmentSpec:
    file_id: str
    name: str
    size: int
    content_type: str
    markup: Markup = Markup.SPAN_IN_LINK
    # Always served truncated, whatever the knobs: a deterministic PARTIAL for tests and the demo.
    truncated: bool = False

    @property
    def kind(self) -> FileKind:
        return kind_of(self.name)


@dataclass(frozen=True, slots=True)
class PoSpec:
    po_id: str
    kind: PoKind
    supplier: str
    attachments: tuple[AttachmentSpec, ...] = ()
    requisition_id: str | None = None
    requisition_attachments: tuple[AttachmentSpec, ...] = ()
    variant: PageVariant = PageVariant.STANDARD
    # On the PO's first line and on its one comment, on its page and in its API alike.
    line_attachments: tuple[AttachmentSpec, ...] = ()
    comment_attachments: tuple[AttachmentSpec, ...] = ()

    def attachment(self, file_id: str) -> AttachmentSpec:
        """Any attachment of the PO, its lines, comments or requisition (all are served under the PO's id)."""
        for spec in (
            *self.attachments,
            *self.requisition_attachments,
            *self.line_attachments,
            *self.comment_attachments,
        ):
            if spec.file_id == file_id:
                return spec
        raise KeyError(f"PO {self.po_id} has no attachment {file_id}")


SUPPLIERS: tuple[str, ...] = (
    "ACME Ltd",
    "Müller & Söhne GmbH",
    "São Paulo Suprimentos Ltda",
    "Nordic Fjord AS",
    "Łódź Logistics Sp. z o.o.",
    "Dupont S.A.",
    "Globex Corporation",
    "Initech Office Supply",
    "株式会社サンプル商事",
    "O'Brien Facilities",
    "Café Central Catering",
    "Northwind Traders",
)

_NAMES: dict[FileKind, tuple[str, ...]] = {
    FileKind.PDF: (
        "invoice.pdf",
        "quote.pdf",
        "Purchase Order.pdf",
        "contract_signed.pdf",
        "Proposta comercial.pdf",
        "delivery note.pdf",
        "Angebot Nr. 4711.pdf",
    ),
    FileKind.XLSX: ("price list.xlsx", "Relatório de custos.xlsx", "BOM rev B.xlsx"),
    FileKind.DOCX: ("statement of work.docx", "Contrato de serviço.docx", "NDA.docx"),
    FileKind.MSG: ("RE approval.msg", "Fwd quote from supplier.msg", "AW Bestellung.msg"),
    FileKind.EML: ("order confirmation.eml", "Réponse fournisseur.eml"),
    FileKind.ZIP: ("drawings.zip", "specs.zip"),
    FileKind.PNG: ("screenshot.png", "signature.png"),
    FileKind.JPG: ("delivery photo.jpg", "damaged pallet.jpeg"),
    FileKind.XML: ("invoice-nfe.xml", "cxml-order.xml"),
    FileKind.TXT: ("notes.txt", "shipping instructions.txt"),
}
_KIND_WEIGHTS: dict[FileKind, int] = {
    FileKind.PDF: 35,
    FileKind.XLSX: 12,
    FileKind.DOCX: 10,
    FileKind.MSG: 10,
    FileKind.EML: 5,
    FileKind.ZIP: 5,
    FileKind.PNG: 6,
    FileKind.JPG: 5,
    FileKind.XML: 7,
    FileKind.TXT: 5,
}
_COUNT_WEIGHTS = (10, 30, 25, 17, 10, 8)  # attachments 0..5 on an "ok" PO


@dataclass(frozen=True, slots=True)
class _Special:
    kind: PoKind = PoKind.OK
    names: tuple[str, ...] = ()
    sizes: tuple[int, ...] = ()  # aligned with names; 0 or missing = drawn from the size range
    markups: tuple[Markup, ...] = ()  # aligned with names; missing = drawn
    requisition_names: tuple[str, ...] | None = None  # None: the PO has no requisition link
    truncated: tuple[str, ...] = ()  # names of attachments that are always cut off halfway
    supplier: str = ""
    variant: PageVariant = PageVariant.STANDARD
    line_names: tuple[str, ...] = ()
    comment_names: tuple[str, ...] = ()


_LONG_NAME = ("Very long attachment name " * 12)[:295] + ".docx"

SPECIAL: dict[str, _Special] = {
    "100001": _Special(names=("invoice.pdf", "invoice.pdf", "price list.xlsx")),
    "100002": _Special(
        names=(
            "../../evil.txt",
            "CON.txt",
            _LONG_NAME,
            "a:b*c?.pdf",
            "Relatório de preços – São Paulo.xlsx",
            "<script>alert(1)</script>.txt",
            'quote "final".pdf',
            "NUL",
        ),
        supplier="São Paulo Suprimentos Ltda",
    ),
    "100003": _Special(kind=PoKind.NOT_FOUND),
    "100004": _Special(kind=PoKind.DENIED),
    "100005": _Special(
        kind=PoKind.REQUISITION_ONLY,
        requisition_names=("requisition form.pdf", "budget approval.msg", "quote comparison.xlsx"),
    ),
    "100006": _Special(),
    "100007": _Special(
        names=(
            "invoice.pdf",
            "statement of work.docx",
            "price list.xlsx",
            "RE approval.msg",
            "order confirmation.eml",
            "drawings.zip",
            "screenshot.png",
            "delivery photo.jpg",
            "invoice-nfe.xml",
            "notes.txt",
        )
    ),
    "100008": _Special(names=("site survey (big).pdf",), sizes=(BIG_FILE_SIZE,)),
    "100009": _Special(requisition_names=()),
    "100010": _Special(names=("invoice.pdf",), requisition_names=("requisition form.pdf", "old quote.pdf")),
    "100011": _Special(
        names=("quote.pdf", "price list.xlsx", "RE approval.msg"),
        markups=(Markup.SPAN_IN_LINK, Markup.DOWNLOAD_LINK, Markup.SPAN_ONLY),
    ),
    "100012": _Special(kind=PoKind.NOT_FOUND, variant=PageVariant.PORTUGUESE),
    "100013": _Special(kind=PoKind.DENIED, variant=PageVariant.ERROR_EXPLANATION),
    "100014": _Special(names=("invoice.pdf", "quote.pdf"), supplier="Smith & Sons / Partners: A.B.C."),
    "100015": _Special(names=tuple(f"delivery note {n:02d}.pdf" for n in range(1, 13))),
    "100016": _Special(
        names=("invoice.pdf", "broken scan.pdf", "price list.xlsx"),
        markups=(Markup.SPAN_IN_LINK, Markup.SPAN_IN_LINK, Markup.DOWNLOAD_LINK),
        truncated=("broken scan.pdf",),
    ),
    "100017": _Special(names=("invoice.pdf",), line_names=("line spec sheet.pdf",), comment_names=("RE approval.msg",)),
    "100018": _Special(line_names=("invoice.pdf",), comment_names=("invoice.pdf", "shipping instructions.txt")),
}


def _rng(seed: int, po_id: str, purpose: str) -> random.Random:
    return random.Random(f"popool-demo:{purpose}:{seed}:{po_id}")


def _attachment(
    rng: random.Random,
    file_id: str,
    name: str,
    size_range: tuple[int, int],
    size: int = 0,
    markup: Markup | None = None,
    truncated: bool = False,
) -> AttachmentSpec:
    kind = kind_of(name)
    size = max(size or rng.randint(*size_range), MIN_SIZE[kind])
    return AttachmentSpec(
        file_id=file_id,
        name=name,
        size=size,
        content_type=CONTENT_TYPES[kind],
        markup=markup or rng.choice(tuple(Markup)),
        truncated=truncated,
    )


def _random_name(rng: random.Random) -> str:
    kind = rng.choices(tuple(_KIND_WEIGHTS), weights=tuple(_KIND_WEIGHTS.values()))[0]
    return rng.choice(_NAMES[kind])


class _FileIds:
    """Unique 8-digit attachment ids within one PO (its requisition's files included)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()

    def next(self) -> str:
        while True:
            file_id = str(self._rng.randrange(10_000_000, 100_000_000))
            if file_id not in self._taken:
                self._taken.add(file_id)
                return file_id


def _attachments(
    rng: random.Random, ids: _FileIds, names: tuple[str, ...], size_range: tuple[int, int], special: _Special | None
) -> tuple[AttachmentSpec, ...]:
    out = []
    for index, name in enumerate(names):
        size = special.sizes[index] if special and index < len(special.sizes) else 0
        markup = special.markups[index] if special and index < len(special.markups) else None
        truncated = special is not None and name in special.truncated
        out.append(_attachment(rng, ids.next(), name, size_range, size, markup, truncated))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def po_spec(po_id: str, seed: int = 0, size_range: tuple[int, int] = DEFAULT_SIZE_RANGE) -> PoSpec:
    """What the portal holds for this PO number (`po_id` is the portal id: digits, no PO/PM prefix)."""
    po_id = str(po_id).strip()
    rng = _rng(seed, po_id, "po")
    supplier = rng.choice(SUPPLIERS)
    ids = _FileIds(rng)
    special = SPECIAL.get(po_id)
    if special is not None:
        requisition = None if special.requisition_names is None else REQUISITION_PREFIX + po_id
        return PoSpec(
            po_id=po_id,
            kind=special.kind,
            supplier=special.supplier or supplier,
            attachments=_attachments(rng, ids, special.names, size_range, special),
            requisition_id=requisition,
            requisition_attachments=_attachments(rng, ids, special.requisition_names or (), size_range, None),
            variant=special.variant,
            line_attachments=_attachments(rng, ids, special.line_names, size_range, None),
            comment_attachments=_attachments(rng, ids, special.comment_names, size_range, None),
        )
    if not po_id.isdigit():
        return PoSpec(po_id=po_id, kind=PoKind.NOT_FOUND, supplier=supplier, variant=PageVariant.MISSING_PAGE)

    roll = rng.random()
    if roll < 0.06:
        variant = rng.choices(
            (PageVariant.STANDARD, PageVariant.MISSING_PAGE, PageVariant.PORTUGUESE), weights=(6, 2, 2)
        )[0]
        return PoSpec(po_id=po_id, kind=PoKind.NOT_FOUND, supplier=supplier, variant=variant)
    if roll < 0.11:
        variant = rng.choices((PageVariant.STANDARD, PageVariant.ERROR_EXPLANATION), weights=(7, 3))[0]
        return PoSpec(po_id=po_id, kind=PoKind.DENIED, supplier=supplier, variant=variant)
    requisition_id = REQUISITION_PREFIX + po_id
    if roll < 0.19:
        names = tuple(_random_name(rng) for _ in range(rng.randint(1, 3)))
        return PoSpec(
            po_id=po_id,
            kind=PoKind.REQUISITION_ONLY,
            supplier=supplier,
            requisition_id=requisition_id,
            requisition_attachments=_attachments(rng, ids, names, size_range, None),
        )

    count = rng.choices(range(len(_COUNT_WEIGHTS)), weights=_COUNT_WEIGHTS)[0]
    attachments = _attachments(rng, ids, tuple(_random_name(rng) for _ in range(count)), size_range, None)
    has_requisition = rng.random() < 0.5
    requisition_attachments: tuple[AttachmentSpec, ...] = ()
    if has_requisition and any(a.kind is FileKind.PDF for a in attachments):
        names = tuple(_random_name(rng) for _ in range(rng.randint(0, 2)))
        requisition_attachments = _attachments(rng, ids, names, size_range, None)
    return PoSpec(
        po_id=po_id,
        kind=PoKind.OK,
        supplier=supplier,
        attachments=attachments,
        requisition_id=requisition_id if has_requisition else None,
        requisition_attachments=requisition_attachments,
    )


def requisition_po(
    requisition_id: str, seed: int = 0, size_range: tuple[int, int] = DEFAULT_SIZE_RANGE
) -> PoSpec | None:
    """The PO whose requisition this is, or None when no PO links to it."""
    if not requisition_id.startswith(REQUISITION_PREFIX):
        return None
    spec = po_spec(requisition_id[len(REQUISITION_PREFIX) :], seed, size_range)
    return spec if spec.requisition_id == requisition_id else None


@functools.lru_cache(maxsize=32)
def file_bytes(po_id: str, file_id: str, seed: int = 0, size_range: tuple[int, int] = DEFAULT_SIZE_RANGE) -> bytes:
    """The exact bytes the portal serves for one attachment of a PO or of its requisition."""
    spec = po_spec(str(po_id), seed, size_range)
    attachment = spec.attachment(str(file_id))
    context = FileContext(
        po_id=spec.po_id, file_id=attachment.file_id, name=attachment.name, supplier=spec.supplier, seed=seed
    )
    return build_file(attachment.kind, attachment.size, context)
