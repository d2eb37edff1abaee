"""RSS 2.0 podcast feed with the itunes: and podcast: (Podcasting 2.0) namespaces, built with lxml.

lxml rather than feedgen: feedgen's podcast extension rejects itunes:explicit true/false, drops an
itunes:image URL that does not end in .jpg/.png (lkiesow/python-feedgen#140) and has no podcast: tags.
Everything is derived from the guide, never from the clock, so rebuilds give byte-identical feeds.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import re
import uuid
from email.utils import format_datetime
from html import escape
from urllib.parse import quote, urlsplit

from lxml import etree

from audioguide.files import update_bytes
from audioguide.i18n import _
from audioguide.publishers import BuildContext, Publisher, downloads, end_sentence

log = logging.getLogger(__name__)

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
# Podlove Simple Chapters, inline: gPodder (podcastparser) reads podcast: tags only under the namespace's old
# GitHub URI, so without psc it sees no chapters; feedparser and most apps read psc as well.
PSC = "http://podlove.org/simple-chapters"
NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT, "psc": PSC}
PODCAST_GUID_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")  # fixed by the Podcasting 2.0 spec
FEED_NAME = "feed.xml"


def podcast_guid(feed_url: str) -> str:
    """UUIDv5 of the feed URL without scheme and trailing slashes, as podcast:guid specifies."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NS, bare))


def channel_guid(guide: dict) -> str:
    """The guide's `feed_guid`, else the spec's UUIDv5 over a URL-less seed: the guid must never change, and
    the URL does (a local preview, then the public address, then perhaps another host)."""
    if guide.get("feed_guid"):
        return guide["feed_guid"]
    publisher = " ".join((guide.get("publisher") or "").split()).casefold()
    return podcast_guid(f"audioguide/{publisher}/{guide['id']}")


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


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters, surrogates or U+FFFE/U+FFFF; they never belong in a feed."""
    return _NOT_XML.sub("", text)


def _npt(seconds: float) -> str:
    """Normal Play Time as Podlove Simple Chapters asks: HH:MM:SS.mmm."""
    ms = int(round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


# podcast:license takes a well-known licence's identifier; anything else needs the URL of its full text,
# which a guide does not give, so free-text rights stay in <copyright> only.
_CC = re.compile(r"\s*(?:licence\s+|license\s+)?(?:creative\s+commons\s+)?CC[\s-]*(BY(?:[\s-]*(?:NC|SA|ND))*)"
                 r"[\s-]*(\d\.\d)\s*\.?\s*|\s*CC0(?:[\s-]*1\.0)?\s*\.?\s*", re.IGNORECASE)


def _license(rights: str) -> tuple[str, str] | None:
    """(identifier, URL) when `rights` names a Creative Commons licence, else None."""
    m = _CC.fullmatch(rights or "")
    if not m:
        return None
    if not m.group(1):
        return "CC0-1.0", "https://creativecommons.org/publicdomain/zero/1.0/"
    kinds = re.findall(r"BY|NC|SA|ND", m.group(1).upper())
    return f"CC-{'-'.join(kinds)}-{m.group(2)}", \
        f"https://creativecommons.org/licenses/{'-'.join(kinds).lower()}/{m.group(2)}/"


def _transcript_links(url, chapter: dict) -> str:
    """Show notes end with the written text's links: the transcript is then one tap away in every app,
    gPodder included, which has no podcast:transcript support."""
    t = chapter["transcript"]
    return (f'<p>Transcription : <a href="{escape(url(t["txt"]))}">le texte</a>, '
            f'<a href="{escape(url(t["vtt"]))}">les sous-titres (WebVTT)</a>.</p>')


def site_link(manifest: dict, base_url: str) -> str:
    """The show's web site (channel and image <link>, the apps' "website" button): the guide's `link:`, else a
    page of the build. Not the output folder itself: it has no index page, so `serve` and static hosts alike
    answer 404 there. The whole guide as written comes first: readable in any browser and by screen readers,
    and what a podcast cannot give. The kiosk page next, for a build without it."""
    if manifest["guide"].get("link"):
        return manifest["guide"]["link"]
    page = (manifest.get("transcript") or {}).get("html") or manifest.get("kiosk")
    return base_url + quote(page) if page else base_url


def build_feed(manifest: dict, base_url: str, notes: dict[str, str] | None = None) -> bytes:
    """notes: chapter id -> show notes in HTML (the chapter as written, its links clickable)."""
    g = manifest["guide"]
    url = lambda rel: base_url + quote(rel)  # noqa: E731
    feed_url = url(FEED_NAME)
    date = dt.datetime.combine(dt.date.fromisoformat(g["date"]), dt.time(8, 0), tzinfo=dt.UTC)
    rss = etree.Element("rss", nsmap=NSMAP, version="2.0")
    ch = _el(rss, "channel")
    title = _clean(g["title"] + (f" — {g['subtitle']}" if g.get("subtitle") else ""))
    _el(ch, "title", _clean(g["title"]))
    site = site_link(manifest, base_url)
    _el(ch, "link", site)
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
    _el(img, "link", site)  # RSS: the image links where the channel does
    _el(ch, "itunes:image", href=url(manifest["cover"]))
    author = g["publisher"] or g["title"]  # Apple asks for an author; a guide without a publisher is its own
    _el(ch, "itunes:author", _clean(author))
    _el(ch, "itunes:summary", _clean(end_sentence(title) + " " + g["description"]))
    owner = _el(ch, "itunes:owner")
    _el(owner, "itunes:name", _clean(author))
    email = g.get("email")
    if email:
        _el(owner, "itunes:email", email)
    category = _el(ch, "itunes:category", text="Health & Fitness")
    _el(category, "itunes:category", text="Medicine")
    _el(ch, "itunes:explicit", "false")
    # Serial: apps list and play the oldest first. No itunes:season (see the items), so Apple does not open
    # on the newest season, that is on the guide's last part.
    _el(ch, "itunes:type", "serial")
    _el(ch, "podcast:guid", channel_guid(g))
    # "no": the association hosts its own static files and may move them to a podcast host one day, which
    # "yes" would refuse with no switch in the guide to lift it. The owner e-mail is how a host checks a move,
    # and the spec requires it: without one the tag is left out, as the Podcast Index parser drops it.
    if email:
        _el(ch, "podcast:locked", "no", owner=email)
    _el(ch, "podcast:medium", "podcast")
    writer = g.get("author") or g.get("publisher")
    if writer:
        # The text read aloud is the writer's: the taxonomy's Writing/Author role, not the default host.
        _el(ch, "podcast:person", _clean(writer), group="writing", role="author")
    if licence := _license(g.get("rights", "")):
        _el(ch, "podcast:license", licence[0], url=licence[1])

    for c in manifest["chapters"]:
        _chapter_item(ch, c, g, url, date, cover=url(manifest["cover"]), notes=(notes or {}).get(c["id"], ""))
    if manifest.get("whole"):
        _whole_item(ch, manifest, url, date)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _plural(noun: str) -> str:
    return noun if noun[-1:] in "sxz" else noun + "s"


def _chapter_item(ch, c: dict, g: dict, url, date: dt.datetime, cover: str, notes: str) -> None:
    levels = g["levels"]
    named_parts = len(g["parts"]) > 1  # a one-part guide is heard and listed as a two-level guide
    it = _el(ch, "item")
    _el(it, "title", _clean(c["title"]))
    pages = " ; ".join(p["title"] for p in c["pages"])
    part = f"{levels['part']['noun'].capitalize()} {c['part']['number']} : {c['part']['title']} — " \
        if c["part"] and named_parts else ""
    desc = _clean(f"{part}{end_sentence(c['title'])} {_plural(levels['page']['noun']).capitalize()} : "
                  f"{end_sentence(pages)}")
    _el(it, "description", desc)
    _el(it, "itunes:summary", desc)
    # Escaped text, not CDATA: a guide's text may hold "]]>", which would end a CDATA section early.
    _el(it, "content:encoded", _clean(notes + _transcript_links(url, c)))
    _el(it, "guid", episode_guid(g["id"], c["id"]), isPermaLink="false")
    _el(it, "pubDate", format_datetime(date + dt.timedelta(minutes=c["number"])))
    _el(it, "enclosure", url=url(c["mp3"]), length=c["bytes"], type="audio/mpeg")
    _el(it, "itunes:duration", int(round(c["duration"])))
    # Numbered across the guide (the introduction is 1) and dated in the same order: every app starts at
    # the introduction. Parts are named with podcast:season only; itunes:season would make Apple open a
    # serial show on its newest season, the last part.
    _el(it, "itunes:episode", c["number"])
    if c["part"] and named_parts:
        _el(it, "podcast:season", c["part"]["number"], name=_clean(c["part"]["title"]))
    # Every chapter is real content, the introduction too: Apple may show a "trailer" apart, or skip it.
    _el(it, "itunes:episodeType", "full")
    _el(it, "itunes:explicit", "false")
    _el(it, "itunes:image", href=cover)
    _el(it, "podcast:transcript", url=url(c["transcript"]["txt"]), type="text/plain", language="fr")
    _el(it, "podcast:transcript", url=url(c["transcript"]["srt"]), type="application/x-subrip", language="fr")
    # WebVTT last: feedparser keeps only an item's last podcast:transcript.
    _el(it, "podcast:transcript", url=url(c["transcript"]["vtt"]), type="text/vtt", language="fr")
    _el(it, "podcast:chapters", url=url(c["chapters_json"]), type="application/json+chapters")
    _psc(it, [(p["start"], p["title"]) for p in c["pages"]])


def _psc(item, marks: list[tuple[float, str]]) -> None:
    psc = _el(item, "psc:chapters", version="1.2")
    for start, title in marks:
        _el(psc, "psc:chapter", start=_npt(start), title=_clean(title))


def _whole_item(ch, manifest: dict, url, date: dt.datetime) -> None:
    """The whole guide in one file, as a bonus dated after the last chapter: for listeners who want one file
    (a simple MP3 player, a CD), without changing where apps start. No episode number: 1–N stay the guide's."""
    g, whole, chapters = manifest["guide"], manifest["whole"], manifest["chapters"]
    it = _el(ch, "item")
    _el(it, "title", _clean(f"{g['title']} (guide complet)"))
    desc = _clean(f"Tout le guide en un seul fichier. {_plural(g['levels']['chapter']['noun']).capitalize()} : "
                  + end_sentence(" ; ".join(c["title"] for c in chapters)))
    _el(it, "description", desc)
    _el(it, "itunes:summary", desc)
    written = manifest.get("transcript")  # the whole guide as written, when the fulltext publisher ran
    notes = f'<p>Transcription : <a href="{escape(url(written["html"]))}">le guide écrit</a>, ' \
            f'<a href="{escape(url(written["txt"]))}">en texte brut</a>.</p>' if written else ""
    books = downloads(manifest)
    if books:  # where an app shows notes, the talking books are one tap away
        notes += "<p>Livre audio à télécharger : " + ", ".join(
            f'<a href="{escape(url(path))}">{escape(label)}</a>' for path, label in books) + ".</p>"
    if notes:
        _el(it, "content:encoded", notes)
    _el(it, "guid", f"urn:audioguide:{g['id']}", isPermaLink="false")  # no chapter id can make this one
    _el(it, "pubDate", format_datetime(date + dt.timedelta(minutes=len(manifest["chapters"]) + 1)))
    _el(it, "enclosure", url=url(whole["mp3"]), length=whole["bytes"], type="audio/mpeg")
    _el(it, "itunes:duration", int(round(whole["duration"])))
    _el(it, "itunes:episodeType", "bonus")
    _el(it, "itunes:explicit", "false")
    _el(it, "itunes:image", href=url(manifest["cover"]))
    if written:
        _el(it, "podcast:transcript", url=url(written["txt"]), type="text/plain", language="fr")
        _el(it, "podcast:transcript", url=url(written["html"]), type="text/html", language="fr")
    # The file's own marks: one per page, "<chapter> : <page>", as its CHAP frames.
    if whole_marks(manifest):
        _el(it, "podcast:chapters", url=url(whole_chapters_json_path(manifest)), type="application/json+chapters")
        _psc(it, [(start, title) for start, _, title in whole_marks(manifest)])


def whole_chapters_json_path(manifest: dict) -> str:
    """Beside the chapters' JSON files, named as the whole-guide MP3 is (no chapter slug starts that way)."""
    return f"chapters/{manifest['guide']['id']}-complet.json"


def whole_marks(manifest: dict) -> list[tuple[float, float, str]]:
    """(start, end, title) per page of the whole-guide file, as its ID3 CHAP frames (mp3.tag_whole). Matched
    by position, not id: a whole file reused after a chapter's id changed still lists the old id (same audio,
    same order). Empty when the file's chapters do not match the guide's."""
    chapters, spans = manifest["chapters"], manifest["whole"]["chapters"]
    if len(spans) != len(chapters):
        return []
    return [(span["start"] + p["start"], span["end"] if i == len(c["pages"]) else min(span["start"] + p["end"],
                                                                                       span["end"]),
             f"{c['title']} : {p['title']}")
            for c, span in zip(chapters, spans) for i, p in enumerate(c["pages"], 1)]


def whole_chapters_json(manifest: dict, author: str) -> str:
    """The whole guide's podcast:chapters, in the format of the chapters' own (transcripts.chapters_json)."""
    data = {"version": "1.2.0", **({"author": author} if author else {}),
            "title": f"{manifest['guide']['title']} (guide complet)",
            "chapters": [{"startTime": round(start, 3), "endTime": round(end, 3), "title": title}
                         for start, end, title in whole_marks(manifest)]}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _local(base_url: str) -> bool:
    """A preview address (this computer): no owner contact is needed to try the feed."""
    host = urlsplit(base_url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PodcastPublisher(Publisher):
    name = "podcast"
    # The feed goes last: everything it links to (transcripts, the full text, the talking books) is in place.
    after = ("transcripts", "fulltext", "epub", "daisy")

    def entries(self, guide) -> dict:
        return {"feed": FEED_NAME}

    def publish(self, result: BuildContext) -> list:
        from audioguide.publishers.fulltext import chapter_html

        notes = {ch.id: chapter_html(ch) for ch in result.guide.chapters}
        base_url = result.manifest["guide"]["base_url"]
        manifest = {**result.manifest, "guide": {**result.manifest["guide"], "feed_guid": result.guide.feed_guid}}
        if not result.guide.email and not _local(base_url):
            log.warning(_("The guide has no `email:`: the feed names no owner, so Apple Podcasts and podcast hosts "
                          "cannot check that %s owns it. Add `email: contact@…` to the guide."),
                        result.guide.publisher or _("its publisher"))
        written = []
        if manifest.get("whole") and whole_marks(manifest):
            path = result.out_dir / whole_chapters_json_path(manifest)
            update_bytes(path, whole_chapters_json(manifest, result.guide.publisher or result.guide.author)
                         .encode("utf-8"))
            written.append(path)
        data = build_feed(manifest, base_url, notes)
        path = result.out_dir / FEED_NAME
        update_bytes(path, data)
        return written + [path]
