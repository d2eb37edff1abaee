"""`audioguide import` on hostile and awkward documents (issue 22, items 5, 6, 7, 11 and the low ones): every
document here is a real one, written by python-docx, fpdf2, or by hand where they cannot write it.

Each import either writes a draft that `check` accepts, saying in import-report.txt what it changed or left
out, or refuses in French, naming the document's fault. The bombs run the CLI in a subprocess under
`prlimit --as`, so a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_import import add_hyperlink

from audioguide.cli import cli
from audioguide.guide import load_guide
from audioguide.importers import import_document

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def run_cli(*args: str, memory_mb: int = 1000) -> subprocess.CompletedProcess:
    """The CLI in a subprocess under an address-space limit (and a CPU one, should a regression loop).
    prlimit takes bytes: it reads a suffix such as 1G as a much smaller number."""
    return subprocess.run(["prlimit", f"--as={memory_mb * 1_000_000}", "--cpu=300", sys.executable, "-m",
                           "audioguide", *args], capture_output=True, text=True)


def blocks(guide) -> list:
    return [b for c in guide.chapters for p in c.pages for b in p.blocks]


def texts(guide) -> str:
    out = []
    for c in guide.chapters:
        out.append(c.title)
        for p in c.pages:
            out.append(p.title)
            for b in p.blocks:
                out += [b.text, *b.items, *(c.text for c in b.children)]
    return "\n".join(out)


def imported(tmp_path: Path, name: str, content: str | bytes):
    src = tmp_path / name
    src.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    target, report = import_document(src, tmp_path / "out")
    return load_guide(target.parent), "\n".join(report), target


# --- item 5: the web page's main content holds every heading --------------------------------------------------

SECTIONS = "".join(f"<h2>Section {i}</h2><p>Le texte de la section {i}, sur la vaccination.</p>" for i in range(3))


def test_html_teaser_article_is_not_the_whole_page(tmp_path):
    page = f"""<html><head><title>Grippe</title></head><body><div class="contenu"><h1>La grippe</h1>{SECTIONS}
    </div><article class="teaser"><h3>À lire aussi…</h3><p>Le rhume des foins.</p></article></body></html>"""
    g, report, _ = imported(tmp_path, "grippe.html", page)
    for i in range(3):
        assert f"Le texte de la section {i}, sur la vaccination." in texts(g)


def test_html_longest_section_in_its_own_div_keeps_the_others(tmp_path):
    long = "<p>" + "Un long paragraphe sur la vaccination des enfants. " * 40 + "</p>"
    page = f"""<html><body><div id="page"><h2>Avant</h2><p>Le premier point.</p><h2>Pendant</h2>
    <div class="longue">{long}{long}</div><h2>Après</h2><p>Le dernier point.</p></div></body></html>"""
    g, report, _ = imported(tmp_path, "page.html", page)
    assert [p.title for c in g.chapters for p in c.pages] == ["Avant", "Pendant", "Après"]
    assert "Le premier point." in texts(g) and "Le dernier point." in texts(g)


@pytest.mark.parametrize("depth", [250, 1000])
def test_html_nested_divs_keep_every_paragraph(tmp_path, depth):
    """Past 256 levels libxml2 used to drop the rest of the page, unless told otherwise."""
    page = "<html><body>" + "".join(f"<div><p>Paragraphe numéro {i}.</p>" for i in range(depth)) + \
        "</div>" * depth + "</body></html>"
    g, report, _ = imported(tmp_path, "imbrique.html", page)
    assert re.findall(r"Paragraphe numéro (\d+)\.", texts(g)) == [str(i) for i in range(depth)]


@pytest.mark.french
def test_html_nested_past_what_the_parser_reads_is_refused(tmp_path):
    page = "<html><body>" + "<div><p>Texte.</p>" * 3000 + "</div>" * 3000 + "</body></html>"
    (tmp_path / "abime.html").write_text(page)
    r = CliRunner().invoke(cli, ["import", str(tmp_path / "abime.html"), "--out", str(tmp_path / "g")])
    assert r.exit_code == 1 and "abime.html imbrique ses éléments sur plus de 2048 niveaux" in r.output


def test_html_what_is_left_out_is_named_in_the_report(tmp_path):
    """A banner without a telling class, beside the content, is still left out, but named; so is the
    furniture recognised by its class."""
    page = f"""<html><body><div><p>Nous utilisons des traceurs.</p></div>
    <div id="contenu"><h1>La grippe</h1>{SECTIONS}{SECTIONS.replace("Section", "Partie")}</div>
    <div class="newsletter"><h2>Restez informé</h2></div></body></html>"""
    g, report, target = imported(tmp_path, "grippe.html", page)
    assert "traceurs" not in texts(g) and "Restez" not in texts(g)
    written = (target.parent / "import-report.txt").read_text()
    assert "« Nous utilisons des traceurs. »" in written and "« Restez informé »" in written


# --- item 6: size limits ---------------------------------------------------------------------------------------

def make_docx(path: Path, *paragraphs: str, title: str = "Un dépliant"):
    import docx

    d = docx.Document()
    d.core_properties.title = title
    d.add_heading("Le sujet", 1)
    for text in paragraphs:
        d.add_paragraph(text)
    d.save(path)
    return d


def rewrite_part(path: Path, name: str, change) -> None:
    """Rewrite one part of a .docx (python-docx cannot write what these tests need)."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts[name] = change(parts[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)


@pytest.mark.french
def test_docx_part_inflating_past_the_limit_is_refused_under_a_memory_cap(tmp_path):
    """45 MB of empty paragraphs in word/document.xml (a 50 KB file): refused by the part's size, before
    lxml builds a tree of nine million elements."""
    src = tmp_path / "bombe.docx"
    make_docx(src, "Texte.")
    with zipfile.ZipFile(src) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    head, tail = parts["word/document.xml"].split(b"<w:body>")
    with zipfile.ZipFile(src, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            if n != "word/document.xml":
                z.writestr(n, data)
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(head + b"<w:body>")
            for _ in range(45):
                f.write(b"<w:p/>" * 174_763)  # 1 MB
            f.write(tail)
    assert src.stat().st_size < 200_000
    r = run_cli("import", str(src), "--out", str(tmp_path / "g"), memory_mb=700)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr[-2000:]
    assert "la partie word/document.xml ferait 47 Mo une fois décompressé ; l'import lit 40 Mo au plus" in r.stderr
    assert not (tmp_path / "g").exists()


@pytest.mark.french
def test_docx_part_lying_about_its_size_is_refused_under_a_memory_cap(tmp_path):
    """A part that declares 2 KB and inflates to 1 GB: read 1 MB at a time, it fails its check."""
    src = tmp_path / "menteur.docx"
    make_docx(src, "Texte.")
    with zipfile.ZipFile(src) as z:
        info = z.getinfo("word/document.xml")
        declared = info.file_size
    c = zlib.compressobj(9, zlib.DEFLATED, -15)  # a raw deflate stream, as ZIP stores it
    block = c.compress(b" " * (1 << 24)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(b" " * (1 << 24)) + c.flush(zlib.Z_FULL_FLUSH)
    assert again == c.compress(b" " * (1 << 24)) + c.flush(zlib.Z_FULL_FLUSH)  # so it can be repeated as is
    bomb = block + again * 63 + c.flush()  # 1 GB
    # Put the bomb in place of the part's compressed bytes, keeping its declared size and CRC; patch the
    # compressed size in both headers and the offsets that move.
    raw = src.read_bytes()
    local = info.header_offset
    start = local + 30 + int.from_bytes(raw[local + 26:local + 28], "little") + \
        int.from_bytes(raw[local + 28:local + 30], "little")
    shift = len(bomb) - info.compress_size
    out = bytearray(raw[:start] + bomb + raw[start + info.compress_size:])
    out[local + 18:local + 22] = len(bomb).to_bytes(4, "little")
    eocd = out.rfind(b"PK\x05\x06")
    pos = int.from_bytes(out[eocd + 16:eocd + 20], "little") + shift
    out[eocd + 16:eocd + 20] = pos.to_bytes(4, "little")
    while out[pos:pos + 4] == b"PK\x01\x02":
        n, m, k = (int.from_bytes(out[pos + o:pos + o + 2], "little") for o in (28, 30, 32))
        offset = int.from_bytes(out[pos + 42:pos + 46], "little")
        if bytes(out[pos + 46:pos + 46 + n]) == b"word/document.xml":
            out[pos + 20:pos + 24] = len(bomb).to_bytes(4, "little")
        elif offset > local:
            out[pos + 42:pos + 46] = (offset + shift).to_bytes(4, "little")
        pos += 46 + n + m + k
    src.write_bytes(bytes(out))
    with zipfile.ZipFile(src) as z:
        assert z.getinfo("word/document.xml").file_size == declared
    r = run_cli("import", str(src), "--out", str(tmp_path / "g"), memory_mb=700)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr[-2000:]
    assert "Impossible de lire menteur.docx comme un document Word (BadZipFile)" in r.stderr


def test_docx_huge_grid_span_reads_the_cell_once(tmp_path):
    """<w:gridSpan w:val="100000000"/>: python-docx's row.cells would list the cell 10⁸ times."""
    import docx

    src = tmp_path / "tableau.docx"
    d = docx.Document()
    d.add_heading("Tarifs", 1)
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Consultation", "25 euros"
    d.save(src)
    span = b'<w:tcPr><w:gridSpan w:val="100000000"/>'
    rewrite_part(src, "word/document.xml", lambda x: x.replace(b"<w:tcPr>", span, 1))
    r = run_cli("import", str(src), "--out", str(tmp_path / "g"))
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]
    assert "Consultation ; 25 euros" in (tmp_path / "g" / "guide.md").read_text()


def pdf_with_content(path: Path, content_stream: bytes, *fonts: str, resources: bytes = b"") -> Path:
    """A one-page PDF written by hand around a raw content stream (zlib format) and objects 5, 6… (fonts
    /F1, /F2… unless RESOURCES says otherwise)."""
    fonts = fonts or ("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",)
    names = b" ".join(b"/F%d %d 0 R" % (i, 4 + i) for i in range(1, len(fonts) + 1))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources " + (resources or b"<< /Font << " + names + b" >> >>") + b" >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content_stream) + content_stream
            + b"\nendstream", *(f.encode() for f in fonts)]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def flate_bomb() -> bytes:
    """A 1.2 MB zlib stream that inflates to 1.2 GB of spaces (a PDF page's content)."""
    chunk, n = b" " * (1 << 24), 72
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)  # so it can be repeated as is
    adler = 1
    for _ in range(n):
        adler = zlib.adler32(chunk, adler)
    return b"\x78\xda" + first + block * (n - 1) + c.flush() + adler.to_bytes(4, "big")


@pytest.mark.french
def test_pdf_flate_bomb_is_refused_under_a_memory_cap(tmp_path):
    """A 1.2 MB PDF whose page inflates to 1.2 GB: the reader's memory cap stops it with a French message."""
    src = pdf_with_content(tmp_path / "bombe.pdf", flate_bomb())
    r = run_cli("import", str(src), "--out", str(tmp_path / "g"), memory_mb=1500)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr[-2000:]
    assert "bombe.pdf : la lecture de ce PDF demande plus de 1000 Mo de mémoire, la limite de l'import." \
        in r.stderr
    assert not (tmp_path / "g").exists()


@pytest.mark.french
def test_pdf_unmapped_glyphs_are_not_read_aloud(tmp_path):
    """A CID font without a ToUnicode map: pdfminer writes each glyph as « (cid:65) », which is left out."""
    cid_font = ("<< /Type /Font /Subtype /Type0 /BaseFont /Sans /Encoding /Identity-H /DescendantFonts [<< /Type "
                "/Font /Subtype /CIDFontType2 /BaseFont /Sans /CIDSystemInfo << /Registry (Adobe) /Ordering "
                "(Identity) /Supplement 0 >> >>] >>")
    text = b"BT /F1 12 Tf 72 700 Td (Le vaccin protege.) Tj ET BT /F2 12 Tf 72 600 Td <00410042> Tj ET"
    src = pdf_with_content(tmp_path / "cid.pdf", zlib.compress(text),
                           "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>", cid_font)
    g, report, target = imported(tmp_path, "cid.pdf", src.read_bytes())
    assert "cid" not in target.read_text() and "Le vaccin protege." in texts(g)
    assert "2 caractère(s) laissés de côté : les polices du PDF ne les relient" in report


# --- item 7: dates the talking books cannot carry ---------------------------------------------------------------

def test_check_refuses_a_date_after_2107_with_its_line(tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    (d / "guide.yaml").write_text("title: Guide\ndate: 2204-03-01\nchapters:\n  - id: a\n    title: A\n"
                                  "    pages:\n      - id: p\n        title: P\n        blocks:\n"
                                  "          - p: Texte.\n")
    r = CliRunner().invoke(cli, ["check", str(d)])
    assert r.exit_code == 2, r.output
    assert "guide.yaml:2:7: date: the year 2204 is too far ahead" in r.output and "2107" in r.output


@pytest.mark.french
def test_far_dates_from_documents_are_left_out_of_the_draft(tmp_path):
    import docx

    src = tmp_path / "futur.docx"
    d = docx.Document()
    d.core_properties.modified = dt.datetime(2204, 3, 1)
    d.add_heading("Le sujet", 1)
    d.add_paragraph("Texte.")
    d.save(src)
    target, report = import_document(src, tmp_path / "a")
    assert load_guide(target.parent).date != dt.date(2204, 3, 1)
    assert any("2204-03-01, est laissée de côté" in r for r in report)
    page = '<html><head><meta name="date" content="2204-03-01"></head><body><main><p>Texte.</p></main></body></html>'
    g, report, _ = imported(tmp_path / "a", "futur.html", page)
    assert g.date != dt.date(2204, 3, 1) and "2204-03-01, est laissée de côté" in report


def test_zip_dates_are_clamped_to_what_zip_carries():
    """A guide without `date:` takes its file's date, which may be far ahead: the DAISY zip still writes."""
    import io

    from audioguide.publishers.daisy import _zip_time

    with zipfile.ZipFile(io.BytesIO(), "w") as z:
        z.writestr(zipfile.ZipInfo("a", date_time=_zip_time({"guide": {"date": "2204-03-01"}})), b"")


# --- item 11: drafts the validator accepts ----------------------------------------------------------------------

@pytest.mark.french
def test_docx_text_the_validator_would_refuse_is_cleaned_and_reported(tmp_path):
    import docx

    src = tmp_path / "brut.docx"
    d = docx.Document()
    d.add_heading("Le sujet", 1)
    d.add_heading("Un titre trop long " * 15, 2)
    d.add_paragraph("Une phrase assez longue sur la vaccination. " * 600)  # 26,400 characters
    d.add_paragraph("Le code " + "1234567890" * 12 + " est à recopier.")
    d.add_paragraph("Un caractère\u0091invisible.")
    d.save(src)
    target, report = import_document(src, tmp_path / "out")
    g = load_guide(target.parent)
    text = texts(g)
    assert text.count("Une phrase assez longue sur la vaccination.") == 600
    assert "Le code […] est à recopier." in text and "Un caractèreinvisible." in text
    assert "Un titre trop long Un titre" in text
    report = "\n".join(report)
    for said in ("1 caractère(s) invisible(s) retiré(s)", "Nombres de plus de 100 chiffres", "Titres de plus de 200",
                 "Paragraphes ou listes de plus de 6000 caractères coupés"):
        assert said in report


@pytest.mark.french
def test_html_noncharacter_and_300_sections_make_a_valid_draft(tmp_path):
    sections = "".join(f"<h2>Question {i}</h2><p>Réponse {i}\ufffe.</p>" for i in range(300))
    g, report, _ = imported(tmp_path, "faq.html", f"<html><body><main>{sections}</main></body></html>")
    assert [len(c.pages) for c in g.chapters] == [255, 45]
    assert "\ufffe" not in texts(g) and "Réponse 299." in texts(g)
    assert "300 caractère(s) invisible(s) retiré(s)" in report and "255 pages au plus" in report


@pytest.mark.french
def test_empty_document_is_refused_in_french(tmp_path):
    import docx

    src = tmp_path / "vide.docx"
    docx.Document().save(src)
    r = CliRunner().invoke(cli, ["import", str(src), "--out", str(tmp_path / "g")])
    assert r.exit_code == 1 and "vide.docx ne contient aucun texte à importer." in r.output
    assert "report it" not in r.output and not (tmp_path / "g").exists()


# --- low items and issue 26 §3 ----------------------------------------------------------------------------------

@pytest.mark.french
def test_docx_dangling_link_keeps_its_text(tmp_path):
    import docx

    src = tmp_path / "liens.docx"
    d = docx.Document()
    d.add_heading("Contact", 1)
    add_hyperlink(d.add_paragraph("Voir "), "https://www.ameli.fr/", "le site perdu")
    d.save(src)
    rewrite_part(src, "word/document.xml", lambda x: re.sub(rb'(<w:hyperlink[^>]*r:id=")rId\d+', rb"\1rId999", x))
    g, report, _ = imported(tmp_path, "liens.docx", src.read_bytes())
    assert [(b.kind, b.text, b.url) for b in blocks(g)] == [("p", "Voir le site perdu", "")]
    assert "1 lien(s) sans adresse" in report


def test_docx_mailto_and_tel_links_are_kept(tmp_path):
    """Word turns a typed e-mail address into a mailto: link; the README allows mailto: and tel: links."""
    import docx

    src = tmp_path / "contact.docx"
    d = docx.Document()
    d.add_heading("Contact", 1)
    add_hyperlink(d.add_paragraph("Écrivez à "), "mailto:contact@asso.fr", "contact@asso.fr")
    add_hyperlink(d.add_paragraph("Appelez le "), "tel:+33123456789", "01 23 45 67 89")
    d.save(src)
    g, report, _ = imported(tmp_path, "contact.docx", src.read_bytes())
    # The e-mail address is linked where its paragraph writes it (a link block would say it again).
    assert [(b.kind, b.text, b.url) for b in blocks(g)] == [
        ("p", "Écrivez à contact@asso.fr", ""), ("p", "Appelez le 01 23 45 67 89", ""),
        ("link", "01 23 45 67 89", "tel:+33123456789")]


@pytest.mark.french
def test_docx_tracked_changes_take_the_accepted_view(tmp_path):
    src = tmp_path / "revu.docx"
    make_docx(src, "Le vaccin est MARQUE.")
    ins = (b'<w:ins w:id="1" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:t xml:space="preserve"> gratuit'
           b'</w:t></w:r></w:ins><w:del w:id="2" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:delText> payant'
           b'</w:delText></w:r></w:del>')
    rewrite_part(src, "word/document.xml", lambda x: re.sub(rb"MARQUE\.</w:t></w:r>",
                                                            b"</w:t></w:r>" + ins + b"<w:r><w:t>.</w:t></w:r>", x))
    g, report, _ = imported(tmp_path, "revu.docx", src.read_bytes())
    assert blocks(g)[0].text == "Le vaccin est gratuit."
    assert "Le document a 2 modification(s) suivie(s)" in report


def test_docx_text_after_an_unexpanded_entity_is_kept(tmp_path):
    src = tmp_path / "entite.docx"
    make_docx(src, "Avant ENTITE après.")
    rewrite_part(src, "word/document.xml", lambda x: x.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY x "">]>', 1)
                 .replace(b"ENTITE", b"&x;"))
    g, report, _ = imported(tmp_path, "entite.docx", src.read_bytes())
    assert blocks(g)[0].text == "Avant après." and "&x;" in report


def test_docx_bullet_list_then_numbered_list_stay_two_lists(tmp_path):
    import docx

    src = tmp_path / "listes.docx"
    d = docx.Document()
    d.add_heading("Le sujet", 1)
    d.add_paragraph("fièvre", style="List Bullet")
    d.add_paragraph("toux", style="List Bullet")
    d.add_paragraph("appeler le médecin", style="List Number")
    d.save(src)
    g, _, _ = imported(tmp_path, "listes.docx", src.read_bytes())
    assert [b.items for b in blocks(g)] == [["fièvre", "toux"], ["1 : appeler le médecin"]]


def test_html_adjacent_lists_stay_two_lists(tmp_path):
    page = "<html><body><main><h1>A</h1><ul><li>un</li><li>deux</li></ul><ol><li>trois</li></ol></main></body></html>"
    g, report, _ = imported(tmp_path, "page.html", page)
    assert [b.items for b in blocks(g)] == [["un", "deux"], ["1 : trois"]]


def test_html_nested_table_is_read_once(tmp_path):
    page = """<html><body><main><h1>A</h1><table><tr><td>Dehors</td><td><table><tr><td>Dedans</td></tr></table>
    </td></tr></table></main></body></html>"""
    g, report, _ = imported(tmp_path, "page.html", page)
    assert [b.text for b in blocks(g)] == ["Dehors", "Dedans"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])
def test_html_in_utf16_is_read(tmp_path, codec):
    page = '<html><head><meta charset="utf-16"></head><body><main><p>Été comme hiver.</p></main></body></html>'
    g, report, _ = imported(tmp_path, "page.html", page.encode(codec))
    assert texts(g).endswith("Été comme hiver.")


@pytest.mark.french
def test_html_in_an_unknown_encoding_says_it_guessed(tmp_path):
    g, report, _ = imported(tmp_path, "ancien.html", "<html><body><main><p>Vérifiez vos vaccins.</p></main></body>"
                            "</html>".encode("cp1252"))
    assert "Vérifiez vos vaccins." in texts(g) and "pas en UTF-8 : elle a été lue en cp1252" in report


@pytest.mark.french
def test_import_refuses_a_folder_that_holds_a_yaml_guide(tmp_path):
    src = tmp_path / "d.docx"
    make_docx(src, "Texte.")
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "guide.yaml").write_text("title: Ancien\n")
    r = CliRunner().invoke(cli, ["import", str(src), "--out", str(tmp_path / "g")])
    assert r.exit_code == 1 and "contient déjà un guide, guide.yaml" in r.output
    assert not (tmp_path / "g" / "guide.md").exists()


def test_markdown_guide_over_the_size_cap_is_refused(tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    (d / "guide.md").write_text("---\ntitle: Énorme\n---\n\n# A\n\n## P\n\n" + ("Texte. " * 15 + "\n\n") * 100_000)
    r = CliRunner().invoke(cli, ["check", str(d)])
    assert r.exit_code == 2 and "a guide is at most 10 MB" in r.output, r.output


@pytest.mark.french
def test_document_too_big_for_a_guide_file_is_refused(tmp_path):
    """A draft over 10 MB would be refused by `check` (a guide file's cap): the import says so instead."""
    para = "<p>" + "Une phrase sur la vaccination. " * 160 + "</p>"  # 5,000 characters
    (tmp_path / "gros.html").write_text("<html><body><main>" + para * 2100 + "</main></body></html>")
    r = CliRunner().invoke(cli, ["import", str(tmp_path / "gros.html"), "--out", str(tmp_path / "g")])
    assert r.exit_code == 1 and "gros.html ferait un guide de plus de 10 Mo de texte" in r.output
    assert "Solution : coupez le document en plusieurs, un par guide (le guide e-santé fait 0,07 Mo)\n" in r.output
    assert not (tmp_path / "g").exists()


@pytest.mark.french
def test_pdf_drawing_repeated_a_million_times_is_refused_under_a_memory_cap(tmp_path):
    """A 7 KB PDF: a form of 1,000 characters drawn 100 × 100 times is ten million characters to lay out."""
    form = b"BT /F1 1 Tf 0 0 Td (" + b"x" * 1000 + b") Tj ET"
    repeat = b"".join(b"q 1 0 0 1 0 %d cm /B Do Q " % i for i in range(100))
    forms = ("<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /XObject << /B {} 0 R >> "
             "/Font << /F1 5 0 R >> >> /Length {} >>\nstream\n")
    src = pdf_with_content(tmp_path / "dessin.pdf", zlib.compress(repeat.replace(b"/B Do", b"/A Do")),
                           "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                           forms.format(7, len(repeat)) + repeat.decode() + "\nendstream",
                           forms.format(7, len(form)).replace("/XObject << /B 7 0 R >> ", "")
                           + form.decode() + "\nendstream",
                           resources=b"<< /Font << /F1 5 0 R >> /XObject << /A 6 0 R >> >>")
    assert src.stat().st_size < 10_000
    r = run_cli("import", str(src), "--out", str(tmp_path / "g"), memory_mb=600)
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout, r.stderr[-2000:]
    assert re.search(r"dessin.pdf : la lecture de ce PDF demande plus de \d+ Mo de mémoire", r.stderr)
