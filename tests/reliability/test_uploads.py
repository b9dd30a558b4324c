"""Uploads that are too big, disguised, hostile or in the wrong encoding.

Through the app's own upload handler (`rag.web.webapp.WebApp.upload`, a plain function) with
the real `Assistant` and embedder over a temporary index: each bad file gets one clear line in
the report, the good file of the same batch is still indexed, and nothing is written outside
`<index>/../uploads/`. The last test sends hostile file names through the running app's HTTP
upload endpoint (the layer in front of the handler).
"""

from __future__ import annotations

import gzip
import html
import io
import os
import re
import signal
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from reliability_support import ROOT

from rag.assistant import Assistant
from rag.config import Settings
from rag.uploads import safe_filename
from rag.web.service import Service
from rag.web.webapp import WebApp, new_session

LIMIT_MB = 1
ARTICLE = ("Harbour council approves a new ferry pier\n\n"
           "The harbour council of Velmora approved a new ferry pier on Monday. The pier will "
           "cost 3 million euros and should open next spring, the council said.\n")
ARABIC = ("افتتاح مكتبة جديدة في وسط المدينة\n\n"
          "افتتحت البلدية يوم الاثنين مكتبة عامة جديدة تضم عشرين ألف كتاب، وقالت إنها ستفتح "
          "أبوابها يومياً حتى التاسعة مساءً.\n")
LATIN1 = ("Le café de la gare a rouvert à Zürich\n\n"
          "Après des travaux d'été, le café a rouvert ses portes lundi, a annoncé la société "
          "propriétaire. Les prix ne changent pas, a précisé la gérante.\n")
# (A report line takes the interface's direction from its list; the file name its own.)
ITEM = re.compile(r'<li class="(\w*)">(?:<b dir="auto">(.*?)</b>: )?(.*?)</li>')


def make_pdf(pages: list[bytes], compress: bool = False) -> bytes:
    """A minimal PDF with one content stream per page (Helvetica text operators)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               ("<< /Type /Pages /Kids [" + " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
                + f"] /Count {len(pages)} >>").encode(),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for i, content in enumerate(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                       f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode())
        data = zlib.compress(content, 9) if compress else content
        extra = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def zip_bomb(size_mb: int = 200) -> bytes:
    """A small zip (about 0.2 MB) that would expand to `size_mb` MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z, z.open("article.txt", "w") as f:
        block = bytes(2**20)
        for _ in range(size_mb):
            f.write(block)
    return buffer.getvalue()


def gzip_bomb(size_mb: int = 200) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as f:
        block = bytes(2**20)
        for _ in range(size_mb):
            f.write(block)
    return buffer.getvalue()


@pytest.fixture
def web(tmp_path, embedder) -> WebApp:
    settings = Settings.load(index_dir=tmp_path / "data" / "index", max_upload_mb=LIMIT_MB)
    service = Service(settings, assistant=Assistant(settings, embedder=embedder))
    service.embedder_ready.set()  # uploads need only the embedder, which is loaded
    return WebApp(service)


def upload(web: WebApp, paths: list[Path | str], lang: str = "en") -> dict[str, str]:
    """Upload through the app's handler; returns {shown file name: message}."""
    report, *_ = web.upload([str(p) for p in paths], lang, new_session(),
                            progress=lambda *args, **kwargs: None)
    assert "<script" not in report and "<img" not in report, report
    lines = {html.unescape(name or ""): html.unescape(message)
             for _, name, message in ITEM.findall(report)}
    assert lines, report
    return lines


def indexed_files(web: WebApp) -> set[str]:
    index = web.service.index()
    return {d.source_file for d in index.documents.values()} if index else set()


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_bad_files_get_a_clear_reason_and_the_good_one_is_indexed(web, tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    pk = io.BytesIO()
    with zipfile.ZipFile(pk, "w") as z:
        z.writestr("article.txt", ARTICLE)
    files = {
        "good.txt": ARTICLE.encode(),
        "too_big.txt": b"news " * (LIMIT_MB * 2**20 // 5 + 1),
        "picture.txt": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "program.txt": b"\x7fELF\x02\x01\x01" + bytes(500),
        "archive_renamed.txt": pk.getvalue(),
        "zip_bomb.txt": zip_bomb(),
        "gzip_bomb.txt": gzip_bomb(),
        "archive.zip": pk.getvalue(),
        "cp1256.txt": ARABIC.encode("cp1256"),
        "latin1.txt": LATIN1.encode("latin-1"),
        "cp1256_page.html": (f'<html><head><meta charset="windows-1256"><title>x</title></head>'
                             f'<body><article><p>{ARABIC}</p></article></body></html>'
                             ).encode("cp1256"),
        "many_pages.pdf": make_pdf([b"BT /F1 12 Tf 72 720 Td (Page %d of a report.) Tj ET" % i
                                    for i in range(2500)]),
        "pdf_bomb.pdf": make_pdf([(b"BT /F1 12 Tf 72 720 Td (" + b"word " * 40 + b") Tj ET\n")
                                  * 200_000], compress=True),  # 46 MB of text operators
        "empty.txt": b"  \n\t\n",
    }
    for name, data in files.items():
        (incoming / name).write_bytes(data)
    assert len(files["zip_bomb.txt"]) < LIMIT_MB * 2**20  # small enough to pass the size check
    assert len(files["pdf_bomb.pdf"]) < 2**20 and len(files["many_pages.pdf"]) < 2**20

    started = time.monotonic()
    lines = upload(web, [incoming / name for name in files])
    seconds = time.monotonic() - started
    print(f"\n{len(files)} uploads handled in {seconds:.1f} s:")
    for name, message in lines.items():
        print(f"  {name}: {message}")

    expected = {
        "good.txt": "added; passages: 1",
        "too_big.txt": f"the limit is {LIMIT_MB} MB per file",
        "picture.txt": "binary file (not text): looks like a PNG image",
        "program.txt": "binary file (not text): looks like an executable",
        "archive_renamed.txt": "looks like a ZIP archive",
        "zip_bomb.txt": "looks like a ZIP archive",
        "gzip_bomb.txt": "looks like a gzip archive",
        "archive.zip": ".zip files are not supported (use .txt .md .html .htm .pdf)",
        "cp1256.txt": "not UTF-8 text (looks like windows-1256; save it as UTF-8)",
        "latin1.txt": "not UTF-8 text (probably windows-1252 or latin-1; save it as UTF-8)",
        "cp1256_page.html": "added; passages: 1",  # the page declares its charset
        "many_pages.pdf": "PDF has too many pages (2,500; the limit is 2,000)",
        "pdf_bomb.pdf": "PDF page 1 is too large to read",
        "empty.txt": "empty file",
    }
    for name, wanted in expected.items():
        assert wanted in lines.get(name, ""), (name, lines.get(name))
    assert indexed_files(web) == {"good.txt", "cp1256_page.html"}
    # Bounded without a clock: the archives and the PDF bomb were refused by what they are
    # (the reasons above), before anything was inflated or parsed to the end.
    uploads = web.service.uploads.folder
    assert files_under(uploads) == {"good.txt", "cp1256_page.html"}  # refused copies deleted

    # The same refusals in Arabic for an Arabic interface.
    lines = upload(web, [incoming / "picture.txt", incoming / "archive.zip"], lang="ar")
    assert lines["picture.txt"].startswith("لم يُضف:") and "PNG" in lines["picture.txt"]
    assert "غير مدعومة" in lines["archive.zip"]


def test_an_upload_never_silently_replaces_a_document(web, tmp_path):
    """An upload named like a CLI-ingested file replaced it without a word, and so did a
    second upload of the same name."""
    cli_folder = tmp_path / "articles"
    cli_folder.mkdir()
    (cli_folder / "article.txt").write_text(LATIN1, encoding="utf-8")
    web.service.assistant.ingest([cli_folder])
    incoming = tmp_path / "incoming"
    (incoming / "second").mkdir(parents=True)
    (incoming / "article.txt").write_text(ARTICLE, encoding="utf-8")
    (incoming / "second" / "article.txt").write_text(ARABIC, encoding="utf-8")

    assert upload(web, [incoming / "article.txt"])["article.txt"].startswith("added")
    lines = upload(web, [incoming / "second" / "article.txt"])
    assert lines["article (2).txt"].startswith("added"), lines
    assert "another upload named article.txt is indexed with other content" in \
        lines["article (2).txt"]
    # The same content again is recognised, not stored a third time.
    assert upload(web, [incoming / "article.txt"])["article.txt"].startswith("already indexed")
    assert upload(web, [incoming / "second" / "article.txt"])["article (2).txt"].startswith(
        "already indexed")
    (incoming / "article.txt").write_text(ARTICLE.replace("Monday", "Friday"), encoding="utf-8")
    lines = upload(web, [incoming / "article.txt"], "ar")
    assert "احتُفظ بالاثنين" in lines["article (3).txt"], lines
    index = web.service.index()
    assert len(index.by_file) == 4, index.by_file
    assert {d.source_file for d in index.documents.values()} == {
        "article.txt", "article (2).txt", "article (3).txt"}
    assert any(d.text.startswith("Le café") for d in index.documents.values())  # the CLI's
    assert sorted(p.name for p in web.service.uploads.folder.iterdir()) == [
        "article (2).txt", "article (3).txt", "article.txt"]


def test_hostile_file_names_stay_inside_the_uploads_folder(web, tmp_path):
    incoming = tmp_path / "incoming"
    (incoming / "a" / "b").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    names = {
        "evil\nname.txt": "evil_name.txt",  # a newline in the name
        "<img src=x onerror=alert(1)>.txt": "img src_x onerror_alert(1).txt",
        ".hidden.txt": "hidden.txt",
        "a b;rm -rf ~;.txt": "a b_rm -rf.txt",
        "x" * 250 + ".md": "x" * 117 + ".md",  # near the file system's 255 bytes
    }
    paths: list[Path | str] = []
    for i, name in enumerate(names):
        path = incoming / name
        path.write_text(ARTICLE.replace("Monday", f"day {i}"), encoding="utf-8")
        paths.append(path)
    # A path with "..": only its last part names the upload.
    (tmp_path / "etc" / "passwd.txt").write_text(ARTICLE.replace("Monday", "Sunday"),
                                                 encoding="utf-8")
    paths.append(f"{incoming}/a/b/../../../etc/passwd.txt")
    before = files_under(tmp_path)

    lines = upload(web, paths)
    print("\n" + "\n".join(f"  {name!r}: {message}" for name, message in lines.items()))
    wanted = set(names.values()) | {"passwd.txt"}
    assert set(lines) - {""} == wanted, lines
    assert all("added" in lines[name] for name in wanted), lines
    uploads = web.service.uploads.folder
    assert files_under(uploads) == wanted
    assert indexed_files(web) == wanted
    created = {p for p in files_under(tmp_path) - before
               if not p.startswith(("data/index", "data/uploads"))}
    assert created == {"data"}, created  # nothing written anywhere else
    assert (tmp_path / "etc" / "passwd.txt").read_text(encoding="utf-8").startswith("Harbour")
    # A name that cannot exist on disk (NUL) is cleaned the same way before any use.
    assert safe_filename("../../etc/pass\x00wd\n.txt") == "pass_wd.txt"
    assert safe_filename("/etc/passwd.txt") == "passwd.txt"
    assert safe_filename("C:\\Windows\\evil.TXT") == "evil.txt"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_http_upload_endpoint_keeps_hostile_names_in_its_folder():
    """The running app's /gradio_api/upload, with names a browser would never send."""
    import httpx
    from test_app_api import app_server

    server = app_server()
    hostile = ["../../etc/passwd.txt", "/etc/passwd.txt", "..\\..\\boot.ini.txt",
               "a\nb.txt", "<img src=x onerror=alert(1)>.txt", "..", "x\x00y.txt"]
    stored: dict[str, str] = {}
    for name in hostile:
        response = httpx.post(f"{server.url}/gradio_api/upload",
                              files=[("files", (name, ARTICLE.encode(), "text/plain"))],
                              timeout=30)
        assert response.status_code in (200, 400, 422), (name, response.status_code)
        if response.status_code == 200:
            (path,) = response.json()
            stored[name] = path
    print("\n" + "\n".join(f"  {n!r} -> {p}" for n, p in stored.items()))
    assert stored, "the upload endpoint refused every name"
    folders = {Path(p).resolve().parent.parent for p in stored.values()}
    assert len(folders) == 1, folders  # every file in its own folder under one upload root
    for name, path in stored.items():
        resolved = Path(path).resolve()
        assert resolved.is_file() and resolved.read_text(encoding="utf-8") == ARTICLE, path
        assert resolved.parent.parent in folders and ".." not in Path(path).parts, path
        assert not str(resolved).startswith(("/etc/", "/boot")), path
        assert "\n" not in resolved.name and "\x00" not in resolved.name, path
        clean = safe_filename(resolved.name)
        assert re.fullmatch(r"[\w .()-]+", clean) and not clean.startswith("."), clean
    assert not Path("/etc/passwd.txt").exists() and not (ROOT / "etc").exists()
    assert os.path.exists(server.workdir)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_in_a_browser_a_dot_name_uploads_and_gradio_keeps_no_copy(browser, tmp_path):
    """A file named ".notes.txt" failed the whole batch with bare "Error" badges (Gradio
    refuses to take a dot-named file from its temporary folder when that folder lies under the
    working directory, here /tmp), and Gradio's copies of uploads stayed after shutdown and
    could still be downloaded after the document was removed."""
    import tempfile

    from test_app_api import start_app

    base = Path(tempfile.gettempdir())
    stale = base / "rag-gradio-4194303-test"  # a pid above the kernel's pid_max: dead
    (stale / "abc").mkdir(parents=True, exist_ok=True)
    (stale / "abc" / "old.txt").write_text("left by a killed app")
    server = start_app(cwd=base)
    assert not stale.exists()  # removed at start
    (tmp_path / ".notes.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "museum.txt").write_text(ARABIC, encoding="utf-8")
    page = browser.new_page()
    try:
        page.set_default_timeout(180_000)
        page.goto(server.url)
        page.wait_for_selector("#chatlog .chat")
        page.click("#tab-documents-button")
        page.locator("#upload input[type=file]").set_input_files(
            [str(tmp_path / ".notes.txt"), str(tmp_path / "museum.txt")])
        page.wait_for_function("document.querySelector('#upload-report') && "
                               "document.querySelector('#upload-report').innerText"
                               ".includes('museum.txt')")
        report = page.locator("#upload-report").inner_text()
        assert "notes.txt: added" in report and "museum.txt: added" in report, report
        assert "Error" not in page.locator("body").inner_text()
    finally:
        page.close()
    (received,) = base.glob(f"rag-gradio-{server.process.pid}-*")
    # Emptied after the upload (Gradio's multipart parser leaves an empty temporary file per
    # request: nothing of the user's; it goes with the folder at exit).
    assert [p for p in received.rglob("*") if p.is_file() and p.stat().st_size] == []
    assert sorted(p.name for p in (server.workdir / "uploads").iterdir()) == [
        "museum.txt", "notes.txt"]
    server.process.send_signal(signal.SIGINT)  # Ctrl-C
    server.process.wait(timeout=180)  # Gradio closes slowly on two busy cores
    assert not received.exists()
