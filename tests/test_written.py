"""Written text for readers, spoken text for the voice: every text output shows the guide as written.

The e-santé guide is checked without audio (script writer + the publishers' text functions on times made up
for the purpose); the fixture guide is checked on a real build with espeak-ng.
"""

import json
import re

import feedparser
import pytest
from lxml import etree
from lxml import html as lhtml
from mutagen.id3 import ID3

from audioguide.guide import Block, Page, load_guide
from audioguide.narration.lexicon import SPELL, merged
from audioguide.narration.script import ScriptWriter
from audioguide.narration.written import join_sentences, split_sentences, written_form
from audioguide.phone.menu import build_menu
from audioguide.publishers import fulltext, kiosk, transcripts
from audioguide.publishers.book import Book
from audioguide.publishers.podcast import build_feed

from conftest import DATA, ESANTE, settings_for

SPELLED = re.compile(r"\b(?:[A-ZÉ]\.){2,}")  # "D.M.P.": a spelled acronym, for the voice only


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\W\d_]+", text.lower()))


def spoken_only(guide, scripts) -> set[str]:
    """Words the narration says that the guide never writes: respellings, numbers and addresses said aloud."""
    segs = [s for pages in scripts.values() for p in pages for s in p.segments]
    written = set().union(*(words(s.written) for s in segs), *(words(t) for t in guide_texts(guide)))
    return {w for w in set().union(*(words(s.text) for s in segs)) - written if len(w) > 1}


def guide_texts(guide) -> list[str]:
    out = [guide.title, guide.subtitle, guide.publisher, guide.description, guide.rights]
    for ch in guide.chapters:
        out += [ch.title, *(p.title for p in ch.pages)]
        for p in ch.pages:
            for b in p.blocks:
                out += [b.text, *b.items, *(c.text for c in b.children), *(i for c in b.children for i in c.items)]
    return [t for t in out if t]


def written_sentences(pages) -> list[str]:
    """Every written sentence of a chapter's body, in order (the frame excluded)."""
    return [line for p in pages for line in join_sentences([s for s in p.segments
                                                           if s.kind not in ("announce", "cue")]).splitlines()]


def assert_in_order(sentences: list[str], text: str, where: str) -> None:
    text = re.sub(r"\s+", " ", text)
    pos = 0
    for s in sentences:
        found = text.find(s, pos)
        assert found >= 0, f"{where}: missing or out of order: {s!r}"
        pos = found + len(s)


def assert_written(text: str, banned: set[str], where: str) -> None:
    assert not SPELLED.search(text), f"{where}: spelled acronym {SPELLED.search(text).group(0)!r}"
    leaked = words(text) & banned
    assert not leaked, f"{where}: spoken-only words {sorted(leaked)}"


def visible_text(markup: str) -> str:
    return lhtml.fromstring(markup).text_content()


def notes_of(entry) -> str:
    """The show notes (content:encoded) as feedparser hands them to an app."""
    return next(c.value for c in entry.content if c.type == "text/html")


def fake_chapters(guide, scripts) -> list[dict]:
    """Manifest chapter entries with made-up times: enough for every text output, no audio needed."""
    out = []
    for ch in guide.chapters:
        t, pages = 0.0, []
        for ps in scripts[ch.id]:
            start, cues = t, []
            for s in ps.segments:
                dur = max(1.2, len(s.text) / 15)
                cues.append({"start": round(t, 3), "end": round(t + dur, 3), "text": s.text, "written": s.written,
                             "kind": s.kind, "cont": s.cont})
                t += dur + s.pause_ms / 1000
            pages.append({"id": ps.page.id, "title": ps.page.title, "start": round(start, 3), "end": round(t, 3),
                          "cues": cues})
        out.append({"id": ch.id, "number": ch.number, "title": ch.title, "description": ch.description,
                    "part": {"id": ch.part.id, "number": ch.part.number, "title": ch.part.title} if ch.part else None,
                    "mp3": f"audio/{ch.slug}.mp3", "bytes": 1000, "duration": round(t, 3), "sha256": "0" * 64,
                    "transcript": {k: f"transcripts/{ch.slug}.{k}" for k in ("txt", "vtt", "srt")},
                    "chapters_json": f"chapters/{ch.slug}.json", "pages": pages})
    return out


def text_outputs(guide, chapters) -> dict[str, str]:
    """Every text the publishers make from these chapters, as a reader would see it (markup removed)."""
    g = guide
    manifest = {"guide": {"id": g.id, "title": g.title, "subtitle": g.subtitle, "publisher": g.publisher,
                          "description": g.description, "language": g.language, "rights": g.rights,
                          "version": g.version, "date": g.date.isoformat(), "link": g.link, "email": g.email,
                          "levels": {k: {"noun": v.noun, "feminine": v.feminine} for k, v in
                                     (("part", g.levels.part), ("chapter", g.levels.chapter), ("page", g.levels.page))},
                          "parts": [{"id": p.id, "number": p.number, "title": p.title} for p in g.parts]},
                "cover": "cover.jpg", "generator": "audioguide", "chapters": chapters}
    out = {}
    for ch in chapters:
        caps = transcripts.caption_cues(ch["pages"])
        out[ch["transcript"]["txt"]] = transcripts.text_transcript(ch)
        out[ch["transcript"]["vtt"]] = transcripts.vtt(caps)
        out[ch["transcript"]["srt"]] = transcripts.srt(caps)
        out[ch["chapters_json"]] = transcripts.chapters_json(ch, g.title)
        out[f"USLT {ch['id']}"] = "\n\n".join(join_sentences(p["cues"]) for p in ch["pages"])
    out["kiosk data"] = json.dumps(kiosk.kiosk_data(Book.from_manifest(g, manifest), build_menu(g)),
                                   ensure_ascii=False)
    notes = {ch.id: fulltext.chapter_html(ch) for ch in g.chapters}
    feed = feedparser.parse(build_feed(manifest, "https://example.org/", notes))
    assert not feed.bozo
    out["feed"] = "\n".join([feed.feed.title, feed.feed.description] + [
        f"{e.title}\n{e.summary}\n{visible_text(notes_of(e))}" for e in feed.entries])
    out["transcript.txt"] = fulltext.guide_text(g)
    out["transcript.html"] = visible_text(fulltext.guide_html(g).encode())
    return out


@pytest.fixture(scope="module")
def esante():
    guide = load_guide(ESANTE)
    writer = ScriptWriter(guide)
    scripts = {ch.id: writer.chapter(ch) for ch in guide.chapters}
    return guide, scripts, text_outputs(guide, fake_chapters(guide, scripts))


# --- the model -----------------------------------------------------------------------------------

def test_each_written_piece_has_its_own_spoken_form():
    guide = load_guide(DATA / "mini")
    w = ScriptWriter(guide)
    segs = w.blocks([type(guide.intro.pages[0].blocks[0])(
        "p", "Le **DMP** coûte 25 €, appelez le 3422 ou le 01 23 45 67 89. Voir www.ameli.fr et l'EHPAD.")])
    # Said aloud, the numbers are too long for one caption: the caption is cut, before "ou", never in a number;
    # the sentence stays one clip, as there is no clause punctuation at that cut.
    assert [[c[0] for c in s.captions()] for s in segs] == [
        ["Le DMP coûte 25 €, appelez le 3422", "ou le 01 23 45 67 89."], ["Voir www.ameli.fr et l'EHPAD."]]
    assert [s.cont for s in segs] == [False, False]
    for s in segs:  # each caption narrated on its own
        assert [t for _, t in s.captions()] == [w.say(c) for c, _ in s.captions()]
    assert "D.M.P." in segs[0].text and "vingt-cinq euros" in segs[0].text and "trente-quatre" in segs[0].text
    assert "ameli point f r" in segs[1].text


def test_a_long_sentence_is_cut_at_clauses_and_nothing_is_lost():
    guide = load_guide(ESANTE)
    w = ScriptWriter(guide)
    para = guide.chapter("teleconsultation").pages[2].blocks[3].text  # "La prise de rendez-vous…" (3 long sentences)
    segs = w._para(para)
    assert len(segs) > 4 and any(s.cont for s in segs)
    assert " ".join(s.written for s in segs) == written_form(para)
    assert join_sentences(segs).splitlines() == split_sentences(written_form(para))
    for s in segs:
        for written, said in s.captions():
            assert transcripts.wrap_caption(written) == transcripts.wrap_caption(written)[:2]
            assert said.rstrip(",.") == w.say(written).rstrip(",.")
        # a clip ends at clause punctuation or at the sentence's end
        assert not s.cont or s.written[-1:] in ",;:)", s.written
    # a cut clause keeps its comma for the engine's intonation
    assert all(s.text.endswith(",") for s in segs if s.cont and s.written.endswith(","))


def test_link_shows_its_address_and_says_its_host():
    guide = load_guide(DATA / "mini")
    page = ScriptWriter(guide).chapter(guide.chapter("dmp"))[1]
    link = [s for s in page.segments if s.kind == "link"][0]
    assert link.written == "Le site de l'Assurance maladie : www.ameli.fr/assure"
    assert link.text.endswith("ameli point f r.")


def test_frame_is_written_with_digits():
    guide = load_guide(ESANTE)
    segs = ScriptWriter(guide).chapter(guide.chapter("mon-espace-sante"))[0].segments
    frame = " ".join(s.written for s in segs if s.kind == "announce")
    assert re.search(r"\b2\b", frame) and "deux" not in frame and "1 sur 6" in frame


# --- e-santé, every text output --------------------------------------------------------------------

def test_esante_spoken_only_words_are_found(esante):
    guide, scripts, _ = esante
    banned = spoken_only(guide, scripts)
    # The check below is only as good as this list: it must hold the respellings and numbers said aloud.
    assert {"éhpade", "quinze", "point", "cetera"} <= banned, sorted(banned)


def test_esante_no_spoken_form_in_any_text_output(esante):
    guide, scripts, outputs = esante
    banned = spoken_only(guide, scripts)
    lexicon = merged(guide.lexicon)
    respellings = {v.lower() for k, v in lexicon.items() if v != SPELL and v.lower() != k.lower()}
    banned |= respellings - set().union(*(words(t) for t in guide_texts(guide)))
    assert len(outputs) > 60
    for name, text in outputs.items():
        assert_written(text, banned, name)


def test_esante_every_written_sentence_in_order(esante):
    guide, scripts, outputs = esante
    everything = []
    for ch in guide.chapters:
        sentences = written_sentences(scripts[ch.id])
        everything += sentences
        slug = ch.slug
        assert_in_order(sentences, outputs[f"transcripts/{slug}.txt"], f"{slug}.txt")
        assert_in_order(sentences, outputs[f"USLT {ch.id}"], f"USLT {ch.id}")
        vtt_text = " ".join(b.split("\n", 2)[2] for b in outputs[f"transcripts/{slug}.vtt"].split("\n\n")[1:] if b)
        vtt_text = vtt_text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
        assert_in_order(sentences, re.sub(r"/\s+", "/", vtt_text), f"{slug}.vtt")  # addresses wrap after a "/"
    assert len(everything) > 300
    assert_in_order(everything, outputs["transcript.txt"], "transcript.txt")
    assert_in_order(everything, outputs["transcript.html"], "transcript.html")


def test_esante_numbers_and_addresses_as_written(esante):
    _, _, out = esante
    html_text = out["transcript.html"]
    for written in ("3 points", "16 ans", "www.ameli.fr/medecin", "www.sante.fr", "SAS", "EHPAD", "DMP"):
        assert written in html_text, written
    assert "www.sante.fr" in out["kiosk data"] or "sante.fr" in out["kiosk data"]


# --- the whole-guide transcripts -----------------------------------------------------------------

def test_guide_html_structure():
    guide = load_guide(ESANTE)
    doc = lhtml.fromstring(fulltext.guide_html(guide).encode())
    assert doc.get("lang") == "fr"
    assert [h.text_content() for h in doc.iter("h1")] == [guide.title]
    h2 = [h.text_content() for h in doc.iter("h2")]
    assert h2[:3] == ["Sommaire", "Introduction", "Partie 1 – Télésanté"]
    assert [h.text_content() for h in doc.iter("h3")][:2] == ["Bienvenue", "Comment écouter ce guide"]
    assert len(list(doc.iter("h4"))) > 50 and len(list(doc.iter("li"))) > 30
    links = {a.get("href") for a in doc.iter("a")}
    assert "https://www.ameli.fr/medecin/exercice-liberal/telemedecine/teleexpertise" in links
    assert all(h.startswith(("#", "https://", "mailto:")) for h in links)
    assert len(list(doc.iter("strong"))) > 20  # the guide's bold, as bold


def test_fixture_build_text_outputs(mini_build):
    out, m = mini_build.out_dir, mini_build.manifest
    guide = mini_build.guide
    writer = ScriptWriter(guide)
    scripts = {ch.id: writer.chapter(ch) for ch in guide.chapters}
    banned = spoken_only(guide, scripts)
    assert {"quinze", "point"} <= banned
    assert m["transcript"] == {"txt": "transcript.txt", "html": "transcript.html"}
    files = [out / m["transcript"]["txt"], out / m["transcript"]["html"], out / "feed.xml", out / "kiosk/index.html"]
    files += [out / rel for c in m["chapters"] for rel in [*c["transcript"].values(), c["chapters_json"]]]
    for f in files:
        text = f.read_text("utf-8")
        if f.suffix in (".html", ".xml"):
            text = visible_text(text.encode()) if f.suffix == ".html" else "\n".join(
                etree.fromstring(text.encode()).itertext())
            if f.suffix == ".xml":
                text += visible_text("<div>" + "".join(notes_of(e) for e in feedparser.parse(
                    f.read_bytes()).entries) + "</div>")
        assert_written(text, banned, f.name)
    for c in m["chapters"]:
        uslt = ID3(out / c["mp3"]).getall("USLT")[0].text
        assert_written(uslt, banned, f"USLT {c['id']}")
        assert_in_order(written_sentences(scripts[c["id"]]), uslt, f"USLT {c['id']}")
        for p in c["pages"]:  # the manifest keeps both forms
            assert all(cue["written"] and cue["text"] for cue in p["cues"])
        assert_in_order(written_sentences(scripts[c["id"]]), (out / c["transcript"]["txt"]).read_text(), c["id"])
    for c in m["chapters"]:  # podcast chapter marks: by the guide's publisher, a mark per page where it starts
        marks = json.loads((out / c["chapters_json"]).read_text("utf-8"))
        assert marks["author"] == guide.publisher == "Association Test"
        assert [(p["startTime"], p["title"]) for p in marks["chapters"]] == [
            (round(p["start"], 3), p["title"]) for p in c["pages"]]
    assert set(files) <= set(mini_build.files)  # the build names every file it wrote
    assert "D.M.P." in json.dumps(m, ensure_ascii=False)  # the spoken form is kept, beside the written one
    assert "Appelez le 15 en cas d'urgence." in (out / "transcript.txt").read_text()


def test_show_notes_have_clickable_links_and_stay_inert(tmp_path, mini_guide):
    from audioguide.build import build

    g = mini_guide / "guide.yaml"
    hostile = "Voir [le site](https://www.sante.fr/x?a=1&b=2) ]]> <script>alert(1)</script> **gras**."
    g.write_text(g.read_text().replace("- p: Le DMP est un carnet de santé numérique.",
                                       "- p: " + json.dumps(hostile)))
    out = build(mini_guide, settings_for(tmp_path, engine="silence")).out_dir
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo
    notes = notes_of(feed.entries[1])
    doc = lhtml.fromstring(f"<div>{notes}</div>")
    hrefs = [a.get("href") for a in doc.iter("a")]
    assert "https://www.sante.fr/x?a=1&b=2" in hrefs and "https://www.ameli.fr/assure" in hrefs
    assert "<script>alert(1)</script> gras." not in notes and "]]>" in doc.text_content()
    raw = etree.fromstring((out / "feed.xml").read_bytes())
    encoded = raw.find(".//item[2]/{http://purl.org/rss/1.0/modules/content/}encoded").text
    assert not list(lhtml.fromstring(f"<div>{encoded}</div>").iter("script"))  # the guide's text is text
    page = lhtml.fromstring((out / "transcript.html").read_bytes())
    # HTML tags are not part of a guide: dropped, their text kept (and never run).
    assert not list(page.iter("script")) and "]]> alert(1) gras." in page.text_content()


def test_parts_are_written_as_the_guide_names_them(mini_guide):
    """The written outputs (and the EPUB and DAISY books, which take the same heading) call a part what the
    guide's `levels:` calls it, as the audio does: not a fixed "Chapitre"."""
    g = mini_guide / "guide.yaml"
    g.write_text(g.read_text().replace("title:", "levels: {part: module}\ntitle:", 1))
    guide = load_guide(mini_guide)
    assert guide.levels.part.noun == "module"
    text, page = fulltext.guide_text(guide), fulltext.guide_html(guide)
    assert "Module 1 – Santé" in text and "Module 1 – Santé" in page
    assert "Chapitre" not in text + page


def test_transcript_text_opens_with_the_guide_and_gives_each_paragraph_its_own():
    """transcript.txt as a reader prints it: title underlined, then subtitle, publisher, description; a blank line
    after every paragraph; the rights last, and nothing after them."""
    guide = load_guide(DATA / "mini")
    guide.chapters[1].pages[0].blocks.insert(1, Block(kind="heading", text="Ce qu'il faut savoir"))
    text = fulltext.guide_text(guide)
    title = written_form(guide.title)
    assert text.startswith(f"{title}\n{'#' * len(title)}\n\nUn petit guide pour les tests\n\nAssociation Test\n\n"
                           "Un guide minuscule pour vérifier la chaîne complète.\n\nIntroduction\n")
    assert text.endswith("\n\nCC BY 4.0\n")
    paragraphs = [written_form(b.text) for ch in guide.chapters for pg in ch.pages for b in pg.blocks
                  if b.kind in ("p", "heading")]
    assert paragraphs and all(f"\n{para}\n\n" in text for para in paragraphs)
    assert set(text.splitlines()) <= set(guide_text_lines(guide)) | {"", "#" * len(title)} | {
        c * n for c in "-=" for n in range(1, 80)}


def guide_text_lines(guide) -> list[str]:
    """Every line the guide's own words can make in transcript.txt."""
    from audioguide.publishers.fulltext import part_heading
    out = [written_form(t) for t in guide_texts(guide) if t]
    out += [part_heading(guide, ch) for ch in guide.chapters if ch.part]
    for ch in guide.chapters:
        for pg in ch.pages:
            for b in pg.blocks:
                for x in [b, *b.children]:
                    out += [written_form(x.text or ""), *(f"- {written_form(i)}" for i in x.items)]
                    if x.kind == "link":
                        out.append(f"{written_form(x.text)} : {fulltext.display_url(x.url)}")
                    if x.kind in fulltext.CALLOUTS:
                        out.append(f"{fulltext.CALLOUTS[x.kind]} :")
    return out


def test_transcript_html_drops_invisible_marks_and_names_bare_links():
    """A soft hyphen or zero-width space pasted from Word never reaches the page; a link written without a label
    shows its address."""
    assert fulltext.inline_html("e\u00adsant\u200bé") == "esanté"
    assert fulltext.inline_html("Voir [](https://www.ameli.fr/assure).") == (
        'Voir <a href="https://www.ameli.fr/assure">www.ameli.fr/assure</a>.')
    assert fulltext.inline_html("Voir <https://www.ameli.fr/assure>.") == (
        'Voir <a href="https://www.ameli.fr/assure">www.ameli.fr/assure</a>.')


def test_transcript_html_shows_the_guide_emphasis():
    assert fulltext.inline_html("**Gratuit**, __sans engagement__, *vraiment* : `15`.") == (
        "<strong>Gratuit</strong>, <strong>sans engagement</strong>, <em>vraiment</em> : 15.")


def test_transcript_html_landmarks_and_links_all_land():
    """What a screen reader user moves through: header, contents, main, footer, nothing stray between them;
    each contents link and each section's label names an element of the page."""
    doc = lhtml.fromstring(fulltext.guide_html(load_guide(DATA / "mini")).encode())
    body = doc.body
    assert [e.tag for e in body] == ["header", "nav", "main", "footer"]
    assert all(not (t or "").strip() for t in [body.text, *(e.tail for e in body), doc.head.tail])
    assert [e.tag for e in body[0]] == ["h1", "p", "p"] and not any((e.tail or "").strip() for e in body[0])
    ids = {e.get("id") for e in doc.iter() if e.get("id")}
    targets = [a.get("href")[1:] for a in doc.iter("a") if a.get("href", "").startswith("#")]
    labels = [e.get("aria-labelledby") for e in doc.iter() if e.get("aria-labelledby")]
    assert len(targets) >= 2 and len(labels) >= 3 and set(targets) | set(labels) <= ids
    assert len(list(doc.iter("section"))) == len(load_guide(DATA / "mini").chapters)


def test_transcript_html_pages_keep_their_paragraphs_and_callout_headings():
    callout = Block(kind="attention", children=[Block(kind="heading", text="En cas d'urgence"),
                                               Block(kind="p", text="Appelez le 15.")])
    assert fulltext.page_html(Page(id="p", title="Urgences", blocks=[callout]), 3) == [
        "<h3>Urgences</h3>", '<div class="callout"><p><strong>Attention :</strong></p>', "<h4>En cas d'urgence</h4>",
        "<p>Appelez le 15.</p>", "</div>"]
    narrated = Page(id="p", title="Bienvenue", blocks=[], narration="Bonjour.\n\nCe guide dure une minute.")
    assert fulltext.page_html(narrated, 3) == ["<h3>Bienvenue</h3>", "<p>Bonjour.</p>",
                                               "<p>Ce guide dure une minute.</p>"]
    assert fulltext.inline_html("Écrire à contact@sante.fr.") == (
        'Écrire à <a href="mailto:contact@sante.fr">contact@sante.fr</a>.')
