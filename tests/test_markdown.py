"""Markdown guides: the loader gives the same Guide as YAML would, errors carry .md lines, conversion is lossless."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from audioguide.cli import cli
from audioguide.exceptions import GuideError
from audioguide.guide import load_guide, parse_guide
from audioguide.guide.convert import dump_yaml, guide_signature, to_markdown
from audioguide.guide.markdown import parse_markdown, slug
from audioguide.guide.yamlsrc import load_yaml, parse_yaml
from audioguide.narration.script import ScriptWriter

from conftest import DATA, ESANTE

MD = DATA / "md"
FRONT = "---\ntitle: T\npublisher: P\ndescription: D\ndate: 2024-01-01\n---\n"


def narration(guide) -> list[str]:
    w = ScriptWriter(guide)
    return [s.transcript for c in guide.chapters for s in w.chapter(c)]


def problems(text: str) -> list:
    with pytest.raises(GuideError) as exc:
        parse_guide(parse_markdown(text, "g.md"), "g.md", "g")
    return exc.value.problems


def test_markdown_guide_structure():
    g = load_guide(MD / "grippe")
    assert g.id == "grippe" and g.lexicon == {"ARS": "spell"}
    # Inline markup is kept, as a YAML guide holds it: every output reads both the same way.
    assert g.intro.id == "introduction" and g.intro.pages[0].blocks[0].text == \
        "Ce guide vous explique **pourquoi** et *comment* se faire vacciner. Il dure dix minutes."
    assert [p.id for p in g.parts] == ["comprendre", "se-faire-vacciner"]
    assert g.parts[0].menu_label == "comprendre la grippe"
    ch = g.parts[0].chapters[0]
    assert (ch.id, ch.title, ch.description) == ("la-grippe", "La grippe, c'est quoi ?",
                                                 "Ce que la grippe fait au corps.")
    # Same title twice in a chapter: the second id is numbered, so ids stay stable and unique.
    assert [p.id for p in ch.pages] == ["les-symptomes", "les-symptomes-2"]
    kinds = [(b.kind, b.text or b.items) for b in ch.pages[0].blocks]
    assert kinds == [("p", "La grippe commence brutalement :"), ("list", ["une forte fièvre ;", "des courbatures."]),
                     ("heading", "Qui est à risque"),
                     ("list", ["Les personnes de 65 ans et plus.", "Les femmes enceintes."]),
                     ("attention", []), ("link", "Le site de l'Assurance maladie")]
    assert ch.pages[0].blocks[4].children[0].text == "Appelez le 15 si vous avez du mal à respirer."
    assert ch.pages[0].blocks[5].url == "https://www.ameli.fr/assure"
    callout, alert = ch.pages[1].blocks
    assert callout.kind == "bon-a-savoir" and callout.children[0].items[1] == "Le pharmacien peut vous vacciner."
    assert alert.kind == "a-noter" and alert.children[0].text == "Voir aussi l'ARS."
    page = g.parts[1].chapters[0].pages[0]
    assert page.id == "calendrier" and page.narration == "La campagne commence en octobre.\nElle dure jusqu'en février."


def test_two_level_markdown_gives_top_level_chapters():
    data = parse_markdown((MD / "two-level" / "guide.md").read_text(), "guide.md")
    assert "parts" not in data and [c["id"] for c in data["chapters"]] == ["pourquoi-se-vacciner", "ou-se-vacciner"]
    page = data["chapters"][0]["pages"][0]
    assert page["id"] == "les-risques"
    assert [list(b) for b in page["blocks"]] == [["p"], ["heading"], ["p"]]


def test_slug_rule_matches_yaml_ids():
    assert slug("La e-santé en un coup d'œil") == "la-e-sante-en-un-coup-d-il"
    assert slug("Qu'est-ce que c'est ?") == "qu-est-ce-que-c-est"
    assert slug("???") == "page"


@pytest.mark.parametrize("text, line, words", [
    ("title: T\n# Titre\n", 1, "starts with its details"),
    ("---\ntitle: T\n# Titre\n", 1, "never closed"),
    ("---\ntitle: T\npublisher: 'P\n---\n", 3, "YAML"),
    (FRONT + "# P\n## C\n### Page\n\n> Une citation.\n", 11, "not a callout"),
    (FRONT + "# P\n## C\n### Page\n\n```python\nx\n```\n", 11, "code block"),
    (FRONT + "# P\n\nDu texte.\n\n## C\n### Page\nx\n", 9, "before the first chapter"),
    (FRONT + "# P\n## C\n### Page\n### Autre\nx\n", 9, "empty page"),
    (FRONT + "# P {#Mauvais_ID}\n## C\n### Page\nx\n", 7, "invalid id"),
    (FRONT + '# P\n## C {menu_label="un \\q"}\n### Page\nx\n', 8, "cannot read"),
    ("---\ntitle: T\ndepth: 4\n---\n# P\n", 3, "depth must be 2 or 3"),
])
def test_errors_carry_the_md_line(text, line, words):
    found = problems(text)
    assert any(p.line == line and words in (p.message + p.field) for p in found), found


def test_markdown_and_guide_problems_come_in_one_report():
    found = problems("---\nid: Pas_Un_Id\ntitle: T\n---\n# P\n## C\n### Page\n\n> Juste une citation\n")
    assert [(p.line, p.field or p.message) for p in found] == [
        (2, "id"), (9, "a quote (`>`) that is not a callout")]


def test_a_missing_title_is_reported_like_yaml():
    found = problems("---\npublisher: P\ndescription: D\ndate: 2024-01-01\n---\n# P\n## C\n### Page\nx\n")
    assert [(p.field, p.message) for p in found] == [("title", "missing required field")]


@pytest.mark.parametrize("text", ["*pas d'emphase*", "1. pas une liste", "# pas un titre", "- pas un tiret",
                                  "a & b &amp; c", "<b>gras</b>", "[x](https://a.fr)", "> pas une citation",
                                  "ligne\nsuivante", "un \\ seul", "`code`", "+33 1 23", "{#pas-un-id}"])
def test_special_characters_survive_the_round_trip(text):
    title = text.replace("\n", " ")  # a heading is one line
    src = parse_yaml(dump_yaml({"title": "T", "publisher": "P", "description": "D", "date": "2024-01-01",
                                "parts": [{"id": "p", "title": title, "chapters": [
                                    {"id": "c", "title": "C", "pages": [
                                        {"id": "x", "title": title, "blocks": [{"p": text}, {"list": [text]},
                                                                              {"attention": text}]}]}]}]}), "g.yaml")
    a = parse_guide(src, "g.yaml", "g")
    b = parse_guide(parse_markdown(to_markdown(src), "g.md"), "g.md", "g")
    assert guide_signature(a) == guide_signature(b)


def test_esante_round_trips_yaml_markdown_yaml(tmp_path):
    runner = CliRunner()
    md, yaml_ = tmp_path / "md" / "guide.md", tmp_path / "back" / "guide.yaml"
    for src, dst in ((ESANTE / "guide.yaml", md), (md, yaml_)):
        r = runner.invoke(cli, ["convert", str(src), str(dst)])
        assert r.exit_code == 0, r.output
    original, via_md, back = load_guide(ESANTE), load_guide(md), load_guide(yaml_)
    for other in (via_md, back):
        other.id = original.id  # the folders' names differ; the guide's `id:` travels in the details
        assert guide_signature(other) == guide_signature(original)
        assert narration(other) == narration(original)
    assert len(narration(original)) > 40
    assert load_yaml(yaml_)["lexicon"] == load_yaml(ESANTE / "guide.yaml")["lexicon"]


def test_convert_refuses_to_overwrite(tmp_path):
    target = tmp_path / "guide.md"
    target.write_text("mine")
    r = CliRunner().invoke(cli, ["convert", str(ESANTE / "guide.yaml"), str(target)])
    assert r.exit_code == 2 and "already exists" in r.output and target.read_text() == "mine"


def test_damaged_markdown_gives_guide_errors_never_a_crash():
    """Lines of a real guide cut, doubled, re-indented or prefixed with Markdown marks: always a clean result."""
    import random

    lines = (MD / "grippe" / "guide.md").read_text().split("\n")
    marks = ["#", "##", "> ", "- ", "```", "    ", "{#", "**", "[", "---", "> **Attention :**", '{a="\\q"}']
    rng = random.Random(14)
    loaded = refused = 0
    for _ in range(300):
        damaged = list(lines)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(damaged))
            op = rng.randrange(4)
            if op == 0:
                damaged[i] = rng.choice(marks) + damaged[i]
            elif op == 1:
                damaged[i] = damaged[i][: rng.randrange(len(damaged[i]) + 1)]
            elif op == 2:
                damaged.insert(i, damaged[i])
            else:
                damaged[i] += rng.choice(marks)
        try:
            parse_guide(parse_markdown("\n".join(damaged), "g.md"), "g.md", "g")
            loaded += 1
        except GuideError as exc:
            assert all(p.file == "g.md" and p.message for p in exc.problems)
            refused += 1
    assert loaded > 30 and refused > 30  # both outcomes were exercised


def test_a_markdown_problem_points_to_its_line_and_column():
    """What `check` prints: file:line:column, so an editor jumps to the stray text."""
    with pytest.raises(GuideError) as e:
        parse_markdown("---\ntitle: Test\n---\n\nTexte perdu.\n\n# Chapitre\n\n## Page\n\nUn texte.\n", "guide.md")
    assert [str(p).split("\n")[0] for p in e.value.problems] == ["guide.md:5:1: text before the first chapter"]
