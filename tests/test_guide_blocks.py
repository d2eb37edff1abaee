"""Guide validation, field by field: each mistake a volunteer can make is reported at its line and column,
with the field, the problem and the fix, exactly; and what is valid becomes what the narration reads."""

import pytest

from audioguide.exceptions import GuideError
from audioguide.guide import load_guide

HEAD = ("title: Essai\npublisher: Asso\ndescription: Un essai.\ndate: 2024-01-01\nparts:\n  - id: a\n    title: A\n"
        "    chapters:\n      - id: c\n        title: C\n        pages:\n          - id: p\n            title: P\n")
PAGE = "parts[0].chapters[0].pages[0]"
KINDS = "p, list, heading, link, attention, bon-a-savoir, a-noter, exemple, important"


def write(tmp_path, body: str):
    """The guide in a folder named as a valid guide id (the id comes from the folder when not given)."""
    folder = tmp_path / "essai"
    folder.mkdir(exist_ok=True)
    (folder / "guide.yaml").write_text(HEAD + body, "utf-8")
    return folder


def problems(tmp_path, body: str) -> list[str]:
    folder = write(tmp_path, body)
    with pytest.raises(GuideError) as exc:
        load_guide(folder)
    prefix = str(folder / "guide.yaml") + ":"
    return [str(p).replace(prefix, "") for p in exc.value.problems]


CASES = {
    "blocks-not-a-list": ("            blocks: hello\n", [
        f"14:21: {PAGE}.blocks: wrong type: expected a list of blocks, found text"]),
    "empty-paragraphs": ("            blocks:\n              - '  '\n              - p: ''\n", [
        f"15:17: {PAGE}.blocks[0]: empty paragraph\n    Fix: write the text, or remove the line",
        f"16:20: {PAGE}.blocks[1].p: is empty\n    Fix: write the text, or remove the line"]),
    "not-one-kind": ("            blocks:\n              - {p: a, heading: b}\n              - 42\n", [
        f"15:17: {PAGE}.blocks[0]: a block is one `kind: content` line\n"
        f"    Fix: kinds: {KINDS}; e.g. `- p: Un paragraphe.`",
        f"16:17: {PAGE}.blocks[1]: a block is one `kind: content` line\n"
        f"    Fix: kinds: {KINDS}; e.g. `- p: Un paragraphe.`"]),
    "unknown-kinds": ("            blocks:\n              - paragraphe: x\n              - lsit: [a]\n"
                      "              - zzz: x\n", [
        f"15:17: {PAGE}.blocks[0].paragraphe: unknown block kind 'paragraphe'\n    Fix: did you mean 'p'?",
        f"16:17: {PAGE}.blocks[1].lsit: unknown block kind 'lsit'\n    Fix: did you mean 'list'?",
        f"17:17: {PAGE}.blocks[2].zzz: unknown block kind 'zzz'\n    Fix: kinds: {KINDS}"]),
    "lists": ("            blocks:\n              - list: []\n              - list: ['  ', '']\n"
              "              - list: a\n", [
        f"15:23: {PAGE}.blocks[0].list: empty list\n    Fix: add items, or remove the block",
        f"16:23: {PAGE}.blocks[1].list: empty list\n    Fix: add items, or remove the block",
        f"17:23: {PAGE}.blocks[2].list: wrong type: expected list of texts, found text"]),
    "links": ("            blocks:\n              - link: {url: 'ftp:x', label: L}\n"
              "              - link: {url: 'https://a.fr'}\n              - link: 'https://a.fr'\n", [
        f"15:29: {PAGE}.blocks[0].link.url: not a web address: 'ftp:x'\n"
        "    Fix: write the full address, e.g. https://www.ameli.fr/, mailto:contact@asso.fr or tel:+33123456789",
        f"16:23: {PAGE}.blocks[1].link.label: missing required field\n    Fix: add a `label:` line to this entry",
        f"17:23: {PAGE}.blocks[2].link: expected a mapping (key: value lines), found text"]),
    "callouts": ("            blocks:\n              - attention: []\n              - a-noter: ''\n"
                 "              - exemple: 3\n              - important: [{attention: [x]}]\n", [
        f"15:28: {PAGE}.blocks[0].attention: empty callout\n    Fix: add its text, or remove the block",
        f"16:26: {PAGE}.blocks[1].a-noter: is empty\n    Fix: write the text, or remove the line",
        f"17:26: {PAGE}.blocks[2].exemple: wrong type: expected a list of blocks, found a number",
        f"18:41: {PAGE}.blocks[3].important[0].attention: callouts cannot be nested\n"
        "    Fix: move the inner callout out"]),  # and not also "empty callout": the author wrote content
    "empty-page": ("", [
        f"12:13: {PAGE}: empty page: it has neither blocks nor narration\n"
        "    Fix: add a `blocks:` list, or remove the page"]),
    "narration-not-text": ("            narration: [a]\n", [
        f"14:24: {PAGE}.narration: wrong type: expected text, found a list",
        f"12:13: {PAGE}: empty page: it has neither blocks nor narration\n"
        "    Fix: add a `blocks:` list, or remove the page"]),
}


@pytest.mark.parametrize("case", CASES)
def test_each_mistake_is_reported_exactly(tmp_path, case):
    body, want = CASES[case]
    assert problems(tmp_path, body) == want


def test_a_callout_nested_as_text_is_refused(tmp_path):
    assert problems(tmp_path, "            blocks:\n              - important: [{attention: x}]\n") == [
        f"15:41: {PAGE}.blocks[0].important[0].attention: callouts cannot be nested\n"
        "    Fix: move the inner callout out"]


def test_valid_blocks_become_what_the_narration_reads(tmp_path):
    folder = write(tmp_path, """\
            blocks:
              - Un paragraphe nu.
              - heading: Un titre
              - p: Un paragraphe.
              - list: [un, '  ', deux]
              - link: {url: '  https://www.ameli.fr/x  ', label: Ameli}
              - attention: Appelez le 15.
              - important:
                  - p: Dedans.
                  - list: [a]
""")
    page = load_guide(folder).chapter("c").pages[0]
    got = [(b.kind, b.text, b.items, b.url, [(c.kind, c.text, c.items) for c in b.children]) for b in page.blocks]
    assert got == [
        ("p", "Un paragraphe nu.", [], "", []),
        ("heading", "Un titre", [], "", []),
        ("p", "Un paragraphe.", [], "", []),
        ("list", "", ["un", "deux"], "", []),
        ("link", "Ameli", [], "https://www.ameli.fr/x", []),
        ("attention", "", [], "", [("p", "Appelez le 15.", [])]),
        ("important", "", [], "", [("p", "Dedans.", []), ("list", "", ["a"])]),
    ]
    assert (page.id, page.title, page.narration, page.line) == ("p", "P", None, 12)


def test_a_page_can_be_narration_only(tmp_path):
    page = load_guide(write(tmp_path, "            narration: Texte dit tel quel.\n")).chapter("c").pages[0]
    assert (page.narration, page.blocks) == ("Texte dit tel quel.", [])


def test_the_page_length_limit_is_inclusive(tmp_path):
    from audioguide.guide import MAX_PAGE_CHARS

    folder = write(tmp_path, f"            blocks:\n              - p: {'a' * MAX_PAGE_CHARS}\n")
    assert len(load_guide(folder).chapter("c").pages[0].blocks[0].text) == MAX_PAGE_CHARS
    assert problems(tmp_path, f"            blocks:\n              - p: {'a' * (MAX_PAGE_CHARS + 1)}\n") == [
        f"12:13: {PAGE}: page is very long ({MAX_PAGE_CHARS + 1} characters, limit {MAX_PAGE_CHARS})\n"
        "    Fix: split it into several pages so listeners can navigate it"]


# --- the guide, its parts and chapters ------------------------------------------------------------------

H = "title: Essai\npublisher: Asso\ndescription: Un essai.\n"
PARTS = ("parts:\n  - id: a\n    title: A\n    chapters:\n      - id: c\n        title: C\n"
         "        pages: [{id: p, title: P, blocks: [p: x]}]\n")
GUIDE_CASES = {
    "bad-date": (H + "date: hier\n" + PARTS, ["4:7: date: not a date: 'hier'\n    Fix: write it as 2024-03-31"]),
    "language": (H + "date: 2024-01-01\nlanguage: en-US\n" + PARTS, [
        "5:11: language: language 'en-US' is not French\n    Fix: audioguide narrates French guides: use fr-FR"]),
    "no-parts": (H + "date: 2024-01-01\nparts: []\n", [
        "5:8: parts: the guide has no parts\n    Fix: add at least one part, or list `chapters:` alone "
        "for a guide without parts"]),
    "empty-part-and-chapter": (
        H + "date: 2024-01-01\nparts:\n  - id: a\n    title: A\n    chapters: []\n  - id: b\n    title: B\n"
        "    chapters:\n      - id: c\n        title: C\n        pages: []\n", [
            "8:15: parts[0].chapters: empty part: it has no chapters\n"
            "    Fix: add at least one chapter, or remove the part",
            "14:16: parts[1].chapters[0].pages: empty chapter: it has no pages\n"
            "    Fix: add at least one page, or remove the chapter"]),
    "types": (H + "date: 2024-01-01\nsubtitle: 4.5\nsource: {a: b}\nparts:\n  - id: a\n    title: 42\n    chapters:\n"
              "      - id: c\n        title: C\n        description: 12\n"
              "        pages: [{id: p, title: P, blocks: [p: x]}]\n", [
        "5:11: subtitle: wrong type: expected text, found a number\n    Fix: put the value in quotes to make it text",
        "6:9: source: wrong type: expected text, found a mapping",
        "9:12: parts[0].title: wrong type: expected text, found a number\n"
        "    Fix: put the value in quotes to make it text",
        "13:22: parts[0].chapters[0].description: wrong type: expected text, found a number\n"
        "    Fix: put the value in quotes to make it text"]),
    "bad-id": ("id: Mon/Guide\n" + H + "date: 2024-01-01\n" + PARTS, [
        "1:5: id: invalid id 'Mon/Guide': must not contain '/', '\\', '..' or NUL: it would escape the output folder"
        "\n    Fix: use e.g. 'mon-guide'"]),
    "chapter-not-a-mapping": (H + "date: 2024-01-01\nparts:\n  - id: a\n    title: A\n    chapters: [hello]\n", [
        "8:16: parts[0].chapters[0]: expected a mapping (key: value lines), found text"]),
    "lexicon-loop": (H + "date: 2024-01-01\nlexicon: {ABC: XYZ, XYZ: ABC}\n" + PARTS, [
        "5:11: lexicon.ABC: this entry loops: ABC -> XYZ -> ABC\n"
        "    Fix: make the spoken form plain words that are not themselves lexicon entries",
        "5:21: lexicon.XYZ: this entry loops: XYZ -> ABC -> XYZ\n"
        "    Fix: make the spoken form plain words that are not themselves lexicon entries"]),
    "typo": (H + "date: 2024-01-01\ntitel: X\n" + PARTS, [
        "5:1: titel: unknown key\n    Fix: did you mean 'title'?"]),
}


def guide_problems(folder, text) -> list[str]:
    folder.mkdir(exist_ok=True)
    (folder / "guide.yaml").write_text(text, "utf-8")
    with pytest.raises(GuideError) as exc:
        load_guide(folder)
    return [str(p).replace(str(folder / "guide.yaml") + ":", "") for p in exc.value.problems]


@pytest.mark.parametrize("case", GUIDE_CASES)
def test_each_guide_mistake_is_reported_exactly(tmp_path, case):
    text, want = GUIDE_CASES[case]
    assert guide_problems(tmp_path / "essai", text) == want


def test_a_folder_name_that_cannot_be_an_id_says_to_add_one(tmp_path):
    assert guide_problems(tmp_path / "Mon Guide", H + "date: 2024-01-01\n" + PARTS) == [
        " id: the folder name 'mon guide' is not a valid guide id\n"
        "    Fix: add an `id:` line with lowercase letters, digits and hyphens"]


def test_defaults_and_dates(tmp_path):
    import datetime

    folder = tmp_path / "essai"
    folder.mkdir()
    (folder / "guide.yaml").write_text(H + "date: 2024-01-02 10:30:00\n" + PARTS.replace(
        "        title: C\n", "        title: C\n        description: Le chapitre.\n"), "utf-8")
    g = load_guide(folder)
    assert (g.id, g.language, g.date) == ("essai", "fr-FR", datetime.date(2024, 1, 2))  # a timestamp keeps its day
    assert g.chapter("c").description == "Le chapitre."
    (folder / "guide.yaml").write_text(H + "date: 2024-01-01\n" + PARTS, "utf-8")
    assert load_guide(folder).chapter("c").description == ""


def test_every_guide_field_is_read_and_optional_ones_default_to_empty(tmp_path):
    folder = tmp_path / "essai"
    folder.mkdir()
    full = (H + "date: 2024-01-01\nsubtitle: Sous-titre\nauthor: Autrice\nsource: Source\nrights: CC BY 4.0\n"
            "version: '2'\nbase_url: https://a.fr/g/\nemail: a@b.fr\nlink: https://a.fr\n"
            "lexicon: {ABC: abécé}\n" + PARTS)
    (folder / "guide.yaml").write_text(full, "utf-8")
    g = load_guide(folder)
    assert (g.subtitle, g.author, g.source, g.rights, g.version, g.base_url, g.email, g.link, g.lexicon) == (
        "Sous-titre", "Autrice", "Source", "CC BY 4.0", "2", "https://a.fr/g/", "a@b.fr", "https://a.fr",
        {"ABC": "abécé"})
    (folder / "guide.yaml").write_text(H + "date: 2024-01-01\n" + PARTS, "utf-8")
    g = load_guide(folder)
    assert (g.subtitle, g.author, g.source, g.rights, g.version, g.base_url, g.email, g.link, g.lexicon) == (
        "", "", "", "", "", None, "", "", {})


def test_chapters_are_numbered_across_parts(tmp_path):
    two = PARTS + "  - id: b\n    title: B\n    chapters:\n" + "\n".join(
        f"      - id: {c}\n        title: {c.upper()}\n        pages: [{{id: p, title: P, blocks: [p: x]}}]"
        for c in ("d", "e")) + "\n"
    folder = tmp_path / "essai"
    folder.mkdir()
    (folder / "guide.yaml").write_text(H + "date: 2024-01-01\n" + two, "utf-8")
    g = load_guide(folder)
    assert [(c.id, c.number, c.part.number) for c in g.chapters] == [("c", 1, 1), ("d", 2, 2), ("e", 3, 2)]


def test_lexicon_entries_must_be_spoken_text(tmp_path):
    assert guide_problems(tmp_path / "essai", H + "date: 2024-01-01\nlexicon:\n  ABC: ''\n  DEF: 3\n" + PARTS) == [
        '6:8: lexicon.ABC: expected the spoken form as text\n    Fix: e.g. ABC: "abc"',
        '7:8: lexicon.DEF: expected the spoken form as text\n    Fix: e.g. DEF: "def"']


def test_a_missing_guide_says_what_to_check(tmp_path):
    for path, fix in ((tmp_path / "nope" / "guide.yaml", "check the path"),
                      (tmp_path, "a guide folder must contain guide.yaml or guide.md")):
        with pytest.raises(GuideError) as exc:
            load_guide(path)
        (p,) = exc.value.problems
        want = path if path.name == "guide.yaml" else path / "guide.yaml"
        assert (p.file, p.line, p.column, p.message, p.fix) == (str(want), None, None, "guide file not found", fix)
