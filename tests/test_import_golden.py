"""Whole drafts and whole reports: what a volunteer opens after `audioguide import`, byte for byte.

The documents are test_import.py's (a Word leaflet, a web page with its menus, an interactive PDF with and without
bookmarks). Any word, heading, link or report line lost or changed shows here as a diff of the file itself."""

from __future__ import annotations

import re

import pytest
from test_import import PAGE, make_docx, make_pdf

from audioguide.importers import import_document

DOCX_REPORT = """\
Importé de Vaccination grippe.docx. Ce qui a été deviné, changé ou laissé de côté :
- Niveaux : titres de niveau 1 → sujets, titres de niveau 2 → pages (2 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- date: 2024-09-15 (celle du document)
- « Attention : appelez le 15 si vous respir… » est devenu un encadré « Attention ».
- Trouvé : 0 partie(s), 2 sujet(s), 3 page(s), 4 paragraphe(s), 2 liste(s), 2 lien(s).
"""

DOCX_MD = """\
---
title: Vaccination grippe
date: 2024-09-15
depth: 2
---

# Comprendre la grippe

## Les symptômes

La grippe commence brutalement.

- une forte fièvre ;
- des courbatures.

> **Attention :** appelez le 15 si vous respirez mal.

## Les complications

Plus d'informations sur le site ameli

[le site ameli](https://www.ameli.fr/grippe)

[Santé.fr](https://www.sante.fr/)

# Se faire vacciner

## Où ?

- 1 : Chez le médecin, le pharmacien ou l'infirmier.

Le vaccin est gratuit pour les personnes à risque.
"""

HTML_REPORT = """\
Importé de grippe.html. Ce qui a été deviné, changé ou laissé de côté :
- 6 menu(s), en-tête(s), pied(s) de page, bandeau(x) et script(s) de la page retirés: « Actualités », « Contact », « \
Lire aussi : nos autres fiches », « Mentions légales - Plan du site ».
- Gardé le contenu principal de la page, <main> ; laissé de côté autour : « Ce site utilise des cookies. Tout \
accepter ».
- Le premier titre, « La grippe saisonnière », est pris comme titre du guide.
- Niveaux : titres de niveau 2 → pages (2 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- date: 2024-10-02 (celle du document)
- Trouvé : 0 partie(s), 1 sujet(s), 3 page(s), 2 paragraphe(s), 1 liste(s), 1 lien(s).
"""

HTML_MD = """\
---
title: La grippe saisonnière
date: 2024-10-02
depth: 2
---

# La grippe saisonnière

## Introduction

La grippe est une infection virale très contagieuse.

## Les symptômes

- Fièvre
- Toux

## Se protéger

Le plus efficace est le vaccin.

[vaccin](https://www.ameli.fr/vaccin)
"""

PDF_BOOKMARKS_REPORT = """\
Importé de esante.pdf. Ce qui a été deviné, changé ou laissé de côté :
- Retirés : 3 en-tête(s) et pied(s) de page répétés, 7 lien(s) de navigation, 3 numéro(s) de page.
- En-têtes et pieds de page répétés sur les pages, non repris : « Se repérer dans la e-santé ».
- Les titres viennent des 10 signets du PDF.
- Niveaux : titres de niveau 1 → parties (#), titres de niveau 2 → sujets, titres de niveau 3 → pages (3 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- date: DATE (celle du document)
- Trouvé : 3 partie(s), 3 sujet(s), 4 page(s), 4 paragraphe(s), 1 liste(s), 0 lien(s).
"""

PDF_BOOKMARKS_MD = """\
---
title: Se repérer dans la e-santé
date: DATE
depth: 3
---

# La télésanté

## La téléconsultation

### Qu'est-ce que c'est ?

La téléconsultation permet à un patient de consulter un médecin à distance, par vidéo, depuis son domicile ou une \
pharmacie équipée d'une cabine.

- elle évite les déplacements ;
- elle réduit les délais.

### Pour qui ?

Tout patient, quel que soit son âge.

# Le dossier patient

## Mon espace santé

### Comment ça marche ?

Mon espace santé est un espace numérique personnel et sécurisé.

# Les données de santé

## Les droits

### Vos droits

Vous pouvez demander à voir vos données.
"""

PDF_SIZES_REPORT = """\
Importé de esante.pdf. Ce qui a été deviné, changé ou laissé de côté :
- Retirés : 3 en-tête(s) et pied(s) de page répétés, 7 lien(s) de navigation, 3 numéro(s) de page.
- En-têtes et pieds de page répétés sur les pages, non repris : « Se repérer dans la e-santé ».
- Pas de signets : titres devinés d'après la taille des caractères (22 pt, 16 pt, 13 pt ; texte courant 11 pt).
- Niveaux : titres de niveau 1 → parties (#), titres de niveau 2 → sujets, titres de niveau 3 → pages (3 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- date: DATE (celle du document)
- Trouvé : 3 partie(s), 3 sujet(s), 4 page(s), 4 paragraphe(s), 1 liste(s), 0 lien(s).
"""

PDF_SIZES_MD = PDF_BOOKMARKS_MD  # from the font sizes alone, the same draft as from the bookmarks

def _imported(src, out):
    target, _ = import_document(src, out)
    return (out / "import-report.txt").read_text("utf-8"), target.read_text("utf-8")


@pytest.mark.french
def test_a_word_leaflet_gives_this_draft_and_this_report(tmp_path):
    report, md = _imported(make_docx(tmp_path / "Vaccination grippe.docx"), tmp_path / "out")
    assert report == DOCX_REPORT
    assert md == DOCX_MD


@pytest.mark.french
def test_a_web_page_gives_this_draft_and_this_report(tmp_path):
    """A menu inside a removed header is named once, not once with the header and again on its own."""
    (tmp_path / "grippe.html").write_text(PAGE, "utf-8")
    report, md = _imported(tmp_path / "grippe.html", tmp_path / "out")
    assert report == HTML_REPORT
    assert md == HTML_MD


@pytest.mark.french
@pytest.mark.parametrize("bookmarks", [True, False], ids=["bookmarks", "font-sizes"])
def test_an_interactive_pdf_gives_this_draft_and_this_report(tmp_path, bookmarks):
    report, md = _imported(make_pdf(tmp_path / "esante.pdf", bookmarks), tmp_path / "out")
    today = re.compile(r"\d{4}-\d{2}-\d{2}")  # fpdf2 dates the file the day it is made
    assert today.sub("DATE", report) == (PDF_BOOKMARKS_REPORT if bookmarks else PDF_SIZES_REPORT)
    assert today.sub("DATE", md) == (PDF_BOOKMARKS_MD if bookmarks else PDF_SIZES_MD)


SENTENCE = "Le vaccin est gratuit pour les personnes à risque, sur présentation du bon envoyé par l'Assurance maladie. "
LONG_TITLE = "Un titre de page web beaucoup trop long " * 6  # 240 characters: a title has 200 at most
CUT_TITLE = ("Un titre de page web beaucoup trop long Un titre de page web beaucoup trop long Un titre de page web "
             "beaucoup trop long Un titre de page web beaucoup trop long Un titre de page web beaucoup trop…")


@pytest.mark.french
def test_a_long_web_page_is_cut_and_cleaned_and_each_change_reported(tmp_path):
    """Text before the first part, a number no voice can read, a list longer than a page, a page heading right
    under a part, no date: the draft keeps every word in a valid guide, and the report says each change."""
    first, second = SENTENCE * 35, "Le rappel. " + SENTENCE * 34  # 3,700 characters each
    page = f"""<html><head><title>{LONG_TITLE}</title></head><body><main>
<p>Ce guide a été écrit avec les patients.</p>
<h1>Comprendre</h1><h2>La maladie</h2><h3>Les signes</h3>
<p>Le numéro de dossier {'1' * 120} ne se lit pas.</p>
<ul><li>{first}</li><li>{second}</li><li>Un dernier point.</li></ul>
<h1>Agir</h1><h3>Où aller</h3><p>Chez le pharmacien.</p>
</main></body></html>"""
    (tmp_path / "long.html").write_text(page, "utf-8")
    report, md = _imported(tmp_path / "long.html", tmp_path / "out")
    assert report == """\
Importé de long.html. Ce qui a été deviné, changé ou laissé de côté :
- Le titre a été coupé à 200 caractères : « Un titre de page web beaucoup trop long Un titre de page… ».
- Nombres de plus de 100 chiffres, impossibles à lire à voix haute, remplacés par […] : « Le numéro de dossier \
11111111111111111111111111111111111111… ». Écrivez en mots ce qu'ils disent.
- Paragraphes ou listes de plus de 6000 caractères coupés en morceaux : « Le vaccin est gratuit pour les personnes à \
risque, sur… ».
- Niveaux : titres de niveau 1 → parties (#), titres de niveau 2 → sujets, titres de niveau 3 → pages (3 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- Pas de date dans le document : aucune n'a été inventée. Le flux prendra le jour de la dernière modification du \
fichier du guide ; ajoutez `date: AAAA-MM-JJ` pour la fixer.
- Le texte placé avant la première partie est allé dans une partie nommée « Introduction ».
- Les longs passages sans titre ont été coupés en pages d'environ 6000 caractères, et les sujets en 255 pages au plus \
(1 coupure(s), titrées « … (suite N) ») : donnez-leur des titres.
- Trouvé : 2 partie(s), 3 sujet(s), 4 page(s), 3 paragraphe(s), 2 liste(s), 0 lien(s).
"""
    assert md == f"""\
---
title: Un titre de page web beaucoup trop long Un titre de page web beaucoup trop long Un titre de page
  web beaucoup trop long Un titre de page web beaucoup trop long Un titre de page web beaucoup trop…
depth: 3
---

# Introduction

## {CUT_TITLE}

### Introduction

Ce guide a été écrit avec les patients.

# Comprendre

## La maladie

### Les signes

Le numéro de dossier \\[…\\] ne se lit pas.

- {first.strip()}

### Les signes (suite 2)

- {second.strip()}
- Un dernier point.

# Agir

## Suite

### Où aller

Chez le pharmacien.
"""


@pytest.mark.french
def test_a_reviewed_word_file_names_all_it_leaves_out(tmp_path):
    """Tracked changes, an entity, an image after a list, a link to an ftp address, a table with a table in a
    cell, two comments, two page headers, a paragraph whose bold is turned off: every word of the text is in the
    draft, and every thing left out is named once, with its own count."""
    import docx
    from test_import import add_hyperlink
    from test_import_hostile import rewrite_part
    from test_import_lossless import png

    d = docx.Document()
    d.core_properties.title = "Le dépliant relu"
    section = d.sections[0]
    section.different_first_page_header_footer = True
    section.header.paragraphs[0].text = "Association Santé Info"
    section.first_page_header.paragraphs[0].text = "Guide 2024"
    d.add_heading("Le vaccin", 1)
    p = d.add_paragraph("Le vaccin est MARQUE.")
    d.add_comment(p.runs, text="Vérifier le prix", author="Marie")
    d.add_comment(p.runs, text="Et la date", author="")
    d.add_paragraph().add_run("Pas un titre")
    d.add_paragraph("une dose ;", style="List Bullet")
    d.add_picture(str(png(tmp_path / "flacon.png")))
    d.inline_shapes[0]._inline.docPr.set("descr", "Un flacon")
    add_hyperlink(d.add_paragraph(), "ftp://fichiers.exemple.fr/guide.pdf", "le guide à imprimer")
    table = d.add_table(rows=2, cols=2)
    for i, row in enumerate([("Âge", "Dose"), ("65 ans", "Une dose")]):
        for c, text in enumerate(row):
            table.cell(i, c).text = text
    table.cell(1, 1).add_table(rows=1, cols=1).cell(0, 0).text = "Rappel"
    d.add_paragraph("Avant ENTITE après.")
    d.save(tmp_path / "relu.docx")
    ins = (b'<w:ins w:id="1" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:t xml:space="preserve"> gratuit'
           b'</w:t></w:r></w:ins><w:del w:id="2" w:author="A" w:date="2024-01-01T00:00:00Z"><w:r><w:delText> payant'
           b'</w:delText></w:r></w:del>')

    def change(xml: bytes) -> bytes:
        xml = xml.replace(b"?>", b'?><!DOCTYPE w:document [<!ENTITY x "">]>', 1).replace(b"ENTITE", b"&x;")
        xml = re.sub(rb"MARQUE\.</w:t></w:r>", b"</w:t></w:r>" + ins + b"<w:r><w:t>.</w:t></w:r>", xml)
        return xml.replace(b"<w:r><w:t>Pas un titre", b'<w:r><w:rPr><w:b w:val="false"/></w:rPr><w:t>Pas un titre')

    rewrite_part(tmp_path / "relu.docx", "word/document.xml", change)
    report, md = _imported(tmp_path / "relu.docx", tmp_path / "out")
    assert report == """\
Importé de relu.docx. Ce qui a été deviné, changé ou laissé de côté :
- Le document a 2 modification(s) suivie(s) (révisions) : le brouillon les prend comme acceptées (ajouts gardés, \
suppressions retirées). Relisez-le à côté du document.
- Références d'entité laissées de côté (l'import ne les développe jamais, par sécurité) : &x; ; le texte autour est \
gardé.
- Image près de « une dose ; » non reprise. Son texte de remplacement peut devenir une phrase du brouillon : \
« Image : Un flacon. »
- Tableau « Rappel » : il n'est pas repris comme tableau ; ses 1 ligne(s) sont devenues des paragraphes, cellules \
séparées par « ; ». Relisez-les à voix haute : si elles se comprennent mal, écrivez-les en phrases.
- Tableau « Âge ; Dose » : il n'est pas repris comme tableau ; ses 2 ligne(s) sont devenues des paragraphes, cellules \
séparées par « ; ». Relisez-les à voix haute : si elles se comprennent mal, écrivez-les en phrases.
- Le document a 2 commentaire(s), qui ne sont pas lus à voix haute : « Vérifier le prix » (Marie), « Et la date ». \
Si l'un d'eux doit être entendu, écrivez-le dans le texte du brouillon.
- En-tête des pages non repris : « Association Santé Info », « Guide 2024 ». S'il dit quelque chose d'utile (une \
adresse, un numéro), écrivez-le dans une page du brouillon.
- Adresses de lien qui ne sont ni web, ni e-mail, ni téléphone, gardées comme texte : \
ftp://fichiers.exemple.fr/guide.pdf.
- Niveaux : titres de niveau 1 → pages (2 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- date: 2013-12-23 (celle du document)
- Trouvé : 0 partie(s), 1 sujet(s), 1 page(s), 7 paragraphe(s), 1 liste(s), 0 lien(s).
"""
    assert md == """\
---
title: Le dépliant relu
date: 2013-12-23
depth: 2
---

# Le dépliant relu

## Le vaccin

Le vaccin est gratuit.

Pas un titre

- une dose ;

le guide à imprimer

Âge ; Dose

65 ans ; Une dose

Rappel

Avant après.
"""


def _pdf_lines(path, lines, image=None):
    """A one-page PDF of LINES (y in mm, text, size in pt, style), as a word processor lays them out."""
    import datetime as dt

    from fpdf import FPDF
    from test_import import DEJAVU

    pdf = FPDF()
    pdf.add_font("dv", "", str(DEJAVU / "DejaVuSans.ttf"))
    pdf.add_font("dv", "B", str(DEJAVU / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    pdf.add_page()
    for y, text, size, style in lines:
        pdf.set_font("dv", style, size)
        pdf.set_xy(15, y)
        pdf.cell(0, size * 0.45, text)
    if image:
        pdf.image(str(image[0]), x=20, y=110, w=30, alt_text=image[1])
    pdf.output(str(path))
    return path


@pytest.mark.french
def test_a_pdf_s_lines_are_joined_back_into_headings_words_and_list_items(tmp_path):
    """A heading on two lines, a word cut by a hyphen at a line's end, a list item on two lines, a bold line that
    may be a heading, an image whose alt text ends with a full stop; no title in the file's properties."""
    from test_import_lossless import png

    src = _pdf_lines(tmp_path / "operation.pdf", [
        (20, "Bien se préparer à", 18, "B"), (28.5, "l'opération", 18, "B"),
        (45, "La veille, prenez une douche avec un savon antisep-", 11, ""),
        (50, "tique et retirez vos bijoux.", 11, ""),
        (60, "• apportez vos ordonnances et votre carte", 11, ""), (65, "Vitale ;", 11, ""),
        (70, "• prévenez un proche.", 11, ""), (80, "Questions à poser", 11, "B"),
        (90, "Le chirurgien vous reçoit avant.", 11, "")], image=(png(tmp_path / "flacon.png"), "Un flacon de savon."))
    report, md = _imported(src, tmp_path / "out")
    assert report == """\
Importé de operation.pdf. Ce qui a été deviné, changé ou laissé de côté :
- Image page 1 non reprise. Son texte de remplacement peut devenir une phrase du brouillon : « Image : Un flacon de \
savon. »
- Pas de signets : titres devinés d'après la taille des caractères (18 pt ; texte courant 11 pt).
- Titres possibles, gardés comme paragraphes (seuls sur leur ligne, en gras ou en plus grand) : « Questions à poser ». \
Si ce sont des titres, mettez ## (ou ###) devant dans guide.md, ou appliquez-leur un style « Titre » dans Word avant \
d'importer à nouveau.
- Niveaux : titres de niveau 1 → pages (2 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- date: 2024-03-01 (celle du document)
- Trouvé : 0 partie(s), 1 sujet(s), 1 page(s), 3 paragraphe(s), 1 liste(s), 0 lien(s).
"""
    assert md == """\
---
title: Operation
date: 2024-03-01
depth: 2
---

# Operation

## Bien se préparer à l'opération

La veille, prenez une douche avec un savon antiseptique et retirez vos bijoux.

- apportez vos ordonnances et votre carte Vitale ;
- prévenez un proche.

Questions à poser

Le chirurgien vous reçoit avant.
"""


@pytest.mark.french
def test_a_pdf_in_one_size_is_one_page_and_the_report_says_why(tmp_path):
    src = _pdf_lines(tmp_path / "note.pdf", [(20, "Le rendez-vous est à 9 heures.", 11, ""),
                                             (40, "Venez à jeun.", 11, "")])
    report, md = _imported(src, tmp_path / "out")
    assert report == """\
Importé de note.pdf. Ce qui a été deviné, changé ou laissé de côté :
- Pas de signets et une seule taille de caractères : aucun titre trouvé.
- Aucun titre trouvé : tout le document est une seule page ; ajoutez des titres `#` et `##` pour le découper.
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- date: 2024-03-01 (celle du document)
- Trouvé : 0 partie(s), 1 sujet(s), 1 page(s), 2 paragraphe(s), 0 liste(s), 0 lien(s).
"""
    assert md.endswith("\n# Note\n\n## Introduction\n\nLe rendez-vous est à 9 heures.\n\nVenez à jeun.\n")


@pytest.mark.french
def test_a_web_page_s_line_breaks_part_words_and_its_section_is_the_content(tmp_path):
    """An XML declaration, a <section> as the main content with text loose in it, a line break inside a heading
    and inside a paragraph (the words on either side were glued: « maladieest »), a word in italics glued to an
    apostrophe, and a line of navigation arrows."""
    (tmp_path / "fiche.html").write_text("""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html><html lang="fr"><head><title>La fiche</title></head><body>
<div class="col"><p>Voir aussi nos autres fiches et nos actualités.</p></div>
<section>Texte libre en tête de section.
<h2>Les<br>droits</h2>
<p>Le remboursement par l'<em>Assurance</em> maladie<br>est de 70 %.</p>
<p>← Précédent | Suivant →</p>
<h2>Les démarches</h2>
<p>Écrivez à la caisse avec votre numéro de sécurité sociale et la copie de l'ordonnance du médecin traitant.</p>
</section></body></html>""", "utf-8")
    report, md = _imported(tmp_path / "fiche.html", tmp_path / "out")
    assert report == """\
Importé de fiche.html. Ce qui a été deviné, changé ou laissé de côté :
- Gardé le contenu principal de la page, <section> ; laissé de côté autour : « Voir aussi nos autres fiches et nos \
actualités. ».
- Liens de navigation retirés (ils mènent à d'autres pages, l'auditeur n'en a que faire) : « ← Précédent | Suivant → ».
- Niveaux : titres de niveau 2 → pages (2 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans \
les applications de podcast et les étiquettes des MP3.
- Pas de date dans le document : aucune n'a été inventée. Le flux prendra le jour de la dernière modification du \
fichier du guide ; ajoutez `date: AAAA-MM-JJ` pour la fixer.
- Trouvé : 0 partie(s), 1 sujet(s), 3 page(s), 3 paragraphe(s), 0 liste(s), 0 lien(s).
"""
    assert md == """\
---
title: La fiche
depth: 2
---

# La fiche

## Introduction

Texte libre en tête de section.

## Les droits

Le remboursement par l'Assurance maladie est de 70 %.

## Les démarches

Écrivez à la caisse avec votre numéro de sécurité sociale et la copie de l'ordonnance du médecin traitant.
"""


@pytest.mark.french
def test_a_web_page_s_box_stays_one_paragraph_and_hidden_text_is_named(tmp_path):
    """A box of running text with words in bold and italics (one paragraph, not one per word in bold), text
    hidden from screen readers (left out and named), an <article> whose class says "header" (kept: it is the
    page's content), and a page whose only furniture is a script (nothing to name)."""
    (tmp_path / "vaccin.html").write_text("""<html><head><title>Vaccin</title><script>var x = 1;</script></head><body>
<article class="post-header"><h1>Le vaccin</h1>
<div class="encadre">Le vaccin est <b>gratuit</b> pour les <em>plus de 65 ans</em>.</div>
<p aria-hidden="true">Texte caché aux lecteurs d'écran.</p>
<p>Parlez-en à votre pharmacien.</p></article></body></html>""", "utf-8")
    report, md = _imported(tmp_path / "vaccin.html", tmp_path / "out")
    assert report.split("\n")[1] == ("- 2 menu(s), en-tête(s), pied(s) de page, bandeau(x) et script(s) de la page "
                                     "retirés: « Texte caché aux lecteurs d'écran. ».")
    assert md.endswith("\n# Le vaccin\n\n## Le vaccin\n\nLe vaccin est gratuit pour les plus de 65 ans.\n\n"
                       "Parlez-en à votre pharmacien.\n")
    (tmp_path / "script.html").write_text("<html><head><script>var x = 1;</script></head><body><h1>Note</h1>"
                                          "<p>Texte.</p></body></html>", "utf-8")
    report, _ = _imported(tmp_path / "script.html", tmp_path / "out2")
    assert report.split("\n")[1] == ("- 1 menu(s), en-tête(s), pied(s) de page, bandeau(x) et script(s) de la page "
                                     "retirés.")
