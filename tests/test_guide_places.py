"""Where the messages a volunteer reads point: a realistic guide.yaml with one mistake each, and the message
names the file, the line, the column and the field, in French as the volunteer reads it."""

import datetime as dt
import os
import subprocess

import pytest

from audioguide.exceptions import GuideError
from audioguide.guide import load_guide

HEAD = ("title: Essai\npublisher: Asso\ndate: 2024-01-01\nparts:\n  - id: a\n    title: A\n    chapters:\n"
        "      - id: c\n        title: C\n        pages:\n          - id: p\n            title: P\n"
        "            blocks: [p: Texte.]\n")
PAGE = "parts[0].chapters[0].pages[0]"


def folder_with(tmp_path, text: str):
    folder = tmp_path / "essai"
    folder.mkdir(exist_ok=True)
    (folder / "guide.yaml").write_text(text, "utf-8")
    return folder


def messages(tmp_path, text: str) -> list[str]:
    folder = folder_with(tmp_path, text)
    with pytest.raises(GuideError) as exc:
        load_guide(folder)
    return [str(p).replace(str(folder / "guide.yaml"), "guide.yaml") for p in exc.value.problems]


@pytest.mark.french
@pytest.mark.parametrize("value, message, fix", [
    ("../voix/p.mp3", "l'enregistrement '../voix/p.mp3' n'est pas dans le dossier du guide",
     "écrivez son chemin depuis le dossier du guide, par exemple recording: voix/accueil.mp3"),
    ("C:/voix/p.mp3", "l'enregistrement 'C:/voix/p.mp3' n'est pas dans le dossier du guide",
     "écrivez son chemin depuis le dossier du guide, par exemple recording: voix/accueil.mp3"),
    ("voix/p.txt", "l'enregistrement 'voix/p.txt' n'est pas un fichier son que la construction lit",
     "utilisez un fichier .wav, .flac, .mp3, .m4a, .ogg ou .webm"),
])
def test_a_bad_recording_names_its_line_and_field_in_french(tmp_path, value, message, fix):
    assert messages(tmp_path, HEAD + f"            recording: {value}\n") == [
        f"guide.yaml:14:24: {PAGE}.recording: {message}\n    Solution : {fix}"]


def test_a_recording_written_the_windows_way_is_read_from_the_guide_folder(tmp_path):
    page = load_guide(folder_with(tmp_path, HEAD + "            recording: ' voix\\p..1.MP3 '\n")).chapter("c").pages[0]
    assert page.recording == "voix/p..1.MP3"


@pytest.mark.french
def test_a_boolean_where_text_belongs_says_what_it_found(tmp_path):
    assert messages(tmp_path, HEAD.replace("title: Essai\n", "title: Essai\nsubtitle: true\n")) == [
        "guide.yaml:2:11: subtitle: mauvais type : attendu du texte, trouvé vrai/faux\n"
        "    Solution : mettez la valeur entre guillemets pour en faire un texte"]


@pytest.mark.french
@pytest.mark.parametrize("key, value, why", [
    ("base_url", "https://asso.example/mon guide/", "ne doit contenir ni espace, ni guillemet, ni <, >, {, }, | "
     "ou barre oblique inversée (écrivez une espace %20)"),
    ("link", "https:///guide", "n'a pas de nom de serveur après le //"),
    ("base_url", "https://asso.example/guide/?v=2", "ne doit avoir ni ?requête ni #fragment : c'est l'adresse "
     "d'un dossier"),
])
def test_a_bad_address_says_why_at_its_line(tmp_path, key, value, why):
    assert messages(tmp_path, HEAD.replace("date:", f"{key}: '{value}'\ndate:")) == [
        f"guide.yaml:3:{len(key) + 3}: {key}: l'adresse '{value}' {why}\n"
        "    Solution : écrivez l'adresse publique complète, par ex. https://asso.example/guide/"]


def test_a_two_level_guide_numbers_its_chapters_after_the_intro(tmp_path):
    page = "    pages: [{id: p, title: P, blocks: [p: Texte.]}]\n"
    g = load_guide(folder_with(tmp_path, "title: Essai\nintro:\n  id: i\n  title: Accueil\n" + page[2:]
                               + "chapters:\n" + "".join(f"  - id: {c}\n    title: {c.upper()}\n{page}"
                                                          for c in ("c", "d"))))
    assert [(c.slug, c.index_in_part, c.part) for c in g.chapters] == [
        ("01-i", 0, None), ("02-c", 1, None), ("03-d", 2, None)]


def test_a_guide_without_description_gets_one_from_its_title(tmp_path):
    g = load_guide(folder_with(tmp_path, HEAD.replace("title: Essai", "title: Le guide.")))
    assert g.description == "Le guide : le guide en version audio."


def test_levels_named_with_their_article_contract_in_sentences(tmp_path):
    g = load_guide(folder_with(tmp_path, HEAD + "levels: {part: le volet, chapter: module, page: la fiche}\n"))
    assert (g.levels.part.of_the, g.levels.chapter.to_the, g.levels.page.of_the) == (
        "du volet", "au module", "de la fiche")


def _git(folder, *args, date="2021-05-04T10:00:00"):
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_NAME": "a",
           "GIT_AUTHOR_EMAIL": "a@b.fr", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b.fr"}
    subprocess.run(["git", *args], cwd=folder, env=env, check=True, capture_output=True)


def test_a_guide_without_date_is_dated_by_its_last_commit_else_by_its_file(tmp_path):
    folder = folder_with(tmp_path, HEAD.replace("date: 2024-01-01\n", ""))
    _git(folder, "init", "-q")
    _git(folder, "add", "guide.yaml")
    _git(folder, "commit", "-q", "-m", "guide")
    assert load_guide(folder).date == dt.date(2021, 5, 4)  # the commit's day, the same at every build
    (folder / "guide.yaml").write_text(HEAD.replace("date: 2024-01-01\n", "subtitle: Modifié\n"), "utf-8")
    os.utime(folder / "guide.yaml", (1_600_000_000, 1_600_000_000))  # changed since: the file's own day
    assert load_guide(folder).date == dt.date(2020, 9, 13)


@pytest.mark.french
def test_a_bad_email_and_feed_guid_are_each_named_at_their_line(tmp_path):
    assert messages(tmp_path, HEAD.replace("date:", "email: contact@asso\nfeed_guid: 1234-abcd\ndate:")) == [
        "guide.yaml:4:12: feed_guid: pas un UUID : '1234-abcd'\n    Solution : écrivez le guid du podcast en "
        "8-4-4-4-12 chiffres hexadécimaux, par ex. 917393e3-1b1e-5cef-ace4-edaa54e1f810, ou supprimez la ligne pour "
        "le déduire de l'identifiant et de l'éditeur",
        "guide.yaml:3:8: email: pas une adresse e-mail : 'contact@asso'\n    Solution : écrivez une adresse, par ex. "
        "contact@asso.example (les applications de podcast s'en servent pour vérifier à qui est le flux)"]


@pytest.mark.french
def test_a_chapter_with_more_pages_than_a_table_of_contents_holds(tmp_path):
    pages = "".join(f"          - {{id: p{i}, title: P, blocks: [p: x]}}\n" for i in range(256))
    assert messages(tmp_path, HEAD.replace("          - id: p\n            title: P\n            blocks: [p: Texte.]\n",
                                           pages)) == [
        "guide.yaml:10:9: parts[0].chapters[0].pages: trop de pages : 256, limite 255 (la table des matières d'un "
        "MP3 ne peut pas en lister plus)\n    Solution : coupez le chapitre en deux ; les auditeurs s'y retrouvent "
        "aussi mieux dans des listes plus courtes"]


@pytest.mark.french
@pytest.mark.parametrize("date", ["2204-03-31", "'2204-03-31'"])
def test_a_date_too_far_ahead_for_the_books_is_named_at_its_line(tmp_path, date):
    assert messages(tmp_path, HEAD.replace("date: 2024-01-01", f"date: {date}")) == [
        "guide.yaml:3:7: date: l'année 2204 est trop lointaine : les livres EPUB et DAISY ne peuvent pas porter une "
        "date après 2107\n    Solution : vérifiez l'année (2204 pour 2024 ?)"]


ONE_CHAPTER = "  - {id: c1, title: C, pages: [{id: p, title: P, blocks: [p: x]}]}\n"


@pytest.mark.french
@pytest.mark.parametrize("text, want", [
    (HEAD + "chapters:\n" + ONE_CHAPTER, "guide.yaml:14:1: chapters: le guide a à la fois `parts:` et `chapters:`\n"
     "    Solution : utilisez `parts:` avec les chapitres dans chaque partie (trois niveaux), ou `chapters:` seul "
     "(deux niveaux)"),
    ("title: Essai\n", "guide.yaml:1:1: chapters: le guide n'a pas de chapitres\n    Solution : ajoutez une liste "
     "`chapters:` (deux niveaux), ou des `parts:` chacune avec ses `chapters:` (trois niveaux)"),
    ("title: Essai\nchapters: []\n", "guide.yaml:2:11: chapters: le guide n'a pas de chapitres\n"
     "    Solution : ajoutez au moins un chapitre"),
    ("title: Essai\nchapters:\n" + "".join(ONE_CHAPTER.replace("c1", f"c{i}") for i in range(256)),
     "guide.yaml:2:1: chapters: trop de chapitres (avec l'introduction) : 256, limite 255 (la table des matières "
     "d'un MP3 ne peut pas en lister plus)\n    Solution : regroupez les chapitres en parties, ou coupez le guide en "
     "deux ; les auditeurs s'y retrouvent aussi mieux dans des listes plus courtes"),
    (HEAD + "lexicon:\n  ABC: " + "a" * 201 + "\n", "guide.yaml:15:8: lexicon.ABC: trop long (201 caractères, "
     "limite 200)\n    Solution : raccourcissez-le : les auditeurs l'entendent en entier"),
], ids=["parts-and-chapters", "no-chapters", "empty-chapters", "too-many-chapters", "spoken-form-too-long"])
def test_a_guide_level_mistake_is_named_at_its_line(tmp_path, text, want):
    assert messages(tmp_path, text) == [want]


def test_a_chapter_keeps_the_name_its_phone_menu_says(tmp_path):
    g = load_guide(folder_with(tmp_path, HEAD.replace("        title: C\n",
                                                      "        title: C\n        menu_label: ' la télésanté '\n")))
    assert g.chapter("c").menu_label == "la télésanté"


@pytest.mark.french
def test_a_guide_file_under_a_near_name_says_how_to_rename_it(tmp_path):
    folder = tmp_path / "essai"
    folder.mkdir()
    (folder / "notes.txt").write_text("Idées.", "utf-8")  # not a guide's name: nothing to rename
    with pytest.raises(GuideError) as exc:
        load_guide(folder)
    assert [str(p) for p in exc.value.problems] == [
        f"{folder / 'guide.yaml'}: fichier du guide introuvable\n"
        "    Solution : un dossier de guide doit contenir guide.yaml ou guide.md"]
    (folder / "Guide.yml").write_text(HEAD, "utf-8")
    with pytest.raises(GuideError) as exc:
        load_guide(folder)
    assert [str(p) for p in exc.value.problems] == [
        f"{folder / 'Guide.yml'}: le fichier du guide s'appelle « Guide.yml » : renommez-le « guide.yaml »\n"
        "    Solution : audioguide cherche exactement guide.yaml ou guide.md, en minuscules ; Windows cache souvent "
        "la fin « .txt » d'un nom : dans l'Explorateur, cochez Affichage > Extensions de noms de fichiers pour la voir"]


@pytest.mark.french
@pytest.mark.parametrize("text, want", [
    (HEAD + "pace: Lentt\n", ["guide.yaml:14:7: pace: rythme 'Lentt' inconnu\n"
                              "    Solution : vouliez-vous dire « lent » ? utilisez l'un de : lent, normal"]),
    (HEAD + "pace: zzz\n", ["guide.yaml:14:7: pace: rythme 'zzz' inconnu\n"
                            "    Solution : utilisez l'un de : lent, normal"]),
    (HEAD + "levels: {part: la grande partie, chapter: truc, page: ' '}\n", [
        "guide.yaml:14:55: levels.page: est vide\n    Solution : écrivez le texte, ou supprimez la ligne",
        "guide.yaml:14:16: levels.part: impossible de savoir comment dire 'la grande partie' dans une phrase\n"
        "    Solution : écrivez un nom avec son article, par ex. `part: la fiche` ou `part: le module`",
        "guide.yaml:14:43: levels.chapter: impossible de savoir comment dire 'truc' dans une phrase\n"
        "    Solution : écrivez un nom avec son article, par ex. `chapter: la fiche` ou `chapter: le module`"]),
    ("title: Essai\nparts: []\n", ["guide.yaml:2:8: parts: le guide n'a pas de parties\n    Solution : ajoutez au "
                                   "moins une partie, ou mettez `chapters:` seul pour un guide sans parties"]),
    (HEAD + "  - id: a\n    title: B\n    chapters: [{id: d, title: D, pages: [{id: p, title: P, blocks: [p: x]}]}]\n",
     ["guide.yaml:14:9: parts[1].id: identifiant 'a' en double (déjà utilisé en parts[0].id)\n"
      "    Solution : donnez à chacun un identifiant différent"]),
], ids=["pace-near-a-known-one", "pace-unknown", "levels", "no-parts", "duplicate-part"])
def test_a_pace_level_or_part_mistake_is_named_at_its_line(tmp_path, text, want):
    assert messages(tmp_path, text) == want


def test_a_pace_and_levels_as_written_are_read(tmp_path):
    g = load_guide(folder_with(tmp_path, HEAD + "pace: ' lent '\nlevels: {part: Une Étape, chapter: le Truc}\n"))
    assert (g.pace, g.levels.part.the, g.levels.chapter.the, g.levels.page.the) == (
        "lent", "l'étape", "le truc", "la page")


INTRO = "intro: {id: i, title: Accueil, pages: [{id: p, title: P, blocks: [p: x]}]}\n"


@pytest.mark.french
@pytest.mark.parametrize("text, want", [
    ("title: Essai\n" + INTRO + "parts:\n" + "".join(f"  - {{id: a{i}, title: A, chapters: [{{id: c{i}, title: C, "
                                                     "pages: [{id: p, title: P, blocks: [p: x]}]}]}\n"
                                                     for i in range(255)),
     "guide.yaml:3:1: parts: trop de parties (avec l'introduction) : 256, limite 255 (la table des matières d'un MP3 "
     "ne peut pas en lister plus)\n    Solution : regroupez les parties en deux ; les auditeurs s'y retrouvent aussi "
     "mieux dans des listes plus courtes"),
    ("title: Essai\nparts:\n  - une partie\n",
     "guide.yaml:3:5: parts[0]: attendu : des lignes « clé: valeur », trouvé : du texte"),
    ("title: Essai\nparts:\n  - id: a\n    title: A\n    chapters:\n"
     + "".join("  " + ONE_CHAPTER.replace("c1", f"c{i}") for i in range(256)),
     "guide.yaml:5:5: parts[0].chapters: trop de chapitres : 256, limite 255 (la table des matières d'un MP3 ne peut "
     "pas en lister plus)\n    Solution : coupez la partie en deux ; les auditeurs s'y retrouvent aussi mieux dans "
     "des listes plus courtes"),
], ids=["too-many-parts", "part-not-a-mapping", "part-with-too-many-chapters"])
def test_a_part_mistake_is_named_at_its_line(tmp_path, text, want):
    assert messages(tmp_path, text) == [want]


@pytest.mark.french
@pytest.mark.parametrize("text, want", [
    (HEAD.replace("title: Essai", 'title: "Es\\nsai"'), "guide.yaml:1:8: title: un retour à la ligne dans un texte "
     "d'une seule ligne\n    Solution : écrivez-le sur une ligne (en YAML, un texte après `|` garde ses retours à la "
     "ligne)"),
    (HEAD.replace("title: Essai", 'title: "Es\\u2028sai"'), "guide.yaml:1:8: title: caractère invisible U+2028 au "
     "caractère 3\n    Solution : supprimez-le (il vient sans doute d'un copier-coller depuis un PDF ou un traitement "
     "de texte, ou d'un échappement comme \\u0000)"),
    (HEAD.replace("title: Essai", "title: " + "a" * 201), "guide.yaml:1:8: title: trop long (201 caractères, limite "
     "200)\n    Solution : raccourcissez-le : les auditeurs l'entendent en entier"),
    (HEAD + "description: " + "a" * 4001 + "\n", "guide.yaml:14:14: description: trop long (4001 caractères, limite "
     "4000)\n    Solution : raccourcissez-le"),
    (HEAD.replace("blocks: [p: Texte.]", "narration: " + "a" * 20001), f"guide.yaml:13:24: {PAGE}.narration: trop "
     "long (20001 caractères, limite 20000)\n    Solution : coupez-le en plusieurs pages pour que les auditeurs s'y "
     "retrouvent"),
    (HEAD.replace("title: Essai", "title: Code " + "1" * 101), "guide.yaml:1:8: title: un nombre de 101 chiffres au "
     "caractère 6 : trop long pour être lu à voix haute (limite 100)\n    Solution : raccourcissez-le, ou écrivez en "
     "mots ce qu'il veut dire"),
], ids=["line-break", "invisible-character", "title-too-long", "description-too-long", "narration-too-long",
        "number-too-long"])
def test_a_text_no_output_can_carry_is_named_at_its_line(tmp_path, text, want):
    assert messages(tmp_path, text) == [want]


def test_a_long_number_in_an_address_is_no_problem(tmp_path):
    g = load_guide(folder_with(tmp_path, HEAD + "link: https://a.fr/" + "1" * 101 + "\n"))
    assert g.link == "https://a.fr/" + "1" * 101


@pytest.mark.french
def test_an_invisible_character_in_a_list_item_is_counted_from_the_list(tmp_path):
    assert messages(tmp_path, HEAD.replace("blocks: [p: Texte.]", 'blocks: [list: [a, "b\\u2028c"]]')) == [
        f"guide.yaml:13:28: {PAGE}.blocks[0].list: caractère invisible U+2028 au caractère 4\n    Solution : "
        "supprimez-le (il vient sans doute d'un copier-coller depuis un PDF ou un traitement de texte, ou d'un "
        "échappement comme \\u0000)"]


@pytest.mark.french
def test_a_lexicon_word_too_long_to_read_is_one_message(tmp_path):
    """The spoken form is checked only once the word is good: one mistake, one message."""
    word = "A" + "1" * 101
    assert messages(tmp_path, HEAD + f"lexicon:\n  '{word}': '{'2' * 101}'\n") == [
        f"guide.yaml:15:3: lexicon.{word}: un nombre de 101 chiffres au caractère 2 : trop long pour être lu à voix "
        "haute (limite 100)\n    Solution : raccourcissez-le, ou écrivez en mots ce qu'il veut dire"]


def test_a_long_number_in_an_email_is_no_problem(tmp_path):
    assert load_guide(folder_with(tmp_path, HEAD + f"email: {'1' * 101}@asso.fr\n")).email == "1" * 101 + "@asso.fr"


@pytest.mark.french
@pytest.mark.parametrize("pid, want", [
    ("'***'", "identifiant '***' invalide : seulement des minuscules sans accent, des chiffres et des tirets (il "
     "devient un nom de fichier)\n    Solution : utilisez par exemple « page »"),
    ("con", "l'identifiant 'con' est un nom de fichier réservé sous Windows\n"
     "    Solution : utilisez par exemple « con-1 »"),
], ids=["no-letter-to-keep", "reserved-on-windows"])
def test_a_page_id_that_cannot_be_a_file_name_says_which_to_use(tmp_path, pid, want):
    assert messages(tmp_path, HEAD.replace("          - id: p\n", f"          - id: {pid}\n")) == [
        f"guide.yaml:11:17: {PAGE}.id: {want}"]


@pytest.mark.french
def test_a_word_file_given_as_the_guide_says_how_to_import_it(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK")
    with pytest.raises(GuideError) as exc:
        load_guide(tmp_path / "notes.docx")
    assert [str(p) for p in exc.value.problems] == [
        f"{tmp_path / 'notes.docx'}: c'est un fichier Word : utilisez audioguide import\n    Solution : audioguide "
        "import notes.docx en fait un dossier avec guide.md, à relire, puis lancez check sur ce dossier"]
