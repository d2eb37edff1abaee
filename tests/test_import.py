"""`audioguide import`: real DOCX (python-docx), HTML and PDF (fpdf2) inputs; the drafts load as guides."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.guide import load_guide
from audioguide.importers import import_document

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def add_hyperlink(paragraph, url: str, text: str) -> None:
    """python-docx has no API to write a hyperlink: the w:hyperlink element Word writes, by hand."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    rid = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def make_docx(path: Path) -> Path:
    import docx

    d = docx.Document()
    d.core_properties.title = "Vaccination grippe"
    d.core_properties.modified = dt.datetime(2024, 9, 15, 10, 0)
    d.add_heading("Comprendre la grippe", 1)
    d.add_heading("Les symptômes", 2)
    d.add_paragraph("La grippe commence brutalement.")
    d.add_paragraph("une forte fièvre ;", style="List Bullet")
    d.add_paragraph("des courbatures.", style="List Bullet")
    d.add_paragraph("Attention : appelez le 15 si vous respirez mal.")
    d.add_heading("Les complications", 2)
    p = d.add_paragraph("Plus d'informations sur ")
    add_hyperlink(p, "https://www.ameli.fr/grippe", "le site ameli")
    add_hyperlink(d.add_paragraph(), "https://www.sante.fr/", "Santé.fr")
    d.add_heading("Se faire vacciner", 1)
    d.add_heading("Où ?", 2)
    d.add_paragraph("Chez le médecin, le pharmacien ou l'infirmier.", style="List Number")
    d.add_paragraph("Le vaccin est gratuit pour les personnes à risque.")
    d.save(path)
    return path


@pytest.mark.french
def test_docx_headings_lists_and_links(tmp_path):
    target, report = import_document(make_docx(tmp_path / "Vaccination grippe.docx"), tmp_path / "out")
    g = load_guide(target.parent)
    assert g.title == "Vaccination grippe" and g.date == dt.date(2024, 9, 15)
    assert [c.title for c in g.chapters] == ["Comprendre la grippe", "Se faire vacciner"]
    pages = g.chapters[0].pages
    assert [p.title for p in pages] == ["Les symptômes", "Les complications"]
    assert [(b.kind, b.text or b.items) for b in pages[0].blocks] == [
        ("p", "La grippe commence brutalement."), ("list", ["une forte fièvre ;", "des courbatures."]),
        ("attention", [])]
    assert pages[0].blocks[2].children[0].text == "appelez le 15 si vous respirez mal."
    assert [(b.kind, b.text, b.url) for b in pages[1].blocks] == [
        ("p", "Plus d'informations sur le site ameli", ""), ("link", "le site ameli", "https://www.ameli.fr/grippe"),
        ("link", "Santé.fr", "https://www.sante.fr/")]
    assert g.chapters[1].pages[0].blocks[0].items == ["1 : Chez le médecin, le pharmacien ou l'infirmier."]
    assert any("2 niveaux" in r for r in report) and any("encadré « Attention »" in r for r in report)
    assert (target.parent / "import-report.txt").read_text().startswith("Importé de Vaccination grippe.docx")


PAGE = """<!doctype html><html lang="fr"><head><title>Grippe | Site de l'association</title>
<meta property="article:modified_time" content="2024-10-02T08:00:00+02:00"></head><body>
<div id="tarteaucitronRoot"><p>Ce site utilise des cookies. Tout accepter</p></div>
<header><a href="/">Accueil</a>
<nav><ul><li><a href="/a">Actualités</a></li><li><a href="/b">Contact</a></li></ul></nav></header>
<div class="breadcrumb">Accueil &gt; Santé &gt; Grippe</div>
<main>
  <h1>La grippe saisonnière</h1>
  <p>La grippe est une infection <strong>virale</strong> très contagieuse.</p>
  <h2>Les symptômes</h2>
  <ul><li>Fièvre</li><li>Toux</li></ul>
  <h2>Se protéger</h2>
  <p>Le plus efficace est le <a href="https://www.ameli.fr/vaccin">vaccin</a>.</p>
  <div class="share-buttons"><a href="https://facebook.com/share">Partager</a></div>
</main>
<aside><p>Lire aussi : nos autres fiches</p></aside>
<footer><p>Mentions légales - Plan du site</p></footer>
<script>var tracking = 1;</script>
</body></html>"""


@pytest.mark.french
def test_html_main_content_without_menus_footers_and_banners(tmp_path):
    src = tmp_path / "grippe.html"
    src.write_text(PAGE, encoding="utf-8")
    target, report = import_document(src, tmp_path / "out")
    text = target.read_text()
    for furniture in ("cookies", "Actualités", "Contact", "Accueil", "Lire aussi", "Mentions", "Partager", "tracking"):
        assert furniture not in text, furniture
    g = load_guide(target.parent)
    assert g.title == "La grippe saisonnière" and g.date == dt.date(2024, 10, 2)
    # One level of headings under the title: sections are pages of one chapter, not one-page chapters.
    assert [[p.title for p in c.pages] for c in g.chapters] == [["Introduction", "Les symptômes", "Se protéger"]]
    blocks = [b for c in g.chapters for p in c.pages for b in p.blocks]
    assert [(b.kind, b.text or b.items, b.url) for b in blocks] == [
        ("p", "La grippe est une infection virale très contagieuse.", ""), ("list", ["Fièvre", "Toux"], ""),
        ("p", "Le plus efficace est le vaccin.", ""), ("link", "vaccin", "https://www.ameli.fr/vaccin")]
    assert any("de la page retirés" in r for r in report)


def make_pdf(path: Path, bookmarks: bool) -> Path:
    """Three pages laid out like the e-santé export: running title, navigation buttons, page number."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("dv", "", str(DEJAVU / "DejaVuSans.ttf"))
    pdf.add_font("dv", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.set_title("Se repérer dans la e-santé")
    pages = [
        [("h", "La télésanté", 1), ("h", "La téléconsultation", 2), ("h", "Qu'est-ce que c'est ?", 3),
         ("p", "La téléconsultation permet à un patient de consulter un médecin à distance, par vidéo, depuis son "
               "domicile ou une pharmacie équipée d'une cabine."),
         ("p", "• elle évite les déplacements ;"), ("p", "• elle réduit les délais."),
         ("h", "Pour qui ?", 3), ("p", "Tout patient, quel que soit son âge.")],
        [("h", "Le dossier patient", 1), ("h", "Mon espace santé", 2), ("h", "Comment ça marche ?", 3),
         ("p", "Mon espace santé est un espace numérique personnel et sécurisé."), ("p", "EN SAVOIR PLUS")],
        [("h", "Les données de santé", 1), ("h", "Les droits", 2), ("h", "Vos droits", 3),
         ("p", "Vous pouvez demander à voir vos données.")],
    ]
    for n, blocks in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("dv", "", 9)
        pdf.set_xy(10, 8)
        pdf.cell(0, 5, "Se repérer dans la e-santé")
        y = 25
        for kind, text, *level in blocks:
            if kind == "h":
                if bookmarks:
                    pdf.start_section(text, level=level[0] - 1)
                pdf.set_font("dv", "B", {1: 22, 2: 16, 3: 13}[level[0]])
                pdf.set_xy(15, y)
                pdf.cell(0, 10, text)
                y += 14
            else:
                pdf.set_font("dv", "", 11)
                pdf.set_xy(15, y)
                pdf.multi_cell(170, 6, text)
                y = pdf.get_y() + 5
        pdf.set_font("dv", "", 9)
        for x, y, text in ((15, 270, "Précédent"), (150, 270, "Suivant"), (80, 278, "retour au menu"),
                           (100, 285, str(n))):
            pdf.set_xy(x, y)
            pdf.cell(40, 5, text)
    pdf.output(str(path))
    return path


@pytest.mark.french
@pytest.mark.parametrize("bookmarks", [True, False], ids=["bookmarks", "font-sizes"])
def test_pdf_structure_without_navigation_debris(tmp_path, bookmarks):
    target, report = import_document(make_pdf(tmp_path / "esante.pdf", bookmarks), tmp_path / "out")
    text = target.read_text()
    for debris in ("Précédent", "Suivant", "retour au menu", "EN SAVOIR PLUS", "\n1\n", "\n3\n"):
        assert debris not in text, debris
    assert text.count("Se repérer dans la e-santé") == 1  # the title, not the running header of each page
    g = load_guide(target.parent)
    assert g.title == "Se repérer dans la e-santé"
    assert [p.title for p in g.parts] == ["La télésanté", "Le dossier patient", "Les données de santé"]
    assert [c.title for c in g.chapters] == ["La téléconsultation", "Mon espace santé", "Les droits"]
    first = g.chapters[0].pages
    assert [p.title for p in first] == ["Qu'est-ce que c'est ?", "Pour qui ?"]
    assert first[0].blocks[0].text == ("La téléconsultation permet à un patient de consulter un médecin à distance, "
                                       "par vidéo, depuis son domicile ou une pharmacie équipée d'une cabine.")
    assert first[0].blocks[1].items == ["elle évite les déplacements ;", "elle réduit les délais."]
    assert any(("signets du PDF" if bookmarks else "taille des caractères") in r for r in report)
    assert any("lien(s) de navigation" in r for r in report)


@pytest.mark.french
def test_cli_import_then_check(tmp_path):
    src = make_docx(tmp_path / "leaflet.docx")
    runner = CliRunner()
    r = runner.invoke(cli, ["import", str(src), "--out", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    assert "guide.md" in r.output and "2 niveaux" in r.output
    r = runner.invoke(cli, ["import", str(src), "--out", str(tmp_path / "g")])
    assert r.exit_code == 1 and "existe déjà" in r.output
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    r = runner.invoke(cli, ["import", str(bad)])
    assert r.exit_code == 1 and "le format .txt est inconnu" in r.output and "Traceback" not in r.output


ESANTE_EXPORT = Path(__file__).resolve().parents[2] / "shared" / "source" / "se-reperer-dans-la-e-sante.txt"


@pytest.mark.french
@pytest.mark.skipif(not ESANTE_EXPORT.exists(), reason="the e-santé text export lives in the project's shared/ folder")
def test_esante_export_as_a_pdf_loses_its_navigation_and_keeps_its_text(tmp_path):
    """The real e-santé export, laid out as a 29-page PDF with a running title and page numbers: the buttons
    on every page (« Précédent », « Suivant », « retour au menu », « EN SAVOIR PLUS … ») go, the words stay."""
    import re

    from fpdf import FPDF

    source = ESANTE_EXPORT.read_text()
    pdf = FPDF()
    pdf.add_font("dv", "", str(DEJAVU / "DejaVuSans.ttf"))
    pdf.set_auto_page_break(False)
    y, n = 300.0, 0
    for line in source.split("\n"):
        if y > 270:
            pdf.add_page()
            n += 1
            pdf.set_font("dv", "", 8)
            pdf.set_xy(10, 5)
            pdf.cell(0, 4, "Se repérer dans la e-santé — France Assos Santé")
            pdf.set_xy(100, 288)
            pdf.cell(0, 4, str(n))
            y = 15
        if not line.strip():
            y += 3
            continue
        pdf.set_font("dv", "", 10)
        pdf.set_xy(15, y)
        pdf.multi_cell(180, 5, line)
        y = pdf.get_y() + 1
    pdf.output(str(tmp_path / "e-sante.pdf"))
    target, report = import_document(tmp_path / "e-sante.pdf", tmp_path / "out")
    text = target.read_text()
    for debris in ("Précédent", "Suivant", "retour au menu", "EN SAVOIR PLUS", "France Assos Santé\n"):
        assert debris not in text, debris
    words = lambda t: set(re.findall(r"\w{4,}", t.lower()))  # noqa: E731
    lost = words(source) - words(text)
    assert lost <= {"précédent", "suivant", "retour", "menu", "savoir", "plus"}, sorted(lost)
    assert any("lien(s) de navigation" in r and "numéro(s) de page" in r for r in report)
    load_guide(target.parent)
