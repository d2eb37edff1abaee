"""Imports lose nothing silently (issue 26, section 3): each test imports a real document, written by
python-docx, fpdf2 or by hand for HTML, and reads what the listener would hear (the narration, and espeak-ng's
phonemes of it), what the written outputs show, and what import-report.txt says was left out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_import import DEJAVU, add_hyperlink

from audioguide.cli import cli
from audioguide.guide import load_guide
from audioguide.importers import import_document
from audioguide.narration.script import ScriptWriter


def imported(src: Path, out: Path):
    target, report = import_document(src, out)
    return load_guide(target.parent), "\n".join(report), target


def blocks(guide) -> list:
    return [b for c in guide.chapters for p in c.pages for b in p.blocks]


def heard(guide) -> list[str]:
    """What the voice says of every page, one segment a line, without the where-am-I frame."""
    writer = ScriptWriter(guide)
    return [s.text for c in guide.chapters for i, p in enumerate(c.pages)
            for s in writer.page(c, p, i).segments if s.kind not in ("announce",)]


def written(guide) -> str:
    """What transcripts, captions and books show of every page."""
    writer = ScriptWriter(guide)
    return "\n".join(writer.page(c, p, i).written for c in guide.chapters for i, p in enumerate(c.pages))


def phonemes(text: str) -> str:
    return subprocess.run(["espeak-ng", "-v", "fr", "-q", "-x", text], capture_output=True, text=True,
                          check=True).stdout.split()


def new_docx():
    import docx

    d = docx.Document()
    d.add_heading("Nous contacter", 1)
    return d


# --- mailto: and tel: ------------------------------------------------------------------------------------

def test_docx_mail_and_phone_links_are_said_once_and_well(tmp_path):
    """Word makes a typed e-mail address a mailto: link: it was said "mailto", or three times over."""
    d = new_docx()
    add_hyperlink(d.add_paragraph("Écrivez à "), "mailto:contact@asso.fr", "contact@asso.fr")
    add_hyperlink(d.add_paragraph(), "mailto:accueil@asso.fr", "accueil@asso.fr")
    add_hyperlink(d.add_paragraph(), "tel:+33123456789", "01 23 45 67 89")
    d.save(tmp_path / "contact.docx")
    g, report, _ = imported(tmp_path / "contact.docx", tmp_path / "out")
    said = heard(g)
    assert said[:3] == ["Écrivez à contact arobase asso point f r.", "Écrire à accueil arobase asso point f r.",
                        "Appeler le zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf."]
    joined = " ".join(said)
    assert joined.count("contact arobase") == 1 and "mailto" not in joined and "plus trente-trois" not in joined
    # espeak-ng says these words as the same words written plainly: no "@", no scheme, the number in pairs.
    assert phonemes(said[1]) == phonemes("Écrire à accueil arobase asso point f r.")
    assert phonemes(said[2]) == phonemes("Appeler le zéro un, vingt-trois, quarante-cinq, soixante-sept, "
                                         "quatre-vingt-neuf.")
    assert "contact@asso.fr" in written(g) and "« contact@asso.fr »" in report


def test_html_link_whose_text_is_its_address_is_not_read_three_times(tmp_path):
    src = tmp_path / "page.html"
    src.write_text("<html><body><main><h1>Contact</h1><h2>Écrire</h2>"
                   "<p>Voir <a href='https://www.ameli.fr/'>www.ameli.fr</a> pour vos droits.</p>"
                   "<p>Écrivez à <a href='mailto:contact@asso.fr'>contact@asso.fr</a>.</p></main></body></html>",
                   encoding="utf-8")
    g, _, _ = imported(src, tmp_path / "out")
    joined = " ".join(heard(g))
    assert joined.count("ameli point f r") == 1 and joined.count("contact arobase") == 1
    # The written outputs still link the addresses the paragraphs write.
    from audioguide.narration.inline import to_html

    assert 'href="mailto:contact@asso.fr"' in to_html(blocks(g)[1].text)


def test_mail_and_phone_links_are_real_links_in_transcripts_and_books(tmp_path):
    """A tel: link was written https://tel:+33… in transcript.html and the books: a dead link."""
    from audioguide.publishers.fulltext import guide_html

    src = tmp_path / "page.html"
    src.write_text("<html><body><main><h1>Contact</h1><h2>Appeler</h2><p>Par téléphone :</p>"
                   "<div><a href='tel:+33123456789'>01 23 45 67 89</a></div>"
                   "<p>Ou appelez le <a href='tel:+33987654321'>09 87 65 43 21</a> le matin.</p></main></body></html>",
                   encoding="utf-8")
    g, _, _ = imported(src, tmp_path / "out")
    page = guide_html(g)
    assert 'href="tel:+33123456789"' in page and "https://tel" not in page
    assert "Appeler le zéro un, vingt-trois, quarante-cinq, soixante-sept, quatre-vingt-neuf." in heard(g)
    # The talking books link the number as the captions write it ("Appeler le 01 23 45 67 89").
    from audioguide.publishers.book import Sentence, sentence_html

    writer = ScriptWriter(g)
    link = next(s for s in writer.page(g.chapters[0], g.chapters[0].pages[0], 0).segments if s.kind == "link")
    assert sentence_html(Sentence("s1", link.written), "tel:+33123456789") == \
        '<span id="s1">Appeler le <a href="tel:+33123456789">01 23 45 67 89</a></span>'
    # Said in pairs, never as "+33…", and at most twice: in its sentence, then as the link to call.
    said = " ".join(heard(g))
    assert said.count("zéro neuf, quatre-vingt-sept") == 2 and "plus trente-trois" not in said


# --- tracked changes and comments ------------------------------------------------------------------------

@pytest.mark.french
def test_docx_comments_are_reported_and_not_spoken(tmp_path):
    d = new_docx()
    p = d.add_paragraph("L'allocation est de 65,80 € par jour.")
    d.add_comment(p.runs, text="Vérifier le montant avec la CPAM", author="Marie")
    d.save(tmp_path / "revu.docx")
    g, report, target = imported(tmp_path / "revu.docx", tmp_path / "out")
    assert "CPAM" not in target.read_text() and "CPAM" not in " ".join(heard(g))
    assert "1 commentaire(s), qui ne sont pas lus à voix haute : « Vérifier le montant avec la CPAM » (Marie)" \
        in report


# --- what is not carried over ------------------------------------------------------------------------------

def png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (40, 30), (200, 30, 30)).save(path)
    return path


@pytest.mark.french
def test_docx_images_tables_headers_and_footers_are_named_in_the_report(tmp_path):
    d = new_docx()
    d.sections[0].header.paragraphs[0].text = "Association Santé Info"
    d.sections[0].footer.paragraphs[0].text = "12 rue de la Paix, 75002 Paris"
    d.add_paragraph("Voici le flacon.")
    d.add_picture(str(png(tmp_path / "flacon.png")))
    d.inline_shapes[0]._inline.docPr.set("descr", "Un flacon de vaccin contre la grippe")
    d.add_picture(str(png(tmp_path / "deco.png")))
    table = d.add_table(rows=2, cols=2)
    for r, row in enumerate([("Âge", "Dose"), ("65 ans", "Une dose")]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    d.save(tmp_path / "images.docx")
    g, report, target = imported(tmp_path / "images.docx", tmp_path / "out")
    assert "Image près de « Voici le flacon. » non reprise. Son texte de remplacement peut devenir une phrase du " \
           "brouillon : « Image : Un flacon de vaccin contre la grippe. »" in report
    assert "sans texte de remplacement" in report
    assert "Tableau « Âge ; Dose » : il n'est pas repris comme tableau ; ses 2 ligne(s)" in report
    assert "En-tête des pages non repris : « Association Santé Info »" in report
    assert "Pied de page des pages non repris : « 12 rue de la Paix, 75002 Paris »" in report
    assert "Association" not in target.read_text()


@pytest.mark.french
def test_html_images_and_tables_are_named_in_the_report(tmp_path):
    src = tmp_path / "page.html"
    src.write_text("<html><body><main><h1>Vaccin</h1><p>Le vaccin protège.</p>"
                   "<img src='img/flacon.jpg' alt='Un flacon de vaccin'><img src='deco.png' alt=''>"
                   "<img src='schema.png'><table><tr><th>Âge</th><th>Dose</th></tr>"
                   "<tr><td>65 ans</td><td>Une dose</td></tr></table></main></body></html>", encoding="utf-8")
    _, report, _ = imported(src, tmp_path / "out")
    assert "Image « flacon.jpg » non reprise. Son texte de remplacement peut devenir une phrase du brouillon : " \
           "« Image : Un flacon de vaccin. »" in report
    assert "Image « schema.png » non reprise, sans texte de remplacement" in report
    assert "deco.png" not in report  # alt="" marks decoration
    assert "Tableau « Âge ; Dose » : il n'est pas repris comme tableau ; ses 2 ligne(s)" in report


@pytest.mark.french
def test_pdf_images_and_running_headers_are_named_in_the_report(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("dv", "", str(DEJAVU / "DejaVuSans.ttf"))
    for n in (1, 2, 3):
        pdf.add_page()
        pdf.set_font("dv", "", 9)
        pdf.set_xy(10, 8)
        pdf.cell(0, 5, "Association Santé Info")
        pdf.set_font("dv", "", 11)
        pdf.set_xy(15, 30)
        pdf.multi_cell(170, 6, ["Le vaccin protège.", "Il est gratuit.", "Parlez-en à votre médecin."][n - 1])
    pdf.image(str(png(tmp_path / "flacon.png")), x=20, y=60, w=30, alt_text="Un flacon de vaccin")
    pdf.image(str(png(tmp_path / "deco.png")), x=20, y=100, w=30)
    pdf.output(str(tmp_path / "doc.pdf"))
    _, report, target = imported(tmp_path / "doc.pdf", tmp_path / "out")
    assert "Image page 3 non reprise. Son texte de remplacement peut devenir une phrase du brouillon : " \
           "« Image : Un flacon de vaccin. »" in report
    assert "1 image(s) sans texte de remplacement non reprise(s), page(s) 3 :" in report
    assert "En-têtes et pieds de page répétés sur les pages, non repris : « Association Santé Info »" in report


# --- structure ---------------------------------------------------------------------------------------------

@pytest.mark.french
def test_docx_numbered_lists_keep_their_numbers_and_typed_bullets_become_lists(tmp_path):
    from docx.shared import Pt

    d = new_docx()
    d.add_paragraph("Pour vous faire vacciner :")
    for step in ("prenez rendez-vous ;", "apportez votre carte Vitale ;", "attendez quinze minutes."):
        d.add_paragraph(step, style="List Number")
    d.add_paragraph("- la fièvre ;")
    d.add_paragraph("• la toux.")
    d.add_paragraph().add_run("Les effets secondaires").bold = True
    d.add_paragraph().add_run("Combien ça coûte").font.size = Pt(16)
    d.add_paragraph("Ils sont rares et passent vite.")
    d.save(tmp_path / "listes.docx")
    g, report, _ = imported(tmp_path / "listes.docx", tmp_path / "out")
    lists = [b.items for b in blocks(g) if b.kind == "list"]
    assert lists == [["1 : prenez rendez-vous ;", "2 : apportez votre carte Vitale ;", "3 : attendez quinze minutes."],
                     ["la fièvre ;", "la toux."]]
    said = heard(g)
    assert said[1:4] == ["un : prenez rendez-vous.", "deux : apportez votre carte Vitale.",
                          "trois : attendez quinze minutes."]
    assert "1 : prenez rendez-vous ;" in written(g)  # captions and the talking books' text
    from audioguide.publishers.fulltext import guide_html

    assert "<li>1 : prenez rendez-vous ;</li>" in guide_html(g)  # transcript.html
    assert "Titres possibles, gardés comme paragraphes (seuls sur leur ligne, en gras ou en plus grand) : " \
           "« Les effets secondaires », « Combien ça coûte »" in report
    assert "Ils sont rares" not in report.split("Titres possibles")[1]


def test_docx_numbering_of_the_paragraph_itself_tells_numbers_from_bullets(tmp_path):
    """Word writes a list's numbering on each paragraph (w:numPr), in a style of any name: its format says
    whether the list is numbered (numId 5 of python-docx's template is decimal, 1 is bullets)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = new_docx()
    for num_id, text in (("5", "prenez rendez-vous ;"), ("5", "venez."), ("1", "la fièvre ;"), ("1", "la toux.")):
        p = d.add_paragraph(text)
        num_pr = OxmlElement("w:numPr")
        for tag, value in (("w:ilvl", "0"), ("w:numId", num_id)):
            el = OxmlElement(tag)
            el.set(qn("w:val"), value)
            num_pr.append(el)
        p._p.get_or_add_pPr().append(num_pr)
    d.save(tmp_path / "numeros.docx")
    g, _, _ = imported(tmp_path / "numeros.docx", tmp_path / "out")
    assert [b.items for b in blocks(g)] == [["1 : prenez rendez-vous ;", "2 : venez."], ["la fièvre ;", "la toux."]]


@pytest.mark.french
def test_html_ordered_lists_typed_bullets_and_bold_lines(tmp_path):
    src = tmp_path / "page.html"
    src.write_text("<html><body><main><h1>Vaccin</h1><ol><li>Prenez rendez-vous.</li><li>Venez.</li></ol>"
                   "<p>- la fièvre ;</p><p>- la toux.</p><p><strong>Les effets</strong></p><p>Ils sont rares.</p>"
                   "</main></body></html>", encoding="utf-8")
    g, report, _ = imported(src, tmp_path / "out")
    assert [b.items for b in blocks(g) if b.kind == "list"] == [["1 : Prenez rendez-vous.", "2 : Venez."],
                                                                 ["la fièvre ;", "la toux."]]
    assert "Titres possibles" in report and "« Les effets »" in report


@pytest.mark.french
def test_pdf_numbered_items_keep_their_numbers(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("dv", "", str(DEJAVU / "DejaVuSans.ttf"))
    pdf.add_font("dv", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    y = 20
    for style, text in (("", "Pour vous faire vacciner, suivez ces étapes dans l'ordre indiqué ci-dessous."),
                        ("", "1. Prenez rendez-vous."), ("", "2. Venez avec votre carte."),
                        ("B", "Les effets secondaires"), ("", "Ils sont rares et passent vite, en un jour.")):
        pdf.set_font("dv", style, 11)
        pdf.set_xy(15, y)
        pdf.cell(0, 6, text)
        y += 14
    pdf.output(str(tmp_path / "doc.pdf"))
    g, report, _ = imported(tmp_path / "doc.pdf", tmp_path / "out")
    assert [b.items for b in blocks(g) if b.kind == "list"] == [["1 : Prenez rendez-vous.",
                                                                  "2 : Venez avec votre carte."]]
    assert "« Les effets secondaires »" in report.split("Titres possibles")[1]


# --- text the tool used to skip -----------------------------------------------------------------------------

def test_docx_text_under_a_topic_title_is_spoken(tmp_path):
    d = new_docx()
    d.add_paragraph("Ce sujet dit comment nous joindre.")
    d.add_heading("Par courrier", 2)
    d.add_paragraph("Écrivez-nous à l'adresse du siège.")
    d.add_heading("Autres", 1)
    d.add_heading("Sur place", 2)
    d.add_paragraph("Venez nous voir.")
    d.save(tmp_path / "sujet.docx")
    g, _, _ = imported(tmp_path / "sujet.docx", tmp_path / "out")
    assert "Ce sujet dit comment nous joindre." in heard(g)


@pytest.mark.french
def test_check_warns_that_a_paragraph_under_a_topic_title_is_not_spoken(tmp_path):
    (tmp_path / "guide.md").write_text("---\nid: essai\ntitle: Essai\ndepth: 2\n---\n\n# Contact\n\n"
                                       "Un paragraphe sous le sujet.\n\n## Écrire\n\nÉcrivez-nous.\n",
                                       encoding="utf-8")
    r = CliRunner().invoke(cli, ["check", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "guide.md, ligne 9 : le paragraphe sous le titre « Contact » ne sera pas lu à voix haute" in r.output


# --- web pages ---------------------------------------------------------------------------------------------

@pytest.mark.french
def test_html_attention_box_in_a_div_is_a_callout_and_navigation_is_dropped(tmp_path):
    src = tmp_path / "page.html"
    src.write_text("<html><body><main><h1>Vaccin</h1><h2>Avant</h2><p>Le vaccin protège.</p>"
                   "<div class='alerte'><strong>Attention :</strong> ne venez pas si vous avez de la fièvre.</div>"
                   "<div class='encadre'><p><b>Important :</b></p><p>apportez votre carte Vitale.</p></div>"
                   "<p><a href='p1.html'>« Précédent</a> | <a href='p3.html'>Suivant »</a></p>"
                   "</main></body></html>", encoding="utf-8")
    g, report, target = imported(src, tmp_path / "out")
    kinds = [(b.kind, b.text or " ".join(c.text for c in b.children)) for b in blocks(g)]
    assert kinds == [("p", "Le vaccin protège."), ("attention", "ne venez pas si vous avez de la fièvre."),
                     ("important", "apportez votre carte Vitale.")]
    assert "Précédent" not in target.read_text() and "Liens de navigation retirés" in report
