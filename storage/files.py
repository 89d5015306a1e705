"""Documents kept by content: the type is read from the bytes, the name is the sha256."""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import olefile
from openpyxl.xml.constants import CONTYPES_NS
from openpyxl.xml.functions import fromstring
from pypdf import PdfReader
from sqlmodel import Session, select

from storage.models import StoredFile

CHUNK = 1 << 20
DOCUMENT_TYPES = ("pdf", "doc", "docx")
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


class FileRefused(ValueError):
    """A file refused for what it is; ``code`` names why for the message layer."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


def sweep_scratch(folder: Path, now: datetime, older_than: timedelta) -> int:
    """Deletes what a crash left in a scratch folder (a download cut short): a file there is
    taken by its step within the update, so one older than ``older_than`` is nobody's."""
    removed = 0
    if not folder.is_dir():
        return 0
    cutoff = (now - older_than).timestamp()
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def sniff(path: Path) -> str | None:
    """What a file really is, whatever its name: a PDF whose structure reads, with a page;
    a .doc whose compound file holds Word's own stream; a .docx whose content types name a
    Word document. An .msi, a .jar or a PDF/HTML polyglot is none of them."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf" if _reads_as_pdf(path) else None
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "doc" if _is_word_97(path) else None
    if head.startswith(b"PK\x03\x04"):
        return "docx" if _is_word_package(path) else None
    return None


def _reads_as_pdf(path: Path) -> bool:
    """pypdf finds its cross-reference and at least one page (given a handle, it reads what
    it needs; given a path, it would read the whole file into memory)."""
    try:
        with path.open("rb") as handle:
            return len(PdfReader(handle).pages) > 0
    except Exception:  # pypdf raises many kinds for what is not a PDF
        return False


def _is_word_97(path: Path) -> bool:
    """The compound file has a "WordDocument" stream opening with the FIB's magic (0xA5EC)."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            if not ole.exists("WordDocument"):
                return False
            with ole.openstream("WordDocument") as stream:
                return bytes(stream.read(2)) == b"\xec\xa5"
    except Exception:  # a damaged compound file
        return False


def _is_word_package(path: Path) -> bool:
    """[Content_Types].xml names /word/document.xml a Word document (not macro-enabled)."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > 1 << 20:
                return False
            types = archive.read(info)
    except (KeyError, zipfile.BadZipFile, OSError):
        return False
    try:
        root = fromstring(types)
    except Exception:  # not XML
        return False
    return any(
        o.get("PartName") == "/word/document.xml" and o.get("ContentType") == WORD_MAIN
        for o in root.iter(f"{{{CONTYPES_NS}}}Override")
    )


def store_document(*, session: Session, source: Path, root: Path, now: datetime) -> StoredFile:
    """Moves a downloaded file into root/<aa>/<sha256>, hashed in chunks; the same bytes once."""
    size = source.stat().st_size
    if size == 0:
        source.unlink(missing_ok=True)
        raise FileRefused("document_empty")
    kind = sniff(source)
    if kind not in DOCUMENT_TYPES:
        source.unlink(missing_ok=True)
        raise FileRefused("document_type")
    sha = digest(source)
    target = root / sha[:2] / sha
    if target.exists():
        source.unlink()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
    known = session.exec(select(StoredFile).where(StoredFile.sha256 == sha)).first()
    if known is not None:
        return known
    stored = StoredFile(sha256=sha, size=size, content_type=kind, created_at=now)
    session.add(stored)
    session.flush()
    return stored


def digest(path: Path) -> str:
    """A file's sha256, read in chunks: the name of what is kept by content."""
    found = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            found.update(chunk)
    return found.hexdigest()


def path_of(stored: StoredFile, root: Path) -> Path:
    """Where a stored file lives."""
    return root / stored.sha256[:2] / stored.sha256
