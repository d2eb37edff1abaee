"""Markdown guides, fast: the message a volunteer reads for each mistake (file:line:column, cause and fix, as
`check` prints it), the ids headings get, and the Markdown `convert` writes. Seconds in all: the mutation group
"import" runs these instead of the e-santé round trip (see script/mutation)."""

from __future__ import annotations

import pytest

from audioguide.exceptions import GuideError
from audioguide.guide import parse_guide
from audioguide.guide.convert import convert, to_markdown
from audioguide.guide.markdown import load_markdown, parse_markdown
from audioguide.guide.yamlsrc import parse_yaml

FRONT = "---\ntitle: T\npublisher: P\ndescription: D\ndate: 2024-01-01\n---\n"  # the body starts at line 7
FRONT3 = FRONT.replace("2024-01-01\n", "2024-01-01\ndepth: 3\n")  # the body starts at line 8


def said(text: str) -> list[str]:
    """What `check` prints for a Markdown guide: each problem's place, message and fix."""
    with pytest.raises(GuideError) as exc:
        parse_guide(parse_markdown(text, "g.md"), "g.md", "g")
    return [str(p) for p in exc.value.problems]


# The three smallest guides: mutation testing runs the fastest tests first, and these end a reader that would go
# back instead of on (an endless loop elsewhere) with an IndexError.
def test_a_rule_alone_is_skipped():
    assert parse_markdown("---\n---\n***\n", "g.md") == {"chapters": []}


def test_a_code_block_alone_is_refused_once():
    with pytest.raises(GuideError) as exc:
        parse_markdown("---\n---\n    x\n", "g.md")
    assert [p.message for p in exc.value.problems] == ["missing required field", "a code block in a page",
                                                        "the guide has no chapters"]


def test_a_narration_block_alone_is_refused_once():
    with pytest.raises(GuideError) as exc:
        parse_markdown("---\n---\n```narration\nx\n```\n", "g.md")
    assert "hand-written narration outside a page" in [p.message for p in exc.value.problems]


@pytest.mark.parametrize("text, want", [
    ("---\n- a\n- b\n---\n# C\n", ["g.md:2:1: the details at the top must be `key: value` lines\n"
                                   "    Fix: write e.g. `title: Le titre du guide`"]),
    ("---\ntitle: T\n# C\n", ["g.md:1:1: the details at the top are opened by `---` but never closed\n"
                              "    Fix: add a line `---` after the last detail (after `title:`, `date:`…)"]),
    (FRONT + "# C {#id !!}\n## P\nx\n", ["g.md:7:1: cannot read the heading's `{#id !!}`\n"
                                         "    Fix: write e.g. {#mon-id} or {#mon-id menu_label=\"la vaccination\"}"]),
    (FRONT + '# C {menu_label="un \\q"}\n## P\nx\n', [
        "g.md:7:1: cannot read menu_label=\"un \\q\" in the heading's braces\n"
        "    Fix: write a backslash as \\\\ and a quote as \\\" inside the quotes"]),
    (FRONT + "# C\n\n```narration\nx\n```\n## P\ny\n", ["g.md:9:1: hand-written narration outside a page\n"
                                                         "    Fix: put the ```narration block under a page heading"]),
    (FRONT + "# C\n## {#id}\nx\n", ["g.md:8:1: a heading without a title\n    Fix: write the title after the #",
                                    "g.md:8:1: chapters[0].pages[0].title: is empty\n"
                                    "    Fix: write the text, or remove the line"]),
    (FRONT + "# A {.intro}\n## P\nx\n# B {.intro}\n## Q\ny\n", [
        "g.md:7:1: chapters: the guide has no chapters\n    Fix: add at least one chapter",
        "g.md:10:1: a second introduction\n    Fix: a guide has one introduction: give this chapter a part heading "
        "above it, or remove `.intro`"]),
    (FRONT, ["g.md:7:1: chapters: the guide has no chapters\n    Fix: add at least one chapter"]),
    (FRONT + "# C\n", ["g.md:7:1: chapters[0].pages: empty chapter: it has no pages\n"
                       "    Fix: add at least one page, or remove the chapter"]),
    (FRONT3 + "# P\n", ["g.md:8:1: parts[0].chapters: empty part: it has no chapters\n"
                        "    Fix: add at least one chapter, or remove the part"]),
    (FRONT3 + "# P\n## C\n", ["g.md:9:1: parts[0].chapters[0].pages: empty chapter: it has no pages\n"
                              "    Fix: add at least one page, or remove the chapter"]),
    (FRONT + "# P\n### Page\nx\n", ["g.md:8: the level ## is missing between # and ###\n"
                                    "    Fix: add a ## heading (a topic) above “### Page”, or write this heading "
                                    "with ##"]),
    ("---\ntitle: T\nchapters: []\n---\n# C\n## P\nx\n", [
        "g.md: chapters: `chapters:` cannot be in the details of a Markdown guide\n"
        "    Fix: write parts, chapters and pages as headings under the `---` line"]),
    (FRONT + "# C\n## P\n\n> Juste\n", ["g.md:10:1: a quote (`>`) that is not a callout\n"
                                        "    Fix: start it with a label in bold, e.g. `> **Attention :** …`; labels: "
                                        "Attention, Bon à savoir, À noter, Exemple, Important"]),
], ids=["front-list", "front-open", "braces", "braces-quote", "narration-outside", "no-title", "two-intros",
        "no-chapter", "empty-chapter", "empty-part", "empty-chapter-3", "skipped-level", "structure-key",
        "plain-quote"])
def test_each_markdown_mistake_is_said_at_its_line_with_the_fix(text, want):
    assert said(text) == want


def test_a_file_that_cannot_be_read_is_named_with_the_fix(tmp_path):
    bad = tmp_path / "guide.md"
    bad.write_bytes(FRONT.encode() + b"# C\n## P\nCaf\xe9\n")
    with pytest.raises(GuideError) as exc:
        load_markdown(bad, "guide.md")
    assert [str(p) for p in exc.value.problems] == [
        "guide.md:9: the file is not valid UTF-8\n    Fix: re-save it as UTF-8 (\"Unicode (UTF-8)\" in the editor's "
        "Save as)"]
    with pytest.raises(GuideError) as exc:
        load_markdown(tmp_path / "absent.md", "absent.md")
    assert [str(p) for p in exc.value.problems] == [
        "absent.md: cannot read the file (No such file or directory)\n"
        "    Fix: check the path and the file's permissions"]


def test_front_matter_may_end_with_dots_and_a_callout_label_may_keep_its_colon_outside():
    data = parse_markdown("---\ntitle: T\n...\n# C\n## P\n\n> **Attention** : Appelez le 15.\n", "g.md")
    assert data["title"] == "T"
    assert data["chapters"][0]["pages"][0]["blocks"][0] == {"attention": "Appelez le 15."}


def test_too_many_parts_are_said_at_the_first_heading():
    text = FRONT3 + "".join(f"# P{i}\n## C\n### P\nx\n" for i in range(256))
    assert said(text) == ["g.md:8:1: parts: too many parts (with the introduction): 256, limit 255 (an MP3's table of "
                          "contents cannot list more)\n    Fix: group the parts in two; listeners also navigate "
                          "shorter lists more easily"]


def test_a_link_alone_after_a_non_breaking_space_is_a_link_block():
    data = parse_markdown(FRONT + "# C\n## P\n\n&nbsp;[Le site](https://www.ameli.fr)\n", "g.md")
    assert data["chapters"][0]["pages"][0]["blocks"] == [{"link": {"url": "https://www.ameli.fr", "label": "Le site"}}]


def test_titles_without_letters_get_the_level_s_name_as_id_and_long_ids_are_cut_at_a_word():
    g = parse_guide(parse_markdown(FRONT3 + "# ???\n## ???\n### ???\nx\n### ???\ny\n# ???\n## Deux\n### Z\nz\n",
                                   "g.md"), "g.md", "g")
    assert [p.id for p in g.parts] == ["partie", "partie-2"]
    assert [(c.id, [p.id for p in c.pages]) for c in g.chapters] == [("chapitre", ["page", "page-2"]),
                                                                      ("deux", ["z"])]
    title = "« Un titre qui commence par un guillemet et qui est vraiment beaucoup trop long pour un identifiant »"
    g = parse_guide(parse_markdown(FRONT + f"# {title}\n## P\nx\n", "g.md"), "g.md", "g")
    assert g.chapters[0].id == "un-titre-qui-commence-par-un-guillemet-et-qui-est-vraiment-beauc"


HEAD = "title: T\npublisher: P\ndescription: D\ndate: 2024-01-01\n"


def test_convert_writes_the_intro_descriptions_numbered_ids_and_narration_fences(tmp_path):
    src = tmp_path / "g" / "guide.yaml"
    src.parent.mkdir()
    src.write_text(HEAD + """intro:
  id: intro
  title: Bienvenue
  pages:
  - {id: i, title: I, blocks: [{p: x}]}
chapters:
- id: c
  title: C
  description: "Premier.\\n\\nSecond."
  pages:
  - {id: a, title: A, blocks: [{p: x}]}
  - {id: a-2, title: A, narration: "Dit ``` ainsi."}
""")
    assert convert(src, tmp_path / "g" / "guide.md") == "Markdown"
    assert (tmp_path / "g" / "guide.md").read_text() == """\
---
title: T
publisher: P
description: D
date: 2024-01-01
depth: 2
---

# Bienvenue {#intro .intro}

## I

x

# C

Premier.

Second.

## A

x

## A

````narration
Dit ``` ainsi.
````
"""


def test_a_part_whose_title_has_no_letters_keeps_its_id_without_braces():
    data = parse_yaml(HEAD + "parts:\n- id: partie\n  title: '???'\n  chapters:\n  - id: c\n    title: C\n    pages:\n"
                      "    - {id: a, title: A, blocks: [{p: x}]}\n", "g.yaml")
    assert to_markdown(data).split("---\n")[-1] == "\n# ???\n\n## C\n\n### A\n\nx\n"


def test_convert_refuses_a_guide_it_would_change_and_writes_nothing(tmp_path):
    """Blank lines the Markdown cannot keep (three in a description): refused in words, no file written."""
    src = tmp_path / "g" / "guide.yaml"
    src.parent.mkdir()
    src.write_text(HEAD + 'chapters:\n- id: c\n  title: C\n  description: "Un.\\n\\n\\n\\nDeux."\n  pages:\n'
                   "  - {id: a, title: A, blocks: [{p: x}]}\n")
    with pytest.raises(GuideError) as exc:
        convert(src, tmp_path / "g" / "guide.md")
    assert [str(p) for p in exc.value.problems] == [
        f"{src}: this guide cannot be converted without losing something\n"
        "    Fix: please report it; meanwhile keep the guide in its current format"]
    assert not (tmp_path / "g" / "guide.md").exists()
