"""The talking books (EPUB 3, DAISY 2.02) are offered where people already are: the kiosk page and the feed.
Read back from a real build: every link resolves to the file the manifest lists, with its size in the text."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
from lxml import html as lhtml

from conftest import needs_tools

pytestmark = needs_tools


def _books(manifest: dict) -> dict[str, dict]:
    d = manifest["downloads"]
    assert set(d) == {"epub", "daisy"}
    return {entry["path"]: entry for entry in d.values()}


def _same_file(path: Path, entry: dict) -> None:
    data = path.read_bytes()
    assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"], path


def test_the_kiosk_offers_both_books_with_their_size(mini_build):
    out, books = mini_build.out_dir, _books(mini_build.manifest)
    page = lhtml.fromstring((out / "kiosk" / "index.html").read_bytes())
    links = page.xpath('//*[@id="downloads"]//a')
    assert len(links) == 2
    for a in links:
        target = (out / "kiosk" / unquote(a.get("href"))).resolve()
        entry = books[target.relative_to(out.resolve()).as_posix()]
        _same_file(target, entry)
        size = f"{entry['bytes'] / 1e6:.1f}".replace(".", ",")
        assert f"({size} Mo)" in a.text_content() and a.get("download") is not None
    assert [a.text_content().split(",")[0] for a in links] == ["EPUB 3", "DAISY 2.02"]
    assert page.xpath('//*[@id="downloads"]/ancestor::main')  # inside a landmark, where a screen reader finds it


def test_the_feed_offers_both_books_in_the_whole_guide_notes(mini_build):
    out, books = mini_build.out_dir, _books(mini_build.manifest)
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    bonus = [e for e in feed.entries if e.get("itunes_episodetype") == "bonus"]
    assert len(bonus) == 1
    notes = lhtml.fromstring(next(c.value for c in bonus[0].content if c.type == "text/html"))
    hrefs = {unquote(urlsplit(a.get("href")).path).split("/", 2)[-1]: a for a in notes.xpath("//a")}
    assert set(books) <= set(hrefs)
    for path, entry in books.items():
        a = hrefs[path]
        assert urlsplit(a.get("href")).scheme == "http"  # absolute, as podcast apps need
        assert a.text_content().startswith(("EPUB 3, ", "DAISY 2.02, "))
        _same_file(out / path, entry)
