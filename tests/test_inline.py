"""Inline markup (bold, italics, links, stray HTML) is read once, the same way for Markdown and YAML guides."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from audioguide.exceptions import PublishError
from audioguide.guide import load_guide, parse_guide
from audioguide.guide.markdown import parse_markdown
from audioguide.guide.yamlsrc import parse_yaml
from audioguide.narration.inline import plain, stressed, to_html
from audioguide.narration.script import ScriptWriter
from audioguide.narration.written import written_form
from audioguide.publishers.book import well_formed
from audioguide.publishers.fulltext import guide_html, guide_text

from conftest import DATA, needs_tools, settings_for

FRONT = "---\ntitle: T\npublisher: P\ndescription: D\ndate: 2024-01-01\n---\n"
TEXTS = ["Voir [le site ameli](https://www.ameli.fr/assure) pour vos droits.",
         "Un mot en <b>html</b> et un **mot fort**, puis *un autre*.",
         "Une adresse : <https://www.sante.fr/>."]


def _both() -> tuple:
    md = FRONT + "# C\n## Page\n\n" + "\n\n".join(TEXTS) + "\n\n- " + TEXTS[0] + "\n- " + TEXTS[1] + "\n"
    yml = ("title: T\npublisher: P\ndescription: D\ndate: 2024-01-01\nchapters:\n- id: c\n  title: C\n  pages:\n"
           "  - id: page\n    title: Page\n    blocks:\n" + "".join(f"    - p: {json.dumps(t)}\n" for t in TEXTS)
           + f"    - list: [{json.dumps(TEXTS[0])}, {json.dumps(TEXTS[1])}]\n")
    return (parse_guide(parse_markdown(md, "g.md"), "g.md", "g"), parse_guide(parse_yaml(yml, "g.yaml"), "g.yaml", "g"))


def _said(guide) -> list[tuple[str, str]]:
    w = ScriptWriter(guide)
    return [(s.text, s.written) for c in guide.chapters for p in w.chapter(c) for s in p.segments]


def test_markdown_and_yaml_give_the_same_narration_and_transcripts():
    md, yml = _both()
    assert _said(md) == _said(yml)
    assert guide_text(md) == guide_text(yml) and guide_html(md) == guide_html(yml)


def test_a_link_in_running_text_keeps_its_address_and_html_is_not_said():
    md, _ = _both()
    written = [w for _, w in _said(md)]
    spoken = " ".join(s for s, _ in _said(md))
    assert "Voir le site ameli (www.ameli.fr/assure) pour vos droits." in written
    assert "Un mot en html et un mot fort, puis un autre." in written
    assert "Une adresse : www.sante.fr." in written
    assert "ameli" in spoken and " b," not in spoken and "<" not in spoken
    assert "www.ameli.fr/assure" in guide_text(md)
    page = guide_html(md)
    assert '<a href="https://www.ameli.fr/assure">le site ameli</a>' in page
    assert "<strong>mot fort</strong>" in page and "<em>un autre</em>" in page and "<b>" not in page


def test_reading_keeps_text_that_is_not_markup():
    assert written_form("Guide d'essai & <test>") == "Guide d'essai & <test>"
    assert written_form("Tarif <b>réduit</b><br/> pour tous") == "Tarif réduit pour tous"
    assert plain("[ameli.fr](https://ameli.fr)") == "ameli.fr"  # the label is the address: said once
    assert stressed("**a** et *b*, __c__ et **d *e***") == [("a", "**"), ("b", "*"), ("c", "**"), ("d e", "**")]


@pytest.mark.parametrize("text", ["Voir la note ****_*importante*_ ici.", "**a *b** c*", "*a **b* c**",
                                  "[**x](y)** z", "<b>**a</b>**", "_a *b_ c*"])
def test_crossed_emphasis_gives_well_formed_html(text):
    etree.fromstring(f"<p>{to_html(text)}</p>")


def test_an_ill_formed_book_document_is_refused():
    good = b'<html xmlns="http://www.w3.org/1999/xhtml"><body><p>a</p></body></html>'
    assert well_formed({"a.xhtml": good, "mimetype": b"application/epub+zip"}, "EPUB")
    with pytest.raises(PublishError) as err:
        well_formed({"a.xhtml": good, "EPUB/b.xhtml": b"<p><strong>a<em>b</strong></em></p>"}, "EPUB")
    assert "EPUB/b.xhtml" in err.value.message and "line 1" in err.value.message


@needs_tools
def test_crossed_emphasis_in_a_guide_gives_well_formed_books(tmp_path):
    """Every XML file of the EPUB and of the DAISY book parses, with the stressed word kept."""
    from audioguide.build import build

    guide = tmp_path / "mini"
    shutil.copytree(DATA / "mini", guide)
    g = guide / "guide.yaml"
    g.write_text(g.read_text("utf-8").replace("Le DMP est un carnet de santé numérique.",
                                              "Voir la note ****_*importante*_ ici."), "utf-8")
    result = build(guide, settings_for(tmp_path, engine="silence"))
    out = result.out_dir
    with zipfile.ZipFile(out / result.manifest["downloads"]["epub"]["path"]) as z:
        docs = {n: z.read(n) for n in z.namelist() if n.endswith((".xhtml", ".smil", ".opf"))}
    docs.update({p.name: p.read_bytes() for p in (out / "daisy").iterdir() if p.suffix in (".html", ".smil")})
    for name, data in docs.items():
        etree.fromstring(data, etree.XMLParser(load_dtd=False, no_network=True)), name
    assert b"<em>importante</em>" in docs["EPUB/02-dmp.xhtml"] and b"<em>importante</em>" in docs["content.html"]


@pytest.mark.parametrize("text,shown", [
    ("Écrivez à <mailto:contact@asso.fr>.", "contact@asso.fr"),
    ("Écrivez [au service](mailto:accueil@cpam.fr).", "accueil@cpam.fr"),
    ("Ou [appelez-nous](tel:+33123456789).", "+33123456789"),
])
def test_mail_and_phone_links_are_said_and_shown_without_their_scheme(text, shown):
    """Word makes every typed e-mail address a mailto: link: the voice said "mailto" and the page showed it."""
    assert shown in plain(text) and "mailto" not in plain(text) and "tel:" not in plain(text)
    assert f">{shown}<" in to_html(text) or f"({shown})" in plain(text)
    said = ScriptWriter(load_guide(DATA / "mini")).say(written_form(text))
    assert "mailto" not in said and "tel" not in said.split()


@pytest.mark.parametrize("url,said", [("mailto:contact@asso.fr", "contact arobase asso point f r"),
                                      ("tel:+33123456789", "zéro un, vingt-trois"),
                                      ("https://www.ameli.fr/assure/droits", "ameli point f r")])
def test_a_link_block_says_its_address_without_the_scheme(url, said):
    """A link block says "label : host"; the host came from a regex of its own that knew only http(s)."""
    from audioguide.guide import Block

    segs = ScriptWriter(load_guide(DATA / "mini")).link(Block("link", text="Écrivez-nous", url=url))
    spoken = " ".join(s.text for s in segs)
    assert said in spoken and "mailto" not in spoken and "tel:" not in spoken


def test_inline_markup_is_read_in_one_place():
    """One reader (narration.inline) with its renderers: no other module parses inline Markdown or keeps its own
    list of invisible characters (three copies had drifted apart before)."""
    src = Path(__file__).resolve().parent.parent / "src" / "audioguide"
    readers, invisible = [], []
    for path in sorted(src.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(src).as_posix()
        if re.search(r"^\s*(?:from|import) markdown_it\b(?!\.token)", text, re.M):
            readers.append(name)
        if "\\u200b" in text or "\u200b" in text:
            invisible.append(name)
    assert readers == ["narration/inline.py"]
    assert invisible == ["narration/inline.py"]


def test_the_html_and_the_books_stress_the_same_italics():
    """`_mot_` and `*mot*` are both italics for the HTML transcript and for the books' re-marked sentences."""
    from audioguide.publishers.fulltext import inline_html

    for text in ("un _mot_ ici", "un *mot* ici"):
        assert inline_html(text) == to_html(text) == "un <em>mot</em> ici"
        assert stressed(text) == [("mot", "*")]
        assert inline_html(f"un {stressed(text)[0][1]}mot{stressed(text)[0][1]} ici") == "un <em>mot</em> ici"
