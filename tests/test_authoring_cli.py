"""toc, listen and new: what a volunteer runs before building a whole guide. listen uses real espeak-ng."""

from __future__ import annotations

import os
import stat
import wave

import pytest
from click.testing import CliRunner
from mutagen.mp3 import MP3

from audioguide.cli import cli
from audioguide.guide import load_guide

from conftest import DATA, ESANTE, needs_tools


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


def test_toc_lists_levels_ids_and_titles():
    r = run("toc", ESANTE)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("Se repérer dans la e-santé (e-sante): 15 chapters, 67 pages")
    assert "  chapter  introduction" in lines[1]
    assert any(ln.split()[:2] == ["part", "telesante"] and ln.endswith("Télésanté") for ln in lines)
    assert any(ln.split()[:2] == ["page", "e-sante-et-telesante/la-e-sante"] and ln.endswith("La e-santé")
               for ln in lines)
    g = load_guide(ESANTE)
    assert sum(ln.split()[0] == "page" for ln in lines[1:]) == sum(len(c.pages) for c in g.chapters)


def test_listen_unknown_page_lists_the_valid_ids():
    r = run("listen", DATA / "mini", "nope")
    assert r.exit_code == 1 and "No page or chapter 'nope'" in r.output
    assert "chapters: introduction, dmp" in r.output and "dmp/quest-ce-que-cest" in r.output
    assert "Traceback" not in r.output


@needs_tools
def test_listen_out_writes_one_page_then_a_chapter_through_the_cache(tmp_path):
    cache = tmp_path / "cache"
    page, chapter = tmp_path / "page.mp3", tmp_path / "chapter.wav"
    r = run("listen", DATA / "mini", "dmp/attention", "--out", page, "--cache", cache)
    assert r.exit_code == 0, r.output
    clips = sorted(p for p in cache.rglob("*") if p.is_file() and p.suffix == ".wav")
    assert clips, "the page's clips go to the cache"
    page_len = MP3(page).info.length
    assert 2 < page_len < 60
    r = run("listen", DATA / "mini", "dmp", "--out", chapter, "--cache", cache)
    assert r.exit_code == 0, r.output
    with wave.open(str(chapter)) as w:
        chapter_len = w.getnframes() / w.getframerate()
    assert chapter_len > page_len + 1  # both pages of the chapter
    again = tmp_path / "again.mp3"
    before = {p: p.stat().st_mtime_ns for p in clips}
    assert run("listen", DATA / "mini", "dmp/attention", "--out", again, "--cache", cache).exit_code == 0
    assert {p: p.stat().st_mtime_ns for p in clips} == before  # nothing synthesised again
    assert abs(MP3(again).info.length - page_len) < 0.1
    assert not list(tmp_path.glob(".*"))  # no half-written file left beside the output


def test_listen_refuses_an_unknown_audio_format(tmp_path):
    r = run("listen", DATA / "mini", "dmp/attention", "--out", tmp_path / "page.ogg", "--engine", "silence")
    assert r.exit_code == 1 and ".mp3 or .wav" in r.output and not (tmp_path / "page.ogg").exists()


@needs_tools
def test_listen_plays_with_the_player_found(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "played"
    script = fake / "ffplay"
    script.write_text(f'#!/bin/sh\nfor a; do last="$a"; done\ncp "$last" {log}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    r = run("listen", DATA / "mini", "bienvenue", "--engine", "silence", "--cache", tmp_path / "cache",
            env={"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"})
    assert r.exit_code == 0, r.output
    with wave.open(str(log)) as w:
        assert w.getnframes() > 0


def test_new_scaffolds_a_guide_that_checks_and_lists(tmp_path):
    folder = tmp_path / "vaccin-grippe"
    r = run("new", folder)
    assert r.exit_code == 0, r.output
    text = (folder / "guide.md").read_text()
    assert text.count("# ") > 3 and "README" in text  # commented for a first-time writer
    assert run("check", folder).exit_code == 0
    g = load_guide(folder)
    assert g.title == "Vaccin grippe" and g.lexicon == {"ARS": "spell"}
    assert [p.id for c in g.chapters for p in c.pages] == ["pourquoi-ce-guide", "qui-appeler"]
    assert [b.kind for b in g.chapters[0].pages[0].blocks] == ["p", "list", "attention", "link"]
    r = run("new", folder)
    assert r.exit_code == 1 and "already exists" in r.output


@pytest.mark.parametrize("verb", ["convert", "import", "schema", "toc", "listen", "new"])
def test_new_verbs_have_help(verb):
    r = run(verb, "--help")
    assert r.exit_code == 0 and len(r.output.splitlines()[2]) > 20


# --- YAML errors in plain words ------------------------------------------------------------------------

HEAD = "title: T\npublisher: P\ndescription: D\ndate: 2024-01-01\nparts:\n  - id: a\n    title: A\n    chapters:\n" \
       "      - id: c\n        title: C\n        pages:\n          - id: p\n            title: P\n            blocks:\n"


@pytest.mark.parametrize("body, line, message, fix", [
    # The case: a quote in the text closes the quoted text too early.
    ('              - p: "Il a dit "bonjour" hier"\n', 15, "ends too early",
     """write the line as:                - p: 'Il a dit "bonjour" hier'"""),
    ("              - p: 'L'accès aux soins'\n", 15, "apostrophe", """- p: "L'accès aux soins\""""),
    ('              - p: "Le texte\n              - p: suite\n', 15, "never closed", 'closing " at the end'),
    ("              - p: Attention : appelez le 15\n", 15, "colon followed by a space",
     "- p: 'Attention : appelez le 15'"),
    ("              - p: a\n             - p: b\n", 16, "starts with 13 spaces, but the item on line 15 starts "
     "with 14 spaces", "put 14 spaces before the dash"),
    ("          - id: q\n            title: Q\n              narration: x\n", 17, "indented more than line 16",
     "start `narration:` right under `title:`, with 12 spaces"),
    ("          - id: q\n            title: Q\n            - p: x\n", 17, "comes after `title: Q`",
     "add the key the list belongs to"),
    ("          - id: q\n           title: Q\n", 16, "starts with 11 spaces, which matches none",
     "12 spaces (like `- id: q`)"),
])
def test_yaml_errors_say_what_to_change_on_which_line(tmp_path, body, line, message, fix):
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "guide.yaml").write_text(HEAD + body)
    r = run("check", tmp_path / "g")
    assert r.exit_code == 2, r.output
    assert f"guide.yaml:{line}:" in r.output and message in r.output and fix in r.output, r.output
    if "write the line as:" in fix or "- p: " in fix:  # the suggested line is valid YAML and means the text
        suggested = r.output.rsplit(":  ", 1)[1].strip()
        lines = (HEAD + body).split("\n")
        lines[line - 1] = " " * 14 + suggested
        fixed = tmp_path / "fixed"
        fixed.mkdir()
        (fixed / "guide.yaml").write_text("\n".join(lines))
        assert run("check", fixed).exit_code == 0


@pytest.mark.french
def test_new_speaks_french_to_a_first_time_writer(tmp_path):
    """The example's comments, the command it shows, its title and the refusal to overwrite, as she reads them."""
    import datetime as dt

    folder = tmp_path / "_"
    assert run("new", folder).exit_code == 0
    text = (folder / "guide.md").read_text("utf-8")
    assert "\ntitle: Mon guide\n" in text  # a folder name without letters gives no empty title
    assert f"\n# date: {dt.date.today().isoformat()}   (facultatif : sans elle, le flux prend le jour de la " \
           "dernière modification de ce fichier)\n" in text
    assert "\n# 2 niveaux : `#` est un chapitre, `##` une page." in text
    assert f"audioguide listen {folder} qui-appeler\n" in text
    r = run("new", folder)
    assert r.exit_code == 1
    assert r.output.splitlines() == [f"Erreur : {folder / 'guide.md'} existe déjà.",
                                     "Solution : choisissez un nouveau dossier pour le nouveau guide"]


@pytest.mark.french
def test_a_problem_without_a_field_points_to_its_line_and_column(tmp_path):
    (tmp_path / "guide.md").write_text("---\ntitle: Test\n---\n\nTexte perdu.\n\n# Chapitre\n\n## Page\n\nUn texte.\n",
                                       encoding="utf-8")
    r = run("check", tmp_path)
    assert r.exit_code == 2
    assert r.output.splitlines()[:2] == ["Erreur : Le guide a 1 problème :",
                                         f"  {tmp_path / 'guide.md'}:5:1: du texte avant le premier chapitre"]


def test_toc_of_a_two_level_guide_lists_its_chapters_and_pages():
    r = run("toc", DATA / "md" / "two-level")
    assert r.exit_code == 0, r.output
    assert [line.split()[:2] for line in r.output.splitlines()[1:]] == [
        ["chapter", "pourquoi-se-vacciner"], ["page", "pourquoi-se-vacciner/les-risques"],
        ["chapter", "ou-se-vacciner"], ["page", "ou-se-vacciner/chez-le-pharmacien"]]


@pytest.mark.french
def test_listen_unknown_page_of_a_long_guide_names_twelve_pages_and_where_the_rest_are():
    r = run("listen", ESANTE, "nulle-part")
    assert r.exit_code == 1
    fix = r.output.splitlines()[1]
    assert fix.startswith("Solution : chapitres : introduction, e-sante-et-telesante,")
    pages = fix.split(" ; pages : ")[1]
    assert len(pages.split(" … ")[0].split(", ")) == 12
    assert pages.split(" … ")[1].startswith("(67 pages ; toutes dans `") and pages.endswith(" toc`)")


@pytest.mark.french
@pytest.mark.parametrize("extra, said", [(["a"], "Argument en trop (a)"), (["a", "b"], "Arguments en trop (a b)")])
def test_extra_arguments_are_named_in_french_singular_or_plural(extra, said):
    r = run("toc", DATA / "md" / "two-level", *extra)
    assert r.exit_code == 2
    assert r.output.splitlines()[0] == f"Erreur : Commande mal écrite : {said}"


@pytest.mark.french
def test_listen_refuses_an_unknown_audio_format_in_french(tmp_path):
    """It was said in English to a French volunteer."""
    r = run("listen", DATA / "mini", "dmp/attention", "--out", tmp_path / "page.ogg", "--engine", "silence")
    assert r.exit_code == 1 and not (tmp_path / "page.ogg").exists()
    assert r.output.splitlines() == ["Erreur : Impossible d'écrire page.ogg : le fichier doit finir par .mp3 ou .wav.",
                                     "Solution : par exemple --out page.mp3"]


def test_listen_unknown_page_of_a_thirteen_page_guide_still_names_twelve(tmp_path):
    pages = "".join(f"## Page {n}\n\nLe texte {n}.\n\n" for n in range(1, 14))
    (tmp_path / "guide.md").write_text(f"---\nid: treize\ntitle: Treize\n---\n\n# Chapitre\n\n{pages}",
                                       encoding="utf-8")
    r = run("listen", tmp_path, "nulle-part")
    assert r.exit_code == 1, r.output
    assert "chapitre/page-12 … (13 pages; all in `" in r.output and "page-13" not in r.output
