"""Turn a file on disk into text, or say in plain words why it cannot be used."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")

# Leading bytes of formats people drop by mistake; a renamed one must not reach the index.
_MAGIC = {
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (e.g. .docx, .xlsx)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x7fELF": "an executable",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Office document (.doc)",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# A PDF's text is only known once every page is parsed, and a small file can hold a page whose
# compressed drawing instructions expand to tens of MB (a 180 KB file ran for over 10 minutes).
# Far above any news article or report, and each stops the reading early with a reason.
MAX_PDF_PAGES = 2000
MAX_PDF_PAGE_CONTENT = 4 * 2**20  # bytes of drawing instructions on one page, decompressed
MAX_PDF_CONTENT = 32 * 2**20  # ... and on all pages together
MAX_PDF_TEXT_CHARS = 5_000_000
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_HTML_START = re.compile(r"\s*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w-]+)", re.IGNORECASE)


class RejectedFile(Exception):
    """A file that cannot be ingested; `str(error)` is the reason shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    sha256: str  # of the raw bytes, so that a re-saved but unchanged file is "unchanged"
    text: str  # "\n" line ends; for HTML and PDF, paragraphs separated by a blank line
    format: str  # "txt", "md", "html" or "pdf"


class ArticleLoader:
    """Reads .txt, .md, .html/.htm and .pdf files, checking content rather than trusting names."""

    def __init__(self, max_bytes: int = 50 * 2**20) -> None:
        self.max_bytes = max_bytes

    def load(self, path: Path) -> LoadedFile:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES and not path.is_dir():
            raise RejectedFile(f"unsupported file type {suffix or '(no extension)'} "
                               f"(supported: {', '.join(SUPPORTED_SUFFIXES)})")
        try:
            # O_NONBLOCK: opening a named pipe must not wait for a writer; fstat then refuses it.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            raise RejectedFile("file disappeared (it was removed while being read)") from None
        except PermissionError:
            raise RejectedFile("cannot read the file (permission denied)") from None
        except IsADirectoryError:
            raise RejectedFile("is a folder, not a file") from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise RejectedFile("is a folder, not a file" if stat.S_ISDIR(mode) else
                               _not_regular(mode))
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > self.max_bytes:
                raise RejectedFile(self._too_large(size))
            data = f.read(self.max_bytes + 1)  # bounded: the file may grow after fstat()
        if len(data) > self.max_bytes:
            raise RejectedFile(self._too_large(len(data)))
        if not data.strip():
            raise RejectedFile("empty file")
        digest = hashlib.sha256(data).hexdigest()
        if suffix == ".pdf":
            return LoadedFile(path, digest, _pdf_text(data), "pdf")
        text = _decode(data, html=suffix in (".html", ".htm"))
        if suffix in (".html", ".htm") or _HTML_START.match(text):
            return LoadedFile(path, digest, _html_text(text), "html")
        return LoadedFile(path, digest, text, suffix.lstrip("."))

    def _too_large(self, size: int) -> str:
        return f"file too large ({too_large(size, self.max_bytes)})"


def too_large(size: int, limit: int) -> str:
    """"52.4 MB; the limit is 50 MB", in bytes when rounding would make the two look equal."""
    mb, limit_mb = f"{size / 2**20:.1f}", f"{limit / 2**20:g}"
    if float(mb) <= float(limit_mb):
        return f"{size:,} bytes; the limit is {limit:,} bytes ({limit_mb} MB)"
    return f"{mb} MB; the limit is {limit_mb} MB"


@dataclass
class FoundFiles:
    """The files to read, and the paths passed over with the reason why (shown to the user)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)

    def add(self, path: Path) -> None:
        """A regular file is read; anything else is passed over with its reason."""
        try:
            reason = _not_regular(path.stat().st_mode)
        except OSError:
            reason = "a symbolic link to a file that does not exist"
        if reason:
            self.skipped.append((path, reason))
        else:
            self.files.append(path)


def find_files(paths: list[Path], follow_symlinks: bool = False) -> FoundFiles:
    """Expand folders recursively (sorted, hidden entries skipped).

    Only regular files are read: a named pipe would block the reader forever, a device or
    socket is no article. Inside a folder, a symbolic link that leads out of it is passed over
    unless `follow_symlinks`: `ln -s /etc/passwd news/x.txt` must not put the password file in
    the index. Links to folders are never followed (they can loop). A path named on the
    command line is the user's own choice and is read even if it is a link.
    """
    found = FoundFiles()
    for path in map(Path, paths):
        if path.is_dir() and not path.is_symlink():
            _walk(path, follow_symlinks, found)
        elif path.is_dir():
            found.skipped.append((path, "a symbolic link to a folder (give the folder itself)"))
        elif not path.exists():
            found.skipped.append((path, "no such file or folder" if not path.is_symlink()
                                  else "a symbolic link to a file that does not exist"))
        else:
            found.add(path)
    found.files = list(dict.fromkeys(found.files))
    return found


def _walk(root: Path, follow_symlinks: bool, found: FoundFiles) -> None:
    real_root = root.resolve()
    for folder, dirs, files in os.walk(root):
        subfolders = sorted(d for d in dirs if not d.startswith("."))
        links = {d for d in subfolders if (Path(folder) / d).is_symlink()}
        found.skipped += [(Path(folder) / d, "a symbolic link to a folder (not followed)")
                          for d in subfolders if d in links]
        dirs[:] = [d for d in subfolders if d not in links]
        for name in sorted(f for f in files if not f.startswith(".")):
            path = Path(folder) / name
            if path.is_symlink() and not follow_symlinks:
                target = path.resolve()
                if not target.is_relative_to(real_root):
                    reason = (f"a symbolic link to {target}, outside {root} (not followed; "
                              "the setting follow_symlinks allows it)")
                    found.skipped.append((path, reason))
                    continue
            found.add(path)


def _not_regular(mode: int) -> str:
    """Why a file of this mode is not read, or "" for a regular file."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "a named pipe, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    return "not a regular file"


def _decode(data: bytes, html: bool = False) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                raise RejectedFile(f"damaged {encoding.upper()} text (invalid bytes)") from None
            return _checked_text(text)
    _reject_binary(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_declared_html(data) if html else None
        if text is None:
            raise RejectedFile(_not_utf8_reason(data)) from None
    return _checked_text(text)


def _reject_binary(data: bytes) -> None:
    for magic, kind in _MAGIC.items():
        if data.startswith(magic):
            raise RejectedFile(f"binary file (not text): looks like {kind}")
    head = data[:8192]
    if b"\x00" in head:
        if _looks_like_bomless_utf16(head):
            raise RejectedFile("binary file (not text), or UTF-16 without a BOM; save as UTF-8")
        raise RejectedFile("binary file (not text)")


def _looks_like_bomless_utf16(head: bytes) -> bool:
    # UTF-16 puts the NUL of every ASCII character (spaces, digits) on the same side.
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if min(odd, even) > 0:
        return False
    sample = head[: len(head) // 2 * 2].decode("utf-16-le" if odd else "utf-16-be", "replace")
    return sum(ch.isprintable() or ch.isspace() for ch in sample) > 0.95 * len(sample)


def _decode_declared_html(data: bytes) -> str | None:
    # Old Arabic sites still serve windows-1256 and say so in <meta>; browsers honour it.
    declared = _META_CHARSET.search(data[:4096])
    if not declared:
        return None
    try:
        return data.decode(declared.group(1).decode("ascii"))
    except (LookupError, UnicodeDecodeError):
        return None


def _not_utf8_reason(data: bytes) -> str:
    guess = data.decode("cp1256", errors="replace")
    arabic, latin = len(_ARABIC_LETTER.findall(guess)), len(_LATIN_LETTER.findall(guess))
    if arabic > latin:
        return "not UTF-8 text (looks like windows-1256; save it as UTF-8)"
    return "not UTF-8 text (probably windows-1252 or latin-1; save it as UTF-8)"


def _checked_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if not text.strip():
        raise RejectedFile("empty file (only whitespace)")
    controls = sum(1 for ch in text[:10000] if ord(ch) < 32 and ch not in "\n\t\f\v")
    if controls > len(text[:10000]) * 0.05:
        raise RejectedFile("binary file (not text)")
    return text


def _pdf_text(data: bytes) -> str:
    if not data.startswith(b"%PDF"):
        raise RejectedFile("not a PDF (the content does not start with %PDF)")
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise RejectedFile("PDF is password-protected")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise RejectedFile(f"PDF has too many pages ({len(reader.pages):,}; the limit is "
                               f"{MAX_PDF_PAGES:,}): split it into smaller files")
        pages, chars, content = [], 0, 0
        for number, page in enumerate(reader.pages, start=1):
            contents = page.get_contents()
            size = len(contents.get_data()) if contents is not None else 0
            content += size
            if size > MAX_PDF_PAGE_CONTENT or content > MAX_PDF_CONTENT:
                raise RejectedFile(f"PDF page {number} is too large to read (more than "
                                   f"{MAX_PDF_PAGE_CONTENT // 2**20} MB of drawing instructions "
                                   f"on a page, or {MAX_PDF_CONTENT // 2**20} MB in all)")
            pages.append((page.extract_text() or "").strip())
            chars += len(pages[-1])
            if chars > MAX_PDF_TEXT_CHARS:
                raise RejectedFile(f"PDF has too much text (more than {MAX_PDF_TEXT_CHARS:,} "
                                   f"characters by page {number}): split it into smaller files")
    except RejectedFile:
        raise
    except LimitReachedError as e:
        raise RejectedFile(f"PDF is too large or complex to read safely ({e})") from None
    except (PyPdfError, ValueError, KeyError, TypeError) as e:
        raise RejectedFile(f"damaged PDF ({e})") from None
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise RejectedFile("PDF has no text layer (scanned?)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _html_text(html: str) -> str:
    parser = _MainTextParser()
    parser.feed(html)
    parser.close()
    text = parser.text()
    if not text.strip():
        raise RejectedFile("HTML page has no readable text")
    return text


class _MainTextParser(HTMLParser):
    """Collects paragraphs outside page chrome; prefers <article>/<main> when the page has one."""

    _SKIP = frozenset({
        "script", "style", "noscript", "template", "svg", "nav", "header", "footer",
        "aside", "form", "button", "select", "iframe"
    })
    _INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg"})
    _BLOCK = frozenset({
        "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "tr",
        "td", "th", "table", "blockquote", "pre", "section", "article", "main",
        "figure", "figcaption", "dd", "dt", "hr", "address"
    })
    _MAIN = frozenset({"article", "main"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._skip = 0
        self._invisible = 0
        self._main = 0
        self._where = ""  # "h1", "title" or "" for the text currently being read
        self._current: list[str] = []
        self._paragraphs: list[tuple[str, bool]] = []  # (text, inside <article>/<main>)
        self._h1: list[tuple[str, bool]] = []
        self._h1_parts: list[str] = []
        self._title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, +1)

    def handle_endtag(self, tag: str) -> None:
        self._tag(tag, -1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCK:
            self._flush()

    def _tag(self, tag: str, step: int) -> None:
        if tag in self._BLOCK or tag in self._SKIP or tag == "title":
            self._flush()
        if tag in self._SKIP:
            self._skip = max(0, self._skip + step)
        if tag in self._INVISIBLE:
            self._invisible = max(0, self._invisible + step)
        if tag in self._MAIN:
            self._main = max(0, self._main + step)
        if tag in ("h1", "title"):
            if tag == "h1" and step < 0 and self._where == "h1":
                self._h1.append((" ".join("".join(self._h1_parts).split()), self._main > 0))
            self._where = tag if step > 0 else ""
            self._h1_parts = []

    def handle_data(self, data: str) -> None:
        if self._invisible:
            return
        if self._where == "title":
            self._title += data
        elif self._where == "h1":
            # An article's <h1> often sits in a <header>, which is otherwise chrome.
            self._h1_parts.append(data)
        if not self._skip and self._where != "title":
            self._current.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        self._current = []
        if text:
            self._paragraphs.append((text, self._main > 0))

    def text(self) -> str:
        self._flush()
        in_main = [t for t, main in self._paragraphs if main]
        paragraphs = in_main if in_main else [t for t, _ in self._paragraphs]
        headings = [t for t, main in self._h1 if main or not in_main]
        title = next((h for h in headings if h), "") or _strip_site_name(self._title)
        if title and (not paragraphs or paragraphs[0] != title):
            paragraphs.insert(0, title)
        return "\n\n".join(paragraphs)


def _strip_site_name(title: str) -> str:
    # "<headline> | <site>" and "<headline> - <site>": the headline is the longest part.
    parts = re.split(r"\s+[|–—-]\s+", " ".join(title.split()))
    return max(parts, key=len) if parts else ""
