"""What a volunteer reads after `audioguide import`: the draft's text (every letter of the document, nothing of
its menus) and import-report.txt, which says what was guessed or left out. Real documents: web pages written
byte by byte in their own encodings, Word files by python-docx."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.guide import load_guide
from audioguide.importers import import_document


def imported(src, out):
    target, report = import_document(src, out)
    text = target.read_text("utf-8")
    assert (out / "import-report.txt").read_text("utf-8").splitlines()[1:] == [f"- {r}" for r in report]
    return load_guide(target.parent), report, text


def page(body: bytes, head: bytes = b"") -> bytes:
    return b"<html><head>" + head + b"</head><body><main><h1>Tarifs</h1>" + body + b"</main></body></html>"


# --- encodings: the letters a page declares, and the report says how it was read -------------------------

def test_html_in_a_declared_iso_8859_15_keeps_its_euro_and_oe(tmp_path):
    """A page that names its charset in capitals (<META CHARSET=…>): € and œ are bytes A4 and BD there."""
    src = tmp_path / "tarifs.html"
    src.write_bytes(page("<p>Le ticket coûte 5 € pour un œuf.</p>".encode("iso-8859-15"),
                         b'<META CHARSET="ISO-8859-15">'))
    _, report, text = imported(src, tmp_path / "out")
    assert "Le ticket coûte 5 € pour un œuf." in text
    assert "The page is not in UTF-8: it was read as iso8859-15; check the draft's accents." in report
    assert not any("U+FFFD" in r for r in report)


def test_html_that_says_latin_1_is_read_as_windows_1252_like_browsers_do(tmp_path):
    """Byte 80 is € in Windows-1252 and an invisible control character in Latin-1, which would be lost."""
    src = tmp_path / "tarifs.html"
    src.write_bytes(page("<p>Le ticket coûte 5 €.</p>".encode("cp1252"), b'<meta charset="iso-8859-1">'))
    _, report, text = imported(src, tmp_path / "out")
    assert "Le ticket coûte 5 €." in text
    assert "The page is not in UTF-8: it was read as cp1252; check the draft's accents." in report


def test_html_bytes_no_encoding_can_read_are_counted_in_the_report(tmp_path):
    src = tmp_path / "tarifs.html"
    src.write_bytes(page("<p>Le ticket coûte 5".encode("cp1252") + b" \x81 et 6 \x8d.</p>"))
    _, report, text = imported(src, tmp_path / "out")
    assert "Le ticket coûte 5" in text
    assert "2 byte(s) of the page unreadable as cp1252 became U+FFFD (�): review the draft beside the page." in report


@pytest.mark.french
def test_html_encoding_guess_is_reported_in_french(tmp_path):
    src = tmp_path / "tarifs.html"
    src.write_bytes(page("<p>Le ticket coûte 5".encode("cp1252") + b" \x81.</p>"))
    r = CliRunner().invoke(cli, ["import", str(src), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    report = (tmp_path / "out" / "import-report.txt").read_text("utf-8")
    assert "- La page n'est pas en UTF-8 : elle a été lue en cp1252 ; vérifiez les " in report
    assert "U+FFFD" in report


# --- page furniture: menus, hidden boxes and banners are not read, and the report names them ---------------

def test_html_menus_hidden_boxes_and_banners_are_left_out_and_named(tmp_path):
    src = tmp_path / "page.html"
    src.write_text("<html><body>"
                   "<div role='navigation'><p>Aller au plan du site</p></div>"
                   "<div id='menu'><p>Nos actions en région</p></div>"
                   "<div class='x'><p hidden>Texte masqué du formulaire</p></div>"
                   "<main><h1>Le vaccin</h1><p>Le vaccin protège contre la grippe.</p>"
                   "<p>Il est gratuit après 65 ans.</p></main></body></html>", encoding="utf-8")
    guide, report, text = imported(src, tmp_path / "out")
    assert "Le vaccin protège contre la grippe." in text and "Il est gratuit après 65 ans." in text
    for gone in ("plan du site", "actions en région", "masqué"):
        assert gone not in text
    assert "3 menu(s), header(s), footer(s), banner(s) and script(s) of the page removed: « Aller au plan du " \
           "site », « Nos actions en région », « Texte masqué du formulaire »." in report



# --- structure: what the report counts, and long text without headings kept whole -------------------------

def test_html_three_heading_levels_are_counted_as_parts_topics_and_pages(tmp_path):
    src = tmp_path / "page.html"
    src.write_text("<html><body><main><h1>Le guide</h1><h2>Partie A</h2><h3>Sujet un</h3><h4>Page un</h4>"
                   "<p>Texte un.</p><h4>Page deux</h4><p>Texte deux.</p><h2>Partie B</h2><h3>Sujet deux</h3>"
                   "<h4>Page trois</h4><p>Texte trois.</p></main></body></html>", encoding="utf-8")
    guide, report, _ = imported(src, tmp_path / "out")
    assert [p.title for p in guide.parts] == ["Partie A", "Partie B"]
    assert "Found: 2 part(s), 2 topic(s), 3 page(s), 3 paragraph(s), 0 list(s), 0 link(s)." in report


def test_html_long_text_without_headings_is_cut_into_pages_and_nothing_is_lost(tmp_path):
    src = tmp_path / "page.html"
    said = [f"La phrase numéro {n} dit une chose utile au lecteur du guide." for n in range(400)]
    src.write_text(f"<html><body><main><h1>Le long texte</h1><p>{' '.join(said)}</p></main></body></html>",
                   encoding="utf-8")
    guide, report, _ = imported(src, tmp_path / "out")
    pages = [p for c in guide.chapters for p in c.pages]
    assert [p.title for p in pages] == ["Le long texte"] + [f"Le long texte (suite {n})" for n in range(2, 6)]
    assert " ".join(b.text for p in pages for b in p.blocks) == " ".join(said)  # cut between sentences only
    assert "Paragraphs or lists of more than 6000 characters cut into pieces: « La phrase numéro 0 dit une " \
           "chose utile au lecteur du… »." in report
    assert any("(4 cut(s), titled “… (suite N)”)" in r for r in report)


# --- Word: the guide's title ------------------------------------------------------------------------------

def _two_sections(d) -> None:
    for title in ("Pourquoi se vacciner", "Comment se vacciner"):
        d.add_heading(title, 1)
        d.add_paragraph(f"Le texte de « {title} ».")


def test_docx_title_paragraph_is_the_guide_title(tmp_path):
    """A Word "Title" paragraph (not a heading) names the guide; the draft does not invent one from the file."""
    import docx

    d = docx.Document()
    d.core_properties.title = ""
    d.add_heading("Le guide du vaccin", 0)
    _two_sections(d)
    d.save(tmp_path / "brochure.docx")
    guide, _, _ = imported(tmp_path / "brochure.docx", tmp_path / "out")
    assert guide.title == "Le guide du vaccin"
    assert [p.title for c in guide.chapters for p in c.pages] == ["Pourquoi se vacciner", "Comment se vacciner"]


def test_docx_title_in_the_file_properties_is_the_guide_title(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "Vaccins : le guide"
    _two_sections(d)
    d.save(tmp_path / "brochure.docx")
    guide, _, _ = imported(tmp_path / "brochure.docx", tmp_path / "out")
    assert guide.title == "Vaccins : le guide"


# --- web pages: blocks outside paragraphs -----------------------------------------------------------------

def test_html_links_and_text_loose_in_a_box_are_kept(tmp_path):
    """Links and text written straight in a <div>, outside any <p>: the phone number stays a link to call."""
    src = tmp_path / "page.html"
    src.write_text("<html><body><main><h1>Nous joindre</h1><p>Le centre répond en semaine.</p><div>"
                   "<a href='tel:+33123456789'>Appeler le centre</a> <a href='https://www.ameli.fr/'>Le site ameli"
                   "</a> <span>Un texte libre dans un span.</span><h3>Horaires</h3>Ouvert toute l'année."
                   "<img src='plan.png' alt='Le plan du centre.'><blockquote>Du lundi au "
                   "<strong>vendredi</strong>, de 9 h à 17 h.</blockquote></div></main></body></html>",
                   encoding="utf-8")
    guide, report, text = imported(src, tmp_path / "out")
    links = [(b.url, b.text) for c in guide.chapters for p in c.pages for b in p.blocks if b.kind == "link"]
    assert links == [("tel:+33123456789", "Appeler le centre"), ("https://www.ameli.fr/", "Le site ameli")]
    assert "Un texte libre dans un span." in text
    assert "\n## Horaires\n" in text and "Du lundi au vendredi, de 9 h à 17 h." in text
    assert "Ouvert toute l'année." in text  # the text after a heading, in the same box
    assert "Image « plan.png » not carried over. Its alternative text can become a sentence of the draft: " \
           "« Image : Le plan du centre. »" in report


# --- Word files that would fill the memory: refused by what their zip declares, before any reading --------

def _docx_with(tmp_path, extra) -> str:
    import zipfile

    import docx

    d = docx.Document()
    d.add_heading("Le vaccin", 1)
    d.add_paragraph("Le vaccin protège.")
    d.save(tmp_path / "doc.docx")
    with zipfile.ZipFile(tmp_path / "doc.docx", "a", zipfile.ZIP_DEFLATED) as z:
        extra(z)
    return str(tmp_path / "doc.docx")


@pytest.mark.french
def test_docx_with_a_part_declared_too_big_is_refused_in_french(tmp_path):
    src = _docx_with(tmp_path, lambda z: z.writestr("word/custom.xml", b" " * 41_000_000))
    r = CliRunner().invoke(cli, ["import", src, "--out", str(tmp_path / "out")])
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert r.output.splitlines()[:3] == [
        "Erreur : doc.docx : la partie word/custom.xml ferait 41 Mo une fois décompressé ; l'import lit 40 Mo au plus.",
        "Cause probable : le fichier est endommagé, ou fait exprès pour saturer la mémoire",
        "Solution : ouvrez-le dans Word ou LibreOffice et enregistrez-le à nouveau en .docx ; s'il est vraiment si "
        "gros, coupez-le en plusieurs documents"]
    assert not (tmp_path / "out").exists()


@pytest.mark.french
def test_docx_with_too_many_parts_is_refused_in_french(tmp_path):
    src = _docx_with(tmp_path, lambda z: [z.writestr(f"word/x{n}.bin", b"") for n in range(5000)])
    r = CliRunner().invoke(cli, ["import", src, "--out", str(tmp_path / "out")])
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert r.output.splitlines()[:2] == [
        "Erreur : doc.docx : 5017 fichiers dans le .docx ; l'import en lit 5000 au plus.",
        "Cause probable : le fichier est endommagé"]
