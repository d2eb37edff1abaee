"""The RSS feed as written, element by element, from a small manifest: no build needed, so script/mutation
can run it for every podcast.py mutant. test_podcast.py reads real builds with real podcast parsers."""

import io
import json
import uuid

import feedparser
import podcastparser
import pytest
from lxml import etree

from audioguide.publishers import end_sentence
from audioguide.publishers.podcast import PODCAST, _license, build_feed, podcast_guid, whole_chapters_json

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": PODCAST,
      "atom": "http://www.w3.org/2005/Atom", "psc": "http://podlove.org/simple-chapters",
      "content": "http://purl.org/rss/1.0/modules/content/"}
SPEC_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")  # podcast:guid's namespace, from the spec
BASE = "https://asso.example/guide/"


def chapter(n, cid, title, part, duration, pages):
    step = duration / len(pages)
    return {"id": cid, "number": n, "title": title, "part": part, "mp3": f"audio/{n:02d}-{cid}.mp3",
            "bytes": 1000 + n, "duration": duration,
            "pages": [{"title": p, "start": i * step, "end": (i + 1) * step} for i, p in enumerate(pages)],
            "transcript": {k: f"transcripts/{n:02d}-{cid}.{k}" for k in ("txt", "srt", "vtt")},
            "chapters_json": f"chapters/{n:02d}-{cid}.json"}


MANIFEST = {
    "guide": {"id": "essai", "title": "Guide\x07 test", "subtitle": "Sous-titre", "description": "Un essai.",
              "publisher": "Asso", "date": "2024-03-01", "rights": "CC BY 4.0", "email": "a@asso.example",
              "link": "https://asso.example/", "language": "fr-CH",
              "parts": [{"id": "sante", "number": 1, "title": "Santé", "chapters": ["dmp"]},
                        {"id": "vide", "number": 2, "title": "Autre", "chapters": []}],
              "levels": {"part": {"noun": "partie", "feminine": True}, "chapter": {"noun": "sujet", "feminine": False},
                         "page": {"noun": "page", "feminine": True}}},
    "cover": "cover.jpg", "generator": "audioguide 9",
    "chapters": [chapter(1, "intro", "Introduction", None, 12.4, ["Bienvenue"]),
                 chapter(2, "dmp", "Le DMP", {"title": "Santé", "number": 1}, 30.6, ["Quoi ?", "Qui ?"])],
}


def feed(manifest=MANIFEST):
    return etree.fromstring(build_feed(manifest, BASE))


def val(node, path):
    found = node.find(path, NS)
    return None if found is None else found.text


def test_channel():
    root = feed()
    assert root.tag == "rss" and root.get("version") == "2.0"
    ch = root.find("channel")
    assert [val(ch, t) for t in ("title", "link", "description", "language", "copyright", "generator")] == [
        "Guide test", "https://asso.example/", "Un essai.", "fr-CH", "CC BY 4.0", "audioguide 9"]
    assert val(ch, "pubDate") == val(ch, "lastBuildDate") == "Fri, 01 Mar 2024 08:00:00 +0000"
    self_link = ch.find("atom:link", NS)
    assert (self_link.get("href"), self_link.get("rel"), self_link.get("type")) == (
        BASE + "feed.xml", "self", "application/rss+xml")
    assert [val(ch, f"image/{t}") for t in ("url", "title", "link")] == [
        BASE + "cover.jpg", "Guide test", "https://asso.example/"]
    assert ch.find("itunes:image", NS).get("href") == BASE + "cover.jpg"
    assert val(ch, "itunes:author") == "Asso"
    assert val(ch, "itunes:summary") == "Guide test — Sous-titre. Un essai."
    assert val(ch, "itunes:owner/itunes:name") == "Asso" and val(ch, "itunes:owner/itunes:email") == "a@asso.example"
    category = ch.find("itunes:category", NS)
    assert category.get("text") == "Health & Fitness"
    assert [c.get("text") for c in category.findall("itunes:category", NS)] == ["Medicine"]
    assert len(ch.findall("itunes:category", NS)) == 1
    assert [val(ch, f"itunes:{t}") for t in ("explicit", "type")] == ["false", "serial"]
    # Not the feed URL's UUID: the spec's rule over a seed without the URL, which changes (preview, host…).
    assert val(ch, "podcast:guid") == str(uuid.uuid5(SPEC_NS, "audioguide/asso/essai"))
    assert [val(ch, f"podcast:{t}") for t in ("locked", "medium")] == ["no", "podcast"]
    assert ch.find("podcast:locked", NS).get("owner") == "a@asso.example"
    person = ch.find("podcast:person", NS)
    assert (person.text, person.get("group"), person.get("role")) == ("Asso", "writing", "author")
    licence = ch.find("podcast:license", NS)
    assert (licence.text, licence.get("url")) == ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/")


def test_channel_guid_ignores_the_base_url_and_a_feed_guid_wins():
    guids = {val(etree.fromstring(build_feed(MANIFEST, base)), "channel/podcast:guid")
             for base in (BASE, "http://127.0.0.1:8000/essai/", "https://autre.example/x/")}
    assert guids == {str(uuid.uuid5(SPEC_NS, "audioguide/asso/essai"))}
    # The publisher's name is a seed as people write it: spaces and capitals do not make another podcast.
    renamed = {**MANIFEST, "guide": {**MANIFEST["guide"], "publisher": "  ASSO "}}
    assert val(feed(renamed), "channel/podcast:guid") == guids.pop()
    pinned = {**MANIFEST, "guide": {**MANIFEST["guide"], "feed_guid": "917393e3-1b1e-5cef-ace4-edaa54e1f810"}}
    assert val(feed(pinned), "channel/podcast:guid") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    other = {**MANIFEST, "guide": {**MANIFEST["guide"], "id": "autre"}}
    assert val(feed(other), "channel/podcast:guid") != val(feed(), "channel/podcast:guid")


def test_items():
    items = feed().findall("channel/item")
    intro, dmp = items
    assert [val(i, "title") for i in items] == ["Introduction", "Le DMP"]
    assert val(intro, "description") == val(intro, "itunes:summary") == "Introduction. Pages : Bienvenue."
    assert val(dmp, "description") == "Partie 1 : Santé — Le DMP. Pages : Quoi ? ; Qui ?"  # never "?."
    assert [(val(i, "guid"), i.find("guid").get("isPermaLink")) for i in items] == [
        ("urn:audioguide:essai:intro", "false"), ("urn:audioguide:essai:dmp", "false")]
    assert [val(i, "pubDate") for i in items] == ["Fri, 01 Mar 2024 08:01:00 +0000", "Fri, 01 Mar 2024 08:02:00 +0000"]
    enc = dmp.find("enclosure")
    assert (enc.get("url"), enc.get("length"), enc.get("type")) == (BASE + "audio/02-dmp.mp3", "1002", "audio/mpeg")
    assert [val(i, "itunes:duration") for i in items] == ["12", "31"]
    assert [val(i, "itunes:episode") for i in items] == ["1", "2"]
    # No itunes:season: Apple would open this serial show on its newest season, the guide's last part.
    assert [val(i, "itunes:season") for i in items] == [None, None]
    assert [(s.text, s.get("name")) for s in dmp.findall("podcast:season", NS)] == [("1", "Santé")]
    assert intro.find("podcast:season", NS) is None
    assert [val(i, "itunes:episodeType") for i in items] == ["full", "full"]  # the introduction is content
    assert [val(i, "itunes:explicit") for i in items] == ["false", "false"]
    assert dmp.find("itunes:image", NS).get("href") == BASE + "cover.jpg"
    assert [(t.get("url"), t.get("type"), t.get("language")) for t in dmp.findall("podcast:transcript", NS)] == [
        (BASE + "transcripts/02-dmp.txt", "text/plain", "fr"),
        (BASE + "transcripts/02-dmp.srt", "application/x-subrip", "fr"),
        (BASE + "transcripts/02-dmp.vtt", "text/vtt", "fr")]  # WebVTT last: feedparser keeps the last one
    chap = dmp.find("podcast:chapters", NS)
    assert (chap.get("url"), chap.get("type")) == (BASE + "chapters/02-dmp.json", "application/json+chapters")
    psc = dmp.find("psc:chapters", NS)
    assert psc.get("version") == "1.2"
    assert [(c.get("start"), c.get("title")) for c in psc] == [("00:00:00.000", "Quoi ?"), ("00:00:15.300", "Qui ?")]
    notes = val(dmp, "content:encoded")
    assert notes == ('<p>Transcription : <a href="https://asso.example/guide/transcripts/02-dmp.txt">le texte</a>, '
                     '<a href="https://asso.example/guide/transcripts/02-dmp.vtt">les sous-titres (WebVTT)</a>.</p>')


def test_defaults_and_what_cannot_go_in_xml():
    g = {k: v for k, v in MANIFEST["guide"].items() if k not in ("rights", "email", "link", "language", "subtitle")}
    g["title"] = "Titre\ufffe\x01 propre\t"
    m = {**MANIFEST, "guide": g, "chapters": [{**MANIFEST["chapters"][0], "mp3": "audio/01 intro é.mp3"}]}
    del m["generator"]
    ch = feed(m).find("channel")
    assert val(ch, "title") == "Titre propre\t" and val(ch, "link") == BASE and val(ch, "language") == "fr-FR"
    assert ch.find("copyright") is None and ch.find("itunes:owner/itunes:email", NS) is None
    # No e-mail: nothing is invented. podcast:locked requires an owner, and the Podcast Index parser drops
    # the tag without one: it is left out (the build warns before publishing).
    assert ch.find("podcast:locked", NS) is None
    assert ch.find("podcast:license", NS) is None
    assert val(ch, "generator") == "audioguide" and val(ch, "itunes:summary") == "Titre propre. Un essai."
    assert val(ch, "image/link") == BASE
    assert ch.find("item/enclosure").get("url") == BASE + "audio/01%20intro%20%C3%A9.mp3"
    assert build_feed(m, BASE).startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<rss")


def test_without_a_link_the_website_is_a_page_of_the_build():
    """Not the output folder: it has no index page, so `serve` and static hosts answer 404 there."""
    g = {k: v for k, v in MANIFEST["guide"].items() if k != "link"}
    for extra, want in (({"transcript": {"txt": "transcript.txt", "html": "transcript.html"},
                          "kiosk": "kiosk/index.html"}, BASE + "transcript.html"),
                        ({"kiosk": "kiosk/index.html"}, BASE + "kiosk/index.html"),
                        ({}, BASE)):
        ch = feed({**MANIFEST, **extra, "guide": g}).find("channel")
        assert val(ch, "link") == val(ch, "image/link") == want
    ch = feed({**MANIFEST, "transcript": {"txt": "transcript.txt", "html": "transcript.html"}}).find("channel")
    assert val(ch, "link") == val(ch, "image/link") == "https://asso.example/"  # the guide's own `link:` first


def test_podcast_guid_removes_the_scheme_only():
    ns = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    assert podcast_guid("https://a.example/f.xml?from=http://b.example/") == str(
        uuid.uuid5(ns, "a.example/f.xml?from=http://b.example"))


def test_podlove_times_are_hours_minutes_seconds_milliseconds():
    m = {**MANIFEST, "chapters": [chapter(1, "long", "Long", None, 7322.0, ["a", "b"])]}
    m["chapters"][0]["pages"][1]["start"] = 3661.0005
    starts = [c.get("start") for c in feed(m).findall("channel/item/psc:chapters/psc:chapter", NS)]
    assert starts == ["00:00:00.000", "01:01:01.000"]
    m["chapters"][0]["pages"][1]["start"] = 59.9996
    assert feed(m).findall("channel/item/psc:chapters/psc:chapter", NS)[1].get("start") == "00:01:00.000"


THREE_PARTS = {**MANIFEST, "guide": {**MANIFEST["guide"], "parts": [
    {"id": f"p{i}", "number": i, "title": f"Partie {i}", "chapters": [f"c{i}"]} for i in (1, 2, 3)]},
    "chapters": [chapter(1, "intro", "Introduction", None, 10, ["Bienvenue"])] + [
        chapter(i + 1, f"c{i}", f"Sujet {i}", {"title": f"Partie {i}", "number": i}, 20, ["Une page"])
        for i in (1, 2, 3)]}


def test_parsers_start_a_serial_show_with_seasons_at_the_introduction():
    data = build_feed(THREE_PARTS, BASE)
    order = ["Introduction", "Sujet 1", "Sujet 2", "Sujet 3"]
    d = feedparser.parse(data)
    assert d.feed.itunes_type == "serial"
    by_date = sorted(d.entries, key=lambda e: e.published_parsed)
    assert [e.title for e in by_date] == [e.title for e in d.entries] == order
    assert [int(e.itunes_episode) for e in by_date] == [1, 2, 3, 4]
    assert not [e for e in d.entries if "itunes_season" in e]  # Apple would open on the last part
    # gPodder's parser sorts a serial show's episodes oldest first: the first one offered is the introduction.
    p = podcastparser.parse(BASE + "feed.xml", io.BytesIO(data))
    assert p["type"] == "serial"
    assert [e["title"] for e in p["episodes"]] == order
    assert [e["number"] for e in p["episodes"]] == [1, 2, 3, 4]
    assert not [e for e in p["episodes"] if e.get("season")]
    seasons = [(s.text, s.get("name")) for s in etree.fromstring(data).iterfind(".//podcast:season", NS)]
    assert seasons == [("1", "Partie 1"), ("2", "Partie 2"), ("3", "Partie 3")]


def test_podcastparser_sees_chapters_and_the_transcript_link():
    p = podcastparser.parse(BASE + "feed.xml", io.BytesIO(build_feed(MANIFEST, BASE)))
    dmp = next(e for e in p["episodes"] if e["guid"].endswith(":dmp"))
    assert dmp["chapters"] == [{"start": 0, "title": "Quoi ?"}, {"start": 15, "title": "Qui ?"}]
    assert BASE + "transcripts/02-dmp.txt" in dmp["description_html"]


@pytest.mark.parametrize("text, done", [("Le DMP", "Le DMP."), ("Qui ?", "Qui ?"), ("Vite !", "Vite !"),
                                        ("Fin.", "Fin."), ("Et puis…", "Et puis…"), ("Espace ", "Espace.")])
def test_a_sentence_ends_once(text, done):
    assert end_sentence(text) == done


@pytest.mark.parametrize("rights, expected", [
    ("CC BY 4.0", "CC-BY-4.0"), ("cc-by-nc-nd-4.0", "CC-BY-NC-ND-4.0"), ("Licence CC BY-SA 4.0.", "CC-BY-SA-4.0"),
    ("Creative Commons CC BY-NC 3.0", "CC-BY-NC-3.0"), ("CC0", "CC0-1.0"), ("CC0 1.0", "CC0-1.0"),
    ("© France Assos Santé. Reproduction autorisée à des fins non commerciales.", None), ("", None),
    ("CC BY 4.0 sauf les images", None)])
def test_only_a_known_licence_becomes_podcast_license(rights, expected):
    found = _license(rights)
    assert (found and found[0]) == expected


WITH_WHOLE = {**MANIFEST, "transcript": {"txt": "transcript.txt", "html": "transcript.html"},
              "whole": {"mp3": "essai-complet.0123456789ab.mp3", "bytes": 5000, "duration": 42.6,
                        "chapters": [{"id": "intro", "start": 0.0, "end": 12.4},
                                     {"id": "dmp", "start": 12.4, "end": 42.6}]}}


def test_the_whole_guide_is_a_bonus_after_the_last_chapter():
    items = feed(WITH_WHOLE).findall("channel/item")
    assert [val(i, "title") for i in items] == ["Introduction", "Le DMP", "Guide test (guide complet)"]
    whole = items[2]
    assert val(whole, "itunes:episodeType") == "bonus" and whole.find("itunes:episode", NS) is None
    assert val(whole, "description") == "Tout le guide en un seul fichier. Sujets : Introduction ; Le DMP."
    assert val(whole, "guid") == "urn:audioguide:essai"  # a chapter's guid always has a third part
    assert whole.find("guid").get("isPermaLink") == "false"  # not a web address an app may open
    assert val(whole, "pubDate") == "Fri, 01 Mar 2024 08:03:00 +0000"  # after the last chapter
    enc = whole.find("enclosure")
    assert (enc.get("url"), enc.get("length")) == (BASE + "essai-complet.0123456789ab.mp3", "5000")
    assert val(whole, "itunes:duration") == "43"
    assert [(t.get("url"), t.get("type")) for t in whole.findall("podcast:transcript", NS)] == [
        (BASE + "transcript.txt", "text/plain"), (BASE + "transcript.html", "text/html")]
    assert [(c.get("start"), c.get("title")) for c in whole.find("psc:chapters", NS)] == [
        ("00:00:00.000", "Introduction : Bienvenue"), ("00:00:12.400", "Le DMP : Quoi ?"),
        ("00:00:27.700", "Le DMP : Qui ?")]
    json_link = whole.find("podcast:chapters", NS)
    assert (json_link.get("url"), json_link.get("type")) == (BASE + "chapters/essai-complet.json",
                                                             "application/json+chapters")
    assert json.loads(whole_chapters_json(WITH_WHOLE, "Asso")) == {
        "version": "1.2.0", "author": "Asso", "title": "Guide\x07 test (guide complet)", "chapters": [
            {"startTime": 0.0, "endTime": 12.4, "title": "Introduction : Bienvenue"},
            {"startTime": 12.4, "endTime": 27.7, "title": "Le DMP : Quoi ?"},
            {"startTime": 27.7, "endTime": 42.6, "title": "Le DMP : Qui ?"}]}
    assert BASE + "transcript.html" in val(whole, "content:encoded")
    books = {**WITH_WHOLE, "downloads": {"epub": {"path": "essai.epub", "bytes": 2_340_000},
                                          "daisy": {"path": "essai-daisy.zip", "bytes": 9_000_000}}}
    notes = val(feed(books).findall("channel/item")[2], "content:encoded")
    assert notes.endswith('<p>Livre audio à télécharger : <a href="https://asso.example/guide/essai.epub">EPUB 3, '
                          'texte lu en synchronisation (2,3 Mo)</a>, <a href="https://asso.example/guide/'
                          'essai-daisy.zip">DAISY 2.02, pour lecteur DAISY (9,0 Mo)</a>.</p>'), notes
    p = podcastparser.parse(BASE + "feed.xml", io.BytesIO(build_feed(WITH_WHOLE, BASE)))
    assert [e["title"] for e in p["episodes"]] == ["Introduction", "Le DMP", "Guide test (guide complet)"]
    assert p["episodes"][2]["type"] == "bonus"


def test_the_whole_guide_is_matched_to_chapters_by_position():
    # A whole file reused after a chapter's id changed still lists the old id: same audio, same order.
    stale = {**WITH_WHOLE, "whole": {**WITH_WHOLE["whole"], "chapters": [
        {"id": "intro", "start": 0.0, "end": 12.4}, {"id": "ancien-id", "start": 12.4, "end": 42.6}]}}
    whole = feed(stale).findall("channel/item")[2]
    assert [c.get("title") for c in whole.find("psc:chapters", NS)] == [
        "Introduction : Bienvenue", "Le DMP : Quoi ?", "Le DMP : Qui ?"]
    assert val(whole, "description") == "Tout le guide en un seul fichier. Sujets : Introduction ; Le DMP."
