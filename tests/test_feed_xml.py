"""The RSS feed as written, element by element, from a small manifest: no build needed, so script/mutation
can run it for every podcast.py mutant. test_podcast.py reads real builds with real podcast parsers."""

import uuid

from lxml import etree

from audioguide.publishers.podcast import PODCAST, build_feed, podcast_guid

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": PODCAST,
      "atom": "http://www.w3.org/2005/Atom"}
BASE = "https://asso.example/guide/"


def chapter(n, cid, title, part, duration, pages):
    return {"id": cid, "number": n, "title": title, "part": part, "mp3": f"audio/{n:02d}-{cid}.mp3",
            "bytes": 1000 + n, "duration": duration, "pages": [{"title": p} for p in pages],
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
    assert ch.find("itunes:category", NS).get("text") == "Health & Fitness"
    assert [val(ch, f"itunes:{t}") for t in ("explicit", "type")] == ["false", "serial"]
    assert val(ch, "podcast:guid") == str(uuid.uuid5(uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6"),
                                                     "asso.example/guide/feed.xml"))
    assert [val(ch, f"podcast:{t}") for t in ("locked", "medium")] == ["no", "podcast"]


def test_items():
    items = feed().findall("channel/item")
    intro, dmp = items
    assert [val(i, "title") for i in items] == ["Introduction", "Le DMP"]
    assert val(intro, "description") == val(intro, "itunes:summary") == "Introduction. Pages : Bienvenue."
    assert val(dmp, "description") == "Partie 1 : Santé — Le DMP. Pages : Quoi ? ; Qui ?."
    assert [(val(i, "guid"), i.find("guid").get("isPermaLink")) for i in items] == [
        ("urn:audioguide:essai:intro", "false"), ("urn:audioguide:essai:dmp", "false")]
    assert [val(i, "pubDate") for i in items] == ["Fri, 01 Mar 2024 08:01:00 +0000", "Fri, 01 Mar 2024 08:02:00 +0000"]
    enc = dmp.find("enclosure")
    assert (enc.get("url"), enc.get("length"), enc.get("type")) == (BASE + "audio/02-dmp.mp3", "1002", "audio/mpeg")
    assert [val(i, "itunes:duration") for i in items] == ["12", "31"]
    assert [val(i, "itunes:episode") for i in items] == ["1", "2"]
    assert [val(i, "itunes:season") for i in items] == [None, "1"]
    assert [val(i, "itunes:episodeType") for i in items] == ["full", "full"]  # the introduction is content
    assert [val(i, "itunes:explicit") for i in items] == ["false", "false"]
    assert dmp.find("itunes:image", NS).get("href") == BASE + "cover.jpg"
    assert [(t.get("url"), t.get("type"), t.get("language")) for t in dmp.findall("podcast:transcript", NS)] == [
        (BASE + "transcripts/02-dmp.txt", "text/plain", "fr"),
        (BASE + "transcripts/02-dmp.srt", "application/x-subrip", "fr"),
        (BASE + "transcripts/02-dmp.vtt", "text/vtt", "fr")]  # WebVTT last: feedparser keeps the last one
    chap = dmp.find("podcast:chapters", NS)
    assert (chap.get("url"), chap.get("type")) == (BASE + "chapters/02-dmp.json", "application/json+chapters")


def test_defaults_and_what_cannot_go_in_xml():
    g = {k: v for k, v in MANIFEST["guide"].items() if k not in ("rights", "email", "link", "language", "subtitle")}
    g["title"] = "Titre\ufffe\x01 propre\t"
    m = {**MANIFEST, "guide": g, "chapters": [{**MANIFEST["chapters"][0], "mp3": "audio/01 intro é.mp3"}]}
    del m["generator"]
    ch = feed(m).find("channel")
    assert val(ch, "title") == "Titre propre\t" and val(ch, "link") == BASE and val(ch, "language") == "fr-FR"
    assert ch.find("copyright") is None and ch.find("itunes:owner/itunes:email", NS) is None
    assert val(ch, "generator") == "audioguide" and val(ch, "itunes:summary") == "Titre propre\t. Un essai."
    assert val(ch, "image/link") == BASE
    assert ch.find("item/enclosure").get("url") == BASE + "audio/01%20intro%20%C3%A9.mp3"
    assert build_feed(m, BASE).startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<rss")


def test_podcast_guid_removes_the_scheme_only():
    ns = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    assert podcast_guid("https://a.example/f.xml?from=http://b.example/") == str(
        uuid.uuid5(ns, "a.example/f.xml?from=http://b.example"))
