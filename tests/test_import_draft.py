"""The draft an import writes, from a reader's elements, without a document to parse (milliseconds a test): what is
left out and named in the report, where long text is cut, the ids, the refusals a volunteer reads."""

from __future__ import annotations

import os
import resource

import pytest
from click.testing import CliRunner
from test_import_refusals import refusal

from audioguide.cli import cli
from audioguide.exceptions import AudioguideError
from audioguide.importers import Document, Element, draft, import_document


def heading(text: str, level: int) -> Element:
    return Element("heading", text=text, level=level)


def p(text: str) -> Element:
    return Element("p", text=text)


def test_headings_and_topics_without_text_are_left_out_and_named():
    data, report = draft(Document([heading("Chap", 1), heading("Vide", 2), heading("Pleine", 2), p("x"),
                                   heading("Sans rien", 1)]), "g")
    assert data["chapters"] == [{"id": "chap", "title": "Chap",
                                 "pages": [{"id": "pleine", "title": "Pleine", "blocks": [{"p": "x"}]}]}]
    assert report[-3:] == ["Headings with no text under them, left out: « Vide ».",
                           "Topics without text, left out: « Sans rien ».",
                           "Found: 0 part(s), 2 topic(s), 2 page(s), 1 paragraph(s), 0 list(s), 0 link(s)."]


def test_an_address_its_paragraph_wrote_is_not_repeated_after_another_link():
    data, report = draft(Document([p("Écrivez à contact@asso.fr ou appelez."),
                                   Element("link", text="Le site", url="https://asso.fr"),
                                   Element("link", text="contact@asso.fr", url="mailto:contact@asso.fr")]), "g")
    assert data["chapters"][0]["pages"][0]["blocks"] == [
        {"p": "Écrivez à contact@asso.fr ou appelez."}, {"link": {"url": "https://asso.fr", "label": "Le site"}}]
    assert report[0] == ("Addresses already written in their paragraph, not repeated as a separate link (the listener "
                         "would have heard them three times): « contact@asso.fr ». The guide's written texts "
                         "(transcripts, books, kiosk) still make them links.")


def test_a_long_list_is_cut_between_items_and_a_long_paragraph_at_a_word():
    data, _ = draft(Document([Element("list", items=["x" * 3000, "y" * 3000, "z" * 10])]), "g")
    assert [[[len(i) for i in b["list"]] for b in pg["blocks"]] for pg in data["chapters"][0]["pages"]] == \
        [[[3000, 3000]], [[10]]]
    text = "A" * 1597 + ". " + "mot " * 1700  # one sentence ends early: the cut is at the last word before 6000
    data, _ = draft(Document([p(text)]), "g")
    pieces = [b["p"] for pg in data["chapters"][0]["pages"] for b in pg["blocks"]]
    assert [len(t) for t in pieces] == [5998, 2399] and pieces[0].endswith(" mot") and " ".join(pieces) == text.strip()


def test_a_title_too_long_is_cut_after_its_last_whole_word():
    """Cut where the 199th character is a space: the word before it stays."""
    title = "Vaccination " + "a" * 138 + " " + "b" * 47 + " " + "c" * 60
    data, report = draft(Document([p("Texte.")], title=title), "g")
    assert data["title"] == "Vaccination " + "a" * 138 + " " + "b" * 47 + "…"
    assert report[0].startswith("The title was cut to 200 characters: « Vaccination aaa")


def test_too_many_topics_are_refused_with_their_level_and_the_fix():
    els = [e for i in range(256) for e in (heading(f"Sujet {i}", 1), heading("Page", 2), p("x"))]
    with pytest.raises(AudioguideError) as exc:
        draft(Document(els), "g")
    assert str(exc.value) == (
        "The document has 256 level 1 headings: a guide has at most 255 at this level (an MP3's table of contents "
        "lists no more).\nFix: group these sections under higher-level headings, or cut the document into several "
        "guides")


def test_a_part_of_more_than_255_topics_goes_on_in_a_second_part():
    els = [heading("Partie", 1)]
    els += [e for i in range(256) for e in (heading(f"Sujet {i}", 2), heading("Page", 3), p("x"))]
    els += [heading("Autre", 1), heading("S", 2), heading("P", 3), p("y")]
    data, _ = draft(Document(els), "g")
    assert [(pt["id"], pt["title"], len(pt["chapters"])) for pt in data["parts"]] == [
        ("partie", "Partie", 255), ("partie-suite-2", "Partie (suite 2)", 1), ("autre", "Autre", 1)]


def test_siblings_with_one_title_get_numbered_ids():
    """Run in a child process under a CPU cap of 2 s (a hundred times what it needs): ids that never become free would
    loop for ever."""
    els = [heading("Sujet", 1), heading("Page", 2), p("x"), heading("Page", 2), p("y"), heading("Sujet", 1),
           heading("Page", 2), p("z")]
    draft(Document(els[:3]), "g")  # once in this process too: mutmut learns here which tests reach the ids
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (2, resource.getrlimit(resource.RLIMIT_CPU)[1]))
            data, _ = draft(Document(els), "g")
            os.write(write, repr([(c["id"], [pg["id"] for pg in c["pages"]]) for c in data["chapters"]]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        ids = f.read()
    os.waitpid(pid, 0)
    assert ids == repr([("sujet", ["page", "page-2"]), ("sujet-2", ["page"])])


@pytest.mark.french
@pytest.mark.parametrize("name, said", [
    ("notes.txt", "Erreur : Impossible d'importer notes.txt : le format .txt est inconnu."),
    ("notes", "Erreur : Impossible d'importer notes : le format (sans extension) est inconnu."),
])
def test_an_unknown_format_is_refused_with_its_name(tmp_path, name, said):
    (tmp_path / name).write_text("Du texte.")
    assert refusal(tmp_path, tmp_path / name).startswith(said + "\n")


@pytest.mark.french
def test_a_folder_named_like_a_document_an_empty_page_and_a_folder_holding_a_guide_are_refused(tmp_path):
    (tmp_path / "dossier.docx").mkdir()
    with pytest.raises(AudioguideError) as exc:  # the studio's import, which click does not check first
        import_document(tmp_path / "dossier.docx", tmp_path / "g")
    assert str(exc.value) == (f"Fichier introuvable : {tmp_path / 'dossier.docx'}.\n"
                              "Solution : vérifiez le chemin et le nom du fichier")
    (tmp_path / "vide.htm").write_text("<html><body><main><p> </p></main></body></html>")
    assert refusal(tmp_path, tmp_path / "vide.htm") == (
        "Erreur : vide.htm ne contient aucun texte à importer.\n"
        "Cause probable : le document est vide, ou n'est fait que d'images (un PDF scanné, par exemple)\n"
        "Solution : ouvrez-le et vérifiez que son texte peut être sélectionné ; un scan doit d'abord passer par un "
        "logiciel de reconnaissance de texte (OCR)\n")
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "guide.yaml").write_text("title: Mon guide\n")
    r = CliRunner().invoke(cli, ["import", str(tmp_path / "vide.htm"), "--out", str(tmp_path / "g")])
    assert r.exit_code == 1 and r.output == (
        f"Erreur : Le dossier {tmp_path / 'g'} contient déjà un guide, guide.yaml : check et build le liraient à la "
        "place du brouillon guide.md.\nSolution : choisissez un autre dossier avec --out\n")


@pytest.mark.french
def test_a_web_page_in_htm_goes_into_a_folder_made_beforehand(tmp_path):
    (tmp_path / "page.htm").write_text("<html><body><main><h1>Le vaccin</h1><p>Il protège.</p></main></body></html>")
    (tmp_path / "g").mkdir()
    r = CliRunner().invoke(cli, ["import", str(tmp_path / "page.htm"), "--out", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "g" / "guide.md").read_text().endswith("\n## Le vaccin\n\nIl protège.\n")


@pytest.mark.french
def test_a_web_table_cell_keeps_a_word_whose_end_is_in_bold_whole(tmp_path):
    (tmp_path / "doses.html").write_text("<html><body><main><h1>Les doses</h1><p>Selon l'âge :</p><table><tr>"
                                         "<td>La vacci<b>nation</b></td><td>Une dose</td></tr></table></main></body>"
                                         "</html>")
    r = CliRunner().invoke(cli, ["import", str(tmp_path / "doses.html"), "--out", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "g" / "guide.md").read_text().endswith("Selon l'âge :\n\nLa vaccination ; Une dose\n")


@pytest.mark.french
@pytest.mark.parametrize("sentence, paragraphs", [("Une phrase sur la vaccination. ", 220),
                                                  ("Été, hiver : vérifiez la santé éprouvée. ", 200)])
def test_a_draft_too_big_for_a_guide_file_is_refused_in_words(tmp_path, monkeypatch, sentence, paragraphs):
    """A guide file's cap lowered to 1 MB (10 MB in use, test_import_hostile.py): counted in characters before the
    draft is made, then in bytes (accents take two) once it is written."""
    from audioguide.guide import yamlsrc

    monkeypatch.setattr(yamlsrc, "MAX_FILE_BYTES", 1_000_000)
    para = "<p>" + sentence * (5000 // len(sentence)) + "</p>"
    (tmp_path / "gros.html").write_text("<html><body><main>" + para * paragraphs + "</main></body></html>")
    assert refusal(tmp_path, tmp_path / "gros.html") == (
        "Erreur : gros.html ferait un guide de plus de 1 Mo de texte, la taille maximale d'un guide.\n"
        "Solution : coupez le document en plusieurs, un par guide (le guide e-santé fait 0,07 Mo)\n")
