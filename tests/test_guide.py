"""Guide validation: every problem reported at once, with file, line and field; never a traceback."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from audioguide.exceptions import GuideError
from audioguide.guide import load_guide

GOOD_HEAD = """\
title: Essai
publisher: Asso
description: Un essai.
date: 2024-01-01
"""


D = textwrap.dedent


def write(tmp_path: Path, text: str, name="guide.yaml") -> Path:
    d = tmp_path / "g"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(text, encoding="utf-8")
    return d


def problems(tmp_path, text) -> list:
    with pytest.raises(GuideError) as exc:
        load_guide(write(tmp_path, text))
    return exc.value.problems


def test_valid_minimal(tmp_path):
    g = load_guide(write(tmp_path, GOOD_HEAD + D("""\
        parts:
          - id: a
            title: A
            chapters:
              - id: c
                title: C
                pages:
                  - id: p
                    title: P
                    blocks: [p: Bonjour.]
        """)))
    assert g.id == "g" and g.chapters[0].slug == "01-c" and g.chapters[0].part.number == 1


def test_every_problem_reported_with_line_and_field(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD + D("""\
        titel: oops
        parts:
          - id: a
            title: A
            chapters:
              - id: c
                pages:
                  - id: p
                    title: P
                    blocks:
                      - paragraf: texte
                  - id: p
                    title: Deux
                    blocks: [p: Texte.]
              - id: vide
                title: Vide
                pages: []
        """))
    text = "\n".join(map(str, ps))
    assert "guide.yaml:5:1: titel: unknown key" in text and "did you mean 'title'?" in text
    assert any(p.field == "parts[0].chapters[0].title" and p.message == "missing required field" for p in ps)
    assert any("unknown block kind 'paragraf'" in p.message and "did you mean 'p'" in (p.fix or "") for p in ps)
    dup = [p for p in ps if "duplicate id 'p'" in p.message][0]
    assert dup.line == 16 and dup.field == "parts[0].chapters[0].pages[1].id"
    assert any(p.message.startswith("empty chapter") for p in ps)
    assert len(ps) >= 5


def test_yaml_syntax_error_has_line(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD + "parts: [\n  - id: a\n")
    assert ps[0].line is not None and "YAML syntax error" in ps[0].message


def test_tab_indentation(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD + "parts:\n\t- id: a\n")
    assert ps[0].line == 6 and "tab" in ps[0].message and "spaces" in ps[0].fix


def test_not_utf8(tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    (d / "guide.yaml").write_bytes((GOOD_HEAD + "subtitle: caf\xe9\n").encode("latin-1"))
    with pytest.raises(GuideError) as exc:
        load_guide(d)
    p = exc.value.problems[0]
    assert p.line == 5 and "UTF-8" in p.message and "Latin-1" in p.fix


def test_bom_and_control_chars(tmp_path):
    d = tmp_path / "g"
    d.mkdir()
    (d / "guide.yaml").write_bytes(b"\xef\xbb\xbf" + (GOOD_HEAD + "subtitle: a\x07b\n").encode())
    with pytest.raises(GuideError) as exc:
        load_guide(d)
    msgs = [p.message for p in exc.value.problems]
    assert any("BOM" in m for m in msgs) and any("U+0007" in m for m in msgs)


def test_wrong_types_and_empty_page(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD.replace("title: Essai", "title: 2024") + D("""\
        parts:
          - id: a
            title: A
            chapters:
              - id: c
                title: C
                pages:
                  - id: p
                    title: P
        """))
    assert any(p.field == "title" and "expected text, found a number" in p.message for p in ps)
    assert any("empty page" in p.message for p in ps)


@pytest.mark.parametrize("bad", ["../evil", "/abs", "Intro", "con", "a b", "x" * 80, "b"])
def test_ids_that_would_escape_or_collide(tmp_path, bad):
    ps = problems(tmp_path, GOOD_HEAD +  D(f"""\
        parts:
          - id: "{bad}"
            title: A
            chapters:
              - id: c
                title: C
                pages: [{{id: p, title: P, blocks: [p: x]}}]
          - id: b
            title: B
            chapters:
              - id: d
                title: D
                pages: [{{id: p, title: P, blocks: [p: x]}}]
        """))
    # "b" is a valid id, but the second part has it too: it is reported there, and nothing else is.
    want = "parts[1].id" if bad == "b" else "parts[0].id"
    assert [p.field for p in ps] == [want], [str(p) for p in ps]


def _two_parts(part2="b", chapter2="d", page2="q") -> str:
    return GOOD_HEAD + D(f"""\
        parts:
          - id: a
            title: A
            chapters:
              - id: c
                title: C
                pages:
                  - {{id: p, title: P, blocks: [p: x]}}
                  - {{id: {page2}, title: Q, blocks: [p: y]}}
          - id: {part2}
            title: B
            chapters:
              - id: {chapter2}
                title: D
                pages: [{{id: p, title: P, blocks: [p: z]}}]
        """)


@pytest.mark.parametrize("kw,field,first", [
    # Chapter ids name the MP3s and key the manifest, the build state and the phone nodes: across parts too.
    ({"chapter2": "c"}, "parts[1].chapters[0].id", "parts[0].chapters[0].id"),
    ({"page2": "p"}, "parts[0].chapters[0].pages[1].id", "parts[0].chapters[0].pages[0].id"),
    ({"part2": "a"}, "parts[1].id", "parts[0].id"),
])
def test_duplicate_ids_collide_and_are_refused(tmp_path, kw, field, first):
    ps = problems(tmp_path, _two_parts(**kw))
    dup = [p for p in ps if "duplicate id" in p.message]
    assert [p.field for p in dup] == [field], [str(p) for p in ps]
    assert first in dup[0].message and dup[0].line > 5


def test_the_same_page_id_in_two_chapters_is_fine(tmp_path):
    guide = load_guide(write(tmp_path, _two_parts()))  # page "p" is in chapters c and d: ids are per chapter
    assert [c.id for c in guide.chapters] == ["c", "d"]


def test_lexicon_loop(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD + D("""\
        lexicon:
          ABC: XYZ
          XYZ: ABC
        parts:
          - id: a
            title: A
            chapters:
              - id: c
                title: C
                pages: [{id: p, title: P, blocks: [p: x]}]
        """))
    assert any("loops" in p.message for p in ps)


def test_check_cli_reports_without_traceback(tmp_path):
    d = write(tmp_path, GOOD_HEAD + "parts:\n  - id: a\n    titl: A\n")
    proc = subprocess.run([sys.executable, "-m", "audioguide", "check", str(d)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "guide.yaml:7:5: parts[0].titl: unknown key" in proc.stderr
    assert "parts[0].title: missing required field" in proc.stderr


def test_missing_guide_file(tmp_path):
    with pytest.raises(GuideError) as exc:
        load_guide(tmp_path)
    assert "guide file not found" in str(exc.value)


# --- hostile input (issue 17 #7, #8, low inputs; issue 18's U+FFFE) --------------------------------------

ONE_PAGE = D("""\
    parts:
      - id: a
        title: A
        chapters:
          - id: c
            title: C
            pages: [{id: p, title: P, blocks: [p: x]}]
    """)


def test_fffe_is_located_not_a_reader_traceback(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD + "subtitle: ab\ufffe\n" + ONE_PAGE)
    assert (ps[0].line, ps[0].column) == (5, 13) and "U+FFFE" in ps[0].message


def test_any_yaml_reader_error_is_located():
    import yaml

    from audioguide.guide.yamlsrc import _yaml_problem

    text = "title: ok\nsubtitle: é\ufffe\n"
    # libyaml gives a byte offset: the problem is found by the character, not by the offset.
    p = _yaml_problem(yaml.reader.ReaderError("<str>", 99, 0xFFFE, "utf-8", "control characters are not allowed"),
                      text, "g.yaml")
    assert (p.line, p.column) == (2, 12) and "U+FFFE" in p.message and p.fix


def test_anchors_and_aliases_are_refused_where_they_are(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD + "subtitle: &s Sous\nauthor: *s\n" + ONE_PAGE)
    assert len(ps) == 1 and (ps[0].line, ps[0].column) == (5, 11)
    assert "anchor &s" in ps[0].message and "(2 anchors and aliases in the file)" in ps[0].message


def test_impossible_date_is_located(tmp_path):
    ps = problems(tmp_path, GOOD_HEAD.replace("2024-01-01", "2023-02-29") + ONE_PAGE)
    assert (ps[0].field, ps[0].line, ps[0].column) == ("date", 4, 7) and "not a real date" in ps[0].message


@pytest.mark.parametrize("n,ok", [(200, True), (201, False)])
def test_title_limit(tmp_path, n, ok):
    text = GOOD_HEAD.replace("title: Essai", "title: " + "é" * n) + ONE_PAGE
    if ok:
        assert load_guide(write(tmp_path, text)).title == "é" * n
    else:
        assert problems(tmp_path, text)[0].message == "too long (201 characters, limit 200)"


def test_line_breaks_allowed_in_paragraphs_refused_in_titles(tmp_path):
    text = GOOD_HEAD.replace("description: Un essai.", 'description: "Un\\nessai."') + ONE_PAGE.replace(
        "blocks: [p: x]", 'blocks: [p: "ligne\\nsuivante\\tici"]')
    g = load_guide(write(tmp_path, text))
    assert g.description == "Un\nessai." and g.chapters[0].pages[0].blocks[0].text == "ligne\nsuivante\tici"
    ps = problems(tmp_path, text.replace("title: P,", 'title: "P\\nQ",'))
    assert [p.field for p in ps] == ["parts[0].chapters[0].pages[0].title"] and "line break" in ps[0].message


def test_toc_limit_counts_the_intro_with_the_parts(tmp_path):
    part = "  - {id: p%d, title: P, chapters: [{id: c%d, title: C, pages: [{id: p, title: P, blocks: [p: x]}]}]}\n"
    parts = "parts:\n" + "".join(part % (i, i) for i in range(255))
    assert len(load_guide(write(tmp_path, GOOD_HEAD + parts)).parts) == 255
    intro = "intro: {id: intro, title: I, pages: [{id: p, title: P, blocks: [p: x]}]}\n"
    ps = problems(tmp_path, GOOD_HEAD + intro + parts)
    assert ps[0].field == "parts" and "256, limit 255" in ps[0].message


@pytest.mark.parametrize("url,normal", [
    ("https://asso.example/e-sante", "https://asso.example/e-sante/"),
    ("HTTPS://Asso.Example:8443/guides/santé/", "https://asso.example:8443/guides/sant%C3%A9/"),
    ("https://santé.example/", "https://xn--sant-epa.example/"),
    ("http://[::1]:8000/x/", "http://[::1]:8000/x/"),
    ("https://asso.example/a%20b/", "https://asso.example/a%20b/"),
])
def test_web_address_normalises(url, normal):
    from audioguide.guide import web_address

    assert web_address(url, folder=True) == normal


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "file:///etc/passwd", "https://asso.example/a b/", "https://asso.example/a\"b/",
    "https://asso.example/<x>/", "https://u:p@asso.example/", "https://asso.example/?q=1", "https://asso.example/#top",
    "https://", "//asso.example/"])
def test_web_address_refuses(url):
    from audioguide.guide import web_address

    with pytest.raises(ValueError):
        web_address(url, folder=True)


def test_huge_file_is_refused_before_reading(tmp_path):
    d = write(tmp_path, GOOD_HEAD + ONE_PAGE)
    with open(d / "guide.yaml", "ab") as fh:
        fh.write(b"# " + b"x" * 12_000_000 + b"\n")
    with pytest.raises(GuideError) as exc:
        load_guide(d)
    assert "the file is 12 MB; a guide is at most 10 MB" in str(exc.value)
