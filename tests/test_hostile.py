"""Hostile guides: `check` and `build` refuse each with a located, plain message and exit 2, never a traceback,
and leave nothing half-written. Then guides that look hostile but are valid build cleanly (one with espeak-ng).

The corpus is issue 17's red-team findings (#7, #8 and the "Low … inputs" items) and issue 18's U+FFFE.
Every CLI run is a real subprocess under a memory and time limit, so a regression (an alias bomb expanding)
fails the test instead of exhausting the shared machine.
"""

from __future__ import annotations

import hashlib
import re
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import needs_tools

BASE = """\
title: Guide hostile
publisher: Association Test
description: Un guide pour les essais hostiles.
date: 2024-03-01
parts:
  - id: sante
    title: Santé
    chapters:
      - id: dmp
        title: Le DMP
        pages:
          - id: un
            title: Première page
            blocks:
              - p: Le DMP est un carnet de santé numérique.
"""
PAGE = "          - {{id: p{i}, title: Page {i}, blocks: [p: Texte {i}.]}}\n"
BOMB = "".join(f"{a}: &{a} [{', '.join([f'*{b}'] * 9) if b else ', '.join(['lol'] * 9)}]\n"
               for a, b in zip("abcdefghi", [""] + list("abcdefgh")))


def _limit_memory():  # runs in the child: 2 GiB of address space is plenty for a small guide
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def cli(*args: str, tmp: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    # English messages: the cases assert the msgids (tests/test_i18n.py checks the French).
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "AUDIOGUIDE_CACHE": str(tmp / "cache"), "LANG": "C.UTF-8",
           "LANGUAGE": "en"}
    return subprocess.run([sys.executable, "-m", "audioguide", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, preexec_fn=_limit_memory)


def write_guide(tmp: Path, text: str | bytes) -> Path:
    d = tmp / "guide"
    d.mkdir(exist_ok=True)
    p = d / "guide.yaml"
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return d


@dataclass
class Case:
    name: str
    text: str
    marker: str
    """A piece of the line the problem must be reported on."""
    field: str
    message: str
    fix: bool = True
    """Whether the message must carry a `Fix:` line."""


def _sub(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


CASES = [
    Case("alias-bomb", BOMB + BASE, "a: &a", "", "anchors (&name) and aliases (*name) are not allowed"),
    Case("alias", _sub("publisher: Association Test", "publisher: &p Association Test\nauthor: *p"),
         "publisher: &p", "", "anchor &p"),
    Case("impossible-date", _sub("date: 2024-03-01", "date: 2024-02-30"), "date:", "date", "not a real date"),
    Case("impossible-hour", _sub("date: 2024-03-01", "date: 2024-03-01 25:00:00"), "date:", "date",
         "not a real date"),
    Case("nul-escape-in-title", _sub("title: Guide hostile", 'title: "Guide\\u0000hostile"'), "title: \"Guide",
         "title", "U+0000"),
    Case("bell-escape-in-page-title", _sub("title: Première page", 'title: "Première\\apage"'), "Première",
         "parts[0].chapters[0].pages[0].title", "U+0007"),
    Case("newline-in-publisher", _sub("publisher: Association Test", 'publisher: "Association\\nTest"'),
         "publisher:", "publisher", "line break"),
    Case("paragraph-separator-in-title", _sub("title: Guide hostile", 'title: "Guide\\u2029hostile"'),
         "title: \"Guide", "title", "U+2029"),
    Case("next-line-in-paragraph", _sub("- p: Le DMP est un carnet de santé numérique.",
                                             '- p: "Le DMP est\\u0085un carnet de santé numérique."'), "- p:",
         "parts[0].chapters[0].pages[0].blocks[0].p", "U+0085"),
    Case("escape-in-bare-paragraph", _sub("- p: Le DMP est un carnet de santé numérique.",
                                          '- "Le DMP\\x1b[31m est un carnet."'), "[31m",
         "parts[0].chapters[0].pages[0].blocks[0]", "U+001B"),
    Case("fffe-raw", _sub("title: Guide hostile", "title: Guide\ufffehostile"), "title: Guide", "",
         "U+FFFE"),
    Case("fffe-escape-in-chapter-title", _sub("title: Le DMP", 'title: "Le\\uFFFEDMP"'), "title: \"Le",
         "parts[0].chapters[0].title", "U+FFFE"),
    Case("control-in-email", _sub("date: 2024-03-01", 'date: 2024-03-01\nemail: "a\\x01b@asso.example"'),
         "email:", "email", "U+0001"),
    Case("control-in-lexicon", _sub("date: 2024-03-01", 'date: 2024-03-01\nlexicon: {DMP: "dé\\x1bèmpé"}'),
         "lexicon:", "lexicon.DMP", "U+001B"),
    Case("256-pages", BASE + "".join(PAGE.format(i=i) for i in range(255)), "pages:",
         "parts[0].chapters[0].pages", "too many pages: 256, limit 255"),
    Case("javascript-base-url", _sub("date: 2024-03-01", 'date: 2024-03-01\nbase_url: "javascript:alert(1)"'),
         "base_url:", "base_url", "must start with http:// or https://"),
    Case("base-url-with-space-and-quote",
         _sub("date: 2024-03-01", "date: 2024-03-01\nbase_url: 'https://asso.example/mon guide\"/'"),
         "base_url:", "base_url", "must not contain spaces, quotes"),
    Case("base-url-with-query", _sub("date: 2024-03-01", "date: 2024-03-01\nbase_url: https://asso.example/?a=1"),
         "base_url:", "base_url", "?query"),
    Case("long-narration", _sub("            blocks:\n              - p: Le DMP est un carnet de santé numérique.\n",
                                "            narration: " + "Bonjour à tous. " * 1300 + "\n"),
         "narration:", "parts[0].chapters[0].pages[0].narration", "too long (20799 characters, limit 20000)"),
    Case("long-title", _sub("title: Guide hostile", "title: " + "Très long titre " * 13), "title: Très",
         "title", "too long (207 characters, limit 200)"),
    Case("5000-digit-number", _sub("- p: Le DMP est un carnet de santé numérique.", "- p: Code " + "7" * 5000),
         "- p: Code", "parts[0].chapters[0].pages[0].blocks[0].p", "a number of 5000 digits"),
    Case("deep-nesting", BASE + "lexicon: " + "[" * 40 + "]" * 40 + "\n", "lexicon:", "",
         "nested more than 32 levels"),
    Case("python-tag", _sub("title: Guide hostile", "title: !!python/object/apply:os.system [\"true\"]"),
         "title:", "title", "wrong type", fix=False),
    Case("unknown-tag", _sub("title: Guide hostile", "title: !secret Guide"), "title:", "title",
         "YAML value error"),
    Case("two-documents", BASE + "---\ntitle: Encore\n", "---", "", "a single document"),
]


def expected(case: Case) -> re.Pattern:
    line = next(i for i, text in enumerate(case.text.split("\n"), 1) if case.marker in text)
    field = f"{re.escape(case.field)}: " if case.field else ""
    return re.compile(rf"guide\.yaml:{line}:\d+: {field}[^\n]*{re.escape(case.message)}")


def test_the_base_guide_is_valid(tmp_path):
    proc = cli("check", str(write_guide(tmp_path, BASE)), tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "OK: 'Guide hostile': 1 part, 1 chapter, 1 page." in proc.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_and_build_refuse_with_a_located_message(tmp_path, case):
    guide, out = write_guide(tmp_path, case.text), tmp_path / "out"
    for args in (["check", str(guide)],
                 ["build", str(guide), "--engine", "silence", "--out", str(out), "--jobs", "1"]):
        proc = cli(*args, tmp=tmp_path)  # the default 120 s: only against a hang, room for a busy machine
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert proc.returncode == 2, (args[0], proc.stderr[-3000:])
        assert expected(case).search(proc.stderr), (args[0], expected(case).pattern, proc.stderr[:3000])
        assert "Fix: " in proc.stderr or not case.fix
    assert not out.exists()  # refused before the output folder is touched


@pytest.mark.parametrize("url,message", [
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("https://asso.example/mon guide/", "must not contain spaces, quotes"),
    ("https://asso.example/\"x\"/", "must not contain spaces, quotes"),
    ("https:///guide/", "has no server name"),
    ("https://asso.example:99999/", "not a valid address"),
])
def test_base_url_option_is_refused_like_the_guide_field(tmp_path, url, message):
    out = tmp_path / "out"
    proc = cli("build", str(write_guide(tmp_path, BASE)), "--engine", "silence", "--out", str(out),
               "--base-url", url, tmp=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert message in proc.stderr and "base URL" in proc.stderr
    assert not out.exists()


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@needs_tools
def test_a_refused_rebuild_leaves_the_previous_output_untouched(tmp_path):
    """Before the fix, a NUL in the title passed validation, re-encoded and re-tagged every MP3, then died in
    the VoiceXML writer: the published folder mixed the new audio with the old feed."""
    guide, out = write_guide(tmp_path, BASE), tmp_path / "out"
    proc = cli("build", str(guide), "--engine", "silence", "--out", str(out), "--jobs", "1", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    before = _snapshot(out)
    assert "feed.xml" in before and any(re.fullmatch(r"audio/01-dmp\.[0-9a-f]{12}\.mp3", f) for f in before)
    for name in ("nul-escape-in-title", "newline-in-publisher", "impossible-date"):
        write_guide(tmp_path, next(c for c in CASES if c.name == name).text)
        proc = cli("build", str(guide), "--engine", "silence", "--out", str(out), "--jobs", "1", tmp=tmp_path)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (name, proc.stderr[-3000:])
        assert _snapshot(out) == before, name


def test_id3_tables_of_contents_hold_at_most_255_entries(tmp_path):
    """Why MAX_TOC_ENTRIES is 255: a CTOC frame stores its entry count in one byte (ID3v2 chapter addendum)."""
    from mutagen.id3 import CTOC, ID3, CTOCFlags

    from audioguide.guide import MAX_TOC_ENTRIES

    assert MAX_TOC_ENTRIES == 255
    for n, ok in ((255, True), (256, False)):
        tags = ID3()
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL, child_element_ids=[f"p{i}" for i in range(n)]))
        path = tmp_path / f"{n}.id3"
        if ok:
            tags.save(str(path), v2_version=3)
            assert len(ID3(str(path))["CTOC:toc"].child_element_ids) == n
        else:
            with pytest.raises(ValueError, match=r"range\(0, 256\)"):  # the count byte overflows
                tags.save(str(path), v2_version=3)


def test_255_pages_pass_check(tmp_path):
    text = BASE + "".join(PAGE.format(i=i) for i in range(254))
    proc = cli("check", str(write_guide(tmp_path, text)), tmp=tmp_path)
    assert proc.returncode == 0 and "255 pages" in proc.stdout, proc.stderr[-3000:]


def test_cover_survives_line_breaks_and_separators():
    """Defence in depth behind validation: Pillow refuses multi-line text and fails on U+2029, U+0085…"""
    from audioguide.publishers.cover import make_cover

    jpeg = make_cover("Guide\u2029hostile\r\x1c\x85", "Sous\ntitre", "Association\nTest")
    assert jpeg[:3] == b"\xff\xd8\xff"


def test_feed_writer_drops_what_xml_cannot_carry():
    """Defence in depth: every text and attribute of the feed is cleaned, email and link included."""
    from lxml import etree

    from audioguide.publishers.podcast import build_feed

    manifest = {
        "guide": {"id": "g", "title": "T\x00itre", "subtitle": "", "publisher": "P\ufffe", "description": "D\x1b",
                  "date": "2024-03-01", "link": "https://asso.example/\x01", "email": "a\x02@asso.example",
                  "rights": "R\ud800", "language": "fr-FR", "parts": [],
                  "levels": {"part": {"noun": "partie\x07", "feminine": True},
                             "chapter": {"noun": "sujet", "feminine": False},
                             "page": {"noun": "page\x03", "feminine": True}}},
        "cover": "cover.jpg",
        "chapters": [{"id": "c", "number": 1, "title": "C\x0b", "part": None, "mp3": "audio/01-c.mp3", "bytes": 1,
                      "duration": 1.0, "pages": [{"title": "P\x0c", "start": 0.0}],
                      "transcript": {"txt": "t.txt", "srt": "t.srt", "vtt": "t.vtt"}, "chapters_json": "c.json"}],
    }
    root = etree.fromstring(build_feed(manifest, "https://asso.example/g/"))
    assert root.find("channel/title").text == "Titre"
    assert root.find("channel/{http://www.itunes.com/dtds/podcast-1.0.dtd}owner/"
                     "{http://www.itunes.com/dtds/podcast-1.0.dtd}email").text == "a@asso.example"


TRICKY = BASE.replace("title: Guide hostile", 'title: "Essai {{DATA}} {{TITLE}} <b>&amp;</b>"', 1).replace(
    "date: 2024-03-01", "date: 2024-03-01\nrights: \"{{FOOTER}} {{DATA}}\"\n"
    "base_url: https://asso.example/guides/santé\nlink: https://Santé.example/", 1).replace(
    "              - p: Le DMP est un carnet de santé numérique.\n",
    "              - p: \"Le DMP 🙂 est\\u200b un carnet\\tde santé numérique.\"\n"
    "          - id: deux\n            title: \"Deuxième page {{DATA}}\"\n"
    "            blocks: [p: Fin.]\n", 1)


@needs_tools
@pytest.mark.e2e
def test_valid_but_tricky_guide_builds_with_espeak(tmp_path):
    """Real espeak-ng and ffmpeg: placeholders in texts stay text, non-ASCII addresses are encoded."""
    from lxml import etree, html
    from mutagen.id3 import ID3

    title = "Essai {{DATA}} {{TITLE}} <b>&amp;</b>"
    out = tmp_path / "out"
    proc = cli("build", str(write_guide(tmp_path, TRICKY)), "--out", str(out), "--jobs", "1", tmp=tmp_path,
               timeout=600)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]

    import json

    mp3 = json.loads((out / "manifest.json").read_text("utf-8"))["chapters"][0]["mp3"]
    assert re.fullmatch(r"audio/01-dmp\.[0-9a-f]{12}\.mp3", mp3)
    tags = ID3(str(out / mp3))
    assert tags["TALB"].text == [title]
    assert [tags[k].sub_frames["TIT2"].text[0] for k in sorted(tags) if k.startswith("CHAP")] == \
        ["Première page", "Deuxième page {{DATA}}"]

    feed = etree.fromstring((out / "feed.xml").read_bytes())
    assert feed.find("channel/title").text == title
    assert feed.find("channel/link").text == "https://xn--sant-epa.example/"
    urls = [e.get("url") for e in feed.iter("enclosure")]
    assert urls[:1] == [f"https://asso.example/guides/sant%C3%A9/{mp3}"]  # then the whole guide, a bonus

    page = html.fromstring((out / "kiosk" / "index.html").read_bytes())
    assert page.findtext("head/title") == f"{title} — guide audio"
    assert page.get_element_by_id("guide-title").text_content() == title
    assert "{{FOOTER}} {{DATA}}" in page.find(".//footer").text_content()
    data = page.get_element_by_id("guide-data").text
    assert data.startswith("{") and "{{DATA}}" in data  # the guide's text, inside the one data blob
    assert len(page.findall(".//script[@id='guide-data']")) == 1
