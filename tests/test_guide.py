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
