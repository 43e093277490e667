"""Reading a received fax (T-1): its pages as PNG images for the ticket page and its text for
the ticket body and search.

PDF: the text layer with pypdf, pages rendered by poppler's ``pdftoppm``. TIFF (what most fax
servers write, one image per page): pages read with Pillow. Pages without a text layer are
read by OCR with Debian's ``tesseract-ocr`` through ``pytesseract`` when the binary is
installed; without it (or without ``pdftoppm``) the step is skipped and the body says so.
Everything is bounded: pages, resolution, time per external program.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageSequence

log = logging.getLogger(__name__)

MAX_PAGES = 30  # rendered and read; a longer fax is attached whole all the same
RENDER_DPI = 100
TOOL_TIMEOUT = 60  # seconds per external program run
OCR_TIMEOUT = 30  # seconds per page
TEXT_MAX = 20_000  # characters per page


@dataclass
class FaxDocument:
    page_count: int = 0
    images: list[bytes] = field(default_factory=list)  # PNG, one per page (up to MAX_PAGES)
    texts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def is_fax_document(data: bytes) -> bool:
    return data.startswith(b"%PDF-") or data[:4] in (b"II*\x00", b"MM\x00*")


def fax_document_read(data: bytes) -> FaxDocument:
    """Pages and text of a PDF or TIFF fax; never raises (what failed is in `notes`)."""
    doc = FaxDocument()
    try:
        if data.startswith(b"%PDF-"):
            _read_pdf(data, doc)
        else:
            _read_tiff(data, doc)
    except Exception as exc:  # a damaged document is still attached as received
        log.warning("fax: could not read the document: %s", exc)
        doc.notes.append(f"the document could not be read ({type(exc).__name__})")
    if doc.page_count > MAX_PAGES:
        doc.notes.append(f"only the first {MAX_PAGES} of {doc.page_count} pages are shown")
    return doc


def _read_pdf(data: bytes, doc: FaxDocument) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    doc.page_count = len(reader.pages)
    doc.texts = [
        (page.extract_text() or "").strip()[:TEXT_MAX] for page in reader.pages[:MAX_PAGES]
    ]
    doc.images = _render_pdf(data, min(doc.page_count, MAX_PAGES), doc.notes)
    if not any(doc.texts):
        _ocr(doc)


def _render_pdf(data: bytes, pages: int, notes: list[str]) -> list[bytes]:
    tool = shutil.which("pdftoppm")
    if tool is None:
        notes.append("pages not shown as images: pdftoppm (poppler-utils) is not installed")
        return []
    with tempfile.TemporaryDirectory(prefix="fax-") as tmp:
        source = Path(tmp) / "fax.pdf"
        source.write_bytes(data)
        try:
            # a fixed program and arguments; the document is a file, never a shell word
            subprocess.run(  # noqa: S603
                [tool, "-png", "-r", str(RENDER_DPI), "-f", "1", "-l", str(pages),
                 str(source), str(Path(tmp) / "page")],
                check=True, capture_output=True, timeout=TOOL_TIMEOUT,
            )  # fmt: skip
        except (subprocess.SubprocessError, OSError) as exc:
            notes.append(f"pages not shown as images: pdftoppm failed ({type(exc).__name__})")
            return []
        # pdftoppm numbers pages page-1.png or page-01.png by the page count's width
        files = sorted(Path(tmp).glob("page-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
        return [f.read_bytes() for f in files]


def _read_tiff(data: bytes, doc: FaxDocument) -> None:
    with Image.open(io.BytesIO(data)) as image:
        doc.page_count = getattr(image, "n_frames", 1)
        for frame in ImageSequence.Iterator(image):
            if len(doc.images) >= MAX_PAGES:
                break
            out = io.BytesIO()
            frame.convert("L").save(out, format="PNG", optimize=True)
            doc.images.append(out.getvalue())
    doc.texts = ["" for _ in doc.images]
    _ocr(doc)


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def _ocr(doc: FaxDocument) -> None:
    """Text of pages without a text layer, by OCR when tesseract is installed."""
    if not doc.images:
        return
    if not ocr_available():
        doc.notes.append("text not extracted: OCR (tesseract-ocr) is not installed")
        return
    import pytesseract

    texts: list[str] = []
    for png in doc.images:
        try:
            with Image.open(io.BytesIO(png)) as page:
                text = pytesseract.image_to_string(page, timeout=OCR_TIMEOUT)
        except (RuntimeError, pytesseract.TesseractError, OSError) as exc:
            doc.notes.append(f"OCR failed on a page ({type(exc).__name__})")
            text = ""
        texts.append(text.strip()[:TEXT_MAX])
    doc.texts = texts
    doc.notes.append("text read by OCR: check it against the page images")
