"""RSS 2.0 podcast feed with the itunes: and podcast: (Podcasting 2.0) namespaces, built with lxml.

lxml rather than feedgen: feedgen's podcast extension rejects itunes:explicit true/false, drops an
itunes:image URL that does not end in .jpg/.png (lkiesow/python-feedgen#140) and has no podcast: tags.
Everything is derived from the guide, never from the clock, so rebuilds give byte-identical feeds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from email.utils import format_datetime
from urllib.parse import quote

from lxml import etree

from audioguide.files import update_bytes
from audioguide.publishers import Publisher

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}
PODCAST_GUID_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")  # fixed by the Podcasting 2.0 spec
FEED_NAME = "feed.xml"


def podcast_guid(feed_url: str) -> str:
    """UUIDv5 of the feed URL without scheme and trailing slashes, as podcast:guid specifies."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NS, bare))


def episode_guid(guide_id: str, chapter_id: str) -> str:
    """Stable across rebuilds: apps never re-download an unchanged guide."""
    return f"urn:audioguide:{guide_id}:{chapter_id}"


def _el(parent, tag: str, value=None, **attrs):
    ns, _, name = tag.rpartition(":")
    e = etree.SubElement(parent, f"{{{NSMAP[ns]}}}{name}" if ns else name)
    # Every text and attribute is cleaned, not only the ones thought to come from the guide.
    for k, v in attrs.items():
        e.set(k, _clean(str(v)))
    if value is not None:
        e.text = _clean(str(value))
    return e


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters, surrogates or U+FFFE/U+FFFF; they never belong in a feed."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20 and not 0xD800 <= ord(c) <= 0xDFFF
                   and c not in "\ufffe\uffff")


def build_feed(manifest: dict, base_url: str, notes: dict[str, str] | None = None) -> bytes:
    """notes: chapter id -> show notes in HTML (the chapter as written, its links clickable)."""
    g = manifest["guide"]
    url = lambda rel: base_url + quote(rel)  # noqa: E731
    feed_url = url(FEED_NAME)
    date = dt.datetime.combine(dt.date.fromisoformat(g["date"]), dt.time(8, 0), tzinfo=dt.timezone.utc)
    rss = etree.Element("rss", nsmap=NSMAP, version="2.0")
    ch = _el(rss, "channel")
    title = _clean(g["title"] + (f" — {g['subtitle']}" if g.get("subtitle") else ""))
    _el(ch, "title", _clean(g["title"]))
    _el(ch, "link", g.get("link") or base_url)
    _el(ch, "description", _clean(g["description"]))
    _el(ch, "language", g.get("language") or "fr-FR")
    if g.get("rights"):
        _el(ch, "copyright", _clean(g["rights"]))
    _el(ch, "pubDate", format_datetime(date))
    _el(ch, "lastBuildDate", format_datetime(date))
    _el(ch, "generator", manifest.get("generator", "audioguide"))
    _el(ch, "atom:link", href=feed_url, rel="self", type="application/rss+xml")
    img = _el(ch, "image")
    _el(img, "url", url(manifest["cover"]))
    _el(img, "title", _clean(g["title"]))
    _el(img, "link", g.get("link") or base_url)
    _el(ch, "itunes:image", href=url(manifest["cover"]))
    author = g["publisher"] or g["title"]  # Apple asks for an author; a guide without a publisher is its own
    _el(ch, "itunes:author", _clean(author))
    _el(ch, "itunes:summary", _clean(title + ". " + g["description"]))
    owner = _el(ch, "itunes:owner")
    _el(owner, "itunes:name", _clean(author))
    if g.get("email"):
        _el(owner, "itunes:email", g["email"])
    _el(ch, "itunes:category", text="Health & Fitness")
    _el(ch, "itunes:explicit", "false")
    _el(ch, "itunes:type", "serial")
    _el(ch, "podcast:guid", podcast_guid(feed_url))
    _el(ch, "podcast:locked", "no")
    _el(ch, "podcast:medium", "podcast")

    levels = g["levels"]
    named_parts = len(g["parts"]) > 1  # a one-part guide is heard and listed as a two-level guide
    page_word = levels["page"]["noun"]
    page_word = page_word if page_word[-1:] in "sxz" else page_word + "s"
    for c in manifest["chapters"]:
        it = _el(ch, "item")
        _el(it, "title", _clean(c["title"]))
        pages = " ; ".join(p["title"] for p in c["pages"])
        part = f"{levels['part']['noun'].capitalize()} {c['part']['number']} : {c['part']['title']} — " \
            if c["part"] and named_parts else ""
        desc = _clean(f"{part}{c['title']}. {page_word.capitalize()} : {pages}.")
        _el(it, "description", desc)
        _el(it, "itunes:summary", desc)
        if notes and notes.get(c["id"]):
            # Escaped text, not CDATA: a guide's text may hold "]]>", which would end a CDATA section early.
            _el(it, "content:encoded", _clean(notes[c["id"]]))
        _el(it, "guid", episode_guid(g["id"], c["id"]), isPermaLink="false")
        _el(it, "pubDate", format_datetime(date + dt.timedelta(minutes=c["number"])))
        _el(it, "enclosure", url=url(c["mp3"]), length=c["bytes"], type="audio/mpeg")
        _el(it, "itunes:duration", int(round(c["duration"])))
        _el(it, "itunes:episode", c["number"])
        if c["part"] and named_parts:
            _el(it, "itunes:season", c["part"]["number"])
            _el(it, "podcast:season", c["part"]["number"], name=_clean(c["part"]["title"]))
        # Every chapter is real content, the introduction too: Apple may show a "trailer" apart, or skip it.
        _el(it, "itunes:episodeType", "full")
        _el(it, "itunes:explicit", "false")
        _el(it, "itunes:image", href=url(manifest["cover"]))
        _el(it, "podcast:transcript", url=url(c["transcript"]["txt"]), type="text/plain", language="fr")
        _el(it, "podcast:transcript", url=url(c["transcript"]["srt"]), type="application/x-subrip", language="fr")
        # WebVTT last: feedparser keeps only an item's last podcast:transcript.
        _el(it, "podcast:transcript", url=url(c["transcript"]["vtt"]), type="text/vtt", language="fr")
        _el(it, "podcast:chapters", url=url(c["chapters_json"]), type="application/json+chapters")
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


class PodcastPublisher(Publisher):
    name = "podcast"

    def publish(self, result) -> list:
        from audioguide.publishers.fulltext import chapter_html

        notes = {ch.id: chapter_html(ch) for ch in result.guide.chapters}
        data = build_feed(result.manifest, result.manifest["guide"]["base_url"], notes)
        path = result.out_dir / FEED_NAME
        update_bytes(path, data)
        return [path]
