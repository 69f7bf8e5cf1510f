"""Real bytes for the demo portal's attachments: small but valid files of each kind, padded to an exact size.

Every builder is deterministic for its inputs, so a test can rebuild what the portal served and compare byte for
byte. Padding goes where the format allows it: a PDF comment line before the objects (the xref offsets are
computed after it), an XML comment inside an OOXML part (members are stored, not deflated, so the archive grows
byte for byte), a PNG `tEXt` chunk, JPEG `COM` segments, trailing text in plain-text formats.
"""

from __future__ import annotations

import base64
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from xml.sax.saxutils import escape


class FileKind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    MSG = "msg"
    EML = "eml"
    ZIP = "zip"
    PNG = "png"
    JPG = "jpg"
    XML = "xml"
    TXT = "txt"
    BIN = "bin"  # anything without a known extension


CONTENT_TYPES: dict[FileKind, str] = {
    FileKind.PDF: "application/pdf",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.MSG: "application/vnd.ms-outlook",
    FileKind.EML: "message/rfc822",
    FileKind.ZIP: "application/zip",
    FileKind.PNG: "image/png",
    FileKind.JPG: "image/jpeg",
    FileKind.XML: "application/xml",
    FileKind.TXT: "text/plain; charset=utf-8",
    FileKind.BIN: "application/octet-stream",
}

# Smallest size every builder can reach whatever the texts inside (long supplier names included); specs never
# ask for less.
MIN_SIZE: dict[FileKind, int] = {
    FileKind.PDF: 2048,
    FileKind.DOCX: 4096,
    FileKind.XLSX: 4096,
    FileKind.MSG: 1024,
    FileKind.EML: 2048,
    FileKind.ZIP: 2048,
    FileKind.PNG: 1024,
    FileKind.JPG: 1024,
    FileKind.XML: 2048,
    FileKind.TXT: 1024,
    FileKind.BIN: 64,
}

_EXTENSIONS: dict[str, FileKind] = {kind.value: kind for kind in FileKind if kind is not FileKind.BIN}
_EXTENSIONS["jpeg"] = FileKind.JPG

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A 16x16 gradient JPEG (baseline, 4:2:0) made once with ImageMagick; hand-encoding Huffman tables is not worth it.
_JPEG_16X16 = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA0JCgsKCA0LCgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxOUlNSMj5a"
    "YVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT0//wAAR"
    "CAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAQF/8QAFhAAAwAAAAAAAAAAAAAAAAAAABRh/8QAFQEBAQAAAAAAAAAAAAAA"
    "AAAAAwT/xAAXEQADAQAAAAAAAAAAAAAAAAAAFGEV/9oADAMBAAIRAxEAPwCFSBSG4pApCHZoiEP/2Q=="
)
_ZIP_DATE = (2024, 1, 2, 3, 4, 6)
_WORDS: tuple[str, ...] = (
    "order",
    "line",
    "quantity",
    "unit",
    "price",
    "delivery",
    "supplier",
    "invoice",
    "quote",
    "contract",
    "approval",
    "budget",
    "freight",
    "warehouse",
    "schedule",
    "signature",
    "amendment",
    "terms",
    "payment",
    "net",
    "thirty",
    "days",
    "shipment",
    "pallet",
)


def kind_of(name: str) -> FileKind:
    """The file kind a name announces by its extension (`.jpeg` counts as jpg); BIN when none is known."""
    _, dot, ext = name.rpartition(".")
    return _EXTENSIONS.get(ext.lower(), FileKind.BIN) if dot else FileKind.BIN


@dataclass(frozen=True, slots=True)
class FileContext:
    """What a file is about; written into its content so every attachment's bytes differ."""

    po_id: str
    file_id: str
    name: str
    supplier: str
    seed: int = 0

    @property
    def title(self) -> str:
        return f"Purchase order {self.po_id} - attachment {self.file_id}"

    def rng(self) -> random.Random:
        return random.Random(f"popool-demo-file:{self.seed}:{self.po_id}:{self.file_id}")


def build_file(kind: FileKind, size: int, ctx: FileContext) -> bytes:
    """A valid file of `kind`, exactly `size` bytes long (size must be at least MIN_SIZE[kind])."""
    if size < MIN_SIZE[kind]:
        raise ValueError(f"{kind} files need at least {MIN_SIZE[kind]} bytes, not {size}")
    data = _BUILDERS[kind](size, ctx)
    if len(data) != size:
        raise ValueError(f"built {len(data)} bytes of {kind} for {size} requested")
    return data


def _fit(build: Callable[[int], bytes], size: int) -> bytes:
    """`build(n)` with the padding length n that makes the result exactly `size` bytes.

    Builders grow about one byte per padding byte; a few rounds absorb the digits a PDF's xref offset gains.
    """
    pad = max(0, size - len(build(0)))
    for _ in range(8):
        data = build(pad)
        missing = size - len(data)
        if missing == 0:
            return data
        pad = max(0, pad + missing)
    raise ValueError(f"cannot pad to exactly {size} bytes")


def _filler_text(rng: random.Random, length: int, line: int = 76) -> str:
    """Readable filler of exactly `length` characters (ASCII words, newline every `line` characters)."""
    chunk: list[str] = []
    size = 0
    while size < min(length, 4096):
        word = rng.choice(_WORDS)
        chunk.append(word)
        size += len(word) + 1
    words = " ".join(chunk) + " "
    lines = [words[i : i + line - 1] for i in range(0, len(words), line - 1)]
    block = "\n".join(lines) + "\n"
    return (block * (length // len(block) + 1))[:length]


def _pdf(size: int, ctx: FileContext) -> bytes:
    text = ctx.title.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    filler = _filler_text(ctx.rng(), size).replace("\n", " ").encode("ascii")

    def build(pad: int) -> bytes:
        # The second line is the usual binary-marker comment; the padding extends it.
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3" + filler[:pad] + b"\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
        return bytes(out)

    return _fit(build, size)


def _zip_archive(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _xml_comment(rng: random.Random, pad: int) -> str:
    # XML comments cannot hold "--"; the filler is words and spaces only.
    return f"<!--{_filler_text(rng, pad - 7)}-->" if pad >= 7 else ""


_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _xlsx(size: int, ctx: FileContext) -> bytes:
    rng = ctx.rng()
    lines = [
        (f"Line {i}", rng.choice(_WORDS).title(), rng.randint(1, 50), round(rng.uniform(5, 900), 2))
        for i in range(1, 6)
    ]
    content_types = (
        _XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    )
    root_rels = (
        _XML_DECL + f'<Relationships xmlns="{_RELS_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook = (
        _XML_DECL + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_DOC_REL}"><sheets><sheet name="PO_Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    workbook_rels = (
        _XML_DECL + f'<Relationships xmlns="{_RELS_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )

    def cell(ref: str, value: str | float) -> str:
        if isinstance(value, str):
            return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        return f'<c r="{ref}"><v>{value}</v></c>'

    rows: list[tuple[str | float, ...]] = [
        ("PO", ctx.po_id, "Supplier", ctx.supplier),
        ("Line", "Item", "Quantity", "Unit price"),
        *lines,
    ]
    sheet_rows = "".join(
        f'<row r="{r}">' + "".join(cell(f"{'ABCD'[c]}{r}", v) for c, v in enumerate(row)) + "</row>"
        for r, row in enumerate(rows, start=1)
    )

    def build(pad: int) -> bytes:
        sheet = (
            _XML_DECL + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{sheet_rows}</sheetData>{_xml_comment(rng, pad)}</worksheet>"
        )
        return _zip_archive(
            [
                ("[Content_Types].xml", content_types.encode()),
                ("_rels/.rels", root_rels.encode()),
                ("xl/workbook.xml", workbook.encode()),
                ("xl/_rels/workbook.xml.rels", workbook_rels.encode()),
                ("xl/worksheets/sheet1.xml", sheet.encode()),
            ]
        )

    return _fit(build, size)


def _docx(size: int, ctx: FileContext) -> bytes:
    rng = ctx.rng()
    content_types = (
        _XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        "</Types>"
    )
    root_rels = (
        _XML_DECL + f'<Relationships xmlns="{_RELS_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="word/document.xml"/></Relationships>'
    )
    paragraphs = [ctx.title, f"Supplier: {ctx.supplier}", _filler_text(rng, 300).replace("\n", " ")]
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs)

    def build(pad: int) -> bytes:
        document = (
            _XML_DECL + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body>{_xml_comment(rng, pad)}</w:document>"
        )
        return _zip_archive(
            [
                ("[Content_Types].xml", content_types.encode()),
                ("_rels/.rels", root_rels.encode()),
                ("word/document.xml", document.encode()),
            ]
        )

    return _fit(build, size)


def _zip(size: int, ctx: FileContext) -> bytes:
    rng = ctx.rng()
    readme = f"{ctx.title}\nSupplier: {ctx.supplier}\n".encode()
    part = _filler_text(rng, 400).encode()

    def build(pad: int) -> bytes:
        return _zip_archive(
            [
                ("readme.txt", readme),
                ("drawings/part-1.txt", part),
                ("drawings/notes.txt", _filler_text(rng, pad).encode()),
            ]
        )

    return _fit(build, size)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_image(width: int, height: int, rng: random.Random, noise: bool = False) -> bytes:
    """An RGB PNG: a colour gradient, or noise (which does not compress: a heavy image for the pages)."""
    r0, g0, b0 = (rng.randrange(256) for _ in range(3))
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type None
        if noise:
            rows += rng.randbytes(width * 3)
        else:
            for x in range(width):
                rows += bytes(((r0 + 8 * x) % 256, (g0 + 8 * y) % 256, b0))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )


def _png(size: int, ctx: FileContext) -> bytes:
    rng = ctx.rng()
    image = png_image(16, 16, rng)
    comment = f"{ctx.title} ".encode() + _filler_text(rng, size).encode()
    iend = _png_chunk(b"IEND", b"")
    head = image[: -len(iend)]
    # tEXt is keyword, NUL, text; with its 12 bytes of framing the chunk fills the gap exactly.
    text = b"Comment\x00" + comment
    gap = size - len(image) - 12
    return head + _png_chunk(b"tEXt", text[:gap]) + iend


def _jpg(size: int, ctx: FileContext) -> bytes:
    filler = _filler_text(ctx.rng(), size).encode()
    pad = size - len(_JPEG_16X16)
    # Each COM segment carries at most 65533 bytes behind its 4-byte marker and length.
    segments = -(-pad // 65537)
    data = pad - 4 * segments
    out = bytearray(_JPEG_16X16[:2])  # SOI
    start = 0
    for index in range(segments):
        length = data // segments + (1 if index < data % segments else 0)
        out += b"\xff\xfe" + struct.pack(">H", length + 2) + filler[start : start + length]
        start += length
    return bytes(out + _JPEG_16X16[2:])


def _eml(size: int, ctx: FileContext) -> bytes:
    rng = ctx.rng()
    head = (
        f'From: "Supplier desk" <orders@supplier{ctx.file_id}.example>\r\n'
        "To: buyer@example.com\r\n"
        f"Subject: Re: purchase order {ctx.po_id}\r\n"
        "Date: Mon, 04 Mar 2024 10:15:00 +0000\r\n"
        f"Message-ID: <po-{ctx.po_id}-{ctx.file_id}@demo.popool>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
        f"Hello,\r\n\r\nplease find the confirmation for {ctx.title}.\r\nSupplier: {ctx.supplier}\r\n\r\n"
    ).encode()
    filler = _filler_text(rng, size).replace("\n", "\r\n").encode()
    return head + filler[: size - len(head)]


def _msg(size: int, ctx: FileContext) -> bytes:
    # The compound-file header of an Outlook .msg; the sectors behind it are filler, enough for type sniffing.
    header = OLE_MAGIC + bytes(16) + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 0x0009, 0x0006)
    header += bytes(512 - len(header))
    marker = f"{ctx.title}\0".encode()
    return header + marker + ctx.rng().randbytes(size - len(header) - len(marker))


def _xml(size: int, ctx: FileContext) -> bytes:
    rng = ctx.rng()
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<invoice xmlns="urn:popool:demo">'
        f"<po>{escape(ctx.po_id)}</po><supplier>{escape(ctx.supplier)}</supplier>"
        f'<attachment>{escape(ctx.file_id)}</attachment><total currency="EUR">{rng.uniform(10, 99999):.2f}</total>'
        "</invoice>\n"
    ).encode()
    return body + _xml_comment(rng, size - len(body)).encode()


def _txt(size: int, ctx: FileContext) -> bytes:
    head = f"{ctx.title}\nSupplier: {ctx.supplier}\n\n".encode()
    return head + _filler_text(ctx.rng(), size - len(head)).encode()


def _bin(size: int, ctx: FileContext) -> bytes:
    return ctx.rng().randbytes(size)


_BUILDERS: dict[FileKind, Callable[[int, FileContext], bytes]] = {
    FileKind.PDF: _pdf,
    FileKind.DOCX: _docx,
    FileKind.XLSX: _xlsx,
    FileKind.MSG: _msg,
    FileKind.EML: _eml,
    FileKind.ZIP: _zip,
    FileKind.PNG: _png,
    FileKind.JPG: _jpg,
    FileKind.XML: _xml,
    FileKind.TXT: _txt,
    FileKind.BIN: _bin,
}
