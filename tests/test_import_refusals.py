"""The refusals of `audioguide import` as a volunteer reads them (French, through the CLI): the document's
name, what is wrong with it, and what to do, for each kind of document the import cannot read."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner
from test_import_hostile import flate_bomb, pdf_with_content

from audioguide.cli import cli


def refusal(tmp_path, src) -> str:
    r = CliRunner().invoke(cli, ["import", str(src), "--out", str(tmp_path / "g")])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert not (tmp_path / "g").exists()  # no half-written draft
    return r.output


@pytest.mark.french
def test_a_damaged_word_file_is_named_with_the_cause_and_the_fix(tmp_path):
    (tmp_path / "lettre.docx").write_bytes(b"Ceci n'est pas un document Word.")
    assert refusal(tmp_path, tmp_path / "lettre.docx") == (
        "Erreur : Impossible de lire lettre.docx comme un document Word (BadZipFile).\n"
        "Cause probable : le fichier est endommagé, ou c'est un ancien .doc renommé en .docx\n"
        "Solution : ouvrez-le dans Word ou LibreOffice et enregistrez-le à nouveau en .docx\n")


@pytest.mark.french
def test_a_damaged_pdf_is_named_with_the_cause_and_the_fix(tmp_path):
    (tmp_path / "brochure.pdf").write_bytes(b"%PDF-1.4\nrien d'autre\n")
    assert refusal(tmp_path, tmp_path / "brochure.pdf") == (
        "Erreur : Impossible de lire brochure.pdf comme un PDF (PdfminerException).\n"
        "Cause probable : le fichier est endommagé, ou protégé par un mot de passe\n"
        "Solution : ouvrez-le dans un lecteur PDF et imprimez-le à nouveau dans un nouveau PDF\n")


@pytest.mark.french
def test_a_pdf_that_would_fill_the_memory_is_refused_in_words(tmp_path):
    """The reader's child process caps its own memory: the import says so, with the file's name."""
    assert refusal(tmp_path, pdf_with_content(tmp_path / "bombe.pdf", flate_bomb())) == (
        "Erreur : bombe.pdf : la lecture de ce PDF demande plus de 1000 Mo de mémoire, la limite de l'import.\n"
        "Cause probable : le PDF est endommagé, ou fait exprès pour saturer la mémoire (une « bombe »)\n"
        "Solution : imprimez-le à nouveau en PDF depuis un lecteur PDF, ou importez le document d'origine (.docx) ; "
        "s'il est vraiment si lourd, coupez-le en plusieurs PDF\n")


@pytest.mark.french
def test_an_empty_web_page_is_refused_with_the_fix(tmp_path):
    (tmp_path / "vide.html").write_bytes(b"")
    assert refusal(tmp_path, tmp_path / "vide.html") == (
        "Erreur : Impossible de lire vide.html comme une page web (Document is empty).\n"
        "Solution : enregistrez à nouveau la page depuis le navigateur (Fichier > Enregistrer sous > Page web, "
        "HTML uniquement)\n")


@pytest.mark.french
def test_a_web_page_too_big_says_its_size(tmp_path):
    with open(tmp_path / "archive.html", "wb") as f:
        f.truncate(20_500_010)
    assert refusal(tmp_path, tmp_path / "archive.html") == (  # 20.500010 MB, said rounded
        "Erreur : archive.html fait 21 Mo : l'import lit une page web de 20 Mo au plus.\n"
        "Cause probable : le fichier n'est sans doute pas une page enregistrée seule\n"
        "Solution : enregistrez la page depuis le navigateur (Fichier > Enregistrer sous > Page web, HTML "
        "uniquement)\n")


@pytest.mark.french
def test_a_pdf_of_too_many_pages_is_refused_with_its_count(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(3001):
        pdf.add_page()
    pdf.output(str(tmp_path / "annuaire.pdf"))
    assert refusal(tmp_path, tmp_path / "annuaire.pdf") == (
        "Erreur : annuaire.pdf a 3001 pages : l'import lit 3000 pages au plus.\n"
        "Solution : coupez le document en plusieurs PDF, un par guide\n")


@pytest.mark.french
@pytest.mark.parametrize("name, module", [("lettre.docx", "docx"), ("brochure.pdf", "pdfplumber")])
def test_without_the_reader_s_package_the_import_says_how_to_install_it(tmp_path, monkeypatch, name, module):
    """A setup without the optional readers (pip install audioguide, not audioguide[import])."""
    monkeypatch.setitem(sys.modules, module, None)  # import fails as it would were it not installed
    (tmp_path / name).write_bytes(b"PK\x03\x04" if module == "docx" else b"%PDF-1.4\n")
    kind = "des fichiers Word" if module == "docx" else "des PDF"
    package = "python-docx" if module == "docx" else "pdfplumber"
    assert refusal(tmp_path, tmp_path / name) == (
        f"Erreur : L'import {kind} demande {package}.\n"
        "Solution : installez-le : pip install 'audioguide[import]'\n")


@pytest.mark.french
def test_convert_says_what_it_wrote_and_why_it_refuses(tmp_path):
    """`audioguide convert` as the volunteer reads it: the file and its format, or the file, the fault and the fix."""
    import shutil

    from conftest import DATA

    shutil.copytree(DATA / "md" / "grippe", tmp_path / "g")
    shutil.copytree(DATA / "mini", tmp_path / "m")

    def convert(src, dst):
        r = CliRunner().invoke(cli, ["convert", str(src), str(dst)])
        return r.exit_code, r.output.replace(str(tmp_path), "TMP")

    assert convert(tmp_path / "g" / "guide.md", tmp_path / "g" / "guide.txt") == (2, (
        "Erreur : Le guide a 1 problème :\n  TMP/g/guide.txt: format de sortie inconnu\n"
        "    Solution : nommez le fichier de sortie guide.md (Markdown) ou guide.yaml (YAML)\n"))
    assert convert(tmp_path / "g" / "guide.md", tmp_path / "g" / "guide.yml") == (
        0, "TMP/g/guide.yml écrit (YAML) ; il se relit comme le même guide.\n")
    assert convert(tmp_path / "g" / "guide.md", tmp_path / "g" / "guide.yml") == (2, (
        "Erreur : Le guide a 1 problème :\n  TMP/g/guide.yml: le fichier de sortie existe déjà\n"
        "    Solution : choisissez un autre nom, ou déplacez d'abord l'ancien fichier\n"))
    assert convert(tmp_path / "m" / "guide.yaml", tmp_path / "m" / "guide.md") == (
        0, "TMP/m/guide.md écrit (Markdown) ; il se relit comme le même guide.\n")


def test_an_anchor_without_an_address_keeps_its_text(tmp_path):
    """<a name="haut"> (an old page's anchor, no href) inside the content: its text is read, nothing breaks."""
    from audioguide.importers import import_document

    (tmp_path / "ancre.html").write_text('<html><body><main><h1>Fiche</h1><a name="haut">Haut de la fiche</a>'
                                         "<p>Le texte.</p></main></body></html>", "utf-8")
    target, _ = import_document(tmp_path / "ancre.html", tmp_path / "out")
    assert target.read_text("utf-8").endswith("\n\nHaut de la fiche\n\nLe texte.\n")
