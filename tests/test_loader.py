import hashlib
from pathlib import Path

import pytest

from rag.loader import ArticleLoader, RejectedFile, find_files

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ARABIC = "قال جون كيربي إن الولايات المتحدة تشعر بالقلق.\n\nوأضاف أن روسيا تسعى لشراء ذخيرة."


def _pdf(content: bytes) -> bytes:
    """A one-page PDF whose page draws `content` (a PDF content stream) in Helvetica."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
        ),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _rejection(path: Path, **kwargs) -> str:
    with pytest.raises(RejectedFile) as caught:
        ArticleLoader(**kwargs).load(path)
    return str(caught.value)


def test_seed_file_loads_with_hash_of_raw_bytes():
    path = SEEDS / "000_6e296b17c1da352f.txt"
    loaded = ArticleLoader().load(path)
    assert loaded.format == "txt"
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.text == path.read_text(encoding="utf-8")
    assert loaded.path == path


def test_markdown_is_text(tmp_path):
    loaded = ArticleLoader().load(_write(tmp_path, "a.md", b"# Title\n\nBody text.\n"))
    assert (loaded.format, loaded.text) == ("md", "# Title\n\nBody text.\n")


def test_crlf_line_ends_are_normalized(tmp_path):
    loaded = ArticleLoader().load(_write(tmp_path, "a.txt", b"one\r\n\r\ntwo\rthree"))
    assert loaded.text == "one\n\ntwo\nthree"


@pytest.mark.parametrize("data", [b"", b"  \n\t\n"])
def test_empty_file_rejected(tmp_path, data):
    assert "empty file" in _rejection(_write(tmp_path, "empty.txt", data))


def test_bom_only_file_is_empty(tmp_path):
    assert "empty file" in _rejection(_write(tmp_path, "bom.txt", b"\xef\xbb\xbf\n"))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"hello\x00world\x00\x01\x02 binary", ""),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\x7fELF\x02\x01\x01\x00", "executable"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (_pdf(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"), "PDF"),
    ],
)
def test_binary_content_with_txt_extension_rejected(tmp_path, data, kind):
    reason = _rejection(_write(tmp_path, "looks_like_text.txt", data))
    assert reason.startswith("binary file (not text)")
    assert kind in reason


def test_utf16_without_bom_gets_a_hint(tmp_path):
    reason = _rejection(_write(tmp_path, "u16.txt", ARABIC.encode("utf-16-le")))
    assert "binary file (not text)" in reason and "UTF-16" in reason


def test_windows_1256_arabic_rejected_with_advice(tmp_path):
    reason = _rejection(_write(tmp_path, "old.txt", ARABIC.encode("cp1256")))
    assert reason == "not UTF-8 text (looks like windows-1256; save it as UTF-8)"


def test_latin1_text_rejected_as_not_utf8(tmp_path):
    reason = _rejection(_write(tmp_path, "old.txt", "Café déjà vu, naïve façade.".encode("cp1252")))
    assert reason.startswith("not UTF-8 text") and "windows-1256" not in reason


def test_utf8_bom_is_stripped(tmp_path):
    loaded = ArticleLoader().load(_write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + ARABIC.encode()))
    assert loaded.text == ARABIC


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom"])
def test_utf16_with_bom_is_decoded(tmp_path, encoding):
    data = (
        b"\xfe\xff" + ARABIC.encode("utf-16-be")
        if encoding == "utf-16-be-bom"
        else ARABIC.encode("utf-16")
    )
    assert ArticleLoader().load(_write(tmp_path, "wide.txt", data)).text == ARABIC


@pytest.mark.parametrize("name", ["report.docx", "notes.rtf", "README"])
def test_unsupported_types_rejected(tmp_path, name):
    reason = _rejection(_write(tmp_path, name, b"PK\x03\x04 whatever"))
    suffix = Path(name).suffix or "(no extension)"
    assert reason == (
        f"unsupported file type {suffix} (supported: .txt, .md, .html, .htm, .pdf)"
    )


def test_too_large_file_rejected_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(50 * 2**20 + 1)  # sparse: takes no disk space

    def no_reading(*args, **kwargs):
        raise AssertionError("the loader opened a file it should have refused by size")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    assert _rejection(path) == ("file too large (52,428,801 bytes; the limit is 52,428,800 "
                                "bytes (50 MB))")


def test_size_limit_is_configurable(tmp_path):
    path = _write(tmp_path, "a.txt", b"x" * 3000)
    assert _rejection(path, max_bytes=2**10).startswith("file too large")
    assert ArticleLoader(max_bytes=4000).load(path).text == "x" * 3000


def test_missing_file_reported_as_disappeared(tmp_path):
    assert _rejection(tmp_path / "gone.txt") == "file disappeared (it was removed while being read)"


def test_file_deleted_between_stat_and_read(tmp_path, monkeypatch):
    path = _write(tmp_path, "a.txt", b"text")

    def vanished(*args, **kwargs):
        raise FileNotFoundError(str(path))

    monkeypatch.setattr("rag.loader.os.open", vanished)
    assert _rejection(path) == "file disappeared (it was removed while being read)"


def test_folder_is_not_a_file(tmp_path):
    (tmp_path / "dir.txt").mkdir()
    assert "folder" in _rejection(tmp_path / "dir.txt")


HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Kim visits Russia | Example News</title>
<style>p { color: red }</style><script>var ads = "do not index";</script></head>
<body>
<header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<aside>Most read: something else entirely</aside>
<article>
  <header><h1>Kim <b>arrives</b> in Russia</h1></header>
  <p>Kim Jong Un arrived in Vladivostok on Tuesday.</p>
  <p>He met&nbsp;Putin &amp; officials.<br>Talks lasted  four hours.</p>
  <ul><li>First point</li><li>Second point</li></ul>
  <form><button>Subscribe</button></form>
</article>
<footer>Copyright 2023</footer>
</body></html>
"""


def test_html_main_text_extraction(tmp_path):
    loaded = ArticleLoader().load(_write(tmp_path, "page.html", HTML_PAGE.encode()))
    assert loaded.format == "html"
    assert loaded.text.split("\n\n") == [
        "Kim arrives in Russia",
        "Kim Jong Un arrived in Vladivostok on Tuesday.",
        "He met Putin & officials.",
        "Talks lasted four hours.",
        "First point",
        "Second point",
    ]


def test_html_without_h1_takes_title_from_title_tag(tmp_path):
    page = "<html><head><title>Blinken in Seoul - Example News</title></head>" \
           "<body><p>First paragraph.</p><p>Second.</p></body></html>"
    loaded = ArticleLoader().load(_write(tmp_path, "p.htm", page.encode()))
    assert loaded.text == "Blinken in Seoul\n\nFirst paragraph.\n\nSecond."


def test_html_in_declared_windows_1256_is_decoded(tmp_path):
    page = '<html><head><meta charset="windows-1256"></head><body><p>مرحبا بالعالم</p></body></html>'
    loaded = ArticleLoader().load(_write(tmp_path, "old.html", page.encode("cp1256")))
    assert loaded.text == "مرحبا بالعالم"


def test_html_content_in_txt_file_is_parsed_as_html(tmp_path):
    loaded = ArticleLoader().load(_write(tmp_path, "saved.txt", HTML_PAGE.encode()))
    assert loaded.format == "html"
    assert "<p>" not in loaded.text and "do not index" not in loaded.text


def test_html_without_text_rejected(tmp_path):
    page = b"<html><body><nav>Home</nav><script>x()</script></body></html>"
    assert _rejection(_write(tmp_path, "empty.html", page)) == "HTML page has no readable text"


def test_pdf_text_layer_is_extracted(tmp_path):
    data = _pdf(b"BT /F1 12 Tf 72 720 Td (Kim met Putin in Vladivostok.) Tj ET")
    loaded = ArticleLoader().load(_write(tmp_path, "a.pdf", data))
    assert loaded.format == "pdf"
    assert loaded.text.strip() == "Kim met Putin in Vladivostok."
    assert loaded.sha256 == hashlib.sha256(data).hexdigest()


def test_pdf_without_text_layer_rejected(tmp_path):
    data = _pdf(b"0 0 0 rg 72 72 400 600 re f")  # a filled box, as a scan would be
    assert _rejection(_write(tmp_path, "scan.pdf", data)) == "PDF has no text layer (scanned?)"


def test_pdf_extension_on_non_pdf_rejected(tmp_path):
    assert _rejection(_write(tmp_path, "fake.pdf", b"just text")).startswith("not a PDF")


def test_damaged_pdf_rejected(tmp_path):
    assert _rejection(_write(tmp_path, "bad.pdf", b"%PDF-1.4\n garbage")).startswith(
        ("damaged PDF", "PDF has no text layer")
    )


def test_find_files_expands_folders_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".git").mkdir()
    for name in ["z.txt", "a.md", ".hidden.txt", "b/c.txt", "b/a.pdf", ".git/config"]:
        (tmp_path / name).write_text("x")
    single = tmp_path / "b" / "c.txt"
    missing = tmp_path / "missing.txt"
    found = find_files([tmp_path, single, missing])
    assert found.files == [
        tmp_path / "a.md",
        tmp_path / "z.txt",
        tmp_path / "b" / "a.pdf",
        tmp_path / "b" / "c.txt",
    ]
    assert found.skipped == [(missing, "no such file or folder")]


def test_links_out_of_the_folder_are_not_followed(tmp_path):
    """`ln -s /etc/passwd news/passwd.txt` must not put the password file in the index."""
    outside = tmp_path / "outside"
    news = tmp_path / "news"
    (outside / "dir").mkdir(parents=True)
    news.mkdir()
    (outside / "secret.txt").write_text("root:x:0:0")
    (news / "inside.txt").write_text("article")
    (news / "leak.txt").symlink_to(outside / "secret.txt")
    (news / "alias.txt").symlink_to(news / "inside.txt")  # stays inside: read
    (news / "dirlink").symlink_to(outside / "dir")
    (news / "dangling.txt").symlink_to(news / "gone.txt")
    found = find_files([news])
    assert found.files == [news / "alias.txt", news / "inside.txt"]
    reasons = dict(found.skipped)
    assert "outside" in reasons[news / "leak.txt"] and "follow_symlinks" in reasons[news / "leak.txt"]
    assert "folder" in reasons[news / "dirlink"]
    assert "does not exist" in reasons[news / "dangling.txt"]
    assert news / "leak.txt" in find_files([news], follow_symlinks=True).files


def test_pipes_sockets_and_devices_are_passed_over_not_read(tmp_path):
    """A named pipe called pipe.txt hung `rag ingest` forever."""
    import os
    import socket

    os.mkfifo(tmp_path / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.txt"))
    try:
        found = find_files([tmp_path, Path("/dev/null")])
    finally:
        sock.close()
    assert found.files == []
    reasons = dict(found.skipped)
    assert reasons[tmp_path / "pipe.txt"] == "a named pipe, not a regular file"
    assert reasons[tmp_path / "sock.txt"] == "a socket, not a regular file"
    assert reasons[Path("/dev/null")] == "a device, not a regular file"
    # The loader refuses a pipe too (without waiting for a writer) if one reaches it.
    with pytest.raises(RejectedFile, match="named pipe"):
        ArticleLoader().load(tmp_path / "pipe.txt")


def test_size_limit_message_never_shows_two_equal_numbers(tmp_path):
    """It said "50.0 MB, limit 50 MB" for a file one byte over."""
    path = _write(tmp_path, "a.txt", b"x" * (2**20 + 1))
    assert _rejection(path, max_bytes=2**20) == (
        "file too large (1,048,577 bytes; the limit is 1,048,576 bytes (1 MB))")
    path = _write(tmp_path, "b.txt", b"x" * (3 * 2**19))
    assert _rejection(path, max_bytes=2**20) == "file too large (1.5 MB; the limit is 1 MB)"


def test_find_files_over_seeds():
    found = find_files([SEEDS])
    assert [p.name for p in found.files] == sorted(p.name for p in SEEDS.glob("*.txt"))
