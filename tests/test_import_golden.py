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
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans les applications de podcast et les étiquettes des MP3.
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
- 6 menu(s), en-tête(s), pied(s) de page, bandeau(x) et script(s) de la page retirés: « Actualités », « Contact », « Lire aussi : nos autres fiches », « Mentions légales - Plan du site ».
- Gardé le contenu principal de la page, <main> ; laissé de côté autour : « Ce site utilise des cookies. Tout accepter ».
- Le premier titre, « La grippe saisonnière », est pris comme titre du guide.
- Niveaux : titres de niveau 2 → pages (2 niveaux).
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans les applications de podcast et les étiquettes des MP3.
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
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans les applications de podcast et les étiquettes des MP3.
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

La téléconsultation permet à un patient de consulter un médecin à distance, par vidéo, depuis son domicile ou une pharmacie équipée d'une cabine.

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
- publisher: et description: sont facultatifs : ajoutez-les en haut du brouillon pour nommer votre association dans les applications de podcast et les étiquettes des MP3.
- date: DATE (celle du document)
- Trouvé : 3 partie(s), 3 sujet(s), 4 page(s), 4 paragraphe(s), 1 liste(s), 0 lien(s).
"""

PDF_SIZES_MD = """\
---
title: Se repérer dans la e-santé
date: DATE
depth: 3
---

# La télésanté

## La téléconsultation

### Qu'est-ce que c'est ?

La téléconsultation permet à un patient de consulter un médecin à distance, par vidéo, depuis son domicile ou une pharmacie équipée d'une cabine.

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
    assert report == f"""\
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
